/* A trace's header (its line 1) into fp_node_desc_t, through jansson: read
 * once a file, where the sample scanner's speed is not needed. */
#include "trace_reader.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int _hfail(fp_error_t *err, const fp_trace_reader_t *r, const char *fmt,
		  ...) __attribute__((format(printf, 3, 4)));

static int _hfail(fp_error_t *err, const fp_trace_reader_t *r, const char *fmt,
		  ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return fp_error_set(err, FP_EPARSE, "%s: line 1: %s", r->name, msg);
}

static bool _json_uint(const json_t *v, uint64_t *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return false;
	*out = (uint64_t)json_integer_value(v);
	return true;
}

static int _header_packages(fp_trace_reader_t *r, json_t *root, fp_error_t *err)
{
	fp_node_desc_t *desc = r->desc;
	json_t *pk = json_object_get(root, "packages"), *v;
	size_t i, cpus = desc->cpus;
	bool *seen;

	if (!json_is_array(pk))
		return _hfail(err, r, "header: packages must be an array");
	desc->packages =
		calloc(json_array_size(pk) + 1, sizeof(*desc->packages));
	seen = calloc(cpus, sizeof(*seen));
	if (!desc->packages || !seen) {
		free(seen);
		return fp_error_set(err, FP_ENOMEM, "out of memory");
	}
	json_array_foreach(pk, i, v)
	{
		fp_package_t *p = &desc->packages[i];
		json_t *c = json_object_get(v, "cpus"), *x;
		uint64_t id, cpu;
		size_t k;

		if (!_json_uint(json_object_get(v, "id"), &id) ||
		    id > 1 << 20 || !json_is_array(c)) {
			free(seen);
			return _hfail(err, r,
				      "header: packages[%zu] needs "
				      "an id and a cpus array",
				      i);
		}
		p->id = (int)id;
		if (fp_sample_node_desc_package(desc, p->id) >= 0) {
			free(seen);
			return _hfail(err, r,
				      "header: package %d listed "
				      "twice",
				      p->id);
		}
		p->cpus = calloc(json_array_size(c) + 1, sizeof(int));
		if (!p->cpus) {
			free(seen);
			return fp_error_set(err, FP_ENOMEM, "out of memory");
		}
		desc->npackages++;
		json_array_foreach(c, k, x)
		{
			if (!_json_uint(x, &cpu) || cpu >= cpus || seen[cpu]) {
				free(seen);
				return _hfail(err, r,
					      "header: package %d: "
					      "cpus[%zu] is out of range or in "
					      "another package",
					      p->id, k);
			}
			seen[cpu] = true;
			p->cpus[p->ncpus++] = (int)cpu;
		}
	}
	free(seen);
	return 0;
}

static int _header_domains(fp_trace_reader_t *r, json_t *root, fp_error_t *err)
{
	fp_node_desc_t *desc = r->desc;
	json_t *dm = json_object_get(root, "domains"), *v;
	json_t *idle = json_object_get(root, "idle_w");
	const char *key;
	size_t i;

	if (!json_is_array(dm))
		return _hfail(err, r, "header: domains must be an array");
	desc->domains = calloc(json_array_size(dm) + 1, sizeof(*desc->domains));
	if (!desc->domains)
		return fp_error_set(err, FP_ENOMEM, "out of memory");
	json_array_foreach(dm, i, v)
	{
		fp_domain_t *d = &desc->domains[i];
		const char *name =
			json_string_value(json_object_get(v, "name"));
		const char *kind =
			json_string_value(json_object_get(v, "kind"));
		json_t *pkg = json_object_get(v, "package");
		uint64_t pid;

		if (!name || !*name || !kind)
			return _hfail(err, r,
				      "header: domains[%zu] needs a "
				      "name and a kind",
				      i);
		if (fp_sample_node_desc_domain(desc, name) >= 0)
			return _hfail(err, r, "header: domain %s listed twice",
				      name);
		d->name = strdup(name);
		if (!d->name)
			return fp_error_set(err, FP_ENOMEM, "out of memory");
		desc->ndomains++;
		d->idle_w = -1;
		d->package = -1;
		if (!strcmp(kind, "package"))
			d->kind = FP_DOMAIN_PACKAGE;
		else if (!strcmp(kind, "dram"))
			d->kind = FP_DOMAIN_DRAM;
		else if (!strcmp(kind, "psys"))
			d->kind = FP_DOMAIN_PSYS;
		else
			return _hfail(err, r,
				      "header: domain %s: unknown "
				      "kind \"%s\"",
				      name, kind);
		if (d->kind != FP_DOMAIN_PSYS) {
			if (!_json_uint(pkg, &pid) || pid > 1 << 20 ||
			    fp_sample_node_desc_package(desc, (int)pid) < 0)
				return _hfail(err, r,
					      "header: domain %s: "
					      "package missing or unknown",
					      name);
			d->package = (int)pid;
		}
		if (!_json_uint(json_object_get(v, "max_energy_range_uj"),
				&d->max_energy_range_uj) ||
		    !d->max_energy_range_uj)
			return _hfail(err, r,
				      "header: domain %s: "
				      "max_energy_range_uj missing or not a "
				      "positive integer",
				      name);
	}
	if (idle && !json_is_null(idle)) {
		if (!json_is_object(idle))
			return _hfail(err, r,
				      "header: idle_w must be an "
				      "object");
		json_object_foreach(idle, key, v)
		{
			int d = fp_sample_node_desc_domain(desc, key);

			if (d < 0)
				return _hfail(err, r,
					      "header: idle_w: unknown "
					      "domain \"%s\"",
					      key);
			if (json_is_null(v))
				continue;
			if (!json_is_number(v) || json_number_value(v) < 0)
				return _hfail(err, r,
					      "header: idle_w: %s must "
					      "be a number >= 0",
					      key);
			desc->domains[d].idle_w = json_number_value(v);
		}
	}
	return 0;
}

/* "gpus": [{"index", "uuid", "vendor", "max_energy_uj", "idle_w"}]; index
 * is the position in every per-GPU array, so each of 0..n-1 once. */
static int _header_gpus(fp_trace_reader_t *r, json_t *root, fp_error_t *err)
{
	fp_node_desc_t *desc = r->desc;
	json_t *gp = json_object_get(root, "gpus"), *v;
	size_t i, n;

	if (!gp || json_is_null(gp))
		return 0;
	if (!json_is_array(gp))
		return _hfail(err, r, "header: gpus must be an array");
	n = json_array_size(gp);
	if (n > 1 << 16)
		return _hfail(err, r, "header: %zu gpus, more than %d", n,
			      1 << 16);
	desc->gpus = calloc(n + 1, sizeof(*desc->gpus));
	if (!desc->gpus)
		return fp_error_set(err, FP_ENOMEM, "out of memory");
	desc->ngpus = n;
	for (i = 0; i < n; i++)
		desc->gpus[i].idle_w = -1;
	json_array_foreach(gp, i, v)
	{
		const char *uuid =
			json_string_value(json_object_get(v, "uuid"));
		const char *vendor =
			json_string_value(json_object_get(v, "vendor"));
		json_t *max = json_object_get(v, "max_energy_uj");
		json_t *idle = json_object_get(v, "idle_w");
		const char *src =
			json_string_value(json_object_get(v, "source"));
		uint64_t idx;
		fp_node_gpu_t *g;

		if (!_json_uint(json_object_get(v, "index"), &idx) || idx >= n)
			return _hfail(err, r,
				      "header: gpus[%zu]: index must "
				      "be 0..%zu",
				      i, n - 1);
		g = &desc->gpus[idx];
		if (g->uuid)
			return _hfail(err, r,
				      "header: gpus: index %zu listed "
				      "twice",
				      (size_t)idx);
		if (!uuid || !*uuid)
			return _hfail(err, r, "header: gpu %zu: uuid missing",
				      (size_t)idx);
		if (!vendor ||
		    (strcmp(vendor, "nvidia") && strcmp(vendor, "amd") &&
		     strcmp(vendor, "intel")))
			return _hfail(err, r,
				      "header: gpu %zu: vendor must "
				      "be nvidia, amd or intel",
				      (size_t)idx);
		g->uuid = strdup(uuid);
		g->vendor = strdup(vendor);
		if (!g->uuid || !g->vendor)
			return fp_error_set(err, FP_ENOMEM, "out of memory");
		if (max && !json_is_null(max) &&
		    (!_json_uint(max, &g->max_energy_uj) || !g->max_energy_uj))
			return _hfail(err, r,
				      "header: gpu %zu: max_energy_uj "
				      "must be null or a positive integer",
				      (size_t)idx);
		if (idle && !json_is_null(idle)) {
			if (!json_is_number(idle) ||
			    !(json_number_value(idle) >= 0) ||
			    !isfinite(json_number_value(idle)))
				return _hfail(err, r,
					      "header: gpu %zu: idle_w "
					      "must be a number >= 0",
					      (size_t)idx);
			g->idle_w = json_number_value(idle);
		}
		g->power_integral = src && !strcmp(src, "power-integral");
	}
	return 0;
}

int fp_trace_header_parse(fp_trace_reader_t *r, size_t len, fp_error_t *err)
{
	json_error_t jerr;
	json_t *root, *v;
	const char *act;
	uint64_t cpus;
	int rc = -1;

	root = json_loadb(r->line, len, 0, &jerr);
	if (!root)
		return _hfail(err, r, "bad JSON: %s at column %d", jerr.text,
			      jerr.column);
	if (!json_is_object(root)) {
		_hfail(err, r, "missing header: line 1 is not an object");
		goto out;
	}
	v = json_object_get(root, "footprint_trace");
	if (!v) {
		_hfail(err, r, "missing header: no footprint_trace field%s",
		       json_object_get(root, "t") ? " (line 1 is a sample)"
						  : "");
		goto out;
	}
	if (!json_is_integer(v) || json_integer_value(v) != 1) {
		_hfail(err, r,
		       "unsupported trace version (footprint_trace "
		       "must be 1)");
		goto out;
	}
	v = json_object_get(root, "node");
	if (v && !json_is_string(v)) {
		_hfail(err, r, "header: node must be a string");
		goto out;
	}
	r->desc->node = strdup(v ? json_string_value(v) : "");
	if (!r->desc->node) {
		fp_error_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	if (!_json_uint(json_object_get(root, "cpus"), &cpus) || !cpus ||
	    cpus > 1 << 20) {
		_hfail(err, r, "header: cpus must be a positive integer");
		goto out;
	}
	r->desc->cpus = (size_t)cpus;
	act = json_string_value(json_object_get(root, "activity"));
	if (act && strcmp(act, "ns") && strcmp(act, "cycles")) {
		_hfail(err, r,
		       "header: activity must be \"ns\" or "
		       "\"cycles\"");
		goto out;
	}
	r->desc->activity_cycles = act && !strcmp(act, "cycles");
	v = json_object_get(root, "compact");
	if (v) {
		uint64_t k;

		if (!_json_uint(v, &k) || !k || k > FP_TRACE_KEYFRAME_MAX) {
			_hfail(err, r,
			       "header: compact (the keyframe "
			       "interval) must be an integer from 1 to %u",
			       FP_TRACE_KEYFRAME_MAX);
			goto out;
		}
		r->compact = (unsigned)k;
		r->moves = malloc(2 * r->desc->cpus * sizeof(*r->moves));
		if (!r->moves) {
			fp_error_set(err, FP_ENOMEM, "out of memory");
			goto out;
		}
	}
	if (_header_packages(r, root, err) || _header_domains(r, root, err) ||
	    _header_gpus(r, root, err))
		goto out;
	rc = 0;
out:
	json_decref(root);
	return rc;
}
