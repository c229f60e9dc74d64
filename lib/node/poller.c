/* The node poller: reads every source once per poll, runs the attribution
 * engine and publishes step values, metrics and the trace (trace v1). */
#include "footprint/poller.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "footprint/gpu.h"
#include "footprint/metrics.h"
#include "footprint/option.h"
#include "footprint/publish.h"
#include "footprint/rapl.h"
#include "footprint/sensor.h"
#include "footprint/step.h"
#include "footprint/topology.h"
#include "footprint/trace.h"

/* The options: one row each, the man page lists the same keys, bounds,
 * units and defaults (the defaults are set in fp_poller_config_init). */
typedef enum opt_kind {
	OPT_PATH,   /* an absolute path; NULL = shown as `dflt` */
	OPT_NUMBER, /* a double in [lo, hi] of `unit` */
	OPT_SIZE,   /* bytes, given in MiB or with a unit */
	OPT_BOOL,
	OPT_ACTIVITY,
	OPT_IDLE,
	OPT_LIB,	  /* a library: an absolute path, a file name, "none" */
	OPT_GPUS,	  /* auto or none */
	OPT_COMPRESS,	  /* zstd or none: an fp_trace_form_t */
	OPT_TRACE_FORM,	  /* plain or compact: a keyframe interval */
	OPT_METRICS_JOBS, /* running, all, none */
} opt_kind_t;

typedef struct opt {
	const char *key;
	opt_kind_t kind;
	double lo, hi;
	const char *unit; /* OPT_NUMBER: in messages */
	const char *dflt; /* OPT_PATH, OPT_IDLE: shown when unset */
	size_t off;
} opt_t;

#define OFF(f) offsetof(fp_poller_config_t, f)
static const opt_t _opts[] = {
	{ "PowercapRoot", OPT_PATH, 0, 0, NULL, FP_RAPL_DEFAULT_ROOT,
	  OFF(powercap_root) },
	{ "ProcRoot", OPT_PATH, 0, 0, NULL, "/proc", OFF(proc_root) },
	{ "CgroupRoot", OPT_PATH, 0, 0, NULL, "(mounted)", OFF(cgroup_root) },
	{ "Topology", OPT_PATH, 0, 0, NULL, "(this machine)",
	  OFF(topology_xml) },
	{ "SimulatedNode", OPT_PATH, 0, 0, NULL, "(none)", OFF(sim_dir) },
	{ "Sensor", OPT_PATH, 0, 0, NULL, "(none)", OFF(sensor_path) },
	{ "SensorMaxAge", OPT_NUMBER, FP_SENSOR_MAX_AGE_MIN_S,
	  FP_SENSOR_MAX_AGE_MAX_S, "seconds", NULL, OFF(sensor_max_age_s) },
	{ "SensorCeiling", OPT_NUMBER, FP_SENSOR_CEILING_MIN_W,
	  FP_SENSOR_CEILING_MAX_W, "watts", NULL, OFF(sensor_ceiling_w) },
	{ "IdleWatts", OPT_IDLE, 0, 100000, "watts", "auto", OFF(idle_w) },
	{ "Calibration", OPT_BOOL, 0, 0, NULL, NULL, OFF(calibration) },
	{ "Activity", OPT_ACTIVITY, 0, 0, NULL, NULL, OFF(activity) },
	{ "PollInterval", OPT_NUMBER, 0.1, 3600, "seconds", NULL,
	  OFF(interval_s) },
	{ "RunDir", OPT_PATH, 0, 0, NULL, "/run/slurm-footprint",
	  OFF(run_dir) },
	{ "PartsDir", OPT_PATH, 0, 0, NULL, "(RunDir/parts)", OFF(parts_dir) },
	{ "Metrics", OPT_PATH, 0, 0, NULL, "(none)", OFF(metrics_path) },
	{ "MetricsJobs", OPT_METRICS_JOBS, 0, 0, NULL, NULL,
	  OFF(metrics_jobs) },
	{ "MetricsInterval", OPT_NUMBER, 0, 3600, "seconds", NULL,
	  OFF(metrics_interval_s) },
	{ "TraceDir", OPT_PATH, 0, 0, NULL, "(none)", OFF(trace_dir) },
	{ "TraceMaxSize", OPT_SIZE, 1 << 20, 1e6 * (1 << 20), NULL, NULL,
	  OFF(trace_max_bytes) },
	{ "TraceCompress", OPT_COMPRESS, 0, 0, NULL, NULL, OFF(trace_form) },
	{ "TraceForm", OPT_TRACE_FORM, 0, 0, NULL, NULL, OFF(trace_keyframe) },
	{ "Gpus", OPT_GPUS, 0, 0, NULL, NULL, OFF(gpus) },
	{ "GpuHwmonRoot", OPT_PATH, 0, 0, NULL, FP_GPU_DEFAULT_HWMON_ROOT,
	  OFF(gpu_hwmon_root) },
	{ "NvmlLibrary", OPT_LIB, 0, 0, NULL, FP_GPU_DEFAULT_NVML_LIB,
	  OFF(nvml_lib) },
	{ "AmdSmiLibrary", OPT_LIB, 0, 0, NULL, FP_GPU_DEFAULT_AMDSMI_LIB,
	  OFF(amdsmi_lib) },
};
#undef OFF
#define NOPTS (sizeof(_opts) / sizeof(_opts[0]))

const char *const fp_poller_config_keys[] = {
	"PowercapRoot",	   "ProcRoot",	  "CgroupRoot",	  "Topology",
	"SimulatedNode",   "Sensor",	  "SensorMaxAge", "SensorCeiling",
	"IdleWatts",	   "Calibration", "Activity",	  "PollInterval",
	"RunDir",	   "PartsDir",	  "Metrics",	  "MetricsJobs",
	"MetricsInterval", "TraceDir",	  "TraceMaxSize", "TraceCompress",
	"TraceForm",	   "Gpus",	  "GpuHwmonRoot", "NvmlLibrary",
	"AmdSmiLibrary",   NULL,
};

static const char *const _activities[] = { "auto", "cgroup", "perf" };
static const char *const _kinds[] = { "package", "dram", "psys" };

void fp_poller_config_init(fp_poller_config_t *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->sensor_max_age_s = FP_SENSOR_MAX_AGE_S;
	cfg->sensor_ceiling_w = FP_SENSOR_CEILING_W;
	cfg->calibration = true;
	cfg->activity = FP_ACTIVITY_AUTO;
	cfg->interval_s = 5;
	/* a textfile is read at each scrape: 15 s is Prometheus' usual
	 * scrape interval, and writing it at every 1 s poll was most of a
	 * poll's cost */
	cfg->metrics_interval_s = 15;
	cfg->metrics_jobs = FP_METRICS_JOBS_RUNNING;
	cfg->trace_max_bytes = 64ull << 20;
	cfg->gpus = true;
	cfg->parts_gid = (gid_t)-1;
}

void fp_poller_config_clear(fp_poller_config_t *cfg)
{
	free(cfg->node);
	for (size_t i = 0; i < NOPTS; i++)
		if (_opts[i].kind == OPT_PATH || _opts[i].kind == OPT_IDLE ||
		    _opts[i].kind == OPT_LIB)
			free(*(char **)((char *)cfg + _opts[i].off));
	memset(cfg, 0, sizeof(*cfg));
}

static int _number(const opt_t *o, const char *v, double *out, fp_error_t *err)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || *end || !isfinite(d) || d < o->lo || d > o->hi)
		return fp_error_set(err, FP_EINVAL,
				    "%s=%s: not a number of %s from %.10g to "
				    "%.10g",
				    o->key, v, o->unit, o->lo, o->hi);
	*out = d;
	return 0;
}

/* A size: a number of MiB, or with a unit K, M, G or T (binary; "KiB",
 * "MB" and the like read the same, in any case). */
static int _size(const opt_t *o, const char *v, uint64_t *out, fp_error_t *err)
{
	static const char units[] = "KMGT";
	double d, mul = 1 << 20;
	const char *u;
	char *end;

	errno = 0;
	d = strtod(v, &end);
	if (!errno && end != v && *end) {
		u = strchr(units, toupper((unsigned char)*end));
		if (u) {
			mul = (double)(1ull << (10 * (u - units + 1)));
			end++;
			if (!strcasecmp(end, "iB") || !strcasecmp(end, "B"))
				end += strlen(end);
		}
	}
	if (errno || end == v || *end || !isfinite(d) || d * mul < o->lo ||
	    d * mul > o->hi)
		return fp_error_set(
			err, FP_EINVAL,
			"%s=%s: not a size from 1M to 1000000M (a "
			"number of MiB, or with a unit: 512K, 64M, 2G)",
			o->key, v);
	*out = (uint64_t)(d * mul);
	return 0;
}

/* Bytes with the largest binary unit that gives a whole number. */
static char *_size_text(uint64_t b)
{
	static const char units[] = "TGMK";
	char *s = NULL;

	for (int i = 0; i < 4; i++) {
		uint64_t mul = 1ull << (10 * (4 - i));

		if (b && b % mul == 0)
			return asprintf(&s, "%" PRIu64 "%c", b / mul,
					units[i]) < 0
				       ? NULL
				       : s;
	}
	return asprintf(&s, "%" PRIu64 "B", b) < 0 ? NULL : s;
}

static int _path(const char *key, const char *v, char **out, fp_error_t *err)
{
	if (v[0] != '/')
		return fp_error_set(err, FP_EINVAL,
				    "%s=%s: not an absolute path", key, v);
	free(*out);
	*out = strdup(v);
	return *out ? 0
		    : fp_error_set(err, FP_ENOMEM, "%s: out of memory", key);
}

/* An IdleWatts name: a kind (package, dram, psys) or a domain of one
 * ("package-0", "dram-1"), in any case. */
static bool _idle_name_ok(const char *name)
{
	for (size_t k = 0; k < sizeof(_kinds) / sizeof(*_kinds); k++) {
		size_t n = strlen(_kinds[k]);
		const char *p = name + n;

		if (strncasecmp(name, _kinds[k], n))
			continue;
		if (!*p)
			return true;
		if (*p++ != '-' || !*p || k == FP_DOMAIN_PSYS)
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
		return !*p && p - name <= (ptrdiff_t)n + 7;
	}
	return false;
}

/* IdleWatts: "auto", or a comma list of <kind>=W (package, dram, psys) and
 * <domain>=W (package-0, dram-1) items; checked here, applied at open. A
 * name given twice is an error: which of the two was meant? */
static int _idle_list(const opt_t *o, const char *v, fp_error_t *err)
{
	char *copy, *item, *save = NULL;
	char **seen;
	size_t nseen = 0;
	int rc = 0;

	if (!strcasecmp(v, "auto"))
		return 0;
	copy = strdup(v);
	seen = calloc(strlen(v) / 2 + 1, sizeof(*seen));
	if (!copy || !seen) {
		free(copy);
		free(seen);
		return fp_error_set(err, FP_ENOMEM, "IdleWatts: out of memory");
	}
	for (item = strtok_r(copy, ",", &save); item && !rc;
	     item = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(item, '=');
		double w;

		if (!eq || eq == item) {
			rc = fp_error_set(
				err, FP_EINVAL,
				"IdleWatts=%s: '%s' is not name=watts", v,
				item);
			break;
		}
		/* The whole list and the item: "IdleWatts=-3" alone would
		 * not say which domain was wrong. */
		if (_number(o, eq + 1, &w, NULL)) {
			rc = fp_error_set(
				err, FP_EINVAL,
				"IdleWatts=%s: '%s' is not name=watts "
				"with watts from 0 to 100000",
				v, item);
			break;
		}
		*eq = '\0';
		if (!_idle_name_ok(item)) {
			rc = fp_error_set(
				err, FP_EINVAL,
				"IdleWatts=%s: unknown domain '%s' (a "
				"kind: package, dram, psys; or a domain: "
				"package-0, dram-1)",
				v, item);
			break;
		}
		for (size_t i = 0; i < nseen; i++)
			if (!strcasecmp(seen[i], item))
				rc = fp_error_set(
					err, FP_EINVAL,
					"IdleWatts=%s: '%s' given twice", v,
					item);
		seen[nseen++] = item;
	}
	free(seen);
	free(copy);
	return rc;
}

static const opt_t *_opt(const char *key)
{
	for (size_t i = 0; i < NOPTS; i++)
		if (!strcmp(_opts[i].key, key))
			return &_opts[i];
	return NULL;
}

int fp_poller_config_set(fp_poller_config_t *cfg, const char *key,
			 const char *v, fp_error_t *err)
{
	const opt_t *o = _opt(key);
	void *f;
	double d;

	fp_error_clear(err);
	if (!v)
		return 0;
	if (!o)
		return fp_error_set(err, FP_EINVAL, "%s=%s: unknown option",
				    key, v);
	f = (char *)cfg + o->off;
	switch (o->kind) {
	case OPT_PATH:
		return _path(key, v, f, err);
	case OPT_NUMBER:
		if (_number(o, v, &d, err))
			return -1;
		*(double *)f = d;
		return 0;
	case OPT_SIZE:
		return _size(o, v, f, err);
	case OPT_BOOL:
		if (fp_option_bool(v, f))
			return fp_error_set(err, FP_EINVAL,
					    "%s=%s: not yes or no "
					    "(yes/no, true/false, on/off, 1/0)",
					    key, v);
		return 0;
	case OPT_ACTIVITY:
		for (int i = 0; i < 3; i++) {
			if (!strcasecmp(v, _activities[i])) {
				*(fp_activity_mode_t *)f =
					(fp_activity_mode_t)i;
				return 0;
			}
		}
		return fp_error_set(err, FP_EINVAL,
				    "%s=%s: not auto, cgroup or perf", key, v);
	case OPT_IDLE:
		if (_idle_list(o, v, err))
			return -1;
		free(*(char **)f);
		*(char **)f = strdup(v);
		return *(char **)f ? 0
				   : fp_error_set(err, FP_ENOMEM,
						  "%s: out of memory", key);
	case OPT_LIB:
		/* dlopen() searches the library path for a bare name; a
		 * relative path would depend on slurmd's folder */
		if (!*v || (v[0] != '/' && strchr(v, '/')))
			return fp_error_set(
				err, FP_EINVAL,
				"%s=%s: not none, an "
				"absolute path or a library file name",
				key, v);
		free(*(char **)f);
		*(char **)f = strdup(v);
		return *(char **)f ? 0
				   : fp_error_set(err, FP_ENOMEM,
						  "%s: out of memory", key);
	case OPT_GPUS:
		if (!strcasecmp(v, "auto") || !strcasecmp(v, "none")) {
			*(bool *)f = !strcasecmp(v, "auto");
			return 0;
		}
		return fp_error_set(err, FP_EINVAL, "%s=%s: not auto or none",
				    key, v);
	case OPT_COMPRESS:
		if (!strcasecmp(v, "zstd") || !strcasecmp(v, "none")) {
			*(fp_trace_form_t *)f = strcasecmp(v, "zstd")
							? FP_TRACE_PLAIN
							: FP_TRACE_ZSTD;
			return 0;
		}
		return fp_error_set(err, FP_EINVAL, "%s=%s: not zstd or none",
				    key, v);
	case OPT_TRACE_FORM:
		if (!strcasecmp(v, "plain") || !strcasecmp(v, "compact")) {
			*(unsigned *)f = strcasecmp(v, "compact")
						 ? 0
						 : FP_TRACE_KEYFRAME;
			return 0;
		}
		return fp_error_set(err, FP_EINVAL,
				    "%s=%s: not plain or compact", key, v);
	case OPT_METRICS_JOBS:
		for (int i = 0; i < 3; i++) {
			if (!strcasecmp(v, fp_metrics_jobs_names[i])) {
				*(fp_metrics_jobs_t *)f = (fp_metrics_jobs_t)i;
				return 0;
			}
		}
		return fp_error_set(err, FP_EINVAL,
				    "%s=%s: not running, all or none", key, v);
	}
	return -1;
}

static char *_dupf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *_dupf(const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	return s;
}

char *fp_poller_config_get(const fp_poller_config_t *c, const char *key)
{
	const opt_t *o = _opt(key);
	const void *f;

	if (!o)
		return NULL;
	f = (const char *)c + o->off;
	switch (o->kind) {
	case OPT_PATH:
	case OPT_IDLE:
	case OPT_LIB:
		return strdup(*(char *const *)f ? *(char *const *)f : o->dflt);
	case OPT_GPUS:
		return strdup(*(const bool *)f ? "auto" : "none");
	case OPT_COMPRESS:
		return strdup(*(const fp_trace_form_t *)f == FP_TRACE_ZSTD
				      ? "zstd"
				      : "none");
	case OPT_TRACE_FORM:
		return strdup(*(const unsigned *)f ? "compact" : "plain");
	case OPT_NUMBER:
		return _dupf("%g", *(const double *)f);
	case OPT_SIZE:
		return _size_text(*(const uint64_t *)f);
	case OPT_BOOL:
		return strdup(*(const bool *)f ? "yes" : "no");
	case OPT_ACTIVITY:
		return strdup(_activities[*(const fp_activity_mode_t *)f]);
	case OPT_METRICS_JOBS:
		return strdup(
			fp_metrics_jobs_names[*(const fp_metrics_jobs_t *)f]);
	}
	return NULL;
}

struct job_labels {
	uint64_t job;
	bool found;
	char user[128], account[128];
};

/* A GPU's reading at the last metrics: its power is the difference. */
struct gpu_prev {
	uint64_t energy_uj;
	bool valid;
	double t;
};

/* The GPUs a step holds, as its step daemon recorded them. */
struct step_gpus {
	char *id;
	bool found; /* its file was read */
	int *gpus;  /* desc indices */
	size_t ngpus;
	double seen_t; /* last poll it was in the sample */
	/* SM-busy ns of its processes on each of gpus, summed while the GPU
	 * is shared by several jobs; seen: one of them had a sample. */
	uint64_t *busy;
	bool *busy_seen;
	/* the seconds it held each of gpus while that GPU drew idle power,
	 * while it could be judged (floor known, read), while unread */
	double *idle_s, *judged_s, *unread_s;
	char unknown[256]; /* held ids of no GPU here, comma-separated */
};

struct fp_poller {
	fp_poller_config_t cfg; /* paths resolved */
	fp_log_fn log;
	void *log_ctx;
	fp_rapl_t *rapl;
	fp_sensor_t *sensor;
	fp_topology_t *topo;
	fp_activity_t *activity;
	fp_node_desc_t *desc;
	fp_engine_t *engine;
	fp_sample_t *sample;
	bool simulated;
	char *steps_dir, *jobs_dir, *gpus_dir;
	char *parts_dir;	   /* each ended step's energy by part */
	fp_gpu_floor_t *gpu_floor; /* each GPU's idle floor */
	uint64_t *gpu_last_uj;	   /* each GPU's reading at the last poll */
	bool *gpu_last_ok;
	double prev_t; /* the poll before the last */

	fp_gpu_t *gpu;	  /* NULL: no GPU */
	size_t *gpu_dev;  /* device of each desc GPU */
	size_t *gpu_desc; /* desc GPU of each device, SIZE_MAX: none */
	fp_gpu_reading_t *gpu_read;
	struct step_gpus *holds;
	size_t nholds;
	char *proc_dir; /* <pid>/cgroup of a GPU's processes */

	/* last values, for power and per-source energy */
	bool have_prev;
	double prev_energy_j;
	double source_energy_j[FP_SOURCE_COUNT];
	fp_sensor_reading_t reading;

	fp_trace_writer_t *trace;
	char *trace_path;
	int trace_day;
	bool trace_failed;
	bool metrics_failed, publish_failed, board_full;
	fp_metrics_t *metrics; /* NULL: no Metrics= */
	double metrics_t;      /* time of the last metrics written */
	bool metrics_written;
	fp_board_t *board;	   /* NULL: every step published as a file */
	struct job_labels *labels; /* of the jobs of the last metrics */
	size_t nlabels;
	struct gpu_prev *gpu_prev; /* each GPU at the last metrics */

	unsigned long polls;
	double poll_cpu_s, last_t;
};

static void _say(fp_poller_t *p, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void _say(fp_poller_t *p, int level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (!p->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	p->log(p->log_ctx, level, msg);
}

static int _mkdirs(const char *path, mode_t mode)
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

/* Applies IdleWatts to the domains: a domain name wins over its kind. A
 * name of no domain of this node (package-3 on two packages) is said once:
 * the option was checked when set, but not against this machine. */
static void _apply_idle(fp_poller_t *p)
{
	char *copy, *item, *save = NULL;

	if (!p->cfg.idle_w || !strcasecmp(p->cfg.idle_w, "auto"))
		return;
	for (int pass = 0; pass < 2; pass++) {
		copy = strdup(p->cfg.idle_w);
		if (!copy)
			return;
		for (item = strtok_r(copy, ",", &save); item;
		     item = strtok_r(NULL, ",", &save)) {
			char *eq = strchr(item, '=');
			bool found = false;
			double w;

			if (!eq)
				continue;
			*eq = '\0';
			w = strtod(eq + 1, NULL);
			for (size_t d = 0; d < p->desc->ndomains; d++) {
				fp_domain_t *dom = &p->desc->domains[d];
				bool kind =
					!strcasecmp(item, _kinds[dom->kind]);
				bool name = !strcasecmp(item, dom->name);

				found |= kind || name;
				if ((pass == 0 && kind) || (pass == 1 && name))
					dom->idle_w = w;
			}
			if (pass == 1 && !found)
				_say(p, FP_LOG_ERROR,
				     "IdleWatts=%s: this node "
				     "has no domain '%s'; ignored",
				     p->cfg.idle_w, item);
		}
		free(copy);
	}
}

static char *_join(const char *a, const char *b)
{
	return _dupf("%s/%s", a, b);
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
		p->parts_dir = _join(run, "parts");
	} else if (fp_step_parts_dir(cfg->parts_dir, cfg->node, dir,
				     sizeof(dir)) == 0) {
		p->parts_dir = strdup(dir);
	} else {
		_say(p, FP_LOG_ERROR,
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
	if ((slash && slash != dir && _mkdirs(dir, 0755)) ||
	    (mkdir(p->parts_dir, 0750) && errno != EEXIST) ||
	    stat(p->parts_dir, &st) ||
	    (!S_ISDIR(st.st_mode) && (errno = ENOTDIR)) ||
	    (cfg->parts_gid != (gid_t)-1 && st.st_gid != cfg->parts_gid &&
	     chown(p->parts_dir, (uid_t)-1, cfg->parts_gid)) ||
	    ((st.st_mode & 07777) != 0750 && chmod(p->parts_dir, 0750))) {
		_say(p, FP_LOG_ERROR,
		     "step records folder %s (PartsDir): %s; "
		     "step records are not written, summaries will count "
		     "them missing",
		     p->parts_dir, strerror(errno));
		free(p->parts_dir);
		p->parts_dir = NULL;
	}
}

/* Opens the GPUs and adds them to the node. A simulated node's GPUs are
 * fp-simnode's (its gpu-hwmon tree; NVML only where NvmlLibrary names the
 * test library), never the machine's: AMD SMI is never loaded there, even
 * when AmdSmiLibrary is given, since fp-simnode has no AMD SMI model and
 * the library would find a ROCm host's own GPUs. An APU whose GPU power
 * RAPL already counts is left out: adding it would count those joules
 * twice. */
static int _open_gpus(fp_poller_t *p, const fp_poller_config_t *cfg,
		      fp_error_t *err)
{
	fp_gpu_opts_t go = { 0 };
	fp_error_t e2 = { 0 };
	char *hwmon = NULL;
	size_t nd, n = 0;

	if (!cfg->gpus)
		return 0;
	if (cfg->gpu_hwmon_root)
		hwmon = strdup(cfg->gpu_hwmon_root);
	else if (cfg->sim_dir)
		hwmon = _join(cfg->sim_dir, "gpu-hwmon");
	go.hwmon_root = hwmon;
	go.nvml_lib = cfg->nvml_lib && !strcasecmp(cfg->nvml_lib, "none") ? ""
		      : cfg->nvml_lib ? cfg->nvml_lib
		      : cfg->sim_dir  ? ""
				      : NULL;
	go.amdsmi_lib = cfg->amdsmi_lib;
	if (cfg->sim_dir ||
	    (go.amdsmi_lib && !strcasecmp(go.amdsmi_lib, "none")))
		go.amdsmi_lib = "";
	go.log = p->log;
	go.log_ctx = p->log_ctx;
	p->proc_dir = strdup(cfg->proc_root ? cfg->proc_root : "/proc");
	if (!p->proc_dir) {
		free(hwmon);
		return fp_error_set(err, FP_ENOMEM, "gpus: out of memory");
	}
	p->gpu = fp_gpu_open(&go, &e2);
	free(hwmon);
	if (!p->gpu) {
		_say(p, FP_LOG_INFO, "no GPU: %s", e2.msg);
		return 0;
	}
	nd = fp_gpu_ndevices(p->gpu);
	p->gpu_dev = calloc(nd, sizeof(*p->gpu_dev));
	p->gpu_desc = calloc(nd, sizeof(*p->gpu_desc));
	p->gpu_read = calloc(nd, sizeof(*p->gpu_read));
	p->gpu_last_uj = calloc(nd, sizeof(*p->gpu_last_uj));
	p->gpu_last_ok = calloc(nd, sizeof(*p->gpu_last_ok));
	p->desc->gpus = calloc(nd, sizeof(*p->desc->gpus));
	if (!p->gpu_dev || !p->gpu_desc || !p->gpu_read || !p->desc->gpus ||
	    !p->gpu_last_uj || !p->gpu_last_ok)
		return fp_error_set(err, FP_ENOMEM, "gpus: out of memory");
	for (size_t i = 0; i < nd; i++) {
		const fp_gpu_info_t *g = fp_gpu_device(p->gpu, i);
		fp_node_gpu_t *ng = &p->desc->gpus[n];

		p->gpu_desc[i] = SIZE_MAX;
		if ((g->flags & FP_GPU_APU) && p->rapl) {
			_say(p, FP_LOG_INFO,
			     "GPU %s (%s) is an APU whose power "
			     "RAPL already counts: not added",
			     g->uuid, g->name);
			continue;
		}
		ng->uuid = strdup(g->uuid);
		ng->vendor = strdup(fp_gpu_vendor_name(g->vendor));
		if (!ng->uuid || !ng->vendor)
			return fp_error_set(err, FP_ENOMEM,
					    "gpus: out of memory");
		/* the reader's energy is its own monotonic sum: no wrap */
		ng->max_energy_uj = 0;
		ng->idle_w = -1;
		ng->power_integral = g->source == FP_GPU_POWER_INTEGRAL;
		p->gpu_dev[n] = i;
		p->gpu_desc[i] = n;
		p->desc->ngpus = ++n;
		_say(p, FP_LOG_INFO, "GPU %zu: %s %s %s (%s)%s", n - 1,
		     fp_gpu_vendor_name(g->vendor), g->name, g->uuid,
		     fp_gpu_source_name(g->source),
		     (g->flags & FP_GPU_MIG) ? "; MIG on: measured as one GPU"
					     : "");
	}
	return 0;
}

/* Each GPU's cumulative energy into the sample. */
static void _read_gpus(fp_poller_t *p, double now)
{
	if (!p->desc->ngpus)
		return;
	fp_gpu_read(p->gpu, now, p->gpu_read, NULL);
	for (size_t k = 0; k < p->desc->ngpus; k++) {
		const fp_gpu_reading_t *r = &p->gpu_read[p->gpu_dev[k]];

		p->sample->gpu_energy_uj[k] = r->energy_uj;
		p->sample->gpu_valid[k] = r->valid;
	}
}

static struct step_gpus *_hold_of(fp_poller_t *p, const char *id)
{
	struct step_gpus *h;

	for (size_t i = 0; i < p->nholds; i++)
		if (!strcmp(p->holds[i].id, id))
			return &p->holds[i];
	h = realloc(p->holds, (p->nholds + 1) * sizeof(*h));
	if (!h)
		return NULL;
	p->holds = h;
	h = &p->holds[p->nholds];
	memset(h, 0, sizeof(*h));
	h->id = strdup(id);
	if (!h->id)
		return NULL;
	p->nholds++;
	return h;
}

/* Frees what _read_hold gave h, keeping its id. */
static void _hold_clear(struct step_gpus *h)
{
	free(h->gpus);
	free(h->busy);
	free(h->busy_seen);
	free(h->idle_s);
	free(h->judged_s);
	free(h->unread_s);
	h->gpus = NULL;
	h->busy = NULL;
	h->busy_seen = NULL;
	h->idle_s = h->judged_s = h->unread_s = NULL;
	h->ngpus = 0;
}

/* The file of a step is read until it is there (its step daemon writes it
 * as the step starts); GRES do not change during a step. */
static void _read_hold(fp_poller_t *p, struct step_gpus *h)
{
	char list[4096];
	size_t dev[FP_STEP_GPUS_MAX], n = 0;
	fp_error_t e = { 0 };

	if (fp_step_gpus_read(p->gpus_dir, h->id, list, sizeof(list), &e))
		return;
	h->found = true;
	if (fp_gpu_map_ids(list, p->gpu, dev, FP_STEP_GPUS_MAX, &n, h->unknown,
			   sizeof(h->unknown), &e))
		_say(p, FP_LOG_WARN, "step %s: %s", h->id, e.msg);
	h->gpus = calloc(n ? n : 1, sizeof(*h->gpus));
	h->busy = calloc(n ? n : 1, sizeof(*h->busy));
	h->busy_seen = calloc(n ? n : 1, sizeof(*h->busy_seen));
	h->idle_s = calloc(n ? n : 1, sizeof(*h->idle_s));
	h->judged_s = calloc(n ? n : 1, sizeof(*h->judged_s));
	h->unread_s = calloc(n ? n : 1, sizeof(*h->unread_s));
	if (!h->gpus || !h->busy || !h->busy_seen || !h->idle_s ||
	    !h->judged_s || !h->unread_s) {
		_hold_clear(h);
		return;
	}
	for (size_t k = 0; k < n; k++)
		if (p->gpu_desc[dev[k]] != SIZE_MAX)
			h->gpus[h->ngpus++] = (int)p->gpu_desc[dev[k]];
}

/* Gives each step of the sample its GPUs; forgets steps gone for ten
 * minutes, as the engine does, and their files. */
static void _step_gpus(fp_poller_t *p, double now)
{
	if (!p->desc->ngpus)
		return;
	for (size_t i = 0; i < p->sample->nsteps; i++) {
		fp_step_sample_t *st = &p->sample->steps[i];
		struct step_gpus *h = _hold_of(p, st->id);

		if (!h)
			continue;
		h->seen_t = now;
		if (!h->found)
			_read_hold(p, h);
		if (st->ngpus == h->ngpus &&
		    (!h->ngpus ||
		     !memcmp(st->gpus, h->gpus, h->ngpus * sizeof(int))))
			continue;
		fp_sample_step_set_gpus(st, h->gpus, h->ngpus, NULL, NULL);
	}
	for (size_t i = p->nholds; i-- > 0;) {
		struct step_gpus *h = &p->holds[i];

		if (now - h->seen_t < 600)
			continue;
		fp_step_gpus_remove(p->gpus_dir, h->id);
		free(h->id);
		_hold_clear(h);
		p->holds[i] = p->holds[--p->nholds];
	}
}

/* The time each step of the sample held each of its GPUs since the last
 * poll, by what the GPU did then: drew idle power (its mean within
 * FP_GPU_IDLE_RATIO x its floor + FP_GPU_IDLE_MARGIN_W), drew more, or
 * could not be read. An interval after an unread one has no power of its
 * own (the reader carries the gap's energy into it) and is not judged;
 * nor is one before the GPU's floor is known. */
static void _gpu_hold_time(fp_poller_t *p, double now)
{
	double dt = now - p->last_t;
	const uint64_t *uj = p->sample->gpu_energy_uj;
	const bool *ok = p->sample->gpu_valid;

	if (!p->desc->ngpus)
		return;
	for (size_t i = 0; p->polls && i < p->sample->nsteps; i++) {
		struct step_gpus *h = _hold_of(p, p->sample->steps[i].id);

		for (size_t k = 0; h && k < h->ngpus; k++) {
			size_t g = (size_t)h->gpus[k];
			double fl = fp_gpu_floor_w(p->gpu_floor, g), w;

			if (!ok[g]) {
				h->unread_s[k] += dt;
				continue;
			}
			if (!p->gpu_last_ok[g] || uj[g] < p->gpu_last_uj[g] ||
			    !isfinite(fl))
				continue;
			w = (double)(uj[g] - p->gpu_last_uj[g]) / 1e6 / dt;
			h->judged_s[k] += dt;
			if (w <= fl * FP_GPU_IDLE_RATIO + FP_GPU_IDLE_MARGIN_W)
				h->idle_s[k] += dt;
		}
	}
	memcpy(p->gpu_last_uj, uj, p->desc->ngpus * sizeof(*uj));
	memcpy(p->gpu_last_ok, ok, p->desc->ngpus * sizeof(*ok));
}

/* The cgroup paths of a process, read once from <proc_dir>/<pid>/cgroup
 * into buf: one per line, without the leading '/' ("0::/system.slice/...
 * /step_0/user/task_0" (v2) or "4:cpuacct,cpu:/slurm/uid_0/job_1/step_0/
 * task_0" (v1)). False for a process that exited (no file): its samples
 * are nobody's. */
static bool _pid_cgroups(const fp_poller_t *p, unsigned pid, char *buf,
			 size_t size)
{
	char path[4200], line[4096];
	size_t used = 0;
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/%u/cgroup", p->proc_dir, pid) >=
		    (int)sizeof(path) ||
	    !(f = fopen(path, "r")))
		return false;
	buf[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':'), *at;
		size_t len;

		if (!c || !(c = strchr(c + 1, ':')))
			continue;
		at = c + 1;
		while (*at == '/')
			at++;
		at[strcspn(at, "\n")] = '\0';
		len = strlen(at);
		if (used + len + 2 > size)
			break;
		memcpy(buf + used, at, len);
		used += len;
		buf[used++] = '\n';
		buf[used] = '\0';
	}
	fclose(f);
	return true;
}

/* Whether one of the paths _pid_cgroups read is the cgroup rel (a path
 * under a cgroup root, as the activity reader names a step) or under it. */
static bool _paths_in(const char *paths, const char *rel)
{
	size_t len = strlen(rel);

	for (const char *at = paths; *at; at = strchr(at, '\n') + 1)
		if (!strncmp(at, rel, len) &&
		    (at[len] == '\n' || at[len] == '/'))
			return true;
	return false;
}

/* Holds desc GPU g: k its position among the step's GPUs, or -1. */
static int _holds(const struct step_gpus *h, int g)
{
	for (size_t k = 0; h && k < h->ngpus; k++)
		if (h->gpus[k] == g)
			return (int)k;
	return -1;
}

/* Per-step SM-busy time on each GPU held by steps of several jobs, from
 * the reader's per-process samples, into the steps' gpu_busy (trace-v1):
 * the engine splits such a GPU by it. A step's value is null until one of
 * its processes had a sample on that GPU, and on a GPU not shared or whose
 * samples could not be read: the engine then splits equally. */
static void _gpu_busy(fp_poller_t *p)
{
	size_t ns = p->sample->nsteps, na;
	fp_activity_step_t *as = NULL;
	struct step_gpus **hs = NULL;
	bool *shared = NULL;
	const char **rel = NULL;
	char cg[8192];

	if (!p->desc->ngpus || !ns)
		return;
	na = fp_activity_steps(p->activity, NULL, 0);
	hs = calloc(ns, sizeof(*hs));
	rel = calloc(ns, sizeof(*rel));
	shared = calloc(p->desc->ngpus, sizeof(*shared));
	as = calloc(na ? na : 1, sizeof(*as));
	if (!hs || !rel || !shared || !as)
		goto out;
	na = fp_activity_steps(p->activity, as, na);
	for (size_t i = 0; i < ns; i++) {
		hs[i] = _hold_of(p, p->sample->steps[i].id);
		for (size_t j = 0; j < na && !rel[i]; j++)
			if (!strcmp(as[j].id, p->sample->steps[i].id))
				rel[i] = as[j].cgroup;
	}
	for (size_t g = 0; g < p->desc->ngpus; g++) {
		const fp_gpu_proc_t *pr;
		uint64_t job = 0;
		size_t n = 0;
		fp_error_t e = { 0 };

		for (size_t i = 0; i < ns; i++) {
			if (_holds(hs[i], (int)g) < 0)
				continue;
			if (job && p->sample->steps[i].job != job)
				shared[g] = true;
			job = p->sample->steps[i].job;
		}
		if (!shared[g])
			continue;
		if (fp_gpu_procs(p->gpu, p->gpu_dev[g], &pr, &n, &e)) {
			shared[g] = false; /* no value: equal */
			continue;
		}
		for (size_t s = 0; s < n; s++) {
			/* read once per sample, matched against each step */
			if (!_pid_cgroups(p, pr[s].pid, cg, sizeof(cg)))
				continue;
			for (size_t i = 0; i < ns; i++) {
				int k = _holds(hs[i], (int)g);

				if (k < 0 || !rel[i] || !_paths_in(cg, rel[i]))
					continue;
				hs[i]->busy[k] += FP_GPU_PROC_BUSY_NS(&pr[s]);
				hs[i]->busy_seen[k] = true;
				break;
			}
		}
	}
	for (size_t i = 0; i < ns; i++) {
		fp_step_sample_t *st = &p->sample->steps[i];
		const struct step_gpus *h = hs[i];
		bool any = false;

		if (!h || !h->ngpus || st->ngpus != h->ngpus)
			continue;
		for (size_t k = 0; k < h->ngpus; k++)
			any |= shared[h->gpus[k]];
		if (!any && !st->gpu_busy)
			continue;
		if (!st->gpu_busy &&
		    fp_sample_step_set_gpus(st, h->gpus, h->ngpus, h->busy,
					    NULL))
			continue;
		for (size_t k = 0; k < h->ngpus; k++) {
			st->gpu_busy[k] = h->busy[k];
			st->gpu_busy_valid[k] = shared[h->gpus[k]] &&
						h->busy_seen[k];
		}
	}
out:
	free(hs);
	free(rel);
	free(shared);
	free(as);
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
		powercap = _join(cfg->sim_dir, "powercap");
		sensor = _join(cfg->sim_dir, "sensor.json");
		topo = _join(cfg->sim_dir, "topology.xml");
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
		_say(p, FP_LOG_INFO, "no RAPL: %s", e2.msg);
	else if (fp_rapl_fill_desc(p->rapl, p->desc, &e2)) {
		fp_error_set(err, e2.code, "rapl: %s", e2.msg);
		goto fail;
	}
	if (p->rapl && fp_rapl_simulated(p->rapl))
		p->simulated = true;
	_apply_idle(p);
	if (_open_gpus(p, cfg, err))
		goto fail;

	if (sensor) {
		fp_sensor_config_t sc = { .path = sensor,
					  .max_age_s = cfg->sensor_max_age_s,
					  .ceiling_w = cfg->sensor_ceiling_w };

		p->sensor = fp_sensor_new(&sc, log, log_ctx, &e2);
		if (!p->sensor)
			_say(p, FP_LOG_ERROR, "wall sensor %s unusable: %s",
			     sensor, e2.msg);
	}
	if (!p->rapl && !p->sensor) {
		fp_error_set(
			err, FP_ENOTSUP,
			"no energy source: no RAPL under %s and no wall sensor "
			"configured",
			powercap ? powercap : FP_RAPL_DEFAULT_ROOT);
		goto fail;
	}

	proc_stat = _join(cfg->proc_root ? cfg->proc_root : "/proc", "stat");
	aopts.proc_stat = proc_stat;
	if (cfg->cgroup_root) {
		v1a = _join(cfg->cgroup_root, "cpuacct");
		v1s = _join(cfg->cgroup_root, "cpuset");
		v2 = _join(cfg->cgroup_root, "unified");
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
	p->steps_dir = _join(run, "steps");
	p->jobs_dir = _join(run, "jobs");
	p->gpus_dir = _join(run, "gpus");
	p->gpu_floor = fp_gpu_floor_new(p->desc->ngpus);
	if (_mkdirs(p->steps_dir, 0700) || _mkdirs(p->jobs_dir, 0700) ||
	    _mkdirs(p->gpus_dir, 0700)) {
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
		_say(p, FP_LOG_ERROR, "%s; publishing one file per step",
		     e2.msg);
	_say(p, FP_LOG_INFO,
	     "node %s: %zu CPUs, %zu packages, %zu RAPL domains%s, %zu "
	     "GPUs, wall sensor %s, activity from %s%s",
	     p->desc->node, p->desc->cpus, p->desc->npackages,
	     p->desc->ndomains, p->rapl ? "" : " (none)", p->desc->ngpus,
	     p->sensor ? sensor : "none",
	     fp_activity_source_name(fp_activity_source(p->activity)),
	     p->simulated ? "; SIMULATED node" : "");
	free(proc_stat);
	free(v1a);
	free(v1s);
	free(v2);
	free(powercap);
	free(sensor);
	free(topo);
	return p;
fail:
	free(proc_stat);
	free(v1a);
	free(v1s);
	free(v2);
	free(powercap);
	free(sensor);
	free(topo);
	fp_poller_free(p);
	return NULL;
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
		_hold_clear(&p->holds[i]);
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

/* Opens a new trace file when there is none, it passed its size, or the
 * day changed. A trace that cannot be written is logged once and left. */
static void _trace(fp_poller_t *p, double now)
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
		if (_mkdirs(p->cfg.trace_dir, 0700)) {
			_say(p, FP_LOG_ERROR,
			     "trace folder %s: %s; not tracing",
			     p->cfg.trace_dir, strerror(errno));
			p->trace_failed = true;
			return;
		}
		strftime(name, sizeof(name), "%Y%m%dT%H%M%SZ", &tm);
		free(p->trace_path);
		p->trace_path = _dupf(
			"%s/%s-%s.jsonl%s", p->cfg.trace_dir, p->desc->node,
			name, p->cfg.trace_form == FP_TRACE_ZSTD ? ".zst" : "");
		p->trace = fp_trace_writer_open_compact(p->trace_path, p->desc,
							p->cfg.trace_form,
							p->cfg.trace_keyframe,
							&e);
		if (!p->trace) {
			_say(p, FP_LOG_ERROR, "trace %s: %s; not tracing",
			     p->trace_path, e.msg);
			p->trace_failed = true;
			return;
		}
		p->trace_day = tm.tm_yday;
	}
	if (fp_trace_writer_write(p->trace, p->sample, &e) ||
	    fp_trace_writer_flush(p->trace, &e)) {
		_say(p, FP_LOG_ERROR, "trace %s: %s; not tracing",
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
		_say(p, FP_LOG_ERROR, "%s", e.msg);
		p->publish_failed = true;
	}
}

static void _publish(fp_poller_t *p, const fp_engine_node_t *node)
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
			_say(p, FP_LOG_WARN,
			     "the step board holds %d steps: "
			     "more are published as files",
			     FP_BOARD_SLOTS);
			p->board_full = true;
		}
		if (rc == 1)
			rc = fp_publish_step(p->steps_dir, r.id, &v, &e);
		if (rc && !p->publish_failed) {
			_say(p, FP_LOG_ERROR, "%s", e.msg);
			p->publish_failed = true;
		}
	}
	fp_publish_board_round(p->board);
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

/* The textfile is due at the first poll MetricsInterval after the last
 * one written, give or take a tenth of a poll (polls drift by a few ms). */
static bool _metrics_due(const fp_poller_t *p, double now)
{
	return !p->metrics_written ||
	       now - p->metrics_t + p->cfg.interval_s / 10 >=
		       p->cfg.metrics_interval_s;
}

static void _metrics(fp_poller_t *p, const fp_engine_node_t *node)
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
			_say(p, FP_LOG_ERROR, "%s", e.msg);
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
	_read_gpus(p, now);
	if (p->sample->gpu_energy_uj)
		fp_gpu_floor_push(p->gpu_floor, now, p->sample->gpu_energy_uj,
				  p->sample->gpu_valid);
	if (fp_activity_read(p->activity, p->desc, p->sample, &e))
		return fp_error_set(err, e.code, "activity: %s", e.msg);
	_step_gpus(p, now);
	_gpu_hold_time(p, now);
	_gpu_busy(p);
	if (fp_engine_push(p->engine, p->sample, &e))
		return fp_error_set(err, e.code, "attribution: %s", e.msg);
	p->prev_t = p->last_t;
	p->last_t = now;
	p->polls++;

	fp_engine_node(p->engine, &node);
	/* the engine dropped a wall below RAPL: said once until it clears,
	 * and traced as the engine took it (no wall), so replay agrees */
	if (p->sensor && node.wall_checked)
		fp_sensor_check_rapl(p->sensor, node.wall_delta_j,
				     node.rapl_delta_j);
	if (node.wall_below_rapl)
		p->sample->wall_valid = false;
	if (p->have_prev && node.source < FP_SOURCE_COUNT)
		p->source_energy_j[node.source] +=
			node.energy_j - p->prev_energy_j;
	p->prev_energy_j = node.energy_j;
	p->have_prev = true;

	_publish(p, &node);
	_trace(p, now);
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
		_metrics(p, &node);
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
