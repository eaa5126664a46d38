/*
 * bench_run — one bench run: start the server and/or the client, sample once a second
 * (client counters, TIME-WAIT on each side through kernel/sockdiag), stop on the bound
 * (duration, count) or on SIGINT/SIGTERM, and fill a bench_result with the model's reading of
 * it. The caller blocks SIGINT/SIGTERM; this waits for them with sigtimedwait, so the report
 * of an interrupted run is written by ordinary code, not by a signal handler.
 */
#include "bench/bench.h"
#include "bench/bench_env.h"
#include "bench/bench_json.h"
#include "bench/bench_portsel.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "common/clock.h"
#include "common/units.h"
#include "kernel/procfs.h"
#include "kernel/sockdiag.h"
#include "model/budget.h"
#include "model/profile.h"

/*
 * Columns of the per-second series. The first five are the original ones (their order is part of
 * the CSV contract); then failures per second by errno name, so a reader (lab) can place the
 * first EADDRNOTAVAIL without guessing which errno "failed" was. "other" is every errno not
 * named here; the named columns plus "other" add up to "failed".
 */
static const char *const cols[] = { BENCH_COL_RATE, BENCH_COL_FAILED, "tw_client", "tw_server",
				    "in_flight",    BENCH_COL_EADDRNOTAVAIL, "ETIMEDOUT",
				    "ECONNREFUSED", "ECONNRESET",	     "EMFILE",	"other" };
#define NCOLS ((int)(sizeof(cols) / sizeof(cols[0])))
#define COL_ERRNO0 5 /* first per-errno column */
static const int col_errnos[] = { EADDRNOTAVAIL, ETIMEDOUT, ECONNREFUSED, ECONNRESET, EMFILE };
#define NCOL_ERRNOS ((int)(sizeof(col_errnos) / sizeof(col_errnos[0])))

/* How --svg draws the columns: "failed" is the sum of the per-errno ones, drawn instead */
static void describe_cols(struct series *s)
{
	series_set_plot(s, BENCH_COL_RATE, "new connections", "connections/s", "new connections",
			0);
	series_set_plot(s, BENCH_COL_FAILED, NULL, NULL, NULL, SERIES_NOPLOT);
	series_set_plot(s, "tw_client", "TIME-WAIT", "sockets", "client", 0);
	series_set_plot(s, "tw_server", "TIME-WAIT", "sockets", "server", 0);
	series_set_plot(s, "in_flight", "connections in flight", "connections", "in flight", 0);
	for (int c = COL_ERRNO0; c < NCOLS; c++)
		series_set_plot(s, cols[c], "failed connect()", "connections/s", cols[c],
				SERIES_FAIL);
}

struct tw_count_ctx {
	const struct kdiag_filter *cf, *sf;
	uint32_t client, server;
};

static int tw_count_one(const struct kdiag_sock *s, void *ctx)
{
	struct tw_count_ctx *c = ctx;
	if (!s->tw)
		return 0;
	if (c->cf && kdiag_filter_match(c->cf, s))
		c->client++;
	if (c->sf && kdiag_filter_match(c->sf, s))
		c->server++;
	return 0;
}

/*
 * TIME-WAIT minisockets (both substates, §9) toward the destination ports (client side: remote
 * port in range) and on them (server side: local port in range), in one dump: on a busy box
 * the dump is the sampler's whole cost, so it is done once a second, not once per side.
 */
static int count_tw(const struct bench_ep *client_ep, const struct bench_ep *server_ep,
		    uint32_t *client, uint32_t *server)
{
	struct kdiag_filter cf = { 0 }, sf = { 0 };
	struct tw_count_ctx c = { client_ep ? &cf : NULL, server_ep ? &sf : NULL, 0, 0 };
	int rc;
	if (client_ep) {
		cf.rport_lo = client_ep->lo;
		cf.rport_hi = client_ep->hi;
	}
	if (server_ep) {
		sf.lport_lo = server_ep->lo;
		sf.lport_hi = server_ep->hi;
	}
	rc = kdiag_dump_socks(1u << KDIAG_TIME_WAIT | 1u << KDIAG_FIN_WAIT2, false, tw_count_one,
			      &c);
	*client = c.client;
	*server = c.server;
	return rc;
}

/* Whether something listens on the target ports in this netns (the server is local). */
static bool server_is_local(const struct bench_ep *ep)
{
	struct kdiag_filter f = { .lport_lo = ep->lo, .lport_hi = ep->hi };
	struct kdiag_counts c;
	return kdiag_count(1u << KDIAG_LISTEN, &f, &c) == 0 && c.total > 0;
}

static bool ep_loopback(const struct bench_ep *ep)
{
	if (ep->addr.ss_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)&ep->addr)->sin_addr.s_addr) >> 24) == 127;
	return memcmp(&((const struct sockaddr_in6 *)&ep->addr)->sin6_addr, &in6addr_loopback,
		      16) == 0;
}

static long sysctl_long(const char *name, long def)
{
	char b[64];
	return kproc_sysctl_read(name, b, sizeof(b)) == 0 ? strtol(b, NULL, 10) : def;
}

/* The one line of interpretation, from model/budget. */
static void interpret_budget(struct bench_result *r)
{
	const struct bench_cfg *cfg = &r->cfg;
	struct tw_budget_in in = { 0 };
	struct tw_budget_out out;
	struct utsname u;
	char b[64], c1[32], c2[32], c3[32];
	const struct tw_profile *p;
	double got = r->elapsed_s > 0 ? (double)r->st.completed / r->elapsed_s : 0;
	size_t len = sizeof(r->interpretation);
	char *s = r->interpretation;
	int n;

	uname(&u);
	p = tw_profile_by_name("host", u.release);
	if (!p)
		p = tw_profile_at(tw_profile_count() - 1);
	/* the running range, else the era's default (§3.1) */
	if (kproc_port_range(&in.port_lo, &in.port_hi) < 0) {
		in.port_lo = p->port_lo;
		in.port_hi = p->port_hi;
	}
	if (cfg->lpr_hi) {
		in.port_lo = cfg->lpr_lo;
		in.port_hi = cfg->lpr_hi;
		in.per_socket_range = p->has_local_port_range_opt;
	}
	in.sources = cfg->nsources ? (uint32_t)cfg->nsources : 1;
	in.dest_ports = (uint32_t)(cfg->target.hi - cfg->target.lo + 1);
	in.bind_no_port = cfg->bind_no_port;
	in.client_closes = cfg->close == BENCH_CLOSE_CLIENT;
	in.client_linger0 = cfg->linger0 & BENCH_LINGER_CLIENT;
	in.reuse.reuse = (int)sysctl_long("net.ipv4.tcp_tw_reuse", p->reuse_default);
	in.reuse.timestamps = (int)sysctl_long("net.ipv4.tcp_timestamps", 1);
	/* our own server (or one in this netns) negotiates timestamps as this host does */
	in.reuse.peer_timestamps = r->server_local ? (in.reuse.timestamps ? 1 : 0) : -1;
	in.reuse.loopback = ep_loopback(&cfg->target);
	in.reuse.outgoing = true;
	in.reuse_delay_ms = (uint32_t)sysctl_long("net.ipv4.tcp_tw_reuse_delay", TW_REUSE_DELAY_DEFAULT_MS);
	if (tw_budget_compute(p, &in, &out) < 0)
		return;
	r->usable_ports = out.ports;
	r->budget_rate = out.rate;
	/* a connection or two in flight beside TIME-WAIT in the thousands tells nothing */
	int fc = series_col(&r->series, "in_flight");
	if (fc >= 0 && series_col_max(&r->series, fc) <
			       (r->tw_client_max > r->tw_server_max ? r->tw_client_max
								    : r->tw_server_max) / 100.0)
		r->series.plot[fc].flags |= SERIES_NOPLOT;
	if (out.why == TW_BUDGET_TW_BOUND) {
		units_fmt_count(c1, sizeof(c1), out.tuples);
		snprintf(b, sizeof(b), "port budget %s 4-tuples", c1);
		series_add_ref(&r->series, "TIME-WAIT", (double)out.tuples, b);
	}
	/* the connecting side keeps TIME-WAIT: with ports it binds itself, the bound-port rule
	 * (§2.3) decides instead of the search's (§2.2) */
	if (cfg->port_select == BENCH_PORTSEL_APP &&
	    (out.why == TW_BUDGET_TW_BOUND || out.why == TW_BUDGET_REUSE_BOUND)) {
		r->usable_ports = (uint32_t)(r->ps_hi - r->ps_lo + 1);
		r->budget_rate = bench_portsel_explain(p, &in.reuse, r->usable_ports,
						       (uint64_t)in.sources * in.dest_ports, s, len);
		uint64_t busy = r->st.ps_bind_failed[EADDRINUSE];
		n = (int)strlen(s);
		if (busy && (size_t)n < len)
			snprintf(s + n, len - (size_t)n,
				 ". bind() refused %llu ports held without SO_REUSEADDR (EADDRINUSE: "
				 "an earlier run's TIME-WAIT holds them up to 60 s)",
				 (unsigned long long)busy);
		return;
	}
	units_fmt_count(c1, sizeof(c1), out.ports);
	units_fmt_rate(c2, sizeof(c2), out.rate);
	units_fmt_rate(c3, sizeof(c3), cfg->rate > 0 ? cfg->rate : got);
	switch (out.why) {
	case TW_BUDGET_TW_BOUND:
		n = snprintf(s, len,
			     "client closes first: %s usable ports x %llu destination%s / %u s "
			     "TIME-WAIT = %s new connections sustained; you %s %s",
			     c1, (unsigned long long)(out.tuples / out.ports),
			     out.tuples / out.ports > 1 ? "s" : "", out.hold_ms / 1000u, c2,
			     cfg->rate > 0 ? "asked for" : "reached", c3);
		if (!cfg->bind_no_port && n > 0 && (size_t)n < len)
			snprintf(s + n, len - (size_t)n,
				 " (bind before connect: ports are unique on the host, so more "
				 "destination ports do not help)");
		else if (n > 0 && (size_t)n < len)
			snprintf(s + n, len - (size_t)n, " (%s)", tw_reuse_why_str(out.reuse_why));
		break;
	case TW_BUDGET_REUSE_BOUND:
		snprintf(s, len,
			 "client closes first, but %s%s: a TIME-WAIT is taken over after ~%u ms, so "
			 "%s ports allow about %s; without it the bound is %s ports / %u s = %s",
			 tw_reuse_why_str(out.reuse_why),
			 in.reuse.loopback ? " (loopback)" : "", out.hold_ms, c1, c2, c1,
			 TW_TIMEWAIT_LEN_MS / 1000u,
			 units_fmt_rate(b, sizeof(b),
					tw_budget_rate(out.tuples, TW_TIMEWAIT_LEN_MS)));
		break;
	case TW_BUDGET_NO_CLIENT_TW:
	case TW_BUDGET_SERVER_TW:
		snprintf(s, len, "%s: the client keeps no TIME-WAIT, its %s ports per destination "
				 "are free again at once%s%s",
			 in.client_linger0 ? "client closes with RST (SO_LINGER 0, §7)"
					   : "the server closes first",
			 c1,
			 in.client_linger0 ? "" : "; the TIME-WAIT is on the server, where it costs "
						  "no ports: ",
			 in.client_linger0 ? "" : tw_server_tw_syn_str(tw_server_tw_syn(
				 p, in.reuse.timestamps, in.reuse.peer_timestamps, -1, 0, NULL)));
		break;
	}
}

/* The model's reading of the run, then the CPU's: the ceiling its kernel time sets beside
 * the ports' (bench_cpu.h). */
static void interpret(struct bench_result *r)
{
	int cores = (int)r->cfg.threads * (r->have_server ? 2 : 1), ncpu = bench_cpu_count();
	if (r->cfg.port_select == BENCH_PORTSEL_APP)
		(void)bench_portsel_range(r->cfg.lpr_lo, r->cfg.lpr_hi, &r->ps_lo, &r->ps_hi);
	interpret_budget(r);
	/* the process's own accounting over the run, per connection attempted: the failed
	 * connect()s that searched a spent range cost kernel time too */
	bench_cpu_compute(r->sys_s, r->user_s, r->elapsed_s, r->st.attempted,
			  cores < ncpu ? cores : ncpu, r->budget_rate, &r->cpu);
}

/* The TIME-WAIT toward the target (client side) and on the local server now. */
static void tw_now(struct bench_result *r, uint32_t *twc, uint32_t *tws)
{
	int rc;
	*twc = *tws = 0;
	rc = count_tw(r->have_client ? &r->cfg.target : NULL,
		      r->server_local ? (r->have_client ? &r->cfg.target : &r->cfg.listen) : NULL,
		      twc, tws);
	if (rc < 0)
		r->tw_err = rc;
}

/* One row: counters of cur minus prev over `span` seconds, TIME-WAIT twc and tws (tw_now). */
static void sample(struct bench_result *r, const struct bench_stats *cur, struct bench_stats *prev,
		   double t, double span, uint32_t twc, uint32_t tws)
{
	uint64_t named;
	double row[NCOLS];
	if (twc > r->tw_client_max)
		r->tw_client_max = twc;
	if (tws > r->tw_server_max)
		r->tw_server_max = tws;
	r->tw_client_end = twc;
	r->tw_server_end = tws;
	row[0] = (double)(cur->completed - prev->completed) / span;
	row[1] = (double)(bench_stats_failed(cur) - bench_stats_failed(prev)) / span;
	row[2] = twc;
	row[3] = tws;
	row[4] = (double)cur->in_flight;
	named = 0;
	for (int k = 0; k < NCOL_ERRNOS; k++) {
		uint64_t d = cur->failed[col_errnos[k]] - prev->failed[col_errnos[k]];
		row[COL_ERRNO0 + k] = (double)d / span;
		named += d;
	}
	row[COL_ERRNO0 + NCOL_ERRNOS] =
		(double)(bench_stats_failed(cur) - bench_stats_failed(prev) - named) / span;
	series_add(&r->series, t, row);
	if (!r->cfg.quiet && isatty(STDERR_FILENO)) {
		char a[32], f[32];
		fprintf(stderr, "\r%5.0fs  %s conn/s  failed %s/s  TIME-WAIT client %u server %u  ",
			t, units_fmt_count(a, sizeof(a), (uint64_t)row[0]),
			units_fmt_count(f, sizeof(f), (uint64_t)row[1]), twc, tws);
		fflush(stderr);
	}
	memcpy(prev, cur, offsetof(struct bench_stats, connect));
}

/*
 * Start the self-hosted server. With port 0 it takes a port outside ip_local_port_range, so
 * the listener neither steals one of the client's ephemeral ports nor lands on a port whose
 * budget an earlier run (a previous matrix variant) spent: TIME-WAIT outlives runs (§1.2),
 * and each run gets its own destination port, hence a fresh per-destination budget (§3.3).
 */
static int start_self_server(struct bench_cfg *cfg, struct bench_server **srv,
			     struct bench_ep *bound)
{
	static unsigned runs; /* runs of this process: matrix variants differ */
	uint16_t lo = 32768, hi = 60999; /* used only if the sysctl cannot be read */
	int rc = -EADDRINUSE;
	if (cfg->listen.lo != 0)
		return bench_server_start(cfg, srv, bound);
	(void)kproc_port_range(&lo, &hi);
	for (unsigned k = 0; k < 200 && rc == -EADDRINUSE; k++) {
		long port = 20000 + ((unsigned)getpid() * 31u + runs * 101u + k * 7919u) % 10000u;
		if (port >= lo && port <= hi)
			continue;
		cfg->listen.lo = cfg->listen.hi = (uint16_t)port;
		rc = bench_server_start(cfg, srv, bound);
	}
	runs++;
	if (rc == -EADDRINUSE) { /* every candidate taken or inside the range: any port */
		cfg->listen.lo = cfg->listen.hi = 0;
		rc = bench_server_start(cfg, srv, bound);
	}
	return rc;
}

/* Descriptors open in this process now (3 when /proc cannot say). */
static uint64_t fds_open(void)
{
	DIR *d = opendir("/proc/self/fd");
	uint64_t n = 0;
	if (!d)
		return 3;
	while (readdir(d))
		n++;
	closedir(d);
	return n > 3 ? n - 3 : 3; /* ".", ".." and the directory's own descriptor */
}

/* Descriptors, besides those open now, that are not the server's connections. */
#define RUN_FD_SLACK 16 /* sock_diag socket, /proc and /sys reads, --csv/--svg files, probes */

/*
 * Fit cfg->max_conns to RLIMIT_NOFILE (issue: the default 20000 equals a usual hard limit, and
 * a server past it spins on EMFILE). Reserved: what is open, the listeners, one epoll per
 * thread and side, some slack, and a self-hosted client's connections (at most half of what
 * is left: with more it fails with EMFILE itself, which it counts). Prints what it lowered.
 */
static void fit_max_conns(struct bench_result *r)
{
	struct bench_cfg *cfg = &r->cfg;
	struct rlimit rl;
	uint64_t reserved, client = 0, want_min = cfg->max_conns;
	uint32_t fit;

	r->max_conns_asked = cfg->max_conns;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		return;
	r->nofile = rl.rlim_cur;
	reserved = fds_open() + (uint64_t)(cfg->listen.hi - cfg->listen.lo + 1) +
		   2u * (uint64_t)cfg->threads + RUN_FD_SLACK;
	if (cfg->mode == BENCH_MODE_SELF) {
		client = cfg->rate > 0 ? (cfg->concurrency > 4096 ? cfg->concurrency : 4096)
				       : cfg->concurrency;
		if (r->nofile > reserved && client > (r->nofile - reserved) / 2)
			client = (r->nofile - reserved) / 2;
		/* the own server never holds more than its client opens: no note below that */
		if (client < want_min)
			want_min = client;
	}
	fit = bench_max_conns_fit(cfg->max_conns, r->nofile, reserved + client);
	cfg->max_conns = fit;
	if (fit < want_min && !(cfg->quiet && cfg->mode == BENCH_MODE_SELF))
		fprintf(stderr,
			"twkit bench%s: --max-conns %u lowered to %u: RLIMIT_NOFILE is %llu, and %llu "
			"descriptors are taken otherwise%s\n",
			cfg->mode == BENCH_MODE_SERVE ? " serve" : "", r->max_conns_asked, fit,
			(unsigned long long)r->nofile, (unsigned long long)(reserved + client),
			client ? " (the client's included)" : "");
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

int bench_run(const struct bench_cfg *cfg_in, struct bench_result *r)
{
	struct bench_server *srv = NULL;
	struct bench_client *cl = NULL;
	struct bench_stats prev, cur;
	struct rusage ru0, ru1;
	sigset_t sigs;
	int64_t t0, next;
	uint32_t twc, tws;
	int rc;

	memset(r, 0, sizeof(*r));
	r->cfg = *cfg_in;
	rc = series_init(&r->series, NCOLS, cols);
	if (rc < 0)
		return rc;
	describe_cols(&r->series);
	getrusage(RUSAGE_SELF, &ru0);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	if (r->cfg.mode != BENCH_MODE_RUN) {
		struct bench_ep bound;
		fit_max_conns(r);
		rc = r->cfg.mode == BENCH_MODE_SELF ? start_self_server(&r->cfg, &srv, &bound)
						    : bench_server_start(&r->cfg, &srv, &bound);
		if (rc < 0)
			goto out;
		r->cfg.listen = bound;
		r->have_server = r->server_local = true;
		if (r->cfg.mode == BENCH_MODE_SERVE) {
			char a[80];
			fprintf(stderr, "twkit bench serve: listening on %s\n",
				bench_ep_fmt(&bound, a, sizeof(a)));
		} else {
			r->cfg.target = bound;
			/* a wildcard listener is reached through loopback */
			if (bound.addr.ss_family == AF_INET &&
			    ((struct sockaddr_in *)&bound.addr)->sin_addr.s_addr == 0)
				((struct sockaddr_in *)&r->cfg.target.addr)->sin_addr.s_addr =
					htonl(INADDR_LOOPBACK);
			else if (bound.addr.ss_family == AF_INET6 &&
				 memcmp(&((struct sockaddr_in6 *)&bound.addr)->sin6_addr,
					&in6addr_any, 16) == 0)
				((struct sockaddr_in6 *)&r->cfg.target.addr)->sin6_addr =
					in6addr_loopback;
		}
	}
	if (r->cfg.mode != BENCH_MODE_SERVE) {
		if (r->cfg.mode == BENCH_MODE_RUN)
			r->server_local = server_is_local(&r->cfg.target);
		bench_env_start(r);
		rc = bench_client_start(&r->cfg, &cl);
		if (rc < 0)
			goto out;
		r->have_client = true;
	}
	memset(&prev, 0, sizeof(prev));
	t0 = tw_mono_ns();
	next = t0 + NS_PER_SEC;
	for (;;) {
		int64_t now = tw_mono_ns();
		struct timespec ts = { 0, 50 * NS_PER_MS };
		if (now >= next) {
			memset(&cur, 0, offsetof(struct bench_stats, connect));
			if (cl)
				bench_client_sample(cl, &cur);
			tw_now(r, &twc, &tws);
			sample(r, &cur, &prev, (double)(next - t0) / 1e9, 1.0, twc, tws);
			next += NS_PER_SEC;
		}
		if (cl && bench_client_done(cl))
			break;
		if (!cl && r->cfg.duration_ns && now - t0 >= r->cfg.duration_ns)
			break;
		if (sigtimedwait(&sigs, NULL, &ts) > 0) {
			r->interrupted = true;
			break;
		}
	}
	r->elapsed_s = (double)(tw_mono_ns() - t0) / 1e9;
	bench_client_cancel(cl);
	/* the last row's TIME-WAIT before the client closes what is still in flight: those
	 * closes are the bench ending, not the workload (with --close server they would leave
	 * client TIME-WAITs the workload never made) */
	tw_now(r, &twc, &tws);
	if (cl) {
		bench_client_stop(cl, &r->st);
		cl = NULL;
	}
	if (r->series.nrows == 0 || r->series.t[r->series.nrows - 1] < r->elapsed_s - 0.05 ||
	    r->st.completed != prev.completed ||
	    bench_stats_failed(&r->st) != bench_stats_failed(&prev)) {
		/* a last, partial row so short runs have a series too, and so that rate x span
		 * over the rows adds up to the totals exactly: its time is whole milliseconds (the
		 * JSON keeps three decimals) and at least 1 ms after the previous row */
		double last = r->series.nrows ? r->series.t[r->series.nrows - 1] : 0;
		double t_end = ceil(r->elapsed_s * 1e3) / 1e3;
		if (t_end < last + 0.001)
			t_end = last + 0.001;
		sample(r, &r->st, &prev, t_end, t_end - last, twc, tws);
	}
	if (srv) {
		bench_server_stats(srv, &r->srv);
		bench_server_stop(srv);
		srv = NULL;
	}
	if (!r->cfg.quiet && isatty(STDERR_FILENO))
		fputc('\n', stderr);
	getrusage(RUSAGE_SELF, &ru1);
	r->user_s = tv_s(ru1.ru_utime) - tv_s(ru0.ru_utime);
	r->sys_s = tv_s(ru1.ru_stime) - tv_s(ru0.ru_stime);
	r->max_rss_kib = (uint64_t)ru1.ru_maxrss;
	if (r->have_client) {
		interpret(r);
		bench_env_end(r);
	}
	rc = 0;
	if (!r->have_client) { /* bench serve: the server's CPU per connection accepted */
		int ncpu = bench_cpu_count();
		bench_cpu_compute(r->sys_s, r->user_s, r->elapsed_s, r->srv.accepted,
				  (int)r->cfg.threads < ncpu ? (int)r->cfg.threads : ncpu, 0,
				  &r->cpu);
	}
out:
	bench_client_cancel(cl);
	bench_client_stop(cl, NULL);
	bench_server_stop(srv);
	if (rc < 0)
		series_fini(&r->series);
	return rc;
}

void bench_result_fini(struct bench_result *r)
{
	series_fini(&r->series);
}
