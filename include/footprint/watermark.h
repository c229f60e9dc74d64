/* The reconciliation watermark: the latest job end time footprint-worker
 * has reconciled against slurmdbd, kept in the spool across runs and crashes
 * so a pass asks only for the jobs that ended since. */
#ifndef FP_WATERMARK_H
#define FP_WATERMARK_H

#include <time.h>

#include "error.h"

/* The file holds one line, "fp-watermark 1 <end, seconds since the epoch>".
 * Returns 0 with *end set; 1 when the file does not exist (a new spool, or
 * removed: the caller sweeps); -1 when it cannot be read or does not hold
 * exactly that (damaged, truncated, a time before 2000 or more than a day
 * ahead of now), err naming the file and the fault. */
int fp_watermark_read(const char *path, time_t now, time_t *end,
		      fp_error_t *err);

/* Replaces the file with `end` atomically and durably: a temporary file
 * beside it, fsync, rename, fsync of the folder; a crash leaves the old
 * watermark or the new one, never a half-written one. -1 with err. */
int fp_watermark_write(const char *path, time_t end, fp_error_t *err);

#endif
