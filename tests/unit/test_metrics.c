/* Specification of the Prometheus textfile written by the node poller
 * (lib/metrics). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "footprint/metrics.h"

static char dir[64], path[128], text[65536];

static int setup(void **state)
{
	strcpy(dir, "/tmp/fp-metrics-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/footprint.prom", dir);
	return 0;
}

static int teardown(void **state)
{
	unlink(path);
	return rmdir(dir);
}

static const char *names[] = { "wall", "calibrated" };
static const double by_source[] = { 100.5, 20.25 };

static fp_metrics_node_t _node(void)
{
	fp_metrics_node_t n = {
		.node = "qh042",
		.simulated = true,
		.source = "wall",
		.power_w = 412.5,
		.energy_j = 120.75,
		.source_names = names,
		.source_energy_j = by_source,
		.nsources = 2,
		.calibration_active = true,
		.calibration_a = 1.15,
		.calibration_b_w = 40,
		.calibration_intervals = 31,
		.sensor_configured = true,
		.sensor_up = false,
		.sensor_fault = "stale",
		.sensor_age_s = 12,
	};
	return n;
}

static void _read(void)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(text, 1, sizeof(text) - 1, f);
	text[n] = '\0';
	fclose(f);
}

static void test_node_power_and_energy_by_source_are_exposed(void **state)
{
	fp_metrics_node_t n = _node();
	fp_error_t err;

	assert_int_equal(fp_metrics_write(path, &n, NULL, 0, NULL, 0, &err), 0);
	_read();
	assert_non_null(
		strstr(text, "# TYPE footprint_node_power_watts gauge\n"));
	assert_non_null(strstr(
		text,
		"footprint_node_power_watts{node=\"qh042\",source=\"wall\",simulated=\"true\"} 412.5\n"));
	assert_non_null(strstr(
		text,
		"footprint_node_energy_joules_total{node=\"qh042\",source=\"calibrated\",simulated=\"true\"} 20.25\n"));
	assert_non_null(strstr(
		text, "# TYPE footprint_node_energy_joules_total counter\n"));
}

static void test_sensor_health_names_the_fault(void **state)
{
	fp_metrics_node_t n = _node();
	fp_error_t err;

	assert_int_equal(fp_metrics_write(path, &n, NULL, 0, NULL, 0, &err), 0);
	_read();
	assert_non_null(strstr(
		text,
		"footprint_sensor_up{node=\"qh042\",fault=\"stale\"} 0\n"));
	assert_non_null(strstr(
		text,
		"footprint_calibration_intervals{node=\"qh042\",simulated=\"true\"} 31\n"));
}

static void test_job_and_step_lines_carry_user_and_account(void **state)
{
	fp_metrics_node_t n = _node();
	fp_metrics_entity_t jobs[] = {
		{ .job = 4242,
		  .user = "alice",
		  .account = "phys",
		  .power_w = 30,
		  .energy_j = 900 },
	};
	fp_metrics_entity_t steps[] = {
		{ .job = 4242,
		  .step = "4242.batch",
		  .user = "alice",
		  .account = "phys",
		  .power_w = 30,
		  .energy_j = 900 },
	};
	fp_error_t err;

	assert_int_equal(fp_metrics_write(path, &n, jobs, 1, steps, 1, &err),
			 0);
	_read();
	assert_non_null(strstr(
		text,
		"footprint_job_power_watts{node=\"qh042\",job=\"4242\",user=\"alice\",account=\"phys\"} 30\n"));
	assert_non_null(strstr(
		text,
		"footprint_step_energy_joules_total{node=\"qh042\",job=\"4242\",step=\"4242.batch\",user=\"alice\",account=\"phys\"} 900\n"));
}

static void test_label_values_are_escaped(void **state)
{
	fp_metrics_node_t n = _node();
	fp_metrics_entity_t jobs[] = {
		{ .job = 1, .user = "a\"b\\c\nd", .account = "" },
	};
	fp_error_t err;

	assert_int_equal(fp_metrics_write(path, &n, jobs, 1, NULL, 0, &err), 0);
	_read();
	assert_non_null(strstr(text, "user=\"a\\\"b\\\\c\\nd\""));
}

static void test_unwritable_folder_is_an_error_naming_the_file(void **state)
{
	fp_metrics_node_t n = _node();
	fp_error_t err;

	assert_int_equal(fp_metrics_write("/nonexistent/x.prom", &n, NULL, 0,
					  NULL, 0, &err),
			 -1);
	assert_int_equal(err.code, FP_EIO);
	assert_non_null(strstr(err.msg, "/nonexistent/x.prom"));
}

static void
test_latin1_label_value_becomes_the_replacement_character(void **state)
{
	fp_metrics_node_t n = _node();
	fp_metrics_entity_t jobs[] = {
		{ .job = 1, .user = "ren\xe9", .account = "caf\xc3\xa9" },
	};
	fp_error_t err;

	assert_int_equal(fp_metrics_write(path, &n, jobs, 1, NULL, 0, &err), 0);
	_read();
	/* Prometheus refuses a file with a label that is not UTF-8 */
	assert_non_null(strstr(text, "user=\"ren\xef\xbf\xbd\""));
	assert_non_null(strstr(text, "account=\"caf\xc3\xa9\""));
}

static void test_metrics_file_is_0644_whatever_the_umask(void **state)
{
	fp_metrics_node_t n = _node();
	fp_error_t err;
	struct stat st;
	mode_t old = umask(0);
	int rc = fp_metrics_write(path, &n, NULL, 0, NULL, 0, &err);

	umask(old);
	assert_int_equal(rc, 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	/* and under a strict umask, node_exporter can still read it */
	old = umask(077);
	rc = fp_metrics_write(path, &n, NULL, 0, NULL, 0, &err);
	umask(old);
	assert_int_equal(rc, 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
}

static const fp_metrics_gpu_t two_gpus[] = {
	{ .index = 0,
	  .uuid = "0000:3b:00.0",
	  .pci = "0000:3b:00.0",
	  .vendor = "amd",
	  .name = "AMD Instinct MI210",
	  .source = "counter",
	  .energy_j = 1500.5,
	  .power_w = 250.25,
	  .up = true,
	  .fault = "" },
	{ .index = 1,
	  .uuid = "GPU-8f1c",
	  .pci = "0000:5e:00.0",
	  .vendor = "nvidia",
	  .name = "NVIDIA A100",
	  .source = "power-integral",
	  .energy_j = 800,
	  .power_w = NAN,
	  .up = false,
	  .fault = "nvmlDeviceGetPowerUsage: GPU is lost" },
};

static fp_metrics_node_t _gpu_node(void)
{
	fp_metrics_node_t n = _node();

	n.gpus = two_gpus;
	n.ngpus = 2;
	n.gpu_j = 2300.5;
	n.gpu_idle_j = 410.75;
	return n;
}

static void test_each_gpu_has_energy_power_and_its_source(void **state)
{
	fp_metrics_node_t n = _gpu_node();
	fp_error_t err;

	assert_int_equal(fp_metrics_write(path, &n, NULL, 0, NULL, 0, &err), 0);
	_read();
	assert_non_null(strstr(
		text, "# TYPE footprint_gpu_energy_joules_total counter\n"));
	assert_non_null(strstr(
		text,
		"footprint_gpu_energy_joules_total{node=\"qh042\",gpu=\"0\",uuid=\"0000:3b:00.0\",pci=\"0000:3b:00.0\",vendor=\"amd\",name=\"AMD Instinct MI210\",source=\"counter\"} 1500.5\n"));
	assert_non_null(strstr(
		text,
		"footprint_gpu_energy_joules_total{node=\"qh042\",gpu=\"1\",uuid=\"GPU-8f1c\",pci=\"0000:5e:00.0\",vendor=\"nvidia\",name=\"NVIDIA A100\",source=\"power-integral\"} 800\n"));
	assert_non_null(
		strstr(text, "# TYPE footprint_gpu_power_watts gauge\n"));
	assert_non_null(strstr(
		text,
		"footprint_gpu_power_watts{node=\"qh042\",gpu=\"0\",uuid=\"0000:3b:00.0\",pci=\"0000:3b:00.0\",vendor=\"amd\",name=\"AMD Instinct MI210\",source=\"counter\"} 250.25\n"));
}

static void
test_a_gpu_that_failed_to_read_is_down_with_its_fault_and_no_power(void **state)
{
	fp_metrics_node_t n = _gpu_node();
	fp_error_t err;

	assert_int_equal(fp_metrics_write(path, &n, NULL, 0, NULL, 0, &err), 0);
	_read();
	assert_non_null(strstr(
		text,
		"footprint_gpu_up{node=\"qh042\",gpu=\"0\",uuid=\"0000:3b:00.0\",pci=\"0000:3b:00.0\",vendor=\"amd\",name=\"AMD Instinct MI210\",fault=\"\"} 1\n"));
	assert_non_null(strstr(
		text,
		"footprint_gpu_up{node=\"qh042\",gpu=\"1\",uuid=\"GPU-8f1c\",pci=\"0000:5e:00.0\",vendor=\"nvidia\",name=\"NVIDIA A100\",fault=\"nvmlDeviceGetPowerUsage: GPU is lost\"} 0\n"));
	/* its power is unknown: no line, not a 0 W that looks like idle */
	assert_null(strstr(
		text, "footprint_gpu_power_watts{node=\"qh042\",gpu=\"1\""));
	/* its energy so far stays (a counter that vanished would reset) */
	assert_non_null(strstr(
		text,
		"gpu=\"1\",uuid=\"GPU-8f1c\",pci=\"0000:5e:00.0\",vendor=\"nvidia\",name=\"NVIDIA A100\",source=\"power-integral\"} 800\n"));
}

static void test_gpu_idle_and_all_gpus_energy_are_node_counters(void **state)
{
	fp_metrics_node_t n = _gpu_node();
	fp_error_t err;

	assert_int_equal(fp_metrics_write(path, &n, NULL, 0, NULL, 0, &err), 0);
	_read();
	assert_non_null(strstr(
		text, "# TYPE footprint_node_gpu_idle_joules_total counter\n"));
	assert_non_null(strstr(
		text,
		"footprint_node_gpu_idle_joules_total{node=\"qh042\",simulated=\"true\"} 410.75\n"));
	assert_non_null(strstr(
		text,
		"footprint_node_gpu_joules_total{node=\"qh042\",simulated=\"true\"} 2300.5\n"));
}

static void test_a_running_job_holding_a_gpu_has_its_gpu_energy(void **state)
{
	fp_metrics_node_t n = _gpu_node();
	fp_metrics_entity_t jobs[] = {
		{ .job = 4242,
		  .user = "alice",
		  .account = "phys",
		  .power_w = 300,
		  .energy_j = 2000,
		  .gpus = true,
		  .gpu_energy_j = 1500.5 },
		{ .job = 4243,
		  .user = "bob",
		  .account = "chem",
		  .power_w = 20,
		  .energy_j = 60 },
	};
	fp_error_t err;

	assert_int_equal(fp_metrics_write(path, &n, jobs, 2, NULL, 0, &err), 0);
	_read();
	assert_non_null(strstr(
		text,
		"# TYPE footprint_job_gpu_energy_joules_total counter\n"));
	assert_non_null(strstr(
		text,
		"footprint_job_gpu_energy_joules_total{node=\"qh042\",job=\"4242\",user=\"alice\",account=\"phys\"} 1500.5\n"));
	/* a CPU-only job on a GPU node adds no GPU series */
	assert_null(strstr(
		text,
		"footprint_job_gpu_energy_joules_total{node=\"qh042\",job=\"4243\""));
}

static void test_an_ended_job_s_gpu_series_vanish(void **state)
{
	fp_metrics_node_t n = _gpu_node();
	fp_metrics_entity_t jobs[] = {
		{ .job = 4242,
		  .user = "alice",
		  .account = "phys",
		  .gpus = true,
		  .gpu_energy_j = 1500.5 },
		{ .job = 4244,
		  .user = "carol",
		  .account = "bio",
		  .gpus = true,
		  .gpu_energy_j = 99 },
	};
	fp_error_t err;

	assert_int_equal(fp_metrics_write(path, &n, jobs, 2, NULL, 0, &err), 0);
	_read();
	assert_non_null(strstr(text, "job=\"4242\""));
	/* 4242 ended: the poller passes only the running jobs */
	assert_int_equal(fp_metrics_write(path, &n, jobs + 1, 1, NULL, 0, &err),
			 0);
	_read();
	assert_null(strstr(text, "job=\"4242\""));
	assert_non_null(strstr(
		text,
		"footprint_job_gpu_energy_joules_total{node=\"qh042\",job=\"4244\",user=\"carol\",account=\"bio\"} 99\n"));
	/* and the node's GPU lines stay */
	assert_non_null(strstr(text, "footprint_gpu_energy_joules_total{"));
}

static void test_a_node_without_gpus_writes_no_gpu_series(void **state)
{
	fp_metrics_node_t n = _node();
	fp_metrics_entity_t jobs[] = {
		/* even a job that says it holds one: the node has none */
		{ .job = 4242,
		  .user = "alice",
		  .account = "phys",
		  .gpus = true,
		  .gpu_energy_j = 0 },
	};
	fp_error_t err;

	assert_int_equal(fp_metrics_write(path, &n, jobs, 1, NULL, 0, &err), 0);
	_read();
	assert_null(strstr(text, "gpu"));
	assert_null(strstr(text, "GPU"));
}

static void test_gpu_name_label_is_escaped(void **state)
{
	fp_metrics_gpu_t g = two_gpus[0];
	fp_metrics_node_t n = _node();
	fp_error_t err;

	g.name = "Radeon \"Pro\"\n\xff";
	n.gpus = &g;
	n.ngpus = 1;
	assert_int_equal(fp_metrics_write(path, &n, NULL, 0, NULL, 0, &err), 0);
	_read();
	assert_non_null(
		strstr(text, "name=\"Radeon \\\"Pro\\\"\\n\xef\xbf\xbd\""));
}

/* ---- MetricsJobs: which job and step series ------------------------------ */

/* Job 10 runs (steps 10.0, 10.1); job 11 has ended (its step 11.0 too). */
static const fp_metrics_entity_t mixed_jobs[] = {
	{ .job = 10,
	  .user = "alice",
	  .account = "phys",
	  .power_w = 30,
	  .energy_j = 900,
	  .gpus = true,
	  .gpu_energy_j = 50 },
	{ .job = 11,
	  .user = "bob",
	  .account = "chem",
	  .power_w = 0,
	  .energy_j = 400,
	  .gpus = true,
	  .gpu_energy_j = 20,
	  .ended = true },
};
static const fp_metrics_entity_t mixed_steps[] = {
	{ .job = 10,
	  .step = "10.0",
	  .user = "alice",
	  .account = "phys",
	  .power_w = 20,
	  .energy_j = 600 },
	{ .job = 10,
	  .step = "10.1",
	  .user = "alice",
	  .account = "phys",
	  .power_w = 10,
	  .energy_j = 300 },
	{ .job = 11,
	  .step = "11.0",
	  .user = "bob",
	  .account = "chem",
	  .power_w = 0,
	  .energy_j = 400,
	  .ended = true },
};

static void _put_mixed(fp_metrics_jobs_t mode, const fp_metrics_node_t *n)
{
	fp_metrics_t *m = fp_metrics_new(path, mode);
	fp_error_t err;

	assert_non_null(m);
	assert_int_equal(
		fp_metrics_put(m, n, mixed_jobs, 2, mixed_steps, 3, &err), 0);
	fp_metrics_free(m);
	_read();
}

/* Sample lines (not HELP or TYPE): Prometheus' series of this node. */
static size_t _series(const char *prefix)
{
	size_t n = 0, k = strlen(prefix);

	for (const char *l = text; *l; l = strchr(l, '\n') + 1) {
		if (*l != '#' && !strncmp(l, prefix, k))
			n++;
		if (!strchr(l, '\n'))
			break;
	}
	return n;
}

static void test_running_mode_writes_only_running_jobs_and_steps(void **state)
{
	fp_metrics_node_t n = _node();

	_put_mixed(FP_METRICS_JOBS_RUNNING, &n);
	assert_non_null(strstr(
		text,
		"footprint_job_energy_joules_total{node=\"qh042\",job=\"10\",user=\"alice\",account=\"phys\"} 900\n"));
	assert_non_null(strstr(text, "step=\"10.1\""));
	assert_null(strstr(text, "job=\"11\""));
	assert_int_equal(_series("footprint_job_"), 2);
	assert_int_equal(_series("footprint_step_"), 4);
}

static void test_all_mode_keeps_ended_jobs_with_their_final_values(void **state)
{
	fp_metrics_node_t n = _node();

	_put_mixed(FP_METRICS_JOBS_ALL, &n);
	assert_non_null(strstr(
		text,
		"footprint_job_energy_joules_total{node=\"qh042\",job=\"11\",user=\"bob\",account=\"chem\"} 400\n"));
	assert_non_null(strstr(
		text,
		"footprint_step_energy_joules_total{node=\"qh042\",job=\"11\",step=\"11.0\",user=\"bob\",account=\"chem\"} 400\n"));
	assert_int_equal(_series("footprint_job_"), 4);
	assert_int_equal(_series("footprint_step_"), 6);
}

static void
test_none_mode_writes_no_job_or_step_series_but_every_node_one(void **state)
{
	fp_metrics_node_t n = _gpu_node();
	size_t node_series;

	/* the node-level series of a file without jobs */
	assert_int_equal(fp_metrics_write(path, &n, NULL, 0, NULL, 0, NULL), 0);
	_read();
	node_series = _series("");
	_put_mixed(FP_METRICS_JOBS_NONE, &n);
	assert_null(strstr(text, "job"));
	assert_null(strstr(text, "footprint_step_"));
	assert_null(strstr(text, "step="));
	assert_int_equal(_series(""), node_series);
	assert_non_null(strstr(text, "footprint_node_power_watts{"));
	assert_non_null(strstr(text, "footprint_gpu_energy_joules_total{"));
}

static void test_a_job_s_series_disappear_after_it_ends(void **state)
{
	fp_metrics_node_t n = _gpu_node();
	fp_metrics_entity_t job = mixed_jobs[0], step = mixed_steps[0];
	fp_metrics_t *m = fp_metrics_new(path, FP_METRICS_JOBS_RUNNING);
	fp_error_t err;

	assert_non_null(m);
	assert_int_equal(fp_metrics_put(m, &n, &job, 1, &step, 1, &err), 0);
	_read();
	assert_int_equal(_series("footprint_job_"), 3);
	assert_int_equal(_series("footprint_step_"), 2);
	/* the same writer, the job now ended: its series go, the node's
	 * stay */
	job.ended = step.ended = true;
	assert_int_equal(fp_metrics_put(m, &n, &job, 1, &step, 1, &err), 0);
	_read();
	assert_null(strstr(text, "job=\"10\""));
	assert_int_equal(_series("footprint_job_"), 0);
	assert_int_equal(_series("footprint_step_"), 0);
	assert_non_null(strstr(text, "footprint_node_energy_joules_total{"));
	assert_non_null(strstr(text, "footprint_gpu_up{"));
	fp_metrics_free(m);
}

/* The counts docs/performance.md and the man page give: a node has 9
 * node-level series plus one per energy source (the poller's 4: 13), 2 more
 * with a sensor; each GPU 3 (2 while its power is unknown) plus 2 for all
 * GPUs; each job 2 (+1 with a GPU), each step 2, of the jobs and steps the
 * mode keeps. */
static void test_series_per_node_for_each_mode(void **state)
{
	static const struct {
		fp_metrics_jobs_t mode;
		size_t jobs, steps; /* both jobs hold a GPU */
	} want[] = {
		{ FP_METRICS_JOBS_RUNNING, 1, 2 },
		{ FP_METRICS_JOBS_ALL, 2, 3 },
		{ FP_METRICS_JOBS_NONE, 0, 0 },
	};
	fp_metrics_node_t n = _node();

	for (size_t i = 0; i < sizeof(want) / sizeof(*want); i++) {
		size_t node = 9 + n.nsources + 2;

		n = _node();
		_put_mixed(want[i].mode, &n);
		assert_int_equal(_series(""),
				 node + 2 * want[i].jobs + 2 * want[i].steps);
		n.sensor_configured = false;
		_put_mixed(want[i].mode, &n);
		assert_int_equal(_series(""), node - 2 + 2 * want[i].jobs +
						      2 * want[i].steps);
		/* GPU 1's power is unknown: 3 + 2 GPU lines, plus 2 node ones */
		n = _gpu_node();
		_put_mixed(want[i].mode, &n);
		assert_int_equal(_series(""), node + 3 + 2 + 2 +
						      3 * want[i].jobs +
						      2 * want[i].steps);
	}
}

static void test_mode_names_are_running_all_none(void **state)
{
	assert_string_equal(fp_metrics_jobs_names[FP_METRICS_JOBS_RUNNING],
			    "running");
	assert_string_equal(fp_metrics_jobs_names[FP_METRICS_JOBS_ALL], "all");
	assert_string_equal(fp_metrics_jobs_names[FP_METRICS_JOBS_NONE],
			    "none");
}

/* ---- values ------------------------------------------------------------- */

static double _value_of(const char *prefix)
{
	const char *at = strstr(text, prefix);

	assert_non_null(at);
	return strtod(at + strlen(prefix), NULL);
}

static void
test_values_keep_microunits_and_small_values_every_digit(void **state)
{
	fp_metrics_node_t n = _node();
	fp_error_t err;

	n.power_w = 123456.78901234;
	n.rapl_j = 98765432.123456789;
	n.idle_j = 3.0000004; /* rounds to 3 */
	n.poll_seconds = 4.56789e-5;
	n.calibration_a = 1e15;
	n.system_j = -2.5;
	assert_int_equal(fp_metrics_write(path, &n, NULL, 0, NULL, 0, &err), 0);
	_read();
	assert_non_null(strstr(
		text, "source=\"wall\",simulated=\"true\"} 123456.789012\n"));
	assert_non_null(strstr(
		text,
		"footprint_node_rapl_joules_total{node=\"qh042\",simulated=\"true\"} 98765432.123457\n"));
	assert_non_null(strstr(
		text,
		"footprint_node_idle_joules_total{node=\"qh042\",simulated=\"true\"} 3\n"));
	assert_non_null(strstr(
		text,
		"footprint_node_system_joules_total{node=\"qh042\",simulated=\"true\"} -2.5\n"));
	/* below 1 and from 1e12 on: every digit a double has */
	assert_true(
		_value_of(
			"footprint_poll_cpu_seconds{node=\"qh042\",simulated=\"true\"} ") ==
		4.56789e-5);
	assert_true(
		_value_of(
			"footprint_calibration_slope{node=\"qh042\",simulated=\"true\"} ") ==
		1e15);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_node_power_and_energy_by_source_are_exposed, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_sensor_health_names_the_fault, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_job_and_step_lines_carry_user_and_account, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_label_values_are_escaped,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_unwritable_folder_is_an_error_naming_the_file,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_latin1_label_value_becomes_the_replacement_character,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_metrics_file_is_0644_whatever_the_umask, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_each_gpu_has_energy_power_and_its_source, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_a_gpu_that_failed_to_read_is_down_with_its_fault_and_no_power,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_gpu_idle_and_all_gpus_energy_are_node_counters,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_a_running_job_holding_a_gpu_has_its_gpu_energy,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_an_ended_job_s_gpu_series_vanish, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_a_node_without_gpus_writes_no_gpu_series, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_gpu_name_label_is_escaped,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_running_mode_writes_only_running_jobs_and_steps,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_all_mode_keeps_ended_jobs_with_their_final_values,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_none_mode_writes_no_job_or_step_series_but_every_node_one,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_a_job_s_series_disappear_after_it_ends, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_series_per_node_for_each_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_mode_names_are_running_all_none, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_values_keep_microunits_and_small_values_every_digit,
			setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
