/*
 * natgw — cloud NAT gateway profiles and port accounting (see natgw.h). Every figure of a
 * product lives in profiles[] below, with where it was read; docs/cloud-nat.md cites the same
 * sources and says which figures could not be confirmed.
 */
#include "sim/natgw.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S 1000000000LL
#define PORT0 1024u /* gateways hand out ports from 1024 up (the well-known ones stay unused) */

struct natgw_cool {
	uint32_t off;  /* port - PORT0 */
	int64_t t;     /* when the port is free again */
};

/*
 * The products. ports_per_ip 64,512 = 1024-65535; Azure's load balancer gives 64,000 per
 * frontend address. Sources (docs/cloud-nat.md has the addresses):
 *  aws: 55,000 simultaneous connections per destination, up to 8 addresses (repost.aws
 *       vpc-resolve-port-allocation-errors, vpc-troubleshoot-nat-gateway-connection); idle
 *       350 s then RST (third-party write-ups; AWS's own page not in the stored sources);
 *       the hold after a FIN close is not published: 0 s.
 *  gcp: min_ports_per_vm 64 by default in older setups (gardener-attic/gardener-extensions
 *       #445); TCP TIME_WAIT 120 s by default (Compute API RouterNat.tcpTimeWaitTimeoutSec;
 *       30 s for gateways created from Sep 30 2026, release note); established idle 1200 s,
 *       silently dropped.
 *  azure-nat-gateway: 64,512 ports per address, 16 addresses, 50,000 simultaneous
 *       connections per address to one destination (MicrosoftDocs azure-docs commits),
 *       idle 4 min, RST on a removed flow; a port reuse cool-down exists but its length was
 *       not found in the stored sources: 0 s.
 *  azure-lb-snat: 64,000 ports per frontend address, the default allocation table by pool
 *       size (times the addresses, at most 1024 per instance); idle 4 min; hold unknown: 0 s.
 */
static const struct natgw_profile profiles[] = {
	{ "aws-nat-gateway", "AWS NAT gateway", 64512, 55000, 0, false, 8, 0, 350 * S, true,
	  "repost.aws/knowledge-center/vpc-resolve-port-allocation-errors" },
	{ "gcp-cloud-nat", "GCP Cloud NAT (static port allocation)", 64512, 0, 64, false, 64,
	  120 * S, 1200 * S, false,
	  "cloud.google.com/nat/docs/ports-and-addresses; RouterNat.tcpTimeWaitTimeoutSec" },
	{ "azure-nat-gateway", "Azure NAT gateway", 64512, 50000, 0, false, 16, 0, 240 * S, true,
	  "learn.microsoft.com/azure/nat-gateway/nat-gateway-resource" },
	{ "azure-lb-snat", "Azure load balancer outbound SNAT (default allocation)", 64000, 0, 0,
	  true, 64, 0, 240 * S, true,
	  "learn.microsoft.com/azure/load-balancer/load-balancer-outbound-connections" },
};
#define NPROFILES ((int)(sizeof(profiles) / sizeof(profiles[0])))

int natgw_profile_count(void)
{
	return NPROFILES;
}

const struct natgw_profile *natgw_profile_at(int i)
{
	return i >= 0 && i < NPROFILES ? &profiles[i] : NULL;
}

const struct natgw_profile *natgw_profile_by_name(const char *name)
{
	for (int i = 0; name && i < NPROFILES; i++)
		if (!strcmp(profiles[i].name, name))
			return &profiles[i];
	return NULL;
}

void natgw_profile_names(char *buf, size_t len)
{
	size_t off = 0;
	buf[0] = 0;
	for (int i = 0; i < NPROFILES && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%s",
					i == 0 ? "" : i == NPROFILES - 1 ? " or " : ", ",
					profiles[i].name);
}

uint32_t natgw_azure_default_ports(uint32_t nodes, uint32_t ips)
{
	/* the default port allocation table: pool size (VM instances) -> SNAT ports per
	 * instance for one frontend address */
	static const struct {
		uint32_t upto, ports;
	} table[] = { { 50, 1024 }, { 100, 512 }, { 200, 256 }, { 400, 128 }, { 800, 64 },
		      { 1000, 32 } };
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (nodes >= 1 && nodes <= table[i].upto) {
			uint64_t p = (uint64_t)table[i].ports * ips;
			return p > 1024 ? 1024 : (uint32_t)p; /* at most 1024 per instance */
		}
	return 0;
}

const char *natgw_drop_name(enum NATGW_DROP why)
{
	switch (why) {
	case NATGW_DROP_PORTS_PER_HOST:
		return "ports_per_host";
	case NATGW_DROP_PER_DEST:
		return "max_per_destination";
	case NATGW_DROP_NO_HOST_PORTS:
		return "host_without_ports";
	case NATGW_DROP_IDLE:
		return "idle_timeout";
	default:
		return "?";
	}
}

uint32_t natgw_hosts_per_ip(const struct natgw_cfg *c)
{
	return c->ports_per_host ? c->ports_per_ip / c->ports_per_host : 0;
}

bool natgw_idle_cuts(const struct natgw_cfg *c, int64_t idle_ns)
{
	return c->idle_ns > 0 && idle_ns > c->idle_ns;
}

int natgw_init(struct natgw *g, const struct natgw_cfg *cfg)
{
	memset(g, 0, sizeof(*g));
	if (cfg->ips < 1 || cfg->ips > 64 || cfg->ports_per_ip < 1 || cfg->ports_per_ip > 64512 ||
	    cfg->max_per_destination < 1 || cfg->max_per_destination > cfg->ports_per_ip ||
	    cfg->ports_per_host > cfg->ports_per_ip || cfg->tcp_time_wait_ns < 0 ||
	    cfg->idle_ns < 0)
		return -EINVAL;
	g->cfg = *cfg;
	g->words = (cfg->ports_per_ip + 63) / 64;
	return 0;
}

void natgw_fini(struct natgw *g)
{
	for (uint32_t i = 0; i < g->ntab; i++) {
		free(g->tab[i].held);
		free(g->tab[i].q);
	}
	free(g->tab);
	free(g->hkey);
	free(g->hslot);
	memset(g, 0, sizeof(*g));
}

/* Cool-downs of t due by now let their ports go. */
static void tab_expire(struct natgw_tab *t, int64_t now)
{
	while (t->qn && t->q[t->qh].t <= now) {
		uint32_t off = t->q[t->qh].off;
		t->held[off >> 6] &= ~(1ULL << (off & 63));
		t->used--;
		t->qh = (t->qh + 1) & (t->qcap - 1);
		t->qn--;
	}
}

/* The table of (ip, daddr, dport), made on first use: its index, or -1 (-ENOMEM). */
static int64_t tab_get(struct natgw *g, uint8_t ip, uint32_t daddr, uint16_t dport)
{
	struct natgw_tab *t;
	if (g->ntab && g->tab[g->last].ip == ip && g->tab[g->last].daddr == daddr &&
	    g->tab[g->last].dport == dport)
		return g->last;
	for (uint32_t i = 0; i < g->ntab; i++)
		if (g->tab[i].ip == ip && g->tab[i].daddr == daddr && g->tab[i].dport == dport)
			return g->last = i;
	if (g->ntab == UINT16_MAX + 1u)
		return -1; /* handles are 16 bits in a connection: 65,536 tables at most */
	if (g->ntab == g->tabcap) {
		uint32_t ncap = g->tabcap ? g->tabcap * 2 : 4;
		struct natgw_tab *n = realloc(g->tab, (size_t)ncap * sizeof(*n));
		if (!n)
			return -1;
		g->tab = n;
		g->tabcap = ncap;
	}
	t = &g->tab[g->ntab];
	memset(t, 0, sizeof(*t));
	t->held = calloc(g->words, sizeof(uint64_t));
	if (!t->held)
		return -1;
	t->ip = ip;
	t->daddr = daddr;
	t->dport = dport;
	return g->last = g->ntab++;
}

/* The first clear bit of t at offsets [from, to) (to <= ports_per_ip), or UINT32_MAX. */
static uint32_t tab_free_in(const struct natgw_tab *t, uint32_t from, uint32_t to)
{
	uint32_t w = from >> 6;
	uint64_t bits = ~t->held[w] & (~0ULL << (from & 63));
	for (;;) {
		if (bits) {
			uint32_t off = (w << 6) + (uint32_t)__builtin_ctzll(bits);
			return off < to ? off : UINT32_MAX;
		}
		if (++w << 6 >= to)
			return UINT32_MAX;
		bits = ~t->held[w];
	}
}

static void tab_take(struct natgw *g, struct natgw_tab *t, uint32_t off)
{
	t->held[off >> 6] |= 1ULL << (off & 63);
	if (++t->used > g->peak_used)
		g->peak_used = t->used;
}

/* The block slot of inside address host (given in first-seen order), or -1 (-ENOMEM). */
static int64_t host_slot(struct natgw *g, uint32_t host)
{
	uint32_t mask, i;
	if (g->nhost * 2 >= g->hcap) {
		uint32_t ncap = g->hcap ? g->hcap * 2 : 64;
		uint32_t *k = malloc((size_t)ncap * sizeof(*k)), *v = malloc((size_t)ncap * sizeof(*v));
		if (!k || !v) {
			free(k);
			free(v);
			return -1;
		}
		memset(k, 0xff, (size_t)ncap * sizeof(*k)); /* UINT32_MAX: empty */
		for (uint32_t j = 0; j < g->hcap; j++) {
			if (g->hkey[j] == UINT32_MAX)
				continue;
			for (i = (g->hkey[j] * 2654435761u) & (ncap - 1); k[i] != UINT32_MAX;
			     i = (i + 1) & (ncap - 1))
				;
			k[i] = g->hkey[j];
			v[i] = g->hslot[j];
		}
		free(g->hkey);
		free(g->hslot);
		g->hkey = k;
		g->hslot = v;
		g->hcap = ncap;
	}
	mask = g->hcap - 1;
	for (i = (host * 2654435761u) & mask; g->hkey[i] != UINT32_MAX; i = (i + 1) & mask)
		if (g->hkey[i] == host)
			return g->hslot[i];
	g->hkey[i] = host;
	g->hslot[i] = g->nhost;
	return g->nhost++;
}

static int drop(struct natgw *g, enum NATGW_DROP why, enum NATGW_DROP *out)
{
	g->drops[why]++;
	*out = why;
	return -EADDRNOTAVAIL;
}

int natgw_map(struct natgw *g, uint32_t host, uint32_t daddr, uint16_t dport, int64_t now,
	      uint8_t *ip, uint16_t *port, uint32_t *tab, enum NATGW_DROP *why)
{
	const struct natgw_cfg *c = &g->cfg;
	uint32_t off;
	int64_t ti;
	if (c->ports_per_host) {
		/* static allocation: the host's block on one address, reused toward every
		 * destination (a port serves one flow per destination) */
		uint32_t per_ip = natgw_hosts_per_ip(c);
		int64_t slot = host_slot(g, host);
		if (slot < 0)
			return -ENOMEM;
		if ((uint64_t)slot >= (uint64_t)per_ip * c->ips)
			return drop(g, NATGW_DROP_NO_HOST_PORTS, why);
		*ip = (uint8_t)(slot / per_ip);
		ti = tab_get(g, *ip, daddr, dport);
		if (ti < 0)
			return -ENOMEM;
		struct natgw_tab *t = &g->tab[ti];
		tab_expire(t, now);
		if (t->used >= c->max_per_destination)
			return drop(g, NATGW_DROP_PER_DEST, why);
		uint32_t b0 = (uint32_t)(slot % per_ip) * c->ports_per_host;
		off = tab_free_in(t, b0, b0 + c->ports_per_host);
		if (off == UINT32_MAX)
			return drop(g, NATGW_DROP_PORTS_PER_HOST, why);
		tab_take(g, t, off);
		*port = (uint16_t)(PORT0 + off);
		*tab = (uint32_t)ti;
		return 0;
	}
	/* a shared pool: flows toward one destination take turns over the addresses, and go to
	 * the next one when an address holds max_per_destination toward it */
	int64_t t0 = tab_get(g, 0, daddr, dport);
	if (t0 < 0)
		return -ENOMEM;
	uint32_t start = g->tab[t0].rr;
	for (uint32_t k = 0; k < c->ips; k++) {
		uint8_t a = (uint8_t)((start + k) % c->ips);
		ti = tab_get(g, a, daddr, dport);
		if (ti < 0)
			return -ENOMEM;
		struct natgw_tab *t = &g->tab[ti];
		tab_expire(t, now);
		if (t->used >= c->max_per_destination)
			continue;
		off = tab_free_in(t, t->cursor, c->ports_per_ip);
		if (off == UINT32_MAX)
			off = tab_free_in(t, 0, c->ports_per_ip);
		if (off == UINT32_MAX)
			continue; /* cannot happen: used < max <= ports */
		tab_take(g, t, off);
		t->cursor = off + 1 < c->ports_per_ip ? off + 1 : 0;
		g->tab[t0].rr = (uint8_t)((a + 1u) % c->ips);
		*ip = a;
		*port = (uint16_t)(PORT0 + off);
		*tab = (uint32_t)ti;
		return 0;
	}
	return drop(g, NATGW_DROP_PER_DEST, why);
}

void natgw_unmap(struct natgw *g, uint32_t tab, uint16_t port, int64_t now, bool fin)
{
	struct natgw_tab *t = &g->tab[tab];
	uint32_t off = (uint32_t)port - PORT0;
	tab_expire(t, now);
	if (!fin || g->cfg.tcp_time_wait_ns == 0) {
		t->held[off >> 6] &= ~(1ULL << (off & 63));
		t->used--;
		return;
	}
	if (t->qn == t->qcap) {
		/* grow the ring, oldest first at 0 (it holds at most ports_per_ip) */
		uint32_t ncap = t->qcap ? t->qcap * 2 : 64;
		struct natgw_cool *n = malloc((size_t)ncap * sizeof(*n));
		if (!n) {
			/* cannot queue the cool-down: let the port go now rather than leak it */
			t->held[off >> 6] &= ~(1ULL << (off & 63));
			t->used--;
			return;
		}
		for (uint32_t i = 0; i < t->qn; i++)
			n[i] = t->q[(t->qh + i) & (t->qcap - 1)];
		free(t->q);
		t->q = n;
		t->qh = 0;
		t->qcap = ncap;
	}
	t->q[(t->qh + t->qn) & (t->qcap - 1)] = (struct natgw_cool){
		.off = off, .t = now + g->cfg.tcp_time_wait_ns };
	t->qn++;
}

uint32_t natgw_used(struct natgw *g, uint8_t ip, uint32_t daddr, uint16_t dport, int64_t now)
{
	for (uint32_t i = 0; i < g->ntab; i++)
		if (g->tab[i].ip == ip && g->tab[i].daddr == daddr && g->tab[i].dport == dport) {
			tab_expire(&g->tab[i], now);
			return g->tab[i].used;
		}
	return 0;
}
