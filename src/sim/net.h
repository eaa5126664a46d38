/*
 * net — the network paths of one sim_run() (net.c): a connection's life through the hosts'
 * kernels, from connect() and its SYN to the close and the TIME-WAIT's expiry, each step a
 * call into model/. The event loop (engine.h) calls these; the shared state is state.h.
 * Private to src/sim.
 */
#ifndef TWKIT_SIM_NET_H
#define TWKIT_SIM_NET_H

#include "sim/state.h"

/* connect() on host `host` of `node` now; start (<= now) is when it was meant to run (a
 * client's arrival that waited for the host's core): the latency counts from there. 0 (SYN
 * sent), -EADDRNOTAVAIL (counted) or -ENOMEM (in e->err). */
int sim_connect(struct sim_eng *e, int node, uint32_t host, int64_t start);
void sim_syn_send(struct sim_eng *e, uint32_t conn);
void sim_syn(struct sim_eng *e, uint32_t conn);
void sim_conn_fail(struct sim_eng *e, uint32_t conn);
void sim_close(struct sim_eng *e, uint32_t conn);
/* The head of a TIME-WAIT FIFO is due: counted as TWKilled (killed) or TW unless it died
 * early, its tables let go, its record freed. */
void sim_tw_expire(struct sim_eng *e, uint32_t sock, bool killed);
/* Expiry is FIFO-ordered, so upcoming records are known: stage 0 prefetches the socket
 * record, stage 1 (a few events later) its ehash slot. No effect on results. */
void sim_tw_prefetch(const struct sim_eng *e, uint32_t sock, int stage);

#endif
