/* What-if over sites and start hours: the methodology of
 * lib/carbon/carbon_compute.c (energy spread uniformly over the run, hourly
 * series) applied to a job moved to another site and start time. */
#include "footprint/whatif.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "footprint/carbon.h"

static int _add(fp_whatif_t *w, size_t *cap, const fp_whatif_option_t *o)
{
	if (w->noptions == *cap) {
		size_t n = *cap ? *cap * 2 : 64;
		fp_whatif_option_t *no = realloc(w->options, n * sizeof(*no));

		if (!no)
			return -1;
		w->options = no;
		*cap = n;
	}
	w->options[w->noptions++] = *o;
	return 0;
}

/* 0 covered (o filled), 1 not covered. */
static int _option(const fp_site_conf_t *sc, const fp_whatif_job_t *job,
		   time_t start, fp_whatif_option_t *o)
{
	time_t end = start + (time_t)llround(job->elapsed_s);
	fp_error_t ignore;
	double in, useful, kwh = job->energy_j / FP_J_PER_KWH;

	if (fp_series_mean(sc->intensity.series, start, end, &in, &ignore) ||
	    fp_series_mean(sc->useful_heat.series, start, end, &useful,
			   &ignore))
		return 1;
	o->site = sc->name;
	o->start = start;
	o->intensity = in;
	o->operational_g = kwh * sc->pue * in;
	o->footprint_g = o->operational_g + job->embodied_g;
	o->avoided_g = kwh * sc->pue * sc->heat_recovery * useful *
		       sc->displaced_gco2e_per_kwh;
	o->net_g = o->footprint_g - o->avoided_g;
	return 0;
}

/* -1 out of memory; a start no series covers is counted as skipped. */
static int _try_start(fp_whatif_t *w, size_t *cap, const fp_site_conf_t *sc,
		      const fp_whatif_job_t *job, time_t start)
{
	fp_whatif_option_t o;

	if (_option(sc, job, start, &o)) {
		w->skipped++;
		return 0;
	}
	return _add(w, cap, &o);
}

/* -1 out of memory. */
static int _add_unavailable(fp_whatif_t *w, const fp_site_conf_t *sc,
			    const char *field, const fp_signal_spec_t *spec)
{
	fp_whatif_unavailable_t *nu =
		realloc(w->unavailable, (w->nunavailable + 1) * sizeof(*nu));

	if (!nu)
		return -1;
	w->unavailable = nu;
	nu[w->nunavailable++] = (fp_whatif_unavailable_t){
		.site = sc->name,
		.field = field,
		.series = spec->text,
		.fault = spec->error,
	};
	return 0;
}

static int _by_footprint(const void *a, const void *b)
{
	const fp_whatif_option_t *x = a, *y = b;
	if (x->footprint_g != y->footprint_g)
		return x->footprint_g < y->footprint_g ? -1 : 1;
	if (x->net_g != y->net_g)
		return x->net_g < y->net_g ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return strcmp(x->site, y->site);
}

static bool _same_figure(double a, double b)
{
	return fabs(a - b) <= 1e-9 * fmax(1.0, fmax(fabs(a), fabs(b)));
}

static int _by_start(const void *a, const void *b)
{
	const fp_whatif_option_t *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return strcmp(x->site, y->site);
}

/* Options are sorted by footprint: equal ones are adjacent. -1 out of
 * memory. */
static int _group(fp_whatif_t *w)
{
	w->groups = calloc(w->noptions, sizeof(*w->groups));
	if (!w->groups)
		return -1;
	for (size_t i = 0; i < w->noptions;) {
		const fp_whatif_option_t *o = w->options;
		fp_whatif_group_t *g = &w->groups[w->ngroups++];
		size_t j = i + 1;

		while (j < w->noptions &&
		       _same_figure(o[j].footprint_g, o[i].footprint_g) &&
		       _same_figure(o[j].net_g, o[i].net_g))
			j++;
		qsort(&w->options[i], j - i, sizeof(*o), _by_start);
		*g = (fp_whatif_group_t){ .first = i,
					  .count = j - i,
					  .first_start = o[i].start,
					  .last_start = o[j - 1].start,
					  .every_hour = true };
		for (size_t k = i; k < j; k++) {
			bool seen = false;

			for (size_t m = i; m < k && !seen; m++)
				seen = !strcmp(o[m].site, o[k].site);
			g->nsites += !seen;
			if (k > i && o[k].start - o[k - 1].start > 3600)
				g->every_hour = false;
		}
		i = j;
	}
	return 0;
}

fp_whatif_t *fp_whatif_compute(const fp_config_t *cfg,
			       const fp_whatif_job_t *job, time_t from,
			       time_t to, fp_error_t *err)
{
	fp_whatif_t *w;
	size_t cap = 0;
	time_t first;

	fp_error_clear(err);
	if (!isfinite(job->energy_j) || job->energy_j < 0 ||
	    !isfinite(job->elapsed_s) || job->elapsed_s < 0 ||
	    !isfinite(job->embodied_g)) {
		fp_error_set(err, FP_EINVAL,
			     "what-if: the job needs its energy, "
			     "duration and embodied emissions");
		return NULL;
	}
	if (to < from) {
		fp_error_set(err, FP_EINVAL,
			     "what-if: the window ends before it "
			     "starts");
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w) {
		fp_error_set(err, FP_ENOMEM, "out of memory");
		return NULL;
	}
	first = from % 3600 ? from - from % 3600 + 3600 : from;
	for (size_t i = 0; i < cfg->nsites; i++) {
		const fp_site_conf_t *sc = &cfg->sites[i];
		bool actual_tried = false;

		if (!sc->intensity.series || !sc->useful_heat.series) {
			bool in = !sc->intensity.series;
			const fp_signal_spec_t *bad = in ? &sc->intensity
							 : &sc->useful_heat;

			if (!bad->error) {
				fp_error_set(err, FP_EINVAL,
					     "%s: Site '%s': series "
					     "not loaded",
					     cfg->path, sc->name);
				fp_whatif_free(w);
				return NULL;
			}
			/* One broken series leaves out only its site. */
			if (_add_unavailable(w, sc,
					     in ? "Intensity" : "UsefulHeat",
					     bad))
				goto nomem;
			continue;
		}
		for (time_t t = first; t <= to; t += 3600) {
			actual_tried = actual_tried || t == job->start;
			if (_try_start(w, &cap, sc, job, t))
				goto nomem;
		}
		/* The actual start, to compare like with like. */
		if (!actual_tried && _try_start(w, &cap, sc, job, job->start))
			goto nomem;
	}
	if (!w->noptions && w->nunavailable == cfg->nsites && cfg->nsites) {
		char more[48] = "";

		if (w->nunavailable > 1)
			snprintf(more, sizeof(more), " (and %zu more sites)",
				 w->nunavailable - 1);
		fp_error_set(err, FP_EINVAL,
			     "what-if: no site has its series: "
			     "%s%s",
			     w->unavailable[0].fault, more);
		fp_whatif_free(w);
		return NULL;
	}
	if (!w->noptions) {
		fp_error_set(err, FP_EINVAL,
			     "what-if: no site's series covers a "
			     "%.0f s run starting in the window",
			     job->elapsed_s);
		fp_whatif_free(w);
		return NULL;
	}
	qsort(w->options, w->noptions, sizeof(*w->options), _by_footprint);
	if (_group(w))
		goto nomem;
	return w;
nomem:
	fp_error_set(err, FP_ENOMEM, "out of memory");
	fp_whatif_free(w);
	return NULL;
}

void fp_whatif_free(fp_whatif_t *w)
{
	if (!w)
		return;
	free(w->options);
	free(w->groups);
	free(w->unavailable);
	free(w);
}
