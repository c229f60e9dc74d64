/* The keys of footprint.conf's lines: each of a Site, NodeType or Reference
 * line and each global key, checked and stored; the defaults of those unset. */
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
			 fp_signal_spec_t *spec, bool fraction)
{
	double v;
	unsigned months;
	char name[128];
	/* IntensityKind=, IntensityFormat=, IntensityResolution= may come
	 * before Intensity= on the line. */
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
		if (_get_double(c, kv, 0, fraction ? 1 : FP_SERIES_MAX_VALUE,
				&v))
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

static int _unknown_key(struct ctx *c, const char *entity, const char *key)
{
	return FAIL(c, FP_EINVAL,
		    "%s:%u: field '%s': unknown key on a %s "
		    "line",
		    c->name, c->line, key, entity);
}

int fp_config_key_site(struct ctx *c, struct kv *kv, size_t n)
{
	fp_config_t *cfg = c->cfg;
	fp_site_conf_t *s, *ns;
	const char *source = NULL; /* an explicit source wins */

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
			      fp_config_displaced_preset("none")->source))
		return -1;
	for (size_t i = 1; i < n; i++) {
		const char *k = kv[i].key;
		int rc;

		if (!strcasecmp(k, "Nodes"))
			rc = fp_config_hostlist_check(c, &kv[i]) ||
			     fp_config_key_dup(c, &s->nodes, kv[i].val);
		else if (!strcasecmp(k, "Intensity"))
			rc = _parse_signal(c, &kv[i], &s->intensity, false);
		else if (!strcasecmp(k, "IntensityKind"))
			rc = _parse_kind(c, &kv[i], &s->intensity.kind);
		else if (!strcasecmp(k, "IntensityFormat"))
			rc = _parse_format(c, &kv[i], &s->intensity.format);
		else if (!strcasecmp(k, "IntensityResolution"))
			rc = _parse_resolution(c, &kv[i], &s->intensity.hourly);
		else if (!strcasecmp(k, "IntensityFallback"))
			rc = fp_series_fallback_parse(kv[i].val, &s->fallback)
				     ? FAIL(c, FP_EINVAL,
					    "%s:%u: field '%s': '%s' is "
					    "not none, last, same-hour:N (1..%d), "
					    "monthly-mean nor a number 0..%.0f",
					    c->name, c->line, k, kv[i].val,
					    FP_FALLBACK_MAX_DAYS,
					    FP_SERIES_MAX_VALUE)
				     : 0;
		else if (!strcasecmp(k, "PUE"))
			rc = _get_double(c, &kv[i], 1.0, 10.0, &s->pue);
		else if (!strcasecmp(k, "HeatRecovery"))
			rc = _get_double(c, &kv[i], 0, 1, &s->heat_recovery);
		else if (!strcasecmp(k, "UsefulHeat"))
			rc = _parse_signal(c, &kv[i], &s->useful_heat, true);
		else if (!strcasecmp(k, "UsefulHeatFormat"))
			rc = _parse_format(c, &kv[i], &s->useful_heat.format);
		else if (!strcasecmp(k, "DisplacedHeating")) {
			const fp_preset_t *p =
				fp_config_displaced_preset(kv[i].val);

			if (p) {
				s->displaced_gco2e_per_kwh = p->gco2e_per_kwh;
				rc = fp_config_key_dup(c, &s->displaced,
						       p->name) ||
				     fp_config_key_dup(c, &s->displaced_source,
						       p->source);
			} else if (isdigit((unsigned char)kv[i].val[0]) ||
				   kv[i].val[0] == '.') {
				rc = _get_double(c, &kv[i], 0,
						 FP_SERIES_MAX_VALUE,
						 &s->displaced_gco2e_per_kwh) ||
				     fp_config_key_dup(c, &s->displaced,
						       "custom") ||
				     fp_config_key_dup(
					     c, &s->displaced_source,
					     "site value (no source given)");
			} else {
				rc = FAIL(c, FP_EINVAL,
					  "%s:%u: field '%s': "
					  "'%s' is not a preset (gas, "
					  "fuel-oil, electric, district, "
					  "heat-pump, none) nor a number",
					  c->name, c->line, k, kv[i].val);
			}
		} else if (!strcasecmp(k, "DisplacedHeatingSource")) {
			source = kv[i].val;
			rc = 0;
		} else if (!strcasecmp(k, "Feed")) {
			rc = _parse_feed(c, &kv[i], &s->feed);
		} else if (!strcasecmp(k, "FeedURL")) {
			rc = strncasecmp(kv[i].val, "http://", 7) &&
					     strncasecmp(kv[i].val, "https://",
							 8)
				     ? FAIL(c, FP_EINVAL,
					    "%s:%u: field '%s': '%s' is "
					    "not an http:// or https:// URL",
					    c->name, c->line, k, kv[i].val)
				     : fp_config_key_dup(c, &s->feed.url,
							 kv[i].val);
		} else if (!strcasecmp(k, "FeedTokenFile")) {
			rc = fp_config_key_path(c, kv[i].val,
						&s->feed.token_file);
		} else if (!strcasecmp(k, "FeedProxy")) {
			rc = fp_config_key_dup(c, &s->feed.proxy, kv[i].val);
		} else {
			rc = _unknown_key(c, "Site", k);
		}
		if (rc)
			return -1;
	}
	if (source && fp_config_key_dup(c, &s->displaced_source, source))
		return -1;
	if (!s->nodes || !*s->nodes)
		return FAIL(c, FP_EINVAL,
			    "%s:%u: Site '%s': field 'Nodes' is "
			    "required",
			    c->name, c->line, s->name);
	if (!s->intensity.text)
		return FAIL(c, FP_EINVAL,
			    "%s:%u: Site '%s': field 'Intensity' "
			    "is required",
			    c->name, c->line, s->name);
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
	bool have_emb = false, have_life = false;

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
	for (size_t i = 1; i < n; i++) {
		const char *k = kv[i].key;
		int rc;

		if (!strcasecmp(k, "Nodes")) {
			rc = fp_config_hostlist_check(c, &kv[i]) ||
			     fp_config_key_dup(c, &t->nodes, kv[i].val);
		} else if (!strcasecmp(k, "Embodied")) {
			rc = _get_double(c, &kv[i], 0, 1e7, &t->embodied_kg);
			have_emb = true;
		} else if (!strcasecmp(k, "Lifetime")) {
			rc = _get_double(c, &kv[i], 0.01, 100,
					 &t->lifetime_years);
			have_life = true;
		} else if (!strcasecmp(k, "CPUs")) {
			rc = fp_config_key_uint(c, &kv[i], 1, 1u << 20,
						&t->cpus);
		} else if (!strcasecmp(k, "EmbodiedSource")) {
			rc = fp_config_key_dup(c, &t->source, kv[i].val);
		} else {
			rc = _unknown_key(c, "NodeType", k);
		}
		if (rc)
			return -1;
	}
	if (!t->nodes || !have_emb || !have_life || !t->cpus)
		return FAIL(c, FP_EINVAL,
			    "%s:%u: NodeType '%s': field '%s' is "
			    "required",
			    c->name, c->line, t->name,
			    !t->nodes	 ? "Nodes"
			    : !have_emb	 ? "Embodied"
			    : !have_life ? "Lifetime"
					 : "CPUs");
	return 0;
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
	for (size_t i = 1; i < n; i++) {
		const char *k = kv[i].key;
		int rc;

		if (!strcasecmp(k, "PUE")) {
			rc = _get_double(c, &kv[i], 1.0, 10.0, &r->pue);
		} else if (!strcasecmp(k, "PUESource")) {
			rc = fp_config_key_dup(c, &r->pue_source, kv[i].val);
		} else if (!strcasecmp(k, "Intensity")) {
			r->same_grid = !strcasecmp(kv[i].val, "site");
			if (r->same_grid) {
				fp_config_spec_free(&r->intensity);
				rc = 0;
			} else {
				rc = _parse_signal(c, &kv[i], &r->intensity,
						   false);
			}
		} else if (!strcasecmp(k, "IntensityKind")) {
			rc = _parse_kind(c, &kv[i], &r->intensity.kind);
		} else if (!strcasecmp(k, "IntensityFormat")) {
			rc = _parse_format(c, &kv[i], &r->intensity.format);
		} else if (!strcasecmp(k, "IntensityResolution")) {
			rc = _parse_resolution(c, &kv[i], &r->intensity.hourly);
		} else {
			rc = _unknown_key(c, "Reference", k);
		}
		if (rc)
			return -1;
	}
	return 0;
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
