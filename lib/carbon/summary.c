/* Turns a carbon result into the summary JSON and the FP1 job-record form,
 * and merges/parses that form inside a shared AdminComment. */
#include "footprint/summary.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "footprint/json.h"
#include "footprint/utf8.h"

#define DUMP_FLAGS (JSON_COMPACT | JSON_SORT_KEYS)

/* Full precision: fp_json_dumps writes each figure in its shortest exact
 * form (a small job's 0.0004 Wh, ERF and ERE to the last digit); the text
 * reports round for people. Undefined ratios (no energy) are null, never
 * NaN. */
static json_t *num(double x)
{
	if (!isfinite(x))
		return json_null();
	if (x == 0)
		x = 0; /* no "-0.0" */
	return json_real(x);
}

static json_t *wh(double j)
{
	return num(j / 3600.0);
}

/* What a summary is built with: the fields whose text had to be repaired,
 * and the first part that could not be built (a summary never goes out
 * with a part silently missing). */
struct build {
	const fp_result_t *r;
	json_t *repaired;
	char failed[128];
};

static void failed(struct build *b, const char *what)
{
	if (!b->failed[0])
		snprintf(b->failed, sizeof(b->failed), "%s", what);
}

static int note_repaired(struct build *b, const char *field)
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
static json_t *text(struct build *b, const char *field, const char *s)
{
	bool repaired;
	char *t;
	json_t *j;

	if (!s)
		return json_null();
	t = fp_utf8_escape(s, &repaired);
	j = t ? json_string(t) : NULL;
	free(t);
	if (j && repaired && note_repaired(b, field)) {
		json_decref(j);
		j = NULL;
	}
	if (!j)
		failed(b, field);
	return j;
}

/* The field name of element i of an array: "nodes[3].name". */
static const char *elem(char *buf, size_t size, const char *array, size_t i,
			const char *key)
{
	snprintf(buf, size, "%s[%zu]%s%s", array, i, key ? "." : "",
		 key ? key : "");
	return buf;
}

/* json_object_set_new and json_array_append_new free v when they fail. */
static int put(struct build *b, json_t *o, const char *key, json_t *v,
	       const char *what)
{
	if (!v || json_object_set_new(o, key, v)) {
		failed(b, what);
		return -1;
	}
	return 0;
}

static int append(struct build *b, json_t *a, json_t *v, const char *what)
{
	if (!v || json_array_append_new(a, v)) {
		failed(b, what);
		return -1;
	}
	return 0;
}

static json_t *when(time_t t)
{
	char buf[21];

	fp_iso8601_format(t, buf);
	return json_string(buf);
}

static json_t *site_json(struct build *b, size_t i)
{
	const fp_site_result_t *s = &b->r->sites[i];
	char f[5][64];
	json_t *intensity = json_pack(
		"{s:o, s:s}", "series",
		text(b,
		     elem(f[0], sizeof(f[0]), "sites", i, "intensity.series"),
		     s->intensity_series),
		"kind", fp_series_intensity_kind_str(s->intensity_kind));

	if (intensity && s->intensity_span &&
	    (put(b, intensity, "first", when(s->intensity_first),
		 "sites.intensity.first") ||
	     put(b, intensity, "end", when(s->intensity_end),
		 "sites.intensity.end"))) {
		json_decref(intensity);
		return NULL;
	}
	/* Optional (schema 1 readers ignore it): what IntensityFallback=
	 * filled once the worker stopped waiting for the series. */
	if (intensity && s->fallback_used &&
	    put(b, intensity, "fallback",
		json_pack("{s:s, s:o, s:o, s:f, s:o}", "method", s->fallback,
			  "first", when(s->fallback_first), "end",
			  when(s->fallback_end), "hours",
			  (double)s->fallback_s / 3600.0, "energy_share",
			  num(s->energy_j > 0
				      ? s->fallback_energy_j / s->energy_j
				      : NAN)),
		"sites.intensity.fallback")) {
		json_decref(intensity);
		return NULL;
	}
	return json_pack(
		"{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
		"s:o, s:o, s:o, s:{s:o, s:o, s:o}}",
		"name",
		text(b, elem(f[1], sizeof(f[1]), "sites", i, "name"), s->site),
		"energy_it_Wh", wh(s->energy_j), "energy_facility_Wh",
		wh(s->facility_energy_j), "PUE", num(s->pue),
		"intensity_gco2e_per_kwh", num(s->intensity), "operational_g",
		num(s->operational_g), "embodied_g", num(s->embodied_g),
		"reused_energy_Wh", wh(s->reused_energy_j), "avoided_g",
		num(s->avoided_g), "reference_operational_g",
		num(s->reference_operational_g), "intensity", intensity,
		"heat_recovery", num(s->heat_recovery), "displaced_heating",
		"name",
		text(b,
		     elem(f[2], sizeof(f[2]), "sites", i,
			  "displaced_heating.name"),
		     s->displaced),
		"gco2e_per_kwh", num(s->displaced_gco2e_per_kwh), "source",
		text(b,
		     elem(f[3], sizeof(f[3]), "sites", i,
			  "displaced_heating.source"),
		     s->displaced_source));
}

static json_t *node_json(struct build *b, size_t i)
{
	const fp_carbon_node_t *n = &b->r->nodes[i];
	char f[5][64];
	json_t *o = json_pack(
		"{s:o, s:o, s:o, s:I, s:o, s:o, s:o, s:o}", "name",
		text(b, elem(f[0], sizeof(f[0]), "nodes", i, "name"), n->node),
		"site",
		text(b, elem(f[1], sizeof(f[1]), "nodes", i, "site"), n->site),
		"node_type",
		text(b, elem(f[2], sizeof(f[2]), "nodes", i, "node_type"),
		     n->node_type),
		"cpus", (json_int_t)n->cpus, "energy_it_Wh", wh(n->energy_j),
		"operational_g", num(n->operational_g), "embodied_g",
		num(n->embodied_g), "avoided_g", num(n->avoided_g));

	if (o && n->node_type &&
	    put(b, o, "embodied",
		json_pack("{s:o, s:o, s:I, s:o}", "kgco2e", num(n->embodied_kg),
			  "lifetime_years", num(n->lifetime_years), "node_cpus",
			  (json_int_t)n->node_cpus, "source",
			  text(b,
			       elem(f[3], sizeof(f[3]), "nodes", i,
				    "embodied.source"),
			       n->embodied_source)),
		elem(f[4], sizeof(f[4]), "nodes", i, "embodied"))) {
		json_decref(o);
		return NULL;
	}
	return o;
}

static json_t *step_json(struct build *b, size_t i)
{
	const fp_carbon_step_t *s = &b->r->steps[i];
	char f[64];

	return json_pack("{s:o, s:I, s:o, s:s}", "id",
			 text(b, elem(f, sizeof(f), "steps", i, "id"), s->id),
			 "nodes", (json_int_t)s->nnodes, "energy_it_Wh",
			 wh(s->energy_j), "split",
			 s->split ? s->split : FP_SPLIT_CPUS);
}

static json_t *carbon_facts(struct build *b)
{
	const fp_result_t *r = b->r;

	return json_pack("{s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, s:o, "
			 "s:o, s:o, s:o, s:o}",
			 "total_consumed_energy_Wh", wh(r->energy_facility_j),
			 "total_energy_it_Wh", wh(r->energy_it_j),
			 "total_reused_energy_Wh", wh(r->reused_energy_j),
			 "qarnot_carbon_footprint", num(r->footprint_g),
			 "equivalent_datacenter_name",
			 text(b, "carbon_facts.equivalent_datacenter_name",
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
static int parts(struct build *b, json_t *sites, json_t *nodes,
		 json_t *incomplete, json_t *useful)
{
	const fp_result_t *r = b->r;
	char f[64];

	for (size_t i = 0; i < r->nsites; i++) {
		const char *site = r->sites[i].site ? r->sites[i].site : "";
		bool repaired;
		char *key;
		int rc;

		if (append(b, sites, site_json(b, i),
			   elem(f, sizeof(f), "sites", i, NULL)))
			return -1;
		/* an object key must be UTF-8 too: same repair as the name */
		key = fp_utf8_escape(site, &repaired);
		elem(f, sizeof(f), "useful_heat", i, NULL);
		rc = !key || (repaired && note_repaired(b, "useful_heat"))
			     ? (failed(b, f), -1)
			     : put(b, useful, key,
				   text(b, f, r->sites[i].useful_heat_series),
				   f);
		free(key);
		if (rc)
			return -1;
	}
	for (size_t i = 0; i < r->nnodes; i++)
		if (append(b, nodes, node_json(b, i),
			   elem(f, sizeof(f), "nodes", i, NULL)))
			return -1;
	for (size_t i = 0; i < r->nincomplete; i++)
		if (append(b, incomplete,
			   text(b, elem(f, sizeof(f), "incomplete", i, NULL),
				r->incomplete[i]),
			   elem(f, sizeof(f), "incomplete", i, NULL)))
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
	    parts(&b, sites, nodes, incomplete, useful)) {
		failed(&b, "its arrays");
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
		(json_int_t)r->job_id, "user", text(&b, "job.user", r->user),
		"account", text(&b, "job.account", r->account), "cluster",
		text(&b, "job.cluster", r->cluster), "start", when(r->start),
		"end", when(r->end), "elapsed_s", num(r->elapsed_s),
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
		text(&b, "reference.name", r->reference_name), "PUE",
		num(r->reference_pue), "PUE_source",
		text(&b, "reference.PUE_source", r->reference_pue_source),
		"intensity",
		text(&b, "reference.intensity", r->reference_intensity),
		"config", "sha256", r->config_digest, "carbon_facts",
		carbon_facts(&b));
	if (!root) {
		failed(&b, "its top level");
		goto fail;
	}
	if (r->nstep_results) {
		json_t *steps = json_array();
		char f[64];

		for (size_t i = 0; steps && i < r->nstep_results; i++)
			if (append(&b, steps, step_json(&b, i),
				   elem(f, sizeof(f), "steps", i, NULL))) {
				json_decref(steps);
				goto fail;
			}
		if (put(&b, root, "steps", steps, "steps"))
			goto fail;
	}
	if (json_array_size(b.repaired)) {
		if (put(&b, root, "text_repaired", b.repaired, "text_repaired"))
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

char *fp_summary_dumps(const fp_result_t *r, fp_error_t *err)
{
	json_t *root = fp_summary_json(r, err);
	char *s;

	if (!root)
		return NULL;
	s = fp_json_dumps(root, DUMP_FLAGS);
	json_decref(root);
	if (!s)
		fp_error_set(err, FP_ENOMEM,
			     "job %llu: cannot serialise the "
			     "summary",
			     (unsigned long long)r->job_id);
	return s;
}

char *fp_summary_record_format(const fp_result_t *r, fp_error_t *err)
{
	char cfg[17], *body, *out;
	json_t *o;
	size_t n;

	fp_error_clear(err);
	snprintf(cfg, sizeof(cfg), "%.16s", r->config_digest);
	o = json_pack("{s:i, s:I, s:b, s:s, s:o, s:o, s:o, s:o, s:o, s:o, "
		      "s:o, s:o, s:s}",
		      "v", FP_RECORD_VERSION, "job", (json_int_t)r->job_id,
		      "ok", r->complete, "src",
		      fp_carbon_energy_source_str(r->energy_source), "Wh",
		      wh(r->energy_facility_j), "g", num(r->footprint_g), "op",
		      num(r->operational_g), "emb", num(r->embodied_g), "avoid",
		      num(r->avoided_g), "net", num(r->net_g), "ref",
		      num(r->reference_g), "saved", num(r->saved_g), "cfg",
		      cfg);
	body = o ? fp_json_dumps(o, DUMP_FLAGS) : NULL;
	json_decref(o);
	if (!body) {
		fp_error_set(err, FP_ENOMEM,
			     "job %llu: cannot build the record",
			     (unsigned long long)r->job_id);
		return NULL;
	}
	n = strlen(FP_RECORD_PREFIX) + strlen(body) + 1;
	out = malloc(n);
	if (out)
		snprintf(out, n, "%s%s", FP_RECORD_PREFIX, body);
	free(body);
	if (!out)
		fp_error_set(err, FP_ENOMEM, "out of memory");
	else if (strchr(out, '\'')) /* cannot happen: belt and braces */
		fp_error_set(err, FP_EINVAL, "record holds a quote"), free(out),
			out = NULL;
	return out;
}

/* End of the JSON object starting at s[0] == '{', or NULL if unbalanced. */
static const char *object_end(const char *s)
{
	int depth = 0;
	bool in_str = false;

	for (; *s; s++) {
		if (in_str) {
			if (*s == '\\' && s[1])
				s++;
			else if (*s == '"')
				in_str = false;
			continue;
		}
		if (*s == '"')
			in_str = true;
		else if (*s == '{')
			depth++;
		else if (*s == '}' && --depth == 0)
			return s + 1;
	}
	return NULL;
}

/* Our part: "FP1:{" at the start or after a space, with a balanced object;
 * anything else that merely contains "FP1:" is another tool's. */
static const char *find_part(const char *field, const char **end)
{
	const char *p = field;
	size_t plen = strlen(FP_RECORD_PREFIX);

	while ((p = strstr(p, FP_RECORD_PREFIX))) {
		if ((p == field || p[-1] == ' ' || p[-1] == '\n' ||
		     p[-1] == '\t') &&
		    p[plen] == '{') {
			*end = object_end(p + plen);
			if (*end)
				return p;
		}
		p += plen;
	}
	return NULL;
}

char *fp_summary_record_merge(const char *existing, const char *ours,
			      fp_error_t *err)
{
	const char *start, *end;
	size_t n;
	char *out;

	fp_error_clear(err);
	if (strncmp(ours, FP_RECORD_PREFIX, strlen(FP_RECORD_PREFIX)) ||
	    strchr(ours, '\''))
		return fp_error_set(err, FP_EINVAL, "not an FP1 record"), NULL;
	if (existing && strchr(existing, '\'')) {
		fp_error_set(
			err, FP_EINVAL,
			"the job record field holds a single "
			"quote: writing it back would break slurmdbd's SQL");
		return NULL;
	}
	if (!existing || !*existing)
		return strdup(ours);
	start = find_part(existing, &end);
	n = strlen(existing) + strlen(ours) + 2;
	out = malloc(n);
	if (!out)
		return fp_error_set(err, FP_ENOMEM, "out of memory"), NULL;
	if (start)
		snprintf(out, n, "%.*s%s%s", (int)(start - existing), existing,
			 ours, end);
	else
		snprintf(out, n, "%s%s%s", existing,
			 strchr(" \n\t", existing[strlen(existing) - 1]) ? ""
									 : " ",
			 ours);
	return out;
}

int fp_summary_record_parse(const char *field, fp_record_t *rec,
			    fp_error_t *err)
{
	const char *start, *end;
	json_error_t jerr;
	json_t *o, *v;
	size_t plen = strlen(FP_RECORD_PREFIX);

	fp_error_clear(err);
	memset(rec, 0, sizeof(*rec));
	if (!field || !(start = find_part(field, &end)))
		return 1;
	o = json_loadb(start + plen, (size_t)(end - start - plen), 0, &jerr);
	if (!o)
		return fp_error_set(err, FP_EPARSE, "FP1 record: %s",
				    jerr.text);
	v = json_object_get(o, "v");
	if (!json_is_integer(v) ||
	    !json_is_integer(json_object_get(o, "job")) ||
	    !json_is_boolean(json_object_get(o, "ok"))) {
		json_decref(o);
		return fp_error_set(err, FP_EPARSE,
				    "FP1 record: field 'v', 'job' "
				    "or 'ok' missing");
	}
	rec->version = (int)json_integer_value(v);
	rec->job_id = (uint64_t)json_integer_value(json_object_get(o, "job"));
	rec->complete = json_is_true(json_object_get(o, "ok"));
	v = json_object_get(o, "src");
	if (!json_is_string(v) ||
	    fp_carbon_energy_source_parse(json_string_value(v), &rec->source))
		rec->source = FP_ENERGY_UNKNOWN;
	rec->energy_wh = fp_json_number(o, "Wh");
	rec->footprint_g = fp_json_number(o, "g");
	rec->operational_g = fp_json_number(o, "op");
	rec->embodied_g = fp_json_number(o, "emb");
	rec->avoided_g = fp_json_number(o, "avoid");
	rec->net_g = fp_json_number(o, "net");
	rec->reference_g = fp_json_number(o, "ref");
	rec->saved_g = fp_json_number(o, "saved");
	v = json_object_get(o, "cfg");
	if (json_is_string(v))
		snprintf(rec->config, sizeof(rec->config), "%s",
			 json_string_value(v));
	json_decref(o);
	return 0;
}

/* ---- the job's energy by part and the GPUs it held -------------------
 *
 * From the nodes' step records (step.h): each (step, node) gives its
 * energy split into RAPL (packages and DRAM, apart in records since the
 * split), GPU and the rest, and the GPUs it held, each with the step's
 * share of it. An older record has one GPU figure for all its GPUs: it is
 * given to them evenly here, and the GPU says so ("energy_split"). */

/* energy_j, cpu_dram_j, gpu_j, rest_j, cpu_j, dram_j */
#define NPARTS 6

struct held {
	const char *node;
	json_int_t index;
	json_t *gpu;   /* the first record's GPU object */
	json_t *steps; /* ids of the steps that held it */
	double energy_j, floor_w;
	bool even; /* some record's share was given evenly */
	/* over its steps' records: the seconds each held it, and of them
	 * idle, judged and unread (step.h); untimed: a record without
	 * them, so idleness is judged by the mean power instead */
	double step_s, idle_s, judged_s, unread_s;
	bool untimed;
	double (*span)[2]; /* each step's [start, end] on it */
	size_t nspan;
};

static int span_cmp(const void *a, const void *b)
{
	const double *x = a, *y = b;

	return (x[0] > y[0]) - (x[0] < y[0]);
}

/* The time covered by the spans: overlapping steps count once. */
static double union_s(double (*s)[2], size_t n)
{
	double total = 0, a, b;

	if (!n)
		return 0;
	qsort(s, n, sizeof(*s), span_cmp);
	a = s[0][0];
	b = s[0][1];
	for (size_t i = 1; i < n; i++) {
		if (s[i][0] > b) {
			total += b - a;
			a = s[i][0];
		}
		if (s[i][1] > b)
			b = s[i][1];
	}
	return total + b - a;
}

static int held_cmp(const void *a, const void *b)
{
	const struct held *x = a, *y = b;
	int c = strcmp(x->node, y->node);

	return c ? c : (x->index > y->index) - (x->index < y->index);
}

static struct held *held_of(struct held **h, size_t *n, const char *node,
			    json_t *g)
{
	json_int_t index = json_integer_value(json_object_get(g, "index"));
	struct held *x;

	for (size_t i = 0; i < *n; i++)
		if ((*h)[i].index == index && !strcmp((*h)[i].node, node))
			return &(*h)[i];
	x = realloc(*h, (*n + 1) * sizeof(**h));
	if (!x)
		return NULL;
	*h = x;
	x = &x[(*n)++];
	memset(x, 0, sizeof(*x));
	x->node = node;
	x->index = index;
	x->gpu = g;
	x->floor_w = NAN;
	x->steps = json_array();
	return x->steps ? x : NULL;
}

static const fp_carbon_node_t *node_of(const fp_result_t *r, const char *n)
{
	for (size_t i = 0; i < r->nnodes; i++)
		if (r->nodes[i].node && !strcmp(r->nodes[i].node, n))
			return &r->nodes[i];
	return NULL;
}

static json_t *gpu_text(json_t *g, const char *k)
{
	json_t *v = json_object_get(g, k);

	return json_is_string(v) ? json_string(json_string_value(v))
				 : json_null();
}

/* One GPU of "gpus": what the node published of it, its share of the
 * job's energy and footprint, and whether it idled through the hold. */
static json_t *held_json(const fp_result_t *r, const struct held *h)
{
	const fp_carbon_node_t *n = node_of(r, h->node);
	double held = union_s(h->span, h->nspan);
	double mean = held > 0 ? h->energy_j / held : NAN;
	double limit = h->floor_w * FP_GPU_IDLE_RATIO + FP_GPU_IDLE_MARGIN_W;
	double cost = n && n->energy_j > 0
			      ? n->operational_g * h->energy_j / n->energy_j
			      : NAN;
	bool timed = !h->untimed && h->step_s > 0;
	double idle_share = timed ? h->idle_s / h->step_s : NAN;
	double busy_share = timed ? (h->judged_s - h->idle_s) / h->step_s : NAN;
	json_t *idle;

	/* idle for most of the time the job held it; used for at least
	 * half of it; else (its floor unknown or unread too long) not
	 * judged. Records without the times: by the mean power. */
	if (timed)
		idle = idle_share > 0.5	   ? json_true()
		       : busy_share >= 0.5 ? json_false()
					   : json_null();
	else
		idle = isfinite(mean) && isfinite(limit)
			       ? json_boolean(mean <= limit)
			       : json_null();
	return json_pack(
		"{s:s, s:I, s:o, s:o, s:o, s:o, s:O, s:o, s:o, s:o, "
		"s:o, s:o, s:o, s:s, s:o, s:o, s:o, s:o, s:o}",
		"node", h->node, "index", h->index, "uuid",
		gpu_text(h->gpu, "uuid"), "model", gpu_text(h->gpu, "model"),
		"vendor", gpu_text(h->gpu, "vendor"), "source",
		gpu_text(h->gpu, "source"), "steps", h->steps, "held_s",
		num(held), "energy_Wh", wh(h->energy_j), "energy_split",
		json_string(h->even ? "even" : "device"), "mean_W", num(mean),
		"floor_W", num(h->floor_w), "idle", idle, "idle_by",
		timed ? "time" : "mean", "idle_share", num(idle_share),
		"unread_share", num(timed ? h->unread_s / h->step_s : NAN),
		"idle_below_W", num(limit), "operational_g", num(cost),
		"footprint_share",
		num(r->footprint_g > 0 ? cost / r->footprint_g : NAN));
}

/* Adds record p to the sums and its GPUs to h; -1 out of memory. */
static int add_record(json_t *p, double sum[NPARTS], struct held **h,
		      size_t *nh)
{
	static const char *const keys[NPARTS] = { "energy_j", "cpu_dram_j",
						  "gpu_j",    "rest_j",
						  "cpu_j",    "dram_j" };
	const char *node = json_string_value(json_object_get(p, "node"));
	json_t *gpus = json_object_get(p, "gpus"), *g;
	json_t *step = json_object_get(p, "step");
	double end = fp_json_number(p, "last_t");
	double s = fp_json_number(p, "seconds");
	double gpu_j = fp_json_number(p, "gpu_j");
	size_t k;

	for (int i = 0; i < NPARTS; i++)
		/* NAN spreads: unknown (cpu_j, dram_j: a record made
		 * before the split) */
		sum[i] += fp_json_number(p, keys[i]);
	if (!node)
		node = "";
	json_array_foreach(gpus, k, g)
	{
		struct held *x = held_of(h, nh, node, g);
		double(*span)[2];
		double fl = fp_json_number(g, "floor_w");
		double own = fp_json_number(g, "energy_j");

		if (!x)
			return -1;
		/* the step's share of this GPU, as the node attributed it;
		 * a record without it: its GPU energy evenly */
		if (!isfinite(own)) {
			own = gpu_j / (double)json_array_size(gpus);
			x->even = true;
		}
		x->energy_j += own;
		if (isfinite(fp_json_number(g, "idle_s")) &&
		    isfinite(fp_json_number(g, "judged_s")) &&
		    isfinite(fp_json_number(g, "unread_s")) && isfinite(s)) {
			x->step_s += s;
			x->idle_s += fp_json_number(g, "idle_s");
			x->judged_s += fp_json_number(g, "judged_s");
			x->unread_s += fp_json_number(g, "unread_s");
		} else {
			x->untimed = true;
		}
		/* the floor only goes down: the latest record's is lowest */
		if (isfinite(fl) && !(fl >= x->floor_w))
			x->floor_w = fl;
		if (json_is_string(step) &&
		    json_array_append_new(x->steps,
					  json_string(json_string_value(step))))
			return -1;
		if (!isfinite(end) || !isfinite(s))
			continue;
		span = realloc(x->span, (x->nspan + 1) * sizeof(*span));
		if (!span)
			return -1;
		x->span = span;
		x->span[x->nspan][0] = end - s;
		x->span[x->nspan++][1] = end;
	}
	return 0;
}

/* Record p's node measured its step mostly from its meter's calibration:
 * at least half its energy. */
static bool mostly_calibrated(const json_t *p)
{
	const json_t *src = json_object_get(p, "sources");
	double all = 0, cal = fp_json_number(src, "calibrated");
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)src, k, v)
		all += json_is_number(v) ? json_number_value(v) : 0;
	return isfinite(cal) && all > 0 && cal >= all / 2;
}

static fp_energy_source_t record_source(const json_t *p)
{
	if (json_is_true(json_object_get(p, "simulated")))
		return FP_ENERGY_SIMULATED;
	return mostly_calibrated(p) ? FP_ENERGY_CALIBRATED : FP_ENERGY_MEASURED;
}

/* Appends "step on node" to the list of absent records, as long as it
 * fits (the count says how many there are in all). */
static void note_absent(fp_summary_parts_t *g, const char *step,
			const char *node)
{
	size_t used = strlen(g->absent);
	int n = snprintf(g->absent + used, sizeof(g->absent) - used,
			 "%s%s on %s", used ? ", " : "", step, node);

	if (n < 0 || (size_t)n >= sizeof(g->absent) - used) {
		g->absent[used] = '\0';
		g->absent_cut = true;
	}
}

int fp_summary_parts_gather(const char *dir, const fp_job_t *job,
			    fp_summary_parts_say_fn say, void *ctx,
			    fp_summary_parts_t *g)
{
	fp_error_t err = { 0 };
	json_t **more, *p;

	memset(g, 0, sizeof(*g));
	for (size_t i = 0; dir && job && i < job->nsteps; i++) {
		const fp_step_t *st = &job->steps[i];

		for (size_t k = 0; k < st->nnodes; k++) {
			g->nexpected++;
			if (fp_step_parts_load(dir, st->nodes[k].node, st->id,
					       &p, &err)) {
				if (err.code == FP_EIO) {
					g->nabsent++;
					note_absent(g, st->id,
						    st->nodes[k].node);
				} else {
					g->nunread++;
					if (say)
						say(ctx, err.msg);
				}
				continue;
			}
			more = realloc(g->parts,
				       (g->nparts + 1) * sizeof(*g->parts));
			if (!more) {
				json_decref(p);
				fp_summary_parts_clear(g);
				return -1;
			}
			g->parts = more;
			g->parts[g->nparts++] = p;
		}
	}
	return 0;
}

void fp_summary_parts_clear(fp_summary_parts_t *g)
{
	for (size_t i = 0; g->parts && i < g->nparts; i++)
		json_decref(g->parts[i]);
	free(g->parts);
	memset(g, 0, sizeof(*g));
}

int fp_summary_parts_source(fp_result_t *r, json_t *const *parts, size_t nparts,
			    size_t nexpected)
{
	fp_energy_source_t job = FP_ENERGY_MEASURED;

	if (!nexpected || nparts < nexpected)
		return -1;
	for (size_t i = 0; i < nparts; i++) {
		fp_energy_source_t s;

		if (!json_is_object(json_object_get(parts[i], "sources")) ||
		    !json_is_boolean(json_object_get(parts[i], "simulated")))
			return -1; /* a node from before they said it */
		s = record_source(parts[i]);
		if (s == FP_ENERGY_SIMULATED ||
		    (s == FP_ENERGY_CALIBRATED && job == FP_ENERGY_MEASURED))
			job = s;
	}
	r->energy_source = job;
	r->energy_source_nodes = true;
	return 0;
}

/* Adds record p's sources to its node's "measured_by" in the summary's
 * nodes (one made at the first record of the node): what its energy came
 * from, in Wh, whether the node was simulated and its meter; -1 out of
 * memory. A record from before they were said adds nothing. */
static int add_measured(json_t *root, const json_t *p)
{
	const char *node = json_string_value(json_object_get(p, "node"));
	const json_t *src = json_object_get(p, "sources");
	const char *meter = json_string_value(json_object_get(p, "meter"));
	json_t *nodes = json_object_get(root, "nodes"), *n = NULL, *x, *m;
	json_t *wh_o, *v;
	const char *k, *name;
	size_t i;

	if (!node || !json_is_object(src) ||
	    !json_is_boolean(json_object_get(p, "simulated")))
		return 0;
	json_array_foreach(nodes, i, x)
	{
		name = json_string_value(json_object_get(x, "name"));
		if (name && !strcmp(name, node)) {
			n = x;
			break;
		}
	}
	if (!n)
		return 0; /* a node the job's record does not name */
	m = json_object_get(n, "measured_by");
	if (!m) {
		m = json_pack("{s:i, s:b, s:s, s:{}}", "records", 0,
			      "simulated", 0, "meter", "", "sources_Wh");
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
	if (meter && *meter &&
	    json_object_set_new(m, "meter", json_string(meter)))
		return -1;
	return json_object_set_new(
		m, "records",
		json_integer(json_integer_value(json_object_get(m, "records")) +
			     1));
}

/* Each node's "measured_by" "source", once its records are all added:
 * as fp_summary_parts_source judges a job, over the node's sources. */
static int name_measured(json_t *root)
{
	json_t *nodes = json_object_get(root, "nodes"), *n, *m, *wh_o;
	size_t i;

	json_array_foreach(nodes, i, n)
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
		if (json_object_set_new(m, "source",
					json_string(fp_carbon_energy_source_str(
						record_source(as))))) {
			json_decref(as);
			return -1;
		}
		json_decref(as);
	}
	return 0;
}

/* The ids of GPUs record p's step held that its node could not read at
 * all, into u as {"node", "id"}, each once; -1 out of memory. */
static int add_unknown(json_t *u, json_t *p)
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
		if (add_record(parts[i], sum, &h, &nh) ||
		    add_unknown(unknown, parts[i]) ||
		    add_measured(root, parts[i]))
			goto out;
	if (name_measured(root))
		goto out;
	if (nh)
		qsort(h, nh, sizeof(*h), held_cmp);
	gpus = json_array();
	for (size_t i = 0; gpus && i < nh; i++)
		if (json_array_append_new(gpus, held_json(r, &h[i]))) {
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
	char *s;

	if (!root)
		return NULL;
	if (fp_summary_add_parts(root, r, parts, nparts, nexpected, err)) {
		json_decref(root);
		return NULL;
	}
	s = fp_json_dumps(root, DUMP_FLAGS);
	json_decref(root);
	if (!s)
		fp_error_set(err, FP_ENOMEM,
			     "job %llu: cannot serialise the "
			     "summary",
			     (unsigned long long)r->job_id);
	return s;
}

/* A figure for people: three significant digits, "-" when unknown. */
static const char *fig3(char *buf, size_t size, double x)
{
	if (!isfinite(x))
		snprintf(buf, size, "-");
	else if (fabs(x) >= 100)
		snprintf(buf, size, "%.0f", x);
	else
		snprintf(buf, size, "%.3g", x);
	return buf;
}

static void put_part(FILE *f, const char *name, double wh, double total,
		     const char *why)
{
	char a[32], b[32];

	fprintf(f, "  %s: %s Wh", name, fig3(a, sizeof(a), wh));
	if (isfinite(wh) && total > 0)
		fprintf(f, " (%s %%)", fig3(b, sizeof(b), 100 * wh / total));
	fprintf(f, "%s\n", why);
}

static const char *str_or(const json_t *o, const char *k, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s && *s ? s : dflt;
}

static void put_gpu(FILE *f, const json_t *g)
{
	const json_t *steps = json_object_get(g, "steps"), *idle;
	char a[32], b[32], c[32], d[32];
	double share;
	bool timed;
	size_t i;
	json_t *v;

	fprintf(f, "  %s GPU %lld: %s (%s, %s, %s)", str_or(g, "node", "?"),
		(long long)json_integer_value(json_object_get(g, "index")),
		str_or(g, "model", "unnamed"), str_or(g, "uuid", "no uuid"),
		str_or(g, "vendor", "?"), str_or(g, "source", "?"));
	fprintf(f, ": %s Wh%s over %s s held, mean %s W; steps",
		fig3(a, sizeof(a), fp_json_number(g, "energy_Wh")),
		!strcmp(str_or(g, "energy_split", "even"), "even")
			? " (the steps' GPU energy shared evenly)"
			: "",
		fig3(b, sizeof(b), fp_json_number(g, "held_s")),
		fig3(c, sizeof(c), fp_json_number(g, "mean_W")));
	json_array_foreach(steps, i, v)
		fprintf(f, "%s %s", i ? "," : "", json_string_value(v));
	fputc('\n', f);
	idle = json_object_get(g, "idle");
	fig3(a, sizeof(a), fp_json_number(g, "mean_W"));
	fig3(b, sizeof(b), fp_json_number(g, "idle_below_W"));
	fig3(c, sizeof(c), fp_json_number(g, "floor_W"));
	timed = !strcmp(str_or(g, "idle_by", "mean"), "time");
	share = 100 * fp_json_number(g, "idle_share");
	if (json_is_true(idle) && timed) {
		fprintf(f,
			"    idle: held but not used for %s %% of the time "
			"it was held, its power within %s W (the lowest power "
			"the node saw it draw, %s W, x %.2f + %.0f W)",
			fig3(a, sizeof(a), share), b, c, FP_GPU_IDLE_RATIO,
			FP_GPU_IDLE_MARGIN_W);
	} else if (json_is_true(idle)) {
		fprintf(f,
			"    idle: held but not used; its mean %s W is "
			"within %s W (the lowest power the node saw it draw, "
			"%s W, x %.2f + %.0f W)",
			a, b, c, FP_GPU_IDLE_RATIO, FP_GPU_IDLE_MARGIN_W);
	}
	if (json_is_true(idle)) {
		fprintf(f,
			"; it cost %s Wh, %s gCO2e, %s %% of the job's "
			"footprint\n",
			fig3(b, sizeof(b), fp_json_number(g, "energy_Wh")),
			fig3(d, sizeof(d), fp_json_number(g, "operational_g")),
			fig3(a, sizeof(a),
			     100 * fp_json_number(g, "footprint_share")));
	} else if (json_is_false(idle) && timed) {
		fprintf(f,
			"    used: idle (within %s W, floor %s W) for only "
			"%s %% of the time it was held\n",
			b, c, fig3(a, sizeof(a), share));
	} else if (json_is_false(idle)) {
		fprintf(f,
			"    used: its mean %s W is above its idle limit "
			"%s W (floor %s W)\n",
			a, b, c);
	} else {
		fprintf(f,
			"    idle or used: not judged (the node had not "
			"seen its lowest power yet%s)\n",
			timed ? ", or could not read it" : "");
	}
	share = fp_json_number(g, "unread_share");
	if (share > 0)
		fprintf(f,
			"    not read for %s %% of the time it was held: "
			"its energy then is counted only where it read again "
			"while the step ran (and not across a reset)\n",
			fig3(a, sizeof(a), 100 * share));
}

/* How each node measured, where its records said it. */
static void put_measured(FILE *f, const json_t *summary)
{
	const json_t *nodes = json_object_get(summary, "nodes"), *n, *m;
	const char *by = str_or(json_object_get(summary, "energy"), "source_by",
				"EnergySource");
	bool any = false;
	size_t i;

	json_array_foreach(nodes, i, n)
	{
		const json_t *wh_o;
		const char *k, *meter;
		json_t *v;
		char a[32];
		bool first = true;

		m = json_object_get(n, "measured_by");
		if (!m)
			continue;
		if (!any)
			fprintf(f, "Measured on the nodes (%s):\n",
				!strcmp(by, "nodes")
					? "as each node said"
					: "not every node said; the job's source is "
					  "EnergySource=");
		any = true;
		fprintf(f, "  %s: %s", str_or(n, "name", "?"),
			str_or(m, "source", "?"));
		meter = str_or(m, "meter", "");
		if (*meter)
			fprintf(f, ", meter %s", meter);
		wh_o = json_object_get(m, "sources_Wh");
		json_object_foreach((json_t *)wh_o, k, v)
		{
			if (!(json_number_value(v) > 0))
				continue;
			fprintf(f, "%s%s %s Wh", first ? " (" : ", ", k,
				fig3(a, sizeof(a), json_number_value(v)));
			first = false;
		}
		fprintf(f, "%s\n", first ? "" : ")");
	}
}

/* The GPUs the job held that their node could not read at all. */
static void put_unknown(FILE *f, const json_t *summary, const char *lead)
{
	const json_t *u = json_object_get(summary, "gpus_unknown"), *x;
	size_t i;

	if (!json_array_size(u))
		return;
	fprintf(f,
		"%sGPUs held but not read (no such device on the node; "
		"their energy is in no GPU figure):",
		lead);
	json_array_foreach(u, i, x)
		fprintf(f, "%s %s GPU %s", i ? "," : "", str_or(x, "node", "?"),
			str_or(x, "id", "?"));
	fputc('\n', f);
}

char *fp_summary_parts_text(const json_t *summary)
{
	const json_t *p = json_object_get(summary, "energy_parts");
	const json_t *gpus = json_object_get(summary, "gpus");
	double total;
	char *out = NULL, a[32];
	size_t len = 0, i;
	json_t *g;
	FILE *f;

	if (!json_is_object(p))
		return NULL;
	f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	total = fp_json_number(p, "energy_Wh");
	fprintf(f,
		"Energy by part: %s Wh measured on the nodes (%lld of "
		"%lld step records)\n",
		fig3(a, sizeof(a), total),
		(long long)json_integer_value(json_object_get(p, "records")),
		(long long)json_integer_value(json_object_get(p, "expected")));
	if (isfinite(fp_json_number(p, "cpu_Wh")) &&
	    isfinite(fp_json_number(p, "dram_Wh"))) {
		put_part(f, "CPU packages", fp_json_number(p, "cpu_Wh"), total,
			 " (RAPL)");
		put_part(f, "DRAM", fp_json_number(p, "dram_Wh"), total,
			 " (RAPL)");
	} else {
		/* summaries, or records, from before the split */
		put_part(f, "CPU packages + DRAM",
			 fp_json_number(p, "cpu_dram_Wh"), total,
			 " (RAPL; not split in these records)");
	}
	put_part(f, "GPU", fp_json_number(p, "gpu_Wh"), total, "");
	put_part(f, "Rest of the node", fp_json_number(p, "rest_Wh"), total,
		 " (its meter beyond RAPL and GPUs)");
	put_measured(f, summary);
	if (!json_array_size(gpus))
		fprintf(f, "GPUs held: none\n");
	else
		fprintf(f, "GPUs held:\n");
	json_array_foreach(gpus, i, g) put_gpu(f, g);
	put_unknown(f, summary, "");
	if (fclose(f)) {
		free(out);
		return NULL;
	}
	return out;
}

char *fp_summary_parts_mail(const json_t *summary)
{
	const json_t *p = json_object_get(summary, "energy_parts");
	const json_t *gpus = json_object_get(summary, "gpus"), *g;
	double cpu, dram;
	char *out = NULL, a[32], b[32], c[32], d[32];
	size_t len = 0, i;
	FILE *f;

	if (!json_is_object(p))
		return NULL;
	f = open_memstream(&out, &len);
	if (!f)
		return NULL;
	cpu = fp_json_number(p, "cpu_Wh");
	dram = fp_json_number(p, "dram_Wh");
	if (isfinite(cpu) && isfinite(dram))
		fprintf(f, "  by part:    CPU packages %s Wh, DRAM %s Wh",
			fig3(a, sizeof(a), cpu), fig3(b, sizeof(b), dram));
	else
		fprintf(f, "  by part:    CPU packages + DRAM %s Wh",
			fig3(a, sizeof(a), fp_json_number(p, "cpu_dram_Wh")));
	fprintf(f,
		", GPU %s Wh, rest of the node %s Wh (%lld of %lld step "
		"records)\n",
		fig3(a, sizeof(a), fp_json_number(p, "gpu_Wh")),
		fig3(b, sizeof(b), fp_json_number(p, "rest_Wh")),
		(long long)json_integer_value(json_object_get(p, "records")),
		(long long)json_integer_value(json_object_get(p, "expected")));
	json_array_foreach(gpus, i, g)
	{
		fprintf(f, "  GPU:        %s GPU %lld (%s): %s Wh",
			str_or(g, "node", "?"),
			(long long)json_integer_value(
				json_object_get(g, "index")),
			str_or(g, "model", "unnamed"),
			fig3(a, sizeof(a), fp_json_number(g, "energy_Wh")));
		if (json_is_true(json_object_get(g, "idle")) &&
		    !strcmp(str_or(g, "idle_by", "mean"), "time"))
			fprintf(f,
				", held but idle %s %% of the time: it "
				"cost %s gCO2e, %s %% of the footprint",
				fig3(b, sizeof(b),
				     100 * fp_json_number(g, "idle_share")),
				fig3(c, sizeof(c),
				     fp_json_number(g, "operational_g")),
				fig3(d, sizeof(d),
				     100 * fp_json_number(g,
							  "footprint_share")));
		else if (json_is_true(json_object_get(g, "idle")))
			fprintf(f,
				", held but idle (mean %s W): it cost %s "
				"gCO2e, %s %% of the footprint",
				fig3(b, sizeof(b), fp_json_number(g, "mean_W")),
				fig3(c, sizeof(c),
				     fp_json_number(g, "operational_g")),
				fig3(d, sizeof(d),
				     100 * fp_json_number(g,
							  "footprint_share")));
		fputc('\n', f);
	}
	put_unknown(f, summary, "  ");
	if (fclose(f)) {
		free(out);
		return NULL;
	}
	return out;
}
