/*
 * opt — table-driven option parsing (see opt.h). No globals; all state lives in the result.
 */
#include "common/opt.h"

#include "common/units.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int opt_index(const struct opt_spec *specs, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(specs[i].name, name) == 0)
			return i;
	return -1;
}

static int find_short(const struct opt_spec *specs, int n, char c)
{
	for (int i = 0; i < n; i++)
		if (specs[i].shortname && specs[i].shortname == c)
			return i;
	return -1;
}

static int store(const struct opt_spec *s, struct opt_result *res, int i, const char *v)
{
	res->seen[i] = true;
	if (s->kind != OPT_MULTI) {
		res->val[i] = v;
		return 0;
	}
	size_t old = res->multi[i] ? strlen(res->multi[i]) : 0, add = strlen(v);
	char *m = realloc(res->multi[i], old + add + 2);
	if (!m)
		return -ENOMEM;
	if (old)
		m[old++] = '\n';
	memcpy(m + old, v, add + 1);
	res->multi[i] = m;
	res->val[i] = m;
	return 0;
}

int opt_parse(const struct opt_spec *specs, int n, int argc, char **argv, int first,
	      struct opt_result *res, char *err, size_t errlen)
{
	bool only_pos = false;

	memset(res, 0, sizeof(*res));
	if (n > OPT_MAX) {
		snprintf(err, errlen, "internal: too many options");
		return -EINVAL;
	}
	for (int a = first; a < argc; a++) {
		const char *arg = argv[a];
		int i = -1;
		const char *val = NULL;

		if (only_pos || arg[0] != '-' || arg[1] == '\0') {
			if (res->npos >= OPT_MAX_POS) {
				snprintf(err, errlen, "too many arguments at '%s'", arg);
				return -EINVAL;
			}
			res->pos[res->npos++] = arg;
			continue;
		}
		if (strcmp(arg, "--") == 0) {
			only_pos = true;
			continue;
		}
		if (arg[1] == '-') {
			char name[64];
			const char *eq = strchr(arg + 2, '=');
			size_t len = eq ? (size_t)(eq - (arg + 2)) : strlen(arg + 2);
			if (len >= sizeof(name)) {
				snprintf(err, errlen, "unknown option '%.60s'", arg);
				return -EINVAL;
			}
			memcpy(name, arg + 2, len);
			name[len] = '\0';
			i = opt_index(specs, n, name);
			if (i < 0) {
				snprintf(err, errlen, "unknown option '--%s'", name);
				return -EINVAL;
			}
			if (eq) {
				if (specs[i].kind == OPT_FLAG) {
					snprintf(err, errlen, "option '--%s' takes no value", name);
					return -EINVAL;
				}
				val = eq + 1;
			}
		} else {
			if (arg[2] != '\0' || (i = find_short(specs, n, arg[1])) < 0) {
				snprintf(err, errlen, "unknown option '%s'", arg);
				return -EINVAL;
			}
		}
		if (specs[i].kind == OPT_FLAG) {
			val = "1";
		} else if (!val) {
			if (a + 1 >= argc) {
				snprintf(err, errlen, "option '--%s' needs a value (%s)",
					 specs[i].name,
					 specs[i].metavar ? specs[i].metavar : "VALUE");
				return -EINVAL;
			}
			val = argv[++a];
		}
		if (store(&specs[i], res, i, val) < 0) {
			snprintf(err, errlen, "out of memory");
			return -ENOMEM;
		}
	}
	for (int i = 0; i < n; i++)
		if (!res->seen[i] && specs[i].def)
			res->val[i] = specs[i].def;
	return 0;
}

void opt_result_fini(struct opt_result *res)
{
	for (int i = 0; i < OPT_MAX; i++) {
		free(res->multi[i]);
		res->multi[i] = NULL;
	}
}

const char *opt_get(const struct opt_spec *specs, int n, const struct opt_result *res,
		    const char *name)
{
	int i = opt_index(specs, n, name);
	return i < 0 ? NULL : res->val[i];
}

bool opt_has(const struct opt_spec *specs, int n, const struct opt_result *res, const char *name)
{
	int i = opt_index(specs, n, name);
	return i >= 0 && res->seen[i];
}

static void fmt_num(char *b, size_t l, enum OPT_TYPE t, double v)
{
	if (t == OPT_T_DURATION) {
		/* a bound as people type it: the largest unit it is a whole number of */
		static const struct {
			int64_t ns;
			const char *u;
		} un[] = {{86400000000000LL, "d"}, {3600000000000LL, "h"}, {60000000000LL, "m"},
			  {1000000000LL, "s"},	   {1000000LL, "ms"},	   {1000LL, "us"}};
		int64_t ns = (int64_t)v;
		for (size_t k = 0; k < sizeof(un) / sizeof(un[0]); k++)
			if (ns >= un[k].ns && ns % un[k].ns == 0) {
				snprintf(b, l, "%lld%s", (long long)(ns / un[k].ns), un[k].u);
				return;
			}
		snprintf(b, l, "%lldns", (long long)ns);
	} else if (t == OPT_T_SIZE)
		units_fmt_bytes(b, l, (uint64_t)v);
	else if (t == OPT_T_RATE)
		units_fmt_rate(b, l, v);
	else
		units_fmt_count(b, l, (uint64_t)v);
}

/* "expected a duration such as 90s, 1h30m or 7d, from 1s to 7d" */
static void expected(const struct opt_spec *s, char *b, size_t l)
{
	static const char *const what[] = {
	    [OPT_T_DURATION] = "a duration such as 90s, 1h30m or 7d",
	    [OPT_T_COUNT] = "a count such as 1000 or 10k",
	    [OPT_T_COUNT64] = "a count such as 1000 or 10k",
	    [OPT_T_SIZE] = "a size such as 4096, 64KiB or 1MiB",
	    [OPT_T_RATE] = "a rate such as 500, 5k or 5k/s",
	};
	char lo[32], hi[32];
	size_t o;

	if (s->type == OPT_T_CHOICE) {
		o = (size_t)snprintf(b, l, "expected ");
		for (int k = 0; s->choices[k] && o < l; k++)
			o += (size_t)snprintf(b + o, l - o, "%s%s",
					      k == 0		  ? ""
					      : s->choices[k + 1] ? ", "
								  : " or ",
					      s->choices[k]);
		return;
	}
	if (s->type == OPT_T_DURATION) {
		/* examples the bounds allow: the first, a middle one and the last that fit */
		static const double ex_ns[] = {0.5e9, 5e9, 90e9, 300e9, 5400e9, 86400e9, 604800e9};
		static const char *const ex[] = {"500ms", "5s", "90s", "5m", "1h30m", "1d", "7d"};
		int fit[7] = { 0 }, nf = 0;
		for (int k = 0; k < 7; k++)
			if (ex_ns[k] >= s->min && (s->max <= 0 || ex_ns[k] <= s->max))
				fit[nf++] = k;
		if (nf >= 5 && fit[nf - 1] == 6 && fit[nf - 5] <= 2) /* 90s to 7d fit: the usual */
			o = (size_t)snprintf(b, l, "expected a duration such as 90s, 1h30m or 7d");
		else if (nf >= 3)
			o = (size_t)snprintf(b, l, "expected a duration such as %s, %s or %s",
					     ex[fit[0]], ex[fit[nf / 2]], ex[fit[nf - 1]]);
		else if (nf == 2)
			o = (size_t)snprintf(b, l, "expected a duration such as %s or %s",
					     ex[fit[0]], ex[fit[1]]);
		else
			o = (size_t)snprintf(b, l, "expected a duration");
	} else {
		o = (size_t)snprintf(b, l, "expected %s", what[s->type]);
	}
	if (o >= l)
		return;
	fmt_num(lo, sizeof(lo), s->type, s->min);
	fmt_num(hi, sizeof(hi), s->type, s->max);
	if (s->max > 0 && (s->min > 0 || s->type == OPT_T_COUNT || s->type == OPT_T_COUNT64 ||
			   s->type == OPT_T_SIZE))
		snprintf(b + o, l - o, ", from %s to %s", lo, hi);
	else if (s->max > 0)
		snprintf(b + o, l - o, ", above 0 and at most %s", hi);
	else if (s->min > 0)
		snprintf(b + o, l - o, ", at least %s", lo);
	else if (s->type == OPT_T_DURATION || s->type == OPT_T_RATE)
		snprintf(b + o, l - o, ", above 0");
	o = strlen(b);
	if (s->zero_ok && o < l)
		o += (size_t)snprintf(b + o, l - o, ", or 0");
	if (s->hint && o < l)
		snprintf(b + o, l - o, " (%s)", s->hint);
}

static bool in_bounds(const struct opt_spec *s, double v)
{
	if (s->type == OPT_T_DURATION || s->type == OPT_T_RATE) {
		if (v == 0 && s->zero_ok)
			return true;
		if (v <= 0 && s->min <= 0)
			return false;
	}
	return v >= s->min && (s->max <= 0 || v <= s->max);
}

static int apply_one(const struct opt_spec *s, const char *v, bool given, char *field)
{
	uint64_t u;
	int64_t ns;
	double d;

	switch (s->type) {
	case OPT_T_RAW:
		return 0;
	case OPT_T_BOOL:
		memcpy(field, &given, sizeof(given));
		return 0;
	case OPT_T_STR:
		memcpy(field, &v, sizeof(v));
		return 0;
	case OPT_T_CHOICE:
		for (int k = 0; s->choices[k]; k++)
			if (strcmp(s->choices[k], v) == 0) {
				int val = s->choice_val ? s->choice_val[k] : k;
				memcpy(field, &val, sizeof(val));
				return 0;
			}
		return -EINVAL;
	case OPT_T_DURATION:
		if (units_parse_duration(v, &ns) < 0 || !in_bounds(s, (double)ns))
			return -EINVAL;
		memcpy(field, &ns, sizeof(ns));
		return 0;
	case OPT_T_COUNT:
	case OPT_T_COUNT64:
		if (units_parse_count(v, &u) < 0 || !in_bounds(s, (double)u) ||
		    (s->type == OPT_T_COUNT && u > UINT32_MAX))
			return -EINVAL;
		if (s->type == OPT_T_COUNT) {
			uint32_t u32 = (uint32_t)u;
			memcpy(field, &u32, sizeof(u32));
		} else {
			memcpy(field, &u, sizeof(u));
		}
		return 0;
	case OPT_T_SIZE:
		if (units_parse_size(v, &u) < 0 || !in_bounds(s, (double)u))
			return -EINVAL;
		memcpy(field, &u, sizeof(u));
		return 0;
	case OPT_T_RATE:
		if (units_parse_rate(v, &d) < 0 || !in_bounds(s, d))
			return -EINVAL;
		memcpy(field, &d, sizeof(d));
		return 0;
	}
	return -EINVAL;
}

int opt_apply(const struct opt_spec *specs, int n, const struct opt_result *res, void *cfg,
	      char *err, size_t errlen)
{
	for (int i = 0; i < n; i++) {
		const struct opt_spec *s = &specs[i];
		const char *v = res->val[i];
		if (s->type == OPT_T_RAW || (s->type != OPT_T_BOOL && !v))
			continue;
		if (s->kind == OPT_MULTI && s->type != OPT_T_STR) {
			snprintf(err, errlen, "internal: --%s repeats but is typed", s->name);
			return -EINVAL;
		}
		if (apply_one(s, v, res->seen[i], (char *)cfg + s->off) < 0) {
			char why[200];
			expected(s, why, sizeof(why));
			snprintf(err, errlen, "--%s '%.80s': %s", s->name, v, why);
			return -EINVAL;
		}
	}
	return 0;
}

void opt_print_help(FILE *f, const struct opt_spec *specs, int n)
{
	for (int i = 0; i < n; i++) {
		char head[80];
		const struct opt_spec *s = &specs[i];
		int len;
		if (s->shortname)
			len = snprintf(head, sizeof(head), "  -%c, --%s", s->shortname, s->name);
		else
			len = snprintf(head, sizeof(head), "      --%s", s->name);
		if (s->kind != OPT_FLAG && len > 0 && (size_t)len < sizeof(head)) {
			char words[48] = "VALUE";
			if (!s->metavar && s->type == OPT_T_CHOICE) {
				size_t o = 0;
				for (int k = 0; s->choices[k] && o < sizeof(words); k++)
					o += (size_t)snprintf(words + o, sizeof(words) - o, "%s%s",
							      k ? "|" : "", s->choices[k]);
			}
			snprintf(head + len, sizeof(head) - (size_t)len, " %s",
				 s->metavar ? s->metavar : words);
		}
		if (strlen(head) > 28)
			fprintf(f, "%s\n%-30s%s", head, "", s->help);
		else
			fprintf(f, "%-30s%s", head, s->help);
		if (s->def && s->kind != OPT_FLAG)
			fprintf(f, " [%s]", s->def);
		if (s->type >= OPT_T_DURATION && (s->max > 0 || s->min > 0)) {
			/* the table's bounds, as opt_apply holds them */
			char lo[32], hi[32];
			fmt_num(lo, sizeof(lo), s->type, s->min);
			fmt_num(hi, sizeof(hi), s->type, s->max);
			if (s->max > 0 && s->min > 0)
				fprintf(f, " (%s to %s%s)", lo, hi, s->zero_ok ? ", or 0" : "");
			else if (s->max > 0)
				fprintf(f, " (at most %s%s)", hi, s->zero_ok ? ", or 0" : "");
			else
				fprintf(f, " (at least %s%s)", lo, s->zero_ok ? ", or 0" : "");
		}
		fputc('\n', f);
	}
}
