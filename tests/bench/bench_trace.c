/* The trace in its four forms on the benchmark node (bench_poller's: 128
 * CPUs, 64 steps, 1 Hz, the same counters): bytes per second, the writer's
 * cost per poll and replay per sample, plain, compact, zstd and zstd of the
 * compact side by side. Fails only when a form replays to other figures. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "footprint/engine.h"
#include "bench.h"
#include "footprint/trace.h"

#define NCPUS 128
#define NPKG 2
#define NJOBS 32
#define NSTEPS 64
#define CPUS_PER_JOB (NCPUS / NJOBS)
#define NDOM 4
#define CHURN_EVERY 100
#define NSAMPLES 3600
#define T0 1700006400.0

static double _cpu_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static fp_node_desc_t *_desc(void)
{
	static const char *const zone[NDOM] = { "package-0", "dram-0",
						"package-1", "dram-1" };
	fp_node_desc_t *d = fp_sample_node_desc_new();

	d->node = strdup("bench");
	d->cpus = NCPUS;
	d->npackages = NPKG;
	d->packages = calloc(NPKG, sizeof(*d->packages));
	for (int p = 0; p < NPKG; p++) {
		d->packages[p].id = p;
		d->packages[p].ncpus = NCPUS / NPKG;
		d->packages[p].cpus = calloc(NCPUS / NPKG, sizeof(int));
		for (int c = 0; c < NCPUS / NPKG; c++)
			d->packages[p].cpus[c] = p * (NCPUS / NPKG) + c;
	}
	d->ndomains = NDOM;
	d->domains = calloc(NDOM, sizeof(*d->domains));
	for (int k = 0; k < NDOM; k++)
		d->domains[k] = (fp_domain_t){
			strdup(zone[k]),
			k % 2 ? FP_DOMAIN_DRAM : FP_DOMAIN_PACKAGE, k / 2,
			k % 2 ? 65532610987ULL : 262143999938ULL,
			k % 2 ? 5.0 : 40.0
		};
	return d;
}

/* The steps of slot i: bench_poller's counters (hours old at the start,
 * 12-13 digits; a step that starts later counts from 0). */
struct node {
	fp_node_desc_t *d;
	fp_sample_t *s;
	unsigned next_step;
	char name[NSTEPS][16];
};

static void _start(struct node *n, int i, const char *name, bool old)
{
	int j = i / 2, c0 = j * CPUS_PER_JOB, alloc[CPUS_PER_JOB];
	fp_step_sample_t *st = &n->s->steps[i];
	char id[48];

	snprintf(n->name[i], sizeof(n->name[i]), "%s", name);
	snprintf(id, sizeof(id), "%u.%s", 7000 + (unsigned)j, name);
	for (int k = 0; k < CPUS_PER_JOB; k++)
		alloc[k] = c0 + k;
	free(st->id);
	st->id = strdup(id);
	st->job = 7000 + (unsigned)j;
	memcpy(st->alloc, alloc, sizeof(alloc));
	st->nalloc = CPUS_PER_JOB;
	for (int c = 0; c < NCPUS; c++)
		st->cpu_ns[c] =
			!old ? 0
			     : (c >= c0 && c < c0 + CPUS_PER_JOB
					? 3600000000000ULL +
						  (uint64_t)(i * 131 + c) * 977
					: (uint64_t)c * 1000);
}

static void _node_init(struct node *n)
{
	int alloc[CPUS_PER_JOB] = { 0 };

	memset(n, 0, sizeof(*n));
	n->d = _desc();
	n->s = fp_sample_new(n->d);
	for (int i = 0; i < NSTEPS; i++) {
		fp_sample_add_step(n->s, n->d, "x", 0, alloc, CPUS_PER_JOB);
		_start(n, i, i % 2 ? "0" : "batch", true);
	}
	for (int c = 0; c < NCPUS; c++)
		n->s->cpu_busy_ns[c] = (81234567ULL + 1234 + 9876543 +
					(uint64_t)c * 7919 * 3) *
				       10000000ULL;
	for (int k = 0; k < NDOM; k++) {
		n->s->energy_uj[k] =
			12345678901ULL * (uint64_t)(k + 1) % 60000000000ULL;
		n->s->energy_valid[k] = true;
	}
	n->s->wall_j = 123456789.0;
	n->s->wall_valid = true;
	n->s->t = T0;
	n->next_step = 1;
}

/* One second, as bench_poller's _advance and _churn move the files. */
static void _advance(struct node *n, unsigned iter)
{
	fp_sample_t *s = n->s;

	s->t += 1;
	for (int c = 0; c < NCPUS; c++)
		s->cpu_busy_ns[c] += ((c + iter) % 3 ? 970000000ULL : 0) +
				     (uint64_t)(c % 2) * 10000000ULL;
	for (int i = 0; i < NSTEPS; i++) {
		uint64_t *ns = s->steps[i].cpu_ns;
		int c0 = (i / 2) * CPUS_PER_JOB;

		ns[c0 + (int)(i + iter) % CPUS_PER_JOB] += 487654321;
		ns[c0 + (int)(i + iter + 1) % CPUS_PER_JOB] += 123456789;
	}
	for (int k = 0; k < NDOM; k++) {
		uint64_t max = n->d->domains[k].max_energy_range_uj;

		s->energy_uj[k] += k % 2 ? 15000000
					 : 180000000 + iter % 7 * 1000000;
		if (s->energy_uj[k] > max)
			s->energy_uj[k] -= max + 1;
	}
	s->wall_j += 450 + iter % 5;
	if (iter && iter % CHURN_EVERY == 0) {
		char name[16];

		snprintf(name, sizeof(name), "%u", n->next_step++);
		_start(n, (int)(iter / CHURN_EVERY % NSTEPS), name, false);
	}
}

static void _node_free(struct node *n)
{
	fp_sample_free(n->s);
	fp_sample_node_desc_free(n->d);
}

/* Writes an hour as the poller does (write, then flush, every poll);
 * returns the file's size and the mean CPU seconds per poll in *cost. */
static long _write(const char *path, fp_trace_form_t form, unsigned keyframe,
		   double *cost)
{
	struct node n;
	fp_error_t err;
	fp_trace_writer_t *w;
	struct stat st;
	double spent = 0;
	int rc = 0;

	_node_init(&n);
	w = fp_trace_writer_open_compact(path, n.d, form, keyframe, &err);
	if (!w) {
		fprintf(stderr, "bench_trace: %s\n", err.msg);
		_node_free(&n);
		return -1;
	}
	for (unsigned i = 0; i < NSAMPLES && !rc; i++) {
		double t0;

		_advance(&n, i);
		t0 = _cpu_now();
		rc = fp_trace_writer_write(w, n.s, &err) ||
		     fp_trace_writer_flush(w, &err);
		spent += _cpu_now() - t0;
	}
	if (fp_trace_writer_close(w, rc ? NULL : &err) || rc) {
		fprintf(stderr, "bench_trace: %s\n", err.msg);
		rc = -1;
	}
	_node_free(&n);
	*cost = spent / NSAMPLES;
	return rc || stat(path, &st) ? -1 : (long)st.st_size;
}

/* Best of three replays (read and attribute); CPU seconds per sample, or
 * < 0 on failure. Sets *energy to the node's energy for the comparison. */
static double _replay(const char *path, double *energy)
{
	double best = -1;

	for (int k = 0; k < 3; k++) {
		fp_error_t err;
		fp_trace_reader_t *r = fp_trace_reader_open(path, &err);
		fp_engine_t *e;
		const fp_sample_t *s;
		fp_engine_node_t node;
		size_t samples = 0;
		double t0 = _cpu_now(), spent;
		int rc;

		if (!r) {
			fprintf(stderr, "bench_trace: %s\n", err.msg);
			return -1;
		}
		e = fp_engine_new(fp_trace_reader_desc(r), NULL, &err);
		while ((rc = fp_trace_reader_next(r, &s, &err)) > 0) {
			if (fp_engine_push(e, s, &err)) {
				rc = -1;
				break;
			}
			samples++;
		}
		spent = (_cpu_now() - t0) / (double)(samples ? samples : 1);
		fp_engine_node(e, &node);
		*energy = node.energy_j;
		fp_trace_reader_free(r);
		fp_engine_free(e);
		if (rc < 0) {
			fprintf(stderr, "bench_trace: %s\n", err.msg);
			return -1;
		}
		if (best < 0 || spent < best)
			best = spent;
	}
	return best;
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
	enum { NF = sizeof(forms) / sizeof(forms[0]) };
	char path[NF][64];
	double w[NF], r[NF], e[NF];
	long b[NF];
	int rc = 0;

	for (int f = 0; f < NF; f++) {
		int fd;

		snprintf(path[f], sizeof(path[f]), "/tmp/bench_trace_XXXXXX");
		fd = mkstemp(path[f]);
		if (fd < 0) {
			perror("bench_trace: mkstemp");
			return 1;
		}
		close(fd);
		b[f] = _write(path[f], forms[f].form, forms[f].keyframe, &w[f]);
		r[f] = b[f] < 0 ? -1 : _replay(path[f], &e[f]);
		unlink(path[f]);
		if (b[f] < 0 || r[f] < 0)
			return 1;
	}
	printf("trace on the benchmark node (128 CPUs, 64 steps, 1 Hz, %d "
	       "samples; zstd level %d, a flush per poll; compact: a "
	       "keyframe every %d):\n",
	       NSAMPLES, FP_TRACE_ZSTD_LEVEL, FP_TRACE_KEYFRAME);
	printf("  %-22s", "");
	for (int f = 0; f < NF; f++)
		printf(" | %14s", forms[f].name);
	printf("\n  %-22s", "bytes per second, kB/s");
	for (int f = 0; f < NF; f++)
		printf(" | %14.2f", (double)b[f] / NSAMPLES / 1e3);
	printf("\n  %-22s", "of plain's (goal 1/20)");
	for (int f = 0; f < NF; f++) {
		char q[32];

		snprintf(q, sizeof(q), "1/%.1f", (double)b[0] / (double)b[f]);
		printf(" | %14s", q);
	}
	printf("\n  %-22s", "writer per poll, us");
	for (int f = 0; f < NF; f++)
		printf(" | %14.1f", w[f] * 1e6);
	printf("\n  %-22s", "replay per sample, us");
	for (int f = 0; f < NF; f++)
		printf(" | %14.1f", r[f] * 1e6);
	printf("\n  replayed node energy: %.6f J", e[0]);
	for (int f = 1; f < NF; f++) {
		printf(", %s %s", forms[f].name,
		       e[f] == e[0] ? "identical" : "DIFFERENT");
		rc |= e[f] != e[0];
	}
	printf("\n");
	return rc;
}
