/* The providers' HTTP client (libcurl): GET with timeouts, retries and
 * backoff, the provider's own words on a fault, each provider's requests. */
#include "feed_http.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

/* The UK API serves at most 14 days a request. */
#define UK_MAX_SPAN (14 * DAY)
#define ECO2MIX_PAGE 100

void fp_feed_http_say(const fp_feed_options_t *o, int level, const char *fmt,
		      ...)
{
	va_list ap;

	va_start(ap, fmt);
	fp_error_vlog(o->log, o->log_ctx, level, fmt, ap);
	va_end(ap);
}

struct body {
	char *buf;
	size_t len, max;
	bool too_big;
};

static size_t _on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
	struct body *b = ud;
	size_t n = size * nmemb;
	char *nb;

	if (n > b->max - b->len) {
		b->too_big = true;
		return 0;
	}
	nb = realloc(b->buf, b->len + n + 1);
	if (!nb)
		return 0;
	memcpy(nb + b->len, ptr, n);
	b->len += n;
	nb[b->len] = '\0';
	b->buf = nb;
	return n;
}

/* The provider's own words from an error body (JSON "message", "error" or
 * "error.message", else the first line), printable and short. */
static void _provider_message(const struct body *b, char *out, size_t size)
{
	json_t *root = b->len ? json_loadb(b->buf, b->len, 0, NULL) : NULL;
	const char *m = NULL;
	size_t n = 0;

	if (root) {
		json_t *e = json_object_get(root, "error");

		if (json_is_string(json_object_get(root, "message")))
			m = json_string_value(json_object_get(root, "message"));
		else if (json_is_string(e))
			m = json_string_value(e);
		else if (json_is_string(json_object_get(e, "message")))
			m = json_string_value(json_object_get(e, "message"));
	}
	if (!m)
		m = b->buf ? b->buf : "";
	out[0] = '\0';
	if (*m && size > 8) {
		n = snprintf(out, size, ": '");
		for (; *m && *m != '\n' && n + 5 < size && n < 120; m++)
			out[n++] = isprint((unsigned char)*m) ? *m : '?';
		out[n++] = '\'';
		out[n] = '\0';
	}
	json_decref(root);
}

static void _pause_for(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static bool _transient(CURLcode rc, long code)
{
	if (rc == CURLE_OK)
		return code == 429 || code >= 500;
	return rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_COULDNT_CONNECT ||
	       rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR ||
	       rc == CURLE_SEND_ERROR || rc == CURLE_PARTIAL_FILE;
}

static int _http_get(struct request *rq, const char *url, char **out,
		     size_t *outlen, fp_error_t *err)
{
	const fp_feed_options_t *o = rq->o;
	/* the last fault and the time waited, said if a retry then answers:
	 * a feed that recovers is still a fault the admin should see */
	char why[400] = "";
	double waited = 0;

	for (unsigned attempt = 0;; attempt++) {
		struct body b = { .max = o->max_body };
		char errbuf[CURL_ERROR_SIZE] = "", msg[160];
		CURL *c = rq->curl;
		CURLcode rc;
		long code = 0;
		curl_off_t ra = -1;
		double wait;

		curl_easy_reset(c);
		curl_easy_setopt(c, CURLOPT_URL, url);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, _on_data);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
		curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
		curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, o->connect_timeout);
		curl_easy_setopt(c, CURLOPT_TIMEOUT, o->timeout);
		curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
		/* never turned off: a feed decides every job's footprint */
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
		curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
		curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
				 (curl_off_t)o->max_body);
		curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
		curl_easy_setopt(c, CURLOPT_USERAGENT, "slurm-footprint-feed");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, rq->headers);
		/* without FeedProxy=, libcurl reads http_proxy, https_proxy
		 * and no_proxy from the environment */
		if (rq->proxy)
			curl_easy_setopt(c, CURLOPT_PROXY, rq->proxy);
		rc = curl_easy_perform(c);
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &ra);
		if (rc == CURLE_OK && code == 200) {
			if (attempt == 1)
				fp_feed_http_say(o, FP_LOG_WARN,
						 "%s: GET %s: %s, retried "
						 "after %g s, then answered",
						 rq->who, url, why, waited);
			else if (attempt)
				fp_feed_http_say(
					o, FP_LOG_WARN,
					"%s: GET %s: %s (%u faults "
					"in a row), retried after %g s in all, then "
					"answered",
					rq->who, url, why, attempt, waited);
			*out = b.buf ? b.buf : strdup("");
			*outlen = b.len;
			return *out ? 0
				    : fp_error_set(err, FP_ENOMEM,
						   "out of memory");
		}
		if ((rc == CURLE_WRITE_ERROR && b.too_big) ||
		    rc == CURLE_FILESIZE_EXCEEDED) {
			free(b.buf);
			return fp_error_set(
				err, FP_EINVAL,
				"%s: GET %s: the answer "
				"is larger than %zu bytes (refused, "
				"not read further)",
				rq->who, url, o->max_body);
		}
		if (rc == CURLE_OPERATION_TIMEDOUT)
			snprintf(why, sizeof(why),
				 "timed out (%s; limits: "
				 "connect %ld s, request %ld s)",
				 errbuf, o->connect_timeout, o->timeout);
		else if (rc != CURLE_OK)
			snprintf(why, sizeof(why), "%s",
				 *errbuf ? errbuf : curl_easy_strerror(rc));
		else {
			_provider_message(&b, msg, sizeof(msg));
			snprintf(why, sizeof(why), "HTTP %ld%s", code, msg);
		}
		free(b.buf);
		if (!_transient(rc, code) || attempt >= o->retries) {
			char tries[32] = "";

			if (attempt)
				snprintf(tries, sizeof(tries),
					 " (after %u tries)", attempt + 1);
			return fp_error_set(err, FP_EIO, "%s: GET %s: %s%s",
					    rq->who, url, why, tries);
		}
		if (ra > (curl_off_t)o->max_retry_after)
			return fp_error_set(
				err, FP_EIO,
				"%s: GET %s: %s, and "
				"Retry-After %ld s is beyond %g s: left "
				"for the next run",
				rq->who, url, why, (long)ra,
				o->max_retry_after);
		/* libcurl gives 0, not -1, when there is no Retry-After:
		 * taking it as "now" retried a 503 at once, three times in a
		 * row, instead of backing off */
		wait = ra > 0 ? (double)ra
			      : o->backoff *
					(double)(1u << (attempt < 16 ? attempt
								     : 16));
		_pause_for(wait);
		waited += wait;
	}
}

/* The providers' requests. */

static void _iso_minutes(time_t t, char buf[18])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 18, "%Y-%m-%dT%H:%MZ", &tm);
}

/* base without its trailing slashes, then the path. */
static char *_url_join(const char *base, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static char *_url_join(const char *base, const char *fmt, ...)
{
	size_t n = strlen(base);
	char *tail = NULL, *url = NULL;
	va_list ap;
	int rc;

	while (n && base[n - 1] == '/')
		n--;
	va_start(ap, fmt);
	rc = vasprintf(&tail, fmt, ap);
	va_end(ap);
	if (rc < 0)
		return NULL;
	if (asprintf(&url, "%.*s%s", (int)n, base, tail) < 0)
		url = NULL;
	free(tail);
	return url;
}

int fp_feed_http_fetch_eco2mix(struct request *rq, const char *base,
			       time_t from, bool after, fp_feed_points_t *pts,
			       fp_error_t *err)
{
	char when[21], where[128], *ew;
	long offset = 0, total = -1;
	int rc = 0;

	fp_iso8601_format(from, when);
	snprintf(where, sizeof(where),
		 "date_heure %s \"%s\" and taux_co2 is "
		 "not null",
		 after ? ">" : ">=", when);
	ew = curl_easy_escape(rq->curl, where, 0);
	if (!ew)
		return fp_error_set(err, FP_ENOMEM, "out of memory");
	for (int page = 1; !rc; page++) {
		char *url, *body = NULL, what[64];
		size_t len = 0, before = pts->n;

		url = _url_join(base,
				"/api/explore/v2.1/catalog/datasets/"
				"eco2mix-national-tr/records?select=date_heure"
				",taux_co2&where=%s&order_by=date_heure"
				"&limit=%d&offset=%ld",
				ew, ECO2MIX_PAGE, offset);
		if (!url) {
			rc = fp_error_set(err, FP_ENOMEM, "out of memory");
			break;
		}
		snprintf(what, sizeof(what), "%.40s: page %d", rq->who, page);
		rc = _http_get(rq, url, &body, &len, err) ||
		     fp_feed_parse(FP_FEED_ECO2MIX, what, body, len, false, pts,
				   &total, err);
		free(url);
		free(body);
		if (rc)
			break;
		/* records counted before the null values were skipped: the
		 * query asks for none, but a page may still hold some */
		offset += ECO2MIX_PAGE;
		if (pts->n == before || total < 0 || offset >= total)
			break;
		if (offset + ECO2MIX_PAGE > FP_FEED_ECO2MIX_MAX_RECORDS) {
			fp_feed_http_say(
				rq->o, FP_LOG_WARN,
				"%s: %ld records after %s, the "
				"provider serves %d a query: the rest on the next "
				"run",
				rq->who, total, when,
				FP_FEED_ECO2MIX_MAX_RECORDS);
			break;
		}
	}
	curl_free(ew);
	return rc ? -1 : 0;
}

int fp_feed_http_fetch_electricitymaps(struct request *rq, const char *base,
				       const fp_site_conf_t *site,
				       fp_feed_points_t *pts, fp_error_t *err)
{
	const char *factor = site->intensity.kind == FP_INTENSITY_DIRECT
				     ? "direct"
				     : "lifecycle";
	char *ez = curl_easy_escape(rq->curl, site->feed.zone, 0);
	static const char *const what[] = { "history", "latest" };
	int rc = 0;

	if (!ez)
		return fp_error_set(err, FP_ENOMEM, "out of memory");
	/* history: the last 24 hours; latest: the current hour, often
	 * estimated */
	for (int i = 0; i < 2 && !rc; i++) {
		char *url = _url_join(base,
				      "/v3/carbon-intensity/%s?zone=%s"
				      "&emissionFactorType=%s",
				      what[i], ez, factor);
		char *body = NULL, name[80];
		size_t len = 0;

		if (!url) {
			rc = fp_error_set(err, FP_ENOMEM, "out of memory");
			break;
		}
		snprintf(name, sizeof(name), "%.50s: %s", rq->who, what[i]);
		rc = _http_get(rq, url, &body, &len, err) ||
		     fp_feed_parse(FP_FEED_ELECTRICITYMAPS, name, body, len,
				   false, pts, NULL, err);
		free(url);
		free(body);
	}
	curl_free(ez);
	return rc ? -1 : 0;
}

int fp_feed_http_fetch_uk(struct request *rq, const char *base,
			  const char *region, time_t from, time_t now,
			  fp_feed_points_t *pts, fp_error_t *err)
{
	char a[18], b[18], *url, *body = NULL, what[80];
	time_t to = now;
	size_t len = 0;
	int rc;

	if (to - from > UK_MAX_SPAN) {
		to = from + UK_MAX_SPAN;
		_iso_minutes(to, b);
		fp_feed_http_say(
			rq->o, FP_LOG_WARN,
			"%s: the provider serves 14 days a "
			"request: up to %s now, the rest on the next run",
			rq->who, b);
	}
	_iso_minutes(from, a);
	_iso_minutes(to, b);
	url = region ? _url_join(base, "/regional/intensity/%s/%s/regionid/%s",
				 a, b, region)
		     : _url_join(base, "/intensity/%s/%s", a, b);
	if (!url)
		return fp_error_set(err, FP_ENOMEM, "out of memory");
	snprintf(what, sizeof(what), "%.60s: answer", rq->who);
	rc = _http_get(rq, url, &body, &len, err) ||
	     fp_feed_parse(FP_FEED_UK, what, body, len, region != NULL, pts,
			   NULL, err);
	free(url);
	free(body);
	return rc ? -1 : 0;
}
