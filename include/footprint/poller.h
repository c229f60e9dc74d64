/* The node poller: one poll reads RAPL, the GPUs, the wall meter,
 * /proc/stat and the step cgroups once, attributes, and publishes per-step
 * energy, metrics and the trace. The acct_gather_energy plugin runs it in slurmd. */
#ifndef FP_POLLER_H
#define FP_POLLER_H

#include <stdbool.h>
#include <sys/types.h>
#include <stdint.h>

#include "activity.h"
#include "engine.h"
#include "error.h"
#include "metrics.h"
#include "trace.h"

/* Options, as acct_gather.conf gives them (EnergyFootprint<Key>=value). */
typedef struct fp_poller_config {
	char *node;		 /* NodeName, for cgroup paths and labels */
	char *powercap_root;	 /* PowercapRoot */
	char *proc_root;	 /* ProcRoot: /proc/stat is read there */
	char *cgroup_root;	 /* CgroupRoot: NULL = the mounted ones */
	char *topology_xml;	 /* Topology: hwloc XML; NULL = this machine */
	char *sim_dir;		 /* SimulatedNode: fp-simnode's --root */
	char *sensor_path;	 /* Sensor */
	double sensor_max_age_s; /* SensorMaxAge */
	double sensor_ceiling_w; /* SensorCeiling */
	char *idle_w;		 /* IdleWatts: "auto" or kind/domain=W,... */
	bool calibration;	 /* Calibration */
	fp_activity_mode_t activity; /* Activity: auto, cgroup, perf */
	double interval_s;	     /* PollInterval */
	char *run_dir;		     /* RunDir */
	/* PartsDir: where ended steps' records go, "%n" the node's name;
	 * NULL = RunDir/parts. Folder 0750 in group parts_gid. */
	char *parts_dir;
	/* The group footprint-worker reads the records through (SlurmUser's
	 * primary group, set by the plugin, not a key); (gid_t)-1 = the
	 * folder's own */
	gid_t parts_gid;
	char *metrics_path;		/* Metrics */
	fp_metrics_jobs_t metrics_jobs; /* MetricsJobs: running, all, none */
	double metrics_interval_s;	/* MetricsInterval: 0 = every poll */
	char *trace_dir;		/* TraceDir */
	uint64_t trace_max_bytes;	/* TraceMaxSize (MB in the file) */
	fp_trace_form_t trace_form;	/* TraceCompress: zstd or none */
	/* TraceForm: compact (a keyframe every FP_TRACE_KEYFRAME samples) or
	 * plain (0, every sample whole) */
	unsigned trace_keyframe;
	bool gpus;	      /* Gpus: auto (true) or none */
	char *gpu_hwmon_root; /* GpuHwmonRoot: NULL = the default */
	char *nvml_lib;	      /* NvmlLibrary: NULL = the default, "none" */
	char *amdsmi_lib;     /* AmdSmiLibrary: NULL = the default, "none";
				 * never loaded on a simulated node */
} fp_poller_config_t;

/* The keys of fp_poller_config_set in the man page's order: key i, NULL
 * past the last. */
const char *fp_poller_config_key(size_t i);
/* An option's bounds as the man page states them ("0.1 to 3600", "1M to
 * 1000000M") for a number, a size and IdleWatts' watts; -1 otherwise. */
int fp_poller_config_range(const char *key, char *buf, size_t size);

void fp_poller_config_init(fp_poller_config_t *cfg);
void fp_poller_config_clear(fp_poller_config_t *cfg);
/* Sets one option from its text. A bad value leaves the default in place
 * and fails with a message naming the key, the value and the fault. */
int fp_poller_config_set(fp_poller_config_t *cfg, const char *key,
			 const char *value, fp_error_t *err);
/* The value of one option as text (for `scontrol show config`); the
 * returned string is the caller's to free. */
char *fp_poller_config_get(const fp_poller_config_t *cfg, const char *key);

typedef struct fp_poller fp_poller_t;

/* Opens the sources. Fails (FP_ENOTSUP) only when there is neither RAPL
 * nor a wall sensor: the node then reports no energy rather than invented
 * numbers. Missing parts are logged once through log. */
fp_poller_t *fp_poller_new(const fp_poller_config_t *cfg, fp_log_fn log,
			   void *log_ctx, fp_error_t *err);
void fp_poller_free(fp_poller_t *p);

/* One poll at time now (Unix seconds). */
int fp_poller_poll(fp_poller_t *p, double now, fp_error_t *err);

typedef struct fp_poller_status {
	bool ready;	    /* at least one interval attributed */
	double energy_j;    /* node energy since the poller started */
	double power_w;	    /* last interval */
	double t;	    /* time of the last poll */
	const char *source; /* wall, psys, calibrated, rapl */
	bool simulated;
	const char *activity; /* activity source name */
	unsigned long polls;
	/* CPU time of the last poll that wrote the metrics (0 without) */
	double poll_cpu_s;
} fp_poller_status_t;

void fp_poller_status(const fp_poller_t *p, fp_poller_status_t *out);
const fp_engine_t *fp_poller_engine(const fp_poller_t *p);
/* Where step daemons record their GPUs (RunDir/gpus, see step.h). */
const char *fp_poller_gpus_dir(const fp_poller_t *p);
/* Where step values are published (RunDir/steps). */
const char *fp_poller_steps_dir(const fp_poller_t *p);

#endif
