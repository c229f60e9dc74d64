/* What the node and the controller hand each other about a step: its GPUs,
 * from its environment to the node poller through the run folder (one
 * small file per step, as the job labels), and its ended step's record. */
#include "footprint/step.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <fcntl.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "footprint/json.h"

int fp_step_id_format(char *buf, size_t size, uint64_t job, uint32_t step)
{
	const char *name = step == FP_STEP_BATCH	 ? "batch"
			   : step == FP_STEP_EXTERN	 ? "extern"
			   : step == FP_STEP_INTERACTIVE ? "interactive"
							 : NULL;

	if (!job)
		return name ? snprintf(buf, size, "%s", name)
			    : snprintf(buf, size, "%" PRIu32, step);
	return name ? snprintf(buf, size, "%" PRIu64 ".%s", job, name)
		    : snprintf(buf, size, "%" PRIu64 ".%" PRIu32, job, step);
}

static const char *const _vars[] = {
	"SLURM_STEP_GPUS",	"SLURM_JOB_GPUS",	"GPU_DEVICE_ORDINAL",
	"CUDA_VISIBLE_DEVICES", "ROCR_VISIBLE_DEVICES", "ZE_AFFINITY_MASK",
};

const char *fp_step_gpus_from_env(char *const *env, const char **var)
{
	for (size_t v = 0; v < sizeof(_vars) / sizeof(_vars[0]); v++) {
		size_t len = strlen(_vars[v]);

		for (size_t i = 0; env && env[i]; i++) {
			if (strncmp(env[i], _vars[v], len) ||
			    env[i][len] != '=')
				continue;
			/* CUDA's "NoDevFiles" and an empty list: none */
			if (!env[i][len + 1] ||
			    !strcmp(env[i] + len + 1, "NoDevFiles"))
				continue;
			if (var)
				*var = _vars[v];
			return env[i] + len + 1;
		}
	}
	return NULL;
}

/* A step id is a file name here: digits, letters, '.', '_', '+'. */
static bool _step_ok(const char *step)
{
	if (!step || !*step || *step == '.')
		return false;
	for (const char *p = step; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '_' &&
		    *p != '+')
			return false;
	return true;
}

/* 0 for a good step id; -1 with err set, in the words of the step's file
 * (what) it was meant for, otherwise. */
static int _step_check(const char *step, const char *what, fp_error_t *err)
{
	if (_step_ok(step))
		return 0;
	return fp_error_set(err, FP_EINVAL, "step %s: bad step id \"%s\"", what,
			    step ? step : "");
}

/* Closes f, written to tmp, and puts it in path's place; on a write error
 * tmp is gone and err says which file of the step's (what) failed. */
static int _commit(FILE *f, const char *tmp, const char *path, const char *what,
		   fp_error_t *err)
{
	int bad = ferror(f);

	if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
		unlink(tmp);
		return fp_error_set(err, FP_EIO, "step %s: cannot write %s",
				    what, path);
	}
	return 0;
}

int fp_step_gpus_write(const char *dir, const char *step, const char *list,
		       fp_error_t *err)
{
	char path[4096], tmp[4096];
	FILE *f;

	fp_error_clear(err);
	if (_step_check(step, "gpus", err))
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, step);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, step);
	f = fopen(tmp, "w");
	if (!f)
		return fp_error_set(err, FP_EIO,
				    "step gpus: cannot create %s: %s", tmp,
				    strerror(errno));
	/* one line: a newline inside would end the list early */
	fprintf(f, "%.*s\n", (int)strcspn(list ? list : "", "\n"),
		list ? list : "");
	return _commit(f, tmp, path, "gpus", err);
}

int fp_step_gpus_read(const char *dir, const char *step, char *buf, size_t size,
		      fp_error_t *err)
{
	char path[4096];
	FILE *f;

	fp_error_clear(err);
	if (_step_check(step, "gpus", err))
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, step);
	f = fopen(path, "r");
	if (!f)
		return fp_error_set(err, FP_EIO, "%s: %s", path,
				    strerror(errno));
	if (!fgets(buf, (int)size, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

void fp_step_gpus_remove(const char *dir, const char *step)
{
	char path[4096];

	if (!_step_ok(step))
		return;
	snprintf(path, sizeof(path), "%s/%s", dir, step);
	unlink(path);
}

static json_t *_num(double x)
{
	return isfinite(x) ? json_real(x) : json_null();
}

/* The record is read by footprint-worker as SlurmUser, through its group:
 * 0640 whatever the writer's umask, in its folder's group (which the poller
 * gave SlurmUser's; a shared filesystem need not pass a set-group-ID
 * folder's group on). */
static FILE *_parts_create(const char *dir, const char *tmp, fp_error_t *err)
{
	struct stat d, st;
	FILE *f;
	int fd;

	if (stat(dir, &d)) {
		fp_error_set(err, FP_EIO, "step parts: folder %s: %s", dir,
			     strerror(errno));
		return NULL;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
	if (fd < 0) {
		fp_error_set(err, FP_EIO, "step parts: cannot create %s: %s",
			     tmp, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) || fchmod(fd, 0640) ||
	    (st.st_gid != d.st_gid && fchown(fd, (uid_t)-1, d.st_gid))) {
		fp_error_set(err, FP_EIO,
			     "step parts: cannot make %s 0640 in group "
			     "%lu (its folder's): %s",
			     tmp, (unsigned long)d.st_gid, strerror(errno));
		close(fd);
		unlink(tmp);
		return NULL;
	}
	f = fdopen(fd, "w");
	if (!f) {
		fp_error_set(err, FP_ENOMEM, "step parts %s: %s", tmp,
			     strerror(errno));
		close(fd);
		unlink(tmp);
	}
	return f;
}

int fp_step_parts_write(const char *dir, const char *step,
			const fp_step_parts_t *parts, fp_error_t *err)
{
	char path[4096], tmp[4096], *text = NULL;
	json_t *o, *gpus = json_array(), *unknown = json_array();
	json_t *sources = NULL;
	FILE *f;

	fp_error_clear(err);
	if (_step_check(step, "parts", err)) {
		json_decref(gpus);
		json_decref(unknown);
		return -1;
	}
	for (size_t k = 0; gpus && k < parts->ngpus; k++) {
		const fp_step_parts_gpu_t *g = &parts->gpus[k];

		if (json_array_append_new(
			    gpus,
			    json_pack(
				    "{s:I, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:o, s:o}",
				    "index", (json_int_t)g->index, "uuid",
				    g->uuid ? g->uuid : "", "model",
				    g->model ? g->model : "", "vendor",
				    g->vendor ? g->vendor : "", "source",
				    g->source ? g->source : "", "floor_w",
				    _num(g->floor_w), "energy_j",
				    _num(g->energy_j), "idle_s",
				    _num(g->idle_s), "judged_s",
				    _num(g->judged_s), "unread_s",
				    _num(g->unread_s)))) {
			json_decref(gpus);
			gpus = NULL;
		}
	}
	for (size_t k = 0; unknown && k < parts->nunknown; k++)
		if (json_array_append_new(unknown,
					  json_string(parts->unknown[k]))) {
			json_decref(unknown);
			unknown = NULL;
		}
	if (!unknown) {
		json_decref(gpus);
		gpus = NULL;
	}
	if (gpus && parts->source_j) {
		sources = json_object();
		for (int k = 0; sources && k < FP_SOURCE_COUNT; k++)
			if (json_object_set_new(sources,
						fp_source_name((fp_source_t)k),
						_num(parts->source_j[k]))) {
				json_decref(sources);
				sources = NULL;
			}
		if (!sources) {
			json_decref(gpus);
			gpus = NULL;
		}
	}
	o = gpus ? json_pack("{s:i, s:s, s:s, s:f, s:f, s:o, s:o, s:o, s:o, "
			     "s:o, s:o, s:o, s:o, s:o, s:b, s:s}",
			     "v", FP_STEP_PARTS_VERSION, "node",
			     parts->node ? parts->node : "", "step", step,
			     "first_t", parts->first_t, "last_t", parts->last_t,
			     "seconds", _num(parts->seconds), "energy_j",
			     _num(parts->energy_j), "cpu_dram_j",
			     _num(parts->cpu_dram_j), "cpu_j",
			     _num(parts->cpu_j), "dram_j", _num(parts->dram_j),
			     "gpu_j", _num(parts->gpu_j), "rest_j",
			     _num(parts->rest_j), "gpus", gpus, "gpus_unknown",
			     unknown, "simulated", parts->simulated, "meter",
			     parts->meter ? parts->meter : "")
		 : NULL;
	if (!gpus)
		json_decref(unknown);
	if (o && sources && json_object_set_new(o, "sources", sources)) {
		json_decref(o);
		o = NULL;
	} else if (!o) {
		json_decref(sources);
	}
	text = o ? fp_json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(o);
	if (!text)
		return fp_error_set(err, FP_ENOMEM,
				    "step parts %s: out of memory", step);
	snprintf(path, sizeof(path), "%s/%s", dir, step);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, step);
	f = _parts_create(dir, tmp, err);
	if (!f) {
		free(text);
		return -1;
	}
	fprintf(f, "%s\n", text);
	free(text);
	return _commit(f, tmp, path, "parts", err);
}

int fp_step_parts_dir(const char *dir, const char *node, char *out, size_t size)
{
	size_t n = 0, len;

	for (const char *d = dir; *d; d++) {
		const char *piece = d;

		len = 1;
		if (d[0] == '%' && d[1] == 'n') {
			piece = node ? node : "";
			len = strlen(piece);
			d++;
		}
		if (n + len >= size)
			return -1;
		memcpy(out + n, piece, len);
		n += len;
	}
	if (n >= size)
		return -1;
	out[n] = '\0';
	return 0;
}

int fp_step_parts_load(const char *dir, const char *node, const char *step,
		       json_t **out, fp_error_t *err)
{
	char path[4096];
	size_t n = 0;
	json_error_t jerr;
	json_t *o, *v;
	FILE *f;

	fp_error_clear(err);
	*out = NULL;
	if (_step_check(step, "parts", err))
		return -1;
	n = fp_step_parts_dir(dir, node, path, sizeof(path)) ? sizeof(path)
							     : strlen(path);
	if (n >= sizeof(path) || snprintf(path + n, sizeof(path) - n, "/%s",
					  step) >= (int)(sizeof(path) - n))
		return fp_error_set(err, FP_EINVAL,
				    "step parts: folder %s too long "
				    "for node %s",
				    dir, node);
	f = fopen(path, "r");
	if (!f)
		return fp_error_set(
			err,
			errno == EACCES || errno == EPERM ? FP_EACCES : FP_EIO,
			"step parts %s: %s", path, strerror(errno));
	o = json_loadf(f, 0, &jerr);
	fclose(f);
	if (!o)
		return fp_error_set(err, FP_EPARSE, "step parts %s: %s", path,
				    jerr.text);
	v = json_object_get(o, "v");
	if (!json_is_object(o) || !json_is_integer(v) ||
	    json_integer_value(v) != FP_STEP_PARTS_VERSION ||
	    !json_is_number(json_object_get(o, "energy_j")) ||
	    !json_is_array(json_object_get(o, "gpus"))) {
		json_decref(o);
		return fp_error_set(err, FP_EPARSE,
				    "step parts %s: not a record "
				    "of version %d",
				    path, FP_STEP_PARTS_VERSION);
	}
	*out = o;
	return 0;
}
