/*
 * bench_proto — the two wire formats of twkit bench, as pure functions over bytes (no I/O):
 *
 * raw:  a request of N bytes whose first BENCH_RAW_HDR bytes say what the server must do
 *       ("TWK1", request length, response length, flags: server closes, server lingers 0), so
 *       one `bench serve` serves any client settings; the rest is filler. The response is
 *       `response length` bytes of filler.
 * http: HTTP/1.1 GET with Connection: keep-alive or close; the built-in server answers with
 *       Content-Length; "X-Twkit-Linger0: 1" asks it to close with RST (§7).
 * Parsers are safe on arbitrary bytes and never read past len.
 */
#ifndef TWKIT_BENCH_BENCH_PROTO_H
#define TWKIT_BENCH_BENCH_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_RAW_HDR 16
#define BENCH_RAW_F_CLOSE 1u   /* server closes after this response */
#define BENCH_RAW_F_LINGER0 2u /* ... with SO_LINGER {1,0}: RST, no TIME-WAIT */
#define BENCH_RAW_MAX (64u << 20) /* larger lengths are garbage, not a request */

/* Write the 16-byte raw header into out. */
void bench_raw_hdr_encode(uint8_t out[BENCH_RAW_HDR], uint32_t reqlen, uint32_t resplen,
			  uint32_t flags);
/* Decode a raw header: 0, or -EPROTO (bad magic, request shorter than the header, lengths
 * above BENCH_RAW_MAX, unknown flags). */
int bench_raw_hdr_decode(const uint8_t in[BENCH_RAW_HDR], uint32_t *reqlen, uint32_t *resplen,
			 uint32_t *flags);

/* Build a GET request into buf. Returns its length, or -ENOSPC. */
int bench_http_req_build(char *buf, size_t len, const char *path, const char *host, bool close,
			 bool linger0);

struct bench_http_req {
	size_t hdr_len;   /* bytes up to and including the blank line */
	uint64_t body_len; /* Content-Length of the request (usually 0) */
	bool close;       /* Connection: close, or HTTP/1.0 without keep-alive */
	bool linger0;     /* X-Twkit-Linger0: 1 */
};
/* Parse a request head from buf[0..len): 0 complete, -EAGAIN need more, -EPROTO garbage. */
int bench_http_req_parse(const char *buf, size_t len, struct bench_http_req *out);

struct bench_http_resp {
	size_t hdr_len;
	int status;
	bool has_len;      /* Content-Length present (else the body ends at EOF) */
	uint64_t body_len;
	bool close;        /* the server will close */
};
/* Parse a response head: 0 complete, -EAGAIN need more, -EPROTO garbage. */
int bench_http_resp_parse(const char *buf, size_t len, struct bench_http_resp *out);

/* Build the built-in server's response head for a body of `body` bytes into buf: length or
 * -ENOSPC. */
int bench_http_resp_head(char *buf, size_t len, uint64_t body, bool close);

#endif
