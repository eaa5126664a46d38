/*
 * lab_json — recursive-descent JSON reader (see lab_json.h).
 * Invariant: node indices, never pointers, link the tree, so growing the arena is safe.
 * Nesting depth is bounded so hostile input cannot exhaust the stack.
 */
#include "lab/lab_json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define LJ_MAX_DEPTH 64

struct lj_in {
	const char *p, *end;
	struct lj_doc *d;
};

static int parse_value(struct lj_in *in, int depth);

static void skip_ws(struct lj_in *in)
{
	while (in->p < in->end &&
	       (*in->p == ' ' || *in->p == '\t' || *in->p == '\n' || *in->p == '\r'))
		in->p++;
}

/* Append a node; returns its index or -ENOMEM. */
static int node_new(struct lj_doc *d, enum LJ_TYPE t)
{
	if (d->len == d->cap) {
		int cap = d->cap ? d->cap * 2 : 64;
		struct lj_node *n = realloc(d->n, (size_t)cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		d->n = n;
		d->cap = cap;
	}
	memset(&d->n[d->len], 0, sizeof(d->n[0]));
	d->n[d->len].type = t;
	d->n[d->len].first = -1;
	d->n[d->len].next = -1;
	return d->len++;
}

/* A string literal at in->p into a malloc'd C string. */
static int parse_string(struct lj_in *in, char **out)
{
	size_t cap = 16, n = 0;
	char *s;

	if (in->p >= in->end || *in->p != '"')
		return -EPROTO;
	in->p++;
	s = malloc(cap);
	if (!s)
		return -ENOMEM;
	while (in->p < in->end && *in->p != '"') {
		char c = *in->p++;

		if (c == '\\') {
			if (in->p >= in->end)
				goto bad;
			c = *in->p++;
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'u':
				if (in->end - in->p < 4)
					goto bad;
				in->p += 4;
				c = '?';
				break;
			case '"': case '\\': case '/': break;
			default: goto bad;
			}
		} else if ((unsigned char)c < 0x20) {
			goto bad;
		}
		if (n + 2 > cap) {
			char *t = realloc(s, cap * 2);

			if (!t) {
				free(s);
				return -ENOMEM;
			}
			s = t;
			cap *= 2;
		}
		s[n++] = c;
	}
	if (in->p >= in->end)
		goto bad;
	in->p++;
	s[n] = '\0';
	*out = s;
	return 0;
bad:
	free(s);
	return -EPROTO;
}

/* Elements of an array or members of an object, linked as children of node `self`. */
static int parse_children(struct lj_in *in, int self, int depth, bool obj)
{
	char close = obj ? '}' : ']';
	int prev = -1;

	in->p++;
	skip_ws(in);
	if (in->p < in->end && *in->p == close) {
		in->p++;
		return 0;
	}
	for (;;) {
		char *key = NULL;
		int rc, child;

		skip_ws(in);
		if (obj) {
			rc = parse_string(in, &key);
			if (rc < 0)
				return rc;
			skip_ws(in);
			if (in->p >= in->end || *in->p != ':') {
				free(key);
				return -EPROTO;
			}
			in->p++;
		}
		child = parse_value(in, depth + 1);
		if (child < 0) {
			free(key);
			return child;
		}
		in->d->n[child].key = key;
		if (prev < 0)
			in->d->n[self].first = child;
		else
			in->d->n[prev].next = child;
		prev = child;
		skip_ws(in);
		if (in->p >= in->end)
			return -EPROTO;
		if (*in->p == ',') {
			in->p++;
			continue;
		}
		if (*in->p != close)
			return -EPROTO;
		in->p++;
		return 0;
	}
}

/* One value; returns its node index or a negative errno. */
static int parse_value(struct lj_in *in, int depth)
{
	int self, rc;

	if (depth > LJ_MAX_DEPTH)
		return -EPROTO;
	skip_ws(in);
	if (in->p >= in->end)
		return -EPROTO;
	switch (*in->p) {
	case '{':
	case '[':
		self = node_new(in->d, *in->p == '{' ? LJ_OBJ : LJ_ARR);
		if (self < 0)
			return self;
		rc = parse_children(in, self, depth, in->d->n[self].type == LJ_OBJ);
		return rc < 0 ? rc : self;
	case '"': {
		char *s = NULL;

		rc = parse_string(in, &s);
		if (rc < 0)
			return rc;
		self = node_new(in->d, LJ_STR);
		if (self < 0) {
			free(s);
			return self;
		}
		in->d->n[self].str = s;
		return self;
	}
	default:
		break;
	}
	if (in->end - in->p >= 4 && memcmp(in->p, "null", 4) == 0) {
		in->p += 4;
		return node_new(in->d, LJ_NULL);
	}
	if (in->end - in->p >= 4 && memcmp(in->p, "true", 4) == 0) {
		in->p += 4;
		self = node_new(in->d, LJ_BOOL);
		if (self >= 0)
			in->d->n[self].num = 1;
		return self;
	}
	if (in->end - in->p >= 5 && memcmp(in->p, "false", 5) == 0) {
		in->p += 5;
		return node_new(in->d, LJ_BOOL);
	}
	{
		char buf[64];
		size_t n = 0;
		char *endp;
		double v;

		while (in->p + n < in->end && n < sizeof(buf) - 1 &&
		       strchr("+-0123456789.eE", in->p[n]))
			n++;
		if (n == 0)
			return -EPROTO;
		memcpy(buf, in->p, n);
		buf[n] = '\0';
		v = strtod(buf, &endp);
		if (*endp != '\0')
			return -EPROTO;
		in->p += n;
		self = node_new(in->d, LJ_NUM);
		if (self >= 0)
			in->d->n[self].num = v;
		return self;
	}
}

int lj_parse(const char *text, size_t len, struct lj_doc *d)
{
	struct lj_in in = { text, text + len, d };
	int rc;

	memset(d, 0, sizeof(*d));
	rc = parse_value(&in, 0);
	if (rc < 0)
		return rc;
	skip_ws(&in);
	return in.p == in.end ? 0 : -EPROTO;
}

void lj_free(struct lj_doc *d)
{
	for (int i = 0; i < d->len; i++) {
		free(d->n[i].key);
		free(d->n[i].str);
	}
	free(d->n);
	memset(d, 0, sizeof(*d));
}

int lj_member(const struct lj_doc *d, int obj, const char *key)
{
	if (obj < 0 || obj >= d->len || d->n[obj].type != LJ_OBJ)
		return -1;
	for (int c = d->n[obj].first; c >= 0; c = d->n[c].next)
		if (d->n[c].key && strcmp(d->n[c].key, key) == 0)
			return c;
	return -1;
}

int lj_path(const struct lj_doc *d, int from, const char *path)
{
	char part[64];
	int cur = from;

	while (cur >= 0 && *path) {
		size_t n = strcspn(path, ".");

		if (n >= sizeof(part))
			return -1;
		memcpy(part, path, n);
		part[n] = '\0';
		cur = lj_member(d, cur, part);
		path += n;
		if (*path == '.')
			path++;
	}
	return cur;
}

double lj_num(const struct lj_doc *d, int from, const char *path, double def)
{
	int i = lj_path(d, from, path);

	if (i < 0 || (d->n[i].type != LJ_NUM && d->n[i].type != LJ_BOOL))
		return def;
	return d->n[i].num;
}
