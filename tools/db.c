/* sfootprint's slurmdb calls: one connection, one job condition per query,
 * built with plain malloc (see fpt_db_cond_free) and freed by us. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"

/* Exported by libslurm, not declared in its public headers. */
extern int slurm_addto_step_list(struct xlist *step_list, char *names);

static bool initialised;

void *fpt_db_open(char *why, size_t whysz)
{
	void *db;

	if (!initialised) {
		slurm_init(NULL);
		initialised = true;
	}
	db = slurmdb_connection_get(NULL);
	if (!db)
		snprintf(why, whysz, "slurmdbd: no connection (%s)",
			 slurm_strerror(errno));
	return db;
}

void fpt_db_close(void *db)
{
	if (db)
		slurmdb_connection_close(&db);
	if (initialised) {
		slurm_fini();
		initialised = false;
	}
}

/* Our condition is calloc'd, its lists hold strdup'd strings:
 * slurmdb_destroy_job_cond() would xfree() them. */
void fpt_db_cond_free(slurmdb_job_cond_t *cond)
{
	if (!cond)
		return;
	if (cond->acct_list)
		slurm_list_destroy(cond->acct_list);
	if (cond->cluster_list)
		slurm_list_destroy(cond->cluster_list);
	if (cond->step_list)
		slurm_list_destroy(cond->step_list);
	if (cond->state_list)
		slurm_list_destroy(cond->state_list);
	if (cond->userid_list)
		slurm_list_destroy(cond->userid_list);
	free(cond);
}

slurmdb_job_cond_t *fpt_db_cond_new(const char *cluster, const char *jobs,
				    time_t since, time_t until)
{
	slurmdb_job_cond_t *cond = calloc(1, sizeof(*cond));

	if (!cond)
		return NULL;
	cond->cluster_list = slurm_list_create(free);
	slurm_list_append(cond->cluster_list, strdup(cluster));
	if (jobs) {
		cond->step_list =
			slurm_list_create(slurm_destroy_selected_step);
		if (slurm_addto_step_list(cond->step_list, (char *)jobs) < 1) {
			fpt_db_cond_free(cond);
			return NULL;
		}
		cond->flags = JOBCOND_FLAG_NO_DEFAULT_USAGE;
	} else {
		cond->usage_start = since;
		cond->usage_end = until;
		/* As sacct: the jobs' own times, not cut to the window. */
		cond->flags = JOBCOND_FLAG_NO_TRUNC;
	}
	cond->db_flags = SLURMDB_JOB_FLAG_NOTSET;
	return cond;
}

static struct xlist *_string_list(const char *csv)
{
	struct xlist *l = slurm_list_create(free);
	char *copy = strdup(csv), *save = NULL, *tok;

	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save))
		if (*tok)
			slurm_list_append(l, strdup(tok));
	free(copy);
	return l;
}

struct xlist *fpt_db_jobs(void *db, const char *cluster,
			  const fpt_db_query_t *q, char *why, size_t whysz)
{
	slurmdb_job_cond_t *cond =
		fpt_db_cond_new(cluster, q->job, q->start, q->end);
	struct xlist *out;

	if (!cond) {
		if (q->job)
			snprintf(why, whysz, "job '%s': not a job id", q->job);
		else
			snprintf(why, whysz, "out of memory");
		return NULL;
	}
	if (q->uids)
		cond->userid_list = _string_list(q->uids);
	if (q->accounts)
		cond->acct_list = _string_list(q->accounts);
	out = slurmdb_jobs_get(db, cond);
	fpt_db_cond_free(cond);
	if (!out)
		snprintf(why, whysz,
			 "slurmdbd: cannot read jobs of cluster "
			 "%s: %s",
			 cluster, slurm_strerror(errno));
	return out;
}

void fpt_db_job_name(const slurmdb_job_rec_t *j, char *buf, size_t size)
{
	if (j->array_job_id && j->array_task_id != NO_VAL)
		snprintf(buf, size, "%u_%u", j->array_job_id, j->array_task_id);
	else if (j->het_job_id && j->het_job_offset != NO_VAL)
		snprintf(buf, size, "%u+%u", j->het_job_id, j->het_job_offset);
	else
		snprintf(buf, size, "%u", j->jobid);
}
