/*
 * doctor — verb entry point (work in progress: the verb is being built).
 */
#include <stdio.h>

#include "verbs.h"

int doctor_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "twkit doctor: not available in this build yet\n");
	return TWKIT_EXIT_RUNTIME;
}
