/* acct_gather_energy/footprint: per-step energy on shared nodes, attributed
 * from RAPL, a heater's wall meter and per-CPU step activity (see lib/). */

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pwd.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "src/common/slurm_xlator.h"
#include "fp_slurm_compat.h"
#include "src/common/env.h"
#include "src/common/log.h"
#include "src/common/parse_config.h"
#include "src/common/read_config.h"
#if FP_SLURM_INTERFACES
#include "src/interfaces/acct_gather_energy.h"
#else
#include "src/common/slurm_acct_gather_energy.h"
#endif
#include "src/common/xmalloc.h"
#include "src/common/xstring.h"
#include "src/slurmd/slurmd/slurmd.h"
#include "src/slurmd/slurmstepd/slurmstepd_job.h"

#include "footprint/poller.h"
#include "footprint/publish.h"
#include "footprint/step.h"

/* step.h names Slurm's special steps without Slurm's headers */
_Static_assert(FP_STEP_BATCH == SLURM_BATCH_SCRIPT &&
		       FP_STEP_EXTERN == SLURM_EXTERN_CONT &&
		       FP_STEP_INTERACTIVE == SLURM_INTERACTIVE_STEP,
	       "footprint/step.h's step ids are Slurm's");

/* slurmd's configuration exists only in slurmd: a weak reference keeps the
 * plugin loadable in slurmctld and slurmstepd, where it resolves to NULL. */
#pragma weak conf

const char plugin_name[] = "AcctGatherEnergy footprint plugin";
const char plugin_type[] = "acct_gather_energy/footprint";
const uint32_t plugin_version = SLURM_VERSION_NUMBER;

#define OPT_PREFIX "EnergyFootprint"
#define DEFAULT_RUN_DIR "/run/slurm-footprint"

static fp_poller_config_t cfg;
static bool cfg_ready;

/* slurmd: the node poller and its thread */
static pthread_mutex_t poll_lock = PTHREAD_MUTEX_INITIALIZER;
static fp_poller_t *poller;
static pthread_t poll_thread;
static bool poll_thread_started;
/* set by fini, read by the poller thread between polls */
static atomic_bool poll_stop;
static int request_fd = -1;
static bool no_source; /* no RAPL, no sensor: report nothing */

/* slurmstepd: this step */
static char step_name[64];
static stepd_step_rec_t *step_rec;

static const char *_run_dir(void)
{
	return cfg.run_dir ? cfg.run_dir : DEFAULT_RUN_DIR;
}

static void _log(void *ctx, int level, const char *msg)
{
	(void)ctx; /* the poller's log hook: Slurm's log has no context */
	switch (level) {
	case FP_LOG_ERROR:
		error("%s: %s", plugin_type, msg);
		break;
	case FP_LOG_WARN:
		info("%s: warning: %s", plugin_type, msg);
		break;
	case FP_LOG_INFO:
		info("%s: %s", plugin_type, msg);
		break;
	default:
		log_flag(ENERGY, "%s: %s", plugin_type, msg);
	}
}

static double _now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The node state file tells step daemons whether the node has a source. */
static void _write_node_state(const char *state)
{
	char *path = NULL, *tmp = NULL;
	int fd;

	xstrfmtcat(path, "%s/node", _run_dir());
	xstrfmtcat(tmp, "%s/.node.tmp", _run_dir());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0) {
		if (write(fd, state, strlen(state)) < 0 || close(fd) < 0 ||
		    rename(tmp, path) < 0)
			error("%s: cannot write %s: %m", plugin_type, path);
	}
	xfree(path);
	xfree(tmp);
}

static void *_poll_loop(void *arg)
{
	struct pollfd pfd = { .fd = request_fd, .events = POLLIN };
	double next = _now();
	bool warned = false;
	char buf[64];

	(void)arg;

	while (!atomic_load(&poll_stop)) {
		double now = _now(), wait_s = next - now;
		fp_error_t err = { 0 };

		if (wait_s > 0) {
			int n = poll(&pfd, request_fd >= 0 ? 1 : 0,
				     (int)(wait_s * 1000) + 1);

			if (atomic_load(&poll_stop))
				break;
			if (n > 0 && (pfd.revents & POLLIN)) {
				/* A step daemon asks for a fresh value. */
				while (read(request_fd, buf, sizeof(buf)) > 0)
					;
			} else if (_now() < next) {
				continue;
			}
		}
		slurm_mutex_lock(&poll_lock);
		if (fp_poller_poll(poller, _now(), &err)) {
			if (!warned)
				error("%s: poll failed: %s", plugin_type,
				      err.msg);
			warned = true;
		} else if (warned) {
			info("%s: polls succeed again", plugin_type);
			warned = false;
		}
		slurm_mutex_unlock(&poll_lock);
		next = _now() + cfg.interval_s;
	}
	return NULL;
}

/* SlurmUser's primary group: footprint-worker, which runs as SlurmUser,
 * reads the step records through it. (gid_t)-1 when it has no passwd
 * entry (said once: the records then keep their folder's group). */
static gid_t _slurm_user_gid(void)
{
	struct passwd pw, *res = NULL;
	char buf[4096];
	int rc = getpwuid_r((uid_t)slurm_conf.slurm_user_id, &pw, buf,
			    sizeof(buf), &res);

	if (res)
		return pw.pw_gid;
	error("%s: SlurmUser (uid %u): no passwd entry%s%s; step records "
	      "keep their folder's group",
	      plugin_type, slurm_conf.slurm_user_id, rc ? ": " : "",
	      rc ? strerror(rc) : "");
	return (gid_t)-1;
}

static void _start_node_poller(void)
{
	fp_error_t err = { 0 };
	char *fifo = NULL;

	if (poller || no_source)
		return;
	if (!cfg.node && &conf && conf && conf->node_name)
		cfg.node = strdup(conf->node_name);
	if (cfg.parts_gid == (gid_t)-1)
		cfg.parts_gid = _slurm_user_gid();
	if (mkdir(_run_dir(), 0755) && errno != EEXIST) {
		error("%s: cannot create RunDir %s: %m; reporting no energy",
		      plugin_type, _run_dir());
		no_source = true;
		return;
	}
	poller = fp_poller_new(&cfg, _log, NULL, &err);
	if (!poller) {
		/* No RAPL and no sensor is a normal node, not an error. */
		if (err.code == FP_ENOTSUP)
			info("%s: %s; this node reports no energy", plugin_type,
			     err.msg);
		else
			error("%s: %s; this node reports no energy",
			      plugin_type, err.msg);
		no_source = true;
		_write_node_state("none\n");
		return;
	}
	_write_node_state("ok\n");
	xstrfmtcat(fifo, "%s/poll.fifo", _run_dir());
	if (mkfifo(fifo, 0600) && errno != EEXIST)
		error("%s: cannot create %s: %m", plugin_type, fifo);
	request_fd = open(fifo, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	xfree(fifo);
	/* The first poll is the baseline. */
	fp_poller_poll(poller, _now(), &err);
	atomic_store(&poll_stop, false);
	FP_THREAD_CREATE("fp_poller", &poll_thread, _poll_loop, NULL);
	poll_thread_started = true;
}

extern int init(void)
{
	fp_poller_config_init(&cfg);
	verbose("%s: loaded (%s)", plugin_type,
		running_in_slurmctld()	  ? "slurmctld"
		: running_in_slurmstepd() ? "slurmstepd"
		: running_in_slurmd()	  ? "slurmd"
					  : "client");
	return SLURM_SUCCESS;
}

extern FP_FINI_TYPE fini(void)
{
	if (poll_thread_started) {
		atomic_store(&poll_stop, true);
		if (request_fd >= 0 && write(request_fd, "q", 1) < 0)
			debug("%s: wake poller: %m", plugin_type);
		FP_THREAD_JOIN(poll_thread);
		poll_thread_started = false;
	}
	if (request_fd >= 0)
		close(request_fd);
	request_fd = -1;
	fp_poller_free(poller);
	poller = NULL;
	fp_poller_config_clear(&cfg);
	FP_FINI_RETURN;
}

extern int acct_gather_energy_p_update_node_energy(void)
{
	/* The poller thread keeps the node's values current. */
	return SLURM_SUCCESS;
}

/* slurmd answers energy RPCs from several threads at once: the running
 * average of the poller's readings is kept under poll_lock with them. */
static double ave_sum;
static unsigned long ave_n;

static void _node_energy(acct_gather_energy_t *energy)
{
	fp_poller_status_t st;
	double ave;

	if (!poller) {
		energy->consumed_energy = NO_VAL64;
		energy->current_watts = NO_VAL;
		return;
	}
	slurm_mutex_lock(&poll_lock);
	fp_poller_status(poller, &st);
	if (st.ready && st.polls != ave_n) {
		ave_sum += st.power_w;
		ave_n = st.polls;
	}
	ave = ave_sum / (double)(ave_n ? ave_n : 1);
	slurm_mutex_unlock(&poll_lock);
	if (!st.ready) {
		energy->consumed_energy = 0;
		energy->current_watts = 0;
		return;
	}
	energy->consumed_energy = (uint64_t)llround(st.energy_j);
	energy->current_watts = (uint32_t)lround(st.power_w);
	energy->ave_watts = (uint32_t)lround(ave);
	energy->poll_time = (time_t)st.t;
	energy->base_consumed_energy = 0;
	energy->previous_consumed_energy = energy->consumed_energy;
}

/* True once every task of the step has been reaped: the read that follows
 * is the step's final one. */
static bool _step_tasks_gone(void)
{
	if (!step_rec || !step_rec->task || !step_rec->node_tasks)
		return false;
	for (uint32_t i = 0; i < step_rec->node_tasks; i++) {
		stepd_step_task_info_t *t = step_rec->task[i];

		if (t && t->pid > 0 && (kill(t->pid, 0) == 0 || errno != ESRCH))
			return false;
	}
	return true;
}

/* Asks slurmd's poller for a fresh poll and waits (bounded) for a value
 * published after the request, so the step's last partial interval counts. */
static void _fresh_value(double since)
{
	char *fifo = NULL;
	fp_step_value_t v;
	double deadline = since + 2.0 + cfg.interval_s;
	int fd;

	xstrfmtcat(fifo, "%s/poll.fifo", _run_dir());
	fd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	xfree(fifo);
	if (fd < 0)
		return;
	if (write(fd, "p", 1) < 0)
		debug("%s: poll request: %m", plugin_type);
	close(fd);
	if (deadline > since + 5)
		deadline = since + 5;
	while (_now() < deadline) {
		char *dir = NULL;
		int rc;

		xstrfmtcat(dir, "%s/steps", _run_dir());
		rc = fp_publish_read_step(dir, step_name, &v, NULL);
		xfree(dir);
		if (rc == 0 && v.t >= since)
			return;
		usleep(20000);
	}
}

/* The node's answer does not change during a step: read it once it is
 * there, not at every accounting poll. */
static bool _node_has_source(void)
{
	static int known = -1;
	char *path = NULL, buf[8] = "";
	int fd;

	if (known >= 0)
		return known;
	xstrfmtcat(path, "%s/node", _run_dir());
	fd = open(path, O_RDONLY | O_CLOEXEC);
	xfree(path);
	if (fd < 0)
		return true; /* slurmd not there yet: treat as 0 so far */
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = '\0';
	close(fd);
	known = strncmp(buf, "none", 4) != 0;
	return known;
}

/* The step's final value, once: what measured it (the node's source,
 * simulated or not) goes to the log beside the energy Slurm records, which
 * has no field for it. */
static void _say_final(const fp_step_value_t *v)
{
	info("%s: step %s: final %.3f J, measured by %s%s%s", plugin_type,
	     step_name, v->energy_j, v->source[0] ? v->source : "nothing yet",
	     v->simulated ? " (SIMULATED node)" : "",
	     v->ended ? "" : " (the step's cgroup was still there)");
}

static void _step_energy(acct_gather_energy_t *energy)
{
	static bool warned, final_done;
	fp_step_value_t v;
	fp_error_t err = { 0 };
	char *dir = NULL;
	bool final = false;
	int rc;

	if (!step_name[0] || !_node_has_source()) {
		energy->consumed_energy = NO_VAL64;
		energy->current_watts = NO_VAL;
		return;
	}
	xstrfmtcat(dir, "%s/steps", _run_dir());
	rc = fp_publish_read_step(dir, step_name, &v, &err);
	/* An ended step's value is final: no fresh poll to wait for. */
	if (!final_done && (rc || !v.ended) && _step_tasks_gone()) {
		_fresh_value(_now());
		rc = fp_publish_read_step(dir, step_name, &v, &err);
		final = true;
	} else if (!final_done && !rc && v.ended) {
		final = true;
	}
	xfree(dir);
	if (rc) {
		/* Not published yet: the step is younger than one poll. */
		if (err.code != FP_EIO && !warned) {
			error("%s: %s", plugin_type, err.msg);
			warned = true;
		}
		memset(&v, 0, sizeof(v));
		v.t = _now();
	}
	if (final) {
		_say_final(&v);
		final_done = true;
	}
	energy->base_consumed_energy = 0;
	energy->consumed_energy = (uint64_t)llround(v.energy_j);
	energy->previous_consumed_energy = energy->consumed_energy;
	energy->current_watts = (uint32_t)lround(v.power_w);
	energy->ave_watts = energy->current_watts;
	energy->poll_time = (time_t)v.t;
}

extern int acct_gather_energy_p_get_data(enum acct_energy_type data_type,
					 void *data)
{
	acct_gather_energy_t *energy = data;

	switch (data_type) {
	case ENERGY_DATA_JOULES_TASK:
	case ENERGY_DATA_NODE_ENERGY_UP:
	case ENERGY_DATA_STRUCT:
	case ENERGY_DATA_NODE_ENERGY:
		if (running_in_slurmstepd())
			_step_energy(energy);
		else if (running_in_slurmd())
			_node_energy(energy);
		break;
	case ENERGY_DATA_LAST_POLL:
		if (running_in_slurmd() && poller) {
			fp_poller_status_t st;

			slurm_mutex_lock(&poll_lock);
			fp_poller_status(poller, &st);
			slurm_mutex_unlock(&poll_lock);
			*(time_t *)data = (time_t)st.t;
		} else {
			*(time_t *)data = time(NULL);
		}
		break;
	case ENERGY_DATA_SENSOR_CNT:
		*(uint16_t *)data = 1;
		break;
	default:
		error("%s: get_data: unknown enum %d", plugin_type, data_type);
		return SLURM_ERROR;
	}
	return SLURM_SUCCESS;
}

/* The node poller gives this step its GPUs' energy: say which GPUs Slurm
 * gave it (its GRES, in the environment _step_setup made for it), also
 * when none, so the poller stops looking. */
static void _publish_gpus(stepd_step_rec_t *job)
{
	const char *var = NULL, *list = fp_step_gpus_from_env(job->env, &var);
	fp_error_t err = { 0 };
	char *dir = NULL;

	xstrfmtcat(dir, "%s/gpus", _run_dir());
	if (access(dir, W_OK) == 0 &&
	    fp_step_gpus_write(dir, step_name, list ? list : "", &err))
		error("%s: %s", plugin_type, err.msg);
	xfree(dir);
	if (list)
		log_flag(ENERGY, "%s: step %s holds GPUs %s (%s)", plugin_type,
			 step_name, list, var);
}

#if FP_HAVE_SLUID
/* The node poller finds this job's cgroup folder under its SLUID: say
 * which job that is (see fp_publish_job_sluid). */
static void _publish_sluid(const char *dir, stepd_step_rec_t *job)
{
	char sluid[SLUID_STR_BYTES];
	fp_error_t err;

	if (!job->step_id.sluid)
		return;
	print_sluid(job->step_id.sluid, sluid, sizeof(sluid));
	if (fp_publish_job_sluid(dir, job->step_id.job_id, sluid, &err))
		error("%s: %s", plugin_type, err.msg);
}
#endif

extern int acct_gather_energy_p_set_data(enum acct_energy_type data_type,
					 void *data)
{
	stepd_step_rec_t *job;
	char *dir = NULL, *account;

	switch (data_type) {
	case ENERGY_DATA_STEP_PTR:
		job = data;
		step_rec = job;
		fp_step_id_format(step_name, sizeof(step_name),
				  job->step_id.job_id, job->step_id.step_id);
		account = getenvp(job->env, "SLURM_JOB_ACCOUNT");
		xstrfmtcat(dir, "%s/jobs", _run_dir());
		if (access(dir, W_OK) == 0) {
			fp_publish_job_labels(dir, job->step_id.job_id,
					      job->user_name, account, NULL);
#if FP_HAVE_SLUID
			_publish_sluid(dir, job);
#endif
		}
		xfree(dir);
		_publish_gpus(job);
		log_flag(ENERGY, "%s: step %s", plugin_type, step_name);
		break;
	case ENERGY_DATA_RECONFIG:
	case ENERGY_DATA_PROFILE:
		break;
	default:
		error("%s: set_data: unknown enum %d", plugin_type, data_type);
		return SLURM_ERROR;
	}
	return SLURM_SUCCESS;
}

/* Every option is read as a string and validated by lib/poller, so a bad
 * value is one clear error and a default, never a fatal parse error. */
extern void acct_gather_energy_p_conf_options(s_p_options_t **full_options,
					      int *full_options_cnt)
{
	s_p_options_t *options;
	int n = 0;

	while (fp_poller_config_key(n))
		n++;
	options = xcalloc(n + 1, sizeof(*options));
	for (int i = 0; i < n; i++) {
		options[i].key = xstrdup_printf(OPT_PREFIX "%s",
						fp_poller_config_key(i));
		options[i].type = S_P_STRING;
	}
	transfer_s_p_options(full_options, options, full_options_cnt);
	for (int i = 0; i < n; i++)
		xfree(options[i].key);
	xfree(options);
}

extern void acct_gather_energy_p_conf_set(int context_id_in, s_p_hashtbl_t *tbl)
{
	fp_error_t err = { 0 };

	(void)context_id_in; /* one instance: no context of ours */

	if (!cfg_ready) {
		const char *name;

		for (size_t i = 0; tbl && (name = fp_poller_config_key(i));
		     i++) {
			char *key = xstrdup_printf(OPT_PREFIX "%s", name);
			char *val = NULL;

			if (s_p_get_string(&val, key, tbl) &&
			    fp_poller_config_set(&cfg, name, val, &err))
				error("%s: acct_gather.conf: " OPT_PREFIX
				      "%s; using the default",
				      plugin_type, err.msg);
			xfree(val);
			xfree(key);
		}
		cfg_ready = true;
	}
	if (running_in_slurmd())
		_start_node_poller();
}

extern void acct_gather_energy_p_conf_values(fp_list_t **data)
{
	const char *name;

	for (size_t i = 0; (name = fp_poller_config_key(i)); i++) {
		config_key_pair_t *kp = xmalloc(sizeof(*kp));
		char *v = fp_poller_config_get(&cfg, name);

		kp->name = xstrdup_printf(OPT_PREFIX "%s", name);
		kp->value = xstrdup(v);
		free(v);
		list_append(*data, kp);
	}
}
