/* Node energy trace v1 (docs/trace-format.md): reading a trace into
 * fp_node_desc_t / fp_sample_t, and recording samples as one. */
#ifndef FP_TRACE_H
#define FP_TRACE_H

#include <stdint.h>
#include <stdio.h>

#include "error.h"
#include "sample.h"

typedef struct fp_trace_reader fp_trace_reader_t;

/* Longest line read (64 MiB: a sample of 1024 CPUs and 1000 steps is about
 * 20 MiB); a longer one is an error, so /dev/zero or an endless line do
 * not grow memory without bound. */
#define FP_TRACE_LINE_MAX (64 << 20)
/* Values beyond these are refused, naming the line: t is a Unix time before
 * the year 10000; wall_j a meter's cumulative joules (1e18 J is 30 GW for a
 * year). An energy_uj above its domain's max_energy_range_uj is refused
 * too. */
#define FP_TRACE_T_MAX 253402300800.0
#define FP_TRACE_WALL_J_MAX 1e18

/* Opens path ("-" = standard input) and reads the header. Either form of
 * fp_trace_form_t below is read, told apart by its first bytes. Errors name the
 * input and the line: "trace.jsonl: line 1: missing header ...". */
fp_trace_reader_t *fp_trace_reader_open(const char *path, fp_error_t *err);
/* Same on an open stream, which stays the caller's; name is for messages. */
fp_trace_reader_t *fp_trace_reader_new(FILE *f, const char *name,
				       fp_error_t *err);
void fp_trace_reader_free(fp_trace_reader_t *r);

const fp_node_desc_t *fp_trace_reader_desc(const fp_trace_reader_t *r);
/* Reads the next sample into a sample owned by the reader and reused at
 * every call (do not free it or change its steps). Returns 1 with *s set, 0
 * at the end, -1 on malformed input or a read error. Blank lines are
 * skipped; t must increase strictly; values beyond the limits above are
 * refused. */
int fp_trace_reader_next(fp_trace_reader_t *r, const fp_sample_t **s,
			 fp_error_t *err);
/* After fp_trace_reader_next returned 0: how the current file ended when
 * it did not end well, or NULL. A zstd stream cut inside a frame (the writer
 * killed: its last complete block ends a sample line) replays up to that
 * line with this warning: "t.jsonl.zst: the zstd stream is cut short after
 * line 9 ...". Bad zstd data is an error naming the file. A last line cut short (no newline at the
 * end) that does not parse, or one that ends in NUL bytes (a crash), is
 * skipped with this warning: "t.jsonl: line 9: cut short ... replayed up to
 * line 8". Owned by the reader. */
const char *fp_trace_reader_warning(const fp_trace_reader_t *r);
/* Goes on with the next file of the same node (rotated traces, in order):
 * reads path's header, which must equal the first one (else FP_EINVAL
 * naming what differs), then fp_trace_reader_next reads path's samples,
 * t still increasing strictly across the files. On failure r is left at
 * the end of its file. */
int fp_trace_reader_continue(fp_trace_reader_t *r, const char *path,
			     fp_error_t *err);
/* The name of the input being read ("stdin" for "-"). */
const char *fp_trace_reader_name(const fp_trace_reader_t *r);
/* Line number of the line read last (1 = header) in the current file. */
size_t fp_trace_reader_line(const fp_trace_reader_t *r);
uint64_t fp_trace_reader_bytes(const fp_trace_reader_t *r);

typedef struct fp_trace_writer fp_trace_writer_t;

/* The two forms of a trace file: JSON Lines, or a zstd stream of the same
 * lines (.jsonl.zst), which readers tell apart by its magic bytes. */
typedef enum fp_trace_form {
	FP_TRACE_PLAIN,
	FP_TRACE_ZSTD,
} fp_trace_form_t;
/* Compression level of FP_TRACE_ZSTD: on the benchmark node level 1 gave
 * smaller files than 3 (a flush per sample; the lines repeat the last one)
 * at about half the CPU. */
#define FP_TRACE_ZSTD_LEVEL 1

/* The compact form (docs/trace-format.md, "Compact traces"): a sample's
 * steps carry their counters only where they moved since the previous
 * sample ("cpu_ns_moved", which a v1 reader refuses for lack of cpu_ns),
 * and a keyframe, a sample written whole, comes first in each file and at
 * least every FP_TRACE_KEYFRAME samples. Either form of fp_trace_form_t
 * may be compact; readers read both. 300: at 1 Hz the benchmark node's
 * whole sample once in 5 minutes adds 0.16 kB/s to the compact lines. */
#define FP_TRACE_KEYFRAME 300
#define FP_TRACE_KEYFRAME_MAX 1000000

/* Creates (truncates) path, "-" = standard output, and writes the header
 * as plain JSON Lines. */
fp_trace_writer_t *fp_trace_writer_open(const char *path,
					const fp_node_desc_t *desc,
					fp_error_t *err);
/* Same in the given form. */
fp_trace_writer_t *fp_trace_writer_open_as(const char *path,
					   const fp_node_desc_t *desc,
					   fp_trace_form_t form,
					   fp_error_t *err);
/* Same on an open stream, which stays the caller's. */
fp_trace_writer_t *fp_trace_writer_new(FILE *f, const fp_node_desc_t *desc,
				       fp_error_t *err);
fp_trace_writer_t *fp_trace_writer_new_as(FILE *f, const fp_node_desc_t *desc,
					  fp_trace_form_t form,
					  fp_error_t *err);
/* Same, compact with a keyframe every keyframe samples (1 to
 * FP_TRACE_KEYFRAME_MAX; 0: every sample whole, as above). */
fp_trace_writer_t *fp_trace_writer_open_compact(const char *path,
						const fp_node_desc_t *desc,
						fp_trace_form_t form,
						unsigned keyframe,
						fp_error_t *err);
fp_trace_writer_t *fp_trace_writer_new_compact(FILE *f,
					       const fp_node_desc_t *desc,
					       fp_trace_form_t form,
					       unsigned keyframe,
					       fp_error_t *err);
/* Appends one sample as one line. A t not after the previous one is
 * refused, so what is written always reads back. */
int fp_trace_writer_write(fp_trace_writer_t *w, const fp_sample_t *s,
			  fp_error_t *err);
/* Bytes written to the file so far, header included (for rotation by size):
 * compressed bytes in FP_TRACE_ZSTD, counted as they leave the compressor,
 * so up to a block less than the file will have until the next flush. */
uint64_t fp_trace_writer_bytes(const fp_trace_writer_t *w);
/* Writes out what is buffered. In FP_TRACE_ZSTD it ends a zstd block, so
 * that a file cut after it (a killed slurmd) replays every sample written
 * before the flush: the poller flushes after every sample. */
int fp_trace_writer_flush(fp_trace_writer_t *w, fp_error_t *err);
/* Flushes, closes a stream it opened, frees; reports a failed write. */
int fp_trace_writer_close(fp_trace_writer_t *w, fp_error_t *err);
/* fp_trace_writer_close() ignoring errors; NULL is a no-op. */
void fp_trace_writer_free(fp_trace_writer_t *w);

#endif
