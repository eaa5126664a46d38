/*
 * budget — the budget rules (see budget.h). A closed 4-tuple stays taken for TW_TIMEWAIT_LEN
 * (§1.2) on the side that closed first; with tcp_tw_reuse applicable, connect() takes it over
 * once it is old enough (§2.2); linger0 and a server that closes first leave the connecting
 * side no TIME-WAIT (§7); a server's TIME-WAIT is reopened by the next SYN (§5.1), so it sets
 * no ceiling. Ports per destination come from tw_ports_usable (§3.2); bind() before connect()
 * makes the budget host-wide (§3.3).
 */
#include "model/budget.h"

#include <errno.h>
#include <math.h>
#include <string.h>

#include "model/syn.h"

double tw_budget_rate(uint64_t tuples, uint32_t hold_ms)
{
	return hold_ms ? (double)tuples * 1000.0 / hold_ms : 0.0;
}

bool tw_reuse_would_help(const struct tw_profile *p, const struct tw_reuse_scope *s)
{
	struct tw_reuse_scope on = *s;

	on.reuse = 1;
	return tw_reuse_explain(p, &on) == TW_REUSE_HELPS;
}

enum TW_SRV_SYN tw_server_tw_syn(const struct tw_profile *p, int timestamps, int peer_timestamps,
				 int syn_retries, int rfc1337, int64_t *wait_ns)
{
	int64_t at[TW_SYN_MAX_TRIES], fail_ns = 0;
	enum TW_SRV_SYN v;
	int n;

	if (timestamps == 0 || peer_timestamps == 0)
		v = TW_SRV_REOPEN_SEQ;
	else if (peer_timestamps < 0)
		v = TW_SRV_UNKNOWN;
	else
		v = TW_SRV_REOPEN_TS;
	if (!wait_ns)
		return v;
	*wait_ns = 0;
	if (v == TW_SRV_REOPEN_TS)
		return v;
	/* §5.1: the TIME-WAIT ACKs the SYN, the client's RST kills it (rfc1337 = 0) and the
	 * first SYN retransmission (§10) opens the 4-tuple; with rfc1337 = 1 the RST is ignored
	 * and the TIME-WAIT holds the 4-tuple until its timer ends. */
	if (rfc1337 > 0) {
		*wait_ns = TW_TIMEWAIT_LEN_NS;
		return v;
	}
	n = tw_syn_schedule(p, syn_retries, at, &fail_ns);
	*wait_ns = n > 0 ? at[0] : fail_ns;
	return v;
}

const char *tw_server_tw_syn_str(enum TW_SRV_SYN v)
{
	switch (v) {
	case TW_SRV_REOPEN_TS:
		return "timestamps are negotiated: a SYN with a newer timestamp reopens the "
		       "4-tuple at once, so the server's TIME-WAIT sets no ceiling";
	case TW_SRV_REOPEN_SEQ:
		return "no timestamps: a SYN whose sequence is after the old connection's reopens "
		       "the 4-tuple (a Linux client's ISN clock runs ahead, so its own reconnects "
		       "pass); one that is not gets an ACK, the client resets, and its SYN "
		       "retransmission gets through";
	case TW_SRV_UNKNOWN:
		break;
	}
	return "a new SYN reopens the 4-tuple when its timestamp is newer or its sequence is "
	       "after the old connection's; nothing shows yet whether the clients do timestamps";
}

int tw_budget_compute(const struct tw_profile *p, const struct tw_budget_in *in,
		      struct tw_budget_out *out)
{
	memset(out, 0, sizeof(*out));
	if (in->port_lo == 0 || in->port_hi < in->port_lo || !in->sources || !in->dest_ports)
		return -EINVAL;
	if (in->per_socket_range)
		out->ports = (uint32_t)(in->port_hi - in->port_lo + 1);
	else
		out->ports = tw_ports_usable(p, in->port_lo, in->port_hi, in->excluded);
	/* bind(ip, 0) picks a port no other socket on that address holds, whatever the
	 * destination: the budget stops growing with destination ports (§3.3) */
	out->tuples = (uint64_t)out->ports * in->sources * (in->bind_no_port ? in->dest_ports : 1);
	out->reuse_why = tw_reuse_explain(p, &in->reuse);
	if (!in->reuse.outgoing) {
		/* the accepting side's view: the TIME-WAIT it holds is reopened by a SYN (§5.1) */
		out->why = TW_BUDGET_SERVER_TW;
		out->srv_syn = tw_server_tw_syn(p, in->reuse.timestamps, in->reuse.peer_timestamps,
						in->syn_retries, in->rfc1337, &out->srv_wait_ns);
		return 0;
	}
	if (!in->client_closes || in->client_linger0) {
		out->why = TW_BUDGET_NO_CLIENT_TW;
		return 0;
	}
	if (out->reuse_why == TW_REUSE_HELPS && in->bind_no_port) {
		out->why = TW_BUDGET_REUSE_BOUND;
		out->hold_ms = tw_reuse_min_age_ms(p, in->reuse_delay_ms ? in->reuse_delay_ms
									 : TW_REUSE_DELAY_DEFAULT_MS);
	} else {
		out->why = TW_BUDGET_TW_BOUND;
		out->hold_ms = TW_TIMEWAIT_LEN_MS;
	}
	out->rate = tw_budget_rate(out->tuples, out->hold_ms);
	return 0;
}

uint32_t tw_age_ms(uint32_t expires_ms)
{
	return expires_ms >= TW_TIMEWAIT_LEN_MS ? 0 : TW_TIMEWAIT_LEN_MS - expires_ms;
}

double tw_rate_from_ages(uint32_t count, uint32_t oldest_ms, uint32_t window_ms)
{
	uint32_t span = oldest_ms < window_ms ? oldest_ms : window_ms;

	if (!count)
		return 0.0;
	if (span < 1000)
		span = 1000;
	return count * 1000.0 / span;
}

/* Seconds of TIME-WAIT life the forecast can follow (the 60 s timer plus one slot). */
#define ETA_MAX_SLOTS 128

double tw_budget_eta_s(uint32_t usable, uint32_t in_use, const uint16_t *left, int nslots,
		       double rate, uint32_t hold_ms)
{
	uint32_t frees[ETA_MAX_SLOTS + 1] = { 0 };
	double hold_s = hold_ms / 1000.0, base = in_use;
	/* a TIME-WAIT with L s left is hold_s old after L - (60 - hold_s) more seconds */
	double shift = (double)TW_TIMEWAIT_LEN_MS / 1000.0 - hold_s;
	int horizon = (int)ceil(hold_s);
	uint32_t alive = 0;

	if (usable == 0)
		return 0;
	if (nslots > ETA_MAX_SLOTS)
		nslots = ETA_MAX_SLOTS;
	if (horizon > ETA_MAX_SLOTS)
		horizon = ETA_MAX_SLOTS;
	for (int s = 0; s < nslots; s++) {
		double at = s - shift;
		if (!left[s] || s + 1 - shift <= 0)
			continue; /* already old enough to be taken over */
		int t = at < 0 ? 0 : (int)at;
		if (t > horizon)
			t = horizon;
		frees[t] += left[s];
		alive += left[s];
	}
	if (base + alive >= usable)
		return 0;
	if (rate <= 0 || hold_ms == 0)
		return -1;
	if (base + rate * hold_s < usable)
		return -1; /* the steady state fits: 4-tuples come back as fast as they are taken */
	for (int t = 0; t <= horizon; t++) {
		/* the ones that come back during second t leave before its end */
		double at_end = base + (alive - frees[t]) + rate * (t + 1);
		if (at_end >= usable) {
			double at_start = base + alive + rate * t;
			double need = usable - at_start;
			double slope = at_end - at_start;
			double frac = slope > 0 && need > 0 ? need / slope : 0;
			return t + (frac > 1 ? 1 : frac);
		}
		alive -= frees[t];
	}
	return hold_s + (usable - base - rate * hold_s) / rate;
}

uint32_t tw_budget_reusable(const uint16_t *left, int nslots, uint32_t hold_ms)
{
	/* slot s holds TIME-WAITs with [s, s+1) s left: all of them are hold_ms old when
	 * s + 1 <= 60 - hold_s (the same rule tw_budget_eta_s frees at once) */
	double shift = (double)TW_TIMEWAIT_LEN_MS / 1000.0 - hold_ms / 1000.0;
	uint32_t n = 0;

	for (int s = 0; s < nslots; s++)
		if (s + 1 - shift <= 0)
			n += left[s];
	return n;
}
