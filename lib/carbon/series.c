/* Grid-intensity and useful-heat series as step functions at their own
 * resolution: loaded from a file, read over an interval, gaps filled. */
#include "footprint/series.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "footprint/iso8601.h"
#include "series_table.h"

fp_series_t *fp_series_alloc(const char *name, fp_series_type_t type)
{
	fp_series_t *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->name = strdup(name ? name : "");
	if (!s->name) {
		free(s);
		return NULL;
	}
	s->type = type;
	return s;
}

fp_series_t *fp_series_new_constant(const char *name, double value)
{
	fp_series_t *s = fp_series_alloc(name, FP_SERIES_CONSTANT);

	if (s)
		s->constant = value;
	return s;
}

fp_series_t *fp_series_new_months(const char *name, unsigned months)
{
	fp_series_t *s = fp_series_alloc(name, FP_SERIES_MONTHS);

	if (s)
		s->months = months & 0xfff;
	return s;
}

void fp_series_free(fp_series_t *s)
{
	if (!s)
		return;
	free(s->name);
	free(s->pts);
	free(s);
}

static time_t _hour_of(time_t t)
{
	return t - ((t % HOUR) + HOUR) % HOUR;
}

int fp_series_average_hours(fp_series_t *s, fp_error_t *err)
{
	size_t k = 0;

	fp_error_clear(err);
	if (s->type != FP_SERIES_HOURLY)
		return 0;
	/* In place: hour k's point is written once every point of the
	 * hours before it has been read. */
	for (size_t i = 0; i < s->npts;) {
		time_t h = _hour_of(s->pts[i].t);
		double sum = 0;
		size_t cnt = 0;

		for (; i < s->npts && _hour_of(s->pts[i].t) == h; i++, cnt++)
			sum += s->pts[i].v;
		s->pts[k].t = h;
		s->pts[k].until = h + HOUR;
		s->pts[k].v = sum / (double)cnt;
		k++;
	}
	s->npts = k;
	return 0;
}

fp_series_t *fp_series_load(const char *path, fp_series_format_t format,
			    fp_intensity_kind_t kind, fp_error_t *err)
{
	FILE *f;
	char *text = NULL;
	size_t len = 0, cap = 0, linelen = 0;
	unsigned lineno = 1;
	struct stat st;
	fp_series_t *s;

	fp_error_clear(err);
	f = fopen(path, "rb");
	if (!f) {
		fp_error_set(err, FP_EIO, "%s: cannot open: %s", path,
			     strerror(errno));
		return NULL;
	}
	if (!fstat(fileno(f), &st) && S_ISREG(st.st_mode) &&
	    st.st_size > FP_SERIES_MAX_BYTES) {
		fp_error_set(err, FP_EINVAL,
			     "%s: %lld bytes, larger than %ld MiB: "
			     "not a series file",
			     path, (long long)st.st_size,
			     FP_SERIES_MAX_BYTES >> 20);
		fclose(f);
		return NULL;
	}
	/* Checked as read, so /dev/zero or an endless line stops at once. */
	for (;;) {
		size_t got;
		const char *bad = NULL;

		if (cap - len < 65536) {
			char *nt = realloc(text, cap + 65536 * 4);

			if (!nt) {
				free(text);
				fclose(f);
				fp_error_set(err, FP_ENOMEM,
					     "%s: out of memory", path);
				return NULL;
			}
			text = nt;
			cap += 65536 * 4;
		}
		got = fread(text + len, 1, cap - len, f);
		for (size_t i = len; i < len + got && !bad; i++) {
			if (text[i] == '\n') {
				lineno++;
				linelen = 0;
			} else if (!text[i]) {
				bad = "a NUL byte: not a text file";
			} else if (++linelen > FP_SERIES_MAX_LINE) {
				bad = "line longer than the limit";
			}
		}
		len += got;
		if (!bad && len > (size_t)FP_SERIES_MAX_BYTES)
			bad = "larger than the limit";
		if (bad) {
			fp_error_set(err, FP_EPARSE,
				     "%s:%u: %s (%d bytes a line, "
				     "%ld MiB a file): not a series file",
				     path, lineno, bad, FP_SERIES_MAX_LINE,
				     FP_SERIES_MAX_BYTES >> 20);
			free(text);
			fclose(f);
			return NULL;
		}
		if (got == 0)
			break;
	}
	if (ferror(f)) {
		fp_error_set(err, FP_EIO, "%s: read error", path);
		free(text);
		fclose(f);
		return NULL;
	}
	fclose(f);
	s = fp_series_parse(path, text, len, format, kind, err);
	free(text);
	return s;
}

static time_t _series_end(const fp_series_t *s)
{
	return s->pts[s->npts - 1].until;
}

static int _no_value(const fp_series_t *s, time_t t, fp_error_t *err)
{
	char when[21], a[21], b[21], last[21];

	fp_iso8601_format(t, when);
	if (s->type == FP_SERIES_HOURLY && t >= s->pts[0].t &&
	    t < _series_end(s))
		return fp_error_set(err, FP_EINVAL,
				    "series '%s' has no value for %s (a gap in "
				    "the data)",
				    s->name, when);
	fp_iso8601_format(s->pts[0].t, a);
	fp_iso8601_format(_series_end(s), b);
	fp_iso8601_format(s->pts[s->npts - 1].t, last);
	return fp_error_set(
		err, FP_EINVAL,
		"series '%s' has no value for %s (it covers %s up to "
		"%s exclusive: its last value starts at %s)",
		s->name, when, a, b, last);
}

/* Index of the first point after t (npts when none). */
static size_t _point_after(const fp_series_t *s, time_t t)
{
	size_t lo = 0, hi = s->npts;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s->pts[mid].t <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The point whose [t, until) holds t, or SIZE_MAX. */
static size_t _point_at(const fp_series_t *s, time_t t)
{
	/* lo - 1 is the last point with pts[].t <= t */
	size_t lo = _point_after(s, t);

	if (!lo || t >= s->pts[lo - 1].until)
		return SIZE_MAX;
	return lo - 1;
}

int fp_series_value(const fp_series_t *s, time_t t, double *value,
		    fp_error_t *err)
{
	struct tm tm;
	size_t k;

	fp_error_clear(err);
	switch (s->type) {
	case FP_SERIES_CONSTANT:
		*value = s->constant;
		return 0;
	case FP_SERIES_MONTHS:
		gmtime_r(&t, &tm);
		*value = (s->months >> tm.tm_mon) & 1 ? 1.0 : 0.0;
		return 0;
	case FP_SERIES_HOURLY:
		break;
	}
	k = _point_at(s, t);
	if (k == SIZE_MAX)
		return _no_value(s, t, err);
	*value = s->pts[k].v;
	return 0;
}

/* The integral of the step function over [t0, t1), piece by piece: each
 * point's value times the part of [t0, t1) it holds. */
static int _integrate(const fp_series_t *s, time_t t0, time_t t1, double *sum,
		      fp_error_t *err)
{
	size_t k = _point_at(s, t0);
	time_t cur = t0;

	*sum = 0;
	if (k == SIZE_MAX)
		return _no_value(s, t0, err);
	while (cur < t1) {
		time_t b;

		if (k >= s->npts || s->pts[k].t > cur)
			return _no_value(s, cur, err);
		b = s->pts[k].until < t1 ? s->pts[k].until : t1;
		*sum += (double)(b - cur) * s->pts[k].v;
		cur = b;
		k++;
	}
	return 0;
}

int fp_series_mean(const fp_series_t *s, time_t t0, time_t t1, double *mean,
		   fp_error_t *err)
{
	double sum = 0, v;
	time_t h;

	fp_error_clear(err);
	if (t1 < t0)
		return fp_error_set(
			err, FP_EINVAL,
			"series '%s': interval ends before it starts", s->name);
	if (t1 == t0 || s->type == FP_SERIES_CONSTANT)
		return fp_series_value(s, t0, mean, err);
	if (s->type == FP_SERIES_HOURLY) {
		if (_integrate(s, t0, t1, &sum, err))
			return -1;
		*mean = sum / (double)(t1 - t0);
		return 0;
	}
	/* Months change on a UTC hour. */
	for (h = _hour_of(t0); h < t1; h += HOUR) {
		time_t a = h > t0 ? h : t0;
		time_t b = h + HOUR < t1 ? h + HOUR : t1;

		if (fp_series_value(s, h, &v, err))
			return -1;
		sum += (double)(b - a) * v;
	}
	*mean = sum / (double)(t1 - t0);
	return 0;
}

int fp_series_fallback_parse(const char *text, fp_fallback_t *fb)
{
	char *end;
	double v;
	unsigned long days;

	memset(fb, 0, sizeof(*fb));
	if (!strcasecmp(text, "none"))
		return 0;
	if (!strcasecmp(text, "last")) {
		fb->kind = FP_FALLBACK_LAST;
		return 0;
	}
	if (!strcasecmp(text, "monthly-mean")) {
		fb->kind = FP_FALLBACK_MONTHLY_MEAN;
		return 0;
	}
	if (!strncasecmp(text, "same-hour:", 10)) {
		errno = 0;
		days = strtoul(text + 10, &end, 10);
		if (!isdigit((unsigned char)text[10]) || *end || errno ||
		    days < 1 || days > FP_FALLBACK_MAX_DAYS)
			return -1;
		fb->kind = FP_FALLBACK_SAME_HOUR;
		fb->days = (unsigned)days;
		return 0;
	}
	errno = 0;
	v = strtod(text, &end);
	if (!*text || *end || errno || !isfinite(v) || v < 0 ||
	    v > FP_SERIES_MAX_VALUE)
		return -1;
	fb->kind = FP_FALLBACK_CONSTANT;
	fb->value = v;
	return 0;
}

void fp_series_fallback_format(const fp_fallback_t *fb, char *buf, size_t size)
{
	switch (fb->kind) {
	case FP_FALLBACK_NONE:
		snprintf(buf, size, "none");
		return;
	case FP_FALLBACK_LAST:
		snprintf(buf, size, "last");
		return;
	case FP_FALLBACK_SAME_HOUR:
		snprintf(buf, size, "same-hour:%u", fb->days);
		return;
	case FP_FALLBACK_MONTHLY_MEAN:
		snprintf(buf, size, "monthly-mean");
		return;
	case FP_FALLBACK_CONSTANT:
		snprintf(buf, size, "%.15g", fb->value);
		return;
	}
	snprintf(buf, size, "unknown");
}

#define DAY (24 * HOUR)
#define MONTH_S (30 * DAY)

/* The integral of fb over [a, b), a time the series has no value for. */
static int _fill_integral(const fp_series_t *s, const fp_fallback_t *fb,
			  time_t a, time_t b, double *sum, fp_error_t *err)
{
	char when[21];
	size_t k;

	fp_iso8601_format(a, when);
	*sum = 0;
	switch (fb->kind) {
	case FP_FALLBACK_NONE:
		return _no_value(s, a, err);
	case FP_FALLBACK_CONSTANT:
		*sum = (double)(b - a) * fb->value;
		return 0;
	case FP_FALLBACK_LAST:
		k = _point_after(s, a);
		if (!k)
			return fp_error_set(
				err, FP_EINVAL,
				"series '%s': no value "
				"before %s for IntensityFallback=last",
				s->name, when);
		*sum = (double)(b - a) * s->pts[k - 1].v;
		return 0;
	case FP_FALLBACK_MONTHLY_MEAN: {
		time_t from = _series_end(s) - MONTH_S, covered = 0;
		double m = 0;

		k = _point_after(s, from);
		for (k = k ? k - 1 : 0; k < s->npts; k++) {
			time_t t = s->pts[k].t > from ? s->pts[k].t : from;

			if (s->pts[k].until <= t)
				continue;
			m += (double)(s->pts[k].until - t) * s->pts[k].v;
			covered += s->pts[k].until - t;
		}
		if (!covered)
			return fp_error_set(err, FP_EINVAL,
					    "series '%s': no value "
					    "in its last 30 days for "
					    "IntensityFallback=monthly-mean",
					    s->name);
		*sum = (double)(b - a) * m / (double)covered;
		return 0;
	}
	case FP_FALLBACK_SAME_HOUR:
		for (time_t h = _hour_of(a); h < b; h += HOUR) {
			time_t x = h > a ? h : a,
			       y = h + HOUR < b ? h + HOUR : b;
			double hv = 0, v;
			unsigned n = 0;
			fp_error_t ignore;

			for (unsigned d = 1; d <= fb->days; d++) {
				if (fp_series_mean(s, h - (time_t)d * DAY,
						   h - (time_t)d * DAY + HOUR,
						   &v, &ignore))
					continue;
				hv += v;
				n++;
			}
			if (!n) {
				fp_iso8601_format(x, when);
				return fp_error_set(
					err, FP_EINVAL,
					"series '%s': "
					"no value for %s nor for its "
					"hour on any of the %u days "
					"before (IntensityFallback="
					"same-hour:%u)",
					s->name, when, fb->days, fb->days);
			}
			*sum += (double)(y - x) * hv / n;
		}
		return 0;
	}
	return fp_error_set(err, FP_EINVAL, "series '%s': unknown fallback",
			    s->name);
}

int fp_series_mean_fallback(const fp_series_t *s, const fp_fallback_t *fb,
			    time_t t0, time_t t1, double *mean, fp_fill_t *fill,
			    fp_error_t *err)
{
	double sum = 0, part;
	time_t cur, filled = 0;

	fp_error_clear(err);
	memset(fill, 0, sizeof(*fill));
	if (s->type != FP_SERIES_HOURLY || fb->kind == FP_FALLBACK_NONE)
		return fp_series_mean(s, t0, t1, mean, err);
	if (t1 < t0)
		return fp_error_set(
			err, FP_EINVAL,
			"series '%s': interval ends before it starts", s->name);
	if (t1 == t0)
		t1 = t0 + 1;
	for (cur = t0; cur < t1;) {
		size_t k = _point_at(s, cur);
		time_t b;

		if (k != SIZE_MAX) {
			b = s->pts[k].until < t1 ? s->pts[k].until : t1;
			sum += (double)(b - cur) * s->pts[k].v;
			cur = b;
			continue;
		}
		k = _point_after(s, cur);
		b = k < s->npts && s->pts[k].t < t1 ? s->pts[k].t : t1;
		if (_fill_integral(s, fb, cur, b, &part, err))
			return -1;
		sum += part;
		if (!filled)
			fill->first = cur;
		fill->end = b;
		filled += b - cur;
		cur = b;
	}
	*mean = sum / (double)(t1 - t0);
	fill->fraction = (double)filled / (double)(t1 - t0);
	return 0;
}

int fp_series_check_range(const fp_series_t *s, double lo, double hi,
			  fp_error_t *err)
{
	char when[21];

	fp_error_clear(err);
	if (s->type == FP_SERIES_CONSTANT &&
	    (s->constant < lo || s->constant > hi))
		return fp_error_set(err, FP_EINVAL,
				    "series '%s': value %g outside [%g, %g]",
				    s->name, s->constant, lo, hi);
	if (s->type != FP_SERIES_HOURLY)
		return 0;
	for (size_t i = 0; i < s->npts; i++) {
		if (s->pts[i].v < lo || s->pts[i].v > hi) {
			fp_iso8601_format(s->pts[i].t, when);
			return fp_error_set(
				err, FP_EINVAL,
				"series '%s': value %g at %s outside "
				"[%g, %g]",
				s->name, s->pts[i].v, when, lo, hi);
		}
	}
	return 0;
}

const char *fp_series_name(const fp_series_t *s)
{
	return s->name;
}

fp_series_type_t fp_series_type(const fp_series_t *s)
{
	return s->type;
}

fp_series_format_t fp_series_format(const fp_series_t *s)
{
	return s->format;
}

fp_intensity_kind_t fp_series_kind(const fp_series_t *s)
{
	return s->kind;
}

bool fp_series_span(const fp_series_t *s, time_t *first, time_t *end)
{
	if (s->type != FP_SERIES_HOURLY)
		return false;
	if (first)
		*first = s->pts[0].t;
	if (end)
		*end = _series_end(s);
	return true;
}

size_t fp_series_hours(const fp_series_t *s)
{
	return s->npts;
}

const char *fp_series_intensity_kind_str(fp_intensity_kind_t kind)
{
	switch (kind) {
	case FP_INTENSITY_LCA:
		return "lca";
	case FP_INTENSITY_DIRECT:
		return "direct";
	case FP_INTENSITY_UNSET:
		break;
	}
	return "unset";
}

const char *fp_series_format_str(fp_series_format_t format)
{
	switch (format) {
	case FP_FORMAT_ELECTRICITYMAPS:
		return "electricitymaps";
	case FP_FORMAT_ECO2MIX:
		return "eco2mix";
	case FP_FORMAT_PLAIN:
		return "plain";
	case FP_FORMAT_AUTO:
		break;
	}
	return "auto";
}
