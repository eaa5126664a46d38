/*
 * portsearch — connect()'s search priced per candidate (see portsearch.h). The walk itself
 * is portsel's (§3.2 A-F); this file decides per candidate from the caller's map and counts.
 */
#include "model/portsearch.h"

#include <errno.h>
#include <stddef.h>

#include "model/portsel.h"

struct scan {
	const struct tw_connect_probe_req *r;
	struct tw_connect_search *out;
};

/* §2.1 for one candidate: 1 when connect() takes the port. Reserved and bind()-owned ports
 * are refused before the established hash is looked at. */
static int cand_ok(void *arg, uint16_t port)
{
	struct scan *s = arg;
	uint8_t st = s->r->state[port - s->r->lo];
	switch (st) {
	case TW_PORT_FREE:
		return 1; /* no bucket: one is made, no check */
	case TW_PORT_RESERVED:
	case TW_PORT_BOUND:
		return 0;
	case TW_PORT_SHARED:
		s->out->ehash_checks++;
		return 1;
	case TW_PORT_TW_OLD:
		s->out->ehash_checks++;
		s->out->takeover = true;
		return 1;
	default: /* held, young or untimestamped TIME-WAIT */
		s->out->ehash_checks++;
		return 0;
	}
}

int tw_connect_search(const struct tw_profile *p, const struct tw_connect_probe_req *r,
		      struct tw_connect_search *out)
{
	*out = (struct tw_connect_search){ .rc = -EINVAL };
	if (!p || !r || !r->state || r->lo == 0 || r->lo > r->hi)
		return out->rc;
	if (r->bound) {
		/* §2.3: the port is the socket's already; one check with twp == NULL */
		if (r->bound_port < r->lo || r->bound_port > r->hi)
			return out->rc;
		uint8_t st = r->state[r->bound_port - r->lo];
		out->ehash_checks = st == TW_PORT_FREE ? 0 : 1;
		out->port = r->bound_port;
		out->takeover = st == TW_PORT_TW_YOUNG || st == TW_PORT_TW_OLD;
		out->rc = st == TW_PORT_HELD || st == TW_PORT_TW_NOTS ? -EADDRNOTAVAIL : 0;
		return out->rc;
	}
	/* the walk from r->start: a one-entry table whose slot 0 is the start (every era picks
	 * slot 0 for a zero port offset), and the start itself as the offset for §3.2 F */
	uint32_t slot0 = r->start;
	struct tw_portsel st = { .hint = r->start, .perturb = &slot0 };
	struct scan s = { .r = r, .out = out };
	bool f = r->socket_range && p->has_local_port_range_opt;
	struct tw_portsel_req q = {
		.lo = r->lo, .hi = r->hi, .socket_range = r->socket_range,
		/* §3.2 F's first candidate is lo + start % n, portsel's lo + (offset + 1) % n */
		.port_offset = f ? (uint64_t)r->start + ((uint32_t)r->hi - r->lo) : 0, .ok = cand_ok, .arg = &s,
	};
	uint32_t hint0 = st.hint;
	out->rc = tw_port_select(p, &st, &q, &out->port, &out->probes);
	if (out->rc) {
		out->takeover = false;
		out->port = 0;
	} else if (!f) {
		/* recover the kernel's i from how far the slot moved (A: i; B: even-rounded
		 * i + 2; C-E: i + 2, the era's jump not drawn here) */
		uint32_t moved = p->port_alg <= TW_PORT_ALG_HINT_PARITY ? st.hint - hint0
									 : slot0 - r->start;
		out->i = p->port_alg == TW_PORT_ALG_HINT_SEQ ? moved : moved - 2;
	}
	return out->rc;
}

uint32_t tw_connect_probes(const struct tw_profile *p, const struct tw_connect_probe_req *r)
{
	struct tw_connect_search o;
	tw_connect_search(p, r, &o);
	return o.rc == -EINVAL ? 0 : o.probes;
}

/* Mean position of the first of `a` acceptable ports among `h` candidates in random order,
 * 1-based: (h + 1) / (a + 1). */
static double first_of(uint32_t h, uint32_t a)
{
	return ((double)h + 1.0) / ((double)a + 1.0);
}

double tw_connect_probes_expected(const struct tw_profile *p, uint32_t n, uint32_t blocked,
				  uint32_t reusable)
{
	if (n == 0)
		return 0.0;
	if (blocked >= n)
		return (double)n; /* the failing walk: every candidate of both passes */
	(void)reusable; /* taken at once: as good as free for the count */
	if (p->port_alg < TW_PORT_ALG_HINT_PARITY || n == 1)
		return first_of(n, n - blocked);
	/* §3.3: the first pass's parity fills first */
	uint32_t h1 = (n + 1) / 2, h2 = n - h1;
	uint32_t b1 = blocked < h1 ? blocked : h1, b2 = blocked - b1;
	if (b1 < h1)
		return first_of(h1, h1 - b1);
	return (double)h1 + first_of(h2, h2 - b2);
}
