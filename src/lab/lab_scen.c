/*
 * lab_scen — the lab catalogue (shortest forms of the sim scenarios) and the plan derived
 * from a scenario (see lab_scen.h).
 * Invariant: every number a test asserts on follows from the few constants below:
 * LAB_PORTS ports at LAB_RATE connections/s spend the budget after LAB_PORTS/LAB_RATE s.
 */
#include "lab/lab_scen.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "model/timewait.h"

/* A 1,000-port budget (40000-40999: lo even, hi odd, so every port is visited by the
 * parity-split search of §3.2 and the budget is exactly 1,000). */
#define LAB_PORT_LO 40000
#define LAB_PORT_HI 40999
/* 100/s spends 1,000 ports in 10 s: far from 0 so a ±10% comparison means ±1 s, yet a run
 * stays at 16 s. */
#define LAB_RATE 100.0
#define LAB_DURATION_NS (16LL * 1000000000LL)
/* bucket-overflow: a limit well under rate x 60 (§1.4) that is reached in 5 s */
#define LAB_TW_BUCKETS 500u
/* veth round trip inside one machine: tens of microseconds */
#define LAB_RTT_NS (100LL * 1000LL)

static const struct lab_entry catalog[] = {
	{ "stress-client", "stress-client",
	  "client closes first above its 1,000-port budget: EADDRNOTAVAIL after about 10 s, "
	  "TIME-WAIT about 1,000 on the client", NULL },
	{ "stress-client-server-close", "stress-client",
	  "the server closes first: TIME-WAIT moves to the server, no failures", NULL },
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
	n->tw_reuse_delay_ms = 1000; /* §2.2: the 6.14+ default */
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
	} else if (strcmp(name, "lb-quadruplets") == 0 || strcmp(name, "slb-strips-ts") == 0) {
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
	} else if (strcmp(name, "stress-client-linger0") == 0) {
		c->linger0 = true;
	} else if (strcmp(name, "stress-client-4ips") == 0) {
		c->ips = 4;
	} else if (strcmp(name, "tw-reuse-client") == 0) {
		c->tw_reuse = 1;
	} else if (m && strcmp(name, "lb-quadruplets") == 0) {
		/* the client is not the bottleneck here: give it the default range */
		c->port_lo = 0;
		c->port_hi = 0;
		m->tw_reuse = 0;
		m->port_lo = LAB_PORT_LO;
		m->port_hi = LAB_PORT_HI;
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

/* Add one sysctl to a host. */
static void set_sysctl(struct lab_host *h, const char *name, long a, long b, bool pair)
{
	struct lab_sysctl *s;

	if (h->nsysctl >= LAB_MAX_SYSCTL)
		return;
	s = &h->sysctl[h->nsysctl++];
	snprintf(s->name, sizeof(s->name), "%s", name);
	if (pair)
		snprintf(s->value, sizeof(s->value), "%ld %ld", a, b);
	else
		snprintf(s->value, sizeof(s->value), "%ld", a);
}

/* The sysctls a TCP-running node asks for (only what it sets explicitly). */
static int tcp_sysctls(const struct sim_node *n, struct lab_host *h, char *err, size_t errlen)
{
	if (n->tw_recycle > 0) {
		snprintf(err, errlen, "node '%s' sets tw_recycle: removed in Linux 4.12 (§4.5), "
			 "the lab cannot show it; use twkit sim", n->name);
		return -EOPNOTSUPP;
	}
	if (n->port_lo && n->port_hi)
		set_sysctl(h, "net.ipv4.ip_local_port_range", n->port_lo, n->port_hi, true);
	if (n->tw_reuse >= 0)
		set_sysctl(h, "net.ipv4.tcp_tw_reuse", n->tw_reuse, 0, false);
	if (n->timestamps >= 0)
		set_sysctl(h, "net.ipv4.tcp_timestamps", n->timestamps, 0, false);
	if (n->max_tw_buckets > 0)
		set_sysctl(h, "net.ipv4.tcp_max_tw_buckets", (long)n->max_tw_buckets, 0, false);
	return 0;
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
	if (chain[0]->count != 1) {
		snprintf(err, errlen, "client '%s' has count %u: the lab runs one client host",
			 chain[0]->name, chain[0]->count);
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
		if (n->kind == SIM_NODE_NAT || n->kind == SIM_NODE_L4LB) {
			set_sysctl(h, "net.ipv4.ip_forward", 1, 0, false);
		} else {
			rc = tcp_sysctls(n, h, err, errlen);
			if (rc < 0)
				return rc;
		}
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
	if (chain[0]->arrival != SIM_ARRIVAL_CONSTANT || chain[0]->rate <= 0) {
		snprintf(err, errlen, "the lab drives a constant rate; client '%s' asks otherwise",
			 chain[0]->name);
		return -EOPNOTSUPP;
	}
	plan->rate = chain[0]->rate;
	plan->requests = chain[0]->requests ? chain[0]->requests : 1;
	plan->closes = chain[0]->closes;
	plan->linger0 = chain[0]->linger0;
	plan->duration_ns = sc->duration_ns;
	return 0;
}
