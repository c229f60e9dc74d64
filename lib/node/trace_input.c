/* Where the trace reader's lines come from: the input read in chunks, or
 * decompressed from zstd, and split into lines of capped length. */
#include "trace_reader.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

/* Input is read in chunks of this size and split on newlines here, so that
 * a line can be capped (getline grows without bound on /dev/zero). */
#define CHUNK 65536
/* The lines are taken from a buffer of this size (the input read into it,
 * or decompressed into it): a line wholly in it is parsed where it is, and
 * on a 128-CPU node a sample is ~50 kB, most of a 64 KiB buffer. */
#define IBUF (1 << 20)

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
ssize_t fp_trace_input_getline(fp_trace_reader_t *r, bool skip_blank,
			       bool stop_at_nul, fp_error_t *err)
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
int fp_trace_input_sniff(fp_trace_reader_t *r, fp_error_t *err)
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
