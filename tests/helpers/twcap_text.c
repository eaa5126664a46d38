/*
 * twcap_text — test helper: a doctor capture (`twkit doctor --record`, src/kernel/capture.h)
 * as reviewable text and back, so tests/data keeps captures as small text files that a script
 * can rewrite (kernel release, sysctls, counters) and a test turns into a .twcap to replay.
 *
 * usage: twcap_text dump CAPTURE      text on stdout
 *        twcap_text build TEXT CAPTURE
 *
 * The text: a first line "twkit-capture 1", then per section a header line
 *   file NAME | missing NAME | diag4 | diag6
 * followed by its data: text as lines each starting with '|' (the line without its '\n'; a
 * last line without '\n' is followed by "\ no newline at end", as diff does), sock_diag
 * replies as lines of hex each starting with ':'. Lines starting with '#' and empty lines are
 * ignored. build writes the sections in order through cap_writer, which adds the end marker.
 * Invariant: build(dump(c)) is byte-identical to c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/capture.h"

#define HEADER "twkit-capture 1"

static int dump(const char *path)
{
	struct cap_reader r;
	char err[256];
	int rc = cap_reader_open(&r, path, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "twcap_text: %s: %s\n", path, err);
		return 1;
	}
	printf("%s\n", HEADER);
	for (size_t i = 0; i < r.nsec; i++) {
		const struct cap_section *c = &r.sec[i];
		if (c->type == CAP_FILE || c->type == CAP_MISSING) {
			if (memchr(c->data, '\0', c->len)) {
				fprintf(stderr, "twcap_text: section %s holds a NUL byte\n", c->name);
				rc = -EINVAL;
				break;
			}
			printf("%s %s\n", c->type == CAP_FILE ? "file" : "missing", c->name);
			const char *p = (const char *)c->data, *end = p + c->len;
			while (p < end) {
				const char *nl = memchr(p, '\n', (size_t)(end - p));
				size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
				printf("|%.*s\n", (int)n, p);
				if (!nl)
					printf("\\ no newline at end\n");
				p += n + (nl ? 1 : 0);
			}
		} else if (c->type == CAP_DIAG4 || c->type == CAP_DIAG6) {
			printf("%s\n", c->type == CAP_DIAG4 ? "diag4" : "diag6");
			for (uint64_t j = 0; j < c->len; j++)
				printf("%s%02x%s", j % 32 ? "" : ":", c->data[j],
				       j % 32 == 31 || j + 1 == c->len ? "\n" : "");
		} else {
			fprintf(stderr, "twcap_text: section %zu has unknown type %u\n", i + 1,
				c->type);
			rc = -EINVAL;
			break;
		}
	}
	cap_reader_fini(&r);
	return rc < 0 || fflush(stdout) ? 1 : 0;
}

struct pending {
	int type; /* 0: none yet */
	char *name;
	unsigned char *buf;
	size_t len, cap;
};

static int put(struct pending *p, const void *d, size_t n)
{
	if (p->len + n > p->cap) {
		size_t cap = (p->len + n) * 2 + 256;
		unsigned char *b = realloc(p->buf, cap);
		if (!b)
			return -ENOMEM;
		p->buf = b;
		p->cap = cap;
	}
	memcpy(p->buf + p->len, d, n);
	p->len += n;
	return 0;
}

static void flush(struct cap_writer *w, struct pending *p)
{
	if (p->type)
		cap_writer_add(w, (enum CAP_TYPE)p->type, p->name, p->buf, p->len);
	free(p->name);
	p->name = NULL;
	p->type = 0;
	p->len = 0;
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int build(const char *in, const char *out)
{
	struct cap_writer w;
	struct pending p = { 0 };
	char *line = NULL;
	size_t lcap = 0;
	ssize_t n;
	int lineno = 0, rc = 0, wrc;
	FILE *f = fopen(in, "r");

	if (!f) {
		fprintf(stderr, "twcap_text: %s: %s\n", in, strerror(errno));
		return 1;
	}
	if ((rc = cap_writer_open(&w, out)) < 0) {
		fprintf(stderr, "twcap_text: %s: %s\n", out, strerror(-rc));
		fclose(f);
		return 1;
	}
	while (rc == 0 && (n = getline(&line, &lcap, f)) >= 0) {
		lineno++;
		if (n > 0 && line[n - 1] == '\n')
			line[--n] = '\0';
		if (lineno == 1) {
			if (strcmp(line, HEADER) != 0)
				rc = -EINVAL;
			continue;
		}
		if (n == 0 || line[0] == '#')
			continue;
		if (line[0] == '|') {
			if (p.type != CAP_FILE && p.type != CAP_MISSING)
				rc = -EINVAL;
			else if ((rc = put(&p, line + 1, (size_t)n - 1)) == 0)
				rc = put(&p, "\n", 1);
		} else if (strcmp(line, "\\ no newline at end") == 0) {
			if ((p.type != CAP_FILE && p.type != CAP_MISSING) || p.len == 0)
				rc = -EINVAL;
			else
				p.len--;
		} else if (line[0] == ':') {
			if ((p.type != CAP_DIAG4 && p.type != CAP_DIAG6) || (n - 1) % 2)
				rc = -EINVAL;
			for (ssize_t i = 1; rc == 0 && i < n; i += 2) {
				int hi = hexval(line[i]), lo = hexval(line[i + 1]);
				unsigned char b = (unsigned char)(hi * 16 + lo);
				rc = hi < 0 || lo < 0 ? -EINVAL : put(&p, &b, 1);
			}
		} else {
			flush(&w, &p);
			if (strncmp(line, "file ", 5) == 0 || strncmp(line, "missing ", 8) == 0) {
				p.type = line[0] == 'f' ? CAP_FILE : CAP_MISSING;
				p.name = strdup(line + (line[0] == 'f' ? 5 : 8));
				rc = p.name ? 0 : -ENOMEM;
			} else if (strcmp(line, "diag4") == 0) {
				p.type = CAP_DIAG4;
			} else if (strcmp(line, "diag6") == 0) {
				p.type = CAP_DIAG6;
			} else {
				rc = -EINVAL;
			}
		}
	}
	if (rc == 0 && lineno == 0)
		rc = -EINVAL;
	if (rc == 0)
		flush(&w, &p);
	free(p.name);
	free(p.buf);
	free(line);
	fclose(f);
	wrc = cap_writer_close(&w);
	if (rc < 0) {
		fprintf(stderr, "twcap_text: %s:%d: %s\n", in, lineno,
			rc == -ENOMEM ? "out of memory" : "not a capture as text");
		remove(out);
		return 1;
	}
	if (wrc < 0) {
		fprintf(stderr, "twcap_text: writing %s: %s\n", out, strerror(-wrc));
		return 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "dump") == 0)
		return dump(argv[2]);
	if (argc == 4 && strcmp(argv[1], "build") == 0)
		return build(argv[2], argv[3]);
	fprintf(stderr, "usage: twcap_text dump CAPTURE | twcap_text build TEXT CAPTURE\n");
	return 2;
}
