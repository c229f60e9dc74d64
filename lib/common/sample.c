/* The in-memory form of one poll of a node (trace v1 header and sample):
 * allocation, copies and lookups. */
#include "footprint/sample.h"

#include <stdlib.h>
#include <string.h>

fp_node_desc_t *fp_sample_node_desc_new(void)
{
	return calloc(1, sizeof(fp_node_desc_t));
}

void fp_sample_node_desc_free(fp_node_desc_t *desc)
{
	if (!desc)
		return;
	free(desc->node);
	for (size_t i = 0; i < desc->npackages; i++)
		free(desc->packages[i].cpus);
	free(desc->packages);
	for (size_t i = 0; i < desc->ndomains; i++)
		free(desc->domains[i].name);
	free(desc->domains);
	for (size_t i = 0; i < desc->ngpus; i++) {
		free(desc->gpus[i].uuid);
		free(desc->gpus[i].vendor);
	}
	free(desc->gpus);
	free(desc);
}

static void *_memdup(const void *p, size_t n)
{
	void *q;

	if (!n)
		return NULL;
	q = malloc(n);
	if (q)
		memcpy(q, p, n);
	return q;
}

fp_node_desc_t *fp_sample_node_desc_dup(const fp_node_desc_t *desc)
{
	fp_node_desc_t *d = fp_sample_node_desc_new();

	if (!d)
		return NULL;
	*d = *desc;
	d->node = desc->node ? strdup(desc->node) : NULL;
	d->packages = calloc(desc->npackages ? desc->npackages : 1,
			     sizeof(*d->packages));
	d->domains = calloc(desc->ndomains ? desc->ndomains : 1,
			    sizeof(*d->domains));
	d->gpus = calloc(desc->ngpus ? desc->ngpus : 1, sizeof(*d->gpus));
	if (!d->packages || !d->domains || !d->gpus ||
	    (desc->node && !d->node)) {
		d->npackages = d->ndomains = d->ngpus = 0;
		fp_sample_node_desc_free(d);
		return NULL;
	}
	for (size_t i = 0; i < desc->ngpus; i++) {
		d->gpus[i] = desc->gpus[i];
		d->gpus[i].uuid =
			strdup(desc->gpus[i].uuid ? desc->gpus[i].uuid : "");
		d->gpus[i].vendor = strdup(
			desc->gpus[i].vendor ? desc->gpus[i].vendor : "");
	}
	for (size_t i = 0; i < desc->npackages; i++) {
		d->packages[i] = desc->packages[i];
		d->packages[i].cpus =
			_memdup(desc->packages[i].cpus,
				desc->packages[i].ncpus * sizeof(int));
	}
	for (size_t i = 0; i < desc->ndomains; i++) {
		d->domains[i] = desc->domains[i];
		d->domains[i].name = strdup(desc->domains[i].name);
	}
	return d;
}

int fp_sample_node_desc_domain(const fp_node_desc_t *desc, const char *name)
{
	for (size_t i = 0; i < desc->ndomains; i++)
		if (!strcmp(desc->domains[i].name, name))
			return (int)i;
	return -1;
}

int fp_sample_node_desc_package(const fp_node_desc_t *desc, int id)
{
	for (size_t i = 0; i < desc->npackages; i++)
		if (desc->packages[i].id == id)
			return (int)i;
	return -1;
}

fp_sample_t *fp_sample_new(const fp_node_desc_t *desc)
{
	fp_sample_t *s = calloc(1, sizeof(*s));
	size_t nd = desc->ndomains ? desc->ndomains : 1;
	size_t nc = desc->cpus ? desc->cpus : 1;

	if (!s)
		return NULL;
	s->energy_uj = calloc(nd, sizeof(*s->energy_uj));
	s->energy_valid = calloc(nd, sizeof(*s->energy_valid));
	s->cpu_busy_ns = calloc(nc, sizeof(*s->cpu_busy_ns));
	if (desc->ngpus) {
		s->gpu_energy_uj =
			calloc(desc->ngpus, sizeof(*s->gpu_energy_uj));
		s->gpu_valid = calloc(desc->ngpus, sizeof(*s->gpu_valid));
		if (!s->gpu_energy_uj || !s->gpu_valid) {
			fp_sample_free(s);
			return NULL;
		}
	}
	if (!s->energy_uj || !s->energy_valid || !s->cpu_busy_ns) {
		fp_sample_free(s);
		return NULL;
	}
	return s;
}

void fp_sample_clear_steps(fp_sample_t *s)
{
	for (size_t i = 0; i < s->nsteps; i++) {
		free(s->steps[i].id);
		free(s->steps[i].alloc);
		free(s->steps[i].cpu_ns);
		free(s->steps[i].changed);
		free(s->steps[i].gpus);
		free(s->steps[i].gpu_busy);
		free(s->steps[i].gpu_busy_valid);
	}
	free(s->steps);
	s->steps = NULL;
	s->nsteps = 0;
}

void fp_sample_free(fp_sample_t *s)
{
	if (!s)
		return;
	fp_sample_clear_steps(s);
	free(s->energy_uj);
	free(s->energy_valid);
	free(s->cpu_busy_ns);
	free(s->gpu_energy_uj);
	free(s->gpu_valid);
	free(s);
}

fp_step_sample_t *fp_sample_add_step(fp_sample_t *s, const fp_node_desc_t *desc,
				     const char *id, uint64_t job,
				     const int *alloc, size_t nalloc)
{
	fp_step_sample_t *steps, *st;

	steps = realloc(s->steps, (s->nsteps + 1) * sizeof(*steps));
	if (!steps)
		return NULL;
	s->steps = steps;
	st = &steps[s->nsteps];
	memset(st, 0, sizeof(*st));
	st->id = strdup(id);
	st->job = job;
	st->alloc = calloc(nalloc ? nalloc : 1, sizeof(int));
	st->cpu_ns = calloc(desc->cpus ? desc->cpus : 1, sizeof(uint64_t));
	st->changed = calloc(FP_BITMAP_WORDS(desc->cpus ? desc->cpus : 1),
			     sizeof(uint64_t));
	if (!st->id || !st->alloc || !st->cpu_ns || !st->changed) {
		free(st->id);
		free(st->alloc);
		free(st->cpu_ns);
		free(st->changed);
		return NULL;
	}
	if (nalloc)
		memcpy(st->alloc, alloc, nalloc * sizeof(int));
	st->nalloc = nalloc;
	s->nsteps++;
	return st;
}

int fp_sample_step_set_gpus(fp_step_sample_t *st, const int *gpus, size_t n,
			    const uint64_t *busy, const bool *busy_valid)
{
	size_t k = n ? n : 1;
	int *g = calloc(k, sizeof(*g));
	uint64_t *b = busy ? calloc(k, sizeof(*b)) : NULL;
	bool *v = busy ? calloc(k, sizeof(*v)) : NULL;

	free(st->gpus);
	free(st->gpu_busy);
	free(st->gpu_busy_valid);
	st->gpus = NULL;
	st->gpu_busy = NULL;
	st->gpu_busy_valid = NULL;
	st->ngpus = 0;
	if (!g || (busy && (!b || !v))) {
		free(g);
		free(b);
		free(v);
		return -1;
	}
	if (n)
		memcpy(g, gpus, n * sizeof(*g));
	for (size_t i = 0; busy && i < n; i++) {
		b[i] = busy[i];
		v[i] = busy_valid ? busy_valid[i] : true;
	}
	st->gpus = g;
	st->gpu_busy = b;
	st->gpu_busy_valid = v;
	st->ngpus = n;
	return 0;
}
