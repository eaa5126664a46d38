/*
 * textesc — strings that came from outside (a capture file, a scenario file, a peer) made safe
 * for a terminal and for JSON. Terminal: control characters (C0, DEL, and the C1 controls
 * U+0080..U+009F, which some terminals obey as escape sequences) and bytes that are not valid
 * UTF-8 are written as \xNN, and a backslash as \\, so nothing in the data can move the cursor,
 * retitle the window or pose as another line. JSON (jsonw) keeps valid UTF-8 as it is and writes
 * each byte that is not part of a valid sequence as \ufffd.
 */
#ifndef TWKIT_COMMON_TEXTESC_H
#define TWKIT_COMMON_TEXTESC_H

#include <stddef.h>
#include <stdio.h>

/* Length (1..4) of the valid, shortest-form UTF-8 sequence (no surrogates, at most U+10FFFF)
 * that starts at p, within n bytes; 0 when p does not start one (or n is 0). */
size_t utf8_seq_len(const unsigned char *p, size_t n);

/* Write the first n bytes of s to f, escaped for a terminal. Returns the columns written
 * (one per character; an escape counts its length). */
size_t tesc_write(FILE *f, const char *s, size_t n);

/* s escaped for a terminal into buf (always NUL-terminated; an escape is never cut in half:
 * what does not fit is dropped and the result ends with "..."). Returns buf. */
const char *tesc(const char *s, char *buf, size_t len);

#endif
