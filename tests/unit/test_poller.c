/* Specification of lib/poller: the real node poller, driven with explicit
 * times, on generated powercap, /proc, cgroup, topology and sensor trees. */
#include <ctype.h>
#include <dirent.h>
#include <ftw.h>
#include <hwloc.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include "footprint/engine.h"
#include "footprint/json.h"
#include "footprint/poller.h"
#include "footprint/publish.h"
#include "footprint/sensor.h"
#include "footprint/step.h"
#include "footprint/trace.h"

/* The generated node: 2 packages of 2 CPUs (0-1, 2-3), each package with a
 * dram zone, so the domains are package-0, dram-0, package-1, dram-1. */
#define NCPU 4
#define NDOM 4
#define T0 1700000000.0
/* Published records carry 6 decimals. */
#define EPS 2e-6

/* cmocka's assert_float_equal compares floats, blind to a 10 s change of a
 * Unix time and to microjoules: compare doubles. */
#define assert_near(a, b, eps)                                               \
	do {                                                                 \
		double a_ = (a), b_ = (b);                                   \
		if (!(fabs(a_ - b_) <= (eps)))                               \
			fail_msg("%s = %.9f, expected %.9f (within %g)", #a, \
				 a_, b_, (double)(eps));                     \
	} while (0)

static const int dom_pkg[NDOM] = { 0, 0, 1, 1 };
static const int cpu_pkg[NCPU] = { 0, 0, 1, 1 };

enum { WITH_RAPL = 1, WITH_SENSOR = 2 };

struct logbook {
	int n;
	char all[8192];
};

struct world {
	char root[64];
	char powercap[128], proc[128], cgroup[128], topo[128], sensor[128];
	char run[128], steps[160], jobs[160], metrics[128], trace[128];
	int with;
	uint64_t uj[NDOM];    /* counters as written */
	uint64_t ticks[NCPU]; /* /proc/stat busy ticks as written */
	double wall_j;	      /* the meter's cumulative energy */
	double t;	      /* time of the next poll */
	fp_poller_config_t cfg;
	fp_poller_t *p;
	struct logbook log;
};

/* The world of the running test, freed by _teardown when a failed
 * assertion skipped the test's own _world_free. */
static struct world *current;

static void _logger(void *ctx, int level, const char *msg)
{
	struct logbook *lb = ctx;
	size_t used = strlen(lb->all);

	lb->n++;
	snprintf(lb->all + used, sizeof(lb->all) - used, "%d %s\n", level, msg);
}

static void _mkdirs(const char *path)
{
	char buf[PATH_MAX];

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

static void _writef(const char *content, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Writes content to the path fmt names, creating its folders. */
static void _writef(const char *content, const char *fmt, ...)
{
	char path[PATH_MAX], dir[PATH_MAX];
	va_list ap;
	FILE *fp;

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	snprintf(dir, sizeof(dir), "%s", path);
	*strrchr(dir, '/') = '\0';
	_mkdirs(dir);
	/* In place, as sysfs, procfs and cgroupfs files change: a reader
	 * that keeps the file open must see the new value. */
	fp = fopen(path, "w");
	assert_non_null(fp);
	fputs(content, fp);
	assert_int_equal(fclose(fp), 0);
}

static int _rm_one(const char *path, const struct stat *st, int flag,
		   struct FTW *ftw)
{
	return remove(path);
}

static void _rm_rf(const char *path)
{
	nftw(path, _rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static long _hz(void)
{
	return sysconf(_SC_CLK_TCK);
}

/* ---- the generated sources -------------------------------------------- */

static void _write_rapl(const struct world *w)
{
	static const char *const dir[NDOM] = { "intel-rapl:0",
					       "intel-rapl:0/intel-rapl:0:0",
					       "intel-rapl:1",
					       "intel-rapl:1/intel-rapl:1:0" };
	char v[32];

	for (int d = 0; d < NDOM; d++) {
		snprintf(v, sizeof(v), "%" PRIu64 "\n", w->uj[d]);
		_writef(v, "%s/%s/energy_uj", w->powercap, dir[d]);
	}
}

static void _create_rapl(struct world *w)
{
	_writef("package-0\n", "%s/intel-rapl:0/name", w->powercap);
	_writef("dram\n", "%s/intel-rapl:0/intel-rapl:0:0/name", w->powercap);
	_writef("package-1\n", "%s/intel-rapl:1/name", w->powercap);
	_writef("dram\n", "%s/intel-rapl:1/intel-rapl:1:0/name", w->powercap);
	_writef("262143999938\n", "%s/intel-rapl:0/max_energy_range_uj",
		w->powercap);
	_writef("65532610987\n",
		"%s/intel-rapl:0/intel-rapl:0:0/max_energy_range_uj",
		w->powercap);
	_writef("262143999938\n", "%s/intel-rapl:1/max_energy_range_uj",
		w->powercap);
	_writef("65532610987\n",
		"%s/intel-rapl:1/intel-rapl:1:0/max_energy_range_uj",
		w->powercap);
	_write_rapl(w);
}

static void _write_stat(const struct world *w)
{
	char buf[1024];
	size_t off;
	uint64_t all = 0;

	for (int c = 0; c < NCPU; c++)
		all += w->ticks[c];
	off = (size_t)snprintf(buf, sizeof(buf),
			       "cpu  %" PRIu64 " 0 0 90000 0 0 0 0 0 0\n", all);
	for (int c = 0; c < NCPU; c++)
		off += (size_t)snprintf(buf + off, sizeof(buf) - off,
					"cpu%d %" PRIu64
					" 0 0 20000 0 0 0 0 0 0\n",
					c, w->ticks[c]);
	snprintf(buf + off, sizeof(buf) - off, "intr 1 2 3\nctxt 5\n");
	_writef(buf, "%s/stat", w->proc);
}

/* The meter's feed as of time t (energy mode), written aside and renamed
 * over as the vendor's agent does. */
static void _write_sensor(const struct world *w, double t)
{
	char tmp[160];
	FILE *fp;

	snprintf(tmp, sizeof(tmp), "%s.tmp", w->sensor);
	fp = fopen(tmp, "w");
	assert_non_null(fp);
	fprintf(fp, "{\"time\": %.3f, \"energy_j\": %.6f}\n", t, w->wall_j);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(rename(tmp, w->sensor), 0);
}

/* "package:2 core:2 pu:1" exported by hwloc, as lstopo would. */
static void _write_topology(const struct world *w)
{
	hwloc_topology_t h;

	assert_int_equal(hwloc_topology_init(&h), 0);
	assert_int_equal(
		hwloc_topology_set_synthetic(h, "package:2 core:2 pu:1"), 0);
	assert_int_equal(hwloc_topology_load(h), 0);
	assert_int_equal(hwloc_topology_export_xml(h, w->topo, 0), 0);
	hwloc_topology_destroy(h);
}

static void _set(struct world *w, const char *key, const char *value)
{
	fp_error_t err = { 0 };

	if (fp_poller_config_set(&w->cfg, key, value, &err))
		fail_msg("%s=%s: %s", key, value, err.msg);
}

/* The node with the chosen sources; the poller is opened by _open() so
 * a test can change the configuration first. */
static struct world *_world(int with)
{
	struct world *w = calloc(1, sizeof(*w));
	char dir[256];

	assert_non_null(w);
	snprintf(w->root, sizeof(w->root), "/tmp/test_poller.XXXXXX");
	assert_non_null(mkdtemp(w->root));
	w->with = with;
	current = w;
	snprintf(w->powercap, sizeof(w->powercap), "%s/powercap", w->root);
	snprintf(w->proc, sizeof(w->proc), "%s/proc", w->root);
	snprintf(w->cgroup, sizeof(w->cgroup), "%s/cgroup", w->root);
	snprintf(w->topo, sizeof(w->topo), "%s/topology.xml", w->root);
	snprintf(w->sensor, sizeof(w->sensor), "%s/sensor.json", w->root);
	snprintf(w->run, sizeof(w->run), "%s/run", w->root);
	snprintf(w->steps, sizeof(w->steps), "%s/steps", w->run);
	snprintf(w->jobs, sizeof(w->jobs), "%s/jobs", w->run);
	snprintf(w->metrics, sizeof(w->metrics), "%s/footprint.prom", w->root);
	snprintf(w->trace, sizeof(w->trace), "%s/trace", w->root);
	w->t = T0;
	for (int d = 0; d < NDOM; d++)
		w->uj[d] = 1000000ULL * (uint64_t)(d + 1);
	for (int c = 0; c < NCPU; c++)
		w->ticks[c] = 100;
	w->wall_j = 5000;

	_write_topology(w);
	_write_stat(w);
	snprintf(dir, sizeof(dir), "%s/cpuacct/slurm", w->cgroup);
	_mkdirs(dir);
	snprintf(dir, sizeof(dir), "%s/cpuset/slurm", w->cgroup);
	_mkdirs(dir);
	snprintf(dir, sizeof(dir), "%s/unified", w->cgroup);
	_mkdirs(dir);
	if (with & WITH_RAPL)
		_create_rapl(w);
	else
		_mkdirs(w->powercap); /* there, but without a zone */
	if (with & WITH_SENSOR)
		_write_sensor(w, w->t);

	fp_poller_config_init(&w->cfg);
	w->cfg.node = strdup("n1");
	_set(w, "PowercapRoot", w->powercap);
	_set(w, "ProcRoot", w->proc);
	_set(w, "CgroupRoot", w->cgroup);
	_set(w, "Topology", w->topo);
	_set(w, "RunDir", w->run);
	_set(w, "Metrics", w->metrics);
	/* the tests read the metrics of the poll they just made */
	_set(w, "MetricsInterval", "0");
	_set(w, "TraceDir", w->trace);
	/* this machine's GPUs, if any, are not the generated node's */
	_set(w, "Gpus", "none");
	if (with & WITH_SENSOR)
		_set(w, "Sensor", w->sensor);
	return w;
}

static void _open(struct world *w)
{
	fp_error_t err = { 0 };

	w->p = fp_poller_new(&w->cfg, _logger, &w->log, &err);
	if (!w->p)
		fail_msg("fp_poller_new: %s", err.msg);
}

static void _world_free(struct world *w)
{
	fp_poller_free(w->p);
	fp_poller_config_clear(&w->cfg);
	_rm_rf(w->root);
	free(w);
	current = NULL;
}

static int _teardown(void **state)
{
	if (current)
		_world_free(current);
	return 0;
}

static void _poll(struct world *w)
{
	fp_error_t err = { 0 };

	if (fp_poller_poll(w->p, w->t, &err))
		fail_msg("fp_poller_poll at %.3f: %s", w->t, err.msg);
}

/* Moves the node on by dt: each domain by e_j joules, each CPU busy for
 * busy_s seconds, the meter by wall_j (fresh at the new time). */
static void _advance(struct world *w, double dt, const double e_j[NDOM],
		     const double busy_s[NCPU], double wall_j)
{
	w->t += dt;
	for (int d = 0; d < NDOM && (w->with & WITH_RAPL); d++)
		w->uj[d] += (uint64_t)llround(e_j[d] * 1e6);
	for (int c = 0; c < NCPU; c++)
		w->ticks[c] += (uint64_t)llround(busy_s[c] * (double)_hz());
	w->wall_j += wall_j;
	if (w->with & WITH_RAPL)
		_write_rapl(w);
	_write_stat(w);
	if (w->with & WITH_SENSOR)
		_write_sensor(w, w->t);
}

/* A step cgroup in the v1 layout Slurm 22.05 makes: slurm/uid_0/job_<j>/
 * step_<s>, cumulative CPU time per CPU and the allocated CPUs. */
struct step {
	unsigned job;
	const char *name;  /* "0", "batch" */
	const char *cpus;  /* cpuset.cpus */
	uint64_t ns[NCPU]; /* cumulative, as written */
};

static void _step_write(const struct world *w, const struct step *s)
{
	char usage[256];

	snprintf(usage, sizeof(usage),
		 "%" PRIu64 " %" PRIu64 " %" PRIu64 " %" PRIu64 " \n", s->ns[0],
		 s->ns[1], s->ns[2], s->ns[3]);
	_writef(usage,
		"%s/cpuacct/slurm/uid_0/job_%u/step_%s/"
		"cpuacct.usage_percpu",
		w->cgroup, s->job, s->name);
	_writef(s->cpus, "%s/cpuset/slurm/uid_0/job_%u/step_%s/cpuset.cpus",
		w->cgroup, s->job, s->name);
}

/* The step ran a_s[c] more seconds on each CPU c. */
static void _step_run(const struct world *w, struct step *s,
		      const double a_s[NCPU])
{
	for (int c = 0; c < NCPU; c++)
		s->ns[c] += (uint64_t)llround(a_s[c] * 1e9);
	_step_write(w, s);
}

static void _step_remove(const struct world *w, const struct step *s)
{
	char d[256];

	snprintf(d, sizeof(d), "%s/cpuacct/slurm/uid_0/job_%u/step_%s",
		 w->cgroup, s->job, s->name);
	_rm_rf(d);
	snprintf(d, sizeof(d), "%s/cpuset/slurm/uid_0/job_%u/step_%s",
		 w->cgroup, s->job, s->name);
	_rm_rf(d);
}

static fp_step_value_t _published(const struct world *w, const char *id)
{
	fp_step_value_t v;
	fp_error_t err = { 0 };

	if (fp_publish_read_step(w->steps, id, &v, &err))
		fail_msg("fp_publish_read_step %s: %s", id, err.msg);
	return v;
}

static fp_poller_status_t _status(const struct world *w)
{
	fp_poller_status_t st;

	fp_poller_status(w->p, &st);
	return st;
}

static char *_slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

/* The value of the metrics line that starts with prefix (labels
 * included), or fails the test. */
static double _metric(const char *text, const char *prefix)
{
	size_t n = strlen(prefix);

	for (const char *l = text; l && *l; l = strchr(l, '\n')) {
		if (*l == '\n')
			l++;
		if (!strncmp(l, prefix, n) && l[n] == ' ')
			return strtod(l + n + 1, NULL);
	}
	fail_msg("no metrics line '%s' in:\n%s", prefix, text);
	return NAN;
}

/* ---- the reference model (docs/trace-format.md, steps 1-4), one interval */

struct ref_step {
	uint64_t job;
	bool alloc[NCPU];
	double a_s[NCPU]; /* activity this interval, seconds */
};

/* Each step's energy over one interval of dt seconds in which domain d
 * gave e_j[d] with idle power idle_w[d], CPU c was busy busy_s[c], and the
 * node as a whole used node_j. */
static void _reference(double dt, const double e_j[NDOM],
		       const double idle_w[NDOM], const double busy_s[NCPU],
		       const struct ref_step *st, size_t n, double node_j,
		       double *out)
{
	double s_d[NDOM], d_d[NDOM], b[NCPU];
	double pkg_b[2] = { 0 }, pkg_s[2] = { 0 }, rapl = 0;

	for (int d = 0; d < NDOM; d++) {
		s_d[d] = fmin(e_j[d], idle_w[d] * dt);
		d_d[d] = e_j[d] - s_d[d];
		pkg_s[dom_pkg[d]] += s_d[d];
		rapl += e_j[d];
	}
	for (int c = 0; c < NCPU; c++) {
		double sum = 0;

		for (size_t i = 0; i < n; i++)
			sum += st[i].a_s[c];
		b[c] = fmax(busy_s[c], sum);
		pkg_b[cpu_pkg[c]] += b[c];
	}
	for (size_t i = 0; i < n; i++) {
		double dyn = 0, stat = 0;

		for (int d = 0; d < NDOM; d++) {
			double a = 0;

			for (int c = 0; c < NCPU; c++)
				if (cpu_pkg[c] == dom_pkg[d])
					a += st[i].a_s[c];
			if (pkg_b[dom_pkg[d]] > 0)
				dyn += d_d[d] * a / pkg_b[dom_pkg[d]];
		}
		for (int c = 0; c < NCPU; c++) {
			int jobs = 0, mates = 0;

			if (!st[i].alloc[c])
				continue;
			/* jobs on c, and the steps of this job on c */
			for (size_t k = 0; k < n; k++) {
				bool first = true;

				if (!st[k].alloc[c])
					continue;
				if (st[k].job == st[i].job)
					mates++;
				for (size_t m = 0; m < k; m++)
					if (st[m].alloc[c] &&
					    st[m].job == st[k].job)
						first = false;
				jobs += first;
			}
			stat += pkg_s[cpu_pkg[c]] / 2.0 / jobs / mates;
		}
		out[i] = (dyn + stat) * (rapl > 0 ? node_j / rapl : 1);
	}
}

/* ---- a two-job node --------------------------------------------------- */

static const double idle_kind[NDOM] = { 10, 2, 10, 2 };

/* Job 100 runs on CPU 0, job 200 on CPUs 2-3; CPU 1 is nobody's. */
static struct step step_a = { 100, "0", "0\n", { 0 } };
static struct step step_b = { 200, "0", "2-3\n", { 0 } };

static struct world *_two_jobs(int with, struct step *a, struct step *b)
{
	struct world *w = _world(with);

	*a = step_a;
	*b = step_b;
	a->ns[0] = 1000000000ULL; /* ran before the baseline */
	b->ns[2] = 500000000ULL;
	b->ns[3] = 500000000ULL;
	_step_write(w, a);
	_step_write(w, b);
	_set(w, "IdleWatts", "package=10,dram=2");
	_open(w);
	_poll(w); /* the baseline */
	return w;
}

/* One interval of known activity; expected[] gets steps a and b's energy
 * by the reference model. */
static void _interval(struct world *w, struct step *a, struct step *b,
		      const double idle_w[NDOM], double *expected)
{
	const double dt = 10, e_j[NDOM] = { 300, 40, 250, 30 };
	const double busy[NCPU] = { 5, 2, 3, 2 }, wall = 1000;
	struct ref_step ref[2] = {
		{ a->job, { true, false, false, false }, { 4, 0, 0, 0 } },
		{ b->job, { false, false, true, true }, { 0, 0, 3, 1 } },
	};

	_step_run(w, a, ref[0].a_s);
	_step_run(w, b, ref[1].a_s);
	_advance(w, dt, e_j, busy, wall);
	_poll(w);
	if (expected)
		_reference(dt, e_j, idle_w, busy, ref, 2,
			   (w->with & WITH_SENSOR) ? wall : 620, expected);
}

static void steps_on_two_packages_get_the_reference_energy(void **state)
{
	struct step a, b;
	struct world *w = _two_jobs(WITH_RAPL | WITH_SENSOR, &a, &b);
	double expected[2];
	fp_step_value_t va, vb;

	_interval(w, &a, &b, idle_kind, expected);
	va = _published(w, "100.0");
	vb = _published(w, "200.0");
	assert_near(va.energy_j, expected[0], EPS);
	assert_near(vb.energy_j, expected[1], EPS);
	assert_near(va.t, w->t, EPS);
	assert_string_equal(va.source, "wall");
	assert_false(va.ended);
	_world_free(w);
}

static void node_energy_is_the_wall_delta(void **state)
{
	struct step a, b;
	struct world *w = _two_jobs(WITH_RAPL | WITH_SENSOR, &a, &b);
	double wall0 = w->wall_j;
	fp_poller_status_t st;

	_interval(w, &a, &b, idle_kind, NULL);
	st = _status(w);
	assert_true(st.ready);
	assert_near(st.energy_j, w->wall_j - wall0, 1e-9);
	assert_string_equal(st.source, "wall");
	assert_int_equal(st.polls, 2);
	_world_free(w);
}

static void vanished_step_keeps_its_last_published_value(void **state)
{
	struct step a, b;
	struct world *w = _two_jobs(WITH_RAPL | WITH_SENSOR, &a, &b);
	const double e_j[NDOM] = { 100, 10, 100, 10 };
	const double busy[NCPU] = { 1, 1, 1, 1 }, run[NCPU] = { 1, 0, 0, 0 };
	fp_step_value_t before, after;
	double t_before;

	_interval(w, &a, &b, idle_kind, NULL);
	before = _published(w, "200.0");
	t_before = w->t;
	_step_remove(w, &b);
	_step_run(w, &a, run);
	_advance(w, 10, e_j, busy, 400);
	_poll(w);
	after = _published(w, "200.0");
	assert_true(before.energy_j > 0);
	assert_near(after.energy_j, before.energy_j, 0);
	assert_near(after.t, t_before, EPS);
	/* the surviving step did move on */
	assert_near(_published(w, "100.0").t, w->t, EPS);
	_world_free(w);
}

static void new_step_is_published_after_its_first_interval(void **state)
{
	struct step a, b, c = { 100, "1", "0-1\n", { 0 } };
	struct world *w = _two_jobs(WITH_RAPL | WITH_SENSOR, &a, &b);
	const double dt = 5, e_j[NDOM] = { 120, 20, 80, 12 };
	const double busy[NCPU] = { 2, 4, 1, 0 }, wall = 500;
	struct ref_step ref[3] = {
		{ a.job, { true, false, false, false }, { 1.5, 0, 0, 0 } },
		{ b.job, { false, false, true, true }, { 0, 0, 0.5, 0 } },
		{ c.job, { true, true, false, false }, { 0.5, 2.5, 0, 0 } },
	};
	double expected[3];
	fp_step_value_t v;
	fp_error_t err = { 0 };

	_interval(w, &a, &b, idle_kind, NULL);
	assert_int_equal(fp_publish_read_step(w->steps, "100.1", &v, &err), -1);
	assert_int_equal(err.code, FP_EIO);
	/* A second step of job 100 appears within the interval (counters
	 * from 0), sharing CPU 0 with the first. */
	_step_run(w, &a, ref[0].a_s);
	_step_run(w, &b, ref[1].a_s);
	_step_run(w, &c, ref[2].a_s);
	_advance(w, dt, e_j, busy, wall);
	_poll(w);
	_reference(dt, e_j, idle_kind, busy, ref, 3, wall, expected);
	v = _published(w, "100.1");
	assert_near(v.energy_j, expected[2], EPS);
	assert_near(v.t, w->t, EPS);
	_world_free(w);
}

/* ---- sources ---------------------------------------------------------- */

static void no_rapl_and_no_sensor_is_not_supported(void **state)
{
	struct world *w = _world(0);
	fp_error_t err = { 0 };

	w->p = fp_poller_new(&w->cfg, _logger, &w->log, &err);
	assert_null(w->p);
	assert_int_equal(err.code, FP_ENOTSUP);
	assert_non_null(strstr(err.msg, w->powercap));
	_world_free(w);
}

static void sensor_alone_gives_node_energy_from_the_wall(void **state)
{
	struct world *w = _world(WITH_SENSOR);
	const double e_j[NDOM] = { 0 }, busy[NCPU] = { 1, 1, 1, 1 };
	fp_poller_status_t st;

	/* no powercap tree at all */
	_rm_rf(w->powercap);
	_open(w);
	_poll(w);
	_advance(w, 10, e_j, busy, 750);
	_poll(w);
	_advance(w, 10, e_j, busy, 250);
	_poll(w);
	st = _status(w);
	assert_true(st.ready);
	assert_near(st.energy_j, 1000, 1e-9);
	assert_near(st.power_w, 25, 1e-9);
	assert_string_equal(st.source, "wall");
	_world_free(w);
}

static void rapl_alone_gives_package_plus_dram(void **state)
{
	struct world *w = _world(WITH_RAPL);
	const double e_j[NDOM] = { 300, 40, 250, 30 };
	const double busy[NCPU] = { 1, 1, 1, 1 };
	fp_poller_status_t st;

	_open(w);
	_poll(w);
	_advance(w, 10, e_j, busy, 0);
	_poll(w);
	st = _status(w);
	assert_near(st.energy_j, 300 + 40 + 250 + 30, 1e-6);
	assert_string_equal(st.source, "rapl");
	_world_free(w);
}

/* Poll 1 fresh; poll 2's feed is older than SensorMaxAge. */
static struct world *_stale_sensor(void)
{
	struct world *w = _world(WITH_RAPL | WITH_SENSOR);
	const double e_j[NDOM] = { 300, 40, 250, 30 };
	const double busy[NCPU] = { 1, 1, 1, 1 };

	_set(w, "SensorMaxAge", "30");
	_open(w);
	_poll(w);
	_advance(w, 100, e_j, busy, 9000);
	_write_sensor(w, w->t - 31);
	_poll(w);
	return w;
}

static void stale_sensor_makes_the_node_fall_back(void **state)
{
	struct world *w = _stale_sensor();
	fp_poller_status_t st = _status(w);

	assert_string_not_equal(st.source, "wall");
	/* nothing else to go by yet: the RAPL total */
	assert_string_equal(st.source, "rapl");
	assert_near(st.energy_j, 620, 1e-6);
	_world_free(w);
}

static void stale_sensor_is_down_with_its_fault_in_the_metrics(void **state)
{
	struct world *w = _stale_sensor();
	char *text = _slurp(w->metrics), line[256];

	snprintf(line, sizeof(line),
		 "footprint_sensor_up{node=\"n1\","
		 "fault=\"%s\"}",
		 fp_sensor_fault_str(FP_SENSOR_STALE));
	assert_near(_metric(text, line), 0, 0);
	free(text);
	_world_free(w);
}

/* ---- metrics and trace ------------------------------------------------ */

static void metrics_carry_job_and_step_lines_with_their_labels(void **state)
{
	struct world *w = _world(WITH_RAPL | WITH_SENSOR);
	struct step a = step_a, b = step_b;
	double e_a, e_b;
	char *text;
	fp_error_t err = { 0 };

	_step_write(w, &a);
	_step_write(w, &b);
	_open(w);
	/* The step daemon knows who runs job 100; nobody said for 200. */
	assert_int_equal(fp_publish_job_labels(w->jobs, 100, "alice", "physics",
					       &err),
			 0);
	_poll(w);
	_interval(w, &a, &b, idle_kind, NULL);
	e_a = _published(w, "100.0").energy_j;
	e_b = _published(w, "200.0").energy_j;
	text = _slurp(w->metrics);
	assert_near(_metric(text,
			    "footprint_job_energy_joules_total{node=\"n1\","
			    "job=\"100\",user=\"alice\","
			    "account=\"physics\"}"),
		    e_a, EPS);
	assert_near(_metric(text,
			    "footprint_step_energy_joules_total{node=\"n1\","
			    "job=\"100\",step=\"100.0\",user=\"alice\","
			    "account=\"physics\"}"),
		    e_a, EPS);
	assert_near(_metric(text,
			    "footprint_step_energy_joules_total{node=\"n1\","
			    "job=\"200\",step=\"200.0\",user=\"\","
			    "account=\"\"}"),
		    e_b, EPS);
	free(text);

	/* Labels written late are picked up; once known they are kept
	 * (read once per job, not at every poll). */
	assert_int_equal(
		fp_publish_job_labels(w->jobs, 200, "bob", "chem", &err), 0);
	assert_int_equal(
		fp_publish_job_labels(w->jobs, 100, "mallory", "x", &err), 0);
	_interval(w, &a, &b, idle_kind, NULL);
	text = _slurp(w->metrics);
	assert_true(_metric(text, "footprint_job_energy_joules_total{node="
				  "\"n1\",job=\"200\",user=\"bob\","
				  "account=\"chem\"}") > e_b);
	assert_true(_metric(text, "footprint_job_energy_joules_total{node="
				  "\"n1\",job=\"100\",user=\"alice\","
				  "account=\"physics\"}") > e_a);
	free(text);
	_world_free(w);
}

/* Job 200 ends after one interval: the metrics of the next poll, with
 * MetricsJobs=mode (the caller free()s them). */
static char *_metrics_after_job_200_ends(const char *mode)
{
	struct world *w = _world(WITH_RAPL | WITH_SENSOR);
	struct step a = step_a, b = step_b;
	const double e_j[NDOM] = { 100, 10, 100, 10 };
	const double busy[NCPU] = { 1, 1, 1, 1 }, run[NCPU] = { 1, 0, 0, 0 };
	char *text;

	_step_write(w, &a);
	_step_write(w, &b);
	_set(w, "MetricsJobs", mode);
	_open(w);
	_poll(w);
	_interval(w, &a, &b, idle_kind, NULL);
	text = _slurp(w->metrics);
	/* while it runs, every mode but none has its series */
	if (strcmp(mode, "none"))
		assert_non_null(strstr(text, "job=\"200\""));
	free(text);
	_step_remove(w, &b);
	_step_run(w, &a, run);
	_advance(w, 10, e_j, busy, 400);
	_poll(w);
	text = _slurp(w->metrics);
	_world_free(w);
	return text;
}

static void
metrics_jobs_running_drops_an_ended_job_at_the_next_write(void **state)
{
	char *text = _metrics_after_job_200_ends("running");

	assert_null(strstr(text, "job=\"200\""));
	assert_non_null(strstr(text, "footprint_step_power_watts{node=\"n1\","
				     "job=\"100\",step=\"100.0\""));
	free(text);
}

static void
metrics_jobs_all_keeps_an_ended_job_with_its_final_values(void **state)
{
	char *text = _metrics_after_job_200_ends("all");

	assert_non_null(strstr(text, "footprint_job_energy_joules_total{"
				     "node=\"n1\",job=\"200\""));
	assert_non_null(strstr(text, "footprint_step_energy_joules_total{"
				     "node=\"n1\",job=\"200\",step=\"200.0\""));
	free(text);
}

static void metrics_jobs_none_writes_the_node_series_only(void **state)
{
	char *text = _metrics_after_job_200_ends("none");

	assert_null(strstr(text, "job="));
	assert_null(strstr(text, "step="));
	assert_non_null(strstr(text, "footprint_node_power_watts{node=\"n1\""));
	assert_non_null(strstr(text, "footprint_sensor_up{node=\"n1\""));
	free(text);
}

static void metrics_are_written_once_per_metrics_interval(void **state)
{
	struct world *w = _world(WITH_RAPL);
	const double e_j[NDOM] = { 30, 4, 25, 3 };
	const double busy[NCPU] = { 1, 1, 1, 1 };

	_set(w, "MetricsInterval", "10");
	_set(w, "PollInterval", "1");
	_open(w);
	_poll(w);
	/* the first poll writes them, then not before 10 s have passed */
	assert_int_equal(access(w->metrics, F_OK), 0);
	assert_int_equal(unlink(w->metrics), 0);
	for (int i = 1; i < 10; i++) {
		_advance(w, 1, e_j, busy, 0);
		_poll(w);
		assert_int_equal(access(w->metrics, F_OK), -1);
	}
	/* 10 s less a few ms of drift is due */
	_advance(w, 0.995, e_j, busy, 0);
	_poll(w);
	assert_int_equal(access(w->metrics, F_OK), 0);
	_world_free(w);
}

/* The single trace file the poller wrote. */
static void _trace_file(const struct world *w, char *path, size_t size)
{
	DIR *d = opendir(w->trace);
	struct dirent *e;
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strstr(e->d_name, ".jsonl")) {
			snprintf(path, size, "%s/%s", w->trace, e->d_name);
			n++;
		}
	closedir(d);
	assert_int_equal(n, 1);
}

static void trace_replays_to_the_published_step_energies(void **state)
{
	struct step a, b, c = { 300, "batch", "1-2\n", { 0 } };
	struct world *w = _two_jobs(WITH_RAPL | WITH_SENSOR, &a, &b);
	const char *ids[] = { "100.0", "200.0", "300.batch" };
	char path[512];
	fp_trace_reader_t *r;
	fp_engine_t *e;
	const fp_sample_t *s;
	fp_error_t err = { 0 };
	int rc, samples = 0;

	_interval(w, &a, &b, idle_kind, NULL);
	for (int i = 0; i < 6; i++) {
		const double e_j[NDOM] = { 90 + 7 * i, 11, 60 + 13 * i, 9 };
		const double busy[NCPU] = { 2, 1 + 0.5 * i, 3, 1 };
		const double ra[NCPU] = { 1 + 0.25 * i, 0, 0, 0 };
		const double rb[NCPU] = { 0, 0, 2, 0.5 * i };
		const double rc_[NCPU] = { 0, 0.5, 0.5, 0 };

		_step_run(w, &a, ra);
		if (i < 3)
			_step_run(w, &b, rb);
		else if (i == 3)
			_step_remove(w, &b);
		if (i >= 2)
			_step_run(w, &c, rc_);
		_advance(w, 5, e_j, busy, 400 + 10 * i);
		if (i == 4) /* one interval without a valid wall value */
			_write_sensor(w, w->t - 1000);
		_poll(w);
	}
	_trace_file(w, path, sizeof(path));
	r = fp_trace_reader_open(path, &err);
	if (!r)
		fail_msg("%s: %s", path, err.msg);
	e = fp_engine_new(fp_trace_reader_desc(r), NULL, &err);
	assert_non_null(e);
	while ((rc = fp_trace_reader_next(r, &s, &err)) == 1) {
		if (fp_engine_push(e, s, &err))
			fail_msg("replay: %s", err.msg);
		samples++;
	}
	assert_int_equal(rc, 0);
	assert_int_equal(samples, 8); /* baseline, 1 + 6 intervals */
	for (size_t i = 0; i < 3; i++) {
		fp_engine_step_t res;

		assert_int_equal(fp_engine_step(e, ids[i], &res), 0);
		assert_true(res.energy_j > 0);
		assert_near(res.energy_j, _published(w, ids[i]).energy_j, EPS);
	}
	fp_engine_free(e);
	fp_trace_reader_free(r);
	_world_free(w);
}

/* A meter that reads less than RAPL over an interval is at fault: the
 * engine drops its wall there (and as the next interval's baseline, so
 * that one is not judged), the poller says it once and traces that sample
 * without a wall, so the trace replays to what was published. */
static void wall_below_rapl_is_said_once_and_traced_as_dropped(void **state)
{
	struct step a, b;
	struct world *w = _two_jobs(WITH_RAPL | WITH_SENSOR, &a, &b);
	char path[512], *at;
	fp_trace_reader_t *r;
	fp_engine_t *e;
	const fp_sample_t *s;
	fp_engine_node_t n;
	fp_error_t err = { 0 };
	int rc, below = 0, unwalled = 0;

	_interval(w, &a, &b, idle_kind, NULL);
	for (int i = 0; i < 5; i++) {
		const double e_j[NDOM] = { 90, 11, 60, 9 }; /* 170 J */
		const double busy[NCPU] = { 2, 1, 3, 1 };
		const double ra[NCPU] = { 1, 0, 0, 0 };
		const double rb[NCPU] = { 0, 0, 2, 0.5 };

		_step_run(w, &a, ra);
		_step_run(w, &b, rb);
		/* the meter sees 100 J of RAPL's 170 at the third */
		_advance(w, 5, e_j, busy, i == 2 ? 100 : 400);
		_poll(w);
		fp_engine_node(fp_poller_engine(w->p), &n);
		below += n.wall_below_rapl;
	}
	assert_int_equal(below, 1);
	assert_int_equal(n.walls_below_rapl, 1);
	/* said once until it clears, then said cleared */
	at = w->log.all;
	for (int k = 0; (at = strstr(at, "is less than RAPL")); k++, at++)
		assert_true(k < 1);
	assert_non_null(strstr(w->log.all, "wall energy above RAPL again"));
	_trace_file(w, path, sizeof(path));
	r = fp_trace_reader_open(path, &err);
	if (!r)
		fail_msg("%s: %s", path, err.msg);
	e = fp_engine_new(fp_trace_reader_desc(r), NULL, &err);
	assert_non_null(e);
	while ((rc = fp_trace_reader_next(r, &s, &err)) == 1) {
		unwalled += !s->wall_valid;
		if (fp_engine_push(e, s, &err))
			fail_msg("replay: %s", err.msg);
	}
	assert_int_equal(rc, 0);
	assert_int_equal(unwalled, 1); /* the faulty one */
	for (size_t i = 0; i < 2; i++) {
		const char *id = i ? "200.0" : "100.0";
		fp_engine_step_t res;

		assert_int_equal(fp_engine_step(e, id, &res), 0);
		assert_near(res.energy_j, _published(w, id).energy_j, EPS);
	}
	fp_engine_free(e);
	fp_trace_reader_free(r);
	_world_free(w);
}

static int _by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* TraceMaxSize counts a zstd trace's compressed bytes, the bytes on disk:
 * every file it closed reached the limit there (counting the JSON text, it
 * would have closed files of a fraction of it), each ends its frame, and
 * the files continue as one trace without losing a sample. The option's
 * floor is 1M; the limit is set below it to rotate within a few polls. */
static void zstd_trace_rotates_by_its_compressed_size(void **state)
{
	enum { POLLS = 60, LIMIT = 1500 };
	struct step a, b;
	struct world *w = _world(WITH_RAPL | WITH_SENSOR);
	char *names[POLLS + 1], path[PATH_MAX];
	size_t n = 0, samples = 0;
	uint64_t text = 0;
	DIR *d;
	struct dirent *e;
	fp_trace_reader_t *r = NULL;
	const fp_sample_t *s;
	fp_error_t err = { 0 };
	int rc;

	a = step_a;
	b = step_b;
	_step_write(w, &a);
	_step_write(w, &b);
	_set(w, "TraceCompress", "zstd");
	w->cfg.trace_max_bytes = LIMIT;
	_open(w);
	_poll(w);
	for (int i = 1; i < POLLS; i++)
		_interval(w, &a, &b, idle_kind, NULL);
	fp_poller_free(w->p); /* closes the last file too */
	w->p = NULL;

	assert_non_null(d = opendir(w->trace));
	while ((e = readdir(d)))
		if (strstr(e->d_name, ".jsonl.zst") && n < POLLS)
			names[n++] = strdup(e->d_name);
	closedir(d);
	qsort(names, n, sizeof(*names), _by_name);
	assert_true(n >= 3);
	for (size_t i = 0; i < n; i++) {
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", w->trace, names[i]);
		assert_int_equal(stat(path, &st), 0);
		if (i + 1 < n)
			assert_true(st.st_size >= LIMIT);
		if (!r) {
			r = fp_trace_reader_open(path, &err);
			if (!r)
				fail_msg("%s: %s", path, err.msg);
		} else if (fp_trace_reader_continue(r, path, &err)) {
			fail_msg("%s: %s", path, err.msg);
		}
		while ((rc = fp_trace_reader_next(r, &s, &err)) == 1)
			samples++;
		if (rc)
			fail_msg("%s: %s", path, err.msg);
		assert_null(fp_trace_reader_warning(r));
		free(names[i]);
	}
	text = fp_trace_reader_bytes(r);
	assert_int_equal(samples, POLLS);
	/* the JSON text of the closed files was far above the limit each */
	assert_true(text > (uint64_t)LIMIT * 2 * (n - 1));
	fp_trace_reader_free(r);
	_world_free(w);
}

/* ---- IdleWatts -------------------------------------------------------- */

static double _idle_of(const struct world *w, const char *domain,
		       bool *estimated)
{
	const fp_engine_t *e = fp_poller_engine(w->p);
	int d = fp_sample_node_desc_domain(fp_engine_desc(e), domain);

	assert_true(d >= 0);
	return fp_engine_idle_w(e, (size_t)d, estimated);
}

static void idle_watts_per_kind_apply_to_every_domain_of_it(void **state)
{
	struct world *w = _world(WITH_RAPL | WITH_SENSOR);
	bool est = true;

	_set(w, "IdleWatts", "package=12.5,dram=3");
	_open(w);
	assert_near(_idle_of(w, "package-0", &est), 12.5, 0);
	assert_false(est);
	assert_near(_idle_of(w, "package-1", &est), 12.5, 0);
	assert_near(_idle_of(w, "dram-0", &est), 3, 0);
	assert_near(_idle_of(w, "dram-1", &est), 3, 0);
	_world_free(w);
}

static void idle_watts_of_a_domain_win_over_its_kind(void **state)
{
	struct world *w = _world(WITH_RAPL | WITH_SENSOR);

	/* The domain is named first: the order of the list does not matter. */
	_set(w, "IdleWatts", "package-1=4,dram-0=1,package=12.5,dram=3");
	_open(w);
	assert_near(_idle_of(w, "package-0", NULL), 12.5, 0);
	assert_near(_idle_of(w, "package-1", NULL), 4, 0);
	assert_near(_idle_of(w, "dram-0", NULL), 1, 0);
	assert_near(_idle_of(w, "dram-1", NULL), 3, 0);
	_world_free(w);
}

static void idle_watts_of_a_domain_shape_the_step_energies(void **state)
{
	struct world *w = _world(WITH_RAPL | WITH_SENSOR);
	struct step a = step_a, b = step_b;
	const double idle[NDOM] = { 10, 2, 4, 2 };
	double expected[2];

	_step_write(w, &a);
	_step_write(w, &b);
	_set(w, "IdleWatts", "package=10,dram=2,package-1=4");
	_open(w);
	_poll(w);
	_interval(w, &a, &b, idle, expected);
	assert_near(_published(w, "100.0").energy_j, expected[0], EPS);
	assert_near(_published(w, "200.0").energy_j, expected[1], EPS);
	_world_free(w);
}

/* ---- configuration ---------------------------------------------------- */

/* key=value is refused naming both, and every option keeps its default. */
static void _refused(const char *key, const char *value)
{
	fp_poller_config_t cfg, fresh;
	fp_error_t err = { 0 };

	fp_poller_config_init(&cfg);
	fp_poller_config_init(&fresh);
	if (fp_poller_config_set(&cfg, key, value, &err) != -1)
		fail_msg("%s=%s was accepted", key, value);
	assert_int_equal(err.code, FP_EINVAL);
	if (!strstr(err.msg, key) || !strstr(err.msg, value))
		fail_msg("%s=%s: message '%s' does not name both", key, value,
			 err.msg);
	for (size_t i = 0; fp_poller_config_key(i); i++) {
		const char *k = fp_poller_config_key(i);
		char *got = fp_poller_config_get(&cfg, k);
		char *dflt = fp_poller_config_get(&fresh, k);

		assert_non_null(got);
		if (strcmp(got, dflt))
			fail_msg("%s=%s changed %s from %s to %s", key, value,
				 k, dflt, got);
		free(got);
		free(dflt);
	}
	fp_poller_config_clear(&cfg);
	fp_poller_config_clear(&fresh);
}

static void relative_paths_are_refused(void **state)
{
	static const char *const keys[] = { "PowercapRoot",  "ProcRoot",
					    "CgroupRoot",    "Topology",
					    "SimulatedNode", "Sensor",
					    "RunDir",	     "PartsDir",
					    "Metrics",	     "TraceDir" };

	for (size_t i = 0; i < sizeof(keys) / sizeof(*keys); i++) {
		_refused(keys[i], "relative/path");
		_refused(keys[i], "");
	}
}

static void bad_numbers_are_refused(void **state)
{
	static const char *const keys[] = { "SensorMaxAge", "SensorCeiling",
					    "PollInterval", "TraceMaxSize",
					    "MetricsInterval" };
	static const char *const bad[] = { "-3",  "NaN",  "nan",
					   "inf", "lots", "5s" };

	for (size_t k = 0; k < sizeof(keys) / sizeof(*keys); k++)
		for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
			_refused(keys[k], bad[i]);
}

static void poll_interval_zero_is_refused(void **state)
{
	_refused("PollInterval", "0");
}

static void calibration_other_than_yes_or_no_is_refused(void **state)
{
	_refused("Calibration", "maybe");
}

static void activity_other_than_auto_cgroup_perf_is_refused(void **state)
{
	_refused("Activity", "gpu");
}

static void idle_watts_without_a_number_is_refused(void **state)
{
	_refused("IdleWatts", "package");
	_refused("IdleWatts", "=5");
	_refused("IdleWatts", "package=");
}

static void negative_idle_watts_are_refused(void **state)
{
	_refused("IdleWatts", "package=-3");
	_refused("IdleWatts", "dram=2,package=-3");
	_refused("IdleWatts", "package-0=nan");
}

static void unknown_option_is_refused(void **state)
{
	_refused("IdleWats", "package=5");
}

static void idle_watts_naming_a_domain_twice_is_refused(void **state)
{
	_refused("IdleWatts", "package=5,package=6");
	_refused("IdleWatts", "package-0=1,dram=2,PACKAGE-0=2");
}

static void idle_watts_of_an_unknown_domain_is_refused(void **state)
{
	static const char *const bad[] = { "gpu=5",    "core=2",  "package-x=1",
					   "psys-0=1", "dram-=3", "package0=4" };
	fp_poller_config_t cfg;
	fp_error_t err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		_refused("IdleWatts", bad[i]);
	fp_poller_config_init(&cfg);
	assert_int_equal(fp_poller_config_set(&cfg, "IdleWatts", "gpu=5", &err),
			 -1);
	assert_string_equal(err.msg, "IdleWatts=gpu=5: unknown domain 'gpu' "
				     "(a kind: package, dram, psys; or a "
				     "domain: package-0, dram-1)");
	fp_poller_config_clear(&cfg);
}

static void idle_watts_of_a_domain_this_node_lacks_is_said(void **state)
{
	struct world *w = _world(WITH_RAPL | WITH_SENSOR);

	_set(w, "IdleWatts", "package=12.5,package-7=3");
	_open(w);
	assert_near(_idle_of(w, "package-0", NULL), 12.5, 0);
	if (!strstr(w->log.all, "IdleWatts=package=12.5,package-7=3: this "
				"node has no domain 'package-7'; ignored"))
		fail_msg("log: %s", w->log.all);
	_world_free(w);
}

/* key=value is taken and reads back as want. */
static void _reads_back(const char *key, const char *value, const char *want)
{
	fp_poller_config_t cfg;
	fp_error_t err;
	char *got;

	fp_poller_config_init(&cfg);
	if (fp_poller_config_set(&cfg, key, value, &err))
		fail_msg("%s=%s: %s", key, value, err.msg);
	got = fp_poller_config_get(&cfg, key);
	if (strcmp(got, want))
		fail_msg("%s=%s reads back as %s, not %s", key, value, got,
			 want);
	free(got);
	fp_poller_config_clear(&cfg);
}

static void
yes_no_and_keywords_take_the_same_spellings_in_any_case(void **state)
{
	static const char *const yes[] = { "yes",  "YES", "true",
					   "True", "on",  "1" };
	static const char *const no[] = { "no",	   "No",  "false",
					  "FALSE", "off", "0" };

	for (size_t i = 0; i < sizeof(yes) / sizeof(*yes); i++) {
		_reads_back("Calibration", no[i], "no");
		_reads_back("Calibration", yes[i], "yes");
	}
	_refused("Calibration", "2");
	_refused("Calibration", "y");
	_reads_back("Activity", "CGroup", "cgroup");
	_reads_back("Activity", "PERF", "perf");
	_reads_back("IdleWatts", "AUTO", "AUTO");
	_reads_back("IdleWatts", "Package=3,DRAM-0=1", "Package=3,DRAM-0=1");
}

static void idle_watts_names_apply_in_any_case(void **state)
{
	struct world *w = _world(WITH_RAPL | WITH_SENSOR);

	_set(w, "IdleWatts", "Package=12.5,DRAM-1=3");
	_open(w);
	assert_near(_idle_of(w, "package-1", NULL), 12.5, 0);
	assert_near(_idle_of(w, "dram-1", NULL), 3, 0);
	_world_free(w);
}

static void sizes_take_a_unit_and_say_it(void **state)
{
	fp_poller_config_t cfg;
	fp_error_t err;

	_reads_back("TraceMaxSize", "64", "64M");
	_reads_back("TraceMaxSize", "64MiB", "64M");
	_reads_back("TraceMaxSize", "2g", "2G");
	_reads_back("TraceMaxSize", "1.5M", "1536K");
	_reads_back("TraceMaxSize", "4096kb", "4M");
	_refused("TraceMaxSize", "512K");
	_refused("TraceMaxSize", "5x");
	_refused("TraceMaxSize", "64 M");
	_refused("TraceMaxSize", "2Gb/s");
	fp_poller_config_init(&cfg);
	assert_int_equal(fp_poller_config_set(&cfg, "TraceMaxSize", "5x", &err),
			 -1);
	assert_string_equal(err.msg, "TraceMaxSize=5x: not a size from 1M to "
				     "1000000M (a number of MiB, or with a "
				     "unit: 512K, 64M, 2G)");
	fp_poller_config_clear(&cfg);
}

static void numbers_say_their_unit_when_refused(void **state)
{
	static const char *const kv[][3] = {
		{ "SensorMaxAge", "-3",
		  "not a number of seconds from 0.1 to "
		  "86400" },
		{ "SensorCeiling", "0",
		  "not a number of watts from 1 to "
		  "10000000" },
		{ "PollInterval", "5s",
		  "not a number of seconds from 0.1 to "
		  "3600" },
	};

	for (size_t i = 0; i < sizeof(kv) / sizeof(*kv); i++) {
		fp_poller_config_t cfg;
		fp_error_t err;
		char want[160];

		fp_poller_config_init(&cfg);
		assert_int_equal(fp_poller_config_set(&cfg, kv[i][0], kv[i][1],
						      &err),
				 -1);
		snprintf(want, sizeof(want), "%s=%s: %s", kv[i][0], kv[i][1],
			 kv[i][2]);
		assert_string_equal(err.msg, want);
		fp_poller_config_clear(&cfg);
	}
}

/* sfootprint sensor-check judges a feed with the same limits. */
static void sensor_limits_are_the_sensor_libs(void **state)
{
	fp_poller_config_t cfg;
	char v[32];

	fp_poller_config_init(&cfg);
	assert_true(cfg.sensor_max_age_s == FP_SENSOR_MAX_AGE_S);
	assert_true(cfg.sensor_ceiling_w == FP_SENSOR_CEILING_W);
	fp_poller_config_clear(&cfg);
	snprintf(v, sizeof(v), "%g", FP_SENSOR_MAX_AGE_MIN_S);
	_reads_back("SensorMaxAge", v, v);
	snprintf(v, sizeof(v), "%g", FP_SENSOR_MAX_AGE_MAX_S * 1.01);
	_refused("SensorMaxAge", v);
	snprintf(v, sizeof(v), "%g", FP_SENSOR_CEILING_MIN_W / 2);
	_refused("SensorCeiling", v);
	snprintf(v, sizeof(v), "%g", FP_SENSOR_CEILING_MAX_W);
	_reads_back("SensorCeiling", v, v);
}

/* The paragraph of option key in the man page, up to the next .TP or .SH
 * (the caller free()s it), or NULL. */
static char *_man_para(const char *man, const char *key)
{
	char head[96];
	const char *at, *tp, *sh;

	/* the option's own line: first on it, or after another's name */
	snprintf(head, sizeof(head), "\n\\fBEnergyFootprint%s\\fR", key);
	at = strstr(man, head);
	if (!at) {
		snprintf(head, sizeof(head), "\\fR, \\fBEnergyFootprint%s\\fR",
			 key);
		at = strstr(man, head);
	}
	if (!at)
		return NULL;
	tp = strstr(at, "\n.TP");
	sh = strstr(at, "\n.SH");
	if (!tp || (sh && sh < tp))
		tp = sh;
	return strndup(at, tp ? (size_t)(tp - at) : strlen(at));
}

/* A man page paragraph as it reads: no font escapes, "\-" a hyphen, one
 * line. */
static void _man_plain(char *para)
{
	char *w = para;

	for (const char *r = para; *r; r++) {
		if (r[0] == '\\' && r[1] == 'f' && r[2]) {
			r += 2;
			continue;
		}
		if (r[0] == '\\' && r[1] == '-')
			r++;
		*w++ = *r == '\n' ? ' ' : *r;
	}
	*w = '\0';
}

/* docs/acct_gather_energy_footprint.5 says what the code does, both ways:
 * every option of the table with its default and, for a number or size,
 * its range; and no option the code does not know. */
static void man_page_states_every_option_its_default_and_range(void **state)
{
	char *man = _slurp("docs/acct_gather_energy_footprint.5");
	fp_poller_config_t cfg;
	char want[256], range[64], *para;
	const char *key, *at;
	size_t nranged = 0, nkeys = 0;

	fp_poller_config_init(&cfg);
	for (size_t i = 0; (key = fp_poller_config_key(i)); i++) {
		char *v = fp_poller_config_get(&cfg, key);
		size_t n = strlen(v);

		para = _man_para(man, key);
		if (!para)
			fail_msg("the man page lacks %s", key);
		_man_plain(para);
		/* a default in words is "(...)": "Default: none." */
		if (v[0] == '(' && v[n - 1] == ')')
			snprintf(want, sizeof(want), "Default: %.*s",
				 (int)n - 2, v + 1);
		else
			snprintf(want, sizeof(want), "Default %s", v);
		if (!strstr(para, want))
			fail_msg("%s: the man page does not say '%s'", key,
				 want);
		if (!fp_poller_config_range(key, range, sizeof(range))) {
			if (!strstr(para, range))
				fail_msg("%s: the man page does not say '%s'",
					 key, range);
			nranged++;
		}
		free(para);
		free(v);
		nkeys++;
	}
	/* the numbers and the size have a range: SensorMaxAge,
	 * SensorCeiling, IdleWatts, PollInterval, MetricsInterval,
	 * TraceMaxSize */
	assert_int_equal(nranged, 6);
	/* the other way: every option the page names (headings, text,
	 * example) is one of the code's */
	for (at = man; (at = strstr(at, "EnergyFootprint")); at++) {
		char name[64];
		size_t n = 0;
		char *v;

		at += strlen("EnergyFootprint");
		while (n + 1 < sizeof(name) && isalnum((unsigned char)at[n])) {
			name[n] = at[n];
			n++;
		}
		name[n] = '\0';
		v = fp_poller_config_get(&cfg, name);
		if (!v)
			fail_msg("the man page states EnergyFootprint%s, an "
				 "option the code does not know",
				 name);
		free(v);
	}
	assert_true(nkeys > 20);
	fp_poller_config_clear(&cfg);
	free(man);
}

static void good_values_read_back_as_given(void **state)
{
	static const char *const kv[][2] = {
		{ "PowercapRoot", "/x/powercap" },
		{ "ProcRoot", "/x/proc" },
		{ "CgroupRoot", "/x/cgroup" },
		{ "Topology", "/x/topo.xml" },
		{ "SimulatedNode", "/x/sim" },
		{ "Sensor", "/x/sensor.json" },
		{ "SensorMaxAge", "12.5" },
		{ "SensorCeiling", "6000" },
		{ "IdleWatts", "package=10,dram-1=2.5" },
		{ "Calibration", "no" },
		{ "Activity", "cgroup" },
		{ "PollInterval", "2" },
		{ "RunDir", "/x/run" },
		{ "PartsDir", "/shared/footprint/%n/parts" },
		{ "Metrics", "/x/fp.prom" },
		{ "MetricsJobs", "all" },
		{ "MetricsInterval", "30" },
		{ "TraceDir", "/x/trace" },
		{ "TraceMaxSize", "128M" },
		{ "TraceCompress", "zstd" },
		{ "TraceForm", "compact" },
		{ "Gpus", "none" },
		{ "GpuHwmonRoot", "/x/hwmon" },
		{ "NvmlLibrary", "/x/libnvidia-ml.so.1" },
		{ "AmdSmiLibrary", "/x/libamd_smi.so" },
	};
	fp_poller_config_t cfg;
	size_t nkeys = 0;

	fp_poller_config_init(&cfg);
	for (size_t i = 0; i < sizeof(kv) / sizeof(*kv); i++) {
		fp_error_t err = { 0 };
		char *got;

		if (fp_poller_config_set(&cfg, kv[i][0], kv[i][1], &err))
			fail_msg("%s=%s: %s", kv[i][0], kv[i][1], err.msg);
		got = fp_poller_config_get(&cfg, kv[i][0]);
		assert_non_null(got);
		assert_string_equal(got, kv[i][1]);
		free(got);
	}
	/* every option was covered */
	while (fp_poller_config_key(nkeys))
		nkeys++;
	assert_int_equal(nkeys, sizeof(kv) / sizeof(*kv));
	fp_poller_config_clear(&cfg);
}

#define T(f) cmocka_unit_test_teardown(f, _teardown)

/* ---- GPUs --------------------------------------------------------------- */

/* Two hwmon GPUs under <root>/gpu: an Intel i915 at 0000:03:00.0 (GPU 0)
 * and an AMD amdgpu at 0000:83:00.0 (GPU 1), both with energy counters. */
static void _gpu_tree(struct world *w, const uint64_t uj[2])
{
	static const char *const pci[2] = { "0000:03:00.0", "0000:83:00.0" };
	static const char *const drv[2] = { "i915", "amdgpu" };
	char e[32], link[PATH_MAX], at[PATH_MAX];

	for (int g = 0; g < 2; g++) {
		snprintf(e, sizeof(e), "%" PRIu64 "\n", uj[g]);
		_writef(e, "%s/gpu/hwmon%d/energy1_input", w->root, g);
		snprintf(link, sizeof(link), "%s/gpu/hwmon%d/name", w->root, g);
		if (access(link, F_OK) == 0)
			continue;
		_writef(drv[g], "%s/gpu/hwmon%d/name", w->root, g);
		_writef("0x56a0\n", "%s/gpu/pci/%s/device", w->root, pci[g]);
		snprintf(link, sizeof(link), "%s/gpu/pci/%s", w->root, pci[g]);
		snprintf(at, sizeof(at), "%s/gpu/hwmon%d/device", w->root, g);
		assert_int_equal(symlink(link, at), 0);
	}
}

static struct world *_gpu_jobs(struct step *a, struct step *b, uint64_t uj[2],
			       const char *gpus_of_a)
{
	struct world *w = _world(WITH_RAPL | WITH_SENSOR);
	char root[256];

	*a = step_a;
	*b = step_b;
	_step_write(w, a);
	_step_write(w, b);
	_gpu_tree(w, uj);
	snprintf(root, sizeof(root), "%s/gpu", w->root);
	_set(w, "Gpus", "auto");
	_set(w, "GpuHwmonRoot", root);
	_set(w, "NvmlLibrary", "none");
	_set(w, "AmdSmiLibrary", "none");
	_set(w, "IdleWatts", "package=10,dram=2");
	_open(w);
	if (gpus_of_a)
		assert_int_equal(fp_step_gpus_write(fp_poller_gpus_dir(w->p),
						    "100.0", gpus_of_a, NULL),
				 0);
	assert_int_equal(fp_step_gpus_write(fp_poller_gpus_dir(w->p), "200.0",
					    "", NULL),
			 0);
	_poll(w); /* the baseline */
	return w;
}

/* One interval: GPU 0 gives gpu_j[0], GPU 1 gpu_j[1]; expected[] is each
 * step's CPU share by the reference model before the residual. */
static void _gpu_interval(struct world *w, struct step *a, struct step *b,
			  uint64_t uj[2], const double gpu_j[2], double *cpu)
{
	const double dt = 10, e_j[NDOM] = { 300, 40, 250, 30 };
	const double busy[NCPU] = { 5, 2, 3, 2 };
	struct ref_step ref[2] = {
		{ a->job, { true, false, false, false }, { 4, 0, 0, 0 } },
		{ b->job, { false, false, true, true }, { 0, 0, 3, 1 } },
	};

	_step_run(w, a, ref[0].a_s);
	_step_run(w, b, ref[1].a_s);
	for (int g = 0; g < 2; g++)
		uj[g] += (uint64_t)llround(gpu_j[g] * 1e6);
	_gpu_tree(w, uj);
	_advance(w, dt, e_j, busy, 2000);
	_poll(w);
	/* node_j = rapl: the shares before any residual */
	_reference(dt, e_j, idle_kind, busy, ref, 2, 620, cpu);
}

static void step_energy_includes_the_gpu_it_holds(void **state)
{
	struct step a, b;
	uint64_t uj[2] = { 5000000, 7000000 };
	const double gpu_j[2] = { 400, 100 };
	struct world *w = _gpu_jobs(&a, &b, uj, "0");
	double cpu[2], f = 2000.0 / (620 + 500);
	fp_engine_node_t n;

	_gpu_interval(w, &a, &b, uj, gpu_j, cpu);
	/* what the step daemon reads into sacct's ConsumedEnergy */
	assert_near(_published(w, "100.0").energy_j, (cpu[0] + 400) * f, EPS);
	assert_near(_published(w, "200.0").energy_j, cpu[1] * f, EPS);
	fp_engine_node(fp_poller_engine(w->p), &n);
	assert_near(n.gpu_j, 500, 1e-6);
	assert_near(n.gpu_idle_j, 100 * f, 1e-6); /* GPU 1: nobody's */
	assert_near(n.energy_j, 2000, 1e-6);
	assert_non_null(strstr(w->log.all, "2 GPUs"));
	_world_free(w);
}

static void step_gpus_given_by_pci_address_or_ordinal_list(void **state)
{
	struct step a, b;
	uint64_t uj[2] = { 0, 0 };
	const double gpu_j[2] = { 30, 70 };
	struct world *w = _gpu_jobs(&a, &b, uj, "83:00.0,0");
	double cpu[2], f = 2000.0 / (620 + 100);

	_gpu_interval(w, &a, &b, uj, gpu_j, cpu);
	assert_near(_published(w, "100.0").energy_j, (cpu[0] + 100) * f, EPS);
	_world_free(w);
}

static void step_whose_gpus_file_comes_late_holds_them_from_then(void **state)
{
	struct step a, b;
	uint64_t uj[2] = { 0, 0 };
	const double gpu_j[2] = { 40, 0 };
	struct world *w = _gpu_jobs(&a, &b, uj, NULL);
	double cpu[2], first, f = 2000.0 / (620 + 40);

	_gpu_interval(w, &a, &b, uj, gpu_j, cpu);
	first = _published(w, "100.0").energy_j;
	assert_near(first, cpu[0] * f, EPS); /* GPU 0 was nobody's */
	assert_int_equal(fp_step_gpus_write(fp_poller_gpus_dir(w->p), "100.0",
					    "0", NULL),
			 0);
	_gpu_interval(w, &a, &b, uj, gpu_j, cpu);
	assert_near(_published(w, "100.0").energy_j - first, (cpu[0] + 40) * f,
		    EPS);
	_world_free(w);
}

static void trace_of_a_gpu_node_records_the_gpu_fields(void **state)
{
	struct step a, b;
	uint64_t uj[2] = { 0, 0 };
	const double gpu_j[2] = { 10, 20 };
	struct world *w = _gpu_jobs(&a, &b, uj, "0");
	char path[PATH_MAX], *text;
	double cpu[2];

	_gpu_interval(w, &a, &b, uj, gpu_j, cpu);
	_trace_file(w, path, sizeof(path));
	text = _slurp(path);
	assert_non_null(strstr(text, "\"gpus\":[{\"index\":0,\"uuid\":"
				     "\"0000:03:00.0\",\"vendor\":\"intel\""));
	assert_non_null(strstr(text, "\"uuid\":\"0000:83:00.0\",\"vendor\":"
				     "\"amd\""));
	assert_non_null(strstr(text, "\"gpu_energy_uj\":[10000000,"
				     "20000000]"));
	assert_non_null(strstr(text, "\"gpus\":[0]}"));
	free(text);
	_world_free(w);
}

/* One interval of 10 s in which GPU 0 gives gpu0_j (NAN: it cannot be
 * read) and GPU 1 nothing; both steps run as in _gpu_interval (a NULL:
 * only b, a has ended). */
static void _gpu0_interval(struct world *w, struct step *a, struct step *b,
			   uint64_t uj[2], double gpu0_j)
{
	const double e_j[NDOM] = { 300, 40, 250, 30 };
	const double busy[NCPU] = { 5, 2, 3, 2 };
	const double a_s[NCPU] = { 4, 0, 0, 0 }, b_s[NCPU] = { 0, 0, 3, 1 };

	if (a)
		_step_run(w, a, a_s);
	_step_run(w, b, b_s);
	if (isfinite(gpu0_j)) {
		uj[0] += (uint64_t)llround(gpu0_j * 1e6);
		_gpu_tree(w, uj);
	} else {
		_writef("unreadable\n", "%s/gpu/hwmon0/energy1_input", w->root);
	}
	_advance(w, 10, e_j, busy, 2000);
	_poll(w);
}

static void ended_step_record_times_its_gpu_idle_judged_and_unread(void **state)
{
	struct step a, b;
	uint64_t uj[2] = { 0, 0 };
	/* GPU 0 at 30 W twice (its floor), busy at 200 W, unreadable, read
	 * again (the gap's energy carried in: no power of its own) */
	const double gpu0_j[] = { 300, 300, 2000, NAN, 600 };
	struct world *w = _gpu_jobs(&a, &b, uj, "0,7,GPU-gone");
	char parts[PATH_MAX];
	json_t *o, *g;
	fp_error_t err = { 0 };

	for (size_t i = 0; i < sizeof(gpu0_j) / sizeof(*gpu0_j); i++)
		_gpu0_interval(w, &a, &b, uj, gpu0_j[i]);
	_step_remove(w, &a);
	_gpu0_interval(w, NULL, &b, uj, 300);
	snprintf(parts, sizeof(parts), "%s/parts", w->run);
	if (fp_step_parts_load(parts, "", "100.0", &o, &err))
		fail_msg("%s", err.msg);
	g = json_array_get(json_object_get(o, "gpus"), 0);
	assert_int_equal(json_array_size(json_object_get(o, "gpus")), 1);
	assert_near(fp_json_number(g, "floor_w"), 30, 1e-9);
	assert_near(fp_json_number(g, "idle_s"), 20, 1e-9);
	assert_near(fp_json_number(g, "judged_s"), 30, 1e-9);
	assert_near(fp_json_number(g, "unread_s"), 10, 1e-9);
	/* the two ids the node has no GPU for are named, for the summary */
	assert_int_equal(json_array_size(json_object_get(o, "gpus_unknown")),
			 2);
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(o, "gpus_unknown"), 0)),
			    "7");
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(o, "gpus_unknown"), 1)),
			    "GPU-gone");
	json_decref(o);
	_world_free(w);
}

/* The step records go where PartsDir says, "%n" the node's name (a shared
 * folder per node), in a folder 0750 of the group the plugin passes
 * (SlurmUser's), records 0640 in it; RunDir/parts is not used. */
static void parts_dir_takes_the_node_name_and_slurm_users_group(void **state)
{
	struct step a, b;
	struct world *w = _world(WITH_RAPL | WITH_SENSOR);
	const double e_j[NDOM] = { 100, 10, 100, 10 };
	const double busy[NCPU] = { 1, 1, 1, 1 }, run[NCPU] = { 1, 0, 0, 0 };
	char dir[PATH_MAX], shared[PATH_MAX], path[PATH_MAX + 16];
	json_t *o = NULL;
	fp_error_t err = { 0 };
	struct stat st;

	a = step_a;
	b = step_b;
	_step_write(w, &a);
	_step_write(w, &b);
	snprintf(shared, sizeof(shared), "%s/shared/%%n/parts", w->root);
	_set(w, "PartsDir", shared);
	w->cfg.parts_gid = 4321; /* as root: any group will do */
	_open(w);
	_poll(w);
	snprintf(dir, sizeof(dir), "%s/shared/n1/parts", w->root);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0750);
	assert_int_equal(st.st_gid, 4321);
	_step_run(w, &a, run);
	_step_run(w, &b, run);
	_advance(w, 10, e_j, busy, 400);
	_poll(w);
	_step_remove(w, &b);
	_step_run(w, &a, run);
	_advance(w, 10, e_j, busy, 400);
	_poll(w);
	if (fp_step_parts_load(shared, "n1", "200.0", &o, &err))
		fail_msg("%s (log: %s)", err.msg, w->log.all);
	assert_string_equal(json_string_value(json_object_get(o, "node")),
			    "n1");
	json_decref(o);
	snprintf(path, sizeof(path), "%s/200.0", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(st.st_gid, 4321);
	/* nothing in RunDir/parts */
	snprintf(path, sizeof(path), "%s/parts/200.0", w->run);
	assert_int_not_equal(access(path, F_OK), 0);
	_world_free(w);
}

/* A PartsDir the node cannot make (a file in its way) is said once, with
 * the folder; the node's energy goes on and no record is half written. */
static void parts_dir_that_cannot_be_made_is_said_once(void **state)
{
	struct step a, b;
	struct world *w = _world(WITH_RAPL | WITH_SENSOR);
	const double e_j[NDOM] = { 100, 10, 100, 10 };
	const double busy[NCPU] = { 1, 1, 1, 1 }, run[NCPU] = { 1, 0, 0, 0 };
	char in_way[PATH_MAX], dir[PATH_MAX + 8];
	const char *hit;

	a = step_a;
	b = step_b;
	_step_write(w, &a);
	_step_write(w, &b);
	snprintf(in_way, sizeof(in_way), "%s/a-file", w->root);
	_writef("x\n", "%s", in_way);
	snprintf(dir, sizeof(dir), "%s/parts", in_way);
	_set(w, "PartsDir", dir);
	_open(w);
	_poll(w);
	for (int i = 0; i < 3; i++) {
		_step_run(w, &a, run);
		if (i == 0)
			_step_run(w, &b, run);
		else if (i == 1)
			_step_remove(w, &b);
		_advance(w, 10, e_j, busy, 400);
		_poll(w);
	}
	hit = strstr(w->log.all, "(PartsDir)");
	if (!hit)
		fail_msg("no PartsDir line in: %s", w->log.all);
	assert_non_null(strstr(w->log.all, dir));
	assert_null(strstr(hit + 1, "(PartsDir)"));
	assert_null(strstr(w->log.all, "step parts"));
	/* the node's energy was not affected */
	assert_true(_published(w, "100.0").energy_j > 0);
	_world_free(w);
}

static void gpus_none_reads_no_gpu(void **state)
{
	struct step a, b;
	struct world *w = _world(WITH_RAPL | WITH_SENSOR);
	uint64_t uj[2] = { 0, 0 };
	char root[256], path[PATH_MAX], *text;

	(void)a;
	(void)b;
	_gpu_tree(w, uj);
	snprintf(root, sizeof(root), "%s/gpu", w->root);
	_set(w, "GpuHwmonRoot", root);
	_set(w, "Gpus", "none");
	_open(w);
	_poll(w);
	_trace_file(w, path, sizeof(path));
	text = _slurp(path);
	assert_null(strstr(text, "gpu"));
	free(text);
	_world_free(w);
}

static void gpu_options_are_checked(void **state)
{
	_refused("Gpus", "some");
	_refused("NvmlLibrary", "lib/libnvidia-ml.so.1");
	_refused("NvmlLibrary", "");
	_refused("GpuHwmonRoot", "sys/class/hwmon");
	_reads_back("Gpus", "NONE", "none");
	_reads_back("Gpus", "auto", "auto");
	_reads_back("NvmlLibrary", "/opt/nvml/libnvidia-ml.so",
		    "/opt/nvml/libnvidia-ml.so");
	_reads_back("NvmlLibrary", "libnvidia-ml.so.1", "libnvidia-ml.so.1");
	_refused("AmdSmiLibrary", "lib/libamd_smi.so");
	_refused("AmdSmiLibrary", "");
	_reads_back("AmdSmiLibrary", "/opt/rocm/lib/libamd_smi.so",
		    "/opt/rocm/lib/libamd_smi.so");
	_reads_back("AmdSmiLibrary", "libamd_smi.so", "libamd_smi.so");
}

/* A node with only the test AMD SMI library's GPU (no NVML, no hwmon),
 * AmdSmiLibrary=lib, simulated (SimulatedNode is the world's own root:
 * its powercap, sensor and topology are where fp-simnode writes them) or
 * not; the library's state file is <root>/amdsmi.state. */
static struct world *_amdsmi_node(const char *lib, bool simulated)
{
	struct world *w = _world(WITH_RAPL | WITH_SENSOR);
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/amdsmi.state", w->root);
	setenv("FP_FAKE_AMDSMI_STATE", path, 1);
	_writef("gpu bdf=0000:c1:00.0 energy=1000\n", "%s/amdsmi.state",
		w->root);
	snprintf(path, sizeof(path), "%s/no-hwmon", w->root);
	_set(w, "Gpus", "auto");
	_set(w, "GpuHwmonRoot", path);
	_set(w, "NvmlLibrary", "none");
	_set(w, "AmdSmiLibrary", lib);
	if (simulated)
		_set(w, "SimulatedNode", w->root);
	_open(w);
	_poll(w);
	unsetenv("FP_FAKE_AMDSMI_STATE");
	return w;
}

/* The trace of the node's first poll mentions its AMD SMI GPU. */
static bool _traces_amd_gpu(struct world *w)
{
	char path[PATH_MAX], *text;
	bool found;

	_trace_file(w, path, sizeof(path));
	text = _slurp(path);
	found = strstr(text, "\"uuid\":\"0000:c1:00.0\",\"vendor\":"
			     "\"amd\"") != NULL;
	free(text);
	return found;
}

#ifdef FP_FAKE_AMDSMI
/* fp-simnode has no AMD SMI model: a simulated node on a ROCm host would
 * read the host's own GPUs. */
static void simulated_node_never_loads_amd_smi(void **state)
{
	struct world *w = _amdsmi_node(FP_FAKE_AMDSMI, false);

	/* the library is found and read on a real node: the test can fail */
	if (!_traces_amd_gpu(w))
		fail_msg("the test AMD SMI library's GPU is not read: %s",
			 w->log.all);
	_world_free(w);
	w = _amdsmi_node(FP_FAKE_AMDSMI, true);
	assert_false(_traces_amd_gpu(w));
	assert_non_null(strstr(w->log.all, "AMD SMI not asked for"));
	_world_free(w);
}
#endif

static void amd_smi_library_none_loads_no_amd_smi(void **state)
{
	struct world *w = _amdsmi_node("none", false);
	char *got = fp_poller_config_get(&w->cfg, "AmdSmiLibrary");

	assert_string_equal(got, "none");
	assert_false(_traces_amd_gpu(w));
	assert_non_null(strstr(w->log.all, "AMD SMI not asked for"));
	free(got);
	_world_free(w);
}

/* ---- An APU beside a GPU ------------------------------------------------ */

/* Two amdgpu hwmon devices under <root>/gpu: an MI300A APU at 0000:02:00.0
 * (device 0x74a0, GPU 0 by PCI order), whose power1_average is the
 * socket's (apu_uw, µW), and an MI210 at 0000:83:00.0 (0x740f, GPU 1)
 * with its energy1_input (mi_uj, µJ). */
static void _apu_tree(struct world *w, uint64_t apu_uw, uint64_t mi_uj)
{
	static const char *const pci[2] = { "0000:02:00.0", "0000:83:00.0" };
	static const char *const id[2] = { "0x74a0\n", "0x740f\n" };
	static const char *const model[2] = { "AMD Instinct MI300A\n",
					      "AMD Instinct MI210\n" };
	static const char *const file[2] = { "power1_average",
					     "energy1_input" };
	char v[32], link[PATH_MAX], at[PATH_MAX];

	for (int g = 0; g < 2; g++) {
		snprintf(v, sizeof(v), "%" PRIu64 "\n", g ? mi_uj : apu_uw);
		_writef(v, "%s/gpu/hwmon%d/%s", w->root, g, file[g]);
		snprintf(link, sizeof(link), "%s/gpu/hwmon%d/name", w->root, g);
		if (access(link, F_OK) == 0)
			continue;
		_writef("amdgpu\n", "%s/gpu/hwmon%d/name", w->root, g);
		_writef(id[g], "%s/gpu/pci/%s/device", w->root, pci[g]);
		_writef(model[g], "%s/gpu/pci/%s/product_name", w->root,
			pci[g]);
		snprintf(link, sizeof(link), "%s/gpu/pci/%s", w->root, pci[g]);
		snprintf(at, sizeof(at), "%s/gpu/hwmon%d/device", w->root, g);
		assert_int_equal(symlink(link, at), 0);
	}
}

/* The node of `with` with the APU and the MI210: step a (job 100) holds
 * the APU, step b (job 200) the MI210; polled once (the baseline). */
static struct world *_apu_jobs(int with, struct step *a, struct step *b,
			       uint64_t apu_uw, uint64_t mi_uj)
{
	struct world *w = _world(with);
	char root[256];

	*a = step_a;
	*b = step_b;
	_step_write(w, a);
	_step_write(w, b);
	_apu_tree(w, apu_uw, mi_uj);
	snprintf(root, sizeof(root), "%s/gpu", w->root);
	_set(w, "Gpus", "auto");
	_set(w, "GpuHwmonRoot", root);
	_set(w, "NvmlLibrary", "none");
	_set(w, "AmdSmiLibrary", "none");
	_set(w, "IdleWatts", "package=10,dram=2");
	_open(w);
	assert_int_equal(fp_step_gpus_write(fp_poller_gpus_dir(w->p), "100.0",
					    "02:00.0", NULL),
			 0);
	assert_int_equal(fp_step_gpus_write(fp_poller_gpus_dir(w->p), "200.0",
					    "83:00.0", NULL),
			 0);
	_poll(w);
	return w;
}

/* One 10 s interval: RAPL as _gpu_interval's (620 J on a node with
 * RAPL), the APU at apu_uw throughout, the MI210 mi_j more; cpu[] gets
 * each step's RAPL share by the reference model. */
static void _apu_interval(struct world *w, struct step *a, struct step *b,
			  uint64_t apu_uw, uint64_t *mi_uj, double mi_j,
			  double wall_j, double *cpu)
{
	const double dt = 10, e_j[NDOM] = { 300, 40, 250, 30 };
	const double busy[NCPU] = { 5, 2, 3, 2 };
	struct ref_step ref[2] = {
		{ a->job, { true, false, false, false }, { 4, 0, 0, 0 } },
		{ b->job, { false, false, true, true }, { 0, 0, 3, 1 } },
	};

	_step_run(w, a, ref[0].a_s);
	_step_run(w, b, ref[1].a_s);
	*mi_uj += (uint64_t)llround(mi_j * 1e6);
	_apu_tree(w, apu_uw, *mi_uj);
	_advance(w, dt, e_j, busy, wall_j);
	_poll(w);
	_reference(dt, e_j, idle_kind, busy, ref, 2, 620, cpu);
}

/* The MI300A's 300 W are the socket's, already in RAPL's packages: on a
 * node with RAPL the APU is left out (node = RAPL + the MI210, not + the
 * 3000 J it read), its holder is charged its CPU share only, and the
 * MI210 beside it counts as any GPU. */
static void amd_apu_is_not_counted_again_beside_rapl_an_amd_gpu_is(void **state)
{
	struct step a, b;
	uint64_t mi_uj = 9000000;
	struct world *w = _apu_jobs(WITH_RAPL, &a, &b, 300000000, mi_uj);
	double cpu[2];
	fp_engine_node_t n;
	fp_error_t err = { 0 };
	char path[PATH_MAX], *text;

	_apu_interval(w, &a, &b, 300000000, &mi_uj, 200, 0, cpu);
	fp_engine_node(fp_poller_engine(w->p), &n);
	assert_near(n.rapl_j, 620, 1e-6);
	assert_near(n.gpu_j, 200, 1e-6);
	assert_near(n.energy_j, 620 + 200, 1e-6);
	assert_near(n.gpu_idle_j, 0, 1e-6);
	assert_int_equal(
		fp_engine_check_conservation(fp_poller_engine(w->p), &err), 0);
	/* RAPL + GPUs is the node: no residual to share */
	assert_near(_published(w, "100.0").energy_j, cpu[0], EPS);
	assert_near(_published(w, "200.0").energy_j, cpu[1] + 200, EPS);
	assert_non_null(strstr(w->log.all, "GPU 0000:02:00.0 (AMD Instinct "
					   "MI300A) is an APU whose power RAPL "
					   "already counts: not added"));
	assert_non_null(strstr(w->log.all, "1 GPUs"));
	_trace_file(w, path, sizeof(path));
	text = _slurp(path);
	assert_non_null(strstr(text, "\"gpus\":[{\"index\":0,\"uuid\":"
				     "\"0000:83:00.0\",\"vendor\":\"amd\""));
	assert_null(strstr(text, "0000:02:00.0"));
	free(text);
	text = _slurp(w->metrics);
	assert_non_null(strstr(text, "pci=\"0000:83:00.0\""));
	assert_null(strstr(text, "0000:02:00.0"));
	free(text);
	_world_free(w);
}

/* Without RAPL nothing else counts the APU's socket: it is read as a GPU,
 * its holder charged its 3000 J and its share of the wall's rest. */
static void amd_apu_on_a_node_without_rapl_is_read_as_a_gpu(void **state)
{
	struct step a, b;
	uint64_t mi_uj = 0;
	struct world *w = _apu_jobs(WITH_SENSOR, &a, &b, 300000000, mi_uj);
	double cpu[2], f = 4000.0 / (3000 + 200);
	fp_engine_node_t n;

	_apu_interval(w, &a, &b, 300000000, &mi_uj, 200, 4000, cpu);
	fp_engine_node(fp_poller_engine(w->p), &n);
	assert_near(n.rapl_j, 0, 1e-9);
	assert_near(n.gpu_j, 3000 + 200, 1e-6);
	assert_near(n.energy_j, 4000, 1e-6);
	assert_near(_published(w, "100.0").energy_j, 3000 * f, EPS);
	assert_near(_published(w, "200.0").energy_j, 200 * f, EPS);
	assert_null(strstr(w->log.all, "is an APU"));
	assert_non_null(strstr(w->log.all, "2 GPUs"));
	_world_free(w);
}

/* ---- A GPU shared by two jobs, split by SM-busy time --------------------- */

#ifdef FP_FAKE_NVML
/* One NVIDIA GPU (the test NVML library, GPU-share) held by step a (job
 * 100, process 1001) and step b (job 200, process 2002); the processes'
 * /proc/<pid>/cgroup put them in their steps' v1 cgroups. */
static struct world *_shared_gpu(struct step *a, struct step *b)
{
	struct world *w = _world(WITH_RAPL | WITH_SENSOR);
	char path[PATH_MAX];

	*a = step_a;
	*b = step_b;
	_step_write(w, a);
	_step_write(w, b);
	_writef("4:cpuacct,cpu:/slurm/uid_0/job_100/step_0/task_0\n",
		"%s/1001/cgroup", w->proc);
	_writef("0::/\n4:cpuacct,cpu:/slurm/uid_0/job_200/step_0\n",
		"%s/2002/cgroup", w->proc);
	snprintf(path, sizeof(path), "%s/nvml.state", w->root);
	setenv("FP_FAKE_NVML_STATE", path, 1);
	snprintf(path, sizeof(path), "%s/no-hwmon", w->root);
	_set(w, "Gpus", "auto");
	_set(w, "GpuHwmonRoot", path);
	_set(w, "NvmlLibrary", FP_FAKE_NVML);
	_set(w, "AmdSmiLibrary", "none");
	_set(w, "IdleWatts", "package=10,dram=2");
	return w;
}

/* The GPU's counter at mj, with the per-process samples procs (lines of
 * the test library's state file). */
static void _nvml_state(struct world *w, unsigned long long mj,
			const char *procs)
{
	char text[4096];

	snprintf(text, sizeof(text),
		 "device uuid=GPU-share pci=00000000:3B:00.0 energy_mj=%llu\n"
		 "%s",
		 mj, procs);
	_writef(text, "%s/nvml.state", w->root);
}

static void _shared_open(struct world *w, const char *procs0)
{
	_nvml_state(w, 1000, procs0);
	_open(w);
	assert_int_equal(fp_step_gpus_write(fp_poller_gpus_dir(w->p), "100.0",
					    "GPU-share", NULL),
			 0);
	assert_int_equal(fp_step_gpus_write(fp_poller_gpus_dir(w->p), "200.0",
					    "GPU-share", NULL),
			 0);
	_poll(w); /* the baseline */
}

/* One 10 s interval in which the GPU used gpu_j; returns each step's GPU
 * share, and checks that the node's energy is conserved. */
static void _shared_interval(struct world *w, struct step *a, struct step *b,
			     unsigned long long mj, const char *procs,
			     double gpu[2])
{
	const double e_j[NDOM] = { 300, 40, 250, 30 };
	const double busy[NCPU] = { 5, 2, 3, 2 };
	const double a_s[NCPU] = { 4, 0, 0, 0 }, b_s[NCPU] = { 0, 0, 3, 1 };
	fp_engine_step_t ra, rb;
	fp_engine_node_t n;
	fp_error_t err = { 0 };

	_step_run(w, a, a_s);
	_step_run(w, b, b_s);
	_nvml_state(w, mj, procs);
	_advance(w, 10, e_j, busy, 2000);
	_poll(w);
	assert_int_equal(fp_engine_step(fp_poller_engine(w->p), "100.0", &ra),
			 0);
	assert_int_equal(fp_engine_step(fp_poller_engine(w->p), "200.0", &rb),
			 0);
	fp_engine_node(fp_poller_engine(w->p), &n);
	if (fp_engine_check_conservation(fp_poller_engine(w->p), &err))
		fail_msg("conservation: %s", err.msg);
	assert_near(ra.energy_j + rb.energy_j + n.system_j + n.idle_j +
			    n.gpu_idle_j,
		    n.energy_j, 1e-9 * n.energy_j);
	assert_near(n.gpu_j, (double)(mj - 1000) / 1e3, 1e-9);
	gpu[0] = ra.gpu_j;
	gpu[1] = rb.gpu_j;
}

/* A step's GPU share as sfootprint replay computes it from the trace. */
static double _replayed_gpu_j(const char *path, const char *id)
{
	fp_trace_reader_t *r;
	fp_engine_t *e;
	const fp_sample_t *s;
	fp_engine_step_t res;
	fp_error_t err = { 0 };
	int rc;

	r = fp_trace_reader_open(path, &err);
	if (!r)
		fail_msg("%s: %s", path, err.msg);
	e = fp_engine_new(fp_trace_reader_desc(r), NULL, &err);
	assert_non_null(e);
	while ((rc = fp_trace_reader_next(r, &s, &err)) == 1)
		if (fp_engine_push(e, s, &err))
			fail_msg("replay: %s", err.msg);
	assert_int_equal(rc, 0);
	assert_int_equal(fp_engine_step(e, id, &res), 0);
	fp_engine_free(e);
	fp_trace_reader_free(r);
	return res.gpu_j;
}

#define BASE_PROCS                              \
	"proc dev=0 pid=1001 sm=0 ts=1000000\n" \
	"proc dev=0 pid=2002 sm=0 ts=1000000\n"

static void shared_gpu_is_split_by_the_steps_sm_busy_time(void **state)
{
	struct step a, b;
	struct world *w = _shared_gpu(&a, &b);
	char path[PATH_MAX], *text;
	double gpu[2];

	_shared_open(w, BASE_PROCS);
	/* 3:1 over two driver samples of 0.5 s each */
	_shared_interval(w, &a, &b, 401000,
			 BASE_PROCS "proc dev=0 pid=1001 sm=60 ts=1500000\n"
				    "proc dev=0 pid=2002 sm=20 ts=1500000\n"
				    "proc dev=0 pid=1001 sm=30 ts=2000000\n"
				    "proc dev=0 pid=2002 sm=10 ts=2000000\n",
			 gpu);
	assert_near(gpu[0], 300, 1e-9);
	assert_near(gpu[1], 100, 1e-9);
	/* what sfootprint replay reads: 0.3 s and 0.1 s of SM-busy, in ns */
	_trace_file(w, path, sizeof(path));
	text = _slurp(path);
	assert_non_null(strstr(text, "\"gpu_busy\":[450000000]"));
	assert_non_null(strstr(text, "\"gpu_busy\":[150000000]"));
	free(text);
	assert_near(_replayed_gpu_j(path, "100.0"), 300, 1e-9);
	assert_near(_replayed_gpu_j(path, "200.0"), 100, 1e-9);
	_world_free(w);
}

static void shared_gpu_holder_without_samples_splits_it_equally(void **state)
{
	struct step a, b;
	struct world *w = _shared_gpu(&a, &b);
	double gpu[2];

	_shared_open(w, "proc dev=0 pid=1001 sm=0 ts=1000000\n");
	_shared_interval(w, &a, &b, 401000,
			 "proc dev=0 pid=1001 sm=90 ts=2000000\n", gpu);
	assert_near(gpu[0], 200, 1e-9);
	assert_near(gpu[1], 200, 1e-9);
	_world_free(w);
}

static void shared_gpu_samples_of_an_exited_process_are_nobodys(void **state)
{
	struct step a, b;
	struct world *w = _shared_gpu(&a, &b);
	double gpu[2];

	/* 3003 has no /proc entry: it exited before the poll read it */
	_shared_open(w, BASE_PROCS "proc dev=0 pid=3003 sm=0 ts=1000000\n");
	_shared_interval(w, &a, &b, 201000,
			 "proc dev=0 pid=1001 sm=60 ts=2000000\n"
			 "proc dev=0 pid=2002 sm=20 ts=2000000\n"
			 "proc dev=0 pid=3003 sm=100 ts=2000000\n",
			 gpu);
	assert_near(gpu[0], 150, 1e-9);
	assert_near(gpu[1], 50, 1e-9);
	_world_free(w);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(steps_on_two_packages_get_the_reference_energy),
		T(node_energy_is_the_wall_delta),
		T(vanished_step_keeps_its_last_published_value),
		T(new_step_is_published_after_its_first_interval),
		T(no_rapl_and_no_sensor_is_not_supported),
		T(sensor_alone_gives_node_energy_from_the_wall),
		T(rapl_alone_gives_package_plus_dram),
		T(stale_sensor_makes_the_node_fall_back),
		T(stale_sensor_is_down_with_its_fault_in_the_metrics),
		T(metrics_carry_job_and_step_lines_with_their_labels),
		T(metrics_jobs_running_drops_an_ended_job_at_the_next_write),
		T(metrics_jobs_all_keeps_an_ended_job_with_its_final_values),
		T(metrics_jobs_none_writes_the_node_series_only),
		T(metrics_are_written_once_per_metrics_interval),
		T(trace_replays_to_the_published_step_energies),
		T(wall_below_rapl_is_said_once_and_traced_as_dropped),
		T(zstd_trace_rotates_by_its_compressed_size),
		T(idle_watts_per_kind_apply_to_every_domain_of_it),
		T(idle_watts_of_a_domain_win_over_its_kind),
		T(idle_watts_of_a_domain_shape_the_step_energies),
		T(relative_paths_are_refused),
		T(bad_numbers_are_refused),
		T(poll_interval_zero_is_refused),
		T(calibration_other_than_yes_or_no_is_refused),
		T(activity_other_than_auto_cgroup_perf_is_refused),
		T(idle_watts_without_a_number_is_refused),
		T(negative_idle_watts_are_refused),
		T(unknown_option_is_refused),
		T(idle_watts_naming_a_domain_twice_is_refused),
		T(idle_watts_of_an_unknown_domain_is_refused),
		T(idle_watts_of_a_domain_this_node_lacks_is_said),
		T(yes_no_and_keywords_take_the_same_spellings_in_any_case),
		T(idle_watts_names_apply_in_any_case),
		T(sizes_take_a_unit_and_say_it),
		T(numbers_say_their_unit_when_refused),
		T(sensor_limits_are_the_sensor_libs),
		T(man_page_states_every_option_its_default_and_range),
		T(good_values_read_back_as_given),
		T(step_energy_includes_the_gpu_it_holds),
		T(ended_step_record_times_its_gpu_idle_judged_and_unread),
		T(step_gpus_given_by_pci_address_or_ordinal_list),
		T(step_whose_gpus_file_comes_late_holds_them_from_then),
		T(trace_of_a_gpu_node_records_the_gpu_fields),
#ifdef FP_FAKE_NVML
		T(shared_gpu_is_split_by_the_steps_sm_busy_time),
		T(shared_gpu_holder_without_samples_splits_it_equally),
		T(shared_gpu_samples_of_an_exited_process_are_nobodys),
#endif
		T(parts_dir_takes_the_node_name_and_slurm_users_group),
		T(parts_dir_that_cannot_be_made_is_said_once),
		T(gpus_none_reads_no_gpu),
		T(gpu_options_are_checked),
#ifdef FP_FAKE_AMDSMI
		T(simulated_node_never_loads_amd_smi),
#endif
		T(amd_smi_library_none_loads_no_amd_smi),
		T(amd_apu_is_not_counted_again_beside_rapl_an_amd_gpu_is),
		T(amd_apu_on_a_node_without_rapl_is_read_as_a_gpu),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
