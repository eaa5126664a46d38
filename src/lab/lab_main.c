/*
 * lab — verb entry point (work in progress: the verb is being built).
 */
#include <stdio.h>

#include "verbs.h"

int lab_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "twkit lab: not available in this build yet\n");
	return TWKIT_EXIT_RUNTIME;
}
