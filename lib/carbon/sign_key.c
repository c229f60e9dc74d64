/* Signing keys: PEM files loaded (a private one only when no one else may
 * read it), their algorithm and fingerprint (the kid of a token's header). */
#include "footprint/sign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "sign_jws.h"

#define MAX_KEY_FILE 65536

static const char *const alg_names[] = { "ES256", "RS256" };

void fp_sign_key_free(fp_key_t *key)
{
	if (!key)
		return;
	/* OpenSSL clears the private numbers when the key is freed. */
	EVP_PKEY_free(key->pkey);
	EVP_PKEY_free(key->pub);
	free(key->path);
	free(key);
}

const char *fp_sign_key_kid(const fp_key_t *key)
{
	return key->kid;
}

const char *fp_sign_key_alg(const fp_key_t *key)
{
	return alg_names[key->alg];
}

const char *fp_sign_key_path(const fp_key_t *key)
{
	return key->path ? key->path : "";
}

/* The fingerprint and a public-only copy of pkey: a private key must
 * verify with exactly what its .pub file would hold. */
EVP_PKEY *fp_sign_key_public_half(EVP_PKEY *pkey, char kid[64],
				  const char *path, fp_error_t *err)
{
	unsigned char *der = NULL, md[EVP_MAX_MD_SIZE];
	const unsigned char *p;
	unsigned int mdlen = 0;
	int n = i2d_PUBKEY(pkey, &der);
	EVP_PKEY *pub;

	if (n <= 0) {
		fp_error_set(err, FP_EINVAL,
			     "key file %s: cannot encode the "
			     "public key",
			     path);
		return NULL;
	}
	if (!EVP_Digest(der, (size_t)n, md, &mdlen, EVP_sha256(), NULL)) {
		OPENSSL_free(der);
		fp_error_set(err, FP_ENOTSUP, "SHA-256 unavailable");
		return NULL;
	}
	p = der;
	pub = d2i_PUBKEY(NULL, &p, n);
	OPENSSL_free(der);
	if (!pub) {
		fp_error_set(err, FP_EINVAL,
			     "key file %s: cannot derive the "
			     "public key",
			     path);
		return NULL;
	}
	fp_sign_b64url_encode(md, mdlen, kid);
	return pub;
}

static int _key_alg(EVP_PKEY *pkey, enum fp_alg *alg, const char *path,
		    fp_error_t *err)
{
	char group[64] = "";
	size_t glen = 0;

	switch (EVP_PKEY_get_base_id(pkey)) {
	case EVP_PKEY_EC:
		if (!EVP_PKEY_get_group_name(pkey, group, sizeof(group),
					     &glen) ||
		    strcmp(group, "prime256v1"))
			return fp_error_set(err, FP_EINVAL,
					    "%s: EC key on curve "
					    "'%s': ES256 needs P-256",
					    path, group);
		*alg = FP_ALG_ES256;
		return 0;
	case EVP_PKEY_RSA:
		if (EVP_PKEY_get_bits(pkey) < 2048)
			return fp_error_set(err, FP_EINVAL,
					    "%s: RSA key of %d "
					    "bits: RS256 needs at least 2048",
					    path, EVP_PKEY_get_bits(pkey));
		*alg = FP_ALG_RS256;
		return 0;
	}
	return fp_error_set(err, FP_EINVAL,
			    "%s: neither an EC P-256 nor an RSA "
			    "key",
			    path);
}

static int _mode_ok(const char *path, const struct stat *st, fp_error_t *err)
{
	if (!S_ISREG(st->st_mode))
		return fp_error_set(err, FP_EINVAL, "%s: not a regular file",
				    path);
	if (st->st_mode & 077)
		return fp_error_set(err, FP_EINVAL,
				    "%s: mode %04o: a private key "
				    "must not be accessible by group or others "
				    "(chmod 600)",
				    path, (unsigned)(st->st_mode & 07777));
	return 0;
}

int fp_sign_key_check_mode(const char *path, fp_error_t *err)
{
	struct stat st;

	fp_error_clear(err);
	if (stat(path, &st))
		return fp_error_set(err, FP_EIO, "%s: %s", path,
				    strerror(errno));
	return _mode_ok(path, &st, err);
}

/* Refuses to prompt for a passphrase: there is no terminal in slurmctld. */
static int _no_passphrase(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return -1;
}

/* The file's bytes, or NULL with "cannot read key file PATH: why". */
static char *_read_key_file(const char *path, bool private, size_t *len,
			    fp_error_t *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	char *buf;
	ssize_t got;

	if (fd < 0) {
		fp_error_set(err, FP_EIO, "cannot read key file %s: %s", path,
			     strerror(errno));
		return NULL;
	}
	/* fstat on the opened file: what is checked is what is read. */
	if (fstat(fd, &st) || (private && _mode_ok(path, &st, err)) ||
	    (!private && !S_ISREG(st.st_mode)) || st.st_size > MAX_KEY_FILE) {
		if (err && err->code == FP_OK)
			fp_error_set(err, FP_EINVAL,
				     "cannot read key file %s: "
				     "not a key file",
				     path);
		close(fd);
		return NULL;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		fp_error_set(err, FP_ENOMEM, "out of memory");
		return NULL;
	}
	got = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (got != st.st_size) {
		OPENSSL_cleanse(buf, (size_t)st.st_size);
		free(buf);
		fp_error_set(err, FP_EIO, "cannot read key file %s: short read",
			     path);
		return NULL;
	}
	*len = (size_t)got;
	return buf;
}

fp_key_t *fp_sign_key_load(const char *path, bool private, fp_error_t *err)
{
	size_t len = 0;
	char *pem = _read_key_file(path, private, &len, err);
	fp_key_t *key;
	BIO *bio;

	if (!pem)
		return NULL;
	key = calloc(1, sizeof(*key));
	if (!key || !(key->path = strdup(path))) {
		free(key);
		OPENSSL_cleanse(pem, len);
		free(pem);
		fp_error_set(err, FP_ENOMEM, "out of memory");
		return NULL;
	}
	key->private = private;
	bio = BIO_new_mem_buf(pem, (int)len);
	key->pkey = !bio      ? NULL
		    : private ? PEM_read_bio_PrivateKey(bio, NULL,
							_no_passphrase, NULL)
			      : PEM_read_bio_PUBKEY(bio, NULL, _no_passphrase,
						    NULL);
	BIO_free(bio);
	/* The private key must not linger in freed memory. */
	OPENSSL_cleanse(pem, len);
	free(pem);
	if (!key->pkey) {
		fp_sign_key_free(key);
		fp_error_set(err, FP_EPARSE,
			     "key file %s: not an unencrypted PEM "
			     "%s key",
			     path, private ? "private" : "public");
		return NULL;
	}
	if (_key_alg(key->pkey, &key->alg, path, err) ||
	    !(key->pub = fp_sign_key_public_half(key->pkey, key->kid, path,
						 err))) {
		fp_sign_key_free(key);
		return NULL;
	}
	return key;
}

fp_key_t *fp_sign_key_load_private(const char *path, fp_error_t *err)
{
	fp_error_clear(err);
	return fp_sign_key_load(path, true, err);
}

fp_key_t *fp_sign_key_load_public(const char *path, fp_error_t *err)
{
	fp_error_clear(err);
	return fp_sign_key_load(path, false, err);
}
