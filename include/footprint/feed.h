/* Keeps a site's grid-intensity series current from its provider (Feed= in
 * footprint.conf): fetch over HTTP(S), parse, append new rows atomically. */
#ifndef FP_FEED_H
#define FP_FEED_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "config.h"
#include "error.h"

typedef enum fp_feed_provider {
	FP_FEED_NONE = 0,
	FP_FEED_ECO2MIX,	 /* RTE/ODRE eco2mix-national-tr, 15 min */
	FP_FEED_ELECTRICITYMAPS, /* API v3 carbon-intensity, hourly */
	FP_FEED_UK,		 /* National Grid Carbon Intensity, 30 min */
} fp_feed_provider_t;

/* A provider's answer stays in memory whole: a page of eco2mix (100
 * records) is about 10 KB, 14 days of UK regional half-hours with their
 * generation mix about 2 MB. A larger body is refused, not read on. */
#define FP_FEED_MAX_BODY (8L << 20)
/* eco2mix (Opendatasoft) serves at most offset + limit = 10000 records a
 * query: an older file catches up over several runs. */
#define FP_FEED_ECO2MIX_MAX_RECORDS 10000

typedef struct fp_feed_options {
	long connect_timeout;	/* seconds to connect */
	long timeout;		/* seconds for a whole request */
	unsigned retries;	/* after the first try, on 429/5xx/timeout */
	double backoff;		/* seconds before the first retry, doubled
				 * at each; Retry-After wins when given */
	double max_retry_after; /* a longer Retry-After ends the run */
	size_t max_body;
	time_t now;    /* 0: time(NULL) */
	time_t since;  /* a new file starts here; 0: now - 24 h */
	fp_log_fn log; /* warnings: duplicates, gaps, the rest
				 * left for the next run */
	void *log_ctx;
} fp_feed_options_t;

/* Connect 10 s, request 30 s, 3 retries from 1 s, Retry-After up to 120 s,
 * FP_FEED_MAX_BODY. */
void fp_feed_options_default(fp_feed_options_t *o);

/* One value of the provider: valid from t to the next point. flag is the
 * provider's own word for it: actual, estimated, forecast, realtime. */
typedef struct fp_feed_point {
	time_t t;
	double value;
	char flag[16];
} fp_feed_point_t;

typedef struct fp_feed_points {
	fp_feed_point_t *v;
	size_t n, cap;
} fp_feed_points_t;

void fp_feed_points_free(fp_feed_points_t *p);

fp_feed_provider_t fp_feed_provider_from_name(const char *name);
const char *fp_feed_provider_str(fp_feed_provider_t p);
/* The provider's base URL when FeedURL= is not given. */
const char *fp_feed_default_url(fp_feed_provider_t p);
/* Seconds between two points: 900, 3600 or 1800. */
int fp_feed_resolution(fp_feed_provider_t p);

/* Appends to pts the points of one response body of provider p (what
 * names it in errors). Records without a value (not published yet) are
 * skipped. For eco2mix, *total gets total_count (pagination); NULL is
 * allowed. UK: regional when region is set (forecasts only), national
 * otherwise (actual values; a half-hour not measured yet is skipped). */
int fp_feed_parse(fp_feed_provider_t p, const char *what, const char *body,
		  size_t len, bool region, fp_feed_points_t *pts, long *total,
		  fp_error_t *err);

/* What the points add to a file whose last row is at last (or none):
 * sorted, the second of a time given twice dropped, those at or before
 * last dropped, those after now dropped. Counts in the result. */
typedef struct fp_feed_result {
	size_t appended;	  /* new rows written */
	size_t duplicates;	  /* same time twice in the answer */
	size_t duplicates_differ; /* ... with another value */
	size_t known;		  /* at or before the file's last row */
	size_t future;		  /* after now */
	size_t gaps;		  /* holes longer than the resolution */
	time_t first, last;	  /* of the appended rows */
} fp_feed_result_t;

void fp_feed_merge(fp_feed_points_t *pts, bool have_last, time_t last,
		   time_t now, fp_feed_result_t *res);

/* The time of the last data row of a plain series text; false if none. */
bool fp_feed_last_time(const char *text, size_t len, time_t *last);

/* Appends the rows of pts (merged) to the plain series at path: the old
 * bytes are kept as they are, a "# fetched" comment with the provenance
 * (provider, zone, time, flags) then one "time,value # flag" row a point;
 * written to a temporary file in the same folder, fsync()ed, renamed over
 * path, the folder fsync()ed. A file that does not load as a plain series
 * before or after is refused and left as it was. header: the comment
 * lines a new file starts with. */
int fp_feed_write(const char *path, const char *header, const char *fetched,
		  const fp_feed_points_t *pts, fp_error_t *err);

/* The whole update of one site with a Feed=: reads its file's last row,
 * fetches what follows from the provider (timeouts, retries, pagination),
 * appends. Nothing is written when any request fails. Warnings (gaps,
 * duplicates, records left for the next run) go to o->log, one line
 * each; the error names the site, the provider and the fault. */
int fp_feed_update(const fp_site_conf_t *site, const fp_feed_options_t *o,
		   fp_feed_result_t *res, fp_error_t *err);

#endif
