/* Specification of lib/sensor: the wall-meter feed in energy and power mode,
 * and every fault it must reject, on feeds written to temporary files. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "footprint/sensor.h"

#define T0 1700000000.0

typedef struct fixture {
	char dir[64];
	char path[128];
	int warnings;
	char last[512];
	fp_sensor_t *s;
} fixture_t;

static void _log(void *ctx, int level, const char *msg)
{
	fixture_t *f = ctx;

	if (level > FP_LOG_WARN)
		return;
	f->warnings++;
	snprintf(f->last, sizeof(f->last), "%s", msg);
}

static int setup(void **state)
{
	fixture_t *f = calloc(1, sizeof(*f));
	fp_sensor_config_t cfg = { .max_age_s = 10, .ceiling_w = 5000 };

	strcpy(f->dir, "/tmp/test_sensor.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/sensor.json", f->dir);
	cfg.path = f->path;
	f->s = fp_sensor_new(&cfg, _log, f, NULL);
	assert_non_null(f->s);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture_t *f = *state;
	char cmd[128];

	fp_sensor_free(f->s);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* The agent's way: write aside, rename over. */
static void _feed(const fixture_t *f, const char *text)
{
	char tmp[160];
	FILE *fp;

	snprintf(tmp, sizeof(tmp), "%s.tmp", f->path);
	fp = fopen(tmp, "w");
	assert_non_null(fp);
	fputs(text, fp);
	fclose(fp);
	assert_int_equal(rename(tmp, f->path), 0);
}

static void _energy(const fixture_t *f, double t, double j)
{
	char text[128];

	snprintf(text, sizeof(text), "{\"time\": %.3f, \"energy_j\": %.3f}\n",
		 t, j);
	_feed(f, text);
}

static void _power(const fixture_t *f, double t, double w)
{
	char text[128];

	snprintf(text, sizeof(text), "{\"time\": %.3f, \"power_w\": %.3f}\n", t,
		 w);
	_feed(f, text);
}

static fp_sensor_reading_t _read(fixture_t *f, double now)
{
	fp_sensor_reading_t r;

	fp_sensor_read(f->s, now, &r);
	return r;
}

static void _rejects(fixture_t *f, const char *text, fp_sensor_fault_t fault)
{
	fp_sensor_reading_t r;

	_feed(f, text);
	assert_int_equal(fp_sensor_read(f->s, T0 + 1, &r), -1);
	assert_false(r.valid);
	assert_int_equal(r.fault, fault);
	assert_non_null(strstr(r.reason, f->path));
	assert_non_null(strstr(r.reason, fp_sensor_fault_str(fault)));
}

static void energy_mode_reports_the_meters_cumulative_joules(void **state)
{
	fixture_t *f = *state;
	fp_sensor_reading_t r;

	_energy(f, T0, 12345.5);
	r = _read(f, T0 + 2);
	assert_true(r.valid);
	assert_int_equal(r.mode, FP_SENSOR_ENERGY);
	assert_float_equal(r.energy_j, 12345.5, 1e-9);
	assert_float_equal(r.age_s, 2, 1e-6);
	assert_true(isnan(r.power_w));
}

static void energy_mode_implies_power_between_readings(void **state)
{
	fixture_t *f = *state;
	fp_sensor_reading_t r;

	_energy(f, T0, 1000);
	_read(f, T0);
	_energy(f, T0 + 4, 1800);
	r = _read(f, T0 + 4);
	assert_true(r.valid);
	assert_float_equal(r.power_w, 200, 1e-9);
	assert_float_equal(r.energy_j, 1800, 1e-9);
}

static void power_mode_integrates_by_trapezoid(void **state)
{
	fixture_t *f = *state;
	fp_sensor_reading_t r;

	_power(f, T0, 100);
	r = _read(f, T0);
	assert_true(r.valid);
	assert_int_equal(r.mode, FP_SENSOR_POWER);
	assert_float_equal(r.energy_j, 0, 1e-9);
	_power(f, T0 + 10, 200);
	r = _read(f, T0 + 10);
	assert_float_equal(r.energy_j, 1500, 1e-9);
	assert_float_equal(r.power_w, 200, 1e-9);
	_power(f, T0 + 20, 200);
	r = _read(f, T0 + 20);
	assert_float_equal(r.energy_j, 3500, 1e-9);
}

static void power_mode_rereading_the_same_sample_adds_nothing(void **state)
{
	fixture_t *f = *state;
	fp_sensor_reading_t r;

	_power(f, T0, 100);
	_read(f, T0);
	_power(f, T0 + 10, 100);
	_read(f, T0 + 10);
	r = _read(f, T0 + 11);
	assert_true(r.valid);
	assert_float_equal(r.energy_j, 1000, 1e-9);
}

static void meter_id_and_simulated_flag_are_reported(void **state)
{
	fixture_t *f = *state;
	fp_sensor_reading_t r;

	_feed(f, "{\"time\": 1700000000, \"energy_j\": 5, "
		 "\"meter\": \"heater-7\", \"simulated\": true}");
	r = _read(f, T0);
	assert_true(r.valid);
	assert_string_equal(r.meter, "heater-7");
	assert_true(r.simulated);
}

static void missing_file_is_rejected(void **state)
{
	fixture_t *f = *state;
	fp_sensor_reading_t r = _read(f, T0);

	assert_false(r.valid);
	assert_int_equal(r.fault, FP_SENSOR_MISSING);
	assert_non_null(strstr(r.reason, f->path));
}

static void malformed_json_is_rejected(void **state)
{
	_rejects(*state,
		 "{\"time\": 1700000000, \"energy_j\": ", FP_SENSOR_MALFORMED);
}

static void empty_file_is_rejected(void **state)
{
	_rejects(*state, "", FP_SENSOR_MALFORMED);
}

static void non_object_is_rejected(void **state)
{
	_rejects(*state, "[1700000000, 5]", FP_SENSOR_MALFORMED);
}

static void missing_time_is_rejected(void **state)
{
	_rejects(*state, "{\"energy_j\": 5}", FP_SENSOR_MALFORMED);
}

static void missing_energy_and_power_is_rejected(void **state)
{
	_rejects(*state, "{\"time\": 1700000000}", FP_SENSOR_MALFORMED);
}

static void both_energy_and_power_is_rejected(void **state)
{
	_rejects(*state,
		 "{\"time\": 1700000000, \"energy_j\": 5, \"power_w\": 5}",
		 FP_SENSOR_MALFORMED);
}

static void wrong_types_are_rejected(void **state)
{
	fixture_t *f = *state;

	_rejects(f, "{\"time\": \"now\", \"energy_j\": 5}",
		 FP_SENSOR_MALFORMED);
	_rejects(f, "{\"time\": 1700000000, \"energy_j\": \"5\"}",
		 FP_SENSOR_MALFORMED);
	_rejects(f, "{\"time\": 1700000000, \"energy_j\": 5, \"meter\": 7}",
		 FP_SENSOR_MALFORMED);
	_rejects(f, "{\"time\": 1700000000, \"energy_j\": 5, \"simulated\": 1}",
		 FP_SENSOR_MALFORMED);
}

static void nan_and_infinity_are_rejected_as_non_finite(void **state)
{
	fixture_t *f = *state;

	_rejects(f, "{\"time\": 1700000000, \"power_w\": NaN}",
		 FP_SENSOR_NONFINITE);
	_rejects(f, "{\"time\": 1700000000, \"energy_j\": Infinity}",
		 FP_SENSOR_NONFINITE);
	_rejects(f, "{\"time\": 1700000000, \"energy_j\": 1e999}",
		 FP_SENSOR_NONFINITE);
}

static void negative_values_are_rejected(void **state)
{
	fixture_t *f = *state;

	_rejects(f, "{\"time\": 1700000000, \"energy_j\": -1}",
		 FP_SENSOR_NEGATIVE);
	_rejects(f, "{\"time\": 1700000000, \"power_w\": -0.5}",
		 FP_SENSOR_NEGATIVE);
}

static void stale_reading_is_rejected_then_recovers(void **state)
{
	fixture_t *f = *state;
	fp_sensor_reading_t r;

	_energy(f, T0, 100);
	r = _read(f, T0 + 10.5);
	assert_false(r.valid);
	assert_int_equal(r.fault, FP_SENSOR_STALE);
	assert_float_equal(r.age_s, 10.5, 1e-6);
	_energy(f, T0 + 11, 150);
	r = _read(f, T0 + 11.5);
	assert_true(r.valid);
	assert_float_equal(r.energy_j, 150, 1e-9);
}

static void time_going_back_is_refused_once_then_followed(void **state)
{
	fixture_t *f = *state;
	fp_sensor_reading_t r;

	_energy(f, T0, 100);
	assert_true(_read(f, T0 + 1).valid);
	_energy(f, T0 - 5, 110);
	r = _read(f, T0 + 2);
	assert_false(r.valid);
	assert_int_equal(r.fault, FP_SENSOR_TIME_BACK);
	assert_float_equal(r.energy_j, 100, 1e-9);
	assert_string_equal(strstr(r.reason, "time went back"),
			    "time went back: time 1699999995.000 is 5.000 s "
			    "before the previous reading's");
	/* the meter's clock was set back: judged from there on */
	_energy(f, T0 - 4, 120);
	r = _read(f, T0 + 3);
	assert_true(r.valid);
	assert_float_equal(r.energy_j, 120, 1e-9);
	assert_float_equal(r.power_w, 10, 1e-9);
}

static void power_mode_time_going_back_is_refused(void **state)
{
	fixture_t *f = *state;
	fp_sensor_reading_t r;

	_power(f, T0, 100);
	assert_true(_read(f, T0 + 1).valid);
	_power(f, T0 + 2, 100);
	assert_true(_read(f, T0 + 3).valid);
	_power(f, T0 + 1, 100);
	r = _read(f, T0 + 3);
	assert_false(r.valid);
	assert_int_equal(r.fault, FP_SENSOR_TIME_BACK);
	assert_float_equal(r.energy_j, 200, 1e-9);
}

static void reading_from_the_future_is_rejected(void **state)
{
	fixture_t *f = *state;
	fp_sensor_reading_t r;

	_energy(f, T0 + 60, 100);
	r = _read(f, T0);
	assert_false(r.valid);
	assert_int_equal(r.fault, FP_SENSOR_STALE);
}

static void power_above_the_ceiling_is_implausible(void **state)
{
	fixture_t *f = *state;
	fp_sensor_reading_t r;

	_power(f, T0, 100);
	_read(f, T0);
	_power(f, T0 + 1, 50000);
	r = _read(f, T0 + 1);
	assert_false(r.valid);
	assert_int_equal(r.fault, FP_SENSOR_IMPLAUSIBLE);
	/* The spike is not integrated into the next interval. */
	_power(f, T0 + 2, 100);
	r = _read(f, T0 + 2);
	assert_true(r.valid);
	assert_float_equal(r.energy_j, 200, 1e-9);
}

static void implied_power_above_the_ceiling_is_implausible(void **state)
{
	fixture_t *f = *state;
	fp_sensor_reading_t r;

	_energy(f, T0, 1000);
	_read(f, T0);
	_energy(f, T0 + 1, 1000 + 6000);
	r = _read(f, T0 + 1);
	assert_false(r.valid);
	assert_int_equal(r.fault, FP_SENSOR_IMPLAUSIBLE);
	/* One glitch is rejected once: the next delta starts from it. */
	_energy(f, T0 + 2, 7000 + 300);
	r = _read(f, T0 + 2);
	assert_true(r.valid);
	assert_float_equal(r.power_w, 300, 1e-9);
}

static void invalid_reading_keeps_the_cumulative_energy(void **state)
{
	fixture_t *f = *state;
	fp_sensor_reading_t r;

	_power(f, T0, 100);
	_read(f, T0);
	_power(f, T0 + 10, 100);
	_read(f, T0 + 10);
	_feed(f, "garbage");
	r = _read(f, T0 + 11);
	assert_false(r.valid);
	assert_float_equal(r.energy_j, 1000, 1e-9);
}

static void counter_going_back_is_a_meter_reset_not_an_error(void **state)
{
	fixture_t *f = *state;
	fp_sensor_reading_t r;

	_energy(f, T0, 5000);
	r = _read(f, T0);
	assert_false(r.reset);
	_energy(f, T0 + 1, 3);
	r = _read(f, T0 + 1);
	assert_true(r.valid);
	assert_true(r.reset);
	assert_float_equal(r.energy_j, 3, 1e-9);
	assert_int_equal(f->warnings, 0);
	_energy(f, T0 + 2, 200);
	r = _read(f, T0 + 2);
	assert_false(r.reset);
	assert_float_equal(r.power_w, 197, 1e-9);
}

static void each_distinct_fault_is_logged_once_until_it_clears(void **state)
{
	fixture_t *f = *state;

	_energy(f, T0, 100);
	_read(f, T0 + 20);
	_read(f, T0 + 21);
	_read(f, T0 + 22);
	assert_int_equal(f->warnings, 1);
	assert_non_null(strstr(f->last, "stale"));
	_feed(f, "{");
	_read(f, T0 + 23);
	_read(f, T0 + 24);
	assert_int_equal(f->warnings, 2);
	assert_non_null(strstr(f->last, "malformed"));
	_energy(f, T0 + 25, 120);
	_read(f, T0 + 25);
	assert_int_equal(f->warnings, 2);
	_feed(f, "{");
	_read(f, T0 + 26);
	assert_int_equal(f->warnings, 3);
}

/* The engine judges the wall (fp_engine_wall_plausible); the sensor only
 * says its verdict, once until it clears, with the two energies. */
static void wall_below_rapl_is_logged_once_until_it_clears(void **state)
{
	fixture_t *f = *state;

	fp_sensor_note_rapl(f->s, true, 500, 1000);
	fp_sensor_note_rapl(f->s, true, 400, 1000);
	assert_int_equal(f->warnings, 1);
	assert_non_null(strstr(f->last, "below RAPL"));
	assert_non_null(strstr(f->last, "wall 500.000 J is less than RAPL "
					"1000.000 J"));
	/* the engine's verdict, not the sensor's own: a wall above RAPL
	 * the engine still dropped is said as dropped */
	fp_sensor_note_rapl(f->s, false, 1500, 1000);
	assert_int_equal(f->warnings, 1);
	fp_sensor_note_rapl(f->s, true, 1500, 1000);
	assert_int_equal(f->warnings, 2);
	assert_non_null(strstr(f->last, "wall 1500.000 J"));
}

static void fifo_feed_gives_the_newest_line(void **state)
{
	fixture_t *f = *state;
	fp_sensor_reading_t r;
	char fifo[160];
	int wfd;
	const char *two = "{\"time\": 1700000000, \"energy_j\": 10}\n"
			  "{\"time\": 1700000001, \"energy_j\": 20}\n";
	const char *part = "{\"time\": 1700000002, \"ene";

	fp_sensor_free(f->s);
	snprintf(fifo, sizeof(fifo), "%s/feed.fifo", f->dir);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	f->s = fp_sensor_new(&(fp_sensor_config_t){ .path = fifo,
						    .max_age_s = 10 },
			     _log, f, NULL);
	r = _read(f, T0);
	assert_false(r.valid); /* nothing written yet; never blocks */
	wfd = open(fifo, O_WRONLY | O_NONBLOCK);
	assert_true(wfd >= 0);
	assert_int_equal(write(wfd, two, strlen(two)), (ssize_t)strlen(two));
	r = _read(f, T0 + 1);
	assert_true(r.valid);
	assert_float_equal(r.energy_j, 20, 1e-9);
	/* A half-written line waits; the last complete one stands. */
	assert_int_equal(write(wfd, part, strlen(part)), (ssize_t)strlen(part));
	r = _read(f, T0 + 2);
	assert_true(r.valid);
	assert_float_equal(r.energy_j, 20, 1e-9);
	assert_int_equal(write(wfd, "rgy_j\": 30}\n", 12), 12);
	r = _read(f, T0 + 2);
	assert_float_equal(r.energy_j, 30, 1e-9);
	close(wfd);
}

/* The feed's kind is remembered (no stat at every poll) yet followed: a
 * file replaced by a FIFO, and back, is read as what it is now. */
static void feed_turning_from_file_to_fifo_and_back_is_followed(void **state)
{
	fixture_t *f = *state;
	fp_sensor_reading_t r;
	const char *line = "{\"time\": 1700000003, \"energy_j\": 50}\n";
	int wfd;

	_energy(f, T0, 10);
	r = _read(f, T0);
	assert_true(r.valid);
	_energy(f, T0 + 1, 20);
	r = _read(f, T0 + 1);
	assert_true(r.valid);
	assert_float_equal(r.energy_j, 20, 1e-9);
	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(mkfifo(f->path, 0600), 0);
	/* opening O_NONBLOCK for writing needs a reader: the sensor's */
	r = _read(f, T0 + 2);
	assert_false(r.valid);
	wfd = open(f->path, O_WRONLY | O_NONBLOCK);
	if (wfd < 0) {
		r = _read(f, T0 + 2); /* the FIFO is known by now */
		wfd = open(f->path, O_WRONLY | O_NONBLOCK);
	}
	assert_true(wfd >= 0);
	assert_int_equal(write(wfd, line, strlen(line)), (ssize_t)strlen(line));
	r = _read(f, T0 + 3);
	if (!r.valid)
		r = _read(f, T0 + 3);
	assert_true(r.valid);
	assert_float_equal(r.energy_j, 50, 1e-9);
	close(wfd);
	assert_int_equal(unlink(f->path), 0);
	_energy(f, T0 + 4, 60);
	r = _read(f, T0 + 4);
	assert_true(r.valid);
	assert_float_equal(r.energy_j, 60, 1e-9);
}

static void bad_configuration_is_refused(void **state)
{
	fp_error_t err = { 0 };

	assert_null(fp_sensor_new(&(fp_sensor_config_t){ .path = "/x",
							 .max_age_s = 0 },
				  NULL, NULL, &err));
	assert_int_equal(err.code, FP_EINVAL);
	assert_null(fp_sensor_new(&(fp_sensor_config_t){ .max_age_s = 1 }, NULL,
				  NULL, &err));
	fp_sensor_free(NULL);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(energy_mode_reports_the_meters_cumulative_joules),
		T(energy_mode_implies_power_between_readings),
		T(power_mode_integrates_by_trapezoid),
		T(power_mode_rereading_the_same_sample_adds_nothing),
		T(meter_id_and_simulated_flag_are_reported),
		T(missing_file_is_rejected),
		T(malformed_json_is_rejected),
		T(empty_file_is_rejected),
		T(non_object_is_rejected),
		T(missing_time_is_rejected),
		T(missing_energy_and_power_is_rejected),
		T(both_energy_and_power_is_rejected),
		T(wrong_types_are_rejected),
		T(nan_and_infinity_are_rejected_as_non_finite),
		T(negative_values_are_rejected),
		T(stale_reading_is_rejected_then_recovers),
		T(reading_from_the_future_is_rejected),
		T(time_going_back_is_refused_once_then_followed),
		T(power_mode_time_going_back_is_refused),
		T(power_above_the_ceiling_is_implausible),
		T(implied_power_above_the_ceiling_is_implausible),
		T(invalid_reading_keeps_the_cumulative_energy),
		T(counter_going_back_is_a_meter_reset_not_an_error),
		T(each_distinct_fault_is_logged_once_until_it_clears),
		T(wall_below_rapl_is_logged_once_until_it_clears),
		T(fifo_feed_gives_the_newest_line),
		T(feed_turning_from_file_to_fifo_and_back_is_followed),
		T(bad_configuration_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
