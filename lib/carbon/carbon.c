/* Computes a job's footprint: operational (energy x PUE x hourly grid
 * intensity), embodied (time share of the nodes), heat reuse, reference. */
#include "footprint/carbon.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* Arrays grown one element at a time keep a capacity of the next power of
 * two (implicit: no field for it), so adding n elements copies O(n), not
 * O(n^2) as realloc(n + 1) does once other allocations sit behind. */
static int grow(void **a, size_t n, size_t size)
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

/* Strings sorted, each once, found by bsearch: a job of 100k steps
 * looked its step ids and nodes up by scanning all of them, and compute
 * took the square of the steps. (glibc's hsearch_r hashes only the first
 * characters of a long name: node-0001..node-9999 would all collide.)
 * The strings are not copied: they must outlive the set. */
struct name_set {
	const char **v;
	size_t n;
};

static int by_string(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* v holds n strings (the set takes it); *dup: one given twice, or NULL. */
static void name_set_sort(struct name_set *ns, const char **v, size_t n,
			  const char **dup)
{
	size_t k = 0;

	*dup = NULL;
	qsort(v, n, sizeof(*v), by_string);
	for (size_t i = 0; i < n; i++) {
		if (k && !strcmp(v[k - 1], v[i])) {
			*dup = *dup ? *dup : v[i];
			continue;
		}
		v[k++] = v[i];
	}
	ns->v = v;
	ns->n = k;
}

/* The place of s in the set, or SIZE_MAX. */
static size_t name_set_find(const struct name_set *ns, const char *s)
{
	const char **p =
		ns->n ? bsearch(&s, ns->v, ns->n, sizeof(*ns->v), by_string)
		      : NULL;

	return p ? (size_t)(p - ns->v) : SIZE_MAX;
}

fp_job_t *fp_carbon_job_new(void)
{
	return calloc(1, sizeof(fp_job_t));
}

static void alloc_free(fp_alloc_t *a, size_t n)
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
		alloc_free(job->steps[i].nodes, job->steps[i].nnodes);
	}
	free(job->steps);
	alloc_free(job->nodes, job->nnodes);
	free(job->user);
	free(job->account);
	free(job->cluster);
	free(job);
}

fp_step_t *fp_carbon_job_add_step(fp_job_t *job, const char *id, time_t start,
				  time_t end, double energy_j)
{
	fp_step_t *s;

	if (grow((void **)&job->steps, job->nsteps, sizeof(*s)))
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

static int alloc_add(fp_alloc_t **a, size_t *n, const char *node, unsigned cpus,
		     double energy_j)
{
	fp_alloc_t *na;

	if (grow((void **)a, *n, sizeof(*na)))
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
	return alloc_add(&step->nodes, &step->nnodes, node, cpus, energy_j);
}

int fp_carbon_job_add_node(fp_job_t *job, const char *node, unsigned cpus)
{
	return alloc_add(&job->nodes, &job->nnodes, node, cpus, NAN);
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

static int json_time(const char *name, const char *where, json_t *v, time_t *t,
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

static int json_energy(const char *name, const char *where, json_t *v,
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

static int json_nodes(const char *name, const char *where, json_t *arr,
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
		if (json_energy(name, field, json_object_get(o, "energy_j"), &e,
				err))
			return -1;
		if (alloc_add(a, n, json_string_value(nm),
			      (unsigned)json_integer_value(cpus), e))
			return fp_error_set(err, FP_ENOMEM, "out of memory");
	}
	return 0;
}

static int json_opt_str(const char *name, json_t *root, const char *key,
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

static int job_from_json(const char *name, json_t *root, fp_job_t *job,
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
	if (json_opt_str(name, root, "user", &job->user, err) ||
	    json_opt_str(name, root, "account", &job->account, err) ||
	    json_opt_str(name, root, "cluster", &job->cluster, err) ||
	    json_time(name, "start", json_object_get(root, "start"),
		      &job->start, err) ||
	    json_time(name, "end", json_object_get(root, "end"), &job->end,
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
	if (v && json_nodes(name, "nodes", v, &job->nodes, &job->nnodes, err))
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
		if (json_time(name, field, json_object_get(s, "start"), &t0,
			      err))
			return -1;
		snprintf(field, sizeof(field), "steps[%zu].end", i);
		if (json_time(name, field, json_object_get(s, "end"), &t1, err))
			return -1;
		snprintf(field, sizeof(field), "steps[%zu].energy_j", i);
		if (json_energy(name, field, json_object_get(s, "energy_j"), &e,
				err))
			return -1;
		st = fp_carbon_job_add_step(job, json_string_value(id), t0, t1,
					    e);
		if (!st)
			return fp_error_set(err, FP_ENOMEM, "out of memory");
		snprintf(field, sizeof(field), "steps[%zu].nodes", i);
		if (json_nodes(name, field, json_object_get(s, "nodes"),
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
	if (job_from_json(name, root, job, err)) {
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
	if (job && job_from_json(path, root, job, err)) {
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

/* A node name the job uses: where its figures go. */
struct seen_node {
	bool seen;
	size_t node;  /* in r->nodes; NOT_COUNTED: its site has no series */
	size_t site;  /* in r->sites */
	size_t alloc; /* in the job allocation job_alloc() builds */
};
#define NOT_COUNTED SIZE_MAX

/* [first, end) of one step in which a site's fallback filled times. */
struct fill_span {
	size_t site; /* in r->sites */
	time_t first, end;
};

struct calc {
	const fp_config_t *cfg;
	const fp_job_t *job;
	fp_hostlist_match_fn match;
	void *ctx;
	fp_result_t *r;
	const fp_site_conf_t **site_conf; /* parallel to r->sites */
	fp_error_t *err;
	struct name_set names;	     /* every node name of the job */
	struct seen_node *seen;	     /* parallel to names */
	const fp_site_conf_t **said; /* sites said not counted */
	size_t nsaid;
	struct fill_span *fills; /* where fallbacks filled times */
	size_t nfills;
};

static int note_incomplete(struct calc *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int note_incomplete(struct calc *c, const char *fmt, ...)
{
	char buf[512];
	char **ni;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ni = realloc(c->r->incomplete, (c->r->nincomplete + 1) * sizeof(*ni));
	if (!ni)
		return fp_error_set(c->err, FP_ENOMEM, "out of memory");
	c->r->incomplete = ni;
	ni[c->r->nincomplete] = strdup(buf);
	if (!ni[c->r->nincomplete])
		return fp_error_set(c->err, FP_ENOMEM, "out of memory");
	c->r->nincomplete++;
	c->r->complete = false;
	return 0;
}

static fp_site_result_t *site_result(struct calc *c, const fp_site_conf_t *sc)
{
	fp_result_t *r = c->r;
	fp_site_result_t *s, *ns;
	const fp_series_t *is = sc->intensity.series;
	const fp_series_t *us = sc->useful_heat.series;
	const fp_site_conf_t **nc;

	for (size_t i = 0; i < r->nsites; i++)
		if (c->site_conf[i] == sc)
			return &r->sites[i];
	ns = realloc(r->sites, (r->nsites + 1) * sizeof(*ns));
	if (!ns)
		return NULL;
	r->sites = ns;
	nc = realloc(c->site_conf, (r->nsites + 1) * sizeof(*nc));
	if (!nc)
		return NULL;
	c->site_conf = nc;
	nc[r->nsites] = sc;
	s = &ns[r->nsites++];
	memset(s, 0, sizeof(*s));
	s->pue = sc->pue;
	s->heat_recovery = sc->heat_recovery;
	s->displaced_gco2e_per_kwh = sc->displaced_gco2e_per_kwh;
	s->intensity_kind = fp_series_kind(is);
	if (s->intensity_kind == FP_INTENSITY_UNSET)
		s->intensity_kind = sc->intensity.kind ? sc->intensity.kind
						       : FP_INTENSITY_LCA;
	s->intensity_span =
		fp_series_span(is, &s->intensity_first, &s->intensity_end);
	s->site = xstrdup(sc->name);
	s->intensity_series = xstrdup(fp_series_name(is));
	s->useful_heat_series = xstrdup(fp_series_name(us));
	s->displaced = xstrdup(sc->displaced);
	s->displaced_source = xstrdup(sc->displaced_source);
	if (!s->site || !s->intensity_series || !s->useful_heat_series ||
	    !s->displaced || !s->displaced_source)
		return NULL;
	return s;
}

/* A site whose series did not load: its nodes are not counted, said once
 * naming the series and the fault; the other sites are computed. */
static int site_not_counted(struct calc *c, const fp_site_conf_t *sc,
			    const fp_signal_spec_t *bad)
{
	for (size_t i = 0; i < c->nsaid; i++)
		if (c->said[i] == sc)
			return 0;
	if (grow((void **)&c->said, c->nsaid, sizeof(*c->said)))
		return fp_error_set(c->err, FP_ENOMEM, "out of memory");
	c->said[c->nsaid++] = sc;
	return note_incomplete(c,
			       "site %s: not counted (its energy, "
			       "emissions and embodied share), its series "
			       "did not load: %s",
			       sc->name, bad->error);
}

/* The node's entry, created with its site and node type on first use:
 * 0 (*np, *site set), 1 when its site is not counted, -1 on error. */
static int node_result(struct calc *c, const char *node, fp_carbon_node_t **np,
		       fp_site_result_t **site)
{
	fp_result_t *r = c->r;
	fp_carbon_node_t *n;
	const fp_site_conf_t *sc;
	const fp_node_type_t *nt;
	size_t k = name_set_find(&c->names, node);
	struct seen_node *seen;

	if (k == SIZE_MAX) /* every name of the job is in the set */
		return fp_error_set(c->err, FP_EINVAL,
				    "node %s: not in the job", node);
	seen = &c->seen[k];
	if (seen->seen) {
		if (seen->node == NOT_COUNTED)
			return 1;
		*np = &r->nodes[seen->node];
		*site = &r->sites[seen->site];
		return 0;
	}
	seen->seen = true;
	seen->node = seen->site = NOT_COUNTED;
	sc = fp_config_site_for(c->cfg, node, c->match, c->ctx);
	if (!sc)
		return fp_error_set(c->err, FP_EINVAL,
				    "%s: node '%s' is in no "
				    "Site's Nodes=",
				    c->cfg->path, node);
	if (!sc->intensity.series || !sc->useful_heat.series) {
		const fp_signal_spec_t *bad = !sc->intensity.series
						      ? &sc->intensity
						      : &sc->useful_heat;

		if (!bad->error)
			return fp_error_set(c->err, FP_EINVAL,
					    "%s:%u: Site '%s': "
					    "series not loaded (call "
					    "fp_config_load_series)",
					    c->cfg->path, sc->line, sc->name);
		return site_not_counted(c, sc, bad) ? -1 : 1;
	}
	*site = site_result(c, sc);
	if (!*site)
		goto nomem;
	if (grow((void **)&r->nodes, r->nnodes, sizeof(*r->nodes)))
		goto nomem;
	seen->site = (size_t)(*site - r->sites);
	seen->node = r->nnodes;
	n = &r->nodes[r->nnodes++];
	memset(n, 0, sizeof(*n));
	*np = n;
	n->node = strdup(node);
	n->site = strdup(sc->name);
	if (!n->node || !n->site)
		goto nomem;
	nt = fp_config_node_type_for(c->cfg, node, c->match, c->ctx);
	if (nt) {
		n->node_type = strdup(nt->name);
		n->embodied_source = strdup(nt->source);
		if (!n->node_type || !n->embodied_source)
			goto nomem;
		n->node_cpus = nt->cpus;
		n->embodied_kg = nt->embodied_kg;
		n->lifetime_years = nt->lifetime_years;
	}
	return 0;
nomem:
	return fp_error_set(c->err, FP_ENOMEM, "out of memory");
}

/* Longer than any job runs: energy is spread hour by hour, and a time
 * off by orders of magnitude (a corrupt record, a typo in a job
 * description) must be refused, not walked through. */
#define MAX_SPAN_S ((time_t)10 * 366 * 86400)

static int check_step(struct calc *c, const fp_step_t *s)
{
	const fp_job_t *job = c->job;

	if (s->end < s->start)
		return fp_error_set(c->err, FP_EINVAL,
				    "job %llu: step %s "
				    "ends before it starts",
				    (unsigned long long)job->job_id, s->id);
	if (s->end - s->start > MAX_SPAN_S)
		return fp_error_set(c->err, FP_EINVAL,
				    "job %llu: step %s "
				    "lasts %lld s, more than ten years: "
				    "its start or end is wrong",
				    (unsigned long long)job->job_id, s->id,
				    (long long)(s->end - s->start));
	if (!s->nnodes)
		return fp_error_set(c->err, FP_EINVAL,
				    "job %llu: step %s "
				    "has no node",
				    (unsigned long long)job->job_id, s->id);
	if (isfinite(s->energy_j) && s->energy_j > FP_MAX_ENERGY_J)
		return fp_error_set(c->err, FP_EINVAL,
				    "job %llu: step %s: "
				    "energy %g J is above %g J, more than "
				    "any step uses",
				    (unsigned long long)job->job_id, s->id,
				    s->energy_j, FP_MAX_ENERGY_J);
	for (size_t j = 0; j < s->nnodes; j++) {
		const fp_alloc_t *a = &s->nodes[j];

		if (isfinite(a->energy_j) && a->energy_j > FP_MAX_ENERGY_J)
			return fp_error_set(c->err, FP_EINVAL,
					    "job %llu: "
					    "step %s: node %s: energy %g "
					    "J is above %g J, more than "
					    "any step uses",
					    (unsigned long long)job->job_id,
					    s->id, a->node, a->energy_j,
					    FP_MAX_ENERGY_J);
		if (!a->cpus)
			return fp_error_set(c->err, FP_EINVAL,
					    "job %llu: "
					    "step %s: node %s has 0 CPUs",
					    (unsigned long long)job->job_id,
					    s->id, a->node);
	}
	return 0;
}

static int check_steps(struct calc *c)
{
	const fp_job_t *job = c->job;
	struct name_set ids;
	const char **v, *dup;

	for (size_t i = 0; i < job->nsteps; i++)
		if (check_step(c, &job->steps[i]))
			return -1;
	v = malloc((job->nsteps ? job->nsteps : 1) * sizeof(*v));
	if (!v)
		return fp_error_set(c->err, FP_ENOMEM, "out of memory");
	for (size_t i = 0; i < job->nsteps; i++)
		v[i] = job->steps[i].id;
	name_set_sort(&ids, v, job->nsteps, &dup);
	if (dup)
		fp_error_set(c->err, FP_EINVAL,
			     "job %llu: step %s listed twice: "
			     "each step is counted once",
			     (unsigned long long)job->job_id, dup);
	free(v);
	return dup ? -1 : 0;
}

/* Every node name of the job, for node_result() and job_alloc(). */
static int node_names(struct calc *c)
{
	const fp_job_t *job = c->job;
	size_t n = job->nnodes, k = 0;
	const char **v, *dup;

	for (size_t i = 0; i < job->nsteps; i++)
		n += job->steps[i].nnodes;
	v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		return fp_error_set(c->err, FP_ENOMEM, "out of memory");
	for (size_t i = 0; i < job->nnodes; i++)
		v[k++] = job->nodes[i].node;
	for (size_t i = 0; i < job->nsteps; i++)
		for (size_t j = 0; j < job->steps[i].nnodes; j++)
			v[k++] = job->steps[i].nodes[j].node;
	name_set_sort(&c->names, v, n, &dup);
	c->seen = calloc(c->names.n ? c->names.n : 1, sizeof(*c->seen));
	if (!c->seen)
		return fp_error_set(c->err, FP_ENOMEM, "out of memory");
	return 0;
}

/* What series s has no value for in [t0, t1) ([t0, t0 + 1) when t0 == t1,
 * as fp_series_mean_fallback): fill->first, fill->end (equal: nothing) and
 * *missing, the seconds of them. A constant fallback always has a value,
 * so only the series' own coverage is read. */
static int series_missing(const fp_series_t *s, time_t t0, time_t t1,
			  fp_fill_t *fill, time_t *missing, fp_error_t *err)
{
	static const fp_fallback_t probe = { .kind = FP_FALLBACK_CONSTANT };
	double mean;

	if (fp_series_mean_fallback(s, &probe, t0, t1, &mean, fill, err))
		return -1;
	*missing = (time_t)llround(fill->fraction *
				   (double)(t1 > t0 ? t1 - t0 : 1));
	return 0;
}

/* The site's intensity over the step; once the job's wait is over, the
 * site's fallback fills what its series has not published, and the site
 * result says when and for how much of the energy e. */
static int intensity_mean(struct calc *c, const fp_site_conf_t *sc,
			  fp_site_result_t *site, const fp_step_t *s, double e,
			  double *in)
{
	struct fill_span *f;
	fp_fill_t fill;

	if (!c->job->intensity_fallback ||
	    sc->fallback.kind == FP_FALLBACK_NONE)
		return fp_series_mean(sc->intensity.series, s->start, s->end,
				      in, c->err);
	if (fp_series_mean_fallback(sc->intensity.series, &sc->fallback,
				    s->start, s->end, in, &fill, c->err))
		return -1;
	if (fill.first == fill.end)
		return 0;
	if (!site->fallback_used || fill.first < site->fallback_first)
		site->fallback_first = fill.first;
	if (!site->fallback_used || fill.end > site->fallback_end)
		site->fallback_end = fill.end;
	if (!site->fallback_used)
		fp_series_fallback_format(&sc->fallback, site->fallback,
					  sizeof(site->fallback));
	site->fallback_used = true;
	site->fallback_energy_j += e * fill.fraction;
	/* The step's other nodes on the site fill the same times. */
	f = c->nfills ? &c->fills[c->nfills - 1] : NULL;
	if (f && f->site == (size_t)(site - c->r->sites) &&
	    f->first == fill.first && f->end == fill.end)
		return 0;
	if (grow((void **)&c->fills, c->nfills, sizeof(*c->fills)))
		return fp_error_set(c->err, FP_ENOMEM, "out of memory");
	c->fills[c->nfills++] =
		(struct fill_span){ .site = (size_t)(site - c->r->sites),
				    .first = fill.first,
				    .end = fill.end };
	return 0;
}

static int by_site_and_time(const void *a, const void *b)
{
	const struct fill_span *x = a, *y = b;

	if (x->site != y->site)
		return x->site < y->site ? -1 : 1;
	if (x->first != y->first)
		return x->first < y->first ? -1 : 1;
	return 0;
}

/* Each site's fallback_s: the seconds its series had no value for in the
 * union of the steps' filled spans. Not the span first..end (a gap and the
 * end are apart), nor a sum over steps and nodes (the batch step, the
 * extern step and an srun's nodes all fill the same hours). */
static int fallback_time(struct calc *c)
{
	size_t i = 0;

	if (!c->nfills)
		return 0;
	qsort(c->fills, c->nfills, sizeof(*c->fills), by_site_and_time);
	while (i < c->nfills) {
		size_t k = c->fills[i].site;
		const fp_series_t *is = c->site_conf[k]->intensity.series;
		time_t a = c->fills[i].first, b = c->fills[i].end, missing;
		fp_fill_t fill;

		for (i++; i < c->nfills && c->fills[i].site == k &&
			  c->fills[i].first <= b;
		     i++)
			if (c->fills[i].end > b)
				b = c->fills[i].end;
		if (series_missing(is, a, b, &fill, &missing, c->err))
			return -1;
		c->r->sites[k].fallback_s += missing;
	}
	return 0;
}

/* One node's share of one step, spread uniformly over [start, end]: 0
 * counted, 1 not (its site has no series), -1 error. */
static int add_share(struct calc *c, const fp_step_t *s, const char *node,
		     double e)
{
	fp_result_t *r = c->r;
	const fp_config_t *cfg = c->cfg;
	fp_site_result_t *site = NULL;
	fp_carbon_node_t *n = NULL;
	const fp_site_conf_t *sc;
	const fp_series_t *ref;
	double in, useful, in_ref, kwh, op, reused, avoided, ref_op;
	int rc = node_result(c, node, &n, &site);

	if (rc)
		return rc;
	sc = c->site_conf[site - r->sites];
	ref = cfg->reference.same_grid ? sc->intensity.series
				       : cfg->reference.intensity.series;
	if (!ref && cfg->reference.intensity.error)
		return fp_error_set(c->err, FP_EINVAL, "%s",
				    cfg->reference.intensity.error);
	if (!ref)
		return fp_error_set(c->err, FP_EINVAL,
				    "%s: reference intensity "
				    "not loaded",
				    cfg->path);
	if (intensity_mean(c, sc, site, s, e, &in) ||
	    fp_series_mean(sc->useful_heat.series, s->start, s->end, &useful,
			   c->err))
		return -1;
	/* The site's grid as reference: the same figure, fallback included. */
	if (ref == sc->intensity.series)
		in_ref = in;
	else if (fp_series_mean(ref, s->start, s->end, &in_ref, c->err))
		return -1;
	kwh = e / FP_J_PER_KWH;
	op = kwh * sc->pue * in;
	reused = e * sc->pue * sc->heat_recovery * useful;
	avoided = reused / FP_J_PER_KWH * sc->displaced_gco2e_per_kwh;
	ref_op = kwh * cfg->reference.pue * in_ref;

	n->energy_j += e;
	n->operational_g += op;
	n->avoided_g += avoided;
	site->energy_j += e;
	site->facility_energy_j += e * sc->pue;
	site->operational_g += op;
	site->reused_energy_j += reused;
	site->avoided_g += avoided;
	site->reference_operational_g += ref_op;
	r->energy_it_j += e;
	r->energy_facility_j += e * sc->pue;
	r->reused_energy_j += reused;
	r->operational_g += op;
	r->avoided_g += avoided;
	r->reference_operational_g += ref_op;
	return 0;
}

static bool have(double e)
{
	return isfinite(e) && e >= 0;
}

static int add_step(struct calc *c, const fp_step_t *s)
{
	bool per_node = true;
	double cpus = 0, known = 0, tol;
	fp_carbon_step_t *sr;

	for (size_t i = 0; i < s->nnodes; i++) {
		per_node = per_node && have(s->nodes[i].energy_j);
		if (have(s->nodes[i].energy_j))
			known += s->nodes[i].energy_j;
		cpus += s->nodes[i].cpus;
	}
	if (!per_node && !have(s->energy_j))
		return note_incomplete(c, "step %s: energy missing", s->id);
	tol = (double)s->nnodes + FP_ENERGY_TOLERANCE * s->energy_j;
	if (have(s->energy_j) &&
	    (known > s->energy_j + tol ||
	     (per_node && known < s->energy_j - tol)) &&
	    note_incomplete(c,
			    "step %s: its nodes' energies sum to %.0f J, "
			    "its total is %.0f J (the %s counted)",
			    s->id, known, s->energy_j,
			    per_node ? "nodes' are" : "total is"))
		return -1;
	/* r->steps has room for every step of the job. */
	sr = &c->r->steps[c->r->nstep_results];
	memset(sr, 0, sizeof(*sr));
	for (size_t i = 0; i < s->nnodes; i++) {
		double e;
		int rc;

		if (per_node)
			e = s->nodes[i].energy_j;
		else if (cpus > 0)
			e = s->energy_j * s->nodes[i].cpus / cpus;
		else
			e = s->energy_j / (double)s->nnodes;
		rc = add_share(c, s, s->nodes[i].node, e);
		if (rc < 0)
			return -1;
		if (!rc) {
			sr->energy_j += e;
			sr->nnodes++;
		}
	}
	/* A step only on sites not counted is not counted either. */
	if (!sr->nnodes)
		return 0;
	sr->id = strdup(s->id);
	if (!sr->id)
		return fp_error_set(c->err, FP_ENOMEM, "out of memory");
	sr->split = s->split			 ? s->split
		    : per_node || s->nnodes == 1 ? FP_SPLIT_EXACT
						 : FP_SPLIT_CPUS;
	c->r->nstep_results++;
	c->r->nsteps_counted++;
	return 0;
}

/* Embodied: each node's manufacturing emissions, amortised over its
 * lifetime, for the job's elapsed time and its share of the node's CPUs. */
static int add_embodied(struct calc *c, const char *node, unsigned cpus)
{
	fp_result_t *r = c->r;
	fp_site_result_t *site = NULL;
	fp_carbon_node_t *n = NULL;
	double g;
	int rc = node_result(c, node, &n, &site);

	if (rc)
		return rc < 0 ? -1 : 0;
	n->cpus = cpus;
	r->core_hours += cpus * r->elapsed_s / 3600.0;
	if (!n->node_type)
		return note_incomplete(c,
				       "node %s: no NodeType, embodied "
				       "emissions not counted",
				       node);
	if (cpus > n->node_cpus)
		return fp_error_set(c->err, FP_EINVAL,
				    "job %llu: node %s: %u CPUs "
				    "allocated but NodeType %s has %u",
				    (unsigned long long)r->job_id, node, cpus,
				    n->node_type, n->node_cpus);
	g = n->embodied_kg * 1000.0 / (n->lifetime_years * FP_S_PER_YEAR) *
	    r->elapsed_s * cpus / n->node_cpus;
	n->embodied_g += g;
	site->embodied_g += g;
	r->embodied_g += g;
	return 0;
}

/* Without a job allocation: each node with the most CPUs a step had. */
static int job_alloc(struct calc *c, fp_alloc_t **a, size_t *n)
{
	const fp_job_t *job = c->job;

	if (job->nnodes) {
		*a = job->nodes;
		*n = job->nnodes;
		return 0;
	}
	*a = NULL;
	*n = 0;
	for (size_t i = 0; i < c->names.n; i++)
		c->seen[i].alloc = SIZE_MAX;
	for (size_t i = 0; i < job->nsteps; i++) {
		for (size_t j = 0; j < job->steps[i].nnodes; j++) {
			const fp_alloc_t *sn = &job->steps[i].nodes[j];
			size_t *k = &c->seen[name_set_find(&c->names, sn->node)]
					     .alloc;

			if (*k == SIZE_MAX) {
				*k = *n;
				if (alloc_add(a, n, sn->node, sn->cpus, NAN))
					return fp_error_set(c->err, FP_ENOMEM,
							    "out of memory");
			}
			if (sn->cpus > (*a)[*k].cpus)
				(*a)[*k].cpus = sn->cpus;
		}
	}
	return 0;
}

static double ratio(double a, double b)
{
	return b > 0 ? a / b : NAN;
}

static void totals(fp_result_t *r)
{
	r->footprint_g = r->operational_g + r->embodied_g;
	r->net_g = r->footprint_g - r->avoided_g;
	r->reference_g = r->reference_operational_g + r->embodied_g;
	r->saved_g = r->reference_g - r->footprint_g;
	r->saved_with_heat_g = r->reference_g - r->net_g;
	r->saved_percent = 100.0 * ratio(r->saved_with_heat_g, r->reference_g);
	r->per_core_hour_g = ratio(r->footprint_g, r->core_hours);
	r->intensity =
		ratio(r->operational_g, r->energy_facility_j / FP_J_PER_KWH);
	r->pue = ratio(r->energy_facility_j, r->energy_it_j);
	r->erf = ratio(r->reused_energy_j, r->energy_facility_j);
	r->ere = ratio(r->energy_facility_j - r->reused_energy_j,
		       r->energy_it_j);
	for (size_t i = 0; i < r->nsites; i++)
		r->sites[i].intensity =
			ratio(r->sites[i].operational_g,
			      r->sites[i].facility_energy_j / FP_J_PER_KWH);
}

fp_result_t *fp_carbon_compute(const fp_config_t *cfg, const fp_job_t *job,
			       fp_hostlist_match_fn match, void *match_ctx,
			       fp_error_t *err)
{
	struct calc c = { .cfg = cfg,
			  .job = job,
			  .match = match,
			  .ctx = match_ctx,
			  .err = err };
	fp_result_t *r = calloc(1, sizeof(*r));
	fp_alloc_t *alloc = NULL;
	size_t nalloc = 0;
	int rc = 0;

	fp_error_clear(err);
	if (!r) {
		fp_error_set(err, FP_ENOMEM, "out of memory");
		return NULL;
	}
	c.r = r;
	r->steps = calloc(job->nsteps ? job->nsteps : 1, sizeof(*r->steps));
	if (!r->steps) {
		free(r);
		fp_error_set(err, FP_ENOMEM, "out of memory");
		return NULL;
	}
	r->complete = true;
	r->job_id = job->job_id;
	r->start = job->start;
	r->end = job->end;
	r->elapsed_s = (double)(job->end - job->start);
	r->energy_source = job->energy_source;
	r->nsteps = job->nsteps;
	r->reference_pue = cfg->reference.pue;
	memcpy(r->config_digest, cfg->digest, sizeof(r->config_digest));
	r->user = xstrdup(job->user);
	r->account = xstrdup(job->account);
	r->cluster = xstrdup(job->cluster);
	r->reference_name = xstrdup(cfg->reference.name);
	r->reference_pue_source = xstrdup(cfg->reference.pue_source);
	r->reference_intensity = xstrdup(
		cfg->reference.same_grid
			? "site"
			: fp_series_name(
				  cfg->reference.intensity.series
					  ? cfg->reference.intensity.series
					  : NULL));
	if ((job->user && !r->user) || (job->account && !r->account) ||
	    (job->cluster && !r->cluster) || !r->reference_name ||
	    !r->reference_intensity)
		rc = fp_error_set(err, FP_ENOMEM, "out of memory");
	if (!rc && job->end < job->start)
		rc = fp_error_set(err, FP_EINVAL,
				  "job %llu ends before it starts",
				  (unsigned long long)job->job_id);
	if (!rc && job->end - job->start > MAX_SPAN_S)
		rc = fp_error_set(err, FP_EINVAL,
				  "job %llu lasts %lld s, more than "
				  "ten years: its start or end is wrong",
				  (unsigned long long)job->job_id,
				  (long long)(job->end - job->start));
	if (!rc)
		rc = check_steps(&c);
	if (!rc)
		rc = node_names(&c);
	for (size_t i = 0; !rc && i < job->nnodes; i++)
		if (!job->nodes[i].cpus)
			rc = fp_error_set(err, FP_EINVAL,
					  "job %llu: node %s has 0 "
					  "CPUs",
					  (unsigned long long)job->job_id,
					  job->nodes[i].node);
	/* Nothing to divide by: said, so that a reader does not take a
	 * missing figure for a zero one. */
	if (!rc && !job->nsteps)
		rc = note_incomplete(&c, "no step: no energy counted");
	if (!rc && job->end == job->start)
		rc = note_incomplete(&c,
				     "the job lasted 0 s (under a second "
				     "in Slurm's whole seconds): its energy "
				     "counts, but its embodied share and "
				     "per-core-hour figure are unknown");
	for (size_t i = 0; !rc && i < job->nsteps; i++)
		rc = add_step(&c, &job->steps[i]);
	if (!rc)
		rc = fallback_time(&c);
	if (!rc)
		rc = job_alloc(&c, &alloc, &nalloc);
	for (size_t i = 0; !rc && i < nalloc; i++)
		rc = add_embodied(&c, alloc[i].node, alloc[i].cpus);
	if (alloc != job->nodes)
		alloc_free(alloc, nalloc);
	free(c.site_conf);
	free(c.seen);
	free(c.said);
	free(c.fills);
	free(c.names.v);
	if (rc) {
		fp_carbon_result_free(r);
		return NULL;
	}
	totals(r);
	return r;
}

bool fp_carbon_series_cover(const fp_config_t *cfg, const fp_job_t *job,
			    fp_hostlist_match_fn match, void *match_ctx,
			    time_t *until)
{
	bool covered = true;

	/* Every time of every step, not only the last end: a gap inside the
	 * job never fills (rows are only appended), and a job said covered
	 * gets no fallback, so its summary would stay incomplete for good. */
	for (size_t i = 0; i < job->nsteps; i++) {
		const fp_step_t *st = &job->steps[i];
		const fp_site_conf_t *prev = NULL;

		if (st->end < st->start)
			continue;
		for (size_t j = 0; j < st->nnodes; j++) {
			const fp_site_conf_t *sc = fp_config_site_for(
				cfg, st->nodes[j].node, match, match_ctx);
			fp_error_t ignore;
			fp_fill_t fill;
			time_t missing;

			/* A step's nodes are mostly on one site. */
			if (!sc || sc == prev || !sc->intensity.series ||
			    !fp_series_span(sc->intensity.series, NULL, NULL))
				continue;
			prev = sc;
			if (series_missing(sc->intensity.series, st->start,
					   st->end, &fill, &missing, &ignore) ||
			    fill.first == fill.end)
				continue;
			if (covered || fill.first < *until)
				*until = fill.first;
			covered = false;
		}
	}
	return covered;
}
