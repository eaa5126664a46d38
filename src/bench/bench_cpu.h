/*
 * bench_cpu — what a run's CPU time says about its rate (issue 18 §3). The process's kernel
 * and user time per connection attempted, from its own accounting (getrusage RUSAGE_SELF over
 * the run: on loopback with the self-hosted server that is both ends); the connection rate that
 * kernel time allows on the cores the run's threads can use; and which ceiling comes first, the
 * ports' (model/budget.h's sustained rate, worked out by the caller) or the CPU's.
 * Pure: the caller measures and passes the numbers.
 */
#ifndef TWKIT_BENCH_BENCH_CPU_H
#define TWKIT_BENCH_BENCH_CPU_H

#include <stddef.h>
#include <stdint.h>

enum BENCH_BIND {
	BENCH_BIND_NONE,  /* neither ceiling is known (no connection, no kernel time measured) */
	BENCH_BIND_PORTS, /* the ports' ceiling is the lower */
	BENCH_BIND_CPU,	  /* the CPU's ceiling is the lower, or the ports set none */
};

struct bench_cpu {
	uint64_t conns;		 /* the denominator: connections attempted (serve: accepted) */
	double sys_us_per_conn;	 /* kernel CPU per connection attempted, µs; 0 when none */
	double user_us_per_conn; /* user CPU per connection attempted, µs */
	int cores;		 /* cores the run's threads can keep busy: min(CPUs, threads) */
	double cores_busy;	 /* what the run kept busy: (user + sys) / elapsed */
	double per_core_rate;	 /* connections/s one core's kernel time allows: 1e6 / sys_us */
	double cpu_rate;	 /* per_core_rate x cores; 0 = unknown */
	double port_rate;	 /* the ports' sustained rate; 0 = the ports set no bound */
	enum BENCH_BIND binds;
};

/*
 * Fill *out from a run's CPU seconds (sys_s, user_s over elapsed_s), its connections attempted,
 * the cores its threads can use (>= 1) and the model's port_rate (0 = no bound).
 */
void bench_cpu_compute(double sys_s, double user_s, double elapsed_s, uint64_t attempted, int cores,
		       double port_rate, struct bench_cpu *out);

/* CPUs this process may run on (its affinity mask), at least 1. */
int bench_cpu_count(void);

/*
 * One sentence for the report: both ceilings with their numbers and which binds first, against
 * the measured rate. Returns what snprintf returns ("" when nothing was measured).
 */
int bench_cpu_explain(const struct bench_cpu *c, double measured_rate, char *buf, size_t len);

/* "ports", "cpu" or "none". */
const char *bench_bind_str(enum BENCH_BIND b);

#endif
