/* footprint-worker: the slow half of jobcomp/carbon, run by the plugin as a
 * separate process so slurmctld never waits on slurmdbd, disk or crypto.
 *
 * It takes the jobs queued in SpoolDir/queue (one file per job), waits
 * (bounded) until their step energies are in slurmdbd, computes the
 * footprint, writes the signed summary into SpoolDir/summaries and the
 * compact record into the job's AdminComment (or SystemComment). A job
 * leaves the queue only once both are written, so a crash or a slurmdbd
 * outage delays it, never loses it. With --reconcile it first queues every
 * job that ended since the spool's watermark and has no summary yet (jobs
 * whose completion the controller could not queue, e.g. killed mid-burst);
 * without a watermark, those of the last N seconds. The queue's jobs are
 * read from slurmdbd BATCH at a time, by up to MaxWorkers processes.
 *
 * Exit: 0 queue empty; 3 jobs still waiting for their records; 75 slurmdbd
 * or the spool unavailable (retry later); 1 configuration error. */
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/acl.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <slurm/slurm.h>
#include <slurm/slurmdb.h>

#include "footprint/carbon.h"
#include "footprint/config.h"
#include "footprint/file.h"
#include "footprint/series.h"
#include "footprint/sign.h"
#include "footprint/site_metrics.h"
#include "footprint/slurmconf.h"
#include "footprint/step.h"
#include "footprint/summary.h"
#include "footprint/utf8.h"
#include "footprint/watermark.h"

#include "db.h"

/* step.h names Slurm's special steps without Slurm's headers */
_Static_assert(FP_STEP_BATCH == SLURM_BATCH_SCRIPT &&
		       FP_STEP_EXTERN == SLURM_EXTERN_CONT &&
		       FP_STEP_INTERACTIVE == SLURM_INTERACTIVE_STEP,
	       "footprint/step.h's step ids are Slurm's");

#define EXIT_WAITING 3
#define SETTLE_S 3
#define EXIT_TEMPFAIL 75

static const char *spool;
static char *last_error_path;
/* Metrics=: on (the totals' file is written) when set. */
static bool site_metrics;
/* What this run asked slurmdbd, and where its time went (monotonic
 * seconds): the bench and the tests read them from the file
 * FP_WORKER_STATS names (one line per run and per worker), to show that a
 * pass costs what is new and which part a footprint's time is spent in. */
static struct {
	int reconcile_requests, reconcile_records, batch_requests;
	long window;
	double connect_s, reconcile_s, fetch_s, jobs_s, modify_s, commit_s;
} stats;

static double _mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}
static char cluster[256];

static const char *_cfg_cluster(void)
{
	return cluster;
}

/* ClusterName from slurm.conf, for a worker run by hand without --cluster. */
static void _read_cluster_name(void)
{
	fp_slurmconf_get(NULL, "ClusterName", cluster, sizeof(cluster), NULL);
}

/* Each distinct problem is reported once across runs: the plugin runs this
 * program again and again while a fault lasts. */
static void _say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void _say(const char *fmt, ...)
{
	char msg[1024], prev[1024] = "";
	va_list ap;
	FILE *f;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (last_error_path && (f = fopen(last_error_path, "r"))) {
		if (!fgets(prev, sizeof(prev), f))
			prev[0] = '\0';
		fclose(f);
		prev[strcspn(prev, "\n")] = '\0';
	}
	if (!strcmp(prev, msg))
		return;
	fprintf(stderr, "%s\n", msg);
	if (last_error_path && (f = fopen(last_error_path, "w"))) {
		fprintf(f, "%s\n", msg);
		fclose(f);
	}
}

static void _clear_error(void)
{
	if (last_error_path)
		unlink(last_error_path);
}

static int _match_hostlist(const char *hostlist, const char *node, void *ctx)
{
	struct hostlist *hl = slurm_hostlist_create(hostlist);
	int found;

	(void)ctx; /* fp_config_t's hook: no state of its own */

	if (!hl)
		return 0;
	found = slurm_hostlist_find(hl, node) >= 0;
	slurm_hostlist_destroy(hl);
	return found;
}

/* "1=4,2=1024,4=1": TRES id 1 is cpu. */
static unsigned _tres_cpus(const char *tres)
{
	const char *p = tres;

	while (p && *p) {
		if (!strncmp(p, "1=", 2))
			return (unsigned)strtoul(p + 2, NULL, 10);
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return 0;
}

static bool _final_state(uint32_t state)
{
	uint32_t base = state & JOB_STATE_BASE;

	return base != JOB_PENDING && base != JOB_RUNNING &&
	       base != JOB_SUSPENDED && base != JOB_REQUEUE;
}

static void _step_name(const slurmdb_step_rec_t *s, char *buf, size_t size)
{
	fp_step_id_format(buf, size, s->step_id.job_id, s->step_id.step_id);
}

#define TRES_ID_ENERGY 3

/* The value of TRES `id` in "1=4,3=1200": true when present. */
static bool _tres_value(const char *tres, unsigned id, uint64_t *out)
{
	const char *p = tres;

	while (p && *p) {
		char *end;
		unsigned long k = strtoul(p, &end, 10);

		if (end != p && *end == '=' && k == id) {
			*out = strtoull(end + 1, NULL, 10);
			return true;
		}
		p = strchr(p, ',');
		if (p)
			p++;
	}
	return false;
}

/* The energy of the step's max and min node (Slurm keeps energy per node:
 * tres_usage_in_max/min hold the node values and *_nodeid their index in
 * the step's node list). -1 when absent. */
static void _step_minmax(const slurmdb_step_rec_t *s, long idx[2], double e[2])
{
	const char *val[2] = { s->stats.tres_usage_in_max,
			       s->stats.tres_usage_in_min };
	const char *nid[2] = { s->stats.tres_usage_in_max_nodeid,
			       s->stats.tres_usage_in_min_nodeid };

	for (int i = 0; i < 2; i++) {
		uint64_t v, n;

		idx[i] = -1;
		e[i] = NAN;
		if (_tres_value(val[i], TRES_ID_ENERGY, &v) &&
		    _tres_value(nid[i], TRES_ID_ENERGY, &n) && v != NO_VAL64 &&
		    v != INFINITE64 && n < (1u << 20)) {
			idx[i] = (long)n;
			e[i] = (double)v;
		}
	}
}

/* Adds the nodes of a hostlist, the CPUs spread evenly (the record has the
 * step's total only). For a step (rec set), the per-node energies are as
 * exact as the record allows: see fp_carbon_step_split_energy(). */
static int _add_nodes(const char *nodes, unsigned cpus, fp_step_t *step,
		      fp_job_t *job, const slurmdb_step_rec_t *rec)
{
	struct hostlist *hl = slurm_hostlist_create(nodes ? nodes : "");
	int n = hl ? slurm_hostlist_count(hl) : 0;
	long idx[2] = { -1, -1 }, i = 0;
	double mm[2] = { NAN, NAN };
	char *host;
	int rc = 0;

	if (n <= 0) {
		if (hl)
			slurm_hostlist_destroy(hl);
		return -1;
	}
	if (rec && n > 1)
		_step_minmax(rec, idx, mm);
	while ((host = slurm_hostlist_shift(hl))) {
		unsigned c = cpus / (unsigned)n;
		double e = i == idx[0] ? mm[0] : i == idx[1] ? mm[1] : NAN;

		if (!c)
			c = 1;
		if (step)
			rc |= fp_carbon_step_add_node(step, host, c, e);
		else
			rc |= fp_carbon_job_add_node(job, host, c);
		free(host);
		i++;
	}
	slurm_hostlist_destroy(hl);
	if (step && !rc)
		fp_carbon_step_split_energy(step);
	return rc;
}

/* Slurm sends each message as two writes (length, then body) and sets no
 * TCP_NODELAY on slurmdbd's connection: Nagle's algorithm holds each body
 * until the peer's delayed ACK of the length, ~40 ms one way and ~40 ms
 * back, so every request took ~90 ms whatever its size (make bench-scale:
 * 5 footprints/s per worker, two requests per job). Our side sends at once
 * (TCP_NODELAY). slurmdbd's answer waits the same way for our ACK of its
 * length: Linux delays that ACK whenever the connection looks interactive,
 * which it re-judges at each of our sends, so a TCP_QUICKACK set once (or
 * before the request) is gone by the time the answer comes. It is set
 * again where it lasts: in the poll() libslurm makes to wait for the
 * answer (_slurm_recv_timeout), so the length's ACK leaves at once and
 * slurmdbd's Nagle lets the body go. The worker's one TCP socket is
 * slurmdbd's (munge's is local); no other fd is touched. */
#define DBD_FDS 1024
static bool dbd_fd[DBD_FDS];

static void _dbd_nodelay(void)
{
	int one = 1;

	for (int fd = 3; fd < DBD_FDS; fd++) {
		int proto = 0;
		socklen_t len = sizeof(proto);

		dbd_fd[fd] = !getsockopt(fd, SOL_SOCKET, SO_PROTOCOL, &proto,
					 &len) &&
			     proto == IPPROTO_TCP;
		if (dbd_fd[fd])
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				   sizeof(one));
	}
}

/* The executable's poll() comes first in the lookup of libslurm's calls;
 * everything else is the C library's own. */
int poll(struct pollfd *fds, nfds_t nfds, int timeout)
{
	static int (*next)(struct pollfd *, nfds_t, int);
	int one = 1;

	if (!next)
		next = (int (*)(struct pollfd *, nfds_t, int))dlsym(RTLD_NEXT,
								    "poll");
	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	for (nfds_t i = 0; i < nfds; i++)
		if (fds[i].fd >= 0 && fds[i].fd < DBD_FDS &&
		    dbd_fd[fds[i].fd] && (fds[i].events & POLLIN))
			setsockopt(fds[i].fd, IPPROTO_TCP, TCP_QUICKACK, &one,
				   sizeof(one));
	return next(fds, nfds, timeout);
}

static struct xlist *_query_jobs(void *db, const char *cluster,
				 const char *jobs, time_t since, time_t until)
{
	slurmdb_job_cond_t *cond = fpt_db_cond_new(cluster, jobs, since, until);
	struct xlist *out;

	if (!cond)
		return NULL;
	out = slurmdb_jobs_get(db, cond);
	fpt_db_cond_free(cond);
	return out;
}

/* Whether every step is finished and has its energy. */
static bool _steps_ready(slurmdb_job_rec_t *j)
{
	struct listIterator *it;
	slurmdb_step_rec_t *s;
	bool ready = true;

	if (!j->steps || !slurm_list_count(j->steps))
		return false;
	it = slurm_list_iterator_create(j->steps);
	while ((s = slurm_list_next(it)))
		if (!_final_state(s->state) || s->end == 0 ||
		    s->stats.consumed_energy == NO_VAL64)
			ready = false;
	slurm_list_iterator_destroy(it);
	return ready;
}

static fp_job_t *_job_from_record(slurmdb_job_rec_t *j, const fp_config_t *cfg)
{
	fp_job_t *job = fp_carbon_job_new();
	struct listIterator *it;
	slurmdb_step_rec_t *s;

	if (!job)
		return NULL;
	job->job_id = j->jobid;
	job->user = strdup(j->user ? j->user : "");
	job->account = strdup(j->account ? j->account : "");
	job->cluster = strdup(j->cluster ? j->cluster : "");
	job->start = j->start;
	job->end = j->end;
	fp_carbon_energy_source_parse(cfg->energy_source, &job->energy_source);
	_add_nodes(j->nodes, _tres_cpus(j->tres_alloc_str), NULL, job, NULL);
	if (!j->steps)
		return job;
	it = slurm_list_iterator_create(j->steps);
	while ((s = slurm_list_next(it))) {
		char id[64];
		double e = s->stats.consumed_energy == NO_VAL64
				   ? NAN
				   : (double)s->stats.consumed_energy;
		fp_step_t *st;

		_step_name(s, id, sizeof(id));
		st = fp_carbon_job_add_step(job, id,
					    s->start ? s->start : j->start,
					    s->end ? s->end : j->end, e);
		if (st)
			_add_nodes(s->nodes, _tres_cpus(s->tres_alloc_str), st,
				   NULL, s);
	}
	slurm_list_iterator_destroy(it);
	return job;
}

/* The summary, with the job's energy by part from its step records (g,
 * none without NodePartsDir=): one missing is counted, never guessed.
 * With all of them, the energy source is the nodes' own (res's, for its
 * record too), not EnergySource=. */
static char *_summary_with_parts(const fp_summary_parts_t *g, fp_result_t *res,
				 fp_error_t *err)
{
	fp_summary_parts_source(res, g->parts, g->nparts, g->nexpected);
	return fp_summary_dumps_parts(res, g->parts, g->nparts, g->nexpected,
				      err);
}

/* A step record there but unreadable or damaged: said (the file and the
 * fault) when its job's summary is written, the only time it is read. */
static void _say_parts(void *ctx, const char *msg)
{
	_say("job %u: %s; counted missing in its summary",
	     *(const uint32_t *)ctx, msg);
}

/* Who may read a summary: the job's user (a named ACL entry) and SlurmUser's
 * group (admins); nobody but SlurmUser, its owner, could rewrite it, and
 * the file is read-only even to SlurmUser. The user must not be the owner:
 * an owner can truncate or rewrite his own evidence. On a filesystem
 * without POSIX ACLs the file's group becomes the job's group instead
 * (said once, since other members of that group can then read it). */
static int _protect_summary(int fd, uid_t uid, gid_t gid)
{
	char text[128];
	acl_t acl;
	int rc;

	if (uid == geteuid())
		return fchmod(fd, 0440);
	snprintf(text, sizeof(text), "u::r,u:%u:r,g::r,m::r,o::-",
		 (unsigned)uid);
	acl = acl_from_text(text);
	if (!acl)
		return -1;
	rc = acl_set_fd(fd, acl);
	acl_free(acl);
	if (rc == 0)
		return 0;
	if (errno != ENOTSUP && errno != EOPNOTSUPP)
		return -1;
	_say("spool %s: no POSIX ACLs on this filesystem: summaries are "
	     "readable by the job's group instead of the job's user alone",
	     spool);
	if (fchown(fd, (uid_t)-1, gid) != 0)
		return -1;
	return fchmod(fd, 0440);
}

/* Writes path once: 0, or -1 with errno set (EEXIST when a summary is
 * already there, which is never taken for success: the caller decides
 * whether it is this job's). */
static int _write_file_once(const char *path, const char *data, uid_t uid,
			    gid_t gid)
{
	char tmp[4096];
	size_t n = strlen(data);
	int fd, rc = -1, saved = 0;

	snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (write(fd, data, n) != (ssize_t)n || write(fd, "\n", 1) != 1 ||
	    fsync(fd) != 0) {
		saved = errno;
	} else if (_protect_summary(fd, uid, gid) != 0) {
		saved = errno;
		_say("summary %s: cannot set who may read it (uid %u): %s",
		     path, (unsigned)uid, strerror(errno));
	} else if (link(tmp, path) == 0) {
		/* link() fails if a summary exists: exactly one per job. */
		rc = 0;
	} else {
		saved = errno;
	}
	close(fd);
	unlink(tmp);
	errno = saved;
	return rc;
}

static int _set_record(void *db, const fp_config_t *cfg, slurmdb_job_rec_t *j,
		       const char *ours)
{
	bool system = !strcasecmp(cfg->job_record_field, "SystemComment");
	const char *existing = system ? j->system_comment : j->admin_comment;
	slurmdb_job_cond_t *cond;
	slurmdb_job_rec_t *rec = calloc(1, sizeof(*rec));
	char jobs[32];
	fp_error_t err = { 0 };
	char *merged = fp_summary_record_merge(existing, ours, &err);
	struct xlist *changed;
	int rc = 0;

	if (!merged) {
		_say("job %u: cannot merge the record into %s: %s", j->jobid,
		     cfg->job_record_field, err.msg);
		free(rec);
		return -1;
	}
	/* An array task is addressed as <array>_<task>: its raw id alone would
	 * also select the other tasks when it is the array's own id. */
	if (j->array_job_id && j->array_task_id != NO_VAL)
		snprintf(jobs, sizeof(jobs), "%u_%u", j->array_job_id,
			 j->array_task_id);
	else
		snprintf(jobs, sizeof(jobs), "%u", j->jobid);
	cond = fpt_db_cond_new(j->cluster, jobs, 0, 0);
	if (!cond) {
		_say("job %u: out of memory for its record", j->jobid);
		free(merged);
		free(rec);
		return -1;
	}
	rec->derived_ec = NO_VAL;
	if (system)
		rec->system_comment = merged;
	else
		rec->admin_comment = merged;
	stats.modify_s -= _mono();
	changed = slurmdb_job_modify(db, cond, rec);
	stats.modify_s += _mono();
	if (!changed || !slurm_list_count(changed)) {
		_say("job %u: slurmdbd did not update %s (errno %d: %s)",
		     j->jobid, cfg->job_record_field, errno,
		     slurm_strerror(errno));
		rc = -1;
	}
	/* Committed by _process_batch() once for its whole batch. */
	if (changed)
		slurm_list_destroy(changed);
	fpt_db_cond_free(cond);
	free(merged);
	free(rec);
	return rc;
}

/* The job's start as the summary states it ("" when absent). */
static void _summary_start(const json_t *summary, char *buf, size_t size)
{
	const char *start = json_string_value(
		json_object_get(json_object_get(summary, "job"), "start"));

	snprintf(buf, size, "%s", start ? start : "");
}

/* What was at a summary's path before ours. */
enum prior_summary {
	PRIOR_NONE,	/* nothing: write ours */
	PRIOR_SAME_JOB, /* this job's, from an earlier run: keep it */
	PRIOR_MOVED,	/* another job's (a reused id): kept aside */
	PRIOR_STUCK,	/* unreadable or cannot be moved: retry later */
};

/* A controller that lost its state can hand out a job id again. The
 * summary of the earlier job is kept as <id>.<its start>.jws and <id>.jws
 * is the latest job's; the same job twice is still written only once. A
 * summary that does not verify with any trusted key (a key no longer
 * trusted, or damaged) is never taken for this job's: it is kept aside as
 * <id>.unverified.jws, whatever it holds, and never overwritten. */
static enum prior_summary _archive_reused_id(const char *path,
					     const fp_keyset_t *trusted,
					     const char *summary)
{
	char old_start[64], new_start[64], base[4200], dest[4300];
	size_t stem = strlen(path) - 4;
	fp_summary_file_t prior;
	json_t *ours;
	bool verified;

	/* Summaries of a retired key or with a high S (signed before low-S
	 * signing) are this site's too; one too long or holding a NUL byte
	 * is there, and does not verify. */
	switch (fp_summary_load(&prior, path, trusted, 0)) {
	case FP_SUMMARY_ABSENT:
		fp_summary_load_clear(&prior);
		return PRIOR_NONE;
	case FP_SUMMARY_UNREADABLE:
		_say("summary %s (cannot read it)", prior.err.msg);
		fp_summary_load_clear(&prior);
		return PRIOR_STUCK;
	default:
		break;
	}
	verified = prior.state == FP_SUMMARY_VALID;
	_summary_start(prior.root, old_start, sizeof(old_start));
	fp_summary_load_clear(&prior);
	ours = json_loads(summary, 0, NULL);
	_summary_start(ours, new_start, sizeof(new_start));
	json_decref(ours);
	if (verified) {
		if (!strcmp(old_start, new_start))
			return PRIOR_SAME_JOB;
		snprintf(base, sizeof(base), "%.*s.%s", (int)stem, path,
			 old_start[0] ? old_start : "earlier");
	} else {
		snprintf(base, sizeof(base), "%.*s.unverified", (int)stem,
			 path);
	}
	/* link+unlink, not rename: an earlier summary kept aside under the
	 * same name is never replaced. */
	snprintf(dest, sizeof(dest), "%s.jws", base);
	for (int i = 1; link(path, dest) != 0; i++) {
		if (errno != EEXIST || i > 99) {
			_say("summary %s: cannot keep it aside as %s: %s", path,
			     dest, strerror(errno));
			return PRIOR_STUCK;
		}
		snprintf(dest, sizeof(dest), "%s.%d.jws", base, i);
	}
	if (unlink(path) != 0) {
		_say("summary %s: cannot move it aside: %s", path,
		     strerror(errno));
		unlink(dest);
		return PRIOR_STUCK;
	}
	fprintf(stderr,
		"info: job id reused: kept the earlier summary%s as "
		"%s\n",
		verified ? ""
			 : " (it does not verify with any "
			   "trusted key)",
		dest);
	return PRIOR_MOVED;
}

/* Everything the jobs of one run share. */
typedef struct {
	const fp_config_t *cfg;
	bool config_ok;
	const char *config_err;
	const fp_key_t *key;
	const fp_keyset_t *trusted;
	time_t now;
} run_t;

/* One job of its batch: j is its slurmdbd record (with its steps), NULL
 * when slurmdbd has none yet. 0 done, 1 waiting, -1 failed (retry later). */
static int _process_job(void *db, const run_t *run, uint32_t jobid,
			time_t queued, slurmdb_job_rec_t *j,
			fp_site_metrics_t *one)
{
	const fp_config_t *cfg = run->cfg;
	bool config_ok = run->config_ok;
	const char *config_err = run->config_err;
	const fp_key_t *key = run->key;
	const fp_keyset_t *trusted = run->trusted;
	time_t now = run->now;
	char path[4096];
	fp_job_t *job = NULL;
	fp_result_t *res = NULL;
	const fp_result_t *counted = NULL; /* what Metrics= counts */
	char *summary = NULL, *token = NULL, *record = NULL;
	fp_error_t err = { 0 };
	fp_summary_parts_t parts = { 0 };
	int rc = -1;
	bool timed_out = now - queued > (time_t)cfg->worker_timeout;

	if (!j || !_final_state(j->state) || !j->end) {
		rc = timed_out && !j ? 0 : 1;
		if (rc == 0)
			_say("job %u: no record in slurmdbd after %u s; dropped "
			     "from the queue",
			     jobid, cfg->worker_timeout);
		goto out;
	}
	/* Step records (the batch and extern steps above all) reach slurmdbd
	 * shortly after the job's: give them SETTLE_S after the job's end,
	 * then wait for each to be final with its energy. A job that never
	 * ran a step is done once settled. */
	if (now < j->end + SETTLE_S ||
	    (!_steps_ready(j) && !timed_out &&
	     (j->steps && slurm_list_count(j->steps)))) {
		rc = 1;
		goto out;
	}
	if (config_ok) {
		time_t until = 0; /* unused: the wait is silent */

		job = _job_from_record(j, cfg);
		/* A feed publishes the last hours late: the job waits in the
		 * queue (the others go on) up to SeriesWait after its end,
		 * then each site's IntensityFallback= fills what is still
		 * missing and the summary says so. */
		if (job && !fp_carbon_series_cover(cfg, job, _match_hostlist,
						   NULL, &until)) {
			/* Silent, as the wait for step records: the plugin
			 * reruns us every RetryInterval and a clean run
			 * clears what _say() remembers, so a line here would
			 * repeat every few seconds for hours. */
			if (now < (time_t)j->end + (time_t)cfg->series_wait) {
				rc = 1;
				goto out;
			}
			job->intensity_fallback = true;
		}
		/* A node writes a step's record a poll after the step ends,
		 * and a shared filesystem may show it later still: the job
		 * waits for those not there yet up to PartsWait after its
		 * end, silently as for the series; past it they are counted
		 * missing, and said. */
		/* Unreadable ones are said only by the read that writes the
		 * summary: a job that waits is read again every few seconds. */
		if (job && fp_summary_parts_gather(cfg->node_parts_dir, job,
						   NULL, NULL, &parts)) {
			_say("job %u: out of memory reading its step records",
			     jobid);
			goto out;
		}
		if (parts.nabsent &&
		    now < (time_t)j->end + (time_t)cfg->parts_wait) {
			rc = 1;
			goto out;
		}
		if (parts.nunread) {
			fp_summary_parts_clear(&parts);
			if (fp_summary_parts_gather(cfg->node_parts_dir, job,
						    _say_parts, &jobid,
						    &parts)) {
				_say("job %u: out of memory reading its step "
				     "records",
				     jobid);
				goto out;
			}
		}
		if (parts.nabsent)
			_say("job %u: %zu of %zu step records not there %u s "
			     "after the job's end (PartsWait), counted missing "
			     "in its summary: %s%s",
			     jobid, parts.nabsent, parts.nexpected,
			     cfg->parts_wait, parts.absent,
			     parts.absent_cut ? ", ..." : "");
		res = job ? fp_carbon_compute(cfg, job, _match_hostlist, NULL,
					      &err)
			  : NULL;
		if (res) {
			summary = _summary_with_parts(&parts, res, &err);
			if (summary)
				record = fp_summary_record_format(res, &err);
			counted = res;
			if (!summary || !record) {
				counted = NULL;
				/* Said, and signed as incomplete: never a
				 * summary with a part silently missing. */
				_say("job %u: footprint computed but not "
				     "written: %s",
				     jobid, err.msg);
				free(summary);
				free(record);
				summary = fp_summary_incomplete(
					j->jobid, j->user, j->account, j->start,
					j->end, err.msg);
				record = fp_summary_record_incomplete(jobid);
			}
		} else {
			_say("job %u: footprint not computed: %s", jobid,
			     err.msg);
			summary = fp_summary_incomplete(j->jobid, j->user,
							j->account, j->start,
							j->end, err.msg);
			record = fp_summary_record_incomplete(jobid);
		}
	} else {
		summary = fp_summary_incomplete(j->jobid, j->user, j->account,
						j->start, j->end, config_err);
		record = fp_summary_record_incomplete(jobid);
	}
	if (!summary || !record) {
		_say("job %u: cannot build even an incomplete summary (out of "
		     "memory?)",
		     jobid);
		goto out;
	}
	token = fp_sign(key, summary, &err);
	if (!token) {
		_say("job %u: signing failed: %s", jobid, err.msg);
		goto out;
	}
	fp_summary_load_path(path, sizeof(path), spool, jobid);
	switch (_archive_reused_id(path, trusted, summary)) {
	case PRIOR_STUCK:
		goto out;
	case PRIOR_SAME_JOB:
		break; /* written by an earlier run; the record may not be */
	case PRIOR_NONE:
	case PRIOR_MOVED:
		if (_write_file_once(path, token, (uid_t)j->uid,
				     (gid_t)j->gid)) {
			_say("spool %s: cannot write %s: %s", spool, path,
			     strerror(errno));
			goto out;
		}
	}
	if (_set_record(db, cfg, j, record))
		goto out;
	/* Into the totals once the batch's commit takes the job out of the
	 * queue (_process_batch): a job done again after a crash is counted
	 * by the run that finishes it, never by two. */
	if (one && fp_site_metrics_add(one, counted))
		_say("metrics: out of memory; job %u is not in the totals",
		     jobid);
	rc = 0;
out:
	fp_summary_parts_clear(&parts);
	free(summary);
	free(token);
	free(record);
	fp_carbon_result_free(res);
	fp_carbon_job_free(job);
	return rc;
}

static int _queue_path(char *buf, size_t size, uint32_t jobid)
{
	return snprintf(buf, size, "%s/queue/%u", spool, jobid);
}

static bool _exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* Jobs whose record reaches slurmdbd up to this long after a later job's
 * are still found: each pass asks again from the watermark minus this. */
#define RECONCILE_MARGIN 300
/* A full sweep asks slurmdbd one hour of job ends at a time: its API has no
 * paging, and a day of a busy cluster in one answer is a million records in
 * the worker's memory and in slurmdbd's. */
#define SWEEP_SLICE 3600

/* The jobs of the cluster that ended in [since, until] in a final state,
 * without their steps: what reconciliation needs is the id and the end. */
static struct xlist *_query_ended(void *db, time_t since, time_t until)
{
	slurmdb_job_cond_t *cond = fpt_db_cond_new(cluster, NULL, since, until);
	struct xlist *out;
	char state[16];

	if (!cond)
		return NULL;
	/* With a state list, slurmdbd's window means "ended in it" (time_end
	 * between since and until): running and pending jobs stay out. */
	cond->state_list = slurm_list_create(free);
	for (uint32_t s = 0; s < JOB_END; s++)
		if (_final_state(s)) {
			snprintf(state, sizeof(state), "%u", s);
			slurm_list_append(cond->state_list, strdup(state));
		}
	cond->flags |= JOBCOND_FLAG_NO_STEP;
	out = slurmdb_jobs_get(db, cond);
	fpt_db_cond_free(cond);
	return out;
}

/* Queues the jobs of one answer that have neither a summary nor a queue
 * entry; *newest is the latest end seen. -1 if an entry cannot be written. */
static int _queue_missing(struct xlist *jobs, time_t now, time_t *newest,
			  int *added)
{
	struct listIterator *it = slurm_list_iterator_create(jobs);
	slurmdb_job_rec_t *j;
	int rc = 0;

	while ((j = slurm_list_next(it))) {
		char q[4096], sum[4096];
		FILE *f;

		if (!_final_state(j->state) || !j->end)
			continue;
		if (j->end > *newest)
			*newest = j->end;
		_queue_path(q, sizeof(q), j->jobid);
		fp_summary_load_path(sum, sizeof(sum), spool, j->jobid);
		if (_exists(q) || _exists(sum))
			continue;
		f = fopen(q, "w");
		if (!f || fprintf(f, "%u %ld %ld\n", j->jobid, (long)j->end,
				  (long)now) < 0) {
			_say("spool %s: cannot queue job %u found by "
			     "reconciliation: %s",
			     spool, j->jobid, strerror(errno));
			rc = -1;
		}
		if (f && fclose(f) != 0)
			rc = -1;
		if (!rc)
			(*added)++;
	}
	slurm_list_iterator_destroy(it);
	return rc;
}

/* Queues, from slurmdbd, every job that ended since the watermark (minus
 * RECONCILE_MARGIN) and has neither a summary nor a queue entry, then moves
 * the watermark to the latest end seen. Without a usable watermark it
 * sweeps the last `sweep_s` seconds, one slice at a time. A pass thus costs
 * what ended since the last one, not the day's history. */
static int _reconcile(void *db, long sweep_s, time_t now)
{
	char wm_path[4096];
	fp_error_t err = { 0 };
	time_t wm = 0, since, newest = 0, from;
	int have, added = 0, requests = 0;
	bool rewrite;

	snprintf(wm_path, sizeof(wm_path), "%s/reconcile.watermark", spool);
	have = fp_watermark_read(wm_path, now, &wm, &err);
	rewrite = have != 0;
	if (have < 0)
		_say("%s; sweeping the last %ld s of slurmdbd instead", err.msg,
		     sweep_s);
	else if (have > 0)
		fprintf(stderr,
			"info: no reconciliation watermark %s (new "
			"spool?): sweeping the last %ld s of slurmdbd once\n",
			wm_path, sweep_s);
	/* A clock set back: the watermark is not a reason to skip the jobs
	 * that end until the clock catches up with it. */
	if (have == 0 && wm > now) {
		wm = now;
		rewrite = true;
	}
	since = have == 0 ? wm - RECONCILE_MARGIN : now - sweep_s;
	/* A spool left for days is not a reason to ask for weeks. */
	if (since < now - sweep_s)
		since = now - sweep_s;
	stats.window = (long)(now - since);
	for (from = since; from < now || requests == 0;) {
		/* The incremental window is one request; a sweep is paged. */
		time_t until = have == 0 || now - from <= SWEEP_SLICE
				       ? now
				       : from + SWEEP_SLICE;
		struct xlist *jobs = _query_ended(db, from, until);

		requests++;
		stats.reconcile_requests++;
		if (jobs)
			stats.reconcile_records += slurm_list_count(jobs);
		if (!jobs) {
			_say("slurmdbd: cannot list the jobs that ended since "
			     "%ld: %s",
			     (long)from, slurm_strerror(errno));
			return -1;
		}
		if (_queue_missing(jobs, now, &newest, &added)) {
			slurm_list_destroy(jobs);
			return -1;
		}
		slurm_list_destroy(jobs);
		from = until;
	}
	if (added)
		fprintf(stderr,
			"info: reconciled %d job(s) that had no "
			"summary\n",
			added);
	/* Nothing at all ended in the window (an idle cluster): the next
	 * window starts RECONCILE_MARGIN before now, not at the last job. */
	if (!newest)
		newest = now - RECONCILE_MARGIN;
	if (newest > wm || rewrite) {
		if (newest < wm)
			newest = wm;
		if (fp_watermark_write(wm_path, newest, &err)) {
			_say("%s; the next pass sweeps again", err.msg);
			return -1;
		}
	}
	return added;
}

/* A queue entry: the journal's "<job id> <end> <queued at>". */
typedef struct {
	uint32_t jobid;
	time_t queued;
} entry_t;

typedef struct {
	int done, waiting, failed;
} tally_t;

/* Job ids per slurmdbd request for records and steps: one request per
 * batch instead of one per job. Fewer than 200: slurmdbd asks MariaDB for
 * them as three IN lists (id_job, het_job_id, id_array_job), and past its
 * eq_range_index_dive_limit (200 by default, in MySQL too) the optimizer
 * guesses each list's rows from the index statistics instead of looking; as
 * het_job_id and id_array_job are 0 for nearly every job, it then expects
 * the whole table and reads it all (0.9 s a request at a million jobs,
 * against milliseconds through the indexes). */
#define BATCH 192
_Static_assert(BATCH < 200, "a batch's ids must stay index lookups");
/* Below this many jobs per worker, a fork and a connection cost more than
 * they save. */
#define MIN_PER_WORKER 16

static int _by_queued(const void *a, const void *b)
{
	const entry_t *x = a, *y = b;

	if (x->queued != y->queued)
		return x->queued < y->queued ? -1 : 1;
	return x->jobid < y->jobid ? -1 : x->jobid > y->jobid;
}

/* The journal's entries, oldest first (malloc'd; *n of them). */
static entry_t *_read_queue(size_t *n, time_t now)
{
	char dir[4096];
	entry_t *out = NULL;
	size_t cap = 0;
	struct dirent *e;
	DIR *d;

	*n = 0;
	snprintf(dir, sizeof(dir), "%s/queue", spool);
	d = opendir(dir);
	while (d && (e = readdir(d))) {
		char q[4096];
		unsigned long jobid;
		long end = 0, queued = 0;
		FILE *f;

		if (e->d_name[0] < '0' || e->d_name[0] > '9' ||
		    strchr(e->d_name, '.'))
			continue;
		snprintf(q, sizeof(q), "%s/%s", dir, e->d_name);
		f = fopen(q, "r");
		if (!f)
			continue;
		if (fscanf(f, "%lu %ld %ld", &jobid, &end, &queued) < 1)
			jobid = strtoul(e->d_name, NULL, 10);
		fclose(f);
		if (*n == cap) {
			entry_t *more;

			cap = cap ? cap * 2 : 256;
			more = realloc(out, cap * sizeof(*out));
			if (!more)
				break;
			out = more;
		}
		out[*n].jobid = (uint32_t)jobid;
		out[*n].queued = queued ? (time_t)queued : now;
		(*n)++;
	}
	if (d)
		closedir(d);
	if (*n)
		qsort(out, *n, sizeof(*out), _by_queued);
	return out;
}

typedef struct {
	slurmdb_job_rec_t *j;
	size_t seq;
} rec_ref_t;

static int _by_jobid(const void *a, const void *b)
{
	const rec_ref_t *x = a, *y = b;

	if (x->j->jobid != y->j->jobid)
		return x->j->jobid < y->j->jobid ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The first record of jobid in slurmdbd's order (as a query of that id
 * alone would pick it), or NULL. */
static slurmdb_job_rec_t *_find_record(rec_ref_t *refs, size_t n,
				       uint32_t jobid)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (refs[mid].j->jobid < jobid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && refs[lo].j->jobid == jobid ? refs[lo].j : NULL;
}

/* One batch: the records and steps of all its jobs in one slurmdbd
 * request, then each job in turn. */
/* Metrics=: counts (NULL: none) into the spool's totals, and the text file
 * rewritten with them and each site's intensity now. */
static void _write_site_metrics(const run_t *run, const fp_site_metrics_t *m)
{
	char state[4096];
	fp_error_t err = { 0 };

	if (!site_metrics)
		return;
	snprintf(state, sizeof(state), "%s/metrics.state", spool);
	if (fp_site_metrics_write(m, run->cfg, state, run->cfg->metrics,
				  run->now, &err))
		_say("metrics %s: %s", run->cfg->metrics, err.msg);
}

/* The records and steps of a batch's jobs, in one slurmdbd request; NULL,
 * said, when slurmdbd cannot give them. */
static struct xlist *_fetch_batch(void *db, const entry_t *e, size_t n)
{
	char *ids = malloc(n * 11 + 1), *p = ids;
	struct xlist *jobs = NULL;
	int e_no = ENOMEM;

	if (ids) {
		for (size_t i = 0; i < n; i++)
			p += sprintf(p, "%s%u", i ? "," : "", e[i].jobid);
		stats.fetch_s -= _mono();
		jobs = _query_jobs(db, _cfg_cluster(), ids, 0, 0);
		stats.fetch_s += _mono();
		e_no = errno;
		stats.batch_requests++;
		free(ids);
	}
	if (!jobs)
		_say("slurmdbd: cannot read the records of %zu queued job(s): "
		     "%s",
		     n, slurm_strerror(e_no));
	return jobs;
}

/* A batch's jobs done with their records `jobs` (from _fetch_batch, freed
 * here; NULL: they stay queued). */
static void _process_batch(void *db, const run_t *run, const entry_t *e,
			   size_t n, struct xlist *jobs, tally_t *t)
{
	struct listIterator *it;
	slurmdb_job_rec_t *j;
	rec_ref_t *refs;
	size_t nrefs = 0;
	bool done[BATCH], committed;
	fp_site_metrics_t *one[BATCH] = { NULL }, *counts = NULL;

	if (!jobs) {
		t->failed += (int)n;
		return;
	}
	/* "6" also selects every task of array 6: each job takes the record
	 * whose own id it is. */
	refs = calloc(slurm_list_count(jobs) + 1, sizeof(*refs));
	it = slurm_list_iterator_create(jobs);
	while (refs && (j = slurm_list_next(it))) {
		refs[nrefs].j = j;
		refs[nrefs].seq = nrefs;
		nrefs++;
	}
	slurm_list_iterator_destroy(it);
	if (!refs) {
		t->failed += (int)n;
		slurm_list_destroy(jobs);
		return;
	}
	qsort(refs, nrefs, sizeof(*refs), _by_jobid);
	stats.jobs_s -= _mono();
	for (size_t i = 0; i < n; i++) {
		int rc;

		if (site_metrics)
			one[i] = fp_site_metrics_new();
		rc = _process_job(db, run, e[i].jobid, e[i].queued,
				  _find_record(refs, nrefs, e[i].jobid),
				  one[i]);

		done[i] = rc == 0;
		if (rc > 0)
			t->waiting++;
		else if (rc < 0)
			t->failed++;
	}
	/* One commit for the batch's records: a commit is a slurmdbd round
	 * trip per job otherwise (half of a job's time in make bench-scale).
	 * A job leaves the queue only once its record is committed; killed
	 * before, it is done again (its summary kept, see
	 * _archive_reused_id()) and its record set again. */
	stats.jobs_s += _mono();
	stats.commit_s -= _mono();
	committed = slurmdb_connection_commit(db, 1) == SLURM_SUCCESS;
	stats.commit_s += _mono();
	if (!committed)
		_say("slurmdbd: cannot commit the records of %zu job(s): %s; "
		     "they stay queued",
		     n, slurm_strerror(errno));
	for (size_t i = 0; i < n; i++) {
		char q[4096];

		if (!done[i])
			continue;
		if (!committed) {
			t->failed++;
			continue;
		}
		_queue_path(q, sizeof(q), e[i].jobid);
		unlink(q);
		t->done++;
		if (one[i] && (counts || (counts = fp_site_metrics_new())))
			fp_site_metrics_merge(counts, one[i]);
	}
	/* After the queue entries go: killed before, the jobs are done again
	 * and counted then; killed after, the batch is missing from the
	 * totals (never counted twice). */
	if (counts)
		_write_site_metrics(run, counts);
	fp_site_metrics_free(counts);
	for (size_t i = 0; i < n; i++)
		fp_site_metrics_free(one[i]);
	free(refs);
	slurm_list_destroy(jobs);
}

/* The jobs e[0..n) a batch at a time; fetched lists their batches'
 * records, fetched before (each taken), or NULL to fetch them here. */
static void _process_part(void *db, const run_t *run, const entry_t *e,
			  size_t n, struct xlist **fetched, tally_t *t)
{
	for (size_t i = 0, b = 0; i < n; i += BATCH, b++) {
		size_t m = n - i < BATCH ? n - i : BATCH;
		struct xlist *jobs = fetched ? fetched[b]
					     : _fetch_batch(db, e + i, m);

		if (fetched)
			fetched[b] = NULL;
		_process_batch(db, run, e + i, m, jobs, t);
	}
}

/* part is "" for the run itself, " part=K/N" for one of its workers. */
/* The times: jobs_s is each job's footprint, summary, signature and record
 * (modify_s, the record's slurmdbd request, is part of it); wall_s is the
 * process's from its start. */
static void _write_stats(const char *part, size_t jobs, unsigned workers,
			 double t0)
{
	const char *path = getenv("FP_WORKER_STATS");
	FILE *f = path && *path ? fopen(path, "a") : NULL;

	if (!f)
		return;
	fprintf(f,
		"reconcile_requests=%d reconcile_records=%d window_s=%ld "
		"jobs=%zu workers=%u batch_requests=%d wall_s=%.6f "
		"connect_s=%.6f reconcile_s=%.6f fetch_s=%.6f jobs_s=%.6f "
		"modify_s=%.6f commit_s=%.6f%s\n",
		stats.reconcile_requests, stats.reconcile_records, stats.window,
		jobs, workers ? workers : 1, stats.batch_requests, _mono() - t0,
		stats.connect_s, stats.reconcile_s, stats.fetch_s, stats.jobs_s,
		stats.modify_s, stats.commit_s, part);
	fclose(f);
}

/* MaxWorkers: `nparts` processes, each over the jobs whose id is its number
 * modulo nparts, so no two ever work on one job; each has its own slurmdbd
 * connection for its jobs' records. A worker that dies leaves its jobs in
 * the journal for the next run (their summaries are written once: see
 * _archive_reused_id()). The batches' records are fetched here, before the
 * fork, on this run's connection (closed then): fetched by the workers,
 * beside the others' uncommitted record modifies, a fetch took 30 times
 * its time alone at a million jobs (docs/performance.md). */
static void _run_parts(void **db, const run_t *run, const entry_t *queue,
		       size_t n, unsigned nparts, tally_t *t)
{
	pid_t pids[64];
	size_t start[65], first[65], nb = 0, m = 0;
	entry_t *order = malloc((n + 1) * sizeof(*order));
	struct xlist **lists = calloc(n / BATCH + nparts + 1, sizeof(*lists));

	if (!order || !lists) {
		free(order);
		free(lists);
		t->failed += (int)n;
		return;
	}
	for (unsigned k = 0; k < nparts; k++) {
		start[k] = m;
		first[k] = nb;
		for (size_t i = 0; i < n; i++)
			if (queue[i].jobid % nparts == k)
				order[m++] = queue[i];
		for (size_t i = start[k]; i < m; i += BATCH)
			lists[nb++] = _fetch_batch(
				*db, order + i, m - i < BATCH ? m - i : BATCH);
	}
	start[nparts] = m;
	/* a slurmdbd connection is not shared across a fork */
	slurmdb_connection_close(db);
	fflush(NULL);
	for (unsigned k = 0; k < nparts; k++) {
		pids[k] = fork();
		if (pids[k] != 0)
			continue;
		{
			tally_t own = { 0 };
			char part[32];
			double t0 = _mono();
			void *cdb;

			memset(&stats, 0, sizeof(stats));
			cdb = slurmdb_connection_get(NULL);
			stats.connect_s = _mono() - t0;

			if (!cdb) {
				_say("slurmdbd: no connection (%s); jobs stay "
				     "queued",
				     slurm_strerror(errno));
				_exit(EXIT_TEMPFAIL);
			}
			_dbd_nodelay();
			_process_part(cdb, run, order + start[k],
				      start[k + 1] - start[k], lists + first[k],
				      &own);
			snprintf(part, sizeof(part), " part=%u/%u", k + 1,
				 nparts);
			_write_stats(part, start[k + 1] - start[k], 1, t0);
			slurmdb_connection_close(&cdb);
			fflush(NULL);
			_exit(own.failed    ? EXIT_TEMPFAIL
			      : own.waiting ? EXIT_WAITING
					    : 0);
		}
	}
	for (size_t b = 0; b < nb; b++)
		if (lists[b])
			slurm_list_destroy(lists[b]);
	free(lists);
	free(order);
	for (unsigned k = 0; k < nparts; k++) {
		int status;

		if (pids[k] < 0) {
			_say("worker: cannot start worker %u of %u: %s; its "
			     "jobs stay queued",
			     k + 1, nparts, strerror(errno));
			t->failed++;
			continue;
		}
		while (waitpid(pids[k], &status, 0) < 0 && errno == EINTR)
			;
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
			t->done++;
		else if (WIFEXITED(status) &&
			 WEXITSTATUS(status) == EXIT_WAITING)
			t->waiting++;
		else if (WIFSIGNALED(status)) {
			_say("worker %u of %u: killed by signal %d; its jobs "
			     "stay queued for the next run",
			     k + 1, nparts, WTERMSIG(status));
			t->failed++;
		} else {
			t->failed++;
		}
	}
}

static void _usage(FILE *out)
{
	fprintf(out, "usage: footprint-worker --config FILE [--cluster NAME] "
		     "[--reconcile SECONDS]\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "cluster", required_argument, NULL, 'C' },
		{ "reconcile", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL;
	long reconcile_s = 0;
	fp_config_t *cfg;
	fp_key_t *key = NULL;
	fp_keyset_t *trusted = NULL;
	fp_error_t err = { 0 }, serr = { 0 };
	void *db = NULL;
	bool series_ok, broken = false;
	char path[4096];
	entry_t *queue;
	size_t nqueue;
	unsigned nparts;
	run_t run;
	tally_t t = { 0 };
	int c, waiting = 0, failed = 0, lock_fd;
	time_t now = time(NULL);
	double t0 = _mono(), t1;

	while ((c = getopt_long(argc, argv, "c:C:r:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 'C':
			snprintf(cluster, sizeof(cluster), "%s", optarg);
			break;
		case 'r':
			reconcile_s = strtol(optarg, NULL, 10);
			break;
		case 'h':
			_usage(stdout);
			return 0;
		default:
			_usage(stderr);
			return 2;
		}
	}
	if (!config) {
		_usage(stderr);
		return 2;
	}
	if (!cluster[0])
		_read_cluster_name();
	cfg = fp_config_load(config, &err);
	if (!cfg) {
		cfg = fp_config_load_essentials(config);
		if (!cfg) {
			/* Not even the key and spool: jobs stay queued. */
			fprintf(stderr, "%s\n", err.msg);
			return 1;
		}
		broken = true;
		snprintf(serr.msg, sizeof(serr.msg), "%s", err.msg);
	}
	spool = cfg->spool_dir;
	if (asprintf(&last_error_path, "%s/worker.lasterror", spool) < 0)
		last_error_path = NULL;
	snprintf(path, sizeof(path), "%s/queue", spool);
	mkdir(spool, 0755);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/summaries", spool);
	mkdir(path, 0755);
	/* One worker run per spool at a time: one left running by a
	 * controller that died must not work on the jobs its successor's run
	 * takes. The lock goes with the last of its processes. Opened for
	 * reading only (flock needs no more): a file held open for writing
	 * would keep an admin from remounting the spool read-only. */
	snprintf(path, sizeof(path), "%s/worker.lock", spool);
	lock_fd = open(path, O_RDONLY | O_CREAT | O_CLOEXEC, 0600);
	if (lock_fd >= 0 && flock(lock_fd, LOCK_EX | LOCK_NB) != 0 &&
	    errno == EWOULDBLOCK) {
		fp_config_free(cfg);
		free(last_error_path);
		return EXIT_WAITING;
	}
	/* A series that does not load stops only its own site's jobs: they
	 * get an incomplete summary naming it, the other sites compute. */
	series_ok = !broken && fp_config_load_series(cfg, &serr) == 0;
	if (!broken && !series_ok) {
		const char *m;

		/* Each broken series its own line, naming its Site line. */
		for (size_t i = 0; (m = fp_config_series_error(cfg, i)); i++)
			_say("%s; that site's summaries are marked incomplete "
			     "until it is fixed",
			     m);
	} else if (broken)
		_say("%s; summaries are marked incomplete until it is fixed",
		     serr.msg);
	key = cfg->signing_key
		      ? fp_sign_key_load_private(cfg->signing_key, &err)
		      : NULL;
	if (!key) {
		_say("signing key: %s; jobs stay queued until it is fixed",
		     cfg->signing_key ? err.msg : "SigningKey is not set");
		fp_config_free(cfg);
		return EXIT_TEMPFAIL;
	}
	/* What an earlier summary at a reused id may be signed with: this
	 * key, and the current and retired keys footprint.conf trusts. */
	trusted = fp_sign_keyset_new();
	if (!trusted || fp_sign_keyset_add_key(trusted, key, &err)) {
		_say("signing key: %s", trusted ? err.msg : "out of memory");
		fp_sign_keyset_free(trusted);
		fp_sign_key_free(key);
		fp_config_free(cfg);
		return EXIT_TEMPFAIL;
	}
	if ((cfg->npublic_keys || cfg->npublic_key_dirs) &&
	    fp_sign_keyset_add_config(trusted, cfg, &err))
		_say("trusted keys: %s (earlier summaries they signed are kept "
		     "aside as unverified when a job id is reused)",
		     err.msg);
	slurm_init(NULL);
	t1 = _mono();
	db = slurmdb_connection_get(NULL);
	stats.connect_s = _mono() - t1;
	if (!db) {
		_say("slurmdbd: no connection (%s); jobs stay queued",
		     slurm_strerror(errno));
		fp_sign_keyset_free(trusted);
		fp_sign_key_free(key);
		fp_config_free(cfg);
		return EXIT_TEMPFAIL;
	}
	_dbd_nodelay();
	t1 = _mono();
	if (reconcile_s > 0 && _reconcile(db, reconcile_s, now) < 0)
		failed++;
	stats.reconcile_s = _mono() - t1;

	queue = _read_queue(&nqueue, now);
	if (nqueue > cfg->max_queue) {
		/* The journal holds them all: the rest wait for the next run,
		 * which the plugin starts at once (exit 3). */
		_say("spool %s: more than MaxQueue=%u jobs queued; each run "
		     "takes the oldest %u, the others wait in the journal",
		     spool, cfg->max_queue, cfg->max_queue);
		t.waiting += (int)(nqueue - cfg->max_queue);
		nqueue = cfg->max_queue;
	}
	run.cfg = cfg;
	run.config_ok = !broken;
	run.config_err = serr.msg;
	run.key = key;
	run.trusted = trusted;
	run.now = now;
	site_metrics = cfg->metrics && !broken;
	nparts = (nqueue + MIN_PER_WORKER - 1) / MIN_PER_WORKER;
	if (nparts > cfg->max_workers)
		nparts = cfg->max_workers;
	if (nparts <= 1) {
		_process_part(db, &run, queue, nqueue, NULL, &t);
	} else {
		_run_parts(&db, &run, queue, nqueue, nparts, &t);
	}
	free(queue);
	/* Each batch added its counts: this refreshes the intensities. */
	_write_site_metrics(&run, NULL);
	failed += t.failed;
	waiting = t.waiting;
	_write_stats("", nqueue, nparts, t0);
	if (db)
		slurmdb_connection_close(&db);
	fp_sign_keyset_free(trusted);
	fp_sign_key_free(key);
	fp_config_free(cfg);
	/* A configuration fault lasts across runs: keep it said once. */
	if (!failed && series_ok)
		_clear_error();
	free(last_error_path);
	slurm_fini();
	if (failed)
		return EXIT_TEMPFAIL;
	return waiting ? EXIT_WAITING : 0;
}
