/*
 * natgw_explain — `twkit sim --explain`'s lines for cloud gateways: each gateway's port
 * budget (ports per host or per destination, over the connection's life plus the gateway's
 * own TIME_WAIT hold: the new connections per second it sustains toward one destination),
 * whether the clients behind it stay within it and when they would run out, and its idle
 * timeout. The figures come from the resolved gateway (natgw.h), never from prose.
 */
#include "sim/sim.h"

#include <stdio.h>
#include <string.h>

#include "common/units.h"

static int node_index(const struct sim_scenario *sc, const char *name)
{
	for (int i = 0; i < sc->nnodes; i++)
		if (!strcmp(sc->nodes[i].name, name))
			return i;
	return -1;
}

/* Whether client c's path crosses node g; *target gets the TCP endpoint it reaches and
 * *vip_ips the addresses of an L4 balancer it connects to (0: none). */
static bool crosses(const struct sim_scenario *sc, const struct sim_node *c, int g, int *target,
		    uint32_t *vip_ips)
{
	bool seen = false;
	int j = node_index(sc, c->via);
	*target = -1;
	*vip_ips = 0;
	for (int hops = 0; j >= 0 && hops <= SIM_MAX_NODES; hops++) {
		const struct sim_node *x = &sc->nodes[j];
		seen |= j == g;
		if (x->kind == SIM_NODE_SERVER || x->kind == SIM_NODE_L7LB) {
			*target = j;
			return seen;
		}
		if (x->kind == SIM_NODE_L4LB)
			*vip_ips = x->ips;
		j = node_index(sc, x->via);
	}
	return false;
}

/* A rate in connections/s, as a number: two decimals below 10 (budgets like 64 / 120 s). */
static const char *fmt_per_s(char *buf, size_t len, double r)
{
	if (r < 10)
		snprintf(buf, len, "%.2f", r);
	else if (r < 1000)
		snprintf(buf, len, "%.0f", r);
	else
		units_fmt_count(buf, len, (uint64_t)(r + 0.5));
	return buf;
}


static void one_gateway(FILE *f, const struct sim_scenario *sc, int gi,
			const struct natgw_cfg *g)
{
	const struct sim_node *gn = &sc->nodes[gi];
	const struct natgw_profile *p = natgw_profile_by_name(gn->gw_profile);
	char a[32], b[32], c3[32], d[32];
	uint64_t hosts = 0;
	double hold = (double)g->tcp_time_wait_ns / 1e9;

	for (int i = 0; i < sc->nnodes; i++) {
		int t;
		uint32_t v;
		if (sc->nodes[i].kind == SIM_NODE_CLIENT && crosses(sc, &sc->nodes[i], gi, &t, &v))
			hosts += sc->nodes[i].count;
	}
	fprintf(f, "Cloud gateway %s (%s): %u address%s x %s ports", gn->name,
		p ? p->product : "custom limits", g->ips, g->ips > 1 ? "es" : "",
		units_fmt_count(a, sizeof(a), g->ports_per_ip));
	if (g->ports_per_host)
		fprintf(f, "; %s ports per inside host in static blocks: %s hosts per address, %s "
			   "behind it",
			units_fmt_count(a, sizeof(a), g->ports_per_host),
			units_fmt_count(b, sizeof(b), natgw_hosts_per_ip(g)),
			units_fmt_count(c3, sizeof(c3), hosts));
	else
		fprintf(f, "; a shared pool, at most %s simultaneous connections per address toward "
			   "one destination", units_fmt_count(a, sizeof(a), g->max_per_destination));
	fprintf(f, "; a port stays held %.0f s after a FIN close (tcp_time_wait_timeout, not the "
		   "kernel's 60 s).\n", hold);
	if (g->ports_per_host && hosts > (uint64_t)natgw_hosts_per_ip(g) * g->ips)
		fprintf(f, "  %s hosts behind it, room for %s: the others get no port at all "
			   "(host_without_ports).\n", units_fmt_count(a, sizeof(a), hosts),
			units_fmt_count(b, sizeof(b), (uint64_t)natgw_hosts_per_ip(g) * g->ips));
	for (int i = 0; i < sc->nnodes; i++) {
		const struct sim_node *c = &sc->nodes[i];
		int t;
		uint32_t vip;
		if (c->kind != SIM_NODE_CLIENT || !crosses(sc, c, gi, &t, &vip) || t < 0)
			continue;
		const struct sim_node *tn = &sc->nodes[t];
		double dests = vip ? vip : (double)tn->ips * tn->ports;
		double rate = c->rate_to > c->rate ? c->rate_to : c->rate; /* per host */
		double life = (double)(c->rtt_ns / 2 +
				       (int64_t)c->requests * (c->rtt_ns + tn->service_ns) +
				       c->idle_ns) / 1e9;
		double h = c->linger0 ? 0 : hold, per_dest, cap, budget;
		if (g->ports_per_host) {
			/* one host's block toward one destination: each host takes the
			 * destinations in turn (net.c sim_connect), so it meets all of them */
			cap = g->ports_per_host < g->max_per_destination ? g->ports_per_host
									 : g->max_per_destination;
			per_dest = rate / dests;
			fprintf(f, "  %s: budget per host toward one destination = ports_per_host / "
				   "(connection life + hold) = %s / (%.3f s + %.0f s)",
				c->name, units_fmt_count(a, sizeof(a), (uint64_t)cap), life, h);
		} else {
			/* the fleet behind it toward one destination, over every address */
			cap = (double)g->max_per_destination * g->ips;
			per_dest = rate * (double)c->count / dests;
			fprintf(f, "  %s: budget toward one destination = max_per_destination x "
				   "addresses / (connection life + hold) = %s x %u / (%.3f s + %.0f s)",
				c->name, units_fmt_count(a, sizeof(a), g->max_per_destination), g->ips,
				life, h);
		}
		budget = life + h > 0 ? cap / (life + h) : 0;
		fprintf(f, " = %s new connections/s; %s opens %s/s toward each of %.0f "
			   "destination%s%s: ", fmt_per_s(b, sizeof(b), budget), c->name,
			fmt_per_s(c3, sizeof(c3), per_dest), dests, dests > 1 ? "s" : "",
			g->ports_per_host ? " per host" : "");
		if (per_dest * (life + h) > cap)
			fprintf(f, "over the budget: once %s ports are held (after about %.1f s) the "
				   "gateway drops new SYNs (%s); the client retransmits them and "
				   "fails with ETIMEDOUT when its SYN schedule is spent. Fixes: %s.\n",
				units_fmt_count(d, sizeof(d), (uint64_t)cap), cap / per_dest,
				g->ports_per_host ? "ports_per_host" : "max_per_destination",
				g->ports_per_host
					? "more ports per host (ports_per_host), a shorter hold "
					  "(tcp_time_wait_timeout), fewer new connections (pooling, "
					  "keep-alive: requests up, rate down)"
					: "more gateway addresses (ips), more destinations, fewer new "
					  "connections (pooling, keep-alive), a shorter hold");
		else
			fprintf(f, "within it (%s ports held at most).\n",
				units_fmt_count(d, sizeof(d), (uint64_t)(per_dest * (life + h)) + 1));
		if (natgw_idle_cuts(g, c->idle_ns))
			fprintf(f, "  %s: its connections sit idle %.0f s, longer than the gateway's "
				   "idle_timeout %.0f s: the gateway removes them, and their next use "
				   "fails (%s). Fix: idle below %.0f s (the pool's idle timeout, or TCP "
				   "keepalive).\n", c->name, (double)c->idle_ns / 1e9,
				(double)g->idle_ns / 1e9,
				g->idle_rst ? "RST: ECONNRESET" : "silently: ETIMEDOUT",
				(double)g->idle_ns / 1e9);
		else if (g->idle_ns > 0 && c->idle_ns > 0)
			fprintf(f, "  %s: idle %.0f s, within the gateway's idle_timeout %.0f s.\n",
				c->name, (double)c->idle_ns / 1e9, (double)g->idle_ns / 1e9);
	}
	if (p)
		fprintf(f, "  Figures: %s (sources in docs/cloud-nat.md).\n", p->source);
}

void sim_explain_gateways(FILE *f, const struct sim_scenario *sc)
{
	bool any = false;
	for (int i = 0; i < sc->nnodes; i++) {
		struct natgw_cfg g;
		bool is_gw;
		char err[256];
		if (sim_gateway_cfg(sc, &sc->nodes[i], &g, &is_gw, err, sizeof(err)) < 0 || !is_gw)
			continue;
		one_gateway(f, sc, i, &g);
		any = true;
	}
	if (any)
		fprintf(f, "\n");
}
