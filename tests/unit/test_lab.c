/* Unit tests: lab/ pure parts — JSON reader, bench report parsing, catalogue and plan,
 * addresses, relay report lines, fidelity arithmetic. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "lab/lab_compare.h"
#include "lab/lab_nginx.h"
#include "lab/lab_relay.h"
#include "lab/lab_run.h"
#include "lab/lab_scen.h"
#include "lab/lab_topo.h"

/* lab reads bench's JSON with jansson: garbage, truncation and deep nesting are refused
 * with -EPROTO, never a crash; a document without "totals" is not bench's */
static void test_json_garbage(void **st)
{
	static const char *const bad[] = { "", "{", "[1,", "{\"a\" 1}", "{\"a\":}", "tru",
					   "\"abc", "[1] x", "{\"a\":1,}", "\x01\x02", "-",
					   "\"\\q\"", "[1, 2]", "{\"totals\": 3}",
					   "{\"series\": []}" };
	const char *t = "{\"schema\":\"twkit.bench/1\",\"totals\":{\"attempted\":3,"
			"\"completed\":2,\"failed\":{\"EADDRNOTAVAIL\":1},\"rate\":2,\"non_2xx\":0},"
			"\"series\":[{\"t\":1,\"rate\":2,\"EADDRNOTAVAIL\":1}]}";
	char deep[3000];
	struct lab_result r;

	(void)st;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&r, 0, sizeof(r));
		assert_int_equal(lab_bench_parse(bad[i], strlen(bad[i]), &r), -EPROTO);
	}
	/* nesting beyond jansson's bound is refused, not recursed into */
	memset(deep, '[', sizeof(deep));
	assert_int_equal(lab_bench_parse(deep, sizeof(deep), &r), -EPROTO);
	/* every proper prefix of a valid document fails cleanly; the whole one parses */
	for (size_t n = 0; n < strlen(t); n++)
		assert_int_equal(lab_bench_parse(t, n, &r), -EPROTO);
	assert_int_equal(lab_bench_parse(t, strlen(t), &r), 0);
	assert_int_equal(r.attempted, 3);
	assert_int_equal(r.failed, 1);
	/* an embedded NUL is an error, not a truncated read */
	assert_int_equal(lab_bench_parse("{\"totals\":{}}\0x", 15, &r), -EPROTO);
}

static void test_bench_parse(void **st)
{
	const char *t = "{\"schema\":\"twkit.bench/1\",\"totals\":{\"attempted\":1600,"
			"\"completed\":1000,\"failed\":{\"EADDRNOTAVAIL\":600},\"rate\":62.4,"
			"\"non_2xx\":0},\"series\":[{\"t\":9,\"rate\":100,\"failed\":0,"
			"\"EADDRNOTAVAIL\":0},{\"t\":10,\"rate\":40,\"failed\":60,\"EADDRNOTAVAIL\":60},"
			"{\"t\":11,\"rate\":0,\"failed\":100,\"EADDRNOTAVAIL\":100}]}";
	/* the same with one of bench's keys missing: an error, never a silent 0 */
	static const char *const drop[] = { "\"schema\":\"twkit.bench/1\",", "\"non_2xx\":0",
					    "\"completed\":1000,", "\"EADDRNOTAVAIL\":60" };
	struct lab_result r;
	char buf[1024];

	memset(&r, 0, sizeof(r));
	assert_int_equal(lab_bench_parse(t, strlen(t), &r), 0);
	assert_int_equal(r.attempted, 1600);
	assert_int_equal(r.completed, 1000);
	assert_int_equal(r.failed, 600);
	assert_int_equal(r.nerr, 1);
	assert_string_equal(r.errs[0].name, "EADDRNOTAVAIL");
	assert_int_equal(r.bench_rows, 3);
	assert_true(r.bench_ean[1] == 60 && r.bench_ok[1] == 40);
	for (size_t i = 0; i < sizeof(drop) / sizeof(drop[0]); i++) {
		const char *at = strstr(t, drop[i]);
		size_t n = (size_t)(at - t);
		assert_non_null(at);
		snprintf(buf, sizeof(buf), "%.*s%s", (int)n, t, at + strlen(drop[i]));
		if (i == 1) /* the comma before non_2xx */
			buf[n - 1] = ' ';
		if (i == 3) /* the comma before EADDRNOTAVAIL */
			buf[n - 1] = ' ';
		assert_int_equal(lab_bench_parse(buf, strlen(buf), &r), -EPROTO);
	}
	/* another schema is not bench's */
	snprintf(buf, sizeof(buf), "%s", t);
	memcpy(strstr(buf, "bench/1"), "bench/2", 7);
	assert_int_equal(lab_bench_parse(buf, strlen(buf), &r), -EPROTO);
	assert_int_equal(lab_bench_parse("{\"x\":1}", 7, &r), -EPROTO);
	assert_int_equal(lab_bench_parse("not json", 8, &r), -EPROTO);
	(void)st;
}

static void test_catalogue_and_plan(void **st)
{
	struct sim_scenario sc;
	struct lab_plan p;
	char err[256];

	for (int i = 0; i < lab_catalog_count(); i++) {
		const struct lab_entry *e = lab_catalog_at(i);
		int rc = lab_catalog_scenario(e->name, &sc);

		if (e->unsupported) {
			assert_int_equal(rc, -EOPNOTSUPP);
			assert_non_null(strstr(e->unsupported, "twkit sim"));
			continue;
		}
		assert_int_equal(rc, 0);
		assert_int_equal(lab_plan_from_sim(&sc, &p, err, sizeof(err)), 0);
		assert_true(p.nhosts == 2 || p.nhosts == 3);
		assert_int_equal(p.hosts[0].role, LAB_ROLE_CLIENT);
		assert_int_equal(p.hosts[p.nhosts - 1].role, LAB_ROLE_SERVER);
		assert_true(p.duration_ns <= LAB_MAX_DURATION_NS);
	}
	assert_int_equal(lab_catalog_scenario("nope", &sc), -ENOENT);

	assert_int_equal(lab_catalog_scenario("stress-client", &sc), 0);
	assert_int_equal(lab_plan_from_sim(&sc, &p, err, sizeof(err)), 0);
	assert_int_equal(p.middle, -1);
	assert_string_equal(p.hosts[0].sysctl[0].name, "net.ipv4.ip_local_port_range");
	assert_string_equal(p.hosts[0].sysctl[0].value, "40000 40999");
	assert_string_equal(lab_addr_target(&p), "192.0.2.100");

	assert_int_equal(lab_catalog_scenario("slb-strips-ts", &sc), 0);
	assert_int_equal(lab_plan_from_sim(&sc, &p, err, sizeof(err)), 0);
	assert_int_equal(p.middle, 1);
	assert_int_equal(p.middle_kind, SIM_NODE_L7LB);
	assert_string_equal(lab_addr_target(&p), "192.0.2.254");
	{
		bool ts0 = false;

		for (int k = 0; k < p.hosts[1].nsysctl; k++)
			if (strcmp(p.hosts[1].sysctl[k].name, "net.ipv4.tcp_timestamps") == 0)
				ts0 = strcmp(p.hosts[1].sysctl[k].value, "0") == 0;
		assert_true(ts0);
	}
	assert_int_equal(lab_catalog_scenario("slb-strips-ts-l4", &sc), 0);
	assert_int_equal(lab_plan_from_sim(&sc, &p, err, sizeof(err)), 0);
	assert_true(p.strip_timestamps);
	assert_string_equal(lab_addr_target(&p), "203.0.113.10");

	/* what the lab cannot build is refused with a reason */
	assert_int_equal(lab_catalog_scenario("stress-client", &sc), 0);
	sc.nodes[0].tw_recycle = 1;
	assert_int_equal(lab_plan_from_sim(&sc, &p, err, sizeof(err)), -EOPNOTSUPP);
	assert_non_null(strstr(err, "4.12"));
	assert_int_equal(lab_catalog_scenario("stress-client", &sc), 0);
	sc.duration_ns = 91LL * 1000000000LL;
	assert_int_equal(lab_plan_from_sim(&sc, &p, err, sizeof(err)), -EOPNOTSUPP);
	assert_int_equal(lab_catalog_scenario("stress-client", &sc), 0);
	sc.nodes[0].count = 10;
	assert_int_equal(lab_plan_from_sim(&sc, &p, err, sizeof(err)), -EOPNOTSUPP);
	assert_int_equal(lab_catalog_scenario("stress-client", &sc), 0);
	memcpy(sc.nodes[0].via, "nowhere", 8);
	assert_int_equal(lab_plan_from_sim(&sc, &p, err, sizeof(err)), -EOPNOTSUPP);
}

/* Each entry's key facts, pinned: its hosts (kinds, names, via chain) and every key that
 * differs from sim's defaults, as sim_scenario_write writes them (one line, sections after
 * [sim]), and the client's rate (100/s is also sim's default, so the file does not show it). */
static const struct {
	const char *name, *nodes;
	double rate;
} pins[] = {
    {"stress-client",
     "[client client] tw_reuse=0 port_range=40000-40999 rtt=100us via=server [server server]", 100},
    {"stress-client-server-close",
     "[client client] tw_reuse=0 port_range=40000-40999 closes=server rtt=100us via=server "
     "[server server]",
     100},
    {"stress-client-wide", "[client client] tw_reuse=0 rtt=100us via=server [server server]", 100},
    {"server-close-one-remote",
     "[client client] tw_reuse=0 rate=1500/s closes=server rtt=100us via=server [server server]",
     1500},
    {"lb-server-close",
     "[client client] tw_reuse=0 rate=1500/s closes=server rtt=100us via=lb "
     "[l7lb lb] tw_reuse=0 closes=server rtt=100us via=server [server server]",
     1500},
    {"stress-client-linger0",
     "[client client] tw_reuse=0 port_range=40000-40999 linger0=yes rtt=100us via=server "
     "[server server]",
     100},
    {"stress-client-4ips",
     "[client client] ips=4 tw_reuse=0 port_range=40000-40999 rtt=100us via=server "
     "[server server]",
     100},
    {"stress-client-nat",
     "[client client] tw_reuse=0 port_range=40000-40999 rtt=100us via=nat [nat nat] via=server "
     "[server server]",
     100},
    {"tw-reuse-client",
     "[client client] tw_reuse=1 port_range=40000-40999 rtt=100us via=server [server server]", 100},
    {"lb-quadruplets",
     "[client client] tw_reuse=0 rtt=100us via=lb [l7lb lb] tw_reuse=0 port_range=40000-40999 "
     "rtt=100us via=server [server server]",
     100},
    {"slb-strips-ts",
     "[client client] tw_reuse=1 port_range=40000-40999 rtt=100us via=lb [l7lb lb] timestamps=0 "
     "rtt=100us via=server [server server]",
     100},
    {"slb-strips-ts-l4",
     "[client client] tw_reuse=1 port_range=40000-40999 rtt=100us via=lb [l4lb lb] via=server "
     "mapping_timeout=120s strip_timestamps=yes [server server]",
     100},
    {"bucket-overflow",
     "[client client] tw_reuse=0 max_tw_buckets=500 rtt=100us via=server [server server]", 100},
    {"connect-cost-low",
     "[client client] tw_reuse=1 port_range=40000-49999 rate=1000/s rtt=100us via=server "
     "[server server]",
     1000},
    {"connect-cost-half",
     "[client client] tw_reuse=1 port_range=40000-42799 rate=1000/s rtt=100us via=server "
     "[server server]",
     1000},
    {"connect-cost-full",
     "[client client] tw_reuse=1 port_range=40000-41399 rate=1000/s rtt=100us via=server "
     "[server server]",
     1000},
};

/* The sections after [sim] of sim_scenario_write's text, on one line ("key=value"). */
static void one_line(const char *text, char *out, size_t len)
{
	const char *p = strstr(text, "\n\n[");
	size_t o = 0;

	out[0] = '\0';
	for (p = p ? p + 2 : ""; *p;) {
		size_t n = strcspn(p, "\n");
		const char *eq = memmem(p, n, " = ", 3);

		if (eq && o < len)
			o += (size_t)snprintf(out + o, len - o, "%s%.*s=%.*s", o ? " " : "",
					      (int)(eq - p), p, (int)(n - (size_t)(eq - p) - 3),
					      eq + 3);
		else if (n && o < len)
			o += (size_t)snprintf(out + o, len - o, "%s%.*s", o ? " " : "", (int)n, p);
		p += n + (p[n] == '\n');
	}
}

/* Every entry builds (its built-in, renamed, the overlays through sim's --set), as pinned; its
 * file (lab_catalog_show's) loads back to the same scenario; the lab builds it. */
static void test_catalogue_pinned(void **st)
{
	char err[256], line[1024];
	int npins = 0;

	(void)st;
	for (int i = 0; i < lab_catalog_count(); i++) {
		const struct lab_entry *e = lab_catalog_at(i);
		struct sim_scenario sc, back;
		struct lab_plan p;
		char *text = NULL;
		size_t len = 0;
		FILE *f;
		int k = 0;

		if (e->unsupported) {
			assert_int_equal(lab_catalog_build(e, &sc, err, sizeof(err)), -EOPNOTSUPP);
			continue;
		}
		while (k < (int)(sizeof(pins) / sizeof(pins[0])) && strcmp(pins[k].name, e->name))
			k++;
		assert_true(k < (int)(sizeof(pins) / sizeof(pins[0])));
		npins++;
		if (lab_catalog_build(e, &sc, err, sizeof(err)) != 0)
			fail_msg("%s: %s", e->name, err);
		assert_string_equal(sc.name, e->name);
		assert_string_equal(sc.kernel, "host");
		assert_true(sc.duration_ns == 16LL * 1000000000LL && sc.seed == 1);
		assert_true(sc.nodes[0].kind == SIM_NODE_CLIENT &&
			    sc.nodes[0].rate == pins[k].rate);
		f = open_memstream(&text, &len);
		assert_non_null(f);
		assert_int_equal(sim_scenario_write(f, &sc), 0);
		fclose(f);
		one_line(text, line, sizeof(line));
		if (strcmp(line, pins[k].nodes) != 0)
			fail_msg("%s:\n got  %s\n want %s", e->name, line, pins[k].nodes);
		assert_int_equal(sim_scenario_load_string(text, "written", &back, err, sizeof(err)),
				 0);
		for (int n = 0; n < back.nnodes; n++)
			back.nodes[n].line = 0;
		assert_int_equal(back.nnodes, sc.nnodes);
		assert_memory_equal(back.nodes, sc.nodes, sizeof(sc.nodes[0]) * (size_t)sc.nnodes);
		free(text);
		assert_int_equal(lab_plan_from_sim(&sc, &p, err, sizeof(err)), 0);
		assert_int_equal(sim_scenario_check(&sc, "6.18.0", err, sizeof(err)), 0);
		assert_int_equal(lab_catalog_checks_sys(e),
				 strncmp(e->name, "connect-cost-", 13) == 0);
	}
	assert_int_equal(npins, (int)(sizeof(pins) / sizeof(pins[0])));
	/* the one set of defaults: what the lab's overlay says differs from sim's */
	assert_non_null(strstr(lab_catalog_common_overlay(), "client.rtt=100us\n"));
	assert_non_null(strstr(lab_catalog_common_overlay(), "sim.kernel=host\n"));
	/* the host names tests and JSON select by */
	assert_string_equal(lab_host_name(SIM_NODE_L4LB), "lb");
	assert_string_equal(lab_host_name(SIM_NODE_L7LB), "lb");
	assert_string_equal(lab_host_name(SIM_NODE_NAT), "nat");
}

static void test_topo_names(void **st)
{
	struct sim_scenario sc;
	struct lab_plan p;
	struct lab_topo t;
	char err[256], buf[32];

	assert_int_equal(lab_catalog_scenario("lb-quadruplets", &sc), 0);
	assert_int_equal(lab_plan_from_sim(&sc, &p, err, sizeof(err)), 0);
	lab_topo_init(&t, &p, 4242);
	assert_int_equal(t.n, 3);
	assert_string_equal(t.ns[0], "twk-lab-4242-client");
	assert_string_equal(t.ns[1], "twk-lab-4242-mid");
	assert_string_equal(t.ns[2], "twk-lab-4242-server");
	assert_true(t.relay);
	assert_int_equal(t.lock_fd, -1);
	assert_string_equal(lab_addr_client(3, buf, sizeof(buf)), "192.0.2.4");
	assert_string_equal(lab_addr_middle_back(0, buf, sizeof(buf)), "198.51.100.1");
	/* nothing was made: destroy touches nothing */
	assert_int_equal(lab_topo_destroy(&t), 0);
}

static void test_relay_line(void **st)
{
	struct lab_relay_stats s;
	double t;

	assert_int_equal(lab_relay_parse_line("relay 3.500 10 9 1 1", &t, &s), 0);
	assert_true(t == 3.5);
	assert_int_equal(s.accepted, 10);
	assert_int_equal(s.backend_ok, 9);
	assert_int_equal(s.eaddrnotavail, 1);
	assert_int_equal(lab_relay_parse_line("relay x", &t, &s), -EINVAL);
	assert_int_equal(lab_relay_parse_line("", &t, &s), -EINVAL);
}

static void test_rel_diff(void **st)
{
	assert_true(lab_rel_diff(110, 100) > 0.0999 && lab_rel_diff(110, 100) < 0.1001);
	assert_true(lab_rel_diff(0, 0) == 0);
	assert_true(lab_rel_diff(-1, -1) == 0); /* neither failed */
	assert_true(isnan(lab_rel_diff(5, 0)));
	assert_true(isnan(lab_rel_diff(-1, 10))); /* lab never failed, sim did */
	assert_true(lab_rel_diff(90, 100) < -0.0999);
}

/* nginx's config: every path inside the run's directory, the directives the lab relies on;
 * its error log: failed connects counted, EADDRNOTAVAIL apart, a half-written line left. */
static void test_nginx(void **state)
{
	struct lab_relay_cfg c = { .listen = "192.0.2.254", .listen_port = 8000,
				   .backend = "198.51.100.100", .backend_port = 8000,
				   .backend_ports = 2, .nsources = 1, .max_pairs = 8192 };
	const char log[] =
		"2025/01/01 00:00:10 [crit] 7#7: *3 connect() to 198.51.100.100:8000 failed "
		"(99: Cannot assign requested address) while connecting to upstream\n"
		"2025/01/01 00:00:10 [error] 7#7: *5 connect() to 198.51.100.100:8001 failed "
		"(111: Connection refused) while connecting to upstream\n"
		"2025/01/01 00:00:11 [warn] 7#7: something else\n"
		"2025/01/01 00:00:11 [crit] 7#7: *9 connect() to 198.51.100.100:8000 failed (99: ";
	struct lab_relay_stats st = { .backend_ok = 5 };
	char buf[4096];
	int n;

	(void)state;
	snprintf(c.sources[0], sizeof(c.sources[0]), "198.51.100.1");
	n = lab_nginx_conf(&c, "/d/twk-lab-1-nginx", buf, sizeof(buf));
	assert_true(n > 0);
	assert_non_null(strstr(buf, "master_process off;"));
	assert_non_null(strstr(buf, "daemon off;"));
	assert_non_null(strstr(buf, "worker_processes 1;"));
	assert_non_null(strstr(buf, "pid /d/twk-lab-1-nginx/nginx.pid;"));
	assert_non_null(strstr(buf, "error_log /d/twk-lab-1-nginx/error.log"));
	assert_non_null(strstr(buf, "proxy_temp_path /d/twk-lab-1-nginx/proxy;"));
	assert_non_null(strstr(buf, "access_log off;"));
	assert_non_null(strstr(buf, "server 198.51.100.100:8001 max_fails=0;"));
	assert_non_null(strstr(buf, "listen 192.0.2.254:8000"));
	assert_non_null(strstr(buf, "proxy_http_version 1.1;"));
	assert_non_null(strstr(buf, "proxy_bind 198.51.100.1;"));
	assert_int_equal(lab_nginx_conf(&c, "/d", buf, 100), -ENOSPC);
	assert_int_equal(lab_nginx_remove("/tmp/not-ours"), -EINVAL);
	assert_int_equal(lab_nginx_remove("/tmp/twk-lab-x-nginx"), -EINVAL);
	/* the old predictable name is not ours any more: only mkdtemp's form is */
	assert_int_equal(lab_nginx_remove("/tmp/twk-lab-1-nginx"), -EINVAL);
	assert_int_equal(lab_nginx_remove("/tmp/twk-lab-1-nginx.ab/cdef"), -EINVAL);

	lab_nginx_log_count(log, sizeof(log) - 1, &st);
	assert_int_equal(st.backend_fail, 2);
	assert_int_equal(st.eaddrnotavail, 1);
	assert_int_equal(st.backend_ok, 5);
	lab_nginx_log_count("", 0, &st);
	assert_int_equal(st.backend_fail, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_json_garbage),       cmocka_unit_test(test_bench_parse),
	    cmocka_unit_test(test_catalogue_and_plan), cmocka_unit_test(test_catalogue_pinned),
	    cmocka_unit_test(test_topo_names),	       cmocka_unit_test(test_relay_line),
	    cmocka_unit_test(test_rel_diff),	       cmocka_unit_test(test_nginx),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
