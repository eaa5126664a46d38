/*
 * bench_budget — the sustained-rate rule behind bench's interpretation (see bench_budget.h).
 * A closed 4-tuple stays taken for TW_TIMEWAIT_LEN (§1.2) on the side that closed first; with
 * tcp_tw_reuse applicable, connect() takes it over once it is old enough (§2.2); linger0 and
 * server-side close leave the client no TIME-WAIT at all (§7). Ports per destination come from
 * tw_ports_usable (§3.2); bind() before connect() makes the budget host-wide (§3.3).
 */
#include "model/bench_budget.h"

#include <errno.h>
#include <string.h>

#include "model/ports.h"

int tw_budget_compute(const struct tw_profile *p, const struct tw_budget_in *in,
		      struct tw_budget_out *out)
{
	memset(out, 0, sizeof(*out));
	if (in->port_lo == 0 || in->port_hi < in->port_lo || !in->sources || !in->dest_ports)
		return -EINVAL;
	if (in->per_socket_range)
		out->ports = (uint32_t)(in->port_hi - in->port_lo + 1);
	else
		out->ports = tw_ports_usable(p, in->port_lo, in->port_hi, NULL);
	/* bind(ip, 0) picks a port no other socket on that address holds, whatever the
	 * destination: the budget stops growing with destination ports (§3.3) */
	out->tuples = (uint64_t)out->ports * in->sources * (in->bind_no_port ? in->dest_ports : 1);
	out->reuse_why = tw_reuse_explain(p, &in->reuse);
	if (!in->client_closes || in->client_linger0) {
		out->why = TW_BUDGET_NO_CLIENT_TW;
		return 0;
	}
	if (out->reuse_why == TW_REUSE_HELPS && in->bind_no_port) {
		out->why = TW_BUDGET_REUSE_BOUND;
		out->hold_ms = tw_reuse_min_age_ms(p, in->reuse_delay_ms);
	} else {
		out->why = TW_BUDGET_TW_BOUND;
		out->hold_ms = TW_TIMEWAIT_LEN_MS;
	}
	out->rate = (double)out->tuples * 1000.0 / out->hold_ms;
	return 0;
}
