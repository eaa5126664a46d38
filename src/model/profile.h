/*
 * profile — the kernel era as data. One profile per era where TIME-WAIT behaviour changed;
 * every rule in model/ takes a profile (never a version number compared ad hoc elsewhere).
 * § references are to docs/kernel.md, twkit's account of these rules era by era (with what a
 * running kernel confirmed; docs/kernel-tw-spec-notes.md has the measurements).
 * Invariant: profiles[] is sorted by version; tw_profile_for() returns the newest profile at
 * or below a version, so a 5.10 kernel behaves as the 5.4 profile unless a rule says otherwise.
 */
#ifndef TWKIT_MODEL_PROFILE_H
#define TWKIT_MODEL_PROFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Kernel version as a comparable number: 6.14 -> 6014, 2.6.32 -> 2006032 is not used:
 * 2.6.x uses TW_KVER3(2,6,32) so it sorts below 3.0. */
#define TW_KVER(a, b) ((uint32_t)(a) * 1000000u + (uint32_t)(b) * 1000u)
#define TW_KVER3(a, b, c) (TW_KVER(a, b) + (uint32_t)(c))

/* §3.2: connect()'s ephemeral port search */
enum TW_PORT_ALG {
	TW_PORT_ALG_HINT_SEQ,     /* A, <= 4.1: one global hint, step 1 */
	TW_PORT_ALG_HINT_EVEN,    /* B, 4.2-4.5: even start, sequential */
	TW_PORT_ALG_HINT_PARITY,  /* C, 4.6-5.11: even pass then odd pass, global hint */
	TW_PORT_ALG_PERTURB_256,  /* D, 5.12+: table_perturb[256] */
	TW_PORT_ALG_PERTURB_64K,  /* E, 2022 hardening: 2^16 entries, random jumps */
};

/* §2.2: when tcp_twsk_unique lets connect() take over a TIME-WAIT */
enum TW_REUSE_RULE {
	TW_REUSE_SEC_GT1, /* now_s - stamp > 1 (seconds, wall clock) */
	TW_REUSE_SEC_GT0, /* now_s > stamp (monotonic seconds) */
	TW_REUSE_MS_DELAY /* now_ms after entry + tcp_tw_reuse_delay */
};

/* §6: timestamp offset added to the TS clock */
enum TW_TS_OFFSET {
	TW_TS_OFF_NONE,      /* < 4.10 */
	TW_TS_OFF_PER_CONN,  /* 4.10: hashed over the 4-tuple */
	TW_TS_OFF_PER_HOSTS, /* 4.11 - early 2026: hashed over (saddr, daddr) */
	TW_TS_OFF_PER_4TUPLE /* 2026+: from the ISN siphash, per 4-tuple again */
};

/* §10: SYN retransmission schedule */
enum TW_SYN_SCHED {
	TW_SYN_INIT3S,  /* < 3.1: initial RTO 3 s, 5 retries: 3, 9, 21, 45, 93, fail 189 */
	TW_SYN_INIT1S,  /* 3.7-6.4: 1 s, 6 retries: 1, 3, 7, 15, 31, 63, fail 127 */
	TW_SYN_LINEAR4  /* 6.5+: 4 linear then exponential: ... 67, fail 131 */
};

struct tw_profile {
	const char *name; /* "2.6.32", "4.19", "6.14" ... */
	uint32_t ver;
	bool has_tw_recycle;         /* §4: sysctl exists (< 4.12) */
	int reuse_default;           /* §2.2: 0, or 2 (loopback only) since 4.19 */
	bool reuse_loopback_mode;    /* value 2 understood (4.19+) */
	enum TW_REUSE_RULE reuse_rule;
	bool reuse_no_fin_wait2;     /* §2.2: 6.12+ never reuses a FIN_WAIT2-substate TW */
	bool has_reuse_delay_sysctl; /* §2.2: tcp_tw_reuse_delay, 6.14+ */
	enum TW_PORT_ALG port_alg;
	bool has_local_port_range_opt; /* §3.2 F: IP_LOCAL_PORT_RANGE (6.3+; step 1 from 6.8) */
	bool has_bind_no_port;         /* §3.3: IP_BIND_ADDRESS_NO_PORT, 4.2+ */
	uint16_t port_lo, port_hi;     /* default ip_local_port_range */
	enum TW_TS_OFFSET ts_offset;
	bool ts_fixed_1khz;            /* §5: TS clock fixed at 1 kHz (~4.13+); else HZ */
	enum TW_SYN_SCHED syn_sched;
	bool timer_wheel;              /* §1.3: <= 4.0 death-row slots (52.5-60 s lifetimes) */
	bool tw_kill_via_diag;         /* §9: SOCK_DESTROY works on TIME-WAIT (6.0+) */
	bool paws_timewait_counter;    /* §5: PAWSTimewait counter (newest kernels) */
	bool recycle_syn_without_ts_dropped; /* §4.3: ~3.18-4.11 drop SYNs without TS too */
};

/* TCP_TIMEWAIT_LEN: 60 s, a compile-time constant in every era (§1.2), in ms and ns. */
#define TW_TIMEWAIT_LEN_MS 60000u
#define TW_TIMEWAIT_LEN_NS (60LL * 1000000000LL)
/* §1.5: tw_sock_TCP object size reported on current kernels (slabinfo), bytes */
#define TW_SOCK_BYTES_DEFAULT 264u
/* §1.5: the share of an inet_bind_bucket a TIME-WAIT keeps alive, bytes [M] */
#define TW_BIND_BUCKET_BYTES 64u

/* Number of built-in profiles and access by index (sorted by version). */
int tw_profile_count(void);
const struct tw_profile *tw_profile_at(int i);
/* The profile named exactly `name` ("4.19", "6.14", "2.6.32", "host"...), or NULL.
 * "host" resolves through the running kernel's release passed in host_release. */
const struct tw_profile *tw_profile_by_name(const char *name, const char *host_release);
/* The newest profile at or below `ver`, or the oldest one if ver is older than all. */
const struct tw_profile *tw_profile_for(uint32_t ver);
/*
 * Parse a kernel release string ("6.18.44-fc-v669", "3.10.0-1160.el7.x86_64", "2.6.32-754")
 * into a TW_KVER number. Returns 0 or -EINVAL.
 */
int tw_kernel_version_parse(const char *release, uint32_t *ver);

/*
 * A kernel era as a user types it (--kernel): an era's name ("4.19"), "host" (this machine's
 * release, host_release), or a version ("5.9", "4.19.120") between the oldest era and the
 * newest one's patch releases, which runs as the newest era at or below it. Returns 0 with
 * *out set, msg "" for an era's own name, else "5.9 → modelled as 5.4 (...)"; or -EINVAL
 * with msg saying why (not a version, "5.4junk"; older or newer than every era, "9.9")
 * and listing the known eras. msg is always written (len > 0).
 */
int tw_profile_resolve(const char *name, const char *host_release, const struct tw_profile **out,
		       char *msg, size_t len);

#endif
