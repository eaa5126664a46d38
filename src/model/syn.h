/*
 * syn — the opening handshake's timing and a SYN that meets a TIME-WAIT (§5.1, §10).
 */
#ifndef TWKIT_MODEL_SYN_H
#define TWKIT_MODEL_SYN_H

#include <stdbool.h>
#include <stdint.h>

#include "model/profile.h"
#include "model/tsclock.h"

/*
 * The ISN clock (RFC 6528 §3, M in ISN = M + F(4-tuple, secret)): Linux adds the real-time
 * clock in ns shifted right by 6, one tick per 64 ns, so the 32-bit sequence space wraps
 * every 2^32 * 64 ns = 274.9 s (RFC 793 and RFC 6528 suggest a 4 us tick). docs/kernel.md
 * covers only the reuse ISN (§2.3, §5.1).
 */
#define TW_ISN_CLOCK_SHIFT 6

/*
 * The ISN of a new connection (secure_tcp_seq), that is one that takes no TIME-WAIT over (a
 * reused 4-tuple continues its sequence: tw_reuse_isn, §2.3, §5.1): a keyed hash of the
 * 4-tuple (siphash in the kernel; the model's tw_hash64 of tuple ^ secret here) plus the
 * 64 ns clock at now_ns (>= 0), wrapping as the kernel's u32. tuple: the caller's 64-bit
 * packing of the 4-tuple; secret: its per-host secret. Whether a §5.1 SYN is accepted by
 * sequence depends on where this lands. Inline: the simulator calls it twice a connection.
 */
static inline uint32_t tw_isn(uint64_t secret, uint64_t tuple, int64_t now_ns)
{
	return (uint32_t)tw_hash64(tuple ^ secret) + (uint32_t)(now_ns >> TW_ISN_CLOCK_SHIFT);
}

/* Room for the longest schedule: MAX_TCP_SYNCNT would be 127, we cap the model at 16 */
#define TW_SYN_MAX_TRIES 16

/* Default net.ipv4.tcp_syn_retries of the era (§10): 5 before 3.7, 6 after. */
int tw_syn_retries_default(const struct tw_profile *p);
/*
 * §10: the SYN retransmission times (ns after the first SYN) into at[0..n), and the time
 * connect() fails with ETIMEDOUT into *fail_ns. syn_retries < 0 takes the era's default.
 * Small syn_retries on 6.5+ are bounded by time, not count (checked on 6.18).
 * Returns n (number of retransmissions, <= TW_SYN_MAX_TRIES).
 */
int tw_syn_schedule(const struct tw_profile *p, int syn_retries, int64_t *at, int64_t *fail_ns);

/* What a TIME-WAIT 4-tuple remembers that matters to a new SYN (§1.2). */
struct tw_tw_seg {
	uint32_t rcv_nxt;         /* next sequence expected from the peer */
	uint32_t ts_recent;       /* peer's last TSval */
	uint32_t ts_recent_stamp_s; /* 0: no timestamps on the old connection */
};

enum TW_SYN_VERDICT {
	TW_SYN_ACCEPT,      /* §5.1 TCP_TW_SYN: TW killed, the listener takes the SYN */
	TW_SYN_ACK,         /* out of window: ACK; the client's RST kills the TW (rfc1337=0) */
	TW_SYN_ACK_PAWS,    /* as TW_SYN_ACK, and the PAWS reject is counted (PAWSEstab or
			     * PAWSTimewait, §5) */
};
/*
 * §5.1: a SYN (seq, optional TSval) arrives for a 4-tuple in TIME_WAIT. Accepted when not
 * PAWS-rejected and seq is after rcv_nxt or its TSval is newer than ts_recent.
 */
enum TW_SYN_VERDICT tw_timewait_syn(const struct tw_tw_seg *tw, bool syn_has_ts,
				    uint32_t tsval, uint32_t seq, uint32_t now_s);
/* Whether the RST a client sends after TW_SYN_ACK kills the TIME-WAIT (tcp_rfc1337 == 0). */
bool tw_timewait_rst_kills(int rfc1337);
/* The ISN a reused 4-tuple starts from: tw_snd_nxt + 65535 + 2, never 0 (§2.2, §5.1). */
uint32_t tw_reuse_isn(uint32_t tw_snd_nxt);

#endif
