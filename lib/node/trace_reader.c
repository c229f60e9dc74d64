/* The trace reader (footprint/trace.h): a trace opened, its samples one by
 * one with the warnings of a file cut short, and rotated files read on. */
#include "trace_reader.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

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
	if (fp_trace_input_sniff(r, err))
		goto fail;
	n = fp_trace_input_getline(r, false, true, err);
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
	if (fp_trace_header_parse(r, (size_t)n, err))
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

/* A line that does not read. The last line of a trace a crash cut (no
 * newline at its end) is what the crash left: a warning saying so, and the
 * replay ends at the line before (0). Anywhere else the fault is an error
 * (-1). */
static int _bad_line(fp_trace_reader_t *r, const char *cut, const char *fault,
		     fp_error_t *err)
{
	if (r->unterminated) {
		snprintf(r->warning, sizeof(r->warning),
			 "%s: line %zu: %s: ignored, replayed up to line %zu",
			 r->name, r->lineno, cut, r->lineno - 1);
		return 0;
	}
	return fp_error_set(err, FP_EPARSE, "%s: line %zu: %s", r->name,
			    r->lineno, fault);
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
	n = fp_trace_input_getline(r, true, false, err);
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
	if (r->nul_col) {
		char cut[128], fault[64];

		snprintf(cut, sizeof(cut),
			 "ends in NUL bytes from column %zu (a crash before "
			 "the file was written out)",
			 r->nul_col);
		snprintf(fault, sizeof(fault), "a NUL byte at column %zu",
			 r->nul_col);
		return _bad_line(r, cut, fault, err);
	}
	r->text = r->p = r->line;
	r->end = r->line + n;
parse:
	if (fp_trace_sample_parse(r)) {
		char cut[300];

		r->sample->nsteps = 0;
		snprintf(cut, sizeof(cut),
			 "cut short (no newline at the end, the writer "
			 "stopped mid-line: %.200s)",
			 r->fault);
		return _bad_line(r, cut, r->fault, err);
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
