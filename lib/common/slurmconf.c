/* slurm.conf read as the tools need it, without Slurm's library: where it
 * is, and the value of one of its top-level keys. */
#include "footprint/slurmconf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *fp_slurmconf_path(const char *slurm_conf)
{
	const char *env = getenv("SLURM_CONF");

	if (slurm_conf && *slurm_conf)
		return slurm_conf;
	return env && *env ? env : FP_SLURMCONF_DEFAULT;
}

int fp_slurmconf_get(const char *slurm_conf, const char *key, char *buf,
		     size_t size, fp_error_t *err)
{
	const char *path = fp_slurmconf_path(slurm_conf);
	size_t klen = strlen(key);
	char line[4096];
	int rc = 1;
	FILE *f = fopen(path, "r");

	fp_error_clear(err);
	if (!f)
		return fp_error_set(err, FP_EIO, "%s: %s", path,
				    strerror(errno));
	/* Only the first word of a line: NodeName= lines hold keys of their
	 * own (CPUs=...) that are not slurm.conf's. */
	while (rc && fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " \t"), *v, *e;

		if (strncasecmp(p, key, klen) || p[klen] != '=')
			continue;
		v = p + klen + 1;
		if (*v == '"') {
			v++;
			e = strchr(v, '"');
		} else {
			e = v + strcspn(v, " \t\r\n#");
		}
		if (e)
			*e = '\0';
		else
			v[strcspn(v, "\r\n")] = '\0';
		snprintf(buf, size, "%s", v);
		rc = 0;
	}
	fclose(f);
	return rc;
}
