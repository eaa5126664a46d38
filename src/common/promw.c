/*
 * promw — Prometheus text exposition writer (see promw.h). A sample is written as it is
 * built: "name{" goes out with the first label, so a sample without labels has no braces.
 */
#include "common/promw.h"

#include <math.h>

void promw_init(struct promw *w, FILE *f, const struct prom_label *prefix, size_t n)
{
	w->f = f;
	w->prefix = prefix;
	w->nprefix = prefix ? n : 0;
	w->nlabels = 0;
}

void promw_family(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* Label values escape backslash, quote and newline (the format's three escapes). */
static void escape(FILE *f, const char *v)
{
	for (; *v; v++) {
		if (*v == '\n') {
			fputs("\\n", f);
			continue;
		}
		if (*v == '\\' || *v == '"')
			fputc('\\', f);
		fputc(*v, f);
	}
}

void promw_begin(struct promw *w, const char *name)
{
	fputs(name, w->f);
	w->nlabels = 0;
	for (size_t i = 0; i < w->nprefix; i++)
		promw_label(w, w->prefix[i].name, w->prefix[i].value);
}

void promw_label(struct promw *w, const char *name, const char *value)
{
	fprintf(w->f, "%s%s=\"", w->nlabels++ ? "," : "{", name);
	escape(w->f, value ? value : "");
	fputc('"', w->f);
}

void promw_label_uint(struct promw *w, const char *name, unsigned long long value)
{
	fprintf(w->f, "%s%s=\"%llu\"", w->nlabels++ ? "," : "{", name, value);
}

static void close_labels(struct promw *w)
{
	fputs(w->nlabels ? "} " : " ", w->f);
	w->nlabels = 0;
}

void promw_end_uint(struct promw *w, uint64_t v)
{
	close_labels(w);
	fprintf(w->f, "%llu\n", (unsigned long long)v);
}

void promw_end_double(struct promw *w, double v, int prec)
{
	close_labels(w);
	if (isnan(v))
		fputs("NaN\n", w->f);
	else if (isinf(v))
		fputs(v > 0 ? "+Inf\n" : "-Inf\n", w->f);
	else
		fprintf(w->f, "%.*f\n", prec, v);
}
