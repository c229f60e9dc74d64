/* Signed summaries: JWS compact serialization (libjwt), ES256 or RS256, the
 * header's kid is the key fingerprint; key files, permissions, keygen. */
#ifndef FP_SIGN_H
#define FP_SIGN_H

#include <stdbool.h>

#include "error.h"

typedef struct fp_key fp_key_t;

/* Loads a PEM private key (EC P-256 -> ES256, RSA >= 2048 bits -> RS256).
 * Refuses a file readable or writable by group/others, naming its mode,
 * and encrypted keys (a daemon cannot type a passphrase). */
fp_key_t *fp_key_load_private(const char *path, fp_error_t *err);
/* Loads a PEM public key ("BEGIN PUBLIC KEY"). */
fp_key_t *fp_key_load_public(const char *path, fp_error_t *err);
void fp_key_free(fp_key_t *key);

/* The key fingerprint: base64url (no padding) of the SHA-256 of the DER
 * SubjectPublicKeyInfo; the same for a private key and its public key. */
const char *fp_key_kid(const fp_key_t *key);
/* "ES256" or "RS256". */
const char *fp_key_alg(const fp_key_t *key);

/* Fails unless path is a regular file with no group/other permission. */
int fp_key_check_mode(const char *path, fp_error_t *err);

/* Writes PREFIX.key (0600, PKCS#8 PEM) and PREFIX.pub (0644); never
 * overwrites. alg: "ES256" (P-256) or "RS256" (3072 bits). *kid is
 * malloc()ed when kid is not NULL. */
int fp_keygen(const char *prefix, const char *alg, char **kid,
	      fp_error_t *err);

/* The JWS of payload (a JSON object). The caller free()s it. */
char *fp_sign(const fp_key_t *key, const char *payload, fp_error_t *err);
/* Checks token against the public (or private) key: rejects alg none,
 * HMAC and any alg other than the key's, a kid other than the key's,
 * non-canonical encodings and a bad signature. Returns the exact signed
 * payload bytes (malloc()ed, NUL-terminated). */
char *fp_verify(const fp_key_t *key, const char *token, fp_error_t *err);

#endif
