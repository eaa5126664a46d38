/*
 * test_budget — model/budget: a group's budget, the rate it sustains, the time to exhaustion,
 * whether reuse would help, and the server's TIME-WAIT under a SYN (§5.1), per era. The
 * expected numbers are worked out by hand here, not by calling the model twice.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <string.h>

#include "model/budget.h"
#include "model/syn.h"

static const struct tw_profile *era(const char *name)
{
	const struct tw_profile *p = tw_profile_by_name(name, NULL);
	assert_non_null(p);
	return p;
}

static struct tw_budget_in client(uint16_t lo, uint16_t hi)
{
	struct tw_budget_in in = { .port_lo = lo, .port_hi = hi, .sources = 1, .dest_ports = 1,
				   .bind_no_port = true, .client_closes = true,
				   .reuse = { .reuse = 0, .timestamps = 1, .peer_timestamps = 1,
					      .outgoing = true },
				   .syn_retries = -1 };
	return in;
}

/* The classic ceiling: 28,232 ports / 60 s = 470.5/s on 4.6+ default ranges. */
static void test_tw_bound_by_era(void **st)
{
	const char *eras[] = { "3.10", "4.19", "5.15", "6.1", "6.18" };
	for (size_t i = 0; i < sizeof(eras) / sizeof(eras[0]); i++) {
		const struct tw_profile *p = era(eras[i]);
		struct tw_budget_in in = client(32768, 60999);
		struct tw_budget_out out;
		assert_int_equal(tw_budget_compute(p, &in, &out), 0);
		assert_int_equal(out.why, TW_BUDGET_TW_BOUND);
		assert_int_equal(out.ports, 28232);
		assert_int_equal(out.hold_ms, 60000);
		assert_true(fabs(out.rate - 28232.0 / 60.0) < 1e-9);
	}
	(void)st;
}

/* reuse=1 with timestamps both ends: a TIME-WAIT is taken over after > 1 s on a seconds
 * clock (2 s worst case) before ~4.18, > 0 s (1 s) until 6.13, after tcp_tw_reuse_delay on 6.14+ (§2.2). */
static void test_reuse_bound(void **st)
{
	struct tw_budget_in in = client(40000, 40999);
	struct tw_budget_out out;
	in.reuse.reuse = 1;
	assert_int_equal(tw_budget_compute(era("4.4"), &in, &out), 0);
	assert_int_equal(out.why, TW_BUDGET_REUSE_BOUND);
	assert_int_equal(out.hold_ms, 2000); /* "> 1 s" on a seconds clock */
	assert_true(fabs(out.rate - 500.0) < 1e-9);
	assert_int_equal(tw_budget_compute(era("5.15"), &in, &out), 0);
	assert_int_equal(out.hold_ms, 1000); /* "> 0 s" on monotonic seconds (4.19 - 6.13) */
	assert_true(fabs(out.rate - 1000.0) < 1e-9);
	in.reuse_delay_ms = 400;
	assert_int_equal(tw_budget_compute(era("6.18"), &in, &out), 0);
	assert_int_equal(out.hold_ms, 400);
	assert_true(fabs(out.rate - 2500.0) < 1e-9);
	/* the peer strips timestamps: back to 60 s, and reuse=1 would not help */
	in.reuse.peer_timestamps = 0;
	assert_int_equal(tw_budget_compute(era("6.18"), &in, &out), 0);
	assert_int_equal(out.why, TW_BUDGET_TW_BOUND);
	assert_int_equal(out.reuse_why, TW_REUSE_TS_OFF_PEER);
	assert_false(tw_reuse_would_help(era("6.18"), &in.reuse));
	in.reuse.peer_timestamps = 1;
	in.reuse.reuse = 0;
	assert_true(tw_reuse_would_help(era("6.18"), &in.reuse));
	/* reuse=2 only helps loopback (4.18+ default) */
	in.reuse.reuse = 2;
	assert_int_equal(tw_budget_compute(era("6.18"), &in, &out), 0);
	assert_int_equal(out.why, TW_BUDGET_TW_BOUND);
	in.reuse.loopback = true;
	assert_int_equal(tw_budget_compute(era("6.18"), &in, &out), 0);
	assert_int_equal(out.why, TW_BUDGET_REUSE_BOUND);
	(void)st;
}

/* Server closes first / linger0: no client TIME-WAIT, no bound. The accepting side's view:
 * no ceiling, and what a colliding SYN waits. */
static void test_server_side(void **st)
{
	struct tw_budget_in in = client(32768, 60999);
	struct tw_budget_out out;
	in.client_closes = false;
	assert_int_equal(tw_budget_compute(era("6.18"), &in, &out), 0);
	assert_int_equal(out.why, TW_BUDGET_NO_CLIENT_TW);
	assert_true(out.rate == 0 && out.hold_ms == 0);

	in = client(32768, 60999);
	in.reuse.outgoing = false;
	assert_int_equal(tw_budget_compute(era("6.18"), &in, &out), 0);
	assert_int_equal(out.why, TW_BUDGET_SERVER_TW);
	assert_true(out.rate == 0);
	assert_int_equal(out.srv_syn, TW_SRV_REOPEN_TS);
	assert_true(out.srv_wait_ns == 0);
	/* without timestamps: a SYN that fails the sequence test waits for the first SYN
	 * retransmission, 1 s from 3.1 on (§10), 3 s before */
	in.reuse.peer_timestamps = 0;
	assert_int_equal(tw_budget_compute(era("6.18"), &in, &out), 0);
	assert_int_equal(out.srv_syn, TW_SRV_REOPEN_SEQ);
	assert_true(out.srv_wait_ns == 1000000000LL);
	assert_int_equal(tw_budget_compute(era("2.6.32"), &in, &out), 0);
	assert_true(out.srv_wait_ns == 3000000000LL);
	/* rfc1337=1: the client's RST does not kill the TIME-WAIT: up to its full length */
	in.rfc1337 = 1;
	assert_int_equal(tw_budget_compute(era("6.18"), &in, &out), 0);
	assert_true(out.srv_wait_ns == TW_TIMEWAIT_LEN_NS);
	in.reuse.peer_timestamps = -1;
	assert_int_equal(tw_server_tw_syn(era("6.18"), 1, -1, -1, 0, NULL), TW_SRV_UNKNOWN);
	assert_int_equal(tw_server_tw_syn(era("6.18"), 0, 1, -1, 0, NULL), TW_SRV_REOPEN_SEQ);
	assert_non_null(strstr(tw_server_tw_syn_str(TW_SRV_REOPEN_TS), "no ceiling"));
	(void)st;
}

static void test_bind_and_sources(void **st)
{
	struct tw_budget_in in = client(40000, 40999);
	struct tw_budget_out out;
	in.sources = 4;
	in.dest_ports = 3;
	assert_int_equal(tw_budget_compute(era("6.18"), &in, &out), 0);
	assert_int_equal(out.tuples, 12000);
	in.bind_no_port = false; /* bind(ip, 0): host-unique ports, destinations do not add */
	assert_int_equal(tw_budget_compute(era("6.18"), &in, &out), 0);
	assert_int_equal(out.tuples, 4000);
	in.sources = 0;
	assert_int_equal(tw_budget_compute(era("6.18"), &in, &out), -EINVAL);
	(void)st;
}

static void test_rates(void **st)
{
	assert_true(tw_budget_rate(28232, 60000) > 470.5 && tw_budget_rate(28232, 60000) < 470.6);
	assert_true(tw_budget_rate(1000, 0) == 0);
	assert_int_equal(tw_age_ms(59000), 1000);
	assert_int_equal(tw_age_ms(70000), 0);
	/* a churn seen for 8 s is not averaged over a 10 s window */
	assert_true(tw_rate_from_ages(800, 8000, 10000) == 100.0);
	assert_true(tw_rate_from_ages(800, 30000, 10000) == 80.0);
	assert_true(tw_rate_from_ages(1, 10, 10000) == 1.0); /* never under one second */
	assert_true(tw_rate_from_ages(0, 0, 10000) == 0.0);
	(void)st;
}

/* 1,000 4-tuples, 800 TIME-WAITs 0-8 s old at 100/s: 200 left, 2 s at 100/s. */
static void test_eta(void **st)
{
	uint16_t left[61] = { 0 };
	for (int s = 52; s < 60; s++)
		left[s] = 100;
	double e = tw_budget_eta_s(1000, 0, left, 61, 100.0, 60000);
	assert_true(e > 1.99 && e < 2.01);
	/* the steady state fits: 10/s x 60 s = 600 < 1000 */
	assert_true(tw_budget_eta_s(1000, 0, left, 61, 10.0, 60000) < 0);
	/* already full */
	assert_true(tw_budget_eta_s(800, 0, left, 61, 1.0, 60000) == 0);
	/* with reuse after 2 s only the TIME-WAITs younger than 2 s hold a 4-tuple: 200 of
	 * them, and 100/s x 2 s = 200 more never fills 1,000 */
	assert_true(tw_budget_eta_s(1000, 0, left, 61, 100.0, 2000) < 0);
	/* old TIME-WAITs expire as new ones come: 900 that expire in the next second leave
	 * room; 100 free + 900 freed in 1 s at 200/s -> 1000/200 = 5 s (the last 900 s are
	 * not enough to refill) */
	uint16_t old[61] = { 0 };
	old[0] = 900;
	e = tw_budget_eta_s(1000, 0, old, 61, 200.0, 60000);
	assert_true(e > 4.99 && e < 5.01);
	(void)st;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tw_bound_by_era), cmocka_unit_test(test_reuse_bound),
		cmocka_unit_test(test_server_side),     cmocka_unit_test(test_bind_and_sources),
		cmocka_unit_test(test_rates),           cmocka_unit_test(test_eta),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
