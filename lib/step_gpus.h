/* Which GPUs a step holds: read by its step daemon from the step's
 * environment (Slurm's GRES variables), recorded in the run folder, read
 * and mapped to the node's GPUs by the node poller. */
#ifndef FP_STEP_GPUS_H
#define FP_STEP_GPUS_H

#include <stddef.h>

#include "error.h"
#include "gpu.h"

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
int fp_step_gpus_read(const char *dir, const char *step, char *buf,
		      size_t size, fp_error_t *err);
/* Removes dir/<step>; a missing file is not an error. */
void fp_step_gpus_remove(const char *dir, const char *step);

/* Maps a list of GPU ids, separated by commas, to devices of gpu: a
 * number N is the reader's device N (NVML order, then hwmon devices by PCI
 * address, as Slurm's gres.conf AutoDetect orders them); "GPU-..." or
 * "MIG-..." an NVML UUID (a MIG instance counts as its whole GPU); a PCI
 * address (0000:3b:00.0 or 3b:00.0, any case) a device at that address; a
 * ZE_AFFINITY_MASK "N.M" (sub-device M of N) device N. Each device once,
 * in the list's order, into out[] (cap long), *n how many. An id that
 * matches no device fails with FP_EINVAL naming it; out then holds the
 * ones that did. */
int fp_step_gpus_map(const char *list, const fp_gpu_t *gpu, size_t *out,
		     size_t cap, size_t *n, fp_error_t *err);

#endif
