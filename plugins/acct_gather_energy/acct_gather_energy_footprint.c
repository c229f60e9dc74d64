/* acct_gather_energy/footprint: per-step energy on shared nodes, attributed
 * from RAPL, a heater's wall meter and per-CPU step activity (see lib/). */

#include "src/common/slurm_xlator.h"
#include "src/common/slurm_acct_gather_energy.h"
#include "src/common/log.h"
#include "src/common/xmalloc.h"
#include "src/common/xstring.h"

const char plugin_name[] = "AcctGatherEnergy footprint plugin";
const char plugin_type[] = "acct_gather_energy/footprint";
const uint32_t plugin_version = SLURM_VERSION_NUMBER;

extern int init(void)
{
	verbose("%s: loaded (%s)", plugin_type,
		running_in_slurmctld() ? "slurmctld" :
		running_in_slurmstepd() ? "slurmstepd" :
		running_in_slurmd() ? "slurmd" : "client");
	return SLURM_SUCCESS;
}

extern int fini(void)
{
	return SLURM_SUCCESS;
}

extern int acct_gather_energy_p_update_node_energy(void)
{
	return SLURM_SUCCESS;
}

extern int acct_gather_energy_p_get_data(enum acct_energy_type data_type,
					 void *data)
{
	return SLURM_SUCCESS;
}

extern int acct_gather_energy_p_set_data(enum acct_energy_type data_type,
					 void *data)
{
	return SLURM_SUCCESS;
}

extern void acct_gather_energy_p_conf_options(s_p_options_t **full_options,
					      int *full_options_cnt)
{
}

extern void acct_gather_energy_p_conf_set(int context_id_in,
					  s_p_hashtbl_t *tbl)
{
}

extern void acct_gather_energy_p_conf_values(List *data)
{
}
