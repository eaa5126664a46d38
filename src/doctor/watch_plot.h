/*
 * watch_plot — `twkit doctor --watch N --svg FILE`: each busy group's budget over time. Every
 * look adds a sample of the groups at the top of the report (highest utilization, some port
 * in use): ports in use against the group's usable ports (its budget, a line), the time left
 * until none is left (eta), and the TIME-WAIT creation rate; the plot is rewritten after each
 * look (temp file + rename), so it can be opened while the watch runs.
 * Memory is bounded: at most DOC_WATCH_GROUPS groups, and past DOC_WATCH_MAX_ROWS looks every
 * other one is dropped (the plot keeps the whole watch at half the resolution).
 */
#ifndef TWKIT_DOCTOR_WATCH_PLOT_H
#define TWKIT_DOCTOR_WATCH_PLOT_H

#include <stddef.h>
#include <stdint.h>

#include "doctor/analyse.h"

#define DOC_WATCH_GROUPS 6	 /* lines one chart keeps apart */
#define DOC_WATCH_TOP 3		 /* groups of each look that join (the report's busiest) */
#define DOC_WATCH_MAX_ROWS 20000 /* a day of 5 s looks before halving */

struct doc_watch_group {
	uint8_t dir, laddr[16], raddr[16];
	uint16_t port;
	char label[96];
	/* per look (NaN where the group was not among the groups of that look): */
	double *used, *usable, *eta, *rate;
};

struct doc_watch_plot {
	size_t nrows, cap;
	double *t; /* seconds since the first look */
	int ngroups;
	struct doc_watch_group g[DOC_WATCH_GROUPS];
	int64_t t0_ns;
};

void doc_watch_plot_init(struct doc_watch_plot *w);
void doc_watch_plot_fini(struct doc_watch_plot *w);
/* Add one look taken at now_ns (CLOCK_MONOTONIC). 0 or -ENOMEM. */
int doc_watch_plot_add(struct doc_watch_plot *w, int64_t now_ns, const struct doc_analysis *a);
/* Write the plot to path. 0 or a negative errno. */
int doc_watch_plot_save(const struct doc_watch_plot *w, const char *path, const char *title);

#endif
