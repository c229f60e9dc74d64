/* Private to lib/carbon/report_html*.c: the page's state and inline style,
 * its drawing kit (report_html_draw.c) and sections (report_html_section.c). */
#ifndef FP_REPORT_HTML_PARTS_H
#define FP_REPORT_HTML_PARTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <time.h>

#include "footprint/report_html.h"

struct fp_report_html {
	const fp_report_t *r;
	char *signature;
	bool has_domains;
	double package_wh, dram_wh, gpu_wh;
	bool has_curves;
	fp_report_html_curve_t *curves;
	size_t ncurves;
	char *curves_note;
	const fp_whatif_t *w;
	time_t from, to;
	char *whatif_note;
};

/* Mail clients drop <style> blocks and external sheets: every rule is
 * written on its element. */
#define FONT "font-family:Helvetica,Arial,sans-serif"
#define TABLE "border-collapse:collapse;margin:6px 0 18px 0;font-size:13px"
#define TD "border:1px solid #ccc;padding:3px 8px"
#define TDN TD ";text-align:right;font-variant-numeric:tabular-nums"
#define SVG_W 900

/* One bar of a bar chart, and its row in the chart's table. */
struct bar {
	const char *label, *key, *color;
	double value;
};

/* The drawing kit. Writes s escaped; "?" when unknown. */
void fp_report_html_draw_put(FILE *f, const char *s);
/* The text report's precision: three decimals, "-" when unknown. */
const char *fp_report_html_draw_fig(char *buf, size_t size, double x);
/* A round step, 1, 2 or 5 times a power of ten, of at least range / n. */
double fp_report_html_draw_nice_step(double range, int n);
/* Opens an <svg> figure SVG_W wide, its title drawn and said. */
void fp_report_html_draw_svg_open(FILE *f, const char *id, const char *title,
				  int height);
void fp_report_html_draw_axis_label(FILE *f, double x, double y, int rotate,
				    const char *text);
/* Horizontal bars with their values and units, on a value axis. */
void fp_report_html_draw_hbars(FILE *f, const char *id, const char *title,
			       const char *axis, const char *unit,
			       const struct bar *b, size_t n);
/* The figures' table: one row per bar, value and unit in cells of their
 * own, keyed for readers and tests. */
void fp_report_html_draw_bar_table(FILE *f, const char *id, const struct bar *b,
				   size_t n, const char *unit);
/* Opens a section's <div> with its heading; the caller closes it. */
void fp_report_html_draw_section(FILE *f, const char *id, const char *title);
void fp_report_html_draw_note(FILE *f, const char *cls, const char *text);
/* A UTC hour as HH:MM, with the date (MM-DD HH:MM) when date. */
void fp_report_html_draw_hour_text(time_t t, char *buf, size_t size, bool date);

/* The sections, in the page's order (fp_report_html_write). */
void fp_report_html_section_header(FILE *f, const fp_report_html_t *h);
void fp_report_html_section_energy(FILE *f, const fp_report_html_t *h);
void fp_report_html_section_hourly(FILE *f, const fp_report_html_t *h);
void fp_report_html_section_compare(FILE *f, const fp_report_t *r);
void fp_report_html_section_whatif(FILE *f, const fp_report_html_t *h);

#endif
