/* Per-CPU activity: node busy time from /proc/stat and per-step CPU time per
 * CPU from Slurm's step cgroups (v1 cpuacct, or perf counters on v2). */
#include "footprint/activity.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#include "footprint/topology.h"

#include "activity_state.h"

/* Polls during which a step whose own cpuset was not written yet (Slurm
 * creates the directory before it fills cpuset.cpus) is read again. */
#define ALLOC_RETRIES 3

void fp_activity_log(fp_activity_t *a, int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fp_error_vlog(a->log, a->log_ctx, level, fmt, ap);
	va_end(ap);
}

/* ---- small files ------------------------------------------------------ */

static ssize_t _read_small(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return n;
}

static bool _isdir(const char *path)
{
	struct stat st;

	return path && *path && !stat(path, &st) && S_ISDIR(st.st_mode);
}

/* ---- steps ------------------------------------------------------------ */

void fp_activity_step_free(struct step *s)
{
	if (!s)
		return;
	fp_numfile_fini(&s->usage);
	for (size_t c = 0; c < s->npfd; c++)
		if (s->pfd[c] >= 0)
			close(s->pfd[c]);
	free(s->pfd);
	free(s->cnt);
	free(s->alloc);
	free(s->id);
	free(s->rel);
	free(s);
}

/* The allocation file of rel (or of its parent with up), as a CPU list. */
static int _read_alloc(fp_activity_t *a, const char *rel, bool up, int **cpus,
		       size_t *n)
{
	char path[PATH_MAX], buf[4096];
	int len = up ? (int)(strrchr(rel, '/') - rel) : (int)strlen(rel);
	ssize_t r;

	if (snprintf(path, sizeof(path), "%s/%.*s/%s", a->alloc_root, len, rel,
		     a->alloc_file) >= (int)sizeof(path))
		return -1;
	r = _read_small(path, buf, sizeof(buf));
	if (r <= 0)
		return -1;
	while (r > 0 && fp_numfile_isws(buf[r - 1]))
		buf[--r] = '\0';
	if (!r)
		return -1; /* not set yet */
	return fp_topology_cpulist_parse(buf, a->ncpus, cpus, n, NULL);
}

/*
 * The step's cpuset, else its job's, else all CPUs. Slurm creates the step
 * directory before it writes its cpuset: while the step's own file is
 * unset, the next few polls look again (at it only).
 */
static int _step_alloc(fp_activity_t *a, struct step *s)
{
	bool first = !s->alloc;
	int *cpus = NULL;
	size_t n = 0;

	if (a->alloc_root && !_read_alloc(a, s->rel, false, &cpus, &n)) {
		s->alloc_tries = 0;
	} else {
		if (!first) {
			s->alloc_tries--;
			return 0;
		}
		s->alloc_tries = a->alloc_root ? ALLOC_RETRIES : 0;
		if (a->alloc_root && !_read_alloc(a, s->rel, true, &cpus, &n))
			goto set;
		cpus = malloc(a->ncpus * sizeof(int));
		if (!cpus)
			return -1;
		for (size_t c = 0; c < a->ncpus; c++)
			cpus[c] = (int)c;
		n = a->ncpus;
		if (!a->logged_allcpus)
			fp_activity_log(
				a, FP_LOG_WARN,
				"activity: no cpuset for step %s (%s/%s/%s, nor "
				"its job's): its allocation is taken as all "
				"CPUs (said once for all steps)",
				s->id, a->alloc_root ? a->alloc_root : "(none)",
				s->rel, a->alloc_file);
		a->logged_allcpus = true;
	}
set:
	free(s->alloc);
	s->alloc = cpus;
	a->gen++;
	s->nalloc = n;
	return 0;
}

struct step *fp_activity_step_new(fp_activity_t *a, const char *rel, ino_t ino,
				  uint64_t job, uint32_t key, const char *id)
{
	struct step *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	fp_numfile_init(&s->usage);
	s->rel = strdup(rel);
	s->id = strdup(id);
	s->job = job;
	s->key = key;
	s->ino = ino;
	if (!s->rel || !s->id || _step_alloc(a, s))
		goto fail;
	if (a->src == FP_ACTIVITY_SRC_CGROUP_V1) {
		char path[PATH_MAX];

		/* 20 digits and a blank per CPU hold any counter */
		s->usage.cap = 64 + 21 * a->ncpus;
		if (snprintf(path, sizeof(path), "%s/%s/cpuacct.usage_percpu",
			     a->step_root, rel) < (int)sizeof(path))
			fp_numfile_open(&s->usage, path);
	} else if (fp_activity_perf_step_open(a, s)) {
		goto fail;
	}
	return s;
fail:
	fp_activity_step_free(s);
	return NULL;
}

static bool _step_read_v1(fp_activity_t *a, struct step *s)
{
	struct numfile *f = &s->usage;
	const char *nb;
	ssize_t n;
	bool good = true;

	if (f->fd < 0) {
		char path[PATH_MAX];

		if (snprintf(path, sizeof(path), "%s/%s/cpuacct.usage_percpu",
			     a->step_root, s->rel) >= (int)sizeof(path) ||
		    fp_numfile_open(f, path))
			return false;
	}
	n = fp_numfile_read(f, &a->rbuf, &a->rcap, true);
	if (n < 0) {
		/* the cgroup was removed under us (ENODEV): skip it now, and
		 * walk again at the next poll */
		close(f->fd);
		f->fd = -1;
		f->parsed = false;
		a->dirty = true;
		return false;
	}
	nb = a->rbuf;
	if (!f->chg) {
		f->chg = calloc(FP_BITMAP_WORDS(a->ncpus), sizeof(uint64_t));
		f->chg_bits = f->chg ? a->ncpus : 0;
	}
	if (f->chg)
		memset(f->chg, 0, FP_BITMAP_WORDS(a->ncpus) * sizeof(uint64_t));
	/* the changes are known when the last read was good (s->ok is still
	 * its outcome) and this one only updates numbers in place */
	s->hint = false;
	if (f->parsed && (size_t)n == f->plen && fp_numfile_update(f, nb)) {
		s->hint = s->ok && f->chg;
		goto done;
	}
	f->ntok = 0;
	f->base = 0;
	f->parsed = false;
	if (fp_numfile_tokenize(f, nb, 0, (size_t)n))
		return false;
	for (size_t t = 0; t < f->ntok; t++)
		good = good && f->tok[t].num;
	if (!good || f->ntok < a->ncpus) {
		if (!s->bad_logged)
			fp_activity_log(
				a, FP_LOG_WARN,
				"activity: %s/%s/cpuacct.usage_percpu: %s; step "
				"%s skipped",
				a->step_root, s->rel,
				good ? "fewer numbers than CPUs"
				     : "not a list of numbers",
				s->id);
		s->bad_logged = true;
		return false;
	}
	if (fp_numfile_keep(f, nb, (size_t)n))
		return false;
	f->plen = (size_t)n;
	f->tok[f->ntok].off = (uint32_t)n;
	if (fp_numfile_index(f))
		return false;
	f->parsed = true;
done:
	return true;
}

/* ---- sources ---------------------------------------------------------- */

static char *_dup_root(const char *given, char *found)
{
	if (!given)
		return found;
	free(found);
	return *given ? strdup(given) : NULL;
}

static int _settle_source(fp_activity_t *a, const fp_activity_opts_t *o,
			  fp_error_t *err)
{
	char *cpuacct = NULL, *cpuset = NULL, *unified = NULL;
	fp_activity_mode_t mode = o->mode;
	int rc = 0;

	if (!o->cpuacct_root || !o->cpuset_root || !o->unified_root)
		fp_activity_cgroup_default_roots(
			o->mountinfo ? o->mountinfo : "/proc/self/mountinfo",
			&cpuacct, &cpuset, &unified);
	cpuacct = _dup_root(o->cpuacct_root, cpuacct);
	cpuset = _dup_root(o->cpuset_root, cpuset);
	unified = _dup_root(o->unified_root, unified);

	if (mode == FP_ACTIVITY_AUTO || mode == FP_ACTIVITY_CGROUP) {
		if (_isdir(cpuacct)) {
			a->src = FP_ACTIVITY_SRC_CGROUP_V1;
			a->step_root = cpuacct;
			a->alloc_root = cpuset;
			a->alloc_file = "cpuset.cpus";
			cpuacct = cpuset = NULL;
			goto out;
		}
		if (mode == FP_ACTIVITY_CGROUP) {
			rc = fp_error_set(err, FP_ENOTSUP,
					  "cgroup v1 cpuacct root %s: not a "
					  "directory",
					  cpuacct ? cpuacct : "(not mounted)");
			goto out;
		}
	}
	if (_isdir(unified)) {
		a->step_root = unified;
		a->src = fp_activity_perf_probe(a, o->perf_task_clock);
		if (a->src != FP_ACTIVITY_SRC_NONE) {
			a->alloc_root = strdup(a->step_root);
			a->alloc_file = "cpuset.cpus.effective";
			unified = NULL;
			goto out;
		}
		a->step_root = NULL;
	}
	if (mode == FP_ACTIVITY_PERF) {
		rc = fp_error_set(err, FP_ENOTSUP,
				  "perf counters on cgroup v2 %s: %s",
				  unified ? unified : "(not mounted)",
				  _isdir(unified) ? "perf_event_open refused"
						  : "not a directory");
		goto out;
	}
	fp_activity_log(
		a, FP_LOG_WARN,
		"activity: no step source (cgroup v1 cpuacct %s, cgroup v2 %s "
		"without perf): node busy time only",
		cpuacct ? cpuacct : "not mounted",
		unified ? unified : "not mounted");
out:
	free(cpuacct);
	free(cpuset);
	free(unified);
	return rc;
}

/* ---- public ----------------------------------------------------------- */

fp_activity_t *fp_activity_new(const fp_activity_opts_t *opts, fp_error_t *err)
{
	fp_activity_opts_t defaults = { 0 };
	fp_activity_t *a;
	long ncpus;

	fp_error_clear(err);
	if (!opts)
		opts = &defaults;
	a = calloc(1, sizeof(*a));
	if (!a) {
		fp_error_set(err, FP_ENOMEM, "activity: out of memory");
		return NULL;
	}
	a->ino_fd = -1;
	a->dirty = true;
	a->log = opts->log;
	a->log_ctx = opts->log_ctx;
	fp_numfile_init(&a->stat);
	ncpus = opts->ncpus ? (long)opts->ncpus : sysconf(_SC_NPROCESSORS_CONF);
	a->hz = sysconf(_SC_CLK_TCK);
	if (ncpus <= 0 || ncpus > INT_MAX || a->hz <= 0) {
		fp_error_set(err, FP_EINVAL, "activity: %ld CPUs, %ld ticks/s",
			     ncpus, a->hz);
		goto fail;
	}
	a->ncpus = (size_t)ncpus;
	if (1000000000L % a->hz == 0)
		a->tick_ns = (uint64_t)(1000000000L / a->hz);
	a->proc_stat = strdup(opts->proc_stat ? opts->proc_stat : "/proc/stat");
	a->node = opts->node ? strdup(opts->node) : NULL;
	a->job_of = opts->job_of;
	a->job_of_ctx = opts->job_of_ctx;
	a->cpu_tok = malloc(a->ncpus * sizeof(*a->cpu_tok));
	a->cpu_nf = calloc(a->ncpus, 1);
	a->busy_ns = calloc(a->ncpus, sizeof(*a->busy_ns));
	/* the cpu lines of /proc/stat, not the long intr line after them */
	a->stat.cap = 4096 + 256 * a->ncpus;
	if (!a->proc_stat || (opts->node && !a->node) || !a->cpu_tok ||
	    !a->cpu_nf || !a->busy_ns ||
	    fp_numfile_fit(&a->rbuf, &a->rcap, a->stat.cap)) {
		fp_error_set(err, FP_ENOMEM, "activity: out of memory");
		goto fail;
	}
	if (fp_numfile_open(&a->stat, a->proc_stat)) {
		fp_error_set(err, FP_EIO, "%s: open: %s", a->proc_stat,
			     strerror(errno));
		goto fail;
	}
	if (_settle_source(a, opts, err))
		goto fail;
	if (a->src != FP_ACTIVITY_SRC_NONE) {
		a->ino_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (a->ino_fd < 0)
			fp_activity_log(
				a, FP_LOG_INFO,
				"activity: inotify: %s; cgroups are walked at "
				"every poll",
				strerror(errno));
	}
	fp_activity_log(a, FP_LOG_INFO,
			"activity: steps from %s (%s), %zu CPUs",
			fp_activity_source_name(a->src),
			a->step_root ? a->step_root : "-", a->ncpus);
	return a;
fail:
	fp_activity_free(a);
	return NULL;
}

void fp_activity_free(fp_activity_t *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->nsteps; i++)
		fp_activity_step_free(a->steps[i]);
	free(a->steps);
	if (a->ino_fd >= 0)
		close(a->ino_fd);
	fp_numfile_fini(&a->stat);
	free(a->rbuf);
	free(a->cpu_tok);
	free(a->cpu_nf);
	free(a->busy_ns);
	free(a->proc_stat);
	free(a->node);
	free(a->step_root);
	free(a->alloc_root);
	free(a);
}

fp_activity_source_t fp_activity_source(const fp_activity_t *a)
{
	return a ? a->src : FP_ACTIVITY_SRC_NONE;
}

const char *fp_activity_source_name(fp_activity_source_t src)
{
	switch (src) {
	case FP_ACTIVITY_SRC_NONE:
		return "none";
	case FP_ACTIVITY_SRC_CGROUP_V1:
		return "cgroup-v1";
	case FP_ACTIVITY_SRC_PERF_TASK_CLOCK:
		return "perf-task-clock";
	case FP_ACTIVITY_SRC_PERF_CYCLES:
		return "perf-cycles";
	}
	return "unknown";
}

size_t fp_activity_steps(const fp_activity_t *a, fp_activity_step_t *v,
			 size_t max)
{
	if (!a)
		return 0;
	for (size_t i = 0; i < a->nsteps && i < max; i++) {
		const struct step *s = a->steps[i];

		v[i].id = s->id;
		v[i].job = s->job;
		v[i].cgroup = s->rel;
		v[i].alloc = s->alloc;
		v[i].nalloc = s->nalloc;
		v[i].counted = s->ok;
	}
	return a->nsteps;
}

size_t fp_activity_ncpus(const fp_activity_t *a)
{
	return a ? a->ncpus : 0;
}

/* The step's counter on CPU c: perf counts, or the cgroup file's c-th
 * number. */
static inline uint64_t _step_value(const struct step *s, size_t c)
{
	return s->cnt ? s->cnt[c] : s->usage.tok[c].val;
}

/* Whether out already holds exactly the steps read now, so that only the
 * counters need copying (the caller reuses its sample: no allocation). */
static bool _same_steps(const fp_activity_t *a, const fp_sample_t *out)
{
	size_t j = 0;

	for (size_t i = 0; i < a->nsteps; i++) {
		const struct step *s = a->steps[i];
		const fp_step_sample_t *o;

		if (!s->ok)
			continue;
		if (j == out->nsteps)
			return false;
		o = &out->steps[j++];
		if (o->job != s->job || o->nalloc != s->nalloc ||
		    strcmp(o->id, s->id) ||
		    memcmp(o->alloc, s->alloc, s->nalloc * sizeof(int)))
			return false;
	}
	return j == out->nsteps;
}

int fp_activity_read(fp_activity_t *a, const fp_node_desc_t *desc,
		     fp_sample_t *out, fp_error_t *err)
{
	size_t j = 0;
	bool cont, okchg = false;

	fp_error_clear(err);
	if (!a || !desc || !out)
		return fp_error_set(err, FP_EINVAL,
				    "activity: missing argument");
	if (desc->cpus != a->ncpus)
		return fp_error_set(
			err, FP_EINVAL,
			"activity: node has %zu CPUs, reader was made "
			"for %zu",
			desc->cpus, a->ncpus);
	/* out holds what the last read put there, unless another reader
	 * filled it since (its seq would differ) */
	cont = a->last_out == out && a->seq && out->seq == a->seq;
	a->last_out = out;
	out->seq = ++a->seq;
	if (fp_activity_stat_read(a, err))
		goto fail;
	memcpy(out->cpu_busy_ns, a->busy_ns, a->ncpus * sizeof(uint64_t));

	if (a->src != FP_ACTIVITY_SRC_NONE) {
		fp_activity_cgroup_drain_events(a);
		if (a->dirty) {
			a->dirty = false;
			if (fp_activity_cgroup_rediscover(a, err))
				goto fail;
		}
	}
	for (size_t i = 0; i < a->nsteps; i++) {
		struct step *s = a->steps[i];
		bool was = s->ok;

		if (s->alloc_tries > 0 && _step_alloc(a, s)) {
			fp_error_set(err, FP_ENOMEM, "activity: out of memory");
			goto fail;
		}
		if (a->src == FP_ACTIVITY_SRC_CGROUP_V1)
			s->ok = _step_read_v1(a, s);
		else
			s->ok = !s->perf_dead &&
				fp_activity_perf_step_read(a, s);
		okchg |= was != s->ok;
	}

	/* out lists the same steps when it holds the last read, no step
	 * came, went, failed or moved since: else compare, and rebuild */
	if (!(cont && !okchg && a->out_gen == a->gen) && !_same_steps(a, out)) {
		cont = false;
		fp_sample_clear_steps(out);
		for (size_t i = 0; i < a->nsteps; i++) {
			struct step *s = a->steps[i];

			if (s->ok &&
			    !fp_sample_add_step(out, desc, s->id, s->job,
						s->alloc, s->nalloc)) {
				fp_error_set(err, FP_ENOMEM,
					     "activity: out of memory");
				goto fail;
			}
		}
	}
	out->steps_same = cont;
	for (size_t i = 0; i < a->nsteps; i++) {
		const struct step *s = a->steps[i];
		fp_step_sample_t *o;

		if (!s->ok)
			continue;
		o = &out->steps[j++];
		o->changed_known = s->hint && o->changed;
		if (o->changed_known)
			memcpy(o->changed, s->usage.chg,
			       FP_BITMAP_WORDS(a->ncpus) * sizeof(uint64_t));
		if (!(cont && o->changed_known)) {
			for (size_t c = 0; c < a->ncpus; c++)
				o->cpu_ns[c] = _step_value(s, c);
			continue;
		}
		/* out has this step's last values: copy what moved */
		for (size_t w = 0; w < FP_BITMAP_WORDS(a->ncpus); w++)
			for (uint64_t m = o->changed[w]; m; m &= m - 1) {
				size_t c = w * 64 + (size_t)__builtin_ctzll(m);

				o->cpu_ns[c] = s->usage.tok[c].val;
			}
	}
	a->out_gen = a->gen;
	return 0;
fail:
	/* the next read cannot build on this one */
	fp_sample_clear_steps(out);
	out->seq = 0;
	out->steps_same = false;
	return -1;
}
