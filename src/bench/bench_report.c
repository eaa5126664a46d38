/*
 * bench_report — renderers of bench results: the human table, the twkit.bench/1 JSON
 * document, the matrix comparison. Renderers never compute: every figure comes from
 * struct bench_result (ratios below are presentation of two stored numbers).
 */
#include "bench/bench.h"
#include "bench/bench_env.h"
#include "bench/bench_json.h"
#include "bench/bench_portsel.h"

#include <string.h>

#include "common/jsonw.h"
#include "common/units.h"

static const char *const mode_names[] = { "self", "run", "serve" };

static void lat_text(FILE *f, const char *name, const struct hist *h)
{
	char a[16], b[16], c[16], d[16];
	if (!h->count)
		return;
	fprintf(f, "  %-11s p50 %-8s p90 %-8s p99 %-8s max %s\n", name,
		units_fmt_duration(a, sizeof(a), (int64_t)hist_percentile(h, 50)),
		units_fmt_duration(b, sizeof(b), (int64_t)hist_percentile(h, 90)),
		units_fmt_duration(c, sizeof(c), (int64_t)hist_percentile(h, 99)),
		units_fmt_duration(d, sizeof(d), (int64_t)h->max));
}

static uint64_t errno_sum(const uint64_t *v)
{
	uint64_t n = 0;
	for (int i = 0; i < BENCH_NERRNO; i++)
		n += v[i];
	return n;
}

/* --port-select app: the range, and the ports bind() or connect() refused, by errno. */
static void ps_text(FILE *f, const struct bench_result *r)
{
	const struct bench_stats *s = &r->st;
	char e[16];
	fprintf(f, "  port-select  app over %u-%u: %llu ports refused by bind(), %llu by connect()",
		r->ps_lo, r->ps_hi, (unsigned long long)errno_sum(s->ps_bind_failed),
		(unsigned long long)errno_sum(s->ps_connect_failed));
	for (int i = 0; i < BENCH_NERRNO; i++)
		if (s->ps_bind_failed[i] || s->ps_connect_failed[i])
			fprintf(f, ", %s %llu", bench_errno_name(i, e, sizeof(e)),
				(unsigned long long)(s->ps_bind_failed[i] + s->ps_connect_failed[i]));
	fprintf(f, "; %llu connections gave up after %d ports\n",
		(unsigned long long)s->ps_exhausted, BENCH_PS_TRIES);
}

static void errno_obj(struct jw *w, const char *key, const uint64_t *v)
{
	char e[16];
	jw_obj_begin(w, key);
	for (int i = 0; i < BENCH_NERRNO; i++)
		if (v[i])
			jw_uint(w, bench_errno_name(i, e, sizeof(e)), v[i]);
	jw_obj_end(w);
}

void bench_report_text(FILE *f, const struct bench_result *r)
{
	const struct bench_cfg *c = &r->cfg;
	const struct bench_stats *s = &r->st;
	char a[80], b[32], e[16];

	if (r->have_client) {
		fprintf(f, "twkit bench: %s %s -> %s, %s, close %s%s%s, %u req/conn, %.1f s%s\n",
			c->name[0] ? c->name : mode_names[c->mode],
			c->proto == BENCH_PROTO_RAW ? "raw" : "http",
			bench_ep_fmt(&c->target, a, sizeof(a)),
			c->rate > 0 ? units_fmt_rate(b, sizeof(b), c->rate) : "closed loop",
			c->close == BENCH_CLOSE_CLIENT ? "client" : "server",
			c->linger0 ? ", linger0 " : "",
			c->linger0 == 3 ? "both" : c->linger0 == 1 ? "client" : c->linger0 ? "server" : "",
			c->requests_per_conn, r->elapsed_s, r->interrupted ? " (interrupted)" : "");
		fprintf(f, "  connections  attempted %llu  completed %llu  failed %llu  in flight %llu\n",
			(unsigned long long)s->attempted, (unsigned long long)s->completed,
			(unsigned long long)bench_stats_failed(s), (unsigned long long)s->in_flight);
		fprintf(f, "  rate         %s new connections", units_fmt_rate(b, sizeof(b),
			r->elapsed_s > 0 ? (double)s->completed / r->elapsed_s : 0));
		fprintf(f, "  (%u distinct source ports)\n", bench_stats_ports(s));
		for (int i = 0; i < BENCH_NERRNO; i++)
			if (s->failed[i])
				fprintf(f, "  failed       %-14s %llu\n",
					bench_errno_name(i, e, sizeof(e)),
					(unsigned long long)s->failed[i]);
		if (s->non2xx)
			fprintf(f, "  http         %llu responses not 2xx\n",
				(unsigned long long)s->non2xx);
		fprintf(f, "  latency (from the %s start)\n", c->rate > 0 ? "intended" : "actual");
		lat_text(f, "connect", &s->connect);
		lat_text(f, "first byte", &s->first_byte);
		lat_text(f, "exchange", &s->exchange);
		bench_env_text(f, r);
	} else {
		fprintf(f, "twkit bench serve: %s, %.1f s%s\n",
			bench_ep_fmt(&c->listen, a, sizeof(a)), r->elapsed_s,
			r->interrupted ? " (stopped by signal)" : "");
	}
	if (r->have_server) {
		const struct bench_srv_stats *v = &r->srv;
		fprintf(f, "  server       accepted %llu  requests %llu  bad %llu  idle timeouts "
			   "%llu  resets %llu  rejected %llu\n",
			(unsigned long long)v->accepted, (unsigned long long)v->requests,
			(unsigned long long)v->bad_requests, (unsigned long long)v->timeouts,
			(unsigned long long)v->resets, (unsigned long long)v->rejected);
		fprintf(f, "  server       held max %llu of %u  request timeouts %llu  too large %llu\n",
			(unsigned long long)v->active_max, c->max_conns,
			(unsigned long long)v->request_timeouts, (unsigned long long)v->too_large);
		if (v->full || v->emfile)
			fprintf(f, "  accepting    paused %llu times at --max-conns, %llu at the fd limit "
				   "(EMFILE); up to %llu clients waited in the backlog\n",
				(unsigned long long)v->full, (unsigned long long)v->emfile,
				(unsigned long long)v->backlog_max);
	}
	fprintf(f, "  TIME-WAIT    client max %u%s  server max %u%s\n", r->tw_client_max,
		r->have_client ? "" : " (no client here)", r->tw_server_max,
		r->server_local ? "" : " (server not in this namespace)");
	if (r->tw_err)
		fprintf(f, "  (TIME-WAIT sampling failed: %s)\n", strerror(-r->tw_err));
	if (r->have_client) {
		fprintf(f, "  cpu          user %.2f s, sys %.2f s: per connection attempted %.1f us "
			   "system, %.1f us user\n",
			r->user_s, r->sys_s, r->cpu.sys_us_per_conn, r->cpu.user_us_per_conn);
		if (c->port_select == BENCH_PORTSEL_APP)
			ps_text(f, r);
	}
	if (r->interpretation[0])
		fprintf(f, "\n%s\n", r->interpretation);
	if (r->have_client) {
		char x[400];
		if (bench_cpu_explain(&r->cpu, r->elapsed_s > 0 ? (double)s->completed /
								       r->elapsed_s : 0,
				      x, sizeof(x)) > 0)
			fprintf(f, "%s\n", x);
	}
	for (int i = 0; i < r->cfg.nthreshold; i++) {
		char v[32];
		fprintf(f, "%sthreshold %-16s %-10s %s\n", i ? "" : "\n", r->cfg.threshold[i].expr,
			bench_threshold_fmt(&r->cfg.threshold[i], r->th_value[i], v, sizeof(v)),
			r->th_ok[i] ? "ok" : "CROSSED");
	}
}

static void lat_json(struct jw *w, const char *key, const struct hist *h)
{
	jw_obj_begin(w, key);
	jw_uint(w, "count", h->count);
	jw_double(w, "mean_us", h->count ? hist_mean(h) / 1e3 : 0, 1);
	jw_double(w, "p50_us", (double)hist_percentile(h, 50) / 1e3, 1);
	jw_double(w, "p90_us", (double)hist_percentile(h, 90) / 1e3, 1);
	jw_double(w, "p99_us", (double)hist_percentile(h, 99) / 1e3, 1);
	jw_double(w, "p999_us", (double)hist_percentile(h, 99.9) / 1e3, 1);
	jw_double(w, "max_us", (double)h->max / 1e3, 1);
	jw_obj_end(w);
}

void bench_report_json_obj(struct jw *w, const char *key, const struct bench_result *r)
{
	const struct bench_cfg *c = &r->cfg;
	const struct bench_stats *s = &r->st;
	char a[80], e[16];

	jw_obj_begin(w, key);
	if (!key)
		jw_str(w, BENCH_JK_SCHEMA, BENCH_JSON_SCHEMA);
	jw_obj_begin(w, "config");
	jw_str(w, "mode", mode_names[c->mode]);
	if (c->name[0])
		jw_str(w, "name", c->name);
	jw_str(w, "target", r->have_client ? bench_ep_fmt(&c->target, a, sizeof(a)) : NULL);
	jw_str(w, "listen", r->have_server ? bench_ep_fmt(&c->listen, a, sizeof(a)) : NULL);
	jw_str(w, "proto", c->proto == BENCH_PROTO_RAW ? "raw" : "http");
	jw_str(w, "close", c->close == BENCH_CLOSE_CLIENT ? "client" : "server");
	jw_str(w, "linger0", c->linger0 == 3 ? "both" : c->linger0 == 1 ? "client"
						  : c->linger0 == 2 ? "server" : "none");
	jw_uint(w, "requests_per_conn", c->requests_per_conn);
	jw_int(w, "sources", c->nsources);
	jw_bool(w, "bind_no_port", c->bind_no_port);
	jw_bool(w, "delayed_ack", c->delayed_ack);
	jw_uint(w, "concurrency", c->concurrency);
	jw_double(w, "rate", c->rate, 3);
	jw_int(w, "threads", c->threads);
	jw_double(w, "duration_s", (double)c->duration_ns / 1e9, 3);
	jw_uint(w, "count", c->count);
	jw_str(w, "port_select", c->port_select == BENCH_PORTSEL_APP ? "app" : "kernel");
	if (r->have_server) {
		jw_double(w, "idle_timeout_s", (double)c->timeout_ns / 1e9, 3);
		jw_double(w, "request_timeout_s", (double)c->request_timeout_ns / 1e9, 3);
		jw_uint(w, "max_request", c->max_request);
		jw_uint(w, "max_conns", c->max_conns);
	}
	jw_obj_end(w);
	jw_obj_begin(w, BENCH_JK_TOTALS);
	jw_uint(w, BENCH_JK_ATTEMPTED, s->attempted);
	jw_uint(w, BENCH_JK_COMPLETED, s->completed);
	jw_obj_begin(w, BENCH_JK_FAILED);
	for (int i = 0; i < BENCH_NERRNO; i++)
		if (s->failed[i])
			jw_uint(w, bench_errno_name(i, e, sizeof(e)), s->failed[i]);
	jw_obj_end(w);
	jw_uint(w, BENCH_JK_FAILED_TOTAL, bench_stats_failed(s));
	jw_uint(w, "in_flight", s->in_flight);
	jw_double(w, BENCH_JK_RATE, r->elapsed_s > 0 ? (double)s->completed / r->elapsed_s : 0, 1);
	jw_uint(w, "requests", s->requests);
	jw_uint(w, BENCH_JK_NON2XX, s->non2xx);
	jw_uint(w, "bytes_in", s->bytes_in);
	jw_uint(w, "bytes_out", s->bytes_out);
	jw_uint(w, "source_ports", bench_stats_ports(s));
	jw_double(w, "elapsed_s", r->elapsed_s, 3);
	jw_bool(w, "interrupted", r->interrupted);
	bench_env_json_rate(w, r);
	jw_obj_end(w);
	jw_obj_begin(w, "latency");
	jw_str(w, "from", c->rate > 0 ? "intended_start" : "actual_start");
	lat_json(w, "connect", &s->connect);
	lat_json(w, "first_byte", &s->first_byte);
	lat_json(w, "exchange", &s->exchange);
	jw_obj_end(w);
	jw_obj_begin(w, "time_wait");
	jw_uint(w, "client_max", r->tw_client_max);
	jw_uint(w, "server_max", r->tw_server_max);
	jw_uint(w, "client_end", r->tw_client_end);
	jw_uint(w, "server_end", r->tw_server_end);
	jw_bool(w, "server_local", r->server_local);
	if (r->tw_err)
		jw_str(w, "error", strerror(-r->tw_err));
	bench_env_json(w, r);
	jw_obj_end(w);
	if (r->have_server) {
		jw_obj_begin(w, "server");
		jw_uint(w, "accepted", r->srv.accepted);
		jw_uint(w, "requests", r->srv.requests);
		jw_uint(w, "closed", r->srv.closed);
		jw_uint(w, "bad_requests", r->srv.bad_requests);
		jw_uint(w, "idle_timeouts", r->srv.timeouts);
		jw_uint(w, "resets", r->srv.resets);
		jw_uint(w, "rejected", r->srv.rejected);
		jw_uint(w, "max_conns", c->max_conns);
		jw_uint(w, "max_conns_asked", r->max_conns_asked);
		jw_uint(w, "nofile", r->nofile);
		jw_uint(w, "active_max", r->srv.active_max);
		jw_uint(w, "paused_full", r->srv.full);
		jw_uint(w, "accept_emfile", r->srv.emfile);
		jw_uint(w, "backlog_max", r->srv.backlog_max);
		jw_uint(w, "request_timeouts", r->srv.request_timeouts);
		jw_uint(w, "too_large", r->srv.too_large);
		jw_obj_end(w);
	}
	jw_obj_begin(w, BENCH_JK_RESOURCES);
	jw_double(w, "user_s", r->user_s, 3);
	jw_double(w, "sys_s", r->sys_s, 3);
	jw_double(w, BENCH_JK_USER_US_PER_CONN, r->cpu.user_us_per_conn, 3);
	jw_double(w, BENCH_JK_SYS_US_PER_CONN, r->cpu.sys_us_per_conn, 3);
	jw_str(w, "per_conn", r->have_client ? "attempted" : "accepted");
	jw_double(w, "cores_busy", r->cpu.cores_busy, 3);
	jw_uint(w, "max_rss_kib", r->max_rss_kib);
	jw_obj_end(w);
	if (r->have_client) {
		jw_obj_begin(w, "port_select");
		jw_str(w, "mode", c->port_select == BENCH_PORTSEL_APP ? "app" : "kernel");
		if (c->port_select == BENCH_PORTSEL_APP) {
			jw_uint(w, "range_lo", r->ps_lo);
			jw_uint(w, "range_hi", r->ps_hi);
			jw_uint(w, "bind_failed_total", errno_sum(s->ps_bind_failed));
			errno_obj(w, "bind_failed", s->ps_bind_failed);
			jw_uint(w, "connect_failed_total", errno_sum(s->ps_connect_failed));
			errno_obj(w, "connect_failed", s->ps_connect_failed);
			jw_uint(w, "gave_up", s->ps_exhausted);
			jw_uint(w, "tries_max", BENCH_PS_TRIES);
		}
		jw_obj_end(w);
	}
	if (r->have_client) {
		jw_obj_begin(w, "budget");
		jw_uint(w, "usable_ports", r->usable_ports);
		jw_double(w, "sustained_rate", r->budget_rate, 1);
		jw_str(w, "interpretation", r->interpretation);
		jw_obj_begin(w, "ceilings");
		jw_double(w, "ports_rate", r->cpu.port_rate, 1);
		jw_double(w, "cpu_rate", r->cpu.cpu_rate, 1);
		jw_double(w, "cpu_per_core_rate", r->cpu.per_core_rate, 1);
		jw_int(w, "cores", r->cpu.cores);
		jw_str(w, "binds", bench_bind_str(r->cpu.binds));
		{
			char x[400];
			bench_cpu_explain(&r->cpu, r->elapsed_s > 0 ? (double)s->completed /
									  r->elapsed_s : 0,
					  x, sizeof(x));
			jw_str(w, "explanation", x);
		}
		jw_obj_end(w);
		jw_obj_end(w);
	}
	if (r->cfg.nthreshold) {
		jw_arr_begin(w, "thresholds");
		for (int i = 0; i < r->cfg.nthreshold; i++) {
			jw_obj_begin(w, NULL);
			jw_str(w, "expr", r->cfg.threshold[i].expr);
			jw_double(w, "value", r->th_value[i], 3);
			jw_bool(w, "ok", r->th_ok[i]);
			jw_obj_end(w);
		}
		jw_arr_end(w);
		jw_bool(w, "thresholds_ok", r->th_crossed == 0);
	}
	series_write_json(&r->series, w, BENCH_JK_SERIES);
	jw_obj_end(w);
}

void bench_report_json(FILE *f, const struct bench_result *r)
{
	struct jw w;
	jw_init(&w, f, true);
	bench_report_json_obj(&w, NULL, r);
	jw_finish(&w);
}

void bench_report_matrix_text(FILE *f, const struct bench_result *rs, int n)
{
	char b[32], e[16];
	fprintf(f, "%-16s %10s %10s %9s %9s %8s  %s\n", "variant", "conn/s", "completed",
		"TW client", "TW server", "sys us/c", "failures");
	for (int i = 0; i < n; i++) {
		const struct bench_result *r = &rs[i];
		const struct bench_stats *s = &r->st;
		int shown = 0;
		fprintf(f, "%-16s %10s %10llu %9u %9u %8.1f  ", r->cfg.name,
			units_fmt_rate(b, sizeof(b),
				       r->elapsed_s > 0 ? (double)s->completed / r->elapsed_s : 0),
			(unsigned long long)s->completed, r->tw_client_max, r->tw_server_max,
			r->cpu.sys_us_per_conn);
		for (int k = 0; k < BENCH_NERRNO; k++)
			if (s->failed[k])
				fprintf(f, "%s%s %llu", shown++ ? ", " : "",
					bench_errno_name(k, e, sizeof(e)),
					(unsigned long long)s->failed[k]);
		fprintf(f, "%s\n", shown ? "" : "none");
	}
	for (int i = 0; i < n; i++)
		if (rs[i].interpretation[0])
			fprintf(f, "  %-14s %s\n", rs[i].cfg.name, rs[i].interpretation);
}

void bench_report_matrix_json(FILE *f, const struct bench_result *rs, int n)
{
	struct jw w;
	jw_init(&w, f, true);
	jw_obj_begin(&w, NULL);
	jw_str(&w, BENCH_JK_SCHEMA, BENCH_JSON_SCHEMA);
	jw_arr_begin(&w, "variants");
	for (int i = 0; i < n; i++)
		bench_report_json_obj(&w, NULL, &rs[i]);
	jw_arr_end(&w);
	jw_obj_end(&w);
	jw_finish(&w);
}
