/* Prometheus text exposition (format 0.0.4) of node, job and step power and
 * energy; names follow Prometheus conventions (_watts, _joules_total). */
#include "metrics.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "file.h"
#include "utf8.h"

/* Label values escape backslash, double quote and newline, and must be
 * UTF-8: a byte that is not (a Latin-1 user name) becomes U+FFFD, else
 * Prometheus refuses the whole file. */
static void _label(FILE *f, const char *name, const char *value, bool first)
{
	const char *p = value ? value : "";
	size_t left = strlen(p), n;

	fprintf(f, "%s%s=\"", first ? "" : ",", name);
	for (; left; p += n, left -= n) {
		n = fp_utf8_seq(p, left);
		if (!n) {
			fputs(FP_UTF8_REPLACEMENT, f);
			n = 1;
		} else if (*p == '\\' || *p == '"') {
			fputc('\\', f), fputc(*p, f);
		} else if (*p == '\n') {
			fputs("\\n", f);
		} else {
			fwrite(p, 1, n, f);
		}
	}
	fputc('"', f);
}

static void _head(FILE *f, const char *name, const char *type,
		  const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A node-wide metric: its HELP and TYPE lines, then its one sample. */
static void _node_metric(FILE *f, const char *name, const char *type,
			 const char *help, const fp_metrics_node_t *n,
			 double v)
{
	_head(f, name, type, help);
	fprintf(f, "%s{", name);
	_label(f, "node", n->node, true);
	_label(f, "simulated", n->simulated ? "true" : "false", false);
	fprintf(f, "} %.17g\n", v);
}

static void _entities(FILE *f, const char *metric, const char *type,
		      const char *help, const char *node,
		      const fp_metrics_entity_t *e, size_t n, bool energy)
{
	char job[24];

	_head(f, metric, type, help);
	for (size_t i = 0; i < n; i++) {
		snprintf(job, sizeof(job), "%" PRIu64, e[i].job);
		fprintf(f, "%s{", metric);
		_label(f, "node", node, true);
		_label(f, "job", job, false);
		if (e[i].step)
			_label(f, "step", e[i].step, false);
		_label(f, "user", e[i].user, false);
		_label(f, "account", e[i].account, false);
		fprintf(f, "} %.17g\n", energy ? e[i].energy_j : e[i].power_w);
	}
}

/* A GPU's identity on every one of its lines: a panel can name it by
 * index, UUID or PCI address without a join on an info metric. */
static void _gpu_labels(FILE *f, const fp_metrics_node_t *n,
			const fp_metrics_gpu_t *g)
{
	char index[24];

	snprintf(index, sizeof(index), "%zu", g->index);
	_label(f, "node", n->node, true);
	_label(f, "gpu", index, false);
	_label(f, "uuid", g->uuid, false);
	_label(f, "pci", g->pci, false);
	_label(f, "vendor", g->vendor, false);
	_label(f, "name", g->name, false);
}

static void _gpus(FILE *f, const fp_metrics_node_t *n,
		  const fp_metrics_entity_t *jobs, size_t njobs)
{
	char job[24];

	_head(f, "footprint_gpu_up", "gauge",
	      "1 when the GPU's last energy read was valid; fault says why not.");
	for (size_t i = 0; i < n->ngpus; i++) {
		const fp_metrics_gpu_t *g = &n->gpus[i];

		fprintf(f, "footprint_gpu_up{");
		_gpu_labels(f, n, g);
		_label(f, "fault", g->up ? "" : g->fault, false);
		fprintf(f, "} %d\n", g->up ? 1 : 0);
	}
	_head(f, "footprint_gpu_energy_joules_total", "counter",
	      "GPU energy since the poller started, from the device's counter "
	      "or the reader's integral of its power (source).");
	for (size_t i = 0; i < n->ngpus; i++) {
		fprintf(f, "footprint_gpu_energy_joules_total{");
		_gpu_labels(f, n, &n->gpus[i]);
		_label(f, "source", n->gpus[i].source, false);
		fprintf(f, "} %.17g\n", n->gpus[i].energy_j);
	}
	/* no line rather than a guess: a panel shows the gap */
	_head(f, "footprint_gpu_power_watts", "gauge",
	      "GPU power over the last poll interval.");
	for (size_t i = 0; i < n->ngpus; i++) {
		if (!isfinite(n->gpus[i].power_w))
			continue;
		fprintf(f, "footprint_gpu_power_watts{");
		_gpu_labels(f, n, &n->gpus[i]);
		_label(f, "source", n->gpus[i].source, false);
		fprintf(f, "} %.17g\n", n->gpus[i].power_w);
	}
	_node_metric(f, "footprint_node_gpu_joules_total", "counter",
		     "Energy of all the node's GPUs, as attributed.", n,
		     n->gpu_j);
	_node_metric(f, "footprint_node_gpu_idle_joules_total", "counter",
		     "Energy of GPUs nobody held, with their share of the "
		     "residual.", n, n->gpu_idle_j);

	_head(f, "footprint_job_gpu_energy_joules_total", "counter",
	      "GPU energy attributed to a running job on this node.");
	for (size_t i = 0; i < njobs; i++) {
		if (!jobs[i].gpus)
			continue;
		snprintf(job, sizeof(job), "%" PRIu64, jobs[i].job);
		fprintf(f, "footprint_job_gpu_energy_joules_total{");
		_label(f, "node", n->node, true);
		_label(f, "job", job, false);
		_label(f, "user", jobs[i].user, false);
		_label(f, "account", jobs[i].account, false);
		fprintf(f, "} %.17g\n", jobs[i].gpu_energy_j);
	}
}

int fp_metrics_write(const char *path, const fp_metrics_node_t *n,
		     const fp_metrics_entity_t *jobs, size_t njobs,
		     const fp_metrics_entity_t *steps, size_t nsteps,
		     fp_error_t *err)
{
	char tmp[4096];
	fp_error_t e = { 0 };
	FILE *f;
	int bad;

	fp_error_clear(err);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	/* node_exporter reads it as another user; nobody else writes it */
	f = fp_file_create(tmp, 0644, &e);
	if (!f)
		return fp_fail(err, e.code, "metrics: %s", e.msg);

	_head(f, "footprint_node_power_watts", "gauge",
	      "Node power over the last poll interval, from the best source.");
	fprintf(f, "footprint_node_power_watts{");
	_label(f, "node", n->node, true);
	_label(f, "source", n->source, false);
	_label(f, "simulated", n->simulated ? "true" : "false", false);
	fprintf(f, "} %.17g\n", n->power_w);

	_head(f, "footprint_node_energy_joules_total", "counter",
	      "Node energy since the poller started, by source.");
	for (size_t i = 0; i < n->nsources; i++) {
		fprintf(f, "footprint_node_energy_joules_total{");
		_label(f, "node", n->node, true);
		_label(f, "source", n->source_names[i], false);
		_label(f, "simulated", n->simulated ? "true" : "false", false);
		fprintf(f, "} %.17g\n", n->source_energy_j[i]);
	}
	_node_metric(f, "footprint_node_rapl_joules_total", "counter",
		     "Package and DRAM energy measured by RAPL.", n, n->rapl_j);
	_node_metric(f, "footprint_node_idle_joules_total", "counter",
		     "Static energy of CPUs allocated to no step.", n,
		     n->idle_j);
	_node_metric(f, "footprint_node_system_joules_total", "counter",
		     "Dynamic energy of activity outside any step.", n,
		     n->system_j);

	_node_metric(f, "footprint_calibration_active", "gauge",
		     "1 when the wall = a*rapl + b calibration is in use.", n,
		     n->calibration_active ? 1 : 0);
	_node_metric(f, "footprint_calibration_slope", "gauge",
		     "Calibration a: wall joules per RAPL joule.", n,
		     n->calibration_a);
	_node_metric(f, "footprint_calibration_offset_watts", "gauge",
		     "Calibration b: wall power RAPL does not see.", n,
		     n->calibration_b_w);
	_node_metric(f, "footprint_calibration_intervals", "gauge",
		     "Intervals the calibration learned from.", n,
		     (double)n->calibration_intervals);

	if (n->sensor_configured) {
		_head(f, "footprint_sensor_up", "gauge",
		      "1 when the wall meter's last reading was valid.");
		fprintf(f, "footprint_sensor_up{");
		_label(f, "node", n->node, true);
		_label(f, "fault", n->sensor_up ? "" : n->sensor_fault, false);
		fprintf(f, "} %d\n", n->sensor_up ? 1 : 0);
		_node_metric(f, "footprint_sensor_age_seconds", "gauge",
			     "Age of the wall meter's last reading.", n,
			     n->sensor_age_s);
	}
	_node_metric(f, "footprint_poll_cpu_seconds", "gauge",
		     "CPU time of the poller's last poll.", n, n->poll_seconds);

	_entities(f, "footprint_job_power_watts", "gauge",
		  "Power attributed to a job on this node, last interval.",
		  n->node, jobs, njobs, false);
	_entities(f, "footprint_job_energy_joules_total", "counter",
		  "Energy attributed to a job on this node.", n->node, jobs,
		  njobs, true);
	_entities(f, "footprint_step_power_watts", "gauge",
		  "Power attributed to a step, last interval.", n->node, steps,
		  nsteps, false);
	_entities(f, "footprint_step_energy_joules_total", "counter",
		  "Energy attributed to a step.", n->node, steps, nsteps, true);
	if (n->ngpus)
		_gpus(f, n, jobs, njobs);

	bad = ferror(f);
	if (fclose(f) != 0 || bad) {
		unlink(tmp);
		return fp_fail(err, FP_EIO, "metrics: cannot write %s", tmp);
	}
	if (rename(tmp, path) != 0) {
		int e = errno;

		unlink(tmp);
		return fp_fail(err, FP_EIO, "metrics: cannot rename %s: %s",
			       path, strerror(e));
	}
	return 0;
}
