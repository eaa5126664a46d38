/*
 * lab_report — text, JSON and plot of a lab run (see lab_report.h).
 */
#include "lab/lab_report.h"

#include <math.h>
#include <string.h>

#include "common/jsonw.h"
#include "common/units.h"

static const char *const kind_names[] = { "client", "nat", "l4lb", "l7lb", "server" };

static const char *kind_name(enum SIM_NODE_KIND k)
{
	return (unsigned)k < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[k] : "?";
}

static void fmt_rel(char *buf, size_t len, double rel)
{
	if (isnan(rel))
		snprintf(buf, len, "n/a");
	else
		snprintf(buf, len, "%+.1f%%", rel * 100);
}

void lab_report_keep_hint(FILE *f, const struct lab_topo *t)
{
	fprintf(f, "\nKept for inspection (--keep); its processes are stopped:\n");
	for (int i = 0; i < t->n; i++)
		fprintf(f, "  ip netns exec %s ss -tan      # enter with: ip netns exec %s bash\n",
			t->ns[i], t->ns[i]);
	fprintf(f, "Remove with:\n ");
	for (int i = 0; i < t->n; i++)
		fprintf(f, " ip netns delete %s;", t->ns[i]);
	fprintf(f, "\n");
}

/* --doctor: each host's findings at each sample, then each check beside the measurement. */
static void text_doctor(FILE *f, const struct lab_doctor *d)
{
	fprintf(f, "\ndoctor in the lab (twkit doctor --json in each namespace):\n");
	for (int h = 0; h < d->nhosts; h++)
		for (int k = 0; k < LAB_DOC_SAMPLES; k++) {
			const struct lab_doc_sample *s = &d->s[h][k];

			fprintf(f, "  %-8s", k ? "" : d->host[h]);
			if (!s->have) {
				fprintf(f, " no sample: %s\n", s->error[0] ? s->error : "not taken");
				continue;
			}
			fprintf(f, " at %5.1f s:", s->at_s);
			if (!s->nfind)
				fprintf(f, " no finding");
			for (int i = 0; i < s->nfind; i++) {
				fprintf(f, "%s %s %s", i ? "," : "", s->f[i].id,
					lab_doc_sev_name(s->f[i].sev));
				if (s->f[i].eta_s >= 0)
					fprintf(f, " (eta %.1f s)", s->f[i].eta_s);
			}
			fprintf(f, "\n");
		}
	fprintf(f, "  %-8s %-14s %-40s %-40s %s\n", "host", "check", "doctor", "lab", "");
	for (int i = 0; i < d->nchecks; i++) {
		const struct lab_doc_check *c = &d->c[i];

		fprintf(f, "  %-8s %-14s %-40s %-40s %s\n", c->host, c->metric, c->doctor, c->lab,
			c->agrees ? "agrees" : "DISAGREES");
	}
	fprintf(f, "  doctor %s the lab on every host\n", d->all_agree ? "agrees with" : "does NOT agree with");
}

void lab_report_text(FILE *f, const struct lab_report *r)
{
	const struct lab_result *l = r->lab;
	char a[32], b[32];

	fprintf(f, "twkit lab %s  (kernel %s, %s of traffic at %s)\n", r->entry->name,
		l->release, units_fmt_duration(a, sizeof(a), r->plan->duration_ns),
		units_fmt_rate(b, sizeof(b), r->plan->rate));
	fprintf(f, "  %s\n\n", r->entry->summary);
	fprintf(f, "%-8s %-6s %10s %12s %10s %10s %12s\n", "host", "role", "TIME-WAIT",
		"max TW", "estab max", "TW overfl", "TWRecycled");
	for (int i = 0; i < l->nhosts; i++) {
		const struct lab_host_result *h = &l->hosts[i];

		fprintf(f, "%-8s %-6s %10u %12u %10u %10llu %12llu\n", h->node, kind_name(h->kind),
			h->last.time_wait, h->time_wait_max, h->established_max,
			(unsigned long long)h->last.tw_overflow,
			(unsigned long long)h->last.tw_recycled);
	}
	fprintf(f, "\nclient traffic: %llu attempted, %llu completed, %llu failed",
		(unsigned long long)l->attempted, (unsigned long long)l->completed,
		(unsigned long long)l->failed);
	for (int i = 0; i < l->nerr; i++)
		fprintf(f, "%s%s %llu", i ? ", " : " (", l->errs[i].name,
			(unsigned long long)l->errs[i].n);
	fprintf(f, "%s; %.1f connections/s\n", l->nerr ? ")" : "", l->rate);
	if (r->topo->relay)
		fprintf(f, "L7 balancer (%s): %llu backend connections, %llu failed "
			   "(EADDRNOTAVAIL %llu)\n",
			l->relay ? l->relay : "twkit", (unsigned long long)l->relay_ok, (unsigned long long)l->relay_fail,
			(unsigned long long)l->relay_eaddrnotavail);
	if (l->first_eaddrnotavail_s >= 0)
		fprintf(f, "first EADDRNOTAVAIL: %.1f s, on %s\n", l->first_eaddrnotavail_s,
			l->first_eaddrnotavail_at);
	else
		fprintf(f, "no EADDRNOTAVAIL\n");
	if (l->interrupted)
		fprintf(f, "(interrupted: the numbers cover the run so far)\n");
	if (r->sim && r->fid) {
		fprintf(f, "\n%-6s", "t");
		for (int i = 0; i < l->nhosts; i++)
			fprintf(f, " %9s %9s", l->hosts[i].node, "sim");
		fprintf(f, "   (TIME-WAIT per second)\n");
		for (size_t row = 0; row < l->hosts[0].series.nrows; row++) {
			double t = l->hosts[0].series.t[row];

			fprintf(f, "%-6.0f", t);
			for (int i = 0; i < l->nhosts; i++) {
				const struct sim_host_result *sh =
					lab_sim_host(r->sim, l->hosts[i].node);
				int sc = sh ? series_col(&sh->series, "time_wait") : -1;
				double sv = NAN;

				for (size_t k = 0; sc >= 0 && k < sh->series.nrows; k++)
					if (fabs(sh->series.t[k] - t) < 0.5)
						sv = series_get(&sh->series, k, sc);
				fprintf(f, " %9.0f %9.0f",
					series_get(&l->hosts[i].series, row, 0), sv);
			}
			fprintf(f, "\n");
		}
		fprintf(f, "\nfidelity (lab vs sim, profile host):\n");
		fprintf(f, "  %-28s %12s %12s %9s\n", "metric", "lab", "sim", "diff");
		for (int i = 0; i < r->fid->n; i++) {
			const struct lab_fidelity_row *x = &r->fid->row[i];
			char rel[32];

			fmt_rel(rel, sizeof(rel), x->rel);
			fprintf(f, "  %-28s %12.1f %12.1f %9s %s\n", x->metric, x->lab, x->sim, rel,
				x->ok ? "ok"
				: !x->checked ? "(shown, not checked)"
				: x->tol > LAB_FIDELITY_TOL ? "OUTSIDE ±25%" : "OUTSIDE ±10%");
		}
	}
	if (r->doctor)
		text_doctor(f, r->doctor);
	if (r->kept)
		lab_report_keep_hint(f, r->topo);
}

static void json_counters(struct jw *w, const struct klab_sample *s)
{
	jw_obj_begin(w, "counters");
	jw_uint(w, "TcpExt.TW", s->tw);
	jw_uint(w, "TcpExt.TWRecycled", s->tw_recycled);
	jw_uint(w, "TcpExt.TCPTimeWaitOverflow", s->tw_overflow);
	jw_uint(w, "Tcp.ActiveOpens", s->active_opens);
	jw_uint(w, "Tcp.PassiveOpens", s->passive_opens);
	jw_uint(w, "Tcp.EstabResets", s->estab_resets);
	jw_obj_end(w);
}

static void json_compare(struct jw *w, const struct lab_report *r)
{
	jw_obj_begin(w, "compare");
	jw_str(w, "profile", "host");
	jw_obj_begin(w, "sim");
	jw_uint(w, "connections_ok", r->sim->connections_ok);
	jw_obj_begin(w, "connect_errors");
	jw_uint(w, "EADDRNOTAVAIL", r->sim->connect_errors[SIM_ERR_EADDRNOTAVAIL]);
	jw_uint(w, "ETIMEDOUT", r->sim->connect_errors[SIM_ERR_ETIMEDOUT]);
	jw_uint(w, "ECONNRESET", r->sim->connect_errors[SIM_ERR_ECONNRESET]);
	jw_obj_end(w);
	jw_double(w, "first_failure_s",
		  r->sim->first_failure_ns >= 0 ? (double)r->sim->first_failure_ns / 1e9 : -1, 3);
	jw_arr_begin(w, "hosts");
	for (int i = 0; i < r->sim->nhosts; i++) {
		const struct sim_host_result *h = &r->sim->hosts[i];

		jw_obj_begin(w, NULL);
		jw_str(w, "name", h->name);
		jw_uint(w, "time_wait_max", h->time_wait_max);
		if (h->cpu.calls) {
			jw_double(w, "connect_probes_mean", hist_mean(&h->cpu.probes), 2);
			jw_double(w, "sys_us_per_conn", sim_sys_us_per_conn(h), 3);
		}
		series_write_json(&h->series, w, "series");
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_obj_end(w);
	jw_arr_begin(w, "fidelity");
	for (int i = 0; i < r->fid->n; i++) {
		const struct lab_fidelity_row *x = &r->fid->row[i];

		jw_obj_begin(w, NULL);
		jw_str(w, "metric", x->metric);
		jw_double(w, "lab", x->lab, 3);
		jw_double(w, "sim", x->sim, 3);
		jw_double(w, "rel_diff", x->rel, 4);
		jw_bool(w, "within_10pct", x->ok || !x->checked);
		jw_double(w, "tolerance", x->tol, 2);
		jw_bool(w, "within_tolerance", x->ok);
		jw_bool(w, "checked", x->checked);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_bool(w, "all_within_10pct", r->fid->all_ok);
	jw_obj_end(w);
}

/* twkit.lab/1 "doctor": {hosts: [{host, at_s, findings: [{id, severity, eta_s}]}],
 * checks: [{metric, doctor, lab, agrees}], all_agree} */
static void json_doctor(struct jw *w, const struct lab_doctor *d)
{
	jw_obj_begin(w, "doctor");
	jw_arr_begin(w, "hosts");
	for (int h = 0; h < d->nhosts; h++)
		for (int k = 0; k < LAB_DOC_SAMPLES; k++) {
			const struct lab_doc_sample *s = &d->s[h][k];

			jw_obj_begin(w, NULL);
			jw_str(w, "host", d->host[h]);
			jw_double(w, "at_s", s->at_s, 2);
			if (!s->have)
				jw_str(w, "error", s->error[0] ? s->error : "not taken");
			jw_arr_begin(w, "findings");
			for (int i = 0; s->have && i < s->nfind; i++) {
				jw_obj_begin(w, NULL);
				jw_str(w, "id", s->f[i].id);
				jw_str(w, "severity", lab_doc_sev_name(s->f[i].sev));
				if (s->f[i].eta_s >= 0)
					jw_double(w, "eta_s", s->f[i].eta_s, 2);
				else
					jw_null(w, "eta_s");
				jw_obj_end(w);
			}
			jw_arr_end(w);
			jw_obj_end(w);
		}
	jw_arr_end(w);
	jw_arr_begin(w, "checks");
	for (int i = 0; i < d->nchecks; i++) {
		jw_obj_begin(w, NULL);
		jw_str(w, "host", d->c[i].host);
		jw_str(w, "metric", d->c[i].metric);
		jw_str(w, "doctor", d->c[i].doctor);
		jw_str(w, "lab", d->c[i].lab);
		jw_bool(w, "agrees", d->c[i].agrees);
		jw_obj_end(w);
	}
	jw_arr_end(w);
	jw_bool(w, "all_agree", d->all_agree);
	jw_obj_end(w);
}

void lab_report_json(FILE *f, const struct lab_report *r)
{
	const struct lab_result *l = r->lab;
	struct jw w;

	jw_init(&w, f, true);
	jw_obj_begin(&w, NULL);
	jw_str(&w, "schema", "twkit.lab/1");
	jw_str(&w, "scenario", r->entry->name);
	jw_str(&w, "sim_scenario", r->entry->sim_name);
	jw_str(&w, "kernel", l->release);
	jw_double(&w, "duration_s", (double)r->plan->duration_ns / 1e9, 3);
	jw_double(&w, "elapsed_s", l->elapsed_s, 3);
	jw_double(&w, "rate_asked", r->plan->rate, 3);
	jw_bool(&w, "interrupted", l->interrupted);
	jw_bool(&w, "kept", r->kept);
	jw_obj_begin(&w, "traffic");
	jw_uint(&w, "attempted", l->attempted);
	jw_uint(&w, "completed", l->completed);
	jw_obj_begin(&w, "failed");
	for (int i = 0; i < l->nerr; i++)
		jw_uint(&w, l->errs[i].name, l->errs[i].n);
	jw_obj_end(&w);
	jw_uint(&w, "failed_total", l->failed);
	jw_double(&w, "rate", l->rate, 2);
	if (l->first_eaddrnotavail_s >= 0) {
		jw_double(&w, "first_eaddrnotavail_s", l->first_eaddrnotavail_s, 3);
		jw_str(&w, "first_eaddrnotavail_on", l->first_eaddrnotavail_at);
	} else {
		jw_null(&w, "first_eaddrnotavail_s");
		jw_null(&w, "first_eaddrnotavail_on");
	}
	jw_obj_end(&w);
	if (r->topo->relay) {
		jw_obj_begin(&w, "l7_balancer");
		jw_uint(&w, "backend_ok", l->relay_ok);
		jw_uint(&w, "backend_failed", l->relay_fail);
		jw_uint(&w, "EADDRNOTAVAIL", l->relay_eaddrnotavail);
		jw_str(&w, "relay", l->relay ? l->relay : "twkit");
		jw_obj_end(&w);
	}
	jw_arr_begin(&w, "hosts");
	for (int i = 0; i < l->nhosts; i++) {
		const struct lab_host_result *h = &l->hosts[i];

		jw_obj_begin(&w, NULL);
		jw_str(&w, "name", h->node);
		jw_str(&w, "role", kind_name(h->kind));
		jw_str(&w, "namespace", h->ns);
		jw_uint(&w, "time_wait_max", h->time_wait_max);
		jw_uint(&w, "time_wait_end", h->last.time_wait);
		jw_uint(&w, "established_max", h->established_max);
		json_counters(&w, &h->last);
		jw_obj_begin(&w, "sysctls");
		for (int k = 0; k < r->plan->hosts[i].nsysctl; k++)
			jw_str(&w, r->plan->hosts[i].sysctl[k].name,
			       r->plan->hosts[i].sysctl[k].value);
		jw_obj_end(&w);
		series_write_json(&h->series, &w, "series");
		jw_obj_end(&w);
	}
	jw_arr_end(&w);
	if (r->sim && r->fid)
		json_compare(&w, r);
	if (r->doctor)
		json_doctor(&w, r->doctor);
	jw_obj_end(&w);
	jw_finish(&w);
}

int lab_report_series(const struct lab_report *r, struct series *out)
{
	static const char *const cols[] = { "time_wait", "new_ok", "eaddrnotavail" };
	const struct lab_result *l = r->lab;
	char names[SERIES_MAX_COLS][64];
	const char *np[SERIES_MAX_COLS];
	int src[SERIES_MAX_COLS], host[SERIES_MAX_COLS], n = 0, rc;

	for (int i = 0; i < l->nhosts; i++) {
		for (int c = 0; c < 3; c++) {
			snprintf(names[n], sizeof(names[n]), "%s.%s", l->hosts[i].node, cols[c]);
			host[n] = i;
			src[n++] = series_col(&l->hosts[i].series, cols[c]);
		}
		if (r->sim) {
			snprintf(names[n], sizeof(names[n]), "sim.%s.time_wait", l->hosts[i].node);
			host[n] = i;
			src[n++] = -2; /* from sim */
		}
	}
	for (int k = 0; k < n; k++)
		np[k] = names[k];
	rc = series_init(out, n, np);
	if (rc < 0)
		return rc;
	for (size_t row = 0; row < l->hosts[0].series.nrows; row++) {
		double v[SERIES_MAX_COLS], t = l->hosts[0].series.t[row];

		for (int k = 0; k < n; k++) {
			const struct lab_host_result *h = &l->hosts[host[k]];

			v[k] = 0;
			if (src[k] >= 0 && row < h->series.nrows) {
				v[k] = series_get(&h->series, row, src[k]);
			} else if (src[k] == -2) {
				const struct sim_host_result *sh = lab_sim_host(r->sim, h->node);
				int sc = sh ? series_col(&sh->series, "time_wait") : -1;

				for (size_t j = 0; sc >= 0 && j < sh->series.nrows; j++)
					if (fabs(sh->series.t[j] - t) < 0.5)
						v[k] = series_get(&sh->series, j, sc);
			}
		}
		rc = series_add(out, t, v);
		if (rc < 0)
			return rc;
	}
	return 0;
}
