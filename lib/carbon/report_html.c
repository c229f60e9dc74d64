/* Renders a job's report as one HTML page: tables a mail client shows as
 * they are, and inline SVG figures drawn from the same figures. */
#include "footprint/report_html.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "footprint/json.h"
#include "footprint/series.h"

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

char *fp_report_html_escape(const char *s)
{
	char *e, *out;
	size_t n = 0;

	if (!s)
		return NULL;
	e = fp_report_escape(s);
	if (!e)
		return NULL;
	for (const char *p = e; *p; p++)
		n += *p == '&'		       ? 5
		     : *p == '<' || *p == '>'  ? 4
		     : *p == '"' || *p == '\'' ? 5
					       : 1;
	out = malloc(n + 1);
	if (out) {
		char *o = out;

		for (const char *p = e; *p; p++) {
			const char *rep = *p == '&'    ? "&amp;"
					  : *p == '<'  ? "&lt;"
					  : *p == '>'  ? "&gt;"
					  : *p == '"'  ? "&#34;"
					  : *p == '\'' ? "&#39;"
						       : NULL;

			if (rep) {
				memcpy(o, rep, strlen(rep));
				o += strlen(rep);
			} else {
				*o++ = *p;
			}
		}
		*o = '\0';
	}
	free(e);
	return out;
}

/* Writes s escaped; "?" when unknown. */
static void put(FILE *f, const char *s)
{
	char *e = fp_report_html_escape(s ? s : "?");

	fputs(e ? e : "?", f);
	free(e);
}

/* The text report's precision: three decimals, "-" when unknown. */
static const char *fig(char *buf, size_t size, double x)
{
	if (!isfinite(x))
		snprintf(buf, size, "-");
	else
		snprintf(buf, size, "%.3f", x == 0 ? 0 : x);
	return buf;
}

static char *xstrdup(const char *s)
{
	return s ? strdup(s) : NULL;
}

fp_report_html_t *fp_report_html_new(const fp_report_t *r,
				     const char *signature, fp_error_t *err)
{
	fp_report_html_t *h = calloc(1, sizeof(*h));

	fp_error_clear(err);
	if (!h || (signature && !(h->signature = strdup(signature)))) {
		free(h);
		fp_error_set(err, FP_ENOMEM, "out of memory");
		return NULL;
	}
	h->r = r;
	h->package_wh = h->dram_wh = h->gpu_wh = NAN;
	return h;
}

static void curves_free(fp_report_html_t *h)
{
	for (size_t i = 0; i < h->ncurves; i++) {
		free(h->curves[i].site);
		free(h->curves[i].series);
		free(h->curves[i].hours);
	}
	free(h->curves);
	free(h->curves_note);
	h->curves = NULL;
	h->curves_note = NULL;
	h->ncurves = 0;
}

void fp_report_html_free(fp_report_html_t *h)
{
	if (!h)
		return;
	curves_free(h);
	free(h->signature);
	free(h->whatif_note);
	free(h);
}

void fp_report_html_set_domains(fp_report_html_t *h, double package_wh,
				double dram_wh, double gpu_wh)
{
	h->has_domains = true;
	h->package_wh = package_wh;
	h->dram_wh = dram_wh;
	h->gpu_wh = gpu_wh;
}

void fp_report_html_set_whatif(fp_report_html_t *h, const fp_whatif_t *w,
			       time_t from, time_t to)
{
	h->w = w;
	h->from = from;
	h->to = to;
}

int fp_report_html_set_whatif_note(fp_report_html_t *h, const char *why,
				   fp_error_t *err)
{
	fp_error_clear(err);
	free(h->whatif_note);
	h->whatif_note = xstrdup(why);
	if (why && !h->whatif_note)
		return fp_error_set(err, FP_ENOMEM, "out of memory");
	return 0;
}

const fp_report_html_curve_t *fp_report_html_curves(const fp_report_html_t *h,
						    size_t *n)
{
	*n = h->ncurves;
	return h->has_curves ? h->curves : NULL;
}

static const fp_series_t *site_series(const fp_config_t *cfg, const char *site)
{
	for (size_t i = 0; cfg && site && i < cfg->nsites; i++)
		if (!strcmp(cfg->sites[i].name, site))
			return cfg->sites[i].intensity.series;
	return NULL;
}

static int curve_fill(fp_report_html_curve_t *c, const fp_report_site_t *s,
		      const fp_series_t *series, time_t t0, time_t t1)
{
	time_t h0 = t0 - t0 % 3600, h1 = t1 - t1 % 3600;
	time_t first, last;
	double wsum = 0, ssum = 0;
	size_t n = 0;

	if (h1 < t1 || h1 == h0)
		h1 += 3600;
	c->flat = !series || fp_series_type(series) != FP_SERIES_HOURLY;
	if (series && !(c->series = strdup(fp_series_name(series))))
		return -1;
	first = h0;
	last = h1;
	/* Context around the job only where the series has values. */
	if (!c->flat) {
		double v;

		for (int k = 0;
		     k < FP_REPORT_HTML_CONTEXT_HOURS &&
		     !fp_series_value(series, first - 3600, &v, NULL);
		     k++)
			first -= 3600;
		for (int k = 0; k < FP_REPORT_HTML_CONTEXT_HOURS &&
				!fp_series_value(series, last, &v, NULL);
		     k++)
			last += 3600;
	}
	c->hours = calloc((size_t)((last - first) / 3600), sizeof(*c->hours));
	if (!c->hours)
		return -1;
	for (time_t t = first; t < last; t += 3600, n++) {
		fp_report_html_hour_t *o = &c->hours[n];
		time_t a = t > t0 ? t : t0, b = t + 3600 < t1 ? t + 3600 : t1;
		double v;

		o->start = t;
		o->job_s = b > a ? (double)(b - a) : 0;
		if (t0 == t1 && t == h0)
			o->job_s = 1; /* a job of 0 s still has its hour */
		if (c->flat)
			o->intensity = s->intensity;
		else /* the hour's mean: a 15-min series has four values */
			o->intensity =
				fp_series_mean(series, t, t + 3600, &v, NULL) &&
						fp_series_value(series, t, &v,
								NULL)
					? NAN
					: v;
		v = isfinite(o->intensity) ? o->intensity : s->intensity;
		wsum += o->job_s * (isfinite(v) ? v : 0);
		ssum += o->job_s;
	}
	c->nhours = n;
	for (size_t i = 0; i < n; i++) {
		fp_report_html_hour_t *o = &c->hours[i];
		double v = isfinite(o->intensity) ? o->intensity : s->intensity;
		double w = wsum > 0   ? o->job_s * (isfinite(v) ? v : 0) / wsum
			   : ssum > 0 ? o->job_s / ssum
				      : 0;

		o->emissions_g = o->job_s > 0 ? s->operational_g * w : 0;
	}
	return 0;
}

int fp_report_html_set_curves(fp_report_html_t *h, const fp_config_t *cfg,
			      fp_error_t *err)
{
	const fp_report_t *r = h->r;
	time_t t0 = r->start ? fp_report_parse_utc(r->start) : -1;
	time_t t1 = r->end ? fp_report_parse_utc(r->end) : -1;
	char note[400] = "";

	fp_error_clear(err);
	curves_free(h);
	h->has_curves = true;
	if (t0 < 0 || t1 < t0)
		snprintf(note, sizeof(note),
			 "the report has no start and "
			 "end time");
	else if ((t1 - t0) / 3600 > FP_REPORT_HTML_MAX_HOURS)
		snprintf(note, sizeof(note),
			 "the job ran more than %d hours: "
			 "no hour-by-hour figure",
			 FP_REPORT_HTML_MAX_HOURS);
	else if (!r->nsites)
		snprintf(note, sizeof(note), "the report has no sites");
	else if (cfg && r->config[0] && strcmp(cfg->digest, r->config))
		snprintf(note, sizeof(note),
			 "footprint.conf changed since "
			 "the job (sha256 %.16s..., the job's %.16s...): the "
			 "curves are today's series",
			 cfg->digest, r->config);
	if (note[0] && !(h->curves_note = strdup(note)))
		goto nomem;
	if (t0 < 0 || t1 < t0 || (t1 - t0) / 3600 > FP_REPORT_HTML_MAX_HOURS)
		return 0;
	h->curves = calloc(r->nsites ? r->nsites : 1, sizeof(*h->curves));
	if (!h->curves)
		goto nomem;
	for (size_t i = 0; i < r->nsites; i++) {
		fp_report_html_curve_t *c = &h->curves[h->ncurves++];

		if (!(c->site = xstrdup(r->sites[i].name)) && r->sites[i].name)
			goto nomem;
		if (curve_fill(c, &r->sites[i],
			       site_series(cfg, r->sites[i].name), t0, t1))
			goto nomem;
	}
	return 0;
nomem:
	curves_free(h);
	return fp_error_set(err, FP_ENOMEM, "out of memory");
}

/* ---- drawing ---- */

static double nice_step(double range, int n)
{
	double raw = range / n, p, m;

	if (!(raw > 0) || !isfinite(raw))
		return 1;
	p = pow(10, floor(log10(raw)));
	m = raw / p;
	return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

static void svg_open(FILE *f, const char *id, const char *title, int height)
{
	fprintf(f,
		"<svg id=\"%s\" class=\"figure\" width=\"%d\" height=\"%d\" "
		"viewBox=\"0 0 %d %d\" role=\"img\" aria-labelledby=\"%s-t\" "
		"style=\"max-width:100%%;height:auto;" FONT "\">\n"
		"<title id=\"%s-t\">",
		id, SVG_W, height, SVG_W, height, id, id);
	put(f, title);
	fprintf(f,
		"</title>\n<text class=\"fig-title\" x=\"%d\" y=\"20\" "
		"text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">",
		SVG_W / 2);
	put(f, title);
	fputs("</text>\n", f);
}

static void axis_label(FILE *f, double x, double y, int rotate,
		       const char *text)
{
	fprintf(f,
		"<text class=\"axis-label\" x=\"%.1f\" y=\"%.1f\" "
		"text-anchor=\"middle\" font-size=\"12\"",
		x, y);
	if (rotate)
		fprintf(f, " transform=\"rotate(%d %.1f %.1f)\"", rotate, x, y);
	fputs(">", f);
	put(f, text);
	fputs("</text>\n", f);
}

struct bar {
	const char *label, *key, *color;
	double value;
};

/* Horizontal bars with their values and units, on a value axis. */
static void hbars(FILE *f, const char *id, const char *title, const char *axis,
		  const char *unit, const struct bar *b, size_t n)
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
	step = nice_step(hi - lo, 5);
	lo = floor(lo / step) * step;
	hi = ceil(hi / step) * step;
#define X(val) (left + ((val)-lo) / (hi - lo) * (right - left))
	svg_open(f, id, title, height);
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
		put(f, b[i].label);
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
			fig(v, sizeof(v), b[i].value),
			isfinite(b[i].value) ? unit : "(unknown)");
	}
	fprintf(f,
		"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		"stroke=\"#333\"/>\n",
		x0, top - 4, x0, top + n * (bh + gap));
	axis_label(f, (left + right) / 2, height - 14, 0, axis);
	fputs("</svg>\n", f);
#undef X
}

/* The figures' table: one row per bar, value and unit in cells of their
 * own, keyed for readers and tests. */
static void bar_table(FILE *f, const char *id, const struct bar *b, size_t n,
		      const char *unit)
{
	char v[32];

	fprintf(f, "<table id=\"%s\" style=\"" TABLE "\">\n", id);
	for (size_t i = 0; i < n; i++) {
		fprintf(f, "<tr data-key=\"%s\"><td style=\"" TD "\">",
			b[i].key);
		put(f, b[i].label);
		fprintf(f,
			"</td><td class=\"num\" style=\"" TDN "\">%s</td>"
			"<td style=\"" TD "\">%s</td></tr>\n",
			fig(v, sizeof(v), b[i].value), unit);
	}
	fputs("</table>\n", f);
}

static void section(FILE *f, const char *id, const char *title)
{
	fprintf(f,
		"<div id=\"%s\" class=\"section\" style=\"margin-top:24px\">"
		"\n<h2 style=\"font-size:18px;margin:0 0 6px 0\">",
		id);
	put(f, title);
	fputs("</h2>\n", f);
}

static void note(FILE *f, const char *cls, const char *text)
{
	fprintf(f,
		"<p class=\"%s\" style=\"font-size:12px;color:#555;"
		"margin:4px 0\">",
		cls);
	put(f, text);
	fputs("</p>\n", f);
}

static void energy_section(FILE *f, const fp_report_html_t *h)
{
	const fp_report_t *r = h->r;
	struct bar b[6];
	size_t n = 0;
	double it = r->energy_it_wh, rest = it;

	section(f, "energy", "Energy breakdown");
	if (h->has_domains) {
		/* DRAM unknown: the package figure holds it (a summary's
		 * energy_parts from before they were split) */
		b[n++] = (struct bar){ isnan(h->dram_wh) ? "CPU packages + DRAM"
							 : "CPU packages",
				       "package_wh", "#d95f02", h->package_wh };
		if (!isnan(h->dram_wh))
			b[n++] = (struct bar){ "DRAM", "dram_wh", "#7570b3",
					       h->dram_wh };
		if (!(h->gpu_wh == 0))
			b[n++] = (struct bar){ "GPU", "gpu_wh", "#1b9e77",
					       h->gpu_wh };
		rest -= (isfinite(h->package_wh) ? h->package_wh : 0) +
			(isfinite(h->dram_wh) ? h->dram_wh : 0) +
			(isfinite(h->gpu_wh) ? h->gpu_wh : 0);
		b[n++] = (struct bar){ "Rest of the node", "rest_wh", "#999999",
				       rest };
	} else {
		b[n++] = (struct bar){ "IT equipment (the node)", "it_wh",
				       "#4477aa", it };
	}
	b[n++] = (struct bar){ "Facility overhead (PUE)", "overhead_wh",
			       "#e6ab02", r->energy_wh - it };
	b[n++] = (struct bar){ "Facility total", "facility_wh", "#444444",
			       r->energy_wh };
	hbars(f, "fig-energy", "Energy breakdown of the job", "Energy (Wh)",
	      "Wh", b, n);
	bar_table(f, "table-energy", b, n, "Wh");
	if (!h->has_domains)
		note(f, "note",
		     "The summary does not split the IT energy "
		     "into CPU packages, DRAM and GPU: it is shown whole.");
	if (isfinite(r->reused_wh)) {
		char v[32];

		fprintf(f,
			"<p class=\"note\" style=\"font-size:12px;"
			"color:#555;margin:4px 0\">Heat reused: <span "
			"data-key=\"reused_wh\">%s</span> Wh.</p>\n",
			fig(v, sizeof(v), r->reused_wh));
	}
	fputs("</div>\n", f);
}

static void compare_section(FILE *f, const fp_report_t *r)
{
	char label[200];
	struct bar b[4];

	snprintf(label, sizeof(label), "Reference (%s)",
		 r->reference_name ? r->reference_name : "standard datacenter");
	b[0] = (struct bar){ "Footprint (this job)", "footprint_g", "#cc3311",
			     r->footprint_g };
	b[1] = (struct bar){ label, "reference_g", "#777777", r->reference_g };
	b[2] = (struct bar){ "Avoided by heat reuse", "avoided_g", "#228833",
			     r->avoided_g };
	b[3] = (struct bar){ "Net (footprint - avoided)", "net_g", "#0077bb",
			     r->net_g };
	section(f, "compare", "Footprint, reference and avoided emissions");
	hbars(f, "fig-compare", "Footprint vs reference vs avoided",
	      "Emissions (gCO2e)", "gCO2e", b, 4);
	bar_table(f, "table-compare", b, 4, "gCO2e");
	note(f, "note",
	     "Avoided emissions are kept separate: they are never "
	     "subtracted from the footprint. Net is not a footprint.");
	fputs("</div>\n", f);
}

static void hour_text(time_t t, char *buf, size_t size, bool date)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	if (date)
		strftime(buf, size, "%m-%d %H:%M", &tm);
	else
		strftime(buf, size, "%H:%M", &tm);
}

static void curve_figure(FILE *f, const fp_report_html_curve_t *c,
			 const fp_report_site_t *s, size_t k)
{
	const double left = 90, right = 810, top = 50, bottom = 270;
	double gmax = 0, imax = 0, bw, gstep, istep;
	size_t every;
	char id[32], title[300], v[32], w[32];
	char *site = fp_report_escape(c->site ? c->site : "?");
	bool open = false;

	for (size_t i = 0; i < c->nhours; i++) {
		if (isfinite(c->hours[i].emissions_g) &&
		    c->hours[i].emissions_g > gmax)
			gmax = c->hours[i].emissions_g;
		if (isfinite(c->hours[i].intensity) &&
		    c->hours[i].intensity > imax)
			imax = c->hours[i].intensity;
	}
	gstep = nice_step(gmax > 0 ? gmax : 1, 5);
	gmax = ceil((gmax > 0 ? gmax : 1) / gstep) * gstep;
	istep = nice_step(imax > 0 ? imax : 1, 5);
	imax = ceil((imax > 0 ? imax : 1) / istep) * istep;
	bw = (right - left) / (double)c->nhours;
	every = (c->nhours + 11) / 12;
	snprintf(id, sizeof(id), "fig-hourly-%zu", k);
	snprintf(title, sizeof(title),
		 "Site %s: the job's emissions hour by "
		 "hour over the grid intensity",
		 site ? site : "?");
	free(site);
	svg_open(f, id, title, 345);
	for (double t = 0; t <= gmax + gstep / 2; t += gstep) {
		double y = bottom - t / gmax * (bottom - top);

		fprintf(f,
			"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" "
			"y2=\"%.1f\" stroke=\"#eee\"/><text class=\"tick\" "
			"x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" "
			"font-size=\"11\" fill=\"#cc3311\">%g</text>\n",
			left, y, right, y, left - 6, y + 4, t);
	}
	for (double t = 0; t <= imax + istep / 2; t += istep)
		fprintf(f,
			"<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" "
			"font-size=\"11\" fill=\"#225588\">%g</text>\n",
			right + 6, bottom - t / imax * (bottom - top) + 4, t);
	for (size_t i = 0; i < c->nhours; i++) {
		const fp_report_html_hour_t *o = &c->hours[i];
		double x = left + i * bw;

		if (o->job_s > 0 && isfinite(o->emissions_g)) {
			double hgt = o->emissions_g / gmax * (bottom - top);

			fprintf(f,
				"<rect class=\"hour\" x=\"%.1f\" y=\"%.1f\" "
				"width=\"%.1f\" height=\"%.1f\" "
				"fill=\"#cc3311\" fill-opacity=\"0.75\">"
				"<title>%s g</title></rect>\n",
				x + bw * 0.1, bottom - hgt, bw * 0.8, hgt,
				fig(v, sizeof(v), o->emissions_g));
		}
		if (i % every == 0) {
			hour_text(o->start, w, sizeof(w), i == 0);
			fprintf(f,
				"<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" "
				"text-anchor=\"middle\" font-size=\"10\">%s"
				"</text>\n",
				x + bw / 2, bottom + 14, w);
		}
	}
	/* The intensity line breaks where the series has no value. */
	for (size_t i = 0; i < c->nhours; i++) {
		const fp_report_html_hour_t *o = &c->hours[i];

		if (!isfinite(o->intensity)) {
			if (open)
				fputs("\"/>\n", f);
			open = false;
			continue;
		}
		fprintf(f, "%s%.1f,%.1f",
			open ? " "
			     : "<polyline class="
			       "\"intensity\" fill=\"none\" stroke=\"#225588\" "
			       "stroke-width=\"2\" points=\"",
			left + i * bw + bw / 2,
			bottom - o->intensity / imax * (bottom - top));
		open = true;
	}
	if (open)
		fputs("\"/>\n", f);
	fprintf(f,
		"<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
		"stroke=\"#333\"/>\n",
		left, bottom, right, bottom);
	axis_label(f, (left + right) / 2, bottom + 34, 0, "Hour (UTC)");
	axis_label(f, 24, (top + bottom) / 2, -90,
		   "Job's emissions (gCO2e per hour)");
	axis_label(f, SVG_W - 20, (top + bottom) / 2, 90,
		   "Grid intensity (gCO2e/kWh)");
	fprintf(f,
		"<rect x=\"%.1f\" y=\"322\" width=\"12\" height=\"12\" "
		"fill=\"#cc3311\" fill-opacity=\"0.75\"/><text x=\"%.1f\" "
		"y=\"332\" font-size=\"11\">job's emissions (gCO2e)</text>\n"
		"<line x1=\"%.1f\" y1=\"328\" x2=\"%.1f\" y2=\"328\" "
		"stroke=\"#225588\" stroke-width=\"2\"/><text x=\"%.1f\" "
		"y=\"332\" font-size=\"11\">grid intensity (gCO2e/kWh)%s"
		"</text>\n",
		left, left + 16, left + 220, left + 240, left + 246,
		c->flat ? ", the summary's mean: no hourly series" : "");
	fputs("</svg>\n", f);
	fprintf(f,
		"<table id=\"table-hourly-%zu\" style=\"" TABLE "\">\n"
		"<tr><th style=\"" TD "\">Hour (UTC)</th><th style=\"" TD
		"\">Job in the hour (min)</th><th style=\"" TD "\">Intensity "
		"(gCO2e/kWh)</th><th style=\"" TD "\">Emissions (gCO2e)</th>"
		"</tr>\n",
		k);
	for (size_t i = 0; i < c->nhours; i++) {
		const fp_report_html_hour_t *o = &c->hours[i];

		if (!(o->job_s > 0))
			continue;
		hour_text(o->start, w, sizeof(w), true);
		fprintf(f,
			"<tr class=\"hour\"><td style=\"" TD "\">%s</td>"
			"<td style=\"" TDN "\">%.1f</td><td style=\"" TDN
			"\">%s</td>",
			w, o->job_s / 60, fig(v, sizeof(v), o->intensity));
		fprintf(f, "<td class=\"num\" style=\"" TDN "\">%s</td></tr>\n",
			fig(v, sizeof(v), o->emissions_g));
	}
	fprintf(f,
		"<tr data-key=\"site_operational_g\"><td style=\"" TD
		"\" colspan=\"3\">Total: the site's operational emissions"
		"</td><td class=\"num\" style=\"" TDN "\">%s</td></tr>\n"
		"</table>\n",
		fig(v, sizeof(v), s->operational_g));
}

static void hourly_section(FILE *f, const fp_report_html_t *h)
{
	section(f, "hourly", "Emissions hour by hour");
	if (h->curves_note)
		note(f, "note", h->curves_note);
	if (!h->ncurves)
		note(f, "missing", "No hour-by-hour figure.");
	for (size_t i = 0; i < h->ncurves; i++) {
		const fp_report_html_curve_t *c = &h->curves[i];

		curve_figure(f, c, &h->r->sites[i], i);
		if (c->series) {
			fputs("<p class=\"note\" style=\"font-size:12px;"
			      "color:#555;margin:4px 0\">Intensity series: ",
			      f);
			put(f, c->series);
			fputs("</p>\n", f);
		}
	}
	note(f, "note",
	     "Each site's operational emissions are spread over "
	     "the job's hours at constant power, each hour weighted by its "
	     "grid intensity; the hours sum to the site's figure.");
	fputs("</div>\n", f);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int by_time(const void *a, const void *b)
{
	time_t x = *(const time_t *)a, y = *(const time_t *)b;

	return x < y ? -1 : x > y;
}

/* Green (least) to yellow to red (most). */
static void heat_color(double t, char buf[8])
{
	static const int c[3][3] = { { 26, 152, 80 },
				     { 254, 224, 139 },
				     { 215, 48, 39 } };
	int k = t < 0.5 ? 0 : 1;
	double u = t < 0.5 ? t * 2 : (t - 0.5) * 2;

	if (!isfinite(t))
		u = 0, k = 0;
	snprintf(buf, 8, "#%02x%02x%02x",
		 (int)(c[k][0] + u * (c[k + 1][0] - c[k][0])),
		 (int)(c[k][1] + u * (c[k + 1][1] - c[k][1])),
		 (int)(c[k][2] + u * (c[k + 1][2] - c[k][2])));
}

static const fp_whatif_option_t *option_at(const fp_whatif_t *w,
					   const char *site, time_t t)
{
	for (size_t i = 0; i < w->noptions; i++)
		if (w->options[i].start == t &&
		    !strcmp(w->options[i].site, site))
			return &w->options[i];
	return NULL;
}

static void heatmap(FILE *f, const fp_report_html_t *h, const char **sites,
		    size_t ns, const time_t *starts, size_t nt)
{
	const fp_whatif_t *w = h->w;
	const double left = 170, top = 50, ch = 30;
	double cw = (SVG_W - left - 30) / (double)nt, lo = INFINITY,
	       hi = -INFINITY;
	time_t actual = fp_report_parse_utc(h->r->start ? h->r->start : "");
	int height = (int)(top + ns * ch + 150);
	char v[32], col[8], w1[32];

	if (cw > 60)
		cw = 60;
	for (size_t i = 0; i < w->noptions; i++) {
		lo = w->options[i].footprint_g < lo ? w->options[i].footprint_g
						    : lo;
		hi = w->options[i].footprint_g > hi ? w->options[i].footprint_g
						    : hi;
	}
	svg_open(f, "fig-whatif",
		 "What-if: the job's footprint by site and "
		 "start hour",
		 height);
	for (size_t s = 0; s < ns; s++) {
		fprintf(f,
			"<text class=\"row-label\" x=\"%.1f\" y=\"%.1f\" "
			"text-anchor=\"end\" font-size=\"12\">",
			left - 8, top + s * ch + ch * 0.62);
		put(f, sites[s]);
		fputs("</text>\n", f);
		for (size_t t = 0; t < nt; t++) {
			const fp_whatif_option_t *o =
				option_at(w, sites[s], starts[t]);
			double x = left + t * cw, y = top + s * ch;

			if (!o) {
				fprintf(f,
					"<rect x=\"%.1f\" y=\"%.1f\" "
					"width=\"%.1f\" height=\"%.1f\" "
					"fill=\"#eeeeee\"><title>not covered "
					"by the series</title></rect>\n",
					x, y, cw - 1, ch - 1);
				continue;
			}
			heat_color(hi > lo ? (o->footprint_g - lo) / (hi - lo)
					   : 0,
				   col);
			hour_text(o->start, w1, sizeof(w1), true);
			fprintf(f, "<rect class=\"cell\" data-site=\"");
			put(f, o->site);
			fprintf(f,
				"\" data-start=\"%lld\" data-value=\"%s\" "
				"x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				"height=\"%.1f\" fill=\"%s\"><title>",
				(long long)o->start,
				fig(v, sizeof(v), o->footprint_g), x, y, cw - 1,
				ch - 1, col);
			put(f, o->site);
			fprintf(f, " at %s UTC: %s gCO2e</title></rect>\n", w1,
				v);
			if (cw >= 30)
				fprintf(f,
					"<text x=\"%.1f\" y=\"%.1f\" "
					"text-anchor=\"middle\" "
					"font-size=\"9\">%.3g</text>\n",
					x + cw / 2, y + ch * 0.62,
					o->footprint_g);
		}
	}
	for (size_t t = 0; t < nt; t++) {
		double x = left + t * cw + cw / 2, y = top + ns * ch + 8;

		hour_text(starts[t], w1, sizeof(w1), false);
		fprintf(f,
			"<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" "
			"font-size=\"10\" text-anchor=\"end\" "
			"transform=\"rotate(-90 %.1f %.1f)\"%s>%s%s</text>\n",
			x + 3, y, x + 3, y,
			starts[t] == actual ? " font-weight=\"bold\"" : "",
			starts[t] == actual ? "actual " : "", w1);
		if (starts[t] == actual)
			fprintf(f,
				"<rect class=\"actual\" x=\"%.1f\" "
				"y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
				"fill=\"none\" stroke=\"#000\" "
				"stroke-width=\"2\"/>\n",
				left + t * cw - 1, top - 1, cw + 1,
				ns * ch + 1);
	}
	axis_label(f, left + nt * cw / 2, top + ns * ch + 80, 0,
		   "Start time (UTC, hour)");
	axis_label(f, 18, top + ns * ch / 2, -90, "Site");
	/* The colour scale, with its unit. */
	fputs("<defs><linearGradient id=\"heat\" x1=\"0\" x2=\"1\">"
	      "<stop offset=\"0\" stop-color=\"#1a9850\"/>"
	      "<stop offset=\"0.5\" stop-color=\"#fee08b\"/>"
	      "<stop offset=\"1\" stop-color=\"#d73027\"/>"
	      "</linearGradient></defs>\n",
	      f);
	fprintf(f,
		"<rect x=\"%.1f\" y=\"%.1f\" width=\"300\" height=\"12\" "
		"fill=\"url(#heat)\"/>\n<text class=\"tick\" x=\"%.1f\" "
		"y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%s</text>\n",
		left, top + ns * ch + 110.0, left - 4, top + ns * ch + 120.0,
		fig(v, sizeof(v), lo));
	fprintf(f,
		"<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" "
		"font-size=\"11\">%s</text>\n",
		left + 304, top + ns * ch + 120.0, fig(v, sizeof(v), hi));
	axis_label(f, left + 150, top + ns * ch + 140, 0, "Footprint (gCO2e)");
	fputs("</svg>\n", f);
}

static void whatif_section(FILE *f, const fp_report_html_t *h)
{
	const fp_whatif_t *w = h->w;
	const char **sites = NULL;
	time_t *starts = NULL;
	size_t ns = 0, nt = 0, top;
	char a[32], b[32], v[32];

	section(f, "whatif", "What-if: other sites and start hours");
	if (h->whatif_note)
		note(f, "missing", h->whatif_note);
	if (!w || !w->noptions) {
		if (!h->whatif_note)
			note(f, "missing", "No what-if.");
		fputs("</div>\n", f);
		return;
	}
	sites = calloc(w->noptions, sizeof(*sites));
	starts = calloc(w->noptions, sizeof(*starts));
	if (!sites || !starts) {
		note(f, "missing", "No what-if: out of memory.");
		goto out;
	}
	for (size_t i = 0; i < w->noptions; i++) {
		sites[i] = w->options[i].site;
		starts[i] = w->options[i].start;
	}
	qsort(sites, w->noptions, sizeof(*sites), by_name);
	qsort(starts, w->noptions, sizeof(*starts), by_time);
	for (size_t i = 0; i < w->noptions; i++) {
		if (!ns || strcmp(sites[ns - 1], sites[i]))
			sites[ns++] = sites[i];
		if (!nt || starts[nt - 1] != starts[i])
			starts[nt++] = starts[i];
	}
	hour_text(h->from, a, sizeof(a), true);
	hour_text(h->to, b, sizeof(b), true);
	fprintf(f,
		"<p style=\"font-size:13px;margin:4px 0\">The same job (its "
		"IT energy and duration) on each site, started at each hour "
		"from %s to %s UTC: %zu options, %zu not covered by the "
		"series.</p>\n",
		a, b, w->noptions, w->skipped);
	heatmap(f, h, sites, ns, starts, nt);
	top = w->noptions < 5 ? w->noptions : 5;
	fprintf(f,
		"<table id=\"table-whatif\" style=\"" TABLE "\">\n<tr>"
		"<th style=\"" TD "\">Rank</th><th style=\"" TD "\">Site</th>"
		"<th style=\"" TD "\">Start (UTC)</th><th style=\"" TD "\">"
		"Intensity (gCO2e/kWh)</th><th style=\"" TD "\">Footprint "
		"(gCO2e)</th><th style=\"" TD "\">Saving vs actual (gCO2e)"
		"</th></tr>\n");
	for (size_t i = 0; i < top; i++) {
		const fp_whatif_option_t *o = &w->options[i];

		hour_text(o->start, a, sizeof(a), true);
		fprintf(f,
			"<tr class=\"option\"><td style=\"" TDN "\">%zu</td>"
			"<td style=\"" TD "\">",
			i + 1);
		put(f, o->site);
		fprintf(f,
			"</td><td style=\"" TD "\">%s</td><td style=\"" TDN
			"\">%s</td>",
			a, fig(v, sizeof(v), o->intensity));
		fprintf(f, "<td class=\"num\" style=\"" TDN "\">%s</td>",
			fig(v, sizeof(v), o->footprint_g));
		fprintf(f, "<td style=\"" TDN "\">%s</td></tr>\n",
			fig(v, sizeof(v), h->r->footprint_g - o->footprint_g));
	}
	fputs("</table>\n", f);
out:
	free(sites);
	free(starts);
	fputs("</div>\n", f);
}

static void row(FILE *f, const char *key, const char *label, const char *value)
{
	fprintf(f,
		"<tr data-key=\"%s\"><th style=\"" TD ";text-align:left;"
		"background:#f4f4f4\">%s</th><td style=\"" TD "\">",
		key, label);
	put(f, value);
	fputs("</td></tr>\n", f);
}

static void header(FILE *f, const fp_report_html_t *h)
{
	const fp_report_t *r = h->r;
	char a[64], b[64];

	fprintf(f, "<table id=\"job\" style=\"" TABLE "\">\n");
	snprintf(a, sizeof(a), "%llu", (unsigned long long)r->job_id);
	row(f, "job_id", "Job ID", a);
	if (r->has_acct && r->job_name)
		row(f, "job_name", "Job name", r->job_name);
	row(f, "user", "User", r->user);
	row(f, "account", "Account", r->account);
	if (r->cluster)
		row(f, "cluster", "Cluster", r->cluster);
	if (r->has_acct && r->state)
		row(f, "state", "State", r->state);
	row(f, "start", "Start (UTC)", r->start ? r->start : "-");
	row(f, "end", "End (UTC)", r->end ? r->end : "-");
	row(f, "elapsed", "Elapsed",
	    fp_report_duration(r->elapsed_s, a, sizeof(a)));
	row(f, "source", "Energy source",
	    fp_carbon_energy_source_str(r->source));
	{
		char c[32], e[96];

		snprintf(e, sizeof(e), "%s Wh IT, %s Wh facility",
			 fig(b, sizeof(b), r->energy_it_wh),
			 fig(c, sizeof(c), r->energy_wh));
		row(f, "energy", "Energy", e);
	}
	snprintf(a, sizeof(a), "%s gCO2e", fig(b, sizeof(b), r->footprint_g));
	row(f, "footprint", "Footprint", a);
	row(f, "complete", "Completeness",
	    r->complete ? "complete" : "incomplete");
	for (size_t i = 0; i < r->nincomplete; i++)
		row(f, "incomplete", "Incomplete because", r->incomplete[i]);
	row(f, "signature", "Signature",
	    h->signature ? h->signature : "unknown");
	if (r->config[0])
		row(f, "config", "Config sha256", r->config);
	fputs("</table>\n", f);
}

int fp_report_html_write(const fp_report_html_t *h, FILE *f, fp_error_t *err)
{
	const fp_report_t *r = h->r;

	fp_error_clear(err);
	fprintf(f,
		"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
		"<meta charset=\"utf-8\">\n<meta name=\"viewport\" "
		"content=\"width=device-width\">\n<title>Job %llu: energy and "
		"carbon footprint</title>\n</head>\n<body style=\"" FONT
		";color:#222;max-width:920px;margin:12px\">\n<h1 style=\""
		"font-size:22px\">Job %llu: energy and carbon footprint</h1>\n",
		(unsigned long long)r->job_id, (unsigned long long)r->job_id);
	header(f, h);
	if (r->from_record)
		note(f, "note",
		     "From the accounting record (FP1, unsigned): "
		     "the signed summary was not available.");
	energy_section(f, h);
	if (!r->from_record)
		hourly_section(f, h);
	compare_section(f, r);
	whatif_section(f, h);
	fputs("<p style=\"font-size:11px;color:#777;margin-top:24px\">"
	      "slurm-footprint " FP_VERSION " (sfootprint -j JOBID for the "
	      "text report).</p>\n</body>\n</html>\n",
	      f);
	if (fflush(f) || ferror(f))
		return fp_error_set(err, FP_EIO,
				    "cannot write the HTML report");
	return 0;
}

int fp_report_html_page(const fp_report_t *r, const char *status,
			const char *payload, fp_config_t *cfg,
			const char *no_whatif, FILE *out, fp_error_t *err)
{
	fp_error_t ignored = { 0 };
	fp_report_html_t *h = fp_report_html_new(r, status, err);
	json_t *sum, *parts;
	fp_whatif_t *w = NULL;
	fp_whatif_job_t wj = { 0 };
	time_t from = 0, to = 0;
	char why[sizeof(err->msg)] = "";
	int rc = -1;

	if (!h)
		return -1;
	/* the summary's energy by part; DRAM inside the packages' figure
	 * where the summary, or one of its records, is from before the
	 * split */
	sum = payload ? json_loads(payload, 0, NULL) : NULL;
	parts = json_object_get(sum, "energy_parts");
	if (json_is_object(parts) &&
	    isfinite(fp_json_number(parts, "cpu_Wh")) &&
	    isfinite(fp_json_number(parts, "dram_Wh")))
		fp_report_html_set_domains(h, fp_json_number(parts, "cpu_Wh"),
					   fp_json_number(parts, "dram_Wh"),
					   fp_json_number(parts, "gpu_Wh"));
	else if (json_is_object(parts))
		fp_report_html_set_domains(h,
					   fp_json_number(parts, "cpu_dram_Wh"),
					   NAN,
					   fp_json_number(parts, "gpu_Wh"));
	json_decref(sum);
	if (cfg)
		(void)fp_config_load_series(cfg, &ignored);
	if (fp_report_html_set_curves(h, cfg, err))
		goto out;
	wj.energy_j = r->energy_it_wh * 3600;
	wj.elapsed_s = r->elapsed_s;
	wj.embodied_g = isfinite(r->embodied_g) ? r->embodied_g : 0;
	wj.start = r->start ? fp_report_parse_utc(r->start) : -1;
	if (no_whatif || !cfg)
		snprintf(why, sizeof(why), "%s",
			 no_whatif ? no_whatif
				   : "No what-if: it needs footprint.conf");
	else if (wj.start < 0 || !isfinite(wj.energy_j) ||
		 !isfinite(wj.elapsed_s))
		snprintf(why, sizeof(why),
			 "No what-if: the summary has no "
			 "start, energy or duration");
	else {
		from = wj.start - FP_REPORT_HTML_WHATIF_HOURS * 3600;
		to = wj.start + FP_REPORT_HTML_WHATIF_HOURS * 3600;
		if (!(w = fp_whatif_compute(cfg, &wj, from, to, &ignored)))
			snprintf(why, sizeof(why), "%s", ignored.msg);
	}
	if (!w && fp_report_html_set_whatif_note(h, why, err))
		goto out;
	fp_report_html_set_whatif(h, w, from, to);
	rc = fp_report_html_write(h, out, err);
out:
	fp_report_html_free(h);
	fp_whatif_free(w);
	return rc;
}
