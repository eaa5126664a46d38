/*
 * units — numbers with units, in and out: durations ("90s", "2m", "500ms"), rates ("5k/s"),
 * counts ("10k", "1M"), sizes ("64MiB"), port ranges ("32768-60999") and IP:PORT.
 * Parsers are strict: the whole string must be consumed; they return 0 or -EINVAL and never
 * print. Formatters write into caller buffers and return the buffer.
 */
#ifndef TWKIT_COMMON_UNITS_H
#define TWKIT_COMMON_UNITS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define NS_PER_SEC 1000000000LL
#define NS_PER_MS 1000000LL

/* "90s", "2m", "1h", "7d", "500ms", "250us", "1.5s"; a bare number is seconds. Result in ns,
 * >= 0. */
int units_parse_duration(const char *s, int64_t *ns);
/* "5000", "5k", "5k/s", "2.5M/s": events per second, >= 0. */
int units_parse_rate(const char *s, double *per_s);
/* "1000", "10k", "1M" (decimal multipliers); result fits in uint64 (plain digits exactly). */
int units_parse_count(const char *s, uint64_t *n);
/* "4096", "4k"/"4KiB" (binary multipliers), "64MiB". */
int units_parse_size(const char *s, uint64_t *bytes);
/* "A-B" with A <= B, both in [lo, hi]; a single "A" gives A-A. */
int units_parse_range(const char *s, long lo, long hi, long *a, long *b);
/* "IP:PORT" or "[IPv6]:PORT", where PORT may be a range "A-B" in [plo, phi] (one port gives
 * A-A): the address into *ss (port 0) and its length into *len, the ports into *a, *b. */
int units_parse_ipport(const char *s, long plo, long phi, struct sockaddr_storage *ss,
		       socklen_t *len, long *a, long *b);
/* The address of ss with ports a-b: "10.0.0.1:80", "[::1]:8080-8083" (a == b: one port). */
char *units_fmt_ipport(char *buf, size_t len, const struct sockaddr_storage *ss, unsigned a,
		       unsigned b);
/* Integer in [lo, hi], decimal. */
int units_parse_long(const char *s, long lo, long hi, long *v);
/* Floating point in [lo, hi]. */
int units_parse_double(const char *s, double lo, double hi, double *v);

/* 28232 -> "28,232". */
char *units_fmt_count(char *buf, size_t len, uint64_t n);
/* 1536 -> "1.5 KiB". */
char *units_fmt_bytes(char *buf, size_t len, uint64_t bytes);
/* ns -> "1.2s", "350ms", "2m05s", "1h02m". */
char *units_fmt_duration(char *buf, size_t len, int64_t ns);
/* 4700.0 -> "4.7k/s". */
char *units_fmt_rate(char *buf, size_t len, double per_s);

#endif
