/*
 * doctor — the verb: options, then collect -> analyse -> findings -> render, once, every
 * --watch seconds, or per HTTP scrape with --listen. The only place in doctor that prints
 * errors and picks exit codes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <linux/capability.h>
#include <unistd.h>

#include "common/atomicf.h"
#include "common/httpd.h"
#include "common/opt.h"
#include "common/outpath.h"
#include "common/privs.h"
#include "common/units.h"
#include "doctor/allns.h"
#include "doctor/analyse.h"
#include "doctor/doctor_trace.h"
#include "doctor/findings.h"
#include "doctor/render.h"
#include "doctor/watch_plot.h"
#include "kernel/capture.h"
#include "kernel/netns.h"
#include "kernel/snapshot.h"
#include "verbs.h"

/* What the options say; specs[] below fills it (opt_apply), parse_cfg adds the rules
 * between options. */
struct doctor_cfg {
	bool json, prom;
	enum { OUT_TEXT, OUT_JSON, OUT_PROM } out;
	uint32_t top;
	int fail_on;	  /* DOC_WARNING or DOC_CRITICAL; -1 none */
	int64_t watch_ns; /* 0 = once */
	const char *svg;  /* --watch --svg FILE, or NULL */
	uint32_t count;	  /* 0 = unbounded */
	const char *netns, *record, *replay, *since;
	bool force;		 /* --record FILE replaces an existing FILE */
	bool record_stdout;	 /* --record -: the capture on stdout, the report on stderr */
	const char *sysctl_conf; /* '\n'-separated paths; NULL: the default files */
	bool color;
	bool all_netns;
	const char *listen;	 /* NULL: report once or every watch_ns */
	int64_t trace_ns;	 /* --trace: 0 = off */
	uint32_t probe_ns, base_ns; /* connect()'s price; 0 = the model's default */
	struct doc_trace *trace; /* what --trace measured, once, before the first report */
	const char *user;	 /* --listen as root: who serves */
	bool user_given;	 /* --user on the command line (not the default) */
	const char *output;	 /* NULL: stdout */
	struct sockaddr_storage listen_addr;
	socklen_t listen_len;
};

#define CFG struct doctor_cfg
static const struct opt_spec specs[] = {
    {.name = "json",
     OPT_FLAG_TO(CFG, json),
     .help = "machine-readable report, schema twkit.doctor/1"},
    {.name = "prom",
     OPT_FLAG_TO(CFG, prom),
     .help = "Prometheus text exposition (textfile collector)"},
    {.name = "top",
     OPT_COUNT_TO(CFG, top, 0, 1000000),
     .metavar = "N",
     .def = "20",
     .help = "groups to show; 0 = all (bounds --prom cardinality)"},
    {.name = "fail-on",
     OPT_CHOICE_TO(CFG, fail_on, "warning", "critical"),
     .choice_val = (const int[]){DOC_WARNING, DOC_CRITICAL},
     .help = "exit 1 when a finding is at least this severe"},
    {.name = "watch",
     OPT_DUR_TO(CFG, watch_ns),
     .metavar = "DURATION",
     .min = NS_PER_SEC / 10,
     .help = "repeat every DURATION (5 = 5s, 1m, 1h30m) until Ctrl-C"},
    {.name = "count",
     OPT_COUNT_TO(CFG, count, 1, 1000000000),
     .metavar = "N",
     .help = "with --watch: stop after N reports"},
    {.name = "svg",
     OPT_STR_TO(CFG, svg),
     .metavar = "FILE",
     .help = "with --watch: plot each busy group's ports in use, budget and eta over time to FILE "
	     "(rewritten after every look)"},
    {.name = "listen",
     OPT_STR_TO(CFG, listen),
     .metavar = "ADDR:PORT",
     .help = "serve --prom over HTTP at /metrics, a fresh look per scrape, until Ctrl-C"},
    {.name = "output",
     OPT_STR_TO(CFG, output),
     .metavar = "FILE",
     .help =
	 "write the report to FILE, not stdout: to a temporary file beside it renamed over FILE "
	 "once complete (a reader such as node_exporter's textfile collector never sees half "
	 "of one; a symlink at FILE is replaced, not followed); with --watch, at every report"},
    {.name = "user",
     OPT_STR_TO(CFG, user),
     .metavar = "NAME",
     .def = "nobody",
     .help = "with --listen, started as root: once the port is open (and --netns entered), run as "
	     "NAME with no capability (--replay FILE: CAP_DAC_READ_SEARCH only, to read FILE)"},
    {.name = "netns",
     OPT_STR_TO(CFG, netns),
     .metavar = "NAME",
     .help = "look inside network namespace NAME (root)"},
    {.name = "all-netns",
     OPT_FLAG_TO(CFG, all_netns),
     .help = "look inside every network namespace of the host (/run/netns and /proc/*/ns/net), "
	     "each named and analysed on its own, busiest first; --top N bounds how many are "
	     "detailed (root)"},
    {.name = "record",
     OPT_STR_TO(CFG, record),
     .metavar = "FILE",
     .help = "also save everything collected to FILE (mode 0600, renamed into place when complete; "
	     "an existing FILE is refused without --force); - = stdout, the report then on stderr"},
    {.name = "force",
     OPT_FLAG_TO(CFG, force),
     .help = "with --record FILE: replace an existing FILE (a symlink there is replaced, never "
	     "written through)"},
    {.name = "replay",
     OPT_STR_TO(CFG, replay),
     .metavar = "FILE",
     .help = "analyse a capture made with --record; - = stdin (pipes and FIFOs work)"},
    {.name = "since",
     OPT_STR_TO(CFG, since),
     .metavar = "FILE",
     .help = "an earlier capture (--record) of the same host: counters that rose since then count "
	     "as rising, as between two --watch samples; - = stdin"},
    /* repeatable, and its default is a description: parse_cfg reads it (OPT_T_RAW) */
    {.name = "sysctl-conf",
     .kind = OPT_MULTI,
     .metavar = "PATH",
     .def = "/etc/sysctl.d + /etc/sysctl.conf",
     .help =
	 "sysctl file, or directory of *.conf read by name, whose lines findings cite as "
	 "file:line (what sets a value again at boot); repeatable, the last line for a key wins"},
    {.name = "color", OPT_FLAG_TO(CFG, color), .help = "colour severities in the text report"},
    /* a few seconds show a churn; an hour is the longest a report should wait */
    {.name = "trace",
     OPT_DUR_TO(CFG, trace_ns),
     .metavar = "DURATION",
     .min = NS_PER_SEC / 10,
     .max = 3600 * NS_PER_SEC,
     .help = "first count failed connect() calls and active closes this long (eBPF, root; see "
	     "twkit trace): findings show what was measured beside what they infer"},
    {.name = "connect-probe-ns",
     OPT_COUNT_TO(CFG, probe_ns, 1, 1000000),
     .metavar = "NS",
     .help = "connect()'s price per port its search examines, for connect-slow (default the "
	     "model's; `twkit bench --calibrate` measures this machine's)"},
    {.name = "connect-base-ns",
     OPT_COUNT_TO(CFG, base_ns, 1, 100000000),
     .metavar = "NS",
     .help = "the rest of a connection's kernel time in the connecting process, for "
	     "connect-slow (default the model's; `twkit bench --calibrate`)"},
    {.name = "help", .shortname = 'h', .kind = OPT_FLAG, .help = "this help"},
};
#undef CFG
#define NSPECS ((int)(sizeof(specs) / sizeof(specs[0])))

static void help(FILE *f)
{
	fputs("usage: twkit doctor [OPTIONS]\n\n"
	      "Is TIME-WAIT this host's problem, why, and which fix is safe here?\n\n"
	      "doctor reads, without changing anything: every TCP socket of this network\n"
	      "namespace (netlink sock_diag, like ss), the TIME-WAIT sysctls, the kernel\n"
	      "counters (/proc/net/netstat, snmp, sockstat), the TIME-WAIT slab and the limits.\n"
	      "It needs no privilege (root only for --netns and for the slab size).\n\n"
	      "How it reasons:\n"
	      "  * A socket is incoming when its local port listens here (or, the listener\n"
	      "    gone, the local port is outside the ephemeral range and the remote inside);\n"
	      "    otherwise outgoing.\n"
	      "  * Outgoing sockets are grouped by (local IP, remote IP, remote port): that is\n"
	      "    the budget that runs out, because a local port can be reused toward another\n"
	      "    destination. Incoming ones by (local IP, local port, remote IP): the same\n"
	      "    budget seen from a server behind one balancer address.\n"
	      "  * TIME-WAIT lasts 60 s, so one with E ms left was created 60000-E ms ago: that\n"
	      "    gives the creation rate over the last 10 s and 60 s (or over the time the\n"
	      "    churn has been seen, when shorter), and a forecast of when a group runs out\n"
	      "    of ports (eta). Budgets, rates and forecasts come from the kernel model\n"
	      "    (the same rules twkit sim runs), and `twkit lab NAME --doctor` checks each\n"
	      "    verdict against the real kernel.\n"
	      "  * A server's own TIME-WAIT sets no ceiling: a SYN with a newer timestamp (or,\n"
	      "    without timestamps, a later sequence number) reopens the 4-tuple.\n"
	      "  * Findings: port-exhaustion, tw-reuse-ineffective, tw-recycle-enabled,\n"
	      "    tw-bucket-overflow, narrow-port-range, fd-limit, server-time-wait (harmless:\n"
	      "    nothing to do), lb-quadruplet-budget, connect-slow (each connect() walks\n"
	      "    over a thousand held ports: system CPU), and the fixes that do not work:\n"
	      "    myth-fin-timeout, myth-max-tw-buckets, myth-recycle-config, timestamps-off.\n"
	      "    Each gives its evidence and advice ranked for this kernel, with the price of\n"
	      "    each fix. Counters that must rise compare two looks: --watch, or --since an\n"
	      "    earlier --record capture.\n\n"
	      "Report columns: tw = TIME-WAIT; ports used/usable = the group's budget; util =\n"
	      "used/usable; tw/s = TIME-WAIT created per second; eta = time left until no port\n"
	      "is free at that rate ('-' = the rate fits); ts = peer negotiates TCP timestamps\n"
	      "(from established connections; tcp_tw_reuse needs them).\n\n"
	      "options:\n",
	      f);
	opt_print_help(f, specs, NSPECS);
	fputs("\nexamples:\n"
	      "  twkit doctor                           # this host, human report\n"
	      "  twkit doctor --json | jq .findings     # for scripts\n"
	      "  twkit doctor --prom --output /var/lib/prometheus/node-exporter/twkit.prom\n"
	      "  twkit doctor --record prod.twcap       # capture on production...\n"
	      "  twkit doctor --replay prod.twcap       # ...analyse it anywhere\n"
	      "  ssh prod twkit doctor --record - > prod.twcap   # the capture on stdout\n"
	      "  twkit doctor --replay b.twcap --since a.twcap   # two captures, two looks\n"
	      "  twkit doctor --watch 5 --fail-on critical\n"
	      "  twkit doctor --listen 127.0.0.1:9798   # Prometheus scrapes /metrics\n"
	      "  twkit doctor --all-netns --top 5       # every container's namespace, busiest "
	      "first\n\n"
	      "--all-netns finds every network namespace (the names of /run/netns and the\n"
	      "namespaces of all processes, one report per namespace however many hold it),\n"
	      "names each by its ip netns name, else by a process inside (pid, comm) and that\n"
	      "process's container id and pod uid read from its cgroup, and looks at each from\n"
	      "inside (its own sysctls, sockets, counters). A namespace that disappears while\n"
	      "being looked at is skipped and counted. JSON: the top level is this namespace's\n"
	      "report; 'namespaces' lists all of them. Needs CAP_SYS_ADMIN and CAP_SYS_PTRACE.\n\n"
	      "--listen serves the --prom exposition over HTTP: each GET /metrics looks at the\n"
	      "host again (or at --netns NAME, while the port stays in this namespace), and\n"
	      "findings that compare with the last look (rising counters) compare with the last\n"
	      "scrape. ADDR:PORT is an address of this host: 127.0.0.1 for a local agent,\n"
	      "0.0.0.0 or [::] for every address. It runs until Ctrl-C (SIGINT) or SIGTERM.\n"
	      "Started as root, it opens the port (and enters --netns), then runs as --user\n"
	      "(nobody) with no capability left. Idle and slow clients cannot starve it: each\n"
	      "connection is closed after 3 s of silence or when its request is not complete\n"
	      "5 s after it connected; 512 connections at most (128 from one address).\n"
	      "The exposition's names are in docs/prometheus.md.\n\n"
	      "exit codes: 0 ok, 1 a finding at or above --fail-on, 2 usage error,\n"
	      "3 runtime error (capture unreadable, corrupt or over 2 GiB, --record FILE exists\n"
	      "without --force, interrupted by SIGINT/SIGTERM while reading a capture,\n"
	      "namespace not found, netlink refused, --listen address in use, --user not\n"
	      "possible, --all-netns without root).\n",
	      f);
}

static volatile sig_atomic_t stop_flag;

static void on_signal(int sig)
{
	(void)sig;
	stop_flag = 1;
}

static int usage_err(const char *msg)
{
	fprintf(stderr, "twkit doctor: %s\n(see 'twkit doctor --help')\n", msg);
	return TWKIT_EXIT_USAGE;
}

static int parse_cfg(const struct opt_result *r, struct doctor_cfg *c, char *err, size_t el)
{
	memset(c, 0, sizeof(*c));
	c->fail_on = -1; /* --fail-on has no default: none */
	if (opt_apply(specs, NSPECS, r, c, err, el) < 0)
		return -EINVAL;
	if (c->json && c->prom) {
		snprintf(err, el, "--json and --prom exclude each other");
		return -EINVAL;
	}
	c->out = c->json ? OUT_JSON : c->prom ? OUT_PROM : OUT_TEXT;
	if (c->count && !c->watch_ns) {
		snprintf(err, el, "--count goes with --watch");
		return -EINVAL;
	}
	if (c->svg && !c->watch_ns) {
		snprintf(err, el,
			 "--svg draws the looks of --watch over time: add --watch DURATION");
		return -EINVAL;
	}
	c->record_stdout = c->record && strcmp(c->record, "-") == 0;
	if (c->record && !c->record_stdout) { /* a bad path fails now, not after collecting */
		char pwhy[160];
		if (outpath_check(c->record, OUTPATH_REPLACED, pwhy, sizeof(pwhy)) < 0) {
			snprintf(err, el, "--record '%s': %s", c->record, pwhy);
			return -EINVAL;
		}
	}
	c->sysctl_conf = opt_has(specs, NSPECS, r, "sysctl-conf")
			     ? opt_get(specs, NSPECS, r, "sysctl-conf")
			     : NULL;
	if (c->all_netns &&
	    (c->netns || c->replay || c->record || c->since || c->watch_ns || c->listen)) {
		snprintf(err, el,
			 "--all-netns takes one live look at every namespace: it excludes "
			 "--netns, --replay, --record, --since, --watch and --listen");
		return -EINVAL;
	}
	if (c->netns && !kns_name_ok(c->netns)) {
		snprintf(err, el, "--netns: '%s' is not a namespace name", c->netns);
		return -EINVAL;
	}
	if (c->replay && (c->record || c->netns || c->watch_ns)) {
		snprintf(err, el,
			 "--replay analyses a capture: it excludes --record, --netns and "
			 "--watch");
		return -EINVAL;
	}
	if (c->record && c->watch_ns) {
		snprintf(err, el, "--record takes one capture: it excludes --watch");
		return -EINVAL;
	}
	if (c->force && !c->record) {
		snprintf(err, el, "--force goes with --record FILE");
		return -EINVAL;
	}
	if (c->record_stdout && isatty(STDOUT_FILENO)) {
		snprintf(err, el,
			 "--record - writes a binary capture to stdout, a terminal here: "
			 "redirect it (> FILE) or pipe it");
		return -EINVAL;
	}
	if (c->replay && c->since && strcmp(c->replay, "-") == 0 && strcmp(c->since, "-") == 0) {
		snprintf(err, el, "--replay - and --since - cannot both read stdin");
		return -EINVAL;
	}
	if (c->since && (c->watch_ns || c->listen)) {
		snprintf(err, el,
			 "--since compares one look with an earlier capture: it excludes "
			 "--watch and --listen (which compare their own looks)");
		return -EINVAL;
	}
	if (c->listen) { /* ADDR:PORT, one port */
		long a, b;
		if (units_parse_ipport(c->listen, 1, 65535, &c->listen_addr, &c->listen_len, &a,
				       &b) < 0 ||
		    a != b) {
			snprintf(err, el,
				 "--listen wants ADDR:PORT (127.0.0.1:9798, [::1]:9798), got '%s'",
				 c->listen);
			return -EINVAL;
		}
		if (c->listen_addr.ss_family == AF_INET6)
			((struct sockaddr_in6 *)&c->listen_addr)->sin6_port = htons((uint16_t)a);
		else
			((struct sockaddr_in *)&c->listen_addr)->sin_port = htons((uint16_t)a);
		if (c->out == OUT_JSON || c->watch_ns || c->record || c->fail_on >= 0) {
			snprintf(err, el,
				 "--listen serves the Prometheus exposition until stopped: "
				 "it excludes --json, --watch, --count, --record and "
				 "--fail-on");
			return -EINVAL;
		}
		if (c->replay && strcmp(c->replay, "-") == 0) {
			snprintf(err, el,
				 "--listen reads the capture again for every scrape: "
				 "--replay wants a FILE, not stdin");
			return -EINVAL;
		}
		c->out = OUT_PROM;
	}
	if (c->output) {
		if (!c->output[0] || !strcmp(c->output, "-")) {
			snprintf(err, el,
				 "--output wants a FILE (without it the report goes to stdout)");
			return -EINVAL;
		}
		if (c->listen) {
			snprintf(err, el,
				 "--output writes reports to a file: it excludes --listen");
			return -EINVAL;
		}
		if (c->record_stdout) {
			snprintf(err, el,
				 "--record - puts the capture on stdout and the report on "
				 "stderr: it excludes --output");
			return -EINVAL;
		}
		char pwhy[160]; /* a bad path fails now, not after collecting */
		if (outpath_check(c->output, OUTPATH_REPLACED, pwhy, sizeof(pwhy)) < 0) {
			snprintf(err, el, "--output '%s': %s", c->output, pwhy);
			return -EINVAL;
		}
	}
	c->user_given = opt_has(specs, NSPECS, r, "user");
	if (c->user_given && !c->listen) {
		snprintf(err, el,
			 "--user goes with --listen (the server drops root once listening)");
		return -EINVAL;
	}
	if (c->user_given && !c->user[0]) {
		snprintf(err, el, "--user wants a user name");
		return -EINVAL;
	}
	if (c->trace_ns && (c->replay || c->listen || c->all_netns)) {
		snprintf(err, el,
			 "--trace measures one namespace now: it excludes "
			 "--replay, --listen and --all-netns");
		return -EINVAL;
	}
	if (r->npos > 0) {
		snprintf(err, el, "unexpected argument '%s'", r->pos[0]);
		return -EINVAL;
	}
	return 0;
}

/* A capture's name in messages */
static const char *cap_name(const char *path)
{
	return strcmp(path, "-") == 0 ? "stdin" : path;
}

/*
 * Read capture `path` ("-" = stdin), bounded by CAP_MAX_SIZE. Meanwhile SIGINT and SIGTERM
 * have handlers without SA_RESTART, so that one ends a read blocked on a pipe or FIFO (and the
 * open of a FIFO without writer): -EINTR, "interrupted". 0 or -errno with err.
 */
static int capture_read(const char *path, struct cap_reader *rd, char *err, size_t el)
{
	struct cap_read_opts o = {.max_size = CAP_MAX_SIZE, .stop = &stop_flag};
	struct sigaction sa, old_int, old_term;
	int fd = STDIN_FILENO, rc;

	memset(rd, 0, sizeof(*rd));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, &old_int);
	sigaction(SIGTERM, &sa, &old_term);
	if (strcmp(path, "-") != 0) {
		rc = stop_flag ? -EINTR : 0;
		while (rc == 0 && (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			rc = errno != EINTR ? -errno : stop_flag ? -EINTR : 0;
		if (rc < 0) {
			if (rc == -EINTR)
				snprintf(err, el, "interrupted");
			else
				snprintf(err, el, "cannot open: %s", strerror(-rc));
			goto out;
		}
	}
	rc = cap_reader_read_fd(rd, fd, &o, err, el);
	if (strcmp(path, "-") != 0)
		close(fd);
out:
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	return rc;
}

/* Load capture `path` as the previous sample of `now` into prev. 0 or -errno with err. */
static int load_since(const char *path, const struct snapshot *now, struct doc_prev *prev,
		      char *err, size_t el)
{
	struct cap_reader rd;
	struct snapshot s0;
	int rc;

	snapshot_init(&s0);
	rc = capture_read(path, &rd, err, el);
	if (rc >= 0) {
		rc = snapshot_from_capture(&s0, &rd, err, el);
		cap_reader_fini(&rd);
	}
	if (rc >= 0 && s0.collected_ms && now->collected_ms &&
	    s0.collected_ms > now->collected_ms) {
		snprintf(err, el, "collected after the capture it should precede");
		rc = -EINVAL;
	}
	if (rc >= 0) {
		doc_prev_take(prev, &s0);
		prev->seconds = s0.collected_ms && now->collected_ms
				    ? (double)(now->collected_ms - s0.collected_ms) / 1000.0
				    : 0;
	}
	snapshot_fini(&s0);
	return rc < 0 ? rc : 0;
}

/* One report on out. Returns the highest finding severity (-1 none), or -(exit code) with the
 * reason in err. */
/* --watch --svg: add this look and rewrite the plot. 0 or -errno. */
static int watch_plot_look(const struct doctor_cfg *c, struct doc_watch_plot *wp,
			   const struct doc_analysis *a)
{
	struct timespec now;
	char title[160];
	int rc;

	clock_gettime(CLOCK_MONOTONIC, &now);
	rc = doc_watch_plot_add(wp, (int64_t)now.tv_sec * NS_PER_SEC + now.tv_nsec, a);
	snprintf(title, sizeof(title), "twkit doctor --watch: busy groups%s%.64s",
		 c->netns ? " in namespace " : "", c->netns ? c->netns : "");
	if (rc == 0)
		rc = doc_watch_plot_save(wp, c->svg, title);
	return rc;
}

static int doctor_once(const struct doctor_cfg *c, struct doc_prev *prev, FILE *out, char *err,
		       size_t el, struct doc_watch_plot *wp)
{
	struct snapshot s;
	struct doc_analysis a;
	struct doc_findings *fs = NULL;
	struct cap_reader rd;
	struct cap_writer wr;
	char e[256] = "";
	struct timespec t0, t1;
	int rc, ret;

	clock_gettime(CLOCK_MONOTONIC, &t0); /* twkit_scrape_duration_seconds counts from here */
	snapshot_init(&s);
	memset(&a, 0, sizeof(a));
	if (c->replay) {
		rc = capture_read(c->replay, &rd, e, sizeof(e));
		if (rc >= 0) {
			rc = snapshot_from_capture(&s, &rd, e, sizeof(e));
			cap_reader_fini(&rd);
		}
		if (rc < 0) {
			snprintf(err, el, "%s: %s", cap_name(c->replay), e);
			ret = -TWKIT_EXIT_RUNTIME;
			goto out;
		}
	} else {
		if (c->record) {
			rc = c->record_stdout
				 ? cap_writer_open_fd(&wr, STDOUT_FILENO)
				 : cap_writer_create(&wr, c->record,
						     c->force ? CAP_CREATE_REPLACE : 0);
			if (rc == -EEXIST)
				snprintf(err, el, "--record: %s exists (--force replaces it)",
					 c->record);
			else if (rc < 0)
				snprintf(err, el, "cannot write %s: %s",
					 c->record_stdout ? "stdout" : c->record, strerror(-rc));
			if (rc < 0) {
				ret = -TWKIT_EXIT_RUNTIME;
				goto out;
			}
		}
		rc = snapshot_collect(&s, c->record ? &wr : NULL, e, sizeof(e));
		if (rc == 0 && snapshot_read_conf(&s, c->record ? &wr : NULL, c->sysctl_conf) < 0) {
			snprintf(e, sizeof(e), "out of memory");
			rc = -ENOMEM;
		}
		if (c->record && rc < 0) {
			cap_writer_abort(&wr); /* no half capture under the final name */
		} else if (c->record) {
			int wrc = cap_writer_close(&wr);
			if (wrc == -EEXIST)
				snprintf(err, el, "--record: %s exists (--force replaces it)",
					 c->record);
			else if (wrc < 0)
				snprintf(err, el, "writing %s failed: %s",
					 c->record_stdout ? "stdout" : c->record, strerror(-wrc));
			if (wrc < 0) {
				ret = -TWKIT_EXIT_RUNTIME;
				goto out;
			}
		}
		if (rc < 0) {
			snprintf(err, el, "%s", e);
			ret = -TWKIT_EXIT_RUNTIME;
			goto out;
		}
	}
	if (doc_analyse(&s, &a) < 0 || !(fs = malloc(sizeof(*fs)))) {
		snprintf(err, el, "out of memory");
		ret = -TWKIT_EXIT_RUNTIME;
		goto out;
	}
	doc_analysis_price(&a, c->probe_ns, c->base_ns);
	if (c->since) {
		/* the earlier sample of "two captures": its counters stand for the previous look */
		rc = load_since(c->since, &s, prev, e, sizeof(e));
		if (rc < 0) {
			snprintf(err, el, "--since %s: %s", c->since, e);
			ret = -TWKIT_EXIT_RUNTIME;
			goto out;
		}
	}
	doc_findings_run(&s, &a, prev, fs);
	if (c->trace)
		doc_trace_annotate(fs, &a, c->trace);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (wp && (rc = watch_plot_look(c, wp, &a)) < 0) {
		snprintf(err, el, "--svg %s: %s", c->svg, strerror(-rc));
		ret = -TWKIT_EXIT_RUNTIME;
		goto out;
	}
	struct doc_render_opts ro = {.top = (int)c->top,
				     .replay = c->replay != NULL,
				     .netns = c->netns,
				     .color = c->color,
				     .scrape_seconds = (double)(t1.tv_sec - t0.tv_sec) +
						       (double)(t1.tv_nsec - t0.tv_nsec) / 1e9};
	if (c->out == OUT_JSON)
		doc_render_json(out, &s, &a, fs, &ro);
	else if (c->out == OUT_PROM)
		doc_render_prom(out, &s, &a, fs, &ro);
	else
		doc_render_text(out, &s, &a, fs, &ro);
	fflush(out);
	ret = doc_findings_max_sev(fs);
	doc_prev_take(prev, &s);
out:
	free(fs);
	doc_analysis_fini(&a);
	snapshot_fini(&s);
	return ret;
}

static void netns_err(const char *name, int rc)
{
	fprintf(stderr, "twkit doctor: cannot enter network namespace '%s': %s%s\n", name,
		strerror(-rc),
		rc == -EPERM	? " (needs root)"
		: rc == -ENOENT ? " (see 'ip netns list')"
				: "");
}

/* --listen: one scrape */
struct scrape {
	const struct doctor_cfg *cfg;
	struct doc_prev prev;
};

static int scrape_page(void *arg, FILE *out, char *err, size_t el)
{
	struct scrape *sc = arg;
	int rc = doctor_once(sc->cfg, &sc->prev, out, err, el, NULL);
	if (rc < -1) {
		fprintf(stderr, "twkit doctor: scrape failed: %s\n", err);
		return -1;
	}
	return 0;
}

/* --listen, started as root: become cfg->user, keeping what the looks need. A live look
 * needs nothing (sock_diag dumps and /proc/net are open to every user; /proc/slabinfo is not,
 * and the documented TIME-WAIT size is used instead); --replay FILE needs to read FILE, which
 * --record made mode 0600. --netns was entered before: the process stays there. Returns 0,
 * or an exit code with the reason printed. */
static int listen_drop_root(const struct doctor_cfg *cfg)
{
	uint64_t keep = cfg->replay ? PRIVS_CAP(CAP_DAC_READ_SEARCH) : 0;
	char err[256];
	int rc;

	if (geteuid() != 0 && !cfg->user_given)
		return 0; /* not root: nothing to drop */
	rc = privs_drop(cfg->user, keep, err, sizeof(err));
	if (rc == -EINVAL && cfg->user_given)
		return 0; /* --user root: asked to stay root */
	if (rc < 0) {
		fprintf(stderr, "twkit doctor: --user %s: %s\n", cfg->user, err);
		return rc == -ENOENT ? TWKIT_EXIT_USAGE : TWKIT_EXIT_RUNTIME;
	}
	return 0;
}

/* --listen: the socket here, the looks in --netns if given, as --user once listening, until
 * SIGINT or SIGTERM. Returns an exit code. */
static int doctor_listen(const struct doctor_cfg *cfg)
{
	struct scrape sc = {.cfg = cfg};
	struct httpd *h;
	struct sigaction sa;
	char err[512];
	int fd, saved_ns = -1, rc;

	fd = httpd_listen(&cfg->listen_addr, cfg->listen_len, err, sizeof(err));
	if (fd < 0) {
		fprintf(stderr, "twkit doctor: %s\n", err);
		return TWKIT_EXIT_RUNTIME;
	}
	if (cfg->netns && (rc = kns_enter(cfg->netns, &saved_ns)) < 0) {
		netns_err(cfg->netns, rc);
		close(fd);
		return TWKIT_EXIT_RUNTIME;
	}
	if (saved_ns >= 0) { /* the server never goes back: it ends where it serves */
		close(saved_ns);
		saved_ns = -1;
	}
	if ((rc = listen_drop_root(cfg)) != 0) {
		close(fd);
		return rc;
	}
	/* a signal ends the server's wait at once (no SA_RESTART) */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	h = httpd_start(fd, "/metrics", "text/plain; version=0.0.4; charset=utf-8", scrape_page,
			&sc, err, sizeof(err));
	if (!h) {
		fprintf(stderr, "twkit doctor: %s\n", err);
		return TWKIT_EXIT_RUNTIME;
	}
	fprintf(stderr, "twkit doctor: serving http://%s/metrics as uid %u (Ctrl-C to stop)\n",
		cfg->listen, (unsigned)geteuid());
	rc = httpd_serve(h, &stop_flag) < 0 ? TWKIT_EXIT_RUNTIME : TWKIT_EXIT_OK;
	if (rc != TWKIT_EXIT_OK)
		fprintf(stderr, "twkit doctor: the HTTP server (libmicrohttpd) failed\n");
	fprintf(stderr,
		"twkit doctor: stopped; %llu connections were closed for not sending "
		"their request in time\n",
		(unsigned long long)httpd_deadline_cuts(h));
	httpd_stop(h);
	return rc;
}

/* --all-netns: one report over every namespace (doctor/allns.c). Returns an exit code. */
static int doctor_allns(const struct doctor_cfg *cfg)
{
	struct doc_allns_cfg ac = {.out = cfg->out == OUT_JSON	 ? DOC_ALLNS_JSON
					  : cfg->out == OUT_PROM ? DOC_ALLNS_PROM
								 : DOC_ALLNS_TEXT,
				   .top = (int)cfg->top,
				   .color = cfg->color,
				   .sysctl_conf = cfg->sysctl_conf,
				   .probe_ns = cfg->probe_ns,
				   .base_ns = cfg->base_ns,
				   .stop = &stop_flag};
	struct atomicf af;
	char err[512];
	int rc;

	if (cfg->output && (rc = atomicf_open(&af, cfg->output)) < 0) {
		fprintf(stderr, "twkit doctor: --output %s: %s\n", cfg->output, strerror(-rc));
		return TWKIT_EXIT_RUNTIME;
	}
	rc = doc_allns_run(&ac, cfg->output ? af.f : stdout, err, sizeof(err));
	if (cfg->output && rc < -1) {
		atomicf_abort(&af);
	} else if (cfg->output) {
		int wrc = atomicf_commit(&af);
		if (wrc < 0) {
			fprintf(stderr, "twkit doctor: --output %s: %s\n", cfg->output,
				strerror(-wrc));
			return TWKIT_EXIT_RUNTIME;
		}
	}
	if (rc < -1) {
		fprintf(stderr, "twkit doctor: %s\n", err);
		return -rc;
	}
	return cfg->fail_on >= 0 && rc >= cfg->fail_on ? TWKIT_EXIT_FINDINGS : TWKIT_EXIT_OK;
}

int doctor_main(int argc, char **argv)
{
	struct opt_result r;
	struct doctor_cfg cfg;
	struct doc_prev prev = {0};
	struct doc_watch_plot wp;
	char err[512];
	int saved_ns = -1, rc, worst = -1, code = TWKIT_EXIT_OK;

	if (opt_parse(specs, NSPECS, argc, argv, 1, &r, err, sizeof(err)) < 0) {
		opt_result_fini(&r);
		return usage_err(err);
	}
	if (opt_has(specs, NSPECS, &r, "help")) {
		help(stdout);
		opt_result_fini(&r);
		return TWKIT_EXIT_OK;
	}
	rc = parse_cfg(&r, &cfg, err, sizeof(err));
	if (rc < 0) {
		opt_result_fini(&r);
		return usage_err(err);
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	doc_watch_plot_init(&wp);
	if (cfg.listen) {
		code = doctor_listen(&cfg);
		opt_result_fini(&r);
		return code;
	}
	if (cfg.all_netns) {
		code = doctor_allns(&cfg);
		opt_result_fini(&r);
		return code;
	}
	struct doc_trace trace;
	if (cfg.trace_ns) {
		code = doc_trace_collect(&trace, cfg.trace_ns, cfg.netns, &stop_flag);
		if (code) {
			opt_result_fini(&r);
			return code;
		}
		cfg.trace = &trace;
	}
	if (cfg.netns) {
		rc = kns_enter(cfg.netns, &saved_ns);
		if (rc < 0) {
			netns_err(cfg.netns, rc);
			opt_result_fini(&r);
			return TWKIT_EXIT_RUNTIME;
		}
	}
	for (long n = 0; !stop_flag; n++) {
		struct atomicf af;
		FILE *out = cfg.record_stdout ? stderr : stdout;
		if (cfg.output) {
			if ((rc = atomicf_open(&af, cfg.output)) < 0) {
				fprintf(stderr, "twkit doctor: --output %s: %s\n", cfg.output,
					strerror(-rc));
				code = TWKIT_EXIT_RUNTIME;
				break;
			}
			out = af.f;
		} else if (n > 0 && cfg.out == OUT_TEXT) {
			printf("\n");
		}
		rc = doctor_once(&cfg, &prev, out, err, sizeof(err), cfg.svg ? &wp : NULL);
		if (cfg.output && rc < -1) {
			atomicf_abort(&af); /* the previous report stays */
		} else if (cfg.output) {
			int wrc = atomicf_commit(&af);
			if (wrc < 0) {
				fprintf(stderr, "twkit doctor: --output %s: %s\n", cfg.output,
					strerror(-wrc));
				code = TWKIT_EXIT_RUNTIME;
				break;
			}
		}
		if (rc < -1) {
			fprintf(stderr, "twkit doctor: %s\n", err);
			code = -rc;
			break;
		}
		if (rc > worst)
			worst = rc;
		if (!cfg.watch_ns || (cfg.count && n + 1 >= cfg.count))
			break;
		struct timespec ts = {(time_t)(cfg.watch_ns / NS_PER_SEC),
				      (long)(cfg.watch_ns % NS_PER_SEC)};
		while (!stop_flag && nanosleep(&ts, &ts) < 0 && errno == EINTR)
			;
	}
	doc_watch_plot_fini(&wp);
	if (code == TWKIT_EXIT_OK && cfg.fail_on >= 0 && worst >= cfg.fail_on)
		code = TWKIT_EXIT_FINDINGS;
	if (saved_ns >= 0)
		kns_leave(saved_ns);
	if (cfg.trace)
		doc_trace_fini(cfg.trace);
	opt_result_fini(&r);
	return code;
}
