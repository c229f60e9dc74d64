/* Parses footprint.conf: Slurm-style lines of Key=Value pairs, one entity
 * (Site, NodeType, Reference) per line, other keys global. */
#include "footprint/config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "footprint/option.h"
#include "footprint/utf8.h"

/* Sources are cited in docs/methodology.md; the summary carries them. */
static const fp_preset_t presets[] = {
	{ "gas", 227,
	  "ADEME Base Carbone: natural gas, France, combustion + upstream "
	  "(LCA), 0.227 kgCO2e/kWh PCI" },
	{ "fuel-oil", 324,
	  "ADEME Base Carbone: domestic fuel oil, combustion + upstream "
	  "(LCA), 0.324 kgCO2e/kWh PCI" },
	{ "electric", 79,
	  "RE2020 (arrete du 4 aout 2021), monthly method, electric "
	  "heating: 79 gCO2e/kWh" },
	{ "district", 116,
	  "French district heating networks, average content: 116 "
	  "gCO2e/kWh (ADEME/SNCU figure used by the DPE)" },
	{ "heat-pump", 26,
	  "RE2020 electric heating 79 gCO2e/kWh divided by a seasonal COP "
	  "of 3.0 (air-to-water heat pump, EN 14825 average climate)" },
	{ "none", 0, "no heating displaced" },
};

const fp_preset_t *fp_config_displaced_presets(size_t *n)
{
	if (n)
		*n = sizeof(presets) / sizeof(presets[0]);
	return presets;
}

const fp_preset_t *fp_config_displaced_preset(const char *name)
{
	char canon[32];
	size_t i;

	for (i = 0; name[i] && i < sizeof(canon) - 1; i++)
		canon[i] = name[i] == '_'
				   ? '-'
				   : (char)tolower((unsigned char)name[i]);
	if (name[i])
		return NULL;
	canon[i] = '\0';
	for (i = 0; i < sizeof(presets) / sizeof(presets[0]); i++)
		if (!strcmp(canon, presets[i].name))
			return &presets[i];
	return NULL;
}

/* SHA-256 of data as 64 lowercase hex digits (the configuration digest). */
static int _sha256_hex(const void *data, size_t len, char out[65],
		       fp_error_t *err)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;

	fp_error_clear(err);
	if (!EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL) ||
	    mdlen != 32)
		return fp_error_set(err, FP_ENOTSUP, "SHA-256 unavailable");
	for (unsigned i = 0; i < mdlen; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
	return 0;
}

static void spec_free(fp_signal_spec_t *s)
{
	free(s->text);
	free(s->path);
	free(s->error);
	fp_series_free(s->series);
	memset(s, 0, sizeof(*s));
}

void fp_config_free(fp_config_t *cfg)
{
	if (!cfg)
		return;
	for (size_t i = 0; i < cfg->nsites; i++) {
		fp_site_conf_t *s = &cfg->sites[i];

		free(s->name);
		free(s->nodes);
		spec_free(&s->intensity);
		free(s->displaced);
		free(s->displaced_source);
		spec_free(&s->useful_heat);
		free(s->feed.provider);
		free(s->feed.zone);
		free(s->feed.url);
		free(s->feed.token_file);
		free(s->feed.proxy);
	}
	free(cfg->sites);
	for (size_t i = 0; i < cfg->nnode_types; i++) {
		free(cfg->node_types[i].name);
		free(cfg->node_types[i].nodes);
		free(cfg->node_types[i].source);
	}
	free(cfg->node_types);
	free(cfg->reference.name);
	free(cfg->reference.pue_source);
	spec_free(&cfg->reference.intensity);
	free(cfg->path);
	free(cfg->signing_key);
	free(cfg->public_key);
	for (size_t i = 0; i < cfg->npublic_keys; i++)
		free(cfg->public_keys[i]);
	free(cfg->public_keys);
	for (size_t i = 0; i < cfg->npublic_key_dirs; i++)
		free(cfg->public_key_dirs[i]);
	free(cfg->public_key_dirs);
	free(cfg->spool_dir);
	free(cfg->job_record_field);
	free(cfg->energy_source);
	free(cfg->mailer);
	free(cfg->sendmail);
	free(cfg->node_parts_dir);
	free(cfg->metrics);
	free(cfg);
}

/* One Key=Value pair of a line. */
struct kv {
	char *key;
	char *val;
};

struct ctx {
	const char *name;
	char *dir; /* for relative paths */
	unsigned line;
	fp_config_t *cfg;
	fp_error_t *err;
	bool reference_seen;
	unsigned global_line[24]; /* where each of globals[] was given */
};

/* The global keys that hold one value: a second one is an error, not a
 * silent override. PublicKey and PublicKeys add to a list instead. */
static const char *const globals[] = {
	"SigningKey", "SpoolDir",      "JobRecordField", "MaxWorkers",
	"MaxQueue",   "WorkerTimeout", "RetryInterval",	 "EnergySource",
	"Mailer",     "MailWait",      "SeriesWait",	 "NodePartsDir",
	"PartsWait",  "MailHTML",      "Sendmail",	 "Metrics",
	NULL,
};

#define FAIL(c, code, ...) fp_error_set((c)->err, code, __VA_ARGS__)

/* Splits "A=b C="d e" # x" into pairs, in place. */
static int split_pairs(struct ctx *c, char *line, struct kv **kvs, size_t *cap,
		       size_t *n)
{
	char *p = line;

	*n = 0;
	for (;;) {
		char *key, *val, *w;
		bool stop;

		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			return 0;
		key = p;
		while (*p && *p != '=' && !isspace((unsigned char)*p))
			p++;
		if (*p != '=')
			return FAIL(c, FP_EPARSE,
				    "%s:%u: '%.*s': expected Key=Value",
				    c->name, c->line, (int)(p - key), key);
		*p++ = '\0';
		if (!*key)
			return FAIL(c, FP_EPARSE, "%s:%u: '=' without a key",
				    c->name, c->line);
		val = w = p;
		if (*p == '"') {
			p++;
			while (*p && *p != '"')
				*w++ = *p++;
			if (*p != '"')
				return FAIL(c, FP_EPARSE,
					    "%s:%u: field '%s': unterminated "
					    "quote",
					    c->name, c->line, key);
			p++;
			if (*p && !isspace((unsigned char)*p) && *p != '#')
				return FAIL(c, FP_EPARSE,
					    "%s:%u: field '%s': text after "
					    "the closing quote",
					    c->name, c->line, key);
		} else {
			while (*p && !isspace((unsigned char)*p) && *p != '#')
				*w++ = *p++;
		}
		stop = !*p || *p == '#';
		if (!stop)
			p++;
		*w = '\0';
		if (*n == *cap) {
			size_t nc = *cap ? *cap * 2 : 8;
			struct kv *nk = realloc(*kvs, nc * sizeof(*nk));

			if (!nk)
				return FAIL(c, FP_ENOMEM, "out of memory");
			*kvs = nk;
			*cap = nc;
		}
		(*kvs)[*n].key = key;
		(*kvs)[(*n)++].val = val;
		if (stop)
			return 0;
	}
}

static int dup_str(struct ctx *c, char **dst, const char *src)
{
	char *s = strdup(src);

	if (!s)
		return FAIL(c, FP_ENOMEM, "out of memory");
	free(*dst);
	*dst = s;
	return 0;
}

static int get_double(struct ctx *c, const struct kv *kv, double lo, double hi,
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

static int get_uint(struct ctx *c, const struct kv *kv, unsigned lo,
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

static int resolve_path(struct ctx *c, const char *p, char **out)
{
	size_t n;

	if (!*p)
		return FAIL(c, FP_EINVAL, "%s:%u: empty file name", c->name,
			    c->line);
	if (p[0] == '/' || !c->dir)
		return dup_str(c, out, p);
	n = strlen(c->dir) + strlen(p) + 2;
	free(*out);
	*out = malloc(n);
	if (!*out)
		return FAIL(c, FP_ENOMEM, "out of memory");
	snprintf(*out, n, "%s/%s", c->dir, p);
	return 0;
}

/* Slurm would refuse a malformed Nodes= only when a node is looked up
 * ("node n1 is in no Site"): said here, at its line. Brackets hold ranges
 * of digits, lo-hi with lo <= hi, comma separated; no nesting. */
static int check_hostlist(struct ctx *c, const struct kv *kv)
{
	const char *p = kv->val, *why = NULL;

	if (!*p)
		why = "empty";
	while (*p && !why) {
		if (*p == ']') {
			why = "']' without '['";
		} else if (*p == '[') {
			for (p++; !why;) {
				char *end;
				unsigned long lo, hi;

				if (!isdigit((unsigned char)*p)) {
					why = *p ? "a range must be digits, "
						   "like [1-4,7]"
						 : "'[' without ']'";
					break;
				}
				lo = hi = strtoul(p, &end, 10);
				p = end;
				if (*p == '-') {
					if (!isdigit((unsigned char)p[1])) {
						why = "a range must be digits, "
						      "like [1-4,7]";
						break;
					}
					hi = strtoul(p + 1, &end, 10);
					p = end;
				}
				if (hi < lo)
					why = "a range goes down (write "
					      "[lo-hi])";
				else if (*p == ',')
					p++;
				else if (*p == ']')
					break;
				else
					why = *p ? "a range must be digits, "
						   "like [1-4,7]"
						 : "'[' without ']'";
			}
		} else if (isspace((unsigned char)*p)) {
			why = "contains a space";
		} else if (*p == ',' &&
			   (p == kv->val || p[1] == ',' || !p[1])) {
			/* "n[1-4],," would be read as n1..n4 and nothing. */
			why = "empty name";
		}
		if (*p)
			p++;
	}
	if (why)
		return FAIL(c, FP_EINVAL,
			    "%s:%u: field '%s': '%s' is not a "
			    "hostlist: %s",
			    c->name, c->line, kv->key, kv->val, why);
	return 0;
}

/* Appends the resolved path p to a list (keys may be given many times). */
static int add_path(struct ctx *c, const char *p, char ***list, size_t *n)
{
	char *path = NULL, **l;

	if (resolve_path(c, p, &path))
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
static int parse_months(struct ctx *c, const struct kv *kv, const char *s,
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
static int parse_signal(struct ctx *c, const struct kv *kv,
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

	spec_free(spec);
	spec->format = format;
	spec->kind = kind;
	spec->hourly = hourly;
	if (dup_str(c, &spec->text, kv->val))
		return -1;
	if (!strncasecmp(kv->val, "file:", 5))
		return resolve_path(c, kv->val + 5, &spec->path);
	if (fraction && !strncasecmp(kv->val, "months:", 7)) {
		if (parse_months(c, kv, kv->val + 7, &months))
			return -1;
		spec->series = fp_series_new_months(kv->val, months);
	} else {
		if (get_double(c, kv, 0, fraction ? 1 : FP_SERIES_MAX_VALUE,
			       &v))
			return -1;
		snprintf(name, sizeof(name), "constant:%s", kv->val);
		spec->series = fp_series_new_constant(name, v);
	}
	if (!spec->series)
		return FAIL(c, FP_ENOMEM, "out of memory");
	return 0;
}

static int parse_kind(struct ctx *c, const struct kv *kv,
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
static int parse_resolution(struct ctx *c, const struct kv *kv, bool *hourly)
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

static int parse_format(struct ctx *c, const struct kv *kv,
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
static int parse_feed(struct ctx *c, const struct kv *kv, fp_feed_spec_t *f)
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
	if (dup_str(c, &f->provider, providers[i]))
		return -1;
	free(f->zone);
	f->zone = NULL;
	return zone ? dup_str(c, &f->zone, zone) : 0;
}

static int unknown_key(struct ctx *c, const char *entity, const char *key)
{
	return FAIL(c, FP_EINVAL,
		    "%s:%u: field '%s': unknown key on a %s "
		    "line",
		    c->name, c->line, key, entity);
}

static int parse_site(struct ctx *c, struct kv *kv, size_t n)
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
	if (dup_str(c, &s->name, kv[0].val) ||
	    dup_str(c, &s->displaced, "none") ||
	    dup_str(c, &s->displaced_source,
		    fp_config_displaced_preset("none")->source))
		return -1;
	for (size_t i = 1; i < n; i++) {
		const char *k = kv[i].key;
		int rc;

		if (!strcasecmp(k, "Nodes"))
			rc = check_hostlist(c, &kv[i]) ||
			     dup_str(c, &s->nodes, kv[i].val);
		else if (!strcasecmp(k, "Intensity"))
			rc = parse_signal(c, &kv[i], &s->intensity, false);
		else if (!strcasecmp(k, "IntensityKind"))
			rc = parse_kind(c, &kv[i], &s->intensity.kind);
		else if (!strcasecmp(k, "IntensityFormat"))
			rc = parse_format(c, &kv[i], &s->intensity.format);
		else if (!strcasecmp(k, "IntensityResolution"))
			rc = parse_resolution(c, &kv[i], &s->intensity.hourly);
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
			rc = get_double(c, &kv[i], 1.0, 10.0, &s->pue);
		else if (!strcasecmp(k, "HeatRecovery"))
			rc = get_double(c, &kv[i], 0, 1, &s->heat_recovery);
		else if (!strcasecmp(k, "UsefulHeat"))
			rc = parse_signal(c, &kv[i], &s->useful_heat, true);
		else if (!strcasecmp(k, "UsefulHeatFormat"))
			rc = parse_format(c, &kv[i], &s->useful_heat.format);
		else if (!strcasecmp(k, "DisplacedHeating")) {
			const fp_preset_t *p =
				fp_config_displaced_preset(kv[i].val);

			if (p) {
				s->displaced_gco2e_per_kwh = p->gco2e_per_kwh;
				rc = dup_str(c, &s->displaced, p->name) ||
				     dup_str(c, &s->displaced_source,
					     p->source);
			} else if (isdigit((unsigned char)kv[i].val[0]) ||
				   kv[i].val[0] == '.') {
				rc = get_double(c, &kv[i], 0,
						FP_SERIES_MAX_VALUE,
						&s->displaced_gco2e_per_kwh) ||
				     dup_str(c, &s->displaced, "custom") ||
				     dup_str(c, &s->displaced_source,
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
			rc = parse_feed(c, &kv[i], &s->feed);
		} else if (!strcasecmp(k, "FeedURL")) {
			rc = strncasecmp(kv[i].val, "http://", 7) &&
					     strncasecmp(kv[i].val, "https://",
							 8)
				     ? FAIL(c, FP_EINVAL,
					    "%s:%u: field '%s': '%s' is "
					    "not an http:// or https:// URL",
					    c->name, c->line, k, kv[i].val)
				     : dup_str(c, &s->feed.url, kv[i].val);
		} else if (!strcasecmp(k, "FeedTokenFile")) {
			rc = resolve_path(c, kv[i].val, &s->feed.token_file);
		} else if (!strcasecmp(k, "FeedProxy")) {
			rc = dup_str(c, &s->feed.proxy, kv[i].val);
		} else {
			rc = unknown_key(c, "Site", k);
		}
		if (rc)
			return -1;
	}
	if (source && dup_str(c, &s->displaced_source, source))
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
		    dup_str(c, &s->useful_heat.text, "0"))
			return FAIL(c, FP_ENOMEM, "out of memory");
	}
	return 0;
}

static int parse_node_type(struct ctx *c, struct kv *kv, size_t n)
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
	if (dup_str(c, &t->name, kv[0].val) ||
	    dup_str(c, &t->source, "site value (no source given)"))
		return -1;
	for (size_t i = 1; i < n; i++) {
		const char *k = kv[i].key;
		int rc;

		if (!strcasecmp(k, "Nodes")) {
			rc = check_hostlist(c, &kv[i]) ||
			     dup_str(c, &t->nodes, kv[i].val);
		} else if (!strcasecmp(k, "Embodied")) {
			rc = get_double(c, &kv[i], 0, 1e7, &t->embodied_kg);
			have_emb = true;
		} else if (!strcasecmp(k, "Lifetime")) {
			rc = get_double(c, &kv[i], 0.01, 100,
					&t->lifetime_years);
			have_life = true;
		} else if (!strcasecmp(k, "CPUs")) {
			rc = get_uint(c, &kv[i], 1, 1u << 20, &t->cpus);
		} else if (!strcasecmp(k, "EmbodiedSource")) {
			rc = dup_str(c, &t->source, kv[i].val);
		} else {
			rc = unknown_key(c, "NodeType", k);
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

static int parse_reference(struct ctx *c, struct kv *kv, size_t n)
{
	fp_reference_t *r = &c->cfg->reference;

	if (c->reference_seen)
		return FAIL(c, FP_EINVAL,
			    "%s:%u: field 'Reference': only one "
			    "Reference line is allowed",
			    c->name, c->line);
	c->reference_seen = true;
	r->line = c->line;
	if (dup_str(c, &r->name, kv[0].val))
		return -1;
	for (size_t i = 1; i < n; i++) {
		const char *k = kv[i].key;
		int rc;

		if (!strcasecmp(k, "PUE")) {
			rc = get_double(c, &kv[i], 1.0, 10.0, &r->pue);
		} else if (!strcasecmp(k, "PUESource")) {
			rc = dup_str(c, &r->pue_source, kv[i].val);
		} else if (!strcasecmp(k, "Intensity")) {
			r->same_grid = !strcasecmp(kv[i].val, "site");
			if (r->same_grid) {
				spec_free(&r->intensity);
				rc = 0;
			} else {
				rc = parse_signal(c, &kv[i], &r->intensity,
						  false);
			}
		} else if (!strcasecmp(k, "IntensityKind")) {
			rc = parse_kind(c, &kv[i], &r->intensity.kind);
		} else if (!strcasecmp(k, "IntensityFormat")) {
			rc = parse_format(c, &kv[i], &r->intensity.format);
		} else if (!strcasecmp(k, "IntensityResolution")) {
			rc = parse_resolution(c, &kv[i], &r->intensity.hourly);
		} else {
			rc = unknown_key(c, "Reference", k);
		}
		if (rc)
			return -1;
	}
	return 0;
}

static int parse_global(struct ctx *c, struct kv *kv)
{
	fp_config_t *cfg = c->cfg;
	const char *k = kv->key;

	for (size_t i = 0; globals[i]; i++) {
		if (strcasecmp(k, globals[i]))
			continue;
		if (c->global_line[i])
			return FAIL(c, FP_EINVAL,
				    "%s:%u: field '%s': already "
				    "given on line %u",
				    c->name, c->line, k, c->global_line[i]);
		c->global_line[i] = c->line;
	}

	if (!strcasecmp(k, "SigningKey"))
		return resolve_path(c, kv->val, &cfg->signing_key);
	/* Several keys may be trusted at once: a rotation keeps the retired
	 * ones so that older summaries still verify. */
	if (!strcasecmp(k, "PublicKey"))
		return add_path(c, kv->val, &cfg->public_keys,
				&cfg->npublic_keys) ||
		       (!cfg->public_key &&
			dup_str(c, &cfg->public_key,
				cfg->public_keys[cfg->npublic_keys - 1]));
	if (!strcasecmp(k, "PublicKeys"))
		return add_path(c, kv->val, &cfg->public_key_dirs,
				&cfg->npublic_key_dirs);
	if (!strcasecmp(k, "SpoolDir"))
		return resolve_path(c, kv->val, &cfg->spool_dir);
	if (!strcasecmp(k, "JobRecordField")) {
		/* The job's Comment cannot be changed through slurmdbd's job
		 * modify in 22.05: only these two can. */
		if (strcasecmp(kv->val, "AdminComment") &&
		    strcasecmp(kv->val, "SystemComment"))
			return FAIL(c, FP_EINVAL,
				    "%s:%u: field '%s': '%s' is "
				    "not AdminComment or SystemComment",
				    c->name, c->line, k, kv->val);
		return dup_str(c, &cfg->job_record_field, kv->val);
	}
	if (!strcasecmp(k, "MaxWorkers"))
		return get_uint(c, kv, 1, 64, &cfg->max_workers);
	if (!strcasecmp(k, "MaxQueue"))
		return get_uint(c, kv, 1, 1u << 20, &cfg->max_queue);
	if (!strcasecmp(k, "WorkerTimeout"))
		return get_uint(c, kv, 1, 86400, &cfg->worker_timeout);
	if (!strcasecmp(k, "RetryInterval"))
		return get_uint(c, kv, 1, 86400, &cfg->retry_interval);
	if (!strcasecmp(k, "EnergySource")) {
		if (strcasecmp(kv->val, "measured") &&
		    strcasecmp(kv->val, "calibrated") &&
		    strcasecmp(kv->val, "simulated"))
			return FAIL(c, FP_EINVAL,
				    "%s:%u: field '%s': '%s' is "
				    "not measured, calibrated or simulated",
				    c->name, c->line, k, kv->val);
		return dup_str(c, &cfg->energy_source, kv->val);
	}
	if (!strcasecmp(k, "Mailer"))
		return resolve_path(c, kv->val, &cfg->mailer);
	if (!strcasecmp(k, "MailWait"))
		return get_uint(c, kv, 0, 3600, &cfg->mail_wait);
	if (!strcasecmp(k, "SeriesWait"))
		return get_uint(c, kv, 0, 7 * 86400, &cfg->series_wait);
	if (!strcasecmp(k, "MailHTML")) {
		static const char *const v[] = { "no", "alternative",
						 "attachment" };
		bool b = true;

		/* "no" in every spelling of a boolean's no; a yes would not
		 * say which of the two forms. */
		if (!fp_option_bool(kv->val, &b) && !b) {
			cfg->mail_html = FP_MAIL_HTML_NO;
			return 0;
		}
		for (size_t i = 1; i < sizeof(v) / sizeof(v[0]); i++)
			if (!strcasecmp(kv->val, v[i])) {
				cfg->mail_html = (fp_mail_html_t)i;
				return 0;
			}
		return FAIL(c, FP_EINVAL,
			    "%s:%u: field '%s': '%s' is not no "
			    "(false, off, 0), alternative or attachment",
			    c->name, c->line, k, kv->val);
	}
	if (!strcasecmp(k, "Sendmail"))
		return resolve_path(c, kv->val, &cfg->sendmail);
	if (!strcasecmp(k, "NodePartsDir"))
		return resolve_path(c, kv->val, &cfg->node_parts_dir);
	if (!strcasecmp(k, "PartsWait"))
		return get_uint(c, kv, 0, 86400, &cfg->parts_wait);
	if (!strcasecmp(k, "Metrics"))
		return resolve_path(c, kv->val, &cfg->metrics);
	return FAIL(c, FP_EINVAL, "%s:%u: field '%s': unknown key", c->name,
		    c->line, k);
}

/* The names of a checked hostlist, expanded (n[01-03] is n01 n02 n03), for
 * the one check that needs them; -1 past *budget names or on ENOMEM. */
struct names {
	char **v;
	size_t n, cap, budget;
};

static int add_name(struct names *ns, const char *name)
{
	if (ns->n >= ns->budget)
		return -1;
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? 2 * ns->cap : 64;
		char **v = realloc(ns->v, cap * sizeof(*v));

		if (!v)
			return -1;
		ns->v = v;
		ns->cap = cap;
	}
	if (!(ns->v[ns->n] = strdup(name)))
		return -1;
	ns->n++;
	return 0;
}

static int expand_item(struct names *ns, char *out, size_t used, size_t size,
		       const char *p, const char *end)
{
	const char *open = memchr(p, '[', (size_t)(end - p)), *close;

	if (!open) {
		if (used + (size_t)(end - p) >= size)
			return -1;
		memcpy(out + used, p, (size_t)(end - p));
		out[used + (size_t)(end - p)] = '\0';
		return add_name(ns, out);
	}
	close = memchr(open, ']', (size_t)(end - open));
	if (!close || used + (size_t)(open - p) >= size)
		return -1;
	memcpy(out + used, p, (size_t)(open - p));
	used += (size_t)(open - p);
	for (const char *r = open + 1; r < close;) {
		char *e;
		unsigned long lo = strtoul(r, &e, 10), hi = lo;
		int width = (int)(e - r);

		if (*e == '-')
			hi = strtoul(e + 1, &e, 10);
		for (unsigned long k = lo; k <= hi; k++) {
			int w = snprintf(out + used, size - used, "%0*lu",
					 width, k);

			if (w < 0 || (size_t)w >= size - used ||
			    expand_item(ns, out, used + (size_t)w, size,
					close + 1, end))
				return -1;
		}
		r = *e == ',' ? e + 1 : e;
	}
	return 0;
}

static int expand_hostlist(struct names *ns, const char *hl)
{
	char out[512];

	for (const char *p = hl; *p;) {
		const char *q = p;
		int depth = 0;

		for (; *q && (depth || *q != ','); q++)
			depth += *q == '[' ? 1 : *q == ']' ? -1 : 0;
		if (expand_item(ns, out, 0, sizeof(out), p, q))
			return -1;
		p = *q ? q + 1 : q;
	}
	return 0;
}

static void free_names(struct names *ns)
{
	for (size_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
}

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* A node in two NodeType lines would take the first one's embodied figure
 * silently: an error naming both lines. Hostlists too large to expand
 * (over a million names) are left unchecked. */
static int check_node_types(struct ctx *c)
{
	const fp_config_t *cfg = c->cfg;
	int rc = 0;

	for (size_t i = 0; i + 1 < cfg->nnode_types && !rc; i++) {
		struct names a = { .budget = 1u << 20 };

		if (expand_hostlist(&a, cfg->node_types[i].nodes)) {
			free_names(&a);
			continue;
		}
		qsort(a.v, a.n, sizeof(*a.v), cmp_name);
		for (size_t j = i + 1; j < cfg->nnode_types && !rc; j++) {
			struct names b = { .budget = 1u << 20 };
			const fp_node_type_t *t = &cfg->node_types[j];

			if (!expand_hostlist(&b, t->nodes))
				for (size_t k = 0; k < b.n && !rc; k++)
					if (bsearch(&b.v[k], a.v, a.n,
						    sizeof(*a.v), cmp_name))
						rc = FAIL(
							c, FP_EINVAL,
							"%s:%u: "
							"NodeType '%s': node "
							"'%s' is also in "
							"NodeType '%s' of "
							"line %u",
							c->name, t->line,
							t->name, b.v[k],
							cfg->node_types[i].name,
							cfg->node_types[i].line);
			free_names(&b);
		}
		free_names(&a);
	}
	return rc;
}

static int parse_line(struct ctx *c, char *line, struct kv **kvs, size_t *cap)
{
	size_t n;
	struct kv *kv;

	if (split_pairs(c, line, kvs, cap, &n))
		return -1;
	if (!n)
		return 0;
	kv = *kvs;
	for (size_t i = 1; i < n; i++)
		for (size_t j = 0; j < i; j++)
			if (!strcasecmp(kv[i].key, kv[j].key) &&
			    strcasecmp(kv[i].key, "PublicKey") &&
			    strcasecmp(kv[i].key, "PublicKeys"))
				return FAIL(c, FP_EINVAL,
					    "%s:%u: field '%s': "
					    "given twice on the line",
					    c->name, c->line, kv[i].key);
	if (!strcasecmp(kv[0].key, "Site"))
		return parse_site(c, kv, n);
	if (!strcasecmp(kv[0].key, "NodeType"))
		return parse_node_type(c, kv, n);
	if (!strcasecmp(kv[0].key, "Reference"))
		return parse_reference(c, kv, n);
	for (size_t i = 0; i < n; i++)
		if (parse_global(c, &kv[i]))
			return -1;
	return 0;
}

static int set_defaults(struct ctx *c)
{
	fp_config_t *cfg = c->cfg;

	cfg->reference.pue = FP_DEFAULT_REFERENCE_PUE;
	cfg->reference.same_grid = true;
	cfg->max_workers = FP_DEFAULT_MAX_WORKERS;
	cfg->max_queue = FP_DEFAULT_MAX_QUEUE;
	cfg->worker_timeout = FP_DEFAULT_WORKER_TIMEOUT;
	cfg->mail_wait = 30;
	cfg->retry_interval = 10;
	cfg->series_wait = FP_DEFAULT_SERIES_WAIT;
	cfg->parts_wait = FP_DEFAULT_PARTS_WAIT;
	return dup_str(c, &cfg->energy_source, "measured") ||
	       dup_str(c, &cfg->mailer, "/usr/bin/mail") ||
	       dup_str(c, &cfg->sendmail, "/usr/sbin/sendmail") ||
	       dup_str(c, &cfg->reference.name, FP_DEFAULT_REFERENCE_NAME) ||
	       dup_str(c, &cfg->reference.pue_source,
		       "Uptime Institute Global Data Center Survey 2023: "
		       "average PUE 1.58, rounded to 1.5") ||
	       dup_str(c, &cfg->spool_dir, FP_DEFAULT_SPOOL_DIR) ||
	       dup_str(c, &cfg->job_record_field, FP_DEFAULT_JOB_RECORD_FIELD);
}

fp_config_t *fp_config_parse(const char *name, const char *text, size_t len,
			     fp_error_t *err)
{
	struct ctx c = { .name = name, .err = err };
	struct kv *kvs = NULL;
	size_t cap = 0;
	char *buf, *line, *next, *slash;
	size_t bad;
	int rc = 0;

	fp_error_clear(err);
	c.cfg = calloc(1, sizeof(*c.cfg));
	buf = malloc(len + 1);
	if (!c.cfg || !buf || !(c.cfg->path = strdup(name)) ||
	    set_defaults(&c)) {
		free(buf);
		fp_config_free(c.cfg);
		fp_error_set(err, FP_ENOMEM, "%s: out of memory", name);
		return NULL;
	}
	if (_sha256_hex(text, len, c.cfg->digest, err)) {
		free(buf);
		fp_config_free(c.cfg);
		return NULL;
	}
	slash = strrchr(name, '/');
	if (slash)
		c.dir = strndup(name, (size_t)(slash - name));
	memcpy(buf, text, len);
	buf[len] = '\0';
	if (memchr(text, '\0', len))
		rc = FAIL(&c, FP_EPARSE, "%s: contains a NUL byte", name);
	for (line = buf; line && !rc; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		c.line++;
		/* jansson would refuse such a name later, silently */
		if (!fp_utf8_valid(line, strlen(line), &bad))
			rc = FAIL(&c, FP_EPARSE,
				  "%s:%u: byte %zu (0x%02x) is "
				  "not UTF-8: write the file in UTF-8",
				  name, c.line, bad + 1,
				  (unsigned char)line[bad]);
		else
			rc = parse_line(&c, line, &kvs, &cap);
	}
	if (!rc && !c.cfg->nsites)
		rc = FAIL(&c, FP_EINVAL, "%s: no Site line", name);
	if (!rc)
		rc = check_node_types(&c);
	free(kvs);
	free(buf);
	free(c.dir);
	if (rc) {
		fp_config_free(c.cfg);
		return NULL;
	}
	return c.cfg;
}

fp_config_t *fp_config_load(const char *path, fp_error_t *err)
{
	FILE *f = fopen(path, "rb");
	char *text = NULL;
	size_t len = 0, cap = 0, got;
	fp_config_t *cfg;

	fp_error_clear(err);
	if (!f) {
		fp_error_set(err, FP_EIO, "%s: cannot open: %s", path,
			     strerror(errno));
		return NULL;
	}
	do {
		if (cap - len < 4096) {
			char *nt = realloc(text, cap + 65536);

			if (!nt) {
				free(text);
				fclose(f);
				fp_error_set(err, FP_ENOMEM, "out of memory");
				return NULL;
			}
			text = nt;
			cap += 65536;
		}
		got = fread(text + len, 1, cap - len, f);
		len += got;
	} while (got);
	if (ferror(f)) {
		free(text);
		fclose(f);
		fp_error_set(err, FP_EIO, "%s: read error", path);
		return NULL;
	}
	fclose(f);
	cfg = fp_config_parse(path, text, len, err);
	free(text);
	return cfg;
}

/* The error names the line that uses the file: an admin with several
 * sites sharing a folder of series must know which one to fix. */
static int load_spec(const fp_config_t *cfg, const char *what, const char *name,
		     unsigned line, const char *field, fp_signal_spec_t *spec,
		     bool fraction, fp_error_t *err)
{
	fp_error_t e = { 0 };

	if (!spec->path || spec->series)
		return 0;
	free(spec->error);
	spec->error = NULL;
	spec->series = fp_series_load(spec->path, spec->format, spec->kind, &e);
	if (spec->series && spec->hourly &&
	    fp_series_average_hours(spec->series, &e)) {
		fp_series_free(spec->series);
		spec->series = NULL;
	}
	if (spec->series && fraction &&
	    fp_series_check_range(spec->series, 0, 1, &e)) {
		fp_series_free(spec->series);
		spec->series = NULL;
	}
	if (spec->series)
		return 0;
	fp_error_set(err, e.code, "%s:%u: %s '%s': field '%s': %s", cfg->path,
		     line, what, name, field, e.msg);
	spec->error = strdup(err->msg); /* NULL: the caller says "not
					 * loaded" without the reason */
	return -1;
}

int fp_config_load_series(fp_config_t *cfg, fp_error_t *err)
{
	fp_error_t e = { 0 };
	size_t bad = 0;

	fp_error_clear(err);
	/* Every file is tried: a broken one leaves only its own site
	 * without a series (spec->error says why). */
	for (size_t i = 0; i < cfg->nsites; i++) {
		fp_site_conf_t *s = &cfg->sites[i];

		if (load_spec(cfg, "Site", s->name, s->line, "Intensity",
			      &s->intensity, false, &e) &&
		    !bad++ && err)
			*err = e;
		if (load_spec(cfg, "Site", s->name, s->line, "UsefulHeat",
			      &s->useful_heat, true, &e) &&
		    !bad++ && err)
			*err = e;
	}
	if (!cfg->reference.same_grid &&
	    load_spec(cfg, "Reference", cfg->reference.name,
		      cfg->reference.line, "Intensity",
		      &cfg->reference.intensity, false, &e) &&
	    !bad++ && err)
		*err = e;
	return bad ? -1 : 0;
}

/* A file spec left without its series by fp_config_load_series. */
static const char *spec_error(const fp_signal_spec_t *spec)
{
	if (!spec->path || spec->series)
		return NULL;
	return spec->error ? spec->error : "series not loaded (out of memory)";
}

const char *fp_config_series_error(const fp_config_t *cfg, size_t i)
{
	const char *e;

	for (size_t k = 0; k < cfg->nsites; k++) {
		if ((e = spec_error(&cfg->sites[k].intensity)) && !i--)
			return e;
		if ((e = spec_error(&cfg->sites[k].useful_heat)) && !i--)
			return e;
	}
	if (!cfg->reference.same_grid &&
	    (e = spec_error(&cfg->reference.intensity)) && !i--)
		return e;
	return NULL;
}

const fp_site_conf_t *fp_config_site_for(const fp_config_t *cfg,
					 const char *node,
					 fp_hostlist_match_fn match, void *ctx)
{
	for (size_t i = 0; i < cfg->nsites; i++)
		if (match(cfg->sites[i].nodes, node, ctx))
			return &cfg->sites[i];
	return NULL;
}

const fp_node_type_t *fp_config_node_type_for(const fp_config_t *cfg,
					      const char *node,
					      fp_hostlist_match_fn match,
					      void *ctx)
{
	for (size_t i = 0; i < cfg->nnode_types; i++)
		if (match(cfg->node_types[i].nodes, node, ctx))
			return &cfg->node_types[i];
	return NULL;
}

fp_config_t *fp_config_load_essentials(const char *path)
{
	static const char *const keep[] = { "SigningKey",     "SpoolDir",
					    "JobRecordField", "EnergySource",
					    "WorkerTimeout",  NULL };
	char line[4096], *text = NULL;
	bool seen[8] = { false };
	size_t len = 0;
	FILE *f = fopen(path, "r"), *out = open_memstream(&text, &len);
	fp_config_t *cfg;

	if (!f || !out) {
		if (f)
			fclose(f);
		if (out)
			fclose(out);
		free(text);
		return NULL;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line + strspn(line, " \t");

		/* The first of a key given twice, as the full parse would
		 * refuse the second. */
		for (int i = 0; keep[i]; i++)
			if (!strncasecmp(p, keep[i], strlen(keep[i])) &&
			    p[strlen(keep[i])] == '=' && !strchr(p, ' ') &&
			    !seen[i]) {
				seen[i] = true;
				fputs(p, out);
			}
	}
	fclose(f);
	fputs("\nSite=unconfigured Nodes=none Intensity=0\n", out);
	fclose(out);
	cfg = fp_config_parse(path, text, len, NULL);
	free(text);
	if (cfg && !cfg->signing_key) {
		fp_config_free(cfg);
		return NULL;
	}
	return cfg;
}

int fp_config_hostlist_match_plain(const char *hostlist, const char *node,
				   void *ctx)
{
	size_t n = strlen(node);

	(void)ctx;
	for (const char *p = hostlist; p && *p;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len == n && !strncmp(p, node, n))
			return 1;
		p = end ? end + 1 : NULL;
	}
	return 0;
}
