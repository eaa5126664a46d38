/*
 * render — findings and analysis -> text for people (report), JSON for machines
 * (schema twkit.doctor/1, docs/doctor-json.md) and Prometheus text exposition. Renderers
 * never compute: every number printed is in the analysis or the snapshot.
 */
#ifndef TWKIT_DOCTOR_RENDER_H
#define TWKIT_DOCTOR_RENDER_H

#include <stdbool.h>
#include <stdio.h>

#include "common/jsonw.h"
#include "doctor/analyse.h"
#include "doctor/findings.h"
#include "kernel/snapshot.h"

#define DOC_SCHEMA "twkit.doctor/1"

struct doc_render_opts {
	int top;            /* groups to show (0 = all) */
	bool replay;        /* the snapshot came from a capture */
	const char *netns;  /* --netns name, or NULL */
	bool color;         /* ANSI severity colours (text only) */
};

void doc_render_text(FILE *f, const struct snapshot *s, const struct doc_analysis *a,
		     const struct doc_findings *fs, const struct doc_render_opts *o);
void doc_render_json(FILE *f, const struct snapshot *s, const struct doc_analysis *a,
		     const struct doc_findings *fs, const struct doc_render_opts *o);
/* The keys of a report after schema, source and netns ("collected_ms" ... "not_read") into
 * the object open in w: what doc_render_json writes, for a report nested in another. */
void doc_render_json_body(struct jw *w, const struct snapshot *s, const struct doc_analysis *a,
			  const struct doc_findings *fs, const struct doc_render_opts *o);
void doc_render_prom(FILE *f, const struct snapshot *s, const struct doc_analysis *a,
		     const struct doc_findings *fs, const struct doc_render_opts *o);

/* The counters doctor reports, as "Prefix.Name" keys of the snapshot's kcounters. */
extern const char *const doc_counter_names[];

#endif
