/*
 * promw — a writer of the Prometheus text exposition format (version 0.0.4): family headers,
 * then samples whose labels are escaped here. A writer may carry a prefix of labels that every
 * sample it writes starts with (a `netns` label, say), so that one renderer serves one source
 * or many. Nothing here checks names: callers use fixed, valid ones (docs/prometheus.md).
 */
#ifndef TWKIT_COMMON_PROMW_H
#define TWKIT_COMMON_PROMW_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A label pair; the value is escaped when written (backslash, quote, newline). */
struct prom_label {
	const char *name, *value;
};

struct promw {
	FILE *f;
	const struct prom_label *prefix; /* written first on every sample; may be NULL */
	size_t nprefix;
	int nlabels;			 /* labels written on the sample in progress */
};

/* A writer on f whose samples all start with prefix[0..n) (n = 0: none). Nothing is copied:
 * prefix must outlive the writer. */
void promw_init(struct promw *w, FILE *f, const struct prom_label *prefix, size_t n);
/* "# HELP name help" and "# TYPE name type" (type: counter, gauge, histogram, untyped). */
void promw_family(FILE *f, const char *name, const char *type, const char *help);
/* Start a sample of `name`: the prefix labels come out with it. */
void promw_begin(struct promw *w, const char *name);
/* One more label on the sample begun. */
void promw_label(struct promw *w, const char *name, const char *value);
/* One more label whose value is a decimal number. */
void promw_label_uint(struct promw *w, const char *name, unsigned long long value);
/* End the sample with its value: a whole number, or a float with `prec` decimals. */
void promw_end_uint(struct promw *w, uint64_t v);
void promw_end_double(struct promw *w, double v, int prec);

#endif
