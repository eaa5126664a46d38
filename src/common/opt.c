/*
 * opt — table-driven option parsing (see opt.h). No globals; all state lives in the result.
 */
#include "common/opt.h"

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
				snprintf(err, errlen, "option '--%s' needs a value (%s)", specs[i].name,
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
		if (s->kind != OPT_FLAG && len > 0 && (size_t)len < sizeof(head))
			snprintf(head + len, sizeof(head) - (size_t)len, " %s",
				 s->metavar ? s->metavar : "VALUE");
		if (strlen(head) > 28)
			fprintf(f, "%s\n%-30s%s", head, "", s->help);
		else
			fprintf(f, "%-30s%s", head, s->help);
		if (s->def && s->kind != OPT_FLAG)
			fprintf(f, " [%s]", s->def);
		fputc('\n', f);
	}
}
