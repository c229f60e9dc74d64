/* A new key pair for signing (sfootprint keygen): PREFIX.key, mode 0600,
 * and PREFIX.pub, created, never overwritten. */
#include "footprint/sign.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "sign_jws.h"

static FILE *_create(const char *path, mode_t mode, fp_error_t *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	FILE *f;

	if (fd < 0) {
		fp_error_set(err, FP_EIO, "%s: %s", path, strerror(errno));
		return NULL;
	}
	/* The umask may only have removed bits; make the mode exact. */
	if (fchmod(fd, mode) || !(f = fdopen(fd, "w"))) {
		fp_error_set(err, FP_EIO, "%s: %s", path, strerror(errno));
		close(fd);
		unlink(path);
		return NULL;
	}
	return f;
}

int fp_sign_keygen(const char *prefix, const char *alg, char **kid,
		   fp_error_t *err)
{
	size_t n = strlen(prefix) + 5;
	char *kpath = malloc(n), *ppath = malloc(n), k[64];
	EVP_PKEY *pkey = NULL, *pub = NULL;
	FILE *fk = NULL, *fp = NULL;
	int rc = -1;

	fp_error_clear(err);
	if (!kpath || !ppath) {
		fp_error_set(err, FP_ENOMEM, "out of memory");
		goto out;
	}
	snprintf(kpath, n, "%s.key", prefix);
	snprintf(ppath, n, "%s.pub", prefix);
	if (!alg || !strcmp(alg, "ES256"))
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
	else if (!strcmp(alg, "RS256"))
		pkey = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
	else {
		fp_error_set(err, FP_EINVAL,
			     "algorithm '%s': use ES256 or RS256", alg);
		goto out;
	}
	if (!pkey) {
		fp_error_set(err, FP_ENOTSUP, "key generation failed");
		goto out;
	}
	pub = fp_sign_key_public_half(pkey, k, kpath, err);
	if (!pub)
		goto out;
	fk = _create(kpath, 0600, err);
	if (!fk)
		goto out;
	fp = _create(ppath, 0644, err);
	if (!fp) {
		fclose(fk);
		fk = NULL;
		unlink(kpath);
		goto out;
	}
	if (!PEM_write_PrivateKey(fk, pkey, NULL, NULL, 0, NULL, NULL) ||
	    !PEM_write_PUBKEY(fp, pkey)) {
		fp_error_set(err, FP_EIO, "%s: cannot write the key", prefix);
	} else {
		rc = 0;
	}
	if (fclose(fk) && !rc)
		rc = fp_error_set(err, FP_EIO, "%s: %s", kpath,
				  strerror(errno));
	if (fclose(fp) && !rc)
		rc = fp_error_set(err, FP_EIO, "%s: %s", ppath,
				  strerror(errno));
	if (rc) {
		unlink(kpath);
		unlink(ppath);
	} else if (kid && !(*kid = strdup(k))) {
		rc = fp_error_set(err, FP_ENOMEM, "out of memory");
	}
out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_free(pub);
	free(kpath);
	free(ppath);
	return rc;
}
