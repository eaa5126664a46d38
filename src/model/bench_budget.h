/*
 * bench_budget — how many new connections per second a client can sustain toward its
 * destinations before TIME-WAIT exhausts connect()'s ports (§1.2, §2.2, §3.3, §7), for the
 * one-line interpretation of `twkit bench`. Pure: the caller reads sysctls and passes them.
 */
#ifndef TWKIT_MODEL_BENCH_BUDGET_H
#define TWKIT_MODEL_BENCH_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#include "model/profile.h"
#include "model/reuse.h"

struct tw_budget_in {
	uint16_t port_lo, port_hi; /* ip_local_port_range, or the per-socket range */
	bool per_socket_range;     /* IP_LOCAL_PORT_RANGE: step 1, no parity split (§3.2 F) */
	uint32_t sources;          /* distinct source addresses (>= 1) */
	uint32_t dest_ports;       /* distinct destination ports on one address (>= 1) */
	bool bind_no_port;         /* false: bind() before connect takes host-unique ports */
	bool client_closes;        /* the client sends the first FIN */
	bool client_linger0;       /* the client closes with RST */
	struct tw_reuse_scope reuse; /* tcp_tw_reuse, timestamps, loopback, outgoing=true */
	uint32_t reuse_delay_ms;   /* tcp_tw_reuse_delay (6.14+), 1000 by default */
};

enum TW_BUDGET_WHY {
	TW_BUDGET_TW_BOUND,    /* client TIME-WAIT holds each 4-tuple for 60 s */
	TW_BUDGET_REUSE_BOUND, /* tcp_tw_reuse frees 4-tuples after ~1 s */
	TW_BUDGET_NO_CLIENT_TW,/* the client keeps no TIME-WAIT (server closes, or linger0) */
};

struct tw_budget_out {
	enum TW_BUDGET_WHY why;
	enum TW_REUSE_WHY reuse_why;
	uint32_t ports;        /* usable ports per destination (or in all, bind before connect) */
	uint64_t tuples;       /* 4-tuples available at once */
	uint32_t hold_ms;      /* how long one stays taken after close */
	double rate;           /* sustained new connections/s; 0 when not bounded by TIME-WAIT */
};

/* Fill out from in under profile p. Returns 0 or -EINVAL (empty range, zero counts). */
int tw_budget_compute(const struct tw_profile *p, const struct tw_budget_in *in,
		      struct tw_budget_out *out);

#endif
