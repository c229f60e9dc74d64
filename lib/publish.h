/* Hand-off of per-step energy from the node poller (slurmd) to the step
 * daemons (slurmstepd): one small file per step, replaced atomically. */
#ifndef FP_PUBLISH_H
#define FP_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

typedef struct fp_step_value {
	double energy_j;	/* cumulative attributed energy of the step */
	double power_w;		/* over the last poll interval */
	double t;		/* time of the poll that produced it */
	char source[24];	/* node energy source: wall, psys, calibrated, rapl */
	bool simulated;		/* from a simulated node */
	bool ended;		/* the step's cgroup is gone: final value */
} fp_step_value_t;

/* Writes dir/step_id (tmp file + rename, so readers never see half a
 * record). step_id must be a Slurm step id like "42.batch" or "42.0". */
int fp_publish_step(const char *dir, const char *step_id,
		    const fp_step_value_t *v, fp_error_t *err);

/* Reads dir/step_id. FP_EIO when absent (nothing published yet), FP_EPARSE
 * when the record is not one of ours. */
int fp_read_step(const char *dir, const char *step_id, fp_step_value_t *v,
		 fp_error_t *err);

/* Removes dir/step_id (the step daemon is done with it). */
int fp_unpublish_step(const char *dir, const char *step_id, fp_error_t *err);

/* Removes published records older than max_age_s seconds (steps whose
 * daemon never collected them). Returns how many were removed. */
int fp_publish_prune(const char *dir, double now, double max_age_s);

/* Job labels for metrics (user, account), written by the step daemon that
 * knows them, read by the node poller: dir/<job>. */
int fp_publish_job_labels(const char *dir, unsigned long long job,
			  const char *user, const char *account,
			  fp_error_t *err);
int fp_read_job_labels(const char *dir, unsigned long long job, char *user,
		       size_t user_size, char *account, size_t account_size,
		       fp_error_t *err);

#endif
