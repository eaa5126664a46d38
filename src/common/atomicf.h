/*
 * atomicf — a file that appears complete or not at all: written under a temporary name in its
 * directory (".BASE.XXXXXX", O_EXCL|O_NOFOLLOW, so never an existing file nor through a
 * symlink), flushed, fsync'd and renamed over the final name, as a reader such as
 * node_exporter's textfile collector needs. The mode is what `>` would give (0666 & ~umask).
 */
#ifndef TWKIT_COMMON_ATOMICF_H
#define TWKIT_COMMON_ATOMICF_H

#include <stdio.h>

struct atomicf {
	FILE *f;    /* write here */
	int dirfd;
	char *tmp;  /* temporary name in dirfd */
	char *base; /* final name in dirfd */
};

/* Open a temporary file beside path. 0 or -errno (-EISDIR: path names a directory, or ends
 * in "/", "." or ".."); nothing is left behind on failure. */
int atomicf_open(struct atomicf *a, const char *path);
/* Flush, fsync and rename into place (an existing file or symlink there is replaced, never
 * written through). 0 or the first -errno (then the temporary file is removed). Releases a. */
int atomicf_commit(struct atomicf *a);
/* Remove the temporary file; release a. No-op on a released one. */
void atomicf_abort(struct atomicf *a);

#endif
