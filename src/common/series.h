/*
 * series — a per-second time series (a table: one row per sample time, named numeric columns)
 * with its three renderings: CSV, SVG (plot.h: columns grouped into panels by what they count,
 * each axis in its unit, flat columns left out, budgets as lines, the first failure marked)
 * and JSON. Used by sim, bench and lab for --csv, --svg and the "series" key of --json.
 * Owns its storage; series_fini frees it. Rows must be added in non-decreasing time.
 */
#ifndef TWKIT_COMMON_SERIES_H
#define TWKIT_COMMON_SERIES_H

#include <stddef.h>
#include <stdio.h>

#include "common/jsonw.h"
#include "common/plot.h"

#define SERIES_MAX_COLS 32
#define SERIES_MAX_REFS 4

/* series_set_plot flags */
#define SERIES_FAIL 1u /* failures: the plot marks the first row where one is above 0, and
			* keeps the column even when it is a constant above 0 */
#define SERIES_NOPLOT 2u /* left out of plots (a scaled copy of another column) */

/* How a column is drawn (series_set_plot); strings are the caller's, static. */
struct series_plot_col {
	const char *panel; /* panel title, columns with the same one share axes; NULL: the name */
	const char *unit;  /* "sockets", "connections/s", "bytes" ... */
	const char *label; /* legend text; NULL: the column's name */
	unsigned flags;
};

struct series {
	int ncols;
	char *names[SERIES_MAX_COLS];
	size_t nrows, cap;
	double *t;    /* nrows sample times, seconds */
	double *data; /* nrows * ncols, row-major */
	struct series_plot_col plot[SERIES_MAX_COLS];
	int nrefs;
	struct {
		const char *panel;
		double y;
		char label[PLOT_LABEL_LEN];
	} refs[SERIES_MAX_REFS]; /* budget lines */
	double first_fail_s; /* when the producer knows it exactly (first_fail_known), else the
			      * plot takes the start of the first row with a failure */
	bool first_fail_known;
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

/* Draw column `name` in panel `panel` (axis label "panel (unit)") under `label`; the strings
 * must outlive s (string literals). 0, or -ENOENT when there is no such column. */
int series_set_plot(struct series *s, const char *name, const char *panel, const char *unit,
		    const char *label, unsigned flags);
/* A budget line at y on panel `panel` (label copied). 0 or -ENOSPC. */
int series_add_ref(struct series *s, const char *panel, double y, const char *label);
/* Build the plot of s into *p (plot_init'ed by the caller, title set): one panel per panel
 * title, columns that never change left out (a failure column that is above 0 stays), the
 * budgets on their panels, the first row with a failure marked. Lines point into s. */
void series_plot(const struct series *s, struct plot *p);
/* Several series on the same axes (hosts of one run, kernel eras, lab and sim): each line is
 * labelled "<label>: <column label>" (just "<label>" in a panel of one column), in the
 * series' colour, dashed when asked; a series whose columns never change draws nothing;
 * panels and units come from the columns' series_set_plot, matched by column name. A budget
 * every series shares is drawn once; each series' first failure is marked. */
struct series_overlay {
	const struct series *s;
	const char *label;
	int color; /* PLOT_* */
	bool dashed;
	double width, opacity; /* 0: the first series widest (lines that coincide stay visible
				* as nested stripes), opaque */
};
void series_plot_overlay(const struct series_overlay *o, int n, struct plot *p);

/* "t,<names...>" header, then one line per row. Returns 0 or -EIO. */
int series_write_csv(const struct series *s, FILE *f);
/* A self-contained SVG document of series_plot. Returns 0 or -EIO. */
int series_write_svg(const struct series *s, FILE *f, const char *title);
/* An array under `key`: [{"t": 0, "<name>": v, ...}, ...]. */
void series_write_json(const struct series *s, struct jw *w, const char *key);
/* Write CSV or SVG to a path ("-" is stdout). Returns 0 or a negative errno. */
int series_save(const struct series *s, const char *path, int svg, const char *title);

#endif
