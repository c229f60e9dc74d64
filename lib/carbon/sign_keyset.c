/* The public keys a verifier trusts (PublicKey=, PublicKeys= folders),
 * each kept once by its kid, and a token verified with the one it names. */
#include "footprint/sign.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <openssl/evp.h>

#include "footprint/config.h"

#include "sign_jws.h"

struct fp_keyset {
	fp_key_t **keys;
	size_t n, cap;
	char *sources;
};

fp_keyset_t *fp_sign_keyset_new(void)
{
	return calloc(1, sizeof(fp_keyset_t));
}

void fp_sign_keyset_free(fp_keyset_t *ks)
{
	if (!ks)
		return;
	for (size_t i = 0; i < ks->n; i++)
		fp_sign_key_free(ks->keys[i]);
	free(ks->keys);
	free(ks->sources);
	free(ks);
}

size_t fp_sign_keyset_count(const fp_keyset_t *ks)
{
	return ks->n;
}

const char *fp_sign_keyset_sources(const fp_keyset_t *ks)
{
	return ks->sources ? ks->sources : "(none)";
}

static int _add_source(fp_keyset_t *ks, const char *where, fp_error_t *err)
{
	size_t old = ks->sources ? strlen(ks->sources) : 0;
	char *s = realloc(ks->sources, old + strlen(where) + 3);

	if (!s)
		return fp_error_set(err, FP_ENOMEM, "out of memory");
	snprintf(s + old, strlen(where) + 3, "%s%s", old ? ", " : "", where);
	ks->sources = s;
	return 0;
}

static const fp_key_t *_keyset_find(const fp_keyset_t *ks, const char *kid)
{
	for (size_t i = 0; i < ks->n; i++)
		if (!strcmp(ks->keys[i]->kid, kid))
			return ks->keys[i];
	return NULL;
}

/* Takes key; one with a kid already there is the same public key (the kid
 * is its SHA-256), kept once. */
static int _keyset_take(fp_keyset_t *ks, fp_key_t *key, fp_error_t *err)
{
	if (_keyset_find(ks, key->kid)) {
		fp_sign_key_free(key);
		return 0;
	}
	if (ks->n == ks->cap) {
		size_t cap = ks->cap ? 2 * ks->cap : 4;
		fp_key_t **k = realloc(ks->keys, cap * sizeof(*k));

		if (!k) {
			fp_sign_key_free(key);
			return fp_error_set(err, FP_ENOMEM, "out of memory");
		}
		ks->keys = k;
		ks->cap = cap;
	}
	ks->keys[ks->n++] = key;
	return 0;
}

static int _add_file(fp_keyset_t *ks, const char *path, fp_error_t *err)
{
	fp_key_t *key = fp_sign_key_load(path, false, err);

	return key ? _keyset_take(ks, key, err) : -1;
}

int fp_sign_keyset_add_file(fp_keyset_t *ks, const char *path, fp_error_t *err)
{
	fp_error_clear(err);
	if (_add_file(ks, path, err))
		return -1;
	return _add_source(ks, path, err);
}

int fp_sign_keyset_add_key(fp_keyset_t *ks, const fp_key_t *key,
			   fp_error_t *err)
{
	fp_key_t *copy = calloc(1, sizeof(*copy));

	fp_error_clear(err);
	if (!copy || !(copy->path = strdup(fp_sign_key_path(key))) ||
	    !EVP_PKEY_up_ref(key->pub)) {
		fp_sign_key_free(copy);
		return fp_error_set(err, FP_ENOMEM, "out of memory");
	}
	/* Only the public half: a key set never signs. */
	copy->pub = key->pub;
	copy->alg = key->alg;
	memcpy(copy->kid, key->kid, sizeof(copy->kid));
	if (_keyset_take(ks, copy, err))
		return -1;
	return _add_source(ks, fp_sign_key_path(key), err);
}

static int _pub_file(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return d->d_name[0] != '.' && n > 4 &&
	       !strcmp(d->d_name + n - 4, ".pub");
}

int fp_sign_keyset_load_dir(fp_keyset_t *ks, const char *dir, fp_error_t *err)
{
	struct dirent **names = NULL;
	int n, rc = 0;

	fp_error_clear(err);
	n = scandir(dir, &names, _pub_file, alphasort);
	if (n < 0)
		return fp_error_set(err, FP_EIO,
				    "cannot read key folder %s: %s", dir,
				    strerror(errno));
	for (int i = 0; i < n; i++) {
		size_t len = strlen(dir) + strlen(names[i]->d_name) + 2;
		char *path = rc ? NULL : malloc(len);
		struct stat st;

		if (!rc && !path)
			rc = fp_error_set(err, FP_ENOMEM, "out of memory");
		if (path) {
			snprintf(path, len, "%s/%s", dir, names[i]->d_name);
			/* A folder named x.pub is not a key file. */
			if (stat(path, &st) || !S_ISDIR(st.st_mode))
				rc = _add_file(ks, path, err);
		}
		free(path);
		free(names[i]);
	}
	free(names);
	return rc ? rc : _add_source(ks, dir, err);
}

int fp_sign_keyset_add_config(fp_keyset_t *ks, const struct fp_config *cfg,
			      fp_error_t *err)
{
	fp_error_clear(err);
	if (!cfg || (!cfg->npublic_keys && !cfg->npublic_key_dirs))
		return fp_sign_keyset_add_file(ks, FP_DEFAULT_PUBLIC_KEY, err);
	for (size_t i = 0; i < cfg->npublic_keys; i++)
		if (fp_sign_keyset_add_file(ks, cfg->public_keys[i], err))
			return -1;
	for (size_t i = 0; i < cfg->npublic_key_dirs; i++)
		if (fp_sign_keyset_load_dir(ks, cfg->public_key_dirs[i], err))
			return -1;
	return 0;
}

fp_keyset_t *fp_sign_keyset_new_config(const struct fp_config *cfg,
				       fp_error_t *err)
{
	fp_keyset_t *ks = fp_sign_keyset_new();

	if (!ks) {
		fp_error_set(err, FP_ENOMEM, "out of memory");
		return NULL;
	}
	if (fp_sign_keyset_add_config(ks, cfg, err)) {
		fp_sign_keyset_free(ks);
		return NULL;
	}
	return ks;
}

static void _info_clear(fp_verify_info_t *info)
{
	if (info)
		memset(info, 0, sizeof(*info));
}

char *fp_sign_keyset_verify(const fp_keyset_t *ks, const char *token,
			    unsigned flags, fp_verify_info_t *info,
			    fp_error_t *err)
{
	const fp_key_t *key;
	struct jws j;

	fp_error_clear(err);
	_info_clear(info);
	if (!ks->n) {
		if (ks->sources)
			fp_error_set(err, FP_EINVAL,
				     "no trusted public key: no "
				     "*.pub file in %s",
				     ks->sources);
		else
			fp_error_set(
				err, FP_EINVAL,
				"no trusted public key "
				"(PublicKey= or PublicKeys= in footprint.conf)");
		set_fault(info, FP_VERIFY_NO_KEYS);
		return NULL;
	}
	if (fp_sign_jws_parse(token, &j, info, err))
		return NULL;
	key = _keyset_find(ks, j.kid);
	if (!key) {
		fp_error_set(err, FP_EINVAL,
			     "token rejected: unknown key (kid %s "
			     "is not among the %zu trusted key%s in %s)",
			     j.kid, ks->n, ks->n == 1 ? "" : "s",
			     fp_sign_keyset_sources(ks));
		set_fault(info, FP_VERIFY_UNKNOWN_KEY);
		return NULL;
	}
	if (strcmp(j.alg, fp_sign_key_alg(key))) {
		fp_error_set(err, FP_EINVAL,
			     "token rejected: algorithm '%s' does "
			     "not match key %s's %s",
			     j.alg, key->kid, fp_sign_key_alg(key));
		set_fault(info, FP_VERIFY_FORBIDDEN);
		return NULL;
	}
	return fp_sign_jws_check(&j, key, flags, info, err);
}
