/* The job summary (docs/summary.schema.json) and its short job-record form
 * "FP1:{...}" that shares the AdminComment field with other tools. */
#ifndef FP_SUMMARY_H
#define FP_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "carbon.h"
#include "error.h"

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

/* Key figures of the job-record form (units: Wh and gCO2e). */
typedef struct fp_record {
	int version;
	uint64_t job_id;
	bool complete;
	fp_energy_source_t source;
	double energy_wh;	/* facility energy */
	double footprint_g;
	double operational_g;
	double embodied_g;
	double avoided_g;
	double net_g;
	double reference_g;
	double saved_g;
	char config[17];	/* first 16 hex digits of the config digest */
} fp_record_t;

/* "FP1:{...}": compact JSON, never a single quote (slurmdbd puts the field
 * between quotes without escaping). The caller free()s it. */
char *fp_record_format(const fp_result_t *r, fp_error_t *err);
/* Puts ours into existing (NULL or "" allowed): replaces our previous FP1
 * part in place, else appends it after one space; other content is kept
 * byte for byte. Fails if existing holds a single quote. */
char *fp_record_merge(const char *existing, const char *ours,
		      fp_error_t *err);
/* Finds and parses our part of a field: 0 found, 1 absent, -1 malformed. */
int fp_record_parse(const char *field, fp_record_t *rec, fp_error_t *err);

#endif
