/* Computes a job's footprint: operational (energy x PUE x hourly grid
 * intensity), embodied (time share of the nodes), heat reuse, reference. */
#include "footprint/carbon.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "carbon_calc.h"

static char *_xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

static int _by_string(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* v holds n strings (the set takes it); *dup: one given twice, or NULL. */
static void _name_set_sort(struct name_set *ns, const char **v, size_t n,
			   const char **dup)
{
	size_t k = 0;

	*dup = NULL;
	qsort(v, n, sizeof(*v), _by_string);
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
static size_t _name_set_find(const struct name_set *ns, const char *s)
{
	const char **p =
		ns->n ? bsearch(&s, ns->v, ns->n, sizeof(*ns->v), _by_string)
		      : NULL;

	return p ? (size_t)(p - ns->v) : SIZE_MAX;
}

static int _note_incomplete(struct calc *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int _note_incomplete(struct calc *c, const char *fmt, ...)
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

static fp_site_result_t *_site_result(struct calc *c, const fp_site_conf_t *sc)
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
	s->site = _xstrdup(sc->name);
	s->intensity_series = _xstrdup(fp_series_name(is));
	s->useful_heat_series = _xstrdup(fp_series_name(us));
	s->displaced = _xstrdup(sc->displaced);
	s->displaced_source = _xstrdup(sc->displaced_source);
	if (!s->site || !s->intensity_series || !s->useful_heat_series ||
	    !s->displaced || !s->displaced_source)
		return NULL;
	return s;
}

/* A site whose series did not load: its nodes are not counted, said once
 * naming the series and the fault; the other sites are computed. */
static int _site_not_counted(struct calc *c, const fp_site_conf_t *sc,
			     const fp_signal_spec_t *bad)
{
	for (size_t i = 0; i < c->nsaid; i++)
		if (c->said[i] == sc)
			return 0;
	if (fp_carbon_grow((void **)&c->said, c->nsaid, sizeof(*c->said)))
		return fp_error_set(c->err, FP_ENOMEM, "out of memory");
	c->said[c->nsaid++] = sc;
	return _note_incomplete(c,
				"site %s: not counted (its energy, "
				"emissions and embodied share), its series "
				"did not load: %s",
				sc->name, bad->error);
}

/* The node's entry, created with its site and node type on first use:
 * 0 (*np, *site set), 1 when its site is not counted, -1 on error. */
static int _node_result(struct calc *c, const char *node, fp_carbon_node_t **np,
			fp_site_result_t **site)
{
	fp_result_t *r = c->r;
	fp_carbon_node_t *n;
	const fp_site_conf_t *sc;
	const fp_node_type_t *nt;
	size_t k = _name_set_find(&c->names, node);
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
		return _site_not_counted(c, sc, bad) ? -1 : 1;
	}
	*site = _site_result(c, sc);
	if (!*site)
		goto nomem;
	if (fp_carbon_grow((void **)&r->nodes, r->nnodes, sizeof(*r->nodes)))
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

static int _check_step(struct calc *c, const fp_step_t *s)
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

static int _check_steps(struct calc *c)
{
	const fp_job_t *job = c->job;
	struct name_set ids;
	const char **v, *dup;

	for (size_t i = 0; i < job->nsteps; i++)
		if (_check_step(c, &job->steps[i]))
			return -1;
	v = malloc((job->nsteps ? job->nsteps : 1) * sizeof(*v));
	if (!v)
		return fp_error_set(c->err, FP_ENOMEM, "out of memory");
	for (size_t i = 0; i < job->nsteps; i++)
		v[i] = job->steps[i].id;
	_name_set_sort(&ids, v, job->nsteps, &dup);
	if (dup)
		fp_error_set(c->err, FP_EINVAL,
			     "job %llu: step %s listed twice: "
			     "each step is counted once",
			     (unsigned long long)job->job_id, dup);
	free(v);
	return dup ? -1 : 0;
}

/* Every node name of the job, for _node_result() and _job_alloc(). */
static int _node_names(struct calc *c)
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
	_name_set_sort(&c->names, v, n, &dup);
	c->seen = calloc(c->names.n ? c->names.n : 1, sizeof(*c->seen));
	if (!c->seen)
		return fp_error_set(c->err, FP_ENOMEM, "out of memory");
	return 0;
}

/* One node's share of one step, spread uniformly over [start, end]: 0
 * counted, 1 not (its site has no series), -1 error. */
static int _add_share(struct calc *c, const fp_step_t *s, const char *node,
		      double e)
{
	fp_result_t *r = c->r;
	const fp_config_t *cfg = c->cfg;
	fp_site_result_t *site = NULL;
	fp_carbon_node_t *n = NULL;
	const fp_site_conf_t *sc;
	const fp_series_t *ref;
	double in, useful, in_ref, kwh, op, reused, avoided, ref_op;
	int rc = _node_result(c, node, &n, &site);

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
	if (fp_carbon_series_intensity_mean(c, sc, site, s, e, &in) ||
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

static bool _have(double e)
{
	return isfinite(e) && e >= 0;
}

static int _add_step(struct calc *c, const fp_step_t *s)
{
	bool per_node = true;
	double cpus = 0, known = 0, tol;
	fp_carbon_step_t *sr;

	for (size_t i = 0; i < s->nnodes; i++) {
		per_node = per_node && _have(s->nodes[i].energy_j);
		if (_have(s->nodes[i].energy_j))
			known += s->nodes[i].energy_j;
		cpus += s->nodes[i].cpus;
	}
	if (!per_node && !_have(s->energy_j))
		return _note_incomplete(c, "step %s: energy missing", s->id);
	tol = (double)s->nnodes + FP_ENERGY_TOLERANCE * s->energy_j;
	if (_have(s->energy_j) &&
	    (known > s->energy_j + tol ||
	     (per_node && known < s->energy_j - tol)) &&
	    _note_incomplete(c,
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
		rc = _add_share(c, s, s->nodes[i].node, e);
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
static int _add_embodied(struct calc *c, const char *node, unsigned cpus)
{
	fp_result_t *r = c->r;
	fp_site_result_t *site = NULL;
	fp_carbon_node_t *n = NULL;
	double g;
	int rc = _node_result(c, node, &n, &site);

	if (rc)
		return rc < 0 ? -1 : 0;
	n->cpus = cpus;
	r->core_hours += cpus * r->elapsed_s / 3600.0;
	if (!n->node_type)
		return _note_incomplete(c,
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
static int _job_alloc(struct calc *c, fp_alloc_t **a, size_t *n)
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
			size_t *k =
				&c->seen[_name_set_find(&c->names, sn->node)]
					 .alloc;

			if (*k == SIZE_MAX) {
				*k = *n;
				if (fp_carbon_alloc_add(a, n, sn->node,
							sn->cpus, NAN))
					return fp_error_set(c->err, FP_ENOMEM,
							    "out of memory");
			}
			if (sn->cpus > (*a)[*k].cpus)
				(*a)[*k].cpus = sn->cpus;
		}
	}
	return 0;
}

static double _ratio(double a, double b)
{
	return b > 0 ? a / b : NAN;
}

static void _totals(fp_result_t *r)
{
	r->footprint_g = r->operational_g + r->embodied_g;
	r->net_g = r->footprint_g - r->avoided_g;
	r->reference_g = r->reference_operational_g + r->embodied_g;
	r->saved_g = r->reference_g - r->footprint_g;
	r->saved_with_heat_g = r->reference_g - r->net_g;
	r->saved_percent = 100.0 * _ratio(r->saved_with_heat_g, r->reference_g);
	r->per_core_hour_g = _ratio(r->footprint_g, r->core_hours);
	r->intensity =
		_ratio(r->operational_g, r->energy_facility_j / FP_J_PER_KWH);
	r->pue = _ratio(r->energy_facility_j, r->energy_it_j);
	r->erf = _ratio(r->reused_energy_j, r->energy_facility_j);
	r->ere = _ratio(r->energy_facility_j - r->reused_energy_j,
			r->energy_it_j);
	for (size_t i = 0; i < r->nsites; i++)
		r->sites[i].intensity =
			_ratio(r->sites[i].operational_g,
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
	r->user = _xstrdup(job->user);
	r->account = _xstrdup(job->account);
	r->cluster = _xstrdup(job->cluster);
	r->reference_name = _xstrdup(cfg->reference.name);
	r->reference_pue_source = _xstrdup(cfg->reference.pue_source);
	r->reference_intensity = _xstrdup(
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
		rc = _check_steps(&c);
	if (!rc)
		rc = _node_names(&c);
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
		rc = _note_incomplete(&c, "no step: no energy counted");
	if (!rc && job->end == job->start)
		rc = _note_incomplete(&c,
				      "the job lasted 0 s (under a second "
				      "in Slurm's whole seconds): its energy "
				      "counts, but its embodied share and "
				      "per-core-hour figure are unknown");
	for (size_t i = 0; !rc && i < job->nsteps; i++)
		rc = _add_step(&c, &job->steps[i]);
	if (!rc)
		rc = fp_carbon_series_fallback_time(&c);
	if (!rc)
		rc = _job_alloc(&c, &alloc, &nalloc);
	for (size_t i = 0; !rc && i < nalloc; i++)
		rc = _add_embodied(&c, alloc[i].node, alloc[i].cpus);
	if (alloc != job->nodes)
		fp_carbon_alloc_free(alloc, nalloc);
	free(c.site_conf);
	free(c.seen);
	free(c.said);
	free(c.fills);
	free(c.names.v);
	if (rc) {
		fp_carbon_result_free(r);
		return NULL;
	}
	_totals(r);
	return r;
}
