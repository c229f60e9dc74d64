/* Specification of the per-step hand-off between the node poller and the
 * step daemons (lib/publish). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "publish.h"

static char dir[64];

static int setup(void **state)
{
	strcpy(dir, "/tmp/fp-publish-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void test_published_value_reads_back_exactly(void **state)
{
	fp_step_value_t v = { .energy_j = 1234.5, .power_w = 17.25,
			      .t = 1732350000.5, .simulated = true };
	fp_step_value_t r;
	fp_error_t err;

	strcpy(v.source, "calibrated");
	assert_int_equal(fp_publish_step(dir, "42.batch", &v, &err), 0);
	assert_int_equal(fp_read_step(dir, "42.batch", &r, &err), 0);
	assert_true(r.energy_j == 1234.5);
	assert_true(r.power_w == 17.25);
	assert_true(r.t == 1732350000.5);
	assert_string_equal(r.source, "calibrated");
	assert_true(r.simulated);
	assert_false(r.ended);
}

static void test_republishing_replaces_the_value(void **state)
{
	fp_step_value_t v = { .energy_j = 1 }, r;
	fp_error_t err;

	strcpy(v.source, "wall");
	assert_int_equal(fp_publish_step(dir, "7.0", &v, &err), 0);
	v.energy_j = 2;
	v.ended = true;
	assert_int_equal(fp_publish_step(dir, "7.0", &v, &err), 0);
	assert_int_equal(fp_read_step(dir, "7.0", &r, &err), 0);
	assert_true(r.energy_j == 2);
	assert_true(r.ended);
}

static void test_missing_record_is_an_io_error_naming_the_path(void **state)
{
	fp_step_value_t r;
	fp_error_t err;

	assert_int_equal(fp_read_step(dir, "9.extern", &r, &err), -1);
	assert_int_equal(err.code, FP_EIO);
	assert_non_null(strstr(err.msg, "9.extern"));
}

static void test_garbage_record_is_rejected(void **state)
{
	char path[128];
	fp_step_value_t r;
	fp_error_t err;
	FILE *f;

	snprintf(path, sizeof(path), "%s/5.1", dir);
	f = fopen(path, "w");
	fputs("hello world\n", f);
	fclose(f);
	assert_int_equal(fp_read_step(dir, "5.1", &r, &err), -1);
	assert_int_equal(err.code, FP_EPARSE);
	assert_non_null(strstr(err.msg, path));
}

static void test_step_ids_that_escape_the_folder_are_refused(void **state)
{
	fp_step_value_t v = { 0 };
	fp_error_t err;

	assert_int_equal(fp_publish_step(dir, "../etc", &v, &err), -1);
	assert_int_equal(fp_publish_step(dir, "1/2", &v, &err), -1);
	assert_int_equal(fp_publish_step(dir, "", &v, &err), -1);
	assert_int_equal(err.code, FP_EINVAL);
}

static void test_prune_removes_only_old_records(void **state)
{
	fp_step_value_t v = { 0 };
	fp_error_t err;
	char path[128];
	struct stat st;

	strcpy(v.source, "rapl");
	fp_publish_step(dir, "1.0", &v, &err);
	fp_publish_step(dir, "2.0", &v, &err);
	snprintf(path, sizeof(path), "%s/1.0", dir);
	stat(path, &st);
	/* "now" one hour later: both are old; 10 s later: none is. */
	assert_int_equal(fp_publish_prune(dir, (double)st.st_mtime + 10, 60), 0);
	assert_int_equal(fp_publish_prune(dir, (double)st.st_mtime + 3600, 60), 2);
	assert_int_equal(fp_read_step(dir, "1.0", &v, &err), -1);
}

static void test_unpublish_is_idempotent(void **state)
{
	fp_step_value_t v = { 0 };
	fp_error_t err;

	strcpy(v.source, "rapl");
	fp_publish_step(dir, "3.batch", &v, &err);
	assert_int_equal(fp_unpublish_step(dir, "3.batch", &err), 0);
	assert_int_equal(fp_unpublish_step(dir, "3.batch", &err), 0);
	assert_int_equal(fp_read_step(dir, "3.batch", &v, &err), -1);
}

static void test_job_labels_read_back_with_newlines_flattened(void **state)
{
	char user[64], account[64];
	fp_error_t err;

	assert_int_equal(fp_publish_job_labels(dir, 4242, "alice", "ph\nys",
					       &err), 0);
	assert_int_equal(fp_read_job_labels(dir, 4242, user, sizeof(user),
					    account, sizeof(account), &err), 0);
	assert_string_equal(user, "alice");
	assert_string_equal(account, "ph ys");
	assert_int_equal(fp_read_job_labels(dir, 4243, user, sizeof(user),
					    account, sizeof(account), &err), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_published_value_reads_back_exactly, setup, teardown),
		cmocka_unit_test_setup_teardown(test_republishing_replaces_the_value, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_record_is_an_io_error_naming_the_path, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_record_is_rejected, setup, teardown),
		cmocka_unit_test_setup_teardown(test_step_ids_that_escape_the_folder_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prune_removes_only_old_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unpublish_is_idempotent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_labels_read_back_with_newlines_flattened, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
