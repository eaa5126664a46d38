/*
 * report — renderers of a sim_result: the human summary, the twkit.sim/1 JSON document,
 * the per-second series as CSV or SVG, and the same for several kernel eras side by side.
 * Renderers never compute results.
 */
#ifndef TWKIT_SIM_REPORT_H
#define TWKIT_SIM_REPORT_H

#include <stdio.h>

#include "common/jsonw.h"
#include "common/plot.h"
#include "sim/sim.h"

/* Human-readable summary with kernel counter names. */
void sim_report_text(FILE *f, const struct sim_scenario *sc, const struct sim_result *r);
/* JSON (schema twkit.sim/1): summary, hosts[], series{host: rows}. */
void sim_report_json(FILE *f, const struct sim_scenario *sc, const struct sim_result *r,
		     bool with_series);
/* The same document as an object under name (NULL in an array or at the root) of w. */
void sim_report_json_obj(struct jw *w, const char *name, const struct sim_scenario *sc,
			 const struct sim_result *r, bool with_series);

/* Several kernel eras of one scenario (--kernel A,B,C): sc[e] and r[e] for era e.
 * Text: one column per era, the numbers that differ side by side.
 * JSON (schema twkit.sim-eras/1): {"schema", "scenario", "kernels": [names in order],
 * "eras": {"<kernel>": <a twkit.sim/1 document>, ...}}. */
void sim_report_eras_text(FILE *f, const struct sim_scenario *const *sc,
			  const struct sim_result *const *r, int n);
void sim_report_eras_json(FILE *f, const struct sim_scenario *const *sc,
			  const struct sim_result *const *r, int n, bool with_series);

/* --svg: the hosts where something happens (host -1) or one host, grouped by what they
 * count, with the budget on the TIME-WAIT panel and the first failure marked. Describes the
 * result's series (their plot columns and budgets), hence not const. */
void sim_plot_run(const struct sim_scenario *sc, struct sim_result *r, const char *release,
		  int host, struct plot *p);
/* --svg with --kernel A,B,C: host `host` of every era on the same axes, a colour per era. */
void sim_plot_eras(const struct sim_scenario *const *sc, struct sim_result *const *r, int n,
		   const char *release, int host, struct plot *p);

#endif
