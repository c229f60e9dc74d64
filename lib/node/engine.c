/* The reference attribution engine (docs/trace-format.md, steps 1-5),
 * shared by the live node plugin (one push per poll) and `sfootprint
 * replay`. */
#include "footprint/engine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY UINT32_MAX

/* Open-addressing index from a key hash to a record number; records live in
 * dense arrays so a push walks memory linearly. */
struct slot {
	uint64_t hash;
	uint32_t idx;
};

struct index {
	struct slot *slots;
	size_t mask;
	size_t n;
};

struct domain_state {
	fp_domain_kind_t kind;
	int pkg; /* index in desc->packages, -1 for psys */
	uint64_t max;
	double idle_given; /* < 0: estimate it */
	bool have_last;
	uint64_t last; /* last valid raw value */
	double last_t;
	bool valid_prev; /* the previous sample read it */
	/* idle regression: power against package activity fraction */
	double n, sx, sy, sxx, sxy, ymin;
	/* this interval */
	double e, s, d, span;
	bool exact; /* read at both ends of the interval */
};

/* One GPU (the accelerators extension of trace v1). */
struct gpu_state {
	uint64_t max;  /* 0: never wraps */
	double idle_w; /* < 0: not given, all dynamic */
	bool have_last;
	uint64_t last;
	double last_t;
	bool valid_prev;
	/* this interval */
	double e, s, d;
	bool exact;
};

struct step_rec {
	char *id;
	uint64_t hash;
	uint64_t job;
	uint64_t *prev; /* cpu_ns at the last sample it was in */
	uint64_t seq;	/* that sample's seq (0: none or unknown) */
	/* gpu_busy of each GPU at the last sample it was in, and whether
	 * there was one (NULL on a node without GPUs) */
	uint64_t *gbusy;
	bool *gbusy_have;
	double *gdev; /* its share of each GPU (NULL: no GPUs) */
	double energy, dynamic, stat, residual, gpu, seconds, power;
	double cpu, dram;		/* dynamic + stat by domain kind */
	double source[FP_SOURCE_COUNT]; /* energy by the node's source */
	double first_t, last_t;
	uint64_t seen;	/* push number when last present */
	uint64_t stamp; /* duplicate detection within one sample */
};

struct job_rec {
	uint64_t job;
	double energy, dynamic, stat, residual, gpu, seconds, power;
	double cpu, dram;
	uint64_t seen;
	size_t nsteps;	   /* step records still held */
	double interval_j; /* scratch: this interval's energy */
};

struct fp_engine {
	fp_node_desc_t *desc;
	fp_engine_opts_t opts;
	size_t cpus, npkg, ndom;
	int *cpu_pkg; /* package index of each CPU, -1 if none */
	struct domain_state *dom;
	size_t ngpu;
	struct gpu_state *gpu;

	bool have_base;
	uint64_t npush; /* successful pushes, baseline included */
	uint64_t stamp, mark;
	double t_prev, t_first;
	uint64_t *busy_prev;
	bool wall_prev_valid;
	double wall_prev;
	bool wall_checked, wall_below; /* the last interval's */
	double wall_delta, rapl_delta;
	uint64_t walls_below;

	struct step_rec *steps;
	size_t nsteps, steps_cap;
	struct index step_idx;
	struct job_rec *jobs;
	size_t njobs, jobs_cap;
	struct index job_idx;

	/* calibration sums: wall = a*rapl + b*dt */
	double c_n, c_rr, c_rd, c_dd, c_rw, c_dw;
	fp_calibration_t cal;

	/* totals, in long double so months of 1 Hz intervals still balance */
	long double node_j, rapl_j, residual_j, idle_j, system_j, forgotten_j;
	long double gpu_j, gpu_idle_j;
	long double source_s[FP_SOURCE_COUNT];
	double power_w;
	fp_source_t source;

	/* seq of the sample whose steps rec_of, job_of, order and njobs_c
	 * describe (0: none); a sample with steps_same at map_seq + 1 keeps
	 * them */
	uint64_t map_seq;

	/* per-push scratch, grown only when a sample has more steps */
	size_t scap;
	uint32_t *rec_of, *job_of, *order;
	double *act, *dyn, *stat, *gsh;
	double *ddyn, *dstat;	 /* the dram domains' part of dyn, stat */
	double *gdsh;		 /* gsh by GPU: step i's share of g at
				 * [i * ngpu + g] */
	double *pkg_sd, *dshare; /* pkg_s, cshare of dram domains */
	bool has_dram;
	double *gbd;	/* this interval's busy delta per step, or -1 */
	uint32_t *hold; /* the holders of one GPU */
	uint64_t *colsum, *jmark, *smark;
	uint32_t *njobs_c, *cnt_c;
	double *pkg_b, *pkg_s, *cshare;
};

bool fp_engine_wall_plausible(double wall_delta_j, double rapl_delta_j)
{
	if (!isfinite(wall_delta_j) || wall_delta_j < 0)
		return false;
	if (!isfinite(rapl_delta_j) || rapl_delta_j <= 0)
		return true;
	return wall_delta_j >= rapl_delta_j * (1 - FP_WALL_RAPL_TOLERANCE);
}

void fp_engine_opts_default(fp_engine_opts_t *opts)
{
	opts->calibration = true;
	opts->min_calibration_intervals = 30;
	opts->min_idle_intervals = 10;
	opts->wall_check = false;
}

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

static int _index_init(struct index *ix, size_t cap)
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

		if (_index_init(&big, cap))
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
static void _drop_step(fp_engine_t *e, uint32_t i)
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

static int _grow_scratch(fp_engine_t *e, size_t n)
{
	size_t cap = e->scap ? e->scap : 16;
	size_t np = e->npkg ? e->npkg : 1;

	if (n <= e->scap)
		return 0;
	while (cap < n)
		cap *= 2;
#define GROW(p, k)                                          \
	do {                                                \
		void *q = realloc((p), (k) * sizeof(*(p))); \
		if (!q)                                     \
			return -1;                          \
		(p) = q;                                    \
	} while (0)
	GROW(e->rec_of, cap);
	GROW(e->job_of, cap);
	GROW(e->order, cap);
	GROW(e->dyn, cap);
	GROW(e->stat, cap);
	GROW(e->gsh, cap);
	GROW(e->ddyn, cap);
	GROW(e->dstat, cap);
	if (e->ngpu)
		GROW(e->gdsh, cap * e->ngpu);
	GROW(e->gbd, cap);
	GROW(e->hold, cap);
	GROW(e->act, cap * np);
#undef GROW
	e->scap = cap;
	return 0;
}

fp_engine_t *fp_engine_new(const fp_node_desc_t *desc,
			   const fp_engine_opts_t *opts, fp_error_t *err)
{
	fp_engine_t *e = calloc(1, sizeof(*e));
	size_t nc, np;

	fp_error_clear(err);
	if (!e)
		goto nomem;
	if (opts)
		e->opts = *opts;
	else
		fp_engine_opts_default(&e->opts);
	e->desc = fp_sample_node_desc_dup(desc);
	if (!e->desc)
		goto nomem;
	e->cpus = desc->cpus;
	e->npkg = desc->npackages;
	e->ndom = desc->ndomains;
	nc = e->cpus ? e->cpus : 1;
	np = e->npkg ? e->npkg : 1;
	e->cpu_pkg = malloc(nc * sizeof(*e->cpu_pkg));
	e->dom = calloc(e->ndom ? e->ndom : 1, sizeof(*e->dom));
	e->ngpu = desc->ngpus;
	e->gpu = calloc(e->ngpu ? e->ngpu : 1, sizeof(*e->gpu));
	e->busy_prev = calloc(nc, sizeof(*e->busy_prev));
	e->colsum = calloc(nc, sizeof(*e->colsum));
	e->jmark = calloc(nc, sizeof(*e->jmark));
	e->smark = calloc(nc, sizeof(*e->smark));
	e->njobs_c = calloc(nc, sizeof(*e->njobs_c));
	e->cnt_c = calloc(nc, sizeof(*e->cnt_c));
	e->cshare = calloc(nc, sizeof(*e->cshare));
	e->pkg_b = calloc(np, sizeof(*e->pkg_b));
	e->pkg_s = calloc(np, sizeof(*e->pkg_s));
	e->pkg_sd = calloc(np, sizeof(*e->pkg_sd));
	e->dshare = calloc(nc, sizeof(*e->dshare));
	if (!e->cpu_pkg || !e->dom || !e->gpu || !e->busy_prev || !e->colsum ||
	    !e->jmark || !e->smark || !e->njobs_c || !e->cnt_c || !e->cshare ||
	    !e->pkg_b || !e->pkg_s || !e->pkg_sd || !e->dshare ||
	    _index_init(&e->step_idx, 64) || _index_init(&e->job_idx, 32) ||
	    _grow_scratch(e, 16))
		goto nomem;

	for (size_t c = 0; c < e->cpus; c++)
		e->cpu_pkg[c] = -1;
	for (size_t p = 0; p < e->npkg; p++) {
		const fp_package_t *pk = &desc->packages[p];

		for (size_t k = 0; k < pk->ncpus; k++) {
			int c = pk->cpus[k];

			if (c < 0 || (size_t)c >= e->cpus) {
				fp_error_set(
					err, FP_EINVAL,
					"package %d lists cpu %d, node has %zu",
					pk->id, c, e->cpus);
				goto fail;
			}
			e->cpu_pkg[c] = (int)p;
		}
	}
	for (size_t d = 0; d < e->ndom; d++) {
		const fp_domain_t *dm = &desc->domains[d];
		struct domain_state *ds = &e->dom[d];

		ds->kind = dm->kind;
		ds->max = dm->max_energy_range_uj;
		ds->idle_given = dm->idle_w;
		ds->ymin = INFINITY;
		ds->pkg = -1;
		if (dm->kind == FP_DOMAIN_PSYS)
			continue;
		e->has_dram |= dm->kind == FP_DOMAIN_DRAM;
		ds->pkg = fp_sample_node_desc_package(desc, dm->package);
		if (ds->pkg < 0) {
			fp_error_set(err, FP_EINVAL,
				     "domain %s: package %d is not in the node",
				     dm->name, dm->package);
			goto fail;
		}
	}
	for (size_t g = 0; g < e->ngpu; g++) {
		e->gpu[g].max = desc->gpus[g].max_energy_uj;
		e->gpu[g].idle_w = desc->gpus[g].idle_w;
	}
	return e;
nomem:
	fp_error_set(err, FP_ENOMEM, "out of memory creating the engine");
fail:
	fp_engine_free(e);
	return NULL;
}

void fp_engine_free(fp_engine_t *e)
{
	if (!e)
		return;
	for (size_t i = 0; i < e->nsteps; i++) {
		free(e->steps[i].id);
		free(e->steps[i].prev);
		free(e->steps[i].gbusy);
		free(e->steps[i].gbusy_have);
		free(e->steps[i].gdev);
	}
	free(e->steps);
	free(e->jobs);
	free(e->step_idx.slots);
	free(e->job_idx.slots);
	fp_sample_node_desc_free(e->desc);
	free(e->cpu_pkg);
	free(e->dom);
	free(e->gpu);
	free(e->busy_prev);
	free(e->colsum);
	free(e->jmark);
	free(e->smark);
	free(e->njobs_c);
	free(e->cnt_c);
	free(e->cshare);
	free(e->pkg_b);
	free(e->pkg_s);
	free(e->pkg_sd);
	free(e->dshare);
	free(e->rec_of);
	free(e->job_of);
	free(e->order);
	free(e->act);
	free(e->dyn);
	free(e->stat);
	free(e->gsh);
	free(e->ddyn);
	free(e->dstat);
	free(e->gdsh);
	free(e->gbd);
	free(e->hold);
	free(e);
}

const fp_node_desc_t *fp_engine_desc(const fp_engine_t *e)
{
	return e->desc;
}

static bool _estimated(const struct domain_state *ds)
{
	return ds->kind != FP_DOMAIN_PSYS && !(ds->idle_given >= 0);
}

/* Idle power from past intervals: the intercept of domain power against the
 * package's activity fraction. It cannot exceed the lowest power seen (that
 * interval had idle plus some activity), which is also the guess until the
 * regression has enough spread to be trusted. */
static double _idle_w(const fp_engine_t *e, const struct domain_state *ds)
{
	double den, icpt;

	if (!_estimated(ds))
		return ds->idle_given >= 0 ? ds->idle_given : 0;
	if (ds->n < 1)
		return 0;
	den = ds->n * ds->sxx - ds->sx * ds->sx;
	if (ds->n < e->opts.min_idle_intervals || !(den > 1e-6 * ds->n * ds->n))
		return ds->ymin;
	icpt = (ds->sy * ds->sxx - ds->sx * ds->sxy) / den;
	if (!(icpt > 0))
		return 0;
	return icpt < ds->ymin ? icpt : ds->ymin;
}

double fp_engine_idle_w(const fp_engine_t *e, size_t domain, bool *estimated)
{
	if (domain >= e->ndom)
		return 0;
	if (estimated)
		*estimated = _estimated(&e->dom[domain]);
	return _idle_w(e, &e->dom[domain]);
}

static void _fit_calibration(fp_engine_t *e)
{
	double det = e->c_rr * e->c_dd - e->c_rd * e->c_rd;
	fp_calibration_t *cal = &e->cal;

	cal->intervals = (uint64_t)e->c_n;
	cal->fitted = false;
	if (e->c_n >= 2 && det > 1e-12 * e->c_rr * e->c_dd) {
		cal->a = (e->c_rw * e->c_dd - e->c_dw * e->c_rd) / det;
		cal->b_w = (e->c_rr * e->c_dw - e->c_rd * e->c_rw) / det;
		cal->fitted = true;
	} else if (e->c_n >= 1 && e->c_rr > 0) {
		/* A constant load cannot separate a from b; a pure ratio
		 * still predicts the wall at that load. */
		cal->a = e->c_rw / e->c_rr;
		cal->b_w = 0;
		cal->fitted = true;
	}
	cal->active = cal->fitted && e->opts.calibration &&
		      e->c_n >= e->opts.min_calibration_intervals;
}

static int _map_steps(fp_engine_t *e, const fp_sample_t *s, fp_error_t *err)
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
		_drop_step(e, (uint32_t)e->nsteps - 1);
	while (e->njobs > jobs0) {
		uint32_t j = (uint32_t)e->njobs - 1;

		_index_remove(&e->job_idx, _hash_u64(e->jobs[j].job), j);
		e->njobs--;
	}
	return -1;
}

/* Spec step 1: domain energies of the interval, with wraps and failed
 * reads. A read after failed ones carries the energy of the whole gap; its
 * idle part is the idle power over that gap. */
static void _domain_energy(fp_engine_t *e, const fp_sample_t *s)
{
	for (size_t d = 0; d < e->ndom; d++) {
		struct domain_state *ds = &e->dom[d];
		uint64_t v = s->energy_uj[d], delta;
		double idle;

		ds->e = ds->s = ds->d = 0;
		ds->exact = false;
		ds->span = 0;
		if (!s->energy_valid[d]) {
			ds->valid_prev = false;
			continue;
		}
		if (ds->have_last) {
			if (v >= ds->last)
				delta = v - ds->last;
			else if (ds->last <= ds->max)
				delta = (ds->max - ds->last) + 1 + v;
			else
				delta = v; /* above its own range: a reset */
			ds->e = (double)delta / 1e6;
			ds->span = s->t - ds->last_t;
			ds->exact = ds->valid_prev;
		}
		ds->have_last = true;
		ds->last = v;
		ds->last_t = s->t;
		ds->valid_prev = true;
		idle = _idle_w(e, ds) * ds->span;
		ds->s = ds->e < idle ? ds->e : idle;
		ds->d = ds->e - ds->s;
	}
}

/* CPU c's counter of a step moved from prev[c] to cur[c]: its activity
 * (a counter that went back, a reset, counts 0). */
static inline void _count(fp_engine_t *e, double *act, uint64_t *prev,
			  const uint64_t *cur, size_t c)
{
	uint64_t a = cur[c] > prev[c] ? cur[c] - prev[c] : 0;

	prev[c] = cur[c];
	if (!a)
		return;
	e->colsum[c] += a;
	if (e->cpu_pkg[c] >= 0)
		act[e->cpu_pkg[c]] += (double)a;
}

/* Spec step 2, first half: per-step activity per package, and b_c. */
static void _activity(fp_engine_t *e, const fp_sample_t *s)
{
	size_t np = e->npkg;

	memset(e->colsum, 0, e->cpus * sizeof(*e->colsum));
	memset(e->act, 0, s->nsteps * np * sizeof(*e->act));
	for (size_t i = 0; i < s->nsteps; i++) {
		struct step_rec *r = &e->steps[e->rec_of[i]];
		const fp_step_sample_t *st = &s->steps[i];
		const uint64_t *cur = st->cpu_ns;
		double *act = &e->act[i * np];
		uint64_t *prev = r->prev;

		/* The reader says which counters moved since the sample
		 * before, the one prev holds: look at those only. */
		if (s->seq && st->changed_known && st->changed && r->seq &&
		    r->seq + 1 == s->seq) {
			for (size_t w = 0; w < FP_BITMAP_WORDS(e->cpus); w++)
				for (uint64_t m = st->changed[w]; m;
				     m &= m - 1) {
					size_t c = w * 64 +
						   (size_t)__builtin_ctzll(m);

					if (c >= e->cpus)
						break;
					_count(e, act, prev, cur, c);
				}
			r->seq = s->seq;
			continue;
		}
		r->seq = s->seq;
		/* Else skip blocks of 8 unchanged counters with one test (a
		 * step runs on a few CPUs). */
		for (size_t c0 = 0; c0 < e->cpus; c0 += 8) {
			size_t n = e->cpus - c0 < 8 ? e->cpus - c0 : 8;
			uint64_t x = 0;

			for (size_t k = 0; k < n; k++)
				x |= cur[c0 + k] ^ prev[c0 + k];
			if (!x)
				continue;
			for (size_t c = c0; c < c0 + n; c++)
				_count(e, act, prev, cur, c);
		}
	}
	memset(e->pkg_b, 0, np * sizeof(*e->pkg_b));
	for (size_t c = 0; c < e->cpus; c++) {
		uint64_t cur = s->cpu_busy_ns[c], prev = e->busy_prev[c];
		uint64_t b = cur > prev ? cur - prev : 0;

		if (e->colsum[c] > b)
			b = e->colsum[c];
		if (e->cpu_pkg[c] >= 0)
			e->pkg_b[e->cpu_pkg[c]] += (double)b;
		e->busy_prev[c] = cur;
	}
}

/* x / n, bit for bit, without a division where n is a power of two (a
 * step on a CPU alone or beside one or three others): x * (1/n) is exact
 * then. */
static inline double _div_count(double x, uint32_t n)
{
	if (n && !(n & (n - 1)))
		return x * (1.0 / (double)n);
	return x / (double)n;
}

static int _by_job(const fp_engine_t *e, uint32_t x, uint32_t y)
{
	uint64_t a = e->jobs[e->job_of[x]].job, b = e->jobs[e->job_of[y]].job;

	return a < b ? -1 : a > b;
}

/* Spec step 3: each CPU's idle share goes to the jobs allocated on it,
 * equally, and within a job equally to its steps on it. Steps are grouped by
 * job so overlapping steps of one job take the job's part once. */
static double _static(fp_engine_t *e, const fp_sample_t *s, bool same)
{
	size_t n = s->nsteps, g0, g1;
	double given = 0;

	if (same)
		goto shares; /* order and njobs_c are still right */
	/* Samples list steps job by job already, so this is nearly linear. */
	for (size_t i = 0; i < n; i++) {
		uint32_t x = (uint32_t)i;
		size_t k = i;

		while (k > 0 && _by_job(e, e->order[k - 1], x) > 0) {
			e->order[k] = e->order[k - 1];
			k--;
		}
		e->order[k] = x;
	}
	memset(e->njobs_c, 0, e->cpus * sizeof(*e->njobs_c));
	for (g0 = 0; g0 < n; g0 = g1) {
		uint64_t gm = ++e->mark;

		for (g1 = g0; g1 < n && !_by_job(e, e->order[g0], e->order[g1]);
		     g1++) {
			const fp_step_sample_t *st = &s->steps[e->order[g1]];

			for (size_t k = 0; k < st->nalloc; k++) {
				int c = st->alloc[k];

				if (e->jmark[c] != gm) {
					e->jmark[c] = gm;
					e->njobs_c[c]++;
				}
			}
		}
	}
shares:
	for (size_t c = 0, last = SIZE_MAX; c < e->cpus; c++) {
		int p = e->cpu_pkg[c];

		/* the same quotient for all CPUs of a package: divide once
		 * per run of them */
		if (c > 0 && (size_t)p == last) {
			e->cshare[c] = e->cshare[c - 1];
			e->dshare[c] = e->dshare[c - 1];
			continue;
		}
		last = (size_t)p;
		e->cshare[c] =
			p < 0 || !e->desc->packages[p].ncpus
				? 0
				: e->pkg_s[p] /
					  (double)e->desc->packages[p].ncpus;
		if (e->has_dram)
			e->dshare[c] =
				p < 0 || !e->desc->packages[p].ncpus
					? 0
					: e->pkg_sd[p] /
						  (double)e->desc->packages[p]
							  .ncpus;
	}
	/* each job's part of a CPU's idle share, the same for all its
	 * steps: cshare / njobs (then / cnt for one step, as the spec) */
	for (size_t c = 0; c < e->cpus; c++)
		if (e->njobs_c[c] > 1) { /* x / 1 is x: skip it */
			e->cshare[c] /= e->njobs_c[c];
			if (e->has_dram)
				e->dshare[c] /= e->njobs_c[c];
		}
	for (g0 = 0; g0 < n; g0 = g1) {
		uint64_t gm = ++e->mark;

		for (g1 = g0; g1 < n && !_by_job(e, e->order[g0], e->order[g1]);
		     g1++) {
			const fp_step_sample_t *st = &s->steps[e->order[g1]];
			uint64_t sm = ++e->mark;

			for (size_t k = 0; k < st->nalloc; k++) {
				int c = st->alloc[k];

				if (e->smark[c] == sm)
					continue; /* listed twice */
				e->smark[c] = sm;
				if (e->jmark[c] != gm) {
					e->jmark[c] = gm;
					e->cnt_c[c] = 0;
				}
				e->cnt_c[c]++;
			}
		}
		for (size_t i = g0; i < g1; i++) {
			const fp_step_sample_t *st = &s->steps[e->order[i]];
			uint64_t sm = ++e->mark;
			double part = 0, dpart = 0;

			for (size_t k = 0; k < st->nalloc; k++) {
				int c = st->alloc[k];

				if (e->smark[c] == sm)
					continue;
				e->smark[c] = sm;
				part += _div_count(e->cshare[c], e->cnt_c[c]);
				/* the same slices, of the dram domains only:
				 * the spec shares each domain alike */
				if (e->has_dram)
					dpart += _div_count(e->dshare[c],
							    e->cnt_c[c]);
			}
			e->stat[e->order[i]] = part;
			e->dstat[e->order[i]] = dpart;
			given += part;
		}
	}
	return given;
}

/* --- GPUs (trace v1, "Extension: accelerators") --- */

/* A step's GPUs must be the node's, each once: a GPU listed twice would be
 * counted twice in its holders. Checked before anything changes. */
static int _gpu_check(const fp_engine_t *e, const fp_sample_t *s,
		      fp_error_t *err)
{
	for (size_t i = 0; i < s->nsteps; i++) {
		const fp_step_sample_t *st = &s->steps[i];

		if (st->ngpus && !st->gpus)
			return fp_error_set(err, FP_EINVAL,
					    "step %zu is "
					    "incomplete",
					    i);
		for (size_t k = 0; k < st->ngpus; k++) {
			if (st->gpus[k] < 0 || (size_t)st->gpus[k] >= e->ngpu)
				return fp_error_set(
					err, FP_EINVAL,
					"step %s: gpu %d, node has %zu", st->id,
					st->gpus[k], e->ngpu);
			for (size_t m = 0; m < k; m++)
				if (st->gpus[m] == st->gpus[k])
					return fp_error_set(
						err, FP_EINVAL,
						"step %s: gpu %d listed "
						"twice",
						st->id, st->gpus[k]);
		}
	}
	return 0;
}

/* Position of GPU g in the step's list, or -1. */
static int _holds(const fp_step_sample_t *st, size_t g)
{
	for (size_t k = 0; k < st->ngpus; k++)
		if ((size_t)st->gpus[k] == g)
			return (int)k;
	return -1;
}

/* E_g, S_g, D_g of the interval. The reader's counter already counts its
 * own wraps; one that still went down without max_energy_uj was reset
 * (driver reload): no value for this interval, the reading is the new
 * base. A read after failed ones carries the whole gap. */
static void _gpu_energy(fp_engine_t *e, const fp_sample_t *s)
{
	for (size_t g = 0; g < e->ngpu; g++) {
		struct gpu_state *gs = &e->gpu[g];
		uint64_t v;
		double span = 0;

		gs->e = gs->s = gs->d = 0;
		gs->exact = false;
		if (!s->gpu_energy_uj || !s->gpu_valid || !s->gpu_valid[g]) {
			gs->valid_prev = false;
			continue;
		}
		v = s->gpu_energy_uj[g];
		if (gs->have_last) {
			bool got = true;
			uint64_t delta = 0;

			if (v >= gs->last)
				delta = v - gs->last;
			else if (gs->max && gs->last <= gs->max)
				delta = (gs->max - gs->last) + 1 + v;
			else
				got = false;
			if (got) {
				gs->e = (double)delta / 1e6;
				span = s->t - gs->last_t;
				gs->exact = gs->valid_prev;
			}
		}
		gs->have_last = true;
		gs->last = v;
		gs->last_t = s->t;
		gs->valid_prev = true;
		if (gs->idle_w > 0) {
			double idle = gs->idle_w * span;

			gs->s = gs->e < idle ? gs->e : idle;
		}
		gs->d = gs->e - gs->s;
	}
}

/* Step i's gpu_busy delta on GPU g (its k-th), or -1 where it has none. */
static double _busy_delta(const fp_engine_t *e, const fp_sample_t *s, size_t i,
			  size_t g, int k)
{
	const fp_step_sample_t *st = &s->steps[i];
	const struct step_rec *r = &e->steps[e->rec_of[i]];
	uint64_t cur;

	if (!st->gpu_busy || (st->gpu_busy_valid && !st->gpu_busy_valid[k]) ||
	    !r->gbusy_have[g])
		return -1;
	cur = st->gpu_busy[k];
	return cur > r->gbusy[g] ? (double)(cur - r->gbusy[g]) : 0;
}

/* Gives each GPU's energy of the interval to the steps holding it (e->gsh,
 * by sample position); returns the sum of E_g, and in *unheld the energy
 * of GPUs nobody holds (gpu_idle). */
static double _gpu_shares(fp_engine_t *e, const fp_sample_t *s, double *unheld)
{
	double total = 0;

	*unheld = 0;
	memset(e->gsh, 0, s->nsteps * sizeof(*e->gsh));
	memset(e->gdsh, 0, s->nsteps * e->ngpu * sizeof(*e->gdsh));
	for (size_t g = 0; g < e->ngpu; g++) {
		const struct gpu_state *gs = &e->gpu[g];
		size_t nh = 0, njobs = 0;
		double sum = 0;
		bool busy_ok = true;

		total += gs->e;
		if (!(gs->e > 0))
			continue;
		for (size_t i = 0; i < s->nsteps; i++) {
			int k = _holds(&s->steps[i], g);

			if (k < 0)
				continue;
			e->hold[nh] = (uint32_t)i;
			e->gbd[nh] = _busy_delta(e, s, i, g, k);
			if (e->gbd[nh] < 0)
				busy_ok = false;
			else
				sum += e->gbd[nh];
			nh++;
		}
		if (!nh) {
			*unheld += gs->e;
			continue;
		}
		busy_ok = busy_ok && sum > 0;
		for (size_t h = 0; h < nh; h++) {
			size_t m = 0;

			while (m < h &&
			       e->job_of[e->hold[m]] != e->job_of[e->hold[h]])
				m++;
			njobs += m == h;
		}
		for (size_t h = 0; h < nh; h++) {
			size_t same = 0;
			double share;

			for (size_t m = 0; m < nh; m++)
				same += e->job_of[e->hold[m]] ==
					e->job_of[e->hold[h]];
			if (njobs == 1)
				share = busy_ok ? gs->e * (e->gbd[h] / sum)
						: gs->e / (double)nh;
			else
				share = (busy_ok ? gs->d * (e->gbd[h] / sum)
						 : gs->d / (double)njobs /
							   (double)same) +
					gs->s / (double)njobs / (double)same;
			e->gsh[e->hold[h]] += share;
			e->gdsh[e->hold[h] * e->ngpu + g] = share;
		}
	}
	return total;
}

/* The sample's gpu_busy values become the steps' start values for the
 * next interval. */
static void _gpu_busy_keep(fp_engine_t *e, const fp_sample_t *s)
{
	if (!e->ngpu)
		return;
	for (size_t i = 0; i < s->nsteps; i++) {
		const fp_step_sample_t *st = &s->steps[i];
		struct step_rec *r = &e->steps[e->rec_of[i]];

		memset(r->gbusy_have, 0, e->ngpu * sizeof(*r->gbusy_have));
		if (!st->gpu_busy)
			continue;
		for (size_t k = 0; k < st->ngpus; k++) {
			if (st->gpu_busy_valid && !st->gpu_busy_valid[k])
				continue;
			r->gbusy[st->gpus[k]] = st->gpu_busy[k];
			r->gbusy_have[st->gpus[k]] = true;
		}
	}
}

/* One interval's figures, as push's steps hand them on. */
struct interval {
	double dt;
	double rapl;	/* package + dram */
	double s_total; /* their S_d */
	double system;	/* their D_d no step got */
	double idle;	/* their S_d no step got */
	double psys;
	double gpu;    /* the sum of E_g */
	double unheld; /* E_g of the GPUs nobody holds */
	double seen;   /* rapl + gpu */
	double node;
	double factor; /* residual per joule received */
	double res_given;
	size_t nrapl;
	bool rapl_exact, psys_ok, cal_ok, wall_ok;
	fp_source_t src;
};

/* The sample is checked, and its steps found among the records, before
 * anything is counted. *same: the steps are the last push's. */
static int _admit(fp_engine_t *e, const fp_sample_t *s, bool *same,
		  fp_error_t *err)
{
	if (!isfinite(s->t))
		return fp_error_set(err, FP_EINVAL, "sample t is not a number");
	if (e->have_base && !(s->t > e->t_prev))
		return fp_error_set(
			err, FP_EINVAL,
			"sample t=%.6f is not after the previous t=%.6f", s->t,
			e->t_prev);
	if (_grow_scratch(e, s->nsteps))
		return fp_error_set(err, FP_ENOMEM,
				    "out of memory for %zu steps", s->nsteps);
	/* the same steps as the last push: its mapping and job structure
	 * hold (a failed push leaves map_seq 0) */
	*same = s->seq && s->steps_same && e->map_seq &&
		e->map_seq + 1 == s->seq;
	e->map_seq = 0;
	if (e->ngpu && _gpu_check(e, s, err))
		return -1;
	if (!*same && _map_steps(e, s, err))
		return -1;
	return 0;
}

/* The first sample: counters to take deltas from, nothing to attribute. */
static void _baseline(fp_engine_t *e, const fp_sample_t *s)
{
	for (size_t i = 0; i < s->nsteps; i++) {
		struct step_rec *r = &e->steps[e->rec_of[i]];

		memcpy(r->prev, s->steps[i].cpu_ns, e->cpus * sizeof(uint64_t));
		r->seq = s->seq;
		r->seen = e->npush;
		r->last_t = s->t;
		e->jobs[e->job_of[i]].seen = e->npush;
	}
	for (size_t d = 0; d < e->ndom; d++) {
		struct domain_state *ds = &e->dom[d];

		ds->valid_prev = s->energy_valid[d];
		ds->have_last = s->energy_valid[d];
		ds->last = s->energy_uj[d];
		ds->last_t = s->t;
	}
	for (size_t g = 0; g < e->ngpu; g++) {
		struct gpu_state *gs = &e->gpu[g];
		bool ok = s->gpu_energy_uj && s->gpu_valid && s->gpu_valid[g];

		gs->valid_prev = gs->have_last = ok;
		gs->last = ok ? s->gpu_energy_uj[g] : 0;
		gs->last_t = s->t;
	}
	memcpy(e->busy_prev, s->cpu_busy_ns, e->cpus * sizeof(uint64_t));
	e->wall_prev_valid = s->wall_valid && isfinite(s->wall_j);
	e->wall_prev = s->wall_j;
	e->t_first = s->t;
	_gpu_busy_keep(e, s);
	e->have_base = true;
	e->t_prev = s->t;
}

/* Spec step 2, second half: dynamic energy by activity share. The domains'
 * static parts are summed by package for step 3 on the way. */
static void _activity_shares(fp_engine_t *e, const fp_sample_t *s,
			     struct interval *iv)
{
	size_t np = e->npkg;
	double rapl = 0, s_total = 0, system = 0, psys = 0;
	bool psys_bad = false, cal_ok = true, rapl_exact = true;
	size_t nrapl = 0;
	size_t npsys = 0;

	memset(e->dyn, 0, s->nsteps * sizeof(*e->dyn));
	memset(e->ddyn, 0, s->nsteps * sizeof(*e->ddyn));
	memset(e->pkg_s, 0, (np ? np : 1) * sizeof(*e->pkg_s));
	memset(e->pkg_sd, 0, (np ? np : 1) * sizeof(*e->pkg_sd));
	for (size_t d = 0; d < e->ndom; d++) {
		struct domain_state *ds = &e->dom[d];
		double b, given = 0;

		if (ds->kind == FP_DOMAIN_PSYS) {
			/* A psys that failed anywhere in the interval cannot
			 * be the node total: fall back as for no wall. */
			npsys++;
			psys_bad |= !ds->exact;
			psys += ds->e;
			continue;
		}
		rapl += ds->e;
		nrapl++;
		if (!ds->exact)
			cal_ok = rapl_exact = false;
		e->pkg_s[ds->pkg] += ds->s;
		if (ds->kind == FP_DOMAIN_DRAM)
			e->pkg_sd[ds->pkg] += ds->s;
		s_total += ds->s;
		b = e->pkg_b[ds->pkg];
		if (ds->d > 0 && b > 0)
			for (size_t i = 0; i < s->nsteps; i++) {
				double share;

				/* no activity there: a share of exactly 0 */
				if (e->act[i * np + ds->pkg] == 0)
					continue;
				share = ds->d * e->act[i * np + ds->pkg] / b;
				e->dyn[i] += share;
				if (ds->kind == FP_DOMAIN_DRAM)
					e->ddyn[i] += share;
				given += share;
			}
		system += ds->d - given;
	}
	iv->rapl = rapl;
	iv->s_total = s_total;
	iv->system = system;
	iv->psys = psys;
	iv->nrapl = nrapl;
	iv->rapl_exact = rapl_exact;
	iv->cal_ok = cal_ok;
	iv->psys_ok = npsys && !psys_bad;
}

/* Accelerators, holders: each GPU's energy to the steps holding it. */
static void _gpu_holders(fp_engine_t *e, const fp_sample_t *s,
			 struct interval *iv)
{
	double unheld = 0;
	bool cal_ok = iv->cal_ok;

	if (!e->ngpu)
		return;
	iv->gpu = _gpu_shares(e, s, &unheld);
	for (size_t g = 0; g < e->ngpu; g++)
		cal_ok &= e->gpu[g].exact;
	iv->unheld = unheld;
	iv->cal_ok = cal_ok;
}

/* Spec step 4: node total, from the best source of this interval. */
static void _node_total(fp_engine_t *e, const fp_sample_t *s,
			struct interval *iv)
{
	/* No RAPL domain holds a GPU: what the node's meters saw */
	iv->seen = iv->rapl + iv->gpu;
	iv->wall_ok = s->wall_valid && isfinite(s->wall_j) &&
		      e->wall_prev_valid && s->wall_j >= e->wall_prev;
	/* A wall below RAPL is a meter fault: not the node total. */
	e->wall_checked = e->opts.wall_check && iv->wall_ok && iv->nrapl &&
			  iv->rapl_exact;
	e->wall_below = false;
	if (e->wall_checked) {
		e->wall_delta = s->wall_j - e->wall_prev;
		e->rapl_delta = iv->rapl;
		e->wall_below =
			!fp_engine_wall_plausible(e->wall_delta, iv->rapl);
		iv->wall_ok = !e->wall_below;
		e->walls_below += e->wall_below;
	}
	if (iv->wall_ok) {
		iv->node = s->wall_j - e->wall_prev;
		iv->src = FP_SOURCE_WALL;
	} else if (iv->psys_ok) {
		iv->node = iv->psys + iv->gpu;
		iv->src = FP_SOURCE_PSYS;
	} else if (e->cal.active) {
		iv->node = e->cal.a * iv->seen + e->cal.b_w * iv->dt;
		if (iv->node < 0)
			iv->node = 0;
		iv->src = FP_SOURCE_CALIBRATED;
	} else {
		iv->node = iv->seen;
		iv->src = FP_SOURCE_RAPL;
	}
	iv->factor = iv->seen > 0 ? (iv->node - iv->seen) / iv->seen : 0;
}

/* Spec step 4, the residual: each step and its job get what steps 2-3 and
 * the GPUs gave it, and the residual in proportion. */
static void _step_shares(fp_engine_t *e, const fp_sample_t *s,
			 struct interval *iv)
{
	double dt = iv->dt, factor = iv->factor, res_given = 0;
	fp_source_t src = iv->src;

	for (size_t i = 0; i < s->nsteps; i++) {
		struct step_rec *r = &e->steps[e->rec_of[i]];
		struct job_rec *j = &e->jobs[e->job_of[i]];
		const fp_step_sample_t *st = &s->steps[i];
		double gsh = e->ngpu ? e->gsh[i] : 0;
		double got = e->dyn[i] + e->stat[i] + gsh;
		double res = got * factor;
		double dram = e->has_dram ? e->ddyn[i] + e->dstat[i] : 0;
		/* what the packages gave: the rest of the RAPL share */
		double cpu = (e->dyn[i] + e->stat[i]) - dram;

		res_given += res;
		r->dynamic += e->dyn[i];
		r->stat += e->stat[i];
		r->cpu += cpu;
		r->dram += dram;
		r->gpu += gsh;
		for (size_t k = 0; e->ngpu && k < st->ngpus; k++)
			r->gdev[st->gpus[k]] +=
				e->gdsh[i * e->ngpu + (size_t)st->gpus[k]];
		r->residual += res;
		r->energy += got + res;
		r->source[src] += got + res;
		r->seconds += dt;
		r->power = (got + res) / dt;
		r->seen = e->npush;
		r->last_t = s->t;
		if (j->seen != e->npush) {
			j->seen = e->npush;
			j->interval_j = 0;
			j->seconds += dt;
		}
		j->dynamic += e->dyn[i];
		j->stat += e->stat[i];
		j->cpu += cpu;
		j->dram += dram;
		j->gpu += gsh;
		j->residual += res;
		j->energy += got + res;
		j->interval_j += got + res;
	}
	/* each job's power once its steps are all in (samples list them job
	 * by job: once per run of them) */
	for (size_t i = 0; i < s->nsteps; i++)
		if (i + 1 == s->nsteps || e->job_of[i + 1] != e->job_of[i])
			e->jobs[e->job_of[i]].power =
				e->jobs[e->job_of[i]].interval_j / dt;
	iv->res_given = res_given;
}

/* Spec step 4, the residual, and step 5: system and gpu_idle get theirs,
 * idle the rest; the node's totals. */
static void _node_shares(fp_engine_t *e, struct interval *iv)
{
	double factor = iv->factor;

	iv->res_given += iv->system * factor + iv->unheld * factor;
	e->system_j += iv->system + iv->system * factor;
	e->gpu_idle_j += iv->unheld + iv->unheld * factor;
	e->gpu_j += iv->gpu;
	/* idle takes what is left of the residual, so the interval balances
	 * to rounding whatever the shares were. */
	e->idle_j += iv->idle + (iv->node - iv->seen - iv->res_given);
	e->node_j += iv->node;
	e->rapl_j += iv->rapl;
	e->residual_j += iv->node - iv->seen;
	e->source_s[iv->src] += iv->dt;
	e->power_w = iv->node / iv->dt;
	e->source = iv->src;
}

/* Spec step 4, the calibration: learn from this interval only after using
 * what came before. */
static void _learn_calibration(fp_engine_t *e, const struct interval *iv)
{
	double seen = iv->seen, dt = iv->dt;

	if (iv->wall_ok && iv->cal_ok && seen > 0) {
		double w = iv->node;

		e->c_n += 1;
		e->c_rr += seen * seen;
		e->c_rd += seen * dt;
		e->c_dd += dt * dt;
		e->c_rw += seen * w;
		e->c_dw += dt * w;
		_fit_calibration(e);
	}
}

/* Spec step 1's idle_w_d, where estimated: the regression learns this
 * interval, for the next ones. */
static void _learn_idle(fp_engine_t *e, double dt)
{
	for (size_t d = 0; d < e->ndom; d++) {
		struct domain_state *ds = &e->dom[d];
		const fp_package_t *pk;
		double x, y;

		if (!_estimated(ds) || !ds->exact)
			continue;
		pk = &e->desc->packages[ds->pkg];
		if (!pk->ncpus)
			continue;
		x = e->pkg_b[ds->pkg] / (dt * (double)pk->ncpus * 1e9);
		y = ds->e / dt;
		ds->n += 1;
		ds->sx += x;
		ds->sy += y;
		ds->sxx += x * x;
		ds->sxy += x * y;
		if (y < ds->ymin)
			ds->ymin = y;
	}
}

/* The sample's counters are the next interval's start. */
static void _interval_end(fp_engine_t *e, const fp_sample_t *s)
{
	_gpu_busy_keep(e, s);
	/* a dropped wall is no baseline either, as if it had not read (so
	 * its trace, where the poller writes it null, replays the same) */
	e->wall_prev_valid = s->wall_valid && isfinite(s->wall_j) &&
			     !e->wall_below;
	e->wall_prev = s->wall_j;
	e->t_prev = s->t;
	e->map_seq = s->seq; /* _static ran: the structure is whole */
}

int fp_engine_push(fp_engine_t *e, const fp_sample_t *s, fp_error_t *err)
{
	struct interval iv = { 0 };
	bool same;

	fp_error_clear(err);
	/* The sample, checked; its steps, found among the records */
	if (_admit(e, s, &same, err))
		return -1;
	e->npush++;
	/* The first sample, the baseline: nothing to attribute */
	if (!e->have_base) {
		_baseline(e, s);
		return 0;
	}
	iv.dt = s->t - e->t_prev;

	/* Spec step 1, domain energy: E_d, S_d, D_d, wraps, failed reads */
	_domain_energy(e, s);
	/* Spec step 2, activity: a_s,c by package, b_c */
	_activity(e, s);
	/* Accelerators, energy: E_g, S_g, D_g */
	_gpu_energy(e, s);
	/* Spec step 2, activity: D_d by activity share, the rest system */
	_activity_shares(e, s, &iv);
	/* Spec step 3, idle (static) part: S_d by allocation, the rest idle */
	iv.idle = iv.s_total - _static(e, s, same);
	/* Accelerators, holders: E_g to the steps holding g, or gpu_idle */
	_gpu_holders(e, s, &iv);
	/* Spec step 4, node total: wall, psys, calibrated or RAPL */
	_node_total(e, s, &iv);
	/* Spec step 4, residual: to the steps and their jobs, in proportion */
	_step_shares(e, s, &iv);
	/* Spec step 4, residual: to system and gpu_idle; step 5,
	 * conservation: idle takes the rest, the interval balances */
	_node_shares(e, &iv);
	/* Spec step 4, calibration, and step 1's idle_w: learnt after use */
	_learn_calibration(e, &iv);
	_learn_idle(e, iv.dt);
	/* The next interval starts here */
	_interval_end(e, s);
	return 0;
}

void fp_engine_node(const fp_engine_t *e, fp_engine_node_t *out)
{
	memset(out, 0, sizeof(*out));
	out->samples = e->npush;
	out->seconds = e->have_base ? e->t_prev - e->t_first : 0;
	out->energy_j = (double)e->node_j;
	out->power_w = e->power_w;
	out->source = e->source;
	for (int k = 0; k < FP_SOURCE_COUNT; k++)
		out->source_s[k] = (double)e->source_s[k];
	out->rapl_j = (double)e->rapl_j;
	out->residual_j = (double)e->residual_j;
	out->idle_j = (double)e->idle_j;
	out->system_j = (double)e->system_j;
	out->gpu_j = (double)e->gpu_j;
	out->gpu_idle_j = (double)e->gpu_idle_j;
	for (size_t d = 0; d < e->ndom; d++)
		if (_estimated(&e->dom[d]))
			out->idle_w_estimated = true;
	out->calibration = e->cal;
	if (!e->cal.fitted)
		out->calibration.intervals = (uint64_t)e->c_n;
	out->wall_checked = e->wall_checked;
	out->wall_below_rapl = e->wall_below;
	out->wall_delta_j = e->wall_checked ? e->wall_delta : NAN;
	out->rapl_delta_j = e->wall_checked ? e->rapl_delta : NAN;
	out->walls_below_rapl = e->walls_below;
}

static void _step_result(const fp_engine_t *e, const struct step_rec *r,
			 fp_engine_step_t *out)
{
	out->id = r->id;
	out->job = r->job;
	out->energy_j = r->energy;
	out->dynamic_j = r->dynamic;
	out->static_j = r->stat;
	out->residual_j = r->residual;
	out->cpu_j = r->cpu;
	out->dram_j = r->dram;
	out->gpu_j = r->gpu;
	out->gpu_dev_j = r->gdev;
	out->ngpus = e->ngpu;
	for (int k = 0; k < FP_SOURCE_COUNT; k++)
		out->source_j[k] = r->source[k];
	out->seconds = r->seconds;
	out->present = r->seen == e->npush;
	out->power_w = out->present ? r->power : 0;
	out->first_t = r->first_t;
	out->last_t = r->last_t;
}

int fp_engine_step(const fp_engine_t *e, const char *id, fp_engine_step_t *out)
{
	uint32_t r = _find_step(e, id, _hash_str(id));

	if (r == EMPTY)
		return -1;
	_step_result(e, &e->steps[r], out);
	return 0;
}

size_t fp_engine_nsteps(const fp_engine_t *e)
{
	return e->nsteps;
}

void fp_engine_step_at(const fp_engine_t *e, size_t i, fp_engine_step_t *out)
{
	_step_result(e, &e->steps[i], out);
}

static void _job_result(const fp_engine_t *e, const struct job_rec *j,
			fp_job_result_t *out)
{
	out->job = j->job;
	out->energy_j = j->energy;
	out->dynamic_j = j->dynamic;
	out->static_j = j->stat;
	out->residual_j = j->residual;
	out->cpu_j = j->cpu;
	out->dram_j = j->dram;
	out->gpu_j = j->gpu;
	out->seconds = j->seconds;
	out->present = j->seen == e->npush;
	out->power_w = out->present ? j->power : 0;
}

int fp_engine_job(const fp_engine_t *e, uint64_t job, fp_job_result_t *out)
{
	uint32_t j = _find_job(e, job);

	if (j == EMPTY)
		return -1;
	_job_result(e, &e->jobs[j], out);
	return 0;
}

size_t fp_engine_njobs(const fp_engine_t *e)
{
	return e->njobs;
}

void fp_engine_job_at(const fp_engine_t *e, size_t i, fp_job_result_t *out)
{
	_job_result(e, &e->jobs[i], out);
}

int fp_engine_forget_step(fp_engine_t *e, const char *id)
{
	uint32_t r = _find_step(e, id, _hash_str(id));

	if (r == EMPTY || e->steps[r].seen == e->npush)
		return 0;
	e->forgotten_j += e->steps[r].energy;
	_drop_step(e, r);
	return 1;
}

size_t fp_engine_forget_absent(fp_engine_t *e, double seconds)
{
	size_t n = 0;

	for (size_t i = e->nsteps; i-- > 0;) {
		struct step_rec *r = &e->steps[i];

		if (r->seen == e->npush || e->t_prev - r->last_t < seconds)
			continue;
		e->forgotten_j += r->energy;
		_drop_step(e, (uint32_t)i);
		n++;
	}
	return n;
}

int fp_engine_check_conservation(const fp_engine_t *e, fp_error_t *err)
{
	long double steps = e->forgotten_j, sum, node = e->node_j, diff;

	fp_error_clear(err);
	for (size_t i = 0; i < e->nsteps; i++)
		steps += e->steps[i].energy;
	sum = steps + e->system_j + e->idle_j + e->gpu_idle_j;
	diff = fabsl(sum - node);
	if (diff <= 1e-9L * fabsl(node) || diff <= 1e-9L)
		return 0;
	return fp_error_set(
		err, FP_ECONSERV,
		"energy not conserved: steps %.6f J + system %.6f J + "
		"idle %.6f J + gpu_idle %.6f J = %.6f J, node %.6f J",
		(double)steps, (double)e->system_j, (double)e->idle_j,
		(double)e->gpu_idle_j, (double)sum, (double)node);
}
