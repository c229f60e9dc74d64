/* Specification of lib/whatif: the same job moved to each site and start
 * hour, against hand computations from the test's own series. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "footprint/carbon.h"
#include "footprint/json.h"
#include "footprint/report.h"
#include "footprint/step.h"
#include "footprint/summary.h"
#include "footprint/whatif.h"

#define KWH 3.6e6
/* Hours 00..05 of 2024-01-15 UTC. */
static const double WINTER[] = { 300, 250, 200, 60, 400, 500 };
static const double SUMMER[] = { 90, 80, 70, 20, 100, 110 };

static char dir[64];
static fp_config_t *cfg;

static time_t T(int h, int m)
{
	char iso[32];
	time_t t;

	snprintf(iso, sizeof(iso), "2024-01-15T%02d:%02d:00Z", h, m);
	assert_int_equal(fp_iso8601_parse(iso, &t), 0);
	return t;
}

static void write_series(const char *name, const double *v)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	for (int h = 0; h < 6; h++)
		fprintf(f, "2024-01-15T%02d:00:00Z,%g\n", h, v[h]);
	fclose(f);
}

static int setup(void **state)
{
	char path[128];
	fp_error_t err = { 0 };
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/fp-whatif-XXXXXX");
	assert_non_null(mkdtemp(dir));
	write_series("winter.csv", WINTER);
	write_series("summer.csv", SUMMER);
	snprintf(path, sizeof(path), "%s/footprint.conf", dir);
	f = fopen(path, "w");
	fputs("Site=gas Nodes=n1 Intensity=file:winter.csv PUE=1.0 "
	      "HeatRecovery=0.9 DisplacedHeating=gas UsefulHeat=1.0\n"
	      "Site=elec Nodes=n2 Intensity=file:summer.csv PUE=1.0 "
	      "HeatRecovery=0.9 DisplacedHeating=electric UsefulHeat=0\n"
	      "Site=dc Nodes=n3 Intensity=150 PUE=1.5\n",
	      f);
	fclose(f);
	cfg = fp_config_load(path, &err);
	assert_non_null(cfg);
	assert_int_equal(fp_config_load_series(cfg, &err), 0);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	fp_config_free(cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static const fp_whatif_option_t *find(const fp_whatif_t *w, const char *site,
				      time_t start)
{
	for (size_t i = 0; i < w->noptions; i++)
		if (!strcmp(w->options[i].site, site) &&
		    w->options[i].start == start)
			return &w->options[i];
	return NULL;
}

static void test_options_are_sorted_least_footprint_first(void **s)
{
	fp_whatif_job_t job = { 2 * KWH, 3600, 1.0, T(1, 0) };
	fp_error_t err = { 0 };
	fp_whatif_t *w = fp_whatif_compute(cfg, &job, T(0, 0), T(4, 0), &err);

	assert_non_null(w);
	for (size_t i = 1; i < w->noptions; i++)
		assert_true(w->options[i - 1].footprint_g <=
			    w->options[i].footprint_g);
	/* the cleanest hour of the summer site: 2 kWh x 20 g + 1 g */
	assert_string_equal(w->options[0].site, "elec");
	assert_int_equal(w->options[0].start, T(3, 0));
	assert_float_equal(w->options[0].footprint_g, 2 * 20 + 1.0, 1e-9);
	fp_whatif_free(w);
}

static void test_a_run_over_two_hours_takes_the_time_weighted_mean(void **s)
{
	/* 90 min from 01:30: 30 min at 250, 60 min at 200 */
	fp_whatif_job_t job = { 3 * KWH, 5400, 0, T(1, 30) };
	fp_error_t err = { 0 };
	fp_whatif_t *w = fp_whatif_compute(cfg, &job, T(1, 0), T(2, 0), &err);
	const fp_whatif_option_t *o;

	assert_non_null(w);
	o = find(w, "gas", T(1, 30));
	assert_non_null(o);
	assert_float_equal(o->intensity, (250 * 30 + 200 * 60) / 90.0, 1e-9);
	assert_float_equal(o->operational_g, 3 * o->intensity, 1e-9);
	fp_whatif_free(w);
}

static void test_pue_and_heat_reuse_follow_the_site(void **s)
{
	fp_whatif_job_t job = { 1 * KWH, 3600, 0, T(0, 0) };
	fp_error_t err = { 0 };
	fp_whatif_t *w = fp_whatif_compute(cfg, &job, T(0, 0), T(0, 0), &err);
	const fp_whatif_option_t *gas, *dc, *elec;

	assert_non_null(w);
	gas = find(w, "gas", T(0, 0));
	dc = find(w, "dc", T(0, 0));
	elec = find(w, "elec", T(0, 0));
	assert_non_null(gas);
	assert_non_null(dc);
	assert_non_null(elec);
	assert_float_equal(dc->operational_g, 1.5 * 150, 1e-9);
	assert_float_equal(dc->avoided_g, 0, 1e-9);
	/* gas heating displaced: 0.9 kWh of heat at the preset factor */
	assert_float_equal(
		gas->avoided_g,
		0.9 * fp_config_displaced_preset("gas")->gco2e_per_kwh, 1e-9);
	assert_float_equal(gas->net_g, gas->footprint_g - gas->avoided_g, 1e-9);
	assert_float_equal(elec->avoided_g, 0, 1e-9); /* summer: no heat */
	fp_whatif_free(w);
}

static void test_hours_outside_a_series_are_skipped_not_invented(void **s)
{
	fp_whatif_job_t job = { KWH, 2 * 3600, 0, T(3, 0) };
	fp_error_t err = { 0 };
	fp_whatif_t *w = fp_whatif_compute(cfg, &job, T(3, 0), T(6, 0), &err);

	assert_non_null(w);
	/* a 2 h run from 05:00 or 06:00 leaves the file series */
	assert_null(find(w, "gas", T(5, 0)));
	assert_null(find(w, "elec", T(6, 0)));
	assert_non_null(find(w, "gas", T(4, 0)));
	assert_non_null(find(w, "dc", T(6, 0))); /* a constant */
	assert_int_equal(w->skipped, 4);
	fp_whatif_free(w);
}

static void test_the_actual_start_is_always_an_option(void **s)
{
	fp_whatif_job_t job = { KWH, 600, 0, T(2, 17) };
	fp_error_t err = { 0 };
	fp_whatif_t *w = fp_whatif_compute(cfg, &job, T(1, 0), T(3, 0), &err);

	assert_non_null(w);
	assert_non_null(find(w, "gas", T(2, 17)));
	assert_float_equal(find(w, "gas", T(2, 17))->intensity, 200, 1e-9);
	/* 3 whole hours + the actual start, 3 sites */
	assert_int_equal(w->noptions, 12);
	fp_whatif_free(w);
}

static void test_no_covered_option_is_an_error(void **s)
{
	fp_config_t *c;
	char path[128];
	fp_error_t err = { 0 };
	fp_whatif_job_t job = { KWH, 3600, 0, T(9, 0) };
	FILE *f;

	snprintf(path, sizeof(path), "%s/only-file.conf", dir);
	f = fopen(path, "w");
	fputs("Site=gas Nodes=n1 Intensity=file:winter.csv\n", f);
	fclose(f);
	c = fp_config_load(path, &err);
	assert_non_null(c);
	assert_int_equal(fp_config_load_series(c, &err), 0);
	assert_null(fp_whatif_compute(c, &job, T(8, 0), T(10, 0), &err));
	assert_non_null(strstr(err.msg, "covers"));
	fp_config_free(c);
}

static void test_a_job_without_energy_is_rejected(void **s)
{
	fp_whatif_job_t job = { NAN, 3600, 0, T(1, 0) };
	fp_error_t err = { 0 };

	assert_null(fp_whatif_compute(cfg, &job, T(0, 0), T(2, 0), &err));
	assert_non_null(strstr(err.msg, "energy"));
}

static fp_config_t *load(const char *name, const char *text, int series_rc)
{
	char path[128];
	fp_error_t err = { 0 };
	fp_config_t *c;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	c = fp_config_load(path, &err);
	assert_non_null(c);
	assert_int_equal(fp_config_load_series(c, &err), series_rc);
	return c;
}

static void
test_a_site_whose_series_is_broken_is_unavailable_the_others_ranked(void **s)
{
	fp_config_t *c =
		load("broken.conf",
		     "Site=gas Nodes=n1 Intensity=file:winter.csv\n"
		     "Site=paris Nodes=n2 Intensity=file:missing.csv\n"
		     "Site=heat Nodes=n3 Intensity=150 HeatRecovery=0.5 "
		     "UsefulHeat=file:gone.csv\n"
		     "Site=dc Nodes=n4 Intensity=150\n",
		     -1);
	fp_whatif_job_t job = { KWH, 3600, 0, T(1, 0) };
	fp_error_t err = { 0 };
	fp_whatif_t *w = fp_whatif_compute(c, &job, T(0, 0), T(2, 0), &err);

	assert_non_null(w);
	/* gas and dc at 00:00, 01:00, 02:00 */
	assert_int_equal(w->noptions, 6);
	assert_non_null(find(w, "gas", T(0, 0)));
	assert_non_null(find(w, "dc", T(2, 0)));
	assert_int_equal(w->nunavailable, 2);
	assert_string_equal(w->unavailable[0].site, "paris");
	assert_string_equal(w->unavailable[0].field, "Intensity");
	assert_string_equal(w->unavailable[0].series, "file:missing.csv");
	assert_non_null(strstr(w->unavailable[0].fault,
			       "broken.conf:2: "
			       "Site 'paris': field 'Intensity'"));
	assert_non_null(strstr(w->unavailable[0].fault, "cannot open"));
	assert_string_equal(w->unavailable[1].site, "heat");
	assert_string_equal(w->unavailable[1].field, "UsefulHeat");
	assert_string_equal(w->unavailable[1].series, "file:gone.csv");
	fp_whatif_free(w);
	fp_config_free(c);
}

static void test_no_site_with_its_series_is_an_error_naming_one(void **s)
{
	fp_config_t *c =
		load("allbroken.conf",
		     "Site=paris Nodes=n1 Intensity=file:missing.csv\n"
		     "Site=lyon Nodes=n2 Intensity=file:missing2.csv\n",
		     -1);
	fp_whatif_job_t job = { KWH, 3600, 0, T(1, 0) };
	fp_error_t err = { 0 };

	assert_null(fp_whatif_compute(c, &job, T(0, 0), T(2, 0), &err));
	assert_non_null(strstr(err.msg, "no site has its series: "));
	assert_non_null(strstr(err.msg, "Site 'paris': field 'Intensity'"));
	assert_non_null(strstr(err.msg, "(and 1 more sites)"));
	fp_config_free(c);
}

static void test_equal_options_are_one_candidate_not_ties(void **s)
{
	/* dc's constant series: its five hours are one candidate */
	fp_whatif_job_t job = { KWH, 3600, 0, T(1, 0) };
	fp_error_t err = { 0 };
	fp_whatif_t *w = fp_whatif_compute(cfg, &job, T(0, 0), T(4, 0), &err);
	const fp_whatif_group_t *dc = NULL;

	assert_non_null(w);
	for (size_t g = 0; g < w->ngroups; g++) {
		const fp_whatif_group_t *x = &w->groups[g];

		if (g) /* no two candidates are ties */
			assert_true(w->options[x[-1].first].footprint_g <
				    w->options[x->first].footprint_g);
		if (!strcmp(w->options[x->first].site, "dc"))
			dc = x;
	}
	assert_non_null(dc);
	assert_int_equal(dc->count, 5);
	assert_int_equal(dc->nsites, 1);
	assert_int_equal(dc->first_start, T(0, 0));
	assert_int_equal(dc->last_start, T(4, 0));
	assert_true(dc->every_hour);
	/* gas and elec: ten distinct hours, dc: one candidate */
	assert_int_equal(w->ngroups, 11);
	fp_whatif_free(w);
}

static void test_sites_at_one_intensity_are_one_candidate(void **s)
{
	fp_config_t *c = load("flat.conf",
			      "Site=a Nodes=n1 Intensity=100 PUE=1.2\n"
			      "Site=b Nodes=n2 Intensity=100 PUE=1.2\n"
			      "Site=c Nodes=n3 Intensity=80 PUE=1.5\n",
			      0);
	fp_whatif_job_t job = { KWH, 3600, 0, T(1, 0) };
	fp_error_t err = { 0 };
	fp_whatif_t *w = fp_whatif_compute(c, &job, T(0, 0), T(2, 0), &err);

	assert_non_null(w);
	/* 9 options, all 120 g: every option is equal */
	assert_int_equal(w->noptions, 9);
	assert_int_equal(w->ngroups, 1);
	assert_int_equal(w->groups[0].count, 9);
	assert_int_equal(w->groups[0].nsites, 3);
	assert_true(w->groups[0].every_hour);
	/* equal ones listed by start, then site */
	assert_string_equal(w->options[0].site, "a");
	assert_string_equal(w->options[1].site, "b");
	assert_int_equal(w->options[8].start, T(2, 0));
	fp_whatif_free(w);
	fp_config_free(c);
}

static void test_equal_hours_apart_are_not_every_hour(void **s)
{
	static const double DIP[] = { 100, 200, 100, 300, 400, 500 };
	fp_config_t *c;
	fp_whatif_job_t job = { KWH, 3600, 0, T(0, 0) };
	fp_error_t err = { 0 };
	fp_whatif_t *w;

	write_series("dip.csv", DIP);
	c = load("dip.conf", "Site=x Nodes=n1 Intensity=file:dip.csv\n", 0);
	w = fp_whatif_compute(c, &job, T(0, 0), T(2, 0), &err);
	assert_non_null(w);
	assert_int_equal(w->ngroups, 2);
	assert_int_equal(w->groups[0].count, 2);
	assert_int_equal(w->groups[0].first_start, T(0, 0));
	assert_int_equal(w->groups[0].last_start, T(2, 0));
	assert_false(w->groups[0].every_hour);
	assert_int_equal(w->groups[1].count, 1);
	fp_whatif_free(w);
	fp_config_free(c);
}

/* ---- a GPU job, from its summary (issue #15) ---- */

/* Job 4242 on n1 (site gas) from 01:00 to 02:00 whose one step, 4242.0,
 * spent 0.15 kWh in the CPU packages, 0.05 kWh in DRAM, 1.6 kWh on its GPU
 * and 0.2 kWh of the rest of the node: its node record as the poller
 * writes it, its ConsumedEnergy (what the poller published: the parts'
 * sum) as footprint-worker reads it from accounting, and the summary the
 * worker makes of both. */
static char *gpu_job_summary(fp_result_t **res)
{
	const fp_step_parts_gpu_t g = { .index = 0,
					.uuid = "GPU-0000",
					.model = "Fake A100",
					.vendor = "nvidia",
					.source = "counter",
					.floor_w = 50,
					.energy_j = 1.6 * KWH };
	const fp_step_parts_t parts = { .node = "n1",
					.first_t = (double)T(1, 0),
					.last_t = (double)T(2, 0),
					.seconds = 3600,
					.energy_j = 2 * KWH,
					.cpu_dram_j = 0.2 * KWH,
					.cpu_j = 0.15 * KWH,
					.dram_j = 0.05 * KWH,
					.gpu_j = 1.6 * KWH,
					.rest_j = 0.2 * KWH,
					.gpus = &g,
					.ngpus = 1 };
	fp_job_t *job = fp_carbon_job_new();
	fp_step_t *st;
	fp_error_t err = { 0 };
	json_t *rec = NULL;
	char parts_dir[96];
	char *payload;

	snprintf(parts_dir, sizeof(parts_dir), "%s/parts", dir);
	mkdir(parts_dir, 0755);
	assert_int_equal(fp_step_parts_write(parts_dir, "4242.0", &parts, &err),
			 0);
	assert_non_null(job);
	job->job_id = 4242;
	job->start = T(1, 0);
	job->end = T(2, 0);
	job->energy_source = FP_ENERGY_MEASURED;
	assert_int_equal(fp_carbon_job_add_node(job, "n1", 64), 0);
	st = fp_carbon_job_add_step(job, "4242.0", T(1, 0), T(2, 0),
				    parts.energy_j);
	assert_non_null(st);
	assert_int_equal(fp_carbon_step_add_node(st, "n1", 64, NAN), 0);
	*res = fp_carbon_compute(cfg, job, fp_config_hostlist_match_plain, NULL,
				 &err);
	if (!*res)
		fail_msg("fp_carbon_compute: %s", err.msg);
	assert_int_equal(
		fp_step_parts_load(parts_dir, "n1", "4242.0", &rec, &err), 0);
	payload = fp_summary_dumps_parts(*res, &rec, 1, 1, &err);
	assert_non_null(payload);
	json_decref(rec);
	fp_carbon_job_free(job);
	return payload;
}

static void test_a_gpu_job_is_moved_with_its_whole_energy_gpu_included(void **s)
{
	fp_result_t *res = NULL;
	char *payload = gpu_job_summary(&res);
	json_t *sum = json_loads(payload, 0, NULL);
	json_t *parts = json_object_get(sum, "energy_parts");
	fp_error_t err = { 0 };
	fp_report_t *r = fp_report_from_summary("4242", payload, &err);
	fp_whatif_job_t job;
	fp_whatif_t *w;
	const fp_whatif_option_t *actual, *dc;

	assert_non_null(sum);
	assert_non_null(r);
	/* the job is mostly GPU */
	assert_float_equal(json_number_value(json_object_get(parts, "gpu_Wh")),
			   1600, 1e-9);
	/* the what-if's job as the HTML page and sfootprint whatif take it
	 * from the summary */
	job.energy_j = r->energy_it_wh * 3600;
	job.elapsed_s = r->elapsed_s;
	job.embodied_g = isfinite(r->embodied_g) ? r->embodied_g : 0;
	job.start = fp_report_parse_utc(r->start);
	assert_float_equal(
		job.energy_j,
		fp_json_number(json_object_get(sum, "energy"), "it_Wh") * 3600,
		1e-6);
	/* all its energy by part, the GPU's among them */
	assert_float_equal(
		job.energy_j,
		json_number_value(json_object_get(parts, "energy_Wh")) * 3600,
		1e-6);
	w = fp_whatif_compute(cfg, &job, T(0, 0), T(4, 0), &err);
	assert_non_null(w);
	/* where and when it ran: the summary's own operational emissions,
	 * 2 kWh at 250 g/kWh (its CPU and DRAM alone would be 50 g) */
	actual = find(w, "gas", T(1, 0));
	assert_non_null(actual);
	assert_float_equal(actual->operational_g, res->operational_g, 1e-9);
	assert_float_equal(actual->operational_g, 2 * 250, 1e-9);
	/* elsewhere, the same 2 kWh: dc at PUE 1.5 and 150 g/kWh */
	dc = find(w, "dc", T(3, 0));
	assert_non_null(dc);
	assert_float_equal(dc->operational_g, 2 * 1.5 * 150, 1e-9);
	fp_whatif_free(w);
	fp_report_free(r);
	fp_carbon_result_free(res);
	json_decref(sum);
	free(payload);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_are_sorted_least_footprint_first),
		cmocka_unit_test(
			test_a_run_over_two_hours_takes_the_time_weighted_mean),
		cmocka_unit_test(test_pue_and_heat_reuse_follow_the_site),
		cmocka_unit_test(
			test_hours_outside_a_series_are_skipped_not_invented),
		cmocka_unit_test(test_the_actual_start_is_always_an_option),
		cmocka_unit_test(test_no_covered_option_is_an_error),
		cmocka_unit_test(test_a_job_without_energy_is_rejected),
		cmocka_unit_test(
			test_a_site_whose_series_is_broken_is_unavailable_the_others_ranked),
		cmocka_unit_test(
			test_no_site_with_its_series_is_an_error_naming_one),
		cmocka_unit_test(test_equal_options_are_one_candidate_not_ties),
		cmocka_unit_test(test_sites_at_one_intensity_are_one_candidate),
		cmocka_unit_test(test_equal_hours_apart_are_not_every_hour),
		cmocka_unit_test(
			test_a_gpu_job_is_moved_with_its_whole_energy_gpu_included),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
