/* Unit tests of lib/activity: /proc/stat busy time and Slurm step cgroups
 * (v1 cpuacct and v2 layouts) on generated trees, and perf on a real cgroup. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include <setjmp.h>
#include <cmocka.h>

#include "footprint/activity.h"
#include "footprint/engine.h"
#include "footprint/sample.h"

#define NCPUS 4

struct logbook {
	int n;
	char all[8192];
};

static void _logger(void *ctx, int level, const char *msg)
{
	struct logbook *lb = ctx;
	size_t used = strlen(lb->all);

	lb->n++;
	snprintf(lb->all + used, sizeof(lb->all) - used, "%d %s\n", level, msg);
}

/* A generated world: a temp folder with proc/stat and cgroup trees. */
struct world {
	char root[64];
	char stat[128];
	char cpuacct[128];
	char cpuset[128];
	char unified[128];
	struct logbook log;
	fp_node_desc_t *desc;
	fp_sample_t *sample;
	fp_activity_t *act;
};

static void _mkdirs(const char *path)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		mkdir(buf, 0755);
		*p = '/';
	}
	mkdir(buf, 0755);
}

static void _writef(const char *content, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Writes content to the path fmt names, creating its folders. */
static void _writef(const char *content, const char *fmt, ...)
{
	char path[PATH_MAX], dir[PATH_MAX];
	va_list ap;
	FILE *fp;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	_mkdirs(dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(content, fp);
	fclose(fp);
}

static int _rm_one(const char *path, const struct stat *st, int flag,
		   struct FTW *ftw)
{
	return remove(path);
}

static void _rm_rf(const char *path)
{
	nftw(path, _rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static struct world *_world(void)
{
	struct world *w = calloc(1, sizeof(*w));

	assert_non_null(w);
	snprintf(w->root, sizeof(w->root), "/tmp/fp-activity-XXXXXX");
	assert_non_null(mkdtemp(w->root));
	snprintf(w->stat, sizeof(w->stat), "%s/proc/stat", w->root);
	snprintf(w->cpuacct, sizeof(w->cpuacct), "%s/cpuacct", w->root);
	snprintf(w->cpuset, sizeof(w->cpuset), "%s/cpuset", w->root);
	snprintf(w->unified, sizeof(w->unified), "%s/unified", w->root);
	_mkdirs(w->cpuacct);
	_mkdirs(w->cpuset);
	_mkdirs(w->unified);
	_writef("cpu  4 0 4 40 0 0 0 0 0 0\n"
		"cpu0 1 0 1 10 0 0 0 0 0 0\n"
		"cpu1 1 0 1 10 0 0 0 0 0 0\n"
		"cpu2 1 0 1 10 0 0 0 0 0 0\n"
		"cpu3 1 0 1 10 0 0 0 0 0 0\n"
		"intr 1 2 3\nctxt 5\n",
		"%s", w->stat);
	w->desc = fp_sample_node_desc_new();
	assert_non_null(w->desc);
	w->desc->cpus = NCPUS;
	w->sample = fp_sample_new(w->desc);
	assert_non_null(w->sample);
	return w;
}

static fp_activity_opts_t _opts(struct world *w, fp_activity_mode_t mode)
{
	fp_activity_opts_t o = {
		.proc_stat = w->stat,
		.cpuacct_root = mode == FP_ACTIVITY_PERF ? "" : w->cpuacct,
		.cpuset_root = w->cpuset,
		.unified_root = w->unified,
		.node = "n1",
		.mode = mode,
		.perf_task_clock = true,
		.ncpus = NCPUS,
		.log = _logger,
		.log_ctx = &w->log,
	};
	return o;
}

static void _open(struct world *w, fp_activity_mode_t mode)
{
	fp_activity_opts_t o = _opts(w, mode);
	fp_error_t err = { 0 };

	w->act = fp_activity_new(&o, &err);
	if (!w->act)
		fail_msg("fp_activity_new: %s", err.msg);
}

static void _poll(struct world *w)
{
	fp_error_t err = { 0 };

	if (fp_activity_read(w->act, w->desc, w->sample, &err))
		fail_msg("fp_activity_read: %s", err.msg);
}

static void _world_free(struct world *w)
{
	fp_activity_free(w->act);
	fp_sample_free(w->sample);
	fp_sample_node_desc_free(w->desc);
	_rm_rf(w->root);
	free(w);
}

static const fp_step_sample_t *_step(const struct world *w, const char *id)
{
	for (size_t i = 0; i < w->sample->nsteps; i++)
		if (!strcmp(w->sample->steps[i].id, id))
			return &w->sample->steps[i];
	return NULL;
}

/* A v1 step: cpuacct usage and (when cpus) its cpuset. */
static void _v1_step(struct world *w, const char *base, unsigned job,
		     const char *step, const char *usage, const char *cpus)
{
	_writef(usage, "%s/%s/uid_0/job_%u/%s/cpuacct.usage_percpu", w->cpuacct,
		base, job, step);
	if (cpus)
		_writef(cpus, "%s/%s/uid_0/job_%u/%s/cpuset.cpus", w->cpuset,
			base, job, step);
}

static uint64_t _tick_ns(void)
{
	return 1000000000ULL / (uint64_t)sysconf(_SC_CLK_TCK);
}

/* ---- /proc/stat ------------------------------------------------------- */

static void busy_counts_user_nice_system_irq_softirq_steal_only(void **state)
{
	struct world *w = _world();

	/* user nice system idle iowait irq softirq steal guest guest_nice */
	_writef("cpu  0 0 0 0 0 0 0 0 0 0\n"
		"cpu0 100 20 30 5000 700 4 5 6 50 9\n"
		"cpu1 0 0 0 9999 9999 0 0 0 0 0\n"
		"cpu2 1 2 3 4 5 6 7 8 9 10\n"
		"cpu3 7 0 0 1\n"
		"intr 5\n",
		"%s", w->stat);
	_open(w, FP_ACTIVITY_CGROUP);
	_poll(w);
	/* guest (50) is already inside user: not added again */
	assert_int_equal(w->sample->cpu_busy_ns[0], 165 * _tick_ns());
	assert_int_equal(w->sample->cpu_busy_ns[1], 0);
	assert_int_equal(w->sample->cpu_busy_ns[2], 27 * _tick_ns());
	/* an old kernel's four fields */
	assert_int_equal(w->sample->cpu_busy_ns[3], 7 * _tick_ns());
	_world_free(w);
}

static void busy_ticks_are_converted_to_ns_with_user_hz(void **state)
{
	struct world *w = _world();
	uint64_t big = 4000000000000ULL; /* ticks: the product needs 64 bits */
	char buf[512];

	snprintf(buf, sizeof(buf),
		 "cpu  0 0 0 0\ncpu0 %" PRIu64 " 0 0 0\ncpu1 1 0 0 0\n"
		 "cpu2 0 0 0 0\ncpu3 0 0 0 0\n",
		 big);
	_writef(buf, "%s", w->stat);
	_open(w, FP_ACTIVITY_CGROUP);
	_poll(w);
	assert_int_equal(w->sample->cpu_busy_ns[0],
			 big / (uint64_t)sysconf(_SC_CLK_TCK) * 1000000000ULL);
	assert_int_equal(w->sample->cpu_busy_ns[1],
			 1000000000ULL / (uint64_t)sysconf(_SC_CLK_TCK));
	_world_free(w);
}

static void offline_cpu_reads_zero_then_keeps_its_last_value(void **state)
{
	struct world *w = _world();

	_writef("cpu  0 0 0 0\ncpu0 1 0 0 0\ncpu1 2 0 0 0\ncpu3 4 0 0 0\n",
		"%s", w->stat);
	_open(w, FP_ACTIVITY_CGROUP);
	_poll(w);
	assert_int_equal(w->sample->cpu_busy_ns[2], 0);
	assert_int_equal(w->sample->cpu_busy_ns[3], 4 * _tick_ns());
	/* cpu3 goes offline: unchanged, not 0 (no negative delta) */
	_writef("cpu  0 0 0 0\ncpu0 5 0 0 0\ncpu1 6 0 0 0\ncpu2 8 0 0 0\n",
		"%s", w->stat);
	_poll(w);
	assert_int_equal(w->sample->cpu_busy_ns[0], 5 * _tick_ns());
	assert_int_equal(w->sample->cpu_busy_ns[2], 8 * _tick_ns());
	assert_int_equal(w->sample->cpu_busy_ns[3], 4 * _tick_ns());
	_world_free(w);
}

/* The reader parses again only what changed: every kind of change (same
 * length, a number growing a digit, a field shrinking, a CPU coming back)
 * must give what a fresh reader gives. */
static void busy_follows_changes_between_polls(void **state)
{
	struct world *w = _world();
	unsigned seed = 12345;
	uint64_t v[NCPUS][10] = { { 0 } };

	_open(w, FP_ACTIVITY_CGROUP);
	for (int round = 0; round < 300; round++) {
		char buf[4096];
		size_t len = 0;
		bool online[NCPUS];

		len += snprintf(buf + len, sizeof(buf) - len,
				"cpu  %d 0 0 0 0 0 0 0 0 0\n", round);
		for (int c = 0; c < NCPUS; c++) {
			online[c] = round % 37 != 5 || c != 2;
			for (int k = 0; k < 10; k++) {
				seed = seed * 1103515245 + 12345;
				if ((seed >> 16) % 3 == 0)
					v[c][k] += (seed >> 8) % 1000;
				if (round % 50 == 49 && k == 1)
					v[c][k] = v[c][k] * 1000 + 7;
				if (round % 61 == 60 && k == 2)
					v[c][k] /= 100; /* a reset */
			}
			if (!online[c])
				continue;
			len += snprintf(buf + len, sizeof(buf) - len, "cpu%d",
					c);
			for (int k = 0; k < 10; k++)
				len += snprintf(buf + len, sizeof(buf) - len,
						" %" PRIu64, v[c][k]);
			len += snprintf(buf + len, sizeof(buf) - len, "\n");
		}
		snprintf(buf + len, sizeof(buf) - len, "intr %d 1\n", round);
		_writef(buf, "%s", w->stat);
		_poll(w);
		for (int c = 0; c < NCPUS; c++) {
			uint64_t t = v[c][0] + v[c][1] + v[c][2] + v[c][5] +
				     v[c][6] + v[c][7];

			if (online[c])
				assert_int_equal(w->sample->cpu_busy_ns[c],
						 t * _tick_ns());
		}
	}
	_world_free(w);
}

static void proc_stat_longer_than_the_first_read_is_read_whole(void **state)
{
	struct world *w = _world();
	static char buf[65536];
	size_t len = 0;

	/* 400 cpu lines (ids past ours are ignored) outgrow the first read */
	for (int round = 0; round < 2; round++) {
		len = snprintf(buf, sizeof(buf), "cpu  1 2 3 4\n");
		for (int c = 0; c < 400; c++)
			len += snprintf(buf + len, sizeof(buf) - len,
					"cpu%d %d 0 0 123456789 0 0 0 0\n", c,
					c + round);
		snprintf(buf + len, sizeof(buf) - len, "intr 1\n");
		_writef(buf, "%s", w->stat);
		if (!round)
			_open(w, FP_ACTIVITY_CGROUP);
		_poll(w);
		assert_int_equal(w->sample->cpu_busy_ns[3],
				 (uint64_t)(3 + round) * _tick_ns());
	}
	_world_free(w);
}

static void unreadable_proc_stat_fails_new_naming_the_file(void **state)
{
	struct world *w = _world();
	fp_activity_opts_t o = _opts(w, FP_ACTIVITY_CGROUP);
	fp_error_t err = { 0 };

	o.proc_stat = "/nonexistent/stat";
	assert_null(fp_activity_new(&o, &err));
	assert_int_equal(err.code, FP_EIO);
	assert_non_null(strstr(err.msg, "/nonexistent/stat"));
	_world_free(w);
}

static void malformed_proc_stat_fails_the_poll(void **state)
{
	struct world *w = _world();
	fp_error_t err = { 0 };

	_writef("cpu  1 2 3 4\ncpu0 1 x 3 4\n", "%s", w->stat);
	_open(w, FP_ACTIVITY_CGROUP);
	assert_int_equal(fp_activity_read(w->act, w->desc, w->sample, &err),
			 -1);
	assert_int_equal(err.code, FP_EPARSE);
	assert_non_null(strstr(err.msg, w->stat));
	_world_free(w);
}

/* ---- cgroup v1 -------------------------------------------------------- */

static void v1_steps_of_two_jobs_are_named_and_sorted(void **state)
{
	struct world *w = _world();
	const fp_step_sample_t *s;

	_v1_step(w, "slurm_n1", 42, "step_batch", "1 2 3 4\n", "0-1\n");
	_v1_step(w, "slurm_n1", 42, "step_extern", "0 0 0 5\n", "0-1\n");
	_v1_step(w, "slurm_n1", 42, "step_0", "10 20 0 0\n", "0\n");
	_v1_step(w, "slurm_n1", 42, "step_10", "0 0 0 0\n", "1\n");
	_v1_step(w, "slurm_n1", 42, "step_2", "0 0 0 0\n", "1\n");
	_v1_step(w, "slurm_n1", 43, "step_interactive", "0 0 7 8\n", "2-3\n");
	/* not steps, and another node's tree */
	_writef("x", "%s/slurm_n1/uid_0/job_42/task_0/x", w->cpuacct);
	_writef("x", "%s/slurm_n1/uid_0/job_42/step_x/x", w->cpuacct);
	_v1_step(w, "slurm_n2", 99, "step_0", "1 1 1 1\n", "0\n");
	_open(w, FP_ACTIVITY_AUTO);
	assert_int_equal(fp_activity_source(w->act), FP_ACTIVITY_SRC_CGROUP_V1);
	_poll(w);
	assert_int_equal(w->sample->nsteps, 6);
	assert_string_equal(w->sample->steps[0].id, "42.0");
	assert_string_equal(w->sample->steps[1].id, "42.2");
	assert_string_equal(w->sample->steps[2].id, "42.10");
	assert_string_equal(w->sample->steps[3].id, "42.batch");
	assert_string_equal(w->sample->steps[4].id, "42.extern");
	assert_string_equal(w->sample->steps[5].id, "43.interactive");
	s = _step(w, "42.batch");
	assert_int_equal(s->job, 42);
	assert_int_equal(s->cpu_ns[0], 1);
	assert_int_equal(s->cpu_ns[3], 4);
	s = _step(w, "43.interactive");
	assert_int_equal(s->job, 43);
	assert_int_equal(s->cpu_ns[2], 7);
	assert_int_equal(s->cpu_ns[3], 8);
	_world_free(w);
}

static void v1_plain_slurm_folder_is_read_too(void **state)
{
	struct world *w = _world();
	fp_activity_opts_t o = _opts(w, FP_ACTIVITY_CGROUP);
	fp_error_t err = { 0 };

	_v1_step(w, "slurm", 7, "step_0", "1 2 3 4\n", "0\n");
	o.node = NULL;
	w->act = fp_activity_new(&o, &err);
	assert_non_null(w->act);
	_poll(w);
	assert_int_equal(w->sample->nsteps, 1);
	assert_string_equal(w->sample->steps[0].id, "7.0");
	_world_free(w);
}

static void v1_allocation_comes_from_the_step_cpuset(void **state)
{
	struct world *w = _world();
	const fp_step_sample_t *s;

	_v1_step(w, "slurm_n1", 42, "step_0", "0 0 0 0\n", "0,2-3\n");
	_open(w, FP_ACTIVITY_CGROUP);
	_poll(w);
	s = _step(w, "42.0");
	assert_non_null(s);
	assert_int_equal(s->nalloc, 3);
	assert_int_equal(s->alloc[0], 0);
	assert_int_equal(s->alloc[1], 2);
	assert_int_equal(s->alloc[2], 3);
	_world_free(w);
}

static void v1_allocation_falls_back_to_the_job_cpuset(void **state)
{
	struct world *w = _world();
	const fp_step_sample_t *s;

	_v1_step(w, "slurm_n1", 42, "step_0", "0 0 0 0\n", NULL);
	_writef("1-2\n", "%s/slurm_n1/uid_0/job_42/cpuset.cpus", w->cpuset);
	_open(w, FP_ACTIVITY_CGROUP);
	_poll(w);
	s = _step(w, "42.0");
	assert_non_null(s);
	assert_int_equal(s->nalloc, 2);
	assert_int_equal(s->alloc[0], 1);
	assert_int_equal(s->alloc[1], 2);
	_world_free(w);
}

static void v1_allocation_falls_back_to_all_cpus_logged_once(void **state)
{
	struct world *w = _world();
	const fp_step_sample_t *s;

	_v1_step(w, "slurm_n1", 42, "step_0", "0 0 0 0\n", NULL);
	_v1_step(w, "slurm_n1", 42, "step_1", "0 0 0 0\n", "garbage\n");
	_open(w, FP_ACTIVITY_CGROUP);
	w->log.n = 0;
	w->log.all[0] = '\0';
	_poll(w);
	_poll(w);
	s = _step(w, "42.0");
	assert_int_equal(s->nalloc, NCPUS);
	assert_int_equal(_step(w, "42.1")->nalloc, NCPUS);
	assert_int_equal(w->log.n, 1);
	assert_non_null(strstr(w->log.all, "all CPUs"));
	_world_free(w);
}

static void v1_step_cpuset_written_late_is_picked_up(void **state)
{
	struct world *w = _world();

	_v1_step(w, "slurm_n1", 42, "step_0", "0 0 0 0\n", "");
	_writef("0-3\n", "%s/slurm_n1/uid_0/job_42/cpuset.cpus", w->cpuset);
	_open(w, FP_ACTIVITY_CGROUP);
	_poll(w);
	assert_int_equal(_step(w, "42.0")->nalloc, 4);
	_writef("3\n", "%s/slurm_n1/uid_0/job_42/step_0/cpuset.cpus",
		w->cpuset);
	_poll(w);
	assert_int_equal(_step(w, "42.0")->nalloc, 1);
	assert_int_equal(_step(w, "42.0")->alloc[0], 3);
	_world_free(w);
}

static void v1_step_appearing_between_polls_is_added(void **state)
{
	struct world *w = _world();

	_v1_step(w, "slurm_n1", 42, "step_0", "1 1 1 1\n", "0\n");
	_open(w, FP_ACTIVITY_CGROUP);
	_poll(w);
	assert_int_equal(w->sample->nsteps, 1);
	_v1_step(w, "slurm_n1", 42, "step_1", "2 2 2 2\n", "1\n");
	_v1_step(w, "slurm_n1", 50, "step_batch", "3 3 3 3\n", "2\n");
	_poll(w);
	assert_int_equal(w->sample->nsteps, 3);
	assert_int_equal(_step(w, "42.1")->cpu_ns[1], 2);
	assert_int_equal(_step(w, "50.batch")->alloc[0], 2);
	_world_free(w);
}

static void v1_step_vanishing_between_polls_is_removed(void **state)
{
	struct world *w = _world();
	char path[PATH_MAX];

	_v1_step(w, "slurm_n1", 42, "step_0", "1 1 1 1\n", "0\n");
	_v1_step(w, "slurm_n1", 42, "step_1", "2 2 2 2\n", "1\n");
	_open(w, FP_ACTIVITY_CGROUP);
	_poll(w);
	assert_int_equal(w->sample->nsteps, 2);
	snprintf(path, sizeof(path), "%s/slurm_n1/uid_0/job_42/step_1",
		 w->cpuacct);
	_rm_rf(path);
	_poll(w);
	assert_int_equal(w->sample->nsteps, 1);
	assert_string_equal(w->sample->steps[0].id, "42.0");
	assert_int_equal(fp_activity_steps(w->act, NULL, 0), 1);
	/* and the whole job */
	snprintf(path, sizeof(path), "%s/slurm_n1/uid_0/job_42", w->cpuacct);
	_rm_rf(path);
	_poll(w);
	assert_int_equal(w->sample->nsteps, 0);
	_world_free(w);
}

static void v1_step_whose_usage_file_vanished_is_skipped(void **state)
{
	struct world *w = _world();
	fp_activity_step_t info[4];
	char path[PATH_MAX];

	_v1_step(w, "slurm_n1", 42, "step_0", "1 1 1 1\n", "0\n");
	_v1_step(w, "slurm_n1", 42, "step_1", "2 2 2 2\n", "1\n");
	/* the file went between the listing and the read: the directory is
	 * still there, cpuacct.usage_percpu is not */
	snprintf(path, sizeof(path),
		 "%s/slurm_n1/uid_0/job_42/step_1/cpuacct.usage_percpu",
		 w->cpuacct);
	unlink(path);
	_open(w, FP_ACTIVITY_CGROUP);
	_poll(w);
	assert_int_equal(w->sample->nsteps, 1);
	assert_string_equal(w->sample->steps[0].id, "42.0");
	assert_int_equal(fp_activity_steps(w->act, info, 4), 2);
	assert_false(info[1].counted);
	_world_free(w);
}

static void v1_malformed_usage_is_skipped_and_logged_once(void **state)
{
	struct world *w = _world();

	_v1_step(w, "slurm_n1", 42, "step_0", "1 1 1 1\n", "0\n");
	_v1_step(w, "slurm_n1", 42, "step_1", "2 x 2 2\n", "1\n");
	_v1_step(w, "slurm_n1", 42, "step_2", "2 2\n", "1\n");
	_open(w, FP_ACTIVITY_CGROUP);
	w->log.n = 0;
	w->log.all[0] = '\0';
	_poll(w);
	_poll(w);
	_poll(w);
	assert_int_equal(w->sample->nsteps, 1);
	assert_string_equal(w->sample->steps[0].id, "42.0");
	assert_int_equal(w->log.n, 2);
	assert_non_null(
		strstr(w->log.all, "job_42/step_1/cpuacct.usage_percpu"));
	assert_non_null(
		strstr(w->log.all, "job_42/step_2/cpuacct.usage_percpu"));
	_world_free(w);
}

/* Only changed numbers are parsed again; whatever changes, the counters
 * equal the file's. */
static void v1_usage_follows_changes_between_polls(void **state)
{
	struct world *w = _world();
	uint64_t v[NCPUS] = { 0, 5, 99999999, 18446744073709551615ULL / 2 };
	unsigned seed = 7;

	_v1_step(w, "slurm_n1", 42, "step_0", "0 0 0 0\n", "0-3\n");
	_open(w, FP_ACTIVITY_CGROUP);
	for (int round = 0; round < 300; round++) {
		char buf[256];
		const fp_step_sample_t *s;

		for (int c = 0; c < NCPUS; c++) {
			seed = seed * 1103515245 + 12345;
			if ((seed >> 16) % 2)
				v[c] += (seed >> 4) % 100000;
		}
		if (round == 150)
			v[1] = 3; /* a counter reset */
		snprintf(buf, sizeof(buf),
			 "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " \n",
			 v[0], v[1], v[2], v[3]);
		_v1_step(w, "slurm_n1", 42, "step_0", buf, NULL);
		_poll(w);
		s = _step(w, "42.0");
		assert_non_null(s);
		for (int c = 0; c < NCPUS; c++)
			assert_int_equal(s->cpu_ns[c], v[c]);
	}
	_world_free(w);
}

static void v1_usage_with_more_numbers_than_cpus_is_read(void **state)
{
	struct world *w = _world();
	static char buf[8192];
	size_t len = 0;

	/* possible CPUs beyond the node's: read, then ignored */
	for (int c = 0; c < 300; c++)
		len += snprintf(buf + len, sizeof(buf) - len, "%d ",
				1000000 + c);
	snprintf(buf + len, sizeof(buf) - len, "\n");
	_v1_step(w, "slurm_n1", 42, "step_0", buf, "0\n");
	_open(w, FP_ACTIVITY_CGROUP);
	_poll(w);
	assert_int_equal(w->sample->nsteps, 1);
	assert_int_equal(w->sample->steps[0].cpu_ns[0], 1000000);
	assert_int_equal(w->sample->steps[0].cpu_ns[3], 1000003);
	_world_free(w);
}

static void v1_usage_beyond_64_bits_is_malformed(void **state)
{
	struct world *w = _world();

	_v1_step(w, "slurm_n1", 42, "step_0", "18446744073709551615 0 0 1\n",
		 "0\n");
	_v1_step(w, "slurm_n1", 42, "step_1", "18446744073709551616 0 0 1\n",
		 "0\n");
	_open(w, FP_ACTIVITY_CGROUP);
	_poll(w);
	assert_int_equal(w->sample->nsteps, 1);
	assert_string_equal(w->sample->steps[0].id, "42.0");
	assert_true(w->sample->steps[0].cpu_ns[0] == UINT64_MAX);
	_world_free(w);
}

static void v1_explicit_mode_without_cpuacct_root_is_not_supported(void **state)
{
	struct world *w = _world();
	fp_activity_opts_t o = _opts(w, FP_ACTIVITY_CGROUP);
	fp_error_t err = { 0 };

	o.cpuacct_root = "/nonexistent/cpuacct";
	assert_null(fp_activity_new(&o, &err));
	assert_int_equal(err.code, FP_ENOTSUP);
	assert_non_null(strstr(err.msg, "/nonexistent/cpuacct"));
	_world_free(w);
}

static void default_roots_come_from_mountinfo(void **state)
{
	struct world *w = _world();
	fp_activity_opts_t o = _opts(w, FP_ACTIVITY_CGROUP);
	fp_error_t err = { 0 };
	char mi[PATH_MAX], buf[2 * PATH_MAX + 512];

	/* a "cpu,cpuacct" hierarchy at a path with a blank in it */
	snprintf(buf, sizeof(buf), "%s/cpu acct", w->root);
	_mkdirs(buf);
	snprintf(buf, sizeof(buf),
		 "30 25 0:26 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n"
		 "31 25 0:27 / %s/cpu\\040acct rw,nosuid shared:9 - cgroup "
		 "cgroup rw,cpu,cpuacct\n"
		 "32 25 0:28 / %s rw - cgroup cgroup rw,cpuset\n",
		 w->root, w->cpuset);
	snprintf(mi, sizeof(mi), "%s/mountinfo", w->root);
	_writef(buf, "%s", mi);
	_writef("5 6 7 8\n",
		"%s/cpu acct/slurm_n1/uid_0/job_3/step_0/"
		"cpuacct.usage_percpu",
		w->root);
	_writef("3\n", "%s/slurm_n1/uid_0/job_3/step_0/cpuset.cpus", w->cpuset);
	o.mountinfo = mi;
	o.cpuacct_root = NULL;
	o.cpuset_root = NULL;
	w->act = fp_activity_new(&o, &err);
	if (!w->act)
		fail_msg("%s", err.msg);
	_poll(w);
	assert_int_equal(w->sample->nsteps, 1);
	assert_int_equal(w->sample->steps[0].cpu_ns[2], 7);
	assert_int_equal(w->sample->steps[0].alloc[0], 3);
	_world_free(w);
}

/* ---- cgroup v2 -------------------------------------------------------- */

static void v2_layout_is_discovered_with_effective_cpusets(void **state)
{
	struct world *w = _world();
	fp_activity_step_t info[8];
	size_t n;

	_writef("0-1\n",
		"%s/system.slice/slurmstepd.scope/job_42/step_0/"
		"cpuset.cpus.effective",
		w->unified);
	_writef("", "%s/system.slice/slurmstepd.scope/job_42/step_0/user/x",
		w->unified);
	_writef("2-3\n",
		"%s/system.slice/slurmstepd.scope/job_42/"
		"cpuset.cpus.effective",
		w->unified);
	_writef("", "%s/system.slice/slurmstepd.scope/job_42/step_batch/x",
		w->unified);
	_writef("3\n",
		"%s/system.slice/n1_slurmstepd.scope/job_43/step_extern/"
		"cpuset.cpus.effective",
		w->unified);
	_writef("", "%s/system.slice/other.service/job_44/step_0/x",
		w->unified);
	_open(w, FP_ACTIVITY_PERF);
	assert_int_equal(fp_activity_source(w->act),
			 FP_ACTIVITY_SRC_PERF_TASK_CLOCK);
	_poll(w);
	n = fp_activity_steps(w->act, info, 8);
	assert_int_equal(n, 3);
	assert_string_equal(info[0].id, "42.0");
	assert_int_equal(info[0].nalloc, 2);
	assert_int_equal(info[0].alloc[1], 1);
	assert_string_equal(info[1].id, "42.batch");
	assert_string_equal(info[1].cgroup,
			    "system.slice/slurmstepd.scope/job_42/step_batch");
	assert_int_equal(info[1].nalloc, 2); /* the job's */
	assert_int_equal(info[1].alloc[0], 2);
	assert_string_equal(info[2].id, "43.extern");
	assert_int_equal(info[2].nalloc, 1);
	assert_int_equal(info[2].alloc[0], 3);
	/* a generated folder is no cgroup: perf cannot count it, so the
	 * steps are known but not in the sample */
	assert_false(info[0].counted);
	assert_int_equal(w->sample->nsteps, 0);
	_world_free(w);
}

/* 26.05: the job folder is the job's SLUID; the step daemon said which job
 * (the test's table stands in for the records it leaves in the run folder) */
static int _count(const char *hay, const char *needle)
{
	int n = 0;

	for (const char *p = hay; (p = strstr(p, needle)); p++)
		n++;
	return n;
}

struct sluids {
	const char *sluid[2];
	uint64_t job[2];
	int asked;
};

static int _sluid_job(void *ctx, const char *sluid, uint64_t *job)
{
	struct sluids *t = ctx;

	t->asked++;
	for (int i = 0; i < 2; i++)
		if (t->sluid[i] && !strcmp(t->sluid[i], sluid)) {
			*job = t->job[i];
			return 0;
		}
	return -1;
}

static void
v2_sluid_job_folders_take_the_job_their_step_daemon_named(void **state)
{
	struct world *w = _world();
	struct sluids t = { .sluid = { "s0KQ3M9F2ZT8BA" }, .job = { 77 } };
	fp_activity_opts_t o = _opts(w, FP_ACTIVITY_PERF);
	fp_activity_step_t info[8];
	fp_error_t err = { 0 };
	size_t n;

	_writef("0-1\n",
		"%s/system.slice/slurmstepd.scope/s0KQ3M9F2ZT8BA/"
		"step_0/cpuset.cpus.effective",
		w->unified);
	_writef("",
		"%s/system.slice/slurmstepd.scope/s0KQ3M9F2ZT8BA/"
		"step_batch/x",
		w->unified);
	/* CgroupJobIdPaths=yes beside it */
	_writef("", "%s/system.slice/slurmstepd.scope/job_5/step_0/x",
		w->unified);
	/* a SLUID nobody named yet, and names that are no SLUID: I, L, O
	 * and U are not Crockford digits; too short */
	_writef("",
		"%s/system.slice/slurmstepd.scope/s0KQ3M9F2ZT8BB/"
		"step_0/x",
		w->unified);
	_writef("",
		"%s/system.slice/slurmstepd.scope/s0KQ3M9F2ZT8BU/"
		"step_0/x",
		w->unified);
	_writef("", "%s/system.slice/slurmstepd.scope/s0KQ3M/step_0/x",
		w->unified);
	o.job_of = _sluid_job;
	o.job_of_ctx = &t;
	w->act = fp_activity_new(&o, &err);
	if (!w->act)
		fail_msg("%s", err.msg);
	w->log.n = 0;
	w->log.all[0] = '\0';
	_poll(w);
	n = fp_activity_steps(w->act, info, 8);
	assert_int_equal(n, 3);
	assert_string_equal(info[0].id, "5.0");
	assert_string_equal(info[1].id, "77.0");
	assert_int_equal(info[1].job, 77);
	assert_string_equal(
		info[1].cgroup,
		"system.slice/slurmstepd.scope/s0KQ3M9F2ZT8BA/step_0");
	assert_int_equal(info[1].nalloc, 2);
	assert_string_equal(info[2].id, "77.batch");
	assert_int_equal(t.asked, 2); /* the two SLUIDs, not the others */
	assert_int_equal(_count(w->log.all, "named by its SLUID"), 1);
	assert_non_null(strstr(w->log.all, "s0KQ3M9F2ZT8BB"));

	/* its step daemon names it later: no inotify event says so, the
	 * next read asks again */
	t.sluid[1] = "s0KQ3M9F2ZT8BB";
	t.job[1] = 78;
	_poll(w);
	n = fp_activity_steps(w->act, info, 8);
	assert_int_equal(n, 4);
	assert_string_equal(info[3].id, "78.0");
	assert_int_equal(_count(w->log.all, "named by its SLUID"), 1);
	/* all named: reads stop walking the tree */
	t.asked = 0;
	_poll(w);
	_poll(w);
	assert_int_equal(t.asked, 0);
	_world_free(w);
}

static void v2_sluid_folders_are_skipped_without_a_resolver(void **state)
{
	struct world *w = _world();
	fp_activity_step_t info[4];

	_writef("",
		"%s/system.slice/slurmstepd.scope/s0KQ3M9F2ZT8BA/"
		"step_0/x",
		w->unified);
	_open(w, FP_ACTIVITY_PERF);
	_poll(w);
	assert_int_equal(fp_activity_steps(w->act, info, 4), 0);
	_world_free(w);
}

/* ---- perf on a real cgroup v2 ----------------------------------------- */

static uint64_t _schedstat_ns(pid_t pid)
{
	char path[64];
	unsigned long long ns = 0;
	FILE *fp;

	snprintf(path, sizeof(path), "/proc/%d/schedstat", (int)pid);
	fp = fopen(path, "r");
	if (!fp)
		return 0;
	if (fscanf(fp, "%llu", &ns) != 1)
		ns = 0;
	fclose(fp);
	return ns;
}

static uint64_t _sum_ns(const fp_step_sample_t *s, size_t ncpus)
{
	uint64_t t = 0;

	for (size_t c = 0; c < ncpus; c++)
		t += s->cpu_ns[c];
	return t;
}

static void perf_task_clock_counts_a_busy_cgroup(void **state)
{
	const char *uroot = "/sys/fs/cgroup/unified";
	char root[PATH_MAX], step[PATH_MAX], procs[PATH_MAX + 16], pid[32];
	const char *levels[] = { "system.slice", "slurmstepd.scope", "job_9",
				 "step_0" };
	long ncpus = sysconf(_SC_NPROCESSORS_CONF);
	fp_activity_opts_t o = { 0 };
	fp_node_desc_t *desc;
	fp_sample_t *sample;
	fp_activity_t *act;
	fp_error_t err = { 0 };
	struct statfs sf;
	uint64_t c0 = 0, c1 = 0, p0 = 0, p1 = 0;
	pid_t child;
	int fd, ok;

	if (statfs(uroot, &sf) || sf.f_type != CGROUP2_SUPER_MAGIC) {
		skip();
		return;
	}
	snprintf(root, sizeof(root), "%s/fp-test-%d", uroot, (int)getpid());
	if (mkdir(root, 0755)) {
		print_message("skipped: mkdir %s: %s\n", root, strerror(errno));
		skip();
		return;
	}
	snprintf(step, sizeof(step), "%s", root);
	for (int i = 0; i < 4; i++) {
		strcat(step, "/");
		strcat(step, levels[i]);
		mkdir(step, 0755);
	}
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		volatile unsigned long x = 0;

		for (;;)
			x++;
	}
	snprintf(procs, sizeof(procs), "%s/cgroup.procs", step);
	snprintf(pid, sizeof(pid), "%d\n", (int)child);
	fd = open(procs, O_WRONLY);
	ok = fd >= 0 && write(fd, pid, strlen(pid)) == (ssize_t)strlen(pid);
	if (fd >= 0)
		close(fd);

	o.proc_stat = "/proc/stat";
	o.cpuacct_root = "";
	o.cpuset_root = "";
	o.unified_root = root;
	o.mode = FP_ACTIVITY_PERF;
	o.perf_task_clock = true;
	act = ok ? fp_activity_new(&o, &err) : NULL;
	desc = fp_sample_node_desc_new();
	desc->cpus = (size_t)ncpus;
	sample = fp_sample_new(desc);
	if (act) {
		struct timespec ts = { 0, 300000000 };

		ok = !fp_activity_read(act, desc, sample, &err) &&
		     sample->nsteps == 1;
		c0 = ok ? _sum_ns(&sample->steps[0], desc->cpus) : 0;
		p0 = _schedstat_ns(child);
		nanosleep(&ts, NULL);
		ok = ok && !fp_activity_read(act, desc, sample, &err) &&
		     sample->nsteps == 1;
		c1 = ok ? _sum_ns(&sample->steps[0], desc->cpus) : 0;
		p1 = _schedstat_ns(child);
	}
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	fp_activity_free(act);
	for (int i = 4; i >= 0; i--) {
		rmdir(step);
		*strrchr(step, '/') = '\0';
	}
	if (!act) {
		print_message("skipped: %s\n",
			      ok ? err.msg : "cgroup.procs not writable");
		fp_sample_free(sample);
		fp_sample_node_desc_free(desc);
		skip();
		return;
	}
	if (!ok)
		fail_msg("read: %s (%zu steps)", err.msg, sample->nsteps);
	assert_string_equal(sample->steps[0].id, "9.0");
	print_message("perf task-clock %.1f ms, schedstat %.1f ms\n",
		      (c1 - c0) / 1e6, (p1 - p0) / 1e6);
	/* On a loaded machine (make fuzz, a parallel build) the child may
	 * hardly run: too little to compare, which says nothing of the code. */
	if (p1 - p0 <= 50000000) {
		print_message("skipped: the child ran only %.1f ms of 300\n",
			      (p1 - p0) / 1e6);
		fp_sample_free(sample);
		fp_sample_node_desc_free(desc);
		skip();
		return;
	}
	/* the child ran for (most of) the 0.3 s: the counter agrees with the
	 * scheduler's own account to within a few ms */
	assert_true(c1 - c0 > (p1 - p0) * 8 / 10);
	assert_true(c1 - c0 < (p1 - p0) * 12 / 10 + 20000000);
	fp_sample_free(sample);
	fp_sample_node_desc_free(desc);
}

/* ---- hints to the engine: what moved, same steps ---- */

/* Two packages of two CPUs, each with a package domain of 5 W idle. */
static void _two_packages(fp_node_desc_t *d)
{
	d->npackages = 2;
	d->packages = calloc(2, sizeof(*d->packages));
	d->ndomains = 2;
	d->domains = calloc(2, sizeof(*d->domains));
	assert_non_null(d->packages);
	assert_non_null(d->domains);
	for (int p = 0; p < 2; p++) {
		d->packages[p].id = p;
		d->packages[p].ncpus = 2;
		d->packages[p].cpus = calloc(2, sizeof(int));
		assert_non_null(d->packages[p].cpus);
		d->packages[p].cpus[0] = 2 * p;
		d->packages[p].cpus[1] = 2 * p + 1;
		d->domains[p].name = strdup(p ? "package-1" : "package-0");
		d->domains[p].kind = FP_DOMAIN_PACKAGE;
		d->domains[p].package = p;
		d->domains[p].max_energy_range_uj = 262143999938ULL;
		d->domains[p].idle_w = 5;
	}
	if (!d->node)
		d->node = strdup("n1");
}

/* The same sample without any reader hint. */
static void _strip(const fp_node_desc_t *d, const fp_sample_t *s,
		   fp_sample_t *out)
{
	fp_sample_clear_steps(out);
	out->t = s->t;
	memcpy(out->energy_uj, s->energy_uj, d->ndomains * sizeof(uint64_t));
	memcpy(out->energy_valid, s->energy_valid, d->ndomains * sizeof(bool));
	memcpy(out->cpu_busy_ns, s->cpu_busy_ns, d->cpus * sizeof(uint64_t));
	out->wall_valid = false;
	for (size_t i = 0; i < s->nsteps; i++) {
		const fp_step_sample_t *st = &s->steps[i];
		fp_step_sample_t *o = fp_sample_add_step(
			out, d, st->id, st->job, st->alloc, st->nalloc);

		assert_non_null(o);
		memcpy(o->cpu_ns, st->cpu_ns, d->cpus * sizeof(uint64_t));
	}
}

/*
 * The reader's hints (which counters moved, same steps as the last read)
 * only save work: an engine fed the hinted samples and one fed the same
 * samples stripped of them agree to the bit, through steps coming, going,
 * moving to other CPUs, a malformed counter file, and forgetting.
 */
static void hinted_samples_give_the_engine_bit_identical_results(void **s_)
{
	struct world *w = _world();
	uint64_t ns[3][NCPUS] = { { 0 } }, busy[NCPUS] = { 0 }, uj[2] = { 0 };
	const char *cpus[3] = { "0-1\n", "2\n", "1-3\n" };
	bool live[3] = { true, true, false };
	unsigned seed = 11, hinted = 0, same = 0;
	fp_engine_t *ea, *eb;
	fp_sample_t *plain;
	fp_error_t err = { 0 };

	_two_packages(w->desc);
	/* the world's sample was sized before the node had domains */
	fp_sample_free(w->sample);
	w->sample = fp_sample_new(w->desc);
	ea = fp_engine_new(w->desc, NULL, &err);
	eb = fp_engine_new(w->desc, NULL, &err);
	plain = fp_sample_new(w->desc);
	assert_non_null(ea);
	assert_non_null(eb);
	assert_non_null(plain);
	_open(w, FP_ACTIVITY_CGROUP);
	for (int round = 0; round < 400; round++) {
		char buf[512], line[128];
		size_t n = 0;

		if (round == 60)
			live[2] = true; /* a step starts */
		if (round == 150)
			cpus[1] = "3\n"; /* a step moves */
		if (round == 250)
			live[0] = false; /* a step ends */
		for (int k = 0; k < 3; k++) {
			char step[16];

			snprintf(step, sizeof(step), "step_%d", k);
			if (!live[k]) {
				char dir[PATH_MAX];

				snprintf(dir, sizeof(dir),
					 "%s/slurm_n1/uid_0/job_%d/%s",
					 w->cpuacct, 50 + k, step);
				_rm_rf(dir);
				continue;
			}
			for (int c = 0; c < NCPUS; c++) {
				seed = seed * 1103515245 + 12345;
				if ((seed >> 16) % 3 == 0) {
					uint64_t d = (seed >> 4) % 9000000;

					ns[k][c] += d;
					busy[c] += d;
				}
			}
			snprintf(buf, sizeof(buf),
				 "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64
				 " \n",
				 ns[k][0], ns[k][1], ns[k][2], ns[k][3]);
			/* one round of garbage: the step is skipped */
			_v1_step(w, "slurm_n1", 50 + k, step,
				 round == 200 && k == 1 ? "1 2 x\n" : buf,
				 cpus[k]);
		}
		n += (size_t)snprintf(buf + n, sizeof(buf) - n,
				      "cpu  0 0 0 0 0 0 0 0 0 0\n");
		for (int c = 0; c < NCPUS; c++) {
			snprintf(line, sizeof(line),
				 "cpu%d %" PRIu64 " 0 0 %d 0 0 0 0 0 0\n", c,
				 busy[c] / _tick_ns() + 1, 1000 + round);
			n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s",
					      line);
		}
		_writef(buf, "%s", w->stat);
		_poll(w);
		w->sample->t = 1000 + round;
		for (int p = 0; p < 2; p++) {
			uj[p] += 7000000 + (uint64_t)(seed >> 8) % 9000000;
			w->sample->energy_uj[p] = uj[p];
			w->sample->energy_valid[p] = true;
		}
		w->sample->wall_valid = false;
		for (size_t i = 0; i < w->sample->nsteps; i++)
			hinted += w->sample->steps[i].changed_known;
		same += w->sample->steps_same;
		_strip(w->desc, w->sample, plain);
		if (fp_engine_push(ea, w->sample, &err) ||
		    fp_engine_push(eb, plain, &err))
			fail_msg("round %d: %s", round, err.msg);
		if (round % 40 == 39) {
			assert_int_equal(fp_engine_forget_absent(ea, 30),
					 fp_engine_forget_absent(eb, 30));
		}
		assert_int_equal(fp_engine_nsteps(ea), fp_engine_nsteps(eb));
		for (size_t i = 0; i < fp_engine_nsteps(ea); i++) {
			fp_engine_step_t a, b;

			fp_engine_step_at(ea, i, &a);
			fp_engine_step_at(eb, i, &b);
			assert_string_equal(a.id, b.id);
			assert_memory_equal(&a.energy_j, &b.energy_j,
					    sizeof(double));
			assert_memory_equal(&a.dynamic_j, &b.dynamic_j,
					    sizeof(double));
			assert_memory_equal(&a.static_j, &b.static_j,
					    sizeof(double));
			assert_memory_equal(&a.power_w, &b.power_w,
					    sizeof(double));
		}
	}
	/* the fast paths did run */
	assert_true(hinted > 600);
	assert_true(same > 300);
	assert_int_equal(fp_engine_check_conservation(ea, &err), 0);
	fp_sample_free(plain);
	fp_engine_free(ea);
	fp_engine_free(eb);
	_world_free(w);
}

/* Every counter whose bit is clear kept its value since the last read;
 * a sample filled by something else in between gets no hint. */
static void changed_bits_cover_every_counter_that_moved(void **state)
{
	struct world *w = _world();
	uint64_t v[NCPUS] = { 10, 20, 30, 40 }, last[NCPUS];
	unsigned seed = 3, known = 0;
	fp_sample_t *other;
	fp_error_t err = { 0 };

	_v1_step(w, "slurm_n1", 42, "step_0", "10 20 30 40\n", "0-3\n");
	_open(w, FP_ACTIVITY_CGROUP);
	_poll(w);
	memcpy(last, v, sizeof(last));
	for (int round = 0; round < 300; round++) {
		char buf[256];
		const fp_step_sample_t *s;

		for (int c = 0; c < NCPUS; c++) {
			seed = seed * 1103515245 + 12345;
			if ((seed >> 16) % 4 == 0)
				v[c] += 1 + (seed >> 4) % 1000;
		}
		snprintf(buf, sizeof(buf),
			 "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " \n",
			 v[0], v[1], v[2], v[3]);
		_v1_step(w, "slurm_n1", 42, "step_0", buf, NULL);
		_poll(w);
		s = _step(w, "42.0");
		assert_non_null(s);
		if (s->changed_known) {
			known++;
			for (int c = 0; c < NCPUS; c++)
				if (!(s->changed[0] >> c & 1))
					assert_int_equal(v[c], last[c]);
		}
		for (int c = 0; c < NCPUS; c++)
			assert_int_equal(s->cpu_ns[c], v[c]);
		memcpy(last, v, sizeof(last));
	}
	assert_true(known > 250);
	/* another sample in between: the reader's next read of the first
	 * one copies every counter again */
	other = fp_sample_new(w->desc);
	assert_int_equal(fp_activity_read(w->act, w->desc, other, &err), 0);
	w->sample->steps[0].cpu_ns[2] = 12345; /* scribbled on */
	v[0] += 5;
	_v1_step(w, "slurm_n1", 42, "step_0", "1 1 1 1\n", NULL);
	_poll(w);
	assert_false(w->sample->steps_same);
	assert_int_equal(_step(w, "42.0")->cpu_ns[2], 1);
	fp_sample_free(other);
	_world_free(w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			busy_counts_user_nice_system_irq_softirq_steal_only),
		cmocka_unit_test(busy_ticks_are_converted_to_ns_with_user_hz),
		cmocka_unit_test(
			offline_cpu_reads_zero_then_keeps_its_last_value),
		cmocka_unit_test(busy_follows_changes_between_polls),
		cmocka_unit_test(
			proc_stat_longer_than_the_first_read_is_read_whole),
		cmocka_unit_test(
			unreadable_proc_stat_fails_new_naming_the_file),
		cmocka_unit_test(malformed_proc_stat_fails_the_poll),
		cmocka_unit_test(v1_steps_of_two_jobs_are_named_and_sorted),
		cmocka_unit_test(v1_plain_slurm_folder_is_read_too),
		cmocka_unit_test(v1_allocation_comes_from_the_step_cpuset),
		cmocka_unit_test(v1_allocation_falls_back_to_the_job_cpuset),
		cmocka_unit_test(
			v1_allocation_falls_back_to_all_cpus_logged_once),
		cmocka_unit_test(v1_step_cpuset_written_late_is_picked_up),
		cmocka_unit_test(v1_step_appearing_between_polls_is_added),
		cmocka_unit_test(v1_step_vanishing_between_polls_is_removed),
		cmocka_unit_test(v1_step_whose_usage_file_vanished_is_skipped),
		cmocka_unit_test(v1_malformed_usage_is_skipped_and_logged_once),
		cmocka_unit_test(v1_usage_follows_changes_between_polls),
		cmocka_unit_test(v1_usage_with_more_numbers_than_cpus_is_read),
		cmocka_unit_test(v1_usage_beyond_64_bits_is_malformed),
		cmocka_unit_test(
			v1_explicit_mode_without_cpuacct_root_is_not_supported),
		cmocka_unit_test(default_roots_come_from_mountinfo),
		cmocka_unit_test(
			v2_layout_is_discovered_with_effective_cpusets),
		cmocka_unit_test(
			v2_sluid_job_folders_take_the_job_their_step_daemon_named),
		cmocka_unit_test(
			v2_sluid_folders_are_skipped_without_a_resolver),
		cmocka_unit_test(perf_task_clock_counts_a_busy_cgroup),
		cmocka_unit_test(
			hinted_samples_give_the_engine_bit_identical_results),
		cmocka_unit_test(changed_bits_cover_every_counter_that_moved),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
