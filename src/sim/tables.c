/*
 * tables — FIFO, event heap and hash map of the simulator (see tables.h).
 */
#include "sim/tables.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>


int sim_fifo_grow_push(struct sim_fifo *f, uint32_t x)
{
	if (f->n == f->cap) {
		uint32_t ncap = f->cap ? f->cap * 2 : 1024;
		uint32_t *nv = malloc((size_t)ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		/* unroll the ring into the new array */
		for (uint32_t i = 0; i < f->n; i++)
			nv[i] = f->v[(f->head + i) & (f->cap - 1)];
		free(f->v);
		f->v = nv;
		f->head = 0;
		f->cap = ncap;
	}
	f->v[(f->head + f->n) & (f->cap - 1)] = x;
	f->n++;
	return 0;
}

void sim_fifo_free(struct sim_fifo *f)
{
	free(f->v);
	memset(f, 0, sizeof(*f));
}

static int ev_less(const struct sim_ev *a, const struct sim_ev *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

int sim_heap_push(struct sim_heap *h, int64_t t, uint32_t kind, uint32_t idx)
{
	uint32_t i;
	if (h->n == h->cap) {
		uint32_t ncap = h->cap ? h->cap * 2 : 256;
		struct sim_ev *nv = realloc(h->v, (size_t)ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		h->v = nv;
		h->cap = ncap;
	}
	i = h->n++;
	struct sim_ev e = { .t = t, .seq = h->seq++, .kind = kind, .idx = idx };
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (!ev_less(&e, &h->v[parent]))
			break;
		h->v[i] = h->v[parent];
		i = parent;
	}
	h->v[i] = e;
	return 0;
}

void sim_heap_pop(struct sim_heap *h, struct sim_ev *ev)
{
	struct sim_ev last;
	uint32_t i = 0;
	*ev = h->v[0];
	last = h->v[--h->n];
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && ev_less(&h->v[c + 1], &h->v[c]))
			c++;
		if (!ev_less(&h->v[c], &last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n)
		h->v[i] = last;
}

void sim_heap_free(struct sim_heap *h)
{
	free(h->v);
	memset(h, 0, sizeof(*h));
}

/* An array of `bytes` for random access: big ones 2 MiB aligned and asked for huge pages
 * (2 MiB pages spare most TLB misses). NULL when small (the caller uses malloc/realloc) or
 * on failure, told apart by *big. */
static void *big_alloc(size_t bytes, bool *big)
{
	void *p = NULL;
	*big = bytes >= (4u << 20);
	if (!*big || posix_memalign(&p, 2u << 20, bytes))
		return NULL;
	madvise(p, bytes, MADV_HUGEPAGE);
	return p;
}

void *sim_grow(void *old, size_t n, size_t ncap, size_t sz)
{
	bool big;
	void *p = big_alloc(ncap * sz, &big);
	if (!big)
		return realloc(old, ncap * sz);
	if (p) {
		if (n)
			memcpy(p, old, n * sz);
		free(old);
	}
	return p;
}

__attribute__((noinline)) uint32_t sim_pool_append(struct sim_pool *p, size_t sz, uint32_t cap0)
{
	if (p->n == p->cap) {
		uint32_t ncap = p->cap ? p->cap * 2 : cap0;
		void *v = sim_grow(p->v, p->n, ncap, sz);
		if (!v)
			return UINT32_MAX;
		p->v = v;
		p->cap = ncap;
	}
	return p->n++;
}

/* An array of n cache-line aligned records of sz bytes (huge pages when big), unset, or
 * NULL. */
static void *lines_alloc(uint32_t n, size_t sz)
{
	bool big;
	void *t = big_alloc((size_t)n * sz, &big);
	return big ? t : aligned_alloc(64, (size_t)n * sz);
}

/* The same, zeroed: a hash table of n buckets. */
static void *table_alloc(uint32_t n, size_t sz)
{
	void *t = lines_alloc(n, sz);
	if (t)
		memset(t, 0, (size_t)n * sz);
	return t;
}

/* Put index + 1 v1 with hash h in the first bucket from h's home with a free lane, counting
 * it in the overflow count of each full bucket it passes. The map has room. */
static inline void eh_place(struct sim_eh_bkt *bk, uint32_t mask, uint32_t h, uint32_t v1)
{
	for (uint32_t b = h & mask;; b = (b + 1) & mask) {
		unsigned fr = sim_eh_lanes_eq(bk[b].v1, 0);
		if (fr) {
			unsigned l = (unsigned)__builtin_ctz(fr);
			bk[b].v1[l] = v1;
			bk[b].hash[l] = h;
			return;
		}
		bk[b].v1[SIM_EH_LANES]++;
	}
}

__attribute__((noinline, cold)) static int eh_grow(struct sim_eh *m)
{
	uint32_t ncap = m->cap ? m->cap * 2 : 8;
	struct sim_eh_bkt *nb = table_alloc(ncap, sizeof(*nb));
	if (!nb)
		return -ENOMEM;
	for (uint32_t b = 0; b < m->cap; b++)
		for (unsigned l = 0; l < SIM_EH_LANES; l++)
			if (m->b[b].v1[l])
				eh_place(nb, ncap - 1, m->b[b].hash[l], m->b[b].v1[l]);
	free(m->b);
	m->b = nb;
	m->cap = ncap;
	return 0;
}

int sim_eh_put(struct sim_eh *m, uint32_t h, uint32_t v)
{
	if (__builtin_expect(sim_eh_full(m, m->n + 1), 0) && eh_grow(m) < 0)
		return -ENOMEM;
	eh_place(m->b, m->cap - 1, h, v + 1);
	m->n++;
	return 0;
}

void sim_eh_free(struct sim_eh *m)
{
	free(m->b);
	memset(m, 0, sizeof(*m));
}

uint64_t sim_eh_bytes(const struct sim_eh *m)
{
	return (uint64_t)m->cap * sizeof(*m->b);
}

/* A page for sim_pt: the free list's head, else a new one at the end (both arrays doubled
 * when full); UINT32_MAX on -ENOMEM. Its slots are empty. */
static uint32_t pt_page_alloc(struct sim_pt *t)
{
	uint32_t p = t->free - 1;
	if (t->free) {
		t->free = (uint32_t)t->pkey[p];
		memset(&t->line[p], 0, sizeof(t->line[p]));
		return p;
	}
	if (t->npages == t->cap) {
		uint32_t ncap = t->cap ? t->cap * 2 : 8;
		if (ncap >= SIM_PT_HOT && !t->hot) {
			/* all page 0 (allocated by now): a wrong guess, which its pkey tells */
			t->hot = calloc(SIM_PT_HOT, sizeof(*t->hot));
			if (!t->hot)
				return UINT32_MAX;
		}
		uint64_t *nk = sim_grow(t->pkey, t->npages, ncap, sizeof(*nk));
		if (!nk)
			return UINT32_MAX;
		t->pkey = nk;
		struct sim_pt_line *nl = lines_alloc(ncap, sizeof(*nl));
		if (!nl)
			return UINT32_MAX;
		if (t->npages)
			memcpy(nl, t->line, (size_t)t->npages * sizeof(*nl));
		free(t->line);
		t->line = nl;
		t->cap = ncap;
	}
	p = t->npages++;
	memset(&t->line[p], 0, sizeof(t->line[p]));
	return p;
}

int sim_pt_put(struct sim_pt *t, uint64_t pk, unsigned slot, uint32_t ph, uint32_t v,
	       uint32_t *pos)
{
	uint32_t where, p = sim_eh_find(&t->pages, t->pkey, sizeof(*t->pkey), pk, ph, &where);
	if (p == UINT32_MAX) {
		p = pt_page_alloc(t);
		if (p == UINT32_MAX)
			return -ENOMEM;
		if (sim_eh_put_at(&t->pages, where, ph, p) < 0) {
			t->pkey[p] = SIM_PT_FREE | t->free;
			t->free = p + 1;
			return -ENOMEM;
		}
		t->pkey[p] = pk;
		if (t->hot)
			t->hot[ph & (SIM_PT_HOT - 1)] = p;
	}
	t->line[p].v1[slot] = v + 1;
	t->n++;
	*pos = p * SIM_PT_SLOTS + slot;
	return 0;
}

void sim_pt_page_free(struct sim_pt *t, uint32_t p, uint32_t ph)
{
	sim_eh_del(&t->pages, ph, p);
	t->pkey[p] = SIM_PT_FREE | t->free;
	t->free = p + 1;
}

void sim_pt_free(struct sim_pt *t)
{
	sim_eh_free(&t->pages);
	free(t->pkey);
	free(t->line);
	free(t->hot);
	memset(t, 0, sizeof(*t));
}

uint64_t sim_pt_bytes(const struct sim_pt *t)
{
	return sim_eh_bytes(&t->pages) + (uint64_t)t->cap * (sizeof(*t->pkey) + sizeof(*t->line)) +
	       (t->hot ? SIM_PT_HOT * sizeof(*t->hot) : 0);
}
