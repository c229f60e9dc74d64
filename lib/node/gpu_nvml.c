/* NVIDIA GPUs through NVML, dlopen()ed at run time: no build-time dependency
 * on the proprietary header; only the entry points used are declared here. */
#include "gpu_backend.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* From NVML's public API (nvml.h): values and layouts are its ABI. */
typedef int nvmlReturn_t;
#define NVML_SUCCESS 0
#define NVML_ERROR_NOT_SUPPORTED 3
#define NVML_ERROR_NOT_FOUND 6
#define NVML_ERROR_INSUFFICIENT_SIZE 7
#define NVML_DEVICE_MIG_ENABLE 1
#define NVML_DEVICE_UUID_V2_BUFFER_SIZE 96
#define NVML_DEVICE_NAME_V2_BUFFER_SIZE 96

typedef struct nvmlDevice_st *nvmlDevice_t;

typedef struct nvmlPciInfo_st {
	char busIdLegacy[16];
	unsigned int domain;
	unsigned int bus;
	unsigned int device;
	unsigned int pciDeviceId;
	unsigned int pciSubSystemId;
	char busId[32]; /* "00000000:3B:00.0" */
} nvmlPciInfo_t;

/* nvmlDeviceGetAttributes_v2's (nvml.h names it nvmlDeviceGetAttributes);
 * the v1 layout is its first six fields. */
typedef struct nvmlDeviceAttributes_st {
	unsigned int multiprocessorCount;
	unsigned int sharedCopyEngineCount;
	unsigned int sharedDecoderCount;
	unsigned int sharedEncoderCount;
	unsigned int sharedJpegCount;
	unsigned int sharedOfaCount;
	unsigned int gpuInstanceSliceCount;
	unsigned int computeInstanceSliceCount;
	unsigned long long memorySizeMB;
} nvmlDeviceAttributes_t;

typedef struct nvmlProcessUtilizationSample_st {
	unsigned int pid;
	unsigned long long timeStamp; /* CPU time, µs */
	unsigned int smUtil;
	unsigned int memUtil;
	unsigned int encUtil;
	unsigned int decUtil;
} nvmlProcessUtilizationSample_t;

typedef struct nvml {
	fp_gpu_lib_t so;
	nvmlReturn_t (*init)(void);
	nvmlReturn_t (*shutdown)(void);
	const char *(*error_string)(nvmlReturn_t);
	nvmlReturn_t (*count)(unsigned int *);
	nvmlReturn_t (*by_index)(unsigned int, nvmlDevice_t *);
	nvmlReturn_t (*uuid)(nvmlDevice_t, char *, unsigned int);
	nvmlReturn_t (*name)(nvmlDevice_t, char *, unsigned int);
	nvmlReturn_t (*pci)(nvmlDevice_t, nvmlPciInfo_t *);
	nvmlReturn_t (*energy)(nvmlDevice_t, unsigned long long *); /* mJ */
	nvmlReturn_t (*power)(nvmlDevice_t, unsigned int *);	    /* mW */
	nvmlReturn_t (*procs)(nvmlDevice_t, nvmlProcessUtilizationSample_t *,
			      unsigned int *, unsigned long long);
	nvmlReturn_t (*mig_mode)(nvmlDevice_t, unsigned int *, unsigned int *);
	nvmlReturn_t (*mig_max)(nvmlDevice_t, unsigned int *);
	nvmlReturn_t (*mig_by_index)(nvmlDevice_t, unsigned int,
				     nvmlDevice_t *);
	nvmlReturn_t (*attributes)(nvmlDevice_t, nvmlDeviceAttributes_t *);
	nvmlReturn_t (*gi_id)(nvmlDevice_t, unsigned int *);
	nvmlReturn_t (*ci_id)(nvmlDevice_t, unsigned int *);
} nvml_t;

typedef struct nvdev {
	nvmlDevice_t h;
	bool stale; /* a call failed: look the handle up again by UUID */
} nvdev_t;

static const char *_err(const nvml_t *n, nvmlReturn_t rc)
{
	const char *s = n->error_string ? n->error_string(rc) : NULL;

	return s ? s : "unknown NVML error";
}

static int _nvml_read(fp_gpu_t *g, fp_gpu_dev_t *d, uint64_t *raw, char *why,
		      size_t whysize);
static int _nvml_procs(fp_gpu_t *g, fp_gpu_dev_t *d, fp_error_t *err);
static void _nvml_free(fp_gpu_dev_t *d);

static const fp_gpu_ops_t nvml_ops = {
	.read = _nvml_read,
	.procs = _nvml_procs,
	.free = _nvml_free,
};

/* A MIG instance is never read itself (gpu.c reads its parent) and has no
 * per-process utilisation: NVML does not sample processes under MIG. */
static int _mig_procs(fp_gpu_t *g, fp_gpu_dev_t *d, fp_error_t *err)
{
	(void)g;
	return fp_error_set(err, FP_ENOTSUP,
			    "gpu %zu (%s): a MIG instance: NVML has no "
			    "per-process utilisation under MIG",
			    d->info.index, d->uuid);
}

static const fp_gpu_ops_t mig_ops = {
	.procs = _mig_procs,
};

/* "00000000:3B:00.0" as sysfs writes it: "0000:3b:00.0". */
static void _pci_address(const nvmlPciInfo_t *p, char *out, size_t size)
{
	unsigned dom, bus, dev, fn;

	if (sscanf(p->busId, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) == 4)
		snprintf(out, size, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	else
		out[0] = '\0';
}

/* The MIG instances of the GPU just added (the last of g, NVML device i,
 * handle h) as devices in its place, with their share of its SMs. 0 done
 * (also when NVML lists none: the GPU stays one device), -2 on ENOMEM. */
static int _add_mig(fp_gpu_t *g, nvml_t *n, unsigned i, nvmlDevice_t h)
{
	unsigned max = 0, nmig = 0, sm_sum = 0;
	bool sm_known = true;
	size_t first = g->ndevs;
	fp_gpu_dev_t *p = &g->devs[g->ndevs - 1];
	char *puuid, *ppci, *pname;
	long k;

	if (!n->mig_max || !n->mig_by_index || n->mig_max(h, &max))
		return 0;
	puuid = strdup(p->uuid);
	ppci = strdup(p->pci);
	pname = strdup(p->name);
	if (!puuid || !ppci || !pname)
		goto nomem;
	for (unsigned j = 0; j < max; j++) {
		char uuid[NVML_DEVICE_UUID_V2_BUFFER_SIZE] = "";
		char name[NVML_DEVICE_NAME_V2_BUFFER_SIZE] = "";
		char path[4300];
		nvmlDeviceAttributes_t a;
		unsigned gi = 0, ci = 0;
		nvmlDevice_t m;
		fp_gpu_dev_t *d;

		/* NOT_FOUND: no instance at that index (they need not be
		 * contiguous) */
		if (n->mig_by_index(h, j, &m) || n->uuid(m, uuid, sizeof(uuid)))
			continue;
		if (n->name(m, name, sizeof(name)))
			snprintf(name, sizeof(name), "%s MIG", pname);
		memset(&a, 0, sizeof(a));
		if (!n->attributes || n->attributes(m, &a))
			a.multiprocessorCount = 0;
		if (n->gi_id)
			n->gi_id(m, &gi);
		if (n->ci_id)
			n->ci_id(m, &ci);
		snprintf(path, sizeof(path), "nvml %s #%u mig %u gi %u ci %u",
			 n->so.path, i, j, gi, ci);
		d = fp_gpu_add_dev(g);
		if (!d || fp_gpu_dev_strings(d, uuid, ppci, name, path) ||
		    !(d->parent_uuid = strdup(puuid)))
			goto nomem;
		d->ops = &mig_ops;
		d->info.vendor = FP_GPU_NVIDIA;
		d->info.flags = FP_GPU_MIG_INSTANCE;
		d->info.parent_nvml_index = i;
		d->info.sm_count = a.multiprocessorCount;
		sm_known = sm_known && a.multiprocessorCount;
		sm_sum += a.multiprocessorCount;
		nmig++;
	}
	if (!nmig) {
		fp_gpu_log(g, FP_LOG_INFO,
			   "gpu nvml %s #%u (%s): MIG on but no MIG instance: "
			   "read as one GPU",
			   n->so.path, i, puuid);
		free(puuid);
		free(ppci);
		free(pname);
		return 0;
	}
	/* the parent, now before its instances, goes out of the devices */
	{
		fp_gpu_dev_t parent = g->devs[first - 1];

		memmove(&g->devs[first - 1], &g->devs[first],
			nmig * sizeof(*g->devs));
		g->devs[first - 1 + nmig] = parent;
		g->ndevs = first + nmig;
	}
	k = fp_gpu_dev_to_migp(g);
	if (k < 0)
		goto nomem;
	for (size_t j = first - 1; j < g->ndevs; j++) {
		fp_gpu_dev_t *d = &g->devs[j];

		d->migp = (size_t)k;
		d->info.source = g->migp[k].info.source;
		d->info.share = sm_known ? (double)d->info.sm_count / sm_sum
					 : 1.0 / nmig;
	}
	fp_gpu_log(g, FP_LOG_INFO,
		   "gpu nvml %s #%u (%s): MIG on, %u instances, each given "
		   "its GPU's energy by %s (NVML measures only the GPU)",
		   n->so.path, i, puuid, nmig,
		   sm_known ? "its share of the instances' SMs"
			    : "equal parts (SM counts unknown)");
	free(puuid);
	free(ppci);
	free(pname);
	return 0;
nomem:
	free(puuid);
	free(ppci);
	free(pname);
	return -2;
}

/* Device i of NVML. 0 added, 1 skipped (logged), -2 on ENOMEM. */
static int _add(fp_gpu_t *g, nvml_t *n, unsigned i)
{
	char uuid[NVML_DEVICE_UUID_V2_BUFFER_SIZE] = "";
	char name[NVML_DEVICE_NAME_V2_BUFFER_SIZE] = "";
	char pci[32] = "", path[4200];
	fp_gpu_source_t src = FP_GPU_COUNTER;
	unsigned long long mj;
	unsigned int mw, cur, pend;
	nvmlPciInfo_t info;
	nvmlDevice_t h;
	fp_gpu_dev_t *d;
	nvdev_t *nd;
	nvmlReturn_t rc;

	snprintf(path, sizeof(path), "nvml %s #%u", n->so.path, i);
	if ((rc = n->by_index(i, &h))) {
		fp_gpu_log(g, FP_LOG_WARN,
			   "gpu %s skipped: nvmlDeviceGetHandleByIndex_v2: %s",
			   path, _err(n, rc));
		return 1;
	}
	if ((rc = n->uuid(h, uuid, sizeof(uuid)))) {
		fp_gpu_log(g, FP_LOG_WARN,
			   "gpu %s skipped: nvmlDeviceGetUUID: %s", path,
			   _err(n, rc));
		return 1;
	}
	if (n->name(h, name, sizeof(name)))
		snprintf(name, sizeof(name), "NVIDIA GPU");
	memset(&info, 0, sizeof(info));
	if (n->pci && n->pci(h, &info) == NVML_SUCCESS)
		_pci_address(&info, pci, sizeof(pci));
	rc = n->energy(h, &mj);
	if (rc == NVML_ERROR_NOT_SUPPORTED) {
		rc = n->power(h, &mw);
		if (rc) {
			fp_gpu_log(g, FP_LOG_WARN,
				   "gpu %s (%s) skipped: no energy counter, "
				   "and nvmlDeviceGetPowerUsage: %s",
				   path, uuid, _err(n, rc));
			return 1;
		}
		fp_gpu_log(g, FP_LOG_INFO,
			   "gpu %s (%s): no energy counter; energy is the "
			   "integral of nvmlDeviceGetPowerUsage (averaged "
			   "over ~1 s by the driver)",
			   path, uuid);
		src = FP_GPU_POWER_INTEGRAL;
	} else if (rc) {
		fp_gpu_log(g, FP_LOG_WARN,
			   "gpu %s (%s) skipped: "
			   "nvmlDeviceGetTotalEnergyConsumption: %s",
			   path, uuid, _err(n, rc));
		return 1;
	}
	d = fp_gpu_add_dev(g);
	if (!d)
		return -2;
	d->ops = &nvml_ops;
	nd = calloc(1, sizeof(*nd));
	d->priv = nd;
	if (!nd || fp_gpu_dev_strings(d, uuid, pci, name, path))
		return -2;
	nd->h = h;
	d->info.vendor = FP_GPU_NVIDIA;
	d->info.source = src;
	d->unit = 1000; /* mJ or mW */
	d->max_raw = UINT64_MAX;
	if (n->mig_mode && n->mig_mode(h, &cur, &pend) == NVML_SUCCESS &&
	    cur == NVML_DEVICE_MIG_ENABLE) {
		d->info.flags |= FP_GPU_MIG;
		return _add_mig(g, n, i, h);
	}
	return 0;
}

int fp_gpu_nvml_open(fp_gpu_t *g, const char *lib, char *why, size_t whysize)
{
	nvml_t *n = calloc(1, sizeof(*n));
	unsigned count = 0;
	nvmlReturn_t rc;
	int loaded;

	if (!n)
		return -2;
	if ((loaded = fp_gpu_lib_open(&n->so, "NVML", lib, why, whysize))) {
		free(n);
		return loaded;
	}
	g->nvml = n;
	if (!(n->init = fp_gpu_lib_sym(&n->so, "nvmlInit_v2", true, why,
				       whysize)) ||
	    !(n->shutdown = fp_gpu_lib_sym(&n->so, "nvmlShutdown", true, why,
					   whysize)) ||
	    !(n->error_string = fp_gpu_lib_sym(&n->so, "nvmlErrorString", true,
					       why, whysize)) ||
	    !(n->count = fp_gpu_lib_sym(&n->so, "nvmlDeviceGetCount_v2", true,
					why, whysize)) ||
	    !(n->by_index = fp_gpu_lib_sym(&n->so,
					   "nvmlDeviceGetHandleByIndex_v2",
					   true, why, whysize)) ||
	    !(n->uuid = fp_gpu_lib_sym(&n->so, "nvmlDeviceGetUUID", true, why,
				       whysize)) ||
	    !(n->name = fp_gpu_lib_sym(&n->so, "nvmlDeviceGetName", true, why,
				       whysize)) ||
	    !(n->energy = fp_gpu_lib_sym(&n->so,
					 "nvmlDeviceGetTotalEnergyConsumption",
					 true, why, whysize)) ||
	    !(n->power = fp_gpu_lib_sym(&n->so, "nvmlDeviceGetPowerUsage", true,
					why, whysize))) {
		n->shutdown = NULL; /* never initialised */
		fp_gpu_nvml_close(g);
		return -1;
	}
	n->pci = fp_gpu_lib_sym(&n->so, "nvmlDeviceGetPciInfo_v3", false, why,
				whysize);
	n->procs = fp_gpu_lib_sym(&n->so, "nvmlDeviceGetProcessUtilization",
				  false, why, whysize);
	n->mig_mode = fp_gpu_lib_sym(&n->so, "nvmlDeviceGetMigMode", false, why,
				     whysize);
	n->mig_max = fp_gpu_lib_sym(&n->so, "nvmlDeviceGetMaxMigDeviceCount",
				    false, why, whysize);
	n->mig_by_index = fp_gpu_lib_sym(&n->so,
					 "nvmlDeviceGetMigDeviceHandleByIndex",
					 false, why, whysize);
	n->attributes = fp_gpu_lib_sym(&n->so, "nvmlDeviceGetAttributes_v2",
				       false, why, whysize);
	n->gi_id = fp_gpu_lib_sym(&n->so, "nvmlDeviceGetGpuInstanceId", false,
				  why, whysize);
	n->ci_id = fp_gpu_lib_sym(&n->so, "nvmlDeviceGetComputeInstanceId",
				  false, why, whysize);
	if ((rc = n->init())) {
		snprintf(why, whysize, "NVML %s: nvmlInit_v2: %s", lib,
			 _err(n, rc));
		n->shutdown = NULL;
		fp_gpu_nvml_close(g);
		return -1;
	}
	if ((rc = n->count(&count))) {
		snprintf(why, whysize, "NVML %s: nvmlDeviceGetCount_v2: %s",
			 lib, _err(n, rc));
		fp_gpu_nvml_close(g);
		return -1;
	}
	for (unsigned i = 0; i < count; i++)
		if (_add(g, n, i) == -2)
			return -2;
	if (g->ndevs == 0) {
		snprintf(why, whysize, "NVML %s: %u devices, none readable",
			 lib, count);
		fp_gpu_nvml_close(g);
		return -1;
	}
	return 0;
}

void fp_gpu_nvml_close(fp_gpu_t *g)
{
	nvml_t *n = g->nvml;

	if (!n)
		return;
	if (n->shutdown)
		n->shutdown();
	fp_gpu_lib_close(&n->so);
	free(n);
	g->nvml = NULL;
}

/* The device's handle again after a failure: indexes may change when a GPU
 * falls off the bus and returns, its UUID does not. */
static int _relookup(nvml_t *n, fp_gpu_dev_t *d, char *why, size_t whysize)
{
	char uuid[NVML_DEVICE_UUID_V2_BUFFER_SIZE];
	nvdev_t *nd = d->priv;
	unsigned count = 0;
	nvmlDevice_t h;
	nvmlReturn_t rc;

	if ((rc = n->count(&count))) {
		snprintf(why, whysize, "nvmlDeviceGetCount_v2: %s",
			 _err(n, rc));
		return -1;
	}
	for (unsigned i = 0; i < count; i++) {
		if (n->by_index(i, &h) || n->uuid(h, uuid, sizeof(uuid)) ||
		    strcmp(uuid, d->uuid))
			continue;
		nd->h = h;
		nd->stale = false;
		return 0;
	}
	snprintf(why, whysize, "not among NVML's %u devices", count);
	return -1;
}

static int _nvml_read(fp_gpu_t *g, fp_gpu_dev_t *d, uint64_t *raw, char *why,
		      size_t whysize)
{
	nvml_t *n = g->nvml;
	nvdev_t *nd = d->priv;
	unsigned long long mj;
	unsigned int mw;
	nvmlReturn_t rc;

	if (nd->stale && _relookup(n, d, why, whysize))
		return -1;
	if (d->info.source == FP_GPU_COUNTER) {
		rc = n->energy(nd->h, &mj);
		*raw = mj;
	} else {
		rc = n->power(nd->h, &mw);
		*raw = mw;
	}
	if (rc) {
		snprintf(why, whysize, "%s: %s",
			 d->info.source == FP_GPU_COUNTER
				 ? "nvmlDeviceGetTotalEnergyConsumption"
				 : "nvmlDeviceGetPowerUsage",
			 _err(n, rc));
		nd->stale = true;
		return -1;
	}
	return 0;
}

static int _nvml_procs(fp_gpu_t *g, fp_gpu_dev_t *d, fp_error_t *err)
{
	nvml_t *n = g->nvml;
	nvdev_t *nd = d->priv;
	nvmlProcessUtilizationSample_t *s = NULL;
	unsigned cnt = 0;
	nvmlReturn_t rc;
	uint64_t seen = d->last_seen_us;

	d->nprocs = 0;
	if (!n->procs)
		return fp_error_set(err, FP_ENOTSUP,
				    "gpu %zu (%s): NVML %s has no "
				    "nvmlDeviceGetProcessUtilization",
				    d->info.index, d->uuid, n->so.path);
	/* Asked with no buffer, NVML says how many samples it holds; more
	 * may arrive before the second call. */
	for (int tries = 0; tries < 4; tries++) {
		nvmlProcessUtilizationSample_t *ns;

		rc = n->procs(nd->h, s, &cnt, d->last_seen_us);
		if (rc != NVML_ERROR_INSUFFICIENT_SIZE)
			break;
		cnt += 8;
		ns = realloc(s, cnt * sizeof(*s));
		if (!ns) {
			free(s);
			return fp_error_set(err, FP_ENOMEM,
					    "gpu %zu: out of memory",
					    d->info.index);
		}
		s = ns;
	}
	if (rc == NVML_ERROR_NOT_FOUND || (rc == NVML_SUCCESS && !s)) {
		free(s);
		return 0; /* no sample newer than the last one */
	}
	if (rc) {
		free(s);
		return fp_error_set(
			err,
			rc == NVML_ERROR_NOT_SUPPORTED ? FP_ENOTSUP : FP_EIO,
			"gpu %zu (%s): nvmlDeviceGetProcessUtilization: "
			"%s",
			d->info.index, d->uuid, _err(n, rc));
	}
	if (cnt > d->procs_cap) {
		fp_gpu_proc_t *np = realloc(d->procs, cnt * sizeof(*np));

		if (!np) {
			free(s);
			return fp_error_set(err, FP_ENOMEM,
					    "gpu %zu: out of memory",
					    d->info.index);
		}
		d->procs = np;
		d->procs_cap = cnt;
	}
	for (unsigned i = 0; i < cnt; i++) {
		uint64_t from = d->last_seen_us;

		if (s[i].timeStamp <= d->last_seen_us)
			continue; /* NVML's filter is theirs; ours is exact */
		/* NVML does not sort them: the sample's start is the latest
		 * earlier timestamp of this call, or of the previous one. */
		for (unsigned j = 0; j < cnt; j++)
			if (s[j].timeStamp < s[i].timeStamp &&
			    s[j].timeStamp > from)
				from = s[j].timeStamp;
		d->procs[d->nprocs++] = (fp_gpu_proc_t){
			.pid = s[i].pid,
			.sm_util = s[i].smUtil > 100 ? 100 : s[i].smUtil,
			.mem_util = s[i].memUtil,
			.timestamp_us = s[i].timeStamp,
			.period_us = from ? s[i].timeStamp - from : 0,
		};
		if (s[i].timeStamp > seen)
			seen = s[i].timeStamp;
	}
	d->last_seen_us = seen;
	free(s);
	return 0;
}

static void _nvml_free(fp_gpu_dev_t *d)
{
	free(d->priv);
}
