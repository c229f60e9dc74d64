/* Real-time metrics: the node poller's state as a Prometheus text-format
 * file for node_exporter's textfile collector, replaced atomically. */
#ifndef FP_METRICS_H
#define FP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* One GPU of the node as the poller read it at this poll. */
typedef struct fp_metrics_gpu {
	size_t index;	    /* the node's GPU index, as in its trace */
	const char *uuid;   /* NVML UUID, or the PCI address (hwmon) */
	const char *pci;    /* "" when unknown */
	const char *vendor; /* nvidia, amd, intel */
	const char *name;
	const char *source; /* counter, power-integral */
	double energy_j;    /* since the poller started; held while down */
	/* Over the last interval; NAN (no line written) when a read at
	 * either end failed or the counter was reset. */
	double power_w;
	bool up;	   /* the last read was valid */
	const char *fault; /* why not; "" or NULL when up */
} fp_metrics_gpu_t;

typedef struct fp_metrics_node {
	const char *node;
	bool simulated;
	const char *source; /* source of the last interval */
	double power_w;
	double energy_j;
	const char *const *source_names; /* energy by source */
	const double *source_energy_j;
	size_t nsources;
	double rapl_j, idle_j, system_j;
	bool calibration_active;
	double calibration_a, calibration_b_w;
	uint64_t calibration_intervals;
	bool sensor_configured;
	bool sensor_up;
	const char *sensor_fault; /* "" or NULL when up */
	double sensor_age_s;
	double poll_seconds; /* CPU cost of the last poll */
	/* GPUs: none (ngpus 0) writes no GPU line at all. */
	const fp_metrics_gpu_t *gpus;
	size_t ngpus;
	double gpu_j;	   /* all GPUs, as the engine counted */
	double gpu_idle_j; /* GPUs nobody held + residual share */
} fp_metrics_node_t;

/* Which per-job and per-step series the file carries (MetricsJobs=):
 * node-level series are always there. */
typedef enum fp_metrics_jobs {
	FP_METRICS_JOBS_RUNNING, /* while the job runs (the default) */
	FP_METRICS_JOBS_ALL,	 /* also ended jobs the poller still
					 * holds (their final values) */
	FP_METRICS_JOBS_NONE,	 /* none: node-level series only */
} fp_metrics_jobs_t;

/* "running", "all", "none", indexed by fp_metrics_jobs_t. */
extern const char *const fp_metrics_jobs_names[3];

typedef struct fp_metrics_entity {
	uint64_t job;
	const char *step; /* NULL for a job line */
	const char *user; /* NULL or "" when unknown */
	const char *account;
	double power_w;
	double energy_j;
	/* Jobs only: a job with gpus set (it holds or held a GPU) gets a GPU
	 * energy line, its GPUs' share before the residual. The caller
	 * passes running jobs only, so an ended job's lines go with it. */
	bool gpus;
	double gpu_energy_j;
	/* The job (or the step) has ended: written with MetricsJobs=all
	 * only, so with running its series go when it ends. */
	bool ended;
} fp_metrics_entity_t;

/* A metrics file and the buffer its text is formatted into, reused at
 * every write (no allocation once it has grown to the file's size). */
typedef struct fp_metrics fp_metrics_t;

/* NULL when out of memory. path is copied. */
fp_metrics_t *fp_metrics_new(const char *path, fp_metrics_jobs_t jobs);
void fp_metrics_free(fp_metrics_t *m);

/* Writes the metrics to the file (via path.tmp + rename: node_exporter
 * never reads half a file), with the job and step series m's mode keeps.
 * Values are written with at most 6 decimals (microjoules, microwatts)
 * when at least 1, else with 17 significant digits. */
int fp_metrics_put(fp_metrics_t *m, const fp_metrics_node_t *node,
		   const fp_metrics_entity_t *jobs, size_t njobs,
		   const fp_metrics_entity_t *steps, size_t nsteps,
		   fp_error_t *err);

/* fp_metrics_put once, with MetricsJobs=running. */
int fp_metrics_write(const char *path, const fp_metrics_node_t *node,
		     const fp_metrics_entity_t *jobs, size_t njobs,
		     const fp_metrics_entity_t *steps, size_t nsteps,
		     fp_error_t *err);

#endif
