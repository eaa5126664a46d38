/*
 * lab_run — one lab run on the real kernel: build the plan's namespaces (lab_topo), start
 * `twkit bench serve` in the server, the relay (twkit's or nginx) in an L7 balancer, `twkit bench run --json` in
 * the client, sample every namespace each second (kernel/lab_sample), then stop everything and
 * remove what was made — on success, failure, SIGINT/SIGTERM or a crashed child. Children are
 * forked by this process, entered into their namespace with setns, die with it
 * (PR_SET_PDEATHSIG) and are only ever signalled by their own PID.
 */
#ifndef TWKIT_LAB_LAB_RUN_H
#define TWKIT_LAB_LAB_RUN_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/series.h"
#include "kernel/lab_sample.h"
#include "lab/lab_doctor.h"
#include "lab/lab_scen.h"
#include "lab/lab_topo.h"

#define LAB_MAX_ERRNOS 8

/* Which program plays the L7 balancer (--relay). */
enum LAB_RELAY { LAB_RELAY_TWKIT, LAB_RELAY_NGINX };
#define LAB_MAX_ROWS 128 /* samples: 90 s and the drain, at one per second */

/* What one namespace showed. */
struct lab_host_result {
	char node[SIM_NAME_LEN];
	enum SIM_NODE_KIND kind;
	char ns[LAB_NS_LEN];
	struct klab_sample last;    /* counters at the end */
	uint32_t time_wait_max, established_max;
	/* per second: time_wait, established, tw_overflow, tw_recycled (cumulative counters),
	 * plus new_ok and eaddrnotavail for the client (from bench) and the L7 balancer (relay) */
	struct series series;
};

struct lab_errcount {
	char name[24];
	uint64_t n;
};

struct lab_result {
	int nhosts;
	struct lab_host_result hosts[LAB_MAX_HOSTS];
	/* the client's traffic, from `bench run --json` (twkit.bench/1 totals) */
	uint64_t attempted, completed, failed;
	int nerr;
	struct lab_errcount errs[LAB_MAX_ERRNOS];
	double rate;                /* completed connections per second over the run */
	double first_eaddrnotavail_s; /* where the first EADDRNOTAVAIL happened (client or L7
				       * balancer), seconds from the start; -1 if none */
	char first_eaddrnotavail_at[SIM_NAME_LEN]; /* node name */
	uint64_t relay_eaddrnotavail, relay_fail, relay_ok;
	const char *relay;          /* "twkit" or "nginx" when there is an L7 balancer, else NULL */
	/* HTTP answers outside 2xx (nginx's 502 for a failed upstream connect): taken out of
	 * completed and counted among the failures as "HTTP_5xx" (docs/lab.md "nginx") */
	uint64_t non2xx;
	double elapsed_s;
	bool interrupted;
	/* the client process's own kernel CPU (wait4's ru_stime), seconds; -1 when unknown */
	double client_sys_s;
	char release[65];           /* uname -r */
	/* the client's per-second series as bench reported it (rows by t) */
	int bench_rows;
	double bench_t[LAB_MAX_ROWS], bench_ok[LAB_MAX_ROWS], bench_ean[LAB_MAX_ROWS];
};

struct lab_run_cfg {
	const struct lab_plan *plan;
	const char *self_exe;       /* the twkit binary to exec for bench */
	enum LAB_RELAY relay;       /* the L7 balancer, when the plan has one */
	bool keep;                  /* leave the namespaces (the processes are still stopped) */
	bool progress;              /* a line per second on stderr */
	volatile sig_atomic_t *stop; /* set by the verb's signal handler */
	struct lab_doctor *doctor;  /* --doctor: run `twkit doctor --json` in every namespace
				     * at half time and at the end, and check it; else NULL */
};

/*
 * Run the plan. t must come from lab_topo_init + lab_lock_acquire. Fills *res (release with
 * lab_result_fini even on error). Returns 0, or -errno with err set (topology, a child that
 * did not start, bench output that does not parse). Namespaces are removed before returning
 * unless cfg->keep.
 */
int lab_run(const struct lab_run_cfg *cfg, struct lab_topo *t, struct lab_result *res,
	    char *err, size_t errlen);
void lab_result_fini(struct lab_result *res);
/* What each host of the plan measured for --doctor's checks: the client's connect() failures
 * (bench's errnos of connect: EADDRNOTAVAIL, ECONNREFUSED, ETIMEDOUT, EHOSTUNREACH,
 * ENETUNREACH), the L7 balancer's failed backend connects, and where the first EADDRNOTAVAIL
 * came. Pure. */
void lab_doc_measure(const struct lab_plan *p, const struct lab_result *res,
		     struct lab_doc_measured m[LAB_MAX_HOSTS]);

/*
 * Read a twkit.bench/1 document into res (totals, non_2xx, failures by errno, the client's
 * per-second new_ok and eaddrnotavail into host 0's series by time). Pure. 0 or -EPROTO.
 */
int lab_bench_parse(const char *json, size_t len, struct lab_result *res);

#endif
