/* The controller's Prometheus text file: per-site grid intensity and the
 * running totals of the worker's summaries, kept across runs in a state file. */
#include "footprint/site_metrics.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "footprint/series.h"
#include "footprint/utf8.h"

#define STATE_MAGIC "fp-site-metrics 1"

/* The figures a site's summaries add up to. */
typedef struct site_total {
	char *site;
	double jobs;
	double energy_j; /* IT energy */
	double operational_g;
	double embodied_g;
	double avoided_g;
	double reference_g; /* the reference's operational emissions */
} site_total_t;

struct fp_site_metrics {
	site_total_t *sites;
	size_t nsites;
	double incomplete;
};

fp_site_metrics_t *fp_site_metrics_new(void)
{
	return calloc(1, sizeof(fp_site_metrics_t));
}

void fp_site_metrics_free(fp_site_metrics_t *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nsites; i++)
		free(m->sites[i].site);
	free(m->sites);
	free(m);
}

static site_total_t *_site(fp_site_metrics_t *m, const char *site)
{
	site_total_t *s;

	for (size_t i = 0; i < m->nsites; i++)
		if (!strcmp(m->sites[i].site, site))
			return &m->sites[i];
	s = realloc(m->sites, (m->nsites + 1) * sizeof(*s));
	if (!s)
		return NULL;
	m->sites = s;
	s = &m->sites[m->nsites];
	memset(s, 0, sizeof(*s));
	s->site = strdup(site);
	if (!s->site)
		return NULL;
	m->nsites++;
	return s;
}

static bool _finite_site(const fp_site_result_t *r)
{
	return isfinite(r->energy_j) && isfinite(r->operational_g) &&
	       isfinite(r->embodied_g) && isfinite(r->avoided_g) &&
	       isfinite(r->reference_operational_g);
}

/* Adds f's figures to the site of the same name in m. */
static int _add_site(fp_site_metrics_t *m, const site_total_t *f)
{
	site_total_t *s = _site(m, f->site);

	if (!s)
		return -1;
	s->jobs += f->jobs;
	s->energy_j += f->energy_j;
	s->operational_g += f->operational_g;
	s->embodied_g += f->embodied_g;
	s->avoided_g += f->avoided_g;
	s->reference_g += f->reference_g;
	return 0;
}

int fp_site_metrics_add(fp_site_metrics_t *m, const fp_result_t *res)
{
	bool usable = res && res->complete;

	/* An incomplete summary's figures are partial: counted apart, never
	 * added to a site's totals. */
	for (size_t i = 0; usable && i < res->nsites; i++)
		usable = res->sites[i].site && _finite_site(&res->sites[i]);
	if (!usable) {
		m->incomplete++;
		return 0;
	}
	for (size_t i = 0; i < res->nsites; i++) {
		const fp_site_result_t *r = &res->sites[i];
		site_total_t one = {
			.site = r->site,
			.jobs = 1,
			.energy_j = r->energy_j,
			.operational_g = r->operational_g,
			.embodied_g = r->embodied_g,
			.avoided_g = r->avoided_g,
			.reference_g = r->reference_operational_g,
		};

		if (_add_site(m, &one))
			return -1;
	}
	return 0;
}

int fp_site_metrics_merge(fp_site_metrics_t *to, const fp_site_metrics_t *from)
{
	to->incomplete += from->incomplete;
	for (size_t i = 0; i < from->nsites; i++)
		if (_add_site(to, &from->sites[i]))
			return -1;
	return 0;
}

/* One number of a state line, ending at a tab or the line's end:
 * finite and not negative. */
static int _number(const char **p, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(*p, &end);
	if (end == *p || errno || !isfinite(*out) || *out < 0 ||
	    (*end != '\t' && *end != '\0'))
		return -1;
	*p = end;
	return 0;
}

/* The state file: its magic line, then "site\tNAME\tjobs\tenergy_j\t
 * operational_g\tembodied_g\tavoided_g\treference_g" lines and one
 * "incomplete\tN" line. */
static int _parse_state(const char *path, char *text, fp_site_metrics_t *m,
			fp_error_t *err)
{
	static const char *const fields[] = {
		"jobs",	      "energy_j",  "operational_g",
		"embodied_g", "avoided_g", "reference_g",
	};
	unsigned line = 0;
	char *save = NULL;

	for (char *l = strtok_r(text, "\n", &save); l;
	     l = strtok_r(NULL, "\n", &save)) {
		const char *p;
		site_total_t *s;
		double v[6];

		line++;
		if (line == 1) {
			if (strcmp(l, STATE_MAGIC))
				return fp_error_set(err, FP_EPARSE,
						    "%s:1: not '" STATE_MAGIC
						    "'",
						    path);
			continue;
		}
		if (!strncmp(l, "incomplete\t", 11)) {
			p = l + 11;
			if (_number(&p, &m->incomplete) || *p)
				return fp_error_set(
					err, FP_EPARSE,
					"%s:%u: field 'incomplete': "
					"not a count",
					path, line);
			continue;
		}
		if (strncmp(l, "site\t", 5) || !strchr(l + 5, '\t'))
			return fp_error_set(err, FP_EPARSE,
					    "%s:%u: neither a site nor the "
					    "incomplete line",
					    path, line);
		p = strchr(l + 5, '\t');
		for (size_t i = 0; i < 6; i++) {
			if (*p != '\t')
				return fp_error_set(
					err, FP_EPARSE,
					"%s:%u: field '%s': missing", path,
					line, fields[i]);
			p++;
			if (_number(&p, &v[i]))
				return fp_error_set(err, FP_EPARSE,
						    "%s:%u: field '%s': not a "
						    "finite number >= 0",
						    path, line, fields[i]);
		}
		if (*p)
			return fp_error_set(
				err, FP_EPARSE,
				"%s:%u: more than the 8 fields of a "
				"site line",
				path, line);
		*strchr(l + 5, '\t') = '\0';
		s = _site(m, l + 5);
		if (!s)
			return fp_error_set(err, FP_ENOMEM, "%s: out of memory",
					    path);
		s->jobs = v[0];
		s->energy_j = v[1];
		s->operational_g = v[2];
		s->embodied_g = v[3];
		s->avoided_g = v[4];
		s->reference_g = v[5];
	}
	if (line == 0)
		return fp_error_set(err, FP_EPARSE, "%s: empty", path);
	return 0;
}

#define STATE_MAX_BYTES (16L << 20)

/* Reads state into m; a missing file is no totals yet. */
static int _read_state(const char *path, fp_site_metrics_t *m, fp_error_t *err)
{
	FILE *f = fopen(path, "r");
	char *text;
	size_t n;
	int rc;

	if (!f)
		return errno == ENOENT ? 0
				       : fp_error_set(err, FP_EIO,
						      "%s: cannot open: %s",
						      path, strerror(errno));
	text = malloc(STATE_MAX_BYTES + 1);
	if (!text) {
		fclose(f);
		return fp_error_set(err, FP_ENOMEM, "%s: out of memory", path);
	}
	n = fread(text, 1, STATE_MAX_BYTES + 1, f);
	fclose(f);
	if (n > STATE_MAX_BYTES) {
		free(text);
		return fp_error_set(err, FP_EPARSE, "%s: larger than %ld bytes",
				    path, STATE_MAX_BYTES);
	}
	if (memchr(text, '\0', n)) {
		free(text);
		return fp_error_set(err, FP_EPARSE, "%s: holds a NUL byte",
				    path);
	}
	text[n] = '\0';
	rc = _parse_state(path, text, m, err);
	free(text);
	return rc;
}

/* A label value: backslash, double quote and newline escaped, bytes that
 * are not UTF-8 as U+FFFD (Prometheus refuses the file otherwise). */
static void _label(FILE *f, const char *v)
{
	size_t left = strlen(v), n;

	for (const char *p = v; left; p += n, left -= n) {
		if (*p == '\\' || *p == '"') {
			fprintf(f, "\\%c", *p);
			n = 1;
		} else if (*p == '\n') {
			fputs("\\n", f);
			n = 1;
		} else if (!(n = fp_utf8_seq(p, left))) {
			fputs(FP_UTF8_REPLACEMENT, f);
			n = 1;
		} else {
			fwrite(p, 1, n, f);
		}
	}
}

static void _head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void _sample(FILE *f, const char *name, const char *site, double v)
{
	fprintf(f, "%s{site=\"", name);
	_label(f, site);
	fprintf(f, "\"} %.17g\n", v);
}

/* Each configured site's intensity at now: the value in effect, else
 * (past the series' end, in a gap) the last one published before now. */
static void _intensity(FILE *f, const fp_config_t *cfg, time_t now)
{
	_head(f, "footprint_site_intensity_gco2e_per_kwh", "gauge",
	      "Grid carbon intensity at the site: the value in effect now, "
	      "else the last one published");
	for (size_t i = 0; i < cfg->nsites; i++) {
		const fp_series_t *s = cfg->sites[i].intensity.series;
		time_t first, end;
		double v;

		if (!s)
			continue;
		if (fp_series_value(s, now, &v, NULL) == 0 ||
		    (fp_series_span(s, &first, &end) && end <= now &&
		     fp_series_value(s, end - 1, &v, NULL) == 0))
			_sample(f, "footprint_site_intensity_gco2e_per_kwh",
				cfg->sites[i].name, v);
	}
	_head(f, "footprint_site_intensity_published_until_seconds", "gauge",
	      "End of the site's intensity series (Unix time; series files "
	      "only)");
	for (size_t i = 0; i < cfg->nsites; i++) {
		const fp_series_t *s = cfg->sites[i].intensity.series;
		time_t first, end;

		if (s && fp_series_span(s, &first, &end))
			_sample(f,
				"footprint_site_intensity_published_until_"
				"seconds",
				cfg->sites[i].name, (double)end);
	}
	_head(f, "footprint_site_intensity_up", "gauge",
	      "1 when the site's intensity series loaded, 0 when it did not");
	for (size_t i = 0; i < cfg->nsites; i++)
		_sample(f, "footprint_site_intensity_up", cfg->sites[i].name,
			cfg->sites[i].intensity.series ? 1 : 0);
}

static void _totals(FILE *f, const fp_site_metrics_t *t)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} c[] = {
		{ "footprint_site_jobs_total",
		  "Complete summaries that counted energy at the site",
		  offsetof(site_total_t, jobs) },
		{ "footprint_site_energy_joules_total",
		  "IT energy of the jobs at the site",
		  offsetof(site_total_t, energy_j) },
		{ "footprint_site_operational_grams_total",
		  "Operational emissions at the site (gCO2e)",
		  offsetof(site_total_t, operational_g) },
		{ "footprint_site_embodied_grams_total",
		  "Embodied emissions charged at the site (gCO2e)",
		  offsetof(site_total_t, embodied_g) },
		{ "footprint_site_avoided_grams_total",
		  "Emissions avoided by the reused heat at the site (gCO2e), "
		  "never in the footprint",
		  offsetof(site_total_t, avoided_g) },
		{ "footprint_site_reference_grams_total",
		  "Operational emissions of the same work in the reference "
		  "datacenter (gCO2e)",
		  offsetof(site_total_t, reference_g) },
	};

	for (size_t k = 0; k < sizeof(c) / sizeof(c[0]); k++) {
		_head(f, c[k].name, "counter", c[k].help);
		for (size_t i = 0; i < t->nsites; i++)
			_sample(f, c[k].name, t->sites[i].site,
				*(const double *)((const char *)&t->sites[i] +
						  c[k].off));
	}
	_head(f, "footprint_summaries_incomplete_total", "counter",
	      "Summaries marked incomplete (no site's totals count them)");
	fprintf(f, "footprint_summaries_incomplete_total %.17g\n",
		t->incomplete);
}

/* Writes path by tmp, fsync, rename: a reader sees the old or the new
 * file, never a part. */
static int _replace(const char *path, const fp_site_metrics_t *t,
		    const fp_config_t *cfg, time_t now, bool state,
		    fp_error_t *err)
{
	char tmp[4096];
	FILE *f;
	int fd, bad;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return fp_error_set(err, FP_EINVAL, "%s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || !(f = fdopen(fd, "w"))) {
		if (fd >= 0)
			close(fd);
		return fp_error_set(err, FP_EIO, "%s: cannot write: %s", tmp,
				    strerror(errno));
	}
	if (state) {
		fprintf(f, "%s\n", STATE_MAGIC);
		for (size_t i = 0; i < t->nsites; i++) {
			const site_total_t *s = &t->sites[i];

			/* A tab or newline would break the line: such a
			 * name is not carried (it cannot be configured:
			 * footprint.conf splits on blanks). */
			if (strpbrk(s->site, "\t\n"))
				continue;
			fprintf(f,
				"site\t%s\t%.17g\t%.17g\t%.17g\t%.17g\t"
				"%.17g\t%.17g\n",
				s->site, s->jobs, s->energy_j, s->operational_g,
				s->embodied_g, s->avoided_g, s->reference_g);
		}
		fprintf(f, "incomplete\t%.17g\n", t->incomplete);
	} else {
		_intensity(f, cfg, now);
		_totals(f, t);
	}
	bad = fflush(f) || fsync(fileno(f));
	bad = fclose(f) || bad;
	if (bad || rename(tmp, path)) {
		fp_error_set(err, FP_EIO, "%s: cannot write: %s", path,
			     strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int fp_site_metrics_write(const fp_site_metrics_t *m, const fp_config_t *cfg,
			  const char *state, const char *prom, time_t now,
			  fp_error_t *err)
{
	fp_site_metrics_t *t = fp_site_metrics_new();
	fp_error_t damaged = { 0 };
	char lock[4096];
	int fd, rc = -1;

	if (!t)
		return fp_error_set(err, FP_ENOMEM, "metrics: out of memory");
	snprintf(lock, sizeof(lock), "%s.lock", state);
	fd = open(lock, O_RDONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0 || flock(fd, LOCK_EX) != 0) {
		fp_error_set(err, FP_EIO, "%s: cannot lock: %s", lock,
			     strerror(errno));
		goto out;
	}
	if (_read_state(state, t, &damaged)) {
		char aside[4096];

		/* Kept for whoever looks, never read again. */
		snprintf(aside, sizeof(aside), "%s.damaged", state);
		if (damaged.code != FP_EIO)
			rename(state, aside);
		fp_site_metrics_free(t);
		t = fp_site_metrics_new();
		if (!t) {
			fp_error_set(err, FP_ENOMEM, "metrics: out of memory");
			goto out;
		}
	}
	if ((m && fp_site_metrics_merge(t, m)) ||
	    _replace(state, t, cfg, now, true, err) ||
	    _replace(prom, t, cfg, now, false, err))
		goto out;
	rc = 0;
	if (damaged.code) {
		/* Written, but the caller says the damage (once). */
		*err = damaged;
		snprintf(err->msg + strlen(err->msg),
			 sizeof(err->msg) - strlen(err->msg),
			 "; kept aside as %s.damaged, the totals start again",
			 state);
		rc = 1;
	}
out:
	if (fd >= 0)
		close(fd);
	fp_site_metrics_free(t);
	return rc;
}
