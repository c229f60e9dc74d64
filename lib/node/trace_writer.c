/* The trace writer (footprint/trace.h): the header and each sample as one
 * line, plain or through zstd, each step's counters whole or compact. */
#include "trace_writer.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "footprint/file.h"

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

/* Whether the 8 counters from a on are those from b on: one test for 8
 * counters that did not move, as most do not. */
static inline bool _same8(const uint64_t *a, const uint64_t *b)
{
	uint64_t d = 0;

	for (size_t j = 0; j < 8; j++)
		d |= a[j] ^ b[j];
	return !d;
}

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
			if (!(c & 7) && c + 8 <= n &&
			    _same8(sl->val + c, v + c)) {
				c += 7;
				continue;
			}
			if (sl->val[c] == v[c])
				continue;
			cell = sl->txt + c * CELL;
			p = fp_trace_put_u64_text(cell + CELL, v[c]);
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
			fp_trace_put(w, sl->arr, sl->arrlen);
			return;
		}
	}
	if (!sl->off && !(sl->off = malloc(n * sizeof(*sl->off)))) {
		/* the cache still holds what was written: the compact form's
		 * next pairs are taken against it */
		memcpy(sl->val, v, n * sizeof(*v));
		memset(sl->len, 0, n);
		fp_trace_put_u64s(w, v, n);
		return;
	}
	fp_trace_put_reserve(w, n * (CELL + 1) + 16);
	if (w->nomem)
		return;
	o = start = w->buf + w->len;
	for (size_t c = 0; c < n; c++) {
		char *cell = sl->txt + c * CELL;
		size_t k;

		if (!sl->len[c] || sl->val[c] != v[c]) {
			char *p = fp_trace_put_u64_text(cell + CELL, v[c]);

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
		if (!(c & 7) && c + 8 <= n && _same8(sl->val + c, v + c)) {
			c += 7;
			continue;
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
		p = fp_trace_put_u64_text(e, v[c]);
		*--p = ',';
		p = fp_trace_put_u64_text(p, c);
		*--p = '[';
		if (i)
			*--p = ',';
		fp_trace_put(w, p, (size_t)(tmp + sizeof(tmp) - p));
		sl->val[c] = v[c];
		sl->len[c] = 0;
	}
	if (k)
		sl->arr_ok = false;
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

	fp_trace_puts(w, "{\"footprint_trace\":1,\"node\":");
	fp_trace_put_str(w, d->node ? d->node : "");
	fp_trace_puts(w, ",\"cpus\":");
	fp_trace_put_u64(w, d->cpus);
	if (d->activity_cycles)
		fp_trace_puts(w, ",\"activity\":\"cycles\"");
	if (w->compact) {
		fp_trace_puts(w, ",\"compact\":");
		fp_trace_put_u64(w, w->compact);
	}
	fp_trace_puts(w, ",\"packages\":[");
	for (size_t i = 0; i < d->npackages; i++) {
		fp_trace_puts(w, i ? ",{\"id\":" : "{\"id\":");
		fp_trace_put_int(w, d->packages[i].id);
		fp_trace_puts(w, ",\"cpus\":[");
		for (size_t k = 0; k < d->packages[i].ncpus; k++) {
			if (k)
				fp_trace_put(w, ",", 1);
			fp_trace_put_int(w, d->packages[i].cpus[k]);
		}
		fp_trace_puts(w, "]}");
	}
	fp_trace_puts(w, "],\"domains\":[");
	for (size_t i = 0; i < d->ndomains; i++) {
		const fp_domain_t *dm = &d->domains[i];

		fp_trace_puts(w, i ? ",{\"name\":" : "{\"name\":");
		fp_trace_put_str(w, dm->name);
		fp_trace_puts(w, ",\"kind\":\"");
		fp_trace_puts(w, _kind_name(dm->kind));
		fp_trace_puts(w, "\"");
		if (dm->kind != FP_DOMAIN_PSYS) {
			fp_trace_puts(w, ",\"package\":");
			fp_trace_put_int(w, dm->package);
		}
		fp_trace_puts(w, ",\"max_energy_range_uj\":");
		fp_trace_put_u64(w, dm->max_energy_range_uj);
		fp_trace_puts(w, "}");
		any_idle |= dm->idle_w >= 0;
	}
	fp_trace_puts(w, "]");
	if (any_idle) {
		bool first = true;

		fp_trace_puts(w, ",\"idle_w\":{");
		for (size_t i = 0; i < d->ndomains; i++) {
			if (!(d->domains[i].idle_w >= 0))
				continue;
			if (!first)
				fp_trace_put(w, ",", 1);
			first = false;
			fp_trace_put_str(w, d->domains[i].name);
			fp_trace_put(w, ":", 1);
			fp_trace_put_double(w, d->domains[i].idle_w);
		}
		fp_trace_puts(w, "}");
	}
	/* only with GPUs: a trace without them stays byte for byte v1 */
	for (size_t i = 0; i < d->ngpus; i++) {
		const fp_node_gpu_t *g = &d->gpus[i];

		fp_trace_puts(w, i ? ",{\"index\":" : ",\"gpus\":[{\"index\":");
		fp_trace_put_u64(w, i);
		fp_trace_puts(w, ",\"uuid\":");
		fp_trace_put_str(w, g->uuid ? g->uuid : "");
		fp_trace_puts(w, ",\"vendor\":");
		fp_trace_put_str(w, g->vendor ? g->vendor : "");
		fp_trace_puts(w, ",\"max_energy_uj\":");
		if (g->max_energy_uj)
			fp_trace_put_u64(w, g->max_energy_uj);
		else
			fp_trace_puts(w, "null");
		if (g->idle_w >= 0) {
			fp_trace_puts(w, ",\"idle_w\":");
			fp_trace_put_double(w, g->idle_w);
		}
		fp_trace_puts(w, g->power_integral
					 ? ",\"source\":\"power-integral\"}"
					 : ",\"source\":\"counter\"}");
		if (i + 1 == d->ngpus)
			fp_trace_puts(w, "]");
	}
	fp_trace_puts(w, "}\n");
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
	fp_trace_puts(w, "{\"t\":");
	fp_trace_put_double(w, s->t);
	fp_trace_puts(w, ",\"energy_uj\":{");
	for (size_t i = 0; i < d->ndomains; i++) {
		if (!first)
			fp_trace_put(w, ",", 1);
		first = false;
		fp_trace_put_str(w, d->domains[i].name);
		fp_trace_put(w, ":", 1);
		if (s->energy_valid[i])
			fp_trace_put_u64(w, s->energy_uj[i]);
		else
			fp_trace_puts(w, "null");
	}
	fp_trace_puts(w, "}");
	for (size_t g = 0; g < d->ngpus; g++) {
		fp_trace_puts(w, g ? "," : ",\"gpu_energy_uj\":[");
		if (s->gpu_energy_uj && s->gpu_valid && s->gpu_valid[g])
			fp_trace_put_u64(w, s->gpu_energy_uj[g]);
		else
			fp_trace_puts(w, "null");
		if (g + 1 == d->ngpus)
			fp_trace_puts(w, "]");
	}
	if (s->wall_valid && isfinite(s->wall_j)) {
		fp_trace_puts(w, ",\"wall_j\":");
		fp_trace_put_double(w, s->wall_j);
	}
	fp_trace_puts(w, ",\"cpu_busy_ns\":[");
	fp_trace_put_u64s(w, s->cpu_busy_ns, d->cpus);
	fp_trace_puts(w, "],\"steps\":[");
	for (size_t i = 0; i < s->nsteps; i++) {
		const fp_step_sample_t *st = &s->steps[i];
		struct wstep *sl;

		fp_trace_puts(w, i ? ",{\"id\":" : "{\"id\":");
		fp_trace_put_str(w, st->id);
		fp_trace_puts(w, ",\"job\":");
		fp_trace_put_u64(w, st->job);
		fp_trace_puts(w, ",\"alloc\":[");
		for (size_t k = 0; k < st->nalloc; k++) {
			if (k)
				fp_trace_put(w, ",", 1);
			fp_trace_put_int(w, st->alloc[k]);
		}
		sl = _slot(w, i, st->id);
		/* a pair costs about 4 counters of the whole array, most of
		 * whose counters are another CPU's 0: pairs only where they
		 * are not longer, so a small node's trace does not grow */
		if (sl && !key && sl->seen == m - 1 && w->at &&
		    (nmoved = _moved(sl, st->cpu_ns, d->cpus, d->cpus / 4,
				     w->at)) <= d->cpus / 4) {
			fp_trace_puts(w, "],\"cpu_ns_moved\":[");
			_put_moved(w, sl, st->cpu_ns, w->at, nmoved);
		} else if (sl) {
			fp_trace_puts(w, "],\"cpu_ns\":[");
			_put_cached(w, sl, st->cpu_ns, d->cpus);
		} else {
			fp_trace_puts(w, "],\"cpu_ns\":[");
			fp_trace_put_u64s(w, st->cpu_ns, d->cpus);
		}
		if (sl)
			sl->seen = m;
		fp_trace_puts(w, "]");
		for (size_t k = 0; k < st->ngpus; k++) {
			fp_trace_puts(w, k ? "," : ",\"gpus\":[");
			fp_trace_put_int(w, st->gpus[k]);
		}
		if (st->ngpus)
			fp_trace_puts(w, "]");
		for (size_t k = 0; st->gpu_busy && k < st->ngpus; k++) {
			fp_trace_puts(w, k ? "," : ",\"gpu_busy\":[");
			if (!st->gpu_busy_valid || st->gpu_busy_valid[k])
				fp_trace_put_u64(w, st->gpu_busy[k]);
			else
				fp_trace_puts(w, "null");
		}
		if (st->gpu_busy && st->ngpus)
			fp_trace_puts(w, "]");
		fp_trace_puts(w, "}");
	}
	fp_trace_puts(w, "]}\n");
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
