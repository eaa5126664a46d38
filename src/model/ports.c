/*
 * ports — connect()'s port budget (see ports.h), §3.2 and §3.3.
 */
#include "model/ports.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void tw_portset_clear(struct tw_portset *s)
{
	memset(s, 0, sizeof(*s));
}

void tw_portset_add(struct tw_portset *s, uint16_t port)
{
	s->bits[port >> 6] |= 1ULL << (port & 63);
}

int tw_portset_has(const struct tw_portset *s, uint16_t port)
{
	return (s->bits[port >> 6] >> (port & 63)) & 1;
}

int tw_portset_parse_list(struct tw_portset *s, const char *text)
{
	const char *p = text;
	while (*p) {
		char *e;
		long a, b;
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == ',')
			p++;
		if (!*p)
			break;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		a = strtol(p, &e, 10);
		b = a;
		p = e;
		if (*p == '-') {
			p++;
			if (*p < '0' || *p > '9')
				return -EINVAL;
			b = strtol(p, &e, 10);
			p = e;
		}
		if (a < 0 || b > 65535 || a > b)
			return -EINVAL;
		if (*p && *p != ',' && *p != '\n' && *p != ' ' && *p != '\t')
			return -EINVAL;
		for (long x = a; x <= b; x++)
			tw_portset_add(s, (uint16_t)x);
	}
	return 0;
}

int tw_ports_visited(const struct tw_profile *p, uint16_t lo, uint16_t hi, uint16_t port)
{
	uint32_t remaining;
	if (port < lo || port > hi)
		return 0;
	remaining = (uint32_t)hi + 1 - lo;
	/* §3.2 C-E (4.6+): remaining is rounded down to even and the start offset is even and
	 * below it, but the walk wraps only past hi: from offset >= 2 it reaches the top port.
	 * Only a 3-port range (scan of 2, offset always 0) never offers its top port; larger
	 * odd ranges offer every port to some attempts (seen on 6.18, kernel_facts #2). */
	if (p->port_alg >= TW_PORT_ALG_HINT_PARITY && remaining == 3)
		return port != hi;
	return 1;
}

uint32_t tw_ports_usable(const struct tw_profile *p, uint16_t lo, uint16_t hi,
			 const struct tw_portset *excluded)
{
	uint32_t n = 0;
	if (lo > hi)
		return 0;
	if (!excluded) /* every port but the one tw_ports_visited may leave out */
		return (uint32_t)hi + 1 - lo - !tw_ports_visited(p, lo, hi, hi);
	for (uint32_t port = lo; port <= hi; port++) {
		if (!tw_ports_visited(p, lo, hi, (uint16_t)port))
			continue;
		if (excluded && tw_portset_has(excluded, (uint16_t)port))
			continue;
		n++;
	}
	return n;
}
