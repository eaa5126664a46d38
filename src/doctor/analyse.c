/*
 * analyse — grouping, budgets and rates (see analyse.h).
 * Grouping uses an open-addressing hash keyed by (dir, laddr, raddr, port); one pass over the
 * sockets, no allocation per socket. Ages, rates, budgets and forecasts come from
 * model/budget.h: no kernel arithmetic here.
 */
#include "doctor/analyse.h"

#include "model/portsearch.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/sockdiag.h"

struct key {
	uint8_t dir;
	uint16_t port;
	uint8_t laddr[16], raddr[16];
};

static uint64_t hash_key(const struct key *k)
{
	/* FNV-1a over the key bytes, then a final mix: cheap and good enough for a table */
	uint64_t h = 1469598103934665603ULL;
	const uint8_t *p = (const uint8_t *)k;
	for (size_t i = 0; i < sizeof(*k); i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	h ^= h >> 29;
	return h;
}

struct table {
	uint32_t *slot; /* group index + 1; 0 = empty */
	size_t mask;
};

static int table_grow(struct table *t, const struct doc_analysis *a, size_t want)
{
	size_t cap = 1024;
	while (cap < want * 2)
		cap <<= 1;
	uint32_t *ns = calloc(cap, sizeof(*ns));
	if (!ns)
		return -ENOMEM;
	for (size_t g = 0; g < a->ngroups; g++) {
		struct key k;
		memset(&k, 0, sizeof(k));
		k.dir = a->groups[g].dir;
		k.port = a->groups[g].port;
		memcpy(k.laddr, a->groups[g].laddr, 16);
		memcpy(k.raddr, a->groups[g].raddr, 16);
		size_t i = hash_key(&k) & (cap - 1);
		while (ns[i])
			i = (i + 1) & (cap - 1);
		ns[i] = (uint32_t)g + 1;
	}
	free(t->slot);
	t->slot = ns;
	t->mask = cap - 1;
	return 0;
}

static struct doc_group *group_get(struct table *t, struct doc_analysis *a, size_t *cap,
				   const struct key *k)
{
	size_t i = hash_key(k) & t->mask;
	while (t->slot[i]) {
		struct doc_group *g = &a->groups[t->slot[i] - 1];
		if (g->dir == k->dir && g->port == k->port && !memcmp(g->laddr, k->laddr, 16) &&
		    !memcmp(g->raddr, k->raddr, 16))
			return g;
		i = (i + 1) & t->mask;
	}
	if (a->ngroups == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		struct doc_group *ng = realloc(a->groups, ncap * sizeof(*ng));
		if (!ng)
			return NULL;
		a->groups = ng;
		*cap = ncap;
	}
	if ((a->ngroups + 1) * 2 > t->mask + 1) {
		if (table_grow(t, a, a->ngroups + 1) < 0)
			return NULL;
		return group_get(t, a, cap, k);
	}
	struct doc_group *g = &a->groups[a->ngroups];
	memset(g, 0, sizeof(*g));
	g->dir = k->dir;
	g->port = k->port;
	memcpy(g->laddr, k->laddr, 16);
	memcpy(g->raddr, k->raddr, 16);
	t->slot[i] = (uint32_t)++a->ngroups;
	return g;
}

static int cmp_group(const void *pa, const void *pb)
{
	const struct doc_group *a = pa, *b = pb;
	if (a->utilization != b->utilization)
		return a->utilization < b->utilization ? 1 : -1;
	if (a->time_wait != b->time_wait)
		return a->time_wait < b->time_wait ? 1 : -1;
	if (a->total != b->total)
		return a->total < b->total ? 1 : -1;
	int c = memcmp(a->raddr, b->raddr, 16);
	if (c)
		return c;
	c = memcmp(a->laddr, b->laddr, 16);
	if (c)
		return c;
	return (int)a->port - (int)b->port + (a->dir - b->dir) * 70000;
}

/* Indices into the group array (the context), by remote address: for qsort_r. */
static int cmp_raddr_idx(const void *pa, const void *pb, void *ctx)
{
	const struct doc_group *g = ctx;

	return memcmp(g[*(const size_t *)pa].raddr, g[*(const size_t *)pb].raddr, 16);
}

/* The window of the "recent" creation rate: short enough to follow a burst, long enough to
 * hold many TIME-WAITs at the rates that matter (>= 100/s). */
#define RATE_WINDOW_MS 10000u
/* TIME-WAITs in a group before its reuse history counts as evidence of the peer's timestamps */
#define REUSE_EVIDENCE_TW 50u

/*
 * The model's budget of one group. Outgoing: this host's range toward one destination, the
 * client closing first (it holds the TIME-WAIT), reuse as configured. Incoming: the remote's
 * range is unknown and assumed the era's default; the TIME-WAIT is ours, reopened by SYNs.
 */
static void group_budget(const struct doc_analysis *a, struct doc_group *g,
			 const struct tw_portset *excluded)
{
	bool out = g->dir == DOC_OUT;
	struct tw_budget_in bi = {
		.port_lo = out ? (uint16_t)a->port_lo : a->prof->port_lo,
		.port_hi = out ? (uint16_t)a->port_hi : a->prof->port_hi,
		.excluded = out ? excluded : NULL,
		.sources = 1,
		.dest_ports = 1,
		.bind_no_port = true,
		.client_closes = true,
		.reuse = { .reuse = a->tw_reuse, .timestamps = a->timestamps,
			   .peer_timestamps = g->peer_timestamps, .loopback = g->loopback,
			   .outgoing = out },
		.reuse_delay_ms = a->tw_reuse_delay > 0 ? (uint32_t)a->tw_reuse_delay : 0,
		.syn_retries = a->syn_retries,
		.rfc1337 = a->rfc1337,
	};
	if (tw_budget_compute(a->prof, &bi, &g->budget) < 0)
		memset(&g->budget, 0, sizeof(g->budget));
}

struct uidcount {
	uint32_t uid, n;
};

void doc_analysis_price(struct doc_analysis *a, uint32_t probe_ns, uint32_t base_ns)
{
	if (probe_ns)
		a->connect_probe_ns = probe_ns;
	if (base_ns)
		a->connect_base_ns = base_ns;
	a->connect_price_given = probe_ns || base_ns;
}

int doc_analyse(const struct snapshot *s, struct doc_analysis *a)
{
	struct tw_portset *sets = malloc(2 * sizeof(*sets)); /* 8 KiB each: not on the stack */
	struct table t = { 0 };
	size_t gcap = 0;
	struct uidcount uids[64];
	int nuids = 0, rc = 0;
	int outgoing_tw = 0; /* outgoing groups with REUSE_EVIDENCE_TW TIME-WAITs or more */

	memset(a, 0, sizeof(*a));
	a->connect_probe_ns = TW_CONNECT_PROBE_NS_DEFAULT;
	a->connect_base_ns = TW_CONNECT_BASE_NS_DEFAULT;
	if (!sets)
		return -ENOMEM;
	struct tw_portset *listen_ports = &sets[0], *excluded = &sets[1];
	if (tw_kernel_version_parse(s->release, &a->kver) == 0) {
		a->prof = tw_profile_for(a->kver);
	} else {
		a->prof = tw_profile_at(tw_profile_count() - 1);
		a->profile_guessed = true;
	}
	a->port_lo = s->set.port_lo > 0 ? s->set.port_lo : a->prof->port_lo;
	a->port_hi = s->set.port_hi > 0 ? s->set.port_hi : a->prof->port_hi;
	a->tw_reuse = s->set.tcp_tw_reuse >= 0 ? s->set.tcp_tw_reuse : a->prof->reuse_default;
	a->timestamps = s->set.tcp_timestamps >= 0 ? s->set.tcp_timestamps : 1;
	a->tw_reuse_delay = s->set.tcp_tw_reuse_delay;
	a->reuse_min_age_ms = tw_reuse_min_age_ms(a->prof, a->tw_reuse_delay > 0
								  ? (uint32_t)a->tw_reuse_delay
								  : TW_REUSE_DELAY_DEFAULT_MS);
	a->syn_retries = s->set.tcp_syn_retries;
	a->rfc1337 = -1; /* not collected: the default 0 applies */
	/* A remote client's range is unknown: assume the default of this era (§3.1). */
	a->ports_peer_default = tw_ports_usable(a->prof, a->prof->port_lo, a->prof->port_hi, NULL);

	/* Pass 1: listeners and bind()-held ports (§3.3: connect() skips them). */
	tw_portset_clear(listen_ports);
	tw_portset_clear(excluded);
	if (s->set.have_reserved)
		*excluded = s->set.reserved;
	for (size_t i = 0; i < s->nsocks; i++) {
		const struct kdiag_sock *k = &s->socks[i];
		if (k->state == KDIAG_LISTEN || k->state == KDIAG_BOUND_INACTIVE) {
			if (k->state == KDIAG_LISTEN) {
				tw_portset_add(listen_ports, k->lport);
				a->listeners++;
			}
			tw_portset_add(excluded, k->lport);
		}
	}
	for (int p = a->port_lo; p <= a->port_hi; p++) {
		if (s->set.have_reserved && tw_portset_has(&s->set.reserved, (uint16_t)p))
			a->reserved_in_range++;
		else if (tw_portset_has(excluded, (uint16_t)p))
			a->listeners_in_range++;
	}
	a->ports_usable_out = tw_ports_usable(a->prof, (uint16_t)a->port_lo, (uint16_t)a->port_hi,
					      excluded);
	{
		struct tw_budget_in bi = { .port_lo = (uint16_t)a->port_lo,
					   .port_hi = (uint16_t)a->port_hi,
					   .excluded = excluded, .sources = 1, .dest_ports = 1,
					   .bind_no_port = true, .client_closes = true,
					   .reuse = { .reuse = 0, .outgoing = true } };
		struct tw_budget_out bo;
		if (tw_budget_compute(a->prof, &bi, &bo) == 0)
			a->rate_out_no_reuse = bo.rate;
	}

	if (table_grow(&t, a, 512) < 0) {
		rc = -ENOMEM;
		goto out;
	}
	/* Pass 2: classify and group. */
	for (size_t i = 0; i < s->nsocks; i++) {
		const struct kdiag_sock *k = &s->socks[i];
		struct key key;
		struct doc_group *g;
		bool in;

		if (k->state < KDIAG_NSTATES)
			a->by_state[k->state]++;
		a->total++;
		if (k->tw) {
			if (k->state == KDIAG_TIME_WAIT)
				a->time_wait++;
			else
				a->tw_fin_wait2++;
		}
		if (k->state == KDIAG_LISTEN || k->state == KDIAG_BOUND_INACTIVE ||
		    k->state == KDIAG_CLOSE || k->state == KDIAG_NEW_SYN_RECV)
			continue;
		if (!k->tw) {
			int u;
			for (u = 0; u < nuids && uids[u].uid != k->uid; u++)
				;
			if (u == nuids && nuids < 64)
				uids[nuids++] = (struct uidcount){ k->uid, 0 };
			if (u < nuids)
				uids[u].n++;
		}
		/* Direction: incoming when the local port listens here; with no listener left,
		 * when the local port is outside the ephemeral range and the remote one inside. */
		if (tw_portset_has(listen_ports, k->lport))
			in = true;
		else
			in = (k->lport < a->port_lo || k->lport > a->port_hi) &&
			     (k->rport >= a->port_lo && k->rport <= a->port_hi);
		memset(&key, 0, sizeof(key));
		key.dir = in ? DOC_IN : DOC_OUT;
		key.port = in ? k->lport : k->rport;
		memcpy(key.laddr, k->laddr, 16);
		memcpy(key.raddr, k->raddr, 16);
		g = group_get(&t, a, &gcap, &key);
		if (!g) {
			rc = -ENOMEM;
			goto out;
		}
		g->total++;
		g->loopback = kdiag_addr_is_loopback(k->laddr) || kdiag_addr_is_loopback(k->raddr);
		if (in)
			g->in_budget++; /* every quadruple to this server port uses one client port */
		else if (k->lport >= a->port_lo && k->lport <= a->port_hi)
			g->in_budget++;
		if (k->tw && k->state == KDIAG_TIME_WAIT) {
			uint32_t age = tw_age_ms(k->expires_ms);
			uint32_t slot = (TW_TIMEWAIT_LEN_MS - age) / 1000;
			g->time_wait++;
			if (age <= RATE_WINDOW_MS)
				g->tw_10s++;
			if (age > g->tw_oldest_ms)
				g->tw_oldest_ms = age;
			g->tw_60s++;
			if (slot >= DOC_AGE_SLOTS)
				slot = DOC_AGE_SLOTS - 1;
			if (g->expiry[slot] < UINT16_MAX)
				g->expiry[slot]++;
			if (in)
				a->tw_in++;
			else
				a->tw_out++;
		} else if (k->tw) {
			g->tw_fin_wait2++;
		} else if (k->state == KDIAG_ESTABLISHED) {
			g->established++;
			if (k->ts == KDIAG_TS_ON)
				g->ts_on++;
			else if (k->ts == KDIAG_TS_OFF)
				g->ts_off++;
		} else {
			g->other++;
		}
	}
	/* Peer timestamps are a property of the remote host: pool the evidence per remote IP
	 * across groups (sorted by remote address: one pass, no quadratic scan). */
	if (a->ngroups) {
		size_t *idx = malloc(a->ngroups * sizeof(*idx));
		if (!idx) {
			rc = -ENOMEM;
			goto out;
		}
		for (size_t i = 0; i < a->ngroups; i++)
			idx[i] = i;
		qsort_r(idx, a->ngroups, sizeof(*idx), cmp_raddr_idx, a->groups);
		for (size_t i = 0; i < a->ngroups;) {
			size_t j = i;
			uint32_t on = 0, off = 0;
			while (j < a->ngroups &&
			       !memcmp(a->groups[idx[j]].raddr, a->groups[idx[i]].raddr, 16)) {
				on += a->groups[idx[j]].ts_on;
				off += a->groups[idx[j]].ts_off;
				j++;
			}
			for (size_t k = i; k < j; k++) {
				a->groups[idx[k]].peer_on = on;
				a->groups[idx[k]].peer_off = off;
			}
			i = j;
		}
		free(idx);
	}
	for (size_t i = 0; i < a->ngroups; i++) {
		struct doc_group *g = &a->groups[i];
		uint32_t on = g->ts_on, off = g->ts_off;
		if (!on && !off) {
			on = g->peer_on;
			off = g->peer_off;
		}
		g->peer_timestamps = on && !off ? 1 : off && !on ? 0 : on && off ? (on >= off) : -1;
		/* Loopback: the peer is this host, so its setting is ours (§6: 1 and 2 are on). */
		if (g->peer_timestamps < 0 && g->loopback && s->set.tcp_timestamps >= 0)
			g->peer_timestamps = s->set.tcp_timestamps != 0;
		g->ports_usable = g->dir == DOC_OUT ? a->ports_usable_out : a->ports_peer_default;
		g->tw_rate_10s = tw_rate_from_ages(g->tw_10s, g->tw_oldest_ms, RATE_WINDOW_MS);
		g->tw_rate_60s = tw_rate_from_ages(g->tw_60s, g->tw_oldest_ms, TW_TIMEWAIT_LEN_MS);
		if (g->dir == DOC_OUT && g->time_wait >= REUSE_EVIDENCE_TW)
			outgoing_tw++;
	}
	/* The peer's timestamps, when no established connection shows them, from what reuse
	 * did (§2.2): a group that is full of TIME-WAITs older than reuse's age while reuse
	 * was never used (TWRecycled = 0 in this namespace) has a peer without timestamps —
	 * connect() needed a port and could not take one over. With one such group and
	 * TWRecycled > 0, reuse took its TIME-WAITs over: the peer does timestamps. */
	{
		uint64_t recycled = 0;
		bool have_rec = kcounters_get(&s->counters, "TcpExt.TWRecycled", &recycled) == 0;
		for (size_t i = 0; have_rec && i < a->ngroups; i++) {
			struct doc_group *g = &a->groups[i];
			struct tw_reuse_scope sc = { .reuse = a->tw_reuse, .timestamps = a->timestamps,
						     .peer_timestamps = 1, .loopback = g->loopback,
						     .outgoing = true };
			uint32_t age = a->reuse_min_age_ms;
			if (g->dir != DOC_OUT || g->peer_timestamps >= 0 ||
			    g->time_wait < REUSE_EVIDENCE_TW ||
			    tw_reuse_explain(a->prof, &sc) != TW_REUSE_HELPS)
				continue;
			if (recycled == 0 && g->in_budget >= g->ports_usable &&
			    tw_budget_reusable(g->expiry, DOC_AGE_SLOTS, age) > 0) {
				g->peer_timestamps = 0;
				g->peer_ts_inferred = true;
			} else if (recycled > 0 && outgoing_tw == 1) {
				g->peer_timestamps = 1;
				g->peer_ts_inferred = true;
			}
		}
	}
	for (size_t i = 0; i < a->ngroups; i++) {
		struct doc_group *g = &a->groups[i];
		group_budget(a, g, excluded);
		/* 4-tuples whose TIME-WAIT reuse can take over now are not in use (§2.2) */
		uint32_t reusable = g->budget.why == TW_BUDGET_REUSE_BOUND
					    ? tw_budget_reusable(g->expiry, DOC_AGE_SLOTS,
								 g->budget.hold_ms)
					    : 0;
		g->utilization = g->ports_usable
					 ? (double)(g->in_budget - reusable) / g->ports_usable
					 : 1.0;
		if (g->budget.hold_ms)
			g->eta_s = tw_budget_eta_s(g->ports_usable, g->in_budget - g->time_wait,
						   g->expiry, DOC_AGE_SLOTS,
						   g->tw_rate_10s > g->tw_rate_60s ? g->tw_rate_10s
										   : g->tw_rate_60s,
						   g->budget.hold_ms);
		else
			g->eta_s = -1; /* nothing holds this group's 4-tuples: no exhaustion */
	}
	if (a->ngroups) /* qsort(NULL, 0) is undefined */
		qsort(a->groups, a->ngroups, sizeof(*a->groups), cmp_group);

	/* Memory: slab object size when readable (§1.5), else the documented size. */
	a->tw_objsize_from_slab = s->have_slab;
	a->tw_objsize = s->have_slab ? s->tw_objsize : TW_SOCK_BYTES_DEFAULT;
	a->tw_bytes = (uint64_t)(a->time_wait + a->tw_fin_wait2) * a->tw_objsize;
	for (int u = 0; u < nuids; u++)
		if (uids[u].n > a->top_uid_socks) {
			a->top_uid_socks = uids[u].n;
			a->top_uid = uids[u].uid;
		}
out:
	free(t.slot);
	free(sets);
	if (rc < 0)
		doc_analysis_fini(a);
	return rc;
}

void doc_analysis_fini(struct doc_analysis *a)
{
	free(a->groups);
	a->groups = NULL;
	a->ngroups = 0;
}

const char *doc_endpoint(const uint8_t addr[16], uint16_t port, char *buf, size_t len)
{
	char a[64];
	bool v6 = !(addr[10] == 0xff && addr[11] == 0xff && !memcmp(addr, "\0\0\0\0\0\0\0\0\0\0", 10));
	kdiag_addr_str(addr, a, sizeof(a));
	if (port && v6)
		snprintf(buf, len, "[%s]:%u", a, port);
	else if (port)
		snprintf(buf, len, "%s:%u", a, port);
	else
		snprintf(buf, len, "%s", a);
	return buf;
}
