/* The reading of option values both configuration files share
 * (acct_gather.conf's for the node, footprint.conf's for the controller). */
#ifndef FP_OPTION_H
#define FP_OPTION_H

#include <stdbool.h>

/* The one reading of a yes/no value, for footprint.conf and
 * acct_gather.conf alike (as Slurm's own options): yes/no, true/false,
 * on/off, 1/0, in any case; -1 on anything else, *out untouched. */
int fp_option_bool(const char *v, bool *out);

#endif
