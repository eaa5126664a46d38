/*
 * test_connect_slow — doctor's connect-slow finding on crafted snapshots (doc_fixture.h): a
 * destination group held past the first parity of its range makes each connect() examine
 * more than a thousand ports (model/portsearch.h); below that, or when the TIME-WAITs can be
 * taken over (reuse with timestamps, older than the minimum age), no finding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "doctor/analyse.h"
#include "doctor/findings.h"
#include "kernel/snapshot.h"
#include "model/portsearch.h"

#include "doc_fixture.h"

static void run(struct snapshot *s, struct doc_analysis *a, struct doc_findings *fs)
{
	assert_int_equal(doc_analyse(s, a), 0);
	doc_findings_run(s, a, NULL, fs);
}

/* A 4,000-port range (40000-43999) with `tw` young TIME-WAITs (50 s left) toward one
 * destination, and one established connection with timestamps `ts`. */
static void host(struct snapshot *s, int tw, int reuse, uint32_t left_ms)
{
	base(s);
	s->set.port_lo = 40000;
	s->set.port_hi = 43999;
	s->set.tcp_tw_reuse = reuse;
	add(s, 1, 0, "10.0.0.1", 43999, "192.0.2.1", 80, 0, 2);
	for (int i = 0; i < tw; i++)
		add(s, 6, 1, "10.0.0.1", 40000 + i, "192.0.2.1", 80, left_ms, 2);
}

static void test_full_parity(void **st)
{
	(void)st;
	struct snapshot s;
	struct doc_analysis a;
	static struct doc_findings fs;
	/* 3,000 of 4,000 held: the first parity's 2,000 all held, then 1,001 of the other's
	 * 2,000 are left for 1,000 held: about 2,002 ports a connect */
	host(&s, 2999, 0, 50000);
	run(&s, &a, &fs);
	const struct doc_finding *f = find(&fs, "connect-slow");
	assert_non_null(f);
	assert_int_equal(f->sev, DOC_WARNING);
	assert_non_null(strstr(f->summary, "examines about 2,00"));
	assert_non_null(strstr(f->summary, "192.0.2.1:80"));
	/* the price: 75 us + 2,002 x 170 ns = 415 us */
	assert_non_null(strstr(f->summary, "415us"));
	int keep = 0, app = 0, srv = 0, more = 0;
	for (int i = 0; i < f->nadvice; i++) {
		keep += strstr(f->advice[i], "keep-alive") != NULL;
		app += strstr(f->advice[i], "SO_REUSEADDR") != NULL;
		srv += strstr(f->advice[i], "server close first") != NULL;
		more += strstr(f->advice[i], "More destinations or sources") != NULL;
	}
	assert_true(keep && app && srv && more);
	doc_analysis_fini(&a);
	snapshot_fini(&s);
}

/* strstr behind a call gcc does not look into (its -Wstringop-overread misreads the finding's
 * array here) */
__attribute__((noinline)) static bool has(const char *hay, const char *needle)
{
	return strstr(hay, needle) != NULL;
}

/* The machine's price (bench --calibrate's, given to doctor) replaces the defaults, and the
 * evidence says it was given. */
static void test_given_price(void **st)
{
	(void)st;
	struct snapshot s;
	struct doc_analysis a;
	static struct doc_findings fs; /* large: not on the stack */
	host(&s, 2999, 0, 50000);
	assert_int_equal(doc_analyse(&s, &a), 0);
	doc_analysis_price(&a, 1000, 5000);
	doc_findings_run(&s, &a, NULL, &fs);
	const struct doc_finding *f = find(&fs, "connect-slow");
	if (!f)
		fail_msg("no connect-slow finding");
	/* 5 us + 2,002 x 1 us */
	const char *sum = f->summary;
	if (!has(sum, "about 2ms of kernel CPU"))
		fail_msg("summary: %s", sum);
	int given = 0;
	for (int i = 0; i < f->nevidence; i++) {
		const char *ev = f->evidence[i];
		given += has(ev, "price: 1000 ns a port examined + 5000 ns a connection (given");
	}
	assert_int_equal(given, 1);
	doc_analysis_fini(&a);
	snapshot_fini(&s);
}

static void test_below_parity(void **st)
{
	(void)st;
	struct snapshot s;
	struct doc_analysis a;
	static struct doc_findings fs;
	/* 1,500 of 4,000: the first parity has room, a few ports a connect */
	host(&s, 1499, 0, 50000);
	run(&s, &a, &fs);
	assert_null(find(&fs, "connect-slow"));
	doc_analysis_fini(&a);
	snapshot_fini(&s);
}

static void test_reusable(void **st)
{
	(void)st;
	struct snapshot s;
	struct doc_analysis a;
	static struct doc_findings fs;
	/* the same 3,000 with tcp_tw_reuse=1, timestamps on, 30 s old: taken over at the first
	 * candidate, no search cost */
	host(&s, 2999, 1, 30000);
	run(&s, &a, &fs);
	assert_null(find(&fs, "connect-slow"));
	doc_analysis_fini(&a);
	snapshot_fini(&s);
	/* reuse on but every TIME-WAIT younger than its 1 s: held, slow again */
	host(&s, 2999, 1, 59700);
	run(&s, &a, &fs);
	assert_non_null(find(&fs, "connect-slow"));
	doc_analysis_fini(&a);
	snapshot_fini(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_parity),
		cmocka_unit_test(test_given_price), cmocka_unit_test(test_below_parity),
		cmocka_unit_test(test_reusable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
