/*
 * finding_build — appending a finding, its evidence and its advice to a doctor finding list
 * (see findings.h). Bounded: past DOC_MAX_* entries the extra lines are dropped (the caller
 * ranks them most important first), never written out of bounds.
 */
#include "doctor/findings.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct doc_finding *doc_finding_add(struct doc_findings *fs, const char *id, enum DOC_SEV sev,
				    const char *fmt, ...)
{
	va_list ap;
	struct doc_finding *f;

	if (fs->n >= DOC_MAX_FINDINGS)
		return NULL;
	f = &fs->f[fs->n++];
	memset(f, 0, sizeof(*f));
	f->id = id;
	f->sev = sev;
	f->eta_s = -1;
	va_start(ap, fmt);
	vsnprintf(f->summary, sizeof(f->summary), fmt, ap);
	va_end(ap);
	return f;
}

void doc_finding_ev(struct doc_finding *f, const char *fmt, ...)
{
	va_list ap;

	if (!f || f->nevidence >= DOC_MAX_EVIDENCE)
		return;
	va_start(ap, fmt);
	vsnprintf(f->evidence[f->nevidence++], sizeof(f->evidence[0]), fmt, ap);
	va_end(ap);
}

void doc_finding_adv(struct doc_finding *f, const char *fmt, ...)
{
	va_list ap;

	if (!f || f->nadvice >= DOC_MAX_ADVICE)
		return;
	va_start(ap, fmt);
	vsnprintf(f->advice[f->nadvice++], sizeof(f->advice[0]), fmt, ap);
	va_end(ap);
}
