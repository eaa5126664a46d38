/* Unit tests: common/textesc (terminal escaping, UTF-8 validation), jsonw's handling of bytes
 * outside UTF-8, and common/outpath's checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <errno.h>
#include <unistd.h>

#include "common/jsonw.h"
#include "common/outpath.h"
#include "common/textesc.h"

static size_t len_of(const char *s)
{
	return utf8_seq_len((const unsigned char *)s, strlen(s));
}

static void test_utf8(void **st)
{
	assert_int_equal(len_of("a"), 1);
	assert_int_equal(len_of("\xc3\xa9"), 2);        /* é */
	assert_int_equal(len_of("\xe2\x80\x94"), 3);    /* em dash */
	assert_int_equal(len_of("\xf0\x9f\x98\x80"), 4); /* U+1F600 */
	assert_int_equal(len_of("\xf4\x8f\xbf\xbf"), 4); /* U+10FFFF, the last */
	assert_int_equal(len_of("\xf4\x90\x80\x80"), 0); /* past U+10FFFF */
	assert_int_equal(len_of("\xc0\xaf"), 0);         /* overlong '/' */
	assert_int_equal(len_of("\xe0\x80\xaf"), 0);     /* overlong */
	assert_int_equal(len_of("\xf0\x80\x80\xaf"), 0); /* overlong */
	assert_int_equal(len_of("\xed\xa0\x80"), 0);     /* surrogate U+D800 */
	assert_int_equal(len_of("\xed\x9f\xbf"), 3);     /* U+D7FF */
	assert_int_equal(len_of("\x80"), 0);             /* lone continuation */
	assert_int_equal(len_of("\xff"), 0);
	assert_int_equal(len_of("\xc3"), 0);          /* cut short */
	assert_int_equal(len_of("\xe2\x80"), 0);
	assert_int_equal(len_of("\xe2\x28\xa1"), 0); /* bad continuation */
	assert_int_equal(utf8_seq_len((const unsigned char *)"a", 0), 0);
}

static void test_tesc(void **st)
{
	char b[128];
	assert_string_equal(tesc("plain text, é — ok", b, sizeof(b)), "plain text, é — ok");
	assert_string_equal(tesc("\x1b]0;t\x07\x1b[2J", b, sizeof(b)), "\\x1b]0;t\\x07\\x1b[2J");
	assert_string_equal(tesc("a\nb\tc\rd\x7f", b, sizeof(b)), "a\\x0ab\\x09c\\x0dd\\x7f");
	assert_string_equal(tesc("\xc2\x9b" "31m", b, sizeof(b)), "\\xc2\\x9b31m"); /* C1 CSI */
	assert_string_equal(tesc("\x9b\xff\xed\xa0\x80", b, sizeof(b)),
			    "\\x9b\\xff\\xed\\xa0\\x80");
	assert_string_equal(tesc("back\\slash", b, sizeof(b)), "back\\\\slash");
	/* truncation keeps whole escapes and whole characters, and says so */
	assert_string_equal(tesc("abcdefgh", b, 8), "abcd...");
	assert_string_equal(tesc("ab\x1b\x1b\x1b", b, 10), "ab\\x1b...");
	assert_string_equal(tesc("ab\x1b\x1b\x1b", b, 9), "ab...");
	assert_string_equal(tesc("\xc3\xa9\xc3\xa9\xc3\xa9\xc3\xa9", b, 8), "\xc3\xa9\xc3\xa9...");
	assert_string_equal(tesc("abc", b, 4), "abc");
	assert_string_equal(tesc("abcd", b, 4), "...");
	assert_string_equal(tesc("abcd", b, 3), "");
	assert_string_equal(tesc("", b, 1), "");
	for (size_t n = 1; n < 40; n++) { /* every size: terminated, within bounds */
		memset(b, 'Z', sizeof(b));
		tesc("x\x1b\xc3\xa9\xff\xc2\x85yz\x07", b, n);
		assert_true(strlen(b) < n);
		assert_int_equal(b[n], 'Z');
	}
}

static void test_tesc_write(void **st)
{
	char *buf = NULL;
	size_t len = 0, cols;
	FILE *f = open_memstream(&buf, &len);
	cols = tesc_write(f, "é\x1bx\xff", 5);
	fclose(f);
	assert_string_equal(buf, "é\\x1bx\\xff");
	assert_int_equal(cols, 1 + 4 + 1 + 4);
	free(buf);
}

static void test_jsonw_utf8(void **st)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	jw_write_string(f, "é\x1b\xff\xc2\x85\x7f\xed\xa0\x80 ok \xf0\x9f\x98\x80\xe2\x80");
	fclose(f);
	assert_string_equal(buf, "\"é\\u001b\\ufffd\\u0085\\u007f\\ufffd\\ufffd\\ufffd ok "
				 "\xf0\x9f\x98\x80\\ufffd\\ufffd\"");
	free(buf);
}

static void test_outpath(void **st)
{
	char tmpl[] = "/tmp/twkit-outpath-XXXXXX", p[256], why[160];
	FILE *f;
	assert_non_null(mkdtemp(tmpl));
	assert_int_equal(outpath_check("-", 0, why, sizeof(why)), 0);
	snprintf(p, sizeof(p), "%s/new.svg", tmpl);
	assert_int_equal(outpath_check(p, 0, why, sizeof(why)), 0);
	assert_int_equal(access(p, F_OK), -1); /* nothing created by the check */
	snprintf(p, sizeof(p), "%s/no/such.svg", tmpl);
	assert_int_equal(outpath_check(p, 0, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "does not exist"));
	assert_int_equal(outpath_check(tmpl, 0, why, sizeof(why)), -EISDIR);
	snprintf(p, sizeof(p), "%s/", tmpl);
	assert_int_equal(outpath_check(p, 0, why, sizeof(why)), -EISDIR);
	assert_int_equal(outpath_check("", 0, why, sizeof(why)), -EINVAL);
	/* a symlink: refused (and never opened through), unless the path is replaced by rename */
	snprintf(p, sizeof(p), "%s/link", tmpl);
	assert_int_equal(symlink("/tmp/twkit-outpath-victim-never", p), 0);
	assert_int_equal(outpath_check(p, 0, why, sizeof(why)), -ELOOP);
	assert_int_equal(outpath_check(p, OUTPATH_REPLACED, why, sizeof(why)), 0);
	f = outpath_open(p);
	assert_null(f);
	assert_int_equal(errno, ELOOP);
	assert_int_equal(access("/tmp/twkit-outpath-victim-never", F_OK), -1);
	unlink(p);
	/* a file is created, then truncated */
	snprintf(p, sizeof(p), "%s/f", tmpl);
	f = outpath_open(p);
	assert_non_null(f);
	fputs("long content", f);
	fclose(f);
	f = outpath_open(p);
	assert_non_null(f);
	fputs("x", f);
	fclose(f);
	f = fopen(p, "r");
	assert_non_null(f);
	assert_int_equal(fgetc(f), 'x');
	assert_int_equal(fgetc(f), EOF);
	fclose(f);
	unlink(p);
	rmdir(tmpl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8),	   cmocka_unit_test(test_tesc),
		cmocka_unit_test(test_tesc_write), cmocka_unit_test(test_jsonw_utf8),
		cmocka_unit_test(test_outpath),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
