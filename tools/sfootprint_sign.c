/* sfootprint sign: the JWS of a summary file's bytes with a private key, as
 * footprint-worker signs, so audits and tests can sign without slurmdbd. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfootprint.h"
#include "footprint/sign.h"

/* Its token (4/3 of it in base64url, plus header and signature) must stay
 * within what sfootprint verify reads (4 MiB). */
#define MAX_SUMMARY (3 << 20)

int fpt_cmd_sign(int argc, char **argv)
{
	const char *keyfile = NULL, *file = NULL;
	fp_error_t err = { 0 };
	char why[256], *summary, *tok;
	fp_key_t *key;
	bool bad = false;

	for (int i = 1; i < argc && !bad; i++) {
		if (!strcmp(argv[i], "--key") && i + 1 < argc && !keyfile)
			keyfile = argv[++i];
		else if (!file && (argv[i][0] != '-' || !strcmp(argv[i], "-")))
			file = argv[i];
		else
			bad = true;
	}
	if (bad || !keyfile || !file) {
		fprintf(stderr, "usage: sfootprint sign --key KEY "
				"SUMMARY.json\n");
		return FP_EXIT_USAGE;
	}
	summary = fpt_cli_read_text(file, MAX_SUMMARY, why, sizeof(why));
	if (!summary) {
		fprintf(stderr, "sfootprint sign: %s: %s\n", file, why);
		return FP_EXIT_FAIL;
	}
	key = fp_sign_key_load_private(keyfile, &err);
	if (!key) {
		free(summary);
		fprintf(stderr, "sfootprint sign: %s\n", err.msg);
		return FP_EXIT_FAIL;
	}
	tok = fp_sign(key, summary, &err);
	free(summary);
	fp_sign_key_free(key);
	if (!tok) {
		fprintf(stderr, "sfootprint sign: %s: %s\n", file, err.msg);
		return FP_EXIT_FAIL;
	}
	printf("%s\n", tok);
	free(tok);
	return FP_EXIT_OK;
}
