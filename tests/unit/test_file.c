/* Specification of lib/common/file.c's fp_file_read_whole: a whole text
 * file or nothing, each fault told apart by its errno. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "footprint/file.h"

static char dir[64];

static int _setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/test_file.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int _teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd);
}

static const char *_write(const char *name, const void *data, size_t n)
{
	static char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, n, f), n);
	fclose(f);
	return path;
}

static void whole_file_reads_with_trailing_white_space_cut(void **state)
{
	char *t = fp_file_read_whole(_write("tok", "eyJ.a.b \n\r\n", 11), 64);

	assert_non_null(t);
	assert_string_equal(t, "eyJ.a.b");
	free(t);
	/* exactly max bytes is not too long */
	t = fp_file_read_whole(_write("max", "12345678", 8), 8);
	assert_non_null(t);
	assert_string_equal(t, "12345678");
	free(t);
	/* an empty file is an empty text */
	t = fp_file_read_whole(_write("empty", "", 0), 8);
	assert_non_null(t);
	assert_string_equal(t, "");
	free(t);
}

static void missing_long_and_binary_files_fail_with_their_errno(void **state)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/none", dir);
	errno = 0;
	assert_null(fp_file_read_whole(path, 64));
	assert_int_equal(errno, ENOENT);
	errno = 0;
	assert_null(fp_file_read_whole(_write("long", "123456789", 9), 8));
	assert_int_equal(errno, EFBIG);
	errno = 0;
	assert_null(fp_file_read_whole(_write("nul", "ab\0cd", 5), 64));
	assert_int_equal(errno, EILSEQ);
	/* a NUL at the end is not white space to cut */
	errno = 0;
	assert_null(fp_file_read_whole(_write("nul2", "abc\0\n", 5), 64));
	assert_int_equal(errno, EILSEQ);
	errno = 0;
	assert_null(fp_file_read_whole(dir, 64)); /* a folder */
	assert_int_equal(errno, EISDIR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			whole_file_reads_with_trailing_white_space_cut, _setup,
			_teardown),
		cmocka_unit_test_setup_teardown(
			missing_long_and_binary_files_fail_with_their_errno,
			_setup, _teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
