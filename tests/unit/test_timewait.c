/* Unit tests: model/timewait's default tcp_max_tw_buckets from the established hash (§1.4),
 * pinned to what running kernels report (6.18, 256k-entry ehash: 131,072) and to the
 * fallback when the hash size is unknown. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "model/timewait.h"

static void test_max_tw_buckets_default(void **st)
{
	/* a 6.18 machine whose tcp_ehash_entries reads 262144 has tcp_max_tw_buckets 131072 */
	assert_true(tw_max_tw_buckets_default(262144) == 131072);
	/* the fixed stand-in is what a 512k-entry hash gives */
	assert_true(tw_max_tw_buckets_default(524288) == TW_MAX_TW_BUCKETS_DEFAULT);
	/* a netns with its own table: tcp_child_ehash_entries = 100 in its parent gives 128 buckets
	 * (a power of two), and the kernel reads 64 */
	assert_true(tw_max_tw_buckets_default(128) == 64);
	/* unknown (kernels before 6.1 have no tcp_ehash_entries): the fallback */
	assert_true(tw_max_tw_buckets_default(0) == TW_MAX_TW_BUCKETS_DEFAULT);
	/* the kernel's integer halving, and no overflow at the top of the range */
	assert_true(tw_max_tw_buckets_default(1) == 0);
	assert_true(tw_max_tw_buckets_default(UINT64_MAX) == UINT64_MAX / 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_max_tw_buckets_default),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
