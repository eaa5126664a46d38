/*
 * lab_compare — `twkit lab NAME --compare`: play the very scenario the lab ran through
 * `twkit sim` (sim_run, the `host` profile) and line the two up: TIME-WAIT plateau per host,
 * time of the first EADDRNOTAVAIL, sustained rate, each with its relative difference.
 * lab_fidelity_*() are pure; lab_compare_sim() runs the simulator in-process.
 */
#ifndef TWKIT_LAB_LAB_COMPARE_H
#define TWKIT_LAB_LAB_COMPARE_H

#include <stdbool.h>

#include "lab/lab_run.h"
#include "sim/sim.h"

/* ±10%: the fidelity target */
#define LAB_FIDELITY_TOL 0.10
/* ±25% for sys_us_per_conn: the client's kernel CPU per completed connection, measured from
 * its own ru_stime, against sim's price of the same connects (model/portsearch.h) */
#define LAB_FIDELITY_SYS_TOL 0.25
#define LAB_MAX_FIDELITY (LAB_MAX_HOSTS + 3)

struct lab_fidelity_row {
	char metric[64];      /* "time_wait_plateau client", "first_eaddrnotavail_s", "rate" */
	double lab, sim;      /* -1 = did not happen (first_eaddrnotavail_s) */
	double rel;           /* (lab - sim) / sim; 0 when both agree on "none"; NAN if undefined */
	bool ok;              /* |rel| <= tol, or both "none" */
	double tol;           /* LAB_FIDELITY_TOL, or LAB_FIDELITY_SYS_TOL for sys_us_per_conn */
	bool checked;         /* counts toward all_ok (an unchecked row is shown for information) */
};

struct lab_fidelity {
	int n;
	struct lab_fidelity_row row[LAB_MAX_FIDELITY];
	bool all_ok;
};

/* Relative difference with the conventions above (both 0 or both -1: 0). */
double lab_rel_diff(double lab, double sim);
/* The first time (s) a sim host's "eaddrnotavail" column is non-zero, or -1. */
double lab_sim_first_ean(const struct sim_result *sr, const char *node);
/* Fill *f from a lab result and a sim result of the same scenario. check_sys: the
 * sys_us_per_conn row counts toward all_ok (the catalogue's connect-cost scenarios, which the
 * default prices were calibrated for); otherwise it is shown, unchecked. */
void lab_fidelity_compute(const struct lab_result *lr, const struct sim_result *sr,
			  int64_t duration_ns, bool check_sys, struct lab_fidelity *f);
/* Run sim on sc (profile "host", release of this kernel). sr needs sim_result_fini. 0 or
 * -errno with err set. */
int lab_compare_sim(const struct sim_scenario *sc, const char *release, struct sim_result *sr,
		    char *err, size_t errlen);

/* sim_result_host / sim_result_fini through this module (which owns the link to sim). */
const struct sim_host_result *lab_sim_host(const struct sim_result *sr, const char *node);
void lab_sim_fini(struct sim_result *sr);

#endif
