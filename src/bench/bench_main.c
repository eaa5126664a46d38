/*
 * bench — verb entry point: parse, validate, run, render; the only place that prints errors
 * and picks exit codes (2 usage, 3 runtime). Failed connections are results, not errors.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "bench/bench.h"
#include "bench/bench_demo.h"
#include "verbs.h"

/* Enough descriptors for the connections asked for (the soft limit is often 1024). */
static void raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static int save_series_of(const struct bench_cfg *c, const struct series *s)
{
	int rc;
	if (c->csv && (rc = series_save(s, c->csv, 0, "twkit bench")) < 0) {
		fprintf(stderr, "twkit bench: --csv %s: %s\n", c->csv, strerror(-rc));
		return TWKIT_EXIT_RUNTIME;
	}
	if (c->svg && (rc = series_save(s, c->svg, 1, "twkit bench")) < 0) {
		fprintf(stderr, "twkit bench: --svg %s: %s\n", c->svg, strerror(-rc));
		return TWKIT_EXIT_RUNTIME;
	}
	return TWKIT_EXIT_OK;
}

static int save_series(const struct bench_result *r)
{
	return save_series_of(&r->cfg, &r->series);
}

/* --csv/--svg of a matrix: every variant's series on one time axis. */
static int save_matrix_series(const struct bench_cfg *c, const struct bench_result *rs, int n)
{
	struct series s;
	int rc, code;
	if (!c->csv && !c->svg)
		return TWKIT_EXIT_OK;
	rc = bench_matrix_series(rs, n, &s);
	if (rc < 0) {
		fprintf(stderr, "twkit bench: --csv/--svg of the matrix: %s\n", strerror(-rc));
		return TWKIT_EXIT_RUNTIME;
	}
	code = save_series_of(c, &s);
	series_fini(&s);
	return code;
}

static const char *start_hint(int rc)
{
	switch (rc) {
	case -EADDRINUSE:
		return " (the port is taken: pick another with --listen)";
	case -EADDRNOTAVAIL:
		return " (the address is not on this host or namespace)";
	case -ENOPROTOOPT:
		return " (this kernel has no IP_LOCAL_PORT_RANGE: it came in 6.3)";
	case -EACCES:
		return " (ports below 1024 need privileges)";
	default:
		return "";
	}
}

int bench_main(int argc, char **argv)
{
	struct bench_cfg cfg;
	struct bench_result res, *rs = NULL;
	char err[256];
	sigset_t sigs;
	int rc, n = 0, code = TWKIT_EXIT_OK;
	bool to_stdout;

	if (argc == 1) /* no arguments: the demo (failures, then fixes) */
		return bench_demo(bench_main);
	rc = bench_cfg_parse(argc, argv, &cfg, err, sizeof(err));
	if (rc == 1)
		return TWKIT_EXIT_OK;
	if (rc < 0) {
		fprintf(stderr, "twkit bench: %s\n(see 'twkit bench --help')\n", err);
		return TWKIT_EXIT_USAGE;
	}
	if (cfg.calibrate)
		return bench_calibrate_main(&cfg);
	raise_nofile();
	signal(SIGPIPE, SIG_IGN);
	/* SIGINT/SIGTERM are taken synchronously by bench_run (sigtimedwait), in every thread */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	to_stdout = (cfg.csv && strcmp(cfg.csv, "-") == 0) || (cfg.svg && strcmp(cfg.svg, "-") == 0);

	if (cfg.matrix) {
		rc = bench_matrix_run(&cfg, argc, argv, &rs, &n, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "twkit bench: %s\n", err);
			return rc == -EINVAL ? TWKIT_EXIT_USAGE : TWKIT_EXIT_RUNTIME;
		}
		if (cfg.json)
			bench_report_matrix_json(stdout, rs, n);
		else if (!to_stdout)
			bench_report_matrix_text(stdout, rs, n);
		fflush(stdout);
		code = save_matrix_series(&cfg, rs, n);
		for (int i = 0; i < n; i++)
			bench_result_fini(&rs[i]);
		free(rs);
		return code;
	}
	rc = bench_run(&cfg, &res);
	if (rc < 0) {
		char a[80];
		fprintf(stderr, "twkit bench: cannot start on %s: %s%s\n",
			bench_ep_fmt(cfg.mode == BENCH_MODE_RUN ? &cfg.target : &cfg.listen, a,
				     sizeof(a)),
			strerror(-rc), start_hint(rc));
		return TWKIT_EXIT_RUNTIME;
	}
	bench_thresholds_eval(&res);
	if (cfg.json)
		bench_report_json(stdout, &res);
	else if (!to_stdout)
		bench_report_text(stdout, &res);
	fflush(stdout);
	code = save_series(&res);
	if (code == TWKIT_EXIT_OK && res.th_crossed) {
		fprintf(stderr, "twkit bench: %d threshold%s crossed\n", res.th_crossed,
			res.th_crossed > 1 ? "s" : "");
		code = TWKIT_EXIT_FINDINGS;
	} else if (code == TWKIT_EXIT_OK && !cfg.nthreshold && res.have_client &&
		   res.st.completed == 0 && !res.interrupted) {
		/* a load test in which nothing completed has failed, whatever the cause */
		fprintf(stderr, "twkit bench: no connection completed (%llu attempted)\n",
			(unsigned long long)res.st.attempted);
		code = TWKIT_EXIT_FINDINGS;
	}
	bench_result_fini(&res);
	return code;
}
