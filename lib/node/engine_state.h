/* The attribution engine's state, private to lib/node/engine*.c: the records,
 * their indexes and the per-push scratch that those files share. */
#ifndef FP_ENGINE_STATE_H
#define FP_ENGINE_STATE_H

#include "footprint/engine.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define EMPTY UINT32_MAX

/* Open-addressing index from a key hash to a record number; records live in
 * dense arrays so a push walks memory linearly. */
struct slot {
	uint64_t hash;
	uint32_t idx;
};

struct index {
	struct slot *slots;
	size_t mask;
	size_t n;
};

struct domain_state {
	fp_domain_kind_t kind;
	int pkg; /* index in desc->packages, -1 for psys */
	uint64_t max;
	double idle_given; /* < 0: estimate it */
	bool have_last;
	uint64_t last; /* last valid raw value */
	double last_t;
	bool valid_prev; /* the previous sample read it */
	/* idle regression: power against package activity fraction */
	double n, sx, sy, sxx, sxy, ymin;
	/* this interval */
	double e, s, d, span;
	bool exact; /* read at both ends of the interval */
};

/* One GPU (the accelerators extension of trace v1). */
struct gpu_state {
	uint64_t max;  /* 0: never wraps */
	double idle_w; /* < 0: not given, all dynamic */
	bool have_last;
	uint64_t last;
	double last_t;
	bool valid_prev;
	/* this interval */
	double e, s, d;
	bool exact;
};

struct step_rec {
	char *id;
	uint64_t hash;
	uint64_t job;
	uint64_t *prev; /* cpu_ns at the last sample it was in */
	uint64_t seq;	/* that sample's seq (0: none or unknown) */
	/* gpu_busy of each GPU at the last sample it was in, and whether
	 * there was one (NULL on a node without GPUs) */
	uint64_t *gbusy;
	bool *gbusy_have;
	double *gdev; /* its share of each GPU (NULL: no GPUs) */
	double energy, dynamic, stat, residual, gpu, seconds, power;
	double cpu, dram;		/* dynamic + stat by domain kind */
	double source[FP_SOURCE_COUNT]; /* energy by the node's source */
	double first_t, last_t;
	uint64_t seen;	/* push number when last present */
	uint64_t stamp; /* duplicate detection within one sample */
};

struct job_rec {
	uint64_t job;
	double energy, dynamic, stat, residual, gpu, seconds, power;
	double cpu, dram;
	uint64_t seen;
	size_t nsteps;	   /* step records still held */
	double interval_j; /* scratch: this interval's energy */
};

struct fp_engine {
	fp_node_desc_t *desc;
	fp_engine_opts_t opts;
	size_t cpus, npkg, ndom;
	int *cpu_pkg; /* package index of each CPU, -1 if none */
	struct domain_state *dom;
	size_t ngpu;
	struct gpu_state *gpu;

	bool have_base;
	uint64_t npush; /* successful pushes, baseline included */
	uint64_t stamp, mark;
	double t_prev, t_first;
	uint64_t *busy_prev;
	bool wall_prev_valid;
	double wall_prev;
	bool wall_checked, wall_below; /* the last interval's */
	double wall_delta, rapl_delta;
	uint64_t walls_below;

	struct step_rec *steps;
	size_t nsteps, steps_cap;
	struct index step_idx;
	struct job_rec *jobs;
	size_t njobs, jobs_cap;
	struct index job_idx;

	/* calibration sums: wall = a*rapl + b*dt */
	double c_n, c_rr, c_rd, c_dd, c_rw, c_dw;
	fp_calibration_t cal;

	/* totals, in long double so months of 1 Hz intervals still balance */
	long double node_j, rapl_j, residual_j, idle_j, system_j, forgotten_j;
	long double gpu_j, gpu_idle_j;
	long double source_s[FP_SOURCE_COUNT];
	double power_w;
	fp_source_t source;

	/* seq of the sample whose steps rec_of, job_of, order and njobs_c
	 * describe (0: none); a sample with steps_same at map_seq + 1 keeps
	 * them */
	uint64_t map_seq;

	/* per-push scratch, grown only when a sample has more steps */
	size_t scap;
	uint32_t *rec_of, *job_of, *order;
	double *act, *dyn, *stat, *gsh;
	double *ddyn, *dstat;	 /* the dram domains' part of dyn, stat */
	double *gdsh;		 /* gsh by GPU: step i's share of g at
				 * [i * ngpu + g] */
	double *pkg_sd, *dshare; /* pkg_s, cshare of dram domains */
	bool has_dram;
	double *gbd;	/* this interval's busy delta per step, or -1 */
	uint32_t *hold; /* the holders of one GPU */
	uint64_t *colsum, *jmark, *smark;
	uint32_t *njobs_c, *cnt_c;
	double *pkg_b, *pkg_s, *cshare;
};

static inline bool fp_engine_state_estimated(const struct domain_state *ds)
{
	return ds->kind != FP_DOMAIN_PSYS && !(ds->idle_given >= 0);
}

/* Idle power from past intervals: the intercept of domain power against the
 * package's activity fraction. It cannot exceed the lowest power seen (that
 * interval had idle plus some activity), which is also the guess until the
 * regression has enough spread to be trusted. */
static inline double fp_engine_state_idle_w(const fp_engine_t *e,
					    const struct domain_state *ds)
{
	double den, icpt;

	if (!fp_engine_state_estimated(ds))
		return ds->idle_given >= 0 ? ds->idle_given : 0;
	if (ds->n < 1)
		return 0;
	den = ds->n * ds->sxx - ds->sx * ds->sx;
	if (ds->n < e->opts.min_idle_intervals || !(den > 1e-6 * ds->n * ds->n))
		return ds->ymin;
	icpt = (ds->sy * ds->sxx - ds->sx * ds->sxy) / den;
	if (!(icpt > 0))
		return 0;
	return icpt < ds->ymin ? icpt : ds->ymin;
}

/* engine.c: the per-push scratch, grown for n steps */
int fp_engine_grow_scratch(fp_engine_t *e, size_t n);

/* engine_index.c: the step and job records and their indexes */
int fp_engine_index_init(struct index *ix, size_t cap);
uint32_t fp_engine_index_find_step(const fp_engine_t *e, const char *id);
uint32_t fp_engine_index_find_job(const fp_engine_t *e, uint64_t job);
void fp_engine_index_drop_step(fp_engine_t *e, uint32_t i);
int fp_engine_index_map_steps(fp_engine_t *e, const fp_sample_t *s,
			      fp_error_t *err);

/* engine_gpu.c: trace v1's "Extension: accelerators" */
int fp_engine_gpu_check(const fp_engine_t *e, const fp_sample_t *s,
			fp_error_t *err);
void fp_engine_gpu_energy(fp_engine_t *e, const fp_sample_t *s);
double fp_engine_gpu_shares(fp_engine_t *e, const fp_sample_t *s,
			    double *unheld);
void fp_engine_gpu_busy_keep(fp_engine_t *e, const fp_sample_t *s);

#endif
