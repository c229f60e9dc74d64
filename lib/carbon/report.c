/* Human and JSON reports of job footprints (sfootprint, footprint-mail): one
 * job from its summary or FP1 record, many jobs as a table; sacct times. */
#include "footprint/report.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "footprint/json.h"
#include "footprint/series.h"
#include "footprint/slurmconf.h"
#include "footprint/utf8.h"

/* Reports */

static char *jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? strdup(json_string_value(v)) : NULL;
}

static fp_report_t *report_new(void)
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

static int dup_or_null(char **dst, const char *src)
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
	if (dup_or_null(&r->job_name, a->name) ||
	    dup_or_null(&r->state, a->state))
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
	if (dup_or_null(&r->acct_note, why))
		return fp_error_set(err, FP_ENOMEM, "job %llu: out of memory",
				    (unsigned long long)r->job_id);
	return 0;
}

static int add_reason(fp_report_t *r, const char *why)
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
static int read_fallback(fp_report_site_t *o, json_t *site)
{
	json_t *fb =
		json_object_get(json_object_get(site, "intensity"), "fallback");
	time_t first, end;

	o->fallback_hours = o->fallback_share = NAN;
	if (!json_is_object(fb))
		return 0;
	if (!(o->fallback = jstr(fb, "method")))
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

static int read_sites(fp_report_t *r, json_t *sites)
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

		o->name = jstr(s, "name");
		o->energy_wh = fp_json_number(s, "energy_facility_Wh");
		o->pue = fp_json_number(s, "PUE");
		o->intensity = fp_json_number(s, "intensity_gco2e_per_kwh");
		o->operational_g = fp_json_number(s, "operational_g");
		o->embodied_g = fp_json_number(s, "embodied_g");
		o->avoided_g = fp_json_number(s, "avoided_g");
		if (read_fallback(o, s))
			return -1;
	}
	return 0;
}

static int read_nodes(fp_report_t *r, json_t *nodes, json_t *steps)
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

			o->name = jstr(s, "name");
			o->site = jstr(s, "site");
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

			o->id = jstr(s, "id");
			o->split = jstr(s, "split");
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
	r = report_new();
	if (!r)
		goto nomem;
	r->job_id = (uint64_t)json_integer_value(v);
	if (!json_is_object(job))
		job = root;
	r->user = jstr(job, "user");
	r->account = jstr(job, "account");
	r->cluster = jstr(job, "cluster");
	r->start = jstr(job, "start");
	r->end = jstr(job, "end");
	r->elapsed_s = fp_json_number(job, "elapsed_s");
	r->core_hours = fp_json_number(job, "core_hours");
	r->complete = json_is_true(json_object_get(root, "complete"));
	reasons = json_object_get(root, "incomplete");
	if (json_is_string(reasons) &&
	    add_reason(r, json_string_value(reasons)))
		goto nomem;
	json_array_foreach(reasons, i,
			   v) if (json_is_string(v) &&
				  add_reason(r,
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
	r->reference_name = jstr(json_object_get(root, "reference"), "name");
	r->reference_pue =
		fp_json_number(json_object_get(root, "reference"), "PUE");
	v = json_object_get(json_object_get(root, "config"), "sha256");
	if (json_is_string(v))
		snprintf(r->config, sizeof(r->config), "%s",
			 json_string_value(v));
	if (read_sites(r, json_object_get(root, "sites")) ||
	    read_nodes(r, json_object_get(root, "nodes"),
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
	fp_report_t *r = report_new();

	fp_error_clear(err);
	if (!r) {
		fp_error_set(err, FP_ENOMEM, "out of memory");
		return NULL;
	}
	r->from_record = true;
	r->job_id = rec->job_id;
	/* names from Slurm accounting may be any bytes: kept as they are,
	 * escaped where they are written (fp_report_escape, jname) */
	if (dup_or_null(&r->user, user) || dup_or_null(&r->account, account)) {
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
	    add_reason(r, "the job record says incomplete; the reasons are "
			  "in the signed summary")) {
		fp_report_free(r);
		fp_error_set(err, FP_ENOMEM, "out of memory");
		return NULL;
	}
	return r;
}

/* Figures for people: three decimals (the summary keeps every digit);
 * "-" when unknown, never nan or inf. */
static const char *fig(char *buf, size_t size, double x)
{
	if (!isfinite(x))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.3f", x);
	return buf;
}

/* Joules as sacct shows ConsumedEnergy: a whole number. */
static const char *joules(char *buf, size_t size, double j)
{
	if (!isfinite(j))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.0f", j);
	return buf;
}

static const char *percent(char *buf, size_t size, double x)
{
	if (!isfinite(x))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.1f", x);
	return buf;
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

static const char *ref_name(const fp_report_t *r)
{
	return r->reference_name ? r->reference_name : "standard datacenter";
}

static char *close_stream(FILE *f, char **buf)
{
	if (fclose(f)) {
		free(*buf);
		return NULL;
	}
	return *buf;
}

/* A name bound for a terminal (fp_report_escape); "?" when unknown. */
static void put_name(FILE *f, const char *s)
{
	char *e = fp_report_escape(s);

	fputs(e ? e : "?", f);
	free(e);
}

/* "saved X gCO2e (Y %)" or "X gCO2e more than the reference (Y %)": both
 * figures of the same comparison, Y in % of the reference. */
static void put_one_saving(FILE *f, double saved, double reference)
{
	char a[32], b[32];
	double pct = reference > 0 ? 100.0 * saved / reference : NAN;

	if (!isfinite(saved))
		fprintf(f, "saved - gCO2e");
	else if (saved < 0)
		fprintf(f, "%s gCO2e more than the reference (%s %%)",
			fig(a, sizeof(a), -saved), percent(b, sizeof(b), -pct));
	else
		fprintf(f, "saved %s gCO2e (%s %%)", fig(a, sizeof(a), saved),
			percent(b, sizeof(b), pct));
}

void fp_report_put_saving(FILE *f, double saved, double saved_with_heat,
			  double reference)
{
	put_one_saving(f, saved, reference);
	fputs("; with heat reuse, ", f);
	put_one_saving(f, saved_with_heat, reference);
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
		put_name(f, reasons[i]);
	}
}

static void put_completeness(FILE *f, const fp_report_t *r)
{
	fp_report_put_completeness(f, r->complete, r->incomplete,
				   r->nincomplete);
}

static bool near(double a, double b)
{
	return fabs(a - b) <= fmax(1.0, 0.005 * fmax(fabs(a), fabs(b)));
}

static double step_energy(const fp_report_t *r, const char *name)
{
	for (size_t i = 0; i < r->nacct_steps; i++)
		if (!strcmp(r->acct_steps[i].name, name))
			return r->acct_steps[i].energy_j;
	return NAN;
}

/* sacct's ConsumedEnergy next to the footprint's energy, and why they
 * differ when they do. The job row is what slurmctld adds up as steps end:
 * with PrologFlags=Contain only the extern step, else every step that
 * ended before the job did (the batch step usually ends after), so it is
 * not the steps' sum. */
static void put_sacct_energy(FILE *f, const fp_report_t *r)
{
	char a[32], b[32], c[32];
	double job = r->sacct_energy_j, sum = 0, batch, ext;
	double it = r->energy_it_wh * 3600;
	size_t known = 0;

	fprintf(f, "sacct ConsumedEnergy: %s J (%s Wh) on the job's row",
		joules(a, sizeof(a), job), fig(b, sizeof(b), job / 3600));
	for (size_t i = 0; i < r->nacct_steps; i++) {
		const fp_report_acct_step_t *s = &r->acct_steps[i];

		fprintf(f, "%s %s %s J", i ? "," : "; steps:", s->name,
			joules(a, sizeof(a), s->energy_j));
		if (isfinite(s->energy_j)) {
			sum += s->energy_j;
			known++;
		}
	}
	fputs("\n", f);
	if (!known && !isfinite(job)) {
		fputs("  sacct has no energy for this job (the node's energy "
		      "plugin reported none)\n",
		      f);
		return;
	}
	if (!isfinite(it)) {
		fputs("  the footprint's IT energy is in the signed summary "
		      "only (the record has the facility energy)\n",
		      f);
		return;
	}
	if (isfinite(job) && near(job, it)) {
		fputs("  = the footprint's IT energy (its facility energy "
		      "adds the PUE)\n",
		      f);
		return;
	}
	batch = step_energy(r, "batch");
	ext = step_energy(r, "extern");
	if (!isfinite(job))
		fprintf(f,
			"  sacct shows no energy on the job's row "
			"(slurmctld adds a step's energy as the step ends, "
			"and had none when the job ended); its steps add up "
			"to %s J\n",
			joules(a, sizeof(a), sum));
	if (isfinite(job) && known && !near(job, sum)) {
		if (isfinite(batch) && batch > 0 && near(job + batch, sum))
			fprintf(f,
				"  sacct's job row omits the batch step "
				"(%s J); its steps add up to %s J\n",
				joules(a, sizeof(a), batch),
				joules(b, sizeof(b), sum));
		else if (isfinite(ext) && near(job, ext))
			fprintf(f,
				"  sacct's job row has only the extern "
				"step's energy (PrologFlags=Contain); its "
				"steps add up to %s J\n",
				joules(a, sizeof(a), sum));
		else
			fprintf(f,
				"  sacct's job row is not the sum of its "
				"steps (%s J)\n",
				joules(a, sizeof(a), sum));
	}
	if (known && near(sum, it))
		fprintf(f,
			"  the footprint's IT energy is the sum of every "
			"step: %s J = %s Wh\n",
			joules(a, sizeof(a), it),
			fig(b, sizeof(b), r->energy_it_wh));
	else
		fprintf(f,
			"  the footprint's IT energy (%s J) differs from "
			"sacct's %s (%s J): it shares each node's measured "
			"energy among the jobs on it by their CPU activity "
			"(docs/methodology.md), sacct keeps what the energy "
			"plugin reported\n",
			joules(a, sizeof(a), it), known ? "steps" : "job row",
			joules(c, sizeof(c), known ? sum : job));
}

/* Start and end: the summary's (UTC) shown local, as sacct does, else
 * accounting's. */
static void put_times(FILE *f, const fp_report_t *r)
{
	char a[32], b[32], d[32], e[32];
	time_t start = r->start ? fp_report_parse_utc(r->start) : -1;
	time_t end = r->end ? fp_report_parse_utc(r->end) : -1;
	double elapsed = isfinite(r->elapsed_s) ? r->elapsed_s
						: r->acct_elapsed_s;

	if (start < 0)
		start = r->has_acct ? r->acct_start : 0;
	if (end < 0)
		end = r->has_acct ? r->acct_end : 0;
	if (!start && !end && !isfinite(elapsed))
		return;
	fprintf(f, "Start/End: %s / %s (local time)\n",
		fp_report_local_time(start, a, sizeof(a)),
		fp_report_local_time(end, b, sizeof(b)));
	fprintf(f, "Elapsed: %s (%s core-hours)\n",
		fp_report_duration(elapsed, d, sizeof(d)),
		fig(e, sizeof(e), r->core_hours));
}

/* seff's first line: state and exit code. */
static void put_acct(FILE *f, const fp_report_t *r)
{
	if (!r->has_acct) {
		if (r->acct_note) {
			fputs("State: - (no accounting record: ", f);
			put_name(f, r->acct_note);
			fputs(")\n", f);
		}
		return;
	}
	fputs("State: ", f);
	put_name(f, r->state ? r->state : "-");
	if (r->exit_code >= 0)
		fprintf(f, " (exit code %d:%d)\n", r->exit_code,
			r->exit_signal < 0 ? 0 : r->exit_signal);
	else
		fputs(" (exit code -)\n", f);
}

/* seff's CPU efficiency, after the elapsed time it is measured over. */
static void put_cpu(FILE *f, const fp_report_t *r)
{
	fp_report_acct_t a = fp_report_acct_unknown();
	char b[32], c[32], d[32], e[32];
	double eff;

	if (!r->has_acct)
		return;
	a.elapsed_s = r->acct_elapsed_s;
	a.cpu_time_s = r->cpu_time_s;
	a.alloc_cpus = r->alloc_cpus;
	eff = fp_report_cpu_efficiency(&a);
	fprintf(f,
		"CPU efficiency: %s%s of %s core-walltime (total CPU time "
		"%s, %s CPUs)\n",
		isfinite(eff) ? (snprintf(b, sizeof(b), "%.2f", eff), b) : "-",
		isfinite(eff) ? " %" : "",
		fp_report_duration(a.elapsed_s * a.alloc_cpus, c, sizeof(c)),
		fp_report_duration(a.cpu_time_s, d, sizeof(d)),
		isfinite(a.alloc_cpus) && a.alloc_cpus < 1e9
			? (snprintf(e, sizeof(e), "%.0f", a.alloc_cpus), e)
			: "-");
}

/* The filled times as the rest of the report shows times, local: the
 * clock alone within one day (the date is on the Start/End line), else
 * the whole times. */
static void put_span(FILE *f, time_t first, time_t end)
{
	struct tm a, b;
	time_t last = end - 1;
	char x[32], y[32];

	if (!first || !end || end <= first || !localtime_r(&first, &a) ||
	    !localtime_r(&last, &b) || a.tm_yday != b.tm_yday ||
	    a.tm_year != b.tm_year) {
		fprintf(f, "%s-%s", fp_report_local_time(first, x, sizeof(x)),
			fp_report_local_time(end, y, sizeof(y)));
		return;
	}
	localtime_r(&end, &b);
	strftime(x, sizeof(x), a.tm_sec || b.tm_sec ? "%H:%M:%S" : "%H:%M", &a);
	strftime(y, sizeof(y), a.tm_sec || b.tm_sec ? "%H:%M:%S" : "%H:%M", &b);
	fprintf(f, "%s-%s", x, y);
}

/* What IntensityFallback= filled at a site, so that a reader knows how
 * much of its figure is not the published series. */
static void put_fallback(FILE *f, const fp_report_site_t *s)
{
	char h[32], p[32];

	if (!s->fallback)
		return;
	fputs("  ", f);
	put_name(f, s->name);
	fputs(": intensity fallback '", f);
	put_name(f, s->fallback);
	fputs("' for ", f);
	put_span(f, s->fallback_first, s->fallback_end);
	if (isfinite(s->fallback_hours))
		snprintf(h, sizeof(h), "%.2f", s->fallback_hours);
	else
		snprintf(h, sizeof(h), "-");
	fprintf(f,
		" (%s h, %s %% of the site's energy): the series did not "
		"cover them within SeriesWait\n",
		h, percent(p, sizeof(p), 100 * s->fallback_share));
}

char *fp_report_text(const fp_report_t *r, const char *signature)
{
	char *buf = NULL, a[32], b[32], c[32], d[32];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fprintf(f, "Job ID: %llu\n", (unsigned long long)r->job_id);
	if (r->has_acct && r->job_name) {
		fputs("Job name: ", f);
		put_name(f, r->job_name);
		fputs("\n", f);
	}
	if (r->user || r->account) {
		fputs("User/Account: ", f);
		put_name(f, r->user);
		fputs("/", f);
		put_name(f, r->account);
		fputs("\n", f);
	}
	if (r->cluster) {
		fputs("Cluster: ", f);
		put_name(f, r->cluster);
		fputs("\n", f);
	}
	put_acct(f, r);
	put_times(f, r);
	put_cpu(f, r);
	fprintf(f, "Origin: %s\n",
		r->from_record ? "accounting record (FP1, unsigned)"
			       : "signed summary");
	if (r->from_record)
		fprintf(f, "Energy: %s Wh facility (%s J); %s\n",
			fig(a, sizeof(a), r->energy_wh),
			joules(b, sizeof(b), r->energy_wh * 3600),
			fp_report_source_text(r->source));
	else
		fprintf(f,
			"Energy: %s Wh IT (%s J), %s Wh facility (%s J); "
			"%s\n",
			fig(a, sizeof(a), r->energy_it_wh),
			joules(b, sizeof(b), r->energy_it_wh * 3600),
			fig(c, sizeof(c), r->energy_wh),
			joules(d, sizeof(d), r->energy_wh * 3600),
			fp_report_source_text(r->source));
	if (r->has_acct)
		put_sacct_energy(f, r);
	fprintf(f, "Operational: %s gCO2e\n",
		fig(a, sizeof(a), r->operational_g));
	fprintf(f, "Embodied: %s gCO2e\n", fig(a, sizeof(a), r->embodied_g));
	fprintf(f, "Footprint: %s gCO2e (operational + embodied)\n",
		fig(a, sizeof(a), r->footprint_g));
	fprintf(f, "Avoided: %s gCO2e by heat reuse",
		fig(a, sizeof(a), r->avoided_g));
	if (isfinite(r->reused_wh))
		fprintf(f, " (%s Wh of heat reused)",
			fig(b, sizeof(b), r->reused_wh));
	fprintf(f, "; separate, not subtracted from the footprint\n");
	fprintf(f, "Net: %s gCO2e (footprint - avoided; not a footprint)\n",
		fig(a, sizeof(a), r->net_g));
	fputs("Versus ", f);
	put_name(f, ref_name(r));
	if (isfinite(r->reference_pue))
		fprintf(f, " (PUE %.2f)", r->reference_pue);
	fprintf(f, ": reference %s gCO2e; ", fig(a, sizeof(a), r->reference_g));
	fp_report_put_saving(f, r->saved_g, r->saved_with_heat_g,
			     r->reference_g);
	fputs("\n", f);
	if (!r->from_record) {
		fprintf(f, "Intensity used: %s gCO2e/kWh",
			fig(a, sizeof(a), r->intensity));
		if (isfinite(r->pue))
			fprintf(f, " (PUE %.3f)", r->pue);
		fprintf(f, "\nPer core-hour: %s gCO2e\n",
			fig(a, sizeof(a), r->per_core_hour_g));
	}
	fputs("Completeness: ", f);
	put_completeness(f, r);
	fputs("\n", f);
	if (r->nsites) {
		fprintf(f, "Sites:\n");
		for (size_t i = 0; i < r->nsites; i++) {
			const fp_report_site_t *s = &r->sites[i];
			char e[32], g[32];

			fputs("  ", f);
			put_name(f, s->name);
			fprintf(f,
				": %s Wh, PUE %s, %s gCO2e/kWh, "
				"operational %s g, embodied %s g, avoided "
				"%s g\n",
				fig(a, sizeof(a), s->energy_wh),
				fig(b, sizeof(b), s->pue),
				fig(c, sizeof(c), s->intensity),
				fig(d, sizeof(d), s->operational_g),
				fig(e, sizeof(e), s->embodied_g),
				fig(g, sizeof(g), s->avoided_g));
			put_fallback(f, s);
		}
	}
	/* A one-node job's node line would repeat its site line. */
	if (r->nnodes > 1) {
		fprintf(f, "Nodes:\n");
		for (size_t i = 0; i < r->nnodes; i++) {
			const fp_report_node_t *n = &r->nodes[i];
			char e[32];

			fputs("  ", f);
			put_name(f, n->name);
			fputs(" (", f);
			put_name(f, n->site);
			fprintf(f,
				"): %s Wh IT, operational %s g, "
				"embodied %s g, avoided %s g\n",
				fig(a, sizeof(a), n->energy_it_wh),
				fig(b, sizeof(b), n->operational_g),
				fig(d, sizeof(d), n->embodied_g),
				fig(e, sizeof(e), n->avoided_g));
		}
	}
	for (size_t i = 0, first = 1; i < r->nsteps; i++) {
		const fp_report_step_t *s = &r->steps[i];

		if (!(s->nnodes > 1))
			continue;
		if (first)
			fprintf(f, "Energy split over nodes:\n");
		first = 0;
		fputs("  step ", f);
		put_name(f, s->id);
		fprintf(f, ": %s nodes, %s Wh IT, split by ",
			isfinite(s->nnodes) && s->nnodes < 1e9
				? (snprintf(b, sizeof(b), "%.0f", s->nnodes), b)
				: "-",
			fig(a, sizeof(a), s->energy_it_wh));
		put_name(f, s->split);
		fputs("\n", f);
	}
	if (r->config[0]) {
		fputs("Config: sha256 ", f);
		put_name(f, r->config);
		fprintf(f, "%s\n", r->from_record ? "..." : "");
	}
	fputs("signature: ", f);
	put_name(f, signature ? signature : "unknown");
	fputs("\n", f);
	return close_stream(f, &buf);
}

static json_t *jfig(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

static json_t *jtext(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* A name from accounting as JSON: jansson takes only UTF-8. */
static json_t *jname(const char *s)
{
	char *e = fp_utf8_escape(s, NULL);
	json_t *v = e ? json_string(e) : json_null();

	free(e);
	return v;
}

static json_t *jutc(time_t t)
{
	char buf[21];

	if (!t)
		return json_null();
	fp_iso8601_format(t, buf);
	return json_string(buf);
}

/* null when no fallback filled times at the site. */
static json_t *fallback_json(const fp_report_site_t *s)
{
	json_t *o;

	if (!s->fallback)
		return json_null();
	o = json_pack("{s:o, s:o, s:o, s:o, s:o}", "method", jname(s->fallback),
		      "first", jutc(s->fallback_first), "end",
		      jutc(s->fallback_end), "hours", jfig(s->fallback_hours),
		      "energy_share", jfig(s->fallback_share));
	return o;
}

/* json_array_append_new frees v when it fails: *ok says one did. */
static void append(json_t *a, json_t *v, bool *ok)
{
	if (!v || json_array_append_new(a, v))
		*ok = false;
}

static json_t *exit_json(int code, int sig)
{
	char buf[32];

	if (code < 0)
		return json_null();
	snprintf(buf, sizeof(buf), "%d:%d", code, sig < 0 ? 0 : sig);
	return json_string(buf);
}

/* What accounting says (null and the reason when it was not read). */
static json_t *acct_json(const fp_report_t *r)
{
	fp_report_acct_t a = fp_report_acct_unknown();
	json_t *steps, *o;

	if (!r->has_acct)
		return r->acct_note ? json_pack("{s:o}", "unavailable",
						jname(r->acct_note))
				    : json_null();
	steps = json_array();
	for (size_t i = 0; steps && i < r->nacct_steps; i++)
		if (json_array_append_new(
			    steps,
			    json_pack("{s:s, s:o}", "step",
				      r->acct_steps[i].name,
				      "consumed_energy_J",
				      jfig(r->acct_steps[i].energy_j)))) {
			json_decref(steps);
			steps = NULL;
		}
	a.elapsed_s = r->acct_elapsed_s;
	a.cpu_time_s = r->cpu_time_s;
	a.alloc_cpus = r->alloc_cpus;
	o = json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
		      " s:o}",
		      "name", jname(r->job_name), "state", jname(r->state),
		      "exit_code", exit_json(r->exit_code, r->exit_signal),
		      "start", jutc(r->acct_start), "end", jutc(r->acct_end),
		      "elapsed_s", jfig(r->acct_elapsed_s), "total_cpu_s",
		      jfig(r->cpu_time_s), "alloc_cpus", jfig(r->alloc_cpus),
		      "cpu_efficiency_percent",
		      jfig(fp_report_cpu_efficiency(&a)), "consumed_energy_J",
		      jfig(r->sacct_energy_j), "steps",
		      steps ? steps : json_null());
	return o ? o : json_null();
}

json_t *fp_report_json(const fp_report_t *r)
{
	json_t *reasons = json_array(), *sites = json_array(), *o;
	json_t *nodes = json_array(), *steps = json_array();
	bool ok = true;

	for (size_t i = 0; nodes && i < r->nnodes; i++) {
		const fp_report_node_t *n = &r->nodes[i];

		append(nodes,
		       json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "name",
				 jtext(n->name), "site", jtext(n->site), "cpus",
				 jfig(n->cpus), "energy_it_Wh",
				 jfig(n->energy_it_wh), "operational_g",
				 jfig(n->operational_g), "embodied_g",
				 jfig(n->embodied_g), "avoided_g",
				 jfig(n->avoided_g)),
		       &ok);
	}
	for (size_t i = 0; steps && i < r->nsteps; i++) {
		const fp_report_step_t *s = &r->steps[i];

		append(steps,
		       json_pack("{s:o, s:o, s:o, s:o}", "id", jtext(s->id),
				 "nodes", jfig(s->nnodes), "energy_it_Wh",
				 jfig(s->energy_it_wh), "split",
				 jtext(s->split)),
		       &ok);
	}

	for (size_t i = 0; reasons && i < r->nincomplete; i++)
		append(reasons, jtext(r->incomplete[i]), &ok);
	for (size_t i = 0; sites && i < r->nsites; i++) {
		const fp_report_site_t *s = &r->sites[i];

		append(sites,
		       json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
				 "name", jtext(s->name), "energy_facility_Wh",
				 jfig(s->energy_wh), "PUE", jfig(s->pue),
				 "intensity_gco2e_per_kwh", jfig(s->intensity),
				 "intensity_fallback", fallback_json(s),
				 "operational_g", jfig(s->operational_g),
				 "embodied_g", jfig(s->embodied_g), "avoided_g",
				 jfig(s->avoided_g)),
		       &ok);
	}
	o = json_pack("{s:I, s:s, s:o, s:o, s:o, s:s, s:b, s:o,"
		      " s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
		      " s:{s:o, s:o, s:o, s:o, s:o, s:o},"
		      " s:o, s:o, s:o, s:o}",
		      "job_id", (json_int_t)r->job_id, "origin",
		      r->from_record ? "record" : "summary", "user",
		      jname(r->user), "account", jname(r->account), "cluster",
		      jname(r->cluster), "energy_source",
		      fp_carbon_energy_source_str(r->source), "complete",
		      r->complete, "incomplete", reasons, "energy_facility_Wh",
		      jfig(r->energy_wh), "energy_it_Wh", jfig(r->energy_it_wh),
		      "reused_Wh", jfig(r->reused_wh), "operational_g",
		      jfig(r->operational_g), "embodied_g", jfig(r->embodied_g),
		      "footprint_g", jfig(r->footprint_g),
		      "avoided_heat_reuse_g", jfig(r->avoided_g), "net_g",
		      jfig(r->net_g), "net_label",
		      json_string("footprint minus emissions avoided "
				  "by heat reuse; not a footprint"),
		      "reference", "name", jtext(r->reference_name), "PUE",
		      jfig(r->reference_pue), "reference_g",
		      jfig(r->reference_g), "saved_g", jfig(r->saved_g),
		      "saved_with_heat_g", jfig(r->saved_with_heat_g),
		      "saved_percent", jfig(r->saved_percent),
		      "intensity_gco2e_per_kwh", jfig(r->intensity),
		      "per_core_hour_g", jfig(r->per_core_hour_g), "sites",
		      sites, "config",
		      r->config[0] ? json_string(r->config) : json_null());
	/* a report without a part it should have is no report */
	if (!ok || !o) {
		json_decref(nodes);
		json_decref(steps);
		json_decref(o);
		return NULL;
	}
	if (json_object_set_new(o, "nodes", nodes)) {
		json_decref(steps);
		json_decref(o);
		return NULL;
	}
	if (json_object_set_new(o, "steps", steps) ||
	    json_object_set_new(o, "start", jtext(r->start)) ||
	    json_object_set_new(o, "end", jtext(r->end)) ||
	    json_object_set_new(o, "accounting", acct_json(r))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

char *fp_report_mail(const fp_report_t *r, const char *signature)
{
	return fp_report_mail_with(r, signature, NULL);
}

char *fp_report_mail_with(const fp_report_t *r, const char *signature,
			  const char *parts)
{
	char *buf = NULL, a[32];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fprintf(f, "Carbon footprint of job %llu (slurm-footprint)\n",
		(unsigned long long)r->job_id);
	fprintf(f, "  energy:     %s Wh (%s)\n",
		fig(a, sizeof(a), r->energy_wh),
		fp_report_source_text(r->source));
	fprintf(f, "  footprint:  %s gCO2e\n",
		fig(a, sizeof(a), r->footprint_g));
	fprintf(f,
		"  avoided:    %s gCO2e by heat reuse (separate, not in "
		"the footprint)\n",
		fig(a, sizeof(a), r->avoided_g));
	fprintf(f, "  net:        %s gCO2e (footprint - avoided)\n",
		fig(a, sizeof(a), r->net_g));
	fputs("  vs ", f);
	put_name(f, ref_name(r));
	fprintf(f, ": %s gCO2e, ", fig(a, sizeof(a), r->reference_g));
	fp_report_put_saving(f, r->saved_g, r->saved_with_heat_g,
			     r->reference_g);
	fputs("\n  completeness: ", f);
	put_completeness(f, r);
	fputs("\n  signature:  ", f);
	put_name(f, signature ? signature : "unknown");
	fputs("\n", f);
	if (parts)
		fputs(parts, f);
	fprintf(f, "Details: sfootprint -j %llu\n",
		(unsigned long long)r->job_id);
	return close_stream(f, &buf);
}

char *fp_report_mail_unavailable(uint64_t job_id, const char *why)
{
	char *s = NULL;

	if (asprintf(&s,
		     "Carbon footprint of job %llu: not available yet%s"
		     "%s%s.\nIt is computed shortly after the job ends; get it "
		     "later with:\n  sfootprint -j %llu\n",
		     (unsigned long long)job_id, why ? " (" : "",
		     why ? why : "", why ? ")" : "",
		     (unsigned long long)job_id) < 0)
		return NULL;
	return s;
}

/* Aggregate table */

enum {
	COL_JOB,
	COL_NAME,
	COL_USER,
	COL_ACCOUNT,
	COL_STATE,
	COL_EXIT,
	COL_START,
	COL_END,
	COL_ELAPSED,
	COL_CPUS,
	COL_CPUTIME,
	COL_CPUEFF,
	COL_CONSUMED,
	COL_ENERGY,
	COL_FOOTPRINT,
	COL_AVOIDED,
	COL_NET,
	COL_REFERENCE,
	COL_SOURCE,
	NCOLS
};

/* name: -o and sacct -p's header (no parentheses); header: the text's. */
static const struct column {
	const char *name, *header;
	bool right, summed;
} columns[NCOLS] = {
	[COL_JOB] = { "JobID", "JobID", false, false },
	[COL_NAME] = { "JobName", "JobName", false, false },
	[COL_USER] = { "User", "User", false, false },
	[COL_ACCOUNT] = { "Account", "Account", false, false },
	[COL_STATE] = { "State", "State", false, false },
	[COL_EXIT] = { "ExitCode", "ExitCode", false, false },
	[COL_START] = { "Start", "Start", false, false },
	[COL_END] = { "End", "End", false, false },
	[COL_ELAPSED] = { "Elapsed", "Elapsed", true, false },
	[COL_CPUS] = { "AllocCPUS", "AllocCPUS", true, false },
	[COL_CPUTIME] = { "TotalCPU", "TotalCPU", true, false },
	[COL_CPUEFF] = { "CPUEff", "CPUEff", true, false },
	[COL_CONSUMED] = { "ConsumedEnergy", "ConsumedEnergy(J)", true, true },
	[COL_ENERGY] = { "EnergyWh", "Energy(Wh)", true, true },
	[COL_FOOTPRINT] = { "FootprintG", "Footprint(g)", true, true },
	[COL_AVOIDED] = { "AvoidedG", "Avoided(g)", true, true },
	[COL_NET] = { "NetG", "Net(g)", true, true },
	[COL_REFERENCE] = { "ReferenceG", "Reference(g)", true, true },
	[COL_SOURCE] = { "Source", "Source", false, false },
};

#define CELL 160

typedef struct row {
	char *job, *user, *account; /* as given: escaped when written */
	bool has;
	fp_record_t rec;
	bool has_acct;
	char *name, *state;
	int exit_code, exit_signal;
	time_t start, end;
	double elapsed_s, cpu_time_s, alloc_cpus, energy_j;
} row_t;

struct fp_report_table {
	row_t *rows;
	size_t n, cap;
	int cols[NCOLS];
	size_t ncols;
	bool noheader;
};

static int set_columns(fp_report_table_t *t, const char *csv, fp_error_t *err)
{
	char *copy = strdup(csv), *p, *tok;
	int cols[NCOLS];
	size_t n = 0;

	if (!copy)
		return fp_error_set(err, FP_ENOMEM, "out of memory");
	for (p = copy; (tok = strsep(&p, ","));) {
		int c;

		tok += strspn(tok, " \t");
		tok[strcspn(tok, " \t")] = '\0';
		for (c = 0; c < NCOLS; c++)
			if (!strcasecmp(tok, columns[c].name))
				break;
		if (c == NCOLS || n == NCOLS) {
			fp_error_set(err, FP_EPARSE,
				     "format '%s': %s '%s'; the "
				     "columns are " FP_REPORT_COLUMNS,
				     csv,
				     c == NCOLS ? "no column"
						: "too many columns at",
				     tok);
			free(copy);
			return -1;
		}
		cols[n++] = c;
	}
	free(copy);
	memcpy(t->cols, cols, n * sizeof(*cols));
	t->ncols = n;
	return 0;
}

fp_report_table_t *fp_report_table_new(void)
{
	fp_report_table_t *t = calloc(1, sizeof(fp_report_table_t));

	if (t && set_columns(t, FP_REPORT_DEFAULT_COLUMNS, NULL)) {
		free(t);
		return NULL;
	}
	return t;
}

int fp_report_table_set_format(fp_report_table_t *t, const char *columns,
			       fp_error_t *err)
{
	fp_error_clear(err);
	return set_columns(t, columns ? columns : "", err);
}

void fp_report_table_set_noheader(fp_report_table_t *t, bool noheader)
{
	t->noheader = noheader;
}

static void row_free(row_t *r)
{
	free(r->job);
	free(r->user);
	free(r->account);
	free(r->name);
	free(r->state);
}

void fp_report_table_free(fp_report_table_t *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++)
		row_free(&t->rows[i]);
	free(t->rows);
	free(t);
}

size_t fp_report_table_rows(const fp_report_table_t *t)
{
	return t->n;
}

int fp_report_table_add(fp_report_table_t *t, const char *job, const char *user,
			const char *account, const fp_record_t *rec,
			const fp_report_acct_t *acct, fp_error_t *err)
{
	row_t *r;

	fp_error_clear(err);
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		row_t *n = realloc(t->rows, cap * sizeof(*n));

		if (!n)
			return fp_error_set(err, FP_ENOMEM,
					    "job %s: out of memory", job);
		t->rows = n;
		t->cap = cap;
	}
	r = &t->rows[t->n];
	memset(r, 0, sizeof(*r));
	if (dup_or_null(&r->job, job) || dup_or_null(&r->user, user) ||
	    dup_or_null(&r->account, account) ||
	    (acct && (dup_or_null(&r->name, acct->name) ||
		      dup_or_null(&r->state, acct->state)))) {
		row_free(r);
		return fp_error_set(err, FP_ENOMEM, "job %s: out of memory",
				    job);
	}
	if (rec) {
		r->has = true;
		r->rec = *rec;
	}
	if (acct) {
		r->has_acct = true;
		r->exit_code = acct->exit_code;
		r->exit_signal = acct->exit_signal;
		r->start = acct->start;
		r->end = acct->end;
		r->elapsed_s = acct->elapsed_s;
		r->cpu_time_s = acct->cpu_time_s;
		r->alloc_cpus = acct->alloc_cpus;
		r->energy_j = acct->energy_j;
	}
	t->n++;
	return 0;
}

typedef struct totals {
	double energy, footprint, avoided, net, reference, consumed;
	size_t jobs, with, none, incomplete, simulated;
} totals_t;

static void add_fig(double *sum, double x)
{
	if (isfinite(x))
		*sum += x;
}

static totals_t sum_rows(const fp_report_table_t *t)
{
	totals_t s = { 0 };

	for (size_t i = 0; i < t->n; i++) {
		const row_t *r = &t->rows[i];

		s.jobs++;
		if (r->has_acct)
			add_fig(&s.consumed, r->energy_j);
		if (!r->has) {
			s.none++;
			continue;
		}
		s.with++;
		if (!r->rec.complete)
			s.incomplete++;
		if (r->rec.source == FP_ENERGY_SIMULATED)
			s.simulated++;
		add_fig(&s.energy, r->rec.energy_wh);
		add_fig(&s.footprint, r->rec.footprint_g);
		add_fig(&s.avoided, r->rec.avoided_g);
		add_fig(&s.net, r->rec.net_g);
		add_fig(&s.reference, r->rec.reference_g);
	}
	return s;
}

/* An escaped name cut to the cell, never inside a character. */
static void name_cell(char *cell, const char *raw)
{
	char *e = fp_report_escape(raw ? raw : "");
	size_t n;

	if (!e) {
		snprintf(cell, CELL, "?");
		return;
	}
	n = strlen(e);
	if (n >= CELL) {
		n = CELL - 1;
		while (n && ((unsigned char)e[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(cell, e, n);
	cell[n] = '\0';
	free(e);
}

static void fill_cell(char *cell, const row_t *r, int c)
{
	fp_report_acct_t a = fp_report_acct_unknown();
	double eff;

	switch (c) {
	case COL_JOB:
		name_cell(cell, r->job);
		return;
	case COL_USER:
		name_cell(cell, r->user);
		return;
	case COL_ACCOUNT:
		name_cell(cell, r->account);
		return;
	default:
		break;
	}
	snprintf(cell, CELL, "-");
	if (c <= COL_CONSUMED && r->has_acct) {
		switch (c) {
		case COL_NAME:
			name_cell(cell, r->name);
			break;
		case COL_STATE:
			name_cell(cell, r->state ? r->state : "-");
			break;
		case COL_EXIT:
			if (r->exit_code >= 0)
				snprintf(cell, CELL, "%d:%d", r->exit_code,
					 r->exit_signal < 0 ? 0
							    : r->exit_signal);
			break;
		case COL_START:
			fp_report_local_time(r->start, cell, CELL);
			break;
		case COL_END:
			fp_report_local_time(r->end, cell, CELL);
			break;
		case COL_ELAPSED:
			fp_report_duration(r->elapsed_s, cell, CELL);
			break;
		case COL_CPUS:
			if (isfinite(r->alloc_cpus))
				snprintf(cell, CELL, "%.0f", r->alloc_cpus);
			break;
		case COL_CPUTIME:
			fp_report_duration(r->cpu_time_s, cell, CELL);
			break;
		case COL_CPUEFF:
			a.elapsed_s = r->elapsed_s;
			a.cpu_time_s = r->cpu_time_s;
			a.alloc_cpus = r->alloc_cpus;
			eff = fp_report_cpu_efficiency(&a);
			if (isfinite(eff))
				snprintf(cell, CELL, "%.2f%%", eff);
			break;
		case COL_CONSUMED:
			joules(cell, CELL, r->energy_j);
			break;
		}
		return;
	}
	if (!r->has)
		return;
	switch (c) {
	case COL_ENERGY:
		fig(cell, CELL, r->rec.energy_wh);
		break;
	case COL_FOOTPRINT:
		fig(cell, CELL, r->rec.footprint_g);
		break;
	case COL_AVOIDED:
		fig(cell, CELL, r->rec.avoided_g);
		break;
	case COL_NET:
		fig(cell, CELL, r->rec.net_g);
		break;
	case COL_REFERENCE:
		fig(cell, CELL, r->rec.reference_g);
		break;
	case COL_SOURCE:
		snprintf(cell, CELL, "%s%s",
			 fp_carbon_energy_source_str(r->rec.source),
			 r->rec.complete ? "" : "*");
		break;
	}
}

static void fill_total(char *cell, const totals_t *s, int c, bool parsable)
{
	cell[0] = '\0';
	switch (c) {
	case COL_JOB:
		snprintf(cell, CELL, "TOTAL");
		break;
	case COL_CONSUMED:
		joules(cell, CELL, s->consumed);
		break;
	case COL_ENERGY:
		fig(cell, CELL, s->energy);
		break;
	case COL_FOOTPRINT:
		fig(cell, CELL, s->footprint);
		break;
	case COL_AVOIDED:
		fig(cell, CELL, s->avoided);
		break;
	case COL_NET:
		fig(cell, CELL, s->net);
		break;
	case COL_REFERENCE:
		fig(cell, CELL, s->reference);
		break;
	case COL_SOURCE:
		/* A parsable line has nowhere else for the counts. */
		if (parsable)
			snprintf(cell, CELL, "%zu jobs, %zu no footprint",
				 s->jobs, s->none);
		break;
	}
}

static void print_cells(FILE *f, const fp_report_table_t *t,
			char (*cells)[CELL], const int *width, bool parsable)
{
	char *line = NULL;
	size_t len = 0;
	FILE *l = open_memstream(&line, &len);

	if (!l)
		return;
	for (size_t k = 0; k < t->ncols; k++) {
		int c = t->cols[k];

		if (parsable)
			fprintf(l, "%s|", cells[k]);
		else if (k == t->ncols - 1 && !columns[c].right)
			fprintf(l, "%s", cells[k]);
		else
			fprintf(l, columns[c].right ? "%*s " : "%-*s ",
				width[k], cells[k]);
	}
	if (fclose(l)) {
		free(line);
		return;
	}
	/* No trailing blanks (the TOTAL line's last cells are empty). */
	while (!parsable && len && line[len - 1] == ' ')
		line[--len] = '\0';
	fprintf(f, "%s\n", line);
	free(line);
}

char *fp_report_table_text(const fp_report_table_t *t, bool parsable)
{
	char *buf = NULL, (*cells)[CELL];
	size_t len = 0, nlines = t->n + 1, nc = t->ncols;
	int width[NCOLS];
	totals_t s = sum_rows(t);
	FILE *f;

	cells = calloc(nlines * nc, sizeof(*cells));
	if (!cells)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		for (size_t k = 0; k < nc; k++)
			fill_cell(cells[i * nc + k], &t->rows[i], t->cols[k]);
	for (size_t k = 0; k < nc; k++)
		fill_total(cells[t->n * nc + k], &s, t->cols[k], parsable);
	for (size_t k = 0; k < nc; k++) {
		width[k] = (int)strlen(columns[t->cols[k]].header);
		for (size_t i = 0; i < nlines; i++)
			if ((int)strlen(cells[i * nc + k]) > width[k])
				width[k] = (int)strlen(cells[i * nc + k]);
	}
	f = open_memstream(&buf, &len);
	if (!f) {
		free(cells);
		return NULL;
	}
	if (!t->noheader && parsable) {
		for (size_t k = 0; k < nc; k++)
			fprintf(f, "%s|", columns[t->cols[k]].name);
		fprintf(f, "\n");
	} else if (!t->noheader) {
		char(*head)[CELL] = calloc(nc, sizeof(*head));

		for (size_t k = 0; head && k < nc; k++)
			snprintf(head[k], CELL, "%s",
				 columns[t->cols[k]].header);
		if (head)
			print_cells(f, t, head, width, false);
		free(head);
		for (size_t k = 0; k < nc; k++) {
			int c = t->cols[k];
			int w = k == nc - 1 && !columns[c].right
					? (int)strlen(columns[c].header)
					: width[k];

			for (int i = 0; i < w; i++)
				fputc('-', f);
			fputc(k == nc - 1 ? '\n' : ' ', f);
		}
	}
	for (size_t i = 0; i < nlines; i++)
		print_cells(f, t, &cells[i * nc], width, parsable);
	free(cells);
	if (!parsable) {
		fprintf(f,
			"%zu job%s: %zu with a footprint, %zu no "
			"footprint",
			s.jobs, s.jobs == 1 ? "" : "s", s.with, s.none);
		if (s.incomplete)
			fprintf(f, ", %zu incomplete (*)", s.incomplete);
		fprintf(f, "\n");
		if (s.simulated)
			fprintf(f,
				"simulated energy in %zu job%s (fp-simnode): "
				"not a measurement\n",
				s.simulated, s.simulated == 1 ? "" : "s");
	}
	return close_stream(f, &buf);
}

static json_t *row_acct_json(const row_t *r)
{
	fp_report_acct_t a = fp_report_acct_unknown();

	a.elapsed_s = r->elapsed_s;
	a.cpu_time_s = r->cpu_time_s;
	a.alloc_cpus = r->alloc_cpus;
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
			 " s:o}",
			 "name", jname(r->name), "state", jname(r->state),
			 "exit_code", exit_json(r->exit_code, r->exit_signal),
			 "start", jutc(r->start), "end", jutc(r->end),
			 "elapsed_s", jfig(r->elapsed_s), "total_cpu_s",
			 jfig(r->cpu_time_s), "alloc_cpus", jfig(r->alloc_cpus),
			 "cpu_efficiency_percent",
			 jfig(fp_report_cpu_efficiency(&a)),
			 "consumed_energy_J", jfig(r->energy_j));
}

json_t *fp_report_table_json(const fp_report_table_t *t)
{
	json_t *jobs = json_array();
	totals_t s = sum_rows(t);
	bool ok = true;

	for (size_t i = 0; jobs && i < t->n; i++) {
		const row_t *r = &t->rows[i];
		const fp_record_t *c = &r->rec;
		json_t *o;

		if (!r->has)
			o = json_pack("{s:o, s:o, s:o, s:b}", "job",
				      jname(r->job), "user", jname(r->user),
				      "account", jname(r->account), "footprint",
				      0);
		else
			o = json_pack(
				"{s:o, s:o, s:o, s:b, s:b, s:s, s:o, s:o, "
				"s:o, s:o, s:o}",
				"job", jname(r->job), "user", jname(r->user),
				"account", jname(r->account), "footprint", 1,
				"complete", c->complete, "source",
				fp_carbon_energy_source_str(c->source),
				"energy_Wh", jfig(c->energy_wh), "footprint_g",
				jfig(c->footprint_g), "avoided_g",
				jfig(c->avoided_g), "net_g", jfig(c->net_g),
				"reference_g", jfig(c->reference_g));
		if (o && json_object_set_new(o, "accounting",
					     r->has_acct ? row_acct_json(r)
							 : json_null())) {
			json_decref(o);
			o = NULL;
		}
		append(jobs, o, &ok);
	}
	if (!ok) {
		json_decref(jobs);
		return NULL;
	}
	return json_pack("{s:o, s:{s:o, s:o, s:o, s:o, s:o, s:o, s:I, s:I,"
			 " s:I, s:I, s:I}}",
			 "jobs", jobs, "total", "energy_Wh",
			 json_real(s.energy), "footprint_g",
			 json_real(s.footprint), "avoided_g",
			 json_real(s.avoided), "net_g", json_real(s.net),
			 "reference_g", json_real(s.reference),
			 "consumed_energy_J", json_real(s.consumed), "jobs",
			 (json_int_t)s.jobs, "with_footprint",
			 (json_int_t)s.with, "no_footprint", (json_int_t)s.none,
			 "incomplete", (json_int_t)s.incomplete, "simulated",
			 (json_int_t)s.simulated);
}

/* Job ids, names and times for people */

/* Slurm's job ids are 32 bits; NO_VAL (0xfffffffe) and INFINITE
 * (0xffffffff) are not jobs. Federated ids carry the cluster in bits 26-31,
 * so the whole range below them is valid. */
#define MAX_ID 4294967293ULL

/* Digits at *s (at most 20: beyond is out of range anyway) into *v. */
static bool id_number(const char **s, unsigned long long *v)
{
	const char *p = *s;

	*v = 0;
	while (isdigit((unsigned char)*p) && p - *s < 20) {
		unsigned long long d = (unsigned long long)(*p - '0');

		*v = *v > (~0ULL - d) / 10 ? ~0ULL : *v * 10 + d;
		p++;
	}
	if (p == *s || isdigit((unsigned char)*p))
		*v = p == *s ? 0 : ~0ULL;
	while (isdigit((unsigned char)*p))
		p++;
	if (p == *s)
		return false;
	*s = p;
	return true;
}

static bool in_list(const char *list, const char *id)
{
	size_t n = strlen(id);

	for (const char *p = list; p && *p;
	     p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (!strncmp(p, id, n) && (p[n] == ',' || !p[n]))
			return true;
	return false;
}

int fp_report_job_ids(const char *arg, char **list, size_t *count,
		      fp_error_t *err)
{
	char *copy, *p, *tok, *out;
	size_t added = 0;
	int rc = 0;

	fp_error_clear(err);
	if (!arg || !*arg)
		return fp_error_set(err, FP_EPARSE, "job id '': empty");
	/* All or nothing: *list changes only when every id is good. */
	copy = strdup(arg);
	out = *list ? strdup(*list) : NULL;
	if (!copy || (*list && !out)) {
		free(copy);
		free(out);
		return fp_error_set(err, FP_ENOMEM, "out of memory");
	}
	for (p = copy; !rc && (tok = strsep(&p, ","));) {
		const char *s = tok;
		unsigned long long id, sub = 0;
		char sep = 0, canon[48], *grown;

		if (!id_number(&s, &id) ||
		    ((*s == '_' || *s == '+') &&
		     (sep = *s++, !id_number(&s, &sub))) ||
		    *s) {
			rc = fp_error_set(err, FP_EPARSE,
					  "job id '%s': not a job "
					  "id (N, N_TASK or N+COMPONENT)",
					  tok);
			break;
		}
		if (id < 1 || id > MAX_ID || sub > MAX_ID) {
			rc = fp_error_set(err, FP_EINVAL,
					  "job id '%s': out of "
					  "Slurm's job ids (1..%llu)",
					  tok, MAX_ID);
			break;
		}
		if (sep)
			snprintf(canon, sizeof(canon), "%llu%c%llu", id, sep,
				 sub);
		else
			snprintf(canon, sizeof(canon), "%llu", id);
		if (in_list(out, canon))
			continue;
		if (asprintf(&grown, "%s%s%s", out ? out : "", out ? "," : "",
			     canon) < 0) {
			rc = fp_error_set(err, FP_ENOMEM, "out of memory");
			break;
		}
		free(out);
		out = grown;
		added++;
	}
	free(copy);
	if (rc) {
		free(out);
		return rc;
	}
	free(*list);
	*list = out;
	*count += added;
	return 0;
}

char *fp_report_escape(const char *s)
{
	size_t len, n = 0;
	char *out;

	if (!s)
		return NULL;
	len = strlen(s);
	out = malloc(4 * len + 1);
	if (!out)
		return NULL;
	for (size_t i = 0; i < len;) {
		unsigned char ch = (unsigned char)s[i];
		size_t k = fp_utf8_seq(s + i, len - i);

		/* C1 controls are U+0080..U+009F: 0xc2 0x80..0x9f. */
		if (ch < 0x20 || ch == 0x7f || !k ||
		    (k == 2 && ch == 0xc2 && (unsigned char)s[i + 1] < 0xa0)) {
			if (!k)
				k = 1;
			for (size_t b = 0; b < k; b++)
				n += sprintf(out + n, "\\x%02x",
					     (unsigned char)s[i + b]);
		} else if (ch == '\\') {
			out[n++] = '\\';
			out[n++] = '\\';
		} else {
			memcpy(out + n, s + i, k);
			n += k;
		}
		i += k;
	}
	out[n] = '\0';
	return out;
}

const char *fp_report_local_time(time_t t, char *buf, size_t size)
{
	struct tm tm;

	if (!t || !localtime_r(&t, &tm) ||
	    !strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm))
		snprintf(buf, size, "-");
	return buf;
}

time_t fp_report_parse_utc(const char *iso)
{
	struct tm tm = { 0 };
	const char *end;

	if (!iso || !(end = strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm)) ||
	    strcmp(end, "Z"))
		return -1;
	return timegm(&tm);
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

/* sacct-like times */

static bool is_word(const char *s, const char *const *words)
{
	for (; *words; words++)
		if (!strcasecmp(s, *words))
			return true;
	return false;
}

/* "now[+-]N[unit]": seconds by default, as Slurm's parse_time(). */
static int parse_relative(const char *s, time_t now, time_t *out)
{
	static const char *const sec[] = { "",	     "s",	"sec", "secs",
					   "second", "seconds", NULL };
	static const char *const min[] = { "m",	     "min",	"mins",
					   "minute", "minutes", NULL };
	static const char *const hour[] = { "h", "hour", "hours", NULL };
	static const char *const day[] = { "d", "day", "days", NULL };
	static const char *const week[] = { "w", "week", "weeks", NULL };
	long long n, mult;
	char *end;
	int sign;

	if (strncasecmp(s, "now", 3))
		return -1;
	s += 3;
	if (!*s) {
		*out = now;
		return 0;
	}
	if (*s != '+' && *s != '-')
		return -1;
	sign = *s == '-' ? -1 : 1;
	s++;
	if (!isdigit((unsigned char)*s))
		return -1;
	n = strtoll(s, &end, 10);
	if (n < 0 || n > 100LL * 365 * 86400)
		return -1;
	if (is_word(end, sec))
		mult = 1;
	else if (is_word(end, min))
		mult = 60;
	else if (is_word(end, hour))
		mult = 3600;
	else if (is_word(end, day))
		mult = 86400;
	else if (is_word(end, week))
		mult = 7 * 86400;
	else
		return -1;
	*out = now + sign * (time_t)(n * mult);
	return 0;
}

/* Reads exactly `digits` digits (0: one or more) into *v. */
static const char *digits(const char *s, int ndigits, int *v)
{
	int n = 0;

	*v = 0;
	while (isdigit((unsigned char)*s) && (!ndigits || n < ndigits)) {
		*v = *v * 10 + (*s - '0');
		s++;
		n++;
	}
	if (!n || (ndigits && n != ndigits) || n > 4)
		return NULL;
	return s;
}

/* HH:MM[:SS] at s; the rest of the string must be empty. */
static int parse_clock(const char *s, struct tm *tm)
{
	int h, m, sec = 0;

	if (!(s = digits(s, 0, &h)) || *s++ != ':' || !(s = digits(s, 2, &m)))
		return -1;
	if (*s == ':' && !(s = digits(s + 1, 2, &sec)))
		return -1;
	if (*s || h > 23 || m > 59 || sec > 60)
		return -1;
	tm->tm_hour = h;
	tm->tm_min = m;
	tm->tm_sec = sec;
	return 0;
}

/* mktime() normalises 02-30 into March: a date that moves is not real. */
static int make_local(struct tm *tm, time_t *out)
{
	struct tm want = *tm;
	time_t t;

	tm->tm_isdst = -1;
	t = mktime(tm);
	if (t == (time_t)-1 || tm->tm_mday != want.tm_mday ||
	    tm->tm_mon != want.tm_mon || tm->tm_year != want.tm_year)
		return -1;
	*out = t;
	return 0;
}

static int parse_absolute(const char *s, time_t now, time_t *out)
{
	struct tm tm;
	int y, mo, d;
	const char *p;

	localtime_r(&now, &tm);
	tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
	if (!strcasecmp(s, "today") || !strcasecmp(s, "midnight"))
		return make_local(&tm, out);
	if (!strcasecmp(s, "noon")) {
		tm.tm_hour = 12;
		return make_local(&tm, out);
	}
	if (!strcasecmp(s, "tomorrow")) {
		tm.tm_mday++;
		tm.tm_isdst = -1;
		*out = mktime(&tm);
		return *out == (time_t)-1 ? -1 : 0;
	}
	/* YYYY-MM-DD[THH:MM[:SS]] */
	if ((p = digits(s, 4, &y)) && *p == '-') {
		if (!(p = digits(p + 1, 2, &mo)) || *p != '-' ||
		    !(p = digits(p + 1, 2, &d)))
			return -1;
		if (mo < 1 || mo > 12 || d < 1 || d > 31)
			return -1;
		tm.tm_year = y - 1900;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		if (*p == 'T' && parse_clock(p + 1, &tm))
			return -1;
		if (*p && *p != 'T')
			return -1;
		return make_local(&tm, out);
	}
	/* MM/DD[/YY[YY]] */
	if ((p = digits(s, 0, &mo)) && *p == '/') {
		if (!(p = digits(p + 1, 0, &d)))
			return -1;
		if (*p == '/') {
			const char *q = p + 1;

			if (!(p = digits(q, 0, &y)) ||
			    (p - q != 2 && p - q != 4))
				return -1;
			tm.tm_year = p - q == 2 ? y + 100 : y - 1900;
		}
		if (*p || mo < 1 || mo > 12 || d < 1 || d > 31)
			return -1;
		tm.tm_mon = mo - 1;
		tm.tm_mday = d;
		return make_local(&tm, out);
	}
	if (parse_clock(s, &tm) == 0)
		return make_local(&tm, out);
	return -1;
}

int fp_report_parse_time(const char *s, time_t now, time_t *out,
			 fp_error_t *err)
{
	fp_error_clear(err);
	if (s && (parse_relative(s, now, out) == 0 ||
		  parse_absolute(s, now, out) == 0))
		return 0;
	/* Every form parse_relative() and parse_absolute() take, no more. */
	return fp_error_set(
		err, FP_EPARSE,
		"time '%s': expected "
		"YYYY-MM-DD[THH:MM[:SS]], MM/DD[/YY|/YYYY], HH:MM[:SS], "
		"today, midnight, noon, tomorrow, now or "
		"now{+|-}N[s|sec|secs|second|seconds|m|min|mins|minute|"
		"minutes|h|hour|hours|d|day|days|w|week|weeks] (N at "
		"most 3153600000; no unit: seconds)",
		s ? s : "");
}

/* Where footprint.conf is */

int fp_report_conf_path(const char *option, const char *env_conf,
			const char *slurm_conf, char *buf, size_t size)
{
	const char *sc = fp_slurmconf_path(slurm_conf);
	char type[256], loc[4096], *copy;

	if (option && *option) {
		snprintf(buf, size, "%s", option);
		return 0;
	}
	if (env_conf && *env_conf) {
		snprintf(buf, size, "%s", env_conf);
		return 0;
	}
	if (fp_slurmconf_get(sc, "JobCompType", type, sizeof(type), NULL) ==
		    0 &&
	    !strcasecmp(type, "jobcomp/carbon") &&
	    fp_slurmconf_get(sc, "JobCompLoc", loc, sizeof(loc), NULL) == 0 &&
	    loc[0]) {
		snprintf(buf, size, "%s", loc);
		return 0;
	}
	copy = strdup(sc);
	if (!copy)
		return -1;
	snprintf(buf, size, "%s/footprint.conf", dirname(copy));
	free(copy);
	return 0;
}
