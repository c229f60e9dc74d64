/* Times read back: a summary's UTC times, and the sacct-like times of the
 * command line (sfootprint -S/-E). */
#include "footprint/report.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

time_t fp_report_parse_utc(const char *iso)
{
	struct tm tm = { 0 };
	const char *end;

	if (!iso || !(end = strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm)) ||
	    strcmp(end, "Z"))
		return -1;
	return timegm(&tm);
}

static bool _is_word(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (!strcasecmp(s, *words))
			return true;
	return false;
}

/* "now[+-]N[unit]": seconds by default, as Slurm's parse_time(). */
static int _parse_relative(const char *s, time_t now, time_t *out)
{
	static const char *const sec[] = { "",	     "s",	"sec", "secs",
					   "second", "seconds", NULL };
	static const char *const min[] = { "m",	     "min",	"mins",
					   "minute", "minutes", NULL };
	static const char *const hour[] = { "h", "hour", "hours", NULL };
	static const char *const day[] = { "d", "day", "days", NULL };
	static const char *const week[] = { "w", "week", "weeks", NULL };
	long long n, mult;
	char *end;
	int sign;

	if (strncasecmp(s, "now", 3))
		return -1;
	s += 3;
	if (!*s) {
		*out = now;
		return 0;
	}
	if (*s != '+' && *s != '-')
		return -1;
	sign = *s == '-' ? -1 : 1;
	s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	n = strtoll(s, &end, 10);
	if (n < 0 || n > 100LL * 365 * 86400)
		return -1;
	if (_is_word(end, sec))
		mult = 1;
	else if (_is_word(end, min))
		mult = 60;
	else if (_is_word(end, hour))
		mult = 3600;
	else if (_is_word(end, day))
		mult = 86400;
	else if (_is_word(end, week))
		mult = 7 * 86400;
	else
		return -1;
	*out = now + sign * (time_t)(n * mult);
	return 0;
}

/* Reads exactly `digits` digits (0: one or more) into *v. */
static const char *_digits(const char *s, int ndigits, int *v)
{
	int n = 0;

	*v = 0;
	while (isdigit((unsigned char)*s) && (!ndigits || n < ndigits)) {
		*v = *v * 10 + (*s - '0');
		s++;
		n++;
	}
	if (!n || (ndigits && n != ndigits) || n > 4)
		return NULL;
	return s;
}

/* HH:MM[:SS] at s; the rest of the string must be empty. */
static int _parse_clock(const char *s, struct tm *tm)
{
	int h, m, sec = 0;

	if (!(s = _digits(s, 0, &h)) || *s++ != ':' || !(s = _digits(s, 2, &m)))
		return -1;
	if (*s == ':' && !(s = _digits(s + 1, 2, &sec)))
		return -1;
	if (*s || h > 23 || m > 59 || sec > 60)
		return -1;
	tm->tm_hour = h;
	tm->tm_min = m;
	tm->tm_sec = sec;
	return 0;
}

/* mktime() normalises 02-30 into March: a date that moves is not real. */
static int _make_local(struct tm *tm, time_t *out)
{
	struct tm want = *tm;
	time_t t;

	tm->tm_isdst = -1;
	t = mktime(tm);
	if (t == (time_t)-1 || tm->tm_mday != want.tm_mday ||
	    tm->tm_mon != want.tm_mon || tm->tm_year != want.tm_year)
		return -1;
	*out = t;
	return 0;
}

static int _parse_absolute(const char *s, time_t now, time_t *out)
{
	struct tm tm;
	int y, mo, d;
	const char *p;

	localtime_r(&now, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	if (!strcasecmp(s, "today") || !strcasecmp(s, "midnight"))
		return _make_local(&tm, out);
	if (!strcasecmp(s, "noon")) {
		tm.tm_hour = 12;
		return _make_local(&tm, out);
	}
	if (!strcasecmp(s, "tomorrow")) {
		tm.tm_mday++;
		tm.tm_isdst = -1;
		*out = mktime(&tm);
		return *out == (time_t)-1 ? -1 : 0;
	}
	/* YYYY-MM-DD[THH:MM[:SS]] */
	if ((p = _digits(s, 4, &y)) && *p == '-') {
		if (!(p = _digits(p + 1, 2, &mo)) || *p != '-' ||
		    !(p = _digits(p + 1, 2, &d)))
			return -1;
		if (mo < 1 || mo > 12 || d < 1 || d > 31)
			return -1;
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		if (*p == 'T' && _parse_clock(p + 1, &tm))
			return -1;
		if (*p && *p != 'T')
			return -1;
		return _make_local(&tm, out);
	}
	/* MM/DD[/YY[YY]] */
	if ((p = _digits(s, 0, &mo)) && *p == '/') {
		if (!(p = _digits(p + 1, 0, &d)))
			return -1;
		if (*p == '/') {
			const char *q = p + 1;

			if (!(p = _digits(q, 0, &y)) ||
			    (p - q != 2 && p - q != 4))
				return -1;
			tm.tm_year = p - q == 2 ? y + 100 : y - 1900;
		}
		if (*p || mo < 1 || mo > 12 || d < 1 || d > 31)
			return -1;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		return _make_local(&tm, out);
	}
	if (_parse_clock(s, &tm) == 0)
		return _make_local(&tm, out);
	return -1;
}

int fp_report_parse_time(const char *s, time_t now, time_t *out,
			 fp_error_t *err)
{
	fp_error_clear(err);
	if (s && (_parse_relative(s, now, out) == 0 ||
		  _parse_absolute(s, now, out) == 0))
		return 0;
	/* Every form _parse_relative() and _parse_absolute() take, no more. */
	return fp_error_set(
		err, FP_EPARSE,
		"time '%s': expected "
		"YYYY-MM-DD[THH:MM[:SS]], MM/DD[/YY|/YYYY], HH:MM[:SS], "
		"today, midnight, noon, tomorrow, now or "
		"now{+|-}N[s|sec|secs|second|seconds|m|min|mins|minute|"
		"minutes|h|hour|hours|d|day|days|w|week|weeks] (N at "
		"most 3153600000; no unit: seconds)",
		s ? s : "");
}
