/* Private to the trace reader (trace_reader.c, trace_input.c, trace_header.c,
 * trace_sample.c, trace_compact.c, trace_scan.c): its state, their calls. */
#ifndef FP_TRACE_READER_H
#define FP_TRACE_READER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <zstd.h>

#include "footprint/trace.h"

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

/* trace_input.c: reads the first chunk and tells the forms apart; then the
 * next line into r->line (its length, 0 at the end, -1 on error). */
int fp_trace_input_sniff(fp_trace_reader_t *r, fp_error_t *err);
ssize_t fp_trace_input_getline(fp_trace_reader_t *r, bool skip_blank,
			       bool stop_at_nul, fp_error_t *err);

/* trace_header.c: line 1, len bytes in r->line, into r->desc. */
int fp_trace_header_parse(fp_trace_reader_t *r, size_t len, fp_error_t *err);

/* trace_sample.c: the line r->text (r->p to r->end) into r->sample; -1 with
 * r->fault set. */
int fp_trace_sample_parse(fp_trace_reader_t *r);

/* trace_compact.c: a step's cpu_ns_moved, applied to its base once the
 * step is read; the bases set aside before a sample, and after it. */
int fp_trace_compact_step_moves(fp_trace_reader_t *r, const char *field);
int fp_trace_compact_step_base(fp_trace_reader_t *r, size_t i,
			       const char *field);
int fp_trace_compact_rotate(fp_trace_reader_t *r);
void fp_trace_compact_settle(fp_trace_reader_t *r);

#endif
