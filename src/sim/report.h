/*
 * report — renderers of a sim_result: the human summary, the twkit.sim/1 JSON document,
 * and the per-second series of one host as CSV or SVG. Renderers never compute results.
 */
#ifndef TWKIT_SIM_REPORT_H
#define TWKIT_SIM_REPORT_H

#include <stdio.h>

#include "sim/sim.h"

/* Human-readable summary with kernel counter names. */
void sim_report_text(FILE *f, const struct sim_scenario *sc, const struct sim_result *r);
/* JSON (schema twkit.sim/1): summary, hosts[], series{host: rows}. */
void sim_report_json(FILE *f, const struct sim_scenario *sc, const struct sim_result *r,
		     bool with_series);

#endif
