/*
 * watch_plot — doctor --watch --svg (see watch_plot.h). Invariant: every group's arrays hold
 * nrows values (NaN before it joined and in looks where it was not among the top groups), so
 * a group's line and the time axis stay aligned.
 */
#include "doctor/watch_plot.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/plot.h"
#include "common/units.h"

void doc_watch_plot_init(struct doc_watch_plot *w)
{
	memset(w, 0, sizeof(*w));
	w->t0_ns = -1;
}

void doc_watch_plot_fini(struct doc_watch_plot *w)
{
	free(w->t);
	for (int i = 0; i < w->ngroups; i++) {
		free(w->g[i].used);
		free(w->g[i].usable);
		free(w->g[i].eta);
		free(w->g[i].rate);
	}
	memset(w, 0, sizeof(*w));
}

static int grow(double **a, size_t cap)
{
	double *n = realloc(*a, cap * sizeof(double));

	if (!n)
		return -ENOMEM;
	*a = n;
	return 0;
}

/* Every array to cap entries. */
static int grow_all(struct doc_watch_plot *w, size_t cap)
{
	if (grow(&w->t, cap) < 0)
		return -ENOMEM;
	for (int i = 0; i < w->ngroups; i++)
		if (grow(&w->g[i].used, cap) < 0 || grow(&w->g[i].usable, cap) < 0 ||
		    grow(&w->g[i].eta, cap) < 0 || grow(&w->g[i].rate, cap) < 0)
			return -ENOMEM;
	w->cap = cap;
	return 0;
}

/* Past DOC_WATCH_MAX_ROWS: keep every other look. */
static void halve(struct doc_watch_plot *w)
{
	size_t k = 0;

	for (size_t r = 0; r < w->nrows; r += 2, k++) {
		w->t[k] = w->t[r];
		for (int i = 0; i < w->ngroups; i++) {
			w->g[i].used[k] = w->g[i].used[r];
			w->g[i].usable[k] = w->g[i].usable[r];
			w->g[i].eta[k] = w->g[i].eta[r];
			w->g[i].rate[k] = w->g[i].rate[r];
		}
	}
	w->nrows = k;
}

static int find(const struct doc_watch_plot *w, const struct doc_group *g)
{
	for (int i = 0; i < w->ngroups; i++)
		if (w->g[i].dir == g->dir && w->g[i].port == g->port &&
		    !memcmp(w->g[i].laddr, g->laddr, 16) && !memcmp(w->g[i].raddr, g->raddr, 16))
			return i;
	return -1;
}

static int join(struct doc_watch_plot *w, const struct doc_group *g)
{
	struct doc_watch_group *n = &w->g[w->ngroups];
	char a[64], b[64];

	memset(n, 0, sizeof(*n));
	n->dir = g->dir;
	n->port = g->port;
	memcpy(n->laddr, g->laddr, 16);
	memcpy(n->raddr, g->raddr, 16);
	if (g->dir == DOC_OUT)
		snprintf(n->label, sizeof(n->label), "%s -> %s",
			 doc_endpoint(g->laddr, 0, a, sizeof(a)),
			 doc_endpoint(g->raddr, g->port, b, sizeof(b)));
	else
		snprintf(n->label, sizeof(n->label), "%s <- %s",
			 doc_endpoint(g->laddr, g->port, a, sizeof(a)),
			 doc_endpoint(g->raddr, 0, b, sizeof(b)));
	if (w->cap && (grow(&n->used, w->cap) < 0 || grow(&n->usable, w->cap) < 0 ||
		       grow(&n->eta, w->cap) < 0 || grow(&n->rate, w->cap) < 0)) {
		free(n->used);
		free(n->usable);
		free(n->eta);
		free(n->rate);
		return -ENOMEM;
	}
	for (size_t r = 0; r < w->nrows; r++)
		n->used[r] = n->usable[r] = n->eta[r] = n->rate[r] = NAN;
	return w->ngroups++;
}

int doc_watch_plot_add(struct doc_watch_plot *w, int64_t now_ns, const struct doc_analysis *a)
{
	size_t r;

	if (w->nrows >= DOC_WATCH_MAX_ROWS)
		halve(w);
	if (w->nrows == w->cap && grow_all(w, w->cap ? w->cap * 2 : 64) < 0)
		return -ENOMEM;
	if (w->t0_ns < 0)
		w->t0_ns = now_ns;
	r = w->nrows;
	w->t[r] = (double)(now_ns - w->t0_ns) / 1e9;
	for (int i = 0; i < w->ngroups; i++)
		w->g[i].used[r] = w->g[i].usable[r] = w->g[i].eta[r] = w->g[i].rate[r] = NAN;
	/* the report's busiest groups (sorted by utilization) that hold a port at all */
	for (size_t k = 0, taken = 0; k < a->ngroups && taken < DOC_WATCH_TOP; k++) {
		const struct doc_group *g = &a->groups[k];
		int i;

		if (!g->in_budget || !g->ports_usable)
			continue;
		taken++;
		i = find(w, g);
		if (i < 0 && w->ngroups < DOC_WATCH_GROUPS) {
			i = join(w, g);
			if (i < 0)
				return -ENOMEM;
		}
		if (i < 0)
			continue; /* the chart is full: groups already on it keep their lines */
	}
	/* every group on the chart that this look shows */
	for (size_t k = 0; k < a->ngroups; k++) {
		const struct doc_group *g = &a->groups[k];
		int i = find(w, g);

		if (i < 0)
			continue;
		w->g[i].used[r] = g->in_budget;
		w->g[i].usable[r] = g->ports_usable;
		w->g[i].eta[r] = g->eta_s >= 0 ? g->eta_s : NAN;
		w->g[i].rate[r] = g->tw_rate_10s;
	}
	w->nrows++;
	return 0;
}

int doc_watch_plot_save(const struct doc_watch_plot *w, const char *path, const char *title)
{
	struct plot *p = malloc(sizeof(*p));
	struct plot_panel *used, *eta, *rate;
	double budget[DOC_WATCH_GROUPS] = {0};
	char b[PLOT_LABEL_LEN], n[32];
	bool same = true;
	int rc;

	if (!p)
		return -ENOMEM;
	plot_init(p, title);
	snprintf(p->subtitle, sizeof(p->subtitle),
		 "the busiest groups of each look (highest utilization), a colour each; eta: time "
		 "until no port is left, none while the rate fits the budget");
	used = plot_panel_add(p, "ports in use", "ports");
	eta = plot_panel_add(p, "time left (eta)", "s");
	rate = plot_panel_add(p, "TIME-WAIT created", "sockets/s");
	for (int i = 0; i < w->ngroups; i++) {
		const struct doc_watch_group *g = &w->g[i];
		double last = NAN;
		bool spent = false;

		plot_line_add(used, g->label, w->t, g->used, w->nrows, 1, i);
		if (plot_values_nonzero(g->eta, w->nrows, 1))
			plot_line_add(eta, g->label, w->t, g->eta, w->nrows, 1, i);
		if (plot_values_nonzero(g->rate, w->nrows, 1))
			plot_line_add(rate, g->label, w->t, g->rate, w->nrows, 1, i);
		for (size_t r = 0; r < w->nrows; r++) {
			if (isfinite(g->usable[r]))
				last = g->usable[r];
			if (!spent && isfinite(g->used[r]) && isfinite(g->usable[r]) &&
			    g->used[r] >= g->usable[r]) {
				spent = true;
				snprintf(b, sizeof(b), "%s: budget spent", g->label);
				plot_mark_add(p, w->t[r], b, i);
			}
		}
		budget[i] = last;
	}
	/* the budgets: one line when every group has the same */
	for (int i = 0; i < w->ngroups; i++)
		same = same && (budget[i] == budget[0]);
	for (int i = 0; i < w->ngroups; i++) {
		if (!isfinite(budget[i]) || (same && i > 0))
			continue;
		units_fmt_count(n, sizeof(n), (uint64_t)budget[i]);
		if (same)
			snprintf(b, sizeof(b), "budget %s ports (each group)", n);
		else
			snprintf(b, sizeof(b), "%s: budget %s ports", w->g[i].label, n);
		plot_ref_add(used, budget[i], b, same ? PLOT_GREY : i);
	}
	rc = plot_save(p, path);
	free(p);
	return rc;
}
