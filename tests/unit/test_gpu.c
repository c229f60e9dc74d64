/* Specification of lib/gpu: amdgpu and i915/xe hwmon trees generated in
 * temporary directories, NVIDIA and AMD SMI through the project's test
 * libraries. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "footprint/engine.h"
#include "footprint/gpu.h"
#include "footprint/step.h"
#include "sysfs_tree.h"

#ifndef FP_FAKE_NVML
#error "FP_FAKE_NVML: the path of the test NVML library (Makefile)"
#endif
#ifndef FP_FAKE_AMDSMI
#error "FP_FAKE_AMDSMI: the path of the test AMD SMI library (Makefile)"
#endif

static void _putu(const char *dir, const char *file, uint64_t v)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%llu\n", (unsigned long long)v);
	_put(dir, file, buf);
}

static char *_root(void)
{
	return _tree_root("/tmp/test_gpu.XXXXXX");
}

/* root/pci/<addr> as the PCI device (device id, product name), and
 * root/<rel> a hwmon directory named `driver` linked to it. Returns the
 * hwmon directory in dir. */
static void _hwmon(const char *root, const char *rel, const char *driver,
		   const char *pci, const char *devid, const char *product,
		   char *dir, size_t size)
{
	char p[1024], link[1024];

	snprintf(p, sizeof(p), "%s/pci", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/pci/%s", root, pci);
	assert_int_equal(mkdir(p, 0755), 0);
	if (devid)
		_put(p, "device", devid);
	if (product)
		_put(p, "product_name", product);
	snprintf(dir, size, "%s/%s", root, rel);
	assert_int_equal(mkdir(dir, 0755), 0);
	_put(dir, "name", driver);
	snprintf(link, sizeof(link), "%s/pci/%s", root, pci);
	snprintf(p, sizeof(p), "%s/device", dir);
	assert_int_equal(symlink(link, p), 0);
}

static fp_gpu_t *_open_hwmon(const char *root, logs_t *l)
{
	fp_gpu_opts_t o = { .hwmon_root = root,
			    .nvml_lib = "",
			    .amdsmi_lib = "",
			    .log = _log,
			    .log_ctx = l };
	fp_error_t err;
	fp_gpu_t *g = fp_gpu_open(&o, &err);

	if (!g)
		fail_msg("fp_gpu_open: %s", err.msg);
	return g;
}

/* One Intel i915 card at 0000:03:00.0 with energy1_input = e. */
static char *_intel(uint64_t e, char *dir, size_t size)
{
	char *r = _root();

	_hwmon(r, "hwmon2", "i915", "0000:03:00.0", "0x56a0", NULL, dir, size);
	_putu(dir, "energy1_input", e);
	return r;
}

static void hwmon_finds_amd_and_intel_gpus_ordered_by_pci_address(void **st)
{
	char d0[1024], d1[1024], d2[1024];
	char *r = _root();
	logs_t l = { 0 };
	fp_gpu_t *g;
	const fp_gpu_info_t *i0, *i1;

	(void)st;
	_hwmon(r, "hwmon0", "coretemp", "0000:00:18.3", NULL, NULL, d0,
	       sizeof(d0));
	_put(d0, "temp1_input", "40000\n");
	_hwmon(r, "hwmon1", "amdgpu", "0000:83:00.0", "0x740f",
	       "AMD Instinct MI210", d1, sizeof(d1));
	_put(d1, "power1_average", "90000000\n");
	_hwmon(r, "hwmon2", "i915", "0000:03:00.0", "0x56a0", NULL, d2,
	       sizeof(d2));
	_put(d2, "energy1_input", "1000\n");
	g = _open_hwmon(r, &l);
	assert_int_equal(fp_gpu_ndevices(g), 2);
	i0 = fp_gpu_device(g, 0);
	i1 = fp_gpu_device(g, 1);
	assert_int_equal(i0->vendor, FP_GPU_INTEL);
	assert_string_equal(i0->pci, "0000:03:00.0");
	assert_string_equal(i0->uuid, "0000:03:00.0");
	assert_string_equal(i0->name, "i915");
	assert_int_equal(i0->source, FP_GPU_COUNTER);
	assert_int_equal(i1->vendor, FP_GPU_AMD);
	assert_int_equal(i1->index, 1);
	assert_string_equal(i1->pci, "0000:83:00.0");
	assert_string_equal(i1->name, "AMD Instinct MI210");
	assert_int_equal(i1->source, FP_GPU_POWER_INTEGRAL);
	assert_string_equal(fp_gpu_source_name(i1->source), "power-integral");
	assert_string_equal(fp_gpu_vendor_name(i1->vendor), "amd");
	assert_int_equal(i1->flags & FP_GPU_APU, 0);
	assert_null(fp_gpu_device(g, 2));
	assert_int_equal(l.n, 0);
	fp_gpu_close(g);
	_rm(r);
}

static void drm_root_finds_card_hwmon_and_xe_package_counter(void **st)
{
	char d[1024], p[1024];
	char *r = _root();
	logs_t l = { 0 };
	fp_gpu_t *g;

	(void)st;
	snprintf(p, sizeof(p), "%s/card0", r);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/card0/device", r);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/card0/device/hwmon", r);
	assert_int_equal(mkdir(p, 0755), 0);
	/* the connector and render node are the same card again */
	snprintf(p, sizeof(p), "%s/card0-DP-1", r);
	assert_int_equal(mkdir(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/renderD128", r);
	assert_int_equal(mkdir(p, 0755), 0);
	_hwmon(r, "card0/device/hwmon/hwmon5", "xe", "0000:4D:00.0", "0xe20b",
	       NULL, d, sizeof(d));
	_put(d, "energy2_input", "77\n");
	g = _open_hwmon(r, &l);
	assert_int_equal(fp_gpu_ndevices(g), 1);
	assert_int_equal(fp_gpu_device(g, 0)->vendor, FP_GPU_INTEL);
	assert_string_equal(fp_gpu_device(g, 0)->pci, "0000:4d:00.0");
	assert_string_equal(fp_gpu_device(g, 0)->path, d);
	assert_int_equal(fp_gpu_device(g, 0)->source, FP_GPU_COUNTER);
	fp_gpu_close(g);
	_rm(r);
}

static void counter_energy_is_the_increase_since_the_first_read(void **st)
{
	char d[1024];
	char *r = _intel(1000, d, sizeof(d));
	logs_t l = { 0 };
	fp_gpu_t *g = _open_hwmon(r, &l);
	fp_gpu_reading_t rd;

	(void)st;
	assert_int_equal(fp_gpu_read(g, 0.0, &rd, NULL), 1);
	assert_true(rd.valid);
	assert_int_equal(rd.event, FP_GPU_EV_BASELINE);
	assert_int_equal(rd.energy_uj, 0);
	_putu(d, "energy1_input", 1500);
	assert_int_equal(fp_gpu_read(g, 1.0, &rd, NULL), 1);
	assert_int_equal(rd.energy_uj, 500);
	assert_int_equal(rd.event, FP_GPU_EV_NONE);
	assert_string_equal(rd.fault, "");
	_putu(d, "energy1_input", 3000);
	fp_gpu_read(g, 2.0, &rd, NULL);
	assert_int_equal(rd.energy_uj, 2000);
	fp_gpu_close(g);
	_rm(r);
}

static void counter_wrap_adds_the_range_and_says_so(void **st)
{
	char d[1024];
	char *r = _intel(UINT64_MAX - 999, d, sizeof(d));
	logs_t l = { 0 };
	fp_gpu_t *g = _open_hwmon(r, &l);
	fp_gpu_reading_t rd;

	(void)st;
	fp_gpu_read(g, 0.0, &rd, NULL);
	_putu(d, "energy1_input", 500);
	assert_int_equal(fp_gpu_read(g, 1.0, &rd, NULL), 1);
	assert_true(rd.valid);
	assert_int_equal(rd.event, FP_GPU_EV_WRAP);
	assert_int_equal(rd.energy_uj, 1500); /* 999 + 1 + 500 */
	fp_gpu_close(g);
	_rm(r);
}

static void counter_going_down_is_a_reset_with_no_value_then_new_base(void **st)
{
	char d[1024];
	char *r = _intel(9000000000ULL, d, sizeof(d));
	logs_t l = { 0 };
	fp_gpu_t *g = _open_hwmon(r, &l);
	fp_gpu_reading_t rd;

	(void)st;
	fp_gpu_read(g, 0.0, &rd, NULL);
	_putu(d, "energy1_input", 9000004000ULL);
	fp_gpu_read(g, 1.0, &rd, NULL);
	assert_int_equal(rd.energy_uj, 4000);
	_putu(d, "energy1_input", 100); /* driver reloaded */
	assert_int_equal(fp_gpu_read(g, 2.0, &rd, NULL), 0);
	assert_false(rd.valid);
	assert_int_equal(rd.event, FP_GPU_EV_RESET);
	assert_int_equal(rd.energy_uj, 4000); /* held, never down */
	assert_int_equal(l.n, 1);
	assert_non_null(strstr(l.last, "reset"));
	_putu(d, "energy1_input", 400);
	assert_int_equal(fp_gpu_read(g, 3.0, &rd, NULL), 1);
	assert_int_equal(rd.energy_uj, 4300);
	fp_gpu_close(g);
	_rm(r);
}

static void
failed_read_is_unavailable_logged_once_and_the_next_carries_the_gap(void **st)
{
	char d[1024];
	char *r = _intel(1000, d, sizeof(d));
	logs_t l = { 0 };
	fp_gpu_t *g = _open_hwmon(r, &l);
	fp_gpu_reading_t rd;
	fp_error_t err;

	(void)st;
	fp_gpu_read(g, 0.0, &rd, &err);
	assert_int_equal(err.code, FP_OK);
	_put(d, "energy1_input", "12ab\n");
	assert_int_equal(fp_gpu_read(g, 1.0, &rd, &err), 0);
	assert_false(rd.valid);
	assert_int_equal(rd.event, FP_GPU_EV_FAILED);
	assert_int_equal(rd.energy_uj, 0);
	assert_int_equal(err.code, FP_EIO);
	assert_non_null(strstr(err.msg, "gpu 0 (intel 0000:03:00.0)"));
	assert_non_null(strstr(err.msg, "energy1_input: not a number"));
	assert_string_equal(rd.fault, err.msg);
	_put(d, "energy1_input", "");
	assert_int_equal(fp_gpu_read(g, 2.0, &rd, &err), 0);
	assert_non_null(strstr(rd.fault, "empty"));
	assert_int_equal(l.n, 1);
	_putu(d, "energy1_input", 7000);
	assert_int_equal(fp_gpu_read(g, 3.0, &rd, &err), 1);
	assert_int_equal(err.code, FP_OK);
	assert_int_equal(rd.event, FP_GPU_EV_RETURNED);
	assert_int_equal(rd.energy_uj, 6000);
	fp_gpu_close(g);
	_rm(r);
}

static void
vanished_device_is_unavailable_and_returns_under_a_new_number(void **st)
{
	char d[1024], d2[1024], cmd[2100], p[1024];
	char *r = _intel(1000, d, sizeof(d));
	logs_t l = { 0 };
	fp_gpu_t *g = _open_hwmon(r, &l);
	fp_gpu_reading_t rd;

	(void)st;
	fp_gpu_read(g, 0.0, &rd, NULL);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(fp_gpu_read(g, 1.0, &rd, NULL), 0);
	assert_false(rd.valid);
	assert_non_null(strstr(rd.fault, "No such file"));
	/* back as hwmon7, same PCI device */
	snprintf(d2, sizeof(d2), "%s/hwmon7", r);
	assert_int_equal(mkdir(d2, 0755), 0);
	_put(d2, "name", "i915");
	_putu(d2, "energy1_input", 2500);
	snprintf(cmd, sizeof(cmd), "%s/pci/0000:03:00.0", r);
	snprintf(p, sizeof(p), "%s/device", d2);
	assert_int_equal(symlink(cmd, p), 0);
	assert_int_equal(fp_gpu_read(g, 2.0, &rd, NULL), 1);
	assert_int_equal(rd.event, FP_GPU_EV_RETURNED);
	assert_int_equal(rd.energy_uj, 1500);
	assert_string_equal(fp_gpu_device(g, 0)->path, d2);
	assert_string_equal(fp_gpu_device(g, 0)->uuid, "0000:03:00.0");
	fp_gpu_close(g);
	_rm(r);
}

static void
amd_power_is_integrated_by_trapezoid_over_the_callers_times(void **st)
{
	char d[1024];
	char *r = _root();
	logs_t l = { 0 };
	fp_gpu_t *g;
	fp_gpu_reading_t rd;

	(void)st;
	_hwmon(r, "hwmon3", "amdgpu", "0000:c1:00.0", "0x740f", NULL, d,
	       sizeof(d));
	_put(d, "power1_input", "100000000\n"); /* 100 W */
	g = _open_hwmon(r, &l);
	assert_int_equal(fp_gpu_device(g, 0)->source, FP_GPU_POWER_INTEGRAL);
	assert_string_equal(fp_gpu_device(g, 0)->name, "amdgpu");
	fp_gpu_read(g, 10.0, &rd, NULL);
	assert_int_equal(rd.energy_uj, 0);
	_put(d, "power1_input", "200000000\n");
	fp_gpu_read(g, 12.0, &rd, NULL);
	assert_int_equal(rd.energy_uj, 300000000); /* (100+200)/2 W * 2 s */
	fp_gpu_read(g, 12.0, &rd, NULL); /* no time passed: nothing added */
	assert_int_equal(rd.energy_uj, 300000000);
	fp_gpu_read(g, 13.5, &rd, NULL);
	assert_int_equal(rd.energy_uj, 600000000);
	fp_gpu_close(g);
	_rm(r);
}

static void amd_energy_counter_is_preferred_over_power(void **st)
{
	char d[1024];
	char *r = _root();
	logs_t l = { 0 };
	fp_gpu_t *g;

	(void)st;
	_hwmon(r, "hwmon3", "amdgpu", "0000:c1:00.0", NULL, NULL, d, sizeof(d));
	_put(d, "power1_average", "100000000\n");
	_put(d, "energy1_input", "5\n");
	g = _open_hwmon(r, &l);
	assert_int_equal(fp_gpu_device(g, 0)->source, FP_GPU_COUNTER);
	fp_gpu_close(g);
	_rm(r);
}

static void amd_apu_is_flagged_as_counted_in_rapl(void **st)
{
	char d[1024];
	char *r = _root();
	logs_t l = { 0 };
	fp_gpu_t *g;

	(void)st;
	_hwmon(r, "hwmon1", "amdgpu", "0000:02:00.0", "0x74a0\n",
	       "AMD Instinct MI300A", d, sizeof(d));
	_put(d, "power1_average", "300000000\n");
	g = _open_hwmon(r, &l);
	assert_int_equal(fp_gpu_device(g, 0)->flags & FP_GPU_APU, FP_GPU_APU);
	fp_gpu_close(g);
	_rm(r);
}

static void gpu_hwmon_without_energy_file_is_skipped_with_one_log(void **st)
{
	char d[1024];
	char *r = _root();
	logs_t l = { 0 };
	fp_gpu_opts_t o = { .hwmon_root = r,
			    .nvml_lib = "",
			    .amdsmi_lib = "",
			    .log = _log,
			    .log_ctx = &l };
	fp_error_t err;

	(void)st;
	_hwmon(r, "hwmon1", "i915", "0000:03:00.0", NULL, NULL, d, sizeof(d));
	assert_null(fp_gpu_open(&o, &err));
	assert_int_equal(err.code, FP_ENOTSUP);
	assert_int_equal(l.n, 1);
	assert_non_null(strstr(l.last, "no energy1_input"));
	_rm(r);
}

static void hwmon_devices_have_no_per_process_activity(void **st)
{
	char d[1024];
	char *r = _intel(1000, d, sizeof(d));
	logs_t l = { 0 };
	fp_gpu_t *g = _open_hwmon(r, &l);
	const fp_gpu_proc_t *p;
	size_t n;
	fp_error_t err;

	(void)st;
	assert_int_equal(fp_gpu_procs(g, 0, &p, &n, &err), -1);
	assert_int_equal(err.code, FP_ENOTSUP);
	assert_int_equal(n, 0);
	assert_int_equal(fp_gpu_procs(g, 5, &p, &n, &err), -1);
	assert_int_equal(err.code, FP_EINVAL);
	fp_gpu_close(g);
	_rm(r);
}

/* --- NVIDIA through the test NVML library --- */

static char state[64];

static void _state(const char *text)
{
	char tmp[80];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.new", state);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(rename(tmp, state), 0);
}

static int nvml_setup(void **st)
{
	int fd;

	(void)st;
	snprintf(state, sizeof(state), "/tmp/test_gpu_nvml.XXXXXX");
	fd = mkstemp(state);
	if (fd < 0)
		return -1;
	close(fd);
	setenv("FP_FAKE_NVML_STATE", state, 1);
	return 0;
}

static int nvml_teardown(void **st)
{
	(void)st;
	unlink(state);
	unsetenv("FP_FAKE_NVML_STATE");
	return 0;
}

static fp_gpu_t *_open_nvml(logs_t *l, fp_error_t *err)
{
	fp_gpu_opts_t o = { .hwmon_root = "",
			    .nvml_lib = FP_FAKE_NVML,
			    .amdsmi_lib = "",
			    .log = _log,
			    .log_ctx = l };

	return fp_gpu_open(&o, err);
}

static void missing_nvml_library_is_a_clear_error_not_a_crash(void **st)
{
	fp_gpu_opts_t o = { .hwmon_root = "",
			    .nvml_lib = "/nonexistent/libnvidia-ml.so.1",
			    .amdsmi_lib = "" };
	fp_error_t err;

	(void)st;
	assert_null(fp_gpu_open(&o, &err));
	assert_int_equal(err.code, FP_ENOTSUP);
	assert_non_null(strstr(err.msg, "NVML /nonexistent/libnvidia-ml.so.1: "
					"cannot load"));
	assert_non_null(strstr(err.msg, "No such file"));
}

static void nvml_without_driver_says_nvml_init_failed(void **st)
{
	logs_t l = { 0 };
	fp_error_t err;

	(void)st;
	unlink(state); /* the test library then answers: no driver */
	assert_null(_open_nvml(&l, &err));
	assert_int_equal(err.code, FP_ENOTSUP);
	assert_non_null(strstr(err.msg, "nvmlInit_v2: Driver Not Loaded"));
}

static void nvml_devices_have_uuid_pci_address_and_name(void **st)
{
	logs_t l = { 0 };
	fp_error_t err;
	fp_gpu_t *g;

	(void)st;
	_state("device uuid=GPU-aaaa pci=00000000:3B:00.0 name=\"Tesla T4\" "
	       "energy_mj=10\n"
	       "device uuid=GPU-bbbb pci=00000001:AF:00.0 energy_mj=20 mig=1\n");
	g = _open_nvml(&l, &err);
	assert_non_null(g);
	assert_int_equal(fp_gpu_ndevices(g), 2);
	assert_int_equal(fp_gpu_device(g, 0)->vendor, FP_GPU_NVIDIA);
	assert_string_equal(fp_gpu_device(g, 0)->uuid, "GPU-aaaa");
	assert_string_equal(fp_gpu_device(g, 0)->pci, "0000:3b:00.0");
	assert_string_equal(fp_gpu_device(g, 0)->name, "Tesla T4");
	assert_int_equal(fp_gpu_device(g, 0)->source, FP_GPU_COUNTER);
	assert_int_equal(fp_gpu_device(g, 0)->flags & FP_GPU_MIG, 0);
	assert_string_equal(fp_gpu_device(g, 1)->pci, "0001:af:00.0");
	assert_int_equal(fp_gpu_device(g, 1)->flags & FP_GPU_MIG, FP_GPU_MIG);
	fp_gpu_close(g);
}

static void nvml_energy_counter_in_mj_is_read_in_uj(void **st)
{
	logs_t l = { 0 };
	fp_error_t err;
	fp_gpu_reading_t rd;
	fp_gpu_t *g;

	(void)st;
	_state("device uuid=GPU-aaaa energy_mj=1000\n");
	g = _open_nvml(&l, &err);
	assert_non_null(g);
	fp_gpu_read(g, 0.0, &rd, NULL);
	_state("device uuid=GPU-aaaa energy_mj=1500\n");
	assert_int_equal(fp_gpu_read(g, 1.0, &rd, NULL), 1);
	assert_int_equal(rd.energy_uj, 500000);
	_state("device uuid=GPU-aaaa energy_mj=200\n"); /* GPU reset */
	assert_int_equal(fp_gpu_read(g, 2.0, &rd, NULL), 0);
	assert_int_equal(rd.event, FP_GPU_EV_RESET);
	assert_int_equal(rd.energy_uj, 500000);
	fp_gpu_close(g);
}

static void nvml_without_energy_counter_integrates_power_and_says_so(void **st)
{
	logs_t l = { 0 };
	fp_error_t err;
	fp_gpu_reading_t rd;
	fp_gpu_t *g;

	(void)st;
	_state("device uuid=GPU-aaaa energy_rc=3 power_mw=50000\n");
	g = _open_nvml(&l, &err);
	assert_non_null(g);
	assert_int_equal(fp_gpu_device(g, 0)->source, FP_GPU_POWER_INTEGRAL);
	fp_gpu_read(g, 0.0, &rd, NULL);
	_state("device uuid=GPU-aaaa energy_rc=3 power_mw=70000\n");
	fp_gpu_read(g, 10.0, &rd, NULL);
	assert_int_equal(rd.energy_uj, 600000000); /* 60 W * 10 s */
	fp_gpu_close(g);
}

static void nvml_lost_gpu_is_unavailable_and_returns_by_uuid(void **st)
{
	logs_t l = { 0 };
	fp_error_t err;
	fp_gpu_reading_t rd[2];
	fp_gpu_t *g;

	(void)st;
	_state("device uuid=GPU-aaaa energy_mj=1000\n"
	       "device uuid=GPU-bbbb energy_mj=5000\n");
	g = _open_nvml(&l, &err);
	assert_non_null(g);
	fp_gpu_read(g, 0.0, rd, NULL);
	_state("device uuid=GPU-aaaa energy_mj=1100 lost=1\n"
	       "device uuid=GPU-bbbb energy_mj=5100\n");
	assert_int_equal(fp_gpu_read(g, 1.0, rd, &err), 1);
	assert_false(rd[0].valid);
	assert_non_null(strstr(rd[0].fault, "gpu 0 (nvidia GPU-aaaa)"));
	assert_non_null(strstr(rd[0].fault,
			       "nvmlDeviceGetTotalEnergyConsumption: "
			       "GPU is lost"));
	assert_string_equal(err.msg, rd[0].fault);
	assert_true(rd[1].valid);
	assert_int_equal(rd[1].energy_uj, 100000);
	/* gone from the list, then back at another index */
	_state("device uuid=GPU-bbbb energy_mj=5200\n");
	assert_int_equal(fp_gpu_read(g, 2.0, rd, NULL), 1);
	assert_false(rd[0].valid);
	assert_non_null(strstr(rd[0].fault, "not among NVML's 1 devices"));
	_state("device uuid=GPU-bbbb energy_mj=5300\n"
	       "device uuid=GPU-aaaa energy_mj=1400\n");
	assert_int_equal(fp_gpu_read(g, 3.0, rd, NULL), 2);
	assert_int_equal(rd[0].event, FP_GPU_EV_RETURNED);
	assert_int_equal(rd[0].energy_uj, 400000);
	assert_int_equal(rd[1].energy_uj, 300000);
	assert_int_equal(l.n, 1);
	fp_gpu_close(g);
}

static void nvml_per_process_utilisation_gives_only_new_samples(void **st)
{
	logs_t l = { 0 };
	fp_error_t err;
	const fp_gpu_proc_t *p;
	size_t n;
	fp_gpu_t *g;

	(void)st;
	_state("device uuid=GPU-aaaa energy_mj=1\n"
	       "proc dev=0 pid=100 sm=40 mem=5 ts=1000\n"
	       "proc dev=0 pid=200 sm=55 ts=2000\n");
	g = _open_nvml(&l, &err);
	assert_non_null(g);
	assert_int_equal(fp_gpu_procs(g, 0, &p, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(p[0].pid, 100);
	assert_int_equal(p[0].sm_util, 40);
	assert_int_equal(p[0].mem_util, 5);
	assert_int_equal(p[0].timestamp_us, 1000);
	assert_int_equal(p[1].pid, 200);
	assert_int_equal(p[1].sm_util, 55);
	assert_int_equal(fp_gpu_procs(g, 0, &p, &n, &err), 0);
	assert_int_equal(n, 0);
	_state("device uuid=GPU-aaaa energy_mj=1\n"
	       "proc dev=0 pid=100 sm=40 mem=5 ts=1000\n"
	       "proc dev=0 pid=200 sm=55 ts=2000\n"
	       "proc dev=0 pid=100 sm=90 ts=3000\n");
	assert_int_equal(fp_gpu_procs(g, 0, &p, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(p[0].sm_util, 90);
	_state("device uuid=GPU-aaaa energy_mj=1 procs_rc=3\n");
	assert_int_equal(fp_gpu_procs(g, 0, &p, &n, &err), -1);
	assert_int_equal(err.code, FP_ENOTSUP);
	assert_non_null(strstr(err.msg, "nvmlDeviceGetProcessUtilization: "
					"Not Supported"));
	fp_gpu_close(g);
}

static void nvml_sample_period_runs_from_the_devices_previous_sample(void **st)
{
	logs_t l = { 0 };
	fp_error_t err;
	const fp_gpu_proc_t *p;
	size_t n;
	fp_gpu_t *g;

	(void)st;
	/* out of order, as NVML may give them */
	_state("device uuid=GPU-aaaa energy_mj=1\n"
	       "proc dev=0 pid=200 sm=50 ts=3000\n"
	       "proc dev=0 pid=100 sm=40 ts=1000\n"
	       "proc dev=0 pid=100 sm=140 ts=3000\n");
	g = _open_nvml(&l, &err);
	assert_non_null(g);
	assert_int_equal(fp_gpu_procs(g, 0, &p, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_int_equal(p[0].period_us, 2000);
	assert_int_equal(FP_GPU_PROC_BUSY_NS(&p[0]), 1000000); /* 50% x 2 ms */
	assert_int_equal(p[1].period_us, 0); /* its start is unknown */
	assert_int_equal(p[2].sm_util, 100); /* never above 100 % */
	assert_int_equal(p[2].period_us, 2000);
	_state("device uuid=GPU-aaaa energy_mj=1\n"
	       "proc dev=0 pid=100 sm=10 ts=3500\n");
	assert_int_equal(fp_gpu_procs(g, 0, &p, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(p[0].period_us, 500); /* from the last call's */
	fp_gpu_close(g);
}

static void nvml_devices_come_before_hwmon_devices(void **st)
{
	char d[1024];
	char *r = _intel(1000, d, sizeof(d));
	fp_gpu_opts_t o = { .hwmon_root = r,
			    .nvml_lib = FP_FAKE_NVML,
			    .amdsmi_lib = "" };
	fp_error_t err;
	fp_gpu_reading_t rd[2];
	fp_gpu_t *g;

	(void)st;
	_state("device uuid=GPU-aaaa pci=00000000:CA:00.0 energy_mj=1\n");
	g = fp_gpu_open(&o, &err);
	assert_non_null(g);
	assert_int_equal(fp_gpu_ndevices(g), 2);
	assert_int_equal(fp_gpu_device(g, 0)->vendor, FP_GPU_NVIDIA);
	assert_int_equal(fp_gpu_device(g, 1)->vendor, FP_GPU_INTEL);
	assert_int_equal(fp_gpu_read(g, 0.0, rd, &err), 2);
	fp_gpu_close(g);
	_rm(r);
}

/* --- AMD through the test AMD SMI library --- */

static char amd_state[64];

static void _amd(const char *text)
{
	char tmp[80];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.new", amd_state);
	f = fopen(tmp, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	assert_int_equal(rename(tmp, amd_state), 0);
}

static int amdsmi_setup(void **st)
{
	int fd;

	(void)st;
	snprintf(amd_state, sizeof(amd_state), "/tmp/test_gpu_amdsmi.XXXXXX");
	fd = mkstemp(amd_state);
	if (fd < 0)
		return -1;
	close(fd);
	setenv("FP_FAKE_AMDSMI_STATE", amd_state, 1);
	return 0;
}

static int amdsmi_teardown(void **st)
{
	(void)st;
	unlink(amd_state);
	unsetenv("FP_FAKE_AMDSMI_STATE");
	return 0;
}

/* Every log line, by level. */
typedef struct alllogs {
	int info, warn;
	char last_info[768];
} alllogs_t;

static void _log_all(void *ctx, int level, const char *msg)
{
	alllogs_t *l = ctx;

	if (level <= FP_LOG_WARN) {
		l->warn++;
	} else if (level == FP_LOG_INFO) {
		l->info++;
		snprintf(l->last_info, sizeof(l->last_info), "%s", msg);
	}
}

/* AMD SMI (lib) and hwmon (root, "" none), never NVML. */
static fp_gpu_t *_open_amd(const char *lib, const char *root, alllogs_t *l,
			   fp_error_t *err)
{
	fp_gpu_opts_t o = { .hwmon_root = root,
			    .nvml_lib = "",
			    .amdsmi_lib = lib,
			    .log = _log_all,
			    .log_ctx = l };

	return fp_gpu_open(&o, err);
}

static void amdsmi_finds_gpus_of_every_socket_by_pci_address(void **st)
{
	alllogs_t l = { 0 };
	fp_error_t err;
	const fp_gpu_info_t *i0, *i1;
	fp_gpu_t *g;

	(void)st;
	_amd("gpu bdf=0000:c1:00.0 socket=1 energy=10\n"
	     "gpu bdf=0001:05:1f.7 socket=0 energy=20\n");
	g = _open_amd(FP_FAKE_AMDSMI, "", &l, &err);
	if (!g)
		fail_msg("fp_gpu_open: %s", err.msg);
	assert_int_equal(fp_gpu_ndevices(g), 2);
	i0 = fp_gpu_device(g, 0);
	i1 = fp_gpu_device(g, 1);
	assert_int_equal(i0->vendor, FP_GPU_AMD);
	assert_string_equal(i0->pci, "0000:c1:00.0");
	assert_string_equal(i0->uuid, "0000:c1:00.0");
	assert_int_equal(i0->source, FP_GPU_COUNTER);
	assert_non_null(strstr(i0->path, "amdsmi "));
	assert_non_null(strstr(i0->path, "0000:c1:00.0"));
	assert_int_equal(i0->flags & FP_GPU_APU, 0);
	assert_string_equal(i1->pci, "0001:05:1f.7"); /* every bdf field */
	assert_int_equal(i1->index, 1);
	assert_int_equal(l.warn, 0);
	assert_non_null(strstr(l.last_info, "2 GPUs read by their energy "
					    "counter"));
	fp_gpu_close(g);
}

static void amdsmi_energy_is_the_counter_times_its_resolution(void **st)
{
	alllogs_t l = { 0 };
	fp_error_t err;
	fp_gpu_reading_t rd;
	fp_gpu_t *g;

	(void)st;
	_amd("gpu bdf=0000:c1:00.0 energy=1000 resolution=15.3\n");
	g = _open_amd(FP_FAKE_AMDSMI, "", &l, &err);
	assert_non_null(g);
	assert_int_equal(fp_gpu_read(g, 0.0, &rd, NULL), 1);
	assert_int_equal(rd.event, FP_GPU_EV_BASELINE);
	assert_int_equal(rd.energy_uj, 0);
	_amd("gpu bdf=0000:c1:00.0 energy=1100 resolution=15.3\n");
	assert_int_equal(fp_gpu_read(g, 1.0, &rd, NULL), 1);
	assert_int_equal(rd.energy_uj, 1530); /* 100 x 15.3 µJ */
	_amd("gpu bdf=0000:c1:00.0 energy=1105 resolution=15.3\n");
	fp_gpu_read(g, 2.0, &rd, NULL);
	assert_int_equal(rd.energy_uj, 1606); /* 76.5: half carried */
	_amd("gpu bdf=0000:c1:00.0 energy=1110 resolution=15.3\n");
	fp_gpu_read(g, 3.0, &rd, NULL);
	assert_int_equal(rd.energy_uj, 1683);
	fp_gpu_close(g);
}

static void amdsmi_counter_wrap_adds_the_range_and_says_so(void **st)
{
	alllogs_t l = { 0 };
	fp_error_t err;
	fp_gpu_reading_t rd;
	fp_gpu_t *g;

	(void)st;
	_amd("gpu bdf=0000:c1:00.0 energy=18446744073709551606 "
	     "resolution=2\n"); /* 2^64 - 10 */
	g = _open_amd(FP_FAKE_AMDSMI, "", &l, &err);
	assert_non_null(g);
	fp_gpu_read(g, 0.0, &rd, NULL);
	_amd("gpu bdf=0000:c1:00.0 energy=5 resolution=2\n");
	assert_int_equal(fp_gpu_read(g, 1.0, &rd, NULL), 1);
	assert_true(rd.valid);
	assert_int_equal(rd.event, FP_GPU_EV_WRAP);
	assert_int_equal(rd.energy_uj, 30); /* (9 + 1 + 5) x 2 µJ */
	_amd("gpu bdf=0000:c1:00.0 energy=1 resolution=2\n");
	assert_int_equal(fp_gpu_read(g, 2.0, &rd, NULL), 0);
	assert_int_equal(rd.event, FP_GPU_EV_RESET); /* no wrap: 2^64 x 2 µJ */
	assert_int_equal(rd.energy_uj, 30);
	fp_gpu_close(g);
}

static void
amdsmi_failed_read_is_unavailable_logged_once_and_the_next_carries_the_gap(
	void **st)
{
	alllogs_t l = { 0 };
	fp_error_t err;
	fp_gpu_reading_t rd;
	fp_gpu_t *g;

	(void)st;
	_amd("gpu bdf=0000:c1:00.0 energy=100 resolution=1\n");
	g = _open_amd(FP_FAKE_AMDSMI, "", &l, &err);
	assert_non_null(g);
	fp_gpu_read(g, 0.0, &rd, NULL);
	_amd("gpu bdf=0000:c1:00.0 energy=200 resolution=1 energy_rc=12\n");
	assert_int_equal(fp_gpu_read(g, 1.0, &rd, &err), 0);
	assert_false(rd.valid);
	assert_int_equal(rd.event, FP_GPU_EV_FAILED);
	assert_int_equal(err.code, FP_EIO);
	assert_non_null(strstr(rd.fault, "gpu 0 (amd 0000:c1:00.0)"));
	assert_non_null(strstr(rd.fault, "amdsmi_get_energy_count: "
					 "AMDSMI_STATUS_IO: I/O Error"));
	assert_int_equal(fp_gpu_read(g, 2.0, &rd, NULL), 0);
	assert_int_equal(l.warn, 1);
	_amd("gpu bdf=0000:c1:00.0 energy=400 resolution=1\n");
	assert_int_equal(fp_gpu_read(g, 3.0, &rd, &err), 1);
	assert_int_equal(rd.event, FP_GPU_EV_RETURNED);
	assert_int_equal(rd.energy_uj, 300);
	fp_gpu_close(g);
}

static void
amdsmi_vanished_gpu_is_unavailable_and_returns_by_pci_address(void **st)
{
	alllogs_t l = { 0 };
	fp_error_t err;
	fp_gpu_reading_t rd[2];
	fp_gpu_t *g;

	(void)st;
	_amd("gpu bdf=0000:c1:00.0 energy=1000 resolution=1\n"
	     "gpu bdf=0000:c2:00.0 energy=5000 resolution=1\n");
	g = _open_amd(FP_FAKE_AMDSMI, "", &l, &err);
	assert_non_null(g);
	fp_gpu_read(g, 0.0, rd, NULL);
	_amd("gpu bdf=0000:c1:00.0 energy=1100 resolution=1 lost=1\n"
	     "gpu bdf=0000:c2:00.0 energy=5100 resolution=1\n");
	assert_int_equal(fp_gpu_read(g, 1.0, rd, &err), 1);
	assert_false(rd[0].valid);
	assert_non_null(strstr(rd[0].fault, "Device Not found"));
	assert_true(rd[1].valid);
	assert_int_equal(rd[1].energy_uj, 100);
	/* gone from the list, then back on another socket, listed last */
	_amd("gpu bdf=0000:c2:00.0 energy=5200 resolution=1\n");
	assert_int_equal(fp_gpu_read(g, 2.0, rd, NULL), 1);
	assert_non_null(strstr(rd[0].fault, "not among AMD SMI's 1 GPUs"));
	_amd("gpu bdf=0000:c2:00.0 energy=5300 resolution=1\n"
	     "gpu bdf=0000:c1:00.0 energy=1400 resolution=1 socket=3\n");
	assert_int_equal(fp_gpu_read(g, 3.0, rd, NULL), 2);
	assert_int_equal(rd[0].event, FP_GPU_EV_RETURNED);
	assert_int_equal(rd[0].energy_uj, 400);
	assert_int_equal(rd[1].energy_uj, 300);
	assert_int_equal(l.warn, 1);
	fp_gpu_close(g);
}

/* root/hwmon1: an amdgpu at 0000:c1:00.0 (MI210) drawing 100 W. */
static char *_amd_hwmon(const char *devid, char *dir, size_t size)
{
	char *r = _root();

	_hwmon(r, "hwmon1", "amdgpu", "0000:c1:00.0", devid,
	       "AMD Instinct MI210", dir, size);
	_put(dir, "power1_average", "100000000\n");
	return r;
}

static void
missing_amdsmi_library_falls_back_to_hwmon_with_one_info_line(void **st)
{
	char d[1024];
	char *r = _amd_hwmon("0x740f", d, sizeof(d));
	alllogs_t l = { 0 };
	fp_error_t err;
	fp_gpu_t *g;

	(void)st;
	g = _open_amd("/nonexistent/libamd_smi.so", r, &l, &err);
	assert_non_null(g);
	assert_int_equal(fp_gpu_ndevices(g), 1);
	assert_int_equal(fp_gpu_device(g, 0)->source, FP_GPU_POWER_INTEGRAL);
	assert_int_equal(l.warn, 0);
	assert_int_equal(l.info, 1);
	assert_non_null(strstr(l.last_info, "no AMD SMI energy counter"));
	assert_non_null(strstr(l.last_info, "/nonexistent/libamd_smi.so: "
					    "cannot load"));
	assert_non_null(strstr(l.last_info, "read through hwmon"));
	fp_gpu_close(g);
	_rm(r);
}

static void amdsmi_without_driver_falls_back_to_hwmon(void **st)
{
	char d[1024];
	char *r = _amd_hwmon("0x740f", d, sizeof(d));
	alllogs_t l = { 0 };
	fp_error_t err;
	fp_gpu_t *g;

	(void)st;
	unlink(amd_state); /* the test library then answers: no driver */
	g = _open_amd(FP_FAKE_AMDSMI, r, &l, &err);
	assert_non_null(g);
	assert_int_equal(fp_gpu_device(g, 0)->source, FP_GPU_POWER_INTEGRAL);
	assert_int_equal(l.info, 1);
	assert_non_null(strstr(l.last_info, "amdsmi_init: "
					    "AMDSMI_STATUS_DRIVER_NOT_LOADED"));
	fp_gpu_close(g);
	_rm(r);
}

static void
amdsmi_and_hwmon_seeing_one_gpu_count_it_once_by_the_counter(void **st)
{
	char d[1024], d2[1024], d3[1024];
	char *r = _amd_hwmon("0x740f", d, sizeof(d));
	alllogs_t l = { 0 };
	fp_error_t err;
	fp_gpu_reading_t rd[3];
	fp_gpu_t *g;

	(void)st;
	/* a second AMD GPU AMD SMI does not list, and an Intel one */
	_hwmon(r, "hwmon2", "amdgpu", "0000:a1:00.0", "0x740f", NULL, d2,
	       sizeof(d2));
	_put(d2, "power1_average", "50000000\n");
	_hwmon(r, "hwmon3", "i915", "0000:03:00.0", "0x56a0", NULL, d3,
	       sizeof(d3));
	_putu(d3, "energy1_input", 1000);
	_amd("gpu bdf=0000:c1:00.0 energy=0 resolution=1\n");
	g = _open_amd(FP_FAKE_AMDSMI, r, &l, &err);
	assert_non_null(g);
	assert_int_equal(fp_gpu_ndevices(g), 3);
	/* by PCI address, whichever source reads each */
	assert_string_equal(fp_gpu_device(g, 0)->pci, "0000:03:00.0");
	assert_string_equal(fp_gpu_device(g, 1)->pci, "0000:a1:00.0");
	assert_int_equal(fp_gpu_device(g, 1)->source, FP_GPU_POWER_INTEGRAL);
	assert_string_equal(fp_gpu_device(g, 2)->pci, "0000:c1:00.0");
	assert_int_equal(fp_gpu_device(g, 2)->source, FP_GPU_COUNTER);
	assert_non_null(strstr(fp_gpu_device(g, 2)->path, "amdsmi"));
	assert_string_equal(fp_gpu_device(g, 2)->name, "AMD Instinct MI210");
	assert_int_equal(fp_gpu_read(g, 0.0, rd, NULL), 3);
	_amd("gpu bdf=0000:c1:00.0 energy=300000000 resolution=1\n");
	assert_int_equal(fp_gpu_read(g, 1.0, rd, NULL), 3);
	/* 300 J from the counter, not 300 J + its 100 W from hwmon */
	assert_int_equal(rd[2].energy_uj, 300000000);
	assert_int_equal(rd[1].energy_uj, 50000000);
	assert_int_equal(l.warn, 0);
	fp_gpu_close(g);
	_rm(r);
}

static void amdsmi_gpu_without_counter_is_left_to_hwmon(void **st)
{
	char d[1024];
	char *r = _amd_hwmon("0x740f", d, sizeof(d));
	alllogs_t l = { 0 };
	fp_error_t err;
	fp_gpu_t *g;

	(void)st;
	_amd("gpu bdf=0000:c1:00.0 energy_rc=2\n");
	g = _open_amd(FP_FAKE_AMDSMI, r, &l, &err);
	assert_non_null(g);
	assert_int_equal(fp_gpu_ndevices(g), 1);
	assert_int_equal(fp_gpu_device(g, 0)->source, FP_GPU_POWER_INTEGRAL);
	assert_string_equal(fp_gpu_device(g, 0)->path, d);
	assert_int_equal(l.warn, 0);
	fp_gpu_close(g);
	_rm(r);
}

static void amdsmi_apu_is_flagged_as_counted_in_rapl(void **st)
{
	char d[1024];
	char *r;
	alllogs_t l = { 0 };
	fp_error_t err;
	fp_gpu_t *g;

	(void)st;
	/* by AMD SMI's device id alone */
	_amd("gpu bdf=0000:02:00.0 energy=1 id=0x74a0\n"
	     "gpu bdf=0000:03:00.0 energy=1 id=0x74a1\n");
	g = _open_amd(FP_FAKE_AMDSMI, "", &l, &err);
	assert_non_null(g);
	assert_int_equal(fp_gpu_device(g, 0)->flags & FP_GPU_APU, FP_GPU_APU);
	assert_int_equal(fp_gpu_device(g, 1)->flags & FP_GPU_APU, 0);
	fp_gpu_close(g);
	/* and from its hwmon twin's, when the library gives none */
	r = _amd_hwmon("0x74a0\n", d, sizeof(d));
	_amd("gpu bdf=0000:c1:00.0 energy=1 id=0\n");
	g = _open_amd(FP_FAKE_AMDSMI, r, &l, &err);
	assert_non_null(g);
	assert_int_equal(fp_gpu_ndevices(g), 1);
	assert_int_equal(fp_gpu_device(g, 0)->source, FP_GPU_COUNTER);
	assert_int_equal(fp_gpu_device(g, 0)->flags & FP_GPU_APU, FP_GPU_APU);
	fp_gpu_close(g);
	_rm(r);
}

static void amdsmi_gpu_listed_twice_is_one_device(void **st)
{
	alllogs_t l = { 0 };
	fp_error_t err;
	fp_gpu_t *g;

	(void)st;
	_amd("gpu bdf=0000:c1:00.0 energy=7\n"
	     "gpu bdf=0000:c1:00.0 energy=7\n");
	g = _open_amd(FP_FAKE_AMDSMI, "", &l, &err);
	assert_non_null(g);
	assert_int_equal(fp_gpu_ndevices(g), 1);
	fp_gpu_close(g);
}

static void amdsmi_gpu_without_pci_address_is_skipped_with_one_log(void **st)
{
	alllogs_t l = { 0 };
	fp_error_t err;

	(void)st;
	_amd("gpu bdf=0000:c1:00.0 energy=7 bdf_rc=2\n");
	assert_null(_open_amd(FP_FAKE_AMDSMI, "", &l, &err));
	assert_int_equal(err.code, FP_ENOTSUP);
	assert_non_null(strstr(err.msg, "1 GPUs, none with an energy counter"));
	assert_int_equal(l.warn, 1);
}

static void nothing_to_read_is_not_supported_naming_what_was_tried(void **st)
{
	char *r = _root();
	fp_gpu_opts_t o = { .hwmon_root = r, .nvml_lib = "", .amdsmi_lib = "" };
	fp_error_t err;

	(void)st;
	assert_null(fp_gpu_open(&o, &err));
	assert_int_equal(err.code, FP_ENOTSUP);
	assert_non_null(strstr(err.msg, "NVML not asked for"));
	assert_non_null(strstr(err.msg, "AMD SMI not asked for"));
	assert_non_null(strstr(err.msg, r));
	assert_non_null(strstr(err.msg, "no amdgpu, i915 or xe device"));
	fp_gpu_close(NULL);
	_rm(r);
}

/* --- NVIDIA MIG: instances as devices, given their GPU's energy --- */

/* GPU-bbbb (NVML #1) in MIG mode between two whole GPUs, with a 3g (42
 * SMs) and a 4g (56 SMs) instance, as on an A100; its counter at mj. */
static void _mig_state(unsigned long long mj, const char *extra)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
		 "device uuid=GPU-aaaa energy_mj=0\n"
		 "device uuid=GPU-bbbb pci=00000000:3B:00.0 "
		 "name=\"NVIDIA A100-SXM4-40GB\" energy_mj=%llu mig=1\n"
		 "device uuid=GPU-cccc energy_mj=0\n"
		 "mig dev=1 uuid=MIG-b1 sm=42 gi=1 ci=0 "
		 "name=\"NVIDIA A100-SXM4-40GB MIG 3g.20gb\"\n"
		 "mig dev=1 uuid=MIG-b2 sm=56 gi=2 ci=0 "
		 "name=\"NVIDIA A100-SXM4-40GB MIG 4g.20gb\"\n%s",
		 mj, extra ? extra : "");
	_state(buf);
}

static fp_gpu_t *_open_nvml_all(alllogs_t *l, fp_error_t *err)
{
	fp_gpu_opts_t o = { .hwmon_root = "",
			    .nvml_lib = FP_FAKE_NVML,
			    .amdsmi_lib = "",
			    .log = _log_all,
			    .log_ctx = l };

	return fp_gpu_open(&o, err);
}

static void nvml_mig_instances_are_devices_in_place_of_their_gpu(void **st)
{
	alllogs_t l = { 0 };
	fp_error_t err;
	const fp_gpu_info_t *d;
	fp_gpu_t *g;

	(void)st;
	_mig_state(0, NULL);
	g = _open_nvml_all(&l, &err);
	assert_non_null(g);
	assert_int_equal(fp_gpu_ndevices(g), 4);
	assert_string_equal(fp_gpu_device(g, 0)->uuid, "GPU-aaaa");
	assert_string_equal(fp_gpu_device(g, 3)->uuid, "GPU-cccc");
	assert_int_equal(fp_gpu_device(g, 0)->flags, 0);
	assert_true(fp_gpu_device(g, 0)->share == 1);
	assert_string_equal(fp_gpu_device(g, 0)->parent_uuid, "");
	d = fp_gpu_device(g, 1);
	assert_string_equal(d->uuid, "MIG-b1");
	assert_int_equal(d->index, 1);
	assert_int_equal(d->flags, FP_GPU_MIG_INSTANCE);
	assert_string_equal(d->parent_uuid, "GPU-bbbb");
	assert_int_equal(d->parent_nvml_index, 1);
	assert_int_equal(d->sm_count, 42);
	assert_true(fabs(d->share - 42.0 / 98) < 1e-15);
	assert_string_equal(d->pci, "0000:3b:00.0");
	assert_string_equal(d->name, "NVIDIA A100-SXM4-40GB MIG 3g.20gb");
	assert_int_equal(d->source, FP_GPU_COUNTER);
	assert_non_null(strstr(d->path, "#1 mig 0 gi 1 ci 0"));
	d = fp_gpu_device(g, 2);
	assert_string_equal(d->uuid, "MIG-b2");
	assert_int_equal(d->sm_count, 56);
	assert_true(fabs(d->share - 56.0 / 98) < 1e-15);
	assert_non_null(strstr(l.last_info, "MIG on, 2 instances"));
	fp_gpu_close(g);
}

/* The instances' energies at every read: whole µJ, never decreasing, each
 * within 1 µJ of its share of the GPU's, and summing to it exactly. */
static void nvml_mig_energy_is_split_by_sm_share_and_conserved(void **st)
{
	static const unsigned long long mj[] = {
		1000, 1000, 1001, 1004, 1011, 2011, 2012, 123456789,
	};
	uint64_t prev[2] = { 0, 0 };
	logs_t l = { 0 };
	fp_error_t err;
	fp_gpu_reading_t rd[4];
	fp_gpu_t *g;

	(void)st;
	_mig_state(1000, NULL);
	g = _open_nvml(&l, &err);
	assert_non_null(g);
	for (size_t k = 0; k < sizeof(mj) / sizeof(*mj); k++) {
		uint64_t gpu_uj = (mj[k] - mj[0]) * 1000, sum;

		_mig_state(mj[k], NULL);
		assert_int_equal(fp_gpu_read(g, (double)k, rd, NULL), 4);
		assert_int_equal(rd[1].event,
				 k ? FP_GPU_EV_NONE : FP_GPU_EV_BASELINE);
		sum = rd[1].energy_uj + rd[2].energy_uj;
		assert_int_equal(sum, gpu_uj);
		assert_true(fabs((double)sum - (double)gpu_uj) <=
			    1e-9 * (double)gpu_uj);
		for (int i = 0; i < 2; i++) {
			double want =
				(double)gpu_uj * fp_gpu_device(g, 1 + i)->share;

			assert_true(fabs((double)rd[1 + i].energy_uj - want) <
				    1.0);
			assert_true(rd[1 + i].energy_uj >= prev[i]);
			prev[i] = rd[1 + i].energy_uj;
		}
	}
	/* 3:4 of 123455789 J */
	assert_true(fabs((double)rd[1].energy_uj - 123455789e3 * 3 / 7) < 1);
	assert_int_equal(rd[0].energy_uj, 0);
	assert_int_equal(rd[3].energy_uj, 0);
	fp_gpu_close(g);
}

static void nvml_mig_without_sm_counts_splits_equally(void **st)
{
	alllogs_t l = { 0 };
	fp_error_t err;
	fp_gpu_reading_t rd[5];
	fp_gpu_t *g;

	(void)st;
	_mig_state(0, "mig dev=1 uuid=MIG-b3 attr_rc=3\n");
	g = _open_nvml_all(&l, &err);
	assert_non_null(g);
	assert_int_equal(fp_gpu_ndevices(g), 5);
	assert_string_equal(fp_gpu_device(g, 3)->uuid, "MIG-b3");
	assert_int_equal(fp_gpu_device(g, 3)->sm_count, 0);
	for (size_t i = 1; i <= 3; i++)
		assert_true(fp_gpu_device(g, i)->share == 1.0 / 3);
	assert_non_null(strstr(l.last_info, "equal parts (SM counts unknown)"));
	fp_gpu_read(g, 0, rd, NULL);
	_mig_state(1000, "mig dev=1 uuid=MIG-b3 attr_rc=3\n");
	assert_int_equal(fp_gpu_read(g, 1, rd, NULL), 5);
	assert_int_equal(rd[1].energy_uj + rd[2].energy_uj + rd[3].energy_uj,
			 1000000);
	for (size_t i = 1; i <= 3; i++)
		assert_true(rd[i].energy_uj == 333333 ||
			    rd[i].energy_uj == 333334);
	fp_gpu_close(g);
}

static void nvml_mig_mode_off_reads_the_whole_gpu_as_before(void **st)
{
	logs_t l = { 0 };
	fp_error_t err;
	fp_gpu_reading_t rd[3];
	fp_gpu_t *g;

	(void)st;
	_state("device uuid=GPU-bbbb energy_mj=0\n"
	       "mig dev=0 uuid=MIG-b1 sm=42\n");
	g = _open_nvml(&l, &err);
	assert_non_null(g);
	assert_int_equal(fp_gpu_ndevices(g), 1);
	assert_string_equal(fp_gpu_device(g, 0)->uuid, "GPU-bbbb");
	assert_int_equal(fp_gpu_device(g, 0)->flags, 0);
	fp_gpu_read(g, 0, rd, NULL);
	_state("device uuid=GPU-bbbb energy_mj=700\n"
	       "mig dev=0 uuid=MIG-b1 sm=42\n");
	fp_gpu_read(g, 1, rd, NULL);
	assert_int_equal(rd[0].energy_uj, 700000);
	fp_gpu_close(g);
}

static void nvml_mig_instance_has_no_per_process_activity(void **st)
{
	logs_t l = { 0 };
	fp_error_t err;
	const fp_gpu_proc_t *p;
	size_t n;
	fp_gpu_t *g;

	(void)st;
	_mig_state(0, NULL);
	g = _open_nvml(&l, &err);
	assert_non_null(g);
	assert_int_equal(fp_gpu_procs(g, 1, &p, &n, &err), -1);
	assert_int_equal(err.code, FP_ENOTSUP);
	assert_non_null(
		strstr(err.msg, "no per-process utilisation under MIG"));
	assert_int_equal(n, 0);
	fp_gpu_close(g);
}

/* The GPU failing fails its instances, holding their energy; back, the
 * gap is theirs by share as any interval is. */
static void nvml_mig_gpu_failing_fails_its_instances(void **st)
{
	logs_t l = { 0 };
	fp_error_t err;
	fp_gpu_reading_t rd[4];
	fp_gpu_t *g;

	(void)st;
	_mig_state(0, NULL);
	g = _open_nvml(&l, &err);
	assert_non_null(g);
	fp_gpu_read(g, 0, rd, NULL);
	_mig_state(700, NULL);
	fp_gpu_read(g, 1, rd, NULL);
	_state("device uuid=GPU-aaaa energy_mj=0\n"
	       "device uuid=GPU-bbbb energy_mj=900 mig=1 energy_rc=15\n"
	       "device uuid=GPU-cccc energy_mj=0\n"
	       "mig dev=1 uuid=MIG-b1 sm=42\nmig dev=1 uuid=MIG-b2 sm=56\n");
	assert_int_equal(fp_gpu_read(g, 2, rd, &err), 2);
	assert_int_equal(err.code, FP_EIO);
	assert_non_null(strstr(err.msg, "GPU-bbbb"));
	for (int i = 1; i <= 2; i++) {
		assert_false(rd[i].valid);
		assert_int_equal(rd[i].event, FP_GPU_EV_FAILED);
		assert_non_null(strstr(rd[i].fault, "GPU-bbbb"));
	}
	assert_int_equal(rd[1].energy_uj, 300000);
	assert_int_equal(rd[2].energy_uj, 400000);
	_mig_state(1400, NULL);
	assert_int_equal(fp_gpu_read(g, 3, rd, NULL), 4);
	assert_int_equal(rd[1].event, FP_GPU_EV_RETURNED);
	assert_int_equal(rd[1].energy_uj, 600000);
	assert_int_equal(rd[2].energy_uj, 800000);
	fp_gpu_close(g);
}

static void step_holding_a_mig_instance_maps_to_that_instance(void **st)
{
	logs_t l = { 0 };
	fp_error_t err;
	size_t out[8], n;
	fp_gpu_t *g;

	(void)st;
	_mig_state(0, NULL);
	g = _open_nvml(&l, &err);
	assert_non_null(g);
	/* Slurm's CUDA_VISIBLE_DEVICES under MIG */
	assert_int_equal(fp_gpu_map_ids("MIG-b2", g, out, 8, &n, NULL, 0, &err),
			 0);
	assert_int_equal(n, 1);
	assert_int_equal(out[0], 2);
	/* numbers count instances in their GPU's place, as NVML lists them */
	assert_int_equal(fp_gpu_map_ids("1,3", g, out, 8, &n, NULL, 0, &err),
			 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 3);
	/* the GPU itself, by UUID or PCI address: all its instances */
	assert_int_equal(
		fp_gpu_map_ids("GPU-bbbb", g, out, 8, &n, NULL, 0, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 2);
	assert_int_equal(fp_gpu_map_ids("3b:00.0,MIG-b1", g, out, 8, &n, NULL,
					0, &err),
			 0);
	assert_int_equal(n, 2);
	fp_gpu_close(g);
}

/* Through the engine: a step holding MIG-b1 is charged that instance's
 * share of the GPU, the unheld MIG-b2 goes to gpu_idle as an unheld GPU
 * does, and the node's total holds the GPU's energy once. */
static void step_holding_one_instance_is_charged_its_share(void **st)
{
	logs_t l = { 0 };
	fp_error_t err;
	fp_gpu_reading_t rd[4];
	fp_node_desc_t *desc = fp_sample_node_desc_new();
	fp_engine_node_t nr;
	fp_engine_step_t sr;
	fp_engine_t *e;
	fp_sample_t *s;
	size_t dev, n;
	int cpu0 = 0;
	fp_gpu_t *g;

	(void)st;
	_mig_state(0, NULL);
	g = _open_nvml(&l, &err);
	assert_non_null(g);
	desc->node = strdup("n1");
	desc->cpus = 1;
	desc->npackages = 1;
	desc->packages = calloc(1, sizeof(*desc->packages));
	desc->packages[0].ncpus = 1;
	desc->packages[0].cpus = calloc(1, sizeof(int));
	desc->ndomains = 1;
	desc->domains = calloc(1, sizeof(*desc->domains));
	desc->domains[0] = (fp_domain_t){ strdup("package-0"),
					  FP_DOMAIN_PACKAGE, 0, 1ULL << 40, 0 };
	desc->ngpus = fp_gpu_ndevices(g);
	desc->gpus = calloc(desc->ngpus, sizeof(*desc->gpus));
	for (size_t i = 0; i < desc->ngpus; i++)
		desc->gpus[i] =
			(fp_node_gpu_t){ strdup(fp_gpu_device(g, i)->uuid),
					 strdup("nvidia"), 0, -1, false };
	e = fp_engine_new(desc, NULL, &err);
	assert_non_null(e);
	s = fp_sample_new(desc);
	assert_int_equal(
		fp_gpu_map_ids("MIG-b1", g, &dev, 1, &n, NULL, 0, &err), 0);
	for (int k = 0; k < 3; k++) {
		int idev = (int)dev;

		_mig_state(1000 + 3333ULL * (unsigned)k, NULL);
		fp_gpu_read(g, k, rd, NULL);
		s->t = k;
		s->energy_valid[0] = true;
		s->energy_uj[0] = 0;
		s->wall_valid = false;
		fp_sample_clear_steps(s);
		for (size_t i = 0; i < desc->ngpus; i++) {
			s->gpu_valid[i] = rd[i].valid;
			s->gpu_energy_uj[i] = rd[i].energy_uj;
		}
		assert_int_equal(
			fp_sample_step_set_gpus(
				fp_sample_add_step(s, desc, "1.0", 1, &cpu0, 1),
				&idev, 1, NULL, NULL),
			0);
		if (fp_engine_push(e, s, &err))
			fail_msg("push: %s", err.msg);
	}
	assert_int_equal(fp_engine_step(e, "1.0", &sr), 0);
	assert_true(fabs(sr.gpu_j - 6.666 * 3 / 7) < 1e-6);
	assert_true(fabs(sr.gpu_j - (double)rd[1].energy_uj / 1e6) <=
		    1e-9 * sr.gpu_j);
	fp_engine_node(e, &nr);
	assert_true(fabs(nr.gpu_j - 6.666) <= 1e-9 * 6.666);
	assert_true(fabs(nr.gpu_idle_j - (double)rd[2].energy_uj / 1e6) <=
		    1e-9 * 6.666);
	if (fp_engine_check_conservation(e, &err))
		fail_msg("%s", err.msg);
	fp_sample_free(s);
	fp_engine_free(e);
	fp_sample_node_desc_free(desc);
	fp_gpu_close(g);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			hwmon_finds_amd_and_intel_gpus_ordered_by_pci_address),
		cmocka_unit_test(
			drm_root_finds_card_hwmon_and_xe_package_counter),
		cmocka_unit_test(
			counter_energy_is_the_increase_since_the_first_read),
		cmocka_unit_test(counter_wrap_adds_the_range_and_says_so),
		cmocka_unit_test(
			counter_going_down_is_a_reset_with_no_value_then_new_base),
		cmocka_unit_test(
			failed_read_is_unavailable_logged_once_and_the_next_carries_the_gap),
		cmocka_unit_test(
			vanished_device_is_unavailable_and_returns_under_a_new_number),
		cmocka_unit_test(
			amd_power_is_integrated_by_trapezoid_over_the_callers_times),
		cmocka_unit_test(amd_energy_counter_is_preferred_over_power),
		cmocka_unit_test(amd_apu_is_flagged_as_counted_in_rapl),
		cmocka_unit_test(
			gpu_hwmon_without_energy_file_is_skipped_with_one_log),
		cmocka_unit_test(hwmon_devices_have_no_per_process_activity),
		cmocka_unit_test(
			missing_nvml_library_is_a_clear_error_not_a_crash),
		cmocka_unit_test_setup_teardown(
			nvml_without_driver_says_nvml_init_failed, nvml_setup,
			nvml_teardown),
		cmocka_unit_test_setup_teardown(
			nvml_devices_have_uuid_pci_address_and_name, nvml_setup,
			nvml_teardown),
		cmocka_unit_test_setup_teardown(
			nvml_energy_counter_in_mj_is_read_in_uj, nvml_setup,
			nvml_teardown),
		cmocka_unit_test_setup_teardown(
			nvml_without_energy_counter_integrates_power_and_says_so,
			nvml_setup, nvml_teardown),
		cmocka_unit_test_setup_teardown(
			nvml_lost_gpu_is_unavailable_and_returns_by_uuid,
			nvml_setup, nvml_teardown),
		cmocka_unit_test_setup_teardown(
			nvml_per_process_utilisation_gives_only_new_samples,
			nvml_setup, nvml_teardown),
		cmocka_unit_test_setup_teardown(
			nvml_sample_period_runs_from_the_devices_previous_sample,
			nvml_setup, nvml_teardown),
		cmocka_unit_test_setup_teardown(
			nvml_devices_come_before_hwmon_devices, nvml_setup,
			nvml_teardown),
		cmocka_unit_test_setup_teardown(
			amdsmi_finds_gpus_of_every_socket_by_pci_address,
			amdsmi_setup, amdsmi_teardown),
		cmocka_unit_test_setup_teardown(
			amdsmi_energy_is_the_counter_times_its_resolution,
			amdsmi_setup, amdsmi_teardown),
		cmocka_unit_test_setup_teardown(
			amdsmi_counter_wrap_adds_the_range_and_says_so,
			amdsmi_setup, amdsmi_teardown),
		cmocka_unit_test_setup_teardown(
			amdsmi_failed_read_is_unavailable_logged_once_and_the_next_carries_the_gap,
			amdsmi_setup, amdsmi_teardown),
		cmocka_unit_test_setup_teardown(
			amdsmi_vanished_gpu_is_unavailable_and_returns_by_pci_address,
			amdsmi_setup, amdsmi_teardown),
		cmocka_unit_test_setup_teardown(
			missing_amdsmi_library_falls_back_to_hwmon_with_one_info_line,
			amdsmi_setup, amdsmi_teardown),
		cmocka_unit_test_setup_teardown(
			amdsmi_without_driver_falls_back_to_hwmon, amdsmi_setup,
			amdsmi_teardown),
		cmocka_unit_test_setup_teardown(
			amdsmi_and_hwmon_seeing_one_gpu_count_it_once_by_the_counter,
			amdsmi_setup, amdsmi_teardown),
		cmocka_unit_test_setup_teardown(
			amdsmi_gpu_without_counter_is_left_to_hwmon,
			amdsmi_setup, amdsmi_teardown),
		cmocka_unit_test_setup_teardown(
			amdsmi_apu_is_flagged_as_counted_in_rapl, amdsmi_setup,
			amdsmi_teardown),
		cmocka_unit_test_setup_teardown(
			amdsmi_gpu_listed_twice_is_one_device, amdsmi_setup,
			amdsmi_teardown),
		cmocka_unit_test_setup_teardown(
			amdsmi_gpu_without_pci_address_is_skipped_with_one_log,
			amdsmi_setup, amdsmi_teardown),
		cmocka_unit_test(
			nothing_to_read_is_not_supported_naming_what_was_tried),
		cmocka_unit_test_setup_teardown(
			nvml_mig_instances_are_devices_in_place_of_their_gpu,
			nvml_setup, nvml_teardown),
		cmocka_unit_test_setup_teardown(
			nvml_mig_energy_is_split_by_sm_share_and_conserved,
			nvml_setup, nvml_teardown),
		cmocka_unit_test_setup_teardown(
			nvml_mig_without_sm_counts_splits_equally, nvml_setup,
			nvml_teardown),
		cmocka_unit_test_setup_teardown(
			nvml_mig_mode_off_reads_the_whole_gpu_as_before,
			nvml_setup, nvml_teardown),
		cmocka_unit_test_setup_teardown(
			nvml_mig_instance_has_no_per_process_activity,
			nvml_setup, nvml_teardown),
		cmocka_unit_test_setup_teardown(
			nvml_mig_gpu_failing_fails_its_instances, nvml_setup,
			nvml_teardown),
		cmocka_unit_test_setup_teardown(
			step_holding_a_mig_instance_maps_to_that_instance,
			nvml_setup, nvml_teardown),
		cmocka_unit_test_setup_teardown(
			step_holding_one_instance_is_charged_its_share,
			nvml_setup, nvml_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
