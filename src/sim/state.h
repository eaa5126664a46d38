/*
 * state — the state of one sim_run() that the event loop (engine.c, engine.h) and the network
 * paths (net.c, net.h) share: TCP hosts, translating hops, connections, socket records and
 * the event sources, with the small inline helpers on them. Private to src/sim (the API is
 * sim.h).
 *
 * Invariants: every socket record that is not free is in its host's ehash (its aux holding
 * its position there) when the host keeps one (eh_on), except TIME-WAIT records killed early
 * (state SOCK_DEAD), which wait in their FIFO to be freed. A host's tw_count equals its
 * records in state SOCK_TW. Simulated time never goes back.
 */
#ifndef TWKIT_SIM_STATE_H
#define TWKIT_SIM_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "model/portsel.h"
#include "model/recycle.h"
#include "model/tsclock.h"
#include "model/syn.h"
#include "sim/sim.h"
#include "sim/tables.h"

#define SIM_NONE UINT32_MAX

enum SOCK_STATE { SOCK_FREE, SOCK_SYN_SENT, SOCK_ESTAB, SOCK_TW, SOCK_DEAD };
#define SOCK_F_TS 1u       /* timestamps negotiated */

/* One endpoint: 48 bytes. A TIME-WAIT is one of these plus its ehash slot and FIFO entry. */
struct sim_sock {
	uint64_t key;      /* its 4-tuple as the host's ehash keys it (net.c: ehkey) */
	uint32_t host;
	uint32_t snd_nxt, rcv_nxt;
	uint32_t ts_recent, ts_stamp_s;
	uint32_t phash;    /* in a host's ehash: sim_key_hash of its page key (sim_pt_split) */
	int64_t t;         /* TIME-WAIT: expiry time; otherwise creation time */
	uint32_t aux;      /* in a host's ehash: its position there; free: free list link */
	uint16_t dest;     /* connecting side: index+1 of its destination, 0 if none */
	uint8_t state;
	uint8_t flags;
};
_Static_assert(sizeof(struct sim_sock) == 48, "a socket is 48 bytes");

/* One (local IP, remote IP, remote port) a host connects to: its port budget (§3.3). The
 * first line holds what a connect() and a close read (a fleet's many destinations are read
 * in turn, so each costs the lines it touches); the per-parity summaries fill the rest. */
struct sim_dest {
	uint32_t used;     /* sockets (live or TIME-WAIT) holding a port toward it */
	uint32_t usable;   /* ports the era's search can hand out */
	uint64_t *held;    /* bit (port - host lo): a socket holds the port toward it */
	int64_t port_epoch; /* port_off was computed for this 10 s epoch (-1: not yet) */
	union {
		uint64_t port_off;   /* connect()'s secret port offset toward it (§3.1) */
		uint64_t app_cursor; /* port_select = app: the next port (relative), as the
				      * application's cursor; the kernel's offset is unused */
	};
	uint32_t laddr, raddr;
	uint16_t rport;
	uint32_t ts_off;   /* the TSval offset toward it, on eras where ports do not enter it */
	/* the accepting host's TSval offset for its last connection from here, on eras where
	 * ports do not enter it (a NAT or balancer may change the addresses it sees) */
	uint32_t peer_host, peer_laddr, peer_raddr, peer_ts_off;
	uint64_t full[2][16]; /* per parity: bit w set when held[w]'s bits of it are all set */
} __attribute__((aligned(64)));
_Static_assert(sizeof(struct sim_dest) == 320, "a destination is five lines, one of them hot");

/* A peer's entry in a host's tw_recycle cache (§4.1), keyed by its address. */
struct sim_peer {
	uint64_t addr;     /* the key: sim_eh reads it first in the record */
	struct tw_peer_ts ts;
};

/* A machine that runs TCP: one per client in a group, one per l7lb and server node. Its
 * first two lines hold what a client's connect() and close read: a fleet's hosts take turns,
 * so each costs the lines it touches. */
struct sim_thost {
	/* line 0: all a close reads (dests, lo, hi), and most of what a connect() reads */
	const struct tw_profile *p;
	struct sim_dest *dests; /* 64-byte aligned */
	struct tw_ts_host ts;
	struct tw_portsel ps;
	uint32_t addr0;
	uint16_t lo, hi;
	/* line 1: the rest of a connect()'s */
	uint32_t next_ip, nips;
	bool reusable;         /* tcp_tw_reuse or bind() may take a TIME-WAIT over (§2.2) */
	bool eh_on;            /* keeps an ehash: it accepts, or its connects look 4-tuples up
				* (a pure client that cannot reuse finds its ports in the
				* destinations' bitmaps alone: nothing would read it) */
	uint32_t ndests, last_dest;
	uint32_t ps_size;      /* entries its perturb table needs (allocated on first use) */
	int reuse, recycle;
	int node;
	uint32_t bind_next;
	uint32_t rr_ip, rr_port; /* its destinations in turn: the target's IP, then its port */
	uint64_t tw_count;
	int tw_fifo60, tw_fifo_rec; /* which TIME-WAIT FIFOs it uses */
	int64_t rto_ns;             /* its node's rto and tcp_max_tw_buckets, read at each close */
	uint32_t max_tw_buckets;
	uint32_t dest_cap;
	struct sim_pt eh;      /* 4-tuple key (in the socket) -> socket index, by port */
	struct sim_eh peers;   /* peer address -> index in peer[] (tw_recycle cache, §4.1) */
	struct sim_peer *peer;
	uint32_t npeer, peer_cap;
	/* its connects' core (model/portsearch.h): busy until cpu_free; the client connects
	 * that arrive meanwhile wait in a ring of their intended start times */
	int64_t cpu_free;
	int64_t *backlog;
	uint32_t bl_head, bl_n;
} __attribute__((aligned(64)));
_Static_assert(offsetof(struct sim_thost, next_ip) == 64, "a host's hot fields fill two lines");

/* sim_conn.nmaps before the path is translated */
#define SIM_NMAPS_NONE 3

/* Connection in progress or established. */
struct sim_conn {
	uint32_t csock, ssock; /* csock SIM_NONE: the connecting end is cs below */
	uint32_t chost, shost;
	int64_t syn0;        /* first SYN, when connect() was called (latency is measured from
			      * here); once established, the close time */
	int64_t tarrive;     /* when the SYN in flight reaches the accepting host */
	uint32_t saddr, daddr; /* as the accepting host sees them */
	uint16_t sport, dport;
	uint16_t map_port[2];
	uint8_t map_node[2]; /* translating hops holding a mapping (0xff none) */
	uint8_t map_ip[2];
	uint8_t node;        /* connecting node (< SIM_MAX_NODES) */
	/* one byte: SYN retries are at most 16 (scenario.c), a hop strips timestamps or not,
	 * and a path has at most two translating hops */
	uint8_t attempt : 5;
	uint8_t strip : 1;   /* a hop strips timestamps */
	uint8_t nmaps : 2;   /* SIM_NMAPS_NONE: not translated yet */
	uint16_t qwait;      /* how long connect() waited for its host's core before it ran
			      * (sim_qwait_enc): the latency counts it, syn0 does not */
	uint32_t aux;        /* free list */
	uint32_t skey_hash;  /* sim_key_hash of the page key (sim_pt_split) of skey below */
	uint64_t skey;       /* that key (set when the first SYN leaves) */
	uint32_t ts_base;    /* the connecting socket's TSval at time 0 (tw_ts_base: its
			      * host's clock plus the connection's offset, §6), so that its TSval
			      * is tw_ts_value_from(ts_base, ts_rate, now) without reading the host;
			      * the accepting end's offset is needed at close alone, and found
			      * there */
	uint16_t ts_rate;    /* the connecting host's TS clock rate (tw_ts_rate) */
	uint16_t map_gwt;    /* the cloud gateway hop's port table (natgw_map's handle) */
	/* the connecting end of a host without an ehash (nothing looks its 4-tuple up): kept
	 * here, no record of its own, until it enters TIME-WAIT (net.c: csock_take) */
	struct sim_sock cs;
};
_Static_assert(sizeof(struct sim_conn) == 128, "a connection is two cache lines");
_Static_assert(SIM_MAX_NODES <= 256, "a connection's node fits a byte");

/* The connecting end's socket. */
static inline struct sim_sock *sim_conn_csock(struct sim_sock *socks, struct sim_conn *c)
{
	return c->csock == SIM_NONE ? &c->cs : &socks[c->csock];
}

/* A FIFO of connections linked through their aux (a connection waits in at most one: its
 * SYN in flight, or its close; aux is the free list's link only once it is freed). No
 * memory of its own, and a push or pop touches only the records at its ends. */
struct sim_connq {
	uint32_t head, tail;        /* SIM_NONE when empty (tail then stale) */
};

/* Per-node runtime. */
struct sim_nrt {
	const struct sim_node *n;
	int kind;
	uint32_t host0, nhosts;     /* TCP hosts of this node */
	uint32_t addr0;             /* first address (VIP/public/own) */
	/* connecting nodes (client, l7lb) */
	int hops[4], nhops;         /* translating nodes between it and its target */
	bool one_dest;              /* its hosts connect to one (laddr, raddr, rport) each */
	bool ts_neg[2];             /* §6: timestamps negotiated with its target, [stripped] */
	int8_t gw_cut;              /* a cloud gateway on its path that removes its flows while
				     * they idle (natgw_idle_cuts): that node, else -1 (a byte of
				     * padding: the record keeps its size) */
	int target;                 /* accepting node (server or l7lb) */
	uint32_t target_host;       /* its TCP host */
	int64_t dur_ns;             /* connection lifetime after the handshake */
	int64_t half_rtt;           /* rtt / 2: a segment's flight toward the target */
	int64_t close_after;        /* half_rtt + dur_ns: SYN's arrival to the close */
	uint32_t req_seq, resp_seq; /* sequence space a connection's requests (responses) and
				     * FIN take */
	bool client_closes, linger0;
	struct sim_connq close_q;   /* established, in close order (all live dur_ns) */
	struct sim_connq syn_q;     /* SYNs in flight: all take rtt/2, so arrival order is FIFO */
	uint32_t rr_host;           /* host round robin */
	int64_t next_arrival;
	uint64_t arrivals;
	double const_rate;          /* constant arrivals: connections/s of the node, else 0 */
	int64_t const_period;       /* the gap between them in ns when 1e9 / const_rate is a whole
				     * number (sim_const_period), else 0 */
	uint64_t const_klim;        /* arrival counts below which count * const_period is exact */
	/* translating nodes (nat, l4lb): per public IP, when each port is free again */
	int64_t *busy;              /* nips * 65536; NULL for a cloud gateway (sim_eng.gw) */
	uint32_t seq_port;
	/* accepting nodes */
	uint32_t rr_backend;
	int src0;                   /* connecting nodes: its arrival source (SYN +1, close +2) */
};

struct sim_twq {
	int64_t dur;                /* lifetime; -1 = the <= 4.0 wheel (52.5-60 s) */
	struct sim_fifo q;
	bool killed;                /* its expiries count TWKilled, not TW (the model's
				     * counts_killed, §1.3: the same for all, one lifetime) */
};

#define SIM_MAX_TWQ 16

/*
 * Event sources in tie-break order: the SYN heap, then per node its arrivals, SYNs in flight
 * and closes, then the TIME-WAIT FIFOs, last the per-second sampler. src_key[k] is source k's
 * next time shifted left by SIM_SRC_BITS with k in the low bits (UINT64_MAX: none), so the
 * smallest key is the earliest event and, on equal times, the earlier source. The heap and
 * node sources come first, padded with unused slots to a multiple of four (src_twq0): step()
 * takes a branch-free minimum over them, then plays every TIME-WAIT expiry and sample due
 * before that event in a tight loop (those change no other source). Times stay below 2^56 ns
 * (runs are at most 7 days; nothing is scheduled more than a few minutes past the end). A
 * FIFO's head changes only when it is popped or pushed while empty, so every push and pop
 * keeps its key current.
 */
#define SIM_SRC_HEAP 0
enum SIM_SRC_KIND { SRC_HEAP, SRC_ARRIVAL, SRC_SYN, SRC_CLOSE, SRC_TWQ, SRC_SAMPLE };
#define SIM_NSRC_MAX (((1 + 3 * SIM_MAX_NODES + 3) & ~3) + SIM_MAX_TWQ + 1)
#define SIM_SRC_BITS 7

struct sim_eng {
	const struct sim_scenario *sc;
	struct sim_result *res;
	int64_t now, end;
	uint64_t end_key;           /* (end + 1) << SIM_SRC_BITS: keys at or above it are past the end */
	uint64_t events;            /* copied to the result at the end */
	uint64_t rng;
	struct sim_nrt node[SIM_MAX_NODES];
	int nnodes;
	struct natgw *gw[SIM_MAX_NODES]; /* nat nodes with cloud gateway limits (natgw.h) */
	struct sim_thost *hosts;
	uint32_t nhosts;
	/* socket and connection records: the pools, their arrays typed (free ones linked
	 * through aux) */
	union {
		struct sim_pool sockp;
		struct sim_sock *socks;
	};
	union {
		struct sim_pool connp;
		struct sim_conn *conns;
	};
	struct sim_heap heap;
	struct sim_twq twq[SIM_MAX_TWQ];
	int ntwq;
	int nsrc, src_twq0;         /* the sampler's index (the last); first TW FIFO (4k) */
	uint8_t src_kind[SIM_NSRC_MAX], src_arg[SIM_NSRC_MAX]; /* SIM_SRC_KIND; node or FIFO */
	uint64_t src_key[SIM_NSRC_MAX];
	uint64_t late_key;          /* the least key of the TIME-WAIT FIFOs and the sampler */
	uint64_t tw_total, tw_total_peak;
	uint64_t group_tw[SIM_MAX_NODES], group_est[SIM_MAX_NODES];
	uint64_t group_tw_max[SIM_MAX_NODES]; /* copied to the result at the end */
	struct sim_counters cnt[SIM_MAX_NODES]; /* per node; copied to the result at the end */
	int64_t syn_at[SIM_MAX_NODES][TW_SYN_MAX_TRIES];
	int syn_n[SIM_MAX_NODES];
	int64_t syn_fail[SIM_MAX_NODES];
	int64_t lat_v;              /* latency samples not yet in the histogram: lat_n of lat_v */
	uint64_t lat_n;             /* (a run's latencies are mostly equal: one record per run) */
	/* connect()'s ports examined not yet in the node's histogram: pr_n calls of pr_v (most
	 * calls of a run examine the same number, one) */
	uint32_t pr_v[SIM_MAX_NODES];
	uint64_t pr_n[SIM_MAX_NODES];
	uint64_t pr_sum[SIM_MAX_NODES]; /* every call's, summed: the CPU is priced at the end */
	int err;                    /* first -ENOMEM */
	const char *host_release;
};

enum SIM_EV { SIM_EV_SYN, SIM_EV_FAIL, SIM_EV_CONNECT /* idx: host whose core is free */ };

/* Record node's pending run of equal ports-examined counts in its histogram. */
static inline void sim_probes_flush(struct sim_eng *e, int node)
{
	if (e->pr_n[node]) {
		hist_record_n(&e->res->hosts[node].cpu.probes, e->pr_v[node], e->pr_n[node]);
		e->pr_n[node] = 0;
	}
}

/* Client connects waiting for one host's core at most; past it an arrival is dropped. */
#define SIM_BACKLOG_MAX 65536u

/* A wait in 16 bits: 12 bits of microseconds and a 4-bit shift (relative error < 1/4096,
 * up to 134 s; longer waits saturate). */
static inline uint16_t sim_qwait_enc(int64_t ns)
{
	uint64_t us = ns > 0 ? (uint64_t)ns / 1000 : 0;
	unsigned sh = 0;
	while (us >= 4096 && sh < 15) {
		us >>= 1;
		sh++;
	}
	if (us >= 4096)
		us = 4095;
	return (uint16_t)(sh << 12 | us);
}

static inline int64_t sim_qwait_dec(uint16_t v)
{
	return (int64_t)((uint64_t)(v & 4095u) << (v >> 12)) * 1000;
}

#define SIM_RNG_STEP 0x9e3779b97f4a7c15ULL /* splitmix64's increment */

#define SIM_REQ_BYTES 100u   /* bytes a request adds to the client's sequence space */
#define SIM_RESP_BYTES 1000u /* bytes a response adds to the server's */

_Static_assert(SIM_NSRC_MAX <= (1 << SIM_SRC_BITS), "source index must fit its bits");

/* Source src's key for a time that is not INT64_MAX (a queued record's). */
static inline uint64_t sim_src_key(int src, int64_t t)
{
	return (uint64_t)t << SIM_SRC_BITS | (uint64_t)src;
}

/* Source src is next due at t (INT64_MAX: nothing pending). */
static inline void sim_src_set(struct sim_eng *e, int src, int64_t t)
{
	e->src_key[src] = t == INT64_MAX ? UINT64_MAX : sim_src_key(src, t);
}

/* Append TIME-WAIT record x (due at t, not before anything queued) to FIFO i. */
static inline void sim_twq_push(struct sim_eng *e, int i, struct sim_fifo *q, uint32_t x,
				int64_t t)
{
	if (!q->n) {
		sim_src_set(e, e->src_twq0 + i, t);
		if (e->src_key[e->src_twq0 + i] < e->late_key)
			e->late_key = e->src_key[e->src_twq0 + i];
	}
	if (sim_fifo_push(q, x) < 0)
		e->err = -ENOMEM;
}

/* Append connection ci (due at t, not before anything queued) to the FIFO of source src. */
static inline void sim_connq_push(struct sim_eng *e, int src, struct sim_connq *q, uint32_t ci,
				  int64_t t)
{
	e->conns[ci].aux = SIM_NONE;
	if (q->head == SIM_NONE) {
		q->head = ci;
		sim_src_set(e, src, t);
	} else {
		e->conns[q->tail].aux = ci;
	}
	q->tail = ci;
}

static inline void sim_src_heap(struct sim_eng *e)
{
	sim_src_set(e, SIM_SRC_HEAP, e->heap.n ? e->heap.v[0].t : INT64_MAX);
}

/* The L4 balancer whose VIP connecting node nr is given, or NULL (it connects to its target
 * itself). */
static inline const struct sim_nrt *sim_vip_lb(const struct sim_eng *e, const struct sim_nrt *nr)
{
	if (nr->nhops && e->node[nr->hops[nr->nhops - 1]].kind == SIM_NODE_L4LB)
		return &e->node[nr->hops[nr->nhops - 1]];
	return NULL;
}

#endif
