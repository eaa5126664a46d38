/*
 * test_portsearch — model/portsearch: connect()'s probes and established-hash checks per era
 * against a reference walk written here from the spec's pseudocode (§3.2 A-F), over hand-made
 * and random maps of free, held, TIME-WAIT young/old, bound and reserved ports; the bound-port
 * path (§2.3); the expected-probes estimate doctor uses; the CPU price.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/portsearch.h"

static const struct tw_profile *era(const char *name)
{
	const struct tw_profile *p = tw_profile_by_name(name, NULL);
	assert_non_null(p);
	return p;
}

struct ref {
	int rc;
	uint32_t probes, checks, port;
	bool takeover;
};

/* one candidate, as §2.1 / §3.2 A's per-port test reads: 1 taken, 0 refused */
static int ref_try(const uint8_t *map, uint32_t k, struct ref *o)
{
	o->probes++;
	switch (map[k]) {
	case TW_PORT_RESERVED:
	case TW_PORT_BOUND:
		return 0;
	case TW_PORT_FREE:
		return 1;
	case TW_PORT_SHARED:
		o->checks++;
		return 1;
	case TW_PORT_TW_OLD:
		o->checks++;
		o->takeover = true;
		return 1;
	default:
		o->checks++;
		return 0;
	}
}

/* §3.2 A (<= 4.1) and B (4.2-4.5, even start): for i = 1..remaining, low + (i + offset) % remaining */
static struct ref ref_seq(uint32_t lo, uint32_t hi, const uint8_t *map, uint32_t start, bool even)
{
	struct ref o = { .rc = -EADDRNOTAVAIL };
	uint32_t remaining = hi - lo + 1, offset = start % remaining;
	if (even)
		offset &= ~1u;
	for (uint32_t i = 1; i <= remaining; i++) {
		uint32_t k = (i + offset) % remaining;
		if (ref_try(map, k, &o)) {
			o.rc = 0;
			o.port = lo + k;
			return o;
		}
	}
	return o;
}

/* §3.2 C-E (4.6+): high = hi + 1, remaining rounded down to even, offset even, pass over
 * low + offset stepping 2 (minus remaining once past high), then offset + 1 */
static struct ref ref_parity(uint32_t lo, uint32_t hi, const uint8_t *map, uint32_t start)
{
	struct ref o = { .rc = -EADDRNOTAVAIL };
	uint32_t high = hi + 1, remaining = high - lo;
	if (remaining > 1)
		remaining &= ~1u;
	uint32_t offset = (start % remaining) & ~1u;
	for (;;) {
		uint32_t port = lo + offset;
		for (uint32_t i = 0; i < remaining; i += 2, port += 2) {
			if (port >= high)
				port -= remaining;
			if (ref_try(map, port - lo, &o)) {
				o.rc = 0;
				o.port = port;
				return o;
			}
		}
		offset++;
		if (!((offset & 1) && remaining > 1))
			break;
	}
	return o;
}

/* §3.2 F (6.8+, IP_LOCAL_PORT_RANGE): step 1 from low + offset, no rounding */
static struct ref ref_step1(uint32_t lo, uint32_t hi, const uint8_t *map, uint32_t start)
{
	struct ref o = { .rc = -EADDRNOTAVAIL };
	uint32_t high = hi + 1, remaining = high - lo, port = lo + start % remaining;
	for (uint32_t i = 0; i < remaining; i++, port++) {
		if (port >= high)
			port -= remaining;
		if (ref_try(map, port - lo, &o)) {
			o.rc = 0;
			o.port = port;
			return o;
		}
	}
	return o;
}

static struct ref reference(const struct tw_profile *p, uint32_t lo, uint32_t hi,
			    const uint8_t *map, uint32_t start, bool socket_range)
{
	if (socket_range && p->has_local_port_range_opt)
		return ref_step1(lo, hi, map, start);
	if (p->port_alg == TW_PORT_ALG_HINT_SEQ)
		return ref_seq(lo, hi, map, start, false);
	if (p->port_alg == TW_PORT_ALG_HINT_EVEN)
		return ref_seq(lo, hi, map, start, true);
	return ref_parity(lo, hi, map, start);
}

static void check_one(const struct tw_profile *p, uint16_t lo, uint16_t hi, const uint8_t *map,
		      uint32_t start, bool socket_range)
{
	struct tw_connect_probe_req r = { .lo = lo, .hi = hi, .state = map, .start = start,
					  .socket_range = socket_range };
	struct tw_connect_search o;
	struct ref want = reference(p, lo, hi, map, start, socket_range);
	int rc = tw_connect_search(p, &r, &o);
	if (rc != want.rc || o.probes != want.probes || o.ehash_checks != want.checks ||
	    (rc == 0 && (o.port != want.port || o.takeover != want.takeover)))
		fail_msg("era %s range %u-%u start %u%s: model rc %d port %u probes %u checks %u, "
			 "reference rc %d port %u probes %u checks %u",
			 p->name, lo, hi, start, socket_range ? " (socket range)" : "", rc, o.port,
			 o.probes, o.ehash_checks, want.rc, want.port, want.probes, want.checks);
	assert_int_equal(tw_connect_probes(p, &r), want.probes);
}

static const char *const eras[] = { "2.6.32", "4.4", "4.10", "5.4", "5.15", "6.12", "6.18" };

/* Hand-worked: range 1000-1009 (10 ports), every even-relative port held, the odd ones free.
 * 4.6+: the even pass refuses 5 (5 checks), the odd pass takes its first: 6 probes.
 * <= 4.1 from start 0: candidates 1001 (free) at once: 1 probe. */
static void test_hand_worked(void **state)
{
	(void)state;
	uint8_t map[10];
	for (int k = 0; k < 10; k++)
		map[k] = k % 2 ? TW_PORT_FREE : TW_PORT_HELD;
	struct tw_connect_probe_req r = { .lo = 1000, .hi = 1009, .state = map, .start = 4 };
	struct tw_connect_search o;
	assert_int_equal(tw_connect_search(era("6.18"), &r, &o), 0);
	assert_int_equal(o.probes, 6);
	assert_int_equal(o.ehash_checks, 5);
	assert_int_equal(o.port, 1005);
	assert_false(o.takeover);
	r.start = 0;
	assert_int_equal(tw_connect_search(era("3.10"), &r, &o), 0);
	assert_int_equal(o.probes, 1);
	assert_int_equal(o.ehash_checks, 0);
	assert_int_equal(o.port, 1001);

	/* a young TIME-WAIT everywhere but one old one at 1007: 4.6+ from 0 walks the even
	 * half (5), then 1001, 1003, 1005, 1007: 9 probes, 9 checks, a takeover */
	memset(map, TW_PORT_TW_YOUNG, sizeof(map));
	map[7] = TW_PORT_TW_OLD;
	assert_int_equal(tw_connect_search(era("5.4"), &r, &o), 0);
	assert_int_equal(o.probes, 9);
	assert_int_equal(o.ehash_checks, 9);
	assert_int_equal(o.port, 1007);
	assert_true(o.takeover);

	/* all young: EADDRNOTAVAIL after every port of both passes */
	map[7] = TW_PORT_TW_YOUNG;
	assert_int_equal(tw_connect_search(era("6.18"), &r, &o), -EADDRNOTAVAIL);
	assert_int_equal(o.probes, 10);
	assert_int_equal(o.ehash_checks, 10);

	/* reserved and bound ports: examined, never checked */
	memset(map, TW_PORT_RESERVED, 5);
	memset(map + 5, TW_PORT_BOUND, 5);
	assert_int_equal(tw_connect_search(era("6.18"), &r, &o), -EADDRNOTAVAIL);
	assert_int_equal(o.probes, 10);
	assert_int_equal(o.ehash_checks, 0);
}

/* §2.3: the bound-port path examines nothing and makes one check; any timestamped
 * TIME-WAIT is taken over, whatever its age */
static void test_bound_path(void **state)
{
	(void)state;
	uint8_t map[4] = { TW_PORT_TW_YOUNG, TW_PORT_HELD, TW_PORT_TW_NOTS, TW_PORT_FREE };
	struct tw_connect_probe_req r = { .lo = 2000, .hi = 2003, .state = map, .bound = true };
	struct tw_connect_search o;
	for (size_t e = 0; e < sizeof(eras) / sizeof(eras[0]); e++) {
		const struct tw_profile *p = era(eras[e]);
		r.bound_port = 2000;
		assert_int_equal(tw_connect_search(p, &r, &o), 0);
		assert_int_equal(o.probes, 0);
		assert_int_equal(o.ehash_checks, 1);
		assert_true(o.takeover);
		r.bound_port = 2001;
		assert_int_equal(tw_connect_search(p, &r, &o), -EADDRNOTAVAIL);
		r.bound_port = 2002;
		assert_int_equal(tw_connect_search(p, &r, &o), -EADDRNOTAVAIL);
		r.bound_port = 2003;
		assert_int_equal(tw_connect_search(p, &r, &o), 0);
		assert_int_equal(o.ehash_checks, 0);
		assert_int_equal(tw_connect_probes(p, &r), 0);
		r.bound_port = 2004;
		assert_int_equal(tw_connect_search(p, &r, &o), -EINVAL);
	}
}

/* Every era against the reference, random maps at several occupancies, odd and even range
 * sizes (the odd-size wrap of 4.6+ included), every start of small ranges. */
static void test_against_reference(void **state)
{
	(void)state;
	static uint8_t map[3000];
	static const uint16_t sizes[] = { 1, 2, 3, 7, 10, 64, 129, 1000, 2999 };
	static const double fill[] = { 0.0, 0.3, 0.5, 0.9, 0.99, 1.0 };
	srandom(18);
	for (size_t e = 0; e < sizeof(eras) / sizeof(eras[0]); e++) {
		const struct tw_profile *p = era(eras[e]);
		for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
			uint16_t lo = 40000, hi = (uint16_t)(lo + sizes[z] - 1);
			for (size_t f = 0; f < sizeof(fill) / sizeof(fill[0]); f++) {
				for (uint32_t k = 0; k < sizes[z]; k++) {
					double u = (double)random() / RAND_MAX;
					if (u >= fill[f] && fill[f] < 1.0)
						map[k] = random() % 2 ? TW_PORT_FREE : TW_PORT_SHARED;
					else /* refused: held, young, untimestamped, bound, reserved */
						map[k] = (uint8_t[]){ TW_PORT_HELD, TW_PORT_TW_YOUNG,
								      TW_PORT_TW_NOTS, TW_PORT_BOUND,
								      TW_PORT_RESERVED }[random() % 5];
					if (fill[f] == 0.99 && random() % 50 == 0)
						map[k] = TW_PORT_TW_OLD;
				}
				uint32_t nstarts = sizes[z] <= 130 ? sizes[z] + 3 : 40;
				for (uint32_t s = 0; s < nstarts; s++) {
					uint32_t start = sizes[z] <= 130 ? s : (uint32_t)random();
					check_one(p, lo, hi, map, start, false);
					check_one(p, lo, hi, map, start, true);
				}
			}
		}
	}
}

/* The parity eras fill one half first: with the even-relative half full the search costs
 * that half before the odd pass (the known cliff), where the sequential era costs little. */
static void test_cliff(void **state)
{
	(void)state;
	static uint8_t map[28232];
	uint16_t lo = 32768, hi = 60999;
	for (uint32_t k = 0; k < 28232; k++)
		map[k] = k % 2 ? TW_PORT_FREE : TW_PORT_TW_YOUNG;
	struct tw_connect_probe_req r = { .lo = lo, .hi = hi, .state = map, .start = 1234 };
	assert_int_equal(tw_connect_probes(era("6.18"), &r), 14116 + 1);
	assert_int_equal(tw_connect_probes(era("4.10"), &r), 14116 + 1);
	assert_true(tw_connect_probes(era("3.10"), &r) <= 2);
	/* the full range: 28232 probes, then EADDRNOTAVAIL */
	memset(map, TW_PORT_TW_YOUNG, sizeof(map));
	assert_int_equal(tw_connect_probes(era("6.18"), &r), 28232);
	/* IP_LOCAL_PORT_RANGE on 6.12+ has no parity: the first odd port */
	for (uint32_t k = 0; k < 28232; k++)
		map[k] = k % 2 ? TW_PORT_FREE : TW_PORT_TW_YOUNG;
	r.socket_range = true;
	assert_true(tw_connect_probes(era("6.18"), &r) <= 2);
}

static void test_expected(void **state)
{
	(void)state;
	const struct tw_profile *p = era("6.18");
	/* empty range: the first candidate */
	assert_true(tw_connect_probes_expected(p, 28232, 0, 0) == 1.0);
	/* even half full: that half, then about one more */
	double e = tw_connect_probes_expected(p, 28232, 14116, 0);
	assert_true(e > 14116.0 && e < 14118.0);
	/* everything blocked: the failing walk */
	assert_true(tw_connect_probes_expected(p, 28232, 28232, 0) == 28232.0);
	/* half of one half blocked: (h + 1) / (h / 2 + 1), about 2 */
	e = tw_connect_probes_expected(p, 1000, 250, 0);
	assert_true(e > 1.9 && e < 2.1);
	/* a sequential era has no cliff: (n + 1) / (n - b + 1) */
	e = tw_connect_probes_expected(era("3.10"), 28232, 14116, 0);
	assert_true(e > 1.9 && e < 2.1);
	assert_true(tw_connect_probes_expected(p, 0, 0, 0) == 0.0);
}

static void test_price(void **state)
{
	(void)state;
	assert_int_equal(tw_connect_cost_ns(0, 30, 12000), 12000);
	assert_int_equal(tw_connect_cost_ns(28232, 30, 12000), 12000 + 846960);
	/* 90 us per connect: one core sustains about 11.1k/s */
	double r = tw_connect_cpu_rate(90000);
	assert_true(r > 11110.0 && r < 11112.0);
	assert_true(tw_connect_cpu_rate(0) == 0.0);
	/* invalid input */
	struct tw_connect_probe_req q = { .lo = 10, .hi = 5 };
	struct tw_connect_search o;
	assert_int_equal(tw_connect_search(era("6.18"), &q, &o), -EINVAL);
	assert_int_equal(tw_connect_probes(era("6.18"), &q), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hand_worked),       cmocka_unit_test(test_bound_path),
		cmocka_unit_test(test_against_reference), cmocka_unit_test(test_cliff),
		cmocka_unit_test(test_expected),          cmocka_unit_test(test_price),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
