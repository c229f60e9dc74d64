/* The job summary (docs/summary.schema.json) and its short job-record form
 * "FP1:{...}" that shares the AdminComment field with other tools. */
#ifndef FP_SUMMARY_H
#define FP_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "carbon.h"
#include "error.h"
#include "sign.h"
#include "step.h" /* FP_GPU_IDLE_RATIO, _MARGIN_W */

/* The Makefile passes one version to the library and the tools alike (git
 * describe, else debian/changelog's); this is only for a build without it. */
#ifndef FP_VERSION
#define FP_VERSION "0.1.0"
#endif
#define FP_SUMMARY_SCHEMA_VERSION 1
#define FP_RECORD_PREFIX "FP1:"
#define FP_RECORD_VERSION 1

/* The summary object; the caller json_decref()s it. */
json_t *fp_summary_json(const fp_result_t *r, fp_error_t *err);
/* Compact, sorted keys, each number in its shortest form that reads back
 * to the same double (fp_json_dumps): the same result always gives the
 * same bytes. The caller free()s it. */
char *fp_summary_dumps(const fp_result_t *r, fp_error_t *err);
/* The summary of a job whose footprint could not be computed: what could
 * not (why), not a wrong figure, with the job's id, user, account and times
 * (0: unknown) as accounting gave them (text that is not UTF-8 escaped as
 * fp_utf8_escape does). NULL only out of memory; the caller free()s it. */
char *fp_summary_incomplete(uint64_t job_id, const char *user,
			    const char *account, time_t start, time_t end,
			    const char *why);

/* A job's step records (fp_step_parts_load objects), one per step and
 * node it ran on, read from dir (footprint.conf NodePartsDir=, "%n" the
 * node's name), for fp_summary_add_parts. */
typedef struct fp_summary_parts {
	json_t **parts; /* the records found */
	size_t nparts;
	size_t nexpected; /* the steps' nodes, all steps together */
	/* Not there (yet): a node writes its record a poll after the step
	 * ends, and a shared filesystem may show it later. The caller may
	 * wait for them (PartsWait=); absent names the first of them,
	 * "4242.0 on n2, ...", as many as fit (absent_cut: not all). */
	size_t nabsent;
	char absent[256];
	bool absent_cut;
	size_t nunread; /* there but unreadable or damaged */
} fp_summary_parts_t;
typedef void (*fp_summary_parts_say_fn)(void *ctx, const char *msg);
/* Reads them all. A record that is there but may not be read (FP_EACCES)
 * or is not a record (FP_EPARSE) is not waited for: it is counted missing
 * and said through say (its file and the fault), once per call. No dir:
 * nothing expected. 0, or -1 out of memory (g then empty). */
int fp_summary_parts_gather(const char *dir, const fp_job_t *job,
			    fp_summary_parts_say_fn say, void *ctx,
			    fp_summary_parts_t *g);
void fp_summary_parts_clear(fp_summary_parts_t *g);

/* Adds to a summary (fp_summary_json) the job's energy by part,
 * "energy_parts", and the GPUs it held, "gpus" (both optional in schema
 * 1), from the nodes' step records: parts[] are fp_step_parts_load
 * objects, one per (step, node) found, of the nexpected the job ran. A
 * record missing is said (records < expected), never guessed. Does
 * nothing when nexpected is 0. */
int fp_summary_add_parts(json_t *root, const fp_result_t *r,
			 json_t *const *parts, size_t nparts, size_t nexpected,
			 fp_error_t *err);
/* The summary with its parts, dumped as fp_summary_dumps does. */
/* The job's energy source as its nodes measured it, from their step
 * records (fp_summary_add_parts' parts): simulated when one node was,
 * else calibrated when one node's energy came mostly from its wall
 * meter's calibration, else measured (wall meter, psys or RAPL alone).
 * Sets r->energy_source and r->energy_source_nodes and returns 0 when
 * all nexpected records are there and say it; else -1, r unchanged (the
 * summary then names EnergySource= as its source). */
int fp_summary_parts_source(fp_result_t *r, json_t *const *parts, size_t nparts,
			    size_t nexpected);
char *fp_summary_dumps_parts(const fp_result_t *r, json_t *const *parts,
			     size_t nparts, size_t nexpected, fp_error_t *err);

/* The text of sfootprint -j for a summary's energy_parts and gpus: the
 * energy by part and each GPU held, an idle one flagged with how it was
 * judged. NULL when the summary has no energy_parts (made before them, or
 * without NodePartsDir=) or out of memory. The caller free()s it. */
char *fp_summary_parts_text(const json_t *summary);
/* The same for the job-end mail, shorter: one line of parts, one per GPU
 * held (an idle one with what it cost). NULL as fp_summary_parts_text. */
char *fp_summary_parts_mail(const json_t *summary);

/* Key figures of the job-record form (units: Wh and gCO2e). */
typedef struct fp_record {
	int version;
	uint64_t job_id;
	bool complete;
	fp_energy_source_t source;
	double energy_wh; /* facility energy */
	double footprint_g;
	double operational_g;
	double embodied_g;
	double avoided_g;
	double net_g;
	double reference_g;
	double saved_g;
	char config[17]; /* first 16 hex digits of the config digest */
} fp_record_t;

/* "FP1:{...}": compact JSON, never a single quote (slurmdbd puts the field
 * between quotes without escaping). The caller free()s it. */
char *fp_summary_record_format(const fp_result_t *r, fp_error_t *err);
/* Puts ours into existing (NULL or "" allowed): replaces our previous FP1
 * part in place, else appends it after one space; other content is kept
 * byte for byte. Fails if existing holds a single quote. */
char *fp_summary_record_merge(const char *existing, const char *ours,
			      fp_error_t *err);
/* Finds and parses our part of a field: 0 found, 1 absent, -1 malformed. */
int fp_summary_record_parse(const char *field, fp_record_t *rec,
			    fp_error_t *err);
/* The record of such a job: "FP1:{"job":N,"ok":false}". NULL only out of
 * memory; the caller free()s it. */
char *fp_summary_record_incomplete(uint64_t job_id);

/* A job's signed summary read back from the spool (summary_load.c). */
typedef enum fp_summary_state {
	FP_SUMMARY_VALID,      /* verified with a trusted key, this job's */
	FP_SUMMARY_ABSENT,     /* no file (yet) */
	FP_SUMMARY_UNREADABLE, /* there, but it cannot be read */
	FP_SUMMARY_INVALID,    /* damaged, forged, or another job's */
	FP_SUMMARY_UNVERIFIED, /* no usable key: says nothing of it */
} fp_summary_state_t;

typedef struct fp_summary_file {
	char path[4096];
	fp_summary_state_t state;
	char *payload;	       /* VALID: the verified content */
	json_t *root;	       /* VALID: and parsed */
	fp_verify_info_t info; /* the key that verified it, or why none */
	fp_error_t err;	       /* not VALID: the path and the fault */
} fp_summary_file_t;

/* <spool_dir>/summaries/<job_id>.jws, in buf (returned). */
char *fp_summary_load_path(char *buf, size_t size, const char *spool_dir,
			   uint64_t job_id);
/* Reads the summary at path into the caller's f and verifies it with the
 * trusted keys (current and retired; a legacy high-S signature accepted);
 * job_id nonzero: another job's summary is INVALID. Returns f->state;
 * fp_summary_load_clear() releases what it holds, whatever the state. */
fp_summary_state_t fp_summary_load(fp_summary_file_t *f, const char *path,
				   const fp_keyset_t *trusted, uint64_t job_id);
void fp_summary_load_clear(fp_summary_file_t *f);

#endif
