/*
 * jsonw — a small streaming JSON writer. Output is deterministic (key order is call order,
 * numbers formatted the same way every time) so renderers can be checked against golden files.
 * Invariant: the nesting stack matches begin/end calls; commas are inserted automatically.
 * Keys are passed when inside an object and must be NULL inside arrays and at the root.
 */
#ifndef TWKIT_COMMON_JSONW_H
#define TWKIT_COMMON_JSONW_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JW_MAX_DEPTH 32

struct jw {
	FILE *f;
	bool pretty;
	int depth;
	bool first[JW_MAX_DEPTH];
	bool is_arr[JW_MAX_DEPTH];
};

void jw_init(struct jw *w, FILE *f, bool pretty);
void jw_obj_begin(struct jw *w, const char *key);
void jw_obj_end(struct jw *w);
void jw_arr_begin(struct jw *w, const char *key);
void jw_arr_end(struct jw *w);
/* A NULL string value is written as null. */
void jw_str(struct jw *w, const char *key, const char *val);
void jw_int(struct jw *w, const char *key, int64_t v);
void jw_uint(struct jw *w, const char *key, uint64_t v);
/* Up to `decimals` decimals, trailing zeros trimmed; NaN and infinities become null. */
void jw_double(struct jw *w, const char *key, double v, int decimals);
void jw_bool(struct jw *w, const char *key, bool v);
void jw_null(struct jw *w, const char *key);
/* Finish the document (newline). */
void jw_finish(struct jw *w);
/* Write s as a JSON string literal (with quotes) to f. */
void jw_write_string(FILE *f, const char *s);

#endif
