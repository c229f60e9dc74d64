/* Signed summaries: JWS compact serialization over the exact summary bytes,
 * ES256 (low-S) or RS256, kid = key fingerprint; key files, key sets. */
#ifndef FP_SIGN_H
#define FP_SIGN_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

struct fp_config;

/* The longest signed summary a reader takes (a JWS of a job with
 * thousands of steps is far below it). */
#define FP_SIGN_TOKEN_MAX (4 << 20)

typedef struct fp_key fp_key_t;

/* Loads a PEM private key (EC P-256 -> ES256, RSA >= 2048 bits -> RS256).
 * Refuses a file readable or writable by group/others, naming its mode,
 * and encrypted keys (a daemon cannot type a passphrase). The key also
 * verifies: its public half is derived at load. */
fp_key_t *fp_sign_key_load_private(const char *path, fp_error_t *err);
/* Loads a PEM public key ("BEGIN PUBLIC KEY"). A file that cannot be read
 * fails with "cannot read key file PATH: reason". */
fp_key_t *fp_sign_key_load_public(const char *path, fp_error_t *err);
void fp_sign_key_free(fp_key_t *key);

/* The key fingerprint: base64url (no padding) of the SHA-256 of the DER
 * SubjectPublicKeyInfo; the same for a private key and its public key. */
const char *fp_sign_key_kid(const fp_key_t *key);
/* "ES256" or "RS256". */
const char *fp_sign_key_alg(const fp_key_t *key);
/* The file the key was loaded from. */
const char *fp_sign_key_path(const fp_key_t *key);

/* Fails unless path is a regular file with no group/other permission. */
int fp_sign_key_check_mode(const char *path, fp_error_t *err);

/* Writes PREFIX.key (0600, PKCS#8 PEM) and PREFIX.pub (0644); never
 * overwrites. alg: "ES256" (P-256) or "RS256" (3072 bits). *kid is
 * malloc()ed when kid is not NULL. */
int fp_sign_keygen(const char *prefix, const char *alg, char **kid,
		   fp_error_t *err);

/* The JWS of payload, which must be one JSON object (no duplicate keys,
 * nothing after it): header {"alg","kid","typ":"JWT"}, and as payload
 * segment the base64url of payload's bytes exactly as given, never a
 * re-serialization. ES256 signatures are always low-S. The caller
 * free()s it. */
char *fp_sign(const fp_key_t *key, const char *payload, fp_error_t *err);

/* Accept an ES256 signature whose S is above n/2 (RFC 7518 does not forbid
 * it, and summaries signed before low-S signing have one about half the
 * time). Without it such a token is refused: (r, n - s) is a second valid
 * signature of the same content, so a token would not be unique. */
#define FP_VERIFY_ACCEPT_HIGH_S 1u

/* Why a token was refused, for callers that act on it. */
enum fp_verify_fault {
	FP_VERIFY_OK = 0,
	FP_VERIFY_MALFORMED,   /* not a JWS, bad encoding, bad header */
	FP_VERIFY_FORBIDDEN,   /* alg none/HMAC/other, jwk/jku/x5u/x5c/crit */
	FP_VERIFY_UNKNOWN_KEY, /* kid not trusted (or not the key's) */
	FP_VERIFY_ALTERED,     /* the signature does not verify */
	FP_VERIFY_HIGH_S,      /* a valid signature's malleable twin form */
	FP_VERIFY_NO_KEYS,     /* an empty key set */
};

typedef struct fp_verify_info {
	const fp_key_t *key; /* the key that verified; owned by the set */
	bool high_s;	     /* accepted through FP_VERIFY_ACCEPT_HIGH_S */
	int fault;	     /* enum fp_verify_fault */
} fp_verify_info_t;

/* Checks token against the public (or private) key: rejects alg none,
 * HMAC and any alg other than the key's, a kid other than the key's,
 * jwk/jku/x5u/x5c/crit headers, non-canonical encodings, high-S ES256 and
 * a bad signature. Returns the exact signed payload bytes (malloc()ed,
 * NUL-terminated). */
char *fp_sign_verify(const fp_key_t *key, const char *token, fp_error_t *err);

/* A set of trusted public keys, the token's kid selecting one: current and
 * retired keys side by side, so that a key rotation keeps old summaries
 * verifiable. A key is kept once whatever the number of files holding it. */
typedef struct fp_keyset fp_keyset_t;

fp_keyset_t *fp_sign_keyset_new(void);
void fp_sign_keyset_free(fp_keyset_t *ks);
/* Adds the PEM public key of path ("cannot read key file PATH: reason"). */
int fp_sign_keyset_add_file(fp_keyset_t *ks, const char *path, fp_error_t *err);
/* Adds every *.pub file of dir in name order; one that is not a public
 * key fails, naming it. Other files are ignored. */
int fp_sign_keyset_load_dir(fp_keyset_t *ks, const char *dir, fp_error_t *err);
/* Adds the public half of key (a private or public key; key stays the
 * caller's), e.g. the signing key, whose own summaries a daemon checks. */
int fp_sign_keyset_add_key(fp_keyset_t *ks, const fp_key_t *key,
			   fp_error_t *err);
/* The public key trusted when footprint.conf names none. */
#define FP_DEFAULT_PUBLIC_KEY "/etc/slurm/footprint.pub"

/* Adds footprint.conf's PublicKey= files and PublicKeys= folders; when it
 * has neither, or cfg is NULL, FP_DEFAULT_PUBLIC_KEY. */
int fp_sign_keyset_add_config(fp_keyset_t *ks, const struct fp_config *cfg,
			      fp_error_t *err);
/* A new set of footprint.conf's keys, as fp_sign_keyset_add_config; NULL
 * with err when one cannot be read. */
fp_keyset_t *fp_sign_keyset_new_config(const struct fp_config *cfg,
				       fp_error_t *err);
size_t fp_sign_keyset_count(const fp_keyset_t *ks);
/* Where the keys came from, for messages: "a.pub, keys.d". */
const char *fp_sign_keyset_sources(const fp_keyset_t *ks);
/* As fp_sign_verify, with the key the token's kid names: "unknown key" when no
 * trusted key has it, "altered content" when that key's signature does not
 * verify (a foreign key claiming a trusted kid ends there too). flags:
 * FP_VERIFY_*. info (may be NULL) says which key verified, or why not. */
char *fp_sign_keyset_verify(const fp_keyset_t *ks, const char *token,
			    unsigned flags, fp_verify_info_t *info,
			    fp_error_t *err);

#endif
