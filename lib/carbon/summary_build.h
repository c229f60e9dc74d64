/* What the summary's files share, private to them: the JSON form of a
 * figure, and the GPUs a job held as summed from its nodes' step records. */
#ifndef FP_SUMMARY_BUILD_H
#define FP_SUMMARY_BUILD_H

#include <math.h>
#include <stdbool.h>
#include <stddef.h>

#include "footprint/summary.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_SORT_KEYS)

/* Full precision: fp_json_dumps writes each figure in its shortest exact
 * form (a small job's 0.0004 Wh, ERF and ERE to the last digit); the text
 * reports round for people. Undefined ratios (no energy) are null, never
 * NaN. */
static inline json_t *num(double x)
{
	if (!isfinite(x))
		return json_null();
	if (x == 0)
		x = 0; /* no "-0.0" */
	return json_real(x);
}

static inline json_t *wh(double j)
{
	return num(j / 3600.0);
}

/* energy_j, cpu_dram_j, gpu_j, rest_j, cpu_j, dram_j */
#define NPARTS 6

struct held {
	const char *node;
	json_int_t index;
	json_t *gpu;   /* the first record's GPU object */
	json_t *steps; /* ids of the steps that held it */
	double energy_j, floor_w;
	bool even; /* some record's share was given evenly */
	/* over its steps' records: the seconds each held it, and of them
	 * idle, judged and unread (step.h); untimed: a record without
	 * them, so idleness is judged by the mean power instead */
	double step_s, idle_s, judged_s, unread_s;
	bool untimed;
	double (*span)[2]; /* each step's [start, end] on it */
	size_t nspan;
};

/* summary_held.c: adds record p to the sums and its GPUs to h (-1 out of
 * memory), and the "gpus" element of one GPU held. */
int fp_summary_held_add(json_t *p, double sum[NPARTS], struct held **h,
			size_t *nh);
json_t *fp_summary_held_json(const fp_result_t *r, const struct held *h);

/* summary_parts.c: how record p's node measured its step. */
fp_energy_source_t fp_summary_parts_record_source(const json_t *p);

#endif
