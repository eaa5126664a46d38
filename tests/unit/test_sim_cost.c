/*
 * test_sim_cost — sim's connect() price: ports examined and kernel CPU per connecting node
 * (model/portsearch.h), the CPU bound the engine enforces (connects wait behind a busy core,
 * latency rises, the rate is capped at one core / price), port_select = app (no search,
 * takeover of the exact 4-tuple's TIME-WAIT) and the keys' parsing. Expected numbers are
 * worked out from the prices here, not read back from the simulator.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "model/portsearch.h"
#include "sim/sim.h"

static char err[512];

static void load(struct sim_scenario *sc, const char *name, const char *const *sets)
{
	assert_int_equal(sim_scenario_load_builtin(name, sc, err, sizeof(err)), 0);
	for (; sets && *sets; sets++)
		if (sim_scenario_set(sc, *sets, err, sizeof(err)))
			fail_msg("%s: %s", *sets, err);
}

static void run(const struct sim_scenario *sc, struct sim_result *r)
{
	struct sim_config cfg = { .sc = sc, .host_release = "6.18.0", .no_series = true };
	if (sim_run(&cfg, r))
		fail_msg("sim_run failed");
}

/* Below every bound: one port examined per connect, base + 1 probe each, no wait. */
static void test_low_occupancy(void **st)
{
	(void)st;
	struct sim_scenario sc;
	struct sim_result r;
	static const char *const sets[] = { "sim.duration=10s", "loadgen.rate=100/s", NULL };
	load(&sc, "stress-client", sets);
	run(&sc, &r);
	const struct sim_host_result *h = sim_result_host(&r, "loadgen");
	assert_non_null(h);
	assert_int_equal(h->cpu.calls, 1000);
	assert_int_equal(h->cpu.probes.max, 1);
	assert_int_equal(h->cpu.cpu_ns,
			 1000 * tw_connect_cost_ns(1, TW_CONNECT_PROBE_NS_DEFAULT,
						   TW_CONNECT_BASE_NS_DEFAULT));
	assert_int_equal(h->cpu.queued, 0);
	/* per completed connection: the last one may still be in flight at the end */
	double us = sim_sys_us_per_conn(h), want = (TW_CONNECT_BASE_NS_DEFAULT +
						    TW_CONNECT_PROBE_NS_DEFAULT) / 1e3;
	assert_true(h->c.connections_ok >= 999);
	assert_true(us >= want - 0.001 && us < want * 1.002);
	sim_result_fini(&r);
}

/* A price of 1 ms per connect at 2000/s: one core does 1000/s, so about half the arrivals
 * run in the run's time, the rest wait (latency grows toward seconds) or are dropped. */
static void test_cpu_bound_caps_rate(void **st)
{
	(void)st;
	struct sim_scenario sc;
	struct sim_result r;
	static const char *const sets[] = { "sim.duration=10s", "loadgen.rate=2000/s",
					    "loadgen.connect_base_ns=1000000",
					    "loadgen.connect_probe_ns=0", NULL };
	load(&sc, "stress-client", sets);
	run(&sc, &r);
	const struct sim_host_result *h = sim_result_host(&r, "loadgen");
	/* 10 s of one core at 1 ms each: 10,000 calls at most (+1 started at the end) */
	assert_true(h->cpu.calls >= 9990 && h->cpu.calls <= 10001);
	assert_true(h->cpu.queued > 9000);
	assert_true(h->c.connections_ok <= 10001);
	/* the waits: half-way through the backlog is ~5 s deep */
	assert_true(hist_percentile(&r.latency, 50) > 1000000000ull);
	sim_result_fini(&r);

	/* the same price at 500/s: no wait, every arrival runs */
	static const char *const sets2[] = { "sim.duration=10s", "loadgen.rate=500/s",
					     "loadgen.connect_base_ns=1000000",
					     "loadgen.connect_probe_ns=0", NULL };
	load(&sc, "stress-client", sets2);
	run(&sc, &r);
	h = sim_result_host(&r, "loadgen");
	assert_int_equal(h->cpu.calls, 5000);
	assert_int_equal(h->cpu.queued, 0);
	assert_true(hist_percentile(&r.latency, 50) < 10000000ull);
	sim_result_fini(&r);
}

/* Past the port bound the failing walk examines the whole range (28,232 on 5.4's default
 * range, both parities) and the probe price makes it cost a core. */
static void test_failing_walk(void **st)
{
	(void)st;
	struct sim_scenario sc;
	struct sim_result r;
	static const char *const sets[] = { "sim.duration=40s", "loadgen.connect_probe_ns=100",
					    NULL };
	load(&sc, "stress-client", sets);
	run(&sc, &r);
	const struct sim_host_result *h = sim_result_host(&r, "loadgen");
	assert_int_equal(h->cpu.probes.max, 28232);
	/* the first parity held: every connect after 14,116 walks it before the odd pass */
	assert_true(hist_percentile(&h->cpu.probes, 99) >= 14116);
	/* failing connects cost 2.8 ms each: one core does ~350/s of them, below the 1000/s
	 * offered, so connects wait */
	assert_true(h->cpu.queued > 0);
	assert_true(h->c.connect_errors[SIM_ERR_EADDRNOTAVAIL] < 12 * 400);
	sim_result_fini(&r);
}

/* port_select = app: no search (0 probes: base price only), the exact 4-tuple's TIME-WAIT
 * is taken over at once, no EADDRNOTAVAIL far above the kernel search's budget */
static void test_app_ports(void **st)
{
	(void)st;
	struct sim_scenario sc;
	struct sim_result r;
	static const char *const sets[] = { "sim.duration=70s", "loadgen.port_select=app",
					    "loadgen.tw_reuse=0", NULL };
	load(&sc, "stress-client", sets);
	run(&sc, &r);
	const struct sim_host_result *h = sim_result_host(&r, "loadgen");
	assert_int_equal(h->c.connect_errors[SIM_ERR_EADDRNOTAVAIL], 0);
	assert_true(h->c.connections_ok >= 69999);
	assert_true(h->c.tw_recycled > 70000 - 28232 - 10);
	assert_int_equal(h->cpu.probes.max, 1);
	assert_int_equal(h->c.port_select_fail, 0);
	sim_result_fini(&r);

	/* without timestamps the takeover is refused: the cursor moves on, counted, until
	 * a whole lap fails */
	static const char *const sets2[] = { "sim.duration=40s", "loadgen.port_select=app",
					     "loadgen.timestamps=0", "loadgen.connect_probe_ns=0",
					     "loadgen.connect_base_ns=0", NULL };
	load(&sc, "stress-client", sets2);
	run(&sc, &r);
	h = sim_result_host(&r, "loadgen");
	assert_true(h->c.connect_errors[SIM_ERR_EADDRNOTAVAIL] > 0);
	assert_true(h->c.port_select_fail > 0);
	sim_result_fini(&r);
}

static void test_keys(void **st)
{
	(void)st;
	struct sim_scenario sc;
	load(&sc, "stress-client", NULL);
	assert_int_equal(sc.nodes[0].connect_probe_ns, TW_CONNECT_PROBE_NS_DEFAULT);
	assert_int_equal(sc.nodes[0].connect_base_ns, TW_CONNECT_BASE_NS_DEFAULT);
	assert_int_equal(sc.nodes[0].port_select, SIM_PORTSEL_KERNEL);
	assert_int_equal(sim_scenario_set(&sc, "loadgen.connect_probe_ns=110", err, sizeof(err)), 0);
	assert_int_equal(sc.nodes[0].connect_probe_ns, 110);
	assert_int_not_equal(sim_scenario_set(&sc, "loadgen.connect_probe_ns=-1", err, sizeof(err)),
			     0);
	assert_non_null(strstr(err, "connect_probe_ns"));
	assert_int_not_equal(sim_scenario_set(&sc, "loadgen.port_select=random", err, sizeof(err)),
			     0);
	assert_non_null(strstr(err, "kernel or app"));
	assert_int_not_equal(sim_scenario_set(&sc, "web.port_select=app", err, sizeof(err)), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_low_occupancy), cmocka_unit_test(test_cpu_bound_caps_rate),
		cmocka_unit_test(test_failing_walk),  cmocka_unit_test(test_app_ports),
		cmocka_unit_test(test_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
