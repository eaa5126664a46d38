/*
 * bench_proto — raw header and minimal HTTP/1.1 heads (see bench_proto.h). Header parsing
 * accepts only what a benchmark needs (status, Content-Length, Connection) and rejects the
 * rest as garbage so the server can drop the connection instead of buffering it.
 */
#include "bench/bench_proto.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static const uint8_t raw_magic[4] = { 'T', 'W', 'K', '1' };

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void bench_raw_hdr_encode(uint8_t out[BENCH_RAW_HDR], uint32_t reqlen, uint32_t resplen,
			  uint32_t flags)
{
	memcpy(out, raw_magic, 4);
	put32(out + 4, reqlen);
	put32(out + 8, resplen);
	put32(out + 12, flags);
}

int bench_raw_hdr_decode(const uint8_t in[BENCH_RAW_HDR], uint32_t *reqlen, uint32_t *resplen,
			 uint32_t *flags)
{
	if (memcmp(in, raw_magic, 4) != 0)
		return -EPROTO;
	*reqlen = get32(in + 4);
	*resplen = get32(in + 8);
	*flags = get32(in + 12);
	if (*reqlen < BENCH_RAW_HDR || *reqlen > BENCH_RAW_MAX || *resplen > BENCH_RAW_MAX ||
	    (*flags & ~(BENCH_RAW_F_CLOSE | BENCH_RAW_F_LINGER0)))
		return -EPROTO;
	return 0;
}

int bench_http_req_build(char *buf, size_t len, const char *path, const char *host, bool close,
			 bool linger0)
{
	int n = snprintf(buf, len, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: %s\r\n%s\r\n", path,
			 host, close ? "close" : "keep-alive", linger0 ? "X-Twkit-Linger0: 1\r\n" : "");
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

int bench_http_resp_head(char *buf, size_t len, uint64_t body, bool close)
{
	int n = snprintf(buf, len,
			 "HTTP/1.1 200 OK\r\nServer: twkit\r\nContent-Length: %llu\r\n"
			 "Connection: %s\r\n\r\n",
			 (unsigned long long)body, close ? "close" : "keep-alive");
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}

/* End of the head (offset after "\r\n\r\n"), 0 when not there yet. Bare "\n\n" is accepted
 * too, as HTTP servers do. */
static size_t head_end(const char *buf, size_t len)
{
	for (size_t i = 0; i + 1 < len; i++) {
		if (buf[i] != '\n')
			continue;
		if (buf[i + 1] == '\n')
			return i + 2;
		if (buf[i + 1] == '\r' && i + 2 < len && buf[i + 2] == '\n')
			return i + 3;
	}
	return 0;
}

/* Whether [p, e) equals s ignoring case. */
static bool tok_eq(const char *p, const char *e, const char *s)
{
	size_t n = strlen(s);
	return (size_t)(e - p) == n && strncasecmp(p, s, n) == 0;
}

static int parse_u64(const char *p, const char *e, uint64_t *v)
{
	uint64_t x = 0;
	if (p == e)
		return -EPROTO;
	for (; p < e; p++) {
		if (*p < '0' || *p > '9' || x > (UINT64_MAX - 9) / 10)
			return -EPROTO;
		x = x * 10 + (uint64_t)(*p - '0');
	}
	*v = x;
	return 0;
}

/*
 * Walk the header lines after the first line of [buf, buf+hlen), calling back name/value
 * ranges (trimmed). Returns 0 or -EPROTO for a line without a colon or a control byte.
 */
typedef int (*hdr_fn)(const char *n, const char *ne, const char *v, const char *ve, void *ctx);
static int walk_headers(const char *buf, size_t hlen, hdr_fn fn, void *ctx)
{
	const char *p = memchr(buf, '\n', hlen), *end = buf + hlen;
	if (!p)
		return -EPROTO;
	for (p++; p < end;) {
		const char *le = memchr(p, '\n', (size_t)(end - p)), *ce = le;
		if (!le)
			return -EPROTO;
		if (ce > p && ce[-1] == '\r')
			ce--;
		if (ce == p)
			break; /* the blank line */
		const char *colon = memchr(p, ':', (size_t)(ce - p));
		if (!colon || colon == p)
			return -EPROTO;
		for (const char *q = p; q < ce; q++)
			if ((unsigned char)*q < 0x20 && *q != '\t')
				return -EPROTO;
		const char *v = colon + 1, *ve = ce;
		while (v < ve && (*v == ' ' || *v == '\t'))
			v++;
		while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
			ve--;
		int rc = fn(p, colon, v, ve, ctx);
		if (rc < 0)
			return rc;
		p = le + 1;
	}
	return 0;
}

/* A "Connection:" header (either direction): true when it was one, updating *close. */
static bool conn_hdr(const char *n, const char *ne, const char *v, const char *ve, bool *close)
{
	if (!tok_eq(n, ne, "Connection"))
		return false;
	if (tok_eq(v, ve, "close"))
		*close = true;
	else if (tok_eq(v, ve, "keep-alive"))
		*close = false;
	return true;
}

static int req_hdr(const char *n, const char *ne, const char *v, const char *ve, void *ctx)
{
	struct bench_http_req *r = ctx;
	if (conn_hdr(n, ne, v, ve, &r->close))
		return 0;
	if (tok_eq(n, ne, "Content-Length")) {
		if (parse_u64(v, ve, &r->body_len) < 0 || r->body_len > (64u << 20))
			return -EPROTO;
	} else if (tok_eq(n, ne, "Transfer-Encoding")) {
		return -EPROTO; /* chunked request bodies: not for a churn benchmark */
	} else if (tok_eq(n, ne, "X-Twkit-Linger0")) {
		r->linger0 = tok_eq(v, ve, "1");
	}
	return 0;
}

int bench_http_req_parse(const char *buf, size_t len, struct bench_http_req *out)
{
	size_t h = head_end(buf, len);
	const char *sp1, *sp2, *le;

	memset(out, 0, sizeof(*out));
	if (!h) {
		/* A first line that is not HTTP is garbage at once; otherwise wait for more. */
		size_t k = len < 4 ? len : 4;
		if (k && memcmp(buf, "GET ", k) != 0 && memcmp(buf, "HEAD", k) != 0 &&
		    memcmp(buf, "POST", k) != 0 && memcmp(buf, "PUT ", k) != 0)
			return -EPROTO;
		return -EAGAIN;
	}
	le = memchr(buf, '\n', h);
	sp1 = memchr(buf, ' ', (size_t)(le - buf));
	if (!sp1 || sp1 == buf)
		return -EPROTO;
	sp2 = memchr(sp1 + 1, ' ', (size_t)(le - sp1 - 1));
	if (!sp2 || le - sp2 < 9 || memcmp(sp2 + 1, "HTTP/1.", 7) != 0)
		return -EPROTO;
	out->hdr_len = h;
	out->close = sp2[8] == '0'; /* HTTP/1.0 closes unless it asks for keep-alive */
	return walk_headers(buf, h, req_hdr, out);
}

static int resp_hdr(const char *n, const char *ne, const char *v, const char *ve, void *ctx)
{
	struct bench_http_resp *r = ctx;
	if (conn_hdr(n, ne, v, ve, &r->close))
		return 0;
	if (tok_eq(n, ne, "Content-Length")) {
		if (parse_u64(v, ve, &r->body_len) < 0)
			return -EPROTO;
		r->has_len = true;
	} else if (tok_eq(n, ne, "Transfer-Encoding")) {
		return -EPROTO; /* chunked responses are not supported: count, don't guess */
	}
	return 0;
}

int bench_http_resp_parse(const char *buf, size_t len, struct bench_http_resp *out)
{
	size_t h = head_end(buf, len);
	memset(out, 0, sizeof(*out));
	if (len >= 5 && memcmp(buf, "HTTP/", 5) != 0)
		return -EPROTO;
	if (!h)
		return -EAGAIN;
	if (h < 13 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[8] != ' ')
		return -EPROTO;
	for (int i = 9; i < 12; i++)
		if (buf[i] < '0' || buf[i] > '9')
			return -EPROTO;
	out->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	out->hdr_len = h;
	out->close = buf[7] == '0';
	return walk_headers(buf, h, resp_hdr, out);
}
