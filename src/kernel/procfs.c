/*
 * procfs — /proc readers and parsers (see procfs.h).
 */
#include "kernel/procfs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int kproc_read(const char *path, size_t max, char **buf, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *b = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc = 0;

	if (fd < 0)
		return -errno;
	b = malloc(cap + 1);
	if (!b) {
		rc = -ENOMEM;
		goto out;
	}
	for (;;) {
		ssize_t r;
		if (n == cap) {
			char *nb;
			if (cap >= max) {
				rc = -EFBIG;
				goto out;
			}
			cap = cap * 2 > max ? max : cap * 2;
			nb = realloc(b, cap + 1);
			if (!nb) {
				rc = -ENOMEM;
				goto out;
			}
			b = nb;
		}
		r = read(fd, b + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			goto out;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	b[n] = '\0';
	*buf = b;
	*len = n;
	b = NULL;
out:
	free(b);
	close(fd);
	return rc;
}

int kproc_sysctl_path(const char *name, char *buf, size_t len)
{
	int n = snprintf(buf, len, "/proc/sys/%s", name);
	if (n < 0 || (size_t)n >= len || strstr(name, ".."))
		return -EINVAL;
	for (char *p = buf + 10; *p; p++)
		if (*p == '.')
			*p = '/';
	return 0;
}

int kproc_sysctl_read(const char *name, char *buf, size_t len)
{
	char path[160], *text = NULL;
	size_t n = 0;
	int rc = kproc_sysctl_path(name, path, sizeof(path));
	if (rc < 0)
		return rc;
	rc = kproc_read(path, 1 << 20, &text, &n);
	if (rc < 0)
		return rc;
	if (!text) /* cannot happen (0 means text is set), but the analyzer allows errno == 0 */
		return -EIO;
	while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' '))
		text[--n] = '\0';
	for (char *p = text; *p; p++)
		if (*p == '\t')
			*p = ' ';
	if (n >= len) {
		free(text);
		return -ENOSPC;
	}
	memcpy(buf, text, n + 1);
	free(text);
	return 0;
}

int kproc_port_range(uint16_t *lo, uint16_t *hi)
{
	char b[64];
	long a, z;
	int rc = kproc_sysctl_read("net.ipv4.ip_local_port_range", b, sizeof(b));
	if (rc < 0)
		return rc;
	if (sscanf(b, "%ld %ld", &a, &z) != 2 || a < 1 || z > 65535 || a > z)
		return -EPROTO;
	*lo = (uint16_t)a;
	*hi = (uint16_t)z;
	return 0;
}

int kproc_sysctl_write(const char *name, const char *value)
{
	char path[160];
	int rc = kproc_sysctl_path(name, path, sizeof(path)), fd;
	size_t len = strlen(value);
	if (rc < 0)
		return rc;
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, value, len) != (ssize_t)len)
		rc = -errno ? -errno : -EIO;
	close(fd);
	return rc;
}

void kcounters_init(struct kcounters *c)
{
	memset(c, 0, sizeof(*c));
}

void kcounters_fini(struct kcounters *c)
{
	free(c->v);
	memset(c, 0, sizeof(*c));
}

int kcounters_set(struct kcounters *c, const char *name, uint64_t value)
{
	for (int i = 0; i < c->n; i++) {
		if (strcmp(c->v[i].name, name) == 0) {
			c->v[i].value = value;
			return 0;
		}
	}
	if (c->n == c->cap) {
		int cap = c->cap ? c->cap * 2 : 256;
		struct kcounter *nv = realloc(c->v, (size_t)cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		c->v = nv;
		c->cap = cap;
	}
	snprintf(c->v[c->n].name, sizeof(c->v[c->n].name), "%s", name);
	c->v[c->n].value = value;
	c->n++;
	return 0;
}

int kcounters_get(const struct kcounters *c, const char *name, uint64_t *value)
{
	for (int i = 0; i < c->n; i++) {
		if (strcmp(c->v[i].name, name) == 0) {
			*value = c->v[i].value;
			return 0;
		}
	}
	return -ENOENT;
}

/* Next line of text into [*ls, *le); returns false at the end. */
static bool next_line(const char **p, const char **ls, const char **le)
{
	if (!**p)
		return false;
	*ls = *p;
	while (**p && **p != '\n')
		(*p)++;
	*le = *p;
	if (**p == '\n')
		(*p)++;
	return true;
}

/* Next whitespace-separated token of [*p, end) into tok; returns its length or 0. */
static size_t next_tok(const char **p, const char *end, char *tok, size_t tlen)
{
	size_t n = 0;
	while (*p < end && (**p == ' ' || **p == '\t' || **p == '\r'))
		(*p)++;
	while (*p < end && **p != ' ' && **p != '\t' && **p != '\r') {
		if (n + 1 < tlen)
			tok[n] = **p;
		n++;
		(*p)++;
	}
	if (n >= tlen)
		n = tlen - 1;
	tok[n] = '\0';
	return n;
}

static int parse_value(const char *tok, uint64_t *v)
{
	char *e;
	if (!*tok)
		return -EPROTO;
	if (tok[0] == '-') {
		errno = 0;
		(void)strtoll(tok, &e, 10);
		if (errno || *e)
			return -EPROTO;
		*v = 0;
		return 0;
	}
	if (tok[0] < '0' || tok[0] > '9')
		return -EPROTO;
	errno = 0;
	*v = strtoull(tok, &e, 10);
	return errno || *e ? -EPROTO : 0;
}

int kproc_parse_pairs(const char *text, struct kcounters *c)
{
	const char *p = text, *h0, *h1, *v0, *v1;
	int added = 0;

	while (next_line(&p, &h0, &h1)) {
		const char *hc, *vc;
		char pre[32], name[48], val[32], full[96];
		if (h1 == h0)
			continue;
		if (!next_line(&p, &v0, &v1))
			return -EPROTO;
		hc = memchr(h0, ':', (size_t)(h1 - h0));
		vc = memchr(v0, ':', (size_t)(v1 - v0));
		if (!hc || !vc || hc - h0 != vc - v0 || memcmp(h0, v0, (size_t)(hc - h0)) != 0 ||
		    (size_t)(hc - h0) >= sizeof(pre))
			return -EPROTO;
		memcpy(pre, h0, (size_t)(hc - h0));
		pre[hc - h0] = '\0';
		hc++;
		vc++;
		for (;;) {
			size_t nl = next_tok(&hc, h1, name, sizeof(name));
			size_t vl = next_tok(&vc, v1, val, sizeof(val));
			uint64_t v;
			if (!nl && !vl)
				break;
			if (!nl || !vl || parse_value(val, &v) < 0)
				return -EPROTO;
			snprintf(full, sizeof(full), "%s.%s", pre, name);
			if (kcounters_set(c, full, v) < 0)
				return -ENOMEM;
			added++;
		}
	}
	return added;
}

int kproc_parse_sockstat(const char *text, const char *prefix, struct kcounters *c)
{
	const char *p = text, *l0, *l1;
	int added = 0;

	while (next_line(&p, &l0, &l1)) {
		const char *colon = memchr(l0, ':', (size_t)(l1 - l0)), *q;
		char proto[32], key[32], val[32], full[128];
		if (!colon || (size_t)(colon - l0) >= sizeof(proto))
			return l1 == l0 ? added : -EPROTO;
		memcpy(proto, l0, (size_t)(colon - l0));
		proto[colon - l0] = '\0';
		q = colon + 1;
		for (;;) {
			uint64_t v;
			if (!next_tok(&q, l1, key, sizeof(key)))
				break;
			if (!next_tok(&q, l1, val, sizeof(val)) || parse_value(val, &v) < 0)
				return -EPROTO;
			snprintf(full, sizeof(full), "%s.%s.%s", prefix, proto, key);
			if (kcounters_set(c, full, v) < 0)
				return -ENOMEM;
			added++;
		}
	}
	return added;
}

int kproc_parse_slab(const char *text, const char *cache, uint32_t *objsize, uint64_t *active)
{
	const char *p = text, *l0, *l1;
	size_t cl = strlen(cache);

	while (next_line(&p, &l0, &l1)) {
		const char *q;
		char tok[32];
		uint64_t act, num, osz;
		if ((size_t)(l1 - l0) <= cl || memcmp(l0, cache, cl) != 0 ||
		    (l0[cl] != ' ' && l0[cl] != '\t'))
			continue;
		q = l0 + cl;
		if (!next_tok(&q, l1, tok, sizeof(tok)) || parse_value(tok, &act) < 0 ||
		    !next_tok(&q, l1, tok, sizeof(tok)) || parse_value(tok, &num) < 0 ||
		    !next_tok(&q, l1, tok, sizeof(tok)) || parse_value(tok, &osz) < 0 ||
		    osz == 0 || osz > (1u << 20))
			return -EPROTO;
		*objsize = (uint32_t)osz;
		*active = act;
		return 0;
	}
	return -ENOENT;
}
