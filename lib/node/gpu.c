/* GPU energy readers behind one interface: discovery across vendors (one
 * reader per device), and the accounting every vendor shares (baseline,
 * wraps, resets, power integral). */
#include "gpu_backend.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void fp_gpu_log(const fp_gpu_t *g, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fp_error_vlog(g->log, g->log_ctx, level, fmt, ap);
	va_end(ap);
}

fp_gpu_dev_t *fp_gpu_add_dev(fp_gpu_t *g)
{
	fp_gpu_dev_t *v = realloc(g->devs, (g->ndevs + 1) * sizeof(*v));

	if (!v)
		return NULL;
	g->devs = v;
	memset(&v[g->ndevs], 0, sizeof(*v));
	v[g->ndevs].unit = 1;
	v[g->ndevs].max_raw = UINT64_MAX;
	v[g->ndevs].info.parent_uuid = "";
	v[g->ndevs].info.share = 1;
	return &v[g->ndevs++];
}

long fp_gpu_dev_to_migp(fp_gpu_t *g)
{
	fp_gpu_dev_t *v = realloc(g->migp, (g->nmigp + 1) * sizeof(*v));

	if (!v)
		return -1;
	g->migp = v;
	v[g->nmigp] = g->devs[--g->ndevs];
	return (long)g->nmigp++;
}

int fp_gpu_dev_strings(fp_gpu_dev_t *d, const char *uuid, const char *pci,
		       const char *name, const char *path)
{
	d->uuid = strdup(uuid ? uuid : "");
	d->pci = strdup(pci ? pci : "");
	d->name = strdup(name ? name : "");
	d->path = strdup(path ? path : "");
	if (!d->uuid || !d->pci || !d->name || !d->path)
		return -1;
	d->info.uuid = d->uuid;
	d->info.pci = d->pci;
	d->info.name = d->name;
	d->info.path = d->path;
	return 0;
}

/* amdgpu's own table flags these AMD_IS_APU (amdgpu_drv.c pciidlist): the
 * GPU's reported power is the socket's, CPU cores included (AMD SMI's
 * energy counter on MI300A is the socket's too). Newer APUs found by IP
 * discovery are not in any table and are not flagged. */
static const unsigned amd_apu_ids[] = {
	0x74a0,			/* MI300A (Aqua Vanjaram APU) */
	0x15dd, 0x15d8,		/* Raven, Picasso */
	0x1636, 0x1638, 0x164c, /* Renoir, Cezanne, Lucienne */
};

bool fp_gpu_amd_apu(unsigned long devid)
{
	for (size_t i = 0; i < sizeof(amd_apu_ids) / sizeof(*amd_apu_ids); i++)
		if (devid == amd_apu_ids[i])
			return true;
	return false;
}

static void _free_dev(fp_gpu_dev_t *d)
{
	if (d->ops && d->ops->free)
		d->ops->free(d);
	free(d->uuid);
	free(d->pci);
	free(d->name);
	free(d->path);
	free(d->parent_uuid);
	free(d->procs);
}

/* AMD SMI and hwmon devices in PCI order, after NVML's (kept in NVML's
 * order): an AMD GPU has one index whichever of the two reads it, the order
 * Slurm's gres.conf AutoDetect numbers them in. */
static int _cmp_pci(const void *a, const void *b)
{
	const fp_gpu_dev_t *x = a, *y = b;
	int c = strcmp(x->pci, y->pci);

	return c ? c : strcmp(x->path, y->path);
}

/* Drops the hwmon devices [from, ndevs) that AMD SMI, devices [amd, from),
 * reads already (same PCI address): their power integral would count the
 * same joules again. The AMD SMI device keeps the hwmon's product name and
 * flags. Returns how many AMD devices hwmon had. */
static size_t _drop_amdsmi_twins(fp_gpu_t *g, size_t amd, size_t from)
{
	size_t kept = from, namd = 0;

	for (size_t j = from; j < g->ndevs; j++) {
		fp_gpu_dev_t *h = &g->devs[j];
		fp_gpu_dev_t *twin = NULL;

		if (h->info.vendor == FP_GPU_AMD) {
			namd++;
			for (size_t i = amd; i < from && *h->pci; i++)
				if (!strcmp(g->devs[i].pci, h->pci))
					twin = &g->devs[i];
		}
		if (!twin) {
			if (kept != j)
				g->devs[kept] = *h;
			kept++;
			continue;
		}
		fp_gpu_log(g, FP_LOG_DEBUG,
			   "gpu hwmon %s not used: AMD SMI reads %s's energy "
			   "counter",
			   h->path, h->pci);
		twin->info.flags |= h->info.flags;
		if (*h->name && strcmp(h->name, "amdgpu")) {
			free(twin->name);
			twin->name = h->name;
			h->name = NULL;
		}
		_free_dev(h);
	}
	g->ndevs = kept;
	return namd;
}

fp_gpu_t *fp_gpu_open(const fp_gpu_opts_t *opts, fp_error_t *err)
{
	static const fp_gpu_opts_t none;
	char nvml_why[512] = "", amd_why[512] = "", hwmon_why[512] = "";
	const char *lib, *amdlib, *root;
	size_t nnvml, namdsmi;
	int rc, amd_rc = 0;
	fp_gpu_t *g;

	fp_error_clear(err);
	if (!opts)
		opts = &none;
	lib = opts->nvml_lib ? opts->nvml_lib : FP_GPU_DEFAULT_NVML_LIB;
	amdlib = opts->amdsmi_lib ? opts->amdsmi_lib
				  : FP_GPU_DEFAULT_AMDSMI_LIB;
	root = opts->hwmon_root ? opts->hwmon_root : FP_GPU_DEFAULT_HWMON_ROOT;
	g = calloc(1, sizeof(*g));
	if (!g) {
		fp_error_set(err, FP_ENOMEM, "gpu: out of memory");
		return NULL;
	}
	g->log = opts->log;
	g->log_ctx = opts->log_ctx;

	rc = 0;
	if (*lib) {
		rc = fp_gpu_nvml_open(g, lib, nvml_why, sizeof(nvml_why));
		if (rc == -1)
			fp_gpu_log(g, FP_LOG_INFO, "gpu: no NVIDIA GPU: %s",
				   nvml_why);
	} else {
		snprintf(nvml_why, sizeof(nvml_why), "NVML not asked for");
	}
	nnvml = g->ndevs;
	if (rc != -2 && *amdlib) {
		rc = amd_rc =
			fp_gpu_amdsmi_open(g, amdlib, amd_why, sizeof(amd_why));
	} else if (rc != -2) {
		snprintf(amd_why, sizeof(amd_why), "AMD SMI not asked for");
	}
	namdsmi = g->ndevs;
	if (rc != -2 && *root) {
		rc = fp_gpu_hwmon_open(g, root, hwmon_why, sizeof(hwmon_why));
		if (rc == -1)
			fp_gpu_log(g, FP_LOG_INFO, "gpu: no GPU hwmon: %s",
				   hwmon_why);
	} else if (rc != -2) {
		snprintf(hwmon_why, sizeof(hwmon_why), "hwmon not asked for");
	}
	if (rc == -2) {
		fp_error_set(err, FP_ENOMEM, "gpu: out of memory");
		fp_gpu_close(g);
		return NULL;
	}
	/* Without AMD SMI an AMD GPU is read through hwmon (its power,
	 * integrated): worth one line where there is one, noise on other
	 * nodes. */
	if (_drop_amdsmi_twins(g, nnvml, namdsmi) && amd_rc == -1)
		fp_gpu_log(
			g, FP_LOG_INFO,
			"gpu: no AMD SMI energy counter (%s): amdgpu devices "
			"are read through hwmon",
			amd_why);
	else if (amd_rc == -1)
		fp_gpu_log(g, FP_LOG_DEBUG, "gpu: no AMD SMI: %s", amd_why);
	if (!g->ndevs) {
		fp_error_set(err, FP_ENOTSUP,
			     "gpu: no readable GPU (%s; %s; %s)", nvml_why,
			     amd_why, hwmon_why);
		fp_gpu_close(g);
		return NULL;
	}
	if (g->ndevs > nnvml)
		qsort(g->devs + nnvml, g->ndevs - nnvml, sizeof(*g->devs),
		      _cmp_pci);
	for (size_t i = 0; i < g->ndevs; i++) {
		fp_gpu_dev_t *d = &g->devs[i];

		d->info.index = i;
		d->info.uuid = d->uuid;
		d->info.pci = d->pci;
		d->info.name = d->name;
		d->info.path = d->path;
		d->info.parent_uuid = d->parent_uuid ? d->parent_uuid : "";
	}
	/* a MIG parent's log lines name its first instance's index */
	for (size_t i = g->ndevs; i-- > 0;)
		if (g->devs[i].info.flags & FP_GPU_MIG_INSTANCE)
			g->migp[g->devs[i].migp].info.index = i;
	return g;
}

void fp_gpu_close(fp_gpu_t *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->ndevs; i++)
		_free_dev(&g->devs[i]);
	free(g->devs);
	for (size_t i = 0; i < g->nmigp; i++)
		_free_dev(&g->migp[i]);
	free(g->migp);
	fp_gpu_nvml_close(g);
	fp_gpu_amdsmi_close(g);
	free(g);
}

size_t fp_gpu_ndevices(const fp_gpu_t *g)
{
	return g->ndevs;
}

const fp_gpu_info_t *fp_gpu_device(const fp_gpu_t *g, size_t i)
{
	return i < g->ndevs ? &g->devs[i].info : NULL;
}

const char *fp_gpu_vendor_name(fp_gpu_vendor_t v)
{
	switch (v) {
	case FP_GPU_NVIDIA:
		return "nvidia";
	case FP_GPU_AMD:
		return "amd";
	case FP_GPU_INTEL:
		return "intel";
	}
	return "unknown";
}

const char *fp_gpu_source_name(fp_gpu_source_t s)
{
	switch (s) {
	case FP_GPU_COUNTER:
		return "counter";
	case FP_GPU_POWER_INTEGRAL:
		return "power-integral";
	}
	return "unknown";
}

static void _add_uj(fp_gpu_dev_t *d, double uj)
{
	double whole;

	if (!(uj > 0))
		return;
	d->frac_uj += uj;
	whole = floor(d->frac_uj);
	d->frac_uj -= whole;
	if (whole >= (double)(UINT64_MAX - d->total_uj))
		d->total_uj = UINT64_MAX;
	else
		d->total_uj += (uint64_t)whole;
}

/* A counter reading raw at t, after a valid previous one. */
static void _count(fp_gpu_t *g, fp_gpu_dev_t *d, uint64_t raw, double t,
		   fp_gpu_reading_t *r)
{
	uint64_t delta;
	double dt = t - d->prev_t;

	if (raw >= d->prev_raw) {
		_add_uj(d, (double)(raw - d->prev_raw) * (double)d->unit);
	} else {
		/* Unsigned arithmetic: exact also for max_raw = 2^64 - 1. */
		delta = d->max_raw - d->prev_raw + raw + 1;
		if (dt > 0 && (double)delta * (double)d->unit <=
				      FP_GPU_MAX_W * dt * 1e6) {
			_add_uj(d, (double)delta * (double)d->unit);
			r->event = FP_GPU_EV_WRAP;
		} else {
			fp_gpu_log(g, FP_LOG_WARN,
				   "gpu %zu (%s): energy counter went down "
				   "from %llu to %llu: a reset, the interval "
				   "has no value",
				   d->info.index, d->path,
				   (unsigned long long)d->prev_raw,
				   (unsigned long long)raw);
			r->event = FP_GPU_EV_RESET;
			r->valid = false;
		}
	}
	d->prev_raw = raw;
	d->prev_t = t;
}

/* A power reading raw at t: the trapezoid since the last good reading. */
static void _integrate(fp_gpu_dev_t *d, uint64_t raw, double t)
{
	double dt = t - d->prev_t;

	if (dt <= 0)
		return; /* same instant or clock went back: nothing to add */
	_add_uj(d, ((double)d->prev_raw + (double)raw) / 2.0 * (double)d->unit *
			   dt);
	d->prev_raw = raw;
	d->prev_t = t;
}

/* One device's reading at t into r; true when valid. */
static bool _read_dev(fp_gpu_t *g, fp_gpu_dev_t *d, double t,
		      fp_gpu_reading_t *r, bool *first_fault, fp_error_t *err)
{
	char why[400] = "";
	uint64_t raw = 0;

	r->event = FP_GPU_EV_NONE;
	r->valid = true;
	if (d->ops->read(g, d, &raw, why, sizeof(why))) {
		snprintf(d->fault, sizeof(d->fault), "gpu %zu (%s %s): %s",
			 d->info.index, fp_gpu_vendor_name(d->info.vendor),
			 d->uuid, why);
		if (!d->failing)
			fp_gpu_log(g, FP_LOG_WARN,
				   "%s; its energy is held until it "
				   "reads again",
				   d->fault);
		if (*first_fault)
			fp_error_set(err, FP_EIO, "%s", d->fault);
		*first_fault = false;
		d->failing = true;
		r->valid = false;
		r->event = FP_GPU_EV_FAILED;
		r->energy_uj = d->total_uj;
		r->fault = d->fault;
		return false;
	}
	d->fault[0] = '\0';
	if (d->failing) {
		fp_gpu_log(g, FP_LOG_INFO, "gpu %zu (%s): readable again",
			   d->info.index, d->path);
		r->event = FP_GPU_EV_RETURNED;
		d->failing = false;
	}
	if (!d->have_base) {
		d->have_base = true;
		d->prev_raw = raw;
		d->prev_t = t;
		r->event = FP_GPU_EV_BASELINE;
	} else if (d->info.source == FP_GPU_COUNTER) {
		_count(g, d, raw, t, r);
	} else {
		_integrate(d, raw, t);
	}
	r->energy_uj = d->total_uj;
	r->fault = d->fault;
	return r->valid;
}

/* The delta µJ a MIG parent k gained, given to its instances by share in
 * whole µJ that add up to delta exactly (so the instances of a GPU always
 * sum to its energy), none below 0, each carrying what it is owed. */
static void _mig_split(fp_gpu_t *g, size_t k, uint64_t delta)
{
	uint64_t given = 0;

	for (size_t i = 0; i < g->ndevs; i++) {
		fp_gpu_dev_t *d = &g->devs[i];

		if (!(d->info.flags & FP_GPU_MIG_INSTANCE) || d->migp != k)
			continue;
		d->owed += (double)delta * d->info.share;
		d->give = d->owed >= 1 ? (uint64_t)floor(d->owed) : 0;
		given += d->give;
	}
	/* rounding left given off delta by fewer µJ than instances: one
	 * each to those owed the most, or back from those given most over */
	while (given != delta) {
		fp_gpu_dev_t *best = NULL;

		for (size_t i = 0; i < g->ndevs; i++) {
			fp_gpu_dev_t *d = &g->devs[i];
			double over;

			if (!(d->info.flags & FP_GPU_MIG_INSTANCE) ||
			    d->migp != k || (given > delta && !d->give))
				continue;
			over = d->owed - (double)d->give;
			if (!best ||
			    (given < delta
				     ? over > best->owed - (double)best->give
				     : over < best->owed - (double)best->give))
				best = d;
		}
		if (!best)
			break; /* no instance: cannot happen, parents have one */
		if (given < delta) {
			best->give++;
			given++;
		} else {
			best->give--;
			given--;
		}
	}
	for (size_t i = 0; i < g->ndevs; i++) {
		fp_gpu_dev_t *d = &g->devs[i];

		if (!(d->info.flags & FP_GPU_MIG_INSTANCE) || d->migp != k)
			continue;
		d->owed -= (double)d->give;
		d->total_uj += d->give;
		d->give = 0;
	}
}

size_t fp_gpu_read(fp_gpu_t *g, double t, fp_gpu_reading_t *out,
		   fp_error_t *err)
{
	size_t nvalid = 0;
	bool first_fault = true;

	fp_error_clear(err);
	/* a GPU in MIG mode is read once, for all its instances */
	for (size_t k = 0; k < g->nmigp; k++) {
		fp_gpu_dev_t *p = &g->migp[k];
		uint64_t before = p->total_uj;

		_read_dev(g, p, t, &p->rd, &first_fault, err);
		_mig_split(g, k, p->total_uj - before);
	}
	for (size_t i = 0; i < g->ndevs; i++) {
		fp_gpu_dev_t *d = &g->devs[i];
		fp_gpu_reading_t *r = &out[i];

		if (d->info.flags & FP_GPU_MIG_INSTANCE) {
			*r = g->migp[d->migp].rd;
			r->energy_uj = d->total_uj;
			nvalid += r->valid;
			continue;
		}
		nvalid += _read_dev(g, d, t, r, &first_fault, err);
	}
	return nvalid;
}

int fp_gpu_procs(fp_gpu_t *g, size_t i, const fp_gpu_proc_t **procs, size_t *n,
		 fp_error_t *err)
{
	fp_gpu_dev_t *d;

	fp_error_clear(err);
	*procs = NULL;
	*n = 0;
	if (i >= g->ndevs)
		return fp_error_set(err, FP_EINVAL,
				    "gpu %zu: no such device (%zu)", i,
				    g->ndevs);
	d = &g->devs[i];
	if (!d->ops->procs)
		return fp_error_set(err, FP_ENOTSUP,
				    "gpu %zu (%s %s): no per-process activity",
				    i, fp_gpu_vendor_name(d->info.vendor),
				    d->path);
	if (d->ops->procs(g, d, err))
		return -1;
	*procs = d->procs;
	*n = d->nprocs;
	return 0;
}

/* ---- a step's GPU ids ------------------------------------------------- */

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

/* The devices id names into out[] (nd long): *n of them, 0 for none. A
 * GPU in MIG mode is named by its instances' UUIDs ("MIG-...", as Slurm's
 * CUDA_VISIBLE_DEVICES gives them) one by one, and by its own UUID or PCI
 * address as all its instances together. */
static void _match(const char *id, const fp_gpu_t *gpu, size_t *out, size_t *n)
{
	size_t nd = fp_gpu_ndevices(gpu);
	char *end;
	unsigned long v;

	*n = 0;
	if (isdigit((unsigned char)id[0]) && !strchr(id, ':')) {
		/* ZE_AFFINITY_MASK: "device.subdevice" */
		errno = 0;
		v = strtoul(id, &end, 10);
		if (!errno && (*end == '\0' || *end == '.') && v < nd)
			out[(*n)++] = v;
		return;
	}
	for (size_t i = 0; i < nd; i++) {
		const fp_gpu_info_t *g = fp_gpu_device(gpu, i);

		if ((g->uuid && !strcasecmp(id, g->uuid)) ||
		    (g->pci && _pci_eq(id, g->pci)) ||
		    (g->parent_uuid && *g->parent_uuid &&
		     !strcasecmp(id, g->parent_uuid)))
			out[(*n)++] = i;
	}
}

int fp_gpu_map_ids(const char *list, const fp_gpu_t *gpu, size_t *out,
		   size_t cap, size_t *n, char *unknown, size_t usize,
		   fp_error_t *err)
{
	const char *p = list ? list : "";
	size_t nd = fp_gpu_ndevices(gpu), used = 0;
	size_t *m = calloc(nd ? nd : 1, sizeof(*m));
	int rc = 0;

	fp_error_clear(err);
	*n = 0;
	if (unknown && usize)
		unknown[0] = '\0';
	if (!m)
		return fp_error_set(err, FP_ENOMEM, "step gpus: out of memory");
	while (*p) {
		size_t len = strcspn(p, ","), nm, k;
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
		_match(id, gpu, m, &nm);
		if (!nm && !rc)
			rc = fp_error_set(err, FP_EINVAL,
					  "GPU \"%s\" is no "
					  "GPU of this node (%zu found)",
					  id, fp_gpu_ndevices(gpu));
		if (!nm && unknown && used + strlen(id) + 2 <= usize)
			used += (size_t)snprintf(unknown + used, usize - used,
						 "%s%s", used ? "," : "", id);
		for (size_t j = 0; j < nm; j++) {
			for (k = 0; k < *n && out[k] != m[j]; k++)
				;
			if (k == *n && *n < cap)
				out[(*n)++] = m[j];
		}
	}
	free(m);
	return rc;
}

/* ---- idle floor --------------------------------------------------------- */

struct fp_gpu_floor {
	size_t n;
	double *t0;	 /* start of each GPU's window */
	uint64_t *uj0;	 /* its reading then */
	bool *open;	 /* a window is open */
	double *floor_w; /* NAN: none yet */
};

fp_gpu_floor_t *fp_gpu_floor_new(size_t ngpus)
{
	fp_gpu_floor_t *f = calloc(1, sizeof(*f));
	size_t n = ngpus ? ngpus : 1;

	if (!f)
		return NULL;
	f->n = ngpus;
	f->t0 = calloc(n, sizeof(*f->t0));
	f->uj0 = calloc(n, sizeof(*f->uj0));
	f->open = calloc(n, sizeof(*f->open));
	f->floor_w = calloc(n, sizeof(*f->floor_w));
	if (!f->t0 || !f->uj0 || !f->open || !f->floor_w) {
		fp_gpu_floor_free(f);
		return NULL;
	}
	for (size_t g = 0; g < ngpus; g++)
		f->floor_w[g] = NAN;
	return f;
}

void fp_gpu_floor_free(fp_gpu_floor_t *f)
{
	if (!f)
		return;
	free(f->t0);
	free(f->uj0);
	free(f->open);
	free(f->floor_w);
	free(f);
}

void fp_gpu_floor_push(fp_gpu_floor_t *f, double t, const uint64_t *uj,
		       const bool *valid)
{
	if (!f || !uj)
		return;
	for (size_t g = 0; g < f->n; g++) {
		if (valid && !valid[g]) {
			f->open[g] = false;
			continue;
		}
		if (f->open[g] && uj[g] >= f->uj0[g] &&
		    t - f->t0[g] < FP_GPU_FLOOR_MIN_S)
			continue; /* the window goes on */
		if (f->open[g] && uj[g] >= f->uj0[g]) {
			double w = (double)(uj[g] - f->uj0[g]) * 1e-6 /
				   (t - f->t0[g]);

			if (!(w >= f->floor_w[g])) /* NAN too */
				f->floor_w[g] = w;
		}
		f->open[g] = true;
		f->t0[g] = t;
		f->uj0[g] = uj[g];
	}
}

double fp_gpu_floor_w(const fp_gpu_floor_t *f, size_t g)
{
	return f && g < f->n ? f->floor_w[g] : NAN;
}
