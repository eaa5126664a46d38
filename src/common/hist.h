/*
 * hist — log-linear histogram with bounded memory (after neper's histo.c and HDR histograms).
 * Values 0..15 are exact; above that each power of two is split into 16 linear sub-buckets,
 * so the relative error of a percentile is under 1/16 (6.25%). Values above 2^HIST_MAX_EXP
 * land in the last bucket. Fixed size, no allocation: lives inside its owner.
 */
#ifndef TWKIT_COMMON_HIST_H
#define TWKIT_COMMON_HIST_H

#include <stdint.h>

#define HIST_SUB_BITS 4
#define HIST_SUB (1 << HIST_SUB_BITS)
#define HIST_MAX_EXP 44 /* 2^44 ns ~ 4.9 hours */
#define HIST_BUCKETS (HIST_SUB + (HIST_MAX_EXP - HIST_SUB_BITS) * HIST_SUB)

struct hist {
	uint64_t count;
	uint64_t min, max;
	double sum;
	uint64_t b[HIST_BUCKETS];
};

void hist_init(struct hist *h);
void hist_record(struct hist *h, uint64_t v);
/* n samples of the same value v at once (n > 0). */
void hist_record_n(struct hist *h, uint64_t v, uint64_t n);
/* Add every sample of src into dst. */
void hist_merge(struct hist *dst, const struct hist *src);
/* Value at percentile p in [0,100] (upper edge of its bucket, capped at max); 0 when empty. */
uint64_t hist_percentile(const struct hist *h, double p);
double hist_mean(const struct hist *h);

#endif
