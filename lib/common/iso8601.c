/* Dates and times as the series, summaries and the CLI write them: ISO 8601
 * in UTC, parsed strictly (a date that does not exist is refused). */
#include "footprint/iso8601.h"

#include <ctype.h>
#include <stdio.h>

#define HOUR 3600

int fp_iso8601_digits(const char **p, int ndigits, int *out)
{
	int v = 0;

	for (int i = 0; i < ndigits; i++) {
		if (!isdigit((unsigned char)(*p)[i]))
			return -1;
		v = v * 10 + ((*p)[i] - '0');
	}
	*p += ndigits;
	*out = v;
	return 0;
}

time_t fp_iso8601_utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { 0 };

	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	return timegm(&tm);
}

bool fp_iso8601_valid(int y, int mo, int d, int h, int mi, int s)
{
	static const int mdays[] = { 31, 29, 31, 30, 31, 30,
				     31, 31, 30, 31, 30, 31 };

	if (y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 ||
	    d > mdays[mo - 1] || h > 24 || mi > 59 || s > 60)
		return false;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 || y % 400 == 0)))
		return false;
	return true;
}

int fp_iso8601_parse(const char *str, time_t *t)
{
	const char *p = str;
	int y, mo, d, h = 0, mi = 0, s = 0, oh = 0, om = 0, sign = 0;

	while (isspace((unsigned char)*p))
		p++;
	if (fp_iso8601_digits(&p, 4, &y) || *p++ != '-' ||
	    fp_iso8601_digits(&p, 2, &mo) || *p++ != '-' ||
	    fp_iso8601_digits(&p, 2, &d))
		return -1;
	if (*p == 'T' || *p == ' ') {
		p++;
		if (fp_iso8601_digits(&p, 2, &h) || *p++ != ':' ||
		    fp_iso8601_digits(&p, 2, &mi))
			return -1;
		if (*p == ':') {
			p++;
			if (fp_iso8601_digits(&p, 2, &s))
				return -1;
			if (*p == '.' || *p == ',') {
				p++;
				if (!isdigit((unsigned char)*p))
					return -1;
				while (isdigit((unsigned char)*p))
					p++;
			}
		}
	}
	if (*p == 'Z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		sign = *p++ == '-' ? -1 : 1;
		if (fp_iso8601_digits(&p, 2, &oh))
			return -1;
		if (*p == ':')
			p++;
		if (fp_iso8601_digits(&p, 2, &om))
			return -1;
	}
	while (isspace((unsigned char)*p))
		p++;
	if (*p || !fp_iso8601_valid(y, mo, d, h, mi, s) || oh > 23 || om > 59)
		return -1;
	*t = fp_iso8601_utc(y, mo, d, h, mi, s) - sign * (oh * HOUR + om * 60);
	return 0;
}

void fp_iso8601_format(time_t t, char buf[21])
{
	struct tm tm;

	if (!gmtime_r(&t, &tm)) {
		snprintf(buf, 21, "invalid-time");
		return;
	}
	strftime(buf, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
