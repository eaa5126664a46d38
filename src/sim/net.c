/*
 * net — connection life in the simulator: connect() with the era's port search and
 * tcp_tw_reuse (§2, §3), NAT and FULLNAT rewriting, the SYN's reception (§5.1 TIME-WAIT,
 * §4.3 tw_recycle), retransmission (§10), close with TIME-WAIT, overflow or SO_LINGER 0
 * (§1, §7), and TIME-WAIT expiry or early kill (§1.3). Every kernel decision is a model/ call.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "model/portsearch.h"
#include "model/reuse.h"
#include "model/timewait.h"
#include "sim/engine.h"
#include "sim/net.h"

#define NS 1000000000LL

/* Seconds clock used for TS.Recent stamps; starts at 100 so that 0 keeps meaning "no
 * timestamp seen" (§1.2). */
static uint32_t now_s(const struct sim_eng *e)
{
	return (uint32_t)((uint64_t)e->now / NS) + 100u; /* unsigned: now >= 0, a shorter divide */
}

/* The same clock in ms for tcp_twsk_unique's rules (§2.2). */
static int64_t now_ms(const struct sim_eng *e)
{
	return (int64_t)((uint64_t)e->now / 1000000) + 100000;
}

static struct sim_counters *cnt(struct sim_eng *e, int node)
{
	return &e->cnt[node];
}

static uint64_t ehkey(uint32_t lip, uint16_t lport, uint32_t raddr, uint16_t rport)
{
	/* addresses are 10.x.y.z: the low 24 bits identify them; lip is the local IP index */
	return ((uint64_t)(raddr & 0xffffffu) << 40) | ((uint64_t)(lip & 0xffu) << 32) |
	       ((uint64_t)lport << 16) | rport;
}

/* The remote address and local port back from the key (addresses are 10.x.y.z). */
static uint32_t sock_raddr(const struct sim_sock *s)
{
	return (10u << 24) | (uint32_t)(s->key >> 40);
}

static uint16_t sock_lport(const struct sim_sock *s)
{
	return (uint16_t)(s->key >> 16);
}

/* A record of pool p, whose free ones link through the uint32_t at `link` (SIM_NONE, with
 * -ENOMEM in e->err, when out of memory). */
static inline uint32_t pool_take(struct sim_eng *e, struct sim_pool *p, size_t sz, size_t link,
				 uint32_t cap0)
{
	uint32_t i = sim_pool_alloc(p, sz, link, cap0);
	if (__builtin_expect(i == SIM_NONE, 0))
		e->err = -ENOMEM;
	return i;
}

static inline uint32_t sock_alloc(struct sim_eng *e)
{
	return pool_take(e, &e->sockp, sizeof(struct sim_sock), offsetof(struct sim_sock, aux),
			 4096);
}

static void sock_free(struct sim_eng *e, uint32_t i)
{
	e->socks[i].state = SOCK_FREE;
	sim_pool_free(&e->sockp, i, sizeof(struct sim_sock), offsetof(struct sim_sock, aux));
}

static const uint64_t parity_mask[2] = { 0x5555555555555555ULL, 0xaaaaaaaaaaaaaaaaULL };

static inline __attribute__((always_inline)) void dest_unhold(struct sim_thost *h,
							    const struct sim_sock *s)
{
	struct sim_dest *d = &h->dests[s->dest - 1];
	uint16_t lport = sock_lport(s);
	uint32_t r = (uint32_t)lport - h->lo; /* wraps above the range when below it */
	d->used--;
	if (r <= (uint32_t)(h->hi - h->lo)) {
		uint64_t w = d->held[r >> 6];
		d->held[r >> 6] = w & ~(1ULL << (r & 63));
		/* the summary bit is set only while the word's parity is all held (dest_hold):
		 * read its line only then */
		if ((w & parity_mask[r & 1]) == parity_mask[r & 1])
			d->full[r & 1][r >> 12] &= ~(1ULL << ((r >> 6) & 63));
	}
}

static void dest_hold(struct sim_dest *d, uint32_t r)
{
	uint64_t w = d->held[r >> 6] |= 1ULL << (r & 63);
	if ((w & parity_mask[r & 1]) == parity_mask[r & 1])
		d->full[r & 1][r >> 12] |= 1ULL << ((r >> 6) & 63);
}

/* Drop a live socket from its host's tables and free it. */
static inline __attribute__((always_inline)) void sock_release(struct sim_eng *e, uint32_t i)
{
	struct sim_sock *s = &e->socks[i];
	struct sim_thost *h = &e->hosts[s->host];
	if (h->eh_on)
		sim_pt_del(&h->eh, s->aux, s->phash);
	if (s->dest)
		dest_unhold(h, s);
	sock_free(e, i);
}

/* The connecting end of c is gone (closed, reset or timed out): its tables let go. */
static inline void csock_release(struct sim_eng *e, struct sim_conn *c)
{
	if (c->csock != SIM_NONE)
		sock_release(e, c->csock);
	else if (c->cs.dest)
		dest_unhold(&e->hosts[c->cs.host], &c->cs);
}

/* A pool record for c's connecting end, which enters TIME-WAIT (SIM_NONE: -ENOMEM). */
static uint32_t csock_take(struct sim_eng *e, struct sim_conn *c)
{
	uint32_t si;
	if (c->csock != SIM_NONE)
		return c->csock;
	si = sock_alloc(e);
	if (si != SIM_NONE)
		e->socks[si] = c->cs;
	return si;
}

static inline uint32_t conn_alloc(struct sim_eng *e)
{
	return pool_take(e, &e->connp, sizeof(struct sim_conn), offsetof(struct sim_conn, aux),
			 1024);
}

static void conn_free(struct sim_eng *e, uint32_t i)
{
	sim_pool_free(&e->connp, i, sizeof(struct sim_conn), offsetof(struct sim_conn, aux));
}

/* One more TIME-WAIT on host h: its counts and their peaks. */
static void tw_count_inc(struct sim_eng *e, struct sim_thost *h)
{
	h->tw_count++;
	e->group_tw[h->node]++;
	e->tw_total++;
	if (e->group_tw[h->node] > e->group_tw_max[h->node])
		e->group_tw_max[h->node] = e->group_tw[h->node];
	if (e->tw_total > e->tw_total_peak)
		e->tw_total_peak = e->tw_total;
}

static void tw_count_dec(struct sim_eng *e, struct sim_thost *h)
{
	h->tw_count--;
	e->group_tw[h->node]--;
	e->tw_total--;
}

/* §1.3 early kill (reuse takeover, RST assassination, SYN acceptance): the record leaves the
 * ehash now and is freed when its FIFO reaches it. */
static void tw_kill(struct sim_eng *e, uint32_t i)
{
	struct sim_sock *s = &e->socks[i];
	struct sim_thost *h = &e->hosts[s->host];
	sim_pt_del(&h->eh, s->aux, s->phash);
	if (s->dest)
		dest_unhold(h, s);
	s->state = SOCK_DEAD;
	tw_count_dec(e, h);
}

void sim_tw_prefetch(const struct sim_eng *e, uint32_t i, int stage)
{
	const struct sim_sock *s = &e->socks[i];
	if (stage == 0) {
		__builtin_prefetch(s);
		return;
	}
	const struct sim_pt *m = &e->hosts[s->host].eh;
	/* for writing (the deletion clears a slot); harmless for one killed early (its aux
	 * still holds the position) or a host without an ehash (cap 0: not read) */
	if (m->cap) {
		__builtin_prefetch(sim_pt_line(m, s->aux), 1);
		/* its page's bucket too, in case the deletion empties the page (the bucket
		 * then loses it) */
		__builtin_prefetch(sim_eh_home(&m->pages, s->phash), 1);
	}
}

void sim_tw_expire(struct sim_eng *e, uint32_t i, bool killed)
{
	struct sim_sock *s = &e->socks[i];
	if (s->state == SOCK_TW) {
		struct sim_thost *h = &e->hosts[s->host];
		if (killed)
			e->cnt[h->node].tw_killed++;
		else
			e->cnt[h->node].tw++;
		if (h->eh_on)
			sim_pt_del(&h->eh, s->aux, s->phash);
		if (s->dest)
			dest_unhold(h, s);
		tw_count_dec(e, h);
	}
	sock_free(e, i);
}

static struct tw_peer_ts *peer_get(struct sim_eng *e, struct sim_thost *h, uint32_t addr,
				   bool create)
{
	uint32_t hash = sim_key_hash(addr), where;
	uint32_t v = sim_eh_find(&h->peers, h->peer, sizeof(*h->peer), addr, hash, &where);
	if (v != UINT32_MAX)
		return &h->peer[v].ts;
	if (!create)
		return NULL;
	if (h->npeer == h->peer_cap) {
		uint32_t ncap = h->peer_cap ? h->peer_cap * 2 : 16;
		struct sim_peer *n = realloc(h->peer, (size_t)ncap * sizeof(*n));
		if (!n) {
			e->err = -ENOMEM;
			return NULL;
		}
		h->peer = n;
		h->peer_cap = ncap;
	}
	if (sim_eh_put_at(&h->peers, where, hash, h->npeer) < 0) {
		e->err = -ENOMEM;
		return NULL;
	}
	h->peer[h->npeer] = (struct sim_peer){ .addr = addr };
	return &h->peer[h->npeer++].ts;
}

static int dest_get(struct sim_eng *e, struct sim_thost *h, uint32_t laddr, uint32_t raddr,
		    uint16_t rport)
{
	struct sim_dest *d;
	if (h->ndests && h->dests[h->last_dest].laddr == laddr &&
	    h->dests[h->last_dest].raddr == raddr && h->dests[h->last_dest].rport == rport)
		return (int)h->last_dest;
	for (uint32_t i = 0; i < h->ndests; i++) {
		d = &h->dests[i];
		if (d->laddr == laddr && d->raddr == raddr && d->rport == rport) {
			h->last_dest = i;
			return (int)i;
		}
	}
	if (h->ndests == h->dest_cap) {
		uint32_t ncap = h->dest_cap ? h->dest_cap * 2 : 4;
		struct sim_dest *n = aligned_alloc(64, (size_t)ncap * sizeof(*n));
		if (!n) {
			e->err = -ENOMEM;
			return -1;
		}
		if (h->ndests)
			memcpy(n, h->dests, (size_t)h->ndests * sizeof(*n));
		free(h->dests);
		h->dests = n;
		h->dest_cap = ncap;
	}
	d = &h->dests[h->ndests];
	d->held = calloc(1024, sizeof(uint64_t));
	if (!d->held) {
		e->err = -ENOMEM;
		return -1;
	}
	memset(d->full, 0, sizeof(d->full));
	d->laddr = laddr;
	d->raddr = raddr;
	d->rport = rport;
	d->used = 0;
	d->usable = tw_ports_usable(h->p, h->lo, h->hi, NULL); /* §3.3 per destination */
	d->ts_off = tw_ts_offset(h->p, &h->ts, laddr, 0, raddr, 0);
	d->port_epoch = -1;
	d->port_off = 0;
	d->peer_host = SIM_NONE;
	h->last_dest = h->ndests;
	return (int)h->ndests++;
}

struct pctx {
	struct sim_eng *e;
	struct sim_thost *h;
	uint32_t lip, raddr;
	uint16_t rport;
	struct tw_reuse_req req;
	uint32_t takeover;
	const uint64_t *held;
};

/* §2.1 check_established for one candidate port */
static int port_ok(void *arg, uint16_t port)
{
	struct pctx *c = arg;
	const struct sim_sock *s;
	struct tw_reuse_tw tw;
	uint32_t v, r = (uint32_t)(port - c->h->lo);
	uint64_t pk;
	unsigned slot;
	/* the destination's held bits are exact for ports in the range: a clear bit means no
	 * socket has this 4-tuple, without touching the hash table */
	if (port >= c->h->lo && port <= c->h->hi && !((c->held[r >> 6] >> (r & 63)) & 1))
		return 1;
	slot = sim_pt_split(ehkey(c->lip, port, c->raddr, c->rport), &pk);
	v = sim_pt_find(&c->h->eh, pk, slot, sim_key_hash(pk), NULL);
	if (v == UINT32_MAX)
		return 1;
	s = &c->e->socks[v];
	if (s->state != SOCK_TW)
		return 0; /* a live socket owns the 4-tuple */
	tw.ts_recent_stamp_s = s->ts_stamp_s;
	tw.entry_ms = (s->t - TW_TIMEWAIT_LEN_NS) / 1000000 + 100000; /* as now_ms() */
	tw.fin_wait2_substate = false;
	tw.loopback = false;
	tw.snd_nxt = s->snd_nxt;
	if (!tw_reuse_unique(c->h->p, &tw, &c->req, NULL))
		return 0;
	c->takeover = v;
	return 1;
}

static void connect_fail(struct sim_eng *e, int node, enum SIM_ERR err)
{
	cnt(e, node)->connect_errors[err]++;
	if (e->node[node].kind == SIM_NODE_CLIENT && e->res->first_failure_ns < 0)
		e->res->first_failure_ns = e->now;
}

/* §3.1: connect()'s port offset toward d (tw_port_offset), kept per destination until the
 * era's salt epoch changes */
static uint64_t port_offset(const struct sim_eng *e, const struct sim_thost *h,
			    struct sim_dest *d)
{
	int64_t epoch = tw_port_offset_epoch(h->p, e->now);
	if (d->port_epoch != epoch) {
		d->port_epoch = epoch;
		d->port_off = tw_port_offset_salted(h->ts.secret, d->laddr, d->raddr, d->rport,
						    epoch);
	}
	return d->port_off;
}

/* The candidates a failing search examines: every port of both passes (§3.3), the scan
 * length of the era (rounded down to even on the parity eras, §3.2 C-E). */
static uint32_t full_scan(const struct sim_thost *h)
{
	uint32_t n = (uint32_t)h->hi - h->lo + 1;
	return h->p->port_alg >= TW_PORT_ALG_HINT_PARITY && n > 1 ? n & ~1u : n;
}

/*
 * port_select = app: the application's cursor over the range toward this destination; it
 * bind()s that exact port with SO_REUSEADDR (every socket of its own has it, so the bind
 * succeeds) and connect()s: the §2.3 bound-port path, one established-hash check. A connect
 * that fails (a live socket, or a TIME-WAIT without timestamps, on that 4-tuple) moves the
 * cursor on and is counted; after a whole lap of failures, EADDRNOTAVAIL.
 */
static int pick_app(struct sim_eng *e, struct sim_thost *h, int node, struct pctx *c,
		    struct sim_dest *d, uint16_t *port, uint32_t *probes)
{
	uint32_t span = (uint32_t)h->hi - h->lo + 1;
	c->req.port_bound = true;
	for (uint32_t t = 0; t < span; t++) {
		uint32_t r = (uint32_t)(d->app_cursor % span);
		d->app_cursor = r + 1 == span ? 0 : r + 1;
		*port = (uint16_t)(h->lo + r);
		(*probes)++;
		if (port_ok(c, *port))
			return 0;
		cnt(e, node)->port_select_fail++;
	}
	return -EADDRNOTAVAIL;
}

static int pick_port(struct sim_eng *e, struct sim_thost *h, const struct sim_node *n, int node,
		     struct pctx *c, struct sim_dest *d, uint16_t *port, uint32_t *probes)
{
	*probes = 0; /* the bound-port paths examine no candidate (§2.3) */
	if (n->port_select == SIM_PORTSEL_APP)
		return pick_app(e, h, node, c, d, port, probes);
	if (n->bind_port) {
		/* bind(port) then connect(): twp == NULL, the §2.3 bypass applies */
		uint32_t span = (uint32_t)h->hi - h->lo + 1;
		*port = (uint16_t)(h->lo + h->bind_next++ % span);
		c->req.port_bound = true;
		return port_ok(c, *port) ? 0 : -EADDRNOTAVAIL;
	}
	if (d->used >= d->usable && !h->reusable) {
		*probes = full_scan(h); /* both passes fail: every port is held */
		return -EADDRNOTAVAIL;
	}
	if (!h->ps.perturb && h->ps_size) {
		uint32_t sz = h->ps_size;
		h->ps.perturb = malloc(sz * sizeof(uint32_t));
		if (!h->ps.perturb) {
			e->err = -ENOMEM;
			return -ENOMEM;
		}
		for (uint32_t i = 0; i < sz; i++) /* §3.2 D: filled randomly */
			h->ps.perturb[i] = (uint32_t)sim_rand(e);
	}
	uint64_t off = port_offset(e, h, d);
	/* the draw for the 2022 jump, read where the era uses it: elsewhere the generator just
	 * steps (the same sequence either way) */
	uint32_t rnd = tw_portsel_uses_rnd(h->p) ? (uint32_t)sim_rand(e) : (sim_rand_skip(e), 0);
	/* where no TIME-WAIT can be taken over, the bitmap is exact: the first candidate is
	 * most often free */
	if (!h->reusable && tw_port_select_first(h->p, &h->ps, h->lo, h->hi, off, rnd, d->held,
						 port)) {
		*probes = 1;
		return 0;
	}
	struct tw_portsel_req r = {
		.lo = h->lo, .hi = h->hi, .ok = port_ok, .arg = c,
		.port_offset = off,
		.rnd = rnd,
		/* exact when no TIME-WAIT can be taken over: lets the walk skip held ports */
		.held = h->reusable ? NULL : d->held,
		.held_exact = true, /* port_ok accepts every in-range port whose bit is clear */
		.full = { d->full[0], d->full[1] },
	};
	return tw_port_select(h->p, &h->ps, &r, port, probes);
}

/* connect()'s kernel CPU on host h of node n (model/portsearch.h): counted for the node,
 * and the host's core is busy that long after now (or after what it was already doing). */
static void connect_price(struct sim_eng *e, struct sim_thost *h, const struct sim_node *n,
			  int node, uint32_t probes)
{
	uint64_t cost = tw_connect_cost_ns(probes, n->connect_probe_ns, n->connect_base_ns);
	if (probes != e->pr_v[node]) {
		sim_probes_flush(e, node);
		e->pr_v[node] = probes;
	}
	e->pr_n[node]++;
	e->pr_sum[node] += probes;
	h->cpu_free = (h->cpu_free > e->now ? h->cpu_free : e->now) + (int64_t)cost;
}

static inline __attribute__((always_inline)) void syn_send(struct sim_eng *e, uint32_t ci,
							 bool first);

int sim_connect(struct sim_eng *e, int node, uint32_t hidx, int64_t start)
{
	struct sim_nrt *nr = &e->node[node];
	const struct sim_node *n = nr->n;
	struct sim_thost *h = &e->hosts[hidx];
	const struct sim_nrt *tgt = &e->node[nr->target];
	uint32_t raddr, laddr, lip, si, ci, isn;
	uint16_t rport, lport = 0;
	struct sim_sock *s;
	struct sim_conn *c;
	int di;

	/* the address connect() is given: the L4 balancer's VIP, else the target itself */
	/* each host round robin over the target's IPs, then its ports: its k-th connect goes to
	 * IP k % ips, port (k / ips) % ports, counted without dividing. Per host, not per node: a
	 * node's hosts take arrivals in turn, and one counter for all of them would send 4 hosts
	 * over 2 IPs each to one IP only. */
	const struct sim_nrt *lb = sim_vip_lb(e, nr);
	if (lb) {
		raddr = lb->addr0 + h->rr_ip;
		rport = 80;
		if (++h->rr_ip >= lb->n->ips)
			h->rr_ip = 0;
	} else {
		raddr = tgt->addr0 + h->rr_ip;
		rport = (uint16_t)(80 + h->rr_port);
		if (++h->rr_ip >= tgt->n->ips) {
			h->rr_ip = 0;
			if (++h->rr_port >= tgt->n->ports)
				h->rr_port = 0;
		}
	}
	lip = h->next_ip; /* round robin over the host's source IPs */
	if (++h->next_ip >= h->nips)
		h->next_ip = 0;
	laddr = h->addr0 + lip;
	di = nr->one_dest && h->ndests ? 0 : dest_get(e, h, laddr, raddr, rport);
	if (di < 0)
		return -ENOMEM;
	/* what port_ok needs, only where it can be called (a host that may take a TIME-WAIT
	 * over); the others find their ports in the destination's bitmap alone */
	struct pctx pc;
	pc.takeover = SIM_NONE;
	if (h->reusable)
		pc = (struct pctx){ .e = e, .h = h, .lip = lip, .raddr = raddr, .rport = rport,
				    .takeover = SIM_NONE, .held = h->dests[di].held,
				    .req = { .reuse = h->reuse, .delay_ms = n->tw_reuse_delay_ms,
					     .now_ms = now_ms(e) } };
	uint32_t probes;
	int prc = pick_port(e, h, n, node, &pc, &h->dests[di], &lport, &probes);
	connect_price(e, h, n, node, probes);
	if (prc < 0) {
		connect_fail(e, node, SIM_ERR_EADDRNOTAVAIL); /* §3.3 */
		return -EADDRNOTAVAIL;
	}
	uint64_t key = ehkey(lip, lport, raddr, rport);
	if (pc.takeover != SIM_NONE) {
		/* §2.3: TWRecycled, the TIME-WAIT dies, the new ISN continues its sequence */
		isn = tw_reuse_isn(e->socks[pc.takeover].snd_nxt);
		tw_kill(e, pc.takeover);
		cnt(e, node)->tw_recycled++;
	} else {
		/* a new ISN (tw_isn) over the 4-tuple: the ehash key with the local address's
		 * low byte for lip's, ehkey(laddr, ...) */
		uint64_t tuple = key ^ ((uint64_t)((laddr ^ lip) & 0xffu) << 32);
		isn = tw_isn(h->ts.secret, tuple, e->now);
	}
	/* a host with an ehash keeps the socket in the pool, where the ehash points; the
	 * others keep it in the connection */
	si = h->eh_on ? sock_alloc(e) : SIM_NONE;
	ci = conn_alloc(e);
	if ((h->eh_on && si == SIM_NONE) || ci == SIM_NONE)
		return -ENOMEM;
	c = &e->conns[ci];
	s = h->eh_on ? &e->socks[si] : &c->cs;
	*s = (struct sim_sock){ .key = key, .host = hidx, .snd_nxt = isn + 1, .t = e->now,
				.dest = (uint16_t)(di + 1), .state = SOCK_SYN_SENT };
	if (h->eh_on) {
		uint64_t pk;
		unsigned slot = sim_pt_split(key, &pk);
		s->phash = sim_key_hash(pk);
		if (sim_pt_put(&h->eh, pk, slot, s->phash, si, &s->aux) < 0) {
			e->err = -ENOMEM;
			return -ENOMEM;
		}
	}
	h->dests[di].used++;
	if ((uint32_t)lport - h->lo <= (uint32_t)(h->hi - h->lo)) /* in the range */
		dest_hold(&h->dests[di], (uint32_t)lport - h->lo);
	/* field by field (a struct literal compiles to rep stos, slow to start), and only those
	 * read before they are written: the SYN's send sets tarrive and the server's key, the
	 * translation the mappings it counts in nmaps */
	c->csock = si;
	c->ssock = SIM_NONE;
	c->chost = hidx;
	c->shost = nr->target_host;
	c->node = (uint8_t)node;
	c->syn0 = e->now; /* the SYN leaves now; a wait for the core counts in the latency */
	c->qwait = sim_qwait_enc(e->now - start);
	c->saddr = laddr;
	c->daddr = raddr;
	c->sport = lport;
	c->dport = rport;
	c->attempt = 0;
	c->strip = 0;
	c->nmaps = SIM_NMAPS_NONE; /* not translated yet */
	c->ts_base = tw_ts_base(&h->ts, tw_ts_offset_by_addrs(h->p, &h->ts)
						? h->dests[di].ts_off
						: tw_ts_offset(h->p, &h->ts, laddr, lport, raddr,
							       rport));
	c->ts_rate = (uint16_t)tw_ts_rate(h->p, &h->ts);
	cnt(e, node)->active_opens++;
	syn_send(e, ci, true);
	return 0;
}

/* A NAT gateway or FULLNAT balancer picks a public (IP, port) for a new flow. Ports are held
 * while the flow lives and mapping_timeout after it ends. Returns 0 or -EADDRNOTAVAIL. */
static int xlate_alloc(struct sim_eng *e, struct sim_nrt *x, uint32_t in_addr, uint16_t in_port,
		       uint8_t *ipi, uint16_t *port)
{
	uint32_t ip = (uint32_t)(tw_hash64(in_addr) % x->n->ips); /* sticky per inside host */
	int64_t *busy = x->busy + (size_t)ip * 65536;
	uint32_t p = x->seq_port;
	*ipi = (uint8_t)ip;
	if (x->kind == SIM_NODE_NAT && x->n->mapping == SIM_NAT_PRESERVE) {
		if (busy[in_port] <= e->now && in_port >= 1024)
			goto take_in;
		p = in_port;
	} else if (x->kind == SIM_NODE_NAT && x->n->mapping == SIM_NAT_RANDOM) {
		for (int i = 0; i < 16; i++) {
			uint32_t q = 1024 + (uint32_t)(sim_rand(e) % 64512);
			if (busy[q] <= e->now) {
				p = q;
				goto take;
			}
		}
	}
	for (uint32_t i = 0; i < 64512; i++, p++) {
		if (p < 1024 || p > 65535)
			p = 1024;
		if (busy[p] <= e->now)
			goto take;
	}
	return -EADDRNOTAVAIL;
take_in:
	p = in_port;
take:
	busy[p] = INT64_MAX;
	x->seq_port = p + 1;
	*port = (uint16_t)p;
	return 0;
}

/* A cloud gateway's flow ends (natgw_unmap), kept out of line: the close path that inlines
 * xlate_release stays as short as it was for paths without a gateway. */
static __attribute__((noinline)) void gw_unmap(struct natgw *g, uint32_t tab, uint16_t port,
					       int64_t now, bool fin)
{
	natgw_unmap(g, tab, port, now, fin);
}

/* c's flow ends at the translating hops; fin: by a FIN exchange (a cloud gateway then holds
 * the port its tcp_time_wait_timeout; an RST or a flow that never opened frees it at once) */
static void xlate_release(struct sim_eng *e, struct sim_conn *c, bool fin)
{
	if (c->nmaps == SIM_NMAPS_NONE)
		return;
	for (int i = 0; i < c->nmaps; i++) {
		struct sim_nrt *x = &e->node[c->map_node[i]];
		if (e->gw[c->map_node[i]]) {
			gw_unmap(e->gw[c->map_node[i]], c->map_gwt, c->map_port[i], e->now, fin);
			continue;
		}
		x->busy[(size_t)c->map_ip[i] * 65536 + c->map_port[i]] =
			e->now + x->n->mapping_timeout_ns;
	}
}

/* Rewrite the SYN along the path: NAT source, FULLNAT source + backend, timestamp strip. */
static int translate(struct sim_eng *e, struct sim_conn *c)
{
	const struct sim_nrt *nr = &e->node[c->node];
	const struct sim_nrt *tgt = &e->node[nr->target];
	/* the SYN as the client sent it: a retransmission after a later hop found no port
	 * starts again from here, not from what the earlier hops made of it */
	uint32_t saddr = c->saddr, daddr = c->daddr;
	uint16_t sport = c->sport, dport = c->dport;
	uint8_t strip = c->strip;
	c->nmaps = 0;
	for (int i = 0; i < nr->nhops; i++) {
		struct sim_nrt *x = &e->node[nr->hops[i]];
		uint8_t ipi;
		uint16_t port;
		int rc;
		if (e->gw[nr->hops[i]]) {
			/* a cloud gateway: its own limits (natgw.h) decide, and count the drop */
			enum NATGW_DROP why;
			uint32_t tab = 0;
			rc = natgw_map(e->gw[nr->hops[i]], c->saddr, c->daddr, c->dport, e->now, &ipi,
				       &port, &tab, &why);
			if (rc == -ENOMEM)
				e->err = -ENOMEM;
			c->map_gwt = (uint16_t)tab;
		} else {
			rc = xlate_alloc(e, x, c->saddr, c->sport, &ipi, &port);
		}
		if (rc < 0) {
			cnt(e, nr->hops[i])->nat_port_fail++;
			xlate_release(e, c, false);
			c->nmaps = SIM_NMAPS_NONE;
			c->saddr = saddr;
			c->sport = sport;
			c->daddr = daddr;
			c->dport = dport;
			c->strip = strip;
			return -EADDRNOTAVAIL;
		}
		c->map_node[c->nmaps] = (uint8_t)nr->hops[i];
		c->map_ip[c->nmaps] = ipi;
		c->map_port[c->nmaps++] = port;
		c->saddr = x->addr0 + ipi;
		c->sport = port;
		if (x->kind == SIM_NODE_L4LB) {
			uint32_t k = x->rr_backend++;
			c->daddr = tgt->addr0 + k % tgt->n->ips;
			c->dport = (uint16_t)(80 + (k / tgt->n->ips) % tgt->n->ports);
			if (x->n->strip_timestamps)
				c->strip = 1;
		}
	}
	return 0;
}

/* The TSval host h's socket with timestamp offset off sends now. */
static uint32_t sock_tsval(const struct sim_eng *e, uint32_t h, uint32_t off)
{
	return tw_ts_value(e->hosts[h].p, &e->hosts[h].ts, e->now, off);
}

/* The TSval c's connecting end sends now. */
static uint32_t conn_tsval(const struct sim_eng *e, const struct sim_conn *c)
{
	return tw_ts_value_from(c->ts_base, c->ts_rate, e->now); /* = sock_tsval, host unread */
}

static void syn_lost(struct sim_eng *e, uint32_t ci)
{
	struct sim_conn *c = &e->conns[ci];
	int node = (int)c->node;
	/* §10: the next retransmission, or ETIMEDOUT when the schedule is spent */
	if (c->attempt < e->syn_n[node]) {
		if (sim_heap_push(&e->heap, c->syn0 + e->syn_at[node][c->attempt], SIM_EV_SYN, ci))
			e->err = -ENOMEM;
		c->attempt++;
	} else if (sim_heap_push(&e->heap, c->syn0 + e->syn_fail[node], SIM_EV_FAIL, ci)) {
		e->err = -ENOMEM;
	}
	sim_src_heap(e);
}

/*
 * The L7 balancer accepted the connection but found no source port toward its backend: it
 * closes the client's connection with SO_LINGER {1,0} (§7). RST, no TIME-WAIT on either
 * end; both leave ESTABLISHED for CLOSE (EstabResets), the balancer counts TCPAbortOnData,
 * and the client's exchange fails with ECONNRESET instead of completing.
 */
static void l7_reset(struct sim_eng *e, uint32_t ci)
{
	struct sim_conn *c = &e->conns[ci];
	int lb = e->node[c->node].target;
	cnt(e, lb)->abort_on_data++;
	cnt(e, lb)->estab_resets++;
	cnt(e, (int)c->node)->estab_resets++;
	connect_fail(e, (int)c->node, SIM_ERR_ECONNRESET);
	sock_release(e, c->ssock);
	csock_release(e, c);
	xlate_release(e, c, false);
	conn_free(e, ci);
}

/* The accepting socket's TSval offset (§6), kept per connecting destination on eras where
 * ports do not enter it. */
static uint32_t accept_ts_off(struct sim_eng *e, const struct sim_conn *c,
			      const struct sim_sock *cs, uint32_t shost)
{
	const struct sim_thost *sh = &e->hosts[shost];
	struct sim_dest *d;
	if (!cs->dest || !tw_ts_offset_by_addrs(sh->p, &sh->ts))
		return tw_ts_offset(sh->p, &sh->ts, c->daddr, c->dport, c->saddr, c->sport);
	d = &e->hosts[cs->host].dests[cs->dest - 1];
	if (d->peer_host != shost || d->peer_laddr != c->daddr || d->peer_raddr != c->saddr) {
		d->peer_host = shost;
		d->peer_laddr = c->daddr;
		d->peer_raddr = c->saddr;
		d->peer_ts_off = tw_ts_offset(sh->p, &sh->ts, c->daddr, 0, c->saddr, 0);
	}
	return d->peer_ts_off;
}

/* where: the empty ehash position sim_syn found for the 4-tuple (page key pk, slot),
 * UINT32_MAX if unknown */
static void established(struct sim_eng *e, uint32_t ci, uint32_t shost, bool ts, uint64_t pk,
			unsigned slot, uint32_t where)
{
	struct sim_conn *c = &e->conns[ci];
	struct sim_nrt *nr = &e->node[c->node];
	struct sim_thost *sh = &e->hosts[shost];
	uint32_t si = sock_alloc(e);
	struct sim_sock *s, *cs;
	if (si == SIM_NONE)
		return;
	c = &e->conns[ci];
	cs = sim_conn_csock(e->socks, c);
	s = &e->socks[si];
	*s = (struct sim_sock){
		.key = c->skey,
		.host = shost, .rcv_nxt = cs->snd_nxt,
		/* the accepting end's new ISN (tw_isn), over the peer's address and port */
		.snd_nxt = tw_isn(sh->ts.secret, (uint64_t)c->saddr << 32 | c->sport, e->now) + 1,
		.phash = c->skey_hash, .t = e->now, .state = SOCK_ESTAB,
		.flags = ts ? SOCK_F_TS : 0 };
	if (sim_pt_put_at(&sh->eh, where, pk, slot, c->skey_hash, si, &s->aux) < 0) {
		e->err = -ENOMEM;
		return;
	}
	cs->state = SOCK_ESTAB;
	cs->flags = s->flags;
	cs->rcv_nxt = s->snd_nxt;
	c->ssock = si;
	c->shost = shost;
	cnt(e, nr->target)->passive_opens++;
	/* an L7 balancer opens its own connection to the backend (new 4-tuple, its kernel);
	 * with no source port left it resets the client, as the lab's relay does */
	if (e->node[nr->target].kind == SIM_NODE_L7LB &&
	    sim_connect(e, nr->target, shost, e->now) == -EADDRNOTAVAIL) {
		l7_reset(e, ci);
		return;
	}
	c = &e->conns[ci]; /* that connect may have grown the pool */
	cnt(e, (int)c->node)->connections_ok++;
	e->group_est[c->node]++;
	e->group_est[nr->target]++;
	if (nr->kind == SIM_NODE_CLIENT) {
		int64_t lat = e->now + nr->half_rtt - c->syn0 + sim_qwait_dec(c->qwait);
		if (lat != e->lat_v) {
			sim_lat_flush(e);
			e->lat_v = lat;
		}
		e->lat_n++;
	}
	/* now is the SYN's arrival, half an RTT after it left; the close comes after the
	 * requests, and syn0 now holds that time */
	c->syn0 = e->now + nr->close_after;
	sim_connq_push(e, nr->src0 + 2, &nr->close_q, ci, c->syn0);
}

/* sim_syn_send's body, inlined into connect for the first SYN of every connection (first:
 * no retransmission, not translated yet) */
static inline __attribute__((always_inline)) void syn_send(struct sim_eng *e, uint32_t ci,
							 bool first)
{
	struct sim_conn *c = &e->conns[ci];
	struct sim_nrt *nr = &e->node[c->node];
	const struct sim_thost *sh = &e->hosts[nr->target_host];
	if (!first && c->attempt > 0)
		cnt(e, (int)c->node)->syn_retrans++;
	if (first || c->nmaps == SIM_NMAPS_NONE) {
		if (!nr->nhops) /* straight to the target: nothing rewrites the SYN */
			c->nmaps = 0;
		else if (translate(e, c) < 0) {
			syn_lost(e, ci); /* no public port at the NAT: the SYN goes nowhere */
			return;
		}
		/* the 4-tuple as the server will key it: translated once, then fixed */
		uint64_t pk;
		c->skey = ehkey(c->daddr - sh->addr0, c->dport, c->saddr, c->sport);
		sim_pt_split(c->skey, &pk);
		c->skey_hash = sim_key_hash(pk);
	}
	/* the server looks this 4-tuple's page up when the SYN lands, after a fleet's turn
	 * has passed through the L1 cache: fetched now (sim_pt_prefetch) */
	sim_pt_prefetch(&sh->eh, c->skey_hash);
	c->tarrive = e->now + nr->half_rtt;
	sim_connq_push(e, nr->src0 + 1, &nr->syn_q, ci, c->tarrive);
}

void sim_syn_send(struct sim_eng *e, uint32_t ci)
{
	syn_send(e, ci, false);
}

/* Whether c's SYN carries a timestamp when it lands (a hop may strip it). */
static bool syn_has_ts(const struct sim_eng *e, const struct sim_conn *c)
{
	return e->hosts[c->chost].ts.timestamps != 0 && !c->strip;
}

void sim_syn(struct sim_eng *e, uint32_t ci)
{
	struct sim_conn *c = &e->conns[ci];
	int node = (int)c->node;
	const struct sim_nrt *nr = &e->node[node];
	struct sim_thost *sh = &e->hosts[nr->target_host];
	uint32_t v, where;
	uint64_t pk;
	unsigned slot = sim_pt_split(c->skey, &pk);

	v = sim_pt_find(&sh->eh, pk, slot, c->skey_hash, &where);
	if (v != UINT32_MAX) {
		struct sim_sock *tw = &e->socks[v], *cs = sim_conn_csock(e->socks, c);
		if (tw->state != SOCK_TW) {
			syn_lost(e, ci); /* the 4-tuple is a live connection (NAT collision) */
			return;
		}
		/* the SYN's TSval matters only to a TIME-WAIT it meets or to tw_recycle */
		bool has_ts = syn_has_ts(e, c);
		struct tw_tw_seg seg = { .rcv_nxt = tw->rcv_nxt, .ts_recent = tw->ts_recent,
					 .ts_recent_stamp_s = tw->ts_stamp_s };
		enum TW_SYN_VERDICT vd = tw_timewait_syn(&seg, has_ts, conn_tsval(e, c),
							  cs->snd_nxt - 1, now_s(e));
		if (vd != TW_SYN_ACCEPT) {
			/* §5.1: ACK, the client's RST kills the TIME-WAIT (rfc1337=0), SYN
			 * retried */
			cnt(e, nr->target)->tw_ack_rst++;
			if (vd == TW_SYN_ACK_PAWS)
				cnt(e, nr->target)->paws_tw++;
			if (tw_timewait_rst_kills(e->node[nr->target].n->rfc1337))
				tw_kill(e, v);
			syn_lost(e, ci);
			return;
		}
		/* §5.1: the TIME-WAIT is killed and the listener takes the SYN, with no
		 * tw_recycle check */
		cnt(e, nr->target)->tw_syn_accepted++;
		tw_kill(e, v);
		where = UINT32_MAX; /* the table changed */
	} else if (sh->recycle) {
		bool has_ts = syn_has_ts(e, c);
		const struct tw_peer_ts *pe = peer_get(e, sh, c->saddr, false);
		if (tw_recycle_syn_drop(sh->p, pe, has_ts, conn_tsval(e, c), now_s(e))) {
			cnt(e, nr->target)->paws_passive++; /* §4.3: dropped silently */
			syn_lost(e, ci);
			return;
		}
	}
	/* one call: established is inlined here */
	established(e, ci, nr->target_host, nr->ts_neg[c->strip != 0], pk, slot, where);
}

void sim_conn_fail(struct sim_eng *e, uint32_t ci)
{
	struct sim_conn *c = &e->conns[ci];
	connect_fail(e, (int)c->node, SIM_ERR_ETIMEDOUT); /* §10 */
	xlate_release(e, c, false);
	csock_release(e, c);
	conn_free(e, ci);
}

/* The active closer's socket after its FIN exchange: TIME-WAIT, overflow, or nothing. */
static inline __attribute__((always_inline)) void enter_tw(struct sim_eng *e, uint32_t xi,
							 uint32_t peer_tsval)
{
	struct sim_sock *x = &e->socks[xi];
	struct sim_thost *h = &e->hosts[x->host];
	bool ts = x->flags & SOCK_F_TS;
	struct tw_enter_in in = { .ts_negotiated = ts, .tw_recycle = h->recycle,
				  .rto_ns = h->rto_ns, .tw_count = h->tw_count,
				  .max_tw_buckets = h->max_tw_buckets };
	struct tw_enter_out out;
	int q;
	if (h->recycle && ts) {
		/* §4.1: remember the peer's timestamp; the cache always has the entry here */
		struct tw_peer_ts *pe = peer_get(e, h, sock_raddr(x), true);
		if (pe)
			in.recycle_ok = tw_recycle_remember(pe, peer_tsval, now_s(e), now_s(e));
	}
	tw_timewait_enter(h->p, &in, &out);
	if (out.what == TW_ENTER_OVERFLOW) {
		cnt(e, h->node)->tw_overflow++; /* §1.4 */
		sock_release(e, xi);
		return;
	}
	x->state = SOCK_TW;
	x->ts_recent = ts ? peer_tsval : 0;
	x->ts_stamp_s = ts ? now_s(e) : 0;
	if (out.recycled) {
		q = h->tw_fifo_rec;
		x->t = e->now + out.timeout_ns;
	} else {
		q = h->tw_fifo60;
		/* §1.3: <= 4.0 reaps on a 7.5 s wheel; phase from the simulated clock */
		x->t = e->now + tw_timer_lifetime(h->p, out.timeout_ns,
						  e->now % (TW_TIMEWAIT_LEN_NS / 8));
	}
	sim_twq_push(e, q, &e->twq[q].q, xi, x->t);
	e->twq[q].killed = out.counts_killed;
	tw_count_inc(e, h);
}

/*
 * The connection sat idle longer than the idle timeout of a cloud gateway on its path: the
 * gateway removed the flow, and the close (the pool's next use of the connection, in
 * practice) meets no mapping. Gateways that answer with RST make it ECONNRESET (EstabResets
 * on the client); the others drop it silently, and the client's retransmissions end in
 * ETIMEDOUT. Neither end keeps a TIME-WAIT; the server's socket is let go here (a real one
 * stays ESTABLISHED until its own timeouts).
 */
static __attribute__((noinline, cold)) void gw_idle_cut(struct sim_eng *e, uint32_t ci)
{
	struct sim_conn *c = &e->conns[ci];
	const struct sim_nrt *nr = &e->node[c->node];
	struct natgw *g = e->gw[nr->gw_cut];
	e->group_est[c->node]--;
	e->group_est[nr->target]--;
	g->drops[NATGW_DROP_IDLE]++;
	if (g->cfg.idle_rst)
		cnt(e, (int)c->node)->estab_resets++;
	connect_fail(e, (int)c->node, g->cfg.idle_rst ? SIM_ERR_ECONNRESET : SIM_ERR_ETIMEDOUT);
	sock_release(e, c->ssock);
	csock_release(e, c);
	xlate_release(e, c, false);
	conn_free(e, ci);
}

void sim_close(struct sim_eng *e, uint32_t ci)
{
	struct sim_conn *c = &e->conns[ci];
	const struct sim_nrt *nr = &e->node[c->node];
	if (__builtin_expect(nr->gw_cut >= 0, 0)) {
		gw_idle_cut(e, ci);
		return;
	}
	struct sim_sock *cs = sim_conn_csock(e->socks, c), *ss = &e->socks[c->ssock];
	uint32_t c_end = cs->snd_nxt + nr->req_seq; /* data + FIN */
	uint32_t s_end = ss->snd_nxt + nr->resp_seq;
	bool client_closes = nr->client_closes;

	e->group_est[c->node]--;
	e->group_est[nr->target]--;
	cs->snd_nxt = c_end;
	cs->rcv_nxt = s_end;
	ss->snd_nxt = s_end;
	ss->rcv_nxt = c_end;
	if (nr->linger0) {
		/* §7: RST, TCPAbortOnData on the closer, no TIME-WAIT; both ends leave
		 * ESTABLISHED for CLOSE, so both count EstabResets (seen on 6.18, see
		 * docs/kernel-tw-spec-notes.md) */
		int closer_node = client_closes ? (int)c->node : nr->target;
		int other_node = client_closes ? nr->target : (int)c->node;
		cnt(e, closer_node)->abort_on_data++;
		cnt(e, closer_node)->estab_resets++;
		cnt(e, other_node)->estab_resets++;
		if (client_closes)
			csock_release(e, c);
		else
			sock_release(e, c->ssock);
	} else if (client_closes) {
		/* the active closer remembers its peer's last TSval: the accepting end's offset
		 * is needed only now, when the client closes */
		uint32_t off = accept_ts_off(e, c, cs, c->shost), xi = csock_take(e, c);
		if (xi == SIM_NONE)
			return;
		enter_tw(e, xi, sock_tsval(e, c->shost, off));
	} else {
		enter_tw(e, c->ssock, conn_tsval(e, c));
	}
	/* the passive closer goes LAST_ACK -> CLOSE and is gone (§1.1) */
	if (client_closes)
		sock_release(e, c->ssock);
	else
		csock_release(e, c);
	xlate_release(e, c, !nr->linger0);
	conn_free(e, ci);
}
