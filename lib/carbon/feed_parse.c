/* Parses the providers' answers (eco2mix records, Electricity Maps history
 * or latest, the UK's national or regional data) into feed points. */
#include "footprint/feed.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "footprint/series.h"

static int _add_point(fp_feed_points_t *pts, time_t t, double v,
		      const char *flag, const char *what, fp_error_t *err)
{
	if (pts->n == pts->cap) {
		size_t nc = pts->cap ? pts->cap * 2 : 256;
		fp_feed_point_t *nv = realloc(pts->v, nc * sizeof(*nv));

		if (!nv)
			return fp_error_set(err, FP_ENOMEM, "%s: out of memory",
					    what);
		pts->v = nv;
		pts->cap = nc;
	}
	pts->v[pts->n].t = t;
	pts->v[pts->n].value = v;
	snprintf(pts->v[pts->n].flag, sizeof(pts->v[pts->n].flag), "%s", flag);
	pts->n++;
	return 0;
}

/* Provider answers. */

/* One record's time and value, added to pts with flag; a null value is
 * "not published yet" (nothing added), anything else that is not a number
 * in range, or a record that is not an object, is an error. */
static int _record_add(const char *what, size_t i, const json_t *rec,
		       const char *tkey, const json_t *val, const char *vkey,
		       const char *flag, fp_feed_points_t *pts, fp_error_t *err)
{
	json_t *jt = json_object_get(rec, tkey);
	time_t t;
	double v;

	if (!json_is_object(rec))
		return fp_error_set(err, FP_EPARSE,
				    "%s: record %zu is not an object", what,
				    i + 1);
	if (!json_is_string(jt))
		return fp_error_set(err, FP_EPARSE,
				    "%s: record %zu: field '%s' "
				    "missing or not a string",
				    what, i + 1, tkey);
	if (fp_iso8601_parse(json_string_value(jt), &t))
		return fp_error_set(err, FP_EPARSE,
				    "%s: record %zu: field '%s': "
				    "'%.40s' is not an ISO 8601 time",
				    what, i + 1, tkey, json_string_value(jt));
	if (!val || json_is_null(val))
		return 0;
	if (!json_is_number(val))
		return fp_error_set(err, FP_EPARSE,
				    "%s: record %zu: field '%s' "
				    "is not a number",
				    what, i + 1, vkey);
	v = json_number_value(val);
	if (!isfinite(v) || v < 0 || v > FP_SERIES_MAX_VALUE)
		return fp_error_set(err, FP_EINVAL,
				    "%s: record %zu: field '%s': "
				    "%g is outside 0..%g gCO2e/kWh",
				    what, i + 1, vkey, v, FP_SERIES_MAX_VALUE);
	return _add_point(pts, t, v, flag, what, err);
}

static int _parse_eco2mix(const char *what, json_t *root, fp_feed_points_t *pts,
			  long *total, fp_error_t *err)
{
	json_t *results = json_object_get(root, "results");
	json_t *tc = json_object_get(root, "total_count");
	size_t i;
	json_t *rec;

	if (!json_is_array(results))
		return fp_error_set(err, FP_EPARSE, "%s: no 'results' array",
				    what);
	if (total)
		*total = json_is_integer(tc) ? (long)json_integer_value(tc)
					     : -1;
	/* eco2mix-national-tr is real-time data, consolidated by RTE months
	 * later in another dataset. */
	json_array_foreach(results, i, rec)
	{
		if (_record_add(what, i, rec, "date_heure",
				json_object_get(rec, "taux_co2"), "taux_co2",
				"realtime", pts, err))
			return -1;
	}
	return 0;
}

static int _parse_electricitymaps(const char *what, json_t *root,
				  fp_feed_points_t *pts, fp_error_t *err)
{
	json_t *history = json_object_get(root, "history");
	size_t i, n = 1;
	json_t *rec;

	if (history && !json_is_array(history))
		return fp_error_set(err, FP_EPARSE,
				    "%s: 'history' is not an array", what);
	if (history)
		n = json_array_size(history);
	for (i = 0; i < n; i++) {
		/* /latest is one record at the top level */
		rec = history ? json_array_get(history, i) : root;
		if (_record_add(what, i, rec, "datetime",
				json_object_get(rec, "carbonIntensity"),
				"carbonIntensity",
				json_is_true(json_object_get(rec, "isEstimated"))
					? "estimated"
					: "actual",
				pts, err))
			return -1;
	}
	return 0;
}

static int _parse_uk(const char *what, json_t *root, bool region,
		     fp_feed_points_t *pts, fp_error_t *err)
{
	json_t *data = json_object_get(root, "data");
	size_t i;
	json_t *rec;

	/* regional: {"data": {"regionid": 13, ..., "data": [...]}}, some
	 * endpoints wrap that object in an array of one */
	if (json_is_array(data) && json_array_size(data) == 1 &&
	    json_is_array(json_object_get(json_array_get(data, 0), "data")))
		data = json_array_get(data, 0);
	if (json_is_object(data))
		data = json_object_get(data, "data");
	if (!json_is_array(data))
		return fp_error_set(err, FP_EPARSE, "%s: no 'data' array",
				    what);
	json_array_foreach(data, i, rec)
	{
		json_t *in = json_object_get(rec, "intensity");

		if (!json_is_object(rec) || !json_is_object(in))
			return fp_error_set(err, FP_EPARSE,
					    "%s: record %zu has no "
					    "'intensity' object",
					    what, i + 1);
		/* regions publish forecasts only; nationally a half-hour has
		 * its measured value ("actual") once it is over */
		if (_record_add(
			    what, i, rec, "from",
			    json_object_get(in, region ? "forecast" : "actual"),
			    region ? "intensity.forecast" : "intensity.actual",
			    region ? "forecast" : "actual", pts, err))
			return -1;
	}
	return 0;
}

int fp_feed_parse(fp_feed_provider_t p, const char *what, const char *body,
		  size_t len, bool region, fp_feed_points_t *pts, long *total,
		  fp_error_t *err)
{
	json_error_t je;
	json_t *root;
	int rc;

	fp_error_clear(err);
	if (total)
		*total = -1;
	root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &je);
	if (!root)
		return fp_error_set(err, FP_EPARSE,
				    "%s: malformed JSON at line %d "
				    "column %d: %s",
				    what, je.line, je.column, je.text);
	if (!json_is_object(root)) {
		json_decref(root);
		return fp_error_set(err, FP_EPARSE,
				    "%s: the answer is not a JSON "
				    "object",
				    what);
	}
	switch (p) {
	case FP_FEED_ECO2MIX:
		rc = _parse_eco2mix(what, root, pts, total, err);
		break;
	case FP_FEED_ELECTRICITYMAPS:
		rc = _parse_electricitymaps(what, root, pts, err);
		break;
	case FP_FEED_UK:
		rc = _parse_uk(what, root, region, pts, err);
		break;
	default:
		rc = fp_error_set(err, FP_EINVAL, "%s: no such provider", what);
	}
	json_decref(root);
	return rc;
}
