/*
 * allns — doctor over every network namespace of the host (--all-netns): each namespace is
 * entered in turn (setns on this thread), looked at exactly as `twkit doctor --netns` would
 * (snapshot, analysis, findings: its own sysctls, sockets, counters and budgets), and the
 * reports are grouped by namespace, busiest (most TIME-WAIT) first. Only the --top busiest
 * keep their full analysis in memory; the others keep a summary line.
 */
#ifndef TWKIT_DOCTOR_ALLNS_H
#define TWKIT_DOCTOR_ALLNS_H

#include <signal.h>
#include <stdint.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum DOC_ALLNS_OUT { DOC_ALLNS_TEXT, DOC_ALLNS_JSON, DOC_ALLNS_PROM };

struct doc_allns_cfg {
	enum DOC_ALLNS_OUT out;
	int top; /* namespaces detailed, and groups per namespace (0 = all) */
	bool color;
	const char *sysctl_conf;     /* for the host's namespace; NULL: the default files */
	uint32_t probe_ns, base_ns;  /* connect()'s price (doc_analysis_price); 0: defaults */
	volatile sig_atomic_t *stop; /* set by SIGINT/SIGTERM: stop between namespaces */
};

/*
 * What --all-netns lacks to see every namespace: "" when nothing, else a sentence naming the
 * missing capabilities (CAP_SYS_ADMIN for setns, CAP_SYS_PTRACE for other processes'
 * /proc/PID/ns/net). Returns 0 when privileged enough, -EPERM otherwise.
 */
int doc_allns_check_privilege(char *what, size_t len);

/* One report over every namespace on out. Returns the highest finding severity over all
 * namespaces (-1 none), or -(exit code) with the reason in err. */
int doc_allns_run(const struct doc_allns_cfg *c, FILE *out, char *err, size_t el);

#endif
