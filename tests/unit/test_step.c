/* Specification of lib/step_gpus: which GPUs a step holds, from its
 * environment to the node's devices through the run folder. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "footprint/gpu.h"
#include "footprint/step.h"

static char root[64];

static void _put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* Two hwmon GPUs: Intel at 0000:03:00.0 (device 0), AMD at 0000:83:00.0
 * (device 1). */
static fp_gpu_t *_two_gpus(void)
{
	static const char *const pci[2] = { "0000:03:00.0", "0000:83:00.0" };
	static const char *const drv[2] = { "i915", "amdgpu" };
	char p[256], link[256];
	fp_gpu_opts_t o = { .hwmon_root = root,
			    .nvml_lib = "",
			    .amdsmi_lib = "" };
	fp_error_t err;
	fp_gpu_t *g;

	snprintf(p, sizeof(p), "%s/pci", root);
	mkdir(p, 0755);
	for (int i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s/pci/%s", root, pci[i]);
		mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/pci/%s/device", root, pci[i]);
		_put(p, "0x56a0\n");
		snprintf(p, sizeof(p), "%s/hwmon%d", root, i);
		mkdir(p, 0755);
		snprintf(p, sizeof(p), "%s/hwmon%d/name", root, i);
		_put(p, drv[i]);
		snprintf(p, sizeof(p), "%s/hwmon%d/energy1_input", root, i);
		_put(p, "1000\n");
		snprintf(p, sizeof(p), "%s/hwmon%d/device", root, i);
		snprintf(link, sizeof(link), "%s/pci/%s", root, pci[i]);
		assert_int_equal(symlink(link, p), 0);
	}
	g = fp_gpu_open(&o, &err);
	if (!g)
		fail_msg("fp_gpu_open: %s", err.msg);
	return g;
}

static int _setup(void **state)
{
	snprintf(root, sizeof(root), "/tmp/test_step.XXXXXX");
	assert_non_null(mkdtemp(root));
	return 0;
}

static int _teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static void slurm_step_gpus_comes_before_the_runtimes_lists(void **state)
{
	char *env[] = { "CUDA_VISIBLE_DEVICES=0", "PATH=/bin",
			"SLURM_STEP_GPUS=2,3", NULL };
	char *batch[] = { "SLURM_JOB_GPUS=1", "GPU_DEVICE_ORDINAL=0", NULL };
	char *rocm[] = { "ROCR_VISIBLE_DEVICES=GPU-abc", NULL };
	const char *var = NULL;

	assert_string_equal(fp_step_gpus_from_env(env, &var), "2,3");
	assert_string_equal(var, "SLURM_STEP_GPUS");
	assert_string_equal(fp_step_gpus_from_env(batch, &var), "1");
	assert_string_equal(var, "SLURM_JOB_GPUS");
	assert_string_equal(fp_step_gpus_from_env(rocm, &var), "GPU-abc");
}

static void no_gpu_variable_or_nodevfiles_means_no_gpu(void **state)
{
	char *none[] = { "PATH=/bin", "SLURM_STEP_GPUSX=1", NULL };
	char *nodev[] = { "CUDA_VISIBLE_DEVICES=NoDevFiles", NULL };
	char *empty[] = { "SLURM_STEP_GPUS=", NULL };

	assert_null(fp_step_gpus_from_env(none, NULL));
	assert_null(fp_step_gpus_from_env(nodev, NULL));
	assert_null(fp_step_gpus_from_env(empty, NULL));
	assert_null(fp_step_gpus_from_env(NULL, NULL));
}

static void written_list_reads_back_and_a_missing_one_is_eio(void **state)
{
	char buf[64];
	fp_error_t err;

	assert_int_equal(fp_step_gpus_write(root, "42.0", "0,2", &err), 0);
	assert_int_equal(
		fp_step_gpus_read(root, "42.0", buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "0,2");
	assert_int_equal(fp_step_gpus_write(root, "42.batch", "", &err), 0);
	assert_int_equal(
		fp_step_gpus_read(root, "42.batch", buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "");
	fp_step_gpus_remove(root, "42.0");
	assert_int_equal(
		fp_step_gpus_read(root, "42.0", buf, sizeof(buf), &err), -1);
	assert_int_equal(err.code, FP_EIO);
	assert_int_equal(fp_step_gpus_write(root, "../x", "0", &err), -1);
	assert_int_equal(err.code, FP_EINVAL);
}

static void ids_map_by_ordinal_pci_address_and_subdevice(void **state)
{
	fp_gpu_t *g = _two_gpus();
	size_t out[8], n;
	fp_error_t err;

	assert_int_equal(fp_gpu_map_ids("1", g, out, 8, &n, NULL, 0, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 1);
	assert_int_equal(fp_gpu_map_ids("0000:83:00.0, 03:00.0", g, out, 8, &n,
					NULL, 0, &err),
			 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 0);
	/* ZE_AFFINITY_MASK sub-devices of one device: that device once */
	assert_int_equal(fp_gpu_map_ids("1.0,1.1,0000:83:00.0", g, out, 8, &n,
					NULL, 0, &err),
			 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 1);
	assert_int_equal(fp_gpu_map_ids("", g, out, 8, &n, NULL, 0, &err), 0);
	assert_int_equal(n, 0);
	fp_gpu_close(g);
}

static void an_id_of_no_gpu_here_is_named_and_the_rest_kept(void **state)
{
	fp_gpu_t *g = _two_gpus();
	size_t out[8], n;
	char unknown[64], tiny[4];
	fp_error_t err;

	assert_int_equal(fp_gpu_map_ids("0,7,GPU-nope", g, out, 8, &n, unknown,
					sizeof(unknown), &err),
			 -1);
	assert_int_equal(err.code, FP_EINVAL);
	assert_non_null(strstr(err.msg, "\"7\""));
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 0);
	/* every id of no GPU, for the step's record: the first is not
	 * enough when a job held several the node could not read */
	assert_string_equal(unknown, "7,GPU-nope");
	/* what does not fit is left out whole, never cut */
	assert_int_equal(fp_gpu_map_ids("7,GPU-nope", g, out, 8, &n, tiny,
					sizeof(tiny), &err),
			 -1);
	assert_string_equal(tiny, "7");
	/* all found: none unknown */
	assert_int_equal(fp_gpu_map_ids("1", g, out, 8, &n, unknown,
					sizeof(unknown), &err),
			 0);
	assert_string_equal(unknown, "");
	fp_gpu_close(g);
}

static void step_ids_read_as_sacct_writes_them(void **state)
{
	char id[FP_STEP_ID_MAX];

	fp_step_id_format(id, sizeof(id), 7, FP_STEP_BATCH);
	assert_string_equal(id, "7.batch");
	fp_step_id_format(id, sizeof(id), 7, FP_STEP_EXTERN);
	assert_string_equal(id, "7.extern");
	fp_step_id_format(id, sizeof(id), 7, FP_STEP_INTERACTIVE);
	assert_string_equal(id, "7.interactive");
	fp_step_id_format(id, sizeof(id), 7, 3);
	assert_string_equal(id, "7.3");
	/* the step's part alone, as sfootprint's table shows it */
	fp_step_id_format(id, sizeof(id), 0, FP_STEP_BATCH);
	assert_string_equal(id, "batch");
	fp_step_id_format(id, sizeof(id), 0, 12);
	assert_string_equal(id, "12");
	/* the longest fits FP_STEP_ID_MAX */
	assert_int_equal(fp_step_id_format(id, sizeof(id), UINT64_MAX,
					   FP_STEP_INTERACTIVE),
			 FP_STEP_ID_MAX - 1);
	assert_string_equal(id, "18446744073709551615.interactive");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(step_ids_read_as_sacct_writes_them),
		cmocka_unit_test_setup_teardown(
			slurm_step_gpus_comes_before_the_runtimes_lists, _setup,
			_teardown),
		cmocka_unit_test_setup_teardown(
			no_gpu_variable_or_nodevfiles_means_no_gpu, _setup,
			_teardown),
		cmocka_unit_test_setup_teardown(
			written_list_reads_back_and_a_missing_one_is_eio,
			_setup, _teardown),
		cmocka_unit_test_setup_teardown(
			ids_map_by_ordinal_pci_address_and_subdevice, _setup,
			_teardown),
		cmocka_unit_test_setup_teardown(
			an_id_of_no_gpu_here_is_named_and_the_rest_kept, _setup,
			_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
