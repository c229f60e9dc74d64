/* A job as the footprint counts it, its steps, nodes and their energy: built
 * by a caller or read from a job description (JSON); and a result freed. */
#include "footprint/carbon.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "carbon_calc.h"

/* Arrays grown one element at a time keep a capacity of the next power of
 * two (implicit: no field for it), so adding n elements copies O(n), not
 * O(n^2) as realloc(n + 1) does once other allocations sit behind. */
int fp_carbon_grow(void **a, size_t n, size_t size)
{
	void *na;
	size_t cap;

	if (n & (n - 1))
		return 0; /* n is not a power of two: room left */
	cap = n ? 2 * n : 1;
	if (cap > SIZE_MAX / size)
		return -1;
	na = realloc(*a, cap * size);
	if (!na)
		return -1;
	*a = na;
	return 0;
}

fp_job_t *fp_carbon_job_new(void)
{
	return calloc(1, sizeof(fp_job_t));
}

void fp_carbon_alloc_free(fp_alloc_t *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(a[i].node);
	free(a);
}

void fp_carbon_job_free(fp_job_t *job)
{
	if (!job)
		return;
	for (size_t i = 0; i < job->nsteps; i++) {
		free(job->steps[i].id);
		fp_carbon_alloc_free(job->steps[i].nodes, job->steps[i].nnodes);
	}
	free(job->steps);
	fp_carbon_alloc_free(job->nodes, job->nnodes);
	free(job->user);
	free(job->account);
	free(job->cluster);
	free(job);
}

fp_step_t *fp_carbon_job_add_step(fp_job_t *job, const char *id, time_t start,
				  time_t end, double energy_j)
{
	fp_step_t *s;

	if (fp_carbon_grow((void **)&job->steps, job->nsteps, sizeof(*s)))
		return NULL;
	s = &job->steps[job->nsteps];
	memset(s, 0, sizeof(*s));
	s->id = strdup(id);
	if (!s->id)
		return NULL;
	s->start = start;
	s->end = end;
	s->energy_j = energy_j;
	job->nsteps++;
	return s;
}

int fp_carbon_alloc_add(fp_alloc_t **a, size_t *n, const char *node,
			unsigned cpus, double energy_j)
{
	fp_alloc_t *na;

	if (fp_carbon_grow((void **)a, *n, sizeof(*na)))
		return -1;
	na = *a;
	na[*n].node = strdup(node);
	if (!na[*n].node)
		return -1;
	na[*n].cpus = cpus;
	na[*n].energy_j = energy_j;
	(*n)++;
	return 0;
}

int fp_carbon_step_add_node(fp_step_t *step, const char *node, unsigned cpus,
			    double energy_j)
{
	return fp_carbon_alloc_add(&step->nodes, &step->nnodes, node, cpus,
				   energy_j);
}

int fp_carbon_job_add_node(fp_job_t *job, const char *node, unsigned cpus)
{
	return fp_carbon_alloc_add(&job->nodes, &job->nnodes, node, cpus, NAN);
}

int fp_carbon_step_split_energy(fp_step_t *step)
{
	double known = 0, rest, cpus = 0;
	size_t nknown = 0, nunknown;

	if (!isfinite(step->energy_j) || step->energy_j < 0 || !step->nnodes)
		return -1;
	if (step->nnodes == 1) {
		step->nodes[0].energy_j = step->energy_j;
		step->split = FP_SPLIT_EXACT;
		return 0;
	}
	for (size_t i = 0; i < step->nnodes; i++) {
		const fp_alloc_t *a = &step->nodes[i];

		if (isfinite(a->energy_j) && a->energy_j >= 0) {
			known += a->energy_j;
			nknown++;
		} else {
			cpus += a->cpus;
		}
	}
	nunknown = step->nnodes - nknown;
	step->split = !nknown	  ? FP_SPLIT_CPUS
		      : !nunknown ? FP_SPLIT_EXACT
				  : FP_SPLIT_MINMAX;
	/* Rounded per-node values can exceed the total a little. */
	rest = step->energy_j - known;
	if (rest < 0)
		rest = 0;
	for (size_t i = 0; i < step->nnodes; i++) {
		fp_alloc_t *a = &step->nodes[i];

		if (isfinite(a->energy_j) && a->energy_j >= 0)
			continue;
		a->energy_j = cpus > 0 ? rest * a->cpus / cpus
				       : rest / (double)nunknown;
	}
	return 0;
}

const char *fp_carbon_energy_source_str(fp_energy_source_t src)
{
	switch (src) {
	case FP_ENERGY_MEASURED:
		return "measured";
	case FP_ENERGY_CALIBRATED:
		return "calibrated";
	case FP_ENERGY_SIMULATED:
		return "simulated";
	case FP_ENERGY_UNKNOWN:
		break;
	}
	return "unknown";
}

int fp_carbon_energy_source_parse(const char *s, fp_energy_source_t *src)
{
	static const fp_energy_source_t all[] = {
		FP_ENERGY_UNKNOWN,
		FP_ENERGY_MEASURED,
		FP_ENERGY_CALIBRATED,
		FP_ENERGY_SIMULATED,
	};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (!strcmp(s, fp_carbon_energy_source_str(all[i]))) {
			*src = all[i];
			return 0;
		}
	}
	return -1;
}

/* Job description JSON. */

static int _json_time(const char *name, const char *where, json_t *v, time_t *t,
		      fp_error_t *err)
{
	if (json_is_integer(v)) {
		*t = (time_t)json_integer_value(v);
		return 0;
	}
	if (json_is_string(v) && !fp_iso8601_parse(json_string_value(v), t))
		return 0;
	return fp_error_set(err, FP_EPARSE,
			    "%s: field '%s': expected Unix seconds "
			    "or an ISO 8601 time",
			    name, where);
}

static int _json_energy(const char *name, const char *where, json_t *v,
			double *e, fp_error_t *err)
{
	if (!v || json_is_null(v)) {
		*e = NAN;
		return 0;
	}
	if (!json_is_number(v) || json_number_value(v) < 0)
		return fp_error_set(err, FP_EPARSE,
				    "%s: field '%s': expected a "
				    "number of joules >= 0 or null",
				    name, where);
	*e = json_number_value(v);
	/* Said here, where the file and field are known (compute refuses
	 * it too, for the callers that build a job themselves). */
	if (*e > FP_MAX_ENERGY_J)
		return fp_error_set(err, FP_EPARSE,
				    "%s: field '%s': %g J is above "
				    "%g J, more than any step uses",
				    name, where, *e, FP_MAX_ENERGY_J);
	return 0;
}

static int _json_nodes(const char *name, const char *where, json_t *arr,
		       fp_alloc_t **a, size_t *n, fp_error_t *err)
{
	size_t i;
	json_t *o;
	char field[160];

	if (!json_is_array(arr))
		return fp_error_set(err, FP_EPARSE,
				    "%s: field '%s': expected an "
				    "array of {\"name\", \"cpus\"}",
				    name, where);
	json_array_foreach(arr, i, o)
	{
		json_t *nm = json_object_get(o, "name");
		json_t *cpus = json_object_get(o, "cpus");
		double e;

		snprintf(field, sizeof(field), "%s[%zu]", where, i);
		if (!json_is_string(nm) || !json_is_integer(cpus))
			return fp_error_set(err, FP_EPARSE,
					    "%s: field '%s': needs "
					    "\"name\" (string) and \"cpus\" "
					    "(integer)",
					    name, field);
		/* A node with no CPU has no share to be given. */
		if (json_integer_value(cpus) < 1 ||
		    json_integer_value(cpus) > (1 << 24))
			return fp_error_set(
				err, FP_EPARSE,
				"%s: field '%s.cpus': "
				"must be 1..%d, not %" JSON_INTEGER_FORMAT,
				name, field, 1 << 24, json_integer_value(cpus));
		snprintf(field, sizeof(field), "%s[%zu].energy_j", where, i);
		if (_json_energy(name, field, json_object_get(o, "energy_j"),
				 &e, err))
			return -1;
		if (fp_carbon_alloc_add(a, n, json_string_value(nm),
					(unsigned)json_integer_value(cpus), e))
			return fp_error_set(err, FP_ENOMEM, "out of memory");
	}
	return 0;
}

static int _json_opt_str(const char *name, json_t *root, const char *key,
			 char **dst, fp_error_t *err)
{
	json_t *v = json_object_get(root, key);

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return fp_error_set(err, FP_EPARSE,
				    "%s: field '%s': expected a "
				    "string",
				    name, key);
	*dst = strdup(json_string_value(v));
	return *dst ? 0 : fp_error_set(err, FP_ENOMEM, "out of memory");
}

static int _job_from_json(const char *name, json_t *root, fp_job_t *job,
			  fp_error_t *err)
{
	json_t *v, *steps, *s;
	size_t i;
	char field[64];

	if (!json_is_object(root))
		return fp_error_set(err, FP_EPARSE,
				    "%s: expected a JSON object", name);
	v = json_object_get(root, "job_id");
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return fp_error_set(err, FP_EPARSE,
				    "%s: field 'job_id': expected "
				    "a positive integer",
				    name);
	job->job_id = (uint64_t)json_integer_value(v);
	if (_json_opt_str(name, root, "user", &job->user, err) ||
	    _json_opt_str(name, root, "account", &job->account, err) ||
	    _json_opt_str(name, root, "cluster", &job->cluster, err) ||
	    _json_time(name, "start", json_object_get(root, "start"),
		       &job->start, err) ||
	    _json_time(name, "end", json_object_get(root, "end"), &job->end,
		       err))
		return -1;
	v = json_object_get(root, "energy_source");
	if (v && (!json_is_string(v) ||
		  fp_carbon_energy_source_parse(json_string_value(v),
						&job->energy_source)))
		return fp_error_set(
			err, FP_EPARSE,
			"%s: field 'energy_source': "
			"expected measured, calibrated, simulated or "
			"unknown",
			name);
	v = json_object_get(root, "nodes");
	if (v && _json_nodes(name, "nodes", v, &job->nodes, &job->nnodes, err))
		return -1;
	steps = json_object_get(root, "steps");
	if (!json_is_array(steps))
		return fp_error_set(err, FP_EPARSE,
				    "%s: field 'steps': expected "
				    "an array",
				    name);
	json_array_foreach(steps, i, s)
	{
		json_t *id = json_object_get(s, "id");
		time_t t0, t1;
		double e;
		fp_step_t *st;

		snprintf(field, sizeof(field), "steps[%zu].id", i);
		if (!json_is_string(id))
			return fp_error_set(err, FP_EPARSE,
					    "%s: field '%s': "
					    "expected a string",
					    name, field);
		snprintf(field, sizeof(field), "steps[%zu].start", i);
		if (_json_time(name, field, json_object_get(s, "start"), &t0,
			       err))
			return -1;
		snprintf(field, sizeof(field), "steps[%zu].end", i);
		if (_json_time(name, field, json_object_get(s, "end"), &t1,
			       err))
			return -1;
		snprintf(field, sizeof(field), "steps[%zu].energy_j", i);
		if (_json_energy(name, field, json_object_get(s, "energy_j"),
				 &e, err))
			return -1;
		st = fp_carbon_job_add_step(job, json_string_value(id), t0, t1,
					    e);
		if (!st)
			return fp_error_set(err, FP_ENOMEM, "out of memory");
		snprintf(field, sizeof(field), "steps[%zu].nodes", i);
		if (_json_nodes(name, field, json_object_get(s, "nodes"),
				&st->nodes, &st->nnodes, err))
			return -1;
	}
	return 0;
}

fp_job_t *fp_carbon_job_from_json(const char *name, const char *text,
				  size_t len, fp_error_t *err)
{
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	fp_job_t *job;

	fp_error_clear(err);
	if (!root) {
		fp_error_set(err, FP_EPARSE, "%s:%d: %s", name, jerr.line,
			     jerr.text);
		return NULL;
	}
	job = fp_carbon_job_new();
	if (!job) {
		json_decref(root);
		fp_error_set(err, FP_ENOMEM, "out of memory");
		return NULL;
	}
	if (_job_from_json(name, root, job, err)) {
		fp_carbon_job_free(job);
		job = NULL;
	}
	json_decref(root);
	return job;
}

fp_job_t *fp_carbon_job_load(const char *path, fp_error_t *err)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	fp_job_t *job;

	fp_error_clear(err);
	if (!root) {
		if (jerr.line < 0)
			fp_error_set(err, FP_EIO, "%s: %s", path, jerr.text);
		else
			fp_error_set(err, FP_EPARSE, "%s:%d: %s", path,
				     jerr.line, jerr.text);
		return NULL;
	}
	job = fp_carbon_job_new();
	if (job && _job_from_json(path, root, job, err)) {
		fp_carbon_job_free(job);
		job = NULL;
	} else if (!job) {
		fp_error_set(err, FP_ENOMEM, "out of memory");
	}
	json_decref(root);
	return job;
}

/* Results. */

void fp_carbon_result_free(fp_result_t *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nincomplete; i++)
		free(r->incomplete[i]);
	free(r->incomplete);
	for (size_t i = 0; i < r->nsites; i++) {
		fp_site_result_t *s = &r->sites[i];

		free(s->site);
		free(s->intensity_series);
		free(s->useful_heat_series);
		free(s->displaced);
		free(s->displaced_source);
	}
	free(r->sites);
	for (size_t i = 0; i < r->nnodes; i++) {
		free(r->nodes[i].node);
		free(r->nodes[i].site);
		free(r->nodes[i].node_type);
		free(r->nodes[i].embodied_source);
	}
	free(r->nodes);
	free(r->user);
	free(r->account);
	free(r->cluster);
	free(r->reference_name);
	free(r->reference_pue_source);
	free(r->reference_intensity);
	for (size_t i = 0; i < r->nstep_results; i++)
		free(r->steps[i].id);
	free(r->steps);
	free(r);
}
