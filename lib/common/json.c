/* Shortest round-trip real numbers in JSON text: jansson has one precision
 * for a whole dump, where %.17g gives 0.1 as 0.10000000000000001 and fewer
 * digits lose figures (ERF, small jobs), so its 17-digit dump is rewritten
 * number by number. */
#include "footprint/json.h"

#include <locale.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* snprintf and strtod follow the locale's decimal point; JSON's is '.'. */
static void _to_dot(char *s)
{
	const char *dp = localeconv()->decimal_point;

	if (dp && dp[0] && dp[0] != '.' && !dp[1])
		for (; *s; s++)
			if (*s == dp[0])
				*s = '.';
}

static void _from_dot(char *s)
{
	const char *dp = localeconv()->decimal_point;

	if (dp && dp[0] && dp[0] != '.' && !dp[1])
		for (; *s; s++)
			if (*s == '.')
				*s = dp[0];
}

int fp_json_format_real(double x, char *buf, size_t size)
{
	char tmp[40], *e;
	int p, exp10, n;

	if (!isfinite(x) || size < 2)
		return -1;
	if (x == 0)
		x = 0; /* no "-0.0" */
	for (p = 1; p < 17; p++) {
		snprintf(tmp, sizeof(tmp), "%.*g", p, x);
		if (strtod(tmp, NULL) == x)
			break;
	}
	/* %g turns to an exponent once the exponent reaches the precision:
	 * keep the digits of integers as jansson's %.17g did */
	snprintf(tmp, sizeof(tmp), "%.*e", p - 1, x);
	e = strchr(tmp, 'e');
	exp10 = e ? atoi(e + 1) : 0;
	if (exp10 >= p && exp10 < 17)
		p = exp10 + 1;
	snprintf(tmp, sizeof(tmp), "%.*g", p, x);
	_to_dot(tmp);
	/* "1e+05" -> "1e5", "1e-05" -> "1e-5" */
	e = strchr(tmp, 'e');
	if (e) {
		char *d = e + 1, *s = e + 1;

		if (*s == '+')
			s++;
		else if (*s == '-')
			*d++ = *s++;
		while (*s == '0' && s[1])
			s++;
		memmove(d, s, strlen(s) + 1);
	} else if (!strchr(tmp, '.')) {
		strcat(tmp, ".0"); /* stays a real when read back */
	}
	n = (int)strlen(tmp);
	if ((size_t)n >= size)
		return -1;
	memcpy(buf, tmp, (size_t)n + 1);
	return n;
}

char *fp_json_dumps(const json_t *root, size_t flags)
{
	char *in, *out = NULL, num[40];
	size_t len = 0;
	FILE *f;
	bool ok = true;

	flags &= ~(size_t)JSON_REAL_PRECISION(31);
	in = json_dumps(root, flags | JSON_REAL_PRECISION(17));
	if (!in)
		return NULL;
	f = open_memstream(&out, &len);
	if (!f) {
		free(in);
		return NULL;
	}
	for (const char *p = in; *p && ok;) {
		if (*p == '"') {
			const char *q = p + 1;

			while (*q && *q != '"')
				q += *q == '\\' && q[1] ? 2 : 1;
			if (*q)
				q++;
			fwrite(p, 1, (size_t)(q - p), f);
			p = q;
		} else if (*p == '-' || (*p >= '0' && *p <= '9')) {
			size_t n = strspn(p, "-+0123456789.eE");
			char tok[40];
			double x;

			if (!memchr(p, '.', n) && !memchr(p, 'e', n) &&
			    !memchr(p, 'E', n)) {
				fwrite(p, 1, n, f); /* an integer */
				p += n;
				continue;
			}
			/* %.17g is at most 24 characters */
			ok = n < sizeof(tok);
			if (ok) {
				memcpy(tok, p, n);
				tok[n] = '\0';
				_from_dot(tok);
				x = strtod(tok, NULL);
				ok = fp_json_format_real(x, num, sizeof(num)) >
				     0;
			}
			if (ok)
				fputs(num, f);
			p += n;
		} else {
			fputc(*p++, f);
		}
	}
	free(in);
	if (fclose(f) || !ok) {
		free(out);
		return NULL;
	}
	return out;
}

double fp_json_number(const json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}
