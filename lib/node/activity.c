/* Per-CPU activity: node busy time from /proc/stat and per-step CPU time per
 * CPU from Slurm's step cgroups (v1 cpuacct, or perf counters on v2). */
#include "footprint/activity.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/magic.h>
#include <linux/perf_event.h>
#include <perfmon/pfmlib_perf_event.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "footprint/step.h"
#include "footprint/topology.h"

#include "numfile.h"

/* Polls during which a step whose own cpuset was not written yet (Slurm
 * creates the directory before it fills cpuset.cpus) is read again. */
#define ALLOC_RETRIES 3

#define WATCH_MASK                                             \
	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
	 IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

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

static void _log(fp_activity_t *a, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void _log(fp_activity_t *a, int level, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	if (!a->log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	a->log(a->log_ctx, level, msg);
}

/* ---- /proc/stat ------------------------------------------------------- */

/* 1: the cpu lines did not all fit in the buffer; 0: parsed; -1: bad. */
static int _stat_full(fp_activity_t *a, const char *nb, size_t n,
		      size_t *bad_at)
{
	struct numfile *f = &a->stat;
	size_t p = 0, ncpu_lines = 0;
	bool eof = n < f->cap;

	f->ntok = 0;
	f->base = 0;
	for (size_t c = 0; c < a->ncpus; c++)
		a->cpu_tok[c] = -1;
	/* the all-CPU line is skipped: the region starts after it */
	if (n >= 4 && !memcmp(nb, "cpu ", 4)) {
		const char *nl = memchr(nb, '\n', n);

		if (!nl)
			return eof ? -1 : 1;
		f->base = p = (size_t)(nl - nb) + 1;
	}
	while (p < n) {
		const char *nl;
		size_t le, t0, nf;
		uint64_t id = 0;

		if (n - p < 4) {
			if (!eof)
				return 1;
			break;
		}
		if (memcmp(nb + p, "cpu", 3) || nb[p + 3] < '0' ||
		    nb[p + 3] > '9')
			break;
		nl = memchr(nb + p, '\n', n - p);
		if (!nl && !eof)
			return 1;
		le = nl ? (size_t)(nl - nb) + 1 : n;
		t0 = f->ntok;
		if (fp_numfile_tokenize(f, nb, p, le))
			return -2;
		nf = f->ntok - t0 - 1;
		if (fp_numfile_digits(nb + p + 3, &id) !=
			    f->tok[t0].end - f->tok[t0].off - 3 ||
		    nf < 4 || nf > 255) {
			*bad_at = p;
			return -1;
		}
		for (size_t t = t0 + 1; t < f->ntok; t++)
			if (!f->tok[t].num) {
				*bad_at = f->tok[t].off;
				return -1;
			}
		if (id < a->ncpus) {
			if (a->cpu_tok[id] >= 0) {
				*bad_at = p;
				return -1;
			}
			a->cpu_tok[id] = (int)t0;
			a->cpu_nf[id] = (uint8_t)nf;
		}
		ncpu_lines++;
		p = le;
	}
	if (p >= n && !eof)
		return 1;
	if (!ncpu_lines) {
		*bad_at = p;
		return -1;
	}
	f->plen = p;
	f->tok[f->ntok].off = (uint32_t)p;
	return 0;
}

/* Whether the new bytes keep the last layout's frame: same all-CPU line
 * length, the cpu lines end where they ended, and no cpu line follows. */
static bool _stat_same_frame(const struct numfile *f, const char *nb, size_t n)
{
	if (f->base && (f->base > n || nb[f->base - 1] != '\n' ||
			memchr(nb, '\n', f->base - 1)))
		return false;
	if (f->plen > n || nb[f->plen - 1] != '\n')
		return false;
	if (f->plen == n)
		return n < f->cap;
	return n - f->plen >= 3 && memcmp(nb + f->plen, "cpu", 3);
}

static uint64_t _ticks_ns(const fp_activity_t *a, uint64_t ticks)
{
	if (a->tick_ns)
		return ticks * a->tick_ns;
	return ticks / (uint64_t)a->hz * 1000000000ULL +
	       ticks % (uint64_t)a->hz * 1000000000ULL / (uint64_t)a->hz;
}

static int _read_stat(fp_activity_t *a, fp_error_t *err)
{
	struct numfile *f = &a->stat;

	for (;;) {
		ssize_t n = fp_numfile_read(f, &a->rbuf, &a->rcap, false);
		const char *nb = a->rbuf;
		size_t bad_at = 0;
		int r;

		if (n < 0)
			return fp_error_set(
				err, errno == ENOMEM ? FP_ENOMEM : FP_EIO,
				"%s: read: %s", a->proc_stat, strerror(errno));
		if (f->parsed && _stat_same_frame(f, nb, (size_t)n) &&
		    fp_numfile_update(f, nb))
			break;
		f->parsed = false;
		r = _stat_full(a, nb, (size_t)n, &bad_at);
		if (r == 1) {
			f->cap *= 2;
			continue;
		}
		if (r == -1)
			return fp_error_set(
				err, FP_EPARSE,
				"%s: byte %zu: not a 'cpuN user nice "
				"system idle ...' line",
				a->proc_stat, bad_at);
		if (r == -2 || fp_numfile_keep(f, nb, f->plen) ||
		    fp_numfile_index(f))
			return fp_error_set(err, FP_ENOMEM, "%s: out of memory",
					    a->proc_stat);
		f->parsed = true;
		break;
	}
	for (size_t c = 0; c < a->ncpus; c++) {
		const struct tok *v;
		uint64_t ticks;
		unsigned nf;

		if (a->cpu_tok[c] < 0)
			continue; /* offline: keep the last value */
		v = f->tok + a->cpu_tok[c] + 1;
		nf = a->cpu_nf[c];
		/* user nice system idle iowait irq softirq steal guest
		 * guest_nice: guest is already inside user */
		ticks = v[0].val + v[1].val + v[2].val;
		for (unsigned k = 5; k < 8 && k < nf; k++)
			ticks += v[k].val;
		a->busy_ns[c] = _ticks_ns(a, ticks);
	}
	return 0;
}

/* ---- small files and defaults ----------------------------------------- */

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

/* mountinfo escapes blanks in paths as \ooo. */
static void _unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

static bool _has_opt(const char *opts, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = opts; p && *p;) {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);

		if (l == len && !memcmp(p, name, len))
			return true;
		p = c ? c + 1 : NULL;
	}
	return false;
}

/* Fills the roots left NULL from the mounted cgroup file systems. */
static void _default_roots(const char *mountinfo, char **cpuacct, char **cpuset,
			   char **unified)
{
	FILE *fp = fopen(mountinfo, "re");
	char *line = NULL;
	size_t sz = 0;

	if (!fp)
		return;
	while (getline(&line, &sz, fp) > 0) {
		char *sep = strstr(line, " - "), *mnt, *fstype, *opts;
		char *save = NULL;
		int i = 0;

		if (!sep)
			continue;
		*sep = '\0';
		for (mnt = strtok_r(line, " ", &save); mnt && i < 4; i++)
			mnt = strtok_r(NULL, " ", &save);
		fstype = strtok_r(sep + 3, " \n", &save);
		strtok_r(NULL, " \n", &save); /* source */
		opts = strtok_r(NULL, " \n", &save);
		if (!mnt || !fstype)
			continue;
		_unescape(mnt);
		if (!strcmp(fstype, "cgroup2") && !*unified) {
			*unified = strdup(mnt);
		} else if (!strcmp(fstype, "cgroup")) {
			if (!*cpuacct && _has_opt(opts, "cpuacct"))
				*cpuacct = strdup(mnt);
			if (!*cpuset && _has_opt(opts, "cpuset"))
				*cpuset = strdup(mnt);
		}
	}
	free(line);
	fclose(fp);
}

/* ---- steps ------------------------------------------------------------ */

static void _step_free(struct step *s)
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
			_log(a, FP_LOG_WARN,
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
static int _step_perf_open(fp_activity_t *a, struct step *s)
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
			_log(a, FP_LOG_ERROR,
			     "activity: perf counters for %s: %s (%zu CPUs x "
			     "steps descriptors are needed: raise "
			     "RLIMIT_NOFILE); such CPUs read 0",
			     path, strerror(lasterr), a->ncpus);
		a->logged_emfile = true;
	} else if ((size_t)nfail == a->ncpus) {
		_log(a, FP_LOG_ERROR,
		     "activity: perf counters for %s: %s; "
		     "step not counted",
		     path, strerror(lasterr));
		s->perf_dead = true;
	}
	return 0;
}

static struct step *_step_new(fp_activity_t *a, const char *rel, ino_t ino,
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
	} else if (_step_perf_open(a, s)) {
		goto fail;
	}
	return s;
fail:
	_step_free(s);
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
			_log(a, FP_LOG_WARN,
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

static bool _step_read_perf(fp_activity_t *a, struct step *s)
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

/* ---- discovery -------------------------------------------------------- */

/* Watch a directory before listing it, so that a change after the listing
 * wakes the next poll; without inotify every poll walks the tree. */
static void _watch(fp_activity_t *a, const char *path)
{
	if (a->ino_fd < 0 ||
	    inotify_add_watch(a->ino_fd, path, WATCH_MASK) >= 0)
		return;
	if (errno == ENOENT || errno == ENOTDIR)
		return; /* not there (yet): its parent is watched */
	if (!a->logged_inotify)
		_log(a, FP_LOG_INFO,
		     "activity: inotify on %s: %s; cgroups are walked at every "
		     "poll",
		     path, strerror(errno));
	a->logged_inotify = true;
	close(a->ino_fd);
	a->ino_fd = -1;
}

/* "<prefix><digits>" → the number. */
static bool _numbered(const char *name, const char *prefix, uint64_t *v)
{
	size_t pl = strlen(prefix), n;
	char buf[32] = { 0 };

	if (strncmp(name, prefix, pl) || strlen(name + pl) >= 21)
		return false;
	strcpy(buf, name + pl);
	n = fp_numfile_digits(buf, v);
	return n && !buf[n];
}

static bool _step_name(const char *name, uint64_t job, uint32_t *key, char *id,
		       size_t idsz)
{
	uint64_t n;

	if (!strcmp(name, "step_batch"))
		*key = FP_STEP_BATCH;
	else if (!strcmp(name, "step_extern"))
		*key = FP_STEP_EXTERN;
	else if (!strcmp(name, "step_interactive"))
		*key = FP_STEP_INTERACTIVE;
	else if (_numbered(name, "step_", &n) && n < FP_STEP_INTERACTIVE)
		*key = (uint32_t)n;
	else
		return false;
	fp_step_id_format(id, idsz, job, *key);
	return true;
}

static int _found(fp_activity_t *a, const char *rel, ino_t ino, uint64_t job,
		  uint32_t key, const char *id)
{
	struct step *s;

	for (size_t i = 0; i < a->nsteps; i++) {
		s = a->steps[i];
		if (strcmp(s->rel, rel))
			continue;
		if (s->ino == ino) {
			s->seen = true;
			return 0;
		}
		break; /* re-created: the old state is dropped */
	}
	if (a->nsteps == a->scap) {
		size_t cap = a->scap ? a->scap * 2 : 32;
		struct step **v = realloc(a->steps, cap * sizeof(*v));

		if (!v)
			return -1;
		a->steps = v;
		a->scap = cap;
	}
	s = _step_new(a, rel, ino, job, key, id);
	if (!s)
		return -1;
	s->seen = true;
	a->steps[a->nsteps++] = s;
	return 0;
}

static int _path(char *buf, const char *root, const char *rel)
{
	return snprintf(buf, PATH_MAX, "%s/%s", root, rel) >= PATH_MAX ? -1 : 0;
}

/* A SLUID as Slurm prints it (print_sluid() in src/common/sluid.c): "s"
 * and 13 digits of Crockford's base 32, which has no I, L, O or U. */
static bool _sluid_name(const char *name)
{
	static const char digits[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

	if ((name[0] != 's' && name[0] != 'S') || strlen(name) != 14)
		return false;
	for (int i = 1; i < 14; i++) {
		char c = name[i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (!strchr(digits, c))
			return false;
	}
	return true;
}

/* The job of a job folder: job_<j>, or a SLUID that job_of knows. */
static bool _job_folder(fp_activity_t *a, const char *rel, const char *name,
			uint64_t *job)
{
	if (_numbered(name, "job_", job))
		return true;
	if (!a->job_of || !_sluid_name(name))
		return false;
	if (!a->job_of(a->job_of_ctx, name, job) && *job > 0)
		return true;
	a->unnamed = true;
	if (!a->logged_sluid) {
		a->logged_sluid = true;
		_log(a, FP_LOG_INFO,
		     "activity: job folder %s/%s/%s is named by its SLUID and no "
		     "step daemon has named its job yet: its steps are counted "
		     "from when one does (logged once)",
		     a->step_root, rel, name);
	}
	return false;
}

/* The job_<j>/step_<s> (or <SLUID>/step_<s>) directories under rel. */
static int _walk_jobs(fp_activity_t *a, const char *rel)
{
	char path[PATH_MAX], jrel[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int rc = 0;

	if (_path(path, a->step_root, rel))
		return 0;
	_watch(a, path);
	if (!(d = opendir(path)))
		return 0;
	while (!rc && (e = readdir(d))) {
		struct dirent *se;
		uint64_t job;
		DIR *sd;

		if ((e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) ||
		    !_job_folder(a, rel, e->d_name, &job))
			continue;
		if (snprintf(jrel, sizeof(jrel), "%s/%s", rel, e->d_name) >=
			    (int)sizeof(jrel) ||
		    _path(path, a->step_root, jrel))
			continue;
		_watch(a, path);
		if (!(sd = opendir(path)))
			continue; /* ended meanwhile */
		while (!rc && (se = readdir(sd))) {
			char srel[PATH_MAX], id[64];
			uint32_t key;

			if ((se->d_type != DT_DIR &&
			     se->d_type != DT_UNKNOWN) ||
			    !_step_name(se->d_name, job, &key, id, sizeof(id)))
				continue;
			if (snprintf(srel, sizeof(srel), "%s/%s", jrel,
				     se->d_name) >= (int)sizeof(srel))
				continue;
			rc = _found(a, srel, se->d_ino, job, key, id);
		}
		closedir(sd);
	}
	closedir(d);
	return rc;
}

static int _walk_v1(fp_activity_t *a)
{
	char base[2][NAME_MAX + 1], path[PATH_MAX];
	int nbase = 1, rc = 0;

	_watch(a, a->step_root);
	strcpy(base[0], "slurm");
	if (a->node && snprintf(base[1], sizeof(base[1]), "slurm_%s", a->node) <
			       (int)sizeof(base[1]))
		nbase = 2;
	for (int b = 0; !rc && b < nbase; b++) {
		struct dirent *e;
		DIR *d;

		if (_path(path, a->step_root, base[b]))
			continue;
		_watch(a, path);
		if (!(d = opendir(path)))
			continue;
		while (!rc && (e = readdir(d))) {
			char rel[PATH_MAX];
			uint64_t uid;

			if (!_numbered(e->d_name, "uid_", &uid) ||
			    snprintf(rel, sizeof(rel), "%s/%s", base[b],
				     e->d_name) >= (int)sizeof(rel))
				continue;
			rc = _walk_jobs(a, rel);
		}
		closedir(d);
	}
	return rc;
}

static int _walk_v2(fp_activity_t *a)
{
	char path[PATH_MAX], rel[PATH_MAX];
	int rc;

	_watch(a, a->step_root);
	if (_path(path, a->step_root, "system.slice"))
		return 0;
	_watch(a, path);
	rc = _walk_jobs(a, "system.slice/slurmstepd.scope");
	if (!rc && a->node &&
	    snprintf(rel, sizeof(rel), "system.slice/%s_slurmstepd.scope",
		     a->node) < (int)sizeof(rel))
		rc = _walk_jobs(a, rel);
	return rc;
}

static int _step_cmp(const void *x, const void *y)
{
	const struct step *s = *(struct step *const *)x;
	const struct step *t = *(struct step *const *)y;

	if (s->job != t->job)
		return s->job < t->job ? -1 : 1;
	if (s->key != t->key)
		return s->key < t->key ? -1 : 1;
	return strcmp(s->rel, t->rel);
}

/* Walks the step directories again: new steps get state, vanished ones lose
 * theirs. Steps come out sorted by job and step. */
static int _rediscover(fp_activity_t *a, fp_error_t *err)
{
	size_t j = 0;
	int rc;

	a->gen++;
	a->unnamed = false;
	for (size_t i = 0; i < a->nsteps; i++)
		a->steps[i]->seen = false;
	rc = a->src == FP_ACTIVITY_SRC_CGROUP_V1 ? _walk_v1(a) : _walk_v2(a);
	/* no event says when a step daemon names its job: ask again */
	if (a->unnamed)
		a->dirty = true;
	for (size_t i = 0; i < a->nsteps; i++) {
		if (a->steps[i]->seen)
			a->steps[j++] = a->steps[i];
		else
			_step_free(a->steps[i]);
	}
	a->nsteps = j;
	if (rc)
		return fp_error_set(err, FP_ENOMEM, "%s: out of memory",
				    a->step_root);
	if (a->nsteps > 1)
		qsort(a->steps, a->nsteps, sizeof(*a->steps), _step_cmp);
	/* slurm/ and slurm_<node>/ both holding a step: keep one */
	for (size_t i = 1, k = 1; i <= a->nsteps; i++) {
		if (i == a->nsteps) {
			a->nsteps = k;
			break;
		}
		if (strcmp(a->steps[i]->id, a->steps[k - 1]->id)) {
			a->steps[k++] = a->steps[i];
			continue;
		}
		if (!a->logged_dup)
			_log(a, FP_LOG_WARN,
			     "activity: step %s is both at %s "
			     "and %s; the second is ignored",
			     a->steps[i]->id, a->steps[k - 1]->rel,
			     a->steps[i]->rel);
		a->logged_dup = true;
		_step_free(a->steps[i]);
	}
	return 0;
}

static void _drain_events(fp_activity_t *a)
{
	char buf[4096] __attribute__((aligned(8)));

	if (a->ino_fd < 0) {
		a->dirty = true;
		return;
	}
	/* an overflow is an event too: any event means "walk again" */
	while (read(a->ino_fd, buf, sizeof(buf)) > 0)
		a->dirty = true;
}

/* ---- sources ---------------------------------------------------------- */

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
static fp_activity_source_t _perf_probe(fp_activity_t *a, bool no_cycles)
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
		_default_roots(o->mountinfo ? o->mountinfo
					    : "/proc/self/mountinfo",
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
		a->src = _perf_probe(a, o->perf_task_clock);
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
	_log(a, FP_LOG_WARN,
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
			_log(a, FP_LOG_INFO,
			     "activity: inotify: %s; cgroups are walked at "
			     "every poll",
			     strerror(errno));
	}
	_log(a, FP_LOG_INFO, "activity: steps from %s (%s), %zu CPUs",
	     fp_activity_source_name(a->src), a->step_root ? a->step_root : "-",
	     a->ncpus);
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
		_step_free(a->steps[i]);
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
	if (_read_stat(a, err))
		goto fail;
	memcpy(out->cpu_busy_ns, a->busy_ns, a->ncpus * sizeof(uint64_t));

	if (a->src != FP_ACTIVITY_SRC_NONE) {
		_drain_events(a);
		if (a->dirty) {
			a->dirty = false;
			if (_rediscover(a, err))
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
			s->ok = !s->perf_dead && _step_read_perf(a, s);
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
