/* Cost of one activity poll of a 128-CPU node with 64 step cgroups (generated
 * /proc/stat and cgroup v1 tree) against bare open-once preads of them. */
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "footprint/activity.h"
#include "footprint/sample.h"

#define NCPUS 128
#define NJOBS 16
#define STEPS_PER_JOB 4 /* batch, extern, 0, 1 */
#define NSTEPS (NJOBS * STEPS_PER_JOB)
#define CPUS_PER_JOB (NCPUS / NJOBS)

static const char *const step_names[STEPS_PER_JOB] = {
	"step_batch",
	"step_extern",
	"step_0",
	"step_1",
};

struct bench {
	char root[64];
	char stat_path[128];
	char cpuacct[128];
	char cpuset[128];
	char usage_path[NSTEPS][280];
	uint64_t usage[NSTEPS][NCPUS];
	uint64_t stat[NCPUS][10];
	int stat_fd;
	int usage_fd[NSTEPS]; /* the bench's own, for rewriting */
};

static double _cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void _die(const char *what)
{
	perror(what);
	exit(1);
}

static bool _isdir(const char *path)
{
	struct stat st;

	return !stat(path, &st) && S_ISDIR(st.st_mode);
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

static void _put(int fd, const char *buf, size_t len)
{
	if (pwrite(fd, buf, len, 0) != (ssize_t)len || ftruncate(fd, len))
		_die("pwrite");
}

static void _write_stat(struct bench *b)
{
	static char buf[65536];
	size_t n = 0;

	n += snprintf(buf + n, sizeof(buf) - n,
		      "cpu  123456789 1234 23456789 3456789012 1234567 0 "
		      "234567 0 0 0\n");
	for (int c = 0; c < NCPUS; c++) {
		n += snprintf(buf + n, sizeof(buf) - n, "cpu%d", c);
		for (int k = 0; k < 10; k++)
			n += snprintf(buf + n, sizeof(buf) - n, " %" PRIu64,
				      b->stat[c][k]);
		n += snprintf(buf + n, sizeof(buf) - n, "\n");
	}
	n += snprintf(buf + n, sizeof(buf) - n, "intr 987654321");
	for (int i = 0; i < 300; i++)
		n += snprintf(buf + n, sizeof(buf) - n, " %d", i * 37 % 100000);
	n += snprintf(buf + n, sizeof(buf) - n,
		      "\nctxt 123456789012\nbtime 1732350000\n"
		      "processes 4567890\nprocs_running 3\nprocs_blocked 0\n"
		      "softirq 1 2 3 4 5 6 7 8 9 10 11\n");
	_put(b->stat_fd, buf, n);
}

static void _write_usage(struct bench *b, int s)
{
	char buf[NCPUS * 22 + 2];
	size_t n = 0;

	for (int c = 0; c < NCPUS; c++)
		n += snprintf(buf + n, sizeof(buf) - n, "%" PRIu64 " ",
			      b->usage[s][c]);
	n += snprintf(buf + n, sizeof(buf) - n, "\n");
	_put(b->usage_fd[s], buf, n);
}

static void _write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	if (!fp || fputs(text, fp) < 0 || fclose(fp))
		_die(path);
}

/* Realistic magnitudes: a month of uptime at 100 ticks/s, steps with hours
 * of CPU time (12-13 digits of ns) on every CPU, the worst case for parsing. */
static void _generate(struct bench *b)
{
	unsigned seed = 1;

	/* an in-memory file system, like procfs and cgroupfs (no atime or
	 * journal writes on a disk file system to blur the figures) */
	snprintf(b->root, sizeof(b->root), "%s/fp-bench-XXXXXX",
		 _isdir("/dev/shm") ? "/dev/shm" : "/tmp");
	if (!mkdtemp(b->root))
		_die("mkdtemp");
	snprintf(b->stat_path, sizeof(b->stat_path), "%s/stat", b->root);
	snprintf(b->cpuacct, sizeof(b->cpuacct), "%s/cpuacct", b->root);
	snprintf(b->cpuset, sizeof(b->cpuset), "%s/cpuset", b->root);
	for (int c = 0; c < NCPUS; c++) {
		uint64_t base[10] = { 81234567, 1234, 9876543, 170123456,
				      123456,	0,    345678,  0,
				      0,	0 };

		for (int k = 0; k < 10; k++)
			b->stat[c][k] = base[k] ? base[k] + (uint64_t)c * 7919
						: 0;
	}
	b->stat_fd = open(b->stat_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (b->stat_fd < 0)
		_die(b->stat_path);
	_write_stat(b);
	for (int j = 0; j < NJOBS; j++) {
		for (int k = 0; k < STEPS_PER_JOB; k++) {
			int s = j * STEPS_PER_JOB + k;
			char dir[96], path[240], cpus[32];

			snprintf(dir, sizeof(dir),
				 "slurm_bench/uid_%d/job_%d/%s", 1000 + j % 4,
				 5000 + j, step_names[k]);
			snprintf(path, sizeof(path), "%s/%s", b->cpuacct, dir);
			_mkdirs(path);
			snprintf(b->usage_path[s], sizeof(b->usage_path[s]),
				 "%s/cpuacct.usage_percpu", path);
			snprintf(path, sizeof(path), "%s/%s", b->cpuset, dir);
			_mkdirs(path);
			snprintf(path, sizeof(path), "%s/%s/cpuset.cpus",
				 b->cpuset, dir);
			snprintf(cpus, sizeof(cpus), "%d-%d\n",
				 j * CPUS_PER_JOB, (j + 1) * CPUS_PER_JOB - 1);
			_write_file(path, cpus);
			for (int c = 0; c < NCPUS; c++) {
				seed = seed * 1103515245 + 12345;
				b->usage[s][c] = 100000000000ULL +
						 (uint64_t)(seed >> 4) * 977;
			}
			b->usage_fd[s] = open(b->usage_path[s],
					      O_WRONLY | O_CREAT | O_TRUNC,
					      0644);
			if (b->usage_fd[s] < 0)
				_die(b->usage_path[s]);
			_write_usage(b, s);
		}
	}
}

/* One poll interval of a busy node: every CPU's line of /proc/stat moves
 * (busy or idle ticks), and each step's counters move on two of its CPUs. */
static void _advance(struct bench *b, int iter)
{
	for (int c = 0; c < NCPUS; c++) {
		b->stat[c][(c + iter) % 3 ? 0 : 3] += 97;
		b->stat[c][2] += c % 2;
	}
	_write_stat(b);
	for (int s = 0; s < NSTEPS; s++) {
		int j = s / STEPS_PER_JOB, c0 = j * CPUS_PER_JOB;

		b->usage[s][c0 + (s + iter) % CPUS_PER_JOB] += 987654321;
		b->usage[s][c0 + (s + iter + 3) % CPUS_PER_JOB] += 123456789;
		_write_usage(b, s);
	}
}

static int _rm_one(const char *path, const struct stat *st, int flag,
		   struct FTW *ftw)
{
	return remove(path);
}

struct bare {
	int fd[NSTEPS + 1];
	char *buf;
};

static void _bare_read(struct bare *r)
{
	for (int i = 0; i <= NSTEPS; i++)
		if (pread(r->fd[i], r->buf, 65536, 0) < 0)
			_die("pread");
}

static void _poll(fp_activity_t *a, const fp_node_desc_t *desc,
		  fp_sample_t *out)
{
	fp_error_t err = { 0 };

	if (fp_activity_read(a, desc, out, &err)) {
		fprintf(stderr, "fp_activity_read: %s\n", err.msg);
		exit(1);
	}
}

/* Mean CPU time of one poll and of one round of bare reads, in us; with
 * change, the files move between polls (not timed). */
static void _measure(struct bench *b, fp_activity_t *a,
		     const fp_node_desc_t *desc, fp_sample_t *out,
		     struct bare *r, int iters, int change, const char *what)
{
	double tp = 0, tb = 0;

	for (int i = 0; i < iters; i++) {
		double t0, t1, t2;

		if (change)
			_advance(b, i);
		/* alternate the order: neither gets the other's warm caches */
		if (i % 2) {
			t0 = _cpu_now();
			_bare_read(r);
			t1 = _cpu_now();
			_poll(a, desc, out);
			t2 = _cpu_now();
			tb += t1 - t0;
			tp += t2 - t1;
		} else {
			t0 = _cpu_now();
			_poll(a, desc, out);
			t1 = _cpu_now();
			_bare_read(r);
			t2 = _cpu_now();
			tp += t1 - t0;
			tb += t2 - t1;
		}
	}
	tp = tp / iters * 1e6;
	tb = tb / iters * 1e6;
	printf("poll activity: %.1f us, bare reads: %.1f us, ratio %.2f (%s)\n",
	       tp, tb, tp / tb, what);
}

int main(void)
{
	static struct bench b;
	struct bare r;
	fp_activity_opts_t o = { 0 };
	fp_node_desc_t *desc;
	fp_sample_t *out;
	fp_activity_t *a;
	fp_error_t err = { 0 };
	char churn[512];

	_generate(&b);
	o.proc_stat = b.stat_path;
	o.cpuacct_root = b.cpuacct;
	o.cpuset_root = b.cpuset;
	o.unified_root = "";
	o.node = "bench";
	o.mode = FP_ACTIVITY_CGROUP;
	o.ncpus = NCPUS;
	a = fp_activity_new(&o, &err);
	desc = fp_sample_node_desc_new();
	if (!a || !desc) {
		fprintf(stderr, "fp_activity_new: %s\n", err.msg);
		return 1;
	}
	desc->cpus = NCPUS;
	out = fp_sample_new(desc);
	r.buf = malloc(65536);
	r.fd[0] = open(b.stat_path, O_RDONLY);
	for (int s = 0; s < NSTEPS; s++)
		r.fd[s + 1] = open(b.usage_path[s], O_RDONLY);
	_poll(a, desc, out);
	if (out->nsteps != NSTEPS) {
		fprintf(stderr, "found %zu steps, made %d\n", out->nsteps,
			NSTEPS);
		return 1;
	}
	printf("%d CPUs, %d step cgroups (usage_percpu %zu bytes, "
	       "/proc/stat %lld bytes), CPU time per poll:\n",
	       NCPUS, NSTEPS, (size_t)lseek(r.fd[1], 0, SEEK_END),
	       (long long)lseek(r.fd[0], 0, SEEK_END));
	_measure(&b, a, desc, out, &r, 5000, 0, "counters unchanged");
	_measure(&b, a, desc, out, &r, 2000, 1,
		 "every CPU line and 2 CPUs per step change between polls");

	/* a step starting or ending at every poll: walk and new-step cost */
	snprintf(churn, sizeof(churn),
		 "%s/slurm_bench/uid_1000/job_5000/step_99", b.cpuacct);
	{
		double tp = 0;
		int iters = 500;

		for (int i = 0; i < iters; i++) {
			double t0;

			if (i % 2)
				rmdir(churn);
			else
				mkdir(churn, 0755);
			t0 = _cpu_now();
			_poll(a, desc, out);
			tp += _cpu_now() - t0;
		}
		printf("poll with a step appearing or vanishing: %.1f us\n",
		       tp / iters * 1e6);
	}
	rmdir(churn);

	fp_activity_free(a);
	fp_sample_free(out);
	fp_sample_node_desc_free(desc);
	for (int i = 0; i <= NSTEPS; i++)
		close(r.fd[i]);
	free(r.buf);
	nftw(b.root, _rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
