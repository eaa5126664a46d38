/*
 * bench_threshold — pass/fail criteria for a bench run, as load-test users know them
 * (`--threshold failed<1%`, `p99<50ms`, `rate>5k/s`): parsed once, evaluated on the final
 * totals, each verdict printed and in the JSON; one crossed makes bench exit 1. Pure.
 */
#ifndef TWKIT_BENCH_BENCH_THRESHOLD_H
#define TWKIT_BENCH_BENCH_THRESHOLD_H

#include <stdbool.h>
#include <stddef.h>

#define BENCH_MAX_THRESHOLDS 8

enum BENCH_TH_METRIC {
	BENCH_TH_FAILED_PCT, /* failed / attempted, in percent ("failed<1%") */
	BENCH_TH_FAILED,     /* failed connections ("failed<10") */
	BENCH_TH_P50,        /* exchange latency from the intended start, ns */
	BENCH_TH_P90,
	BENCH_TH_P99,
	BENCH_TH_MAX,
	BENCH_TH_RATE,       /* completed connections per second */
};

enum BENCH_TH_OP { BENCH_TH_LT, BENCH_TH_LE, BENCH_TH_GT, BENCH_TH_GE };

struct bench_threshold {
	char expr[48];        /* as given */
	enum BENCH_TH_METRIC metric;
	enum BENCH_TH_OP op;
	double bound;         /* in the metric's unit: %, count, ns, per second */
};

/*
 * Parse "METRIC OP VALUE" (spaces allowed): METRIC is failed, p50, p90, p99, max or rate;
 * OP is <, <=, > or >=; VALUE is a percentage or a count (failed), a duration (50ms, 1s) for
 * the latencies, a rate (5k/s) for rate. 0, or -EINVAL with err naming what was wrong.
 */
int bench_threshold_parse(const char *expr, struct bench_threshold *t, char *err, size_t errlen);
/* Whether a measured value v (the metric's unit) keeps the threshold. */
bool bench_threshold_ok(const struct bench_threshold *t, double v);
/* The measured value written for humans ("0.42%", "3.1ms", "12k/s", "17"). */
const char *bench_threshold_fmt(const struct bench_threshold *t, double v, char *buf, size_t len);

#endif
