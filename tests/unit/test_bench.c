/*
 * test_bench — bench's pure parts (wire formats on truncated and garbage input, options,
 * the budget rule of model/budget) and, on loopback, the no-fd-leak promise: a run with
 * failures (connection refused) and a self-hosted run leave /proc/self/fd as they found it,
 * with attempted = completed + failed + in flight.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench/bench.h"
#include "bench/bench_proto.h"
#include "model/budget.h"

#include "bench_fixture.h"

static void test_raw_hdr(void **state)
{
	uint8_t h[BENCH_RAW_HDR];
	uint32_t rq, rs, fl;
	(void)state;
	bench_raw_hdr_encode(h, 100, 2000, BENCH_RAW_F_CLOSE);
	assert_int_equal(bench_raw_hdr_decode(h, &rq, &rs, &fl), 0);
	assert_int_equal(rq, 100);
	assert_int_equal(rs, 2000);
	assert_int_equal(fl, BENCH_RAW_F_CLOSE);
	h[0] = 'X';
	assert_int_equal(bench_raw_hdr_decode(h, &rq, &rs, &fl), -EPROTO);
	bench_raw_hdr_encode(h, 8, 10, 0); /* shorter than its own header */
	assert_int_equal(bench_raw_hdr_decode(h, &rq, &rs, &fl), -EPROTO);
	bench_raw_hdr_encode(h, 16, BENCH_RAW_MAX + 1, 0);
	assert_int_equal(bench_raw_hdr_decode(h, &rq, &rs, &fl), -EPROTO);
	bench_raw_hdr_encode(h, 16, 16, 0x80);
	assert_int_equal(bench_raw_hdr_decode(h, &rq, &rs, &fl), -EPROTO);
}

static void test_http_req(void **state)
{
	char b[512];
	struct bench_http_req r;
	int n;
	(void)state;
	n = bench_http_req_build(b, sizeof(b), "/x", "127.0.0.1:80", true, true);
	assert_true(n > 0);
	assert_int_equal(bench_http_req_parse(b, (size_t)n, &r), 0);
	assert_int_equal(r.hdr_len, (size_t)n);
	assert_true(r.close);
	assert_true(r.linger0);
	/* every truncation is "need more", never garbage, never complete */
	for (int k = 0; k < n; k++)
		assert_int_equal(bench_http_req_parse(b, (size_t)k, &r), -EAGAIN);
	n = bench_http_req_build(b, sizeof(b), "/", "h", false, false);
	assert_int_equal(bench_http_req_parse(b, (size_t)n, &r), 0);
	assert_false(r.close);
	assert_int_equal(bench_http_req_build(b, 10, "/", "h", false, false), -ENOSPC);
	const char *bad[] = { "\x16\x03\x01garbage\r\n\r\n", "GET /\r\n\r\n",
			      "GET / HTTP/1.1\r\nno colon\r\n\r\n",
			      "GET / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n",
			      "GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(bench_http_req_parse(bad[i], strlen(bad[i]), &r), -EPROTO);
	const char *h10 = "GET / HTTP/1.0\r\n\r\n";
	assert_int_equal(bench_http_req_parse(h10, strlen(h10), &r), 0);
	assert_true(r.close);
	/* random bytes: never a crash, never past len (ASan build checks the reads) */
	srand(4);
	for (int it = 0; it < 2000; it++) {
		size_t len = (size_t)(rand() % 64);
		char *g = malloc(len ? len : 1);
		for (size_t i = 0; i < len; i++)
			g[i] = "GET /HTP1.\r\n: ab"[rand() % 16];
		int rc = bench_http_req_parse(g, len, &r);
		assert_true(rc == 0 || rc == -EAGAIN || rc == -EPROTO);
		struct bench_http_resp rr;
		rc = bench_http_resp_parse(g, len, &rr);
		assert_true(rc == 0 || rc == -EAGAIN || rc == -EPROTO);
		free(g);
	}
}

static void test_http_resp(void **state)
{
	char b[256];
	struct bench_http_resp r;
	int n = bench_http_resp_head(b, sizeof(b), 1234, true);
	(void)state;
	assert_true(n > 0);
	assert_int_equal(bench_http_resp_parse(b, (size_t)n, &r), 0);
	assert_int_equal(r.status, 200);
	assert_true(r.has_len);
	assert_int_equal(r.body_len, 1234);
	assert_true(r.close);
	for (int k = 0; k < n; k++)
		assert_int_equal(bench_http_resp_parse(b, (size_t)k, &r), -EAGAIN);
	const char *nolen = "HTTP/1.1 404 Not Found\r\nServer: x\r\n\r\n";
	assert_int_equal(bench_http_resp_parse(nolen, strlen(nolen), &r), 0);
	assert_int_equal(r.status, 404);
	assert_false(r.has_len);
	assert_int_equal(bench_http_resp_parse("SSH-2.0", 7, &r), -EPROTO);
}

static void test_cfg(void **state)
{
	struct bench_cfg c;
	char err[256];
	(void)state;
	assert_int_equal(parse("bench run --target 10.0.0.1:80-83 --source 10.0.0.1-10.0.0.4 "
			       "--linger0 both --rate 2k/s --close server",
			       &c, err),
			 0);
	assert_int_equal(c.mode, BENCH_MODE_RUN);
	assert_int_equal(c.target.lo, 80);
	assert_int_equal(c.target.hi, 83);
	assert_int_equal(c.nsources, 4);
	assert_int_equal(c.linger0, BENCH_LINGER_CLIENT | BENCH_LINGER_SERVER);
	assert_true(c.rate == 2000);
	assert_int_equal(c.duration_ns, 10LL * 1000000000LL); /* bounded by default */
	assert_int_equal(parse("bench", &c, err), 0);
	assert_int_equal(c.mode, BENCH_MODE_SELF);
	assert_int_equal(parse("bench run", &c, err), -EINVAL);
	assert_non_null(strstr(err, "--target"));
	assert_int_equal(parse("bench --close both", &c, err), -EINVAL);
	assert_non_null(strstr(err, "--close"));
	assert_int_equal(parse("bench --proto raw --request 8", &c, err), -EINVAL);
	assert_int_equal(parse("bench --target 1.2.3.4:0", &c, err), -EINVAL);
	assert_int_equal(parse("bench --target nohost:80", &c, err), -EINVAL);
	assert_int_equal(parse("bench --rate -5", &c, err), -EINVAL);
	assert_int_equal(parse("bench serve --target 127.0.0.1:80", &c, err), -EINVAL);
	assert_int_equal(parse("bench --source ::1 --target 127.0.0.1:80", &c, err), -EINVAL);
	assert_int_equal(parse("bench fly", &c, err), -EINVAL);
	assert_int_equal(parse("bench run --target [::1]:8080", &c, err), 0);
	assert_int_equal(c.target.addr.ss_family, AF_INET6);
	/* the server's deadlines and bounds: defaults, and the self-hosted server takes its own
	 * client's requests unless told otherwise */
	assert_int_equal(parse("bench serve", &c, err), 0);
	assert_int_equal(c.request_timeout_ns, 5LL * 1000000000LL);
	assert_int_equal(c.max_request, 1u << 20);
	assert_int_equal(c.max_conns, 20000);
	assert_int_equal(parse("bench --request 4MiB", &c, err), 0);
	assert_int_equal(c.max_request, 4u << 20);
	assert_int_equal(parse("bench --request 4MiB --max-request 64KiB", &c, err), 0);
	assert_int_equal(c.max_request, 64u << 10);
	assert_int_equal(parse("bench serve --request-timeout 250ms --max-request 2k", &c, err), 0);
	assert_int_equal(c.request_timeout_ns, 250LL * 1000000LL);
	assert_int_equal(c.max_request, 2048);
	assert_int_equal(parse("bench serve --request-timeout 0s", &c, err), -EINVAL);
	assert_non_null(strstr(err, "--request-timeout"));
	assert_int_equal(parse("bench serve --max-request 8", &c, err), -EINVAL);
	assert_int_equal(parse("bench serve --max-request 65MiB", &c, err), -EINVAL);
	assert_non_null(strstr(err, "--max-request"));
	assert_int_equal(parse("bench serve --max-conns 0", &c, err), -EINVAL);
	/* the typed table: defaults, durations as people write them, choices with values */
	assert_int_equal(parse("bench", &c, err), 0);
	assert_int_equal(c.request, 64);
	assert_int_equal(c.threads, 1);
	assert_int_equal(c.linger0, 0);
	assert_true(c.bind_no_port && c.delayed_ack && !c.json && !c.csv);
	assert_true(c.connect_timeout_ns == 5LL * 1000000000LL);
	assert_int_equal(parse("bench --timeout 1h30m --connect-timeout 7d -T 4 --delayed-ack off "
			       "--bind-no-port off -n 10k --linger0 server",
			       &c, err),
			 0);
	assert_true(c.timeout_ns == 5400LL * 1000000000LL);
	assert_true(c.connect_timeout_ns == 7LL * 86400LL * 1000000000LL);
	assert_int_equal(c.threads, 4);
	assert_false(c.delayed_ack);
	assert_false(c.bind_no_port);
	assert_int_equal(c.count, 10000);
	assert_int_equal(c.duration_ns, 0); /* --count bounds it */
	assert_int_equal(c.linger0, BENCH_LINGER_SERVER);
	assert_int_equal(parse("bench -T 65", &c, err), -EINVAL);
	assert_non_null(strstr(err, "--threads '65': expected a count"));
	assert_int_equal(parse("bench --linger0 never", &c, err), -EINVAL);
	assert_non_null(strstr(err, "expected client, server, both or none"));
	/* a matrix variant goes through the same table, after the command line */
	assert_int_equal(bench_cfg_variant(4, (char *[]){"bench", "--linger0", "both", "-q", NULL},
					   "--linger0 none --path /x -d 2s", &c, err, 256),
			 0);
	assert_int_equal(c.linger0, 0);
	assert_true(c.quiet);
	assert_string_equal(c.path, "/x");
	assert_true(c.duration_ns == 2LL * 1000000000LL);
	assert_int_equal(
	    bench_cfg_variant(1, (char *[]){"bench", NULL}, "--proto udp", &c, err, 256), -EINVAL);
	assert_non_null(strstr(err, "--proto 'udp': expected raw or http"));
}

static void test_max_conns_fit(void **state)
{
	(void)state;
	assert_int_equal(bench_max_conns_fit(20000, 1048576, 30), 20000); /* room enough */
	assert_int_equal(bench_max_conns_fit(20000, 20000, 24), 19976); /* the usual hard limit */
	assert_int_equal(bench_max_conns_fit(20000, 64, 24), 40);
	assert_int_equal(bench_max_conns_fit(100, 64, 64), 1); /* nothing left: one, and EMFILE */
	assert_int_equal(bench_max_conns_fit(100, 64, 500), 1); /* pauses beyond it */
	assert_int_equal(bench_max_conns_fit(7, 64, 24), 7);
	assert_int_equal(bench_max_conns_fit(UINT32_MAX, UINT64_MAX, 0), UINT32_MAX);
}

static void test_budget(void **state)
{
	const struct tw_profile *p = tw_profile_by_name("6.14", NULL);
	struct tw_budget_in in = { 0 };
	struct tw_budget_out out;
	(void)state;
	assert_non_null(p);
	in.port_lo = 32768;
	in.port_hi = 60999;
	in.sources = 1;
	in.dest_ports = 1;
	in.bind_no_port = true;
	in.client_closes = true;
	in.reuse.reuse = 0;
	in.reuse.timestamps = 1;
	in.reuse.peer_timestamps = 1;
	in.reuse.outgoing = true;
	in.reuse_delay_ms = 1000;
	assert_int_equal(tw_budget_compute(p, &in, &out), 0);
	assert_int_equal(out.why, TW_BUDGET_TW_BOUND);
	assert_int_equal(out.ports, 28232); /* the figure: 28,232 / 60 s ~ 470/s */
	assert_true(out.rate > 470 && out.rate < 471);
	in.sources = 4;
	assert_int_equal(tw_budget_compute(p, &in, &out), 0);
	assert_int_equal(out.tuples, 4u * 28232u);
	in.bind_no_port = false; /* bind before connect: destinations stop helping */
	in.dest_ports = 8;
	assert_int_equal(tw_budget_compute(p, &in, &out), 0);
	assert_int_equal(out.tuples, 4u * 28232u);
	in.bind_no_port = true;
	in.sources = 1;
	in.dest_ports = 1;
	in.reuse.reuse = 1;
	assert_int_equal(tw_budget_compute(p, &in, &out), 0);
	assert_int_equal(out.why, TW_BUDGET_REUSE_BOUND);
	assert_true(out.rate > 20000);
	in.reuse.reuse = 2; /* loopback only, and this is not loopback */
	assert_int_equal(tw_budget_compute(p, &in, &out), 0);
	assert_int_equal(out.why, TW_BUDGET_TW_BOUND);
	in.client_linger0 = true;
	assert_int_equal(tw_budget_compute(p, &in, &out), 0);
	assert_int_equal(out.why, TW_BUDGET_NO_CLIENT_TW);
	in.port_hi = 10;
	assert_int_equal(tw_budget_compute(p, &in, &out), -EINVAL);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* A port on loopback with nothing listening: bind one, read its number, close it. */
static uint16_t closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t l = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	bind(fd, (struct sockaddr *)&a, sizeof(a));
	getsockname(fd, (struct sockaddr *)&a, &l);
	close(fd);
	return ntohs(a.sin_port);
}

static void test_no_fd_leak(void **state)
{
	struct bench_cfg c;
	struct bench_result r;
	char err[256], line[128];
	int before;
	sigset_t s;
	(void)state;
	sigemptyset(&s);
	sigaddset(&s, SIGINT);
	sigaddset(&s, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &s, NULL);
	before = count_fds();
	/* refused connections: every one a failure, counted by errno */
	snprintf(line, sizeof(line), "bench run --target 127.0.0.1:%u --count 300 -c 16 -T 2 -q",
		 closed_port());
	assert_int_equal(parse(line, &c, err), 0);
	assert_int_equal(bench_run(&c, &r), 0);
	assert_int_equal(r.st.attempted, 300);
	assert_int_equal(r.st.failed[ECONNREFUSED], 300);
	assert_int_equal(r.st.attempted, r.st.completed + bench_stats_failed(&r.st) + r.st.in_flight);
	bench_result_fini(&r);
	assert_int_equal(count_fds(), before);
	/* own server, cut short by --duration with connections in flight */
	assert_int_equal(parse("bench -d 300ms -c 32 -T 2 -q --requests-per-conn 5", &c, err), 0);
	assert_int_equal(bench_run(&c, &r), 0);
	assert_true(r.st.completed > 0);
	assert_int_equal(r.st.attempted, r.st.completed + bench_stats_failed(&r.st) + r.st.in_flight);
	assert_int_equal(r.st.requests >= 5 * r.st.completed, 1);
	assert_true(r.srv.accepted >= r.st.completed);
	bench_result_fini(&r);
	assert_int_equal(count_fds(), before);
}

/*
 * --max-conns holds over all threads (the pool used to grow by 256 per thread before the
 * bound was looked at): 4 threads, 10 slots, 60 connections in flight. The excess waits in
 * the backlog, so every connection completes and none is reset at the door.
 */
static void test_max_conns_held(void **state)
{
	struct bench_cfg c;
	struct bench_result r;
	char err[256];
	int before = count_fds();
	(void)state;
	assert_int_equal(parse("bench --max-conns 10 -c 60 -T 4 --count 3000 -q", &c, err), 0);
	assert_int_equal(bench_run(&c, &r), 0);
	assert_int_equal(r.st.completed, 3000);
	assert_int_equal(bench_stats_failed(&r.st), 0);
	assert_true(r.srv.active_max <= 10);
	assert_true(r.srv.active_max > 0);
	assert_int_equal(r.srv.rejected, 0);
	assert_int_equal(r.srv.accepted, 3000);
	assert_true(r.srv.full > 0);
	bench_result_fini(&r);
	assert_int_equal(count_fds(), before);
}

/*
 * A closed-loop ramp far larger than what can open looks at the deadline between connects:
 * -c 1000000 toward a closed port for 200 ms used to make its million refused connects first.
 * The bound (2 s) is ten times the deadline: behaviour, not speed.
 */
static void test_ramp_deadline(void **state)
{
	struct bench_cfg c;
	struct bench_result r;
	char err[256], line[128];
	int before = count_fds();
	(void)state;
	snprintf(line, sizeof(line), "bench run --target 127.0.0.1:%u -c 1000000 -d 200ms -q",
		 closed_port());
	assert_int_equal(parse(line, &c, err), 0);
	assert_int_equal(bench_run(&c, &r), 0);
	assert_true(r.elapsed_s < 2.0);
	assert_true(r.st.attempted > 0);
	assert_true(r.st.attempted < 1000000);
	assert_int_equal(r.st.attempted, r.st.completed + bench_stats_failed(&r.st) + r.st.in_flight);
	bench_result_fini(&r);
	assert_int_equal(count_fds(), before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_raw_hdr),	  cmocka_unit_test(test_http_req),
		cmocka_unit_test(test_http_resp), cmocka_unit_test(test_cfg),
		cmocka_unit_test(test_budget),	  cmocka_unit_test(test_no_fd_leak),
		cmocka_unit_test(test_max_conns_fit), cmocka_unit_test(test_max_conns_held),
		cmocka_unit_test(test_ramp_deadline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
