/* Specification of lib/carbon against hand computations from the test's
 * own signals: operational, embodied, heat reuse, reference, ratios. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "footprint/carbon.h"
#include "footprint/summary.h"

#define KWH 3.6e6
#define EMB_G_PER_S (1000.0 * 1000.0 / (5 * 365.25 * 86400)) /* per node */

/* The test's signals: intensity per hour 00..03 of 2024-01-15 UTC, and the
 * useful-heat fraction for the same hours. */
static const double I[] = { 50, 70, 90, 110 };
static const double U[] = { 1.0, 0.5, 0.0, 1.0 };
#define PUE 1.2
#define REC 0.9
#define GAS 227.0
#define PUE_REF 1.5
#define I_REF 300.0

static char dir[64];
static fp_config_t *cfg;

static time_t T(const char *hhmm)
{
	char iso[32];
	time_t t;

	snprintf(iso, sizeof(iso), "2024-01-15T%s:00Z", hhmm);
	assert_int_equal(fp_iso8601_parse(iso, &t), 0);
	return t;
}

static void write_series(const char *name, const double *v)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	for (int h = 0; h < 4; h++)
		fprintf(f, "2024-01-15T%02d:00:00Z,%g\n", h, v[h]);
	fclose(f);
}

static int setup(void **state)
{
	char conf[1024], path[128];
	fp_error_t err = { 0 };
	FILE *f;

	snprintf(dir, sizeof(dir), "/tmp/fp-carbon-XXXXXX");
	assert_non_null(mkdtemp(dir));
	write_series("int.csv", I);
	write_series("use.csv", U);
	snprintf(conf, sizeof(conf),
		 "Site=paris Nodes=n1,n2,n3 Intensity=file:int.csv PUE=%g "
		 "HeatRecovery=%g DisplacedHeating=gas "
		 "UsefulHeat=file:use.csv\n"
		 "Site=lyon Nodes=n4 Intensity=80\n"
		 "NodeType=h1 Nodes=n1,n2,n4 Embodied=1000 Lifetime=5 "
		 "CPUs=32\n"
		 "Reference=std PUE=%g Intensity=%g\n",
		 PUE, REC, PUE_REF, I_REF);
	snprintf(path, sizeof(path), "%s/footprint.conf", dir);
	f = fopen(path, "w");
	fputs(conf, f);
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

static fp_job_t *job_new(const char *start, const char *end)
{
	fp_job_t *j = fp_carbon_job_new();

	j->job_id = 42;
	j->start = T(start);
	j->end = end ? T(end) : T(start);
	j->energy_source = FP_ENERGY_MEASURED;
	return j;
}

static fp_result_t *compute(fp_job_t *j, fp_error_t *err)
{
	return fp_carbon_compute(cfg, j, fp_config_hostlist_match_plain, NULL,
				 err);
}

static void test_step_energy_is_spread_over_the_hours_it_spans(void **s)
{
	fp_job_t *j = job_new("00:30", "01:30");
	fp_step_t *st = fp_carbon_job_add_step(j, "42.0", T("00:30"),
					       T("01:30"), 2 * KWH);
	fp_error_t err = { 0 };
	fp_result_t *r;

	fp_carbon_step_add_node(st, "n1", 32, NAN);
	r = compute(j, &err);
	assert_non_null(r);
	/* half the energy in hour 0, half in hour 1 */
	assert_float_equal(r->operational_g,
			   1.0 * PUE * I[0] + 1.0 * PUE * I[1], 1e-9);
	assert_float_equal(r->energy_it_j, 2 * KWH, 1e-6);
	assert_float_equal(r->energy_facility_j, 2 * KWH * PUE, 1e-6);
	fp_carbon_result_free(r);
	fp_carbon_job_free(j);
}

static void test_step_energy_is_split_by_allocated_cpus(void **s)
{
	fp_job_t *j = job_new("00:00", "01:00");
	fp_step_t *st = fp_carbon_job_add_step(j, "42.0", T("00:00"),
					       T("01:00"), 4 * KWH);
	fp_error_t err = { 0 };
	fp_result_t *r;

	fp_carbon_step_add_node(st, "n1", 24, NAN);
	fp_carbon_step_add_node(st, "n4", 8, NAN);
	r = compute(j, &err);
	assert_non_null(r);
	assert_int_equal(r->nnodes, 2);
	assert_float_equal(r->nodes[0].energy_j, 3 * KWH, 1e-6);
	assert_float_equal(r->nodes[1].energy_j, 1 * KWH, 1e-6);
	/* n1 in paris (hourly), n4 in lyon (constant 80, PUE 1.0) */
	assert_float_equal(r->operational_g, 3 * PUE * I[0] + 1 * 1.0 * 80,
			   1e-9);
	assert_int_equal(r->nsites, 2);
	assert_string_equal(r->sites[1].site, "lyon");
	assert_float_equal(r->sites[1].operational_g, 80, 1e-9);
	fp_carbon_result_free(r);
	fp_carbon_job_free(j);
}

static void test_per_node_energy_wins_over_the_cpu_split(void **s)
{
	fp_job_t *j = job_new("00:00", "01:00");
	fp_step_t *st =
		fp_carbon_job_add_step(j, "42.0", T("00:00"), T("01:00"), NAN);
	fp_error_t err = { 0 };
	fp_result_t *r;

	fp_carbon_step_add_node(st, "n1", 16, 0.5 * KWH);
	fp_carbon_step_add_node(st, "n2", 16, 1.5 * KWH);
	r = compute(j, &err);
	assert_non_null(r);
	assert_true(r->complete);
	assert_float_equal(r->nodes[0].energy_j, 0.5 * KWH, 1e-6);
	assert_float_equal(r->nodes[1].energy_j, 1.5 * KWH, 1e-6);
	assert_float_equal(r->operational_g, 2 * PUE * I[0], 1e-9);
	fp_carbon_result_free(r);
	fp_carbon_job_free(j);
}

static void test_embodied_is_lifetime_share_times_cpu_share(void **s)
{
	fp_job_t *j = job_new("00:00", "02:00");
	fp_step_t *st = fp_carbon_job_add_step(j, "42.batch", T("00:00"),
					       T("02:00"), 0);
	fp_error_t err = { 0 };
	fp_result_t *r;

	fp_carbon_step_add_node(st, "n1", 16, NAN);
	fp_carbon_job_add_node(j, "n1", 16);
	r = compute(j, &err);
	assert_non_null(r);
	/* 1000 kg over 5 years, 7200 s, 16 of 32 CPUs */
	assert_float_equal(r->embodied_g, EMB_G_PER_S * 7200 * 16 / 32.0, 1e-9);
	assert_float_equal(r->core_hours, 16 * 2.0, 1e-12);
	fp_carbon_result_free(r);
	fp_carbon_job_free(j);
}

static void test_avoided_emissions_stay_out_of_the_footprint(void **s)
{
	fp_job_t *j = job_new("00:00", "02:00");
	fp_step_t *st = fp_carbon_job_add_step(j, "42.0", T("00:00"),
					       T("02:00"), 2 * KWH);
	fp_error_t err = { 0 };
	fp_result_t *r;
	double op, avoided, emb;

	fp_carbon_step_add_node(st, "n1", 32, NAN);
	r = compute(j, &err);
	assert_non_null(r);
	op = 1 * PUE * I[0] + 1 * PUE * I[1];
	emb = EMB_G_PER_S * 7200;
	avoided = (1 * PUE * REC * U[0] + 1 * PUE * REC * U[1]) * GAS;
	assert_float_equal(r->embodied_g, emb, 1e-9);
	assert_float_equal(r->footprint_g, op + emb, 1e-9);
	assert_float_equal(r->avoided_g, avoided, 1e-9);
	assert_float_equal(r->net_g, op + emb - avoided, 1e-9);
	assert_float_equal(r->reused_energy_j,
			   (PUE * REC * U[0] + PUE * REC * U[1]) * KWH, 1e-6);
	fp_carbon_result_free(r);
	fp_carbon_job_free(j);
}

static void test_summer_heat_displaces_nothing(void **s)
{
	/* hour 2 has useful fraction 0 */
	fp_job_t *j = job_new("02:00", "03:00");
	fp_step_t *st =
		fp_carbon_job_add_step(j, "42.0", T("02:00"), T("03:00"), KWH);
	fp_error_t err = { 0 };
	fp_result_t *r;

	fp_carbon_step_add_node(st, "n1", 32, NAN);
	r = compute(j, &err);
	assert_non_null(r);
	assert_float_equal(r->avoided_g, 0, 0);
	assert_float_equal(r->erf, 0, 0);
	fp_carbon_result_free(r);
	fp_carbon_job_free(j);
}

static void test_reference_uses_its_pue_and_intensity(void **s)
{
	fp_job_t *j = job_new("00:00", "01:00");
	fp_step_t *st =
		fp_carbon_job_add_step(j, "42.0", T("00:00"), T("01:00"), KWH);
	fp_error_t err = { 0 };
	fp_result_t *r;
	double emb = EMB_G_PER_S * 3600, ref = 1 * PUE_REF * I_REF + emb;
	double fp = 1 * PUE * I[0] + emb, net = fp - PUE * REC * U[0] * GAS;

	fp_carbon_step_add_node(st, "n1", 32, NAN);
	r = compute(j, &err);
	assert_non_null(r);
	assert_float_equal(r->reference_g, ref, 1e-9);
	assert_float_equal(r->saved_g, ref - fp, 1e-9);
	assert_float_equal(r->saved_with_heat_g, ref - net, 1e-9);
	assert_float_equal(r->saved_percent, 100 * (ref - net) / ref, 1e-9);
	fp_carbon_result_free(r);
	fp_carbon_job_free(j);
}

static void test_ratios_pue_erf_ere_and_per_core_hour(void **s)
{
	fp_job_t *j = job_new("00:00", "01:00");
	fp_step_t *st =
		fp_carbon_job_add_step(j, "42.0", T("00:00"), T("01:00"), KWH);
	fp_error_t err = { 0 };
	fp_result_t *r;
	double reused = PUE * REC * U[0]; /* kWh */

	fp_carbon_step_add_node(st, "n1", 8, NAN);
	r = compute(j, &err);
	assert_non_null(r);
	assert_float_equal(r->pue, PUE, 1e-12);
	assert_float_equal(r->erf, reused / PUE, 1e-12);
	assert_float_equal(r->ere, (PUE - reused) / 1.0, 1e-12);
	assert_float_equal(r->per_core_hour_g,
			   (PUE * I[0] + EMB_G_PER_S * 3600 * 8 / 32) / 8.0,
			   1e-9);
	assert_float_equal(r->intensity, I[0], 1e-9);
	fp_carbon_result_free(r);
	fp_carbon_job_free(j);
}

static void test_missing_step_energy_makes_the_result_incomplete(void **s)
{
	fp_job_t *j = job_new("00:00", "01:00");
	fp_step_t *st = fp_carbon_job_add_step(j, "42.batch", T("00:00"),
					       T("01:00"), KWH);
	fp_error_t err = { 0 };
	fp_result_t *r;

	fp_carbon_step_add_node(st, "n1", 32, NAN);
	st = fp_carbon_job_add_step(j, "42.extern", T("00:00"), T("01:00"),
				    NAN);
	fp_carbon_step_add_node(st, "n1", 32, NAN);
	r = compute(j, &err);
	assert_non_null(r);
	assert_false(r->complete);
	assert_int_equal(r->nincomplete, 1);
	assert_non_null(strstr(r->incomplete[0], "42.extern"));
	assert_int_equal(r->nsteps_counted, 1);
	assert_float_equal(r->operational_g, PUE * I[0], 1e-9);
	fp_carbon_result_free(r);
	fp_carbon_job_free(j);
}

static void test_a_step_listed_twice_is_rejected(void **s)
{
	fp_job_t *j = job_new("00:00", "01:00");
	fp_error_t err = { 0 };

	fp_carbon_step_add_node(fp_carbon_job_add_step(j, "42.0", T("00:00"),
						       T("01:00"), KWH),
				"n1", 1, NAN);
	fp_carbon_step_add_node(fp_carbon_job_add_step(j, "42.0", T("00:00"),
						       T("01:00"), KWH),
				"n1", 1, NAN);
	assert_null(compute(j, &err));
	assert_non_null(strstr(err.msg, "twice"));
	fp_carbon_job_free(j);
}

static void test_a_step_outside_the_series_is_an_error(void **s)
{
	fp_job_t *j = job_new("03:00", "05:00");
	fp_error_t err = { 0 };

	fp_carbon_step_add_node(fp_carbon_job_add_step(j, "42.0", T("03:00"),
						       T("05:00"), KWH),
				"n1", 1, NAN);
	assert_null(compute(j, &err));
	assert_non_null(strstr(err.msg, "int.csv"));
	assert_non_null(strstr(err.msg, "2024-01-15T04:00:00Z"));
	fp_carbon_job_free(j);
}

static void test_a_node_in_no_site_is_an_error(void **s)
{
	fp_job_t *j = job_new("00:00", "01:00");
	fp_error_t err = { 0 };

	fp_carbon_step_add_node(fp_carbon_job_add_step(j, "42.0", T("00:00"),
						       T("01:00"), KWH),
				"x9", 1, NAN);
	assert_null(compute(j, &err));
	assert_non_null(strstr(err.msg, "'x9'"));
	fp_carbon_job_free(j);
}

static void test_a_node_without_node_type_is_incomplete(void **s)
{
	fp_job_t *j = job_new("00:00", "01:00");
	fp_error_t err = { 0 };
	fp_result_t *r;

	fp_carbon_step_add_node(fp_carbon_job_add_step(j, "42.0", T("00:00"),
						       T("01:00"), KWH),
				"n3", 4, NAN);
	r = compute(j, &err);
	assert_non_null(r);
	assert_false(r->complete);
	assert_non_null(strstr(r->incomplete[0], "n3"));
	assert_float_equal(r->embodied_g, 0, 0);
	fp_carbon_result_free(r);
	fp_carbon_job_free(j);
}

static void test_more_cpus_than_the_node_has_is_rejected(void **s)
{
	fp_job_t *j = job_new("00:00", "01:00");
	fp_error_t err = { 0 };

	fp_carbon_step_add_node(fp_carbon_job_add_step(j, "42.0", T("00:00"),
						       T("01:00"), KWH),
				"n1", 64, NAN);
	assert_null(compute(j, &err));
	assert_non_null(strstr(err.msg, "64 CPUs"));
	fp_carbon_job_free(j);
}

static void test_job_description_json_is_read(void **s)
{
	const char json[] =
		"{\"job_id\": 7, \"user\": \"alice\", \"account\": \"p1\","
		" \"start\": \"2024-01-15T00:00:00Z\", \"end\": 1705280400,"
		" \"energy_source\": \"calibrated\","
		" \"nodes\": [{\"name\": \"n1\", \"cpus\": 32}],"
		" \"steps\": [{\"id\": \"7.batch\", \"start\":"
		" \"2024-01-15T00:00:00Z\", \"end\": \"2024-01-15T01:00:00Z\","
		" \"energy_j\": 3600000, \"nodes\": [{\"name\": \"n1\","
		" \"cpus\": 32}]}, {\"id\": \"7.extern\", \"start\":"
		" 1705276800, \"end\": 1705280400, \"energy_j\": null,"
		" \"nodes\": [{\"name\": \"n1\", \"cpus\": 32}]}]}";
	fp_error_t err = { 0 };
	fp_job_t *j =
		fp_carbon_job_from_json("job.json", json, strlen(json), &err);
	fp_result_t *r;

	assert_non_null(j);
	assert_int_equal(j->job_id, 7);
	assert_string_equal(j->user, "alice");
	assert_int_equal(j->energy_source, FP_ENERGY_CALIBRATED);
	assert_int_equal(j->end - j->start, 3600);
	assert_int_equal(j->nsteps, 2);
	assert_true(isnan(j->steps[1].energy_j));
	r = compute(j, &err);
	assert_non_null(r);
	assert_false(r->complete);
	assert_float_equal(r->operational_g, PUE * I[0], 1e-9);
	fp_carbon_result_free(r);
	fp_carbon_job_free(j);
}

/* Found by fuzz_job: a step ending in the year 540 million had its energy
 * spread hour by hour (the worker hung). Refused, naming the step. */
static void test_step_lasting_centuries_is_refused_at_once(void **s)
{
	const char json[] =
		"{\"job_id\": 42, \"start\": 1705276800, \"end\": 1705291200,"
		" \"nodes\": [{\"name\": \"n3\", \"cpus\": 16}],"
		" \"steps\": [{\"id\": \"42.0\", \"start\": 1705276805,"
		" \"end\": 17052911905291195, \"energy_j\": 12000000,"
		" \"nodes\": [{\"name\": \"n3\", \"cpus\": 16}]}]}";
	fp_error_t err = { 0 };
	fp_job_t *j =
		fp_carbon_job_from_json("job.json", json, strlen(json), &err);
	fp_job_t *k;

	assert_non_null(j);
	assert_null(compute(j, &err));
	assert_non_null(strstr(err.msg, "step 42.0 lasts"));
	fp_carbon_job_free(j);
	k = job_new("00:00", "01:00");
	k->end = k->start + (time_t)11 * 366 * 86400;
	assert_null(compute(k, &err));
	assert_non_null(strstr(err.msg, "more than ten years"));
	fp_carbon_job_free(k);
}

static void test_job_description_error_names_the_field(void **s)
{
	const char json[] = "{\"job_id\": 7, \"start\": 0, \"end\": 1,"
			    " \"steps\": [{\"id\": \"7.0\", \"start\": 0,"
			    " \"end\": \"tomorrow\", \"nodes\": []}]}";
	fp_error_t err = { 0 };

	assert_null(
		fp_carbon_job_from_json("job.json", json, strlen(json), &err));
	assert_non_null(strstr(err.msg, "job.json"));
	assert_non_null(strstr(err.msg, "steps[0].end"));
}

/* Per-node split of a multi-node step (fp_carbon_step_split_energy). */
static fp_step_t *three_node_step(fp_job_t *j, double e_n1, double e_n2)
{
	fp_step_t *st = fp_carbon_job_add_step(j, "42.0", T("00:00"),
					       T("01:00"), 10 * KWH);

	fp_carbon_step_add_node(st, "n1", 8, e_n1);
	fp_carbon_step_add_node(st, "n2", 8, e_n2);
	fp_carbon_step_add_node(st, "n4", 24, NAN);
	return st;
}

static void test_split_of_a_single_node_step_is_exact(void **s)
{
	fp_job_t *j = job_new("00:00", "01:00");
	fp_step_t *st = fp_carbon_job_add_step(j, "42.0", T("00:00"),
					       T("01:00"), 5 * KWH);

	fp_carbon_step_add_node(st, "n1", 32, NAN);
	assert_int_equal(fp_carbon_step_split_energy(st), 0);
	assert_string_equal(st->split, FP_SPLIT_EXACT);
	assert_float_equal(st->nodes[0].energy_j, 5 * KWH, 1e-6);
	fp_carbon_job_free(j);
}

static void test_split_with_min_and_max_of_two_nodes_is_exact(void **s)
{
	fp_job_t *j = job_new("00:00", "01:00");
	fp_step_t *st = fp_carbon_job_add_step(j, "42.0", T("00:00"),
					       T("01:00"), 10 * KWH);

	fp_carbon_step_add_node(st, "n1", 8, 7 * KWH);
	fp_carbon_step_add_node(st, "n4", 24, 3 * KWH);
	assert_int_equal(fp_carbon_step_split_energy(st), 0);
	assert_string_equal(st->split, FP_SPLIT_EXACT);
	assert_float_equal(st->nodes[0].energy_j, 7 * KWH, 1e-6);
	assert_float_equal(st->nodes[1].energy_j, 3 * KWH, 1e-6);
	fp_carbon_job_free(j);
}

static void test_split_of_three_nodes_shares_the_rest_by_cpus(void **s)
{
	fp_job_t *j = job_new("00:00", "01:00");
	fp_step_t *st = three_node_step(j, 6 * KWH, NAN);
	fp_error_t err = { 0 };
	fp_result_t *r;

	assert_int_equal(fp_carbon_step_split_energy(st), 0);
	assert_string_equal(st->split, FP_SPLIT_MINMAX);
	/* 4 kWh left for n2 (8 CPUs) and n4 (24 CPUs) */
	assert_float_equal(st->nodes[1].energy_j, 1 * KWH, 1e-6);
	assert_float_equal(st->nodes[2].energy_j, 3 * KWH, 1e-6);
	r = compute(j, &err);
	assert_non_null(r);
	assert_int_equal(r->nstep_results, 1);
	assert_string_equal(r->steps[0].split, FP_SPLIT_MINMAX);
	assert_float_equal(r->steps[0].energy_j, 10 * KWH, 1e-6);
	/* n1, n2 in paris (hour 0), n4 in lyon (80 g/kWh, PUE 1) */
	assert_float_equal(r->operational_g, 7.0 * PUE * I[0] + 3.0 * 1.0 * 80,
			   1e-6);
	fp_carbon_result_free(r);
	fp_carbon_job_free(j);
}

static void test_split_without_node_values_is_by_cpus(void **s)
{
	fp_job_t *j = job_new("00:00", "01:00");
	fp_step_t *st = three_node_step(j, NAN, NAN);

	assert_int_equal(fp_carbon_step_split_energy(st), 0);
	assert_string_equal(st->split, FP_SPLIT_CPUS);
	assert_float_equal(st->nodes[0].energy_j, 2 * KWH, 1e-6);
	assert_float_equal(st->nodes[2].energy_j, 6 * KWH, 1e-6);
	fp_carbon_job_free(j);
}

static void test_split_never_gives_a_node_negative_energy(void **s)
{
	fp_job_t *j = job_new("00:00", "01:00");
	fp_step_t *st = three_node_step(j, 6 * KWH, 5 * KWH);

	assert_int_equal(fp_carbon_step_split_energy(st), 0);
	assert_float_equal(st->nodes[2].energy_j, 0, 1e-9);
	fp_carbon_job_free(j);
}

static void test_split_of_a_step_without_energy_changes_nothing(void **s)
{
	fp_job_t *j = job_new("00:00", "01:00");
	fp_step_t *st =
		fp_carbon_job_add_step(j, "42.0", T("00:00"), T("01:00"), NAN);

	fp_carbon_step_add_node(st, "n1", 8, NAN);
	fp_carbon_step_add_node(st, "n2", 8, NAN);
	assert_int_equal(fp_carbon_step_split_energy(st), -1);
	assert_null(st->split);
	assert_true(isnan(st->nodes[0].energy_j));
	fp_carbon_job_free(j);
}

static void test_node_energies_contradicting_the_total_are_incomplete(void **s)
{
	fp_job_t *j = job_new("00:00", "01:00");
	fp_step_t *st = fp_carbon_job_add_step(j, "42.0", T("00:00"),
					       T("01:00"), 10 * KWH);
	fp_error_t err = { 0 };
	fp_result_t *r;

	fp_carbon_step_add_node(st, "n1", 16, 0.5 * KWH);
	fp_carbon_step_add_node(st, "n2", 16, 1.5 * KWH);
	r = compute(j, &err);
	assert_non_null(r);
	assert_false(r->complete);
	assert_int_equal(r->nincomplete, 1);
	assert_non_null(strstr(r->incomplete[0],
			       "step 42.0: its nodes' "
			       "energies sum to 7200000 J, its total is "
			       "36000000 J"));
	fp_carbon_result_free(r);
	fp_carbon_job_free(j);
}

static void test_node_energies_within_rounding_of_the_total_agree(void **s)
{
	fp_job_t *j = job_new("00:00", "01:00");
	fp_step_t *st = fp_carbon_job_add_step(j, "42.0", T("00:00"),
					       T("01:00"), 2 * KWH + 2);
	fp_error_t err = { 0 };
	fp_result_t *r;

	fp_carbon_step_add_node(st, "n1", 16, 0.5 * KWH);
	fp_carbon_step_add_node(st, "n2", 16, 1.5 * KWH);
	r = compute(j, &err);
	assert_non_null(r);
	assert_true(r->complete);
	fp_carbon_result_free(r);
	fp_carbon_job_free(j);
}

static void test_an_energy_above_the_bound_is_refused(void **s)
{
	fp_job_t *j = job_new("00:00", "01:00");
	fp_step_t *st = fp_carbon_job_add_step(j, "42.0", T("00:00"),
					       T("01:00"), 1e308);
	fp_error_t err = { 0 };

	fp_carbon_step_add_node(st, "n1", 16, 1e308);
	assert_null(compute(j, &err));
	assert_non_null(strstr(err.msg, "step 42.0: energy 1e+308 J is above "
					"1e+15 J"));
	fp_carbon_job_free(j);
}

static void test_a_node_with_zero_cpus_is_refused(void **s)
{
	fp_job_t *j = job_new("00:00", "01:00");
	fp_step_t *st =
		fp_carbon_job_add_step(j, "42.0", T("00:00"), T("01:00"), KWH);
	fp_error_t err = { 0 };

	fp_carbon_step_add_node(st, "n1", 0, NAN);
	assert_null(compute(j, &err));
	assert_non_null(strstr(err.msg, "node n1 has 0 CPUs"));
	fp_carbon_job_free(j);
	j = job_new("00:00", "01:00");
	st = fp_carbon_job_add_step(j, "42.0", T("00:00"), T("01:00"), KWH);
	fp_carbon_step_add_node(st, "n1", 4, NAN);
	fp_carbon_job_add_node(j, "n1", 0);
	assert_null(compute(j, &err));
	assert_non_null(strstr(err.msg, "job 42: node n1 has 0 CPUs"));
	fp_carbon_job_free(j);
}

static void test_a_job_of_zero_seconds_is_incomplete(void **s)
{
	fp_job_t *j = job_new("00:00", NULL);
	fp_step_t *st =
		fp_carbon_job_add_step(j, "42.0", T("00:00"), T("00:00"), 100);
	fp_error_t err = { 0 };
	fp_result_t *r;

	fp_carbon_step_add_node(st, "n1", 4, NAN);
	r = compute(j, &err);
	assert_non_null(r);
	assert_false(r->complete);
	assert_non_null(strstr(r->incomplete[0], "the job lasted 0 s"));
	fp_carbon_result_free(r);
	fp_carbon_job_free(j);
}

static void test_a_job_without_steps_is_incomplete(void **s)
{
	fp_job_t *j = job_new("00:00", "01:00");
	fp_error_t err = { 0 };
	fp_result_t *r = compute(j, &err);

	assert_non_null(r);
	assert_false(r->complete);
	assert_non_null(strstr(r->incomplete[0], "no step: no energy counted"));
	assert_true(isnan(r->intensity)); /* summary null, text '-' */
	fp_carbon_result_free(r);
	fp_carbon_job_free(j);
}

/* A site q of nodes n1 and n2 on the series rows (plain "time,value"
 * lines), keys added to its Site line. */
static fp_config_t *series_config(const char *rows, const char *keys)
{
	char path[128], conf[512];
	fp_error_t err = { 0 };
	fp_config_t *c;
	FILE *f;

	snprintf(path, sizeof(path), "%s/quarters.csv", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(rows, f);
	fclose(f);
	/* The key before Intensity=: the order on the line does not matter. */
	snprintf(conf, sizeof(conf),
		 "Site=q Nodes=n1,n2 %s "
		 "Intensity=file:%s\n"
		 "NodeType=h1 Nodes=n1,n2 Embodied=1000 Lifetime=5 CPUs=32\n"
		 "Reference=std PUE=1.5 Intensity=300\n",
		 keys ? keys : "", path);
	c = fp_config_parse("/etc/footprint.conf", conf, strlen(conf), &err);
	assert_non_null(c);
	assert_int_equal(fp_config_load_series(c, &err), 0);
	return c;
}

/* A site on a 15-min series (eco2mix's resolution): quarters 00:00 40,
 * 00:15 44, 00:30 48, 00:45 60, 01:00 80 g/kWh (up to 01:15). */
static fp_config_t *quarter_config(const char *keys)
{
	return series_config("2024-01-15T00:00:00Z,40\n"
			     "2024-01-15T00:15:00Z,44\n"
			     "2024-01-15T00:30:00Z,48\n"
			     "2024-01-15T00:45:00Z,60\n"
			     "2024-01-15T01:00:00Z,80\n",
			     keys);
}

/* The quarters 00:00 40, 00:15 44, 00:30 48, then nothing published for
 * 75 min (00:45 to 02:00: 90 min between rows is a gap, never bridged),
 * then 02:00 80, 02:15 90 (up to 02:30). */
static fp_config_t *gap_config(const char *keys)
{
	return series_config("2024-01-15T00:00:00Z,40\n"
			     "2024-01-15T00:15:00Z,44\n"
			     "2024-01-15T00:30:00Z,48\n"
			     "2024-01-15T02:00:00Z,80\n"
			     "2024-01-15T02:15:00Z,90\n",
			     keys);
}

/* One step 00:10 to 01:05 (55 min) using 1.1 kWh at constant power:
 * 0.02 kWh a minute. */
static double quarter_job_operational(fp_config_t *c)
{
	fp_job_t *j = job_new("00:10", "01:05");
	fp_step_t *st = fp_carbon_job_add_step(j, "42.0", T("00:10"),
					       T("01:05"), 1.1 * KWH);
	fp_error_t err = { 0 };
	fp_result_t *r;
	double g;

	fp_carbon_step_add_node(st, "n1", 4, NAN);
	r = fp_carbon_compute(c, j, fp_config_hostlist_match_plain, NULL, &err);
	assert_non_null(r);
	g = r->operational_g;
	fp_carbon_result_free(r);
	fp_carbon_job_free(j);
	return g;
}

static void
test_a_job_over_a_15_min_series_equals_the_quarters_by_hand(void **s)
{
	fp_config_t *c = quarter_config(NULL);

	/* By hand, quarter by quarter (PUE 1), 0.02 kWh a minute:
	 *   00:10-00:15  5 min 0.1 kWh x 40 =  4.0 g
	 *   00:15-00:30 15 min 0.3 kWh x 44 = 13.2 g
	 *   00:30-00:45 15 min 0.3 kWh x 48 = 14.4 g
	 *   00:45-01:00 15 min 0.3 kWh x 60 = 18.0 g
	 *   01:00-01:05  5 min 0.1 kWh x 80 =  8.0 g
	 *                                      57.6 g */
	assert_float_equal(quarter_job_operational(c), 57.6, 1e-9);
	fp_config_free(c);
}

static void test_intensity_resolution_hour_uses_hourly_means(void **s)
{
	fp_config_t *c = quarter_config("IntensityResolution=hour");

	/* Hour 00: (40 + 44 + 48 + 60) / 4 = 48, 50 min 1.0 kWh = 48 g;
	 * hour 01: 80, 5 min 0.1 kWh = 8 g; 56 g (not the 57.6 g above). */
	assert_float_equal(quarter_job_operational(c), 56.0, 1e-9);
	fp_config_free(c);
}

/* 00:50 to 01:30 using 0.8 kWh (0.02 kWh a minute); the series ends at
 * 01:15. */
static fp_job_t *late_job(void)
{
	fp_job_t *j = job_new("00:50", "01:30");

	fp_carbon_step_add_node(fp_carbon_job_add_step(j, "42.0", T("00:50"),
						       T("01:30"), 0.8 * KWH),
				"n1", 4, NAN);
	return j;
}

static void test_a_job_past_the_series_end_is_not_covered(void **s)
{
	fp_config_t *c = quarter_config("IntensityFallback=last");
	fp_job_t *j = late_job();
	fp_error_t err = { 0 };
	time_t until = 0;

	assert_false(fp_carbon_series_cover(
		c, j, fp_config_hostlist_match_plain, NULL, &until));
	assert_int_equal(until, T("01:15"));
	/* while the worker waits, no fallback: no figure */
	assert_null(fp_carbon_compute(c, j, fp_config_hostlist_match_plain,
				      NULL, &err));
	assert_non_null(strstr(err.msg, "no value for 2024-01-15T01:15:00Z"));
	fp_carbon_job_free(j);
	fp_config_free(c);
}

static void
test_fallback_last_fills_the_end_and_is_named_with_its_share(void **s)
{
	fp_config_t *c = quarter_config("IntensityFallback=last");
	fp_job_t *j = late_job();
	fp_error_t err = { 0 };
	fp_result_t *r;
	char *json;

	j->intensity_fallback = true;
	r = fp_carbon_compute(c, j, fp_config_hostlist_match_plain, NULL, &err);
	assert_non_null(r);
	/* 00:50-01:00 0.2 kWh x 60 = 12 g; 01:00-01:15 0.3 kWh x 80 = 24 g;
	 * 01:15-01:30 filled with the last value: 0.3 kWh x 80 = 24 g */
	assert_float_equal(r->operational_g, 60, 1e-9);
	/* the reference's own constant grid needs no fill: 0.8 x 1.5 x 300 */
	assert_float_equal(r->reference_operational_g, 360, 1e-9);
	assert_true(r->complete);
	assert_true(r->sites[0].fallback_used);
	assert_string_equal(r->sites[0].fallback, "last");
	assert_int_equal(r->sites[0].fallback_first, T("01:15"));
	assert_int_equal(r->sites[0].fallback_end, T("01:30"));
	assert_float_equal(r->sites[0].fallback_energy_j, 0.3 * KWH, 1e-6);
	assert_int_equal(r->sites[0].fallback_s, 15 * 60);
	json = fp_summary_dumps(r, &err);
	assert_non_null(json);
	assert_non_null(strstr(json,
			       "\"fallback\":{\"end\":"
			       "\"2024-01-15T01:30:00Z\",\"energy_share\":"
			       "0.375,\"first\":\"2024-01-15T01:15:00Z\","
			       "\"hours\":0.25,\"method\":\"last\"}"));
	free(json);
	fp_carbon_result_free(r);
	fp_carbon_job_free(j);
	fp_config_free(c);
}

static void test_a_covered_job_names_no_fallback(void **s)
{
	fp_config_t *c = quarter_config("IntensityFallback=last");
	fp_job_t *j = job_new("00:10", "01:05");
	fp_error_t err = { 0 };
	fp_result_t *r;
	char *json;
	time_t until = 0;

	fp_carbon_step_add_node(fp_carbon_job_add_step(j, "42.0", T("00:10"),
						       T("01:05"), 1.1 * KWH),
				"n1", 4, NAN);
	assert_true(fp_carbon_series_cover(c, j, fp_config_hostlist_match_plain,
					   NULL, &until));
	j->intensity_fallback = true;
	r = fp_carbon_compute(c, j, fp_config_hostlist_match_plain, NULL, &err);
	assert_non_null(r);
	assert_float_equal(r->operational_g, 57.6, 1e-9);
	assert_false(r->sites[0].fallback_used);
	json = fp_summary_dumps(r, &err);
	assert_null(strstr(json, "fallback"));
	free(json);
	fp_carbon_result_free(r);
	fp_carbon_job_free(j);
	fp_config_free(c);
}

/* 00:10 to 02:20 using 2.6 kWh (0.02 kWh a minute), over the gap. */
static fp_job_t *gap_job(void)
{
	fp_job_t *j = job_new("00:10", "02:20");

	fp_carbon_step_add_node(fp_carbon_job_add_step(j, "42.0", T("00:10"),
						       T("02:20"), 2.6 * KWH),
				"n1", 4, NAN);
	return j;
}

static void test_a_gap_inside_a_job_is_not_covered(void **s)
{
	fp_config_t *c = gap_config("IntensityFallback=last");
	fp_job_t *j = gap_job();
	fp_error_t err = { 0 };
	time_t until = 0;

	/* The series' end (02:30) is past the job's (02:20): the gap alone
	 * makes it wait, then fall back (rows are only appended: a gap
	 * never fills). */
	assert_false(fp_carbon_series_cover(
		c, j, fp_config_hostlist_match_plain, NULL, &until));
	assert_int_equal(until, T("00:45"));
	assert_null(fp_carbon_compute(c, j, fp_config_hostlist_match_plain,
				      NULL, &err));
	assert_non_null(strstr(err.msg, "no value for 2024-01-15T00:45:00Z"));
	fp_carbon_job_free(j);
	fp_config_free(c);
}

static void
test_fallback_last_fills_a_gap_inside_the_job_with_its_share(void **s)
{
	fp_config_t *c = gap_config("IntensityFallback=last");
	fp_job_t *j = gap_job();
	fp_error_t err = { 0 };
	fp_result_t *r;
	char *json;

	j->intensity_fallback = true;
	r = fp_carbon_compute(c, j, fp_config_hostlist_match_plain, NULL, &err);
	assert_non_null(r);
	/* 00:10-00:15 0.1 kWh x 40 = 4 g; 00:15-00:30 0.3 x 44 = 13.2 g;
	 * 00:30-00:45 0.3 x 48 = 14.4 g; the gap 00:45-02:00 filled with the
	 * last value before it: 1.5 kWh x 48 = 72 g; 02:00-02:15 0.3 x 80 =
	 * 24 g; 02:15-02:20 0.1 x 90 = 9 g */
	assert_float_equal(r->operational_g, 136.6, 1e-9);
	assert_true(r->complete);
	assert_true(r->sites[0].fallback_used);
	assert_string_equal(r->sites[0].fallback, "last");
	assert_int_equal(r->sites[0].fallback_first, T("00:45"));
	assert_int_equal(r->sites[0].fallback_end, T("02:00"));
	assert_int_equal(r->sites[0].fallback_s, 75 * 60);
	/* 75 of the 130 minutes at constant power */
	assert_float_equal(r->sites[0].fallback_energy_j, 1.5 * KWH, 1e-6);
	assert_float_equal(r->sites[0].fallback_energy_j / r->sites[0].energy_j,
			   75.0 / 130.0, 1e-12);
	json = fp_summary_dumps(r, &err);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"first\":\"2024-01-15T00:45:00Z\","
				     "\"hours\":1.25,\"method\":\"last\"}"));
	free(json);
	fp_carbon_result_free(r);
	fp_carbon_job_free(j);
	fp_config_free(c);
}

/* The quarters from 00:30: 48, 60, 80 (up to 01:15); a job 00:10 to 00:50
 * using 0.8 kWh (0.02 kWh a minute) starts 20 min before them. */
static fp_config_t *late_series_config(const char *keys)
{
	return series_config("2024-01-15T00:30:00Z,48\n"
			     "2024-01-15T00:45:00Z,60\n"
			     "2024-01-15T01:00:00Z,80\n",
			     keys);
}

static fp_job_t *early_job(void)
{
	fp_job_t *j = job_new("00:10", "00:50");

	fp_carbon_step_add_node(fp_carbon_job_add_step(j, "42.0", T("00:10"),
						       T("00:50"), 0.8 * KWH),
				"n1", 4, NAN);
	return j;
}

static void test_a_job_starting_before_the_series_is_not_covered(void **s)
{
	fp_config_t *c = late_series_config("IntensityFallback=monthly-mean");
	fp_job_t *j = early_job();
	time_t until = 0;

	assert_false(fp_carbon_series_cover(
		c, j, fp_config_hostlist_match_plain, NULL, &until));
	assert_int_equal(until, T("00:10"));
	fp_carbon_job_free(j);
	fp_config_free(c);
}

static void test_fallback_fills_a_job_starting_before_the_series(void **s)
{
	fp_config_t *c = late_series_config("IntensityFallback=monthly-mean");
	fp_job_t *j = early_job();
	fp_error_t err = { 0 };
	fp_result_t *r;

	j->intensity_fallback = true;
	r = fp_carbon_compute(c, j, fp_config_hostlist_match_plain, NULL, &err);
	assert_non_null(r);
	/* 00:10-00:30 filled with the series' mean, (48 + 60 + 80) / 3:
	 * 0.4 kWh x 188 / 3; 00:30-00:45 0.3 x 48 = 14.4 g; 00:45-00:50
	 * 0.1 x 60 = 6 g */
	assert_float_equal(r->operational_g, 0.4 * 188 / 3 + 14.4 + 6, 1e-9);
	assert_true(r->complete);
	assert_string_equal(r->sites[0].fallback, "monthly-mean");
	assert_int_equal(r->sites[0].fallback_first, T("00:10"));
	assert_int_equal(r->sites[0].fallback_end, T("00:30"));
	assert_int_equal(r->sites[0].fallback_s, 20 * 60);
	assert_float_equal(r->sites[0].fallback_energy_j / r->sites[0].energy_j,
			   0.5, 1e-12);
	fp_carbon_result_free(r);
	fp_carbon_job_free(j);
	fp_config_free(c);
}

/* IntensityFallback=last has nothing before the series' first value: the
 * error says so (the summary is then incomplete); the other methods fill. */
static void test_fallback_last_before_the_series_start_has_no_value(void **s)
{
	fp_config_t *c = late_series_config("IntensityFallback=last");
	fp_job_t *j = early_job();
	fp_error_t err = { 0 };

	j->intensity_fallback = true;
	assert_null(fp_carbon_compute(c, j, fp_config_hostlist_match_plain,
				      NULL, &err));
	assert_non_null(strstr(err.msg, "no value before 2024-01-15T00:10:00Z "
					"for IntensityFallback=last"));
	fp_carbon_job_free(j);
	fp_config_free(c);
}

static void test_fallback_hours_are_the_time_filled_not_the_span(void **s)
{
	fp_config_t *c = gap_config("IntensityFallback=last");
	fp_job_t *j = job_new("00:10", "03:00");
	fp_step_t *st;
	fp_error_t err = { 0 };
	fp_result_t *r;
	char *json;

	/* 00:10 to 03:00 (170 min): the batch step on n1 and an srun on n1
	 * and n2 at the same time, 5.1 kWh in all (0.03 kWh a minute). The
	 * series has no value in the gap 00:45-02:00 (75 min) and past its
	 * end 02:30-03:00 (30 min): 105 min filled, 1.75 h, whereas the span
	 * 00:45-03:00 is 2.25 h. The three node shares fill the same times,
	 * counted once. */
	fp_carbon_step_add_node(fp_carbon_job_add_step(j, "42.batch",
						       T("00:10"), T("03:00"),
						       1.7 * KWH),
				"n1", 4, NAN);
	st = fp_carbon_job_add_step(j, "42.0", T("00:10"), T("03:00"),
				    3.4 * KWH);
	fp_carbon_step_add_node(st, "n1", 4, NAN);
	fp_carbon_step_add_node(st, "n2", 4, NAN);
	j->intensity_fallback = true;
	r = fp_carbon_compute(c, j, fp_config_hostlist_match_plain, NULL, &err);
	assert_non_null(r);
	assert_true(r->complete);
	assert_int_equal(r->nsites, 1);
	assert_int_equal(r->sites[0].fallback_first, T("00:45"));
	assert_int_equal(r->sites[0].fallback_end, T("03:00"));
	assert_int_equal(r->sites[0].fallback_s, 105 * 60);
	/* 105 of 170 min of 5.1 kWh */
	assert_float_equal(r->sites[0].fallback_energy_j, 3.15 * KWH, 1e-6);
	/* 0.15 kWh x 40 + 0.45 x 44 + 0.45 x 48 + the gap 2.25 x 48 (last)
	 * + 0.45 x 80 + 0.45 x 90 + the end 0.9 x 90 (last) */
	assert_float_equal(r->operational_g,
			   6 + 19.8 + 21.6 + 108 + 36 + 40.5 + 81, 1e-9);
	json = fp_summary_dumps(r, &err);
	assert_non_null(json);
	assert_non_null(strstr(json, "\"first\":\"2024-01-15T00:45:00Z\","
				     "\"hours\":1.75,\"method\":\"last\"}"));
	free(json);
	fp_carbon_result_free(r);
	fp_carbon_job_free(j);
	fp_config_free(c);
}

/* Steps on each side of the gap, each from a first value to an end of
 * the series (ends excluded): covered, no wait. */
static void test_steps_that_miss_the_gap_are_covered(void **s)
{
	fp_config_t *c = gap_config("IntensityFallback=last");
	fp_job_t *j = job_new("00:00", "00:45");
	time_t until = 0;

	fp_carbon_step_add_node(fp_carbon_job_add_step(j, "42.0", T("00:00"),
						       T("00:45"), KWH),
				"n1", 4, NAN);
	fp_carbon_step_add_node(fp_carbon_job_add_step(j, "42.1", T("02:00"),
						       T("02:30"), KWH),
				"n2", 4, NAN);
	assert_true(fp_carbon_series_cover(c, j, fp_config_hostlist_match_plain,
					   NULL, &until));
	fp_carbon_job_free(j);
	fp_config_free(c);
}

/* Sites ok (constant 50 g/kWh) and bad (a series file that is missing). */
static fp_config_t *broken_config(fp_error_t *err)
{
	const char conf[] = "Site=ok Nodes=n1 Intensity=50\n"
			    "Site=bad Nodes=n2 Intensity=file:/no/fr.csv\n"
			    "NodeType=h1 Nodes=n1,n2 Embodied=1000 "
			    "Lifetime=5 CPUs=32\n";
	fp_config_t *c =
		fp_config_parse("/etc/footprint.conf", conf, strlen(conf), err);

	assert_non_null(c);
	assert_int_equal(fp_config_load_series(c, err), -1);
	return c;
}

static void test_a_broken_series_leaves_out_only_its_site(void **s)
{
	fp_error_t err = { 0 };
	fp_config_t *c = broken_config(&err);
	fp_job_t *j = job_new("00:00", "01:00");
	fp_step_t *st = fp_carbon_job_add_step(j, "42.0", T("00:00"),
					       T("01:00"), 2 * KWH);
	fp_result_t *r;

	fp_carbon_step_add_node(st, "n1", 4, NAN);
	fp_carbon_step_add_node(st, "n2", 4, NAN);
	r = fp_carbon_compute(c, j, fp_config_hostlist_match_plain, NULL, &err);
	assert_non_null(r);
	/* n1's half is counted at its site's 50 g/kWh */
	assert_float_equal(r->energy_it_j, KWH, 1e-6);
	assert_float_equal(r->operational_g, 50, 1e-9);
	assert_float_equal(r->embodied_g, EMB_G_PER_S * 3600 * 4 / 32, 1e-9);
	assert_int_equal(r->nsites, 1);
	assert_string_equal(r->sites[0].site, "ok");
	assert_int_equal(r->nnodes, 1);
	assert_false(r->complete);
	assert_int_equal(r->nincomplete, 1);
	assert_non_null(strstr(r->incomplete[0], "site bad: not counted"));
	assert_non_null(strstr(r->incomplete[0],
			       "/etc/footprint.conf:2: "
			       "Site 'bad': field 'Intensity': /no/fr.csv: "
			       "cannot open"));
	fp_carbon_result_free(r);
	fp_carbon_job_free(j);
	fp_config_free(c);
}

static void test_a_job_only_at_a_broken_site_is_incomplete_not_failed(void **s)
{
	fp_error_t err = { 0 };
	fp_config_t *c = broken_config(&err);
	fp_job_t *j = job_new("00:00", "01:00");
	fp_step_t *st =
		fp_carbon_job_add_step(j, "42.0", T("00:00"), T("01:00"), KWH);
	fp_result_t *r;

	fp_carbon_step_add_node(st, "n2", 4, NAN);
	st = fp_carbon_job_add_step(j, "42.1", T("00:00"), T("01:00"), KWH);
	fp_carbon_step_add_node(st, "n2", 4, NAN);
	r = fp_carbon_compute(c, j, fp_config_hostlist_match_plain, NULL, &err);
	assert_non_null(r);
	assert_false(r->complete);
	/* said once for the site, not once per step */
	assert_int_equal(r->nincomplete, 1);
	assert_non_null(strstr(r->incomplete[0], "site bad: not counted"));
	assert_int_equal(r->nsteps_counted, 0);
	assert_int_equal(r->nstep_results, 0);
	assert_float_equal(r->energy_it_j, 0, 0);
	assert_true(isnan(r->intensity)); /* summary null, text '-' */
	fp_carbon_result_free(r);
	fp_carbon_job_free(j);
	fp_config_free(c);
}

static void
test_job_description_energy_above_the_bound_names_the_field(void **s)
{
	const char step[] =
		"{\"job_id\": 7, \"start\": 0, \"end\": 3600, \"steps\": "
		"[{\"id\": \"7.0\", \"start\": 0, \"end\": 3600, "
		"\"energy_j\": 1e308, \"nodes\": [{\"name\": \"n1\", "
		"\"cpus\": 4}]}]}";
	const char node[] =
		"{\"job_id\": 7, \"start\": 0, \"end\": 3600, \"steps\": "
		"[{\"id\": \"7.0\", \"start\": 0, \"end\": 3600, "
		"\"energy_j\": 10, \"nodes\": [{\"name\": \"n1\", "
		"\"cpus\": 4, \"energy_j\": 1.7e308}]}]}";
	fp_error_t err = { 0 };

	assert_null(
		fp_carbon_job_from_json("job.json", step, strlen(step), &err));
	assert_string_equal(err.msg,
			    "job.json: field 'steps[0].energy_j': "
			    "1e+308 J is above 1e+15 J, more than any step "
			    "uses");
	assert_null(
		fp_carbon_job_from_json("job.json", node, strlen(node), &err));
	assert_non_null(strstr(err.msg,
			       "job.json: field "
			       "'steps[0].nodes[0].energy_j': 1.7e+308 J is "
			       "above 1e+15 J"));
}

static void test_job_description_with_zero_cpus_names_the_field(void **s)
{
	const char step[] =
		"{\"job_id\": 7, \"start\": 0, \"end\": 3600, \"steps\": "
		"[{\"id\": \"7.0\", \"start\": 0, \"end\": 3600, "
		"\"energy_j\": 10, \"nodes\": [{\"name\": \"n1\", "
		"\"cpus\": 0}]}]}";
	const char job[] = "{\"job_id\": 7, \"start\": 0, \"end\": 3600, "
			   "\"nodes\": [{\"name\": \"n1\", \"cpus\": 0}], "
			   "\"steps\": []}";
	fp_error_t err = { 0 };

	assert_null(
		fp_carbon_job_from_json("job.json", step, strlen(step), &err));
	assert_string_equal(err.msg,
			    "job.json: field "
			    "'steps[0].nodes[0].cpus': must be 1..16777216, "
			    "not 0");
	assert_null(
		fp_carbon_job_from_json("job.json", job, strlen(job), &err));
	assert_string_equal(err.msg, "job.json: field 'nodes[0].cpus': must "
				     "be 1..16777216, not 0");
}

/* 53fac33 compared each step's id with every earlier one: 100k steps took
 * 18.6 s, 200k four times that. Linear, they take well under a second;
 * the bound is CPU time, far from both, so a loaded machine passes. */
static void test_compute_of_200k_steps_is_not_quadratic(void **s)
{
	enum { N = 200000 };
	fp_job_t *j = job_new("00:00", "04:00");
	fp_error_t err = { 0 };
	fp_result_t *r;
	clock_t t0;
	double cpu_s;

	for (int i = 0; i < N; i++) {
		char id[32];
		fp_step_t *st;

		snprintf(id, sizeof(id), "42.%d", i);
		st = fp_carbon_job_add_step(j, id, T("00:00"),
					    T("00:00") + 1 + i % 3, 1.0);
		assert_non_null(st);
		fp_carbon_step_add_node(st, i % 2 ? "n1" : "n2", 4, NAN);
	}
	t0 = clock();
	r = compute(j, &err);
	cpu_s = (double)(clock() - t0) / CLOCKS_PER_SEC;
	assert_non_null(r);
	assert_int_equal(r->nsteps_counted, N);
	assert_float_equal(r->energy_it_j, N, 1e-6);
	assert_true(cpu_s < 5.0);
	fp_carbon_result_free(r);
	fp_carbon_job_free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_step_energy_is_spread_over_the_hours_it_spans),
		cmocka_unit_test(
			test_step_lasting_centuries_is_refused_at_once),
		cmocka_unit_test(test_step_energy_is_split_by_allocated_cpus),
		cmocka_unit_test(test_per_node_energy_wins_over_the_cpu_split),
		cmocka_unit_test(
			test_embodied_is_lifetime_share_times_cpu_share),
		cmocka_unit_test(
			test_avoided_emissions_stay_out_of_the_footprint),
		cmocka_unit_test(test_summer_heat_displaces_nothing),
		cmocka_unit_test(test_reference_uses_its_pue_and_intensity),
		cmocka_unit_test(test_ratios_pue_erf_ere_and_per_core_hour),
		cmocka_unit_test(
			test_missing_step_energy_makes_the_result_incomplete),
		cmocka_unit_test(test_a_step_listed_twice_is_rejected),
		cmocka_unit_test(test_a_step_outside_the_series_is_an_error),
		cmocka_unit_test(test_a_node_in_no_site_is_an_error),
		cmocka_unit_test(test_a_node_without_node_type_is_incomplete),
		cmocka_unit_test(test_more_cpus_than_the_node_has_is_rejected),
		cmocka_unit_test(test_job_description_json_is_read),
		cmocka_unit_test(
			test_node_energies_contradicting_the_total_are_incomplete),
		cmocka_unit_test(
			test_node_energies_within_rounding_of_the_total_agree),
		cmocka_unit_test(test_an_energy_above_the_bound_is_refused),
		cmocka_unit_test(test_a_node_with_zero_cpus_is_refused),
		cmocka_unit_test(test_a_job_of_zero_seconds_is_incomplete),
		cmocka_unit_test(test_a_job_without_steps_is_incomplete),
		cmocka_unit_test(
			test_a_job_over_a_15_min_series_equals_the_quarters_by_hand),
		cmocka_unit_test(
			test_intensity_resolution_hour_uses_hourly_means),
		cmocka_unit_test(test_a_job_past_the_series_end_is_not_covered),
		cmocka_unit_test(
			test_fallback_last_fills_the_end_and_is_named_with_its_share),
		cmocka_unit_test(test_a_covered_job_names_no_fallback),
		cmocka_unit_test(test_a_gap_inside_a_job_is_not_covered),
		cmocka_unit_test(
			test_fallback_last_fills_a_gap_inside_the_job_with_its_share),
		cmocka_unit_test(
			test_a_job_starting_before_the_series_is_not_covered),
		cmocka_unit_test(
			test_fallback_fills_a_job_starting_before_the_series),
		cmocka_unit_test(
			test_fallback_last_before_the_series_start_has_no_value),
		cmocka_unit_test(
			test_fallback_hours_are_the_time_filled_not_the_span),
		cmocka_unit_test(test_steps_that_miss_the_gap_are_covered),
		cmocka_unit_test(test_a_broken_series_leaves_out_only_its_site),
		cmocka_unit_test(
			test_a_job_only_at_a_broken_site_is_incomplete_not_failed),
		cmocka_unit_test(
			test_job_description_energy_above_the_bound_names_the_field),
		cmocka_unit_test(
			test_job_description_with_zero_cpus_names_the_field),
		cmocka_unit_test(test_compute_of_200k_steps_is_not_quadratic),
		cmocka_unit_test(test_job_description_error_names_the_field),
		cmocka_unit_test(test_split_of_a_single_node_step_is_exact),
		cmocka_unit_test(
			test_split_with_min_and_max_of_two_nodes_is_exact),
		cmocka_unit_test(
			test_split_of_three_nodes_shares_the_rest_by_cpus),
		cmocka_unit_test(test_split_without_node_values_is_by_cpus),
		cmocka_unit_test(test_split_never_gives_a_node_negative_energy),
		cmocka_unit_test(
			test_split_of_a_step_without_energy_changes_nothing),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
