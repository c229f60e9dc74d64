/* The reference attribution (docs/trace-format.md, steps 1-5), one push per
 * interval: the live node plugin's at each poll, `sfootprint replay`'s. */
#include "engine_state.h"

#include <math.h>
#include <string.h>

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
		idle = fp_engine_state_idle_w(e, ds) * ds->span;
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
	if (fp_engine_grow_scratch(e, s->nsteps))
		return fp_error_set(err, FP_ENOMEM,
				    "out of memory for %zu steps", s->nsteps);
	/* the same steps as the last push: its mapping and job structure
	 * hold (a failed push leaves map_seq 0) */
	*same = s->seq && s->steps_same && e->map_seq &&
		e->map_seq + 1 == s->seq;
	e->map_seq = 0;
	if (e->ngpu && fp_engine_gpu_check(e, s, err))
		return -1;
	if (!*same && fp_engine_index_map_steps(e, s, err))
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
	fp_engine_gpu_busy_keep(e, s);
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
	iv->gpu = fp_engine_gpu_shares(e, s, &unheld);
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

		if (!fp_engine_state_estimated(ds) || !ds->exact)
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
	fp_engine_gpu_busy_keep(e, s);
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
	fp_engine_gpu_energy(e, s);
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
