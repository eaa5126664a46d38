/*
 * tables — the simulator's containers: a FIFO of uint32 indices (one per fixed duration: every
 * TIME-WAIT of a kind lasts the same time, so expiry order is insertion order), a binary heap
 * of timed events with a sequence number for ties, an open-addressing index map whose 64-bit
 * keys live in the records it points to, a host's ehash kept by port on top of it, and a
 * pool of records with a free list. All grow by
 * doubling (amortized O(1), no per-event allocation once warm). Functions returning int give
 * 0 or -ENOMEM.
 */
#ifndef TWKIT_SIM_TABLES_H
#define TWKIT_SIM_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "model/tsclock.h"

struct sim_fifo {
	uint32_t *v;
	uint32_t head, n, cap; /* cap is a power of two */
};

/* Slow path of sim_fifo_push: double the ring, then append. */
int sim_fifo_grow_push(struct sim_fifo *f, uint32_t x);
static inline int sim_fifo_push(struct sim_fifo *f, uint32_t x)
{
	if (__builtin_expect(f->n == f->cap, 0))
		return sim_fifo_grow_push(f, x);
	f->v[(f->head + f->n) & (f->cap - 1)] = x;
	f->n++;
	return 0;
}
/* Front element; the FIFO must not be empty. */
static inline uint32_t sim_fifo_front(const struct sim_fifo *f)
{
	return f->v[f->head];
}
static inline void sim_fifo_pop(struct sim_fifo *f)
{
	f->head = (f->head + 1) & (f->cap - 1);
	f->n--;
}
void sim_fifo_free(struct sim_fifo *f);

struct sim_ev {
	int64_t t;
	uint64_t seq; /* insertion order: equal times pop in the order they were scheduled */
	uint32_t kind, idx;
};

struct sim_heap {
	struct sim_ev *v;
	uint32_t n, cap;
	uint64_t seq;
};

int sim_heap_push(struct sim_heap *h, int64_t t, uint32_t kind, uint32_t idx);
/* Remove the earliest event into *ev; the heap must not be empty. */
void sim_heap_pop(struct sim_heap *h, struct sim_ev *ev);
void sim_heap_free(struct sim_heap *h);

/* Grow an array of n elements of size sz to ncap elements (contents kept, the rest unset).
 * Big arrays are 2 MiB aligned and asked for huge pages: the simulator reads sockets and
 * slots at random, and 4 KiB pages put a TLB miss in front of most of those reads. Returns
 * the new array or NULL (the old one is then untouched). Free with free(). */
void *sim_grow(void *old, size_t n, size_t ncap, size_t sz);

/*
 * A pool of fixed-size records in one growing array: a free record links to the next free
 * one through a uint32_t field at byte offset `link` (UINT32_MAX ends the list); allocation
 * takes the list's head, else appends (doubling the array, cap0 records first). Indices stay
 * valid across growth; pointers into v do not.
 */
struct sim_pool {
	void *v;
	uint32_t n, cap, free; /* records ever handed out, allocated, free list head */
};

/* Slow path of sim_pool_alloc: a new record at the end; UINT32_MAX on -ENOMEM. */
uint32_t sim_pool_append(struct sim_pool *p, size_t sz, uint32_t cap0);
static inline uint32_t sim_pool_alloc(struct sim_pool *p, size_t sz, size_t link, uint32_t cap0)
{
	uint32_t i = p->free;
	if (__builtin_expect(i == UINT32_MAX, 0))
		return sim_pool_append(p, sz, cap0);
	memcpy(&p->free, (const char *)p->v + (size_t)i * sz + link, sizeof(p->free));
	return i;
}
static inline void sim_pool_free(struct sim_pool *p, uint32_t i, size_t sz, size_t link)
{
	memcpy((char *)p->v + (size_t)i * sz + link, &p->free, sizeof(p->free));
	p->free = i;
}

/* The hash of a 64-bit key: a full mixer (the packed 4-tuple keys put a plain multiplicative
 * hash into long linear-probe runs, measured slower). Computed once per key by callers that
 * meet the same key several times (a socket's page is looked up, and may be freed). */
static inline uint32_t sim_key_hash(uint64_t key)
{
	return (uint32_t)tw_hash64(key);
}

/*
 * An index map whose keys live in the records it points to: the page keys of a host's ehash
 * (sim_pt below) to their pages, and a host's peer addresses to their tw_recycle entries.
 * Lookups are given the records: the key of index v is the uint64_t at base + v * stride.
 * Buckets of one cache line hold seven entries (index + 1, 0 when empty, and the key's 32-bit
 * hash; 8 bytes an entry) and a count of the
 * entries that found it full and went on to the next bucket. A lookup compares the bucket's
 * seven hashes at once, reads a record only on a hash match, and goes on to the next bucket
 * only while that count is nonzero; a deletion finds its entry by index alone and just
 * clears it. So the common lookup, insertion and deletion read one cache line and take no
 * branch that depends on its neighbours (a linear-probe deletion shifts the run after it).
 * Load <= 1/2 of the entries.
 */
#define SIM_EH_LANES 7
struct sim_eh_bkt {
	uint32_t v1[8];   /* lanes 0-6: index + 1, 0 when empty; v1[7]: entries past this bucket */
	uint32_t hash[8]; /* lanes 0-6: their keys' hashes */
} __attribute__((aligned(64)));

struct sim_eh {
	struct sim_eh_bkt *b;
	uint32_t n, cap; /* entries, buckets (a power of two) */
};

/* Bit i set: lane i of the 8 holds x (lane 7 masked off). */
static inline unsigned sim_eh_lanes_eq(const uint32_t *lanes, uint32_t x)
{
#ifdef __SSE2__
	__m128i k = _mm_set1_epi32((int)x);
	__m128i a = _mm_cmpeq_epi32(_mm_load_si128((const __m128i *)(const void *)lanes), k);
	__m128i b = _mm_cmpeq_epi32(_mm_load_si128((const __m128i *)(const void *)(lanes + 4)), k);
	return ((unsigned)_mm_movemask_ps(_mm_castsi128_ps(a)) |
		(unsigned)_mm_movemask_ps(_mm_castsi128_ps(b)) << 4) & 0x7f;
#else
	unsigned m = 0;
	for (unsigned i = 0; i < SIM_EH_LANES; i++)
		m |= (unsigned)(lanes[i] == x) << i;
	return m;
#endif
}

/* The index stored under key (hash h), or UINT32_MAX. *where (may be NULL) is the empty slot
 * where the key would go (UINT32_MAX when unknown). */
static inline uint32_t sim_eh_find(const struct sim_eh *m, const void *base, size_t stride,
				   uint64_t key, uint32_t h, uint32_t *where)
{
	uint32_t mask = m->cap - 1;
	if (where)
		*where = UINT32_MAX;
	if (!m->cap)
		return UINT32_MAX;
	/* at most every bucket once: overflow counts can outlive the entries that filled the
	 * buckets they passed, but never cover a table at most half full */
	for (uint32_t b = h & mask, left = m->cap; left; b = (b + 1) & mask, left--) {
		const struct sim_eh_bkt *k = &m->b[b];
		for (unsigned hit = sim_eh_lanes_eq(k->hash, h); hit; hit &= hit - 1) {
			unsigned l = (unsigned)__builtin_ctz(hit);
			uint32_t v1 = k->v1[l];
			if (v1 && *(const uint64_t *)(const void *)((const char *)base +
								    (size_t)(v1 - 1) * stride) == key)
				return v1 - 1;
		}
		if (where && *where == UINT32_MAX) {
			unsigned fr = sim_eh_lanes_eq(k->v1, 0);
			if (fr)
				*where = b * 8 + (uint32_t)__builtin_ctz(fr);
		}
		if (!k->v1[SIM_EH_LANES])
			break;
	}
	return UINT32_MAX;
}
/* Whether n entries would fill more than half the lanes */
static inline bool sim_eh_full(const struct sim_eh *m, uint32_t n)
{
	return (uint64_t)n * 2 > (uint64_t)m->cap * SIM_EH_LANES;
}
/* Insert index v under key (not present), with hash h. */
int sim_eh_put(struct sim_eh *m, uint32_t h, uint32_t v);
/* The same at the empty slot sim_eh_find gave, if the map has not changed since. (Inline,
 * as sim_eh_del: one of each per simulated connection.) */
static inline int sim_eh_put_at(struct sim_eh *m, uint32_t where, uint32_t h, uint32_t v)
{
	uint32_t mask = m->cap - 1, wb = where / 8;
	if (where == UINT32_MAX || sim_eh_full(m, m->n + 1))
		return sim_eh_put(m, h, v);
	/* the buckets before where's were full when find passed them */
	for (uint32_t b = h & mask; b != wb; b = (b + 1) & mask)
		m->b[b].v1[SIM_EH_LANES]++;
	m->b[wb].v1[where % 8] = v + 1;
	m->b[wb].hash[where % 8] = h;
	m->n++;
	return 0;
}
/* Remove index v, stored with hash h (no record is read). */
static inline void sim_eh_del(struct sim_eh *m, uint32_t h, uint32_t v)
{
	uint32_t mask = m->cap - 1, home = h & mask, b = home, left = m->cap;
	unsigned hit;
	if (!m->cap)
		return;
	while (!(hit = sim_eh_lanes_eq(m->b[b].v1, v + 1))) {
		if (!m->b[b].v1[SIM_EH_LANES] || !--left)
			return; /* not in the map */
		b = (b + 1) & mask;
	}
	m->b[b].v1[__builtin_ctz(hit)] = 0;
	m->n--;
	/* it had passed the buckets before its own */
	for (; home != b; home = (home + 1) & mask)
		m->b[home].v1[SIM_EH_LANES]--;
}
/* The bucket a hash starts at, for prefetching (cap must be nonzero). */
static inline const struct sim_eh_bkt *sim_eh_home(const struct sim_eh *m, uint32_t h)
{
	return &m->b[h & (m->cap - 1)];
}
void sim_eh_free(struct sim_eh *m);
uint64_t sim_eh_bytes(const struct sim_eh *m);

/*
 * A host's established hash, by port: an index map from a socket's 4-tuple key (net.c:
 * ehkey: remote address, local address index, local port, remote port, 16 bits each for the
 * ports in the low 32) to its index, that keeps neighbouring ports together. The key is cut
 * into a page key and a slot: the higher of the two ports is the one that varies from one
 * connection to the next (the peer's ephemeral port on an accepting host, the local one on a
 * connecting host), and connect() hands out ports of one parity in a row on many eras
 * (§3.2), so the slot is that port's bits 1-4 and the page key the rest of the key (with the
 * ports swapped, and bit 63 set, when the local one is higher).
 * (page key, slot) gives the key back, so a slot needs no key of its own and a lookup reads
 * no socket. A page is one cache line of 16 slots (index + 1, 0 when empty), found through
 * a sim_eh of page keys; it is freed when its last slot empties. Ephemeral ports are handed
 * out in order on many eras (§3.2) and TIME-WAITs expire in the order they began, so a
 * line serves up to 16 connections running and the hashed lookups stay in a table 16 times
 * smaller than one entry a socket would need. A socket keeps its position (page * 16 + slot),
 * so its deletion is a store. All zero is an empty map. Functions returning int give 0 or
 * -ENOMEM.
 */
#define SIM_PT_SLOTS 16
#define SIM_PT_HOT 1024 /* pages remembered by their key's hash (a power of two) */
#define SIM_PT_FREE (1ULL << 62) /* a free page's pkey: this bit and the list's link */
struct sim_pt_line {
	uint32_t v1[SIM_PT_SLOTS];
} __attribute__((aligned(64)));

struct sim_pt {
	struct sim_eh pages;      /* page key -> page (the keys in pkey[]) */
	uint64_t *pkey;           /* per page: its key; free: the free list's link */
	struct sim_pt_line *line; /* per page: its slots */
	uint32_t npages, cap, free; /* pages ever handed out, allocated, free list head + 1 */
	uint32_t n;               /* entries */
	uint32_t *hot;            /* per value of a page key hash's low bits, a page recently
				   * found with it, for a lookup to try before the hash (its pkey
				   * tells if it still is); NULL below SIM_PT_HOT pages (a
				   * fleet's many small tables do without) */
};

/* The page key of 4-tuple key (see above); returns its slot. */
static inline unsigned sim_pt_split(uint64_t key, uint64_t *pk)
{
	uint32_t lp = (uint32_t)(key >> 16) & 0xffffu, rp = (uint32_t)key & 0xffffu, p = rp;
	uint64_t k = key, top = 0;
	if (lp > rp) {
		k = (key & ~0xffffffffULL) | (uint64_t)rp << 16 | lp;
		p = lp;
		top = 1ULL << 63;
	}
	*pk = top | (k >> 5) << 1 | (p & 1);
	return (p >> 1) & (SIM_PT_SLOTS - 1);
}

/* The index stored under page key pk (hash ph, sim_key_hash(pk)) and slot, or UINT32_MAX.
 * *where (may be NULL) is the position where it would go, when its page exists (else
 * UINT32_MAX). */
static inline uint32_t sim_pt_find(struct sim_pt *t, uint64_t pk, unsigned slot, uint32_t ph,
				   uint32_t *where)
{
	uint32_t p, v1;
	if (__builtin_expect(!t->hot || t->pkey[p = t->hot[ph & (SIM_PT_HOT - 1)]] != pk, 0)) {
		p = sim_eh_find(&t->pages, t->pkey, sizeof(*t->pkey), pk, ph, NULL);
		if (p == UINT32_MAX) {
			if (where)
				*where = UINT32_MAX;
			return UINT32_MAX;
		}
		if (t->hot)
			t->hot[ph & (SIM_PT_HOT - 1)] = p;
	}
	v1 = t->line[p].v1[slot];
	if (where)
		*where = v1 ? UINT32_MAX : p * SIM_PT_SLOTS + slot;
	return v1 - 1; /* 0 - 1: UINT32_MAX */
}
/* Fetch ahead what a lookup of a page key hashing to ph reads: the remembered page's key and
 * line (one load, of the remembered page's number) and, for when it is not that page, the
 * key's bucket. Always inlined: gcc counts a function of loads and prefetches as pure, and
 * drops a call to it whose result is unused (as it is) unless it was inlined first. */
static inline __attribute__((always_inline)) void sim_pt_prefetch(const struct sim_pt *t,
								   uint32_t ph)
{
	if (t->hot) {
		uint32_t p = t->hot[ph & (SIM_PT_HOT - 1)];
		__builtin_prefetch(&t->pkey[p]);
		__builtin_prefetch(&t->line[p]);
	}
	if (t->pages.cap)
		__builtin_prefetch(sim_eh_home(&t->pages, ph));
}
/* Insert index v under (pk, slot), not present; ph = sim_key_hash(pk). Its position in *pos. */
int sim_pt_put(struct sim_pt *t, uint64_t pk, unsigned slot, uint32_t ph, uint32_t v,
	       uint32_t *pos);
/* The same at the position sim_pt_find gave, if the map has not changed since. */
static inline int sim_pt_put_at(struct sim_pt *t, uint32_t where, uint64_t pk, unsigned slot,
				uint32_t ph, uint32_t v, uint32_t *pos)
{
	if (where == UINT32_MAX)
		return sim_pt_put(t, pk, slot, ph, v, pos);
	t->line[where / SIM_PT_SLOTS].v1[where % SIM_PT_SLOTS] = v + 1;
	t->n++;
	*pos = where;
	return 0;
}
/* Slow path of sim_pt_del: page p (its key's hash ph) is empty: free it. */
void sim_pt_page_free(struct sim_pt *t, uint32_t p, uint32_t ph);
/* Remove the entry at position pos (as put gave it), whose page key hashes to ph. The line is
 * read before the slot is cleared (a wide load right after a narrow store to it stalls). */
static inline void sim_pt_del(struct sim_pt *t, uint32_t pos, uint32_t ph)
{
	struct sim_pt_line *l = &t->line[pos / SIM_PT_SLOTS];
	unsigned zero; /* bit i: slot i is empty */
#ifdef __SSE2__
	const __m128i *q = (const __m128i *)(const void *)l->v1;
	__m128i z = _mm_setzero_si128();
	__m128i a = _mm_packs_epi32(_mm_cmpeq_epi32(_mm_load_si128(q), z),
				    _mm_cmpeq_epi32(_mm_load_si128(q + 1), z));
	__m128i b = _mm_packs_epi32(_mm_cmpeq_epi32(_mm_load_si128(q + 2), z),
				    _mm_cmpeq_epi32(_mm_load_si128(q + 3), z));
	zero = (unsigned)_mm_movemask_epi8(_mm_packs_epi16(a, b));
#else
	zero = 0;
	for (unsigned i = 0; i < SIM_PT_SLOTS; i++)
		zero |= (unsigned)(l->v1[i] == 0) << i;
#endif
	l->v1[pos % SIM_PT_SLOTS] = 0;
	t->n--;
	if ((zero | 1u << (pos % SIM_PT_SLOTS)) == 0xffffu)
		sim_pt_page_free(t, pos / SIM_PT_SLOTS, ph);
}
/* The line holding position pos, for prefetching (pos from put; its page may be freed since,
 * but pages are never given back, so the address is in the table). */
static inline const struct sim_pt_line *sim_pt_line(const struct sim_pt *t, uint32_t pos)
{
	return &t->line[pos / SIM_PT_SLOTS];
}
void sim_pt_free(struct sim_pt *t);
uint64_t sim_pt_bytes(const struct sim_pt *t);

#endif
