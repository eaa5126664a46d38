/*
 * myths — findings for the TIME-WAIT "fixes" operators keep applying that do not do what they
 * are applied for (docs FIELD.md, "Fixes that do not work"): a lowered tcp_fin_timeout, a
 * lowered tcp_max_tw_buckets, a tcp_tw_recycle line left in a sysctl file on a kernel without
 * the key, and tcp_timestamps=0. Each names the value, the config file and line that set it,
 * what the setting really does (kernel rules from model/) and the price of undoing it. Pure.
 *
 * Finding ids (a contract, like findings.h): myth-fin-timeout, myth-max-tw-buckets,
 * myth-recycle-config, timestamps-off.
 */
#ifndef TWKIT_DOCTOR_MYTHS_H
#define TWKIT_DOCTOR_MYTHS_H

#include "doctor/analyse.h"
#include "doctor/findings.h"
#include "kernel/snapshot.h"

/* Append the myth findings that apply to out (dropped past DOC_MAX_FINDINGS, like every
 * rule). Called by doc_findings_run before it sorts by severity. */
void doc_myths_run(const struct snapshot *s, const struct doc_analysis *a,
		   struct doc_findings *out);

#endif
