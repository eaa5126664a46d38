/*
 * hist — log-linear histogram (see hist.h).
 */
#include "common/hist.h"

#include <string.h>

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
}

static int bucket_of(uint64_t v)
{
	if (v < HIST_SUB)
		return (int)v;
	int e = 63 - __builtin_clzll(v); /* e >= HIST_SUB_BITS */
	if (e >= HIST_MAX_EXP)
		return HIST_BUCKETS - 1;
	int sub = (int)((v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1));
	return HIST_SUB + (e - HIST_SUB_BITS) * HIST_SUB + sub;
}

/* Largest value that falls in bucket i. */
static uint64_t bucket_top(int i)
{
	if (i < HIST_SUB)
		return (uint64_t)i;
	int e = (i - HIST_SUB) / HIST_SUB + HIST_SUB_BITS;
	uint64_t sub = (uint64_t)((i - HIST_SUB) % HIST_SUB);
	uint64_t base = (1ULL << e) + (sub << (e - HIST_SUB_BITS));
	return base + (1ULL << (e - HIST_SUB_BITS)) - 1;
}

void hist_record(struct hist *h, uint64_t v)
{
	if (h->count == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count++;
	h->sum += (double)v;
	h->b[bucket_of(v)]++;
}

void hist_record_n(struct hist *h, uint64_t v, uint64_t n)
{
	if (h->count == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count += n;
	h->sum += (double)v * (double)n;
	h->b[bucket_of(v)] += n;
}

void hist_merge(struct hist *dst, const struct hist *src)
{
	if (!src->count)
		return;
	if (dst->count == 0 || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
	dst->sum += src->sum;
	for (int i = 0; i < HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
}

uint64_t hist_percentile(const struct hist *h, double p)
{
	if (!h->count)
		return 0;
	if (p <= 0)
		return h->min;
	uint64_t want = (uint64_t)((p / 100.0) * (double)h->count + 0.999999);
	if (want < 1)
		want = 1;
	uint64_t seen = 0;
	for (int i = 0; i < HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want) {
			uint64_t top = bucket_top(i);
			if (top > h->max)
				top = h->max;
			if (top < h->min)
				top = h->min;
			return top;
		}
	}
	return h->max;
}

double hist_mean(const struct hist *h)
{
	return h->count ? h->sum / (double)h->count : 0.0;
}
