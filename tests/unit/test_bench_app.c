/*
 * test_bench_app — the pure parts of issue 18's bench work: the port cursors of --port-select
 * app (order, wrap, independence, concurrent use without losing a step), which failures move
 * a connection to another port, the app budget's sentence from the model's bound-port rule,
 * the CPU ceiling against the ports' (which binds first), the calibration's line fit, and
 * the options (--port-select, --calibrate) with their conflicts.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bench/bench.h"
#include "bench/bench_calibrate.h"
#include "bench/bench_cpu.h"
#include "bench/bench_portsel.h"
#include "model/profile.h"
#include "model/reuse.h"

#include "bench_fixture.h"

static void test_cursor_order(void **state)
{
	struct bench_portsel *ps = NULL;
	(void)state;
	assert_int_equal(bench_portsel_new(40000, 40003, 2, &ps), 0);
	/* in order from lo, wrapping to lo after hi */
	const uint16_t want[] = {40000, 40001, 40002, 40003, 40000, 40001};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		assert_int_equal(bench_portsel_next(ps, 0), want[i]);
	/* cursor 1 has not moved; an index out of range uses cursor 0 */
	assert_int_equal(bench_portsel_next(ps, 1), 40000);
	assert_int_equal(bench_portsel_next(ps, 7), 40002);
	bench_portsel_free(ps);
	bench_portsel_free(NULL);
	/* one port: always that one */
	assert_int_equal(bench_portsel_new(5, 5, 1, &ps), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(bench_portsel_next(ps, 0), 5);
	bench_portsel_free(ps);
	/* the whole port space wraps to 1 */
	assert_int_equal(bench_portsel_new(1, 65535, 1, &ps), 0);
	for (int i = 0; i < 65535; i++)
		assert_int_equal(bench_portsel_next(ps, 0), i + 1);
	assert_int_equal(bench_portsel_next(ps, 0), 1);
	bench_portsel_free(ps);
}

static void test_cursor_bad(void **state)
{
	struct bench_portsel *ps = NULL;
	(void)state;
	assert_int_equal(bench_portsel_new(0, 10, 1, &ps), -EINVAL);
	assert_int_equal(bench_portsel_new(11, 10, 1, &ps), -EINVAL);
	assert_int_equal(bench_portsel_new(10, 11, 0, &ps), -EINVAL);
	assert_null(ps);
	assert_int_equal(bench_portsel_cursor(0, 0, 4), 0);
	assert_int_equal(bench_portsel_cursor(2, 3, 4), 11);
}

#define SHARE_THREADS 4
#define SHARE_STEPS 25000

static void *take(void *arg)
{
	struct bench_portsel *ps = arg;
	uint32_t *seen = calloc(1000, sizeof(*seen));
	for (int i = 0; i < SHARE_STEPS; i++)
		seen[bench_portsel_next(ps, 0) - 1000]++;
	return seen;
}

/* threads sharing a cursor: every step is taken once, so each port comes as often */
static void test_cursor_shared(void **state)
{
	struct bench_portsel *ps = NULL;
	pthread_t th[SHARE_THREADS];
	uint32_t total[1000] = {0};
	(void)state;
	assert_int_equal(bench_portsel_new(1000, 1999, 1, &ps), 0);
	for (int i = 0; i < SHARE_THREADS; i++)
		assert_int_equal(pthread_create(&th[i], NULL, take, ps), 0);
	for (int i = 0; i < SHARE_THREADS; i++) {
		uint32_t *seen;
		assert_int_equal(pthread_join(th[i], (void **)&seen), 0);
		assert_non_null(seen);
		for (int k = 0; k < 1000; k++)
			total[k] += seen[k];
		free(seen);
	}
	for (int k = 0; k < 1000; k++)
		assert_int_equal(total[k], SHARE_THREADS * SHARE_STEPS / 1000);
	assert_int_equal(bench_portsel_next(ps, 0), 1000); /* 100,000 steps: back at lo */
	bench_portsel_free(ps);
}

static void test_retryable(void **state)
{
	(void)state;
	assert_true(bench_portsel_retryable(EADDRINUSE, true));
	assert_false(bench_portsel_retryable(EADDRNOTAVAIL, true)); /* not a local address */
	assert_false(bench_portsel_retryable(EACCES, true));
	assert_true(bench_portsel_retryable(EADDRNOTAVAIL, false)); /* the 4-tuple is held */
	assert_true(bench_portsel_retryable(EADDRINUSE, false));
	assert_false(bench_portsel_retryable(ENETUNREACH, false));
	assert_false(bench_portsel_retryable(ECONNREFUSED, false));
}

static void test_app_explain(void **state)
{
	const struct tw_profile *p = tw_profile_by_name("6.18", NULL);
	struct tw_reuse_scope sc = {
	    .reuse = 0, .timestamps = 1, .peer_timestamps = 1, .loopback = true, .outgoing = true};
	char b[512];
	double rate;
	(void)state;
	assert_non_null(p);
	/* timestamps both ends: taken over at once, even with tcp_tw_reuse=0: no bound */
	rate = bench_portsel_explain(p, &sc, 28232, 1, b, sizeof(b));
	assert_true(rate == 0);
	assert_non_null(strstr(b, "even with tcp_tw_reuse=0"));
	assert_non_null(strstr(b, "28,232 ports"));
	assert_non_null(strstr(b, "SO_REUSEADDR"));
	assert_non_null(strstr(b, "timestamps alone"));
	sc.reuse = 2;
	bench_portsel_explain(p, &sc, 28232, 1, b, sizeof(b));
	assert_non_null(strstr(b, "whatever tcp_tw_reuse says"));
	/* no timestamps here: each 4-tuple held the 60 s: 500 x 4 / 60 */
	sc.timestamps = 0;
	rate = bench_portsel_explain(p, &sc, 500, 4, b, sizeof(b));
	assert_true(fabs(rate - 2000.0 / 60.0) < 1e-9);
	assert_non_null(strstr(b, "never taken over"));
	/* the peer unknown: conditional, no bound claimed */
	sc.timestamps = 1;
	sc.peer_timestamps = -1;
	rate = bench_portsel_explain(p, &sc, 500, 1, b, sizeof(b));
	assert_true(rate == 0);
	assert_non_null(strstr(b, "if the server negotiates timestamps"));
}

static void test_cpu_ceiling(void **state)
{
	struct bench_cpu c;
	char b[512];
	(void)state;
	/* 4.08 s of kernel time over 70,788 connections: 57.6 us each, 17.4k/s per core */
	bench_cpu_compute(4.08, 0.09, 5.0, 70788, 2, 28232, &c);
	assert_true(fabs(c.sys_us_per_conn - 4.08e6 / 70788) < 1e-9);
	assert_true(fabs(c.user_us_per_conn - 0.09e6 / 70788) < 1e-9);
	assert_true(fabs(c.cpu_rate - 2 * 70788 / 4.08) < 1e-6);
	assert_true(fabs(c.cores_busy - 4.17 / 5.0) < 1e-9);
	assert_int_equal(c.binds, BENCH_BIND_PORTS); /* 28.2k < 34.7k */
	assert_true(bench_cpu_explain(&c, 14124, b, sizeof(b)) > 0);
	assert_non_null(strstr(b, "ports 28k/s"));
	assert_non_null(strstr(b, "57.6 us"));
	assert_non_null(strstr(b, "x 2 cores"));
	assert_non_null(strstr(b, "ports bind first"));
	assert_non_null(strstr(b, "measured 14k/s"));
	/* one core: 17.4k/s is below the ports' 28k/s */
	bench_cpu_compute(4.08, 0.09, 5.0, 70788, 1, 28232, &c);
	assert_int_equal(c.binds, BENCH_BIND_CPU);
	assert_string_equal(bench_bind_str(c.binds), "cpu");
	/* the ports set no bound (app, server closes): the CPU binds */
	bench_cpu_compute(3.88, 0.23, 4.0, 134000, 2, 0, &c);
	assert_int_equal(c.binds, BENCH_BIND_CPU);
	bench_cpu_explain(&c, 33000, b, sizeof(b));
	assert_non_null(strstr(b, "ports none"));
	/* nothing attempted: no figure, no sentence, no division by zero */
	bench_cpu_compute(0.5, 0.1, 1.0, 0, 2, 471, &c);
	assert_true(c.sys_us_per_conn == 0 && c.cpu_rate == 0);
	assert_int_equal(c.binds, BENCH_BIND_PORTS);
	assert_int_equal(bench_cpu_explain(&c, 0, b, sizeof(b)), 0);
	assert_string_equal(b, "");
	bench_cpu_compute(0, 0, 0, 0, 0, 0, &c);
	assert_int_equal(c.binds, BENCH_BIND_NONE);
	assert_int_equal(c.cores, 1);
	assert_true(bench_cpu_count() >= 1);
}

static void test_cal_fit(void **state)
{
	const double x[] = {8192, 16384, 28232};
	double y[3], slope, icept, r2;
	(void)state;
	for (int i = 0; i < 3; i++)
		y[i] = 400 + 125 * x[i];
	assert_int_equal(bench_cal_fit(x, y, 3, &slope, &icept, &r2), 0);
	assert_true(fabs(slope - 125) < 1e-9);
	assert_true(fabs(icept - 400) < 1e-6);
	assert_true(fabs(r2 - 1) < 1e-12);
	/* noisy: r2 below 1, slope between */
	y[1] += 200000;
	assert_int_equal(bench_cal_fit(x, y, 3, &slope, &icept, &r2), 0);
	assert_true(r2 < 1 && r2 > 0.9);
	/* degenerate: one point, or every x equal */
	assert_int_equal(bench_cal_fit(x, y, 1, &slope, &icept, &r2), -EINVAL);
	const double same[] = {5, 5, 5};
	assert_int_equal(bench_cal_fit(same, y, 3, &slope, &icept, &r2), -EINVAL);
	/* flat y: r2 1 by convention */
	const double flat[] = {7, 7, 7};
	assert_int_equal(bench_cal_fit(x, flat, 3, &slope, &icept, &r2), 0);
	assert_true(slope == 0 && r2 == 1);
}

static void test_cfg_app(void **state)
{
	struct bench_cfg c;
	char err[256];
	(void)state;
	assert_int_equal(parse("bench", &c, err), 0);
	assert_int_equal(c.port_select, BENCH_PORTSEL_KERNEL);
	assert_false(c.calibrate);
	assert_int_equal(parse("bench --port-select app --local-port-range 40000-40499", &c, err),
			 0);
	assert_int_equal(c.port_select, BENCH_PORTSEL_APP);
	assert_int_equal(c.lpr_lo, 40000);
	assert_int_equal(parse("bench run --target 127.0.0.1:80 --port-select kernel", &c, err), 0);
	assert_int_equal(c.port_select, BENCH_PORTSEL_KERNEL);
	assert_int_equal(parse("bench --port-select random", &c, err), -EINVAL);
	assert_non_null(strstr(err, "--port-select 'random'"));
	assert_int_equal(parse("bench --port-select app --bind-no-port off", &c, err), -EINVAL);
	assert_non_null(strstr(err, "binds each port itself"));
	assert_int_equal(parse("bench serve --port-select app", &c, err), -EINVAL);
	assert_int_equal(parse("bench --calibrate", &c, err), 0);
	assert_true(c.calibrate);
	assert_int_equal(parse("bench run --target 127.0.0.1:80 --calibrate", &c, err), -EINVAL);
	assert_non_null(strstr(err, "--calibrate"));
	assert_int_equal(parse("bench --calibrate --matrix builtin", &c, err), -EINVAL);
	/* a matrix variant overrides the command line's choice */
	assert_int_equal(bench_cfg_variant(1, (char *[]){"bench", NULL}, "--port-select app", &c,
					   err, sizeof(err)),
			 0);
	assert_int_equal(c.port_select, BENCH_PORTSEL_APP);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cursor_order),  cmocka_unit_test(test_cursor_bad),
	    cmocka_unit_test(test_cursor_shared), cmocka_unit_test(test_retryable),
	    cmocka_unit_test(test_app_explain),	  cmocka_unit_test(test_cpu_ceiling),
	    cmocka_unit_test(test_cal_fit),	  cmocka_unit_test(test_cfg_app),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
