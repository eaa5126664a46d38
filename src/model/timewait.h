/*
 * timewait — how a closing socket enters TIME-WAIT, how long it stays, and what it costs
 * (§1, §7). Pure functions: the caller (sim, doctor) supplies the socket's facts.
 */
#ifndef TWKIT_MODEL_TIMEWAIT_H
#define TWKIT_MODEL_TIMEWAIT_H

#include <stdbool.h>
#include <stdint.h>

#include "model/profile.h"

/* §1.4: the default tcp_max_tw_buckets from 3.x on is ehash_entries / 2; 262144 is what a
 * machine with a 512k-entry ehash (a few GB of RAM) reports. A fixed stand-in where the machine
 * is not known (sim, lab, a snapshot without tcp_ehash_entries); tw_max_tw_buckets_default()
 * gives a known machine's own. */
#define TW_MAX_TW_BUCKETS_DEFAULT 262144u
/* §10: TCP_RTO_MIN (200 ms) is the RTO of a loopback/LAN connection */
#define TW_RTO_MIN_NS (200LL * 1000000LL)
/* §1.3: first arm counts TWKilled at or below 4 s, TW above */
#define TW_KILLED_MAX_NS (4LL * 1000000000LL)

/* The facts tcp_time_wait() looks at when the active closer enters TIME-WAIT (§1.2). */
struct tw_enter_in {
	bool ts_negotiated;   /* ts_recent_stamp != 0: timestamps on this connection */
	int tw_recycle;       /* net.ipv4.tcp_tw_recycle (eras that have it) */
	bool recycle_ok;      /* the per-peer stamp was remembered (§4.1) */
	int64_t rto_ns;       /* icsk_rto of the connection */
	uint64_t tw_count;    /* TIME-WAITs alive in this netns */
	uint64_t max_tw_buckets;
	bool linger0;         /* close() with SO_LINGER {1, 0}: RST instead of FIN (§7) */
};

enum TW_ENTER {
	TW_ENTER_TIMEWAIT, /* a TIME-WAIT mini-socket for timeout_ns */
	TW_ENTER_OVERFLOW, /* §1.4: no TIME-WAIT at all, TCPTimeWaitOverflow++ */
	TW_ENTER_RESET     /* §7: SO_LINGER 0, RST sent, TCPAbortOnData++, no TIME-WAIT */
};

struct tw_enter_out {
	enum TW_ENTER what;
	int64_t timeout_ns;   /* TIME-WAIT lifetime when what == TW_ENTER_TIMEWAIT */
	bool recycled;        /* the short 3.5xRTO recycle lifetime applied */
	bool counts_killed;   /* its expiry counts TWKilled (<= 4 s) rather than TW (§1.3) */
};

/* 3.5 x RTO as the kernel computes it: 4*rto - rto/2 (§1.2). */
int64_t tw_rto_35(int64_t rto_ns);
/* Whether tcp_tw_recycle can be set on this era (< 4.12, §4.5). */
bool tw_recycle_available(const struct tw_profile *p);
/* The active closer's path through tcp_time_wait (or __tcp_close for SO_LINGER 0). Always
 * succeeds; fills *out. */
void tw_timewait_enter(const struct tw_profile *p, const struct tw_enter_in *in,
		       struct tw_enter_out *out);

/* §1.1: what an orphaned FIN_WAIT2 socket becomes once the ACK of its FIN arrives. */
enum TW_FW2 {
	TW_FW2_FULL_SOCKET, /* tmo > 60 s: full socket stays, keepalive timer for tmo - 60 s */
	TW_FW2_SUBSTATE,    /* a TIME-WAIT mini-socket in substate FIN_WAIT2, lifetime tmo */
	TW_FW2_CLOSE        /* linger2 < 0: closed at once (RST, TCPAbortOnLinger) */
};
/* tcp_fin_time: max(TCP_LINGER2 if set (>0) else tcp_fin_timeout, 3.5 x RTO) (§1.1). */
int64_t tw_fin_time(int64_t linger2_ns, int64_t fin_timeout_ns, int64_t rto_ns);
/* linger2_ns < 0 means TCP_LINGER2 set negative; 0 means unset. *tmo_ns receives the timer. */
enum TW_FW2 tw_fin_wait2_orphan(int64_t linger2_ns, int64_t fin_timeout_ns, int64_t rto_ns,
				int64_t *tmo_ns);
/* §1.1: total life of a FIN_WAIT2-substate TIME-WAIT whose peer FIN arrives fin_after_ns
 * after it was created (<0: never): the timer is re-armed to 60 s on the FIN. */
int64_t tw_fin_wait2_lifetime(int64_t tmo_ns, int64_t fin_after_ns);

/* §1.3: on <= 4.0 kernels a 60 s TIME-WAIT sits on the 8-cell slow wheel (7.5 s period):
 * its real life is 52.5-60 s depending on the phase. `phase_ns` is the time since the last
 * wheel tick, in [0, 7.5 s). Later eras: exactly timeout_ns. */
int64_t tw_timer_lifetime(const struct tw_profile *p, int64_t timeout_ns, int64_t phase_ns);

/* §1.4: the tcp_max_tw_buckets a kernel (3.x on) starts with for an established hash of
 * ehash_entries buckets: half of them ((ehash_mask + 1) / 2, in tcp_set_hashinfo since 6.1,
 * tcp_sk_init before). ehash_entries is the absolute value of net.ipv4.tcp_ehash_entries (a
 * netns sharing the initial namespace's table reads it negative). 0 means unknown (kernels
 * before 6.1 lack the key) and gives the fallback TW_MAX_TW_BUCKETS_DEFAULT. Never fails. */
uint64_t tw_max_tw_buckets_default(uint64_t ehash_entries);

/* §1.5: estimated kernel memory of n TIME-WAITs (tw_sock_TCP object + bind bucket share). */
uint64_t tw_timewait_mem_bytes(uint64_t n);

#endif
