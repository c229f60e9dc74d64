/* The GPUs' part of the attribution (trace v1, "Extension: accelerators"):
 * each GPU's energy of the interval, given to the steps holding it. */
#include "engine_state.h"

#include <string.h>

/* A step's GPUs must be the node's, each once: a GPU listed twice would be
 * counted twice in its holders. Checked before anything changes. */
int fp_engine_gpu_check(const fp_engine_t *e, const fp_sample_t *s,
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
void fp_engine_gpu_energy(fp_engine_t *e, const fp_sample_t *s)
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
double fp_engine_gpu_shares(fp_engine_t *e, const fp_sample_t *s,
			    double *unheld)
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
void fp_engine_gpu_busy_keep(fp_engine_t *e, const fp_sample_t *s)
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
