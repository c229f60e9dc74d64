/* AMD (amdgpu) and Intel (i915, xe) GPUs through their hwmon devices, under
 * /sys/class/hwmon or /sys/class/drm (or a generated copy of either). */
#include "gpu_backend.h"
#include "footprint/file.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct hwmon {
	char *root;	  /* to look the device up again if it vanishes */
	char *driver;	  /* the hwmon name: amdgpu, i915, xe */
	const char *file; /* energy1_input, energy2_input, power1_average... */
} hwmon_t;

static bool _is_pci(const char *s)
{
	unsigned dom, bus, dev, fn;
	int end = 0;

	return sscanf(s, "%4x:%2x:%2x.%1x%n", &dom, &bus, &dev, &fn, &end) ==
		       4 &&
	       !s[end] && end == 12;
}

/* The PCI address the hwmon's device link points to, lower case, or "". */
static void _pci_of(const char *dir, char *pci, size_t size)
{
	char path[4096], link[4096];
	const char *base;
	ssize_t n;

	pci[0] = '\0';
	fp_file_pathf(path, sizeof(path), "%s/device", dir);
	n = readlink(path, link, sizeof(link) - 1);
	if (n <= 0)
		return;
	link[n] = '\0';
	base = strrchr(link, '/');
	base = base ? base + 1 : link;
	if (!_is_pci(base))
		return;
	snprintf(pci, size, "%s", base);
	for (char *p = pci; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

static int _vendor_of(const char *driver, fp_gpu_vendor_t *v)
{
	if (!strcmp(driver, "amdgpu"))
		*v = FP_GPU_AMD;
	else if (!strcmp(driver, "i915") || !strcmp(driver, "xe"))
		*v = FP_GPU_INTEL;
	else
		return -1;
	return 0;
}

/* The energy file to read: a counter where the driver has one (i915
 * energy1_input; xe energy1_input is the card, energy2_input the package
 * when there is no card channel), else amdgpu's power, integrated. */
static const char *_energy_file(const char *dir, fp_gpu_vendor_t v,
				fp_gpu_source_t *src)
{
	static const char *const counters[] = { "energy1_input",
						"energy2_input" };
	static const char *const powers[] = { "power1_average",
					      "power1_input" };
	char path[4096];

	for (size_t i = 0; i < 2; i++) {
		if (i == 1 && v != FP_GPU_INTEL)
			break;
		fp_file_pathf(path, sizeof(path), "%s/%s", dir, counters[i]);
		if (access(path, R_OK) == 0) {
			*src = FP_GPU_COUNTER;
			return counters[i];
		}
	}
	if (v != FP_GPU_AMD)
		return NULL;
	for (size_t i = 0; i < 2; i++) {
		fp_file_pathf(path, sizeof(path), "%s/%s", dir, powers[i]);
		if (access(path, R_OK) == 0) {
			*src = FP_GPU_POWER_INTEGRAL;
			return powers[i];
		}
	}
	return NULL;
}

static bool _amd_apu(const char *dir)
{
	char path[4096], buf[32];
	unsigned long id;
	char *end;

	fp_file_pathf(path, sizeof(path), "%s/device/device", dir);
	if (fp_file_read_text(path, buf, sizeof(buf)))
		return false;
	id = strtoul(buf, &end, 16);
	if (end == buf || *end)
		return false;
	return fp_gpu_amd_apu(id);
}

static int _read_value(const char *dir, const char *file, uint64_t *v,
		       char *why, size_t whysize)
{
	char path[4096];
	const char *fault;

	fp_file_pathf(path, sizeof(path), "%s/%s", dir, file);
	if (fp_file_read_u64(path, v, &fault)) {
		snprintf(why, whysize, "%s: %s", path, fault);
		return -1;
	}
	return 0;
}

/* Calls fn for every hwmon directory under root: root/hwmonN, or
 * root/cardN/device/hwmon/hwmonM. Stops at fn's non-zero return. */
static int _each_hwmon(const char *root, int (*fn)(const char *dir, void *ctx),
		       void *ctx)
{
	struct dirent *de;
	char dir[4096];
	int rc = 0, n, end;
	DIR *d = opendir(root);

	if (!d)
		return -1;
	while (!rc && (de = readdir(d))) {
		end = 0;
		if (sscanf(de->d_name, "hwmon%d%n", &n, &end) == 1 &&
		    !de->d_name[end]) {
			fp_file_pathf(dir, sizeof(dir), "%s/%s", root,
				      de->d_name);
			rc = fn(dir, ctx);
		} else if (sscanf(de->d_name, "card%d%n", &n, &end) == 1 &&
			   !de->d_name[end]) {
			/* cardN-DP-1 connectors and renderD nodes are the
			 * same device again: only cardN. */
			struct dirent *he;
			char sub[4096];
			DIR *h;

			fp_file_pathf(sub, sizeof(sub), "%s/%s/device/hwmon",
				      root, de->d_name);
			h = opendir(sub);
			if (!h)
				continue;
			while (!rc && (he = readdir(h))) {
				end = 0;
				if (sscanf(he->d_name, "hwmon%d%n", &n, &end) !=
					    1 ||
				    he->d_name[end])
					continue;
				fp_file_pathf(dir, sizeof(dir), "%s/%s", sub,
					      he->d_name);
				rc = fn(dir, ctx);
			}
			closedir(h);
		}
	}
	closedir(d);
	return rc;
}

typedef struct scan {
	fp_gpu_t *g;
	const char *root;
	size_t found;
} scan_t;

static int _hwmon_read(fp_gpu_t *g, fp_gpu_dev_t *d, uint64_t *raw, char *why,
		       size_t whysize);
static void _hwmon_free(fp_gpu_dev_t *d);

static const fp_gpu_ops_t hwmon_ops = {
	.read = _hwmon_read,
	.procs = NULL,
	.free = _hwmon_free,
};

static bool _known(const fp_gpu_t *g, const char *pci, const char *dir)
{
	for (size_t i = 0; i < g->ndevs; i++) {
		const fp_gpu_dev_t *d = &g->devs[i];

		if (d->ops != &hwmon_ops)
			continue;
		if (*pci ? !strcmp(d->pci, pci) : !strcmp(d->path, dir))
			return true;
	}
	return false;
}

static int _add(const char *dir, void *ctx)
{
	scan_t *s = ctx;
	char path[4096], driver[64], pci[64], name[256];
	fp_gpu_source_t src = FP_GPU_COUNTER;
	const char *file;
	fp_gpu_vendor_t vendor;
	fp_gpu_dev_t *d;
	hwmon_t *h;
	uint64_t v;
	char why[512];

	fp_file_pathf(path, sizeof(path), "%s/name", dir);
	if (fp_file_read_text(path, driver, sizeof(driver)) ||
	    _vendor_of(driver, &vendor))
		return 0; /* coretemp, nvme, ...: not a GPU */
	_pci_of(dir, pci, sizeof(pci));
	if (_known(s->g, pci, dir)) {
		fp_gpu_log(s->g, FP_LOG_DEBUG,
			   "gpu hwmon %s skipped: device %s seen already", dir,
			   pci);
		return 0;
	}
	file = _energy_file(dir, vendor, &src);
	if (!file) {
		fp_gpu_log(s->g, FP_LOG_WARN,
			   "gpu hwmon %s (%s) skipped: no energy1_input%s", dir,
			   driver,
			   vendor == FP_GPU_AMD ? ", power1_average or "
						  "power1_input"
						: "");
		return 0;
	}
	if (_read_value(dir, file, &v, why, sizeof(why))) {
		fp_gpu_log(s->g, FP_LOG_WARN, "gpu hwmon %s skipped: %s", dir,
			   why);
		return 0;
	}
	fp_file_pathf(path, sizeof(path), "%s/device/product_name", dir);
	if (fp_file_read_text(path, name, sizeof(name)) || !*name)
		snprintf(name, sizeof(name), "%s", driver);
	d = fp_gpu_add_dev(s->g);
	if (!d)
		return -2;
	d->ops = &hwmon_ops;
	h = calloc(1, sizeof(*h));
	d->priv = h;
	if (!h || !(h->root = strdup(s->root)) ||
	    !(h->driver = strdup(driver)) ||
	    fp_gpu_dev_strings(d, *pci ? pci : dir, pci, name, dir))
		return -2;
	h->file = file;
	d->info.vendor = vendor;
	d->info.source = src;
	/* Both drivers keep a 64-bit accumulator of their 32-bit register
	 * (the wraps they see between reads are theirs to count). */
	d->max_raw = UINT64_MAX;
	if (vendor == FP_GPU_AMD && _amd_apu(dir))
		d->info.flags |= FP_GPU_APU;
	s->found++;
	return 0;
}

int fp_gpu_hwmon_open(fp_gpu_t *g, const char *root, char *why, size_t whysize)
{
	scan_t s = { .g = g, .root = root };
	int rc = _each_hwmon(root, _add, &s);

	if (rc == -2)
		return -2;
	if (rc == -1) {
		snprintf(why, whysize, "hwmon %s: %s", root, strerror(errno));
		return -1;
	}
	if (!s.found) {
		snprintf(why, whysize, "hwmon %s: no amdgpu, i915 or xe device",
			 root);
		return -1;
	}
	return 0;
}

typedef struct find {
	const fp_gpu_dev_t *d;
	char dir[4096];
} find_t;

static int _match(const char *dir, void *ctx)
{
	find_t *f = ctx;
	const hwmon_t *h = f->d->priv;
	char path[4096], driver[64], pci[64];

	fp_file_pathf(path, sizeof(path), "%s/name", dir);
	if (fp_file_read_text(path, driver, sizeof(driver)) ||
	    strcmp(driver, h->driver))
		return 0;
	_pci_of(dir, pci, sizeof(pci));
	if (strcmp(pci, f->d->pci))
		return 0;
	snprintf(f->dir, sizeof(f->dir), "%s", dir);
	return 1;
}

/* Opened at each read, not kept open: a removed device's file stays
 * readable through an old descriptor on ordinary filesystems (the test
 * trees), and the hwmon number may change when the device comes back. */
static int _hwmon_read(fp_gpu_t *g, fp_gpu_dev_t *d, uint64_t *raw, char *why,
		       size_t whysize)
{
	hwmon_t *h = d->priv;
	find_t f = { .d = d };
	char path[4096], *moved;

	(void)g;
	if (!_read_value(d->path, h->file, raw, why, whysize))
		return 0;
	fp_file_pathf(path, sizeof(path), "%s/name", d->path);
	if (access(path, F_OK) == 0 || !*d->pci)
		return -1; /* still there: the read itself failed */
	/* Gone: the same device (driver and PCI address) may be back under
	 * another hwmon number. */
	if (_each_hwmon(h->root, _match, &f) != 1)
		return -1;
	if (_read_value(f.dir, h->file, raw, why, whysize))
		return -1;
	moved = strdup(f.dir);
	if (!moved) {
		snprintf(why, whysize, "out of memory");
		return -1;
	}
	free(d->path);
	d->path = moved;
	d->info.path = d->path;
	return 0;
}

static void _hwmon_free(fp_gpu_dev_t *d)
{
	hwmon_t *h = d->priv;

	if (!h)
		return;
	free(h->root);
	free(h->driver);
	free(h);
}
