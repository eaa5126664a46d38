/*
 * clock — the monotonic clock in nanoseconds, for rates, timeouts and deadlines (never for
 * timestamps shown to people).
 */
#ifndef TWKIT_COMMON_CLOCK_H
#define TWKIT_COMMON_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline int64_t tw_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

#endif
