/* Where the tools find footprint.conf: their option, FOOTPRINT_CONF, or
 * slurm.conf's JobCompLoc for jobcomp/carbon, else beside slurm.conf. */
#include "footprint/report.h"

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "footprint/slurmconf.h"

int fp_report_conf_path(const char *option, const char *env_conf,
			const char *slurm_conf, char *buf, size_t size)
{
	const char *sc = fp_slurmconf_path(slurm_conf);
	char type[256], loc[4096], *copy;

	if (option && *option) {
		snprintf(buf, size, "%s", option);
		return 0;
	}
	if (env_conf && *env_conf) {
		snprintf(buf, size, "%s", env_conf);
		return 0;
	}
	if (fp_slurmconf_get(sc, "JobCompType", type, sizeof(type), NULL) ==
		    0 &&
	    !strcasecmp(type, "jobcomp/carbon") &&
	    fp_slurmconf_get(sc, "JobCompLoc", loc, sizeof(loc), NULL) == 0 &&
	    loc[0]) {
		snprintf(buf, size, "%s", loc);
		return 0;
	}
	copy = strdup(sc);
	if (!copy)
		return -1;
	snprintf(buf, size, "%s/footprint.conf", dirname(copy));
	free(copy);
	return 0;
}
