/* footprint.conf (docs/footprint.conf.5): sites, node types, the reference
 * datacenter and the daemon's settings; displaced-heating presets; digest. */
#ifndef FP_CONFIG_H
#define FP_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"
#include "series.h"

#define FP_DEFAULT_SITE_PUE 1.0 /* heaters: no cooling, no UPS */
#define FP_DEFAULT_REFERENCE_PUE 1.5
#define FP_DEFAULT_REFERENCE_NAME "standard-datacenter"
#define FP_DEFAULT_JOB_RECORD_FIELD "AdminComment"
#define FP_DEFAULT_SPOOL_DIR "/var/spool/slurm/footprint"
#define FP_DEFAULT_MAX_WORKERS 2
#define FP_DEFAULT_MAX_QUEUE 1024
#define FP_DEFAULT_WORKER_TIMEOUT 300 /* seconds */
#define FP_DEFAULT_SERIES_WAIT 10800  /* seconds: feeds publish within 1-2 h */
/* seconds: a node writes a step's record one poll after the step ends, and
 * a shared filesystem shows it to the controller within its attribute cache
 * time (NFS: 60 s at most by default) */
#define FP_DEFAULT_PARTS_WAIT 60

/* Matching a node to a Nodes= hostlist is the caller's job (the plugin uses
 * Slurm's hostlist API): nonzero when node is in hostlist. */
typedef int (*fp_hostlist_match_fn)(const char *hostlist, const char *node,
				    void *ctx);

/* A matcher for plain comma-separated names ("n1,n2"), no ranges: for
 * callers without Slurm's hostlist API (tests, benchmarks, fuzzers). */
int fp_config_hostlist_match_plain(const char *hostlist, const char *node,
				   void *ctx);

/* An emission factor for heat displaced by the heaters, in gCO2e per kWh of
 * heat, with where it comes from. */
typedef struct fp_preset {
	const char *name;
	double gco2e_per_kwh;
	const char *source;
} fp_preset_t;

/* A signal as written (Intensity=, UsefulHeat=) and, once loaded, its
 * series. Constants and month lists get their series at parse time, files
 * in fp_config_load_series(). */
typedef struct fp_signal_spec {
	char *text; /* the value as written */
	char *path; /* file: resolved path, else NULL */
	fp_series_format_t format;
	fp_intensity_kind_t kind;
	bool hourly; /* IntensityResolution=hour */
	fp_series_t *series;
	char *error; /* why the file did not load, or NULL */
} fp_signal_spec_t;

/* Feed= (docs/footprint.conf.5): the provider that keeps the site's
 * Intensity=file: series current (sfootprint signals update). */
typedef struct fp_feed_spec {
	char *provider;	  /* eco2mix, electricitymaps, uk; NULL:
					 * no feed */
	char *zone;	  /* Electricity Maps zone, UK region id,
					 * or NULL */
	char *url;	  /* FeedURL=, NULL: the provider's own */
	char *token_file; /* FeedTokenFile= */
	char *proxy;	  /* FeedProxy=, NULL: the environment's */
} fp_feed_spec_t;

typedef struct fp_site_conf {
	char *name;
	char *nodes;		    /* hostlist expression, not expanded */
	fp_signal_spec_t intensity; /* gCO2e/kWh */
	double pue;
	double heat_recovery; /* fraction of facility energy */
	char *displaced;      /* preset name or "custom" */
	double displaced_gco2e_per_kwh;
	char *displaced_source;
	fp_signal_spec_t useful_heat; /* fraction in [0, 1] */
	fp_feed_spec_t feed;
	fp_fallback_t fallback; /* IntensityFallback=, after SeriesWait */
	unsigned line;
} fp_site_conf_t;

typedef struct fp_node_type {
	char *name;
	char *nodes;
	double embodied_kg; /* kgCO2e per node, manufacturing */
	double lifetime_years;
	unsigned cpus; /* CPUs Slurm counts on the node */
	char *source;  /* of the embodied figure */
	unsigned line;
} fp_node_type_t;

typedef struct fp_reference {
	char *name;
	double pue;
	char *pue_source;
	bool same_grid;		    /* Intensity=site: each site's grid */
	fp_signal_spec_t intensity; /* when !same_grid */
	unsigned line;
} fp_reference_t;

/* MailHTML=: how footprint-mail adds the HTML report to a job-end mail. */
typedef enum fp_mail_html {
	FP_MAIL_HTML_NO,	  /* text only, through Mailer */
	FP_MAIL_HTML_ALTERNATIVE, /* multipart/alternative */
	FP_MAIL_HTML_ATTACHMENT,  /* multipart/mixed, job-N.html */
} fp_mail_html_t;

typedef struct fp_config {
	char *path;
	char digest[65]; /* SHA-256 hex of the file bytes */
	fp_site_conf_t *sites;
	size_t nsites;
	fp_node_type_t *node_types;
	size_t nnode_types;
	fp_reference_t reference;
	char *signing_key;
	char *public_key;   /* the first PublicKey= */
	char **public_keys; /* every PublicKey=, in file order */
	size_t npublic_keys;
	char **public_key_dirs; /* every PublicKeys= folder */
	size_t npublic_key_dirs;
	char *spool_dir;
	char *job_record_field;
	unsigned max_workers;
	unsigned max_queue;
	unsigned worker_timeout;
	char *energy_source;	  /* measured, calibrated, simulated */
	char *mailer;		  /* the real mailer footprint-mail runs */
	unsigned mail_wait;	  /* seconds footprint-mail waits */
	fp_mail_html_t mail_html; /* the HTML report in the mail */
	char *sendmail;		  /* sendmail(8), for MIME mails */
	unsigned retry_interval;  /* seconds between worker retries */
	unsigned series_wait;	  /* seconds the worker waits for the
					 * series to cover a job's steps */
	char *node_parts_dir;	  /* the nodes' RunDir/parts, "%n" the
					 * node; NULL: no energy breakdown */
	unsigned parts_wait;	  /* seconds the worker waits for the
					 * step records NodePartsDir lacks */
	char *metrics;		  /* Metrics=: the worker's Prometheus
					 * text file, NULL: none */
} fp_config_t;

/* Reads and parses path; series files are not read yet. */
fp_config_t *fp_config_load(const char *path, fp_error_t *err);
/* Same from memory; name stands for the file (relative series paths are
 * resolved against its directory). */
fp_config_t *fp_config_parse(const char *name, const char *text, size_t len,
			     fp_error_t *err);
/* For a file that does not parse: only its SigningKey, SpoolDir,
 * JobRecordField, EnergySource and WorkerTimeout lines (one key=value per
 * line), so jobs still get a signed summary marked incomplete and the spool
 * is found. NULL when not even a SigningKey is there. */
fp_config_t *fp_config_load_essentials(const char *path);

/* footprint.conf's global keys (outside Site, NodeType and Reference
 * lines) as the parser's table holds them, for its man page's test: the
 * i-th key's name, NULL past the last; a key of a whole number gives its
 * bounds and default (*lo <= *hi), any other *lo = 1, *hi = 0. */
const char *fp_config_global_key(size_t i, unsigned *lo, unsigned *hi,
				 unsigned *dflt);
/* The keys of a Site, NodeType or Reference line (line names which) as
 * the parser's tables hold them, for the man page's test: the i-th key's
 * name, NULL past the last; a key of a number gives its bounds (*lo <=
 * *hi), any other *lo = 1, *hi = 0. */
const char *fp_config_key_of(const char *line, size_t i, double *lo,
			     double *hi);
/* Loads every series file; the error names the footprint.conf line that
 * uses the file, then the file's own line and field. A file that does not
 * load leaves only its spec without a series (and with error set): the
 * other sites still compute. -1 when any failed, err says the first;
 * fp_config_series_error() gives each. */
int fp_config_load_series(fp_config_t *cfg, fp_error_t *err);
/* After fp_config_load_series: the i-th series that did not load (in file
 * order), as its error says it (the line, the field, the file's error);
 * NULL past the last. Owned by cfg. */
const char *fp_config_series_error(const fp_config_t *cfg, size_t i);
void fp_config_free(fp_config_t *cfg);

/* First site / node type whose Nodes= holds node, or NULL. */
const fp_site_conf_t *fp_config_site_for(const fp_config_t *cfg,
					 const char *node,
					 fp_hostlist_match_fn match, void *ctx);
const fp_node_type_t *fp_config_node_type_for(const fp_config_t *cfg,
					      const char *node,
					      fp_hostlist_match_fn match,
					      void *ctx);

/* The displaced-heating presets (gas, fuel-oil, electric, district,
 * heat-pump, none); lookup accepts '_' for '-' and any case. */
const fp_preset_t *fp_config_displaced_presets(size_t *n);
const fp_preset_t *fp_config_displaced_preset(const char *name);

#endif
