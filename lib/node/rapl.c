/* RAPL energy counters through the Linux powercap tree (or a generated copy
 * of it): zone discovery at open, pread of the kept-open energy_uj per poll. */
#include "footprint/rapl.h"
#include "footprint/file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Only the MSR-backed "intel-rapl:" zones: "intel-rapl-mmio:" duplicates the
 * same package counters on recent Intel parts and would count them twice. */
#define ZONE_PREFIX "intel-rapl:"

typedef struct zone {
	fp_domain_t dom;
	char *path;   /* the zone directory, for messages */
	int fd;	      /* energy_uj, kept open for pread */
	bool failing; /* a read failed and was logged */
} zone_t;

struct fp_rapl {
	char *root;
	fp_log_fn log;
	void *log_ctx;
	zone_t *zones;
	size_t nzones;
	bool simulated;
};

static void _log(const fp_rapl_t *r, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void _log(const fp_rapl_t *r, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fp_error_vlog(r->log, r->log_ctx, level, fmt, ap);
	va_end(ap);
}

static int _pread_u64(int fd, uint64_t *v, const char **why)
{
	char buf[64];
	ssize_t n;

	n = pread(fd, buf, sizeof(buf), 0);
	if (n < 0) {
		*why = strerror(errno);
		return -1;
	}
	return fp_file_parse_u64(buf, (size_t)n, v, why);
}

/* Reads a small text file into buf (NUL-terminated, trailing newline cut). */
static int _read_text(const char *dir, const char *file, char *buf, size_t size,
		      const char **why)
{
	char path[4096];

	fp_file_pathf(path, sizeof(path), "%s/%s", dir, file);
	if (fp_file_read_text(path, buf, size)) {
		*why = strerror(errno);
		return -1;
	}
	return 0;
}

static bool _has_zone(const fp_rapl_t *r, const char *name)
{
	for (size_t i = 0; i < r->nzones; i++)
		if (!strcmp(r->zones[i].dom.name, name))
			return true;
	return false;
}

/* Opens the zone in dir as domain `name`. A zone that cannot be used is
 * logged and skipped: one bad zone must not hide the others. Returns -1 only
 * on allocation failure. */
static int _add_zone(fp_rapl_t *r, const char *dir, const char *name,
		     fp_domain_kind_t kind, int package)
{
	char path[4096];
	const char *why = NULL;
	uint64_t max = 0, e;
	zone_t *zones, *z;
	int fd;

	if (_has_zone(r, name)) {
		_log(r, FP_LOG_WARN, "powercap zone %s skipped: a second %s",
		     dir, name);
		return 0;
	}
	fp_file_pathf(path, sizeof(path), "%s/max_energy_range_uj", dir);
	if (fp_file_read_u64(path, &max, &why)) {
		_log(r, FP_LOG_WARN,
		     "powercap zone %s skipped: max_energy_range_uj: %s", dir,
		     why);
		return 0;
	}
	fp_file_pathf(path, sizeof(path), "%s/energy_uj", dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || _pread_u64(fd, &e, &why)) {
		if (fd < 0)
			why = strerror(errno);
		else
			close(fd);
		_log(r, FP_LOG_WARN, "powercap zone %s skipped: energy_uj: %s",
		     dir, why);
		return 0;
	}
	zones = realloc(r->zones, (r->nzones + 1) * sizeof(*zones));
	if (!zones) {
		close(fd);
		return -1;
	}
	r->zones = zones;
	z = &zones[r->nzones];
	memset(z, 0, sizeof(*z));
	z->fd = fd;
	z->dom.name = strdup(name);
	z->path = strdup(dir);
	z->dom.kind = kind;
	z->dom.package = package;
	z->dom.max_energy_range_uj = max;
	z->dom.idle_w = -1;
	r->nzones++;
	if (!z->dom.name || !z->path)
		return -1;
	return 0;
}

/* "intel-rapl:N" (sub < 0) or "intel-rapl:N:M": returns N (and M in *sub),
 * or -1 for any other entry. */
static int _zone_index(const char *entry, int *sub)
{
	int n, m, end = 0;

	if (strncmp(entry, ZONE_PREFIX, strlen(ZONE_PREFIX)))
		return -1;
	entry += strlen(ZONE_PREFIX);
	if (sscanf(entry, "%d:%d%n", &n, &m, &end) == 2 && !entry[end] &&
	    n >= 0 && m >= 0) {
		*sub = m;
		return n;
	}
	if (sscanf(entry, "%d%n", &n, &end) == 1 && !entry[end] && n >= 0) {
		*sub = -1;
		return n;
	}
	return -1;
}

static int _cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

/* Indexes of the entries of dir named intel-rapl:N (parent < 0) or
 * intel-rapl:parent:M, sorted, in a malloc'ed array. */
static int _list_zones(const char *dir, int parent, int **out, size_t *n)
{
	struct dirent *de;
	int *v = NULL, *nv;
	size_t cnt = 0;
	DIR *d;

	*out = NULL;
	*n = 0;
	d = opendir(dir);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		int sub, idx = _zone_index(de->d_name, &sub);

		if (idx < 0 || (parent < 0 && sub >= 0) ||
		    (parent >= 0 && (sub < 0 || idx != parent)))
			continue;
		nv = realloc(v, (cnt + 1) * sizeof(*v));
		if (!nv) {
			free(v);
			closedir(d);
			errno = ENOMEM;
			return -1;
		}
		v = nv;
		v[cnt++] = parent < 0 ? idx : sub;
	}
	closedir(d);
	if (cnt)
		qsort(v, cnt, sizeof(*v), _cmp_int);
	*out = v;
	*n = cnt;
	return 0;
}

/* dram subzones of package zone N. The kernel's /sys/class/powercap shows
 * them both nested in the package directory and flat at the root (as
 * symlinks); either layout alone must work, and both must count once. */
static int _add_subzones(fp_rapl_t *r, int n, int package)
{
	char zdir[4096], sdir[4096], name[64], dname[64];
	int *subs[2];
	size_t nsubs[2];
	int rc = 0;

	fp_file_pathf(zdir, sizeof(zdir), "%s/" ZONE_PREFIX "%d", r->root, n);
	_list_zones(zdir, n, &subs[0], &nsubs[0]);
	_list_zones(r->root, n, &subs[1], &nsubs[1]);
	for (int k = 0; k < 2 && !rc; k++) {
		for (size_t i = 0; i < nsubs[k] && !rc; i++) {
			const char *why;

			fp_file_pathf(sdir, sizeof(sdir),
				      "%s/" ZONE_PREFIX "%d:%d",
				      k ? r->root : zdir, n, subs[k][i]);
			if (_read_text(sdir, "name", name, sizeof(name),
				       &why)) {
				_log(r, FP_LOG_WARN,
				     "powercap zone %s skipped: name: %s", sdir,
				     why);
				continue;
			}
			/* core and uncore are inside the package's count. */
			if (strcmp(name, "dram"))
				continue;
			snprintf(dname, sizeof(dname), "dram-%d", package);
			if (_has_zone(r, dname))
				continue; /* the flat twin of a nested zone */
			rc = _add_zone(r, sdir, dname, FP_DOMAIN_DRAM, package);
		}
	}
	free(subs[0]);
	free(subs[1]);
	return rc;
}

static int _domain_rank(const fp_domain_t *d)
{
	return d->kind == FP_DOMAIN_PSYS ? 1 : 0;
}

static int _cmp_zone(const void *a, const void *b)
{
	const fp_domain_t *x = &((const zone_t *)a)->dom;
	const fp_domain_t *y = &((const zone_t *)b)->dom;

	if (_domain_rank(x) != _domain_rank(y))
		return _domain_rank(x) - _domain_rank(y);
	if (x->package != y->package)
		return (x->package > y->package) - (x->package < y->package);
	return (int)x->kind - (int)y->kind;
}

fp_rapl_t *fp_rapl_open(const char *root, fp_log_fn log, void *log_ctx,
			fp_error_t *err)
{
	char zdir[4096], name[64], path[4096];
	fp_rapl_t *r;
	int *tops = NULL;
	size_t ntops = 0;

	fp_error_clear(err);
	if (!root)
		root = FP_RAPL_DEFAULT_ROOT;
	r = calloc(1, sizeof(*r));
	if (!r || !(r->root = strdup(root))) {
		free(r);
		fp_error_set(err, FP_ENOMEM, "powercap %s: out of memory",
			     root);
		return NULL;
	}
	r->log = log;
	r->log_ctx = log_ctx;
	if (_list_zones(root, -1, &tops, &ntops)) {
		fp_error_set(err, errno == ENOMEM ? FP_ENOMEM : FP_ENOTSUP,
			     "powercap %s: %s", root, strerror(errno));
		fp_rapl_close(r);
		return NULL;
	}
	for (size_t i = 0; i < ntops; i++) {
		const char *why;
		int pkg, end = 0, rc = 0;

		fp_file_pathf(zdir, sizeof(zdir), "%s/" ZONE_PREFIX "%d", root,
			      tops[i]);
		if (_read_text(zdir, "name", name, sizeof(name), &why)) {
			_log(r, FP_LOG_WARN,
			     "powercap zone %s skipped: name: %s", zdir, why);
			continue;
		}
		/* Kinds come from the name file: psys is intel-rapl:1 on a
		 * one-socket machine, so directory numbers say nothing. */
		if (!strcmp(name, "psys")) {
			rc = _add_zone(r, zdir, "psys", FP_DOMAIN_PSYS, -1);
		} else if (sscanf(name, "package-%d%n", &pkg, &end) == 1 &&
			   !name[end] && pkg >= 0) {
			size_t before = r->nzones;

			snprintf(name, sizeof(name), "package-%d", pkg);
			rc = _add_zone(r, zdir, name, FP_DOMAIN_PACKAGE, pkg);
			if (!rc && r->nzones > before)
				rc = _add_subzones(r, tops[i], pkg);
		} else {
			_log(r, FP_LOG_WARN,
			     "powercap zone %s skipped: unknown zone name '%s'",
			     zdir, name);
		}
		if (rc) {
			free(tops);
			fp_rapl_close(r);
			fp_error_set(err, FP_ENOMEM,
				     "powercap %s: out of memory", root);
			return NULL;
		}
	}
	free(tops);
	if (!r->nzones) {
		fp_error_set(err, FP_ENOTSUP,
			     "powercap %s: no readable RAPL zone", root);
		fp_rapl_close(r);
		return NULL;
	}
	qsort(r->zones, r->nzones, sizeof(*r->zones), _cmp_zone);
	fp_file_pathf(path, sizeof(path), "%s/" FP_RAPL_SIMULATED_MARKER, root);
	r->simulated = access(path, F_OK) == 0;
	return r;
}

void fp_rapl_close(fp_rapl_t *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nzones; i++) {
		if (r->zones[i].fd >= 0)
			close(r->zones[i].fd);
		free(r->zones[i].dom.name);
		free(r->zones[i].path);
	}
	free(r->zones);
	free(r->root);
	free(r);
}

size_t fp_rapl_ndomains(const fp_rapl_t *r)
{
	return r->nzones;
}

const fp_domain_t *fp_rapl_domain(const fp_rapl_t *r, size_t i)
{
	return i < r->nzones ? &r->zones[i].dom : NULL;
}

bool fp_rapl_simulated(const fp_rapl_t *r)
{
	return r->simulated;
}

int fp_rapl_fill_desc(const fp_rapl_t *r, fp_node_desc_t *desc, fp_error_t *err)
{
	fp_domain_t *doms = calloc(r->nzones, sizeof(*doms));

	fp_error_clear(err);
	if (!doms)
		return fp_error_set(err, FP_ENOMEM,
				    "powercap %s: out of memory", r->root);
	for (size_t i = 0; i < r->nzones; i++) {
		doms[i] = r->zones[i].dom;
		doms[i].idle_w = -1;
		doms[i].name = strdup(r->zones[i].dom.name);
		if (!doms[i].name) {
			for (size_t j = 0; j < i; j++)
				free(doms[j].name);
			free(doms);
			return fp_error_set(err, FP_ENOMEM,
					    "powercap %s: out of memory",
					    r->root);
		}
	}
	for (size_t i = 0; i < desc->ndomains; i++)
		free(desc->domains[i].name);
	free(desc->domains);
	desc->domains = doms;
	desc->ndomains = r->nzones;
	return 0;
}

static bool _read_zone(fp_rapl_t *r, zone_t *z, uint64_t *v)
{
	const char *why;

	if (_pread_u64(z->fd, v, &why)) {
		if (!z->failing)
			_log(r, FP_LOG_WARN,
			     "powercap zone %s (%s): energy_uj unreadable: %s; "
			     "its energy is held until it reads again",
			     z->path, z->dom.name, why);
		z->failing = true;
		return false;
	}
	if (z->failing)
		_log(r, FP_LOG_INFO, "powercap zone %s (%s): readable again",
		     z->path, z->dom.name);
	z->failing = false;
	return true;
}

size_t fp_rapl_read_all(fp_rapl_t *r, uint64_t *energy_uj, bool *valid)
{
	size_t nvalid = 0;

	for (size_t i = 0; i < r->nzones; i++) {
		energy_uj[i] = 0;
		valid[i] = _read_zone(r, &r->zones[i], &energy_uj[i]);
		nvalid += valid[i];
	}
	return nvalid;
}

size_t fp_rapl_read(fp_rapl_t *r, const fp_node_desc_t *desc,
		    uint64_t *energy_uj, bool *valid)
{
	size_t nvalid = 0;

	for (size_t i = 0; i < desc->ndomains; i++) {
		zone_t *z = NULL;

		/* Same order is the common case: try it before searching. */
		if (i < r->nzones &&
		    !strcmp(r->zones[i].dom.name, desc->domains[i].name))
			z = &r->zones[i];
		for (size_t j = 0; !z && j < r->nzones; j++)
			if (!strcmp(r->zones[j].dom.name,
				    desc->domains[i].name))
				z = &r->zones[j];
		energy_uj[i] = 0;
		valid[i] = z && _read_zone(r, z, &energy_uj[i]);
		nvalid += valid[i];
	}
	return nvalid;
}
