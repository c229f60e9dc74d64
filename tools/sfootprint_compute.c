/* sfootprint compute: the footprint of a job description file with a given
 * footprint.conf, for audits and what-if (docs/methodology.md). */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "footprint/carbon.h"
#include "footprint/config.h"
#include "footprint/report.h"
#include "sfootprint.h"
#include "footprint/summary.h"

/* The plugin matches nodes with Slurm's hostlist API; this tool links no
 * Slurm, so it understands the common forms: "a,b", "qh[001-040,050]",
 * "r[1-2]n[01-16]". Digits under brackets are read greedily. */
static bool _match_range(const char *r, size_t rn, const char *digits,
			 size_t nd)
{
	unsigned long v = strtoul(digits, NULL, 10);

	while (rn) {
		const char *comma = memchr(r, ',', rn);
		size_t len = comma ? (size_t)(comma - r) : rn;
		const char *dash = memchr(r, '-', len);
		size_t wlo = dash ? (size_t)(dash - r) : len;
		unsigned long lo = strtoul(r, NULL, 10);
		unsigned long hi = dash ? strtoul(dash + 1, NULL, 10) : lo;
		bool padded = wlo > 1 && r[0] == '0';

		if (v >= lo && v <= hi &&
		    (padded ? nd == wlo : (nd == 1 || digits[0] != '0')))
			return true;
		if (!comma)
			break;
		rn -= len + 1;
		r = comma + 1;
	}
	return false;
}

static bool _match_term(const char *t, size_t tn, const char *node)
{
	while (tn) {
		if (*t == '[') {
			const char *close = memchr(t, ']', tn);
			size_t nd = strspn(node, "0123456789");

			if (!close || !nd ||
			    !_match_range(t + 1, (size_t)(close - t - 1), node,
					  nd))
				return false;
			node += nd;
			tn -= (size_t)(close + 1 - t);
			t = close + 1;
			continue;
		}
		if (*node != *t)
			return false;
		node++;
		t++;
		tn--;
	}
	return !*node;
}

static int _in_hostlist(const char *hostlist, const char *node, void *ctx)
{
	const char *t = hostlist, *p;
	int depth = 0;

	(void)ctx;
	for (p = hostlist;; p++) {
		if (*p == '[')
			depth++;
		else if (*p == ']')
			depth--;
		else if ((*p == ',' && !depth) || !*p) {
			if (_match_term(t, (size_t)(p - t), node))
				return 1;
			if (!*p)
				return 0;
			t = p + 1;
		}
	}
}

/* A name from the job description goes to a terminal: a control byte in
 * it (an escape sequence, a carriage return) is written \xNN, and a
 * backslash doubled, so that what is shown is what the file holds. */
static int _put_name(const char *s)
{
	int n = 0;

	if (!s) {
		fputs("?", stdout);
		return 1;
	}
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch < 0x20 || ch == 0x7f)
			n += printf("\\x%02x", ch);
		else if (ch == '\\')
			n += fputs("\\\\", stdout) >= 0 ? 2 : 0;
		else
			n += putchar(ch) != EOF;
	}
	return n;
}

/* A figure with no value (nothing to divide by) is '-', never nan/inf. */
static const char *_num(char buf[32], int decimals, double v)
{
	if (!isfinite(v))
		return "-";
	snprintf(buf, 32, "%.*f", decimals, v);
	return buf;
}

static void _print_text(const fp_result_t *r)
{
	char a[21], b[21], n1[32], n2[32], n3[32], n4[32];

	fp_iso8601_format(r->start, a);
	fp_iso8601_format(r->end, b);
	printf("job %llu  user ", (unsigned long long)r->job_id);
	_put_name(r->user);
	fputs("  account ", stdout);
	_put_name(r->account);
	printf("  %s .. %s\n", a, b);
	printf("energy       %12s Wh IT, %s Wh facility (%s)\n",
	       _num(n1, 3, r->energy_it_j / 3600),
	       _num(n2, 3, r->energy_facility_j / 3600),
	       fp_report_source_text(r->energy_source));
	printf("operational  %12s gCO2e\n", _num(n1, 3, r->operational_g));
	printf("embodied     %12s gCO2e\n", _num(n1, 3, r->embodied_g));
	printf("footprint    %12s gCO2e  (%s per core-hour)\n",
	       _num(n1, 3, r->footprint_g), _num(n2, 3, r->per_core_hour_g));
	printf("avoided      %12s gCO2e  heat reuse, not in the "
	       "footprint\n",
	       _num(n1, 3, r->avoided_g));
	printf("net          %12s gCO2e  footprint - avoided\n",
	       _num(n1, 3, r->net_g));
	printf("reference    %12s gCO2e  ", _num(n1, 3, r->reference_g));
	_put_name(r->reference_name);
	printf(", PUE %.2f\n", r->reference_pue);
	/* The report's wording (sfootprint -j): each % beside its own figure. */
	fputs("versus       ", stdout);
	fp_report_put_saving(stdout, r->saved_g, r->saved_with_heat_g,
			     r->reference_g);
	putchar('\n');
	for (size_t i = 0; i < r->nsites; i++) {
		const fp_site_result_t *s = &r->sites[i];
		int w;

		fputs("site ", stdout);
		w = _put_name(s->site);
		printf("%*s %s Wh, PUE %.2f, %s gCO2e/kWh, operational %s g, "
		       "avoided %s g\n",
		       w < 10 ? 10 - w : 0, "", _num(n1, 3, s->energy_j / 3600),
		       s->pue, _num(n2, 1, s->intensity),
		       _num(n3, 3, s->operational_g),
		       _num(n4, 3, s->avoided_g));
	}
	/* The report's spelling (sfootprint -j), reasons escaped. */
	fputs("completeness ", stdout);
	fp_report_put_completeness(stdout, r->complete, r->incomplete,
				   r->nincomplete);
	putchar('\n');
}

int fpt_cmd_compute(int argc, char **argv)
{
	const char *conf = NULL, *jobfile = NULL;
	bool json = false;
	fp_error_t err = { 0 };
	fp_config_t *cfg = NULL;
	fp_job_t *job = NULL;
	fp_result_t *r = NULL;
	char *out = NULL;
	int rc = FP_EXIT_FAIL;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--config") && i + 1 < argc) {
			conf = argv[++i];
		} else if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (argv[i][0] != '-' && !jobfile) {
			jobfile = argv[i];
		} else {
			conf = NULL;
			break;
		}
	}
	if (!conf || !jobfile) {
		fprintf(stderr, "usage: sfootprint compute --config FILE "
				"JOBDESC.json [--json]\n");
		return FP_EXIT_USAGE;
	}
	cfg = fp_config_load(conf, &err);
	if (!cfg)
		goto fail;
	/* A broken series stops only the jobs of its site (their error
	 * names it): the others are computed. */
	/* One line for each broken series, each naming its Site line. */
	if (fp_config_load_series(cfg, &err)) {
		const char *m;

		for (size_t i = 0; (m = fp_config_series_error(cfg, i)); i++)
			fprintf(stderr, "sfootprint compute: warning: %s\n", m);
	}
	job = fp_carbon_job_load(jobfile, &err);
	if (!job)
		goto fail;
	r = fp_carbon_compute(cfg, job, _in_hostlist, NULL, &err);
	if (!r)
		goto fail;
	if (json) {
		out = fp_summary_dumps(r, &err);
		if (!out)
			goto fail;
		printf("%s\n", out);
	} else {
		_print_text(r);
	}
	rc = FP_EXIT_OK;
	goto done;
fail:
	fprintf(stderr, "sfootprint compute: %s\n", err.msg);
done:
	free(out);
	fp_carbon_result_free(r);
	fp_carbon_job_free(job);
	fp_config_free(cfg);
	return rc;
}
