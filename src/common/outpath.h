/*
 * outpath — output files named on the command line (--svg, --csv, --record): checked before a
 * run starts, so that a bad path fails at once instead of after the whole run, and opened
 * without following a link planted at the path.
 */
#ifndef TWKIT_COMMON_OUTPATH_H
#define TWKIT_COMMON_OUTPATH_H

#include <stddef.h>
#include <stdio.h>

/* The path itself is replaced by a rename (capture files): only its directory matters. */
#define OUTPATH_REPLACED 1u

/*
 * Whether `path` can be written later ("-" = stdout always can): its directory exists, is a
 * directory and is writable; the path is not a directory; unless OUTPATH_REPLACED, it is not a
 * symbolic link (never written through) and, when it exists, it is writable. Creates nothing.
 * 0, or a negative errno with the reason in why ("directory /x does not exist", ...).
 */
int outpath_check(const char *path, unsigned flags, char *why, size_t len);

/*
 * Open `path` for writing, truncated, created 0644 when missing, never through a symbolic link
 * at the path (O_NOFOLLOW: ELOOP). "-" = stdout. NULL with errno on failure.
 */
FILE *outpath_open(const char *path);

#endif
