/* The trace writer's line buffer, and the numbers and strings appended to it
 * as JSON text. */
#include "trace_writer.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fp_trace_put_reserve(fp_trace_writer_t *w, size_t k)
{
	if (w->len + k <= w->cap)
		return;
	size_t cap = w->cap ? w->cap : 4096;
	char *b;

	while (cap < w->len + k)
		cap *= 2;
	b = realloc(w->buf, cap);
	if (!b) {
		w->nomem = true;
		return;
	}
	w->buf = b;
	w->cap = cap;
}

void fp_trace_put_slow(fp_trace_writer_t *w, const char *s, size_t k)
{
	fp_trace_put_reserve(w, k);
	if (w->nomem)
		return;
	memcpy(w->buf + w->len, s, k);
	w->len += k;
}

/* Decimal digits of v, ending at end; returns where they start. Two digits
 * at a time: the counters of a 128-CPU node's steps are most of a sample,
 * and this was most of the writer's time. */
char *fp_trace_put_u64_text(char *end, uint64_t v)
{
	static const char pairs[] =
		"00010203040506070809101112131415161718192021222324252627282930"
		"31323334353637383940414243444546474849505152535455565758596061"
		"62636465666768697071727374757677787980818283848586878889909192"
		"93949596979899";

	while (v >= 100) {
		unsigned r = (unsigned)(v % 100);

		v /= 100;
		end -= 2;
		memcpy(end, pairs + 2 * r, 2);
	}
	if (v >= 10) {
		end -= 2;
		memcpy(end, pairs + 2 * v, 2);
	} else {
		*--end = (char)('0' + v);
	}
	return end;
}

/* n counters separated by commas, room made once. */
void fp_trace_put_u64s(fp_trace_writer_t *w, const uint64_t *v, size_t n)
{
	char tmp[24], *o;

	fp_trace_put_reserve(w, n * 21);
	if (w->nomem)
		return;
	o = w->buf + w->len;
	for (size_t c = 0; c < n; c++) {
		char *p = fp_trace_put_u64_text(tmp + sizeof(tmp), v[c]);
		size_t k = (size_t)(tmp + sizeof(tmp) - p);

		if (c)
			*o++ = ',';
		memcpy(o, p, k);
		o += k;
	}
	w->len = (size_t)(o - w->buf);
}

/* Shortest %g that reads back to the same double, so t and wall_j survive
 * a round trip exactly. */
void fp_trace_put_double(fp_trace_writer_t *w, double v)
{
	char tmp[40];

	if (!isfinite(v)) {
		fp_trace_puts(w, "null");
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	fp_trace_puts(w, tmp);
}

void fp_trace_put_str(fp_trace_writer_t *w, const char *s)
{
	fp_trace_put(w, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];
		size_t k = 0;

		/* a run of characters that need no escape goes as one piece */
		while ((unsigned char)s[k] >= 0x20 && s[k] != '"' &&
		       s[k] != '\\')
			k++;
		if (k) {
			fp_trace_put(w, s, k);
			s += k - 1;
			continue;
		}
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			fp_trace_put(w, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			fp_trace_put(w, esc, 6);
		} else {
			fp_trace_put(w, (const char *)&c, 1);
		}
	}
	fp_trace_put(w, "\"", 1);
}
