/*
 * sim — the `twkit sim` verb: pick a scenario (built-in name or INI file), apply --set,
 * --kernel, --duration and --seed, run it, render. Options come from one static table;
 * parse, validate, then run with a const config. Exit 2 for usage and scenario errors.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "common/opt.h"
#include "common/units.h"
#include "sim/report.h"
#include "sim/sim.h"
#include "verbs.h"

static const struct opt_spec specs[] = {
	{ "help", 'h', OPT_FLAG, NULL, NULL, "show this help" },
	{ "list", 'l', OPT_FLAG, NULL, NULL, "list the built-in scenarios" },
	{ "list-kernels", 0, OPT_FLAG, NULL, NULL, "list the kernel eras (profiles)" },
	{ "explain", 'e', OPT_FLAG, NULL, NULL, "say what the scenario shows and why, then run it" },
	{ "show", 0, OPT_FLAG, NULL, NULL, "print the scenario as an INI file and exit" },
	{ "set", 's', OPT_MULTI, "SECTION.KEY=VALUE", NULL, "override a scenario value (repeatable)" },
	{ "kernel", 'k', OPT_VALUE, "ERA", NULL, "run every host on this kernel era (or host)" },
	{ "duration", 'd', OPT_VALUE, "DURATION", NULL, "simulated time, e.g. 90s, 1h" },
	{ "seed", 0, OPT_VALUE, "N", NULL, "random seed (same seed, same output)" },
	{ "json", 'j', OPT_FLAG, NULL, NULL, "JSON output (schema twkit.sim/1)" },
	{ "no-series", 0, OPT_FLAG, NULL, NULL, "leave the per-second series out of --json" },
	{ "csv", 0, OPT_FLAG, NULL, NULL, "per-second series of one host as CSV on stdout" },
	{ "svg", 0, OPT_VALUE, "FILE", NULL, "plot the per-second series of one host to FILE" },
	{ "host", 0, OPT_VALUE, "NAME", NULL, "host for --csv/--svg (default: the first client)" },
	{ "quiet", 'q', OPT_FLAG, NULL, NULL, "no progress line" },
};
#define NSPECS ((int)(sizeof(specs) / sizeof(specs[0])))

static void usage(FILE *f)
{
	fprintf(f, "usage: twkit sim [OPTIONS] SCENARIO\n"
		   "Simulate the kernel's TIME-WAIT machinery on a scenario: a built-in name\n"
		   "(twkit sim --list) or an INI file (docs/scenarios.md).\n\n");
	opt_print_help(f, specs, NSPECS);
	fprintf(f, "\nexamples:\n"
		   "  twkit sim stress-client\n"
		   "  twkit sim stress-client --set loadgen.tw_reuse=1 --kernel 4.19\n"
		   "  twkit sim nat-recycle --explain\n"
		   "  twkit sim lb-quadruplets --json | jq .summary\n"
		   "  twkit sim tw-memory --svg tw.svg --host web\n");
}

static void progress(void *arg, int64_t now, int64_t end)
{
	(void)arg;
	fprintf(stderr, "\rsim: %llds / %llds simulated", (long long)(now / 1000000000),
		(long long)(end / 1000000000));
	if (now >= end)
		fprintf(stderr, "\r%40s\r", "");
}

struct sim_opts {
	const char *scen;
	bool json, csv, series, explain, show, quiet;
	const char *svg, *host;
};

static int load(const struct opt_result *res, struct sim_opts *o, struct sim_scenario *sc,
		const char *release)
{
	char err[512];
	const char *v;
	int rc;
	if (sim_scenario_arg_is_file(o->scen, sim_builtin_text(o->scen) != NULL))
		rc = sim_scenario_load_file(o->scen, sc, err, sizeof(err));
	else
		rc = sim_scenario_load_builtin(o->scen, sc, err, sizeof(err));
	if (rc < 0)
		goto bad;
	if ((v = opt_get(specs, NSPECS, res, "set")) &&
	    (rc = sim_scenario_set_lines(sc, v, err, sizeof(err))) < 0) {
		if (rc == -ENOMEM)
			return rc;
		goto bad;
	}
	if ((v = opt_get(specs, NSPECS, res, "kernel"))) {
		if (!tw_profile_by_name(v, release)) {
			snprintf(err, sizeof(err), "--kernel '%.40s': not a kernel era (see "
				 "--list-kernels)", v);
			goto bad;
		}
		snprintf(sc->kernel, sizeof(sc->kernel), "%s", v);
		for (int i = 0; i < sc->nnodes; i++)
			sc->nodes[i].kernel[0] = 0;
	}
	if ((v = opt_get(specs, NSPECS, res, "duration"))) {
		int64_t d;
		if (units_parse_duration(v, &d) < 0 || d < 1000000000LL ||
		    d > 7 * 86400 * 1000000000LL) {
			snprintf(err, sizeof(err), "--duration '%.40s': expected 1s-7d", v);
			goto bad;
		}
		sc->duration_ns = d;
	}
	if ((v = opt_get(specs, NSPECS, res, "seed"))) {
		char *end;
		errno = 0;
		unsigned long long s = strtoull(v, &end, 10);
		if (errno || *end || !*v || *v == '-') {
			snprintf(err, sizeof(err), "--seed '%.40s': expected an unsigned integer", v);
			goto bad;
		}
		sc->seed = s;
	}
	rc = sim_scenario_check(sc, release, err, sizeof(err));
	if (rc < 0)
		goto bad;
	return 0;
bad:
	fprintf(stderr, "twkit sim: %s\n", err);
	return -EINVAL;
}

static void print_ini(const struct sim_scenario *sc)
{
	const char *t = sim_builtin_text(sc->name);
	if (t && !strncmp(sc->file, "builtin:", 8))
		fputs(t, stdout);
	else
		printf("; %s is a file scenario: see the file itself\n", sc->file);
}

int sim_main(int argc, char **argv)
{
	struct opt_result res;
	struct sim_opts o = { 0 };
	struct sim_scenario sc;
	struct sim_result r;
	struct sim_config cfg = { 0 };
	struct utsname u;
	const char *release = uname(&u) == 0 ? u.release : NULL;
	char err[256];
	int rc = TWKIT_EXIT_OK, hi = -1;

	memset(&r, 0, sizeof(r));
	if (opt_parse(specs, NSPECS, argc, argv, 1, &res, err, sizeof(err)) < 0) {
		fprintf(stderr, "twkit sim: %s\n", err);
		usage(stderr);
		return TWKIT_EXIT_USAGE;
	}
	if (opt_has(specs, NSPECS, &res, "help")) {
		usage(stdout);
		goto out;
	}
	if (opt_has(specs, NSPECS, &res, "list")) {
		for (int i = 0; i < sim_builtin_count(); i++)
			printf("%-16s %s\n", sim_builtin_name(i), sim_builtin_summary(i));
		goto out;
	}
	if (opt_has(specs, NSPECS, &res, "list-kernels")) {
		for (int i = 0; i < tw_profile_count(); i++)
			printf("%s\n", tw_profile_at(i)->name);
		printf("host (this machine: %s -> %s)\n", release ? release : "?",
		       tw_profile_by_name("host", release) ? tw_profile_by_name("host", release)->name
							  : "?");
		goto out;
	}
	if (res.npos != 1) {
		fprintf(stderr, "twkit sim: expected one SCENARIO (a built-in name or a file)\n");
		usage(stderr);
		rc = TWKIT_EXIT_USAGE;
		goto out;
	}
	o.scen = res.pos[0];
	o.json = opt_has(specs, NSPECS, &res, "json");
	o.csv = opt_has(specs, NSPECS, &res, "csv");
	o.series = !opt_has(specs, NSPECS, &res, "no-series");
	o.explain = opt_has(specs, NSPECS, &res, "explain");
	o.show = opt_has(specs, NSPECS, &res, "show");
	o.quiet = opt_has(specs, NSPECS, &res, "quiet");
	o.svg = opt_get(specs, NSPECS, &res, "svg");
	o.host = opt_get(specs, NSPECS, &res, "host");
	if (o.json && o.csv) {
		fprintf(stderr, "twkit sim: --json and --csv both write stdout: pick one\n");
		rc = TWKIT_EXIT_USAGE;
		goto out;
	}
	if (load(&res, &o, &sc, release) < 0) {
		rc = TWKIT_EXIT_USAGE;
		goto out;
	}
	for (int i = 0; i < sc.nnodes && (o.csv || o.svg); i++) {
		if (o.host ? !strcmp(sc.nodes[i].name, o.host)
			   : (hi < 0 && sc.nodes[i].kind == SIM_NODE_CLIENT))
			hi = i;
	}
	if ((o.csv || o.svg) && hi < 0) {
		fprintf(stderr, "twkit sim: --host '%s': no such section\n", o.host);
		rc = TWKIT_EXIT_USAGE;
		goto out;
	}
	if (o.show) {
		print_ini(&sc);
		goto out;
	}
	if (o.explain && !o.json && !o.csv) {
		const char *x = sim_builtin_explain(sc.name);
		printf("%s\n\n", x ? x : "A scenario file: no built-in explanation; the counters "
					 "below name the kernel mechanisms at work.");
		sim_explain_budgets(stdout, &sc, release);
	}
	cfg.sc = &sc;
	cfg.host_release = release;
	cfg.no_series = o.json && !o.series;
	if (!o.quiet && isatty(STDERR_FILENO) && sc.duration_ns >= 30 * 1000000000LL)
		cfg.progress = progress;
	int e = sim_run(&cfg, &r);
	if (e < 0) {
		fprintf(stderr, "twkit sim: %s\n", strerror(-e));
		rc = e == -EINVAL ? TWKIT_EXIT_USAGE : TWKIT_EXIT_RUNTIME;
		goto out;
	}
	if (o.json)
		sim_report_json(stdout, &sc, &r, o.series);
	else if (o.csv)
		e = series_write_csv(&r.hosts[hi].series, stdout);
	else
		sim_report_text(stdout, &sc, &r);
	if (!e && o.svg) {
		char title[128];
		snprintf(title, sizeof(title), "twkit sim %s: %s", sc.name, r.hosts[hi].name);
		e = series_save(&r.hosts[hi].series, o.svg, 1, title);
		if (e < 0)
			fprintf(stderr, "twkit sim: %s: %s\n", o.svg, strerror(-e));
	}
	if (e < 0)
		rc = TWKIT_EXIT_RUNTIME;
out:
	sim_result_fini(&r);
	opt_result_fini(&res);
	return rc;
}
