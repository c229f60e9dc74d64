/* The poller's GPUs: opened and added to the node, read at each poll, and
 * given to the steps that hold them (hold time, SM-busy time when shared). */
#include "poller_state.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "footprint/step.h"

/* Opens the GPUs and adds them to the node. A simulated node's GPUs are
 * fp-simnode's (its gpu-hwmon tree; NVML only where NvmlLibrary names the
 * test library), never the machine's: AMD SMI is never loaded there, even
 * when AmdSmiLibrary is given, since fp-simnode has no AMD SMI model and
 * the library would find a ROCm host's own GPUs. An APU whose GPU power
 * RAPL already counts is left out: adding it would count those joules
 * twice. */
int fp_poller_gpu_open(fp_poller_t *p, const fp_poller_config_t *cfg,
		       fp_error_t *err)
{
	fp_gpu_opts_t go = { 0 };
	fp_error_t e2 = { 0 };
	char *hwmon = NULL;
	size_t nd, n = 0;

	if (!cfg->gpus)
		return 0;
	if (cfg->gpu_hwmon_root)
		hwmon = strdup(cfg->gpu_hwmon_root);
	else if (cfg->sim_dir)
		hwmon = fp_poller_join(cfg->sim_dir, "gpu-hwmon");
	go.hwmon_root = hwmon;
	go.nvml_lib = cfg->nvml_lib && !strcasecmp(cfg->nvml_lib, "none") ? ""
		      : cfg->nvml_lib ? cfg->nvml_lib
		      : cfg->sim_dir  ? ""
				      : NULL;
	go.amdsmi_lib = cfg->amdsmi_lib;
	if (cfg->sim_dir ||
	    (go.amdsmi_lib && !strcasecmp(go.amdsmi_lib, "none")))
		go.amdsmi_lib = "";
	go.log = p->log;
	go.log_ctx = p->log_ctx;
	p->proc_dir = strdup(cfg->proc_root ? cfg->proc_root : "/proc");
	if (!p->proc_dir) {
		free(hwmon);
		return fp_error_set(err, FP_ENOMEM, "gpus: out of memory");
	}
	p->gpu = fp_gpu_open(&go, &e2);
	free(hwmon);
	if (!p->gpu) {
		fp_poller_say(p, FP_LOG_INFO, "no GPU: %s", e2.msg);
		return 0;
	}
	nd = fp_gpu_ndevices(p->gpu);
	p->gpu_dev = calloc(nd, sizeof(*p->gpu_dev));
	p->gpu_desc = calloc(nd, sizeof(*p->gpu_desc));
	p->gpu_read = calloc(nd, sizeof(*p->gpu_read));
	p->gpu_last_uj = calloc(nd, sizeof(*p->gpu_last_uj));
	p->gpu_last_ok = calloc(nd, sizeof(*p->gpu_last_ok));
	p->desc->gpus = calloc(nd, sizeof(*p->desc->gpus));
	if (!p->gpu_dev || !p->gpu_desc || !p->gpu_read || !p->desc->gpus ||
	    !p->gpu_last_uj || !p->gpu_last_ok)
		return fp_error_set(err, FP_ENOMEM, "gpus: out of memory");
	for (size_t i = 0; i < nd; i++) {
		const fp_gpu_info_t *g = fp_gpu_device(p->gpu, i);
		fp_node_gpu_t *ng = &p->desc->gpus[n];

		p->gpu_desc[i] = SIZE_MAX;
		if ((g->flags & FP_GPU_APU) && p->rapl) {
			fp_poller_say(p, FP_LOG_INFO,
				      "GPU %s (%s) is an APU whose power "
				      "RAPL already counts: not added",
				      g->uuid, g->name);
			continue;
		}
		ng->uuid = strdup(g->uuid);
		ng->vendor = strdup(fp_gpu_vendor_name(g->vendor));
		if (!ng->uuid || !ng->vendor)
			return fp_error_set(err, FP_ENOMEM,
					    "gpus: out of memory");
		/* the reader's energy is its own monotonic sum: no wrap */
		ng->max_energy_uj = 0;
		ng->idle_w = -1;
		ng->power_integral = g->source == FP_GPU_POWER_INTEGRAL;
		p->gpu_dev[n] = i;
		p->gpu_desc[i] = n;
		p->desc->ngpus = ++n;
		fp_poller_say(p, FP_LOG_INFO, "GPU %zu: %s %s %s (%s)%s", n - 1,
			      fp_gpu_vendor_name(g->vendor), g->name, g->uuid,
			      fp_gpu_source_name(g->source),
			      (g->flags & FP_GPU_MIG)
				      ? "; MIG on: measured as one GPU"
				      : "");
	}
	return 0;
}

/* Each GPU's cumulative energy into the sample. */
void fp_poller_gpu_read(fp_poller_t *p, double now)
{
	if (!p->desc->ngpus)
		return;
	fp_gpu_read(p->gpu, now, p->gpu_read, NULL);
	for (size_t k = 0; k < p->desc->ngpus; k++) {
		const fp_gpu_reading_t *r = &p->gpu_read[p->gpu_dev[k]];

		p->sample->gpu_energy_uj[k] = r->energy_uj;
		p->sample->gpu_valid[k] = r->valid;
	}
}

static struct step_gpus *_hold_of(fp_poller_t *p, const char *id)
{
	struct step_gpus *h;

	for (size_t i = 0; i < p->nholds; i++)
		if (!strcmp(p->holds[i].id, id))
			return &p->holds[i];
	h = realloc(p->holds, (p->nholds + 1) * sizeof(*h));
	if (!h)
		return NULL;
	p->holds = h;
	h = &p->holds[p->nholds];
	memset(h, 0, sizeof(*h));
	h->id = strdup(id);
	if (!h->id)
		return NULL;
	p->nholds++;
	return h;
}

/* Frees what _read_hold gave h, keeping its id. */
void fp_poller_gpu_hold_clear(struct step_gpus *h)
{
	free(h->gpus);
	free(h->busy);
	free(h->busy_seen);
	free(h->idle_s);
	free(h->judged_s);
	free(h->unread_s);
	h->gpus = NULL;
	h->busy = NULL;
	h->busy_seen = NULL;
	h->idle_s = h->judged_s = h->unread_s = NULL;
	h->ngpus = 0;
}

/* The file of a step is read until it is there (its step daemon writes it
 * as the step starts); GRES do not change during a step. */
static void _read_hold(fp_poller_t *p, struct step_gpus *h)
{
	char list[4096];
	size_t dev[FP_STEP_GPUS_MAX], n = 0;
	fp_error_t e = { 0 };

	if (fp_step_gpus_read(p->gpus_dir, h->id, list, sizeof(list), &e))
		return;
	h->found = true;
	if (fp_gpu_map_ids(list, p->gpu, dev, FP_STEP_GPUS_MAX, &n, h->unknown,
			   sizeof(h->unknown), &e))
		fp_poller_say(p, FP_LOG_WARN, "step %s: %s", h->id, e.msg);
	h->gpus = calloc(n ? n : 1, sizeof(*h->gpus));
	h->busy = calloc(n ? n : 1, sizeof(*h->busy));
	h->busy_seen = calloc(n ? n : 1, sizeof(*h->busy_seen));
	h->idle_s = calloc(n ? n : 1, sizeof(*h->idle_s));
	h->judged_s = calloc(n ? n : 1, sizeof(*h->judged_s));
	h->unread_s = calloc(n ? n : 1, sizeof(*h->unread_s));
	if (!h->gpus || !h->busy || !h->busy_seen || !h->idle_s ||
	    !h->judged_s || !h->unread_s) {
		fp_poller_gpu_hold_clear(h);
		return;
	}
	for (size_t k = 0; k < n; k++)
		if (p->gpu_desc[dev[k]] != SIZE_MAX)
			h->gpus[h->ngpus++] = (int)p->gpu_desc[dev[k]];
}

/* Gives each step of the sample its GPUs; forgets steps gone for ten
 * minutes, as the engine does, and their files. */
void fp_poller_gpu_steps(fp_poller_t *p, double now)
{
	if (!p->desc->ngpus)
		return;
	for (size_t i = 0; i < p->sample->nsteps; i++) {
		fp_step_sample_t *st = &p->sample->steps[i];
		struct step_gpus *h = _hold_of(p, st->id);

		if (!h)
			continue;
		h->seen_t = now;
		if (!h->found)
			_read_hold(p, h);
		if (st->ngpus == h->ngpus &&
		    (!h->ngpus ||
		     !memcmp(st->gpus, h->gpus, h->ngpus * sizeof(int))))
			continue;
		fp_sample_step_set_gpus(st, h->gpus, h->ngpus, NULL, NULL);
	}
	for (size_t i = p->nholds; i-- > 0;) {
		struct step_gpus *h = &p->holds[i];

		if (now - h->seen_t < 600)
			continue;
		fp_step_gpus_remove(p->gpus_dir, h->id);
		free(h->id);
		fp_poller_gpu_hold_clear(h);
		p->holds[i] = p->holds[--p->nholds];
	}
}

/* The time each step of the sample held each of its GPUs since the last
 * poll, by what the GPU did then: drew idle power (its mean within
 * FP_GPU_IDLE_RATIO x its floor + FP_GPU_IDLE_MARGIN_W), drew more, or
 * could not be read. An interval after an unread one has no power of its
 * own (the reader carries the gap's energy into it) and is not judged;
 * nor is one before the GPU's floor is known. */
void fp_poller_gpu_hold_time(fp_poller_t *p, double now)
{
	double dt = now - p->last_t;
	const uint64_t *uj = p->sample->gpu_energy_uj;
	const bool *ok = p->sample->gpu_valid;

	if (!p->desc->ngpus)
		return;
	for (size_t i = 0; p->polls && i < p->sample->nsteps; i++) {
		struct step_gpus *h = _hold_of(p, p->sample->steps[i].id);

		for (size_t k = 0; h && k < h->ngpus; k++) {
			size_t g = (size_t)h->gpus[k];
			double fl = fp_gpu_floor_w(p->gpu_floor, g), w;

			if (!ok[g]) {
				h->unread_s[k] += dt;
				continue;
			}
			if (!p->gpu_last_ok[g] || uj[g] < p->gpu_last_uj[g] ||
			    !isfinite(fl))
				continue;
			w = (double)(uj[g] - p->gpu_last_uj[g]) / 1e6 / dt;
			h->judged_s[k] += dt;
			if (w <= fl * FP_GPU_IDLE_RATIO + FP_GPU_IDLE_MARGIN_W)
				h->idle_s[k] += dt;
		}
	}
	memcpy(p->gpu_last_uj, uj, p->desc->ngpus * sizeof(*uj));
	memcpy(p->gpu_last_ok, ok, p->desc->ngpus * sizeof(*ok));
}

/* The cgroup paths of a process, read once from <proc_dir>/<pid>/cgroup
 * into buf: one per line, without the leading '/' ("0::/system.slice/...
 * /step_0/user/task_0" (v2) or "4:cpuacct,cpu:/slurm/uid_0/job_1/step_0/
 * task_0" (v1)). False for a process that exited (no file): its samples
 * are nobody's. */
static bool _pid_cgroups(const fp_poller_t *p, unsigned pid, char *buf,
			 size_t size)
{
	char path[4200], line[4096];
	size_t used = 0;
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/%u/cgroup", p->proc_dir, pid) >=
		    (int)sizeof(path) ||
	    !(f = fopen(path, "r")))
		return false;
	buf[0] = '\0';
	while (fgets(line, sizeof(line), f)) {
		char *c = strchr(line, ':'), *at;
		size_t len;

		if (!c || !(c = strchr(c + 1, ':')))
			continue;
		at = c + 1;
		while (*at == '/')
			at++;
		at[strcspn(at, "\n")] = '\0';
		len = strlen(at);
		if (used + len + 2 > size)
			break;
		memcpy(buf + used, at, len);
		used += len;
		buf[used++] = '\n';
		buf[used] = '\0';
	}
	fclose(f);
	return true;
}

/* Whether one of the paths _pid_cgroups read is the cgroup rel (a path
 * under a cgroup root, as the activity reader names a step) or under it. */
static bool _paths_in(const char *paths, const char *rel)
{
	size_t len = strlen(rel);

	for (const char *at = paths; *at; at = strchr(at, '\n') + 1)
		if (!strncmp(at, rel, len) &&
		    (at[len] == '\n' || at[len] == '/'))
			return true;
	return false;
}

/* Holds desc GPU g: k its position among the step's GPUs, or -1. */
static int _holds(const struct step_gpus *h, int g)
{
	for (size_t k = 0; h && k < h->ngpus; k++)
		if (h->gpus[k] == g)
			return (int)k;
	return -1;
}

/* Per-step SM-busy time on each GPU held by steps of several jobs, from
 * the reader's per-process samples, into the steps' gpu_busy (trace-v1):
 * the engine splits such a GPU by it. A step's value is null until one of
 * its processes had a sample on that GPU, and on a GPU not shared or whose
 * samples could not be read: the engine then splits equally. */
void fp_poller_gpu_busy(fp_poller_t *p)
{
	size_t ns = p->sample->nsteps, na;
	fp_activity_step_t *as = NULL;
	struct step_gpus **hs = NULL;
	bool *shared = NULL;
	const char **rel = NULL;
	char cg[8192];

	if (!p->desc->ngpus || !ns)
		return;
	na = fp_activity_steps(p->activity, NULL, 0);
	hs = calloc(ns, sizeof(*hs));
	rel = calloc(ns, sizeof(*rel));
	shared = calloc(p->desc->ngpus, sizeof(*shared));
	as = calloc(na ? na : 1, sizeof(*as));
	if (!hs || !rel || !shared || !as)
		goto out;
	na = fp_activity_steps(p->activity, as, na);
	for (size_t i = 0; i < ns; i++) {
		hs[i] = _hold_of(p, p->sample->steps[i].id);
		for (size_t j = 0; j < na && !rel[i]; j++)
			if (!strcmp(as[j].id, p->sample->steps[i].id))
				rel[i] = as[j].cgroup;
	}
	for (size_t g = 0; g < p->desc->ngpus; g++) {
		const fp_gpu_proc_t *pr;
		uint64_t job = 0;
		size_t n = 0;
		fp_error_t e = { 0 };

		for (size_t i = 0; i < ns; i++) {
			if (_holds(hs[i], (int)g) < 0)
				continue;
			if (job && p->sample->steps[i].job != job)
				shared[g] = true;
			job = p->sample->steps[i].job;
		}
		if (!shared[g])
			continue;
		if (fp_gpu_procs(p->gpu, p->gpu_dev[g], &pr, &n, &e)) {
			shared[g] = false; /* no value: equal */
			continue;
		}
		for (size_t s = 0; s < n; s++) {
			/* read once per sample, matched against each step */
			if (!_pid_cgroups(p, pr[s].pid, cg, sizeof(cg)))
				continue;
			for (size_t i = 0; i < ns; i++) {
				int k = _holds(hs[i], (int)g);

				if (k < 0 || !rel[i] || !_paths_in(cg, rel[i]))
					continue;
				hs[i]->busy[k] += FP_GPU_PROC_BUSY_NS(&pr[s]);
				hs[i]->busy_seen[k] = true;
				break;
			}
		}
	}
	for (size_t i = 0; i < ns; i++) {
		fp_step_sample_t *st = &p->sample->steps[i];
		const struct step_gpus *h = hs[i];
		bool any = false;

		if (!h || !h->ngpus || st->ngpus != h->ngpus)
			continue;
		for (size_t k = 0; k < h->ngpus; k++)
			any |= shared[h->gpus[k]];
		if (!any && !st->gpu_busy)
			continue;
		if (!st->gpu_busy &&
		    fp_sample_step_set_gpus(st, h->gpus, h->ngpus, h->busy,
					    NULL))
			continue;
		for (size_t k = 0; k < h->ngpus; k++) {
			st->gpu_busy[k] = h->busy[k];
			st->gpu_busy_valid[k] = shared[h->gpus[k]] &&
						h->busy_seen[k];
		}
	}
out:
	free(hs);
	free(rel);
	free(shared);
	free(as);
}
