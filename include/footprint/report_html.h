/* The job report as one self-contained HTML page (sfootprint -j N --html):
 * tables and inline SVG, no script, font, image or link outside the page. */
#ifndef FP_REPORT_HTML_H
#define FP_REPORT_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "config.h"
#include "error.h"
#include "report.h"
#include "whatif.h"

/* The what-if of the page: the actual start +- this many hours. */
#define FP_REPORT_HTML_WHATIF_HOURS 12
/* Hours of the site's curve drawn before and after the job. */
#define FP_REPORT_HTML_CONTEXT_HOURS 3
/* A job longer than this (31 days) gets no hour-by-hour figure. */
#define FP_REPORT_HTML_MAX_HOURS 744

/* One UTC hour of a site's curve. */
typedef struct fp_report_html_hour {
	time_t start;
	double intensity;   /* gCO2e/kWh; NAN: the series has none */
	double job_s;	    /* seconds of the job in this hour */
	double emissions_g; /* the job's operational share; 0 outside */
} fp_report_html_hour_t;

/* A site's intensity over the job, and the job's emissions hour by hour:
 * the site's operational figure of the summary spread over the job's hours
 * at constant power, each hour weighted by its intensity, so the hours sum
 * to the summary's figure. */
typedef struct fp_report_html_curve {
	char *site;
	char *series; /* the series' name; NULL: none loaded */
	bool flat;    /* no hourly series: the summary's mean */
	fp_report_html_hour_t *hours;
	size_t nhours;
} fp_report_html_curve_t;

typedef struct fp_report_html fp_report_html_t;

/* A page for r (which must outlive it); signature is the status line's
 * text, copied. */
fp_report_html_t *fp_report_html_new(const fp_report_t *r,
				     const char *signature, fp_error_t *err);
void fp_report_html_free(fp_report_html_t *h);

/* The energy of the CPU packages, DRAM and GPUs in Wh (NAN: unknown; gpu
 * 0: none). The summary does not carry them: without this call the page
 * shows the IT energy whole and says it is not split. */
void fp_report_html_set_domains(fp_report_html_t *h, double package_wh,
				double dram_wh, double gpu_wh);

/* The sites' curves from cfg's series (fp_config_load_series called; cfg
 * may be NULL, and a site without an hourly series gets the summary's
 * intensity as a flat line, said so). Copies what it needs. */
int fp_report_html_set_curves(fp_report_html_t *h, const fp_config_t *cfg,
			      fp_error_t *err);
/* The curves computed (set_curves); NULL before. */
const fp_report_html_curve_t *fp_report_html_curves(const fp_report_html_t *h,
						    size_t *n);

/* The what-if heat map: w is borrowed (it must outlive the page), its
 * window [from, to]. Or why there is none (copied). */
void fp_report_html_set_whatif(fp_report_html_t *h, const fp_whatif_t *w,
			       time_t from, time_t to);
int fp_report_html_set_whatif_note(fp_report_html_t *h, const char *why,
				   fp_error_t *err);

/* Writes the page into the caller's stream; -1 when the stream failed. */
int fp_report_html_write(const fp_report_html_t *h, FILE *out, fp_error_t *err);

/* The whole page of sfootprint -j N --html for r into out: status is the
 * signature's line, payload the summary's JSON (NULL: none; its
 * energy_parts, when present, split the energy by part), each site's curve
 * from cfg's series (loaded here; a series that does not load costs only
 * its site's curve) and the what-if over the page's window. cfg NULL, or a
 * no_whatif reason, leaves the what-if out, the page saying why. -1 when
 * the page cannot be built or the stream failed (err says which). */
int fp_report_html_page(const fp_report_t *r, const char *status,
			const char *payload, fp_config_t *cfg,
			const char *no_whatif, FILE *out, fp_error_t *err);

/* Text for HTML: fp_report_escape's repairs, then & < > " ' as entities;
 * NULL in, NULL out. The caller free()s it. */
char *fp_report_html_escape(const char *s);

#endif
