/* Specification of lib/summary: the summary JSON with carbon_facts, its
 * determinism, and the FP1 job-record form shared with other tools. */
#include <math.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "footprint/step.h"
#include "footprint/summary.h"

/* A result written by hand: 2 kWh IT, PUE 1.2, 1.08 kWh reused. */
static fp_result_t *result(void)
{
	fp_result_t *r = calloc(1, sizeof(*r));

	r->job_id = 4242;
	r->user = strdup("alice");
	r->account = strdup("proj");
	r->start = 1705276800;
	r->end = 1705280400;
	r->elapsed_s = 3600;
	r->energy_source = FP_ENERGY_MEASURED;
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
	r->erf = 0.45;
	r->ere = 0.66;
	r->core_hours = 32;
	r->per_core_hour_g = 125.5 / 32;
	r->intensity = 50;
	r->reference_name = strdup("standard-datacenter");
	r->reference_intensity = strdup("site");
	snprintf(r->config_digest, sizeof(r->config_digest), "%064d", 7);
	return r;
}

static json_t *summary(const fp_result_t *r)
{
	fp_error_t err = { 0 };
	json_t *j = fp_summary_json(r, &err);

	assert_non_null(j);
	return j;
}

static double num_at(json_t *o, const char *obj, const char *key)
{
	json_t *v = json_object_get(json_object_get(o, obj), key);

	assert_true(json_is_number(v));
	return json_number_value(v);
}

/* A job whose footprint cannot be computed gets a summary saying why, with
 * its accounting as given (a Latin-1 name escaped, not refused), and a
 * record that says not ok. */
static void test_an_incomplete_summary_says_why_and_keeps_the_job(void **state)
{
	char *s = fp_summary_incomplete(4242, "jos\xe9", "proj", 1705276800, 0,
					"node 'x' is in no Site's Nodes=");
	char *rec = fp_summary_record_incomplete(4294967295u);
	json_t *j, *job;

	(void)state;
	assert_non_null(s);
	j = json_loads(s, 0, NULL);
	assert_non_null(j);
	assert_int_equal(
		json_integer_value(json_object_get(j, "schema_version")),
		FP_SUMMARY_SCHEMA_VERSION);
	assert_true(json_is_false(json_object_get(j, "complete")));
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(j, "incomplete"), 0)),
			    "node 'x' is in no Site's Nodes=");
	job = json_object_get(j, "job");
	assert_int_equal(json_integer_value(json_object_get(job, "id")), 4242);
	assert_string_equal(json_string_value(json_object_get(job, "user")),
			    "jos\\xe9");
	assert_string_equal(json_string_value(json_object_get(job, "start")),
			    "2024-01-15T00:00:00Z");
	assert_string_equal(json_string_value(json_object_get(job, "end")), "");
	assert_non_null(
		strstr(json_string_value(json_object_get(j, "software")),
		       "slurm-footprint "));
	assert_string_equal(rec, "FP1:{\"job\":4294967295,\"ok\":false}");
	json_decref(j);
	free(s);
	free(rec);
}

static void test_summary_carries_the_schema_version(void **state)
{
	fp_result_t *r = result();
	json_t *j = summary(r);

	assert_int_equal(
		json_integer_value(json_object_get(j, "schema_version")),
		FP_SUMMARY_SCHEMA_VERSION);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(j, "config"), "sha256")),
			    r->config_digest);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(j, "energy"), "source")),
			    "measured");
	json_decref(j);
	fp_carbon_result_free(r);
}

static void test_carbon_facts_use_the_qarnot_field_names(void **state)
{
	static const char *names[] = {
		"total_consumed_energy_Wh",
		"total_energy_it_Wh",
		"total_reused_energy_Wh",
		"qarnot_carbon_footprint",
		"equivalent_datacenter_name",
		"equivalent_DC_carbon_footprint",
		"saved_carbon_footprint_compute",
		"saved_carbon_footprint_heat",
		"saved_carbon_footprint_compute_heat",
		"saved_carbon_footprint_percent",
		"PUE",
		"ERE",
		"ERF",
	};
	fp_result_t *r = result();
	json_t *j = summary(r), *cf = json_object_get(j, "carbon_facts");

	assert_int_equal(json_object_size(cf), 13);
	for (size_t i = 0; i < 13; i++)
		assert_non_null(json_object_get(cf, names[i]));
	json_decref(j);
	fp_carbon_result_free(r);
}

static void test_carbon_facts_values_are_in_wh_and_grams(void **state)
{
	fp_result_t *r = result();
	json_t *j = summary(r);

	assert_float_equal(num_at(j, "carbon_facts",
				  "total_consumed_energy_Wh"),
			   2400, 1e-9);
	assert_float_equal(num_at(j, "carbon_facts", "total_energy_it_Wh"),
			   2000, 1e-9);
	assert_float_equal(num_at(j, "carbon_facts", "total_reused_energy_Wh"),
			   1080, 1e-9);
	assert_float_equal(num_at(j, "carbon_facts", "qarnot_carbon_footprint"),
			   125.5, 1e-9);
	assert_float_equal(num_at(j, "carbon_facts",
				  "saved_carbon_footprint_heat"),
			   245.16, 1e-9);
	assert_float_equal(num_at(j, "carbon_facts",
				  "saved_carbon_footprint_compute_heat"),
			   905.5 - 125.5 + 245.16, 1e-9);
	assert_float_equal(num_at(j, "carbon_facts", "PUE"), 1.2, 1e-9);
	json_decref(j);
	fp_carbon_result_free(r);
}

static void test_net_is_labelled_and_separate_from_footprint(void **s)
{
	fp_result_t *r = result();
	json_t *j = summary(r);

	assert_float_equal(num_at(j, "carbon", "footprint"), 125.5, 1e-9);
	assert_float_equal(num_at(j, "carbon", "avoided_heat_reuse"), 245.16,
			   1e-9);
	assert_float_equal(num_at(j, "carbon", "net"), 125.5 - 245.16, 1e-9);
	assert_non_null(
		strstr(json_string_value(json_object_get(
			       json_object_get(j, "carbon"), "net_label")),
		       "not a footprint"));
	json_decref(j);
	fp_carbon_result_free(r);
}

static void test_dump_is_compact_and_deterministic(void **state)
{
	fp_result_t *r = result();
	fp_error_t err = { 0 };
	char *a = fp_summary_dumps(r, &err), *b = fp_summary_dumps(r, &err);

	assert_non_null(a);
	assert_string_equal(a, b);
	assert_null(strchr(a, '\n'));
	assert_null(strstr(a, "\": "));
	/* shortest exact form: no float noise like 125.50000000000001 */
	assert_non_null(strstr(a, "\"footprint\":125.5,"));
	free(a);
	free(b);
	fp_carbon_result_free(r);
}

static void test_undefined_ratios_are_null(void **state)
{
	fp_result_t *r = result();
	json_t *j;

	r->pue = NAN;
	j = summary(r);
	assert_true(json_is_null(
		json_object_get(json_object_get(j, "carbon_facts"), "PUE")));
	json_decref(j);
	fp_carbon_result_free(r);
}

static void test_incomplete_reasons_are_listed(void **state)
{
	fp_result_t *r = result();
	json_t *j;

	r->complete = false;
	r->incomplete = calloc(1, sizeof(char *));
	r->incomplete[0] = strdup("step 4242.extern: energy missing");
	r->nincomplete = 1;
	j = summary(r);
	assert_true(json_is_false(json_object_get(j, "complete")));
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(j, "incomplete"), 0)),
			    "step 4242.extern: energy missing");
	json_decref(j);
	fp_carbon_result_free(r);
}

static void test_record_has_prefix_and_never_a_quote(void **state)
{
	fp_result_t *r = result();
	fp_error_t err = { 0 };
	char *rec = fp_summary_record_format(r, &err);

	assert_non_null(rec);
	assert_memory_equal(rec, "FP1:{", 5);
	assert_null(strchr(rec, '\''));
	assert_null(strchr(rec, ' '));
	free(rec);
	fp_carbon_result_free(r);
}

static void test_record_parses_back(void **state)
{
	fp_result_t *r = result();
	fp_error_t err = { 0 };
	char *rec = fp_summary_record_format(r, &err);
	fp_record_t p;

	assert_int_equal(fp_summary_record_parse(rec, &p, &err), 0);
	assert_int_equal(p.version, 1);
	assert_int_equal(p.job_id, 4242);
	assert_true(p.complete);
	assert_int_equal(p.source, FP_ENERGY_MEASURED);
	assert_float_equal(p.energy_wh, 2400, 1e-9);
	assert_float_equal(p.footprint_g, 125.5, 1e-9);
	assert_float_equal(p.avoided_g, 245.16, 1e-9);
	assert_float_equal(p.net_g, 125.5 - 245.16, 1e-9);
	assert_string_equal(p.config, "0000000000000000");
	free(rec);
	fp_carbon_result_free(r);
}

static void test_merge_into_an_empty_field_is_ours(void **state)
{
	fp_error_t err = { 0 };
	char *m = fp_summary_record_merge(NULL, "FP1:{\"v\":1}", &err);

	assert_string_equal(m, "FP1:{\"v\":1}");
	free(m);
	m = fp_summary_record_merge("", "FP1:{\"v\":1}", &err);
	assert_string_equal(m, "FP1:{\"v\":1}");
	free(m);
}

static void test_merge_keeps_jobstats_content_first(void **state)
{
	/* jobstats reads startswith("JS1:"): its part must stay first. */
	fp_error_t err = { 0 };
	char *m = fp_summary_record_merge(
		"JS1:H4sIAAAAAAAAA6tWKkktLlGyUlA=", "FP1:{\"v\":1}", &err);

	assert_string_equal(m, "JS1:H4sIAAAAAAAAA6tWKkktLlGyUlA= "
			       "FP1:{\"v\":1}");
	free(m);
}

static void test_merge_replaces_only_our_previous_part(void **state)
{
	fp_error_t err = { 0 };
	char *m = fp_summary_record_merge(
		"JS1:abc= FP1:{\"v\":1,\"src\":\"a}b\",\"g\":1} note:xFP1:{}",
		"FP1:{\"v\":1,\"g\":2}", &err);

	assert_string_equal(m, "JS1:abc= FP1:{\"v\":1,\"g\":2} note:xFP1:{}");
	free(m);
}

static void test_merge_refuses_a_field_holding_a_quote(void **state)
{
	fp_error_t err = { 0 };

	assert_null(fp_summary_record_merge("it's", "FP1:{\"v\":1}", &err));
	assert_non_null(strstr(err.msg, "quote"));
}

static void test_parse_of_a_field_without_ours_is_absent(void **state)
{
	fp_error_t err = { 0 };
	fp_record_t p;

	assert_int_equal(fp_summary_record_parse("JS1:abcd", &p, &err), 1);
	assert_int_equal(fp_summary_record_parse(NULL, &p, &err), 1);
	assert_int_equal(fp_summary_record_parse("FP1:{\"v\":1}", &p, &err),
			 -1);
}

/* One site and one node on it, as fp_carbon_compute fills them. */
static void add_site_and_node(fp_result_t *r, const char *site,
			      const char *node)
{
	r->sites = calloc(1, sizeof(*r->sites));
	r->nsites = 1;
	r->sites[0].site = strdup(site);
	r->sites[0].energy_j = r->energy_it_j;
	r->sites[0].facility_energy_j = r->energy_facility_j;
	r->sites[0].pue = 1.2;
	r->sites[0].intensity = 50;
	r->sites[0].intensity_series = strdup("constant:50");
	r->sites[0].useful_heat_series = strdup("months:10-4");
	r->sites[0].displaced = strdup("gas");
	r->sites[0].displaced_source = strdup("ADEME");
	r->nodes = calloc(1, sizeof(*r->nodes));
	r->nnodes = 1;
	r->nodes[0].node = strdup(node);
	r->nodes[0].site = strdup(site);
	r->nodes[0].cpus = 32;
	r->nodes[0].energy_j = r->energy_it_j;
}

static const char *str_at(json_t *o, const char *obj, const char *key)
{
	json_t *v = json_object_get(json_object_get(o, obj), key);

	assert_true(json_is_string(v));
	return json_string_value(v);
}

static bool repaired(json_t *j, const char *field)
{
	size_t i;
	json_t *v;

	json_array_foreach(json_object_get(j, "text_repaired"), i,
			   v) if (!strcmp(json_string_value(v),
					  field)) return true;
	return false;
}

static void test_latin1_user_is_escaped_and_named_in_text_repaired(void **state)
{
	fp_result_t *r = result();
	json_t *j;

	free(r->user);
	r->user = strdup("ren\xe9"); /* "rené" from a Latin-1 passwd */
	free(r->account);
	r->account = strdup("proj\\a\xff");
	j = summary(r);
	assert_string_equal(str_at(j, "job", "user"), "ren\\xe9");
	assert_string_equal(str_at(j, "job", "account"), "proj\\\\a\\xff");
	assert_true(repaired(j, "job.user"));
	assert_true(repaired(j, "job.account"));
	assert_false(repaired(j, "job.cluster"));
	/* the figures are all there: text does not make a job incomplete */
	assert_true(json_is_true(json_object_get(j, "complete")));
	assert_float_equal(num_at(j, "carbon", "footprint"), 125.5, 1e-9);
	json_decref(j);
	fp_carbon_result_free(r);
}

static void test_latin1_site_and_node_names_keep_the_breakdown(void **state)
{
	fp_result_t *r = result();
	json_t *j, *site, *node;

	add_site_and_node(r,
			  "Orl\xe9"
			  "ans",
			  "n\xe9"
			  "1");
	j = summary(r);
	assert_int_equal(json_array_size(json_object_get(j, "sites")), 1);
	assert_int_equal(json_array_size(json_object_get(j, "nodes")), 1);
	site = json_array_get(json_object_get(j, "sites"), 0);
	node = json_array_get(json_object_get(j, "nodes"), 0);
	assert_string_equal(json_string_value(json_object_get(site, "name")),
			    "Orl\\xe9ans");
	assert_string_equal(json_string_value(json_object_get(node, "name")),
			    "n\\xe91");
	assert_string_equal(json_string_value(json_object_get(node, "site")),
			    "Orl\\xe9ans");
	assert_non_null(json_object_get(json_object_get(j, "useful_heat"),
					"Orl\\xe9ans"));
	assert_true(repaired(j, "sites[0].name"));
	assert_true(repaired(j, "nodes[0].name"));
	assert_true(repaired(j, "useful_heat"));
	json_decref(j);
	fp_carbon_result_free(r);
}

static void test_valid_text_has_no_text_repaired(void **state)
{
	fp_result_t *r = result();
	json_t *j;

	add_site_and_node(r,
			  "Orl\xc3\xa9"
			  "ans",
			  "qh001");
	j = summary(r);
	assert_null(json_object_get(j, "text_repaired"));
	assert_string_equal(
		json_string_value(json_object_get(
			json_array_get(json_object_get(j, "sites"), 0),
			"name")),
		"Orl\xc3\xa9"
		"ans");
	json_decref(j);
	fp_carbon_result_free(r);
}

/* jansson's allocator, failing from the n-th call on. */
static long alloc_left;

static void *failing_malloc(size_t n)
{
	return alloc_left-- > 0 ? malloc(n) : NULL;
}

static void
test_a_failed_json_call_is_an_error_never_a_missing_part(void **state)
{
	fp_result_t *r = result();
	fp_error_t err;
	bool whole = false;

	add_site_and_node(r, "paris", "qh001");
	/* every allocation that can fail, in turn */
	for (long n = 0; !whole && n < 100000; n++) {
		json_t *j;

		alloc_left = n;
		json_set_alloc_funcs(failing_malloc, free);
		fp_error_clear(&err);
		j = fp_summary_json(r, &err);
		json_set_alloc_funcs(malloc, free);
		if (!j) {
			assert_int_equal(err.code, FP_ENOMEM);
			assert_non_null(strstr(err.msg, "job 4242: cannot "
							"build "));
			continue;
		}
		assert_int_equal(json_array_size(json_object_get(j, "sites")),
				 1);
		assert_int_equal(json_array_size(json_object_get(j, "nodes")),
				 1);
		assert_non_null(json_object_get(
			json_object_get(j, "useful_heat"), "paris"));
		assert_non_null(json_object_get(json_object_get(j, "carbon"),
						"intensity_gco2e_per_kwh"));
		assert_non_null(json_object_get(
			json_object_get(
				json_array_get(json_object_get(j, "sites"), 0),
				"intensity"),
			"series"));
		json_decref(j);
		whole = true;
	}
	assert_true(whole);
	fp_carbon_result_free(r);
}

/* The number at a path of the dumped text, read back with strtod. */
static double dumped(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	assert_non_null(p);
	return strtod(p + strlen(key), NULL);
}

static void test_small_job_energy_survives_in_the_summary(void **state)
{
	fp_result_t *r = result();
	fp_error_t err = { 0 };
	char *s, *rec;

	r->energy_it_j = 1.44; /* 0.0004 Wh: printed 0.000 before */
	r->energy_facility_j = 1.44 * 1.2;
	s = fp_summary_dumps(r, &err);
	rec = fp_summary_record_format(r, &err);
	assert_non_null(s);
	assert_non_null(rec);
	assert_true(dumped(s, "\"it_Wh\":") == 1.44 / 3600);
	assert_true(dumped(s, "\"facility_Wh\":") == 1.44 * 1.2 / 3600);
	assert_true(dumped(rec, "\"Wh\":") == 1.44 * 1.2 / 3600);
	free(s);
	free(rec);
	fp_carbon_result_free(r);
}

static void test_erf_and_ere_keep_every_digit(void **state)
{
	fp_result_t *r = result();
	fp_error_t err = { 0 };
	char *s;

	r->erf = 0.123456789123;
	r->ere = 2.0 / 3;
	s = fp_summary_dumps(r, &err);
	assert_non_null(s);
	assert_non_null(strstr(s, "\"ERF\":0.123456789123"));
	assert_true(dumped(s, "\"ERE\":") == 2.0 / 3);
	free(s);
	fp_carbon_result_free(r);
}

/* Every real of a against b, at the same place. */
static void same_reals(json_t *a, json_t *b)
{
	const char *k;
	json_t *v;
	size_t i;

	if (json_is_real(a)) {
		assert_true(json_is_number(b));
		if (json_real_value(a) != json_number_value(b))
			fail_msg("%.17g read back as %.17g", json_real_value(a),
				 json_number_value(b));
	} else if (json_is_object(a)) {
		json_object_foreach(a, k, v)
			same_reals(v, json_object_get(b, k));
	} else if (json_is_array(a)) {
		json_array_foreach(a, i, v) same_reals(v, json_array_get(b, i));
	}
}

static void test_every_dumped_figure_reads_back_to_the_same_double(void **state)
{
	fp_result_t *r = result();
	fp_error_t err = { 0 };
	json_t *built, *back;
	char *s;

	add_site_and_node(r, "paris", "qh001");
	r->operational_g = 0.1 + 0.2;
	r->footprint_g = 125.5 + 1e-9;
	r->saved_percent = 100.0 / 3;
	built = summary(r);
	s = fp_summary_dumps(r, &err);
	assert_non_null(s);
	back = json_loads(s, 0, NULL);
	assert_non_null(back);
	same_reals(built, back);
	/* and the noise-free forms stay short */
	assert_non_null(strstr(s, "\"PUE\":1.2,"));
	assert_non_null(strstr(s, "\"operational\":0.30000000000000004,"));
	json_decref(built);
	json_decref(back);
	free(s);
	fp_carbon_result_free(r);
}

/* ---- energy by part and the GPUs held (issue #15) ---- */

/* The job of result() on node n1 (2 kWh, 120 g operational). */
static fp_result_t *result_on_n1(void)
{
	fp_result_t *r = result();

	r->nodes = calloc(1, sizeof(*r->nodes));
	r->nnodes = 1;
	r->nodes[0].node = strdup("n1");
	r->nodes[0].energy_j = r->energy_it_j;
	r->nodes[0].operational_g = r->operational_g;
	return r;
}

/* A node's step record as fp_step_parts_load gives it; gpu NULL: none,
 * else "index:floor_w" with floor_w < 0 for unknown. */
static json_t *record(const char *step, double end, double seconds,
		      double cpu_dram_j, double gpu_j, double rest_j,
		      const char *gpus)
{
	json_t *a = json_array();
	json_t *o;

	for (const char *g = gpus; g && *g;) {
		int idx = atoi(g);
		double fl = atof(strchr(g, ':') + 1);
		char uuid[32];

		snprintf(uuid, sizeof(uuid), "GPU-%04d", idx);
		json_array_append_new(
			a, json_pack("{s:i, s:s, s:s, s:s, s:s, s:o}", "index",
				     idx, "uuid", uuid, "model", "Fake A100",
				     "vendor", "nvidia", "source", "counter",
				     "floor_w",
				     fl < 0 ? json_null() : json_real(fl)));
		g = strchr(g, ',');
		g = g ? g + 1 : NULL;
	}
	o = json_pack("{s:i, s:s, s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:f, "
		      "s:o}",
		      "v", 1, "node", "n1", "step", step, "first_t",
		      end - seconds + 1, "last_t", end, "seconds", seconds,
		      "energy_j", cpu_dram_j + gpu_j + rest_j, "cpu_dram_j",
		      cpu_dram_j, "gpu_j", gpu_j, "rest_j", rest_j, "gpus", a);
	assert_non_null(o);
	return o;
}

/* Makes record o one of a node since the split: its RAPL share as
 * packages and DRAM, and each GPU's share (gpu_e[k] for its k-th). */
static json_t *split(json_t *o, double cpu_j, double dram_j,
		     const double *gpu_e)
{
	json_t *g;
	size_t k;

	assert_int_equal(json_object_set_new(o, "cpu_j", json_real(cpu_j)), 0);
	assert_int_equal(json_object_set_new(o, "dram_j", json_real(dram_j)),
			 0);
	json_array_foreach(json_object_get(o, "gpus"), k, g) assert_int_equal(
		json_object_set_new(g, "energy_j", json_real(gpu_e[k])), 0);
	return o;
}

static json_t *with_parts(const fp_result_t *r, json_t **p, size_t n,
			  size_t expected)
{
	fp_error_t err = { 0 };
	json_t *j = summary(r);

	assert_int_equal(fp_summary_add_parts(j, r, p, n, expected, &err), 0);
	for (size_t i = 0; i < n; i++)
		json_decref(p[i]);
	return j;
}

static json_t *gpu_at(json_t *j, size_t i)
{
	json_t *g = json_array_get(json_object_get(j, "gpus"), i);

	assert_non_null(g);
	return g;
}

static void test_parts_sum_cpu_dram_gpu_and_rest_over_steps(void **state)
{
	fp_result_t *r = result_on_n1();
	json_t *p[2] = { record("4242.batch", 2000, 100, 3600, 7200, 1800,
				"0:30"),
			 record("4242.0", 2000, 50, 36000, 0, 3600, NULL) };
	json_t *j = with_parts(r, p, 2, 2);

	assert_float_equal(num_at(j, "energy_parts", "cpu_dram_Wh"), 11, 1e-9);
	assert_float_equal(num_at(j, "energy_parts", "gpu_Wh"), 2, 1e-9);
	assert_float_equal(num_at(j, "energy_parts", "rest_Wh"), 1.5, 1e-9);
	assert_float_equal(num_at(j, "energy_parts", "energy_Wh"), 14.5, 1e-9);
	assert_int_equal(num_at(j, "energy_parts", "records"), 2);
	assert_int_equal(json_array_size(json_object_get(j, "gpus")), 1);
	json_decref(j);
	fp_carbon_result_free(r);
}

struct said {
	int n;
	char all[2048];
};

static void said_it(void *ctx, const char *msg)
{
	struct said *s = ctx;
	size_t used = strlen(s->all);

	s->n++;
	snprintf(s->all + used, sizeof(s->all) - used, "%s\n", msg);
}

static void write_record(const char *root, const char *node, const char *step,
			 const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, node);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", root, node, step);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The worker's view of a job's step records: one per step and node. A
 * record not there yet is counted absent and named (the worker may wait
 * for it); one there but damaged or unreadable is said, with its file,
 * and not waited for; none is guessed. */
static void test_gather_counts_absent_apart_from_unreadable(void **state)
{
	char root[] = "/tmp/test_summary.XXXXXX", dir[64], path[512];
	fp_job_t *job = fp_carbon_job_new();
	fp_step_t *st;
	fp_summary_parts_t g;
	struct said said = { 0 };
	const char *ok = "{\"v\":1,\"node\":\"n1\",\"step\":\"4242.0\","
			 "\"energy_j\":10,\"gpus\":[]}\n";

	assert_non_null(mkdtemp(root));
	assert_int_equal(chmod(root, 0711), 0);
	snprintf(dir, sizeof(dir), "%s/%%n", root);
	st = fp_carbon_job_add_step(job, "4242.0", 100, 200, 30);
	assert_int_equal(fp_carbon_step_add_node(st, "n1", 1, NAN), 0);
	assert_int_equal(fp_carbon_step_add_node(st, "n2", 1, NAN), 0);
	st = fp_carbon_job_add_step(job, "4242.1", 100, 200, 30);
	assert_int_equal(fp_carbon_step_add_node(st, "n1", 1, NAN), 0);
	st = fp_carbon_job_add_step(job, "4242.2", 100, 200, 30);
	assert_int_equal(fp_carbon_step_add_node(st, "n3", 1, NAN), 0);
	write_record(root, "n1", "4242.0", ok);
	write_record(root, "n1", "4242.1", "{not a record\n");
	write_record(root, "n3", "4242.2", ok);
	snprintf(path, sizeof(path), "%s/n3/4242.2", root);
	assert_int_equal(chmod(path, 0600), 0);

	/* as another user (root reads everything): n3's is unreadable */
	if (geteuid() == 0)
		assert_int_equal(seteuid(65534), 0);
	assert_int_equal(fp_summary_parts_gather(dir, job, said_it, &said, &g),
			 0);
	if (getuid() == 0)
		assert_int_equal(seteuid(0), 0);
	assert_int_equal(g.nexpected, 4);
	assert_int_equal(g.nparts, 1);
	assert_string_equal(
		json_string_value(json_object_get(g.parts[0], "node")), "n1");
	assert_int_equal(g.nabsent, 1);
	assert_int_equal(g.nunread, 2);
	assert_string_equal(g.absent, "4242.0 on n2");
	assert_false(g.absent_cut);
	assert_int_equal(said.n, 2);
	snprintf(path, sizeof(path), "%s/n1/4242.1", root);
	assert_non_null(strstr(said.all, path));
	snprintf(path, sizeof(path), "%s/n3/4242.2: %s", root,
		 strerror(EACCES));
	assert_non_null(strstr(said.all, path));
	fp_summary_parts_clear(&g);
	assert_int_equal(g.nparts, 0);
	assert_null(g.parts);

	/* no NodePartsDir=: nothing expected, nothing said */
	assert_int_equal(fp_summary_parts_gather(NULL, job, said_it, &said, &g),
			 0);
	assert_int_equal(g.nexpected, 0);
	assert_int_equal(said.n, 2);
	fp_summary_parts_clear(&g);
	fp_carbon_job_free(job);
	snprintf(path, sizeof(path), "rm -rf %s", root);
	assert_int_equal(system(path), 0);
}

/* Many absent records: the list says as many as fit and that there are
 * more; the count is exact. */
static void test_gather_names_the_absent_as_far_as_they_fit(void **state)
{
	fp_job_t *job = fp_carbon_job_new();
	fp_summary_parts_t g;
	char id[32];

	for (int i = 0; i < 100; i++) {
		fp_step_t *st;

		snprintf(id, sizeof(id), "77.%d", i);
		st = fp_carbon_job_add_step(job, id, 100, 200, 1);
		assert_int_equal(fp_carbon_step_add_node(st, "node-with-a-name",
							 1, NAN),
				 0);
	}
	assert_int_equal(fp_summary_parts_gather("/nonexistent/%n", job, NULL,
						 NULL, &g),
			 0);
	assert_int_equal(g.nabsent, 100);
	assert_int_equal(g.nexpected, 100);
	assert_true(g.absent_cut);
	assert_true(strlen(g.absent) < sizeof(g.absent));
	assert_int_equal(
		strncmp(g.absent, "77.0 on node-with-a-name, 77.1 on ", 34), 0);
	/* whole entries only */
	assert_non_null(strstr(g.absent + strlen(g.absent) - 20,
			       " on node-with-a-name"));
	fp_summary_parts_clear(&g);
	fp_carbon_job_free(job);
}

static void test_a_missing_record_is_counted_not_guessed(void **state)
{
	fp_result_t *r = result_on_n1();
	json_t *p[1] = { record("4242.batch", 2000, 100, 3600, 0, 0, NULL) };
	json_t *j = with_parts(r, p, 1, 3);

	assert_int_equal(num_at(j, "energy_parts", "records"), 1);
	assert_int_equal(num_at(j, "energy_parts", "expected"), 3);
	assert_float_equal(num_at(j, "energy_parts", "cpu_dram_Wh"), 1, 1e-9);
	json_decref(j);
	fp_carbon_result_free(r);
}

static void test_no_expected_record_adds_no_part(void **state)
{
	fp_result_t *r = result_on_n1();
	json_t *j = with_parts(r, NULL, 0, 0);

	assert_null(json_object_get(j, "energy_parts"));
	assert_null(json_object_get(j, "gpus"));
	assert_null(fp_summary_parts_text(j));
	json_decref(j);
	fp_carbon_result_free(r);
}

static void test_gpus_held_are_named_as_the_node_published_them(void **s)
{
	fp_result_t *r = result_on_n1();
	json_t *p[1] = { record("4242.batch", 2000, 100, 0, 7200, 0, "3:30") };
	json_t *j = with_parts(r, p, 1, 1);
	json_t *g = gpu_at(j, 0);

	assert_string_equal(json_string_value(json_object_get(g, "node")),
			    "n1");
	assert_int_equal(json_integer_value(json_object_get(g, "index")), 3);
	assert_string_equal(json_string_value(json_object_get(g, "uuid")),
			    "GPU-0003");
	assert_string_equal(json_string_value(json_object_get(g, "model")),
			    "Fake A100");
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(g, "steps"), 0)),
			    "4242.batch");
	json_decref(j);
	fp_carbon_result_free(r);
}

static void test_a_gpu_near_its_floor_is_idle_and_its_cost_said(void **s)
{
	fp_result_t *r = result_on_n1();
	/* 100 s at 31 W on a GPU whose floor is 30 W */
	json_t *p[1] = { record("4242.batch", 2000, 100, 0, 3100, 0, "0:30") };
	json_t *j = with_parts(r, p, 1, 1);
	json_t *g = gpu_at(j, 0);

	assert_true(json_is_true(json_object_get(g, "idle")));
	assert_float_equal(json_number_value(json_object_get(g, "mean_W")), 31,
			   1e-9);
	assert_float_equal(
		json_number_value(json_object_get(g, "idle_below_W")),
		30 * FP_GPU_IDLE_RATIO + FP_GPU_IDLE_MARGIN_W, 1e-9);
	/* 3100 J of the node's 7.2 MJ, which emitted 120 g */
	assert_float_equal(
		json_number_value(json_object_get(g, "operational_g")),
		120 * 3100 / 7.2e6, 1e-12);
	assert_float_equal(
		json_number_value(json_object_get(g, "footprint_share")),
		120 * 3100 / 7.2e6 / 125.5, 1e-12);
	json_decref(j);
	fp_carbon_result_free(r);
}

static void test_a_loaded_gpu_is_not_idle(void **state)
{
	fp_result_t *r = result_on_n1();
	json_t *p[1] = { record("4242.batch", 2000, 100, 0, 25000, 0, "0:30") };
	json_t *j = with_parts(r, p, 1, 1);

	assert_true(json_is_false(json_object_get(gpu_at(j, 0), "idle")));
	json_decref(j);
	fp_carbon_result_free(r);
}

static void test_a_gpu_without_floor_is_not_judged(void **state)
{
	fp_result_t *r = result_on_n1();
	json_t *p[1] = { record("4242.batch", 2000, 100, 0, 3000, 0, "0:-1") };
	json_t *j = with_parts(r, p, 1, 1);

	assert_true(json_is_null(json_object_get(gpu_at(j, 0), "idle")));
	json_decref(j);
	fp_carbon_result_free(r);
}

/* The job of result_on_n1 on two nodes, n1 and n2, half its energy each. */
static fp_result_t *result_on_n1_n2(void)
{
	fp_result_t *r = result_on_n1();

	r->nodes = realloc(r->nodes, 2 * sizeof(*r->nodes));
	memset(&r->nodes[1], 0, sizeof(r->nodes[1]));
	r->nnodes = 2;
	r->nodes[1].node = strdup("n2");
	r->nodes[0].energy_j = r->nodes[1].energy_j = r->energy_it_j / 2;
	return r;
}

/* Makes record o one of node `node` saying how it measured: its energy by
 * the node's source (J) and whether it was simulated. */
static json_t *measured(json_t *o, const char *node, bool simulated,
			double wall_j, double calibrated_j, double rapl_j,
			const char *meter)
{
	assert_int_equal(json_object_set_new(o, "node", json_string(node)), 0);
	assert_int_equal(
		json_object_set_new(o, "sources",
				    json_pack("{s:f, s:f, s:f, s:f}", "wall",
					      wall_j, "psys", 0.0, "calibrated",
					      calibrated_j, "rapl", rapl_j)),
		0);
	assert_int_equal(json_object_set_new(o, "simulated",
					     json_boolean(simulated)),
			 0);
	assert_int_equal(json_object_set_new(o, "meter", json_string(meter)),
			 0);
	return o;
}

static json_t *node_at(json_t *j, size_t i)
{
	json_t *n = json_array_get(json_object_get(j, "nodes"), i);

	assert_non_null(n);
	return n;
}

static void
test_the_nodes_records_say_the_jobs_source_over_the_setting(void **state)
{
	fp_result_t *r = result_on_n1_n2();
	json_t *p[3] = {
		measured(record("4242.0", 2000, 100, 3600, 0, 0, NULL), "n1",
			 true, 3600, 0, 0, "fp-simnode"),
		measured(record("4242.0", 2000, 100, 7200, 0, 0, NULL), "n2",
			 false, 5400, 0, 1800, "wall-2"),
		measured(record("4242.batch", 2000, 100, 3600, 0, 0, NULL),
			 "n1", true, 3600, 0, 0, "fp-simnode"),
	};
	json_t *j, *m;
	char *text;

	r->energy_source = FP_ENERGY_MEASURED; /* EnergySource= */
	assert_int_equal(fp_summary_parts_source(r, p, 3, 3), 0);
	assert_int_equal(r->energy_source, FP_ENERGY_SIMULATED);
	assert_true(r->energy_source_nodes);
	j = with_parts(r, p, 3, 3);
	assert_string_equal(str_at(j, "energy", "source"), "simulated");
	assert_string_equal(str_at(j, "energy", "source_by"), "nodes");
	m = json_object_get(node_at(j, 0), "measured_by");
	assert_string_equal(json_string_value(json_object_get(m, "source")),
			    "simulated");
	assert_int_equal(json_integer_value(json_object_get(m, "records")), 2);
	assert_float_equal(json_number_value(json_object_get(
				   json_object_get(m, "sources_Wh"), "wall")),
			   2, 1e-12);
	m = json_object_get(node_at(j, 1), "measured_by");
	assert_string_equal(json_string_value(json_object_get(m, "source")),
			    "measured");
	assert_string_equal(json_string_value(json_object_get(m, "meter")),
			    "wall-2");
	assert_float_equal(json_number_value(json_object_get(
				   json_object_get(m, "sources_Wh"), "rapl")),
			   0.5, 1e-12);
	text = fp_summary_parts_text(j);
	assert_non_null(strstr(text,
			       "Measured on the nodes (as each node "
			       "said):\n  n1: simulated, meter fp-simnode "
			       "(wall 2 Wh)\n  n2: measured, meter wall-2 "
			       "(wall 1.5 Wh, rapl 0.5 Wh)\n"));
	free(text);
	json_decref(j);
	fp_carbon_result_free(r);
}

static json_t *step_at(json_t *j, const char *id)
{
	json_t *steps = json_object_get(j, "steps"), *x;
	size_t i;

	json_array_foreach(steps, i, x)
	{
		if (!strcmp(json_string_value(json_object_get(x, "id")), id))
			return x;
	}
	fail_msg("no step %s in the summary", id);
	return NULL;
}

/* Each step's own "measured_by", over its nodes' records: a step on a
 * simulated and a measured node is simulated, one on the measured node
 * alone measured; a step's meters are its nodes' (not one of them). */
static void test_each_step_says_how_its_nodes_measured_it(void **state)
{
	fp_result_t *r = result_on_n1_n2();
	json_t *p[3] = {
		measured(record("4242.0", 2000, 100, 3600, 0, 0, NULL), "n1",
			 true, 3600, 0, 0, "fp-simnode"),
		measured(record("4242.0", 2000, 100, 7200, 0, 0, NULL), "n2",
			 false, 5400, 0, 1800, "wall-2"),
		measured(record("4242.1", 2000, 100, 3600, 0, 0, NULL), "n2",
			 false, 3600, 0, 0, "wall-2"),
	};
	json_t *j, *m;

	(void)state;
	r->steps = calloc(2, sizeof(*r->steps));
	r->nstep_results = 2;
	r->steps[0] = (fp_carbon_step_t){ strdup("4242.0"), FP_SPLIT_EXACT, 2,
					  3.6e6 };
	r->steps[1] = (fp_carbon_step_t){ strdup("4242.1"), FP_SPLIT_EXACT, 1,
					  3.6e6 };
	j = with_parts(r, p, 3, 3);
	m = json_object_get(step_at(j, "4242.0"), "measured_by");
	assert_string_equal(json_string_value(json_object_get(m, "source")),
			    "simulated");
	assert_int_equal(json_integer_value(json_object_get(m, "records")), 2);
	assert_float_equal(json_number_value(json_object_get(
				   json_object_get(m, "sources_Wh"), "wall")),
			   2.5, 1e-12);
	assert_null(json_object_get(m, "meter"));
	m = json_object_get(step_at(j, "4242.1"), "measured_by");
	assert_string_equal(json_string_value(json_object_get(m, "source")),
			    "measured");
	assert_int_equal(json_integer_value(json_object_get(m, "records")), 1);
	json_decref(j);
	fp_carbon_result_free(r);
}

static void test_a_node_mostly_calibrated_makes_the_job_calibrated(void **state)
{
	fp_result_t *r = result_on_n1_n2();
	json_t *p[2] = {
		measured(record("4242.0", 2000, 100, 3600, 0, 0, NULL), "n1",
			 false, 3600, 0, 0, "wall-1"),
		measured(record("4242.0", 2000, 100, 3600, 0, 0, NULL), "n2",
			 false, 1000, 2600, 0, "wall-2"),
	};

	assert_int_equal(fp_summary_parts_source(r, p, 2, 2), 0);
	assert_int_equal(r->energy_source, FP_ENERGY_CALIBRATED);
	json_decref(p[0]);
	json_decref(p[1]);
	fp_carbon_result_free(r);
}

static void
test_a_missing_or_older_record_leaves_the_setting_named(void **state)
{
	fp_result_t *r = result_on_n1_n2();
	json_t *p[2] = {
		measured(record("4242.0", 2000, 100, 3600, 0, 0, NULL), "n1",
			 true, 3600, 0, 0, "fp-simnode"),
		record("4242.0", 2000, 100, 3600, 0, 0, NULL),
	};
	json_t *j;

	r->energy_source = FP_ENERGY_MEASURED;
	/* one of two records: the nodes did not all say it */
	assert_int_equal(fp_summary_parts_source(r, p, 1, 2), -1);
	/* a record from a node before the sources */
	assert_int_equal(fp_summary_parts_source(r, p, 2, 2), -1);
	assert_int_equal(r->energy_source, FP_ENERGY_MEASURED);
	assert_false(r->energy_source_nodes);
	j = with_parts(r, p, 2, 2);
	assert_string_equal(str_at(j, "energy", "source"), "measured");
	assert_string_equal(str_at(j, "energy", "source_by"), "EnergySource");
	/* n1 said how it measured; the other record adds nothing */
	assert_non_null(json_object_get(node_at(j, 0), "measured_by"));
	json_decref(j);
	fp_carbon_result_free(r);
}

/* Gives GPU k of record o the times the node counted (step.h). */
static json_t *timed(json_t *o, size_t k, double idle_s, double judged_s,
		     double unread_s)
{
	json_t *g = json_array_get(json_object_get(o, "gpus"), k);

	assert_non_null(g);
	assert_int_equal(json_object_set_new(g, "idle_s", json_real(idle_s)),
			 0);
	assert_int_equal(
		json_object_set_new(g, "judged_s", json_real(judged_s)), 0);
	assert_int_equal(
		json_object_set_new(g, "unread_s", json_real(unread_s)), 0);
	return o;
}

static void
test_a_gpu_idle_most_of_the_time_is_idle_whatever_its_mean(void **state)
{
	fp_result_t *r = result_on_n1();
	/* a mean of 80 W, far above its 30 W floor: a burst of work then
	 * 70 of its 100 s idle. The mean hides it; the time does not. */
	json_t *p[1] = { timed(record("4242.batch", 2000, 100, 0, 8000, 0,
				      "0:30"),
			       0, 70, 100, 0) };
	json_t *j = with_parts(r, p, 1, 1);
	json_t *g = gpu_at(j, 0);
	char *text;

	assert_true(json_is_true(json_object_get(g, "idle")));
	assert_string_equal(json_string_value(json_object_get(g, "idle_by")),
			    "time");
	assert_float_equal(json_number_value(json_object_get(g, "idle_share")),
			   0.7, 1e-12);
	assert_float_equal(
		json_number_value(json_object_get(g, "unread_share")), 0, 0);
	text = fp_summary_parts_text(j);
	assert_non_null(strstr(text, "not used for 70 % of the time"));
	free(text);
	json_decref(j);
	fp_carbon_result_free(r);
}

static void
test_a_gpu_used_half_the_time_is_not_idle_nor_a_mostly_unread_one_judged(
	void **state)
{
	fp_result_t *r = result_on_n1();
	/* GPU 0: 50 s idle, 50 used: not idle for most. GPU 1: 20 s idle,
	 * 20 used, 60 unread: neither known */
	json_t *o = record("4242.batch", 2000, 100, 0, 8000, 0, "0:30,1:30");
	json_t *p[1] = { timed(timed(o, 0, 50, 100, 0), 1, 20, 40, 60) };
	json_t *j = with_parts(r, p, 1, 1);
	char *text;

	assert_true(json_is_false(json_object_get(gpu_at(j, 0), "idle")));
	assert_true(json_is_null(json_object_get(gpu_at(j, 1), "idle")));
	assert_float_equal(json_number_value(json_object_get(gpu_at(j, 1),
							     "unread_share")),
			   0.6, 1e-12);
	text = fp_summary_parts_text(j);
	assert_non_null(strstr(text, "for only 50 % of the time"));
	assert_non_null(strstr(text, "not read for 60 % of the time it "
				     "was held"));
	free(text);
	json_decref(j);
	fp_carbon_result_free(r);
}

static void test_a_record_without_times_judges_the_gpu_by_its_mean(void **state)
{
	fp_result_t *r = result_on_n1();
	/* one record with the times, one (the step before, on the same GPU)
	 * from a node before them: by the
	 * mean over both (31 W, near its 30 W floor) */
	json_t *p[2] = { timed(record("4242.batch", 2000, 100, 0, 3100, 0,
				      "0:30"),
			       0, 0, 100, 0),
			 record("4242.0", 1900, 100, 0, 3100, 0, "0:30") };
	json_t *j = with_parts(r, p, 2, 2);
	json_t *g = gpu_at(j, 0);

	assert_true(json_is_true(json_object_get(g, "idle")));
	assert_string_equal(json_string_value(json_object_get(g, "idle_by")),
			    "mean");
	assert_true(json_is_null(json_object_get(g, "idle_share")));
	json_decref(j);
	fp_carbon_result_free(r);
}

static void test_gpus_the_node_could_not_read_are_named_once(void **state)
{
	fp_result_t *r = result_on_n1();
	json_t *p[2] = { record("4242.batch", 2000, 100, 0, 3100, 0, "0:30"),
			 record("4242.0", 2000, 50, 0, 0, 0, NULL) };
	json_t *j, *u;
	char *text, *mail;

	assert_int_equal(json_object_set_new(p[0], "gpus_unknown",
					     json_pack("[s]", "3")),
			 0);
	assert_int_equal(
		json_object_set_new(p[1], "gpus_unknown",
				    json_pack("[s, s]", "3", "GPU-gone")),
		0);
	j = with_parts(r, p, 2, 2);
	u = json_object_get(j, "gpus_unknown");
	assert_int_equal(json_array_size(u), 2);
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(u, 0), "id")),
		"3");
	assert_string_equal(
		json_string_value(json_object_get(json_array_get(u, 1), "id")),
		"GPU-gone");
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(u, 1), "node")),
			    "n1");
	text = fp_summary_parts_text(j);
	mail = fp_summary_parts_mail(j);
	assert_non_null(strstr(text, "GPUs held but not read (no such device "
				     "on the node; their energy is in no GPU "
				     "figure): n1 GPU 3, n1 GPU GPU-gone"));
	assert_non_null(strstr(mail, "n1 GPU GPU-gone"));
	free(text);
	free(mail);
	json_decref(j);
	fp_carbon_result_free(r);
}

static void test_a_job_whose_gpus_all_read_has_no_unknown_key(void **state)
{
	fp_result_t *r = result_on_n1();
	json_t *p[1] = { record("4242.batch", 2000, 100, 0, 3100, 0, "0:30") };
	json_t *j = with_parts(r, p, 1, 1);

	assert_null(json_object_get(j, "gpus_unknown"));
	json_decref(j);
	fp_carbon_result_free(r);
}

static void
test_overlapping_steps_on_one_gpu_count_their_time_once(void **state)
{
	fp_result_t *r = result_on_n1();
	/* the batch step holds GPU 0 for [1900, 2000], an srun step inside
	 * it for [1950, 1990]: held 100 s, not 140 */
	json_t *p[2] = { record("4242.batch", 2000, 100, 0, 1500, 0, "0:30"),
			 record("4242.0", 1990, 40, 0, 1500, 0, "0:30") };
	json_t *j = with_parts(r, p, 2, 2);
	json_t *g = gpu_at(j, 0);

	assert_float_equal(json_number_value(json_object_get(g, "held_s")), 100,
			   1e-9);
	assert_float_equal(json_number_value(json_object_get(g, "mean_W")), 30,
			   1e-9);
	assert_int_equal(json_array_size(json_object_get(g, "steps")), 2);
	json_decref(j);
	fp_carbon_result_free(r);
}

static void test_a_step_on_two_gpus_gives_each_half(void **state)
{
	fp_result_t *r = result_on_n1();
	json_t *p[1] = { record("4242.batch", 2000, 100, 0, 8000, 0,
				"0:30,1:30") };
	json_t *j = with_parts(r, p, 1, 1);

	assert_float_equal(
		json_number_value(json_object_get(gpu_at(j, 0), "energy_Wh")),
		4000 / 3600.0, 1e-12);
	assert_int_equal(
		json_integer_value(json_object_get(gpu_at(j, 1), "index")), 1);
	/* a record without each GPU's share: said so */
	assert_string_equal(json_string_value(json_object_get(gpu_at(j, 0),
							      "energy_split")),
			    "even");
	json_decref(j);
	fp_carbon_result_free(r);
}

static void test_parts_text_shows_the_breakdown_and_flags_idle(void **s)
{
	fp_result_t *r = result_on_n1();
	json_t *p[2] = { record("4242.batch", 2000, 100, 3600, 3100, 360,
				"2:30"),
			 record("4242.0", 2000, 100, 0, 25000, 0, "1:30") };
	json_t *j = with_parts(r, p, 2, 2);
	char *t = fp_summary_parts_text(j);

	assert_non_null(t);
	assert_non_null(strstr(t, "Energy by part: "));
	assert_non_null(strstr(t, "CPU packages + DRAM: 1 Wh"));
	assert_non_null(strstr(t, "GPU: 7.81 Wh"));
	assert_non_null(strstr(t, "Rest of the node: 0.1 Wh"));
	assert_non_null(strstr(t, "n1 GPU 2: Fake A100 (GPU-0002, nvidia, "
				  "counter)"));
	assert_non_null(strstr(t, "n1 GPU 1: Fake A100"));
	/* GPU 2 (31 W) idle, GPU 1 (250 W) used */
	assert_non_null(strstr(t, "idle: held but not used; its mean 31 W"));
	assert_non_null(strstr(t, "used: its mean 250 W"));
	free(t);
	json_decref(j);
	fp_carbon_result_free(r);
}

static void test_parts_split_cpu_packages_and_dram(void **state)
{
	fp_result_t *r = result_on_n1();
	json_t *p[2] = { split(record("4242.batch", 2000, 100, 3600, 0, 0,
				      NULL),
			       2880, 720, NULL),
			 split(record("4242.0", 2000, 50, 36000, 0, 0, NULL),
			       32400, 3600, NULL) };
	json_t *j = with_parts(r, p, 2, 2);
	char *t = fp_summary_parts_text(j);

	assert_float_equal(num_at(j, "energy_parts", "cpu_Wh"), 9.8, 1e-9);
	assert_float_equal(num_at(j, "energy_parts", "dram_Wh"), 1.2, 1e-9);
	assert_float_equal(num_at(j, "energy_parts", "cpu_Wh") +
				   num_at(j, "energy_parts", "dram_Wh"),
			   num_at(j, "energy_parts", "cpu_dram_Wh"), 1e-12);
	assert_non_null(t);
	assert_non_null(strstr(t, "CPU packages: 9.8 Wh (89.1 %)"));
	assert_non_null(strstr(t, "DRAM: 1.2 Wh (10.9 %)"));
	assert_null(strstr(t, "CPU packages + DRAM"));
	free(t);
	json_decref(j);
	fp_carbon_result_free(r);
}

static void
test_a_record_before_the_split_leaves_cpu_and_dram_null(void **state)
{
	fp_result_t *r = result_on_n1();
	json_t *p[2] = { split(record("4242.batch", 2000, 100, 3600, 0, 0,
				      NULL),
			       2880, 720, NULL),
			 record("4242.0", 2000, 50, 36000, 0, 0, NULL) };
	json_t *j = with_parts(r, p, 2, 2);
	json_t *ep = json_object_get(j, "energy_parts");
	char *t = fp_summary_parts_text(j);

	assert_true(json_is_null(json_object_get(ep, "cpu_Wh")));
	assert_true(json_is_null(json_object_get(ep, "dram_Wh")));
	assert_float_equal(num_at(j, "energy_parts", "cpu_dram_Wh"), 11, 1e-9);
	assert_non_null(strstr(t, "CPU packages + DRAM: 11 Wh"));
	free(t);
	json_decref(j);
	fp_carbon_result_free(r);
}

/* A step on GPUs 0 and 1 that used GPU 0 (7000 J) and barely GPU 1
 * (1000 J), and another step on GPU 1 (500 J): each GPU gets what the
 * node attributed on it, not halves. */
static void test_each_gpu_gets_its_share_from_the_records(void **state)
{
	fp_result_t *r = result_on_n1();
	json_t *p[2] = { split(record("4242.batch", 2000, 100, 0, 8000, 0,
				      "0:30,1:30"),
			       0, 0, (double[]){ 7000, 1000 }),
			 split(record("4242.0", 2000, 50, 0, 500, 0, "1:30"), 0,
			       0, (double[]){ 500 }) };
	json_t *j = with_parts(r, p, 2, 2);
	json_t *g0 = gpu_at(j, 0), *g1 = gpu_at(j, 1);
	double e0 = json_number_value(json_object_get(g0, "energy_Wh"));
	double e1 = json_number_value(json_object_get(g1, "energy_Wh"));

	assert_float_equal(e0, 7000 / 3600.0, 1e-12);
	assert_float_equal(e1, 1500 / 3600.0, 1e-12);
	assert_float_equal(e0 + e1, num_at(j, "energy_parts", "gpu_Wh"), 1e-12);
	assert_string_equal(
		json_string_value(json_object_get(g0, "energy_split")),
		"device");
	/* GPU 1: 1500 J over 100 s held, 15 W, under its 38 W limit; its
	 * own cost, 1500 J of the node's 7.2 MJ that emitted 120 g */
	assert_true(json_is_true(json_object_get(g1, "idle")));
	assert_true(json_is_false(json_object_get(g0, "idle")));
	assert_float_equal(
		json_number_value(json_object_get(g1, "operational_g")),
		120 * 1500 / 7.2e6, 1e-12);
	assert_float_equal(
		json_number_value(json_object_get(g1, "footprint_share")),
		120 * 1500 / 7.2e6 / 125.5, 1e-12);
	json_decref(j);
	fp_carbon_result_free(r);
}

static void test_idle_gpu_text_says_its_energy_and_cost(void **state)
{
	fp_result_t *r = result_on_n1();
	json_t *p[1] = { split(record("4242.batch", 2000, 100, 0, 28100, 0,
				      "0:30,1:30"),
			       0, 0, (double[]){ 25000, 3100 }) };
	json_t *j = with_parts(r, p, 1, 1);
	char *t = fp_summary_parts_text(j);

	assert_non_null(t);
	assert_non_null(strstr(t, "n1 GPU 1: Fake A100 (GPU-0001, nvidia, "
				  "counter): 0.861 Wh over 100 s held, mean "
				  "31 W"));
	assert_non_null(strstr(t, "it cost 0.861 Wh, 0.0517 gCO2e, "
				  "0.0412 % of the job's footprint"));
	assert_null(strstr(t, "shared evenly"));
	free(t);
	json_decref(j);
	fp_carbon_result_free(r);
}

static void test_mail_parts_say_each_gpu_and_an_idle_one_cost(void **state)
{
	fp_result_t *r = result_on_n1();
	json_t *p[1] = { split(record("4242.batch", 2000, 100, 3600, 28100, 360,
				      "0:30,1:30"),
			       2880, 720, (double[]){ 25000, 3100 }) };
	json_t *j = with_parts(r, p, 1, 1);
	char *t = fp_summary_parts_mail(j);

	assert_non_null(t);
	assert_non_null(strstr(t,
			       "  by part:    CPU packages 0.8 Wh, DRAM "
			       "0.2 Wh, GPU 7.81 Wh, rest of the node 0.1 Wh "
			       "(1 of 1 step records)\n"));
	assert_non_null(strstr(t, "  GPU:        n1 GPU 0 (Fake A100): "
				  "6.94 Wh\n"));
	assert_non_null(strstr(t,
			       "  GPU:        n1 GPU 1 (Fake A100): "
			       "0.861 Wh, held but idle (mean 31 W): it cost "
			       "0.0517 gCO2e, 0.0412 % of the footprint\n"));
	free(t);
	json_decref(j);
	fp_carbon_result_free(r);
}

/* The summary of job 4242 whose one step, 4242.0, held GPU 0 of n1 read
 * from the given source, through the node's real record: written as the
 * poller writes it, loaded as footprint-worker loads it, then dumped. A
 * pre-Volta NVIDIA GPU (no energy counter) is read as "power-integral". */
static json_t *summary_of_a_gpu_step(const fp_result_t *r, const char *source)
{
	const fp_step_parts_gpu_t g = { .index = 0,
					.uuid = "GPU-0000",
					.model = "Tesla P100",
					.vendor = "nvidia",
					.source = source,
					.floor_w = 30,
					.energy_j = 7200,
					.idle_s = 0,
					.judged_s = 100,
					.unread_s = 0 };
	const fp_step_parts_t parts = { .node = "n1",
					.first_t = 1901,
					.last_t = 2000,
					.seconds = 100,
					.energy_j = 3600 + 7200 + 1800,
					.cpu_dram_j = 3600,
					.cpu_j = 2880,
					.dram_j = 720,
					.gpu_j = 7200,
					.rest_j = 1800,
					.gpus = &g,
					.ngpus = 1 };
	char dir[64], cmd[128], *text;
	fp_error_t err = { 0 };
	json_t *rec = NULL, *j;

	snprintf(dir, sizeof(dir), "/tmp/fp-summary-parts.XXXXXX");
	assert_non_null(mkdtemp(dir));
	assert_int_equal(fp_step_parts_write(dir, "4242.0", &parts, &err), 0);
	assert_int_equal(fp_step_parts_load(dir, "n1", "4242.0", &rec, &err),
			 0);
	text = fp_summary_dumps_parts(r, &rec, 1, 1, &err);
	assert_non_null(text);
	j = json_loads(text, 0, NULL);
	assert_non_null(j);
	free(text);
	json_decref(rec);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	return j;
}

static void
test_a_power_integral_gpu_says_so_and_adds_up_as_a_counter(void **state)
{
	fp_result_t *r = result_on_n1();
	json_t *pi = summary_of_a_gpu_step(r, "power-integral");
	json_t *ct = summary_of_a_gpu_step(r, "counter");
	json_t *g = gpu_at(pi, 0), *as_counter;
	char *t = fp_summary_parts_text(pi);

	assert_string_equal(json_string_value(json_object_get(g, "source")),
			    "power-integral");
	assert_float_equal(json_number_value(json_object_get(g, "energy_Wh")),
			   2, 1e-12);
	assert_float_equal(num_at(pi, "energy_parts", "gpu_Wh"), 2, 1e-12);
	assert_float_equal(num_at(pi, "energy_parts", "energy_Wh"),
			   num_at(pi, "energy_parts", "cpu_Wh") +
				   num_at(pi, "energy_parts", "dram_Wh") +
				   num_at(pi, "energy_parts", "gpu_Wh") +
				   num_at(pi, "energy_parts", "rest_Wh"),
			   1e-12);
	assert_float_equal(num_at(pi, "energy_parts", "energy_Wh"), 3.5, 1e-12);
	/* judged busy for its 100 s (72 W, above its 30 W floor) */
	assert_true(json_is_false(json_object_get(g, "idle")));
	/* the same record from a counter: every figure alike, only the
	 * source named differs */
	assert_true(json_equal(json_object_get(pi, "energy_parts"),
			       json_object_get(ct, "energy_parts")));
	as_counter = json_deep_copy(g);
	assert_int_equal(json_object_set_new(as_counter, "source",
					     json_string("counter")),
			 0);
	assert_true(json_equal(as_counter, gpu_at(ct, 0)));
	assert_non_null(t);
	assert_non_null(strstr(t, "n1 GPU 0: Tesla P100 (GPU-0000, nvidia, "
				  "power-integral): 2 Wh over 100 s held"));
	free(t);
	json_decref(as_counter);
	json_decref(pi);
	json_decref(ct);
	fp_carbon_result_free(r);
}

static void test_parts_dump_keeps_every_older_member(void **state)
{
	fp_result_t *r = result_on_n1();
	json_t *p[1] = { record("4242.batch", 2000, 100, 3600, 0, 0, NULL) };
	fp_error_t err = { 0 };
	char *with = fp_summary_dumps_parts(r, p, 1, 1, &err);
	json_t *a = json_loads(with, 0, NULL), *b = summary(r);
	const char *k;
	json_t *v;

	assert_non_null(a);
	/* schema 1 as before, plus the optional members */
	json_object_foreach(b, k, v)
		assert_true(json_equal(v, json_object_get(a, k)));
	assert_int_equal(json_object_size(a), json_object_size(b) + 2);
	json_decref(p[0]);
	json_decref(a);
	json_decref(b);
	free(with);
	fp_carbon_result_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_summary_carries_the_schema_version),
		cmocka_unit_test(
			test_an_incomplete_summary_says_why_and_keeps_the_job),
		cmocka_unit_test(test_carbon_facts_use_the_qarnot_field_names),
		cmocka_unit_test(test_carbon_facts_values_are_in_wh_and_grams),
		cmocka_unit_test(
			test_net_is_labelled_and_separate_from_footprint),
		cmocka_unit_test(test_dump_is_compact_and_deterministic),
		cmocka_unit_test(test_undefined_ratios_are_null),
		cmocka_unit_test(test_incomplete_reasons_are_listed),
		cmocka_unit_test(test_record_has_prefix_and_never_a_quote),
		cmocka_unit_test(test_record_parses_back),
		cmocka_unit_test(test_merge_into_an_empty_field_is_ours),
		cmocka_unit_test(test_merge_keeps_jobstats_content_first),
		cmocka_unit_test(test_merge_replaces_only_our_previous_part),
		cmocka_unit_test(test_merge_refuses_a_field_holding_a_quote),
		cmocka_unit_test(test_parse_of_a_field_without_ours_is_absent),
		cmocka_unit_test(
			test_latin1_user_is_escaped_and_named_in_text_repaired),
		cmocka_unit_test(
			test_latin1_site_and_node_names_keep_the_breakdown),
		cmocka_unit_test(test_valid_text_has_no_text_repaired),
		cmocka_unit_test(
			test_a_failed_json_call_is_an_error_never_a_missing_part),
		cmocka_unit_test(test_small_job_energy_survives_in_the_summary),
		cmocka_unit_test(test_erf_and_ere_keep_every_digit),
		cmocka_unit_test(
			test_every_dumped_figure_reads_back_to_the_same_double),
		cmocka_unit_test(
			test_parts_sum_cpu_dram_gpu_and_rest_over_steps),
		cmocka_unit_test(test_parts_split_cpu_packages_and_dram),
		cmocka_unit_test(
			test_a_record_before_the_split_leaves_cpu_and_dram_null),
		cmocka_unit_test(test_each_gpu_gets_its_share_from_the_records),
		cmocka_unit_test(test_idle_gpu_text_says_its_energy_and_cost),
		cmocka_unit_test(
			test_mail_parts_say_each_gpu_and_an_idle_one_cost),
		cmocka_unit_test(test_a_missing_record_is_counted_not_guessed),
		cmocka_unit_test(
			test_gather_counts_absent_apart_from_unreadable),
		cmocka_unit_test(
			test_gather_names_the_absent_as_far_as_they_fit),
		cmocka_unit_test(test_no_expected_record_adds_no_part),
		cmocka_unit_test(
			test_gpus_held_are_named_as_the_node_published_them),
		cmocka_unit_test(
			test_a_gpu_near_its_floor_is_idle_and_its_cost_said),
		cmocka_unit_test(test_a_loaded_gpu_is_not_idle),
		cmocka_unit_test(test_a_gpu_without_floor_is_not_judged),
		cmocka_unit_test(
			test_a_gpu_idle_most_of_the_time_is_idle_whatever_its_mean),
		cmocka_unit_test(
			test_a_gpu_used_half_the_time_is_not_idle_nor_a_mostly_unread_one_judged),
		cmocka_unit_test(
			test_a_record_without_times_judges_the_gpu_by_its_mean),
		cmocka_unit_test(
			test_gpus_the_node_could_not_read_are_named_once),
		cmocka_unit_test(
			test_the_nodes_records_say_the_jobs_source_over_the_setting),
		cmocka_unit_test(test_each_step_says_how_its_nodes_measured_it),
		cmocka_unit_test(
			test_a_node_mostly_calibrated_makes_the_job_calibrated),
		cmocka_unit_test(
			test_a_missing_or_older_record_leaves_the_setting_named),
		cmocka_unit_test(
			test_a_job_whose_gpus_all_read_has_no_unknown_key),
		cmocka_unit_test(
			test_overlapping_steps_on_one_gpu_count_their_time_once),
		cmocka_unit_test(test_a_step_on_two_gpus_gives_each_half),
		cmocka_unit_test(
			test_parts_text_shows_the_breakdown_and_flags_idle),
		cmocka_unit_test(test_parts_dump_keeps_every_older_member),
		cmocka_unit_test(
			test_a_power_integral_gpu_says_so_and_adds_up_as_a_counter),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
