/* The FP1 job-record form of a summary: written from a result, merged into
 * and parsed out of a job record field shared with other tools. */
#include "footprint/summary.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "footprint/json.h"

#include "summary_build.h"

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
static const char *_object_end(const char *s)
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
static const char *_find_part(const char *field, const char **end)
{
	const char *p = field;
	size_t plen = strlen(FP_RECORD_PREFIX);

	while ((p = strstr(p, FP_RECORD_PREFIX))) {
		if ((p == field || p[-1] == ' ' || p[-1] == '\n' ||
		     p[-1] == '\t') &&
		    p[plen] == '{') {
			*end = _object_end(p + plen);
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
	start = _find_part(existing, &end);
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
	if (!field || !(start = _find_part(field, &end)))
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

char *fp_summary_record_incomplete(uint64_t job_id)
{
	char *s = NULL;

	if (asprintf(&s, FP_RECORD_PREFIX "{\"job\":%llu,\"ok\":false}",
		     (unsigned long long)job_id) < 0)
		return NULL;
	return s;
}
