/* Unit tests: trace's pure parts — container ids in cgroup paths, the kernel-side histogram's
 * buckets against common/hist, the JSON and Prometheus renderings of crafted counters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <jansson.h>

#include "common/hist.h"
#include "trace/trace.h"

#define ID64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void test_container_id(void **st)
{
	static const char *const yes[] = {
		"/system.slice/docker-" ID64 ".scope",
		"/docker/" ID64,
		"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1234_5678.slice/"
		"cri-containerd-" ID64 ".scope",
		"/kubepods/burstable/pod9b5d7a1c-1111-2222-3333-444455556666/" ID64,
		"/machine.slice/libpod-" ID64 ".scope/container",
		"/kubepods.slice/kubepods-pod1.slice/crio-" ID64 ".scope",
		"/system.slice/docker-" ID64 ".scope/init.scope",
	};
	static const char *const no[] = {
		"/", "/user.slice/user-1000.slice/session-3.scope", "/system.slice/nginx.service",
		"/docker/" ID64 "0",				   /* 65 hex */
		"/docker/0123456789ABCDEF0123456789abcdef0123456789abcdef0123456789abcdef", /* upper */
		"/docker/0123456789abcdef", "/system.slice/docker-" ID64 ".scopeX", "",
		"/docker-" ID64 "x",
	};
	char out[65];

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		memset(out, 0, sizeof(out));
		assert_int_equal(trace_cg_container_id(yes[i], out, sizeof(out)), 1);
		assert_string_equal(out, ID64);
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		assert_int_equal(trace_cg_container_id(no[i], out, sizeof(out)), 0);
	assert_int_equal(trace_cg_container_id(NULL, out, sizeof(out)), 0);
	assert_int_equal(trace_cg_container_id(yes[0], out, 64), 0); /* too small a buffer */
	/* read by doctor --all-netns's parser: its nerdctl ids too, not the containers it names
	 * without a 64-hex id (LXC), a pod alone or podman's conmon */
	assert_int_equal(trace_cg_container_id("/system.slice/nerdctl-" ID64 ".scope", out, 65), 1);
	assert_string_equal(out, ID64);
	assert_int_equal(trace_cg_container_id("/lxc.payload.web1", out, 65), 0);
	assert_int_equal(trace_cg_container_id("/lxc/db2", out, 65), 0);
	assert_int_equal(
	    trace_cg_container_id("/kubepods/pod9b5d7a1c-1111-2222-3333-444455556666", out, 65), 0);
	assert_int_equal(
	    trace_cg_container_id("/machine.slice/libpod-conmon-" ID64 ".scope", out, 65), 0);
}

/* Index of the one bucket common/hist puts v in. */
static int hist_index(uint64_t v)
{
	static struct hist h;

	hist_init(&h);
	hist_record(&h, v);
	for (int i = 0; i < HIST_BUCKETS; i++)
		if (h.b[i])
			return i;
	return -1;
}

static void test_hist_buckets(void **st)
{
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	/* edges, then random values of every magnitude */
	for (uint64_t v = 0; v < 4096; v++)
		assert_int_equal(trace_hist_bucket(v), hist_index(v));
	for (int i = 0; i < 20000; i++) {
		x ^= x << 13, x ^= x >> 7, x ^= x << 17;
		uint64_t v = x >> (x % 64);
		int b = trace_hist_bucket(v);

		if (v < (1ULL << TRACE_HIST_MAX_EXP))
			assert_int_equal(b, hist_index(v));
		else
			assert_int_equal(b, TRACE_HIST_BUCKETS - 1);
		assert_true(b >= 0 && b < TRACE_HIST_BUCKETS);
		/* the bucket's lowest value is in the bucket and not above v */
		assert_true(trace_hist_bucket_low(b) <= v);
		assert_int_equal(trace_hist_bucket(trace_hist_bucket_low(b)), b);
		if (b + 1 < TRACE_HIST_BUCKETS)
			assert_true(v < trace_hist_bucket_low(b + 1));
	}
	for (int i = 1; i < TRACE_HIST_BUCKETS; i++)
		assert_true(trace_hist_bucket_low(i) > trace_hist_bucket_low(i - 1));
	assert_int_equal(trace_msb64(1), 0);
	assert_int_equal(trace_msb64(UINT64_MAX), 63);
}

/* A trace_data with n failure rows of counts n..1 toward 10.0.0.5:80, 1 close row, 1 lat. */
static void craft(struct trace_data *d, size_t n)
{
	assert_int_equal(trace_data_init(d), 0);
	for (size_t i = 0; i < n; i++) {
		struct trace_fail *f = &d->fail[i];

		f->k.err = i % 2 ? ECONNREFUSED : EADDRNOTAVAIL;
		f->k.dst.family = 2;
		memcpy(f->k.dst.addr, (unsigned char[]){ 10, 0, 0, 5 }, 4);
		f->k.dst.port = 80;
		f->k.o.pid = (uint32_t)(100 + i);
		f->k.o.cgroup = 1ULL << 40; /* no such cgroup: shown as cgroup:<id> */
		f->k.o.netns = 4026531840u;
		snprintf(f->k.o.comm, sizeof(f->k.o.comm), "ng\"x\\%u", (unsigned)(i % 10));
		f->count = n - i;
	}
	d->nfail = n;
	d->close[0].k.peer.family = 10;
	d->close[0].k.peer.addr[15] = 1;
	d->close[0].k.peer.port = 0;
	snprintf(d->close[0].k.o.comm, sizeof(d->close[0].k.o.comm), "nginx");
	d->close[0].count = 7;
	d->close[0].time_waits = 5;
	d->nclose = 1;
	d->lat[0].k = d->fail[0].k.dst;
	hist_init(&d->lat[0].h);
	for (uint64_t v = 1000; v <= 100000; v += 1000)
		hist_record(&d->lat[0].h, v);
	d->nlat = 1;
	d->dropped = 3;
	trace_data_sort(d);
}

static char *render(void (*fn)(FILE *, const struct trace_view *), const struct trace_view *v)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	fn(f, v);
	fclose(f);
	return buf;
}

static void keys_are(json_t *o, const char *const *want, size_t n)
{
	assert_int_equal(json_object_size(o), n);
	for (size_t i = 0; i < n; i++)
		assert_non_null(json_object_get(o, want[i]));
}

static void test_json(void **st)
{
	static const char *const top[] = { "schema",	      "connect_failures", "closers",
					   "connect_latency", "syn_retransmits",  "dropped_events" };
	static const char *const fk[] = { "errno", "dst", "dport", "comm",
					  "pid",   "cgroup", "netns", "count" };
	static const char *const ck[] = { "comm",      "pid",	       "cgroup",
					  "netns",     "peer",	       "peer_port",
					  "active_closes", "time_waits" };
	static const char *const lk[] = { "dst", "dport", "count", "p50_us", "p99_us", "max_us" };
	struct trace_data d;
	struct trace_view v = { .top = 3 };
	json_error_t je;
	json_t *j, *fa;
	char *s;

	craft(&d, 5);
	v.d = &d;
	s = render(trace_render_json, &v);
	j = json_loads(s, 0, &je);
	assert_non_null(j);
	keys_are(j, top, 6);
	assert_string_equal(json_string_value(json_object_get(j, "schema")), "twkit.trace/1");
	fa = json_object_get(j, "connect_failures");
	/* top 3 rows (5, 4, 3) and "other" (2 + 1) */
	assert_int_equal(json_array_size(fa), 4);
	for (size_t i = 0; i < 4; i++)
		keys_are(json_array_get(fa, i), fk, 8);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(fa, 0), "count")), 5);
	assert_string_equal(json_string_value(json_object_get(json_array_get(fa, 0), "errno")),
			    "EADDRNOTAVAIL");
	assert_string_equal(json_string_value(json_object_get(json_array_get(fa, 0), "dst")),
			    "10.0.0.5");
	assert_string_equal(json_string_value(json_object_get(json_array_get(fa, 0), "comm")),
			    "ng\"x\\0");
	assert_string_equal(json_string_value(json_object_get(json_array_get(fa, 3), "comm")),
			    "other");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(fa, 3), "count")), 3);
	keys_are(json_array_get(json_object_get(j, "closers"), 0), ck, 8);
	assert_int_equal(json_integer_value(json_object_get(
				 json_array_get(json_object_get(j, "closers"), 0), "time_waits")),
			 5);
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(json_object_get(j, "closers"), 0),
						  "peer")),
		"::1");
	keys_are(json_array_get(json_object_get(j, "connect_latency"), 0), lk, 6);
	/* p50 of 1..100 us is 50 us within the histogram's 1/16 */
	double p50 = json_real_value(
		json_object_get(json_array_get(json_object_get(j, "connect_latency"), 0), "p50_us"));
	assert_true(p50 >= 50.0 && p50 <= 50.0 * 17 / 16);
	assert_int_equal(json_integer_value(json_object_get(j, "dropped_events")), 3);
	json_decref(j);
	free(s);
	trace_data_fini(&d);
}

static void test_prom(void **st)
{
	struct trace_data d;
	struct trace_view v = { .top = 2 };
	char *s;

	craft(&d, 4);
	v.d = &d;
	s = render(trace_render_prom, &v);
	/* escaped label values, the "other" row, histogram series, the drop counter */
	assert_non_null(strstr(s, "comm=\"ng\\\"x\\\\0\""));
	assert_non_null(strstr(s, "errno=\"other\""));
	assert_non_null(strstr(s, "# TYPE twkit_trace_connect_latency_seconds histogram"));
	assert_non_null(strstr(s, "twkit_trace_connect_latency_seconds_bucket{remote_ip="
				  "\"10.0.0.5\",remote_port=\"80\",le=\"+Inf\"} 100"));
	assert_non_null(strstr(s, "twkit_trace_connect_latency_seconds_count{remote_ip="
				  "\"10.0.0.5\",remote_port=\"80\"} 100"));
	/* 1 us..100 us: 9 or 10 (a bucket straddles 10 us) by 10 us, all by 250 us */
	assert_true(strstr(s, "le=\"1e-05\"} 9\n") || strstr(s, "le=\"1e-05\"} 10\n"));
	assert_non_null(strstr(s, "le=\"0.00025\"} 100\n"));
	assert_non_null(strstr(s, "twkit_trace_dropped_events_total 3\n"));
	/* the closer row twice, same labels: its closes and its TIME-WAITs */
	assert_non_null(strstr(s, "# TYPE twkit_trace_time_waits_total counter\n"));
	assert_non_null(strstr(s, "twkit_trace_active_closes_total{comm=\"nginx\",cgroup=\"cgroup:0\","
				  "netns=\"0\",remote_ip=\"::1\",remote_port=\"0\"} 7\n"));
	assert_non_null(strstr(s, "twkit_trace_time_waits_total{comm=\"nginx\",cgroup=\"cgroup:0\","
				  "netns=\"0\",remote_ip=\"::1\",remote_port=\"0\"} 5\n"));
	assert_null(strstr(s, "remote_port=\"80\",comm=\"ng\\\"x\\\\2\"")); /* beyond --top */
	free(s);
	trace_data_fini(&d);
}

/* Rows that differ only in pid are one series (no pid label): their counts add up. */
static void test_prom_merges_pids(void **st)
{
	struct trace_data d;
	struct trace_view v = { .top = 10 };
	char *s;

	craft(&d, 3);
	d.close[1] = d.close[0];
	d.close[1].k.o.pid = 4242;
	d.close[1].count = 2;
	d.close[1].time_waits = 1;
	d.nclose = 2;
	for (size_t i = 0; i < d.nfail; i++) {
		d.fail[i].k.err = EADDRNOTAVAIL;
		snprintf(d.fail[i].k.o.comm, sizeof(d.fail[i].k.o.comm), "curl");
	}
	v.d = &d;
	s = render(trace_render_prom, &v);
	assert_non_null(strstr(s, "comm=\"curl\",cgroup=\"cgroup:1099511627776\","
				  "netns=\"4026531840\"} 6\n"));
	assert_null(strstr(s, "} 3\n")); /* no per-pid series left */
	assert_non_null(strstr(s, "twkit_trace_active_closes_total{comm=\"nginx\",cgroup=\"cgroup:0\","
				  "netns=\"0\",remote_ip=\"::1\",remote_port=\"0\"} 9\n"));
	assert_non_null(strstr(s, "twkit_trace_time_waits_total{comm=\"nginx\",cgroup=\"cgroup:0\","
				  "netns=\"0\",remote_ip=\"::1\",remote_port=\"0\"} 6\n"));
	free(s);
	trace_data_fini(&d);
}

static void test_names(void **st)
{
	char b[64];
	struct trace_addr a = { .family = 2, .addr = { 127, 0, 0, 1 } };

	assert_string_equal(trace_errno_name(EADDRNOTAVAIL, b, sizeof(b)), "EADDRNOTAVAIL");
	assert_string_equal(trace_errno_name(ETIMEDOUT, b, sizeof(b)), "ETIMEDOUT");
	assert_string_equal(trace_errno_name(100000, b, sizeof(b)), "E100000");
	assert_string_equal(trace_addr_str(b, sizeof(b), &a), "127.0.0.1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_container_id), cmocka_unit_test(test_hist_buckets),
		cmocka_unit_test(test_json),	     cmocka_unit_test(test_prom),
		cmocka_unit_test(test_names),	     cmocka_unit_test(test_prom_merges_pids),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
