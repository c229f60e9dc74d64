/* Private to the trace writer (trace_writer.c, trace_put.c): its state, and
 * the appends to its line buffer. */
#ifndef FP_TRACE_WRITER_H
#define FP_TRACE_WRITER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <zstd.h>

#include "footprint/trace.h"

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

/* trace_put.c */
void fp_trace_put_reserve(fp_trace_writer_t *w, size_t k);
void fp_trace_put_slow(fp_trace_writer_t *w, const char *s, size_t k);
char *fp_trace_put_u64_text(char *end, uint64_t v);
void fp_trace_put_u64s(fp_trace_writer_t *w, const uint64_t *v, size_t n);
void fp_trace_put_double(fp_trace_writer_t *w, double v);
void fp_trace_put_str(fp_trace_writer_t *w, const char *s);

/* Inline, so that a sample's thousand short pieces (keys, brackets,
 * commas: a fifth of the writer's instructions as calls) are a copy each,
 * and fp_trace_puts of a literal a copy of known size. */
static inline void fp_trace_put(fp_trace_writer_t *w, const char *s, size_t k)
{
	if (w->len + k <= w->cap) {
		memcpy(w->buf + w->len, s, k);
		w->len += k;
		return;
	}
	fp_trace_put_slow(w, s, k);
}

static inline void fp_trace_puts(fp_trace_writer_t *w, const char *s)
{
	fp_trace_put(w, s, strlen(s));
}

static inline void fp_trace_put_u64(fp_trace_writer_t *w, uint64_t v)
{
	char tmp[24], *p = fp_trace_put_u64_text(tmp + sizeof(tmp), v);

	fp_trace_put(w, p, (size_t)(tmp + sizeof(tmp) - p));
}

static inline void fp_trace_put_int(fp_trace_writer_t *w, long long v)
{
	if (v < 0) {
		fp_trace_put(w, "-", 1);
		fp_trace_put_u64(w, (uint64_t)(-(v + 1)) + 1);
	} else {
		fp_trace_put_u64(w, (uint64_t)v);
	}
}

#endif
