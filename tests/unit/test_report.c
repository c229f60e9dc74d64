/* Specification of lib/report: the job report, the mail section and the
 * aggregate table read from summaries and FP1 records; sacct-like times. */
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

#include "footprint/report.h"
#include "footprint/slurmconf.h"
#include "footprint/summary.h"

/* Times below are local: run the tests in UTC. */
static int utc(void **state)
{
	setenv("TZ", "UTC", 1);
	tzset();
	return 0;
}

/* 2024-01-15T12:34:56Z, a Monday. */
#define NOW ((time_t)1705322096)
#define DAY0 ((time_t)1705276800) /* 2024-01-15T00:00:00Z */

static time_t when(const char *s)
{
	fp_error_t err = { 0 };
	time_t t = 0;

	assert_int_equal(fp_report_parse_time(s, NOW, &t, &err), 0);
	return t;
}

static void test_time_accepts_iso_dates_and_times(void **state)
{
	assert_int_equal(when("2024-01-15"), DAY0);
	assert_int_equal(when("2024-01-15T08:30"), DAY0 + 8 * 3600 + 1800);
	assert_int_equal(when("2024-01-15T08:30:15"), DAY0 + 8 * 3600 + 1815);
}

static void test_time_accepts_now_and_relative_times(void **state)
{
	assert_int_equal(when("now"), NOW);
	assert_int_equal(when("now-1hour"), NOW - 3600);
	assert_int_equal(when("now-2days"), NOW - 2 * 86400);
	assert_int_equal(when("now-5minutes"), NOW - 300);
	assert_int_equal(when("now+1week"), NOW + 7 * 86400);
	assert_int_equal(when("now-30"), NOW - 30);
	assert_int_equal(when("NOW-3h"), NOW - 3 * 3600);
}

static void test_time_accepts_sacct_short_forms(void **state)
{
	assert_int_equal(when("today"), DAY0);
	assert_int_equal(when("midnight"), DAY0);
	assert_int_equal(when("noon"), DAY0 + 12 * 3600);
	assert_int_equal(when("08:30"), DAY0 + 8 * 3600 + 1800);
	assert_int_equal(when("01/14"), DAY0 - 86400);
	assert_int_equal(when("01/14/24"), DAY0 - 86400);
	assert_int_equal(when("01/14/2024"), DAY0 - 86400);
}

static void test_time_rejects_what_is_not_a_time_and_names_it(void **state)
{
	const char *bad[] = { "",
			      "yesterday",
			      "now-",
			      "now-1fortnight",
			      "2024-02-30",
			      "2024-13-01",
			      "2024-01-15T25:00",
			      "2024-01-15X",
			      "24-01-15",
			      "13/01",
			      "8.30" };
	fp_error_t err = { 0 };
	time_t t;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(fp_report_parse_time(bad[i], NOW, &t, &err),
				 -1);
		assert_non_null(strstr(err.msg, bad[i]));
	}
}

static void test_time_error_lists_exactly_the_forms_taken(void **state)
{
	/* Each form the parser takes, as the error spells it. */
	static const struct {
		const char *example, *spelled;
	} forms[] = {
		{ "2024-01-15T08:30:15", "YYYY-MM-DD[THH:MM[:SS]]" },
		{ "01/14/2024", "MM/DD[/YY|/YYYY]" },
		{ "08:30:15", "HH:MM[:SS]" },
		{ "today", "today" },
		{ "midnight", "midnight" },
		{ "noon", "noon" },
		{ "tomorrow", "tomorrow" },
		{ "now", " now " },
		{ "now+3", "now{+|-}N" },
		{ "now-3s", "[s|" },
		{ "now-3sec", "|sec|" },
		{ "now-3secs", "|secs|" },
		{ "now-3second", "|second|" },
		{ "now-3seconds", "|seconds|" },
		{ "now-3m", "|m|" },
		{ "now-3min", "|min|" },
		{ "now-3mins", "|mins|" },
		{ "now-3minute", "|minute|" },
		{ "now-3minutes", "|minutes|" },
		{ "now-3h", "|h|" },
		{ "now-3hour", "|hour|" },
		{ "now-3hours", "|hours|" },
		{ "now-3d", "|d|" },
		{ "now-3day", "|day|" },
		{ "now-3days", "|days|" },
		{ "now-3w", "|w|" },
		{ "now-3week", "|week|" },
		{ "now-3weeks", "|weeks]" },
		{ "now-3153600000", "N at most 3153600000" },
	};
	fp_error_t err = { 0 };
	time_t t;

	assert_int_equal(fp_report_parse_time("now-3153600001", NOW, &t, &err),
			 -1);
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		(void)when(forms[i].example);
		if (!strstr(err.msg, forms[i].spelled))
			fail_msg("'%s' is taken but the error does not say "
				 "'%s': %s",
				 forms[i].example, forms[i].spelled, err.msg);
	}
}

/* A result by hand: 2 kWh IT, PUE 1.2, heat reuse larger than the
 * footprint (net negative), simulated energy. */
static fp_result_t *result(void)
{
	fp_result_t *r = calloc(1, sizeof(*r));

	r->job_id = 4242;
	r->user = strdup("alice");
	r->account = strdup("proj");
	r->cluster = strdup("heaters");
	r->start = DAY0;
	r->end = DAY0 + 3600;
	r->elapsed_s = 3600;
	r->energy_source = FP_ENERGY_SIMULATED;
	r->complete = true;
	r->energy_it_j = 2 * 3.6e6;
	r->energy_facility_j = 2.4 * 3.6e6;
	r->reused_energy_j = 1.08 * 3.6e6;
	r->operational_g = 120;
	r->embodied_g = 5.5;
	r->footprint_g = 125.5;
	r->avoided_g = 245.16;
	r->net_g = 125.5 - 245.16;
	r->reference_g = 905.5;
	r->saved_g = 780;
	r->saved_with_heat_g = 905.5 - (125.5 - 245.16);
	r->saved_percent = 100 * r->saved_with_heat_g / 905.5;
	r->pue = 1.2;
	r->core_hours = 32;
	r->per_core_hour_g = 125.5 / 32;
	r->intensity = 50;
	r->reference_name = strdup("standard-datacenter");
	r->reference_pue = 1.5;
	r->reference_intensity = strdup("site");
	snprintf(r->config_digest, sizeof(r->config_digest), "%064d", 7);
	return r;
}

static char *payload(fp_result_t *r)
{
	fp_error_t err = { 0 };
	char *s = fp_summary_dumps(r, &err);

	assert_non_null(s);
	return s;
}

static fp_report_t *report(void)
{
	fp_result_t *res = result();
	char *p = payload(res);
	fp_error_t err = { 0 };
	fp_report_t *r = fp_report_from_summary("4242.jws", p, &err);

	assert_non_null(r);
	free(p);
	fp_carbon_result_free(res);
	return r;
}

static void test_report_reads_the_summary_figures(void **state)
{
	fp_report_t *r = report();

	assert_int_equal(r->job_id, 4242);
	assert_false(r->from_record);
	assert_string_equal(r->user, "alice");
	assert_int_equal(r->source, FP_ENERGY_SIMULATED);
	assert_true(r->complete);
	assert_float_equal(r->energy_wh, 2400, 1e-9);
	assert_float_equal(r->energy_it_wh, 2000, 1e-9);
	assert_float_equal(r->footprint_g, 125.5, 1e-9);
	assert_float_equal(r->avoided_g, 245.16, 1e-9);
	assert_float_equal(r->net_g, -119.66, 1e-9);
	assert_float_equal(r->reference_g, 905.5, 1e-9);
	assert_float_equal(r->intensity, 50, 1e-9);
	fp_report_free(r);
}

static void test_report_text_has_every_figure_and_the_signature(void **state)
{
	fp_report_t *r = report();
	char *t = fp_report_text(r, "valid (kid abc, ES256)");

	assert_non_null(strstr(t, "Job ID: 4242\n"));
	assert_non_null(strstr(t, "Energy: 2000.000 Wh IT (7200000 J), "
				  "2400.000 Wh facility (8640000 J); "
				  "simulated by fp-simnode, not a "
				  "measurement\n"));
	assert_non_null(strstr(t, "Operational: 120.000 gCO2e"));
	assert_non_null(strstr(t, "Embodied: 5.500 gCO2e"));
	assert_non_null(strstr(t, "Footprint: 125.500 gCO2e"));
	assert_non_null(strstr(t, "Avoided: 245.160 gCO2e by heat reuse"));
	assert_non_null(strstr(t, "separate"));
	assert_non_null(strstr(t, "Net: -119.660 gCO2e (footprint - "
				  "avoided"));
	assert_non_null(strstr(t, "reference 905.500 gCO2e; saved 780.000 "
				  "gCO2e (86.1 %); with heat reuse, saved "
				  "1025.160 gCO2e (113.2 %)\n"));
	assert_non_null(strstr(t, "Intensity used: 50.000 gCO2e/kWh"));
	assert_non_null(strstr(t, "Per core-hour: 3.922 gCO2e"));
	assert_non_null(strstr(t, "Completeness: complete\n"));
	assert_non_null(strstr(t, "Start/End: 2024-01-15T00:00:00 / "
				  "2024-01-15T01:00:00 (local time)\n"));
	assert_non_null(strstr(t, "Elapsed: 01:00:00 (32.000 core-hours)\n"));
	assert_non_null(strstr(t, "signature: valid (kid abc, ES256)\n"));
	free(t);
	fp_report_free(r);
}

static void test_report_lists_the_reasons_of_an_incomplete_job(void **state)
{
	fp_result_t *res = result();
	char *reasons[] = { "step 4242.0: no energy" }, *p, *t;
	fp_error_t err = { 0 };
	fp_report_t *r;

	res->complete = false;
	res->incomplete = reasons;
	res->nincomplete = 1;
	p = payload(res);
	res->incomplete = NULL;
	res->nincomplete = 0;
	r = fp_report_from_summary("x", p, &err);
	t = fp_report_text(r, "valid");
	assert_non_null(strstr(t, "Completeness: incomplete: step 4242.0: "
				  "no energy\n"));
	free(t);
	fp_report_free(r);
	free(p);
	fp_carbon_result_free(res);
}

static void test_report_reads_the_workers_incomplete_summary(void **state)
{
	const char *p = "{\"complete\":false,\"incomplete\":[\"series file "
			"missing\"],\"job_id\":77,\"schema_version\":1}";
	fp_error_t err = { 0 };
	fp_report_t *r = fp_report_from_summary("77.jws", p, &err);

	assert_non_null(r);
	assert_int_equal(r->job_id, 77);
	assert_false(r->complete);
	assert_string_equal(r->incomplete[0], "series file missing");
	assert_true(isnan(r->footprint_g));
	fp_report_free(r);
}

static void test_report_refuses_what_is_not_a_summary(void **state)
{
	fp_error_t err = { 0 };

	assert_null(fp_report_from_summary("bad.jws", "[1]", &err));
	assert_non_null(strstr(err.msg, "bad.jws"));
	assert_null(fp_report_from_summary("bad.jws", "{\"job\":{}}", &err));
	assert_non_null(strstr(err.msg, "no job id"));
}

static void test_report_from_a_record_derives_saved_with_heat(void **state)
{
	fp_record_t rec;
	fp_error_t err = { 0 };
	fp_report_t *r;
	char *t;

	assert_int_equal(
		fp_summary_record_parse(
			"x FP1:{\"Wh\":10,\"avoid\":3,"
			"\"cfg\":\"0123456789abcdef\",\"emb\":1,\"g\":2,\"job\":9,"
			"\"net\":-1,\"ok\":true,\"op\":1,\"ref\":4,\"saved\":2,"
			"\"src\":\"measured\",\"v\":1}",
			&rec, &err),
		0);
	r = fp_report_from_record(&rec, "bob", "lab", &err);
	assert_true(r->from_record);
	assert_float_equal(r->saved_with_heat_g, 5, 1e-9);
	assert_float_equal(r->saved_percent, 125, 1e-9);
	t = fp_report_text(r, "unsigned record only");
	assert_non_null(strstr(t, "User/Account: bob/lab"));
	assert_non_null(strstr(t, "Energy: 10.000 Wh facility (36000 J); "
				  "measured\n"));
	assert_non_null(strstr(t, "signature: unsigned record only"));
	free(t);
	fp_report_free(r);
}

static void test_mail_section_has_the_summary_figures(void **state)
{
	fp_report_t *r = report();
	char *m = fp_report_mail(r, "valid (kid abc, ES256)");

	assert_non_null(strstr(m, "job 4242"));
	assert_non_null(strstr(m, "energy:     2400.000 Wh (simulated by "
				  "fp-simnode"));
	assert_non_null(strstr(m, "footprint:  125.500 gCO2e\n"));
	assert_non_null(strstr(m, "avoided:    245.160 gCO2e by heat reuse "
				  "(separate"));
	assert_non_null(strstr(m, "net:        -119.660 gCO2e (footprint - "
				  "avoided)"));
	assert_non_null(strstr(m, "vs standard-datacenter: 905.500 gCO2e, "
				  "saved 780.000 gCO2e (86.1 %); with heat "
				  "reuse, saved 1025.160 gCO2e (113.2 %)\n"));
	assert_non_null(strstr(m, "  completeness: complete\n"));
	assert_non_null(strstr(m, "Details: sfootprint -j 4242\n"));
	free(m);
	fp_report_free(r);
}

static void test_mail_section_puts_the_parts_before_the_details(void **state)
{
	fp_report_t *r = report();
	char *m = fp_report_mail_with(r, "valid", "  by part:    x\n");
	char *parts, *details;

	assert_non_null(m);
	parts = strstr(m, "\n  by part:    x\n");
	details = strstr(m, "Details: sfootprint -j 4242\n");
	assert_non_null(parts);
	assert_non_null(details);
	assert_true(parts < details);
	assert_non_null(strstr(m, "signature:  valid\n  by part:"));
	free(m);
	fp_report_free(r);
}

static void test_mail_section_unavailable_says_how_to_get_it(void **state)
{
	char *m = fp_report_mail_unavailable(42, "no summary after 20 s");

	assert_non_null(strstr(m, "job 42: not available yet (no summary "
				  "after 20 s)"));
	assert_non_null(strstr(m, "sfootprint -j 42\n"));
	free(m);
	m = fp_report_mail_unavailable(42, NULL);
	assert_non_null(strstr(m, "not available yet.\n"));
	free(m);
}

static fp_report_table_t *table(void)
{
	fp_report_table_t *t = fp_report_table_new();
	fp_record_t a = { .complete = true,
			  .source = FP_ENERGY_SIMULATED,
			  .energy_wh = 1.5,
			  .footprint_g = 2,
			  .avoided_g = 3,
			  .net_g = -1,
			  .reference_g = 4 };
	fp_record_t b = a;
	fp_error_t err = { 0 };

	b.energy_wh = 0.25;
	b.complete = false;
	assert_int_equal(
		fp_report_table_add(t, "10", "alice", "p", &a, NULL, &err), 0);
	assert_int_equal(
		fp_report_table_add(t, "11_2", "bob", "q", &b, NULL, &err), 0);
	assert_int_equal(fp_report_table_add(t, "12", "carol", "p", NULL, NULL,
					     &err),
			 0);
	return t;
}

static void test_table_has_a_total_line_and_counts_jobs_without(void **s)
{
	fp_report_table_t *t = table();
	char *txt = fp_report_table_text(t, false);

	assert_non_null(strstr(txt, "JobID"));
	assert_non_null(strstr(txt, "Footprint(g)"));
	assert_non_null(strstr(txt, "TOTAL"));
	assert_non_null(strstr(txt, "1.750"));
	assert_non_null(strstr(txt, "simulated*"));
	assert_non_null(strstr(txt, "3 jobs: 2 with a footprint, 1 no "
				    "footprint, 1 incomplete"));
	assert_non_null(strstr(txt, "simulated energy in 2 jobs"));
	free(txt);
	fp_report_table_free(t);
}

static void test_table_parsable_is_pipe_separated_like_sacct(void **s)
{
	fp_report_table_t *t = table();
	char *txt = fp_report_table_text(t, true);

	assert_non_null(strstr(txt, "JobID|User|Account|EnergyWh|FootprintG|"
				    "AvoidedG|NetG|ReferenceG|Source|\n"));
	assert_non_null(strstr(txt, "\n10|alice|p|1.500|2.000|3.000|-1.000|"
				    "4.000|simulated|\n"));
	assert_non_null(strstr(txt, "\n12|carol|p|-|-|-|-|-|-|\n"));
	assert_non_null(strstr(txt, "\nTOTAL|||1.750|4.000|6.000|-2.000|"
				    "8.000|3 jobs, 1 no footprint|\n"));
	free(txt);
	fp_report_table_free(t);
}

static void test_table_json_totals(void **s)
{
	fp_report_table_t *t = table();
	json_t *o = fp_report_table_json(t), *tot = json_object_get(o, "total");

	assert_int_equal(json_array_size(json_object_get(o, "jobs")), 3);
	assert_float_equal(json_real_value(json_object_get(tot, "energy_Wh")),
			   1.75, 1e-9);
	assert_int_equal(
		json_integer_value(json_object_get(tot, "no_footprint")), 1);
	json_decref(o);
	fp_report_table_free(t);
}

static char dir[64];

static void write_file(const char *name, const char *text)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_conf_path_follows_option_env_jobcomploc_beside(void **s)
{
	char sc[128], buf[256];

	snprintf(dir, sizeof(dir), "/tmp/fp-report-test.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(sc, sizeof(sc), "%s/slurm.conf", dir);
	write_file("slurm.conf", "ClusterName=c1\nJobCompType=jobcomp/none\n"
				 "JobCompLoc=/x/footprint.conf\n");
	fp_report_conf_path("/a.conf", "/b.conf", sc, buf, sizeof(buf));
	assert_string_equal(buf, "/a.conf");
	fp_report_conf_path(NULL, "/b.conf", sc, buf, sizeof(buf));
	assert_string_equal(buf, "/b.conf");
	fp_report_conf_path(NULL, "", sc, buf, sizeof(buf));
	assert_string_equal(buf + strlen(dir), "/footprint.conf");
	write_file("slurm.conf",
		   "ClusterName=c1\n"
		   "JobCompType=jobcomp/carbon\nJobCompLoc=/x/fp.conf\n");
	fp_report_conf_path(NULL, NULL, sc, buf, sizeof(buf));
	assert_string_equal(buf, "/x/fp.conf");
	unlink(sc);
	rmdir(dir);
}

static void test_slurm_conf_is_found_as_slurms_commands_find_it(void **s)
{
	char *saved = getenv("SLURM_CONF") ? strdup(getenv("SLURM_CONF"))
					   : NULL;

	unsetenv("SLURM_CONF");
	assert_string_equal(fp_slurmconf_path(NULL), FP_SLURMCONF_DEFAULT);
	assert_string_equal(fp_slurmconf_path(""), FP_SLURMCONF_DEFAULT);
	setenv("SLURM_CONF", "/srv/slurm/slurm.conf", 1);
	assert_string_equal(fp_slurmconf_path(NULL), "/srv/slurm/slurm.conf");
	/* given wins over the environment */
	assert_string_equal(fp_slurmconf_path("/x/slurm.conf"),
			    "/x/slurm.conf");
	if (saved)
		setenv("SLURM_CONF", saved, 1);
	else
		unsetenv("SLURM_CONF");
	free(saved);
}

static void test_slurm_conf_keys_are_top_level_only(void **s)
{
	char sc[128], buf[64];
	fp_error_t err = { 0 };

	snprintf(dir, sizeof(dir), "/tmp/fp-report-test.XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(sc, sizeof(sc), "%s/slurm.conf", dir);
	write_file("slurm.conf", "# ClusterName=no\nNodeName=n1 CPUs=4\n"
				 "  clustername=\"heaters\" # the name\n");
	assert_int_equal(
		fp_slurmconf_get(sc, "ClusterName", buf, sizeof(buf), &err), 0);
	assert_string_equal(buf, "heaters");
	assert_int_equal(fp_slurmconf_get(sc, "CPUs", buf, sizeof(buf), &err),
			 1);
	unlink(sc);
	assert_int_equal(fp_slurmconf_get(sc, "ClusterName", buf, sizeof(buf),
					  &err),
			 -1);
	assert_non_null(strstr(err.msg, sc));
	rmdir(dir);
}

static void test_table_json_keeps_a_latin1_user_escaped(void **s)
{
	fp_report_table_t *t = fp_report_table_new();
	fp_record_t a = { .complete = true, .energy_wh = 1.5 };
	fp_error_t err = { 0 };
	json_t *j, *row;

	/* a name from sacct that is not UTF-8: jansson alone would drop the
	 * row from the table */
	assert_int_equal(fp_report_table_add(t, "10", "ren\xe9", "p", &a, NULL,
					     &err),
			 0);
	j = fp_report_table_json(t);
	assert_non_null(j);
	row = json_array_get(json_object_get(j, "jobs"), 0);
	assert_non_null(row);
	assert_string_equal(json_string_value(json_object_get(row, "user")),
			    "ren\\xe9");
	json_decref(j);
	fp_report_table_free(t);
}

static void test_record_report_json_keeps_a_latin1_account_escaped(void **s)
{
	fp_record_t rec = {
		.version = 1, .job_id = 7, .complete = true, .energy_wh = 1.5
	};
	fp_error_t err = { 0 };
	fp_report_t *r = fp_report_from_record(&rec, "bob", "caf\xe9", &err);
	json_t *j;

	assert_non_null(r);
	j = fp_report_json(r);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "account")),
			    "caf\\xe9");
	json_decref(j);
	fp_report_free(r);
}

/* -j, as sacct: a comma list, given once or repeated */

static void test_job_ids_take_a_comma_list_and_repeats_once_each(void **s)
{
	char *list = NULL;
	size_t n = 0;
	fp_error_t err = { 0 };

	assert_int_equal(fp_report_job_ids("1,2,3", &list, &n, &err), 0);
	assert_int_equal(fp_report_job_ids("3,007,42_5,9+1", &list, &n, &err),
			 0);
	assert_string_equal(list, "1,2,3,7,42_5,9+1");
	assert_int_equal(n, 6);
	free(list);
}

static void test_job_ids_refuse_what_is_not_a_job_id_naming_it(void **s)
{
	const char *bad[] = { "abc", "12x", "1,,2", "",	 "-5",
			      "1.0", "42_", "+1",   " 1" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *list = NULL;
		size_t n = 0;
		fp_error_t err = { 0 };

		assert_int_equal(fp_report_job_ids(bad[i], &list, &n, &err),
				 -1);
		assert_non_null(strstr(err.msg, "job id '"));
		assert_null(list);
		free(list);
	}
}

static void test_job_ids_refuse_ids_beyond_slurms_32_bits(void **s)
{
	const char *bad[] = { "0",
			      "4294967294",
			      "4294967295",
			      "4294967296",
			      "99999999999999999999999",
			      "1_4294967296" };
	char *list = NULL;
	size_t n = 0;
	fp_error_t err = { 0 };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(fp_report_job_ids(bad[i], &list, &n, &err),
				 -1);
		assert_non_null(strstr(err.msg, "out of Slurm's job ids"));
	}
	assert_int_equal(fp_report_job_ids("4294967293", &list, &n, &err), 0);
	assert_string_equal(list, "4294967293");
	free(list);
}

/* What accounting adds: seff's and sacct's figures */

static void test_cpu_efficiency_is_cpu_time_over_elapsed_times_cpus(void **s)
{
	fp_report_acct_t a = fp_report_acct_unknown();

	assert_true(isnan(fp_report_cpu_efficiency(&a)));
	a.elapsed_s = 100;
	a.alloc_cpus = 4;
	a.cpu_time_s = 300;
	assert_float_equal(fp_report_cpu_efficiency(&a), 75, 1e-9);
	a.elapsed_s = 0;
	assert_true(isnan(fp_report_cpu_efficiency(&a)));
}

static fp_report_t *report_with_acct(double job_j, double batch_j,
				     double step0_j)
{
	fp_report_t *r = report();
	fp_report_acct_step_t steps[2] = { { "batch", batch_j },
					   { "0", step0_j } };
	fp_report_acct_t a = fp_report_acct_unknown();
	fp_error_t err = { 0 };

	a.name = "train\x1b[2J";
	a.state = "FAILED";
	a.exit_code = 3;
	a.exit_signal = 0;
	a.start = DAY0;
	a.end = DAY0 + 3600;
	a.elapsed_s = 3600;
	a.alloc_cpus = 32;
	a.cpu_time_s = 3600 * 16;
	a.energy_j = job_j;
	a.steps = steps;
	a.nsteps = 2;
	assert_int_equal(fp_report_set_acct(r, &a, &err), 0);
	return r;
}

static void test_report_shows_state_exit_code_and_cpu_efficiency(void **s)
{
	fp_report_t *r = report_with_acct(7.2e6, 0, 7.2e6);
	char *t = fp_report_text(r, "valid");

	assert_non_null(strstr(t, "State: FAILED (exit code 3:0)\n"));
	assert_non_null(strstr(t, "CPU efficiency: 50.00 % of 1-08:00:00 "
				  "core-walltime (total CPU time 16:00:00, 32 "
				  "CPUs)\n"));
	assert_non_null(strstr(t, "Job name: train\\x1b[2J\n"));
	free(t);
	fp_report_free(r);
}

static void test_report_says_sacct_energy_equals_the_footprints(void **s)
{
	fp_report_t *r = report_with_acct(7.2e6, 0, 7.2e6);
	char *t = fp_report_text(r, "valid");

	assert_non_null(strstr(t, "sacct ConsumedEnergy: 7200000 J "
				  "(2000.000 Wh) on the job's row; steps: "
				  "batch 0 J, 0 7200000 J\n  = the "
				  "footprint's IT energy"));
	free(t);
	fp_report_free(r);
}

static void test_report_says_sacct_job_row_omits_the_batch_step(void **s)
{
	fp_report_t *r = report_with_acct(7.0e6, 2e5, 7.0e6);
	char *t = fp_report_text(r, "valid");

	assert_non_null(strstr(t, "sacct's job row omits the batch step "
				  "(200000 J); its steps add up to 7200000 "
				  "J\n"));
	assert_non_null(strstr(t, "the footprint's IT energy is the sum of "
				  "every step: 7200000 J = 2000.000 Wh\n"));
	free(t);
	fp_report_free(r);
}

static void test_report_says_when_sacct_has_no_energy_on_the_job_row(void **s)
{
	fp_report_t *r = report_with_acct(NAN, 7.2e6, NAN);
	char *t = fp_report_text(r, "valid");

	assert_non_null(strstr(t, "sacct ConsumedEnergy: - J (- Wh) on the "
				  "job's row; steps: batch 7200000 J, 0 - "
				  "J\n  sacct shows no energy on the job's "
				  "row"));
	assert_non_null(strstr(t, "its steps add up to 7200000 J\n  the "
				  "footprint's IT energy is the sum of every "
				  "step"));
	assert_null(strstr(t, "nan"));
	free(t);
	fp_report_free(r);
}

static void test_report_says_why_the_footprint_energy_differs(void **s)
{
	fp_report_t *r = report_with_acct(9e6, 0, 9e6);
	char *t = fp_report_text(r, "valid");

	assert_non_null(strstr(t, "the footprint's IT energy (7200000 J) "
				  "differs from sacct's steps (9000000 J): "
				  "it shares each node's measured energy"));
	free(t);
	fp_report_free(r);
}

static void test_report_without_accounting_says_why(void **s)
{
	fp_report_t *r = report();
	fp_error_t err = { 0 };
	char *t;

	assert_int_equal(fp_report_set_acct_note(r,
						 "slurmdbd: no "
						 "connection",
						 &err),
			 0);
	t = fp_report_text(r, "valid");
	assert_non_null(strstr(t, "State: - (no accounting record: slurmdbd: "
				  "no connection)\n"));
	assert_null(strstr(t, "sacct ConsumedEnergy"));
	free(t);
	fp_report_free(r);
}

/* Figures people read */

static void test_report_text_never_prints_nan_or_inf(void **s)
{
	const char *p = "{\"complete\":false,\"incomplete\":[\"no series\"],"
			"\"job\":{\"id\":77,\"start\":\"2024-01-15T00:00:00Z\","
			"\"end\":\"2024-01-15T00:00:00Z\",\"elapsed_s\":null},"
			"\"carbon\":{\"saved\":null,\"reference\":0,"
			"\"footprint\":null},\"schema_version\":1}";
	fp_error_t err = { 0 };
	fp_report_t *r = fp_report_from_summary("77.jws", p, &err);
	fp_report_acct_t a = fp_report_acct_unknown();
	char *t, *m;

	assert_non_null(r);
	assert_int_equal(fp_report_set_acct(r, &a, &err), 0);
	t = fp_report_text(r, "valid");
	m = fp_report_mail(r, "valid");
	assert_null(strstr(t, "nan"));
	assert_null(strstr(t, "inf"));
	assert_null(strstr(m, "nan"));
	assert_null(strstr(m, "inf"));
	assert_non_null(strstr(t, "Elapsed: - (- core-hours)\n"));
	assert_non_null(strstr(t, "CPU efficiency: - of - core-walltime"));
	assert_non_null(strstr(m, "  completeness: incomplete: no series\n"));
	free(t);
	free(m);
	fp_report_free(r);
}

static void test_report_says_more_than_the_reference_when_negative(void **s)
{
	fp_result_t *res = result();
	char *p, *t, *m;
	fp_error_t err = { 0 };
	fp_report_t *r;

	res->reference_g = 100;
	res->saved_g = 125.5 - 100 > 0 ? -(125.5 - 100) : 0;
	res->saved_with_heat_g = 100 - (125.5 - 245.16);
	p = payload(res);
	r = fp_report_from_summary("x", p, &err);
	t = fp_report_text(r, "valid");
	m = fp_report_mail(r, "valid");
	assert_non_null(strstr(t, "reference 100.000 gCO2e; 25.500 gCO2e "
				  "more than the reference (25.5 %); with "
				  "heat reuse, saved 219.660 gCO2e (219.7 "
				  "%)\n"));
	assert_non_null(strstr(m, "100.000 gCO2e, 25.500 gCO2e more than "
				  "the reference (25.5 %)"));
	assert_null(strstr(t, "saved -"));
	free(t);
	free(m);
	fp_report_free(r);
	free(p);
	fp_carbon_result_free(res);
}

static void test_report_escapes_control_characters_in_names(void **s)
{
	const char *p = "{\"complete\":true,\"job\":{\"id\":5,\"user\":"
			"\"a\\u001b]0;x\\u0007\",\"account\":\"l\\r\\nab\","
			"\"cluster\":\"c\\u009bk\"},\"schema_version\":1}";
	fp_error_t err = { 0 };
	fp_report_t *r = fp_report_from_summary("5.jws", p, &err);
	char *t = fp_report_text(r, "valid");
	json_t *j = fp_report_json(r);

	assert_non_null(strstr(t, "User/Account: a\\x1b]0;x\\x07/l\\x0d\\x0aab"
				  "\n"));
	assert_non_null(strstr(t, "Cluster: c\\xc2\\x9bk\n"));
	/* JSON keeps the name: its own escapes are safe */
	assert_string_equal(json_string_value(json_object_get(j, "user")),
			    "a\x1b]0;x\x07");
	json_decref(j);
	free(t);
	fp_report_free(r);
}

static void test_escape_keeps_utf8_and_writes_other_bytes_hex(void **s)
{
	char *e = fp_report_escape("caf\xc3\xa9 \\ ren\xe9\x7f");

	assert_string_equal(e, "caf\xc3\xa9 \\\\ ren\\xe9\\x7f");
	free(e);
	assert_null(fp_report_escape(NULL));
}

/* sacct's times: printed local, JSON in UTC */

static void test_times_print_local_as_sacct(void **s)
{
	char buf[32];

	assert_string_equal(fp_report_local_time(DAY0, buf, sizeof(buf)),
			    "2024-01-15T00:00:00");
	setenv("TZ", "CET-1", 1);
	tzset();
	assert_string_equal(fp_report_local_time(DAY0, buf, sizeof(buf)),
			    "2024-01-15T01:00:00");
	assert_int_equal(fp_report_parse_utc("2024-01-15T00:00:00Z"), DAY0);
	assert_int_equal(fp_report_parse_utc("2024-01-15T00:00:00"), -1);
	setenv("TZ", "UTC", 1);
	tzset();
	assert_string_equal(fp_report_local_time(0, buf, sizeof(buf)), "-");
}

static void test_duration_is_sacct_elapsed(void **s)
{
	char buf[32];

	assert_string_equal(fp_report_duration(3, buf, sizeof(buf)),
			    "00:00:03");
	assert_string_equal(fp_report_duration(90061, buf, sizeof(buf)),
			    "1-01:01:01");
	assert_string_equal(fp_report_duration(NAN, buf, sizeof(buf)), "-");
	assert_string_equal(fp_report_duration(INFINITY, buf, sizeof(buf)),
			    "-");
}

/* -o, -n */

static fp_report_table_t *acct_table(void)
{
	fp_report_table_t *t = fp_report_table_new();
	fp_record_t a = { .complete = true,
			  .source = FP_ENERGY_MEASURED,
			  .energy_wh = 1.5,
			  .footprint_g = 2 };
	fp_report_acct_t x = fp_report_acct_unknown();
	fp_error_t err = { 0 };

	x.name = "sim\x1b";
	x.state = "COMPLETED";
	x.exit_code = 0;
	x.exit_signal = 0;
	x.start = DAY0;
	x.end = DAY0 + 65;
	x.elapsed_s = 65;
	x.alloc_cpus = 2;
	x.cpu_time_s = 65;
	x.energy_j = 5400;
	assert_int_equal(
		fp_report_table_add(t, "10", "alice", "p", &a, &x, &err), 0);
	assert_int_equal(
		fp_report_table_add(t, "11", "bob", "p", NULL, NULL, &err), 0);
	return t;
}

static void test_table_format_picks_columns_in_any_case(void **s)
{
	fp_report_table_t *t = acct_table();
	fp_error_t err = { 0 };
	char *txt;

	assert_int_equal(
		fp_report_table_set_format(
			t,
			"jobid,JOBNAME,state,"
			"exitcode,start,elapsed,cpueff,consumedenergy,footprintg",
			&err),
		0);
	txt = fp_report_table_text(t, true);
	assert_string_equal(
		txt, "JobID|JobName|State|ExitCode|Start|Elapsed|CPUEff|"
		     "ConsumedEnergy|FootprintG|\n"
		     "10|sim\\x1b|COMPLETED|0:0|2024-01-15T00:00:00|00:01:05|"
		     "50.00%|5400|2.000|\n"
		     "11|-|-|-|-|-|-|-|-|\n"
		     "TOTAL|||||||5400|2.000|\n");
	free(txt);
	fp_report_table_free(t);
}

static void test_table_format_refuses_an_unknown_column_listing_all(void **s)
{
	fp_report_table_t *t = acct_table();
	fp_error_t err = { 0 };

	assert_int_equal(fp_report_table_set_format(t, "JobID,Joules", &err),
			 -1);
	assert_non_null(strstr(err.msg, "'Joules'"));
	assert_non_null(strstr(err.msg, FP_REPORT_COLUMNS));
	assert_int_equal(fp_report_table_set_format(t, "JobID,", &err), -1);
	assert_non_null(strstr(err.msg, "no column ''"));
	fp_report_table_free(t);
}

static void test_table_noheader_drops_the_header_lines_only(void **s)
{
	fp_report_table_t *t = acct_table();
	char *txt;

	fp_report_table_set_noheader(t, true);
	txt = fp_report_table_text(t, true);
	assert_int_equal(strncmp(txt, "10|alice|p|", 11), 0);
	assert_non_null(strstr(txt, "\nTOTAL|"));
	free(txt);
	txt = fp_report_table_text(t, false);
	assert_int_equal(strncmp(txt, "10 ", 3), 0);
	assert_null(strstr(txt, "JobID"));
	free(txt);
	fp_report_table_free(t);
}

static void test_table_json_has_accounting_times_in_utc(void **s)
{
	fp_report_table_t *t = acct_table();
	json_t *o, *a;

	setenv("TZ", "CET-1", 1);
	tzset();
	o = fp_report_table_json(t);
	a = json_object_get(json_array_get(json_object_get(o, "jobs"), 0),
			    "accounting");
	assert_string_equal(json_string_value(json_object_get(a, "start")),
			    "2024-01-15T00:00:00Z");
	assert_string_equal(json_string_value(json_object_get(a, "state")),
			    "COMPLETED");
	assert_float_equal(
		json_number_value(json_object_get(a, "cpu_efficiency_percent")),
		50, 1e-9);
	assert_true(json_is_null(json_object_get(
		json_array_get(json_object_get(o, "jobs"), 1), "accounting")));
	json_decref(o);
	setenv("TZ", "UTC", 1);
	tzset();
	fp_report_table_free(t);
}

/* A job until 01:30 at one site, winter-gas; fallback true: its series
 * stopped at 01:15 and IntensityFallback=last filled 01:15-01:30, when
 * the job used 37.5 % of the site's energy. */
static fp_report_t *site_report(bool fallback)
{
	fp_result_t *res = result();
	fp_site_result_t *s;
	fp_error_t err = { 0 };
	fp_report_t *r;
	char *p;

	res->end = DAY0 + 5400;
	res->elapsed_s = 5400;
	res->sites = calloc(1, sizeof(*res->sites));
	res->nsites = 1;
	s = &res->sites[0];
	s->site = strdup("winter-gas");
	s->energy_j = 2 * 3.6e6;
	s->facility_energy_j = 2.4 * 3.6e6;
	s->pue = 1.2;
	s->intensity = 50;
	s->operational_g = 120;
	s->embodied_g = 5.5;
	s->avoided_g = 245.16;
	s->intensity_series = strdup("winter-gas.csv");
	s->intensity_span = true;
	s->intensity_first = DAY0;
	s->intensity_end = DAY0 + 5400;
	if (fallback) {
		s->fallback_used = true;
		snprintf(s->fallback, sizeof(s->fallback), "last");
		s->fallback_first = DAY0 + 4500;
		s->fallback_end = DAY0 + 5400;
		s->fallback_s = 900;
		s->fallback_energy_j = 0.375 * s->energy_j;
	}
	p = payload(res);
	r = fp_report_from_summary("4242.jws", p, &err);
	assert_non_null(r);
	free(p);
	fp_carbon_result_free(res);
	return r;
}

static void test_report_names_the_intensity_fallback_of_a_site(void **s)
{
	fp_report_t *r = site_report(true);
	char *t = fp_report_text(r, "valid");

	assert_non_null(strstr(t, "Sites:\n  winter-gas: 2400.000 Wh"));
	assert_non_null(strstr(
		t, " avoided 245.160 g\n"
		   "  winter-gas: intensity fallback 'last' for 01:15-01:30 "
		   "(0.25 h, 37.5 % of the site's energy): the series did not "
		   "cover them within SeriesWait\n"));
	free(t);
	fp_report_free(r);
}

static void test_report_says_nothing_of_a_fallback_not_used(void **s)
{
	fp_report_t *r = site_report(false);
	char *t = fp_report_text(r, "valid");

	assert_non_null(strstr(t, "Sites:\n  winter-gas: 2400.000 Wh"));
	assert_null(strstr(t, "fallback"));
	free(t);
	fp_report_free(r);
}

static void test_report_json_has_the_fallback_in_utc_or_null(void **s)
{
	fp_report_t *r = site_report(true);
	json_t *o = fp_report_json(r), *fb;

	assert_non_null(o);
	fb = json_object_get(json_array_get(json_object_get(o, "sites"), 0),
			     "intensity_fallback");
	assert_true(json_is_object(fb));
	assert_string_equal(json_string_value(json_object_get(fb, "method")),
			    "last");
	assert_string_equal(json_string_value(json_object_get(fb, "first")),
			    "2024-01-15T01:15:00Z");
	assert_string_equal(json_string_value(json_object_get(fb, "end")),
			    "2024-01-15T01:30:00Z");
	assert_float_equal(json_number_value(json_object_get(fb, "hours")),
			   0.25, 1e-9);
	assert_float_equal(
		json_number_value(json_object_get(fb, "energy_share")), 0.375,
		1e-9);
	json_decref(o);
	fp_report_free(r);

	r = site_report(false);
	o = fp_report_json(r);
	fb = json_object_get(json_array_get(json_object_get(o, "sites"), 0),
			     "intensity_fallback");
	assert_true(json_is_null(fb));
	json_decref(o);
	fp_report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time_accepts_iso_dates_and_times),
		cmocka_unit_test(test_time_accepts_now_and_relative_times),
		cmocka_unit_test(test_time_accepts_sacct_short_forms),
		cmocka_unit_test(
			test_time_rejects_what_is_not_a_time_and_names_it),
		cmocka_unit_test(test_time_error_lists_exactly_the_forms_taken),
		cmocka_unit_test(test_report_reads_the_summary_figures),
		cmocka_unit_test(
			test_report_text_has_every_figure_and_the_signature),
		cmocka_unit_test(
			test_report_lists_the_reasons_of_an_incomplete_job),
		cmocka_unit_test(
			test_report_reads_the_workers_incomplete_summary),
		cmocka_unit_test(test_report_refuses_what_is_not_a_summary),
		cmocka_unit_test(
			test_report_from_a_record_derives_saved_with_heat),
		cmocka_unit_test(test_mail_section_has_the_summary_figures),
		cmocka_unit_test(
			test_mail_section_puts_the_parts_before_the_details),
		cmocka_unit_test(
			test_mail_section_unavailable_says_how_to_get_it),
		cmocka_unit_test(
			test_table_has_a_total_line_and_counts_jobs_without),
		cmocka_unit_test(
			test_table_parsable_is_pipe_separated_like_sacct),
		cmocka_unit_test(test_table_json_totals),
		cmocka_unit_test(test_table_json_keeps_a_latin1_user_escaped),
		cmocka_unit_test(
			test_record_report_json_keeps_a_latin1_account_escaped),
		cmocka_unit_test(
			test_conf_path_follows_option_env_jobcomploc_beside),
		cmocka_unit_test(
			test_slurm_conf_is_found_as_slurms_commands_find_it),
		cmocka_unit_test(test_slurm_conf_keys_are_top_level_only),
		cmocka_unit_test(
			test_job_ids_take_a_comma_list_and_repeats_once_each),
		cmocka_unit_test(
			test_job_ids_refuse_what_is_not_a_job_id_naming_it),
		cmocka_unit_test(test_job_ids_refuse_ids_beyond_slurms_32_bits),
		cmocka_unit_test(
			test_cpu_efficiency_is_cpu_time_over_elapsed_times_cpus),
		cmocka_unit_test(
			test_report_shows_state_exit_code_and_cpu_efficiency),
		cmocka_unit_test(
			test_report_says_sacct_energy_equals_the_footprints),
		cmocka_unit_test(
			test_report_says_sacct_job_row_omits_the_batch_step),
		cmocka_unit_test(
			test_report_says_when_sacct_has_no_energy_on_the_job_row),
		cmocka_unit_test(
			test_report_says_why_the_footprint_energy_differs),
		cmocka_unit_test(test_report_without_accounting_says_why),
		cmocka_unit_test(test_report_text_never_prints_nan_or_inf),
		cmocka_unit_test(
			test_report_says_more_than_the_reference_when_negative),
		cmocka_unit_test(
			test_report_escapes_control_characters_in_names),
		cmocka_unit_test(
			test_escape_keeps_utf8_and_writes_other_bytes_hex),
		cmocka_unit_test(test_times_print_local_as_sacct),
		cmocka_unit_test(test_duration_is_sacct_elapsed),
		cmocka_unit_test(test_table_format_picks_columns_in_any_case),
		cmocka_unit_test(
			test_table_format_refuses_an_unknown_column_listing_all),
		cmocka_unit_test(
			test_table_noheader_drops_the_header_lines_only),
		cmocka_unit_test(test_table_json_has_accounting_times_in_utc),
		cmocka_unit_test(
			test_report_names_the_intensity_fallback_of_a_site),
		cmocka_unit_test(
			test_report_says_nothing_of_a_fallback_not_used),
		cmocka_unit_test(
			test_report_json_has_the_fallback_in_utc_or_null),
	};

	return cmocka_run_group_tests(tests, utc, NULL);
}
