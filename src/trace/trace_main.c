/*
 * trace_main — `twkit trace`: parse, validate, check what the kernel offers, attach, refresh
 * the human tables every interval on a terminal, print the report at the end. The only place
 * in trace that prints errors and picks exit codes (0 ok, 2 usage, 3 environment).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/opt.h"
#include "kernel/netns.h"
#include "trace/trace.h"
#include "verbs.h"

struct trace_cfg {
	int64_t duration_ns; /* 0: until a signal */
	int64_t interval_ns;
	uint32_t netns;
	const char *netns_name;
	uint32_t top;
	bool json, prom, quiet;
};

/* Every option but --help goes straight into struct trace_cfg (opt_apply); --netns is then
 * resolved to its inode, which needs the file system. */
static const struct opt_spec specs[] = {
    {.name = "duration",
     .shortname = 'd',
     OPT_DUR_TO(struct trace_cfg, duration_ns),
     .metavar = "DURATION",
     .help = "trace this long, then print the report (default: until Ctrl-C)"},
    {.name = "interval",
     .shortname = 'i',
     OPT_DUR_TO(struct trace_cfg, interval_ns),
     .metavar = "DURATION",
     .def = "1s",
     .min = 100e6,
     .help = "refresh the tables this often (on a terminal)"},
    {.name = "netns",
     OPT_STR_TO(struct trace_cfg, netns_name),
     .metavar = "NAME",
     .help = "only events in the network namespace /run/netns/NAME (ip netns)"},
    {.name = "top",
     .shortname = 'n',
     OPT_COUNT_TO(struct trace_cfg, top, 1, 1000),
     .metavar = "N",
     .def = "10",
     .help = "rows per table; the rest is summed into one \"other\" row (JSON and --prom too)"},
    {.name = "json",
     .shortname = 'j',
     OPT_FLAG_TO(struct trace_cfg, json),
     .help = "JSON report (schema twkit.trace/1) on stdout"},
    {.name = "prom",
     OPT_FLAG_TO(struct trace_cfg, prom),
     .help = "Prometheus text exposition on stdout at the end"},
    {.name = "quiet",
     .shortname = 'q',
     OPT_FLAG_TO(struct trace_cfg, quiet),
     .help = "no refreshed tables, only the final report"},
    {.name = "help", .shortname = 'h', .kind = OPT_FLAG, .help = "this help"},
};
#define NSPECS ((int)(sizeof(specs) / sizeof(specs[0])))

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: twkit trace [OPTIONS]      (root; eBPF)\n\n"
		"Counts, in the kernel, what no packet capture shows:\n"
		"  connect() failures by errno x destination x process x cgroup x netns\n"
		"    (EADDRNOTAVAIL sends no packet; ETIMEDOUT/ECONNREFUSED of non-blocking\n"
		"    connects come from the socket's error, sk_err, as it leaves SYN-SENT);\n"
		"  active closes (ESTABLISHED -> FIN_WAIT1): who closes first, and the\n"
		"    TIME-WAITs those closes lead to (time_waits; a RST or timeout leads to\n"
		"    none), the owners ss cannot show;\n"
		"  connect() system call time per destination (p50, p99, max);\n"
		"  SYN retransmissions per destination.\n"
		"Tracepoints only: syscalls:sys_{enter,exit}_connect, sock:inet_sock_set_state,\n"
		"tcp:tcp_retransmit_skb. Kernel tables are bounded; events that did not fit are\n"
		"counted as dropped_events.\n\n"
		"  twkit trace -d 30s                 30 s, then the report\n"
		"  twkit trace --netns blue --json    one namespace, JSON at Ctrl-C\n\n"
		"options:\n");
	opt_print_help(f, specs, NSPECS);
	fprintf(f, "\nExit codes: 0 ok, 2 usage error, 3 not root, no BTF, or a missing "
		   "tracepoint (named).\nSee docs/trace.md.\n");
}

int trace_netns_inum(const char *name, uint32_t *inum)
{
	char path[128];
	struct stat st;

	if (!kns_name_ok(name))
		return -EINVAL;
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	if (stat(path, &st) != 0)
		return -errno;
	*inum = (uint32_t)st.st_ino;
	return 0;
}

static int parse(int argc, char **argv, struct trace_cfg *c)
{
	struct opt_result r;
	char err[256];
	int rc = TWKIT_EXIT_USAGE;

	memset(c, 0, sizeof(*c));
	if (opt_parse(specs, NSPECS, argc, argv, 1, &r, err, sizeof(err)) != 0) {
		fprintf(stderr, "twkit trace: %s\n(twkit trace --help)\n", err);
		return TWKIT_EXIT_USAGE;
	}
	if (opt_has(specs, NSPECS, &r, "help")) {
		usage(stdout);
		rc = -1;
		goto out;
	}
	if (r.npos) {
		fprintf(stderr, "twkit trace: unexpected argument '%s'\n", r.pos[0]);
		goto out;
	}
	if (opt_apply(specs, NSPECS, &r, c, err, sizeof(err)) != 0) {
		fprintf(stderr, "twkit trace: %s\n", err);
		goto out;
	}
	if (c->json && c->prom) {
		fprintf(stderr, "twkit trace: --json and --prom: pick one\n");
		goto out;
	}
	if (c->netns_name) {
		int e = trace_netns_inum(c->netns_name, &c->netns);

		if (e == -EINVAL) {
			fprintf(stderr, "twkit trace: --netns '%s': not a namespace name\n",
				c->netns_name);
			goto out;
		}
		if (e) {
			fprintf(
			    stderr,
			    "twkit trace: --netns '%s': /run/netns/%s: %s (see ip netns list)\n",
			    c->netns_name, c->netns_name, strerror(-e));
			rc = TWKIT_EXIT_RUNTIME;
			goto out;
		}
		/* the name is only for messages; keep a copy past opt_result_fini */
		c->netns_name = strdup(c->netns_name);
	}
	rc = 0;
out:
	opt_result_fini(&r);
	return rc;
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* Sleep until `until` (monotonic ns) or a signal. */
static void sleep_until(int64_t until, volatile sig_atomic_t *stop)
{
	while (!*stop) {
		int64_t left = until - now_ns();
		struct timespec ts;

		if (left <= 0)
			return;
		if (left > 200000000LL)
			left = 200000000LL; /* wake to notice the stop flag */
		ts.tv_sec = 0;
		ts.tv_nsec = (long)left;
		nanosleep(&ts, NULL);
	}
}

static int start(uint32_t netns, struct trace_bpf **t, char *err, size_t errlen)
{
	char what[256];
	int rc = trace_bpf_check(what, sizeof(what));

	if (rc) {
		snprintf(err, errlen, "needs %s", what);
		return rc;
	}
	return trace_bpf_open(t, netns, err, errlen);
}

int trace_collect(int64_t duration_ns, uint32_t netns, struct trace_data *d,
		  volatile sig_atomic_t *stop, char *err, size_t errlen)
{
	struct trace_bpf *t = NULL;
	int rc = start(netns, &t, err, errlen);

	if (rc)
		return rc;
	sleep_until(now_ns() + duration_ns, stop);
	rc = trace_bpf_read(t, d);
	if (rc)
		snprintf(err, errlen, "reading the kernel's counters: %s", strerror(-rc));
	else
		trace_data_sort(d);
	trace_bpf_close(t);
	return rc;
}

int trace_main(int argc, char **argv)
{
	struct trace_cfg cfg;
	struct trace_bpf *t = NULL;
	struct trace_data d;
	struct trace_view v = {0};
	struct sigaction sa;
	char err[512];
	int64_t t0, next;
	int rc = parse(argc, argv, &cfg);
	bool live;

	if (rc)
		return rc < 0 ? TWKIT_EXIT_OK : rc;
	if (trace_data_init(&d) != 0) {
		fprintf(stderr, "twkit trace: out of memory\n");
		free((char *)cfg.netns_name);
		return TWKIT_EXIT_RUNTIME;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	rc = start(cfg.netns, &t, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "twkit trace: %s\n", err);
		rc = TWKIT_EXIT_RUNTIME;
		goto out;
	}
	v.d = &d;
	v.top = cfg.top;
	v.cg = trace_cg_new();
	t0 = now_ns();
	fprintf(stderr, "twkit trace: attached%s%s, %s\n", cfg.netns_name ? " to netns " : "",
		cfg.netns_name ? cfg.netns_name : "",
		cfg.duration_ns ? "tracing for the duration given" : "Ctrl-C for the report");
	live = !cfg.json && !cfg.prom && !cfg.quiet && isatty(STDOUT_FILENO);
	next = t0 + cfg.interval_ns;
	for (;;) {
		int64_t end = cfg.duration_ns ? t0 + cfg.duration_ns : INT64_MAX;

		sleep_until(next < end ? next : end, &stop_flag);
		if (stop_flag || now_ns() >= end)
			break;
		next += cfg.interval_ns;
		if (!live || trace_bpf_read(t, &d) != 0)
			continue;
		trace_data_sort(&d);
		v.elapsed_s = (double)(now_ns() - t0) / 1e9;
		fputs("\033[H\033[2J", stdout); /* home, clear: a top-like refresh */
		trace_render_human(stdout, &v, false);
		fflush(stdout);
	}
	rc = trace_bpf_read(t, &d);
	if (rc) {
		fprintf(stderr, "twkit trace: reading the kernel's counters: %s\n", strerror(-rc));
		rc = TWKIT_EXIT_RUNTIME;
		goto out;
	}
	trace_data_sort(&d);
	v.elapsed_s = (double)(now_ns() - t0) / 1e9;
	if (cfg.json)
		trace_render_json(stdout, &v);
	else if (cfg.prom)
		trace_render_prom(stdout, &v);
	else {
		if (live)
			fputs("\033[H\033[2J", stdout);
		trace_render_human(stdout, &v, true);
	}
	rc = fflush(stdout) == 0 ? TWKIT_EXIT_OK : TWKIT_EXIT_RUNTIME;
out:
	trace_bpf_close(t);
	trace_cg_free(v.cg);
	trace_data_fini(&d);
	free((char *)cfg.netns_name);
	return rc;
}
