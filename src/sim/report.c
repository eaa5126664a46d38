/*
 * report — text and JSON renderings of a simulation (see report.h). Counter names follow
 * /proc/net/netstat and /proc/net/snmp (§8) so users can compare with nstat on their hosts.
 */
#include "sim/report.h"

#include "common/jsonw.h"
#include "common/units.h"
#include "model/portsearch.h"

static const char *const kind_str[] = { "client", "nat", "l4lb", "l7lb", "server" };

struct named {
	const char *name;
	uint64_t v;
};

/* Kernel counter names and the simulator's own, in a fixed order. */
static int counters_list(const struct sim_counters *c, struct named *out)
{
	int n = 0;
#define C(nm, val) out[n].name = nm, out[n].v = val, n++
	C("ActiveOpens", c->active_opens);
	C("PassiveOpens", c->passive_opens);
	C("TW", c->tw);
	C("TWKilled", c->tw_killed);
	C("TWRecycled", c->tw_recycled);
	C("TCPTimeWaitOverflow", c->tw_overflow);
	C("PAWSPassive", c->paws_passive);
	C("PAWSEstab", c->paws_tw);
	C("TCPSynRetrans", c->syn_retrans);
	C("TCPAbortOnData", c->abort_on_data);
	C("EstabResets", c->estab_resets);
	C("connections_ok", c->connections_ok);
	C("EADDRNOTAVAIL", c->connect_errors[SIM_ERR_EADDRNOTAVAIL]);
	C("ETIMEDOUT", c->connect_errors[SIM_ERR_ETIMEDOUT]);
	C("ECONNRESET", c->connect_errors[SIM_ERR_ECONNRESET]);
	C("syn_reopened_timewait", c->tw_syn_accepted);
	C("syn_timewait_ack_rst", c->tw_ack_rst);
	C("nat_port_exhausted", c->nat_port_fail);
	C("port_select_fail", c->port_select_fail);
#undef C
	return n;
}

/* The cloud gateways (nat nodes with gateway limits): what they dropped, by reason. */
static void gateways_text(FILE *f, const struct sim_scenario *sc, const struct sim_result *r)
{
	char a[32], b[32];
	for (int i = 0; i < r->nhosts; i++) {
		const struct sim_host_result *h = &r->hosts[i];
		uint64_t total = 0;
		if (!h->gateway)
			continue;
		for (int k = 0; k < NATGW_DROP_N; k++)
			total += h->gw_drop[k];
		fprintf(f, "gateway %s (%s): %s dropped", h->name,
			i < sc->nnodes && sc->nodes[i].gw_profile[0] ? sc->nodes[i].gw_profile
								     : "custom",
			units_fmt_count(a, sizeof(a), total));
		for (int k = 0, n = 0; k < NATGW_DROP_N; k++)
			if (h->gw_drop[k])
				fprintf(f, "%s%s %s", n++ ? ", " : " (", natgw_drop_name(k),
					units_fmt_count(a, sizeof(a), h->gw_drop[k]));
		fprintf(f, "%s; at most %s ports held toward one destination on one address\n",
			total ? ")" : "", units_fmt_count(b, sizeof(b), h->gw_peak));
	}
}

/* A connecting node's connect() price in the run: per host, the share of one core its
 * connects took, and whether that core was the bound (connects waited or were dropped). */
static double cpu_share(const struct sim_result *r, const struct sim_host_result *h)
{
	double wall = (double)r->duration_ns * h->hosts;
	return wall > 0 ? (double)h->cpu.cpu_ns / wall : 0;
}

static bool cpu_bound(const struct sim_result *r, const struct sim_host_result *h)
{
	return h->cpu.queued > 0 || h->cpu.dropped > 0 || cpu_share(r, h) >= 0.99;
}

static void connect_text(FILE *f, const struct sim_result *r, const struct sim_host_result *h)
{
	const struct sim_connect_cpu *cc = &h->cpu;
	char a[32], b[32], c[32], d[32];
	double per = cc->calls ? (double)cc->cpu_ns / (double)cc->calls : 0;
	if (!cc->calls)
		return;
	fprintf(f, "connect() on %s: ports examined mean %.1f, p50 %llu, p99 %llu, max %llu; "
		   "kernel CPU %s per connect() (%u ns a port + %u ns), %.0f%% of a core per host\n",
		h->name, hist_mean(&cc->probes),
		(unsigned long long)hist_percentile(&cc->probes, 50),
		(unsigned long long)hist_percentile(&cc->probes, 99),
		(unsigned long long)cc->probes.max, units_fmt_duration(a, sizeof(a), (int64_t)per),
		cc->probe_ns, cc->base_ns, 100.0 * cpu_share(r, h));
	if (cpu_bound(r, h))
		fprintf(f, "  the CPU bound came first: one core does about %s at that price, "
			   "%s connects waited for it (at most %s at once), %s dropped\n",
			units_fmt_rate(b, sizeof(b), tw_connect_cpu_rate((uint64_t)per)),
			units_fmt_count(a, sizeof(a), cc->queued),
			units_fmt_count(c, sizeof(c), cc->backlog_max),
			units_fmt_count(d, sizeof(d), cc->dropped));
}

void sim_report_text(FILE *f, const struct sim_scenario *sc, const struct sim_result *r)
{
	char a[32], b[32], d[32];
	struct named cl[24];
	fprintf(f, "scenario %s (%s): %s simulated, seed %llu\n", sc->name, sc->file,
		units_fmt_duration(a, sizeof(a), r->duration_ns), (unsigned long long)sc->seed);
	fprintf(f, "connect(): %s ok", units_fmt_count(a, sizeof(a), r->connections_ok));
	for (int e = 0; e < SIM_ERR_N; e++)
		if (r->connect_errors[e])
			fprintf(f, ", %s %s", units_fmt_count(b, sizeof(b), r->connect_errors[e]),
				sim_err_name((enum SIM_ERR)e));
	if (r->first_failure_ns >= 0)
		fprintf(f, " (first failure at %.1fs)", (double)r->first_failure_ns / 1e9);
	fprintf(f, "\n");
	if (r->latency.count)
		fprintf(f, "connect latency: p50 %s, p99 %s, max %s\n",
			units_fmt_duration(a, sizeof(a), (int64_t)hist_percentile(&r->latency, 50)),
			units_fmt_duration(b, sizeof(b), (int64_t)hist_percentile(&r->latency, 99)),
			units_fmt_duration(d, sizeof(d), (int64_t)r->latency.max));
	if (r->latency_over[0]) {
		bool waited = false;
		for (int i = 0; i < r->nhosts; i++)
			waited |= r->hosts[i].cpu.queued > 0;
		fprintf(f, "slow connects (SYN retransmitted%s):",
			waited ? ", or waiting for a busy core" : "");
		for (int k = 0; k < SIM_LAT_STEPS && r->latency_over[k]; k++)
			fprintf(f, " >=%ds %s", sim_latency_steps_s[k],
				units_fmt_count(a, sizeof(a), r->latency_over[k]));
		fprintf(f, "\n");
	}
	if (r->syn_dropped)
		fprintf(f, "SYNs dropped by tcp_tw_recycle (PAWSPassive): %s\n",
			units_fmt_count(a, sizeof(a), r->syn_dropped));
	gateways_text(f, sc, r);
	for (int i = 0; i < r->nhosts; i++)
		connect_text(f, r, &r->hosts[i]);
	fprintf(f, "\n%-14s %-6s %-7s %12s %10s %11s\n", "host", "kind", "kernel", "TIME-WAIT max",
		"estab max", "TW memory");
	for (int i = 0; i < r->nhosts; i++) {
		const struct sim_host_result *h = &r->hosts[i];
		fprintf(f, "%-14s %-6s %-7s %12s %10s %11s\n", h->name, kind_str[h->kind],
			h->profile[0] ? h->profile : "-",
			units_fmt_count(a, sizeof(a), h->time_wait_max),
			units_fmt_count(b, sizeof(b), h->established_max),
			units_fmt_bytes(d, sizeof(d), h->mem_max));
	}
	fprintf(f, "\ncounters (nonzero):\n");
	for (int i = 0; i < r->nhosts; i++) {
		int n = counters_list(&r->hosts[i].c, cl), shown = 0;
		for (int k = 0; k < n; k++) {
			if (!cl[k].v)
				continue;
			if (!shown++)
				fprintf(f, "  %s:", r->hosts[i].name);
			fprintf(f, " %s=%llu", cl[k].name, (unsigned long long)cl[k].v);
		}
		if (shown)
			fprintf(f, "\n");
	}
}

/* summary.gateway_drops {reason: count} over the cloud gateways, only when there are any */
static void gateway_drops_json(struct jw *w, const struct sim_result *r)
{
	uint64_t sum[NATGW_DROP_N] = { 0 };
	bool any = false;
	for (int i = 0; i < r->nhosts; i++) {
		if (!r->hosts[i].gateway)
			continue;
		any = true;
		for (int k = 0; k < NATGW_DROP_N; k++)
			sum[k] += r->hosts[i].gw_drop[k];
	}
	if (!any)
		return;
	jw_obj_begin(w, "gateway_drops");
	for (int k = 0; k < NATGW_DROP_N; k++)
		jw_uint(w, natgw_drop_name(k), sum[k]);
	jw_obj_end(w);
}

/* hosts[].gateway of a cloud gateway: its limits as resolved, its drops, its peak */
static void gateway_json(struct jw *w, const struct sim_scenario *sc, int i,
			 const struct sim_host_result *h)
{
	jw_obj_begin(w, "gateway");
	if (i < sc->nnodes && sc->nodes[i].gw_profile[0])
		jw_str(w, "profile", sc->nodes[i].gw_profile);
	else
		jw_null(w, "profile");
	jw_uint(w, "ips", h->gw.ips);
	jw_uint(w, "ports_per_ip", h->gw.ports_per_ip);
	jw_uint(w, "ports_per_host", h->gw.ports_per_host);
	jw_uint(w, "max_per_destination", h->gw.max_per_destination);
	jw_double(w, "tcp_time_wait_timeout_s", (double)h->gw.tcp_time_wait_ns / 1e9, 3);
	jw_double(w, "idle_timeout_s", (double)h->gw.idle_ns / 1e9, 3);
	jw_uint(w, "peak_ports_per_destination", h->gw_peak);
	jw_obj_begin(w, "drops");
	for (int k = 0; k < NATGW_DROP_N; k++)
		jw_uint(w, natgw_drop_name(k), h->gw_drop[k]);
	jw_obj_end(w);
	jw_obj_end(w);
}

void sim_report_json(FILE *f, const struct sim_scenario *sc, const struct sim_result *r,
		     bool with_series)
{
	struct jw w;
	jw_init(&w, f, true);
	sim_report_json_obj(&w, NULL, sc, r, with_series);
	jw_finish(&w);
}

void sim_report_json_obj(struct jw *jw, const char *name, const struct sim_scenario *sc,
			 const struct sim_result *r, bool with_series)
{
	struct jw w = *jw; /* a value: the writer's state is copied back at the end */
	struct named cl[24];
	jw_obj_begin(&w, name);
	jw_str(&w, "schema", "twkit.sim/1");
	jw_str(&w, "scenario", sc->name);
	jw_str(&w, "source", sc->file);
	jw_uint(&w, "seed", sc->seed);
	jw_double(&w, "duration_s", (double)r->duration_ns / 1e9, 3);
	jw_obj_begin(&w, "summary");
	jw_uint(&w, "connections_ok", r->connections_ok);
	jw_obj_begin(&w, "connect_errors");
	for (int e = 0; e < SIM_ERR_N; e++)
		jw_uint(&w, sim_err_name((enum SIM_ERR)e), r->connect_errors[e]);
	jw_obj_end(&w);
	if (r->first_failure_ns >= 0)
		jw_double(&w, "first_failure_s", (double)r->first_failure_ns / 1e9, 3);
	else
		jw_null(&w, "first_failure_s");
	jw_uint(&w, "syn_dropped", r->syn_dropped);
	gateway_drops_json(&w, r);
	jw_uint(&w, "syn_retrans", r->syn_retrans);
	jw_uint(&w, "attempts", r->attempts);
	jw_obj_begin(&w, "latency_ms");
	jw_uint(&w, "count", r->latency.count);
	jw_double(&w, "p50", (double)hist_percentile(&r->latency, 50) / 1e6, 3);
	jw_double(&w, "p90", (double)hist_percentile(&r->latency, 90) / 1e6, 3);
	jw_double(&w, "p99", (double)hist_percentile(&r->latency, 99) / 1e6, 3);
	jw_double(&w, "max", (double)(r->latency.count ? r->latency.max : 0) / 1e6, 3);
	for (int k = 0; k < SIM_LAT_STEPS; k++) {
		char key[24];
		snprintf(key, sizeof(key), "over_%ds", sim_latency_steps_s[k]);
		jw_uint(&w, key, r->latency_over[k]);
	}
	jw_obj_end(&w);
	jw_obj_end(&w);
	jw_arr_begin(&w, "hosts");
	for (int i = 0; i < r->nhosts; i++) {
		const struct sim_host_result *h = &r->hosts[i];
		int n = counters_list(&h->c, cl);
		jw_obj_begin(&w, NULL);
		jw_str(&w, "name", h->name);
		jw_str(&w, "kind", kind_str[h->kind]);
		if (h->profile[0])
			jw_str(&w, "kernel", h->profile);
		else
			jw_null(&w, "kernel");
		jw_uint(&w, "machines", h->hosts);
		jw_uint(&w, "time_wait_max", h->time_wait_max);
		jw_uint(&w, "established_max", h->established_max);
		jw_uint(&w, "time_wait_mem_max_bytes", h->mem_max);
		jw_obj_begin(&w, "counters");
		for (int k = 0; k < n; k++)
			jw_uint(&w, cl[k].name, cl[k].v);
		jw_obj_end(&w);
		if (h->gateway)
			gateway_json(&w, sc, i, h);
		if (h->cpu.calls) {
			const struct sim_connect_cpu *cc = &h->cpu;
			double per = (double)cc->cpu_ns / (double)cc->calls;
			jw_obj_begin(&w, "connect");
			jw_uint(&w, "calls", cc->calls);
			jw_obj_begin(&w, "probes");
			jw_double(&w, "mean", hist_mean(&cc->probes), 2);
			jw_uint(&w, "p50", hist_percentile(&cc->probes, 50));
			jw_uint(&w, "p99", hist_percentile(&cc->probes, 99));
			jw_uint(&w, "max", cc->probes.max);
			jw_obj_end(&w);
			jw_uint(&w, "connect_probe_ns", cc->probe_ns);
			jw_uint(&w, "connect_base_ns", cc->base_ns);
			jw_double(&w, "cpu_s", (double)cc->cpu_ns / 1e9, 6);
			jw_double(&w, "cpu_us_per_connect", per / 1e3, 3);
			jw_double(&w, "sys_us_per_conn", sim_sys_us_per_conn(h), 3);
			jw_double(&w, "core_share", cpu_share(r, h), 4);
			jw_double(&w, "cpu_rate_max", tw_connect_cpu_rate((uint64_t)per), 1);
			jw_bool(&w, "cpu_bound", cpu_bound(r, h));
			jw_uint(&w, "queued", cc->queued);
			jw_uint(&w, "dropped", cc->dropped);
			jw_uint(&w, "backlog_max", cc->backlog_max);
			jw_obj_end(&w);
		}
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	/* the simulator's own cost (bench/sim-speed) */
	jw_obj_begin(&w, "engine");
	jw_uint(&w, "events", r->events);
	jw_uint(&w, "time_wait_records_peak", r->tw_records_peak);
	jw_uint(&w, "state_bytes", r->sim_bytes_peak);
	jw_obj_end(&w);
	jw_obj_begin(&w, "series");
	if (with_series)
		for (int i = 0; i < r->nhosts; i++)
			series_write_json(&r->hosts[i].series, &w, r->hosts[i].name);
	jw_obj_end(&w);
	jw_obj_end(&w);
	*jw = w;
}
