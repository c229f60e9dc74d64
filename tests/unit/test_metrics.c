/* Specification of the Prometheus textfile written by the node poller
 * (lib/metrics). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "metrics.h"

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
		.node = "qh042", .simulated = true, .source = "wall",
		.power_w = 412.5, .energy_j = 120.75, .source_names = names,
		.source_energy_j = by_source, .nsources = 2,
		.calibration_active = true, .calibration_a = 1.15,
		.calibration_b_w = 40, .calibration_intervals = 31,
		.sensor_configured = true, .sensor_up = false,
		.sensor_fault = "stale", .sensor_age_s = 12,
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
	assert_non_null(strstr(text, "# TYPE footprint_node_power_watts gauge\n"));
	assert_non_null(strstr(text,
		"footprint_node_power_watts{node=\"qh042\",source=\"wall\",simulated=\"true\"} 412.5\n"));
	assert_non_null(strstr(text,
		"footprint_node_energy_joules_total{node=\"qh042\",source=\"calibrated\",simulated=\"true\"} 20.25\n"));
	assert_non_null(strstr(text, "# TYPE footprint_node_energy_joules_total counter\n"));
}

static void test_sensor_health_names_the_fault(void **state)
{
	fp_metrics_node_t n = _node();
	fp_error_t err;

	assert_int_equal(fp_metrics_write(path, &n, NULL, 0, NULL, 0, &err), 0);
	_read();
	assert_non_null(strstr(text,
		"footprint_sensor_up{node=\"qh042\",fault=\"stale\"} 0\n"));
	assert_non_null(strstr(text, "footprint_calibration_intervals{node=\"qh042\",simulated=\"true\"} 31\n"));
}

static void test_job_and_step_lines_carry_user_and_account(void **state)
{
	fp_metrics_node_t n = _node();
	fp_metrics_entity_t jobs[] = {
		{ .job = 4242, .user = "alice", .account = "phys",
		  .power_w = 30, .energy_j = 900 },
	};
	fp_metrics_entity_t steps[] = {
		{ .job = 4242, .step = "4242.batch", .user = "alice",
		  .account = "phys", .power_w = 30, .energy_j = 900 },
	};
	fp_error_t err;

	assert_int_equal(fp_metrics_write(path, &n, jobs, 1, steps, 1, &err), 0);
	_read();
	assert_non_null(strstr(text,
		"footprint_job_power_watts{node=\"qh042\",job=\"4242\",user=\"alice\",account=\"phys\"} 30\n"));
	assert_non_null(strstr(text,
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
					  NULL, 0, &err), -1);
	assert_int_equal(err.code, FP_EIO);
	assert_non_null(strstr(err.msg, "/nonexistent/x.prom"));
}

static void test_latin1_label_value_becomes_the_replacement_character(
	void **state)
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_node_power_and_energy_by_source_are_exposed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sensor_health_names_the_fault, setup, teardown),
		cmocka_unit_test_setup_teardown(test_job_and_step_lines_carry_user_and_account, setup, teardown),
		cmocka_unit_test_setup_teardown(test_label_values_are_escaped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unwritable_folder_is_an_error_naming_the_file, setup, teardown),
		cmocka_unit_test_setup_teardown(test_latin1_label_value_becomes_the_replacement_character, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics_file_is_0644_whatever_the_umask, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
