/* Test node with known physics: each domain draws idle_w + k * (busy CPUs),
 * the wall meter a*rapl + b; generates trace samples and each step's truth. */
#ifndef FP_PHYSMODEL_H
#define FP_PHYSMODEL_H

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "footprint/sample.h"

#define PM_MAX_STEPS 64
#define PM_MAX_ALLOC 128

typedef struct pm_step {
	char id[32];
	uint64_t job;
	int alloc[PM_MAX_ALLOC];
	size_t nalloc;
	int first, last; /* present in samples first..last, first >= 1 */
	double load;	 /* mean busy fraction of each allocated CPU */
	/* truth */
	double energy_j, dynamic_j, static_j;
	uint64_t *cum; /* cumulative cpu_ns, per CPU */
} pm_step_t;

typedef struct pm_model {
	/* shape */
	int npkg, cpp; /* packages, CPUs per package */
	bool dram, psys, wall, idle_in_header, cycles;
	bool no_truth; /* skip the truth (benchmarks: big nodes) */
	/* physics */
	double idle_pkg_w, idle_dram_w; /* per domain */
	double k_pkg_w, k_dram_w;	/* per fully busy CPU */
	double wall_a, wall_b_w;
	double background;  /* busy fraction outside steps, every CPU */
	double noise_w;	    /* uniform +- noise on package power */
	double busy_report; /* reported cpu_busy = true busy * this */
	/* counters */
	uint64_t pkg_range, dram_range, psys_range, counter_start;
	double t0, dt;
	int nsamples;
	uint64_t seed;
	/* faults */
	int fail_domain, fail_from, fail_to; /* null reads */
	int wall_null_from, wall_null_to;    /* wall_j absent */
	int wall_reset_at;		     /* meter restarts from 0 */
	pm_step_t steps[PM_MAX_STEPS];
	int nsteps;

	/* state */
	fp_node_desc_t *desc;
	int next;
	double *exact_uj;   /* per domain, true cumulative */
	uint64_t *busy_cum; /* reported, per CPU */
	double wall_cum, wall_offset;
	double truth_node_j, truth_rapl_j;
	double *busy_frac; /* scratch */
	double *step_frac; /* scratch: nsteps x cpus */
} pm_model_t;

/* Defaults: 2 packages x 4 CPUs with dram, wall, idle in the header. */
static inline void pm_defaults(pm_model_t *m)
{
	memset(m, 0, sizeof(*m));
	m->npkg = 2;
	m->cpp = 4;
	m->dram = true;
	m->wall = true;
	m->idle_in_header = true;
	m->idle_pkg_w = 20.0;
	m->idle_dram_w = 3.0;
	m->k_pkg_w = 12.0;
	m->k_dram_w = 1.5;
	m->wall_a = 1.1;
	m->wall_b_w = 45.0;
	m->background = 0.02;
	m->busy_report = 1.0;
	m->pkg_range = 262143999938ULL;
	m->dram_range = 65532610987ULL;
	m->psys_range = 262143999938ULL;
	m->counter_start = 1000000;
	m->t0 = 1732350000.25;
	m->dt = 1.0;
	m->nsamples = 601;
	m->seed = 42;
	m->fail_domain = -1;
	m->wall_null_from = m->wall_null_to = -1;
	m->wall_reset_at = -1;
}

static inline pm_step_t *pm_add_step(pm_model_t *m, const char *id,
				     uint64_t job, int cpu0, int ncpu,
				     int first, int last, double load)
{
	pm_step_t *s = &m->steps[m->nsteps++];

	memset(s, 0, sizeof(*s));
	snprintf(s->id, sizeof(s->id), "%s", id);
	s->job = job;
	for (int k = 0; k < ncpu; k++)
		s->alloc[s->nalloc++] = cpu0 + k;
	s->first = first;
	s->last = last;
	s->load = load;
	return s;
}

static inline double pm_rand(pm_model_t *m)
{
	m->seed ^= m->seed >> 12;
	m->seed ^= m->seed << 25;
	m->seed ^= m->seed >> 27;
	return (double)((m->seed * 2685821657736338717ULL) >> 11) /
	       9007199254740992.0;
}

static inline int pm_cpus(const pm_model_t *m)
{
	return m->npkg * m->cpp;
}

/* Builds the header; call before pm_sample(). */
static inline const fp_node_desc_t *pm_init(pm_model_t *m)
{
	fp_node_desc_t *d = fp_sample_node_desc_new();
	int cpus = pm_cpus(m), nd = m->npkg * (m->dram ? 2 : 1) + !!m->psys;
	size_t k = 0;

	d->node = strdup("pm-node");
	d->cpus = (size_t)cpus;
	d->activity_cycles = m->cycles;
	d->npackages = (size_t)m->npkg;
	d->packages = calloc((size_t)m->npkg, sizeof(*d->packages));
	for (int p = 0; p < m->npkg; p++) {
		d->packages[p].id = p;
		d->packages[p].ncpus = (size_t)m->cpp;
		d->packages[p].cpus = calloc((size_t)m->cpp, sizeof(int));
		for (int c = 0; c < m->cpp; c++)
			d->packages[p].cpus[c] = p * m->cpp + c;
	}
	d->ndomains = (size_t)nd;
	d->domains = calloc((size_t)nd, sizeof(*d->domains));
	for (int p = 0; p < m->npkg; p++) {
		char name[32];

		snprintf(name, sizeof(name), "package-%d", p);
		d->domains[k] =
			(fp_domain_t){ strdup(name), FP_DOMAIN_PACKAGE, p,
				       m->pkg_range,
				       m->idle_in_header ? m->idle_pkg_w : -1 };
		k++;
		if (!m->dram)
			continue;
		snprintf(name, sizeof(name), "dram-%d", p);
		d->domains[k] = (fp_domain_t){
			strdup(name), FP_DOMAIN_DRAM, p, m->dram_range,
			m->idle_in_header ? m->idle_dram_w : -1
		};
		k++;
	}
	if (m->psys)
		d->domains[k] = (fp_domain_t){ strdup("psys"), FP_DOMAIN_PSYS,
					       -1, m->psys_range, -1 };
	m->desc = d;
	m->exact_uj = calloc((size_t)nd, sizeof(double));
	for (int i = 0; i < nd; i++)
		m->exact_uj[i] = (double)m->counter_start;
	m->busy_cum = calloc((size_t)cpus, sizeof(uint64_t));
	m->busy_frac = calloc((size_t)cpus, sizeof(double));
	m->step_frac =
		calloc((size_t)(m->nsteps + 1) * (size_t)cpus, sizeof(double));
	for (int s = 0; s < m->nsteps; s++)
		m->steps[s].cum = calloc((size_t)cpus, sizeof(uint64_t));
	m->wall_cum = 5000.0;
	m->next = 0;
	return d;
}

static inline void pm_free(pm_model_t *m)
{
	fp_sample_node_desc_free(m->desc);
	free(m->exact_uj);
	free(m->busy_cum);
	free(m->busy_frac);
	free(m->step_frac);
	for (int s = 0; s < m->nsteps; s++)
		free(m->steps[s].cum);
}

static inline bool pm_alive(const pm_step_t *s, int i)
{
	return s->first <= i && i <= s->last;
}

/* Static truth of spec step 3, for one interval ending at sample i. */
static inline void pm_static_truth(pm_model_t *m, int i, double *st)
{
	int cpus = pm_cpus(m);
	double cpu_idle = (m->idle_pkg_w + (m->dram ? m->idle_dram_w : 0)) *
			  m->dt / m->cpp;

	for (int c = 0; c < cpus; c++) {
		int njobs = 0;
		uint64_t jobs[PM_MAX_STEPS];

		for (int s = 0; s < m->nsteps; s++) {
			pm_step_t *ps = &m->steps[s];
			bool has = false, seen = false;

			if (!pm_alive(ps, i))
				continue;
			for (size_t k = 0; k < ps->nalloc; k++)
				has |= ps->alloc[k] == c;
			if (!has)
				continue;
			for (int j = 0; j < njobs; j++)
				seen |= jobs[j] == ps->job;
			if (!seen)
				jobs[njobs++] = ps->job;
		}
		for (int s = 0; s < m->nsteps; s++) {
			pm_step_t *ps = &m->steps[s];
			int same = 0;
			bool has = false;

			if (!pm_alive(ps, i))
				continue;
			for (size_t k = 0; k < ps->nalloc; k++)
				has |= ps->alloc[k] == c;
			if (!has)
				continue;
			for (int o = 0; o < m->nsteps; o++) {
				pm_step_t *q = &m->steps[o];

				if (!pm_alive(q, i) || q->job != ps->job)
					continue;
				for (size_t k = 0; k < q->nalloc; k++)
					if (q->alloc[k] == c) {
						same++;
						break;
					}
			}
			st[s] += cpu_idle / njobs / same;
		}
	}
}

/* Fills sample m->next (0 = baseline) and advances the truth. */
static inline void pm_sample(pm_model_t *m, fp_sample_t *out)
{
	int i = m->next++, cpus = pm_cpus(m), nd = (int)m->desc->ndomains;
	double dt = m->dt, rapl_uj = 0, node_j;
	double dyn[PM_MAX_STEPS] = { 0 }, st[PM_MAX_STEPS] = { 0 };

	out->t = m->t0 + i * dt;
	if (i > 0) {
		/* activity of the interval ending at sample i */
		for (int c = 0; c < cpus; c++)
			m->busy_frac[c] = m->background;
		for (int s = 0; s < m->nsteps; s++) {
			pm_step_t *ps = &m->steps[s];

			for (int c = 0; c < cpus; c++)
				m->step_frac[s * cpus + c] = 0;
			if (!pm_alive(ps, i))
				continue;
			for (size_t k = 0; k < ps->nalloc; k++) {
				int c = ps->alloc[k];
				double u = ps->load * (0.4 + 1.2 * pm_rand(m));
				double room = 1.0 - m->busy_frac[c];

				if (u > room)
					u = room;
				if (u < 0)
					u = 0;
				m->step_frac[s * cpus + c] = u;
				m->busy_frac[c] += u;
			}
		}
		for (int s = 0; s < m->nsteps; s++) {
			pm_step_t *ps = &m->steps[s];

			for (int c = 0; c < cpus; c++) {
				uint64_t a = (uint64_t)llround(
					m->step_frac[s * cpus + c] * dt * 1e9);

				ps->cum[c] += a;
				dyn[s] += (m->k_pkg_w +
					   (m->dram ? m->k_dram_w : 0)) *
					  (double)a / 1e9;
			}
		}
		for (int c = 0; c < cpus; c++)
			m->busy_cum[c] += (uint64_t)llround(
				m->busy_frac[c] * dt * 1e9 * m->busy_report);
		if (!m->no_truth)
			pm_static_truth(m, i, st);

		/* physics: every domain's energy of the interval */
		for (int d = 0, p = 0; d < nd; d++) {
			const fp_domain_t *dm = &m->desc->domains[d];
			double busy = 0, e;

			if (dm->kind == FP_DOMAIN_PSYS)
				continue;
			p = dm->package;
			for (int c = p * m->cpp; c < (p + 1) * m->cpp; c++)
				busy += m->busy_frac[c];
			if (dm->kind == FP_DOMAIN_PACKAGE)
				e = (m->idle_pkg_w + m->k_pkg_w * busy +
				     m->noise_w * (2 * pm_rand(m) - 1)) *
				    dt;
			else
				e = (m->idle_dram_w + m->k_dram_w * busy) * dt;
			/* integer uJ steps, as the counters have */
			e = floor(m->exact_uj[d] + e * 1e6) - m->exact_uj[d];
			m->exact_uj[d] += e;
			rapl_uj += e;
		}
		node_j = m->wall_a * rapl_uj / 1e6 + m->wall_b_w * dt;
		if (m->psys) {
			double e = floor(m->exact_uj[nd - 1] + node_j * 1e6) -
				   m->exact_uj[nd - 1];

			m->exact_uj[nd - 1] += e;
		}
		m->wall_cum += node_j;
		m->truth_rapl_j += rapl_uj / 1e6;
		m->truth_node_j += node_j;
		for (int s = 0; s < m->nsteps; s++) {
			pm_step_t *ps = &m->steps[s];
			double got = dyn[s] + st[s];

			if (!pm_alive(ps, i))
				continue;
			ps->dynamic_j += dyn[s];
			ps->static_j += st[s];
			ps->energy_j += got * node_j / (rapl_uj / 1e6);
		}
	}

	for (int d = 0; d < nd; d++) {
		const fp_domain_t *dm = &m->desc->domains[d];

		out->energy_uj[d] = (uint64_t)m->exact_uj[d] %
				    (dm->max_energy_range_uj + 1);
		out->energy_valid[d] = !(d == m->fail_domain &&
					 i >= m->fail_from && i <= m->fail_to);
		if (!out->energy_valid[d])
			out->energy_uj[d] = 0;
	}
	if (i == m->wall_reset_at)
		m->wall_offset = m->wall_cum - 1.5;
	out->wall_j = m->wall_cum - m->wall_offset;
	out->wall_valid = m->wall &&
			  !(i >= m->wall_null_from && i <= m->wall_null_to);
	memcpy(out->cpu_busy_ns, m->busy_cum, (size_t)cpus * sizeof(uint64_t));
	fp_sample_clear_steps(out);
	for (int s = 0; s < m->nsteps; s++) {
		pm_step_t *ps = &m->steps[s];
		fp_step_sample_t *o;

		if (!pm_alive(ps, i))
			continue;
		o = fp_sample_add_step(out, m->desc, ps->id, ps->job, ps->alloc,
				       ps->nalloc);
		memcpy(o->cpu_ns, ps->cum, (size_t)cpus * sizeof(uint64_t));
	}
}

/* Truth of a job: the sum of its steps. */
static inline double pm_job_truth(const pm_model_t *m, uint64_t job)
{
	double e = 0;

	for (int s = 0; s < m->nsteps; s++)
		if (m->steps[s].job == job)
			e += m->steps[s].energy_j;
	return e;
}

#endif
