/* The HTML page's drawing kit: escaped text and figures, SVG frames, axes
 * and bar charts with their tables, sections and notes. */
#include "footprint/report_html.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "report_html_parts.h"

/* Writes s escaped; "?" when unknown. */
void fp_report_html_draw_put(FILE *f, const char *s)
{
	char *e = fp_report_html_escape(s ? s : "?");

	fputs(e ? e : "?", f);
	free(e);
}

/* The text report's precision: three decimals, "-" when unknown. */
const char *fp_report_html_draw_fig(char *buf, size_t size, double x)
{
	if (!isfinite(x))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.3f", x == 0 ? 0 : x);
	return buf;
}

double fp_report_html_draw_nice_step(double range, int n)
{
	double raw = range / n, p, m;

	if (!(raw > 0) || !isfinite(raw))
		return 1;
	p = pow(10, floor(log10(raw)));
	m = raw / p;
	return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

void fp_report_html_draw_svg_open(FILE *f, const char *id, const char *title,
				  int height)
{
	fprintf(f,
		"<svg id=\"%s\" class=\"figure\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" role=\"img\" aria-labelledby=\"%s-t\" "
		"style=\"max-width:100%%;height:auto;" FONT "\">\n"
		"<title id=\"%s-t\">",
		id, SVG_W, height, SVG_W, height, id, id);
	fp_report_html_draw_put(f, title);
	fprintf(f,
		"</title>\n<text class=\"fig-title\" x=\"%d\" y=\"20\" "
		"text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">",
		SVG_W / 2);
	fp_report_html_draw_put(f, title);
	fputs("</text>\n", f);
}

void fp_report_html_draw_axis_label(FILE *f, double x, double y, int rotate,
				    const char *text)
{
	fprintf(f,
		"<text class=\"axis-label\" x=\"%.1f\" y=\"%.1f\" "
		"text-anchor=\"middle\" font-size=\"12\"",
		x, y);
	if (rotate)
		fprintf(f, " transform=\"rotate(%d %.1f %.1f)\"", rotate, x, y);
	fputs(">", f);
	fp_report_html_draw_put(f, text);
	fputs("</text>\n", f);
}

/* Horizontal bars with their values and units, on a value axis. */
void fp_report_html_draw_hbars(FILE *f, const char *id, const char *title,
			       const char *axis, const char *unit,
			       const struct bar *b, size_t n)
{
	const double left = 270, right = 760, top = 40, bh = 24, gap = 12;
	double lo = 0, hi = 0, step, x0;
	int height = (int)(top + n * (bh + gap) + 60);
	char v[32];

	for (size_t i = 0; i < n; i++)
		if (isfinite(b[i].value)) {
			lo = b[i].value < lo ? b[i].value : lo;
			hi = b[i].value > hi ? b[i].value : hi;
		}
	if (hi - lo <= 0)
		hi = lo + 1;
	step = fp_report_html_draw_nice_step(hi - lo, 5);
	lo = floor(lo / step) * step;
	hi = ceil(hi / step) * step;
#define X(val) (left + ((val)-lo) / (hi - lo) * (right - left))
	fp_report_html_draw_svg_open(f, id, title, height);
	for (double t = lo; t <= hi + step / 2; t += step) {
		double x = X(t);

		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
			"y2=\"%.1f\" stroke=\"#ddd\"/>\n<text class=\"tick\" "
			"x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" "
			"font-size=\"11\">%g</text>\n",
			x, top - 4, x, top + n * (bh + gap), x,
			top + n * (bh + gap) + 14,
			fabs(t) < step / 1e6 ? 0 : t);
	}
	x0 = X(0);
	for (size_t i = 0; i < n; i++) {
		double y = top + i * (bh + gap);

		fprintf(f,
			"<text class=\"bar-label\" x=\"%.1f\" y=\"%.1f\" "
			"text-anchor=\"end\" font-size=\"12\">",
			left - 8, y + bh * 0.65);
		fp_report_html_draw_put(f, b[i].label);
		fputs("</text>\n", f);
		if (isfinite(b[i].value)) {
			double x = X(b[i].value);

			fprintf(f,
				"<rect data-key=\"%s\" x=\"%.1f\" "
				"y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				"fill=\"%s\"/>\n",
				b[i].key, x < x0 ? x : x0, y, fabs(x - x0), bh,
				b[i].color);
		}
		fprintf(f,
			"<text class=\"value\" data-key=\"%s\" x=\"%.1f\" "
			"y=\"%.1f\" font-size=\"12\">%s %s</text>\n",
			b[i].key, right + 8, y + bh * 0.65,
			fp_report_html_draw_fig(v, sizeof(v), b[i].value),
			isfinite(b[i].value) ? unit : "(unknown)");
	}
	fprintf(f,
		"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		"stroke=\"#333\"/>\n",
		x0, top - 4, x0, top + n * (bh + gap));
	fp_report_html_draw_axis_label(f, (left + right) / 2, height - 14, 0,
				       axis);
	fputs("</svg>\n", f);
#undef X
}

/* The figures' table: one row per bar, value and unit in cells of their
 * own, keyed for readers and tests. */
void fp_report_html_draw_bar_table(FILE *f, const char *id, const struct bar *b,
				   size_t n, const char *unit)
{
	char v[32];

	fprintf(f, "<table id=\"%s\" style=\"" TABLE "\">\n", id);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "<tr data-key=\"%s\"><td style=\"" TD "\">",
			b[i].key);
		fp_report_html_draw_put(f, b[i].label);
		fprintf(f,
			"</td><td class=\"num\" style=\"" TDN "\">%s</td>"
			"<td style=\"" TD "\">%s</td></tr>\n",
			fp_report_html_draw_fig(v, sizeof(v), b[i].value),
			unit);
	}
	fputs("</table>\n", f);
}

void fp_report_html_draw_section(FILE *f, const char *id, const char *title)
{
	fprintf(f,
		"<div id=\"%s\" class=\"section\" style=\"margin-top:24px\">"
		"\n<h2 style=\"font-size:18px;margin:0 0 6px 0\">",
		id);
	fp_report_html_draw_put(f, title);
	fputs("</h2>\n", f);
}

void fp_report_html_draw_note(FILE *f, const char *cls, const char *text)
{
	fprintf(f,
		"<p class=\"%s\" style=\"font-size:12px;color:#555;"
		"margin:4px 0\">",
		cls);
	fp_report_html_draw_put(f, text);
	fputs("</p>\n", f);
}

void fp_report_html_draw_hour_text(time_t t, char *buf, size_t size, bool date)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	if (date)
		strftime(buf, size, "%m-%d %H:%M", &tm);
	else
		strftime(buf, size, "%H:%M", &tm);
}
