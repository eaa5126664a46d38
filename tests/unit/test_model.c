/* Unit tests: model/ rules per era, pinned to the numbers of kernel-tw-spec.md. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "model/portsel.h"
#include "model/ports.h"
#include "model/profile.h"
#include "model/recycle.h"
#include "model/reuse.h"
#include "model/syn.h"
#include "model/timewait.h"
#include "model/tsclock.h"

#define S 1000000000LL
#define MS 1000000LL

static const struct tw_profile *prof(const char *n)
{
	const struct tw_profile *p = tw_profile_by_name(n, NULL);
	assert_non_null(p);
	return p;
}

static void test_profiles(void **st)
{
	const char *need[] = { "2.6.32", "3.10", "4.4", "4.10", "4.11", "4.19", "5.4",
			       "5.15", "6.1", "6.12", "6.14" };
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		assert_non_null(tw_profile_by_name(need[i], NULL));
	assert_string_equal(tw_profile_by_name("host", "6.18.44-fc")->name, "6.18");
	assert_string_equal(tw_profile_by_name("host", "3.10.0-1160.el7.x86_64")->name, "3.10");
	assert_string_equal(tw_profile_by_name("5.10", NULL)->name, "5.4");
	assert_null(tw_profile_by_name("banana", NULL));
	/* §4.5: recycle exists only before 4.12 */
	assert_true(tw_recycle_available(prof("4.11")));
	assert_false(tw_recycle_available(prof("4.19")));
}

/* §4.5: tcp_tw_recycle went in 4.12, reuse=2 came in 4.19. A 4.14 kernel used to fall on the
 * 4.11 profile (the newest at or below it) and was told it had tcp_tw_recycle. */
static void test_profiles_4_12_to_4_18(void **st)
{
	uint32_t v;
	assert_int_equal(tw_kernel_version_parse("4.14.0-1-generic", &v), 0);
	const struct tw_profile *p = tw_profile_for(v);
	assert_false(p->has_tw_recycle);
	assert_false(tw_recycle_available(p));
	assert_string_equal(p->name, "4.13");
	assert_string_equal(tw_profile_by_name("host", "4.15.0-213-generic")->name, "4.13");
	assert_string_equal(tw_profile_by_name("host", "4.12.14-lp150.12-default")->name, "4.12");
	assert_false(tw_profile_by_name("4.18", NULL)->has_tw_recycle);
	assert_true(tw_profile_by_name("4.11.12", NULL)->has_tw_recycle);
	/* the rest as in 4.11 until 4.19 (§2.2, §3.2 C, §6); the 1 kHz TS clock from 4.13 (§5) */
	for (int i = 0; i < 2; i++) {
		p = prof(i ? "4.13" : "4.12");
		assert_int_equal(p->reuse_default, 0);
		assert_false(p->reuse_loopback_mode);
		assert_int_equal(p->reuse_rule, TW_REUSE_SEC_GT1);
		assert_int_equal(p->port_alg, TW_PORT_ALG_HINT_PARITY);
		assert_int_equal(p->ts_offset, TW_TS_OFF_PER_HOSTS);
		assert_int_equal(p->ts_fixed_1khz, i == 1);
		assert_int_equal(p->port_lo, 32768);
		assert_int_equal(p->port_hi, 60999);
	}
	/* sorted by version: tw_profile_for depends on it */
	for (int i = 1; i < tw_profile_count(); i++)
		assert_true(tw_profile_at(i - 1)->ver < tw_profile_at(i)->ver);
}

static void test_enter_timewait(void **st)
{
	struct tw_enter_in in = { .ts_negotiated = true, .rto_ns = 200 * MS,
				  .max_tw_buckets = 10 };
	struct tw_enter_out out;
	/* §1.2: 60 s by default */
	tw_timewait_enter(prof("5.4"), &in, &out);
	assert_int_equal(out.what, TW_ENTER_TIMEWAIT);
	assert_true(out.timeout_ns == 60 * S);
	assert_false(out.counts_killed);
	/* §1.2 <= 4.11 with recycle + TS: 3.5 x RTO = 700 ms, counted TWKilled (<= 4 s) */
	in.tw_recycle = 1;
	in.recycle_ok = true;
	tw_timewait_enter(prof("3.10"), &in, &out);
	assert_true(out.timeout_ns == 700 * MS);
	assert_true(out.recycled && out.counts_killed);
	/* without timestamps recycle does not apply (§6) */
	in.ts_negotiated = false;
	tw_timewait_enter(prof("3.10"), &in, &out);
	assert_true(out.timeout_ns == 60 * S);
	/* recycle sysctl set on a 4.12+ era has no effect */
	in.ts_negotiated = true;
	tw_timewait_enter(prof("4.19"), &in, &out);
	assert_true(out.timeout_ns == 60 * S);
	/* §1.4: at the limit, no TIME-WAIT */
	in.tw_count = 10;
	tw_timewait_enter(prof("4.19"), &in, &out);
	assert_int_equal(out.what, TW_ENTER_OVERFLOW);
	in.tw_count = 9;
	tw_timewait_enter(prof("4.19"), &in, &out);
	assert_int_equal(out.what, TW_ENTER_TIMEWAIT);
	/* §7: SO_LINGER 0 */
	in.linger0 = true;
	tw_timewait_enter(prof("4.19"), &in, &out);
	assert_int_equal(out.what, TW_ENTER_RESET);
	assert_true(tw_rto_35(201 * MS) == 4 * 201 * MS - 201 * MS / 2);
}

static void test_fin_wait2(void **st)
{
	int64_t tmo;
	/* §1.1: default fin_timeout 60 s -> FIN_WAIT2 substate TW of 60 s */
	assert_int_equal(tw_fin_wait2_orphan(0, 60 * S, 200 * MS, &tmo), TW_FW2_SUBSTATE);
	assert_true(tmo == 60 * S);
	/* fin_timeout below 3.5 x RTO is raised to it */
	assert_int_equal(tw_fin_wait2_orphan(0, 100 * MS, 200 * MS, &tmo), TW_FW2_SUBSTATE);
	assert_true(tmo == 700 * MS);
	/* TCP_LINGER2 of 90 s: full socket for 30 s first */
	assert_int_equal(tw_fin_wait2_orphan(90 * S, 60 * S, 200 * MS, &tmo), TW_FW2_FULL_SOCKET);
	assert_true(tmo == 30 * S);
	assert_int_equal(tw_fin_wait2_orphan(-1, 60 * S, 200 * MS, &tmo), TW_FW2_CLOSE);
	/* FIN arrives 10 s in: re-armed to 60 s, total 70 s */
	assert_true(tw_fin_wait2_lifetime(30 * S, 10 * S) == 70 * S);
	assert_true(tw_fin_wait2_lifetime(30 * S, -1) == 30 * S);
}

static void test_timer_wheel(void **st)
{
	/* §1.3: <= 4.0 slow wheel: 52.5-60 s; later exact */
	assert_true(tw_timer_lifetime(prof("3.10"), 60 * S, 0) == 60 * S);
	assert_true(tw_timer_lifetime(prof("3.10"), 60 * S, 7499 * MS) == 52501 * MS);
	assert_true(tw_timer_lifetime(prof("4.19"), 60 * S, 7499 * MS) == 60 * S);
	assert_true(tw_timewait_mem_bytes(1000) == 1000 * (264 + 64));
}

static void test_reuse_eras(void **st)
{
	struct tw_reuse_tw tw = { .ts_recent_stamp_s = 100, .entry_ms = 100000, .snd_nxt = 7 };
	struct tw_reuse_req rq = { .reuse = 1, .delay_ms = 1000 };
	uint32_t isn = 0;
	/* §2.2 <= 4.17: now_s - stamp > 1 */
	rq.now_ms = 101999;
	assert_false(tw_reuse_unique(prof("3.10"), &tw, &rq, NULL));
	rq.now_ms = 102000;
	assert_true(tw_reuse_unique(prof("3.10"), &tw, &rq, &isn));
	assert_true(isn == 7 + 65535 + 2);
	/* 4.19 - 6.13: now_s > stamp */
	rq.now_ms = 100999;
	assert_false(tw_reuse_unique(prof("5.4"), &tw, &rq, NULL));
	rq.now_ms = 101000;
	assert_true(tw_reuse_unique(prof("5.4"), &tw, &rq, NULL));
	/* 6.14+: ms delay after entry */
	rq.now_ms = 101000;
	assert_false(tw_reuse_unique(prof("6.14"), &tw, &rq, NULL));
	rq.now_ms = 101001;
	assert_true(tw_reuse_unique(prof("6.14"), &tw, &rq, NULL));
	rq.delay_ms = 5;
	rq.now_ms = 100006;
	assert_true(tw_reuse_unique(prof("6.14"), &tw, &rq, NULL));
	/* reuse=2 only loopback on 4.19+, any non-zero is "on" before */
	rq.reuse = 2;
	rq.now_ms = 200000;
	assert_false(tw_reuse_unique(prof("5.4"), &tw, &rq, NULL));
	assert_true(tw_reuse_unique(prof("3.10"), &tw, &rq, NULL));
	tw.loopback = true;
	assert_true(tw_reuse_unique(prof("5.4"), &tw, &rq, NULL));
	/* 6.12+: FIN_WAIT2 substate never reused via the sysctl; bound port still bypasses */
	tw.fin_wait2_substate = true;
	assert_false(tw_reuse_unique(prof("6.12"), &tw, &rq, NULL));
	assert_true(tw_reuse_unique(prof("6.1"), &tw, &rq, NULL));
	rq.port_bound = true;
	assert_true(tw_reuse_unique(prof("6.12"), &tw, &rq, NULL));
	/* timestamps required, even for the bypass */
	tw.ts_recent_stamp_s = 0;
	assert_false(tw_reuse_unique(prof("6.12"), &tw, &rq, NULL));
	/* reuse 0 + not bound */
	tw.ts_recent_stamp_s = 100;
	rq.port_bound = false;
	rq.reuse = 0;
	assert_false(tw_reuse_unique(prof("3.10"), &tw, &rq, NULL));
	assert_true(tw_reuse_isn(0xffffffffu - 65536u) == 1);
}

static void test_recycle(void **st)
{
	struct tw_peer_ts e = { 0 };
	const struct tw_profile *p310 = prof("3.10"), *p44 = prof("4.4");
	/* no entry: never drops */
	assert_false(tw_recycle_syn_drop(p310, &e, true, 5, 10));
	tw_recycle_remember(&e, 1000, 10, 10);
	assert_true(e.valid && e.ts == 1000);
	/* §4.3: cached - tsval > 1 -> drop; within the window of 1 -> accept */
	assert_true(tw_recycle_syn_drop(p310, &e, true, 998, 20));
	assert_false(tw_recycle_syn_drop(p310, &e, true, 999, 20));
	assert_false(tw_recycle_syn_drop(p310, &e, true, 5000, 20));
	/* entry older than 60 s: accept */
	assert_false(tw_recycle_syn_drop(p310, &e, true, 998, 70));
	assert_true(tw_recycle_syn_drop(p310, &e, true, 998, 69));
	/* SYN without TS: 3.10 accepts, ~3.18-4.11 drops */
	assert_false(tw_recycle_syn_drop(p310, &e, false, 0, 20));
	assert_true(tw_recycle_syn_drop(p44, &e, false, 0, 20));
	/* 4.12+ has no recycle */
	assert_false(tw_recycle_syn_drop(prof("4.19"), &e, true, 1, 20));
	/* §4.1 update: older value does not overwrite a fresh entry, does after 60 s */
	tw_recycle_remember(&e, 900, 15, 15);
	assert_true(e.ts == 1000);
	tw_recycle_remember(&e, 900, 75, 75);
	assert_true(e.ts == 900);
	/* §5 paws_check */
	assert_true(tw_paws_check(100, 1, 100, 0, 2));
	assert_false(tw_paws_check(100, 1, 99, 0, 2));
	assert_true(tw_paws_check(100, 1, 99, 0, 1 + 24 * 86400));
}

static void test_syn_schedule(void **st)
{
	int64_t at[TW_SYN_MAX_TRIES], fail;
	int n;
	/* §10 3.7-6.4: 1, 3, 7, 15, 31, 63; fail 127 */
	n = tw_syn_schedule(prof("4.19"), -1, at, &fail);
	assert_int_equal(n, 6);
	assert_true(at[0] == 1 * S && at[1] == 3 * S && at[2] == 7 * S && at[5] == 63 * S);
	assert_true(fail == 127 * S);
	/* < 3.1: 3, 9, 21, 45, 93; fail 189 */
	n = tw_syn_schedule(prof("2.6.32"), -1, at, &fail);
	assert_int_equal(n, 5);
	assert_true(at[0] == 3 * S && at[1] == 9 * S && at[4] == 93 * S && fail == 189 * S);
	/* 6.5+: 1, 2, 3, 4, 5, 7, 11, 19, 35, 67; fail 131 */
	n = tw_syn_schedule(prof("6.12"), -1, at, &fail);
	assert_int_equal(n, 10);
	assert_true(at[3] == 4 * S && at[4] == 5 * S && at[5] == 7 * S && at[9] == 67 * S);
	assert_true(fail == 131 * S);
	n = tw_syn_schedule(prof("4.19"), 2, at, &fail);
	assert_int_equal(n, 2);
	assert_true(fail == 7 * S);
	/* measured on 6.18 (docs/kernel-tw-spec-notes.md): retries 1, 2, 3, 4 -> fail at 3, 7,
	 * 19, 35 s after 2, 5, 7, 8 retransmissions */
	{
		static const int nre[] = { 2, 5, 7, 8 };
		static const int64_t tf[] = { 3, 7, 19, 35 };
		for (int r = 1; r <= 4; r++) {
			n = tw_syn_schedule(prof("6.12"), r, at, &fail);
			assert_int_equal(n, nre[r - 1]);
			assert_true(fail == tf[r - 1] * S);
		}
	}
}

static void test_syn_in_timewait(void **st)
{
	struct tw_tw_seg tw = { .rcv_nxt = 1000, .ts_recent = 500, .ts_recent_stamp_s = 10 };
	/* §5.1: newer TS accepted, older TS PAWS-rejected, equal TS and old seq: ACK */
	assert_int_equal(tw_timewait_syn(&tw, true, 501, 10, 20), TW_SYN_ACCEPT);
	assert_int_equal(tw_timewait_syn(&tw, true, 499, 5000, 20), TW_SYN_ACK_PAWS);
	assert_int_equal(tw_timewait_syn(&tw, true, 500, 10, 20), TW_SYN_ACK);
	/* no TS on the TW: sequence only */
	tw.ts_recent_stamp_s = 0;
	assert_int_equal(tw_timewait_syn(&tw, false, 0, 1001, 20), TW_SYN_ACCEPT);
	assert_int_equal(tw_timewait_syn(&tw, false, 0, 999, 20), TW_SYN_ACK);
	assert_int_equal(tw_timewait_syn(&tw, true, 1, 999, 20), TW_SYN_ACK);
	assert_true(tw_timewait_rst_kills(0));
	assert_false(tw_timewait_rst_kills(1));
}

static void test_tsclock(void **st)
{
	struct tw_ts_host h = { .hz = 250, .boot = 1000, .timestamps = 1, .secret = 42 };
	/* tick rate: HZ on old eras, 1 kHz fixed after */
	assert_int_equal(tw_ts_rate(prof("3.10"), &h), 250);
	assert_int_equal(tw_ts_rate(prof("4.19"), &h), 1000);
	assert_int_equal(tw_ts_value(prof("3.10"), &h, 2 * S, 0), 1500);
	/* offsets: none < 4.10; per 4-tuple on 4.10; per host pair on 4.11 */
	assert_int_equal(tw_ts_offset(prof("3.10"), &h, 1, 40000, 2, 80), 0);
	assert_int_not_equal(tw_ts_offset(prof("4.10"), &h, 1, 40000, 2, 80),
			     tw_ts_offset(prof("4.10"), &h, 1, 40002, 2, 80));
	assert_int_equal(tw_ts_offset(prof("4.11"), &h, 1, 40000, 2, 80),
			 tw_ts_offset(prof("4.11"), &h, 1, 40002, 2, 80));
	assert_int_not_equal(tw_ts_offset(prof("4.11"), &h, 1, 40000, 2, 80),
			     tw_ts_offset(prof("4.11"), &h, 1, 40000, 3, 80));
	assert_int_not_equal(tw_ts_offset(prof("6.18"), &h, 1, 40000, 2, 80),
			     tw_ts_offset(prof("6.18"), &h, 1, 40002, 2, 80));
	/* by addresses only (a caller may keep one per pair) exactly where ports do not count */
	static const char *const eras[] = { "2.6.32", "3.10", "4.4", "4.10", "4.11", "4.12",
					    "4.13", "4.19", "5.4", "5.15", "6.1", "6.12",
					    "6.14", "6.18" };
	for (size_t i = 0; i < sizeof(eras) / sizeof(eras[0]); i++) {
		const struct tw_profile *p = prof(eras[i]);
		bool same = true;
		for (uint16_t port = 40000; port < 40016; port++)
			same &= tw_ts_offset(p, &h, 1, port, 2, 80) ==
				tw_ts_offset(p, &h, 1, 40000, 2, 81);
		assert_int_equal(tw_ts_offset_by_addrs(p, &h), same);
	}
	/* tcp_timestamps=2: no offset */
	h.timestamps = 2;
	assert_int_equal(tw_ts_offset(prof("4.10"), &h, 1, 40000, 2, 80), 0);
	assert_true(tw_ts_offset_by_addrs(prof("4.10"), &h));
	assert_true(tw_ts_negotiated(1, 2, false));
	assert_false(tw_ts_negotiated(1, 1, true));
	assert_false(tw_ts_negotiated(0, 1, false));
}

struct busy {
	struct tw_portset used;
	int calls;
};

static int busy_ok(void *arg, uint16_t port)
{
	struct busy *b = arg;
	b->calls++;
	if (tw_portset_has(&b->used, port))
		return 0;
	tw_portset_add(&b->used, port);
	return 1;
}

/* Only the top port of 1000-1010 is free. */
static int only_top_ok(void *arg, uint16_t port)
{
	(void)arg;
	return port == 1010;
}

static void test_portsel(void **st)
{
	static uint32_t table[TW_PERTURB_64K];
	static struct busy b;
	const char *eras[] = { "3.10", "4.4", "4.19", "6.1" };
	for (size_t e = 0; e < 4; e++) {
		const struct tw_profile *p = prof(eras[e]);
		struct tw_portsel ps = { .hint = 0, .perturb = table };
		struct tw_portsel_req r = { .lo = 1000, .hi = 1009, .port_offset = 12345,
					    .ok = busy_ok, .arg = &b };
		uint16_t port, first = 0;
		uint32_t probes;
		int got = 0, even = 0;
		memset(table, 0, sizeof(table));
		tw_portset_clear(&b.used);
		while (tw_port_select(p, &ps, &r, &port, &probes) == 0) {
			assert_true(port >= 1000 && port <= 1009);
			if (got == 0)
				first = port;
			if (got < 5 && (port & 1) == 0)
				even++;
			got++;
			r.rnd = (uint32_t)got * 7;
		}
		/* EADDRNOTAVAIL only after every port was handed out; the range 1000-1009 has
		 * 10 ports, an even count, so every era uses all of them */
		assert_int_equal(got, 10);
		assert_int_equal(probes, 10);
		if (p->port_alg >= TW_PORT_ALG_HINT_PARITY) {
			/* §3.2 C-E: the even pass comes first */
			assert_int_equal(even, 5);
			assert_true((first & 1) == 0);
		}
	}
	/* odd-sized range 1000-1010: from 4.6 on the scan length is 10, but the walk wraps only
	 * past 1010, so a walk from an offset >= 2 reaches the top port (and misses 1000);
	 * seen on 6.18 (kernel_facts.bats #2) */
	{
		const char *odd_eras[] = { "5.4", "6.1" };
		for (size_t e = 0; e < 2; e++) {
			const struct tw_profile *p = prof(odd_eras[e]);
			for (uint32_t off = 0; off < 10; off++) {
				table[0] = 0; /* a success moves it */
				/* 5.4: offset = hint + port_offset; 6.1: table[0] + port_offset >> 32 */
				struct tw_portsel ps = { .hint = off, .perturb = table };
				struct tw_portsel_req r = { .lo = 1000, .hi = 1010, .ok = only_top_ok,
							    .port_offset = p->port_alg ==
										   TW_PORT_ALG_PERTURB_64K
									   ? (uint64_t)off << 32
									   : 0,
							    .arg = &b };
				uint16_t port = 0;
				uint32_t probes;
				int rc = tw_port_select(p, &ps, &r, &port, &probes);
				if (off >= 2) {
					assert_int_equal(rc, 0);
					assert_int_equal(port, 1010);
				} else {
					assert_int_equal(rc, -EADDRNOTAVAIL);
				}
				/* each pass tests remaining / 2 = 5 candidates */
				assert_int_equal(probes, rc ? 10 : (10 - (off & ~1u)) / 2 + 1);
			}
		}
	}
	/* every port of 1000-1010 can be handed out; filling from offset 4 uses the top one */
	{
		const struct tw_profile *p = prof("5.4");
		struct tw_portsel ps = { .hint = 4 };
		struct tw_portsel_req r = { .lo = 1000, .hi = 1010, .ok = busy_ok, .arg = &b };
		uint16_t port;
		int got = 0;
		tw_portset_clear(&b.used);
		while (tw_port_select(p, &ps, &r, &port, NULL) == 0)
			got++;
		assert_true(got >= 10);
		assert_true(tw_portset_has(&b.used, 1010));
		assert_int_equal(tw_ports_usable(p, 1000, 1010, NULL), 11);
		assert_true(tw_ports_visited(p, 1000, 1010, 1010));
	}
	/* a 3-port range: scan of 2, the offset is always 0, the top port is never offered */
	{
		const struct tw_profile *p = prof("5.4");
		for (uint32_t off = 0; off < 8; off++) {
			struct tw_portsel ps = { .hint = off };
			struct tw_portsel_req r = { .lo = 1000, .hi = 1002, .ok = busy_ok, .arg = &b };
			uint16_t port;
			int got = 0;
			tw_portset_clear(&b.used);
			while (tw_port_select(p, &ps, &r, &port, NULL) == 0)
				got++;
			assert_int_equal(got, 2);
			assert_false(tw_portset_has(&b.used, 1002));
		}
		assert_int_equal(tw_ports_usable(p, 1000, 1002, NULL), 2);
		assert_false(tw_ports_visited(p, 1000, 1002, 1002));
		/* before 4.6 (step 1, no rounding) all three */
		assert_int_equal(tw_ports_usable(prof("3.10"), 1000, 1002, NULL), 3);
	}
	{
		struct tw_portsel ps = { 0 };
		struct tw_portsel_req r = { .lo = 1000, .hi = 1010, .ok = busy_ok, .arg = &b };
		uint16_t port;
		int got;
		/* §3.2 F: IP_LOCAL_PORT_RANGE on 6.12: step 1, all 11 */
		tw_portset_clear(&b.used);
		r.socket_range = true;
		got = 0;
		while (tw_port_select(prof("6.12"), &ps, &r, &port, NULL) == 0)
			got++;
		assert_int_equal(got, 11);
	}
	/* reserved ports are skipped */
	{
		struct tw_portset ex;
		struct tw_portsel ps = { 0 };
		struct tw_portsel_req r = { .lo = 1000, .hi = 1009, .ok = busy_ok, .arg = &b,
					    .excluded = &ex };
		uint16_t port;
		int got = 0;
		tw_portset_clear(&ex);
		assert_int_equal(tw_portset_parse_list(&ex, "1002-1004"), 0);
		tw_portset_clear(&b.used);
		while (tw_port_select(prof("4.19"), &ps, &r, &port, NULL) == 0) {
			assert_true(port < 1002 || port > 1004);
			got++;
		}
		assert_int_equal(got, 7);
	}
	/* consecutive connects to one destination climb by about 2 (§3.3) */
	{
		struct tw_portsel ps = { 0 };
		struct tw_portsel_req r = { .lo = 32768, .hi = 60999, .port_offset = 99,
					    .ok = busy_ok, .arg = &b };
		uint16_t a, c;
		tw_portset_clear(&b.used);
		assert_int_equal(tw_port_select(prof("4.19"), &ps, &r, &a, NULL), 0);
		assert_int_equal(tw_port_select(prof("4.19"), &ps, &r, &c, NULL), 0);
		assert_int_equal(c - a, 2);
	}
	assert_true(tw_ports_per_destination(prof("4.19"), true, true));
	assert_false(tw_ports_per_destination(prof("3.10"), true, true));
	assert_false(tw_ports_per_destination(prof("4.19"), true, false));
}

/* SplitMix64's first two outputs from state 0 (its published test values): the model's
 * tw_hash64(x) is the generator's output for state x, so these pin the hash and a packing
 * whose input comes out as 0 or the golden ratio. */
#define SPLITMIX_OUT1 0xe220a8397b1dcdafULL /* tw_hash64(0) */
#define SPLITMIX_OUT2 0x6e789e6aa1b965f4ULL /* tw_hash64(0x9e3779b97f4a7c15) */
#define GOLDEN64 0x9e3779b97f4a7c15ULL

static int any_ok(void *arg, uint16_t port)
{
	(void)arg;
	(void)port;
	return 1;
}

/* §3.1: port_offset, its 10 s salt on the 2022 era only, and where each era's walk starts
 * from it (§3.2 A-E), against values worked out by hand. */
static void test_port_offset(void **st)
{
	static uint32_t table[TW_PERTURB_64K];
	const uint32_t sa = 0x0a000001, da = 0x0a000102;
	const uint16_t dp = 80;
	/* the inputs packed as (saddr << 32 | daddr) ^ dport << 48 ^ epoch << 20 */
	const uint64_t pack0 = ((uint64_t)sa << 32 | da) ^ ((uint64_t)dp << 48);
	const uint64_t pack3 = pack0 ^ (3ULL << 20);
	struct tw_profile d512 = *prof("5.4"); /* era D (5.12 table_perturb[256]): no built-in */
	d512.port_alg = TW_PORT_ALG_PERTURB_256;

	/* a secret equal to the packing leaves the hash's input 0 */
	assert_true(tw_port_offset_salted(pack0, sa, da, dp, 0) == SPLITMIX_OUT1);
	assert_true(tw_port_offset_salted(pack3 ^ GOLDEN64, sa, da, dp, 3) == SPLITMIX_OUT2);
	/* every input counts */
	assert_true(tw_port_offset_salted(pack0, sa, da, 81, 0) != SPLITMIX_OUT1);
	assert_true(tw_port_offset_salted(pack0, sa + 1, da, dp, 0) != SPLITMIX_OUT1);
	assert_true(tw_port_offset_salted(pack0, sa, da + 1, dp, 0) != SPLITMIX_OUT1);
	assert_true(tw_port_offset_salted(pack0, sa, da, dp, 1) != SPLITMIX_OUT1);
	assert_true(tw_port_offset_salted(pack0 ^ 1, sa, da, dp, 0) != SPLITMIX_OUT1);

	/* the salt epoch: 10 s steps on era E (5.15+ here), fixed before */
	static const char *const fixed[] = { "2.6.32", "3.10", "4.4", "4.10", "4.19", "5.4" };
	static const char *const salted[] = { "5.15", "6.1", "6.12", "6.14", "6.18" };
	const int64_t at[] = { 0, 9999999999LL, 10 * S, 25 * S, 3600 * S };
	const int64_t want[] = { 0, 0, 1, 2, 360 };
	for (size_t t = 0; t < sizeof(at) / sizeof(at[0]); t++) {
		for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
			assert_int_equal(tw_port_offset_epoch(prof(fixed[i]), at[t]), 0);
			assert_true(tw_port_offset(prof(fixed[i]), pack0, sa, da, dp, at[t]) ==
				    SPLITMIX_OUT1);
		}
		assert_int_equal(tw_port_offset_epoch(&d512, at[t]), 0);
		for (size_t i = 0; i < sizeof(salted) / sizeof(salted[0]); i++)
			assert_int_equal(tw_port_offset_epoch(prof(salted[i]), at[t]), want[t]);
	}
	assert_true(tw_port_offset(prof("6.1"), pack0, sa, da, dp, 9 * S) == SPLITMIX_OUT1);
	assert_true(tw_port_offset(prof("6.1"), pack3 ^ GOLDEN64, sa, da, dp, 35 * S) ==
		    SPLITMIX_OUT2);
	assert_true(tw_port_offset(prof("6.1"), pack0, sa, da, dp, 10 * S) != SPLITMIX_OUT1);

	/* only era E reads the random draw (its jump) */
	assert_false(tw_portsel_uses_rnd(prof("3.10")));
	assert_false(tw_portsel_uses_rnd(prof("4.4")));
	assert_false(tw_portsel_uses_rnd(prof("4.19")));
	assert_false(tw_portsel_uses_rnd(&d512));
	assert_true(tw_portsel_uses_rnd(prof("5.15")));
	assert_true(tw_portsel_uses_rnd(prof("6.18")));

	/* where each era's walk starts from port_offset, every port free (§3.2) */
	{
		uint16_t port;
		/* A (3.10, 32768-61000: 28233 ports): lo + (1 + hint + off) % 28233; hint += 1 */
		struct tw_portsel ps = { .hint = 5 };
		struct tw_portsel_req r = { .lo = 32768, .hi = 61000, .port_offset = 28233 + 995,
					    .ok = any_ok };
		assert_int_equal(tw_port_select(prof("3.10"), &ps, &r, &port, NULL), 0);
		assert_int_equal(port, 32768 + 1001);
		assert_int_equal(ps.hint, 6);
		/* B (4.4, 32768-60999: 28232): the offset made even, then the same sequential
		 * walk from offset + 1; the hint moves by (1 + 2) & ~1 = 2 */
		ps.hint = 0;
		r.hi = 60999;
		r.port_offset = 1001;
		assert_int_equal(tw_port_select(prof("4.4"), &ps, &r, &port, NULL), 0);
		assert_int_equal(port, 32768 + 1001);
		assert_int_equal(ps.hint, 2);
		/* C (4.19): (hint + off) % 28232 with the low bit cleared, even port; hint += 2 */
		ps.hint = 28232 - 1;
		r.port_offset = 1004;
		assert_int_equal(tw_port_select(prof("4.19"), &ps, &r, &port, NULL), 0);
		assert_int_equal(port, 32768 + 1002);
		assert_int_equal(ps.hint, 28232 + 1);
		/* D (5.12): table_perturb[hash_32(off, 8)] + off; hash_32(1, 8) is the top byte
		 * of the golden ratio, 0x9e; that entry moves by 2, no other */
		memset(table, 0, sizeof(table));
		ps.perturb = table;
		table[0x9e] = 500;
		r.port_offset = 1;
		assert_int_equal(tw_port_select(&d512, &ps, &r, &port, NULL), 0);
		assert_int_equal(port, 32768 + 500);
		assert_int_equal(table[0x9e], 502);
		for (uint32_t i = 0; i < TW_PERTURB_256; i++)
			assert_true(i == 0x9e || table[i] == 0);
		/* E (5.15): table_perturb[off & 0xffff] + (off >> 32); the entry jumps by
		 * 2 * (rnd % 8) + 2 = 8 with rnd = 11 */
		memset(table, 0, sizeof(table));
		table[0x1234] = 100;
		r.port_offset = (7ULL << 32) | 0x1234;
		r.rnd = 11;
		assert_int_equal(tw_port_select(prof("5.15"), &ps, &r, &port, NULL), 0);
		assert_int_equal(port, 32768 + 106);
		assert_int_equal(table[0x1234], 108);
		assert_int_equal(table[0x1235] + table[0x1233] + table[0], 0);
	}
}

/* RFC 6528's ISN: hash of the 4-tuple and secret plus one tick per 64 ns, wrapping as u32. */
static void test_isn(void **st)
{
	const uint64_t tuple = 0x0000010200005000ULL, secret = 0x1234567890abcdefULL;
	/* the hash's input is tuple ^ secret: 0 gives SplitMix64's first output's low half */
	assert_true(tw_isn(tuple, tuple, 0) == (uint32_t)SPLITMIX_OUT1);
	assert_true(tw_isn(tuple ^ GOLDEN64, tuple, 0) == (uint32_t)SPLITMIX_OUT2);
	/* the clock: 1 per 64 ns, 15,625,000 a second, back where it was after 2^32 ticks */
	assert_true(tw_isn(tuple, tuple, 63) == 0x7b1dcdafu);
	assert_true(tw_isn(tuple, tuple, 64) == 0x7b1dcdb0u);
	assert_true(tw_isn(tuple, tuple, 64 * 1000 + 63) == 0x7b1dcdafu + 1000u);
	assert_true(tw_isn(tuple, tuple, S) == 0x7b1dcdafu + 15625000u);
	assert_true(tw_isn(tuple, tuple, (1LL << 32) * 64) == 0x7b1dcdafu);
	assert_true(tw_isn(tuple, tuple, (1LL << 32) * 64 - 64) == 0x7b1dcdafu - 1u);
	for (int64_t t = 5 * S; t < 5 * S + 64 * 100; t += 64) {
		/* deterministic, and advancing by exactly one per 64 ns whatever the tuple */
		assert_true(tw_isn(secret, tuple, t) == tw_isn(secret, tuple, t));
		assert_true(tw_isn(secret, tuple, t + 64) - tw_isn(secret, tuple, t) == 1u);
		assert_true(tw_isn(secret, tuple, t + 63) == tw_isn(secret, tuple, t));
	}
	/* differs per tuple (a port, an address) and per secret */
	uint32_t base = tw_isn(secret, tuple, 7 * S);
	assert_true(tw_isn(secret, tuple + 1, 7 * S) != base);
	assert_true(tw_isn(secret, tuple ^ (1ULL << 40), 7 * S) != base);
	assert_true(tw_isn(secret ^ 1, tuple, 7 * S) != base);
	/* a reused 4-tuple does not hash: it continues the old sequence (§2.3, §5.1) */
	assert_true(tw_reuse_isn(1000) == 1000u + 65537u);
	assert_true(tw_reuse_isn(0xffffffffu - 65536u) == 1u);
}

/* The held/full fast path must pick exactly the port the plain walk picks. */
static uint64_t held_bits[1024], full_bits[2][16];
static int plain_ok(void *arg, uint16_t port)
{
	uint32_t r = port - 1000u;
	(void)arg;
	return !((held_bits[r >> 6] >> (r & 63)) & 1);
}

static void test_portsel_fast_path(void **st)
{
	static uint32_t t1[TW_PERTURB_64K], t2[TW_PERTURB_64K], t3[TW_PERTURB_64K];
	static uint32_t t4[TW_PERTURB_64K];
	const char *eras[] = { "3.10", "4.4", "4.19", "5.15", "6.1" };
	uint64_t x = 42;
	for (size_t e = 0; e < 5; e++) {
		const struct tw_profile *p = prof(eras[e]);
		struct tw_portsel a = { .hint = 7, .perturb = t1 }, b = { .hint = 7, .perturb = t2 };
		struct tw_portsel c = { .hint = 7, .perturb = t3 }, d = { .hint = 7, .perturb = t4 };
		int first = 0; /* searches tw_port_select_first answered alone */
		memset(held_bits, 0, sizeof(held_bits));
		memset(full_bits, 0, sizeof(full_bits));
		memset(t1, 0, sizeof(t1));
		memset(t2, 0, sizeof(t2));
		memset(t3, 0, sizeof(t3));
		memset(t4, 0, sizeof(t4));
		for (int i = 0; i < 20000; i++) {
			struct tw_portsel_req ra = { .lo = 1000, .hi = 9999, .ok = plain_ok };
			struct tw_portsel_req rb, rc;
			uint16_t pa = 0, pb = 0, pc = 0, pd = 0;
			uint32_t na = 0, nb = 0, nc = 0;
			int rca, rcb, rcc, rcd;
			x = x * 6364136223846793005ULL + 1442695040888963407ULL;
			ra.port_offset = x >> 7;
			ra.rnd = (uint32_t)(x >> 40);
			rb = ra;
			rb.held = held_bits;
			rb.full[0] = full_bits[0];
			rb.full[1] = full_bits[1];
			rc = rb;
			rc.held_exact = true; /* held_bits is exact here: the same walk */
			rcc = tw_port_select(p, &c, &rc, &pc, &nc);
			/* the first-candidate shortcut, else the full search: the same port and
			 * the same state moved */
			if (tw_port_select_first(p, &d, rc.lo, rc.hi, rc.port_offset, rc.rnd,
						 held_bits, &pd)) {
				rcd = 0;
				first++;
			} else {
				rcd = tw_port_select(p, &d, &rc, &pd, NULL);
			}
			assert_int_equal(rcd, rcc);
			assert_int_equal(pd, pc);
			assert_int_equal(d.hint, c.hint);
			rca = tw_port_select(p, &a, &ra, &pa, &na);
			rcb = tw_port_select(p, &b, &rb, &pb, &nb);
			assert_int_equal(rca, rcb);
			assert_int_equal(na, nb);
			assert_int_equal(rcc, rcb);
			assert_int_equal(nc, nb);
			assert_int_equal(pc, pb);
			if (rca == 0) {
				assert_int_equal(pa, pb);
				uint32_t r = pa - 1000u;
				held_bits[r >> 6] |= 1ULL << (r & 63);
			}
			/* free a random port now and then so the walk meets holes */
			if ((x >> 60) < 7) {
				uint32_t r = (uint32_t)((x >> 20) % 9000);
				held_bits[r >> 6] &= ~(1ULL << (r & 63));
			}
			/* recompute the summaries from scratch (the naive reference) */
			memset(full_bits, 0, sizeof(full_bits));
			for (uint32_t w = 0; w < 1024; w++) {
				if ((held_bits[w] & 0x5555555555555555ULL) == 0x5555555555555555ULL)
					full_bits[0][w >> 6] |= 1ULL << (w & 63);
				if ((held_bits[w] & 0xaaaaaaaaaaaaaaaaULL) == 0xaaaaaaaaaaaaaaaaULL)
					full_bits[1][w >> 6] |= 1ULL << (w & 63);
			}
		}
		assert_memory_equal(t4, t3, sizeof(t3));
		/* eras A and B always walk; C-E mostly find their first candidate free */
		if (p->port_alg < TW_PORT_ALG_HINT_PARITY)
			assert_int_equal(first, 0);
		else
			assert_true(first > 1000); /* about 2,400 of the 20,000 here */
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_profiles),      cmocka_unit_test(test_profiles_4_12_to_4_18),
		cmocka_unit_test(test_enter_timewait),
		cmocka_unit_test(test_fin_wait2),     cmocka_unit_test(test_timer_wheel),
		cmocka_unit_test(test_reuse_eras),    cmocka_unit_test(test_recycle),
		cmocka_unit_test(test_syn_schedule),  cmocka_unit_test(test_syn_in_timewait),
		cmocka_unit_test(test_tsclock),       cmocka_unit_test(test_portsel),
		cmocka_unit_test(test_portsel_fast_path), cmocka_unit_test(test_port_offset),
		cmocka_unit_test(test_isn),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
