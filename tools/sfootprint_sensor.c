/* sfootprint sensor-check: reads a wall-meter feed twice, an interval apart,
 * and says whether a node plugin would accept it (docs/sensor-feed.md). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "footprint/sensor.h"
#include "sfootprint.h"

#define DEFAULT_INTERVAL_S 1.0
#define MAX_INTERVAL_S 3600.0

static void _usage(FILE *out)
{
	fprintf(out,
		"usage: sfootprint sensor-check FILE [--max-age S] "
		"[--ceiling W] [--interval S]\n"
		"  --max-age S    a reading older than S seconds is stale "
		"(%g to %g,\n"
		"                 default %g, as the node plugin's "
		"SensorMaxAge)\n"
		"  --ceiling W    power above W watts is implausible (%g to "
		"%g,\n"
		"                 default %g, as the node plugin's "
		"SensorCeiling)\n"
		"  --interval S   read again after S seconds to check the "
		"feed advances;\n"
		"                 0 reads once (default %g)\n",
		FP_SENSOR_MAX_AGE_MIN_S, FP_SENSOR_MAX_AGE_MAX_S,
		FP_SENSOR_MAX_AGE_S, FP_SENSOR_CEILING_MIN_W,
		FP_SENSOR_CEILING_MAX_W, FP_SENSOR_CEILING_W,
		DEFAULT_INTERVAL_S);
}

/* The plugin's bounds (include/footprint/sensor.h): a value it would refuse is not one
 * to check a feed with. */
static double _now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void _sleep(double s)
{
	struct timespec ts;

	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static int _fail(const fp_sensor_reading_t *r)
{
	fprintf(stderr, "sfootprint sensor-check: %s\n", r->reason);
	return FP_EXIT_FAIL;
}

static void _print(const char *path, const fp_sensor_reading_t *r)
{
	printf("feed:      %s\n", path);
	printf("mode:      %s\n", fp_sensor_mode_str(r->mode));
	if (r->meter[0] || r->simulated)
		printf("meter:     %s%s\n", r->meter[0] ? r->meter : "-",
		       r->simulated ? " (simulated, not a measurement)" : "");
	if (r->mode == FP_SENSOR_POWER)
		printf("power:     %.3f W\n", r->power_w);
	else
		printf("energy:    %.3f J\n", r->energy_j);
	printf("age:       %.2f s\n", r->age_s);
}

int fpt_cmd_sensor_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "max-age", required_argument, NULL, 'a' },
		{ "ceiling", required_argument, NULL, 'c' },
		{ "interval", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	fp_sensor_config_t cfg = { .max_age_s = FP_SENSOR_MAX_AGE_S,
				   .ceiling_w = FP_SENSOR_CEILING_W };
	double interval = DEFAULT_INTERVAL_S, dt;
	fp_sensor_reading_t r1, r2;
	fp_error_t err = { 0 };
	fp_sensor_t *s;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			if (fpt_cli_number("sensor-check", "--max-age", optarg,
					   FP_SENSOR_MAX_AGE_MIN_S,
					   FP_SENSOR_MAX_AGE_MAX_S,
					   &cfg.max_age_s))
				return FP_EXIT_USAGE;
			break;
		case 'c':
			if (fpt_cli_number("sensor-check", "--ceiling", optarg,
					   FP_SENSOR_CEILING_MIN_W,
					   FP_SENSOR_CEILING_MAX_W,
					   &cfg.ceiling_w))
				return FP_EXIT_USAGE;
			break;
		case 'i':
			if (fpt_cli_number("sensor-check", "--interval", optarg,
					   0, MAX_INTERVAL_S, &interval))
				return FP_EXIT_USAGE;
			break;
		case 'h':
			_usage(stdout);
			return FP_EXIT_OK;
		default:
			_usage(stderr);
			return FP_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		_usage(stderr);
		return FP_EXIT_USAGE;
	}
	cfg.path = argv[optind];
	s = fp_sensor_new(&cfg, NULL, NULL, &err);
	if (!s) {
		fprintf(stderr, "sfootprint sensor-check: %s\n", err.msg);
		return FP_EXIT_USAGE;
	}
	if (fp_sensor_read(s, _now(), &r1)) {
		rc = _fail(&r1);
		goto out;
	}
	if (interval <= 0) {
		_print(cfg.path, &r1);
		printf("status:    valid (one reading)\n");
		rc = FP_EXIT_OK;
		goto out;
	}
	_sleep(interval);
	if (fp_sensor_read(s, _now(), &r2)) {
		rc = _fail(&r2);
		goto out;
	}
	_print(cfg.path, &r2);
	dt = r2.time - r1.time;
	rc = FP_EXIT_OK;
	if (r2.reset) {
		printf("status:    valid, but the meter reset during the "
		       "check\n");
	} else if (dt <= 0) {
		/* Agents may refresh less often than --interval: not a fault
		 * as long as the reading is within --max-age (a time going
		 * back is refused by fp_sensor_read, as in the plugin). */
		printf("status:    valid, not rewritten within %g s\n",
		       interval);
	} else if (r2.mode == FP_SENSOR_ENERGY && r2.energy_j <= r1.energy_j) {
		fprintf(stderr,
			"sfootprint sensor-check: sensor feed %s: counter did "
			"not advance in %.2f s (stuck at %.3f J)\n",
			cfg.path, dt, r2.energy_j);
		rc = FP_EXIT_FAIL;
	} else {
		printf("implied:   %.3f W over %.2f s (%.3f J)\n",
		       (r2.energy_j - r1.energy_j) / dt, dt,
		       r2.energy_j - r1.energy_j);
		printf("status:    valid\n");
	}
out:
	fp_sensor_free(s);
	return rc;
}
