/* The engine's step and job records, dense arrays behind open-addressing
 * indexes, and the mapping of a sample's steps to them. */
#include "engine_state.h"

#include <stdlib.h>
#include <string.h>

static uint64_t _hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static uint64_t _hash_u64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

int fp_engine_index_init(struct index *ix, size_t cap)
{
	ix->slots = malloc(cap * sizeof(*ix->slots));
	if (!ix->slots)
		return -1;
	for (size_t i = 0; i < cap; i++)
		ix->slots[i].idx = EMPTY;
	ix->mask = cap - 1;
	ix->n = 0;
	return 0;
}

static void _index_put(struct index *ix, uint64_t hash, uint32_t idx)
{
	size_t i = hash & ix->mask;

	while (ix->slots[i].idx != EMPTY)
		i = (i + 1) & ix->mask;
	ix->slots[i].hash = hash;
	ix->slots[i].idx = idx;
	ix->n++;
}

static int _index_insert(struct index *ix, uint64_t hash, uint32_t idx)
{
	if ((ix->n + 1) * 2 > ix->mask + 1) {
		struct index big;
		size_t cap = (ix->mask + 1) * 2;

		if (fp_engine_index_init(&big, cap))
			return -1;
		for (size_t i = 0; i <= ix->mask; i++)
			if (ix->slots[i].idx != EMPTY)
				_index_put(&big, ix->slots[i].hash,
					   ix->slots[i].idx);
		free(ix->slots);
		*ix = big;
	}
	_index_put(ix, hash, idx);
	return 0;
}

static size_t _index_slot_of(const struct index *ix, uint64_t hash,
			     uint32_t idx)
{
	size_t i = hash & ix->mask;

	while (ix->slots[i].idx != idx)
		i = (i + 1) & ix->mask;
	return i;
}

/* Backward-shift deletion keeps probe chains intact without tombstones, so a
 * daemon that forgets steps for months never degrades. */
static void _index_remove(struct index *ix, uint64_t hash, uint32_t idx)
{
	size_t i = _index_slot_of(ix, hash, idx), j = i;

	for (;;) {
		size_t k;

		j = (j + 1) & ix->mask;
		if (ix->slots[j].idx == EMPTY)
			break;
		k = ix->slots[j].hash & ix->mask;
		if (i <= j ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		ix->slots[i] = ix->slots[j];
		i = j;
	}
	ix->slots[i].idx = EMPTY;
	ix->n--;
}

static void _index_renumber(struct index *ix, uint64_t hash, uint32_t from,
			    uint32_t to)
{
	ix->slots[_index_slot_of(ix, hash, from)].idx = to;
}

static uint32_t _find_step(const fp_engine_t *e, const char *id, uint64_t hash)
{
	const struct index *ix = &e->step_idx;
	size_t i = hash & ix->mask;

	for (; ix->slots[i].idx != EMPTY; i = (i + 1) & ix->mask)
		if (ix->slots[i].hash == hash &&
		    !strcmp(e->steps[ix->slots[i].idx].id, id))
			return ix->slots[i].idx;
	return EMPTY;
}

static uint32_t _find_job(const fp_engine_t *e, uint64_t job)
{
	const struct index *ix = &e->job_idx;
	uint64_t hash = _hash_u64(job);
	size_t i = hash & ix->mask;

	for (; ix->slots[i].idx != EMPTY; i = (i + 1) & ix->mask)
		if (ix->slots[i].hash == hash &&
		    e->jobs[ix->slots[i].idx].job == job)
			return ix->slots[i].idx;
	return EMPTY;
}

/* engine.c's lookups; _find_step and _find_job stay static so that mapping a
 * sample's steps inlines them (a push maps every step of a trace's sample). */
uint32_t fp_engine_index_find_step(const fp_engine_t *e, const char *id)
{
	return _find_step(e, id, _hash_str(id));
}

uint32_t fp_engine_index_find_job(const fp_engine_t *e, uint64_t job)
{
	return _find_job(e, job);
}

static uint32_t _new_job(fp_engine_t *e, uint64_t job)
{
	struct job_rec *j;

	if (e->njobs == e->jobs_cap) {
		size_t cap = e->jobs_cap ? 2 * e->jobs_cap : 16;
		struct job_rec *p = realloc(e->jobs, cap * sizeof(*p));

		if (!p)
			return EMPTY;
		e->jobs = p;
		e->jobs_cap = cap;
	}
	if (_index_insert(&e->job_idx, _hash_u64(job), (uint32_t)e->njobs))
		return EMPTY;
	j = &e->jobs[e->njobs];
	memset(j, 0, sizeof(*j));
	j->job = job;
	return (uint32_t)e->njobs++;
}

static uint32_t _new_step(fp_engine_t *e, const char *id, uint64_t hash,
			  uint64_t job)
{
	struct step_rec *r;

	if (e->nsteps == e->steps_cap) {
		size_t cap = e->steps_cap ? 2 * e->steps_cap : 16;
		struct step_rec *p = realloc(e->steps, cap * sizeof(*p));

		if (!p)
			return EMPTY;
		e->steps = p;
		e->steps_cap = cap;
	}
	r = &e->steps[e->nsteps];
	memset(r, 0, sizeof(*r));
	r->id = strdup(id);
	r->prev = calloc(e->cpus ? e->cpus : 1, sizeof(*r->prev));
	if (e->ngpu) {
		r->gbusy = calloc(e->ngpu, sizeof(*r->gbusy));
		r->gbusy_have = malloc(e->ngpu * sizeof(*r->gbusy_have));
		r->gdev = calloc(e->ngpu, sizeof(*r->gdev));
	}
	if (!r->id || !r->prev ||
	    (e->ngpu && (!r->gbusy || !r->gbusy_have || !r->gdev)) ||
	    _index_insert(&e->step_idx, hash, (uint32_t)e->nsteps)) {
		free(r->id);
		free(r->prev);
		free(r->gbusy);
		free(r->gbusy_have);
		free(r->gdev);
		return EMPTY;
	}
	/* a new step's counters started at 0 within the interval */
	for (size_t g = 0; g < e->ngpu; g++)
		r->gbusy_have[g] = true;
	r->hash = hash;
	r->job = job;
	return (uint32_t)e->nsteps++;
}

/* Removes record i by moving the last one into its place. */
void fp_engine_index_drop_step(fp_engine_t *e, uint32_t i)
{
	struct step_rec *r = &e->steps[i];
	uint32_t last = (uint32_t)e->nsteps - 1;
	uint32_t j = _find_job(e, r->job);

	e->map_seq = 0; /* records move */
	_index_remove(&e->step_idx, r->hash, i);
	free(r->id);
	free(r->prev);
	free(r->gbusy);
	free(r->gbusy_have);
	free(r->gdev);
	if (i != last) {
		e->steps[i] = e->steps[last];
		_index_renumber(&e->step_idx, e->steps[i].hash, last, i);
	}
	e->nsteps--;
	if (j == EMPTY || --e->jobs[j].nsteps)
		return;
	last = (uint32_t)e->njobs - 1;
	_index_remove(&e->job_idx, _hash_u64(e->jobs[j].job), j);
	if (j != last) {
		e->jobs[j] = e->jobs[last];
		_index_renumber(&e->job_idx, _hash_u64(e->jobs[j].job), last,
				j);
	}
	e->njobs--;
}

int fp_engine_index_map_steps(fp_engine_t *e, const fp_sample_t *s,
			      fp_error_t *err)
{
	size_t steps0 = e->nsteps, jobs0 = e->njobs;
	uint64_t stamp = ++e->stamp;

	for (size_t i = 0; i < s->nsteps; i++) {
		const fp_step_sample_t *st = &s->steps[i];
		uint64_t h;
		uint32_t r, j;

		if (!st->id || !st->cpu_ns || (st->nalloc && !st->alloc)) {
			fp_error_set(err, FP_EINVAL, "step %zu is incomplete",
				     i);
			goto undo;
		}
		for (size_t k = 0; k < st->nalloc; k++)
			if (st->alloc[k] < 0 ||
			    (size_t)st->alloc[k] >= e->cpus) {
				fp_error_set(
					err, FP_EINVAL,
					"step %s: alloc cpu %d, node has %zu",
					st->id, st->alloc[k], e->cpus);
				goto undo;
			}
		h = _hash_str(st->id);
		r = _find_step(e, st->id, h);
		if (r != EMPTY && e->steps[r].stamp == stamp) {
			fp_error_set(err, FP_EINVAL, "step %s appears twice",
				     st->id);
			goto undo;
		}
		if (r != EMPTY && e->steps[r].job != st->job) {
			fp_error_set(err, FP_EINVAL,
				     "step %s: job %llu, was %llu", st->id,
				     (unsigned long long)st->job,
				     (unsigned long long)e->steps[r].job);
			goto undo;
		}
		j = _find_job(e, st->job);
		if (j == EMPTY && (j = _new_job(e, st->job)) == EMPTY)
			goto nomem;
		if (r == EMPTY) {
			r = _new_step(e, st->id, h, st->job);
			if (r == EMPTY)
				goto nomem;
			e->steps[r].first_t = s->t;
			e->jobs[j].nsteps++;
		}
		e->steps[r].stamp = stamp;
		e->rec_of[i] = r;
		e->job_of[i] = j;
	}
	return 0;
nomem:
	fp_error_set(err, FP_ENOMEM, "out of memory adding a step");
undo:
	/* Records made for this sample are the last ones: pop them. */
	while (e->nsteps > steps0)
		fp_engine_index_drop_step(e, (uint32_t)e->nsteps - 1);
	while (e->njobs > jobs0) {
		uint32_t j = (uint32_t)e->njobs - 1;

		_index_remove(&e->job_idx, _hash_u64(e->jobs[j].job), j);
		e->njobs--;
	}
	return -1;
}
