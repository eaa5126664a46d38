/* Unit tests: doctor --trace's annotation of findings with what trace measured (pure part). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>

#include "doctor/doctor_trace.h"

static bool has_ev(const struct doc_finding *f, const char *needle)
{
	for (int i = 0; i < f->nevidence; i++)
		if (strstr(f->evidence[i], needle))
			return true;
	return false;
}

static const struct doc_finding *find(const struct doc_findings *fs, const char *id)
{
	for (int i = 0; i < fs->n; i++)
		if (!strcmp(fs->f[i].id, id))
			return &fs->f[i];
	return NULL;
}

/* 10.0.0.5:80 in trace's and doctor's forms */
static void dst(struct trace_addr *a)
{
	memset(a, 0, sizeof(*a));
	a->family = 2;
	memcpy(a->addr, (unsigned char[]){ 10, 0, 0, 5 }, 4);
	a->port = 80;
}

static void setup_group(struct doc_analysis *a, struct doc_group *g)
{
	memset(a, 0, sizeof(*a));
	memset(g, 0, sizeof(*g));
	g->dir = DOC_OUT;
	g->raddr[10] = g->raddr[11] = 0xff;
	memcpy(g->raddr + 12, (unsigned char[]){ 10, 0, 0, 5 }, 4);
	g->port = 80;
	g->in_budget = g->ports_usable = 50;
	a->groups = g;
	a->ngroups = 1;
}

static void test_port_exhaustion_measured(void **st)
{
	struct doc_findings fs = { 0 };
	struct doc_analysis a;
	struct doc_group g;
	struct doc_trace t = { .seconds = 2 };

	setup_group(&a, &g);
	assert_int_equal(trace_data_init(&t.d), 0);
	dst(&t.d.fail[0].k.dst);
	t.d.fail[0].k.err = EADDRNOTAVAIL;
	t.d.fail[0].k.o.pid = 123;
	strcpy(t.d.fail[0].k.o.comm, "nginx");
	t.d.fail[0].count = 312;
	t.d.nfail = 1;
	dst(&t.d.lat[0].k);
	hist_init(&t.d.lat[0].h);
	hist_record_n(&t.d.lat[0].h, 1000, 400);
	t.d.nlat = 1;
	doc_finding_add(&fs, "port-exhaustion", DOC_CRITICAL, "x");
	doc_trace_annotate(&fs, &a, &t);
	assert_true(has_ev(find(&fs, "port-exhaustion"),
			   "measured (trace, 2.0 s): 312 EADDRNOTAVAIL toward 10.0.0.5:80 from "
			   "nginx, pid 123"));
	assert_false(has_ev(find(&fs, "port-exhaustion"), "contradicts"));
	assert_int_equal(fs.n, 1); /* expected failures: no extra finding */

	/* the same inference, but 400 connects succeeded: the measurement contradicts it */
	memset(&fs, 0, sizeof(fs));
	t.d.nfail = 0;
	doc_finding_add(&fs, "port-exhaustion", DOC_CRITICAL, "x");
	doc_trace_annotate(&fs, &a, &t);
	assert_true(has_ev(find(&fs, "port-exhaustion"), "no connect() failed with EADDRNOTAVAIL"));
	assert_true(has_ev(find(&fs, "port-exhaustion"),
			   "measurement contradicts this: 400 connect() calls toward 10.0.0.5:80"));
	trace_data_fini(&t.d);
}

static void test_server_contradicted(void **st)
{
	struct doc_findings fs = { 0 };
	struct doc_analysis a;
	struct doc_group g;
	struct doc_trace t = { .seconds = 1 };
	struct doc_finding *f;

	setup_group(&a, &g);
	assert_int_equal(trace_data_init(&t.d), 0);
	f = doc_finding_add(&fs, "server-time-wait", DOC_INFO, "x");
	for (int i = 0; i < DOC_MAX_EVIDENCE; i++)
		doc_finding_ev(f, "line %d", i); /* a full list still takes the measured line */
	dst(&t.d.close[0].k.peer); /* port 80: a connection this host opened */
	t.d.close[0].count = 9;
	t.d.nclose = 1;
	doc_trace_annotate(&fs, &a, &t);
	assert_int_equal(f->nevidence, DOC_MAX_EVIDENCE);
	assert_true(has_ev(f, "measurement contradicts this: in 1.0 s this host closed first 9"));
	/* and when it did close accepted ones, that is what it says */
	memset(&fs, 0, sizeof(fs));
	f = doc_finding_add(&fs, "server-time-wait", DOC_INFO, "x");
	t.d.close[0].k.peer.port = 0;
	doc_trace_annotate(&fs, &a, &t);
	assert_true(has_ev(f, "9 active closes of accepted connections"));
	trace_data_fini(&t.d);
}

static void test_unexpected_failures(void **st)
{
	struct doc_findings fs = { 0 };
	struct doc_analysis a;
	struct doc_group g;
	struct doc_trace t = { .seconds = 1 };

	setup_group(&a, &g);
	assert_int_equal(trace_data_init(&t.d), 0);
	doc_finding_add(&fs, "server-time-wait", DOC_INFO, "x");
	dst(&t.d.fail[0].k.dst);
	t.d.fail[0].k.err = ECONNREFUSED;
	t.d.fail[0].count = 5;
	t.d.nfail = 1;
	doc_trace_annotate(&fs, &a, &t);
	assert_int_equal(fs.n, 2);
	/* a warning: sorted before the info finding */
	assert_string_equal(fs.f[0].id, "connect-failures-measured");
	assert_true(has_ev(&fs.f[0], "5 ECONNREFUSED toward 10.0.0.5:80"));
	trace_data_fini(&t.d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_port_exhaustion_measured),
		cmocka_unit_test(test_server_contradicted),
		cmocka_unit_test(test_unexpected_failures),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
