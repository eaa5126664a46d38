/*
 * bench_portsel — source ports chosen by the application (`bench --port-select app`, issue 18
 * §6), as a balancer's `source ADDR:PORT-PORT` does. A cursor per (source address, destination)
 * walks the local port range in order; each connection bind()s the cursor's port with
 * SO_REUSEADDR and then connect()s. connect() then makes no search (the socket has its port:
 * twp == NULL, kernel-tw-spec §2.3), and a TIME-WAIT on that exact 4-tuple is taken over at
 * once when timestamps were negotiated, whatever tcp_tw_reuse says. A port that bind() or
 * connect() refuses moves the cursor on and is counted; a connection gives up after
 * BENCH_PS_TRIES ports.
 *
 * The price: TIME-WAIT's protection of the old connection's late segments then rests on
 * timestamps (PAWS) alone, and every socket that holds one of those ports needs SO_REUSEADDR
 * (bind() refuses a port a socket without it holds, a TIME-WAIT included).
 *
 * Cursors are shared by the client threads: one atomic add per port taken.
 */
#ifndef TWKIT_BENCH_BENCH_PORTSEL_H
#define TWKIT_BENCH_BENCH_PORTSEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Ports one connection tries before it fails with the last error: enough to step over the
 * 4-tuples still in use (in flight, or a peer that has not closed yet), bounded so that a
 * range that cannot be taken over (no timestamps) costs a bounded number of system calls. */
#define BENCH_PS_TRIES 64

struct bench_portsel;

/* Cursors over lo..hi (lo >= 1, lo <= hi), ncursors of them, each starting at lo.
 * 0 with *out owned by the caller (bench_portsel_free), -EINVAL or -ENOMEM. */
int bench_portsel_new(uint16_t lo, uint16_t hi, uint32_t ncursors, struct bench_portsel **out);
/* NULL is a no-op. */
void bench_portsel_free(struct bench_portsel *ps);

/* The range the cursors walk: lpr_lo-lpr_hi (--local-port-range) when set, else this
 * namespace's ip_local_port_range. 0 or -errno (-EPROTO: the sysctl is malformed). */
int bench_portsel_range(uint16_t lpr_lo, uint16_t lpr_hi, uint16_t *lo, uint16_t *hi);

/* The port cursor `cursor` (< ncursors, else cursor 0) stands on, and move it on by one. */
uint16_t bench_portsel_next(struct bench_portsel *ps, uint32_t cursor);

/* The cursor of (source index, destination index) among nsources x ndests. */
static inline uint32_t bench_portsel_cursor(uint32_t src, uint32_t dst, uint32_t ndests)
{
	return src * ndests + dst;
}

/* Whether another port can cure a failure: bind()'s EADDRINUSE, connect()'s EADDRNOTAVAIL
 * (the exact 4-tuple is held) or EADDRINUSE. Other errors (no such address, unreachable)
 * fail on every port alike. */
bool bench_portsel_retryable(int err, bool at_bind);

/* What one try did. */
enum BENCH_PS_STEP {
	BENCH_PS_CONNECTED, /* connect() returned 0 or EINPROGRESS */
	BENCH_PS_BIND_FAILED,
	BENCH_PS_CONNECT_FAILED,
};

/*
 * One try on an unbound socket fd: SO_REUSEADDR, bind(src with `port`), connect(dst).
 * src and dst have the same family and length len; src's address may be the wildcard.
 * *err gets the errno of a failed step (0 when connected).
 */
enum BENCH_PS_STEP bench_portsel_try(int fd, const struct sockaddr_storage *src,
				     const struct sockaddr_storage *dst, socklen_t len,
				     uint16_t port, int *err);

/*
 * The budget of --port-select app for the report, from the model's rule for a socket that has
 * its port (tw_reuse_unique with port_bound, §2.3): `ports` (the range) x `groups` (sources x
 * destinations) 4-tuples, each taken over at once when timestamps are negotiated (scope's
 * timestamps here and peer_timestamps: 1, 0, -1 unknown), else held the 60 s of TIME-WAIT.
 * One sentence into buf; returns the sustained rate (0 = no bound).
 */
struct tw_profile;
struct tw_reuse_scope;
double bench_portsel_explain(const struct tw_profile *p, const struct tw_reuse_scope *scope,
			     uint32_t ports, uint64_t groups, char *buf, size_t len);

#endif
