/* jobcomp/carbon: the carbon footprint of every finished job, written to the
 * job record and to a signed summary, computed off slurmctld's locks.
 *
 * jobcomp_p_log_record (record_job_end from Slurm 25.05) runs with the
 * controller's locks held: it only copies the job id into memory
 * (microseconds). A thread of this plugin writes each
 * id into the spool's queue folder (the journal) and runs footprint-worker,
 * a separate process that waits for the step energies in slurmdbd, computes,
 * signs, writes the summary and the job record, and removes the queue entry.
 * A separate process keeps slurmdbd, disk and crypto faults out of the
 * controller; the queue folder and the worker's reconciliation against
 * slurmdbd make sure every finished job gets exactly one summary, also after
 * a controller crash or a slurmdbd outage. */

#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "slurm/slurm_errno.h"
#include "src/common/slurm_xlator.h"
#include "fp_slurm_compat.h"
#if FP_SLURM_INTERFACES
#include "src/interfaces/jobcomp.h"
#else
#include "src/common/slurm_jobcomp.h"
#endif
#include "src/common/log.h"
#include "src/common/read_config.h"
#include "src/common/xmalloc.h"
#include "src/common/xstring.h"
#include "src/slurmctld/slurmctld.h"

#include "footprint/config.h"

const char plugin_name[] = "Job completion carbon footprint plugin";
const char plugin_type[] = "jobcomp/carbon";
const uint32_t plugin_version = SLURM_VERSION_NUMBER;

#ifndef FP_LIBEXECDIR
#define FP_LIBEXECDIR "/usr/local/libexec/slurm-footprint"
#endif
/* Reconciliation against slurmdbd finds jobs that never reached
 * log_record (a controller killed between completion and journaling, jobs
 * it lost and slurmdbd closed on restart). Every pass asks only for the jobs
 * that ended since the spool's watermark (the worker keeps it); the span is
 * how far back a pass sweeps when the watermark is missing or damaged. */
#define RECONCILE_EVERY 30 /* seconds */
#define RECONCILE_SWEEP_SPAN 86400

typedef struct {
	uint32_t job_id;
	time_t end;
} pending_t;

extern char **environ;

/* What the queue thread works from. set_location runs at every reconfigure
 * and SIGUSR2, from slurmctld's threads and under its locks: it only copies
 * two strings into a new one and hands it over under our lock; the queue
 * thread takes it under the same lock, reads footprint.conf outside any
 * lock, and from then on owns it alone. Nothing is changed in place, so the
 * thread never reads a string another thread frees. */
typedef struct {
	char *conf_path; /* footprint.conf */
	char *cluster;	 /* ClusterName */
	char *spool_dir; /* from footprint.conf, set by the thread */
	unsigned retry_interval;
} settings_t;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
/* under lock */
static pending_t *pending;
static size_t npending, cap_pending;
static bool stop;
static settings_t *next_settings; /* handed over, not yet taken */
/* the queue thread's own; fini reads them once it has joined the thread */
static settings_t *settings;
static char *worker_path, *last_worker_msg;
/* set_location and fini only: Slurm calls both under its context lock */
static bool thread_started;
static pthread_t thread;

static void _settings_free(settings_t *s)
{
	if (!s)
		return;
	xfree(s->conf_path);
	xfree(s->cluster);
	xfree(s->spool_dir);
	xfree(s);
}

/* Queue thread: the spool and retry interval footprint.conf names. */
static void _load_config(settings_t *s)
{
	fp_config_t *cfg;
	fp_error_t err = { 0 };

	s->retry_interval = 10;
	cfg = fp_config_load(s->conf_path, &err);
	if (!cfg) {
		/* The worker marks summaries incomplete until it is fixed;
		 * the spool is still the one the file names. */
		error("%s: %s", plugin_type, err.msg);
		cfg = fp_config_load_essentials(s->conf_path);
		s->spool_dir =
			xstrdup(cfg ? cfg->spool_dir : FP_DEFAULT_SPOOL_DIR);
		fp_config_free(cfg);
		return;
	}
	s->spool_dir = xstrdup(cfg->spool_dir);
	s->retry_interval = cfg->retry_interval;
	fp_config_free(cfg);
}

static void _find_worker(void)
{
	Dl_info info;
	char *dir, *copy;

	if (dladdr((void *)_find_worker, &info) && info.dli_fname) {
		copy = xstrdup(info.dli_fname);
		dir = dirname(copy);
		worker_path = xstrdup_printf("%s/footprint-worker", dir);
		xfree(copy);
		if (access(worker_path, X_OK) == 0)
			return;
		xfree(worker_path);
	}
	worker_path = xstrdup(FP_LIBEXECDIR "/footprint-worker");
	if (access(worker_path, X_OK))
		error("%s: %s is missing: footprints are queued, not computed",
		      plugin_type, worker_path);
}

/* Writes queue entries for the jobs copied out of log_record. */
static int _journal(const char *spool_dir, pending_t *jobs, size_t n)
{
	char *dir = xstrdup_printf("%s/queue", spool_dir);
	int dfd, failed = 0;

	mkdir(spool_dir, 0755);
	mkdir(dir, 0700);
	for (size_t i = 0; i < n; i++) {
		char *path = xstrdup_printf("%s/%u", dir, jobs[i].job_id);
		char line[64];
		int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			      0600);
		int len = snprintf(line, sizeof(line), "%u %ld %ld\n",
				   jobs[i].job_id, (long)jobs[i].end,
				   (long)time(NULL));

		if (fd < 0 || write(fd, line, len) != len) {
			if (!failed)
				error("%s: cannot queue JobId=%u in %s: %m; "
				      "it will be found by reconciliation",
				      plugin_type, jobs[i].job_id, dir);
			failed++;
		}
		if (fd >= 0)
			close(fd);
		xfree(path);
	}
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	xfree(dir);
	return failed;
}

static pid_t _spawn_worker(const settings_t *s, int reconcile_span, int *err_fd)
{
	posix_spawn_file_actions_t fa;
	char *argv[9];
	char span[32];
	int pipefd[2], n = 0, rc;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC))
		return -1;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	argv[n++] = worker_path;
	argv[n++] = "--config";
	argv[n++] = s->conf_path;
	argv[n++] = "--cluster";
	argv[n++] = s->cluster;
	if (reconcile_span) {
		snprintf(span, sizeof(span), "%d", reconcile_span);
		argv[n++] = "--reconcile";
		argv[n++] = span;
	}
	argv[n] = NULL;
	/* posix_spawn returns the error; errno is not set. */
	if ((rc = posix_spawn(&pid, worker_path, &fa, NULL, argv, environ))) {
		error("%s: cannot run %s: %s", plugin_type, worker_path,
		      strerror(rc));
		pid = -1;
		close(pipefd[0]);
	} else {
		*err_fd = pipefd[0];
		fcntl(*err_fd, F_SETFL, O_NONBLOCK);
	}
	close(pipefd[1]);
	posix_spawn_file_actions_destroy(&fa);
	return pid;
}

/* The worker reports each distinct problem once; it goes to our log. */
static void _drain_worker_output(int fd, char *buf, size_t size, size_t *len)
{
	ssize_t n;
	char *nl;

	while ((n = read(fd, buf + *len, size - 1 - *len)) > 0) {
		*len += (size_t)n;
		buf[*len] = '\0';
		while ((nl = strchr(buf, '\n'))) {
			*nl = '\0';
			/* A fault lasting over many runs is logged once. */
			if (!strncmp(buf, "info: ", 6)) {
				info("%s: %s", plugin_type, buf + 6);
			} else if (buf[0] && xstrcmp(buf, last_worker_msg)) {
				error("%s: %s", plugin_type, buf);
				xfree(last_worker_msg);
				last_worker_msg = xstrdup(buf);
			}
			*len -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, *len + 1);
		}
		if (*len == size - 1)
			*len = 0;
	}
}

/* Under lock: the jobs logged so far and the settings handed over, now the
 * caller's; the queue is empty after it. */
static pending_t *_take_pending(size_t *n, settings_t **fresh)
{
	pending_t *jobs = pending;

	*n = npending;
	pending = NULL;
	npending = cap_pending = 0;
	*fresh = next_settings;
	next_settings = NULL;
	return jobs;
}

static void *_queue_thread(void *arg)
{
	pid_t worker = -1;
	int err_fd = -1, status;
	char out[4096];
	size_t out_len = 0;
	bool need_run = true;
	int reconcile = RECONCILE_SWEEP_SPAN;
	time_t next_run = 0;
	time_t next_reconcile = time(NULL) + RECONCILE_EVERY;

	(void)arg;

	_find_worker();
	while (true) {
		pending_t *jobs;
		size_t n;
		struct timespec ts;
		time_t now;
		settings_t *fresh;
		bool quit;

		slurm_mutex_lock(&lock);
		if (!npending && !stop && !next_settings) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 250 * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&wake, &lock, &ts);
		}
		jobs = _take_pending(&n, &fresh);
		quit = stop;
		slurm_mutex_unlock(&lock);

		if (fresh) {
			/* Jobs logged before the change go to the spool of
			 * the configuration they were logged under. */
			if (n && settings) {
				_journal(settings->spool_dir, jobs, n);
				need_run = true;
				n = 0;
			}
			_load_config(fresh);
			_settings_free(settings);
			settings = fresh;
			info("%s: footprint.conf %s, spool %s, worker %s",
			     plugin_type, settings->conf_path,
			     settings->spool_dir, worker_path);
		}
		if (n) {
			_journal(settings->spool_dir, jobs, n);
			need_run = true;
		}
		xfree(jobs);
		if (quit)
			break;

		if (err_fd >= 0)
			_drain_worker_output(err_fd, out, sizeof(out),
					     &out_len);
		if (worker > 0 && waitpid(worker, &status, WNOHANG) == worker) {
			int rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;

			if (err_fd >= 0) {
				_drain_worker_output(err_fd, out, sizeof(out),
						     &out_len);
				close(err_fd);
				err_fd = -1;
			}
			worker = -1;
			now = time(NULL);
			if (rc == 0) {
				next_run = now;
				xfree(last_worker_msg);
			} else if (rc == 3) {
				/* Jobs wait for their step records. */
				need_run = true;
				next_run = now + 2;
			} else {
				need_run = true;
				next_run = now + settings->retry_interval;
				debug("%s: worker exit %d; retry in %u s",
				      plugin_type, rc,
				      settings->retry_interval);
			}
		}
		now = time(NULL);
		if (now >= next_reconcile) {
			reconcile = RECONCILE_SWEEP_SPAN;
			need_run = true;
			next_reconcile = now + RECONCILE_EVERY;
		}
		if (worker < 0 && need_run && now >= next_run) {
			worker = _spawn_worker(settings, reconcile, &err_fd);
			if (worker > 0) {
				need_run = false;
				reconcile = 0;
			} else {
				next_run = now + settings->retry_interval;
			}
		}
	}
	if (err_fd >= 0)
		close(err_fd);
	/* A running worker finishes on its own; it is not ours to wait for. */
	return NULL;
}

extern int init(void)
{
	verbose("%s: loaded", plugin_type);
	return SLURM_SUCCESS;
}

extern FP_FINI_TYPE fini(void)
{
	pending_t *jobs;
	size_t n;
	settings_t *fresh;

	if (thread_started) {
		slurm_mutex_lock(&lock);
		stop = true;
		slurm_cond_signal(&wake);
		slurm_mutex_unlock(&lock);
		FP_THREAD_JOIN(thread);
		thread_started = false;
	}
	/* Anything still in memory goes to the journal. The thread is gone:
	 * its settings are ours now. */
	slurm_mutex_lock(&lock);
	jobs = _take_pending(&n, &fresh);
	slurm_mutex_unlock(&lock);
	if (n && settings)
		_journal(settings->spool_dir, jobs, n);
	xfree(jobs);
	_settings_free(fresh);
	_settings_free(settings);
	settings = NULL;
	xfree(worker_path);
	xfree(last_worker_msg);
	FP_FINI_RETURN;
}

/* JobCompLoc names footprint.conf; default: footprint.conf beside
 * slurm.conf. */
static int _set_location(const char *location)
{
	settings_t *s = xmalloc(sizeof(*s)), *old;

	if (location && location[0])
		s->conf_path = xstrdup(location);
	else
		s->conf_path = get_extra_conf_path("footprint.conf");
	s->cluster = xstrdup(slurm_conf.cluster_name);
	slurm_mutex_lock(&lock);
	/* Two reconfigures before the thread woke: only the last counts. */
	old = next_settings;
	next_settings = s;
	stop = false;
	slurm_cond_signal(&wake);
	slurm_mutex_unlock(&lock);
	_settings_free(old);
	if (!thread_started) {
		FP_THREAD_CREATE("fp_jobcomp", &thread, _queue_thread, NULL);
		thread_started = true;
	}
	return SLURM_SUCCESS;
}

#if FP_JOBCOMP_LOCATION_VOID
extern int jobcomp_p_set_location(void)
{
	return _set_location(slurm_conf.job_comp_loc);
}
#else
extern int jobcomp_p_set_location(char *location)
{
	return _set_location(location);
}
#endif

static int _record_end(job_record_t *job_ptr)
{
	if (!job_ptr)
		return SLURM_ERROR;
	slurm_mutex_lock(&lock);
	if (npending == cap_pending) {
		cap_pending = cap_pending ? cap_pending * 2 : 64;
		xrecalloc(pending, cap_pending, sizeof(*pending));
	}
	pending[npending].job_id = job_ptr->job_id;
	pending[npending].end = job_ptr->end_time;
	npending++;
	slurm_cond_signal(&wake);
	slurm_mutex_unlock(&lock);
	return SLURM_SUCCESS;
}

#if FP_JOBCOMP_RECORD_EVENTS
extern int jobcomp_p_record_job_end(job_record_t *job_ptr, uint32_t event)
{
	(void)event; /* every end is recorded alike */
	return _record_end(job_ptr);
}

/* Required since 25.05; a job's footprint is only known at its end. */
extern int jobcomp_p_record_job_start(job_record_t *job_ptr, uint32_t event)
{
	(void)job_ptr; /* a footprint begins at the job's end */
	(void)event;
	return SLURM_SUCCESS;
}
#else
extern int jobcomp_p_log_record(job_record_t *job_ptr)
{
	return _record_end(job_ptr);
}
#endif

extern fp_list_t *jobcomp_p_get_jobs(void *job_cond)
{
	(void)job_cond; /* no job list of ours: sacct reads slurmdbd */
	return NULL;
}
