/* Benchmark of jobcomp/carbon's controller side: jobcomp_p_log_record, the
 * only part that runs under slurmctld's locks (per-call cost, p50 and p99,
 * in microseconds), then the plugin's whole in-controller path, its queue
 * thread journaling 10,000 jobs, with the resident memory of the process
 * hosting it at the start and the end. */
#include <dirent.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "src/common/slurm_xlator.h"
#include "src/slurmctld/slurmctld.h"
#include "../bench.h"

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Anonymous resident memory (heap, stacks): what a leak grows; the code
 * pages of libslurm that slurmctld's paths fault in are left out. */
static long anon_kib(void)
{
	return bench_status_kib("RssAnon");
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void put_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f) || chmod(path, mode)) {
		perror(path);
		exit(1);
	}
}

/* Latency of log_record on a plugin that was never set up (no thread):
 * only the copy into memory is timed. */
static int latency(const char *so, int n)
{
	int (*log_record)(job_record_t *);
	job_record_t job = { 0 };
	double *us = malloc(sizeof(double) * n), sum = 0;
	void *h = dlopen(so, RTLD_NOW | RTLD_LOCAL);

	if (!h || !us) {
		fprintf(stderr, "bench_jobcomp: cannot load %s: %s\n", so,
			dlerror());
		return 1;
	}
	log_record = (int (*)(job_record_t *))dlsym(h, "jobcomp_p_log_record");
	if (!log_record) {
		fprintf(stderr,
			"bench_jobcomp: %s has no jobcomp_p_log_record\n", so);
		return 1;
	}
	for (int i = 0; i < n; i++) {
		struct timespec a, b;

		job.job_id = (uint32_t)i + 1;
		job.end_time = time(NULL);
		clock_gettime(CLOCK_MONOTONIC, &a);
		log_record(&job);
		clock_gettime(CLOCK_MONOTONIC, &b);
		us[i] = (double)(b.tv_sec - a.tv_sec) * 1e6 +
			(double)(b.tv_nsec - a.tv_nsec) / 1e3;
		sum += us[i];
	}
	qsort(us, n, sizeof(double), cmp);
	printf("jobcomp_p_log_record: p50 %.3f us, p99 %.3f us, mean %.3f us, "
	       "max %.1f us (%d calls, no I/O on this path)\n",
	       us[n / 2], us[(int)(n * 0.99)], sum / n, us[n - 1], n);
	free(us);
	return 0;
}

/*
 * The in-controller path as slurmctld runs it: set_location starts the
 * queue thread, jobs end in bursts, the thread journals them and starts
 * the worker. The plugin is a copy beside a stand-in worker that exits at
 * once (the real one needs slurmdbd; its own cost is bench_jobpath's), so
 * only the controller's memory is measured.
 */
static int memory(const char *so, int njobs)
{
	char dir[] = "/tmp/fp-bench-jobcomp-XXXXXX", path[512], conf[1024];
	char cmd[1200], queue[512];
	int (*set_location)(char *), (*log_record)(job_record_t *);
	int (*fini)(void);
	job_record_t job = { 0 };
	double t0, t1;
	void *h;
	int got;

	if (!mkdtemp(dir))
		return 1;
	snprintf(cmd, sizeof(cmd), "cp %s %s/jobcomp_carbon.so", so, dir);
	if (system(cmd))
		return 1;
	snprintf(path, sizeof(path), "%s/footprint-worker", dir);
	put_file(path, "#!/bin/sh\nexit 0\n", 0755);
	snprintf(conf, sizeof(conf),
		 "SigningKey=%s/footprint.key\nSpoolDir=%s/spool\n"
		 "Site=here Nodes=n[1-4] Intensity=56\n",
		 dir, dir);
	snprintf(path, sizeof(path), "%s/footprint.conf", dir);
	put_file(path, conf, 0644);
	snprintf(queue, sizeof(queue), "%s/spool/queue", dir);

	snprintf(cmd, sizeof(cmd), "%s/jobcomp_carbon.so", dir);
	h = dlopen(cmd, RTLD_NOW | RTLD_LOCAL);
	set_location = h ? (int (*)(char *))dlsym(h, "jobcomp_p_set_location")
			 : NULL;
	log_record =
		h ? (int (*)(job_record_t *))dlsym(h, "jobcomp_p_log_record")
		  : NULL;
	fini = h ? (int (*)(void))dlsym(h, "fini") : NULL;
	if (!set_location || !log_record || !fini) {
		fprintf(stderr, "bench_jobcomp: cannot load %s\n", cmd);
		return 1;
	}
	set_location(path);
	/* a first burst settles the thread, its buffers and the worker */
	for (int i = 0; i < 100; i++) {
		/* above the rounds' ids (1 to 2 x njobs): a million-job round
		 * met job 1000000 here, already journaled, and counted one
		 * job short */
		job.job_id = 4000000000u + (uint32_t)i;
		job.end_time = time(NULL);
		log_record(&job);
	}
	while (count_entries(queue) < 100)
		usleep(10000);
	for (int round = 0; round < 2; round++) {
		long rss0 = anon_kib(), rss[4] = { 0 }, rss1;
		uint32_t base = (uint32_t)round * (uint32_t)njobs;
		int before = count_entries(queue);

		t0 = mono();
		/* bursts of 100 jobs every 10 ms: 10,000 jobs a second */
		for (int i = 0; i < njobs; i++) {
			job.job_id = base + (uint32_t)i + 1;
			job.end_time = time(NULL);
			log_record(&job);
			if (i % 100 == 99)
				usleep(10000);
			if (i % (njobs / 4) == njobs / 4 - 1)
				rss[i / (njobs / 4)] = anon_kib();
		}
		/* the bursts take njobs / 10,000 s; the journal may lag */
		while ((got = count_entries(queue) - before) < njobs &&
		       mono() - t0 < 120 + njobs / 5000.0)
			usleep(10000);
		t1 = mono();
		rss1 = anon_kib();
		printf("jobcomp path in the controller, %s %d jobs: journaled "
		       "in %.2f s; anonymous resident memory %ld KiB at the "
		       "start, %ld / %ld / %ld / %ld KiB after each quarter, "
		       "%ld KiB at the end\n",
		       round ? "next" : "first", got, t1 - t0, rss0, rss[0],
		       rss[1], rss[2], rss[3], rss1);
		if (got < njobs) {
			fprintf(stderr,
				"bench_jobcomp: only %d of %d jobs "
				"journaled\n",
				got, njobs);
			return 1;
		}
	}
	fini();
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? 1 : 0;
}

int main(int argc, char **argv)
{
	const char *so = argc > 1 ? argv[1] : "build/jobcomp_carbon.so";
	int n = argc > 2 ? atoi(argv[2]) : 200000;
	/* 10,000 for make bench; 1,000,000 for the plugin's memory at a
	 * million jobs a day (docs/performance.md, issue 19), 100 s of it */
	int m = argc > 3 ? atoi(argv[3]) : 10000;

	if (n < 1 || m < 4) {
		fprintf(stderr, "usage: bench_jobcomp [PLUGIN [LATENCY_JOBS "
				"[MEMORY_JOBS >= 4]]]\n");
		return 2;
	}
	return latency(so, n) || memory(so, m);
}
