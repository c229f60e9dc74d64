/* A stand-in for libnvidia-ml.so.1, built with the tests: answers the NVML
 * entry points lib/node/gpu_nvml.c uses from a state file the test (or
 * fp-simnode) rewrites between reads.
 *
 * $FP_FAKE_NVML_STATE names the file, read again at every call. Lines:
 *   init=RC                         nvmlInit_v2's return code (default 0)
 *   device uuid=GPU-x [pci=00000000:3B:00.0] [name="Tesla T4"]
 *          [energy_mj=N] [power_mw=N] [energy_rc=RC] [power_rc=RC]
 *          [procs_rc=RC] [lost=1] [mig=1]
 *   proc dev=I pid=P sm=PCT [mem=PCT] ts=US
 *   mig dev=I uuid=MIG-x [index=J] [sm=N] [gi=N] [ci=N] [name="..."]
 *          [attr_rc=RC]
 * A mig line is a MIG instance of device I (0-based, in the file's order)
 * at MIG index J (default: the next one of I), listed when I says mig=1,
 * with N SMs in nvmlDeviceGetAttributes_v2 (attr_rc: its return code). As
 * NVML, a MIG handle answers its UUID, name and attributes, and "not
 * supported" to energy, power and process samples.
 * RC are NVML return codes (3 not supported, 15 GPU lost). A device is known
 * by its UUID: its handle stays valid while its line is there, and answers
 * NVML_ERROR_GPU_IS_LOST when the line is gone or says lost=1. Without the
 * variable or the file, nvmlInit_v2 says the driver is not loaded. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAXDEV 64
/* fp-simnode keeps up to 1024 samples a GPU (its GPU_HIST_MAX) */
#define MAXPROC 1024
#define MAXMIG 64

enum {
	OK = 0,
	UNINITIALIZED = 1,
	INVALID_ARGUMENT = 2,
	NOT_SUPPORTED = 3,
	NOT_FOUND = 6,
	INSUFFICIENT_SIZE = 7,
	DRIVER_NOT_LOADED = 9,
	GPU_IS_LOST = 15,
	UNKNOWN = 999,
};

typedef struct nvmlDevice_st {
	char uuid[96]; /* a slot per UUID ever seen: handles stay stable */
} slot_t;

typedef struct {
	unsigned pid, sm, mem;
	unsigned long long ts;
} proc_t;

typedef struct {
	char uuid[96], pci[32], name[96];
	unsigned long long energy_mj;
	unsigned power_mw;
	int energy_rc, power_rc, procs_rc, lost, mig;
	unsigned nprocs;
	proc_t procs[MAXPROC]; /* last: a device line clears what is before */
} dev_t_;

typedef struct {
	char uuid[96], name[96];
	int dev, attr_rc;
	unsigned index, sm, gi, ci;
} mig_t;

typedef struct {
	int init_rc;
	dev_t_ dev[MAXDEV];
	unsigned ndev;
	mig_t mig[MAXMIG];
	unsigned nmig;
} state_t;

/* nvmlDeviceAttributes_t (v2) */
typedef struct {
	unsigned multiprocessorCount, sharedCopyEngineCount, sharedDecoderCount,
		sharedEncoderCount, sharedJpegCount, sharedOfaCount,
		gpuInstanceSliceCount, computeInstanceSliceCount;
	unsigned long long memorySizeMB;
} attr_t;

typedef struct {
	unsigned pid;
	unsigned long long timeStamp;
	unsigned smUtil, memUtil, encUtil, decUtil;
} sample_t;

typedef struct {
	char busIdLegacy[16];
	unsigned domain, bus, device, pciDeviceId, pciSubSystemId;
	char busId[32];
} pci_t;

static slot_t slots[MAXDEV];
static int refs;
static state_t st;

/* key=value or key="a value"; returns the next position or NULL at end. */
static char *_token(char *p, char **key, char **val)
{
	while (*p == ' ' || *p == '\t')
		p++;
	if (!*p || *p == '\n' || *p == '#')
		return NULL;
	*key = p;
	*val = NULL;
	while (*p && *p != '=' && *p != ' ' && *p != '\n')
		p++;
	if (*p != '=') {
		if (*p)
			*p++ = '\0';
		return p;
	}
	*p++ = '\0';
	if (*p == '"') {
		*val = ++p;
		while (*p && *p != '"')
			p++;
	} else {
		*val = p;
		while (*p && *p != ' ' && *p != '\n')
			p++;
	}
	if (*p)
		*p++ = '\0';
	return p;
}

static void _set(dev_t_ *d, const char *k, const char *v)
{
	if (!v)
		return;
	if (!strcmp(k, "uuid"))
		snprintf(d->uuid, sizeof(d->uuid), "%s", v);
	else if (!strcmp(k, "pci"))
		snprintf(d->pci, sizeof(d->pci), "%s", v);
	else if (!strcmp(k, "name"))
		snprintf(d->name, sizeof(d->name), "%s", v);
	else if (!strcmp(k, "energy_mj"))
		d->energy_mj = strtoull(v, NULL, 10);
	else if (!strcmp(k, "power_mw"))
		d->power_mw = (unsigned)strtoul(v, NULL, 10);
	else if (!strcmp(k, "energy_rc"))
		d->energy_rc = atoi(v);
	else if (!strcmp(k, "power_rc"))
		d->power_rc = atoi(v);
	else if (!strcmp(k, "procs_rc"))
		d->procs_rc = atoi(v);
	else if (!strcmp(k, "lost"))
		d->lost = atoi(v);
	else if (!strcmp(k, "mig"))
		d->mig = atoi(v);
}

static int _load(void)
{
	const char *path = getenv("FP_FAKE_NVML_STATE");
	char line[1024], *p, *k, *v;
	FILE *f;

	/* read at every call: clear only what the file fills (the samples
	 * of 64 devices are 1.5 MB) */
	st.init_rc = 0;
	st.ndev = 0;
	st.nmig = 0;
	if (!path || !(f = fopen(path, "r")))
		return -1;
	while (fgets(line, sizeof(line), f)) {
		p = _token(line, &k, &v);
		if (!p)
			continue;
		if (!strcmp(k, "init") && v) {
			st.init_rc = atoi(v);
		} else if (!strcmp(k, "device") && st.ndev < MAXDEV) {
			dev_t_ *d = &st.dev[st.ndev++];

			memset(d, 0, offsetof(dev_t_, procs));
			snprintf(d->name, sizeof(d->name), "Fake GPU");
			while ((p = _token(p, &k, &v)))
				_set(d, k, v);
		} else if (!strcmp(k, "proc")) {
			proc_t pr = { 0 };
			int dev = -1;

			while ((p = _token(p, &k, &v))) {
				if (!v)
					continue;
				if (!strcmp(k, "dev"))
					dev = atoi(v);
				else if (!strcmp(k, "pid"))
					pr.pid = (unsigned)atoi(v);
				else if (!strcmp(k, "sm"))
					pr.sm = (unsigned)atoi(v);
				else if (!strcmp(k, "mem"))
					pr.mem = (unsigned)atoi(v);
				else if (!strcmp(k, "ts"))
					pr.ts = strtoull(v, NULL, 10);
			}
			if (dev >= 0 && (unsigned)dev < st.ndev &&
			    st.dev[dev].nprocs < MAXPROC)
				st.dev[dev].procs[st.dev[dev].nprocs++] = pr;
		} else if (!strcmp(k, "mig") && st.nmig < MAXMIG) {
			mig_t *m = &st.mig[st.nmig];
			int index = -1;

			memset(m, 0, sizeof(*m));
			m->dev = -1;
			snprintf(m->name, sizeof(m->name), "Fake GPU MIG");
			while ((p = _token(p, &k, &v))) {
				if (!v)
					continue;
				if (!strcmp(k, "dev"))
					m->dev = atoi(v);
				else if (!strcmp(k, "uuid"))
					snprintf(m->uuid, sizeof(m->uuid), "%s",
						 v);
				else if (!strcmp(k, "name"))
					snprintf(m->name, sizeof(m->name), "%s",
						 v);
				else if (!strcmp(k, "index"))
					index = atoi(v);
				else if (!strcmp(k, "sm"))
					m->sm = (unsigned)atoi(v);
				else if (!strcmp(k, "gi"))
					m->gi = (unsigned)atoi(v);
				else if (!strcmp(k, "ci"))
					m->ci = (unsigned)atoi(v);
				else if (!strcmp(k, "attr_rc"))
					m->attr_rc = atoi(v);
			}
			if (index < 0) {
				index = 0;
				for (unsigned i = 0; i < st.nmig; i++)
					if (st.mig[i].dev == m->dev &&
					    (int)st.mig[i].index >= index)
						index = (int)st.mig[i].index +
							1;
			}
			m->index = (unsigned)index;
			if (m->dev >= 0 && (unsigned)m->dev < st.ndev &&
			    m->uuid[0])
				st.nmig++;
		}
	}
	fclose(f);
	return 0;
}

static slot_t *_slot(const char *uuid)
{
	for (int i = 0; i < MAXDEV; i++) {
		if (!strcmp(slots[i].uuid, uuid))
			return &slots[i];
		if (!slots[i].uuid[0]) {
			snprintf(slots[i].uuid, sizeof(slots[i].uuid), "%s",
				 uuid);
			return &slots[i];
		}
	}
	return NULL;
}

/* The current state of the device behind handle h, or an error code. */
static int _dev(slot_t *h, dev_t_ **d)
{
	if (!refs)
		return UNINITIALIZED;
	if (!h)
		return INVALID_ARGUMENT;
	if (_load())
		return UNKNOWN;
	for (unsigned i = 0; i < st.ndev; i++) {
		if (strcmp(st.dev[i].uuid, h->uuid))
			continue;
		if (st.dev[i].lost)
			return GPU_IS_LOST;
		*d = &st.dev[i];
		return OK;
	}
	for (unsigned i = 0; i < st.nmig; i++)
		if (!strcmp(st.mig[i].uuid, h->uuid))
			return NOT_SUPPORTED; /* a MIG handle */
	return GPU_IS_LOST;
}

/* The MIG instance behind handle h (its parent there and not lost). */
static int _mig(slot_t *h, mig_t **m)
{
	if (!refs)
		return UNINITIALIZED;
	if (!h)
		return INVALID_ARGUMENT;
	if (_load())
		return UNKNOWN;
	for (unsigned i = 0; i < st.nmig; i++) {
		if (strcmp(st.mig[i].uuid, h->uuid))
			continue;
		if (st.dev[st.mig[i].dev].lost || !st.dev[st.mig[i].dev].mig)
			return GPU_IS_LOST;
		*m = &st.mig[i];
		return OK;
	}
	return INVALID_ARGUMENT;
}

const char *nvmlErrorString(int rc)
{
	switch (rc) {
	case OK:
		return "Success";
	case UNINITIALIZED:
		return "Uninitialized";
	case INVALID_ARGUMENT:
		return "Invalid Argument";
	case NOT_SUPPORTED:
		return "Not Supported";
	case NOT_FOUND:
		return "Not Found";
	case INSUFFICIENT_SIZE:
		return "Insufficient Size";
	case DRIVER_NOT_LOADED:
		return "Driver Not Loaded";
	case GPU_IS_LOST:
		return "GPU is lost";
	}
	return "Unknown Error";
}

int nvmlInit_v2(void)
{
	if (_load())
		return DRIVER_NOT_LOADED;
	if (st.init_rc)
		return st.init_rc;
	refs++;
	return OK;
}

int nvmlShutdown(void)
{
	if (!refs)
		return UNINITIALIZED;
	refs--;
	return OK;
}

int nvmlDeviceGetCount_v2(unsigned *n)
{
	if (!refs)
		return UNINITIALIZED;
	if (!n)
		return INVALID_ARGUMENT;
	if (_load())
		return UNKNOWN;
	*n = st.ndev;
	return OK;
}

int nvmlDeviceGetHandleByIndex_v2(unsigned i, slot_t **h)
{
	if (!refs)
		return UNINITIALIZED;
	if (!h)
		return INVALID_ARGUMENT;
	if (_load())
		return UNKNOWN;
	if (i >= st.ndev)
		return INVALID_ARGUMENT;
	if (st.dev[i].lost)
		return GPU_IS_LOST;
	*h = _slot(st.dev[i].uuid);
	return *h ? OK : UNKNOWN;
}

static int _copy(char *out, unsigned len, const char *s)
{
	if (!out)
		return INVALID_ARGUMENT;
	if (strlen(s) + 1 > len)
		return INSUFFICIENT_SIZE;
	memcpy(out, s, strlen(s) + 1);
	return OK;
}

int nvmlDeviceGetUUID(slot_t *h, char *out, unsigned len)
{
	dev_t_ *d;
	mig_t *m;
	int rc = _dev(h, &d);

	if (rc == NOT_SUPPORTED && !(rc = _mig(h, &m)))
		return _copy(out, len, m->uuid);
	return rc ? rc : _copy(out, len, d->uuid);
}

int nvmlDeviceGetName(slot_t *h, char *out, unsigned len)
{
	dev_t_ *d;
	mig_t *m;
	int rc = _dev(h, &d);

	if (rc == NOT_SUPPORTED && !(rc = _mig(h, &m)))
		return _copy(out, len, m->name);
	return rc ? rc : _copy(out, len, d->name);
}

int nvmlDeviceGetPciInfo_v3(slot_t *h, pci_t *p)
{
	dev_t_ *d;
	int rc = _dev(h, &d);

	if (rc)
		return rc;
	if (!p)
		return INVALID_ARGUMENT;
	if (!d->pci[0])
		return NOT_SUPPORTED;
	memset(p, 0, sizeof(*p));
	snprintf(p->busId, sizeof(p->busId), "%s", d->pci);
	sscanf(d->pci, "%x:%x:%x", &p->domain, &p->bus, &p->device);
	return OK;
}

int nvmlDeviceGetTotalEnergyConsumption(slot_t *h, unsigned long long *mj)
{
	dev_t_ *d;
	int rc = _dev(h, &d);

	if (rc)
		return rc;
	if (!mj)
		return INVALID_ARGUMENT;
	if (d->energy_rc)
		return d->energy_rc;
	*mj = d->energy_mj;
	return OK;
}

int nvmlDeviceGetPowerUsage(slot_t *h, unsigned *mw)
{
	dev_t_ *d;
	int rc = _dev(h, &d);

	if (rc)
		return rc;
	if (!mw)
		return INVALID_ARGUMENT;
	if (d->power_rc)
		return d->power_rc;
	*mw = d->power_mw;
	return OK;
}

int nvmlDeviceGetMigMode(slot_t *h, unsigned *cur, unsigned *pend)
{
	dev_t_ *d;
	int rc = _dev(h, &d);

	if (rc)
		return rc;
	if (!cur || !pend)
		return INVALID_ARGUMENT;
	*cur = *pend = d->mig ? 1 : 0;
	return OK;
}

/* As on an A100/H100: seven GPU instances at most. */
int nvmlDeviceGetMaxMigDeviceCount(slot_t *h, unsigned *n)
{
	dev_t_ *d;
	int rc = _dev(h, &d);

	if (rc)
		return rc;
	if (!n)
		return INVALID_ARGUMENT;
	*n = 7;
	for (unsigned i = 0; i < st.nmig; i++)
		if (!strcmp(st.dev[st.mig[i].dev].uuid, d->uuid) &&
		    st.mig[i].index >= *n)
			*n = st.mig[i].index + 1;
	return OK;
}

int nvmlDeviceGetMigDeviceHandleByIndex(slot_t *h, unsigned j, slot_t **m)
{
	dev_t_ *d;
	int rc = _dev(h, &d);

	if (rc)
		return rc;
	if (!m)
		return INVALID_ARGUMENT;
	if (!d->mig)
		return NOT_SUPPORTED;
	for (unsigned i = 0; i < st.nmig; i++) {
		if (strcmp(st.dev[st.mig[i].dev].uuid, d->uuid) ||
		    st.mig[i].index != j)
			continue;
		*m = _slot(st.mig[i].uuid);
		return *m ? OK : UNKNOWN;
	}
	return NOT_FOUND;
}

int nvmlDeviceGetAttributes_v2(slot_t *h, attr_t *a)
{
	mig_t *m;
	int rc = _mig(h, &m);

	if (rc)
		return rc == INVALID_ARGUMENT ? NOT_SUPPORTED : rc;
	if (!a)
		return INVALID_ARGUMENT;
	if (m->attr_rc)
		return m->attr_rc;
	memset(a, 0, sizeof(*a));
	a->multiprocessorCount = m->sm;
	return OK;
}

int nvmlDeviceGetGpuInstanceId(slot_t *h, unsigned *id)
{
	mig_t *m;
	int rc = _mig(h, &m);

	if (rc)
		return rc == INVALID_ARGUMENT ? NOT_SUPPORTED : rc;
	if (!id)
		return INVALID_ARGUMENT;
	*id = m->gi;
	return OK;
}

int nvmlDeviceGetComputeInstanceId(slot_t *h, unsigned *id)
{
	mig_t *m;
	int rc = _mig(h, &m);

	if (rc)
		return rc == INVALID_ARGUMENT ? NOT_SUPPORTED : rc;
	if (!id)
		return INVALID_ARGUMENT;
	*id = m->ci;
	return OK;
}

/* As NVML: with too small a buffer (or none), the count it needs and
 * INSUFFICIENT_SIZE; no sample newer than `since` is NOT_FOUND. */
int nvmlDeviceGetProcessUtilization(slot_t *h, sample_t *buf, unsigned *cnt,
				    unsigned long long since)
{
	unsigned n = 0, k = 0;
	dev_t_ *d;
	int rc = _dev(h, &d);

	if (rc)
		return rc;
	if (!cnt)
		return INVALID_ARGUMENT;
	if (d->procs_rc)
		return d->procs_rc;
	for (unsigned i = 0; i < d->nprocs; i++)
		n += d->procs[i].ts > since;
	if (!n)
		return NOT_FOUND;
	if (!buf || *cnt < n) {
		*cnt = n;
		return INSUFFICIENT_SIZE;
	}
	for (unsigned i = 0; i < d->nprocs; i++) {
		if (d->procs[i].ts <= since)
			continue;
		buf[k++] = (sample_t){
			.pid = d->procs[i].pid,
			.timeStamp = d->procs[i].ts,
			.smUtil = d->procs[i].sm,
			.memUtil = d->procs[i].mem,
		};
	}
	*cnt = n;
	return OK;
}
