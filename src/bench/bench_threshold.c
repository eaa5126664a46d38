/*
 * bench_threshold — parse, check and print pass/fail criteria (see bench_threshold.h).
 */
#include "bench/bench_threshold.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "common/units.h"

static const struct {
	const char *name;
	enum BENCH_TH_METRIC m;
} metrics[] = {
	{ "failed", BENCH_TH_FAILED }, { "p50", BENCH_TH_P50 }, { "p90", BENCH_TH_P90 },
	{ "p99", BENCH_TH_P99 },       { "max", BENCH_TH_MAX }, { "rate", BENCH_TH_RATE },
};

int bench_threshold_parse(const char *expr, struct bench_threshold *t, char *err, size_t errlen)
{
	char buf[48] = "", *p, *op, *val;
	size_t i, n = strlen(expr);

	memset(t, 0, sizeof(*t));
	if (n == 0 || n >= sizeof(buf)) {
		snprintf(err, errlen, "--threshold '%.60s': expected METRIC<VALUE, e.g. failed<1%%, "
				      "p99<50ms, rate>5k/s", expr);
		return -EINVAL;
	}
	/* without the spaces people put around the operator */
	for (i = 0, p = buf; i < n; i++)
		if (expr[i] != ' ')
			*p++ = expr[i];
	*p = '\0';
	snprintf(t->expr, sizeof(t->expr), "%s", buf);
	op = strpbrk(buf, "<>");
	if (!op) {
		snprintf(err, errlen, "--threshold '%s': no operator (<, <=, > or >=)", expr);
		return -EINVAL;
	}
	t->op = op[0] == '<' ? (op[1] == '=' ? BENCH_TH_LE : BENCH_TH_LT)
			     : (op[1] == '=' ? BENCH_TH_GE : BENCH_TH_GT);
	val = op + (op[1] == '=' ? 2 : 1);
	*op = '\0';
	for (i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++)
		if (!strcmp(buf, metrics[i].name))
			break;
	if (i == sizeof(metrics) / sizeof(metrics[0])) {
		snprintf(err, errlen, "--threshold '%s': unknown metric '%s' (failed, p50, p90, p99, "
				      "max, rate)", expr, buf);
		return -EINVAL;
	}
	t->metric = metrics[i].m;
	switch (t->metric) {
	case BENCH_TH_FAILED: {
		size_t vl = strlen(val);
		uint64_t c;
		if (vl > 1 && val[vl - 1] == '%') {
			val[vl - 1] = '\0';
			t->metric = BENCH_TH_FAILED_PCT;
			if (units_parse_double(val, 0, 100, &t->bound) == 0)
				return 0;
			snprintf(err, errlen, "--threshold '%s': expected a percentage 0-100%%", expr);
			return -EINVAL;
		}
		if (units_parse_count(val, &c) == 0) {
			t->bound = (double)c;
			return 0;
		}
		snprintf(err, errlen, "--threshold '%s': expected a count or a percentage (1%%)",
			 expr);
		return -EINVAL;
	}
	case BENCH_TH_RATE:
		if (units_parse_rate(val, &t->bound) == 0)
			return 0;
		snprintf(err, errlen, "--threshold '%s': expected a rate (5k/s)", expr);
		return -EINVAL;
	default: {
		int64_t ns;
		if (units_parse_duration(val, &ns) == 0) {
			t->bound = (double)ns;
			return 0;
		}
		snprintf(err, errlen, "--threshold '%s': expected a duration (50ms, 1s)", expr);
		return -EINVAL;
	}
	}
}

bool bench_threshold_ok(const struct bench_threshold *t, double v)
{
	switch (t->op) {
	case BENCH_TH_LT:
		return v < t->bound;
	case BENCH_TH_LE:
		return v <= t->bound;
	case BENCH_TH_GT:
		return v > t->bound;
	case BENCH_TH_GE:
		break;
	}
	return v >= t->bound;
}

const char *bench_threshold_fmt(const struct bench_threshold *t, double v, char *buf, size_t len)
{
	switch (t->metric) {
	case BENCH_TH_FAILED_PCT:
		snprintf(buf, len, "%.2f%%", v);
		break;
	case BENCH_TH_FAILED:
		snprintf(buf, len, "%.0f", v);
		break;
	case BENCH_TH_RATE:
		units_fmt_rate(buf, len, v);
		break;
	default:
		units_fmt_duration(buf, len, (int64_t)v);
		break;
	}
	return buf;
}

void bench_thresholds_eval(struct bench_result *r)
{
	const struct bench_stats *st = &r->st;
	uint64_t failed = bench_stats_failed(st);

	r->th_crossed = 0;
	for (int i = 0; i < r->cfg.nthreshold; i++) {
		const struct bench_threshold *t = &r->cfg.threshold[i];
		double v;

		switch (t->metric) {
		case BENCH_TH_FAILED_PCT: /* nothing attempted is nothing served: 100% */
			v = st->attempted ? 100.0 * (double)failed / (double)st->attempted : 100.0;
			break;
		case BENCH_TH_FAILED:
			v = (double)failed;
			break;
		case BENCH_TH_P50:
			v = (double)hist_percentile(&st->exchange, 50);
			break;
		case BENCH_TH_P90:
			v = (double)hist_percentile(&st->exchange, 90);
			break;
		case BENCH_TH_P99:
			v = (double)hist_percentile(&st->exchange, 99);
			break;
		case BENCH_TH_MAX:
			v = (double)hist_percentile(&st->exchange, 100);
			break;
		case BENCH_TH_RATE:
		default:
			v = r->elapsed_s > 0 ? (double)st->completed / r->elapsed_s : 0;
			break;
		}
		r->th_value[i] = v;
		r->th_ok[i] = bench_threshold_ok(t, v);
		if (!r->th_ok[i])
			r->th_crossed++;
	}
}
