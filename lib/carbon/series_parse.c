/* Parses series text (Electricity Maps and RTE eco2mix exports, plain
 * "iso8601,value") into a series' table of points, checked as it is read. */
#include "footprint/series.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "footprint/iso8601.h"
#include "series_table.h"

/* A typo in a year must not make a series span centuries. */
#define MAX_SPAN_HOURS (50L * 366 * 24)

struct sample {
	time_t t;
	double v;
	unsigned line;
};

/* French legal time (Europe/Paris, EU rules since 1996): CEST (UTC+2) from
 * the last Sunday of March 01:00 UTC to the last Sunday of October 01:00 UTC,
 * CET (UTC+1) otherwise. eco2mix dates and hours are in this local time. */
static time_t _last_sunday_0100_utc(int y, int mo)
{
	time_t t = fp_iso8601_utc(y, mo + 1, 0, 1, 0, 0); /* last day of mo */
	struct tm tm;

	gmtime_r(&t, &tm);
	return t - (time_t)tm.tm_wday * 24 * HOUR;
}

static bool _paris_summer(time_t utc)
{
	struct tm tm;

	gmtime_r(&utc, &tm);
	return utc >= _last_sunday_0100_utc(tm.tm_year + 1900, 3) &&
	       utc < _last_sunday_0100_utc(tm.tm_year + 1900, 10);
}

/* In the repeated hour of the October change, the first pass is CEST and the
 * second CET: files list local times in order, so a CEST reading that would
 * go back in time must be the second pass. */
static time_t _paris_to_utc(time_t local_as_utc, time_t last)
{
	time_t cest = local_as_utc - 2 * HOUR, cet = local_as_utc - HOUR;

	if (_paris_summer(cest) && !(cest <= last && !_paris_summer(cet)))
		return cest;
	return cet;
}

/* Line and field splitting. */

static char *_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* Splits in place at sep, honouring double quotes ("" is a quote). */
static size_t _split_fields(char *line, char sep, char ***fields, size_t *cap)
{
	size_t n = 0;
	char *r = line, *w;

	for (;;) {
		bool quoted = false;
		char *start;

		if (n == *cap) {
			size_t nc = *cap ? *cap * 2 : 16;
			char **nf = realloc(*fields, nc * sizeof(*nf));

			if (!nf)
				return (size_t)-1;
			*fields = nf;
			*cap = nc;
		}
		while (*r == ' ')
			r++;
		start = w = r;
		if (*r == '"') {
			quoted = true;
			r++;
		}
		for (; *r; r++) {
			if (quoted && *r == '"') {
				if (r[1] == '"') {
					*w++ = '"';
					r++;
					continue;
				}
				quoted = false;
				continue;
			}
			if (!quoted && *r == sep)
				break;
			*w++ = *r;
		}
		(*fields)[n++] = start;
		if (!*r) {
			*w = '\0';
			break;
		}
		*w = '\0';
		r++;
	}
	for (size_t i = 0; i < n; i++)
		(*fields)[i] = _trim((*fields)[i]);
	return n;
}

static bool _has_prefix_ci(const char *s, const char *prefix)
{
	return !strncasecmp(s, prefix, strlen(prefix));
}

static bool _contains_ci(const char *s, const char *needle)
{
	return strcasestr(s, needle) != NULL;
}

static int _find_column(char **f, size_t n, const char *name, bool prefix)
{
	for (size_t i = 0; i < n; i++)
		if (prefix ? _has_prefix_ci(f[i], name)
			   : !strcasecmp(f[i], name))
			return (int)i;
	return -1;
}

/* Parsing context: one line at a time, samples appended. */
struct parser {
	const char *name;
	fp_series_format_t format;
	fp_intensity_kind_t kind;
	char sep;
	int col_time, col_date, col_hour, col_value;
	bool header_done;
	time_t last;
	struct sample *samples;
	size_t nsamples, cap;
	char **fields;
	size_t fcap;
	fp_error_t *err;
};

/* Averaging two values given for one time, or sorting rows, would hide a
 * file that was concatenated or edited by hand: refused, naming both. */
static int _add_sample(struct parser *p, unsigned lineno, time_t t, double v)
{
	if (p->nsamples) {
		const struct sample *last = &p->samples[p->nsamples - 1];
		char a[21], b[21];

		fp_iso8601_format(t, a);
		fp_iso8601_format(last->t, b);
		if (t == last->t)
			return fp_error_set(
				p->err, FP_EINVAL,
				"%s:%u: time %s already given on line "
				"%u (one value per time)",
				p->name, lineno, a, last->line);
		if (t < last->t)
			return fp_error_set(
				p->err, FP_EINVAL,
				"%s:%u: time %s comes before %s of line "
				"%u (rows must be in time order)",
				p->name, lineno, a, b, last->line);
	}
	if (p->nsamples == p->cap) {
		size_t nc = p->cap ? p->cap * 2 : 1024;
		struct sample *ns = realloc(p->samples, nc * sizeof(*ns));

		if (!ns)
			return fp_error_set(p->err, FP_ENOMEM,
					    "%s: out of memory", p->name);
		p->samples = ns;
		p->cap = nc;
	}
	p->samples[p->nsamples].t = t;
	p->samples[p->nsamples].v = v;
	p->samples[p->nsamples].line = lineno;
	p->nsamples++;
	return 0;
}

/* A time field of a line, in ISO 8601. */
static int _parse_time(struct parser *p, unsigned lineno, const char *field,
		       const char *text, time_t *t)
{
	if (fp_iso8601_parse(text, t))
		return fp_error_set(p->err, FP_EPARSE,
				    "%s:%u: field '%s': '%s' is not an ISO "
				    "8601 time",
				    p->name, lineno, field, text);
	return 0;
}

static int _parse_value(struct parser *p, unsigned lineno, const char *field,
			const char *text, double *v)
{
	char *end;

	errno = 0;
	*v = strtod(text, &end);
	if (!*text || *end || errno || !isfinite(*v))
		return fp_error_set(p->err, FP_EPARSE,
				    "%s:%u: field '%s': '%s' is not a number",
				    p->name, lineno, field, text);
	if (*v < 0)
		return fp_error_set(p->err, FP_EINVAL,
				    "%s:%u: field '%s': negative value %s",
				    p->name, lineno, field, text);
	if (*v > FP_SERIES_MAX_VALUE)
		return fp_error_set(
			p->err, FP_EINVAL,
			"%s:%u: field '%s': %s is above %.15g, more "
			"than any grid emits (gCO2e/kWh): a unit or "
			"column mistake?",
			p->name, lineno, field, text, FP_SERIES_MAX_VALUE);
	return 0;
}

static int _header_electricitymaps(struct parser *p, unsigned lineno, char **f,
				   size_t n)
{
	const char *want = p->kind == FP_INTENSITY_DIRECT ? "(direct)" : NULL;

	if (p->kind == FP_INTENSITY_UNSET)
		p->kind = FP_INTENSITY_LCA;
	p->col_time = _find_column(f, n, "Datetime (UTC)", false);
	if (p->col_time < 0)
		return fp_error_set(p->err, FP_EPARSE,
				    "%s:%u: no 'Datetime (UTC)' column",
				    p->name, lineno);
	for (size_t i = 0; i < n; i++) {
		if (!_contains_ci(f[i], "carbon intensity"))
			continue;
		if (want ? _contains_ci(f[i], want)
			 : (_contains_ci(f[i], "(lca)") ||
			    _contains_ci(f[i], "(life cycle)"))) {
			p->col_value = (int)i;
			return 0;
		}
	}
	return fp_error_set(p->err, FP_EPARSE,
			    "%s:%u: no 'Carbon Intensity gCO2eq/kWh %s' column",
			    p->name, lineno, want ? want : "(LCA)");
}

static int _header_eco2mix(struct parser *p, unsigned lineno, char **f,
			   size_t n)
{
	if (p->kind == FP_INTENSITY_LCA)
		return fp_error_set(
			p->err, FP_EINVAL,
			"%s:%u: eco2mix 'Taux de CO2' counts direct "
			"emissions only; set IntensityKind=direct",
			p->name, lineno);
	p->kind = FP_INTENSITY_DIRECT;
	p->col_value = _find_column(f, n, "Taux de CO2", true);
	p->col_time = _find_column(f, n, "Date - Heure", false);
	p->col_date = _find_column(f, n, "Date", false);
	p->col_hour = _find_column(f, n, "Heures", false);
	if (p->col_hour < 0)
		p->col_hour = _find_column(f, n, "Heure", false);
	if (p->col_value < 0)
		return fp_error_set(p->err, FP_EPARSE,
				    "%s:%u: no 'Taux de CO2 (g/kWh)' column",
				    p->name, lineno);
	if (p->col_time < 0 && (p->col_date < 0 || p->col_hour < 0))
		return fp_error_set(p->err, FP_EPARSE,
				    "%s:%u: no 'Date' and 'Heures' columns",
				    p->name, lineno);
	return 0;
}

/* "2023-01-15" or "15/01/2023", then "HH:MM": local French time. */
static int _eco2mix_time(struct parser *p, unsigned lineno, const char *date,
			 const char *hour, time_t *t)
{
	int y, mo, d, h, mi;
	const char *q = date;
	time_t local, cest, cet;
	const char *dst = NULL; /* a fault of the clock change */
	bool ok;

	if (strlen(date) == 10 && date[2] == '/')
		ok = !fp_iso8601_digits(&q, 2, &d) && *q++ == '/' &&
		     !fp_iso8601_digits(&q, 2, &mo) && *q++ == '/' &&
		     !fp_iso8601_digits(&q, 4, &y) && !*q;
	else
		ok = !fp_iso8601_digits(&q, 4, &y) && *q++ == '-' &&
		     !fp_iso8601_digits(&q, 2, &mo) && *q++ == '-' &&
		     !fp_iso8601_digits(&q, 2, &d) && !*q;
	if (!ok || !fp_iso8601_valid(y, mo, d, 0, 0, 0))
		return fp_error_set(p->err, FP_EPARSE,
				    "%s:%u: field 'Date': '%s' is not a date",
				    p->name, lineno, date);
	q = hour;
	if (fp_iso8601_digits(&q, 2, &h) || *q++ != ':' ||
	    fp_iso8601_digits(&q, 2, &mi) || (*q && *q != ':') || h > 23 ||
	    mi > 59)
		return fp_error_set(p->err, FP_EPARSE,
				    "%s:%u: field 'Heures': '%s' is not HH:MM",
				    p->name, lineno, hour);
	local = fp_iso8601_utc(y, mo, d, h, mi, 0);
	cest = local - 2 * HOUR;
	cet = local - HOUR;
	*t = _paris_to_utc(local, p->last);
	if (!_paris_summer(cest) && _paris_summer(cet))
		dst = "does not exist in French legal time (clocks go from "
		      "02:00 to 03:00 that night)";
	else if (_paris_summer(cest) && !_paris_summer(cet) && *t <= p->last)
		dst = "appears a third time (the October change repeats that "
		      "hour once)";
	if (dst)
		return fp_error_set(p->err, FP_EINVAL,
				    "%s:%u: field 'Heures': %s %s %s", p->name,
				    lineno, date, hour, dst);
	return 0;
}

static int _parse_line(struct parser *p, unsigned lineno, char *line)
{
	size_t n;
	char **f;
	time_t t;
	double v;
	int maxcol;

	if (p->format == FP_FORMAT_PLAIN) {
		char *hash = strchr(line, '#');

		if (hash)
			*hash = '\0';
	}
	if (!*_trim(line))
		return 0;
	n = _split_fields(line, p->sep, &p->fields, &p->fcap);
	if (n == (size_t)-1)
		return fp_error_set(p->err, FP_ENOMEM, "%s: out of memory",
				    p->name);
	f = p->fields;
	if (!p->header_done) {
		p->header_done = true;
		if (p->format == FP_FORMAT_ELECTRICITYMAPS)
			return _header_electricitymaps(p, lineno, f, n);
		if (p->format == FP_FORMAT_ECO2MIX)
			return _header_eco2mix(p, lineno, f, n);
		/* Plain: a first line that is not data is a header. */
		if (fp_iso8601_parse(f[0], &t))
			return 0;
	}
	if (p->format == FP_FORMAT_PLAIN) {
		if (n != 2)
			return fp_error_set(
				p->err, FP_EPARSE,
				"%s:%u: expected 'iso8601,value', got "
				"%zu fields",
				p->name, lineno, n);
		if (_parse_time(p, lineno, "time", f[0], &t) ||
		    _parse_value(p, lineno, "value", f[1], &v))
			return -1;
		return _add_sample(p, lineno, t, v);
	}
	if (p->format == FP_FORMAT_ECO2MIX) {
		/* RTE files end with a one-field disclaimer line, and list
		 * the day's future quarters with an empty or "ND" value. */
		if (n == 1)
			return 0;
		maxcol = p->col_value;
		if (p->col_time > maxcol)
			maxcol = p->col_time;
		if (p->col_date > maxcol)
			maxcol = p->col_date;
		if (p->col_hour > maxcol)
			maxcol = p->col_hour;
		if ((int)n <= maxcol)
			return fp_error_set(
				p->err, FP_EPARSE,
				"%s:%u: %zu fields, the header has more",
				p->name, lineno, n);
		if (!*f[p->col_value] || !strcasecmp(f[p->col_value], "ND"))
			return 0;
		if (p->col_time >= 0) {
			if (_parse_time(p, lineno, "Date - Heure",
					f[p->col_time], &t))
				return -1;
			/* Read as UTC it would be one or two hours off. */
			if (!strpbrk(f[p->col_time] + 10, "Z+-"))
				return fp_error_set(
					p->err, FP_EPARSE,
					"%s:%u: field 'Date - Heure': "
					"'%s' has no UTC offset (eco2mix "
					"writes +01:00 or +02:00)",
					p->name, lineno, f[p->col_time]);
		} else if (_eco2mix_time(p, lineno, f[p->col_date],
					 f[p->col_hour], &t)) {
			return -1;
		}
		if (_parse_value(p, lineno, "Taux de CO2 (g/kWh)",
				 f[p->col_value], &v))
			return -1;
		p->last = t;
		return _add_sample(p, lineno, t, v);
	}
	/* Electricity Maps */
	maxcol = p->col_time > p->col_value ? p->col_time : p->col_value;
	if ((int)n <= maxcol)
		return fp_error_set(p->err, FP_EPARSE,
				    "%s:%u: %zu fields, the header has more",
				    p->name, lineno, n);
	if (_parse_time(p, lineno, "Datetime (UTC)", f[p->col_time], &t) ||
	    _parse_value(p, lineno,
			 p->kind == FP_INTENSITY_DIRECT
				 ? "Carbon Intensity (direct)"
				 : "Carbon Intensity (LCA)",
			 f[p->col_value], &v))
		return -1;
	return _add_sample(p, lineno, t, v);
}

static fp_series_format_t _guess_format(const char *text, size_t len)
{
	const char *nl = memchr(text, '\n', len);
	size_t n = nl ? (size_t)(nl - text) : len;
	char line[4096];

	if (n >= sizeof(line))
		n = sizeof(line) - 1;
	memcpy(line, text, n);
	line[n] = '\0';
	if (_contains_ci(line, "Datetime (UTC)"))
		return FP_FORMAT_ELECTRICITYMAPS;
	if (_contains_ci(line, "Taux de CO2"))
		return FP_FORMAT_ECO2MIX;
	return FP_FORMAT_PLAIN;
}

/* Each value holds until the next one: 15 min for eco2mix, 30 min for the
 * UK's API, an hour for Electricity Maps. A spacing above
 * FP_SERIES_MAX_STEP is a gap (values are never carried across it): the
 * value before it holds for the spacing that led to it, as does the last
 * one; a value with no neighbour within the bound holds an hour (the
 * coarsest resolution a provider publishes). */
static int _build_table(fp_series_t *s, struct parser *p, fp_error_t *err)
{
	const struct sample *x = p->samples;
	size_t n = p->nsamples;

	if (!n)
		return fp_error_set(err, FP_EPARSE, "%s: no data lines",
				    s->name);
	/* _add_sample() keeps the samples in strict time order. */
	if ((x[n - 1].t - x[0].t) / HOUR + 1 > MAX_SPAN_HOURS)
		return fp_error_set(err, FP_EINVAL,
				    "%s: the series spans more than 50 years",
				    s->name);
	s->pts = calloc(n, sizeof(*s->pts));
	if (!s->pts)
		return fp_error_set(err, FP_ENOMEM, "%s: out of memory",
				    s->name);
	for (size_t i = 0; i < n; i++) {
		time_t prev = i ? x[i].t - x[i - 1].t : 0;
		time_t next = i + 1 < n ? x[i + 1].t - x[i].t : 0;
		struct point *q = &s->pts[i];

		q->t = x[i].t;
		q->v = x[i].v;
		if (next && next <= FP_SERIES_MAX_STEP)
			q->until = x[i + 1].t;
		else if (prev && prev <= FP_SERIES_MAX_STEP)
			q->until = x[i].t + prev;
		else
			q->until = x[i].t + HOUR;
	}
	s->npts = n;
	return 0;
}

/* What fp_series_load refuses as it reads, for text given in memory. */
static int _check_size(const char *name, const char *text, size_t len,
		       fp_error_t *err)
{
	unsigned lineno = 1;

	if (len > (size_t)FP_SERIES_MAX_BYTES)
		return fp_error_set(err, FP_EINVAL,
				    "%s: larger than %ld MiB: not "
				    "a series file",
				    name, FP_SERIES_MAX_BYTES >> 20);
	for (const char *p = text, *end = text + len; p < end; lineno++) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);

		if (memchr(p, '\0', n))
			return fp_error_set(err, FP_EPARSE,
					    "%s:%u: a NUL byte: not "
					    "a text file",
					    name, lineno);
		if (n > FP_SERIES_MAX_LINE)
			return fp_error_set(err, FP_EPARSE,
					    "%s:%u: line longer "
					    "than %d bytes: not a series file",
					    name, lineno, FP_SERIES_MAX_LINE);
		p += n + 1;
	}
	return 0;
}

fp_series_t *fp_series_parse(const char *name, const char *text, size_t len,
			     fp_series_format_t format,
			     fp_intensity_kind_t kind, fp_error_t *err)
{
	struct parser p = { 0 };
	fp_series_t *s;
	char *buf, *line, *next;
	unsigned lineno = 0;
	int rc = 0;

	fp_error_clear(err);
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3)) { /* UTF-8 BOM */
		text += 3;
		len -= 3;
	}
	s = fp_series_alloc(name, FP_SERIES_HOURLY);
	buf = malloc(len + 1);
	if (!s || !buf) {
		fp_series_free(s);
		free(buf);
		fp_error_set(err, FP_ENOMEM, "%s: out of memory", name);
		return NULL;
	}
	memcpy(buf, text, len);
	buf[len] = '\0';
	rc = _check_size(name, text, len, err);
	if (rc) {
		fp_series_free(s);
		free(buf);
		return NULL;
	}
	if (format == FP_FORMAT_AUTO)
		format = _guess_format(buf, len);
	p.name = name;
	p.format = format;
	p.kind = kind;
	p.sep = ',';
	p.col_time = p.col_date = p.col_hour = p.col_value = -1;
	p.last = (time_t)INT64_MIN;
	p.err = err;
	if (format == FP_FORMAT_ECO2MIX) {
		char *nl = strchr(buf, '\n');

		if (nl)
			*nl = '\0';
		p.sep = strchr(buf, '\t') ? '\t' : ';';
		if (nl)
			*nl = '\n';
	}
	for (line = buf; line && !rc; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		rc = _parse_line(&p, lineno, line);
	}
	if (!rc)
		rc = _build_table(s, &p, err);
	if (!rc && p.kind == FP_INTENSITY_UNSET)
		p.kind = FP_INTENSITY_LCA;
	s->format = format;
	s->kind = p.kind;
	free(p.samples);
	free(p.fields);
	free(buf);
	if (rc) {
		fp_series_free(s);
		return NULL;
	}
	return s;
}
