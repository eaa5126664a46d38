/* Unit tests: common/units, common/opt, common/hist, common/jsonw. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "common/hist.h"
#include "common/jsonw.h"
#include "common/opt.h"
#include "common/units.h"

static void test_duration(void **st)
{
	int64_t ns;
	assert_int_equal(units_parse_duration("90s", &ns), 0);
	assert_true(ns == 90 * NS_PER_SEC);
	assert_int_equal(units_parse_duration("2m", &ns), 0);
	assert_true(ns == 120 * NS_PER_SEC);
	assert_int_equal(units_parse_duration("500ms", &ns), 0);
	assert_true(ns == 500 * NS_PER_MS);
	assert_int_equal(units_parse_duration("1.5", &ns), 0);
	assert_true(ns == 1500 * NS_PER_MS);
	assert_int_equal(units_parse_duration("", &ns), -22);
	assert_int_equal(units_parse_duration("-1s", &ns), -22);
	assert_int_equal(units_parse_duration("10x", &ns), -22);
	assert_int_equal(units_parse_duration("0x10", &ns), -22);
	assert_int_equal(units_parse_duration("1e3", &ns), -22);
	assert_int_equal(units_parse_duration("inf", &ns), -22);
	/* days and compound durations, as people type them */
	assert_int_equal(units_parse_duration("1d", &ns), 0);
	assert_true(ns == 86400 * NS_PER_SEC);
	assert_int_equal(units_parse_duration("7d", &ns), 0);
	assert_true(ns == 7 * 86400 * NS_PER_SEC);
	assert_int_equal(units_parse_duration("1h30m", &ns), 0);
	assert_true(ns == 5400 * NS_PER_SEC);
	assert_int_equal(units_parse_duration("1m30s", &ns), 0);
	assert_true(ns == 90 * NS_PER_SEC);
	assert_int_equal(units_parse_duration("1d12h", &ns), 0);
	assert_true(ns == 36 * 3600 * NS_PER_SEC);
	assert_int_equal(units_parse_duration("1s500ms", &ns), 0);
	assert_true(ns == 1500 * NS_PER_MS);
	assert_int_equal(units_parse_duration("1m30", &ns), -22);   /* last part lacks its unit */
	assert_int_equal(units_parse_duration("30s1m", &ns), -22);  /* units must decrease */
	assert_int_equal(units_parse_duration("1h1h", &ns), -22);
	assert_int_equal(units_parse_duration("1h 30m", &ns), -22);
	assert_int_equal(units_parse_duration("1h-30m", &ns), -22);
}

static void test_rate_count_size_range(void **st)
{
	double r;
	uint64_t n;
	long a, b;
	assert_int_equal(units_parse_rate("5k/s", &r), 0);
	assert_true(r == 5000);
	assert_int_equal(units_parse_rate("250", &r), 0);
	assert_true(r == 250);
	assert_int_equal(units_parse_rate("5k/m", &r), -22);
	assert_int_equal(units_parse_count("10k", &n), 0);
	assert_true(n == 10000);
	assert_int_equal(units_parse_count("1.5", &n), -22);
	assert_int_equal(units_parse_size("64MiB", &n), 0);
	assert_true(n == 64ull << 20);
	assert_int_equal(units_parse_range("32768-60999", 1, 65535, &a, &b), 0);
	assert_true(a == 32768 && b == 60999);
	assert_int_equal(units_parse_range("9-8", 1, 65535, &a, &b), -22);
	assert_int_equal(units_parse_range("0-8", 1, 65535, &a, &b), -22);
	assert_int_equal(units_parse_range("80", 1, 65535, &a, &b), 0);
	assert_true(a == 80 && b == 80);
}

static void test_ipport(void **st)
{
	struct sockaddr_storage ss;
	socklen_t len;
	long a, b;
	(void)st;
	assert_int_equal(units_parse_ipport("127.0.0.1:9798", 1, 65535, &ss, &len, &a, &b), 0);
	assert_int_equal(ss.ss_family, AF_INET);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(((struct sockaddr_in *)&ss)->sin_addr.s_addr, htonl(0x7f000001));
	assert_true(a == 9798 && b == 9798);
	assert_int_equal(units_parse_ipport("[::1]:8080-8083", 1, 65535, &ss, &len, &a, &b), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	assert_true(a == 8080 && b == 8083);
	char buf[64];
	assert_string_equal(units_fmt_ipport(buf, sizeof(buf), &ss, 8080, 8083), "[::1]:8080-8083");
	assert_int_equal(units_parse_ipport("10.1.2.3:80", 1, 65535, &ss, &len, &a, &b), 0);
	assert_string_equal(units_fmt_ipport(buf, sizeof(buf), &ss, 80, 80), "10.1.2.3:80");
	assert_int_equal(units_parse_ipport("::1:80", 1, 65535, &ss, &len, &a, &b), 0);
	assert_int_equal(ss.ss_family, AF_INET6);
	const char *bad[] = { "127.0.0.1",   "127.0.0.1:",   ":80",	 "127.0.0.1:0",
			      "1.2.3.4:70000", "999.1.1.1:80", "[::1", "[::1]80", "[::1]:",
			      "host:80",       "1.2.3.4:8x",   "",	 NULL };
	for (int i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++)
		assert_int_equal(units_parse_ipport(bad[i], 1, 65535, &ss, &len, &a, &b), -22);
}

static void test_format(void **st)
{
	char buf[32];
	assert_string_equal(units_fmt_count(buf, sizeof(buf), 28232), "28,232");
	assert_string_equal(units_fmt_count(buf, sizeof(buf), 999), "999");
	assert_string_equal(units_fmt_count(buf, sizeof(buf), 1000000), "1,000,000");
	assert_string_equal(units_fmt_bytes(buf, sizeof(buf), 1536), "1.5 KiB");
	assert_string_equal(units_fmt_duration(buf, sizeof(buf), 125 * NS_PER_SEC), "2m05s");
	assert_string_equal(units_fmt_rate(buf, sizeof(buf), 4700), "4.7k/s");
}

static const struct opt_spec specs[] = {
	{ .name = "json", .shortname = 'j', .kind = OPT_FLAG, .help = "json" },
	{ .name = "top", .kind = OPT_VALUE, .metavar = "N", .def = "10", .help = "top" },
	{ .name = "set", .kind = OPT_MULTI, .metavar = "K=V", .help = "set" },
};

static void test_opt(void **st)
{
	struct opt_result r;
	char err[128];
	char *argv[] = { "x", "--json", "--top=5", "pos", "--set", "a=1", "--set", "b=2", "--",
			 "--notopt" };
	assert_int_equal(opt_parse(specs, 3, 10, argv, 1, &r, err, sizeof(err)), 0);
	assert_true(opt_has(specs, 3, &r, "json"));
	assert_string_equal(opt_get(specs, 3, &r, "top"), "5");
	assert_string_equal(opt_get(specs, 3, &r, "set"), "a=1\nb=2");
	assert_int_equal(r.npos, 2);
	assert_string_equal(r.pos[1], "--notopt");
	opt_result_fini(&r);

	char *bad[] = { "x", "--nope" };
	assert_int_equal(opt_parse(specs, 3, 2, bad, 1, &r, err, sizeof(err)), -22);
	assert_non_null(strstr(err, "--nope"));
	opt_result_fini(&r);
	char *missing[] = { "x", "--top" };
	assert_int_equal(opt_parse(specs, 3, 2, missing, 1, &r, err, sizeof(err)), -22);
	assert_non_null(strstr(err, "needs a value"));
	opt_result_fini(&r);
	char *defaults[] = { "x" };
	assert_int_equal(opt_parse(specs, 3, 1, defaults, 1, &r, err, sizeof(err)), 0);
	assert_string_equal(opt_get(specs, 3, &r, "top"), "10");
	assert_false(opt_has(specs, 3, &r, "top"));
	opt_result_fini(&r);
}

/* The typed table: every type into its field, defaults, bounds, and errors naming the option. */
struct tcfg {
	bool json;
	const char *out;
	int mode;
	int64_t dur_ns;
	uint32_t n;
	uint64_t big, bytes;
	double rate;
	int64_t wait_ns;
};
#define TC struct tcfg
static const struct opt_spec tspecs[] = {
	{ .name = "json", OPT_FLAG_TO(TC, json), .help = "j" },
	{ .name = "out", OPT_STR_TO(TC, out), .metavar = "FILE", .help = "o" },
	{ .name = "mode", OPT_CHOICE_TO(TC, mode, "client", "server", "both"),
	  .choice_val = (const int[]){ 1, 2, 3 }, .def = "client", .help = "m" },
	{ .name = "duration", .shortname = 'd', OPT_DUR_TO(TC, dur_ns), .def = "10s",
	  .min = 1e9, .max = 7 * 86400e9, .help = "d" },
	{ .name = "count", OPT_COUNT_TO(TC, n, 1, 64), .help = "c" },
	{ .name = "many", OPT_COUNT64_TO(TC, big, 0, 0), .help = "c" },
	{ .name = "size", OPT_SIZE_TO(TC, bytes, 16, 1 << 20), .def = "64", .help = "s" },
	{ .name = "rate", OPT_RATE_TO(TC, rate, 1e6), .help = "r" },
	{ .name = "raw", .kind = OPT_VALUE, .help = "the verb's own" },
	{ .name = "wait", OPT_DUR_TO(TC, wait_ns), .max = 86400e9, .zero_ok = true,
	  .hint = "0: do not wait", .help = "w" },
};
#define NT ((int)(sizeof(tspecs) / sizeof(tspecs[0])))

static int tapply(int argc, char **argv, struct tcfg *c, char *err, size_t el)
{
	struct opt_result r;
	int rc = opt_parse(tspecs, NT, argc, argv, 1, &r, err, el);
	if (rc == 0)
		rc = opt_apply(tspecs, NT, &r, c, err, el);
	opt_result_fini(&r);
	return rc;
}

static void test_opt_apply(void **st)
{
	(void)st;
	char err[256];
	struct tcfg c = { .n = 7 };
	char *a1[] = { "x", "--json", "--out", "f.svg", "--mode=both", "-d", "1h30m", "--size",
		       "1KiB", "--rate", "5k/s", "--many", "10M", "--raw", "zz" };
	assert_int_equal(tapply(15, a1, &c, err, sizeof(err)), 0);
	assert_true(c.json);
	assert_string_equal(c.out, "f.svg");
	assert_int_equal(c.mode, 3);
	assert_true(c.dur_ns == 5400LL * 1000000000LL);
	assert_int_equal(c.n, 7); /* not given, no default: left as the caller set it */
	assert_true(c.big == 10000000ULL);
	assert_true(c.bytes == 1024);
	assert_true(c.rate == 5000.0);

	struct tcfg d = { 0 };
	char *a2[] = { "x", "-d", "7d" };
	assert_int_equal(tapply(3, a2, &d, err, sizeof(err)), 0);
	assert_false(d.json);
	assert_int_equal(d.mode, 1);   /* the default word's value */
	assert_true(d.bytes == 64);    /* the default size */
	assert_true(d.dur_ns == 7 * 86400LL * 1000000000LL);

	static const struct {
		const char *opt, *val, *want;
	} bad[] = {
		{ "--mode", "neither", "--mode 'neither': expected client, server or both" },
		{ "-d", "8d", "--duration '8d': expected a duration such as 90s, 1h30m or 7d, from 1s" },
		{ "-d", "500ms", "from 1s to 7d" },
		{ "-d", "7x", "--duration '7x'" },
		{ "--count", "0", "--count '0': expected a count such as 1000 or 10k, from 1 to 64" },
		{ "--count", "65", "from 1 to 64" },
		{ "--size", "8", "--size '8': expected a size such as 4096, 64KiB or 1MiB, from 16 B" },
		{ "--rate", "0", "--rate '0': expected a rate such as 500, 5k or 5k/s, above 0" },
		{ "--rate", "2M", "at most" },
		{ "--many", "-1", "--many '-1'" },
		{ "--wait", "25h", "--wait '25h': expected a duration such as 500ms, 5m or 1d, above 0 "
				   "and at most 1d, or 0 (0: do not wait)" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct tcfg e = { 0 };
		char *av[] = { "x", (char *)bad[i].opt, (char *)bad[i].val };
		err[0] = 0;
		assert_int_equal(tapply(3, av, &e, err, sizeof(err)), -22);
		if (!strstr(err, bad[i].want))
			fail_msg("%s %s: got \"%s\", want \"%s\"", bad[i].opt, bad[i].val, err,
				 bad[i].want);
	}

	struct tcfg z = { .wait_ns = 5 };
	char *a3[] = { "x", "--wait", "0", "--many", "18446744073709551615" };
	assert_int_equal(tapply(5, a3, &z, err, sizeof(err)), 0);
	assert_true(z.wait_ns == 0);
	assert_true(z.big == UINT64_MAX); /* exact, not through a double */
	char *a4[] = { "x", "--many", "18446744073709551616" };
	assert_int_equal(tapply(3, a4, &z, err, sizeof(err)), -22);

	/* --help shows a choice's words when it has no metavar, and the default */
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	opt_print_help(f, tspecs, NT);
	fclose(f);
	assert_non_null(strstr(buf, "--mode client|server|both"));
	assert_non_null(strstr(buf, "[10s] (1s to 7d)"));
	assert_non_null(strstr(buf, "(1 to 64)"));
	assert_non_null(strstr(buf, "(at most 1d, or 0)"));
	free(buf);
}

/* Randomized check of the histogram against a sorted reference: percentiles within 1/16. */
static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static void test_hist_vs_reference(void **st)
{
	static struct hist h;
	enum { N = 20000 };
	uint64_t *v = malloc(N * sizeof(*v));
	unsigned seed = 12345;
	hist_init(&h);
	for (int i = 0; i < N; i++) {
		seed = seed * 1103515245u + 12345u;
		v[i] = (uint64_t)(seed >> 8) % 5000000 + (uint64_t)(i % 7) * 1000000000ull;
		hist_record(&h, v[i]);
	}
	qsort(v, N, sizeof(*v), cmp_u64);
	assert_true(h.count == N && h.min == v[0] && h.max == v[N - 1]);
	for (double p = 1; p < 100; p += 7.3) {
		uint64_t ref = v[(size_t)((p / 100.0) * N + 0.999999) - 1];
		uint64_t got = hist_percentile(&h, p);
		assert_true(got >= ref);
		assert_true((double)got <= (double)ref * (1.0 + 1.0 / 16) + 1);
	}
	assert_true(hist_percentile(&h, 100) == v[N - 1]);
	free(v);
}

static void test_jsonw(void **st)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	struct jw w;
	jw_init(&w, f, false);
	jw_obj_begin(&w, NULL);
	jw_str(&w, "s", "a\"b\n");
	jw_double(&w, "d", 1.50, 3);
	jw_double(&w, "nan", 0.0 / 0.0, 3);
	jw_arr_begin(&w, "a");
	jw_int(&w, NULL, -3);
	jw_uint(&w, NULL, 7);
	jw_arr_end(&w);
	jw_obj_begin(&w, "empty");
	jw_obj_end(&w);
	jw_obj_end(&w);
	fclose(f);
	assert_string_equal(buf, "{\"s\":\"a\\\"b\\n\",\"d\":1.5,\"nan\":null,\"a\":[-3,7],\"empty\":{}}");
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration),	  cmocka_unit_test(test_rate_count_size_range),
		cmocka_unit_test(test_format),	  cmocka_unit_test(test_opt), cmocka_unit_test(test_opt_apply), cmocka_unit_test(test_ipport),
		cmocka_unit_test(test_hist_vs_reference), cmocka_unit_test(test_jsonw),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
