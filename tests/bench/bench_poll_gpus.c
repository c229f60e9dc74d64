/* What 8 GPUs add to a poll of a 128-CPU node with 64 steps: the GPU reader
 * on a generated hwmon tree against bare open-once preads of the same
 * counters, and the attribution with GPUs held by the steps against the
 * same node without GPUs. */
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "footprint/engine.h"
#include "footprint/gpu.h"
#include "footprint/sample.h"

#define NCPUS 128
#define NPKG 2
#define NGPUS 8
#define NJOBS 32
#define NSTEPS 64 /* two per job, both on the job's GPU */
#define CPUS_PER_JOB (NCPUS / NJOBS)
#define ITERS 2000

static char root[64];
static int gpu_fd[NGPUS]; /* the bench's own, for rewriting */
static uint64_t gpu_uj[NGPUS];

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

static void _write_file(const char *path, const char *text)
{
	FILE *fp = fopen(path, "w");

	if (!fp || fputs(text, fp) < 0 || fclose(fp))
		_die(path);
}

static void _put(int fd, uint64_t v)
{
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%" PRIu64 "\n", v);

	if (pwrite(fd, buf, (size_t)n, 0) != n || ftruncate(fd, n))
		_die("pwrite");
}

/* fp-simnode's layout: hwmonK/{name, energy1_input, device -> pci/ADDR}
 * (amdgpu MI210 and Intel i915 in turn), in memory like sysfs. */
static void _generate(void)
{
	char path[256], pci[256];

	snprintf(root, sizeof(root), "%s/fp-bench-gpu-XXXXXX",
		 access("/dev/shm", W_OK) ? "/tmp" : "/dev/shm");
	if (!mkdtemp(root))
		_die("mkdtemp");
	snprintf(path, sizeof(path), "%s/pci", root);
	mkdir(path, 0755);
	for (int k = 0; k < NGPUS; k++) {
		snprintf(pci, sizeof(pci), "%s/pci/0000:%02x:00.0", root,
			 k + 1);
		mkdir(pci, 0755);
		snprintf(path, sizeof(path), "%s/device", pci);
		_write_file(path, k % 2 ? "0x56a0\n" : "0x740f\n");
		snprintf(path, sizeof(path), "%s/hwmon%d", root, k);
		mkdir(path, 0755);
		snprintf(path, sizeof(path), "%s/hwmon%d/name", root, k);
		_write_file(path, k % 2 ? "i915\n" : "amdgpu\n");
		snprintf(path, sizeof(path), "%s/hwmon%d/device", root, k);
		if (symlink(pci, path))
			_die(path);
		snprintf(path, sizeof(path), "%s/hwmon%d/energy1_input", root,
			 k);
		gpu_fd[k] = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (gpu_fd[k] < 0)
			_die(path);
		gpu_uj[k] = 123456789012ULL + (uint64_t)k * 1000003;
		_put(gpu_fd[k], gpu_uj[k]);
	}
}

/* One second of a busy node: every GPU's counter moves by ~250 J. */
static void _advance(void)
{
	for (int k = 0; k < NGPUS; k++) {
		gpu_uj[k] += 250000000ULL + (uint64_t)k * 977;
		_put(gpu_fd[k], gpu_uj[k]);
	}
}

static int _rm(const char *p, const struct stat *s, int f, struct FTW *w)
{
	(void)s;
	(void)f;
	(void)w;
	return remove(p);
}

/* The bare cost: open once, pread and parse each counter. */
static double _bare_reads(void)
{
	int fd[NGPUS];
	char path[256], buf[32];
	uint64_t sum = 0;
	double t0, cpu = 0;

	for (int k = 0; k < NGPUS; k++) {
		snprintf(path, sizeof(path), "%s/hwmon%d/energy1_input", root,
			 k);
		fd[k] = open(path, O_RDONLY);
		if (fd[k] < 0)
			_die(path);
	}
	for (int i = 0; i < ITERS; i++) {
		_advance();
		t0 = _cpu_now();
		for (int k = 0; k < NGPUS; k++) {
			ssize_t n = pread(fd[k], buf, sizeof(buf) - 1, 0);

			if (n <= 0)
				_die("pread");
			buf[n] = '\0';
			sum += strtoull(buf, NULL, 10);
		}
		cpu += _cpu_now() - t0;
	}
	for (int k = 0; k < NGPUS; k++)
		close(fd[k]);
	if (!sum)
		fprintf(stderr, "bench_poll_gpus: no energy read\n");
	return cpu / ITERS;
}

static double _reader(void)
{
	fp_gpu_opts_t o = { .hwmon_root = root,
			    .nvml_lib = "",
			    .amdsmi_lib = "" };
	fp_gpu_reading_t r[NGPUS];
	fp_error_t err;
	fp_gpu_t *g = fp_gpu_open(&o, &err);
	double t0, cpu = 0;

	if (!g || fp_gpu_ndevices(g) != NGPUS) {
		fprintf(stderr, "bench_poll_gpus: %s\n",
			g ? "not 8 GPUs" : err.msg);
		exit(1);
	}
	for (int i = 0; i < ITERS; i++) {
		_advance();
		t0 = _cpu_now();
		if (fp_gpu_read(g, i + 1.0, r, NULL) != NGPUS) {
			fprintf(stderr, "bench_poll_gpus: a GPU read failed\n");
			exit(1);
		}
		cpu += _cpu_now() - t0;
	}
	fp_gpu_close(g);
	return cpu / ITERS;
}

static fp_node_desc_t *_desc(size_t ngpus)
{
	fp_node_desc_t *d = fp_sample_node_desc_new();
	char name[32];

	if (!d)
		_die("desc");
	d->node = strdup("bench");
	d->cpus = NCPUS;
	d->npackages = NPKG;
	d->packages = calloc(NPKG, sizeof(*d->packages));
	d->ndomains = 2 * NPKG;
	d->domains = calloc(d->ndomains, sizeof(*d->domains));
	d->ngpus = ngpus;
	d->gpus = ngpus ? calloc(ngpus, sizeof(*d->gpus)) : NULL;
	if (!d->packages || !d->domains || (ngpus && !d->gpus))
		_die("desc");
	for (int p = 0; p < NPKG; p++) {
		d->packages[p].id = p;
		d->packages[p].ncpus = NCPUS / NPKG;
		d->packages[p].cpus = calloc(NCPUS / NPKG, sizeof(int));
		for (int c = 0; c < NCPUS / NPKG; c++)
			d->packages[p].cpus[c] = p * (NCPUS / NPKG) + c;
		for (int k = 0; k < 2; k++) {
			fp_domain_t *dom = &d->domains[2 * p + k];

			snprintf(name, sizeof(name), "%s-%d",
				 k ? "dram" : "package", p);
			dom->name = strdup(name);
			dom->kind = k ? FP_DOMAIN_DRAM : FP_DOMAIN_PACKAGE;
			dom->package = p;
			dom->max_energy_range_uj = 262143999938ULL;
			dom->idle_w = k ? 3 : 20;
		}
	}
	for (size_t g = 0; g < ngpus; g++) {
		snprintf(name, sizeof(name), "0000:%02zx:00.0", g + 1);
		d->gpus[g].uuid = strdup(name);
		d->gpus[g].vendor = strdup(g % 2 ? "intel" : "amd");
		d->gpus[g].idle_w = 30;
	}
	return d;
}

/* The engine's push of a sample with 64 steps, each job's two steps on
 * the job's GPU (4 jobs share each GPU): per poll CPU time. */
static double _attribution(size_t ngpus)
{
	fp_node_desc_t *d = _desc(ngpus);
	fp_sample_t *s = fp_sample_new(d);
	fp_error_t err;
	fp_engine_t *e = fp_engine_new(d, NULL, &err);
	double t0, cpu = 0;

	if (!s || !e) {
		fprintf(stderr, "bench_poll_gpus: %s\n",
			e ? "sample" : err.msg);
		exit(1);
	}
	for (int st = 0; st < NSTEPS; st++) {
		int j = st / 2, alloc[CPUS_PER_JOB], gpu = j % NGPUS;
		char id[32];
		fp_step_sample_t *ss;

		for (int c = 0; c < CPUS_PER_JOB; c++)
			alloc[c] = j * CPUS_PER_JOB + c;
		snprintf(id, sizeof(id), "%d.%s", 5000 + j,
			 st % 2 ? "0" : "batch");
		ss = fp_sample_add_step(s, d, id, 5000 + j, alloc,
					CPUS_PER_JOB);
		if (!ss ||
		    (ngpus && fp_sample_step_set_gpus(ss, &gpu, 1, NULL, NULL)))
			_die("step");
	}
	for (int i = 0; i < ITERS; i++) {
		s->t = 1700006400.0 + i;
		s->seq = 0;
		s->wall_valid = true;
		s->wall_j += 1500;
		for (size_t k = 0; k < d->ndomains; k++) {
			s->energy_uj[k] += 100000000ULL;
			s->energy_valid[k] = true;
		}
		for (size_t g = 0; g < ngpus; g++) {
			s->gpu_energy_uj[g] += 250000000ULL + g * 977;
			s->gpu_valid[g] = true;
		}
		for (size_t c = 0; c < NCPUS; c++)
			s->cpu_busy_ns[c] += 500000000ULL + c;
		for (size_t st = 0; st < s->nsteps; st++)
			for (int c = 0; c < CPUS_PER_JOB; c++)
				s->steps[st]
					.cpu_ns[(st / 2) * CPUS_PER_JOB + c] +=
					200000000ULL;
		t0 = _cpu_now();
		if (fp_engine_push(e, s, &err)) {
			fprintf(stderr, "bench_poll_gpus: %s\n", err.msg);
			exit(1);
		}
		cpu += _cpu_now() - t0;
	}
	fp_engine_free(e);
	fp_sample_free(s);
	fp_sample_node_desc_free(d);
	return cpu / ITERS;
}

int main(void)
{
	double bare, reader, with, without;

	_generate();
	bare = _bare_reads();
	reader = _reader();
	without = _attribution(0);
	with = _attribution(NGPUS);
	printf("bench_poll_gpus: %d GPUs (hwmon energy1_input), %d CPUs, "
	       "%d steps, %d polls\n",
	       NGPUS, NCPUS, NSTEPS, ITERS);
	printf("  bare preads of the %d counters   %8.1f us/poll\n", NGPUS,
	       bare * 1e6);
	printf("  fp_gpu_read (the reader)         %8.1f us/poll (%.1fx)\n",
	       reader * 1e6, bare > 0 ? reader / bare : 0);
	printf("  attribution, no GPU              %8.1f us/poll\n",
	       without * 1e6);
	printf("  attribution, %d GPUs held        %8.1f us/poll (+%.1f us)\n",
	       NGPUS, with * 1e6, (with - without) * 1e6);
	printf("  GPUs' share of a poll            %8.1f us/poll\n",
	       (reader + with - without) * 1e6);
	nftw(root, _rm, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}
