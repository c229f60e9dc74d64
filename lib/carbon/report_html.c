/* A job's report as one HTML page (tables a mail client shows as they are,
 * inline SVG): what it is given, the sites' hourly curves, the page whole. */
#include "footprint/report_html.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "footprint/json.h"
#include "footprint/series.h"

#include "report_html_parts.h"

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

static char *_xstrdup(const char *s)
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

static void _curves_free(fp_report_html_t *h)
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
	_curves_free(h);
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
	h->whatif_note = _xstrdup(why);
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

static const fp_series_t *_site_series(const fp_config_t *cfg, const char *site)
{
	for (size_t i = 0; cfg && site && i < cfg->nsites; i++)
		if (!strcmp(cfg->sites[i].name, site))
			return cfg->sites[i].intensity.series;
	return NULL;
}

static int _curve_fill(fp_report_html_curve_t *c, const fp_report_site_t *s,
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
	_curves_free(h);
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

		if (!(c->site = _xstrdup(r->sites[i].name)) && r->sites[i].name)
			goto nomem;
		if (_curve_fill(c, &r->sites[i],
				_site_series(cfg, r->sites[i].name), t0, t1))
			goto nomem;
	}
	return 0;
nomem:
	_curves_free(h);
	return fp_error_set(err, FP_ENOMEM, "out of memory");
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
	fp_report_html_section_header(f, h);
	if (r->from_record)
		fp_report_html_draw_note(
			f, "note",
			"From the accounting record (FP1, unsigned): "
			"the signed summary was not available.");
	fp_report_html_section_energy(f, h);
	if (!r->from_record)
		fp_report_html_section_hourly(f, h);
	fp_report_html_section_compare(f, r);
	fp_report_html_section_whatif(f, h);
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
