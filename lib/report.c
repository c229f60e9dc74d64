/* Human and JSON reports of job footprints (sfootprint, footprint-mail): one
 * job from its summary or FP1 record, many jobs as a table; sacct times. */
#include "report.h"

#include <ctype.h>
#include <errno.h>
#include <libgen.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "utf8.h"

/* Reports */

static double jnum(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

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
	for (size_t i = 0; i < r->nsites; i++)
		free(r->sites[i].name);
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
	free(r);
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

static int read_sites(fp_report_t *r, json_t *sites)
{
	size_t i;
	json_t *s;

	if (!json_is_array(sites) || !json_array_size(sites))
		return 0;
	r->sites = calloc(json_array_size(sites), sizeof(*r->sites));
	if (!r->sites)
		return -1;
	json_array_foreach(sites, i, s) {
		fp_report_site_t *o = &r->sites[r->nsites++];

		o->name = jstr(s, "name");
		o->energy_wh = jnum(s, "energy_facility_Wh");
		o->pue = jnum(s, "PUE");
		o->intensity = jnum(s, "intensity_gco2e_per_kwh");
		o->operational_g = jnum(s, "operational_g");
		o->embodied_g = jnum(s, "embodied_g");
		o->avoided_g = jnum(s, "avoided_g");
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
		json_array_foreach(nodes, i, s) {
			fp_report_node_t *o = &r->nodes[r->nnodes++];

			o->name = jstr(s, "name");
			o->site = jstr(s, "site");
			o->cpus = jnum(s, "cpus");
			o->energy_it_wh = jnum(s, "energy_it_Wh");
			o->operational_g = jnum(s, "operational_g");
			o->embodied_g = jnum(s, "embodied_g");
			o->avoided_g = jnum(s, "avoided_g");
		}
	}
	if (json_is_array(steps) && json_array_size(steps)) {
		r->steps = calloc(json_array_size(steps), sizeof(*r->steps));
		if (!r->steps)
			return -1;
		json_array_foreach(steps, i, s) {
			fp_report_step_t *o = &r->steps[r->nsteps++];

			o->id = jstr(s, "id");
			o->split = jstr(s, "split");
			o->nnodes = jnum(s, "nodes");
			o->energy_it_wh = jnum(s, "energy_it_Wh");
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
		fp_fail(err, FP_EPARSE, "%s: not a summary: %s", name,
			root ? "not an object" : jerr.text);
		return NULL;
	}
	job = json_object_get(root, "job");
	/* The worker's summary of a job it could not compute has only a
	 * top-level job_id and the reason; it is still a valid summary. */
	v = json_is_object(job) ? json_object_get(job, "id") :
				  json_object_get(root, "job_id");
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		json_decref(root);
		fp_fail(err, FP_EPARSE, "%s: not a summary: no job id", name);
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
	r->elapsed_s = jnum(job, "elapsed_s");
	r->core_hours = jnum(job, "core_hours");
	r->complete = json_is_true(json_object_get(root, "complete"));
	reasons = json_object_get(root, "incomplete");
	if (json_is_string(reasons) &&
	    add_reason(r, json_string_value(reasons)))
		goto nomem;
	json_array_foreach(reasons, i, v)
		if (json_is_string(v) && add_reason(r, json_string_value(v)))
			goto nomem;
	energy = json_object_get(root, "energy");
	v = json_object_get(energy, "source");
	if (!json_is_string(v) ||
	    fp_energy_source_parse(json_string_value(v), &r->source))
		r->source = FP_ENERGY_UNKNOWN;
	r->energy_wh = jnum(energy, "facility_Wh");
	r->energy_it_wh = jnum(energy, "it_Wh");
	r->reused_wh = jnum(energy, "reused_Wh");
	carbon = json_object_get(root, "carbon");
	r->operational_g = jnum(carbon, "operational");
	r->embodied_g = jnum(carbon, "embodied");
	r->footprint_g = jnum(carbon, "footprint");
	r->avoided_g = jnum(carbon, "avoided_heat_reuse");
	r->net_g = jnum(carbon, "net");
	r->reference_g = jnum(carbon, "reference");
	r->saved_g = jnum(carbon, "saved");
	r->saved_with_heat_g = jnum(carbon, "saved_with_heat");
	r->saved_percent = jnum(carbon, "saved_percent");
	r->intensity = jnum(carbon, "intensity_gco2e_per_kwh");
	r->per_core_hour_g = jnum(carbon, "sci_per_core_hour");
	r->pue = jnum(json_object_get(root, "efficiency"), "PUE");
	r->reference_name = jstr(json_object_get(root, "reference"), "name");
	r->reference_pue = jnum(json_object_get(root, "reference"), "PUE");
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
	fp_fail(err, FP_ENOMEM, "%s: out of memory", name);
	return NULL;
}

fp_report_t *fp_report_from_record(const fp_record_t *rec, const char *user,
				   const char *account, fp_error_t *err)
{
	fp_report_t *r = report_new();

	fp_error_clear(err);
	if (!r) {
		fp_fail(err, FP_ENOMEM, "out of memory");
		return NULL;
	}
	r->from_record = true;
	r->job_id = rec->job_id;
	/* names from Slurm accounting: may be any bytes (fp_utf8_escape) */
	r->user = fp_utf8_escape(user, NULL);
	r->account = fp_utf8_escape(account, NULL);
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
		r->saved_percent = 100.0 * r->saved_with_heat_g /
				   rec->reference_g;
	snprintf(r->config, sizeof(r->config), "%s", rec->config);
	if (!rec->complete &&
	    add_reason(r, "the job record says incomplete; the reasons are "
			  "in the signed summary")) {
		fp_report_free(r);
		fp_fail(err, FP_ENOMEM, "out of memory");
		return NULL;
	}
	return r;
}

/* Figures for people: three decimals (the summary keeps every digit);
 * "-" when unknown. */
static const char *fig(char *buf, size_t size, double x)
{
	if (!isfinite(x))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.3f", x);
	return buf;
}

static const char *source_text(fp_energy_source_t src)
{
	switch (src) {
	case FP_ENERGY_MEASURED:
		return "measured";
	case FP_ENERGY_CALIBRATED:
		return "calibrated: a power model fitted on the node";
	case FP_ENERGY_SIMULATED:
		return "SIMULATED: fp-simnode, not a measurement";
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

char *fp_report_text(const fp_report_t *r, const char *signature)
{
	char *buf = NULL, a[32], b[32], c[32], pct[32];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fprintf(f, "Job ID: %llu\n", (unsigned long long)r->job_id);
	if (r->user || r->account)
		fprintf(f, "User/Account: %s/%s\n", r->user ? r->user : "?",
			r->account ? r->account : "?");
	if (r->cluster)
		fprintf(f, "Cluster: %s\n", r->cluster);
	if (r->start && r->end)
		fprintf(f, "Start/End: %s / %s (%.0f s, %s core-hours)\n",
			r->start, r->end, r->elapsed_s,
			fig(b, sizeof(b), r->core_hours));
	fprintf(f, "Origin: %s\n", r->from_record ?
		"accounting record (FP1, unsigned)" : "signed summary");
	if (r->from_record)
		fprintf(f, "Energy: %s Wh facility (%s)\n",
			fig(a, sizeof(a), r->energy_wh),
			source_text(r->source));
	else
		fprintf(f, "Energy: %s Wh facility, %s Wh IT (%s)\n",
			fig(a, sizeof(a), r->energy_wh),
			fig(b, sizeof(b), r->energy_it_wh),
			source_text(r->source));
	fprintf(f, "Operational: %s gCO2e\n",
		fig(a, sizeof(a), r->operational_g));
	fprintf(f, "Embodied: %s gCO2e\n", fig(a, sizeof(a), r->embodied_g));
	fprintf(f, "Footprint: %s gCO2e (operational + embodied)\n",
		fig(a, sizeof(a), r->footprint_g));
	fprintf(f, "Avoided: %s gCO2e by heat reuse", fig(a, sizeof(a),
		r->avoided_g));
	if (isfinite(r->reused_wh))
		fprintf(f, " (%s Wh of heat reused)", fig(b, sizeof(b),
			r->reused_wh));
	fprintf(f, "; separate, not subtracted from the footprint\n");
	fprintf(f, "Net: %s gCO2e (footprint - avoided; not a footprint)\n",
		fig(a, sizeof(a), r->net_g));
	fprintf(f, "Versus %s", ref_name(r));
	if (isfinite(r->reference_pue))
		fprintf(f, " (PUE %.2f)", r->reference_pue);
	fprintf(f, ": reference %s gCO2e, saved %s gCO2e; with heat reuse "
		"saved %s gCO2e (%s %% of the reference)\n",
		fig(a, sizeof(a), r->reference_g),
		fig(b, sizeof(b), r->saved_g),
		fig(c, sizeof(c), r->saved_with_heat_g),
		isfinite(r->saved_percent) ?
		(snprintf(pct, sizeof(pct), "%.1f", r->saved_percent), pct) :
		"-");
	if (!r->from_record) {
		fprintf(f, "Intensity used: %s gCO2e/kWh",
			fig(a, sizeof(a), r->intensity));
		if (isfinite(r->pue))
			fprintf(f, " (PUE %.3f)", r->pue);
		fprintf(f, "\nPer core-hour: %s gCO2e\n",
			fig(a, sizeof(a), r->per_core_hour_g));
	}
	if (r->complete) {
		fprintf(f, "Completeness: complete\n");
	} else {
		fprintf(f, "Completeness: INCOMPLETE\n");
		for (size_t i = 0; i < r->nincomplete; i++)
			fprintf(f, "  - %s\n", r->incomplete[i]);
	}
	if (r->nsites) {
		fprintf(f, "Sites:\n");
		for (size_t i = 0; i < r->nsites; i++) {
			const fp_report_site_t *s = &r->sites[i];
			char d[32], e[32], g[32];

			fprintf(f, "  %s: %s Wh, PUE %s, %s gCO2e/kWh, "
				"operational %s g, embodied %s g, avoided "
				"%s g\n", s->name ? s->name : "?",
				fig(a, sizeof(a), s->energy_wh),
				fig(b, sizeof(b), s->pue),
				fig(c, sizeof(c), s->intensity),
				fig(d, sizeof(d), s->operational_g),
				fig(e, sizeof(e), s->embodied_g),
				fig(g, sizeof(g), s->avoided_g));
		}
	}
	/* A one-node job's node line would repeat its site line. */
	if (r->nnodes > 1) {
		fprintf(f, "Nodes:\n");
		for (size_t i = 0; i < r->nnodes; i++) {
			const fp_report_node_t *n = &r->nodes[i];
			char d[32], e[32];

			fprintf(f, "  %s (%s): %s Wh IT, operational %s g, "
				"embodied %s g, avoided %s g\n",
				n->name ? n->name : "?",
				n->site ? n->site : "?",
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
		fprintf(f, "  step %s: %.0f nodes, %s Wh IT, split by %s\n",
			s->id ? s->id : "?", s->nnodes,
			fig(a, sizeof(a), s->energy_it_wh),
			s->split ? s->split : "?");
	}
	if (r->config[0])
		fprintf(f, "Config: sha256 %s%s\n", r->config,
			r->from_record ? "..." : "");
	fprintf(f, "signature: %s\n", signature ? signature : "unknown");
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

/* json_array_append_new frees v when it fails: *ok says one did. */
static void append(json_t *a, json_t *v, bool *ok)
{
	if (!v || json_array_append_new(a, v))
		*ok = false;
}

json_t *fp_report_json(const fp_report_t *r)
{
	json_t *reasons = json_array(), *sites = json_array(), *o;
	json_t *nodes = json_array(), *steps = json_array();
	bool ok = true;

	for (size_t i = 0; nodes && i < r->nnodes; i++) {
		const fp_report_node_t *n = &r->nodes[i];

		append(nodes, json_pack(
			"{s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			"name", jtext(n->name),
			"site", jtext(n->site),
			"cpus", jfig(n->cpus),
			"energy_it_Wh", jfig(n->energy_it_wh),
			"operational_g", jfig(n->operational_g),
			"embodied_g", jfig(n->embodied_g),
			"avoided_g", jfig(n->avoided_g)), &ok);
	}
	for (size_t i = 0; steps && i < r->nsteps; i++) {
		const fp_report_step_t *s = &r->steps[i];

		append(steps, json_pack(
			"{s:o, s:o, s:o, s:o}",
			"id", jtext(s->id),
			"nodes", jfig(s->nnodes),
			"energy_it_Wh", jfig(s->energy_it_wh),
			"split", jtext(s->split)), &ok);
	}

	for (size_t i = 0; reasons && i < r->nincomplete; i++)
		append(reasons, jtext(r->incomplete[i]), &ok);
	for (size_t i = 0; sites && i < r->nsites; i++) {
		const fp_report_site_t *s = &r->sites[i];

		append(sites, json_pack(
			"{s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
			"name", jtext(s->name),
			"energy_facility_Wh", jfig(s->energy_wh),
			"PUE", jfig(s->pue),
			"intensity_gco2e_per_kwh", jfig(s->intensity),
			"operational_g", jfig(s->operational_g),
			"embodied_g", jfig(s->embodied_g),
			"avoided_g", jfig(s->avoided_g)), &ok);
	}
	o = json_pack("{s:I, s:s, s:o, s:o, s:o, s:s, s:b, s:o,"
		      " s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
		      " s:{s:o, s:o, s:o, s:o, s:o, s:o},"
		      " s:o, s:o, s:o, s:o}",
		"job_id", (json_int_t)r->job_id,
		"origin", r->from_record ? "record" : "summary",
		"user", jtext(r->user),
		"account", jtext(r->account),
		"cluster", jtext(r->cluster),
		"energy_source", fp_energy_source_str(r->source),
		"complete", r->complete,
		"incomplete", reasons,
		"energy_facility_Wh", jfig(r->energy_wh),
		"energy_it_Wh", jfig(r->energy_it_wh),
		"reused_Wh", jfig(r->reused_wh),
		"operational_g", jfig(r->operational_g),
		"embodied_g", jfig(r->embodied_g),
		"footprint_g", jfig(r->footprint_g),
		"avoided_heat_reuse_g", jfig(r->avoided_g),
		"net_g", jfig(r->net_g),
		"net_label", json_string("footprint minus emissions avoided "
					 "by heat reuse; not a footprint"),
		"reference",
		"name", jtext(r->reference_name),
		"PUE", jfig(r->reference_pue),
		"reference_g", jfig(r->reference_g),
		"saved_g", jfig(r->saved_g),
		"saved_with_heat_g", jfig(r->saved_with_heat_g),
		"saved_percent", jfig(r->saved_percent),
		"intensity_gco2e_per_kwh", jfig(r->intensity),
		"per_core_hour_g", jfig(r->per_core_hour_g),
		"sites", sites,
		"config", r->config[0] ? json_string(r->config) : json_null());
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
	if (json_object_set_new(o, "steps", steps)) {
		json_decref(o);
		return NULL;
	}
	return o;
}

char *fp_report_mail(const fp_report_t *r, const char *signature)
{
	char *buf = NULL, a[32], b[32];
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	if (!f)
		return NULL;
	fprintf(f, "Carbon footprint of job %llu (slurm-footprint)\n",
		(unsigned long long)r->job_id);
	fprintf(f, "  energy:     %s Wh (%s)\n", fig(a, sizeof(a),
		r->energy_wh), source_text(r->source));
	fprintf(f, "  footprint:  %s gCO2e\n", fig(a, sizeof(a),
		r->footprint_g));
	fprintf(f, "  avoided:    %s gCO2e by heat reuse (separate, not in "
		"the footprint)\n", fig(a, sizeof(a), r->avoided_g));
	fprintf(f, "  net:        %s gCO2e (footprint - avoided)\n",
		fig(a, sizeof(a), r->net_g));
	fprintf(f, "  vs %s: %s gCO2e, saved %s gCO2e", ref_name(r),
		fig(a, sizeof(a), r->reference_g),
		fig(b, sizeof(b), r->saved_g));
	if (isfinite(r->saved_percent))
		fprintf(f, " (%.1f %% with heat reuse)", r->saved_percent);
	fprintf(f, "\n");
	if (!r->complete)
		fprintf(f, "  incomplete: %s\n", r->nincomplete ?
			r->incomplete[0] : "see the details");
	fprintf(f, "  signature:  %s\n", signature ? signature : "unknown");
	fprintf(f, "Details: sfootprint -j %llu\n",
		(unsigned long long)r->job_id);
	return close_stream(f, &buf);
}

char *fp_report_mail_unavailable(uint64_t job_id, const char *why)
{
	char *s = NULL;

	if (asprintf(&s, "Carbon footprint of job %llu: not available yet%s"
		     "%s%s.\nIt is computed shortly after the job ends; get it "
		     "later with:\n  sfootprint -j %llu\n",
		     (unsigned long long)job_id, why ? " (" : "",
		     why ? why : "", why ? ")" : "",
		     (unsigned long long)job_id) < 0)
		return NULL;
	return s;
}

/* Aggregate table */

enum { COL_JOB, COL_USER, COL_ACCOUNT, COL_ENERGY, COL_FOOTPRINT,
       COL_AVOIDED, COL_NET, COL_REFERENCE, COL_SOURCE, NCOLS };

static const char *const headers[NCOLS] = {
	"JobID", "User", "Account", "Energy(Wh)", "Footprint(g)",
	"Avoided(g)", "Net(g)", "Reference(g)", "Source",
};
/* sacct -p headers have no parentheses. */
static const char *const parsable_headers[NCOLS] = {
	"JobID", "User", "Account", "EnergyWh", "FootprintG", "AvoidedG",
	"NetG", "ReferenceG", "Source",
};

typedef struct row {
	char *job, *user, *account;
	bool has;
	fp_record_t rec;
} row_t;

struct fp_report_table {
	row_t *rows;
	size_t n, cap;
};

fp_report_table_t *fp_report_table_new(void)
{
	return calloc(1, sizeof(fp_report_table_t));
}

void fp_report_table_free(fp_report_table_t *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n; i++) {
		free(t->rows[i].job);
		free(t->rows[i].user);
		free(t->rows[i].account);
	}
	free(t->rows);
	free(t);
}

size_t fp_report_table_rows(const fp_report_table_t *t)
{
	return t->n;
}

int fp_report_table_add(fp_report_table_t *t, const char *job,
			const char *user, const char *account,
			const fp_record_t *rec, fp_error_t *err)
{
	row_t *r;

	fp_error_clear(err);
	if (t->n == t->cap) {
		size_t cap = t->cap ? 2 * t->cap : 64;
		row_t *n = realloc(t->rows, cap * sizeof(*n));

		if (!n)
			return fp_fail(err, FP_ENOMEM, "job %s: out of memory",
				       job);
		t->rows = n;
		t->cap = cap;
	}
	r = &t->rows[t->n];
	memset(r, 0, sizeof(*r));
	/* names from Slurm accounting: may be any bytes (fp_utf8_escape) */
	r->job = fp_utf8_escape(job, NULL);
	r->user = fp_utf8_escape(user ? user : "", NULL);
	r->account = fp_utf8_escape(account ? account : "", NULL);
	if (!r->job || !r->user || !r->account) {
		free(r->job);
		free(r->user);
		free(r->account);
		return fp_fail(err, FP_ENOMEM, "job %s: out of memory", job);
	}
	if (rec) {
		r->has = true;
		r->rec = *rec;
	}
	t->n++;
	return 0;
}

typedef struct totals {
	double energy, footprint, avoided, net, reference;
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

/* cells[row][col]: rows of the table then the TOTAL line. */
static int fill_row(char cells[NCOLS][64], const row_t *r)
{
	snprintf(cells[COL_JOB], 64, "%s", r->job);
	snprintf(cells[COL_USER], 64, "%s", r->user);
	snprintf(cells[COL_ACCOUNT], 64, "%s", r->account);
	if (!r->has) {
		for (int c = COL_ENERGY; c < NCOLS; c++)
			snprintf(cells[c], 64, "-");
		return 0;
	}
	fig(cells[COL_ENERGY], 64, r->rec.energy_wh);
	fig(cells[COL_FOOTPRINT], 64, r->rec.footprint_g);
	fig(cells[COL_AVOIDED], 64, r->rec.avoided_g);
	fig(cells[COL_NET], 64, r->rec.net_g);
	fig(cells[COL_REFERENCE], 64, r->rec.reference_g);
	snprintf(cells[COL_SOURCE], 64, "%s%s",
		 fp_energy_source_str(r->rec.source),
		 r->rec.complete ? "" : "*");
	return 0;
}

static void fill_total(char cells[NCOLS][64], const totals_t *s,
		       bool parsable)
{
	snprintf(cells[COL_JOB], 64, "TOTAL");
	cells[COL_USER][0] = cells[COL_ACCOUNT][0] = '\0';
	fig(cells[COL_ENERGY], 64, s->energy);
	fig(cells[COL_FOOTPRINT], 64, s->footprint);
	fig(cells[COL_AVOIDED], 64, s->avoided);
	fig(cells[COL_NET], 64, s->net);
	fig(cells[COL_REFERENCE], 64, s->reference);
	/* A parsable line has nowhere else for the counts. */
	if (parsable)
		snprintf(cells[COL_SOURCE], 64, "%zu jobs, %zu no footprint",
			 s->jobs, s->none);
	else
		cells[COL_SOURCE][0] = '\0';
}

static bool right_aligned(int c)
{
	return c >= COL_ENERGY && c <= COL_REFERENCE;
}

static void print_cells(FILE *f, char cells[NCOLS][64], const int *width,
			bool parsable)
{
	char line[NCOLS * 80];
	size_t n = 0;

	for (int c = 0; c < NCOLS; c++) {
		if (parsable)
			n += snprintf(line + n, sizeof(line) - n, "%s|",
				      cells[c]);
		else if (c == NCOLS - 1)
			n += snprintf(line + n, sizeof(line) - n, "%s",
				      cells[c]);
		else
			n += snprintf(line + n, sizeof(line) - n,
				      right_aligned(c) ? "%*s " : "%-*s ",
				      width[c], cells[c]);
		if (n >= sizeof(line))
			n = sizeof(line) - 1;
	}
	/* The TOTAL line has an empty last column: no trailing blanks. */
	while (!parsable && n && line[n - 1] == ' ')
		line[--n] = '\0';
	fprintf(f, "%s\n", line);
}

char *fp_report_table_text(const fp_report_table_t *t, bool parsable)
{
	char *buf = NULL, (*cells)[NCOLS][64];
	size_t len = 0, nlines = t->n + 1;
	int width[NCOLS];
	totals_t s = sum_rows(t);
	FILE *f;

	cells = calloc(nlines, sizeof(*cells));
	if (!cells)
		return NULL;
	for (size_t i = 0; i < t->n; i++)
		fill_row(cells[i], &t->rows[i]);
	fill_total(cells[t->n], &s, parsable);
	for (int c = 0; c < NCOLS; c++) {
		width[c] = (int)strlen(headers[c]);
		for (size_t i = 0; i < nlines; i++)
			if ((int)strlen(cells[i][c]) > width[c])
				width[c] = (int)strlen(cells[i][c]);
	}
	f = open_memstream(&buf, &len);
	if (!f) {
		free(cells);
		return NULL;
	}
	if (parsable) {
		for (int c = 0; c < NCOLS; c++)
			fprintf(f, "%s|", parsable_headers[c]);
		fprintf(f, "\n");
	} else {
		char head[NCOLS][64];

		for (int c = 0; c < NCOLS; c++)
			snprintf(head[c], sizeof(head[c]), "%s", headers[c]);
		print_cells(f, head, width, false);
		for (int c = 0; c < NCOLS; c++) {
			int w = c == NCOLS - 1 ? (int)strlen(headers[c]) :
						 width[c];

			for (int k = 0; k < w; k++)
				fputc('-', f);
			fputc(c == NCOLS - 1 ? '\n' : ' ', f);
		}
	}
	for (size_t i = 0; i < nlines; i++)
		print_cells(f, cells[i], width, parsable);
	free(cells);
	if (!parsable) {
		fprintf(f, "%zu job%s: %zu with a footprint, %zu no "
			"footprint", s.jobs, s.jobs == 1 ? "" : "s", s.with,
			s.none);
		if (s.incomplete)
			fprintf(f, ", %zu incomplete (*)", s.incomplete);
		fprintf(f, "\n");
		if (s.simulated)
			fprintf(f, "SIMULATED energy in %zu job%s: not a "
				"measurement\n", s.simulated,
				s.simulated == 1 ? "" : "s");
	}
	return close_stream(f, &buf);
}

json_t *fp_report_table_json(const fp_report_table_t *t)
{
	json_t *jobs = json_array();
	totals_t s = sum_rows(t);
	bool ok = true;

	for (size_t i = 0; jobs && i < t->n; i++) {
		const row_t *r = &t->rows[i];
		const fp_record_t *c = &r->rec;

		if (!r->has) {
			append(jobs, json_pack(
				"{s:s, s:s, s:s, s:b}", "job", r->job,
				"user", r->user, "account", r->account,
				"footprint", 0), &ok);
			continue;
		}
		append(jobs, json_pack(
			"{s:s, s:s, s:s, s:b, s:b, s:s, s:o, s:o, s:o, s:o,"
			" s:o}",
			"job", r->job, "user", r->user,
			"account", r->account, "footprint", 1,
			"complete", c->complete,
			"source", fp_energy_source_str(c->source),
			"energy_Wh", jfig(c->energy_wh),
			"footprint_g", jfig(c->footprint_g),
			"avoided_g", jfig(c->avoided_g),
			"net_g", jfig(c->net_g),
			"reference_g", jfig(c->reference_g)), &ok);
	}
	if (!ok) {
		json_decref(jobs);
		return NULL;
	}
	return json_pack("{s:o, s:{s:o, s:o, s:o, s:o, s:o, s:I, s:I, s:I,"
			 " s:I, s:I}}",
		"jobs", jobs,
		"total",
		"energy_Wh", json_real(s.energy),
		"footprint_g", json_real(s.footprint),
		"avoided_g", json_real(s.avoided),
		"net_g", json_real(s.net),
		"reference_g", json_real(s.reference),
		"jobs", (json_int_t)s.jobs,
		"with_footprint", (json_int_t)s.with,
		"no_footprint", (json_int_t)s.none,
		"incomplete", (json_int_t)s.incomplete,
		"simulated", (json_int_t)s.simulated);
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
	static const char *const sec[] = { "", "s", "sec", "secs", "second",
					   "seconds", NULL };
	static const char *const min[] = { "m", "min", "mins", "minute",
					   "minutes", NULL };
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

	if (!(s = digits(s, 0, &h)) || *s++ != ':' ||
	    !(s = digits(s, 2, &m)))
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

			if (!(p = digits(q, 0, &y)) || (p - q != 2 &&
							p - q != 4))
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
	return fp_fail(err, FP_EPARSE, "time '%s': expected "
		       "YYYY-MM-DD[THH:MM[:SS]], MM/DD[/YY], HH:MM[:SS], now, "
		       "today, midnight, noon or now-N[minutes|hours|days|"
		       "weeks]", s ? s : "");
}

/* Where footprint.conf is */

#define DEFAULT_SLURM_CONF "/etc/slurm/slurm.conf"

int fp_report_slurm_conf_get(const char *slurm_conf, const char *key,
			     char *buf, size_t size, fp_error_t *err)
{
	const char *path = slurm_conf && *slurm_conf ? slurm_conf :
						       DEFAULT_SLURM_CONF;
	size_t klen = strlen(key);
	char line[4096];
	int rc = 1;
	FILE *f = fopen(path, "r");

	fp_error_clear(err);
	if (!f)
		return fp_fail(err, FP_EIO, "%s: %s", path, strerror(errno));
	/* Only the first word of a line: NodeName= lines hold keys of their
	 * own (CPUs=...) that are not slurm.conf's. */
	while (rc && fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " \t"), *v, *e;

		if (strncasecmp(p, key, klen) || p[klen] != '=')
			continue;
		v = p + klen + 1;
		if (*v == '"') {
			v++;
			e = strchr(v, '"');
		} else {
			e = v + strcspn(v, " \t\r\n#");
		}
		if (e)
			*e = '\0';
		else
			v[strcspn(v, "\r\n")] = '\0';
		snprintf(buf, size, "%s", v);
		rc = 0;
	}
	fclose(f);
	return rc;
}

int fp_report_conf_path(const char *option, const char *env_conf,
			const char *slurm_conf, char *buf, size_t size)
{
	const char *sc = slurm_conf && *slurm_conf ? slurm_conf :
						     DEFAULT_SLURM_CONF;
	char type[256], loc[4096], *copy;

	if (option && *option) {
		snprintf(buf, size, "%s", option);
		return 0;
	}
	if (env_conf && *env_conf) {
		snprintf(buf, size, "%s", env_conf);
		return 0;
	}
	if (fp_report_slurm_conf_get(sc, "JobCompType", type, sizeof(type),
				     NULL) == 0 &&
	    !strcasecmp(type, "jobcomp/carbon") &&
	    fp_report_slurm_conf_get(sc, "JobCompLoc", loc, sizeof(loc),
				     NULL) == 0 && loc[0]) {
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
