/*
 * test_lab_doctor — lab --doctor's pure part: reading doctor's JSON, and each check against
 * hand-made measurements, including the disagreements that make lab exit 1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lab/lab_doctor.h"

static const char *doc_json(const char *findings)
{
	static char buf[2048];
	snprintf(buf, sizeof(buf), "{\"schema\": \"twkit.doctor/1\", \"findings\": [%s]}",
		 findings);
	return buf;
}

static void test_parse(void **st)
{
	struct lab_doc_sample s;
	const char *j = doc_json("{\"id\": \"port-exhaustion\", \"severity\": \"critical\", "
				 "\"eta_s\": 2.5}, {\"id\": \"server-time-wait\", "
				 "\"severity\": \"info\", \"eta_s\": null}");
	assert_int_equal(lab_doc_parse(j, strlen(j), &s), 0);
	assert_true(s.have);
	assert_int_equal(s.nfind, 2);
	assert_string_equal(s.f[0].id, "port-exhaustion");
	assert_int_equal(s.f[0].sev, 2);
	assert_true(s.f[0].eta_s == 2.5);
	assert_true(s.f[1].eta_s < 0);
	assert_int_equal(lab_doc_parse("{\"schema\": \"twkit.sim/1\"}", 24, &s), -EPROTO);
	assert_false(s.have);
	assert_int_equal(lab_doc_parse("{not json", 9, &s), -EPROTO);
	assert_non_null(strstr(s.error, "line 1"));
	j = doc_json("{\"severity\": \"info\"}");
	assert_int_equal(lab_doc_parse(j, strlen(j), &s), -EPROTO);
	(void)st;
}

static void setup_doc(struct lab_doctor *d, const char *half, const char *end)
{
	const char *j;
	memset(d, 0, sizeof(*d));
	d->nhosts = 1;
	d->end_s = 30.0; /* past every forecast below unless a test says otherwise */
	strcpy(d->host[0], "client");
	j = doc_json(half);
	assert_int_equal(lab_doc_parse(j, strlen(j), &d->s[0][0]), 0);
	d->s[0][0].at_s = 8.0;
	j = doc_json(end);
	assert_int_equal(lab_doc_parse(j, strlen(j), &d->s[0][1]), 0);
	d->s[0][1].at_s = 16.0;
}

static void test_checks(void **st)
{
	static struct lab_doctor d;
	struct lab_doc_measured m = { .connect_failed = 600, .eaddrnotavail = 600,
				      .first_eaddrnotavail_s = 10.0 };
	const char *pe = "{\"id\": \"port-exhaustion\", \"severity\": \"critical\", \"eta_s\": 2.1}";

	/* named at half time, eta 2.1 s against 2.0 s measured: agrees */
	setup_doc(&d, pe, pe);
	lab_doc_check_all(&d, &m);
	assert_true(d.all_agree);
	assert_int_equal(d.nchecks, 2);
	assert_string_equal(d.c[1].metric, "eta_s");
	/* eta 3.0 s against 2.0 s: outside ±25% */
	setup_doc(&d, "{\"id\": \"port-exhaustion\", \"severity\": \"warning\", \"eta_s\": 3.0}", pe);
	lab_doc_check_all(&d, &m);
	assert_false(d.all_agree);
	assert_true(d.c[0].agrees);
	assert_false(d.c[1].agrees);
	/* failures, but the half-time sample named no cause (only the end did): disagrees */
	setup_doc(&d, "{\"id\": \"server-time-wait\", \"severity\": \"info\"}", pe);
	lab_doc_check_all(&d, &m);
	assert_false(d.all_agree);
	assert_false(d.c[0].agrees);
	/* an info finding does not count as naming the cause */
	setup_doc(&d, "{\"id\": \"port-exhaustion\", \"severity\": \"info\"}", pe);
	lab_doc_check_all(&d, &m);
	assert_false(d.all_agree);
	/* no failure: a critical finding is a false alarm */
	struct lab_doc_measured ok = { .first_eaddrnotavail_s = -1 };
	setup_doc(&d, "", pe);
	lab_doc_check_all(&d, &ok);
	assert_false(d.all_agree);
	assert_string_equal(d.c[0].metric, "no critical");
	/* a critical forecast whose failure falls after the run (8 + 32 s > 16 s) is no false
	 * alarm: the lab stopped first; one inside the run is */
	setup_doc(&d, "{\"id\": \"port-exhaustion\", \"severity\": \"critical\", \"eta_s\": 32}",
		  "");
	d.end_s = 16.0;
	lab_doc_check_all(&d, &ok);
	assert_true(d.all_agree);
	assert_non_null(strstr(d.c[0].doctor, "after the run"));
	d.end_s = 60.0;
	lab_doc_check_all(&d, &ok);
	assert_false(d.all_agree);
		setup_doc(&d, "{\"id\": \"narrow-port-range\", \"severity\": \"warning\"}", "");
	lab_doc_check_all(&d, &ok);
	assert_true(d.all_agree);
	/* a missing sample is no proof */
	d.s[0][1].have = false;
	lab_doc_check_all(&d, &ok);
	assert_false(d.all_agree);
	(void)st;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_checks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
