/* The carbon methodology (docs/methodology.md): a job's steps and energy,
 * the site configuration and its signals -> every figure of the summary. */
#ifndef FP_CARBON_H
#define FP_CARBON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "config.h"
#include "error.h"

#define FP_J_PER_KWH 3.6e6
#define FP_S_PER_YEAR (365.25 * 86400)
/* More than any step uses (a 100 kW node for 300 years is 9.5e14 J): an
 * energy above it is a corrupt record or a typo, refused; sums of such
 * values would print inf. */
#define FP_MAX_ENERGY_J 1e15
/* A step whose nodes' energies all known sum to more than this away from
 * its total contradicts itself: 1 J a node (Slurm rounds each node to a
 * joule) plus 1 % of the total (nodes read at slightly other times). */
#define FP_ENERGY_TOLERANCE 0.01

typedef enum fp_energy_source {
	FP_ENERGY_UNKNOWN = 0,
	FP_ENERGY_MEASURED,   /* wall meter or RAPL, per step */
	FP_ENERGY_CALIBRATED, /* a power model fitted on the node */
	FP_ENERGY_SIMULATED,  /* fp-simnode, tests and what-if */
} fp_energy_source_t;

/* A node of an allocation: the job's (embodied) or a step's (energy). */
typedef struct fp_alloc {
	char *node;
	unsigned cpus;	 /* allocated CPUs on this node */
	double energy_j; /* this node's share when known, else NAN */
} fp_alloc_t;

/* How a step's energy was split over its nodes (summary steps[].split). */
#define FP_SPLIT_EXACT "exact"	       /* one node, or every node known */
#define FP_SPLIT_MINMAX "min-max+cpus" /* some nodes known, rest by CPUs */
#define FP_SPLIT_CPUS "cpus"	       /* by allocated CPUs */

typedef struct fp_step {
	char *id;	   /* "4242.batch", "4242.0": unique in the job */
	time_t start, end; /* Unix seconds */
	double energy_j;   /* NAN when accounting has none */
	fp_alloc_t *nodes;
	size_t nnodes;
	const char *split; /* FP_SPLIT_* (static); NULL: derived */
} fp_step_t;

/* Filled by the caller from Slurm's accounting records. */
typedef struct fp_job {
	uint64_t job_id;
	char *user;
	char *account;
	char *cluster;
	time_t start, end;
	fp_energy_source_t energy_source;
	/* The wait for the series is over (SeriesWait): each site's
	 * IntensityFallback= fills the times its series has not published. */
	bool intensity_fallback;
	fp_alloc_t *nodes; /* the job allocation; if empty, the union
				 * of the steps' nodes is used */
	size_t nnodes;
	fp_step_t *steps;
	size_t nsteps;
} fp_job_t;

fp_job_t *fp_carbon_job_new(void);
void fp_carbon_job_free(fp_job_t *job);
/* The returned step stays valid until the next fp_carbon_job_add_step(). */
fp_step_t *fp_carbon_job_add_step(fp_job_t *job, const char *id, time_t start,
				  time_t end, double energy_j);
int fp_carbon_step_add_node(fp_step_t *step, const char *node, unsigned cpus,
			    double energy_j);
int fp_carbon_job_add_node(fp_job_t *job, const char *node, unsigned cpus);
/* Fills the unknown (NAN) per-node energies of a step from its total: the
 * known nodes keep theirs, the rest share what remains by allocated CPUs;
 * sets step->split. A single node gets the total. Returns -1 (nothing
 * changed) when the total is unknown. docs/methodology.md, "Split". */
int fp_carbon_step_split_energy(fp_step_t *step);
/* The job description of `sfootprint compute` (docs/methodology.md,
 * "Job description"); name stands for the file in errors. */
fp_job_t *fp_carbon_job_from_json(const char *name, const char *text,
				  size_t len, fp_error_t *err);
fp_job_t *fp_carbon_job_load(const char *path, fp_error_t *err);

typedef struct fp_site_result {
	char *site;
	double energy_j;	  /* IT energy */
	double facility_energy_j; /* energy_j * PUE */
	double pue;
	double intensity; /* energy-weighted gCO2e/kWh */
	double operational_g;
	double embodied_g;
	double reused_energy_j;
	double avoided_g;
	double reference_operational_g;
	/* What was used, pinned in the summary. */
	char *intensity_series;
	fp_intensity_kind_t intensity_kind;
	bool intensity_span; /* false for constants */
	time_t intensity_first, intensity_end;
	/* IntensityFallback= when it filled times: what it filled, the
	 * times it filled within [fallback_first, fallback_end) (fallback_s
	 * seconds: less than the span when a gap and the end were filled),
	 * and the IT energy used then. */
	bool fallback_used;
	char fallback[32];
	time_t fallback_first, fallback_end;
	time_t fallback_s;
	double fallback_energy_j;
	char *useful_heat_series;
	double heat_recovery;
	char *displaced;
	double displaced_gco2e_per_kwh;
	char *displaced_source;
} fp_site_result_t;

typedef struct fp_carbon_node {
	char *node;
	char *site;
	char *node_type; /* NULL when no NodeType matched */
	unsigned cpus;	 /* allocated */
	unsigned node_cpus;
	double embodied_kg, lifetime_years;
	char *embodied_source;
	double energy_j;
	double operational_g;
	double embodied_g;
	double avoided_g;
} fp_carbon_node_t;

/* How one step was counted (summary "steps"). */
typedef struct fp_carbon_step {
	char *id;
	const char *split; /* FP_SPLIT_* */
	size_t nnodes;
	double energy_j; /* IT energy counted */
} fp_carbon_step_t;

typedef struct fp_result {
	uint64_t job_id;
	char *user, *account, *cluster;
	time_t start, end;
	double elapsed_s;
	fp_energy_source_t energy_source;
	bool energy_source_nodes; /* said by the nodes' step records
					 * (fp_summary_parts_source), not
					 * EnergySource= */
	bool complete;
	char **incomplete; /* one reason each */
	size_t nincomplete;
	size_t nsteps, nsteps_counted;

	double energy_it_j;
	double energy_facility_j;
	double reused_energy_j;
	double operational_g;
	double embodied_g;
	double footprint_g; /* operational + embodied */
	double avoided_g;   /* heat reuse, never in footprint */
	double net_g;	    /* footprint - avoided */
	double reference_operational_g;
	double reference_g;	  /* reference operational + embodied */
	double saved_g;		  /* reference - footprint */
	double saved_with_heat_g; /* reference - net */
	double saved_percent;	  /* saved_with_heat / reference */
	double core_hours;
	double per_core_hour_g; /* footprint / core_hours */
	double intensity;	/* operational / facility kWh */
	double pue, erf, ere;

	fp_site_result_t *sites;
	size_t nsites;
	fp_carbon_node_t *nodes;
	size_t nnodes;

	char config_digest[65];
	char *reference_name;
	double reference_pue;
	char *reference_pue_source;
	char *reference_intensity; /* "site" or the series name */
	fp_carbon_step_t *steps;   /* the steps counted */
	size_t nstep_results;
} fp_result_t;

/* Fails (NULL, err set) when a figure cannot be computed honestly: a node
 * in no Site, a time outside a series, inconsistent input, an energy
 * above FP_MAX_ENERGY_J or a node with 0 CPUs. Missing step energy, a node
 * without NodeType, node energies that contradict their step's total, a
 * job of 0 s or without steps only make the result incomplete; so does a
 * site whose series did not load (fp_config_load_series left its error):
 * its nodes are not counted, the other sites are. Linear in the steps
 * (n log n in the node names). */
fp_result_t *fp_carbon_compute(const fp_config_t *cfg, const fp_job_t *job,
			       fp_hostlist_match_fn match, void *match_ctx,
			       fp_error_t *err);
void fp_carbon_result_free(fp_result_t *r);
/* Whether the intensity series of every site of the job's nodes has a
 * value at every time of the steps on that site (constants always do): a
 * gap inside a step, a step before the series' first value or past its end
 * is not covered. When not, *until is the earliest time found without a
 * value (the series covers the job up to it). A node in no site, a series
 * that did not load or a step that ends before it starts counts as
 * covered: fp_carbon_compute says those. */
bool fp_carbon_series_cover(const fp_config_t *cfg, const fp_job_t *job,
			    fp_hostlist_match_fn match, void *match_ctx,
			    time_t *until);

const char *fp_carbon_energy_source_str(fp_energy_source_t src);
int fp_carbon_energy_source_parse(const char *s, fp_energy_source_t *src);

#endif
