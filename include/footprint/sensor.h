/* The heater's wall-power meter feed (docs/sensor-feed.md): reads the JSON
 * object the vendor's agent rewrites, validates it, and keeps a cumulative
 * energy in joules. */
#ifndef FP_SENSOR_H
#define FP_SENSOR_H

#include <stdbool.h>

#include "error.h"

typedef enum fp_sensor_mode {
	FP_SENSOR_NONE = 0, /* nothing valid read yet */
	FP_SENSOR_ENERGY,   /* the feed gives cumulative "energy_j" */
	FP_SENSOR_POWER,    /* the feed gives "power_w", integrated here */
} fp_sensor_mode_t;

/* Why a reading is not valid. Each distinct fault is logged once, until a
 * valid reading clears it. */
typedef enum fp_sensor_fault {
	FP_SENSOR_OK = 0,
	FP_SENSOR_MISSING,     /* no such file */
	FP_SENSOR_UNREADABLE,  /* open/read failed otherwise */
	FP_SENSOR_MALFORMED,   /* bad JSON, missing field, wrong type */
	FP_SENSOR_NONFINITE,   /* NaN, Infinity, a number out of range */
	FP_SENSOR_NEGATIVE,    /* negative energy or power */
	FP_SENSOR_STALE,       /* older than max_age_s (or in the future) */
	FP_SENSOR_IMPLAUSIBLE, /* power above ceiling */
	FP_SENSOR_BELOW_RAPL,  /* wall delta below the RAPL delta */
	FP_SENSOR_TIME_BACK,   /* time before the previous reading's */
} fp_sensor_fault_t;

typedef struct fp_sensor_config {
	const char *path; /* file or FIFO */
	double max_age_s; /* readings older than this are stale */
	double ceiling_w; /* higher power is implausible; <= 0: none */
} fp_sensor_config_t;

/* The limits a feed is judged by, one definition for the node plugin
 * (EnergyFootprintSensorMaxAge, EnergyFootprintSensorCeiling) and for
 * `sfootprint sensor-check`: defaults and accepted ranges. A reading whose
 * time is before the previous reading's is refused too (FP_SENSOR_TIME_BACK),
 * whatever the limits. */
#define FP_SENSOR_MAX_AGE_S 30.0
#define FP_SENSOR_MAX_AGE_MIN_S 0.1
#define FP_SENSOR_MAX_AGE_MAX_S 86400.0
#define FP_SENSOR_CEILING_W 20000.0
#define FP_SENSOR_CEILING_MIN_W 1.0
#define FP_SENSOR_CEILING_MAX_W 1e7

typedef struct fp_sensor_reading {
	bool valid;
	double energy_j; /* cumulative joules: the trace's wall_j */
	double time;	 /* the meter's timestamp, Unix seconds */
	double age_s;	 /* now - time */
	/* The feed's power (power mode) or the power implied since the
	 * previous valid reading (energy mode); NAN when unknown. */
	double power_w;
	fp_sensor_mode_t mode;
	bool reset;	/* the meter's counter went backwards */
	bool simulated; /* the feed says it comes from fp-simnode */
	char meter[64]; /* the feed's "meter" id, or "" */
	fp_sensor_fault_t fault;
	char reason[256]; /* when !valid: names the file and the fault */
} fp_sensor_reading_t;

typedef struct fp_sensor fp_sensor_t;

/* The config is copied. log may be NULL. */
fp_sensor_t *fp_sensor_new(const fp_sensor_config_t *cfg, fp_log_fn log,
			   void *log_ctx, fp_error_t *err);
void fp_sensor_free(fp_sensor_t *s);

/* Reads the feed as of now (Unix seconds; the caller's clock, so tests control
 * time). Always fills out; returns 0 when out->valid, else -1. An invalid
 * reading leaves the cumulative energy where it was. In power mode energy is
 * integrated (trapezoid over the meter's timestamps) from the first valid
 * reading, which counts as 0 J. */
int fp_sensor_read(fp_sensor_t *s, double now, fp_sensor_reading_t *out);

/* The engine's verdict on the last interval's wall (fp_engine_node's
 * wall_checked and wall_below_rapl: a meter upstream of the power supply
 * cannot see less than the CPUs and memory consume, so the engine dropped
 * it): logged once (FP_SENSOR_BELOW_RAPL) until a checked interval clears
 * it. The sensor judges nothing itself; the engine chose the node's
 * source. */
void fp_sensor_note_rapl(fp_sensor_t *s, bool below, double wall_delta_j,
			 double rapl_delta_j);

const char *fp_sensor_fault_str(fp_sensor_fault_t fault);
const char *fp_sensor_mode_str(fp_sensor_mode_t mode);

#endif
