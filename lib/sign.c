/* libjwt wrapper for signed summaries; OpenSSL only for what libjwt lacks:
 * key generation, the fingerprint, base64url of header/payload checks. */
#include "sign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define MAX_KEY_FILE 65536

struct fp_key {
	char *pem;
	size_t len;
	jwt_alg_t alg;
	char kid[64];
};

void fp_key_free(fp_key_t *key)
{
	if (!key)
		return;
	if (key->pem) {
		/* The private key must not linger in freed memory. */
		memset(key->pem, 0, key->len);
		free(key->pem);
	}
	free(key);
}

const char *fp_key_kid(const fp_key_t *key)
{
	return key->kid;
}

const char *fp_key_alg(const fp_key_t *key)
{
	return jwt_alg_str(key->alg);
}

/* base64url without padding, through OpenSSL's encoder. */
static int b64url_encode(const unsigned char *in, size_t n, char *out,
			 size_t outsz)
{
	int len;

	if (outsz < 4 * ((n + 2) / 3) + 1)
		return -1;
	len = EVP_EncodeBlock((unsigned char *)out, in, (int)n);
	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (int i = 0; i < len; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	return len;
}

/* Decodes a base64url segment; NULL if it has a character outside the
 * alphabet or is not the canonical encoding of its bytes (so that no two
 * tokens carry the same signature bytes). */
static unsigned char *b64url_decode(const char *seg, size_t n, size_t *outn)
{
	char *std = malloc(n + 4), *again;
	unsigned char *out;
	size_t pad = (4 - n % 4) % 4;
	int len;

	if (!std || n % 4 == 1) {
		free(std);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		char ch = seg[i];

		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || ch == '-' || ch == '_')) {
			free(std);
			return NULL;
		}
		std[i] = ch == '-' ? '+' : ch == '_' ? '/' : ch;
	}
	memset(std + n, '=', pad);
	out = malloc((n + pad) / 4 * 3 + 1);
	again = malloc(n + 8);
	if (!out || !again) {
		free(std);
		free(out);
		free(again);
		return NULL;
	}
	len = EVP_DecodeBlock(out, (unsigned char *)std, (int)(n + pad));
	free(std);
	if (len < 0 || (size_t)len < pad) {
		free(out);
		free(again);
		return NULL;
	}
	*outn = (size_t)len - pad;
	out[*outn] = '\0';
	if (b64url_encode(out, *outn, again, n + 8) != (int)n ||
	    memcmp(again, seg, n)) {
		free(out);
		free(again);
		return NULL;
	}
	free(again);
	return out;
}

static int make_kid(EVP_PKEY *pkey, char kid[64], fp_error_t *err,
		    const char *path)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	int n = i2d_PUBKEY(pkey, &der);

	if (n <= 0)
		return fp_fail(err, FP_EINVAL, "%s: cannot encode the public "
			       "key", path);
	if (!EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL)) {
		OPENSSL_free(der);
		return fp_fail(err, FP_ENOTSUP, "SHA-256 unavailable");
	}
	OPENSSL_free(der);
	b64url_encode(md, mdlen, kid, 64);
	return 0;
}

static int key_alg(EVP_PKEY *pkey, jwt_alg_t *alg, const char *path,
		   fp_error_t *err)
{
	char group[64] = "";
	size_t glen = 0;

	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_group_name(pkey, group, sizeof(group),
					     &glen) ||
		    strcmp(group, "prime256v1"))
			return fp_fail(err, FP_EINVAL, "%s: EC key on curve "
				       "'%s': ES256 needs P-256", path, group);
		*alg = JWT_ALG_ES256;
		return 0;
	case EVP_PKEY_RSA:
		if (EVP_PKEY_get_bits(pkey) < 2048)
			return fp_fail(err, FP_EINVAL, "%s: RSA key of %d "
				       "bits: RS256 needs at least 2048",
				       path, EVP_PKEY_get_bits(pkey));
		*alg = JWT_ALG_RS256;
		return 0;
	}
	return fp_fail(err, FP_EINVAL, "%s: neither an EC P-256 nor an RSA "
		       "key", path);
}

static int mode_ok(const char *path, const struct stat *st, fp_error_t *err)
{
	if (!S_ISREG(st->st_mode))
		return fp_fail(err, FP_EINVAL, "%s: not a regular file", path);
	if (st->st_mode & 077)
		return fp_fail(err, FP_EINVAL, "%s: mode %04o: a private key "
			       "must not be accessible by group or others "
			       "(chmod 600)", path,
			       (unsigned)(st->st_mode & 07777));
	return 0;
}

int fp_key_check_mode(const char *path, fp_error_t *err)
{
	struct stat st;

	if (stat(path, &st))
		return fp_fail(err, FP_EIO, "%s: %s", path, strerror(errno));
	return mode_ok(path, &st, err);
}

/* Refuses to prompt for a passphrase: there is no terminal in slurmctld. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

static fp_key_t *key_load(const char *path, bool private, fp_error_t *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	fp_key_t *key;
	ssize_t got;
	BIO *bio;
	EVP_PKEY *pkey;

	if (fd < 0) {
		fp_fail(err, FP_EIO, "%s: %s", path, strerror(errno));
		return NULL;
	}
	/* fstat on the opened file: what is checked is what is read. */
	if (fstat(fd, &st) || (private && mode_ok(path, &st, err)) ||
	    (!private && !S_ISREG(st.st_mode)) || st.st_size > MAX_KEY_FILE) {
		if (err && err->code == FP_OK)
			fp_fail(err, FP_EINVAL, "%s: not a key file", path);
		close(fd);
		return NULL;
	}
	key = calloc(1, sizeof(*key));
	if (key)
		key->pem = malloc((size_t)st.st_size + 1);
	if (!key || !key->pem) {
		fp_key_free(key);
		close(fd);
		fp_fail(err, FP_ENOMEM, "out of memory");
		return NULL;
	}
	got = read(fd, key->pem, (size_t)st.st_size);
	close(fd);
	if (got != st.st_size) {
		fp_key_free(key);
		fp_fail(err, FP_EIO, "%s: short read", path);
		return NULL;
	}
	key->len = (size_t)got;
	key->pem[key->len] = '\0';
	bio = BIO_new_mem_buf(key->pem, (int)key->len);
	pkey = !bio ? NULL : private ?
		PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) :
		PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
	BIO_free(bio);
	if (!pkey) {
		fp_key_free(key);
		fp_fail(err, FP_EPARSE, "%s: not an unencrypted PEM %s key",
			path, private ? "private" : "public");
		return NULL;
	}
	if (key_alg(pkey, &key->alg, path, err) ||
	    make_kid(pkey, key->kid, err, path)) {
		EVP_PKEY_free(pkey);
		fp_key_free(key);
		return NULL;
	}
	EVP_PKEY_free(pkey);
	return key;
}

fp_key_t *fp_key_load_private(const char *path, fp_error_t *err)
{
	fp_error_clear(err);
	return key_load(path, true, err);
}

fp_key_t *fp_key_load_public(const char *path, fp_error_t *err)
{
	fp_error_clear(err);
	return key_load(path, false, err);
}

static FILE *create(const char *path, mode_t mode, fp_error_t *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	FILE *f;

	if (fd < 0) {
		fp_fail(err, FP_EIO, "%s: %s", path, strerror(errno));
		return NULL;
	}
	/* The umask may only have removed bits; make the mode exact. */
	if (fchmod(fd, mode) || !(f = fdopen(fd, "w"))) {
		fp_fail(err, FP_EIO, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return NULL;
	}
	return f;
}

int fp_keygen(const char *prefix, const char *alg, char **kid,
	      fp_error_t *err)
{
	size_t n = strlen(prefix) + 5;
	char *kpath = malloc(n), *ppath = malloc(n), k[64];
	EVP_PKEY *pkey = NULL;
	FILE *fk = NULL, *fp = NULL;
	int rc = -1;

	if (!kpath || !ppath) {
		fp_fail(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	snprintf(kpath, n, "%s.key", prefix);
	snprintf(ppath, n, "%s.pub", prefix);
	if (!alg || !strcmp(alg, "ES256"))
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (!strcmp(alg, "RS256"))
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	else {
		fp_fail(err, FP_EINVAL, "algorithm '%s': use ES256 or RS256",
			alg);
		goto out;
	}
	if (!pkey) {
		fp_fail(err, FP_ENOTSUP, "key generation failed");
		goto out;
	}
	if (make_kid(pkey, k, err, kpath))
		goto out;
	fk = create(kpath, 0600, err);
	if (!fk)
		goto out;
	fp = create(ppath, 0644, err);
	if (!fp) {
		fclose(fk);
		fk = NULL;
		unlink(kpath);
		goto out;
	}
	if (!PEM_write_PrivateKey(fk, pkey, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_PUBKEY(fp, pkey)) {
		fp_fail(err, FP_EIO, "%s: cannot write the key", prefix);
	} else {
		rc = 0;
	}
	if (fclose(fk) && !rc)
		rc = fp_fail(err, FP_EIO, "%s: %s", kpath, strerror(errno));
	if (fclose(fp) && !rc)
		rc = fp_fail(err, FP_EIO, "%s: %s", ppath, strerror(errno));
	if (rc) {
		unlink(kpath);
		unlink(ppath);
	} else if (kid && !(*kid = strdup(k))) {
		rc = fp_fail(err, FP_ENOMEM, "out of memory");
	}
out:
	EVP_PKEY_free(pkey);
	free(kpath);
	free(ppath);
	return rc;
}

char *fp_sign(const fp_key_t *key, const char *payload, fp_error_t *err)
{
	jwt_t *jwt = NULL;
	char *tok = NULL;

	if (jwt_new(&jwt)) {
		fp_fail(err, FP_ENOMEM, "out of memory");
		return NULL;
	}
	if (jwt_add_grants_json(jwt, payload))
		fp_fail(err, FP_EPARSE, "the payload is not a JSON object");
	else if (jwt_add_header(jwt, "kid", key->kid) ||
		 jwt_set_alg(jwt, key->alg, (const unsigned char *)key->pem,
			     (int)key->len))
		fp_fail(err, FP_EINVAL, "cannot set up %s signing",
			jwt_alg_str(key->alg));
	else if (!(tok = jwt_encode_str(jwt)))
		fp_fail(err, FP_EINVAL, "%s signing failed (is the key a "
			"private key?)", jwt_alg_str(key->alg));
	jwt_free(jwt);
	return tok;
}

/* The header, decoded by us: libjwt would accept the alg it names. */
static int check_header(const fp_key_t *key, const char *seg, size_t n,
			fp_error_t *err)
{
	size_t len;
	unsigned char *raw = b64url_decode(seg, n, &len);
	json_t *h, *alg, *kid;
	const char *a;
	int rc = 0;

	if (!raw)
		return fp_fail(err, FP_EPARSE, "token header is not base64url");
	h = json_loadb((char *)raw, len, JSON_REJECT_DUPLICATES, NULL);
	free(raw);
	if (!json_is_object(h)) {
		json_decref(h);
		return fp_fail(err, FP_EPARSE, "token header is not a JSON "
			       "object");
	}
	alg = json_object_get(h, "alg");
	kid = json_object_get(h, "kid");
	a = json_is_string(alg) ? json_string_value(alg) : "";
	if (!strcasecmp(a, "none"))
		rc = fp_fail(err, FP_EINVAL, "token rejected: alg 'none' "
			     "(unsigned)");
	else if (!strncasecmp(a, "HS", 2))
		rc = fp_fail(err, FP_EINVAL, "token rejected: HMAC algorithm "
			     "'%s' (only %s with this key)", a,
			     jwt_alg_str(key->alg));
	else if (strcmp(a, jwt_alg_str(key->alg)))
		rc = fp_fail(err, FP_EINVAL, "token rejected: algorithm '%s' "
			     "does not match the key's %s", a,
			     jwt_alg_str(key->alg));
	else if (!json_is_string(kid))
		rc = fp_fail(err, FP_EINVAL, "token rejected: no kid");
	else if (strcmp(json_string_value(kid), key->kid))
		rc = fp_fail(err, FP_EINVAL, "token rejected: kid '%s' is not "
			     "this key's '%s'", json_string_value(kid),
			     key->kid);
	json_decref(h);
	return rc;
}

char *fp_verify(const fp_key_t *key, const char *token, fp_error_t *err)
{
	const char *d1 = strchr(token, '.'), *d2 = d1 ? strchr(d1 + 1, '.') :
		NULL;
	size_t plen, slen;
	unsigned char *payload, *sig;
	jwt_t *jwt = NULL;
	int rc;

	if (!d1 || !d2 || strchr(d2 + 1, '.'))
		return fp_fail(err, FP_EPARSE, "not a JWS compact token"),
			NULL;
	if (check_header(key, token, (size_t)(d1 - token), err))
		return NULL;
	slen = strlen(d2 + 1);
	sig = slen ? b64url_decode(d2 + 1, slen, &plen) : NULL;
	if (!sig)
		return fp_fail(err, FP_EINVAL, "token rejected: signature "
			       "missing or not canonical base64url"), NULL;
	free(sig);
	payload = b64url_decode(d1 + 1, (size_t)(d2 - d1 - 1), &plen);
	if (!payload)
		return fp_fail(err, FP_EPARSE, "token payload is not "
			       "base64url"), NULL;
	rc = jwt_decode(&jwt, token, (const unsigned char *)key->pem,
			(int)key->len);
	if (rc || !jwt || jwt_get_alg(jwt) != key->alg) {
		jwt_free(jwt);
		free(payload);
		return fp_fail(err, FP_EINVAL, "token rejected: %s signature "
			       "does not verify with key %s",
			       jwt_alg_str(key->alg), key->kid), NULL;
	}
	jwt_free(jwt);
	return (char *)payload;
}
