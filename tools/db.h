/* The tools' access to Slurm accounting (slurmdbd): the conditions that
 * select jobs, for sfootprint's report and table and footprint-worker's
 * reconciliation, built in one place. */
#ifndef FP_TOOLS_DB_H
#define FP_TOOLS_DB_H

#include <stddef.h>
#include <time.h>

#include <slurm/slurm.h>
#include <slurm/slurmdb.h>

typedef struct fpt_db_query {
	const char *job;      /* one job id ("42", "42_3"), or NULL */
	const char *uids;     /* comma list of numeric uids, or NULL */
	const char *accounts; /* comma list, or NULL */
	time_t start, end;    /* window when job is NULL */
} fpt_db_query_t;

/* A job condition of cluster (calloc'd, its lists of strdup'd strings;
 * free it with fpt_db_cond_free, never slurmdb_destroy_job_cond): the jobs
 * of a list of ids ("42", "42_3,43") when jobs is not NULL, else the jobs
 * that ran in [since, until] with their own times (sacct's NO_TRUNC). NULL
 * when out of memory or when jobs names no job id. */
slurmdb_job_cond_t *fpt_db_cond_new(const char *cluster, const char *jobs,
				    time_t since, time_t until);
void fpt_db_cond_free(slurmdb_job_cond_t *cond);

/* A connection to slurmdbd, or NULL with why set. */
void *fpt_db_open(char *why, size_t whysz);
void fpt_db_close(void *db);
/* slurmdb_job_rec_t's of the cluster (slurm_list_destroy() it), or NULL
 * with why set. */
struct xlist *fpt_db_jobs(void *db, const char *cluster,
			  const fpt_db_query_t *q, char *why, size_t whysz);
/* "42", "42_3" (array task) or "42+1" (het job component). */
void fpt_db_job_name(const slurmdb_job_rec_t *j, char *buf, size_t size);

#endif
