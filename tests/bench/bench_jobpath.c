/* The footprint worker's work per job, run for 10,000 jobs in one process
 * as the worker runs a long queue: the job description read, the footprint
 * computed against hourly series, the summary and record written, the
 * summary signed (ES256). Prints the cost per job and the resident memory
 * at the start and the end (the path must not grow). slurmdbd's query and
 * job modify are left out: they need the cluster (see throughput.sh). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "footprint/carbon.h"
#include "footprint/config.h"
#include "footprint/sign.h"
#include "footprint/summary.h"
#include "bench.h"

#define NJOBS 10000
#define WARM 2000
#define HOURS (24 * 30)
#define T0 1704067200 /* 2024-01-01T00:00:00Z */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void put(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (!f || fputs(text, f) < 0 || fclose(f)) {
		perror(path);
		exit(1);
	}
}

/* A month of hourly intensity and useful-heat fractions. */
static void series(const char *dir)
{
	FILE *fi, *fu;
	char path[512];

	snprintf(path, sizeof(path), "%s/int.csv", dir);
	fi = fopen(path, "w");
	snprintf(path, sizeof(path), "%s/use.csv", dir);
	fu = fopen(path, "w");
	if (!fi || !fu)
		exit(1);
	for (int h = 0; h < HOURS; h++) {
		time_t t = T0 + (time_t)h * 3600;
		struct tm tm;
		char ts[32];

		gmtime_r(&t, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%SZ", &tm);
		fprintf(fi, "%s,%d\n", ts, 30 + (h * 37) % 90);
		fprintf(fu, "%s,%.2f\n", ts, (h % 24) / 24.0);
	}
	fclose(fi);
	fclose(fu);
}

/* Job i: one to four hours on one or two of four nodes, a batch step and
 * a parallel step with measured energy, and an extern step without. */
static int job_json(char *buf, size_t size, unsigned i)
{
	long start = T0 + (long)(i * 7919 % (HOURS - 8)) * 3600 + i % 3600;
	long end = start + 3600 * (1 + i % 4);
	unsigned n1 = 1 + i % 4, n2 = 1 + (i + 1) % 4;

	return snprintf(
		buf, size,
		"{\"job_id\": %u, \"user\": \"user%u\", \"account\": \"p%u\","
		" \"start\": %ld, \"end\": %ld, \"energy_source\": \"measured\","
		" \"nodes\": [{\"name\": \"n%u\", \"cpus\": 32},"
		" {\"name\": \"n%u\", \"cpus\": 16}],"
		" \"steps\": [{\"id\": \"%u.batch\", \"start\": %ld, \"end\": %ld,"
		" \"energy_j\": %u, \"nodes\": [{\"name\": \"n%u\", \"cpus\": 1}]},"
		" {\"id\": \"%u.0\", \"start\": %ld, \"end\": %ld,"
		" \"energy_j\": %u, \"nodes\": [{\"name\": \"n%u\", \"cpus\": 31},"
		" {\"name\": \"n%u\", \"cpus\": 16}]},"
		" {\"id\": \"%u.extern\", \"start\": %ld, \"end\": %ld,"
		" \"energy_j\": null, \"nodes\": [{\"name\": \"n%u\", \"cpus\": 32}]}"
		"]}",
		i, i % 50, i % 7, start, end, n1, n2, i, start, end,
		20000 + i % 1000, n1, i, start + 5, end - 5,
		3600000 + i * 13 % 900000, n1, n2, i, start, end, n1);
}

int main(void)
{
	char dir[] = "/tmp/fp-bench-jobpath-XXXXXX", conf[1024], path[600];
	char buf[4096];
	fp_config_t *cfg;
	fp_key_t *key;
	fp_error_t err = { 0 };
	long rss0 = 0, rss_mid = 0;
	double t0 = 0, bytes = 0;
	int rc = 1;

	if (!mkdtemp(dir))
		return 1;
	series(dir);
	snprintf(
		conf, sizeof(conf),
		"SigningKey=%s/k.key\nSpoolDir=%s/spool\n"
		"Site=home Nodes=n1,n2,n3 Intensity=file:int.csv "
		"HeatRecovery=0.9 DisplacedHeating=gas UsefulHeat=file:use.csv\n"
		"Site=dc Nodes=n4 Intensity=56 PUE=1.35\n"
		"NodeType=h1 Nodes=n1,n2,n3,n4 Embodied=1100 Lifetime=6 "
		"CPUs=32\n"
		"Reference=standard-datacenter PUE=1.5 Intensity=site\n",
		dir, dir);
	put(dir, "footprint.conf", conf);
	snprintf(path, sizeof(path), "%s/footprint.conf", dir);
	cfg = fp_config_load(path, &err);
	if (!cfg || fp_config_load_series(cfg, &err))
		goto fail;
	snprintf(path, sizeof(path), "%s/k", dir);
	if (fp_sign_keygen(path, "ES256", NULL, &err))
		goto fail;
	snprintf(path, sizeof(path), "%s/k.key", dir);
	key = fp_sign_key_load_private(path, &err);
	if (!key)
		goto fail;
	/* the first WARM jobs warm the allocator up; memory is read after */
	for (unsigned i = 0; i < NJOBS + WARM; i++) {
		int len = job_json(buf, sizeof(buf), i + 1);
		fp_job_t *job;
		fp_result_t *res;
		char *summary, *record, *token;

		if (i == WARM) {
			rss0 = bench_status_kib("VmRSS");
			t0 = now();
		}
		if (i == WARM + NJOBS / 2)
			rss_mid = bench_status_kib("VmRSS");
		job = fp_carbon_job_from_json("job", buf, (size_t)len, &err);
		res = job ? fp_carbon_compute(cfg, job,
					      fp_config_hostlist_match_plain,
					      NULL, &err)
			  : NULL;
		summary = res ? fp_summary_dumps(res, &err) : NULL;
		record = res ? fp_summary_record_format(res, &err) : NULL;
		token = summary ? fp_sign(key, summary, &err) : NULL;
		if (!token || !record) {
			fprintf(stderr, "bench_jobpath: job %u: %s\n", i + 1,
				err.msg);
			goto out;
		}
		if (i >= WARM)
			bytes += (double)strlen(token);
		free(token);
		free(record);
		free(summary);
		fp_carbon_result_free(res);
		fp_carbon_job_free(job);
	}
	printf("worker path (job read, footprint, summary, record, ES256 "
	       "signature): %.0f us per job, %.0f-byte tokens; resident memory "
	       "%ld KiB at the start, %ld KiB half-way, %ld KiB after %d "
	       "jobs\n",
	       (now() - t0) / NJOBS * 1e6, bytes / NJOBS, rss0, rss_mid,
	       bench_status_kib("VmRSS"), NJOBS);
	rc = 0;
out:
	fp_sign_key_free(key);
	fp_config_free(cfg);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	if (system(path))
		rc = 1;
	return rc;
fail:
	fprintf(stderr, "bench_jobpath: %s\n", err.msg);
	return 1;
}
