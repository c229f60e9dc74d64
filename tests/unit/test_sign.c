/* Specification of lib/sign: keys and permissions, JWS signing checked by
 * an independent implementation (python3-jwt), and every forgery refused. */
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

#include "sign.h"

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
static int py(const char *mode, const char *a, const char *b, char *out,
	      size_t outsz)
{
	char cmd[1024];
	FILE *p;
	int rc;

	snprintf(cmd, sizeof(cmd), PY " %s/t.py %s '%s' '%s' 2>/dev/null",
		 dir, mode, a, b);
	p = popen(cmd, "r");
	assert_non_null(p);
	out[0] = '\0';
	if (fgets(out, (int)outsz, p))
		out[strcspn(out, "\n")] = '\0';
	rc = pclose(p);
	return rc;
}

static void path_of(char *buf, size_t n, const char *prefix,
		    const char *ext)
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
	if (fp_keygen(es_prefix, "ES256", &kid, &err))
		return -1;
	snprintf(es_kid, sizeof(es_kid), "%s", kid);
	free(kid);
	if (fp_keygen(rs_prefix, "RS256", &kid, &err))
		return -1;
	snprintf(rs_kid, sizeof(rs_kid), "%s", kid);
	free(kid);
	return fp_keygen(other_prefix, NULL, NULL, &err);
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
	k = private ? fp_key_load_private(path, &err) :
		fp_key_load_public(path, &err);
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
	fp_key_free(k);
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

	assert_int_equal(fp_keygen(es_prefix, "ES256", NULL, &err), -1);
	assert_non_null(strstr(err.msg, "es.key"));
}

static void test_keygen_rejects_an_unknown_algorithm(void **s)
{
	char prefix[160];
	fp_error_t err = { 0 };

	snprintf(prefix, sizeof(prefix), "%s/hs", dir);
	assert_int_equal(fp_keygen(prefix, "HS256", NULL, &err), -1);
	assert_non_null(strstr(err.msg, "HS256"));
}

static void test_kid_is_base64url_sha256_of_the_der_public_key(void **s)
{
	char path[160], want[128];
	fp_key_t *priv = load(es_prefix, true), *pub = load(es_prefix, false);

	path_of(path, sizeof(path), es_prefix, "pub");
	assert_int_equal(py("kid", path, "-", want, sizeof(want)), 0);
	assert_string_equal(fp_key_kid(pub), want);
	assert_string_equal(fp_key_kid(priv), want);
	assert_string_equal(es_kid, want);
	assert_string_equal(fp_key_alg(pub), "ES256");
	fp_key_free(priv);
	fp_key_free(pub);
}

static void test_private_key_readable_by_group_is_refused(void **s)
{
	char path[160];
	fp_error_t err = { 0 };

	path_of(path, sizeof(path), other_prefix, "key");
	assert_int_equal(chmod(path, 0640), 0);
	assert_null(fp_key_load_private(path, &err));
	assert_non_null(strstr(err.msg, path));
	assert_non_null(strstr(err.msg, "0640"));
	assert_int_equal(fp_key_check_mode(path, &err), -1);
	assert_int_equal(chmod(path, 0600), 0);
	assert_int_equal(fp_key_check_mode(path, &err), 0);
}

static void test_es256_round_trip_returns_the_exact_payload(void **s)
{
	char *tok = sign_with(es_prefix), *got;
	fp_key_t *pub = load(es_prefix, false);
	fp_error_t err = { 0 };

	got = fp_verify(pub, tok, &err);
	if (!got)
		fail_msg("%s", err.msg);
	assert_non_null(strstr(got, "\"footprint\":125.5"));
	free(got);
	free(tok);
	fp_key_free(pub);
}

static void test_rs256_round_trip(void **s)
{
	char *tok = sign_with(rs_prefix), *got;
	fp_key_t *pub = load(rs_prefix, false);
	fp_error_t err = { 0 };

	assert_string_equal(fp_key_alg(pub), "RS256");
	got = fp_verify(pub, tok, &err);
	if (!got)
		fail_msg("%s", err.msg);
	free(got);
	free(tok);
	fp_key_free(pub);
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
		got = fp_verify(pub, tok, &err);
		if (got)
			fail_msg("byte %zu of %zu flipped, still valid", i, n);
		tok[i] = saved;
	}
	got = fp_verify(pub, tok, &err);
	assert_non_null(got);
	free(got);
	free(tok);
	fp_key_free(pub);
}

static void check_forgery_refused(const char *mode, const char *why)
{
	char ppath[160], tok[4096];
	fp_key_t *pub = load(es_prefix, false);
	fp_error_t err = { 0 };

	path_of(ppath, sizeof(ppath), es_prefix, "pub");
	assert_int_equal(py(mode, ppath, es_kid, tok, sizeof(tok)), 0);
	assert_true(strlen(tok) > 20);
	assert_null(fp_verify(pub, tok, &err));
	assert_non_null(strstr(err.msg, why));
	fp_key_free(pub);
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

	assert_null(fp_verify(pub, tok, &err));
	assert_non_null(strstr(err.msg, "kid"));
	free(tok);
	fp_key_free(pub);
}

static void test_rs256_token_is_rejected_by_an_es256_key(void **s)
{
	char *tok = sign_with(rs_prefix);
	fp_key_t *pub = load(es_prefix, false);
	fp_error_t err = { 0 };

	assert_null(fp_verify(pub, tok, &err));
	assert_non_null(strstr(err.msg, "RS256"));
	free(tok);
	fp_key_free(pub);
}

static void test_signing_with_a_public_key_fails_cleanly(void **s)
{
	fp_key_t *pub = load(es_prefix, false);
	fp_error_t err = { 0 };

	assert_null(fp_sign(pub, payload, &err));
	assert_int_not_equal(err.code, FP_OK);
	fp_key_free(pub);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_keygen_writes_0600_private_and_0644_public),
		cmocka_unit_test(test_keygen_never_overwrites_a_key),
		cmocka_unit_test(test_keygen_rejects_an_unknown_algorithm),
		cmocka_unit_test(test_kid_is_base64url_sha256_of_the_der_public_key),
		cmocka_unit_test(test_private_key_readable_by_group_is_refused),
		cmocka_unit_test(test_es256_round_trip_returns_the_exact_payload),
		cmocka_unit_test(test_rs256_round_trip),
		cmocka_unit_test(test_python_jwt_verifies_our_es256_signature),
		cmocka_unit_test(test_python_jwt_verifies_our_rs256_signature),
		cmocka_unit_test(test_any_flipped_byte_fails_verification),
		cmocka_unit_test(test_alg_none_is_rejected),
		cmocka_unit_test(test_hs256_forgery_with_the_public_key_is_rejected),
		cmocka_unit_test(test_hs512_forgery_is_rejected),
		cmocka_unit_test(test_token_of_another_key_is_rejected_for_its_kid),
		cmocka_unit_test(test_rs256_token_is_rejected_by_an_es256_key),
		cmocka_unit_test(test_signing_with_a_public_key_fails_cleanly),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
