/*
 * doctor_trace — `twkit doctor --trace DURATION`: runs twkit trace's eBPF counters for
 * DURATION in the namespace doctor looks at, then puts what was measured beside what the
 * findings infer. A finding the measurement contradicts says so; connect() failures measured
 * where no finding expected any become a finding of their own, connect-failures-measured.
 */
#ifndef TWKIT_DOCTOR_DOCTOR_TRACE_H
#define TWKIT_DOCTOR_DOCTOR_TRACE_H

#include <stdint.h>

#include "doctor/analyse.h"
#include "doctor/findings.h"
#include "trace/trace.h"

/* What was measured, kept for every report of the run. */
struct doc_trace {
	struct trace_data d;
	double seconds;
	struct trace_cg *cg;
};

/*
 * Trace for ns in network namespace `netns` (a name under /run/netns), or in this process's
 * namespace when NULL. Call before entering the namespace. Returns 0, or the exit code after
 * printing the reason (3: not root, no BTF, a missing tracepoint). Release with
 * doc_trace_fini.
 */
int doc_trace_collect(struct doc_trace *t, int64_t ns, const char *netns,
		      volatile sig_atomic_t *stop);
void doc_trace_fini(struct doc_trace *t);

/* Add the measured lines to the findings (pure but for resolving cgroup names). */
void doc_trace_annotate(struct doc_findings *fs, const struct doc_analysis *a,
			const struct doc_trace *t);

#endif
