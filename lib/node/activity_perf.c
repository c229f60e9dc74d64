/* Step CPU time on cgroup v2 from perf counters: the event probed at open
 * (unhalted cycles, else task-clock), one counter per step and CPU. */
#include "activity_state.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <perfmon/pfmlib_perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

static long _perf_open(struct perf_event_attr *attr, int pid, int cpu,
		       unsigned long flags)
{
	return syscall(SYS_perf_event_open, attr, pid, cpu, -1, flags);
}

/*
 * One counter per CPU on the step's cgroup. A counter counts only from when
 * it is opened, which is why a perf step's counters start at its first poll.
 * A CPU that is offline now cannot be counted and reads 0.
 */
int fp_activity_perf_step_open(fp_activity_t *a, struct step *s)
{
	char path[PATH_MAX];
	int cg, nfail = 0, lasterr = 0;

	s->pfd = malloc(a->ncpus * sizeof(int));
	s->cnt = calloc(a->ncpus, sizeof(uint64_t));
	if (!s->pfd || !s->cnt)
		return -1;
	for (size_t c = 0; c < a->ncpus; c++)
		s->pfd[c] = -1;
	s->npfd = a->ncpus;
	s->perf_dead = true;
	if (snprintf(path, sizeof(path), "%s/%s", a->step_root, s->rel) >=
	    (int)sizeof(path))
		return 0;
	cg = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cg < 0)
		return 0; /* vanished: the next walk drops it */
	s->perf_dead = false;
	for (size_t c = 0; c < a->ncpus; c++) {
		long fd =
			_perf_open(&a->pattr, cg, (int)c,
				   PERF_FLAG_PID_CGROUP | PERF_FLAG_FD_CLOEXEC);

		if (fd < 0) {
			nfail++;
			lasterr = errno;
		}
		s->pfd[c] = (int)fd;
	}
	close(cg);
	if (nfail && (lasterr == EMFILE || lasterr == ENFILE)) {
		if (!a->logged_emfile)
			fp_activity_log(
				a, FP_LOG_ERROR,
				"activity: perf counters for %s: %s (%zu CPUs x "
				"steps descriptors are needed: raise "
				"RLIMIT_NOFILE); such CPUs read 0",
				path, strerror(lasterr), a->ncpus);
		a->logged_emfile = true;
	} else if ((size_t)nfail == a->ncpus) {
		fp_activity_log(a, FP_LOG_ERROR,
				"activity: perf counters for %s: %s; "
				"step not counted",
				path, strerror(lasterr));
		s->perf_dead = true;
	}
	return 0;
}

bool fp_activity_perf_step_read(fp_activity_t *a, struct step *s)
{
	for (size_t c = 0; c < a->ncpus; c++) {
		uint64_t v[3]; /* value, time enabled, time running */

		if (s->pfd[c] < 0)
			continue;
		if (read(s->pfd[c], v, sizeof(v)) != (ssize_t)sizeof(v))
			return false;
		/* hardware counters may be multiplexed: scale up */
		if (v[2] && v[2] < v[1])
			v[0] = (uint64_t)((unsigned __int128)v[0] * v[1] /
					  v[2]);
		s->cnt[c] = v[0];
	}
	return true;
}

/*
 * Whether this event opens on the root cgroup, as step counters will. A root
 * that is not a cgroup2 mount (a generated tree in tests) is probed on this
 * process instead: its steps' counters then fail one by one, and are logged.
 */
static bool _perf_try(fp_activity_t *a, struct perf_event_attr *attr)
{
	int cg = open(a->step_root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct statfs sf;
	long fd;

	if (cg < 0)
		return false;
	attr->size = sizeof(*attr);
	attr->read_format = PERF_FORMAT_TOTAL_TIME_ENABLED |
			    PERF_FORMAT_TOTAL_TIME_RUNNING;
	if (!fstatfs(cg, &sf) && sf.f_type == CGROUP2_SUPER_MAGIC)
		fd = _perf_open(attr, cg, 0,
				PERF_FLAG_PID_CGROUP | PERF_FLAG_FD_CLOEXEC);
	else
		fd = _perf_open(attr, 0, -1, PERF_FLAG_FD_CLOEXEC);
	close(cg);
	if (fd < 0)
		return false;
	close((int)fd);
	a->pattr = *attr;
	return true;
}

/* Unhalted cycles where a PMU counts them (libpfm4 names the event), else
 * the software task-clock (ns). */
fp_activity_source_t fp_activity_perf_probe(fp_activity_t *a, bool no_cycles)
{
	struct perf_event_attr attr;

	if (!no_cycles && pfm_initialize() == PFM_SUCCESS) {
		pfm_perf_encode_arg_t arg;

		memset(&attr, 0, sizeof(attr));
		memset(&arg, 0, sizeof(arg));
		arg.attr = &attr;
		arg.size = sizeof(arg);
		if (pfm_get_os_event_encoding("cycles", PFM_PLM0 | PFM_PLM3,
					      PFM_OS_PERF_EVENT,
					      &arg) == PFM_SUCCESS &&
		    _perf_try(a, &attr))
			return FP_ACTIVITY_SRC_PERF_CYCLES;
	}
	memset(&attr, 0, sizeof(attr));
	attr.type = PERF_TYPE_SOFTWARE;
	attr.config = PERF_COUNT_SW_TASK_CLOCK;
	if (_perf_try(a, &attr))
		return FP_ACTIVITY_SRC_PERF_TASK_CLOCK;
	return FP_ACTIVITY_SRC_NONE;
}
