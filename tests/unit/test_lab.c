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
#include "model/portsearch.h"
#include "model/reuse.h"
#include "model/timewait.h"

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

/* ---- the catalogue's old C builder, verbatim but for its names: the reference the data
 * form is checked against (test_catalogue_both_ways) ---- */
#define LAB_PORT_LO 40000
#define LAB_PORT_HI 40999
#define LAB_RATE 100.0
#define LAB_DURATION_NS (16LL * 1000000000LL)
#define LAB_RATE_ONE_REMOTE 1500.0
#define LAB_TW_BUCKETS 500u
#define LAB_COST_RATE 1000.0
#define LAB_COST_LOW_HI 49999
#define LAB_COST_HALF_HI 42799
#define LAB_COST_FULL_HI 41399
#define LAB_RTT_NS (100LL * 1000LL)

static void old_node_init(struct sim_node *n, enum SIM_NODE_KIND kind, const char *name)
{
	memset(n, 0, sizeof(*n));
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->kind = kind;
	n->count = 1;
	n->ips = 1;
	n->tw_reuse = -1;
	n->timestamps = 1;
	n->tw_reuse_delay_ms = TW_REUSE_DELAY_DEFAULT_MS;
	n->max_tw_buckets = TW_MAX_TW_BUCKETS_DEFAULT;
	n->hz = 1000;
	n->rto_ns = TW_RTO_MIN_NS;
	n->syn_retries = -1;
	n->arrival = SIM_ARRIVAL_CONSTANT;
	n->requests = 1;
	n->closes = SIM_CLOSES_CLIENT;
	n->rtt_ns = LAB_RTT_NS;
	n->mapping = SIM_NAT_PRESERVE;
	n->mapping_timeout_ns = 120LL * 1000000000LL; /* nf_conntrack_tcp_timeout_time_wait-ish */
	n->ports = 1;
	n->connect_probe_ns = TW_CONNECT_PROBE_NS_DEFAULT; /* model/portsearch.h */
	n->connect_base_ns = TW_CONNECT_BASE_NS_DEFAULT;
}

/* Append a node and return it. */
static struct sim_node *old_add(struct sim_scenario *sc, enum SIM_NODE_KIND kind, const char *name)
{
	struct sim_node *n = &sc->nodes[sc->nnodes++];

	old_node_init(n, kind, name);
	return n;
}

static int old_catalog_scenario(const char *name, struct sim_scenario *sc)
{
	const struct lab_entry *e = lab_catalog_find(name);
	struct sim_node *c, *m = NULL, *s;

	if (!e)
		return -ENOENT;
	if (e->unsupported)
		return -EOPNOTSUPP;
	memset(sc, 0, sizeof(*sc));
	snprintf(sc->name, sizeof(sc->name), "%s", name);
	snprintf(sc->file, sizeof(sc->file), "lab:%s", name);
	snprintf(sc->kernel, sizeof(sc->kernel), "host");
	sc->duration_ns = LAB_DURATION_NS;
	sc->seed = 1;

	c = old_add(sc, SIM_NODE_CLIENT, "client");
	c->rate = LAB_RATE;
	c->tw_reuse = 0; /* §2.2: the 4.19+ default 2 is loopback-only; 0 says it plainly */
	c->port_lo = LAB_PORT_LO;
	c->port_hi = LAB_PORT_HI;
	if (strcmp(name, "stress-client-nat") == 0) {
		m = old_add(sc, SIM_NODE_NAT, "nat");
	} else if (strcmp(name, "lb-quadruplets") == 0 || strcmp(name, "slb-strips-ts") == 0 ||
		   strcmp(name, "lb-server-close") == 0) {
		m = old_add(sc, SIM_NODE_L7LB, "lb");
	} else if (strcmp(name, "slb-strips-ts-l4") == 0) {
		m = old_add(sc, SIM_NODE_L4LB, "lb");
		m->strip_timestamps = true;
	}
	s = old_add(sc, SIM_NODE_SERVER, "server");
	memcpy(c->via, m ? m->name : s->name, sizeof(c->via));
	if (m)
		memcpy(m->via, s->name, sizeof(m->via));

	/* The "m &&" below always hold (m was added above for those names); they are there for the
	 * analyzer, which does not know that strcmp() gives the same answer twice. */
	if (strcmp(name, "stress-client-server-close") == 0) {
		c->closes = SIM_CLOSES_SERVER;
	} else if (strcmp(name, "stress-client-wide") == 0) {
		c->port_lo = 0; /* the era's default range */
		c->port_hi = 0;
	} else if (strcmp(name, "server-close-one-remote") == 0) {
		c->closes = SIM_CLOSES_SERVER;
		c->rate = LAB_RATE_ONE_REMOTE;
		c->port_lo = 0; /* the era's default range: the one doctor assumes for a remote */
		c->port_hi = 0;
	} else if (strcmp(name, "stress-client-linger0") == 0) {
		c->linger0 = true;
	} else if (strcmp(name, "stress-client-4ips") == 0) {
		c->ips = 4;
	} else if (strcmp(name, "tw-reuse-client") == 0) {
		c->tw_reuse = 1;
	} else if (strncmp(name, "connect-cost-", 13) == 0) {
		c->tw_reuse = 1;
		c->rate = LAB_COST_RATE;
		c->port_hi = !strcmp(name + 13, "low")	  ? LAB_COST_LOW_HI
			     : !strcmp(name + 13, "half") ? LAB_COST_HALF_HI
							  : LAB_COST_FULL_HI;
	} else if (m && strcmp(name, "lb-quadruplets") == 0) {
		/* the client is not the bottleneck here: give it the default range */
		c->port_lo = 0;
		c->port_hi = 0;
		m->tw_reuse = 0;
		m->port_lo = LAB_PORT_LO;
		m->port_hi = LAB_PORT_HI;
	} else if (m && strcmp(name, "lb-server-close") == 0) {
		c->closes = SIM_CLOSES_SERVER; /* the relay carries the close mark through */
		c->rate = LAB_RATE_ONE_REMOTE;
		c->port_lo = c->port_hi = 0;
		m->closes = SIM_CLOSES_SERVER;
		m->tw_reuse = 0;
	} else if (m && strncmp(name, "slb-strips-ts", 13) == 0) {
		c->tw_reuse = 1;
		if (m->kind == SIM_NODE_L7LB)
			m->timestamps =
			    0; /* §6: no option on the balancer's side of the handshake */
	} else if (strcmp(name, "bucket-overflow") == 0) {
		c->port_lo = 0;
		c->port_hi = 0;
		c->max_tw_buckets = LAB_TW_BUCKETS;
	}
	return 0;
}

/* Where a field of sim_node means something: the kinds whose sections take its key
 * (scenario.c's table); name, kind and line for all. A field elsewhere is never read. */
#define KALL 0x1f
#define KC (1 << SIM_NODE_CLIENT)
#define KN (1 << SIM_NODE_NAT)
#define K4 (1 << SIM_NODE_L4LB)
#define K7 (1 << SIM_NODE_L7LB)
#define KS (1 << SIM_NODE_SERVER)
#define KTCP (KC | K7 | KS)
#define FIELD(f, k)                                                                                \
	{                                                                                          \
#f, offsetof(struct sim_node, f), sizeof(((struct sim_node *)0)->f), k             \
	}
static const struct {
	const char *name;
	size_t off, size;
	int kinds;
} node_fields[] = {
    FIELD(name, KALL),
    FIELD(kind, KALL),
    FIELD(line, KALL),
    FIELD(kernel, KTCP),
    FIELD(count, KC),
    FIELD(ips, KALL),
    FIELD(tw_reuse, KTCP),
    FIELD(tw_recycle, KTCP),
    FIELD(timestamps, KTCP),
    FIELD(tw_reuse_delay_ms, KTCP),
    FIELD(max_tw_buckets, KTCP),
    FIELD(port_lo, KTCP),
    FIELD(port_hi, KTCP),
    FIELD(hz, KTCP),
    FIELD(rto_ns, KTCP),
    FIELD(syn_retries, KC | K7),
    FIELD(rfc1337, K7 | KS),
    FIELD(arrival, KC),
    FIELD(rate, KC),
    FIELD(rate_to, KC),
    FIELD(requests, KC | K7),
    FIELD(closes, KC | K7),
    FIELD(linger0, KC | K7),
    FIELD(bind_port, KC | K7),
    FIELD(port_select, KC | K7),
    FIELD(connect_probe_ns, KC | K7),
    FIELD(connect_base_ns, KC | K7),
    FIELD(rtt_ns, KC | K7),
    FIELD(idle_ns, KC),
    FIELD(via, KC | KN | K4 | K7),
    FIELD(mapping, KN),
    FIELD(mapping_timeout_ns, KN | K4),
    FIELD(gw_profile, KN),
    FIELD(ports_per_host, KN),
    FIELD(max_per_destination, KN),
    FIELD(gw_nodes, KN),
    FIELD(gw_time_wait_ns, KN),
    FIELD(gw_idle_ns, KN),
    FIELD(strip_timestamps, K4),
    FIELD(ports, KS | K7),
    FIELD(service_ns, KS | K7),
};
#define NFIELDS (sizeof(node_fields) / sizeof(node_fields[0]))

/* Compare node b (data form) with a (old C form), field by field where the field means
 * something for the kind: print each difference, return their number. Fields that mean
 * nothing for the kind are copied from a before a whole-struct memcmp, so a field missing
 * from node_fields shows too. */
static int node_diff(const char *entry, const struct sim_node *a, const struct sim_node *b,
		     char *unread, size_t len)
{
	struct sim_node c = *b;
	int nd = 0;

	for (size_t f = 0; f < NFIELDS; f++) {
		if (!(node_fields[f].kinds & (1 << a->kind)) || a->kind != b->kind) {
			char one[64];

			snprintf(one, sizeof(one), " %s.%s", lab_kind_name(a->kind),
				 node_fields[f].name);
			if (memcmp((const char *)a + node_fields[f].off,
				   (const char *)b + node_fields[f].off,
				   node_fields[f].size) != 0 &&
			    !strstr(unread, one) && strlen(unread) + strlen(one) < len)
				strcat(unread, one);
			memcpy((char *)&c + node_fields[f].off,
			       (const char *)a + node_fields[f].off, node_fields[f].size);
			continue;
		}
		if (memcmp((const char *)a + node_fields[f].off,
			   (const char *)b + node_fields[f].off, node_fields[f].size) != 0) {
			print_message("%s [%s]: %s differs\n", entry, a->name, node_fields[f].name);
			nd++;
		}
	}
	if (nd == 0 && memcmp(a, &c, sizeof(c)) != 0) {
		print_message("%s [%s]: a field not in node_fields differs\n", entry, a->name);
		nd++;
	}
	return nd;
}

/* Every entry built both ways: the same scenario, node by node and field by field (its file
 * label aside). One difference is expected, and is the old form's bug: lab_node_init left a
 * NAT's cloud-gateway limits at 0 where sim's "unset" is UINT32_MAX / -1, which made
 * stress-client-nat's NAT a gateway with `nodes = 0` that sim_scenario_check refuses
 * (--compare could not run it). */
static void test_catalogue_both_ways(void **st)
{
	static const char *const gw_fields[] = {"ports_per_host", "max_per_destination", "gw_nodes",
						"gw_time_wait_ns", "gw_idle_ns"};
	int entries = 0, nodes = 0;
	char err[256], unread[1024] = "";

	(void)st;
	for (int i = 0; i < lab_catalog_count(); i++) {
		const struct lab_entry *e = lab_catalog_at(i);
		struct sim_scenario a, b;
		int ra = old_catalog_scenario(e->name, &a),
		    rb = lab_catalog_build(e, &b, err, sizeof(err));

		if (rb < 0 && rb != -EOPNOTSUPP)
			print_message("%s: %s\n", e->name, err);
		assert_int_equal(ra, rb);
		if (ra < 0)
			continue;
		entries++;
		assert_string_equal(a.name, b.name);
		assert_true(a.duration_ns == b.duration_ns);
		assert_true(a.seed == b.seed);
		assert_string_equal(a.kernel, b.kernel);
		assert_int_equal(a.nnodes, b.nnodes);
		for (int k = 0; k < a.nnodes; k++, nodes++) {
			struct sim_node bb = b.nodes[k];

			if (strcmp(e->name, "stress-client-nat") == 0 &&
			    a.nodes[k].kind == SIM_NODE_NAT) {
				/* the one known difference: take the old zeros over, check the rest
				 */
				for (size_t f = 0; f < NFIELDS; f++)
					for (size_t g = 0;
					     g < sizeof(gw_fields) / sizeof(gw_fields[0]); g++)
						if (strcmp(node_fields[f].name, gw_fields[g]) ==
						    0) {
							assert_memory_not_equal(
							    (char *)&bb + node_fields[f].off,
							    (char *)&a.nodes[k] +
								node_fields[f].off,
							    node_fields[f].size);
							memcpy((char *)&bb + node_fields[f].off,
							       (char *)&a.nodes[k] +
								   node_fields[f].off,
							       node_fields[f].size);
						}
				assert_int_equal(sim_scenario_check(&a, "6.18.0", err, sizeof(err)),
						 -EINVAL);
				assert_non_null(strstr(err, "'nodes'"));
				assert_int_equal(sim_scenario_check(&b, "6.18.0", err, sizeof(err)),
						 0);
			}
			assert_int_equal(
			    node_diff(e->name, &a.nodes[k], &bb, unread, sizeof(unread)), 0);
		}
		/* so the lab builds the same, and sim plays the same beside it */
		{
			struct lab_plan pa, pb;
			struct sim_result sa, sb;
			struct sim_config ca = {
			    .sc = &a, .host_release = "6.18.0", .no_series = true};
			struct sim_config cb = {
			    .sc = &b, .host_release = "6.18.0", .no_series = true};

			assert_int_equal(lab_plan_from_sim(&a, &pa, err, sizeof(err)), 0);
			assert_int_equal(lab_plan_from_sim(&b, &pb, err, sizeof(err)), 0);
			assert_memory_equal(&pa, &pb, sizeof(pa));
			if (strcmp(e->name, "stress-client-nat") == 0)
				continue; /* the old form does not pass sim_scenario_check */
			memset(&sa, 0, sizeof(sa));
			memset(&sb, 0, sizeof(sb));
			assert_int_equal(sim_run(&ca, &sa), 0);
			assert_int_equal(sim_run(&cb, &sb), 0);
			assert_true(
			    sa.connections_ok == sb.connections_ok && sa.events == sb.events &&
			    sa.first_failure_ns == sb.first_failure_ns && sa.nhosts == sb.nhosts);
			assert_memory_equal(sa.connect_errors, sb.connect_errors,
					    sizeof(sa.connect_errors));
			for (int h = 0; h < sa.nhosts; h++) {
				assert_memory_equal(&sa.hosts[h].c, &sb.hosts[h].c,
						    sizeof(sa.hosts[h].c));
				assert_true(sa.hosts[h].time_wait_max == sb.hosts[h].time_wait_max);
			}
			sim_result_fini(&sa);
			sim_result_fini(&sb);
		}
	}
	print_message("catalogue built both ways: %d entries, %d nodes, equal field by field "
		      "(stress-client-nat's NAT: gateway limits unset, as sim's), the same lab "
		      "plans and sim runs; fields no key of the kind sets, which differ:%s\n",
		      entries, nodes, unread);
	assert_int_equal(entries, 16);
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
	    cmocka_unit_test(test_catalogue_and_plan), cmocka_unit_test(test_catalogue_both_ways),
	    cmocka_unit_test(test_topo_names),	       cmocka_unit_test(test_relay_line),
	    cmocka_unit_test(test_rel_diff),	       cmocka_unit_test(test_nginx),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
