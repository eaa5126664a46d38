/*
 * recycle — tcp_tw_recycle (eras < 4.12): the per-peer timestamp cache and the passive-side
 * SYN check that drops SYNs from NATed clients (§4). Pure: the cache entry is caller-owned.
 */
#ifndef TWKIT_MODEL_RECYCLE_H
#define TWKIT_MODEL_RECYCLE_H

#include <stdbool.h>
#include <stdint.h>

#include "model/profile.h"

/* TCP_PAWS_MSL (§4.3, §10): a cache entry is "fresh" for 60 s */
#define TW_PAWS_MSL_S 60u
/* TCP_PAWS_WINDOW (§4.3): a SYN may be at most 1 tick behind the cached value */
#define TW_PAWS_WINDOW 1
/* TCP_PAWS_24DAYS (§5) */
#define TW_PAWS_24DAYS_S (24u * 86400u)

/* One inet_peer / tcp_metrics entry, keyed by the peer address (not ports) (§4.1). */
struct tw_peer_ts {
	uint32_t ts;       /* tcpm_ts: the peer's last remembered TSval */
	uint32_t stamp_s;  /* tcpm_ts_stamp: when (seconds) */
	bool valid;
};

/*
 * §4.1 tcp_remember_stamp / tcp_tw_remember_stamp: a socket with timestamps entering
 * TIME-WAIT while recycle is on stores its ts_recent into the entry when it is not older than
 * the cached value, or when the cached stamp is over 60 s old and not newer than the socket's.
 * Returns true (the entry exists: recycle_ok of §1.2).
 */
bool tw_recycle_remember(struct tw_peer_ts *e, uint32_t ts_recent, uint32_t ts_recent_stamp_s,
			 uint32_t now_s);

/*
 * §4.3: does a recycle server drop this SYN? `e` is the entry for the SYN's source address
 * (NULL if none). syn_has_ts says whether the SYN carries a timestamp, tsval its value.
 * Caller checks that tcp_tw_recycle is on and the SYN did not hit a live TIME-WAIT.
 */
bool tw_recycle_syn_drop(const struct tw_profile *p, const struct tw_peer_ts *e,
			 bool syn_has_ts, uint32_t tsval, uint32_t now_s);

/* §5 paws_check(ts_recent, stamp, tsval, win): true when the segment passes. */
bool tw_paws_check(uint32_t ts_recent, uint32_t ts_recent_stamp_s, uint32_t tsval,
		   int32_t win, uint32_t now_s);

#endif
