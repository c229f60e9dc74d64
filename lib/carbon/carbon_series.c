/* The grid series a footprint reads: a step's mean intensity with the
 * fallback filling what is not published yet, and whether they cover a job. */
#include "footprint/carbon.h"

#include <math.h>
#include <stdlib.h>

#include "carbon_calc.h"

/* What series s has no value for in [t0, t1) ([t0, t0 + 1) when t0 == t1,
 * as fp_series_mean_fallback): fill->first, fill->end (equal: nothing) and
 * *missing, the seconds of them. A constant fallback always has a value,
 * so only the series' own coverage is read. */
static int _series_missing(const fp_series_t *s, time_t t0, time_t t1,
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
int fp_carbon_series_intensity_mean(struct calc *c, const fp_site_conf_t *sc,
				    fp_site_result_t *site, const fp_step_t *s,
				    double e, double *in)
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
	if (fp_carbon_grow((void **)&c->fills, c->nfills, sizeof(*c->fills)))
		return fp_error_set(c->err, FP_ENOMEM, "out of memory");
	c->fills[c->nfills++] =
		(struct fill_span){ .site = (size_t)(site - c->r->sites),
				    .first = fill.first,
				    .end = fill.end };
	return 0;
}

static int _by_site_and_time(const void *a, const void *b)
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
int fp_carbon_series_fallback_time(struct calc *c)
{
	size_t i = 0;

	if (!c->nfills)
		return 0;
	qsort(c->fills, c->nfills, sizeof(*c->fills), _by_site_and_time);
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
		if (_series_missing(is, a, b, &fill, &missing, c->err))
			return -1;
		c->r->sites[k].fallback_s += missing;
	}
	return 0;
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
			if (_series_missing(sc->intensity.series, st->start,
					    st->end, &fill, &missing,
					    &ignore) ||
			    fill.first == fill.end)
				continue;
			if (covered || fill.first < *until)
				*until = fill.first;
			covered = false;
		}
	}
	return covered;
}
