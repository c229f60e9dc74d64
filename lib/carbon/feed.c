/* Feeds: fetches grid intensity from RTE eco2mix, Electricity Maps or the UK
 * Carbon Intensity API (libcurl, jansson) and appends it to a plain series. */
#include "footprint/feed.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "footprint/series.h"

#define DAY 86400
/* The UK API serves at most 14 days a request. */
#define UK_MAX_SPAN (14 * DAY)
#define ECO2MIX_PAGE 100
/* Gaps said one line each up to this many, then one line for the rest. */
#define MAX_GAP_LINES 5

void fp_feed_options_default(fp_feed_options_t *o)
{
	memset(o, 0, sizeof(*o));
	o->connect_timeout = 10;
	o->timeout = 30;
	o->retries = 3;
	o->backoff = 1.0;
	o->max_retry_after = 120;
	o->max_body = FP_FEED_MAX_BODY;
}

void fp_feed_points_free(fp_feed_points_t *p)
{
	if (!p)
		return;
	free(p->v);
	memset(p, 0, sizeof(*p));
}

static const struct {
	fp_feed_provider_t p;
	const char *name;
	const char *url;
	int resolution;
} providers[] = {
	{ FP_FEED_ECO2MIX, "eco2mix", "https://odre.opendatasoft.com", 900 },
	{ FP_FEED_ELECTRICITYMAPS, "electricitymaps",
	  "https://api.electricitymap.org", 3600 },
	{ FP_FEED_UK, "uk", "https://api.carbonintensity.org.uk", 1800 },
};
#define NPROVIDERS (sizeof(providers) / sizeof(providers[0]))

fp_feed_provider_t fp_feed_provider_from_name(const char *name)
{
	for (size_t i = 0; name && i < NPROVIDERS; i++)
		if (!strcasecmp(name, providers[i].name))
			return providers[i].p;
	return FP_FEED_NONE;
}

const char *fp_feed_provider_str(fp_feed_provider_t p)
{
	for (size_t i = 0; i < NPROVIDERS; i++)
		if (providers[i].p == p)
			return providers[i].name;
	return "none";
}

const char *fp_feed_default_url(fp_feed_provider_t p)
{
	for (size_t i = 0; i < NPROVIDERS; i++)
		if (providers[i].p == p)
			return providers[i].url;
	return NULL;
}

int fp_feed_resolution(fp_feed_provider_t p)
{
	for (size_t i = 0; i < NPROVIDERS; i++)
		if (providers[i].p == p)
			return providers[i].resolution;
	return 3600;
}

static int add_point(fp_feed_points_t *pts, time_t t, double v,
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

/* One record's time and value; a null value is "not published yet" (1),
 * anything else that is not a number in range is an error. */
static int record_point(const char *what, size_t i, json_t *rec,
			const char *tkey, json_t *val, const char *vkey,
			time_t *t, double *v, fp_error_t *err)
{
	json_t *jt = json_object_get(rec, tkey);

	if (!json_is_string(jt))
		return fp_error_set(err, FP_EPARSE,
				    "%s: record %zu: field '%s' "
				    "missing or not a string",
				    what, i + 1, tkey);
	if (fp_iso8601_parse(json_string_value(jt), t))
		return fp_error_set(err, FP_EPARSE,
				    "%s: record %zu: field '%s': "
				    "'%.40s' is not an ISO 8601 time",
				    what, i + 1, tkey, json_string_value(jt));
	if (!val || json_is_null(val))
		return 1;
	if (!json_is_number(val))
		return fp_error_set(err, FP_EPARSE,
				    "%s: record %zu: field '%s' "
				    "is not a number",
				    what, i + 1, vkey);
	*v = json_number_value(val);
	if (!isfinite(*v) || *v < 0 || *v > FP_SERIES_MAX_VALUE)
		return fp_error_set(err, FP_EINVAL,
				    "%s: record %zu: field '%s': "
				    "%g is outside 0..%g gCO2e/kWh",
				    what, i + 1, vkey, *v, FP_SERIES_MAX_VALUE);
	return 0;
}

static int parse_eco2mix(const char *what, json_t *root, fp_feed_points_t *pts,
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
	json_array_foreach(results, i, rec)
	{
		time_t t;
		double v;
		int rc;

		if (!json_is_object(rec))
			return fp_error_set(err, FP_EPARSE,
					    "%s: record %zu is not "
					    "an object",
					    what, i + 1);
		rc = record_point(what, i, rec, "date_heure",
				  json_object_get(rec, "taux_co2"), "taux_co2",
				  &t, &v, err);
		if (rc < 0)
			return -1;
		/* eco2mix-national-tr is real-time data, consolidated by
		 * RTE months later in another dataset. */
		if (!rc && add_point(pts, t, v, "realtime", what, err))
			return -1;
	}
	return 0;
}

static int parse_electricitymaps(const char *what, json_t *root,
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
		time_t t;
		double v;
		int rc;
		json_t *est;

		/* /latest is one record at the top level */
		rec = history ? json_array_get(history, i) : root;
		if (!json_is_object(rec))
			return fp_error_set(err, FP_EPARSE,
					    "%s: record %zu is not "
					    "an object",
					    what, i + 1);
		rc = record_point(what, i, rec, "datetime",
				  json_object_get(rec, "carbonIntensity"),
				  "carbonIntensity", &t, &v, err);
		if (rc < 0)
			return -1;
		est = json_object_get(rec, "isEstimated");
		if (!rc && add_point(pts, t, v,
				     json_is_true(est) ? "estimated" : "actual",
				     what, err))
			return -1;
	}
	return 0;
}

static int parse_uk(const char *what, json_t *root, bool region,
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
		time_t t;
		double v;
		int rc;

		if (!json_is_object(rec) || !json_is_object(in))
			return fp_error_set(err, FP_EPARSE,
					    "%s: record %zu has no "
					    "'intensity' object",
					    what, i + 1);
		/* regions publish forecasts only; nationally a half-hour has
		 * its measured value ("actual") once it is over */
		rc = record_point(
			what, i, rec, "from",
			json_object_get(in, region ? "forecast" : "actual"),
			region ? "intensity.forecast" : "intensity.actual", &t,
			&v, err);
		if (rc < 0)
			return -1;
		if (!rc && add_point(pts, t, v, region ? "forecast" : "actual",
				     what, err))
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
		rc = parse_eco2mix(what, root, pts, total, err);
		break;
	case FP_FEED_ELECTRICITYMAPS:
		rc = parse_electricitymaps(what, root, pts, err);
		break;
	case FP_FEED_UK:
		rc = parse_uk(what, root, region, pts, err);
		break;
	default:
		rc = fp_error_set(err, FP_EINVAL, "%s: no such provider", what);
	}
	json_decref(root);
	return rc;
}

/* Merging. */

void fp_feed_merge(fp_feed_points_t *pts, bool have_last, time_t last,
		   time_t now, fp_feed_result_t *res)
{
	size_t w = 0;

	memset(res, 0, sizeof(*res));
	/* Stable insertion sort: answers come sorted or nearly, and the
	 * first of two points with one time must stay first. */
	for (size_t i = 1; i < pts->n; i++) {
		fp_feed_point_t x = pts->v[i];
		size_t j = i;

		for (; j > 0 && pts->v[j - 1].t > x.t; j--)
			pts->v[j] = pts->v[j - 1];
		pts->v[j] = x;
	}
	for (size_t i = 0; i < pts->n; i++) {
		const fp_feed_point_t *p = &pts->v[i];

		if (p->t > now) {
			res->future++;
		} else if (have_last && p->t <= last) {
			res->known++;
		} else if (w && p->t == pts->v[w - 1].t) {
			res->duplicates++;
			if (p->value != pts->v[w - 1].value)
				res->duplicates_differ++;
		} else {
			pts->v[w++] = *p;
		}
	}
	pts->n = w;
	res->appended = w;
	if (w) {
		res->first = pts->v[0].t;
		res->last = pts->v[w - 1].t;
	}
}

/* Files. */

/* 1 and *t: the last data row's time; 0: no data row; -1: the last data
 * row does not start with a time. */
static int last_row(const char *text, size_t len, time_t *t)
{
	size_t end = len;

	for (;;) {
		size_t start = end, n, k = 0;
		const char *p;
		char line[128];

		while (start > 0 && text[start - 1] != '\n')
			start--;
		p = text + start;
		n = end - start;
		while (n && isspace((unsigned char)*p)) {
			p++;
			n--;
		}
		if (n && *p != '#') {
			while (k < n && p[k] != ',' && p[k] != '#')
				k++;
			if (k >= sizeof(line))
				return -1;
			memcpy(line, p, k);
			line[k] = '\0';
			return fp_iso8601_parse(line, t) ? -1 : 1;
		}
		if (!start)
			return 0;
		end = start - 1;
	}
}

bool fp_feed_last_time(const char *text, size_t len, time_t *last)
{
	return last_row(text, len, last) == 1;
}

/* The whole file, or an empty text when it does not exist yet. */
static int read_all(const char *path, char **text, size_t *len, mode_t *mode,
		    fp_error_t *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	size_t got = 0;

	*text = NULL;
	*len = 0;
	if (fd < 0 && errno == ENOENT) {
		*text = calloc(1, 1);
		return *text ? 0
			     : fp_error_set(err, FP_ENOMEM, "out of memory");
	}
	if (fd < 0)
		return fp_error_set(err, FP_EIO, "%s: cannot open: %s", path,
				    strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
	    st.st_size > FP_SERIES_MAX_BYTES) {
		close(fd);
		return fp_error_set(err, FP_EIO,
				    "%s: not a regular file of at most "
				    "%ld MiB",
				    path, FP_SERIES_MAX_BYTES >> 20);
	}
	if (mode)
		*mode = st.st_mode & 07777;
	*text = malloc((size_t)st.st_size + 1);
	if (!*text) {
		close(fd);
		return fp_error_set(err, FP_ENOMEM, "%s: out of memory", path);
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, *text + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		free(*text);
		*text = NULL;
		return fp_error_set(err, FP_EIO, "%s: short read", path);
	}
	(*text)[got] = '\0';
	*len = got;
	return 0;
}

/* A plain series the reader loads, or nothing but comments. */
static int check_series(const char *path, const char *text, size_t len,
			const char *when, fp_error_t *err)
{
	fp_error_t e = { 0 };
	fp_series_t *s;
	time_t t;
	int rc = last_row(text, len, &t);

	if (rc == 0)
		return 0;
	s = fp_series_parse(path, text, len, FP_FORMAT_AUTO, FP_INTENSITY_UNSET,
			    &e);
	if (!s)
		return fp_error_set(err, e.code,
				    "%s the file does not load, left "
				    "as it was: %s",
				    when, e.msg);
	if (fp_series_format(s) != FP_FORMAT_PLAIN) {
		fp_error_set(
			err, FP_EINVAL,
			"%s: an %s export, not a plain "
			"series: Feed= appends 'iso8601,value' rows to a file "
			"of its own (point Intensity=file: at a new file)",
			path, fp_series_format_str(fp_series_format(s)));
		fp_series_free(s);
		return -1;
	}
	fp_series_free(s);
	return 0;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t w = write(fd, buf, len);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		buf += w;
		len -= (size_t)w;
	}
	return 0;
}

static int append_rows(FILE *out, const char *fetched,
		       const fp_feed_points_t *pts)
{
	fputs(fetched, out);
	for (size_t i = 0; i < pts->n; i++) {
		char when[21];

		fp_iso8601_format(pts->v[i].t, when);
		fprintf(out, "%s,%.10g # %s\n", when, pts->v[i].value,
			pts->v[i].flag);
	}
	return ferror(out) ? -1 : 0;
}

int fp_feed_write(const char *path, const char *header, const char *fetched,
		  const fp_feed_points_t *pts, fp_error_t *err)
{
	char *old = NULL, *text = NULL, *dir = NULL, *tmp = NULL;
	const char *slash, *base;
	size_t oldlen = 0, len = 0;
	mode_t mode = 0644;
	int dirfd = -1, fd = -1, rc = -1;
	FILE *out;

	fp_error_clear(err);
	slash = strrchr(path, '/');
	base = slash ? slash + 1 : path;
	dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path))
		    : strdup(".");
	if (!dir || asprintf(&tmp, "%s/.%s.feed-tmp", dir, base) < 0) {
		tmp = NULL;
		fp_error_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		fp_error_set(err, FP_EIO, "%s: cannot open its folder: %s",
			     path, strerror(errno));
		goto out;
	}
	/* Two updaters (a timer and a hand run) must not interleave: the
	 * second would rename a file that lacks the first one's rows. */
	if (flock(dirfd, LOCK_EX | LOCK_NB)) {
		fp_error_set(err, FP_EIO,
			     "%s: another update is writing in %s (%s)", path,
			     dir, strerror(errno));
		goto out;
	}
	if (read_all(path, &old, &oldlen, &mode, err) ||
	    check_series(path, old, oldlen, "before the update:", err))
		goto out;
	out = open_memstream(&text, &len);
	if (!out) {
		fp_error_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	/* the old bytes as they are: rows are never rewritten */
	fwrite(old, 1, oldlen, out);
	if (oldlen && old[oldlen - 1] != '\n')
		fputc('\n', out);
	if (!oldlen && header)
		fputs(header, out);
	if (append_rows(out, fetched ? fetched : "", pts) || fclose(out)) {
		fp_error_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	if (check_series(path, text, len, "with the new rows", err))
		goto out;
	/* a temporary file a killed run left is overwritten: the lock says
	 * no other run is using it */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  mode);
	if (fd < 0 || fchmod(fd, mode) || write_all(fd, text, len) ||
	    fsync(fd)) {
		fp_error_set(err, FP_EIO,
			     "%s: cannot write %s: %s (the series is "
			     "unchanged)",
			     path, tmp, strerror(errno));
		goto out;
	}
	if (close(fd)) {
		fd = -1;
		fp_error_set(err, FP_EIO,
			     "%s: cannot write %s: %s (the series is "
			     "unchanged)",
			     path, tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path)) {
		fp_error_set(err, FP_EIO,
			     "%s: cannot rename %s over it: %s (the "
			     "series is unchanged)",
			     path, tmp, strerror(errno));
		goto out;
	}
	/* the rename itself is durable only once the folder is */
	if (fsync(dirfd)) {
		fp_error_set(err, FP_EIO, "%s: fsync of %s: %s", path, dir,
			     strerror(errno));
		goto out;
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	if (rc && tmp && dirfd >= 0)
		unlink(tmp);
	if (dirfd >= 0)
		close(dirfd);
	free(old);
	free(text);
	free(tmp);
	free(dir);
	return rc;
}

/* HTTP. */

static void say(const fp_feed_options_t *o, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void say(const fp_feed_options_t *o, int level, const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	if (!o->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	o->log(o->log_ctx, level, msg);
}

struct body {
	char *buf;
	size_t len, max;
	bool too_big;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
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
static void provider_message(const struct body *b, char *out, size_t size)
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

struct request {
	const char *who; /* "site 'x' (eco2mix)" */
	const fp_feed_options_t *o;
	const char *proxy;
	struct curl_slist *headers;
	CURL *curl;
};

static void pause_for(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static bool transient(CURLcode rc, long code)
{
	if (rc == CURLE_OK)
		return code == 429 || code >= 500;
	return rc == CURLE_OPERATION_TIMEDOUT || rc == CURLE_COULDNT_CONNECT ||
	       rc == CURLE_GOT_NOTHING || rc == CURLE_RECV_ERROR ||
	       rc == CURLE_SEND_ERROR || rc == CURLE_PARTIAL_FILE;
}

static int http_get(struct request *rq, const char *url, char **out,
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
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
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
				say(o, FP_LOG_WARN,
				    "%s: GET %s: %s, retried "
				    "after %g s, then answered",
				    rq->who, url, why, waited);
			else if (attempt)
				say(o, FP_LOG_WARN,
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
			provider_message(&b, msg, sizeof(msg));
			snprintf(why, sizeof(why), "HTTP %ld%s", code, msg);
		}
		free(b.buf);
		if (!transient(rc, code) || attempt >= o->retries) {
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
		pause_for(wait);
		waited += wait;
	}
}

/* Updating a site. */

/* The API token: readable by the updater's user only (a token is billed to
 * its owner). A group bit is refused too: slurm's group, or a group an admin
 * shares with users, would let others spend it; the owner is checked since a
 * 0600 file of another user that we can still read (root, CAP_DAC_OVERRIDE)
 * is that user's token, not ours. */
static char *read_token(const char *who, const char *path, fp_error_t *err)
{
	char buf[4097];
	struct stat st;
	ssize_t n;
	size_t len;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		fp_error_set(err, FP_EIO,
			     "%s: FeedTokenFile %s: cannot open: %s", who, path,
			     strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		fp_error_set(err, FP_EIO,
			     "%s: FeedTokenFile %s: not a regular file", who,
			     path);
		return NULL;
	}
	if (st.st_uid != geteuid() || (st.st_mode & (S_IRWXG | S_IRWXO))) {
		close(fd);
		fp_error_set(
			err, FP_EINVAL,
			"%s: FeedTokenFile %s: owner uid %u, "
			"mode %04o: refused, the token must be readable by this "
			"user (uid %u) only: run chown %u %s && chmod 600 %s",
			who, path, (unsigned)st.st_uid,
			(unsigned)(st.st_mode & 07777), (unsigned)geteuid(),
			(unsigned)geteuid(), path, path);
		return NULL;
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0) {
		fp_error_set(err, FP_EIO, "%s: FeedTokenFile %s: %s", who, path,
			     strerror(errno));
		return NULL;
	}
	buf[n] = '\0';
	len = (size_t)n;
	while (len && isspace((unsigned char)buf[len - 1]))
		buf[--len] = '\0';
	for (size_t i = 0; i < len; i++)
		if (!isgraph((unsigned char)buf[i]) ||
		    (size_t)n == sizeof(buf) - 1) {
			fp_error_set(
				err, FP_EINVAL,
				"%s: FeedTokenFile %s: not one "
				"token (a space, a control byte or over 4 KiB)",
				who, path);
			return NULL;
		}
	if (!len) {
		fp_error_set(err, FP_EINVAL, "%s: FeedTokenFile %s: empty", who,
			     path);
		return NULL;
	}
	return strdup(buf);
}

static void iso_minutes(time_t t, char buf[18])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 18, "%Y-%m-%dT%H:%MZ", &tm);
}

/* base without its trailing slashes, then the path. */
static char *url_join(const char *base, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static char *url_join(const char *base, const char *fmt, ...)
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

static int fetch_eco2mix(struct request *rq, const char *base, time_t from,
			 bool after, fp_feed_points_t *pts, fp_error_t *err)
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

		url = url_join(base,
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
		rc = http_get(rq, url, &body, &len, err) ||
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
			say(rq->o, FP_LOG_WARN,
			    "%s: %ld records after %s, the "
			    "provider serves %d a query: the rest on the next "
			    "run",
			    rq->who, total, when, FP_FEED_ECO2MIX_MAX_RECORDS);
			break;
		}
	}
	curl_free(ew);
	return rc ? -1 : 0;
}

static int fetch_electricitymaps(struct request *rq, const char *base,
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
		char *url = url_join(base,
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
		rc = http_get(rq, url, &body, &len, err) ||
		     fp_feed_parse(FP_FEED_ELECTRICITYMAPS, name, body, len,
				   false, pts, NULL, err);
		free(url);
		free(body);
	}
	curl_free(ez);
	return rc ? -1 : 0;
}

static int fetch_uk(struct request *rq, const char *base, const char *region,
		    time_t from, time_t now, fp_feed_points_t *pts,
		    fp_error_t *err)
{
	char a[18], b[18], *url, *body = NULL, what[80];
	time_t to = now;
	size_t len = 0;
	int rc;

	if (to - from > UK_MAX_SPAN) {
		to = from + UK_MAX_SPAN;
		iso_minutes(to, b);
		say(rq->o, FP_LOG_WARN,
		    "%s: the provider serves 14 days a "
		    "request: up to %s now, the rest on the next run",
		    rq->who, b);
	}
	iso_minutes(from, a);
	iso_minutes(to, b);
	url = region ? url_join(base, "/regional/intensity/%s/%s/regionid/%s",
				a, b, region)
		     : url_join(base, "/intensity/%s/%s", a, b);
	if (!url)
		return fp_error_set(err, FP_ENOMEM, "out of memory");
	snprintf(what, sizeof(what), "%.60s: answer", rq->who);
	rc = http_get(rq, url, &body, &len, err) ||
	     fp_feed_parse(FP_FEED_UK, what, body, len, region != NULL, pts,
			   NULL, err);
	free(url);
	free(body);
	return rc ? -1 : 0;
}

static void say_faults(const fp_feed_options_t *o, const char *who,
		       const fp_feed_points_t *pts, bool have_last, time_t last,
		       int resolution, fp_feed_result_t *res)
{
	time_t prev = have_last ? last : (pts->n ? pts->v[0].t : 0);
	size_t said = 0;
	char a[21], b[21];

	if (res->duplicates)
		say(o, FP_LOG_WARN,
		    "%s: %zu duplicate point%s dropped (a time "
		    "given twice in the answer, the first kept; %zu with "
		    "another value)",
		    who, res->duplicates, res->duplicates > 1 ? "s" : "",
		    res->duplicates_differ);
	for (size_t i = 0; i < pts->n; i++) {
		time_t t = pts->v[i].t;

		if (t - prev > resolution) {
			res->gaps++;
			fp_iso8601_format(prev, a);
			fp_iso8601_format(t, b);
			if (said++ < MAX_GAP_LINES)
				say(o, FP_LOG_WARN,
				    "%s: no value from %s to %s "
				    "(%lld points missing): kept as a gap",
				    who, a, b,
				    (long long)((t - prev) / resolution - 1));
		}
		prev = t;
	}
	if (said > MAX_GAP_LINES)
		say(o, FP_LOG_WARN, "%s: and %zu more gaps", who,
		    said - MAX_GAP_LINES);
}

int fp_feed_update(const fp_site_conf_t *site, const fp_feed_options_t *o,
		   fp_feed_result_t *res, fp_error_t *err)
{
	fp_feed_provider_t p = fp_feed_provider_from_name(site->feed.provider);
	const char *path = site->intensity.path;
	const char *base = site->feed.url ? site->feed.url
					  : fp_feed_default_url(p);
	const char *zone = site->feed.zone;
	fp_feed_points_t pts = { 0 };
	struct request rq = { .o = o, .proxy = site->feed.proxy };
	char who[200], *text = NULL, *token = NULL, *hdr = NULL;
	char *header = NULL, *fetched = NULL, now_s[21];
	time_t now = o->now ? o->now : time(NULL), last = 0, from;
	size_t len = 0;
	bool have_last;
	int rc = -1, lr;

	fp_error_clear(err);
	memset(res, 0, sizeof(*res));
	snprintf(who, sizeof(who), "site '%s' (%s%s%s)", site->name,
		 fp_feed_provider_str(p), zone ? ":" : "", zone ? zone : "");
	if (p == FP_FEED_NONE || !path)
		return fp_error_set(err, FP_EINVAL,
				    "%s: no Feed= with "
				    "Intensity=file:",
				    who);
	rq.who = who;
	/* a file that cannot take the rows is said before any request */
	if (read_all(path, &text, &len, NULL, err) ||
	    check_series(path, text, len, "before the update:", err)) {
		char msg[sizeof(err->msg)];

		if (err) {
			snprintf(msg, sizeof(msg), "%s: %s", who, err->msg);
			snprintf(err->msg, sizeof(err->msg), "%s", msg);
		}
		goto out;
	}
	lr = last_row(text, len, &last);
	if (lr < 0) {
		fp_error_set(err, FP_EPARSE,
			     "%s: %s: its last row does not start "
			     "with a time: not a plain series, left as it was",
			     who, path);
		goto out;
	}
	have_last = lr == 1;
	from = have_last ? last : (o->since ? o->since : now - DAY);
	if (p == FP_FEED_ELECTRICITYMAPS) {
		token = read_token(who, site->feed.token_file, err);
		if (!token || asprintf(&hdr, "auth-token: %s", token) < 0 ||
		    !(rq.headers = curl_slist_append(NULL, hdr))) {
			if (token)
				fp_error_set(err, FP_ENOMEM, "out of memory");
			goto out;
		}
	}
	rq.curl = curl_easy_init();
	if (!rq.curl) {
		fp_error_set(err, FP_ENOMEM, "%s: libcurl did not start", who);
		goto out;
	}
	if (p == FP_FEED_ECO2MIX)
		rc = fetch_eco2mix(&rq, base, from, have_last, &pts, err);
	else if (p == FP_FEED_ELECTRICITYMAPS)
		rc = fetch_electricitymaps(&rq, base, site, &pts, err);
	else
		rc = fetch_uk(&rq, base, zone, from, now, &pts, err);
	if (rc)
		goto out;
	rc = -1;
	fp_feed_merge(&pts, have_last, last, now, res);
	say_faults(o, who, &pts, have_last, last, fp_feed_resolution(p), res);
	if (!pts.n) {
		rc = 0;
		goto out;
	}
	fp_iso8601_format(now, now_s);
	if (asprintf(&header,
		     "# Grid carbon intensity, gCO2e/kWh, of site "
		     "'%s': kept by 'sfootprint signals update' (Feed=%s%s%s "
		     "in footprint.conf).\n# Rows: UTC time,value; a value "
		     "holds until the next row; after '#', the provider's "
		     "flag.\n",
		     site->name, fp_feed_provider_str(p), zone ? ":" : "",
		     zone ? zone : "") < 0)
		header = NULL;
	if (asprintf(&fetched,
		     "# fetched %s provider=%s zone=%s kind=%s "
		     "rows=%zu url=%s\n",
		     now_s, fp_feed_provider_str(p),
		     zone		    ? zone
		     : p == FP_FEED_ECO2MIX ? "FR"
					    : "GB",
		     p == FP_FEED_ECO2MIX			   ? "direct"
		     : p == FP_FEED_UK				   ? "direct"
		     : site->intensity.kind == FP_INTENSITY_DIRECT ? "direct"
								   : "lca",
		     pts.n, base) < 0)
		fetched = NULL;
	if (!header || !fetched) {
		fp_error_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	if (fp_feed_write(path, header, fetched, &pts, err)) {
		char msg[sizeof(err->msg)];

		if (err) {
			snprintf(msg, sizeof(msg), "%s: %s", who, err->msg);
			snprintf(err->msg, sizeof(err->msg), "%s", msg);
		}
		goto out;
	}
	rc = 0;
out:
	if (rc)
		res->appended = 0;
	if (rq.curl)
		curl_easy_cleanup(rq.curl);
	curl_slist_free_all(rq.headers);
	if (hdr)
		explicit_bzero(hdr, strlen(hdr));
	if (token)
		explicit_bzero(token, strlen(token));
	free(hdr);
	free(token);
	free(text);
	free(header);
	free(fetched);
	fp_feed_points_free(&pts);
	return rc;
}
