/*
 * capture — the file `twkit doctor --record` writes and `--replay` reads: everything doctor
 * collected (raw sock_diag reply buffers and the text of each /proc file), so a capture taken
 * on production is analysed anywhere by exactly the code that analyses a live host.
 *
 * Format (little-endian): magic "TWKITCAP", u32 version, u32 reserved; then sections
 * { u32 type, u32 name_len, u64 data_len, name[name_len], data[data_len] }; the last section
 * is CAP_END whose data is the u64 count of sections before it. A reader refuses anything
 * that does not end with a matching CAP_END (truncated), a newer version, or a bad magic.
 */
#ifndef TWKIT_KERNEL_CAPTURE_H
#define TWKIT_KERNEL_CAPTURE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define CAP_VERSION 1
#define CAP_MAX_NAME 4096
#define CAP_MAX_DATA (1ULL << 31)

enum CAP_TYPE {
	CAP_FILE = 1,  /* name: path or pseudo-file ("uname.release"); data: its text */
	CAP_DIAG4 = 2, /* one sock_diag reply buffer of the AF_INET dump */
	CAP_DIAG6 = 3, /* one sock_diag reply buffer of the AF_INET6 dump */
	CAP_MISSING = 4, /* name: something that could not be read; data: the error text */
	CAP_END = 0xffff,
};

struct cap_writer {
	FILE *f;
	uint64_t nsections;
	int err; /* first write error, sticky */
};

/* Create/truncate path and write the header. 0 or -errno. */
int cap_writer_open(struct cap_writer *w, const char *path);
/* Append one section. Errors are sticky and reported by cap_writer_close. */
void cap_writer_add(struct cap_writer *w, enum CAP_TYPE type, const char *name, const void *data,
		    size_t len);
/* Write CAP_END and close. 0 or the first -errno seen. */
int cap_writer_close(struct cap_writer *w);

/* A capture read fully into memory; sections point into buf. */
struct cap_section {
	uint32_t type;
	const char *name; /* NUL-terminated copy inside the reader's storage */
	const uint8_t *data;
	uint64_t len;
};
struct cap_reader {
	uint8_t *buf;
	size_t len;
	struct cap_section *sec;
	size_t nsec;
	uint32_t version;
};

/*
 * Parse a capture held in memory (the reader takes ownership of buf, which must be malloc'd,
 * on success and on failure). Returns 0, or -EINVAL with a reason in err: "not a twkit
 * capture", "capture format version N is newer than this twkit (1)", "truncated at byte N",
 * "corrupt section at byte N: ...".
 */
int cap_reader_parse(struct cap_reader *r, uint8_t *buf, size_t len, char *err, size_t errlen);
/* Read a file and parse it. -errno for I/O errors (err says which), else as above. */
int cap_reader_open(struct cap_reader *r, const char *path, char *err, size_t errlen);
void cap_reader_fini(struct cap_reader *r);
/* The first CAP_FILE section with this name, or NULL. */
const struct cap_section *cap_reader_find(const struct cap_reader *r, const char *name);

#endif
