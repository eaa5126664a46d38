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
#include "common/promw.h"
#include "doctor/analyse.h"
#include "doctor/findings.h"
#include "kernel/snapshot.h"

#define DOC_SCHEMA "twkit.doctor/1"

struct doc_render_opts {
	int top;            /* groups to show (0 = all) */
	bool replay;        /* the snapshot came from a capture */
	const char *netns;  /* --netns name, or NULL */
	bool color;         /* ANSI severity colours (text only) */
	/* Prometheus only: */
	const char *version;   /* twkit_build_info{version}; NULL: this build's */
	double scrape_seconds; /* twkit_scrape_duration_seconds; 0 (not measured): not written */
};

/*
 * One source of a Prometheus exposition: a look (snapshot, its analysis and findings) and the
 * labels every sample of it starts with, e.g. { "netns", "web" } (nlabels 0: none; values are
 * escaped when written). Several sources make one exposition whose families each hold the
 * samples of every source in turn, as the format wants (one HELP/TYPE per family).
 */
struct doc_prom_source {
	const struct prom_label *labels;
	size_t nlabels;
	const struct snapshot *s;
	const struct doc_analysis *a;
	const struct doc_findings *fs;
};

void doc_render_text(FILE *f, const struct snapshot *s, const struct doc_analysis *a,
		     const struct doc_findings *fs, const struct doc_render_opts *o);
void doc_render_json(FILE *f, const struct snapshot *s, const struct doc_analysis *a,
		     const struct doc_findings *fs, const struct doc_render_opts *o);
/* The keys of a report after schema, source and netns ("collected_ms" ... "not_read") into
 * the object open in w: what doc_render_json writes, for a report nested in another. */
void doc_render_json_body(struct jw *w, const struct snapshot *s, const struct doc_analysis *a,
			  const struct doc_findings *fs, const struct doc_render_opts *o);
/* The Prometheus exposition of one look, without extra labels (docs/prometheus.md). */
void doc_render_prom(FILE *f, const struct snapshot *s, const struct doc_analysis *a,
		     const struct doc_findings *fs, const struct doc_render_opts *o);
/* The exposition of n looks (n >= 1): process-wide families (twkit_build_info,
 * twkit_scrape_duration_seconds) once, every other family per source with the source's
 * labels first; o->top bounds the groups of each source. */
void doc_render_prom_sources(FILE *f, const struct doc_prom_source *src, size_t n,
			     const struct doc_render_opts *o);

/* The counters doctor reports, as "Prefix.Name" keys of the snapshot's kcounters. */
extern const char *const doc_counter_names[];

#endif
