/* Cost of the node poller on a generated 128-CPU, 64-step node (CPU per poll,
 * with and without metrics/trace), of a step daemon's read, and its memory. */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <hwloc.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <errno.h>
#include <sys/inotify.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>
#include <linux/magic.h>

#include "footprint/poller.h"
#include "footprint/publish.h"
#include "bench.h"

#define NCPUS 128
#define NPKG 2
#define NJOBS 32
#define NSTEPS 64 /* two per job: batch and one numbered step */
#define CPUS_PER_JOB (NCPUS / NJOBS)
#define NDOM 4		/* package-0, dram-0, package-1, dram-1 */
#define CHURN_EVERY 100 /* polls from a step's end to the next's */
#define RSS_POLLS 10000
/* Midnight UTC, so a run of RSS_POLLS one-second polls stays in one day's
 * trace file series. */
#define T0 1700006400.0

struct slot {
	unsigned job;
	char name[16];	  /* "batch", "0", "1", ... */
	char dir[2][256]; /* cpuacct and cpuset step folders */
	uint64_t ns[NCPUS];
	int fd; /* the bench's own, for rewriting */
};

struct bench {
	char root[64];
	char powercap[128], proc[128], cgroup[128], topo[128], sensor[128];
	char run[128], steps[160], jobs[160], metrics[128], trace[128];
	uint64_t ticks[NCPUS][10];
	uint64_t uj[NDOM];
	double wall_j, t;
	int stat_fd, rapl_fd[NDOM];
	struct slot slot[NSTEPS];
	unsigned next_step; /* name of the next step to start */
};

static double _cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double _wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void _die(const char *what)
{
	perror(what);
	exit(1);
}

static void _mkdirs(const char *path)
{
	char buf[512];

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

static void _write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	if (!fp || fputs(text, fp) < 0 || fclose(fp))
		_die(path);
}

/* Rewritten in place, as the kernel's files change under an open fd. */
static void _put(int fd, const char *buf, size_t len)
{
	if (pwrite(fd, buf, len, 0) != (ssize_t)len ||
	    ftruncate(fd, (off_t)len))
		_die("pwrite");
}

static int _open_w(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);

	if (fd < 0)
		_die(path);
	return fd;
}

static void _write_stat(struct bench *b)
{
	static char buf[65536];
	size_t n = 0;

	n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			      "cpu  123456789 1234 23456789 3456789012 1234567 "
			      "0 234567 0 0 0\n");
	for (int c = 0; c < NCPUS; c++) {
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "cpu%d", c);
		for (int k = 0; k < 10; k++)
			n += (size_t)snprintf(buf + n, sizeof(buf) - n,
					      " %" PRIu64, b->ticks[c][k]);
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\n");
	}
	n += (size_t)snprintf(buf + n, sizeof(buf) - n,
			      "intr 987654321 1 2 3\nctxt 123456789012\n"
			      "btime 1700000000\nprocs_running 3\n");
	_put(b->stat_fd, buf, n);
}

static void _write_rapl(struct bench *b)
{
	char buf[32];

	for (int d = 0; d < NDOM; d++)
		_put(b->rapl_fd[d], buf,
		     (size_t)snprintf(buf, sizeof(buf), "%" PRIu64 "\n",
				      b->uj[d]));
}

/* The meter agent's way: write aside, rename over. */
static void _write_sensor(struct bench *b)
{
	char tmp[160], text[128];

	snprintf(tmp, sizeof(tmp), "%s.tmp", b->sensor);
	snprintf(text, sizeof(text), "{\"time\": %.3f, \"energy_j\": %.3f}\n",
		 b->t, b->wall_j);
	_write_file(tmp, text);
	if (rename(tmp, b->sensor))
		_die("rename");
}

static void _write_usage(struct slot *s)
{
	char buf[NCPUS * 22 + 2];
	size_t n = 0;

	for (int c = 0; c < NCPUS; c++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%" PRIu64 " ",
				      s->ns[c]);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\n");
	_put(s->fd, buf, n);
}

/* Slots 2j and 2j+1 are the two steps of job j, on the job's CPUs. */
static void _step_start(struct bench *b, int i, const char *name)
{
	struct slot *s = &b->slot[i];
	int j = i / 2, c0 = j * CPUS_PER_JOB;
	char path[320], cpus[32];

	snprintf(s->name, sizeof(s->name), "%s", name);
	s->job = 7000 + (unsigned)j;
	snprintf(s->dir[0], sizeof(s->dir[0]),
		 "%s/cpuacct/slurm/uid_1000/job_%u/step_%s", b->cgroup, s->job,
		 name);
	snprintf(s->dir[1], sizeof(s->dir[1]),
		 "%s/cpuset/slurm/uid_1000/job_%u/step_%s", b->cgroup, s->job,
		 name);
	_mkdirs(s->dir[0]);
	_mkdirs(s->dir[1]);
	snprintf(path, sizeof(path), "%s/cpuset.cpus", s->dir[1]);
	snprintf(cpus, sizeof(cpus), "%d-%d\n", c0, c0 + CPUS_PER_JOB - 1);
	_write_file(path, cpus);
	/* A new cgroup counts from 0; the first ones have run for hours, the
	 * worst case for parsing (12-13 digits). */
	for (int c = 0; c < NCPUS; c++)
		s->ns[c] =
			b->t > T0 ? 0
				  : (c >= c0 && c < c0 + CPUS_PER_JOB
					     ? 3600000000000ULL +
						       (uint64_t)(i * 131 + c) *
							       977
					     : (uint64_t)c * 1000);
	snprintf(path, sizeof(path), "%s/cpuacct.usage_percpu", s->dir[0]);
	s->fd = _open_w(path);
	_write_usage(s);
}

static void _step_end(struct bench *b, int i)
{
	struct slot *s = &b->slot[i];
	char path[320];

	close(s->fd);
	snprintf(path, sizeof(path), "%s/cpuacct.usage_percpu", s->dir[0]);
	unlink(path);
	snprintf(path, sizeof(path), "%s/cpuset.cpus", s->dir[1]);
	unlink(path);
	if (rmdir(s->dir[0]) || rmdir(s->dir[1]))
		_die("rmdir");
}

static void _topology(struct bench *b)
{
	hwloc_topology_t h;

	if (hwloc_topology_init(&h) ||
	    hwloc_topology_set_synthetic(h, "package:2 core:64 pu:1") ||
	    hwloc_topology_load(h) || hwloc_topology_export_xml(h, b->topo, 0))
		_die("hwloc topology");
	hwloc_topology_destroy(h);
}

static void _generate(struct bench *b)
{
	static const char *const zone[NDOM] = { "intel-rapl:0",
						"intel-rapl:0/intel-rapl:0:0",
						"intel-rapl:1",
						"intel-rapl:1/intel-rapl:1:0" };
	static const char *const name[NDOM] = { "package-0\n", "dram\n",
						"package-1\n", "dram\n" };
	char path[320];

	/* sysfs, procfs, cgroupfs and /run are in memory on a real node: a
	 * tmpfs stands in for them (on ext4 the publish files' create and
	 * rename dominate). FP_BENCH_DIR picks another place. */
	snprintf(b->root, sizeof(b->root), "%s/fp-bench-poller-XXXXXX",
		 getenv("FP_BENCH_DIR") ? getenv("FP_BENCH_DIR") : "/dev/shm");
	if (!mkdtemp(b->root))
		_die("mkdtemp");
#define P(field, fmt, ...) \
	snprintf(b->field, sizeof(b->field), fmt, __VA_ARGS__)
	P(powercap, "%s/powercap", b->root);
	P(proc, "%s/proc", b->root);
	P(cgroup, "%s/cgroup", b->root);
	P(topo, "%s/topology.xml", b->root);
	P(sensor, "%s/sensor.json", b->root);
	P(run, "%s/run", b->root);
	P(steps, "%s/steps", b->run);
	P(jobs, "%s/jobs", b->run);
	P(metrics, "%s/footprint.prom", b->root);
	P(trace, "%s/trace", b->root);
#undef P
	b->t = T0;
	_topology(b);
	_mkdirs(b->proc);
	for (int c = 0; c < NCPUS; c++) {
		uint64_t base[10] = { 81234567, 1234, 9876543, 170123456,
				      123456,	0,    345678,  0,
				      0,	0 };

		for (int k = 0; k < 10; k++)
			b->ticks[c][k] = base[k] ? base[k] + (uint64_t)c * 7919
						 : 0;
	}
	snprintf(path, sizeof(path), "%s/stat", b->proc);
	b->stat_fd = _open_w(path);
	_write_stat(b);
	for (int d = 0; d < NDOM; d++) {
		snprintf(path, sizeof(path), "%s/%s", b->powercap, zone[d]);
		_mkdirs(path);
		snprintf(path, sizeof(path), "%s/%s/name", b->powercap,
			 zone[d]);
		_write_file(path, name[d]);
		snprintf(path, sizeof(path), "%s/%s/max_energy_range_uj",
			 b->powercap, zone[d]);
		_write_file(path, d % 2 ? "65532610987\n" : "262143999938\n");
		snprintf(path, sizeof(path), "%s/%s/energy_uj", b->powercap,
			 zone[d]);
		b->rapl_fd[d] = _open_w(path);
		b->uj[d] = 12345678901ULL * (uint64_t)(d + 1) % 60000000000ULL;
	}
	_write_rapl(b);
	b->wall_j = 123456789.0;
	_write_sensor(b);
	snprintf(path, sizeof(path), "%s/unified", b->cgroup);
	_mkdirs(path);
	for (int i = 0; i < NSTEPS; i++)
		_step_start(b, i, i % 2 ? "0" : "batch");
	b->next_step = 1;
}

/* One second of a busy node: every CPU's /proc/stat line and every step's
 * counters on its job's CPUs move, RAPL and the meter count on. */
static void _advance(struct bench *b, unsigned iter)
{
	b->t += 1;
	for (int c = 0; c < NCPUS; c++) {
		b->ticks[c][(c + iter) % 3 ? 0 : 3] += 97;
		b->ticks[c][2] += (uint64_t)(c % 2);
	}
	_write_stat(b);
	for (int i = 0; i < NSTEPS; i++) {
		struct slot *s = &b->slot[i];
		int c0 = (i / 2) * CPUS_PER_JOB;

		s->ns[c0 + (int)(i + iter) % CPUS_PER_JOB] += 487654321;
		s->ns[c0 + (int)(i + iter + 1) % CPUS_PER_JOB] += 123456789;
		_write_usage(s);
	}
	for (int d = 0; d < NDOM; d++)
		b->uj[d] += d % 2 ? 15000000 : 180000000 + iter % 7 * 1000000;
	_write_rapl(b);
	b->wall_j += 450 + iter % 5;
	_write_sensor(b);
}

/* A step ends (its daemon collects and removes its record) and another
 * of the same job starts on the same CPUs. */
static void _churn(struct bench *b, unsigned n)
{
	int i = (int)(n % NSTEPS);
	char id[48], name[16];

	snprintf(id, sizeof(id), "%u.%s", b->slot[i].job, b->slot[i].name);
	_step_end(b, i);
	fp_publish_remove_step(b->steps, id, NULL);
	snprintf(name, sizeof(name), "%u", b->next_step++);
	_step_start(b, i, name);
}

/* Keeps the newest trace file (names sort by time) as logrotate would, so
 * a long run does not fill the disk. */
static void _trim_traces(struct bench *b)
{
	struct dirent **list;
	int n = scandir(b->trace, &list, NULL, alphasort);

	for (int i = 0; i < n; i++) {
		if (i < n - 1 && list[i]->d_name[0] != '.') {
			char path[512];

			snprintf(path, sizeof(path), "%s/%s", b->trace,
				 list[i]->d_name);
			unlink(path);
		}
		free(list[i]);
	}
	if (n >= 0)
		free(list);
}

/* A poller with the metrics (written every metrics_s seconds; < 0: no
 * metrics) and the trace off (NULL) or on in a TraceCompress= form, and a
 * TraceForm= (NULL: the default). */
static fp_poller_t *_poller(struct bench *b, double metrics_s,
			    const char *trace, const char *form)
{
	char every[32];
	fp_poller_config_t cfg;
	fp_poller_t *p;
	fp_error_t err = { 0 };
	const char *kv[][2] = {
		{ "PowercapRoot", b->powercap },
		{ "ProcRoot", b->proc },
		{ "CgroupRoot", b->cgroup },
		{ "Topology", b->topo },
		{ "Sensor", b->sensor },
		{ "RunDir", b->run },
		{ "IdleWatts", "package=40,dram=5" },
		{ metrics_s >= 0 ? "Metrics" : NULL, b->metrics },
		{ metrics_s >= 0 ? "MetricsInterval" : NULL, every },
		{ trace ? "TraceDir" : NULL, b->trace },
		{ trace ? "TraceCompress" : NULL, trace },
		{ trace && form ? "TraceForm" : NULL, form },
	};

	snprintf(every, sizeof(every), "%g", metrics_s);

	fp_poller_config_init(&cfg);
	cfg.node = strdup("bench");
	for (size_t i = 0; i < sizeof(kv) / sizeof(*kv); i++)
		if (kv[i][0] &&
		    fp_poller_config_set(&cfg, kv[i][0], kv[i][1], &err)) {
			fprintf(stderr, "%s\n", err.msg);
			exit(1);
		}
	p = fp_poller_new(&cfg, NULL, NULL, &err);
	fp_poller_config_clear(&cfg);
	if (!p) {
		fprintf(stderr, "fp_poller_new: %s\n", err.msg);
		exit(1);
	}
	return p;
}

/* Polls once at the bench's time; returns the CPU time it took. */
static double _poll(struct bench *b, fp_poller_t *p)
{
	fp_error_t err = { 0 };
	double t0 = _cpu_now();

	if (fp_poller_poll(p, b->t, &err)) {
		fprintf(stderr, "fp_poller_poll: %s\n", err.msg);
		exit(1);
	}
	return _cpu_now() - t0;
}

/* The reads a poll cannot do without, each file opened once (the meter's
 * feed is replaced by rename: opened each time, as the poller must). */
struct bare {
	int fd[1 + NDOM + NSTEPS];
	int n, ino;
	char sensor[128];
	char buf[65536];
};

static void _bare_open(struct bench *b, struct bare *r)
{
	char path[512];

	r->n = 0;
	snprintf(path, sizeof(path), "%s/stat", b->proc);
	r->fd[r->n++] = open(path, O_RDONLY);
	/* the RAPL counters, by the fds the bench writes through */
	for (int d = 0; d < NDOM; d++) {
		char link[64];
		ssize_t k;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", b->rapl_fd[d]);
		k = readlink(link, path, sizeof(path) - 1);
		path[k > 0 ? k : 0] = '\0';
		r->fd[r->n++] = open(path, O_RDONLY);
	}
	for (int i = 0; i < NSTEPS; i++) {
		snprintf(path, sizeof(path), "%s/cpuacct.usage_percpu",
			 b->slot[i].dir[0]);
		r->fd[r->n++] = open(path, O_RDONLY);
	}
	for (int i = 0; i < r->n; i++)
		if (r->fd[i] < 0)
			_die("bare open");
	snprintf(r->sensor, sizeof(r->sensor), "%s", b->sensor);
	r->ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (r->ino < 0)
		_die("inotify_init1");
}

static double _bare_read(struct bare *r)
{
	double t0 = _cpu_now();
	int fd;

	for (int i = 0; i < r->n; i++)
		if (pread(r->fd[i], r->buf, sizeof(r->buf), 0) < 0)
			_die("pread");
	fd = open(r->sensor, O_RDONLY);
	if (fd < 0 || read(fd, r->buf, sizeof(r->buf)) < 0)
		_die("sensor");
	close(fd);
	/* the step cgroups' inotify queue, drained to learn of steps coming
	 * and going (empty between churns) */
	if (read(r->ino, r->buf, sizeof(r->buf)) >= 0 || errno != EAGAIN)
		_die("inotify");
	return _cpu_now() - t0;
}

static void _bare_close(struct bare *r)
{
	for (int i = 0; i < r->n; i++)
		close(r->fd[i]);
	close(r->ino);
}

static int _cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return a < b ? -1 : a > b;
}

static int _rm_one(const char *path, const struct stat *st, int flag,
		   struct FTW *ftw)
{
	return remove(path);
}

int main(void)
{
	static struct bench b;
	unsigned iter = 0, timed = 1000, rss_polls = RSS_POLLS, reads = 200000;
	unsigned compared = 2000; /* polls of each row next to the bare reads */
	double cpu = 0, cpu_first = 0, wall0, per_poll_wall;
	long rss0, rss_warm, rss1, anon0, anon_warm, anon1;
	fp_poller_status_t st;
	fp_poller_t *p;
	char id[48];

	_generate(&b);
	{
		struct statfs fs;

		printf("generated node in %s (%s)\n", b.root,
		       !statfs(b.root, &fs) && fs.f_type == TMPFS_MAGIC
			       ? "tmpfs"
			       : "not tmpfs");
	}

	/* Every job's user and account, as its step daemon records them
	 * (the metrics' labels; a job without them is looked up again at
	 * every write). */
	_mkdirs(b.jobs);
	for (int j = 0; j < NJOBS; j++) {
		char user[32], account[32];

		snprintf(user, sizeof(user), "user%02d", j);
		snprintf(account, sizeof(account), "project%d", j % 5);
		fp_publish_job_labels(b.jobs, 7000 + (unsigned)j, user, account,
				      NULL);
	}

	/* FP_BENCH_PROFILE=N: only the poll next to the bare reads, N
	 * times (for perf) */
	if (getenv("FP_BENCH_PROFILE")) {
		compared = (unsigned)atoi(getenv("FP_BENCH_PROFILE"));
		p = NULL;
		goto bare;
	}

	/* Metrics and trace on, as in production; steps come and go. */
	p = _poller(&b, 15, "none", NULL);
	rss0 = bench_status_kib("VmRSS");
	anon0 = bench_status_kib("RssAnon");
	_poll(&b, p); /* the baseline */
	wall0 = _wall_now();
	for (unsigned n = 1; n <= timed; n++) {
		_advance(&b, iter++);
		cpu_first += _poll(&b, p);
	}
	rss_warm = bench_status_kib("VmRSS");
	anon_warm = bench_status_kib("RssAnon");
	/* Keep the whole bench near a minute on a slow machine. */
	per_poll_wall = (_wall_now() - wall0) / timed;
	if (per_poll_wall * rss_polls > 40) {
		rss_polls = (unsigned)(40 / per_poll_wall) / CHURN_EVERY *
			    CHURN_EVERY;
		if (rss_polls < 2 * timed)
			rss_polls = 2 * timed;
	}
	cpu = cpu_first;
	for (unsigned n = timed + 1; n <= rss_polls; n++) {
		if (n % CHURN_EVERY == 0) {
			_churn(&b, n / CHURN_EVERY);
			_trim_traces(&b);
		}
		_advance(&b, iter++);
		cpu += _poll(&b, p);
	}
	rss1 = bench_status_kib("VmRSS");
	anon1 = bench_status_kib("RssAnon");
	fp_poller_status(p, &st);
	printf("poller: %.1f us CPU per poll (%d CPUs, %d steps, "
	       "metrics+trace on, metrics every 15 s; mean of polls 1-%u)\n",
	       cpu_first / timed * 1e6, NCPUS, NSTEPS, timed);
	printf("poller: %.1f us CPU per poll over all %u polls, a step ending "
	       "and one starting every %d (status: %lu polls; the last that "
	       "wrote the metrics %.1f us before writing them)\n",
	       cpu / rss_polls * 1e6, rss_polls, CHURN_EVERY, st.polls,
	       st.poll_cpu_s * 1e6);
	printf("poller RSS: start %ld KiB, after %u polls %ld KiB "
	       "(%ld KiB after the first %u); of which heap and stacks "
	       "(RssAnon) %ld, %ld, %ld KiB; the rest is code and the step "
	       "board's pages\n",
	       rss0, rss_polls, rss1, rss_warm, timed, anon0, anon1, anon_warm);

bare:
	/* Each combination of trace and metrics next to the bare reads of
	 * its input files, in alternate order (neither gets the other's warm
	 * caches), each with its own poller on the same node. The metrics
	 * are written as by default (every 15 s of 1 s polls), and at every
	 * poll for the cost of one write; the trace plain (the default) and
	 * compressed. FP_BENCH_ONLY=N runs row N. */
	{
		static const struct {
			const char *what;
			double metrics_s;
			const char *trace; /* TraceCompress; NULL: off */
			const char *form;  /* TraceForm; NULL: plain */
		} row[] = {
			{ "trace off,  metrics off", -1, NULL, NULL },
			{ "trace on,   metrics off", -1, "none", NULL },
			{ "trace off,  metrics on", 15, NULL, NULL },
			{ "trace on,   metrics on", 15, "none", NULL },
			{ "trace zstd, metrics off", -1, "zstd", NULL },
			{ "trace zstd, metrics on", 15, "zstd", NULL },
			{ "trace off,  metrics at every poll", 0, NULL, NULL },
			{ "trace compact, metrics off", -1, "none", "compact" },
			{ "trace compact, metrics on", 15, "none", "compact" },
			{ "trace zstd+compact, metrics off", -1, "zstd",
			  "compact" },
			{ "trace zstd+compact, metrics on", 15, "zstd",
			  "compact" },
		};
		static struct bare r;
		double bare_all = 0;
		unsigned nrows = 0;
		int only = getenv("FP_BENCH_ONLY")
				   ? atoi(getenv("FP_BENCH_ONLY"))
				   : -1;

		printf("poll cost, %u polls each, next to the bare reads of its "
		       "%d input files and inotify queue (goals: both off <= "
		       "1.43x, both on <= 2x):\n",
		       compared, 1 + NDOM + NSTEPS + 1);
		for (int k = 0; k < (int)(sizeof(row) / sizeof(*row)); k++) {
			double bare = 0, bp = 0, bb = 0, ratio[64];
			unsigned nblk = 0,
				 per = compared / 20 ? compared / 20 : 1;

			if (only >= 0 && k != only)
				continue;
			/* the last one stays for the step daemon's reads */
			fp_poller_free(p);
			p = _poller(&b, row[k].metrics_s, row[k].trace,
				    row[k].form);
			_advance(&b, iter++);
			_poll(&b, p);
			_bare_open(&b, &r);
			cpu = 0;
			for (unsigned n = 1; n <= compared; n++) {
				double tp, tb;

				if (n % CHURN_EVERY == 0)
					_trim_traces(&b);
				_advance(&b, iter++);
				if (n % 2) {
					tb = _bare_read(&r);
					tp = _poll(&b, p);
				} else {
					tp = _poll(&b, p);
					tb = _bare_read(&r);
				}
				cpu += tp;
				bare += tb;
				bp += tp;
				bb += tb;
				/* the ratio per block of polls too: its median
				 * shrugs off another tenant's burst on a shared
				 * machine */
				if (n % per == 0 && nblk < 64) {
					ratio[nblk++] = bp / bb;
					bp = bb = 0;
				}
			}
			_bare_close(&r);
			qsort(ratio, nblk, sizeof(*ratio), _cmp_double);
			printf("  %-34s %7.1f us CPU per poll, bare reads "
			       "%5.1f us: %5.2fx (median of %u blocks %.2fx)\n",
			       row[k].what, cpu / compared * 1e6,
			       bare / compared * 1e6, cpu / bare, nblk,
			       nblk ? ratio[nblk / 2] : 0);
			bare_all += bare / compared;
			nrows++;
		}
		printf("  %-34s %7.1f us CPU (mean of the rows)\n",
		       "bare reads", nrows ? bare_all / nrows * 1e6 : 0);
	}

	if (getenv("FP_BENCH_PROFILE"))
		goto out;
	/* What each step daemon pays when Slurm asks for its energy. */
	snprintf(id, sizeof(id), "%u.%s", b.slot[1].job, b.slot[1].name);
	{
		fp_step_value_t v;
		fp_error_t err = { 0 };
		double t0 = _cpu_now(), w0 = _wall_now();

		for (unsigned i = 0; i < reads; i++)
			if (fp_publish_read_step(b.steps, id, &v, &err)) {
				fprintf(stderr, "fp_publish_read_step: %s\n",
					err.msg);
				return 1;
			}
		printf("stepd read: %.2f us per read (CPU; %.2f us wall; "
		       "%u reads of %s)\n",
		       (_cpu_now() - t0) / reads * 1e6,
		       (_wall_now() - w0) / reads * 1e6, reads, id);
	}
out:
	fp_poller_free(p);
	nftw(b.root, _rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
