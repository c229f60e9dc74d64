/* Option values as both configuration files write them: the one reading
 * of yes/no that acct_gather.conf's and footprint.conf's keys share. */
#include "footprint/option.h"

#include <strings.h>

int fp_option_bool(const char *v, bool *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" };
	static const char *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; v && i < sizeof(yes) / sizeof(*yes); i++) {
		if (!strcasecmp(v, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(v, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -1;
}
