/* sfootprint's access to Slurm accounting (slurmdbd): the jobs of one id or
 * of a time window, for the job report and the aggregate table. */
#ifndef SFOOTPRINT_DB_H
#define SFOOTPRINT_DB_H

#include <stddef.h>
#include <time.h>

#include <slurm/slurm.h>
#include <slurm/slurmdb.h>

typedef struct fp_db_query {
	const char *job;	/* one job id ("42", "42_3"), or NULL */
	const char *uids;	/* comma list of numeric uids, or NULL */
	const char *accounts;	/* comma list, or NULL */
	time_t start, end;	/* window when job is NULL */
} fp_db_query_t;

/* A connection to slurmdbd, or NULL with why set. */
void *fp_db_open(char *why, size_t whysz);
void fp_db_close(void *db);
/* slurmdb_job_rec_t's of the cluster (slurm_list_destroy() it), or NULL
 * with why set. */
struct xlist *fp_db_jobs(void *db, const char *cluster, const fp_db_query_t *q,
		char *why, size_t whysz);
/* "42", "42_3" (array task) or "42+1" (het job component). */
void fp_db_job_name(const slurmdb_job_rec_t *j, char *buf, size_t size);

#endif
