/* Specification of lib/step_gpus' step records for the summary: a GPU's idle
 * floor from its counters, and a step's energy by part through a folder. */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <cmocka.h>

#include "footprint/gpu.h"
#include "footprint/step.h"

static char root[64];

static int setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/fp-parts.XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	return system(cmd);
}

static void test_floor_is_the_lowest_power_over_a_window(void **state)
{
	fp_gpu_floor_t *f = fp_gpu_floor_new(2);
	/* GPU 0: 100 W, then 30 W, then 60 W, each for one 2 s window;
	 * GPU 1 always 250 W */
	uint64_t uj[4][2] = { { 0, 0 },
			      { 200000000, 500000000 },
			      { 260000000, 1000000000 },
			      { 380000000, 1500000000 } };

	assert_true(isnan(fp_gpu_floor_w(f, 0)));
	for (int i = 0; i < 4; i++)
		fp_gpu_floor_push(f, 10.0 + 2 * i, uj[i], NULL);
	assert_float_equal(fp_gpu_floor_w(f, 0), 30, 1e-9);
	assert_float_equal(fp_gpu_floor_w(f, 1), 250, 1e-9);
	assert_true(isnan(fp_gpu_floor_w(f, 2)));
	fp_gpu_floor_free(f);
}

static void test_short_polls_add_up_to_one_window(void **state)
{
	fp_gpu_floor_t *f = fp_gpu_floor_new(1);
	/* 30 W read by a counter that moves every 100 ms: over the 0.55 s
	 * from 10.0 it shows 15 J (27.3 W); the window goes on to 12.0 */
	uint64_t a = 0, b = 15000000, c = 60000000;

	fp_gpu_floor_push(f, 10.0, &a, NULL);
	fp_gpu_floor_push(f, 10.55, &b, NULL);
	assert_true(isnan(fp_gpu_floor_w(f, 0)));
	fp_gpu_floor_push(f, 12.0, &c, NULL);
	assert_float_equal(fp_gpu_floor_w(f, 0), 30, 1e-9);
	fp_gpu_floor_free(f);
}

static void test_failed_read_or_reset_ends_the_window(void **state)
{
	fp_gpu_floor_t *f = fp_gpu_floor_new(1);
	uint64_t a = 0, b = 60000000, c = 10000000, d = 80000000;
	bool ok = true, bad = false;

	fp_gpu_floor_push(f, 10.0, &a, &ok);
	fp_gpu_floor_push(f, 12.0, &b, &ok); /* 30 W */
	/* a failed read holds the counter: not a window at 0 W */
	fp_gpu_floor_push(f, 14.0, &b, &bad);
	fp_gpu_floor_push(f, 16.0, &b, &ok);
	/* a reset (the counter went down) starts a window, not a power:
	 * 35 W from 18.0, not 5 W from 16.0 */
	fp_gpu_floor_push(f, 18.0, &c, &ok);
	fp_gpu_floor_push(f, 20.0, &d, &ok);
	assert_float_equal(fp_gpu_floor_w(f, 0), 30, 1e-9);
	fp_gpu_floor_free(f);
}

static void test_record_reads_back_from_the_node_folder(void **state)
{
	char dir[128], pattern[128];
	fp_step_parts_gpu_t g = { .index = 2,
				  .uuid = "GPU-2",
				  .model = "A100",
				  .vendor = "nvidia",
				  .source = "counter",
				  .floor_w = 30.5,
				  .energy_j = 550,
				  .idle_s = 6,
				  .judged_s = 15,
				  .unread_s = 2 };
	const char *const unknown[] = { "5" };
	const double src[FP_SOURCE_COUNT] = {
		[FP_SOURCE_WALL] = 800, [FP_SOURCE_RAPL] = 100
	};
	fp_step_parts_t p = { .node = "n7",
			      .first_t = 100,
			      .last_t = 117,
			      .seconds = 18,
			      .energy_j = 900,
			      .cpu_dram_j = 300,
			      .cpu_j = 260,
			      .dram_j = 40,
			      .gpu_j = 550,
			      .rest_j = 50,
			      .gpus = &g,
			      .ngpus = 1,
			      .unknown = unknown,
			      .nunknown = 1,
			      .source_j = src,
			      .meter = "wall-7" };
	fp_error_t err = { 0 };
	json_t *o = NULL, *gj;

	snprintf(dir, sizeof(dir), "%s/n7", root);
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(fp_step_parts_write(dir, "42.batch", &p, &err), 0);
	snprintf(pattern, sizeof(pattern), "%s/%%n", root);
	assert_int_equal(
		fp_step_parts_load(pattern, "n7", "42.batch", &o, &err), 0);
	assert_string_equal(json_string_value(json_object_get(o, "step")),
			    "42.batch");
	assert_float_equal(json_number_value(json_object_get(o, "gpu_j")), 550,
			   0);
	assert_float_equal(json_number_value(json_object_get(o, "seconds")), 18,
			   0);
	gj = json_array_get(json_object_get(o, "gpus"), 0);
	assert_int_equal(json_integer_value(json_object_get(gj, "index")), 2);
	assert_string_equal(json_string_value(json_object_get(gj, "model")),
			    "A100");
	assert_float_equal(json_number_value(json_object_get(gj, "floor_w")),
			   30.5, 0);
	assert_float_equal(json_number_value(json_object_get(gj, "energy_j")),
			   550, 0);
	assert_float_equal(json_number_value(json_object_get(gj, "idle_s")), 6,
			   0);
	assert_float_equal(json_number_value(json_object_get(gj, "judged_s")),
			   15, 0);
	assert_float_equal(json_number_value(json_object_get(gj, "unread_s")),
			   2, 0);
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(o, "gpus_unknown"), 0)),
			    "5");
	/* how the node measured it, for the summary's source */
	assert_float_equal(json_number_value(json_object_get(
				   json_object_get(o, "sources"), "wall")),
			   800, 0);
	assert_float_equal(json_number_value(json_object_get(
				   json_object_get(o, "sources"), "rapl")),
			   100, 0);
	assert_float_equal(
		json_number_value(json_object_get(json_object_get(o, "sources"),
						  "calibrated")),
		0, 0);
	assert_true(json_is_false(json_object_get(o, "simulated")));
	assert_string_equal(json_string_value(json_object_get(o, "meter")),
			    "wall-7");
	assert_float_equal(json_number_value(json_object_get(o, "cpu_j")), 260,
			   0);
	assert_float_equal(json_number_value(json_object_get(o, "dram_j")), 40,
			   0);
	assert_float_equal(json_number_value(json_object_get(o, "cpu_dram_j")),
			   300, 0);
	json_decref(o);
}

static void test_unknown_floor_is_written_as_null(void **state)
{
	fp_step_parts_gpu_t g = { .index = 0, .floor_w = NAN };
	fp_step_parts_t p = { .node = "n1", .gpus = &g, .ngpus = 1 };
	fp_error_t err = { 0 };
	json_t *o = NULL;

	assert_int_equal(fp_step_parts_write(root, "7.0", &p, &err), 0);
	assert_int_equal(fp_step_parts_load(root, "n1", "7.0", &o, &err), 0);
	assert_true(json_is_null(json_object_get(
		json_array_get(json_object_get(o, "gpus"), 0), "floor_w")));
	json_decref(o);
}

static void test_absent_record_is_eio_and_a_foreign_one_eparse(void **s)
{
	char path[128];
	fp_error_t err = { 0 };
	json_t *o = NULL;
	FILE *f;

	assert_int_equal(fp_step_parts_load(root, "n1", "9.0", &o, &err), -1);
	assert_int_equal(err.code, FP_EIO);
	snprintf(path, sizeof(path), "%s/9.1", root);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("{\"v\": 2, \"energy_j\": 1, \"gpus\": []}\n", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(fp_step_parts_load(root, "n1", "9.1", &o, &err), -1);
	assert_int_equal(err.code, FP_EPARSE);
	assert_null(o);
}

/* footprint-worker runs as SlurmUser, not root: it reads the record
 * through the group the poller gave the folder, whatever slurmd's umask. */
static void test_record_is_0640_in_its_folders_group(void **state)
{
	char dir[128], path[160];
	fp_step_parts_t p = { .node = "n1" };
	fp_error_t err = { 0 };
	struct stat st;
	gid_t g = getegid();
	mode_t old = umask(0);

	snprintf(dir, sizeof(dir), "%s/grp", root);
	assert_int_equal(mkdir(dir, 0750), 0);
	/* root (as slurmd) gives the records a group it is not in */
	if (geteuid() == 0) {
		g = 65534;
		assert_int_equal(chown(dir, (uid_t)-1, g), 0);
	}
	assert_int_equal(fp_step_parts_write(dir, "5.0", &p, &err), 0);
	umask(old);
	snprintf(path, sizeof(path), "%s/5.0", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_gid, g);
}

/* Run as a user who may not read it (nobody, when the test is root). */
static int _load_as_other(const char *dir, const char *step, json_t **o,
			  fp_error_t *err)
{
	uid_t me = geteuid();
	int rc;

	if (me == 0)
		assert_int_equal(seteuid(65534), 0);
	rc = fp_step_parts_load(dir, "n1", step, o, err);
	if (me == 0)
		assert_int_equal(seteuid(0), 0);
	return rc;
}

/* A record the worker may not read is not one that has not come yet: the
 * worker says so (file and errno) rather than wait for it or count it
 * silently missing. */
static void test_unreadable_record_or_folder_is_eacces_not_absent(void **s)
{
	char dir[128], path[160];
	fp_step_parts_t p = { .node = "n1" };
	fp_error_t err = { 0 };
	json_t *o = NULL;

	assert_int_equal(chmod(root, 0711), 0);
	snprintf(dir, sizeof(dir), "%s/locked", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	assert_int_equal(fp_step_parts_write(dir, "6.0", &p, &err), 0);
	snprintf(path, sizeof(path), "%s/6.0", dir);
	assert_int_equal(chmod(path, 0), 0);
	assert_int_equal(_load_as_other(dir, "6.0", &o, &err), -1);
	assert_int_equal(err.code, FP_EACCES);
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, strerror(EACCES)));
	assert_null(o);
	/* a folder it may not enter hides the record the same way */
	assert_int_equal(chmod(path, 0640), 0);
	assert_int_equal(chmod(dir, 0700), 0);
	if (geteuid() != 0)
		assert_int_equal(chmod(dir, 0), 0);
	assert_int_equal(_load_as_other(dir, "6.0", &o, &err), -1);
	assert_int_equal(err.code, FP_EACCES);
	/* still absent (not unreadable) when the folder is readable */
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(_load_as_other(dir, "6.9", &o, &err), -1);
	assert_int_equal(err.code, FP_EIO);
	assert_int_equal(chmod(root, 0700), 0);
}

static void test_bad_step_id_is_refused(void **state)
{
	fp_step_parts_t p = { .node = "n1" };
	fp_error_t err = { 0 };

	assert_int_equal(fp_step_parts_write(root, "../x", &p, &err), -1);
	assert_int_equal(err.code, FP_EINVAL);
}

/* "%n" is the node's name wherever it stands, as often as it stands; a
 * folder that does not fit is refused, never cut short. */
static void
test_parts_dir_names_the_node_and_refuses_what_does_not_fit(void **state)
{
	char out[64], longer[80];
	fp_error_t err = { 0 };
	json_t *o = NULL;

	assert_int_equal(
		fp_step_parts_dir("/s/%n/parts", "fpn2", out, sizeof(out)), 0);
	assert_string_equal(out, "/s/fpn2/parts");
	assert_int_equal(fp_step_parts_dir("/s/%n/x-%n", "a", out, sizeof(out)),
			 0);
	assert_string_equal(out, "/s/a/x-a");
	assert_int_equal(fp_step_parts_dir("/s/%d/100%", "a", out, sizeof(out)),
			 0);
	assert_string_equal(out, "/s/%d/100%");
	/* exactly full: 13 characters and the NUL in 14 bytes */
	assert_int_equal(fp_step_parts_dir("/s/%n/parts", "fpn2", out, 14), 0);
	assert_int_equal(fp_step_parts_dir("/s/%n/parts", "fpn2", out, 13), -1);
	memset(longer, 'n', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	assert_int_equal(fp_step_parts_dir("/s/%n", longer, out, sizeof(out)),
			 -1);
	/* the loader says so, naming the folder and node */
	{
		char node[5000];

		memset(node, 'n', sizeof(node) - 1);
		node[sizeof(node) - 1] = '\0';
		assert_int_equal(
			fp_step_parts_load("/s/%n", node, "1.0", &o, &err), -1);
		assert_int_equal(err.code, FP_EINVAL);
		assert_non_null(strstr(err.msg, "too long"));
		assert_null(o);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_floor_is_the_lowest_power_over_a_window),
		cmocka_unit_test(test_short_polls_add_up_to_one_window),
		cmocka_unit_test(test_failed_read_or_reset_ends_the_window),
		cmocka_unit_test(test_record_reads_back_from_the_node_folder),
		cmocka_unit_test(test_unknown_floor_is_written_as_null),
		cmocka_unit_test(
			test_absent_record_is_eio_and_a_foreign_one_eparse),
		cmocka_unit_test(test_bad_step_id_is_refused),
		cmocka_unit_test(
			test_parts_dir_names_the_node_and_refuses_what_does_not_fit),
		cmocka_unit_test(test_record_is_0640_in_its_folders_group),
		cmocka_unit_test(
			test_unreadable_record_or_folder_is_eacces_not_absent),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
