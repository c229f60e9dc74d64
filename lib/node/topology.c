/* The node's CPU layout through hwloc (this machine, an XML export or a
 * synthetic description), flattened into plain arrays; CPU list parsing. */
#include "footprint/topology.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <hwloc.h>

/* Sanity bound for CPU ids in text when the caller gives no CPU count: it
 * keeps "0-2000000000" from allocating a 256 MB bitmap. */
#define CPULIST_MAX_ID (1 << 22)

typedef struct pkg {
	int id;
	int *cpus;
	size_t ncpus;
} pkg_t;

struct fp_topology {
	size_t ncpus;
	pkg_t *pkgs;
	size_t npkgs;
	int *cpu_pkg;  /* package id, -1 when offline */
	int *cpu_core; /* core number, -1 when offline */
	int **sib;     /* per CPU: its core's CPUs (shared per core) */
	size_t *nsib;
	int **core_cpus; /* per core, owns the arrays sib[] points to */
	size_t ncores;
};

void fp_topology_free(fp_topology_t *t)
{
	if (!t)
		return;
	for (size_t i = 0; t->pkgs && i < t->npkgs; i++)
		free(t->pkgs[i].cpus);
	free(t->pkgs);
	for (size_t i = 0; t->core_cpus && i < t->ncores; i++)
		free(t->core_cpus[i]);
	free(t->core_cpus);
	free(t->cpu_pkg);
	free(t->cpu_core);
	free(t->sib);
	free(t->nsib);
	free(t);
}

static int _cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static int _push(int **v, size_t *n, int x)
{
	int *nv = realloc(*v, (*n + 1) * sizeof(int));

	if (!nv)
		return -1;
	nv[(*n)++] = x;
	*v = nv;
	return 0;
}

/* Copies what callers need out of hwloc, so the hwloc topology (and its
 * memory) does not outlive loading. */
static fp_topology_t *_extract(hwloc_topology_t h, const char *what,
			       fp_error_t *err)
{
	hwloc_const_bitmap_t complete = hwloc_topology_get_complete_cpuset(h);
	int npus = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_PU);
	int npk = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_PACKAGE);
	int ncore = hwloc_get_nbobjs_by_type(h, HWLOC_OBJ_CORE);
	int last = complete ? hwloc_bitmap_last(complete) : -1;
	fp_topology_t *t;
	size_t *core_n = NULL;

	if (npus <= 0 || last < 0) {
		fp_error_set(err, FP_EINVAL, "topology %s: no CPU", what);
		return NULL;
	}
	for (int i = 0; i < npus; i++) {
		hwloc_obj_t pu = hwloc_get_obj_by_type(h, HWLOC_OBJ_PU, i);

		if ((int)pu->os_index > last)
			last = (int)pu->os_index;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		goto nomem;
	t->ncpus = (size_t)last + 1;
	/* A level hwloc did not find (a synthetic "core:4 pu:2") still gives
	 * one package, and a core per CPU. */
	t->npkgs = npk > 0 ? (size_t)npk : 1;
	t->ncores = (size_t)(ncore > 0 ? ncore : 0) + (size_t)npus;
	t->pkgs = calloc(t->npkgs, sizeof(*t->pkgs));
	t->core_cpus = calloc(t->ncores, sizeof(*t->core_cpus));
	t->cpu_pkg = malloc(t->ncpus * sizeof(int));
	t->cpu_core = malloc(t->ncpus * sizeof(int));
	t->sib = calloc(t->ncpus, sizeof(*t->sib));
	t->nsib = calloc(t->ncpus, sizeof(*t->nsib));
	core_n = calloc(t->ncores, sizeof(*core_n));
	if (!core_n || !t->pkgs || !t->core_cpus || !t->cpu_pkg ||
	    !t->cpu_core || !t->sib || !t->nsib)
		goto nomem;
	for (size_t c = 0; c < t->ncpus; c++)
		t->cpu_pkg[c] = t->cpu_core[c] = -1;
	for (size_t i = 0; i < t->npkgs; i++) {
		hwloc_obj_t p = npk > 0 ? hwloc_get_obj_by_type(
						  h, HWLOC_OBJ_PACKAGE, (int)i)
					: NULL;

		t->pkgs[i].id = (int)i;
		if (p && p->os_index != HWLOC_UNKNOWN_INDEX)
			t->pkgs[i].id = (int)p->os_index;
	}
	for (int i = 0; i < npus; i++) {
		hwloc_obj_t pu = hwloc_get_obj_by_type(h, HWLOC_OBJ_PU, i);
		hwloc_obj_t p = hwloc_get_ancestor_obj_by_type(
			h, HWLOC_OBJ_PACKAGE, pu);
		hwloc_obj_t c =
			hwloc_get_ancestor_obj_by_type(h, HWLOC_OBJ_CORE, pu);
		int cpu = (int)pu->os_index;
		size_t pi = p ? p->logical_index : 0;
		size_t core =
			c ? c->logical_index
			  : (size_t)(ncore > 0 ? ncore : 0) + pu->logical_index;

		t->cpu_pkg[cpu] = t->pkgs[pi].id;
		t->cpu_core[cpu] = (int)core;
		if (_push(&t->pkgs[pi].cpus, &t->pkgs[pi].ncpus, cpu) ||
		    _push(&t->core_cpus[core], &core_n[core], cpu))
			goto nomem;
	}
	for (size_t i = 0; i < t->npkgs; i++)
		if (t->pkgs[i].ncpus)
			qsort(t->pkgs[i].cpus, t->pkgs[i].ncpus, sizeof(int),
			      _cmp_int);
	for (size_t i = 0; i < t->ncores; i++)
		if (core_n[i])
			qsort(t->core_cpus[i], core_n[i], sizeof(int),
			      _cmp_int);
	for (size_t cpu = 0; cpu < t->ncpus; cpu++) {
		if (t->cpu_core[cpu] < 0)
			continue;
		t->sib[cpu] = t->core_cpus[t->cpu_core[cpu]];
		t->nsib[cpu] = core_n[t->cpu_core[cpu]];
	}
	free(core_n);
	return t;
nomem:
	free(core_n);
	fp_topology_free(t);
	fp_error_set(err, FP_ENOMEM, "topology %s: out of memory", what);
	return NULL;
}

enum source { SRC_MACHINE, SRC_XML, SRC_SYNTHETIC };

static fp_topology_t *_load(enum source src, const char *arg, fp_error_t *err)
{
	const char *what = src == SRC_MACHINE ? "of this machine" : arg;
	hwloc_topology_t h;
	fp_topology_t *t;
	int rc = 0;

	if (src != SRC_MACHINE && (!arg || !*arg)) {
		fp_error_set(err, FP_EINVAL, "topology: empty %s",
			     src == SRC_XML ? "XML path"
					    : "synthetic description");
		return NULL;
	}
	if (hwloc_topology_init(&h)) {
		fp_error_set(err, FP_ENOMEM, "topology %s: hwloc init failed",
			     what);
		return NULL;
	}
	hwloc_topology_set_flags(h, HWLOC_TOPOLOGY_FLAG_INCLUDE_DISALLOWED);
	if (src == SRC_XML)
		rc = hwloc_topology_set_xml(h, arg);
	else if (src == SRC_SYNTHETIC)
		rc = hwloc_topology_set_synthetic(h, arg);
	if (rc) {
		fp_error_set(err, src == SRC_XML ? FP_EIO : FP_EPARSE,
			     "topology %s: %s", what,
			     src == SRC_XML ? strerror(errno)
					    : "invalid synthetic description");
		hwloc_topology_destroy(h);
		return NULL;
	}
	if (hwloc_topology_load(h)) {
		fp_error_set(err, src == SRC_MACHINE ? FP_ENOTSUP : FP_EPARSE,
			     "topology %s: hwloc could not load it: %s", what,
			     strerror(errno));
		hwloc_topology_destroy(h);
		return NULL;
	}
	t = _extract(h, what, err);
	hwloc_topology_destroy(h);
	return t;
}

fp_topology_t *fp_topology_load(fp_error_t *err)
{
	fp_error_clear(err);
	return _load(SRC_MACHINE, NULL, err);
}

fp_topology_t *fp_topology_load_xml(const char *path, fp_error_t *err)
{
	fp_error_clear(err);
	return _load(SRC_XML, path, err);
}

fp_topology_t *fp_topology_load_synthetic(const char *desc, fp_error_t *err)
{
	fp_error_clear(err);
	return _load(SRC_SYNTHETIC, desc, err);
}

size_t fp_topology_ncpus(const fp_topology_t *t)
{
	return t->ncpus;
}

size_t fp_topology_npackages(const fp_topology_t *t)
{
	return t->npkgs;
}

int fp_topology_package_id(const fp_topology_t *t, size_t i)
{
	return i < t->npkgs ? t->pkgs[i].id : -1;
}

const int *fp_topology_package_cpus(const fp_topology_t *t, size_t i,
				    size_t *ncpus)
{
	if (i >= t->npkgs) {
		*ncpus = 0;
		return NULL;
	}
	*ncpus = t->pkgs[i].ncpus;
	return t->pkgs[i].cpus;
}

static bool _known(const fp_topology_t *t, int cpu)
{
	return cpu >= 0 && (size_t)cpu < t->ncpus && t->cpu_pkg[cpu] >= 0;
}

bool fp_topology_cpu_online(const fp_topology_t *t, int cpu)
{
	return _known(t, cpu);
}

int fp_topology_cpu_package(const fp_topology_t *t, int cpu)
{
	return _known(t, cpu) ? t->cpu_pkg[cpu] : -1;
}

int fp_topology_cpu_core(const fp_topology_t *t, int cpu)
{
	return _known(t, cpu) ? t->cpu_core[cpu] : -1;
}

const int *fp_topology_cpu_siblings(const fp_topology_t *t, int cpu, size_t *n)
{
	if (!_known(t, cpu)) {
		*n = 0;
		return NULL;
	}
	*n = t->nsib[cpu];
	return t->sib[cpu];
}

int fp_topology_fill_desc(const fp_topology_t *t, fp_node_desc_t *desc,
			  fp_error_t *err)
{
	fp_package_t *p = calloc(t->npkgs, sizeof(*p));

	fp_error_clear(err);
	if (!p)
		return fp_error_set(err, FP_ENOMEM, "topology: out of memory");
	for (size_t i = 0; i < t->npkgs; i++) {
		p[i].id = t->pkgs[i].id;
		p[i].ncpus = t->pkgs[i].ncpus;
		p[i].cpus = malloc((p[i].ncpus ? p[i].ncpus : 1) * sizeof(int));
		if (!p[i].cpus) {
			for (size_t j = 0; j < i; j++)
				free(p[j].cpus);
			free(p);
			return fp_error_set(err, FP_ENOMEM,
					    "topology: out of memory");
		}
		if (p[i].ncpus)
			memcpy(p[i].cpus, t->pkgs[i].cpus,
			       p[i].ncpus * sizeof(int));
	}
	for (size_t i = 0; i < desc->npackages; i++)
		free(desc->packages[i].cpus);
	free(desc->packages);
	desc->packages = p;
	desc->npackages = t->npkgs;
	desc->cpus = t->ncpus;
	return 0;
}

/* hwloc's list parser is lenient ("1-" means every CPU from 1 on, junk after
 * a number is ignored), so the grammar is checked here first:
 * list := item (',' item)*, item := N | N '-' M with N <= M. */
static int _check_cpulist(const char *list, long max, fp_error_t *err)
{
	const char *p = list;

	if (!*p)
		return fp_error_set(err, FP_EPARSE, "CPU list '': empty");
	for (;;) {
		long lo, hi;
		char *end;

		if (!isdigit((unsigned char)*p))
			break;
		errno = 0;
		lo = hi = strtol(p, &end, 10);
		if (errno || lo > max)
			goto range;
		p = end;
		if (*p == '-') {
			if (!isdigit((unsigned char)p[1]))
				break;
			errno = 0;
			hi = strtol(p + 1, &end, 10);
			if (errno || hi > max)
				goto range;
			if (hi < lo)
				return fp_error_set(
					err, FP_EPARSE,
					"CPU list '%s': reversed range "
					"%ld-%ld",
					list, lo, hi);
			p = end;
		}
		if (!*p)
			return 0;
		if (*p != ',')
			break;
		p++;
	}
	return fp_error_set(err, FP_EPARSE,
			    "CPU list '%s': unexpected '%c' at offset %zu",
			    list, *p ? *p : ' ', (size_t)(p - list));
range:
	return fp_error_set(err, FP_EPARSE, "CPU list '%s': CPU id above %ld",
			    list, max);
}

int fp_topology_cpulist_parse(const char *list, size_t ncpus, int **cpus,
			      size_t *n, fp_error_t *err)
{
	long max = ncpus ? (long)ncpus - 1 : CPULIST_MAX_ID;
	hwloc_bitmap_t bm;
	int *v, w, i = 0;
	unsigned id;

	fp_error_clear(err);
	*cpus = NULL;
	*n = 0;
	if (!list)
		return fp_error_set(err, FP_EPARSE, "CPU list: missing");
	if (ncpus > (size_t)INT_MAX)
		max = INT_MAX;
	if (_check_cpulist(list, max, err))
		return -1;
	bm = hwloc_bitmap_alloc();
	if (!bm)
		return fp_error_set(err, FP_ENOMEM,
				    "CPU list '%s': out of memory", list);
	if (hwloc_bitmap_list_sscanf(bm, list) < 0 ||
	    (w = hwloc_bitmap_weight(bm)) <= 0) {
		hwloc_bitmap_free(bm);
		return fp_error_set(err, FP_EPARSE,
				    "CPU list '%s': not a CPU list", list);
	}
	v = malloc((size_t)w * sizeof(int));
	if (!v) {
		hwloc_bitmap_free(bm);
		return fp_error_set(err, FP_ENOMEM,
				    "CPU list '%s': out of memory", list);
	}
	hwloc_bitmap_foreach_begin(id, bm) v[i++] = (int)id;
	hwloc_bitmap_foreach_end();
	hwloc_bitmap_free(bm);
	*cpus = v;
	*n = (size_t)w;
	return 0;
}
