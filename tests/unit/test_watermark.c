/* The reconciliation watermark: what a pass may trust from the spool, and
 * what makes it fall back to a full sweep. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "footprint/watermark.h"

#define NOW ((time_t)1767225600) /* 2026-01-01 */

static char dir[64], path[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_watermark.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/reconcile.watermark", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void put(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_written_watermark_reads_back_the_same_end(void **state)
{
	fp_error_t err = { 0 };
	time_t end = 0;

	(void)state;
	assert_int_equal(fp_watermark_write(path, NOW - 42, &err), 0);
	assert_int_equal(fp_watermark_read(path, NOW, &end, &err), 0);
	assert_int_equal((long long)end, (long long)(NOW - 42));
}

static void test_rewrite_replaces_and_leaves_no_temporary_file(void **state)
{
	fp_error_t err = { 0 };
	time_t end = 0;
	char cmd[256];

	(void)state;
	assert_int_equal(fp_watermark_write(path, NOW - 100, &err), 0);
	assert_int_equal(fp_watermark_write(path, NOW - 5, &err), 0);
	assert_int_equal(fp_watermark_read(path, NOW, &end, &err), 0);
	assert_int_equal((long long)end, (long long)(NOW - 5));
	snprintf(cmd, sizeof(cmd), "[ $(ls '%s' | wc -l) -eq 1 ]", dir);
	assert_int_equal(system(cmd), 0);
}

static void test_missing_file_is_1_not_an_error(void **state)
{
	fp_error_t err = { 0 };
	time_t end = 7;

	(void)state;
	assert_int_equal(fp_watermark_read(path, NOW, &end, &err), 1);
	assert_int_equal(err.code, 0);
	assert_int_equal((long long)end, 7);
}

static void expect_corrupt(const char *text)
{
	fp_error_t err = { 0 };
	time_t end = 7;

	put(text);
	assert_int_equal(fp_watermark_read(path, NOW, &end, &err), -1);
	assert_int_not_equal(err.code, 0);
	assert_non_null(strstr(err.msg, path));
	assert_int_equal((long long)end, 7);
}

static void test_empty_file_is_corrupt_naming_the_file(void **state)
{
	(void)state;
	expect_corrupt("");
}

static void test_garbage_is_corrupt(void **state)
{
	(void)state;
	expect_corrupt("\x01\x02garbage\n");
}

static void test_truncated_number_line_is_corrupt(void **state)
{
	(void)state;
	expect_corrupt("fp-watermark 1 1767"); /* no newline: cut short */
	expect_corrupt("fp-watermark 1 \n");
}

static void test_trailing_text_is_corrupt(void **state)
{
	(void)state;
	expect_corrupt("fp-watermark 1 1767225000x\n");
	expect_corrupt("fp-watermark 1 1767225000\n1767225000\n");
}

static void test_negative_or_ancient_or_future_end_is_corrupt(void **state)
{
	char line[64];

	(void)state;
	expect_corrupt("fp-watermark 1 -5\n");
	expect_corrupt("fp-watermark 1 12\n");
	snprintf(line, sizeof(line), "fp-watermark 1 %lld\n",
		 (long long)NOW + 2 * 86400);
	expect_corrupt(line);
}

static void test_unwritable_folder_fails_naming_the_file(void **state)
{
	fp_error_t err = { 0 };
	char bad[160];

	(void)state;
	snprintf(bad, sizeof(bad), "%s/no/such/dir/wm", dir);
	assert_int_equal(fp_watermark_write(bad, NOW, &err), -1);
	assert_non_null(strstr(err.msg, bad));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_written_watermark_reads_back_the_same_end),
		T(test_rewrite_replaces_and_leaves_no_temporary_file),
		T(test_missing_file_is_1_not_an_error),
		T(test_empty_file_is_corrupt_naming_the_file),
		T(test_garbage_is_corrupt),
		T(test_truncated_number_line_is_corrupt),
		T(test_trailing_text_is_corrupt),
		T(test_negative_or_ancient_or_future_end_is_corrupt),
		T(test_unwritable_folder_fails_naming_the_file),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
