/* ThreadSanitizer harness for jobcomp/carbon's queue thread: the real plugin,
 * loaded as slurmctld loads it, reconfigured from one thread while jobs end.
 *
 * slurmctld calls jobcomp_p_set_location at every reconfigure and SIGUSR2
 * from its own threads while the plugin's queue thread journals jobs and
 * runs the worker; log_record arrives from yet other threads. Here one
 * thread flips JobCompLoc between two footprint.conf files (two spools)
 * as fast as it can while the main thread logs bursts of jobs: built with
 * -fsanitize=thread, any unsynchronised access is a report, and every job
 * must be journaled exactly once in one of the two spools. The plugin path
 * comes from FP_TSAN_JOBCOMP (make tsan sets it). */
#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "src/common/slurm_xlator.h"
#include "src/slurmctld/slurmctld.h"

#define NJOBS 3000
#define MIN_RECONF 100

static int (*set_location)(char *);
static int (*log_record)(job_record_t *);
static int (*plugin_fini)(void);
static char dir[] = "/tmp/fp-tsan-jobcomp-XXXXXX";
static char conf_file[2][600];
static int jobs_logged, reconf_count;

static void put_file(const char *path, const char *text, mode_t mode)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	assert_true(fputs(text, f) >= 0);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static int count_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Until every job is logged, and at least MIN_RECONF times: the queue
 * thread takes some of the new settings and misses others (only the last
 * counts), both while it journals. */
static void *reconfigure(void *arg)
{
	int i = 0;

	while (!__atomic_load_n(&jobs_logged, __ATOMIC_ACQUIRE) ||
	       i < MIN_RECONF) {
		set_location(conf_file[i++ % 2]);
		usleep(1000);
	}
	reconf_count = i;
	return NULL;
}

static int setup(void **state)
{
	const char *so = getenv("FP_TSAN_JOBCOMP");
	char path[700], cmd[900], text[700];
	void *h;

	if (!so || !mkdtemp(dir))
		return -1;
	/* beside a stand-in worker that exits at once: the real one needs
	 * slurmdbd, and its queue entries stay for the count */
	snprintf(cmd, sizeof(cmd), "cp %s %s/jobcomp_carbon.so", so, dir);
	if (system(cmd))
		return -1;
	snprintf(path, sizeof(path), "%s/footprint-worker", dir);
	put_file(path, "#!/bin/sh\necho 'info: stand-in worker' >&2\nexit 0\n",
		 0755);
	for (int i = 0; i < 2; i++) {
		snprintf(text, sizeof(text),
			 "SigningKey=%s/footprint.key\n"
			 "SpoolDir=%s/spool%d\nRetryInterval=1\n"
			 "Site=here Nodes=n[1-4] Intensity=56\n",
			 dir, dir, i);
		snprintf(conf_file[i], sizeof(conf_file[i]),
			 "%s/footprint%d.conf", dir, i);
		put_file(conf_file[i], text, 0644);
	}
	snprintf(path, sizeof(path), "%s/jobcomp_carbon.so", dir);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		fprintf(stderr, "tsan_jobcomp: %s\n", dlerror());
		return -1;
	}
	set_location = (int (*)(char *))dlsym(h, "jobcomp_p_set_location");
	log_record = (int (*)(job_record_t *))dlsym(h, "jobcomp_p_log_record");
	plugin_fini = (int (*)(void))dlsym(h, "fini");
	return set_location && log_record && plugin_fini ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[200];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) ? -1 : 0;
}

static void test_reconfigure_during_job_bursts_loses_no_job(void **state)
{
	job_record_t job = { 0 };
	pthread_t t;
	char q0[700], q1[700];
	double t0;
	int got = 0;

	set_location(conf_file[0]);
	assert_int_equal(pthread_create(&t, NULL, reconfigure, NULL), 0);
	for (int i = 0; i < NJOBS; i++) {
		job.job_id = (uint32_t)i + 1;
		job.end_time = time(NULL);
		log_record(&job);
		if (i % 50 == 49)
			usleep(20000);
	}
	__atomic_store_n(&jobs_logged, 1, __ATOMIC_RELEASE);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(reconf_count >= MIN_RECONF);
	snprintf(q0, sizeof(q0), "%s/spool0/queue", dir);
	snprintf(q1, sizeof(q1), "%s/spool1/queue", dir);
	t0 = mono();
	while ((got = count_entries(q0) + count_entries(q1)) < NJOBS &&
	       mono() - t0 < 60)
		usleep(20000);
	/* fini journals what the thread had not taken yet */
	plugin_fini();
	got = count_entries(q0) + count_entries(q1);
	assert_int_equal(got, NJOBS);
}

static void test_fini_right_after_reconfigure_joins_cleanly(void **state)
{
	job_record_t job = { .job_id = NJOBS + 1 };

	set_location(conf_file[1]);
	log_record(&job);
	set_location(conf_file[0]);
	assert_int_equal(plugin_fini(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_reconfigure_during_job_bursts_loses_no_job),
		cmocka_unit_test(
			test_fini_right_after_reconfigure_joins_cleanly),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
