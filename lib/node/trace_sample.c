/* A trace's sample line into the reader's fp_sample_t: its fields, its steps
 * (in a pool reused from line to line) and the checks across them. */
#include "trace_scan.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

static int _pool_grow(fp_trace_reader_t *r, size_t n)
{
	size_t cap = r->poolcap ? r->poolcap : 8;
	size_t cpus = r->desc->cpus ? r->desc->cpus : 1;
	size_t gpus = r->desc->ngpus ? r->desc->ngpus : 1;
	fp_step_sample_t *pool;
	size_t *idcap, *alloccap;
	uint64_t **busy;
	bool **busy_valid;

	if (n <= r->poolcap)
		return 0;
	while (cap < n)
		cap *= 2;
	pool = realloc(r->pool, cap * sizeof(*pool));
	if (pool)
		r->pool = pool;
	idcap = realloc(r->idcap, cap * sizeof(*idcap));
	if (idcap)
		r->idcap = idcap;
	alloccap = realloc(r->alloccap, cap * sizeof(*alloccap));
	if (alloccap)
		r->alloccap = alloccap;
	busy = realloc(r->busy, cap * sizeof(*busy));
	if (busy)
		r->busy = busy;
	busy_valid = realloc(r->busy_valid, cap * sizeof(*busy_valid));
	if (busy_valid)
		r->busy_valid = busy_valid;
	if (!pool || !idcap || !alloccap || !busy || !busy_valid)
		return fp_trace_scan_fault(r, "out of memory");
	for (size_t i = r->poolcap; i < cap; i++) {
		memset(&pool[i], 0, sizeof(pool[i]));
		idcap[i] = alloccap[i] = 0;
		busy[i] = NULL;
		busy_valid[i] = NULL;
	}
	for (size_t i = r->poolcap; i < cap; i++) {
		pool[i].id = malloc(32);
		pool[i].alloc = malloc(8 * sizeof(int));
		pool[i].cpu_ns = malloc(cpus * sizeof(uint64_t));
		pool[i].gpus = malloc(gpus * sizeof(int));
		busy[i] = malloc(gpus * sizeof(uint64_t));
		busy_valid[i] = malloc(gpus * sizeof(bool));
		if (!pool[i].id || !pool[i].alloc || !pool[i].cpu_ns ||
		    !pool[i].gpus || !busy[i] || !busy_valid[i]) {
			r->poolcap = i + 1;
			return fp_trace_scan_fault(r, "out of memory");
		}
		idcap[i] = 32;
		alloccap[i] = 8;
		r->poolcap = i + 1;
	}
	r->sample->steps = r->pool;
	return 0;
}

static int _alloc_push(fp_trace_reader_t *r, size_t i, int cpu)
{
	fp_step_sample_t *st = &r->pool[i];

	if (st->nalloc == r->alloccap[i]) {
		size_t cap = 2 * r->alloccap[i];
		int *a = realloc(st->alloc, cap * sizeof(int));

		if (!a)
			return fp_trace_scan_fault(r, "out of memory");
		st->alloc = a;
		r->alloccap[i] = cap;
	}
	st->alloc[st->nalloc++] = cpu;
	return 0;
}

/* A step's "gpus": GPU indices of the header, each once. */
static int _step_gpus(fp_trace_reader_t *r, size_t i, const char *field)
{
	fp_step_sample_t *st = &r->pool[i];
	size_t n = r->desc->ngpus;
	bool first = true;
	int e;

	st->ngpus = 0;
	while ((e = fp_trace_scan_element(r, &first, "gpus")) > 0) {
		uint64_t g;

		fp_trace_scan_ws(r);
		if (fp_trace_scan_u64(r, &g, "gpus"))
			return fp_trace_scan_fault(r, "%s.%s", field, r->fault);
		if (g >= n)
			return fp_trace_scan_fault(
				r,
				"%s.gpus: gpu %llu out of range "
				"(the header has %zu gpus)",
				field, (unsigned long long)g, n);
		for (size_t k = 0; k < st->ngpus; k++)
			if ((uint64_t)st->gpus[k] == g)
				return fp_trace_scan_fault(
					r,
					"%s.gpus: gpu %llu listed "
					"twice",
					field, (unsigned long long)g);
		st->gpus[st->ngpus++] = (int)g;
	}
	return e;
}

/* A step's "gpu_busy": counters or null; *n how many (checked against gpus
 * once the whole step is read, as either may come first). */
static int _step_busy(fp_trace_reader_t *r, size_t i, const char *field,
		      size_t *n)
{
	size_t cap = r->desc->ngpus;
	bool first = true;
	int e;

	*n = 0;
	while ((e = fp_trace_scan_element(r, &first, "gpu_busy")) > 0) {
		if (*n >= cap)
			return fp_trace_scan_fault(
				r,
				"%s.gpu_busy has more values than "
				"the header has gpus (%zu)",
				field, cap);
		if (fp_trace_scan_null(r)) {
			r->busy_valid[i][*n] = false;
			r->busy[i][*n] = 0;
		} else {
			fp_trace_scan_ws(r);
			if (fp_trace_scan_u64(r, &r->busy[i][*n], "gpu_busy"))
				return fp_trace_scan_fault(r, "%s.%s", field,
							   r->fault);
			r->busy_valid[i][*n] = true;
		}
		(*n)++;
	}
	return e;
}

/* Decimal digits of v, ending at end; returns where they start. */
static char *_u64_digits(char *end, uint64_t v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return end;
}

static int _step(fp_trace_reader_t *r, size_t i)
{
	fp_step_sample_t *st = &r->pool[i];
	bool first = true, have_id = false, have_job = false, have_cpu = false;
	bool have_busy = false, have_moved = false, undeclared = false;
	const char *key;
	size_t klen, cpus = r->desc->cpus, nbusy = 0;
	char field[48];
	int m;

	/* "steps[i]", for the messages; snprintf twice a step was a tenth
	 * of a 128-CPU trace's replay */
	{
		char num[24], *d = _u64_digits(num + sizeof(num), i);
		size_t k = (size_t)(num + sizeof(num) - d);

		memcpy(field, "steps[", 6);
		memcpy(field + 6, d, k);
		memcpy(field + 6 + k, "]", 2);
	}
	st->nalloc = 0;
	st->ngpus = 0;
	st->gpu_busy = NULL;
	st->gpu_busy_valid = NULL;
	while ((m = fp_trace_scan_member(r, &first, &key, &klen, field)) > 0) {
		if (fp_trace_scan_is(key, klen, "id")) {
			const char *s;
			size_t n;

			if (fp_trace_scan_string(r, &s, &n))
				return -1;
			if (n + 1 > r->idcap[i]) {
				char *id = realloc(st->id, n + 1);

				if (!id)
					return fp_trace_scan_fault(
						r, "out of memory");
				st->id = id;
				r->idcap[i] = n + 1;
			}
			memcpy(st->id, s, n);
			st->id[n] = '\0';
			have_id = true;
		} else if (fp_trace_scan_is(key, klen, "job")) {
			fp_trace_scan_ws(r);
			if (fp_trace_scan_u64(r, &st->job, "job"))
				return fp_trace_scan_fault(r, "%s.%s", field,
							   r->fault);
			have_job = true;
		} else if (fp_trace_scan_is(key, klen, "cpu_ns")) {
			char f[64];
			size_t k = strlen(field);

			memcpy(f, field, k);
			memcpy(f + k, ".cpu_ns", 8);
			if (fp_trace_scan_u64_array(r, st->cpu_ns, cpus, f,
						    "cpus"))
				return -1;
			have_cpu = true;
		} else if (fp_trace_scan_is(key, klen, "cpu_ns_moved") &&
			   r->compact) {
			if (fp_trace_compact_step_moves(r, field))
				return -1;
			have_moved = true;
		} else if (fp_trace_scan_is(key, klen, "cpu_ns_moved")) {
			/* read as v1 reads it: an unknown field, and then no
			 * cpu_ns, which is said */
			undeclared = true;
			if (fp_trace_scan_skip(r, 2))
				return -1;
		} else if (fp_trace_scan_is(key, klen, "alloc")) {
			bool efirst = true;
			int e;

			while ((e = fp_trace_scan_element(r, &efirst,
							  "alloc")) > 0) {
				uint64_t c;

				fp_trace_scan_ws(r);
				if (fp_trace_scan_u64(r, &c, "alloc"))
					return fp_trace_scan_fault(
						r, "%s.%s", field, r->fault);
				if (c >= cpus)
					return fp_trace_scan_fault(
						r,
						"%s.alloc: cpu %llu "
						"out of range (cpus %zu)",
						field, (unsigned long long)c,
						cpus);
				if (_alloc_push(r, i, (int)c))
					return -1;
			}
			if (e < 0)
				return -1;
		} else if (fp_trace_scan_is(key, klen, "gpus")) {
			if (_step_gpus(r, i, field))
				return -1;
		} else if (fp_trace_scan_is(key, klen, "gpu_busy")) {
			if (fp_trace_scan_null(r)) {
				have_busy = false;
				continue;
			}
			if (_step_busy(r, i, field, &nbusy))
				return -1;
			have_busy = true;
		} else if (fp_trace_scan_skip(r, 2)) {
			return -1;
		}
	}
	if (m < 0)
		return -1;
	if (!have_id)
		return fp_trace_scan_fault(r, "%s: missing id", field);
	if (!have_job)
		return fp_trace_scan_fault(r, "%s (%s): missing job", field,
					   st->id);
	if (have_cpu && have_moved)
		return fp_trace_scan_fault(
			r, "%s (%s): both cpu_ns and cpu_ns_moved", field,
			st->id);
	if (!have_cpu && !have_moved)
		return fp_trace_scan_fault(
			r, "%s (%s): missing cpu_ns%s", field, st->id,
			undeclared ? " (it has cpu_ns_moved, the "
				     "compact form, which the header does not "
				     "declare with \"compact\")"
				   : "");
	if (have_moved) {
		r->keyframe = false;
		if (fp_trace_compact_step_base(r, i, field))
			return -1;
	}
	if (have_busy && nbusy != st->ngpus)
		return fp_trace_scan_fault(
			r, "%s (%s): gpu_busy has %zu values, gpus %zu", field,
			st->id, nbusy, st->ngpus);
	if (have_busy) {
		st->gpu_busy = r->busy[i];
		st->gpu_busy_valid = r->busy_valid[i];
	}
	return 0;
}

static int _energy(fp_trace_reader_t *r)
{
	const fp_node_desc_t *desc = r->desc;
	bool first = true;
	const char *key;
	size_t klen;
	int m;

	while ((m = fp_trace_scan_member(r, &first, &key, &klen, "energy_uj")) >
	       0) {
		size_t d;

		for (d = 0; d < desc->ndomains; d++)
			if (fp_trace_scan_is(key, klen, desc->domains[d].name))
				break;
		if (d == desc->ndomains)
			return fp_trace_scan_fault(
				r, "energy_uj: unknown domain \"%.*s\"",
				(int)(klen > 64 ? 64 : klen), key);
		if (fp_trace_scan_null(r)) {
			r->sample->energy_valid[d] = false;
			continue;
		}
		fp_trace_scan_ws(r);
		if (fp_trace_scan_u64(r, &r->sample->energy_uj[d], "energy_uj"))
			return -1;
		/* the counter wraps after its max: above it is no reading */
		if (r->sample->energy_uj[d] >
		    desc->domains[d].max_energy_range_uj)
			return fp_trace_scan_fault(
				r,
				"energy_uj: %s is %" PRIu64 ", above "
				"its max_energy_range_uj %" PRIu64,
				desc->domains[d].name, r->sample->energy_uj[d],
				desc->domains[d].max_energy_range_uj);
		r->sample->energy_valid[d] = true;
	}
	return m;
}

/* "gpu_energy_uj": one counter or null per GPU of the header. */
static int _gpu_energy(fp_trace_reader_t *r)
{
	const fp_node_desc_t *desc = r->desc;
	fp_sample_t *s = r->sample;
	size_t k = 0;
	bool first = true;
	int e;

	while ((e = fp_trace_scan_element(r, &first, "gpu_energy_uj")) > 0) {
		bool null = fp_trace_scan_null(r);
		uint64_t v = 0;

		if (!null) {
			fp_trace_scan_ws(r);
			if (fp_trace_scan_u64(r, &v, "gpu_energy_uj"))
				return -1;
		}
		if (k < desc->ngpus) {
			const fp_node_gpu_t *g = &desc->gpus[k];

			if (!null && g->max_energy_uj && v > g->max_energy_uj)
				return fp_trace_scan_fault(
					r,
					"gpu_energy_uj: gpu %zu is "
					"%" PRIu64 ", above its "
					"max_energy_uj %" PRIu64,
					k, v, g->max_energy_uj);
			s->gpu_energy_uj[k] = v;
			s->gpu_valid[k] = !null;
		}
		k++;
	}
	if (e < 0)
		return -1;
	if (k != desc->ngpus) {
		if (desc->ngpus)
			memset(s->gpu_valid, 0, desc->ngpus * sizeof(bool));
		return fp_trace_scan_fault(
			r,
			"gpu_energy_uj has %zu values, expected %zu "
			"(gpus)",
			k, desc->ngpus);
	}
	return 0;
}

static int _parse_sample_body(fp_trace_reader_t *r);

int fp_trace_sample_parse(fp_trace_reader_t *r)
{
	int rc;

	r->keyframe = true;
	if (!r->compact)
		return _parse_sample_body(r);
	rc = fp_trace_compact_rotate(r);
	if (!rc)
		rc = _parse_sample_body(r);
	fp_trace_compact_settle(r);
	if (rc)
		return rc;
	if (r->keyframe) {
		r->since_key = 0;
	} else if (++r->since_key >= r->compact) {
		return fp_trace_scan_fault(
			r,
			"no keyframe (a sample without cpu_ns_moved) "
			"in the last %u samples, which the header's "
			"\"compact\": %u promises",
			r->compact, r->compact);
	}
	return 0;
}

static int _parse_sample_body(fp_trace_reader_t *r)
{
	fp_sample_t *s = r->sample;
	bool first = true, have_t = false, have_busy = false;
	const char *key;
	size_t klen;
	int m;

	memset(s->energy_valid, 0, r->desc->ndomains * sizeof(bool));
	if (r->desc->ngpus)
		memset(s->gpu_valid, 0, r->desc->ngpus * sizeof(bool));
	s->wall_valid = false;
	s->wall_j = 0;
	s->nsteps = 0;
	while ((m = fp_trace_scan_member(r, &first, &key, &klen,
					 "the sample")) > 0) {
		if (fp_trace_scan_is(key, klen, "t")) {
			if (fp_trace_scan_double(r, &s->t, "t"))
				return -1;
			if (!(s->t >= 0 && s->t < FP_TRACE_T_MAX))
				return fp_trace_scan_fault(
					r,
					"t %g is not a Unix time "
					"from 0 to %.0f (the year "
					"10000)",
					s->t, FP_TRACE_T_MAX);
			have_t = true;
		} else if (fp_trace_scan_is(key, klen, "energy_uj")) {
			if (fp_trace_scan_null(r))
				continue;
			if (_energy(r))
				return -1;
		} else if (fp_trace_scan_is(key, klen, "gpu_energy_uj")) {
			if (fp_trace_scan_null(r))
				continue;
			if (_gpu_energy(r))
				return -1;
		} else if (fp_trace_scan_is(key, klen, "wall_j")) {
			if (fp_trace_scan_null(r)) {
				s->wall_valid = false;
				continue;
			}
			if (fp_trace_scan_double(r, &s->wall_j, "wall_j"))
				return -1;
			/* sums of such values overflow to inf, then nan */
			if (!(s->wall_j >= 0 &&
			      s->wall_j <= FP_TRACE_WALL_J_MAX))
				return fp_trace_scan_fault(
					r,
					"wall_j %g J is not a "
					"meter's energy from 0 to %g J",
					s->wall_j, FP_TRACE_WALL_J_MAX);
			s->wall_valid = true;
		} else if (fp_trace_scan_is(key, klen, "cpu_busy_ns")) {
			if (fp_trace_scan_u64_array(r, s->cpu_busy_ns,
						    r->desc->cpus,
						    "cpu_busy_ns", "cpus"))
				return -1;
			have_busy = true;
		} else if (fp_trace_scan_is(key, klen, "steps")) {
			size_t n = 0;
			bool efirst = true;
			int e;

			while ((e = fp_trace_scan_element(r, &efirst,
							  "steps")) > 0) {
				s->nsteps = 0; /* pool entries not yet valid */
				if (_pool_grow(r, n + 1) || _step(r, n))
					return -1;
				n++;
			}
			if (e < 0)
				return -1;
			if (!n)
				continue; /* "steps": [] leaves them as read */
			s->steps = r->pool;
			s->nsteps = n;
		} else if (fp_trace_scan_skip(r, 1)) {
			return -1;
		}
	}
	if (m < 0)
		return -1;
	fp_trace_scan_ws(r);
	if (r->p != r->end)
		return fp_trace_scan_fault(r,
					   "bad JSON: text after the sample at "
					   "column %zu",
					   (size_t)(r->p - r->text) + 1);
	if (!have_t)
		return fp_trace_scan_fault(r, "missing t");
	if (!have_busy)
		return fp_trace_scan_fault(r, "missing cpu_busy_ns");
	if (r->have_t && !(s->t > r->t_prev) && r->prev_file)
		return fp_trace_scan_fault(
			r,
			"t %.6f is not after t %.6f, the last of "
			"%.100s (files out of order?)",
			s->t, r->t_prev, r->prev_file);
	if (r->have_t && !(s->t > r->t_prev))
		return fp_trace_scan_fault(
			r,
			"t %.6f is not after the previous sample's "
			"t %.6f",
			s->t, r->t_prev);
	for (size_t i = 0; i < s->nsteps; i++)
		for (size_t k = 0; k < i; k++)
			if (!strcmp(s->steps[i].id, s->steps[k].id))
				return fp_trace_scan_fault(
					r, "step %s listed twice",
					s->steps[i].id);
	r->have_t = true;
	r->t_prev = s->t;
	free(r->prev_file);
	r->prev_file = NULL;
	return 0;
}
