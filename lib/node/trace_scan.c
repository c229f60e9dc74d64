/* The JSON scanner of a trace's sample lines: it validates as it goes and
 * reads counters straight into fp_sample_t as 64-bit integers. */
#include "trace_scan.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The header goes through jansson (trace_header.c); samples, which are a few
 * fixed shapes repeated at 1 Hz for days, use this small scanner (jansson
 * builds a node per number and ran at a third of the speed needed to replay
 * a month of a 128-CPU node in minutes). */

#define MAX_DEPTH 64

/* Formats aside first: callers wrap the previous fault ("%s: %s", field,
 * r->fault), and vsnprintf into its own argument is undefined. */
int fp_trace_scan_fault(fp_trace_reader_t *r, const char *fmt, ...)
{
	char msg[sizeof(r->fault)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memcpy(r->fault, msg, sizeof(msg));
	return -1;
}

int fp_trace_scan_expect(fp_trace_reader_t *r, char c, const char *where)
{
	fp_trace_scan_ws(r);
	if (r->p < r->end && *r->p == c) {
		r->p++;
		return 0;
	}
	if (r->p >= r->end)
		return fp_trace_scan_fault(r, "bad JSON: line ends inside %s",
					   where);
	return fp_trace_scan_fault(
		r, "bad JSON: expected '%c' in %s at column %zu", c, where,
		(size_t)(r->p - r->text) + 1);
}

static int _bad_char(fp_trace_reader_t *r, const char *where)
{
	if (r->p >= r->end)
		return fp_trace_scan_fault(r, "bad JSON: line ends inside %s",
					   where);
	return fp_trace_scan_fault(
		r, "bad JSON: unexpected '%c' in %s at column %zu", *r->p,
		where, (size_t)(r->p - r->text) + 1);
}

static int _sbuf_put(fp_trace_reader_t *r, size_t *n, const char *s, size_t k)
{
	if (*n + k + 1 > r->scap) {
		size_t cap = r->scap ? r->scap : 64;
		char *b;

		while (cap < *n + k + 1)
			cap *= 2;
		b = realloc(r->sbuf, cap);
		if (!b)
			return fp_trace_scan_fault(r, "out of memory");
		r->sbuf = b;
		r->scap = cap;
	}
	memcpy(r->sbuf + *n, s, k);
	*n += k;
	r->sbuf[*n] = '\0';
	return 0;
}

static int _hex4(const char *p, unsigned *v)
{
	*v = 0;
	for (int i = 0; i < 4; i++) {
		char c = p[i];

		*v <<= 4;
		if (c >= '0' && c <= '9')
			*v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			*v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			*v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	return 0;
}

/* JSON's one-letter escapes, each letter before what it stands for. */
static const char _escapes[] = "\"\"\\\\//b\bf\fn\nr\rt\t";

/* Length of the valid UTF-8 sequence at p, 0 if invalid. */
static size_t _utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	size_t n;
	unsigned lo = 0x80, hi = 0xBF;

	if (c >= 0xC2 && c <= 0xDF)
		n = 2;
	else if (c >= 0xE0 && c <= 0xEF)
		n = 3;
	else if (c >= 0xF0 && c <= 0xF4)
		n = 4;
	else
		return 0;
	if (c == 0xE0)
		lo = 0xA0;
	else if (c == 0xED)
		hi = 0x9F;
	else if (c == 0xF0)
		lo = 0x90;
	else if (c == 0xF4)
		hi = 0x8F;
	if ((size_t)(end - p) < n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (p[i] < 0x80 || p[i] > 0xBF)
			return 0;
	return n;
}

static void _put_utf8(char *o, size_t *k, unsigned cp)
{
	if (cp < 0x80) {
		o[(*k)++] = (char)cp;
	} else if (cp < 0x800) {
		o[(*k)++] = (char)(0xC0 | (cp >> 6));
		o[(*k)++] = (char)(0x80 | (cp & 0x3F));
	} else if (cp < 0x10000) {
		o[(*k)++] = (char)(0xE0 | (cp >> 12));
		o[(*k)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[(*k)++] = (char)(0x80 | (cp & 0x3F));
	} else {
		o[(*k)++] = (char)(0xF0 | (cp >> 18));
		o[(*k)++] = (char)(0x80 | ((cp >> 12) & 0x3F));
		o[(*k)++] = (char)(0x80 | ((cp >> 6) & 0x3F));
		o[(*k)++] = (char)(0x80 | (cp & 0x3F));
	}
}

/* A JSON string at r->p. Plain ones (the usual case) are returned in place;
 * others are decoded into r->sbuf, valid until the next string. */
int fp_trace_scan_string(fp_trace_reader_t *r, const char **s, size_t *len)
{
	const char *p, *q;
	size_t n = 0;

	fp_trace_scan_ws(r);
	if (r->p >= r->end || *r->p != '"')
		return _bad_char(r, "a string");
	p = q = r->p + 1;
	while (q < r->end && *q != '"' && *q != '\\' &&
	       (unsigned char)*q >= 0x20 && (unsigned char)*q < 0x80)
		q++;
	if (q < r->end && *q == '"') {
		*s = p;
		*len = (size_t)(q - p);
		r->p = q + 1;
		return 0;
	}
	if (_sbuf_put(r, &n, "", 0))
		return -1;
	for (q = p; q < r->end && *q != '"';) {
		unsigned char c = (unsigned char)*q;
		size_t col = (size_t)(q - r->text) + 1, k = 0;
		const char *esc;
		char u[4];

		if (c < 0x20)
			return fp_trace_scan_fault(
				r,
				"bad JSON: control character in a "
				"string at column %zu",
				col);
		if (c >= 0x80) {
			k = _utf8_len((const unsigned char *)q,
				      (const unsigned char *)r->end);
			if (!k)
				return fp_trace_scan_fault(
					r,
					"bad JSON: invalid UTF-8 at "
					"column %zu",
					col);
			if (_sbuf_put(r, &n, q, k))
				return -1;
			q += k;
			continue;
		}
		if (c != '\\') {
			if (_sbuf_put(r, &n, q++, 1))
				return -1;
			continue;
		}
		if (q + 1 >= r->end)
			break;
		esc = q[1] ? strchr(_escapes, q[1]) : NULL;
		if (esc && (esc - _escapes) % 2 == 0)
			u[k++] = esc[1];
		else
			switch (q[1]) {
			case 'u': {
				unsigned cp, lo;

				if (r->end - q < 6 || _hex4(q + 2, &cp))
					return fp_trace_scan_fault(
						r,
						"bad JSON: bad \\u escape at "
						"column %zu",
						col);
				if (cp >= 0xD800 && cp <= 0xDBFF) {
					if (r->end - q < 12 || q[6] != '\\' ||
					    q[7] != 'u' || _hex4(q + 8, &lo) ||
					    lo < 0xDC00 || lo > 0xDFFF)
						return fp_trace_scan_fault(
							r,
							"bad JSON: lone "
							"surrogate at column %zu",
							col);
					cp = 0x10000 + ((cp - 0xD800) << 10) +
					     (lo - 0xDC00);
					q += 6;
				} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
					return fp_trace_scan_fault(
						r,
						"bad JSON: lone surrogate at "
						"column %zu",
						col);
				}
				if (!cp)
					return fp_trace_scan_fault(
						r,
						"\\u0000 in a string at "
						"column %zu",
						col);
				_put_utf8(u, &k, cp);
				q += 4;
				break;
			}
			default:
				return fp_trace_scan_fault(
					r, "bad JSON: bad escape at column %zu",
					col);
			}
		if (_sbuf_put(r, &n, u, k))
			return -1;
		q += 2;
	}
	if (q >= r->end)
		return fp_trace_scan_fault(r, "bad JSON: unterminated string");
	r->p = q + 1;
	*s = r->sbuf;
	*len = n;
	return 0;
}

/* Span of a JSON number at r->p, grammar checked. */
int fp_trace_scan_number(fp_trace_reader_t *r, const char **start, size_t *len,
			 bool *integer)
{
	const char *p = r->p, *end = r->end;

	*start = p;
	*integer = true;
	if (p < end && *p == '-')
		p++;
	if (p >= end || *p < '0' || *p > '9')
		return _bad_char(r, "a number");
	if (*p == '0')
		p++;
	else
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	if (p < end && *p == '.') {
		*integer = false;
		if (++p >= end || *p < '0' || *p > '9')
			goto bad;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		*integer = false;
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p >= end || *p < '0' || *p > '9')
			goto bad;
		while (p < end && *p >= '0' && *p <= '9')
			p++;
	}
	*len = (size_t)(p - *start);
	r->p = p;
	return 0;
bad:
	return fp_trace_scan_fault(r,
				   "bad JSON: malformed number at column %zu",
				   (size_t)(*start - r->text) + 1);
}

int fp_trace_scan_double(fp_trace_reader_t *r, double *v, const char *field)
{
	const char *s;
	size_t n;
	bool integer;
	char buf[64];

	fp_trace_scan_ws(r);
	if (fp_trace_scan_number(r, &s, &n, &integer))
		return fp_trace_scan_fault(r, "%s: %s", field, r->fault);
	if (n >= sizeof(buf))
		return fp_trace_scan_fault(r, "%s: number too long", field);
	memcpy(buf, s, n);
	buf[n] = '\0';
	*v = strtod(buf, NULL);
	if (!isfinite(*v))
		return fp_trace_scan_fault(r, "%s: number out of range", field);
	return 0;
}

/* The literal word at r->p (true, false, null), passed over. */
static bool _literal(fp_trace_reader_t *r, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(r->end - r->p) < n || memcmp(r->p, word, n))
		return false;
	r->p += n;
	return true;
}

bool fp_trace_scan_null(fp_trace_reader_t *r)
{
	fp_trace_scan_ws(r);
	return _literal(r, "null");
}

/* The members of an object (keyed) or the items of an array at r->p, to
 * its close, each value skipped. */
static int _skip_items(fp_trace_reader_t *r, int depth, char close,
		       const char *what, bool keyed)
{
	const char *s;
	size_t n;

	r->p++;
	fp_trace_scan_ws(r);
	if (r->p < r->end && *r->p == close) {
		r->p++;
		return 0;
	}
	for (;;) {
		if ((keyed && (fp_trace_scan_string(r, &s, &n) ||
			       fp_trace_scan_expect(r, ':', what))) ||
		    fp_trace_scan_skip(r, depth + 1))
			return -1;
		fp_trace_scan_ws(r);
		if (r->p < r->end && *r->p == ',') {
			r->p++;
			continue;
		}
		return fp_trace_scan_expect(r, close, what);
	}
}

int fp_trace_scan_skip(fp_trace_reader_t *r, int depth)
{
	const char *s;
	size_t n;
	bool integer;

	if (depth > MAX_DEPTH)
		return fp_trace_scan_fault(r, "bad JSON: nested too deep");
	fp_trace_scan_ws(r);
	if (r->p >= r->end)
		return _bad_char(r, "a value");
	switch (*r->p) {
	case '"':
		return fp_trace_scan_string(r, &s, &n);
	case '{':
		return _skip_items(r, depth, '}', "an object", true);
	case '[':
		return _skip_items(r, depth, ']', "an array", false);
	case 't':
	case 'f':
		if (_literal(r, *r->p == 't' ? "true" : "false"))
			return 0;
		break;
	case 'n':
		if (fp_trace_scan_null(r))
			return 0;
		break;
	default:
		return fp_trace_scan_number(r, &s, &n, &integer);
	}
	return _bad_char(r, "a value");
}

/* One step through an object's members or an array's elements: 1 before an
 * item, 0 at the closing character (consumed), -1 on error. first tracks the
 * opening character. Between items, anything but ',' or the close is an
 * error naming missing: objects say "expected ','", arrays "expected ']'". */
static int _next_item(fp_trace_reader_t *r, bool *first, char open, char close,
		      char missing, const char *where)
{
	fp_trace_scan_ws(r);
	if (*first) {
		*first = false;
		if (fp_trace_scan_expect(r, open, where))
			return -1;
		fp_trace_scan_ws(r);
		if (r->p < r->end && *r->p == close) {
			r->p++;
			return 0;
		}
		return 1;
	}
	if (r->p < r->end && (*r->p == ',' || *r->p == close))
		return *r->p++ == ',';
	return fp_trace_scan_expect(r, missing, where);
}

/* Iterates the members of an object: returns 1 with the key set, 0 at the
 * closing brace, -1 on error. first tracks the opening brace. */
int fp_trace_scan_member(fp_trace_reader_t *r, bool *first, const char **key,
			 size_t *klen, const char *where)
{
	int m = _next_item(r, first, '{', '}', ',', where);

	if (m <= 0)
		return m;
	if (fp_trace_scan_string(r, key, klen) ||
	    fp_trace_scan_expect(r, ':', where))
		return -1;
	return 1;
}

/* Iterates the elements of an array: returns 1 before each element, 0 at the
 * closing bracket, -1 on error. first tracks the opening bracket. */
int fp_trace_scan_element(fp_trace_reader_t *r, bool *first, const char *where)
{
	return _next_item(r, first, '[', ']', ']', where);
}

/* One counter of an array, by the general scanner, kept if it is among the
 * first n; *k counts them all so that a wrong length is reported. */
static int _u64_item(fp_trace_reader_t *r, uint64_t *out, size_t n, size_t *k,
		     const char *field)
{
	uint64_t v = 0;

	fp_trace_scan_ws(r);
	if (fp_trace_scan_u64(r, &v, field))
		return -1;
	if (*k < n)
		out[*k] = v;
	(*k)++;
	return 0;
}

/* A JSON array of exactly n counters. The arrays of a sample's steps are
 * most of a trace (cpus numbers each): as the writer writes them, digits
 * and commas only, they are read by a loop of their own; at anything else
 * (a space, a sign, a leading zero, 20 digits, an error) it hands over to
 * the general scanner at the element it stopped on, which reads or refuses
 * it as before. */
int fp_trace_scan_u64_array(fp_trace_reader_t *r, uint64_t *out, size_t n,
			    const char *field, const char *what)
{
	size_t k = 0;
	bool first = true;
	int e;

	fp_trace_scan_ws(r);
	if (r->p < r->end && *r->p == '[') {
		/* a sample's line ends in a newline (parsed in the input
		 * buffer) or a NUL (copied out; fp_trace_reader_next refuses
		 * one inside it): no test of the end is needed before a
		 * character is read, neither being a digit or separator */
		const char *p = r->p + 1;

		for (;;) {
			const char *q = p;
			uint64_t x;

			if ((unsigned)(*q - '0') > 9)
				break;
			x = (uint64_t)(*q++ - '0');
			if (x) {
				while ((unsigned)(*q - '0') <= 9)
					x = x * 10 + (uint64_t)(*q++ - '0');
				/* more than 19 digits may have wrapped */
				if (q - p > 19)
					break;
			}
			if (*q != ',' && *q != ']')
				break;
			if (k < n)
				out[k] = x;
			k++;
			p = q + 1;
			if (*q == ']') {
				r->p = p;
				goto counted;
			}
		}
		if (k) {
			/* after a comma: the element the loop stopped on */
			r->p = p;
			first = false;
			if (_u64_item(r, out, n, &k, field))
				return -1;
		}
	}
	while ((e = fp_trace_scan_element(r, &first, field)) > 0)
		if (_u64_item(r, out, n, &k, field))
			return -1;
	if (e < 0)
		return -1;
counted:
	if (k != n)
		return fp_trace_scan_fault(
			r, "%s has %zu values, expected %zu (%s)", field, k, n,
			what);
	return 0;
}
