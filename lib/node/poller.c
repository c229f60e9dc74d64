/* The node poller: reads every source once per poll, runs the attribution
 * engine and publishes step values, metrics and the trace (trace v1). */
#include "footprint/poller.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "footprint/step.h"
#include "footprint/topology.h"

#include "poller_state.h"

void fp_poller_say(fp_poller_t *p, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fp_error_vlog(p->log, p->log_ctx, level, fmt, ap);
	va_end(ap);
}

int fp_poller_mkdirs(const char *path, mode_t mode)
{
	char buf[4096];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *s = buf + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -1;
		*s = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -1;
	return 0;
}

char *fp_poller_dupf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

char *fp_poller_join(const char *a, const char *b)
{
	return fp_poller_dupf("%s/%s", a, b);
}

/* The folder of ended steps' records (PartsDir, "%n" this node's name),
 * 0750 in SlurmUser's group: footprint-worker reads them as SlurmUser, and
 * on a shared filesystem no one else need see them. One the node cannot
 * make is said once and its records are not written: the summaries then
 * count them missing; the node's energy is not affected. */
static void _parts_folder(fp_poller_t *p, const fp_poller_config_t *cfg,
			  const char *run)
{
	char dir[4096], *slash;
	struct stat st;

	if (!cfg->parts_dir) {
		p->parts_dir = fp_poller_join(run, "parts");
	} else if (fp_step_parts_dir(cfg->parts_dir, cfg->node, dir,
				     sizeof(dir)) == 0) {
		p->parts_dir = strdup(dir);
	} else {
		fp_poller_say(p, FP_LOG_ERROR,
			      "PartsDir=%s: too long for node %s; "
			      "step records are not written",
			      cfg->parts_dir, cfg->node ? cfg->node : "");
		return;
	}
	if (!p->parts_dir)
		return;
	snprintf(dir, sizeof(dir), "%s", p->parts_dir);
	slash = strrchr(dir, '/');
	if (slash && slash != dir)
		*slash = '\0';
	errno = 0;
	if ((slash && slash != dir && fp_poller_mkdirs(dir, 0755)) ||
	    (mkdir(p->parts_dir, 0750) && errno != EEXIST) ||
	    stat(p->parts_dir, &st) ||
	    (!S_ISDIR(st.st_mode) && (errno = ENOTDIR)) ||
	    (cfg->parts_gid != (gid_t)-1 && st.st_gid != cfg->parts_gid &&
	     chown(p->parts_dir, (uid_t)-1, cfg->parts_gid)) ||
	    ((st.st_mode & 07777) != 0750 && chmod(p->parts_dir, 0750))) {
		fp_poller_say(
			p, FP_LOG_ERROR,
			"step records folder %s (PartsDir): %s; "
			"step records are not written, summaries will count "
			"them missing",
			p->parts_dir, strerror(errno));
		free(p->parts_dir);
		p->parts_dir = NULL;
	}
}

/* A 26.05 job folder named by SLUID: its step daemon recorded the job. */
static int _job_of_sluid(void *ctx, const char *sluid, uint64_t *job)
{
	const fp_poller_t *p = ctx;
	unsigned long long j;
	fp_error_t e;

	if (!p->jobs_dir ||
	    fp_publish_read_job_sluid(p->jobs_dir, sluid, &j, &e))
		return -1;
	*job = j;
	return 0;
}

fp_poller_t *fp_poller_new(const fp_poller_config_t *cfg, fp_log_fn log,
			   void *log_ctx, fp_error_t *err)
{
	fp_poller_t *p = calloc(1, sizeof(*p));
	fp_activity_opts_t aopts = { 0 };
	fp_engine_opts_t eopts;
	fp_error_t e2 = { 0 };
	char *proc_stat = NULL, *v1a = NULL, *v1s = NULL, *v2 = NULL;
	char *powercap = NULL, *sensor = NULL, *topo = NULL;
	const char *run;

	fp_error_clear(err);
	if (!p) {
		fp_error_set(err, FP_ENOMEM, "poller: out of memory");
		return NULL;
	}
	p->log = log;
	p->log_ctx = log_ctx;
	p->cfg = *cfg;
	/* Own copies of the strings. */
	p->cfg.node = cfg->node ? strdup(cfg->node) : NULL;
	p->cfg.idle_w = cfg->idle_w ? strdup(cfg->idle_w) : NULL;
	p->cfg.metrics_path = cfg->metrics_path ? strdup(cfg->metrics_path)
						: NULL;
	p->cfg.trace_dir = cfg->trace_dir ? strdup(cfg->trace_dir) : NULL;
	p->cfg.powercap_root = p->cfg.proc_root = p->cfg.cgroup_root = NULL;
	p->cfg.topology_xml = p->cfg.sim_dir = p->cfg.sensor_path = NULL;
	p->cfg.run_dir = p->cfg.parts_dir = NULL;
	p->cfg.gpu_hwmon_root = p->cfg.nvml_lib = p->cfg.amdsmi_lib = NULL;

	if (cfg->sim_dir) {
		powercap = fp_poller_join(cfg->sim_dir, "powercap");
		sensor = fp_poller_join(cfg->sim_dir, "sensor.json");
		topo = fp_poller_join(cfg->sim_dir, "topology.xml");
	}
	if (cfg->powercap_root) {
		free(powercap);
		powercap = strdup(cfg->powercap_root);
	}
	if (cfg->sensor_path) {
		free(sensor);
		sensor = strdup(cfg->sensor_path);
	}
	if (cfg->topology_xml) {
		free(topo);
		topo = strdup(cfg->topology_xml);
	}

	p->topo = topo ? fp_topology_load_xml(topo, &e2)
		       : fp_topology_load(&e2);
	if (!p->topo) {
		fp_error_set(err, e2.code, "topology: %s", e2.msg);
		goto fail;
	}
	p->desc = fp_sample_node_desc_new();
	if (!p->desc) {
		fp_error_set(err, FP_ENOMEM, "topology: out of memory");
		goto fail;
	}
	if (fp_topology_fill_desc(p->topo, p->desc, &e2)) {
		fp_error_set(err, e2.code, "topology: %s", e2.msg);
		goto fail;
	}
	p->desc->node = strdup(cfg->node ? cfg->node : "localhost");

	p->rapl = fp_rapl_open(powercap ? powercap : FP_RAPL_DEFAULT_ROOT, log,
			       log_ctx, &e2);
	if (!p->rapl)
		fp_poller_say(p, FP_LOG_INFO, "no RAPL: %s", e2.msg);
	else if (fp_rapl_fill_desc(p->rapl, p->desc, &e2)) {
		fp_error_set(err, e2.code, "rapl: %s", e2.msg);
		goto fail;
	}
	if (p->rapl && fp_rapl_simulated(p->rapl))
		p->simulated = true;
	fp_poller_config_apply_idle(p);
	if (fp_poller_gpu_open(p, cfg, err))
		goto fail;

	if (sensor) {
		fp_sensor_config_t sc = { .path = sensor,
					  .max_age_s = cfg->sensor_max_age_s,
					  .ceiling_w = cfg->sensor_ceiling_w };

		p->sensor = fp_sensor_new(&sc, log, log_ctx, &e2);
		if (!p->sensor)
			fp_poller_say(p, FP_LOG_ERROR,
				      "wall sensor %s unusable: %s", sensor,
				      e2.msg);
	}
	if (!p->rapl && !p->sensor) {
		fp_error_set(
			err, FP_ENOTSUP,
			"no energy source: no RAPL under %s and no wall sensor "
			"configured",
			powercap ? powercap : FP_RAPL_DEFAULT_ROOT);
		goto fail;
	}

	proc_stat = fp_poller_join(cfg->proc_root ? cfg->proc_root : "/proc",
				   "stat");
	aopts.proc_stat = proc_stat;
	if (cfg->cgroup_root) {
		v1a = fp_poller_join(cfg->cgroup_root, "cpuacct");
		v1s = fp_poller_join(cfg->cgroup_root, "cpuset");
		v2 = fp_poller_join(cfg->cgroup_root, "unified");
		aopts.cpuacct_root = v1a;
		aopts.cpuset_root = v1s;
		aopts.unified_root = v2;
	}
	aopts.node = cfg->node;
	aopts.mode = cfg->activity;
	aopts.ncpus = p->desc->cpus;
	aopts.job_of = _job_of_sluid;
	aopts.job_of_ctx = p;
	aopts.log = log;
	aopts.log_ctx = log_ctx;
	p->activity = fp_activity_new(&aopts, &e2);
	if (!p->activity) {
		fp_error_set(err, e2.code, "activity: %s", e2.msg);
		goto fail;
	}
	if (fp_activity_source(p->activity) == FP_ACTIVITY_SRC_PERF_CYCLES)
		p->desc->activity_cycles = true;

	fp_engine_opts_default(&eopts);
	eopts.calibration = cfg->calibration;
	eopts.wall_check = true;
	p->engine = fp_engine_new(p->desc, &eopts, &e2);
	if (!p->engine) {
		fp_error_set(err, e2.code, "engine: %s", e2.msg);
		goto fail;
	}
	p->sample = fp_sample_new(p->desc);
	if (!p->sample) {
		fp_error_set(err, FP_ENOMEM, "sample: out of memory");
		goto fail;
	}

	run = cfg->run_dir ? cfg->run_dir : "/run/slurm-footprint";
	p->cfg.run_dir = strdup(run);
	p->steps_dir = fp_poller_join(run, "steps");
	p->jobs_dir = fp_poller_join(run, "jobs");
	p->gpus_dir = fp_poller_join(run, "gpus");
	p->gpu_floor = fp_gpu_floor_new(p->desc->ngpus);
	if (fp_poller_mkdirs(p->steps_dir, 0700) ||
	    fp_poller_mkdirs(p->jobs_dir, 0700) ||
	    fp_poller_mkdirs(p->gpus_dir, 0700)) {
		fp_error_set(err, FP_EIO, "run folder %s: %s", run,
			     strerror(errno));
		goto fail;
	}
	_parts_folder(p, cfg, run);
	if (p->cfg.metrics_path) {
		p->metrics =
			fp_metrics_new(p->cfg.metrics_path, cfg->metrics_jobs);
		if (!p->metrics) {
			fp_error_set(err, FP_ENOMEM, "metrics: out of memory");
			goto fail;
		}
	}
	p->board = fp_publish_board_open(p->steps_dir, &e2);
	if (!p->board)
		fp_poller_say(p, FP_LOG_ERROR,
			      "%s; publishing one file per step", e2.msg);
	fp_poller_say(
		p, FP_LOG_INFO,
		"node %s: %zu CPUs, %zu packages, %zu RAPL domains%s, %zu "
		"GPUs, wall sensor %s, activity from %s%s",
		p->desc->node, p->desc->cpus, p->desc->npackages,
		p->desc->ndomains, p->rapl ? "" : " (none)", p->desc->ngpus,
		p->sensor ? sensor : "none",
		fp_activity_source_name(fp_activity_source(p->activity)),
		p->simulated ? "; SIMULATED node" : "");
	goto out;
fail:
	fp_poller_free(p);
	p = NULL;
out:
	free(proc_stat);
	free(v1a);
	free(v1s);
	free(v2);
	free(powercap);
	free(sensor);
	free(topo);
	return p;
}

void fp_poller_free(fp_poller_t *p)
{
	if (!p)
		return;
	fp_trace_writer_free(p->trace);
	fp_publish_board_close(p->board);
	fp_metrics_free(p->metrics);
	free(p->labels);
	free(p->gpu_prev);
	free(p->trace_path);
	fp_engine_free(p->engine);
	fp_sample_free(p->sample);
	fp_activity_free(p->activity);
	fp_sensor_free(p->sensor);
	fp_rapl_close(p->rapl);
	fp_gpu_close(p->gpu);
	free(p->gpu_dev);
	free(p->gpu_desc);
	free(p->gpu_read);
	free(p->gpu_last_uj);
	free(p->gpu_last_ok);
	for (size_t i = 0; i < p->nholds; i++) {
		free(p->holds[i].id);
		fp_poller_gpu_hold_clear(&p->holds[i]);
	}
	free(p->proc_dir);
	free(p->holds);
	fp_topology_free(p->topo);
	fp_sample_node_desc_free(p->desc);
	free(p->steps_dir);
	free(p->jobs_dir);
	free(p->gpus_dir);
	free(p->parts_dir);
	fp_gpu_floor_free(p->gpu_floor);
	fp_poller_config_clear(&p->cfg);
	free(p);
}

static double _cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* A job keeps its label file while the engine knows it: it goes with its
 * last step, ten minutes after that step ended (fp_engine_forget_absent). */
static bool _job_known(unsigned long long job, void *ctx)
{
	const fp_engine_t *e = ctx;
	fp_job_result_t j;

	for (size_t i = 0, n = fp_engine_njobs(e); i < n; i++) {
		fp_engine_job_at(e, i, &j);
		if (j.job == job)
			return true;
	}
	return false;
}

/* The textfile is due at the first poll MetricsInterval after the last
 * one written, give or take a tenth of a poll (polls drift by a few ms). */
static bool _metrics_due(const fp_poller_t *p, double now)
{
	return !p->metrics_written ||
	       now - p->metrics_t + p->cfg.interval_s / 10 >=
		       p->cfg.metrics_interval_s;
}

int fp_poller_poll(fp_poller_t *p, double now, fp_error_t *err)
{
	/* a process CPU clock is a system call (~1 us, a 30th of a poll's
	 * reads): read only at the polls that write the metric */
	bool due = p->metrics && _metrics_due(p, now);
	double cpu0 = due ? _cpu_now() : 0;
	fp_engine_node_t node;
	fp_error_t e = { 0 };

	fp_error_clear(err);
	if (p->polls && now <= p->last_t)
		return fp_error_set(
			err, FP_EINVAL,
			"poll at %.3f is not after the last one (%.3f)", now,
			p->last_t);
	p->sample->t = now;
	if (p->rapl)
		fp_rapl_read(p->rapl, p->desc, p->sample->energy_uj,
			     p->sample->energy_valid);
	p->sample->wall_valid = false;
	p->sample->wall_j = 0;
	if (p->sensor) {
		fp_sensor_read(p->sensor, now, &p->reading);
		if (p->reading.valid) {
			p->sample->wall_valid = true;
			p->sample->wall_j = p->reading.energy_j;
			if (p->reading.simulated)
				p->simulated = true;
		}
	}
	fp_poller_gpu_read(p, now);
	if (p->sample->gpu_energy_uj)
		fp_gpu_floor_push(p->gpu_floor, now, p->sample->gpu_energy_uj,
				  p->sample->gpu_valid);
	if (fp_activity_read(p->activity, p->desc, p->sample, &e))
		return fp_error_set(err, e.code, "activity: %s", e.msg);
	fp_poller_gpu_steps(p, now);
	fp_poller_gpu_hold_time(p, now);
	fp_poller_gpu_busy(p);
	if (fp_engine_push(p->engine, p->sample, &e))
		return fp_error_set(err, e.code, "attribution: %s", e.msg);
	p->prev_t = p->last_t;
	p->last_t = now;
	p->polls++;

	fp_engine_node(p->engine, &node);
	/* the engine dropped a wall below RAPL: said once until it clears,
	 * and traced as the engine took it (no wall), so replay agrees */
	if (p->sensor && node.wall_checked)
		fp_sensor_note_rapl(p->sensor, node.wall_below_rapl,
				    node.wall_delta_j, node.rapl_delta_j);
	if (node.wall_below_rapl)
		p->sample->wall_valid = false;
	if (p->have_prev && node.source < FP_SOURCE_COUNT)
		p->source_energy_j[node.source] +=
			node.energy_j - p->prev_energy_j;
	p->prev_energy_j = node.energy_j;
	p->have_prev = true;

	fp_poller_output_publish(p, &node);
	fp_poller_output_trace(p, now);
	/* Ended steps: their final value is published; forget them after
	 * ten minutes so a long-running slurmd stays small. */
	fp_engine_forget_absent(p->engine, 600);
	if (p->polls % 600 == 0) {
		fp_publish_prune(p->steps_dir, now, 86400);
		if (p->parts_dir)
			fp_publish_prune(p->parts_dir, now, 86400);
		fp_publish_prune_job_labels(p->jobs_dir, now, 600, _job_known,
					    p->engine);
	}
	/* the step daemon reads an ended step's value within seconds; an
	 * hour later its slot goes to another step */
	if (p->polls % 60 == 0 && fp_publish_board_prune(p->board, now, 3600))
		p->board_full = false;
	if (due) {
		p->poll_cpu_s = _cpu_now() - cpu0;
		fp_poller_output_metrics(p, &node);
	}
	return 0;
}

void fp_poller_status(const fp_poller_t *p, fp_poller_status_t *out)
{
	fp_engine_node_t node;

	fp_engine_node(p->engine, &node);
	memset(out, 0, sizeof(*out));
	out->ready = node.samples >= 2;
	out->energy_j = node.energy_j;
	out->power_w = node.power_w;
	out->t = p->last_t;
	out->source = fp_source_name(node.source);
	out->simulated = p->simulated;
	out->activity =
		fp_activity_source_name(fp_activity_source(p->activity));
	out->polls = p->polls;
	out->poll_cpu_s = p->poll_cpu_s;
}

const fp_engine_t *fp_poller_engine(const fp_poller_t *p)
{
	return p->engine;
}

const char *fp_poller_gpus_dir(const fp_poller_t *p)
{
	return p->gpus_dir;
}

const char *fp_poller_steps_dir(const fp_poller_t *p)
{
	return p->steps_dir;
}
