/*
 * bench_env — the namespace a run starts in and the kernel's drops during it (bench_env.h).
 */
#include "bench/bench_env.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "common/units.h"
#include "kernel/procfs.h"
#include "kernel/sockdiag.h"

struct tw_start_ctx {
	uint8_t addr[16]; /* the target, v4-mapped for IPv4 (as sockdiag reports) */
	uint16_t lo, hi;
	uint32_t target, total;
};

static int tw_start_one(const struct kdiag_sock *s, void *ctx)
{
	struct tw_start_ctx *c = ctx;
	if (!s->tw)
		return 0;
	c->total++;
	if (s->rport >= c->lo && s->rport <= c->hi && memcmp(s->raddr, c->addr, 16) == 0)
		c->target++;
	return 0;
}

/* TcpExt.TCPTimeWaitOverflow of this namespace: 0 with *v, or -errno. */
static int tw_overflow_now(uint64_t *v)
{
	struct kcounters c;
	char *text = NULL;
	size_t len;
	int rc = kproc_read("/proc/net/netstat", 1u << 20, &text, &len);
	if (rc < 0)
		return rc;
	kcounters_init(&c);
	rc = kproc_parse_pairs(text, &c);
	if (rc >= 0)
		rc = kcounters_get(&c, "TcpExt.TCPTimeWaitOverflow", v);
	kcounters_fini(&c);
	free(text);
	return rc < 0 ? rc : 0;
}

void bench_env_start(struct bench_result *r)
{
	const struct bench_ep *t = &r->cfg.target;
	struct tw_start_ctx c = { .lo = t->lo, .hi = t->hi };
	uint64_t v;

	if (t->addr.ss_family == AF_INET) {
		c.addr[10] = c.addr[11] = 0xff;
		memcpy(c.addr + 12, &((const struct sockaddr_in *)&t->addr)->sin_addr, 4);
	} else {
		memcpy(c.addr, &((const struct sockaddr_in6 *)&t->addr)->sin6_addr, 16);
	}
	r->env_tw_err = kdiag_dump_socks(1u << KDIAG_TIME_WAIT | 1u << KDIAG_FIN_WAIT2, false,
					 tw_start_one, &c);
	r->tw_start_target = c.target;
	r->tw_start_total = c.total;
	r->tw_overflow_ok = tw_overflow_now(&v) == 0;
	r->tw_overflow_start = r->tw_overflow_ok ? v : 0;
	if (!r->cfg.quiet && !r->env_tw_err && c.target > 0) {
		char a[80], n[32];
		fprintf(stderr,
			"twkit bench: this namespace already holds %s TIME-WAIT toward %s (left by "
			"earlier connections, a previous run's included): their 4-tuples are taken "
			"until they expire\n",
			units_fmt_count(n, sizeof(n), c.target), bench_ep_fmt(t, a, sizeof(a)));
	}
}

void bench_env_end(struct bench_result *r)
{
	uint64_t v;
	/* connections are started over the --duration; what the run takes beyond it is the
	 * last ones finishing, not time in which more were asked for */
	double span = r->elapsed_s, asked_s = (double)r->cfg.duration_ns / 1e9;
	if (asked_s > 0 && span > asked_s)
		span = asked_s;
	if (r->tw_overflow_ok && tw_overflow_now(&v) == 0 && v >= r->tw_overflow_start)
		r->tw_overflow = v - r->tw_overflow_start;
	else
		r->tw_overflow_ok = false;
	r->rate_started = span > 0 ? (double)r->st.attempted / span : 0;
	r->rate_short = r->cfg.rate > 0 && !r->interrupted &&
			r->rate_started < r->cfg.rate * BENCH_RATE_REACHED_SHARE;
}

void bench_env_text(FILE *f, const struct bench_result *r)
{
	char a[32], b[32], n[32], m[32];
	if (!r->have_client)
		return;
	if (!r->env_tw_err && r->tw_start_total > 0)
		fprintf(f, "  at start     TIME-WAIT %s toward the target, %s in this namespace\n",
			units_fmt_count(n, sizeof(n), r->tw_start_target),
			units_fmt_count(m, sizeof(m), r->tw_start_total));
	if (r->tw_overflow_ok && r->tw_overflow > 0)
		fprintf(f, "  overflow     TCPTimeWaitOverflow +%s during the run: closes whose "
			   "TIME-WAIT the kernel did not keep (§1.4)\n",
			units_fmt_count(n, sizeof(n), r->tw_overflow));
	if (r->rate_short)
		fprintf(f, "  rate         asked %s, started %s: %.0f%% short of the asked rate\n",
			units_fmt_rate(a, sizeof(a), r->cfg.rate),
			units_fmt_rate(b, sizeof(b), r->rate_started),
			100.0 * (1.0 - r->rate_started / r->cfg.rate));
}

void bench_env_json(struct jw *w, const struct bench_result *r)
{
	if (!r->have_client)
		return;
	jw_obj_begin(w, "at_start");
	if (r->env_tw_err) {
		jw_null(w, "toward_target");
		jw_null(w, "total");
	} else {
		jw_uint(w, "toward_target", r->tw_start_target);
		jw_uint(w, "total", r->tw_start_total);
	}
	jw_obj_end(w);
	if (r->tw_overflow_ok)
		jw_uint(w, "overflow", r->tw_overflow);
	else
		jw_null(w, "overflow");
}

void bench_env_json_rate(struct jw *w, const struct bench_result *r)
{
	if (r->have_client && r->cfg.rate > 0) {
		jw_obj_begin(w, "rate_asked");
		jw_double(w, "asked", r->cfg.rate, 3);
		jw_double(w, "started", r->rate_started, 1);
		jw_bool(w, "reached", !r->rate_short);
		jw_double(w, "shortfall_pct",
			  r->rate_started < r->cfg.rate
				  ? 100.0 * (1.0 - r->rate_started / r->cfg.rate)
				  : 0,
			  1);
		jw_obj_end(w);
	}
}
