/* Per-CPU activity of a node and of its Slurm steps, read once per poll: busy
 * time per CPU from /proc/stat and each step cgroup's CPU time per CPU. */
#ifndef FP_ACTIVITY_H
#define FP_ACTIVITY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "sample.h"

/* Where step activity comes from (what the caller asks for). */
typedef enum fp_activity_mode {
	FP_ACTIVITY_AUTO = 0, /* v1 cpuacct if its root exists, else perf */
	FP_ACTIVITY_CGROUP,   /* cgroup v1 cpuacct.usage_percpu */
	FP_ACTIVITY_PERF,     /* perf_event_open per cgroup v2 step and CPU */
} fp_activity_mode_t;

/* What is in use after fp_activity_new(). */
typedef enum fp_activity_source {
	FP_ACTIVITY_SRC_NONE = 0,	 /* /proc/stat only, no steps */
	FP_ACTIVITY_SRC_CGROUP_V1,	 /* step cpu_ns in ns */
	FP_ACTIVITY_SRC_PERF_TASK_CLOCK, /* step cpu_ns in ns */
	FP_ACTIVITY_SRC_PERF_CYCLES,	 /* step cpu_ns in unhalted cycles */
} fp_activity_source_t;

/*
 * Every path is a parameter so tests point them at generated trees. For the
 * cgroup roots, NULL means "the mounted one" (found in mountinfo: the v1
 * hierarchy holding cpuacct, resp. cpuset, and the cgroup2 mount) and ""
 * means "none".
 *
 * Layouts read (Slurm 22.05):
 *   v1: <cpuacct_root>/slurm[_<node>]/uid_<u>/job_<j>/step_<s>/
 *       cpuacct.usage_percpu, allocation in the same path under cpuset_root
 *       (cpuset.cpus), else the job's cpuset.cpus, else all CPUs.
 *   v2: <unified_root>/system.slice/[<node>_]slurmstepd.scope/job_<j>/
 *       step_<s>/, allocation in cpuset.cpus.effective (step, else job,
 *       else all CPUs). slurm_<node> and <node>_slurmstepd.scope are what
 *       Slurm uses when several slurmd share a host.
 *   Slurm 26.05's cgroup v2 names the job folder by the job's SLUID ("s"
 *   and 13 Crockford base-32 digits, e.g. s0KQ3M9F2ZT8BA) instead of
 *   job_<j>, unless cgroup.conf has CgroupJobIdPaths=yes. Such a folder does
 *   not hold the job id: job_of (below) says which job it is.
 * step_batch, step_extern, step_interactive and step_<n> become the ids
 * "<j>.batch", "<j>.extern", "<j>.interactive" and "<j>.<n>".
 */

/* Returns 0 and sets *job when the job whose SLUID is sluid (as named in
 * the cgroup tree) is known, else -1. */
typedef int (*fp_activity_job_fn)(void *ctx, const char *sluid, uint64_t *job);

typedef struct fp_activity_opts {
	const char *proc_stat;	  /* NULL: /proc/stat */
	const char *mountinfo;	  /* NULL: /proc/self/mountinfo */
	const char *cpuacct_root; /* v1 hierarchy with cpuacct */
	const char *cpuset_root;  /* v1 hierarchy with cpuset */
	const char *unified_root; /* cgroup2 mount */
	const char *node;	  /* NodeName; NULL: only slurm/ */
	fp_activity_mode_t mode;
	bool perf_task_clock; /* perf: task-clock even with a PMU */
	size_t ncpus;	      /* 0: sysconf(_SC_NPROCESSORS_CONF) */
	/* SLUID job folders: NULL skips them. A folder it does not know yet
	 * is skipped and asked again at every read until it is known (the
	 * step daemon names its job a moment after Slurm makes the folder);
	 * the first such folder is logged once. */
	fp_activity_job_fn job_of;
	void *job_of_ctx;
	fp_log_fn log; /* may be NULL */
	void *log_ctx;
} fp_activity_opts_t;

typedef struct fp_activity fp_activity_t;

/*
 * Opens /proc/stat and settles the step source. An explicit mode that this
 * machine cannot serve fails with FP_ENOTSUP; AUTO falls back to v1, then
 * perf, then none, and logs what it chose. opts may be NULL (all defaults).
 */
fp_activity_t *fp_activity_new(const fp_activity_opts_t *opts, fp_error_t *err);
void fp_activity_free(fp_activity_t *a);

/*
 * One poll: fills out->cpu_busy_ns (user+nice+system+irq+softirq+steal of
 * each CPU, in ns; a CPU absent from /proc/stat keeps its last value, 0 if
 * never seen) and replaces out->steps with the steps alive now, sorted by
 * job then step. desc->cpus must equal fp_activity_ncpus().
 *
 * A step whose files vanish or are malformed is left out of this poll (a
 * malformed file is logged once), never failing the poll. Step counters:
 *  - cgroup v1: cumulative since the cgroup was created;
 *  - perf: cumulative since the step was first seen by this object, as a
 *    perf counter only counts from when it is opened. The step is "new"
 *    (trace v1) at the poll that first reports it: its counters started at
 *    0 within the preceding interval.
 * When the source is FP_ACTIVITY_SRC_PERF_CYCLES the caller sets
 * desc->activity_cycles.
 *
 * Returns 0, or -1 with err set when /proc/stat cannot be read or parsed
 * (out's steps are then cleared), desc does not match, or memory ran out.
 * Steady state (same steps as the last poll, out reused) allocates nothing.
 */
int fp_activity_read(fp_activity_t *a, const fp_node_desc_t *desc,
		     fp_sample_t *out, fp_error_t *err);

/* A step the last poll found, for logs and tests. Pointers stay valid
 * until the next fp_activity_read() or fp_activity_free(). */
typedef struct fp_activity_step {
	const char *id; /* "4242.batch" */
	uint64_t job;
	const char *cgroup; /* directory under the step root */
	const int *alloc;
	size_t nalloc;
	bool counted; /* in the last poll's sample */
} fp_activity_step_t;

/* Fills up to max entries of v (v may be NULL when max is 0) and returns
 * how many steps there are. */
size_t fp_activity_steps(const fp_activity_t *a, fp_activity_step_t *v,
			 size_t max);

fp_activity_source_t fp_activity_source(const fp_activity_t *a);
/* "none", "cgroup-v1", "perf-task-clock", "perf-cycles". */
const char *fp_activity_source_name(fp_activity_source_t src);
size_t fp_activity_ncpus(const fp_activity_t *a);

#endif
