/* The poller's options: the table of acct_gather.conf's keys with their
 * bounds and defaults (the man page states the same, a test checks it),
 * their parsing and printing, and IdleWatts applied. */
#include "poller_state.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "footprint/option.h"

/* The options: one row each, the man page lists the same keys, bounds,
 * units and defaults. A path's, a library's and IdleWatts' default is what
 * an unset option (NULL) means, shown as `dflt` ("(...)": said in words);
 * every other option's `dflt` is its value until set, as it is written. */
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
	const char *dflt; /* the default: see above */
	size_t off;
} opt_t;

#define OFF(f) offsetof(fp_poller_config_t, f)
#define TEXT(x) #x
#define NUMBER_TEXT(x) TEXT(x)
static const opt_t _opts[] = {
	{ "PowercapRoot", OPT_PATH, 0, 0, NULL, FP_RAPL_DEFAULT_ROOT,
	  OFF(powercap_root) },
	{ "ProcRoot", OPT_PATH, 0, 0, NULL, "/proc", OFF(proc_root) },
	{ "CgroupRoot", OPT_PATH, 0, 0, NULL, "(the mounted hierarchies)",
	  OFF(cgroup_root) },
	{ "Topology", OPT_PATH, 0, 0, NULL, "(this machine's)",
	  OFF(topology_xml) },
	{ "SimulatedNode", OPT_PATH, 0, 0, NULL, "(none)", OFF(sim_dir) },
	{ "Sensor", OPT_PATH, 0, 0, NULL, "(none)", OFF(sensor_path) },
	{ "SensorMaxAge", OPT_NUMBER, FP_SENSOR_MAX_AGE_MIN_S,
	  FP_SENSOR_MAX_AGE_MAX_S, "seconds", NUMBER_TEXT(FP_SENSOR_MAX_AGE_S),
	  OFF(sensor_max_age_s) },
	{ "SensorCeiling", OPT_NUMBER, FP_SENSOR_CEILING_MIN_W,
	  FP_SENSOR_CEILING_MAX_W, "watts", NUMBER_TEXT(FP_SENSOR_CEILING_W),
	  OFF(sensor_ceiling_w) },
	{ "IdleWatts", OPT_IDLE, 0, 100000, "watts", "auto", OFF(idle_w) },
	{ "Calibration", OPT_BOOL, 0, 0, NULL, "yes", OFF(calibration) },
	{ "Activity", OPT_ACTIVITY, 0, 0, NULL, "auto", OFF(activity) },
	{ "PollInterval", OPT_NUMBER, 0.1, 3600, "seconds", "5",
	  OFF(interval_s) },
	{ "RunDir", OPT_PATH, 0, 0, NULL, "/run/slurm-footprint",
	  OFF(run_dir) },
	{ "PartsDir", OPT_PATH, 0, 0, NULL, "(RunDir/parts)", OFF(parts_dir) },
	{ "Metrics", OPT_PATH, 0, 0, NULL, "(none)", OFF(metrics_path) },
	{ "MetricsJobs", OPT_METRICS_JOBS, 0, 0, NULL, "running",
	  OFF(metrics_jobs) },
	/* a textfile is read at each scrape: 15 s is Prometheus' usual
	 * scrape interval, and writing it at every 1 s poll was most of a
	 * poll's cost */
	{ "MetricsInterval", OPT_NUMBER, 0, 3600, "seconds", "15",
	  OFF(metrics_interval_s) },
	{ "TraceDir", OPT_PATH, 0, 0, NULL, "(none)", OFF(trace_dir) },
	{ "TraceMaxSize", OPT_SIZE, 1 << 20, 1e6 * (1 << 20), NULL, "64M",
	  OFF(trace_max_bytes) },
	{ "TraceCompress", OPT_COMPRESS, 0, 0, NULL, "none", OFF(trace_form) },
	{ "TraceForm", OPT_TRACE_FORM, 0, 0, NULL, "plain",
	  OFF(trace_keyframe) },
	{ "Gpus", OPT_GPUS, 0, 0, NULL, "auto", OFF(gpus) },
	{ "GpuHwmonRoot", OPT_PATH, 0, 0, NULL, FP_GPU_DEFAULT_HWMON_ROOT,
	  OFF(gpu_hwmon_root) },
	{ "NvmlLibrary", OPT_LIB, 0, 0, NULL, FP_GPU_DEFAULT_NVML_LIB,
	  OFF(nvml_lib) },
	{ "AmdSmiLibrary", OPT_LIB, 0, 0, NULL, FP_GPU_DEFAULT_AMDSMI_LIB,
	  OFF(amdsmi_lib) },
};
#undef NUMBER_TEXT
#undef TEXT
#undef OFF
#define NOPTS (sizeof(_opts) / sizeof(_opts[0]))

static const char *const _activities[] = { "auto", "cgroup", "perf" };
static const char *const _kinds[] = { "package", "dram", "psys" };

void fp_poller_config_clear(fp_poller_config_t *cfg)
{
	free(cfg->node);
	for (size_t i = 0; i < NOPTS; i++)
		if (_opts[i].kind == OPT_PATH || _opts[i].kind == OPT_IDLE ||
		    _opts[i].kind == OPT_LIB)
			free(*(char **)((char *)cfg + _opts[i].off));
	memset(cfg, 0, sizeof(*cfg));
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

/* A number's, a size's or IdleWatts' watts' bounds as the man page states
 * them ("0.1 to 3600", "1M to 1000000M"); -1 for other options. */
static int _range(const opt_t *o, char *buf, size_t size)
{
	char *lo, *hi;

	if (o->kind == OPT_NUMBER || o->kind == OPT_IDLE) {
		snprintf(buf, size, "%.10g to %.10g", o->lo, o->hi);
		return 0;
	}
	if (o->kind != OPT_SIZE)
		return -1;
	lo = _size_text((uint64_t)o->lo);
	hi = _size_text((uint64_t)o->hi);
	snprintf(buf, size, "%s to %s", lo ? lo : "?", hi ? hi : "?");
	free(lo);
	free(hi);
	return 0;
}

static int _number(const opt_t *o, const char *v, double *out, fp_error_t *err)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(v, &end);
	if (errno || end == v || *end || !isfinite(d) || d < o->lo ||
	    d > o->hi) {
		char range[64];

		_range(o, range, sizeof(range));
		return fp_error_set(err, FP_EINVAL,
				    "%s=%s: not a number of %s from %s", o->key,
				    v, o->unit, range);
	}
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
	    d * mul > o->hi) {
		char range[64];

		_range(o, range, sizeof(range));
		return fp_error_set(err, FP_EINVAL,
				    "%s=%s: not a size from %s (a number of "
				    "MiB, or with a unit: 512K, 64M, 2G)",
				    o->key, v, range);
	}
	*out = (uint64_t)(d * mul);
	return 0;
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

static int _set(fp_poller_config_t *cfg, const opt_t *o, const char *v,
		fp_error_t *err)
{
	const char *key = o->key;
	void *f = (char *)cfg + o->off;
	double d;

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

int fp_poller_config_set(fp_poller_config_t *cfg, const char *key,
			 const char *v, fp_error_t *err)
{
	const opt_t *o = _opt(key);

	fp_error_clear(err);
	if (!v)
		return 0;
	if (!o)
		return fp_error_set(err, FP_EINVAL, "%s=%s: unknown option",
				    key, v);
	return _set(cfg, o, v, err);
}

/* An option whose default is what unset means, not a value it takes. */
static bool _unset_default(const opt_t *o)
{
	return o->kind == OPT_PATH || o->kind == OPT_LIB || o->kind == OPT_IDLE;
}

void fp_poller_config_init(fp_poller_config_t *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	/* the table's defaults are valid values (the man page test reads
	 * each back) */
	for (size_t i = 0; i < NOPTS; i++)
		if (!_unset_default(&_opts[i]))
			_set(cfg, &_opts[i], _opts[i].dflt, NULL);
	cfg->parts_gid = (gid_t)-1;
}

const char *fp_poller_config_key(size_t i)
{
	return i < NOPTS ? _opts[i].key : NULL;
}

int fp_poller_config_range(const char *key, char *buf, size_t size)
{
	const opt_t *o = _opt(key);

	return o ? _range(o, buf, size) : -1;
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
		return fp_poller_dupf("%g", *(const double *)f);
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

/* Applies IdleWatts to the domains: a domain name wins over its kind. A
 * name of no domain of this node (package-3 on two packages) is said once:
 * the option was checked when set, but not against this machine. */
void fp_poller_config_apply_idle(fp_poller_t *p)
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
				fp_poller_say(p, FP_LOG_ERROR,
					      "IdleWatts=%s: this node "
					      "has no domain '%s'; ignored",
					      p->cfg.idle_w, item);
		}
		free(copy);
	}
}
