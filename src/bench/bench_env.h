/*
 * bench_env — what a run meets in its network namespace and what the kernel did beside it:
 * the TIME-WAIT already there toward the target when the run starts (a run right after another
 * meets what the first one left), TcpExt.TCPTimeWaitOverflow over the run (TIME-WAIT the
 * kernel did not keep: tcp_max_tw_buckets, §1.4), and whether an asked --rate was reached.
 */
#ifndef TWKIT_BENCH_BENCH_ENV_H
#define TWKIT_BENCH_BENCH_ENV_H

#include <stdio.h>

#include "bench/bench.h"
#include "common/jsonw.h"

/* Below this share of the asked --rate (connections started per second), the run says the
 * rate was not reached. */
#define BENCH_RATE_REACHED_SHARE 0.98

/* Before the client starts (r->cfg.target known): count the TIME-WAIT toward the target and in
 * all, read TCPTimeWaitOverflow, and say on stderr (unless quiet) when TIME-WAIT toward the
 * target is already there. */
void bench_env_start(struct bench_result *r);
/* After the run: the TCPTimeWaitOverflow delta and the reached rate (r->st, r->elapsed_s). */
void bench_env_end(struct bench_result *r);
/* The lines of the human report (nothing when there is nothing to say). */
void bench_env_text(FILE *f, const struct bench_result *r);
/* "at_start": {toward_target, total} and "overflow" (keys of "time_wait"). */
void bench_env_json(struct jw *w, const struct bench_result *r);
/* "rate_asked": {asked, started, reached, shortfall_pct} (a key of "totals", with --rate). */
void bench_env_json_rate(struct jw *w, const struct bench_result *r);

#endif
