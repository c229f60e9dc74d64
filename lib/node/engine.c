/* The reference attribution engine's life and results (docs/trace-format.md):
 * made, read, told to forget steps and freed; engine_push.c attributes. */
#include "engine_state.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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

int fp_engine_grow_scratch(fp_engine_t *e, size_t n)
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
	    fp_engine_index_init(&e->step_idx, 64) ||
	    fp_engine_index_init(&e->job_idx, 32) ||
	    fp_engine_grow_scratch(e, 16))
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

double fp_engine_idle_w(const fp_engine_t *e, size_t domain, bool *estimated)
{
	if (domain >= e->ndom)
		return 0;
	if (estimated)
		*estimated = fp_engine_state_estimated(&e->dom[domain]);
	return fp_engine_state_idle_w(e, &e->dom[domain]);
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
		if (fp_engine_state_estimated(&e->dom[d]))
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
	uint32_t r = fp_engine_index_find_step(e, id);

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
	uint32_t j = fp_engine_index_find_job(e, job);

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
	uint32_t r = fp_engine_index_find_step(e, id);

	if (r == EMPTY || e->steps[r].seen == e->npush)
		return 0;
	e->forgotten_j += e->steps[r].energy;
	fp_engine_index_drop_step(e, r);
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
		fp_engine_index_drop_step(e, (uint32_t)i);
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
