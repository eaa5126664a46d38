/*
 * timewait — entering TIME-WAIT and its lifetime (see timewait.h): §1.1-§1.5, §7.
 */
#include "model/timewait.h"

int64_t tw_rto_35(int64_t rto_ns)
{
	/* §1.2: computed as 4*rto - rto/2 so the integer rounding matches */
	return 4 * rto_ns - rto_ns / 2;
}

bool tw_recycle_available(const struct tw_profile *p)
{
	return p->has_tw_recycle; /* §4.5: removed in 4.12 */
}

void tw_timewait_enter(const struct tw_profile *p, const struct tw_enter_in *in,
		       struct tw_enter_out *out)
{
	out->timeout_ns = 0;
	out->recycled = false;
	out->counts_killed = false;
	/* §7: SO_LINGER 0 goes through tcp_disconnect: RST, state CLOSE, no TIME-WAIT */
	if (in->linger0) {
		out->what = TW_ENTER_RESET;
		return;
	}
	/* §1.4: inet_twsk_alloc fails at or above the limit; the socket is simply destroyed */
	if (in->tw_count >= in->max_tw_buckets) {
		out->what = TW_ENTER_OVERFLOW;
		return;
	}
	out->what = TW_ENTER_TIMEWAIT;
	/* §1.2 step 4: <= 4.11 with tw_recycle and a timestamped peer whose stamp was
	 * remembered: the TIME-WAIT lives only 3.5 x RTO */
	if (p->has_tw_recycle && in->tw_recycle && in->ts_negotiated && in->recycle_ok) {
		out->timeout_ns = tw_rto_35(in->rto_ns);
		out->recycled = true;
	} else {
		/* TCP_TIMEWAIT_LEN, a compile-time constant in every era (§1.2) */
		out->timeout_ns = TW_TIMEWAIT_LEN_NS;
	}
	/* §1.3: the first arm counts TWKilled for short timers, TW for the rest */
	out->counts_killed = out->timeout_ns <= TW_KILLED_MAX_NS;
}

int64_t tw_fin_time(int64_t linger2_ns, int64_t fin_timeout_ns, int64_t rto_ns)
{
	int64_t t = linger2_ns > 0 ? linger2_ns : fin_timeout_ns;
	int64_t floor = tw_rto_35(rto_ns); /* §1.1: never below 3.5 x RTO */
	return t > floor ? t : floor;
}

enum TW_FW2 tw_fin_wait2_orphan(int64_t linger2_ns, int64_t fin_timeout_ns, int64_t rto_ns,
				int64_t *tmo_ns)
{
	int64_t tmo;
	if (linger2_ns < 0) { /* §1.1, §7: RST + TCPAbortOnLinger */
		*tmo_ns = 0;
		return TW_FW2_CLOSE;
	}
	tmo = tw_fin_time(linger2_ns, fin_timeout_ns, rto_ns);
	if (tmo > TW_TIMEWAIT_LEN_NS) {
		/* §1.1: the full socket waits tmo - 60 s on the keepalive timer first */
		*tmo_ns = tmo - TW_TIMEWAIT_LEN_NS;
		return TW_FW2_FULL_SOCKET;
	}
	*tmo_ns = tmo;
	return TW_FW2_SUBSTATE;
}

int64_t tw_fin_wait2_lifetime(int64_t tmo_ns, int64_t fin_after_ns)
{
	/* §1.1: the peer's FIN turns the substate into TIME_WAIT and re-arms 60 s */
	if (fin_after_ns < 0 || fin_after_ns >= tmo_ns)
		return tmo_ns;
	return fin_after_ns + TW_TIMEWAIT_LEN_NS;
}

int64_t tw_timer_lifetime(const struct tw_profile *p, int64_t timeout_ns, int64_t phase_ns)
{
	/* §1.3 (<= 4.0): 8 cells of 60/8 = 7.5 s; a TW for >= 60 s goes 7 cells ahead of the
	 * current index, so it is reaped 7 full periods after the next tick. [M] */
	const int64_t period = TW_TIMEWAIT_LEN_NS / 8;
	if (!p->timer_wheel || timeout_ns < TW_TIMEWAIT_LEN_NS)
		return timeout_ns;
	if (phase_ns < 0)
		phase_ns = 0;
	phase_ns %= period;
	return 7 * period + (period - phase_ns);
}

uint64_t tw_max_tw_buckets_default(uint64_t ehash_entries)
{
	/* §1.4: unknown hash size: the stand-in of a machine with a few GB */
	if (ehash_entries == 0)
		return TW_MAX_TW_BUCKETS_DEFAULT;
	return ehash_entries / 2;
}

uint64_t tw_timewait_mem_bytes(uint64_t n)
{
	return n * (TW_SOCK_BYTES_DEFAULT + TW_BIND_BUCKET_BYTES);
}
