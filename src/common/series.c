/*
 * series — time-series table and its CSV/SVG/JSON renderings (see series.h).
 * The SVG is plot.h's: columns that count the same thing in the same unit share a panel (the
 * producer says which, series_set_plot), so a TIME-WAIT count in the hundred thousands and a
 * failure rate of a few per second each keep an axis of their own; flat columns are left out.
 */
#include "common/series.h"
#include "common/outpath.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

int series_init(struct series *s, int ncols, const char *const *names)
{
	memset(s, 0, sizeof(*s));
	if (ncols < 1 || ncols > SERIES_MAX_COLS)
		return -EINVAL;
	s->ncols = ncols;
	for (int i = 0; i < ncols; i++) {
		s->names[i] = strdup(names[i]);
		if (!s->names[i]) {
			series_fini(s);
			return -ENOMEM;
		}
	}
	return 0;
}

void series_fini(struct series *s)
{
	for (int i = 0; i < SERIES_MAX_COLS; i++)
		free(s->names[i]);
	free(s->t);
	free(s->data);
	memset(s, 0, sizeof(*s));
}

int series_add(struct series *s, double t, const double *vals)
{
	if (s->nrows == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		double *nt = realloc(s->t, cap * sizeof(double));
		if (!nt)
			return -ENOMEM;
		s->t = nt;
		double *nd = realloc(s->data, cap * (size_t)s->ncols * sizeof(double));
		if (!nd)
			return -ENOMEM;
		s->data = nd;
		s->cap = cap;
	}
	s->t[s->nrows] = t;
	memcpy(s->data + s->nrows * (size_t)s->ncols, vals, (size_t)s->ncols * sizeof(double));
	s->nrows++;
	return 0;
}

int series_col(const struct series *s, const char *name)
{
	for (int i = 0; i < s->ncols; i++)
		if (strcmp(s->names[i], name) == 0)
			return i;
	return -1;
}

double series_get(const struct series *s, size_t row, int col)
{
	return s->data[row * (size_t)s->ncols + (size_t)col];
}

double series_col_max(const struct series *s, int col)
{
	double m = 0;
	for (size_t r = 0; r < s->nrows; r++) {
		double v = series_get(s, r, col);
		if (isfinite(v) && v > m)
			m = v;
	}
	return m;
}

static void put_num(FILE *f, double v)
{
	if (!isfinite(v))
		fputs("", f);
	else if (v == floor(v) && fabs(v) < 1e15)
		fprintf(f, "%.0f", v);
	else
		fprintf(f, "%.3f", v);
}

int series_write_csv(const struct series *s, FILE *f)
{
	fputs("t", f);
	for (int c = 0; c < s->ncols; c++)
		fprintf(f, ",%s", s->names[c]);
	fputc('\n', f);
	for (size_t r = 0; r < s->nrows; r++) {
		put_num(f, s->t[r]);
		for (int c = 0; c < s->ncols; c++) {
			fputc(',', f);
			put_num(f, series_get(s, r, c));
		}
		fputc('\n', f);
	}
	return ferror(f) ? -EIO : 0;
}

void series_write_json(const struct series *s, struct jw *w, const char *key)
{
	jw_arr_begin(w, key);
	for (size_t r = 0; r < s->nrows; r++) {
		jw_obj_begin(w, NULL);
		jw_double(w, "t", s->t[r], 3);
		for (int c = 0; c < s->ncols; c++)
			jw_double(w, s->names[c], series_get(s, r, c), 3);
		jw_obj_end(w);
	}
	jw_arr_end(w);
}

int series_set_plot(struct series *s, const char *name, const char *panel, const char *unit,
		    const char *label, unsigned flags)
{
	int c = series_col(s, name);

	if (c < 0)
		return -ENOENT;
	s->plot[c] = (struct series_plot_col){ panel, unit, label, flags };
	return 0;
}

int series_add_ref(struct series *s, const char *panel, double y, const char *label)
{
	if (s->nrefs >= SERIES_MAX_REFS)
		return -ENOSPC;
	s->refs[s->nrefs].panel = panel;
	s->refs[s->nrefs].y = y;
	snprintf(s->refs[s->nrefs].label, sizeof(s->refs[0].label), "%s", label ? label : "");
	s->nrefs++;
	return 0;
}

/* Where column c of s is drawn. */
static const char *col_panel(const struct series *s, int c)
{
	return s->plot[c].panel ? s->plot[c].panel : s->names[c];
}

/* Whether column c tells anything over time: it changes, or it is a failure above 0. */
static bool col_informative(const struct series *s, int c)
{
	const double *v = s->data + c;
	size_t st = (size_t)s->ncols;

	if (s->plot[c].flags & SERIES_NOPLOT)
		return false;
	return plot_values_vary(v, s->nrows, st) ||
	       ((s->plot[c].flags & SERIES_FAIL) && plot_values_nonzero(v, s->nrows, st));
}

/* When the first failure happened: exactly when the producer said, else the start of the
 * first row that holds one (*end: that row's end, or -1 when exact). -1 when none. */
static double first_failure_from(const struct series *s, double *end)
{
	*end = -1;
	if (s->first_fail_known)
		return s->first_fail_s;
	for (size_t r = 0; r < s->nrows; r++)
		for (int c = 0; c < s->ncols; c++)
			if ((s->plot[c].flags & SERIES_FAIL) && series_get(s, r, c) > 0) {
				*end = s->t[r];
				return r > 0 ? s->t[r - 1] : 0;
			}
	return -1;
}

/* Two first failures that read the same (to the 0.1 s a label shows) share one mark. */
static bool same_mark(double a, double ae, double b, double be)
{
	if (a < 0 || b < 0)
		return false;
	if (ae >= 0 || be >= 0)
		return a == b && ae == be;
	return round(a * 10) == round(b * 10);
}

static bool has_ref(const struct series *s, const char *panel, double y)
{
	for (int r = 0; r < s->nrefs; r++)
		if (s->refs[r].panel && !strcmp(s->refs[r].panel, panel) && s->refs[r].y == y)
			return true;
	return false;
}

void series_plot_overlay(const struct series_overlay *o, int n, struct plot *p)
{
	const char *titles[PLOT_MAX_PANELS * 2];
	int nt = 0;
	char b[PLOT_LABEL_LEN + 64];

	for (int i = 0; i < n; i++)
		for (int c = 0; c < o[i].s->ncols; c++) {
			const char *pt = col_panel(o[i].s, c);
			int k;
			for (k = 0; k < nt && strcmp(titles[k], pt); k++)
				;
			if (k == nt && nt < PLOT_MAX_PANELS * 2)
				titles[nt++] = pt;
		}
	/* the panel a budget is drawn on answers the first question: it goes first */
	for (int k = 1; k < nt; k++) {
		bool ref = false;
		for (int i = 0; i < n && !ref; i++)
			for (int r = 0; r < o[i].s->nrefs; r++)
				ref = ref || (o[i].s->refs[r].panel &&
					      !strcmp(o[i].s->refs[r].panel, titles[k]));
		if (ref) {
			const char *x = titles[k];
			memmove(&titles[1], &titles[0], (size_t)k * sizeof(titles[0]));
			titles[0] = x;
		}
	}
	for (int k = 0; k < nt; k++) {
		struct plot_panel *pp = NULL;
		const char *cols[SERIES_MAX_COLS];
		int ncols = 0;
		double ref_y = -1;
		bool ref_same = true, ref_any = false;

		/* the distinct columns drawn here decide whether labels name the column */
		for (int i = 0; i < n; i++)
			for (int c = 0; c < o[i].s->ncols; c++) {
				int m;
				if (strcmp(col_panel(o[i].s, c), titles[k]) || !col_informative(o[i].s, c))
					continue;
				for (m = 0; m < ncols && strcmp(cols[m], o[i].s->names[c]); m++)
					;
				if (m == ncols)
					cols[ncols++] = o[i].s->names[c];
			}
		if (!ncols)
			continue; /* nothing happens in this panel */
		for (int i = 0; i < n; i++) {
			const struct series *s = o[i].s;
			int nth = 0;
			for (int c = 0; c < s->ncols; c++) {
				const struct series_plot_col *pc = &s->plot[c];
				const char *cl = pc->label ? pc->label : s->names[c];
				struct plot_line *l;
				int color;
				if (strcmp(col_panel(s, c), titles[k]) || !col_informative(s, c))
					continue;
				if (!pp && !(pp = plot_panel_add(p, titles[k], pc->unit)))
					return;
				if (n == 1 || !o[i].label)
					snprintf(b, sizeof(b), "%s", cl);
				else if (ncols == 1 && !strcmp(cl, titles[k]))
					snprintf(b, sizeof(b), "%s", o[i].label);
				else
					snprintf(b, sizeof(b), "%s: %s", o[i].label, cl);
				color = n > 1 ? o[i].color
				      : (pc->flags & SERIES_FAIL) && pp->nlines == 0 ? PLOT_RED : -1;
				l = plot_line_add(pp, b, s->t, s->data + c, s->nrows, (size_t)s->ncols,
						  color);
				if (l) {
					l->dashed = o[i].dashed || (n > 1 && nth > 0);
					/* the first series widest: lines that coincide stay visible as
					 * nested stripes */
					l->width = o[i].width > 0 ? o[i].width
						   : n > 1 ? 2 + 1.6 * (n - 1 - i) : 2;
					l->opacity = o[i].opacity;
				}
				nth++;
			}
		}
		if (!pp)
			continue;
		/* budgets: one line when every series has the same, else one per series */
		for (int i = 0; i < n; i++)
			for (int r = 0; r < o[i].s->nrefs; r++)
				if (o[i].s->refs[r].panel && !strcmp(o[i].s->refs[r].panel, titles[k])) {
					if (ref_any && o[i].s->refs[r].y != ref_y)
						ref_same = false;
					ref_y = o[i].s->refs[r].y;
					ref_any = true;
				}
		for (int i = 0; i < n && ref_any; i++)
			for (int r = 0; r < o[i].s->nrefs; r++) {
				const char *rp = o[i].s->refs[r].panel;
				double y = o[i].s->refs[r].y;
				size_t at = 0;
				int same = 0, j;
				if (!rp || strcmp(rp, titles[k]))
					continue;
				if (ref_same || n == 1 || !o[i].label) {
					plot_ref_add(pp, y, o[i].s->refs[r].label, PLOT_GREY);
					continue;
				}
				/* series with the same budget share its line and its label */
				for (j = 0; j < i && !has_ref(o[j].s, rp, y); j++)
					;
				if (j < i)
					continue;
				for (j = i; j < n; j++)
					if (has_ref(o[j].s, rp, y) && at < sizeof(b)) {
						int w2 = snprintf(b + at, sizeof(b) - at, "%s%s",
								  same++ ? ", " : "", o[j].label);
						at += w2 > 0 ? (size_t)w2 : 0;
					}
				if (at < sizeof(b))
					snprintf(b + at, sizeof(b) - at, ": %s", o[i].s->refs[r].label);
				plot_ref_add(pp, y, b, o[i].color);
			}
	}
	/* first failures: one mark per time, naming the series that share it */
	double ff[PLOT_MAX_LINES], ffe[PLOT_MAX_LINES];
	for (int i = 0; i < n && i < PLOT_MAX_LINES; i++)
		ff[i] = first_failure_from(o[i].s, &ffe[i]);
	for (int i = 0; i < n && i < PLOT_MAX_LINES; i++) {
		int j, same = 0;
		size_t at = 0;
		if (ff[i] < 0)
			continue;
		for (j = 0; j < i && !same_mark(ff[j], ffe[j], ff[i], ffe[i]); j++)
			;
		if (j < i)
			continue; /* marked with an earlier series */
		b[0] = 0;
		for (j = i; j < n && j < PLOT_MAX_LINES && o[i].label && n > 1; j++)
			if (same_mark(ff[j], ffe[j], ff[i], ffe[i]) && at < sizeof(b)) {
				int w = snprintf(b + at, sizeof(b) - at, "%s%s", same++ ? ", " : "",
						 o[j].label);
				at += w > 0 ? (size_t)w : 0;
			}
		if (at < sizeof(b) && ffe[i] >= 0) /* only the sample that saw it is known */
			snprintf(b + at, sizeof(b) - at, "%sfirst failure between %.0f and %.0f s",
				 at ? ": " : "", ff[i], ffe[i]);
		else if (at < sizeof(b))
			snprintf(b + at, sizeof(b) - at, "%sfirst failure %.1f s", at ? ": " : "",
				 ff[i]);
		plot_mark_add(p, ff[i], b, n == 1 || same > 1 ? PLOT_RED : o[i].color);
	}
}

void series_plot(const struct series *s, struct plot *p)
{
	struct series_overlay o = { s, NULL, PLOT_BLUE, false, 0, 0 };

	series_plot_overlay(&o, 1, p);
}

int series_write_svg(const struct series *s, FILE *f, const char *title)
{
	struct plot *p = malloc(sizeof(*p));
	int rc;

	if (!p)
		return -ENOMEM;
	plot_init(p, title);
	series_plot(s, p);
	rc = plot_write_svg(p, f);
	free(p);
	return rc;
}

int series_save(const struct series *s, const char *path, int svg, const char *title)
{
	FILE *f = outpath_open(path); /* "-" is stdout; a link at path is not followed */
	int rc;
	if (!f)
		return -errno;
	rc = svg ? series_write_svg(s, f, title) : series_write_csv(s, f);
	if (f != stdout) {
		if (fclose(f) != 0 && rc == 0)
			rc = -EIO;
	} else {
		fflush(f);
	}
	return rc;
}
