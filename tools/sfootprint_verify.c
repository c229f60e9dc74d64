/* sfootprint verify: checks a signed job summary against the trusted public
 * keys (its kid picks one) and prints its key figures and which key signed. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "footprint/config.h"
#include "footprint/report.h"
#include "sfootprint.h"
#include "footprint/sign.h"

#define MAX_KEY_ARGS 64

static double _num(json_t *root, const char *obj, const char *key)
{
	json_t *v = json_object_get(json_object_get(root, obj), key);

	return json_is_number(v) ? json_number_value(v) : 0.0 / 0.0;
}

static void _completeness(json_t *root)
{
	json_t *why = json_object_get(root, "incomplete"), *w;
	size_t n = json_array_size(why), i;
	char **reasons = calloc(n ? n : 1, sizeof(*reasons));

	json_array_foreach(why, i, w) if (reasons)
		reasons[i] = (char *)(json_string_value(w) ?: "?");
	fp_report_put_completeness(
		stdout, json_is_true(json_object_get(root, "complete")),
		reasons, reasons ? n : 0);
	putchar('\n');
	free(reasons);
}

static void _print_figures(const char *payload)
{
	json_t *root = json_loads(payload, 0, NULL);
	json_t *job = json_object_get(root, "job");
	fp_energy_source_t source;
	const char *src;

	printf("job:          %lld\n",
	       (long long)json_integer_value(json_object_get(job, "id")));
	/* The report's spellings (sfootprint -j), reasons escaped. */
	fputs("completeness: ", stdout);
	_completeness(root);
	if (!json_is_true(json_object_get(root, "complete")) &&
	    !json_object_get(root, "carbon")) {
		json_decref(root);
		return;
	}
	src = json_string_value(
		json_object_get(json_object_get(root, "energy"), "source"));
	if (!src || fp_carbon_energy_source_parse(src, &source))
		source = FP_ENERGY_UNKNOWN;
	printf("energy:       %.3f Wh facility, %.3f Wh IT (%s)\n",
	       _num(root, "energy", "facility_Wh"),
	       _num(root, "energy", "it_Wh"), fp_report_source_text(source));
	printf("footprint:    %.3f gCO2e\n", _num(root, "carbon", "footprint"));
	printf("avoided:      %.3f gCO2e (heat reuse, not in the "
	       "footprint)\n",
	       _num(root, "carbon", "avoided_heat_reuse"));
	printf("net:          %.3f gCO2e (footprint - avoided)\n",
	       _num(root, "carbon", "net"));
	printf("reference:    %.3f gCO2e\n", _num(root, "carbon", "reference"));
	printf("config:       %s\n",
	       json_string_value(json_object_get(
		       json_object_get(root, "config"), "sha256"))
		       ?: "?");
	json_decref(root);
}

struct args {
	const char *file, *config;
	const char *pubkeys[MAX_KEY_ARGS], *dirs[MAX_KEY_ARGS];
	size_t npubkeys, ndirs;
	bool accept_high_s;
};

static int _parse_args(int argc, char **argv, struct args *a)
{
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];

		if (!strcmp(o, "--pubkey") && i + 1 < argc &&
		    a->npubkeys < MAX_KEY_ARGS)
			a->pubkeys[a->npubkeys++] = argv[++i];
		else if (!strcmp(o, "--pubkeys") && i + 1 < argc &&
			 a->ndirs < MAX_KEY_ARGS)
			a->dirs[a->ndirs++] = argv[++i];
		else if (!strcmp(o, "--config") && i + 1 < argc)
			a->config = argv[++i];
		else if (!strcmp(o, "--accept-high-s"))
			a->accept_high_s = true;
		else if (!a->file && (o[0] != '-' || !strcmp(o, "-")))
			a->file = o;
		else
			return -1;
	}
	return a->file ? 0 : -1;
}

/* The trusted keys: those given on the command line, else footprint.conf's
 * (named by --config or FOOTPRINT_CONF, else found as sfootprint -j finds
 * it), else FP_DEFAULT_PUBLIC_KEY. */
static fp_keyset_t *_trusted_keys(const struct args *a, fp_error_t *err)
{
	const char *env = getenv("FOOTPRINT_CONF");
	fp_keyset_t *ks = fp_sign_keyset_new();
	fp_config_t *cfg = NULL;
	char conf[4096];
	int rc = 0;

	if (!ks) {
		fp_error_set(err, FP_ENOMEM, "out of memory");
		return NULL;
	}
	if (a->npubkeys || a->ndirs) {
		for (size_t i = 0; i < a->npubkeys && !rc; i++)
			rc = fp_sign_keyset_add_file(ks, a->pubkeys[i], err);
		for (size_t i = 0; i < a->ndirs && !rc; i++)
			rc = fp_sign_keyset_load_dir(ks, a->dirs[i], err);
	} else if (fp_report_conf_path(a->config, env, NULL, conf,
				       sizeof(conf))) {
		rc = fp_error_set(err, FP_ENOMEM, "out of memory");
	} else {
		cfg = fp_config_load(conf, err);
		/* A footprint.conf asked for by name must be readable; one
		 * found by default only may name the keys. */
		if (!cfg && ((a->config && *a->config) || (env && *env)))
			rc = -1;
		else
			rc = fp_sign_keyset_add_config(ks, cfg, err);
	}
	fp_config_free(cfg);
	if (rc) {
		fp_sign_keyset_free(ks);
		return NULL;
	}
	return ks;
}

int fpt_cmd_verify(int argc, char **argv)
{
	struct args a = { 0 };
	fp_error_t err = { 0 };
	fp_verify_info_t info;
	char why[256], *tok, *payload;
	fp_keyset_t *ks;

	if (_parse_args(argc, argv, &a)) {
		fprintf(stderr,
			"usage: sfootprint verify FILE [--pubkey PEM]... "
			"[--pubkeys DIR]... [--config FILE] "
			"[--accept-high-s]\n");
		return FP_EXIT_USAGE;
	}
	tok = fpt_cli_read_text(a.file, FP_SIGN_TOKEN_MAX, why, sizeof(why));
	if (!tok) {
		fprintf(stderr, "sfootprint verify: %s: %s\n", a.file, why);
		return FP_EXIT_FAIL;
	}
	/* A key that cannot be read is the key's fault, not the summary's. */
	ks = _trusted_keys(&a, &err);
	if (!ks) {
		free(tok);
		fprintf(stderr, "sfootprint verify: %s\n", err.msg);
		return FP_EXIT_FAIL;
	}
	payload = fp_sign_keyset_verify(
		ks, tok, a.accept_high_s ? FP_VERIFY_ACCEPT_HIGH_S : 0, &info,
		&err);
	free(tok);
	if (!payload) {
		fprintf(stderr, "sfootprint verify: %s: %s%s\n", a.file,
			err.msg,
			info.fault == FP_VERIFY_HIGH_S
				? " (a summary signed before low-S signatures: "
				  "--accept-high-s)"
				: "");
		fp_sign_keyset_free(ks);
		return FP_EXIT_FAIL;
	}
	_print_figures(payload);
	printf("signature: valid (kid %s, %s, key %s)%s\n",
	       fp_sign_key_kid(info.key), fp_sign_key_alg(info.key),
	       fp_sign_key_path(info.key),
	       info.high_s ? ", high-S form accepted by --accept-high-s" : "");
	free(payload);
	fp_sign_keyset_free(ks);
	return FP_EXIT_OK;
}
