/* The report of one job as JSON (sfootprint -j --json), and the JSON
 * values of figures, names and times that the aggregate table shares. */
#include "footprint/report.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "footprint/iso8601.h"
#include "footprint/utf8.h"

#include "report_parts.h"

json_t *fp_report_json_fig(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

static json_t *_jtext(const char *s)
{
	return s ? json_string(s) : json_null();
}

/* A name from accounting as JSON: jansson takes only UTF-8. */
json_t *fp_report_json_name(const char *s)
{
	char *e = fp_utf8_escape(s, NULL);
	json_t *v = e ? json_string(e) : json_null();

	free(e);
	return v;
}

json_t *fp_report_json_utc(time_t t)
{
	char buf[21];

	if (!t)
		return json_null();
	fp_iso8601_format(t, buf);
	return json_string(buf);
}

/* null when no fallback filled times at the site. */
static json_t *_fallback_json(const fp_report_site_t *s)
{
	json_t *o;

	if (!s->fallback)
		return json_null();
	o = json_pack("{s:o, s:o, s:o, s:o, s:o}", "method",
		      fp_report_json_name(s->fallback), "first",
		      fp_report_json_utc(s->fallback_first), "end",
		      fp_report_json_utc(s->fallback_end), "hours",
		      fp_report_json_fig(s->fallback_hours), "energy_share",
		      fp_report_json_fig(s->fallback_share));
	return o;
}

/* json_array_append_new frees v when it fails: *ok says one did. */
void fp_report_json_append(json_t *a, json_t *v, bool *ok)
{
	if (!v || json_array_append_new(a, v))
		*ok = false;
}

json_t *fp_report_json_exit(int code, int sig)
{
	char buf[32];

	if (code < 0)
		return json_null();
	snprintf(buf, sizeof(buf), "%d:%d", code, sig < 0 ? 0 : sig);
	return json_string(buf);
}

json_t *fp_report_json_acct(const fp_report_acct_t *a)
{
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
			 " s:o}",
			 "name", fp_report_json_name(a->name), "state",
			 fp_report_json_name(a->state), "exit_code",
			 fp_report_json_exit(a->exit_code, a->exit_signal),
			 "start", fp_report_json_utc(a->start), "end",
			 fp_report_json_utc(a->end), "elapsed_s",
			 fp_report_json_fig(a->elapsed_s), "total_cpu_s",
			 fp_report_json_fig(a->cpu_time_s), "alloc_cpus",
			 fp_report_json_fig(a->alloc_cpus),
			 "cpu_efficiency_percent",
			 fp_report_json_fig(fp_report_cpu_efficiency(a)),
			 "consumed_energy_J", fp_report_json_fig(a->energy_j));
}

/* What accounting says (null and the reason when it was not read). */
static json_t *_acct_json(const fp_report_t *r)
{
	fp_report_acct_t a = fp_report_acct_unknown();
	json_t *steps, *o;

	if (!r->has_acct)
		return r->acct_note
			       ? json_pack("{s:o}", "unavailable",
					   fp_report_json_name(r->acct_note))
			       : json_null();
	steps = json_array();
	for (size_t i = 0; steps && i < r->nacct_steps; i++)
		if (json_array_append_new(
			    steps,
			    json_pack("{s:s, s:o}", "step",
				      r->acct_steps[i].name,
				      "consumed_energy_J",
				      fp_report_json_fig(
					      r->acct_steps[i].energy_j)))) {
			json_decref(steps);
			steps = NULL;
		}
	a.name = r->job_name;
	a.state = r->state;
	a.exit_code = r->exit_code;
	a.exit_signal = r->exit_signal;
	a.start = r->acct_start;
	a.end = r->acct_end;
	a.elapsed_s = r->acct_elapsed_s;
	a.cpu_time_s = r->cpu_time_s;
	a.alloc_cpus = r->alloc_cpus;
	a.energy_j = r->sacct_energy_j;
	o = fp_report_json_acct(&a);
	if (!o) {
		json_decref(steps);
		return json_null();
	}
	/* json_object_set_new frees the value when it fails */
	if (json_object_set_new(o, "steps", steps ? steps : json_null())) {
		json_decref(o);
		return json_null();
	}
	return o;
}

json_t *fp_report_json(const fp_report_t *r)
{
	json_t *reasons = json_array(), *sites = json_array(), *o;
	json_t *nodes = json_array(), *steps = json_array();
	bool ok = true;

	for (size_t i = 0; nodes && i < r->nnodes; i++) {
		const fp_report_node_t *n = &r->nodes[i];

		fp_report_json_append(
			nodes,
			json_pack(
				"{s:o, s:o, s:o, s:o, s:o, s:o, s:o}", "name",
				_jtext(n->name), "site", _jtext(n->site),
				"cpus", fp_report_json_fig(n->cpus),
				"energy_it_Wh",
				fp_report_json_fig(n->energy_it_wh),
				"operational_g",
				fp_report_json_fig(n->operational_g),
				"embodied_g", fp_report_json_fig(n->embodied_g),
				"avoided_g", fp_report_json_fig(n->avoided_g)),
			&ok);
	}
	for (size_t i = 0; steps && i < r->nsteps; i++) {
		const fp_report_step_t *s = &r->steps[i];

		fp_report_json_append(
			steps,
			json_pack("{s:o, s:o, s:o, s:o}", "id", _jtext(s->id),
				  "nodes", fp_report_json_fig(s->nnodes),
				  "energy_it_Wh",
				  fp_report_json_fig(s->energy_it_wh), "split",
				  _jtext(s->split)),
			&ok);
	}

	for (size_t i = 0; reasons && i < r->nincomplete; i++)
		fp_report_json_append(reasons, _jtext(r->incomplete[i]), &ok);
	for (size_t i = 0; sites && i < r->nsites; i++) {
		const fp_report_site_t *s = &r->sites[i];

		fp_report_json_append(
			sites,
			json_pack(
				"{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o}",
				"name", _jtext(s->name), "energy_facility_Wh",
				fp_report_json_fig(s->energy_wh), "PUE",
				fp_report_json_fig(s->pue),
				"intensity_gco2e_per_kwh",
				fp_report_json_fig(s->intensity),
				"intensity_fallback", _fallback_json(s),
				"operational_g",
				fp_report_json_fig(s->operational_g),
				"embodied_g", fp_report_json_fig(s->embodied_g),
				"avoided_g", fp_report_json_fig(s->avoided_g)),
			&ok);
	}
	o = json_pack("{s:I, s:s, s:o, s:o, s:o, s:s, s:b, s:o,"
		      " s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o,"
		      " s:{s:o, s:o, s:o, s:o, s:o, s:o},"
		      " s:o, s:o, s:o, s:o}",
		      "job_id", (json_int_t)r->job_id, "origin",
		      r->from_record ? "record" : "summary", "user",
		      fp_report_json_name(r->user), "account",
		      fp_report_json_name(r->account), "cluster",
		      fp_report_json_name(r->cluster), "energy_source",
		      fp_carbon_energy_source_str(r->source), "complete",
		      r->complete, "incomplete", reasons, "energy_facility_Wh",
		      fp_report_json_fig(r->energy_wh), "energy_it_Wh",
		      fp_report_json_fig(r->energy_it_wh), "reused_Wh",
		      fp_report_json_fig(r->reused_wh), "operational_g",
		      fp_report_json_fig(r->operational_g), "embodied_g",
		      fp_report_json_fig(r->embodied_g), "footprint_g",
		      fp_report_json_fig(r->footprint_g),
		      "avoided_heat_reuse_g", fp_report_json_fig(r->avoided_g),
		      "net_g", fp_report_json_fig(r->net_g), "net_label",
		      json_string("footprint minus emissions avoided "
				  "by heat reuse; not a footprint"),
		      "reference", "name", _jtext(r->reference_name), "PUE",
		      fp_report_json_fig(r->reference_pue), "reference_g",
		      fp_report_json_fig(r->reference_g), "saved_g",
		      fp_report_json_fig(r->saved_g), "saved_with_heat_g",
		      fp_report_json_fig(r->saved_with_heat_g), "saved_percent",
		      fp_report_json_fig(r->saved_percent),
		      "intensity_gco2e_per_kwh",
		      fp_report_json_fig(r->intensity), "per_core_hour_g",
		      fp_report_json_fig(r->per_core_hour_g), "sites", sites,
		      "config",
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
	    json_object_set_new(o, "start", _jtext(r->start)) ||
	    json_object_set_new(o, "end", _jtext(r->end)) ||
	    json_object_set_new(o, "accounting", _acct_json(r))) {
		json_decref(o);
		return NULL;
	}
	return o;
}
