/*
 * sim — verb entry point (work in progress: the verb is being built).
 */
#include <stdio.h>

#include "verbs.h"

int sim_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "twkit sim: not available in this build yet\n");
	return TWKIT_EXIT_RUNTIME;
}
