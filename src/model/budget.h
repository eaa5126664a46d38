/*
 * budget — the 4-tuple budget of a group of connections and the rates it sustains, for every
 * verb: how many 4-tuples a (source, destination) group has, how long a closed one stays taken
 * and by whom (§1.2, §2.2, §3.2, §3.3, §7), what a SYN does to the server's TIME-WAIT (§5.1:
 * no ceiling on the accepting side), the new-connection rate a budget sustains, and the time
 * until it is spent at a given rate. Pure: the caller reads sysctls and sockets and passes
 * them. doctor's findings, bench's explanation and sim's summaries ask these functions; no
 * TIME-WAIT arithmetic (the 60 s, range / 60, reuse delays) is worked out anywhere else.
 */
#ifndef TWKIT_MODEL_BUDGET_H
#define TWKIT_MODEL_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#include "model/ports.h"
#include "model/profile.h"
#include "model/reuse.h"

struct tw_budget_in {
	uint16_t port_lo, port_hi; /* ip_local_port_range, or the per-socket range */
	const struct tw_portset *excluded; /* reserved / bind()-held ports, or NULL */
	bool per_socket_range;     /* IP_LOCAL_PORT_RANGE: step 1, no parity split (§3.2 F) */
	uint32_t sources;          /* distinct source addresses (>= 1) */
	uint32_t dest_ports;       /* distinct destination ports on one address (>= 1) */
	bool bind_no_port;         /* false: bind() before connect takes host-unique ports */
	bool client_closes;        /* the connecting side sends the first FIN */
	bool client_linger0;       /* the connecting side closes with RST */
	struct tw_reuse_scope reuse; /* tcp_tw_reuse, timestamps both ends, loopback, outgoing */
	uint32_t reuse_delay_ms;   /* tcp_tw_reuse_delay (6.14+); 0 = the 1000 ms default */
	/* Only for the accepting side's view (reuse.outgoing false): */
	int syn_retries;           /* the clients' tcp_syn_retries; -1 = the era's default */
	int rfc1337;               /* the server's tcp_rfc1337 */
};

enum TW_BUDGET_WHY {
	TW_BUDGET_TW_BOUND,    /* the connecting side's TIME-WAIT holds each 4-tuple for 60 s */
	TW_BUDGET_REUSE_BOUND, /* tcp_tw_reuse frees 4-tuples after ~1 s (§2.2) */
	TW_BUDGET_NO_CLIENT_TW,/* the connecting side keeps no TIME-WAIT (server closes, linger0) */
	TW_BUDGET_SERVER_TW,   /* the accepting side's TIME-WAIT: a new SYN reopens it (§5.1) */
};

/* What a SYN does to a 4-tuple the server holds in TIME-WAIT (§5.1), for a stream of them. */
enum TW_SRV_SYN {
	TW_SRV_REOPEN_TS,  /* timestamps negotiated: a newer TSval reopens it, at once */
	TW_SRV_REOPEN_SEQ, /* no timestamps: reopened when the ISN is after the old sequence
			    * (a Linux client's own ISN clock runs ahead: always for the same
			    * host), otherwise ACK -> client RST -> SYN retransmission */
	TW_SRV_UNKNOWN,    /* nothing shows whether the clients do timestamps */
};

struct tw_budget_out {
	enum TW_BUDGET_WHY why;
	enum TW_REUSE_WHY reuse_why;
	uint32_t ports;        /* usable ports per destination (or in all, bind before connect) */
	uint64_t tuples;       /* 4-tuples available at once */
	uint32_t hold_ms;      /* how long one stays taken after close; 0 = not held */
	double rate;           /* sustained new connections/s; 0 when TIME-WAIT sets no bound */
	/* TW_BUDGET_SERVER_TW: */
	enum TW_SRV_SYN srv_syn;
	int64_t srv_wait_ns;   /* what a SYN that fails the §5.1 test waits: the first SYN
				* retransmission with rfc1337=0; up to the TIME-WAIT's end with 1 */
};

/* Fill out from in under profile p. Returns 0 or -EINVAL (empty range, zero counts). */
int tw_budget_compute(const struct tw_profile *p, const struct tw_budget_in *in,
		      struct tw_budget_out *out);

/* New connections/s that `tuples` 4-tuples sustain when each stays taken hold_ms after its
 * close: tuples / hold. 0 when hold_ms is 0 (nothing held: no bound). */
double tw_budget_rate(uint64_t tuples, uint32_t hold_ms);

/* Whether turning tcp_tw_reuse on (=1) would let connect() take over these TIME-WAITs: the
 * scope with reuse forced to 1 is TW_REUSE_HELPS. */
bool tw_reuse_would_help(const struct tw_profile *p, const struct tw_reuse_scope *s);

/* §5.1 for a stream of SYNs toward the server's TIME-WAIT: from the timestamps of both ends
 * (local 0/1/2, peer 1/0/-1). *wait_ns (may be NULL) gets what a SYN that fails the test
 * waits before the 4-tuple opens (0 for TW_SRV_REOPEN_TS). */
enum TW_SRV_SYN tw_server_tw_syn(const struct tw_profile *p, int timestamps, int peer_timestamps,
				 int syn_retries, int rfc1337, int64_t *wait_ns);
/* One sentence for the operator. */
const char *tw_server_tw_syn_str(enum TW_SRV_SYN v);

/* The age of a TIME-WAIT whose timer has expires_ms left (sock_diag's idiag_expires, §9):
 * TCP_TIMEWAIT_LEN - expires, clamped. */
uint32_t tw_age_ms(uint32_t expires_ms);

/*
 * Rate of TIME-WAIT creation seen from the timers: `count` TIME-WAITs at most window_ms old,
 * while the group's oldest TIME-WAIT is oldest_ms old. The span is the window, or the oldest
 * age when the churn is younger than the window (a run that started 8 s ago has not filled a
 * 10 s window), and never under one second (a single fresh TIME-WAIT is no rate).
 */
double tw_rate_from_ages(uint32_t count, uint32_t oldest_ms, uint32_t window_ms);

/*
 * Time to exhaustion. A group has `usable` 4-tuples; `in_use` of them are taken by sockets
 * that are not TIME-WAIT; its TIME-WAITs are histogrammed by whole seconds left on their
 * timer in left[0..nslots) (the last slot holds everything at or above it). A 4-tuple comes
 * back when its TIME-WAIT expires, or after hold_ms when reuse takes it over earlier.
 * New 4-tuples are taken at `rate`/s and stay hold_ms. Returns seconds until none is left,
 * 0 when none is left now, -1 when the rate is sustained forever (rate * hold fits).
 */
double tw_budget_eta_s(uint32_t usable, uint32_t in_use, const uint16_t *left, int nslots,
		       double rate, uint32_t hold_ms);

/* TIME-WAITs (histogrammed as for tw_budget_eta_s) at least hold_ms old: the ones reuse can
 * take over now. */
uint32_t tw_budget_reusable(const uint16_t *left, int nslots, uint32_t hold_ms);

#endif
