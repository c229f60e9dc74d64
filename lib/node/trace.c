/* Trace v1 reader and writer. The header goes through jansson; samples, which
 * are a few fixed shapes repeated at 1 Hz for days, use a small validating
 * scanner that reads counters straight into fp_sample_t as 64-bit integers
 * (jansson builds a node per number and ran at a third of the speed needed
 * to replay a month of a 128-CPU node in minutes). */
#include "footprint/trace.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "footprint/file.h"

#define MAX_DEPTH 64
/* Input is read in chunks of this size and split on newlines here, so that
 * a line can be capped (getline grows without bound on /dev/zero). */
#define CHUNK 65536
/* The lines are taken from a buffer of this size (the input read into it,
 * or decompressed into it): a line wholly in it is parsed where it is, and
 * on a 128-CPU node a sample is ~50 kB, most of a 64 KiB buffer. */
#define IBUF (1 << 20)

struct fp_trace_reader {
	FILE *f;
	bool own;
	char *name;
	char *line;
	size_t linecap;
	size_t lineno;
	uint64_t bytes;
	char *ibuf;
	size_t ipos, ilen;
	bool ieof;
	/* a zstd stream (found by its magic bytes): ibuf is filled by
	 * decompressing zin; zleft is the last ZSTD_decompressStream()
	 * return (0: at the end of a frame), zcut that the input ended
	 * inside a frame */
	ZSTD_DCtx *zd;
	char *zin;
	size_t zpos, zlen;
	bool zeof, zcut;
	size_t zleft;
	uint64_t zbytes;
	/* the line read last: no newline before the end of the input, and the
	 * column of its first NUL byte (0: none) */
	bool unterminated;
	size_t nul_col;
	char warning[512];
	fp_node_desc_t *desc;
	fp_sample_t *sample;
	bool have_t;
	double t_prev;
	char *prev_file; /* t_prev's file, until a sample of the next */

	/* steps pool: sample->steps points here; capacities kept alongside
	 * so a steady trace allocates nothing per line */
	fp_step_sample_t *pool;
	size_t *idcap, *alloccap;
	size_t poolcap;
	/* each pool entry's gpu_busy, desc->ngpus long: a step's gpu_busy
	 * points here only when its line has one */
	uint64_t **busy;
	bool **busy_valid;

	/* The compact form (docs/trace-format.md): the header's "compact",
	 * its keyframe interval (0: a plain trace, cpu_ns_moved refused).
	 * A step's cpu_ns_moved applies to its counters in the previous
	 * sample of the file, so each sample starts by setting the previous
	 * one's arrays aside (base, with base_id) and giving the pool spare
	 * arrays: a step of the previous sample takes its own array back and
	 * only its moved counters are written, no copy. */
	unsigned compact;
	size_t since_key; /* samples since the file's last keyframe */
	bool keyframe;	  /* the sample being read is whole */
	bool file_start;  /* no sample of this file read yet */
	bool first;	  /* the sample being read is the file's first */
	size_t nbase, basecap;
	uint64_t **base; /* NULL: taken back by this sample's step */
	char **base_id;
	size_t *base_idcap;
	uint64_t **spare;
	size_t nspare, sparecap;
	uint64_t *moves; /* a step's cpu_ns_moved: cpu, value pairs */
	size_t nmoves;

	/* scanner */
	const char *p, *end;
	const char *text; /* the line being parsed: r->line, or in ibuf */
	char fault[256];
	char *sbuf;
	size_t scap;
};

static int _fault(fp_trace_reader_t *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Formats aside first: callers wrap the previous fault ("%s: %s", field,
 * r->fault), and vsnprintf into its own argument is undefined. */
static int _fault(fp_trace_reader_t *r, const char *fmt, ...)
{
	char msg[sizeof(r->fault)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	memcpy(r->fault, msg, sizeof(msg));
	return -1;
}

static void _ws(fp_trace_reader_t *r)
{
	while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' ||
				 *r->p == '\n' || *r->p == '\r'))
		r->p++;
}

static int _expect(fp_trace_reader_t *r, char c, const char *where)
{
	_ws(r);
	if (r->p < r->end && *r->p == c) {
		r->p++;
		return 0;
	}
	if (r->p >= r->end)
		return _fault(r, "bad JSON: line ends inside %s", where);
	return _fault(r, "bad JSON: expected '%c' in %s at column %zu", c,
		      where, (size_t)(r->p - r->text) + 1);
}

static int _bad_char(fp_trace_reader_t *r, const char *where)
{
	if (r->p >= r->end)
		return _fault(r, "bad JSON: line ends inside %s", where);
	return _fault(r, "bad JSON: unexpected '%c' in %s at column %zu", *r->p,
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
			return _fault(r, "out of memory");
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
static int _string(fp_trace_reader_t *r, const char **s, size_t *len)
{
	const char *p, *q;
	size_t n = 0;

	_ws(r);
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
		char u[4];

		if (c < 0x20)
			return _fault(r,
				      "bad JSON: control character in a "
				      "string at column %zu",
				      col);
		if (c >= 0x80) {
			k = _utf8_len((const unsigned char *)q,
				      (const unsigned char *)r->end);
			if (!k)
				return _fault(r,
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
		switch (q[1]) {
		case '"':
		case '\\':
		case '/':
			u[k++] = q[1];
			break;
		case 'b':
			u[k++] = '\b';
			break;
		case 'f':
			u[k++] = '\f';
			break;
		case 'n':
			u[k++] = '\n';
			break;
		case 'r':
			u[k++] = '\r';
			break;
		case 't':
			u[k++] = '\t';
			break;
		case 'u': {
			unsigned cp, lo;

			if (r->end - q < 6 || _hex4(q + 2, &cp))
				return _fault(r,
					      "bad JSON: bad \\u escape at "
					      "column %zu",
					      col);
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				if (r->end - q < 12 || q[6] != '\\' ||
				    q[7] != 'u' || _hex4(q + 8, &lo) ||
				    lo < 0xDC00 || lo > 0xDFFF)
					return _fault(r,
						      "bad JSON: lone "
						      "surrogate at column %zu",
						      col);
				cp = 0x10000 + ((cp - 0xD800) << 10) +
				     (lo - 0xDC00);
				q += 6;
			} else if (cp >= 0xDC00 && cp <= 0xDFFF) {
				return _fault(r,
					      "bad JSON: lone surrogate at "
					      "column %zu",
					      col);
			}
			if (!cp)
				return _fault(r,
					      "\\u0000 in a string at "
					      "column %zu",
					      col);
			_put_utf8(u, &k, cp);
			q += 4;
			break;
		}
		default:
			return _fault(r, "bad JSON: bad escape at column %zu",
				      col);
		}
		if (_sbuf_put(r, &n, u, k))
			return -1;
		q += 2;
	}
	if (q >= r->end)
		return _fault(r, "bad JSON: unterminated string");
	r->p = q + 1;
	*s = r->sbuf;
	*len = n;
	return 0;
}

/* Span of a JSON number at r->p, grammar checked. */
static int _number(fp_trace_reader_t *r, const char **start, size_t *len,
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
	return _fault(r, "bad JSON: malformed number at column %zu",
		      (size_t)(*start - r->text) + 1);
}

/* A non-negative JSON integer as uint64_t: the hot path (5000 a line). */
static inline int _u64(fp_trace_reader_t *r, uint64_t *v, const char *field)
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
				return _fault(r, "%s: integer too large",
					      field);
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

	if (_number(r, &s, &n, &integer))
		return _fault(r, "%s: %s", field, r->fault);
	if (*s == '-')
		return _fault(r, "%s: negative value", field);
	if (!integer)
		return _fault(r, "%s: not an integer", field);
	/* only "0..." with more digits gets here: "0" then a digit */
	return _fault(r, "bad JSON: %s: leading zero", field);
}
}

static int _double(fp_trace_reader_t *r, double *v, const char *field)
{
	const char *s;
	size_t n;
	bool integer;
	char buf[64];

	_ws(r);
	if (_number(r, &s, &n, &integer))
		return _fault(r, "%s: %s", field, r->fault);
	if (n >= sizeof(buf))
		return _fault(r, "%s: number too long", field);
	memcpy(buf, s, n);
	buf[n] = '\0';
	*v = strtod(buf, NULL);
	if (!isfinite(*v))
		return _fault(r, "%s: number out of range", field);
	return 0;
}

static bool _null(fp_trace_reader_t *r)
{
	_ws(r);
	if (r->end - r->p >= 4 && !memcmp(r->p, "null", 4)) {
		r->p += 4;
		return true;
	}
	return false;
}

static int _skip(fp_trace_reader_t *r, int depth)
{
	const char *s;
	size_t n;
	bool integer;

	if (depth > MAX_DEPTH)
		return _fault(r, "bad JSON: nested too deep");
	_ws(r);
	if (r->p >= r->end)
		return _bad_char(r, "a value");
	switch (*r->p) {
	case '"':
		return _string(r, &s, &n);
	case '{':
		r->p++;
		_ws(r);
		if (r->p < r->end && *r->p == '}') {
			r->p++;
			return 0;
		}
		for (;;) {
			if (_string(r, &s, &n) ||
			    _expect(r, ':', "an object") || _skip(r, depth + 1))
				return -1;
			_ws(r);
			if (r->p < r->end && *r->p == ',') {
				r->p++;
				continue;
			}
			return _expect(r, '}', "an object");
		}
	case '[':
		r->p++;
		_ws(r);
		if (r->p < r->end && *r->p == ']') {
			r->p++;
			return 0;
		}
		for (;;) {
			if (_skip(r, depth + 1))
				return -1;
			_ws(r);
			if (r->p < r->end && *r->p == ',') {
				r->p++;
				continue;
			}
			return _expect(r, ']', "an array");
		}
	case 't':
		if (r->end - r->p >= 4 && !memcmp(r->p, "true", 4)) {
			r->p += 4;
			return 0;
		}
		break;
	case 'f':
		if (r->end - r->p >= 5 && !memcmp(r->p, "false", 5)) {
			r->p += 5;
			return 0;
		}
		break;
	case 'n':
		if (_null(r))
			return 0;
		break;
	default:
		return _number(r, &s, &n, &integer);
	}
	return _bad_char(r, "a value");
}

/* Iterates the members of an object: returns 1 with the key set, 0 at the
 * closing brace, -1 on error. first tracks the opening brace. */
static int _member(fp_trace_reader_t *r, bool *first, const char **key,
		   size_t *klen, const char *where)
{
	_ws(r);
	if (*first) {
		*first = false;
		if (_expect(r, '{', where))
			return -1;
		_ws(r);
		if (r->p < r->end && *r->p == '}') {
			r->p++;
			return 0;
		}
	} else {
		if (r->p < r->end && *r->p == '}') {
			r->p++;
			return 0;
		}
		if (_expect(r, ',', where))
			return -1;
	}
	if (_string(r, key, klen) || _expect(r, ':', where))
		return -1;
	return 1;
}

/* Iterates the elements of an array: returns 1 before each element, 0 at the
 * closing bracket, -1 on error. first tracks the opening bracket. */
static int _element(fp_trace_reader_t *r, bool *first, const char *where)
{
	_ws(r);
	if (*first) {
		*first = false;
		if (_expect(r, '[', where))
			return -1;
		_ws(r);
		if (r->p < r->end && *r->p == ']') {
			r->p++;
			return 0;
		}
		return 1;
	}
	if (r->p < r->end && *r->p == ',') {
		r->p++;
		return 1;
	}
	return _expect(r, ']', where);
}

static bool _is(const char *key, size_t klen, const char *name)
{
	return strlen(name) == klen && !memcmp(key, name, klen);
}

/* A JSON array of exactly n counters. The arrays of a sample's steps are
 * most of a trace (cpus numbers each): as the writer writes them, digits
 * and commas only, they are read by a loop of their own; at anything else
 * (a space, a sign, a leading zero, 20 digits, an error) it hands over to
 * the general scanner at the element it stopped on, which reads or refuses
 * it as before. */
static int _u64_array(fp_trace_reader_t *r, uint64_t *out, size_t n,
		      const char *field, const char *what)
{
	size_t k = 0;
	bool first = true;
	int e;

	_ws(r);
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
			uint64_t v = 0;

			r->p = p;
			first = false;
			_ws(r);
			if (_u64(r, &v, field))
				return -1;
			if (k < n)
				out[k] = v;
			k++;
		}
	}
	while ((e = _element(r, &first, field)) > 0) {
		uint64_t v = 0;

		_ws(r);
		if (_u64(r, &v, field))
			return -1;
		if (k < n)
			out[k] = v;
		k++;
	}
	if (e < 0)
		return -1;
counted:
	if (k != n)
		return _fault(r, "%s has %zu values, expected %zu (%s)", field,
			      k, n, what);
	return 0;
}

static int _pool_grow(fp_trace_reader_t *r, size_t n)
{
	size_t cap = r->poolcap ? r->poolcap : 8;
	size_t cpus = r->desc->cpus ? r->desc->cpus : 1;
	size_t gpus = r->desc->ngpus ? r->desc->ngpus : 1;
	fp_step_sample_t *pool;
	size_t *idcap, *alloccap;
	uint64_t **busy;
	bool **busy_valid;

	if (n <= r->poolcap)
		return 0;
	while (cap < n)
		cap *= 2;
	pool = realloc(r->pool, cap * sizeof(*pool));
	if (pool)
		r->pool = pool;
	idcap = realloc(r->idcap, cap * sizeof(*idcap));
	if (idcap)
		r->idcap = idcap;
	alloccap = realloc(r->alloccap, cap * sizeof(*alloccap));
	if (alloccap)
		r->alloccap = alloccap;
	busy = realloc(r->busy, cap * sizeof(*busy));
	if (busy)
		r->busy = busy;
	busy_valid = realloc(r->busy_valid, cap * sizeof(*busy_valid));
	if (busy_valid)
		r->busy_valid = busy_valid;
	if (!pool || !idcap || !alloccap || !busy || !busy_valid)
		return _fault(r, "out of memory");
	for (size_t i = r->poolcap; i < cap; i++) {
		memset(&pool[i], 0, sizeof(pool[i]));
		idcap[i] = alloccap[i] = 0;
		busy[i] = NULL;
		busy_valid[i] = NULL;
	}
	for (size_t i = r->poolcap; i < cap; i++) {
		pool[i].id = malloc(32);
		pool[i].alloc = malloc(8 * sizeof(int));
		pool[i].cpu_ns = malloc(cpus * sizeof(uint64_t));
		pool[i].gpus = malloc(gpus * sizeof(int));
		busy[i] = malloc(gpus * sizeof(uint64_t));
		busy_valid[i] = malloc(gpus * sizeof(bool));
		if (!pool[i].id || !pool[i].alloc || !pool[i].cpu_ns ||
		    !pool[i].gpus || !busy[i] || !busy_valid[i]) {
			r->poolcap = i + 1;
			return _fault(r, "out of memory");
		}
		idcap[i] = 32;
		alloccap[i] = 8;
		r->poolcap = i + 1;
	}
	r->sample->steps = r->pool;
	return 0;
}

static int _alloc_push(fp_trace_reader_t *r, size_t i, int cpu)
{
	fp_step_sample_t *st = &r->pool[i];

	if (st->nalloc == r->alloccap[i]) {
		size_t cap = 2 * r->alloccap[i];
		int *a = realloc(st->alloc, cap * sizeof(int));

		if (!a)
			return _fault(r, "out of memory");
		st->alloc = a;
		r->alloccap[i] = cap;
	}
	st->alloc[st->nalloc++] = cpu;
	return 0;
}

/* A step's "gpus": GPU indices of the header, each once. */
static int _step_gpus(fp_trace_reader_t *r, size_t i, const char *field)
{
	fp_step_sample_t *st = &r->pool[i];
	size_t n = r->desc->ngpus;
	bool first = true;
	int e;

	st->ngpus = 0;
	while ((e = _element(r, &first, "gpus")) > 0) {
		uint64_t g;

		_ws(r);
		if (_u64(r, &g, "gpus"))
			return _fault(r, "%s.%s", field, r->fault);
		if (g >= n)
			return _fault(r,
				      "%s.gpus: gpu %llu out of range "
				      "(the header has %zu gpus)",
				      field, (unsigned long long)g, n);
		for (size_t k = 0; k < st->ngpus; k++)
			if ((uint64_t)st->gpus[k] == g)
				return _fault(r,
					      "%s.gpus: gpu %llu listed "
					      "twice",
					      field, (unsigned long long)g);
		st->gpus[st->ngpus++] = (int)g;
	}
	return e;
}

/* A step's "gpu_busy": counters or null; *n how many (checked against gpus
 * once the whole step is read, as either may come first). */
static int _step_busy(fp_trace_reader_t *r, size_t i, const char *field,
		      size_t *n)
{
	size_t cap = r->desc->ngpus;
	bool first = true;
	int e;

	*n = 0;
	while ((e = _element(r, &first, "gpu_busy")) > 0) {
		if (*n >= cap)
			return _fault(r,
				      "%s.gpu_busy has more values than "
				      "the header has gpus (%zu)",
				      field, cap);
		if (_null(r)) {
			r->busy_valid[i][*n] = false;
			r->busy[i][*n] = 0;
		} else {
			_ws(r);
			if (_u64(r, &r->busy[i][*n], "gpu_busy"))
				return _fault(r, "%s.%s", field, r->fault);
			r->busy_valid[i][*n] = true;
		}
		(*n)++;
	}
	return e;
}

/* Decimal digits of v, ending at end; returns where they start. */
static char *_u64_digits(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

/* A step's "cpu_ns_moved": [[cpu, value], ...], each cpu once and in
 * increasing order, into r->moves; applied by _step_base once the whole
 * step is read (its id may come after it). */
static int _step_moves(fp_trace_reader_t *r, const char *field)
{
	size_t cpus = r->desc->cpus;
	bool first = true;
	int e;

	r->nmoves = 0;
	_ws(r);
	/* as the writer writes them, digits, commas and brackets only, by a
	 * loop of their own (the line ends in a newline or NUL, neither of
	 * which it takes); at anything else, or a pair it would refuse, the
	 * general scanner reads them again from the start and says why */
	if (r->p < r->end && *r->p == '[') {
		const char *q = r->p + 1;

		if (*q == ']') {
			r->p = q + 1;
			return 0;
		}
		while (*q == '[') {
			uint64_t x[2];

			for (int k = 0; k < 2; k++) {
				const char *d = ++q;

				if ((unsigned)(*q - '0') > 9)
					goto slow;
				x[k] = (uint64_t)(*q++ - '0');
				if (x[k]) {
					while ((unsigned)(*q - '0') <= 9)
						x[k] = x[k] * 10 +
						       (uint64_t)(*q++ - '0');
					if (q - d > 19)
						goto slow;
				}
				if (*q != (k ? ']' : ','))
					goto slow;
			}
			if (x[0] >= cpus ||
			    (r->nmoves && x[0] <= r->moves[2 * r->nmoves - 2]))
				goto slow;
			r->moves[2 * r->nmoves] = x[0];
			r->moves[2 * r->nmoves + 1] = x[1];
			r->nmoves++;
			q++;
			if (*q == ']') {
				r->p = q + 1;
				return 0;
			}
			if (*q != ',')
				goto slow;
			q++;
		}
slow:
		r->nmoves = 0;
	}
	while ((e = _element(r, &first, "cpu_ns_moved")) > 0) {
		uint64_t c = 0, v = 0;

		if (_expect(r, '[', "cpu_ns_moved"))
			return _fault(r, "%s.cpu_ns_moved: %s", field,
				      r->fault);
		_ws(r);
		if (_u64(r, &c, "cpu_ns_moved"))
			return _fault(r, "%s.%s", field, r->fault);
		if (_expect(r, ',', "cpu_ns_moved"))
			return _fault(r,
				      "%s.cpu_ns_moved: %s (a [cpu, value] "
				      "pair)",
				      field, r->fault);
		_ws(r);
		if (_u64(r, &v, "cpu_ns_moved"))
			return _fault(r, "%s.%s", field, r->fault);
		if (_expect(r, ']', "cpu_ns_moved"))
			return _fault(r,
				      "%s.cpu_ns_moved: %s (a [cpu, value] "
				      "pair)",
				      field, r->fault);
		if (c >= cpus)
			return _fault(r,
				      "%s.cpu_ns_moved: cpu %" PRIu64
				      " out of range (cpus %zu)",
				      field, c, cpus);
		if (r->nmoves && c <= r->moves[2 * r->nmoves - 2])
			return _fault(r,
				      "%s.cpu_ns_moved: cpu %" PRIu64
				      " after cpu %" PRIu64 " (each cpu once, "
				      "in increasing order)",
				      field, c, r->moves[2 * r->nmoves - 2]);
		r->moves[2 * r->nmoves] = c;
		r->moves[2 * r->nmoves + 1] = v;
		r->nmoves++;
	}
	return e;
}

/* Step i has cpu_ns_moved: it takes back its array of the previous sample
 * (the same index, as steps mostly stay where they were, else found by id)
 * and its moved counters are written into it. */
static int _step_base(fp_trace_reader_t *r, size_t i, const char *field)
{
	fp_step_sample_t *st = &r->pool[i];
	size_t j = r->nbase;
	uint64_t *b;

	if (i < r->nbase && !strcmp(r->base_id[i], st->id))
		j = i;
	else
		for (j = 0; j < r->nbase; j++)
			if (!strcmp(r->base_id[j], st->id))
				break;
	if (j == r->nbase)
		return _fault(
			r,
			"%s (%s): cpu_ns_moved, but the step is not "
			"in the previous sample%s: nothing to apply it "
			"to (a keyframe is missing)",
			field, st->id,
			!r->first ? ""
				  : " (none: the file's first sample must be "
				    "whole)");
	if (!r->base[j])
		return _fault(r, "step %s listed twice", st->id);
	/* room for it was made in _rotate */
	r->spare[r->nspare++] = st->cpu_ns;
	st->cpu_ns = b = r->base[j];
	r->base[j] = NULL;
	for (size_t k = 0; k < r->nmoves; k++)
		b[r->moves[2 * k]] = r->moves[2 * k + 1];
	return 0;
}

static int _step(fp_trace_reader_t *r, size_t i)
{
	fp_step_sample_t *st = &r->pool[i];
	bool first = true, have_id = false, have_job = false, have_cpu = false;
	bool have_busy = false, have_moved = false, undeclared = false;
	const char *key;
	size_t klen, cpus = r->desc->cpus, nbusy = 0;
	char field[48];
	int m;

	/* "steps[i]", for the messages; snprintf twice a step was a tenth
	 * of a 128-CPU trace's replay */
	{
		char num[24], *d = _u64_digits(num + sizeof(num), i);
		size_t k = (size_t)(num + sizeof(num) - d);

		memcpy(field, "steps[", 6);
		memcpy(field + 6, d, k);
		memcpy(field + 6 + k, "]", 2);
	}
	st->nalloc = 0;
	st->ngpus = 0;
	st->gpu_busy = NULL;
	st->gpu_busy_valid = NULL;
	while ((m = _member(r, &first, &key, &klen, field)) > 0) {
		if (_is(key, klen, "id")) {
			const char *s;
			size_t n;

			if (_string(r, &s, &n))
				return -1;
			if (n + 1 > r->idcap[i]) {
				char *id = realloc(st->id, n + 1);

				if (!id)
					return _fault(r, "out of memory");
				st->id = id;
				r->idcap[i] = n + 1;
			}
			memcpy(st->id, s, n);
			st->id[n] = '\0';
			have_id = true;
		} else if (_is(key, klen, "job")) {
			_ws(r);
			if (_u64(r, &st->job, "job"))
				return _fault(r, "%s.%s", field, r->fault);
			have_job = true;
		} else if (_is(key, klen, "cpu_ns")) {
			char f[64];
			size_t k = strlen(field);

			memcpy(f, field, k);
			memcpy(f + k, ".cpu_ns", 8);
			if (_u64_array(r, st->cpu_ns, cpus, f, "cpus"))
				return -1;
			have_cpu = true;
		} else if (_is(key, klen, "cpu_ns_moved") && r->compact) {
			if (_step_moves(r, field))
				return -1;
			have_moved = true;
		} else if (_is(key, klen, "cpu_ns_moved")) {
			/* read as v1 reads it: an unknown field, and then no
			 * cpu_ns, which is said */
			undeclared = true;
			if (_skip(r, 2))
				return -1;
		} else if (_is(key, klen, "alloc")) {
			bool efirst = true;
			int e;

			while ((e = _element(r, &efirst, "alloc")) > 0) {
				uint64_t c;

				_ws(r);
				if (_u64(r, &c, "alloc"))
					return _fault(r, "%s.%s", field,
						      r->fault);
				if (c >= cpus)
					return _fault(r,
						      "%s.alloc: cpu %llu "
						      "out of range (cpus %zu)",
						      field,
						      (unsigned long long)c,
						      cpus);
				if (_alloc_push(r, i, (int)c))
					return -1;
			}
			if (e < 0)
				return -1;
		} else if (_is(key, klen, "gpus")) {
			if (_step_gpus(r, i, field))
				return -1;
		} else if (_is(key, klen, "gpu_busy")) {
			if (_null(r)) {
				have_busy = false;
				continue;
			}
			if (_step_busy(r, i, field, &nbusy))
				return -1;
			have_busy = true;
		} else if (_skip(r, 2)) {
			return -1;
		}
	}
	if (m < 0)
		return -1;
	if (!have_id)
		return _fault(r, "%s: missing id", field);
	if (!have_job)
		return _fault(r, "%s (%s): missing job", field, st->id);
	if (have_cpu && have_moved)
		return _fault(r, "%s (%s): both cpu_ns and cpu_ns_moved", field,
			      st->id);
	if (!have_cpu && !have_moved)
		return _fault(
			r, "%s (%s): missing cpu_ns%s", field, st->id,
			undeclared ? " (it has cpu_ns_moved, the "
				     "compact form, which the header does not "
				     "declare with \"compact\")"
				   : "");
	if (have_moved) {
		r->keyframe = false;
		if (_step_base(r, i, field))
			return -1;
	}
	if (have_busy && nbusy != st->ngpus)
		return _fault(r, "%s (%s): gpu_busy has %zu values, gpus %zu",
			      field, st->id, nbusy, st->ngpus);
	if (have_busy) {
		st->gpu_busy = r->busy[i];
		st->gpu_busy_valid = r->busy_valid[i];
	}
	return 0;
}

static int _energy(fp_trace_reader_t *r)
{
	const fp_node_desc_t *desc = r->desc;
	bool first = true;
	const char *key;
	size_t klen;
	int m;

	while ((m = _member(r, &first, &key, &klen, "energy_uj")) > 0) {
		size_t d;

		for (d = 0; d < desc->ndomains; d++)
			if (_is(key, klen, desc->domains[d].name))
				break;
		if (d == desc->ndomains)
			return _fault(r, "energy_uj: unknown domain \"%.*s\"",
				      (int)(klen > 64 ? 64 : klen), key);
		if (_null(r)) {
			r->sample->energy_valid[d] = false;
			continue;
		}
		_ws(r);
		if (_u64(r, &r->sample->energy_uj[d], "energy_uj"))
			return -1;
		/* the counter wraps after its max: above it is no reading */
		if (r->sample->energy_uj[d] >
		    desc->domains[d].max_energy_range_uj)
			return _fault(r,
				      "energy_uj: %s is %" PRIu64 ", above "
				      "its max_energy_range_uj %" PRIu64,
				      desc->domains[d].name,
				      r->sample->energy_uj[d],
				      desc->domains[d].max_energy_range_uj);
		r->sample->energy_valid[d] = true;
	}
	return m;
}

/* "gpu_energy_uj": one counter or null per GPU of the header. */
static int _gpu_energy(fp_trace_reader_t *r)
{
	const fp_node_desc_t *desc = r->desc;
	fp_sample_t *s = r->sample;
	size_t k = 0;
	bool first = true;
	int e;

	while ((e = _element(r, &first, "gpu_energy_uj")) > 0) {
		bool null = _null(r);
		uint64_t v = 0;

		if (!null) {
			_ws(r);
			if (_u64(r, &v, "gpu_energy_uj"))
				return -1;
		}
		if (k < desc->ngpus) {
			const fp_node_gpu_t *g = &desc->gpus[k];

			if (!null && g->max_energy_uj && v > g->max_energy_uj)
				return _fault(r,
					      "gpu_energy_uj: gpu %zu is "
					      "%" PRIu64 ", above its "
					      "max_energy_uj %" PRIu64,
					      k, v, g->max_energy_uj);
			s->gpu_energy_uj[k] = v;
			s->gpu_valid[k] = !null;
		}
		k++;
	}
	if (e < 0)
		return -1;
	if (k != desc->ngpus) {
		if (desc->ngpus)
			memset(s->gpu_valid, 0, desc->ngpus * sizeof(bool));
		return _fault(r,
			      "gpu_energy_uj has %zu values, expected %zu "
			      "(gpus)",
			      k, desc->ngpus);
	}
	return 0;
}

/* Room for n more pointers in r->spare. */
static int _spare_reserve(fp_trace_reader_t *r, size_t n)
{
	size_t cap = r->sparecap ? r->sparecap : 16;
	uint64_t **g;

	if (r->nspare + n <= r->sparecap)
		return 0;
	while (cap < r->nspare + n)
		cap *= 2;
	g = realloc(r->spare, cap * sizeof(*g));
	if (!g)
		return _fault(r, "out of memory");
	r->spare = g;
	r->sparecap = cap;
	return 0;
}

/* A compact trace, before a sample: the previous sample's steps' arrays
 * and ids are set aside as the bases of cpu_ns_moved (none at the start of
 * a file), and the pool gets spare arrays for the steps written whole. */
static int _rotate(fp_trace_reader_t *r)
{
	size_t n = r->file_start ? 0 : r->sample->nsteps;
	size_t cpus = r->desc->cpus;

	r->first = r->file_start;
	r->file_start = false;
	r->nbase = 0;
	/* each base goes back to the spares once, or a step's array in its
	 * place (_step_base) */
	if (_spare_reserve(r, n))
		return -1;
	if (n > r->basecap) {
		uint64_t **b = realloc(r->base, n * sizeof(*b));
		char **id;
		size_t *cap;

		if (b)
			r->base = b;
		id = realloc(r->base_id, n * sizeof(*id));
		if (id)
			r->base_id = id;
		cap = realloc(r->base_idcap, n * sizeof(*cap));
		if (cap)
			r->base_idcap = cap;
		if (!b || !id || !cap)
			return _fault(r, "out of memory");
		for (size_t k = r->basecap; k < n; k++) {
			r->base[k] = NULL;
			r->base_id[k] = NULL;
			r->base_idcap[k] = 0;
		}
		r->basecap = n;
	}
	for (size_t k = 0; k < n; k++) {
		fp_step_sample_t *st = &r->pool[k];
		uint64_t *b = r->nspare ? r->spare[--r->nspare]
					: malloc(cpus * sizeof(*b));
		char *id = r->base_id[k];
		size_t cap = r->base_idcap[k];

		if (!b)
			return _fault(r, "out of memory");
		r->base[k] = st->cpu_ns;
		st->cpu_ns = b;
		/* the id is written again as the sample is read */
		r->base_id[k] = st->id;
		r->base_idcap[k] = r->idcap[k];
		st->id = id;
		r->idcap[k] = cap;
		r->nbase = k + 1;
	}
	return 0;
}

/* After a sample of a compact trace: the bases its steps did not take back
 * are spare. */
static void _settle(fp_trace_reader_t *r)
{
	for (size_t k = 0; k < r->nbase; k++) {
		if (r->base[k])
			r->spare[r->nspare++] = r->base[k];
		r->base[k] = NULL;
	}
	r->nbase = 0;
}

static int _parse_sample_body(fp_trace_reader_t *r);

static int _parse_sample(fp_trace_reader_t *r)
{
	int rc;

	r->keyframe = true;
	if (!r->compact)
		return _parse_sample_body(r);
	rc = _rotate(r);
	if (!rc)
		rc = _parse_sample_body(r);
	_settle(r);
	if (rc)
		return rc;
	if (r->keyframe) {
		r->since_key = 0;
	} else if (++r->since_key >= r->compact) {
		return _fault(r,
			      "no keyframe (a sample without cpu_ns_moved) "
			      "in the last %u samples, which the header's "
			      "\"compact\": %u promises",
			      r->compact, r->compact);
	}
	return 0;
}

static int _parse_sample_body(fp_trace_reader_t *r)
{
	fp_sample_t *s = r->sample;
	bool first = true, have_t = false, have_busy = false;
	const char *key;
	size_t klen;
	int m;

	memset(s->energy_valid, 0, r->desc->ndomains * sizeof(bool));
	if (r->desc->ngpus)
		memset(s->gpu_valid, 0, r->desc->ngpus * sizeof(bool));
	s->wall_valid = false;
	s->wall_j = 0;
	s->nsteps = 0;
	while ((m = _member(r, &first, &key, &klen, "the sample")) > 0) {
		if (_is(key, klen, "t")) {
			if (_double(r, &s->t, "t"))
				return -1;
			if (!(s->t >= 0 && s->t < FP_TRACE_T_MAX))
				return _fault(r,
					      "t %g is not a Unix time "
					      "from 0 to %.0f (the year "
					      "10000)",
					      s->t, FP_TRACE_T_MAX);
			have_t = true;
		} else if (_is(key, klen, "energy_uj")) {
			if (_null(r))
				continue;
			if (_energy(r))
				return -1;
		} else if (_is(key, klen, "gpu_energy_uj")) {
			if (_null(r))
				continue;
			if (_gpu_energy(r))
				return -1;
		} else if (_is(key, klen, "wall_j")) {
			if (_null(r)) {
				s->wall_valid = false;
				continue;
			}
			if (_double(r, &s->wall_j, "wall_j"))
				return -1;
			/* sums of such values overflow to inf, then nan */
			if (!(s->wall_j >= 0 &&
			      s->wall_j <= FP_TRACE_WALL_J_MAX))
				return _fault(r,
					      "wall_j %g J is not a "
					      "meter's energy from 0 to %g J",
					      s->wall_j, FP_TRACE_WALL_J_MAX);
			s->wall_valid = true;
		} else if (_is(key, klen, "cpu_busy_ns")) {
			if (_u64_array(r, s->cpu_busy_ns, r->desc->cpus,
				       "cpu_busy_ns", "cpus"))
				return -1;
			have_busy = true;
		} else if (_is(key, klen, "steps")) {
			size_t n = 0;
			bool efirst = true;
			int e;

			while ((e = _element(r, &efirst, "steps")) > 0) {
				s->nsteps = 0; /* pool entries not yet valid */
				if (_pool_grow(r, n + 1) || _step(r, n))
					return -1;
				n++;
			}
			if (e < 0)
				return -1;
			if (!n)
				continue; /* "steps": [] leaves them as read */
			s->steps = r->pool;
			s->nsteps = n;
		} else if (_skip(r, 1)) {
			return -1;
		}
	}
	if (m < 0)
		return -1;
	_ws(r);
	if (r->p != r->end)
		return _fault(r,
			      "bad JSON: text after the sample at "
			      "column %zu",
			      (size_t)(r->p - r->text) + 1);
	if (!have_t)
		return _fault(r, "missing t");
	if (!have_busy)
		return _fault(r, "missing cpu_busy_ns");
	if (r->have_t && !(s->t > r->t_prev) && r->prev_file)
		return _fault(r,
			      "t %.6f is not after t %.6f, the last of "
			      "%.100s (files out of order?)",
			      s->t, r->t_prev, r->prev_file);
	if (r->have_t && !(s->t > r->t_prev))
		return _fault(r,
			      "t %.6f is not after the previous sample's "
			      "t %.6f",
			      s->t, r->t_prev);
	for (size_t i = 0; i < s->nsteps; i++)
		for (size_t k = 0; k < i; k++)
			if (!strcmp(s->steps[i].id, s->steps[k].id))
				return _fault(r, "step %s listed twice",
					      s->steps[i].id);
	r->have_t = true;
	r->t_prev = s->t;
	free(r->prev_file);
	r->prev_file = NULL;
	return 0;
}

/* --- header, via jansson --- */

static int _hfail(fp_error_t *err, const fp_trace_reader_t *r, const char *fmt,
		  ...) __attribute__((format(printf, 3, 4)));

static int _hfail(fp_error_t *err, const fp_trace_reader_t *r, const char *fmt,
		  ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fp_error_set(err, FP_EPARSE, "%s: line 1: %s", r->name, msg);
}

static bool _json_uint(const json_t *v, uint64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

static int _header_packages(fp_trace_reader_t *r, json_t *root, fp_error_t *err)
{
	fp_node_desc_t *desc = r->desc;
	json_t *pk = json_object_get(root, "packages"), *v;
	size_t i, cpus = desc->cpus;
	bool *seen;

	if (!json_is_array(pk))
		return _hfail(err, r, "header: packages must be an array");
	desc->packages =
		calloc(json_array_size(pk) + 1, sizeof(*desc->packages));
	seen = calloc(cpus, sizeof(*seen));
	if (!desc->packages || !seen) {
		free(seen);
		return fp_error_set(err, FP_ENOMEM, "out of memory");
	}
	json_array_foreach(pk, i, v)
	{
		fp_package_t *p = &desc->packages[i];
		json_t *c = json_object_get(v, "cpus"), *x;
		uint64_t id, cpu;
		size_t k;

		if (!_json_uint(json_object_get(v, "id"), &id) ||
		    id > 1 << 20 || !json_is_array(c)) {
			free(seen);
			return _hfail(err, r,
				      "header: packages[%zu] needs "
				      "an id and a cpus array",
				      i);
		}
		p->id = (int)id;
		if (fp_sample_node_desc_package(desc, p->id) >= 0) {
			free(seen);
			return _hfail(err, r,
				      "header: package %d listed "
				      "twice",
				      p->id);
		}
		p->cpus = calloc(json_array_size(c) + 1, sizeof(int));
		if (!p->cpus) {
			free(seen);
			return fp_error_set(err, FP_ENOMEM, "out of memory");
		}
		desc->npackages++;
		json_array_foreach(c, k, x)
		{
			if (!_json_uint(x, &cpu) || cpu >= cpus || seen[cpu]) {
				free(seen);
				return _hfail(err, r,
					      "header: package %d: "
					      "cpus[%zu] is out of range or in "
					      "another package",
					      p->id, k);
			}
			seen[cpu] = true;
			p->cpus[p->ncpus++] = (int)cpu;
		}
	}
	free(seen);
	return 0;
}

static int _header_domains(fp_trace_reader_t *r, json_t *root, fp_error_t *err)
{
	fp_node_desc_t *desc = r->desc;
	json_t *dm = json_object_get(root, "domains"), *v;
	json_t *idle = json_object_get(root, "idle_w");
	const char *key;
	size_t i;

	if (!json_is_array(dm))
		return _hfail(err, r, "header: domains must be an array");
	desc->domains = calloc(json_array_size(dm) + 1, sizeof(*desc->domains));
	if (!desc->domains)
		return fp_error_set(err, FP_ENOMEM, "out of memory");
	json_array_foreach(dm, i, v)
	{
		fp_domain_t *d = &desc->domains[i];
		const char *name =
			json_string_value(json_object_get(v, "name"));
		const char *kind =
			json_string_value(json_object_get(v, "kind"));
		json_t *pkg = json_object_get(v, "package");
		uint64_t pid;

		if (!name || !*name || !kind)
			return _hfail(err, r,
				      "header: domains[%zu] needs a "
				      "name and a kind",
				      i);
		if (fp_sample_node_desc_domain(desc, name) >= 0)
			return _hfail(err, r, "header: domain %s listed twice",
				      name);
		d->name = strdup(name);
		if (!d->name)
			return fp_error_set(err, FP_ENOMEM, "out of memory");
		desc->ndomains++;
		d->idle_w = -1;
		d->package = -1;
		if (!strcmp(kind, "package"))
			d->kind = FP_DOMAIN_PACKAGE;
		else if (!strcmp(kind, "dram"))
			d->kind = FP_DOMAIN_DRAM;
		else if (!strcmp(kind, "psys"))
			d->kind = FP_DOMAIN_PSYS;
		else
			return _hfail(err, r,
				      "header: domain %s: unknown "
				      "kind \"%s\"",
				      name, kind);
		if (d->kind != FP_DOMAIN_PSYS) {
			if (!_json_uint(pkg, &pid) || pid > 1 << 20 ||
			    fp_sample_node_desc_package(desc, (int)pid) < 0)
				return _hfail(err, r,
					      "header: domain %s: "
					      "package missing or unknown",
					      name);
			d->package = (int)pid;
		}
		if (!_json_uint(json_object_get(v, "max_energy_range_uj"),
				&d->max_energy_range_uj) ||
		    !d->max_energy_range_uj)
			return _hfail(err, r,
				      "header: domain %s: "
				      "max_energy_range_uj missing or not a "
				      "positive integer",
				      name);
	}
	if (idle && !json_is_null(idle)) {
		if (!json_is_object(idle))
			return _hfail(err, r,
				      "header: idle_w must be an "
				      "object");
		json_object_foreach(idle, key, v)
		{
			int d = fp_sample_node_desc_domain(desc, key);

			if (d < 0)
				return _hfail(err, r,
					      "header: idle_w: unknown "
					      "domain \"%s\"",
					      key);
			if (json_is_null(v))
				continue;
			if (!json_is_number(v) || json_number_value(v) < 0)
				return _hfail(err, r,
					      "header: idle_w: %s must "
					      "be a number >= 0",
					      key);
			desc->domains[d].idle_w = json_number_value(v);
		}
	}
	return 0;
}

/* "gpus": [{"index", "uuid", "vendor", "max_energy_uj", "idle_w"}]; index
 * is the position in every per-GPU array, so each of 0..n-1 once. */
static int _header_gpus(fp_trace_reader_t *r, json_t *root, fp_error_t *err)
{
	fp_node_desc_t *desc = r->desc;
	json_t *gp = json_object_get(root, "gpus"), *v;
	size_t i, n;

	if (!gp || json_is_null(gp))
		return 0;
	if (!json_is_array(gp))
		return _hfail(err, r, "header: gpus must be an array");
	n = json_array_size(gp);
	if (n > 1 << 16)
		return _hfail(err, r, "header: %zu gpus, more than %d", n,
			      1 << 16);
	desc->gpus = calloc(n + 1, sizeof(*desc->gpus));
	if (!desc->gpus)
		return fp_error_set(err, FP_ENOMEM, "out of memory");
	desc->ngpus = n;
	for (i = 0; i < n; i++)
		desc->gpus[i].idle_w = -1;
	json_array_foreach(gp, i, v)
	{
		const char *uuid =
			json_string_value(json_object_get(v, "uuid"));
		const char *vendor =
			json_string_value(json_object_get(v, "vendor"));
		json_t *max = json_object_get(v, "max_energy_uj");
		json_t *idle = json_object_get(v, "idle_w");
		const char *src =
			json_string_value(json_object_get(v, "source"));
		uint64_t idx;
		fp_node_gpu_t *g;

		if (!_json_uint(json_object_get(v, "index"), &idx) || idx >= n)
			return _hfail(err, r,
				      "header: gpus[%zu]: index must "
				      "be 0..%zu",
				      i, n - 1);
		g = &desc->gpus[idx];
		if (g->uuid)
			return _hfail(err, r,
				      "header: gpus: index %zu listed "
				      "twice",
				      (size_t)idx);
		if (!uuid || !*uuid)
			return _hfail(err, r, "header: gpu %zu: uuid missing",
				      (size_t)idx);
		if (!vendor ||
		    (strcmp(vendor, "nvidia") && strcmp(vendor, "amd") &&
		     strcmp(vendor, "intel")))
			return _hfail(err, r,
				      "header: gpu %zu: vendor must "
				      "be nvidia, amd or intel",
				      (size_t)idx);
		g->uuid = strdup(uuid);
		g->vendor = strdup(vendor);
		if (!g->uuid || !g->vendor)
			return fp_error_set(err, FP_ENOMEM, "out of memory");
		if (max && !json_is_null(max) &&
		    (!_json_uint(max, &g->max_energy_uj) || !g->max_energy_uj))
			return _hfail(err, r,
				      "header: gpu %zu: max_energy_uj "
				      "must be null or a positive integer",
				      (size_t)idx);
		if (idle && !json_is_null(idle)) {
			if (!json_is_number(idle) ||
			    !(json_number_value(idle) >= 0) ||
			    !isfinite(json_number_value(idle)))
				return _hfail(err, r,
					      "header: gpu %zu: idle_w "
					      "must be a number >= 0",
					      (size_t)idx);
			g->idle_w = json_number_value(idle);
		}
		g->power_integral = src && !strcmp(src, "power-integral");
	}
	return 0;
}

static int _header(fp_trace_reader_t *r, size_t len, fp_error_t *err)
{
	json_error_t jerr;
	json_t *root, *v;
	const char *act;
	uint64_t cpus;
	int rc = -1;

	root = json_loadb(r->line, len, 0, &jerr);
	if (!root)
		return _hfail(err, r, "bad JSON: %s at column %d", jerr.text,
			      jerr.column);
	if (!json_is_object(root)) {
		_hfail(err, r, "missing header: line 1 is not an object");
		goto out;
	}
	v = json_object_get(root, "footprint_trace");
	if (!v) {
		_hfail(err, r, "missing header: no footprint_trace field%s",
		       json_object_get(root, "t") ? " (line 1 is a sample)"
						  : "");
		goto out;
	}
	if (!json_is_integer(v) || json_integer_value(v) != 1) {
		_hfail(err, r,
		       "unsupported trace version (footprint_trace "
		       "must be 1)");
		goto out;
	}
	v = json_object_get(root, "node");
	if (v && !json_is_string(v)) {
		_hfail(err, r, "header: node must be a string");
		goto out;
	}
	r->desc->node = strdup(v ? json_string_value(v) : "");
	if (!r->desc->node) {
		fp_error_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	if (!_json_uint(json_object_get(root, "cpus"), &cpus) || !cpus ||
	    cpus > 1 << 20) {
		_hfail(err, r, "header: cpus must be a positive integer");
		goto out;
	}
	r->desc->cpus = (size_t)cpus;
	act = json_string_value(json_object_get(root, "activity"));
	if (act && strcmp(act, "ns") && strcmp(act, "cycles")) {
		_hfail(err, r,
		       "header: activity must be \"ns\" or "
		       "\"cycles\"");
		goto out;
	}
	r->desc->activity_cycles = act && !strcmp(act, "cycles");
	v = json_object_get(root, "compact");
	if (v) {
		uint64_t k;

		if (!_json_uint(v, &k) || !k || k > FP_TRACE_KEYFRAME_MAX) {
			_hfail(err, r,
			       "header: compact (the keyframe "
			       "interval) must be an integer from 1 to %u",
			       FP_TRACE_KEYFRAME_MAX);
			goto out;
		}
		r->compact = (unsigned)k;
		r->moves = malloc(2 * r->desc->cpus * sizeof(*r->moves));
		if (!r->moves) {
			fp_error_set(err, FP_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (_header_packages(r, root, err) || _header_domains(r, root, err) ||
	    _header_gpus(r, root, err))
		goto out;
	rc = 0;
out:
	json_decref(root);
	return rc;
}

/* Decompresses the next piece of a zstd stream into ibuf. A stream cut
 * inside a frame (a writer killed between two flushes) ends where the last
 * complete block did, which the writer puts after a whole line. */
static int _zfill(fp_trace_reader_t *r, fp_error_t *err)
{
	for (;;) {
		ZSTD_inBuffer in;
		ZSTD_outBuffer out = { r->ibuf, IBUF, 0 };
		size_t rc;

		if (r->zpos == r->zlen && !r->zeof) {
			errno = 0;
			r->zlen = fread(r->zin, 1, CHUNK, r->f);
			r->zpos = 0;
			if (!r->zlen && ferror(r->f))
				return fp_error_set(
					err, FP_EIO, "%s: line %zu: %s",
					r->name, r->lineno + 1,
					strerror(errno ? errno : EIO));
			r->zeof = !r->zlen;
		}
		if (r->zpos == r->zlen) {
			r->ieof = true;
			r->ipos = r->ilen = 0;
			r->zcut = r->zleft != 0;
			return 0;
		}
		in = (ZSTD_inBuffer){ r->zin, r->zlen, r->zpos };
		rc = ZSTD_decompressStream(r->zd, &out, &in);
		r->zbytes += in.pos - r->zpos;
		r->zpos = in.pos;
		if (ZSTD_isError(rc))
			return fp_error_set(
				err, FP_EPARSE,
				"%s: line %zu: bad zstd "
				"data near compressed byte %" PRIu64
				" (%s): a damaged trace, not replayed",
				r->name, r->lineno + 1, r->zbytes,
				ZSTD_getErrorName(rc));
		r->zleft = rc;
		if (out.pos) {
			r->ipos = 0;
			r->ilen = out.pos;
			return 0;
		}
	}
}

static int _fill(fp_trace_reader_t *r, fp_error_t *err)
{
	size_t k;

	if (r->ieof)
		return 0;
	if (!r->ibuf && !(r->ibuf = malloc(IBUF)))
		return fp_error_set(err, FP_ENOMEM, "out of memory");
	if (r->zd)
		return _zfill(r, err);
	errno = 0;
	k = fread(r->ibuf, 1, IBUF, r->f);
	if (!k) {
		if (ferror(r->f))
			return fp_error_set(err, FP_EIO, "%s: line %zu: %s",
					    r->name, r->lineno + 1,
					    strerror(errno ? errno : EIO));
		r->ieof = true;
	}
	r->ipos = 0;
	r->ilen = k;
	return 0;
}

static int _keep(fp_trace_reader_t *r, size_t kept, const char *p, size_t k,
		 fp_error_t *err)
{
	if (kept + k + 1 > r->linecap) {
		size_t cap = r->linecap ? r->linecap : 4096;
		char *l;

		while (cap < kept + k + 1)
			cap *= 2;
		l = realloc(r->line, cap);
		if (!l)
			return fp_error_set(err, FP_ENOMEM, "out of memory");
		r->line = l;
		r->linecap = cap;
	}
	memcpy(r->line + kept, p, k);
	return 0;
}

/* Next line into r->line, newline kept; returns its length (what was kept
 * of it), 0 at the end (r->nul_col 0), -1 on error. A line longer than
 * FP_TRACE_LINE_MAX is an error. From its first NUL byte on a line is
 * counted, not kept (a crash's NUL padding costs no memory), or, with
 * stop_at_nul, not read further. Blank lines are skipped when skip_blank. */
static ssize_t _getline(fp_trace_reader_t *r, bool skip_blank, bool stop_at_nul,
			fp_error_t *err)
{
	for (;;) {
		size_t n = 0, kept = 0;
		bool got = false, nl_seen = false;
		const char *q;

		r->unterminated = false;
		r->nul_col = 0;
		for (;;) {
			const char *p, *nl, *z;
			size_t take, keep;

			if (r->ipos == r->ilen) {
				if (_fill(r, err))
					return -1;
				if (r->ipos == r->ilen)
					break;
			}
			p = r->ibuf + r->ipos;
			nl = memchr(p, '\n', r->ilen - r->ipos);
			take = nl ? (size_t)(nl - p) + 1 : r->ilen - r->ipos;
			if (n + take > FP_TRACE_LINE_MAX)
				return fp_error_set(
					err, FP_EPARSE,
					"%s: line %zu: "
					"longer than %d MiB without a "
					"newline: not a trace line",
					r->name, r->lineno + 1,
					FP_TRACE_LINE_MAX >> 20);
			keep = r->nul_col ? 0 : take;
			z = r->nul_col ? NULL : memchr(p, '\0', take);
			if (z) {
				r->nul_col = n + (size_t)(z - p) + 1;
				keep = (size_t)(z - p);
			}
			if (_keep(r, kept, p, keep, err))
				return -1;
			kept += keep;
			n += take;
			r->ipos += take;
			got = true;
			if (nl) {
				nl_seen = true;
				break;
			}
			if (r->nul_col && stop_at_nul)
				break;
		}
		if (!got)
			return 0;
		if (!r->line && _keep(r, 0, "", 0, err))
			return -1;
		r->line[kept] = '\0';
		r->lineno++;
		r->bytes += (uint64_t)n;
		r->unterminated = !nl_seen;
		if (!skip_blank || r->nul_col)
			return (ssize_t)kept;
		for (q = r->line; q < r->line + kept; q++)
			if (*q != ' ' && *q != '\t' && *q != '\n' && *q != '\r')
				return (ssize_t)kept;
	}
}

/* A zstd frame, or a skippable frame (which may open a zstd stream). */
static bool _zstd_magic(const unsigned char *b, size_t n)
{
	return n >= 4 && ((b[0] == 0x28 && b[1] == 0xb5 && b[2] == 0x2f &&
			   b[3] == 0xfd) ||
			  ((b[0] & 0xf0) == 0x50 && b[1] == 0x2a &&
			   b[2] == 0x4d && b[3] == 0x18));
}

/* Reads the first chunk and tells the forms apart by their first bytes, not
 * by the name: on a pipe nothing can be read twice, so a plain trace's
 * first chunk stays in ibuf, a compressed one's becomes zin. */
static int _sniff(fp_trace_reader_t *r, fp_error_t *err)
{
	size_t k;

	if (!(r->ibuf = malloc(IBUF)))
		return fp_error_set(err, FP_ENOMEM, "out of memory");
	errno = 0;
	k = fread(r->ibuf, 1, CHUNK, r->f);
	if (!k && ferror(r->f))
		return fp_error_set(err, FP_EIO, "%s: line 1: %s", r->name,
				    strerror(errno ? errno : EIO));
	if (!_zstd_magic((const unsigned char *)r->ibuf, k)) {
		r->ipos = 0;
		r->ilen = k;
		r->ieof = !k;
		return 0;
	}
	r->zin = r->ibuf;
	r->zlen = k;
	r->ibuf = malloc(IBUF);
	r->zd = ZSTD_createDCtx();
	if (!r->ibuf || !r->zd)
		return fp_error_set(err, FP_ENOMEM, "out of memory");
	return 0;
}

fp_trace_reader_t *fp_trace_reader_new(FILE *f, const char *name,
				       fp_error_t *err)
{
	fp_trace_reader_t *r = calloc(1, sizeof(*r));
	ssize_t n;

	fp_error_clear(err);
	if (!r || !(r->name = strdup(name ? name : "trace")) ||
	    !(r->desc = fp_sample_node_desc_new())) {
		fp_error_set(err, FP_ENOMEM, "out of memory");
		goto fail;
	}
	r->f = f;
	r->file_start = true;
	if (_sniff(r, err))
		goto fail;
	n = _getline(r, false, true, err);
	if (n < 0)
		goto fail;
	if (n == 0 && r->zcut) {
		fp_error_set(err, FP_EPARSE,
			     "%s: line 1: missing header (the zstd "
			     "stream ends before its first line: cut short)",
			     r->name);
		goto fail;
	}
	if (r->nul_col) {
		fp_error_set(err, FP_EPARSE,
			     "%s: line 1: missing header (a NUL "
			     "byte at column %zu: not a trace)",
			     r->name, r->nul_col);
		goto fail;
	}
	if (n == 0) {
		fp_error_set(err, FP_EPARSE,
			     "%s: line 1: missing header (empty "
			     "input)",
			     r->name);
		goto fail;
	}
	if (strspn(r->line, " \t\r\n") == (size_t)n) {
		fp_error_set(err, FP_EPARSE,
			     "%s: line 1: missing header (blank "
			     "line)",
			     r->name);
		goto fail;
	}
	if (_header(r, (size_t)n, err))
		goto fail;
	r->sample = fp_sample_new(r->desc);
	if (!r->sample) {
		fp_error_set(err, FP_ENOMEM, "out of memory");
		goto fail;
	}
	return r;
fail:
	fp_trace_reader_free(r);
	return NULL;
}

fp_trace_reader_t *fp_trace_reader_open(const char *path, fp_error_t *err)
{
	fp_trace_reader_t *r;
	FILE *f;

	fp_error_clear(err);
	if (!strcmp(path, "-"))
		return fp_trace_reader_new(stdin, "stdin", err);
	f = fopen(path, "r");
	if (!f) {
		fp_error_set(err, FP_EIO, "%s: %s", path, strerror(errno));
		return NULL;
	}
	r = fp_trace_reader_new(f, path, err);
	if (!r) {
		fclose(f);
		return NULL;
	}
	r->own = true;
	return r;
}

void fp_trace_reader_free(fp_trace_reader_t *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->poolcap; i++) {
		free(r->pool[i].id);
		free(r->pool[i].alloc);
		free(r->pool[i].cpu_ns);
		free(r->pool[i].gpus);
		free(r->busy[i]);
		free(r->busy_valid[i]);
	}
	for (size_t i = 0; i < r->basecap; i++) {
		free(r->base[i]);
		free(r->base_id[i]);
	}
	for (size_t i = 0; i < r->nspare; i++)
		free(r->spare[i]);
	free(r->base);
	free(r->base_id);
	free(r->base_idcap);
	free(r->spare);
	free(r->moves);
	free(r->pool);
	free(r->busy);
	free(r->busy_valid);
	free(r->idcap);
	free(r->alloccap);
	if (r->sample) {
		r->sample->steps = NULL;
		r->sample->nsteps = 0;
		fp_sample_free(r->sample);
	}
	fp_sample_node_desc_free(r->desc);
	if (r->own)
		fclose(r->f);
	free(r->line);
	free(r->ibuf);
	free(r->zin);
	ZSTD_freeDCtx(r->zd);
	free(r->prev_file);
	free(r->sbuf);
	free(r->name);
	free(r);
}

const fp_node_desc_t *fp_trace_reader_desc(const fp_trace_reader_t *r)
{
	return r->desc;
}

int fp_trace_reader_next(fp_trace_reader_t *r, const fp_sample_t **s,
			 fp_error_t *err)
{
	ssize_t n;

	fp_error_clear(err);
	/* a whole line in the buffer, as the writer writes it (an object, a
	 * newline, no NUL), is parsed where it is instead of copied out */
	if (r->ipos < r->ilen && r->ibuf[r->ipos] == '{') {
		const char *p = r->ibuf + r->ipos;
		const char *nl = memchr(p, '\n', r->ilen - r->ipos);

		if (nl && nl - p < FP_TRACE_LINE_MAX &&
		    !memchr(p, '\0', (size_t)(nl - p))) {
			n = nl - p + 1;
			r->ipos += (size_t)n;
			r->lineno++;
			r->bytes += (uint64_t)n;
			r->unterminated = false;
			r->nul_col = 0;
			r->text = r->p = p;
			r->end = p + n;
			goto parse;
		}
	}
	n = _getline(r, true, false, err);
	if (n == 0 && !r->nul_col && r->zcut && !r->warning[0])
		snprintf(r->warning, sizeof(r->warning),
			 "%s: the zstd stream "
			 "is cut short after line %zu (the writer stopped "
			 "mid-frame): replayed up to line %zu",
			 r->name, r->lineno, r->lineno);
	if (n < 0 || (n == 0 && !r->nul_col)) /* a line of NULs has n 0 */
		return (int)n;
	/* A crash leaves the file's last line cut, or NUL bytes where the
	 * file system had not written the data yet: what came before is a
	 * good trace. Elsewhere a NUL byte is an error. */
	if (r->nul_col && r->unterminated) {
		snprintf(r->warning, sizeof(r->warning),
			 "%s: line %zu: ends "
			 "in NUL bytes from column %zu (a crash before the "
			 "file was written out): ignored, replayed up to "
			 "line %zu",
			 r->name, r->lineno, r->nul_col, r->lineno - 1);
		return 0;
	}
	if (r->nul_col)
		return fp_error_set(err, FP_EPARSE,
				    "%s: line %zu: a NUL byte at "
				    "column %zu",
				    r->name, r->lineno, r->nul_col);
	r->text = r->p = r->line;
	r->end = r->line + n;
parse:
	if (_parse_sample(r)) {
		r->sample->nsteps = 0;
		if (r->unterminated) {
			snprintf(r->warning, sizeof(r->warning),
				 "%s: line "
				 "%zu: cut short (no newline at the end, the "
				 "writer stopped mid-line: %.200s): ignored, "
				 "replayed up to line %zu",
				 r->name, r->lineno, r->fault, r->lineno - 1);
			return 0;
		}
		return fp_error_set(err, FP_EPARSE, "%s: line %zu: %s", r->name,
				    r->lineno, r->fault);
	}
	*s = r->sample;
	return 1;
}

const char *fp_trace_reader_warning(const fp_trace_reader_t *r)
{
	return r->warning[0] ? r->warning : NULL;
}

const char *fp_trace_reader_name(const fp_trace_reader_t *r)
{
	return r->name;
}

/* Which part of two headers differs, or NULL: rotated files of one node
 * carry the same header, and one engine cannot take two nodes. */
static const char *_desc_differs(const fp_node_desc_t *a,
				 const fp_node_desc_t *b)
{
	if (strcmp(a->node ? a->node : "", b->node ? b->node : ""))
		return "node";
	if (a->cpus != b->cpus)
		return "cpus";
	if (a->activity_cycles != b->activity_cycles)
		return "activity";
	if (a->npackages != b->npackages)
		return "packages";
	for (size_t i = 0; i < a->npackages; i++) {
		const fp_package_t *p = &a->packages[i], *q = &b->packages[i];

		if (p->id != q->id || p->ncpus != q->ncpus ||
		    memcmp(p->cpus, q->cpus, p->ncpus * sizeof(*p->cpus)))
			return "packages";
	}
	if (a->ndomains != b->ndomains)
		return "domains";
	for (size_t i = 0; i < a->ndomains; i++) {
		const fp_domain_t *d = &a->domains[i], *e = &b->domains[i];

		if (strcmp(d->name, e->name) || d->kind != e->kind ||
		    d->package != e->package ||
		    d->max_energy_range_uj != e->max_energy_range_uj)
			return "domains";
		if (d->idle_w != e->idle_w)
			return "idle_w";
	}
	if (a->ngpus != b->ngpus)
		return "gpus";
	for (size_t i = 0; i < a->ngpus; i++) {
		const fp_node_gpu_t *g = &a->gpus[i], *h = &b->gpus[i];

		if (strcmp(g->uuid, h->uuid) || strcmp(g->vendor, h->vendor) ||
		    g->max_energy_uj != h->max_energy_uj ||
		    g->idle_w != h->idle_w ||
		    g->power_integral != h->power_integral)
			return "gpus";
	}
	return NULL;
}

int fp_trace_reader_continue(fp_trace_reader_t *r, const char *path,
			     fp_error_t *err)
{
	fp_trace_reader_t *next = fp_trace_reader_open(path, err);
	const char *what;
	char *swap;

	if (!next)
		return -1;
	what = _desc_differs(r->desc, next->desc);
	if (what) {
		fp_error_set(err, FP_EINVAL,
			     "%s: line 1: header differs from "
			     "%s's (%s): not the same node's trace",
			     next->name, r->name, what);
		fp_trace_reader_free(next);
		return -1;
	}
	/* The next file's input and position go to r; r's old input goes to
	 * next, which closes it. t keeps being checked across the files. */
	{
		FILE *f = r->f;
		bool own = r->own;

		r->f = next->f;
		r->own = next->own;
		next->f = f;
		next->own = own;
	}
	swap = r->name;
	r->name = next->name;
	next->name = swap;
	free(r->prev_file);
	r->prev_file = r->have_t ? strdup(swap) : NULL;
	swap = r->ibuf;
	r->ibuf = next->ibuf;
	next->ibuf = swap;
	r->ipos = next->ipos;
	r->ilen = next->ilen;
	r->ieof = next->ieof;
	{
		ZSTD_DCtx *zd = r->zd;
		char *zin = r->zin;

		r->zd = next->zd;
		r->zin = next->zin;
		next->zd = zd;
		next->zin = zin;
	}
	r->zpos = next->zpos;
	r->zlen = next->zlen;
	r->zeof = next->zeof;
	r->zcut = next->zcut;
	r->zleft = next->zleft;
	r->zbytes = next->zbytes;
	r->lineno = next->lineno;
	r->bytes += next->bytes;
	/* the file's own form; its first sample has no base */
	r->compact = next->compact;
	{
		uint64_t *m = r->moves;

		r->moves = next->moves;
		next->moves = m;
	}
	r->since_key = 0;
	r->file_start = true;
	r->warning[0] = '\0';
	fp_trace_reader_free(next);
	return 0;
}

size_t fp_trace_reader_line(const fp_trace_reader_t *r)
{
	return r->lineno;
}

uint64_t fp_trace_reader_bytes(const fp_trace_reader_t *r)
{
	return r->bytes;
}

/* --- writer --- */

struct fp_trace_writer {
	FILE *f;
	bool own;
	fp_node_desc_t *desc;
	char *buf;
	size_t len, cap;
	uint64_t bytes; /* what went to f: compressed, if so */
	ZSTD_CCtx *zc;	/* NULL: plain JSON Lines */
	char *zout;
	size_t zcap;
	bool have_t;
	double t_prev;
	bool nomem;
	/* each step's counters as last written, and their text: most of a
	 * step's CPUs are not its own and their counters do not move, so a
	 * sample renders only what changed (slot i is step i of the last
	 * sample, when it is still there) */
	struct wstep *slots;
	size_t nslots;
	/* the compact form: its keyframe interval (0: every sample whole),
	 * the samples written to this file, those since its last keyframe,
	 * and whether the next must be one (a line lost to an error left
	 * the cached counters ahead of the file) */
	unsigned compact;
	uint64_t nlines;
	unsigned since_key;
	bool force_key;
	uint32_t *at; /* the CPUs of a step's pairs (cpus / 4 + 1) */
};

struct wstep {
	char *id;      /* NULL: nothing cached */
	uint64_t *val; /* desc->cpus */
	char *txt;     /* desc->cpus cells of CELL bytes, right-aligned,
				 * and CELL more: each is copied 16 bytes at a
				 * time */
	unsigned char *len;
	/* the whole array as last written, and where each counter starts in
	 * it: a counter that moved without changing its number of digits is
	 * patched in place, and the array goes out as one copy (arr_ok false:
	 * to be joined again from the cells) */
	char *arr;
	size_t arrlen, arrcap;
	uint32_t *off;
	bool arr_ok;
	uint64_t seen; /* the sample (1, 2...) that wrote it last */
};
#define CELL 20

static void _reserve(fp_trace_writer_t *w, size_t k)
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

static void _put_slow(fp_trace_writer_t *w, const char *s, size_t k)
{
	_reserve(w, k);
	if (w->nomem)
		return;
	memcpy(w->buf + w->len, s, k);
	w->len += k;
}

/* Inline, so that a sample's thousand short pieces (keys, brackets,
 * commas: a fifth of the writer's instructions as calls) are a copy each,
 * and _puts of a literal a copy of known size. */
static inline void _put(fp_trace_writer_t *w, const char *s, size_t k)
{
	if (w->len + k <= w->cap) {
		memcpy(w->buf + w->len, s, k);
		w->len += k;
		return;
	}
	_put_slow(w, s, k);
}

static inline void _puts(fp_trace_writer_t *w, const char *s)
{
	_put(w, s, strlen(s));
}

/* Decimal digits of v, ending at end; returns where they start. Two digits
 * at a time: the counters of a 128-CPU node's steps are most of a sample,
 * and this was most of the writer's time. */
static char *_u64_text(char *end, uint64_t v)
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

static void _put_u64(fp_trace_writer_t *w, uint64_t v)
{
	char tmp[24], *p = _u64_text(tmp + sizeof(tmp), v);

	_put(w, p, (size_t)(tmp + sizeof(tmp) - p));
}

static void _slot_clear(struct wstep *sl)
{
	free(sl->id);
	free(sl->val);
	free(sl->txt);
	free(sl->len);
	free(sl->arr);
	free(sl->off);
	memset(sl, 0, sizeof(*sl));
}

/* The slot of step i (id), made slot i: the same index, else found among
 * the slots not yet taken by this sample, else slot i emptied for it. NULL
 * when out of memory (the step is then rendered without a cache). */
static struct wstep *_slot(fp_trace_writer_t *w, size_t i, const char *id)
{
	struct wstep *sl, tmp;
	size_t n = w->desc->cpus;

	if (i >= w->nslots) {
		struct wstep *g = realloc(w->slots, (i + 1) * sizeof(*g));

		if (!g)
			return NULL;
		memset(g + w->nslots, 0, (i + 1 - w->nslots) * sizeof(*g));
		w->slots = g;
		w->nslots = i + 1;
	}
	sl = &w->slots[i];
	if (sl->id && !strcmp(sl->id, id))
		return sl;
	for (size_t j = i + 1; j < w->nslots; j++) {
		if (w->slots[j].id && !strcmp(w->slots[j].id, id)) {
			tmp = *sl;
			*sl = w->slots[j];
			w->slots[j] = tmp;
			return sl;
		}
	}
	free(sl->id);
	sl->id = NULL;
	if (!sl->val) {
		sl->val = malloc(n * sizeof(*sl->val));
		sl->txt = calloc(n + 1, CELL);
		sl->len = malloc(n);
		if (!sl->val || !sl->txt || !sl->len) {
			_slot_clear(sl);
			return NULL;
		}
	}
	/* nothing cached yet: every counter is rendered */
	memset(sl->len, 0, n);
	sl->arr_ok = false;
	sl->seen = 0;
	sl->id = strdup(id);
	if (!sl->id)
		return NULL;
	return sl;
}

static void _put_u64s(fp_trace_writer_t *w, const uint64_t *v, size_t n);

/* A step's counters separated by commas, rendering only those not equal to
 * the slot's. */
static void _put_cached(fp_trace_writer_t *w, struct wstep *sl,
			const uint64_t *v, size_t n)
{
	char *o, *start;

	if (sl->arr_ok) {
		for (size_t c = 0; c < n; c++) {
			char *cell, *p;
			size_t k;

			/* most counters did not move: 8 compared at once */
			if (!(c & 7) && c + 8 <= n) {
				uint64_t d = 0;

				for (size_t j = 0; j < 8; j++)
					d |= sl->val[c + j] ^ v[c + j];
				if (!d) {
					c += 7;
					continue;
				}
			}
			if (sl->val[c] == v[c])
				continue;
			cell = sl->txt + c * CELL;
			p = _u64_text(cell + CELL, v[c]);
			k = (size_t)(cell + CELL - p);
			sl->val[c] = v[c];
			if (k == sl->len[c]) {
				memcpy(sl->arr + sl->off[c], p, k);
			} else {
				sl->len[c] = (unsigned char)k;
				sl->arr_ok = false;
			}
		}
		if (sl->arr_ok) {
			_put(w, sl->arr, sl->arrlen);
			return;
		}
	}
	if (!sl->off && !(sl->off = malloc(n * sizeof(*sl->off)))) {
		/* the cache still holds what was written: the compact form's
		 * next pairs are taken against it */
		memcpy(sl->val, v, n * sizeof(*v));
		memset(sl->len, 0, n);
		_put_u64s(w, v, n);
		return;
	}
	_reserve(w, n * (CELL + 1) + 16);
	if (w->nomem)
		return;
	o = start = w->buf + w->len;
	for (size_t c = 0; c < n; c++) {
		char *cell = sl->txt + c * CELL;
		size_t k;

		if (!sl->len[c] || sl->val[c] != v[c]) {
			char *p = _u64_text(cell + CELL, v[c]);

			sl->len[c] = (unsigned char)(cell + CELL - p);
			sl->val[c] = v[c];
		}
		k = sl->len[c];
		if (c)
			*o++ = ',';
		sl->off[c] = (uint32_t)(o - start);
		/* a fixed-size copy is one load and store; what it writes
		 * past the number is overwritten next, or beyond w->len */
		if (k <= 16)
			memcpy(o, cell + CELL - k, 16);
		else
			memcpy(o, cell + CELL - k, k);
		o += k;
	}
	w->len = (size_t)(o - w->buf);
	sl->arrlen = (size_t)(o - start);
	if (sl->arrlen > sl->arrcap) {
		char *a = realloc(sl->arr, sl->arrlen);

		if (!a)
			return;
		sl->arr = a;
		sl->arrcap = sl->arrlen;
	}
	memcpy(sl->arr, start, sl->arrlen);
	sl->arr_ok = true;
}

/* The CPUs whose counter is not the slot's, into at (up to lim + 1 of
 * them); returns how many it found. */
static size_t _moved(const struct wstep *sl, const uint64_t *v, size_t n,
		     size_t lim, uint32_t *at)
{
	size_t k = 0;

	for (size_t c = 0; c < n && k <= lim; c++) {
		if (!(c & 7) && c + 8 <= n) {
			uint64_t d = 0;

			for (size_t j = 0; j < 8; j++)
				d |= sl->val[c + j] ^ v[c + j];
			if (!d) {
				c += 7;
				continue;
			}
		}
		if (sl->val[c] != v[c])
			at[k++] = (uint32_t)c;
	}
	return k;
}

/* The compact form's [cpu, value] pairs of the k counters at[] found moved.
 * The cells they leave stale are rendered again at the next keyframe. */
static void _put_moved(fp_trace_writer_t *w, struct wstep *sl,
		       const uint64_t *v, const uint32_t *at, size_t k)
{
	for (size_t i = 0; i < k; i++) {
		char tmp[48], *e = tmp + sizeof(tmp), *p;
		size_t c = at[i];

		*--e = ']';
		p = _u64_text(e, v[c]);
		*--p = ',';
		p = _u64_text(p, c);
		*--p = '[';
		if (i)
			*--p = ',';
		_put(w, p, (size_t)(tmp + sizeof(tmp) - p));
		sl->val[c] = v[c];
		sl->len[c] = 0;
	}
	if (k)
		sl->arr_ok = false;
}

/* n counters separated by commas, room made once. */
static void _put_u64s(fp_trace_writer_t *w, const uint64_t *v, size_t n)
{
	char tmp[24], *o;

	_reserve(w, n * 21);
	if (w->nomem)
		return;
	o = w->buf + w->len;
	for (size_t c = 0; c < n; c++) {
		char *p = _u64_text(tmp + sizeof(tmp), v[c]);
		size_t k = (size_t)(tmp + sizeof(tmp) - p);

		if (c)
			*o++ = ',';
		memcpy(o, p, k);
		o += k;
	}
	w->len = (size_t)(o - w->buf);
}

static void _put_int(fp_trace_writer_t *w, long long v)
{
	if (v < 0) {
		_put(w, "-", 1);
		_put_u64(w, (uint64_t)(-(v + 1)) + 1);
	} else {
		_put_u64(w, (uint64_t)v);
	}
}

/* Shortest %g that reads back to the same double, so t and wall_j survive
 * a round trip exactly. */
static void _put_double(fp_trace_writer_t *w, double v)
{
	char tmp[40];

	if (!isfinite(v)) {
		_puts(w, "null");
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	_puts(w, tmp);
}

static void _put_str(fp_trace_writer_t *w, const char *s)
{
	_put(w, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[8];
		size_t k = 0;

		/* a run of characters that need no escape goes as one piece */
		while ((unsigned char)s[k] >= 0x20 && s[k] != '"' &&
		       s[k] != '\\')
			k++;
		if (k) {
			_put(w, s, k);
			s += k - 1;
			continue;
		}
		if (c == '"' || c == '\\') {
			esc[0] = '\\';
			esc[1] = (char)c;
			_put(w, esc, 2);
		} else if (c < 0x20) {
			snprintf(esc, sizeof(esc), "\\u%04x", c);
			_put(w, esc, 6);
		} else {
			_put(w, (const char *)&c, 1);
		}
	}
	_put(w, "\"", 1);
}

static int _out(fp_trace_writer_t *w, const void *b, size_t k, fp_error_t *err)
{
	if (fwrite(b, 1, k, w->f) != k)
		return fp_error_set(err, FP_EIO, "trace writer: %s",
				    strerror(errno ? errno : EIO));
	w->bytes += k;
	return 0;
}

/* Runs the compressor over what is buffered (ZSTD_e_continue), or until
 * all it holds is out: ZSTD_e_flush ends a block, so what went out so far
 * decompresses by itself (a killed writer leaves a replayable prefix);
 * ZSTD_e_end also ends the frame. */
static int _zpush(fp_trace_writer_t *w, ZSTD_EndDirective mode, fp_error_t *err)
{
	ZSTD_inBuffer in = { w->buf, w->len, 0 };
	size_t left;

	w->len = 0;
	do {
		ZSTD_outBuffer out = { w->zout, w->zcap, 0 };

		left = ZSTD_compressStream2(w->zc, &out, &in, mode);
		if (ZSTD_isError(left))
			return fp_error_set(err, FP_EIO,
					    "trace writer: zstd: %s",
					    ZSTD_getErrorName(left));
		if (out.pos && _out(w, w->zout, out.pos, err))
			return -1;
	} while (mode == ZSTD_e_continue ? in.pos < in.size : left != 0);
	return 0;
}

static int _emit(fp_trace_writer_t *w, fp_error_t *err)
{
	if (w->nomem) {
		w->nomem = false;
		w->len = 0;
		return fp_error_set(err, FP_ENOMEM,
				    "trace writer: out of memory");
	}
	if (w->zc)
		return _zpush(w, ZSTD_e_continue, err);
	if (fwrite(w->buf, 1, w->len, w->f) != w->len) {
		w->len = 0;
		return fp_error_set(err, FP_EIO, "trace writer: %s",
				    strerror(errno ? errno : EIO));
	}
	w->bytes += w->len;
	w->len = 0;
	return 0;
}

static const char *_kind_name(fp_domain_kind_t k)
{
	return k == FP_DOMAIN_PACKAGE ? "package"
	       : k == FP_DOMAIN_DRAM  ? "dram"
				      : "psys";
}

static int _write_header(fp_trace_writer_t *w, fp_error_t *err)
{
	const fp_node_desc_t *d = w->desc;
	bool any_idle = false;

	_puts(w, "{\"footprint_trace\":1,\"node\":");
	_put_str(w, d->node ? d->node : "");
	_puts(w, ",\"cpus\":");
	_put_u64(w, d->cpus);
	if (d->activity_cycles)
		_puts(w, ",\"activity\":\"cycles\"");
	if (w->compact) {
		_puts(w, ",\"compact\":");
		_put_u64(w, w->compact);
	}
	_puts(w, ",\"packages\":[");
	for (size_t i = 0; i < d->npackages; i++) {
		_puts(w, i ? ",{\"id\":" : "{\"id\":");
		_put_int(w, d->packages[i].id);
		_puts(w, ",\"cpus\":[");
		for (size_t k = 0; k < d->packages[i].ncpus; k++) {
			if (k)
				_put(w, ",", 1);
			_put_int(w, d->packages[i].cpus[k]);
		}
		_puts(w, "]}");
	}
	_puts(w, "],\"domains\":[");
	for (size_t i = 0; i < d->ndomains; i++) {
		const fp_domain_t *dm = &d->domains[i];

		_puts(w, i ? ",{\"name\":" : "{\"name\":");
		_put_str(w, dm->name);
		_puts(w, ",\"kind\":\"");
		_puts(w, _kind_name(dm->kind));
		_puts(w, "\"");
		if (dm->kind != FP_DOMAIN_PSYS) {
			_puts(w, ",\"package\":");
			_put_int(w, dm->package);
		}
		_puts(w, ",\"max_energy_range_uj\":");
		_put_u64(w, dm->max_energy_range_uj);
		_puts(w, "}");
		any_idle |= dm->idle_w >= 0;
	}
	_puts(w, "]");
	if (any_idle) {
		bool first = true;

		_puts(w, ",\"idle_w\":{");
		for (size_t i = 0; i < d->ndomains; i++) {
			if (!(d->domains[i].idle_w >= 0))
				continue;
			if (!first)
				_put(w, ",", 1);
			first = false;
			_put_str(w, d->domains[i].name);
			_put(w, ":", 1);
			_put_double(w, d->domains[i].idle_w);
		}
		_puts(w, "}");
	}
	/* only with GPUs: a trace without them stays byte for byte v1 */
	for (size_t i = 0; i < d->ngpus; i++) {
		const fp_node_gpu_t *g = &d->gpus[i];

		_puts(w, i ? ",{\"index\":" : ",\"gpus\":[{\"index\":");
		_put_u64(w, i);
		_puts(w, ",\"uuid\":");
		_put_str(w, g->uuid ? g->uuid : "");
		_puts(w, ",\"vendor\":");
		_put_str(w, g->vendor ? g->vendor : "");
		_puts(w, ",\"max_energy_uj\":");
		if (g->max_energy_uj)
			_put_u64(w, g->max_energy_uj);
		else
			_puts(w, "null");
		if (g->idle_w >= 0) {
			_puts(w, ",\"idle_w\":");
			_put_double(w, g->idle_w);
		}
		_puts(w, g->power_integral ? ",\"source\":\"power-integral\"}"
					   : ",\"source\":\"counter\"}");
		if (i + 1 == d->ngpus)
			_puts(w, "]");
	}
	_puts(w, "}\n");
	return _emit(w, err);
}

fp_trace_writer_t *fp_trace_writer_new_compact(FILE *f,
					       const fp_node_desc_t *desc,
					       fp_trace_form_t form,
					       unsigned keyframe,
					       fp_error_t *err)
{
	fp_trace_writer_t *w;

	fp_error_clear(err);
	if (keyframe > FP_TRACE_KEYFRAME_MAX) {
		fp_error_set(err, FP_EINVAL,
			     "trace writer: a keyframe every %u "
			     "samples: at most %u",
			     keyframe, FP_TRACE_KEYFRAME_MAX);
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w || !(w->desc = fp_sample_node_desc_dup(desc))) {
		free(w);
		fp_error_set(err, FP_ENOMEM, "out of memory");
		return NULL;
	}
	w->f = f;
	w->compact = keyframe;
	/* NULL (out of memory): every step whole */
	if (keyframe)
		w->at = malloc((w->desc->cpus / 4 + 1) * sizeof(*w->at));
	if (form == FP_TRACE_ZSTD) {
		w->zcap = ZSTD_CStreamOutSize();
		w->zout = malloc(w->zcap);
		w->zc = ZSTD_createCCtx();
		/* the checksum at a frame's end makes a damaged closed file an
		 * error rather than other numbers */
		if (!w->zout || !w->zc ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(w->zc,
							ZSTD_c_compressionLevel,
							FP_TRACE_ZSTD_LEVEL)) ||
		    ZSTD_isError(ZSTD_CCtx_setParameter(
			    w->zc, ZSTD_c_checksumFlag, 1))) {
			fp_error_set(err, FP_ENOMEM,
				     "trace writer: zstd: out of "
				     "memory");
			fp_trace_writer_free(w);
			return NULL;
		}
	}
	if (_write_header(w, err) || (w->zc && fp_trace_writer_flush(w, err))) {
		fp_trace_writer_free(w);
		return NULL;
	}
	return w;
}

fp_trace_writer_t *fp_trace_writer_new_as(FILE *f, const fp_node_desc_t *desc,
					  fp_trace_form_t form, fp_error_t *err)
{
	return fp_trace_writer_new_compact(f, desc, form, 0, err);
}

fp_trace_writer_t *fp_trace_writer_new(FILE *f, const fp_node_desc_t *desc,
				       fp_error_t *err)
{
	return fp_trace_writer_new_as(f, desc, FP_TRACE_PLAIN, err);
}

fp_trace_writer_t *fp_trace_writer_open(const char *path,
					const fp_node_desc_t *desc,
					fp_error_t *err)
{
	return fp_trace_writer_open_as(path, desc, FP_TRACE_PLAIN, err);
}

fp_trace_writer_t *fp_trace_writer_open_as(const char *path,
					   const fp_node_desc_t *desc,
					   fp_trace_form_t form,
					   fp_error_t *err)
{
	return fp_trace_writer_open_compact(path, desc, form, 0, err);
}

fp_trace_writer_t *fp_trace_writer_open_compact(const char *path,
						const fp_node_desc_t *desc,
						fp_trace_form_t form,
						unsigned keyframe,
						fp_error_t *err)
{
	fp_trace_writer_t *w;
	FILE *f;

	fp_error_clear(err);
	if (keyframe > FP_TRACE_KEYFRAME_MAX)
		return fp_error_set(err, FP_EINVAL,
				    "trace writer: a keyframe "
				    "every %u samples: at most %u",
				    keyframe, FP_TRACE_KEYFRAME_MAX),
		       NULL;
	if (!strcmp(path, "-"))
		return fp_trace_writer_new_compact(stdout, desc, form, keyframe,
						   err);
	/* a node's activity by CPU: for slurm and admins, not every user */
	f = fp_file_create(path, 0640, err);
	if (!f)
		return NULL;
	w = fp_trace_writer_new_compact(f, desc, form, keyframe, err);
	if (!w) {
		fclose(f);
		return NULL;
	}
	w->own = true;
	return w;
}

int fp_trace_writer_write(fp_trace_writer_t *w, const fp_sample_t *s,
			  fp_error_t *err)
{
	const fp_node_desc_t *d = w->desc;
	bool first = true, key;
	uint64_t m = w->nlines + 1; /* this sample's number */
	size_t nmoved;

	fp_error_clear(err);
	/* the file's first sample, and one at least every w->compact, is
	 * whole: a file replays from its start, and a line lost to an error
	 * is not a base */
	key = !w->compact || m == 1 || w->force_key ||
	      w->since_key + 1 >= w->compact;
	if (!isfinite(s->t) || (w->have_t && !(s->t > w->t_prev)))
		return fp_error_set(err, FP_EINVAL,
				    "trace writer: t %.6f is not "
				    "after the previous sample's t %.6f",
				    s->t, w->t_prev);
	_puts(w, "{\"t\":");
	_put_double(w, s->t);
	_puts(w, ",\"energy_uj\":{");
	for (size_t i = 0; i < d->ndomains; i++) {
		if (!first)
			_put(w, ",", 1);
		first = false;
		_put_str(w, d->domains[i].name);
		_put(w, ":", 1);
		if (s->energy_valid[i])
			_put_u64(w, s->energy_uj[i]);
		else
			_puts(w, "null");
	}
	_puts(w, "}");
	for (size_t g = 0; g < d->ngpus; g++) {
		_puts(w, g ? "," : ",\"gpu_energy_uj\":[");
		if (s->gpu_energy_uj && s->gpu_valid && s->gpu_valid[g])
			_put_u64(w, s->gpu_energy_uj[g]);
		else
			_puts(w, "null");
		if (g + 1 == d->ngpus)
			_puts(w, "]");
	}
	if (s->wall_valid && isfinite(s->wall_j)) {
		_puts(w, ",\"wall_j\":");
		_put_double(w, s->wall_j);
	}
	_puts(w, ",\"cpu_busy_ns\":[");
	_put_u64s(w, s->cpu_busy_ns, d->cpus);
	_puts(w, "],\"steps\":[");
	for (size_t i = 0; i < s->nsteps; i++) {
		const fp_step_sample_t *st = &s->steps[i];
		struct wstep *sl;

		_puts(w, i ? ",{\"id\":" : "{\"id\":");
		_put_str(w, st->id);
		_puts(w, ",\"job\":");
		_put_u64(w, st->job);
		_puts(w, ",\"alloc\":[");
		for (size_t k = 0; k < st->nalloc; k++) {
			if (k)
				_put(w, ",", 1);
			_put_int(w, st->alloc[k]);
		}
		sl = _slot(w, i, st->id);
		/* a pair costs about 4 counters of the whole array, most of
		 * whose counters are another CPU's 0: pairs only where they
		 * are not longer, so a small node's trace does not grow */
		if (sl && !key && sl->seen == m - 1 && w->at &&
		    (nmoved = _moved(sl, st->cpu_ns, d->cpus, d->cpus / 4,
				     w->at)) <= d->cpus / 4) {
			_puts(w, "],\"cpu_ns_moved\":[");
			_put_moved(w, sl, st->cpu_ns, w->at, nmoved);
		} else if (sl) {
			_puts(w, "],\"cpu_ns\":[");
			_put_cached(w, sl, st->cpu_ns, d->cpus);
		} else {
			_puts(w, "],\"cpu_ns\":[");
			_put_u64s(w, st->cpu_ns, d->cpus);
		}
		if (sl)
			sl->seen = m;
		_puts(w, "]");
		for (size_t k = 0; k < st->ngpus; k++) {
			_puts(w, k ? "," : ",\"gpus\":[");
			_put_int(w, st->gpus[k]);
		}
		if (st->ngpus)
			_puts(w, "]");
		for (size_t k = 0; st->gpu_busy && k < st->ngpus; k++) {
			_puts(w, k ? "," : ",\"gpu_busy\":[");
			if (!st->gpu_busy_valid || st->gpu_busy_valid[k])
				_put_u64(w, st->gpu_busy[k]);
			else
				_puts(w, "null");
		}
		if (st->gpu_busy && st->ngpus)
			_puts(w, "]");
		_puts(w, "}");
	}
	_puts(w, "]}\n");
	if (_emit(w, err)) {
		w->force_key = true;
		return -1;
	}
	w->have_t = true;
	w->t_prev = s->t;
	w->nlines = m;
	w->since_key = key ? 0 : w->since_key + 1;
	w->force_key = false;
	return 0;
}

uint64_t fp_trace_writer_bytes(const fp_trace_writer_t *w)
{
	return w->bytes;
}

int fp_trace_writer_flush(fp_trace_writer_t *w, fp_error_t *err)
{
	fp_error_clear(err);
	if (w->zc && _zpush(w, ZSTD_e_flush, err))
		return -1;
	if (fflush(w->f))
		return fp_error_set(err, FP_EIO, "trace writer: %s",
				    strerror(errno));
	return 0;
}

int fp_trace_writer_close(fp_trace_writer_t *w, fp_error_t *err)
{
	int rc = 0;

	fp_error_clear(err);
	if (!w)
		return 0;
	if (w->zc && _zpush(w, ZSTD_e_end, err))
		rc = -1;
	if (!rc && (fflush(w->f) || ferror(w->f)))
		rc = fp_error_set(err, FP_EIO, "trace writer: %s",
				  strerror(errno ? errno : EIO));
	if (w->own && fclose(w->f) && !rc)
		rc = fp_error_set(err, FP_EIO, "trace writer: %s",
				  strerror(errno));
	for (size_t i = 0; i < w->nslots; i++)
		_slot_clear(&w->slots[i]);
	free(w->slots);
	free(w->at);
	fp_sample_node_desc_free(w->desc);
	ZSTD_freeCCtx(w->zc);
	free(w->zout);
	free(w->buf);
	free(w);
	return rc;
}

void fp_trace_writer_free(fp_trace_writer_t *w)
{
	fp_trace_writer_close(w, NULL);
}
