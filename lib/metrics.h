/* Real-time metrics: the node poller's state as a Prometheus text-format
 * file for node_exporter's textfile collector, replaced atomically. */
#ifndef FP_METRICS_H
#define FP_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

typedef struct fp_metrics_node {
	const char *node;
	bool simulated;
	const char *source;		/* source of the last interval */
	double power_w;
	double energy_j;
	const char *const *source_names;	/* energy by source */
	const double *source_energy_j;
	size_t nsources;
	double rapl_j, idle_j, system_j;
	bool calibration_active;
	double calibration_a, calibration_b_w;
	uint64_t calibration_intervals;
	bool sensor_configured;
	bool sensor_up;
	const char *sensor_fault;	/* "" or NULL when up */
	double sensor_age_s;
	double poll_seconds;		/* CPU cost of the last poll */
} fp_metrics_node_t;

typedef struct fp_metrics_entity {
	uint64_t job;
	const char *step;	/* NULL for a job line */
	const char *user;	/* NULL or "" when unknown */
	const char *account;
	double power_w;
	double energy_j;
} fp_metrics_entity_t;

/* Writes the metrics to path (via path.tmp + rename). */
int fp_metrics_write(const char *path, const fp_metrics_node_t *node,
		     const fp_metrics_entity_t *jobs, size_t njobs,
		     const fp_metrics_entity_t *steps, size_t nsteps,
		     fp_error_t *err);

#endif
