/* The reference attribution of trace v1 (docs/trace-format.md): turns a
 * node's stream of samples into per-step, per-job and node energy, live or in
 * replay. */
#ifndef FP_ENGINE_H
#define FP_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "sample.h"
#include "source.h"

/* Relative margin by which a wall delta may fall below the RAPL delta of
 * the same interval (the two are not sampled at exactly the same
 * instants). Below it the meter is at fault: a meter upstream of the
 * power supply cannot see less than the CPUs and memory consume. */
#define FP_WALL_RAPL_TOLERANCE 0.05

/* The wall delta is plausible against RAPL's over the same interval (a
 * RAPL delta <= 0 or not finite: nothing to check against). */
bool fp_engine_wall_plausible(double wall_delta_j, double rapl_delta_j);

typedef struct fp_engine_opts {
	bool calibration; /* learn wall = a*rapl + b*dt (default true) */
	unsigned min_calibration_intervals; /* before it is used (30) */
	unsigned min_idle_intervals; /* before regressed idle is used (10) */
	/* drop a wall delta below RAPL's (fp_engine_wall_plausible) as a
	 * meter fault (default false: trace-v1's reference attribution
	 * takes every wall as written; the live poller sets it and writes
	 * a dropped wall's sample without it, so its traces replay the same
	 * either way) */
	bool wall_check;
} fp_engine_opts_t;

void fp_engine_opts_default(fp_engine_opts_t *opts);

typedef struct fp_calibration {
	bool fitted;	    /* a and b_w are defined */
	bool active;	    /* fitted and enough intervals: used for node */
	double a;	    /* wall J per package+dram(+GPU) J */
	double b_w;	    /* wall W not seen by RAPL */
	uint64_t intervals; /* intervals the fit learned from */
} fp_calibration_t;

typedef struct fp_engine_node {
	uint64_t samples;   /* pushed, baseline included */
	double seconds;	    /* from the baseline to the last sample */
	double energy_j;    /* from wall / psys / calibrated / rapl */
	double power_w;	    /* node power over the last interval */
	fp_source_t source; /* source of the last interval */
	double source_s[FP_SOURCE_COUNT]; /* seconds per source */
	double rapl_j;			  /* package + dram */
	double residual_j;		  /* energy_j - rapl_j - gpu_j */
	double idle_j;	       /* unallocated CPUs + residual share */
	double gpu_j;	       /* sum of the GPUs' energy (0: none) */
	double gpu_idle_j;     /* GPUs nobody held + residual share */
	double system_j;       /* dynamic outside steps + residual share */
	bool idle_w_estimated; /* some domain's idle power was estimated */
	fp_calibration_t calibration;
	/* the last interval's wall delta against RAPL's (both read in full,
	 * wraps counted): checked, and found below it (the wall then dropped
	 * for that interval and the next, as if it had not read: the poller
	 * logs it and traces it so) */
	bool wall_checked, wall_below_rapl;
	double wall_delta_j, rapl_delta_j; /* of the last check */
	uint64_t walls_below_rapl;	   /* intervals so dropped */
} fp_engine_node_t;

typedef struct fp_engine_step {
	const char *id; /* valid until the step is forgotten */
	uint64_t job;
	double energy_j;  /* dynamic + static + gpu + residual */
	double dynamic_j; /* RAPL only, as static_j */
	double static_j;
	double residual_j;
	/* dynamic_j + static_j by domain kind: what the package domains
	 * and the dram domains gave it (spec steps 2-3 share each domain
	 * alike); cpu_j + dram_j = dynamic_j + static_j to rounding */
	double cpu_j, dram_j;
	double gpu_j; /* its GPUs' share, before the residual */
	/* gpu_j by device: [g] is its share of the node's GPU g (desc
	 * order), ngpus long; they sum to gpu_j to rounding (one GPU:
	 * exactly). NULL on a node without GPUs; valid as id. */
	const double *gpu_dev_j;
	size_t ngpus;
	/* energy_j by where the node's energy came from in each interval
	 * (spec step 4): they sum to energy_j to rounding */
	double source_j[FP_SOURCE_COUNT];
	double seconds; /* time present in the samples */
	double power_w; /* last interval; 0 when absent from it */
	bool present;	/* in the latest sample */
	double first_t; /* sample where it first appeared */
	double last_t;	/* latest sample where it was present */
} fp_engine_step_t;

typedef struct fp_job_result {
	uint64_t job;
	double energy_j;
	double dynamic_j;
	double static_j;
	double residual_j;
	double cpu_j, dram_j; /* as the steps' */
	double gpu_j;
	double seconds; /* time with at least one step present */
	double power_w; /* last interval; 0 when absent from it */
	bool present;
} fp_job_result_t;

typedef struct fp_engine fp_engine_t;

/* desc is copied; opts may be NULL for the defaults. */
fp_engine_t *fp_engine_new(const fp_node_desc_t *desc,
			   const fp_engine_opts_t *opts, fp_error_t *err);
void fp_engine_free(fp_engine_t *engine);
const fp_node_desc_t *fp_engine_desc(const fp_engine_t *engine);

/* Attributes the interval that ends at s. The first sample is the baseline.
 * A sample whose t is not after the previous one, or whose steps are
 * inconsistent, is rejected and leaves the engine as it was. */
int fp_engine_push(fp_engine_t *engine, const fp_sample_t *s, fp_error_t *err);

void fp_engine_node(const fp_engine_t *engine, fp_engine_node_t *out);
/* Idle power used for the next interval of a domain (given, or estimated
 * from past intervals; 0 while nothing is known yet); *estimated, if not
 * NULL, tells which. */
double fp_engine_idle_w(const fp_engine_t *engine, size_t domain,
			bool *estimated);

/* Steps, present or ended but not forgotten. Returns 0, or -1 if unknown. */
int fp_engine_step(const fp_engine_t *engine, const char *id,
		   fp_engine_step_t *out);
size_t fp_engine_nsteps(const fp_engine_t *engine);
/* i < fp_engine_nsteps(); the order changes when steps are forgotten. */
void fp_engine_step_at(const fp_engine_t *engine, size_t i,
		       fp_engine_step_t *out);

/* Jobs: totals over all their steps, forgotten ones included. */
int fp_engine_job(const fp_engine_t *engine, uint64_t job,
		  fp_job_result_t *out);
size_t fp_engine_njobs(const fp_engine_t *engine);
void fp_engine_job_at(const fp_engine_t *engine, size_t i,
		      fp_job_result_t *out);

/* Drops a step that is absent from the latest sample (a present one would
 * be counted again from 0 if dropped). A job goes with its last step.
 * Returns 1 if dropped, 0 otherwise. Its energy stays in the node balance. */
int fp_engine_forget_step(fp_engine_t *engine, const char *id);
/* Drops every step absent for at least `seconds`; returns how many. */
size_t fp_engine_forget_absent(fp_engine_t *engine, double seconds);

/* Spec step 5: sum(steps) + system + idle + gpu_idle == node within 1e-9
 * relative, over everything pushed. FP_ECONSERV with the figures otherwise. */
int fp_engine_check_conservation(const fp_engine_t *engine, fp_error_t *err);

#endif
