/* Feeds: keeps a site's plain series of grid intensity current from RTE
 * eco2mix, Electricity Maps or the UK API: merges new points, appends them. */
#include "footprint/feed.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <curl/curl.h>

#include "feed_http.h"
#include "footprint/series.h"

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
static int _last_row(const char *text, size_t len, time_t *t)
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
	return _last_row(text, len, last) == 1;
}

/* The whole file, or an empty text when it does not exist yet. */
static int _read_all(const char *path, char **text, size_t *len, mode_t *mode,
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
static int _check_series(const char *path, const char *text, size_t len,
			 const char *when, fp_error_t *err)
{
	fp_error_t e = { 0 };
	fp_series_t *s;
	time_t t;
	int rc = _last_row(text, len, &t);

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

static int _write_all(int fd, const char *buf, size_t len)
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

static int _append_rows(FILE *out, const char *fetched,
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
	if (_read_all(path, &old, &oldlen, &mode, err) ||
	    _check_series(path, old, oldlen, "before the update:", err))
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
	if (_append_rows(out, fetched ? fetched : "", pts) || fclose(out)) {
		fp_error_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	if (_check_series(path, text, len, "with the new rows", err))
		goto out;
	/* a temporary file a killed run left is overwritten: the lock says
	 * no other run is using it */
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
		  mode);
	if (fd < 0 || fchmod(fd, mode) || _write_all(fd, text, len) ||
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

/* Updating a site. */

/* The API token: readable by the updater's user only (a token is billed to
 * its owner). A group bit is refused too: slurm's group, or a group an admin
 * shares with users, would let others spend it; the owner is checked since a
 * 0600 file of another user that we can still read (root, CAP_DAC_OVERRIDE)
 * is that user's token, not ours. */
static char *_read_token(const char *who, const char *path, fp_error_t *err)
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

static void _say_faults(const fp_feed_options_t *o, const char *who,
			const fp_feed_points_t *pts, bool have_last,
			time_t last, int resolution, fp_feed_result_t *res)
{
	time_t prev = have_last ? last : (pts->n ? pts->v[0].t : 0);
	size_t said = 0;
	char a[21], b[21];

	if (res->duplicates)
		fp_feed_http_say(
			o, FP_LOG_WARN,
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
				fp_feed_http_say(
					o, FP_LOG_WARN,
					"%s: no value from %s to %s "
					"(%lld points missing): kept as a gap",
					who, a, b,
					(long long)((t - prev) / resolution -
						    1));
		}
		prev = t;
	}
	if (said > MAX_GAP_LINES)
		fp_feed_http_say(o, FP_LOG_WARN, "%s: and %zu more gaps", who,
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
	if (_read_all(path, &text, &len, NULL, err) ||
	    _check_series(path, text, len, "before the update:", err)) {
		char msg[sizeof(err->msg)];

		if (err) {
			snprintf(msg, sizeof(msg), "%s: %s", who, err->msg);
			snprintf(err->msg, sizeof(err->msg), "%s", msg);
		}
		goto out;
	}
	lr = _last_row(text, len, &last);
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
		token = _read_token(who, site->feed.token_file, err);
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
		rc = fp_feed_http_fetch_eco2mix(&rq, base, from, have_last,
						&pts, err);
	else if (p == FP_FEED_ELECTRICITYMAPS)
		rc = fp_feed_http_fetch_electricitymaps(&rq, base, site, &pts,
							err);
	else
		rc = fp_feed_http_fetch_uk(&rq, base, zone, from, now, &pts,
					   err);
	if (rc)
		goto out;
	rc = -1;
	fp_feed_merge(&pts, have_last, last, now, res);
	_say_faults(o, who, &pts, have_last, last, fp_feed_resolution(p), res);
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
