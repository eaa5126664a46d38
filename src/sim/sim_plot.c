/*
 * sim_plot — what `twkit sim --svg` draws: the per-second series of the hosts where something
 * happens (or of --host), grouped by what they count, with each connecting group's 4-tuple
 * budget (model/budget.h, through sim_node_budget) on the TIME-WAIT panel and the first
 * failure marked; and for --kernel A,B,C one host's series of every era on the same axes.
 * Renders nothing itself: it fills a struct plot (common/plot.h).
 */
#include "sim/report.h"

#include <stdio.h>
#include <string.h>

#include "common/units.h"
#include "model/budget.h"

/* engine.c's columns: which panel, unit and legend text each one takes */
static const struct {
	const char *col, *panel, *unit, *label;
	unsigned flags;
} cols[] = {
    {"time_wait", "TIME-WAIT", "sockets", "TIME-WAIT", 0},
    {"established", "open connections", "sockets", "open connections", 0},
    {"new_ok", "new connections", "connections/s", "new connections", 0},
    {"eaddrnotavail", "failed connect()", "connections/s", "EADDRNOTAVAIL", SERIES_FAIL},
    {"etimedout", "failed connect()", "connections/s", "ETIMEDOUT", SERIES_FAIL},
    {"paws_passive", "SYNs dropped and retried", "SYNs/s", "PAWSPassive (dropped)", 0},
    {"syn_retrans", "SYNs dropped and retried", "SYNs/s", "TCPSynRetrans", 0},
    {"tw_recycled", "TIME-WAIT skipped or reused", "sockets/s", "TWRecycled (reuse)", 0},
    {"tw_overflow", "TIME-WAIT skipped or reused", "sockets/s", "TCPTimeWaitOverflow", 0},
    /* TIME-WAIT times the bytes each takes: the TIME-WAIT panel already tells it */
    {"mem_bytes", "TIME-WAIT kernel memory", "bytes", "memory", SERIES_NOPLOT},
};

static bool failing(const struct sim_counters *c)
{
	for (int e = 0; e < SIM_ERR_N; e++)
		if (c->connect_errors[e])
			return true;
	return false;
}

/* The largest TIME-WAIT count of any host of r. */
static double tw_peak(const struct sim_result *r)
{
	double m = 0;
	for (int h = 0; h < r->nhosts; h++)
		if ((double)r->hosts[h].time_wait_max > m)
			m = (double)r->hosts[h].time_wait_max;
	return m;
}

/* Name columns and add the budget of host i to its series. */
static void describe(const struct sim_scenario *sc, struct sim_result *r, int i,
		     const char *release, double tw_max)
{
	struct series *s = &r->hosts[i].series;
	struct tw_budget_out out;
	char label[PLOT_LABEL_LEN];

	for (size_t k = 0; k < sizeof(cols) / sizeof(cols[0]); k++)
		series_set_plot(s, cols[k].col, cols[k].panel, cols[k].unit, cols[k].label,
				cols[k].flags);
	/* open connections hold ports too, but a handful beside TIME-WAIT counts in the
	 * thousands tells nothing: drawn when they reach 1% of the largest TIME-WAIT of the
	 * runs on the chart (tw_max) */
	int ec = series_col(s, "established");
	if (ec >= 0 && series_col_max(s, ec) < tw_max / 100)
		s->plot[ec].flags |= SERIES_NOPLOT;
	s->nrefs = 0;
	/* the run's exact first failure belongs to this host when no other one failed */
	s->first_fail_known = false;
	if (r->first_failure_ns >= 0 && failing(&r->hosts[i].c)) {
		int others = 0;
		for (int h = 0; h < r->nhosts; h++)
			others += h != i && failing(&r->hosts[h].c);
		s->first_fail_known = !others;
		s->first_fail_s = (double)r->first_failure_ns / 1e9;
	}
	if (i < sc->nnodes && !strcmp(sc->nodes[i].name, r->hosts[i].name) &&
	    sim_node_budget(sc, i, release, &out, label, sizeof(label)) == 0)
		series_add_ref(s, "TIME-WAIT", (double)out.tuples, label);
	/* §1.4: tcp_max_tw_buckets caps TIME-WAIT (the rest overflow): a line where it binds */
	if (i < sc->nnodes && !strcmp(sc->nodes[i].name, r->hosts[i].name)) {
		double cap = (double)sc->nodes[i].max_tw_buckets *
			     (r->hosts[i].hosts ? r->hosts[i].hosts : 1);
		char b[32];
		if (r->hosts[i].c.tw_overflow > 0 && cap > 0) {
			snprintf(label, sizeof(label), "tcp_max_tw_buckets %s%s",
				 units_fmt_count(b, sizeof(b), sc->nodes[i].max_tw_buckets),
				 r->hosts[i].hosts > 1 ? " per host" : "");
			series_add_ref(s, "TIME-WAIT", cap, label);
		}
	}
}

/* Whether anything in host i's series changes or fails. */
static bool eventful(const struct series *s)
{
	for (int c = 0; c < s->ncols; c++) {
		const double *v = s->data + c;
		size_t st = (size_t)s->ncols;
		if (s->plot[c].flags & SERIES_NOPLOT)
			continue;
		if (plot_values_vary(v, s->nrows, st) ||
		    ((s->plot[c].flags & SERIES_FAIL) && plot_values_nonzero(v, s->nrows, st)))
			return true;
	}
	return false;
}

void sim_plot_run(const struct sim_scenario *sc, struct sim_result *r, const char *release,
		  int host, struct plot *p)
{
	struct series_overlay o[PLOT_MAX_LINES];
	char skipped[120] = "";
	int n = 0, nskip = 0;
	size_t len;

	for (int i = 0; i < r->nhosts; i++) {
		describe(sc, r, i, release, tw_peak(r));
		if (host >= 0 && i != host)
			continue;
		if (host < 0 && (!eventful(&r->hosts[i].series) || n == PLOT_MAX_LINES)) {
			len = strlen(skipped);
			snprintf(skipped + len, sizeof(skipped) - len, "%s%s", nskip++ ? ", " : "",
				 r->hosts[i].name);
			continue;
		}
		o[n] = (struct series_overlay){
		    &r->hosts[i].series, r->hosts[i].name, n % PLOT_NCOLORS, false, 0, 0};
		n++;
	}
	snprintf(p->subtitle, sizeof(p->subtitle), "kernel %s, seed %llu; per simulated second",
		 sc->kernel, (unsigned long long)sc->seed);
	/* what the TIME-WAIT panel costs in kernel memory (mem_bytes is not drawn) */
	int mh = -1;
	for (int i = 0; i < r->nhosts; i++)
		if ((host < 0 || i == host) && r->hosts[i].mem_max &&
		    (mh < 0 || r->hosts[i].mem_max > r->hosts[mh].mem_max))
			mh = i;
	if (mh >= 0) {
		char b[32];
		len = strlen(p->subtitle);
		snprintf(p->subtitle + len, sizeof(p->subtitle) - len,
			 "; TIME-WAIT memory at the peak: %s on %s",
			 units_fmt_bytes(b, sizeof(b), r->hosts[mh].mem_max), r->hosts[mh].name);
	}
	if (nskip) {
		len = strlen(p->subtitle);
		snprintf(p->subtitle + len, sizeof(p->subtitle) - len,
			 "; not shown, constant over the run: %s", skipped);
	}
	series_plot_overlay(o, n, p);
}

void sim_plot_eras(const struct sim_scenario *const *sc, struct sim_result *const *r, int n,
		   const char *release, int host, struct plot *p)
{
	struct series_overlay o[PLOT_MAX_LINES];
	double tw = 0;
	int m = 0;

	for (int e = 0; e < n; e++)
		tw = tw_peak(r[e]) > tw ? tw_peak(r[e]) : tw;
	for (int e = 0; e < n && m < PLOT_MAX_LINES; e++) {
		describe(sc[e], r[e], host, release, tw);
		o[m] = (struct series_overlay){
		    &r[e]->hosts[host].series, sc[e]->kernel, m % PLOT_NCOLORS, false, 0, 0};
		m++;
	}
	snprintf(p->subtitle, sizeof(p->subtitle),
		 "one colour per era (the first drawn widest, so lines that coincide stay "
		 "visible); seed %llu; per simulated second",
		 n > 0 ? (unsigned long long)sc[0]->seed : 0);
	series_plot_overlay(o, m, p);
}
