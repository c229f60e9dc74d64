/* sfootprint verify: checks a signed job summary against the public key and
 * prints its key figures; any fault is one line on stderr and exit 1. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "sfootprint.h"
#include "sign.h"

#define DEFAULT_PUBKEY "/etc/slurm/footprint.pub"
#define MAX_TOKEN (4 << 20)

static char *read_token(const char *path, char *why, size_t whysz)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *buf;
	size_t n;

	if (!f) {
		snprintf(why, whysz, "%s", strerror(errno));
		return NULL;
	}
	buf = malloc(MAX_TOKEN + 1);
	n = buf ? fread(buf, 1, MAX_TOKEN + 1, f) : 0;
	if (f != stdin)
		fclose(f);
	if (!buf || n > MAX_TOKEN) {
		snprintf(why, whysz, "%s", buf ? "too large" : "out of memory");
		free(buf);
		return NULL;
	}
	while (n && strchr(" \t\r\n", buf[n - 1]))
		n--;
	buf[n] = '\0';
	return buf;
}

static double num(json_t *root, const char *obj, const char *key)
{
	json_t *v = json_object_get(json_object_get(root, obj), key);

	return json_is_number(v) ? json_number_value(v) : 0.0 / 0.0;
}

static void print_figures(const char *payload)
{
	json_t *root = json_loads(payload, 0, NULL);
	json_t *job = json_object_get(root, "job");

	printf("job:          %lld\n", (long long)json_integer_value(
		json_object_get(job, "id")));
	printf("complete:     %s\n", json_is_true(json_object_get(root,
		"complete")) ? "yes" : "no");
	if (!json_is_true(json_object_get(root, "complete"))) {
		json_t *why = json_object_get(root, "incomplete"), *w;
		size_t i;

		json_array_foreach(why, i, w)
			printf("incomplete:   %s\n", json_string_value(w) ?: "?");
		if (!json_object_get(root, "carbon")) {
			json_decref(root);
			return;
		}
	}
	printf("energy:       %.3f Wh facility, %.3f Wh IT (%s)\n",
	       num(root, "energy", "facility_Wh"),
	       num(root, "energy", "it_Wh"),
	       json_string_value(json_object_get(json_object_get(root,
			"energy"), "source")) ?: "?");
	printf("footprint:    %.3f gCO2e\n", num(root, "carbon", "footprint"));
	printf("avoided:      %.3f gCO2e (heat reuse, not in the "
	       "footprint)\n", num(root, "carbon", "avoided_heat_reuse"));
	printf("net:          %.3f gCO2e (footprint - avoided)\n",
	       num(root, "carbon", "net"));
	printf("reference:    %.3f gCO2e\n", num(root, "carbon", "reference"));
	printf("config:       %s\n", json_string_value(json_object_get(
		json_object_get(root, "config"), "sha256")) ?: "?");
	json_decref(root);
}

int fp_cmd_verify(int argc, char **argv)
{
	const char *file = NULL, *pubkey = DEFAULT_PUBKEY;
	fp_error_t err = { 0 };
	char why[256], *tok, *payload;
	fp_key_t *key;
	bool bad = false;

	for (int i = 1; i < argc && !bad; i++) {
		if (!strcmp(argv[i], "--pubkey") && i + 1 < argc)
			pubkey = argv[++i];
		else if (!file && (argv[i][0] != '-' || !strcmp(argv[i], "-")))
			file = argv[i];
		else
			bad = true;
	}
	if (!file || bad) {
		fprintf(stderr, "usage: sfootprint verify FILE "
			"[--pubkey PEM]\n");
		return FP_EXIT_USAGE;
	}
	tok = read_token(file, why, sizeof(why));
	if (!tok) {
		fprintf(stderr, "sfootprint verify: %s: %s\n", file, why);
		return FP_EXIT_FAIL;
	}
	key = fp_key_load_public(pubkey, &err);
	if (!key) {
		free(tok);
		fprintf(stderr, "sfootprint verify: %s\n", err.msg);
		return FP_EXIT_FAIL;
	}
	payload = fp_verify(key, tok, &err);
	free(tok);
	if (!payload) {
		fprintf(stderr, "sfootprint verify: %s: %s\n", file, err.msg);
		fp_key_free(key);
		return FP_EXIT_FAIL;
	}
	print_figures(payload);
	printf("signature: valid (kid %s, %s)\n", fp_key_kid(key),
	       fp_key_alg(key));
	free(payload);
	fp_key_free(key);
	return FP_EXIT_OK;
}
