/* Specification of lib/report_html: the HTML job report of a summary the
 * carbon code computed from the test's own series, read back as text. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "footprint/carbon.h"
#include "footprint/report_html.h"
#include "footprint/summary.h"
#include "footprint/whatif.h"

/* Hours 00..11 of 2024-01-15 UTC. */
static const double GAS[] = { 300, 250, 200, 60,  400, 500,
			      450, 420, 380, 300, 280, 260 };
static const double ELEC[] = {
	90, 80, 70, 20, 100, 110, 95, 85, 75, 65, 55, 50
};

static char dir[64];
static fp_config_t *cfg;

static void write_series(const char *name, const double *v)
{
	char path[128];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	for (int h = 0; h < 12; h++)
		fprintf(f, "2024-01-15T%02d:00:00Z,%g\n", h, v[h]);
	fclose(f);
}

static int setup(void **state)
{
	char path[128];
	fp_error_t err = { 0 };
	FILE *f;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/fp-html-XXXXXX");
	assert_non_null(mkdtemp(dir));
	write_series("gas.csv", GAS);
	write_series("elec.csv", ELEC);
	snprintf(path, sizeof(path), "%s/footprint.conf", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("Site=gas Nodes=n1 Intensity=file:gas.csv PUE=1.0 "
	      "HeatRecovery=0.9 DisplacedHeating=gas UsefulHeat=1.0\n"
	      "Site=elec Nodes=n2 Intensity=file:elec.csv PUE=1.2 "
	      "HeatRecovery=0.9 DisplacedHeating=electric UsefulHeat=0\n"
	      "Site=dc Nodes=n3 Intensity=150 PUE=1.5\n"
	      "NodeType=heater Nodes=n1,n2,n3 Embodied=1000 Lifetime=5 "
	      "CPUs=8\n",
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

	(void)state;
	fp_config_free(cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static const char *SINGLE =
	"{\"job_id\": 42, \"user\": \"<b>al&ce\\\"'</b>\", \"account\": "
	"\"proj\", \"cluster\": \"qh\", \"start\": \"2024-01-15T02:30:00Z\", "
	"\"end\": \"2024-01-15T04:30:00Z\", \"energy_source\": \"measured\", "
	"\"steps\": [{\"id\": \"42.batch\", \"start\": "
	"\"2024-01-15T02:30:00Z\", \"end\": \"2024-01-15T04:30:00Z\", "
	"\"energy_j\": 7200000, \"nodes\": [{\"name\": \"n1\", \"cpus\": 4}]}]}";

static const char *MULTI =
	"{\"job_id\": 43, \"user\": \"bob\", \"account\": \"proj\", "
	"\"start\": \"2024-01-15T03:00:00Z\", \"end\": "
	"\"2024-01-15T06:00:00Z\", \"energy_source\": \"measured\", "
	"\"steps\": [{\"id\": \"43.0\", \"start\": \"2024-01-15T03:00:00Z\", "
	"\"end\": \"2024-01-15T06:00:00Z\", \"energy_j\": 10800000, "
	"\"nodes\": [{\"name\": \"n1\", \"cpus\": 8, \"energy_j\": 3600000}, "
	"{\"name\": \"n2\", \"cpus\": 8, \"energy_j\": 7200000}]}]}";

/* A report of a summary computed by the carbon code, as the worker does. */
static fp_report_t *report_of(const char *jobjson)
{
	fp_error_t err = { 0 };
	fp_job_t *job = fp_carbon_job_from_json("job.json", jobjson,
						strlen(jobjson), &err);
	fp_result_t *res;
	fp_report_t *r;
	char *payload;

	assert_non_null(job);
	res = fp_carbon_compute(cfg, job, fp_config_hostlist_match_plain, NULL,
				&err);
	assert_non_null(res);
	payload = fp_summary_dumps(res, &err);
	assert_non_null(payload);
	r = fp_report_from_summary("42.jws", payload, &err);
	assert_non_null(r);
	free(payload);
	fp_carbon_result_free(res);
	fp_carbon_job_free(job);
	return r;
}

struct page {
	fp_report_t *r;
	fp_report_html_t *h;
	fp_whatif_t *w;
	char *html;
};

static char *render(const fp_report_html_t *h)
{
	fp_error_t err = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	assert_int_equal(fp_report_html_write(h, f, &err), 0);
	fclose(f);
	return buf;
}

/* What sfootprint -j N --html does: curves and what-if from cfg. */
static struct page page_of(const char *jobjson)
{
	struct page p = { 0 };
	fp_error_t err = { 0 };
	fp_whatif_job_t wj;

	p.r = report_of(jobjson);
	p.h = fp_report_html_new(p.r, "valid (kid test)", &err);
	assert_non_null(p.h);
	assert_int_equal(fp_report_html_set_curves(p.h, cfg, &err), 0);
	wj.energy_j = p.r->energy_it_wh * 3600;
	wj.elapsed_s = p.r->elapsed_s;
	wj.embodied_g = p.r->embodied_g;
	wj.start = fp_report_parse_utc(p.r->start);
	p.w = fp_whatif_compute(cfg, &wj, wj.start - 3 * 3600,
				wj.start + 3 * 3600, &err);
	assert_non_null(p.w);
	fp_report_html_set_whatif(p.h, p.w, wj.start - 3 * 3600,
				  wj.start + 3 * 3600);
	p.html = render(p.h);
	return p;
}

static void page_free(struct page *p)
{
	free(p->html);
	fp_report_html_free(p->h);
	fp_whatif_free(p->w);
	fp_report_free(p->r);
}

/* The text of the class="num" cell of row `key` in table `table`. */
static double cell(const char *html, const char *table, const char *key)
{
	char id[64], k[64];
	const char *t, *p;

	snprintf(id, sizeof(id), "id=\"%s\"", table);
	snprintf(k, sizeof(k), "data-key=\"%s\"", key);
	t = strstr(html, id);
	assert_non_null(t);
	p = strstr(t, k);
	assert_non_null(p);
	assert_true(p < strstr(t, "</table>"));
	p = strstr(p, "class=\"num\"");
	assert_non_null(p);
	p = strchr(p, '>');
	return strtod(p + 1, NULL);
}

static size_t count(const char *s, const char *what)
{
	size_t n = 0;

	for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
		n++;
	return n;
}

static double round3(double x)
{
	return round(x * 1000) / 1000;
}

static void test_every_figure_is_present_titled_and_labelled_in_units(void **s)
{
	struct page p = page_of(SINGLE);
	static const char *const want[] = {
		"<svg id=\"fig-energy\"",
		"<svg id=\"fig-hourly-0\"",
		"<svg id=\"fig-compare\"",
		"<svg id=\"fig-whatif\"",
		">Energy (Wh)</text>",
		">Emissions (gCO2e)</text>",
		">Hour (UTC)</text>",
		">Job&#39;s emissions (gCO2e per hour)</text>",
		">Grid intensity (gCO2e/kWh)</text>",
		">Start time (UTC, hour)</text>",
		">Site</text>",
		">Footprint (gCO2e)</text>",
	};

	(void)s;
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		if (!strstr(p.html, want[i]))
			fail_msg("missing %s", want[i]);
	/* each figure has its own title (the accessible name) */
	assert_int_equal(count(p.html, "<svg "), 4);
	assert_int_equal(count(p.html, "<title id=\"fig-"), 4);
	page_free(&p);
}

static void test_printed_numbers_equal_the_summary(void **s)
{
	struct page p = page_of(SINGLE);
	const fp_report_t *r = p.r;

	(void)s;
	assert_true(r->footprint_g > 0 && r->reference_g > 0 &&
		    r->avoided_g > 0);
	assert_float_equal(cell(p.html, "table-compare", "footprint_g"),
			   round3(r->footprint_g), 1e-9);
	assert_float_equal(cell(p.html, "table-compare", "reference_g"),
			   round3(r->reference_g), 1e-9);
	assert_float_equal(cell(p.html, "table-compare", "avoided_g"),
			   round3(r->avoided_g), 1e-9);
	assert_float_equal(cell(p.html, "table-compare", "net_g"),
			   round3(r->net_g), 1e-9);
	assert_float_equal(cell(p.html, "table-energy", "facility_wh"),
			   round3(r->energy_wh), 1e-9);
	assert_float_equal(cell(p.html, "table-energy", "it_wh"),
			   round3(r->energy_it_wh), 1e-9);
	assert_float_equal(cell(p.html, "table-hourly-0", "site_operational_g"),
			   round3(r->sites[0].operational_g), 1e-9);
	page_free(&p);
}

static void test_hours_sum_to_the_site_operational_figure(void **s)
{
	struct page p = page_of(MULTI);
	const fp_report_html_curve_t *c;
	size_t n;

	(void)s;
	c = fp_report_html_curves(p.h, &n);
	assert_non_null(c);
	assert_int_equal(n, p.r->nsites);
	assert_int_equal(n, 2);
	for (size_t i = 0; i < n; i++) {
		double sum = 0;

		assert_false(c[i].flat);
		for (size_t k = 0; k < c[i].nhours; k++)
			sum += c[i].hours[k].emissions_g;
		assert_float_equal(sum, p.r->sites[i].operational_g,
				   1e-9 * p.r->sites[i].operational_g);
	}
	page_free(&p);
}

static void test_curve_is_the_series_with_context_hours(void **s)
{
	struct page p = page_of(SINGLE);
	const fp_report_html_curve_t *c;
	size_t n;

	(void)s;
	c = fp_report_html_curves(p.h, &n);
	/* job 02:30-04:30 -> hours 02, 03, 04, plus 3 before and after;
	 * the series starts at 00:00 */
	assert_int_equal(c[0].nhours, 2 + 3 + 3);
	for (size_t k = 0; k < c[0].nhours; k++) {
		int hour = (int)(c[0].hours[k].start % 86400 / 3600);

		assert_float_equal(c[0].hours[k].intensity, GAS[hour], 1e-12);
	}
	assert_float_equal(c[0].hours[2].job_s, 1800, 0);
	assert_float_equal(c[0].hours[3].job_s, 3600, 0);
	assert_float_equal(c[0].hours[4].job_s, 1800, 0);
	assert_float_equal(c[0].hours[5].emissions_g, 0, 0);
	/* 30 min at 200 g/kWh weighs 100 against 60 min at 60: 60 */
	assert_float_equal(c[0].hours[2].emissions_g /
				   c[0].hours[3].emissions_g,
			   100.0 / 60, 1e-9);
	page_free(&p);
}

static void test_multisite_job_has_one_curve_per_site(void **s)
{
	struct page p = page_of(MULTI);

	(void)s;
	assert_non_null(strstr(p.html, "<svg id=\"fig-hourly-0\""));
	assert_non_null(strstr(p.html, "<svg id=\"fig-hourly-1\""));
	assert_null(strstr(p.html, "fig-hourly-2"));
	assert_non_null(strstr(p.html, ">Site gas: "));
	assert_non_null(strstr(p.html, ">Site elec: "));
	assert_float_equal(cell(p.html, "table-hourly-1", "site_operational_g"),
			   round3(p.r->sites[1].operational_g), 1e-9);
	page_free(&p);
}

static void test_page_refers_to_nothing_outside_itself(void **s)
{
	struct page p = page_of(MULTI);

	(void)s;
	assert_null(strstr(p.html, "http"));
	assert_null(strstr(p.html, "<script"));
	assert_null(strstr(p.html, "<link"));
	assert_null(strstr(p.html, "<img"));
	assert_null(strstr(p.html, "@import"));
	assert_null(strstr(p.html, "@font-face"));
	for (const char *q = strstr(p.html, "src="); q;
	     q = strstr(q + 1, "src="))
		assert_memory_equal(q, "src=\"data:", 10);
	for (const char *q = strstr(p.html, "url("); q;
	     q = strstr(q + 1, "url("))
		assert_memory_equal(q, "url(#", 5);
	for (const char *q = strstr(p.html, "href="); q;
	     q = strstr(q + 1, "href="))
		assert_memory_equal(q, "href=\"#", 7);
	page_free(&p);
}

static void test_user_names_are_escaped_for_html(void **s)
{
	struct page p = page_of(SINGLE);

	(void)s;
	assert_null(strstr(p.html, "<b>"));
	assert_non_null(
		strstr(p.html, "&lt;b&gt;al&amp;ce&#34;&#39;&lt;/b&gt;"));
	page_free(&p);
}

static void test_escape_repairs_control_bytes_then_entities(void **s)
{
	char *e = fp_report_html_escape("a\x01<\xff>");

	(void)s;
	assert_string_equal(e, "a\\x01&lt;\\xff&gt;");
	free(e);
	assert_null(fp_report_html_escape(NULL));
}

static void test_domains_when_given_split_the_it_energy(void **s)
{
	fp_report_t *r = report_of(SINGLE);
	fp_error_t err = { 0 };
	fp_report_html_t *h = fp_report_html_new(r, NULL, &err);
	char *html;

	(void)s;
	fp_report_html_set_domains(h, 1.2, 0.3, 0);
	html = render(h);
	assert_float_equal(cell(html, "table-energy", "package_wh"), 1.2, 0);
	assert_float_equal(cell(html, "table-energy", "dram_wh"), 0.3, 0);
	assert_float_equal(cell(html, "table-energy", "rest_wh"),
			   round3(r->energy_it_wh - 1.5), 1e-9);
	assert_null(strstr(html, "data-key=\"gpu_wh\""));
	assert_null(strstr(html, "data-key=\"it_wh\""));
	free(html);
	fp_report_html_set_domains(h, 1.2, 0.3, 0.25);
	html = render(h);
	assert_float_equal(cell(html, "table-energy", "gpu_wh"), 0.25, 0);
	assert_float_equal(cell(html, "table-energy", "rest_wh"),
			   round3(r->energy_it_wh - 1.75), 1e-9);
	free(html);
	fp_report_html_free(h);
	fp_report_free(r);
}

/* A summary's energy_parts give CPU packages and DRAM as one figure. */
static void test_unknown_dram_is_inside_the_packages_bar(void **s)
{
	fp_report_t *r = report_of(SINGLE);
	fp_error_t err = { 0 };
	fp_report_html_t *h = fp_report_html_new(r, NULL, &err);
	char *html;

	(void)s;
	fp_report_html_set_domains(h, 1.5, NAN, 0.25);
	html = render(h);
	assert_float_equal(cell(html, "table-energy", "package_wh"), 1.5, 0);
	assert_non_null(strstr(html, "CPU packages + DRAM"));
	assert_null(strstr(html, "data-key=\"dram_wh\""));
	assert_float_equal(cell(html, "table-energy", "rest_wh"),
			   round3(r->energy_it_wh - 1.75), 1e-9);
	free(html);
	fp_report_html_free(h);
	fp_report_free(r);
}

/* fp_report_html_page of a summary payload whose energy_parts are given
 * (parts: the members, JSON text). */
static char *page_with_parts(fp_report_t **rp, const char *parts)
{
	fp_error_t err = { 0 };
	fp_job_t *job = fp_carbon_job_from_json("job.json", SINGLE,
						strlen(SINGLE), &err);
	fp_result_t *res;
	json_t *sum;
	char *payload, *buf = NULL;
	size_t len = 0;
	FILE *f;

	assert_non_null(job);
	res = fp_carbon_compute(cfg, job, fp_config_hostlist_match_plain, NULL,
				&err);
	assert_non_null(res);
	sum = fp_summary_json(res, &err);
	assert_non_null(sum);
	assert_int_equal(json_object_set_new(sum, "energy_parts",
					     json_loads(parts, 0, NULL)),
			 0);
	payload = json_dumps(sum, JSON_COMPACT);
	*rp = fp_report_from_summary("42.jws", payload, &err);
	assert_non_null(*rp);
	f = open_memstream(&buf, &len);
	assert_int_equal(fp_report_html_page(*rp, "valid", payload, NULL,
					     "No what-if here", f, &err),
			 0);
	fclose(f);
	free(payload);
	json_decref(sum);
	fp_carbon_result_free(res);
	fp_carbon_job_free(job);
	return buf;
}

static void test_page_splits_packages_and_dram_from_the_summary(void **s)
{
	fp_report_t *r;
	char *html = page_with_parts(
		&r, "{\"records\": 1, \"expected\": 1, "
		    "\"energy_Wh\": 2, \"cpu_dram_Wh\": 1.5, \"cpu_Wh\": 1.2, "
		    "\"dram_Wh\": 0.3, \"gpu_Wh\": 0.25, \"rest_Wh\": 0.25}");

	(void)s;
	assert_float_equal(cell(html, "table-energy", "package_wh"), 1.2, 0);
	assert_float_equal(cell(html, "table-energy", "dram_wh"), 0.3, 0);
	assert_float_equal(cell(html, "table-energy", "gpu_wh"), 0.25, 0);
	assert_null(strstr(html, "CPU packages + DRAM"));
	free(html);
	fp_report_free(r);
}

static void test_page_of_an_older_summary_keeps_dram_in_packages(void **s)
{
	fp_report_t *r;
	char *html = page_with_parts(
		&r, "{\"records\": 1, \"expected\": 1, "
		    "\"energy_Wh\": 2, \"cpu_dram_Wh\": 1.5, \"gpu_Wh\": 0.25, "
		    "\"rest_Wh\": 0.25}");

	(void)s;
	assert_float_equal(cell(html, "table-energy", "package_wh"), 1.5, 0);
	assert_non_null(strstr(html, "CPU packages + DRAM"));
	assert_null(strstr(html, "data-key=\"dram_wh\""));
	free(html);
	fp_report_free(r);
}

static void test_without_series_the_curve_is_the_summary_mean_said(void **s)
{
	fp_report_t *r = report_of(SINGLE);
	fp_error_t err = { 0 };
	fp_report_html_t *h = fp_report_html_new(r, NULL, &err);
	const fp_report_html_curve_t *c;
	size_t n;
	char *html;

	(void)s;
	assert_int_equal(fp_report_html_set_curves(h, NULL, &err), 0);
	c = fp_report_html_curves(h, &n);
	assert_int_equal(n, 1);
	assert_true(c[0].flat);
	assert_int_equal(c[0].nhours, 3);
	assert_float_equal(c[0].hours[1].intensity, r->sites[0].intensity, 0);
	html = render(h);
	assert_non_null(strstr(html, "no hourly series"));
	assert_non_null(strstr(html, "No what-if."));
	free(html);
	fp_report_html_free(h);
	fp_report_free(r);
}

static void test_whatif_cells_carry_each_option_and_mark_the_start(void **s)
{
	struct page p = page_of(SINGLE);
	char want[160], v[32];

	(void)s;
	assert_true(p.w->noptions > 3);
	for (size_t i = 0; i < p.w->noptions; i++) {
		const fp_whatif_option_t *o = &p.w->options[i];

		snprintf(v, sizeof(v), "%.3f", o->footprint_g);
		snprintf(want, sizeof(want),
			 "data-site=\"%s\" "
			 "data-start=\"%lld\" data-value=\"%s\"",
			 o->site, (long long)o->start, v);
		if (!strstr(p.html, want))
			fail_msg("no cell %s", want);
	}
	assert_int_equal(count(p.html, "class=\"cell\""), p.w->noptions);
	assert_int_equal(count(p.html, "class=\"actual\""), 1);
	assert_int_equal(count(p.html, "<tr class=\"option\""), 5);
	page_free(&p);
}

static void test_curves_say_when_footprint_conf_changed(void **s)
{
	fp_report_t *r = report_of(SINGLE);
	fp_error_t err = { 0 };
	fp_report_html_t *h = fp_report_html_new(r, NULL, &err);
	char *html;

	(void)s;
	memset(r->config, 'a', 64);
	assert_int_equal(fp_report_html_set_curves(h, cfg, &err), 0);
	html = render(h);
	assert_non_null(strstr(html, "footprint.conf changed since the job"));
	free(html);
	fp_report_html_free(h);
	fp_report_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_every_figure_is_present_titled_and_labelled_in_units),
		cmocka_unit_test(test_printed_numbers_equal_the_summary),
		cmocka_unit_test(test_hours_sum_to_the_site_operational_figure),
		cmocka_unit_test(test_curve_is_the_series_with_context_hours),
		cmocka_unit_test(test_multisite_job_has_one_curve_per_site),
		cmocka_unit_test(test_page_refers_to_nothing_outside_itself),
		cmocka_unit_test(test_user_names_are_escaped_for_html),
		cmocka_unit_test(
			test_escape_repairs_control_bytes_then_entities),
		cmocka_unit_test(test_domains_when_given_split_the_it_energy),
		cmocka_unit_test(test_unknown_dram_is_inside_the_packages_bar),
		cmocka_unit_test(
			test_page_splits_packages_and_dram_from_the_summary),
		cmocka_unit_test(
			test_page_of_an_older_summary_keeps_dram_in_packages),
		cmocka_unit_test(
			test_without_series_the_curve_is_the_summary_mean_said),
		cmocka_unit_test(
			test_whatif_cells_carry_each_option_and_mark_the_start),
		cmocka_unit_test(test_curves_say_when_footprint_conf_changed),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
