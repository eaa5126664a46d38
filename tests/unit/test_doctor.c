/* Unit tests: doctor analysis (groups, budgets, rates, forecast), every finding rule on
 * crafted snapshots, and the JSON / Prometheus renderers against golden files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <sys/socket.h>

#include "doctor/analyse.h"
#include "doctor/findings.h"
#include "doctor/render.h"
#include "kernel/snapshot.h"

#include "doc_fixture.h"

static void run(struct snapshot *s, struct doc_analysis *a, struct doc_findings *fs)
{
	assert_int_equal(doc_analyse(s, a), 0);
	doc_findings_run(s, a, NULL, fs);
}

static void test_grouping_and_direction(void **st)
{
	struct snapshot s;
	struct doc_analysis a;
	static struct doc_findings fs;
	base(&s);
	add(&s, 10, 0, "0.0.0.0", 8080, "0.0.0.0", 0, 0, 0);		  /* listener */
	for (int i = 0; i < 3; i++)
		add(&s, 6, 1, "10.0.0.1", 40000 + i, "192.0.2.1", 80, 50000, 0);
	add(&s, 1, 0, "10.0.0.1", 40010, "192.0.2.1", 80, 0, 2);	  /* estab, ts on */
	add(&s, 6, 1, "10.0.0.1", 40000, "192.0.2.2", 80, 50000, 0);	  /* other dest */
	add(&s, 6, 1, "10.0.0.1", 8080, "198.51.100.7", 50000, 30000, 0); /* incoming */
	add(&s, 5, 1, "10.0.0.1", 40020, "192.0.2.1", 80, 20000, 0);	  /* FIN_WAIT2 substate */
	/* listener gone: local port 443 outside range, remote inside -> incoming */
	add(&s, 6, 1, "10.0.0.1", 443, "198.51.100.9", 33000, 30000, 0);
	run(&s, &a, &fs);
	assert_int_equal(a.time_wait, 6);
	assert_int_equal(a.tw_fin_wait2, 1);
	assert_int_equal(a.tw_in, 2);
	assert_int_equal(a.tw_out, 4);
	assert_int_equal(a.ngroups, 4);
	const struct doc_group *g = &a.groups[0]; /* 5 sockets toward 192.0.2.1:80: busiest */
	assert_int_equal(g->dir, DOC_OUT);
	assert_int_equal(g->port, 80);
	assert_int_equal(g->time_wait, 3);
	assert_int_equal(g->tw_fin_wait2, 1);
	assert_int_equal(g->established, 1);
	assert_int_equal(g->in_budget, 5);
	assert_int_equal(g->peer_timestamps, 1);
	int in = 0;
	for (size_t i = 0; i < a.ngroups; i++)
		in += a.groups[i].dir == DOC_IN;
	assert_int_equal(in, 2);
	doc_analysis_fini(&a);
	snapshot_fini(&s);
}

static void test_rates_and_budget(void **st)
{
	struct snapshot s;
	struct doc_analysis a;
	static struct doc_findings fs;
	base(&s);
	s.set.port_lo = 40000;
	s.set.port_hi = 40999;
	for (int p = 40000; p < 40010; p++)
		tw_portset_add(&s.set.reserved, (uint16_t)p);
	add(&s, 10, 0, "0.0.0.0", 40500, "0.0.0.0", 0, 0, 0); /* listener inside the range */
	for (int i = 0; i < 50; i++) /* 1 s old */
		add(&s, 6, 1, "10.0.0.1", 40100 + i, "192.0.2.1", 80, 59000, 0);
	for (int i = 0; i < 60; i++) /* 30 s old */
		add(&s, 6, 1, "10.0.0.1", 40200 + i, "192.0.2.1", 80, 30000, 0);
	run(&s, &a, &fs);
	assert_int_equal(a.ports_usable_out, 1000 - 10 - 1);
	assert_int_equal(a.reserved_in_range, 10);
	assert_int_equal(a.listeners_in_range, 1);
	const struct doc_group *g = &a.groups[0];
	assert_int_equal(g->tw_10s, 50);
	assert_true(g->tw_rate_10s == 5.0);
	assert_true(g->tw_rate_60s > 3.66 && g->tw_rate_60s < 3.67); /* 110 over the 30 s seen */
	assert_true(g->eta_s < 0); /* 5/s * 60 = 300 < 989: the budget holds */
	assert_non_null(find(&fs, "narrow-port-range"));
	assert_null(find(&fs, "port-exhaustion"));
	doc_analysis_fini(&a);
	snapshot_fini(&s);
}

/* 100 TIME-WAIT per second for the last 10 s toward one destination, range 1000 ports:
 * 1000 in use already -> no port now; the forecast is 0. With 600 created over 6 s at
 * 100/s and a 1000-port budget, about 4 s remain. */
static void test_forecast(void **st)
{
	struct snapshot s;
	struct doc_analysis a;
	static struct doc_findings fs;
	base(&s);
	s.set.port_lo = 40000;
	s.set.port_hi = 40999;
	for (int i = 0; i < 600; i++)
		add(&s, 6, 1, "10.0.0.1", 40000 + i, "192.0.2.1", 80, 60000 - (uint32_t)(i * 10), 0);
	run(&s, &a, &fs);
	const struct doc_group *g = &a.groups[0];
	/* the churn started 5.99 s ago (the oldest TIME-WAIT): 600 over 5.99 s, not over 10 s */
	assert_true(g->tw_rate_10s > 100.1 && g->tw_rate_10s < 100.2);
	/* 400 free ports / 100 per s ~ 4 s, none expire that soon */
	assert_true(g->eta_s > 3.9 && g->eta_s < 4.1);
	const struct doc_finding *f = find(&fs, "port-exhaustion");
	assert_non_null(f);
	assert_int_equal(f->sev, DOC_CRITICAL);
	/* on loopback-free traffic with reuse=2 and unknown peer, reuse is not the first advice */
	assert_null(strstr(f->advice[0], "tcp_tw_reuse=1"));
	int saw_never_recycle = 0;
	for (int i = 0; i < f->nadvice; i++)
		saw_never_recycle += strstr(f->advice[i], "tcp_tw_recycle") != NULL;
	assert_int_equal(saw_never_recycle, 1);
	doc_analysis_fini(&a);
	snapshot_fini(&s);
}

static void test_exhaustion_now_and_reuse_advice(void **st)
{
	struct snapshot s;
	struct doc_analysis a;
	static struct doc_findings fs;
	base(&s);
	s.set.tcp_tw_reuse = 0;
	s.set.port_lo = 40000;
	s.set.port_hi = 40999;
	for (int i = 0; i < 950; i++)
		add(&s, 6, 1, "127.0.0.1", 40000 + i, "127.0.0.1", 8080, 50000, 0);
	run(&s, &a, &fs);
	const struct doc_finding *f = find(&fs, "port-exhaustion");
	assert_non_null(f);
	assert_int_equal(f->sev, DOC_CRITICAL);
	assert_int_equal(fs.f[0].sev, DOC_CRITICAL); /* sorted: critical first */
	/* loopback: the peer is this host, timestamps on -> reuse is the cheapest fix, first */
	assert_non_null(strstr(f->advice[0], "tcp_tw_reuse=1"));
	doc_analysis_fini(&a);
	snapshot_fini(&s);
}

static void test_reuse_ineffective(void **st)
{
	struct snapshot s;
	struct doc_analysis a;
	static struct doc_findings fs;
	base(&s);
	s.set.tcp_tw_reuse = 1;
	for (int i = 0; i < 100; i++)
		add(&s, 6, 1, "10.0.0.1", 40000 + i, "192.0.2.1", 80, 50000, 0);
	add(&s, 1, 0, "10.0.0.1", 41000, "192.0.2.1", 80, 0, 1); /* estab, no timestamps */
	run(&s, &a, &fs);
	const struct doc_finding *f = find(&fs, "tw-reuse-ineffective");
	assert_non_null(f);
	assert_int_equal(f->sev, DOC_WARNING);
	assert_non_null(strstr(f->summary, "timestamps"));
	doc_analysis_fini(&a);
	/* reuse off: nothing was promised, nothing to report */
	s.set.tcp_tw_reuse = 0;
	run(&s, &a, &fs);
	assert_null(find(&fs, "tw-reuse-ineffective"));
	doc_analysis_fini(&a);
	/* default reuse=2, non-loopback, no pressure: info only */
	s.set.tcp_tw_reuse = 2;
	s.nsocks--; /* drop the established one: peer unknown, but loopback-only applies */
	run(&s, &a, &fs);
	f = find(&fs, "tw-reuse-ineffective");
	assert_non_null(f);
	assert_int_equal(f->sev, DOC_INFO);
	doc_analysis_fini(&a);
	/* local timestamps off */
	s.set.tcp_tw_reuse = 1;
	s.set.tcp_timestamps = 0;
	run(&s, &a, &fs);
	f = find(&fs, "tw-reuse-ineffective");
	assert_non_null(f);
	assert_non_null(strstr(f->summary, "tcp_timestamps=0"));
	doc_analysis_fini(&a);
	snapshot_fini(&s);
}

static void test_recycle(void **st)
{
	struct snapshot s;
	struct doc_analysis a;
	static struct doc_findings fs;
	base(&s);
	snprintf(s.release, sizeof(s.release), "3.10.0-1160.el7.x86_64");
	s.set.tcp_tw_recycle = 1;
	kcounters_set(&s.counters, "TcpExt.PAWSPassive", 5);
	run(&s, &a, &fs);
	assert_string_equal(a.prof->name, "3.10");
	const struct doc_finding *f = find(&fs, "tw-recycle-enabled");
	assert_non_null(f);
	assert_int_equal(f->sev, DOC_CRITICAL);
	doc_analysis_fini(&a);
	kcounters_set(&s.counters, "TcpExt.PAWSPassive", 0);
	run(&s, &a, &fs);
	assert_int_equal(find(&fs, "tw-recycle-enabled")->sev, DOC_WARNING);
	doc_analysis_fini(&a);
	s.set.tcp_tw_recycle = 0;
	run(&s, &a, &fs);
	assert_null(find(&fs, "tw-recycle-enabled"));
	doc_analysis_fini(&a);
	snapshot_fini(&s);
}

static void test_buckets(void **st)
{
	struct snapshot s;
	struct doc_analysis a;
	static struct doc_findings fs;
	struct doc_prev prev = { .have = true, .tw_overflow = 10 };
	base(&s);
	kcounters_set(&s.counters, "TcpExt.TCPTimeWaitOverflow", 10);
	run(&s, &a, &fs);
	assert_int_equal(find(&fs, "tw-bucket-overflow")->sev, DOC_WARNING);
	doc_analysis_fini(&a);
	kcounters_set(&s.counters, "TcpExt.TCPTimeWaitOverflow", 25);
	assert_int_equal(doc_analyse(&s, &a), 0);
	doc_findings_run(&s, &a, &prev, &fs);
	/* rising: still a warning (protection lost, no connection fails: lab bucket-overflow) */
	assert_int_equal(find(&fs, "tw-bucket-overflow")->sev, DOC_WARNING);
	assert_non_null(strstr(find(&fs, "tw-bucket-overflow")->summary, "rising"));
	doc_analysis_fini(&a);
	/* no overflow yet, but at the limit */
	kcounters_set(&s.counters, "TcpExt.TCPTimeWaitOverflow", 0);
	s.set.tcp_max_tw_buckets = 100;
	for (int i = 0; i < 95; i++)
		add(&s, 6, 1, "10.0.0.1", 40000 + i, "192.0.2.1", 80, 50000, 0);
	run(&s, &a, &fs);
	assert_int_equal(find(&fs, "tw-bucket-overflow")->sev, DOC_WARNING);
	doc_analysis_fini(&a);
	snapshot_fini(&s);
}

static void test_fd_limit(void **st)
{
	struct snapshot s;
	struct doc_analysis a;
	static struct doc_findings fs;
	base(&s);
	run(&s, &a, &fs);
	assert_null(find(&fs, "fd-limit"));
	doc_analysis_fini(&a);
	for (int i = 0; i < 900; i++) /* uid 1000 holds 900 established of a 1024 limit */
		add(&s, 1, 0, "10.0.0.1", 40000 + i, "192.0.2.1", 80, 0, 2);
	run(&s, &a, &fs);
	assert_int_equal(find(&fs, "fd-limit")->sev, DOC_WARNING);
	doc_analysis_fini(&a);
	s.set.file_nr = 950000;
	run(&s, &a, &fs);
	assert_int_equal(find(&fs, "fd-limit")->sev, DOC_CRITICAL);
	doc_analysis_fini(&a);
	snapshot_fini(&s);
}

static void test_server_and_lb(void **st)
{
	struct snapshot s;
	struct doc_analysis a;
	static struct doc_findings fs;
	base(&s);
	add(&s, 10, 0, "0.0.0.0", 80, "0.0.0.0", 0, 0, 0);
	for (int i = 0; i < 200; i++) /* many clients, server closed first */
		add(&s, 6, 1, "10.0.0.1", 80, "203.0.113.5", 33000 + i, 40000, 0);
	run(&s, &a, &fs);
	const struct doc_finding *f = find(&fs, "server-time-wait");
	assert_non_null(f);
	assert_int_equal(f->sev, DOC_INFO);
	assert_non_null(strstr(f->summary, "harmless"));
	assert_null(find(&fs, "port-exhaustion"));
	assert_null(find(&fs, "lb-quadruplet-budget"));
	doc_analysis_fini(&a);
	/* one balancer address holds 27,000 of the ~28,232 quadruplets a default client range
	 * has toward :80: its SYNs reopen them (§5.1), so no ceiling and no failure ahead */
	for (int i = 200; i < 27000; i++)
		add(&s, 6, 1, "10.0.0.1", 80, "203.0.113.5", 33000 + i, 40000, 0);
	run(&s, &a, &fs);
	f = find(&fs, "lb-quadruplet-budget");
	assert_non_null(f);
	assert_int_equal(f->sev, DOC_INFO);
	assert_non_null(strstr(f->summary, "no ceiling"));
	assert_null(strstr(f->summary, "fail"));
	assert_true(f->eta_s < 0);
	assert_int_equal(a.groups[0].dir, DOC_IN);
	doc_analysis_fini(&a);
	/* without timestamps and no second sample: still info, no evidence of cost */
	s.set.tcp_timestamps = 0;
	run(&s, &a, &fs);
	assert_int_equal(find(&fs, "lb-quadruplet-budget")->sev, DOC_INFO);
	doc_analysis_fini(&a);
	/* a previous sample with fewer SYN retransmissions: a warning that says what happens */
	static struct doc_prev prev;
	kcounters_set(&s.counters, "TcpExt.TCPSynRetrans", 10);
	assert_int_equal(doc_analyse(&s, &a), 0);
	doc_prev_take(&prev, &s);
	kcounters_set(&s.counters, "TcpExt.TCPSynRetrans", 25);
	doc_findings_run(&s, &a, &prev, &fs);
	f = find(&fs, "lb-quadruplet-budget");
	assert_int_equal(f->sev, DOC_WARNING);
	assert_non_null(strstr(f->summary, "wait about 1 s"));
	assert_null(strstr(f->summary, "fail"));
	int saw = 0;
	for (int i = 0; i < f->nevidence; i++)
		saw += strstr(f->evidence[i], "TcpExt.TCPSynRetrans +15") != NULL;
	assert_int_equal(saw, 1);
	doc_analysis_fini(&a);
	/* the same rise with the accept queue dropping SYNs meanwhile: not TIME-WAIT's */
	kcounters_set(&s.counters, "TcpExt.ListenDrops", 5);
	assert_int_equal(doc_analyse(&s, &a), 0);
	kcounters_set(&s.counters, "TcpExt.TCPSynRetrans", 10);
	doc_prev_take(&prev, &s);
	kcounters_set(&s.counters, "TcpExt.TCPSynRetrans", 25);
	kcounters_set(&s.counters, "TcpExt.ListenDrops", 9);
	doc_findings_run(&s, &a, &prev, &fs);
	f = find(&fs, "lb-quadruplet-budget");
	assert_int_equal(f->sev, DOC_INFO);
	saw = 0;
	for (int i = 0; i < f->nevidence; i++)
		saw += strstr(f->evidence[i], "ListenDrops rose by 4") != NULL;
	assert_int_equal(saw, 1);
	doc_analysis_fini(&a);
	kcounters_set(&s.counters, "TcpExt.ListenDrops", 0);
		/* with timestamps on, the same rise is not this TIME-WAIT's cost: info */
	s.set.tcp_timestamps = 1;
	add(&s, 1, 0, "10.0.0.1", 80, "203.0.113.5", 60000, 0, 2); /* estab, ts on */
	assert_int_equal(doc_analyse(&s, &a), 0);
	doc_findings_run(&s, &a, &prev, &fs);
	assert_int_equal(find(&fs, "lb-quadruplet-budget")->sev, DOC_INFO);
	doc_analysis_fini(&a);
	snapshot_fini(&s);
}

/* Timestamp evidence is pooled per remote IP; many remotes stay cheap (no quadratic pass). */
static void test_peer_ts_pooled(void **st)
{
	struct snapshot s;
	struct doc_analysis a;
	static struct doc_findings fs;
	char ip[32];
	base(&s);
	add(&s, 1, 0, "10.0.0.1", 40000, "192.0.2.1", 80, 0, 2); /* estab :80, ts on */
	add(&s, 6, 1, "10.0.0.1", 40001, "192.0.2.1", 443, 50000, 0);
	for (int i = 0; i < 60000; i++) { /* 60,000 remotes, one TIME-WAIT each */
		snprintf(ip, sizeof(ip), "198.51.%d.%d", i / 250, i % 250);
		add(&s, 6, 1, "10.0.0.1", 40002, ip, 80, 50000, 0);
	}
	run(&s, &a, &fs);
	assert_int_equal(a.ngroups, 60002);
	int found = 0;
	for (size_t i = 0; i < a.ngroups; i++) {
		const struct doc_group *g = &a.groups[i];
		char r[64];
		doc_endpoint(g->raddr, g->port, r, sizeof(r));
		if (!strcmp(r, "192.0.2.1:443")) {
			assert_int_equal(g->peer_timestamps, 1);
			found++;
		} else if (strncmp(r, "198.51.", 7) == 0) {
			assert_int_equal(g->peer_timestamps, -1);
		}
	}
	assert_int_equal(found, 1);
	doc_analysis_fini(&a);
	snapshot_fini(&s);
}

/* Golden renderers: a fixed snapshot renders byte-for-byte as tests/data/doctor.{json,prom}. */
static char *render(int kind, const struct snapshot *s)
{
	struct doc_analysis a;
	static struct doc_findings fs;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct doc_render_opts o = { .top = 5, .version = "0.0.0-test", .scrape_seconds = 0.25 };
	assert_int_equal(doc_analyse(s, &a), 0);
	doc_findings_run(s, &a, NULL, &fs);
	if (kind == 0)
		doc_render_json(f, s, &a, &fs, &o);
	else
		doc_render_prom(f, s, &a, &fs, &o);
	fclose(f);
	doc_analysis_fini(&a);
	return buf;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	char *b;
	long n;
	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	b = calloc(1, (size_t)n + 1);
	if (fread(b, 1, (size_t)n, f) != (size_t)n) {
		free(b);
		b = NULL;
	}
	fclose(f);
	return b;
}

static void golden(const char *name, const char *got)
{
	char path[512];
	const char *top = getenv("TWKIT_TOP");
	snprintf(path, sizeof(path), "%s/tests/data/%s", top ? top : ".", name);
	if (getenv("TWKIT_UPDATE_GOLDEN")) {
		FILE *f = fopen(path, "wb");
		fputs(got, f);
		fclose(f);
	}
	char *want = slurp(path);
	assert_non_null(want);
	assert_string_equal(got, want);
	free(want);
}

static void test_golden_renderers(void **st)
{
	struct snapshot s;
	base(&s);
	s.set.tcp_tw_reuse = 1;
	s.set.port_lo = 40000;
	s.set.port_hi = 40999;
	kcounters_set(&s.counters, "TcpExt.TW", 123456);
	kcounters_set(&s.counters, "TcpExt.TCPTimeWaitOverflow", 0);
	kcounters_set(&s.counters, "Tcp.ActiveOpens", 999999);
	snapshot_note_missing(&s, "/proc/slabinfo", "Permission denied");
	add(&s, 10, 0, "0.0.0.0", 80, "0.0.0.0", 0, 0, 0);
	for (int i = 0; i < 700; i++)
		add(&s, 6, 1, "10.0.0.1", 40000 + i, "192.0.2.1", 443, 60000 - (uint32_t)i * 50, 0);
	add(&s, 1, 0, "10.0.0.1", 40900, "192.0.2.1", 443, 0, 1);
	for (int i = 0; i < 60; i++)
		add(&s, 6, 1, "10.0.0.1", 80, "203.0.113.9", 50000 + i, 20000, 0);
	char *j = render(0, &s), *p = render(1, &s);
	golden("doctor.json", j);
	golden("doctor.prom", p);
	free(j);
	free(p);
	snapshot_fini(&s);
}

static int count_of(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
		n++;
	return n;
}

/* Several sources in one exposition (one per network namespace, say): each family's HELP and
 * TYPE once, its samples for every source in turn, each with the source's labels first
 * (escaped); the process-wide families once, unlabelled. */
static void test_prom_sources_labels(void **st)
{
	struct snapshot s1, s2;
	struct doc_analysis a1, a2;
	struct doc_findings f1, f2;
	const struct prom_label l1[] = { { "netns", "web" } };
	const struct prom_label l2[] = { { "netns", "a\"b\\c\nd" }, { "pod", "p" } };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct doc_render_opts o = { .top = 5, .version = "v", .scrape_seconds = 0.5 };
	(void)st;
	base(&s1);
	base(&s2);
	for (int i = 0; i < 30; i++)
		add(&s1, 6, 1, "10.0.0.1", 40000 + i, "192.0.2.1", 443, 50000, 0);
	for (int i = 0; i < 20; i++)
		add(&s2, 6, 1, "10.0.0.2", 40000 + i, "192.0.2.2", 80, 50000, 0);
	assert_int_equal(doc_analyse(&s1, &a1), 0);
	assert_int_equal(doc_analyse(&s2, &a2), 0);
	doc_findings_run(&s1, &a1, NULL, &f1);
	doc_findings_run(&s2, &a2, NULL, &f2);
	const struct doc_prom_source src[] = {
		{ .labels = l1, .nlabels = 1, .s = &s1, .a = &a1, .fs = &f1 },
		{ .labels = l2, .nlabels = 2, .s = &s2, .a = &a2, .fs = &f2 },
	};
	doc_render_prom_sources(f, src, 2, &o);
	fclose(f);
	assert_int_equal(count_of(buf, "# TYPE twkit_group_time_wait_sockets gauge\n"), 1);
	assert_int_equal(count_of(buf, "# TYPE twkit_tcp_sockets gauge\n"), 1);
	assert_int_equal(count_of(buf, "# TYPE twkit_build_info gauge\n"), 1);
	assert_int_equal(count_of(buf, "\ntwkit_build_info{version=\"v\"} 1\n"), 1);
	assert_int_equal(count_of(buf, "\ntwkit_scrape_duration_seconds 0.500000\n"), 1);
	assert_non_null(strstr(buf, "twkit_group_time_wait_sockets{netns=\"web\",direction=\"outgoing\","
				    "local_ip=\"10.0.0.1\",remote_ip=\"192.0.2.1\",remote_port=\"443\"} 30\n"));
	assert_non_null(strstr(buf, "twkit_group_time_wait_sockets{netns=\"a\\\"b\\\\c\\nd\",pod=\"p\","
				    "direction=\"outgoing\",local_ip=\"10.0.0.2\",remote_ip=\"192.0.2.2\","
				    "remote_port=\"80\"} 20\n"));
	assert_non_null(strstr(buf, "twkit_time_wait_sockets{netns=\"web\",direction=\"outgoing\"} 30\n"));
	/* the samples of a family stay together: the second source's right after the first's */
	const char *w = strstr(buf, "twkit_time_wait_sockets{netns=\"web\",direction=\"incoming\"}");
	assert_non_null(w);
	w = strchr(w, '\n') + 1;
	static const char next[] = "twkit_time_wait_sockets{netns=\"a";
	assert_true(!strncmp(w, next, sizeof(next) - 1));
	/* a family without labels of its own gets the source's */
	assert_non_null(strstr(buf, "\ntwkit_time_wait_memory_bytes{netns=\"web\"} "));
	free(buf);
	doc_analysis_fini(&a1);
	doc_analysis_fini(&a2);
	snapshot_fini(&s1);
	snapshot_fini(&s2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grouping_and_direction),
		cmocka_unit_test(test_rates_and_budget),
		cmocka_unit_test(test_forecast),
		cmocka_unit_test(test_exhaustion_now_and_reuse_advice),
		cmocka_unit_test(test_reuse_ineffective),
		cmocka_unit_test(test_recycle),
		cmocka_unit_test(test_buckets),
		cmocka_unit_test(test_fd_limit),
		cmocka_unit_test(test_server_and_lb),
		cmocka_unit_test(test_peer_ts_pooled),
		cmocka_unit_test(test_golden_renderers),
		cmocka_unit_test(test_prom_sources_labels),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
