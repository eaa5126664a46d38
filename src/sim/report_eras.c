/*
 * report_eras — `twkit sim NAME --kernel A,B,C`: the runs of one scenario on several kernel
 * eras, side by side (one column per era) or as one JSON document holding each era's
 * twkit.sim/1 document. Renders only: every number is a field of a sim_result.
 */
#include "sim/report.h"

#include <stdio.h>
#include <string.h>

#include "common/units.h"

#define LABEL_W 30
#define COL_W 13

static void row_label(FILE *f, const char *label)
{
	fprintf(f, "%-*.*s", LABEL_W, LABEL_W, label);
}

/* A row of counts, one per era. */
static void row_counts(FILE *f, const char *label, const uint64_t *v, int n)
{
	char b[32];

	row_label(f, label);
	for (int e = 0; e < n; e++)
		fprintf(f, " %*s", COL_W, units_fmt_count(b, sizeof(b), v[e]));
	fputc('\n', f);
}

static bool any(const uint64_t *v, int n)
{
	for (int e = 0; e < n; e++)
		if (v[e])
			return true;
	return false;
}

void sim_report_eras_text(FILE *f, const struct sim_scenario *const *sc,
			  const struct sim_result *const *r, int n)
{
	uint64_t v[32];
	char a[32], label[96];

	if (n < 1 || n > 32)
		return;
	fprintf(f, "scenario %s (%s): %s simulated, seed %llu, on %d kernel eras\n\n", sc[0]->name,
		sc[0]->file, units_fmt_duration(a, sizeof(a), r[0]->duration_ns),
		(unsigned long long)sc[0]->seed, n);
	row_label(f, "kernel");
	for (int e = 0; e < n; e++)
		fprintf(f, " %*s", COL_W, sc[e]->kernel);
	fputc('\n', f);
	/* an in-between version runs as an era: show which */
	bool mapped = false;
	for (int e = 0; e < n; e++)
		for (int i = 0; i < r[e]->nhosts; i++)
			if (r[e]->hosts[i].profile[0] &&
			    strcmp(r[e]->hosts[i].profile, sc[e]->kernel))
				mapped = true;
	if (mapped) {
		row_label(f, "  modelled as");
		for (int e = 0; e < n; e++) {
			const char *pn = "-";
			for (int i = 0; i < r[e]->nhosts && !strcmp(pn, "-"); i++)
				if (r[e]->hosts[i].profile[0])
					pn = r[e]->hosts[i].profile;
			fprintf(f, " %*s", COL_W, pn);
		}
		fputc('\n', f);
	}
	for (int e = 0; e < n; e++)
		v[e] = r[e]->connections_ok;
	row_counts(f, "connect() ok", v, n);
	for (int k = 0; k < SIM_ERR_N; k++) {
		for (int e = 0; e < n; e++)
			v[e] = r[e]->connect_errors[k];
		if (!any(v, n))
			continue;
		snprintf(label, sizeof(label), "connect() %s", sim_err_name((enum SIM_ERR)k));
		row_counts(f, label, v, n);
	}
	row_label(f, "first failure");
	for (int e = 0; e < n; e++) {
		if (r[e]->first_failure_ns >= 0)
			snprintf(a, sizeof(a), "%.1fs", (double)r[e]->first_failure_ns / 1e9);
		else
			snprintf(a, sizeof(a), "none");
		fprintf(f, " %*s", COL_W, a);
	}
	fputc('\n', f);
	static const struct {
		const char *label;
		double pct;
	} lat[] = {{"connect latency p50", 50}, {"connect latency p99", 99}};
	for (size_t k = 0; k < sizeof(lat) / sizeof(lat[0]); k++) {
		row_label(f, lat[k].label);
		for (int e = 0; e < n; e++)
			fprintf(f, " %*s", COL_W,
				r[e]->latency.count
				    ? units_fmt_duration(
					  a, sizeof(a),
					  (int64_t)hist_percentile(&r[e]->latency, lat[k].pct))
				    : "-");
		fputc('\n', f);
	}
	for (int e = 0; e < n; e++)
		v[e] = r[e]->latency_over[0];
	if (any(v, n))
		row_counts(f, "slow connects (>= 1 s)", v, n);
	for (int e = 0; e < n; e++)
		v[e] = r[e]->syn_dropped;
	if (any(v, n))
		row_counts(f, "SYNs dropped (PAWSPassive)", v, n);
	for (int e = 0; e < n; e++)
		v[e] = r[e]->syn_retrans;
	if (any(v, n))
		row_counts(f, "SYNs retransmitted", v, n);
	for (int i = 0; i < r[0]->nhosts; i++) {
		for (int e = 0; e < n; e++)
			v[e] = i < r[e]->nhosts ? r[e]->hosts[i].time_wait_max : 0;
		if (!any(v, n))
			continue;
		snprintf(label, sizeof(label), "TIME-WAIT max %s", r[0]->hosts[i].name);
		row_counts(f, label, v, n);
	}
	for (int i = 0; i < r[0]->nhosts; i++) {
		for (int e = 0; e < n; e++)
			v[e] = i < r[e]->nhosts ? r[e]->hosts[i].c.tw_recycled : 0;
		if (!any(v, n))
			continue;
		snprintf(label, sizeof(label), "TWRecycled %s", r[0]->hosts[i].name);
		row_counts(f, label, v, n);
	}
}

void sim_report_eras_json(FILE *f, const struct sim_scenario *const *sc,
			  const struct sim_result *const *r, int n, bool with_series)
{
	struct jw w;

	jw_init(&w, f, true);
	jw_obj_begin(&w, NULL);
	jw_str(&w, "schema", "twkit.sim-eras/1");
	jw_str(&w, "scenario", n > 0 ? sc[0]->name : "");
	jw_arr_begin(&w, "kernels");
	for (int e = 0; e < n; e++)
		jw_str(&w, NULL, sc[e]->kernel);
	jw_arr_end(&w);
	jw_obj_begin(&w, "eras");
	for (int e = 0; e < n; e++)
		sim_report_json_obj(&w, sc[e]->kernel, sc[e], r[e], with_series);
	jw_obj_end(&w);
	jw_obj_end(&w);
	jw_finish(&w);
}
