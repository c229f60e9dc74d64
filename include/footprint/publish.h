/* Hand-off of per-step energy from the node poller (slurmd) to the step
 * daemons (slurmstepd): a shared board (dir/.board, one slot per step,
 * updated in place in shared memory under a sequence lock, so a poll costs
 * no system call per step), and one small file per step, replaced
 * atomically, for what does not fit on the board. */
#ifndef FP_PUBLISH_H
#define FP_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

typedef struct fp_step_value {
	double energy_j; /* cumulative attributed energy of the step */
	double power_w;	 /* over the last poll interval */
	double t;	 /* time of the poll that produced it */
	/* read by the step daemon for its final line in the log (Slurm's
	 * record has no field for them); the summary learns the same from
	 * the step records (step.h) */
	char source[24]; /* node energy source: wall, psys, calibrated, rapl */
	bool simulated;	 /* from a simulated node */
	bool ended; /* the step's cgroup is gone: final, no fresh poll needed */
} fp_step_value_t;

/* Writes dir/step_id (tmp file + rename, so readers never see half a
 * record). step_id must be a Slurm step id like "42.batch" or "42.0". */
int fp_publish_step(const char *dir, const char *step_id,
		    const fp_step_value_t *v, fp_error_t *err);

/* The board, opened by its only writer, the node poller. The board file is
 * kept when it is valid (values published by an earlier slurmd stay
 * readable) and made anew otherwise. NULL on error (err says why): the
 * caller then publishes with fp_publish_step. */
typedef struct fp_board fp_board_t;

#define FP_BOARD_FILE ".board"
#define FP_BOARD_SLOTS 4096

fp_board_t *fp_publish_board_open(const char *dir, fp_error_t *err);
void fp_publish_board_close(fp_board_t *b);

/* Publishes the step's value in its slot: 0, or 1 when the board is full
 * (the caller then falls back to fp_publish_step), -1 on a bad id. */
int fp_publish_board_put(fp_board_t *b, const char *step_id,
			 const fp_step_value_t *v, fp_error_t *err);

/* Ends a round of puts (one poll's): the next round, putting the same
 * steps in the same order, finds each slot without hashing. */
void fp_publish_board_round(fp_board_t *b);

/* Frees the slots of steps not updated for max_age_s seconds. Returns how
 * many were freed. */
int fp_publish_board_prune(fp_board_t *b, double now, double max_age_s);

/* How many steps the board holds. */
size_t fp_publish_board_used(const fp_board_t *b);

/* Reads the step's value: from the board dir/.board when it holds the
 * step, else from dir/step_id. FP_EIO when absent (nothing published yet),
 * FP_EPARSE when the record is not one of ours. */
int fp_publish_read_step(const char *dir, const char *step_id,
			 fp_step_value_t *v, fp_error_t *err);

/* Removes dir/step_id (the step daemon is done with it). */
int fp_publish_remove_step(const char *dir, const char *step_id,
			   fp_error_t *err);

/* Removes published records older than max_age_s seconds (steps whose
 * daemon never collected them). Returns how many were removed. */
int fp_publish_prune(const char *dir, double now, double max_age_s);

/* Job labels for metrics (user, account), written by the step daemon that
 * knows them, read by the node poller: dir/<job>. */
int fp_publish_job_labels(const char *dir, unsigned long long job,
			  const char *user, const char *account,
			  fp_error_t *err);
int fp_publish_read_job_labels(const char *dir, unsigned long long job,
			       char *user, size_t user_size, char *account,
			       size_t account_size, fp_error_t *err);

/* Slurm 26.05 names a job's cgroup v2 folder by its SLUID, which does not
 * hold the job id: the step daemon records dir/<sluid> (a symbolic link to
 * "<job>") for the node poller. sluid is letters and digits only. */
int fp_publish_job_sluid(const char *dir, unsigned long long job,
			 const char *sluid, fp_error_t *err);
int fp_publish_read_job_sluid(const char *dir, const char *sluid,
			      unsigned long long *job, fp_error_t *err);

/* Whether the node poller still knows a job (a step runs, or ended lately). */
typedef bool (*fp_job_known_fn)(unsigned long long job, void *ctx);
/* Removes dir/<job> (and the dir/<sluid> links to it) of every job that
 * known() says is gone, once its file
 * is min_age_s old (a step daemon writes the labels before the poller
 * first sees the job's steps): without it, a node that runs jobs for years
 * keeps one file per job it ever ran. Returns how many were removed. */
int fp_publish_prune_job_labels(const char *dir, double now, double min_age_s,
				fp_job_known_fn known, void *ctx);

#endif
