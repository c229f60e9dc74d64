/* Private to activity*.c: the activity reader's state, which activity.c
 * shares with its /proc/stat, cgroup discovery and perf parts. */
#ifndef FP_ACTIVITY_STATE_H
#define FP_ACTIVITY_STATE_H

#include <linux/perf_event.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "footprint/activity.h"

#include "numfile.h"

struct step {
	char *rel; /* directory under the step root */
	char *id;  /* "7.batch" */
	uint64_t job;
	uint32_t key; /* step order within the job */
	ino_t ino;    /* a re-created directory is a new step */
	int *alloc;
	size_t nalloc;
	int alloc_tries;
	bool seen, ok, bad_logged, perf_dead;
	bool hint;	      /* usage.chg tells what moved since last read */
	struct numfile usage; /* v1 */
	int *pfd;	      /* perf: one per CPU, -1 where not counting */
	size_t npfd;
	uint64_t *cnt; /* perf: scaled counts per CPU */
};

struct fp_activity {
	size_t ncpus;
	fp_activity_source_t src;
	fp_log_fn log;
	void *log_ctx;
	char *node;
	fp_activity_job_fn job_of;
	void *job_of_ctx;
	bool unnamed; /* the last walk skipped a SLUID folder */

	char *rbuf; /* where every read lands */
	size_t rcap;

	char *proc_stat;
	struct numfile stat;
	int *cpu_tok;	 /* per CPU: label token of its line, or -1 */
	uint8_t *cpu_nf; /* per CPU: numbers on its line */
	uint64_t *busy_ns;
	uint64_t tick_ns; /* 0 when ns per tick is not an integer */
	long hz;

	char *step_root;  /* cpuacct (v1) or unified (v2) root */
	char *alloc_root; /* cpuset (v1) or unified (v2) root, or NULL */
	const char *alloc_file;
	struct perf_event_attr pattr;

	struct step **steps;
	size_t nsteps, scap;
	int ino_fd;	       /* inotify on the walked directories, or -1 */
	bool dirty;	       /* the step set may have changed: walk again */
	uint64_t seq;	       /* reads so far: the samples' seq */
	uint64_t gen, out_gen; /* step set or allocation changes; at the
				 * last read */
	const fp_sample_t *last_out; /* the sample the last read filled */
	bool logged_allcpus, logged_inotify, logged_dup, logged_emfile,
		logged_sluid;
};

/* activity.c: what the reader says (through opts->log, when there is one),
 * and a step's state, made when a walk finds its directory. */
void fp_activity_log(fp_activity_t *a, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
struct step *fp_activity_step_new(fp_activity_t *a, const char *rel, ino_t ino,
				  uint64_t job, uint32_t key, const char *id);
void fp_activity_step_free(struct step *s);

/* activity_stat.c: every CPU's busy time into a->busy_ns. */
int fp_activity_stat_read(fp_activity_t *a, fp_error_t *err);

/* activity_cgroup.c */
void fp_activity_cgroup_default_roots(const char *mountinfo, char **cpuacct,
				      char **cpuset, char **unified);
int fp_activity_cgroup_rediscover(fp_activity_t *a, fp_error_t *err);
void fp_activity_cgroup_drain_events(fp_activity_t *a);

/* activity_perf.c */
int fp_activity_perf_step_open(fp_activity_t *a, struct step *s);
bool fp_activity_perf_step_read(fp_activity_t *a, struct step *s);
fp_activity_source_t fp_activity_perf_probe(fp_activity_t *a, bool no_cycles);

#endif
