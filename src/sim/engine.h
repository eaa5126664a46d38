/*
 * engine — the event loop of one sim_run() (engine.c), and what it lends the network paths
 * (net.h): the seeded random draws, constant arrival times, the latency histogram, the
 * hosts' setup. The shared state is state.h. Private to src/sim.
 */
#ifndef TWKIT_SIM_ENGINE_H
#define TWKIT_SIM_ENGINE_H

#include "sim/state.h"

uint64_t sim_rand(struct sim_eng *e);
/* The k-th of a node's constant arrivals at r connections/s (k >= 1), in ns: from the count,
 * not by adding intervals (no drift over millions of steps); k converted signed (the same
 * double below 2^63, a shorter conversion). */
static inline int64_t sim_const_arrival(uint64_t k, double r)
{
	return (int64_t)((double)(int64_t)k * 1e9 / r);
}

/* When r divides 10^9, the k-th arrival is k * (10^9 / r) ns: a multiply instead of a divide
 * on the event loop's critical path, and the same number sim_const_arrival gives for every
 * k < *klim. There k * 10^9 = k * 1953125 * 2^9 is an exact double (its odd part is below
 * 2^53), and so is the quotient k * period (period = 2^a 5^b, b <= 9: its odd part is no
 * larger), so the correctly rounded division returns the quotient itself. Returns false,
 * period and klim 0, for any other r. */
static inline bool sim_const_period(double r, int64_t *period, uint64_t *klim)
{
	*period = 0;
	*klim = 0;
	if (!(r >= 1 && r <= 1e9) || r != (double)(uint64_t)r || 1000000000ULL % (uint64_t)r)
		return false;
	*period = (int64_t)(1000000000ULL / (uint64_t)r);
	*klim = (1ULL << 53) / 1953125; /* 10^9 = 2^9 * 1953125; k * period < 2^63 below it */
	return true;
}

/* Step the generator as sim_rand does, for a draw nobody reads. */
static inline void sim_rand_skip(struct sim_eng *e)
{
	e->rng += SIM_RNG_STEP;
}
/* Put the pending run of equal latencies into the histogram and the over-N-s counts. */
void sim_lat_flush(struct sim_eng *e);
/* Build every TCP host of the run (tables, port selection, timestamps) / free them. */
int sim_hosts_init(struct sim_eng *e);
void sim_hosts_fini(struct sim_eng *e);

#endif
