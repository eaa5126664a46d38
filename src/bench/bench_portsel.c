/*
 * bench_portsel — the cursors and one bind()+connect() try (see bench_portsel.h). The cursor
 * only moves forward, so a port comes back after the whole range has been used once: with a
 * range of R ports and a rate of r connections/s per cursor a port is reused after R / r
 * seconds, the oldest TIME-WAIT of the range, as HAProxy's ring of free ports does.
 */
#include "bench/bench_portsel.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/units.h"
#include "kernel/procfs.h"
#include "model/budget.h"
#include "model/reuse.h"

struct bench_portsel {
	uint16_t lo, hi;
	uint32_t ncursors;
	uint64_t cur[]; /* positions taken so far; 64-bit, so the modulo never wraps */
};

int bench_portsel_new(uint16_t lo, uint16_t hi, uint32_t ncursors, struct bench_portsel **out)
{
	struct bench_portsel *ps;

	if (lo == 0 || lo > hi || ncursors == 0 || ncursors > (1u << 20))
		return -EINVAL;
	ps = calloc(1, sizeof(*ps) + (size_t)ncursors * sizeof(ps->cur[0]));
	if (!ps)
		return -ENOMEM;
	ps->lo = lo;
	ps->hi = hi;
	ps->ncursors = ncursors;
	*out = ps;
	return 0;
}

void bench_portsel_free(struct bench_portsel *ps)
{
	free(ps);
}

int bench_portsel_range(uint16_t lpr_lo, uint16_t lpr_hi, uint16_t *lo, uint16_t *hi)
{
	if (lpr_hi) {
		*lo = lpr_lo;
		*hi = lpr_hi;
		return 0;
	}
	return kproc_port_range(lo, hi);
}

uint16_t bench_portsel_next(struct bench_portsel *ps, uint32_t cursor)
{
	uint64_t n = (uint64_t)ps->hi - ps->lo + 1;
	uint64_t k =
	    __atomic_fetch_add(&ps->cur[cursor < ps->ncursors ? cursor : 0], 1, __ATOMIC_RELAXED);
	return (uint16_t)(ps->lo + k % n);
}

bool bench_portsel_retryable(int err, bool at_bind)
{
	if (at_bind)
		return err == EADDRINUSE;
	return err == EADDRNOTAVAIL || err == EADDRINUSE;
}

enum BENCH_PS_STEP bench_portsel_try(int fd, const struct sockaddr_storage *src,
				     const struct sockaddr_storage *dst, socklen_t len,
				     uint16_t port, int *err)
{
	struct sockaddr_storage a = *src;
	int one = 1;

	*err = 0;
	/* both the sockets on a port and the TIME-WAIT they leave need it: bind() refuses a port
	 * held by a socket (TIME-WAIT included) unless both sides set it */
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0) {
		*err = errno;
		return BENCH_PS_BIND_FAILED;
	}
	/* sin_port and sin6_port are at the same offset */
	((struct sockaddr_in *)&a)->sin_port = htons(port);
	if (bind(fd, (const struct sockaddr *)&a, len) < 0) {
		*err = errno;
		return BENCH_PS_BIND_FAILED;
	}
	if (connect(fd, (const struct sockaddr *)dst, len) < 0 && errno != EINPROGRESS) {
		*err = errno;
		return BENCH_PS_CONNECT_FAILED;
	}
	return BENCH_PS_CONNECTED;
}

double bench_portsel_explain(const struct tw_profile *p, const struct tw_reuse_scope *scope,
			     uint32_t ports, uint64_t groups, char *buf, size_t len)
{
	/* a TIME-WAIT as the run leaves them: old enough for any rule, timestamped or not */
	struct tw_reuse_tw tw = {.ts_recent_stamp_s =
				     scope->timestamps && scope->peer_timestamps ? 1u : 0u,
				 .loopback = scope->loopback};
	struct tw_reuse_req req = {
	    .reuse = scope->reuse, .port_bound = true, .now_ms = (int64_t)TW_TIMEWAIT_LEN_MS};
	char np[32], held[32];
	double rate = tw_budget_rate((uint64_t)ports * groups, TW_TIMEWAIT_LEN_MS);
	bool takeover = tw_reuse_unique(p, &tw, &req, NULL);

	units_fmt_count(np, sizeof(np), ports);
	units_fmt_rate(held, sizeof(held), rate);
	if (takeover && scope->peer_timestamps > 0) {
		snprintf(
		    buf, len,
		    "ports chosen by bench (bind() of the next port, SO_REUSEADDR, connect(): no "
		    "search): with timestamps a TIME-WAIT on the exact 4-tuple is taken over at "
		    "once, %s (§2.3), so %s ports x %llu source-destination pair%s set no rate "
		    "bound. The price: TIME-WAIT's protection rests on timestamps alone; every "
		    "socket on these ports needs SO_REUSEADDR",
		    scope->reuse ? "whatever tcp_tw_reuse says" : "even with tcp_tw_reuse=0", np,
		    (unsigned long long)groups, groups > 1 ? "s" : "");
		return 0;
	}
	if (takeover) {
		snprintf(buf, len,
			 "ports chosen by bench (bind(), SO_REUSEADDR, connect(): no search): a "
			 "TIME-WAIT on the exact 4-tuple is taken over at once if the server "
			 "negotiates timestamps (nothing here shows whether it does); if not, %s "
			 "ports x %llu / 60 s = %s",
			 np, (unsigned long long)groups, held);
		return 0;
	}
	snprintf(buf, len,
		 "ports chosen by bench (bind(), SO_REUSEADDR, connect()): without timestamps a "
		 "TIME-WAIT on the exact 4-tuple is never taken over, so each is held 60 s: %s "
		 "ports x %llu / 60 s = %s",
		 np, (unsigned long long)groups, held);
	return rate;
}
