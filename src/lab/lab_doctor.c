/*
 * lab_doctor — doctor's verdicts held to the lab's measurements (see lab_doctor.h).
 */
#include "lab/lab_doctor.h"

#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

const char *lab_doc_sev_name(int sev)
{
	return sev >= 2 ? "critical" : sev == 1 ? "warning" : "info";
}

int lab_doc_parse(const char *json, size_t len, struct lab_doc_sample *out)
{
	json_error_t je;
	json_t *root = json_loadb(json, len, 0, &je), *fa, *x;
	size_t i;
	int rc = 0;

	out->nfind = 0;
	out->have = false;
	if (!root) {
		snprintf(out->error, sizeof(out->error), "doctor's JSON, line %d: %.80s", je.line,
			 je.text);
		return -EPROTO;
	}
	x = json_object_get(root, "schema");
	fa = json_object_get(root, "findings");
	if (!json_is_string(x) || strcmp(json_string_value(x), "twkit.doctor/1") != 0 ||
	    !json_is_array(fa)) {
		snprintf(out->error, sizeof(out->error), "not a twkit.doctor/1 document");
		rc = -EPROTO;
		goto out;
	}
	json_array_foreach(fa, i, x) {
		json_t *id = json_object_get(x, "id"), *sev = json_object_get(x, "severity");
		json_t *eta = json_object_get(x, "eta_s");
		struct lab_doc_finding *f;
		const char *sv;

		if (!json_is_string(id) || !json_is_string(sev)) {
			snprintf(out->error, sizeof(out->error), "finding %zu: no id or severity", i);
			rc = -EPROTO;
			goto out;
		}
		if (out->nfind >= LAB_DOC_FINDINGS)
			break;
		f = &out->f[out->nfind++];
		snprintf(f->id, sizeof(f->id), "%s", json_string_value(id));
		sv = json_string_value(sev);
		f->sev = !strcmp(sv, "critical") ? 2 : !strcmp(sv, "warning") ? 1 : 0;
		f->eta_s = json_is_number(eta) ? json_number_value(eta) : -1;
	}
	out->have = true;
out:
	json_decref(root);
	return rc;
}

/* The finding ids that name EADDRNOTAVAIL's cause: connect() found no free 4-tuple. */
static bool names_port_cause(const char *id)
{
	return !strcmp(id, "port-exhaustion") || !strcmp(id, "tw-reuse-ineffective") ||
	       !strcmp(id, "narrow-port-range");
}

static const struct lab_doc_finding *cause(const struct lab_doc_sample *s)
{
	const struct lab_doc_finding *best = NULL;

	for (int i = 0; s->have && i < s->nfind; i++)
		if (s->f[i].sev >= 1 && names_port_cause(s->f[i].id) &&
		    (!best || s->f[i].sev > best->sev ||
		     (!strcmp(s->f[i].id, "port-exhaustion") && best->sev == s->f[i].sev)))
			best = &s->f[i];
	return best;
}

static struct lab_doc_check *add(struct lab_doctor *d, const char *host, const char *metric)
{
	struct lab_doc_check *c;

	if (d->nchecks >= LAB_DOC_CHECKS)
		return NULL;
	c = &d->c[d->nchecks++];
	memset(c, 0, sizeof(*c));
	snprintf(c->host, sizeof(c->host), "%s", host);
	snprintf(c->metric, sizeof(c->metric), "%s", metric);
	return c;
}

static void sample_line(const struct lab_doc_sample *s, char *buf, size_t len)
{
	size_t n = 0;

	if (!s->have) {
		snprintf(buf, len, "no sample (%s)", s->error[0] ? s->error : "not taken");
		return;
	}
	n = (size_t)snprintf(buf, len, "at %.1f s:", s->at_s);
	if (s->nfind == 0 && n < len)
		n += (size_t)snprintf(buf + n, len - n, " no finding");
	for (int i = 0; i < s->nfind && n < len; i++)
		n += (size_t)snprintf(buf + n, len - n, "%s %s %s", i ? "," : "", s->f[i].id,
				      lab_doc_sev_name(s->f[i].sev));
}

void lab_doc_check_all(struct lab_doctor *d, const struct lab_doc_measured *m)
{
	d->nchecks = 0;
	d->all_agree = true;
	for (int h = 0; h < d->nhosts; h++) {
		const struct lab_doc_sample *half = &d->s[h][0];
		struct lab_doc_check *c;

		if (m[h].connect_failed > 0) {
			const struct lab_doc_finding *f = cause(half);
			c = add(d, d->host[h], "failure named");
			if (!c)
				break;
			if (f)
				snprintf(c->doctor, sizeof(c->doctor), "%s %s at %.1f s", f->id,
					 lab_doc_sev_name(f->sev), half->at_s);
			else
				sample_line(half, c->doctor, sizeof(c->doctor));
			snprintf(c->lab, sizeof(c->lab), "%llu connect() failed (%llu EADDRNOTAVAIL)",
				 (unsigned long long)m[h].connect_failed,
				 (unsigned long long)m[h].eaddrnotavail);
			if (m[h].first_eaddrnotavail_s >= 0) {
				size_t n = strlen(c->lab);
				snprintf(c->lab + n, sizeof(c->lab) - n, ", first at %.1f s",
					 m[h].first_eaddrnotavail_s);
			}
			/* only EADDRNOTAVAIL has a doctor finding that names it; other errnos
			 * (refused, timed out) are not TIME-WAIT's and need only be seen */
			c->agrees = f != NULL || m[h].eaddrnotavail == 0;
			if (!c->agrees)
				d->all_agree = false;
			/* eta: doctor's forecast at half time against the first failure after it */
			if (f && f->eta_s >= 0 && m[h].first_eaddrnotavail_s > half->at_s &&
			    (c = add(d, d->host[h], "eta_s"))) {
				double lab = m[h].first_eaddrnotavail_s - half->at_s;
				snprintf(c->doctor, sizeof(c->doctor), "%.2f s after %.1f s", f->eta_s,
					 half->at_s);
				snprintf(c->lab, sizeof(c->lab), "%.2f s (first EADDRNOTAVAIL at %.2f s)",
					 lab, m[h].first_eaddrnotavail_s);
				c->agrees = fabs(f->eta_s - lab) <= LAB_DOC_ETA_TOL * lab;
				if (!c->agrees)
					d->all_agree = false;
			}
		} else {
			const struct lab_doc_sample *bad = NULL;
			const struct lab_doc_finding *crit = NULL;
			const struct lab_doc_finding *later = NULL;
			for (int k = 0; k < LAB_DOC_SAMPLES && !crit; k++)
				for (int i = 0; d->s[h][k].have && i < d->s[h][k].nfind; i++) {
					const struct lab_doc_finding *x = &d->s[h][k].f[i];
					if (x->sev < 2)
						continue;
					if (x->eta_s >= 0 && d->s[h][k].at_s + x->eta_s >= d->end_s) {
						later = x; /* failure forecast after the run */
						bad = &d->s[h][k];
						continue;
					}
					crit = x;
					bad = &d->s[h][k];
					break;
				}
			c = add(d, d->host[h], "no critical");
			if (!c)
				break;
			if (crit)
				snprintf(c->doctor, sizeof(c->doctor), "%s critical at %.1f s", crit->id,
					 bad->at_s);
			else if (later)
				snprintf(c->doctor, sizeof(c->doctor),
					 "%s critical at %.1f s: failures at %.1f s, after the run",
					 later->id, bad->at_s, bad->at_s + later->eta_s);
			else
				sample_line(&d->s[h][LAB_DOC_SAMPLES - 1], c->doctor,
					    sizeof(c->doctor));
			snprintf(c->lab, sizeof(c->lab), "no connect() failed");
			c->agrees = crit == NULL;
		}
		if (c && !c->agrees)
			d->all_agree = false;
	}
	/* a host without both samples is no proof */
	for (int h = 0; h < d->nhosts; h++)
		for (int k = 0; k < LAB_DOC_SAMPLES; k++)
			if (!d->s[h][k].have)
				d->all_agree = false;
}
