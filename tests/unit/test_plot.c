/* Unit tests: common/plot (tick labels and steps, flat-series test, the SVG's structure) and
 * common/series' plot (panels by unit, flat columns left out, budgets, first failure), and
 * model/profile's era resolution for --kernel. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <cmocka.h>

#include "common/plot.h"
#include "common/series.h"
#include "model/profile.h"

static const char *tick(double v, double step, bool bytes)
{
	static char b[8][48];
	static int k;
	char *s = b[k++ % 8];
	return plot_fmt_tick(s, 48, v, step, bytes);
}

static void test_tick_counts(void **st)
{
	(void)st;
	assert_string_equal(tick(0, 250, false), "0");
	assert_string_equal(tick(250, 250, false), "250");
	assert_string_equal(tick(1000, 250, false), "1k");
	assert_string_equal(tick(1250, 250, false), "1.25k");
	assert_string_equal(tick(1500, 500, false), "1.5k");
	assert_string_equal(tick(20000, 5000, false), "20k");
	assert_string_equal(tick(1e6, 250000, false), "1M");
	assert_string_equal(tick(2.5e6, 500000, false), "2.5M");
	assert_string_equal(tick(3e9, 1e9, false), "3G");
	assert_string_equal(tick(0.5, 0.25, false), "0.5");
	assert_string_equal(tick(0.75, 0.25, false), "0.75");
	assert_string_equal(tick(-2000, 1000, false), "-2k");
	/* no step: three significant digits */
	assert_string_equal(tick(28232, 0, false), "28.2k");
	assert_string_equal(tick(471, 0, false), "471");
	/* never an exponent, whatever the size */
	for (double v = 1; v < 1e18; v *= 7.3) {
		const char *s = tick(v, plot_tick_step(v, 4, false), false);
		assert_null(strchr(s, 'e'));
		assert_true(strlen(s) <= 8);
	}
}

static void test_tick_bytes(void **st)
{
	(void)st;
	assert_string_equal(tick(0, 512, true), "0 B");
	assert_string_equal(tick(512, 512, true), "512 B");
	assert_string_equal(tick(1024, 512, true), "1 KiB");
	assert_string_equal(tick(1536, 512, true), "1.5 KiB");
	assert_string_equal(tick(2 * 1048576.0, 1048576, true), "2 MiB");
	assert_string_equal(tick(5 * 1073741824.0, 1073741824.0, true), "5 GiB");
}

static void test_tick_step(void **st)
{
	(void)st;
	assert_true(plot_tick_step(0, 4, false) == 1);
	assert_true(plot_tick_step(-5, 4, false) == 1);
	assert_true(plot_tick_step(NAN, 4, false) == 1);
	assert_true(plot_tick_step(1000, 4, false) == 250);
	assert_true(plot_tick_step(28232, 4, false) == 10000);
	assert_true(plot_tick_step(3, 4, false) == 1);
	assert_true(plot_tick_step(1.05, 4, false) == 0.5);
	/* bytes: steps in binary units */
	assert_true(plot_tick_step(8 * 1048576.0, 4, true) == 2 * 1048576.0);
	assert_true(plot_tick_step(3000, 4, true) == 1024);
}

static void test_values_vary(void **st)
{
	double z[4] = {0, 0, 0, 0}, c[4] = {5, 5, NAN, 5}, v[4] = {0, 0, 1, 0};
	double strided[6] = {1, 9, 1, 8, 1, 7}, near[3] = {10000, 9999, 10000};
	double ramp[3] = {9000, 9500, 10000};
	(void)st;
	assert_false(plot_values_vary(z, 4, 1));
	assert_false(plot_values_nonzero(z, 4, 1));
	assert_false(plot_values_vary(c, 4, 1));
	assert_true(plot_values_nonzero(c, 4, 1));
	assert_true(plot_values_vary(v, 4, 1));
	assert_false(plot_values_vary(strided, 3, 2));
	assert_true(plot_values_vary(strided + 1, 3, 2));
	assert_false(plot_values_vary(z, 0, 1));
	/* a steady rate give or take one is flat; a ramp is not */
	assert_false(plot_values_vary(near, 3, 1));
	assert_true(plot_values_vary(ramp, 3, 1));
}

/* Render s to a string (caller frees). */
static char *render(const struct series *s)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(series_write_svg(s, f, "t<&>"), 0);
	fclose(f);
	return buf;
}

static int count(const char *hay, const char *needle)
{
	int n = 0;
	for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

static void test_series_plot(void **st)
{
	static const char *const names[] = {"tw", "est", "ok", "fail", "zero"};
	struct series s;
	char *svg;
	(void)st;

	assert_int_equal(series_init(&s, 5, names), 0);
	for (int t = 1; t <= 20; t++) {
		double row[5] = {t < 10 ? t * 100.0 : 1000, 1, 100, t >= 12 ? 50 : 0, 0};
		assert_int_equal(series_add(&s, t, row), 0);
	}
	assert_int_equal(series_set_plot(&s, "tw", "TIME-WAIT", "sockets", NULL, 0), 0);
	assert_int_equal(
	    series_set_plot(&s, "fail", "failed", "connections/s", "EADDRNOTAVAIL", SERIES_FAIL),
	    0);
	assert_int_equal(series_set_plot(&s, "nope", "x", "y", NULL, 0), -ENOENT);
	assert_int_equal(series_add_ref(&s, "TIME-WAIT", 1000, "port budget 1,000"), 0);
	svg = render(&s);
	/* flat (est = 1, ok = 100) and all-zero columns draw nothing */
	assert_int_equal(count(svg, "class=\"panel\""), 2);
	assert_non_null(strstr(svg, ">TIME-WAIT (sockets)</text>"));
	assert_non_null(strstr(svg, ">failed (connections/s)</text>"));
	assert_null(strstr(svg, "data-title=\"est\""));
	assert_null(strstr(svg, "data-title=\"zero\""));
	assert_int_equal(count(svg, "class=\"budget\""), 1);
	/* first failure in the row at 12 s: between 11 and 12 s */
	assert_non_null(strstr(svg, "first failure between 11 and 12 s"));
	assert_non_null(strstr(svg, "class=\"first-failure\" data-t=\"11.000\""));
	/* the title is escaped; no exponent anywhere */
	assert_non_null(strstr(svg, "t&lt;&amp;&gt;"));
	assert_null(strstr(svg, "e+"));
	free(svg);
	/* an exact first failure from the producer wins */
	s.first_fail_known = true;
	s.first_fail_s = 11.4;
	svg = render(&s);
	assert_non_null(strstr(svg, "first failure 11.4 s"));
	free(svg);
	series_fini(&s);
}

static void test_series_overlay(void **st)
{
	static const char *const names[] = {"tw"};
	struct series a, b;
	struct plot *p = malloc(sizeof(*p));
	(void)st;

	assert_non_null(p);
	assert_int_equal(series_init(&a, 1, names), 0);
	assert_int_equal(series_init(&b, 1, names), 0);
	for (int t = 0; t < 5; t++) {
		double x = t * 10.0, y = t * 12.0;
		series_add(&a, t, &x);
		series_add(&b, t, &y);
	}
	series_set_plot(&a, "tw", "TIME-WAIT", "sockets", "TIME-WAIT", 0);
	series_set_plot(&b, "tw", "TIME-WAIT", "sockets", "TIME-WAIT", 0);
	series_add_ref(&a, "TIME-WAIT", 60, "budget");
	series_add_ref(&b, "TIME-WAIT", 60, "budget");
	struct series_overlay o[2] = {{&a, "lab", PLOT_BLUE, false, 0, 0},
				      {&b, "sim", PLOT_BLUE, true, 0, 0}};
	plot_init(p, "x");
	series_plot_overlay(o, 2, p);
	/* one panel, both lines in it, one shared budget */
	assert_int_equal(p->npanels, 1);
	assert_int_equal(p->panels[0].nlines, 2);
	assert_string_equal(p->panels[0].lines[0].label, "lab");
	assert_string_equal(p->panels[0].lines[1].label, "sim");
	assert_true(p->panels[0].lines[1].dashed);
	assert_int_equal(p->panels[0].nrefs, 1);
	assert_int_equal(p->nmarks, 0);
	free(p);
	series_fini(&a);
	series_fini(&b);
}

static void test_plot_bounded(void **st)
{
	/* a week of seconds draws a polyline bounded by the width, not by the rows */
	size_t n = 7 * 86400;
	double *t = malloc(n * sizeof(double)), *v = malloc(n * sizeof(double));
	struct plot *p = malloc(sizeof(*p));
	char *buf = NULL;
	size_t len = 0;
	FILE *f;
	(void)st;

	assert_non_null(t);
	assert_non_null(v);
	assert_non_null(p);
	for (size_t i = 0; i < n; i++) {
		t[i] = (double)i;
		v[i] = (double)(i % 977);
	}
	plot_init(p, "week");
	plot_line_add(plot_panel_add(p, "TIME-WAIT", "sockets"), "x", t, v, n, 1, -1);
	f = open_memstream(&buf, &len);
	assert_int_equal(plot_write_svg(p, f), 0);
	fclose(f);
	assert_true(len < 200000);
	assert_non_null(strstr(buf, ">time (h)</text>"));
	free(buf);
	free(t);
	free(v);
	free(p);
}

static void test_profile_resolve(void **st)
{
	const struct tw_profile *p;
	char msg[512];
	(void)st;

	assert_int_equal(tw_profile_resolve("4.10", NULL, &p, msg, sizeof(msg)), 0);
	assert_string_equal(p->name, "4.10");
	assert_string_equal(msg, "");
	assert_int_equal(tw_profile_resolve("5.9", NULL, &p, msg, sizeof(msg)), 0);
	assert_string_equal(p->name, "5.4");
	assert_non_null(strstr(msg, "5.9 \xe2\x86\x92 modelled as 5.4"));
	assert_int_equal(tw_profile_resolve("6.18.7", NULL, &p, msg, sizeof(msg)), 0);
	assert_string_equal(p->name, "6.18");
	assert_int_equal(tw_profile_resolve("9.9", NULL, &p, msg, sizeof(msg)), -EINVAL);
	assert_null(p);
	assert_non_null(strstr(msg, "newer than the newest era"));
	assert_non_null(strstr(msg, "known eras: 2.6.32, 3.10"));
	assert_int_equal(tw_profile_resolve("5.4junk", NULL, &p, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "not a kernel era"));
	assert_int_equal(tw_profile_resolve("2.4", NULL, &p, msg, sizeof(msg)), -EINVAL);
	assert_non_null(strstr(msg, "older than the oldest"));
	for (const char *const *bad = (const char *const[]){"", "5", "5.", ".5", "5..4", "5.4.",
							    "5.4.3.2", "v5.4", " 5.4", NULL};
	     *bad; bad++)
		assert_int_equal(tw_profile_resolve(*bad, NULL, &p, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(tw_profile_resolve("host", "6.1.0-18-amd64", &p, msg, sizeof(msg)), 0);
	assert_string_equal(p->name, "6.1");
	assert_int_equal(tw_profile_resolve("host", "garbage", &p, msg, sizeof(msg)), -EINVAL);
	/* a tiny message buffer is never overrun */
	char small[8];
	assert_int_equal(tw_profile_resolve("9.9", NULL, &p, small, sizeof(small)), -EINVAL);
	assert_true(strlen(small) < sizeof(small));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tick_counts),	 cmocka_unit_test(test_tick_bytes),
	    cmocka_unit_test(test_tick_step),	 cmocka_unit_test(test_values_vary),
	    cmocka_unit_test(test_series_plot),	 cmocka_unit_test(test_series_overlay),
	    cmocka_unit_test(test_plot_bounded), cmocka_unit_test(test_profile_resolve),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
