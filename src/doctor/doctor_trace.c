/*
 * doctor_trace — measured beside inferred (see doctor_trace.h). doctor infers failures from
 * TIME-WAIT counts and timers; trace counts the failed connect() calls and the active closes
 * themselves. Each measured line starts with "measured (trace, N s)"; a contradiction starts
 * with "measurement contradicts this". Lines go after the finding's own evidence; a full
 * evidence list gives up its last (least important) line for them.
 */
#include "doctor/doctor_trace.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int doc_trace_collect(struct doc_trace *t, int64_t ns, const char *netns,
		      volatile sig_atomic_t *stop)
{
	uint32_t inum;
	struct stat st;
	char err[512];
	int rc;

	memset(t, 0, sizeof(*t));
	if (netns) {
		rc = trace_netns_inum(netns, &inum);
		if (rc) {
			fprintf(stderr, "twkit doctor: --trace: /run/netns/%s: %s\n", netns,
				strerror(-rc));
			return 3;
		}
	} else {
		if (stat("/proc/self/ns/net", &st) != 0) {
			fprintf(stderr, "twkit doctor: --trace: /proc/self/ns/net: %s\n",
				strerror(errno));
			return 3;
		}
		inum = (uint32_t)st.st_ino;
	}
	if (trace_data_init(&t->d) != 0) {
		fprintf(stderr, "twkit doctor: out of memory\n");
		return 3;
	}
	fprintf(stderr, "twkit doctor: tracing connect() and closes for %.1f s...\n", ns / 1e9);
	rc = trace_collect(ns, inum, &t->d, stop, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "twkit doctor: --trace: %s\n", err);
		trace_data_fini(&t->d);
		return 3;
	}
	t->seconds = ns / 1e9;
	t->cg = trace_cg_new();
	return 0;
}

void doc_trace_fini(struct doc_trace *t)
{
	trace_data_fini(&t->d);
	trace_cg_free(t->cg);
	t->cg = NULL;
}

/* An evidence line, even into a full list (it replaces the last line there). */
static void ev_put(struct doc_finding *f, const char *line)
{
	int i = f->nevidence < DOC_MAX_EVIDENCE ? f->nevidence++ : DOC_MAX_EVIDENCE - 1;

	snprintf(f->evidence[i], sizeof(f->evidence[i]), "%s", line);
}

/* trace's address as doctor's 16 bytes (IPv4 mapped into IPv6). */
static void addr16(const struct trace_addr *a, uint8_t out[16])
{
	memset(out, 0, 16);
	if (a->family == 10) {
		memcpy(out, a->addr, 16);
	} else {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, a->addr, 4);
	}
}

static const char *owner_str(const struct doc_trace *t, const struct trace_owner *o, char *buf,
			     size_t len)
{
	const char *cg = t->cg ? trace_cg_path(t->cg, o->cgroup) : NULL;
	char cid[65];

	if (cg && trace_cg_container_id(cg, cid, sizeof(cid)))
		snprintf(buf, len, "%.16s, pid %u, container %.12s", o->comm, o->pid, cid);
	else if (cg)
		snprintf(buf, len, "%.16s, pid %u, cgroup %s", o->comm, o->pid, cg);
	else
		snprintf(buf, len, "%.16s, pid %u", o->comm, o->pid);
	return buf;
}

/* Failures with errno err (0 = any): total, rows, and the largest row. */
static uint64_t fails_of(const struct trace_data *d, int err, size_t *rows,
			 const struct trace_fail **top)
{
	uint64_t n = 0;

	*rows = 0;
	*top = NULL;
	for (size_t i = 0; i < d->nfail; i++) {
		if (err && d->fail[i].k.err != err)
			continue;
		n += d->fail[i].count;
		(*rows)++;
		if (!*top) /* sorted: the first is the largest */
			*top = &d->fail[i];
	}
	return n;
}

/* "312 EADDRNOTAVAIL toward 10.0.0.5:80 from nginx, pid 123, cgroup /x (and 5 more ...)" */
static void fail_line(const struct doc_trace *t, const char *prefix, int err, char *buf, size_t len)
{
	const struct trace_fail *top;
	size_t rows;
	uint64_t n = fails_of(&t->d, err, &rows, &top);
	char a[64], e[32], who[256];

	if (!n) {
		snprintf(buf, len, "%s: no connect() failed with %s in %.1f s", prefix,
			 err ? trace_errno_name(err, e, sizeof(e)) : "any error", t->seconds);
		return;
	}
	trace_addr_str(a, sizeof(a), &top->k.dst);
	if (rows == 1)
		snprintf(buf, len, "%s: %llu %s toward %s:%u from %s", prefix,
			 (unsigned long long)top->count, trace_errno_name(top->k.err, e, sizeof(e)),
			 a, top->k.dst.port, owner_str(t, &top->k.o, who, sizeof(who)));
	else
		snprintf(buf, len, "%s: %llu in all; most, %llu %s toward %s:%u from %s", prefix,
			 (unsigned long long)n, (unsigned long long)top->count,
			 trace_errno_name(top->k.err, e, sizeof(e)), a, top->k.dst.port,
			 owner_str(t, &top->k.o, who, sizeof(who)));
}

/* connect() calls toward a group's destination, from the latency table. */
static uint64_t calls_toward(const struct trace_data *d, const uint8_t raddr[16], uint16_t port)
{
	uint8_t b[16];

	for (size_t i = 0; i < d->nlat; i++) {
		addr16(&d->lat[i].k, b);
		if (d->lat[i].k.port == port && memcmp(b, raddr, 16) == 0)
			return d->lat[i].h.count;
	}
	return 0;
}

static uint64_t fails_toward(const struct trace_data *d, int err, const uint8_t raddr[16],
			     uint16_t port)
{
	uint8_t b[16];
	uint64_t n = 0;

	for (size_t i = 0; i < d->nfail; i++) {
		addr16(&d->fail[i].k.dst, b);
		if (d->fail[i].k.err == err && d->fail[i].k.dst.port == port &&
		    memcmp(b, raddr, 16) == 0)
			n += d->fail[i].count;
	}
	return n;
}

static void annotate_ports(struct doc_finding *f, const struct doc_analysis *a,
			   const struct doc_trace *t, const char *prefix)
{
	char line[320], ep[80];

	fail_line(t, prefix, EADDRNOTAVAIL, line, sizeof(line));
	ev_put(f, line);
	/* the fullest outgoing group: doctor says its ports are (nearly) all used */
	for (size_t i = 0; i < a->ngroups; i++) {
		const struct doc_group *g = &a->groups[i];
		uint64_t calls, fails;

		if (g->dir != DOC_OUT || g->in_budget < g->ports_usable || !g->ports_usable)
			continue;
		calls = calls_toward(&t->d, g->raddr, g->port);
		fails = fails_toward(&t->d, EADDRNOTAVAIL, g->raddr, g->port);
		if (calls > 0 && fails == 0) {
			doc_endpoint(g->raddr, g->port, ep, sizeof(ep));
			snprintf(
			    line, sizeof(line),
			    "measurement contradicts this: %llu connect() calls toward %s in "
			    "%.1f s and none failed with EADDRNOTAVAIL (the kernel still found "
			    "ports: reuse of TIME-WAIT, or another source address)",
			    (unsigned long long)calls, ep, t->seconds);
			ev_put(f, line);
		}
		break;
	}
}

static void annotate_server(struct doc_finding *f, const struct doc_trace *t, const char *prefix)
{
	uint64_t accepted = 0, opened = 0;
	const struct trace_close *top = NULL;
	char line[320], who[256];

	for (size_t i = 0; i < t->d.nclose; i++) {
		const struct trace_close *c = &t->d.close[i];

		if (c->k.peer.port) {
			opened += c->count;
		} else {
			accepted += c->count;
			if (!top)
				top = c;
		}
	}
	if (top) {
		snprintf(line, sizeof(line),
			 "%s: %llu active closes of accepted connections (this side closed "
			 "first), most by %s",
			 prefix, (unsigned long long)accepted,
			 owner_str(t, &top->k.o, who, sizeof(who)));
		ev_put(f, line);
	} else if (opened) {
		snprintf(line, sizeof(line),
			 "measurement contradicts this: in %.1f s this host closed first %llu "
			 "connections it opened and none it accepted (the new TIME-WAIT is "
			 "outgoing)",
			 t->seconds, (unsigned long long)opened);
		ev_put(f, line);
	} else {
		snprintf(line, sizeof(line), "%s: no active close in %.1f s", prefix, t->seconds);
		ev_put(f, line);
	}
}

void doc_trace_annotate(struct doc_findings *fs, const struct doc_analysis *a,
			const struct doc_trace *t)
{
	char prefix[64], line[320];
	bool ports_expected = false;
	const struct trace_fail *top;
	size_t rows;

	snprintf(prefix, sizeof(prefix), "measured (trace, %.1f s)", t->seconds);
	for (int i = 0; i < fs->n; i++) {
		struct doc_finding *f = &fs->f[i];

		if (!strcmp(f->id, "port-exhaustion") || !strcmp(f->id, "narrow-port-range")) {
			ports_expected = true;
			annotate_ports(f, a, t, prefix);
		} else if (!strcmp(f->id, "tw-reuse-ineffective")) {
			ports_expected = true;
			fail_line(t, prefix, EADDRNOTAVAIL, line, sizeof(line));
			ev_put(f, line);
		} else if (!strcmp(f->id, "server-time-wait") ||
			   !strcmp(f->id, "lb-quadruplet-budget")) {
			annotate_server(f, t, prefix);
		}
	}
	/* failures no finding expected: the inference "nothing runs out" is contradicted */
	if (fails_of(&t->d, 0, &rows, &top) && (!ports_expected || top->k.err != EADDRNOTAVAIL)) {
		char e[32];
		struct doc_finding *f = doc_finding_add(
		    fs, "connect-failures-measured", DOC_WARNING,
		    "connect() failed %llu times in %.1f s (most: %s), which no inference "
		    "from the sockets predicted",
		    (unsigned long long)fails_of(&t->d, 0, &rows, &top), t->seconds,
		    trace_errno_name(top->k.err, e, sizeof(e)));
		for (size_t i = 0; f && i < t->d.nfail && i < 4; i++) {
			const struct trace_fail *r = &t->d.fail[i];
			char ad[64], who[256];

			doc_finding_ev(f, "%s: %llu %s toward %s:%u from %s", prefix,
				       (unsigned long long)r->count,
				       trace_errno_name(r->k.err, e, sizeof(e)),
				       trace_addr_str(ad, sizeof(ad), &r->k.dst), r->k.dst.port,
				       owner_str(t, &r->k.o, who, sizeof(who)));
		}
		doc_finding_adv(
		    f, "EADDRNOTAVAIL: no local port free toward that destination "
		       "(see port-exhaustion once TIME-WAIT builds up); ECONNREFUSED: no "
		       "listener; ETIMEDOUT: SYNs unanswered (SYN retransmissions in twkit "
		       "trace). twkit trace shows each by process and container.");
		/* keep doctor's order: by severity, critical first, stable */
		for (int i = fs->n - 1; f && i > 0 && fs->f[i - 1].sev < fs->f[i].sev; i--) {
			struct doc_finding tmp = fs->f[i];

			fs->f[i] = fs->f[i - 1];
			fs->f[i - 1] = tmp;
		}
	}
}
