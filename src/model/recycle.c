/*
 * recycle — tcp_tw_recycle's per-peer timestamp rules (see recycle.h): §4.1, §4.3, §5.
 */
#include "model/recycle.h"

bool tw_recycle_remember(struct tw_peer_ts *e, uint32_t ts_recent, uint32_t ts_recent_stamp_s,
			 uint32_t now_s)
{
	/* §4.1: overwrite when the new value is not older (signed 32-bit compare), or when the
	 * cached one is stale (> 60 s) and its stamp not newer than the socket's */
	if (!e->valid || (int32_t)(e->ts - ts_recent) <= 0 ||
	    (now_s >= e->stamp_s + TW_PAWS_MSL_S && e->stamp_s <= ts_recent_stamp_s)) {
		e->ts = ts_recent;
		e->stamp_s = ts_recent_stamp_s;
		e->valid = true;
	}
	return true;
}

bool tw_recycle_syn_drop(const struct tw_profile *p, const struct tw_peer_ts *e,
			 bool syn_has_ts, uint32_t tsval, uint32_t now_s)
{
	if (!p->has_tw_recycle || !e || !e->valid)
		return false;
	/* 2.6.x - 3.17 require a timestamp in the SYN; ~3.18-4.11 also drop SYNs without one
	 * (§4.3) */
	if (!syn_has_ts && !p->recycle_syn_without_ts_dropped)
		return false;
	/* the entry must be fresh: younger than TCP_PAWS_MSL */
	if (now_s >= e->stamp_s + TW_PAWS_MSL_S)
		return false;
	if (!syn_has_ts)
		return true;
	/* the SYN's TSval is more than TCP_PAWS_WINDOW behind the cached one */
	return (int32_t)(e->ts - tsval) > TW_PAWS_WINDOW;
}

bool tw_paws_check(uint32_t ts_recent, uint32_t ts_recent_stamp_s, uint32_t tsval,
		   int32_t win, uint32_t now_s)
{
	/* §5: in order within the window, or TS.Recent too old to trust (24 days: the signed
	 * 32-bit order of a 1 kHz clock inverts after 24.8 days), or none recorded */
	if ((int32_t)(ts_recent - tsval) <= win)
		return true;
	if (now_s >= ts_recent_stamp_s + TW_PAWS_24DAYS_S)
		return true;
	return ts_recent == 0;
}
