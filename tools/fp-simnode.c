/* fp-simnode: makes a machine without RAPL look like one. It writes a
 * powercap tree, a wall-meter feed and an hwloc topology; power follows
 * /proc/stat. With --gpus N it adds N GPUs as hwmon devices (amdgpu and
 * i915 in turn, energy1_input), with --nvidia N N NVIDIA GPUs answered by
 * the tests' NVML library (tests/nvml) from ROOT/nvml.state; GPU K's load
 * is ROOT/gpu-load/K, the NVIDIA ones first as the reader orders them. An
 * NVIDIA GPU's processes are ROOT/gpu-procs/K, "PID LOAD" lines (LOAD 0..1
 * of its SMs): NVML's per-process samples, and without gpu-load/K the
 * GPU's load is their sum. As NVML's driver does, a running fp-simnode
 * keeps the samples of the last GPU_HIST_US, one per update. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <hwloc.h>
#include <jansson.h>

#define DRAM_MAX_RANGE_UJ 65532610987ULL
#define STATE_FILE "fp-simnode.state"
#define NVML_STATE "nvml.state"
/* NVML keeps a buffer of recent per-process samples, each over its own
 * short period: a poll reads every period once, at the load of its time.
 * With only the last sample, a poll would read the whole gap since the
 * previous one at the last load, and a load change between two polls
 * would be split by the wrong activity. 3 s is three cluster polls; at
 * most GPU_HIST_MAX lines a GPU (tests/nvml/fake_nvml.c's MAXPROC). */
#define GPU_HIST_US 3000000ULL
#define GPU_HIST_MAX 1024

typedef struct opts {
	const char *root, *proc, *pidfile;
	int packages;
	bool dram, psys, once, power_mode;
	double idle_w, busy_w, dram_idle_w, dram_busy_w, wall_a, wall_b;
	double psys_extra_w, interval, seconds;
	uint64_t max_range_uj;
	int gpus, nvidia;
	double gpu_idle_w, gpu_busy_w;
	/* a stand-in for a measured node in cluster tests: no marker, a
	 * feed that does not say simulated, from meter `meter` */
	bool unmarked;
	const char *meter;
} opts_t;

/* One simulated RAPL zone: its directory under powercap/ and its counter. */
typedef struct dom {
	char dir[64];  /* relative to powercap/ */
	char name[32]; /* the zone's name file; "dram", "core", ... */
	char key[32];  /* trace name, for the state file */
	int package;   /* -1 for psys */
	int kind;      /* 0 package, 1 dram, 2 core, 3 psys */
	uint64_t max_uj;
	uint64_t uj;
	double frac_uj; /* below one microjoule, carried over */
	int fd;
} dom_t;

typedef struct sim {
	opts_t o;
	char pc[4096]; /* ROOT/powercap */
	int *cpus;     /* CPU ids from /proc/stat, ascending */
	size_t ncpus;
	uint64_t *ticks; /* busy ticks at the last update */
	dom_t *doms;
	size_t ndoms;
	double t; /* time of the last update; 0: none yet */
	double wall_j;
	double wall_w; /* power of the last interval */
	long hz;
	int ngpus;	  /* nvidia + gpus */
	uint64_t *gpu_uj; /* each GPU's energy: NVIDIA ones, then hwmon */
	double *gpu_frac; /* below one microjoule, carried over */
	double *gpu_w;	  /* each GPU's power over the last interval */
	struct gsample {
		uint64_t ts_us;
		unsigned pid, sm;
	} * *hist; /* each NVIDIA GPU's recent samples, oldest
				 * first (GPU_HIST_US) */
	size_t *nhist;
} sim_t;

static volatile sig_atomic_t stop;

static void _on_signal(int sig)
{
	stop = sig;
}

static void _die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void _die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "fp-simnode: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void _path(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void _path(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= size)
		_die("path too long: %s", buf);
}

static double _now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool _exists(const char *root, const char *file)
{
	char p[4096];

	_path(p, sizeof(p), "%s/%s", root, file);
	return access(p, F_OK) == 0;
}

static void _write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	size_t len = strlen(text);

	if (fd < 0 || write(fd, text, len) != (ssize_t)len)
		_die("%s: %s", path, strerror(errno));
	close(fd);
}

/* Readers of the feed and the state must never see half a file. */
static void _write_atomic(const char *path, const char *text)
{
	char tmp[4096];

	_path(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	_write_file(tmp, text);
	if (rename(tmp, path))
		_die("%s: %s", path, strerror(errno));
}

static void _mkdir(const char *path)
{
	if (mkdir(path, 0755) && errno != EEXIST)
		_die("%s: %s", path, strerror(errno));
}

/* Busy (non-idle, non-iowait) ticks of each CPU line of PROC/stat. guest
 * time is already inside user and nice. */
static int _read_stat(const char *proc, int **cpus, uint64_t **ticks, size_t *n)
{
	char path[4096], line[1024];
	FILE *f;

	_path(path, sizeof(path), "%s/stat", proc);
	f = fopen(path, "re");
	if (!f)
		return -1;
	*n = 0;
	*cpus = NULL;
	*ticks = NULL;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v[8] = { 0 };
		int cpu;

		if (strncmp(line, "cpu", 3) ||
		    !(line[3] >= '0' && line[3] <= '9'))
			continue;
		if (sscanf(line + 3,
			   "%d %llu %llu %llu %llu %llu %llu %llu %llu", &cpu,
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			   &v[7]) < 5 ||
		    cpu < 0)
			continue;
		*cpus = realloc(*cpus, (*n + 1) * sizeof(int));
		*ticks = realloc(*ticks, (*n + 1) * sizeof(uint64_t));
		if (!*cpus || !*ticks)
			_die("out of memory");
		(*cpus)[*n] = cpu;
		(*ticks)[*n] = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
		(*n)++;
	}
	fclose(f);
	return 0;
}

static int _cpu_package(const sim_t *s, size_t k)
{
	return (int)(k / (s->ncpus / (size_t)s->o.packages));
}

static void _add_dom(sim_t *s, const char *dir, const char *name,
		     const char *key, int kind, int package, uint64_t max)
{
	dom_t *d;

	s->doms = realloc(s->doms, (s->ndoms + 1) * sizeof(*s->doms));
	if (!s->doms)
		_die("out of memory");
	d = &s->doms[s->ndoms++];
	memset(d, 0, sizeof(*d));
	snprintf(d->dir, sizeof(d->dir), "%s", dir);
	snprintf(d->name, sizeof(d->name), "%s", name);
	snprintf(d->key, sizeof(d->key), "%s", key);
	d->kind = kind;
	d->package = package;
	d->max_uj = max;
	d->fd = -1;
}

/* The kernel's layout: packages are intel-rapl:N, their subzones nested as
 * intel-rapl:N/intel-rapl:N:M and linked flat at the root, psys after the
 * packages; kinds are known by the name file only. */
static void _plan(sim_t *s)
{
	char dir[64], key[32];
	uint64_t dmax = s->o.max_range_uj < DRAM_MAX_RANGE_UJ
				? s->o.max_range_uj
				: DRAM_MAX_RANGE_UJ;

	for (int p = 0; p < s->o.packages; p++) {
		int sub = 0;

		snprintf(dir, sizeof(dir), "intel-rapl:%d", p);
		snprintf(key, sizeof(key), "package-%d", p);
		_add_dom(s, dir, key, key, 0, p, s->o.max_range_uj);
		/* dram first, as :0, the way servers number it. */
		if (s->o.dram) {
			snprintf(dir, sizeof(dir),
				 "intel-rapl:%d/intel-rapl:%d:%d", p, p, sub++);
			snprintf(key, sizeof(key), "dram-%d", p);
			_add_dom(s, dir, "dram", key, 1, p, dmax);
		}
		snprintf(dir, sizeof(dir), "intel-rapl:%d/intel-rapl:%d:%d", p,
			 p, sub++);
		snprintf(key, sizeof(key), "core-%d", p);
		_add_dom(s, dir, "core", key, 2, p, s->o.max_range_uj);
	}
	if (s->o.psys) {
		snprintf(dir, sizeof(dir), "intel-rapl:%d", s->o.packages);
		_add_dom(s, dir, "psys", "psys", 3, -1, s->o.max_range_uj);
	}
}

static void _write_marker(const sim_t *s)
{
	char path[4096], text[2048];

	_path(path, sizeof(path), "%s/fp-simulated", s->pc);
	snprintf(text, sizeof(text),
		 "simulated by fp-simnode: not real RAPL counters\n"
		 "activity: %s/stat, CPUs mapped onto %d packages "
		 "(see ../topology.xml)\n"
		 "package_w = %g + %g * busy_cpus_of_package\n"
		 "dram_w = %g + %g * busy_cpus_of_package%s\n"
		 "core_w = 0.5 * package_w (inside package, never summed)\n"
		 "psys_w = package_w + dram_w (all packages) + %g%s\n"
		 "wall_w = %g * (package_w + dram_w) + %g\n"
		 "sensor: ../sensor.json, %s mode\n",
		 s->o.proc, s->o.packages, s->o.idle_w, s->o.busy_w,
		 s->o.dram_idle_w, s->o.dram_busy_w,
		 s->o.dram ? "" : " (disabled)", s->o.psys_extra_w,
		 s->o.psys ? "" : " (disabled)", s->o.wall_a, s->o.wall_b,
		 s->o.power_mode ? "power" : "energy");
	_write_file(path, text);
}

static void _write_tree(sim_t *s)
{
	char path[4096], link[4096], text[64];

	_mkdir(s->pc);
	for (size_t i = 0; i < s->ndoms; i++) {
		dom_t *d = &s->doms[i];
		const char *slash = strchr(d->dir, '/');

		_path(path, sizeof(path), "%s/%s", s->pc, d->dir);
		_mkdir(path);
		if (slash) {
			_path(link, sizeof(link), "%s/%s", s->pc, slash + 1);
			if (symlink(d->dir, link) && errno != EEXIST)
				_die("%s: %s", link, strerror(errno));
		}
		_path(path, sizeof(path), "%s/%s/name", s->pc, d->dir);
		snprintf(text, sizeof(text), "%s\n", d->name);
		_write_file(path, text);
		_path(path, sizeof(path), "%s/%s/max_energy_range_uj", s->pc,
		      d->dir);
		snprintf(text, sizeof(text), "%llu\n",
			 (unsigned long long)d->max_uj);
		_write_file(path, text);
	}
	if (!s->o.unmarked)
		_write_marker(s);
}

/* One write() of the whole value, then a truncate: a reader sees the old or
 * the new number followed by a newline, never an empty file. */
static void _write_counter(sim_t *s, dom_t *d)
{
	char path[4096], text[32];
	int len;

	if (d->fd < 0) {
		_path(path, sizeof(path), "%s/%s/energy_uj", s->pc, d->dir);
		d->fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
		if (d->fd < 0)
			_die("%s: %s", path, strerror(errno));
	}
	len = snprintf(text, sizeof(text), "%llu\n", (unsigned long long)d->uj);
	if (pwrite(d->fd, text, (size_t)len, 0) != len || ftruncate(d->fd, len))
		_die("%s/%s/energy_uj: %s", s->pc, d->dir, strerror(errno));
}

static void _write_topology(const sim_t *s)
{
	char desc[8192], path[4096], tmp[4096];
	size_t per = s->ncpus / (size_t)s->o.packages, off;
	hwloc_topology_t h;

	off = (size_t)snprintf(
		desc, sizeof(desc),
		"package:%d core:%zu pu:1(indexes=", s->o.packages, per);
	for (size_t k = 0; k < s->ncpus && off < sizeof(desc); k++)
		off += (size_t)snprintf(desc + off, sizeof(desc) - off, "%s%d",
					k ? "," : "", s->cpus[k]);
	if (off + 2 >= sizeof(desc))
		_die("too many CPUs for a synthetic topology");
	strcat(desc, ")");
	_path(path, sizeof(path), "%s/topology.xml", s->o.root);
	_path(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid());
	if (hwloc_topology_init(&h) || hwloc_topology_set_synthetic(h, desc) ||
	    hwloc_topology_load(h))
		_die("hwloc rejected the synthetic topology '%s'", desc);
	if (hwloc_topology_export_xml(h, tmp, 0) || rename(tmp, path))
		_die("%s: %s", path, strerror(errno));
	hwloc_topology_destroy(h);
}

/* The GPUs' hwmon devices, under ROOT/gpu-hwmon (EnergyFootprint
 * GpuHwmonRoot's default on a simulated node), each linked to its PCI
 * device as sysfs does: 0000:K+1:00.0, amdgpu (an MI210, no APU) for even
 * K, i915 for odd K. */
static void _gpu_pci(int k, char *buf, size_t size)
{
	snprintf(buf, size, "0000:%02x:00.0", k + 1);
}

static void _write_gpus(const sim_t *s)
{
	char path[4096], link[4096], pci[32];

	if (s->ngpus) {
		_path(path, sizeof(path), "%s/gpu-load", s->o.root);
		_mkdir(path);
	}
	if (!s->o.gpus)
		return;
	_path(path, sizeof(path), "%s/gpu-hwmon", s->o.root);
	_mkdir(path);
	_path(path, sizeof(path), "%s/gpu-hwmon/pci", s->o.root);
	_mkdir(path);
	for (int k = 0; k < s->o.gpus; k++) {
		_gpu_pci(k, pci, sizeof(pci));
		_path(link, sizeof(link), "%s/gpu-hwmon/pci/%s", s->o.root,
		      pci);
		_mkdir(link);
		_path(path, sizeof(path), "%s/device", link);
		_write_file(path, k % 2 ? "0x56a0\n" : "0x740f\n");
		_path(path, sizeof(path), "%s/gpu-hwmon/hwmon%d", s->o.root, k);
		_mkdir(path);
		_path(path, sizeof(path), "%s/gpu-hwmon/hwmon%d/name",
		      s->o.root, k);
		_write_file(path, k % 2 ? "i915\n" : "amdgpu\n");
		_path(path, sizeof(path), "%s/gpu-hwmon/hwmon%d/device",
		      s->o.root, k);
		if (symlink(link, path) && errno != EEXIST)
			_die("%s: %s", path, strerror(errno));
	}
}

/* Adds a sample to NVIDIA GPU k's history, dropping those older than
 * GPU_HIST_US before now_us and, past GPU_HIST_MAX, the oldest. */
static void _gpu_keep(sim_t *s, int k, uint64_t now_us, unsigned pid,
		      unsigned sm)
{
	struct gsample *h = s->hist[k];
	size_t n = s->nhist[k], old = 0;

	while (old < n && h[old].ts_us + GPU_HIST_US < now_us)
		old++;
	if (n - old >= GPU_HIST_MAX)
		old = n - GPU_HIST_MAX + 1;
	memmove(h, h + old, (n - old) * sizeof(*h));
	n -= old;
	h[n++] = (struct gsample){ .ts_us = now_us, .pid = pid, .sm = sm };
	s->nhist[k] = n;
}

/* ROOT/gpu-procs/K, read once an update: returns the sum of the loads
 * and, for an NVIDIA GPU, keeps them as samples at now_us. */
static double _gpu_procs(sim_t *s, int k, uint64_t now_us)
{
	char path[4096];
	double load, sum = 0;
	unsigned pid;
	FILE *f;

	_path(path, sizeof(path), "%s/gpu-procs/%d", s->o.root, k);
	f = fopen(path, "r");
	if (!f)
		return 0;
	while (fscanf(f, "%u %lf", &pid, &load) == 2) {
		load = load >= 0 ? (load > 1 ? 1 : load) : 0;
		sum += load;
		if (k < s->o.nvidia)
			_gpu_keep(s, k, now_us, pid,
				  (unsigned)lround(load * 100));
	}
	fclose(f);
	return sum;
}

/* ROOT/gpu-load/K: the GPU's load from 0 to 1 (none: its processes'). */
static double _gpu_load(sim_t *s, int k, uint64_t now_us)
{
	char path[4096];
	double v = 0, procs = _gpu_procs(s, k, now_us);
	FILE *f;

	_path(path, sizeof(path), "%s/gpu-load/%d", s->o.root, k);
	f = fopen(path, "r");
	if (!f)
		return procs > 1 ? 1 : procs;
	if (fscanf(f, "%lf", &v) != 1 || !(v >= 0))
		v = 0;
	fclose(f);
	return v > 1 ? 1 : v;
}

/* The NVIDIA GPUs as tests/nvml/fake_nvml.c reads them: one device line
 * each, the total-energy counter in mJ (NVML's unit, as the driver rounds
 * it) and the last interval's power in mW. Their PCI addresses
 * (0000:41:00.0 on) never meet the hwmon ones (0000:01:00.0 on). */
static void _write_nvml(const sim_t *s)
{
	char path[4096], *text;
	size_t size = 256 * (size_t)s->o.nvidia + 256, off;

	if (!s->o.nvidia)
		return;
	for (int k = 0; k < s->o.nvidia; k++)
		size += 64 * s->nhist[k];
	text = malloc(size);
	if (!text)
		_die("out of memory");
	off = (size_t)snprintf(text, size,
			       "# simulated by fp-simnode: not real GPUs\n");
	for (int k = 0; k < s->o.nvidia; k++)
		off += (size_t)snprintf(
			text + off, size - off,
			"device uuid=GPU-f0075140-0000-4000-8000-%012d "
			"pci=00000000:%02X:00.0 name=\"Simulated NVIDIA GPU\" "
			"energy_mj=%llu power_mw=%.0f\n",
			k, 0x41 + k, (unsigned long long)(s->gpu_uj[k] / 1000),
			s->gpu_w[k] * 1e3);
	/* after every device line: a proc line names its device by index */
	for (int k = 0; k < s->o.nvidia; k++)
		for (size_t i = 0; i < s->nhist[k] && off < size; i++)
			off += (size_t)snprintf(
				text + off, size - off,
				"proc dev=%d pid=%u sm=%u ts=%llu\n", k,
				s->hist[k][i].pid, s->hist[k][i].sm,
				(unsigned long long)s->hist[k][i].ts_us);
	_path(path, sizeof(path), "%s/" NVML_STATE, s->o.root);
	_write_atomic(path, text);
	free(text);
}

static double _gpu_update(sim_t *s, double dt)
{
	char path[4096], text[32];
	bool hold = _exists(s->o.root, "gpu.hold");
	double total = 0;
	struct timespec ts;
	uint64_t now_us;

	clock_gettime(CLOCK_REALTIME, &ts);
	now_us = (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
	for (int k = 0; k < s->ngpus; k++) {
		double w = s->o.gpu_idle_w +
			   s->o.gpu_busy_w * _gpu_load(s, k, now_us);
		double add = w * dt * 1e6 + s->gpu_frac[k];
		uint64_t whole = (uint64_t)floor(add);
		int h = k - s->o.nvidia;

		s->gpu_frac[k] = add - (double)whole;
		s->gpu_uj[k] += whole;
		s->gpu_w[k] = w;
		total += w * dt;
		if (hold || h < 0)
			continue;
		_path(path, sizeof(path), "%s/gpu-hwmon/hwmon%d/energy1_input",
		      s->o.root, h);
		snprintf(text, sizeof(text), "%llu\n",
			 (unsigned long long)s->gpu_uj[k]);
		_write_atomic(path, text);
	}
	if (!hold)
		_write_nvml(s);
	return total;
}

static dom_t *_find(sim_t *s, const char *key)
{
	for (size_t i = 0; i < s->ndoms; i++)
		if (!strcmp(s->doms[i].key, key))
			return &s->doms[i];
	return NULL;
}

/* Counters, meter and /proc/stat ticks persist across runs, so --once runs
 * continue each other like a real counter does across daemon restarts. */
static void _load_state(sim_t *s)
{
	char path[4096];
	json_t *st, *v;
	const char *key;

	_path(path, sizeof(path), "%s/" STATE_FILE, s->o.root);
	st = json_load_file(path, 0, NULL);
	if (!st)
		return;
	s->t = json_number_value(json_object_get(st, "t"));
	s->wall_j = json_number_value(json_object_get(st, "wall_j"));
	s->wall_w = json_number_value(json_object_get(st, "wall_w"));
	json_object_foreach(json_object_get(st, "energy_uj"), key, v)
	{
		dom_t *d = _find(s, key);

		if (d && json_is_integer(v))
			d->uj = (uint64_t)json_integer_value(v) %
				(d->max_uj + 1);
	}
	json_object_foreach(json_object_get(st, "busy_ticks"), key, v)
	{
		int cpu = atoi(key);

		for (size_t k = 0; k < s->ncpus; k++)
			if (s->cpus[k] == cpu && json_is_integer(v))
				s->ticks[k] = (uint64_t)json_integer_value(v);
	}
	for (int k = 0; k < s->ngpus; k++) {
		v = json_array_get(json_object_get(st, "gpu_energy_uj"),
				   (size_t)k);
		if (json_is_integer(v))
			s->gpu_uj[k] = (uint64_t)json_integer_value(v);
	}
	json_decref(st);
}

static void _save_state(const sim_t *s)
{
	json_t *st = json_object(), *e = json_object(), *b = json_object();
	char path[4096], key[32], *text;

	for (size_t i = 0; i < s->ndoms; i++)
		json_object_set_new(e, s->doms[i].key,
				    json_integer((json_int_t)s->doms[i].uj));
	for (size_t k = 0; k < s->ncpus; k++) {
		snprintf(key, sizeof(key), "%d", s->cpus[k]);
		json_object_set_new(b, key,
				    json_integer((json_int_t)s->ticks[k]));
	}
	json_object_set_new(st, "t", json_real(s->t));
	json_object_set_new(st, "wall_j", json_real(s->wall_j));
	json_object_set_new(st, "wall_w", json_real(s->wall_w));
	json_object_set_new(st, "energy_uj", e);
	json_object_set_new(st, "busy_ticks", b);
	if (s->ngpus) {
		json_t *g = json_array();

		for (int k = 0; k < s->ngpus; k++)
			json_array_append_new(
				g, json_integer((json_int_t)s->gpu_uj[k]));
		json_object_set_new(st, "gpu_energy_uj", g);
	}
	text = json_dumps(st, JSON_REAL_PRECISION(17));
	json_decref(st);
	if (!text)
		_die("out of memory");
	_path(path, sizeof(path), "%s/" STATE_FILE, s->o.root);
	_write_atomic(path, text);
	free(text);
}

static void _add_energy(dom_t *d, double joules)
{
	double add = joules * 1e6 + d->frac_uj;
	uint64_t whole = (uint64_t)floor(add);

	d->frac_uj = add - (double)whole;
	whole %= d->max_uj + 1;
	d->uj = d->uj > d->max_uj - whole ? d->uj - (d->max_uj + 1 - whole)
					  : d->uj + whole;
}

static void _write_sensor(const sim_t *s, double now)
{
	char path[4096], text[256];

	snprintf(text, sizeof(text),
		 "{\"time\": %.6f, \"%s\": %.6f, \"meter\": \"%s\", "
		 "\"simulated\": %s}\n",
		 now, s->o.power_mode ? "power_w" : "energy_j",
		 s->o.power_mode ? s->wall_w : s->wall_j, s->o.meter,
		 s->o.unmarked ? "false" : "true");
	_path(path, sizeof(path), "%s/sensor.json", s->o.root);
	_write_atomic(path, text);
}

static void _update(sim_t *s, double now)
{
	double dt = s->t > 0 && now > s->t ? now - s->t : 0;
	int np = s->o.packages, *cpus;
	double *busy = calloc((size_t)np, sizeof(double));
	double rapl_j = 0;
	uint64_t *ticks;
	size_t n;

	if (!busy || _read_stat(s->o.proc, &cpus, &ticks, &n))
		_die("%s/stat: %s", s->o.proc, strerror(errno));
	for (size_t k = 0; k < s->ncpus; k++) {
		for (size_t j = 0; j < n; j++) {
			double b;

			if (cpus[j] != s->cpus[k])
				continue;
			/* A counter that went back (reboot) gives nothing;
			 * ticks can overshoot a little: cap at one CPU. */
			b = ticks[j] > s->ticks[k]
				    ? (double)(ticks[j] - s->ticks[k]) / s->hz
				    : 0;
			busy[_cpu_package(s, k)] += b < dt ? b : dt;
			s->ticks[k] = ticks[j];
		}
	}
	free(cpus);
	free(ticks);
	for (size_t i = 0; i < s->ndoms; i++) {
		dom_t *d = &s->doms[i];
		double j = 0;

		if (d->kind == 0 || d->kind == 2)
			j = s->o.idle_w * dt + s->o.busy_w * busy[d->package];
		else if (d->kind == 1)
			j = s->o.dram_idle_w * dt +
			    s->o.dram_busy_w * busy[d->package];
		if (d->kind == 2)
			j *= 0.5;
		if (d->kind == 0 || d->kind == 1)
			rapl_j += j;
		_add_energy(d, j);
	}
	for (size_t i = 0; i < s->ndoms; i++)
		if (s->doms[i].kind == 3)
			_add_energy(&s->doms[i],
				    rapl_j + s->o.psys_extra_w * dt);
	/* the GPUs are behind the same wall meter */
	rapl_j += _gpu_update(s, dt);
	if (dt > 0) {
		s->wall_j += s->o.wall_a * rapl_j + s->o.wall_b * dt;
		s->wall_w = s->o.wall_a * rapl_j / dt + s->o.wall_b;
	} else if (s->wall_w <= 0) {
		/* No interval yet: an idle node's power. */
		double idle =
			np * (s->o.idle_w + (s->o.dram ? s->o.dram_idle_w : 0));

		s->wall_w = s->o.wall_a * idle + s->o.wall_b;
	}
	free(busy);
	s->t = now;
	if (!_exists(s->o.root, "powercap.hold"))
		for (size_t i = 0; i < s->ndoms; i++)
			_write_counter(s, &s->doms[i]);
	if (!_exists(s->o.root, "sensor.hold"))
		_write_sensor(s, now);
	_save_state(s);
}

static double _num(const char *opt, const char *arg, double min)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(v) || v < min) {
		fprintf(stderr, "fp-simnode: %s '%s': not a number >= %g\n",
			opt, arg, min);
		exit(2);
	}
	return v;
}

static void _usage(FILE *out)
{
	fprintf(out,
		"usage: fp-simnode --root DIR [--packages N] [--[no-]dram] "
		"[--[no-]psys]\n"
		"  [--idle-w W] [--busy-w W] [--dram-idle-w W] "
		"[--dram-busy-w W]\n"
		"  [--psys-extra-w W] [--wall-a A] [--wall-b W] "
		"[--sensor-mode energy|power]\n"
		"  [--interval S] [--max-range-uj N] [--proc DIR] "
		"[--pidfile F] [--once] [--seconds N]\n"
		"  [--gpus N] [--nvidia N] [--gpu-idle-w W] [--gpu-busy-w W]\n"
		"  [--meter ID] [--unmarked]\n"
		"Writes DIR/powercap/ (RAPL-like zones), DIR/sensor.json (wall "
		"meter feed),\nDIR/topology.xml (hwloc). While DIR/sensor.hold "
		"or DIR/powercap.hold exists,\nthe feed or the counters are "
		"left alone.\n"
		"--gpus: hwmon GPUs in DIR/gpu-hwmon; --nvidia: NVIDIA GPUs in "
		"DIR/" NVML_STATE "\n(FP_FAKE_NVML_STATE of the tests' NVML "
		"library); GPU K's load (0..1) in\nDIR/gpu-load/K, the NVIDIA "
		"ones first; an NVIDIA GPU's processes, \"PID LOAD\" lines, "
		"in\nDIR/gpu-procs/K (NVML's per-process samples, those of the "
		"last 3 s; without\ngpu-load/K, their sum is the load).\n"
		"--meter: the feed's meter id (fp-simnode); --unmarked: no "
		"powercap/fp-simulated\nmarker and a feed that does not say "
		"simulated, so the node reads as measured\nhardware: a "
		"stand-in for one in cluster tests, never where anyone reads "
		"the figures.\n");
}

static void _parse(int argc, char **argv, opts_t *o)
{
	enum {
		O_PKG = 256,
		O_DRAM,
		O_NODRAM,
		O_PSYS,
		O_NOPSYS,
		O_IDLE,
		O_BUSY,
		O_DIDLE,
		O_DBUSY,
		O_PEXTRA,
		O_WA,
		O_WB,
		O_MODE,
		O_INT,
		O_MAX,
		O_PROC,
		O_PID,
		O_ONCE,
		O_SEC,
		O_ROOT,
		O_GPUS,
		O_GIDLE,
		O_GBUSY,
		O_NVIDIA,
		O_METER,
		O_UNMARKED
	};
	static const struct option lo[] = {
		{ "root", required_argument, NULL, O_ROOT },
		{ "packages", required_argument, NULL, O_PKG },
		{ "dram", no_argument, NULL, O_DRAM },
		{ "no-dram", no_argument, NULL, O_NODRAM },
		{ "psys", no_argument, NULL, O_PSYS },
		{ "no-psys", no_argument, NULL, O_NOPSYS },
		{ "idle-w", required_argument, NULL, O_IDLE },
		{ "busy-w", required_argument, NULL, O_BUSY },
		{ "dram-idle-w", required_argument, NULL, O_DIDLE },
		{ "dram-busy-w", required_argument, NULL, O_DBUSY },
		{ "psys-extra-w", required_argument, NULL, O_PEXTRA },
		{ "wall-a", required_argument, NULL, O_WA },
		{ "wall-b", required_argument, NULL, O_WB },
		{ "sensor-mode", required_argument, NULL, O_MODE },
		{ "interval", required_argument, NULL, O_INT },
		{ "max-range-uj", required_argument, NULL, O_MAX },
		{ "proc", required_argument, NULL, O_PROC },
		{ "pidfile", required_argument, NULL, O_PID },
		{ "once", no_argument, NULL, O_ONCE },
		{ "seconds", required_argument, NULL, O_SEC },
		{ "gpus", required_argument, NULL, O_GPUS },
		{ "nvidia", required_argument, NULL, O_NVIDIA },
		{ "gpu-idle-w", required_argument, NULL, O_GIDLE },
		{ "gpu-busy-w", required_argument, NULL, O_GBUSY },
		{ "meter", required_argument, NULL, O_METER },
		{ "unmarked", no_argument, NULL, O_UNMARKED },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case O_ROOT:
			o->root = optarg;
			break;
		case O_PKG:
			o->packages = (int)_num("--packages", optarg, 1);
			if (o->packages != _num("--packages", optarg, 1)) {
				fprintf(stderr,
					"fp-simnode: --packages '%s': "
					"not a whole number\n",
					optarg);
				exit(2);
			}
			break;
		case O_DRAM:
			o->dram = true;
			break;
		case O_NODRAM:
			o->dram = false;
			break;
		case O_PSYS:
			o->psys = true;
			break;
		case O_NOPSYS:
			o->psys = false;
			break;
		case O_IDLE:
			o->idle_w = _num("--idle-w", optarg, 0);
			break;
		case O_BUSY:
			o->busy_w = _num("--busy-w", optarg, 0);
			break;
		case O_DIDLE:
			o->dram_idle_w = _num("--dram-idle-w", optarg, 0);
			break;
		case O_DBUSY:
			o->dram_busy_w = _num("--dram-busy-w", optarg, 0);
			break;
		case O_PEXTRA:
			o->psys_extra_w = _num("--psys-extra-w", optarg, 0);
			break;
		case O_WA:
			o->wall_a = _num("--wall-a", optarg, 0);
			break;
		case O_WB:
			o->wall_b = _num("--wall-b", optarg, 0);
			break;
		case O_MODE:
			if (!strcmp(optarg, "power"))
				o->power_mode = true;
			else if (!strcmp(optarg, "energy"))
				o->power_mode = false;
			else {
				fprintf(stderr,
					"fp-simnode: --sensor-mode "
					"'%s': energy or power\n",
					optarg);
				exit(2);
			}
			break;
		case O_INT:
			o->interval = _num("--interval", optarg, 0.001);
			break;
		case O_MAX:
			o->max_range_uj =
				(uint64_t)_num("--max-range-uj", optarg, 1);
			break;
		case O_PROC:
			o->proc = optarg;
			break;
		case O_PID:
			o->pidfile = optarg;
			break;
		case O_ONCE:
			o->once = true;
			break;
		case O_UNMARKED:
			o->unmarked = true;
			break;
		case O_METER:
			/* into the feed's JSON as is */
			if (!*optarg || strlen(optarg) > 60 ||
			    strpbrk(optarg, "\"\\")) {
				fprintf(stderr,
					"fp-simnode: --meter '%s': 1 "
					"to 60 characters, no quote or "
					"backslash\n",
					optarg);
				exit(2);
			}
			o->meter = optarg;
			break;
		case O_SEC:
			o->seconds = _num("--seconds", optarg, 0);
			break;
		case O_GPUS:
			o->gpus = (int)_num("--gpus", optarg, 0);
			if (o->gpus != _num("--gpus", optarg, 0) ||
			    o->gpus > 64) {
				fprintf(stderr,
					"fp-simnode: --gpus '%s': not "
					"a whole number from 0 to 64\n",
					optarg);
				exit(2);
			}
			break;
		case O_NVIDIA:
			o->nvidia = (int)_num("--nvidia", optarg, 0);
			if (o->nvidia != _num("--nvidia", optarg, 0) ||
			    o->nvidia > 64) {
				fprintf(stderr,
					"fp-simnode: --nvidia '%s': "
					"not a whole number from 0 to 64\n",
					optarg);
				exit(2);
			}
			break;
		case O_GIDLE:
			o->gpu_idle_w = _num("--gpu-idle-w", optarg, 0);
			break;
		case O_GBUSY:
			o->gpu_busy_w = _num("--gpu-busy-w", optarg, 0);
			break;
		case 'h':
			_usage(stdout);
			exit(0);
		default:
			_usage(stderr);
			exit(2);
		}
	}
	if (o->root && o->gpus + o->nvidia > 64) {
		fprintf(stderr, "fp-simnode: --gpus and --nvidia: at most 64 "
				"GPUs in all\n");
		exit(2);
	}
	if (!o->root || optind != argc) {
		fprintf(stderr, "fp-simnode: %s\n",
			o->root ? "unexpected argument" : "--root is required");
		_usage(stderr);
		exit(2);
	}
}

int main(int argc, char **argv)
{
	sim_t s = { .o = { .proc = "/proc",
			   .packages = 2,
			   .dram = true,
			   .idle_w = 20,
			   .busy_w = 15,
			   .dram_idle_w = 3,
			   .dram_busy_w = 1.5,
			   .wall_a = 1.15,
			   .wall_b = 40,
			   .psys_extra_w = 10,
			   .interval = 0.25,
			   .max_range_uj = 262143999938ULL,
			   .gpu_idle_w = 30,
			   .gpu_busy_w = 220,
			   .meter = "fp-simnode" } };
	struct sigaction sa = { .sa_handler = _on_signal };
	double start;
	int *cpus;

	_parse(argc, argv, &s.o);
	s.hz = sysconf(_SC_CLK_TCK);
	if (s.hz <= 0)
		s.hz = 100;
	if (_read_stat(s.o.proc, &cpus, &s.ticks, &s.ncpus))
		_die("%s/stat: %s", s.o.proc, strerror(errno));
	if (!s.ncpus)
		_die("%s/stat: no cpuN line", s.o.proc);
	if (s.ncpus % (size_t)s.o.packages)
		_die("%d packages do not divide the %zu CPUs of %s/stat",
		     s.o.packages, s.ncpus, s.o.proc);
	s.cpus = cpus;
	/* Ticks start as "now": an update with no state measures nothing. */
	_path(s.pc, sizeof(s.pc), "%s/powercap", s.o.root);
	_mkdir(s.o.root);
	_plan(&s);
	s.ngpus = s.o.nvidia + s.o.gpus;
	s.gpu_uj = calloc((size_t)s.ngpus + 1, sizeof(*s.gpu_uj));
	s.gpu_frac = calloc((size_t)s.ngpus + 1, sizeof(*s.gpu_frac));
	s.gpu_w = calloc((size_t)s.ngpus + 1, sizeof(*s.gpu_w));
	s.hist = calloc((size_t)s.o.nvidia + 1, sizeof(*s.hist));
	s.nhist = calloc((size_t)s.o.nvidia + 1, sizeof(*s.nhist));
	if (!s.gpu_uj || !s.gpu_frac || !s.gpu_w || !s.hist || !s.nhist)
		_die("out of memory");
	for (int k = 0; k < s.o.nvidia; k++)
		if (!(s.hist[k] = calloc(GPU_HIST_MAX, sizeof(**s.hist))))
			_die("out of memory");
	_load_state(&s);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	if (s.o.pidfile) {
		char pid[32];

		snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
		_write_atomic(s.o.pidfile, pid);
	}
	if (!_exists(s.o.root, "powercap.hold"))
		_write_tree(&s);
	_write_topology(&s);
	_write_gpus(&s);
	start = _now();
	while (!stop) {
		double now = _now();
		struct timespec ts;

		_update(&s, now);
		if (s.o.once || (s.o.seconds > 0 && now - start >= s.o.seconds))
			break;
		ts.tv_sec = (time_t)s.o.interval;
		ts.tv_nsec = (long)((s.o.interval - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
	for (size_t i = 0; i < s.ndoms; i++)
		if (s.doms[i].fd >= 0)
			close(s.doms[i].fd);
	if (s.o.pidfile)
		unlink(s.o.pidfile);
	free(s.doms);
	free(s.cpus);
	free(s.ticks);
	free(s.gpu_uj);
	free(s.gpu_frac);
	free(s.gpu_w);
	for (int k = 0; k < s.o.nvidia; k++)
		free(s.hist[k]);
	free(s.hist);
	free(s.nhist);
	return 0;
}
