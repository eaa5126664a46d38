/*
 * lab_plot — what `twkit lab --svg` draws: per host where something changes, TIME-WAIT (with
 * the client's 4-tuple budget from model/budget.h), new and failed connections per second,
 * and the TIME-WAIT counters; with --compare, sim's run of the same scenario on the same
 * axes (same colour per host, sim dashed), so where the two differ shows at a glance.
 * The lab's and sim's series are read through views (struct copies sharing their arrays) on
 * which the plot's columns are named; neither result is changed.
 */
#include "lab/lab_report.h"

#include <stdio.h>
#include <string.h>

#include "lab/lab_compare.h"
#include "model/budget.h"

struct col_plot {
	const char *col, *panel, *unit, *label;
	unsigned flags;
};

/* lab_run.c's columns; tw_overflow and tw_recycled are the namespace's running totals */
static const struct col_plot lab_cols[] = {
    {"time_wait", "TIME-WAIT", "sockets", "TIME-WAIT", 0},
    {"established", "open connections", "sockets", "open connections", 0},
    {"new_ok", "new connections", "connections/s", "new connections", 0},
    {"eaddrnotavail", "failed connect()", "connections/s", "EADDRNOTAVAIL", SERIES_FAIL},
    {"tw_overflow", "TIME-WAIT skipped or reused, in all", "sockets", "TCPTimeWaitOverflow", 0},
    {"tw_recycled", "TIME-WAIT skipped or reused, in all", "sockets", "TWRecycled", 0},
};

/* sim's columns the lab also measures; sim's other ones (per-second counters the lab keeps
 * as totals, SYN counters it does not sample) stay out of a comparison */
static const struct col_plot sim_cols[] = {
    {"time_wait", "TIME-WAIT", "sockets", "TIME-WAIT", 0},
    {"established", "open connections", "sockets", "open connections", 0},
    {"new_ok", "new connections", "connections/s", "new connections", 0},
    {"eaddrnotavail", "failed connect()", "connections/s", "EADDRNOTAVAIL", SERIES_FAIL},
    {"etimedout", "failed connect()", "connections/s", "ETIMEDOUT", SERIES_FAIL},
};

static void describe(struct series *v, const struct col_plot *cols, size_t n, double tw_max)
{
	int ec;

	for (int c = 0; c < v->ncols; c++)
		v->plot[c] = (struct series_plot_col){NULL, NULL, NULL, SERIES_NOPLOT};
	for (size_t k = 0; k < n; k++)
		series_set_plot(v, cols[k].col, cols[k].panel, cols[k].unit, cols[k].label,
				cols[k].flags);
	/* a handful of open connections beside thousands of TIME-WAITs tells nothing */
	ec = series_col(v, "established");
	if (ec >= 0 && series_col_max(v, ec) < tw_max / 100)
		v->plot[ec].flags |= SERIES_NOPLOT;
	v->nrefs = 0;
}

static bool eventful(const struct series *s)
{
	for (int c = 0; c < s->ncols; c++) {
		const double *v = s->data + c;
		if (s->plot[c].flags & SERIES_NOPLOT)
			continue;
		if (plot_values_vary(v, s->nrows, (size_t)s->ncols) ||
		    ((s->plot[c].flags & SERIES_FAIL) &&
		     plot_values_nonzero(v, s->nrows, (size_t)s->ncols)))
			return true;
	}
	return false;
}

void lab_report_plot(const struct lab_report *r, const struct sim_scenario *sc, const char *release,
		     struct plot *p)
{
	struct series lv[LAB_MAX_HOSTS], sv[LAB_MAX_HOSTS];
	struct series_overlay o[PLOT_MAX_LINES];
	const struct lab_result *l = r->lab;
	char labels[PLOT_MAX_LINES][SIM_NAME_LEN + 8], skipped[120] = "";
	double tw_max = 0;
	int n = 0, nskip = 0, color = 0;
	size_t len;

	for (int i = 0; i < l->nhosts; i++)
		if (l->hosts[i].time_wait_max > tw_max)
			tw_max = l->hosts[i].time_wait_max;
	for (int i = 0; i < l->nhosts && i < LAB_MAX_HOSTS; i++) {
		const struct lab_host_result *h = &l->hosts[i];
		const struct sim_host_result *sh = r->sim ? lab_sim_host(r->sim, h->node) : NULL;
		struct tw_budget_out out;
		char blabel[PLOT_LABEL_LEN];
		bool lab_ev, sim_ev = false;
		int si = -1;

		lv[i] = h->series;
		describe(&lv[i], lab_cols, sizeof(lab_cols) / sizeof(lab_cols[0]), tw_max);
		for (int k = 0; sc && k < sc->nnodes; k++)
			if (!strcmp(sc->nodes[k].name, h->node))
				si = k;
		if (si >= 0 && sim_node_budget(sc, si, release, &out, blabel, sizeof(blabel)) == 0)
			series_add_ref(&lv[i], "TIME-WAIT", (double)out.tuples, blabel);
		lab_ev = eventful(&lv[i]);
		/* the first failure where the report places it (interpolated in its second) */
		if (l->first_eaddrnotavail_s >= 0 && !strcmp(l->first_eaddrnotavail_at, h->node)) {
			lv[i].first_fail_s = l->first_eaddrnotavail_s;
			lv[i].first_fail_known = true;
		}
		if (sh) {
			double ff = lab_sim_first_ean(r->sim, h->node);
			sv[i] = sh->series;
			describe(&sv[i], sim_cols, sizeof(sim_cols) / sizeof(sim_cols[0]), tw_max);
			sv[i].first_fail_known =
			    ff >= 0 && sh->c.connect_errors[SIM_ERR_ETIMEDOUT] == 0;
			sv[i].first_fail_s = ff;
			sim_ev = eventful(&sv[i]);
		}
		if ((!lab_ev && !sim_ev) || n + 2 > PLOT_MAX_LINES) {
			len = strlen(skipped);
			snprintf(skipped + len, sizeof(skipped) - len, "%s%s", nskip++ ? ", " : "",
				 h->node);
			continue;
		}
		snprintf(labels[n], sizeof(labels[n]), "%s%s", r->sim ? "lab " : "", h->node);
		o[n] = (struct series_overlay){&lv[i], labels[n],  color,
					       false,  sh ? 6 : 2, sh ? 0.4 : 0};
		n++;
		if (sh) {
			snprintf(labels[n], sizeof(labels[n]), "sim %s", h->node);
			o[n] = (struct series_overlay){&sv[i], labels[n], color, true, 2, 0};
			n++;
		}
		color = (color + 1) % PLOT_NCOLORS;
	}
	snprintf(p->subtitle, sizeof(p->subtitle), "%s; per second",
		 r->sim ? "lab solid, sim (same scenario, this kernel's era) dashed"
			: "measured in the lab's namespaces");
	if (l->release[0]) {
		len = strlen(p->subtitle);
		snprintf(p->subtitle + len, sizeof(p->subtitle) - len, "; kernel %s", l->release);
	}
	if (nskip) {
		len = strlen(p->subtitle);
		snprintf(p->subtitle + len, sizeof(p->subtitle) - len,
			 "; not shown, constant over the run: %s", skipped);
	}
	series_plot_overlay(o, n, p);
}
