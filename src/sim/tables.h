/*
 * tables — the simulator's containers: a FIFO of uint32 indices (one per fixed duration: every
 * TIME-WAIT of a kind lasts the same time, so expiry order is insertion order), a binary heap
 * of timed events with a sequence number for ties, and an open-addressing map from 64-bit
 * keys to uint32 values. All grow by doubling (amortized O(1), no per-event allocation once
 * warm). Functions returning int give 0 or -ENOMEM.
 */
#ifndef TWKIT_SIM_TABLES_H
#define TWKIT_SIM_TABLES_H

#include <stddef.h>
#include <stdint.h>

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

/* key -> value; key 0 is reserved (never stored). Key and value share a slot so a lookup
 * touches one cache line. Callers that meet the same key several times (a socket is looked up,
 * inserted and deleted) compute its hash once with sim_map_hash and pass it to the _h calls. */
struct sim_map_slot {
	uint64_t key;
	uint32_t val;
	uint32_t hash; /* sim_map_hash(key): growth and deletion's shifts need no rehash */
};

struct sim_map {
	struct sim_map_slot *s;
	uint32_t n, cap; /* power of two, load <= 1/2 */
};

/* A full mixer: the packed 4-tuple keys put a plain multiplicative hash into long
 * linear-probe runs (measured slower). */
static inline uint32_t sim_map_hash(uint64_t key)
{
	return (uint32_t)tw_hash64(key);
}
/* The slot a key of hash h starts at (cap must be nonzero). */
static inline uint32_t sim_map_home(const struct sim_map *m, uint32_t h)
{
	return h & (m->cap - 1);
}
/* Pointer to the value of key, or NULL. */
uint32_t *sim_map_get_h(const struct sim_map *m, uint64_t key, uint32_t h);
static inline uint32_t *sim_map_get(const struct sim_map *m, uint64_t key)
{
	return sim_map_get_h(m, key, sim_map_hash(key));
}
/* Insert or overwrite. */
int sim_map_put_h(struct sim_map *m, uint64_t key, uint32_t h, uint32_t val);
static inline int sim_map_put(struct sim_map *m, uint64_t key, uint32_t val)
{
	return sim_map_put_h(m, key, sim_map_hash(key), val);
}
/* Lookup that remembers where a missing key would go: *where is that empty slot (UINT32_MAX
 * when the map is empty). sim_map_put_at then inserts there, valid only if the map was not
 * changed in between; it grows the map (and probes again) when the load requires. */
uint32_t *sim_map_find_h(const struct sim_map *m, uint64_t key, uint32_t h, uint32_t *where);
int sim_map_put_at(struct sim_map *m, uint32_t where, uint64_t key, uint32_t h, uint32_t val);
/* Remove key if present (backward-shift deletion: no tombstones). */
void sim_map_del_h(struct sim_map *m, uint64_t key, uint32_t h);
static inline void sim_map_del(struct sim_map *m, uint64_t key)
{
	sim_map_del_h(m, key, sim_map_hash(key));
}
void sim_map_free(struct sim_map *m);
/* Bytes held (for the memory-per-TIME-WAIT figure). */
uint64_t sim_map_bytes(const struct sim_map *m);

/*
 * An index map whose keys live in the records it points to: a host's established hash, from
 * a socket's 4-tuple key to its index. A slot is 8 bytes (index + 1, 0 when empty, and the
 * key's hash), half a sim_map slot, so the hash of 600k TIME-WAITs stays small. Lookups are
 * given the records: the key of index v is the uint64_t at base + v * stride. A lookup compares the 32-bit hash first and
 * reads a record only when it matches; a deletion finds its slot by index alone. Linear
 * probing, load <= 1/2, backward-shift deletion.
 */
struct sim_eh_slot {
	uint32_t v1;   /* index + 1; 0: empty */
	uint32_t hash;
};

struct sim_eh {
	struct sim_eh_slot *s;
	uint32_t n, cap; /* power of two */
};

/* The index stored under key (hash h), or UINT32_MAX. *where (may be NULL) is the empty slot
 * where the key would go (UINT32_MAX when the map is empty). */
static inline uint32_t sim_eh_find(const struct sim_eh *m, const void *base, size_t stride,
				   uint64_t key, uint32_t h, uint32_t *where)
{
	uint32_t mask = m->cap - 1;
	if (where)
		*where = UINT32_MAX;
	if (!m->cap)
		return UINT32_MAX;
	for (uint32_t i = h & mask;; i = (i + 1) & mask) {
		const struct sim_eh_slot *s = &m->s[i];
		if (!s->v1) {
			if (where)
				*where = i;
			return UINT32_MAX;
		}
		if (s->hash == h &&
		    *(const uint64_t *)(const void *)((const char *)base +
						      (size_t)(s->v1 - 1) * stride) == key)
			return s->v1 - 1;
	}
}
/* Insert index v under key (not present), with hash h. */
int sim_eh_put(struct sim_eh *m, uint32_t h, uint32_t v);
/* The same at the empty slot sim_eh_find gave, if the map has not changed since. */
int sim_eh_put_at(struct sim_eh *m, uint32_t where, uint32_t h, uint32_t v);
/* Remove index v, stored with hash h (no record is read). */
void sim_eh_del(struct sim_eh *m, uint32_t h, uint32_t v);
/* The slot a hash starts at, for prefetching (cap must be nonzero). */
static inline const struct sim_eh_slot *sim_eh_home(const struct sim_eh *m, uint32_t h)
{
	return &m->s[h & (m->cap - 1)];
}
void sim_eh_free(struct sim_eh *m);
uint64_t sim_eh_bytes(const struct sim_eh *m);

#endif
