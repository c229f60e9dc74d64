/* The controller's Prometheus text file (footprint.conf Metrics=): each
 * site's grid intensity now and the running totals of what the worker's
 * summaries counted there (energy, emissions, avoided emissions). */
#ifndef FP_SITE_METRICS_H
#define FP_SITE_METRICS_H

#include <time.h>

#include "carbon.h"
#include "config.h"
#include "error.h"

/* What one worker process counted: one entry per site its summaries
 * named, and the summaries marked incomplete (they name no site). */
typedef struct fp_site_metrics fp_site_metrics_t;

fp_site_metrics_t *fp_site_metrics_new(void);
void fp_site_metrics_free(fp_site_metrics_t *m);
/* One summary written: res's sites' figures, or (res NULL) one
 * incomplete summary. -1 when out of memory. */
int fp_site_metrics_add(fp_site_metrics_t *m, const fp_result_t *res);
/* Adds what from counted to to. -1 when out of memory. */
int fp_site_metrics_merge(fp_site_metrics_t *to, const fp_site_metrics_t *from);

/* Adds m (NULL: nothing) to the totals kept in state, then writes prom
 * (tmp, fsync, rename) with those totals and every configured site's
 * intensity at now: the value in effect, else the series' last one. Both
 * files are rewritten under an exclusive lock on state.lock, so parallel
 * workers add up. A state file that does not parse is one error naming
 * its line and field: it is kept aside as state.damaged and the totals
 * start again from m (a counter reset, which Prometheus takes). */
int fp_site_metrics_write(const fp_site_metrics_t *m, const fp_config_t *cfg,
			  const char *state, const char *prom, time_t now,
			  fp_error_t *err);

#endif
