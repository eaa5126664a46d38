/*
 * opt — one static table per verb drives both option parsing and --help.
 *
 * A verb declares `static const struct opt_spec specs[]`, calls opt_parse() to collect raw
 * strings, validates them in a separate pass (units.h), and runs with a const config.
 * Invariant: after a successful opt_parse, res->val[i] is NULL for options not given (or the
 * spec's default), "1" for flags given, and the argument otherwise.
 */
#ifndef TWKIT_COMMON_OPT_H
#define TWKIT_COMMON_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

enum OPT_KIND {
	OPT_FLAG,  /* no argument */
	OPT_VALUE, /* takes one argument: --name=V or --name V */
	OPT_MULTI, /* takes one argument, may repeat: values are joined with '\n' */
};

struct opt_spec {
	const char *name;    /* long name without dashes, e.g. "json" */
	char shortname;      /* 0 if none */
	enum OPT_KIND kind;
	const char *metavar; /* e.g. "SECONDS"; NULL for flags */
	const char *def;     /* default shown in --help and returned when absent; may be NULL */
	const char *help;    /* one line */
};

#define OPT_MAX 64
#define OPT_MAX_POS 16

struct opt_result {
	const char *val[OPT_MAX];
	bool seen[OPT_MAX];
	char *multi[OPT_MAX];		/* owned storage for OPT_MULTI */
	const char *pos[OPT_MAX_POS];	/* positional arguments, in order */
	int npos;
};

/*
 * Parse argv[first..argc) against specs[0..n). "--" ends options. Returns 0, or -EINVAL with a
 * message in err naming the offending argument (unknown option, missing value, too many
 * positionals). Release with opt_result_fini().
 */
int opt_parse(const struct opt_spec *specs, int n, int argc, char **argv, int first,
	      struct opt_result *res, char *err, size_t errlen);
void opt_result_fini(struct opt_result *res);

/* Index of option `name` in specs, or -1. */
int opt_index(const struct opt_spec *specs, int n, const char *name);
/* Value of option `name` (or its default), NULL if absent without default. */
const char *opt_get(const struct opt_spec *specs, int n, const struct opt_result *res,
		    const char *name);
bool opt_has(const struct opt_spec *specs, int n, const struct opt_result *res, const char *name);

/* Print the options block of --help: aligned names, metavars, help and defaults. */
void opt_print_help(FILE *f, const struct opt_spec *specs, int n);

#endif
