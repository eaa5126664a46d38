/*
 * jsonw — streaming JSON writer (see jsonw.h).
 */
#include "common/jsonw.h"
#include "common/textesc.h"

#include <math.h>
#include <string.h>

void jw_init(struct jw *w, FILE *f, bool pretty)
{
	memset(w, 0, sizeof(*w));
	w->f = f;
	w->pretty = pretty;
	w->first[0] = true;
}

void jw_write_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f) {
				fprintf(f, "\\u%04x", *p);
			} else if (*p >= 0x80) {
				/* valid UTF-8 as it is; a byte outside a valid sequence is U+FFFD */
				size_t k = utf8_seq_len(p, strnlen((const char *)p, 4));
				if (k == 2 && p[0] == 0xc2 && p[1] < 0xa0) { /* C1 controls */
					fprintf(f, "\\u%04x", p[1]);
					p++;
				} else if (k) {
					fwrite(p, 1, k, f);
					p += k - 1;
				} else {
					fputs("\\ufffd", f);
				}
			} else {
				fputc(*p, f);
			}
		}
	}
	fputc('"', f);
}

static void indent(struct jw *w)
{
	if (!w->pretty)
		return;
	fputc('\n', w->f);
	for (int i = 0; i < w->depth; i++)
		fputs("  ", w->f);
}

static void prefix(struct jw *w, const char *key)
{
	if (w->depth > 0) {
		if (!w->first[w->depth])
			fputc(',', w->f);
		indent(w);
	}
	w->first[w->depth] = false;
	if (key && w->depth > 0 && !w->is_arr[w->depth]) {
		jw_write_string(w->f, key);
		fputs(w->pretty ? ": " : ":", w->f);
	}
}

static void open_(struct jw *w, const char *key, char c, bool arr)
{
	prefix(w, key);
	fputc(c, w->f);
	if (w->depth + 1 < JW_MAX_DEPTH) {
		w->depth++;
		w->first[w->depth] = true;
		w->is_arr[w->depth] = arr;
	}
}

static void close_(struct jw *w, char c)
{
	bool empty = w->first[w->depth];
	if (w->depth > 0)
		w->depth--;
	if (!empty)
		indent(w);
	fputc(c, w->f);
}

void jw_obj_begin(struct jw *w, const char *key)
{
	open_(w, key, '{', false);
}
void jw_obj_end(struct jw *w)
{
	close_(w, '}');
}
void jw_arr_begin(struct jw *w, const char *key)
{
	open_(w, key, '[', true);
}
void jw_arr_end(struct jw *w)
{
	close_(w, ']');
}

void jw_str(struct jw *w, const char *key, const char *val)
{
	prefix(w, key);
	if (val)
		jw_write_string(w->f, val);
	else
		fputs("null", w->f);
}

void jw_int(struct jw *w, const char *key, int64_t v)
{
	prefix(w, key);
	fprintf(w->f, "%lld", (long long)v);
}

void jw_uint(struct jw *w, const char *key, uint64_t v)
{
	prefix(w, key);
	fprintf(w->f, "%llu", (unsigned long long)v);
}

void jw_double(struct jw *w, const char *key, double v, int decimals)
{
	char buf[64];
	prefix(w, key);
	if (!isfinite(v)) {
		fputs("null", w->f);
		return;
	}
	if (decimals < 0)
		decimals = 0;
	if (decimals > 9)
		decimals = 9;
	snprintf(buf, sizeof(buf), "%.*f", decimals, v);
	if (strchr(buf, '.')) {
		char *e = buf + strlen(buf) - 1;
		while (*e == '0')
			*e-- = '\0';
		if (*e == '.')
			*e = '\0';
	}
	if (strcmp(buf, "-0") == 0)
		strcpy(buf, "0");
	fputs(buf, w->f);
}

void jw_bool(struct jw *w, const char *key, bool v)
{
	prefix(w, key);
	fputs(v ? "true" : "false", w->f);
}

void jw_null(struct jw *w, const char *key)
{
	prefix(w, key);
	fputs("null", w->f);
}

void jw_finish(struct jw *w)
{
	fputc('\n', w->f);
}
