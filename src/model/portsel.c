/*
 * portsel — connect()'s ephemeral port search (see portsel.h), §3.2 A-F.
 */
#include "model/portsel.h"

#include <errno.h>

uint32_t tw_portsel_table_size(const struct tw_profile *p)
{
	switch (p->port_alg) {
	case TW_PORT_ALG_PERTURB_256:
		return TW_PERTURB_256;
	case TW_PORT_ALG_PERTURB_64K:
		return TW_PERTURB_64K;
	default:
		return 0;
	}
}

static int try_port(const struct tw_portsel_req *r, uint32_t port)
{
	if (r->excluded && tw_portset_has(r->excluded, (uint16_t)port))
		return 0; /* reserved, or a bind()-owned bucket (fastreuse >= 0): never chosen */
	return r->ok(r->arg, (uint16_t)port);
}

/* A candidate whose held bit is clear: accepted at once when the caller says clear bits are
 * exact. */
static int try_clear(const struct tw_portsel_req *r, uint32_t port)
{
	if (r->held_exact && !r->excluded)
		return 1;
	return try_port(r, port);
}

/* First word index >= w whose full-summary bit is clear (words below nwords). */
static uint32_t next_open_word(const struct tw_portsel_req *r, uint32_t par, uint32_t step,
			       uint32_t w, uint32_t nwords)
{
	while (w < nwords) {
		uint64_t s = r->full[par][w >> 6];
		if (step == 1)
			s &= r->full[par ^ 1][w >> 6]; /* both parities are candidates */
		s |= (1ULL << (w & 63)) - 1;
		if (s != ~0ULL)
			return (w & ~63u) + (uint32_t)__builtin_ctzll(~s);
		w = (w & ~63u) + 64;
	}
	return nwords;
}

/* First r in [from, limit), stepping by `step` (1 or 2) from `from`, whose held bit is clear;
 * limit if none. Skips whole words whose candidate bits are all set. */
static uint32_t next_clear(const struct tw_portsel_req *rq, uint32_t from, uint32_t limit,
			   uint32_t step)
{
	const uint32_t par = from & 1;
	const uint64_t mask = step == 1 ? ~0ULL : (par ? 0xaaaaaaaaaaaaaaaaULL
						       : 0x5555555555555555ULL);
	const uint32_t nwords = (limit + 63) / 64;
	uint32_t r = from;
	while (r < limit) {
		uint64_t w = rq->held[r >> 6] | ~mask;  /* non-candidates count as held */
		w |= (1ULL << (r & 63)) - 1;            /* bits before r as well */
		if (w != ~0ULL) {
			uint32_t c = (r & ~63u) + (uint32_t)__builtin_ctzll(~w);
			return c < limit ? c : limit;
		}
		uint32_t nw = (r >> 6) + 1;
		if (rq->full[0] && rq->full[1])
			nw = next_open_word(rq, par, step, nw, nwords);
		r = nw * 64 + (step == 2 ? par : 0);
	}
	return limit;
}

/* Walk candidates r = a, a+step, ... < b (relative to lo). Returns 1 with *hit on success. */
static int walk_seg(const struct tw_portsel_req *r, uint32_t a, uint32_t b, uint32_t step,
		    uint32_t *hit, uint32_t *probes)
{
	uint32_t x = a;
	while (x < b) {
		if (r->held) {
			uint32_t y = next_clear(r, x, b, step);
			/* candidates skipped (step is 1 or 2: no division) */
			*probes += step == 1 ? y - x : (y - x + 1) >> 1;
			x = y;
			if (x >= b)
				break;
		}
		(*probes)++;
		if (r->held ? try_clear(r, r->lo + x) : try_port(r, r->lo + x)) {
			*hit = x;
			return 1;
		}
		x += step;
	}
	return 0;
}

/* §3.2 A (and F): step 1, candidates lo + (i + offset) % remaining for i = 1..remaining. */
static int walk_step1(const struct tw_portsel_req *r, uint32_t remaining, uint32_t offset,
		      uint32_t *port, uint32_t *i_out, uint32_t *probes)
{
	uint32_t start = (offset + 1) % remaining, hit;
	if (walk_seg(r, start, remaining, 1, &hit, probes) ||
	    walk_seg(r, 0, start, 1, &hit, probes)) {
		*port = r->lo + hit;
		*i_out = (hit + remaining - start) % remaining + 1;
		return 0;
	}
	return -EADDRNOTAVAIL;
}

/*
 * §3.2 C-E: even-relative pass from offset (low bit cleared), then the odd pass. Each pass
 * tests remaining/2 candidates (remaining is the scan length, rounded down to even), stepping
 * by 2 from lo + start and wrapping by subtracting remaining only once the port passes hi.
 * When the range has an odd size (n = remaining + 1), a walk that starts at 2 or above
 * therefore reaches the top port hi, and misses lo instead (seen on 6.18, kernel_facts #2).
 */
static int walk_parity(const struct tw_portsel_req *r, uint32_t n, uint32_t remaining,
		       uint32_t offset, uint32_t *port, uint32_t *i_out, uint32_t *probes)
{
	offset &= ~1u;
	/* the common case first: the walk's first candidate is known free (its held bit is
	 * clear) and accepted; the same answer the loop below gives, with less bookkeeping */
	if (r->held && !r->excluded && offset < n && !((r->held[offset >> 6] >> (offset & 63)) & 1) &&
	    (r->held_exact || r->ok(r->arg, (uint16_t)(r->lo + offset)))) {
		(*probes)++;
		*port = r->lo + offset;
		*i_out = 0;
		return 0;
	}
	for (uint32_t pass = 0; pass < 2; pass++) {
		uint32_t start = offset + pass, hit;
		/* unwrapped candidates start + 2j, j < remaining/2 (i < remaining in the kernel);
		 * those at or past n come back as (first one past n, of start's parity) - remaining */
		uint32_t end = start + remaining;
		uint32_t wrap = n + ((n ^ start) & 1);
		if (pass && remaining <= 1)
			break; /* a one-port range has no odd pass */
		if (walk_seg(r, start, end < n ? end : n, 2, &hit, probes) ||
		    (end > wrap && walk_seg(r, wrap - remaining, end - remaining, 2, &hit, probes))) {
			*port = r->lo + hit;
			*i_out = hit >= start ? hit - start : hit + remaining - start;
			return 0;
		}
	}
	return -EADDRNOTAVAIL;
}

int tw_port_select(const struct tw_profile *p, struct tw_portsel *st,
		   const struct tw_portsel_req *r, uint16_t *port, uint32_t *probes)
{
	uint32_t n_ports, remaining, offset, got = 0, i = 0, n = 0;
	int rc;

	if (r->lo > r->hi || r->lo == 0)
		return -EADDRNOTAVAIL;
	n_ports = remaining = (uint32_t)r->hi + 1 - r->lo;
	if (r->socket_range && p->has_local_port_range_opt) {
		/* §3.2 F: IP_LOCAL_PORT_RANGE: step 1, no parity split or rounding */
		offset = (uint32_t)(r->port_offset % remaining);
		rc = walk_step1(r, remaining, offset, &got, &i, &n);
		goto out;
	}
	switch (p->port_alg) {
	case TW_PORT_ALG_HINT_SEQ: /* A: one global hint, step 1 */
		offset = (uint32_t)((st->hint + r->port_offset) % remaining);
		rc = walk_step1(r, remaining, offset, &got, &i, &n);
		if (!rc)
			st->hint += i;
		break;
	case TW_PORT_ALG_HINT_EVEN: /* B: even start, sequential, hint moves by an even step */
		offset = (uint32_t)((st->hint + r->port_offset) % remaining) & ~1u;
		rc = walk_step1(r, remaining, offset, &got, &i, &n);
		if (!rc)
			st->hint += (i + 2) & ~1u;
		break;
	case TW_PORT_ALG_HINT_PARITY: /* C: rounded to even, even pass then odd pass */
	case TW_PORT_ALG_PERTURB_256: /* D: RFC 6056 algorithm 4, 256 perturbations */
	case TW_PORT_ALG_PERTURB_64K: /* E: 2^16 perturbations and a small random jump */
	default: {
		uint32_t *slot, base;
		/* the common case without the walk: the first candidate's held bit is clear and
		 * the caller says that means accepted (walk_parity's own first step) */
		if (r->held && r->held_exact && !r->excluded &&
		    tw_port_select_first(p, st, r->lo, r->hi, r->port_offset, r->rnd, r->held,
					 port)) {
			if (probes)
				*probes = 1;
			return 0;
		}
		if (remaining > 1)
			remaining &= ~1u;
		slot = tw_portsel_start(p, st, r->port_offset, remaining, &base);
		rc = walk_parity(r, n_ports, remaining, base, &got, &i, &n);
		if (!rc) {
			uint32_t jump = tw_portsel_jump(p, r->rnd);
			if (i < jump)
				i = jump;
			*slot += i + 2;
		}
		break;
	}
	}
out:
	if (probes)
		*probes = n;
	if (!rc)
		*port = (uint16_t)got;
	return rc;
}

bool tw_ports_per_destination(const struct tw_profile *p, bool bind_before_connect,
			      bool bind_address_no_port)
{
	if (!bind_before_connect)
		return true;
	/* §3.3: IP_BIND_ADDRESS_NO_PORT (4.2+) defers the port choice to connect() */
	return bind_address_no_port && p->has_bind_no_port;
}
