/*
 * lab_catalog — test helper: the lab's catalogue as data says it (src/lab/lab_scen.c).
 *
 * usage: lab_catalog [NAME...]   each entry (all by default) as lab_catalog_show prints it:
 *                                how it is made, then the scenario as a file sim and lab run
 *        lab_catalog --md        the table of docs/lab.md "How an entry is made"
 *
 * Exit 0, or 1 when a NAME is not in the catalogue or does not build.
 */
#include <stdio.h>
#include <string.h>

#include "lab/lab_scen.h"

/* The lines of text as `a`, `b`, ... on f. */
static void code_list(FILE *f, const char *text)
{
	int k = 0;

	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");

		fprintf(f, "%s`%.*s`", k++ ? ", " : "", (int)n, p);
		p += n + (p[n] == '\n');
	}
	if (!k)
		fprintf(f, "(none)");
}

static void markdown(FILE *f)
{
	fprintf(f, "| lab name | sim built-in | its own overlay, after the common one |\n"
		   "|---|---|---|\n");
	for (int i = 0; i < lab_catalog_count(); i++) {
		const struct lab_entry *e = lab_catalog_at(i);

		fprintf(f, "| %s | %s | ", e->name, e->sim_name);
		if (e->unsupported)
			fprintf(f, "none: sim only (exit 2)");
		else
			code_list(f, e->overlay);
		fprintf(f, " |\n");
	}
}

int main(int argc, char **argv)
{
	int bad = 0, shown = 0;

	if (argc == 2 && strcmp(argv[1], "--md") == 0) {
		markdown(stdout);
		return 0;
	}
	for (int i = 0; i < lab_catalog_count(); i++) {
		const struct lab_entry *e = lab_catalog_at(i);
		bool want = argc == 1;

		for (int a = 1; a < argc; a++)
			want = want || strcmp(argv[a], e->name) == 0;
		if (!want || (argc == 1 && e->unsupported))
			continue;
		if (shown++)
			printf("\n");
		if (lab_catalog_show(stdout, e) < 0) {
			fprintf(stderr, "lab_catalog: %s: %s\n", e->name,
				e->unsupported ? e->unsupported : "does not build");
			bad = 1;
		}
	}
	for (int a = 1; a < argc; a++)
		if (!lab_catalog_find(argv[a])) {
			fprintf(stderr, "lab_catalog: no entry '%s'\n", argv[a]);
			bad = 1;
		}
	return bad;
}
