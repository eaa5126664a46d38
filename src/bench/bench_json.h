/*
 * bench_json — the keys of bench's JSON document (twkit.bench/1) that other verbs read: one
 * definition for bench's writer (bench_report.c, bench_run.c's series) and the lab's reader
 * (lab_run.c), so a renamed key breaks the build or the lab's parse, never silently reads 0.
 * docs/bench.md documents the whole document.
 */
#ifndef TWKIT_BENCH_BENCH_JSON_H
#define TWKIT_BENCH_BENCH_JSON_H

#define BENCH_JSON_SCHEMA "twkit.bench/1"
#define BENCH_JK_SCHEMA "schema"

/* "totals": {attempted, completed, failed: {ERRNO: n}, failed_total, rate, non_2xx, ...} */
#define BENCH_JK_TOTALS "totals"
#define BENCH_JK_ATTEMPTED "attempted"
#define BENCH_JK_COMPLETED "completed"
#define BENCH_JK_FAILED "failed"
#define BENCH_JK_FAILED_TOTAL "failed_total"
#define BENCH_JK_RATE "rate"
#define BENCH_JK_NON2XX "non_2xx"

/* "series": [{t, rate, failed, tw_client, tw_server, in_flight, EADDRNOTAVAIL, ...}] —
 * per-second rows; "rate" there is completed connections in that second */
#define BENCH_JK_SERIES "series"
#define BENCH_JK_T "t"
#define BENCH_COL_RATE "rate"
#define BENCH_COL_FAILED "failed"
#define BENCH_COL_EADDRNOTAVAIL "EADDRNOTAVAIL"

/* "resources": {user_s, sys_s, sys_us_per_conn, user_us_per_conn, per_conn, ...} — the
 * process's CPU over the run (getrusage RUSAGE_SELF: with the self-hosted server, both ends);
 * per connection attempted ("per_conn": "attempted") */
#define BENCH_JK_RESOURCES "resources"
#define BENCH_JK_SYS_US_PER_CONN "sys_us_per_conn"
#define BENCH_JK_USER_US_PER_CONN "user_us_per_conn"

#endif
