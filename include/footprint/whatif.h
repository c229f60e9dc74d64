/* Carbon-aware hints: the footprint the same job (same IT energy and
 * duration) would have had on each site's nodes at each start hour. */
#ifndef FP_WHATIF_H
#define FP_WHATIF_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "config.h"
#include "error.h"

typedef struct fp_whatif_job {
	double energy_j; /* IT energy, J */
	double elapsed_s;
	double embodied_g; /* the same hardware time wherever it runs */
	time_t start;	   /* actual start: always tried */
} fp_whatif_job_t;

typedef struct fp_whatif_option {
	const char *site; /* points into the configuration */
	time_t start;
	double intensity;     /* time-weighted mean over the run, gCO2e/kWh */
	double operational_g; /* energy x PUE x intensity */
	double footprint_g;   /* operational + embodied */
	double avoided_g;     /* heat reuse, never subtracted */
	double net_g;	      /* footprint - avoided */
} fp_whatif_option_t;

/* A site left out of the ranking: one of its series did not load. */
typedef struct fp_whatif_unavailable {
	const char *site;   /* these point into the configuration */
	const char *field;  /* "Intensity" or "UsefulHeat" */
	const char *series; /* the value as written, "file:..." */
	const char *fault;  /* why it did not load, naming the Site line */
} fp_whatif_unavailable_t;

/* Options with the same figures (footprint and net equal to 1e-9
 * relative: the same, rounding aside), ranked as one candidate: a flat
 * series or sites at one intensity would otherwise fill the top N with
 * ties. */
typedef struct fp_whatif_group {
	size_t first; /* options[first .. first + count - 1] */
	size_t count;
	size_t nsites;	    /* distinct sites among them */
	time_t first_start; /* the earliest and latest of their starts */
	time_t last_start;
	bool every_hour; /* no whole hour between the two is missing */
} fp_whatif_group_t;

typedef struct fp_whatif {
	fp_whatif_option_t *options; /* least footprint first; equal ones
					 * by start, then site */
	size_t noptions;
	fp_whatif_group_t *groups; /* distinct candidates, best first */
	size_t ngroups; /* 1 (and noptions > 1): every option equal */
	size_t skipped; /* site/hour pairs no series covers */
	fp_whatif_unavailable_t *unavailable; /* in footprint.conf order */
	size_t nunavailable;
} fp_whatif_t;

/* Every site of cfg x every whole hour in [from, to] plus the actual
 * start; a pair whose run a series does not cover is skipped, never
 * extrapolated. A site whose series did not load (fp_config_load_series
 * left its error) is listed as unavailable and the others are ranked.
 * Fails when no pair is covered, or when fp_config_load_series was not
 * called. The result refers to cfg's strings: free it before cfg. */
fp_whatif_t *fp_whatif_compute(const fp_config_t *cfg,
			       const fp_whatif_job_t *job, time_t from,
			       time_t to, fp_error_t *err);
void fp_whatif_free(fp_whatif_t *w);

#endif
