/* A step's GPUs, from its environment to the node poller through the run
 * folder (one small file per step, as the job labels). */
#include "step_gpus.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static const char *const _vars[] = {
	"SLURM_STEP_GPUS", "SLURM_JOB_GPUS", "GPU_DEVICE_ORDINAL",
	"CUDA_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "ZE_AFFINITY_MASK",
};

const char *fp_step_gpus_from_env(char *const *env, const char **var)
{
	for (size_t v = 0; v < sizeof(_vars) / sizeof(_vars[0]); v++) {
		size_t len = strlen(_vars[v]);

		for (size_t i = 0; env && env[i]; i++) {
			if (strncmp(env[i], _vars[v], len) ||
			    env[i][len] != '=')
				continue;
			/* CUDA's "NoDevFiles" and an empty list: none */
			if (!env[i][len + 1] ||
			    !strcmp(env[i] + len + 1, "NoDevFiles"))
				continue;
			if (var)
				*var = _vars[v];
			return env[i] + len + 1;
		}
	}
	return NULL;
}

/* A step id is a file name here: digits, letters, '.', '_', '+'. */
static bool _step_ok(const char *step)
{
	if (!step || !*step || *step == '.')
		return false;
	for (const char *p = step; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' &&
		    *p != '+')
			return false;
	return true;
}

int fp_step_gpus_write(const char *dir, const char *step, const char *list,
		       fp_error_t *err)
{
	char path[4096], tmp[4096];
	FILE *f;
	int bad;

	fp_error_clear(err);
	if (!_step_ok(step))
		return fp_fail(err, FP_EINVAL, "step gpus: bad step id \"%s\"",
			       step ? step : "");
	snprintf(path, sizeof(path), "%s/%s", dir, step);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, step);
	f = fopen(tmp, "w");
	if (!f)
		return fp_fail(err, FP_EIO, "step gpus: cannot create %s: %s",
			       tmp, strerror(errno));
	/* one line: a newline inside would end the list early */
	fprintf(f, "%.*s\n", (int)strcspn(list ? list : "", "\n"),
		list ? list : "");
	bad = ferror(f);
	if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
		unlink(tmp);
		return fp_fail(err, FP_EIO, "step gpus: cannot write %s",
			       path);
	}
	return 0;
}

int fp_step_gpus_read(const char *dir, const char *step, char *buf,
		      size_t size, fp_error_t *err)
{
	char path[4096];
	FILE *f;

	fp_error_clear(err);
	if (!_step_ok(step))
		return fp_fail(err, FP_EINVAL, "step gpus: bad step id \"%s\"",
			       step ? step : "");
	snprintf(path, sizeof(path), "%s/%s", dir, step);
	f = fopen(path, "r");
	if (!f)
		return fp_fail(err, FP_EIO, "%s: %s", path, strerror(errno));
	if (!fgets(buf, (int)size, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

void fp_step_gpus_remove(const char *dir, const char *step)
{
	char path[4096];

	if (!_step_ok(step))
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, step);
	unlink(path);
}

/* "3b:00.0" and "0000:3B:00.0" name the same device. */
static bool _pci_eq(const char *id, const char *pci)
{
	size_t li = strlen(id), lp = strlen(pci);

	if (!lp || li > lp)
		return false;
	if (li < lp && (li + 5 != lp || strncmp(pci, "0000:", 5)))
		return false;
	return !strcasecmp(id, pci + (lp - li));
}

static int _match(const char *id, const fp_gpu_t *gpu, size_t *dev)
{
	size_t nd = fp_gpu_ndevices(gpu);
	char *end;
	unsigned long v;

	if (isdigit((unsigned char)id[0]) && !strchr(id, ':')) {
		/* ZE_AFFINITY_MASK: "device.subdevice" */
		errno = 0;
		v = strtoul(id, &end, 10);
		if (!errno && (*end == '\0' || *end == '.') && v < nd) {
			*dev = v;
			return 0;
		}
		return -1;
	}
	for (size_t i = 0; i < nd; i++) {
		const fp_gpu_info_t *g = fp_gpu_device(gpu, i);

		if ((g->uuid && !strcasecmp(id, g->uuid)) ||
		    (g->pci && _pci_eq(id, g->pci))) {
			*dev = i;
			return 0;
		}
	}
	/* a MIG instance is measured as its whole GPU: NVML gives energy
	 * only per GPU; its UUID does not name the parent, so it is found
	 * only where the list gives the parent GPU */
	return -1;
}

int fp_step_gpus_map(const char *list, const fp_gpu_t *gpu, size_t *out,
		     size_t cap, size_t *n, fp_error_t *err)
{
	const char *p = list ? list : "";
	int rc = 0;

	fp_error_clear(err);
	*n = 0;
	while (*p) {
		size_t len = strcspn(p, ","), dev, k;
		char id[128];

		while (len && isspace((unsigned char)*p)) {
			p++;
			len--;
		}
		snprintf(id, sizeof(id), "%.*s", (int)len, p);
		id[strcspn(id, " \t")] = '\0';
		p += len;
		if (*p == ',')
			p++;
		if (!id[0])
			continue;
		if (_match(id, gpu, &dev)) {
			if (!rc)
				rc = fp_fail(err, FP_EINVAL, "GPU \"%s\" is no "
					     "GPU of this node (%zu found)",
					     id, fp_gpu_ndevices(gpu));
			continue;
		}
		for (k = 0; k < *n && out[k] != dev; k++)
			;
		if (k == *n && *n < cap)
			out[(*n)++] = dev;
	}
	return rc;
}
