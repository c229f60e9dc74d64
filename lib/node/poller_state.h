/* Private to poller*.c: the poller's state, which poller.c shares with its
 * options, its GPUs and what a poll writes out. */
#ifndef FP_POLLER_STATE_H
#define FP_POLLER_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "footprint/gpu.h"
#include "footprint/metrics.h"
#include "footprint/poller.h"
#include "footprint/publish.h"
#include "footprint/rapl.h"
#include "footprint/sensor.h"
#include "footprint/topology.h"
#include "footprint/trace.h"

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

/* poller.c */
void fp_poller_say(fp_poller_t *p, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
char *fp_poller_dupf(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));
char *fp_poller_join(const char *a, const char *b);
int fp_poller_mkdirs(const char *path, mode_t mode);

/* poller_config.c: IdleWatts onto the node's domains, at open. */
void fp_poller_config_apply_idle(fp_poller_t *p);

/* poller_gpu.c */
int fp_poller_gpu_open(fp_poller_t *p, const fp_poller_config_t *cfg,
		       fp_error_t *err);
void fp_poller_gpu_read(fp_poller_t *p, double now);
void fp_poller_gpu_hold_clear(struct step_gpus *h);
void fp_poller_gpu_steps(fp_poller_t *p, double now);
void fp_poller_gpu_hold_time(fp_poller_t *p, double now);
void fp_poller_gpu_busy(fp_poller_t *p);

/* poller_output.c */
void fp_poller_output_trace(fp_poller_t *p, double now);
void fp_poller_output_publish(fp_poller_t *p, const fp_engine_node_t *node);
void fp_poller_output_metrics(fp_poller_t *p, const fp_engine_node_t *node);

#endif
