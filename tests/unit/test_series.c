/* Specification of lib/signals: the three file formats, values at their own
 * resolution (each until the next), French local time in eco2mix, and
 * errors naming file, line and field. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "footprint/series.h"

static time_t T(const char *iso)
{
	time_t t;

	assert_int_equal(fp_iso8601_parse(iso, &t), 0);
	return t;
}

static fp_series_t *parse(const char *name, const char *text,
			  fp_series_format_t f, fp_intensity_kind_t k,
			  fp_error_t *err)
{
	return fp_series_parse(name, text, strlen(text), f, k, err);
}

static double value_at(const fp_series_t *s, const char *iso)
{
	double v = -1;
	fp_error_t err = { 0 };

	assert_int_equal(fp_series_value(s, T(iso), &v, &err), 0);
	return v;
}

/* Parses text as plain, true when it loads. */
static bool parse_free_ok(const char *text)
{
	fp_error_t err = { 0 };
	fp_series_t *s = fp_series_parse("ok.csv", text, strlen(text),
					 FP_FORMAT_PLAIN, 0, &err);

	fp_series_free(s);
	return s != NULL;
}

static const char plain[] = "# hourly intensity, gCO2e/kWh\n"
			    "2024-01-15T00:00:00Z,50\n"
			    "2024-01-15T01:00:00Z,70\n"
			    "2024-01-15T03:00:00Z,90\n";

static void test_plain_value_holds_for_its_whole_hour(void **state)
{
	fp_error_t err = { 0 };
	fp_series_t *s = parse("fr.csv", plain, FP_FORMAT_AUTO, 0, &err);

	assert_non_null(s);
	assert_int_equal(fp_series_format(s), FP_FORMAT_PLAIN);
	assert_float_equal(value_at(s, "2024-01-15T00:00:00Z"), 50, 1e-9);
	assert_float_equal(value_at(s, "2024-01-15T00:59:59Z"), 50, 1e-9);
	assert_float_equal(value_at(s, "2024-01-15T01:30:00Z"), 70, 1e-9);
	fp_series_free(s);
}

static void test_time_after_the_series_is_an_error_naming_it(void **state)
{
	fp_error_t err = { 0 };
	fp_series_t *s = parse("fr.csv", plain, FP_FORMAT_PLAIN, 0, &err);
	double v;

	assert_int_equal(
		fp_series_value(s, T("2024-01-15T04:00:00Z"), &v, &err), -1);
	assert_non_null(strstr(err.msg, "fr.csv"));
	assert_non_null(strstr(err.msg, "2024-01-15T04:00:00Z"));
	assert_int_equal(
		fp_series_value(s, T("2024-01-14T23:59:59Z"), &v, &err), -1);
	fp_series_free(s);
}

static void test_gap_in_the_series_is_an_error_not_interpolated(void **s_)
{
	fp_error_t err = { 0 };
	fp_series_t *s = parse("fr.csv", plain, FP_FORMAT_PLAIN, 0, &err);
	double v;

	assert_int_equal(
		fp_series_value(s, T("2024-01-15T02:10:00Z"), &v, &err), -1);
	assert_non_null(strstr(err.msg, "gap"));
	fp_series_free(s);
}

static void test_each_value_holds_until_the_next_one(void **state)
{
	fp_error_t err = { 0 };
	fp_series_t *s = parse("q.csv",
			       "2024-01-15T00:00Z,40\n"
			       "2024-01-15T00:30Z,60\n",
			       FP_FORMAT_PLAIN, 0, &err);
	double m;
	time_t a, b;

	assert_non_null(s);
	assert_float_equal(value_at(s, "2024-01-15T00:29:59Z"), 40, 1e-9);
	assert_float_equal(value_at(s, "2024-01-15T00:30:00Z"), 60, 1e-9);
	assert_float_equal(value_at(s, "2024-01-15T00:59:59Z"), 60, 1e-9);
	/* the last value holds for the spacing before it, 30 min */
	assert_true(fp_series_span(s, &a, &b));
	assert_int_equal(b, T("2024-01-15T01:00:00Z"));
	/* 00:20-00:30 at 40 and 00:30-00:50 at 60: not the hour's mean 50 */
	assert_int_equal(fp_series_mean(s, T("2024-01-15T00:20:00Z"),
					T("2024-01-15T00:50:00Z"), &m, &err),
			 0);
	assert_float_equal(m, (600 * 40.0 + 1200 * 60.0) / 1800, 1e-12);
	fp_series_free(s);
}

/* Four quarters 00:00..00:45 and the next hour's first quarter. */
static const char quarters[] = "2024-01-15T00:00Z,40\n"
			       "2024-01-15T00:15Z,44\n"
			       "2024-01-15T00:30Z,48\n"
			       "2024-01-15T00:45Z,60\n"
			       "2024-01-15T01:00Z,80\n";

static void test_a_mean_over_quarters_equals_the_hand_sum(void **state)
{
	fp_error_t err = { 0 };
	fp_series_t *s = parse("q.csv", quarters, FP_FORMAT_PLAIN, 0, &err);
	double m;

	assert_non_null(s);
	/* [00:10, 01:05): 5 min at 40, 15 at 44, 15 at 48, 15 at 60, 5 at 80:
	 * (5*40 + 15*44 + 15*48 + 15*60 + 5*80) / 55
	 * = (200 + 660 + 720 + 900 + 400) / 55 = 2880 / 55 = 52.3636... */
	assert_int_equal(fp_series_mean(s, T("2024-01-15T00:10:00Z"),
					T("2024-01-15T01:05:00Z"), &m, &err),
			 0);
	assert_float_equal(m, 2880.0 / 55, 1e-12);
	/* the last quarter holds 15 min: 01:15 is past the series */
	assert_int_equal(fp_series_mean(s, T("2024-01-15T01:00:00Z"),
					T("2024-01-15T01:16:00Z"), &m, &err),
			 -1);
	assert_non_null(strstr(err.msg, "no value for 2024-01-15T01:15:00Z"));
	fp_series_free(s);
}

static void test_resolution_hour_averages_each_utc_hour(void **state)
{
	fp_error_t err = { 0 };
	fp_series_t *s = parse("q.csv", quarters, FP_FORMAT_PLAIN, 0, &err);
	time_t a, b;

	assert_non_null(s);
	assert_int_equal(fp_series_average_hours(s, &err), 0);
	assert_int_equal(fp_series_hours(s), 2);
	/* hour 00: (40 + 44 + 48 + 60) / 4 = 48; hour 01: its one quarter */
	assert_float_equal(value_at(s, "2024-01-15T00:05:00Z"), 48, 1e-12);
	assert_float_equal(value_at(s, "2024-01-15T00:50:00Z"), 48, 1e-12);
	assert_float_equal(value_at(s, "2024-01-15T01:40:00Z"), 80, 1e-12);
	assert_true(fp_series_span(s, &a, &b));
	assert_int_equal(b, T("2024-01-15T02:00:00Z"));
	fp_series_free(s);
}

static void test_a_missing_hour_of_quarters_is_a_gap_not_bridged(void **s_)
{
	fp_error_t err = { 0 };
	/* 00:15 to 01:30 is 75 min, more than any provider's step */
	fp_series_t *s = parse("q.csv",
			       "2024-01-15T00:00Z,40\n"
			       "2024-01-15T00:15Z,44\n"
			       "2024-01-15T01:30Z,50\n",
			       FP_FORMAT_PLAIN, 0, &err);
	double v;

	assert_non_null(s);
	assert_float_equal(value_at(s, "2024-01-15T00:29:59Z"), 44, 1e-9);
	assert_int_equal(
		fp_series_value(s, T("2024-01-15T00:30:00Z"), &v, &err), -1);
	assert_non_null(strstr(err.msg, "gap"));
	/* after the gap the value holds an hour (no spacing within bound) */
	assert_float_equal(value_at(s, "2024-01-15T02:29:59Z"), 50, 1e-9);
	fp_series_free(s);
}

static void test_mean_weights_each_hour_by_its_overlap(void **state)
{
	fp_error_t err = { 0 };
	fp_series_t *s = parse("fr.csv", plain, FP_FORMAT_PLAIN, 0, &err);
	double m;

	/* 20 min in hour 0 (50) and 40 min in hour 1 (70) */
	assert_int_equal(fp_series_mean(s, T("2024-01-15T00:40:00Z"),
					T("2024-01-15T01:40:00Z"), &m, &err),
			 0);
	assert_float_equal(m, (1200 * 50.0 + 2400 * 70.0) / 3600, 1e-9);
	/* crossing the gap fails */
	assert_int_equal(fp_series_mean(s, T("2024-01-15T01:30:00Z"),
					T("2024-01-15T03:30:00Z"), &m, &err),
			 -1);
	fp_series_free(s);
}

static fp_fallback_t fallback(const char *text)
{
	fp_fallback_t fb;

	assert_int_equal(fp_series_fallback_parse(text, &fb), 0);
	return fb;
}

static void test_fallback_parses_each_form_and_reads_back(void **state)
{
	const char *ok[] = { "none",	     "last", "same-hour:7",
			     "monthly-mean", "56",   "0" };
	const char *bad[] = { "",
			      "same-hour:0",
			      "same-hour:",
			      "same-hour:x",
			      "same-hour:367",
			      "-1",
			      "1e300",
			      "lastly" };
	fp_fallback_t fb;
	char buf[32];

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		fb = fallback(ok[i]);
		fp_series_fallback_format(&fb, buf, sizeof(buf));
		assert_string_equal(buf, ok[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(fp_series_fallback_parse(bad[i], &fb), -1);
}

static void test_fallback_last_holds_the_last_value_past_the_end(void **s_)
{
	fp_error_t err = { 0 };
	fp_series_t *s = parse("q.csv", quarters, FP_FORMAT_PLAIN, 0, &err);
	fp_fallback_t fb = fallback("last");
	fp_fill_t fill;
	double m;

	assert_non_null(s);
	/* [00:45, 01:45): 15 min at 60, 15 min at 80, then 30 min filled
	 * with the last value 80: (15*60 + 15*80 + 30*80) / 60 = 75 */
	assert_int_equal(fp_series_mean_fallback(
				 s, &fb, T("2024-01-15T00:45:00Z"),
				 T("2024-01-15T01:45:00Z"), &m, &fill, &err),
			 0);
	assert_float_equal(m, 75, 1e-12);
	assert_float_equal(fill.fraction, 0.5, 1e-12);
	assert_int_equal(fill.first, T("2024-01-15T01:15:00Z"));
	assert_int_equal(fill.end, T("2024-01-15T01:45:00Z"));
	fp_series_free(s);
}

static void test_fallback_none_fails_as_without_one(void **s_)
{
	fp_error_t err = { 0 };
	fp_series_t *s = parse("q.csv", quarters, FP_FORMAT_PLAIN, 0, &err);
	fp_fallback_t fb = fallback("none");
	fp_fill_t fill;
	double m;

	assert_int_equal(fp_series_mean_fallback(
				 s, &fb, T("2024-01-15T00:45:00Z"),
				 T("2024-01-15T01:45:00Z"), &m, &fill, &err),
			 -1);
	assert_non_null(strstr(err.msg, "no value for 2024-01-15T01:15:00Z"));
	fp_series_free(s);
}

static void test_fallback_constant_fills_a_gap_and_the_end(void **s_)
{
	fp_error_t err = { 0 };
	fp_series_t *s = parse("g.csv",
			       "2024-01-15T00:00Z,40\n"
			       "2024-01-15T02:00Z,60\n",
			       FP_FORMAT_PLAIN, 0, &err);
	fp_fallback_t fb = fallback("100");
	fp_fill_t fill;
	double m;

	/* [00:30, 03:30): 30 min 40, 60 min gap 100, 60 min 60, 30 min 100:
	 * (30*40 + 60*100 + 60*60 + 30*100) / 180 = 13800 / 180 */
	assert_int_equal(fp_series_mean_fallback(
				 s, &fb, T("2024-01-15T00:30:00Z"),
				 T("2024-01-15T03:30:00Z"), &m, &fill, &err),
			 0);
	assert_float_equal(m, 13800.0 / 180, 1e-12);
	assert_float_equal(fill.fraction, 90.0 / 180, 1e-12);
	assert_int_equal(fill.first, T("2024-01-15T01:00:00Z"));
	assert_int_equal(fill.end, T("2024-01-15T03:30:00Z"));
	fp_series_free(s);
}

/* Three days of an hourly series 00:00..23:00: day d hour h is
 * 100 d + h (d = 0, 1, 2 from 2024-01-13). */
static fp_series_t *three_days(void)
{
	char text[3 * 24 * 32], *p = text;
	fp_error_t err = { 0 };
	fp_series_t *s;

	for (int d = 0; d < 3; d++)
		for (int h = 0; h < 24; h++)
			p += sprintf(p, "2024-01-%02dT%02d:00Z,%d\n", 13 + d, h,
				     100 * d + h);
	s = parse("days.csv", text, FP_FORMAT_PLAIN, 0, &err);
	assert_non_null(s);
	return s;
}

static void test_fallback_same_hour_means_that_hour_of_the_last_days(void **s_)
{
	fp_series_t *s = three_days();
	fp_fallback_t fb = fallback("same-hour:2");
	fp_error_t err = { 0 };
	fp_fill_t fill;
	double m;

	/* 2024-01-16 05:00-06:00 is past the end (2024-01-16 00:00): the
	 * 05:00 hours of the 2 days before, 105 and 205, mean 155 */
	assert_int_equal(fp_series_mean_fallback(
				 s, &fb, T("2024-01-16T05:00:00Z"),
				 T("2024-01-16T06:00:00Z"), &m, &fill, &err),
			 0);
	assert_float_equal(m, 155, 1e-12);
	assert_float_equal(fill.fraction, 1, 1e-12);
	/* 23:30 on the 15th to 00:30 on the 16th: 30 min of 223, then 30
	 * min of hour 00 of the 15th and 14th (200 + 100) / 2 = 150 */
	assert_int_equal(fp_series_mean_fallback(
				 s, &fb, T("2024-01-15T23:30:00Z"),
				 T("2024-01-16T00:30:00Z"), &m, &fill, &err),
			 0);
	assert_float_equal(m, (223 + 150) / 2.0, 1e-12);
	/* 4 days on: only the 16th's... none of the 2 days before exists */
	assert_int_equal(fp_series_mean_fallback(
				 s, &fb, T("2024-01-19T05:00:00Z"),
				 T("2024-01-19T06:00:00Z"), &m, &fill, &err),
			 -1);
	assert_non_null(strstr(err.msg, "same-hour:2"));
	fp_series_free(s);
}

static void test_fallback_monthly_mean_is_the_last_30_days_mean(void **s_)
{
	fp_series_t *s = three_days();
	fp_fallback_t fb = fallback("monthly-mean");
	fp_error_t err = { 0 };
	fp_fill_t fill;
	double m;

	/* all 72 hours are within 30 days of the end: the mean of
	 * 100 d + h over d = 0..2, h = 0..23 is 100 + 11.5 */
	assert_int_equal(fp_series_mean_fallback(
				 s, &fb, T("2024-01-20T05:00:00Z"),
				 T("2024-01-20T06:00:00Z"), &m, &fill, &err),
			 0);
	assert_float_equal(m, 111.5, 1e-12);
	fp_series_free(s);
}

static void test_plain_accepts_offsets_and_a_header_line(void **state)
{
	fp_error_t err = { 0 };
	fp_series_t *s = parse("p.csv",
			       "time,value\n"
			       "2024-01-15T02:00:00+02:00,33\n",
			       FP_FORMAT_PLAIN, 0, &err);

	assert_non_null(s);
	assert_float_equal(value_at(s, "2024-01-15T00:00:00Z"), 33, 1e-9);
	fp_series_free(s);
}

static const char emaps[] =
	"Datetime (UTC),Country,Zone Name,Zone Id,"
	"Carbon Intensity gCO\xe2\x82\x82"
	"eq/kWh (direct),"
	"Carbon Intensity gCO\xe2\x82\x82"
	"eq/kWh (LCA),"
	"Low Carbon Percentage,Renewable Percentage,Data Source,"
	"Data Estimated,Data Estimation Method\n"
	"2023-01-01 00:00:00,France,\"France\",FR,28.79,62.13,91.6,29.7,"
	"entsoe.eu,false,\n"
	"2023-01-01 01:00:00,France,\"France\",FR,30.01,64.5,91.2,28.9,"
	"entsoe.eu,false,\n";

static void test_electricitymaps_lca_column_by_default(void **state)
{
	fp_error_t err = { 0 };
	fp_series_t *s = parse("FR_2023_hourly.csv", emaps, FP_FORMAT_AUTO,
			       FP_INTENSITY_UNSET, &err);

	assert_non_null(s);
	assert_int_equal(fp_series_format(s), FP_FORMAT_ELECTRICITYMAPS);
	assert_int_equal(fp_series_kind(s), FP_INTENSITY_LCA);
	assert_float_equal(value_at(s, "2023-01-01T00:10:00Z"), 62.13, 1e-9);
	assert_float_equal(value_at(s, "2023-01-01T01:10:00Z"), 64.5, 1e-9);
	fp_series_free(s);
}

static void test_electricitymaps_direct_column_on_request(void **state)
{
	fp_error_t err = { 0 };
	fp_series_t *s = parse("FR.csv", emaps, FP_FORMAT_AUTO,
			       FP_INTENSITY_DIRECT, &err);

	assert_non_null(s);
	assert_float_equal(value_at(s, "2023-01-01T00:10:00Z"), 28.79, 1e-9);
	fp_series_free(s);
}

static void test_electricitymaps_without_column_names_line(void **state)
{
	fp_error_t err = { 0 };
	fp_series_t *s = parse("FR.csv",
			       "Datetime (UTC),Country\n"
			       "2023-01-01 00:00:00,France\n",
			       FP_FORMAT_AUTO, FP_INTENSITY_LCA, &err);

	assert_null(s);
	assert_non_null(strstr(err.msg, "FR.csv:1:"));
	assert_non_null(strstr(err.msg, "(LCA)"));
}

static void test_bad_number_names_file_line_and_field(void **state)
{
	fp_error_t err = { 0 };
	char text[2048];
	fp_series_t *s;

	snprintf(text, sizeof(text), "%s%s", emaps,
		 "2023-01-01 02:00:00,France,France,FR,30,sixty,0,0,x,"
		 "false,\n");
	s = parse("FR.csv", text, FP_FORMAT_AUTO, FP_INTENSITY_LCA, &err);
	assert_null(s);
	assert_int_equal(err.code, FP_EPARSE);
	assert_non_null(strstr(err.msg, "FR.csv:4:"));
	assert_non_null(strstr(err.msg, "Carbon Intensity (LCA)"));
	assert_non_null(strstr(err.msg, "sixty"));
}

static void test_eco2mix_winter_local_time_is_utc_plus_one(void **state)
{
	fp_error_t err = { 0 };
	fp_series_t *s =
		parse("eCO2mix_RTE_2024.csv",
		      "P\xe9rim\xe8tre;Nature;Date;Heures;Consommation;"
		      "Taux de CO2 (g/kWh)\n"
		      "France;Donn\xe9"
		      "es temps r\xe9"
		      "el;2024-01-15;01:00;"
		      "70000;40\n"
		      "France;Donn\xe9"
		      "es temps r\xe9"
		      "el;2024-01-15;01:15;"
		      "70000;44\n",
		      FP_FORMAT_AUTO, FP_INTENSITY_UNSET, &err);

	assert_non_null(s);
	assert_int_equal(fp_series_format(s), FP_FORMAT_ECO2MIX);
	assert_int_equal(fp_series_kind(s), FP_INTENSITY_DIRECT);
	/* 01:00 and 01:15 Paris (CET) are 00:00 and 00:15 UTC, each a
	 * quarter */
	assert_float_equal(value_at(s, "2024-01-15T00:10:00Z"), 40, 1e-9);
	assert_float_equal(value_at(s, "2024-01-15T00:20:00Z"), 44, 1e-9);
	fp_series_free(s);
}

static void test_eco2mix_summer_local_time_is_utc_plus_two(void **state)
{
	fp_error_t err = { 0 };
	fp_series_t *s =
		parse("eco2mix.xls",
		      "P\xe9rim\xe8tre\tNature\tDate\tHeures\tTaux de CO2 "
		      "(g/kWh)\n"
		      "France\tDonn\xe9"
		      "es\t15/07/2024\t14:00\t21\n",
		      FP_FORMAT_AUTO, FP_INTENSITY_UNSET, &err);

	assert_non_null(s);
	assert_float_equal(value_at(s, "2024-07-15T12:00:00Z"), 21, 1e-9);
	fp_series_free(s);
}

static void test_eco2mix_repeated_october_hour_is_cest_then_cet(void **s_)
{
	fp_error_t err = { 0 };
	/* 29 October 2023: 03:00 CEST becomes 02:00 CET */
	fp_series_t *s = parse("eco2mix.csv",
			       "Date;Heures;Taux de CO2 (g/kWh)\n"
			       "2023-10-29;01:00;10\n"
			       "2023-10-29;02:00;20\n"
			       "2023-10-29;02:00;30\n"
			       "2023-10-29;03:00;40\n",
			       FP_FORMAT_ECO2MIX, 0, &err);

	assert_non_null(s);
	assert_float_equal(value_at(s, "2023-10-28T23:00:00Z"), 10, 1e-9);
	assert_float_equal(value_at(s, "2023-10-29T00:00:00Z"), 20, 1e-9);
	assert_float_equal(value_at(s, "2023-10-29T01:00:00Z"), 30, 1e-9);
	assert_float_equal(value_at(s, "2023-10-29T02:00:00Z"), 40, 1e-9);
	fp_series_free(s);
}

static void test_eco2mix_skips_empty_quarters_and_footer(void **state)
{
	fp_error_t err = { 0 };
	fp_series_t *s = parse("eco2mix.csv",
			       "Date;Heures;Taux de CO2 (g/kWh)\n"
			       "2024-01-15;01:00;40\n"
			       "2024-01-15;01:15;\n"
			       "2024-01-15;01:30;ND\n"
			       "RTE ne pourra \xea"
			       "tre tenu responsable\n",
			       FP_FORMAT_ECO2MIX, 0, &err);

	assert_non_null(s);
	assert_int_equal(fp_series_hours(s), 1);
	assert_float_equal(value_at(s, "2024-01-15T00:50:00Z"), 40, 1e-9);
	fp_series_free(s);
}

static void test_eco2mix_refuses_lca(void **state)
{
	fp_error_t err = { 0 };
	fp_series_t *s = parse("eco2mix.csv",
			       "Date;Heures;Taux de CO2\n"
			       "2024-01-15;01:00;40\n",
			       FP_FORMAT_ECO2MIX, FP_INTENSITY_LCA, &err);

	assert_null(s);
	assert_non_null(strstr(err.msg, "direct"));
}

static void test_months_series_is_one_in_season(void **state)
{
	/* October to April */
	unsigned mask = 0;
	fp_series_t *s;

	for (int m = 10; m != 5; m = m % 12 + 1)
		mask |= 1u << (m - 1);
	s = fp_series_new_months("months:10-4", mask);
	assert_float_equal(value_at(s, "2024-01-15T12:00:00Z"), 1, 0);
	assert_float_equal(value_at(s, "2024-04-30T23:59:59Z"), 1, 0);
	assert_float_equal(value_at(s, "2024-05-01T00:00:00Z"), 0, 0);
	assert_float_equal(value_at(s, "2024-10-01T00:00:00Z"), 1, 0);
	fp_series_free(s);
}

static void test_constant_holds_at_any_time(void **state)
{
	fp_series_t *s = fp_series_new_constant("constant:56", 56);
	double m;
	fp_error_t err = { 0 };

	assert_float_equal(value_at(s, "1999-01-01T00:00:00Z"), 56, 0);
	assert_int_equal(fp_series_mean(s, 0, 1000000, &m, &err), 0);
	assert_float_equal(m, 56, 0);
	fp_series_free(s);
}

static void test_load_of_a_missing_file_names_it(void **state)
{
	fp_error_t err = { 0 };

	assert_null(
		fp_series_load("/nonexistent/fr.csv", FP_FORMAT_AUTO, 0, &err));
	assert_int_equal(err.code, FP_EIO);
	assert_non_null(strstr(err.msg, "/nonexistent/fr.csv"));
}

static void test_load_reads_a_file(void **state)
{
	char path[] = "/tmp/fp-signals-XXXXXX";
	int fd = mkstemp(path);
	fp_error_t err = { 0 };
	fp_series_t *s;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, plain, strlen(plain)),
			 (ssize_t)strlen(plain));
	close(fd);
	s = fp_series_load(path, FP_FORMAT_AUTO, 0, &err);
	unlink(path);
	assert_non_null(s);
	assert_string_equal(fp_series_name(s), path);
	assert_float_equal(value_at(s, "2024-01-15T03:00:00Z"), 90, 1e-9);
	fp_series_free(s);
}

static void test_range_check_rejects_a_fraction_above_one(void **state)
{
	fp_error_t err = { 0 };
	fp_series_t *s = parse("heat.csv",
			       "2024-01-15T00:00Z,0.5\n"
			       "2024-01-15T01:00Z,1.5\n",
			       FP_FORMAT_PLAIN, 0, &err);

	assert_int_equal(fp_series_check_range(s, 0, 1, &err), -1);
	assert_non_null(strstr(err.msg, "2024-01-15T01:00:00Z"));
	fp_series_free(s);
}

static void test_negative_intensity_is_rejected(void **state)
{
	fp_error_t err = { 0 };

	assert_null(parse("x.csv", "2024-01-15T00:00Z,-3\n", FP_FORMAT_PLAIN, 0,
			  &err));
	assert_non_null(strstr(err.msg, "x.csv:1:"));
}

static void test_span_reports_first_hour_and_end(void **state)
{
	fp_error_t err = { 0 };
	fp_series_t *s = parse("fr.csv", plain, FP_FORMAT_PLAIN, 0, &err);
	time_t a, b;

	assert_true(fp_series_span(s, &a, &b));
	assert_int_equal(a, T("2024-01-15T00:00:00Z"));
	assert_int_equal(b, T("2024-01-15T04:00:00Z"));
	fp_series_free(s);
}

static void test_a_time_given_twice_is_refused_naming_both_lines(void **s_)
{
	fp_error_t err = { 0 };

	assert_null(parse("fr.csv",
			  "2024-01-15T00:00Z,40\n"
			  "2024-01-15T00:00Z,60\n",
			  FP_FORMAT_PLAIN, 0, &err));
	assert_non_null(strstr(err.msg, "fr.csv:2: time 2024-01-15T00:00:00Z "
					"already given on line 1"));
}

static void test_rows_out_of_time_order_are_refused_naming_the_line(void **s_)
{
	fp_error_t err = { 0 };

	assert_null(parse("fr.csv",
			  "2024-01-15T00:00Z,40\n"
			  "2024-01-15T02:00Z,60\n2024-01-15T01:00Z,50\n",
			  FP_FORMAT_PLAIN, 0, &err));
	assert_non_null(strstr(err.msg,
			       "fr.csv:3: time 2024-01-15T01:00:00Z "
			       "comes before 2024-01-15T02:00:00Z of line 2"));
}

static void test_a_value_above_any_grid_is_refused_naming_the_line(void **s_)
{
	fp_error_t err = { 0 };

	assert_null(parse("fr.csv",
			  "2024-01-15T00:00Z,40\n"
			  "2024-01-15T01:00Z,1e300\n",
			  FP_FORMAT_PLAIN, 0, &err));
	assert_int_equal(err.code, FP_EINVAL);
	assert_non_null(strstr(err.msg, "fr.csv:2: field 'value': 1e300 is "
					"above 2000"));
	/* The bound itself is a value; g/MWh given for g/kWh is not. */
	assert_true(parse_free_ok("2024-01-15T00:00Z,2000\n"));
	assert_false(parse_free_ok("2024-01-15T00:00Z,2000.5\n"));
	assert_false(parse_free_ok("2024-01-15T00:00Z,52000\n"));
}

static void test_eco2mix_spring_hour_that_does_not_exist_is_refused(void **s_)
{
	fp_error_t err = { 0 };

	/* 31 March 2024: 02:00 CET becomes 03:00 CEST */
	assert_null(parse("eco2mix.csv",
			  "Date;Heures;Taux de CO2 (g/kWh)\n"
			  "2024-03-31;01:45;10\n2024-03-31;02:00;20\n"
			  "2024-03-31;03:00;30\n",
			  FP_FORMAT_ECO2MIX, 0, &err));
	assert_non_null(strstr(err.msg, "eco2mix.csv:3: field 'Heures': "
					"2024-03-31 02:00 does not exist"));
}

static void test_eco2mix_autumn_hour_given_three_times_is_refused(void **s_)
{
	fp_error_t err = { 0 };

	assert_null(parse("eco2mix.csv",
			  "Date;Heures;Taux de CO2 (g/kWh)\n"
			  "2023-10-29;02:00;20\n2023-10-29;02:00;30\n"
			  "2023-10-29;02:00;35\n",
			  FP_FORMAT_ECO2MIX, 0, &err));
	assert_non_null(strstr(err.msg,
			       "eco2mix.csv:4: field 'Heures': "
			       "2023-10-29 02:00 appears a third time"));
}

static void test_eco2mix_date_heure_without_offset_is_refused(void **s_)
{
	fp_error_t err = { 0 };

	assert_null(parse("eco2mix.csv",
			  "Date - Heure;Taux de CO2 (g/kWh)\n"
			  "2024-01-15T01:00:00+01:00;40\n"
			  "2024-01-15T02:00:00;44\n",
			  FP_FORMAT_ECO2MIX, 0, &err));
	assert_non_null(strstr(err.msg,
			       "eco2mix.csv:3: field 'Date - Heure': "
			       "'2024-01-15T02:00:00' has no UTC offset"));
}

static void test_no_value_after_the_end_says_the_end_is_exclusive(void **s_)
{
	fp_error_t err = { 0 };
	fp_series_t *s = parse("fr.csv",
			       "2024-01-15T00:00Z,40\n"
			       "2024-01-15T03:00Z,60\n",
			       FP_FORMAT_PLAIN, 0, &err);
	double v;

	assert_non_null(s);
	assert_int_equal(
		fp_series_value(s, T("2024-01-15T04:00:00Z"), &v, &err), -1);
	assert_non_null(strstr(err.msg,
			       "no value for 2024-01-15T04:00:00Z "
			       "(it covers 2024-01-15T00:00:00Z up to "
			       "2024-01-15T04:00:00Z exclusive: its last value "
			       "starts at 2024-01-15T03:00:00Z)"));
	fp_series_free(s);
}

static void test_an_endless_line_is_refused_at_the_line_cap(void **s_)
{
	char path[] = "/tmp/fp-series-XXXXXX";
	int fd = mkstemp(path);
	fp_error_t err = { 0 };
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("2024-01-15T00:00Z,40\n", f);
	for (int i = 0; i < FP_SERIES_MAX_LINE + 1; i++)
		fputc('9', f);
	fclose(f);
	assert_null(fp_series_load(path, FP_FORMAT_PLAIN, 0, &err));
	assert_non_null(strstr(err.msg, ":2: line longer than the limit "
					"(65536 bytes a line"));
	unlink(path);
}

static void test_dev_zero_is_refused_at_its_first_byte(void **s_)
{
	fp_error_t err = { 0 };

	assert_null(fp_series_load("/dev/zero", FP_FORMAT_AUTO, 0, &err));
	assert_non_null(strstr(err.msg, "/dev/zero:1: a NUL byte"));
}

static void test_a_file_above_the_size_cap_is_refused_unread(void **s_)
{
	char path[] = "/tmp/fp-series-XXXXXX";
	int fd = mkstemp(path);
	fp_error_t err = { 0 };

	assert_true(fd >= 0);
	/* Sparse: the size says it all, nothing is read. */
	assert_int_equal(ftruncate(fd, FP_SERIES_MAX_BYTES + 1), 0);
	close(fd);
	assert_null(fp_series_load(path, FP_FORMAT_AUTO, 0, &err));
	assert_non_null(strstr(err.msg, "larger than 128 MiB"));
	unlink(path);
}

static void test_text_in_memory_gets_the_same_caps(void **s_)
{
	fp_error_t err = { 0 };
	const char text[] = "2024-01-15T00:00Z,40\n2024-01-15T01:00Z,4\0"
			    "0\n";

	assert_null(fp_series_parse("mem.csv", text, sizeof(text) - 1,
				    FP_FORMAT_PLAIN, 0, &err));
	assert_non_null(strstr(err.msg, "mem.csv:2: a NUL byte"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_a_time_given_twice_is_refused_naming_both_lines),
		cmocka_unit_test(
			test_rows_out_of_time_order_are_refused_naming_the_line),
		cmocka_unit_test(
			test_a_value_above_any_grid_is_refused_naming_the_line),
		cmocka_unit_test(
			test_eco2mix_spring_hour_that_does_not_exist_is_refused),
		cmocka_unit_test(
			test_eco2mix_autumn_hour_given_three_times_is_refused),
		cmocka_unit_test(
			test_eco2mix_date_heure_without_offset_is_refused),
		cmocka_unit_test(
			test_no_value_after_the_end_says_the_end_is_exclusive),
		cmocka_unit_test(
			test_an_endless_line_is_refused_at_the_line_cap),
		cmocka_unit_test(test_dev_zero_is_refused_at_its_first_byte),
		cmocka_unit_test(
			test_a_file_above_the_size_cap_is_refused_unread),
		cmocka_unit_test(test_text_in_memory_gets_the_same_caps),
		cmocka_unit_test(test_plain_value_holds_for_its_whole_hour),
		cmocka_unit_test(
			test_time_after_the_series_is_an_error_naming_it),
		cmocka_unit_test(
			test_gap_in_the_series_is_an_error_not_interpolated),
		cmocka_unit_test(test_each_value_holds_until_the_next_one),
		cmocka_unit_test(test_a_mean_over_quarters_equals_the_hand_sum),
		cmocka_unit_test(test_resolution_hour_averages_each_utc_hour),
		cmocka_unit_test(
			test_a_missing_hour_of_quarters_is_a_gap_not_bridged),
		cmocka_unit_test(test_fallback_parses_each_form_and_reads_back),
		cmocka_unit_test(
			test_fallback_last_holds_the_last_value_past_the_end),
		cmocka_unit_test(test_fallback_none_fails_as_without_one),
		cmocka_unit_test(
			test_fallback_constant_fills_a_gap_and_the_end),
		cmocka_unit_test(
			test_fallback_same_hour_means_that_hour_of_the_last_days),
		cmocka_unit_test(
			test_fallback_monthly_mean_is_the_last_30_days_mean),
		cmocka_unit_test(test_mean_weights_each_hour_by_its_overlap),
		cmocka_unit_test(test_plain_accepts_offsets_and_a_header_line),
		cmocka_unit_test(test_electricitymaps_lca_column_by_default),
		cmocka_unit_test(test_electricitymaps_direct_column_on_request),
		cmocka_unit_test(
			test_electricitymaps_without_column_names_line),
		cmocka_unit_test(test_bad_number_names_file_line_and_field),
		cmocka_unit_test(
			test_eco2mix_winter_local_time_is_utc_plus_one),
		cmocka_unit_test(
			test_eco2mix_summer_local_time_is_utc_plus_two),
		cmocka_unit_test(
			test_eco2mix_repeated_october_hour_is_cest_then_cet),
		cmocka_unit_test(test_eco2mix_skips_empty_quarters_and_footer),
		cmocka_unit_test(test_eco2mix_refuses_lca),
		cmocka_unit_test(test_months_series_is_one_in_season),
		cmocka_unit_test(test_constant_holds_at_any_time),
		cmocka_unit_test(test_load_of_a_missing_file_names_it),
		cmocka_unit_test(test_load_reads_a_file),
		cmocka_unit_test(test_range_check_rejects_a_fraction_above_one),
		cmocka_unit_test(test_negative_intensity_is_rejected),
		cmocka_unit_test(test_span_reports_first_hour_and_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
