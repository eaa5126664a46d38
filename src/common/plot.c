/*
 * plot — stacked line-chart panels as SVG (see plot.h). No dependencies: text, lines and
 * polylines. Invariant: every number printed on an axis comes from plot_fmt_tick, so no
 * label is ever an exponent; a line of more points than the panel has pixels is reduced to
 * each pixel column's first, lowest, highest and last value (its shape survives, its size is
 * bounded by the width).
 */
#include "common/plot.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const palette[PLOT_NCOLORS] = {
    "#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd",
    "#8c564b", "#e377c2", "#17becf", "#7f7f7f",
};

/* Geometry, pixels. */
#define W 960  /* document width */
#define ML 100 /* left margin: tick labels and the rotated axis label */
#define MR 30
#define PH 170	/* a panel's plotting height */
#define HEAD 26 /* a panel's title and legend row above it */
#define FOOT 40 /* tick labels (and the time-axis label) under it */
#define PW (W - ML - MR)
#define REF_SPAN 10.0 /* a budget more than 10x the data's peak would flatten it: say so */

void plot_init(struct plot *p, const char *title)
{
	memset(p, 0, sizeof(*p));
	snprintf(p->title, sizeof(p->title), "%s", title ? title : "twkit");
}

struct plot_panel *plot_panel_add(struct plot *p, const char *title, const char *unit)
{
	struct plot_panel *pp;

	if (p->npanels >= PLOT_MAX_PANELS)
		return NULL;
	pp = &p->panels[p->npanels++];
	memset(pp, 0, sizeof(*pp));
	snprintf(pp->title, sizeof(pp->title), "%s", title ? title : "");
	snprintf(pp->unit, sizeof(pp->unit), "%s", unit ? unit : "");
	pp->bytes = unit && !strcmp(unit, "bytes");
	return pp;
}

struct plot_line *plot_line_add(struct plot_panel *pp, const char *label, const double *t,
				const double *v, size_t n, size_t stride, int color)
{
	struct plot_line *l;

	if (pp->nlines >= PLOT_MAX_LINES)
		return NULL;
	l = &pp->lines[pp->nlines];
	memset(l, 0, sizeof(*l));
	snprintf(l->label, sizeof(l->label), "%s", label ? label : "");
	l->t = t;
	l->v = v;
	l->n = n;
	l->stride = stride ? stride : 1;
	l->color = color >= 0 ? color % PLOT_NCOLORS : pp->nlines % PLOT_NCOLORS;
	pp->nlines++;
	return l;
}

int plot_ref_add(struct plot_panel *pp, double y, const char *label, int color)
{
	for (int i = 0; i < pp->nrefs; i++)
		if (pp->refs[i].y == y)
			return 0;
	if (pp->nrefs >= PLOT_MAX_REFS)
		return -ENOSPC;
	pp->refs[pp->nrefs].y = y;
	pp->refs[pp->nrefs].color = color >= 0 ? color % PLOT_NCOLORS : PLOT_GREY;
	snprintf(pp->refs[pp->nrefs].label, PLOT_LABEL_LEN, "%s", label ? label : "");
	pp->nrefs++;
	return 0;
}

int plot_mark_add(struct plot *p, double t, const char *label, int color)
{
	if (p->nmarks >= PLOT_MAX_MARKS)
		return -ENOSPC;
	p->marks[p->nmarks].t = t;
	p->marks[p->nmarks].color = color >= 0 ? color % PLOT_NCOLORS : PLOT_RED;
	snprintf(p->marks[p->nmarks].label, PLOT_LABEL_LEN, "%s", label ? label : "");
	p->nmarks++;
	return 0;
}

bool plot_values_vary(const double *v, size_t n, size_t stride)
{
	bool seen = false;
	double lo = 0, hi = 0;

	for (size_t i = 0; i < n; i++) {
		double x = v[i * stride];
		if (!isfinite(x))
			continue;
		if (!seen || x < lo)
			lo = x;
		if (!seen || x > hi)
			hi = x;
		seen = true;
	}
	return seen && hi - lo > PLOT_FLAT * fmax(fabs(lo), fabs(hi));
}

bool plot_values_nonzero(const double *v, size_t n, size_t stride)
{
	for (size_t i = 0; i < n; i++)
		if (isfinite(v[i * stride]) && v[i * stride] != 0)
			return true;
	return false;
}

/* 1, 2, 2.5, 5 or 10 times a power of ten, at least x (> 0). */
static double nice_up(double x)
{
	double p = pow(10, floor(log10(x))), f = x / p;

	if (f <= 1.0000001)
		return p;
	if (f <= 2.0000001)
		return 2 * p;
	if (f <= 2.5000001)
		return 2.5 * p;
	if (f <= 5.0000001)
		return 5 * p;
	return 10 * p;
}

double plot_tick_step(double max, int nticks, bool bytes)
{
	double unit = 1;

	if (!(max > 0) || !isfinite(max) || nticks < 1)
		return 1;
	if (bytes)
		while (max >= unit * 1024 && unit < 1099511627776.0 /* TiB */)
			unit *= 1024;
	return nice_up(max / nticks / unit) * unit;
}

char *plot_fmt_tick(char *buf, size_t len, double v, double step, bool bytes)
{
	static const char *const si[] = {"", "k", "M", "G", "T", "P"};
	static const char *const bin[] = {" B", " KiB", " MiB", " GiB", " TiB", " PiB"};
	double base = bytes ? 1024 : 1000, scale = 1, a = fabs(v), s;
	int k = 0, dec = 0;
	char num[64];
	size_t nl;

	if (!len)
		return buf;
	if (!isfinite(v)) {
		snprintf(buf, len, "-");
		return buf;
	}
	if (a < 1e-12) {
		snprintf(buf, len, bytes ? "0 B" : "0");
		return buf;
	}
	while (a >= base * scale && k < 5) {
		scale *= base;
		k++;
	}
	s = step > 0 ? step / scale : 0;
	if (s > 0) {
		/* the decimals that write the step exactly, at most 3 */
		while (dec < 3 &&
		       fabs(s * pow(10, dec) - round(s * pow(10, dec))) > 1e-6 * s * pow(10, dec))
			dec++;
	} else {
		/* no step: three significant digits */
		double m = a / scale;
		dec = m >= 100 ? 0 : m >= 10 ? 1 : 2;
	}
	snprintf(num, sizeof(num), "%.*f", dec, v / scale);
	nl = strlen(num);
	if (strchr(num, '.')) {
		while (nl > 0 && num[nl - 1] == '0')
			num[--nl] = 0;
		if (nl > 0 && num[nl - 1] == '.')
			num[--nl] = 0;
	}
	if (!strcmp(num, "-0"))
		snprintf(num, sizeof(num), "0");
	snprintf(buf, len, "%s%s", num, bytes ? bin[k] : si[k]);
	return buf;
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
		else if (*s == '"')
			fputs("&quot;", f);
		else if ((unsigned char)*s < 0x20)
			fputc(' ', f);
		else
			fputc(*s, f);
	}
}

/* The time axis: seconds up to 10 min, minutes up to 3 h, then hours. */
struct taxis {
	double t0, t1, div;
	const char *unit;
};

static void taxis_of(const struct plot *p, struct taxis *ax)
{
	bool any = false;

	ax->t0 = 0;
	ax->t1 = 1;
	for (int i = 0; i < p->npanels; i++)
		for (int j = 0; j < p->panels[i].nlines; j++) {
			const struct plot_line *l = &p->panels[i].lines[j];
			for (size_t r = 0; r < l->n; r++) {
				if (!isfinite(l->t[r]))
					continue;
				if (!any || l->t[r] < ax->t0)
					ax->t0 = l->t[r];
				if (!any || l->t[r] > ax->t1)
					ax->t1 = l->t[r];
				any = true;
			}
		}
	if (ax->t0 > 0 && ax->t0 < (ax->t1 - ax->t0) / 4)
		ax->t0 = 0; /* a run that started near zero: start the axis at zero */
	if (ax->t1 <= ax->t0)
		ax->t1 = ax->t0 + 1;
	double span = ax->t1 - ax->t0;
	ax->div = span > 3 * 3600 ? 3600 : span > 600 ? 60 : 1;
	ax->unit = ax->div == 3600 ? "h" : ax->div == 60 ? "min" : "s";
}

static double xpix(const struct taxis *ax, double t)
{
	return ML + PW * (t - ax->t0) / (ax->t1 - ax->t0);
}

/* The panel's data range: [0, top] with top covering the lines and the budgets that are
 * within REF_SPAN of them. */
static double panel_top(const struct plot_panel *pp)
{
	double m = 0;

	for (int j = 0; j < pp->nlines; j++) {
		const struct plot_line *l = &pp->lines[j];
		for (size_t r = 0; r < l->n; r++) {
			double x = l->v[r * l->stride];
			if (isfinite(x) && x > m)
				m = x;
		}
	}
	for (int k = 0; k < pp->nrefs; k++)
		if (pp->refs[k].y > m && (m <= 0 || pp->refs[k].y <= m * REF_SPAN))
			m = pp->refs[k].y;
	return m > 0 ? m * 1.05 : 1;
}

static void put_points(FILE *f, const struct taxis *ax, const struct plot_line *l, int y0,
		       double top)
{
	int col = -1;
	double first = 0, last = 0, lo = 0, hi = 0, tf = 0, tl = 0, tlo = 0, thi = 0;

#define YP(v) (y0 + PH - PH * ((v) / top))
	for (size_t r = 0; r <= l->n; r++) {
		double v = r < l->n ? l->v[r * l->stride] : NAN, t = r < l->n ? l->t[r] : NAN;
		int c = isfinite(t) ? (int)floor(xpix(ax, t)) : INT32_MIN;

		if (r < l->n && !isfinite(v))
			continue;
		if (col != -1 && (c != col || r == l->n)) {
			/* flush the pixel column: first, low and high in time order, last */
			fprintf(f, "%.1f,%.1f ", xpix(ax, tf), YP(first));
			if (tlo <= thi) {
				fprintf(f, "%.1f,%.1f ", xpix(ax, tlo), YP(lo));
				fprintf(f, "%.1f,%.1f ", xpix(ax, thi), YP(hi));
			} else {
				fprintf(f, "%.1f,%.1f ", xpix(ax, thi), YP(hi));
				fprintf(f, "%.1f,%.1f ", xpix(ax, tlo), YP(lo));
			}
			fprintf(f, "%.1f,%.1f ", xpix(ax, tl), YP(last));
			col = -1;
		}
		if (r == l->n)
			break;
		if (col == -1) {
			col = c;
			first = last = lo = hi = v;
			tf = tl = tlo = thi = t;
			continue;
		}
		last = v;
		tl = t;
		if (v < lo) {
			lo = v;
			tlo = t;
		}
		if (v > hi) {
			hi = v;
			thi = t;
		}
	}
#undef YP
}

/* A legend when there is a choice to tell apart, or the line is not what the title says. */
static bool has_legend(const struct plot_panel *pp)
{
	return pp->nlines > 1 || (pp->nlines == 1 && strcmp(pp->lines[0].label, pp->title));
}

static int legend_w(const struct plot_line *l)
{
	return 40 + 7 * (int)strlen(l->label);
}

static int ref_w(const struct plot_ref *r)
{
	return 44 + (int)(6.6 * (double)strlen(r->label));
}

/*
 * The heading above a panel, top to bottom: a row per budget that does not fit beside the
 * legend, then the title row with the legend flowing after it (wrapping onto more rows
 * below it when wide). *rows: legend rows; *inline_ref: the first budget sits at the right
 * of the title row. Returns the heading's height.
 */
static int head_layout(const struct plot_panel *pp, int *rows, bool *inline_ref)
{
	int x = ML + 14 + 8 * (int)strlen(pp->title), end = x, refmax = 0;

	*rows = 1;
	for (int j = 0; j < pp->nlines && has_legend(pp); j++) {
		int w = legend_w(&pp->lines[j]);
		if (x + w > ML + PW && x > ML) {
			(*rows)++;
			x = ML;
		}
		x += w;
		end = *rows == 1 ? x : end;
	}
	for (int k = 0; k < pp->nrefs; k++)
		refmax = ref_w(&pp->refs[k]) > refmax ? ref_w(&pp->refs[k]) : refmax;
	*inline_ref = pp->nrefs > 0 && end + refmax <= ML + PW;
	return HEAD + 15 * (*rows - 1) + 15 * (pp->nrefs - (*inline_ref ? 1 : 0));
}

static int head_of(const struct plot_panel *pp)
{
	int rows;
	bool in;
	return head_layout(pp, &rows, &in);
}

static void write_panel(FILE *f, const struct plot *p, const struct plot_panel *pp,
			const struct taxis *ax, int y0, bool first, bool last)
{
	double top = panel_top(pp), step = plot_tick_step(top, 4, pp->bytes), t_step;
	char a[48], b[48];
	int lx, rows, row = 0, ty;
	bool inline_ref;

	head_layout(pp, &rows, &inline_ref);
	ty = y0 - 8 - 15 * (rows - 1); /* the title row */
	fprintf(f, "<g class=\"panel\" data-title=\"");
	xml_text(f, pp->title);
	fprintf(f, "\" data-unit=\"");
	xml_text(f, pp->unit);
	fprintf(f, "\">\n");
	top = ceil(top / step - 1e-9) * step;
	/* heading: the title, then the legend */
	fprintf(f, "<text class=\"title\" x=\"%d\" y=\"%d\" font-weight=\"bold\">", ML, ty);
	xml_text(f, pp->title);
	fputs("</text>\n", f);
	lx = ML + 14 + 8 * (int)strlen(pp->title);
	for (int j = 0; j < pp->nlines && has_legend(pp); j++) {
		const struct plot_line *l = &pp->lines[j];
		int ly;
		if (lx + legend_w(l) > ML + PW && lx > ML) {
			row++;
			lx = ML;
		}
		ly = ty + 15 * row;
		fprintf(f,
			"<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
			"stroke-width=\"%d\" stroke-opacity=\"%.2f\"%s/>",
			lx, ly - 4, lx + 18, ly - 4, palette[l->color], l->width > 4 ? 5 : 3,
			l->opacity > 0 ? l->opacity : 1.0,
			l->dashed ? " stroke-dasharray=\"5,3\"" : "");
		fprintf(f, "<text class=\"legend\" x=\"%d\" y=\"%d\">", lx + 22, ly);
		xml_text(f, l->label);
		fputs("</text>\n", f);
		lx += legend_w(l);
	}
	/* the y axis: grid and ticks, and what it counts, in which unit */
	fprintf(f,
		"<rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" fill=\"none\" "
		"stroke=\"#999\"/>\n",
		ML, y0, PW, PH);
	for (int k = 0; k * step <= top + step / 2 && k <= 100; k++) {
		double v = k * step, y = y0 + PH - PH * v / top;
		fprintf(f, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#e6e6e6\"/>",
			ML, y, ML + PW, y);
		fprintf(f,
			"<text class=\"ytick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n",
			ML - 6, y + 4, plot_fmt_tick(a, sizeof(a), v, step, pp->bytes));
	}
	/* "what (unit)" along the axis: on two lines when one is longer than the panel, and
	 * smaller when even the longer of the two is */
	size_t tl = strlen(pp->title), ul = pp->unit[0] ? strlen(pp->unit) + 2 : 0;
	bool two = (double)(tl + ul + 1) * 6.6 > PH + 30;
	size_t longest = two ? (tl > ul ? tl : ul) : tl + ul + 1;
	double fs = fmin(12, (PH + 20) / (0.6 * (double)longest));
	fprintf(f,
		"<text class=\"ylabel\" transform=\"translate(%d,%d) rotate(-90)\" "
		"text-anchor=\"middle\" font-size=\"%.1f\">",
		two ? 14 : 20, y0 + PH / 2, fs);
	if (two)
		fputs("<tspan x=\"0\" dy=\"0\">", f);
	xml_text(f, pp->title);
	if (two)
		fprintf(f, "</tspan><tspan x=\"0\" dy=\"%.1f\">", fs + 2);
	if (pp->unit[0]) {
		fputs(" (", f); /* on its own line too: the text's value reads "what (unit)" */
		xml_text(f, pp->unit);
		fputs(")", f);
	}
	if (two)
		fputs("</tspan>", f);
	fputs("</text>\n", f);
	/* the time axis under every panel, its label under the last */
	t_step = plot_tick_step((ax->t1 - ax->t0) / ax->div, 6, false);
	double tk0 = ceil(ax->t0 / ax->div / t_step);
	for (int k = 0; (tk0 + k) * t_step <= ax->t1 / ax->div + 1e-9 && k <= 100; k++) {
		double tv = (tk0 + k) * t_step, x = xpix(ax, tv * ax->div);
		fprintf(f, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#f0f0f0\"/>",
			x, y0, x, y0 + PH);
		fprintf(f,
			"<text class=\"xtick\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">%s"
			"</text>\n",
			x, y0 + PH + 15, plot_fmt_tick(a, sizeof(a), tv, t_step, false));
	}
	if (last)
		fprintf(f,
			"<text class=\"xlabel\" x=\"%d\" y=\"%d\" text-anchor=\"middle\">time (%s)"
			"</text>\n",
			ML + PW / 2, y0 + PH + 33, ax->unit);
	/* budgets: a dashed line, named in the heading (right-aligned, one row each, so no
	 * label covers the data); one far above the data is only named */
	for (int k = 0; k < pp->nrefs; k++) {
		const struct plot_ref *rf = &pp->refs[k];
		/* the first on the title row when it fits there, the others in rows above */
		int hy = inline_ref ? ty - 15 * k : ty - 15 * (pp->nrefs - k), tx = ML + PW - 4;
		bool far = rf->y > top;
		double y = y0 + PH - PH * rf->y / top;
		if (!far)
			fprintf(f,
				"<line class=\"budget\" data-y=\"%.0f\" x1=\"%d\" y1=\"%.1f\" "
				"x2=\"%d\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\" "
				"stroke-dasharray=\"8,4\"/>",
				rf->y, ML, y, ML + PW, y, palette[rf->color]);
		fprintf(f,
			"<text class=\"budget-label\" x=\"%d\" y=\"%d\" text-anchor=\"end\" "
			"fill=\"%s\">",
			tx, hy, palette[rf->color]);
		xml_text(f, rf->label);
		if (far)
			fprintf(f, " (above the chart: %s)",
				plot_fmt_tick(b, sizeof(b), rf->y, 0, pp->bytes));
		fputs("</text>", f);
		if (!far)
			fprintf(f,
				"<line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"%s\" "
				"stroke-width=\"2\" stroke-dasharray=\"8,4\"/>",
				tx - 8 - (int)(6.6 * (double)strlen(rf->label)) - 26, hy - 4,
				tx - 8 - (int)(6.6 * (double)strlen(rf->label)), hy - 4,
				palette[rf->color]);
		fputc('\n', f);
	}
	for (int j = 0; j < pp->nlines; j++) {
		const struct plot_line *l = &pp->lines[j];
		fprintf(f, "<polyline class=\"line\" data-label=\"");
		xml_text(f, l->label);
		fprintf(f,
			"\" fill=\"none\" stroke=\"%s\" stroke-width=\"%.1f\" "
			"stroke-opacity=\"%.2f\" stroke-linejoin=\"round\"%s points=\"",
			palette[l->color], l->width > 0 ? l->width : 2.0,
			l->opacity > 0 ? l->opacity : 1.0,
			l->dashed ? " stroke-dasharray=\"6,3\"" : "");
		put_points(f, ax, l, y0, top);
		fputs("\"/>\n", f);
	}
	/* first failures: a vertical line through the panel, labelled in the first panel */
	for (int k = 0; k < p->nmarks; k++) {
		const struct plot_mark *m = &p->marks[k];
		double x = xpix(ax, m->t);
		if (x < ML || x > ML + PW)
			continue;
		fprintf(f,
			"<line class=\"first-failure\" data-t=\"%.3f\" x1=\"%.1f\" y1=\"%d\" "
			"x2=\"%.1f\" y2=\"%d\" stroke=\"%s\" stroke-width=\"1.5\" "
			"stroke-dasharray=\"3,3\"/>",
			m->t, x, y0, x, y0 + PH, palette[m->color]);
		if (first) {
			/* at the foot of the first panel, on white: readable over any line; to
			 * the right of its line unless that runs out of room */
			bool right = x > ML + PW * 0.75;
			int my = y0 + PH - 8 - 16 * k,
			    tw = (int)(6.6 * (double)strlen(m->label)) + 6;
			fprintf(f,
				"<rect x=\"%.1f\" y=\"%d\" width=\"%d\" height=\"15\" "
				"fill=\"white\" fill-opacity=\"0.85\"/>",
				right ? x - 4 - tw : x + 2, my - 12, tw);
			fprintf(f,
				"<text class=\"mark-label\" x=\"%.1f\" y=\"%d\" text-anchor=\"%s\" "
				"fill=\"%s\">",
				right ? x - 6 : x + 5, my, right ? "end" : "start",
				palette[m->color]);
			xml_text(f, m->label);
			fputs("</text>", f);
		}
		fputc('\n', f);
	}
	fputs("</g>\n", f);
}

int plot_write_svg(const struct plot *p, FILE *f)
{
	struct taxis ax;
	int shown = 0, top = p->subtitle[0] ? 64 : 44, h, y, k = 0;

	taxis_of(p, &ax);
	h = top;
	for (int i = 0; i < p->npanels; i++)
		if (p->panels[i].nlines > 0) {
			shown++;
			h += head_of(&p->panels[i]) + PH + FOOT;
		}
	h += shown ? 10 : 40;
	fprintf(f,
		"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" font-family=\"sans-serif\" font-size=\"12\">\n",
		W, h, W, h);
	fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
	fprintf(f,
		"<text class=\"plot-title\" x=\"%d\" y=\"24\" font-size=\"16\" "
		"font-weight=\"bold\">",
		ML);
	xml_text(f, p->title);
	fputs("</text>\n", f);
	if (p->subtitle[0]) {
		fprintf(f, "<text class=\"subtitle\" x=\"%d\" y=\"44\" fill=\"#444\">", ML);
		xml_text(f, p->subtitle);
		fputs("</text>\n", f);
	}
	if (!shown)
		fprintf(f,
			"<text x=\"%d\" y=\"%d\" fill=\"#444\">nothing changed over time: no "
			"series to plot</text>\n",
			ML, top + 10);
	y = top;
	for (int i = 0; i < p->npanels; i++) {
		if (!p->panels[i].nlines)
			continue;
		y += head_of(&p->panels[i]);
		k++;
		write_panel(f, p, &p->panels[i], &ax, y, k == 1, k == shown);
		y += PH + FOOT;
	}
	fputs("</svg>\n", f);
	return ferror(f) ? -EIO : 0;
}

int plot_save(const struct plot *p, const char *path)
{
	char tmp[4096];
	const char *slash;
	FILE *f;
	int fd, rc;

	if (!strcmp(path, "-")) {
		rc = plot_write_svg(p, stdout);
		return fflush(stdout) != 0 && rc == 0 ? -EIO : rc;
	}
	slash = strrchr(path, '/');
	if (snprintf(tmp, sizeof(tmp), "%.*s.%s.XXXXXX", slash ? (int)(slash - path + 1) : 0, path,
		     slash ? slash + 1 : path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = mkstemp(tmp); /* O_CREAT|O_EXCL: never follows a planted link */
	if (fd < 0)
		return -errno;
	f = fdopen(fd, "w");
	if (!f) {
		rc = -errno;
		close(fd);
		unlink(tmp);
		return rc;
	}
	rc = plot_write_svg(p, f);
	if (fflush(f) != 0 && rc == 0)
		rc = -EIO;
	if (fchmod(fd, 0644) != 0 && rc == 0)
		rc = -errno;
	if (fclose(f) != 0 && rc == 0)
		rc = -EIO;
	if (rc == 0 && rename(tmp, path) != 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}
