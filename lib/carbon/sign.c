/* Signed summaries: the JWS compact form built here over the exact payload
 * bytes, signatures through OpenSSL's EVP; keys, fingerprints, key sets. */
#include "footprint/sign.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "footprint/config.h"

#define MAX_KEY_FILE 65536
#define MAX_KID 128
#define ES256_SIG 64

/* The order n of P-256 (FIPS 186-4 D.1.2.3), for low-S signatures. */
#define P256_ORDER \
	"FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551"

enum fp_alg { FP_ALG_ES256, FP_ALG_RS256 };

static const char *const alg_names[] = { "ES256", "RS256" };

struct fp_key {
	EVP_PKEY *pkey; /* as loaded: private or public */
	EVP_PKEY *pub;	/* its public half, what verification uses */
	bool private;
	enum fp_alg alg;
	char kid[64];
	char *path;
};

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

/* base64url without padding, through OpenSSL's encoder; out holds
 * 4 * ((n + 2) / 3) + 1 bytes. */
static size_t b64url_encode(const unsigned char *in, size_t n, char *out)
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

static size_t b64url_size(size_t n)
{
	return 4 * ((n + 2) / 3) + 1;
}

/* Decodes a base64url segment; NULL if it has a character outside the
 * alphabet or is not the canonical encoding of its bytes (so that no two
 * tokens carry the same signature bytes). */
static unsigned char *b64url_decode(const char *seg, size_t n, size_t *outn)
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
	again = malloc(b64url_size((n + pad) / 4 * 3));
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
	if (b64url_encode(out, *outn, again) != n || memcmp(again, seg, n)) {
		free(out);
		free(again);
		return NULL;
	}
	free(again);
	return out;
}

/* The fingerprint and a public-only copy of pkey: a private key must
 * verify with exactly what its .pub file would hold. */
static EVP_PKEY *public_half(EVP_PKEY *pkey, char kid[64], const char *path,
			     fp_error_t *err)
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
	b64url_encode(md, mdlen, kid);
	return pub;
}

static int key_alg(EVP_PKEY *pkey, enum fp_alg *alg, const char *path,
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

static int mode_ok(const char *path, const struct stat *st, fp_error_t *err)
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

/* The file's bytes, or NULL with "cannot read key file PATH: why". */
static char *read_key_file(const char *path, bool private, size_t *len,
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
	if (fstat(fd, &st) || (private && mode_ok(path, &st, err)) ||
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

static fp_key_t *key_load(const char *path, bool private, fp_error_t *err)
{
	size_t len = 0;
	char *pem = read_key_file(path, private, &len, err);
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
	key->pkey =
		!bio	  ? NULL
		: private ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase,
						    NULL)
			  : PEM_read_bio_PUBKEY(bio, NULL, no_passphrase, NULL);
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
	if (key_alg(key->pkey, &key->alg, path, err) ||
	    !(key->pub = public_half(key->pkey, key->kid, path, err))) {
		fp_sign_key_free(key);
		return NULL;
	}
	return key;
}

fp_key_t *fp_sign_key_load_private(const char *path, fp_error_t *err)
{
	fp_error_clear(err);
	return key_load(path, true, err);
}

fp_key_t *fp_sign_key_load_public(const char *path, fp_error_t *err)
{
	fp_error_clear(err);
	return key_load(path, false, err);
}

static FILE *create(const char *path, mode_t mode, fp_error_t *err)
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
	pub = public_half(pkey, k, kpath, err);
	if (!pub)
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

/* n and n/2 of P-256 (floor: n is odd, so S is high when S > n/2). */
static int p256_order(BIGNUM **n, BIGNUM **half)
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
static int es256_raw_low_s(const unsigned char *der, size_t len,
			   unsigned char out[ES256_SIG])
{
	const unsigned char *p = der;
	ECDSA_SIG *sig = d2i_ECDSA_SIG(NULL, &p, (long)len);
	const BIGNUM *r, *s;
	BIGNUM *n, *half, *low = NULL;
	int rc = -1;

	if (!sig)
		return -1;
	if (p256_order(&n, &half)) {
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
static int sign_input(const fp_key_t *key, const char *in, size_t n,
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
		   es256_raw_low_s(der, dlen, *out)) {
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
	tok = malloc(b64url_size(hlen) + b64url_size(plen) +
		     b64url_size(EVP_PKEY_get_size(key->pkey) + 64) + 2);
	if (!tok) {
		fp_error_set(err, FP_ENOMEM, "out of memory");
		return NULL;
	}
	n = b64url_encode((const unsigned char *)header, hlen, tok);
	tok[n++] = '.';
	n += b64url_encode((const unsigned char *)payload, plen, tok + n);
	if (sign_input(key, tok, n, &sig, &slen, err)) {
		free(tok);
		return NULL;
	}
	tok[n++] = '.';
	b64url_encode(sig, slen, tok + n);
	free(sig);
	return tok;
}

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

static int set_fault(fp_verify_info_t *info, int fault)
{
	if (info)
		info->fault = fault;
	return -1;
}

/* Splits the token and reads its header without trusting it: the alg and
 * kid it names are checked against our keys afterwards, and headers that
 * would have a verifier fetch or accept a key from the token are refused. */
static int jws_parse(const char *token, struct jws *j, fp_verify_info_t *info,
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
	raw = b64url_decode(token, j->hlen, &len);
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
static unsigned char *es256_der(const unsigned char *raw, size_t *len,
				bool *high)
{
	ECDSA_SIG *sig = ECDSA_SIG_new();
	BIGNUM *r = BN_bin2bn(raw, 32, NULL),
	       *s = BN_bin2bn(raw + 32, 32, NULL);
	BIGNUM *n = NULL, *half = NULL;
	unsigned char *der = NULL;
	int dlen;

	if (!sig || !r || !s || p256_order(&n, &half)) {
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
static char *jws_check(const struct jws *j, const fp_key_t *key, unsigned flags,
		       fp_verify_info_t *info, fp_error_t *err)
{
	size_t slen = strlen(j->sig), rawlen = 0, plen, dlen = 0;
	unsigned char *raw = slen ? b64url_decode(j->sig, slen, &rawlen) : NULL,
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
	payload = b64url_decode(j->payload, j->plen, &plen);
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
		der = rawlen == ES256_SIG ? es256_der(raw, &dlen, &high) : NULL;
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

static void info_clear(fp_verify_info_t *info)
{
	if (info)
		memset(info, 0, sizeof(*info));
}

char *fp_sign_verify(const fp_key_t *key, const char *token, fp_error_t *err)
{
	struct jws j;

	fp_error_clear(err);
	if (jws_parse(token, &j, NULL, err))
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
	return jws_check(&j, key, 0, NULL, err);
}

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

static int add_source(fp_keyset_t *ks, const char *where, fp_error_t *err)
{
	size_t old = ks->sources ? strlen(ks->sources) : 0;
	char *s = realloc(ks->sources, old + strlen(where) + 3);

	if (!s)
		return fp_error_set(err, FP_ENOMEM, "out of memory");
	snprintf(s + old, strlen(where) + 3, "%s%s", old ? ", " : "", where);
	ks->sources = s;
	return 0;
}

static const fp_key_t *keyset_find(const fp_keyset_t *ks, const char *kid)
{
	for (size_t i = 0; i < ks->n; i++)
		if (!strcmp(ks->keys[i]->kid, kid))
			return ks->keys[i];
	return NULL;
}

/* Takes key; one with a kid already there is the same public key (the kid
 * is its SHA-256), kept once. */
static int keyset_take(fp_keyset_t *ks, fp_key_t *key, fp_error_t *err)
{
	if (keyset_find(ks, key->kid)) {
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

static int add_file(fp_keyset_t *ks, const char *path, fp_error_t *err)
{
	fp_key_t *key = key_load(path, false, err);

	return key ? keyset_take(ks, key, err) : -1;
}

int fp_sign_keyset_add_file(fp_keyset_t *ks, const char *path, fp_error_t *err)
{
	fp_error_clear(err);
	if (add_file(ks, path, err))
		return -1;
	return add_source(ks, path, err);
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
	if (keyset_take(ks, copy, err))
		return -1;
	return add_source(ks, fp_sign_key_path(key), err);
}

static int pub_file(const struct dirent *d)
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
	n = scandir(dir, &names, pub_file, alphasort);
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
				rc = add_file(ks, path, err);
		}
		free(path);
		free(names[i]);
	}
	free(names);
	return rc ? rc : add_source(ks, dir, err);
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

char *fp_sign_keyset_verify(const fp_keyset_t *ks, const char *token,
			    unsigned flags, fp_verify_info_t *info,
			    fp_error_t *err)
{
	const fp_key_t *key;
	struct jws j;

	fp_error_clear(err);
	info_clear(info);
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
	if (jws_parse(token, &j, info, err))
		return NULL;
	key = keyset_find(ks, j.kid);
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
	return jws_check(&j, key, flags, info, err);
}
