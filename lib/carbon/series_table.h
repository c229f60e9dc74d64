/* Private to lib/carbon/series*.c: a series' table of points, which the
 * parser (series_parse.c) builds and the lookups (series.c) read. */
#ifndef FP_SERIES_TABLE_H
#define FP_SERIES_TABLE_H

#include <stddef.h>
#include <time.h>

#include "footprint/series.h"

#define HOUR 3600

/* A value holds over [t, until): until is the next point's time, unless
 * that is more than FP_SERIES_MAX_STEP later (a gap), and then the point
 * holds for its own step. */
struct point {
	time_t t, until;
	double v;
};

struct fp_series {
	char *name;
	fp_series_type_t type;
	fp_series_format_t format;
	fp_intensity_kind_t kind;
	double constant;
	unsigned months;
	struct point *pts; /* in time order, never overlapping */
	size_t npts;
};

/* A series of that type named name (copied), with no point; NULL when out
 * of memory. */
fp_series_t *fp_series_alloc(const char *name, fp_series_type_t type);

#endif
