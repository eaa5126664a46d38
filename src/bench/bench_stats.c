/*
 * bench_stats — sums and names for the client counters (see bench.h).
 */
#include "bench/bench.h"

#include <stdio.h>
#include <string.h>

uint64_t bench_stats_failed(const struct bench_stats *s)
{
	uint64_t n = 0;
	for (int e = 0; e < BENCH_NERRNO; e++)
		n += s->failed[e];
	return n;
}

void bench_stats_merge(struct bench_stats *dst, const struct bench_stats *src)
{
	dst->attempted += src->attempted;
	dst->completed += src->completed;
	dst->in_flight += src->in_flight;
	dst->requests += src->requests;
	dst->non2xx += src->non2xx;
	dst->bytes_in += src->bytes_in;
	dst->bytes_out += src->bytes_out;
	for (int e = 0; e < BENCH_NERRNO; e++)
		dst->failed[e] += src->failed[e];
	hist_merge(&dst->connect, &src->connect);
	hist_merge(&dst->first_byte, &src->first_byte);
	hist_merge(&dst->exchange, &src->exchange);
	for (size_t i = 0; i < sizeof(dst->ports) / sizeof(dst->ports[0]); i++)
		dst->ports[i] |= src->ports[i];
	for (int e = 0; e < BENCH_NERRNO; e++) {
		dst->ps_bind_failed[e] += src->ps_bind_failed[e];
		dst->ps_connect_failed[e] += src->ps_connect_failed[e];
	}
	dst->ps_exhausted += src->ps_exhausted;
}

uint32_t bench_stats_ports(const struct bench_stats *s)
{
	uint32_t n = 0;
	for (size_t i = 0; i < sizeof(s->ports) / sizeof(s->ports[0]); i++)
		n += (uint32_t)__builtin_popcountll(s->ports[i]);
	return n;
}

const char *bench_errno_name(int e, char *buf, size_t len)
{
	const char *n = e > 0 ? strerrorname_np(e) : NULL;
	if (n)
		snprintf(buf, len, "%s", n);
	else
		snprintf(buf, len, "E%d", e);
	return buf;
}
