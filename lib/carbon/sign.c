/* Signed summaries: the JWS compact form built here over the exact payload
 * bytes, signatures through OpenSSL's EVP, and tokens verified with a key. */
#include "footprint/sign.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "sign_jws.h"

#define ES256_SIG 64

/* The order n of P-256 (FIPS 186-4 D.1.2.3), for low-S signatures. */
#define P256_ORDER \
	"FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551"

/* base64url without padding, through OpenSSL's encoder; out holds
 * 4 * ((n + 2) / 3) + 1 bytes. */
size_t fp_sign_b64url_encode(const unsigned char *in, size_t n, char *out)
{
	size_t len = 0;

	/* EVP_EncodeBlock takes an int: feed it whole 3-byte groups. */
	while (n) {
		size_t chunk = n > 3 << 20 ? 3 << 20 : n;

		len += (size_t)EVP_EncodeBlock((unsigned char *)out + len, in,
					       (int)chunk);
		in += chunk;
		n -= chunk;
	}
	while (len > 0 && out[len - 1] == '=')
		len--;
	out[len] = '\0';
	for (size_t i = 0; i < len; i++)
		out[i] = out[i] == '+' ? '-' : out[i] == '/' ? '_' : out[i];
	return len;
}

static size_t _b64url_size(size_t n)
{
	return 4 * ((n + 2) / 3) + 1;
}

/* Decodes a base64url segment; NULL if it has a character outside the
 * alphabet or is not the canonical encoding of its bytes (so that no two
 * tokens carry the same signature bytes). */
static unsigned char *_b64url_decode(const char *seg, size_t n, size_t *outn)
{
	char *std, *again;
	unsigned char *out;
	size_t pad = (4 - n % 4) % 4;
	int len;

	if (n % 4 == 1 || n > (size_t)1 << 30)
		return NULL;
	std = malloc(n + 4);
	if (!std)
		return NULL;
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
	again = malloc(_b64url_size((n + pad) / 4 * 3));
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
	if (fp_sign_b64url_encode(out, *outn, again) != n ||
	    memcmp(again, seg, n)) {
		free(out);
		free(again);
		return NULL;
	}
	free(again);
	return out;
}

/* n and n/2 of P-256 (floor: n is odd, so S is high when S > n/2). */
static int _p256_order(BIGNUM **n, BIGNUM **half)
{
	*n = NULL;
	*half = BN_new();
	if (!*half || !BN_hex2bn(n, P256_ORDER) || !BN_rshift1(*half, *n)) {
		BN_free(*n);
		BN_free(*half);
		return -1;
	}
	return 0;
}

/* DER ECDSA-Sig-Value -> the 64 bytes r || s of RFC 7518 3.4, with S
 * replaced by n - S when above n/2: both verify, only the low one is
 * emitted so that a summary has exactly one valid token per key. */
static int _es256_raw_low_s(const unsigned char *der, size_t len,
			    unsigned char out[ES256_SIG])
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
	const BIGNUM *r, *s;
	BIGNUM *n, *half, *low = NULL;
	int rc = -1;

	if (!sig)
		return -1;
	if (_p256_order(&n, &half)) {
		ECDSA_SIG_free(sig);
		return -1;
	}
	ECDSA_SIG_get0(sig, &r, &s);
	if (BN_cmp(s, half) > 0) {
		low = BN_new();
		if (!low || !BN_sub(low, n, s))
			goto out;
		s = low;
	}
	if (BN_bn2binpad(r, out, 32) == 32 &&
	    BN_bn2binpad(s, out + 32, 32) == 32)
		rc = 0;
out:
	BN_free(low);
	BN_free(n);
	BN_free(half);
	ECDSA_SIG_free(sig);
	return rc;
}

/* The signature of in[0..n) in the JWS form: raw r || s for ES256, the
 * PKCS#1 v1.5 bytes for RS256. *out is malloc()ed. */
static int _sign_input(const fp_key_t *key, const char *in, size_t n,
		       unsigned char **out, size_t *outn, fp_error_t *err)
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	unsigned char *der = NULL;
	size_t dlen = 0;
	int rc = -1;

	*out = NULL;
	if (!ctx ||
	    EVP_DigestSignInit(ctx, NULL, EVP_sha256(), NULL, key->pkey) != 1 ||
	    EVP_DigestSign(ctx, NULL, &dlen, (const unsigned char *)in, n) !=
		    1 ||
	    !(der = malloc(dlen)) ||
	    EVP_DigestSign(ctx, der, &dlen, (const unsigned char *)in, n) !=
		    1) {
		fp_error_set(err, FP_EINVAL, "%s signing with %s failed",
			     fp_sign_key_alg(key), fp_sign_key_path(key));
		goto out;
	}
	if (key->alg == FP_ALG_RS256) {
		*out = der;
		*outn = dlen;
		der = NULL;
		rc = 0;
	} else if (!(*out = malloc(ES256_SIG)) ||
		   _es256_raw_low_s(der, dlen, *out)) {
		free(*out);
		*out = NULL;
		fp_error_set(err, FP_EINVAL, "ES256 signature not understood");
	} else {
		*outn = ES256_SIG;
		rc = 0;
	}
out:
	free(der);
	EVP_MD_CTX_free(ctx);
	return rc;
}

char *fp_sign(const fp_key_t *key, const char *payload, fp_error_t *err)
{
	size_t plen = strlen(payload), hlen, n, slen = 0;
	char header[256], *tok;
	unsigned char *sig;
	json_error_t jerr;
	json_t *obj;

	fp_error_clear(err);
	if (!key->private) {
		fp_error_set(err, FP_EINVAL,
			     "%s is a public key: signing needs "
			     "the private key",
			     fp_sign_key_path(key));
		return NULL;
	}
	/* Only checked: what is signed is payload's bytes, not a dump. */
	obj = json_loadb(payload, plen, JSON_REJECT_DUPLICATES, &jerr);
	if (!json_is_object(obj)) {
		if (obj)
			fp_error_set(err, FP_EPARSE,
				     "the payload is not a JSON "
				     "object");
		else
			fp_error_set(err, FP_EPARSE,
				     "the payload is not a JSON "
				     "object: line %d column %d: %s",
				     jerr.line, jerr.column, jerr.text);
		json_decref(obj);
		return NULL;
	}
	json_decref(obj);
	hlen = (size_t)snprintf(header, sizeof(header),
				"{\"alg\":\"%s\",\"kid\":\"%s\","
				"\"typ\":\"JWT\"}",
				fp_sign_key_alg(key), key->kid);
	tok = malloc(_b64url_size(hlen) + _b64url_size(plen) +
		     _b64url_size(EVP_PKEY_get_size(key->pkey) + 64) + 2);
	if (!tok) {
		fp_error_set(err, FP_ENOMEM, "out of memory");
		return NULL;
	}
	n = fp_sign_b64url_encode((const unsigned char *)header, hlen, tok);
	tok[n++] = '.';
	n += fp_sign_b64url_encode((const unsigned char *)payload, plen,
				   tok + n);
	if (_sign_input(key, tok, n, &sig, &slen, err)) {
		free(tok);
		return NULL;
	}
	tok[n++] = '.';
	fp_sign_b64url_encode(sig, slen, tok + n);
	free(sig);
	return tok;
}

/* Splits the token and reads its header without trusting it: the alg and
 * kid it names are checked against our keys afterwards, and headers that
 * would have a verifier fetch or accept a key from the token are refused. */
int fp_sign_jws_parse(const char *token, struct jws *j, fp_verify_info_t *info,
		      fp_error_t *err)
{
	static const char *const forbidden[] = { "jwk", "jku", "x5u", "x5c",
						 "crit" };
	const char *d1 = strchr(token, '.'),
		   *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
	unsigned char *raw;
	size_t len;
	json_t *h, *alg, *kid;
	const char *a;
	int rc = 0;

	memset(j, 0, sizeof(*j));
	if (!d1 || !d2 || strchr(d2 + 1, '.')) {
		fp_error_set(err, FP_EPARSE, "not a JWS compact token");
		return set_fault(info, FP_VERIFY_MALFORMED);
	}
	j->token = token;
	j->hlen = (size_t)(d1 - token);
	j->payload = d1 + 1;
	j->plen = (size_t)(d2 - d1 - 1);
	j->sig = d2 + 1;
	raw = _b64url_decode(token, j->hlen, &len);
	if (!raw) {
		fp_error_set(err, FP_EPARSE, "token header is not base64url");
		return set_fault(info, FP_VERIFY_MALFORMED);
	}
	h = json_loadb((char *)raw, len, JSON_REJECT_DUPLICATES, NULL);
	free(raw);
	if (!json_is_object(h)) {
		json_decref(h);
		fp_error_set(err, FP_EPARSE,
			     "token header is not a JSON object");
		return set_fault(info, FP_VERIFY_MALFORMED);
	}
	alg = json_object_get(h, "alg");
	kid = json_object_get(h, "kid");
	a = json_is_string(alg) ? json_string_value(alg) : "";
	for (size_t i = 0; i < sizeof(forbidden) / sizeof(*forbidden); i++)
		if (json_object_get(h, forbidden[i])) {
			rc = fp_error_set(
				err, FP_EINVAL,
				"token rejected: header "
				"'%s' (only keys the verifier already "
				"trusts are used)",
				forbidden[i]);
			set_fault(info, FP_VERIFY_FORBIDDEN);
			goto out;
		}
	if (!strcasecmp(a, "none")) {
		rc = fp_error_set(err, FP_EINVAL,
				  "token rejected: alg 'none' "
				  "(unsigned)");
		set_fault(info, FP_VERIFY_FORBIDDEN);
	} else if (!strncasecmp(a, "HS", 2)) {
		rc = fp_error_set(err, FP_EINVAL,
				  "token rejected: HMAC algorithm "
				  "'%.16s' (only ES256 and RS256 public keys)",
				  a);
		set_fault(info, FP_VERIFY_FORBIDDEN);
	} else if (strcmp(a, "ES256") && strcmp(a, "RS256")) {
		rc = fp_error_set(err, FP_EINVAL,
				  "token rejected: algorithm "
				  "'%.16s' is not ES256 or RS256",
				  a);
		set_fault(info, FP_VERIFY_FORBIDDEN);
	} else if (!json_is_string(kid) || !*json_string_value(kid)) {
		rc = fp_error_set(err, FP_EINVAL, "token rejected: no kid");
		set_fault(info, FP_VERIFY_MALFORMED);
	} else if (strlen(json_string_value(kid)) >= MAX_KID) {
		rc = fp_error_set(err, FP_EINVAL,
				  "token rejected: kid of %zu "
				  "characters",
				  strlen(json_string_value(kid)));
		set_fault(info, FP_VERIFY_MALFORMED);
	} else {
		snprintf(j->alg, sizeof(j->alg), "%s", a);
		snprintf(j->kid, sizeof(j->kid), "%s", json_string_value(kid));
	}
out:
	json_decref(h);
	return rc;
}

/* Raw r || s -> DER for OpenSSL; *high tells whether S > n/2. */
static unsigned char *_es256_der(const unsigned char *raw, size_t *len,
				 bool *high)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(raw, 32, NULL),
	       *s = BN_bin2bn(raw + 32, 32, NULL);
	BIGNUM *n = NULL, *half = NULL;
	unsigned char *der = NULL;
	int dlen;

	if (!sig || !r || !s || _p256_order(&n, &half)) {
		ECDSA_SIG_free(sig);
		BN_free(r);
		BN_free(s);
		return NULL;
	}
	*high = BN_cmp(s, half) > 0;
	BN_free(n);
	BN_free(half);
	ECDSA_SIG_set0(sig, r, s);
	dlen = i2d_ECDSA_SIG(sig, &der);
	ECDSA_SIG_free(sig);
	if (dlen <= 0)
		return NULL;
	*len = (size_t)dlen;
	return der;
}

/* The signature of j with key (whose alg and kid the caller matched);
 * returns the payload bytes. */
char *fp_sign_jws_check(const struct jws *j, const fp_key_t *key,
			unsigned flags, fp_verify_info_t *info, fp_error_t *err)
{
	size_t slen = strlen(j->sig), rawlen = 0, plen, dlen = 0;
	unsigned char *raw = slen ? _b64url_decode(j->sig, slen, &rawlen)
				  : NULL,
		      *der = NULL, *payload = NULL;
	const unsigned char *check;
	EVP_MD_CTX *ctx = NULL;
	bool high = false;
	int ok = 0;

	if (!raw) {
		fp_error_set(err, FP_EINVAL,
			     "token rejected: signature missing or "
			     "not canonical base64url");
		set_fault(info, FP_VERIFY_MALFORMED);
		return NULL;
	}
	payload = _b64url_decode(j->payload, j->plen, &plen);
	if (!payload) {
		free(raw);
		fp_error_set(err, FP_EPARSE, "token payload is not base64url");
		set_fault(info, FP_VERIFY_MALFORMED);
		return NULL;
	}
	check = raw;
	dlen = rawlen;
	if (key->alg == FP_ALG_ES256) {
		/* RFC 7518 3.4: exactly 32 + 32 bytes, never DER. */
		der = rawlen == ES256_SIG ? _es256_der(raw, &dlen, &high)
					  : NULL;
		check = der;
	}
	ctx = EVP_MD_CTX_new();
	if (check && ctx &&
	    EVP_DigestVerifyInit(ctx, NULL, EVP_sha256(), NULL, key->pub) == 1)
		ok = EVP_DigestVerify(ctx, check, dlen,
				      (const unsigned char *)j->token,
				      j->hlen + 1 + j->plen) == 1;
	EVP_MD_CTX_free(ctx);
	OPENSSL_free(der);
	free(raw);
	if (!ok) {
		free(payload);
		fp_error_set(err, FP_EINVAL,
			     "token rejected: altered content "
			     "(%s signature does not verify with key %s of %s)",
			     fp_sign_key_alg(key), key->kid,
			     fp_sign_key_path(key));
		set_fault(info, FP_VERIFY_ALTERED);
		return NULL;
	}
	/* Checked after the signature: a high S that verifies is a token
	 * signed before low-S signing, or the twin of a low-S one. */
	if (high && !(flags & FP_VERIFY_ACCEPT_HIGH_S)) {
		free(payload);
		fp_error_set(err, FP_EINVAL,
			     "token rejected: high-S ECDSA "
			     "signature (malleable twin)");
		set_fault(info, FP_VERIFY_HIGH_S);
		return NULL;
	}
	if (info) {
		info->key = key;
		info->high_s = high;
		info->fault = FP_VERIFY_OK;
	}
	return (char *)payload;
}

char *fp_sign_verify(const fp_key_t *key, const char *token, fp_error_t *err)
{
	struct jws j;

	fp_error_clear(err);
	if (fp_sign_jws_parse(token, &j, NULL, err))
		return NULL;
	if (strcmp(j.alg, fp_sign_key_alg(key))) {
		fp_error_set(err, FP_EINVAL,
			     "token rejected: algorithm '%s' does "
			     "not match the key's %s",
			     j.alg, fp_sign_key_alg(key));
		return NULL;
	}
	if (strcmp(j.kid, key->kid)) {
		fp_error_set(err, FP_EINVAL,
			     "token rejected: kid '%s' is not this "
			     "key's '%s'",
			     j.kid, key->kid);
		return NULL;
	}
	return fp_sign_jws_check(&j, key, 0, NULL, err);
}
