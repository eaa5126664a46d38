/*
 * lab_scen — the lab catalogue (shortest forms of the sim scenarios) and the plan derived
 * from a scenario (see lab_scen.h).
 * Invariant: every number a test asserts on follows from the few constants below:
 * LAB_PORTS ports at LAB_RATE connections/s spend the budget after LAB_PORTS/LAB_RATE s.
 */
#include "lab/lab_scen.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/units.h"
#include "model/portsearch.h"
#include "model/reuse.h"
#include "model/timewait.h"

/* A 1,000-port budget (40000-40999: lo even, hi odd, so every port is visited by the
 * parity-split search of §3.2 and the budget is exactly 1,000). */
#define LAB_PORT_LO 40000
#define LAB_PORT_HI 40999
/* 100/s spends 1,000 ports in 10 s: far from 0 so a ±10% comparison means ±1 s, yet a run
 * stays at 16 s. */
#define LAB_RATE 100.0
#define LAB_DURATION_NS (16LL * 1000000000LL)
/* server-close-one-remote: three times the "ceiling" doctor used to draw for one remote
 * address (28,232 default client ports / 60 s = 470/s), so that the server holds more
 * TIME-WAITs from it than that ceiling allowed, and 24,000 connections in 16 s come back to
 * the same 14,116 even ports (§3.2) after ~9.4 s */
#define LAB_RATE_ONE_REMOTE 1500.0
/* bucket-overflow: a limit well under rate x 60 (§1.4) that is reached in 5 s */
#define LAB_TW_BUCKETS 500u
/* connect-cost-*: connect()'s kernel CPU at three occupancies of a narrow range (model/
 * portsearch.h). tcp_tw_reuse=1 (timestamps on): a TIME-WAIT is taken over once older than
 * tcp_tw_reuse_delay (1 s, §2.2), so about rate x 1 s ports are held young at once, and the
 * range's size sets the share: 1,000/s over 10,000 ports (about 10%), 2,800 (about 36%:
 * 71% of the first parity), 1,400 (about 71%: the first parity all young, then the other).
 * None sits near where rate x delay equals a parity's size: there a few ms of difference in
 * when a TIME-WAIT starts flips which pass finds a port. 2,400 ports (83% of the first
 * parity young) was too near: the kernel walked further there than the model (connect()'s
 * p50 3 us above the low run's, ru_stime 8-10 us, where the model says 0.4; docs/kernel.md),
 * and the model itself jumps from 3.6 to 170 ports a connect if TIME-WAITs start 20% later.
 * At 2,800 it stays at 2.5-3.6 over that spread. 1,000 connections/s keep the client's CPU well above the 4 ms tick
 * its ru_stime is sampled with. */
#define LAB_COST_RATE 1000.0
#define LAB_COST_LOW_HI 49999
#define LAB_COST_HALF_HI 42799
#define LAB_COST_FULL_HI 41399
/* veth round trip inside one machine: tens of microseconds */
#define LAB_RTT_NS (100LL * 1000LL)

static const struct lab_entry catalog[] = {
	{ "stress-client", "stress-client",
	  "client closes first above its 1,000-port budget: EADDRNOTAVAIL after about 10 s, "
	  "TIME-WAIT about 1,000 on the client", NULL },
	{ "stress-client-server-close", "stress-client",
	  "the server closes first: TIME-WAIT moves to the server, no failures", NULL },
	{ "stress-client-wide", "stress-client",
	  "the same churn with the default port range: 1,600 of 28,232 ports, nothing to report "
	  "(the healthy twin of narrow-port-range and port-exhaustion)", NULL },
	{ "server-close-one-remote", "stress-client",
	  "one client address at 1,500/s, 3x the old 'quadruplet ceiling' (28,232 ports / 60 s), "
	  "the server closes first: its TIME-WAITs from that address reach 14,116 (connect()'s "
	  "even ports), half the ceiling, and every SYN after that reopens one (spec 5.1): no "
	  "failures, no critical", NULL },
	{ "lb-server-close", "lb-quadruplets",
	  "an L7 balancer with one address, the server closes first, 1,500/s (3x the old "
	  "'quadruplet ceiling' of 28,232 ports / 60 s): the server's TIME-WAITs from the "
	  "balancer are reopened by its SYNs (spec 5.1), no failures", NULL },
	{ "stress-client-linger0", "stress-client",
	  "the client closes with SO_LINGER 0: RST, no TIME-WAIT, no failures", NULL },
	{ "stress-client-4ips", "stress-client",
	  "4 source addresses: a 4,000-port budget, no failures in the run", NULL },
	{ "stress-client-nat", "stress-client",
	  "the same client behind a NAT gateway (masquerade): the client's budget still rules",
	  NULL },
	{ "tw-reuse-client", "tw-reuse-client",
	  "tcp_tw_reuse=1 with timestamps: no failures far above the budget", NULL },
	{ "lb-quadruplets", "lb-quadruplets",
	  "L7 balancer with one IP and 1,000 ports toward one server port: the balancer fails "
	  "with EADDRNOTAVAIL after about 10 s (ceiling range/60 per balancer IP)", NULL },
	{ "slb-strips-ts", "slb-strips-ts",
	  "tcp_tw_reuse=1 on the client, but the L7 balancer runs tcp_timestamps=0: reuse does "
	  "nothing, EADDRNOTAVAIL after about 10 s", NULL },
	{ "slb-strips-ts-l4", "slb-strips-ts",
	  "the same behind an L4 balancer that strips the timestamp option (nftables)", NULL },
	{ "bucket-overflow", "bucket-overflow",
	  "tcp_max_tw_buckets=500 below rate x 60: TIME-WAIT flat at 500, TCPTimeWaitOverflow "
	  "rises", NULL },
	{ "connect-cost-low", "tw-reuse-client",
	  "connect()'s kernel CPU with about 10% of a 10,000-port range held young (1,000/s, "
	  "tcp_tw_reuse=1): about one port examined per connect; sys_us_per_conn checked "
	  "against sim (±25%)", NULL },
	{ "connect-cost-half", "tw-reuse-client",
	  "the same 1,000/s over 2,800 ports: about 36% of the range held young, 71% of the "
	  "first parity: two or three ports examined a connect, below the cliff where that parity "
	  "fills; sys_us_per_conn checked (±25%)", NULL },
	{ "connect-cost-full", "tw-reuse-client",
	  "the same 1,000/s over 1,400 ports: about 71% held young, every connect walks the "
	  "whole first parity before the other; sys_us_per_conn checked (±25%)", NULL },
	{ "nat-recycle", "nat-recycle", "tcp_tw_recycle behind NAT",
	  "tcp_tw_recycle was removed in Linux 4.12 (spec §4.5); this kernel cannot show it: "
	  "run `twkit sim nat-recycle`" },
	{ "random-offsets", "random-offsets", "4.10 random timestamp offsets vs tcp_tw_recycle",
	  "needs a 4.10 client and a tcp_tw_recycle server (removed in 4.12, spec §4.5, §6): "
	  "run `twkit sim random-offsets`" },
	{ "tw-memory", "tw-memory", "600k TIME-WAIT and their memory",
	  "600,000 TIME-WAIT need 60 s at 10k connections/s and a wide port space, beyond the "
	  "lab's 90 s, 1,000-port form: run `twkit sim tw-memory`" },
};

#define NCATALOG ((int)(sizeof(catalog) / sizeof(catalog[0])))

int lab_catalog_count(void)
{
	return NCATALOG;
}

bool lab_catalog_checks_sys(const struct lab_entry *e)
{
	return e && strncmp(e->name, "connect-cost-", 13) == 0 && lab_catalog_find(e->name) == e;
}

const struct lab_entry *lab_catalog_at(int i)
{
	return i >= 0 && i < NCATALOG ? &catalog[i] : NULL;
}

const struct lab_entry *lab_catalog_find(const char *name)
{
	for (int i = 0; i < NCATALOG; i++)
		if (strcmp(catalog[i].name, name) == 0)
			return &catalog[i];
	return NULL;
}

void lab_node_init(struct sim_node *n, enum SIM_NODE_KIND kind, const char *name)
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
static struct sim_node *add(struct sim_scenario *sc, enum SIM_NODE_KIND kind, const char *name)
{
	struct sim_node *n = &sc->nodes[sc->nnodes++];

	lab_node_init(n, kind, name);
	return n;
}

int lab_catalog_scenario(const char *name, struct sim_scenario *sc)
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

	c = add(sc, SIM_NODE_CLIENT, "client");
	c->rate = LAB_RATE;
	c->tw_reuse = 0; /* §2.2: the 4.19+ default 2 is loopback-only; 0 says it plainly */
	c->port_lo = LAB_PORT_LO;
	c->port_hi = LAB_PORT_HI;
	if (strcmp(name, "stress-client-nat") == 0) {
		m = add(sc, SIM_NODE_NAT, "nat");
	} else if (strcmp(name, "lb-quadruplets") == 0 || strcmp(name, "slb-strips-ts") == 0 ||
		   strcmp(name, "lb-server-close") == 0) {
		m = add(sc, SIM_NODE_L7LB, "lb");
	} else if (strcmp(name, "slb-strips-ts-l4") == 0) {
		m = add(sc, SIM_NODE_L4LB, "lb");
		m->strip_timestamps = true;
	}
	s = add(sc, SIM_NODE_SERVER, "server");
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
		c->port_hi = !strcmp(name + 13, "low")    ? LAB_COST_LOW_HI
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
			m->timestamps = 0; /* §6: no option on the balancer's side of the handshake */
	} else if (strcmp(name, "bucket-overflow") == 0) {
		c->port_lo = 0;
		c->port_hi = 0;
		c->max_tw_buckets = LAB_TW_BUCKETS;
	}
	return 0;
}

/* The plan: every key of every node on the path is built or refused (docs/lab.md "Scenario
 * files"). The kernel's defaults below are what a fresh namespace has; a scenario asking for
 * them gets no sysctl, so it is never refused, even on a kernel without that sysctl. */
/* tcp_tw_reuse_delay (6.14+; a fixed 1 s before it, §2.2) */
#define LAB_KERNEL_REUSE_DELAY_MS TW_REUSE_DELAY_DEFAULT_MS
/* tcp_rto_min_us (6.11+): TCP_RTO_MIN */
#define LAB_KERNEL_RTO_NS TW_RTO_MIN_NS
/* nf_conntrack_tcp_timeout_time_wait: how long conntrack keeps a closed flow's tuple */
#define LAB_KERNEL_CT_TIME_WAIT_NS (120LL * 1000000000LL)
/* An rtt up to this is what the veth pairs give anyway (a round trip of tens of µs): one
 * request's lifetime moves by under 1 ms, which no TIME-WAIT count or port budget shows. The
 * lab adds no delay (netem is not on every kernel), so a longer rtt is refused. */
#define LAB_RTT_VETH_MAX_NS 1000000LL

static const char *const kind_names[] = { "client", "nat", "l4lb", "l7lb", "server" };

const char *lab_kind_name(enum SIM_NODE_KIND kind)
{
	return (unsigned)kind < sizeof(kind_names) / sizeof(kind_names[0]) ? kind_names[kind] : "?";
}

/* Refuse `key` of node n: err gets "[kind name] key = " and the formatted value and why. */
__attribute__((format(printf, 6, 7))) static int refuse(struct lab_plan *plan,
							const struct sim_node *n, const char *key,
							char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	int off = snprintf(err, errlen, "[%s %s] %s = ", lab_kind_name(n->kind), n->name, key);

	if (off >= 0 && (size_t)off < errlen) {
		va_start(ap, fmt);
		vsnprintf(err + off, errlen - (size_t)off, fmt, ap);
		va_end(ap);
	}
	plan->bad_key = key;
	snprintf(plan->bad_node, sizeof(plan->bad_node), "%s", n->name);
	return -EOPNOTSUPP;
}

/* Add one sysctl (value from fmt) to a host; shown NULL means the key reads as the value. */
__attribute__((format(printf, 6, 7))) static void set_sysctl(struct lab_host *h, const char *name,
							     const char *key, const char *since,
							     const char *shown, const char *fmt,
							     ...)
{
	struct lab_sysctl *s;
	va_list ap;

	if (h->nsysctl >= LAB_MAX_SYSCTL)
		return;
	s = &h->sysctl[h->nsysctl++];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	va_start(ap, fmt);
	vsnprintf(s->value, sizeof(s->value), fmt, ap);
	va_end(ap);
	s->key = key;
	s->since = since;
	/* gcc's -Wrestrict cannot tell that shown never points into *s: copy in two steps */
	if (shown)
		snprintf(s->shown, sizeof(s->shown), "%s", shown);
	else
		memcpy(s->shown, s->value,
		       sizeof(s->shown) < sizeof(s->value) ? sizeof(s->shown) : sizeof(s->value));
	s->shown[sizeof(s->shown) - 1] = '\0';
}

/* The sysctls of a node that runs TCP (client, l7lb, server), or the refusal of a key no
 * kernel the lab runs on can build. */
static int tcp_sysctls(struct lab_plan *plan, const struct sim_node *n, struct lab_host *h,
		       char *err, size_t errlen)
{
	char shown[24];

	if (n->tw_recycle > 0)
		return refuse(plan, n, "tw_recycle", err, errlen,
			      "%d: tcp_tw_recycle was removed in Linux 4.12 (§4.5); no kernel the "
			      "lab runs on has it", n->tw_recycle);
	if (n->hz != 1000)
		return refuse(plan, n, "hz", err, errlen,
			      "%u: the TCP timestamp clock is 1 kHz on every kernel since 4.13 "
			      "(CONFIG_HZ, fixed at build time, before it, §5); it cannot be "
			      "changed at run time", n->hz);
	if (n->port_lo && n->port_hi) {
		snprintf(shown, sizeof(shown), "%u-%u", n->port_lo, n->port_hi);
		set_sysctl(h, "net.ipv4.ip_local_port_range", "port_range", NULL, shown, "%u %u",
			   n->port_lo, n->port_hi);
	}
	if (n->tw_reuse >= 0)
		set_sysctl(h, "net.ipv4.tcp_tw_reuse", "tw_reuse", NULL, NULL, "%d", n->tw_reuse);
	if (n->timestamps >= 0)
		set_sysctl(h, "net.ipv4.tcp_timestamps", "timestamps", NULL, NULL, "%d",
			   n->timestamps);
	/* always: the kernel's default is ehash/2, which depends on the machine's memory */
	set_sysctl(h, "net.ipv4.tcp_max_tw_buckets", "max_tw_buckets", NULL, NULL, "%u",
		   n->max_tw_buckets);
	if (n->tw_reuse_delay_ms != LAB_KERNEL_REUSE_DELAY_MS)
		set_sysctl(h, "net.ipv4.tcp_tw_reuse_delay", "tw_reuse_delay", "Linux 6.14", NULL,
			   "%u", n->tw_reuse_delay_ms);
	if (n->rto_ns != LAB_KERNEL_RTO_NS) {
		/* an established connection's RTO is srtt + max(rttvar, rto_min): on a veth
		 * (srtt of tens of µs) that is rto_min */
		units_fmt_duration(shown, sizeof(shown), n->rto_ns);
		set_sysctl(h, "net.ipv4.tcp_rto_min_us", "rto", "Linux 6.11", shown, "%lld",
			   (long long)(n->rto_ns / 1000));
	}
	if (n->syn_retries >= 0)
		set_sysctl(h, "net.ipv4.tcp_syn_retries", "syn_retries", NULL, NULL, "%d",
			   n->syn_retries);
	if (n->rfc1337 != 0)
		set_sysctl(h, "net.ipv4.tcp_rfc1337", "rfc1337", NULL, NULL, "%d", n->rfc1337);
	return 0;
}

/* mapping_timeout of a NAT gateway or L4 balancer: conntrack keeps a closed flow's tuple (and
 * so its public port) for nf_conntrack_tcp_timeout_time_wait, whole seconds. */
static int ct_timeout(struct lab_plan *plan, const struct sim_node *n, struct lab_host *h,
		      char *err, size_t errlen)
{
	char shown[24];

	if (n->mapping_timeout_ns == LAB_KERNEL_CT_TIME_WAIT_NS)
		return 0;
	if (n->mapping_timeout_ns == 0)
		snprintf(shown, sizeof(shown), "0s");
	else
		units_fmt_duration(shown, sizeof(shown), n->mapping_timeout_ns);
	if (n->mapping_timeout_ns % 1000000000LL != 0)
		return refuse(plan, n, "mapping_timeout", err, errlen,
			      "%s: the lab's conntrack (nf_conntrack_tcp_timeout_time_wait) counts "
			      "whole seconds", shown);
	set_sysctl(h, "net.netfilter.nf_conntrack_tcp_timeout_time_wait", "mapping_timeout", NULL,
		   shown, "%lld", (long long)(n->mapping_timeout_ns / 1000000000LL));
	return 0;
}

/* An rtt the veth gives anyway, or the refusal. */
static int rtt_check(struct lab_plan *plan, const struct sim_node *n, char *err, size_t errlen)
{
	char shown[24];

	if (n->rtt_ns <= LAB_RTT_VETH_MAX_NS)
		return 0;
	units_fmt_duration(shown, sizeof(shown), n->rtt_ns);
	return refuse(plan, n, "rtt", err, errlen,
		      "%s: the lab's veth links have a round trip of tens of microseconds and it "
		      "adds no delay (up to 1ms is built as that)", shown);
}

/* The keys of the client group (chain[0]) that bench does or cannot build. */
static int client_keys(struct lab_plan *plan, const struct sim_node *n, char *err, size_t errlen)
{
	if (n->count != 1)
		return refuse(plan, n, "count", err, errlen, "%u: the lab runs one client host",
			      n->count);
	if (n->arrival != SIM_ARRIVAL_CONSTANT)
		return refuse(plan, n, "arrival", err, errlen,
			      "%s: the lab drives a constant rate (bench --rate)",
			      n->arrival == SIM_ARRIVAL_POISSON ? "poisson" : "ramp");
	if (n->rate <= 0)
		return refuse(plan, n, "rate", err, errlen, "0/s: the lab needs connections");
	if (n->bind_port)
		return refuse(plan, n, "bind_port", err, errlen,
			      "yes: bench connects with IP_BIND_ADDRESS_NO_PORT (the kernel's own "
			      "port search); it has no explicit-port bind()");
	if (n->port_select != SIM_PORTSEL_KERNEL)
		return refuse(plan, n, "port_select", err, errlen,
			      "app: the lab's client lets connect() pick its ports");
	return rtt_check(plan, n, err, errlen);
}

/* The keys of an L7 balancer (twkit's relay or nginx: one backend connection per client
 * connection, closed by the balancer first, from one listening port). */
static int l7_keys(struct lab_plan *plan, const struct sim_node *n, const struct sim_node *client,
		   char *err, size_t errlen)
{
	char shown[24];

	if (n->requests != 1)
		return refuse(plan, n, "requests", err, errlen,
			      "%u: the lab's balancer opens one backend connection per client "
			      "connection and carries that connection's requests", n->requests);
	/* twkit's relay forwards the client's request as it is: bench's "server closes" mark
	 * reaches the server, which then closes the backend connection first, and the relay
	 * closes the client's after it. So the balancer's close follows the client's. */
	if (n->closes != client->closes)
		return refuse(plan, n, "closes", err, errlen,
			      "%s with the client's closes = %s: the lab's balancer (twkit's relay) "
			      "forwards the client's request, whose close mark decides who closes the "
			      "backend connection; set both the same",
			      n->closes == SIM_CLOSES_SERVER ? "server" : "client",
			      client->closes == SIM_CLOSES_SERVER ? "server" : "client");
	plan->l7_server_closes = n->closes == SIM_CLOSES_SERVER;
	if (n->linger0)
		return refuse(plan, n, "linger0", err, errlen,
			      "yes: the lab's balancer closes with a FIN");
	if (n->bind_port)
		return refuse(plan, n, "bind_port", err, errlen,
			      "yes: the lab's balancer binds with IP_BIND_ADDRESS_NO_PORT");
	if (n->port_select != SIM_PORTSEL_KERNEL)
		return refuse(plan, n, "port_select", err, errlen,
			      "app: the lab's balancer lets connect() pick its ports");
	if (n->ports != 1)
		return refuse(plan, n, "ports", err, errlen,
			      "%u: the lab's balancer listens on one port", n->ports);
	if (n->service_ns != 0)
		return refuse(plan, n, "service_time", err, errlen,
			      "%s: the lab's balancer forwards at once",
			      units_fmt_duration(shown, sizeof(shown), n->service_ns));
	return rtt_check(plan, n, err, errlen);
}

/* The keys of the server (bench serve: answers at once, one address, `ports` ports). */
static int server_keys(struct lab_plan *plan, const struct sim_node *n, char *err, size_t errlen)
{
	char shown[24];

	if (n->ips != 1)
		return refuse(plan, n, "ips", err, errlen, "%u: the lab's server has one address",
			      n->ips);
	if (n->service_ns != 0)
		return refuse(plan, n, "service_time", err, errlen,
			      "%s: bench serve answers at once; it has no service time",
			      units_fmt_duration(shown, sizeof(shown), n->service_ns));
	return 0;
}

/* The keys of a NAT gateway or L4 balancer (nftables in the middle namespace). */
static int forward_keys(struct lab_plan *plan, const struct sim_node *n, struct lab_host *h,
			char *err, size_t errlen)
{
	set_sysctl(h, "net.ipv4.ip_forward", NULL, NULL, NULL, "1");
	if (n->kind == SIM_NODE_NAT && n->mapping == SIM_NAT_SEQUENTIAL)
		return refuse(plan, n, "mapping", err, errlen,
			      "sequential: nftables masquerade keeps the inside port when it is "
			      "free (preserve) or draws one (random, fully-random); it has no "
			      "sequential choice");
	if (n->kind == SIM_NODE_NAT)
		plan->mapping = n->mapping;
	/* one inside host keeps one public address (docs/scenarios.md), so a NAT's ips build
	 * as they are; an L4 balancer's are VIPs the client would spread over */
	if (n->kind == SIM_NODE_L4LB && n->ips != 1)
		return refuse(plan, n, "ips", err, errlen,
			      "%u: the lab's L4 balancer has one virtual IP", n->ips);
	return ct_timeout(plan, n, h, err, errlen);
}

/* Index of the node named `name`, or -1. */
static int node_find(const struct sim_scenario *sc, const char *name)
{
	for (int i = 0; i < sc->nnodes; i++)
		if (strcmp(sc->nodes[i].name, name) == 0)
			return i;
	return -1;
}

int lab_plan_from_sim(const struct sim_scenario *sc, struct lab_plan *plan, char *err,
		      size_t errlen)
{
	const struct sim_node *chain[LAB_MAX_HOSTS + 1];
	int nchain = 0, client = -1, rc;

	memset(plan, 0, sizeof(*plan));
	plan->middle = -1;
	for (int i = 0; i < sc->nnodes; i++) {
		if (sc->nodes[i].kind != SIM_NODE_CLIENT)
			continue;
		if (client >= 0) {
			snprintf(err, errlen, "the lab runs one client group; '%s' and '%s' found",
				 sc->nodes[client].name, sc->nodes[i].name);
			return -EOPNOTSUPP;
		}
		client = i;
	}
	if (client < 0) {
		snprintf(err, errlen, "scenario '%s' has no client", sc->name);
		return -EOPNOTSUPP;
	}
	for (int i = client; i >= 0; i = node_find(sc, sc->nodes[i].via)) {
		if (nchain == LAB_MAX_HOSTS) {
			snprintf(err, errlen, "the lab builds client -> middlebox -> server; '%s' "
				 "adds a fourth hop", sc->nodes[i].name);
			return -EOPNOTSUPP;
		}
		chain[nchain++] = &sc->nodes[i];
		if (sc->nodes[i].kind == SIM_NODE_SERVER)
			break;
	}
	if (nchain < 2 || chain[nchain - 1]->kind != SIM_NODE_SERVER) {
		snprintf(err, errlen, "client '%s' does not lead to a server", chain[0]->name);
		return -EOPNOTSUPP;
	}
	if (sc->duration_ns <= 0 || sc->duration_ns > LAB_MAX_DURATION_NS) {
		snprintf(err, errlen, "duration must be within 1..90 s in the lab");
		return -EOPNOTSUPP;
	}
	for (int i = 0; i < nchain; i++) {
		const struct sim_node *n = chain[i];
		struct lab_host *h = &plan->hosts[i];

		snprintf(h->node, sizeof(h->node), "%s", n->name);
		h->kind = n->kind;
		h->role = i == 0 ? LAB_ROLE_CLIENT :
			  i == nchain - 1 ? LAB_ROLE_SERVER : LAB_ROLE_MIDDLE;
		if (n->kind == SIM_NODE_NAT || n->kind == SIM_NODE_L4LB)
			rc = forward_keys(plan, n, h, err, errlen);
		else
			rc = tcp_sysctls(plan, n, h, err, errlen);
		if (rc == 0 && h->role == LAB_ROLE_CLIENT)
			rc = client_keys(plan, n, err, errlen);
		else if (rc == 0 && n->kind == SIM_NODE_L7LB)
			rc = l7_keys(plan, n, chain[0], err, errlen);
		else if (rc == 0 && h->role == LAB_ROLE_SERVER)
			rc = server_keys(plan, n, err, errlen);
		if (rc < 0)
			return rc;
		if (h->role == LAB_ROLE_MIDDLE) {
			plan->middle = i;
			plan->middle_kind = n->kind;
			plan->strip_timestamps = n->strip_timestamps;
			plan->middle_ips = n->ips ? n->ips : 1;
		}
	}
	plan->nhosts = nchain;
	plan->client_ips = chain[0]->ips ? chain[0]->ips : 1;
	plan->server_ports = chain[nchain - 1]->ports ? chain[nchain - 1]->ports : 1;
	if (plan->client_ips > LAB_MAX_IPS || plan->middle_ips > LAB_MAX_IPS ||
	    plan->server_ports > LAB_MAX_PORTS) {
		snprintf(err, errlen, "the lab builds at most %d addresses per host and %d ports",
			 LAB_MAX_IPS, LAB_MAX_PORTS);
		return -EOPNOTSUPP;
	}
	plan->rate = chain[0]->rate;
	plan->requests = chain[0]->requests ? chain[0]->requests : 1;
	plan->closes = chain[0]->closes;
	plan->linger0 = chain[0]->linger0;
	plan->duration_ns = sc->duration_ns;
	return 0;
}
