/* Private to the trace reader: the JSON scanner of sample lines (trace_scan.c)
 * reads r->p to r->end and says what is wrong in r->fault. */
#ifndef FP_TRACE_SCAN_H
#define FP_TRACE_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "trace_reader.h"

/* Each returns 0 (or a value), or -1 with r->fault set. */
int fp_trace_scan_fault(fp_trace_reader_t *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int fp_trace_scan_expect(fp_trace_reader_t *r, char c, const char *where);
int fp_trace_scan_string(fp_trace_reader_t *r, const char **s, size_t *len);
int fp_trace_scan_number(fp_trace_reader_t *r, const char **start, size_t *len,
			 bool *integer);
int fp_trace_scan_double(fp_trace_reader_t *r, double *v, const char *field);
bool fp_trace_scan_null(fp_trace_reader_t *r);
int fp_trace_scan_skip(fp_trace_reader_t *r, int depth);
int fp_trace_scan_member(fp_trace_reader_t *r, bool *first, const char **key,
			 size_t *klen, const char *where);
int fp_trace_scan_element(fp_trace_reader_t *r, bool *first, const char *where);
int fp_trace_scan_u64_array(fp_trace_reader_t *r, uint64_t *out, size_t n,
			    const char *field, const char *what);

/* Inline, as they were in one file: called for every value of a line. */
static inline void fp_trace_scan_ws(fp_trace_reader_t *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' ||
				 *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

/* A non-negative JSON integer as uint64_t: the hot path (5000 a line). */
static inline int fp_trace_scan_u64(fp_trace_reader_t *r, uint64_t *v,
				    const char *field)
{
	const char *p = r->p, *end = r->end;
	uint64_t x;

	if (p >= end || (unsigned)(*p - '0') > 9)
		goto slow;
	x = (uint64_t)(*p++ - '0');
	if (x) {
		while (p < end && (unsigned)(*p - '0') <= 9) {
			unsigned d = (unsigned)(*p - '0');

			if (x > 1844674407370955161ULL ||
			    (x == 1844674407370955161ULL && d > 5))
				return fp_trace_scan_fault(
					r, "%s: integer too large", field);
			x = x * 10 + d;
			p++;
		}
	}
	if (p < end &&
	    ((unsigned)(*p - '0') <= 9 || *p == '.' || *p == 'e' || *p == 'E'))
		goto slow;
	r->p = p;
	*v = x;
	return 0;
slow : {
	const char *s;
	size_t n;
	bool integer;

	if (fp_trace_scan_number(r, &s, &n, &integer))
		return fp_trace_scan_fault(r, "%s: %s", field, r->fault);
	if (*s == '-')
		return fp_trace_scan_fault(r, "%s: negative value", field);
	if (!integer)
		return fp_trace_scan_fault(r, "%s: not an integer", field);
	/* only "0..." with more digits gets here: "0" then a digit */
	return fp_trace_scan_fault(r, "bad JSON: %s: leading zero", field);
}
}

static inline bool fp_trace_scan_is(const char *key, size_t klen,
				    const char *name)
{
	return strlen(name) == klen && !memcmp(key, name, klen);
}

#endif
