/* The Slurm API differences our two plugins meet from 22.05 to 26.05, in one
 * place, so each plugin reads as one plugin with a few named switches. */
#ifndef FP_SLURM_COMPAT_H
#define FP_SLURM_COMPAT_H

/* Included after src/common/slurm_xlator.h. The build generates this one from the source tree's META (never the
 * host's /usr/include copy): plugin_version must be the daemons' exact
 * release, micro included, or Slurm refuses the plugin. */
#include "slurm/slurm_version.h"

#define FP_SLURM_AT_LEAST(major, minor, micro) \
	(SLURM_VERSION_NUMBER >= SLURM_VERSION_NUM(major, minor, micro))

/* 23.02 moved the plugin interfaces from src/common to src/interfaces. */
#define FP_SLURM_INTERFACES FP_SLURM_AT_LEAST(23, 2, 0)

/* jobcomp_p_set_location(char *) became (void) in 23.02: the location is
 * read from slurm_conf.job_comp_loc. */
#define FP_JOBCOMP_LOCATION_VOID FP_SLURM_AT_LEAST(23, 2, 0)

/* 25.05 replaced jobcomp_p_log_record(job) by record_job_end(job, event)
 * and a required record_job_start(job, event). */
#define FP_JOBCOMP_RECORD_EVENTS FP_SLURM_AT_LEAST(25, 5, 0)

/* List was removed from slurm.h in 24.11; struct xlist is the tag of List
 * and list_t in every release. */
typedef struct xlist fp_list_t;

/* 26.05 runs plugin threads from a pool: they are named at creation and
 * joined through the pool (thread ids repeat). */
#if FP_SLURM_AT_LEAST(26, 5, 0)
#include "src/common/threadpool.h"
#define FP_THREAD_CREATE(name, id, fn, arg) \
	slurm_thread_create(name, id, fn, arg)
#define FP_THREAD_JOIN(id) slurm_thread_join(id)
#else
#define FP_THREAD_CREATE(name, id, fn, arg) slurm_thread_create(id, fn, arg)
#define FP_THREAD_JOIN(id) pthread_join(id, NULL)
#endif

/* 26.05's cgroup v2 names a job's folder by the job's SLUID unless
 * cgroup.conf says CgroupJobIdPaths=yes; the folder does not hold the job
 * id, so each step daemon records which job its SLUID is for the poller. */
#if FP_SLURM_AT_LEAST(26, 5, 0)
#include "src/common/sluid.h"
#define FP_HAVE_SLUID 1
#else
#define FP_HAVE_SLUID 0
#endif

/* fini returns void since 25.11 (the loader never read the int). */
#if FP_SLURM_AT_LEAST(25, 11, 0)
#define FP_FINI_TYPE void
#define FP_FINI_RETURN return
#else
#define FP_FINI_TYPE int
#define FP_FINI_RETURN return SLURM_SUCCESS
#endif

#endif
