/*
 * bench_calibrate — `twkit bench --calibrate` (issue 18 §2): the kernel's price of connect()'s
 * port search on this machine, for the simulator's cost model. In a private network namespace
 * (a child process that unshares one: nothing on the host changes, and everything it made
 * vanishes with it), tcp_tw_reuse=0, it fills a narrow ip_local_port_range with TIME-WAIT
 * toward one destination, then times (the thread's ru_stime) a batch of connect()s that fail
 * with EADDRNOTAVAIL: each examines every port of the range and takes none. At several range
 * sizes N, the kernel time per failing connect() is base + N x probe: a least-squares line
 * over the large ranges gives the price per probe (slope), and one over the small ranges the
 * fixed part of a failing connect() (intercept; the large ranges' line is steeper: their probes
 * miss the caches). Then whole client-closed connections, each with one probe, give the rest
 * of a connection's kernel time: the simulator's connect_base_ns (its cost model adds probes x
 * connect_probe_ns to it).
 */
#ifndef TWKIT_BENCH_BENCH_CALIBRATE_H
#define TWKIT_BENCH_BENCH_CALIBRATE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BENCH_CAL_MAX_POINTS 8

struct bench_cal_point {
	uint32_t ports;	   /* range size N: TIME-WAITs each failing connect() examines */
	uint64_t connects; /* failing connect()s timed */
	double sys_ns;	   /* kernel time per failing connect(), ns (ru_stime) */
	double cpu_ns;	   /* all CPU time per failing connect(), ns (thread CPU clock) */
};

struct bench_cal_result {
	int npoints;
	struct bench_cal_point pt[BENCH_CAL_MAX_POINTS];
	double probe_ns, r2;	 /* the fit of sys_ns over ports, from fit_min ports up */
	double fit_intercept_ns; /* that line's intercept (the caches make it < 0) */
	double base_ns;		 /* the fixed part: the small ranges' line's intercept */
	double small_probe_ns;	 /* the small ranges' slope: the price within the caches */
	uint32_t fit_min;
	uint32_t conns;			 /* whole connections timed at one probe each */
	double conn_sys_ns, conn_cpu_ns; /* their kernel (all) time each, both ends (loopback) */
	uint16_t range_lo, dport;	 /* where the ports were, and the destination port */
	uint32_t filled;		 /* TIME-WAITs made toward the destination */
	int timestamps;			 /* net.ipv4.tcp_timestamps in the namespace */
	double elapsed_s;
	char kernel[65];
};

/*
 * Least squares of y over x for n >= 2 points with at least two distinct x: *slope,
 * *intercept, *r2 (1 when every y is equal). 0 or -EINVAL.
 */
int bench_cal_fit(const double *x, const double *y, int n, double *slope, double *intercept,
		  double *r2);

/*
 * Measure (needs root: CAP_SYS_ADMIN for the namespace). quiet: no progress on stderr.
 * Returns 0 with *res filled, -EPERM when a namespace cannot be made, -ETIMEDOUT when the
 * child overran its bound (it is killed), or another -errno with a message in err.
 */
int bench_calibrate(struct bench_cal_result *res, int quiet, char *err, size_t errlen);

/* Human report, with the sim settings to use. */
void bench_cal_report_text(FILE *f, const struct bench_cal_result *r);
/* JSON document, schema twkit.bench.calibrate/1. */
void bench_cal_report_json(FILE *f, const struct bench_cal_result *r);

/* The verb's side, bench_calibrate_main(), is declared in bench.h: it prints the report (text
 * or --json) and returns 0, or 3 when not root, no namespace can be made, or it failed. */

#endif
