/* Unit tests: sim/natgw (cloud NAT gateways): per-host port blocks, the per-destination cap,
 * the gateway's TIME_WAIT hold, hosts without ports, the idle timeout, the profile table and
 * Azure's default allocation; a randomized run against a naive reference; the scenario keys
 * and their errors; and a simulated gateway's budget edge (drops exactly above it). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <cmocka.h>

#include "sim/natgw.h"
#include "sim/sim.h"

#define S 1000000000LL
#define D1 0x0a030001u /* a destination address */
#define D2 0x0a030002u

static char err[512];

static struct natgw_cfg cfg(uint32_t ips, uint32_t pph, uint32_t maxd, int64_t tw)
{
	return (struct natgw_cfg){ .ips = ips, .ports_per_ip = 64512, .ports_per_host = pph,
				   .max_per_destination = maxd, .tcp_time_wait_ns = tw };
}

static void test_per_host_blocks(void **st)
{
	struct natgw g;
	struct natgw_cfg c = cfg(1, 64, 64512, 120 * S);
	enum NATGW_DROP why;
	uint8_t ip;
	uint16_t port;
	uint32_t tab;
	(void)st;
	assert_int_equal(natgw_init(&g, &c), 0);
	for (int i = 0; i < 64; i++) {
		assert_int_equal(natgw_map(&g, 1, D1, 80, 0, &ip, &port, &tab, &why), 0);
		assert_true(port >= 1024 && port < 1024 + 64); /* host 1's block: the first */
		assert_int_equal(ip, 0);
	}
	/* the 65th toward the same destination: the block is full */
	assert_int_equal(natgw_map(&g, 1, D1, 80, 0, &ip, &port, &tab, &why), -EADDRNOTAVAIL);
	assert_int_equal(why, NATGW_DROP_PORTS_PER_HOST);
	assert_int_equal(g.drops[NATGW_DROP_PORTS_PER_HOST], 1);
	/* the same ports serve another destination (port, or address) */
	assert_int_equal(natgw_map(&g, 1, D1, 81, 0, &ip, &port, &tab, &why), 0);
	assert_true(port >= 1024 && port < 1088);
	assert_int_equal(natgw_map(&g, 1, D2, 80, 0, &ip, &port, &tab, &why), 0);
	/* another host has its own block */
	assert_int_equal(natgw_map(&g, 2, D1, 80, 0, &ip, &port, &tab, &why), 0);
	assert_true(port >= 1088 && port < 1152);
	assert_int_equal(natgw_used(&g, 0, D1, 80, 0), 65);
	assert_int_equal(g.peak_used, 65);
	natgw_fini(&g);
	natgw_fini(&g); /* a finished gateway is zeroed: fini again is a no-op */
}

static void test_time_wait_hold(void **st)
{
	struct natgw g;
	struct natgw_cfg c = cfg(1, 4, 64512, 120 * S);
	enum NATGW_DROP why;
	uint8_t ip;
	uint16_t port, first = 0;
	uint32_t tab = 0;
	(void)st;
	assert_int_equal(natgw_init(&g, &c), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(natgw_map(&g, 7, D1, 443, 0, &ip, &port, &tab, &why), 0);
		if (!i)
			first = port;
	}
	/* a FIN close at 10 s holds the port 120 s: not free at 129.999 s, free at 130 s */
	natgw_unmap(&g, tab, first, 10 * S, true);
	assert_int_equal(natgw_used(&g, 0, D1, 443, 10 * S), 4);
	assert_int_equal(natgw_map(&g, 7, D1, 443, 130 * S - 1, &ip, &port, &tab, &why),
			 -EADDRNOTAVAIL);
	assert_int_equal(natgw_map(&g, 7, D1, 443, 130 * S, &ip, &port, &tab, &why), 0);
	assert_int_equal(port, first);
	/* an RST (or a flow that never opened) frees its port at once */
	natgw_unmap(&g, tab, port, 131 * S, false);
	assert_int_equal(natgw_used(&g, 0, D1, 443, 131 * S), 3);
	assert_int_equal(natgw_map(&g, 7, D1, 443, 131 * S, &ip, &port, &tab, &why), 0);
	/* a hold of 0 frees at once even after a FIN */
	natgw_fini(&g);
	c.tcp_time_wait_ns = 0;
	assert_int_equal(natgw_init(&g, &c), 0);
	assert_int_equal(natgw_map(&g, 7, D1, 443, 0, &ip, &port, &tab, &why), 0);
	natgw_unmap(&g, tab, port, 0, true);
	assert_int_equal(natgw_used(&g, 0, D1, 443, 0), 0);
	natgw_fini(&g);
}

static void test_per_destination_cap(void **st)
{
	struct natgw g;
	struct natgw_cfg c = cfg(2, 0, 3, 60 * S);
	enum NATGW_DROP why;
	uint8_t ip;
	uint16_t port;
	uint32_t tab;
	int per_ip[2] = { 0, 0 };
	(void)st;
	assert_int_equal(natgw_init(&g, &c), 0);
	for (int i = 0; i < 6; i++) {
		/* any inside host: the pool is shared */
		assert_int_equal(natgw_map(&g, (uint32_t)i, D1, 80, 0, &ip, &port, &tab, &why), 0);
		per_ip[ip]++;
	}
	assert_int_equal(per_ip[0], 3);
	assert_int_equal(per_ip[1], 3);
	assert_int_equal(natgw_map(&g, 9, D1, 80, 0, &ip, &port, &tab, &why), -EADDRNOTAVAIL);
	assert_int_equal(why, NATGW_DROP_PER_DEST);
	/* another destination has its own cap, and its own turn over the addresses: flows
	 * alternating between two destinations still spread each over both addresses */
	for (int i = 0; i < 6; i++) {
		assert_int_equal(natgw_map(&g, 9, i & 1 ? D1 + 7 : D2, 80, 0, &ip, &port, &tab, &why),
				 0);
		assert_int_equal(ip, i / 2 % 2);
	}
	/* a cooled-down port counts until its hold ends */
	natgw_fini(&g);
	assert_int_equal(natgw_init(&g, &c), 0);
	assert_int_equal(natgw_map(&g, 1, D1, 80, 0, &ip, &port, &tab, &why), 0);
	natgw_unmap(&g, tab, port, S, true);
	assert_int_equal(natgw_used(&g, ip, D1, 80, 60 * S), 1);
	assert_int_equal(natgw_used(&g, ip, D1, 80, 61 * S), 0);
	natgw_fini(&g);
}

static void test_hosts_without_ports(void **st)
{
	struct natgw g;
	struct natgw_cfg c = cfg(1, 32256, 64512, 0); /* two hosts per address */
	enum NATGW_DROP why;
	uint8_t ip;
	uint16_t port;
	uint32_t tab;
	(void)st;
	assert_int_equal(natgw_hosts_per_ip(&c), 2);
	assert_int_equal(natgw_init(&g, &c), 0);
	assert_int_equal(natgw_map(&g, 100, D1, 80, 0, &ip, &port, &tab, &why), 0);
	assert_int_equal(natgw_map(&g, 200, D1, 80, 0, &ip, &port, &tab, &why), 0);
	assert_int_equal(port, 1024 + 32256);
	assert_int_equal(natgw_map(&g, 300, D1, 80, 0, &ip, &port, &tab, &why), -EADDRNOTAVAIL);
	assert_int_equal(why, NATGW_DROP_NO_HOST_PORTS);
	/* the first two keep their blocks */
	assert_int_equal(natgw_map(&g, 100, D1, 80, 0, &ip, &port, &tab, &why), 0);
	assert_int_equal(port, 1025);
	natgw_fini(&g);
	/* a second address makes room for two more */
	c.ips = 2;
	assert_int_equal(natgw_init(&g, &c), 0);
	for (uint32_t h = 1; h <= 4; h++) {
		assert_int_equal(natgw_map(&g, h, D1, 80, 0, &ip, &port, &tab, &why), 0);
		assert_int_equal(ip, (h - 1) / 2);
	}
	assert_int_equal(natgw_map(&g, 5, D1, 80, 0, &ip, &port, &tab, &why), -EADDRNOTAVAIL);
	natgw_fini(&g);
}

static void test_idle_and_bad_cfg(void **st)
{
	struct natgw g;
	struct natgw_cfg c = cfg(1, 0, 64512, 0);
	(void)st;
	c.idle_ns = 240 * S;
	assert_true(natgw_idle_cuts(&c, 300 * S));
	assert_false(natgw_idle_cuts(&c, 240 * S)); /* silent exactly the timeout: still there */
	assert_false(natgw_idle_cuts(&c, 0));
	c.idle_ns = 0;
	assert_false(natgw_idle_cuts(&c, 7 * 86400 * S)); /* no idle timeout */
	c.max_per_destination = 70000;
	assert_int_equal(natgw_init(&g, &c), -EINVAL);
	c.max_per_destination = 10;
	c.ips = 0;
	assert_int_equal(natgw_init(&g, &c), -EINVAL);
	c.ips = 1;
	c.ports_per_host = 64513;
	assert_int_equal(natgw_init(&g, &c), -EINVAL);
	assert_string_equal(natgw_drop_name(NATGW_DROP_IDLE), "idle_timeout");
	assert_string_equal(natgw_drop_name(NATGW_DROP_PER_DEST), "max_per_destination");
}

static void test_profiles(void **st)
{
	const struct natgw_profile *p;
	char names[160];
	(void)st;
	assert_int_equal(natgw_profile_count(), 4);
	p = natgw_profile_by_name("aws-nat-gateway");
	assert_non_null(p);
	assert_int_equal(p->max_per_destination, 55000);
	assert_int_equal(p->max_ips, 8);
	assert_true(p->idle_ns == 350 * S && p->idle_rst);
	p = natgw_profile_by_name("gcp-cloud-nat");
	assert_int_equal(p->ports_per_host, 64);
	assert_true(p->tcp_time_wait_ns == 120 * S && !p->idle_rst);
	p = natgw_profile_by_name("azure-nat-gateway");
	assert_int_equal(p->ports_per_ip, 64512);
	assert_int_equal(p->max_ips, 16);
	assert_null(natgw_profile_by_name("aws"));
	assert_null(natgw_profile_by_name(NULL));
	natgw_profile_names(names, sizeof(names));
	assert_string_equal(names, "aws-nat-gateway, gcp-cloud-nat, azure-nat-gateway or "
				   "azure-lb-snat");
	/* Azure's default allocation: per frontend address by pool size, at most 1024 */
	assert_int_equal(natgw_azure_default_ports(50, 1), 1024);
	assert_int_equal(natgw_azure_default_ports(100, 1), 512);
	assert_int_equal(natgw_azure_default_ports(100, 2), 1024);
	assert_int_equal(natgw_azure_default_ports(100, 3), 1024);
	assert_int_equal(natgw_azure_default_ports(101, 1), 256);
	assert_int_equal(natgw_azure_default_ports(800, 1), 64);
	assert_int_equal(natgw_azure_default_ports(1000, 1), 32);
	assert_int_equal(natgw_azure_default_ports(1001, 1), 0);
	assert_int_equal(natgw_azure_default_ports(0, 1), 0);
}

/* Random maps and unmaps (FIN or not) against a naive reference: per (address, destination,
 * port) the time it is free again; the gateway's counts and choices must agree with it. */
static void test_random_vs_reference(void **st)
{
	enum { NH = 8, ND = 3, NP = 40, MAXL = 4096 };
	int slot_of[NH], nslot = 0;
	static int64_t free_at[2][ND][NP]; /* INT64_MAX: held by a live flow */
	struct {
		uint32_t tab, d;
		uint16_t port;
		uint8_t ip;
	} live[MAXL];
	int nlive = 0;
	struct natgw g;
	struct natgw_cfg c = { .ips = 2, .ports_per_ip = NP, .ports_per_host = 8,
			       .max_per_destination = 30, .tcp_time_wait_ns = 5 * S };
	uint64_t x = 12345;
	int64_t now = 0;
	(void)st;
	memset(free_at, 0, sizeof(free_at));
	for (int i = 0; i < NH; i++)
		slot_of[i] = -1;
	assert_int_equal(natgw_init(&g, &c), 0);
	for (int step = 0; step < 200000; step++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		now += (int64_t)((x >> 33) % (S / 4));
		if (nlive && ((x >> 20) & 3) == 0) {
			int k = (int)((x >> 40) % (uint64_t)nlive);
			bool fin = (x >> 50) & 1;
			natgw_unmap(&g, live[k].tab, live[k].port, now, fin);
			free_at[live[k].ip][live[k].d][live[k].port - 1024] =
				fin ? now + c.tcp_time_wait_ns : now;
			live[k] = live[--nlive];
			continue;
		}
		uint32_t h = (uint32_t)((x >> 24) % NH), d = (uint32_t)((x >> 44) % ND);
		enum NATGW_DROP why;
		uint8_t ip;
		uint16_t port;
		uint32_t tab;
		/* the reference: hosts get block slots in first-seen order, 5 per address */
		if (slot_of[h] < 0)
			slot_of[h] = nslot++;
		int a0 = slot_of[h] / 5, b0 = slot_of[h] % 5 * 8, used0 = 0, free0 = 0;
		for (int p = 0; p < NP; p++)
			used0 += free_at[a0][d][p] > now;
		for (int p = b0; p < b0 + 8; p++)
			free0 += free_at[a0][d][p] <= now;
		int rc = natgw_map(&g, h, D1 + d, 80, now, &ip, &port, &tab, &why);
		if (rc == 0) {
			assert_int_equal(ip, a0);
			assert_true(port - 1024 >= b0 && port - 1024 < b0 + 8);
			assert_true(used0 < 30);
			assert_true(free_at[ip][d][port - 1024] <= now); /* it was free */
			free_at[ip][d][port - 1024] = INT64_MAX;
			assert_true(nlive < MAXL);
			live[nlive].tab = tab;
			live[nlive].d = d;
			live[nlive].port = port;
			live[nlive++].ip = ip;
		} else {
			/* dropped only when the reference agrees, for the reason it gives */
			assert_int_equal(rc, -EADDRNOTAVAIL);
			if (used0 >= 30)
				assert_int_equal(why, NATGW_DROP_PER_DEST);
			else
				assert_true(why == NATGW_DROP_PORTS_PER_HOST && free0 == 0);
		}
		/* counts agree with the reference */
		for (int a = 0; a < 2 && (step % 97) == 0; a++)
			for (uint32_t dd = 0; dd < ND; dd++) {
				uint32_t used = 0;
				for (int p = 0; p < NP; p++)
					used += free_at[a][dd][p] > now;
				assert_int_equal(natgw_used(&g, (uint8_t)a, D1 + dd, 80, now), used);
			}
	}
	natgw_fini(&g);
}

static void expect_err(const char *text, const char *needle)
{
	struct sim_scenario sc;
	int rc = sim_scenario_load_string(text, "gw.ini", &sc, err, sizeof(err));
	if (rc == 0)
		rc = sim_scenario_check(&sc, "6.18.0", err, sizeof(err));
	assert_int_not_equal(rc, 0);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not contain '%s'", err, needle);
}

#define HEAD "[client c]\nvia = g\n[server s]\n"

static void test_scenario_keys(void **st)
{
	struct sim_scenario sc;
	struct natgw_cfg c;
	bool gw;
	(void)st;
	assert_int_equal(sim_scenario_load_string(HEAD "[nat g]\nprofile = gcp-cloud-nat\n"
						  "tcp_time_wait_timeout = 30s\nvia = s\n",
						  "gw.ini", &sc, err, sizeof(err)), 0);
	assert_int_equal(sim_scenario_check(&sc, "6.18.0", err, sizeof(err)), 0);
	assert_int_equal(sim_gateway_cfg(&sc, &sc.nodes[2], &c, &gw, err, sizeof(err)), 0);
	assert_true(gw);
	assert_int_equal(c.ports_per_host, 64);
	assert_true(c.tcp_time_wait_ns == 30 * S);
	assert_true(c.idle_ns == 1200 * S);
	/* a plain nat is no gateway */
	assert_int_equal(sim_gateway_cfg(&sc, &sc.nodes[0], &c, &gw, err, sizeof(err)), 0);
	assert_false(gw);
	/* azure-lb-snat: the pool is the hosts behind it unless nodes says */
	assert_int_equal(sim_scenario_load_string("[client c]\ncount = 120\nvia = g\n[server s]\n"
						  "[nat g]\nprofile = azure-lb-snat\nips = 2\n"
						  "via = s\n", "gw.ini", &sc, err, sizeof(err)), 0);
	assert_int_equal(sim_gateway_cfg(&sc, &sc.nodes[2], &c, &gw, err, sizeof(err)), 0);
	assert_int_equal(c.ports_per_host, 512); /* 101-200: 256 per address, x 2 */
	assert_int_equal(c.ports_per_ip, 64000);
	assert_int_equal(sim_scenario_set(&sc, "g.nodes=10", err, sizeof(err)), 0);
	assert_int_equal(sim_gateway_cfg(&sc, &sc.nodes[2], &c, &gw, err, sizeof(err)), 0);
	assert_int_equal(c.ports_per_host, 1024);
	/* errors name the file, the line and the key */
	expect_err(HEAD "[nat g]\nprofile = aws\nvia = s\n",
		   "gw.ini:5: [nat g] key 'profile': expected a gateway profile: aws-nat-gateway, "
		   "gcp-cloud-nat, azure-nat-gateway or azure-lb-snat, got 'aws'");
	expect_err(HEAD "[nat g]\nports_per_host = lots\nvia = s\n",
		   "gw.ini:5: [nat g] key 'ports_per_host': expected an integer 0-64512");
	expect_err(HEAD "[nat g]\nprofile = aws-nat-gateway\nips = 9\nvia = s\n",
		   "gw.ini:4: [g] key 'ips': aws-nat-gateway takes at most 8 addresses, got 9");
	expect_err(HEAD "[nat g]\nprofile = gcp-cloud-nat\nnodes = 3\nvia = s\n",
		   "gw.ini:4: [g] key 'nodes': only profile azure-lb-snat takes it");
	expect_err(HEAD "[nat g]\nprofile = azure-lb-snat\nnodes = 5000\nvia = s\n",
		   "key 'nodes': azure-lb-snat's default port allocation covers pools of 1-1000");
	expect_err(HEAD "[nat g]\nprofile = azure-lb-snat\nports_per_host = 64001\nvia = s\n",
		   "key 'ports_per_host': 64001 is more than the 64000 ports an address");
	expect_err(HEAD "[nat g]\nidle_timeout = soon\nvia = s\n",
		   "gw.ini:5: [nat g] key 'idle_timeout': expected a duration 0-7d");
	expect_err("[client c]\nvia = g\nprofile = gcp-cloud-nat\n[server s]\n[nat g]\nvia = s\n",
		   "gw.ini:3: [client c] key 'profile' does not apply to a [client] section");
	expect_err("[client c]\nvia = g\n[server s]\n[nat g]\nprofile = gcp-cloud-nat\nvia = h\n"
		   "[nat h]\nprofile = aws-nat-gateway\nvia = s\n",
		   "gw.ini:1: [c] key 'via': the path crosses two cloud gateways, 'g' and 'h'");
	expect_err(HEAD "[nat g]\nprofile = gcp-cloud-nat\nmapping_timeout = 30s\nvia = s\n",
		   "gw.ini:4: [g] key 'mapping_timeout' does not apply to a cloud gateway");
	expect_err(HEAD "[nat g]\nprofile = gcp-cloud-nat\nprofile = aws-nat-gateway\nvia = s\n",
		   "gw.ini:6: [nat g] duplicate key 'profile' (first at line 5)");
	assert_int_equal(sim_scenario_load_string(HEAD "[nat g]\nvia = s\n", "gw.ini", &sc, err,
						  sizeof(err)), 0);
	assert_int_not_equal(sim_scenario_set(&sc, "g.profile=gcp", err, sizeof(err)), 0);
	assert_non_null(strstr(err, "--set [g] key 'profile': expected a gateway profile"));
}

static uint64_t gw_drops(const char *rate, const char *set2)
{
	struct sim_scenario sc;
	struct sim_result r;
	struct sim_config cfg = { .sc = &sc, .host_release = "6.18.0", .no_series = true };
	char a[64];
	uint64_t n = 0;
	assert_int_equal(sim_scenario_load_builtin("nat-gw-gcp", &sc, err, sizeof(err)), 0);
	snprintf(a, sizeof(a), "vms.rate=%s", rate);
	assert_int_equal(sim_scenario_set(&sc, a, err, sizeof(err)), 0);
	if (set2)
		assert_int_equal(sim_scenario_set(&sc, set2, err, sizeof(err)), 0);
	assert_int_equal(sim_run(&cfg, &r), 0);
	for (int k = 0; k < NATGW_DROP_N; k++)
		n += r.hosts[1].gw_drop[k];
	assert_true(r.hosts[1].gateway);
	sim_result_fini(&r);
	return n;
}

/* 64 ports per VM held 120 s after each close: 64 / 120 s = 0.533 new connections/s per VM
 * toward one destination. Nothing is dropped at 0.53/s, drops start at 0.54/s; a 30 s hold
 * moves the edge to 64 / 30 s = 2.13/s. */
static void test_sim_budget_edge(void **st)
{
	(void)st;
	assert_int_equal(gw_drops("0.53/s", NULL), 0);
	assert_true(gw_drops("0.54/s", NULL) > 0);
	assert_int_equal(gw_drops("2.1/s", "cloud-nat.tcp_time_wait_timeout=30s"), 0);
	assert_true(gw_drops("2.2/s", "cloud-nat.tcp_time_wait_timeout=30s") > 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_per_host_blocks),     cmocka_unit_test(test_time_wait_hold),
		cmocka_unit_test(test_per_destination_cap), cmocka_unit_test(test_hosts_without_ports),
		cmocka_unit_test(test_idle_and_bad_cfg),    cmocka_unit_test(test_profiles),
		cmocka_unit_test(test_random_vs_reference), cmocka_unit_test(test_scenario_keys),
		cmocka_unit_test(test_sim_budget_edge),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
