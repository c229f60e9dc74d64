/* Time series the carbon methodology integrates over a step's time: grid
 * carbon intensity and the useful-heat fraction (docs/methodology.md,
 * "Signals"), each file at its own resolution. */
#ifndef FP_SERIES_H
#define FP_SERIES_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "error.h"
#include "iso8601.h"

/* Which column of a file that carries both (Electricity Maps) is used;
 * for other sources it labels what the number is. UNSET resolves to LCA,
 * except for eco2mix which only publishes direct emissions. */
typedef enum fp_intensity_kind {
	FP_INTENSITY_UNSET = 0,
	FP_INTENSITY_LCA,
	FP_INTENSITY_DIRECT,
} fp_intensity_kind_t;

typedef enum fp_series_format {
	FP_FORMAT_AUTO = 0,	   /* guessed from the header line */
	FP_FORMAT_ELECTRICITYMAPS, /* "Datetime (UTC)", "Carbon ..." */
	FP_FORMAT_ECO2MIX,	   /* RTE: "Date", "Heures", "Taux de CO2" */
	FP_FORMAT_PLAIN,	   /* "iso8601,value" lines, # comments */
} fp_series_format_t;

typedef enum fp_series_type {
	FP_SERIES_CONSTANT = 0,
	FP_SERIES_HOURLY, /* loaded from a file (at its own resolution,
				 * the name is historical) */
	FP_SERIES_MONTHS, /* 1 in the listed months (UTC), else 0 */
} fp_series_type_t;

typedef struct fp_series fp_series_t;

/* 2 kg per kWh: no grid reaches it (coal and lignite plants, the worst,
 * are 0.8 to 1.3 kgCO2e/kWh over their life cycle, IPCC AR5 WGIII annex
 * III), so a larger value in a series, an Intensity= constant or a
 * DisplacedHeating= figure is refused: it is a unit or column mistake
 * (g/MWh for g/kWh gives 50 000 and more), or garbage (1e300). */
#define FP_SERIES_MAX_VALUE 2000.0
/* A series file is read whole: an endless line or file (a device, a wrong
 * path) is refused at these sizes, not read until memory runs out. Ten
 * years of quarter-hour eco2mix rows are about 50 MB. */
#define FP_SERIES_MAX_LINE 65536
/* A value holds until the next one when that is at most this much later
 * (15-min eco2mix, 30-min UK, hourly Electricity Maps); a longer spacing
 * is a gap in the data, never bridged. */
#define FP_SERIES_MAX_STEP 3600
#define FP_SERIES_MAX_BYTES (128L << 20)

/* A value valid at every time. name is what the summary reports. */
fp_series_t *fp_series_new_constant(const char *name, double value);
/* 1.0 in the months whose bit (1 << (month - 1)) is set, 0.0 otherwise. */
fp_series_t *fp_series_new_months(const char *name, unsigned months);
/* Loads a file; the error names the file, the line and the field. Rows
 * must be in time order, each time once; a value must be in
 * [0, FP_SERIES_MAX_VALUE]; eco2mix local times must exist (not in the
 * skipped spring hour) and appear at most twice (the autumn hour).
 * A value holds from its time to the next one's (at most
 * FP_SERIES_MAX_STEP later, else a gap follows and it holds for the
 * spacing before it); the last value holds for the spacing before it, a
 * value alone an hour. */
fp_series_t *fp_series_load(const char *path, fp_series_format_t format,
			    fp_intensity_kind_t kind, fp_error_t *err);
/* Same from memory; name stands for the file in errors and the summary. */
fp_series_t *fp_series_parse(const char *name, const char *text, size_t len,
			     fp_series_format_t format,
			     fp_intensity_kind_t kind, fp_error_t *err);
void fp_series_free(fp_series_t *s);
/* IntensityResolution=hour: replaces a loaded series by the mean of its
 * values in each UTC hour (how every series was read before issue #16),
 * each holding that whole hour. Constants and months are left as they are. */
int fp_series_average_hours(fp_series_t *s, fp_error_t *err);

/* The value that holds at t. Fails (FP_EINVAL) when t is outside the
 * series or falls in a gap: values are never invented. */
int fp_series_value(const fp_series_t *s, time_t t, double *value,
		    fp_error_t *err);
/* Time-weighted mean over [t0, t1): the exact integral of the step
 * function (each value times the part of [t0, t1) it holds), divided by
 * t1 - t0. For t0 == t1, the value at t0. Fails like fp_series_value for
 * the first time not covered. */
int fp_series_mean(const fp_series_t *s, time_t t0, time_t t1, double *mean,
		   fp_error_t *err);
/* IntensityFallback= (docs/methodology.md, "Fallback"): what fills the
 * times a series has not published once the worker stops waiting. */
typedef enum fp_fallback_kind {
	FP_FALLBACK_NONE = 0,	  /* no value: the summary is incomplete */
	FP_FALLBACK_LAST,	  /* the last value before the missing time */
	FP_FALLBACK_SAME_HOUR,	  /* mean of the same UTC hour, last N days */
	FP_FALLBACK_MONTHLY_MEAN, /* the series' last 30 days' mean */
	FP_FALLBACK_CONSTANT,	  /* a value in the series' unit */
} fp_fallback_kind_t;

typedef struct fp_fallback {
	fp_fallback_kind_t kind;
	unsigned days; /* SAME_HOUR: N, 1..FP_FALLBACK_MAX_DAYS */
	double value;  /* CONSTANT */
} fp_fallback_t;

#define FP_FALLBACK_MAX_DAYS 366

/* What a fallback filled in one mean: the share of [t0, t1) it filled and
 * the times it filled, [first, end) (first == end: nothing). */
typedef struct fp_fill {
	double fraction;
	time_t first, end;
} fp_fill_t;

/* "none", "last", "same-hour:7", "monthly-mean" or a number in
 * [0, FP_SERIES_MAX_VALUE]; -1 otherwise. */
int fp_series_fallback_parse(const char *text, fp_fallback_t *fb);
/* The text fp_series_fallback_parse reads back ("same-hour:7", "56"). */
void fp_series_fallback_format(const fp_fallback_t *fb, char *buf, size_t size);
/* fp_series_mean, where every time the series has no value (after its end,
 * in a gap, before its start) is filled by fb; fill says how much. With
 * FP_FALLBACK_NONE it is fp_series_mean. Fails when the fallback itself
 * has no value (last before the series' start, same-hour with none of the
 * N days, monthly-mean of an empty month). For t0 == t1, [t0, t0 + 1). */
int fp_series_mean_fallback(const fp_series_t *s, const fp_fallback_t *fb,
			    time_t t0, time_t t1, double *mean, fp_fill_t *fill,
			    fp_error_t *err);
/* Fails (FP_EINVAL, naming the hour) if a value is outside [lo, hi]. */
int fp_series_check_range(const fp_series_t *s, double lo, double hi,
			  fp_error_t *err);

const char *fp_series_name(const fp_series_t *s);
fp_series_type_t fp_series_type(const fp_series_t *s);
fp_series_format_t fp_series_format(const fp_series_t *s);
/* The kind actually used (never UNSET for a loaded intensity file). */
fp_intensity_kind_t fp_series_kind(const fp_series_t *s);
/* A loaded series: [first value's time, end of the last value's step) and
 * the number of values (hours after fp_series_average_hours). Constants
 * and months: false and 0. */
bool fp_series_span(const fp_series_t *s, time_t *first, time_t *end);
size_t fp_series_hours(const fp_series_t *s);

const char *fp_series_intensity_kind_str(fp_intensity_kind_t kind);
const char *fp_series_format_str(fp_series_format_t format);

#endif
