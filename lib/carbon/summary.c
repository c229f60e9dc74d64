/* Turns a carbon result into the summary JSON, and adds to it the job's
 * energy by part and the GPUs it held, from the nodes' step records. */
#include "footprint/summary.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "footprint/iso8601.h"
#include "footprint/json.h"
#include "footprint/utf8.h"

#include "summary_build.h"

/* What a summary is built with: the fields whose text had to be repaired,
 * and the first part that could not be built (a summary never goes out
 * with a part silently missing). */
struct build {
	const fp_result_t *r;
	json_t *repaired;
	char failed[128];
};

static void _failed(struct build *b, const char *what)
{
	if (!b->failed[0])
		snprintf(b->failed, sizeof(b->failed), "%s", what);
}

static int _note_repaired(struct build *b, const char *field)
{
	size_t i;
	json_t *v;

	json_array_foreach(b->repaired, i, v) if (!strcmp(json_string_value(v),
							  field)) return 0;
	return json_array_append_new(b->repaired, json_string(field));
}

/* Slurm hands over names as bytes; jansson takes only UTF-8, so text that
 * is not is escaped (fp_utf8_escape) and its field named in text_repaired
 * rather than refused, which would lose the figures with it. */
static json_t *_text(struct build *b, const char *field, const char *s)
{
	bool repaired;
	char *t;
	json_t *j;

	if (!s)
		return json_null();
	t = fp_utf8_escape(s, &repaired);
	j = t ? json_string(t) : NULL;
	free(t);
	if (j && repaired && _note_repaired(b, field)) {
		json_decref(j);
		j = NULL;
	}
	if (!j)
		_failed(b, field);
	return j;
}

/* The field name of element i of an array: "nodes[3].name". */
static const char *_elem(char *buf, size_t size, const char *array, size_t i,
			 const char *key)
{
	snprintf(buf, size, "%s[%zu]%s%s", array, i, key ? "." : "",
		 key ? key : "");
	return buf;
}

/* json_object_set_new and json_array_append_new free v when they fail. */
static int _put(struct build *b, json_t *o, const char *key, json_t *v,
		const char *what)
{
	if (!v || json_object_set_new(o, key, v)) {
		_failed(b, what);
		return -1;
	}
	return 0;
}

static int _append(struct build *b, json_t *a, json_t *v, const char *what)
{
	if (!v || json_array_append_new(a, v)) {
		_failed(b, what);
		return -1;
	}
	return 0;
}

static json_t *_when(time_t t)
{
	char buf[21];

	fp_iso8601_format(t, buf);
	return json_string(buf);
}

static json_t *_site_json(struct build *b, size_t i)
{
	const fp_site_result_t *s = &b->r->sites[i];
	char f[5][64];
	json_t *intensity = json_pack(
		"{s:o, s:s}", "series",
		_text(b,
		      _elem(f[0], sizeof(f[0]), "sites", i, "intensity.series"),
		      s->intensity_series),
		"kind", fp_series_intensity_kind_str(s->intensity_kind));

	if (intensity && s->intensity_span &&
	    (_put(b, intensity, "first", _when(s->intensity_first),
		  "sites.intensity.first") ||
	     _put(b, intensity, "end", _when(s->intensity_end),
		  "sites.intensity.end"))) {
		json_decref(intensity);
		return NULL;
	}
	/* Optional (schema 1 readers ignore it): what IntensityFallback=
	 * filled once the worker stopped waiting for the series. */
	if (intensity && s->fallback_used &&
	    _put(b, intensity, "fallback",
		 json_pack("{s:s, s:o, s:o, s:f, s:o}", "method", s->fallback,
			   "first", _when(s->fallback_first), "end",
			   _when(s->fallback_end), "hours",
			   (double)s->fallback_s / 3600.0, "energy_share",
			   num(s->energy_j > 0
				       ? s->fallback_energy_j / s->energy_j
				       : NAN)),
		 "sites.intensity.fallback")) {
		json_decref(intensity);
		return NULL;
	}
	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
			 "s:o, s:o, s:o, s:{s:o, s:o, s:o}}",
			 "name",
			 _text(b, _elem(f[1], sizeof(f[1]), "sites", i, "name"),
			       s->site),
			 "energy_it_Wh", wh(s->energy_j), "energy_facility_Wh",
			 wh(s->facility_energy_j), "PUE", num(s->pue),
			 "intensity_gco2e_per_kwh", num(s->intensity),
			 "operational_g", num(s->operational_g), "embodied_g",
			 num(s->embodied_g), "reused_energy_Wh",
			 wh(s->reused_energy_j), "avoided_g", num(s->avoided_g),
			 "reference_operational_g",
			 num(s->reference_operational_g), "intensity",
			 intensity, "heat_recovery", num(s->heat_recovery),
			 "displaced_heating", "name",
			 _text(b,
			       _elem(f[2], sizeof(f[2]), "sites", i,
				     "displaced_heating.name"),
			       s->displaced),
			 "gco2e_per_kwh", num(s->displaced_gco2e_per_kwh),
			 "source",
			 _text(b,
			       _elem(f[3], sizeof(f[3]), "sites", i,
				     "displaced_heating.source"),
			       s->displaced_source));
}

static json_t *_node_json(struct build *b, size_t i)
{
	const fp_carbon_node_t *n = &b->r->nodes[i];
	char f[5][64];
	json_t *o = json_pack(
		"{s:o, s:o, s:o, s:I, s:o, s:o, s:o, s:o}", "name",
		_text(b, _elem(f[0], sizeof(f[0]), "nodes", i, "name"),
		      n->node),
		"site",
		_text(b, _elem(f[1], sizeof(f[1]), "nodes", i, "site"),
		      n->site),
		"node_type",
		_text(b, _elem(f[2], sizeof(f[2]), "nodes", i, "node_type"),
		      n->node_type),
		"cpus", (json_int_t)n->cpus, "energy_it_Wh", wh(n->energy_j),
		"operational_g", num(n->operational_g), "embodied_g",
		num(n->embodied_g), "avoided_g", num(n->avoided_g));

	if (o && n->node_type &&
	    _put(b, o, "embodied",
		 json_pack("{s:o, s:o, s:I, s:o}", "kgco2e",
			   num(n->embodied_kg), "lifetime_years",
			   num(n->lifetime_years), "node_cpus",
			   (json_int_t)n->node_cpus, "source",
			   _text(b,
				 _elem(f[3], sizeof(f[3]), "nodes", i,
				       "embodied.source"),
				 n->embodied_source)),
		 _elem(f[4], sizeof(f[4]), "nodes", i, "embodied"))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *_step_json(struct build *b, size_t i)
{
	const fp_carbon_step_t *s = &b->r->steps[i];
	char f[64];

	return json_pack("{s:o, s:I, s:o, s:s}", "id",
			 _text(b, _elem(f, sizeof(f), "steps", i, "id"), s->id),
			 "nodes", (json_int_t)s->nnodes, "energy_it_Wh",
			 wh(s->energy_j), "split",
			 s->split ? s->split : FP_SPLIT_CPUS);
}

static json_t *_carbon_facts(struct build *b)
{
	const fp_result_t *r = b->r;

	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
			 "s:o, s:o, s:o, s:o}",
			 "total_consumed_energy_Wh", wh(r->energy_facility_j),
			 "total_energy_it_Wh", wh(r->energy_it_j),
			 "total_reused_energy_Wh", wh(r->reused_energy_j),
			 "qarnot_carbon_footprint", num(r->footprint_g),
			 "equivalent_datacenter_name",
			 _text(b, "carbon_facts.equivalent_datacenter_name",
			       r->reference_name),
			 "equivalent_DC_carbon_footprint", num(r->reference_g),
			 "saved_carbon_footprint_compute", num(r->saved_g),
			 "saved_carbon_footprint_heat", num(r->avoided_g),
			 "saved_carbon_footprint_compute_heat",
			 num(r->saved_with_heat_g),
			 "saved_carbon_footprint_percent",
			 num(r->saved_percent), "PUE", num(r->pue), "ERE",
			 num(r->ere), "ERF", num(r->erf));
}

/* The arrays of the summary; -1 names the element that failed. */
static int _parts(struct build *b, json_t *sites, json_t *nodes,
		  json_t *incomplete, json_t *useful)
{
	const fp_result_t *r = b->r;
	char f[64];

	for (size_t i = 0; i < r->nsites; i++) {
		const char *site = r->sites[i].site ? r->sites[i].site : "";
		bool repaired;
		char *key;
		int rc;

		if (_append(b, sites, _site_json(b, i),
			    _elem(f, sizeof(f), "sites", i, NULL)))
			return -1;
		/* an object key must be UTF-8 too: same repair as the name */
		key = fp_utf8_escape(site, &repaired);
		_elem(f, sizeof(f), "useful_heat", i, NULL);
		rc = !key || (repaired && _note_repaired(b, "useful_heat"))
			     ? (_failed(b, f), -1)
			     : _put(b, useful, key,
				    _text(b, f, r->sites[i].useful_heat_series),
				    f);
		free(key);
		if (rc)
			return -1;
	}
	for (size_t i = 0; i < r->nnodes; i++)
		if (_append(b, nodes, _node_json(b, i),
			    _elem(f, sizeof(f), "nodes", i, NULL)))
			return -1;
	for (size_t i = 0; i < r->nincomplete; i++)
		if (_append(b, incomplete,
			    _text(b, _elem(f, sizeof(f), "incomplete", i, NULL),
				  r->incomplete[i]),
			    _elem(f, sizeof(f), "incomplete", i, NULL)))
			return -1;
	return 0;
}

json_t *fp_summary_json(const fp_result_t *r, fp_error_t *err)
{
	struct build b = { .r = r };
	json_t *root = NULL, *sites, *nodes, *incomplete, *useful;

	fp_error_clear(err);
	b.repaired = json_array();
	sites = json_array();
	nodes = json_array();
	incomplete = json_array();
	useful = json_object();
	if (!b.repaired || !sites || !nodes || !incomplete || !useful ||
	    _parts(&b, sites, nodes, incomplete, useful)) {
		_failed(&b, "its arrays");
		json_decref(sites);
		json_decref(nodes);
		json_decref(incomplete);
		json_decref(useful);
		goto fail;
	}
	root = json_pack(
		"{s:i, s:{s:s, s:s},"
		" s:{s:I, s:o, s:o, s:o, s:o, s:o, s:o, s:o},"
		" s:b, s:o,"
		" s:{s:s, s:s, s:o, s:o, s:o, s:I, s:I},"
		" s:{s:s, s:o, s:o, s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:o,"
		"    s:o, s:o, s:o, s:o},"
		" s:{s:o, s:o, s:o},"
		" s:o, s:o, s:o,"
		" s:{s:o, s:o, s:o, s:o},"
		" s:{s:s},"
		" s:o}",
		"schema_version", FP_SUMMARY_SCHEMA_VERSION, "software", "name",
		"slurm-footprint", "version", FP_VERSION, "job", "id",
		(json_int_t)r->job_id, "user", _text(&b, "job.user", r->user),
		"account", _text(&b, "job.account", r->account), "cluster",
		_text(&b, "job.cluster", r->cluster), "start", _when(r->start),
		"end", _when(r->end), "elapsed_s", num(r->elapsed_s),
		"core_hours", num(r->core_hours), "complete", r->complete,
		"incomplete", incomplete, "energy", "source",
		fp_carbon_energy_source_str(r->energy_source), "source_by",
		r->energy_source_nodes ? "nodes" : "EnergySource", "it_Wh",
		wh(r->energy_it_j), "facility_Wh", wh(r->energy_facility_j),
		"reused_Wh", wh(r->reused_energy_j), "steps",
		(json_int_t)r->nsteps, "steps_counted",
		(json_int_t)r->nsteps_counted, "carbon", "unit", "gCO2e",
		"operational", num(r->operational_g), "embodied",
		num(r->embodied_g), "footprint", num(r->footprint_g),
		"avoided_heat_reuse", num(r->avoided_g), "net", num(r->net_g),
		"net_label",
		"footprint minus emissions avoided by heat "
		"reuse; not a footprint",
		"reference", num(r->reference_g), "reference_operational",
		num(r->reference_operational_g), "saved", num(r->saved_g),
		"saved_with_heat", num(r->saved_with_heat_g), "saved_percent",
		num(r->saved_percent), "sci_per_job", num(r->footprint_g),
		"sci_per_core_hour", num(r->per_core_hour_g),
		"intensity_gco2e_per_kwh", num(r->intensity), "efficiency",
		"PUE", num(r->pue), "ERF", num(r->erf), "ERE", num(r->ere),
		"sites", sites, "nodes", nodes, "useful_heat", useful,
		"reference", "name",
		_text(&b, "reference.name", r->reference_name), "PUE",
		num(r->reference_pue), "PUE_source",
		_text(&b, "reference.PUE_source", r->reference_pue_source),
		"intensity",
		_text(&b, "reference.intensity", r->reference_intensity),
		"config", "sha256", r->config_digest, "carbon_facts",
		_carbon_facts(&b));
	if (!root) {
		_failed(&b, "its top level");
		goto fail;
	}
	if (r->nstep_results) {
		json_t *steps = json_array();
		char f[64];

		for (size_t i = 0; steps && i < r->nstep_results; i++)
			if (_append(&b, steps, _step_json(&b, i),
				    _elem(f, sizeof(f), "steps", i, NULL))) {
				json_decref(steps);
				goto fail;
			}
		if (_put(&b, root, "steps", steps, "steps"))
			goto fail;
	}
	if (json_array_size(b.repaired)) {
		if (_put(&b, root, "text_repaired", b.repaired,
			 "text_repaired"))
			goto fail_repaired;
	} else {
		json_decref(b.repaired);
	}
	return root;
fail:
	json_decref(b.repaired);
fail_repaired:
	json_decref(root);
	fp_error_set(err, FP_ENOMEM,
		     "job %llu: cannot build %s of the summary "
		     "(out of memory)",
		     (unsigned long long)r->job_id, b.failed);
	return NULL;
}

/* root's text, root released; NULL with err set when out of memory. */
static char *_dumps(json_t *root, const fp_result_t *r, fp_error_t *err)
{
	char *s = fp_json_dumps(root, DUMP_FLAGS);

	json_decref(root);
	if (!s)
		fp_error_set(err, FP_ENOMEM,
			     "job %llu: cannot serialise the "
			     "summary",
			     (unsigned long long)r->job_id);
	return s;
}

char *fp_summary_dumps(const fp_result_t *r, fp_error_t *err)
{
	json_t *root = fp_summary_json(r, err);

	if (!root)
		return NULL;
	return _dumps(root, r, err);
}

static int _held_cmp(const void *a, const void *b)
{
	const struct held *x = a, *y = b;
	int c = strcmp(x->node, y->node);

	return c ? c : (x->index > y->index) - (x->index < y->index);
}

/* Adds record p's sources to the "measured_by" of the element of the
 * summary's array `arr` whose `key` is `val` (a node by its name, a step by
 * its id; one made at the element's first record): what its energy came
 * from, in Wh, whether its node was simulated and, with `meter`, its meter
 * (a node's: a step on several nodes has as many, its nodes name them); -1
 * out of memory. A record from before they were said adds nothing. */
static int _add_measured_to(json_t *arr, const char *key, const char *val,
			    const json_t *p, bool with_meter)
{
	const json_t *src = json_object_get(p, "sources");
	const char *meter = json_string_value(json_object_get(p, "meter"));
	json_t *n = NULL, *x, *m;
	json_t *wh_o, *v;
	const char *k, *name;
	size_t i;

	if (!val || !json_is_object(src) ||
	    !json_is_boolean(json_object_get(p, "simulated")))
		return 0;
	json_array_foreach(arr, i, x)
	{
		name = json_string_value(json_object_get(x, key));
		if (name && !strcmp(name, val)) {
			n = x;
			break;
		}
	}
	if (!n)
		return 0; /* a node or step the job's record does not name */
	m = json_object_get(n, "measured_by");
	if (!m) {
		m = json_pack("{s:i, s:b, s:{}}", "records", 0, "simulated", 0,
			      "sources_Wh");
		if (m && with_meter &&
		    json_object_set_new(m, "meter", json_string(""))) {
			json_decref(m);
			return -1;
		}
		if (!m || json_object_set_new(n, "measured_by", m))
			return -1;
	}
	wh_o = json_object_get(m, "sources_Wh");
	json_object_foreach((json_t *)src, k, v)
	{
		double had = fp_json_number(wh_o, k);

		if (!json_is_number(v))
			continue;
		if (json_object_set_new(
			    wh_o, k,
			    json_real((isfinite(had) ? had : 0) +
				      json_number_value(v) / 3600.0)))
			return -1;
	}
	if (json_is_true(json_object_get(p, "simulated")) &&
	    json_object_set_new(m, "simulated", json_true()))
		return -1;
	if (with_meter && meter && *meter &&
	    json_object_set_new(m, "meter", json_string(meter)))
		return -1;
	return json_object_set_new(
		m, "records",
		json_integer(json_integer_value(json_object_get(m, "records")) +
			     1));
}

/* Record p's sources, to its node's "measured_by" and its step's. */
static int _add_measured(json_t *root, const json_t *p)
{
	return _add_measured_to(json_object_get(root, "nodes"), "name",
				json_string_value(json_object_get(p, "node")),
				p, true) ||
	       _add_measured_to(json_object_get(root, "steps"), "id",
				json_string_value(json_object_get(p, "step")),
				p, false);
}

/* Each "measured_by" "source" of the elements of array arr, once its
 * records are all added: as fp_summary_parts_source judges a job. */
static int _name_measured_in(json_t *arr)
{
	json_t *n, *m, *wh_o;
	size_t i;

	json_array_foreach(arr, i, n)
	{
		json_t *as;

		m = json_object_get(n, "measured_by");
		if (!m)
			continue;
		wh_o = json_object_get(m, "sources_Wh");
		as = json_pack("{s:O, s:O}", "sources", wh_o, "simulated",
			       json_object_get(m, "simulated"));
		if (!as)
			return -1;
		if (json_object_set_new(
			    m, "source",
			    json_string(fp_carbon_energy_source_str(
				    fp_summary_parts_record_source(as))))) {
			json_decref(as);
			return -1;
		}
		json_decref(as);
	}
	return 0;
}

static int _name_measured(json_t *root)
{
	return _name_measured_in(json_object_get(root, "nodes")) ||
	       _name_measured_in(json_object_get(root, "steps"));
}

/* The ids of GPUs record p's step held that its node could not read at
 * all, into u as {"node", "id"}, each once; -1 out of memory. */
static int _add_unknown(json_t *u, json_t *p)
{
	const char *node = json_string_value(json_object_get(p, "node"));
	json_t *ids = json_object_get(p, "gpus_unknown"), *id, *x;
	size_t i, j;

	json_array_foreach(ids, i, id)
	{
		bool seen = false;

		if (!json_is_string(id))
			continue;
		json_array_foreach(u, j, x) seen |=
			json_equal(json_object_get(x, "id"), id) &&
			!strcmp(json_string_value(json_object_get(x, "node")),
				node ? node : "");
		if (!seen && json_array_append_new(
				     u, json_pack("{s:s, s:O}", "node",
						  node ? node : "", "id", id)))
			return -1;
	}
	return 0;
}

int fp_summary_add_parts(json_t *root, const fp_result_t *r,
			 json_t *const *parts, size_t nparts, size_t nexpected,
			 fp_error_t *err)
{
	double sum[NPARTS] = { 0 };
	struct held *h = NULL;
	size_t nh = 0;
	json_t *gpus = NULL, *o = NULL, *unknown = json_array();
	int rc = -1;

	fp_error_clear(err);
	if (!nexpected) {
		json_decref(unknown);
		return 0;
	}
	for (size_t i = 0; unknown && i < nparts; i++)
		if (fp_summary_held_add(parts[i], sum, &h, &nh) ||
		    _add_unknown(unknown, parts[i]) ||
		    _add_measured(root, parts[i]))
			goto out;
	if (_name_measured(root))
		goto out;
	if (nh)
		qsort(h, nh, sizeof(*h), _held_cmp);
	gpus = json_array();
	for (size_t i = 0; gpus && i < nh; i++)
		if (json_array_append_new(gpus,
					  fp_summary_held_json(r, &h[i]))) {
			json_decref(gpus);
			gpus = NULL;
		}
	o = json_pack("{s:I, s:I, s:o, s:o, s:o, s:o, s:o, s:o}", "records",
		      (json_int_t)nparts, "expected", (json_int_t)nexpected,
		      "energy_Wh", wh(nparts ? sum[0] : NAN), "cpu_dram_Wh",
		      wh(nparts ? sum[1] : NAN), "cpu_Wh",
		      wh(nparts ? sum[4] : NAN), "dram_Wh",
		      wh(nparts ? sum[5] : NAN), "gpu_Wh",
		      wh(nparts ? sum[2] : NAN), "rest_Wh",
		      wh(nparts ? sum[3] : NAN));
	if (!gpus || !o) {
		json_decref(gpus);
		json_decref(o);
		goto out;
	}
	if (json_object_set_new(root, "gpus", gpus)) {
		json_decref(o);
		goto out;
	}
	/* only when there is one: older readers never see the key */
	if (json_array_size(unknown) &&
	    json_object_set(root, "gpus_unknown", unknown)) {
		json_decref(o);
		goto out;
	}
	if (json_object_set_new(root, "energy_parts", o))
		goto out;
	rc = 0;
out:
	for (size_t i = 0; i < nh; i++) {
		json_decref(h[i].steps);
		free(h[i].span);
	}
	free(h);
	json_decref(unknown);
	if (rc)
		fp_error_set(err, FP_ENOMEM,
			     "job %llu: cannot build the energy "
			     "parts of the summary (out of memory)",
			     (unsigned long long)r->job_id);
	return rc;
}

char *fp_summary_dumps_parts(const fp_result_t *r, json_t *const *parts,
			     size_t nparts, size_t nexpected, fp_error_t *err)
{
	json_t *root = fp_summary_json(r, err);

	if (!root)
		return NULL;
	if (fp_summary_add_parts(root, r, parts, nparts, nexpected, err)) {
		json_decref(root);
		return NULL;
	}
	return _dumps(root, r, err);
}

char *fp_summary_incomplete(uint64_t job_id, const char *user,
			    const char *account, time_t start, time_t end,
			    const char *why)
{
	char t0[21] = "", t1[21] = "";
	/* jansson refuses text that is not UTF-8: a Latin-1 user name would
	 * leave the job with no summary at all. */
	char *u = fp_utf8_escape(user ? user : "", NULL);
	char *a = fp_utf8_escape(account ? account : "", NULL);
	char *reason = fp_utf8_escape(why ? why : "", NULL);
	json_t *o = NULL;
	char *s;

	if (start)
		fp_iso8601_format(start, t0);
	if (end)
		fp_iso8601_format(end, t1);
	if (u && a && reason)
		o = json_pack("{s:i, s:{s:I, s:s, s:s, s:s, s:s}, s:b, s:[s], "
			      "s:s}",
			      "schema_version", FP_SUMMARY_SCHEMA_VERSION,
			      "job", "id", (json_int_t)job_id, "user", u,
			      "account", a, "start", t0, "end", t1, "complete",
			      0, "incomplete", reason, "software",
			      "slurm-footprint " FP_VERSION);
	s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	free(u);
	free(a);
	free(reason);
	return s;
}
