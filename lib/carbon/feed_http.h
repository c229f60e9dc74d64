/* Private to lib/carbon/feed*.c: the providers' HTTP client (feed_http.c)
 * that fp_feed_update (feed.c) drives, one site's requests at a time. */
#ifndef FP_FEED_HTTP_H
#define FP_FEED_HTTP_H

#include <stdbool.h>
#include <time.h>

#include <curl/curl.h>

#include "footprint/config.h"
#include "footprint/error.h"
#include "footprint/feed.h"

/* Seconds in a day: the feeds ask for and keep whole days. */
#define DAY 86400

struct request {
	const char *who; /* "site 'x' (eco2mix)" */
	const fp_feed_options_t *o;
	const char *proxy;
	struct curl_slist *headers;
	CURL *curl;
};

/* One line to o->log, if any. */
void fp_feed_http_say(const fp_feed_options_t *o, int level, const char *fmt,
		      ...) __attribute__((format(printf, 3, 4)));

/* Each provider's points, appended to pts: eco2mix's from `from` on (after
 * it when `after`), page by page; Electricity Maps' last 24 hours and
 * current hour; the UK's from `from` to now, 14 days at most. -1 with err
 * naming the request when one fails. */
int fp_feed_http_fetch_eco2mix(struct request *rq, const char *base,
			       time_t from, bool after, fp_feed_points_t *pts,
			       fp_error_t *err);
int fp_feed_http_fetch_electricitymaps(struct request *rq, const char *base,
				       const fp_site_conf_t *site,
				       fp_feed_points_t *pts, fp_error_t *err);
int fp_feed_http_fetch_uk(struct request *rq, const char *base,
			  const char *region, time_t from, time_t now,
			  fp_feed_points_t *pts, fp_error_t *err);

#endif
