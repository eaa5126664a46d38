/*
 * lab_compare — sim beside the lab (see lab_compare.h).
 * Why these three numbers: they are what each scenario is about (how many TIME-WAIT pile up,
 * when the port budget runs out, what rate survives), and they do not depend on the 1 s
 * sampling phase as a per-second curve would.
 */
#include "lab/lab_compare.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

double lab_rel_diff(double lab, double sim)
{
	if (lab == sim)
		return 0;
	if (sim <= 0 || lab < 0)
		return NAN;
	return (lab - sim) / sim;
}

double lab_sim_first_ean(const struct sim_result *sr, const char *node)
{
	const struct sim_host_result *h = lab_sim_host(sr, node);
	int col, okc;

	if (!h)
		return -1;
	if (h->kind == SIM_NODE_CLIENT && sr->first_failure_ns >= 0 &&
	    sr->connect_errors[SIM_ERR_EADDRNOTAVAIL] > 0)
		return (double)sr->first_failure_ns / 1e9; /* exact, not per second */
	col = series_col(&h->series, "eaddrnotavail");
	okc = series_col(&h->series, "new_ok");
	if (col < 0)
		return -1;
	/* the same reading of a per-second row as the lab's (lab_run.c): row t covers
	 * (t-1, t], successes first, then failures */
	for (size_t r = 0; r < h->series.nrows; r++) {
		double bad = series_get(&h->series, r, col), ok, t0;

		if (bad <= 0)
			continue;
		ok = okc >= 0 ? series_get(&h->series, r, okc) : 0;
		t0 = r > 0 ? h->series.t[r - 1] : 0;
		return t0 + (h->series.t[r] - t0) * (ok / (ok + bad));
	}
	return -1;
}

static void add_row_tol(struct lab_fidelity *f, const char *metric, double lab, double sim,
			double tol, bool checked)
{
	struct lab_fidelity_row *r;

	if (f->n >= LAB_MAX_FIDELITY)
		return;
	r = &f->row[f->n++];
	snprintf(r->metric, sizeof(r->metric), "%s", metric);
	r->lab = lab;
	r->sim = sim;
	r->rel = lab_rel_diff(lab, sim);
	r->tol = tol;
	r->checked = checked;
	r->ok = !isnan(r->rel) && fabs(r->rel) <= tol;
	if (!r->ok && checked)
		f->all_ok = false;
}

static void add_row(struct lab_fidelity *f, const char *metric, double lab, double sim)
{
	add_row_tol(f, metric, lab, sim, LAB_FIDELITY_TOL, true);
}

void lab_fidelity_compute(const struct lab_result *lr, const struct sim_result *sr,
			  int64_t duration_ns, bool check_sys, struct lab_fidelity *f)
{
	double sim_first = -1, dur = (double)duration_ns / 1e9;
	char metric[64];

	memset(f, 0, sizeof(*f));
	f->all_ok = true;
	for (int i = 0; i < lr->nhosts; i++) {
		const struct sim_host_result *h = lab_sim_host(sr, lr->hosts[i].node);

		snprintf(metric, sizeof(metric), "time_wait_plateau %s", lr->hosts[i].node);
		add_row(f, metric, lr->hosts[i].time_wait_max, h ? (double)h->time_wait_max : -1);
	}
	/* where the lab saw it first (client or balancer); else sim's first failure anywhere */
	if (lr->first_eaddrnotavail_at[0])
		sim_first = lab_sim_first_ean(sr, lr->first_eaddrnotavail_at);
	if (sim_first < 0 && sr->connect_errors[SIM_ERR_EADDRNOTAVAIL] > 0)
		sim_first = sr->first_failure_ns >= 0 ? (double)sr->first_failure_ns / 1e9 : -1;
	add_row(f, "first_eaddrnotavail_s", lr->first_eaddrnotavail_s, sim_first);
	add_row(f, "rate", dur > 0 ? (double)lr->completed / dur : 0,
		dur > 0 ? (double)sr->connections_ok / dur : 0);
	/* the client's kernel CPU per completed connection: its process's ru_stime over what
	 * it completed, against sim's price of its connects (model/portsearch.h) */
	if (lr->client_sys_s >= 0 && lr->completed > 0 && lr->nhosts > 0) {
		const struct sim_host_result *c = lab_sim_host(sr, lr->hosts[0].node);
		add_row_tol(f, "sys_us_per_conn", lr->client_sys_s * 1e6 / (double)lr->completed,
			    c ? sim_sys_us_per_conn(c) : -1, LAB_FIDELITY_SYS_TOL, check_sys);
	}
}

int lab_compare_sim(const struct sim_scenario *sc, const char *release, struct sim_result *sr,
		    char *err, size_t errlen)
{
	struct sim_config cfg = { .sc = sc, .host_release = release };
	int rc;

	memset(sr, 0, sizeof(*sr));
	rc = sim_run(&cfg, sr);
	if (rc < 0)
		snprintf(err, errlen, "sim could not run '%s': %s", sc->name, strerror(-rc));
	return rc;
}

const struct sim_host_result *lab_sim_host(const struct sim_result *sr, const char *node)
{
	return sim_result_host(sr, node);
}

void lab_sim_fini(struct sim_result *sr)
{
	sim_result_fini(sr);
}
