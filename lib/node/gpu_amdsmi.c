/* AMD GPUs through AMD SMI's energy counter, dlopen()ed at run time: no
 * build-time dependency on ROCm; only the entry points used are declared. */
#include "gpu_backend.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* From AMD SMI's public API (amd_smi/amdsmi.h, ROCm 6): values and layouts
 * are its ABI. */
typedef unsigned amdsmi_status_t;
#define AMDSMI_STATUS_SUCCESS 0
#define AMDSMI_STATUS_NOT_SUPPORTED 2
#define AMDSMI_STATUS_OUT_OF_RESOURCES 15
#define AMDSMI_STATUS_INSUFFICIENT_SIZE 41
#define AMDSMI_INIT_AMD_GPUS (1u << 1)

/* amdsmi_socket_handle and amdsmi_processor_handle */
typedef void *amdsmi_handle;

/* A union of bit fields over one uint64_t: function 3 bits, device 5, bus
 * 8, domain 48, from the low bits up (the x86-64 and aarch64 ABIs). Read
 * from as_uint, so no bit-field layout is assumed here. */
typedef union amdsmi_bdf {
	uint64_t as_uint;
} amdsmi_bdf_t;

typedef struct amdsmi {
	fp_gpu_lib_t so;
	amdsmi_status_t (*init)(uint64_t);
	amdsmi_status_t (*shut_down)(void);
	amdsmi_status_t (*status_string)(amdsmi_status_t, const char **);
	amdsmi_status_t (*sockets)(uint32_t *, amdsmi_handle *);
	amdsmi_status_t (*processors)(amdsmi_handle, uint32_t *,
				      amdsmi_handle *);
	amdsmi_status_t (*bdf)(amdsmi_handle, amdsmi_bdf_t *);
	/* counts, µJ per count, ns */
	amdsmi_status_t (*energy)(amdsmi_handle, uint64_t *, float *,
				  uint64_t *);
	amdsmi_status_t (*gpu_id)(amdsmi_handle, uint16_t *);
} amdsmi_t;

typedef struct amddev {
	amdsmi_handle h;
	bool stale; /* a call failed: look the handle up again by PCI */
} amddev_t;

/* Every GPU handle AMD SMI has, socket by socket. */
typedef struct handles {
	amdsmi_handle *h;
	uint32_t n;
} handles_t;

static const char *_err(const amdsmi_t *a, amdsmi_status_t rc)
{
	const char *s = NULL;

	if (a->status_string &&
	    a->status_string(rc, &s) != AMDSMI_STATUS_SUCCESS)
		s = NULL;
	return s ? s : "unknown AMD SMI error";
}

static int _amdsmi_read(fp_gpu_t *g, fp_gpu_dev_t *d, uint64_t *raw, char *why,
			size_t whysize);
static void _amdsmi_free(fp_gpu_dev_t *d);

static const fp_gpu_ops_t amdsmi_ops = {
	.read = _amdsmi_read,
	.procs = NULL, /* AMD SMI's process list has no busy share */
	.free = _amdsmi_free,
};

static void _pci_address(amdsmi_bdf_t b, char *out, size_t size)
{
	uint64_t v = b.as_uint;

	snprintf(out, size, "%04llx:%02x:%02x.%x",
		 (unsigned long long)(v >> 16), (unsigned)(v >> 8) & 0xff,
		 (unsigned)(v >> 3) & 0x1f, (unsigned)v & 0x7);
}

/* A list AMD SMI fills: asked with no buffer it says how many, which may
 * have grown by the second call. */
static amdsmi_status_t _list(amdsmi_t *a, amdsmi_handle socket, bool sockets,
			     amdsmi_handle **out, uint32_t *n)
{
	amdsmi_handle *v = NULL;
	amdsmi_status_t rc;
	uint32_t cnt = 0;

	*out = NULL;
	*n = 0;
	for (int tries = 0; tries < 4; tries++) {
		uint32_t cap = cnt;
		amdsmi_handle *nv;

		rc = sockets ? a->sockets(&cnt, v)
			     : a->processors(socket, &cnt, v);
		if (rc != AMDSMI_STATUS_SUCCESS &&
		    rc != AMDSMI_STATUS_INSUFFICIENT_SIZE)
			break;
		if (v && cnt <= cap) {
			*out = v;
			*n = cnt;
			return AMDSMI_STATUS_SUCCESS;
		}
		if (!cnt)
			return AMDSMI_STATUS_SUCCESS;
		nv = realloc(v, cnt * sizeof(*v));
		if (!nv) {
			rc = AMDSMI_STATUS_OUT_OF_RESOURCES;
			break;
		}
		v = nv;
		rc = AMDSMI_STATUS_INSUFFICIENT_SIZE;
	}
	free(v);
	return rc;
}

/* All of AMD SMI's GPUs into hs (the caller free()s hs->h); why names the
 * call that failed. */
static int _handles(amdsmi_t *a, handles_t *hs, char *why, size_t whysize)
{
	amdsmi_handle *socks, *procs;
	uint32_t nsocks, nprocs;
	amdsmi_status_t rc;

	hs->h = NULL;
	hs->n = 0;
	if ((rc = _list(a, NULL, true, &socks, &nsocks))) {
		snprintf(why, whysize, "amdsmi_get_socket_handles: %s",
			 _err(a, rc));
		return -1;
	}
	for (uint32_t s = 0; s < nsocks; s++) {
		amdsmi_handle *nh;

		if ((rc = _list(a, socks[s], false, &procs, &nprocs))) {
			snprintf(why, whysize,
				 "amdsmi_get_processor_handles (socket %u): %s",
				 s, _err(a, rc));
			free(socks);
			free(hs->h);
			hs->h = NULL;
			hs->n = 0;
			return -1;
		}
		nh = nprocs ? realloc(hs->h, (hs->n + nprocs) * sizeof(*nh))
			    : hs->h;
		if (nprocs && !nh) {
			snprintf(why, whysize, "out of memory");
			free(procs);
			free(socks);
			free(hs->h);
			hs->h = NULL;
			hs->n = 0;
			return -1;
		}
		hs->h = nh;
		if (nprocs)
			memcpy(hs->h + hs->n, procs, nprocs * sizeof(*procs));
		hs->n += nprocs;
		free(procs);
	}
	free(socks);
	return 0;
}

static bool _known(const fp_gpu_t *g, const char *pci)
{
	for (size_t i = 0; i < g->ndevs; i++)
		if (g->devs[i].ops == &amdsmi_ops &&
		    !strcmp(g->devs[i].pci, pci))
			return true;
	return false;
}

/* GPU h of AMD SMI. 0 added, 1 skipped (logged), -2 on ENOMEM. */
static int _add(fp_gpu_t *g, amdsmi_t *a, amdsmi_handle h, uint32_t i)
{
	char pci[32], path[4200];
	uint64_t count, ns;
	amdsmi_status_t rc;
	amdsmi_bdf_t bdf;
	fp_gpu_dev_t *d;
	amddev_t *ad;
	uint16_t id;
	float res;

	if ((rc = a->bdf(h, &bdf))) {
		/* Without its address it can be matched neither to its hwmon
		 * twin nor to Slurm's GRES: hwmon reads it, if anything. */
		fp_gpu_log(g, FP_LOG_WARN,
			   "gpu amdsmi %s #%u skipped: "
			   "amdsmi_get_gpu_device_bdf: %s",
			   a->so.path, i, _err(a, rc));
		return 1;
	}
	_pci_address(bdf, pci, sizeof(pci));
	snprintf(path, sizeof(path), "amdsmi %s %s", a->so.path, pci);
	if (_known(g, pci)) {
		/* one address, one device: read once however many handles
		 * AMD SMI gives for it */
		fp_gpu_log(g, FP_LOG_DEBUG,
			   "gpu %s #%u skipped: device seen already", path, i);
		return 1;
	}
	rc = a->energy(h, &count, &res, &ns);
	if (rc == AMDSMI_STATUS_NOT_SUPPORTED) {
		fp_gpu_log(g, FP_LOG_INFO,
			   "gpu %s: no energy counter; its hwmon power, if "
			   "any, is integrated instead",
			   path);
		return 1;
	}
	if (rc) {
		fp_gpu_log(g, FP_LOG_WARN,
			   "gpu %s skipped: amdsmi_get_energy_count: %s", path,
			   _err(a, rc));
		return 1;
	}
	if (!isfinite(res) || !(res > 0)) {
		fp_gpu_log(g, FP_LOG_WARN,
			   "gpu %s skipped: amdsmi_get_energy_count: counter "
			   "resolution %g µJ",
			   path, (double)res);
		return 1;
	}
	d = fp_gpu_add_dev(g);
	if (!d)
		return -2;
	d->ops = &amdsmi_ops;
	ad = calloc(1, sizeof(*ad));
	d->priv = ad;
	/* The PCI address as uuid, as hwmon's: the GPU keeps its id in the
	 * traces whether or not ROCm is installed. */
	if (!ad || fp_gpu_dev_strings(d, pci, pci, "amdgpu", path))
		return -2;
	ad->h = h;
	d->info.vendor = FP_GPU_AMD;
	d->info.source = FP_GPU_COUNTER;
	d->unit = res;
	/* The driver's gpu_metrics accumulator is 64 bits (MI200: the
	 * firmware's two 32-bit halves; MI300: SocketEnergyAcc), passed on as
	 * is by the library. Its resolution is a constant 15.3 µJ there (ROCm
	 * SMI's kEnergyCounterResolution) where the driver's unit is 2^-16 J:
	 * taken as given, so 0.27 % high (docs/model.md). */
	d->max_raw = UINT64_MAX;
	if (a->gpu_id && a->gpu_id(h, &id) == AMDSMI_STATUS_SUCCESS &&
	    fp_gpu_amd_apu(id))
		d->info.flags |= FP_GPU_APU;
	return 0;
}

int fp_gpu_amdsmi_open(fp_gpu_t *g, const char *lib, char *why, size_t whysize)
{
	amdsmi_t *a = calloc(1, sizeof(*a));
	handles_t hs;
	amdsmi_status_t rc;
	size_t before = g->ndevs;
	int loaded;

	if (!a)
		return -2;
	if ((loaded = fp_gpu_lib_open(&a->so, "AMD SMI", lib, why, whysize))) {
		free(a);
		return loaded;
	}
	g->amdsmi = a;
	if (!(a->init = fp_gpu_lib_sym(&a->so, "amdsmi_init", true, why,
				       whysize)) ||
	    !(a->shut_down = fp_gpu_lib_sym(&a->so, "amdsmi_shut_down", true,
					    why, whysize)) ||
	    !(a->sockets = fp_gpu_lib_sym(&a->so, "amdsmi_get_socket_handles",
					  true, why, whysize)) ||
	    !(a->processors = fp_gpu_lib_sym(&a->so,
					     "amdsmi_get_processor_handles",
					     true, why, whysize)) ||
	    !(a->bdf = fp_gpu_lib_sym(&a->so, "amdsmi_get_gpu_device_bdf", true,
				      why, whysize)) ||
	    !(a->energy = fp_gpu_lib_sym(&a->so, "amdsmi_get_energy_count",
					 true, why, whysize))) {
		a->shut_down = NULL; /* never initialised */
		fp_gpu_amdsmi_close(g);
		return -1;
	}
	a->status_string = fp_gpu_lib_sym(
		&a->so, "amdsmi_status_code_to_string", false, why, whysize);
	a->gpu_id = fp_gpu_lib_sym(&a->so, "amdsmi_get_gpu_id", false, why,
				   whysize);
	if ((rc = a->init(AMDSMI_INIT_AMD_GPUS))) {
		snprintf(why, whysize, "AMD SMI %s: amdsmi_init: %s", lib,
			 _err(a, rc));
		a->shut_down = NULL;
		fp_gpu_amdsmi_close(g);
		return -1;
	}
	if (_handles(a, &hs, why, whysize)) {
		char msg[400];

		snprintf(msg, sizeof(msg), "%s", why);
		snprintf(why, whysize, "AMD SMI %s: %s", lib, msg);
		fp_gpu_amdsmi_close(g);
		return -1;
	}
	for (uint32_t i = 0; i < hs.n; i++)
		if (_add(g, a, hs.h[i], i) == -2) {
			free(hs.h);
			return -2;
		}
	free(hs.h);
	if (g->ndevs == before) {
		snprintf(why, whysize,
			 "AMD SMI %s: %u GPUs, none with an energy counter",
			 lib, hs.n);
		fp_gpu_amdsmi_close(g);
		return -1;
	}
	fp_gpu_log(g, FP_LOG_INFO,
		   "gpu: AMD SMI %s: %zu GPUs read by their energy counter",
		   lib, g->ndevs - before);
	return 0;
}

void fp_gpu_amdsmi_close(fp_gpu_t *g)
{
	amdsmi_t *a = g->amdsmi;

	if (!a)
		return;
	if (a->shut_down)
		a->shut_down();
	fp_gpu_lib_close(&a->so);
	free(a);
	g->amdsmi = NULL;
}

/* The device's handle again after a failure: AMD SMI's order may change
 * when a GPU falls off the bus and returns, its PCI address does not. */
static int _relookup(amdsmi_t *a, fp_gpu_dev_t *d, char *why, size_t whysize)
{
	amddev_t *ad = d->priv;
	amdsmi_bdf_t bdf;
	handles_t hs;
	char pci[32];

	if (_handles(a, &hs, why, whysize))
		return -1;
	for (uint32_t i = 0; i < hs.n; i++) {
		if (a->bdf(hs.h[i], &bdf))
			continue;
		_pci_address(bdf, pci, sizeof(pci));
		if (strcmp(pci, d->pci))
			continue;
		ad->h = hs.h[i];
		ad->stale = false;
		free(hs.h);
		return 0;
	}
	snprintf(why, whysize, "not among AMD SMI's %u GPUs", hs.n);
	free(hs.h);
	return -1;
}

static int _amdsmi_read(fp_gpu_t *g, fp_gpu_dev_t *d, uint64_t *raw, char *why,
			size_t whysize)
{
	amdsmi_t *a = g->amdsmi;
	amddev_t *ad = d->priv;
	uint64_t ns;
	amdsmi_status_t rc;
	float res;

	if (ad->stale && _relookup(a, d, why, whysize))
		return -1;
	/* The counter's own timestamp is not used: the caller's clock times
	 * every vendor alike. */
	if ((rc = a->energy(ad->h, raw, &res, &ns))) {
		snprintf(why, whysize, "amdsmi_get_energy_count: %s",
			 _err(a, rc));
		ad->stale = true;
		return -1;
	}
	return 0;
}

static void _amdsmi_free(fp_gpu_dev_t *d)
{
	free(d->priv);
}
