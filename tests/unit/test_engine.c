/* Specification of the reference attribution (trace v1 steps 1-5): small
 * hand-made intervals for each rule, and a physical model for whole traces. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "footprint/engine.h"
#include "physmodel.h"

#define S_NS 1000000000ULL

static void assert_rel(double got, double want, double tol, const char *what)
{
	double diff = fabs(got - want), scale = fabs(want);

	if (diff > tol * (scale > 1e-9 ? scale : 1e-9))
		fail_msg("%s: got %.12g, want %.12g (relative error %.3g > "
			 "%.3g)",
			 what, got, want, diff / scale, tol);
}

/* --- hand-made nodes --- */

/* One package of `cpus` CPUs with a single package domain. */
static fp_node_desc_t *one_package(size_t cpus, double idle_w, uint64_t range)
{
	fp_node_desc_t *d = fp_sample_node_desc_new();

	d->node = strdup("n1");
	d->cpus = cpus;
	d->npackages = 1;
	d->packages = calloc(1, sizeof(*d->packages));
	d->packages[0].ncpus = cpus;
	d->packages[0].cpus = calloc(cpus, sizeof(int));
	for (size_t c = 0; c < cpus; c++)
		d->packages[0].cpus[c] = (int)c;
	d->ndomains = 1;
	d->domains = calloc(1, sizeof(*d->domains));
	d->domains[0] = (fp_domain_t){ strdup("package-0"), FP_DOMAIN_PACKAGE,
				       0, range, idle_w };
	return d;
}

/* Adds a psys domain to a desc made by one_package(). */
static void add_psys(fp_node_desc_t *d)
{
	d->domains = realloc(d->domains, 2 * sizeof(*d->domains));
	d->domains[1] = (fp_domain_t){ strdup("psys"), FP_DOMAIN_PSYS, -1,
				       1000000000000ULL, -1 };
	d->ndomains = 2;
}

struct fix {
	fp_node_desc_t *desc;
	fp_engine_t *e;
	fp_sample_t *s;
	fp_error_t err;
};

static void fix_init(struct fix *f, fp_node_desc_t *desc,
		     const fp_engine_opts_t *opts)
{
	f->desc = desc;
	f->e = fp_engine_new(desc, opts, &f->err);
	assert_non_null(f->e);
	f->s = fp_sample_new(desc);
}

static void fix_free(struct fix *f)
{
	fp_sample_free(f->s);
	fp_engine_free(f->e);
	fp_sample_node_desc_free(f->desc);
}

/* Sets the sample's time, domain 0 counter (UINT64_MAX = failed read) and
 * drops its steps. */
static void at(struct fix *f, double t, uint64_t uj)
{
	f->s->t = t;
	f->s->energy_valid[0] = uj != UINT64_MAX;
	f->s->energy_uj[0] = uj == UINT64_MAX ? 0 : uj;
	f->s->wall_valid = false;
	fp_sample_clear_steps(f->s);
}

static fp_step_sample_t *step(struct fix *f, const char *id, uint64_t job,
			      const int *alloc, size_t nalloc)
{
	return fp_sample_add_step(f->s, f->desc, id, job, alloc, nalloc);
}

static void push_ok(struct fix *f)
{
	if (fp_engine_push(f->e, f->s, &f->err))
		fail_msg("push: %s", f->err.msg);
}

static double step_j(struct fix *f, const char *id)
{
	fp_engine_step_t r;

	assert_int_equal(fp_engine_step(f->e, id, &r), 0);
	return r.energy_j;
}

static void assert_conserved(fp_engine_t *e)
{
	fp_error_t err;

	if (fp_engine_check_conservation(e, &err))
		fail_msg("%s", err.msg);
}

/* --- physical-model traces --- */

/* Three jobs: overlapping steps of one job, two jobs sharing CPUs, a step
 * spanning both packages, steps starting and ending on sample times. */
static void three_jobs(pm_model_t *m)
{
	pm_add_step(m, "100.batch", 100, 0, 4, 1, 600, 0.3);
	pm_add_step(m, "100.0", 100, 0, 2, 50, 300, 0.6);
	pm_add_step(m, "200.0", 200, 2, 4, 100, 450, 0.5);
	pm_add_step(m, "300.batch", 300, 6, 2, 200, 600, 0.8);
	pm_add_step(m, "300.1", 300, 6, 1, 400, 500, 0.9);
}

static fp_engine_t *run_model(pm_model_t *m, const fp_engine_opts_t *opts)
{
	const fp_node_desc_t *d = pm_init(m);
	fp_error_t err;
	fp_engine_t *e = fp_engine_new(d, opts, &err);
	fp_sample_t *s = fp_sample_new(d);

	assert_non_null(e);
	for (int i = 0; i < m->nsamples; i++) {
		pm_sample(m, s);
		if (fp_engine_push(e, s, &err))
			fail_msg("sample %d: %s", i, err.msg);
	}
	fp_sample_free(s);
	return e;
}

static void assert_jobs_match_truth(fp_engine_t *e, pm_model_t *m, double tol)
{
	for (int i = 0; i < m->nsteps; i++) {
		fp_job_result_t j;
		uint64_t job = m->steps[i].job;
		char what[64];

		assert_int_equal(fp_engine_job(e, job, &j), 0);
		snprintf(what, sizeof(what), "job %llu",
			 (unsigned long long)job);
		assert_rel(j.energy_j, pm_job_truth(m, job), tol, what);
	}
}

static void test_idle_given_recovers_each_step_and_job_to_1e6(void **state)
{
	pm_model_t m;
	fp_engine_t *e;
	fp_engine_node_t n;

	pm_defaults(&m);
	three_jobs(&m);
	e = run_model(&m, NULL);
	for (int i = 0; i < m.nsteps; i++) {
		fp_engine_step_t r;

		assert_int_equal(fp_engine_step(e, m.steps[i].id, &r), 0);
		assert_rel(r.energy_j, m.steps[i].energy_j, 1e-6, r.id);
		assert_rel(r.dynamic_j, m.steps[i].dynamic_j, 1e-6, r.id);
		assert_rel(r.static_j, m.steps[i].static_j, 1e-6, r.id);
		assert_rel(r.seconds, m.steps[i].last - m.steps[i].first + 1,
			   1e-12, r.id);
	}
	assert_jobs_match_truth(e, &m, 1e-6);
	fp_engine_node(e, &n);
	assert_rel(n.energy_j, m.truth_node_j, 1e-9, "node");
	assert_rel(n.rapl_j, m.truth_rapl_j, 1e-9, "rapl");
	assert_false(n.idle_w_estimated);
	assert_rel(n.source_s[FP_SOURCE_WALL], 600, 1e-12, "wall seconds");
	fp_engine_free(e);
	pm_free(&m);
}

static void test_estimated_idle_gets_jobs_within_3_percent(void **state)
{
	pm_model_t m;
	fp_engine_t *e;
	fp_engine_node_t n;
	bool est;

	pm_defaults(&m);
	m.idle_in_header = false;
	m.noise_w = 1.0;
	m.nsamples = 3601;
	pm_add_step(&m, "100.batch", 100, 0, 4, 1, 3000, 0.3);
	pm_add_step(&m, "100.0", 100, 0, 2, 50, 1800, 0.6);
	pm_add_step(&m, "200.0", 200, 2, 4, 600, 2400, 0.5);
	pm_add_step(&m, "300.batch", 300, 6, 2, 1200, 3600, 0.8);
	pm_add_step(&m, "400.0", 400, 4, 2, 2500, 3600, 0.4);
	e = run_model(&m, NULL);
	fp_engine_node(e, &n);
	assert_true(n.idle_w_estimated);
	assert_rel(fp_engine_idle_w(e, 0, &est), m.idle_pkg_w, 0.05,
		   "package-0 idle");
	assert_true(est);
	assert_rel(fp_engine_idle_w(e, 1, NULL), m.idle_dram_w, 0.05,
		   "dram-0 idle");
	assert_jobs_match_truth(e, &m, 0.03);
	assert_conserved(e);
	fp_engine_free(e);
	pm_free(&m);
}

static void test_conservation_holds_to_1e9_through_every_fault(void **state)
{
	pm_model_t m;
	fp_engine_t *e;
	fp_engine_node_t n;
	double steps = 0;

	pm_defaults(&m);
	three_jobs(&m);
	m.idle_in_header = false;
	m.dram_range = 20000000; /* 20 J: wraps every few seconds */
	m.counter_start = m.pkg_range - 5000000;
	m.fail_domain = 0;
	m.fail_from = 120;
	m.fail_to = 125;
	m.wall_null_from = 300;
	m.wall_null_to = 320;
	m.wall_reset_at = 400;
	m.busy_report = 0.7; /* oversubscribed everywhere */
	e = run_model(&m, NULL);
	assert_conserved(e);
	fp_engine_node(e, &n);
	for (size_t i = 0; i < fp_engine_nsteps(e); i++) {
		fp_engine_step_t r;

		fp_engine_step_at(e, i, &r);
		steps += r.energy_j;
	}
	assert_rel(steps + n.system_j + n.idle_j, n.energy_j, 1e-9,
		   "steps + system + idle");
	assert_rel(n.residual_j, n.energy_j - n.rapl_j, 1e-9, "residual");
	fp_engine_free(e);
	pm_free(&m);
}

static void test_counter_wrap_adds_max_range_plus_one(void **state)
{
	struct fix f;
	fp_engine_node_t n;

	fix_init(&f, one_package(1, 0, 999999), NULL);
	at(&f, 0, 900000);
	push_ok(&f);
	at(&f, 1, 100000);
	push_ok(&f);
	fp_engine_node(f.e, &n);
	/* 999999 - 900000 + 1 + 100000 uJ */
	assert_rel(n.rapl_j, 0.2, 1e-12, "wrapped delta");
	fix_free(&f);
}

static void test_wrapping_small_dram_counter_loses_no_energy(void **state)
{
	pm_model_t m;
	fp_engine_t *e;
	fp_engine_node_t n;

	pm_defaults(&m);
	three_jobs(&m);
	m.dram_range = 12000000; /* 12 J at 3-9 W: wraps every 2-4 s */
	m.counter_start = m.pkg_range - 20000000;
	e = run_model(&m, NULL);
	fp_engine_node(e, &n);
	assert_rel(n.rapl_j, m.truth_rapl_j, 1e-9, "rapl");
	assert_jobs_match_truth(e, &m, 1e-6);
	fp_engine_free(e);
	pm_free(&m);
}

static void test_failed_read_gives_gap_energy_at_next_read(void **state)
{
	struct fix f;
	fp_engine_step_t a, b;
	fp_engine_node_t n;
	int cpu0 = 0;

	fix_init(&f, one_package(1, 0, 1ULL << 40), NULL);
	at(&f, 0, 0);
	push_ok(&f);
	at(&f, 1, UINT64_MAX); /* read failed: A ran */
	step(&f, "1.0", 1, &cpu0, 1)->cpu_ns[0] = S_NS;
	f.s->cpu_busy_ns[0] = S_NS;
	push_ok(&f);
	fp_engine_node(f.e, &n);
	assert_rel(n.rapl_j, 0, 0, "nothing from a failed read");
	at(&f, 2, 20000000); /* 20 J over two intervals: B ran */
	step(&f, "2.0", 2, &cpu0, 1)->cpu_ns[0] = S_NS;
	f.s->cpu_busy_ns[0] = 2 * S_NS;
	push_ok(&f);
	fp_engine_node(f.e, &n);
	assert_rel(n.rapl_j, 20, 1e-12, "no energy lost");
	fp_engine_step(f.e, "1.0", &a);
	fp_engine_step(f.e, "2.0", &b);
	assert_rel(a.energy_j, 0, 0, "A: not in the interval of the read");
	assert_rel(b.energy_j, 20, 1e-12, "B: activity of that interval");
	assert_conserved(f.e);
	fix_free(&f);
}

static void test_failed_reads_in_a_long_trace_lose_no_energy(void **state)
{
	pm_model_t m;
	fp_engine_t *e;
	fp_engine_node_t n;

	pm_defaults(&m);
	three_jobs(&m);
	m.wall = false;
	m.fail_domain = 1; /* dram-0 */
	m.fail_from = 200;
	m.fail_to = 260;
	e = run_model(&m, NULL);
	fp_engine_node(e, &n);
	assert_rel(n.rapl_j, m.truth_rapl_j, 1e-9, "rapl");
	assert_conserved(e);
	fp_engine_free(e);
	pm_free(&m);
}

static void test_meter_reset_interval_has_no_wall(void **state)
{
	struct fix f;
	fp_engine_node_t n;

	fix_init(&f, one_package(1, 0, 1ULL << 40), NULL);
	at(&f, 0, 0);
	f.s->wall_valid = true;
	f.s->wall_j = 100;
	push_ok(&f);
	at(&f, 1, 10000000);
	f.s->wall_valid = true;
	f.s->wall_j = 150;
	push_ok(&f);
	at(&f, 2, 20000000);
	f.s->wall_valid = true;
	f.s->wall_j = 3; /* reset, not a wrap */
	push_ok(&f);
	fp_engine_node(f.e, &n);
	assert_int_equal(n.source, FP_SOURCE_RAPL);
	assert_rel(n.source_s[FP_SOURCE_WALL], 1, 0, "wall seconds");
	assert_rel(n.source_s[FP_SOURCE_RAPL], 1, 0, "rapl seconds");
	assert_rel(n.energy_j, 50 + 10, 1e-12, "node");
	at(&f, 3, 30000000);
	f.s->wall_valid = true;
	f.s->wall_j = 43; /* counts again from the reset */
	push_ok(&f);
	fp_engine_node(f.e, &n);
	assert_int_equal(n.source, FP_SOURCE_WALL);
	assert_rel(n.energy_j, 50 + 10 + 40, 1e-12, "node");
	fix_free(&f);
}

static void
test_step_energy_is_kept_by_the_node_source_of_each_interval(void **state)
{
	struct fix f;
	fp_engine_step_t r;
	const int cpu0[] = { 0 };
	double sum = 0;

	/* the node's one CPU is the step's, idle at its 10 W: it gets all
	 * of each interval, 50 J from the wall, then 10 J from RAPL alone
	 * (meter reset), then 40 J from the wall again */
	fix_init(&f, one_package(1, 10, 1ULL << 40), NULL);
	at(&f, 0, 0);
	f.s->wall_valid = true;
	f.s->wall_j = 100;
	step(&f, "1.0", 1, cpu0, 1);
	push_ok(&f);
	at(&f, 1, 10000000);
	f.s->wall_valid = true;
	f.s->wall_j = 150;
	step(&f, "1.0", 1, cpu0, 1);
	push_ok(&f);
	at(&f, 2, 20000000);
	f.s->wall_valid = true;
	f.s->wall_j = 3;
	step(&f, "1.0", 1, cpu0, 1);
	push_ok(&f);
	at(&f, 3, 30000000);
	f.s->wall_valid = true;
	f.s->wall_j = 43;
	step(&f, "1.0", 1, cpu0, 1);
	push_ok(&f);
	assert_int_equal(fp_engine_step(f.e, "1.0", &r), 0);
	assert_rel(r.source_j[FP_SOURCE_WALL], 90, 1e-12, "from the wall");
	assert_rel(r.source_j[FP_SOURCE_RAPL], 10, 1e-12, "from RAPL");
	assert_rel(r.source_j[FP_SOURCE_PSYS], 0, 0, "psys");
	assert_rel(r.source_j[FP_SOURCE_CALIBRATED], 0, 0, "calibrated");
	for (int k = 0; k < FP_SOURCE_COUNT; k++)
		sum += r.source_j[k];
	assert_rel(sum, r.energy_j, 1e-12, "the sources sum to the step's");
	fix_free(&f);
}

static void test_wall_below_rapl_is_implausible(void **state)
{
	assert_true(fp_engine_wall_plausible(1200, 1000));
	assert_true(fp_engine_wall_plausible(980, 1000)); /* within 5 % */
	assert_false(fp_engine_wall_plausible(900, 1000));
	assert_false(fp_engine_wall_plausible(NAN, 1000));
	assert_false(fp_engine_wall_plausible(-1, 0));
}

static void
test_a_wall_below_rapl_is_dropped_for_its_interval_and_the_next(void **state)
{
	struct fix f;
	fp_engine_node_t n;
	/* RAPL counts 10 J a second through a wrap of its 2^24 uJ counter
	 * (the check counts it, where a raw difference would go down);
	 * the meter gives 50 J, then 5 J (a fault), then 50 J twice */
	const uint64_t range = 1ULL << 24;
	const double wall[] = { 100, 150, 155, 205, 255 };
	fp_engine_opts_t o;

	fp_engine_opts_default(&o);
	o.wall_check = true;
	fix_init(&f, one_package(1, 10, range - 1), &o);
	for (int i = 0; i < 5; i++) {
		at(&f, i, (uint64_t)(i * 10000000ULL % range));
		f.s->wall_valid = true;
		f.s->wall_j = wall[i];
		push_ok(&f);
		fp_engine_node(f.e, &n);
		if (i == 2) {
			assert_true(n.wall_checked);
			assert_true(n.wall_below_rapl);
			assert_rel(n.wall_delta_j, 5, 1e-12, "wall delta");
			assert_rel(n.rapl_delta_j, 10, 1e-12, "RAPL delta");
			assert_int_equal(n.source, FP_SOURCE_RAPL);
		}
		if (i == 3) { /* no baseline: as if it had not read */
			assert_false(n.wall_checked);
			assert_int_equal(n.source, FP_SOURCE_RAPL);
		}
	}
	fp_engine_node(f.e, &n);
	assert_false(n.wall_below_rapl);
	assert_int_equal(n.walls_below_rapl, 1);
	assert_rel(n.source_s[FP_SOURCE_WALL], 2, 0, "wall seconds");
	assert_rel(n.source_s[FP_SOURCE_RAPL], 2, 0, "rapl seconds");
	assert_rel(n.energy_j, 50 + 10 + 10 + 50, 1e-9, "node");
	assert_conserved(f.e);
	fix_free(&f);
	/* trace-v1's reference takes the wall as written */
	fix_init(&f, one_package(1, 10, range - 1), NULL);
	for (int i = 0; i < 5; i++) {
		at(&f, i, (uint64_t)(i * 10000000ULL % range));
		f.s->wall_valid = true;
		f.s->wall_j = wall[i];
		push_ok(&f);
	}
	fp_engine_node(f.e, &n);
	assert_false(n.wall_checked);
	assert_int_equal(n.walls_below_rapl, 0);
	assert_rel(n.energy_j, 155, 1e-9, "node");
	fix_free(&f);
}

static void test_oversubscribed_cpu_splits_by_step_time(void **state)
{
	struct fix f;
	fp_engine_node_t n;
	int cpu0 = 0;

	fix_init(&f, one_package(1, 0, 1ULL << 40), NULL);
	at(&f, 0, 0);
	push_ok(&f);
	at(&f, 1, 30000000);
	f.s->cpu_busy_ns[0] = S_NS; /* the CPU says 1 s ... */
	step(&f, "1.0", 1, &cpu0, 1)->cpu_ns[0] = S_NS; /* ... steps 3 s */
	step(&f, "2.0", 2, &cpu0, 1)->cpu_ns[0] = 2 * S_NS;
	push_ok(&f);
	fp_engine_node(f.e, &n);
	assert_rel(step_j(&f, "1.0"), 10, 1e-12, "1.0");
	assert_rel(step_j(&f, "2.0"), 20, 1e-12, "2.0");
	assert_rel(n.system_j, 0, 0, "system");
	fix_free(&f);
}

static void test_psys_gives_node_total_without_wall(void **state)
{
	pm_model_t m;
	fp_engine_t *e;
	fp_engine_node_t n;

	pm_defaults(&m);
	three_jobs(&m);
	m.wall = false;
	m.psys = true;
	e = run_model(&m, NULL);
	fp_engine_node(e, &n);
	assert_rel(n.source_s[FP_SOURCE_PSYS], 600, 1e-12, "psys seconds");
	/* psys counts whole uJ: 1e-6 J of rounding per interval */
	assert_rel(n.energy_j, m.truth_node_j, 1e-8, "node");
	assert_rel(n.rapl_j, m.truth_rapl_j, 1e-9, "psys not added to rapl");
	assert_jobs_match_truth(e, &m, 1e-6);
	fp_engine_free(e);
	pm_free(&m);
}

static void test_failed_psys_read_falls_back_for_its_intervals(void **state)
{
	struct fix f;
	fp_engine_node_t n;

	fp_node_desc_t *d = one_package(1, 0, 1ULL << 40);

	add_psys(d);
	fix_init(&f, d, NULL);
	for (int i = 0; i < 4; i++) {
		at(&f, i, 10000000ULL * i);
		f.s->energy_valid[1] = i != 2;
		f.s->energy_uj[1] = 15000000ULL * i;
		push_ok(&f);
	}
	fp_engine_node(f.e, &n);
	assert_rel(n.source_s[FP_SOURCE_PSYS], 1, 0, "psys seconds");
	assert_rel(n.source_s[FP_SOURCE_RAPL], 2, 0, "rapl seconds");
	assert_rel(n.energy_j, 15 + 10 + 10, 1e-12, "node");
	fix_free(&f);
}

static void test_no_wall_node_is_the_rapl_total(void **state)
{
	pm_model_t m;
	fp_engine_t *e;
	fp_engine_node_t n;

	pm_defaults(&m);
	three_jobs(&m);
	m.wall = false;
	e = run_model(&m, NULL);
	fp_engine_node(e, &n);
	assert_rel(n.source_s[FP_SOURCE_RAPL], 600, 1e-12, "rapl seconds");
	assert_rel(n.energy_j, m.truth_rapl_j, 1e-9, "node");
	assert_rel(n.residual_j, 0, 0, "residual");
	assert_false(n.calibration.active);
	assert_conserved(e);
	fp_engine_free(e);
	pm_free(&m);
}

static void test_calibration_starts_after_30_intervals(void **state)
{
	pm_model_t m;
	fp_engine_t *e;
	fp_engine_node_t n;

	pm_defaults(&m);
	three_jobs(&m);
	m.nsamples = 61;
	m.wall_null_from = 10; /* intervals 10-13: before 30 */
	m.wall_null_to = 12;
	e = run_model(&m, NULL);
	fp_engine_node(e, &n);
	assert_rel(n.source_s[FP_SOURCE_RAPL], 4, 0, "rapl seconds");
	assert_rel(n.source_s[FP_SOURCE_CALIBRATED], 0, 0, "calibrated");
	assert_int_equal(n.calibration.intervals, 56);
	assert_true(n.calibration.active);
	fp_engine_free(e);
	pm_free(&m);
}

static void test_calibration_fills_intervals_without_wall(void **state)
{
	pm_model_t m;
	fp_engine_t *e;
	fp_engine_node_t n;

	pm_defaults(&m);
	three_jobs(&m);
	m.wall_null_from = 40; /* wall for intervals 1-39 only */
	m.wall_null_to = 1000;
	e = run_model(&m, NULL);
	fp_engine_node(e, &n);
	assert_true(n.calibration.active);
	assert_int_equal(n.calibration.intervals, 39);
	assert_rel(n.calibration.a, m.wall_a, 1e-6, "a");
	assert_rel(n.calibration.b_w, m.wall_b_w, 1e-5, "b");
	assert_rel(n.source_s[FP_SOURCE_CALIBRATED], 600 - 39, 1e-12,
		   "calibrated seconds");
	assert_rel(n.energy_j, m.truth_node_j, 1e-6, "node");
	assert_jobs_match_truth(e, &m, 1e-5);
	fp_engine_free(e);
	pm_free(&m);
}

static void test_calibration_disabled_uses_rapl(void **state)
{
	pm_model_t m;
	fp_engine_t *e;
	fp_engine_node_t n;
	fp_engine_opts_t o;

	fp_engine_opts_default(&o);
	o.calibration = false;
	pm_defaults(&m);
	three_jobs(&m);
	m.wall_null_from = 40;
	m.wall_null_to = 1000;
	e = run_model(&m, &o);
	fp_engine_node(e, &n);
	assert_false(n.calibration.active);
	assert_rel(n.source_s[FP_SOURCE_RAPL], 600 - 39, 1e-12, "rapl");
	fp_engine_free(e);
	pm_free(&m);
}

static void test_overlapping_steps_of_one_job_share_idle_once(void **state)
{
	struct fix f;
	fp_job_result_t j;
	fp_engine_node_t n;
	int both[] = { 0, 1 }, first[] = { 0 };

	fix_init(&f, one_package(2, 10, 1ULL << 40), NULL);
	at(&f, 0, 0);
	push_ok(&f);
	at(&f, 1, 10000000); /* 10 J, all idle: 5 J per CPU */
	step(&f, "1.batch", 1, both, 2);
	step(&f, "1.0", 1, first, 1);
	push_ok(&f);
	assert_rel(step_j(&f, "1.batch"), 2.5 + 5, 1e-12, "1.batch");
	assert_rel(step_j(&f, "1.0"), 2.5, 1e-12, "1.0");
	assert_int_equal(fp_engine_job(f.e, 1, &j), 0);
	assert_rel(j.energy_j, 10, 1e-12, "job counts each CPU once");
	fp_engine_node(f.e, &n);
	assert_rel(n.idle_j, 0, 0, "idle");
	fix_free(&f);
}

static void test_two_jobs_on_one_cpu_share_idle_equally(void **state)
{
	struct fix f;
	fp_engine_node_t n;
	int cpu0 = 0;

	fix_init(&f, one_package(2, 10, 1ULL << 40), NULL);
	at(&f, 0, 0);
	push_ok(&f);
	at(&f, 1, 10000000);
	step(&f, "1.0", 1, &cpu0, 1);
	step(&f, "2.0", 2, &cpu0, 1);
	push_ok(&f);
	assert_rel(step_j(&f, "1.0"), 2.5, 1e-12, "1.0");
	assert_rel(step_j(&f, "2.0"), 2.5, 1e-12, "2.0");
	fp_engine_node(f.e, &n);
	assert_rel(n.idle_j, 5, 1e-12, "unallocated CPU to idle");
	fix_free(&f);
}

static void test_first_sample_is_the_baseline(void **state)
{
	struct fix f;
	fp_engine_node_t n;
	fp_engine_step_t r;
	int cpu0 = 0;

	fix_init(&f, one_package(1, 0, 1ULL << 40), NULL);
	at(&f, 0, 5000000000ULL);
	step(&f, "1.0", 1, &cpu0, 1)->cpu_ns[0] = 100 * S_NS;
	f.s->cpu_busy_ns[0] = 100 * S_NS;
	push_ok(&f);
	fp_engine_node(f.e, &n);
	assert_rel(n.energy_j, 0, 0, "nothing before the baseline");
	at(&f, 1, 5010000000ULL);
	step(&f, "1.0", 1, &cpu0, 1)->cpu_ns[0] = 100 * S_NS + S_NS / 2;
	/* new: counted from 0 */
	step(&f, "2.0", 2, &cpu0, 1)->cpu_ns[0] = S_NS / 2;
	f.s->cpu_busy_ns[0] = 101 * S_NS;
	push_ok(&f);
	assert_rel(step_j(&f, "1.0"), 5, 1e-12, "1.0: delta from baseline");
	assert_rel(step_j(&f, "2.0"), 5, 1e-12, "2.0: counted from 0");
	fp_engine_step(f.e, "2.0", &r);
	assert_rel(r.first_t, 1, 0, "first_t");
	fix_free(&f);
}

static void test_non_increasing_t_is_rejected_and_changes_nothing(void **state)
{
	struct fix f;
	fp_engine_node_t n;

	fix_init(&f, one_package(1, 0, 1ULL << 40), NULL);
	at(&f, 10, 0);
	push_ok(&f);
	at(&f, 11, 1000000);
	push_ok(&f);
	at(&f, 11, 2000000);
	step(&f, "9.0", 9, NULL, 0);
	assert_int_equal(fp_engine_push(f.e, f.s, &f.err), -1);
	assert_int_equal(f.err.code, FP_EINVAL);
	assert_int_equal(fp_engine_nsteps(f.e), 0);
	at(&f, 12, 3000000);
	push_ok(&f);
	fp_engine_node(f.e, &n);
	assert_rel(n.energy_j, 3, 1e-12, "energy");
	assert_rel(n.seconds, 2, 0, "seconds");
	fix_free(&f);
}

static void test_bad_steps_are_rejected(void **state)
{
	struct fix f;
	int bad = 5, cpu0 = 0;

	fix_init(&f, one_package(2, 0, 1ULL << 40), NULL);
	at(&f, 0, 0);
	push_ok(&f);
	at(&f, 1, 0);
	step(&f, "1.0", 1, &bad, 1);
	assert_int_equal(fp_engine_push(f.e, f.s, &f.err), -1);
	at(&f, 1, 0);
	step(&f, "1.0", 1, &cpu0, 1);
	step(&f, "1.0", 1, &cpu0, 1);
	assert_int_equal(fp_engine_push(f.e, f.s, &f.err), -1);
	assert_non_null(strstr(f.err.msg, "twice"));
	assert_int_equal(fp_engine_nsteps(f.e), 0);
	assert_int_equal(fp_engine_njobs(f.e), 0);
	fix_free(&f);
}

static void test_ended_step_stays_queryable_until_forgotten(void **state)
{
	struct fix f;
	fp_engine_step_t r;
	fp_job_result_t j;
	int cpu0 = 0;

	fix_init(&f, one_package(1, 0, 1ULL << 40), NULL);
	at(&f, 0, 0);
	push_ok(&f);
	for (int i = 1; i <= 2; i++) {
		at(&f, i, 10000000ULL * i);
		step(&f, "1.0", 1, &cpu0, 1)->cpu_ns[0] = S_NS * i;
		f.s->cpu_busy_ns[0] = S_NS * i;
		push_ok(&f);
	}
	assert_int_equal(fp_engine_forget_step(f.e, "1.0"), 0); /* present */
	at(&f, 3, 30000000);
	push_ok(&f);
	assert_int_equal(fp_engine_step(f.e, "1.0", &r), 0);
	assert_false(r.present);
	assert_rel(r.power_w, 0, 0, "absent: no power");
	assert_rel(r.energy_j, 20, 1e-12, "final value");
	assert_rel(r.last_t, 2, 0, "last_t");
	assert_int_equal(fp_engine_forget_absent(f.e, 5), 0);
	assert_int_equal(fp_engine_forget_absent(f.e, 1), 1);
	assert_int_equal(fp_engine_step(f.e, "1.0", &r), -1);
	assert_int_equal(fp_engine_job(f.e, 1, &j), -1);
	assert_conserved(f.e);
	fix_free(&f);
}

static void test_many_steps_come_and_go_without_growth(void **state)
{
	struct fix f;
	int cpus[4] = { 0, 1, 2, 3 };
	char id[32];

	fix_init(&f, one_package(4, 1, 1ULL << 40), NULL);
	for (int i = 0; i < 2000; i++) {
		at(&f, i, 5000000ULL * i);
		for (int k = 0; k < 3; k++) {
			snprintf(id, sizeof(id), "%d.%d", i / 10, k);
			step(&f, id, (uint64_t)(i / 10), &cpus[k], 2)
				->cpu_ns[k] = S_NS / 4 * (uint64_t)(i % 10);
		}
		for (int c = 0; c < 4; c++)
			f.s->cpu_busy_ns[c] = S_NS * (uint64_t)i;
		push_ok(&f);
		fp_engine_forget_absent(f.e, 30);
	}
	assert_true(fp_engine_nsteps(f.e) <= 3 * 5);
	assert_true(fp_engine_njobs(f.e) <= 5);
	assert_conserved(f.e);
	fix_free(&f);
}

static void test_last_interval_power(void **state)
{
	struct fix f;
	fp_engine_node_t n;
	fp_engine_step_t r;
	int cpu0 = 0;

	fix_init(&f, one_package(1, 0, 1ULL << 40), NULL);
	at(&f, 0, 0);
	push_ok(&f);
	at(&f, 2, 100000000); /* 100 J in 2 s */
	step(&f, "1.0", 1, &cpu0, 1)->cpu_ns[0] = S_NS;
	f.s->cpu_busy_ns[0] = 2 * S_NS;
	push_ok(&f);
	fp_engine_node(f.e, &n);
	assert_rel(n.power_w, 50, 1e-12, "node W");
	fp_engine_step(f.e, "1.0", &r);
	assert_rel(r.power_w, 25, 1e-12, "step W");
	assert_rel(n.system_j, 50, 1e-12, "system");
	fix_free(&f);
}

/* docs/model.md, "A worked example": keep the two in step. */
static void test_model_doc_worked_example(void **state)
{
	struct fix f;
	fp_engine_node_t n;
	fp_engine_step_t r;
	int a1[] = { 0, 1 }, a2[] = { 1 };
	fp_step_sample_t *st;

	fix_init(&f, one_package(4, 20, 1ULL << 40), NULL);
	at(&f, 0, 0);
	f.s->wall_valid = true;
	f.s->wall_j = 1000;
	push_ok(&f);
	at(&f, 10, 400000000); /* 400 J in 10 s */
	f.s->wall_valid = true;
	f.s->wall_j = 1500; /* the wall saw 500 J */
	f.s->cpu_busy_ns[0] = 8 * S_NS;
	f.s->cpu_busy_ns[1] = 4 * S_NS;
	f.s->cpu_busy_ns[2] = 2 * S_NS;
	f.s->cpu_busy_ns[3] = 2 * S_NS;
	st = step(&f, "1.0", 1, a1, 2);
	st->cpu_ns[0] = 8 * S_NS;
	st->cpu_ns[1] = 2 * S_NS;
	step(&f, "2.0", 2, a2, 1)->cpu_ns[1] = 2 * S_NS;
	push_ok(&f);

	fp_engine_step(f.e, "1.0", &r);
	assert_rel(r.dynamic_j, 125, 1e-12, "1.0 dynamic");
	assert_rel(r.static_j, 75, 1e-12, "1.0 static");
	assert_rel(r.residual_j, 50, 1e-12, "1.0 residual");
	assert_rel(r.energy_j, 250, 1e-12, "1.0");
	fp_engine_step(f.e, "2.0", &r);
	assert_rel(r.dynamic_j, 25, 1e-12, "2.0 dynamic");
	assert_rel(r.static_j, 25, 1e-12, "2.0 static");
	assert_rel(r.energy_j, 62.5, 1e-12, "2.0");
	fp_engine_node(f.e, &n);
	assert_rel(n.system_j, 62.5, 1e-12, "system");
	assert_rel(n.idle_j, 125, 1e-12, "idle");
	assert_rel(n.energy_j, 500, 1e-12, "node");
	assert_rel(n.residual_j, 100, 1e-12, "residual");
	fix_free(&f);
}

/* --- the RAPL share by domain kind: packages and DRAM apart --- */

/* The worked example's node with a dram domain beside the package: 60 J
 * of DRAM, 2 W idle. The DRAM's idle part (20 J, 5 J per CPU) and its
 * dynamic part (40 J, by CPU time) are shared as the package's are. */
static void test_dram_domain_energy_lands_in_dram_j(void **state)
{
	struct fix f;
	fp_node_desc_t *d = one_package(4, 20, 1ULL << 40);
	fp_engine_step_t r;
	fp_job_result_t j;
	int a1[] = { 0, 1 }, a2[] = { 1 };
	fp_step_sample_t *st;

	d->domains = realloc(d->domains, 2 * sizeof(*d->domains));
	d->domains[1] = (fp_domain_t){ strdup("dram-0"), FP_DOMAIN_DRAM, 0,
				       1ULL << 40, 2 };
	d->ndomains = 2;
	fix_init(&f, d, NULL);
	at(&f, 0, 0);
	f.s->energy_valid[1] = true;
	f.s->energy_uj[1] = 0;
	push_ok(&f);
	at(&f, 10, 400000000);
	f.s->energy_valid[1] = true;
	f.s->energy_uj[1] = 60000000;
	f.s->cpu_busy_ns[0] = 8 * S_NS;
	f.s->cpu_busy_ns[1] = 4 * S_NS;
	f.s->cpu_busy_ns[2] = 2 * S_NS;
	f.s->cpu_busy_ns[3] = 2 * S_NS;
	st = step(&f, "1.0", 1, a1, 2);
	st->cpu_ns[0] = 8 * S_NS;
	st->cpu_ns[1] = 2 * S_NS;
	step(&f, "2.0", 2, a2, 1)->cpu_ns[1] = 2 * S_NS;
	push_ok(&f);

	fp_engine_step(f.e, "1.0", &r);
	/* 40 J x 10/16 + 5 J (CPU 0) + 2.5 J (half of CPU 1) */
	assert_rel(r.dram_j, 32.5, 1e-12, "1.0 dram");
	assert_rel(r.cpu_j, 200, 1e-12, "1.0 packages");
	assert_rel(r.cpu_j + r.dram_j, r.dynamic_j + r.static_j, 1e-15,
		   "1.0 cpu + dram");
	fp_engine_step(f.e, "2.0", &r);
	/* 40 J x 2/16 + 2.5 J */
	assert_rel(r.dram_j, 7.5, 1e-12, "2.0 dram");
	assert_rel(r.cpu_j, 50, 1e-12, "2.0 packages");
	assert_rel(r.cpu_j + r.dram_j, r.dynamic_j + r.static_j, 1e-15,
		   "2.0 cpu + dram");
	assert_int_equal(fp_engine_job(f.e, 1, &j), 0);
	assert_rel(j.dram_j, 32.5, 1e-12, "job 1 dram");
	assert_rel(j.cpu_j, 200, 1e-12, "job 1 packages");
	assert_conserved(f.e);
	fix_free(&f);
}

/* The physical model's steps, with their DRAM's truth: its dynamic power
 * per busy CPU (k_dram_w) and its part of each CPU's idle slice. */
static void test_dram_share_matches_the_model_and_conserves(void **state)
{
	pm_model_t m;
	fp_engine_t *e;
	double kd, id;

	pm_defaults(&m);
	three_jobs(&m);
	e = run_model(&m, NULL);
	kd = m.k_dram_w / (m.k_pkg_w + m.k_dram_w);
	id = m.idle_dram_w / (m.idle_pkg_w + m.idle_dram_w);
	for (int i = 0; i < m.nsteps; i++) {
		fp_engine_step_t r;

		assert_int_equal(fp_engine_step(e, m.steps[i].id, &r), 0);
		assert_true(r.dram_j > 0);
		assert_rel(r.dram_j,
			   kd * m.steps[i].dynamic_j + id * m.steps[i].static_j,
			   1e-6, r.id);
		assert_rel(r.cpu_j + r.dram_j, r.dynamic_j + r.static_j, 1e-12,
			   r.id);
	}
	assert_conserved(e);
	fp_engine_free(e);
	pm_free(&m);
}

/* A node without dram domains: the whole RAPL share is the packages'. */
static void test_no_dram_domain_gives_dram_j_zero(void **state)
{
	struct fix f;
	fp_engine_step_t r;
	int a[] = { 0 };

	fix_init(&f, one_package(2, 5, 1ULL << 40), NULL);
	at(&f, 0, 0);
	push_ok(&f);
	at(&f, 1, 30000000);
	f.s->cpu_busy_ns[0] = S_NS;
	step(&f, "1.0", 1, a, 1)->cpu_ns[0] = S_NS;
	push_ok(&f);
	fp_engine_step(f.e, "1.0", &r);
	assert_true(r.dram_j == 0);
	assert_true(r.cpu_j == r.dynamic_j + r.static_j);
	assert_true(r.cpu_j > 0);
	fix_free(&f);
}

/* --- GPUs (trace v1, "Extension: accelerators") --- */

/* Adds n GPUs to a desc made by one_package(), before fix_init. */
static fp_node_desc_t *with_gpus(fp_node_desc_t *d, size_t n, double idle_w,
				 uint64_t max)
{
	d->gpus = calloc(n, sizeof(*d->gpus));
	d->ngpus = n;
	for (size_t g = 0; g < n; g++) {
		char uuid[32];

		snprintf(uuid, sizeof(uuid), "GPU-%zu", g);
		d->gpus[g] = (fp_node_gpu_t){ strdup(uuid), strdup("nvidia"),
					      max, idle_w, false };
	}
	return d;
}

/* GPU g's counter in J (< 0: a failed read). */
static void gpu_at(struct fix *f, size_t g, double j)
{
	f->s->gpu_valid[g] = j >= 0;
	f->s->gpu_energy_uj[g] = j >= 0 ? (uint64_t)(j * 1e6 + 0.5) : 0;
}

static fp_step_sample_t *gstep(struct fix *f, const char *id, uint64_t job,
			       int gpu, long long busy)
{
	int cpu0 = 0;
	fp_step_sample_t *st = step(f, id, job, &cpu0, 1);
	uint64_t b = busy < 0 ? 0 : (uint64_t)busy;

	assert_int_equal(fp_sample_step_set_gpus(st, &gpu, 1,
						 busy < 0 ? NULL : &b, NULL),
			 0);
	return st;
}

static double step_gpu_j(struct fix *f, const char *id)
{
	fp_engine_step_t r;

	assert_int_equal(fp_engine_step(f->e, id, &r), 0);
	return r.gpu_j;
}

static void test_held_gpu_goes_to_its_holder(void **state)
{
	struct fix f;
	fp_engine_node_t n;

	fix_init(&f, with_gpus(one_package(1, 0, 1ULL << 40), 2, -1, 0), NULL);
	at(&f, 0, 0);
	gpu_at(&f, 0, 0);
	gpu_at(&f, 1, 0);
	gstep(&f, "1.0", 1, 0, -1);
	gstep(&f, "2.0", 2, 1, -1);
	push_ok(&f);
	at(&f, 1, 0);
	gpu_at(&f, 0, 100);
	gpu_at(&f, 1, 40);
	gstep(&f, "1.0", 1, 0, -1);
	gstep(&f, "2.0", 2, 1, -1);
	push_ok(&f);
	assert_rel(step_gpu_j(&f, "1.0"), 100, 1e-12, "GPU 0 to 1.0");
	assert_rel(step_gpu_j(&f, "2.0"), 40, 1e-12, "GPU 1 to 2.0");
	assert_rel(step_j(&f, "1.0"), 100, 1e-12, "in its energy");
	fp_engine_node(f.e, &n);
	assert_rel(n.gpu_j, 140, 1e-12, "node gpu");
	assert_rel(n.energy_j, 140, 1e-12, "node total includes GPUs");
	assert_rel(n.gpu_idle_j, 0, 0, "nothing unheld");
	assert_conserved(f.e);
	fix_free(&f);
}

static void test_gpu_nobody_holds_goes_to_gpu_idle(void **state)
{
	struct fix f;
	fp_engine_node_t n;

	fix_init(&f, with_gpus(one_package(1, 0, 1ULL << 40), 1, -1, 0), NULL);
	at(&f, 0, 0);
	gpu_at(&f, 0, 0);
	push_ok(&f);
	at(&f, 1, 0);
	gpu_at(&f, 0, 30);
	step(&f, "1.0", 1, (int[]){ 0 }, 1); /* holds no GPU */
	push_ok(&f);
	fp_engine_node(f.e, &n);
	assert_rel(n.gpu_idle_j, 30, 1e-12, "gpu_idle");
	assert_rel(n.idle_j, 0, 0, "idle excludes gpu_idle");
	assert_rel(step_gpu_j(&f, "1.0"), 0, 0, "non-holder");
	assert_conserved(f.e);
	fix_free(&f);
}

static void
test_gpu_shared_by_jobs_splits_dynamic_by_busy_idle_equally(void **state)
{
	struct fix f;

	/* idle 10 W over 1 s: S = 10 J, D = 90 J, busy 3:1 */
	fix_init(&f, with_gpus(one_package(1, 0, 1ULL << 40), 1, 10, 0), NULL);
	at(&f, 0, 0);
	gpu_at(&f, 0, 0);
	gstep(&f, "1.0", 1, 0, 0);
	gstep(&f, "2.0", 2, 0, 0);
	push_ok(&f);
	at(&f, 1, 0);
	gpu_at(&f, 0, 100);
	gstep(&f, "1.0", 1, 0, 3000);
	gstep(&f, "2.0", 2, 0, 1000);
	push_ok(&f);
	assert_rel(step_gpu_j(&f, "1.0"), 67.5 + 5, 1e-12, "job 1");
	assert_rel(step_gpu_j(&f, "2.0"), 22.5 + 5, 1e-12, "job 2");
	assert_conserved(f.e);
	fix_free(&f);
}

static void test_gpu_shared_without_busy_splits_by_job_then_step(void **state)
{
	struct fix f;

	fix_init(&f, with_gpus(one_package(1, 0, 1ULL << 40), 1, 10, 0), NULL);
	at(&f, 0, 0);
	gpu_at(&f, 0, 0);
	push_ok(&f);
	at(&f, 1, 0);
	gpu_at(&f, 0, 120);
	gstep(&f, "1.batch", 1, 0, -1); /* batch and srun list the GPU */
	gstep(&f, "1.0", 1, 0, -1);
	gstep(&f, "2.0", 2, 0, -1);
	push_ok(&f);
	assert_rel(step_gpu_j(&f, "1.batch"), 30, 1e-12, "1.batch");
	assert_rel(step_gpu_j(&f, "1.0"), 30, 1e-12, "1.0");
	assert_rel(step_gpu_j(&f, "2.0"), 60, 1e-12, "job 2, counted once");
	assert_conserved(f.e);
	fix_free(&f);
}

static void test_busy_missing_for_one_holder_splits_equally(void **state)
{
	struct fix f;

	fix_init(&f, with_gpus(one_package(1, 0, 1ULL << 40), 1, -1, 0), NULL);
	at(&f, 0, 0);
	gpu_at(&f, 0, 0);
	gstep(&f, "1.0", 1, 0, 0);
	gstep(&f, "2.0", 2, 0, -1);
	push_ok(&f);
	at(&f, 1, 0);
	gpu_at(&f, 0, 80);
	gstep(&f, "1.0", 1, 0, 5000);
	gstep(&f, "2.0", 2, 0, -1);
	push_ok(&f);
	assert_rel(step_gpu_j(&f, "1.0"), 40, 1e-12, "1.0");
	assert_rel(step_gpu_j(&f, "2.0"), 40, 1e-12, "2.0");
	fix_free(&f);
}

static void test_gpu_of_one_job_goes_all_to_its_steps_by_busy(void **state)
{
	struct fix f;

	/* one job: idle part too goes by busy (S is not split apart) */
	fix_init(&f, with_gpus(one_package(1, 0, 1ULL << 40), 1, 20, 0), NULL);
	at(&f, 0, 0);
	gpu_at(&f, 0, 0);
	gstep(&f, "1.batch", 1, 0, 0);
	gstep(&f, "1.0", 1, 0, 0);
	push_ok(&f);
	at(&f, 1, 0);
	gpu_at(&f, 0, 100);
	gstep(&f, "1.batch", 1, 0, 100);
	gstep(&f, "1.0", 1, 0, 300);
	push_ok(&f);
	assert_rel(step_gpu_j(&f, "1.batch"), 25, 1e-12, "1.batch");
	assert_rel(step_gpu_j(&f, "1.0"), 75, 1e-12, "1.0");
	fix_free(&f);
}

static void test_new_step_busy_starts_from_zero(void **state)
{
	struct fix f;

	fix_init(&f, with_gpus(one_package(1, 0, 1ULL << 40), 1, -1, 0), NULL);
	at(&f, 0, 0);
	gpu_at(&f, 0, 0);
	gstep(&f, "1.0", 1, 0, 1000);
	push_ok(&f);
	at(&f, 1, 0);
	gpu_at(&f, 0, 100);
	gstep(&f, "1.0", 1, 0, 2000); /* +1000 */
	gstep(&f, "2.0", 2, 0, 3000); /* new: +3000 */
	push_ok(&f);
	assert_rel(step_gpu_j(&f, "1.0"), 25, 1e-12, "1.0");
	assert_rel(step_gpu_j(&f, "2.0"), 75, 1e-12, "2.0");
	fix_free(&f);
}

static void test_gpu_counter_wrap_adds_max_energy_plus_one(void **state)
{
	struct fix f;
	fp_engine_node_t n;

	fix_init(&f, with_gpus(one_package(1, 0, 1ULL << 40), 1, -1, 999999),
		 NULL);
	at(&f, 0, 0);
	f.s->gpu_valid[0] = true;
	f.s->gpu_energy_uj[0] = 900000;
	push_ok(&f);
	at(&f, 1, 0);
	f.s->gpu_energy_uj[0] = 100000;
	push_ok(&f);
	fp_engine_node(f.e, &n);
	assert_rel(n.gpu_j, 0.2, 1e-12, "wrapped delta");
	fix_free(&f);
}

static void test_gpu_counter_down_without_max_is_a_reset(void **state)
{
	struct fix f;
	fp_engine_node_t n;

	fix_init(&f, with_gpus(one_package(1, 0, 1ULL << 40), 1, -1, 0), NULL);
	at(&f, 0, 0);
	gpu_at(&f, 0, 500);
	push_ok(&f);
	at(&f, 1, 0);
	gpu_at(&f, 0, 10); /* driver reload */
	push_ok(&f);
	fp_engine_node(f.e, &n);
	assert_rel(n.gpu_j, 0, 0, "no value for the interval");
	at(&f, 2, 0);
	gpu_at(&f, 0, 35); /* from the new base */
	push_ok(&f);
	fp_engine_node(f.e, &n);
	assert_rel(n.gpu_j, 25, 1e-12, "counted from the new base");
	assert_conserved(f.e);
	fix_free(&f);
}

static void test_failed_gpu_read_carries_gap_to_next_holders(void **state)
{
	struct fix f;
	fp_engine_node_t n;

	fix_init(&f, with_gpus(one_package(1, 0, 1ULL << 40), 1, -1, 0), NULL);
	at(&f, 0, 0);
	gpu_at(&f, 0, 0);
	push_ok(&f);
	at(&f, 1, 0);
	gpu_at(&f, 0, -1); /* failed: 1.0 held it */
	gstep(&f, "1.0", 1, 0, -1);
	push_ok(&f);
	at(&f, 2, 0);
	gpu_at(&f, 0, 50); /* 50 J over both: 2.0 holds it */
	gstep(&f, "2.0", 2, 0, -1);
	push_ok(&f);
	fp_engine_node(f.e, &n);
	assert_rel(n.gpu_j, 50, 1e-12, "no energy lost");
	assert_rel(step_gpu_j(&f, "1.0"), 0, 0, "not in that interval");
	assert_rel(step_gpu_j(&f, "2.0"), 50, 1e-12, "the gap");
	assert_conserved(f.e);
	fix_free(&f);
}

static void test_wall_residual_is_shared_with_gpu_idle(void **state)
{
	struct fix f;
	fp_engine_node_t n;
	fp_engine_step_t r;
	int cpu0 = 0;

	/* RAPL 50 J all to 1.0 (busy), GPU 0 (1.0) 30 J, GPU 1 unheld 20 J,
	 * wall 200 J: residual 100 J, factor 1 */
	fix_init(&f, with_gpus(one_package(1, 0, 1ULL << 40), 2, -1, 0), NULL);
	at(&f, 0, 0);
	gpu_at(&f, 0, 0);
	gpu_at(&f, 1, 0);
	f.s->wall_valid = true;
	f.s->wall_j = 1000;
	push_ok(&f);
	at(&f, 1, 50000000);
	gpu_at(&f, 0, 30);
	gpu_at(&f, 1, 20);
	f.s->wall_valid = true;
	f.s->wall_j = 1200;
	f.s->cpu_busy_ns[0] = S_NS;
	step(&f, "1.0", 1, &cpu0, 1)->cpu_ns[0] = S_NS;
	fp_sample_step_set_gpus(&f.s->steps[0], (int[]){ 0 }, 1, NULL, NULL);
	push_ok(&f);
	fp_engine_node(f.e, &n);
	assert_rel(n.energy_j, 200, 1e-12, "node from wall");
	assert_rel(n.rapl_j, 50, 1e-12, "rapl stays package + dram");
	assert_rel(n.residual_j, 100, 1e-12, "node - (rapl + gpu)");
	assert_rel(n.gpu_idle_j, 40, 1e-12, "unheld GPU + its residual");
	fp_engine_step(f.e, "1.0", &r);
	assert_rel(r.gpu_j, 30, 1e-12, "gpu share before the residual");
	assert_rel(r.energy_j,
		   r.dynamic_j + r.static_j + r.gpu_j + r.residual_j, 1e-12,
		   "energy = dyn + static + gpu + res");
	assert_rel(r.energy_j, 160, 1e-12, "(50 + 30) x 2");
	assert_conserved(f.e);
	fix_free(&f);
}

static void test_psys_node_adds_the_gpus(void **state)
{
	struct fix f;
	fp_engine_node_t n;

	fix_init(&f, with_gpus(one_package(1, 0, 1ULL << 40), 1, -1, 0), NULL);
	add_psys(f.desc);
	fp_engine_free(f.e);
	f.e = fp_engine_new(f.desc, NULL, &f.err);
	fp_sample_free(f.s);
	f.s = fp_sample_new(f.desc);
	at(&f, 0, 0);
	f.s->energy_valid[1] = true;
	f.s->energy_uj[1] = 0;
	gpu_at(&f, 0, 0);
	push_ok(&f);
	at(&f, 1, 40000000);
	f.s->energy_valid[1] = true;
	f.s->energy_uj[1] = 70000000;
	gpu_at(&f, 0, 25);
	push_ok(&f);
	fp_engine_node(f.e, &n);
	assert_rel(n.source_s[FP_SOURCE_PSYS], 1, 1e-12, "psys source");
	assert_rel(n.energy_j, 95, 1e-12, "psys + gpu");
	assert_rel(n.residual_j, 30, 1e-12, "psys - package");
	assert_conserved(f.e);
	fix_free(&f);
}

static void test_calibration_fits_rapl_plus_gpu(void **state)
{
	struct fix f;
	fp_engine_node_t n;
	double rapl = 0, gpu = 0, wall = 0;

	/* wall = 1.25 (rapl + gpu) + 40 W, GPU load varying alone */
	fix_init(&f, with_gpus(one_package(1, 0, 1ULL << 40), 1, -1, 0), NULL);
	for (int i = 0; i <= 40; i++) {
		double r = 20 + (i % 3), g = 50 + 30 * (i % 5);

		if (i) {
			rapl += r;
			gpu += g;
			wall += 1.25 * (r + g) + 40;
		}
		at(&f, i, (uint64_t)(rapl * 1e6));
		gpu_at(&f, 0, gpu);
		f.s->wall_valid = true;
		f.s->wall_j = wall;
		push_ok(&f);
	}
	fp_engine_node(f.e, &n);
	assert_true(n.calibration.active);
	assert_rel(n.calibration.a, 1.25, 1e-9, "a");
	assert_rel(n.calibration.b_w, 40, 1e-9, "b");
	at(&f, 41, (uint64_t)((rapl + 10) * 1e6)); /* no wall */
	gpu_at(&f, 0, gpu + 100);
	push_ok(&f);
	fp_engine_node(f.e, &n);
	assert_rel(n.energy_j, wall + 1.25 * 110 + 40, 1e-9, "predicted");
	assert_conserved(f.e);
	fix_free(&f);
}

static void
test_gpu_read_failure_keeps_interval_out_of_calibration(void **state)
{
	struct fix f;
	fp_engine_node_t n;

	fix_init(&f, with_gpus(one_package(1, 0, 1ULL << 40), 1, -1, 0), NULL);
	for (int i = 0; i <= 5; i++) {
		at(&f, i, (uint64_t)i * 10000000);
		gpu_at(&f, 0, i == 3 ? -1 : 10.0 * i);
		f.s->wall_valid = true;
		f.s->wall_j = 30.0 * i;
		push_ok(&f);
	}
	fp_engine_node(f.e, &n);
	/* 5 intervals; 3 and 4 touch the failed read */
	assert_int_equal(n.calibration.intervals, 3);
	fix_free(&f);
}

static void test_step_gpu_outside_the_node_is_rejected(void **state)
{
	struct fix f;
	int gpus[2] = { 0, 0 };

	fix_init(&f, with_gpus(one_package(1, 0, 1ULL << 40), 1, -1, 0), NULL);
	at(&f, 0, 0);
	gstep(&f, "1.0", 1, 1, -1);
	assert_int_equal(fp_engine_push(f.e, f.s, &f.err), -1);
	assert_int_equal(f.err.code, FP_EINVAL);
	assert_non_null(strstr(f.err.msg, "gpu 1"));
	at(&f, 0, 0);
	fp_sample_step_set_gpus(step(&f, "1.0", 1, NULL, 0), gpus, 2, NULL,
				NULL);
	assert_int_equal(fp_engine_push(f.e, f.s, &f.err), -1);
	assert_non_null(strstr(f.err.msg, "twice"));
	assert_int_equal(fp_engine_nsteps(f.e), 0);
	fix_free(&f);
}

static void test_gpu_conservation_holds_to_1e9_through_faults(void **state)
{
	struct fix f;
	double gj[3] = { 0, 0, 0 }, wall = 0;
	int cpus[2] = { 0, 1 };
	uint64_t busy[3] = { 0, 0, 0 };

	fix_init(&f, with_gpus(one_package(2, 5, 1ULL << 32), 3, 15, 0), NULL);
	for (int i = 0; i < 400; i++) {
		double rapl = 10.0 * i + (i % 7);

		at(&f, i, (uint64_t)(rapl * 1e6) % ((1ULL << 32) + 1));
		for (int g = 0; g < 3; g++) {
			gj[g] += 20 + 7 * ((i + g) % 5);
			gpu_at(&f, (size_t)g, (i + g) % 17 == 0 ? -1 : gj[g]);
		}
		f.s->wall_valid = i % 11 != 0;
		wall += 120 + (i % 13);
		f.s->wall_j = wall;
		f.s->cpu_busy_ns[0] = f.s->cpu_busy_ns[1] = (uint64_t)i * S_NS;
		for (int k = 0; k < 3; k++)
			busy[k] += (uint64_t)(k + 1) * (uint64_t)(i % 4);
		if (i % 50 < 40) {
			fp_step_sample_t *a = step(&f, "1.0", 1, cpus, 1);

			a->cpu_ns[0] = (uint64_t)i * S_NS / 2;
			fp_sample_step_set_gpus(a, (int[]){ 0, 1 }, 2, busy,
						NULL);
		}
		if (i % 30 > 5) {
			fp_step_sample_t *b = step(&f, "2.0", 2, cpus + 1, 1);
			uint64_t bb[1] = { busy[2] };

			b->cpu_ns[1] = (uint64_t)i * S_NS / 3;
			fp_sample_step_set_gpus(b, (int[]){ 1 }, 1,
						i % 9 ? bb : NULL, NULL);
		}
		push_ok(&f);
	}
	assert_conserved(f.e);
	fix_free(&f);
}

/* Each GPU's share of a step: a step holding GPUs 0 and 1 and another
 * job's step sharing GPU 1, over faults; per device the shares sum to the
 * step's gpu_j, exactly where it holds one GPU. */
static void test_gpu_share_by_device_sums_to_gpu_j(void **state)
{
	struct fix f;
	fp_engine_step_t r;
	double gj[3] = { 0, 0, 0 }, wall = 0, sum, gpu0_base = 0;
	int cpus[2] = { 0, 1 };

	fix_init(&f, with_gpus(one_package(2, 5, 1ULL << 32), 3, 15, 0), NULL);
	for (int i = 0; i < 200; i++) {
		at(&f, i, (uint64_t)i * 10000000);
		for (int g = 0; g < 3; g++) {
			gj[g] += 20 + 7 * ((i + g) % 5) + 30 * g;
			gpu_at(&f, (size_t)g, (i + g) % 17 == 0 ? -1 : gj[g]);
		}
		if (i == 1) /* GPU 0's first valid read: its baseline */
			gpu0_base = gj[0];
		f.s->wall_valid = i % 11 != 0;
		wall += 300 + (i % 13);
		f.s->wall_j = wall;
		f.s->cpu_busy_ns[0] = f.s->cpu_busy_ns[1] = (uint64_t)i * S_NS;
		fp_sample_step_set_gpus(step(&f, "1.0", 1, cpus, 1),
					(int[]){ 0, 1 }, 2, NULL, NULL);
		if (i > 50)
			fp_sample_step_set_gpus(step(&f, "2.0", 2, cpus + 1, 1),
						(int[]){ 1 }, 1, NULL, NULL);
		push_ok(&f);
	}
	assert_int_equal(fp_engine_step(f.e, "1.0", &r), 0);
	assert_non_null(r.gpu_dev_j);
	assert_int_equal(r.ngpus, 3);
	sum = r.gpu_dev_j[0] + r.gpu_dev_j[1] + r.gpu_dev_j[2];
	assert_rel(sum, r.gpu_j, 1e-12, "1.0 devices");
	assert_true(r.gpu_dev_j[2] == 0);
	/* GPU 0 is its own: all its energy from its first valid read */
	assert_rel(r.gpu_dev_j[0], gj[0] - gpu0_base, 1e-9, "1.0 GPU 0");
	assert_true(r.gpu_dev_j[1] > 0);
	assert_int_equal(fp_engine_step(f.e, "2.0", &r), 0);
	assert_true(r.gpu_dev_j[1] == r.gpu_j);
	assert_true(r.gpu_dev_j[0] == 0 && r.gpu_dev_j[2] == 0);
	assert_true(r.gpu_j > 0);
	assert_conserved(f.e);
	fix_free(&f);
}

/* A GPU held alone by one step gives it all its energy: the device's
 * share is the counter's delta, to the joule. */
static void test_gpu_share_of_a_lone_holder_is_the_device_energy(void **state)
{
	struct fix f;
	fp_engine_step_t r;
	int cpus[1] = { 0 };

	fix_init(&f, with_gpus(one_package(1, 0, 1ULL << 40), 2, -1, 0), NULL);
	for (int i = 0; i < 3; i++) {
		at(&f, i, 0);
		gpu_at(&f, 0, 100.0 * i);
		gpu_at(&f, 1, 30.0 * i);
		fp_sample_step_set_gpus(step(&f, "1.0", 1, cpus, 1),
					(int[]){ 1, 0 }, 2, NULL, NULL);
		push_ok(&f);
	}
	assert_int_equal(fp_engine_step(f.e, "1.0", &r), 0);
	assert_rel(r.gpu_dev_j[0], 200, 1e-12, "GPU 0");
	assert_rel(r.gpu_dev_j[1], 60, 1e-12, "GPU 1");
	assert_rel(r.gpu_dev_j[0] + r.gpu_dev_j[1], r.gpu_j, 1e-15, "sum");
	fix_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_idle_given_recovers_each_step_and_job_to_1e6),
		cmocka_unit_test(
			test_estimated_idle_gets_jobs_within_3_percent),
		cmocka_unit_test(
			test_conservation_holds_to_1e9_through_every_fault),
		cmocka_unit_test(test_counter_wrap_adds_max_range_plus_one),
		cmocka_unit_test(
			test_wrapping_small_dram_counter_loses_no_energy),
		cmocka_unit_test(
			test_failed_read_gives_gap_energy_at_next_read),
		cmocka_unit_test(
			test_failed_reads_in_a_long_trace_lose_no_energy),
		cmocka_unit_test(test_meter_reset_interval_has_no_wall),
		cmocka_unit_test(test_wall_below_rapl_is_implausible),
		cmocka_unit_test(
			test_a_wall_below_rapl_is_dropped_for_its_interval_and_the_next),
		cmocka_unit_test(
			test_step_energy_is_kept_by_the_node_source_of_each_interval),
		cmocka_unit_test(test_oversubscribed_cpu_splits_by_step_time),
		cmocka_unit_test(test_psys_gives_node_total_without_wall),
		cmocka_unit_test(
			test_failed_psys_read_falls_back_for_its_intervals),
		cmocka_unit_test(test_no_wall_node_is_the_rapl_total),
		cmocka_unit_test(test_calibration_starts_after_30_intervals),
		cmocka_unit_test(test_calibration_fills_intervals_without_wall),
		cmocka_unit_test(test_calibration_disabled_uses_rapl),
		cmocka_unit_test(
			test_overlapping_steps_of_one_job_share_idle_once),
		cmocka_unit_test(test_two_jobs_on_one_cpu_share_idle_equally),
		cmocka_unit_test(test_first_sample_is_the_baseline),
		cmocka_unit_test(
			test_non_increasing_t_is_rejected_and_changes_nothing),
		cmocka_unit_test(test_bad_steps_are_rejected),
		cmocka_unit_test(
			test_ended_step_stays_queryable_until_forgotten),
		cmocka_unit_test(test_many_steps_come_and_go_without_growth),
		cmocka_unit_test(test_last_interval_power),
		cmocka_unit_test(test_model_doc_worked_example),
		cmocka_unit_test(test_dram_domain_energy_lands_in_dram_j),
		cmocka_unit_test(
			test_dram_share_matches_the_model_and_conserves),
		cmocka_unit_test(test_no_dram_domain_gives_dram_j_zero),
		cmocka_unit_test(test_held_gpu_goes_to_its_holder),
		cmocka_unit_test(test_gpu_nobody_holds_goes_to_gpu_idle),
		cmocka_unit_test(
			test_gpu_shared_by_jobs_splits_dynamic_by_busy_idle_equally),
		cmocka_unit_test(
			test_gpu_shared_without_busy_splits_by_job_then_step),
		cmocka_unit_test(
			test_busy_missing_for_one_holder_splits_equally),
		cmocka_unit_test(
			test_gpu_of_one_job_goes_all_to_its_steps_by_busy),
		cmocka_unit_test(test_new_step_busy_starts_from_zero),
		cmocka_unit_test(
			test_gpu_counter_wrap_adds_max_energy_plus_one),
		cmocka_unit_test(test_gpu_counter_down_without_max_is_a_reset),
		cmocka_unit_test(
			test_failed_gpu_read_carries_gap_to_next_holders),
		cmocka_unit_test(test_wall_residual_is_shared_with_gpu_idle),
		cmocka_unit_test(test_psys_node_adds_the_gpus),
		cmocka_unit_test(test_calibration_fits_rapl_plus_gpu),
		cmocka_unit_test(
			test_gpu_read_failure_keeps_interval_out_of_calibration),
		cmocka_unit_test(test_step_gpu_outside_the_node_is_rejected),
		cmocka_unit_test(
			test_gpu_conservation_holds_to_1e9_through_faults),
		cmocka_unit_test(test_gpu_share_by_device_sums_to_gpu_j),
		cmocka_unit_test(
			test_gpu_share_of_a_lone_holder_is_the_device_energy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
