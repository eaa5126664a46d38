/*
 * capture — record/replay container (see capture.h). The reader validates every length
 * against what is left before touching bytes, so truncated or hostile files are refused
 * with a reason, never read past.
 */
#include "kernel/capture.h"

#include <errno.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

static const char MAGIC[8] = { 'T', 'W', 'K', 'I', 'T', 'C', 'A', 'P' };

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) | (uint64_t)get32(p + 4) << 32;
}

static void wr(struct cap_writer *w, const void *p, size_t n)
{
	if (!w->err && n && fwrite(p, 1, n, w->f) != n)
		w->err = -EIO;
}

int cap_writer_open(struct cap_writer *w, const char *path)
{
	uint8_t hdr[16];
	memset(w, 0, sizeof(*w));
	w->f = fopen(path, "wb");
	if (!w->f)
		return -errno;
	memcpy(hdr, MAGIC, 8);
	put32(hdr + 8, CAP_VERSION);
	put32(hdr + 12, 0);
	wr(w, hdr, sizeof(hdr));
	return w->err;
}

void cap_writer_add(struct cap_writer *w, enum CAP_TYPE type, const char *name, const void *data,
		    size_t len)
{
	uint8_t h[16];
	size_t nl = name ? strlen(name) : 0;
	if (nl > CAP_MAX_NAME || len > CAP_MAX_DATA) {
		w->err = w->err ? w->err : -E2BIG;
		return;
	}
	put32(h, (uint32_t)type);
	put32(h + 4, (uint32_t)nl);
	put64(h + 8, len);
	wr(w, h, sizeof(h));
	wr(w, name, nl);
	wr(w, data, len);
	w->nsections++;
}

int cap_writer_close(struct cap_writer *w)
{
	uint8_t cnt[8];
	int rc;
	if (!w->f)
		return -EBADF;
	put64(cnt, w->nsections);
	cap_writer_add(w, CAP_END, NULL, cnt, sizeof(cnt));
	rc = w->err;
	if (fclose(w->f) != 0 && !rc)
		rc = -EIO;
	w->f = NULL;
	return rc;
}

int cap_reader_parse(struct cap_reader *r, uint8_t *buf, size_t len, char *err, size_t errlen)
{
	size_t off = 16, cap = 0;
	bool ended = false;

	memset(r, 0, sizeof(*r));
	r->buf = buf;
	r->len = len;
	if (len < 8 || memcmp(buf, MAGIC, 8) != 0) {
		snprintf(err, errlen, "not a twkit capture (bad magic)");
		goto bad;
	}
	if (len < 16) {
		snprintf(err, errlen, "truncated at byte %zu (header)", len);
		goto bad;
	}
	r->version = get32(buf + 8);
	if (r->version > CAP_VERSION) {
		snprintf(err, errlen, "capture format version %u is newer than this twkit (%d)",
			 r->version, CAP_VERSION);
		goto bad;
	}
	if (r->version == 0) {
		snprintf(err, errlen, "corrupt header: version 0");
		goto bad;
	}
	while (off < len) {
		uint32_t type, nl;
		uint64_t dl;
		if (len - off < 16) {
			snprintf(err, errlen, "truncated at byte %zu (section header)", len);
			goto bad;
		}
		type = get32(buf + off);
		nl = get32(buf + off + 4);
		dl = get64(buf + off + 8);
		if (type != CAP_FILE && type != CAP_DIAG4 && type != CAP_DIAG6 &&
		    type != CAP_MISSING && type != CAP_END) {
			snprintf(err, errlen, "corrupt section at byte %zu: unknown type %u", off, type);
			goto bad;
		}
		if (nl > CAP_MAX_NAME || dl > CAP_MAX_DATA) {
			snprintf(err, errlen, "corrupt section at byte %zu: impossible length", off);
			goto bad;
		}
		if (len - off - 16 < (uint64_t)nl + dl) {
			snprintf(err, errlen, "truncated at byte %zu (section at byte %zu wants %llu)",
				 len, off, (unsigned long long)(16 + nl + dl));
			goto bad;
		}
		if (type == CAP_END) {
			if (dl != 8 || get64(buf + off + 16 + nl) != r->nsec) {
				snprintf(err, errlen, "corrupt end marker at byte %zu", off);
				goto bad;
			}
			off += 16 + nl + dl;
			ended = true;
			break;
		}
		if (r->nsec == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct cap_section *ns = realloc(r->sec, ncap * sizeof(*ns));
			if (!ns) {
				snprintf(err, errlen, "out of memory");
				goto bad;
			}
			r->sec = ns;
			cap = ncap;
		}
		/* names are stored unterminated: terminate in place by shifting? no — copy */
		char *name = malloc((size_t)nl + 1);
		if (!name) {
			snprintf(err, errlen, "out of memory");
			goto bad;
		}
		memcpy(name, buf + off + 16, nl);
		name[nl] = '\0';
		if (memchr(name, '\0', nl)) {
			free(name);
			snprintf(err, errlen, "corrupt section at byte %zu: NUL in name", off);
			goto bad;
		}
		r->sec[r->nsec].type = type;
		r->sec[r->nsec].name = name;
		r->sec[r->nsec].data = buf + off + 16 + nl;
		r->sec[r->nsec].len = dl;
		r->nsec++;
		off += 16 + nl + (size_t)dl;
	}
	if (!ended) {
		snprintf(err, errlen, "truncated at byte %zu (no end marker)", len);
		goto bad;
	}
	if (off != len) {
		snprintf(err, errlen, "corrupt: %zu bytes after the end marker", len - off);
		goto bad;
	}
	return 0;
bad:
	cap_reader_fini(r);
	return -EINVAL;
}

int cap_reader_open(struct cap_reader *r, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t cap = 0, len = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	if (!f) {
		rc = -errno;
		snprintf(err, errlen, "cannot open: %s", strerror(-rc));
		return rc;
	}
	for (;;) {
		if (len == cap) {
			size_t ncap = cap ? cap * 2 : 1 << 16;
			uint8_t *nb;
			if (ncap > ((size_t)1 << 34)) {
				snprintf(err, errlen, "file too large");
				free(buf);
				fclose(f);
				return -EFBIG;
			}
			nb = realloc(buf, ncap);
			if (!nb) {
				free(buf);
				fclose(f);
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
			buf = nb;
			cap = ncap;
		}
		size_t n = fread(buf + len, 1, cap - len, f);
		len += n;
		if (n == 0)
			break;
	}
	if (ferror(f)) {
		free(buf);
		fclose(f);
		snprintf(err, errlen, "read error");
		return -EIO;
	}
	fclose(f);
	return cap_reader_parse(r, buf, len, err, errlen);
}

void cap_reader_fini(struct cap_reader *r)
{
	for (size_t i = 0; i < r->nsec; i++)
		free((char *)r->sec[i].name);
	free(r->sec);
	free(r->buf);
	memset(r, 0, sizeof(*r));
}

const struct cap_section *cap_reader_find(const struct cap_reader *r, const char *name)
{
	for (size_t i = 0; i < r->nsec; i++)
		if (r->sec[i].type == CAP_FILE && strcmp(r->sec[i].name, name) == 0)
			return &r->sec[i];
	return NULL;
}
