/*
 * findings — the rules (see findings.h). Thresholds are named constants with their reason;
 * the kernel facts behind each piece of advice come from model/ (profile, reuse, ports).
 */
#include "doctor/findings.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/units.h"
#include "doctor/myths.h"
#include "model/budget.h"
#include "model/portsearch.h"
#include "model/reuse.h"

/* A budget past this share is critical: the next burst finds no port (EADDRNOTAVAIL). */
#define UTIL_CRIT 0.90
/* Past half the budget, a doubling of the rate exhausts it. */
#define UTIL_WARN 0.50
/* Exhaustion forecast within a minute is critical, within ten minutes a warning. */
#define ETA_CRIT_S 60.0
#define ETA_WARN_S 600.0
/* Fewer ports than this per destination is "narrow": ~166 new connections/s over 60 s. */
#define NARROW_PORTS 10000u
/* Incoming TIME-WAIT worth mentioning (to say it is harmless). */
#define SERVER_TW_MIN 50u
/* Server TIME-WAITs from one remote address worth explaining (lb-quadruplet-budget, info):
 * a quarter of a default client range, where people counting TIME-WAIT per remote start to
 * ask whether that remote will run out (it will not on this side: §5.1). */
#define ONE_REMOTE_SHARE 0.25
/* TIME-WAIT in an outgoing group before reuse effectiveness matters. */
#define REUSE_TW_MIN 50u
/* connect-slow: a connect() that examines more ports than this before it finds one
 * (model/portsearch.h) is one the operator feels as system CPU */
#define CONNECT_SLOW_PROBES 1000.0

/* The counters a previous sample keeps: the ones whose rise a rule reads. */
static const char *const prev_counters[] = {
	"TcpExt.TCPTimeWaitOverflow", "TcpExt.PAWSPassive", "TcpExt.TCPACKSkippedTimeWait",
	"TcpExt.PAWSTimewait", "TcpExt.TCPSynRetrans", "Tcp.OutRsts", "TcpExt.ListenDrops",
};

void doc_prev_take(struct doc_prev *p, const struct snapshot *s)
{
	p->have = true;
	p->n = 0;
	p->tw_overflow = p->paws_passive = 0;
	kcounters_get(&s->counters, "TcpExt.TCPTimeWaitOverflow", &p->tw_overflow);
	kcounters_get(&s->counters, "TcpExt.PAWSPassive", &p->paws_passive);
	for (size_t i = 0; i < sizeof(prev_counters) / sizeof(prev_counters[0]) &&
			   p->n < DOC_PREV_MAX;
	     i++) {
		uint64_t v;
		if (kcounters_get(&s->counters, prev_counters[i], &v) < 0)
			continue;
		p->name[p->n] = prev_counters[i];
		p->value[p->n++] = v;
	}
}

int doc_prev_get(const struct doc_prev *p, const char *name, uint64_t *v)
{
	for (int i = 0; p && i < p->n; i++)
		if (!strcmp(p->name[i], name)) {
			*v = p->value[i];
			return 0;
		}
	return -ENOENT;
}

const char *doc_sev_name(enum DOC_SEV sev)
{
	return sev == DOC_CRITICAL ? "critical" : sev == DOC_WARNING ? "warning" : "info";
}

int doc_sev_parse(const char *s)
{
	if (!s)
		return -1;
	if (!strcmp(s, "info"))
		return DOC_INFO;
	if (!strcmp(s, "warning"))
		return DOC_WARNING;
	if (!strcmp(s, "critical"))
		return DOC_CRITICAL;
	return -1;
}

int doc_findings_max_sev(const struct doc_findings *fs)
{
	int m = -1;
	for (int i = 0; i < fs->n; i++)
		if ((int)fs->f[i].sev > m)
			m = (int)fs->f[i].sev;
	return m;
}

static enum DOC_SEV group_pressure(const struct doc_group *g, bool *any)
{
	*any = true;
	if (g->utilization >= UTIL_CRIT || (g->eta_s >= 0 && g->eta_s <= ETA_CRIT_S))
		return DOC_CRITICAL;
	if (g->utilization >= UTIL_WARN || (g->eta_s >= 0 && g->eta_s <= ETA_WARN_S))
		return DOC_WARNING;
	*any = false;
	return DOC_INFO;
}

static enum TW_REUSE_WHY reuse_why(const struct doc_analysis *a, const struct doc_group *g)
{
	struct tw_reuse_scope sc = {
		.reuse = a->tw_reuse,
		.timestamps = a->timestamps,
		.peer_timestamps = g->peer_timestamps,
		.loopback = g->loopback,
		.outgoing = g->dir == DOC_OUT,
	};
	return tw_reuse_explain(a->prof, &sc);
}

static void recycle_line(struct doc_finding *f, const struct doc_analysis *a)
{
	if (a->prof->has_tw_recycle)
		doc_finding_adv(f, "Do not enable tcp_tw_recycle: it drops SYNs from clients behind NAT whose "
		       "timestamp clocks differ, silently (PAWSPassive); it was removed in Linux 4.12.");
	else
		doc_finding_adv(f, "tcp_tw_recycle, often suggested for this, does not exist on this kernel "
		       "(removed in 4.12: it broke clients behind NAT).");
}

static void rule_port_exhaustion(const struct doc_analysis *a, struct doc_findings *fs)
{
	const struct doc_group *worst = NULL;
	enum DOC_SEV sev = DOC_INFO;
	int affected = 0;
	char b1[32], b2[32], b3[32], ep1[80], ep2[80];

	for (size_t i = 0; i < a->ngroups; i++) {
		const struct doc_group *g = &a->groups[i];
		bool any;
		enum DOC_SEV s;
		if (g->dir != DOC_OUT)
			continue;
		s = group_pressure(g, &any);
		if (!any)
			continue;
		affected++;
		if (!worst || s > sev) {
			worst = g;
			sev = s;
		}
	}
	if (!worst)
		return;
	/* reuse is on here and would apply if the peer does timestamps, which nothing shows
	 * yet: the forecast assumes it does not, so it is a warning, not a certainty */
	struct tw_reuse_scope peer_on = { .reuse = a->tw_reuse, .timestamps = a->timestamps,
					  .peer_timestamps = 1, .loopback = worst->loopback,
					  .outgoing = true };
	bool hinges = worst->peer_timestamps < 0 &&
		      tw_reuse_explain(a->prof, &peer_on) == TW_REUSE_HELPS;
	if (hinges && sev > DOC_WARNING)
		sev = DOC_WARNING;
	doc_endpoint(worst->laddr, 0, ep1, sizeof(ep1));
	doc_endpoint(worst->raddr, worst->port, ep2, sizeof(ep2));
	struct doc_finding *f;
	if (worst->utilization >= UTIL_CRIT)
		f = doc_finding_add(fs, "port-exhaustion", sev,
			"outgoing connections from %s to %s have used %.0f%% of their %s ports: "
			"connect() fails with EADDRNOTAVAIL now or at the next burst",
			ep1, ep2, worst->utilization * 100,
			units_fmt_count(b1, sizeof(b1), worst->ports_usable));
	else
		f = doc_finding_add(fs, "port-exhaustion", sev,
			"outgoing connections from %s to %s will run out of local ports in about "
			"%.0f s at the measured rate",
			ep1, ep2, worst->eta_s >= 0 ? worst->eta_s : 0);
	doc_finding_ev(f, "ports in use toward %s: %s of %s usable (%.0f%%)", ep2,
	   units_fmt_count(b1, sizeof(b1), worst->in_budget),
	   units_fmt_count(b2, sizeof(b2), worst->ports_usable), worst->utilization * 100);
	doc_finding_ev(f, "TIME-WAIT in this group: %s; created %.1f/s over the last 10 s, %.1f/s over 60 s",
	   units_fmt_count(b1, sizeof(b1), worst->time_wait), worst->tw_rate_10s,
	   worst->tw_rate_60s);
	doc_finding_ev(f, "sustainable while each 4-tuple is held %u s (%s): %s ports = %.0f new "
			  "connections/s",
		       worst->budget.hold_ms / 1000u,
		       worst->budget.why == TW_BUDGET_REUSE_BOUND ? "tcp_tw_reuse takes them over"
								 : "the TIME-WAIT's full length",
		       units_fmt_count(b3, sizeof(b3), worst->ports_usable),
		       tw_budget_rate(worst->ports_usable, worst->budget.hold_ms));
	if (worst->eta_s >= 0)
		doc_finding_ev(f, "forecast: no port left in %.0f s", worst->eta_s);
	if (hinges)
		doc_finding_ev(f, "unless tcp_tw_reuse=%d takes the TIME-WAITs over: it does if %s "
				  "does TCP timestamps, which no established connection shows now "
				  "(a warning until it is known)",
			       a->tw_reuse, ep2);
	if (worst->peer_ts_inferred)
		doc_finding_ev(f, "%s's timestamps inferred from TcpExt.TWRecycled: %s", ep2,
			       worst->peer_timestamps == 1
				       ? "reuse took TIME-WAITs over, so it does them"
				       : "the group is full of TIME-WAITs reuse could take and never "
					 "took one, so it does not");
	if (affected > 1)
		doc_finding_ev(f, "%d destination groups are under pressure (see the groups table)", affected);
	if (f)
		f->eta_s = worst->eta_s;

	enum TW_REUSE_WHY why = reuse_why(a, worst);
	uint32_t min_age = a->reuse_min_age_ms;
	struct tw_reuse_scope sc = { .reuse = a->tw_reuse, .timestamps = a->timestamps,
				     .peer_timestamps = worst->peer_timestamps,
				     .loopback = worst->loopback, .outgoing = true };
	bool reuse_would_help = tw_reuse_would_help(a->prof, &sc);
	char reuse_line[400];
	if (why == TW_REUSE_HELPS)
		snprintf(reuse_line, sizeof(reuse_line),
			 "tcp_tw_reuse=%d is already in effect with timestamps on both ends: ports "
			 "come back after %u ms in TIME-WAIT, so the ceiling is about %.0f new "
			 "connections/s per destination; beyond that you need more 4-tuples.",
			 a->tw_reuse, min_age, tw_budget_rate(worst->ports_usable, min_age));
	else if (reuse_would_help)
		snprintf(reuse_line, sizeof(reuse_line),
			 "sysctl -w net.ipv4.tcp_tw_reuse=1: connect() takes over a TIME-WAIT "
			 "4-tuple once it is %u ms old (this kernel's rule); safe because timestamps "
			 "(PAWS) are on at both ends here. Price: none for outgoing connections; it "
			 "never helps incoming ones.",
			 min_age);
	else {
		sc.reuse = 1; /* why would reuse=1 not help: the timestamps' reason */
		snprintf(reuse_line, sizeof(reuse_line), "tcp_tw_reuse will not help this traffic: %s.",
			 tw_reuse_why_str(why == TW_REUSE_OFF ? tw_reuse_explain(a->prof, &sc) : why));
	}
	if (reuse_would_help || why == TW_REUSE_HELPS)
		doc_finding_adv(f, "%s", reuse_line);
	doc_finding_adv(f, "Reuse connections: HTTP keep-alive or a connection pool toward %s removes the "
	       "churn itself. Price: a client change; idle connections stay open.", ep2);
	if (a->prof->has_bind_no_port)
		doc_finding_adv(f, "More source addresses: add IPs and bind() each socket to one with "
		       "IP_BIND_ADDRESS_NO_PORT set before connect(); each address adds %s ports "
		       "toward this destination. Without that option, bind() picks a port unique "
		       "across all destinations and the budget shrinks instead.",
		    units_fmt_count(b1, sizeof(b1), worst->ports_usable));
	else
		doc_finding_adv(f, "More source addresses: add IPs and bind() each socket to one; this kernel "
		       "has no IP_BIND_ADDRESS_NO_PORT, so bind() before connect() makes each port "
		       "unique across destinations: give each address its own destinations.");
	doc_finding_adv(f, "More 4-tuples at the destination: have the server listen on several ports or "
	       "addresses and spread connections over them; each adds %s ports.",
	    units_fmt_count(b1, sizeof(b1), worst->ports_usable));
	if (a->port_hi - a->port_lo + 1 < 50000)
		doc_finding_adv(f, "Widen net.ipv4.ip_local_port_range (now %d-%d), e.g. to \"15000 65000\". "
		       "Price: services that bind a port in that range later may find it taken; "
		       "list them in net.ipv4.ip_local_reserved_ports.",
		    a->port_lo, a->port_hi);
	doc_finding_adv(f, "Let the server close first (it sends FIN first, e.g. HTTP \"Connection: close\" "
	       "answered by the server closing): TIME-WAIT moves to the server, where it holds "
	       "no client port. Price: a protocol or client change.");
	if (!(reuse_would_help || why == TW_REUSE_HELPS))
		doc_finding_adv(f, "%s", reuse_line);
	doc_finding_adv(f, "Last resort: SO_LINGER {on, 0} on close() sends RST instead of FIN and skips "
	       "TIME-WAIT. Price: unsent data is thrown away, the peer sees ECONNRESET, and "
	       "old segments can reach a new connection on the same 4-tuple.");
	recycle_line(f, a);
}

/* TIME-WAITs of group g that connect() may take over now: reuse applies to it and they are
 * older than the kernel's minimum age (their whole seconds left say how old they are) */
static uint32_t group_reusable(const struct doc_analysis *a, const struct doc_group *g)
{
	uint32_t n = 0, young_s = (a->reuse_min_age_ms + 999) / 1000;
	if (reuse_why(a, g) != TW_REUSE_HELPS)
		return 0;
	for (uint32_t k = 0; k < DOC_AGE_SLOTS && k + young_s < DOC_AGE_SLOTS - 1; k++)
		n += g->expiry[k];
	return n < g->time_wait ? n : g->time_wait;
}

/*
 * connect-slow: the destination group whose connect()s examine the most ports before they
 * find one (model/portsearch.h, from the group's counts: the parity eras fill one half of the
 * range first and walk all of it before the other), when that is over about a thousand: each
 * connect() then costs its search in system CPU, before any EADDRNOTAVAIL.
 */
static void rule_connect_slow(const struct doc_analysis *a, struct doc_findings *fs)
{
	const struct doc_group *worst = NULL;
	double worst_probes = 0;
	uint32_t worst_reusable = 0, worst_blocked = 0;
	char b1[32], b2[32], b3[32], ep1[80], ep2[80];

	for (size_t i = 0; i < a->ngroups; i++) {
		const struct doc_group *g = &a->groups[i];
		if (g->dir != DOC_OUT || !g->ports_usable)
			continue;
		uint32_t reusable = group_reusable(a, g);
		uint32_t held = g->in_budget < g->ports_usable ? g->in_budget : g->ports_usable;
		uint32_t blocked = held > reusable ? held - reusable : 0;
		double probes = tw_connect_probes_expected(a->prof, g->ports_usable, blocked,
							   reusable);
		if (probes > worst_probes) {
			worst = g;
			worst_probes = probes;
			worst_reusable = reusable;
			worst_blocked = blocked;
		}
	}
	if (!worst || worst_probes <= CONNECT_SLOW_PROBES)
		return;
	uint64_t cost = tw_connect_cost_ns((uint64_t)worst_probes, a->connect_probe_ns,
					   a->connect_base_ns);
	double rate = worst->tw_rate_10s > 0 ? worst->tw_rate_10s : worst->tw_rate_60s;
	doc_endpoint(worst->laddr, 0, ep1, sizeof(ep1));
	doc_endpoint(worst->raddr, worst->port, ep2, sizeof(ep2));
	struct doc_finding *f = doc_finding_add(
		fs, "connect-slow", DOC_WARNING,
		"connect() from %s to %s examines about %s ports before it finds one: about %s of "
		"kernel CPU per connect, before any EADDRNOTAVAIL",
		ep1, ep2, units_fmt_count(b1, sizeof(b1), (uint64_t)worst_probes),
		units_fmt_duration(b2, sizeof(b2), (int64_t)cost));
	doc_finding_ev(f, "ports held toward %s: %s of %s (%s of them TIME-WAIT connect() may take "
			  "over now)",
		       ep2, units_fmt_count(b1, sizeof(b1), worst_blocked + worst_reusable),
		       units_fmt_count(b2, sizeof(b2), worst->ports_usable),
		       units_fmt_count(b3, sizeof(b3), worst_reusable));
	if (a->prof->port_alg >= TW_PORT_ALG_HINT_PARITY)
		doc_finding_ev(f, "this kernel's search (%s) walks one parity of the range before the "
				  "other: once that half is held, every connect() examines it all "
				  "before it looks at the other",
			       a->prof->name);
	if (a->connect_price_given)
		doc_finding_ev(f, "price: %u ns a port examined + %u ns a connection (given: "
				  "--connect-probe-ns, --connect-base-ns)",
			       a->connect_probe_ns, a->connect_base_ns);
	else
		doc_finding_ev(f, "price: %u ns a port examined + %u ns a connection (model/"
				  "portsearch.h defaults; `twkit bench --calibrate` measures this "
				  "machine's, for --connect-probe-ns and --connect-base-ns)",
			       a->connect_probe_ns, a->connect_base_ns);
	if (rate > 0)
		doc_finding_ev(f, "at the measured %.0f new connections/s that is %.0f%% of one core; "
				  "one core does about %.0f/s at this price",
			       rate, rate * (double)cost / 1e7, tw_connect_cpu_rate(cost));
	doc_finding_adv(f, "More destinations or sources: each destination port or address, and "
			   "each source address bound with IP_BIND_ADDRESS_NO_PORT, is a range of "
			   "its own with nothing held: connect() finds a port at the first try.");
	doc_finding_adv(f, "Reuse connections: HTTP keep-alive or a pool toward %s: no connect(), "
			   "no search. Price: a client change; idle connections stay open.", ep2);
	doc_finding_adv(f, "Pick the ports in the application: a cursor over the range per "
			   "destination, bind() of that exact port with SO_REUSEADDR, then connect() "
			   "(what a balancer's `source ADDR:PORT-PORT` does): the kernel's search is "
			   "skipped and a timestamped TIME-WAIT on that 4-tuple is taken over at once "
			   "(§2.3). Price: TIME-WAIT's protection rests on timestamps alone, and every "
			   "socket on those ports needs SO_REUSEADDR.");
	doc_finding_adv(f, "Let the server close first: TIME-WAIT moves to the server and holds no "
			   "port of this range. Price: a protocol or client change.");
}

static void rule_reuse_ineffective(const struct doc_analysis *a, struct doc_findings *fs)
{
	const struct doc_group *g = NULL;
	enum TW_REUSE_WHY why = TW_REUSE_HELPS;
	uint32_t tw = 0;
	bool pressure = false;
	int groups = 0;
	char ep[80], b1[32];

	if (a->tw_reuse == 0)
		return;
	for (size_t i = 0; i < a->ngroups; i++) {
		const struct doc_group *x = &a->groups[i];
		enum TW_REUSE_WHY w;
		bool any;
		if (x->dir != DOC_OUT || x->time_wait < REUSE_TW_MIN)
			continue;
		w = reuse_why(a, x);
		if (w != TW_REUSE_TS_OFF_LOCAL && w != TW_REUSE_TS_OFF_PEER &&
		    w != TW_REUSE_LOOPBACK_ONLY)
			continue;
		groups++;
		tw += x->time_wait;
		group_pressure(x, &any);
		if (!g || (any && !pressure) || x->time_wait > g->time_wait) {
			g = x;
			why = w;
			pressure = pressure || any;
		}
	}
	if (!g)
		return;
	/* Someone set reuse=1 and it does nothing, or it would matter now: a warning. The
	 * default reuse=2 on non-loopback traffic without port pressure is worth knowing only. */
	enum DOC_SEV sev = (a->tw_reuse == 1 || pressure) ? DOC_WARNING : DOC_INFO;
	doc_endpoint(g->raddr, g->port, ep, sizeof(ep));
	struct doc_finding *f = doc_finding_add(fs, "tw-reuse-ineffective", sev,
				    "tcp_tw_reuse=%d does not apply to the TIME-WAIT toward %s: %s",
				    a->tw_reuse, ep, tw_reuse_why_str(why));
	doc_finding_ev(f, "net.ipv4.tcp_tw_reuse = %d, net.ipv4.tcp_timestamps = %d", a->tw_reuse,
	   a->timestamps);
	doc_finding_ev(f, "established connections to %s with timestamps: %u, without: %u", ep, g->ts_on,
	   g->ts_off);
	doc_finding_ev(f, "TIME-WAIT not reusable: %s in %d group(s)", units_fmt_count(b1, sizeof(b1), tw),
	   groups);
	switch (why) {
	case TW_REUSE_TS_OFF_PEER:
		doc_finding_adv(f, "Turn TCP timestamps on at the peer (net.ipv4.tcp_timestamps=1 on a Linux "
		       "server or balancer), or stop the middlebox that strips them; tcp_tw_reuse "
		       "needs the timestamp of the old connection to protect the new one.");
		break;
	case TW_REUSE_TS_OFF_LOCAL:
		doc_finding_adv(f, "sysctl -w net.ipv4.tcp_timestamps=1 here: without timestamps no TIME-WAIT "
		       "can be reused. Price: 12 bytes of options per segment.");
		break;
	default:
		doc_finding_adv(f, "sysctl -w net.ipv4.tcp_tw_reuse=1 extends reuse to non-loopback traffic "
		       "(safe for outgoing connections when both ends do timestamps, as PAWS "
		       "rejects old segments). Price: none for outgoing connections.");
		break;
	}
	doc_finding_adv(f, "Otherwise reduce churn (keep-alive, pools) or add 4-tuples (source IPs with "
	       "IP_BIND_ADDRESS_NO_PORT, destination ports).");
	recycle_line(f, a);
}

static void rule_recycle(const struct snapshot *s, const struct doc_analysis *a,
			 const struct doc_prev *prev, struct doc_findings *fs)
{
	uint64_t paws = 0;
	bool have_paws = kcounters_get(&s->counters, "TcpExt.PAWSPassive", &paws) == 0;
	if (s->set.tcp_tw_recycle < 1)
		return;
	bool rising = prev && prev->have && paws > prev->paws_passive;
	struct doc_finding *f = doc_finding_add(
		fs, "tw-recycle-enabled", (paws > 0 || rising) ? DOC_CRITICAL : DOC_WARNING,
		"tcp_tw_recycle=%d: SYNs from clients behind one NAT address are dropped without "
		"a trace when their timestamp clocks differ",
		s->set.tcp_tw_recycle);
	doc_finding_ev(f, "net.ipv4.tcp_tw_recycle = %d on kernel %s", s->set.tcp_tw_recycle,
	   s->release[0] ? s->release : "?");
	if (have_paws)
		doc_finding_ev(f, "TcpExt.PAWSPassive = %llu (SYNs dropped by the per-host timestamp check)%s",
		   (unsigned long long)paws, rising ? ", rising" : "");
	if (a->prof->ts_offset == TW_TS_OFF_PER_CONN)
		doc_finding_ev(f, "kernel 4.10 randomizes timestamps per connection: even a single Linux 4.10 "
		   "client is dropped");
	doc_finding_adv(f, "sysctl -w net.ipv4.tcp_tw_recycle=0 now, and remove it from sysctl.conf. "
	       "Price: none; it was removed from Linux in 4.12 because it broke NAT.");
	doc_finding_adv(f, "If TIME-WAIT was the reason, use tcp_tw_reuse=1 on the clients (outgoing "
	       "connections, timestamps on both ends) or keep-alive instead.");
}

static void rule_buckets(const struct snapshot *s, const struct doc_analysis *a,
			 const struct doc_prev *prev, struct doc_findings *fs)
{
	uint64_t ovf = 0;
	int64_t max = s->set.tcp_max_tw_buckets;
	bool have = kcounters_get(&s->counters, "TcpExt.TCPTimeWaitOverflow", &ovf) == 0;
	bool rising = prev && prev->have && ovf > prev->tw_overflow;
	uint32_t tw = a->time_wait + a->tw_fin_wait2;
	bool near = max > 0 && (double)tw >= 0.9 * (double)max;
	char b1[32], b2[32];
	if (!(have && ovf > 0) && !near)
		return;
	/* Overflow costs TIME-WAIT's protection (§1.4), not a connection: a warning. The lab
	 * (bucket-overflow) shows no connect() failing while it rises. */
	enum DOC_SEV sev = DOC_WARNING;
	struct doc_finding *f;
	if (rising)
		f = doc_finding_add(fs, "tw-bucket-overflow", sev,
			"TIME-WAIT table full: closing sockets skip TIME-WAIT "
			"(TCPTimeWaitOverflow rising)");
	else if (near)
		f = doc_finding_add(fs, "tw-bucket-overflow", sev,
			"TIME-WAIT count %s is at %.0f%% of tcp_max_tw_buckets (%s): closing sockets "
			"will skip TIME-WAIT",
			units_fmt_count(b1, sizeof(b1), tw), 100.0 * tw / (double)max,
			units_fmt_count(b2, sizeof(b2), (uint64_t)max));
	else
		f = doc_finding_add(fs, "tw-bucket-overflow", sev,
			"the TIME-WAIT table has overflowed %llu times since boot: sockets closed "
			"without TIME-WAIT",
			(unsigned long long)ovf);
	doc_finding_ev(f, "TIME-WAIT sockets: %s; net.ipv4.tcp_max_tw_buckets = %lld",
	   units_fmt_count(b1, sizeof(b1), tw), (long long)max);
	if (have)
		doc_finding_ev(f, "TcpExt.TCPTimeWaitOverflow = %llu%s", (unsigned long long)ovf,
		   rising ? " (rising since the previous sample)" : "");
	doc_finding_adv(f, "Raise net.ipv4.tcp_max_tw_buckets: each TIME-WAIT costs about %u bytes, so "
	       "1,000,000 of them is ~%.0f MiB. Price: memory only.",
	    a->tw_objsize, a->tw_objsize * 1e6 / 1048576.0);
	doc_finding_adv(f, "A low limit is a blunt SO_LINGER 0 for everyone: the protection of TIME-WAIT "
	       "(old segments, lost last ACK) is gone for sockets past the limit.");
}

static void rule_narrow(const struct doc_analysis *a, struct doc_findings *fs)
{
	uint32_t range = (uint32_t)(a->port_hi - a->port_lo + 1);
	uint32_t holes = a->reserved_in_range + a->listeners_in_range;
	char b1[32], b2[32];
	bool narrow = a->ports_usable_out < NARROW_PORTS;
	bool holey = holes > 0 && holes * 100 >= range; /* >= 1% of the range */
	if (!narrow && !holey)
		return;
	struct doc_finding *f = doc_finding_add(
		fs, "narrow-port-range", narrow ? DOC_WARNING : DOC_INFO,
		"connect() has %s usable local ports per destination (ip_local_port_range %d-%d)",
		units_fmt_count(b1, sizeof(b1), a->ports_usable_out), a->port_lo, a->port_hi);
	doc_finding_ev(f, "range %d-%d = %s ports; reserved in range: %u; held by listeners/bind(): %u",
	   a->port_lo, a->port_hi, units_fmt_count(b2, sizeof(b2), range), a->reserved_in_range,
	   a->listeners_in_range);
	doc_finding_ev(f, "ceiling with the client closing first: %.0f new connections/s per destination",
	   a->rate_out_no_reuse);
	if (narrow)
		doc_finding_adv(f, "Widen net.ipv4.ip_local_port_range (the default is 32768-60999, up to "
		       "1024-65535 is possible). Price: services that bind() later inside the range "
		       "can collide; reserve their ports with net.ipv4.ip_local_reserved_ports.");
	if (holey)
		doc_finding_adv(f, "Move listeners out of the ephemeral range, or accept the smaller budget: "
		       "connect() never picks a port held by bind() or a listener.");
}

static void rule_fd(const struct snapshot *s, const struct doc_analysis *a,
		    struct doc_findings *fs)
{
	const struct snap_settings *st = &s->set;
	bool sys = st->file_max > 0 && st->file_nr >= 0 &&
		   (double)st->file_nr >= 0.9 * (double)st->file_max;
	bool proc = st->nofile_cur > 0 && a->top_uid_socks >= 0.8 * (double)st->nofile_cur;
	char b1[32], b2[32];
	if (!sys && !proc)
		return;
	struct doc_finding *f;
	if (sys)
		f = doc_finding_add(fs, "fd-limit", DOC_CRITICAL,
			"the system is near fs.file-max: %s of %s file handles allocated",
			units_fmt_count(b1, sizeof(b1), (uint64_t)st->file_nr),
			units_fmt_count(b2, sizeof(b2), (uint64_t)st->file_max));
	else
		f = doc_finding_add(fs, "fd-limit", DOC_WARNING,
			"uid %u holds %u open TCP sockets, near the RLIMIT_NOFILE of %lld: its "
			"processes may fail with EMFILE",
			a->top_uid, a->top_uid_socks, (long long)st->nofile_cur);
	doc_finding_ev(f, "fs.file-nr allocated %lld, fs.file-max %lld", (long long)st->file_nr,
	   (long long)st->file_max);
	doc_finding_ev(f, "RLIMIT_NOFILE seen by twkit: soft %lld, hard %lld (a daemon's own limit is in "
	      "/proc/PID/limits)",
	   (long long)st->nofile_cur, (long long)st->nofile_max);
	doc_finding_adv(f, "Raise the limit where the process starts (systemd LimitNOFILE=, ulimit -n) or "
	       "fs.file-max. Price: kernel memory per open file, only when used.");
	doc_finding_adv(f, "TIME-WAIT sockets hold no file descriptor: closing more of them sooner does not "
	       "help here.");
}

/* Counter deltas that show a SYN paying for the server's TIME-WAIT (§5.1: the ACK from
 * TIME-WAIT, the client's SYN retransmission; PAWS rejects with timestamps). Tcp.OutRsts is
 * not one: the reset of this exchange is sent by the client's host, and on any host it also
 * counts resets to closed ports and aborted connections (a load generator stopping shows a
 * few: a false warning on a healthy server). */
static const char *const srv_cost_counters[] = {
	"TcpExt.TCPACKSkippedTimeWait",
	"TcpExt.PAWSTimewait",
	"TcpExt.TCPSynRetrans",
};
/* The first SRV_COST_TW_ONLY of them count only TIME-WAIT's work; the other (SYN
 * retransmissions) also rises when a full accept queue drops SYNs: they count only
 * while TcpExt.ListenDrops did not rise. */
#define SRV_COST_TW_ONLY 2

static void rule_server(const struct snapshot *s, const struct doc_analysis *a,
			const struct doc_prev *prev, struct doc_findings *fs)
{
	char b1[32], b2[32], b3[32], ep[80];
	const struct doc_group *worst = NULL;

	/* The remote address whose 4-tuples toward one server port are most used, measured
	 * against the era's default client range: the old "quadruplet ceiling". */
	for (size_t i = 0; i < a->ngroups; i++) {
		const struct doc_group *g = &a->groups[i];
		bool any;
		if (g->dir != DOC_IN || g->time_wait < SERVER_TW_MIN)
			continue;
		group_pressure(g, &any);
		if ((any || g->utilization >= ONE_REMOTE_SHARE) &&
		    (!worst || g->utilization > worst->utilization))
			worst = g;
	}
	if (worst) {
		char srv[80], costs[192] = "";
		uint64_t rise_total = 0;
		size_t cl = 0;
		doc_endpoint(worst->raddr, 0, ep, sizeof(ep));
		doc_endpoint(worst->laddr, worst->port, srv, sizeof(srv));
		/* Evidence of cost: counters that rose between two samples. */
		uint64_t drops_now = 0, drops_then = 0;
		bool listen_drops = prev && prev->have &&
				    kcounters_get(&s->counters, "TcpExt.ListenDrops", &drops_now) == 0 &&
				    doc_prev_get(prev, "TcpExt.ListenDrops", &drops_then) == 0 &&
				    drops_now > drops_then;
		for (size_t k = 0; prev && prev->have &&
				   k < sizeof(srv_cost_counters) / sizeof(srv_cost_counters[0]);
		     k++) {
			uint64_t now = 0, then = 0;
			if ((k >= SRV_COST_TW_ONLY && listen_drops) ||
			    kcounters_get(&s->counters, srv_cost_counters[k], &now) < 0 ||
			    doc_prev_get(prev, srv_cost_counters[k], &then) < 0 || now <= then)
				continue;
			rise_total += now - then;
			if (cl < sizeof(costs))
				cl += (size_t)snprintf(costs + cl, sizeof(costs) - cl, "%s%s +%llu",
						       cl ? ", " : "", srv_cost_counters[k],
						       (unsigned long long)(now - then));
		}
		const struct tw_budget_out *bo = &worst->budget;
		bool costly = bo->srv_syn != TW_SRV_REOPEN_TS && rise_total > 0;
		struct doc_finding *f;
		if (costly)
			f = doc_finding_add(
				fs, "lb-quadruplet-budget", DOC_WARNING,
				"%s reuses its 4-tuples toward %s while this server still holds them "
				"in TIME-WAIT, without timestamps: some of its connections wait about "
				"%.0f s for a SYN retransmission",
				ep, srv, bo->srv_wait_ns / 1e9);
		else
			f = doc_finding_add(
				fs, "lb-quadruplet-budget", DOC_INFO,
				"one remote address, %s, has %s TIME-WAIT 4-tuples toward %s: no ceiling "
				"here, a new SYN from it reopens them",
				ep, units_fmt_count(b1, sizeof(b1), worst->time_wait), srv);
		doc_finding_ev(f, "sockets from %s to %s: %s (TIME-WAIT %s), %.0f%% of the %s ports "
				  "a client of this era has by default",
			       ep, srv, units_fmt_count(b1, sizeof(b1), worst->total),
			       units_fmt_count(b2, sizeof(b2), worst->time_wait),
			       worst->utilization * 100,
			       units_fmt_count(b3, sizeof(b3), worst->ports_usable));
		doc_finding_ev(f, "TIME-WAIT created %.1f/s (10 s), %.1f/s (60 s)",
			       worst->tw_rate_10s, worst->tw_rate_60s);
		doc_finding_ev(f, "the kernel (§5.1): %s", tw_server_tw_syn_str(bo->srv_syn));
		if (costly)
			doc_finding_ev(f, "rising since the previous sample: %s", costs);
		else if (bo->srv_syn != TW_SRV_REOPEN_TS)
			doc_finding_ev(f, "no cost seen%s (ACKs skipped in TIME-WAIT, PAWS rejects, "
					  "SYN retransmissions, resets)",
				       prev && prev->have ? " since the previous sample"
							  : ": one sample only; --watch compares two");
		if (listen_drops && !costly)
			doc_finding_ev(f, "TcpExt.ListenDrops rose by %llu since the previous sample: "
					  "SYN retransmissions and resets then come from a full accept "
					  "queue, not from TIME-WAIT",
				       (unsigned long long)(drops_now - drops_then));
		if (f)
			f->eta_s = -1; /* nothing runs out on this side */
		if (costly) {
			doc_finding_adv(f, "Turn TCP timestamps on at both ends (net.ipv4.tcp_timestamps"
					   "=1): a newer timestamp reopens the 4-tuple at once. Price: "
					   "12 bytes of options per segment.");
			doc_finding_adv(f, "Keep-alive between the balancer and this server removes the "
					   "churn (the biggest lever). Price: balancer configuration.");
		} else {
			doc_finding_adv(f, "Nothing to do for this server. If the remote is a balancer, "
					   "its own ports are its limit when it closes first: run "
					   "twkit doctor there (port-exhaustion).");
		}
	}
	if (a->tw_in >= SERVER_TW_MIN) {
		struct doc_finding *f = doc_finding_add(
			fs, "server-time-wait", DOC_INFO,
			"%s TIME-WAIT sockets belong to incoming connections this server closed "
			"first: harmless, nothing needs doing",
			units_fmt_count(b1, sizeof(b1), a->tw_in));
		doc_finding_ev(f, "incoming TIME-WAIT %s, outgoing %s; memory ~%s", 
		   units_fmt_count(b1, sizeof(b1), a->tw_in),
		   units_fmt_count(b2, sizeof(b2), a->tw_out),
		   units_fmt_bytes(ep, sizeof(ep), (uint64_t)a->tw_in * a->tw_objsize));
		doc_finding_adv(f, "Nothing to do: a server's TIME-WAIT holds no port it needs (it listens on "
		       "one), no file descriptor, and ~%u bytes of memory each.", a->tw_objsize);
		doc_finding_adv(f, "Do not shorten it with tcp_tw_recycle or SO_LINGER 0; tcp_tw_reuse only "
		       "affects outgoing connections and would change nothing here.");
	}
}

void doc_findings_run(const struct snapshot *s, const struct doc_analysis *a,
		      const struct doc_prev *prev, struct doc_findings *out)
{
	memset(out, 0, sizeof(*out));
	rule_port_exhaustion(a, out);
	rule_connect_slow(a, out);
	rule_reuse_ineffective(a, out);
	rule_recycle(s, a, prev, out);
	rule_buckets(s, a, prev, out);
	rule_narrow(a, out);
	rule_fd(s, a, out);
	rule_server(s, a, prev, out);
	doc_myths_run(s, a, out);
	/* stable sort by severity, critical first (insertion sort: a handful of items) */
	for (int i = 1; i < out->n; i++) {
		struct doc_finding tmp = out->f[i];
		int j = i - 1;
		while (j >= 0 && out->f[j].sev < tmp.sev) {
			out->f[j + 1] = out->f[j];
			j--;
		}
		out->f[j + 1] = tmp;
	}
}
