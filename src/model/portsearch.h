/*
 * portsearch — what connect()'s ephemeral port search (§3.2, __inet_hash_connect) costs: how
 * many candidate ports it examines and how many established-hash checks (§2.1
 * check_established) it makes before it finds a port, per era, as a pure function of which
 * ports of the range are free, held, or in TIME-WAIT young or old; and the kernel CPU that
 * takes at a per-probe price.
 *
 * Per candidate the search does, by the state of the port (enum TW_PORT_STATE):
 *   reserved (ip_local_reserved_ports)      skipped before any lookup          (probe, no check)
 *   bound (a bind()-made bucket)            skipped after the bind-hash lookup (probe, no check)
 *   free (no bind bucket at all)            taken at once, a bucket is made    (probe, no check)
 *   shared (connect()-made bucket, this 4-tuple free)            taken        (probe + check)
 *   held (a live socket owns this 4-tuple)                       refused      (probe + check)
 *   TIME-WAIT young / without timestamps / reuse off: refused    (probe + check, §2.2)
 *   TIME-WAIT old (tcp_twsk_unique lets it go): taken over       (probe + check, §2.3)
 * EADDRNOTAVAIL comes back only after every candidate of the walk was refused (§3.3): a full
 * range costs one probe per port of the scan.
 *
 * The bound-port path (bind(port) then connect(), §2.3) skips the search: no probe, one
 * check with twp == NULL, so any TIME-WAIT with timestamps is taken over whatever its age
 * and tcp_tw_reuse; a live socket or a TIME-WAIT without timestamps on that 4-tuple fails it.
 *
 * Pure: no allocation, no state kept; the caller's map is read only.
 */
#ifndef TWKIT_MODEL_PORTSEARCH_H
#define TWKIT_MODEL_PORTSEARCH_H

#include <stdbool.h>
#include <stdint.h>

#include "model/profile.h"

/* State of one port of the range toward one destination, as connect()'s search sees it. */
enum TW_PORT_STATE {
	TW_PORT_FREE = 0,  /* no socket uses the port: no bind bucket */
	TW_PORT_SHARED,    /* used toward other destinations only: this 4-tuple is free */
	TW_PORT_HELD,      /* a live socket (any state but TIME-WAIT) owns this 4-tuple */
	TW_PORT_TW_YOUNG,  /* TIME-WAIT that tcp_twsk_unique refuses during the search (too
			    * young for tcp_tw_reuse, or reuse off); the bound path takes it */
	TW_PORT_TW_OLD,    /* TIME-WAIT that tcp_twsk_unique lets go: taken over (§2.3) */
	TW_PORT_TW_NOTS,   /* TIME-WAIT without timestamps: refused on every path (§2.2) */
	TW_PORT_BOUND,     /* bind()-made bucket (fastreuse >= 0): never chosen by the search */
	TW_PORT_RESERVED,  /* ip_local_reserved_ports: skipped */
	TW_PORT_NSTATES
};

/*
 * Kernel CPU of one connect(), the model's defaults, measured on the project's reference
 * machine (kernel 6.18, x86-64, 2 shared vCPUs; docs/sim.md "connect()'s price" says how, and
 * how to measure another: `twkit bench --calibrate`, or sim's `--set NODE.connect_probe_ns=N`):
 *   TW_CONNECT_PROBE_NS_DEFAULT: one candidate port examined that costs a bind-hash lookup
 *     and an established-hash check: the slope of a failing connect()'s system time against
 *     the number of TIME-WAIT ports filling the range (tcp_tw_reuse=0, private namespace):
 *     50 us at 500 ports, 87 us at 1,000, 186 us at 2,000, 425-459 us at 4,000, 867 us at
 *     8,000, 1.8 ms at 16,000: 90-125 ns a port while the same ports are walked again and
 *     again (cache-hot); 181 ns with the default 28,232 full (5.1 ms), whose tables leave
 *     the cache. Under churn a connect walks TIME-WAITs it has not touched for a lap, cold:
 *     170 ns, what `twkit lab connect-cost-full` (every connect walking the first parity)
 *     needs beside the low run (96-131 us against 58-90 us, about 285 ports a connect);
 *   TW_CONNECT_BASE_NS_DEFAULT: the rest of a connection's system time in the process that
 *     connects, what `twkit lab connect-cost-low --compare` reads as sys_us_per_conn at a
 *     low occupancy (58-90 us a connection over veth with bench's one request, median 75,
 *     between runs on a shared machine, 74-78 in one later session: the median is the default;
 *     in busy hours of that machine 96-115: the price is the hour's as well as the machine's,
 *     which is why lab_cost.bats holds ratios to the low run, docs/lab.md).
 * A connect() costs base + probes x probe (tw_connect_cost_ns).
 */
#define TW_CONNECT_PROBE_NS_DEFAULT 170u
#define TW_CONNECT_BASE_NS_DEFAULT 75000u

/* One core's worth of kernel time per second: a host whose connects cost this much per
 * second of wall time is bound by CPU (one connecting thread runs on one core). */
#define TW_CONNECT_CORE_NS_PER_S 1000000000ull

/* The search's answer for one connect(). */
struct tw_connect_search {
	int rc;                 /* 0, or -EADDRNOTAVAIL */
	uint16_t port;          /* the port chosen (rc 0) */
	bool takeover;          /* a TIME-WAIT on that 4-tuple was taken over (§2.3) */
	uint32_t probes;        /* candidate ports examined (reserved and bound included) */
	uint32_t ehash_checks;  /* established-hash checks made (check_established) */
	uint32_t i;             /* the kernel's loop index at success (the start moves by it:
				 * hint += i (era A), slot += max(i, jump) + 2 (C-E)) */
};

struct tw_connect_probe_req {
	uint16_t lo, hi;        /* the range (ip_local_port_range or IP_LOCAL_PORT_RANGE) */
	const uint8_t *state;   /* enum TW_PORT_STATE of port lo + k at state[k], hi - lo + 1
				 * entries */
	/* where the walk starts, before the era reduces it modulo the scan length (and rounds
	 * it to even on 4.2+): era A-D (hint + port_offset), era E (table_perturb[index] +
	 * (port_offset >> 32)) */
	uint32_t start;
	bool socket_range;      /* IP_LOCAL_PORT_RANGE set (§3.2 F, where the era has it): step
				 * 1, no parity split */
	bool bound;             /* bind(bound_port) before connect(): no search (§2.3) */
	uint16_t bound_port;
};

/*
 * The search of era p over the map in r, from r->start: fills *out and returns out->rc
 * (0, -EADDRNOTAVAIL; -EINVAL for an empty range, a NULL map or a bound port outside it).
 */
int tw_connect_search(const struct tw_profile *p, const struct tw_connect_probe_req *r,
		      struct tw_connect_search *out);

/* Candidate ports one connect() examines (out.probes of tw_connect_search), or 0 on invalid
 * input. The bound-port path examines none. */
uint32_t tw_connect_probes(const struct tw_profile *p, const struct tw_connect_probe_req *r);

/* Kernel CPU of one connect() that examined `probes` ports, ns: base + probes x probe_ns. */
static inline uint64_t tw_connect_cost_ns(uint64_t probes, uint64_t probe_ns, uint64_t base_ns)
{
	return base_ns + probes * probe_ns;
}

/* Connections per second one core sustains at that cost per connect (0 when cost is 0:
 * no bound). */
static inline double tw_connect_cpu_rate(uint64_t cost_ns)
{
	return cost_ns ? (double)TW_CONNECT_CORE_NS_PER_S / (double)cost_ns : 0.0;
}

/*
 * Expected probes of one connect() toward a destination whose usable range has `n` ports,
 * `blocked` of them refused (held, young or untimestamped TIME-WAIT) and `reusable` taken
 * over at once (old TIME-WAIT), when only counts are known (doctor): the era fills
 * connect()'s parity first (§3.3), so blocked ports are taken to fill the first pass's half
 * before the second's, placed at random within a half. Before 4.6 (one sequential pass) the
 * whole range is one half. Returns the mean probes (>= 1; n when every port is blocked: the
 * failing walk).
 */
double tw_connect_probes_expected(const struct tw_profile *p, uint32_t n, uint32_t blocked,
				  uint32_t reusable);

#endif
