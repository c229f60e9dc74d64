/* footprint.conf's global keys (outside Site, NodeType and Reference
 * lines): one table of key, kind, place, bounds and default, read by it. */
#include "config_parse.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "footprint/option.h"

/* footprint.conf's global keys, one row each: the kind of value, where it
 * goes in fp_config_t, its bounds and its default (what footprint.conf(5)
 * says; test_config checks the page against the parser). */
enum gkind {
	G_PATH, /* a path, resolved against the file's folder */
	G_UINT, /* a whole number from lo to hi */
	G_WORD, /* one of words, '|'-separated, kept as given */
	G_KEYS, /* PublicKey: a list of files; the first also alone */
	G_DIRS, /* PublicKeys: a list of folders */
	G_HTML, /* MailHTML: no (any spelling of a no), alternative,
		 * attachment */
};

#define OFF(f) offsetof(fp_config_t, f)
static const struct global {
	const char *key;
	enum gkind kind;
	size_t off;
	unsigned lo, hi, dflt; /* G_UINT */
	const char *text;      /* G_PATH, G_WORD: the default (NULL:
				* none); G_WORD's words follow it */
	const char *words;
} _globals[] = {
	{ "SigningKey", G_PATH, OFF(signing_key), 0, 0, 0, NULL, NULL },
	/* Several keys may be trusted at once: a rotation keeps the retired
	 * ones so that older summaries still verify. */
	{ "PublicKey", G_KEYS, OFF(public_keys), 0, 0, 0, NULL, NULL },
	{ "PublicKeys", G_DIRS, OFF(public_key_dirs), 0, 0, 0, NULL, NULL },
	{ "SpoolDir", G_PATH, OFF(spool_dir), 0, 0, 0, FP_DEFAULT_SPOOL_DIR,
	  NULL },
	/* The job's Comment cannot be changed through slurmdbd's job modify
	 * in 22.05: only these two can. */
	{ "JobRecordField", G_WORD, OFF(job_record_field), 0, 0, 0,
	  FP_DEFAULT_JOB_RECORD_FIELD, "AdminComment|SystemComment" },
	{ "MaxWorkers", G_UINT, OFF(max_workers), 1, 64, FP_DEFAULT_MAX_WORKERS,
	  NULL, NULL },
	{ "MaxQueue", G_UINT, OFF(max_queue), 1, 1u << 20, FP_DEFAULT_MAX_QUEUE,
	  NULL, NULL },
	{ "WorkerTimeout", G_UINT, OFF(worker_timeout), 1, 86400,
	  FP_DEFAULT_WORKER_TIMEOUT, NULL, NULL },
	{ "RetryInterval", G_UINT, OFF(retry_interval), 1, 86400, 10, NULL,
	  NULL },
	{ "EnergySource", G_WORD, OFF(energy_source), 0, 0, 0, "measured",
	  "measured|calibrated|simulated" },
	{ "Mailer", G_PATH, OFF(mailer), 0, 0, 0, "/usr/bin/mail", NULL },
	{ "MailWait", G_UINT, OFF(mail_wait), 0, 3600, 30, NULL, NULL },
	{ "SeriesWait", G_UINT, OFF(series_wait), 0, 7 * 86400,
	  FP_DEFAULT_SERIES_WAIT, NULL, NULL },
	{ "NodePartsDir", G_PATH, OFF(node_parts_dir), 0, 0, 0, NULL, NULL },
	{ "PartsWait", G_UINT, OFF(parts_wait), 0, 86400, FP_DEFAULT_PARTS_WAIT,
	  NULL, NULL },
	{ "MailHTML", G_HTML, OFF(mail_html), 0, 0, 0, NULL, NULL },
	{ "Sendmail", G_PATH, OFF(sendmail), 0, 0, 0, "/usr/sbin/sendmail",
	  NULL },
	{ "Metrics", G_PATH, OFF(metrics), 0, 0, 0, NULL, NULL },
};
#undef OFF
#define NGLOBALS (sizeof(_globals) / sizeof(_globals[0]))
_Static_assert(NGLOBALS <= sizeof(((struct ctx *)0)->global_line) /
				   sizeof(unsigned),
	       "ctx.global_line has a line for each global key");

/* word among g's words, in any case */
static bool _word_ok(const struct global *g, const char *word)
{
	size_t n = strlen(word);

	for (const char *w = g->words; *w;) {
		size_t len = strcspn(w, "|");

		if (len == n && !strncasecmp(w, word, n))
			return true;
		w += len + (w[len] == '|');
	}
	return false;
}

/* "A or B", "A, B or C" */
static void _words_text(const struct global *g, char *buf, size_t size)
{
	size_t used = 0, nwords = 1;
	const char *w;

	for (w = g->words; *w; w++)
		nwords += *w == '|';
	w = g->words;
	for (size_t i = 0; i < nwords && used < size; i++) {
		size_t len = strcspn(w, "|");

		used += snprintf(buf + used, size - used, "%s%.*s",
				 i == 0		   ? ""
				 : i + 1 == nwords ? " or "
						   : ", ",
				 (int)len, w);
		w += len + (w[len] == '|');
	}
}

static int _mail_html(struct ctx *c, const struct kv *kv, fp_mail_html_t *out)
{
	static const char *const v[] = { "no", "alternative", "attachment" };
	bool b = true;

	/* "no" in every spelling of a boolean's no; a yes would not say which
	 * of the two forms. */
	if (!fp_option_bool(kv->val, &b) && !b) {
		*out = FP_MAIL_HTML_NO;
		return 0;
	}
	for (size_t i = 1; i < sizeof(v) / sizeof(v[0]); i++)
		if (!strcasecmp(kv->val, v[i])) {
			*out = (fp_mail_html_t)i;
			return 0;
		}
	return FAIL(c, FP_EINVAL,
		    "%s:%u: field '%s': '%s' is not no "
		    "(false, off, 0), alternative or attachment",
		    c->name, c->line, kv->key, kv->val);
}

int fp_config_global_set(struct ctx *c, struct kv *kv)
{
	fp_config_t *cfg = c->cfg;
	const struct global *g = NULL;
	void *f;
	size_t i;

	for (i = 0; i < NGLOBALS && !g; i++)
		if (!strcasecmp(kv->key, _globals[i].key))
			g = &_globals[i];
	if (!g)
		return FAIL(c, FP_EINVAL, "%s:%u: field '%s': unknown key",
			    c->name, c->line, kv->key);
	i--;
	/* A key that holds one value: a second one is an error, not a
	 * silent override. PublicKey and PublicKeys add to a list instead. */
	if (g->kind != G_KEYS && g->kind != G_DIRS) {
		if (c->global_line[i])
			return FAIL(c, FP_EINVAL,
				    "%s:%u: field '%s': already "
				    "given on line %u",
				    c->name, c->line, kv->key,
				    c->global_line[i]);
		c->global_line[i] = c->line;
	}
	f = (char *)cfg + g->off;
	switch (g->kind) {
	case G_PATH:
		return fp_config_key_path(c, kv->val, f);
	case G_UINT:
		return fp_config_key_uint(c, kv, g->lo, g->hi, f);
	case G_WORD: {
		char words[128];

		if (_word_ok(g, kv->val))
			return fp_config_key_dup(c, f, kv->val);
		_words_text(g, words, sizeof(words));
		return FAIL(c, FP_EINVAL, "%s:%u: field '%s': '%s' is not %s",
			    c->name, c->line, kv->key, kv->val, words);
	}
	case G_KEYS:
		return fp_config_key_paths(c, kv->val, &cfg->public_keys,
					   &cfg->npublic_keys) ||
		       (!cfg->public_key &&
			fp_config_key_dup(
				c, &cfg->public_key,
				cfg->public_keys[cfg->npublic_keys - 1]));
	case G_DIRS:
		return fp_config_key_paths(c, kv->val, &cfg->public_key_dirs,
					   &cfg->npublic_key_dirs);
	case G_HTML:
		return _mail_html(c, kv, f);
	}
	return -1;
}

int fp_config_global_defaults(struct ctx *c)
{
	for (size_t i = 0; i < NGLOBALS; i++) {
		const struct global *g = &_globals[i];
		void *f = (char *)c->cfg + g->off;

		if (g->kind == G_UINT)
			*(unsigned *)f = g->dflt;
		else if (g->text && fp_config_key_dup(c, f, g->text))
			return -1;
	}
	return 0;
}

const char *fp_config_global_key(size_t i, unsigned *lo, unsigned *hi,
				 unsigned *dflt)
{
	const struct global *g = i < NGLOBALS ? &_globals[i] : NULL;

	if (!g)
		return NULL;
	*lo = g->kind == G_UINT ? g->lo : 1;
	*hi = g->kind == G_UINT ? g->hi : 0;
	*dflt = g->dflt;
	return g->key;
}
