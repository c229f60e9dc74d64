/* Replay throughput: an hour of a 2-package, 128-CPU node running 40 steps,
 * at 1 Hz, parsed and attributed, from the plain, compact, zstd and zstd of
 * the compact form. Prints figures; asserts nothing on time. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../unit/physmodel.h"
#include "footprint/engine.h"
#include "footprint/trace.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int generate(const char *path, fp_trace_form_t form, unsigned keyframe)
{
	pm_model_t m;
	const fp_node_desc_t *d;
	fp_trace_writer_t *w;
	fp_sample_t *s;
	fp_error_t err;
	int rc = 0;

	pm_defaults(&m);
	m.cpp = 64;
	m.nsamples = 3601;
	m.no_truth = true;
	m.counter_start = 4000000000000ULL;
	/* 20 jobs of 6 CPUs, each a batch step and one srun step; they start
	 * and end at different times so steps come and go */
	for (int j = 0; j < 20; j++) {
		char id[32];
		int first = 1 + j * 7, last = 3600 - j * 11;

		snprintf(id, sizeof(id), "%d.batch", 5000 + j);
		pm_add_step(&m, id, (uint64_t)(5000 + j), j * 6, 6, first, last,
			    0.2);
		snprintf(id, sizeof(id), "%d.0", 5000 + j);
		pm_add_step(&m, id, (uint64_t)(5000 + j), j * 6, 6, first + 5,
			    last - 5, 0.7);
	}
	d = pm_init(&m);
	s = fp_sample_new(d);
	w = fp_trace_writer_open_compact(path, d, form, keyframe, &err);
	if (!w) {
		fprintf(stderr, "bench_replay: %s\n", err.msg);
		return -1;
	}
	for (int i = 0; i < m.nsamples && !rc; i++) {
		pm_sample(&m, s);
		rc = fp_trace_writer_write(w, s, &err) ||
		     fp_trace_writer_flush(w, &err);
	}
	if (rc || fp_trace_writer_close(w, &err)) {
		fprintf(stderr, "bench_replay: %s\n", err.msg);
		rc = -1;
	}
	fp_sample_free(s);
	pm_free(&m);
	return rc;
}

/* Returns seconds, or < 0 on failure. */
static double replay(const char *path, uint64_t *bytes, size_t *samples)
{
	double t0 = now();
	fp_error_t err;
	fp_trace_reader_t *r = fp_trace_reader_open(path, &err);
	fp_engine_t *e;
	const fp_sample_t *s;
	int rc;

	if (!r) {
		fprintf(stderr, "bench_replay: %s\n", err.msg);
		return -1;
	}
	e = fp_engine_new(fp_trace_reader_desc(r), NULL, &err);
	*samples = 0;
	while ((rc = fp_trace_reader_next(r, &s, &err)) > 0) {
		if (fp_engine_push(e, s, &err)) {
			rc = -1;
			break;
		}
		(*samples)++;
	}
	if (!rc && fp_engine_check_conservation(e, &err))
		rc = -1;
	*bytes = fp_trace_reader_bytes(r);
	fp_trace_reader_free(r);
	fp_engine_free(e);
	if (rc < 0) {
		fprintf(stderr, "bench_replay: %s\n", err.msg);
		return -1;
	}
	return now() - t0;
}

/* Best of three (the first run also measures the page cache); prints the
 * form's line. */
static int bench(const char *path, const char *form)
{
	double best = -1;
	uint64_t bytes = 0;
	size_t samples = 0;
	struct stat st;

	if (stat(path, &st))
		return -1;
	for (int k = 0; k < 3; k++) {
		double s = replay(path, &bytes, &samples);

		if (s < 0)
			return -1;
		if (best < 0 || s < best)
			best = s;
	}
	printf("replay %-12s: %.1f MB/s of lines, %.0f samples/s, %.1f us per "
	       "sample (file %.2f MB)\n",
	       form, (double)bytes / 1e6 / best, (double)samples / best,
	       best / (double)samples * 1e6, (double)st.st_size / 1e6);
	return 0;
}

int main(void)
{
	static const struct {
		const char *name;
		fp_trace_form_t form;
		unsigned keyframe;
	} forms[] = {
		{ "plain", FP_TRACE_PLAIN, 0 },
		{ "compact", FP_TRACE_PLAIN, FP_TRACE_KEYFRAME },
		{ "zstd", FP_TRACE_ZSTD, 0 },
		{ "zstd+compact", FP_TRACE_ZSTD, FP_TRACE_KEYFRAME },
	};
	int rc = 0;

	printf("trace: 2 packages, 128 CPUs, 40 steps, 3601 samples at 1 Hz\n");
	for (size_t f = 0; f < sizeof(forms) / sizeof(*forms) && !rc; f++) {
		char path[] = "/tmp/bench_replay_XXXXXX";
		int fd = mkstemp(path);

		if (fd < 0) {
			perror("bench_replay: mkstemp");
			return 1;
		}
		close(fd);
		rc = generate(path, forms[f].form, forms[f].keyframe) ||
		     bench(path, forms[f].name);
		unlink(path);
	}
	return rc ? 1 : 0;
}
