/* libFuzzer target: JWS verification (fp_sign_verify). The input is a token;
 * it is checked against a fixed P-256 key and a fixed RSA key, whose
 * private halves signed the seeds in corpus/jws and were then discarded. */
#include <fcntl.h>

#include "fuzz.h"

#include "footprint/sign.h"

static const char es_pub[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEzrVnXOMTAyixS2Tb7Y40JxJZ/hVP\n"
	"Cy3LrfQHn6hcX0jmFlybo8T4gs0/VgAvMXewiqtz9XjWSEfDsrPHtPlnXA==\n"
	"-----END PUBLIC KEY-----\n";

static const char rs_pub[] =
	"-----BEGIN PUBLIC KEY-----\n"
	"MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAp84aJiNqn7I7sZhGwpks\n"
	"fXztquIS8JZLgsVmxH65HQQCHuQjFkoUN/1kqzqnG0/K29mMgXJ7W82v9ilOo1ys\n"
	"jmy2CVEJg37eV+2zMa9KVurdDCNykboBTG2sUV7rbUh6YouuK9ChjzWJCDx45oKK\n"
	"Zqrt+eNddO81JPA25PW/PHwkIiAcmatEla+A/+Rz5ErN7NBtOucRK4Gomx/b9RcR\n"
	"PZFa4D095WQs/DDGGilopSIJTPriiIbf6C1clhrvD+gy7DcRZnqvR24jc/rT9l4B\n"
	"JzTp60cZl6w4KsrZQ0lpgWN+6+wYB/IUhvjqcFCUuMh1Tp6gMP/hk9jfTLc/0hUc\n"
	"EwIDAQAB\n"
	"-----END PUBLIC KEY-----\n";

static fp_key_t *keys[2];

static fp_key_t *load(const char *pem, const char *what)
{
	fp_error_t err = { 0 };
	fp_key_t *k;
	char path[128];
	FILE *f;

	fuzz_tmp_path(path, sizeof(path), what);
	f = fopen(path, "w");
	if (!f || fputs(pem, f) < 0 || fclose(f))
		abort();
	k = fp_sign_key_load_public(path, &err);
	unlink(path);
	if (!k) {
		fprintf(stderr, "fuzz_jws: %s\n", err.msg);
		abort();
	}
	return k;
}

static void cleanup(void)
{
	fp_sign_key_free(keys[0]);
	fp_sign_key_free(keys[1]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *token;

	if (!keys[0]) {
		keys[0] = load(es_pub, "es.pub");
		keys[1] = load(rs_pub, "rs.pub");
		atexit(cleanup);
	}
	token = fuzz_strndup(data, size);
	for (int i = 0; i < 2; i++) {
		fp_error_t err = { 0 };

		free(fp_sign_verify(keys[i], token, &err));
	}
	free(token);
	return 0;
}
