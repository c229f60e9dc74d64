/* Which GPUs a step holds: read by its step daemon from the step's
 * environment (Slurm's GRES variables), recorded in the run folder, read
 * and mapped to the node's GPUs by the node poller. */
#ifndef FP_STEP_H
#define FP_STEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "error.h"
#include "source.h"

/* Slurm's ids of its special steps (slurm.h, the same in every supported
 * release; the plugins check that they agree). */
#define FP_STEP_INTERACTIVE 0xfffffffaU /* SLURM_INTERACTIVE_STEP */
#define FP_STEP_BATCH 0xfffffffbU	/* SLURM_BATCH_SCRIPT */
#define FP_STEP_EXTERN 0xfffffffcU	/* SLURM_EXTERN_CONT */

/* The longest step id fp_step_id_format writes, with its NUL
 * ("18446744073709551615.interactive"). */
#define FP_STEP_ID_MAX 33

/* The one way a step is named everywhere (step records, the trace, the
 * summaries), as sacct writes it: "7.batch", "7.extern", "7.interactive",
 * "7.3". With job 0, only the step's part ("batch", "3"). Returns what
 * snprintf returns. */
int fp_step_id_format(char *buf, size_t size, uint64_t job, uint32_t step);

/* The most GPUs one step is recorded with. */
#define FP_STEP_GPUS_MAX 256

/* The step's GPU list in env (a NULL-terminated "NAME=value" array, as
 * execve's), from the first of these set: SLURM_STEP_GPUS, SLURM_JOB_GPUS
 * (Slurm's node-wide GPU ids of the step, or of the job for its batch
 * step), GPU_DEVICE_ORDINAL, CUDA_VISIBLE_DEVICES, ROCR_VISIBLE_DEVICES,
 * ZE_AFFINITY_MASK (the runtimes' lists: node-wide ids only where devices
 * are not constrained, else renumbered from 0, hence last). *var, if not
 * NULL, is set to the variable's name. Returns the value, pointing into
 * env, or NULL when none is set (the step holds no GPU). */
const char *fp_step_gpus_from_env(char *const *env, const char **var);

/* Writes dir/<step> with list (one line, "" for no GPU), replacing it at
 * once so a reader never sees half of it. step is a step id ("42.0"). */
int fp_step_gpus_write(const char *dir, const char *step, const char *list,
		       fp_error_t *err);
/* Reads dir/<step> into buf. FP_EIO when it is not there (yet). */
int fp_step_gpus_read(const char *dir, const char *step, char *buf, size_t size,
		      fp_error_t *err);
/* Removes dir/<step>; a missing file is not an error. */
void fp_step_gpus_remove(const char *dir, const char *step);

/* A GPU draws idle power over an interval when its mean power then stays
 * within this of its floor (fp_gpu_floor_w); a GPU a job held is idle when
 * it did for most of the time the job held it. */
#define FP_GPU_IDLE_RATIO 1.10
#define FP_GPU_IDLE_MARGIN_W 5.0

/* A step's energy on one node by part, for the job's summary: written by
 * the node poller into RunDir/parts/<step> once the step has ended (its
 * final figures), read by footprint-worker where that folder is reachable
 * (footprint.conf NodePartsDir=). One JSON object: {"v":1, "node", "step",
 * "first_t", "last_t" (Unix times of the first and last samples it was
 * in), "seconds" (the time it was in them), "energy_j" (as published to
 * sacct), "cpu_dram_j" (its RAPL share, packages and DRAM together),
 * "cpu_j" and "dram_j" (that share split: what the package domains gave
 * it and what the dram domains did; cpu_j + dram_j = cpu_dram_j), "gpu_j",
 * "rest_j" (its share of what the node's meter saw beyond RAPL and GPUs),
 * "gpus": [{"index", "uuid", "model", "vendor", "source", "floor_w"
 * (fp_gpu_floor_w, null if unknown), "energy_j" (its share of that GPU;
 * over the list they sum to gpu_j), "idle_s" (the seconds the step held
 * it while it drew idle power, FP_GPU_IDLE_RATIO), "judged_s" (the
 * seconds its floor was known and it read: idle or not), "unread_s" (the
 * seconds it could not be read)}], "gpus_unknown": [the ids of GPUs the
 * step held that the node could not read at all: no such device found],
 * "sources": {"wall", "psys", "calibrated", "rapl": the step's energy_j
 * by where the node's energy came from in each interval (trace-v1 step
 * 4), summing to energy_j}, "simulated" (the node's RAPL or meter said it
 * is simulated), "meter" (the wall meter feed's id, "" without one)}.
 * cpu_j, dram_j, the GPUs' energy_j, idle_s, judged_s, unread_s,
 * gpus_unknown, sources, simulated and meter came after the first records
 * of version 1: a reader takes a record without them as one that does not
 * split (cpu_dram_j whole; gpu_j evenly over its GPUs), nor time idleness
 * (null: unknown), nor say how its node measured. */
#define FP_STEP_PARTS_VERSION 1

typedef struct fp_step_parts_gpu {
	size_t index; /* the node's GPU number, as Slurm's */
	const char *uuid, *model, *vendor, *source;
	double floor_w;	 /* NAN: unknown */
	double energy_j; /* the step's share of it; NAN: unknown */
	double idle_s, judged_s, unread_s; /* NAN: unknown */
} fp_step_parts_gpu_t;

typedef struct fp_step_parts {
	const char *node;
	double first_t, last_t;
	double seconds; /* present in the samples */
	double energy_j, cpu_dram_j, gpu_j, rest_j;
	double cpu_j, dram_j; /* cpu_dram_j split; NAN: not written */
	const fp_step_parts_gpu_t *gpus;
	size_t ngpus;
	const char *const *unknown; /* ids of held GPUs not found */
	size_t nunknown;
	const double *source_j; /* FP_SOURCE_COUNT long; NULL: not said */
	bool simulated;
	const char *meter; /* NULL: "" */
} fp_step_parts_t;

/* Writes dir/<step> at once (tmp file and rename), mode 0640 in dir's
 * group (the poller makes that SlurmUser's, for footprint-worker). */
int fp_step_parts_write(const char *dir, const char *step,
			const fp_step_parts_t *parts, fp_error_t *err);
/* dir with each "%n" replaced by node's name, into out (size bytes): the
 * folder of node's step records (EnergyFootprintPartsDir= on the node,
 * footprint.conf NodePartsDir= on the controller). -1 when it does not
 * fit. */
int fp_step_parts_dir(const char *dir, const char *node, char *out,
		      size_t size);
/* Reads the record of step on node from dir, where each "%n" of dir is the
 * node's name; *out is the object (the caller json_decref()s it). FP_EIO
 * when absent, FP_EACCES when it (or its folder) may not be read by this
 * user, FP_EPARSE when it is not a record of this version. */
int fp_step_parts_load(const char *dir, const char *node, const char *step,
		       json_t **out, fp_error_t *err);

#endif
