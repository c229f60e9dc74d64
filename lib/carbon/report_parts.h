/* Private to lib/carbon/report*.c: how every report writes figures, names
 * and times (report.c), in text and as JSON values (report_json.c). */
#ifndef FP_REPORT_PARTS_H
#define FP_REPORT_PARTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "footprint/report.h"

/* Text: each writes into buf and returns it, "-" when unknown. Figures with
 * three decimals, joules whole (sacct's ConsumedEnergy), percent with
 * one. */
const char *fp_report_fig(char *buf, size_t size, double x);
const char *fp_report_joules(char *buf, size_t size, double j);
const char *fp_report_percent(char *buf, size_t size, double x);
/* The reference's name: "standard datacenter" when the summary has none. */
const char *fp_report_ref_name(const fp_report_t *r);
/* Closes an open_memstream() stream: its buffer, or NULL (freed). */
char *fp_report_close_stream(FILE *f, char **buf);
/* A name escaped for a terminal (fp_report_escape); "?" when unknown. */
void fp_report_put_name(FILE *f, const char *s);
/* r's completeness as fp_report_put_completeness writes it. */
void fp_report_put_complete(FILE *f, const fp_report_t *r);
/* *dst freed, then a copy of src (NULL for NULL); -1 out of memory. */
int fp_report_dup_or_null(char **dst, const char *src);

/* JSON values: null where unknown. A figure; a name from accounting (any
 * bytes, escaped to UTF-8); a time as ISO 8601 UTC (0 unknown); an exit
 * code "code:signal" (code < 0 unknown). */
json_t *fp_report_json_fig(double x);
json_t *fp_report_json_name(const char *s);
json_t *fp_report_json_utc(time_t t);
json_t *fp_report_json_exit(int code, int sig);
/* What accounting says of a job, as `sfootprint -j --json` and the table's
 * JSON rows both write it (without a's steps); NULL out of memory. */
json_t *fp_report_json_acct(const fp_report_acct_t *a);
/* Appends v to a; json_array_append_new frees v when it fails: *ok says
 * one did. */
void fp_report_json_append(json_t *a, json_t *v, bool *ok);

#endif
