/*
 * ports — the ephemeral port budget of connect() (§3). Pure: the caller supplies the range
 * and a bitmap of ports that are out of bounds (reserved, or held by bind()/listeners).
 */
#ifndef TWKIT_MODEL_PORTS_H
#define TWKIT_MODEL_PORTS_H

#include <stdint.h>

#include "model/profile.h"

/* A 65536-bit set of port numbers. */
struct tw_portset {
	uint64_t bits[1024];
};

void tw_portset_clear(struct tw_portset *s);
void tw_portset_add(struct tw_portset *s, uint16_t port);
int tw_portset_has(const struct tw_portset *s, uint16_t port);
/* Parse ip_local_reserved_ports syntax ("8080,9000-9010"), adding to s. 0 or -EINVAL. */
int tw_portset_parse_list(struct tw_portset *s, const char *text);

/*
 * Ports connect() can pick toward one destination (one (local IP, remote IP, remote port)):
 * the ports of [lo, hi] that connect()'s search visits under this era, minus those in
 * `excluded` (may be NULL). §3.2 C-E (4.6+): the scan length is rounded down to even, but a
 * walk from an offset >= 2 reaches the top port, so only a 3-port range loses its top port.
 */
uint32_t tw_ports_usable(const struct tw_profile *p, uint16_t lo, uint16_t hi,
			 const struct tw_portset *excluded);
/* Whether some attempt of the era's search visits port `port` of [lo, hi] (rule above). */
int tw_ports_visited(const struct tw_profile *p, uint16_t lo, uint16_t hi, uint16_t port);

#endif
