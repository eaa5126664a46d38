/*
 * capture — record/replay container (see capture.h).
 *
 * Writer: a capture is born under a temporary name beside its final one (O_EXCL|O_NOFOLLOW,
 * 0600) and renamed into place only once complete and fsync'd; a stream (`--record -`) has no
 * name to protect. Reader: one incremental parser for files, pipes and bytes in memory; every
 * length is validated against what is left and against the size bound before the bytes it
 * announces are read, so truncated, hostile or endless inputs are refused with a reason,
 * never read past and never held beyond the bound.
 */
#include "kernel/capture.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/units.h"

static const char MAGIC[8] = { 'T', 'W', 'K', 'I', 'T', 'C', 'A', 'P' };

/* CAP_END's section header and count: what the writer keeps room for under CAP_MAX_SIZE */
#define CAP_END_BYTES 24u
/* The reader's first buffer and smallest read: one sock_diag reply is 32 KiB, most /proc
 * texts far less, so a small capture is one or two read() calls. */
#define CAP_READ_FIRST (64u * 1024u)
/* Tries at a fresh temporary name before giving up (each name has 62^8 values). */
#define CAP_TMP_TRIES 100
/* Longest part of the final name kept in the temporary one: ".NAME.XXXXXXXX" <= NAME_MAX */
#define CAP_TMP_BASE_MAX 200

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

/* ---- writer ---- */

static void wr(struct cap_writer *w, const void *p, size_t n)
{
	if (w->err || !n)
		return;
	errno = 0;
	if (fwrite(p, 1, n, w->f) != n)
		w->err = errno ? -errno : -EIO;
	w->size += n;
}

static void wr_header(struct cap_writer *w)
{
	uint8_t hdr[16];
	memcpy(hdr, MAGIC, 8);
	put32(hdr + 8, CAP_VERSION);
	put32(hdr + 12, 0);
	wr(w, hdr, sizeof(hdr));
}

static void writer_release(struct cap_writer *w)
{
	if (w->dirfd >= 0)
		close(w->dirfd);
	free(w->tmp);
	free(w->base);
	w->dirfd = -1;
	w->tmp = w->base = NULL;
}

/* 8 characters of [A-Za-z0-9]; getrandom, or the clock and pid when it has no entropy yet */
static void tmp_suffix(char *s, int attempt)
{
	static const char cs[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	uint64_t x;
	if (getrandom(&x, sizeof(x), GRND_NONBLOCK) != (ssize_t)sizeof(x)) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		x = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ ((uint64_t)getpid() << 40) ^
		    (uint64_t)attempt;
		x = (x ^ (x >> 31)) * 0x9e3779b97f4a7c15ULL; /* splitmix64's mixer */
		x ^= x >> 29;
	}
	for (int i = 0; i < 8; i++, x /= 62)
		s[i] = cs[x % 62];
	s[8] = '\0';
}

/* A new file ".BASE.XXXXXXXX" in w->dirfd, never an existing one nor through a symlink.
 * fd or -errno; w->tmp holds its name. */
static int open_tmp(struct cap_writer *w)
{
	size_t bl = strlen(w->base), n;
	char sfx[9];
	if (bl > CAP_TMP_BASE_MAX)
		bl = CAP_TMP_BASE_MAX;
	n = bl + 16;
	if (!(w->tmp = malloc(n)))
		return -ENOMEM;
	for (int i = 0; i < CAP_TMP_TRIES; i++) {
		int fd;
		tmp_suffix(sfx, i);
		snprintf(w->tmp, n, ".%.*s.%s", (int)bl, w->base, sfx);
		fd = openat(w->dirfd, w->tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    0600);
		if (fd >= 0)
			return fd;
		if (errno != EEXIST)
			return -errno;
	}
	return -EEXIST;
}

int cap_writer_create(struct cap_writer *w, const char *path, unsigned flags)
{
	const char *slash = strrchr(path, '/');
	char *dir = NULL;
	struct stat st;
	int fd = -1, rc;

	memset(w, 0, sizeof(*w));
	w->dirfd = -1;
	w->flags = flags;
	dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
	w->base = strdup(slash ? slash + 1 : path);
	if (!dir || !w->base) {
		rc = -ENOMEM;
		goto fail;
	}
	if (!*w->base || strcmp(w->base, ".") == 0 || strcmp(w->base, "..") == 0) {
		rc = -EISDIR;
		goto fail;
	}
	w->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (w->dirfd < 0) {
		rc = -errno;
		goto fail;
	}
	/* early refusals, so doctor says so before collecting; the rename checks again */
	if (fstatat(w->dirfd, w->base, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISDIR(st.st_mode)) {
			rc = -EISDIR;
			goto fail;
		}
		if (!(flags & CAP_CREATE_REPLACE)) {
			rc = -EEXIST;
			goto fail;
		}
	}
	fd = open_tmp(w);
	if (fd < 0) {
		rc = fd;
		goto fail;
	}
	w->f = fdopen(fd, "wb");
	if (!w->f) {
		rc = -errno;
		close(fd);
		unlinkat(w->dirfd, w->tmp, 0);
		goto fail;
	}
	free(dir);
	wr_header(w);
	return 0;
fail:
	free(dir);
	writer_release(w);
	return rc;
}

int cap_writer_open(struct cap_writer *w, const char *path)
{
	return cap_writer_create(w, path, CAP_CREATE_REPLACE);
}

int cap_writer_open_fd(struct cap_writer *w, int fd)
{
	int d;
	memset(w, 0, sizeof(*w));
	w->dirfd = -1;
	d = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (d < 0)
		return -errno;
	w->f = fdopen(d, "wb");
	if (!w->f) {
		int rc = -errno;
		close(d);
		return rc;
	}
	wr_header(w);
	return 0;
}

void cap_writer_add(struct cap_writer *w, enum CAP_TYPE type, const char *name, const void *data,
		    size_t len)
{
	uint8_t h[16];
	size_t nl = name ? strlen(name) : 0;
	uint64_t room = type == CAP_END ? 0 : CAP_END_BYTES;
	if (nl > CAP_MAX_NAME || len > CAP_MAX_DATA ||
	    w->size + 16 + nl + len + room > CAP_MAX_SIZE) {
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

/* Rename the finished temporary file to its final name. 0 or -errno. */
static int put_in_place(struct cap_writer *w)
{
	if (w->flags & CAP_CREATE_REPLACE)
		return renameat(w->dirfd, w->tmp, w->dirfd, w->base) == 0 ? 0 : -errno;
	if (renameat2(w->dirfd, w->tmp, w->dirfd, w->base, RENAME_NOREPLACE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS)
		return -errno;
	/* a filesystem without RENAME_NOREPLACE: link() refuses an existing name as atomically */
	if (linkat(w->dirfd, w->tmp, w->dirfd, w->base, 0) < 0)
		return -errno;
	unlinkat(w->dirfd, w->tmp, 0);
	return 0;
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
	if (fflush(w->f) != 0 && !rc)
		rc = errno ? -errno : -EIO;
	if (!rc && w->dirfd >= 0 && fsync(fileno(w->f)) != 0)
		rc = -errno;
	if (fclose(w->f) != 0 && !rc)
		rc = errno ? -errno : -EIO;
	w->f = NULL;
	if (w->dirfd >= 0) {
		if (!rc)
			rc = put_in_place(w);
		if (rc) {
			unlinkat(w->dirfd, w->tmp, 0);
		} else {
			/* the new name survives a crash too; a directory we cannot read is skipped */
			int d = openat(w->dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			if (d >= 0) {
				(void)fsync(d);
				close(d);
			}
		}
	}
	writer_release(w);
	return rc;
}

void cap_writer_abort(struct cap_writer *w)
{
	if (!w->f)
		return;
	fclose(w->f);
	w->f = NULL;
	if (w->dirfd >= 0)
		unlinkat(w->dirfd, w->tmp, 0);
	writer_release(w);
}

/* ---- reader ---- */

struct ingest {
	struct cap_reader *r;
	size_t cap;   /* bytes allocated at r->buf */
	int fd;       /* -1: r->buf already holds the whole input */
	bool eof;
	uint64_t max; /* no section may end past this byte */
	const volatile sig_atomic_t *stop;
	char *err;
	size_t errlen;
};

static int stopped(struct ingest *in)
{
	snprintf(in->err, in->errlen, "interrupted");
	return -EINTR;
}

/* Read until r->len >= want (<= in->max) or the input ends (r->len says which). The buffer
 * doubles as needed, never past in->max. 0 or -errno with err. */
static int fill(struct ingest *in, size_t want)
{
	struct cap_reader *r = in->r;
	while (r->len < want && !in->eof) {
		ssize_t n;
		if (in->fd < 0) {
			in->eof = true;
			break;
		}
		if (r->len == in->cap) {
			size_t ncap = in->cap ? in->cap * 2 : CAP_READ_FIRST;
			uint8_t *nb;
			if (ncap > in->max)
				ncap = (size_t)in->max; /* > r->len: want <= max */
			nb = realloc(r->buf, ncap);
			if (!nb) {
				snprintf(in->err, in->errlen, "out of memory");
				return -ENOMEM;
			}
			r->buf = nb;
			in->cap = ncap;
		}
		if (in->stop && *in->stop)
			return stopped(in);
		n = read(in->fd, r->buf + r->len, in->cap - r->len);
		if (n < 0) {
			int rc = -errno;
			if (rc == -EINTR)
				continue; /* a signal that is not a stop: read again */
			snprintf(in->err, in->errlen, "read error: %s", strerror(-rc));
			return rc;
		}
		if (n == 0)
			in->eof = true;
		r->len += (size_t)n;
	}
	return 0;
}

/* Bytes after the end marker at off: those already read plus what the input still has (read
 * and dropped, stopping past the bound). 0 when none, -errno on a failed read. */
static int trailing(struct ingest *in, size_t off, uint64_t *extra)
{
	uint8_t scratch[4096];
	*extra = in->r->len - off;
	while (in->fd >= 0 && !in->eof && off + *extra <= in->max) {
		ssize_t n;
		if (in->stop && *in->stop)
			return stopped(in);
		n = read(in->fd, scratch, sizeof(scratch));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int rc = -errno;
			snprintf(in->err, in->errlen, "read error: %s", strerror(-rc));
			return rc;
		}
		if (n == 0)
			in->eof = true;
		*extra += (uint64_t)n;
	}
	return 0;
}

static int too_large(struct ingest *in, size_t off, uint64_t want)
{
	char b[32];
	snprintf(in->err, in->errlen,
		 "larger than %s, the most a capture holds (the section at byte %zu ends at byte "
		 "%llu)",
		 units_fmt_bytes(b, sizeof(b), in->max), off, (unsigned long long)want);
	return -EFBIG;
}

/* The parser: header, then one section at a time, each length checked before its bytes are
 * read. 0, or -errno with err. Sections keep offsets; the caller points them into buf. */
static int parse(struct ingest *in)
{
	struct cap_reader *r = in->r;
	char *err = in->err;
	size_t errlen = in->errlen, off = 16, cap = 0;
	int rc;

	if ((rc = fill(in, 16)) < 0)
		return rc;
	if (r->len < 8 || memcmp(r->buf, MAGIC, 8) != 0) {
		snprintf(err, errlen, "not a twkit capture (bad magic)");
		return -EINVAL;
	}
	if (r->len < 16) {
		snprintf(err, errlen, "truncated at byte %zu (header)", r->len);
		return -EINVAL;
	}
	r->version = get32(r->buf + 8);
	if (r->version > CAP_VERSION) {
		snprintf(err, errlen, "capture format version %u is newer than this twkit (%d)",
			 r->version, CAP_VERSION);
		return -EINVAL;
	}
	if (r->version == 0) {
		snprintf(err, errlen, "corrupt header: version 0");
		return -EINVAL;
	}
	for (;;) {
		const uint8_t *h;
		uint32_t type, nl;
		uint64_t dl, end;
		if (off + 16 > in->max)
			return too_large(in, off, off + 16);
		if ((rc = fill(in, off + 16)) < 0)
			return rc;
		if (r->len == off) {
			snprintf(err, errlen, "truncated at byte %zu (no end marker)", r->len);
			return -EINVAL;
		}
		if (r->len - off < 16) {
			snprintf(err, errlen, "truncated at byte %zu (section header)", r->len);
			return -EINVAL;
		}
		h = r->buf + off;
		type = get32(h);
		nl = get32(h + 4);
		dl = get64(h + 8);
		if (type != CAP_FILE && type != CAP_DIAG4 && type != CAP_DIAG6 &&
		    type != CAP_MISSING && type != CAP_END) {
			snprintf(err, errlen, "corrupt section at byte %zu: unknown type %u", off, type);
			return -EINVAL;
		}
		if (nl > CAP_MAX_NAME || dl > CAP_MAX_DATA) {
			snprintf(err, errlen, "corrupt section at byte %zu: impossible length", off);
			return -EINVAL;
		}
		end = (uint64_t)off + 16 + nl + dl; /* no overflow: each term is bounded */
		if (end > in->max)
			return too_large(in, off, end);
		if ((rc = fill(in, (size_t)end)) < 0)
			return rc;
		if (r->len < end) {
			snprintf(err, errlen, "truncated at byte %zu (section at byte %zu wants %llu)",
				 r->len, off, (unsigned long long)(16 + nl + dl));
			return -EINVAL;
		}
		h = r->buf + off; /* fill may have moved buf */
		if (type == CAP_END) {
			uint64_t extra;
			if (dl != 8 || get64(h + 16 + nl) != r->nsec) {
				snprintf(err, errlen, "corrupt end marker at byte %zu", off);
				return -EINVAL;
			}
			off = (size_t)end;
			if ((rc = trailing(in, off, &extra)) < 0)
				return rc;
			if (extra) {
				snprintf(err, errlen, "corrupt: %s%llu bytes after the end marker",
					 in->eof ? "" : "more than ", (unsigned long long)extra);
				return -EINVAL;
			}
			return 0;
		}
		if (memchr(h + 16, '\0', nl)) {
			snprintf(err, errlen, "corrupt section at byte %zu: NUL in name", off);
			return -EINVAL;
		}
		if (r->nsec == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct cap_section *ns = realloc(r->sec, ncap * sizeof(*ns));
			if (!ns) {
				snprintf(err, errlen, "out of memory");
				return -ENOMEM;
			}
			r->sec = ns;
			cap = ncap;
		}
		char *name = strndup((const char *)h + 16, nl);
		if (!name) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
		r->sec[r->nsec].type = type;
		r->sec[r->nsec].name = name;
		r->sec[r->nsec].data = NULL;
		r->sec[r->nsec].len = dl;
		r->sec[r->nsec].off = off + 16 + nl;
		r->nsec++;
		off = (size_t)end;
	}
}

/* Run the parser; on success give back the slack and point each section into buf. */
static int ingest_run(struct ingest *in)
{
	struct cap_reader *r = in->r;
	int rc = parse(in);
	if (rc < 0) {
		cap_reader_fini(r);
		return rc;
	}
	if (in->fd >= 0 && r->len && r->len < in->cap) {
		uint8_t *nb = realloc(r->buf, r->len);
		if (nb)
			r->buf = nb;
	}
	for (size_t i = 0; i < r->nsec; i++)
		r->sec[i].data = r->buf + r->sec[i].off;
	return 0;
}

int cap_reader_parse(struct cap_reader *r, uint8_t *buf, size_t len, char *err, size_t errlen)
{
	struct ingest in = { .r = r, .cap = len, .fd = -1, .max = CAP_MAX_SIZE, .err = err,
			     .errlen = errlen };
	memset(r, 0, sizeof(*r));
	r->buf = buf;
	r->len = len;
	return ingest_run(&in);
}

int cap_reader_read_fd(struct cap_reader *r, int fd, const struct cap_read_opts *o, char *err,
		       size_t errlen)
{
	struct ingest in = { .r = r, .fd = fd, .max = CAP_MAX_SIZE, .err = err, .errlen = errlen };
	memset(r, 0, sizeof(*r));
	if (o && o->max_size && o->max_size < CAP_MAX_SIZE)
		in.max = o->max_size;
	if (o)
		in.stop = o->stop;
	return ingest_run(&in);
}

int cap_reader_open(struct cap_reader *r, const char *path, char *err, size_t errlen)
{
	int fd, rc;
	memset(r, 0, sizeof(*r));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot open: %s", strerror(-rc));
		return rc;
	}
	rc = cap_reader_read_fd(r, fd, NULL, err, errlen);
	close(fd);
	return rc;
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
