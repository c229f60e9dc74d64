/* The HTML page's sections: the job's table, its energy, the footprint
 * against the reference, the hour-by-hour curves and the what-if heat map. */
#include "footprint/report_html.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report_html_parts.h"

void fp_report_html_section_energy(FILE *f, const fp_report_html_t *h)
{
	const fp_report_t *r = h->r;
	struct bar b[6];
	size_t n = 0;
	double it = r->energy_it_wh, rest = it;

	fp_report_html_draw_section(f, "energy", "Energy breakdown");
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
	fp_report_html_draw_hbars(f, "fig-energy",
				  "Energy breakdown of the job", "Energy (Wh)",
				  "Wh", b, n);
	fp_report_html_draw_bar_table(f, "table-energy", b, n, "Wh");
	if (!h->has_domains)
		fp_report_html_draw_note(
			f, "note",
			"The summary does not split the IT energy "
			"into CPU packages, DRAM and GPU: it is shown whole.");
	if (isfinite(r->reused_wh)) {
		char v[32];

		fprintf(f,
			"<p class=\"note\" style=\"font-size:12px;"
			"color:#555;margin:4px 0\">Heat reused: <span "
			"data-key=\"reused_wh\">%s</span> Wh.</p>\n",
			fp_report_html_draw_fig(v, sizeof(v), r->reused_wh));
	}
	fputs("</div>\n", f);
}

void fp_report_html_section_compare(FILE *f, const fp_report_t *r)
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
	fp_report_html_draw_section(
		f, "compare", "Footprint, reference and avoided emissions");
	fp_report_html_draw_hbars(f, "fig-compare",
				  "Footprint vs reference vs avoided",
				  "Emissions (gCO2e)", "gCO2e", b, 4);
	fp_report_html_draw_bar_table(f, "table-compare", b, 4, "gCO2e");
	fp_report_html_draw_note(
		f, "note",
		"Avoided emissions are kept separate: they are never "
		"subtracted from the footprint. Net is not a footprint.");
	fputs("</div>\n", f);
}

static void _curve_figure(FILE *f, const fp_report_html_curve_t *c,
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
	gstep = fp_report_html_draw_nice_step(gmax > 0 ? gmax : 1, 5);
	gmax = ceil((gmax > 0 ? gmax : 1) / gstep) * gstep;
	istep = fp_report_html_draw_nice_step(imax > 0 ? imax : 1, 5);
	imax = ceil((imax > 0 ? imax : 1) / istep) * istep;
	bw = (right - left) / (double)c->nhours;
	every = (c->nhours + 11) / 12;
	snprintf(id, sizeof(id), "fig-hourly-%zu", k);
	snprintf(title, sizeof(title),
		 "Site %s: the job's emissions hour by "
		 "hour over the grid intensity",
		 site ? site : "?");
	free(site);
	fp_report_html_draw_svg_open(f, id, title, 345);
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
				fp_report_html_draw_fig(v, sizeof(v),
							o->emissions_g));
		}
		if (i % every == 0) {
			fp_report_html_draw_hour_text(o->start, w, sizeof(w),
						      i == 0);
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
	fp_report_html_draw_axis_label(f, (left + right) / 2, bottom + 34, 0,
				       "Hour (UTC)");
	fp_report_html_draw_axis_label(f, 24, (top + bottom) / 2, -90,
				       "Job's emissions (gCO2e per hour)");
	fp_report_html_draw_axis_label(f, SVG_W - 20, (top + bottom) / 2, 90,
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
		fp_report_html_draw_hour_text(o->start, w, sizeof(w), true);
		fprintf(f,
			"<tr class=\"hour\"><td style=\"" TD "\">%s</td>"
			"<td style=\"" TDN "\">%.1f</td><td style=\"" TDN
			"\">%s</td>",
			w, o->job_s / 60,
			fp_report_html_draw_fig(v, sizeof(v), o->intensity));
		fprintf(f, "<td class=\"num\" style=\"" TDN "\">%s</td></tr>\n",
			fp_report_html_draw_fig(v, sizeof(v), o->emissions_g));
	}
	fprintf(f,
		"<tr data-key=\"site_operational_g\"><td style=\"" TD
		"\" colspan=\"3\">Total: the site's operational emissions"
		"</td><td class=\"num\" style=\"" TDN "\">%s</td></tr>\n"
		"</table>\n",
		fp_report_html_draw_fig(v, sizeof(v), s->operational_g));
}

void fp_report_html_section_hourly(FILE *f, const fp_report_html_t *h)
{
	fp_report_html_draw_section(f, "hourly", "Emissions hour by hour");
	if (h->curves_note)
		fp_report_html_draw_note(f, "note", h->curves_note);
	if (!h->ncurves)
		fp_report_html_draw_note(f, "missing",
					 "No hour-by-hour figure.");
	for (size_t i = 0; i < h->ncurves; i++) {
		const fp_report_html_curve_t *c = &h->curves[i];

		_curve_figure(f, c, &h->r->sites[i], i);
		if (c->series) {
			fputs("<p class=\"note\" style=\"font-size:12px;"
			      "color:#555;margin:4px 0\">Intensity series: ",
			      f);
			fp_report_html_draw_put(f, c->series);
			fputs("</p>\n", f);
		}
	}
	fp_report_html_draw_note(
		f, "note",
		"Each site's operational emissions are spread over "
		"the job's hours at constant power, each hour weighted by its "
		"grid intensity; the hours sum to the site's figure.");
	fputs("</div>\n", f);
}

static int _by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int _by_time(const void *a, const void *b)
{
	time_t x = *(const time_t *)a, y = *(const time_t *)b;

	return x < y ? -1 : x > y;
}

/* Green (least) to yellow to red (most). */
static void _heat_color(double t, char buf[8])
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

static const fp_whatif_option_t *_option_at(const fp_whatif_t *w,
					    const char *site, time_t t)
{
	for (size_t i = 0; i < w->noptions; i++)
		if (w->options[i].start == t &&
		    !strcmp(w->options[i].site, site))
			return &w->options[i];
	return NULL;
}

static void _heatmap(FILE *f, const fp_report_html_t *h, const char **sites,
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
	fp_report_html_draw_svg_open(f, "fig-whatif",
				     "What-if: the job's footprint by site and "
				     "start hour",
				     height);
	for (size_t s = 0; s < ns; s++) {
		fprintf(f,
			"<text class=\"row-label\" x=\"%.1f\" y=\"%.1f\" "
			"text-anchor=\"end\" font-size=\"12\">",
			left - 8, top + s * ch + ch * 0.62);
		fp_report_html_draw_put(f, sites[s]);
		fputs("</text>\n", f);
		for (size_t t = 0; t < nt; t++) {
			const fp_whatif_option_t *o =
				_option_at(w, sites[s], starts[t]);
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
			_heat_color(hi > lo ? (o->footprint_g - lo) / (hi - lo)
					    : 0,
				    col);
			fp_report_html_draw_hour_text(o->start, w1, sizeof(w1),
						      true);
			fprintf(f, "<rect class=\"cell\" data-site=\"");
			fp_report_html_draw_put(f, o->site);
			fprintf(f,
				"\" data-start=\"%lld\" data-value=\"%s\" "
				"x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" "
				"height=\"%.1f\" fill=\"%s\"><title>",
				(long long)o->start,
				fp_report_html_draw_fig(v, sizeof(v),
							o->footprint_g),
				x, y, cw - 1, ch - 1, col);
			fp_report_html_draw_put(f, o->site);
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

		fp_report_html_draw_hour_text(starts[t], w1, sizeof(w1), false);
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
	fp_report_html_draw_axis_label(f, left + nt * cw / 2,
				       top + ns * ch + 80, 0,
				       "Start time (UTC, hour)");
	fp_report_html_draw_axis_label(f, 18, top + ns * ch / 2, -90, "Site");
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
		fp_report_html_draw_fig(v, sizeof(v), lo));
	fprintf(f,
		"<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" "
		"font-size=\"11\">%s</text>\n",
		left + 304, top + ns * ch + 120.0,
		fp_report_html_draw_fig(v, sizeof(v), hi));
	fp_report_html_draw_axis_label(f, left + 150, top + ns * ch + 140, 0,
				       "Footprint (gCO2e)");
	fputs("</svg>\n", f);
}

void fp_report_html_section_whatif(FILE *f, const fp_report_html_t *h)
{
	const fp_whatif_t *w = h->w;
	const char **sites = NULL;
	time_t *starts = NULL;
	size_t ns = 0, nt = 0, top;
	char a[32], b[32], v[32];

	fp_report_html_draw_section(f, "whatif",
				    "What-if: other sites and start hours");
	if (h->whatif_note)
		fp_report_html_draw_note(f, "missing", h->whatif_note);
	if (!w || !w->noptions) {
		if (!h->whatif_note)
			fp_report_html_draw_note(f, "missing", "No what-if.");
		fputs("</div>\n", f);
		return;
	}
	sites = calloc(w->noptions, sizeof(*sites));
	starts = calloc(w->noptions, sizeof(*starts));
	if (!sites || !starts) {
		fp_report_html_draw_note(f, "missing",
					 "No what-if: out of memory.");
		goto out;
	}
	for (size_t i = 0; i < w->noptions; i++) {
		sites[i] = w->options[i].site;
		starts[i] = w->options[i].start;
	}
	qsort(sites, w->noptions, sizeof(*sites), _by_name);
	qsort(starts, w->noptions, sizeof(*starts), _by_time);
	for (size_t i = 0; i < w->noptions; i++) {
		if (!ns || strcmp(sites[ns - 1], sites[i]))
			sites[ns++] = sites[i];
		if (!nt || starts[nt - 1] != starts[i])
			starts[nt++] = starts[i];
	}
	fp_report_html_draw_hour_text(h->from, a, sizeof(a), true);
	fp_report_html_draw_hour_text(h->to, b, sizeof(b), true);
	fprintf(f,
		"<p style=\"font-size:13px;margin:4px 0\">The same job (its "
		"IT energy and duration) on each site, started at each hour "
		"from %s to %s UTC: %zu options, %zu not covered by the "
		"series.</p>\n",
		a, b, w->noptions, w->skipped);
	_heatmap(f, h, sites, ns, starts, nt);
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

		fp_report_html_draw_hour_text(o->start, a, sizeof(a), true);
		fprintf(f,
			"<tr class=\"option\"><td style=\"" TDN "\">%zu</td>"
			"<td style=\"" TD "\">",
			i + 1);
		fp_report_html_draw_put(f, o->site);
		fprintf(f,
			"</td><td style=\"" TD "\">%s</td><td style=\"" TDN
			"\">%s</td>",
			a, fp_report_html_draw_fig(v, sizeof(v), o->intensity));
		fprintf(f, "<td class=\"num\" style=\"" TDN "\">%s</td>",
			fp_report_html_draw_fig(v, sizeof(v), o->footprint_g));
		fprintf(f, "<td style=\"" TDN "\">%s</td></tr>\n",
			fp_report_html_draw_fig(v, sizeof(v),
						h->r->footprint_g -
							o->footprint_g));
	}
	fputs("</table>\n", f);
out:
	free(sites);
	free(starts);
	fputs("</div>\n", f);
}

static void _row(FILE *f, const char *key, const char *label, const char *value)
{
	fprintf(f,
		"<tr data-key=\"%s\"><th style=\"" TD ";text-align:left;"
		"background:#f4f4f4\">%s</th><td style=\"" TD "\">",
		key, label);
	fp_report_html_draw_put(f, value);
	fputs("</td></tr>\n", f);
}

void fp_report_html_section_header(FILE *f, const fp_report_html_t *h)
{
	const fp_report_t *r = h->r;
	char a[64], b[64];

	fprintf(f, "<table id=\"job\" style=\"" TABLE "\">\n");
	snprintf(a, sizeof(a), "%llu", (unsigned long long)r->job_id);
	_row(f, "job_id", "Job ID", a);
	if (r->has_acct && r->job_name)
		_row(f, "job_name", "Job name", r->job_name);
	_row(f, "user", "User", r->user);
	_row(f, "account", "Account", r->account);
	if (r->cluster)
		_row(f, "cluster", "Cluster", r->cluster);
	if (r->has_acct && r->state)
		_row(f, "state", "State", r->state);
	_row(f, "start", "Start (UTC)", r->start ? r->start : "-");
	_row(f, "end", "End (UTC)", r->end ? r->end : "-");
	_row(f, "elapsed", "Elapsed",
	     fp_report_duration(r->elapsed_s, a, sizeof(a)));
	_row(f, "source", "Energy source",
	     fp_carbon_energy_source_str(r->source));
	{
		char c[32], e[96];

		snprintf(e, sizeof(e), "%s Wh IT, %s Wh facility",
			 fp_report_html_draw_fig(b, sizeof(b), r->energy_it_wh),
			 fp_report_html_draw_fig(c, sizeof(c), r->energy_wh));
		_row(f, "energy", "Energy", e);
	}
	snprintf(a, sizeof(a), "%s gCO2e",
		 fp_report_html_draw_fig(b, sizeof(b), r->footprint_g));
	_row(f, "footprint", "Footprint", a);
	_row(f, "complete", "Completeness",
	     r->complete ? "complete" : "incomplete");
	for (size_t i = 0; i < r->nincomplete; i++)
		_row(f, "incomplete", "Incomplete because", r->incomplete[i]);
	_row(f, "signature", "Signature",
	     h->signature ? h->signature : "unknown");
	if (r->config[0])
		_row(f, "config", "Config sha256", r->config);
	fputs("</table>\n", f);
}
