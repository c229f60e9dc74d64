/* Specification of lib/feed without a network: the providers' answers, the
 * merge of new points, and the atomic append that keeps every old byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "footprint/feed.h"
#include "footprint/series.h"

static time_t T(const char *iso)
{
	time_t t;

	assert_int_equal(fp_iso8601_parse(iso, &t), 0);
	return t;
}

static int parse(fp_feed_provider_t p, const char *body, bool region,
		 fp_feed_points_t *pts, long *total, fp_error_t *err)
{
	return fp_feed_parse(p, "answer", body, strlen(body), region, pts,
			     total, err);
}

static void test_eco2mix_offsets_become_utc_and_total_count_is_read(void **st)
{
	fp_feed_points_t pts = { 0 };
	fp_error_t err = { 0 };
	long total = 0;

	(void)st;
	assert_int_equal(
		parse(FP_FEED_ECO2MIX,
		      "{\"total_count\": 250, "
		      "\"results\": [{\"date_heure\": "
		      "\"2024-10-27T02:45:00+02:00\", \"taux_co2\": 21}"
		      ", {\"date_heure\": \"2024-10-27T02:00:00+01:00\","
		      " \"taux_co2\": 22.5}]}",
		      false, &pts, &total, &err),
		0);
	assert_int_equal(total, 250);
	assert_int_equal(pts.n, 2);
	assert_true(pts.v[0].t == T("2024-10-27T00:45:00Z"));
	assert_true(pts.v[1].t == T("2024-10-27T01:00:00Z"));
	assert_true(pts.v[1].value == 22.5);
	assert_string_equal(pts.v[0].flag, "realtime");
	fp_feed_points_free(&pts);
}

static void test_eco2mix_null_value_is_not_published_yet(void **st)
{
	fp_feed_points_t pts = { 0 };
	fp_error_t err = { 0 };

	(void)st;
	assert_int_equal(
		parse(FP_FEED_ECO2MIX,
		      "{\"results\": [{\"date_heure"
		      "\": \"2024-01-15T01:00:00+01:00\", \"taux_co2\":"
		      " null}]}",
		      false, &pts, NULL, &err),
		0);
	assert_int_equal(pts.n, 0);
	fp_feed_points_free(&pts);
}

static void test_eco2mix_negative_value_is_refused_naming_record(void **st)
{
	fp_feed_points_t pts = { 0 };
	fp_error_t err = { 0 };

	(void)st;
	assert_int_equal(
		parse(FP_FEED_ECO2MIX,
		      "{\"results\": [{\"date_heure"
		      "\": \"2024-01-15T01:00:00+01:00\", \"taux_co2\":"
		      " -3}]}",
		      false, &pts, NULL, &err),
		-1);
	assert_non_null(strstr(err.msg, "record 1: field 'taux_co2'"));
	fp_feed_points_free(&pts);
}

/* A record that is not an object is refused by each provider's reader,
 * naming the record; one before it is not taken half-way. */
static void test_record_not_an_object_is_refused_naming_it(void **st)
{
	static const struct {
		fp_feed_provider_t p;
		const char *body;
		const char *want;
	} cases[] = {
		{ FP_FEED_ECO2MIX,
		  "{\"results\": [{\"date_heure\": \"2024-01-15T01:00:00Z\","
		  " \"taux_co2\": 50}, 7]}",
		  "record 2 is not an object" },
		{ FP_FEED_ELECTRICITYMAPS,
		  "{\"history\": [\"x\", {\"datetime\": "
		  "\"2024-01-15T01:00:00Z\", \"carbonIntensity\": 50}]}",
		  "record 1 is not an object" },
		{ FP_FEED_UK,
		  "{\"data\": [{\"from\": \"2024-01-15T01:00Z\", "
		  "\"intensity\": {\"actual\": 50}}, []]}",
		  "record 2 has no 'intensity' object" },
	};

	(void)st;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		fp_feed_points_t pts = { 0 };
		fp_error_t err = { 0 };

		assert_int_equal(parse(cases[i].p, cases[i].body, false, &pts,
				       NULL, &err),
				 -1);
		if (!strstr(err.msg, cases[i].want))
			fail_msg("case %zu: '%s' does not say '%s'", i, err.msg,
				 cases[i].want);
		fp_feed_points_free(&pts);
	}
}

static void
test_electricitymaps_history_and_latest_keep_estimated_flag(void **st)
{
	fp_feed_points_t pts = { 0 };
	fp_error_t err = { 0 };

	(void)st;
	assert_int_equal(
		parse(FP_FEED_ELECTRICITYMAPS,
		      "{\"zone\": \"FR\", "
		      "\"history\": [{\"carbonIntensity\": 30, "
		      "\"datetime\": \"2024-06-01T00:00:00.000Z\", "
		      "\"isEstimated\": false}, {\"carbonIntensity\": "
		      "null, \"datetime\": \"2024-06-01T01:00:00.000Z\""
		      "}]}",
		      false, &pts, NULL, &err),
		0);
	assert_int_equal(parse(FP_FEED_ELECTRICITYMAPS,
			       "{\"zone\": \"FR\", "
			       "\"carbonIntensity\": 61, \"datetime\": "
			       "\"2024-06-02T00:00:00.000Z\", \"isEstimated\": "
			       "true}",
			       false, &pts, NULL, &err),
			 0);
	assert_int_equal(pts.n, 2);
	assert_string_equal(pts.v[0].flag, "actual");
	assert_string_equal(pts.v[1].flag, "estimated");
	assert_true(pts.v[1].t == T("2024-06-02T00:00:00Z"));
	fp_feed_points_free(&pts);
}

static void test_uk_national_takes_actual_regional_takes_forecast(void **st)
{
	const char *nat = "{\"data\": [{\"from\": \"2024-03-31T00:00Z\", "
			  "\"to\": \"2024-03-31T00:30Z\", \"intensity\": "
			  "{\"forecast\": 200, \"actual\": 190}}, {\"from\": "
			  "\"2024-03-31T00:30Z\", \"intensity\": {\"forecast\""
			  ": 201, \"actual\": null}}]}";
	const char *reg = "{\"data\": [{\"regionid\": 13, \"data\": [{\"from"
			  "\": \"2024-03-31T00:00Z\", \"intensity\": "
			  "{\"forecast\": 100, \"index\": \"low\"}}]}]}";
	fp_feed_points_t pts = { 0 };
	fp_error_t err = { 0 };

	(void)st;
	assert_int_equal(parse(FP_FEED_UK, nat, false, &pts, NULL, &err), 0);
	assert_int_equal(pts.n, 1);
	assert_true(pts.v[0].value == 190);
	assert_string_equal(pts.v[0].flag, "actual");
	assert_int_equal(parse(FP_FEED_UK, reg, true, &pts, NULL, &err), 0);
	assert_int_equal(pts.n, 2);
	assert_true(pts.v[1].value == 100);
	assert_string_equal(pts.v[1].flag, "forecast");
	fp_feed_points_free(&pts);
}

static void test_malformed_json_names_line_and_column(void **st)
{
	fp_feed_points_t pts = { 0 };
	fp_error_t err = { 0 };

	(void)st;
	assert_int_equal(parse(FP_FEED_ECO2MIX, "{\"results\": [", false, &pts,
			       NULL, &err),
			 -1);
	assert_int_equal(err.code, FP_EPARSE);
	assert_non_null(strstr(err.msg, "answer: malformed JSON at line 1"));
	fp_feed_points_free(&pts);
}

static void add(fp_feed_points_t *p, const char *iso, double v)
{
	fp_feed_point_t *nv = realloc(p->v, (p->n + 1) * sizeof(*nv));

	assert_non_null(nv);
	p->v = nv;
	p->v[p->n].t = T(iso);
	p->v[p->n].value = v;
	strcpy(p->v[p->n].flag, "actual");
	p->n++;
	p->cap = p->n;
}

static void test_merge_sorts_drops_duplicates_known_and_future(void **st)
{
	fp_feed_points_t p = { 0 };
	fp_feed_result_t r;

	(void)st;
	add(&p, "2024-01-01T01:00:00Z", 3);
	add(&p, "2024-01-01T00:30:00Z", 2);
	add(&p, "2024-01-01T00:00:00Z", 1); /* the file has it */
	add(&p, "2024-01-01T01:00:00Z", 9); /* twice, another value */
	add(&p, "2024-01-01T00:30:00Z", 2); /* twice, same value */
	add(&p, "2024-01-02T00:00:00Z", 5); /* after now */
	fp_feed_merge(&p, true, T("2024-01-01T00:00:00Z"),
		      T("2024-01-01T12:00:00Z"), &r);
	assert_int_equal(r.appended, 2);
	assert_int_equal(r.known, 1);
	assert_int_equal(r.duplicates, 2);
	assert_int_equal(r.duplicates_differ, 1);
	assert_int_equal(r.future, 1);
	assert_true(p.v[0].t == T("2024-01-01T00:30:00Z"));
	assert_true(p.v[1].value == 3); /* the first of the two kept */
	fp_feed_points_free(&p);
}

static void test_last_time_skips_trailing_comments_and_blank_lines(void **st)
{
	const char *text = "# head\n2024-01-01T00:00:00Z,5 # actual\n"
			   "2024-01-01T00:15:00Z,6\n\n# fetched\n  \n";
	time_t t;

	(void)st;
	assert_true(fp_feed_last_time(text, strlen(text), &t));
	assert_true(t == T("2024-01-01T00:15:00Z"));
	assert_false(fp_feed_last_time("# only\n", 7, &t));
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 16);

	assert_non_null(f);
	assert_non_null(buf);
	buf[fread(buf, 1, (1 << 16) - 1, f)] = '\0';
	fclose(f);
	return buf;
}

static void test_write_appends_after_the_old_bytes_and_loads_back(void **st)
{
	char dir[] = "/tmp/test_feed.XXXXXX", path[64];
	const char *old = "# mine\n2024-01-01T00:00:00Z,10";
	fp_feed_points_t p = { 0 };
	fp_error_t err = { 0 };
	fp_series_t *s;
	FILE *f;
	char *got;
	double v;

	(void)st;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.csv", dir);
	f = fopen(path, "w");
	fputs(old, f); /* no final newline */
	fclose(f);
	add(&p, "2024-01-01T00:15:00Z", 20);
	add(&p, "2024-01-01T00:30:00Z", 30);
	assert_int_equal(fp_feed_write(path, "# new file\n", "# fetched x\n",
				       &p, &err),
			 0);
	got = slurp(path);
	assert_string_equal(got,
			    "# mine\n2024-01-01T00:00:00Z,10\n"
			    "# fetched x\n2024-01-01T00:15:00Z,20 # actual\n"
			    "2024-01-01T00:30:00Z,30 # actual\n");
	s = fp_series_load(path, FP_FORMAT_AUTO, FP_INTENSITY_UNSET, &err);
	assert_non_null(s);
	assert_int_equal(
		fp_series_value(s, T("2024-01-01T00:00:00Z"), &v, &err), 0);
	assert_true(v == 10); /* each quarter at its own value */
	assert_int_equal(
		fp_series_value(s, T("2024-01-01T00:40:00Z"), &v, &err), 0);
	assert_true(v == 30);
	fp_series_free(s);
	free(got);
	fp_feed_points_free(&p);
	unlink(path);
	rmdir(dir);
}

static void test_write_refuses_a_file_that_does_not_load_and_keeps_it(void **st)
{
	char dir[] = "/tmp/test_feed.XXXXXX", path[64];
	const char *old = "2024-01-01T00:00:00Z,10\nnot a row\n"
			  "2024-01-01T01:00:00Z,10\n";
	fp_feed_points_t p = { 0 };
	fp_error_t err = { 0 };
	FILE *f;
	char *got;

	(void)st;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.csv", dir);
	f = fopen(path, "w");
	fputs(old, f);
	fclose(f);
	add(&p, "2024-01-01T02:00:00Z", 20);
	assert_int_equal(fp_feed_write(path, NULL, NULL, &p, &err), -1);
	assert_non_null(strstr(err.msg, "does not load, left as it was"));
	assert_non_null(strstr(err.msg, ":2:"));
	got = slurp(path);
	assert_string_equal(got, old);
	free(got);
	fp_feed_points_free(&p);
	unlink(path);
	rmdir(dir);
}

static void test_write_keeps_the_file_mode(void **st)
{
	char dir[] = "/tmp/test_feed.XXXXXX", path[64];
	fp_feed_points_t p = { 0 };
	fp_error_t err = { 0 };
	struct stat sb;
	FILE *f;

	(void)st;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/s.csv", dir);
	f = fopen(path, "w");
	fputs("2024-01-01T00:00:00Z,10\n", f);
	fclose(f);
	chmod(path, 0640);
	add(&p, "2024-01-01T01:00:00Z", 20);
	assert_int_equal(fp_feed_write(path, NULL, "", &p, &err), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0640);
	fp_feed_points_free(&p);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_eco2mix_offsets_become_utc_and_total_count_is_read),
		cmocka_unit_test(test_eco2mix_null_value_is_not_published_yet),
		cmocka_unit_test(
			test_eco2mix_negative_value_is_refused_naming_record),
		cmocka_unit_test(
			test_record_not_an_object_is_refused_naming_it),
		cmocka_unit_test(
			test_electricitymaps_history_and_latest_keep_estimated_flag),
		cmocka_unit_test(
			test_uk_national_takes_actual_regional_takes_forecast),
		cmocka_unit_test(test_malformed_json_names_line_and_column),
		cmocka_unit_test(
			test_merge_sorts_drops_duplicates_known_and_future),
		cmocka_unit_test(
			test_last_time_skips_trailing_comments_and_blank_lines),
		cmocka_unit_test(
			test_write_appends_after_the_old_bytes_and_loads_back),
		cmocka_unit_test(
			test_write_refuses_a_file_that_does_not_load_and_keeps_it),
		cmocka_unit_test(test_write_keeps_the_file_mode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
