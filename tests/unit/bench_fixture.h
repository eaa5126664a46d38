/*
 * bench_fixture — what bench's unit tests (test_bench.c, test_bench_app.c) share: a command
 * line written as one string, parsed by bench_cfg_parse. Header-only (static inline), like
 * doc_fixture.h.
 */
#ifndef TWKIT_TESTS_BENCH_FIXTURE_H
#define TWKIT_TESTS_BENCH_FIXTURE_H

#include <string.h>

#include "bench/bench.h"

/* line split on spaces (no quoting; under 512 bytes, at most 32 words); err: 256 bytes. */
static inline int parse(const char *line, struct bench_cfg *cfg, char *err)
{
	char buf[512], *argv[32];
	int argc = 0;
	strcpy(buf, line);
	for (char *s = NULL, *t = strtok_r(buf, " ", &s); t; t = strtok_r(NULL, " ", &s))
		argv[argc++] = t;
	return bench_cfg_parse(argc, argv, cfg, err, 256);
}

#endif
