/*
 * verbs — the entry point of each twkit verb. Each returns the process exit code:
 * 0 ok, 1 findings at or above --fail-on, 2 usage error, 3 runtime error.
 * argv[0] is the verb name; options follow.
 */
#ifndef TWKIT_VERBS_H
#define TWKIT_VERBS_H

enum TWKIT_EXIT {
	TWKIT_EXIT_OK = 0,
	TWKIT_EXIT_FINDINGS = 1,
	TWKIT_EXIT_USAGE = 2,
	TWKIT_EXIT_RUNTIME = 3,
};

int doctor_main(int argc, char **argv);
int sim_main(int argc, char **argv);
int bench_main(int argc, char **argv);
int lab_main(int argc, char **argv);
int trace_main(int argc, char **argv);

#endif
