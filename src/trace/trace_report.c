/*
 * trace_report — the three renderings of one trace_data: human tables, JSON (twkit.trace/1)
 * and Prometheus text. Every table shows at most --top rows; the rest is summed into one
 * "other" row, so label sets stay bounded whatever the traffic.
 */
#include "trace/trace.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonw.h"
#include "common/units.h"

char *trace_addr_str(char *buf, size_t len, const struct trace_addr *a)
{
	if (!inet_ntop(a->family == 10 ? AF_INET6 : AF_INET, a->addr, buf, (socklen_t)len))
		snprintf(buf, len, "?");
	return buf;
}

const char *trace_errno_name(int err, char *buf, size_t len)
{
	const char *n = err > 0 ? strerrorname_np(err) : NULL;

	if (n)
		return n;
	snprintf(buf, len, "E%d", err);
	return buf;
}

static int cmp_u64_desc(uint64_t a, uint64_t b)
{
	return a < b ? 1 : a > b ? -1 : 0;
}

static int cmp_fail(const void *a, const void *b)
{
	const struct trace_fail *x = a, *y = b;
	int c = cmp_u64_desc(x->count, y->count);

	return c ? c : memcmp(&x->k, &y->k, sizeof(x->k));
}

static int cmp_close(const void *a, const void *b)
{
	const struct trace_close *x = a, *y = b;
	int c = cmp_u64_desc(x->count, y->count);

	return c ? c : memcmp(&x->k, &y->k, sizeof(x->k));
}

static int cmp_lat(const void *a, const void *b)
{
	const struct trace_lat *x = a, *y = b;
	int c = cmp_u64_desc(x->h.count, y->h.count);

	return c ? c : memcmp(&x->k, &y->k, sizeof(x->k));
}

static int cmp_synrt(const void *a, const void *b)
{
	const struct trace_synrt *x = a, *y = b;
	int c = cmp_u64_desc(x->count, y->count);

	return c ? c : memcmp(&x->k, &y->k, sizeof(x->k));
}

void trace_data_sort(struct trace_data *d)
{
	qsort(d->fail, d->nfail, sizeof(*d->fail), cmp_fail);
	qsort(d->close, d->nclose, sizeof(*d->close), cmp_close);
	qsort(d->lat, d->nlat, sizeof(*d->lat), cmp_lat);
	qsort(d->synrt, d->nsynrt, sizeof(*d->synrt), cmp_synrt);
}

static size_t shown(size_t n, unsigned top)
{
	return n < top ? n : top;
}

/* cgroup of a row: its path, "cgroup:<id>" when the cgroup is gone or unknown. */
static const char *cg_str(const struct trace_view *v, uint64_t id, char *buf, size_t len)
{
	const char *p = v->cg ? trace_cg_path(v->cg, id) : NULL;

	if (p)
		return p;
	snprintf(buf, len, "cgroup:%llu", (unsigned long long)id);
	return buf;
}

/* "nginx 1a2b3c4d5e6f" style owner column: container short id, else the cgroup path. */
static const char *cg_short(const struct trace_view *v, uint64_t id, char *buf, size_t len)
{
	char cid[65];
	const char *p = cg_str(v, id, buf, len);

	if (trace_cg_container_id(p, cid, sizeof(cid))) {
		snprintf(buf, len, "container %.12s", cid);
		return buf;
	}
	return p;
}

static const char *netns_str(uint32_t ns, char *buf, size_t len)
{
	if (!trace_netns_name(ns, buf, len))
		snprintf(buf, len, "%u", ns);
	return buf;
}

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

/* ---- human ---- */

void trace_render_human(FILE *f, const struct trace_view *v, bool final)
{
	const struct trace_data *d = v->d;
	char a[64], e[32], cg[300], ns[64], b1[32], b2[32], b3[32];
	uint64_t rest, rest_tw;
	size_t n;

	fprintf(f, "twkit trace: %.1f s, %llu connect() calls seen, %llu events dropped%s\n\n",
		v->elapsed_s, (unsigned long long)d->connects,
		(unsigned long long)d->dropped,
		d->dropped ? " (tables full: the counts below are lower bounds)" : "");

	n = shown(d->nfail, v->top);
	fprintf(f, "connect() failures (%zu rows)\n", d->nfail);
	if (d->nfail)
		fprintf(f, "  %8s  %-14s %-24s %-16s %7s  %-10s %s\n", "COUNT", "ERRNO",
			"DESTINATION", "PROCESS", "PID", "NETNS", "CGROUP");
	rest = 0;
	for (size_t i = 0; i < d->nfail; i++) {
		const struct trace_fail *r = &d->fail[i];
		char dst[80];

		if (i >= n) {
			rest += r->count;
			continue;
		}
		snprintf(dst, sizeof(dst), r->k.dst.family == 10 ? "[%s]:%u" : "%s:%u",
			 trace_addr_str(a, sizeof(a), &r->k.dst), r->k.dst.port);
		fprintf(f, "  %8llu  %-14s %-24s %-16.16s %7u  %-10s %s\n",
			(unsigned long long)r->count, trace_errno_name(r->k.err, e, sizeof(e)), dst,
			r->k.o.comm, r->k.o.pid, netns_str(r->k.o.netns, ns, sizeof(ns)),
			cg_short(v, r->k.o.cgroup, cg, sizeof(cg)));
	}
	if (rest)
		fprintf(f, "  %8llu  (other rows)\n", (unsigned long long)rest);

	n = shown(d->nclose, v->top);
	fprintf(f, "\nactive closes: who closes first, and the TIME-WAITs that follow (%zu rows)\n",
		d->nclose);
	if (d->nclose)
		fprintf(f, "  %8s %10s  %-16s %7s  %-24s %-10s %s\n", "CLOSES", "TIME-WAITS",
			"PROCESS", "PID", "PEER", "NETNS", "CGROUP");
	rest = 0;
	rest_tw = 0;
	for (size_t i = 0; i < d->nclose; i++) {
		const struct trace_close *r = &d->close[i];
		char peer[80];

		if (i >= n) {
			rest += r->count;
			rest_tw += r->time_waits;
			continue;
		}
		trace_addr_str(a, sizeof(a), &r->k.peer);
		if (r->k.peer.port)
			snprintf(peer, sizeof(peer), r->k.peer.family == 10 ? "[%s]:%u" : "%s:%u", a,
				 r->k.peer.port);
		else
			snprintf(peer, sizeof(peer), "%s (accepted)", a);
		fprintf(f, "  %8llu %10llu  %-16.16s %7u  %-24s %-10s %s\n",
			(unsigned long long)r->count, (unsigned long long)r->time_waits, r->k.o.comm,
			r->k.o.pid, peer, netns_str(r->k.o.netns, ns, sizeof(ns)),
			cg_short(v, r->k.o.cgroup, cg, sizeof(cg)));
	}
	if (rest || rest_tw)
		fprintf(f, "  %8llu %10llu  (other rows)\n", (unsigned long long)rest,
			(unsigned long long)rest_tw);

	n = shown(d->nlat, v->top);
	fprintf(f, "\nconnect() system call time per destination (%zu rows)\n", d->nlat);
	if (d->nlat)
		fprintf(f, "  %8s  %-24s %10s %10s %10s\n", "CALLS", "DESTINATION", "P50", "P99",
			"MAX");
	for (size_t i = 0; i < n; i++) {
		const struct trace_lat *r = &d->lat[i];
		char dst[80];

		snprintf(dst, sizeof(dst), r->k.family == 10 ? "[%s]:%u" : "%s:%u",
			 trace_addr_str(a, sizeof(a), &r->k), r->k.port);
		fprintf(f, "  %8llu  %-24s %10s %10s %10s\n", (unsigned long long)r->h.count, dst,
			units_fmt_duration(b1, sizeof(b1), (int64_t)hist_percentile(&r->h, 50)),
			units_fmt_duration(b2, sizeof(b2), (int64_t)hist_percentile(&r->h, 99)),
			units_fmt_duration(b3, sizeof(b3), (int64_t)r->h.max));
	}

	n = shown(d->nsynrt, v->top);
	fprintf(f, "\nSYN retransmissions per destination (%zu rows)\n", d->nsynrt);
	for (size_t i = 0; i < n; i++) {
		const struct trace_synrt *r = &d->synrt[i];

		fprintf(f, "  %8llu  %s:%u\n", (unsigned long long)r->count,
			trace_addr_str(a, sizeof(a), &r->k), r->k.port);
	}
	if (final) {
		uint64_t tf = 0, tc = 0, tt = 0, ts = 0;

		for (size_t i = 0; i < d->nfail; i++)
			tf += d->fail[i].count;
		for (size_t i = 0; i < d->nclose; i++) {
			tc += d->close[i].count;
			tt += d->close[i].time_waits;
		}
		for (size_t i = 0; i < d->nsynrt; i++)
			ts += d->synrt[i].count;
		fprintf(f,
			"\nsummary: %llu connect() failures, %llu active closes (%llu TIME-WAITs), "
			"%llu SYN retransmissions over %.1f s; %llu events dropped\n",
			(unsigned long long)tf, (unsigned long long)tc, (unsigned long long)tt,
			(unsigned long long)ts,
			v->elapsed_s, (unsigned long long)d->dropped);
	}
}

/* ---- JSON ---- */

void trace_render_json(FILE *f, const struct trace_view *v)
{
	const struct trace_data *d = v->d;
	char a[64], e[32], cg[300];
	struct jw w;
	uint64_t rest, rest_tw;
	size_t n;

	jw_init(&w, f, true);
	jw_obj_begin(&w, NULL);
	jw_str(&w, "schema", "twkit.trace/1");

	jw_arr_begin(&w, "connect_failures");
	n = shown(d->nfail, v->top);
	rest = 0;
	for (size_t i = 0; i < d->nfail; i++) {
		const struct trace_fail *r = &d->fail[i];

		if (i >= n) {
			rest += r->count;
			continue;
		}
		jw_obj_begin(&w, NULL);
		jw_str(&w, "errno", trace_errno_name(r->k.err, e, sizeof(e)));
		jw_str(&w, "dst", trace_addr_str(a, sizeof(a), &r->k.dst));
		jw_uint(&w, "dport", r->k.dst.port);
		jw_str(&w, "comm", r->k.o.comm);
		jw_uint(&w, "pid", r->k.o.pid);
		jw_str(&w, "cgroup", cg_str(v, r->k.o.cgroup, cg, sizeof(cg)));
		jw_uint(&w, "netns", r->k.o.netns);
		jw_uint(&w, "count", r->count);
		jw_obj_end(&w);
	}
	if (rest) {
		jw_obj_begin(&w, NULL);
		jw_str(&w, "errno", "other");
		jw_str(&w, "dst", "other");
		jw_uint(&w, "dport", 0);
		jw_str(&w, "comm", "other");
		jw_uint(&w, "pid", 0);
		jw_str(&w, "cgroup", "other");
		jw_uint(&w, "netns", 0);
		jw_uint(&w, "count", rest);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);

	jw_arr_begin(&w, "closers");
	n = shown(d->nclose, v->top);
	rest = 0;
	rest_tw = 0;
	for (size_t i = 0; i < d->nclose; i++) {
		const struct trace_close *r = &d->close[i];

		if (i >= n) {
			rest += r->count;
			rest_tw += r->time_waits;
			continue;
		}
		jw_obj_begin(&w, NULL);
		jw_str(&w, "comm", r->k.o.comm);
		jw_uint(&w, "pid", r->k.o.pid);
		jw_str(&w, "cgroup", cg_str(v, r->k.o.cgroup, cg, sizeof(cg)));
		jw_uint(&w, "netns", r->k.o.netns);
		jw_str(&w, "peer", trace_addr_str(a, sizeof(a), &r->k.peer));
		jw_uint(&w, "peer_port", r->k.peer.port);
		jw_uint(&w, "active_closes", r->count);
		jw_uint(&w, "time_waits", r->time_waits);
		jw_obj_end(&w);
	}
	if (rest || rest_tw) {
		jw_obj_begin(&w, NULL);
		jw_str(&w, "comm", "other");
		jw_uint(&w, "pid", 0);
		jw_str(&w, "cgroup", "other");
		jw_uint(&w, "netns", 0);
		jw_str(&w, "peer", "other");
		jw_uint(&w, "peer_port", 0);
		jw_uint(&w, "active_closes", rest);
		jw_uint(&w, "time_waits", rest_tw);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);

	jw_arr_begin(&w, "connect_latency");
	n = shown(d->nlat, v->top);
	{
		struct hist other;

		hist_init(&other);
		for (size_t i = 0; i < d->nlat; i++) {
			const struct trace_lat *r = &d->lat[i];
			const struct hist *h = &r->h;

			if (i >= n) {
				hist_merge(&other, h);
				continue;
			}
			jw_obj_begin(&w, NULL);
			jw_str(&w, "dst", trace_addr_str(a, sizeof(a), &r->k));
			jw_uint(&w, "dport", r->k.port);
			jw_uint(&w, "count", h->count);
			jw_double(&w, "p50_us", us(hist_percentile(h, 50)), 1);
			jw_double(&w, "p99_us", us(hist_percentile(h, 99)), 1);
			jw_double(&w, "max_us", us(h->max), 1);
			jw_obj_end(&w);
		}
		if (other.count) {
			jw_obj_begin(&w, NULL);
			jw_str(&w, "dst", "other");
			jw_uint(&w, "dport", 0);
			jw_uint(&w, "count", other.count);
			jw_double(&w, "p50_us", us(hist_percentile(&other, 50)), 1);
			jw_double(&w, "p99_us", us(hist_percentile(&other, 99)), 1);
			jw_double(&w, "max_us", us(other.max), 1);
			jw_obj_end(&w);
		}
	}
	jw_arr_end(&w);

	jw_arr_begin(&w, "syn_retransmits");
	n = shown(d->nsynrt, v->top);
	rest = 0;
	for (size_t i = 0; i < d->nsynrt; i++) {
		const struct trace_synrt *r = &d->synrt[i];

		if (i >= n) {
			rest += r->count;
			continue;
		}
		jw_obj_begin(&w, NULL);
		jw_str(&w, "dst", trace_addr_str(a, sizeof(a), &r->k));
		jw_uint(&w, "dport", r->k.port);
		jw_uint(&w, "count", r->count);
		jw_obj_end(&w);
	}
	if (rest) {
		jw_obj_begin(&w, NULL);
		jw_str(&w, "dst", "other");
		jw_uint(&w, "dport", 0);
		jw_uint(&w, "count", rest);
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	jw_uint(&w, "dropped_events", d->dropped);
	jw_obj_end(&w);
	jw_finish(&w);
}

/* ---- Prometheus ---- */

/* A label value with \, " and newline escaped (the exposition format's three). */
static void prom_val(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n') {
			fputs("\\n", f);
			continue;
		}
		fputc(*s, f);
	}
}

static void prom_lbl(FILE *f, bool first, const char *name, const char *val)
{
	fprintf(f, "%s%s=\"", first ? "" : ",", name);
	prom_val(f, val);
	fputc('"', f);
}

/* Upper bounds of the latency histogram's exposed buckets, in seconds. */
static const double prom_le[] = { 1e-5, 2.5e-5, 5e-5,  1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3,
				  1e-2, 2.5e-2, 5e-2,  0.1,  0.25,   0.5,  1,    2.5,    5,
				  10,   30,	    60 };

static void prom_hist(FILE *f, const char *ip, const char *port, const struct hist *h)
{
	uint64_t cum = 0;
	int bi = 0;
	char b[32];

	/* walk the log-linear buckets once: each goes to the first le above its upper edge */
	for (size_t i = 0; i < sizeof(prom_le) / sizeof(prom_le[0]); i++) {
		uint64_t le_ns = (uint64_t)(prom_le[i] * 1e9 + 0.5);

		while (bi < HIST_BUCKETS) {
			uint64_t top = bi + 1 < HIST_BUCKETS ? trace_hist_bucket_low(bi + 1) - 1
							     : UINT64_MAX;
			if (bi + 1 >= TRACE_HIST_BUCKETS || top > le_ns)
				break;
			cum += h->b[bi++];
		}
		fputs("twkit_trace_connect_latency_seconds_bucket{", f);
		prom_lbl(f, true, "remote_ip", ip);
		prom_lbl(f, false, "remote_port", port);
		snprintf(b, sizeof(b), "%g", prom_le[i]);
		prom_lbl(f, false, "le", b);
		fprintf(f, "} %llu\n", (unsigned long long)cum);
	}
	fputs("twkit_trace_connect_latency_seconds_bucket{", f);
	prom_lbl(f, true, "remote_ip", ip);
	prom_lbl(f, false, "remote_port", port);
	prom_lbl(f, false, "le", "+Inf");
	fprintf(f, "} %llu\n", (unsigned long long)h->count);
	fputs("twkit_trace_connect_latency_seconds_sum{", f);
	prom_lbl(f, true, "remote_ip", ip);
	prom_lbl(f, false, "remote_port", port);
	fprintf(f, "} %.9f\n", h->sum / 1e9);
	fputs("twkit_trace_connect_latency_seconds_count{", f);
	prom_lbl(f, true, "remote_ip", ip);
	prom_lbl(f, false, "remote_port", port);
	fprintf(f, "} %llu\n", (unsigned long long)h->count);
}

static int cmp_key_fail(const void *a, const void *b)
{
	return memcmp(&((const struct trace_fail *)a)->k, &((const struct trace_fail *)b)->k,
		      sizeof(struct trace_fail_key));
}

static int cmp_key_close(const void *a, const void *b)
{
	return memcmp(&((const struct trace_close *)a)->k, &((const struct trace_close *)b)->k,
		      sizeof(struct trace_close_key));
}

/* pid 0, and nothing after the comm's NUL, so equal label sets compare equal as bytes. */
static void owner_norm(struct trace_owner *o)
{
	size_t l = strnlen(o->comm, sizeof(o->comm));

	o->pid = 0;
	memset(o->comm + l, 0, sizeof(o->comm) - l);
}

/*
 * The metrics carry no pid label (one series per process id would be unbounded over time):
 * rows that differ only in pid become one series. Copies d's failure and close rows with
 * pid 0, merges equal keys and re-ranks them. 0 or -ENOMEM.
 */
static int merge_pids(const struct trace_data *d, struct trace_data *m)
{
	size_t j;

	memset(m, 0, sizeof(*m));
	m->fail = malloc((d->nfail ? d->nfail : 1) * sizeof(*m->fail));
	m->close = malloc((d->nclose ? d->nclose : 1) * sizeof(*m->close));
	if (!m->fail || !m->close) {
		free(m->fail);
		free(m->close);
		return -ENOMEM;
	}
	memcpy(m->fail, d->fail, d->nfail * sizeof(*m->fail));
	memcpy(m->close, d->close, d->nclose * sizeof(*m->close));
	for (size_t i = 0; i < d->nfail; i++)
		owner_norm(&m->fail[i].k.o);
	for (size_t i = 0; i < d->nclose; i++)
		owner_norm(&m->close[i].k.o);
	qsort(m->fail, d->nfail, sizeof(*m->fail), cmp_key_fail);
	qsort(m->close, d->nclose, sizeof(*m->close), cmp_key_close);
	j = 0;
	for (size_t i = 0; i < d->nfail; i++) {
		if (j && cmp_key_fail(&m->fail[j - 1], &m->fail[i]) == 0)
			m->fail[j - 1].count += m->fail[i].count;
		else
			m->fail[j++] = m->fail[i];
	}
	m->nfail = j;
	j = 0;
	for (size_t i = 0; i < d->nclose; i++) {
		if (j && cmp_key_close(&m->close[j - 1], &m->close[i]) == 0) {
			m->close[j - 1].count += m->close[i].count;
			m->close[j - 1].time_waits += m->close[i].time_waits;
		} else
			m->close[j++] = m->close[i];
	}
	m->nclose = j;
	qsort(m->fail, m->nfail, sizeof(*m->fail), cmp_fail);
	qsort(m->close, m->nclose, sizeof(*m->close), cmp_close);
	return 0;
}

/*
 * The closer rows (pid-merged in m) as twkit_trace_active_closes_total, or with tw as
 * twkit_trace_time_waits_total: the same rows, labels and --top cut, so the two series of
 * one owner pair up.
 */
static void prom_closes(FILE *f, const struct trace_view *v, const struct trace_data *m, bool tw)
{
	const char *name = tw ? "twkit_trace_time_waits_total" : "twkit_trace_active_closes_total";
	char a[64], cg[300], ns[64], port[8];
	size_t n = shown(m->nclose, v->top);
	uint64_t rest = 0;

	if (tw)
		fputs("# HELP twkit_trace_time_waits_total TIME-WAITs that active closes led to, by "
		      "closer and peer (not seen: a TIME-WAIT refused by tcp_max_tw_buckets).\n",
		      f);
	else
		fputs("# HELP twkit_trace_active_closes_total Active closes (ESTABLISHED to "
		      "FIN_WAIT1), by closer and peer; remote_port 0: the closer accepted the "
		      "connection.\n",
		      f);
	fprintf(f, "# TYPE %s counter\n", name);
	for (size_t i = 0; i < m->nclose; i++) {
		const struct trace_close *r = &m->close[i];
		uint64_t c = tw ? r->time_waits : r->count;

		if (i >= n) {
			rest += c;
			continue;
		}
		snprintf(port, sizeof(port), "%u", r->k.peer.port);
		fprintf(f, "%s{", name);
		prom_lbl(f, true, "comm", r->k.o.comm);
		prom_lbl(f, false, "cgroup", cg_str(v, r->k.o.cgroup, cg, sizeof(cg)));
		prom_lbl(f, false, "netns", netns_str(r->k.o.netns, ns, sizeof(ns)));
		prom_lbl(f, false, "remote_ip", trace_addr_str(a, sizeof(a), &r->k.peer));
		prom_lbl(f, false, "remote_port", port);
		fprintf(f, "} %llu\n", (unsigned long long)c);
	}
	if (m->nclose > n)
		fprintf(f,
			"%s{comm=\"other\",cgroup=\"other\",netns=\"other\",remote_ip=\"other\","
			"remote_port=\"other\"} %llu\n",
			name, (unsigned long long)rest);
}

void trace_render_prom(FILE *f, const struct trace_view *v)
{
	const struct trace_data *d = v->d;
	struct trace_data m;
	char a[64], e[32], cg[300], ns[64], port[8];
	uint64_t rest;
	size_t n;

	if (merge_pids(v->d, &m) != 0) {
		fputs("# twkit trace: out of memory\n", f);
		return;
	}

	fputs("# HELP twkit_trace_connect_failures_total Failed connect() calls, by errno, "
	      "destination and owner.\n# TYPE twkit_trace_connect_failures_total counter\n",
	      f);
	n = shown(m.nfail, v->top);
	rest = 0;
	for (size_t i = 0; i < m.nfail; i++) {
		const struct trace_fail *r = &m.fail[i];

		if (i >= n) {
			rest += r->count;
			continue;
		}
		snprintf(port, sizeof(port), "%u", r->k.dst.port);
		fputs("twkit_trace_connect_failures_total{", f);
		prom_lbl(f, true, "errno", trace_errno_name(r->k.err, e, sizeof(e)));
		prom_lbl(f, false, "remote_ip", trace_addr_str(a, sizeof(a), &r->k.dst));
		prom_lbl(f, false, "remote_port", port);
		prom_lbl(f, false, "comm", r->k.o.comm);
		prom_lbl(f, false, "cgroup", cg_str(v, r->k.o.cgroup, cg, sizeof(cg)));
		prom_lbl(f, false, "netns", netns_str(r->k.o.netns, ns, sizeof(ns)));
		fprintf(f, "} %llu\n", (unsigned long long)r->count);
	}
	if (rest)
		fprintf(f,
			"twkit_trace_connect_failures_total{errno=\"other\",remote_ip=\"other\","
			"remote_port=\"other\",comm=\"other\",cgroup=\"other\",netns=\"other\"} "
			"%llu\n",
			(unsigned long long)rest);

	prom_closes(f, v, &m, false);
	prom_closes(f, v, &m, true);

	fputs("# HELP twkit_trace_connect_latency_seconds Time spent in the connect() system "
	      "call, by destination.\n# TYPE twkit_trace_connect_latency_seconds histogram\n",
	      f);
	n = shown(d->nlat, v->top);
	{
		struct hist other;

		hist_init(&other);
		for (size_t i = 0; i < d->nlat; i++) {
			if (i >= n) {
				hist_merge(&other, &d->lat[i].h);
				continue;
			}
			snprintf(port, sizeof(port), "%u", d->lat[i].k.port);
			prom_hist(f, trace_addr_str(a, sizeof(a), &d->lat[i].k), port,
				  &d->lat[i].h);
		}
		if (other.count)
			prom_hist(f, "other", "other", &other);
	}

	fputs("# HELP twkit_trace_syn_retransmits_total SYN retransmissions, by destination.\n"
	      "# TYPE twkit_trace_syn_retransmits_total counter\n",
	      f);
	n = shown(d->nsynrt, v->top);
	rest = 0;
	for (size_t i = 0; i < d->nsynrt; i++) {
		const struct trace_synrt *r = &d->synrt[i];

		if (i >= n) {
			rest += r->count;
			continue;
		}
		snprintf(port, sizeof(port), "%u", r->k.port);
		fputs("twkit_trace_syn_retransmits_total{", f);
		prom_lbl(f, true, "remote_ip", trace_addr_str(a, sizeof(a), &r->k));
		prom_lbl(f, false, "remote_port", port);
		fprintf(f, "} %llu\n", (unsigned long long)r->count);
	}
	if (rest)
		fprintf(f,
			"twkit_trace_syn_retransmits_total{remote_ip=\"other\","
			"remote_port=\"other\"} %llu\n",
			(unsigned long long)rest);
	fputs("# HELP twkit_trace_dropped_events_total Events not counted because a kernel "
	      "table was full.\n# TYPE twkit_trace_dropped_events_total counter\n",
	      f);
	fprintf(f, "twkit_trace_dropped_events_total %llu\n", (unsigned long long)d->dropped);
	free(m.fail);
	free(m.close);
}
