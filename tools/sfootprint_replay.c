/* sfootprint replay: recomputes node, job and step energy from a node trace
 * with the reference attribution, as a table or as the spec's JSON. */
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "footprint/engine.h"
#include "sfootprint.h"
#include "footprint/trace.h"

static void _usage(FILE *out)
{
	fprintf(out, "usage: sfootprint replay TRACE... [--json] "
		     "[--plain-out FILE | --zstd-out FILE] [--compact]\n"
		     "  TRACE  a node trace (trace v1, plain or zstd, whole "
		     "or compact), or -\n"
		     "         for stdin; several files (one node's rotated "
		     "traces, in order)\n"
		     "         replay as one\n"
		     "  --plain-out FILE, --zstd-out FILE  also write the "
		     "samples replayed\n"
		     "         as one trace in that form (converts one form "
		     "to the other)\n"
		     "  --compact  that trace in the compact form (moved "
		     "counters only); without\n"
		     "         it every sample is written whole\n");
}

static int _cmp_steps(const void *x, const void *y)
{
	const fp_engine_step_t *a = x, *b = y;

	if (a->job != b->job)
		return a->job < b->job ? -1 : 1;
	return strcmp(a->id, b->id);
}

static int _cmp_jobs(const void *x, const void *y)
{
	const fp_job_result_t *a = x, *b = y;

	return a->job < b->job ? -1 : a->job > b->job;
}

static json_t *_node_json(const fp_engine_t *e, const fp_engine_node_t *n)
{
	const fp_node_desc_t *desc = fp_engine_desc(e);
	json_t *src = json_object(), *idle = json_object(), *cal, *node;

	for (int k = 0; k < FP_SOURCE_COUNT; k++)
		json_object_set_new(src, fp_source_name((fp_source_t)k),
				    json_real(n->source_s[k]));
	for (size_t d = 0; d < desc->ndomains; d++)
		if (desc->domains[d].kind != FP_DOMAIN_PSYS)
			json_object_set_new(
				idle, desc->domains[d].name,
				json_real(fp_engine_idle_w(e, d, NULL)));
	cal = json_pack("{s:o, s:o, s:I, s:b}", "a",
			n->calibration.fitted ? json_real(n->calibration.a)
					      : json_null(),
			"b_w",
			n->calibration.fitted ? json_real(n->calibration.b_w)
					      : json_null(),
			"intervals", (json_int_t)n->calibration.intervals,
			"active", n->calibration.active);
	node = json_pack("{s:s, s:f, s:f, s:o, s:f, s:f, s:f, s:f, s:b, s:o, "
			 "s:o}",
			 "name", desc->node ? desc->node : "", "seconds",
			 n->seconds, "energy_j", n->energy_j, "source", src,
			 "rapl_j", n->rapl_j, "residual_j", n->residual_j,
			 "idle_j", n->idle_j, "system_j", n->system_j,
			 "idle_w_estimated", n->idle_w_estimated, "calibration",
			 cal, "idle_w", idle);
	/* GPU keys only for a trace with GPUs (trace v1's accelerators) */
	if (desc->ngpus) {
		json_t *gpus = json_array();

		json_object_set_new(node, "gpu_j", json_real(n->gpu_j));
		json_object_set_new(node, "gpu_idle_j",
				    json_real(n->gpu_idle_j));
		for (size_t g = 0; g < desc->ngpus; g++)
			json_array_append_new(
				gpus, json_pack("{s:I, s:s, s:s, s:s}", "index",
						(json_int_t)g, "uuid",
						desc->gpus[g].uuid, "vendor",
						desc->gpus[g].vendor, "source",
						desc->gpus[g].power_integral
							? "power-integral"
							: "counter"));
		json_object_set_new(node, "gpus", gpus);
	}
	return node;
}

static char *_json(const fp_engine_t *e, const fp_engine_node_t *n,
		   const fp_job_result_t *jobs, size_t njobs,
		   const fp_engine_step_t *steps, size_t nsteps)
{
	json_t *root = json_object(), *js = json_object(), *ss = json_object();
	bool gpus = fp_engine_desc(e)->ngpus > 0;
	char *out, key[32];

	for (size_t i = 0; i < njobs; i++) {
		json_t *j = json_pack("{s:f, s:f}", "energy_j",
				      jobs[i].energy_j, "seconds",
				      jobs[i].seconds);

		if (gpus)
			json_object_set_new(j, "gpu_j",
					    json_real(jobs[i].gpu_j));
		snprintf(key, sizeof(key), "%" PRIu64, jobs[i].job);
		json_object_set_new(js, key, j);
	}
	for (size_t i = 0; i < nsteps; i++) {
		json_t *st = json_pack("{s:I, s:f, s:f, s:f, s:f, s:f}", "job",
				       (json_int_t)steps[i].job, "energy_j",
				       steps[i].energy_j, "dynamic_j",
				       steps[i].dynamic_j, "static_j",
				       steps[i].static_j, "residual_j",
				       steps[i].residual_j, "seconds",
				       steps[i].seconds);

		if (gpus)
			json_object_set_new(st, "gpu_j",
					    json_real(steps[i].gpu_j));
		json_object_set_new(ss, steps[i].id, st);
	}
	json_object_set_new(root, "node", _node_json(e, n));
	json_object_set_new(root, "jobs", js);
	json_object_set_new(root, "steps", ss);
	out = json_dumps(root, JSON_INDENT(2) | JSON_REAL_PRECISION(15));
	json_decref(root);
	return out;
}

static void _table(FILE *out, const fp_engine_t *e, const fp_engine_node_t *n,
		   const fp_job_result_t *jobs, size_t njobs,
		   const fp_engine_step_t *steps, size_t nsteps)
{
	const fp_node_desc_t *desc = fp_engine_desc(e);
	const char *sep = " (";
	bool gpus = desc->ngpus > 0;

	fprintf(out, "node %s: %.1f s, %.1f J", desc->node, n->seconds,
		n->energy_j);
	for (int k = 0; k < FP_SOURCE_COUNT; k++) {
		if (n->source_s[k] <= 0)
			continue;
		fprintf(out, "%s%s %.1f s", sep, fp_source_name((fp_source_t)k),
			n->source_s[k]);
		sep = ", ";
	}
	fprintf(out,
		"%s\n  rapl %.1f J, residual %.1f J, idle %.1f J, "
		"system %.1f J\n",
		*sep == ',' ? ")" : "", n->rapl_j, n->residual_j, n->idle_j,
		n->system_j);
	if (gpus) {
		fprintf(out,
			"  gpu %.1f J (%zu GPUs), held by no step %.1f J\n",
			n->gpu_j, desc->ngpus, n->gpu_idle_j);
		for (size_t g = 0; g < desc->ngpus; g++)
			fprintf(out, "    gpu %zu: %s %s%s\n", g,
				desc->gpus[g].vendor, desc->gpus[g].uuid,
				desc->gpus[g].power_integral
					? " (energy integrated from power)"
					: "");
	}
	fprintf(out, "  idle power %s:",
		n->idle_w_estimated ? "estimated from activity"
				    : "from the trace header");
	for (size_t d = 0; d < desc->ndomains; d++)
		if (desc->domains[d].kind != FP_DOMAIN_PSYS)
			fprintf(out, " %s %.2f W", desc->domains[d].name,
				fp_engine_idle_w(e, d, NULL));
	fprintf(out, "\n");
	if (n->calibration.fitted)
		fprintf(out,
			"  calibration: wall = %.4f x rapl + %.2f W over "
			"%" PRIu64 " intervals%s\n",
			n->calibration.a, n->calibration.b_w,
			n->calibration.intervals,
			n->calibration.active ? "" : " (not used yet)");

	fprintf(out, "\n%-12s %14s %10s%s\n", "JOB", "ENERGY_J", "SECONDS",
		gpus ? "          GPU_J" : "");
	for (size_t i = 0; i < njobs; i++) {
		fprintf(out, "%-12" PRIu64 " %14.1f %10.1f", jobs[i].job,
			jobs[i].energy_j, jobs[i].seconds);
		if (gpus)
			fprintf(out, " %14.1f", jobs[i].gpu_j);
		fprintf(out, "\n");
	}
	fprintf(out, "\n%-20s %-10s %14s %12s %12s %12s %10s%s\n", "STEP",
		"JOB", "ENERGY_J", "DYNAMIC_J", "STATIC_J", "RESIDUAL_J",
		"SECONDS", gpus ? "        GPU_J" : "");
	for (size_t i = 0; i < nsteps; i++) {
		fprintf(out,
			"%-20s %-10" PRIu64 " %14.1f %12.1f %12.1f %12.1f "
			"%10.1f",
			steps[i].id, steps[i].job, steps[i].energy_j,
			steps[i].dynamic_j, steps[i].static_j,
			steps[i].residual_j, steps[i].seconds);
		if (gpus)
			fprintf(out, " %12.1f", steps[i].gpu_j);
		fprintf(out, "\n");
	}
}

/* Reads the trace, its files in order; *engine is left for the caller to
 * print from. A file's damaged end (skipped by the reader) is appended to
 * warn, which is said only when the whole replay succeeds: a failure stays
 * one line. */
struct out {
	const char *path; /* NULL: no copy written */
	fp_trace_form_t form;
	unsigned keyframe; /* the compact form's; 0: samples whole */
};

static int _run(char **paths, int npaths, const struct out *out,
		fp_engine_t **engine, FILE *warn, fp_error_t *err)
{
	fp_trace_reader_t *r = fp_trace_reader_open(paths[0], err);
	fp_trace_writer_t *w = NULL;
	const fp_sample_t *s;
	fp_engine_t *e;
	int rc = 0;

	if (!r)
		return -1;
	e = fp_engine_new(fp_trace_reader_desc(r), NULL, err);
	if (!e) {
		fp_trace_reader_free(r);
		return -1;
	}
	if (out->path) {
		fp_error_t werr;

		w = fp_trace_writer_open_compact(out->path,
						 fp_trace_reader_desc(r),
						 out->form, out->keyframe,
						 &werr);
		if (!w) {
			fp_error_set(err, werr.code, "%s: %s", out->path,
				     werr.msg);
			fp_trace_reader_free(r);
			fp_engine_free(e);
			return -1;
		}
	}
	for (int i = 0; i < npaths && rc == 0; i++) {
		if (i && fp_trace_reader_continue(r, paths[i], err)) {
			rc = -1;
			break;
		}
		while ((rc = fp_trace_reader_next(r, &s, err)) > 0) {
			fp_error_t perr;

			if (fp_engine_push(e, s, &perr)) {
				rc = fp_error_set(err, perr.code,
						  "%s: line %zu: %s",
						  fp_trace_reader_name(r),
						  fp_trace_reader_line(r),
						  perr.msg);
				break;
			}
			if (w && fp_trace_writer_write(w, s, &perr)) {
				rc = fp_error_set(err, perr.code, "%s: %s",
						  out->path, perr.msg);
				break;
			}
		}
		if (rc == 0 && fp_trace_reader_warning(r))
			fprintf(warn, "sfootprint replay: warning: %s\n",
				fp_trace_reader_warning(r));
	}
	fp_trace_reader_free(r);
	if (w) {
		fp_error_t werr;

		if (fp_trace_writer_close(w, &werr) && rc == 0)
			rc = fp_error_set(err, werr.code, "%s: %s", out->path,
					  werr.msg);
	}
	if (rc < 0 || fp_engine_check_conservation(e, err)) {
		fp_engine_free(e);
		return -1;
	}
	*engine = e;
	return 0;
}

int fpt_cmd_replay(int argc, char **argv)
{
	char **paths = NULL, *warnings = NULL;
	size_t nwarnings = 0;
	FILE *warn;
	int npaths = 0;
	bool json = false;
	struct out out = { NULL, FP_TRACE_PLAIN, 0 };
	fp_engine_t *e = NULL;
	fp_error_t err = { 0 };
	fp_engine_node_t node;
	fp_job_result_t *jobs;
	fp_engine_step_t *steps;
	size_t njobs, nsteps;
	int rc = FP_EXIT_OK;

	paths = calloc((size_t)argc + 1, sizeof(*paths));
	if (!paths) {
		fprintf(stderr, "sfootprint replay: out of memory\n");
		return FP_EXIT_FAIL;
	}
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--compact")) {
			out.keyframe = FP_TRACE_KEYFRAME;
		} else if ((!strcmp(argv[i], "--plain-out") ||
			    !strcmp(argv[i], "--zstd-out")) &&
			   !out.path && i + 1 < argc &&
			   strcmp(argv[i + 1], "-")) {
			out.form = strcmp(argv[i], "--zstd-out")
					   ? FP_TRACE_PLAIN
					   : FP_TRACE_ZSTD;
			out.path = argv[++i];
		} else if (!strcmp(argv[i], "--plain-out") ||
			   !strcmp(argv[i], "--zstd-out")) {
			fprintf(stderr,
				"sfootprint replay: %s takes a file "
				"(not -: standard output has the replay), "
				"once\n",
				argv[i]);
			_usage(stderr);
			free(paths);
			return FP_EXIT_USAGE;
		} else if (!strcmp(argv[i], "-h") ||
			   !strcmp(argv[i], "--help")) {
			_usage(stdout);
			free(paths);
			return FP_EXIT_OK;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr,
				"sfootprint replay: unknown option "
				"'%s'\n",
				argv[i]);
			_usage(stderr);
			free(paths);
			return FP_EXIT_USAGE;
		} else {
			paths[npaths++] = argv[i];
		}
	}
	if (!npaths || (out.keyframe && !out.path)) {
		if (npaths)
			fprintf(stderr, "sfootprint replay: --compact is the "
					"form of --plain-out's or --zstd-out's "
					"copy\n");
		_usage(stderr);
		free(paths);
		return FP_EXIT_USAGE;
	}
	warn = open_memstream(&warnings, &nwarnings);
	if (!warn) {
		fprintf(stderr, "sfootprint replay: out of memory\n");
		free(paths);
		return FP_EXIT_FAIL;
	}
	rc = _run(paths, npaths, &out, &e, warn, &err);
	free(paths);
	fclose(warn);
	if (rc) {
		fprintf(stderr, "sfootprint replay: %s\n", err.msg);
		free(warnings);
		return FP_EXIT_FAIL;
	}
	fputs(warnings, stderr);
	free(warnings);

	fp_engine_node(e, &node);
	njobs = fp_engine_njobs(e);
	nsteps = fp_engine_nsteps(e);
	jobs = calloc(njobs + 1, sizeof(*jobs));
	steps = calloc(nsteps + 1, sizeof(*steps));
	if (!jobs || !steps) {
		fprintf(stderr, "sfootprint replay: out of memory\n");
		rc = FP_EXIT_FAIL;
		goto out;
	}
	for (size_t i = 0; i < njobs; i++)
		fp_engine_job_at(e, i, &jobs[i]);
	for (size_t i = 0; i < nsteps; i++)
		fp_engine_step_at(e, i, &steps[i]);
	qsort(jobs, njobs, sizeof(*jobs), _cmp_jobs);
	qsort(steps, nsteps, sizeof(*steps), _cmp_steps);
	if (json) {
		char *text = _json(e, &node, jobs, njobs, steps, nsteps);

		if (!text) {
			fprintf(stderr, "sfootprint replay: out of memory\n");
			rc = FP_EXIT_FAIL;
			goto out;
		}
		printf("%s\n", text);
		free(text);
	} else {
		_table(stdout, e, &node, jobs, njobs, steps, nsteps);
	}
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "sfootprint replay: cannot write the output\n");
		rc = FP_EXIT_FAIL;
	}
out:
	free(jobs);
	free(steps);
	fp_engine_free(e);
	return rc;
}
