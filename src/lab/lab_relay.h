/*
 * lab_relay — twkit's own L7 balancer for the lab: accepts on one address, opens a new
 * connection to a backend for each client (round-robin over backend ports and source
 * addresses, IP_BIND_ADDRESS_NO_PORT), copies bytes both ways, and when either side closes it
 * closes both — the backend first when the client closed, so the relay is the active closer
 * toward the server and holds that TIME-WAIT, as a proxy without upstream keep-alive does.
 * A failed backend connect() is data: counted by errno, and the client gets an RST.
 * Runs in the calling process (lab forks it into the balancer's namespace) until *stop.
 */
#ifndef TWKIT_LAB_LAB_RELAY_H
#define TWKIT_LAB_LAB_RELAY_H

#include <signal.h>
#include <stdint.h>

#include "lab/lab_scen.h"

struct lab_relay_cfg {
	char listen[32];              /* IPv4 address */
	uint16_t listen_port;
	char backend[32];             /* IPv4 address */
	uint16_t backend_port;        /* first port */
	uint32_t backend_ports;       /* ports from backend_port */
	char sources[LAB_MAX_IPS][32];/* source addresses toward the backend */
	uint32_t nsources;
	uint32_t max_pairs;           /* connections held at once */
	int report_fd;                /* one line per second: "relay T accepted ok fail eaddrnotavail" */
};

/* Cumulative counters, reported each second and at the end. */
struct lab_relay_stats {
	uint64_t accepted;
	uint64_t backend_ok;
	uint64_t backend_fail;        /* every failed backend connect */
	uint64_t eaddrnotavail;       /* of which EADDRNOTAVAIL */
};

/* Serve until *stop becomes non-zero. Returns 0 or -errno (socket setup failed). */
int lab_relay_run(const struct lab_relay_cfg *cfg, volatile sig_atomic_t *stop,
		  struct lab_relay_stats *st);
/* Parse one report line into *st; *t_s gets the line's time. 0 or -EINVAL. */
int lab_relay_parse_line(const char *line, double *t_s, struct lab_relay_stats *st);

#endif
