/*
 * trace_report — the three renderings of one trace_data: human tables, JSON (twkit.trace/1)
 * and Prometheus text. Every table shows at most --top rows. In JSON and Prometheus the rest
 * is summed into one "other" row, so label sets stay bounded whatever the traffic; the human
 * failures and closers tables show that row too, the latency and SYN tables (a histogram
 * and a count per destination) only the top rows under a header giving how many there are.
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

/* "10.0.0.5:80", "[::1]:80" */
static char *hostport(char *buf, size_t len, const struct trace_addr *a)
{
	char ip[64];

	snprintf(buf, len, a->family == 10 ? "[%s]:%u" : "%s:%u", trace_addr_str(ip, sizeof(ip), a),
		 a->port);
	return buf;
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

/* ---- the --top cut, shared by every table of every rendering ---- */

/* Where a table's rows go, and what the row being shown is. */
struct out {
	FILE *f;
	struct jw *w; /* JSON */
	const struct trace_view *v;
	bool tw;    /* Prometheus closers: the TIME-WAIT series, not the closes */
	bool other; /* the row shown is the sum of the rows past --top, its key zeroed */
};

/* A row's label or string field: "other" in the sum row (s is not evaluated there). */
#define OTHER_OR(o, s) ((o)->other ? "other" : (s))

typedef void (*row_fn)(struct out *o, const void *row);
typedef void (*add_fn)(void *sum, const void *row);

static void add_fail(void *sum, const void *row)
{
	((struct trace_fail *)sum)->count += ((const struct trace_fail *)row)->count;
}

static void add_close(void *sum, const void *row)
{
	struct trace_close *s = sum;
	const struct trace_close *r = row;

	s->count += r->count;
	s->time_waits += r->time_waits;
}

static void add_lat(void *sum, const void *row)
{
	hist_merge(&((struct trace_lat *)sum)->h, &((const struct trace_lat *)row)->h);
}

static void add_synrt(void *sum, const void *row)
{
	((struct trace_synrt *)sum)->count += ((const struct trace_synrt *)row)->count;
}

/*
 * Shows the first --top of n sorted rows (one of the four row types, `size` bytes each) with
 * show; the rest are summed with add into one zeroed row, which show then gets with o->other
 * set (it prints the "other" row, or nothing when that sum is empty). No add: the rest are
 * not shown at all.
 */
static void top_rows(struct out *o, const void *rows, size_t n, size_t size, add_fn add,
		     row_fn show)
{
	union {
		struct trace_fail f;
		struct trace_close c;
		struct trace_lat l;
		struct trace_synrt s;
	} sum;
	size_t top = n < o->v->top ? n : o->v->top;

	memset(&sum, 0, sizeof(sum));
	for (size_t i = 0; i < n; i++) {
		const void *r = (const char *)rows + i * size;

		if (i < top)
			show(o, r);
		else if (add)
			add(&sum, r);
	}
	if (n > top && add) {
		o->other = true;
		show(o, &sum);
		o->other = false;
	}
}

#define TOP_ROWS(o, rows, n, add, show) top_rows(o, rows, n, sizeof(*(rows)), add, show)

/* ---- human ---- */

static void human_fail(struct out *o, const void *row)
{
	const struct trace_fail *r = row;
	char e[32], cg[300], ns[64], dst[80];

	if (o->other) {
		if (r->count)
			fprintf(o->f, "  %8llu  (other rows)\n", (unsigned long long)r->count);
		return;
	}
	fprintf(o->f, "  %8llu  %-14s %-24s %-16.16s %7u  %-10s %s\n", (unsigned long long)r->count,
		trace_errno_name(r->k.err, e, sizeof(e)), hostport(dst, sizeof(dst), &r->k.dst),
		r->k.o.comm, r->k.o.pid, netns_str(r->k.o.netns, ns, sizeof(ns)),
		cg_short(o->v, r->k.o.cgroup, cg, sizeof(cg)));
}

static void human_close(struct out *o, const void *row)
{
	const struct trace_close *r = row;
	char a[64], cg[300], ns[64], peer[80];

	if (o->other) {
		if (r->count || r->time_waits)
			fprintf(o->f, "  %8llu %10llu  (other rows)\n",
				(unsigned long long)r->count, (unsigned long long)r->time_waits);
		return;
	}
	if (r->k.peer.port)
		hostport(peer, sizeof(peer), &r->k.peer);
	else
		snprintf(peer, sizeof(peer), "%s (accepted)",
			 trace_addr_str(a, sizeof(a), &r->k.peer));
	fprintf(o->f, "  %8llu %10llu  %-16.16s %7u  %-24s %-10s %s\n",
		(unsigned long long)r->count, (unsigned long long)r->time_waits, r->k.o.comm,
		r->k.o.pid, peer, netns_str(r->k.o.netns, ns, sizeof(ns)),
		cg_short(o->v, r->k.o.cgroup, cg, sizeof(cg)));
}

static void human_lat(struct out *o, const void *row)
{
	const struct trace_lat *r = row;
	char dst[80], b1[32], b2[32], b3[32];

	fprintf(o->f, "  %8llu  %-24s %10s %10s %10s\n", (unsigned long long)r->h.count,
		hostport(dst, sizeof(dst), &r->k),
		units_fmt_duration(b1, sizeof(b1), (int64_t)hist_percentile(&r->h, 50)),
		units_fmt_duration(b2, sizeof(b2), (int64_t)hist_percentile(&r->h, 99)),
		units_fmt_duration(b3, sizeof(b3), (int64_t)r->h.max));
}

static void human_synrt(struct out *o, const void *row)
{
	const struct trace_synrt *r = row;
	char dst[80];

	fprintf(o->f, "  %8llu  %s\n", (unsigned long long)r->count,
		hostport(dst, sizeof(dst), &r->k));
}

void trace_render_human(FILE *f, const struct trace_view *v, bool final)
{
	const struct trace_data *d = v->d;
	struct out o = {.f = f, .v = v};

	fprintf(f, "twkit trace: %.1f s, %llu connect() calls seen, %llu events dropped%s\n\n",
		v->elapsed_s, (unsigned long long)d->connects,
		(unsigned long long)d->dropped,
		d->dropped ? " (tables full: the counts below are lower bounds)" : "");

	fprintf(f, "connect() failures (%zu rows)\n", d->nfail);
	if (d->nfail)
		fprintf(f, "  %8s  %-14s %-24s %-16s %7s  %-10s %s\n", "COUNT", "ERRNO",
			"DESTINATION", "PROCESS", "PID", "NETNS", "CGROUP");
	TOP_ROWS(&o, d->fail, d->nfail, add_fail, human_fail);

	fprintf(f, "\nactive closes: who closes first, and the TIME-WAITs that follow (%zu rows)\n",
		d->nclose);
	if (d->nclose)
		fprintf(f, "  %8s %10s  %-16s %7s  %-24s %-10s %s\n", "CLOSES", "TIME-WAITS",
			"PROCESS", "PID", "PEER", "NETNS", "CGROUP");
	TOP_ROWS(&o, d->close, d->nclose, add_close, human_close);

	fprintf(f, "\nconnect() system call time per destination (%zu rows)\n", d->nlat);
	if (d->nlat)
		fprintf(f, "  %8s  %-24s %10s %10s %10s\n", "CALLS", "DESTINATION", "P50", "P99",
			"MAX");
	TOP_ROWS(&o, d->lat, d->nlat, NULL, human_lat);

	fprintf(f, "\nSYN retransmissions per destination (%zu rows)\n", d->nsynrt);
	TOP_ROWS(&o, d->synrt, d->nsynrt, NULL, human_synrt);
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

static void json_fail(struct out *o, const void *row)
{
	const struct trace_fail *r = row;
	char a[64], e[32], cg[300];

	if (o->other && !r->count)
		return;
	jw_obj_begin(o->w, NULL);
	jw_str(o->w, "errno", OTHER_OR(o, trace_errno_name(r->k.err, e, sizeof(e))));
	jw_str(o->w, "dst", OTHER_OR(o, trace_addr_str(a, sizeof(a), &r->k.dst)));
	jw_uint(o->w, "dport", r->k.dst.port);
	jw_str(o->w, "comm", OTHER_OR(o, r->k.o.comm));
	jw_uint(o->w, "pid", r->k.o.pid);
	jw_str(o->w, "cgroup", OTHER_OR(o, cg_str(o->v, r->k.o.cgroup, cg, sizeof(cg))));
	jw_uint(o->w, "netns", r->k.o.netns);
	jw_uint(o->w, "count", r->count);
	jw_obj_end(o->w);
}

static void json_close(struct out *o, const void *row)
{
	const struct trace_close *r = row;
	char a[64], cg[300];

	if (o->other && !r->count && !r->time_waits)
		return;
	jw_obj_begin(o->w, NULL);
	jw_str(o->w, "comm", OTHER_OR(o, r->k.o.comm));
	jw_uint(o->w, "pid", r->k.o.pid);
	jw_str(o->w, "cgroup", OTHER_OR(o, cg_str(o->v, r->k.o.cgroup, cg, sizeof(cg))));
	jw_uint(o->w, "netns", r->k.o.netns);
	jw_str(o->w, "peer", OTHER_OR(o, trace_addr_str(a, sizeof(a), &r->k.peer)));
	jw_uint(o->w, "peer_port", r->k.peer.port);
	jw_uint(o->w, "active_closes", r->count);
	jw_uint(o->w, "time_waits", r->time_waits);
	jw_obj_end(o->w);
}

static void json_lat(struct out *o, const void *row)
{
	const struct trace_lat *r = row;
	char a[64];

	if (o->other && !r->h.count)
		return;
	jw_obj_begin(o->w, NULL);
	jw_str(o->w, "dst", OTHER_OR(o, trace_addr_str(a, sizeof(a), &r->k)));
	jw_uint(o->w, "dport", r->k.port);
	jw_uint(o->w, "count", r->h.count);
	jw_double(o->w, "p50_us", us(hist_percentile(&r->h, 50)), 1);
	jw_double(o->w, "p99_us", us(hist_percentile(&r->h, 99)), 1);
	jw_double(o->w, "max_us", us(r->h.max), 1);
	jw_obj_end(o->w);
}

static void json_synrt(struct out *o, const void *row)
{
	const struct trace_synrt *r = row;
	char a[64];

	if (o->other && !r->count)
		return;
	jw_obj_begin(o->w, NULL);
	jw_str(o->w, "dst", OTHER_OR(o, trace_addr_str(a, sizeof(a), &r->k)));
	jw_uint(o->w, "dport", r->k.port);
	jw_uint(o->w, "count", r->count);
	jw_obj_end(o->w);
}

void trace_render_json(FILE *f, const struct trace_view *v)
{
	const struct trace_data *d = v->d;
	struct jw w;
	struct out o = {.f = f, .w = &w, .v = v};

	jw_init(&w, f, true);
	jw_obj_begin(&w, NULL);
	jw_str(&w, "schema", "twkit.trace/1");
	jw_arr_begin(&w, "connect_failures");
	TOP_ROWS(&o, d->fail, d->nfail, add_fail, json_fail);
	jw_arr_end(&w);
	jw_arr_begin(&w, "closers");
	TOP_ROWS(&o, d->close, d->nclose, add_close, json_close);
	jw_arr_end(&w);
	jw_arr_begin(&w, "connect_latency");
	TOP_ROWS(&o, d->lat, d->nlat, add_lat, json_lat);
	jw_arr_end(&w);
	jw_arr_begin(&w, "syn_retransmits");
	TOP_ROWS(&o, d->synrt, d->nsynrt, add_synrt, json_synrt);
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

/* Sorts n rows of `size` bytes by key (cmp) and sums equal keys into one row with add;
 * returns how many rows are left. */
static size_t merge_keys(void *rows, size_t n, size_t size, int (*cmp)(const void *, const void *),
			 add_fn add)
{
	char *v = rows;
	size_t j = 0;

	qsort(v, n, size, cmp);
	for (size_t i = 0; i < n; i++) {
		if (j && cmp(v + (j - 1) * size, v + i * size) == 0)
			add(v + (j - 1) * size, v + i * size);
		else if (j++ != i)
			memcpy(v + (j - 1) * size, v + i * size, size);
	}
	return j;
}

/*
 * The metrics carry no pid label (one series per process id would be unbounded over time):
 * rows that differ only in pid become one series. Copies d's failure and close rows with
 * pid 0, merges equal keys and re-ranks them. 0 or -ENOMEM.
 */
static int merge_pids(const struct trace_data *d, struct trace_data *m)
{
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
	m->nfail = merge_keys(m->fail, d->nfail, sizeof(*m->fail), cmp_key_fail, add_fail);
	m->nclose = merge_keys(m->close, d->nclose, sizeof(*m->close), cmp_key_close, add_close);
	qsort(m->fail, m->nfail, sizeof(*m->fail), cmp_fail);
	qsort(m->close, m->nclose, sizeof(*m->close), cmp_close);
	return 0;
}

static void prom_fail(struct out *o, const void *row)
{
	const struct trace_fail *r = row;
	char a[64], e[32], cg[300], ns[64], port[8];

	if (o->other && !r->count)
		return;
	snprintf(port, sizeof(port), "%u", r->k.dst.port);
	fputs("twkit_trace_connect_failures_total{", o->f);
	prom_lbl(o->f, true, "errno", OTHER_OR(o, trace_errno_name(r->k.err, e, sizeof(e))));
	prom_lbl(o->f, false, "remote_ip", OTHER_OR(o, trace_addr_str(a, sizeof(a), &r->k.dst)));
	prom_lbl(o->f, false, "remote_port", OTHER_OR(o, port));
	prom_lbl(o->f, false, "comm", OTHER_OR(o, r->k.o.comm));
	prom_lbl(o->f, false, "cgroup", OTHER_OR(o, cg_str(o->v, r->k.o.cgroup, cg, sizeof(cg))));
	prom_lbl(o->f, false, "netns", OTHER_OR(o, netns_str(r->k.o.netns, ns, sizeof(ns))));
	fprintf(o->f, "} %llu\n", (unsigned long long)r->count);
}

/* A closer row of twkit_trace_active_closes_total, or (o->tw) twkit_trace_time_waits_total;
 * the "other" row is shown whenever rows were cut, even at 0, so the two series pair up. */
static void prom_close(struct out *o, const void *row)
{
	const struct trace_close *r = row;
	char a[64], cg[300], ns[64], port[8];

	snprintf(port, sizeof(port), "%u", r->k.peer.port);
	fprintf(o->f, "%s{",
		o->tw ? "twkit_trace_time_waits_total" : "twkit_trace_active_closes_total");
	prom_lbl(o->f, true, "comm", OTHER_OR(o, r->k.o.comm));
	prom_lbl(o->f, false, "cgroup", OTHER_OR(o, cg_str(o->v, r->k.o.cgroup, cg, sizeof(cg))));
	prom_lbl(o->f, false, "netns", OTHER_OR(o, netns_str(r->k.o.netns, ns, sizeof(ns))));
	prom_lbl(o->f, false, "remote_ip", OTHER_OR(o, trace_addr_str(a, sizeof(a), &r->k.peer)));
	prom_lbl(o->f, false, "remote_port", OTHER_OR(o, port));
	fprintf(o->f, "} %llu\n", (unsigned long long)(o->tw ? r->time_waits : r->count));
}

static void prom_lat(struct out *o, const void *row)
{
	const struct trace_lat *r = row;
	char a[64], port[8];

	if (o->other && !r->h.count)
		return;
	snprintf(port, sizeof(port), "%u", r->k.port);
	prom_hist(o->f, OTHER_OR(o, trace_addr_str(a, sizeof(a), &r->k)), OTHER_OR(o, port), &r->h);
}

static void prom_synrt(struct out *o, const void *row)
{
	const struct trace_synrt *r = row;
	char a[64], port[8];

	if (o->other && !r->count)
		return;
	snprintf(port, sizeof(port), "%u", r->k.port);
	fputs("twkit_trace_syn_retransmits_total{", o->f);
	prom_lbl(o->f, true, "remote_ip", OTHER_OR(o, trace_addr_str(a, sizeof(a), &r->k)));
	prom_lbl(o->f, false, "remote_port", OTHER_OR(o, port));
	fprintf(o->f, "} %llu\n", (unsigned long long)r->count);
}

void trace_render_prom(FILE *f, const struct trace_view *v)
{
	const struct trace_data *d = v->d;
	struct trace_data m;
	struct out o = {.f = f, .v = v};

	if (merge_pids(v->d, &m) != 0) {
		fputs("# twkit trace: out of memory\n", f);
		return;
	}

	fputs("# HELP twkit_trace_connect_failures_total Failed connect() calls, by errno, "
	      "destination and owner.\n# TYPE twkit_trace_connect_failures_total counter\n",
	      f);
	TOP_ROWS(&o, m.fail, m.nfail, add_fail, prom_fail);

	/* the closer rows (pid-merged), twice: the same rows, labels and --top cut, so the two
	 * series of one owner pair up */
	fputs("# HELP twkit_trace_active_closes_total Active closes (ESTABLISHED to "
	      "FIN_WAIT1), by closer and peer; remote_port 0: the closer accepted the "
	      "connection.\n# TYPE twkit_trace_active_closes_total counter\n",
	      f);
	TOP_ROWS(&o, m.close, m.nclose, add_close, prom_close);
	fputs("# HELP twkit_trace_time_waits_total TIME-WAITs that active closes led to, by "
	      "closer and peer (not seen: a TIME-WAIT refused by tcp_max_tw_buckets).\n"
	      "# TYPE twkit_trace_time_waits_total counter\n",
	      f);
	o.tw = true;
	TOP_ROWS(&o, m.close, m.nclose, add_close, prom_close);

	fputs("# HELP twkit_trace_connect_latency_seconds Time spent in the connect() system "
	      "call, by destination.\n# TYPE twkit_trace_connect_latency_seconds histogram\n",
	      f);
	TOP_ROWS(&o, d->lat, d->nlat, add_lat, prom_lat);

	fputs("# HELP twkit_trace_syn_retransmits_total SYN retransmissions, by destination.\n"
	      "# TYPE twkit_trace_syn_retransmits_total counter\n",
	      f);
	TOP_ROWS(&o, d->synrt, d->nsynrt, add_synrt, prom_synrt);
	fputs("# HELP twkit_trace_dropped_events_total Events not counted because a kernel "
	      "table was full.\n# TYPE twkit_trace_dropped_events_total counter\n",
	      f);
	fprintf(f, "twkit_trace_dropped_events_total %llu\n", (unsigned long long)d->dropped);
	free(m.fail);
	free(m.close);
}
