/* The keys of footprint.conf's Site, NodeType and Reference lines: one
 * table per line, each key checked and stored; the defaults of those unset. */
#include "config_parse.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "footprint/option.h"

int fp_config_key_dup(struct ctx *c, char **dst, const char *src)
{
	char *s = strdup(src);

	if (!s)
		return FAIL(c, FP_ENOMEM, "out of memory");
	free(*dst);
	*dst = s;
	return 0;
}

static int _get_double(struct ctx *c, const struct kv *kv, double lo, double hi,
		       double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(kv->val, &end);
	if (!*kv->val || *end || (errno && errno != ERANGE) || isnan(v))
		return FAIL(c, FP_EPARSE,
			    "%s:%u: field '%s': '%s' is not a "
			    "number (%s must be %g..%g)",
			    c->name, c->line, kv->key, kv->val, kv->key, lo,
			    hi);
	if (errno || v < lo || v > hi)
		return FAIL(c, FP_EINVAL,
			    "%s:%u: field '%s': %s must be "
			    "%.15g..%.15g, not %s",
			    c->name, c->line, kv->key, kv->key, lo, hi,
			    kv->val);
	*out = v;
	return 0;
}

int fp_config_key_uint(struct ctx *c, const struct kv *kv, unsigned lo,
		       unsigned hi, unsigned *out)
{
	char *end;
	unsigned long v;

	const char *d = kv->val + (*kv->val == '-' || *kv->val == '+');

	errno = 0;
	v = strtoul(kv->val, &end, 10);
	/* "-1" and "99999999999" are whole numbers, only out of range. */
	if (!isdigit((unsigned char)*d) || *end)
		return FAIL(c, FP_EPARSE,
			    "%s:%u: field '%s': '%s' is not a "
			    "whole number (%s must be %u..%u)",
			    c->name, c->line, kv->key, kv->val, kv->key, lo,
			    hi);
	if (*kv->val == '-' || errno || v < lo || v > hi)
		return FAIL(c, FP_EINVAL,
			    "%s:%u: field '%s': %s must be "
			    "%u..%u, not %s",
			    c->name, c->line, kv->key, kv->key, lo, hi,
			    kv->val);
	*out = (unsigned)v;
	return 0;
}

int fp_config_key_path(struct ctx *c, const char *p, char **out)
{
	size_t n;

	if (!*p)
		return FAIL(c, FP_EINVAL, "%s:%u: empty file name", c->name,
			    c->line);
	if (p[0] == '/' || !c->dir)
		return fp_config_key_dup(c, out, p);
	n = strlen(c->dir) + strlen(p) + 2;
	free(*out);
	*out = malloc(n);
	if (!*out)
		return FAIL(c, FP_ENOMEM, "out of memory");
	snprintf(*out, n, "%s/%s", c->dir, p);
	return 0;
}

/* Appends the resolved path p to a list (keys may be given many times). */
int fp_config_key_paths(struct ctx *c, const char *p, char ***list, size_t *n)
{
	char *path = NULL, **l;

	if (fp_config_key_path(c, p, &path))
		return -1;
	l = realloc(*list, (*n + 1) * sizeof(*l));
	if (!l) {
		free(path);
		return FAIL(c, FP_ENOMEM, "out of memory");
	}
	l[(*n)++] = path;
	*list = l;
	return 0;
}

/* "10-4" (October to April), "1,2,12", "10-12,1-4": a bit per month. */
static int _parse_months(struct ctx *c, const struct kv *kv, const char *s,
			 unsigned *mask)
{
	*mask = 0;
	while (*s) {
		char *end;
		long a, b;

		a = strtol(s, &end, 10);
		b = a;
		if (end != s && *end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
		}
		if (end == s || (*end && *end != ',') || a < 1 || a > 12 ||
		    b < 1 || b > 12)
			return FAIL(c, FP_EPARSE,
				    "%s:%u: field '%s': bad "
				    "month list '%s' (use months:10-4 or "
				    "months:1,2,12)",
				    c->name, c->line, kv->key, kv->val);
		for (long m = a;; m = m % 12 + 1) { /* 10-4 wraps */
			*mask |= 1u << (m - 1);
			if (m == b)
				break;
		}
		s = *end ? end + 1 : end;
	}
	return 0;
}

/* Intensity=56 | file:PATH ; UsefulHeat=0.8 | months:10-4 | file:PATH */
static int _parse_signal(struct ctx *c, const struct kv *kv,
			 fp_signal_spec_t *spec, bool fraction, double hi)
{
	double v;
	unsigned months;
	char name[128];
	/* the line's IntensityKind=, IntensityFormat=,
	 * IntensityResolution= may come before it */
	fp_series_format_t format = spec->format;
	fp_intensity_kind_t kind = spec->kind;
	bool hourly = spec->hourly;

	fp_config_spec_free(spec);
	spec->format = format;
	spec->kind = kind;
	spec->hourly = hourly;
	if (fp_config_key_dup(c, &spec->text, kv->val))
		return -1;
	if (!strncasecmp(kv->val, "file:", 5))
		return fp_config_key_path(c, kv->val + 5, &spec->path);
	if (fraction && !strncasecmp(kv->val, "months:", 7)) {
		if (_parse_months(c, kv, kv->val + 7, &months))
			return -1;
		spec->series = fp_series_new_months(kv->val, months);
	} else {
		if (_get_double(c, kv, 0, hi, &v))
			return -1;
		snprintf(name, sizeof(name), "constant:%s", kv->val);
		spec->series = fp_series_new_constant(name, v);
	}
	if (!spec->series)
		return FAIL(c, FP_ENOMEM, "out of memory");
	return 0;
}

static int _parse_kind(struct ctx *c, const struct kv *kv,
		       fp_intensity_kind_t *kind)
{
	if (!strcasecmp(kv->val, "lca"))
		*kind = FP_INTENSITY_LCA;
	else if (!strcasecmp(kv->val, "direct"))
		*kind = FP_INTENSITY_DIRECT;
	else
		return FAIL(c, FP_EINVAL,
			    "%s:%u: field '%s': '%s' is not "
			    "lca or direct",
			    c->name, c->line, kv->key, kv->val);
	return 0;
}

/* IntensityResolution=native (each value until the next) | hour (the
 * values of each UTC hour averaged, as before issue #16). */
static int _parse_resolution(struct ctx *c, const struct kv *kv, bool *hourly)
{
	if (!strcasecmp(kv->val, "native"))
		*hourly = false;
	else if (!strcasecmp(kv->val, "hour"))
		*hourly = true;
	else
		return FAIL(c, FP_EINVAL,
			    "%s:%u: field '%s': '%s' is not "
			    "native or hour",
			    c->name, c->line, kv->key, kv->val);
	return 0;
}

static int _parse_format(struct ctx *c, const struct kv *kv,
			 fp_series_format_t *f)
{
	static const fp_series_format_t all[] = {
		FP_FORMAT_AUTO,
		FP_FORMAT_ELECTRICITYMAPS,
		FP_FORMAT_ECO2MIX,
		FP_FORMAT_PLAIN,
	};

	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
		if (!strcasecmp(kv->val, fp_series_format_str(all[i]))) {
			*f = all[i];
			return 0;
		}
	}
	return FAIL(c, FP_EINVAL,
		    "%s:%u: field '%s': '%s' is not auto, "
		    "electricitymaps, eco2mix or plain",
		    c->name, c->line, kv->key, kv->val);
}

/* Feed=eco2mix | electricitymaps:ZONE | uk | uk:REGION (1..17, the
 * National Grid's regional ids). */
static int _parse_feed(struct ctx *c, const struct kv *kv, fp_feed_spec_t *f)
{
	static const char *const providers[] = { "eco2mix", "electricitymaps",
						 "uk", NULL };
	const char *colon = strchr(kv->val, ':');
	size_t n = colon ? (size_t)(colon - kv->val) : strlen(kv->val);
	const char *zone = colon ? colon + 1 : NULL;
	char *end;
	unsigned long region;
	int i;

	for (i = 0; providers[i]; i++)
		if (strlen(providers[i]) == n &&
		    !strncasecmp(kv->val, providers[i], n))
			break;
	if (!providers[i])
		return FAIL(c, FP_EINVAL,
			    "%s:%u: field '%s': '%s' is not "
			    "eco2mix, electricitymaps:ZONE, uk or uk:REGION",
			    c->name, c->line, kv->key, kv->val);
	if (zone && !*zone)
		return FAIL(c, FP_EINVAL,
			    "%s:%u: field '%s': empty zone after "
			    "'%s:'",
			    c->name, c->line, kv->key, providers[i]);
	if (i == 0 && zone)
		return FAIL(c, FP_EINVAL,
			    "%s:%u: field '%s': eco2mix is "
			    "France's national series and takes no zone",
			    c->name, c->line, kv->key);
	if (i == 1 && !zone)
		return FAIL(c, FP_EINVAL,
			    "%s:%u: field '%s': electricitymaps "
			    "needs a zone (electricitymaps:FR)",
			    c->name, c->line, kv->key);
	if (i == 1 &&
	    zone[strspn(zone, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
			      "abcdefghijklmnopqrstuvwxyz0123456789-_")])
		return FAIL(c, FP_EINVAL,
			    "%s:%u: field '%s': zone '%s' is "
			    "not a zone name (letters, digits, '-')",
			    c->name, c->line, kv->key, zone);
	if (i == 2 && zone) {
		errno = 0;
		region = strtoul(zone, &end, 10);
		if (!isdigit((unsigned char)*zone) || *end || region < 1 ||
		    region > 17)
			return FAIL(c, FP_EINVAL,
				    "%s:%u: field '%s': the UK "
				    "region must be 1..17, not %s",
				    c->name, c->line, kv->key, zone);
	}
	if (fp_config_key_dup(c, &f->provider, providers[i]))
		return -1;
	free(f->zone);
	f->zone = NULL;
	return zone ? fp_config_key_dup(c, &f->zone, zone) : 0;
}

/* The keys of a Site, NodeType and Reference line, one row each: the kind
 * of value, where it goes in the line's struct, its bounds, whether the
 * line needs it (what footprint.conf(5) says; test_config checks the page
 * against these tables). */
enum lkind {
	L_HOSTS,      /* Nodes: a hostlist */
	L_TEXT,	      /* kept as given */
	L_PATH,	      /* resolved against the file's folder */
	L_NUMBER,     /* a number from lo to hi */
	L_UINT,	      /* a whole number from lo to hi */
	L_SIGNAL,     /* a number from lo to hi, or file:PATH */
	L_FRACTION,   /* as L_SIGNAL, or months:LIST */
	L_REF_SIGNAL, /* the Reference's: site, or as L_SIGNAL */
	L_KIND,	      /* lca or direct */
	L_FORMAT,     /* auto, electricitymaps, eco2mix, plain */
	L_RESOLUTION, /* native or hour */
	L_FALLBACK,   /* IntensityFallback */
	L_DISPLACED,  /* a preset, or a number from lo to hi */
	L_FEED,	      /* a provider[:zone] */
	L_URL,	      /* http:// or https:// */
};

struct line_key {
	const char *key;
	enum lkind kind;
	size_t off;
	double lo, hi; /* L_NUMBER, L_UINT, the signals, L_DISPLACED */
	bool required;
};

#define S(f) offsetof(fp_site_conf_t, f)
static const struct line_key _site_keys[] = {
	{ "Nodes", L_HOSTS, S(nodes), 0, 0, true },
	{ "Intensity", L_SIGNAL, S(intensity), 0, FP_SERIES_MAX_VALUE, true },
	/* IntensityKind=, IntensityFormat=, IntensityResolution= may come
	 * before Intensity= on the line */
	{ "IntensityKind", L_KIND, S(intensity.kind), 0, 0, false },
	{ "IntensityFormat", L_FORMAT, S(intensity.format), 0, 0, false },
	{ "IntensityResolution", L_RESOLUTION, S(intensity.hourly), 0, 0,
	  false },
	{ "IntensityFallback", L_FALLBACK, S(fallback), 0, 0, false },
	{ "PUE", L_NUMBER, S(pue), 1, 10, false },
	{ "HeatRecovery", L_NUMBER, S(heat_recovery), 0, 1, false },
	{ "UsefulHeat", L_FRACTION, S(useful_heat), 0, 1, false },
	{ "UsefulHeatFormat", L_FORMAT, S(useful_heat.format), 0, 0, false },
	{ "DisplacedHeating", L_DISPLACED, S(displaced), 0, FP_SERIES_MAX_VALUE,
	  false },
	/* an explicit source wins over the preset's, wherever it is */
	{ "DisplacedHeatingSource", L_TEXT, S(displaced_source), 0, 0, false },
	{ "Feed", L_FEED, S(feed), 0, 0, false },
	{ "FeedURL", L_URL, S(feed.url), 0, 0, false },
	{ "FeedTokenFile", L_PATH, S(feed.token_file), 0, 0, false },
	{ "FeedProxy", L_TEXT, S(feed.proxy), 0, 0, false },
};
#undef S

#define T(f) offsetof(fp_node_type_t, f)
static const struct line_key _node_type_keys[] = {
	{ "Nodes", L_HOSTS, T(nodes), 0, 0, true },
	{ "Embodied", L_NUMBER, T(embodied_kg), 0, 1e7, true },
	{ "Lifetime", L_NUMBER, T(lifetime_years), 0.01, 100, true },
	{ "CPUs", L_UINT, T(cpus), 1, 1u << 20, true },
	{ "EmbodiedSource", L_TEXT, T(source), 0, 0, false },
};
#undef T

#define R(f) offsetof(fp_reference_t, f)
static const struct line_key _reference_keys[] = {
	{ "PUE", L_NUMBER, R(pue), 1, 10, false },
	{ "PUESource", L_TEXT, R(pue_source), 0, 0, false },
	{ "Intensity", L_REF_SIGNAL, R(intensity), 0, FP_SERIES_MAX_VALUE,
	  false },
	{ "IntensityKind", L_KIND, R(intensity.kind), 0, 0, false },
	{ "IntensityFormat", L_FORMAT, R(intensity.format), 0, 0, false },
	{ "IntensityResolution", L_RESOLUTION, R(intensity.hourly), 0, 0,
	  false },
};
#undef R

#define NKEYS(t) (sizeof(t) / sizeof((t)[0]))
static const struct line {
	const char *name;
	const struct line_key *keys;
	size_t nkeys;
} _lines[] = {
	{ "Site", _site_keys, NKEYS(_site_keys) },
	{ "NodeType", _node_type_keys, NKEYS(_node_type_keys) },
	{ "Reference", _reference_keys, NKEYS(_reference_keys) },
};
_Static_assert(NKEYS(_site_keys) <= 32 && NKEYS(_node_type_keys) <= 32 &&
		       NKEYS(_reference_keys) <= 32,
	       "a line's keys given are one bit each of an unsigned");

const char *fp_config_key_of(const char *line, size_t i, double *lo, double *hi)
{
	for (size_t l = 0; l < NKEYS(_lines); l++) {
		const struct line_key *k = &_lines[l].keys[i];

		if (strcmp(line, _lines[l].name) || i >= _lines[l].nkeys)
			continue;
		*lo = 1;
		*hi = 0;
		if (k->kind != L_TEXT && k->kind != L_PATH &&
		    k->kind != L_HOSTS && k->hi > k->lo) {
			*lo = k->lo;
			*hi = k->hi;
		}
		return k->key;
	}
	return NULL;
}

/* DisplacedHeating=: a preset, with its figure and source, or a number. */
static int _displaced(struct ctx *c, const struct line_key *lk,
		      const struct kv *kv, fp_site_conf_t *s, bool own_source)
{
	const fp_preset_t *p = fp_config_displaced_preset(kv->val);

	if (p) {
		s->displaced_gco2e_per_kwh = p->gco2e_per_kwh;
		return fp_config_key_dup(c, &s->displaced, p->name) ||
		       (!own_source &&
			fp_config_key_dup(c, &s->displaced_source, p->source));
	}
	if (isdigit((unsigned char)kv->val[0]) || kv->val[0] == '.')
		return _get_double(c, kv, lk->lo, lk->hi,
				   &s->displaced_gco2e_per_kwh) ||
		       fp_config_key_dup(c, &s->displaced, "custom") ||
		       (!own_source &&
			fp_config_key_dup(c, &s->displaced_source,
					  "site value (no source given)"));
	return FAIL(c, FP_EINVAL,
		    "%s:%u: field '%s': '%s' is not a preset (gas, "
		    "fuel-oil, electric, district, heat-pump, none) nor a "
		    "number",
		    c->name, c->line, kv->key, kv->val);
}

/* One key of a line into its place in the line's struct at base. */
static int _line_set(struct ctx *c, const struct line_key *lk,
		     const struct kv *kv, void *base, bool own_source)
{
	void *f = (char *)base + lk->off;

	switch (lk->kind) {
	case L_HOSTS:
		return fp_config_hostlist_check(c, kv) ||
		       fp_config_key_dup(c, f, kv->val);
	case L_TEXT:
		return fp_config_key_dup(c, f, kv->val);
	case L_PATH:
		return fp_config_key_path(c, kv->val, f);
	case L_NUMBER:
		return _get_double(c, kv, lk->lo, lk->hi, f);
	case L_UINT:
		return fp_config_key_uint(c, kv, (unsigned)lk->lo,
					  (unsigned)lk->hi, f);
	case L_REF_SIGNAL:
		/* the Reference's grid: each site's own */
		((fp_reference_t *)base)->same_grid =
			!strcasecmp(kv->val, "site");
		if (((fp_reference_t *)base)->same_grid) {
			fp_config_spec_free(f);
			return 0;
		}
		/* fall through */
	case L_SIGNAL:
	case L_FRACTION:
		return _parse_signal(c, kv, f, lk->kind == L_FRACTION, lk->hi);
	case L_KIND:
		return _parse_kind(c, kv, f);
	case L_FORMAT:
		return _parse_format(c, kv, f);
	case L_RESOLUTION:
		return _parse_resolution(c, kv, f);
	case L_FALLBACK:
		if (!fp_series_fallback_parse(kv->val, f))
			return 0;
		return FAIL(c, FP_EINVAL,
			    "%s:%u: field '%s': '%s' is not none, last, "
			    "same-hour:N (1..%d), monthly-mean nor a number "
			    "0..%.0f",
			    c->name, c->line, kv->key, kv->val,
			    FP_FALLBACK_MAX_DAYS, FP_SERIES_MAX_VALUE);
	case L_DISPLACED:
		return _displaced(c, lk, kv, base, own_source);
	case L_FEED:
		return _parse_feed(c, kv, f);
	case L_URL:
		if (strncasecmp(kv->val, "http://", 7) &&
		    strncasecmp(kv->val, "https://", 8))
			return FAIL(c, FP_EINVAL,
				    "%s:%u: field '%s': '%s' is not an "
				    "http:// or https:// URL",
				    c->name, c->line, kv->key, kv->val);
		return fp_config_key_dup(c, f, kv->val);
	}
	return -1;
}

/* The keys of a line (kv[1..n-1]) by its table: each checked and stored in
 * the struct at base, in the line's order; then the required ones. */
static int _line_keys(struct ctx *c, const struct line *l, struct kv *kv,
		      size_t n, void *base)
{
	unsigned given = 0;
	bool own_source = false;

	/* an explicit DisplacedHeatingSource= wins, before or after */
	for (size_t i = 1; i < n; i++)
		own_source |= !strcasecmp(kv[i].key, "DisplacedHeatingSource");
	for (size_t i = 1; i < n; i++) {
		size_t k = 0;

		while (k < l->nkeys && strcasecmp(kv[i].key, l->keys[k].key))
			k++;
		if (k == l->nkeys)
			return FAIL(c, FP_EINVAL,
				    "%s:%u: field '%s': unknown key on a %s "
				    "line",
				    c->name, c->line, kv[i].key, l->name);
		if (_line_set(c, &l->keys[k], &kv[i], base, own_source))
			return -1;
		/* an empty Nodes= is none */
		if (l->keys[k].kind != L_HOSTS || *kv[i].val)
			given |= 1u << k;
	}
	for (size_t k = 0; k < l->nkeys; k++)
		if (l->keys[k].required && !(given & (1u << k)))
			return FAIL(c, FP_EINVAL,
				    "%s:%u: %s '%s': field '%s' is required",
				    c->name, c->line, l->name, kv[0].val,
				    l->keys[k].key);
	return 0;
}

int fp_config_key_site(struct ctx *c, struct kv *kv, size_t n)
{
	fp_config_t *cfg = c->cfg;
	fp_site_conf_t *s, *ns;

	for (size_t i = 0; i < cfg->nsites; i++)
		if (!strcmp(cfg->sites[i].name, kv[0].val))
			return FAIL(c, FP_EINVAL,
				    "%s:%u: field 'Site': '%s' "
				    "already defined on line %u",
				    c->name, c->line, kv[0].val,
				    cfg->sites[i].line);
	ns = realloc(cfg->sites, (cfg->nsites + 1) * sizeof(*ns));
	if (!ns)
		return FAIL(c, FP_ENOMEM, "out of memory");
	cfg->sites = ns;
	s = &cfg->sites[cfg->nsites++];
	memset(s, 0, sizeof(*s));
	s->line = c->line;
	s->pue = FP_DEFAULT_SITE_PUE;
	if (!*kv[0].val)
		return FAIL(c, FP_EINVAL, "%s:%u: field 'Site': empty name",
			    c->name, c->line);
	if (fp_config_key_dup(c, &s->name, kv[0].val) ||
	    fp_config_key_dup(c, &s->displaced, "none") ||
	    fp_config_key_dup(c, &s->displaced_source,
			      fp_config_displaced_preset("none")->source) ||
	    _line_keys(c, &_lines[0], kv, n, s))
		return -1;
	if (s->feed.provider && !s->intensity.path)
		return FAIL(c, FP_EINVAL,
			    "%s:%u: Site '%s': field 'Feed' "
			    "needs Intensity=file:PATH (the series it keeps "
			    "current)",
			    c->name, c->line, s->name);
	if (s->feed.provider && s->intensity.format != FP_FORMAT_AUTO &&
	    s->intensity.format != FP_FORMAT_PLAIN)
		return FAIL(c, FP_EINVAL,
			    "%s:%u: Site '%s': field 'Feed' "
			    "writes plain 'iso8601,value' rows, not "
			    "IntensityFormat=%s",
			    c->name, c->line, s->name,
			    fp_series_format_str(s->intensity.format));
	if (s->feed.provider && !strcmp(s->feed.provider, "electricitymaps") &&
	    !s->feed.token_file)
		return FAIL(c, FP_EINVAL,
			    "%s:%u: Site '%s': Feed=%s needs "
			    "FeedTokenFile= (the API token)",
			    c->name, c->line, s->name, s->feed.provider);
	if (!s->feed.provider &&
	    (s->feed.url || s->feed.token_file || s->feed.proxy))
		return FAIL(c, FP_EINVAL,
			    "%s:%u: Site '%s': FeedURL, "
			    "FeedTokenFile and FeedProxy need Feed=",
			    c->name, c->line, s->name);
	if (s->heat_recovery > 0 && !s->useful_heat.text)
		return FAIL(c, FP_EINVAL,
			    "%s:%u: Site '%s': field "
			    "'UsefulHeat' is required when HeatRecovery > 0 "
			    "(heat dumped outside the heating season "
			    "displaces nothing)",
			    c->name, c->line, s->name);
	if (!s->useful_heat.text) {
		/* Nothing recovered: the fraction is never used. */
		s->useful_heat.series = fp_series_new_constant("constant:0", 0);
		if (!s->useful_heat.series ||
		    fp_config_key_dup(c, &s->useful_heat.text, "0"))
			return FAIL(c, FP_ENOMEM, "out of memory");
	}
	return 0;
}

int fp_config_key_node_type(struct ctx *c, struct kv *kv, size_t n)
{
	fp_config_t *cfg = c->cfg;
	fp_node_type_t *t, *nt;

	nt = realloc(cfg->node_types, (cfg->nnode_types + 1) * sizeof(*nt));
	if (!nt)
		return FAIL(c, FP_ENOMEM, "out of memory");
	cfg->node_types = nt;
	t = &cfg->node_types[cfg->nnode_types++];
	memset(t, 0, sizeof(*t));
	t->line = c->line;
	if (fp_config_key_dup(c, &t->name, kv[0].val) ||
	    fp_config_key_dup(c, &t->source, "site value (no source given)"))
		return -1;
	return _line_keys(c, &_lines[1], kv, n, t);
}

int fp_config_key_reference(struct ctx *c, struct kv *kv, size_t n)
{
	fp_reference_t *r = &c->cfg->reference;

	if (c->reference_seen)
		return FAIL(c, FP_EINVAL,
			    "%s:%u: field 'Reference': only one "
			    "Reference line is allowed",
			    c->name, c->line);
	c->reference_seen = true;
	r->line = c->line;
	if (fp_config_key_dup(c, &r->name, kv[0].val))
		return -1;
	return _line_keys(c, &_lines[2], kv, n, r);
}

int fp_config_key_defaults(struct ctx *c)
{
	fp_config_t *cfg = c->cfg;

	cfg->reference.pue = FP_DEFAULT_REFERENCE_PUE;
	cfg->reference.same_grid = true;
	return fp_config_global_defaults(c) ||
	       fp_config_key_dup(c, &cfg->reference.name,
				 FP_DEFAULT_REFERENCE_NAME) ||
	       fp_config_key_dup(c, &cfg->reference.pue_source,
				 "Uptime Institute Global Data Center Survey "
				 "2023: average PUE 1.58, rounded to 1.5");
}
