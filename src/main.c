/*
 * twkit — the subcommand table and nothing else.
 */
#include <stdio.h>
#include <string.h>

#include "verbs.h"

struct verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *what;
};

static const struct verb verbs[] = {
	{ "doctor", doctor_main, "is TIME-WAIT this host's problem, why, and which fix is safe" },
	{ "bench", bench_main, "reproduce port exhaustion and measure each mitigation" },
	{ "sim", sim_main, "model the kernel's TIME-WAIT rules, era by era (2.6.32 ... 6.x)" },
	{ "lab", lab_main, "run the scenarios on the real kernel in namespaces, beside sim" },
	{ "trace", trace_main, "who fails to connect and who closes first, live (eBPF, root)" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage: twkit VERB [OPTIONS]\n\n"
		   "twkit measures TCP TIME-WAIT trouble on Linux instead of guessing at it.\n\n"
		   "verbs:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		fprintf(f, "  %-8s %s\n", verbs[i].name, verbs[i].what);
	fprintf(f, "\n'twkit VERB --help' explains a verb.  'twkit --version' prints the version.\n"
		   "Exit codes: 0 ok, 1 findings at or above --fail-on, 2 usage error, "
		   "3 runtime error.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return TWKIT_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return TWKIT_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("twkit %s\n", TWKIT_VERSION);
		return TWKIT_EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if (strcmp(argv[1], verbs[i].name) == 0)
			return verbs[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "twkit: unknown verb '%s'\n\n", argv[1]);
	usage(stderr);
	return TWKIT_EXIT_USAGE;
}
