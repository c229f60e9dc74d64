/* slurm.conf as the tools read it without Slurm's library: where it is and
 * the value of one of its top-level keys. */
#ifndef FP_SLURMCONF_H
#define FP_SLURMCONF_H

#include <stddef.h>

#include "error.h"

#define FP_SLURMCONF_DEFAULT "/etc/slurm/slurm.conf"

/* slurm_conf when given (not NULL, not ""), else $SLURM_CONF, else
 * FP_SLURMCONF_DEFAULT, as Slurm's own commands look for it. */
const char *fp_slurmconf_path(const char *slurm_conf);

/* The value of a top-level key of slurm.conf (ClusterName, JobCompLoc...)
 * at fp_slurmconf_path(slurm_conf), in any case, quotes removed: 0 found,
 * 1 absent, -1 the file cannot be read (err, if not NULL, names it). Only
 * a line's first word counts: NodeName= lines hold keys of their own. */
int fp_slurmconf_get(const char *slurm_conf, const char *key, char *buf,
		     size_t size, fp_error_t *err);

#endif
