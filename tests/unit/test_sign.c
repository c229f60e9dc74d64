/* Specification of lib/sign: keys and permissions, JWS signing checked by
 * an independent implementation (python3-jwt), every forgery refused, the
 * exact summary bytes signed, low-S only, key sets for key rotation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/bn.h>
#include <openssl/evp.h>

#include "footprint/carbon.h"
#include "footprint/config.h"
#include "footprint/sign.h"
#include "footprint/summary.h"

#define PY "/usr/bin/python3"

static char dir[64];
static char es_prefix[128], rs_prefix[128], other_prefix[128];
static char es_kid[64], rs_kid[64];

static const char payload[] =
	"{\"carbon\":{\"footprint\":125.5},\"job\":{\"id\":4242},"
	"\"schema_version\":1}";

/* The independent side: PyJWT for verification, and hand-made forgeries
 * (PyJWT refuses to build them, which is the point). */
static const char pyscript[] =
	"import sys, json, base64, hmac, hashlib\n"
	"import jwt\n"
	"from cryptography.hazmat.primitives import serialization\n"
	"def b64(b): return base64.urlsafe_b64encode(b).rstrip(b'=').decode()\n"
	"mode, a, b = sys.argv[1], sys.argv[2], sys.argv[3]\n"
	"if mode == 'verify':\n"
	"    tok = open(a).read().strip(); pub = open(b, 'rb').read()\n"
	"    h = jwt.get_unverified_header(tok)\n"
	"    p = jwt.decode(tok, pub, algorithms=[h['alg']])\n"
	"    print(h['alg'], h['kid'], p['job']['id'])\n"
	"elif mode == 'sign':\n"
	"    key = open(a, 'rb').read(); kid, extra = b, sys.argv[4]\n"
	"    alg = 'RS256' if b'RSA' in key or len(key) > 1000 else 'ES256'\n"
	"    vals = {'jwk': {'kty': 'EC'}, 'jku': 'https://evil.example/k',\n"
	"            'x5u': 'https://evil.example/c', 'x5c': ['MIIB'],\n"
	"            'crit': ['exp']}\n"
	"    h = {'kid': kid}\n"
	"    if extra != '-': h[extra] = vals[extra]\n"
	"    print(jwt.encode({'job': {'id': 4242}}, key, algorithm=alg, headers=h))\n"
	"elif mode == 'kid':\n"
	"    k = serialization.load_pem_public_key(open(a, 'rb').read())\n"
	"    der = k.public_bytes(serialization.Encoding.DER,\n"
	"        serialization.PublicFormat.SubjectPublicKeyInfo)\n"
	"    print(b64(hashlib.sha256(der).digest()))\n"
	"else:\n"
	"    pub = open(a, 'rb').read(); kid = b\n"
	"    body = b64(json.dumps({'job': {'id': 666}}).encode())\n"
	"    if mode == 'none':\n"
	"        h = b64(json.dumps({'alg': 'none', 'typ': 'JWT', 'kid': kid}).encode())\n"
	"        print(h + '.' + body + '.')\n"
	"    else:\n"
	"        h = b64(json.dumps({'alg': mode, 'typ': 'JWT', 'kid': kid}).encode())\n"
	"        d = {'HS256': hashlib.sha256, 'HS512': hashlib.sha512}[mode]\n"
	"        s = hmac.new(pub, (h + '.' + body).encode(), d).digest()\n"
	"        print(h + '.' + body + '.' + b64(s))\n";

/* Runs the script; its first output line goes to out. */
static int py3(const char *mode, const char *a, const char *b, const char *c,
	       char *out, size_t outsz)
{
	char cmd[1024];
	FILE *p;
	int rc;

	snprintf(cmd, sizeof(cmd), PY " %s/t.py %s '%s' '%s' '%s' 2>/dev/null",
		 dir, mode, a, b, c);
	p = popen(cmd, "r");
	assert_non_null(p);
	out[0] = '\0';
	if (fgets(out, (int)outsz, p))
		out[strcspn(out, "\n")] = '\0';
	rc = pclose(p);
	return rc;
}

static int py(const char *mode, const char *a, const char *b, char *out,
	      size_t outsz)
{
	return py3(mode, a, b, "-", out, outsz);
}

static void path_of(char *buf, size_t n, const char *prefix, const char *ext)
{
	snprintf(buf, n, "%s.%s", prefix, ext);
}

static int setup(void **state)
{
	char path[128], *kid = NULL;
	FILE *f;
	fp_error_t err = { 0 };

	snprintf(dir, sizeof(dir), "/tmp/fp-sign-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/t.py", dir);
	f = fopen(path, "w");
	fputs(pyscript, f);
	fclose(f);
	snprintf(es_prefix, sizeof(es_prefix), "%s/es", dir);
	snprintf(rs_prefix, sizeof(rs_prefix), "%s/rs", dir);
	snprintf(other_prefix, sizeof(other_prefix), "%s/other", dir);
	if (fp_sign_keygen(es_prefix, "ES256", &kid, &err))
		return -1;
	snprintf(es_kid, sizeof(es_kid), "%s", kid);
	free(kid);
	if (fp_sign_keygen(rs_prefix, "RS256", &kid, &err))
		return -1;
	snprintf(rs_kid, sizeof(rs_kid), "%s", kid);
	free(kid);
	return fp_sign_keygen(other_prefix, NULL, NULL, &err);
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static fp_key_t *load(const char *prefix, bool private)
{
	char path[160];
	fp_error_t err = { 0 };
	fp_key_t *k;

	path_of(path, sizeof(path), prefix, private ? "key" : "pub");
	k = private ? fp_sign_key_load_private(path, &err)
		    : fp_sign_key_load_public(path, &err);
	if (!k)
		fail_msg("%s", err.msg);
	return k;
}

static char *sign_with(const char *prefix)
{
	fp_key_t *k = load(prefix, true);
	fp_error_t err = { 0 };
	char *tok = fp_sign(k, payload, &err);

	assert_non_null(tok);
	fp_sign_key_free(k);
	return tok;
}

static void test_keygen_writes_0600_private_and_0644_public(void **s)
{
	char path[160];
	struct stat st;

	path_of(path, sizeof(path), es_prefix, "key");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	path_of(path, sizeof(path), es_prefix, "pub");
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
}

static void test_keygen_never_overwrites_a_key(void **s)
{
	fp_error_t err = { 0 };

	assert_int_equal(fp_sign_keygen(es_prefix, "ES256", NULL, &err), -1);
	assert_non_null(strstr(err.msg, "es.key"));
}

static void test_keygen_rejects_an_unknown_algorithm(void **s)
{
	char prefix[160];
	fp_error_t err = { 0 };

	snprintf(prefix, sizeof(prefix), "%s/hs", dir);
	assert_int_equal(fp_sign_keygen(prefix, "HS256", NULL, &err), -1);
	assert_non_null(strstr(err.msg, "HS256"));
}

static void test_kid_is_base64url_sha256_of_the_der_public_key(void **s)
{
	char path[160], want[128];
	fp_key_t *priv = load(es_prefix, true), *pub = load(es_prefix, false);

	path_of(path, sizeof(path), es_prefix, "pub");
	assert_int_equal(py("kid", path, "-", want, sizeof(want)), 0);
	assert_string_equal(fp_sign_key_kid(pub), want);
	assert_string_equal(fp_sign_key_kid(priv), want);
	assert_string_equal(es_kid, want);
	assert_string_equal(fp_sign_key_alg(pub), "ES256");
	fp_sign_key_free(priv);
	fp_sign_key_free(pub);
}

static void test_private_key_readable_by_group_is_refused(void **s)
{
	char path[160];
	fp_error_t err = { 0 };

	path_of(path, sizeof(path), other_prefix, "key");
	assert_int_equal(chmod(path, 0640), 0);
	assert_null(fp_sign_key_load_private(path, &err));
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "0640"));
	assert_int_equal(fp_sign_key_check_mode(path, &err), -1);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(fp_sign_key_check_mode(path, &err), 0);
}

static void test_es256_round_trip_returns_the_exact_payload(void **s)
{
	char *tok = sign_with(es_prefix), *got;
	fp_key_t *pub = load(es_prefix, false);
	fp_error_t err = { 0 };

	got = fp_sign_verify(pub, tok, &err);
	if (!got)
		fail_msg("%s", err.msg);
	assert_non_null(strstr(got, "\"footprint\":125.5"));
	free(got);
	free(tok);
	fp_sign_key_free(pub);
}

static void test_rs256_round_trip(void **s)
{
	char *tok = sign_with(rs_prefix), *got;
	fp_key_t *pub = load(rs_prefix, false);
	fp_error_t err = { 0 };

	assert_string_equal(fp_sign_key_alg(pub), "RS256");
	got = fp_sign_verify(pub, tok, &err);
	if (!got)
		fail_msg("%s", err.msg);
	free(got);
	free(tok);
	fp_sign_key_free(pub);
}

static void check_python_verifies(const char *prefix, const char *alg,
				  const char *kid)
{
	char *tok = sign_with(prefix), tpath[160], ppath[160], out[256],
	     want[256];
	FILE *f;

	snprintf(tpath, sizeof(tpath), "%s/%s.jws", dir, alg);
	f = fopen(tpath, "w");
	fputs(tok, f);
	fclose(f);
	path_of(ppath, sizeof(ppath), prefix, "pub");
	assert_int_equal(py("verify", tpath, ppath, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "%s %s 4242", alg, kid);
	assert_string_equal(out, want);
	free(tok);
}

static void test_python_jwt_verifies_our_es256_signature(void **s)
{
	check_python_verifies(es_prefix, "ES256", es_kid);
}

static void test_python_jwt_verifies_our_rs256_signature(void **s)
{
	check_python_verifies(rs_prefix, "RS256", rs_kid);
}

static void test_any_flipped_byte_fails_verification(void **s)
{
	char *tok = sign_with(es_prefix), *got;
	fp_key_t *pub = load(es_prefix, false);
	size_t n = strlen(tok);
	fp_error_t err = { 0 };

	for (size_t i = 0; i < n; i++) {
		char saved = tok[i];

		tok[i] ^= 1;
		got = fp_sign_verify(pub, tok, &err);
		if (got)
			fail_msg("byte %zu of %zu flipped, still valid", i, n);
		tok[i] = saved;
	}
	got = fp_sign_verify(pub, tok, &err);
	assert_non_null(got);
	free(got);
	free(tok);
	fp_sign_key_free(pub);
}

static void check_forgery_refused(const char *mode, const char *why)
{
	char ppath[160], tok[4096];
	fp_key_t *pub = load(es_prefix, false);
	fp_error_t err = { 0 };

	path_of(ppath, sizeof(ppath), es_prefix, "pub");
	assert_int_equal(py(mode, ppath, es_kid, tok, sizeof(tok)), 0);
	assert_true(strlen(tok) > 20);
	assert_null(fp_sign_verify(pub, tok, &err));
	assert_non_null(strstr(err.msg, why));
	fp_sign_key_free(pub);
}

static void test_alg_none_is_rejected(void **s)
{
	check_forgery_refused("none", "'none'");
}

static void test_hs256_forgery_with_the_public_key_is_rejected(void **s)
{
	check_forgery_refused("HS256", "HMAC");
}

static void test_hs512_forgery_is_rejected(void **s)
{
	check_forgery_refused("HS512", "HMAC");
}

static void test_token_of_another_key_is_rejected_for_its_kid(void **s)
{
	char *tok = sign_with(other_prefix);
	fp_key_t *pub = load(es_prefix, false);
	fp_error_t err = { 0 };

	assert_null(fp_sign_verify(pub, tok, &err));
	assert_non_null(strstr(err.msg, "kid"));
	free(tok);
	fp_sign_key_free(pub);
}

static void test_rs256_token_is_rejected_by_an_es256_key(void **s)
{
	char *tok = sign_with(rs_prefix);
	fp_key_t *pub = load(es_prefix, false);
	fp_error_t err = { 0 };

	assert_null(fp_sign_verify(pub, tok, &err));
	assert_non_null(strstr(err.msg, "RS256"));
	free(tok);
	fp_sign_key_free(pub);
}

static void test_signing_with_a_public_key_fails_cleanly(void **s)
{
	fp_key_t *pub = load(es_prefix, false);
	fp_error_t err = { 0 };

	assert_null(fp_sign(pub, payload, &err));
	assert_int_not_equal(err.code, FP_OK);
	fp_sign_key_free(pub);
}

/* The payload segment of a token, decoded independently of lib/sign. */
static char *payload_of(const char *tok)
{
	const char *a = strchr(tok, '.') + 1, *b = strchr(a, '.');
	size_t n = (size_t)(b - a), pad = (4 - n % 4) % 4;
	char *std = calloc(1, n + pad + 1);
	unsigned char *out = calloc(1, n + 4);
	int len;

	assert_non_null(std);
	assert_non_null(out);
	for (size_t i = 0; i < n; i++)
		std[i] = a[i] == '-' ? '+' : a[i] == '_' ? '/' : a[i];
	memset(std + n, '=', pad);
	len = EVP_DecodeBlock(out, (unsigned char *)std, (int)(n + pad));
	assert_true(len >= (int)pad);
	out[len - pad] = '\0';
	free(std);
	return (char *)out;
}

/* A job of 0.1 Wh: 0.1 has no exact binary form, so a re-serialization
 * prints it as 0.10000000000000001 where the summary wrote 0.1. */
static fp_result_t *small_job(void)
{
	fp_result_t *r = calloc(1, sizeof(*r));

	assert_non_null(r);
	r->job_id = 4242;
	r->user = strdup("alice");
	r->account = strdup("proj");
	r->start = 1705276800;
	r->end = 1705276860;
	r->elapsed_s = 60;
	r->energy_source = FP_ENERGY_MEASURED;
	r->complete = true;
	r->energy_it_j = 0.1 * 3600;
	r->energy_facility_j = 0.1 * 3600;
	r->operational_g = 0.1;
	r->footprint_g = 0.1;
	r->net_g = 0.1;
	r->reference_g = 0.3;
	r->pue = 1.0;
	r->core_hours = 0.1;
	r->per_core_hour_g = 1.0;
	r->intensity = 1000;
	r->reference_name = strdup("standard-datacenter");
	r->reference_intensity = strdup("site");
	snprintf(r->config_digest, sizeof(r->config_digest), "%064d", 7);
	return r;
}

static void test_signed_payload_is_the_exact_fp_summary_dumps_output(void **s)
{
	fp_result_t *r = small_job();
	fp_key_t *priv = load(es_prefix, true), *pub = load(es_prefix, false);
	fp_error_t err = { 0 };
	char *sum = fp_summary_dumps(r, &err), *tok, *seg, *got;

	assert_non_null(sum);
	assert_non_null(strstr(sum, "0.1"));
	tok = fp_sign(priv, sum, &err);
	assert_non_null(tok);
	seg = payload_of(tok);
	assert_string_equal(seg, sum);
	assert_null(strstr(seg, "0.10000000000000001"));
	got = fp_sign_verify(pub, tok, &err);
	assert_non_null(got);
	assert_string_equal(got, sum);
	free(got);
	free(seg);
	free(tok);
	free(sum);
	fp_carbon_result_free(r);
	fp_sign_key_free(priv);
	fp_sign_key_free(pub);
}

static void test_signed_payload_keeps_the_bytes_as_given(void **s)
{
	/* Spacing and key order of the input, not a canonical dump. */
	static const char text[] = "{ \"z\": 1.50, \"a\" : [1e3, 0.1] }";
	fp_key_t *priv = load(rs_prefix, true);
	fp_error_t err = { 0 };
	char *tok = fp_sign(priv, text, &err), *seg;

	assert_non_null(tok);
	seg = payload_of(tok);
	assert_string_equal(seg, text);
	free(seg);
	free(tok);
	fp_sign_key_free(priv);
}

static void check_payload_refused(const char *text, const char *why)
{
	fp_key_t *priv = load(es_prefix, true);
	fp_error_t err = { 0 };

	assert_null(fp_sign(priv, text, &err));
	if (!strstr(err.msg, why))
		fail_msg("'%s': '%s' lacks '%s'", text, err.msg, why);
	fp_sign_key_free(priv);
}

static void test_sign_refuses_a_payload_that_is_not_one_json_object(void **s)
{
	check_payload_refused("[1, 2]", "not a JSON object");
	check_payload_refused("{\"a\":1} {\"b\":2}", "not a JSON object");
	check_payload_refused("{\"a\":1}garbage", "not a JSON object");
	check_payload_refused("{\"a\":1,\"a\":2}", "duplicate");
	check_payload_refused("", "not a JSON object");
}

/* A token PyJWT signs with the key file, naming kid, with one header. */
static void py_token(const char *prefix, const char *kid, const char *extra,
		     char *tok, size_t n)
{
	char kpath[160];

	path_of(kpath, sizeof(kpath), prefix, "key");
	assert_int_equal(py3("sign", kpath, kid, extra, tok, n), 0);
	assert_true(strlen(tok) > 20);
}

static fp_keyset_t *keyset_of(const char *const *prefixes);

/* PyJWT (OpenSSL underneath) leaves S as it comes: high half the time. */
static void test_python_token_with_plain_header_verifies(void **s)
{
	const char *const trusted[] = { es_prefix, NULL };
	fp_keyset_t *ks = keyset_of(trusted);
	char tok[4096], *got;
	fp_error_t err = { 0 };

	py_token(es_prefix, es_kid, "-", tok, sizeof(tok));
	got = fp_sign_keyset_verify(ks, tok, FP_VERIFY_ACCEPT_HIGH_S, NULL,
				    &err);
	if (!got)
		fail_msg("%s", err.msg);
	free(got);
	fp_sign_keyset_free(ks);
}

static void test_validly_signed_token_with_key_headers_is_rejected(void **s)
{
	static const char *const names[] = { "jwk", "jku", "x5u", "x5c",
					     "crit" };
	fp_key_t *pub = load(es_prefix, false);

	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		char tok[4096], want[32];
		fp_error_t err = { 0 };

		py_token(es_prefix, es_kid, names[i], tok, sizeof(tok));
		assert_null(fp_sign_verify(pub, tok, &err));
		snprintf(want, sizeof(want), "'%s'", names[i]);
		if (!strstr(err.msg, want))
			fail_msg("%s: %s", names[i], err.msg);
	}
	fp_sign_key_free(pub);
}

/* P-256's order n and n/2. */
static void p256(BIGNUM **n, BIGNUM **half)
{
	*n = NULL;
	assert_true(BN_hex2bn(n, "FFFFFFFF00000000FFFFFFFFFFFFFFFF"
				 "BCE6FAADA7179E84F3B9CAC2FC632551"));
	*half = BN_new();
	assert_true(BN_rshift1(*half, *n));
}

/* Decodes the 64-byte ES256 signature of tok into raw. */
static void sig_of(const char *tok, unsigned char raw[66])
{
	const char *a = strrchr(tok, '.') + 1;
	char std[90];
	size_t n = strlen(a);

	assert_int_equal(n, 86);
	for (size_t i = 0; i < n; i++)
		std[i] = a[i] == '-' ? '+' : a[i] == '_' ? '/' : a[i];
	memcpy(std + 86, "==", 3);
	assert_int_equal(EVP_DecodeBlock(raw, (unsigned char *)std, 88), 66);
}

static void test_es256_signatures_are_always_low_s(void **s)
{
	fp_key_t *priv = load(es_prefix, true);
	BIGNUM *n, *half, *sv = BN_new();
	fp_error_t err = { 0 };

	p256(&n, &half);
	for (int i = 0; i < 200; i++) {
		unsigned char raw[66];
		char *tok = fp_sign(priv, payload, &err);

		assert_non_null(tok);
		sig_of(tok, raw);
		assert_non_null(BN_bin2bn(raw + 32, 32, sv));
		if (BN_cmp(sv, half) > 0)
			fail_msg("signature %d has a high S", i);
		free(tok);
	}
	BN_free(sv);
	BN_free(n);
	BN_free(half);
	fp_sign_key_free(priv);
}

/* The token with S replaced by n - S: the same signature's twin. */
static char *high_s_twin(const char *tok)
{
	unsigned char raw[66];
	BIGNUM *n, *half, *sv = BN_new();
	char *twin = strdup(tok), std[96];
	size_t at = (size_t)(strrchr(tok, '.') + 1 - tok);
	int len;

	assert_non_null(twin);
	p256(&n, &half);
	sig_of(tok, raw);
	assert_non_null(BN_bin2bn(raw + 32, 32, sv));
	assert_true(BN_sub(sv, n, sv));
	assert_true(BN_cmp(sv, half) > 0);
	assert_int_equal(BN_bn2binpad(sv, raw + 32, 32), 32);
	len = EVP_EncodeBlock((unsigned char *)std, raw, 64);
	assert_int_equal(len, 88);
	for (int i = 0; i < 86; i++)
		twin[at + i] = std[i] == '+'   ? '-'
			       : std[i] == '/' ? '_'
					       : std[i];
	BN_free(sv);
	BN_free(n);
	BN_free(half);
	return twin;
}

static void test_high_s_twin_of_a_valid_token_is_rejected(void **s)
{
	char *tok = sign_with(es_prefix), *twin = high_s_twin(tok), *got;
	fp_key_t *pub = load(es_prefix, false);
	fp_error_t err = { 0 };

	assert_string_not_equal(tok, twin);
	assert_null(fp_sign_verify(pub, twin, &err));
	assert_string_equal(err.msg, "token rejected: high-S ECDSA signature "
				     "(malleable twin)");
	got = fp_sign_verify(pub, tok, &err);
	assert_non_null(got);
	free(got);
	free(twin);
	free(tok);
	fp_sign_key_free(pub);
}

static fp_keyset_t *keyset_of(const char *const *prefixes)
{
	fp_keyset_t *ks = fp_sign_keyset_new();

	assert_non_null(ks);
	for (; *prefixes; prefixes++) {
		char path[160];
		fp_error_t err = { 0 };

		path_of(path, sizeof(path), *prefixes, "pub");
		if (fp_sign_keyset_add_file(ks, path, &err))
			fail_msg("%s", err.msg);
	}
	return ks;
}

static void test_high_s_token_is_accepted_only_when_asked_and_flagged(void **s)
{
	const char *const trusted[] = { es_prefix, NULL };
	fp_keyset_t *ks = keyset_of(trusted);
	char *tok = sign_with(es_prefix), *twin = high_s_twin(tok), *got;
	fp_verify_info_t info;
	fp_error_t err = { 0 };

	assert_null(fp_sign_keyset_verify(ks, twin, 0, &info, &err));
	assert_int_equal(info.fault, FP_VERIFY_HIGH_S);
	assert_non_null(strstr(err.msg, "high-S"));
	got = fp_sign_keyset_verify(ks, twin, FP_VERIFY_ACCEPT_HIGH_S, &info,
				    &err);
	assert_non_null(got);
	assert_true(info.high_s);
	assert_string_equal(fp_sign_key_kid(info.key), es_kid);
	free(got);
	got = fp_sign_keyset_verify(ks, tok, FP_VERIFY_ACCEPT_HIGH_S, &info,
				    &err);
	assert_non_null(got);
	assert_false(info.high_s);
	free(got);
	free(twin);
	free(tok);
	fp_sign_keyset_free(ks);
}

static void check_private_key_verifies(const char *prefix)
{
	char *tok = sign_with(prefix), *got;
	fp_key_t *priv = load(prefix, true);
	fp_error_t err = { 0 };

	got = fp_sign_verify(priv, tok, &err);
	if (!got)
		fail_msg("%s", err.msg);
	assert_string_equal(got, payload);
	free(got);
	tok[strlen(tok) - 3] ^= 1;
	assert_null(fp_sign_verify(priv, tok, &err));
	free(tok);
	fp_sign_key_free(priv);
}

static void test_es256_private_key_verifies_through_its_public_half(void **s)
{
	check_private_key_verifies(es_prefix);
}

static void test_rs256_private_key_verifies_through_its_public_half(void **s)
{
	check_private_key_verifies(rs_prefix);
}

static void test_keyset_selects_the_key_by_kid_and_says_which(void **s)
{
	const char *const trusted[] = { es_prefix, rs_prefix, other_prefix,
					NULL };
	const char *const signers[] = { es_prefix, rs_prefix, other_prefix };
	fp_keyset_t *ks = keyset_of(trusted);

	assert_int_equal(fp_sign_keyset_count(ks), 3);
	for (size_t i = 0; i < 3; i++) {
		fp_key_t *k = load(signers[i], false);
		char *tok = sign_with(signers[i]), *got, pub[160];
		fp_verify_info_t info;
		fp_error_t err = { 0 };

		got = fp_sign_keyset_verify(ks, tok, 0, &info, &err);
		if (!got)
			fail_msg("%s", err.msg);
		assert_string_equal(fp_sign_key_kid(info.key),
				    fp_sign_key_kid(k));
		path_of(pub, sizeof(pub), signers[i], "pub");
		assert_string_equal(fp_sign_key_path(info.key), pub);
		assert_int_equal(info.fault, FP_VERIFY_OK);
		free(got);
		free(tok);
		fp_sign_key_free(k);
	}
	fp_sign_keyset_free(ks);
}

static void test_keyset_unknown_kid_is_an_unknown_key(void **s)
{
	const char *const trusted[] = { es_prefix, rs_prefix, NULL };
	fp_keyset_t *ks = keyset_of(trusted);
	char *tok = sign_with(other_prefix), want[256], pub[160];
	fp_key_t *other = load(other_prefix, false);
	fp_verify_info_t info;
	fp_error_t err = { 0 };

	assert_null(fp_sign_keyset_verify(ks, tok, 0, &info, &err));
	assert_int_equal(info.fault, FP_VERIFY_UNKNOWN_KEY);
	path_of(pub, sizeof(pub), es_prefix, "pub");
	snprintf(want, sizeof(want),
		 "unknown key (kid %s is not among the "
		 "2 trusted keys in %s, ",
		 fp_sign_key_kid(other), pub);
	if (!strstr(err.msg, want))
		fail_msg("%s", err.msg);
	free(tok);
	fp_sign_key_free(other);
	fp_sign_keyset_free(ks);
}

static void test_keyset_another_key_claiming_a_trusted_kid_is_refused(void **s)
{
	const char *const trusted[] = { es_prefix, NULL };
	fp_keyset_t *ks = keyset_of(trusted);
	char tok[4096], want[160];
	fp_verify_info_t info;
	fp_error_t err = { 0 };

	py_token(other_prefix, es_kid, "-", tok, sizeof(tok));
	assert_null(fp_sign_keyset_verify(ks, tok, 0, &info, &err));
	assert_int_equal(info.fault, FP_VERIFY_ALTERED);
	snprintf(want, sizeof(want),
		 "altered content (ES256 signature does "
		 "not verify with key %s",
		 es_kid);
	if (!strstr(err.msg, want))
		fail_msg("%s", err.msg);
	fp_sign_keyset_free(ks);
}

static void test_keyset_altered_payload_is_altered_content(void **s)
{
	const char *const trusted[] = { rs_prefix, NULL };
	fp_keyset_t *ks = keyset_of(trusted);
	char *tok = sign_with(rs_prefix), *dot = strchr(tok, '.');
	fp_verify_info_t info;
	fp_error_t err = { 0 };

	dot[5] = dot[5] == 'A' ? 'B' : 'A';
	assert_null(fp_sign_keyset_verify(ks, tok, 0, &info, &err));
	assert_int_equal(info.fault, FP_VERIFY_ALTERED);
	assert_non_null(strstr(err.msg, "altered content"));
	assert_non_null(strstr(err.msg, rs_kid));
	free(tok);
	fp_sign_keyset_free(ks);
}

static void test_keyset_missing_key_file_blames_the_key_file(void **s)
{
	fp_keyset_t *ks = fp_sign_keyset_new();
	char path[160], want[256];
	fp_error_t err = { 0 };

	snprintf(path, sizeof(path), "%s/retired.pub", dir);
	assert_int_equal(fp_sign_keyset_add_file(ks, path, &err), -1);
	snprintf(want, sizeof(want),
		 "cannot read key file %s: No such file "
		 "or directory",
		 path);
	assert_string_equal(err.msg, want);
	assert_int_equal(fp_sign_keyset_count(ks), 0);
	fp_sign_keyset_free(ks);
}

static void test_keyset_empty_refuses_every_token(void **s)
{
	fp_keyset_t *ks = fp_sign_keyset_new();
	char *tok = sign_with(es_prefix);
	fp_verify_info_t info;
	fp_error_t err = { 0 };

	assert_null(fp_sign_keyset_verify(ks, tok, 0, &info, &err));
	assert_int_equal(info.fault, FP_VERIFY_NO_KEYS);
	free(tok);
	fp_sign_keyset_free(ks);
}

static void copy_file(const char *from, const char *to)
{
	char cmd[512];

	snprintf(cmd, sizeof(cmd), "cp '%s' '%s'", from, to);
	assert_int_equal(system(cmd), 0);
}

/* keys.d: the current ES256 key, a retired RSA key, the current key again
 * under another name, and a file that is not a key. */
static void make_key_dir(char *kdir, size_t n)
{
	char from[160], to[200];
	FILE *f;

	snprintf(kdir, n, "%s/keys.d", dir);
	mkdir(kdir, 0755);
	path_of(from, sizeof(from), es_prefix, "pub");
	snprintf(to, sizeof(to), "%s/2026-current.pub", kdir);
	copy_file(from, to);
	snprintf(to, sizeof(to), "%s/copy-of-current.pub", kdir);
	copy_file(from, to);
	path_of(from, sizeof(from), rs_prefix, "pub");
	snprintf(to, sizeof(to), "%s/2024-retired.pub", kdir);
	copy_file(from, to);
	snprintf(to, sizeof(to), "%s/README", kdir);
	f = fopen(to, "w");
	assert_non_null(f);
	fputs("not a key\n", f);
	fclose(f);
}

static void test_keyset_folder_trusts_every_pub_file_once(void **s)
{
	fp_keyset_t *ks = fp_sign_keyset_new();
	char kdir[128], *tok, *got;
	fp_verify_info_t info;
	fp_error_t err = { 0 };

	make_key_dir(kdir, sizeof(kdir));
	if (fp_sign_keyset_load_dir(ks, kdir, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(fp_sign_keyset_count(ks), 2);
	assert_string_equal(fp_sign_keyset_sources(ks), kdir);
	/* A summary of the retired key still verifies, and says so. */
	tok = sign_with(rs_prefix);
	got = fp_sign_keyset_verify(ks, tok, 0, &info, &err);
	if (!got)
		fail_msg("%s", err.msg);
	assert_non_null(strstr(fp_sign_key_path(info.key), "2024-retired.pub"));
	free(got);
	free(tok);
	fp_sign_keyset_free(ks);
}

static void test_keyset_folder_with_a_bad_pub_file_names_it(void **s)
{
	fp_keyset_t *ks = fp_sign_keyset_new();
	char kdir[128], bad[200];
	fp_error_t err = { 0 };
	FILE *f;

	make_key_dir(kdir, sizeof(kdir));
	snprintf(bad, sizeof(bad), "%s/broken.pub", kdir);
	f = fopen(bad, "w");
	assert_non_null(f);
	fputs("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
	      f);
	fclose(f);
	assert_int_equal(fp_sign_keyset_load_dir(ks, kdir, &err), -1);
	assert_non_null(strstr(err.msg, bad));
	unlink(bad);
	fp_sign_keyset_free(ks);
}

static void test_config_public_key_lines_and_folders_make_the_keyset(void **s)
{
	char text[1024], kdir[128], es[160], other[160], *tok, *got;
	fp_keyset_t *ks = fp_sign_keyset_new();
	fp_verify_info_t info;
	fp_error_t err = { 0 };
	fp_config_t *cfg;

	make_key_dir(kdir, sizeof(kdir));
	path_of(es, sizeof(es), es_prefix, "pub");
	path_of(other, sizeof(other), other_prefix, "pub");
	snprintf(text, sizeof(text),
		 "Site=paris Nodes=n1 Intensity=56\n"
		 "PublicKey=%s\nPublicKey=%s\nPublicKeys=%s\n",
		 es, other, kdir);
	cfg = fp_config_parse("footprint.conf", text, strlen(text), &err);
	if (!cfg)
		fail_msg("%s", err.msg);
	assert_int_equal(cfg->npublic_keys, 2);
	assert_string_equal(cfg->public_key, es);
	assert_int_equal(cfg->npublic_key_dirs, 1);
	if (fp_sign_keyset_add_config(ks, cfg, &err))
		fail_msg("%s", err.msg);
	assert_int_equal(fp_sign_keyset_count(ks), 3);
	tok = sign_with(other_prefix);
	got = fp_sign_keyset_verify(ks, tok, 0, &info, &err);
	assert_non_null(got);
	assert_string_equal(fp_sign_key_path(info.key), other);
	free(got);
	free(tok);
	fp_config_free(cfg);
	fp_sign_keyset_free(ks);
}

static void test_config_without_keys_trusts_the_default_public_key(void **s)
{
	fp_keyset_t *ks = fp_sign_keyset_new();
	fp_error_t err = { 0 };

	/* Whether the machine has that file or not, that file is the one. */
	if (fp_sign_keyset_add_config(ks, NULL, &err))
		assert_string_equal(
			err.msg, "cannot read key file " FP_DEFAULT_PUBLIC_KEY
				 ": No such file or "
				 "directory");
	else
		assert_string_equal(fp_sign_keyset_sources(ks),
				    FP_DEFAULT_PUBLIC_KEY);
	fp_sign_keyset_free(ks);
}

static void test_keyset_of_a_private_key_verifies_with_its_public_half(void **s)
{
	fp_key_t *priv = load(es_prefix, true);
	fp_keyset_t *ks = fp_sign_keyset_new();
	char *tok = sign_with(es_prefix), *got;
	fp_verify_info_t info;
	fp_error_t err = { 0 };

	assert_int_equal(fp_sign_keyset_add_key(ks, priv, &err), 0);
	fp_sign_key_free(priv);
	got = fp_sign_keyset_verify(ks, tok, 0, &info, &err);
	if (!got)
		fail_msg("%s", err.msg);
	assert_string_equal(fp_sign_key_kid(info.key), es_kid);
	/* The set holds no private key: it cannot sign. */
	assert_null(fp_sign(info.key, payload, &err));
	free(got);
	free(tok);
	fp_sign_keyset_free(ks);
}

static void test_keyset_of_an_empty_folder_says_no_pub_file_there(void **s)
{
	fp_keyset_t *ks = fp_sign_keyset_new();
	char kdir[128], *tok = sign_with(es_prefix), want[256];
	fp_verify_info_t info;
	fp_error_t err = { 0 };

	snprintf(kdir, sizeof(kdir), "%s/empty.d", dir);
	assert_int_equal(mkdir(kdir, 0755), 0);
	assert_int_equal(fp_sign_keyset_load_dir(ks, kdir, &err), 0);
	assert_null(fp_sign_keyset_verify(ks, tok, 0, &info, &err));
	assert_int_equal(info.fault, FP_VERIFY_NO_KEYS);
	snprintf(want, sizeof(want),
		 "no trusted public key: no *.pub file "
		 "in %s",
		 kdir);
	assert_string_equal(err.msg, want);
	free(tok);
	fp_sign_keyset_free(ks);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_keygen_writes_0600_private_and_0644_public),
		cmocka_unit_test(test_keygen_never_overwrites_a_key),
		cmocka_unit_test(test_keygen_rejects_an_unknown_algorithm),
		cmocka_unit_test(
			test_kid_is_base64url_sha256_of_the_der_public_key),
		cmocka_unit_test(test_private_key_readable_by_group_is_refused),
		cmocka_unit_test(
			test_es256_round_trip_returns_the_exact_payload),
		cmocka_unit_test(test_rs256_round_trip),
		cmocka_unit_test(test_python_jwt_verifies_our_es256_signature),
		cmocka_unit_test(test_python_jwt_verifies_our_rs256_signature),
		cmocka_unit_test(test_any_flipped_byte_fails_verification),
		cmocka_unit_test(test_alg_none_is_rejected),
		cmocka_unit_test(
			test_hs256_forgery_with_the_public_key_is_rejected),
		cmocka_unit_test(test_hs512_forgery_is_rejected),
		cmocka_unit_test(
			test_token_of_another_key_is_rejected_for_its_kid),
		cmocka_unit_test(test_rs256_token_is_rejected_by_an_es256_key),
		cmocka_unit_test(test_signing_with_a_public_key_fails_cleanly),
		cmocka_unit_test(
			test_signed_payload_is_the_exact_fp_summary_dumps_output),
		cmocka_unit_test(test_signed_payload_keeps_the_bytes_as_given),
		cmocka_unit_test(
			test_sign_refuses_a_payload_that_is_not_one_json_object),
		cmocka_unit_test(test_python_token_with_plain_header_verifies),
		cmocka_unit_test(
			test_validly_signed_token_with_key_headers_is_rejected),
		cmocka_unit_test(test_es256_signatures_are_always_low_s),
		cmocka_unit_test(test_high_s_twin_of_a_valid_token_is_rejected),
		cmocka_unit_test(
			test_high_s_token_is_accepted_only_when_asked_and_flagged),
		cmocka_unit_test(
			test_es256_private_key_verifies_through_its_public_half),
		cmocka_unit_test(
			test_rs256_private_key_verifies_through_its_public_half),
		cmocka_unit_test(
			test_keyset_selects_the_key_by_kid_and_says_which),
		cmocka_unit_test(test_keyset_unknown_kid_is_an_unknown_key),
		cmocka_unit_test(
			test_keyset_another_key_claiming_a_trusted_kid_is_refused),
		cmocka_unit_test(
			test_keyset_altered_payload_is_altered_content),
		cmocka_unit_test(
			test_keyset_missing_key_file_blames_the_key_file),
		cmocka_unit_test(test_keyset_empty_refuses_every_token),
		cmocka_unit_test(
			test_keyset_of_an_empty_folder_says_no_pub_file_there),
		cmocka_unit_test(test_keyset_folder_trusts_every_pub_file_once),
		cmocka_unit_test(
			test_keyset_folder_with_a_bad_pub_file_names_it),
		cmocka_unit_test(
			test_config_public_key_lines_and_folders_make_the_keyset),
		cmocka_unit_test(
			test_config_without_keys_trusts_the_default_public_key),
		cmocka_unit_test(
			test_keyset_of_a_private_key_verifies_with_its_public_half),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
