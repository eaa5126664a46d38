/*
 * capture — the file `twkit doctor --record` writes and `--replay` reads: everything doctor
 * collected (raw sock_diag reply buffers and the text of each /proc file), so a capture taken
 * on production is analysed anywhere by exactly the code that analyses a live host.
 *
 * Format (little-endian): magic "TWKITCAP", u32 version, u32 reserved; then sections
 * { u32 type, u32 name_len, u64 data_len, name[name_len], data[data_len] }; the last section
 * is CAP_END whose data is the u64 count of sections before it. A reader refuses anything
 * that does not end with a matching CAP_END (truncated), a newer version, or a bad magic.
 *
 * A capture holds what /proc/slabinfo and every socket's addresses say, so it is created mode
 * 0600, under a temporary name in the target's directory, and renamed into place only when
 * complete: a crash leaves no half capture under the final name, and a symlink planted at
 * that name is replaced (with CAP_CREATE_REPLACE) or refused, never written through.
 */
#ifndef TWKIT_KERNEL_CAPTURE_H
#define TWKIT_KERNEL_CAPTURE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CAP_VERSION 1
#define CAP_MAX_NAME 4096
/*
 * The largest capture a reader accepts and a writer produces: 2 GiB. The largest honest one
 * is a host with 4 million full TCP sockets: each sock_diag record with tcp_info is ~380
 * bytes (16 netlink header + 72 inet_diag_msg + 4 attribute header + ~290 tcp_info on 6.x),
 * ~1.4 GiB, or 20 million TIME-WAITs at 88 bytes; beside them the /proc texts are KiBs and
 * the sysctl config files at most 256 x 1 MiB (SNAP_CONF_*). More is not a capture (e.g.
 * /dev/zero), and the reader refuses it before holding it.
 */
#define CAP_MAX_SIZE (1ULL << 31)
#define CAP_MAX_DATA CAP_MAX_SIZE /* one section: no larger than the whole */

enum CAP_TYPE {
	CAP_FILE = 1,  /* name: path or pseudo-file ("uname.release"); data: its text */
	CAP_DIAG4 = 2, /* one sock_diag reply buffer of the AF_INET dump */
	CAP_DIAG6 = 3, /* one sock_diag reply buffer of the AF_INET6 dump */
	CAP_MISSING = 4, /* name: something that could not be read; data: the error text */
	CAP_END = 0xffff,
};

/* cap_writer_create flags */
#define CAP_CREATE_REPLACE 1u /* an existing path (file or symlink) is replaced by rename */

struct cap_writer {
	FILE *f;
	uint64_t nsections;
	uint64_t size; /* bytes written so far, held under CAP_MAX_SIZE */
	int err;       /* first write error, sticky */
	int dirfd;     /* the target's directory; -1 when writing onto a descriptor */
	unsigned flags;
	char *tmp;  /* temporary name inside dirfd, renamed to base by cap_writer_close */
	char *base; /* final name inside dirfd */
};

/*
 * Start a capture that cap_writer_close() puts at path: a new file opened
 * O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600, under a temporary name (".BASE.XXXXXX") in path's
 * directory. Without CAP_CREATE_REPLACE an existing path (even a dangling symlink) is
 * -EEXIST, here and again at the rename, atomically. 0 or -errno; on failure nothing is left
 * behind and w needs no close.
 */
int cap_writer_create(struct cap_writer *w, const char *path, unsigned flags);
/* cap_writer_create(w, path, CAP_CREATE_REPLACE). */
int cap_writer_open(struct cap_writer *w, const char *path);
/* Stream a capture onto fd (e.g. stdout for `--record -`); fd stays the caller's (a dup is
 * written and closed). 0 or -errno. */
int cap_writer_open_fd(struct cap_writer *w, int fd);
/* Append one section. Errors (I/O, a section or capture over its bound: -E2BIG) are sticky
 * and reported by cap_writer_close. */
void cap_writer_add(struct cap_writer *w, enum CAP_TYPE type, const char *name, const void *data,
		    size_t len);
/*
 * Write CAP_END, flush, fsync and rename the capture into place. 0 or the first -errno seen
 * (-EEXIST: path appeared meanwhile, without CAP_CREATE_REPLACE); on any error the temporary
 * file is removed and path is untouched. The writer is released either way.
 */
int cap_writer_close(struct cap_writer *w);
/* Discard an unfinished capture: remove the temporary file (a stream just stops, without its
 * end marker, so a reader sees it truncated). No-op on a released writer. */
void cap_writer_abort(struct cap_writer *w);

/* A capture read fully into memory; sections point into buf. */
struct cap_section {
	uint32_t type;
	const char *name; /* NUL-terminated copy inside the reader's storage */
	const uint8_t *data;
	uint64_t len;
	size_t off; /* of data in buf (the reader's own: buf moves while it grows) */
};
struct cap_reader {
	uint8_t *buf; /* the capture's bytes as read */
	size_t len;
	struct cap_section *sec;
	size_t nsec;
	uint32_t version;
};

/* How cap_reader_read_fd reads. */
struct cap_read_opts {
	uint64_t max_size; /* refuse a capture larger than this; 0 (or more) = CAP_MAX_SIZE */
	/* when non-NULL and set (by a signal handler installed without SA_RESTART, so that a
	 * blocked read() returns EINTR), the read stops with -EINTR, "interrupted" */
	const volatile sig_atomic_t *stop;
};

/*
 * Parse a capture held in memory (the reader takes ownership of buf, which must be malloc'd,
 * on success and on failure). Returns 0, or -EINVAL with a reason in err: "not a twkit
 * capture", "capture format version N is newer than this twkit (1)", "truncated at byte N",
 * "corrupt section at byte N: ...", or -EFBIG "larger than ...": the same parser as
 * cap_reader_read_fd, over bytes already read.
 */
int cap_reader_parse(struct cap_reader *r, uint8_t *buf, size_t len, char *err, size_t errlen);
/*
 * Read a capture from fd (a file, pipe or FIFO; not closed) incrementally, checking each
 * header as it arrives: a bad magic is refused after 16 bytes, a section that would take the
 * capture past max_size before its bytes are read; the buffer grows with what arrives.
 * Returns 0, -EINVAL / -EFBIG as cap_reader_parse, -EINTR ("interrupted") or another -errno
 * for a failed read() (err says which). On failure r holds nothing.
 */
int cap_reader_read_fd(struct cap_reader *r, int fd, const struct cap_read_opts *o, char *err,
		       size_t errlen);
/* Open a file and cap_reader_read_fd it with the default options. -errno for I/O errors (err
 * says which), else as above. */
int cap_reader_open(struct cap_reader *r, const char *path, char *err, size_t errlen);
void cap_reader_fini(struct cap_reader *r);
/* The first CAP_FILE section with this name, or NULL. */
const struct cap_section *cap_reader_find(const struct cap_reader *r, const char *name);

#endif
