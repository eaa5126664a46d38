/*
 * tables — FIFO, event heap and hash map of the simulator (see tables.h).
 */
#include "sim/tables.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "model/tsclock.h"

int sim_fifo_push(struct sim_fifo *f, uint32_t x)
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

static uint32_t slot_of(const struct sim_map *m, uint64_t key)
{
	return (uint32_t)tw_hash64(key) & (m->cap - 1);
}

uint32_t *sim_map_get(const struct sim_map *m, uint64_t key)
{
	if (!m->cap)
		return NULL;
	for (uint32_t i = slot_of(m, key);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key)
			return &m->vals[i];
		if (m->keys[i] == 0)
			return NULL;
	}
}

static int map_grow(struct sim_map *m)
{
	struct sim_map n = { 0 };
	n.cap = m->cap ? m->cap * 2 : 64;
	n.keys = calloc(n.cap, sizeof(*n.keys));
	n.vals = malloc((size_t)n.cap * sizeof(*n.vals));
	if (!n.keys || !n.vals) {
		free(n.keys);
		free(n.vals);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < m->cap; i++) {
		if (!m->keys[i])
			continue;
		uint32_t j = slot_of(&n, m->keys[i]);
		while (n.keys[j])
			j = (j + 1) & (n.cap - 1);
		n.keys[j] = m->keys[i];
		n.vals[j] = m->vals[i];
		n.n++;
	}
	free(m->keys);
	free(m->vals);
	*m = n;
	return 0;
}

int sim_map_put(struct sim_map *m, uint64_t key, uint32_t val)
{
	uint32_t i;
	if ((m->n + 1) * 2 > m->cap && map_grow(m) < 0)
		return -ENOMEM;
	for (i = slot_of(m, key); m->keys[i]; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key) {
			m->vals[i] = val;
			return 0;
		}
	}
	m->keys[i] = key;
	m->vals[i] = val;
	m->n++;
	return 0;
}

void sim_map_del(struct sim_map *m, uint64_t key)
{
	uint32_t i, j, mask = m->cap - 1;
	if (!m->cap)
		return;
	for (i = slot_of(m, key); m->keys[i] != key; i = (i + 1) & mask)
		if (m->keys[i] == 0)
			return;
	/* backward shift: move later members of the probe run into the hole */
	for (j = (i + 1) & mask; m->keys[j]; j = (j + 1) & mask) {
		uint32_t home = slot_of(m, m->keys[j]);
		/* keep j where it is if its home lies cyclically in (i, j] */
		if (((j - home) & mask) < ((j - i) & mask))
			continue;
		m->keys[i] = m->keys[j];
		m->vals[i] = m->vals[j];
		i = j;
	}
	m->keys[i] = 0;
	m->n--;
}

void sim_map_free(struct sim_map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

uint64_t sim_map_bytes(const struct sim_map *m)
{
	return (uint64_t)m->cap * (sizeof(*m->keys) + sizeof(*m->vals));
}
