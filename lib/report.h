/* What people read about a job's footprint: the seff-like job report, the
 * mail section, the aggregate table and sacct-like times, from a summary. */
#ifndef FP_REPORT_H
#define FP_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "carbon.h"
#include "error.h"
#include "summary.h"

/* One site of a summary (figures NAN when the summary has null). */
typedef struct fp_report_site {
	char *name;
	double energy_wh;		/* facility */
	double pue;
	double intensity;		/* gCO2e/kWh */
	double operational_g;
	double embodied_g;
	double avoided_g;
} fp_report_site_t;

/* One node of a summary (IT energy; figures NAN when null). */
typedef struct fp_report_node {
	char *name, *site;
	double cpus;
	double energy_it_wh;
	double operational_g;
	double embodied_g;
	double avoided_g;
} fp_report_node_t;

/* How a multi-node step's energy was split over its nodes. */
typedef struct fp_report_step {
	char *id, *split;
	double nnodes, energy_it_wh;
} fp_report_step_t;

/* The figures of one job, from a signed summary or from the shorter FP1
 * job record (which lacks what is NAN/NULL/0 below). Units: Wh, gCO2e. */
typedef struct fp_report {
	uint64_t job_id;
	bool from_record;		/* only the FP1 record was available */
	char *user, *account, *cluster;	/* NULL when unknown */
	char *start, *end;		/* ISO 8601 UTC as in the summary */
	double elapsed_s, core_hours;
	fp_energy_source_t source;
	bool complete;
	char **incomplete;		/* reasons */
	size_t nincomplete;
	double energy_wh;		/* facility energy */
	double energy_it_wh;
	double reused_wh;
	double operational_g, embodied_g, footprint_g;
	double avoided_g;		/* heat reuse, never in the footprint */
	double net_g;			/* footprint - avoided */
	double reference_g, saved_g, saved_with_heat_g, saved_percent;
	double intensity;		/* gCO2e/kWh, effective */
	double per_core_hour_g;
	double pue;
	char *reference_name;		/* NULL: "standard datacenter" */
	double reference_pue;
	char config[65];		/* digest (16 digits from a record) */
	fp_report_site_t *sites;
	size_t nsites;
	fp_report_node_t *nodes;
	size_t nnodes;
	fp_report_step_t *steps;
	size_t nsteps;
} fp_report_t;

/* From a summary payload (JSON text); fails naming `name` on anything that
 * is not a summary object. */
fp_report_t *fp_report_from_summary(const char *name, const char *payload,
				    fp_error_t *err);
/* From a parsed FP1 record; user/account may be NULL. */
fp_report_t *fp_report_from_record(const fp_record_t *rec, const char *user,
				   const char *account, fp_error_t *err);
void fp_report_free(fp_report_t *r);

/* The seff-like report of `sfootprint -j`; signature is the status line's
 * text ("valid (kid ...)", "INVALID: ...", "unsigned record only"). The
 * caller free()s it. */
char *fp_report_text(const fp_report_t *r, const char *signature);
/* The same figures as a JSON object (null where unknown), without the
 * signature status, which the caller adds; the caller json_decref()s it. */
json_t *fp_report_json(const fp_report_t *r);

/* The footprint section of the job-end mail. */
char *fp_report_mail(const fp_report_t *r, const char *signature);
/* The section when no valid summary could be had: says why and how to get
 * the footprint later. why may be NULL. */
char *fp_report_mail_unavailable(uint64_t job_id, const char *why);

/* The aggregate table of `sfootprint -u/-A/-S/-E`. */
typedef struct fp_report_table fp_report_table_t;

fp_report_table_t *fp_report_table_new(void);
void fp_report_table_free(fp_report_table_t *t);
/* rec NULL: the job has no footprint record. */
int fp_report_table_add(fp_report_table_t *t, const char *job,
			const char *user, const char *account,
			const fp_record_t *rec, fp_error_t *err);
size_t fp_report_table_rows(const fp_report_table_t *t);
/* Aligned columns and a TOTAL line; parsable: '|'-separated like
 * `sacct -p` (a '|' ends every field). The caller free()s it. */
char *fp_report_table_text(const fp_report_table_t *t, bool parsable);
json_t *fp_report_table_json(const fp_report_table_t *t);

/* Where the tools find footprint.conf: option (--config), else env_conf
 * (FOOTPRINT_CONF), else JobCompLoc of slurm.conf when its JobCompType is
 * jobcomp/carbon (what the plugin reads), else footprint.conf beside
 * slurm.conf. slurm_conf NULL or "": /etc/slurm/slurm.conf. */
int fp_report_conf_path(const char *option, const char *env_conf,
			const char *slurm_conf, char *buf, size_t size);
/* The value of a top-level key of slurm.conf (ClusterName, JobCompLoc...):
 * 0 found, 1 absent, -1 the file cannot be read (err names it). */
int fp_report_slurm_conf_get(const char *slurm_conf, const char *key,
			     char *buf, size_t size, fp_error_t *err);

/* sacct-like times: YYYY-MM-DD[THH:MM[:SS]], MM/DD[/YY[YY]], HH:MM[:SS]
 * (today), now, today, midnight, noon, now[+-]N[seconds|minutes|hours|
 * days|weeks] (singular and short forms too). Local time, as sacct. */
int fp_report_parse_time(const char *s, time_t now, time_t *out,
			 fp_error_t *err);

#endif
