/* The report of one job, from its summary or FP1 record with what
 * accounting adds, and the words every report writes alike. */
#include "footprint/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "footprint/json.h"
#include "footprint/utf8.h"

#include "report_parts.h"

/* Reports */

static char *_jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

static fp_report_t *_report_new(void)
{
	fp_report_t *r = calloc(1, sizeof(*r));

	if (!r)
		return NULL;
	r->elapsed_s = r->core_hours = NAN;
	r->energy_wh = r->energy_it_wh = r->reused_wh = NAN;
	r->operational_g = r->embodied_g = r->footprint_g = NAN;
	r->avoided_g = r->net_g = NAN;
	r->reference_g = r->saved_g = r->saved_with_heat_g = NAN;
	r->saved_percent = r->intensity = r->per_core_hour_g = NAN;
	r->pue = r->reference_pue = NAN;
	r->exit_code = r->exit_signal = -1;
	r->acct_elapsed_s = r->cpu_time_s = r->alloc_cpus = NAN;
	r->sacct_energy_j = NAN;
	return r;
}

void fp_report_free(fp_report_t *r)
{
	if (!r)
		return;
	free(r->user);
	free(r->account);
	free(r->cluster);
	free(r->start);
	free(r->end);
	for (size_t i = 0; i < r->nincomplete; i++)
		free(r->incomplete[i]);
	free(r->incomplete);
	free(r->reference_name);
	for (size_t i = 0; i < r->nsites; i++) {
		free(r->sites[i].name);
		free(r->sites[i].fallback);
	}
	free(r->sites);
	for (size_t i = 0; i < r->nnodes; i++) {
		free(r->nodes[i].name);
		free(r->nodes[i].site);
	}
	free(r->nodes);
	for (size_t i = 0; i < r->nsteps; i++) {
		free(r->steps[i].id);
		free(r->steps[i].split);
	}
	free(r->steps);
	free(r->job_name);
	free(r->state);
	free(r->acct_note);
	free(r->acct_steps);
	free(r);
}

fp_report_acct_t fp_report_acct_unknown(void)
{
	fp_report_acct_t a = {
		.exit_code = -1,
		.exit_signal = -1,
		.elapsed_s = NAN,
		.cpu_time_s = NAN,
		.alloc_cpus = NAN,
		.energy_j = NAN,
	};

	return a;
}

double fp_report_cpu_efficiency(const fp_report_acct_t *a)
{
	double core_s = a->elapsed_s * a->alloc_cpus;

	if (!isfinite(a->cpu_time_s) || !isfinite(core_s) || !(core_s > 0))
		return NAN;
	return 100.0 * a->cpu_time_s / core_s;
}

int fp_report_dup_or_null(char **dst, const char *src)
{
	free(*dst);
	*dst = src ? strdup(src) : NULL;
	return src && !*dst ? -1 : 0;
}

int fp_report_set_acct(fp_report_t *r, const fp_report_acct_t *a,
		       fp_error_t *err)
{
	fp_report_acct_step_t *steps = NULL;

	fp_error_clear(err);
	if (a->nsteps) {
		steps = calloc(a->nsteps, sizeof(*steps));
		if (!steps)
			goto nomem;
		memcpy(steps, a->steps, a->nsteps * sizeof(*steps));
		for (size_t i = 0; i < a->nsteps; i++)
			steps[i].name[sizeof(steps[i].name) - 1] = '\0';
	}
	if (fp_report_dup_or_null(&r->job_name, a->name) ||
	    fp_report_dup_or_null(&r->state, a->state))
		goto nomem;
	free(r->acct_steps);
	r->acct_steps = steps;
	r->nacct_steps = a->nsteps;
	r->has_acct = true;
	r->exit_code = a->exit_code;
	r->exit_signal = a->exit_signal;
	r->acct_start = a->start;
	r->acct_end = a->end;
	r->acct_elapsed_s = a->elapsed_s;
	r->cpu_time_s = a->cpu_time_s;
	r->alloc_cpus = a->alloc_cpus;
	r->sacct_energy_j = a->energy_j;
	return 0;
nomem:
	free(steps);
	return fp_error_set(err, FP_ENOMEM, "job %llu: out of memory",
			    (unsigned long long)r->job_id);
}

int fp_report_set_acct_note(fp_report_t *r, const char *why, fp_error_t *err)
{
	fp_error_clear(err);
	if (fp_report_dup_or_null(&r->acct_note, why))
		return fp_error_set(err, FP_ENOMEM, "job %llu: out of memory",
				    (unsigned long long)r->job_id);
	return 0;
}

static int _add_reason(fp_report_t *r, const char *why)
{
	char **n = realloc(r->incomplete,
			   (r->nincomplete + 1) * sizeof(*r->incomplete));

	if (!n)
		return -1;
	r->incomplete = n;
	n[r->nincomplete] = strdup(why);
	if (!n[r->nincomplete])
		return -1;
	r->nincomplete++;
	return 0;
}

/* sites[].intensity.fallback, optional in the summary: absent, nothing
 * was filled. */
static int _read_fallback(fp_report_site_t *o, json_t *site)
{
	json_t *fb =
		json_object_get(json_object_get(site, "intensity"), "fallback");
	time_t first, end;

	o->fallback_hours = o->fallback_share = NAN;
	if (!json_is_object(fb))
		return 0;
	if (!(o->fallback = _jstr(fb, "method")))
		return json_is_string(json_object_get(fb, "method")) ? -1 : 0;
	first = fp_report_parse_utc(
		json_string_value(json_object_get(fb, "first")));
	end = fp_report_parse_utc(
		json_string_value(json_object_get(fb, "end")));
	o->fallback_first = first < 0 ? 0 : first;
	o->fallback_end = end < 0 ? 0 : end;
	o->fallback_hours = fp_json_number(fb, "hours");
	o->fallback_share = fp_json_number(fb, "energy_share");
	return 0;
}

static int _read_sites(fp_report_t *r, json_t *sites)
{
	size_t i;
	json_t *s;

	if (!json_is_array(sites) || !json_array_size(sites))
		return 0;
	r->sites = calloc(json_array_size(sites), sizeof(*r->sites));
	if (!r->sites)
		return -1;
	json_array_foreach(sites, i, s)
	{
		fp_report_site_t *o = &r->sites[r->nsites++];

		o->name = _jstr(s, "name");
		o->energy_wh = fp_json_number(s, "energy_facility_Wh");
		o->pue = fp_json_number(s, "PUE");
		o->intensity = fp_json_number(s, "intensity_gco2e_per_kwh");
		o->operational_g = fp_json_number(s, "operational_g");
		o->embodied_g = fp_json_number(s, "embodied_g");
		o->avoided_g = fp_json_number(s, "avoided_g");
		if (_read_fallback(o, s))
			return -1;
	}
	return 0;
}

static int _read_nodes(fp_report_t *r, json_t *nodes, json_t *steps)
{
	size_t i;
	json_t *s;

	if (json_is_array(nodes) && json_array_size(nodes)) {
		r->nodes = calloc(json_array_size(nodes), sizeof(*r->nodes));
		if (!r->nodes)
			return -1;
		json_array_foreach(nodes, i, s)
		{
			fp_report_node_t *o = &r->nodes[r->nnodes++];

			o->name = _jstr(s, "name");
			o->site = _jstr(s, "site");
			o->cpus = fp_json_number(s, "cpus");
			o->energy_it_wh = fp_json_number(s, "energy_it_Wh");
			o->operational_g = fp_json_number(s, "operational_g");
			o->embodied_g = fp_json_number(s, "embodied_g");
			o->avoided_g = fp_json_number(s, "avoided_g");
		}
	}
	if (json_is_array(steps) && json_array_size(steps)) {
		r->steps = calloc(json_array_size(steps), sizeof(*r->steps));
		if (!r->steps)
			return -1;
		json_array_foreach(steps, i, s)
		{
			fp_report_step_t *o = &r->steps[r->nsteps++];

			o->id = _jstr(s, "id");
			o->split = _jstr(s, "split");
			o->nnodes = fp_json_number(s, "nodes");
			o->energy_it_wh = fp_json_number(s, "energy_it_Wh");
		}
	}
	return 0;
}

fp_report_t *fp_report_from_summary(const char *name, const char *payload,
				    fp_error_t *err)
{
	json_error_t jerr;
	json_t *root = json_loads(payload, 0, &jerr);
	json_t *job, *energy, *carbon, *reasons, *v;
	fp_report_t *r;
	size_t i;

	fp_error_clear(err);
	if (!json_is_object(root)) {
		json_decref(root);
		fp_error_set(err, FP_EPARSE, "%s: not a summary: %s", name,
			     root ? "not an object" : jerr.text);
		return NULL;
	}
	job = json_object_get(root, "job");
	/* The worker's summary of a job it could not compute has only a
	 * top-level job_id and the reason; it is still a valid summary. */
	v = json_is_object(job) ? json_object_get(job, "id")
				: json_object_get(root, "job_id");
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		json_decref(root);
		fp_error_set(err, FP_EPARSE, "%s: not a summary: no job id",
			     name);
		return NULL;
	}
	r = _report_new();
	if (!r)
		goto nomem;
	r->job_id = (uint64_t)json_integer_value(v);
	if (!json_is_object(job))
		job = root;
	r->user = _jstr(job, "user");
	r->account = _jstr(job, "account");
	r->cluster = _jstr(job, "cluster");
	r->start = _jstr(job, "start");
	r->end = _jstr(job, "end");
	r->elapsed_s = fp_json_number(job, "elapsed_s");
	r->core_hours = fp_json_number(job, "core_hours");
	r->complete = json_is_true(json_object_get(root, "complete"));
	reasons = json_object_get(root, "incomplete");
	if (json_is_string(reasons) &&
	    _add_reason(r, json_string_value(reasons)))
		goto nomem;
	json_array_foreach(reasons, i,
			   v) if (json_is_string(v) &&
				  _add_reason(r,
					      json_string_value(v))) goto nomem;
	energy = json_object_get(root, "energy");
	v = json_object_get(energy, "source");
	if (!json_is_string(v) ||
	    fp_carbon_energy_source_parse(json_string_value(v), &r->source))
		r->source = FP_ENERGY_UNKNOWN;
	r->energy_wh = fp_json_number(energy, "facility_Wh");
	r->energy_it_wh = fp_json_number(energy, "it_Wh");
	r->reused_wh = fp_json_number(energy, "reused_Wh");
	carbon = json_object_get(root, "carbon");
	r->operational_g = fp_json_number(carbon, "operational");
	r->embodied_g = fp_json_number(carbon, "embodied");
	r->footprint_g = fp_json_number(carbon, "footprint");
	r->avoided_g = fp_json_number(carbon, "avoided_heat_reuse");
	r->net_g = fp_json_number(carbon, "net");
	r->reference_g = fp_json_number(carbon, "reference");
	r->saved_g = fp_json_number(carbon, "saved");
	r->saved_with_heat_g = fp_json_number(carbon, "saved_with_heat");
	r->saved_percent = fp_json_number(carbon, "saved_percent");
	r->intensity = fp_json_number(carbon, "intensity_gco2e_per_kwh");
	r->per_core_hour_g = fp_json_number(carbon, "sci_per_core_hour");
	r->pue = fp_json_number(json_object_get(root, "efficiency"), "PUE");
	r->reference_name = _jstr(json_object_get(root, "reference"), "name");
	r->reference_pue =
		fp_json_number(json_object_get(root, "reference"), "PUE");
	v = json_object_get(json_object_get(root, "config"), "sha256");
	if (json_is_string(v))
		snprintf(r->config, sizeof(r->config), "%s",
			 json_string_value(v));
	if (_read_sites(r, json_object_get(root, "sites")) ||
	    _read_nodes(r, json_object_get(root, "nodes"),
			json_object_get(root, "steps")))
		goto nomem;
	json_decref(root);
	return r;
nomem:
	json_decref(root);
	fp_report_free(r);
	fp_error_set(err, FP_ENOMEM, "%s: out of memory", name);
	return NULL;
}

fp_report_t *fp_report_from_record(const fp_record_t *rec, const char *user,
				   const char *account, fp_error_t *err)
{
	fp_report_t *r = _report_new();

	fp_error_clear(err);
	if (!r) {
		fp_error_set(err, FP_ENOMEM, "out of memory");
		return NULL;
	}
	r->from_record = true;
	r->job_id = rec->job_id;
	/* names from Slurm accounting may be any bytes: kept as they are,
	 * escaped where they are written (fp_report_escape, jname) */
	if (fp_report_dup_or_null(&r->user, user) ||
	    fp_report_dup_or_null(&r->account, account)) {
		fp_report_free(r);
		fp_error_set(err, FP_ENOMEM, "out of memory");
		return NULL;
	}
	r->source = rec->source;
	r->complete = rec->complete;
	r->energy_wh = rec->energy_wh;
	r->operational_g = rec->operational_g;
	r->embodied_g = rec->embodied_g;
	r->footprint_g = rec->footprint_g;
	r->avoided_g = rec->avoided_g;
	r->net_g = rec->net_g;
	r->reference_g = rec->reference_g;
	r->saved_g = rec->saved_g;
	/* Same definitions as the summary (docs/methodology.md). */
	r->saved_with_heat_g = rec->reference_g - rec->net_g;
	if (rec->reference_g > 0)
		r->saved_percent =
			100.0 * r->saved_with_heat_g / rec->reference_g;
	snprintf(r->config, sizeof(r->config), "%s", rec->config);
	if (!rec->complete &&
	    _add_reason(r, "the job record says incomplete; the reasons are "
			   "in the signed summary")) {
		fp_report_free(r);
		fp_error_set(err, FP_ENOMEM, "out of memory");
		return NULL;
	}
	return r;
}

/* x with that many decimals; "-" when unknown, never nan or inf. */
static const char *_fixed(char *buf, size_t size, double x, int decimals)
{
	if (!isfinite(x))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.*f", decimals, x);
	return buf;
}

/* Figures for people: three decimals (the summary keeps every digit). */
const char *fp_report_fig(char *buf, size_t size, double x)
{
	return _fixed(buf, size, x, 3);
}

/* Joules as sacct shows ConsumedEnergy: a whole number. */
const char *fp_report_joules(char *buf, size_t size, double j)
{
	return _fixed(buf, size, j, 0);
}

const char *fp_report_percent(char *buf, size_t size, double x)
{
	return _fixed(buf, size, x, 1);
}

/* One spelling everywhere: "simulated", said to be no measurement. */
const char *fp_report_source_text(fp_energy_source_t src)
{
	switch (src) {
	case FP_ENERGY_MEASURED:
		return "measured";
	case FP_ENERGY_CALIBRATED:
		return "calibrated: a power model fitted on the node";
	case FP_ENERGY_SIMULATED:
		return "simulated by fp-simnode, not a measurement";
	case FP_ENERGY_UNKNOWN:
		break;
	}
	return "unknown";
}

const char *fp_report_ref_name(const fp_report_t *r)
{
	return r->reference_name ? r->reference_name : "standard datacenter";
}

char *fp_report_close_stream(FILE *f, char **buf)
{
	if (fclose(f)) {
		free(*buf);
		return NULL;
	}
	return *buf;
}

/* A name bound for a terminal (fp_report_escape); "?" when unknown. */
void fp_report_put_name(FILE *f, const char *s)
{
	char *e = fp_report_escape(s);

	fputs(e ? e : "?", f);
	free(e);
}

/* "saved X gCO2e (Y %)" or "X gCO2e more than the reference (Y %)": both
 * figures of the same comparison, Y in % of the reference. */
static void _put_one_saving(FILE *f, double saved, double reference)
{
	char a[32], b[32];
	double pct = reference > 0 ? 100.0 * saved / reference : NAN;

	if (!isfinite(saved))
		fprintf(f, "saved - gCO2e");
	else if (saved < 0)
		fprintf(f, "%s gCO2e more than the reference (%s %%)",
			fp_report_fig(a, sizeof(a), -saved),
			fp_report_percent(b, sizeof(b), -pct));
	else
		fprintf(f, "saved %s gCO2e (%s %%)",
			fp_report_fig(a, sizeof(a), saved),
			fp_report_percent(b, sizeof(b), pct));
}

void fp_report_put_saving(FILE *f, double saved, double saved_with_heat,
			  double reference)
{
	_put_one_saving(f, saved, reference);
	fputs("; with heat reuse, ", f);
	_put_one_saving(f, saved_with_heat, reference);
}

void fp_report_put_completeness(FILE *f, bool complete, char *const *reasons,
				size_t nreasons)
{
	if (complete) {
		fputs("complete", f);
		return;
	}
	fputs("incomplete: ", f);
	if (!nreasons)
		fputs("no reason given", f);
	for (size_t i = 0; i < nreasons; i++) {
		if (i)
			fputs("; ", f);
		fp_report_put_name(f, reasons[i]);
	}
}

void fp_report_put_complete(FILE *f, const fp_report_t *r)
{
	fp_report_put_completeness(f, r->complete, r->incomplete,
				   r->nincomplete);
}

/* Names and times for people */

char *fp_report_escape(const char *s)
{
	return fp_utf8_escape_bytes(s, true);
}

const char *fp_report_local_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (!t || !localtime_r(&t, &tm) ||
	    !strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(buf, size, "-");
	return buf;
}

const char *fp_report_duration(double s, char *buf, size_t size)
{
	long long t, d;

	if (!isfinite(s) || s < 0 || s > 1e12) {
		snprintf(buf, size, "-");
		return buf;
	}
	t = llround(s);
	d = t / 86400;
	if (d)
		snprintf(buf, size, "%lld-%02lld:%02lld:%02lld", d,
			 t % 86400 / 3600, t % 3600 / 60, t % 60);
	else
		snprintf(buf, size, "%02lld:%02lld:%02lld", t / 3600,
			 t % 3600 / 60, t % 60);
	return buf;
}
