/*
 * bench_demo — `twkit bench` with no arguments: the failures twkit exists for, then the fixes
 * (in a private network namespace when privileged; see bench_demo.c).
 */
#ifndef TWKIT_BENCH_BENCH_DEMO_H
#define TWKIT_BENCH_BENCH_DEMO_H

/* Run the demo; `run` is bench's entry point, called with the argv of each step. Returns the
 * exit code. Must be called before any thread starts (it may unshare the network namespace). */
int bench_demo(int (*run)(int argc, char **argv));

#endif
