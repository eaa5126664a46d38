/*
 * opt — one typed static table per verb drives parsing, validation and --help.
 *
 * A verb declares `static const struct opt_spec specs[]` with designated initializers (the
 * OPT_* macros below), calls opt_parse() to collect raw strings, then opt_apply() to turn
 * every typed option (given, or its default) into its field of the verb's config struct: a
 * duration, a count within bounds, a size, a rate, one of a list of words, a string, a flag.
 * opt_apply's errors name the option, the value and what was expected, from the table alone.
 * What is left to the verb is what one option cannot say alone (cross-option rules, values
 * that need the network or the kernel).
 * Invariant: after a successful opt_parse, res->val[i] is NULL for options not given (or the
 * spec's default), "1" for flags given, and the argument otherwise.
 */
#ifndef TWKIT_COMMON_OPT_H
#define TWKIT_COMMON_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum OPT_KIND {
	OPT_FLAG,  /* no argument */
	OPT_VALUE, /* takes one argument: --name=V or --name V */
	OPT_MULTI, /* takes one argument, may repeat: values are joined with '\n' */
};

/* What opt_apply() makes of a value, and the C type of the field it writes. */
enum OPT_TYPE {
	OPT_T_RAW = 0,	/* not converted: the verb reads the string (opt_get) */
	OPT_T_BOOL,	/* bool: true when the flag was given */
	OPT_T_STR,	/* const char *: the argument (points into argv or the table) */
	OPT_T_CHOICE,	/* int: choice_val[k] (or k) for the word choices[k] */
	OPT_T_DURATION, /* int64_t nanoseconds: "90s", "1h30m", "7d" (units_parse_duration) */
	OPT_T_COUNT,	/* uint32_t: "1000", "10k" (units_parse_count), within min..max */
	OPT_T_COUNT64,	/* uint64_t: as OPT_T_COUNT */
	OPT_T_SIZE,	/* uint64_t bytes: "64", "1MiB" (units_parse_size), within min..max */
	OPT_T_RATE,	/* double per second: "500", "5k/s" (units_parse_rate), above 0 */
};

struct opt_spec {
	const char *name; /* long name without dashes, e.g. "json" */
	char shortname;	  /* 0 if none */
	enum OPT_KIND kind;
	const char *metavar; /* e.g. "SECONDS"; NULL for flags (choices: the words joined by |) */
	const char *def;     /* default shown in --help and returned when absent; may be NULL */
	const char *help;    /* one line */
	enum OPT_TYPE type;  /* OPT_T_RAW: opt_apply leaves it to the verb */
	size_t off;	     /* the field's offset in the verb's config struct */
	const char *const *choices; /* OPT_T_CHOICE: the words, NULL-terminated */
	const int *choice_val;	    /* OPT_T_CHOICE: the value of each word (NULL: its index) */
	double min, max;  /* COUNT, SIZE, DURATION (ns), RATE: inclusive bounds (max 0: none);
			   * DURATION's and RATE's min 0 means above 0 */
	bool zero_ok;	  /* DURATION, RATE: 0 is accepted too (say what it means in hint) */
	const char *hint; /* appended to a refusal in parentheses, e.g. "0: no limit" */
};

/*
 * The field's offset, refusing at compile time a field whose C type is not the option
 * type's: a bool for a flag, an int64_t for a duration, ... (a negative array size).
 */
#define OPT_OFF_(S, F, CT)                                                                         \
	(offsetof(S, F) + 0 * sizeof(char[_Generic(((S *)0)->F, CT : 1, default : -1)]))
#define OPT_FLAG_TO(S, F) .kind = OPT_FLAG, .type = OPT_T_BOOL, .off = OPT_OFF_(S, F, bool)
#define OPT_STR_TO(S, F) .kind = OPT_VALUE, .type = OPT_T_STR, .off = OPT_OFF_(S, F, const char *)
#define OPT_CHOICE_TO(S, F, ...)                                                                   \
	.kind = OPT_VALUE, .type = OPT_T_CHOICE, .off = OPT_OFF_(S, F, int),                       \
	.choices = (const char *const[])                                                           \
	{                                                                                          \
		__VA_ARGS__, NULL                                                                  \
	}
#define OPT_MULTI_STR_TO(S, F)                                                                     \
	.kind = OPT_MULTI, .type = OPT_T_STR, .off = OPT_OFF_(S, F, const char *)
#define OPT_DUR_TO(S, F) .kind = OPT_VALUE, .type = OPT_T_DURATION, .off = OPT_OFF_(S, F, int64_t)
#define OPT_COUNT_TO(S, F, LO, HI)                                                                 \
	.kind = OPT_VALUE, .type = OPT_T_COUNT, .off = OPT_OFF_(S, F, uint32_t), .min = (LO),      \
	.max = (HI)
#define OPT_COUNT64_TO(S, F, LO, HI)                                                               \
	.kind = OPT_VALUE, .type = OPT_T_COUNT64, .off = OPT_OFF_(S, F, uint64_t), .min = (LO),    \
	.max = (HI)
#define OPT_SIZE_TO(S, F, LO, HI)                                                                  \
	.kind = OPT_VALUE, .type = OPT_T_SIZE, .off = OPT_OFF_(S, F, uint64_t), .min = (LO),       \
	.max = (HI)
#define OPT_RATE_TO(S, F, HI)                                                                      \
	.kind = OPT_VALUE, .type = OPT_T_RATE, .off = OPT_OFF_(S, F, double), .max = (HI)

#define OPT_MAX 64
#define OPT_MAX_POS 16

struct opt_result {
	const char *val[OPT_MAX];
	bool seen[OPT_MAX];
	char *multi[OPT_MAX];	      /* owned storage for OPT_MULTI */
	const char *pos[OPT_MAX_POS]; /* positional arguments, in order */
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

/*
 * Write every typed option of specs that has a value (given, or its default) into cfg, the
 * verb's config struct; options without either leave their field as the caller set it.
 * Returns 0, or -EINVAL with err naming the option, the value and what it expects
 * ("--duration '7x': expected a duration such as 90s, 1h30m or 7d").
 */
int opt_apply(const struct opt_spec *specs, int n, const struct opt_result *res, void *cfg,
	      char *err, size_t errlen);

/* Print the options block of --help: aligned names, metavars (a choice's words when it has
 * none), help, and the default. */
void opt_print_help(FILE *f, const struct opt_spec *specs, int n);

#endif
