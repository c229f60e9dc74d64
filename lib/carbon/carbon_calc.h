/* Private to lib/carbon/carbon*.c: the job model's helpers (carbon.c) and
 * one computation's state, shared by carbon_compute.c and carbon_series.c. */
#ifndef FP_CARBON_CALC_H
#define FP_CARBON_CALC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "footprint/carbon.h"

/* Room for one more element in *a, which holds n of size bytes and grows
 * only by this (its capacity is implicit); -1 when out of memory. */
int fp_carbon_grow(void **a, size_t n, size_t size);
/* Appends node (copied) to the allocation *a of *n nodes. */
int fp_carbon_alloc_add(fp_alloc_t **a, size_t *n, const char *node,
			unsigned cpus, double energy_j);
void fp_carbon_alloc_free(fp_alloc_t *a, size_t n);

/* Strings sorted, each once, found by bsearch: a job of 100k steps
 * looked its step ids and nodes up by scanning all of them, and compute
 * took the square of the steps. (glibc's hsearch_r hashes only the first
 * characters of a long name: node-0001..node-9999 would all collide.)
 * The strings are not copied: they must outlive the set. */
struct name_set {
	const char **v;
	size_t n;
};

/* A node name the job uses: where its figures go. */
struct seen_node {
	bool seen;
	size_t node;  /* in r->nodes; NOT_COUNTED: its site has no series */
	size_t site;  /* in r->sites */
	size_t alloc; /* in the job allocation job_alloc() builds */
};
#define NOT_COUNTED SIZE_MAX

/* [first, end) of one step in which a site's fallback filled times. */
struct fill_span {
	size_t site; /* in r->sites */
	time_t first, end;
};

struct calc {
	const fp_config_t *cfg;
	const fp_job_t *job;
	fp_hostlist_match_fn match;
	void *ctx;
	fp_result_t *r;
	const fp_site_conf_t **site_conf; /* parallel to r->sites */
	fp_error_t *err;
	struct name_set names;	     /* every node name of the job */
	struct seen_node *seen;	     /* parallel to names */
	const fp_site_conf_t **said; /* sites said not counted */
	size_t nsaid;
	struct fill_span *fills; /* where fallbacks filled times */
	size_t nfills;
};

/* The site's intensity over the step, the site's fallback filling what its
 * series has not published once the job's wait is over (carbon_series.c). */
int fp_carbon_series_intensity_mean(struct calc *c, const fp_site_conf_t *sc,
				    fp_site_result_t *site, const fp_step_t *s,
				    double e, double *in);
/* Each site's fallback_s, from the spans the fallbacks filled. */
int fp_carbon_series_fallback_time(struct calc *c);

#endif
