/*
 * lab_json — a small JSON reader for the one document lab reads: `twkit bench run --json`
 * (schema twkit.bench/1). Parses text into a tree of nodes held in one arena; lookups by
 * dotted path ("totals.failed.EADDRNOTAVAIL"). Safe on arbitrary bytes: malformed input gives
 * -EPROTO, never a crash. Not a general JSON library: \u escapes are kept as '?'.
 */
#ifndef TWKIT_LAB_LAB_JSON_H
#define TWKIT_LAB_LAB_JSON_H

#include <stdbool.h>
#include <stddef.h>

enum LJ_TYPE { LJ_NULL, LJ_BOOL, LJ_NUM, LJ_STR, LJ_ARR, LJ_OBJ };

struct lj_node {
	enum LJ_TYPE type;
	char *key;   /* member name inside an object, else NULL */
	char *str;   /* LJ_STR value */
	double num;  /* LJ_NUM value; LJ_BOOL as 0/1 */
	int first;   /* LJ_ARR/LJ_OBJ: index of the first child, -1 if empty */
	int next;    /* index of the next sibling, -1 at the end */
};

struct lj_doc {
	struct lj_node *n;
	int len, cap;
};

/* Parse text[0..len). Returns 0 (root is node 0) or -EPROTO / -ENOMEM. Release with
 * lj_free() in every case. */
int lj_parse(const char *text, size_t len, struct lj_doc *d);
void lj_free(struct lj_doc *d);
/* Member `key` of object node `obj`, or -1. */
int lj_member(const struct lj_doc *d, int obj, const char *key);
/* Node at a dotted path from `from` ("totals.failed"), or -1. */
int lj_path(const struct lj_doc *d, int from, const char *path);
/* Number at path, or `def` when absent or not a number. */
double lj_num(const struct lj_doc *d, int from, const char *path, double def);

#endif
