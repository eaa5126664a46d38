/*
 * portsel — connect()'s ephemeral port search per era (§3.2): where the walk starts (global
 * hint, 256- or 65536-entry perturb table), how it steps (1, or even pass then odd pass), how
 * the start moves after a success, and EADDRNOTAVAIL only when every candidate failed.
 * The caller decides per candidate (free 4-tuple, or a TIME-WAIT tcp_twsk_unique lets go).
 * No allocation: the perturb table is caller-owned.
 */
#ifndef TWKIT_MODEL_PORTSEL_H
#define TWKIT_MODEL_PORTSEL_H

#include <stdbool.h>
#include <stdint.h>

#include "model/ports.h"
#include "model/profile.h"
#include "model/tsclock.h"

#define TW_PERTURB_256 256u
#define TW_PERTURB_64K 65536u

/* Per-host search state. perturb must have tw_portsel_table_size() entries (or be NULL when
 * that is 0). */
struct tw_portsel {
	uint32_t hint;      /* §3.2 A-C: the global hint */
	uint32_t *perturb;  /* §3.2 D-E: table_perturb */
};

/* §3.1: the 2022 hardening hashes jiffies / (10 * HZ) into port_offset: a new salt every 10 s */
#define TW_PORT_OFFSET_SALT_NS (10LL * 1000000000LL)

/*
 * §3.1: the salt epoch port_offset is hashed with at now_ns (>= 0): now_ns / 10 s on the
 * 2022-hardened era (§3.2 E), 0 before (one offset per destination for the boot). A caller
 * that keeps a destination's offset recomputes it when this value changes. Inline, as the two
 * below: a connect() calls them.
 */
static inline int64_t tw_port_offset_epoch(const struct tw_profile *p, int64_t now_ns)
{
	return p->port_alg == TW_PORT_ALG_PERTURB_64K ? now_ns / TW_PORT_OFFSET_SALT_NS : 0;
}

/*
 * §3.1: port_offset, connect()'s secret hash of (saddr, daddr, dport) and the salt epoch
 * (tw_port_offset_epoch): md5, later siphash, in the kernel; the model's keyed 64-bit hash
 * here (tw_hash64 of the inputs packed and xored with the secret). secret: the caller's
 * per-host secret (random per boot). The same inputs always give the same value.
 */
static inline uint64_t tw_port_offset_salted(uint64_t secret, uint32_t saddr, uint32_t daddr,
					     uint16_t dport, int64_t epoch)
{
	return tw_hash64(((uint64_t)saddr << 32 | daddr) ^ secret ^ ((uint64_t)dport << 48) ^
			 (uint64_t)epoch << 20);
}

/* §3.1: port_offset toward (daddr, dport) from saddr at now_ns, salted as the era salts it. */
static inline uint64_t tw_port_offset(const struct tw_profile *p, uint64_t secret,
				      uint32_t saddr, uint32_t daddr, uint16_t dport,
				      int64_t now_ns)
{
	return tw_port_offset_salted(secret, saddr, daddr, dport,
				     tw_port_offset_epoch(p, now_ns));
}

/* Entries the era's table_perturb needs (0, 256 or 65536). */
uint32_t tw_portsel_table_size(const struct tw_profile *p);

/* Returns 1 when connect() can use `port` (free 4-tuple or TIME-WAIT takeover), 0 if not. */
typedef int (*tw_port_ok_fn)(void *arg, uint16_t port);

struct tw_portsel_req {
	uint16_t lo, hi;          /* ip_local_port_range (or IP_LOCAL_PORT_RANGE) */
	bool socket_range;        /* §3.2 F (6.8+): IP_LOCAL_PORT_RANGE set: step 1, no parity */
	uint64_t port_offset;     /* secret hash of (saddr, daddr, dport) */
	uint32_t rnd;             /* random draw for the 2022 jump (§3.2 E) */
	const struct tw_portset *excluded; /* reserved or bind()-owned ports; may be NULL */
	tw_port_ok_fn ok;
	void *arg;
	/* Optional (may be NULL): bit (port - lo) set when the caller knows that port fails
	 * (held by a socket it cannot take over). The walk then skips such ports a word at a
	 * time instead of calling ok() for each; the result is the same port. */
	const uint64_t *held;
	/* With held: a clear bit also means the port is accepted (ok() would return 1), so the
	 * walk takes it without asking. */
	bool held_exact;
	/* Optional with held: full[p] bit w set when every bit of parity p (relative index) in
	 * held[w] is set, so whole words of held ports are skipped 64 at a time. */
	const uint64_t *full[2];
};

/*
 * Run the search. Returns 0 with *port set, or -EADDRNOTAVAIL after every candidate of both
 * passes failed. *probes (may be NULL) receives how many candidates were tested.
 */
int tw_port_select(const struct tw_profile *p, struct tw_portsel *st,
		   const struct tw_portsel_req *r, uint16_t *port, uint32_t *probes);

/*
 * Eras C-E (§3.2 C-E): the state slot the walk starts from and moves afterwards (the global
 * hint, or the perturb entry the port offset picks) and, in *base, the walk's start offset
 * (below remaining, not yet rounded to even).
 */
static inline uint32_t *tw_portsel_start(const struct tw_profile *p, struct tw_portsel *st,
					 uint64_t port_offset, uint32_t remaining, uint32_t *base)
{
	uint32_t *slot;
	if (p->port_alg == TW_PORT_ALG_HINT_PARITY) {
		slot = &st->hint;
		*base = (uint32_t)((*slot + port_offset) % remaining);
	} else if (p->port_alg == TW_PORT_ALG_PERTURB_256) {
		slot = &st->perturb[(port_offset * 0x9e3779b97f4a7c15ULL) >> 56]; /* hash_32(.., 8) */
		*base = (uint32_t)((*slot + port_offset) % remaining);
	} else {
		slot = &st->perturb[port_offset & (TW_PERTURB_64K - 1)];
		*base = (uint32_t)((*slot + (port_offset >> 32)) % remaining);
	}
	return slot;
}

/* Era E's 2022 jump: after a success the slot moves at least this far (rnd: the draw). */
static inline uint32_t tw_portsel_jump(const struct tw_profile *p, uint32_t rnd)
{
	return p->port_alg == TW_PORT_ALG_PERTURB_64K ? 2 * (rnd % 8) : 0;
}

/* Whether the era's search reads the request's random draw (rnd: §3.2 E's jump). A caller
 * whose random stream must not depend on the era may draw anyway and pass it. */
static inline bool tw_portsel_uses_rnd(const struct tw_profile *p)
{
	return p->port_alg == TW_PORT_ALG_PERTURB_64K;
}

/*
 * The search's common case on eras C-E, without building a request: when the caller's held
 * bitmap is exact (a clear bit means the port is accepted, as held_exact) and nothing is
 * excluded, the walk's first candidate is taken if its bit is clear. Returns 1 with *port set
 * and the hint or perturb slot moved exactly as tw_port_select moves it; 0, with nothing
 * changed, when the full search must run (other eras, the first candidate held, an empty or
 * invalid range). rnd is the request's random draw (read on era E only).
 */
static inline int tw_port_select_first(const struct tw_profile *p, struct tw_portsel *st,
				       uint16_t lo, uint16_t hi, uint64_t port_offset,
				       uint32_t rnd, const uint64_t *held, uint16_t *port)
{
	uint32_t n_ports = (uint32_t)hi + 1 - lo, *slot, base;
	if (p->port_alg < TW_PORT_ALG_HINT_PARITY || lo == 0 || lo > hi)
		return 0;
	slot = tw_portsel_start(p, st, port_offset, n_ports > 1 ? n_ports & ~1u : n_ports, &base);
	base &= ~1u;
	if ((held[base >> 6] >> (base & 63)) & 1)
		return 0;
	*slot += tw_portsel_jump(p, rnd) + 2;
	*port = (uint16_t)(lo + base);
	return 1;
}

/*
 * §3.3: whether the budget is per destination (connect() picks the port, or bind(addr, 0)
 * with IP_BIND_ADDRESS_NO_PORT on 4.2+) or host-wide (bind() before connect() picks a port
 * unique across all destinations).
 */
bool tw_ports_per_destination(const struct tw_profile *p, bool bind_before_connect,
			      bool bind_address_no_port);

#endif
