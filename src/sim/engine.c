/*
 * engine — sim_run(): builds the hosts of a scenario, then plays events in time order until
 * the duration ends. Event sources: each client group's arrival process, one close FIFO per
 * connecting node (every connection of a node lives the same time), one FIFO per TIME-WAIT
 * lifetime, the heap for SYN retransmissions, and the per-second sampler. The next event is
 * the earliest head among them; equal times go in a fixed source order (heap entries by
 * sequence number), so a run is a pure function of the scenario and its seed.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "model/reuse.h"
#include "model/timewait.h"
#include "sim/engine.h"
#include "sim/net.h"

#define NS 1000000000LL

static const char *const series_cols[] = {
	"time_wait", "established", "new_ok", "eaddrnotavail", "etimedout",
	"paws_passive", "syn_retrans", "tw_recycled", "tw_overflow", "mem_bytes",
};
#define NCOLS ((int)(sizeof(series_cols) / sizeof(series_cols[0])))

const int sim_latency_steps_s[SIM_LAT_STEPS] = { 1, 3, 7, 15, 31, 63 };

uint64_t sim_rand(struct sim_eng *e)
{
	e->rng += SIM_RNG_STEP; /* splitmix64: seedable, full period */
	return tw_hash64(e->rng);
}

void sim_lat_flush(struct sim_eng *e)
{
	if (!e->lat_n)
		return;
	hist_record_n(&e->res->latency, (uint64_t)e->lat_v, e->lat_n);
	for (int k = 0; k < SIM_LAT_STEPS && e->lat_v >= sim_latency_steps_s[k] * NS; k++)
		e->res->latency_over[k] += e->lat_n;
	e->lat_n = 0;
}

static int twq_for(struct sim_eng *e, int64_t dur)
{
	for (int i = 0; i < e->ntwq; i++)
		if (e->twq[i].dur == dur)
			return i;
	if (e->ntwq == SIM_MAX_TWQ)
		return 0; /* sim_scenario_check bounds the node count, so this cannot happen */
	e->twq[e->ntwq].dur = dur;
	return e->ntwq++;
}

static const struct tw_profile *node_profile(const struct sim_eng *e, const struct sim_node *n)
{
	return tw_profile_by_name(n->kernel[0] ? n->kernel : e->sc->kernel, e->host_release);
}

static int resolve_path(struct sim_eng *e, int i)
{
	struct sim_nrt *nr = &e->node[i];
	const char *via = nr->n->via;
	for (int depth = 0; depth < SIM_MAX_NODES; depth++) {
		int j;
		for (j = 0; j < e->nnodes; j++)
			if (strcmp(e->sc->nodes[j].name, via) == 0)
				break;
		if (j == e->nnodes)
			return -EINVAL;
		if (e->node[j].kind == SIM_NODE_SERVER || e->node[j].kind == SIM_NODE_L7LB) {
			nr->target = j;
			return 0;
		}
		if (e->node[j].kind == SIM_NODE_CLIENT || nr->nhops == 4)
			return -EINVAL;
		nr->hops[nr->nhops++] = j;
		via = e->sc->nodes[j].via;
	}
	return -EINVAL;
}

int sim_hosts_init(struct sim_eng *e)
{
	uint32_t total = 0, hi = 0;
	e->nnodes = e->sc->nnodes;
	for (int i = 0; i < e->nnodes; i++) {
		struct sim_nrt *nr = &e->node[i];
		nr->n = &e->sc->nodes[i];
		nr->kind = nr->n->kind;
		nr->addr0 = (10u << 24) | ((uint32_t)(i + 1) << 16) | 1u;
		nr->target = -1;
		nr->syn_q.head = nr->close_q.head = SIM_NONE;
		if (nr->kind == SIM_NODE_CLIENT)
			nr->nhosts = nr->n->count;
		else if (nr->kind == SIM_NODE_L7LB || nr->kind == SIM_NODE_SERVER)
			nr->nhosts = 1;
		nr->host0 = total;
		total += nr->nhosts;
	}
	e->hosts = aligned_alloc(64, (total ? total : 1) * sizeof(*e->hosts));
	if (!e->hosts)
		return -ENOMEM;
	memset(e->hosts, 0, (total ? total : 1) * sizeof(*e->hosts));
	e->nhosts = total;
	e->ntwq = 0;
	for (int i = 0; i < e->nnodes; i++) {
		struct sim_nrt *nr = &e->node[i];
		const struct sim_node *n = nr->n;
		const struct tw_profile *p = node_profile(e, n);
		if (!p)
			return -EINVAL;
		if (nr->kind == SIM_NODE_NAT) {
			/* a cloud gateway keeps its own port tables (natgw.h) */
			struct natgw_cfg gc;
			bool is_gw;
			char err[256];
			if (sim_gateway_cfg(e->sc, n, &gc, &is_gw, err, sizeof(err)) < 0)
				return -EINVAL;
			if (is_gw) {
				int rc;
				e->gw[i] = calloc(1, sizeof(*e->gw[i]));
				if (!e->gw[i])
					return -ENOMEM;
				rc = natgw_init(e->gw[i], &gc);
				if (rc < 0)
					return rc;
			}
		}
		if ((nr->kind == SIM_NODE_NAT && !e->gw[i]) || nr->kind == SIM_NODE_L4LB) {
			nr->busy = calloc((size_t)n->ips * 65536, sizeof(int64_t));
			if (!nr->busy)
				return -ENOMEM;
			nr->seq_port = 1024;
		}
		for (uint32_t k = 0; k < nr->nhosts; k++, hi++) {
			struct sim_thost *h = &e->hosts[hi];
			h->p = p;
			h->node = i;
			h->addr0 = nr->addr0 + k * n->ips;
			h->nips = n->ips;
			h->ts.hz = n->hz;
			h->ts.boot = (uint32_t)sim_rand(e); /* unrelated clocks per host (§4.4) */
			h->ts.timestamps = n->timestamps;
			h->ts.secret = sim_rand(e);
			h->reuse = n->tw_reuse < 0 ? p->reuse_default : n->tw_reuse;
			h->recycle = n->tw_recycle && tw_recycle_available(p); /* §4.5 */
			/* §2.2: whether connect() may ever take a TIME-WAIT over (bind() always
			 * may); the peer's timestamps are seen per TIME-WAIT, so unknown here */
			struct tw_reuse_scope rs = { .reuse = h->reuse,
						     .timestamps = h->ts.timestamps,
						     .peer_timestamps = -1, .outgoing = true };
			h->reusable = n->bind_port || n->port_select == SIM_PORTSEL_APP ||
				      tw_reuse_explain(p, &rs) == TW_REUSE_PEER_UNKNOWN;
			h->eh_on = nr->kind == SIM_NODE_SERVER || nr->kind == SIM_NODE_L7LB ||
				   h->reusable;
			h->lo = n->port_lo ? n->port_lo : p->port_lo;
			h->hi = n->port_lo ? n->port_hi : p->port_hi;
			h->ps.hint = (uint32_t)sim_rand(e);
			h->ps_size = tw_portsel_table_size(p);
			h->tw_fifo60 = twq_for(e, p->timer_wheel ? -1 : TW_TIMEWAIT_LEN_NS);
			/* a short-lived FIFO only where tw_recycle can apply: fewer sources to scan */
			h->tw_fifo_rec = h->recycle ? twq_for(e, tw_rto_35(n->rto_ns)) : -1;
			h->rto_ns = n->rto_ns;
			h->max_tw_buckets = n->max_tw_buckets;
		}
		if (nr->kind == SIM_NODE_CLIENT || nr->kind == SIM_NODE_L7LB) {
			const struct sim_node *t;
			if (resolve_path(e, i) < 0)
				return -EINVAL;
			t = e->node[nr->target].n;
			/* every host of a group has the group's tcp_timestamps */
			nr->ts_neg[0] = tw_ts_negotiated(n->timestamps, t->timestamps, false);
			nr->ts_neg[1] = tw_ts_negotiated(n->timestamps, t->timestamps, true);
			/* one source IP, and one target IP and port (or the L4 balancer's one VIP):
			 * connect() needs no destination lookup after the first */
			const struct sim_nrt *lb = sim_vip_lb(e, nr);
			nr->one_dest = n->ips == 1 &&
				       (lb ? lb->n->ips == 1 : t->ips == 1 && t->ports == 1);
			nr->target_host = e->node[nr->target].host0;
			nr->dur_ns = (int64_t)n->requests * (n->rtt_ns + t->service_ns) + n->idle_ns;
			nr->half_rtt = n->rtt_ns / 2;
			nr->close_after = nr->half_rtt + nr->dur_ns;
			nr->req_seq = SIM_REQ_BYTES * (uint32_t)n->requests + 1;
			nr->resp_seq = SIM_RESP_BYTES * (uint32_t)n->requests + 1;
			nr->client_closes = n->closes == SIM_CLOSES_CLIENT;
			nr->linger0 = n->linger0;
			e->syn_n[i] = tw_syn_schedule(p, n->syn_retries, e->syn_at[i], &e->syn_fail[i]);
		}
	}
	/* connecting nodes whose idle connections a gateway on their path removes */
	for (int i = 0; i < e->nnodes; i++) {
		struct sim_nrt *nr = &e->node[i];
		nr->gw_cut = -1;
		for (int k = 0; k < nr->nhops; k++) {
			const struct natgw *g = e->gw[nr->hops[k]];
			if (g && natgw_idle_cuts(&g->cfg, nr->n->idle_ns))
				nr->gw_cut = (int8_t)nr->hops[k];
		}
	}
	return 0;
}

void sim_hosts_fini(struct sim_eng *e)
{
	for (uint32_t i = 0; i < e->nhosts; i++) {
		struct sim_thost *h = &e->hosts[i];
		sim_pt_free(&h->eh);
		sim_eh_free(&h->peers);
		free(h->peer);
		for (uint32_t d = 0; d < h->ndests; d++)
			free(h->dests[d].held);
		free(h->dests);
		free(h->ps.perturb);
		free(h->backlog);
	}
	free(e->hosts);
	for (int i = 0; i < e->nnodes; i++) {
		free(e->node[i].busy);
		if (e->gw[i])
			natgw_fini(e->gw[i]);
		free(e->gw[i]);
	}
	for (int i = 0; i < e->ntwq; i++)
		sim_fifo_free(&e->twq[i].q);
	sim_heap_free(&e->heap);
	free(e->socks);
	free(e->conns);
}

/* Schedule host hi's next waiting connect for when its core is free. */
static void backlog_wake(struct sim_eng *e, uint32_t hi)
{
	if (sim_heap_push(&e->heap, e->hosts[hi].cpu_free, SIM_EV_CONNECT, hi))
		e->err = -ENOMEM;
	sim_src_heap(e);
}

/*
 * A client's arrival on host hi: connect() now if the host's core is free, else wait behind
 * the connects before it (model/portsearch.h: each one's kernel CPU keeps the core busy), as
 * an open-loop client falls behind its schedule when connect() saturates its core. A full
 * backlog drops the arrival (counted).
 */
static void client_arrival(struct sim_eng *e, int node, uint32_t hi)
{
	struct sim_thost *h = &e->hosts[hi];
	struct sim_connect_cpu *cc = &e->res->hosts[node].cpu;
	if (h->cpu_free <= e->now && !h->bl_n) {
		sim_connect(e, node, hi, e->now);
		return;
	}
	if (!h->backlog) {
		h->backlog = malloc(SIM_BACKLOG_MAX * sizeof(*h->backlog));
		if (!h->backlog) {
			e->err = -ENOMEM;
			return;
		}
	}
	if (h->bl_n == SIM_BACKLOG_MAX) {
		cc->dropped++;
		return;
	}
	h->backlog[(h->bl_head + h->bl_n) % SIM_BACKLOG_MAX] = e->now;
	if (++h->bl_n > cc->backlog_max)
		cc->backlog_max = h->bl_n;
	cc->queued++;
	if (h->bl_n == 1)
		backlog_wake(e, hi);
}

/* Host hi's core is free: its oldest waiting connect runs, counted from its arrival. */
static void backlog_run(struct sim_eng *e, uint32_t hi)
{
	struct sim_thost *h = &e->hosts[hi];
	int64_t start;
	if (!h->bl_n)
		return;
	start = h->backlog[h->bl_head];
	h->bl_head = (h->bl_head + 1) % SIM_BACKLOG_MAX;
	h->bl_n--;
	sim_connect(e, h->node, hi, start);
	if (h->bl_n)
		backlog_wake(e, hi);
}

/* Rate of new connections per second for a client node at time t (all its hosts). */
static double node_rate(const struct sim_eng *e, const struct sim_nrt *nr, int64_t t)
{
	const struct sim_node *n = nr->n;
	double r = n->rate;
	if (n->arrival == SIM_ARRIVAL_RAMP && e->end > 0)
		r += (n->rate_to - n->rate) * (double)t / (double)e->end;
	return r * n->count;
}

/* The next of a node's constant arrivals at r connections/s. */
static inline int64_t const_arrival_t(const struct sim_nrt *nr, double r)
{
	uint64_t k = nr->arrivals + 1;
	return k < nr->const_klim ? (int64_t)k * nr->const_period : sim_const_arrival(k, r);
}

static void next_arrival_t(struct sim_eng *e, struct sim_nrt *nr)
{
	const struct sim_node *n = nr->n;
	double r = node_rate(e, nr, e->now);
	if (n->arrival == SIM_ARRIVAL_RAMP) {
		/* arrival k comes when the integral of the rate, r0 t + (r1 - r0) t^2 / 2T,
		 * reaches k: exact, and a ramp may start from 0 */
		double T = (double)e->end / 1e9, k = (double)(nr->arrivals + 1);
		double b = n->rate * n->count, a = (n->rate_to - n->rate) * n->count / (2 * T);
		double t, disc = b * b + 4 * a * k;
		if (a == 0)
			t = b > 0 ? k / b : -1;
		else
			t = disc < 0 ? -1 : (-b + sqrt(disc)) / (2 * a);
		nr->next_arrival = t < 0 || t * 1e9 > 9e18 ? INT64_MAX : (int64_t)(t * 1e9);
		if (nr->next_arrival <= e->now && nr->next_arrival != INT64_MAX)
			nr->next_arrival = e->now + 1;
		return;
	}
	if (r <= 0) {
		nr->next_arrival = INT64_MAX;
		return;
	}
	if (n->arrival == SIM_ARRIVAL_CONSTANT) {
		nr->next_arrival = const_arrival_t(nr, r);
	} else {
		double u = ((double)(sim_rand(e) >> 11) + 1.0) / 9007199254740993.0; /* (0,1] */
		nr->next_arrival = e->now + 1 + (int64_t)(-log(u) * 1e9 / r);
	}
}

static void next_arrival(struct sim_eng *e, struct sim_nrt *nr)
{
	next_arrival_t(e, nr);
	sim_src_set(e, nr->src0, nr->next_arrival);
}

static void sample(struct sim_eng *e, const struct sim_config *cfg, struct sim_counters *prev,
		   double t)
{
	for (int i = 0; i < e->nnodes; i++) {
		struct sim_host_result *r = &e->res->hosts[i];
		const struct sim_counters *c = &e->cnt[i];
		uint64_t mem = tw_timewait_mem_bytes(e->group_tw[i]);
		uint64_t ok = e->node[i].kind == SIM_NODE_SERVER
				      ? c->passive_opens - prev[i].passive_opens
				      : c->connections_ok - prev[i].connections_ok;
		double row[NCOLS] = {
			(double)e->group_tw[i],
			(double)e->group_est[i],
			(double)ok,
			(double)(c->connect_errors[SIM_ERR_EADDRNOTAVAIL] -
				 prev[i].connect_errors[SIM_ERR_EADDRNOTAVAIL]),
			(double)(c->connect_errors[SIM_ERR_ETIMEDOUT] -
				 prev[i].connect_errors[SIM_ERR_ETIMEDOUT]),
			(double)(c->paws_passive - prev[i].paws_passive),
			(double)(c->syn_retrans - prev[i].syn_retrans),
			(double)(c->tw_recycled - prev[i].tw_recycled),
			(double)(c->tw_overflow - prev[i].tw_overflow),
			(double)mem,
		};
		if (e->group_est[i] > r->established_max)
			r->established_max = e->group_est[i];
		if (mem > r->mem_max)
			r->mem_max = mem;
		prev[i] = *c;
		if (!cfg->no_series && series_add(&r->series, t, row) < 0)
			e->err = -ENOMEM;
	}
}

/* Pop the head of connection FIFO q (not empty), source k, whose key becomes the new head's
 * time: its SYN's arrival, or its close (close) */
static inline uint32_t connq_pop(struct sim_eng *e, int k, struct sim_connq *q, int close)
{
	uint32_t ci = q->head;
	const struct sim_conn *c;
	q->head = e->conns[ci].aux;
	if (q->head == SIM_NONE) {
		e->src_key[k] = UINT64_MAX;
		return ci;
	}
	c = &e->conns[q->head];
	e->src_key[k] = sim_src_key(k, close ? c->syn0 : c->tarrive);
	return ci;
}

/* Expire the head of TIME-WAIT FIFO i (source e->src_twq0 + i). */
static void twq_pop(struct sim_eng *e, int i)
{
	struct sim_twq *q = &e->twq[i];
	uint32_t si = sim_fifo_front(&q->q), mask = q->q.cap - 1;
	if (q->q.n > 64) {
		sim_tw_prefetch(e, q->q.v[(q->q.head + 64) & mask], 0);
		sim_tw_prefetch(e, q->q.v[(q->q.head + 32) & mask], 1);
	}
	sim_fifo_pop(&q->q);
	e->src_key[e->src_twq0 + i] =
		q->q.n ? sim_src_key(e->src_twq0 + i, e->socks[sim_fifo_front(&q->q)].t) : UINT64_MAX;
	/* §1.3: short (recycle) timers count TWKilled, the rest TW, as tw_timewait_enter said */
	sim_tw_expire(e, si, q->killed);
}

static inline uint64_t min_u64(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/* The least key of the TIME-WAIT FIFOs and the sampler (UINT64_MAX: none). */
static inline uint64_t late_min(const struct sim_eng *e)
{
	const uint64_t *key = &e->src_key[e->src_twq0];
	uint64_t m = min_u64(key[0], e->src_key[e->nsrc]);
	if (__builtin_expect(e->ntwq == 1, 1))
		return m;
	for (int i = 1; i < e->ntwq; i++)
		m = min_u64(m, key[i]);
	return m;
}

/*
 * One step: find the earliest heap or node event, play the TIME-WAIT expiries and samples
 * due before it, then run it. Returns 0 when the run is over.
 */
static int step(struct sim_eng *e, const struct sim_config *cfg, struct sim_counters *prev,
		int64_t *next_sample, int64_t sample_ns)
{
	const uint64_t *key = e->src_key;
	uint64_t best;
	int k;
	/* a tree of minima over groups of four (padding slots hold UINT64_MAX); most scenarios
	 * have one connecting node, so one group */
	best = min_u64(min_u64(key[0], key[1]), min_u64(key[2], key[3]));
	for (int i = 4; i < e->src_twq0; i += 4)
		best = min_u64(best, min_u64(min_u64(key[i], key[i + 1]),
					     min_u64(key[i + 2], key[i + 3])));
	/* expiries and samples due before it (their sources rank after every node source) and
	 * not after the end. late_key is their least key: a TIME-WAIT FIFO's key changes only
	 * when it is popped here or pushed while empty (sim_twq_push lowers late_key) */
	uint64_t lim = min_u64(best, e->end_key);
	while (e->late_key < lim) {
		uint64_t lk = e->late_key;
		int src = (int)(lk & ((1u << SIM_SRC_BITS) - 1));
		e->now = (int64_t)(lk >> SIM_SRC_BITS);
		e->events++;
		if (src != e->nsrc) {
			twq_pop(e, src - e->src_twq0);
		} else {
			sample(e, cfg, prev, (double)*next_sample / 1e9);
			if (cfg->progress)
				cfg->progress(cfg->progress_arg, e->now, e->end);
			*next_sample += sample_ns;
			sim_src_set(e, e->nsrc, *next_sample <= e->end ? *next_sample : INT64_MAX);
			if (e->err)
				return 0;
		}
		e->late_key = late_min(e);
	}
	if (best >= e->end_key)
		return 0;
	k = (int)(best & ((1u << SIM_SRC_BITS) - 1));
	e->now = (int64_t)(best >> SIM_SRC_BITS);
	e->events++;
	switch (e->src_kind[k]) {
	case SRC_HEAP: {
		struct sim_ev ev;
		sim_heap_pop(&e->heap, &ev);
		sim_src_heap(e);
		if (ev.kind == SIM_EV_SYN)
			sim_syn_send(e, ev.idx);
		else if (ev.kind == SIM_EV_CONNECT)
			backlog_run(e, ev.idx);
		else
			sim_conn_fail(e, ev.idx);
		break;
	}
	case SRC_ARRIVAL: {
		struct sim_nrt *nr = &e->node[e->src_arg[k]];
		uint32_t h = nr->host0 + nr->rr_host;
		if (++nr->rr_host == nr->nhosts)
			nr->rr_host = 0;
		nr->arrivals++; /* summed into the result's attempts at the end */
		client_arrival(e, e->src_arg[k], h);
		if (nr->const_rate > 0) {
			/* next_arrival_t's constant case, inline */
			nr->next_arrival = const_arrival_t(nr, nr->const_rate);
			sim_src_set(e, nr->src0, nr->next_arrival);
		} else {
			next_arrival(e, nr);
		}
		break;
	}
	case SRC_SYN: {
		struct sim_nrt *nr = &e->node[e->src_arg[k]];
		uint32_t ci = connq_pop(e, k, &nr->syn_q, 0);
		sim_syn(e, ci);
		break;
	}
	default: { /* SRC_CLOSE */
		struct sim_nrt *nr = &e->node[e->src_arg[k]];
		uint32_t ci = connq_pop(e, k, &nr->close_q, 1);
		sim_close(e, ci);
		break;
	}
	}
	return e->err ? 0 : 1;
}

static uint64_t state_bytes(const struct sim_eng *e)
{
	uint64_t b = (uint64_t)e->sockp.cap * sizeof(struct sim_sock) +
		     (uint64_t)e->connp.cap * sizeof(struct sim_conn) +
		     (uint64_t)e->heap.cap * sizeof(struct sim_ev);
	for (uint32_t i = 0; i < e->nhosts; i++)
		b += sim_pt_bytes(&e->hosts[i].eh) + sim_eh_bytes(&e->hosts[i].peers);
	for (int i = 0; i < e->ntwq; i++)
		b += (uint64_t)e->twq[i].q.cap * sizeof(uint32_t);
	return b;
}

int sim_run(const struct sim_config *cfg, struct sim_result *res)
{
	struct sim_eng *e = NULL;
	struct sim_counters prev[SIM_MAX_NODES];
	struct utsname u;
	int64_t sample_ns = cfg->sample_ns > 0 ? cfg->sample_ns : NS, next_sample;
	const char *release = cfg->host_release;
	char err[256];
	int rc = 0;

	memset(res, 0, sizeof(*res));
	res->first_failure_ns = -1;
	hist_init(&res->latency);
	if (!release && uname(&u) == 0)
		release = u.release;
	rc = sim_scenario_check(cfg->sc, release, err, sizeof(err));
	if (rc < 0)
		goto out;
	e = calloc(1, sizeof(*e));
	res->hosts = calloc((size_t)cfg->sc->nnodes, sizeof(*res->hosts));
	if (!e || !res->hosts) {
		rc = -ENOMEM;
		goto out;
	}
	res->nhosts = cfg->sc->nnodes;
	e->sc = cfg->sc;
	e->res = res;
	e->host_release = release;
	e->end = cfg->sc->duration_ns;
	e->end_key = (uint64_t)(e->end + 1) << SIM_SRC_BITS;
	e->rng = cfg->sc->seed * 0x2545f4914f6cdd1dULL + 1;
	e->sockp.free = SIM_NONE;
	e->connp.free = SIM_NONE;
	res->duration_ns = e->end;
	rc = sim_hosts_init(e);
	if (rc < 0)
		goto out;
	/* sources in tie-break order: heap, each connecting node's three, the TW FIFOs, sampler */
	e->nsrc = 0;
	e->src_kind[e->nsrc++] = SRC_HEAP;
	for (int i = 0; i < e->nnodes; i++) {
		struct sim_nrt *nr = &e->node[i];
		nr->src0 = -1;
		if (nr->kind != SIM_NODE_CLIENT && nr->kind != SIM_NODE_L7LB)
			continue;
		nr->src0 = e->nsrc;
		for (int j = 0; j < 3; j++) {
			e->src_kind[e->nsrc] = (uint8_t)(SRC_ARRIVAL + j);
			e->src_arg[e->nsrc++] = (uint8_t)i;
		}
	}
	while (e->nsrc & 3) /* padding: never set, the scan reads it as "nothing" */
		e->src_kind[e->nsrc++] = SRC_HEAP;
	e->src_twq0 = e->nsrc;
	for (int i = 0; i < e->ntwq; i++) {
		e->src_kind[e->nsrc] = SRC_TWQ;
		e->src_arg[e->nsrc++] = (uint8_t)i;
	}
	e->src_kind[e->nsrc] = SRC_SAMPLE;
	for (int i = 0; i < (int)(sizeof(e->src_key) / sizeof(e->src_key[0])); i++)
		e->src_key[i] = UINT64_MAX;
	for (int i = 0; i < e->nnodes; i++) {
		struct sim_host_result *r = &res->hosts[i];
		snprintf(r->name, sizeof(r->name), "%s", e->node[i].n->name);
		r->kind = e->node[i].kind;
		r->hosts = e->node[i].nhosts ? e->node[i].nhosts : 1;
		if (e->node[i].nhosts)
			snprintf(r->profile, sizeof(r->profile), "%s",
				 e->hosts[e->node[i].host0].p->name);
		hist_init(&r->cpu.probes);
		r->cpu.probe_ns = e->node[i].n->connect_probe_ns;
		r->cpu.base_ns = e->node[i].n->connect_base_ns;
		rc = series_init(&r->series, NCOLS, series_cols);
		if (rc < 0)
			goto out;
		if (e->node[i].kind == SIM_NODE_CLIENT) {
			/* the node's constant rate, once: the step computes the same times */
			double rate = node_rate(e, &e->node[i], 0);
			if (e->node[i].n->arrival == SIM_ARRIVAL_CONSTANT && rate > 0) {
				e->node[i].const_rate = rate;
				sim_const_period(rate, &e->node[i].const_period,
						 &e->node[i].const_klim);
			}
			next_arrival(e, &e->node[i]);
		}
	}
	memset(prev, 0, sizeof(prev));
	next_sample = sample_ns;
	sim_src_set(e, e->nsrc, next_sample <= e->end ? next_sample : INT64_MAX);
	e->late_key = late_min(e);
	while (step(e, cfg, prev, &next_sample, sample_ns))
		;
	rc = e->err;
	res->events = e->events;
	sim_lat_flush(e);
	for (int i = 0; i < res->nhosts; i++) {
		struct sim_connect_cpu *cc = &res->hosts[i].cpu;
		sim_probes_flush(e, i);
		cc->calls = cc->probes.count;
		cc->cpu_ns = cc->calls * cc->base_ns + e->pr_sum[i] * cc->probe_ns;
	}
	for (int i = 0; i < res->nhosts; i++) {
		const struct sim_counters *c = &res->hosts[i].c;
		res->hosts[i].c = e->cnt[i];
		res->hosts[i].time_wait_max = e->group_tw_max[i];
		if (e->node[i].kind == SIM_NODE_CLIENT) {
			res->attempts += e->node[i].arrivals;
			res->connections_ok += c->connections_ok;
			for (int k = 0; k < SIM_ERR_N; k++)
				res->connect_errors[k] += c->connect_errors[k];
		}
		res->syn_dropped += c->paws_passive;
		res->syn_retrans += c->syn_retrans;
		if (e->gw[i]) {
			res->hosts[i].gateway = true;
			res->hosts[i].gw = e->gw[i]->cfg;
			res->hosts[i].gw_peak = e->gw[i]->peak_used;
			memcpy(res->hosts[i].gw_drop, e->gw[i]->drops,
			       sizeof(res->hosts[i].gw_drop));
		}
	}
	res->tw_records_peak = e->tw_total_peak;
	res->sim_bytes_peak = state_bytes(e);
out:
	if (e) {
		sim_hosts_fini(e);
		free(e);
	}
	return rc;
}

void sim_result_fini(struct sim_result *res)
{
	for (int i = 0; i < res->nhosts; i++)
		series_fini(&res->hosts[i].series);
	free(res->hosts);
	res->hosts = NULL;
	res->nhosts = 0;
}

const struct sim_host_result *sim_result_host(const struct sim_result *res, const char *name)
{
	for (int i = 0; i < res->nhosts; i++)
		if (strcmp(res->hosts[i].name, name) == 0)
			return &res->hosts[i];
	return NULL;
}

const char *sim_err_name(enum SIM_ERR e)
{
	switch (e) {
	case SIM_ERR_EADDRNOTAVAIL:
		return "EADDRNOTAVAIL";
	case SIM_ERR_ETIMEDOUT:
		return "ETIMEDOUT";
	case SIM_ERR_ECONNRESET:
		return "ECONNRESET";
	default:
		return "?";
	}
}
