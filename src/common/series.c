/*
 * series — time-series table and its CSV/SVG/JSON renderings (see series.h).
 * The SVG has no dependencies: polylines on a grid, one panel per column so a TIME-WAIT count
 * in the hundred thousands and a failure rate of a few per second stay readable side by side.
 */
#include "common/series.h"
#include "common/outpath.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
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

/* A "nice" axis maximum: 1, 2 or 5 times a power of ten, at least v. */
static double nice_max(double v)
{
	if (v <= 0)
		return 1;
	double p = pow(10, floor(log10(v)));
	for (int i = 0; i < 4; i++) {
		static const double m[] = { 1, 2, 5, 10 };
		if (m[i] * p >= v)
			return m[i] * p;
	}
	return 10 * p;
}

static void xml_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else
			fputc(*s, f);
	}
}

int series_write_svg(const struct series *s, FILE *f, const char *title)
{
	static const char *colors[] = { "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e",
					"#9467bd", "#8c564b", "#e377c2", "#17becf" };
	const int W = 860, PH = 120, GAP = 34, L = 80, R = 20, TOP = 40;
	int H = TOP + s->ncols * (PH + GAP) + 20;
	double t0 = s->nrows ? s->t[0] : 0, t1 = s->nrows ? s->t[s->nrows - 1] : 1;
	if (t1 <= t0)
		t1 = t0 + 1;

	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		   "font-family=\"sans-serif\" font-size=\"12\">\n", W, H);
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	fprintf(f, "<text x=\"%d\" y=\"22\" font-size=\"15\" font-weight=\"bold\">", L);
	xml_text(f, title ? title : "twkit");
	fputs("</text>\n", f);
	for (int c = 0; c < s->ncols; c++) {
		int y0 = TOP + c * (PH + GAP) + 14; /* panel top */
		double ymax = nice_max(series_col_max(s, c));
		const char *col = colors[c % 8];
		fprintf(f, "<text x=\"%d\" y=\"%d\" fill=\"%s\">", L, y0 - 4, col);
		xml_text(f, s->names[c]);
		fputs("</text>\n", f);
		fprintf(f, "<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
			   "stroke=\"#bbb\"/>\n", L, y0, W - L - R, PH);
		for (int k = 0; k <= 2; k++) {
			double v = ymax * k / 2;
			int y = y0 + PH - (int)(PH * k / 2);
			fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"end\">%g</text>\n", L - 6,
				y + 4, v);
			if (k == 1)
				fprintf(f, "<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#eee\"/>\n",
					L, y, W - R, y);
		}
		fprintf(f, "<polyline fill=\"none\" stroke=\"%s\" stroke-width=\"1.5\" points=\"", col);
		for (size_t r = 0; r < s->nrows; r++) {
			double v = series_get(s, r, c);
			if (!isfinite(v))
				continue;
			double x = L + (W - L - R) * (s->t[r] - t0) / (t1 - t0);
			double y = y0 + PH - PH * (v / ymax);
			fprintf(f, "%.1f,%.1f ", x, y);
		}
		fputs("\"/>\n", f);
		if (c == s->ncols - 1) {
			for (int k = 0; k <= 4; k++) {
				double tv = t0 + (t1 - t0) * k / 4;
				int x = L + (W - L - R) * k / 4;
				fprintf(f, "<text x=\"%d\" y=\"%d\" text-anchor=\"middle\">%gs</text>\n", x,
					y0 + PH + 16, round(tv * 10) / 10);
			}
		}
	}
	fputs("</svg>\n", f);
	return ferror(f) ? -EIO : 0;
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
