/*
 * reuse — tcp_twsk_unique per era (§2.2) and the operator-level explanation built on it.
 */
#include "model/reuse.h"

bool tw_reuse_unique(const struct tw_profile *p, const struct tw_reuse_tw *tw,
		     const struct tw_reuse_req *req, uint32_t *isn)
{
	int reuse = req->reuse;
	bool ok;

	/* §2.2: value 2 means loopback only (4.19+); older kernels treat any non-zero as on */
	if (p->reuse_loopback_mode && reuse == 2 && !tw->loopback)
		reuse = 0;
	/* §2.2, 6.12+: a FIN_WAIT2-substate TW is never reused through the sysctl */
	if (p->reuse_no_fin_wait2 && tw->fin_wait2_substate)
		reuse = 0;
	/* common requirement: the TW saw a timestamp (timestamps negotiated) */
	if (tw->ts_recent_stamp_s == 0)
		return false;
	if (req->port_bound) {
		ok = true; /* §2.3 bound-port bypass: twp == NULL takes over at once */
	} else if (!reuse) {
		ok = false;
	} else {
		int64_t now_s = req->now_ms / 1000;
		switch (p->reuse_rule) {
		case TW_REUSE_SEC_GT1:
			ok = now_s - (int64_t)tw->ts_recent_stamp_s > 1;
			break;
		case TW_REUSE_SEC_GT0:
			ok = (int32_t)((uint32_t)now_s - tw->ts_recent_stamp_s) > 0;
			break;
		case TW_REUSE_MS_DELAY:
		default:
			ok = req->now_ms - tw->entry_ms > (int64_t)req->delay_ms;
			break;
		}
	}
	if (ok && isn) {
		/* §2.2 takeover: new ISN above the old sequence space; 0 is avoided */
		uint32_t s = tw->snd_nxt + 65535u + 2u;
		*isn = s ? s : 1;
	}
	return ok;
}

enum TW_REUSE_WHY tw_reuse_explain(const struct tw_profile *p, const struct tw_reuse_scope *s)
{
	if (!s->outgoing)
		return TW_REUSE_INCOMING;
	if (s->reuse == 0)
		return TW_REUSE_OFF;
	if (p->reuse_loopback_mode && s->reuse == 2 && !s->loopback)
		return TW_REUSE_LOOPBACK_ONLY;
	if (s->timestamps == 0)
		return TW_REUSE_TS_OFF_LOCAL;
	if (s->peer_timestamps == 0)
		return TW_REUSE_TS_OFF_PEER;
	if (s->peer_timestamps < 0)
		return TW_REUSE_PEER_UNKNOWN;
	return TW_REUSE_HELPS;
}

const char *tw_reuse_why_str(enum TW_REUSE_WHY why)
{
	switch (why) {
	case TW_REUSE_HELPS:
		return "tcp_tw_reuse takes over TIME-WAIT 4-tuples for new outgoing connections";
	case TW_REUSE_OFF:
		return "tcp_tw_reuse is 0";
	case TW_REUSE_LOOPBACK_ONLY:
		return "tcp_tw_reuse=2 only covers loopback traffic, and this traffic is not loopback";
	case TW_REUSE_TS_OFF_LOCAL:
		return "tcp_timestamps=0 on this host: no TIME-WAIT carries a timestamp, so none "
		       "can be reused";
	case TW_REUSE_TS_OFF_PEER:
		return "the peer does not negotiate TCP timestamps (or a middlebox strips them): "
		       "reuse needs them on both ends";
	case TW_REUSE_PEER_UNKNOWN:
		return "no established connection to this peer shows whether it does timestamps";
	case TW_REUSE_INCOMING:
		return "these TIME-WAIT sockets belong to incoming connections: tcp_tw_reuse only "
		       "applies to connect()";
	}
	return "?";
}

uint32_t tw_reuse_min_age_ms(const struct tw_profile *p, uint32_t delay_ms)
{
	switch (p->reuse_rule) {
	case TW_REUSE_SEC_GT1:
		return 2000; /* "> 1 s" on a seconds clock: between 1 and 2 s, worst case 2 s */
	case TW_REUSE_SEC_GT0:
		return 1000; /* "> 0 s": between 0 and 1 s, worst case 1 s */
	case TW_REUSE_MS_DELAY:
	default:
		return delay_ms;
	}
}
