/*
 * tsclock — the TCP timestamp a host puts in TSval, era by era (§5, §6, §4.5): a per-host
 * clock ticking at HZ (or a fixed 1 kHz since ~4.13) plus an offset that is none (< 4.10),
 * per connection (4.10), per host pair (4.11 - early 2026) or per 4-tuple (2026+), and only
 * when tcp_timestamps = 1. Pure; hashing uses a caller-provided secret.
 */
#ifndef TWKIT_MODEL_TSCLOCK_H
#define TWKIT_MODEL_TSCLOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "model/profile.h"

struct tw_ts_host {
	uint32_t hz;       /* CONFIG_HZ (100, 250, 1000); ignored on fixed-1 kHz eras */
	uint32_t boot;     /* the clock's value at simulated time 0 (jiffies since boot) */
	int timestamps;    /* net.ipv4.tcp_timestamps 0/1/2 */
	uint64_t secret;   /* ts_secret for the offset hash */
};

/* Ticks per second of the TS clock for this era and host. */
static inline uint32_t tw_ts_rate(const struct tw_profile *p, const struct tw_ts_host *h)
{
	/* §5: jiffies-based before ~4.13, a fixed 1 kHz after */
	if (p->ts_fixed_1khz || h->hz == 0)
		return 1000;
	return h->hz;
}
/* The offset added to TSvals of the connection (saddr:sport -> daddr:dport); 0 when
 * tcp_timestamps != 1 or the era has none. */
uint32_t tw_ts_offset(const struct tw_profile *p, const struct tw_ts_host *h, uint32_t saddr,
		      uint16_t sport, uint32_t daddr, uint16_t dport);
/* Whether tw_ts_offset depends on the addresses only (not the ports) on this era and host:
 * callers may then keep one value per address pair. */
static inline bool tw_ts_offset_by_addrs(const struct tw_profile *p, const struct tw_ts_host *h)
{
	return h->timestamps != 1 || p->ts_offset == TW_TS_OFF_NONE ||
	       p->ts_offset == TW_TS_OFF_PER_HOSTS;
}
/* Ticks of a TS clock running at rate ticks per second, at now_ns (>= 0). Inline, as the
 * three below: the simulator calls them per connection. */
static inline uint32_t tw_ts_ticks(uint32_t rate, int64_t now_ns)
{
	uint64_t t = (uint64_t)now_ns;
	/* the usual rates divide by a constant (a multiply) */
	switch (rate) {
	case 1000:
		return (uint32_t)(t / 1000000ULL);
	case 250:
		return (uint32_t)(t / 4000000ULL);
	case 100:
		return (uint32_t)(t / 10000000ULL);
	default:
		return (uint32_t)(t / (1000000000ULL / rate));
	}
}
/* A connection's TSval at time 0: its host's clock then plus the connection's offset. */
static inline uint32_t tw_ts_base(const struct tw_ts_host *h, uint32_t offset)
{
	return h->boot + offset;
}
/* The TSval a connection sends at now_ns, from its tw_ts_base and its host's tw_ts_rate:
 * callers that keep those two need not read the host again. Wraps like the kernel's u32. */
static inline uint32_t tw_ts_value_from(uint32_t base, uint32_t rate, int64_t now_ns)
{
	return base + tw_ts_ticks(rate, now_ns);
}
/* TSval sent at now_ns (offset included). */
static inline uint32_t tw_ts_value(const struct tw_profile *p, const struct tw_ts_host *h,
				   int64_t now_ns, uint32_t offset)
{
	return tw_ts_value_from(tw_ts_base(h, offset), tw_ts_rate(p, h), now_ns);
}
/* §6: timestamps are negotiated only if both ends enable them and nothing strips them. */
static inline bool tw_ts_negotiated(int local_timestamps, int peer_timestamps, bool stripped)
{
	return local_timestamps != 0 && peer_timestamps != 0 && !stripped;
}
/* A 64-bit mixing hash (splitmix64 finalizer) used for offsets, ISNs and port offsets.
 * Inline: the simulator calls it several times per connection. */
static inline uint64_t tw_hash64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

#endif
