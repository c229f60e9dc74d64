/* What a poll writes out: the steps' values (the board, else one file each),
 * ended steps' records, the trace, and the metrics textfile. */
#include "poller_state.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "footprint/step.h"

/* Opens a new trace file when there is none, it passed its size, or the
 * day changed. A trace that cannot be written is logged once and left. */
void fp_poller_output_trace(fp_poller_t *p, double now)
{
	time_t t = (time_t)now;
	struct tm tm;
	char name[128];
	fp_error_t e = { 0 };

	if (!p->cfg.trace_dir || p->trace_failed)
		return;
	gmtime_r(&t, &tm);
	if (p->trace &&
	    (tm.tm_yday != p->trace_day ||
	     fp_trace_writer_bytes(p->trace) >= p->cfg.trace_max_bytes)) {
		fp_trace_writer_free(p->trace);
		p->trace = NULL;
	}
	if (!p->trace) {
		if (fp_poller_mkdirs(p->cfg.trace_dir, 0700)) {
			fp_poller_say(p, FP_LOG_ERROR,
				      "trace folder %s: %s; not tracing",
				      p->cfg.trace_dir, strerror(errno));
			p->trace_failed = true;
			return;
		}
		strftime(name, sizeof(name), "%Y%m%dT%H%M%SZ", &tm);
		free(p->trace_path);
		p->trace_path = fp_poller_dupf(
			"%s/%s-%s.jsonl%s", p->cfg.trace_dir, p->desc->node,
			name, p->cfg.trace_form == FP_TRACE_ZSTD ? ".zst" : "");
		p->trace = fp_trace_writer_open_compact(p->trace_path, p->desc,
							p->cfg.trace_form,
							p->cfg.trace_keyframe,
							&e);
		if (!p->trace) {
			fp_poller_say(p, FP_LOG_ERROR,
				      "trace %s: %s; not tracing",
				      p->trace_path, e.msg);
			p->trace_failed = true;
			return;
		}
		p->trace_day = tm.tm_yday;
	}
	if (fp_trace_writer_write(p->trace, p->sample, &e) ||
	    fp_trace_writer_flush(p->trace, &e)) {
		fp_poller_say(p, FP_LOG_ERROR, "trace %s: %s; not tracing",
			      p->trace_path, e.msg);
		p->trace_failed = true;
	}
}

/* The step's energy by part, once it has ended, for its job's summary. */
static void _publish_parts(fp_poller_t *p, const fp_engine_step_t *r)
{
	fp_step_parts_gpu_t g[FP_STEP_GPUS_MAX];
	const char *unknown[FP_STEP_GPUS_MAX];
	char ids[sizeof(((struct step_gpus *)0)->unknown)], *at, *save;
	const struct step_gpus *h = NULL;
	fp_step_parts_t parts = {
		.node = p->desc->node,
		.first_t = r->first_t,
		.last_t = r->last_t,
		.seconds = r->seconds,
		.energy_j = r->energy_j,
		.cpu_dram_j = r->dynamic_j + r->static_j,
		.gpu_j = r->gpu_j,
		.cpu_j = r->cpu_j,
		.dram_j = r->dram_j,
		.rest_j = r->residual_j,
		.gpus = g,
		.source_j = r->source_j,
		.simulated = p->simulated,
		.meter = p->reading.meter,
	};
	fp_error_t e = { 0 };

	for (size_t i = 0; i < p->nholds && !h; i++)
		if (!strcmp(p->holds[i].id, r->id))
			h = &p->holds[i];
	for (size_t k = 0; h && k < h->ngpus; k++) {
		size_t d = (size_t)h->gpus[k];
		const fp_gpu_info_t *info =
			fp_gpu_device(p->gpu, p->gpu_dev[d]);

		g[parts.ngpus++] = (fp_step_parts_gpu_t){
			.index = info ? info->index : d,
			.uuid = p->desc->gpus[d].uuid,
			.model = info ? info->name : "",
			.vendor = p->desc->gpus[d].vendor,
			.source = p->desc->gpus[d].power_integral
					  ? "power-integral"
					  : "counter",
			.floor_w = fp_gpu_floor_w(p->gpu_floor, d),
			.energy_j = r->gpu_dev_j && d < r->ngpus
					    ? r->gpu_dev_j[d]
					    : NAN,
			.idle_s = h->idle_s[k],
			.judged_s = h->judged_s[k],
			.unread_s = h->unread_s[k]
		};
	}
	snprintf(ids, sizeof(ids), "%s", h ? h->unknown : "");
	for (at = strtok_r(ids, ",", &save);
	     at && parts.nunknown < FP_STEP_GPUS_MAX;
	     at = strtok_r(NULL, ",", &save))
		unknown[parts.nunknown++] = at;
	parts.unknown = unknown;
	if (p->parts_dir &&
	    fp_step_parts_write(p->parts_dir, r->id, &parts, &e) &&
	    !p->publish_failed) {
		fp_poller_say(p, FP_LOG_ERROR, "%s", e.msg);
		p->publish_failed = true;
	}
}

void fp_poller_output_publish(fp_poller_t *p, const fp_engine_node_t *node)
{
	size_t n = fp_engine_nsteps(p->engine);
	fp_engine_step_t r;
	fp_step_value_t v;
	fp_error_t e = { 0 };
	int rc;

	memset(&v, 0, sizeof(v));
	v.t = p->last_t;
	snprintf(v.source, sizeof(v.source), "%s",
		 fp_source_name(node->source));
	v.simulated = p->simulated;
	for (size_t i = 0; i < n; i++) {
		fp_engine_step_at(p->engine, i, &r);
		/* An ended step keeps its final value published until the
		 * step daemon removes it or it is pruned. */
		if (!r.present && r.last_t < p->last_t) {
			if (r.last_t == p->prev_t) /* gone at this poll */
				_publish_parts(p, &r);
			continue;
		}
		v.energy_j = r.energy_j;
		v.power_w = r.power_w;
		rc = p->board ? fp_publish_board_put(p->board, r.id, &v, &e)
			      : 1;
		if (rc == 1 && !p->board_full && p->board) {
			fp_poller_say(p, FP_LOG_WARN,
				      "the step board holds %d steps: "
				      "more are published as files",
				      FP_BOARD_SLOTS);
			p->board_full = true;
		}
		if (rc == 1)
			rc = fp_publish_step(p->steps_dir, r.id, &v, &e);
		if (rc && !p->publish_failed) {
			fp_poller_say(p, FP_LOG_ERROR, "%s", e.msg);
			p->publish_failed = true;
		}
	}
	fp_publish_board_round(p->board);
}

/* A job's user and account, as its step daemon wrote them: read from the
 * file until found, then kept while the job runs (they do not change, and
 * a file read per job per poll was most of a poll with metrics on). */
static void _job_labels(fp_poller_t *p, uint64_t job, size_t hint,
			struct job_labels *out)
{
	const struct job_labels *old = NULL;

	if (hint < p->nlabels && p->labels[hint].job == job)
		old = &p->labels[hint];
	for (size_t k = 0; !old && k < p->nlabels; k++)
		if (p->labels[k].job == job)
			old = &p->labels[k];
	if (old && old->found) {
		*out = *old;
		return;
	}
	out->job = job;
	out->found = !fp_publish_read_job_labels(p->jobs_dir, job, out->user,
						 sizeof(out->user),
						 out->account,
						 sizeof(out->account), NULL);
}

/* Each GPU as this poll read it; power only across two valid reads (a
 * failed read or a reset leaves the interval unknown, not 0 W). */
static void _gpu_metrics(fp_poller_t *p, fp_metrics_gpu_t *out)
{
	if (!p->gpu_prev)
		p->gpu_prev = calloc(p->desc->ngpus, sizeof(*p->gpu_prev));
	for (size_t k = 0; k < p->desc->ngpus; k++) {
		size_t dev = p->gpu_dev[k];
		const fp_gpu_info_t *g = fp_gpu_device(p->gpu, dev);
		const fp_gpu_reading_t *r = &p->gpu_read[dev];
		struct gpu_prev *old = p->gpu_prev ? &p->gpu_prev[k] : NULL;

		out[k] = (fp_metrics_gpu_t){
			.index = k,
			.uuid = g->uuid,
			.pci = g->pci,
			.vendor = fp_gpu_vendor_name(g->vendor),
			.name = g->name,
			.source = fp_gpu_source_name(g->source),
			.energy_j = (double)r->energy_uj * 1e-6,
			.power_w = NAN,
			.up = r->valid,
			.fault = r->fault
		};
		if (!old)
			continue;
		if (old->valid && r->valid && p->last_t > old->t &&
		    r->energy_uj >= old->energy_uj)
			out[k].power_w =
				(double)(r->energy_uj - old->energy_uj) * 1e-6 /
				(p->last_t - old->t);
		*old = (struct gpu_prev){ r->energy_uj, r->valid, p->last_t };
	}
}

/* A job holds a GPU when one of its steps in this poll's sample does. */
static bool _job_holds_gpu(const fp_poller_t *p, uint64_t job)
{
	for (size_t i = 0; i < p->sample->nsteps; i++)
		if (p->sample->steps[i].job == job && p->sample->steps[i].ngpus)
			return true;
	return false;
}

void fp_poller_output_metrics(fp_poller_t *p, const fp_engine_node_t *node)
{
	static const char *names[FP_SOURCE_COUNT];
	size_t ns = fp_engine_nsteps(p->engine),
	       nj = fp_engine_njobs(p->engine);
	fp_metrics_entity_t *steps = calloc(ns + 1, sizeof(*steps));
	fp_metrics_entity_t *jobs = calloc(nj + 1, sizeof(*jobs));
	struct job_labels *labels = calloc(nj + 1, sizeof(*labels));
	fp_metrics_gpu_t *gpus = calloc(p->desc->ngpus + 1, sizeof(*gpus));
	size_t nsteps = 0, njobs = 0;
	fp_metrics_node_t m = { 0 };
	fp_error_t e = { 0 };

	if (!steps || !jobs || !labels || !gpus)
		goto out;
	p->metrics_t = p->last_t;
	p->metrics_written = true;
	for (int i = 0; i < FP_SOURCE_COUNT; i++)
		names[i] = fp_source_name((fp_source_t)i);
	for (size_t i = 0; i < nj; i++) {
		fp_job_result_t j;

		fp_engine_job_at(p->engine, i, &j);
		/* an ended job is kept by the engine ten minutes: its final
		 * values, which only MetricsJobs=all writes */
		if (!j.present && p->cfg.metrics_jobs != FP_METRICS_JOBS_ALL)
			continue;
		_job_labels(p, j.job, njobs, &labels[njobs]);
		jobs[njobs] = (fp_metrics_entity_t){
			.job = j.job,
			.user = labels[njobs].user,
			.account = labels[njobs].account,
			.power_w = j.power_w,
			.energy_j = j.energy_j,
			.gpu_energy_j = j.gpu_j,
			/* a job keeps its series while it runs */
			.gpus = p->desc->ngpus &&
				(j.gpu_j > 0 || _job_holds_gpu(p, j.job)),
			.ended = !j.present
		};
		njobs++;
	}
	/* what this poll knew is what the next one starts from */
	free(p->labels);
	p->labels = labels;
	p->nlabels = njobs;
	labels = NULL;
	for (size_t i = 0; i < ns; i++) {
		fp_engine_step_t r;
		const char *user = "", *account = "";

		fp_engine_step_at(p->engine, i, &r);
		if (!r.present && p->cfg.metrics_jobs != FP_METRICS_JOBS_ALL)
			continue;
		for (size_t k = 0; k < njobs; k++)
			if (jobs[k].job == r.job) {
				user = jobs[k].user;
				account = jobs[k].account;
			}
		steps[nsteps++] = (fp_metrics_entity_t){ .job = r.job,
							 .step = r.id,
							 .user = user,
							 .account = account,
							 .power_w = r.power_w,
							 .energy_j = r.energy_j,
							 .ended = !r.present };
	}
	m.node = p->desc->node;
	m.simulated = p->simulated;
	m.source = fp_source_name(node->source);
	m.power_w = node->power_w;
	m.energy_j = node->energy_j;
	m.source_names = names;
	m.source_energy_j = p->source_energy_j;
	m.nsources = FP_SOURCE_COUNT;
	m.rapl_j = node->rapl_j;
	m.idle_j = node->idle_j;
	m.system_j = node->system_j;
	m.calibration_active = node->calibration.active;
	m.calibration_a = node->calibration.a;
	m.calibration_b_w = node->calibration.b_w;
	m.calibration_intervals = node->calibration.intervals;
	m.sensor_configured = p->sensor != NULL;
	m.sensor_up = p->reading.valid;
	m.sensor_fault = fp_sensor_fault_str(p->reading.fault);
	m.sensor_age_s = p->reading.age_s;
	m.poll_seconds = p->poll_cpu_s;
	_gpu_metrics(p, gpus);
	m.gpus = gpus;
	m.ngpus = p->desc->ngpus;
	m.gpu_j = node->gpu_j;
	m.gpu_idle_j = node->gpu_idle_j;
	if (fp_metrics_put(p->metrics, &m, jobs, njobs, steps, nsteps, &e)) {
		if (!p->metrics_failed)
			fp_poller_say(p, FP_LOG_ERROR, "%s", e.msg);
		p->metrics_failed = true;
	} else {
		p->metrics_failed = false;
	}
out:
	free(steps);
	free(jobs);
	free(labels);
	free(gpus);
}
