/* Dates and times in ISO 8601, UTC: what the series, the summaries and the
 * CLI read and write. */
#ifndef FP_ISO8601_H
#define FP_ISO8601_H

#include <stdbool.h>
#include <time.h>

/* "2024-01-15T08:00:00Z", "2024-01-15 08:00", "...+01:00": the time in
 * Unix seconds; no offset means UTC. Returns -1 if malformed. */
int fp_iso8601_parse(const char *s, time_t *t);
/* Writes "YYYY-MM-DDTHH:MM:SSZ" (21 bytes with the NUL). */
void fp_iso8601_format(time_t t, char buf[21]);
/* Exactly ndigits decimal digits at *p into *out, *p moved past them; -1
 * (nothing moved) when one is not a digit. */
int fp_iso8601_digits(const char **p, int ndigits, int *out);
/* The Unix time of a civil date and time in UTC (timegm; d = 0 is the last
 * day of the month before). */
time_t fp_iso8601_utc(int y, int mo, int d, int h, int mi, int s);
/* Whether the fields make a date and time that exists (leap days, second
 * 60 and hour 24 allowed), in 1970-2200. */
bool fp_iso8601_valid(int y, int mo, int d, int h, int mi, int s);

#endif
