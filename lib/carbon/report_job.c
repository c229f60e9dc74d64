/* The job ids of sfootprint -j: Slurm's N, N_TASK and N+COMPONENT,
 * checked against its range and kept once each. */
#include "footprint/report.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Slurm's job ids are 32 bits; NO_VAL (0xfffffffe) and INFINITE
 * (0xffffffff) are not jobs. Federated ids carry the cluster in bits 26-31,
 * so the whole range below them is valid. */
#define MAX_ID 4294967293ULL

/* Digits at *s (at most 20: beyond is out of range anyway) into *v. */
static bool _id_number(const char **s, unsigned long long *v)
{
	const char *p = *s;

	*v = 0;
	while (isdigit((unsigned char)*p) && p - *s < 20) {
		unsigned long long d = (unsigned long long)(*p - '0');

		*v = *v > (~0ULL - d) / 10 ? ~0ULL : *v * 10 + d;
		p++;
	}
	if (p == *s || isdigit((unsigned char)*p))
		*v = p == *s ? 0 : ~0ULL;
	while (isdigit((unsigned char)*p))
		p++;
	if (p == *s)
		return false;
	*s = p;
	return true;
}

static bool _in_list(const char *list, const char *id)
{
	size_t n = strlen(id);

	for (const char *p = list; p && *p;
	     p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (!strncmp(p, id, n) && (p[n] == ',' || !p[n]))
			return true;
	return false;
}

int fp_report_job_ids(const char *arg, char **list, size_t *count,
		      fp_error_t *err)
{
	char *copy, *p, *tok, *out;
	size_t added = 0;
	int rc = 0;

	fp_error_clear(err);
	if (!arg || !*arg)
		return fp_error_set(err, FP_EPARSE, "job id '': empty");
	/* All or nothing: *list changes only when every id is good. */
	copy = strdup(arg);
	out = *list ? strdup(*list) : NULL;
	if (!copy || (*list && !out)) {
		free(copy);
		free(out);
		return fp_error_set(err, FP_ENOMEM, "out of memory");
	}
	for (p = copy; !rc && (tok = strsep(&p, ","));) {
		const char *s = tok;
		unsigned long long id, sub = 0;
		char sep = 0, canon[48], *grown;

		if (!_id_number(&s, &id) ||
		    ((*s == '_' || *s == '+') &&
		     (sep = *s++, !_id_number(&s, &sub))) ||
		    *s) {
			rc = fp_error_set(err, FP_EPARSE,
					  "job id '%s': not a job "
					  "id (N, N_TASK or N+COMPONENT)",
					  tok);
			break;
		}
		if (id < 1 || id > MAX_ID || sub > MAX_ID) {
			rc = fp_error_set(err, FP_EINVAL,
					  "job id '%s': out of "
					  "Slurm's job ids (1..%llu)",
					  tok, MAX_ID);
			break;
		}
		if (sep)
			snprintf(canon, sizeof(canon), "%llu%c%llu", id, sep,
				 sub);
		else
			snprintf(canon, sizeof(canon), "%llu", id);
		if (_in_list(out, canon))
			continue;
		if (asprintf(&grown, "%s%s%s", out ? out : "", out ? "," : "",
			     canon) < 0) {
			rc = fp_error_set(err, FP_ENOMEM, "out of memory");
			break;
		}
		free(out);
		out = grown;
		added++;
	}
	free(copy);
	if (rc) {
		free(out);
		return rc;
	}
	free(*list);
	*list = out;
	*count += added;
	return 0;
}
