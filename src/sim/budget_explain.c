/*
 * budget_explain — `twkit sim --explain`'s budget lines: for every node that opens
 * connections (client groups, L7 balancers), the model's 4-tuple budget toward its next
 * TCP endpoint, the rate it sustains and when it runs out at the scenario's rate, all from
 * model/budget.h for the scenario as given (with --set), never from numbers in prose.
 */
#include "sim/sim.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/units.h"
#include "model/budget.h"
#include "model/portsearch.h"

static const struct sim_node *node_named(const struct sim_scenario *sc, const char *name)
{
	for (int i = 0; i < sc->nnodes; i++)
		if (!strcmp(sc->nodes[i].name, name))
			return &sc->nodes[i];
	return NULL;
}

/* The TCP endpoint a connection from n reaches (NAT and L4 hops are crossed), and whether a
 * hop on the way strips the timestamp option. */
static const struct sim_node *endpoint(const struct sim_scenario *sc, const struct sim_node *n,
				       bool *stripped)
{
	const struct sim_node *x = node_named(sc, n->via);

	*stripped = false;
	for (int hops = 0; x && hops < SIM_MAX_NODES; hops++) {
		if (x->kind == SIM_NODE_L7LB || x->kind == SIM_NODE_SERVER)
			return x;
		if (x->kind == SIM_NODE_L4LB && x->strip_timestamps)
			*stripped = true;
		x = node_named(sc, x->via);
	}
	return NULL;
}

static const struct tw_profile *prof_of(const struct sim_scenario *sc, const struct sim_node *n,
					const char *release)
{
	const struct tw_profile *p = tw_profile_by_name(n->kernel[0] ? n->kernel : sc->kernel,
							release);
	return p ? p : tw_profile_at(tw_profile_count() - 1);
}

/* New connections/s one host of node n opens. */
static double host_rate(const struct sim_scenario *sc, const struct sim_node *n)
{
	double r = 0;

	if (n->kind == SIM_NODE_CLIENT)
		return n->rate_to > n->rate ? n->rate_to : n->rate;
	/* an L7 balancer opens one backend connection per request it is sent */
	for (int i = 0; i < sc->nnodes; i++) {
		const struct sim_node *c = &sc->nodes[i];
		bool s;
		if (c->kind == SIM_NODE_CLIENT && endpoint(sc, c, &s) == n)
			r += (c->rate_to > c->rate ? c->rate_to : c->rate) * c->count * c->requests;
	}
	return r;
}

/* The budget input of node n toward its next TCP endpoint: NULL when n opens no connections
 * or reaches no endpoint; else that endpoint, with *p its era and *stripped set. */
static const struct sim_node *node_budget_in(const struct sim_scenario *sc,
					     const struct sim_node *n, const char *release,
					     struct tw_budget_in *in, const struct tw_profile **p,
					     bool *stripped)
{
	const struct sim_node *to;

	if (n->kind != SIM_NODE_CLIENT && n->kind != SIM_NODE_L7LB)
		return NULL;
	to = endpoint(sc, n, stripped);
	if (!to)
		return NULL;
	*p = prof_of(sc, n, release);
	memset(in, 0, sizeof(*in));
	in->port_lo = n->port_lo ? n->port_lo : (*p)->port_lo;
	in->port_hi = n->port_hi ? n->port_hi : (*p)->port_hi;
	in->sources = n->ips ? n->ips : 1;
	in->dest_ports = to->kind == SIM_NODE_SERVER && to->ports ? to->ports : 1;
	in->bind_no_port = !n->bind_port;
	in->client_closes = n->closes == SIM_CLOSES_CLIENT;
	in->client_linger0 = n->linger0;
	in->reuse.reuse = n->tw_reuse >= 0 ? n->tw_reuse : (*p)->reuse_default;
	in->reuse.timestamps = n->timestamps;
	in->reuse.peer_timestamps = *stripped ? 0 : to->timestamps != 0;
	in->reuse.outgoing = true;
	in->reuse_delay_ms = n->tw_reuse_delay_ms;
	return to;
}

int sim_node_budget(const struct sim_scenario *sc, int i, const char *release,
		    struct tw_budget_out *out, char *label, size_t len)
{
	const struct sim_node *n = &sc->nodes[i];
	const struct tw_profile *p;
	struct tw_budget_in in;
	char a[32], b[32];
	bool stripped;
	uint32_t hosts = n->kind == SIM_NODE_CLIENT && n->count > 1 ? n->count : 1;

	if (!node_budget_in(sc, n, release, &in, &p, &stripped) ||
	    tw_budget_compute(p, &in, out) < 0)
		return -ENOENT;
	if (out->why != TW_BUDGET_TW_BOUND && out->why != TW_BUDGET_REUSE_BOUND)
		return -ENOENT;
	if (hosts > 1)
		snprintf(label, len, "port budget %s = %s 4-tuples x %u hosts",
			 units_fmt_count(a, sizeof(a), out->tuples * hosts),
			 units_fmt_count(b, sizeof(b), out->tuples), hosts);
	else
		snprintf(label, len, "port budget %s (%s ports x %u source%s x %u port%s)",
			 units_fmt_count(a, sizeof(a), out->tuples),
			 units_fmt_count(b, sizeof(b), out->ports), in.sources,
			 in.sources > 1 ? "s" : "", in.dest_ports, in.dest_ports > 1 ? "s" : "");
	out->tuples *= hosts;
	return 0;
}

/*
 * connect()'s price for one host of n (model/portsearch.h): at a nearly empty range (one port
 * examined), with the first parity of the range held (the parity eras walk all of it before
 * the other, §3.3), and with every port held (the failing walk); what one core sustains at
 * each, and whether that CPU bound comes before the port bound at the scenario's rate.
 */
static void explain_cpu(FILE *f, const struct sim_node *n, const struct tw_profile *p,
			const struct tw_budget_in *in, const struct tw_budget_out *out, double rate)
{
	uint32_t span = (uint32_t)in->port_hi - in->port_lo + 1;
	bool app = n->port_select == SIM_PORTSEL_APP || n->bind_port;
	uint32_t half = (uint32_t)tw_connect_probes_expected(p, span, span / 2, 0);
	uint64_t c1 = tw_connect_cost_ns(1, n->connect_probe_ns, n->connect_base_ns);
	uint64_t ch = tw_connect_cost_ns(half, n->connect_probe_ns, n->connect_base_ns);
	uint64_t cf = tw_connect_cost_ns(span, n->connect_probe_ns, n->connect_base_ns);
	double r1 = tw_connect_cpu_rate(c1), rh = tw_connect_cpu_rate(ch);
	double rf = tw_connect_cpu_rate(cf), ports = out->rate;
	char a[32], b[32], c[32], d[32], e[32], g[32], h[32];

	if (app) {
		fprintf(f, "    connect(): the port is bound first (%s), no search: %s of kernel "
			   "CPU each (connect_base_ns), one core does %s.\n",
			n->port_select == SIM_PORTSEL_APP ? "port_select = app" : "bind_port",
			units_fmt_duration(a, sizeof(a), (int64_t)c1),
			units_fmt_rate(b, sizeof(b), r1));
		if (rate > 0 && rate >= r1)
			fprintf(f, "    At %s the CPU bound comes first: the host sustains about %s.\n",
				units_fmt_rate(a, sizeof(a), rate), units_fmt_rate(b, sizeof(b), r1));
		return;
	}
	fprintf(f, "    connect()'s price (%u ns a port examined + %u ns): %s with the range "
		   "nearly empty, %s with %s ports examined (%s), %s when every port is held; one "
		   "core does %s, %s, %s.\n",
		n->connect_probe_ns, n->connect_base_ns, units_fmt_duration(a, sizeof(a), (int64_t)c1),
		units_fmt_duration(b, sizeof(b), (int64_t)ch),
		units_fmt_count(c, sizeof(c), half),
		p->port_alg >= TW_PORT_ALG_HINT_PARITY ? "the first parity held" : "half held",
		units_fmt_duration(d, sizeof(d), (int64_t)cf), units_fmt_rate(e, sizeof(e), r1),
		units_fmt_rate(g, sizeof(g), rh), units_fmt_rate(h, sizeof(h), rf));
	if (rate <= 0)
		return;
	/* ports held at once at this rate: each close holds one for hold_ms (0: none held) */
	double occ = out->hold_ms > 0 ? rate * out->hold_ms / 1000.0 : 0;
	if (rate >= r1)
		fprintf(f, "    At %s the CPU bound comes first even with an empty range (rate x "
			   "cost per connect >= one core): the host sustains about %s.\n",
			units_fmt_rate(a, sizeof(a), rate), units_fmt_rate(b, sizeof(b), r1));
	else if (ports > 0 && rate > ports && rate >= rf)
		fprintf(f, "    Past the port bound (%s) a connect() that fails has walked the whole "
			   "range (%s): at %s that is more than one core, so connects queue behind "
			   "the CPU and only about %s are made.\n",
			units_fmt_rate(a, sizeof(a), ports), units_fmt_duration(b, sizeof(b), (int64_t)cf),
			units_fmt_rate(c, sizeof(c), rate), units_fmt_rate(d, sizeof(d), rf));
	else if (p->port_alg >= TW_PORT_ALG_HINT_PARITY && occ >= span / 2.0 && rate >= rh)
		fprintf(f, "    At %s about %s ports are held at once (%.1f s each), more than the "
			   "first parity: a connect() may walk %s ports first (%s; one core does %s "
			   "at that price), so the CPU bound can come before the port bound (%s): the "
			   "host sustains the lower of the two, which the run below measures.\n",
			units_fmt_rate(a, sizeof(a), rate),
			units_fmt_count(b, sizeof(b), (uint64_t)(occ < span ? occ : span)),
			out->hold_ms / 1000.0, units_fmt_count(c, sizeof(c), half),
			units_fmt_duration(d, sizeof(d), (int64_t)ch), units_fmt_rate(e, sizeof(e), rh),
			units_fmt_rate(g, sizeof(g), ports));
}

void sim_explain_budgets(FILE *f, const struct sim_scenario *sc, const char *release)
{
	bool header = false;

	for (int i = 0; i < sc->nnodes; i++) {
		const struct sim_node *n = &sc->nodes[i], *to;
		const struct tw_profile *p;
		struct tw_budget_in in;
		struct tw_budget_out out;
		char b1[32], b2[32], b3[32];
		bool stripped;
		double rate;

		to = node_budget_in(sc, n, release, &in, &p, &stripped);
		if (!to)
			continue;
		if (tw_budget_compute(p, &in, &out) < 0)
			continue;
		if (!header) {
			fprintf(f, "The model's budgets (model/budget.h), for this scenario as given:\n");
			header = true;
		}
		rate = host_rate(sc, n);
		fprintf(f, "  %s -> %s: %s ports x %u source%s x %u destination port%s = %s "
			   "4-tuples per host",
			n->name, to->name, units_fmt_count(b1, sizeof(b1), out.ports), in.sources,
			in.sources > 1 ? "s" : "", in.dest_ports, in.dest_ports > 1 ? "s" : "",
			units_fmt_count(b2, sizeof(b2), out.tuples));
		switch (out.why) {
		case TW_BUDGET_TW_BOUND:
		case TW_BUDGET_REUSE_BOUND: {
			uint16_t none[1] = { 0 };
			double eta = tw_budget_eta_s((uint32_t)(out.tuples > UINT32_MAX ? UINT32_MAX
											   : out.tuples),
						     0, none, 1, rate, out.hold_ms);
			fprintf(f, ", each held %.1f s by %s after its close (%s): %s new "
				   "connections sustained",
				out.hold_ms / 1000.0, n->name,
				out.why == TW_BUDGET_REUSE_BOUND ? tw_reuse_why_str(out.reuse_why)
								 : "the TIME-WAIT's length",
				units_fmt_rate(b3, sizeof(b3), out.rate));
			if (rate > 0 && eta >= 0)
				fprintf(f, "; at %s the last one goes after %.1f s",
					units_fmt_rate(b1, sizeof(b1), rate), eta);
			else if (rate > 0)
				fprintf(f, "; %s fits", units_fmt_rate(b1, sizeof(b1), rate));
			if (out.why == TW_BUDGET_TW_BOUND && in.reuse.reuse)
				fprintf(f, " (tcp_tw_reuse=%d does not help: %s)", in.reuse.reuse,
					tw_reuse_why_str(out.reuse_why));
			break;
		}
		case TW_BUDGET_NO_CLIENT_TW:
		case TW_BUDGET_SERVER_TW:
			fprintf(f, ", none held by %s (%s): %s", n->name,
				in.client_linger0 ? "it closes with RST, §7"
						  : "the other end closes first",
				in.client_linger0 ? "no ceiling"
						  : tw_server_tw_syn_str(tw_server_tw_syn(
							    prof_of(sc, to, release), to->timestamps,
							    stripped ? 0 : n->timestamps != 0,
							    n->syn_retries, to->rfc1337, NULL)));
			break;
		}
		fprintf(f, ".\n");
		explain_cpu(f, n, p, &in, &out, rate);
	}
	if (header)
		fprintf(f, "\n");
}
