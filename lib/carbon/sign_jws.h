/* The JWS internals the signing files share, private to them: a key's
 * fields, base64url and the three segments of a compact token. */
#ifndef FP_SIGN_JWS_H
#define FP_SIGN_JWS_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "footprint/sign.h"

#define MAX_KID 128

enum fp_alg { FP_ALG_ES256, FP_ALG_RS256 };

struct fp_key {
	EVP_PKEY *pkey; /* as loaded: private or public */
	EVP_PKEY *pub;	/* its public half, what verification uses */
	bool private;
	enum fp_alg alg;
	char kid[64];
	char *path;
};

/* The three segments of a compact JWS. */
struct jws {
	const char *token;
	size_t hlen;	     /* header segment: token[0..hlen) */
	const char *payload; /* segment */
	size_t plen;
	const char *sig; /* segment, to the end */
	char alg[16];
	char kid[MAX_KID];
};

static inline int set_fault(fp_verify_info_t *info, int fault)
{
	if (info)
		info->fault = fault;
	return -1;
}

/* sign.c: base64url without padding (out holds 4 * ((n + 2) / 3) + 1
 * bytes); a token split and its header read without trusting it; the
 * signature of j checked with key, giving the payload bytes. */
size_t fp_sign_b64url_encode(const unsigned char *in, size_t n, char *out);
int fp_sign_jws_parse(const char *token, struct jws *j, fp_verify_info_t *info,
		      fp_error_t *err);
char *fp_sign_jws_check(const struct jws *j, const fp_key_t *key,
			unsigned flags, fp_verify_info_t *info,
			fp_error_t *err);

/* sign_key.c: a key file loaded; the fingerprint (kid) and a public-only
 * copy of pkey. */
fp_key_t *fp_sign_key_load(const char *path, bool private, fp_error_t *err);
EVP_PKEY *fp_sign_key_public_half(EVP_PKEY *pkey, char kid[64],
				  const char *path, fp_error_t *err);

#endif
