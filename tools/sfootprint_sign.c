/* sfootprint sign: the JWS of a summary file's bytes with a private key, as
 * footprint-worker signs, so audits and tests can sign without slurmdbd. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sfootprint.h"
#include "sign.h"

/* Its token (4/3 of it in base64url, plus header and signature) must stay
 * within what sfootprint verify reads (4 MiB). */
#define MAX_SUMMARY (3 << 20)

/* The file's bytes up to its last non-blank one: the final newline an
 * editor or `compute --json > file` leaves is not part of the summary. */
static char *read_summary(const char *path, char *why, size_t whysz)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *buf;
	size_t n;

	if (!f) {
		snprintf(why, whysz, "%s", strerror(errno));
		return NULL;
	}
	buf = malloc(MAX_SUMMARY + 1);
	n = buf ? fread(buf, 1, MAX_SUMMARY + 1, f) : 0;
	if (buf && ferror(f)) {
		snprintf(why, whysz, "%s", strerror(errno ? errno : EIO));
		free(buf);
		buf = NULL;
	} else if (!buf || n > MAX_SUMMARY) {
		snprintf(why, whysz, "%s", buf ? "larger than 3 MiB" :
			 "out of memory");
		free(buf);
		buf = NULL;
	}
	if (f != stdin)
		fclose(f);
	if (!buf)
		return NULL;
	while (n && strchr(" \t\r\n", buf[n - 1]))
		n--;
	buf[n] = '\0';
	if (memchr(buf, '\0', n)) {
		snprintf(why, whysz, "a NUL byte: not JSON text");
		free(buf);
		return NULL;
	}
	return buf;
}

int fp_cmd_sign(int argc, char **argv)
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
	summary = read_summary(file, why, sizeof(why));
	if (!summary) {
		fprintf(stderr, "sfootprint sign: %s: %s\n", file, why);
		return FP_EXIT_FAIL;
	}
	key = fp_key_load_private(keyfile, &err);
	if (!key) {
		free(summary);
		fprintf(stderr, "sfootprint sign: %s\n", err.msg);
		return FP_EXIT_FAIL;
	}
	tok = fp_sign(key, summary, &err);
	free(summary);
	fp_key_free(key);
	if (!tok) {
		fprintf(stderr, "sfootprint sign: %s: %s\n", file, err.msg);
		return FP_EXIT_FAIL;
	}
	printf("%s\n", tok);
	free(tok);
	return FP_EXIT_OK;
}
