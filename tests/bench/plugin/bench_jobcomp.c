/* Benchmark of jobcomp_p_log_record, the only part of jobcomp/carbon that
 * runs under slurmctld's locks: per-call cost, p50 and p99, in microseconds. */
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "src/common/slurm_xlator.h"
#include "src/slurmctld/slurmctld.h"

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	const char *so = argc > 1 ? argv[1] : "build/jobcomp_carbon.so";
	int n = argc > 2 ? atoi(argv[2]) : 200000;
	int (*log_record)(job_record_t *);
	job_record_t job = { 0 };
	double *us = malloc(sizeof(double) * n), sum = 0;
	void *h = dlopen(so, RTLD_NOW | RTLD_GLOBAL);

	if (!h || !us) {
		fprintf(stderr, "bench_jobcomp: cannot load %s: %s\n", so,
			dlerror());
		return 1;
	}
	log_record = (int (*)(job_record_t *))dlsym(h, "jobcomp_p_log_record");
	if (!log_record) {
		fprintf(stderr, "bench_jobcomp: %s has no jobcomp_p_log_record\n",
			so);
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
