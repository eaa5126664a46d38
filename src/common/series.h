/*
 * series — a per-second time series (a table: one row per sample time, named numeric columns)
 * with its three renderings: CSV, SVG (one small panel per column, shared time axis) and JSON.
 * Used by sim, bench and lab for --csv, --svg and the "series" key of --json.
 * Owns its storage; series_fini frees it. Rows must be added in non-decreasing time.
 */
#ifndef TWKIT_COMMON_SERIES_H
#define TWKIT_COMMON_SERIES_H

#include <stddef.h>
#include <stdio.h>

#include "common/jsonw.h"

#define SERIES_MAX_COLS 32

struct series {
	int ncols;
	char *names[SERIES_MAX_COLS];
	size_t nrows, cap;
	double *t;    /* nrows sample times, seconds */
	double *data; /* nrows * ncols, row-major */
};

/* Column names are copied. Returns 0, -EINVAL (ncols out of range) or -ENOMEM. */
int series_init(struct series *s, int ncols, const char *const *names);
void series_fini(struct series *s);
/* Append one row of ncols values. Returns 0 or -ENOMEM. */
int series_add(struct series *s, double t, const double *vals);
/* Index of a column by name, or -1. */
int series_col(const struct series *s, const char *name);
double series_get(const struct series *s, size_t row, int col);
/* Largest value in a column (0 for an empty series). */
double series_col_max(const struct series *s, int col);

/* "t,<names...>" header, then one line per row. Returns 0 or -EIO. */
int series_write_csv(const struct series *s, FILE *f);
/* A self-contained SVG document; one panel per column. Returns 0 or -EIO. */
int series_write_svg(const struct series *s, FILE *f, const char *title);
/* An array under `key`: [{"t": 0, "<name>": v, ...}, ...]. */
void series_write_json(const struct series *s, struct jw *w, const char *key);
/* Write CSV or SVG to a path ("-" is stdout). Returns 0 or a negative errno. */
int series_save(const struct series *s, const char *path, int svg, const char *title);

#endif
