/*
 * lab_report — renderers of a lab run: the human report (per host, traffic, fidelity), the
 * twkit.lab/1 JSON document, and the series for --svg/--csv. Renderers never compute: the
 * numbers come from struct lab_result and struct lab_fidelity.
 */
#ifndef TWKIT_LAB_LAB_REPORT_H
#define TWKIT_LAB_LAB_REPORT_H

#include <stdio.h>

#include "common/plot.h"
#include "lab/lab_compare.h"
#include "lab/lab_run.h"
#include "lab/lab_topo.h"

struct lab_report {
	const struct lab_entry *entry;
	const struct lab_plan *plan;
	const struct lab_topo *topo;
	const struct lab_result *lab;
	const struct sim_result *sim;     /* NULL without --compare */
	const struct lab_fidelity *fid;   /* NULL without --compare */
	const struct lab_doctor *doctor;  /* NULL without --doctor */
	bool kept;                        /* --keep: the namespaces are still there */
};

void lab_report_text(FILE *f, const struct lab_report *r);
void lab_report_json(FILE *f, const struct lab_report *r);
/*
 * One table for --svg/--csv: per host "<node>.time_wait", "<node>.new_ok",
 * "<node>.eaddrnotavail", and with sim "sim.<node>.time_wait". 0 or -ENOMEM.
 */
int lab_report_series(const struct lab_report *r, struct series *out);
/* The --svg plot: hosts where something changes, with sim's run overlaid on the same axes
 * under --compare, the budget of sc's connecting nodes (release: the era "host" means). */
void lab_report_plot(const struct lab_report *r, const struct sim_scenario *sc,
		     const char *release, struct plot *p);
/* How to enter and remove kept namespaces (for --keep). */
void lab_report_keep_hint(FILE *f, const struct lab_topo *t);

#endif
