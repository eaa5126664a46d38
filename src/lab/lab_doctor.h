/*
 * lab_doctor — `twkit lab --doctor`: doctor's verdicts inside each host's namespace during a
 * run, held to what the lab measured there. Pure: lab_run collects doctor's JSON (at half
 * time and at the end), this module reads it and sets each verdict beside the measurement.
 *
 * Checks, per host (docs/lab.md "doctor in the lab"):
 *   failed    a host whose connect() calls failed had, at the half-time sample, a warning or
 *             critical finding naming that cause (EADDRNOTAVAIL: port-exhaustion,
 *             tw-reuse-ineffective or narrow-port-range)
 *   healthy   a host with no failed connect() had no critical finding in any sample, unless
 *             its forecast puts the first failure after the traffic ended (at_s + eta_s >=
 *             end_s): the lab saw none because the run stopped first
 *   eta       where doctor gave eta_s at half time and the first EADDRNOTAVAIL came after it,
 *             eta_s and (first failure - sample time) agree within ±25%
 */
#ifndef TWKIT_LAB_LAB_DOCTOR_H
#define TWKIT_LAB_LAB_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lab/lab_scen.h"

#define LAB_DOC_SAMPLES 2     /* half time, end */
#define LAB_DOC_FINDINGS 24
#define LAB_DOC_CHECKS (LAB_MAX_HOSTS * 3)
#define LAB_DOC_ETA_TOL 0.25  /* the issue's ±25%: doctor reads rates off whole-ms timers
			       * and the lab's first failure is interpolated within a second */

struct lab_doc_finding {
	char id[32];
	int sev;                  /* enum DOC_SEV: 0 info, 1 warning, 2 critical */
	double eta_s;             /* < 0: none */
};

/* One doctor run in one namespace. */
struct lab_doc_sample {
	bool have;
	double at_s;              /* seconds from the start of the traffic */
	int nfind;
	struct lab_doc_finding f[LAB_DOC_FINDINGS];
	char error[128];          /* why there is no sample, when have is false */
};

/* What the lab measured on one host, for the checks. */
struct lab_doc_measured {
	uint64_t connect_failed;  /* connect() calls that failed (any errno) */
	uint64_t eaddrnotavail;
	double first_eaddrnotavail_s; /* < 0: none on this host */
};

struct lab_doc_check {
	char host[SIM_NAME_LEN];
	char metric[32];          /* "failure named", "no critical", "eta_s" */
	char doctor[160];
	char lab[96];
	bool agrees;
};

struct lab_doctor {
	bool enabled;
	double end_s;             /* when the traffic ended (the scenario's duration) */
	int nhosts;
	char host[LAB_MAX_HOSTS][SIM_NAME_LEN];
	struct lab_doc_sample s[LAB_MAX_HOSTS][LAB_DOC_SAMPLES];
	int nchecks;
	struct lab_doc_check c[LAB_DOC_CHECKS];
	bool all_agree;
};

/* Read a twkit.doctor/1 document's findings into out (at_s set by the caller). 0, or -EPROTO
 * with out->error saying what was wrong. */
int lab_doc_parse(const char *json, size_t len, struct lab_doc_sample *out);
/* Fill d->c[] from the samples and what each host measured (m[host]). Sets all_agree. */
void lab_doc_check_all(struct lab_doctor *d, const struct lab_doc_measured *m);
/* "info" / "warning" / "critical" */
const char *lab_doc_sev_name(int sev);

#endif
