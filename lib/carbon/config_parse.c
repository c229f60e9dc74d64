/* Parses footprint.conf: Slurm-style lines of Key=Value pairs, one entity
 * (Site, NodeType, Reference) per line, other keys global. */
#include "config_parse.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>

#include "footprint/utf8.h"

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

/* Splits "A=b C="d e" # x" into pairs, in place. */
static int _split_pairs(struct ctx *c, char *line, struct kv **kvs, size_t *cap,
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

static int _parse_line(struct ctx *c, char *line, struct kv **kvs, size_t *cap)
{
	size_t n;
	struct kv *kv;

	if (_split_pairs(c, line, kvs, cap, &n))
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
		return fp_config_key_site(c, kv, n);
	if (!strcasecmp(kv[0].key, "NodeType"))
		return fp_config_key_node_type(c, kv, n);
	if (!strcasecmp(kv[0].key, "Reference"))
		return fp_config_key_reference(c, kv, n);
	for (size_t i = 0; i < n; i++)
		if (fp_config_global_set(c, &kv[i]))
			return -1;
	return 0;
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
	    fp_config_key_defaults(&c)) {
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
			rc = _parse_line(&c, line, &kvs, &cap);
	}
	if (!rc && !c.cfg->nsites)
		rc = FAIL(&c, FP_EINVAL, "%s: no Site line", name);
	if (!rc)
		rc = fp_config_hostlist_check_node_types(&c);
	free(kvs);
	free(buf);
	free(c.dir);
	if (rc) {
		fp_config_free(c.cfg);
		return NULL;
	}
	return c.cfg;
}
