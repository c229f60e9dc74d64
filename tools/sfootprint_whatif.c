/* sfootprint whatif -j JOBID (also `sfootprint -j JOBID --whatif`): when and
 * where the same job would have emitted least, from the sites' series. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "footprint/config.h"
#include "footprint/file.h"
#include "footprint/json.h"
#include "footprint/report.h"
#include "footprint/sign.h"
#include "footprint/whatif.h"

#include "sfootprint.h"

#define JSON_FLAGS (JSON_INDENT(2) | JSON_REAL_PRECISION(12))

static void _usage(FILE *out)
{
	fprintf(out,
		"usage: sfootprint whatif -j JOBID [--hours N] [--top N] "
		"[--config FILE] [--json]\n"
		"  the same job (energy, duration) on each site, started at "
		"each hour within\n"
		"  N hours (default 24) of its actual start; the top N "
		"(default 5) options\n");
}

static const char *_when(time_t t, char buf[21])
{
	fp_iso8601_format(t, buf);
	return buf;
}

/* The job's verified summary, or NULL (one line on stderr). */
static json_t *_load_summary(const fp_config_t *cfg, const char *job)
{
	char path[4096];
	fp_summary_file_t f = { 0 };
	fp_error_t err = { 0 };
	fp_keyset_t *ks;
	json_t *root = NULL;
	uint64_t id = strtoull(job, NULL, 10);

	fp_summary_load_path(path, sizeof(path), cfg->spool_dir, id);
	/* footprint.conf's current and retired keys (or the default); keys
	 * that cannot be read (NULL) leave a summary there unverified */
	ks = fp_sign_keyset_new_config(cfg, &err);
	if (fp_summary_load(&f, path, ks, id) == FP_SUMMARY_UNVERIFIED && !ks)
		fprintf(stderr, "sfootprint: job %s: %s: %s\n", job, path,
			err.msg);
	else if (f.state != FP_SUMMARY_VALID)
		fprintf(stderr, "sfootprint: job %s: %s%s\n", job,
			f.state == FP_SUMMARY_INVALID ? "INVALID: " : "",
			f.err.msg);
	else if (!json_is_object(json_object_get(f.root, "job")))
		fprintf(stderr,
			"sfootprint: job %s: %s: not a computed summary\n", job,
			path);
	else
		root = json_incref(f.root);
	fp_summary_load_clear(&f);
	fp_sign_keyset_free(ks);
	return root;
}

static bool _has_actual(const fp_whatif_t *w, const fp_whatif_group_t *g,
			time_t actual)
{
	for (size_t i = g->first; i < g->first + g->count; i++)
		if (w->options[i].start == actual)
			return true;
	return false;
}

static bool _one_intensity(const fp_whatif_t *w, const fp_whatif_group_t *g)
{
	for (size_t i = g->first + 1; i < g->first + g->count; i++)
		if (fabs(w->options[i].intensity -
			 w->options[g->first].intensity) >= 0.05)
			return false;
	return true;
}

/* The distinct sites of a group, in its order (starts, then names). */
static json_t *_group_sites(const fp_whatif_t *w, const fp_whatif_group_t *g)
{
	json_t *a = json_array();

	for (size_t i = g->first; i < g->first + g->count; i++) {
		bool seen = false;

		for (size_t k = g->first; k < i && !seen; k++)
			seen = !strcmp(w->options[k].site, w->options[i].site);
		if (!seen)
			json_array_append_new(a,
					      json_string(w->options[i].site));
	}
	return a;
}

/* "any start hour from A to B at dc", "2 start hours from A to B at dc",
 * "3 sites (a, b, c), starts from A to B". */
static void _put_equal(const fp_whatif_t *w, const fp_whatif_group_t *g)
{
	json_t *sites = _group_sites(w, g), *v;
	char a[21], b[21];
	size_t i;

	if (g->nsites > 1) {
		printf("%zu sites (", g->nsites);
		json_array_foreach(sites, i, v)
			printf("%s%s", i ? ", " : "", json_string_value(v));
		printf("), starts from %s to %s", _when(g->first_start, a),
		       _when(g->last_start, b));
	} else {
		printf("%s from %s to %s at %s",
		       g->every_hour ? "any start hour" : "start hours",
		       _when(g->first_start, a), _when(g->last_start, b),
		       w->options[g->first].site);
	}
	json_decref(sites);
}

static int _print(const fp_whatif_t *w, const fp_whatif_job_t *job,
		  double actual_g, const char *id, unsigned top, bool as_json,
		  time_t from, time_t to)
{
	char a[21], b[21];
	size_t n = w->ngroups < top ? w->ngroups : top;
	bool all_equal = w->ngroups == 1 && w->noptions > 1;

	if (as_json) {
		json_t *opts = json_array(), *un = json_array(), *o;
		char *s;

		for (size_t i = 0; i < w->nunavailable; i++) {
			const fp_whatif_unavailable_t *u = &w->unavailable[i];

			json_array_append_new(
				un,
				json_pack("{s:s, s:s, s:s?, s:s}", "site",
					  u->site, "field", u->field, "series",
					  u->series, "error", u->fault));
		}
		/* One entry per candidate: the first of its equal options,
		 * with how many there are, their sites and starts. */
		for (size_t i = 0; i < n; i++) {
			const fp_whatif_group_t *g = &w->groups[i];
			const fp_whatif_option_t *x = &w->options[g->first];

			json_array_append_new(
				opts,
				json_pack(
					"{s:s, s:s, s:f, s:f, s:f, s:f, s:f, s:f, s:I, "
					"s:o, s:s, s:s, s:b}",
					"site", x->site, "start",
					_when(x->start, a),
					"intensity_gco2e_per_kwh", x->intensity,
					"operational_g", x->operational_g,
					"footprint_g", x->footprint_g,
					"avoided_g", x->avoided_g, "net_g",
					x->net_g, "saving_g",
					actual_g - x->footprint_g,
					"equal_options", (json_int_t)g->count,
					"sites", _group_sites(w, g),
					"first_start", _when(g->first_start, a),
					"last_start", _when(g->last_start, b),
					"every_start_hour", g->every_hour));
		}
		o = json_pack("{s:s, s:f, s:f, s:f, s:s, s:s, s:I, s:I, s:I, "
			      "s:b, s:o, s:o}",
			      "job", id, "energy_it_Wh", job->energy_j / 3600,
			      "elapsed_s", job->elapsed_s, "actual_footprint_g",
			      actual_g, "window_start", _when(from, a),
			      "window_end", _when(to, b), "options_tried",
			      (json_int_t)w->noptions, "options_not_covered",
			      (json_int_t)w->skipped, "candidates",
			      (json_int_t)w->ngroups, "all_equal", all_equal,
			      "best", opts, "unavailable", un);
		s = o ? json_dumps(o, JSON_FLAGS) : NULL;
		json_decref(o);
		if (!s)
			return FP_EXIT_FAIL;
		printf("%s\n", s);
		free(s);
		return FP_EXIT_OK;
	}
	printf("Job %s: %.3f Wh IT over %.0f s, actual footprint %.3f gCO2e "
	       "(started %s)\n",
	       id, job->energy_j / 3600, job->elapsed_s, actual_g,
	       _when(job->start, a));
	printf("What-if: the same energy and duration on each site, starting "
	       "at each hour from %s to %s\n",
	       _when(from, a), _when(to, b));
	printf("(%zu options, %zu distinct; %zu not covered by the series)\n",
	       w->noptions, w->ngroups, w->skipped);
	if (all_equal) {
		/* A table of N equal rows would read as N choices. */
		printf("All %zu options are equal: %.3f gCO2e, saving %.3f g, "
		       "at ",
		       w->noptions, w->options[0].footprint_g,
		       actual_g - w->options[0].footprint_g);
		_put_equal(w, &w->groups[0]);
		printf(": within the window, neither the site nor the start "
		       "hour changes the footprint\n");
		n = 0;
	} else {
		printf("%-4s %-16s %-20s %10s %12s %10s %12s\n", "rank", "site",
		       "start (UTC)", "gCO2e/kWh", "footprint g", "avoided g",
		       "saving g");
	}
	for (size_t i = 0; i < n; i++) {
		const fp_whatif_group_t *g = &w->groups[i];
		const fp_whatif_option_t *x = &w->options[g->first];
		bool actual = _has_actual(w, g, job->start);
		char site[32];

		if (g->nsites > 1)
			snprintf(site, sizeof(site), "%zu sites", g->nsites);
		else
			snprintf(site, sizeof(site), "%s", x->site);
		printf("%-4zu %-16s %-20s ", i + 1, site, _when(x->start, a));
		/* Equal footprints at sites of other PUEs: other intensities. */
		if (!_one_intensity(w, g))
			printf("%10s", "-");
		else
			printf("%10.1f", x->intensity);
		printf(" %12.3f %10.3f %12.3f", x->footprint_g, x->avoided_g,
		       actual_g - x->footprint_g);
		if (g->count > 1) {
			printf("  (%zu equal: ", g->count);
			_put_equal(w, g);
			printf("%s)",
			       actual ? "; the actual start among them" : "");
		} else if (actual) {
			printf("  (actual start)");
		}
		putchar('\n');
	}
	/* Left out, not ranked: said so that a reader does not take the
	 * ranking for all the sites. */
	for (size_t i = 0; i < w->nunavailable; i++) {
		const fp_whatif_unavailable_t *u = &w->unavailable[i];

		printf("unavailable: site %s, %s=%s: %s\n", u->site, u->field,
		       u->series ? u->series : "?", u->fault);
	}
	if (n && actual_g > 0) {
		printf("Best: %s at %s", w->options[0].site,
		       _when(w->options[0].start, a));
		if (w->groups[0].count > 1)
			printf(" (or %zu equal options)",
			       w->groups[0].count - 1);
		printf(", %.1f %% less than the actual run\n",
		       100.0 * (actual_g - w->options[0].footprint_g) /
			       actual_g);
	}
	return FP_EXIT_OK;
}

int fpt_cmd_whatif(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "jobs", required_argument, NULL, 'j' },
		{ "hours", required_argument, NULL, 'H' },
		{ "top", required_argument, NULL, 'n' },
		{ "config", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *job = NULL, *config = NULL;
	unsigned long hours = 24, top = 5;
	bool as_json = false;
	char path[4096], *end;
	fp_error_t err = { 0 };
	fp_config_t *cfg = NULL;
	fp_whatif_t *w = NULL;
	fp_whatif_job_t wj;
	json_t *sum = NULL, *jj, *carbon;
	time_t from, to;
	double actual_g;
	int opt, rc = FP_EXIT_FAIL;

	optind = 1;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":j:n:h", longopts, NULL)) !=
	       -1) {
		switch (opt) {
		case 'j':
			job = optarg;
			break;
		case 'c':
			config = optarg;
			break;
		case 'J':
			as_json = true;
			break;
		case 'H':
		case 'n': {
			/* --hours: a leap year either side; --top 0 would
			 * print an empty table. sfootprint(1) says both. */
			unsigned long lo = opt == 'H' ? 0 : 1,
				      hi = opt == 'H' ? 24 * 366 : 1000000;

			errno = 0;
			*(opt == 'H' ? &hours : &top) =
				strtoul(optarg, &end, 10);
			if (errno || *end || !*optarg || *optarg == '-' ||
			    *(opt == 'H' ? &hours : &top) < lo ||
			    *(opt == 'H' ? &hours : &top) > hi) {
				fprintf(stderr,
					"sfootprint: --%s '%s': "
					"expected a whole number from %lu to "
					"%lu\n",
					opt == 'H' ? "hours" : "top", optarg,
					lo, hi);
				return FP_EXIT_USAGE;
			}
			break;
		}
		case 'h':
			_usage(stdout);
			return FP_EXIT_OK;
		default:
			fprintf(stderr, "sfootprint: whatif: %s '%s'\n",
				opt == ':' ? "option needs a value"
					   : "unknown option",
				argv[optind - 1]);
			_usage(stderr);
			return FP_EXIT_USAGE;
		}
	}
	if (!job || optind < argc) {
		_usage(stderr);
		return FP_EXIT_USAGE;
	}
	if (!*job || strspn(job, "0123456789") != strlen(job)) {
		fprintf(stderr,
			"sfootprint: whatif -j '%s': a raw job id "
			"(as in sacct -o JobIDRaw)\n",
			job);
		return FP_EXIT_USAGE;
	}
	if (fp_report_conf_path(config, getenv("FOOTPRINT_CONF"), NULL, path,
				sizeof(path)))
		return FP_EXIT_FAIL;
	cfg = fp_config_load(path, &err);
	if (!cfg) {
		fprintf(stderr, "sfootprint: %s\n", err.msg);
		goto out;
	}
	/* A broken series leaves out only its site: the what-if lists it as
	 * unavailable and ranks the others. */
	(void)fp_config_load_series(cfg, &err);
	if (!(sum = _load_summary(cfg, job)))
		goto out;
	jj = json_object_get(sum, "job");
	carbon = json_object_get(sum, "carbon");
	wj.energy_j =
		fp_json_number(json_object_get(sum, "energy"), "it_Wh") * 3600;
	wj.elapsed_s = fp_json_number(jj, "elapsed_s");
	wj.embodied_g = fp_json_number(carbon, "embodied");
	actual_g = fp_json_number(carbon, "footprint");
	if (!json_is_string(json_object_get(jj, "start")) ||
	    fp_iso8601_parse(json_string_value(json_object_get(jj, "start")),
			     &wj.start)) {
		fprintf(stderr,
			"sfootprint: job %s: the summary has no start "
			"time\n",
			job);
		goto out;
	}
	from = wj.start - (time_t)hours * 3600;
	to = wj.start + (time_t)hours * 3600;
	w = fp_whatif_compute(cfg, &wj, from, to, &err);
	if (!w) {
		fprintf(stderr, "sfootprint: job %s: %s\n", job, err.msg);
		goto out;
	}
	rc = _print(w, &wj, actual_g, job, (unsigned)top, as_json, from, to);
out:
	fp_whatif_free(w);
	json_decref(sum);
	fp_config_free(cfg);
	return rc;
}
