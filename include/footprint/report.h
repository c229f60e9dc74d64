/* What people read about a job's footprint: the seff-like job report, the
 * mail section, the aggregate table and sacct-like times, from a summary. */
#ifndef FP_REPORT_H
#define FP_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <jansson.h>

#include "carbon.h"
#include "error.h"
#include "summary.h"

/* One site of a summary (figures NAN when the summary has null). */
typedef struct fp_report_site {
	char *name;
	double energy_wh; /* facility */
	double pue;
	double intensity; /* gCO2e/kWh */
	double operational_g;
	double embodied_g;
	double avoided_g;
	/* IntensityFallback= when it filled times the series had not
	 * published: the method (NULL when none was used) over
	 * [fallback_first, fallback_end) (0 unknown), fallback_share of the
	 * site's IT energy (0..1; NAN unknown). */
	char *fallback;
	time_t fallback_first, fallback_end;
	double fallback_hours, fallback_share;
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

/* What Slurm accounting says of a job (sacct's and seff's figures), which
 * neither the summary nor the record carries. The strings are the caller's
 * (fp_report_set_acct and fp_report_table_add copy them). */
typedef struct fp_report_acct_step {
	char name[24];	 /* "batch", "extern", "0": sacct's JobID tail */
	double energy_j; /* the step's ConsumedEnergy; NAN unknown */
} fp_report_acct_step_t;

typedef struct fp_report_acct {
	const char *name;	    /* JobName; may be NULL */
	const char *state;	    /* "COMPLETED", "FAILED"...; may be NULL */
	int exit_code, exit_signal; /* sacct's ExitCode a:b; -1 unknown */
	time_t start, end;	    /* 0 unknown */
	double elapsed_s;	    /* NAN unknown (so are the three below) */
	double cpu_time_s; /* user + system over the steps (TotalCPU) */
	double alloc_cpus; /* AllocCPUS */
	double energy_j;   /* ConsumedEnergy of sacct's job row */
	const fp_report_acct_step_t *steps;
	size_t nsteps;
} fp_report_acct_t;

/* An fp_report_acct_t with every figure unknown. */
fp_report_acct_t fp_report_acct_unknown(void);
/* seff's CPU efficiency: total CPU time / (elapsed x allocated CPUs), in %;
 * NAN when a figure is unknown or the product is 0. */
double fp_report_cpu_efficiency(const fp_report_acct_t *a);

/* The figures of one job, from a signed summary or from the shorter FP1
 * job record (which lacks what is NAN/NULL/0 below). Units: Wh, gCO2e. */
typedef struct fp_report {
	uint64_t job_id;
	bool from_record;		/* only the FP1 record was available */
	char *user, *account, *cluster; /* NULL when unknown */
	char *start, *end;		/* ISO 8601 UTC as in the summary */
	double elapsed_s, core_hours;
	fp_energy_source_t source;
	bool complete;
	char **incomplete; /* reasons */
	size_t nincomplete;
	double energy_wh; /* facility energy */
	double energy_it_wh;
	double reused_wh;
	double operational_g, embodied_g, footprint_g;
	double avoided_g; /* heat reuse, never in the footprint */
	double net_g;	  /* footprint - avoided */
	double reference_g, saved_g, saved_with_heat_g, saved_percent;
	double intensity; /* gCO2e/kWh, effective */
	double per_core_hour_g;
	double pue;
	char *reference_name; /* NULL: "standard datacenter" */
	double reference_pue;
	char config[65]; /* digest (16 digits from a record) */
	fp_report_site_t *sites;
	size_t nsites;
	fp_report_node_t *nodes;
	size_t nnodes;
	fp_report_step_t *steps;
	size_t nsteps;
	/* From accounting (fp_report_set_acct); when has_acct is false,
	 * acct_note (may be NULL) says why not. */
	bool has_acct;
	char *job_name, *state, *acct_note;
	int exit_code, exit_signal;
	time_t acct_start, acct_end;
	double acct_elapsed_s, cpu_time_s, alloc_cpus, sacct_energy_j;
	fp_report_acct_step_t *acct_steps;
	size_t nacct_steps;
} fp_report_t;

/* From a summary payload (JSON text); fails naming `name` on anything that
 * is not a summary object. */
fp_report_t *fp_report_from_summary(const char *name, const char *payload,
				    fp_error_t *err);
/* From a parsed FP1 record; user/account may be NULL. */
fp_report_t *fp_report_from_record(const fp_record_t *rec, const char *user,
				   const char *account, fp_error_t *err);
void fp_report_free(fp_report_t *r);
/* Adds what accounting says of the job (copied). */
int fp_report_set_acct(fp_report_t *r, const fp_report_acct_t *a,
		       fp_error_t *err);
/* Says why the report has no accounting part (copied). */
int fp_report_set_acct_note(fp_report_t *r, const char *why, fp_error_t *err);

/* The seff-like report of `sfootprint -j`; signature is the status line's
 * text ("valid (kid ...)", "INVALID: ...", "unsigned record only"). The
 * caller free()s it. */
char *fp_report_text(const fp_report_t *r, const char *signature);
/* The same figures as a JSON object (null where unknown), without the
 * signature status, which the caller adds; the caller json_decref()s it. */
json_t *fp_report_json(const fp_report_t *r);

/* The footprint section of the job-end mail. */
char *fp_report_mail(const fp_report_t *r, const char *signature);
/* The same with lines of the summary's energy by part (e.g.
 * fp_summary_parts_mail's, our own text) before its last line; parts may
 * be NULL. */
char *fp_report_mail_with(const fp_report_t *r, const char *signature,
			  const char *parts);
/* The section when no valid summary could be had: says why and how to get
 * the footprint later. why may be NULL. */
char *fp_report_mail_unavailable(uint64_t job_id, const char *why);

/* The aggregate table of `sfootprint -u/-A/-S/-E`. */
typedef struct fp_report_table fp_report_table_t;

fp_report_table_t *fp_report_table_new(void);
void fp_report_table_free(fp_report_table_t *t);
/* rec NULL: the job has no footprint record; acct NULL: nothing from
 * accounting (both are copied). */
int fp_report_table_add(fp_report_table_t *t, const char *job, const char *user,
			const char *account, const fp_record_t *rec,
			const fp_report_acct_t *acct, fp_error_t *err);
size_t fp_report_table_rows(const fp_report_table_t *t);
/* The columns of the text, as sacct -o: a comma list of names (any case)
 * among FP_REPORT_COLUMNS; an unknown or empty name fails naming it and
 * listing the valid ones. Default: FP_REPORT_DEFAULT_COLUMNS. */
#define FP_REPORT_COLUMNS                                                  \
	"JobID, JobName, User, Account, State, ExitCode, Start, End, "     \
	"Elapsed, AllocCPUS, TotalCPU, CPUEff, ConsumedEnergy, EnergyWh, " \
	"FootprintG, AvoidedG, NetG, ReferenceG, Source"
#define FP_REPORT_DEFAULT_COLUMNS                                          \
	"JobID,User,Account,EnergyWh,FootprintG,AvoidedG,NetG,ReferenceG," \
	"Source"
int fp_report_table_set_format(fp_report_table_t *t, const char *columns,
			       fp_error_t *err);
/* noheader: no header lines, as sacct -n (the TOTAL line stays). */
void fp_report_table_set_noheader(fp_report_table_t *t, bool noheader);
/* Aligned columns and a TOTAL line; parsable: '|'-separated like
 * `sacct -p` (a '|' ends every field). Names are escaped (control bytes
 * and bytes that are not UTF-8 written \xNN). The caller free()s it. */
char *fp_report_table_text(const fp_report_table_t *t, bool parsable);
/* Every field, whatever the format; times in UTC (ISO 8601, Z). */
json_t *fp_report_table_json(const fp_report_table_t *t);

/* Job ids of -j: adds each id of arg (a comma list of N, N_T array task,
 * N+C het component) to *list (a comma list the caller free()s; NULL to
 * start), skipping ids already there, and counts them in *count. Fails
 * naming the id on anything else, on 0 and beyond Slurm's job ids (32 bits
 * without NO_VAL and INFINITE: at most 4294967293). */
int fp_report_job_ids(const char *arg, char **list, size_t *count,
		      fp_error_t *err);

/* Text for people: control bytes (C0, DEL, C1) and bytes that are not
 * UTF-8 written \xNN, a backslash doubled; NULL in, NULL out. The caller
 * free()s it. */
char *fp_report_escape(const char *s);
/* The one spelling of an energy source in text: "measured", "calibrated:
 * ...", "simulated by fp-simnode, not a measurement", "unknown". */
const char *fp_report_source_text(fp_energy_source_t src);
/* The one spelling of completeness in text: "complete", or "incomplete: "
 * and the reasons (escaped) joined by "; ". */
void fp_report_put_completeness(FILE *f, bool complete, char *const *reasons,
				size_t nreasons);
/* The one spelling of a saving against the reference (sfootprint -j,
 * compute, the mail): "saved X gCO2e (Y %)" or "X gCO2e more than the
 * reference (Y %)", then "; with heat reuse, " and the same for
 * saved_with_heat; each Y is its own X in % of reference ("-" when the
 * reference is not above 0). */
void fp_report_put_saving(FILE *f, double saved, double saved_with_heat,
			  double reference);
/* A time as sacct prints it: local, YYYY-MM-DDTHH:MM:SS; "-" for 0. */
const char *fp_report_local_time(time_t t, char *buf, size_t size);
/* A UTC ISO 8601 time (2024-01-15T12:34:56Z) read back; -1 on anything
 * else. */
time_t fp_report_parse_utc(const char *iso);
/* A duration as sacct's Elapsed: [D-]HH:MM:SS; "-" when unknown. */
const char *fp_report_duration(double s, char *buf, size_t size);

/* Where the tools find footprint.conf: option (--config), else env_conf
 * (FOOTPRINT_CONF), else JobCompLoc of slurm.conf when its JobCompType is
 * jobcomp/carbon (what the plugin reads), else footprint.conf beside
 * slurm.conf (fp_slurmconf_path(slurm_conf)). */
int fp_report_conf_path(const char *option, const char *env_conf,
			const char *slurm_conf, char *buf, size_t size);

/* sacct-like times: YYYY-MM-DD[THH:MM[:SS]], MM/DD[/YY[YY]], HH:MM[:SS]
 * (today), now, today, midnight, noon, now[+-]N[seconds|minutes|hours|
 * days|weeks] (singular and short forms too). Local time, as sacct. */
int fp_report_parse_time(const char *s, time_t now, time_t *out,
			 fp_error_t *err);

#endif
