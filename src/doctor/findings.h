/*
 * findings — analysis -> findings: what is wrong (or explicitly fine), the numbers that show
 * it, and advice ranked for this kernel naming each mechanism and its price. Pure.
 *
 * Finding ids are a contract (JSON, --prom, --fail-on): port-exhaustion, tw-reuse-ineffective,
 * tw-recycle-enabled, tw-bucket-overflow, narrow-port-range, fd-limit, server-time-wait,
 * lb-quadruplet-budget, connect-slow; myths.h: myth-fin-timeout, myth-max-tw-buckets, myth-recycle-config,
 * timestamps-off.
 */
#ifndef TWKIT_DOCTOR_FINDINGS_H
#define TWKIT_DOCTOR_FINDINGS_H

#include <stddef.h>

#include "doctor/analyse.h"
#include "kernel/snapshot.h"

enum DOC_SEV { DOC_INFO = 0, DOC_WARNING = 1, DOC_CRITICAL = 2 };

#define DOC_MAX_EVIDENCE 8
#define DOC_MAX_ADVICE 8
#define DOC_MAX_FINDINGS 16
#define DOC_PREV_MAX 16

struct doc_finding {
	const char *id;
	enum DOC_SEV sev;
	char summary[256];
	double eta_s;             /* seconds until connect() fails at the measured rate; <0: none */
	int nevidence, nadvice;
	char evidence[DOC_MAX_EVIDENCE][320];
	char advice[DOC_MAX_ADVICE][400];
};

struct doc_findings {
	int n;
	struct doc_finding f[DOC_MAX_FINDINGS];
};

/* Optional knowledge from a previous sample (--watch): counter deltas. */
struct doc_prev {
	bool have;
	uint64_t tw_overflow;   /* TcpExt.TCPTimeWaitOverflow at the previous sample */
	uint64_t paws_passive;  /* TcpExt.PAWSPassive */
	double seconds;         /* since the previous sample */
	int n;                  /* more counters of that sample, by name (doc_prev_take) */
	const char *name[DOC_PREV_MAX];
	uint64_t value[DOC_PREV_MAX];
};

/* Keep the counters of sample s that the rules compare with the next one. */
void doc_prev_take(struct doc_prev *p, const struct snapshot *s);
/* A counter of the previous sample: 0, or -ENOENT when it was not kept or not read. */
int doc_prev_get(const struct doc_prev *p, const char *name, uint64_t *v);

/* Run every rule. Findings come out sorted by severity (critical first), stable by rule. */
void doc_findings_run(const struct snapshot *s, const struct doc_analysis *a,
		      const struct doc_prev *prev, struct doc_findings *out);
/* Append a finding (NULL when the list is full; the builders below accept NULL). Its eta_s
 * starts at -1. */
struct doc_finding *doc_finding_add(struct doc_findings *fs, const char *id, enum DOC_SEV sev,
				    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* One line of evidence / advice; dropped past DOC_MAX_EVIDENCE / DOC_MAX_ADVICE. */
void doc_finding_ev(struct doc_finding *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void doc_finding_adv(struct doc_finding *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
const char *doc_sev_name(enum DOC_SEV sev);
/* "info" | "warning" | "critical" -> severity; -1 if none of them. */
int doc_sev_parse(const char *s);
/* Highest severity present, or -1 when there are no findings. */
int doc_findings_max_sev(const struct doc_findings *fs);

#endif
