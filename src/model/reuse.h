/*
 * reuse — tcp_tw_reuse: may an outgoing connect() take over a TIME-WAIT 4-tuple (§2)?
 * Pure functions over plain structs. tw_reuse_unique() is the kernel's decision for one
 * TIME-WAIT at one instant; tw_reuse_explain() is the operator's question "does reuse help
 * this traffic at all?" answered from the same rule.
 */
#ifndef TWKIT_MODEL_REUSE_H
#define TWKIT_MODEL_REUSE_H

#include <stdbool.h>
#include <stdint.h>

#include "model/profile.h"

/* net.ipv4.tcp_tw_reuse_delay's default (6.14+, §2.2), and the delay older eras behave as
 * with their seconds clock ("> 0 s" or "> 1 s", see tw_reuse_min_age_ms). */
#define TW_REUSE_DELAY_DEFAULT_MS 1000u

/* What a TIME-WAIT remembers that tcp_twsk_unique looks at (§1.2, §2.2). */
struct tw_reuse_tw {
	uint32_t ts_recent_stamp_s; /* seconds of last TS seen; 0 = timestamps not negotiated */
	int64_t entry_ms;           /* tw_entry_stamp (6.14+): when the TW was created, ms */
	bool fin_wait2_substate;    /* the TW is in the FIN_WAIT2 substate */
	bool loopback;              /* bound to lo, or either address is loopback (§2.2) */
	uint32_t snd_nxt;           /* tw_snd_nxt, for the new ISN */
};

/* The caller's side of the check. */
struct tw_reuse_req {
	int reuse;            /* net.ipv4.tcp_tw_reuse: 0, 1, 2 */
	uint32_t delay_ms;    /* net.ipv4.tcp_tw_reuse_delay (6.14+), default 1000 */
	bool port_bound;      /* socket already has its local port (bind(port), retry): twp==NULL */
	int64_t now_ms;       /* monotonic now; now_s = now_ms / 1000 */
};

/*
 * tcp_twsk_unique (§2.2, §2.3): true when connect() may take the 4-tuple over. On true and
 * isn != NULL, *isn is the new connection's initial sequence (tw_snd_nxt + 65535 + 2, never 0).
 */
bool tw_reuse_unique(const struct tw_profile *p, const struct tw_reuse_tw *tw,
		     const struct tw_reuse_req *req, uint32_t *isn);

/* Why tcp_tw_reuse does or does not help a stream of outgoing connections (doctor, sim). */
enum TW_REUSE_WHY {
	TW_REUSE_HELPS,        /* reuse on, timestamps both ends, scope matches */
	TW_REUSE_OFF,          /* tcp_tw_reuse = 0 */
	TW_REUSE_LOOPBACK_ONLY,/* tcp_tw_reuse = 2 and the traffic is not loopback */
	TW_REUSE_TS_OFF_LOCAL, /* net.ipv4.tcp_timestamps = 0 here */
	TW_REUSE_TS_OFF_PEER,  /* the peer (or a middlebox) does not do timestamps */
	TW_REUSE_PEER_UNKNOWN, /* on, but nothing shows whether the peer does timestamps */
	TW_REUSE_INCOMING,     /* the TIME-WAIT is on the server side: reuse never applies */
};

struct tw_reuse_scope {
	int reuse;            /* tcp_tw_reuse */
	int timestamps;       /* tcp_timestamps here: 0, 1, 2 */
	int peer_timestamps;  /* 1 yes, 0 no, -1 unknown */
	bool loopback;        /* traffic is loopback */
	bool outgoing;        /* this host opened the connections */
};

enum TW_REUSE_WHY tw_reuse_explain(const struct tw_profile *p, const struct tw_reuse_scope *s);
/* One short sentence for a TW_REUSE_WHY value. */
const char *tw_reuse_why_str(enum TW_REUSE_WHY why);
/* Smallest age (ms) a TIME-WAIT must reach before reuse takes it over under this profile
 * with the given tcp_tw_reuse_delay: 2000 (worst case of "> 1 s" on a seconds clock),
 * 1000 ("> 0 s"), or delay_ms. */
uint32_t tw_reuse_min_age_ms(const struct tw_profile *p, uint32_t delay_ms);

#endif
