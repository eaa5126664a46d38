/*
 * tsclock — TSval per era (see tsclock.h): §5, §6, §4.5.
 */
#include "model/tsclock.h"

uint32_t tw_ts_offset(const struct tw_profile *p, const struct tw_ts_host *h, uint32_t saddr,
		      uint16_t sport, uint32_t daddr, uint16_t dport)
{
	uint64_t k;
	/* §6: the offset is 0 unless tcp_timestamps == 1 */
	if (h->timestamps != 1)
		return 0;
	switch (p->ts_offset) {
	case TW_TS_OFF_NONE:
		return 0;
	case TW_TS_OFF_PER_HOSTS: /* 4.11: siphash(saddr, daddr) */
		k = ((uint64_t)saddr << 32) | daddr;
		return (uint32_t)tw_hash64(k ^ h->secret);
	case TW_TS_OFF_PER_CONN:   /* 4.10: hashed over the 4-tuple */
	case TW_TS_OFF_PER_4TUPLE: /* 2026: upper half of the ISN siphash */
	default:
		k = ((uint64_t)saddr << 32) | daddr;
		k = tw_hash64(k ^ h->secret) ^ (((uint64_t)sport << 16) | dport);
		return (uint32_t)(tw_hash64(k) >> 32);
	}
}
