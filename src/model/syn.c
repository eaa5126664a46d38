/*
 * syn — SYN retransmission schedules and the SYN-meets-TIME-WAIT decision (see syn.h).
 */
#include "model/syn.h"

#include "model/recycle.h"

#define NS_S 1000000000LL

int tw_syn_retries_default(const struct tw_profile *p)
{
	/* §10: TCP_SYN_RETRIES was 5 before 3.7, 6 after */
	return p->ver < TW_KVER(3, 7) ? 5 : 6;
}

int tw_syn_schedule(const struct tw_profile *p, int syn_retries, int64_t *at, int64_t *fail_ns)
{
	/* §10: TCP_TIMEOUT_INIT 3 s before 3.1, 1 s after; doubling, capped at TCP_RTO_MAX */
	const int64_t rto_max = 120 * NS_S;
	const int64_t rto0 = p->syn_sched == TW_SYN_INIT3S ? 3 * NS_S : NS_S;
	int64_t rto = rto0, t = 0, limit;
	int n = 0, linear = 0, max;

	if (syn_retries < 0)
		syn_retries = tw_syn_retries_default(p);
	/* The timer gives up at the first firing where either the elapsed time reaches what
	 * syn_retries exponential timeouts would take, rto0 * (2^(retries+1) - 1), or the
	 * retransmissions reach the budget. §10 with docs/kernel-tw-spec-notes.md: on 6.18,
	 * tcp_syn_retries 1, 2, 3, 4 fail at 3, 7, 19, 35 s after 2, 5, 7, 8 retransmissions. */
	limit = rto0 * ((2LL << (syn_retries < 30 ? syn_retries : 30)) - 1);
	max = syn_retries;
	/* 6.5+: tcp_syn_linear_timeouts = 4 timeouts at the initial RTO first, and the budget
	 * becomes syn_retries + 4 */
	if (p->syn_sched == TW_SYN_LINEAR4) {
		linear = 4;
		max += linear;
	}
	if (max > TW_SYN_MAX_TRIES)
		max = TW_SYN_MAX_TRIES;
	for (;;) {
		t += rto; /* the timer fires */
		if (t >= limit || n >= max)
			break;
		at[n++] = t;
		if (n > linear)
			rto = rto * 2 > rto_max ? rto_max : rto * 2;
	}
	*fail_ns = t;
	return n;
}

enum TW_SYN_VERDICT tw_timewait_syn(const struct tw_tw_seg *tw, bool syn_has_ts,
				    uint32_t tsval, uint32_t seq, uint32_t now_s)
{
	bool paws_reject = false;
	/* §5.1 preamble: with no timestamps on the TW there is no PAWS check at all */
	if (syn_has_ts && tw->ts_recent_stamp_s != 0)
		paws_reject = !tw_paws_check(tw->ts_recent, tw->ts_recent_stamp_s, tsval, 0, now_s);
	if (paws_reject)
		return TW_SYN_ACK_PAWS;
	/* §5.1 TCP_TW_SYN: a new incarnation by sequence, or by a newer timestamp */
	if ((int32_t)(seq - tw->rcv_nxt) > 0)
		return TW_SYN_ACCEPT;
	if (syn_has_ts && tw->ts_recent_stamp_s != 0 && (int32_t)(tsval - tw->ts_recent) > 0)
		return TW_SYN_ACCEPT;
	return TW_SYN_ACK;
}

bool tw_timewait_rst_kills(int rfc1337)
{
	return rfc1337 == 0; /* §5.1: TIME-WAIT assassination unless RFC 1337 protection */
}

uint32_t tw_reuse_isn(uint32_t tw_snd_nxt)
{
	uint32_t s = tw_snd_nxt + 65535u + 2u;
	return s ? s : 1;
}
