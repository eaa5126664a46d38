/*
 * plot — line charts as one self-contained SVG document: stacked panels over one shared time
 * axis; each panel has a y axis in one unit ("TIME-WAIT (sockets)"), any number of lines
 * overlaid with a legend, horizontal reference lines (a port budget) and vertical marks that
 * cross every panel (the first failure). Used by series.c (--svg of sim, bench, lab) and by
 * the views that overlay runs: lab --compare (lab and sim), sim --kernel A,B,C (one line per
 * era), doctor --watch --svg (a line per busy group).
 * Pure: the caller owns every array a line points to; nothing is copied but labels.
 * Elements carry classes so tests can read the structure: g.panel[data-unit], text.ylabel,
 * text.xlabel, polyline.line[data-label], line.budget, line.first-failure.
 */
#ifndef TWKIT_COMMON_PLOT_H
#define TWKIT_COMMON_PLOT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#define PLOT_MAX_PANELS 8
#define PLOT_MAX_LINES 12
#define PLOT_MAX_REFS 6
#define PLOT_MAX_MARKS 8
#define PLOT_LABEL_LEN 96

struct plot_line {
	char label[PLOT_LABEL_LEN]; /* legend text */
	const double *t;	    /* n sample times, seconds */
	const double *v;	    /* values v[i * stride]; NaN leaves a gap */
	size_t n, stride;
	int color; /* palette index */
	bool dashed;
	double width;	/* stroke width, pixels; 0: 2 */
	double opacity; /* 0: opaque */
};

/* A horizontal line: a limit the values run into (class "budget"). */
struct plot_ref {
	double y;
	char label[PLOT_LABEL_LEN];
	int color;
};

struct plot_panel {
	char title[PLOT_LABEL_LEN]; /* what is counted: "TIME-WAIT" */
	char unit[32];		    /* "sockets", "connections/s", "ports", "bytes", "s" */
	bool bytes;		    /* tick labels in KiB/MiB/GiB */
	int nlines, nrefs;
	struct plot_line lines[PLOT_MAX_LINES];
	struct plot_ref refs[PLOT_MAX_REFS];
};

/* A vertical line across all panels at time t (class "first-failure"). */
struct plot_mark {
	double t;
	char label[PLOT_LABEL_LEN];
	int color;
};

struct plot {
	char title[160];
	char subtitle[200]; /* one line under the title, or empty */
	int npanels, nmarks;
	struct plot_panel panels[PLOT_MAX_PANELS];
	struct plot_mark marks[PLOT_MAX_MARKS];
};

/* Palette indices with a meaning shared by every plot. */
enum PLOT_COLOR {
	PLOT_BLUE,
	PLOT_RED,
	PLOT_GREEN,
	PLOT_ORANGE,
	PLOT_PURPLE,
	PLOT_BROWN,
	PLOT_PINK,
	PLOT_CYAN,
	PLOT_GREY,
	PLOT_NCOLORS
};

/* Empty plot with a title (copied, truncated). */
void plot_init(struct plot *p, const char *title);
/* A new panel; NULL when PLOT_MAX_PANELS are there. unit may be "" (a plain count). */
struct plot_panel *plot_panel_add(struct plot *p, const char *title, const char *unit);
/* Overlay a line; color -1 picks the next palette colour. Returns the line or NULL (full). */
struct plot_line *plot_line_add(struct plot_panel *pp, const char *label, const double *t,
				const double *v, size_t n, size_t stride, int color);
/* A budget line at y; 0 or -ENOSPC. The same y twice is drawn once. */
int plot_ref_add(struct plot_panel *pp, double y, const char *label, int color);
/* A first-failure mark at t seconds; 0 or -ENOSPC. */
int plot_mark_add(struct plot *p, double t, const char *label, int color);
/* Whether n values (every stride-th) change over time: the finite ones spread over more
 * than PLOT_FLAT of their size. A flat line, at zero or any constant (10,000/s give or take
 * one), tells nothing a plot over time should show. */
#define PLOT_FLAT 0.005
bool plot_values_vary(const double *v, size_t n, size_t stride);
/* Whether any finite value is nonzero. */
bool plot_values_nonzero(const double *v, size_t n, size_t stride);

/* Render. Returns 0 or -EIO. Panels without lines are left out. */
int plot_write_svg(const struct plot *p, FILE *f);
/* plot_write_svg to a new file at path ("-": stdout), written to a temporary file beside it
 * and renamed (a planted link at path is replaced, never followed). 0 or a negative errno. */
int plot_save(const struct plot *p, const char *path);

/*
 * Tick label for v on an axis whose ticks are `step` apart: SI-suffixed counts ("0", "250",
 * "1.5k", "20k", "1M", "2.5G") or, with bytes, binary units ("512 B", "1.5 KiB", "2 MiB");
 * never an exponent. Enough decimals to tell neighbouring ticks apart, trailing zeros
 * dropped. Writes at most len bytes (NUL included); returns buf.
 */
char *plot_fmt_tick(char *buf, size_t len, double v, double step, bool bytes);
/* A tick step near max / nticks: 1, 2, 2.5 or 5 times a power of ten (of 1024 with bytes,
 * above 1 KiB). 1 for max <= 0. */
double plot_tick_step(double max, int nticks, bool bytes);

#endif
