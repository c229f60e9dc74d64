/* sfootprint compute's cost for jobs of 10k and 100k steps (read the job
 * description, compute, write the summary) beside jansson alone reading and
 * writing the same JSON. Prints figures; asserts nothing on time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "footprint/carbon.h"
#include "footprint/config.h"
#include "footprint/summary.h"

#define NODES 64
#define T0 1704067200 /* 2024-01-01T00:00:00Z */
#define STEP_S 10
#define DAYS 15 /* the series cover 100k steps of 10 s (11.6 days) */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Two sites of 32 nodes, one with an hourly series file, one constant. */
static fp_config_t *config(const char *dir)
{
	char path[256], nodes_a[NODES * 5], nodes_b[NODES * 5];
	fp_error_t err = { 0 };
	fp_config_t *cfg;
	FILE *f;
	size_t na = 0, nb = 0;

	snprintf(path, sizeof(path), "%s/int.csv", dir);
	f = fopen(path, "w");
	if (!f)
		return NULL;
	for (int h = 0; h < DAYS * 24; h++) {
		char when[21];

		fp_iso8601_format(T0 + (time_t)h * 3600, when);
		fprintf(f, "%s,%d\n", when, 30 + (h * 7) % 90);
	}
	fclose(f);
	for (int i = 1; i <= NODES; i++) {
		char *d = i <= NODES / 2 ? nodes_a : nodes_b;
		size_t *n = i <= NODES / 2 ? &na : &nb;

		*n += (size_t)sprintf(d + *n, "%sn%d", *n ? "," : "", i);
	}
	snprintf(path, sizeof(path), "%s/footprint.conf", dir);
	f = fopen(path, "w");
	if (!f)
		return NULL;
	fprintf(f,
		"Site=a Nodes=%s Intensity=file:int.csv PUE=1.1\n"
		"Site=b Nodes=%s Intensity=56 PUE=1.35\n"
		"NodeType=t Nodes=%s,%s Embodied=1500 Lifetime=5 CPUs=64\n"
		"Reference=std PUE=1.5 Intensity=site\n",
		nodes_a, nodes_b, nodes_a, nodes_b);
	fclose(f);
	cfg = fp_config_load(path, &err);
	if (!cfg || fp_config_load_series(cfg, &err)) {
		fprintf(stderr, "bench_compute: %s\n", err.msg);
		fp_config_free(cfg);
		return NULL;
	}
	return cfg;
}

/* A job of n steps of 10 s one after the other, each on two nodes with
 * only its total energy (split by CPUs), as a job description. */
static char *job_text(size_t n, size_t *len)
{
	json_t *steps = json_array(), *root;
	char *text;

	for (size_t i = 0; i < n; i++) {
		char id[32], a[16], b[16];
		json_int_t t = T0 + (json_int_t)(i * STEP_S);

		snprintf(id, sizeof(id), "4242.%zu", i);
		snprintf(a, sizeof(a), "n%zu", 1 + i % NODES);
		snprintf(b, sizeof(b), "n%zu", 1 + (i + 1) % NODES);
		json_array_append_new(
			steps,
			json_pack(
				"{s:s, s:I, s:I, s:f, s:[{s:s, s:i}, {s:s, s:i}]}",
				"id", id, "start", t, "end", t + STEP_S,
				"energy_j", 5000.0 + (double)(i % 100), "nodes",
				"name", a, "cpus", 8, "name", b, "cpus", 8));
	}
	root = json_pack("{s:I, s:s, s:s, s:I, s:I, s:s, s:o}", "job_id",
			 (json_int_t)4242, "user", "alice", "account", "p",
			 "start", (json_int_t)T0, "end",
			 (json_int_t)(T0 + (json_int_t)(n * STEP_S)),
			 "energy_source", "measured", "steps", steps);
	text = root ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	*len = text ? strlen(text) : 0;
	return text;
}

/* jansson alone: the same text read, then written as compute writes. */
static double bare(const char *text, size_t len)
{
	double t0 = now();
	json_error_t jerr;
	json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	char *out = root ? json_dumps(root, JSON_COMPACT | JSON_SORT_KEYS)
			 : NULL;
	double s = now() - t0;

	json_decref(root);
	if (!out)
		return -1;
	free(out);
	return s;
}

struct split {
	double read, compute, summary;
};

static double compute(const fp_config_t *cfg, const char *text, size_t len,
		      struct split *sp)
{
	double t0 = now(), t1, t2;
	fp_error_t err = { 0 };
	fp_job_t *job = fp_carbon_job_from_json("bench.json", text, len, &err);
	fp_result_t *r = NULL;
	char *out = NULL;

	t1 = now();
	if (job)
		r = fp_carbon_compute(cfg, job, fp_config_hostlist_match_plain,
				      NULL, &err);
	t2 = now();
	if (r && !r->complete)
		fp_error_set(&err, FP_EINVAL, "result incomplete: %s",
			     r->incomplete[0]);
	else if (r)
		out = fp_summary_dumps(r, &err);
	sp->read = t1 - t0;
	sp->compute = t2 - t1;
	sp->summary = now() - t2;
	free(out);
	fp_carbon_result_free(r);
	fp_carbon_job_free(job);
	if (!out) {
		fprintf(stderr, "bench_compute: %s\n", err.msg);
		return -1;
	}
	return sp->read + sp->compute + sp->summary;
}

int main(void)
{
	static const size_t sizes[] = { 10000, 100000 };
	char dir[] = "/tmp/bench_compute_XXXXXX", cmd[64];
	double bare_s[2], comp_s[2];
	fp_config_t *cfg;
	int rc = 0;

	if (!mkdtemp(dir)) {
		perror("bench_compute: mkdtemp");
		return 1;
	}
	cfg = config(dir);
	if (!cfg)
		rc = 1;
	if (!rc)
		printf("compute: steps of 10 s on 2 of %d nodes, 2 sites (one "
		       "hourly series), best of 3\n",
		       NODES);
	for (int k = 0; !rc && k < 2; k++) {
		size_t len;
		char *text = job_text(sizes[k], &len);
		struct split best = { 0 }, sp;

		bare_s[k] = comp_s[k] = -1;
		for (int run = 0; text && run < 3; run++) {
			double b = bare(text, len);
			double c = compute(cfg, text, len, &sp);

			if (b < 0 || c < 0)
				break;
			if (bare_s[k] < 0 || b < bare_s[k])
				bare_s[k] = b;
			if (comp_s[k] < 0 || c < comp_s[k]) {
				comp_s[k] = c;
				best = sp;
			}
		}
		free(text);
		if (bare_s[k] < 0 || comp_s[k] < 0) {
			rc = 1;
			break;
		}
		printf("compute %6zu steps (%.1f MB): %8.1f ms (read %.1f, "
		       "compute %.1f, summary %.1f); jansson alone (load + "
		       "dump) %.1f ms; %.1fx\n",
		       sizes[k], (double)len / 1e6, comp_s[k] * 1e3,
		       best.read * 1e3, best.compute * 1e3, best.summary * 1e3,
		       bare_s[k] * 1e3, comp_s[k] / bare_s[k]);
	}
	if (!rc)
		printf("compute 100k/10k steps: x%.1f, jansson alone x%.1f "
		       "(linear x10, quadratic x100)\n",
		       comp_s[1] / comp_s[0], bare_s[1] / bare_s[0]);
	fp_config_free(cfg);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd))
		rc = 1;
	return rc;
}
