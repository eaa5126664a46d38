/* Unit tests: the scenario reader's hardening (via cycles through any node kind, inih's
 * limits: long section names, exact line numbers, duplicate sections and keys; the count x
 * ips and duration messages) and the memory estimate made before a run (sim_mem_estimate):
 * the reproducer is far above any default limit, an ordinary scenario is small, and
 * every built-in's estimate covers the engine's own count of its state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "common/units.h"
#include "sim/sim.h"

#define S 1000000000LL

static char err[512];

static int load(const char *text, struct sim_scenario *sc)
{
	int rc = sim_scenario_load_string(text, "t.ini", sc, err, sizeof(err));
	if (rc == 0)
		rc = sim_scenario_check(sc, "6.18.0", err, sizeof(err));
	return rc;
}

static void expect_err(const char *text, const char *needle)
{
	struct sim_scenario sc;
	assert_int_not_equal(load(text, &sc), 0);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not contain '%s'", err, needle);
}

static void expect_ok(const char *text)
{
	struct sim_scenario sc;
	if (load(text, &sc) != 0)
		fail_msg("'%s' refused: %s", text, err);
}

static void test_via_cycles(void **st)
{
	(void)st;
	/* the issue: an L7 balancer that is its own backend */
	expect_err("[client c]\nvia = l\n[l7lb l]\nvia = l\n[server s]\n",
		   "t.ini:3: [l] key 'via': the path loops: l -> l");
	/* through balancers of both kinds and a NAT, named from its first node in the file */
	expect_err("[client c]\nvia = b\n[l7lb a]\nvia = n\n[l7lb b]\nvia = a\n[nat n]\nvia = b\n"
		   "[server s]\n", "t.ini:3: [a] key 'via': the path loops: a -> n -> b -> a");
	expect_err("[client c]\nvia = n\n[nat n]\nvia = m\n[nat m]\nvia = n\n[server s]\n",
		   "the path loops: n -> m -> n");
	expect_err("[client c]\nvia = x\n[l4lb x]\nvia = y\n[l7lb y]\nvia = x\n[server s]\n",
		   "the path loops: x -> y -> x");
	/* a loop nobody uses is refused too */
	expect_err("[client c]\nvia = s\n[l7lb l]\nvia = l\n[server s]\n", "l -> l");
	/* chains without loops still pass */
	expect_ok("[client c]\nvia = a\n[l7lb a]\nvia = b\n[l7lb b]\nvia = s\n[server s]\n");
	expect_ok("[client c]\nvia = n\n[nat n]\nvia = l\n[l7lb l]\nvia = s\n[server s]\n");
}

static void test_sections_and_lines(void **st)
{
	char text[600], name[80];
	(void)st;
	/* a long name is refused at its line (inih would cut it at 49 characters) */
	memset(name, 'x', 60);
	name[60] = 0;
	snprintf(text, sizeof(text), "[server s]\n[client %s]\nvia = s\n", name);
	expect_err(text, "t.ini:2: section name 'xxxxxxxxxxxxxxxxxxxxxxxx...' is 60 characters");
	/* blanks pad a header past inih's 49: refused, not silently cut into another name */
	snprintf(text, sizeof(text), "[server s]\n[client%50s]\nvia = s\nrate = x\n", "c");
	expect_err(text, "t.ini:2: section header");
	/* duplicates name both lines */
	expect_err("[sim]\nseed = 1\n[client c]\nvia = s\n[server s]\n[sim]\nseed = 2\n",
		   "t.ini:6: duplicate section [sim] (first at line 1)");
	expect_err("[client c]\nvia = s\n[server s]\n[client c]\n",
		   "t.ini:4: duplicate section name 'c' (first at line 1)");
	expect_err("[client c]\nrate = 5\nvia = s\nrate = 6\n[server s]\n",
		   "t.ini:4: [client c] duplicate key 'rate' (first at line 2)");
	expect_err("[sim]\nduration = 5s\n\nduration = 6s\n[client c]\nvia = s\n[server s]\n",
		   "t.ini:4: [sim] duplicate key 'duration' (first at line 2)");
	/* the same key in two sections is no duplicate */
	expect_ok("[client a]\nrate = 5\nvia = s\n[client b]\nrate = 5\nvia = s\n[server s]\n");
	/* a ';' after a blank starts a comment before the '=': refused at its own line, where
	 * it used to shift every later line number by one */
	expect_err("[client c]\nrate ;= 5\nvia = s\n[server s]\nbogus = 1\n",
		   "t.ini:2: expected KEY = VALUE or [section] (a ';' after a blank");
	/* comments holding '=' and inline comments: later lines keep their numbers */
	expect_err("[client c]\nvia = s ; x = y\n# a = b\n; c = d\nrat = 5\n[server s]\n",
		   "t.ini:5: [client c] unknown key 'rat'");
	expect_err("[client c]\r\nvia = s ; x = y\r\n\r\nrat = 5\r\n[server s]\r\n",
		   "t.ini:4: [client c] unknown key 'rat'");
	/* [server] alone is named server, and messages say the header as written */
	expect_err("[server]\nbogus = 1\n[client c]\nvia = server\n", "t.ini:2: [server] unknown key");
	/* the longest line inih reads whole: 198 characters (CRLF too); 199 is refused */
	memset(text, 0, sizeof(text));
	strcpy(text, "[client c]\nvia = s\n[server s]\n;");
	memset(text + strlen(text), 'c', 197);
	strcat(text, "\r\n");
	expect_ok(text);
	text[strlen(text) - 2] = 'c';
	strcpy(text + strlen(text) - 1, "\n");
	expect_err(text, "t.ini:4: line too long (199 characters, at most 198)");
}

static void test_messages(void **st)
{
	struct sim_scenario sc;
	int64_t ns;
	(void)st;
	/* the limit is on count x ips: both factors named, not 'an integer 1-64' */
	expect_err("[client c]\ncount = 60000\nips = 2\nvia = s\n[server s]\n",
		   "t.ini:3: [client c] key 'ips': count x ips must be at most 60000, got count "
		   "60000 x ips 2 = 120000");
	expect_err("[client c]\nips = 2\ncount = 30001\nvia = s\n[server s]\n",
		   "key 'count': count x ips must be at most 60000, got count 30001 x ips 2 = 60002");
	expect_ok("[client c]\nips = 2\ncount = 30000\nvia = s\n[server s]\n");
	assert_int_equal(load("[client c]\nvia = s\n[server s]\n", &sc), 0);
	assert_int_equal(sim_scenario_set(&sc, "c.ips=2", err, sizeof(err)), 0);
	assert_int_not_equal(sim_scenario_set(&sc, "c.count=60000", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "count x ips must be at most 60000, got count 60000 x ips 2"));
	/* 1s-7d, both ends included, and 7d is a duration */
	assert_int_equal(units_parse_duration("7d", &ns), 0);
	assert_true(ns == 7 * 86400 * S);
	assert_int_equal(units_parse_duration("1.5d", &ns), 0);
	assert_true(ns == 36 * 3600 * S);
	assert_int_equal(sim_scenario_set(&sc, "sim.duration=7d", err, sizeof(err)), 0);
	assert_true(sc.duration_ns == 7 * 86400 * S);
	assert_int_equal(sim_scenario_set(&sc, "sim.duration=168h", err, sizeof(err)), 0);
	assert_int_equal(sim_scenario_set(&sc, "sim.duration=1s", err, sizeof(err)), 0);
	assert_int_not_equal(sim_scenario_set(&sc, "sim.duration=8d", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "expected a duration 1s-7d, got '8d'"));
	assert_int_not_equal(sim_scenario_set(&sc, "sim.duration=999ms", err, sizeof(err)), 0);
	expect_ok("[sim]\nduration = 7d\n[client c]\nvia = s\n[server s]\n");
}

static struct sim_mem_estimate estimate(const char *text, const char *const *sets, bool series)
{
	struct sim_scenario sc;
	struct sim_mem_estimate m;
	assert_int_equal(load(text, &sc), 0);
	for (; sets && *sets; sets++)
		assert_int_equal(sim_scenario_set(&sc, *sets, err, sizeof(err)), 0);
	struct sim_config cfg = { .sc = &sc, .host_release = "6.18.0", .no_series = !series };
	assert_int_equal(sim_mem_estimate(&cfg, &m), 0);
	assert_true(m.total >= m.base + m.hosts + m.conns + m.time_wait + m.series);
	return m;
}

static void test_estimate(void **st)
{
	static const char ok[] = "[sim]\nduration=2s\n[client c]\nvia=s\n[server s]\n";
	static const char *const repro[] = { "c.count=60000", NULL };
	static const char *const huge[] = { "c.rate=10M/s", "sim.duration=168h",
					    "c.closes=server", NULL };
	struct sim_mem_estimate m;
	(void)st;
	/* the reproducer: 60,000 hosts, each with 6.1's 64Ki-entry port table */
	m = estimate(ok, repro, false);
	assert_true(m.total > 8ULL << 30);
	assert_true(m.hosts > m.conns + m.time_wait);
	assert_int_equal(m.nhosts, 60001);
	assert_int_equal(m.host_node, 0);
	/* an ordinary run is small */
	m = estimate(ok, NULL, false);
	assert_true(m.total < 32ULL << 20);
	/* 10M/s closed by the server for a week: 600M TIME-WAITs (60 s of closes) */
	m = estimate(ok, huge, true);
	assert_true(m.tw_max >= 600000000ULL);
	assert_true(m.time_wait > 30ULL << 30);
	assert_int_equal(m.tw_node, 0);
	assert_true(m.series > (uint64_t)604800 * 88 * 2);
	/* the client's own TIME-WAITs are bounded by its ports (no reuse) */
	static const char *const cl[] = { "c.rate=10M/s", NULL };
	m = estimate(ok, cl, false);
	assert_true(m.tw_max <= 28232);
}

/* Every built-in: the estimate covers what the engine counts of its own state at the end
 * (its pools' and tables' capacities), so it is an upper bound of those at least. */
static void test_estimate_builtins(void **st)
{
	(void)st;
	for (int i = 0; i < sim_builtin_count(); i++) {
		struct sim_scenario sc;
		struct sim_result r;
		struct sim_mem_estimate m;
		assert_int_equal(sim_scenario_load_builtin(sim_builtin_name(i), &sc, err,
							   sizeof(err)), 0);
		if (!strcmp(sim_builtin_name(i), "tw-memory"))
			sc.duration_ns = 70 * S; /* past the 60 s of TIME-WAIT growth */
		struct sim_config cfg = { .sc = &sc, .host_release = "6.18.0", .no_series = true };
		assert_int_equal(sim_mem_estimate(&cfg, &m), 0);
		assert_int_equal(sim_run(&cfg, &r), 0);
		if (m.conns + m.time_wait + m.hosts < r.sim_bytes_peak ||
		    m.tw_max < r.tw_records_peak)
			fail_msg("%s: estimate %llu (TIME-WAIT %llu) below the engine's %llu (%llu)",
				 sim_builtin_name(i), (unsigned long long)(m.conns + m.time_wait),
				 (unsigned long long)m.tw_max,
				 (unsigned long long)r.sim_bytes_peak,
				 (unsigned long long)r.tw_records_peak);
		/* and not absurdly above: within 4x of the engine's state plus 16 MiB */
		assert_true(m.total < 4 * r.sim_bytes_peak + (16ULL << 20));
		sim_result_fini(&r);
	}
}

/* sc written by sim_scenario_write and read back: the same scenario (section lines aside). */
static void round_trip(const struct sim_scenario *sc, const char *what)
{
	struct sim_scenario back;
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(sim_scenario_write(f, sc), 0);
	fclose(f);
	if (sim_scenario_load_string(text, "written", &back, err, sizeof(err)) != 0)
		fail_msg("%s: written text refused: %s\n%s", what, err, text);
	assert_string_equal(back.name, sc->name);
	assert_string_equal(back.kernel, sc->kernel);
	assert_true(back.duration_ns == sc->duration_ns && back.seed == sc->seed);
	assert_int_equal(back.nnodes, sc->nnodes);
	for (int i = 0; i < sc->nnodes; i++) {
		struct sim_node a = sc->nodes[i];

		a.line = back.nodes[i].line;
		if (memcmp(&a, &back.nodes[i], sizeof(a)) != 0)
			fail_msg("%s: node %s differs after writing:\n%s", what, a.name, text);
	}
	free(text);
}

/* sim_scenario_write: every built-in, and a file setting every key type away from its
 * default, read back the same */
static void test_write(void **st)
{
	struct sim_scenario sc;

	(void)st;
	for (int i = 0; i < sim_builtin_count(); i++) {
		assert_int_equal(
		    sim_scenario_load_builtin(sim_builtin_name(i), &sc, err, sizeof(err)), 0);
		round_trip(&sc, sim_builtin_name(i));
	}
	assert_int_equal(
	    load("[sim]\nname = every-key\nduration = 1500ms\nseed = 77\nkernel = 4.19\n"
		 "[client c]\nkernel = 5.4\ncount = 3\nips = 2\ntw_reuse = 2\n"
		 "tw_recycle = 0\ntimestamps = 2\ntw_reuse_delay = 400\n"
		 "max_tw_buckets = 0\nport_range = 1024-2047\nhz = 250\nrto = 1ms\n"
		 "syn_retries = 3\narrival = ramp\nrate = 0.3/s\nrate_to = 12.5k/s\n"
		 "requests = 7\ncloses = server\nlinger0 = yes\nbind_port = yes\n"
		 "port_select = app\nconnect_probe_ns = 0\nconnect_base_ns = 1234\n"
		 "rtt = 1.5us\nidle = 2m\nvia = g\n"
		 "[nat g]\nips = 3\nprofile = azure-lb-snat\nnodes = 10\n"
		 "ports_per_host = 1024\nmax_per_destination = 512\n"
		 "tcp_time_wait_timeout = 0\nidle_timeout = 4m\nvia = n\n"
		 "[nat n]\nmapping = random\nmapping_timeout = 0\nvia = l4\n"
		 "[l4lb l4]\nstrip_timestamps = yes\nmapping_timeout = 90s\nvia = l7\n"
		 "[l7lb l7]\nrfc1337 = 1\nports = 2\nservice_time = 3ms\nvia = s\n"
		 "[server s]\nports = 9\nservice_time = 250us\nrfc1337 = 1\n",
		 &sc),
	    0);
	round_trip(&sc, "every-key");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_via_cycles),	      cmocka_unit_test(test_sections_and_lines),
	    cmocka_unit_test(test_messages),	      cmocka_unit_test(test_estimate),
	    cmocka_unit_test(test_estimate_builtins), cmocka_unit_test(test_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
