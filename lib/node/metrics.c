/* Prometheus text exposition (format 0.0.4) of node, job and step power and
 * energy; names follow Prometheus conventions (_watts, _joules_total). */
#include "footprint/metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "footprint/utf8.h"

const char *const fp_metrics_jobs_names[3] = { "running", "all", "none" };

struct fp_metrics {
	char *path, *tmp;
	fp_metrics_jobs_t jobs;
	char *buf; /* the file's text, kept between writes */
	size_t len, cap;
	bool oom;
};

fp_metrics_t *fp_metrics_new(const char *path, fp_metrics_jobs_t jobs)
{
	fp_metrics_t *m = calloc(1, sizeof(*m));
	size_t n = strlen(path);

	if (!m)
		return NULL;
	m->jobs = jobs;
	m->path = strdup(path);
	m->tmp = malloc(n + 5);
	if (!m->path || !m->tmp) {
		fp_metrics_free(m);
		return NULL;
	}
	memcpy(m->tmp, path, n);
	memcpy(m->tmp + n, ".tmp", 5);
	return m;
}

void fp_metrics_free(fp_metrics_t *m)
{
	if (!m)
		return;
	free(m->path);
	free(m->tmp);
	free(m->buf);
	free(m);
}

/* Grows the buffer for n more bytes; on failure the write is refused at
 * the end. Out of line: once the buffer has the file's size it is never
 * called, and the appends it would bloat are most of a write. */
static __attribute__((noinline)) bool _grow(fp_metrics_t *m, size_t n)
{
	size_t cap;
	char *b;

	if (m->oom)
		return false;
	for (cap = m->cap ? m->cap : 16384; cap < m->len + n; cap *= 2)
		;
	b = realloc(m->buf, cap);
	if (!b) {
		m->oom = true;
		return false;
	}
	m->buf = b;
	m->cap = cap;
	return true;
}

static inline bool _room(fp_metrics_t *m, size_t n)
{
	return m->len + n <= m->cap || _grow(m, n);
}

static inline void _mem(fp_metrics_t *m, const char *s, size_t n)
{
	if (!_room(m, n))
		return;
	memcpy(m->buf + m->len, s, n);
	m->len += n;
}

static inline void _str(fp_metrics_t *m, const char *s)
{
	_mem(m, s, strlen(s));
}

static void _u64(fp_metrics_t *m, uint64_t v)
{
	char d[20];
	int n = 0;

	do
		d[sizeof(d) - 1 - n++] = (char)('0' + v % 10);
	while ((v /= 10));
	_mem(m, d + sizeof(d) - n, (size_t)n);
}

/* A value: from 1 to 1e12 (powers, energies) in microunits, the trailing
 * zeros cut, which is exact beyond any meter; others as %.17g. glibc's
 * %.17g was most of the cost of a file of 100 jobs and steps. */
static void _num(fp_metrics_t *m, double v)
{
	double a = fabs(v);
	uint64_t u, frac;
	char d[8];
	int n;

	if (isnan(v)) {
		_mem(m, "NaN", 3);
		return;
	}
	if (isinf(v)) {
		_str(m, v > 0 ? "+Inf" : "-Inf");
		return;
	}
	if (v == 0) {
		_mem(m, "0", 1);
		return;
	}
	if (a < 1 || a >= 1e12) {
		if (!_room(m, 32))
			return;
		m->len += (size_t)snprintf(m->buf + m->len, 32, "%.17g", v);
		return;
	}
	u = (uint64_t)(a * 1e6 + 0.5);
	if (v < 0)
		_mem(m, "-", 1);
	_u64(m, u / 1000000);
	frac = u % 1000000;
	if (!frac)
		return;
	for (n = 6; frac % 10 == 0; frac /= 10)
		n--;
	d[0] = '.';
	for (int i = n; i > 0; i--, frac /= 10)
		d[i] = (char)('0' + frac % 10);
	_mem(m, d, (size_t)n + 1);
}

/* Label values escape backslash, double quote and newline, and must be
 * UTF-8: a byte that is not (a Latin-1 user name) becomes U+FFFD, else
 * Prometheus refuses the whole file. */
static void _label(fp_metrics_t *m, const char *name, const char *value,
		   bool first)
{
	const char *p = value ? value : "";
	size_t left = strlen(p), n;

	if (!first)
		_mem(m, ",", 1);
	_str(m, name);
	_mem(m, "=\"", 2);
	for (; left; p += n, left -= n) {
		/* a run of plain ASCII in one copy */
		for (n = 0; n < left && (unsigned char)p[n] < 0x80 &&
			    p[n] != '\\' && p[n] != '"' && p[n] != '\n';
		     n++)
			;
		if (n) {
			_mem(m, p, n);
			continue;
		}
		n = fp_utf8_seq(p, left);
		if (!n) {
			_str(m, FP_UTF8_REPLACEMENT);
			n = 1;
		} else if (*p == '\\' || *p == '"') {
			_mem(m, "\\", 1);
			_mem(m, p, 1);
		} else if (*p == '\n') {
			_mem(m, "\\n", 2);
		} else {
			_mem(m, p, n);
		}
	}
	_mem(m, "\"", 1);
}

static void _head(fp_metrics_t *m, const char *name, const char *type,
		  const char *help)
{
	_str(m, "# HELP ");
	_str(m, name);
	_mem(m, " ", 1);
	_str(m, help);
	_str(m, "\n# TYPE ");
	_str(m, name);
	_mem(m, " ", 1);
	_str(m, type);
	_mem(m, "\n", 1);
}

/* The closing brace, the value and the end of the line. */
static void _value(fp_metrics_t *m, double v)
{
	_mem(m, "} ", 2);
	_num(m, v);
	_mem(m, "\n", 1);
}

/* A node-wide metric: its HELP and TYPE lines, then its one sample. */
static void _node_metric(fp_metrics_t *m, const char *name, const char *type,
			 const char *help, const fp_metrics_node_t *n, double v)
{
	_head(m, name, type, help);
	_str(m, name);
	_mem(m, "{", 1);
	_label(m, "node", n->node, true);
	_label(m, "simulated", n->simulated ? "true" : "false", false);
	_value(m, v);
}

/* The node-wide metrics that are one field of fp_metrics_node_t, in the
 * order they are written. */
static const struct node_value {
	const char *name, *type, *help;
	size_t off;
	char kind; /* 'd' a double, 'b' a bool (1 or 0), 'u' a uint64_t */
} _node_values[] = {
	{ "footprint_node_rapl_joules_total", "counter",
	  "Package and DRAM energy measured by RAPL.",
	  offsetof(fp_metrics_node_t, rapl_j), 'd' },
	{ "footprint_node_idle_joules_total", "counter",
	  "Static energy of CPUs allocated to no step.",
	  offsetof(fp_metrics_node_t, idle_j), 'd' },
	{ "footprint_node_system_joules_total", "counter",
	  "Dynamic energy of activity outside any step.",
	  offsetof(fp_metrics_node_t, system_j), 'd' },
	{ "footprint_calibration_active", "gauge",
	  "1 when the wall = a*rapl + b calibration is in use.",
	  offsetof(fp_metrics_node_t, calibration_active), 'b' },
	{ "footprint_calibration_slope", "gauge",
	  "Calibration a: wall joules per RAPL joule.",
	  offsetof(fp_metrics_node_t, calibration_a), 'd' },
	{ "footprint_calibration_offset_watts", "gauge",
	  "Calibration b: wall power RAPL does not see.",
	  offsetof(fp_metrics_node_t, calibration_b_w), 'd' },
	{ "footprint_calibration_intervals", "gauge",
	  "Intervals the calibration learned from.",
	  offsetof(fp_metrics_node_t, calibration_intervals), 'u' },
};

static double _node_value(const fp_metrics_node_t *n,
			  const struct node_value *v)
{
	const char *f = (const char *)n + v->off;

	if (v->kind == 'b')
		return *(const bool *)f ? 1 : 0;
	if (v->kind == 'u')
		return (double)*(const uint64_t *)f;
	return *(const double *)f;
}

/* Whether the mode keeps this job's or step's series. */
static bool _kept(const fp_metrics_t *m, const fp_metrics_entity_t *e)
{
	return m->jobs == FP_METRICS_JOBS_ALL ||
	       (m->jobs == FP_METRICS_JOBS_RUNNING && !e->ended);
}

/* node, job and the job's number, without the brace before them. */
static void _job_labels(fp_metrics_t *m, const char *node, uint64_t job)
{
	_label(m, "node", node, true);
	_str(m, ",job=\"");
	_u64(m, job);
	_mem(m, "\"", 1);
}

static void _entities(fp_metrics_t *m, const char *metric, const char *type,
		      const char *help, const char *node,
		      const fp_metrics_entity_t *e, size_t n, bool energy)
{
	_head(m, metric, type, help);
	for (size_t i = 0; i < n; i++) {
		if (!_kept(m, &e[i]))
			continue;
		_str(m, metric);
		_mem(m, "{", 1);
		_job_labels(m, node, e[i].job);
		if (e[i].step)
			_label(m, "step", e[i].step, false);
		_label(m, "user", e[i].user, false);
		_label(m, "account", e[i].account, false);
		_value(m, energy ? e[i].energy_j : e[i].power_w);
	}
}

/* A GPU's identity on every one of its lines: a panel can name it by
 * index, UUID or PCI address without a join on an info metric. */
static void _gpu_labels(fp_metrics_t *m, const fp_metrics_node_t *n,
			const fp_metrics_gpu_t *g)
{
	_label(m, "node", n->node, true);
	_str(m, ",gpu=\"");
	_u64(m, g->index);
	_mem(m, "\"", 1);
	_label(m, "uuid", g->uuid, false);
	_label(m, "pci", g->pci, false);
	_label(m, "vendor", g->vendor, false);
	_label(m, "name", g->name, false);
}

static void _gpus(fp_metrics_t *m, const fp_metrics_node_t *n,
		  const fp_metrics_entity_t *jobs, size_t njobs)
{
	_head(m, "footprint_gpu_up", "gauge",
	      "1 when the GPU's last energy read was valid; fault says why not.");
	for (size_t i = 0; i < n->ngpus; i++) {
		const fp_metrics_gpu_t *g = &n->gpus[i];

		_str(m, "footprint_gpu_up{");
		_gpu_labels(m, n, g);
		_label(m, "fault", g->up ? "" : g->fault, false);
		_value(m, g->up ? 1 : 0);
	}
	_head(m, "footprint_gpu_energy_joules_total", "counter",
	      "GPU energy since the poller started, from the device's counter "
	      "or the reader's integral of its power (source).");
	for (size_t i = 0; i < n->ngpus; i++) {
		_str(m, "footprint_gpu_energy_joules_total{");
		_gpu_labels(m, n, &n->gpus[i]);
		_label(m, "source", n->gpus[i].source, false);
		_value(m, n->gpus[i].energy_j);
	}
	/* no line rather than a guess: a panel shows the gap */
	_head(m, "footprint_gpu_power_watts", "gauge",
	      "GPU power over the last poll interval.");
	for (size_t i = 0; i < n->ngpus; i++) {
		if (!isfinite(n->gpus[i].power_w))
			continue;
		_str(m, "footprint_gpu_power_watts{");
		_gpu_labels(m, n, &n->gpus[i]);
		_label(m, "source", n->gpus[i].source, false);
		_value(m, n->gpus[i].power_w);
	}
	_node_metric(m, "footprint_node_gpu_joules_total", "counter",
		     "Energy of all the node's GPUs, as attributed.", n,
		     n->gpu_j);
	_node_metric(m, "footprint_node_gpu_idle_joules_total", "counter",
		     "Energy of GPUs nobody held, with their share of the "
		     "residual.",
		     n, n->gpu_idle_j);

	if (m->jobs == FP_METRICS_JOBS_NONE)
		return;
	_head(m, "footprint_job_gpu_energy_joules_total", "counter",
	      "GPU energy attributed to a running job on this node.");
	for (size_t i = 0; i < njobs; i++) {
		if (!jobs[i].gpus || !_kept(m, &jobs[i]))
			continue;
		_str(m, "footprint_job_gpu_energy_joules_total{");
		_job_labels(m, n->node, jobs[i].job);
		_label(m, "user", jobs[i].user, false);
		_label(m, "account", jobs[i].account, false);
		_value(m, jobs[i].gpu_energy_j);
	}
}

static void _text(fp_metrics_t *m, const fp_metrics_node_t *n,
		  const fp_metrics_entity_t *jobs, size_t njobs,
		  const fp_metrics_entity_t *steps, size_t nsteps)
{
	_head(m, "footprint_node_power_watts", "gauge",
	      "Node power over the last poll interval, from the best source.");
	_str(m, "footprint_node_power_watts{");
	_label(m, "node", n->node, true);
	_label(m, "source", n->source, false);
	_label(m, "simulated", n->simulated ? "true" : "false", false);
	_value(m, n->power_w);

	_head(m, "footprint_node_energy_joules_total", "counter",
	      "Node energy since the poller started, by source.");
	for (size_t i = 0; i < n->nsources; i++) {
		_str(m, "footprint_node_energy_joules_total{");
		_label(m, "node", n->node, true);
		_label(m, "source", n->source_names[i], false);
		_label(m, "simulated", n->simulated ? "true" : "false", false);
		_value(m, n->source_energy_j[i]);
	}
	for (size_t i = 0; i < sizeof(_node_values) / sizeof(*_node_values);
	     i++)
		_node_metric(m, _node_values[i].name, _node_values[i].type,
			     _node_values[i].help, n,
			     _node_value(n, &_node_values[i]));

	if (n->sensor_configured) {
		_head(m, "footprint_sensor_up", "gauge",
		      "1 when the wall meter's last reading was valid.");
		_str(m, "footprint_sensor_up{");
		_label(m, "node", n->node, true);
		_label(m, "fault", n->sensor_up ? "" : n->sensor_fault, false);
		_value(m, n->sensor_up ? 1 : 0);
		_node_metric(m, "footprint_sensor_age_seconds", "gauge",
			     "Age of the wall meter's last reading.", n,
			     n->sensor_age_s);
	}
	_node_metric(m, "footprint_poll_cpu_seconds", "gauge",
		     "CPU time of the poller's last poll.", n, n->poll_seconds);

	/* MetricsJobs=none: not even the HELP lines of per-job metrics */
	if (m->jobs != FP_METRICS_JOBS_NONE) {
		_entities(m, "footprint_job_power_watts", "gauge",
			  "Power attributed to a job on this node, last "
			  "interval.",
			  n->node, jobs, njobs, false);
		_entities(m, "footprint_job_energy_joules_total", "counter",
			  "Energy attributed to a job on this node.", n->node,
			  jobs, njobs, true);
		_entities(m, "footprint_step_power_watts", "gauge",
			  "Power attributed to a step, last interval.", n->node,
			  steps, nsteps, false);
		_entities(m, "footprint_step_energy_joules_total", "counter",
			  "Energy attributed to a step.", n->node, steps,
			  nsteps, true);
	}
	if (n->ngpus)
		_gpus(m, n, jobs, njobs);
}

/* One write() of the whole text: node_exporter reads it as another user,
 * nobody else writes it; the mode is set whatever slurmd's umask. */
static int _file(fp_metrics_t *m, fp_error_t *err)
{
	int fd = open(m->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t off = 0;
	int e;

	if (fd < 0)
		return fp_error_set(err, FP_EIO,
				    "metrics: cannot create %s: %s", m->tmp,
				    strerror(errno));
	if (fchmod(fd, 0644) != 0)
		goto fail;
	while (off < m->len) {
		ssize_t k = write(fd, m->buf + off, m->len - off);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			goto fail;
		off += (size_t)k;
	}
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	if (rename(m->tmp, m->path) != 0) {
		e = errno;
		unlink(m->tmp);
		return fp_error_set(err, FP_EIO,
				    "metrics: cannot rename %s: %s", m->path,
				    strerror(e));
	}
	return 0;
fail:
	e = errno;
	if (fd >= 0)
		close(fd);
	unlink(m->tmp);
	return fp_error_set(err, FP_EIO, "metrics: cannot write %s: %s", m->tmp,
			    strerror(e));
}

int fp_metrics_put(fp_metrics_t *m, const fp_metrics_node_t *n,
		   const fp_metrics_entity_t *jobs, size_t njobs,
		   const fp_metrics_entity_t *steps, size_t nsteps,
		   fp_error_t *err)
{
	fp_error_clear(err);
	m->len = 0;
	m->oom = false;
	_text(m, n, jobs, njobs, steps, nsteps);
	if (m->oom)
		return fp_error_set(err, FP_ENOMEM,
				    "metrics: out of memory for %s", m->path);
	return _file(m, err);
}

int fp_metrics_write(const char *path, const fp_metrics_node_t *n,
		     const fp_metrics_entity_t *jobs, size_t njobs,
		     const fp_metrics_entity_t *steps, size_t nsteps,
		     fp_error_t *err)
{
	fp_metrics_t *m = fp_metrics_new(path, FP_METRICS_JOBS_RUNNING);
	int rc;

	fp_error_clear(err);
	if (!m)
		return fp_error_set(err, FP_ENOMEM, "metrics: out of memory");
	rc = fp_metrics_put(m, n, jobs, njobs, steps, nsteps, err);
	fp_metrics_free(m);
	return rc;
}
