/* Specification of tools/fp-simnode: runs the built $BUILD/fp-simnode on a
 * fake /proc/stat and checks its tree through lib/rapl, sensor, topology. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "footprint/gpu.h"
#include "footprint/rapl.h"
#include "footprint/sensor.h"
#include "footprint/topology.h"

#define MAXCPU 8

typedef struct fixture {
	char dir[64];
	char root[128];
	char proc[128];
	int cpus[MAXCPU];
	unsigned long long busy[MAXCPU];
	int ncpus;
} fixture_t;

static char bin[1024];
static bool quiet; /* children's stderr to /dev/null */

static void _write_stat(const fixture_t *f)
{
	char path[160];
	FILE *fp;

	snprintf(path, sizeof(path), "%s/stat", f->proc);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fprintf(fp, "cpu  1 2 3 4 5 6 7 8 0 0\n");
	/* user nice system idle iowait irq softirq steal guest guest_nice:
	 * busy is user + system here; idle and iowait must not count. */
	for (int i = 0; i < f->ncpus; i++)
		fprintf(fp, "cpu%d %llu 0 %llu 5000 77 0 0 0 0 0\n", f->cpus[i],
			f->busy[i] / 2, f->busy[i] - f->busy[i] / 2);
	fprintf(fp, "intr 1 2 3\nctxt 42\n");
	fclose(fp);
}

static fixture_t *_fixture(int ncpus, const int *ids)
{
	fixture_t *f = calloc(1, sizeof(*f));

	strcpy(f->dir, "/tmp/test_simnode.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->root, sizeof(f->root), "%s/node", f->dir);
	snprintf(f->proc, sizeof(f->proc), "%s/proc", f->dir);
	assert_int_equal(mkdir(f->proc, 0755), 0);
	f->ncpus = ncpus;
	for (int i = 0; i < ncpus; i++) {
		f->cpus[i] = ids ? ids[i] : i;
		f->busy[i] = 1000;
	}
	_write_stat(f);
	return f;
}

static int setup(void **state)
{
	*state = _fixture(4, NULL);
	return 0;
}

static int teardown(void **state)
{
	fixture_t *f = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

static pid_t _spawn(const fixture_t *f, const char *const *extra)
{
	const char *argv[32] = { bin, "--root", f->root, "--proc", f->proc };
	int n = 5;
	pid_t pid;

	for (; extra && *extra && n < 31; extra++)
		argv[n++] = *extra;
	argv[n] = NULL;
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		if (quiet)
			(void)!freopen("/dev/null", "w", stderr);
		execv(bin, (char **)argv);
		_exit(127);
	}
	return pid;
}

static int _wait(pid_t pid)
{
	int st;

	assert_int_equal(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Runs fp-simnode --once with the extra arguments; returns its status. */
static int _once(const fixture_t *f, const char *const *extra)
{
	const char *args[32] = { "--once" };
	int n = 1;

	for (; extra && *extra && n < 31; extra++)
		args[n++] = *extra;
	args[n] = NULL;
	return _wait(_spawn(f, args));
}

static void _sleep(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (time_t)s) * 1e9) };

	nanosleep(&ts, NULL);
}

static fp_sensor_reading_t _sensor(const fixture_t *f)
{
	char path[160];
	fp_sensor_config_t cfg = { .path = path, .max_age_s = 3600 };
	fp_sensor_t *s;
	fp_sensor_reading_t r;
	struct timespec ts;

	snprintf(path, sizeof(path), "%s/sensor.json", f->root);
	s = fp_sensor_new(&cfg, NULL, NULL, NULL);
	clock_gettime(CLOCK_REALTIME, &ts);
	fp_sensor_read(s, (double)ts.tv_sec + ts.tv_nsec / 1e9, &r);
	fp_sensor_free(s);
	return r;
}

static fp_rapl_t *_rapl(const fixture_t *f)
{
	char path[160];
	fp_error_t err = { 0 };
	fp_rapl_t *r;

	snprintf(path, sizeof(path), "%s/powercap", f->root);
	r = fp_rapl_open(path, NULL, NULL, &err);
	if (!r)
		fail_msg("%s", err.msg);
	return r;
}

static void _read(const fixture_t *f, uint64_t *e, size_t n)
{
	fp_rapl_t *r = _rapl(f);
	bool v[16];

	assert_int_equal(fp_rapl_ndomains(r), n);
	assert_int_equal(fp_rapl_read_all(r, e, v), n);
	fp_rapl_close(r);
}

static void once_builds_a_tree_the_readers_accept(void **state)
{
	fixture_t *f = *state;
	const char *args[] = { "--psys", NULL };
	const char *names[] = { "package-0", "dram-0", "package-1", "dram-1",
				"psys" };
	fp_sensor_reading_t s;
	fp_rapl_t *r;

	assert_int_equal(_once(f, args), 0);
	r = _rapl(f);
	assert_int_equal(fp_rapl_ndomains(r), 5);
	for (size_t i = 0; i < 5; i++)
		assert_string_equal(fp_rapl_domain(r, i)->name, names[i]);
	assert_int_equal(fp_rapl_domain(r, 0)->max_energy_range_uj,
			 262143999938ULL);
	assert_true(fp_rapl_simulated(r));
	fp_rapl_close(r);
	s = _sensor(f);
	assert_true(s.valid);
	assert_true(s.simulated);
	assert_int_equal(s.mode, FP_SENSOR_ENERGY);
	assert_float_equal(s.energy_j, 0, 1e-9);
}

static void topology_maps_the_cpus_onto_the_packages(void **state)
{
	fixture_t *f = *state;
	char path[160];
	fp_topology_t *t;
	const int *c;
	size_t n;

	assert_int_equal(_once(f, NULL), 0);
	snprintf(path, sizeof(path), "%s/topology.xml", f->root);
	t = fp_topology_load_xml(path, NULL);
	assert_non_null(t);
	assert_int_equal(fp_topology_ncpus(t), 4);
	assert_int_equal(fp_topology_npackages(t), 2);
	c = fp_topology_package_cpus(t, 1, &n);
	assert_int_equal(n, 2);
	assert_int_equal(c[0], 2);
	assert_int_equal(c[1], 3);
	fp_topology_free(t);
}

static void topology_keeps_the_real_cpu_ids(void **state)
{
	const int ids[] = { 0, 1, 4, 5 };
	fixture_t *f = _fixture(4, ids);
	char path[160];
	fp_topology_t *t;
	const int *c;
	size_t n;

	assert_int_equal(_once(f, NULL), 0);
	snprintf(path, sizeof(path), "%s/topology.xml", f->root);
	t = fp_topology_load_xml(path, NULL);
	assert_int_equal(fp_topology_ncpus(t), 6);
	c = fp_topology_package_cpus(t, 1, &n);
	assert_int_equal(n, 2);
	assert_int_equal(c[0], 4);
	assert_int_equal(c[1], 5);
	assert_false(fp_topology_cpu_online(t, 2));
	fp_topology_free(t);
	*state = f;
	teardown(state);
	*state = NULL;
}

static void energy_follows_the_model_between_two_runs(void **state)
{
	fixture_t *f = *state;
	const char *args[] = { "--psys", NULL };
	double hz = (double)sysconf(_SC_CLK_TCK), dt, t1, b0, b1;
	double pkg0, pkg1, dram0, dram1, rapl;
	uint64_t e[5];
	fp_sensor_reading_t s;

	assert_int_equal(_once(f, args), 0);
	t1 = _sensor(f).time;
	/* Package 0 (CPUs 0-1) busy 0.2 CPU-s, package 1 (2-3) 0.3. */
	f->busy[0] += (unsigned long long)(0.2 * hz);
	f->busy[3] += (unsigned long long)(0.3 * hz);
	_write_stat(f);
	_sleep(0.4);
	assert_int_equal(_once(f, args), 0);
	s = _sensor(f);
	dt = s.time - t1;
	assert_true(dt >= 0.4);
	b0 = (double)(unsigned long long)(0.2 * hz) / hz;
	b1 = (double)(unsigned long long)(0.3 * hz) / hz;
	pkg0 = 20 * dt + 15 * b0;
	dram0 = 3 * dt + 1.5 * b0;
	pkg1 = 20 * dt + 15 * b1;
	dram1 = 3 * dt + 1.5 * b1;
	rapl = pkg0 + dram0 + pkg1 + dram1;
	_read(f, e, 5);
	assert_float_equal(e[0] / 1e6, pkg0, 1e-3);
	assert_float_equal(e[1] / 1e6, dram0, 1e-3);
	assert_float_equal(e[2] / 1e6, pkg1, 1e-3);
	assert_float_equal(e[3] / 1e6, dram1, 1e-3);
	assert_float_equal(e[4] / 1e6, rapl + 10 * dt, 1e-3);
	assert_float_equal(s.energy_j, 1.15 * rapl + 40 * dt, 1e-3);
}

static void model_parameters_come_from_the_options(void **state)
{
	fixture_t *f = *state;
	const char *args[] = { "--no-dram", "--packages", "1",	 "--idle-w",
			       "7",	    "--busy-w",	  "100", "--wall-a",
			       "2",	    "--wall-b",	  "0",	 NULL };
	double hz = (double)sysconf(_SC_CLK_TCK), dt, t1, b;
	uint64_t e[1];
	fp_sensor_reading_t s;

	assert_int_equal(_once(f, args), 0);
	t1 = _sensor(f).time;
	f->busy[1] += (unsigned long long)(0.1 * hz);
	_write_stat(f);
	_sleep(0.2);
	assert_int_equal(_once(f, args), 0);
	s = _sensor(f);
	dt = s.time - t1;
	b = (double)(unsigned long long)(0.1 * hz) / hz;
	_read(f, e, 1);
	assert_float_equal(e[0] / 1e6, 7 * dt + 100 * b, 1e-3);
	assert_float_equal(s.energy_j, 2 * (7 * dt + 100 * b), 1e-3);
}

static void package_counter_wraps_at_max_range(void **state)
{
	fixture_t *f = *state;
	const char *args[] = { "--max-range-uj", "999999", NULL };
	double dt, t1, want;
	uint64_t e[4];
	fp_rapl_t *r;
	long long diff;

	assert_int_equal(_once(f, args), 0);
	t1 = _sensor(f).time;
	_sleep(0.15);
	assert_int_equal(_once(f, args), 0);
	dt = _sensor(f).time - t1;
	r = _rapl(f);
	assert_int_equal(fp_rapl_domain(r, 0)->max_energy_range_uj, 999999);
	assert_int_equal(fp_rapl_domain(r, 1)->max_energy_range_uj, 999999);
	fp_rapl_close(r);
	_read(f, e, 4);
	want = fmod(20 * dt * 1e6, 1e6); /* 3+ J through a 1 J counter */
	assert_true(e[0] <= 999999);
	diff = llabs((long long)e[0] - (long long)want);
	assert_true(diff < 1000 || diff > 999000);
}

static void power_mode_feed_gives_the_intervals_power(void **state)
{
	fixture_t *f = *state;
	const char *args[] = { "--sensor-mode", "power", NULL };
	double dt, t1;
	fp_sensor_reading_t s;

	assert_int_equal(_once(f, args), 0);
	s = _sensor(f);
	assert_int_equal(s.mode, FP_SENSOR_POWER);
	t1 = s.time;
	_sleep(0.2);
	assert_int_equal(_once(f, args), 0);
	s = _sensor(f);
	dt = s.time - t1;
	assert_true(dt > 0);
	/* Idle: 2 x (20 + 3) W of RAPL. */
	assert_float_equal(s.power_w, 1.15 * 46 + 40, 1e-3);
}

static void sensor_hold_freezes_the_feed(void **state)
{
	fixture_t *f = *state;
	char hold[160];
	double t1;

	assert_int_equal(_once(f, NULL), 0);
	t1 = _sensor(f).time;
	snprintf(hold, sizeof(hold), "%s/sensor.hold", f->root);
	fclose(fopen(hold, "w"));
	_sleep(0.05);
	assert_int_equal(_once(f, NULL), 0);
	assert_float_equal(_sensor(f).time, t1, 1e-9);
	unlink(hold);
	assert_int_equal(_once(f, NULL), 0);
	assert_true(_sensor(f).time > t1);
}

static void powercap_hold_leaves_the_counters_alone(void **state)
{
	fixture_t *f = *state;
	char path[200], hold[160], buf[32] = "";
	FILE *fp;
	uint64_t e[4];

	assert_int_equal(_once(f, NULL), 0);
	snprintf(hold, sizeof(hold), "%s/powercap.hold", f->root);
	fclose(fopen(hold, "w"));
	snprintf(path, sizeof(path), "%s/powercap/intel-rapl:0/energy_uj",
		 f->root);
	fp = fopen(path, "w");
	fputs("garbage\n", fp);
	fclose(fp);
	assert_int_equal(_once(f, NULL), 0);
	fp = fopen(path, "r");
	assert_non_null(fgets(buf, sizeof(buf), fp));
	fclose(fp);
	assert_string_equal(buf, "garbage\n");
	unlink(hold);
	_sleep(0.05);
	assert_int_equal(_once(f, NULL), 0);
	_read(f, e, 4);
	assert_true(e[0] > 0);
}

static void sigterm_stops_the_daemon_cleanly(void **state)
{
	fixture_t *f = *state;
	char pidfile[160];
	const char *args[] = { "--interval", "0.05", "--pidfile", pidfile,
			       NULL };
	pid_t pid;
	int i;

	snprintf(pidfile, sizeof(pidfile), "%s/simnode.pid", f->dir);
	pid = _spawn(f, args);
	for (i = 0; i < 200 && access(pidfile, F_OK); i++)
		_sleep(0.01);
	assert_int_equal(access(pidfile, F_OK), 0);
	_sleep(0.2);
	assert_int_equal(kill(pid, SIGTERM), 0);
	assert_int_equal(_wait(pid), 0);
	assert_int_not_equal(access(pidfile, F_OK), 0);
	assert_true(_sensor(f).valid);
}

static void seconds_bounds_the_run(void **state)
{
	fixture_t *f = *state;
	const char *args[] = { "--interval", "0.05", "--seconds", "0.3", NULL };
	struct timespec a, b;
	double took;

	clock_gettime(CLOCK_MONOTONIC, &a);
	assert_int_equal(_wait(_spawn(f, args)), 0);
	clock_gettime(CLOCK_MONOTONIC, &b);
	took = (double)(b.tv_sec - a.tv_sec) + (b.tv_nsec - a.tv_nsec) / 1e9;
	assert_true(took >= 0.25 && took < 3);
}

static void usage_errors_exit_2_and_bad_layouts_exit_1(void **state)
{
	fixture_t *f = *state;
	const char *bad_mode[] = { "--sensor-mode", "volts", NULL };
	const char *three[] = { "--packages", "3", NULL };
	pid_t pid;

	quiet = true;
	pid = fork();
	if (!pid) {
		(void)!freopen("/dev/null", "w", stderr);
		execl(bin, bin, "--once", (char *)NULL);
		_exit(127);
	}
	assert_int_equal(_wait(pid), 2);
	assert_int_equal(_once(f, bad_mode), 2);
	assert_int_equal(_once(f, three), 1); /* 3 packages, 4 CPUs */
	quiet = false;
}

static void simulated_gpus_follow_their_load_behind_the_wall(void **state)
{
	fixture_t *f = *state;
	const char *args[] = { "--gpus", "2", NULL };
	char path[256], dir[160];
	fp_gpu_opts_t o = { .hwmon_root = dir,
			    .nvml_lib = "",
			    .amdsmi_lib = "" };
	fp_error_t err;
	fp_gpu_t *g;
	fp_gpu_reading_t r[2];
	double t1, dt, e0, e1, rapl;
	uint64_t e[4];
	FILE *fp;

	assert_int_equal(_once(f, args), 0);
	t1 = _sensor(f).time;
	snprintf(path, sizeof(path), "%s/gpu-load/0", f->root);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("0.5\n", fp);
	fclose(fp);
	snprintf(dir, sizeof(dir), "%s/gpu-hwmon", f->root);
	g = fp_gpu_open(&o, &err);
	if (!g)
		fail_msg("%s", err.msg);
	assert_int_equal(fp_gpu_ndevices(g), 2);
	assert_int_equal(fp_gpu_device(g, 0)->vendor, FP_GPU_AMD);
	assert_string_equal(fp_gpu_device(g, 0)->pci, "0000:01:00.0");
	assert_int_equal(fp_gpu_device(g, 1)->vendor, FP_GPU_INTEL);
	assert_int_equal(fp_gpu_device(g, 0)->source, FP_GPU_COUNTER);
	assert_int_equal(fp_gpu_read(g, 0, r, NULL), 2);
	_sleep(0.4);
	assert_int_equal(_once(f, args), 0);
	dt = _sensor(f).time - t1;
	assert_int_equal(fp_gpu_read(g, dt, r, NULL), 2);
	e0 = (double)r[0].energy_uj / 1e6;
	e1 = (double)r[1].energy_uj / 1e6;
	assert_float_equal(e0, (30 + 220 * 0.5) * dt, 1e-3);
	assert_float_equal(e1, 30 * dt, 1e-3);
	_read(f, e, 4);
	rapl = (e[0] + e[1] + e[2] + e[3]) / 1e6;
	/* behind the same meter: wall = a (rapl + gpu) + b dt */
	assert_float_equal(_sensor(f).energy_j,
			   1.15 * (rapl + e0 + e1) + 40 * dt, 1e-3);
	fp_gpu_close(g);
}

#ifdef FP_FAKE_NVML
static void
simulated_nvidia_processes_are_nvmls_per_process_samples(void **state)
{
	fixture_t *f = *state;
	const char *args[] = { "--nvidia", "1", NULL };
	char path[256];
	fp_gpu_opts_t o = { .hwmon_root = "",
			    .nvml_lib = FP_FAKE_NVML,
			    .amdsmi_lib = "" };
	fp_error_t err;
	const fp_gpu_proc_t *p;
	size_t n;
	fp_gpu_t *g;
	FILE *fp;

	assert_int_equal(_once(f, args), 0); /* makes the root */
	snprintf(path, sizeof(path), "%s/gpu-procs", f->root);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/gpu-procs/0", f->root);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs("1001 0.6\n2002 0.2\n", fp);
	fclose(fp);
	assert_int_equal(_once(f, args), 0);
	snprintf(path, sizeof(path), "%s/nvml.state", f->root);
	setenv("FP_FAKE_NVML_STATE", path, 1);
	g = fp_gpu_open(&o, &err);
	if (!g)
		fail_msg("%s", err.msg);
	assert_int_equal(fp_gpu_procs(g, 0, &p, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(p[0].pid, 1001);
	assert_int_equal(p[0].sm_util, 60);
	assert_int_equal(p[1].pid, 2002);
	assert_int_equal(p[1].sm_util, 20);
	_sleep(0.2);
	assert_int_equal(_once(f, args), 0);
	assert_int_equal(fp_gpu_procs(g, 0, &p, &n, &err), 0);
	assert_int_equal(n, 2); /* the new write's, covering the gap */
	assert_true(p[0].period_us >= 200000);
	fp_gpu_close(g);
	unsetenv("FP_FAKE_NVML_STATE");
}
#endif

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const char *build = getenv("BUILD");
	const struct CMUnitTest tests[] = {
		T(once_builds_a_tree_the_readers_accept),
		T(topology_maps_the_cpus_onto_the_packages),
		cmocka_unit_test(topology_keeps_the_real_cpu_ids),
		T(energy_follows_the_model_between_two_runs),
		T(model_parameters_come_from_the_options),
		T(package_counter_wraps_at_max_range),
		T(power_mode_feed_gives_the_intervals_power),
		T(sensor_hold_freezes_the_feed),
		T(powercap_hold_leaves_the_counters_alone),
		T(sigterm_stops_the_daemon_cleanly),
		T(seconds_bounds_the_run),
		T(usage_errors_exit_2_and_bad_layouts_exit_1),
		T(simulated_gpus_follow_their_load_behind_the_wall),
#ifdef FP_FAKE_NVML
		T(simulated_nvidia_processes_are_nvmls_per_process_samples),
#endif
	};

	snprintf(bin, sizeof(bin), "%s/fp-simnode",
		 build && *build ? build : "build");
	if (access(bin, X_OK)) {
		fprintf(stderr, "test_simnode: %s not built\n", bin);
		return 1;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
