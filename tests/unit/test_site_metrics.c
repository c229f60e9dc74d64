/* The controller's metrics file (footprint.conf Metrics=): site totals kept
 * across worker runs, each site's intensity now, damage and parallel runs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "footprint/config.h"
#include "footprint/series.h"
#include "footprint/site_metrics.h"

static char dir[64], state[128], prom[128];
static fp_config_t *cfg;

/* 2024-01-15T00:00:00Z and its quarters 40, 44, 48, 60 g/kWh: the series
 * ends at 01:00. */
#define T0 ((time_t)1705276800)

static int setup(void **unused)
{
	char conf[1024], path[160];
	fp_error_t err = { 0 };
	FILE *f;

	(void)unused;
	snprintf(dir, sizeof(dir), "/tmp/test_site_metrics.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/q.csv", dir);
	f = fopen(path, "w");
	if (!f)
		return -1;
	fputs("2024-01-15T00:00:00Z,40\n2024-01-15T00:15:00Z,44\n"
	      "2024-01-15T00:30:00Z,48\n2024-01-15T00:45:00Z,60\n",
	      f);
	fclose(f);
	snprintf(conf, sizeof(conf),
		 "Site=home Nodes=n1 Intensity=file:%s/q.csv\n"
		 "Site=lyon Nodes=n2 Intensity=80\n"
		 "Site=broken Nodes=n3 Intensity=file:%s/missing.csv\n"
		 "Reference=std PUE=1.5 Intensity=300\n",
		 dir, dir);
	cfg = fp_config_parse("/etc/footprint.conf", conf, strlen(conf), &err);
	if (!cfg)
		return -1;
	/* broken's file is missing: the others load. */
	if (fp_config_load_series(cfg, &err) != -1)
		return -1;
	snprintf(state, sizeof(state), "%s/metrics.state", dir);
	snprintf(prom, sizeof(prom), "%s/footprint-controller.prom", dir);
	return 0;
}

static int teardown(void **unused)
{
	char cmd[128];

	(void)unused;
	fp_config_free(cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static char *slurp(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	return buf;
}

/* The value of the sample whose text before the space is `series`; fails
 * the test when the file has none. */
static double sample(const char *series)
{
	const char *text = slurp(prom), *p = text;
	size_t n = strlen(series);

	for (; (p = strstr(p, series)); p += n)
		if ((p == text || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	fail_msg("no sample %s in:\n%s", series, text);
	return 0;
}

static bool has_series(const char *series)
{
	char line[256];

	snprintf(line, sizeof(line), "\n%s ", series);
	return strstr(slurp(prom), line) != NULL;
}

/* A complete job at one site, or (site2) at two, each site half. */
static fp_result_t *result(const char *site, const char *site2, double energy_j,
			   double op_g, double avoided_g)
{
	fp_result_t *r = calloc(1, sizeof(*r));
	size_t n = site2 ? 2 : 1;

	assert_non_null(r);
	r->complete = true;
	r->sites = calloc(n, sizeof(*r->sites));
	assert_non_null(r->sites);
	r->nsites = n;
	for (size_t i = 0; i < n; i++) {
		r->sites[i].site = (char *)(i ? site2 : site);
		r->sites[i].energy_j = energy_j / (double)n;
		r->sites[i].operational_g = op_g / (double)n;
		r->sites[i].embodied_g = 1.0;
		r->sites[i].avoided_g = avoided_g / (double)n;
		r->sites[i].reference_operational_g = 3 * op_g / (double)n;
	}
	return r;
}

static void result_free(fp_result_t *r)
{
	free(r->sites);
	free(r);
}

static void add_write(fp_result_t *r, time_t now, int want)
{
	fp_site_metrics_t *m = fp_site_metrics_new();
	fp_error_t err = { 0 };

	assert_non_null(m);
	assert_int_equal(fp_site_metrics_add(m, r), 0);
	assert_int_equal(fp_site_metrics_write(m, cfg, state, prom, now, &err),
			 want);
	fp_site_metrics_free(m);
}

static void test_totals_add_up_across_runs(void **unused)
{
	fp_result_t *a = result("home", NULL, 3.6e6, 50, 20);
	fp_result_t *b = result("home", "lyon", 7.2e6, 100, 40);

	(void)unused;
	add_write(a, T0 + 60, 0);
	add_write(b, T0 + 120, 0);
	/* home: a whole, half of b; lyon: half of b. */
	assert_float_equal(sample("footprint_site_jobs_total{site=\"home\"}"),
			   2, 0);
	assert_float_equal(sample("footprint_site_jobs_total{site=\"lyon\"}"),
			   1, 0);
	assert_float_equal(
		sample("footprint_site_energy_joules_total{site=\"home\"}"),
		3.6e6 + 3.6e6, 1e-6);
	assert_float_equal(
		sample("footprint_site_operational_grams_total{site=\"home\"}"),
		50 + 50, 1e-9);
	assert_float_equal(
		sample("footprint_site_avoided_grams_total{site=\"lyon\"}"), 20,
		1e-9);
	assert_float_equal(
		sample("footprint_site_embodied_grams_total{site=\"home\"}"), 2,
		1e-9);
	assert_float_equal(
		sample("footprint_site_reference_grams_total{site=\"home\"}"),
		150 + 150, 1e-9);
	assert_float_equal(sample("footprint_summaries_incomplete_total"), 0,
			   0);
	result_free(a);
	result_free(b);
}

static void test_intensity_is_the_value_in_effect_then_the_last(void **u)
{
	(void)u;
	add_write(NULL, T0 + 20 * 60, 0);
	assert_float_equal(sample("footprint_site_intensity_gco2e_per_kwh"
				  "{site=\"home\"}"),
			   44, 0);
	assert_float_equal(sample("footprint_site_intensity_gco2e_per_kwh"
				  "{site=\"lyon\"}"),
			   80, 0);
	assert_float_equal(sample("footprint_site_intensity_published_until_"
				  "seconds{site=\"home\"}"),
			   (double)(T0 + 3600), 0);
	assert_float_equal(sample("footprint_site_intensity_up"
				  "{site=\"home\"}"),
			   1, 0);
	/* A series that did not load: said down, no intensity invented. */
	assert_float_equal(sample("footprint_site_intensity_up"
				  "{site=\"broken\"}"),
			   0, 0);
	assert_false(has_series("footprint_site_intensity_gco2e_per_kwh"
				"{site=\"broken\"}"));
	/* Two hours past the series' end: its last quarter, and the end
	 * says how old it is. */
	add_write(NULL, T0 + 3 * 3600, 0);
	assert_float_equal(sample("footprint_site_intensity_gco2e_per_kwh"
				  "{site=\"home\"}"),
			   60, 0);
}

static void test_incomplete_summaries_count_apart(void **unused)
{
	fp_result_t *r = result("home", NULL, 3.6e6, 50, 20);

	(void)unused;
	add_write(r, T0, 0);
	r->complete = false;
	add_write(r, T0, 0);
	add_write(NULL, T0, 0);
	/* A complete one whose figures are not finite is not added either. */
	r->complete = true;
	r->sites[0].energy_j = 0.0 / 0.0;
	add_write(r, T0, 0);
	assert_float_equal(sample("footprint_summaries_incomplete_total"), 3,
			   0);
	assert_float_equal(sample("footprint_site_jobs_total{site=\"home\"}"),
			   1, 0);
	result_free(r);
}

static void test_damaged_state_is_said_kept_aside_and_restarted(void **u)
{
	fp_result_t *r = result("home", NULL, 3.6e6, 50, 20);
	fp_site_metrics_t *m = fp_site_metrics_new();
	fp_error_t err = { 0 };
	char aside[160];
	struct stat st;
	FILE *f;

	(void)u;
	add_write(r, T0, 0);
	f = fopen(state, "w");
	assert_non_null(f);
	fputs("fp-site-metrics 1\nsite\thome\t1\t3600000\t50\t1\tnan\t150\n",
	      f);
	fclose(f);
	assert_int_equal(fp_site_metrics_add(m, r), 0);
	assert_int_equal(fp_site_metrics_write(m, cfg, state, prom, T0, &err),
			 1);
	assert_non_null(strstr(err.msg, "metrics.state:2: field "
					"'avoided_g'"));
	assert_non_null(strstr(err.msg, "kept aside"));
	snprintf(aside, sizeof(aside), "%s.damaged", state);
	assert_int_equal(stat(aside, &st), 0);
	/* The totals start again from this run's job. */
	assert_float_equal(sample("footprint_site_jobs_total{site=\"home\"}"),
			   1, 0);
	/* and the state written is whole again */
	add_write(r, T0, 0);
	assert_float_equal(sample("footprint_site_jobs_total{site=\"home\"}"),
			   2, 0);
	fp_site_metrics_free(m);
	result_free(r);
}

static void test_other_state_faults_name_their_line(void **unused)
{
	static const char *const bad[][2] = {
		{ "garbage\n", "metrics.state:1: not 'fp-site-metrics 1'" },
		{ "fp-site-metrics 1\nsite\thome\t1\t2\n",
		  "metrics.state:2: field 'operational_g': missing" },
		{ "fp-site-metrics 1\nsite\thome\t1\t2\t3\t4\t5\t6\t7\n",
		  "metrics.state:2: more than the 8 fields" },
		{ "fp-site-metrics 1\nsite\thome\t1\t2\t3\t4\t5\t6\t\n",
		  "metrics.state:2: more than the 8 fields" },
		{ "fp-site-metrics 1\nsite\thome\t1\t2\t3\t4\t5\tx\n",
		  "metrics.state:2: field 'reference_g': not a finite" },
		{ "fp-site-metrics 1\nincomplete\t-1\n",
		  "metrics.state:2: field 'incomplete'" },
		{ "fp-site-metrics 1\nhome 1 2 3\n",
		  "metrics.state:2: neither a site" },
		{ "", "metrics.state: empty" },
	};

	(void)unused;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fp_error_t err = { 0 };
		FILE *f = fopen(state, "w");

		assert_non_null(f);
		fputs(bad[i][0], f);
		fclose(f);
		assert_int_equal(fp_site_metrics_write(NULL, cfg, state, prom,
						       T0, &err),
				 1);
		if (!strstr(err.msg, bad[i][1]))
			fail_msg("case %zu: '%s' does not say '%s'", i, err.msg,
				 bad[i][1]);
	}
}

static void test_site_label_is_escaped(void **unused)
{
	fp_result_t *r = result("a\"b\\c\nd", NULL, 1, 1, 1);

	(void)unused;
	add_write(r, T0, 0);
	assert_non_null(strstr(slurp(prom), "footprint_site_jobs_total{site="
					    "\"a\\\"b\\\\c\\nd\"} 1\n"));
	result_free(r);
}

/* Four processes adding 25 jobs each, one write per job, as MaxWorkers'
 * parts do: the lock makes them add up. */
static void test_parallel_workers_add_up(void **unused)
{
	pid_t pids[4];

	(void)unused;
	for (int k = 0; k < 4; k++) {
		pids[k] = fork();
		assert_true(pids[k] >= 0);
		if (pids[k] == 0) {
			fp_result_t *r = result("home", NULL, 1, 1, 1);
			int bad = 0;

			for (int i = 0; i < 25; i++) {
				fp_site_metrics_t *m = fp_site_metrics_new();
				fp_error_t err = { 0 };

				bad |= !m || fp_site_metrics_add(m, r) ||
				       fp_site_metrics_write(m, cfg, state,
							     prom, T0, &err);
				fp_site_metrics_free(m);
			}
			result_free(r);
			_exit(bad);
		}
	}
	for (int k = 0; k < 4; k++) {
		int st;

		assert_int_equal(waitpid(pids[k], &st, 0), pids[k]);
		assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	assert_float_equal(sample("footprint_site_jobs_total{site=\"home\"}"),
			   100, 0);
}

static void test_unwritable_file_fails_naming_it(void **unused)
{
	fp_error_t err = { 0 };
	char bad[160];

	(void)unused;
	snprintf(bad, sizeof(bad), "%s/no/such/dir/f.prom", dir);
	assert_int_equal(fp_site_metrics_write(NULL, cfg, state, bad, T0, &err),
			 -1);
	assert_non_null(strstr(err.msg, "no/such/dir/f.prom"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_totals_add_up_across_runs),
		T(test_intensity_is_the_value_in_effect_then_the_last),
		T(test_incomplete_summaries_count_apart),
		T(test_damaged_state_is_said_kept_aside_and_restarted),
		T(test_other_state_faults_name_their_line),
		T(test_site_label_is_escaped),
		T(test_parallel_workers_add_up),
		T(test_unwritable_file_fails_naming_it),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
