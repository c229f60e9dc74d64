/* Specification of lib/config: footprint.conf syntax, defaults, presets
 * with sources, errors naming file/line/field, and the config digest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "footprint/config.h"
#include "footprint/option.h"

/* Stands in for Slurm's hostlist API: plain comma lists only. */
static const fp_hostlist_match_fn plain = fp_config_hostlist_match_plain;

static fp_config_t *parse(const char *text, fp_error_t *err)
{
	return fp_config_parse("/etc/slurm/footprint.conf", text, strlen(text),
			       err);
}

static void test_site_line_sets_every_field(void **state)
{
	fp_error_t err = { 0 };
	fp_config_t *c = parse("Site=paris Nodes=qh001,qh002 Intensity=56 "
			       "IntensityKind=direct PUE=1.05 HeatRecovery=0.9 "
			       "DisplacedHeating=gas UsefulHeat=months:10-4\n",
			       &err);
	fp_site_conf_t *s;

	assert_non_null(c);
	assert_int_equal(c->nsites, 1);
	s = &c->sites[0];
	assert_string_equal(s->name, "paris");
	assert_string_equal(s->nodes, "qh001,qh002");
	assert_int_equal(s->intensity.kind, FP_INTENSITY_DIRECT);
	assert_non_null(s->intensity.series);
	assert_float_equal(s->pue, 1.05, 1e-12);
	assert_float_equal(s->heat_recovery, 0.9, 1e-12);
	assert_string_equal(s->displaced, "gas");
	assert_float_equal(s->displaced_gco2e_per_kwh, 227, 0);
	assert_int_equal(fp_series_type(s->useful_heat.series),
			 FP_SERIES_MONTHS);
	assert_int_equal(s->line, 1);
	fp_config_free(c);
}

static void test_defaults_are_heater_pue_and_standard_reference(void **s_)
{
	fp_error_t err = { 0 };
	fp_config_t *c = parse("Site=a Nodes=n1 Intensity=50\n", &err);

	assert_non_null(c);
	assert_float_equal(c->sites[0].pue, 1.0, 0);
	assert_float_equal(c->sites[0].heat_recovery, 0, 0);
	assert_string_equal(c->sites[0].displaced, "none");
	assert_float_equal(c->reference.pue, 1.5, 0);
	assert_true(c->reference.same_grid);
	assert_string_equal(c->job_record_field, "AdminComment");
	assert_int_equal(c->max_workers, 2);
	assert_non_null(c->reference.pue_source);
	fp_config_free(c);
}

static void test_displaced_presets_carry_values_and_sources(void **state)
{
	static const struct {
		const char *name;
		double v;
	} want[] = {
		{ "gas", 227 },
		{ "fuel-oil", 324 },
		{ "electric", 79 },
		{ "district", 116 },
		{ "heat-pump", 79.0 / 3.0 },
		{ "none", 0 },
	};

	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		const fp_preset_t *p = fp_config_displaced_preset(want[i].name);

		assert_non_null(p);
		assert_float_equal(p->gco2e_per_kwh, want[i].v, 0.5);
		assert_true(strlen(p->source) > 10);
	}
	assert_ptr_equal(fp_config_displaced_preset("FUEL_OIL"),
			 fp_config_displaced_preset("fuel-oil"));
	assert_null(fp_config_displaced_preset("coal"));
}

static void test_displaced_number_is_custom_with_given_source(void **s_)
{
	fp_error_t err = { 0 };
	fp_config_t *c = parse("Site=a Nodes=n1 Intensity=50 "
			       "DisplacedHeating=180 "
			       "DisplacedHeatingSource=\"boiler audit 2023\" "
			       "HeatRecovery=0.5 UsefulHeat=1\n",
			       &err);

	assert_non_null(c);
	assert_string_equal(c->sites[0].displaced, "custom");
	assert_float_equal(c->sites[0].displaced_gco2e_per_kwh, 180, 0);
	assert_string_equal(c->sites[0].displaced_source, "boiler audit 2023");
	fp_config_free(c);
}

static void test_unknown_key_names_file_line_and_field(void **state)
{
	fp_error_t err = { 0 };

	assert_null(parse("# sites\n\nSite=a Nodes=n1 Intensity=50 Pue2=3\n",
			  &err));
	assert_int_equal(err.code, FP_EINVAL);
	assert_non_null(strstr(err.msg, "/etc/slurm/footprint.conf:3:"));
	assert_non_null(strstr(err.msg, "'Pue2'"));
}

static void test_booleans_take_the_spellings_of_acct_gather_conf(void **s)
{
	static const char *const yes[] = { "yes", "YES", "true", "True",
					   "on",  "ON",	 "1" };
	static const char *const no[] = { "no",	 "No",	"false", "FALSE",
					  "off", "Off", "0" };
	bool b;

	for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++) {
		b = false;
		assert_int_equal(fp_option_bool(yes[i], &b), 0);
		assert_true(b);
		assert_int_equal(fp_option_bool(no[i], &b), 0);
		assert_false(b);
	}
	assert_int_equal(fp_option_bool("y", &b), -1);
	assert_int_equal(fp_option_bool("", &b), -1);
	assert_int_equal(fp_option_bool(NULL, &b), -1);
}

static void test_mail_html_no_takes_every_spelling_of_no(void **state)
{
	static const char *const no[] = { "no", "NO",  "false", "False",
					  "0",	"off", "OFF" };
	fp_error_t err = { 0 };
	char text[128];
	fp_config_t *c;

	for (size_t i = 0; i < sizeof(no) / sizeof(*no); i++) {
		snprintf(text, sizeof(text),
			 "MailHTML=attachment\n"
			 "Site=a Nodes=n1 Intensity=50\n");
		c = parse(text, &err);
		assert_non_null(c);
		assert_int_equal(c->mail_html, FP_MAIL_HTML_ATTACHMENT);
		fp_config_free(c);
		snprintf(text, sizeof(text),
			 "MailHTML=%s\n"
			 "Site=a Nodes=n1 Intensity=50\n",
			 no[i]);
		c = parse(text, &err);
		if (!c)
			fail_msg("MailHTML=%s: %s", no[i], err.msg);
		assert_int_equal(c->mail_html, FP_MAIL_HTML_NO);
		fp_config_free(c);
	}
	c = parse("MailHTML=Alternative\nSite=a Nodes=n1 Intensity=50\n", &err);
	assert_non_null(c);
	assert_int_equal(c->mail_html, FP_MAIL_HTML_ALTERNATIVE);
	fp_config_free(c);
	assert_null(
		parse("MailHTML=maybe\nSite=a Nodes=n1 Intensity=50\n", &err));
	assert_non_null(strstr(err.msg,
			       ":1: field 'MailHTML': 'maybe' is "
			       "not no (false, off, 0), alternative or "
			       "attachment"));
}

static void test_bad_number_names_the_field(void **state)
{
	fp_error_t err = { 0 };

	assert_null(parse("Site=a Nodes=n1 Intensity=50 PUE=1,2\n", &err));
	assert_non_null(strstr(err.msg, ":1:"));
	assert_non_null(strstr(err.msg, "'PUE'"));
	assert_null(parse("Site=a Nodes=n1 Intensity=50 PUE=0.8\n", &err));
	assert_non_null(strstr(err.msg, "PUE must be 1..10, not 0.8"));
}

static void test_key_given_twice_on_a_line_is_an_error(void **state)
{
	fp_error_t err = { 0 };

	assert_null(
		parse("Site=a Nodes=n1 Intensity=50 PUE=1.0 PUE=3.0\n", &err));
	assert_int_equal(err.code, FP_EINVAL);
	assert_non_null(strstr(err.msg, ":1: field 'PUE': given twice"));
}

static void test_global_key_given_twice_names_the_first_line(void **state)
{
	fp_error_t err = { 0 };

	assert_null(parse("SpoolDir=/a\nSite=a Nodes=n1 Intensity=50\n"
			  "SpoolDir=/b\n",
			  &err));
	assert_non_null(strstr(err.msg, ":3: field 'SpoolDir': already given "
					"on line 1"));
}

/* A node's record reaches a shared folder late: the worker waits a minute
 * by default, a day at most (a job's summary is not held longer). */
static void test_parts_wait_defaults_to_a_minute_and_stops_at_a_day(void **s_)
{
	fp_error_t err = { 0 };
	fp_config_t *c = parse("Site=a Nodes=n1 Intensity=50\n", &err);

	assert_non_null(c);
	assert_int_equal(c->parts_wait, 60);
	fp_config_free(c);
	c = parse("PartsWait=0\nSite=a Nodes=n1 Intensity=50\n", &err);
	assert_non_null(c);
	assert_int_equal(c->parts_wait, 0);
	fp_config_free(c);
	c = parse("PartsWait=86400\nSite=a Nodes=n1 Intensity=50\n", &err);
	assert_non_null(c);
	assert_int_equal(c->parts_wait, 86400);
	fp_config_free(c);
	assert_null(
		parse("PartsWait=86401\nSite=a Nodes=n1 Intensity=50\n", &err));
	assert_non_null(strstr(err.msg, "PartsWait"));
	assert_null(
		parse("PartsWait=-1\nSite=a Nodes=n1 Intensity=50\n", &err));
	assert_null(parse("PartsWait=1\nPartsWait=2\n"
			  "Site=a Nodes=n1 Intensity=50\n",
			  &err));
	assert_non_null(strstr(err.msg, "already given on line 1"));
	(void)s_;
}

static void test_public_key_may_be_given_twice(void **state)
{
	fp_error_t err = { 0 };
	fp_config_t *c = parse("PublicKey=/a.pub PublicKey=/b.pub\n"
			       "PublicKey=/c.pub\nSite=a Nodes=n1 "
			       "Intensity=50\n",
			       &err);

	assert_non_null(c);
	assert_int_equal(c->npublic_keys, 3);
	fp_config_free(c);
}

static void test_unclosed_hostlist_is_an_error_at_its_line(void **state)
{
	fp_error_t err = { 0 };

	assert_null(parse("\nSite=a Nodes=n[1-4 Intensity=50\n", &err));
	assert_non_null(strstr(err.msg, ":2: field 'Nodes': 'n[1-4' is not a "
					"hostlist: '[' without ']'"));
	assert_null(parse("Site=a Nodes=n1 Intensity=50\nNodeType=t "
			  "Nodes=n1] Embodied=1 Lifetime=1 CPUs=1\n",
			  &err));
	assert_non_null(strstr(err.msg, ":2: field 'Nodes'"));
}

static void test_descending_hostlist_range_is_an_error(void **state)
{
	fp_error_t err = { 0 };

	assert_null(parse("Site=a Nodes=n[4-1] Intensity=50\n", &err));
	assert_non_null(strstr(err.msg, ":1: field 'Nodes': 'n[4-1]' is not "
					"a hostlist: a range goes down"));
}

static void test_hostlist_with_an_empty_name_is_an_error(void **state)
{
	const char *bad[] = { "n[1-4],,", "n1,,n2", ",n1", "n1," };
	fp_error_t err = { 0 };
	char conf[128], want[96];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(conf, sizeof(conf), "\nSite=a Nodes=%s Intensity=50\n",
			 bad[i]);
		snprintf(want, sizeof(want),
			 ":2: field 'Nodes': '%s' is not "
			 "a hostlist: empty name",
			 bad[i]);
		assert_null(parse(conf, &err));
		if (!strstr(err.msg, want))
			fail_msg("%s: %s", bad[i], err.msg);
	}
}

static void test_node_in_two_node_types_names_both_lines(void **state)
{
	fp_error_t err = { 0 };
	fp_config_t *c;

	assert_null(parse("Site=a Nodes=n[1-9] Intensity=50\n"
			  "NodeType=x Nodes=n[1-4] Embodied=1 Lifetime=1 "
			  "CPUs=1\n#\nNodeType=y Nodes=n9,n[04-05],n3 "
			  "Embodied=1 Lifetime=1 CPUs=1\n",
			  &err));
	assert_non_null(strstr(err.msg, ":4: NodeType 'y': node 'n3' is also "
					"in NodeType 'x' of line 2"));
	c = parse("Site=a Nodes=n[1-9] Intensity=50\n"
		  "NodeType=x Nodes=n[1-4] Embodied=1 Lifetime=1 CPUs=1\n"
		  "NodeType=y Nodes=n[5-9],n[01-04] Embodied=1 Lifetime=1 "
		  "CPUs=1\n",
		  &err);
	assert_non_null(c);
	fp_config_free(c);
}

static void test_usual_hostlists_are_accepted(void **state)
{
	fp_error_t err = { 0 };
	fp_config_t *c = parse("Site=a Nodes=qh[001-040,050],r[1-2]n[01-16],"
			       "login1 Intensity=50\n",
			       &err);

	assert_non_null(c);
	fp_config_free(c);
}

static void test_limit_errors_say_the_limit(void **state)
{
	fp_error_t err = { 0 };
	const char *bad[] = { "0", "-1", "99999999999", "2000000" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char conf[256];

		snprintf(conf, sizeof(conf),
			 "Site=a Nodes=n1 Intensity=50\n"
			 "NodeType=t Nodes=n1 Embodied=1 Lifetime=1 "
			 "CPUs=%s\n",
			 bad[i]);
		assert_null(parse(conf, &err));
		assert_non_null(strstr(err.msg, "CPUs must be 1..1048576"));
	}
	assert_null(parse("Site=a Nodes=n1 Intensity=50\nNodeType=t Nodes=n1 "
			  "Embodied=1 Lifetime=1 CPUs=many\n",
			  &err));
	assert_non_null(strstr(err.msg, "not a whole number (CPUs must be "
					"1..1048576)"));
}

static void test_intensity_constant_above_any_grid_is_refused(void **state)
{
	fp_error_t err = { 0 };

	assert_null(parse("Site=a Nodes=n1 Intensity=1e300\n", &err));
	assert_non_null(strstr(err.msg, "Intensity must be 0..2000"));
	/* g/MWh given for g/kWh: a unit mistake, not a grid. */
	assert_null(parse("Site=a Nodes=n1 Intensity=52000\n", &err));
	assert_non_null(strstr(err.msg, "Intensity must be 0..2000"));
	assert_null(parse(
		"Site=a Nodes=n1 Intensity=52 DisplacedHeating=2001\n", &err));
	assert_non_null(strstr(err.msg, "DisplacedHeating must be 0..2000"));
}

static void test_heat_recovery_requires_useful_heat(void **state)
{
	fp_error_t err = { 0 };

	assert_null(
		parse("Site=a Nodes=n1 Intensity=50 HeatRecovery=0.9\n", &err));
	assert_non_null(strstr(err.msg, "UsefulHeat"));
}

static void test_heating_season_wraps_around_the_year(void **state)
{
	fp_error_t err = { 0 };
	fp_config_t *c = parse("Site=a Nodes=n1 Intensity=50 HeatRecovery=1 "
			       "UsefulHeat=months:11-2\n",
			       &err);
	double v;
	time_t jan, mar, dec;

	assert_non_null(c);
	fp_iso8601_parse("2024-01-10T00:00Z", &jan);
	fp_iso8601_parse("2024-03-10T00:00Z", &mar);
	fp_iso8601_parse("2024-12-10T00:00Z", &dec);
	fp_series_value(c->sites[0].useful_heat.series, jan, &v, &err);
	assert_float_equal(v, 1, 0);
	fp_series_value(c->sites[0].useful_heat.series, mar, &v, &err);
	assert_float_equal(v, 0, 0);
	fp_series_value(c->sites[0].useful_heat.series, dec, &v, &err);
	assert_float_equal(v, 1, 0);
	fp_config_free(c);
}

static void test_bad_month_list_is_an_error(void **state)
{
	fp_error_t err = { 0 };

	assert_null(parse("Site=a Nodes=n1 Intensity=50 HeatRecovery=1 "
			  "UsefulHeat=months:13\n",
			  &err));
	assert_non_null(strstr(err.msg, "UsefulHeat"));
}

static void test_relative_series_path_is_beside_the_config(void **state)
{
	fp_error_t err = { 0 };
	fp_config_t *c = parse("Site=a Nodes=n1 Intensity=file:fr.csv\n", &err);

	assert_non_null(c);
	assert_string_equal(c->sites[0].intensity.path, "/etc/slurm/fr.csv");
	assert_null(c->sites[0].intensity.series);
	fp_config_free(c);
}

static void test_load_series_reports_the_bad_file_line(void **state)
{
	char dir[] = "/tmp/fp-config-XXXXXX", path[128], conf[512];
	fp_error_t err = { 0 };
	fp_config_t *c;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/fr.csv", dir);
	f = fopen(path, "w");
	fprintf(f, "2024-01-15T00:00Z,50\n2024-01-15T01:00Z,abc\n");
	fclose(f);
	snprintf(conf, sizeof(conf), "Site=a Nodes=n1 Intensity=file:%s\n",
		 path);
	c = parse(conf, &err);
	assert_non_null(c);
	assert_int_equal(fp_config_load_series(c, &err), -1);
	assert_non_null(strstr(err.msg, "fr.csv:2:"));
	assert_non_null(strstr(err.msg, "abc"));
	fp_config_free(c);
	unlink(path);
	rmdir(dir);
}

static void test_missing_series_file_names_the_site_line(void **state)
{
	fp_error_t err = { 0 };
	fp_config_t *c = parse("Site=a Nodes=n1 Intensity=50\n"
			       "Site=b Nodes=n2 Intensity=file:/nonexistent/"
			       "fr.csv\n",
			       &err);

	assert_non_null(c);
	assert_int_equal(fp_config_load_series(c, &err), -1);
	assert_non_null(strstr(err.msg,
			       "/etc/slurm/footprint.conf:2: Site "
			       "'b': field 'Intensity': /nonexistent/fr.csv: "
			       "cannot open"));
	fp_config_free(c);
}

static void test_one_broken_series_leaves_the_other_sites_loaded(void **s_)
{
	char dir[] = "/tmp/fp-config-XXXXXX", path[128], conf[512];
	fp_error_t err = { 0 };
	fp_config_t *c;
	FILE *f;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ok.csv", dir);
	f = fopen(path, "w");
	fprintf(f, "2024-01-15T00:00Z,50\n");
	fclose(f);
	snprintf(conf, sizeof(conf),
		 "Site=a Nodes=n1 Intensity=file:/no/a.csv\n"
		 "Site=b Nodes=n2 Intensity=file:%s\n"
		 "Site=c Nodes=n3 Intensity=file:/no/c.csv\n",
		 path);
	c = parse(conf, &err);
	assert_non_null(c);
	assert_int_equal(fp_config_load_series(c, &err), -1);
	assert_non_null(strstr(err.msg, "Site 'a'"));
	/* Each broken series is said whole, its own Site line. */
	assert_non_null(strstr(fp_config_series_error(c, 0),
			       "footprint.conf:1: Site 'a': field 'Intensity': "
			       "/no/a.csv: cannot open"));
	assert_non_null(strstr(fp_config_series_error(c, 1),
			       "footprint.conf:3: Site 'c': field 'Intensity': "
			       "/no/c.csv: cannot open"));
	assert_null(fp_config_series_error(c, 2));
	assert_null(strstr(err.msg, "more series"));
	assert_null(c->sites[0].intensity.series);
	assert_non_null(strstr(c->sites[0].intensity.error, "/no/a.csv"));
	assert_non_null(c->sites[1].intensity.series);
	assert_null(c->sites[1].intensity.error);
	assert_non_null(strstr(c->sites[2].intensity.error, "Site 'c'"));
	fp_config_free(c);
	unlink(path);
	rmdir(dir);
}

static void test_essentials_keep_the_first_of_a_key_given_twice(void **s_)
{
	char path[] = "/tmp/fp-config-XXXXXX";
	int fd = mkstemp(path);
	fp_config_t *c;
	FILE *f;

	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("SigningKey=/k\nSpoolDir=/a\nSpoolDir=/b\nbroken line\n", f);
	fclose(f);
	c = fp_config_load_essentials(path);
	assert_non_null(c);
	assert_string_equal(c->spool_dir, "/a");
	fp_config_free(c);
	unlink(path);
}

static void test_digest_is_sha256_of_the_file_bytes(void **state)
{
	char path[] = "/tmp/fp-conf-XXXXXX", cmd[128], want[65] = "";
	const char text[] = "Site=a Nodes=n1 Intensity=50 # x\n";
	int fd = mkstemp(path);
	fp_error_t err = { 0 };
	fp_config_t *c;
	FILE *p;

	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	/* An independent implementation: coreutils. */
	snprintf(cmd, sizeof(cmd), "sha256sum %s", path);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%64s", want), 1);
	pclose(p);
	c = fp_config_load(path, &err);
	unlink(path);
	assert_non_null(c);
	assert_string_equal(c->digest, want);
	fp_config_free(c);
}

static void test_quoted_values_and_comments(void **state)
{
	fp_error_t err = { 0 };
	fp_config_t *c =
		parse("# hardware\n"
		      "NodeType=qh1 Nodes=n1 Embodied=1200 Lifetime=6 CPUs=32 "
		      "EmbodiedSource=\"vendor PCF #2023\" # end\n"
		      "Site=a Nodes=n1 Intensity=50\n",
		      &err);

	assert_non_null(c);
	assert_int_equal(c->nnode_types, 1);
	assert_string_equal(c->node_types[0].source, "vendor PCF #2023");
	assert_float_equal(c->node_types[0].embodied_kg, 1200, 0);
	assert_float_equal(c->node_types[0].lifetime_years, 6, 0);
	assert_int_equal(c->node_types[0].cpus, 32);
	fp_config_free(c);
}

static void test_node_type_requires_cpus(void **state)
{
	fp_error_t err = { 0 };

	assert_null(parse("NodeType=x Nodes=n1 Embodied=1 Lifetime=5\n"
			  "Site=a Nodes=n1 Intensity=50\n",
			  &err));
	assert_non_null(strstr(err.msg, ":1:"));
	assert_non_null(strstr(err.msg, "'CPUs'"));
}

static void test_a_config_without_site_is_an_error(void **state)
{
	fp_error_t err = { 0 };

	assert_null(parse("SpoolDir=/tmp\n", &err));
	assert_non_null(strstr(err.msg, "no Site"));
}

static void test_duplicate_site_names_the_first_line(void **state)
{
	fp_error_t err = { 0 };

	assert_null(parse("Site=a Nodes=n1 Intensity=50\n"
			  "Site=a Nodes=n2 Intensity=50\n",
			  &err));
	assert_non_null(strstr(err.msg, ":2:"));
	assert_non_null(strstr(err.msg, "line 1"));
}

static void test_globals_and_reference_line(void **state)
{
	fp_error_t err = { 0 };
	fp_config_t *c = parse(
		"SigningKey=/etc/slurm/fp.key\nJobRecordField=SystemComment\n"
		"MaxWorkers=4 WorkerTimeout=60\n"
		"Reference=hyperscale PUE=1.2 Intensity=300\n"
		"Site=a Nodes=n1 Intensity=50\n",
		&err);

	assert_non_null(c);
	assert_string_equal(c->signing_key, "/etc/slurm/fp.key");
	assert_string_equal(c->job_record_field, "SystemComment");
	assert_int_equal(c->max_workers, 4);
	assert_int_equal(c->worker_timeout, 60);
	assert_string_equal(c->reference.name, "hyperscale");
	assert_float_equal(c->reference.pue, 1.2, 0);
	assert_false(c->reference.same_grid);
	assert_non_null(c->reference.intensity.series);
	fp_config_free(c);
}

static void test_site_for_asks_the_callback(void **state)
{
	fp_error_t err = { 0 };
	fp_config_t *c = parse("Site=a Nodes=n1,n2 Intensity=50\n"
			       "Site=b Nodes=n3 Intensity=60\n",
			       &err);

	assert_string_equal(fp_config_site_for(c, "n2", plain, NULL)->name,
			    "a");
	assert_string_equal(fp_config_site_for(c, "n3", plain, NULL)->name,
			    "b");
	assert_null(fp_config_site_for(c, "n4", plain, NULL));
	fp_config_free(c);
}

static void test_plain_matcher_takes_whole_names_only(void **state)
{
	assert_true(plain("n1,n2", "n1", NULL));
	assert_true(plain("n1,n2", "n2", NULL));
	assert_false(plain("n1,n2", "n", NULL));
	assert_false(plain("n1,n2", "n12", NULL));
	assert_false(plain("n12", "n1", NULL));
	assert_false(plain("", "n1", NULL));
	assert_true(plain("a,b,c", "c", NULL));
}

static void test_config_refuses_latin1_site_name_naming_line(void **state)
{
	fp_error_t err = { 0 };
	/* "Orléans" in Latin-1: jansson would drop the site from summaries */
	fp_config_t *c = parse("# sites\n"
			       "Site=Orl\xe9"
			       "ans Nodes=n1 Intensity=50\n",
			       &err);

	assert_null(c);
	assert_non_null(strstr(err.msg, "/etc/slurm/footprint.conf:2:"));
	assert_non_null(strstr(err.msg, "byte 9 (0xe9)"));
	assert_non_null(strstr(err.msg, "UTF-8"));
}

static void test_config_accepts_utf8_site_name(void **state)
{
	fp_error_t err = { 0 };
	fp_config_t *c = parse("Site=Orl\xc3\xa9"
			       "ans Nodes=n1 "
			       "Intensity=50\n",
			       &err);

	assert_non_null(c);
	assert_string_equal(c->sites[0].name, "Orl\xc3\xa9"
					      "ans");
	fp_config_free(c);
}

static void test_config_refuses_invalid_utf8_in_a_comment(void **state)
{
	/* the digest covers the whole file: a comment is no exception */
	fp_error_t err = { 0 };

	assert_null(parse("Site=a Nodes=n1 Intensity=50 # caf\xe9\n", &err));
	assert_non_null(strstr(err.msg, ":1: byte 35 (0xe9)"));
}

static void test_feed_keys_of_a_site_are_kept(void **state)
{
	fp_error_t err = { 0 };
	fp_config_t *c =
		parse("Site=a Nodes=n1 Intensity=file:fr.csv "
		      "Feed=electricitymaps:FR FeedURL=http://127.0.0.1:9"
		      " FeedTokenFile=em.token FeedProxy=http://p:3128"
		      "\nSite=b Nodes=n2 Intensity=file:/s/uk.csv "
		      "Feed=uk:13\n",
		      &err);

	(void)state;
	assert_non_null(c);
	assert_string_equal(c->sites[0].feed.provider, "electricitymaps");
	assert_string_equal(c->sites[0].feed.zone, "FR");
	assert_string_equal(c->sites[0].feed.url, "http://127.0.0.1:9");
	assert_string_equal(c->sites[0].feed.token_file, "/etc/slurm/em.token");
	assert_string_equal(c->sites[0].feed.proxy, "http://p:3128");
	assert_string_equal(c->sites[1].feed.provider, "uk");
	assert_string_equal(c->sites[1].feed.zone, "13");
	assert_null(c->sites[1].feed.url);
	fp_config_free(c);
}

static void test_feed_needs_an_intensity_file(void **state)
{
	fp_error_t err = { 0 };

	(void)state;
	assert_null(parse("Site=a Nodes=n1 Intensity=56 Feed=eco2mix\n", &err));
	assert_non_null(strstr(err.msg, "footprint.conf:1: Site 'a': field "
					"'Feed' needs Intensity=file:PATH"));
}

static void test_feed_electricitymaps_needs_zone_and_token_file(void **state)
{
	fp_error_t err = { 0 };

	(void)state;
	assert_null(parse("Site=a Nodes=n1 Intensity=file:x.csv "
			  "Feed=electricitymaps\n",
			  &err));
	assert_non_null(strstr(err.msg, "needs a zone"));
	assert_null(parse("Site=a Nodes=n1 Intensity=file:x.csv "
			  "Feed=electricitymaps:DE\n",
			  &err));
	assert_non_null(strstr(err.msg, "needs FeedTokenFile="));
}

static void test_feed_unknown_provider_region_or_url_is_refused(void **state)
{
	fp_error_t err = { 0 };

	(void)state;
	assert_null(
		parse("Site=a Nodes=n1 Intensity=file:x.csv Feed=rte\n", &err));
	assert_non_null(strstr(err.msg, ":1: field 'Feed': 'rte' is not"));
	assert_null(parse("Site=a Nodes=n1 Intensity=file:x.csv Feed=uk:18\n",
			  &err));
	assert_non_null(strstr(err.msg, "UK region must be 1..17, not 18"));
	assert_null(parse("Site=a Nodes=n1 Intensity=file:x.csv Feed=eco2mix "
			  "FeedURL=ftp://x\n",
			  &err));
	assert_non_null(strstr(err.msg, "not an http:// or https:// URL"));
	assert_null(parse("Site=a Nodes=n1 Intensity=file:x.csv "
			  "FeedProxy=http://p\n",
			  &err));
	assert_non_null(strstr(err.msg, "need Feed="));
}

/* The entry of key in docs/footprint.conf.5, after the first line holding
 * after (NULL: from the top), to the next .TP/.SH, its lines joined by
 * spaces; NULL when missing. The caller free()s it. */
static char *man_entry(const char *after, const char *key)
{
	static char page[1 << 17];
	char head[64], *at, *end, *e;
	FILE *f = fopen("docs/footprint.conf.5", "r");
	size_t n;

	assert_non_null(f);
	n = fread(page, 1, sizeof(page) - 1, f);
	fclose(f);
	page[n] = '\0';
	at = page;
	if (after && !(at = strstr(page, after)))
		return NULL;
	snprintf(head, sizeof(head), "\n\\fB%s\\fR=", key);
	if (!(at = strstr(at, head)))
		return NULL;
	end = strstr(at + 1, "\n.TP");
	if (!end)
		end = strstr(at + 1, "\n.SH");
	e = strndup(at, end ? (size_t)(end - at) : strlen(at));
	for (char *p = e; *p; p++)
		if (*p == '\n')
			*p = ' ';
	return e;
}

/* footprint.conf(5)'s GLOBAL PARAMETERS are the parser's table of global
 * keys, no more and no less, and each whole number's entry gives the
 * table's range and default. */
static void test_man_page_lists_the_global_key_table(void **state)
{
	static char page[1 << 17];
	FILE *f = fopen("docs/footprint.conf.5", "r");
	char *from, *to, *at, want[96];
	size_t n, nkeys = 0, nman = 0;
	unsigned lo, hi, dflt;
	const char *key;

	(void)state;
	assert_non_null(f);
	n = fread(page, 1, sizeof(page) - 1, f);
	fclose(f);
	page[n] = '\0';
	from = strstr(page, ".SH \"GLOBAL PARAMETERS\"");
	to = from ? strstr(from, "\n.SH ") : NULL;
	assert_non_null(to);
	*to = '\0';
	for (at = from; (at = strstr(at, "\n\\fB")); at++)
		if (strstr(at, "\\fR=") == strchr(at + 4, '\\'))
			nman++;
	for (size_t i = 0; (key = fp_config_global_key(i, &lo, &hi, &dflt));
	     i++, nkeys++) {
		char *e;

		snprintf(want, sizeof(want), "\n\\fB%s\\fR=", key);
		if (!(at = strstr(from, want)))
			fail_msg("%s: not in footprint.conf(5)'s GLOBAL "
				 "PARAMETERS",
				 key);
		if (lo > hi)
			continue;
		e = man_entry(NULL, key);
		snprintf(want, sizeof(want), "%u..%u.", lo, hi);
		if (!e || !strstr(e, want))
			fail_msg("%s: footprint.conf(5) does not say '%s'", key,
				 want);
		snprintf(want, sizeof(want), "Default: %u", dflt);
		if (!strstr(e, want))
			fail_msg("%s: footprint.conf(5) does not say '%s'", key,
				 want);
		free(e);
	}
	/* an entry of the page the table does not have */
	assert_int_equal(nman, nkeys);
	assert_true(nkeys >= 18);
}

/* footprint.conf(5) says what the code does: each key's default (a config
 * that leaves it out) and range (the one its error gives). */
static void test_man_page_states_each_default_and_range(void **state)
{
	static const struct {
		const char *after, *key, *bad;
	} ranged[] = {
		{ NULL, "MaxWorkers", "MaxWorkers=0" },
		{ NULL, "MaxQueue", "MaxQueue=0" },
		{ NULL, "WorkerTimeout", "WorkerTimeout=0" },
		{ NULL, "RetryInterval", "RetryInterval=0" },
		{ NULL, "MailWait", "MailWait=100000" },
		{ NULL, "SeriesWait", "SeriesWait=10000000" },
		{ NULL, "PartsWait", "PartsWait=86401" },
		{ "\\fBSite\\fR=", "PUE", "Site=a Nodes=n1 Intensity=5 PUE=0" },
		{ "\\fBReference\\fR=", "PUE", "Reference=r PUE=0" },
	};
	fp_error_t err = { 0 };
	fp_config_t *c = parse("Site=a Nodes=n1 Intensity=50\n", &err);
	struct {
		const char *after, *key;
		char want[64];
	} dflt[] = {
		{ NULL, "MaxWorkers", "" },
		{ NULL, "MaxQueue", "" },
		{ NULL, "WorkerTimeout", "" },
		{ NULL, "RetryInterval", "" },
		{ NULL, "MailWait", "" },
		{ NULL, "SeriesWait", "" },
		{ NULL, "SpoolDir", "" },
		{ NULL, "EnergySource", "" },
		{ NULL, "Mailer", "" },
		{ NULL, "Sendmail", "" },
		{ "\\fBSite\\fR=", "PUE", "" },
		{ "\\fBSite\\fR=", "HeatRecovery", "" },
		{ "\\fBReference\\fR=", "PUE", "" },
		{ NULL, "PartsWait", "" },
	};
	char *e, *m;

	assert_non_null(c);
	snprintf(dflt[0].want, 64, "Default: %u.", c->max_workers);
	snprintf(dflt[1].want, 64, "Default: %u.", c->max_queue);
	snprintf(dflt[2].want, 64, "Default: %u.", c->worker_timeout);
	snprintf(dflt[3].want, 64, "Default: %u.", c->retry_interval);
	snprintf(dflt[4].want, 64, "Default: %u.", c->mail_wait);
	snprintf(dflt[5].want, 64, "Default: %u ", c->series_wait);
	snprintf(dflt[6].want, 64, "Default: %s.", c->spool_dir);
	snprintf(dflt[7].want, 64, "Default: %s.", c->energy_source);
	snprintf(dflt[8].want, 64, "Default: %s.", c->mailer);
	snprintf(dflt[9].want, 64, "Default: %s.", c->sendmail);
	snprintf(dflt[10].want, 64, "Default: %.1f ", c->sites[0].pue);
	snprintf(dflt[11].want, 64, "Default: %g.", c->sites[0].heat_recovery);
	snprintf(dflt[12].want, 64, "Default: %.1f.", c->reference.pue);
	snprintf(dflt[13].want, 64, "Default: %u ", c->parts_wait);
	for (size_t i = 0; i < sizeof(dflt) / sizeof(*dflt); i++) {
		e = man_entry(dflt[i].after, dflt[i].key);
		if (!e || !strstr(e, dflt[i].want))
			fail_msg("%s: footprint.conf(5) does not say '%s'",
				 dflt[i].key, dflt[i].want);
		free(e);
	}
	fp_config_free(c);
	for (size_t i = 0; i < sizeof(ranged) / sizeof(*ranged); i++) {
		char text[128], range[64];
		const char *r;

		snprintf(text, sizeof(text),
			 "%s\nSite=b Nodes=n2 Intensity=5\n", ranged[i].bad);
		assert_null(parse(text, &err));
		m = strstr(err.msg, " must be ");
		if (!m)
			fail_msg("%s: no range in '%s'", ranged[i].bad,
				 err.msg);
		r = m + 9;
		snprintf(range, sizeof(range), "%.*s", (int)strcspn(r, ", )"),
			 r);
		e = man_entry(ranged[i].after, ranged[i].key);
		if (!e || !strstr(e, range))
			fail_msg("%s: footprint.conf(5) does not give %s",
				 ranged[i].key, range);
		free(e);
	}
}

/* The option names of the heading after each .TP of a man page section:
 * "\fBA\fR, \fBB\fR=..." names A and B. Appends them to names, '|'
 * around each. */
static void heading_names(const char *from, const char *to, char *names,
			  size_t size)
{
	const char *at;

	for (at = from; (at = strstr(at, "\n.TP\n")) && at < to; at++) {
		const char *h = at + 5;

		while (!strncmp(h, "\\fB", 3)) {
			const char *end = strstr(h + 3, "\\fR");

			if (!end)
				break;
			snprintf(names + strlen(names), size - strlen(names),
				 "|%.*s|", (int)(end - h - 3), h + 3);
			h = end + 3;
			if (strncmp(h, ", ", 2))
				break;
			h += 2;
		}
	}
}

/* footprint.conf(5)'s SITE LINES, NODETYPE LINES and REFERENCE LINE are
 * the parser's tables of each line's keys, no more and no less, and each
 * number's entry gives the table's range. */
static void test_man_page_lists_each_line_key_table(void **state)
{
	static const char *const lines[][2] = {
		{ "Site", ".SH \"SITE LINES\"" },
		{ "NodeType", ".SH \"NODETYPE LINES\"" },
		{ "Reference", ".SH \"REFERENCE LINE\"" },
	};
	static char page[1 << 17];
	FILE *f = fopen("docs/footprint.conf.5", "r");
	size_t n, nranged = 0;

	(void)state;
	assert_non_null(f);
	n = fread(page, 1, sizeof(page) - 1, f);
	fclose(f);
	page[n] = '\0';
	for (size_t l = 0; l < sizeof(lines) / sizeof(*lines); l++) {
		char names[4096] = "", want[160], *e;
		const char *from = strstr(page, lines[l][1]), *to, *key, *p;
		size_t nkeys = 0, nman = 0;
		double lo, hi;

		assert_non_null(from);
		to = strstr(from + 1, "\n.SH ");
		assert_non_null(to);
		heading_names(from, to, names, sizeof(names));
		for (size_t i = 0;
		     (key = fp_config_key_of(lines[l][0], i, &lo, &hi)); i++) {
			snprintf(want, sizeof(want), "|%s|", key);
			if (!strstr(names, want))
				fail_msg("%s's %s: not in footprint.conf(5)'s "
					 "%s",
					 lines[l][0], key, lines[l][1]);
			nkeys++;
			if (lo > hi)
				continue;
			e = man_entry(lines[l][1], key);
			snprintf(want, sizeof(want), "%.10g..%.10g", lo, hi);
			if (!e || !strstr(e, want))
				fail_msg("%s's %s: footprint.conf(5) does not "
					 "say '%s'",
					 lines[l][0], key, want);
			free(e);
			nranged++;
		}
		/* every name the page gives, less the line's own */
		for (p = names; (p = strchr(p, '|')); p++, nman++)
			p = strchr(p + 1, '|');
		if (nman != nkeys + 1)
			fail_msg("%s: footprint.conf(5) names %zu keys, the "
				 "table has %zu: %s",
				 lines[l][0], nman - 1, nkeys, names);
		assert_true(nkeys >= 5);
	}
	/* Site: Intensity, PUE, HeatRecovery, UsefulHeat, DisplacedHeating;
	 * NodeType: Embodied, Lifetime, CPUs; Reference: PUE, Intensity */
	assert_int_equal(nranged, 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_site_line_sets_every_field),
		cmocka_unit_test(test_plain_matcher_takes_whole_names_only),
		cmocka_unit_test(
			test_defaults_are_heater_pue_and_standard_reference),
		cmocka_unit_test(
			test_displaced_presets_carry_values_and_sources),
		cmocka_unit_test(
			test_displaced_number_is_custom_with_given_source),
		cmocka_unit_test(test_unknown_key_names_file_line_and_field),
		cmocka_unit_test(test_bad_number_names_the_field),
		cmocka_unit_test(
			test_booleans_take_the_spellings_of_acct_gather_conf),
		cmocka_unit_test(test_mail_html_no_takes_every_spelling_of_no),
		cmocka_unit_test(test_key_given_twice_on_a_line_is_an_error),
		cmocka_unit_test(
			test_global_key_given_twice_names_the_first_line),
		cmocka_unit_test(
			test_parts_wait_defaults_to_a_minute_and_stops_at_a_day),
		cmocka_unit_test(test_public_key_may_be_given_twice),
		cmocka_unit_test(
			test_unclosed_hostlist_is_an_error_at_its_line),
		cmocka_unit_test(test_descending_hostlist_range_is_an_error),
		cmocka_unit_test(test_usual_hostlists_are_accepted),
		cmocka_unit_test(test_node_in_two_node_types_names_both_lines),
		cmocka_unit_test(test_hostlist_with_an_empty_name_is_an_error),
		cmocka_unit_test(test_man_page_lists_the_global_key_table),
		cmocka_unit_test(test_man_page_lists_each_line_key_table),
		cmocka_unit_test(test_man_page_states_each_default_and_range),
		cmocka_unit_test(test_limit_errors_say_the_limit),
		cmocka_unit_test(
			test_intensity_constant_above_any_grid_is_refused),
		cmocka_unit_test(test_missing_series_file_names_the_site_line),
		cmocka_unit_test(
			test_one_broken_series_leaves_the_other_sites_loaded),
		cmocka_unit_test(
			test_essentials_keep_the_first_of_a_key_given_twice),
		cmocka_unit_test(test_heat_recovery_requires_useful_heat),
		cmocka_unit_test(test_heating_season_wraps_around_the_year),
		cmocka_unit_test(test_bad_month_list_is_an_error),
		cmocka_unit_test(
			test_relative_series_path_is_beside_the_config),
		cmocka_unit_test(test_load_series_reports_the_bad_file_line),
		cmocka_unit_test(test_digest_is_sha256_of_the_file_bytes),
		cmocka_unit_test(test_quoted_values_and_comments),
		cmocka_unit_test(test_node_type_requires_cpus),
		cmocka_unit_test(test_a_config_without_site_is_an_error),
		cmocka_unit_test(test_duplicate_site_names_the_first_line),
		cmocka_unit_test(test_globals_and_reference_line),
		cmocka_unit_test(test_site_for_asks_the_callback),
		cmocka_unit_test(
			test_config_refuses_latin1_site_name_naming_line),
		cmocka_unit_test(test_config_accepts_utf8_site_name),
		cmocka_unit_test(test_config_refuses_invalid_utf8_in_a_comment),
		cmocka_unit_test(test_feed_keys_of_a_site_are_kept),
		cmocka_unit_test(test_feed_needs_an_intensity_file),
		cmocka_unit_test(
			test_feed_electricitymaps_needs_zone_and_token_file),
		cmocka_unit_test(
			test_feed_unknown_provider_region_or_url_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
