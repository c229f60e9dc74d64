/* footprint.conf as a whole: loaded from its file (all of it, or only the
 * essentials), its series files, a node's site and type, presets, freeing. */
#include "footprint/config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_parse.h"

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

void fp_config_spec_free(fp_signal_spec_t *s)
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
		fp_config_spec_free(&s->intensity);
		free(s->displaced);
		free(s->displaced_source);
		fp_config_spec_free(&s->useful_heat);
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
	fp_config_spec_free(&cfg->reference.intensity);
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
static int _load_spec(const fp_config_t *cfg, const char *what,
		      const char *name, unsigned line, const char *field,
		      fp_signal_spec_t *spec, bool fraction, fp_error_t *err)
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

		if (_load_spec(cfg, "Site", s->name, s->line, "Intensity",
			       &s->intensity, false, &e) &&
		    !bad++ && err)
			*err = e;
		if (_load_spec(cfg, "Site", s->name, s->line, "UsefulHeat",
			       &s->useful_heat, true, &e) &&
		    !bad++ && err)
			*err = e;
	}
	if (!cfg->reference.same_grid &&
	    _load_spec(cfg, "Reference", cfg->reference.name,
		       cfg->reference.line, "Intensity",
		       &cfg->reference.intensity, false, &e) &&
	    !bad++ && err)
		*err = e;
	return bad ? -1 : 0;
}

/* A file spec left without its series by fp_config_load_series. */
static const char *_spec_error(const fp_signal_spec_t *spec)
{
	if (!spec->path || spec->series)
		return NULL;
	return spec->error ? spec->error : "series not loaded (out of memory)";
}

const char *fp_config_series_error(const fp_config_t *cfg, size_t i)
{
	const char *e;

	for (size_t k = 0; k < cfg->nsites; k++) {
		if ((e = _spec_error(&cfg->sites[k].intensity)) && !i--)
			return e;
		if ((e = _spec_error(&cfg->sites[k].useful_heat)) && !i--)
			return e;
	}
	if (!cfg->reference.same_grid &&
	    (e = _spec_error(&cfg->reference.intensity)) && !i--)
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
