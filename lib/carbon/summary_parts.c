/* A job's step records: gathered from the nodes' folder, the job's energy
 * source judged from them, and their text for sfootprint and the mail. */
#include "footprint/summary.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "footprint/json.h"

#include "summary_build.h"

/* Record p's node measured its step mostly from its meter's calibration:
 * at least half its energy. */
static bool _mostly_calibrated(const json_t *p)
{
	const json_t *src = json_object_get(p, "sources");
	double all = 0, cal = fp_json_number(src, "calibrated");
	const char *k;
	json_t *v;

	json_object_foreach((json_t *)src, k, v)
		all += json_is_number(v) ? json_number_value(v) : 0;
	return isfinite(cal) && all > 0 && cal >= all / 2;
}

fp_energy_source_t fp_summary_parts_record_source(const json_t *p)
{
	if (json_is_true(json_object_get(p, "simulated")))
		return FP_ENERGY_SIMULATED;
	return _mostly_calibrated(p) ? FP_ENERGY_CALIBRATED
				     : FP_ENERGY_MEASURED;
}

/* Appends "step on node" to the list of absent records, as long as it
 * fits (the count says how many there are in all). */
static void _note_absent(fp_summary_parts_t *g, const char *step,
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
					_note_absent(g, st->id,
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
		s = fp_summary_parts_record_source(parts[i]);
		if (s == FP_ENERGY_SIMULATED ||
		    (s == FP_ENERGY_CALIBRATED && job == FP_ENERGY_MEASURED))
			job = s;
	}
	r->energy_source = job;
	r->energy_source_nodes = true;
	return 0;
}

/* A figure for people: three significant digits, "-" when unknown. */
static const char *_fig3(char *buf, size_t size, double x)
{
	if (!isfinite(x))
		snprintf(buf, size, "-");
	else if (fabs(x) >= 100)
		snprintf(buf, size, "%.0f", x);
	else
		snprintf(buf, size, "%.3g", x);
	return buf;
}

static void _put_part(FILE *f, const char *name, double wh, double total,
		      const char *why)
{
	char a[32], b[32];

	fprintf(f, "  %s: %s Wh", name, _fig3(a, sizeof(a), wh));
	if (isfinite(wh) && total > 0)
		fprintf(f, " (%s %%)", _fig3(b, sizeof(b), 100 * wh / total));
	fprintf(f, "%s\n", why);
}

static const char *_str_or(const json_t *o, const char *k, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s && *s ? s : dflt;
}

static void _put_gpu(FILE *f, const json_t *g)
{
	const json_t *steps = json_object_get(g, "steps"), *idle;
	char a[32], b[32], c[32], d[32];
	double share;
	bool timed;
	size_t i;
	json_t *v;

	fprintf(f, "  %s GPU %lld: %s (%s, %s, %s)", _str_or(g, "node", "?"),
		(long long)json_integer_value(json_object_get(g, "index")),
		_str_or(g, "model", "unnamed"), _str_or(g, "uuid", "no uuid"),
		_str_or(g, "vendor", "?"), _str_or(g, "source", "?"));
	fprintf(f, ": %s Wh%s over %s s held, mean %s W; steps",
		_fig3(a, sizeof(a), fp_json_number(g, "energy_Wh")),
		!strcmp(_str_or(g, "energy_split", "even"), "even")
			? " (the steps' GPU energy shared evenly)"
			: "",
		_fig3(b, sizeof(b), fp_json_number(g, "held_s")),
		_fig3(c, sizeof(c), fp_json_number(g, "mean_W")));
	json_array_foreach(steps, i, v)
		fprintf(f, "%s %s", i ? "," : "", json_string_value(v));
	fputc('\n', f);
	idle = json_object_get(g, "idle");
	_fig3(a, sizeof(a), fp_json_number(g, "mean_W"));
	_fig3(b, sizeof(b), fp_json_number(g, "idle_below_W"));
	_fig3(c, sizeof(c), fp_json_number(g, "floor_W"));
	timed = !strcmp(_str_or(g, "idle_by", "mean"), "time");
	share = 100 * fp_json_number(g, "idle_share");
	if (json_is_true(idle) && timed) {
		fprintf(f,
			"    idle: held but not used for %s %% of the time "
			"it was held, its power within %s W (the lowest power "
			"the node saw it draw, %s W, x %.2f + %.0f W)",
			_fig3(a, sizeof(a), share), b, c, FP_GPU_IDLE_RATIO,
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
			_fig3(b, sizeof(b), fp_json_number(g, "energy_Wh")),
			_fig3(d, sizeof(d), fp_json_number(g, "operational_g")),
			_fig3(a, sizeof(a),
			      100 * fp_json_number(g, "footprint_share")));
	} else if (json_is_false(idle) && timed) {
		fprintf(f,
			"    used: idle (within %s W, floor %s W) for only "
			"%s %% of the time it was held\n",
			b, c, _fig3(a, sizeof(a), share));
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
			_fig3(a, sizeof(a), 100 * share));
}

/* How each node measured, where its records said it. */
static void _put_measured(FILE *f, const json_t *summary)
{
	const json_t *nodes = json_object_get(summary, "nodes"), *n, *m;
	const char *by = _str_or(json_object_get(summary, "energy"),
				 "source_by", "EnergySource");
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
		fprintf(f, "  %s: %s", _str_or(n, "name", "?"),
			_str_or(m, "source", "?"));
		meter = _str_or(m, "meter", "");
		if (*meter)
			fprintf(f, ", meter %s", meter);
		wh_o = json_object_get(m, "sources_Wh");
		json_object_foreach((json_t *)wh_o, k, v)
		{
			if (!(json_number_value(v) > 0))
				continue;
			fprintf(f, "%s%s %s Wh", first ? " (" : ", ", k,
				_fig3(a, sizeof(a), json_number_value(v)));
			first = false;
		}
		fprintf(f, "%s\n", first ? "" : ")");
	}
}

/* The GPUs the job held that their node could not read at all. */
static void _put_unknown(FILE *f, const json_t *summary, const char *lead)
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
		fprintf(f, "%s %s GPU %s", i ? "," : "",
			_str_or(x, "node", "?"), _str_or(x, "id", "?"));
	fputc('\n', f);
}

/* A summary's energy by part as text, put by put; NULL when the summary
 * has none (made without NodePartsDir=) or out of memory. */
static char *_render(const json_t *summary,
		     void (*put)(FILE *f, const json_t *summary,
				 const json_t *parts))
{
	const json_t *p = json_object_get(summary, "energy_parts");
	char *out = NULL;
	size_t len = 0;
	FILE *f;

	if (!json_is_object(p) || !(f = open_memstream(&out, &len)))
		return NULL;
	put(f, summary, p);
	if (fclose(f)) {
		free(out);
		return NULL;
	}
	return out;
}

/* sfootprint -j's lines: a part a line, and the GPUs held. */
static void _put_text(FILE *f, const json_t *summary, const json_t *p)
{
	const json_t *gpus = json_object_get(summary, "gpus");
	double total;
	char a[32];
	size_t i;
	json_t *g;

	total = fp_json_number(p, "energy_Wh");
	fprintf(f,
		"Energy by part: %s Wh measured on the nodes (%lld of "
		"%lld step records)\n",
		_fig3(a, sizeof(a), total),
		(long long)json_integer_value(json_object_get(p, "records")),
		(long long)json_integer_value(json_object_get(p, "expected")));
	if (isfinite(fp_json_number(p, "cpu_Wh")) &&
	    isfinite(fp_json_number(p, "dram_Wh"))) {
		_put_part(f, "CPU packages", fp_json_number(p, "cpu_Wh"), total,
			  " (RAPL)");
		_put_part(f, "DRAM", fp_json_number(p, "dram_Wh"), total,
			  " (RAPL)");
	} else {
		/* summaries, or records, from before the split */
		_put_part(f, "CPU packages + DRAM",
			  fp_json_number(p, "cpu_dram_Wh"), total,
			  " (RAPL; not split in these records)");
	}
	_put_part(f, "GPU", fp_json_number(p, "gpu_Wh"), total, "");
	_put_part(f, "Rest of the node", fp_json_number(p, "rest_Wh"), total,
		  " (its meter beyond RAPL and GPUs)");
	_put_measured(f, summary);
	if (!json_array_size(gpus))
		fprintf(f, "GPUs held: none\n");
	else
		fprintf(f, "GPUs held:\n");
	json_array_foreach(gpus, i, g) _put_gpu(f, g);
	_put_unknown(f, summary, "");
}

/* The job-end mail's: the parts on one line, a GPU a line. */
static void _put_mail(FILE *f, const json_t *summary, const json_t *p)
{
	const json_t *gpus = json_object_get(summary, "gpus"), *g;
	double cpu, dram;
	char a[32], b[32], c[32], d[32];
	size_t i;

	cpu = fp_json_number(p, "cpu_Wh");
	dram = fp_json_number(p, "dram_Wh");
	if (isfinite(cpu) && isfinite(dram))
		fprintf(f, "  by part:    CPU packages %s Wh, DRAM %s Wh",
			_fig3(a, sizeof(a), cpu), _fig3(b, sizeof(b), dram));
	else
		fprintf(f, "  by part:    CPU packages + DRAM %s Wh",
			_fig3(a, sizeof(a), fp_json_number(p, "cpu_dram_Wh")));
	fprintf(f,
		", GPU %s Wh, rest of the node %s Wh (%lld of %lld step "
		"records)\n",
		_fig3(a, sizeof(a), fp_json_number(p, "gpu_Wh")),
		_fig3(b, sizeof(b), fp_json_number(p, "rest_Wh")),
		(long long)json_integer_value(json_object_get(p, "records")),
		(long long)json_integer_value(json_object_get(p, "expected")));
	json_array_foreach(gpus, i, g)
	{
		fprintf(f, "  GPU:        %s GPU %lld (%s): %s Wh",
			_str_or(g, "node", "?"),
			(long long)json_integer_value(
				json_object_get(g, "index")),
			_str_or(g, "model", "unnamed"),
			_fig3(a, sizeof(a), fp_json_number(g, "energy_Wh")));
		if (json_is_true(json_object_get(g, "idle")) &&
		    !strcmp(_str_or(g, "idle_by", "mean"), "time"))
			fprintf(f,
				", held but idle %s %% of the time: it "
				"cost %s gCO2e, %s %% of the footprint",
				_fig3(b, sizeof(b),
				      100 * fp_json_number(g, "idle_share")),
				_fig3(c, sizeof(c),
				      fp_json_number(g, "operational_g")),
				_fig3(d, sizeof(d),
				      100 * fp_json_number(g,
							   "footprint_share")));
		else if (json_is_true(json_object_get(g, "idle")))
			fprintf(f,
				", held but idle (mean %s W): it cost %s "
				"gCO2e, %s %% of the footprint",
				_fig3(b, sizeof(b),
				      fp_json_number(g, "mean_W")),
				_fig3(c, sizeof(c),
				      fp_json_number(g, "operational_g")),
				_fig3(d, sizeof(d),
				      100 * fp_json_number(g,
							   "footprint_share")));
		fputc('\n', f);
	}
	_put_unknown(f, summary, "  ");
}

char *fp_summary_parts_text(const json_t *summary)
{
	return _render(summary, _put_text);
}

char *fp_summary_parts_mail(const json_t *summary)
{
	return _render(summary, _put_mail);
}
