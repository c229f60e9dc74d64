/* sfootprint keygen: makes the key pair that signs job summaries
 * (PREFIX.key 0600, PREFIX.pub 0644) and prints its kid. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "sfootprint.h"
#include "footprint/sign.h"

int fpt_cmd_keygen(int argc, char **argv)
{
	const char *alg = "ES256", *prefix = "footprint";
	fp_error_t err = { 0 };
	char *kid = NULL;
	struct stat st;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--alg") && i + 1 < argc) {
			alg = argv[++i];
		} else if (!strcmp(argv[i], "--out") && i + 1 < argc) {
			prefix = argv[++i];
		} else {
			fprintf(stderr, "usage: sfootprint keygen "
					"[--alg ES256|RS256] [--out PREFIX]\n");
			return FP_EXIT_USAGE;
		}
	}
	/* PREFIX.key and PREFIX.pub: a prefix that names no file, or a
	 * folder, would write hidden ".key" files or fail late. */
	if (!*prefix || prefix[strlen(prefix) - 1] == '/' ||
	    (stat(prefix, &st) == 0 && S_ISDIR(st.st_mode))) {
		fprintf(stderr,
			"sfootprint keygen: --out '%s': a file name "
			"prefix (PREFIX.key, PREFIX.pub), not %s\n",
			prefix, *prefix ? "a folder" : "empty");
		return FP_EXIT_USAGE;
	}
	if (strcmp(alg, "ES256") && strcmp(alg, "RS256")) {
		fprintf(stderr,
			"sfootprint keygen: --alg %s: use ES256 or "
			"RS256\n",
			alg);
		return FP_EXIT_USAGE;
	}
	if (fp_sign_keygen(prefix, alg, &kid, &err)) {
		fprintf(stderr, "sfootprint keygen: %s\n", err.msg);
		return FP_EXIT_FAIL;
	}
	printf("%s\n", kid);
	fprintf(stderr, "wrote %s.key (0600) and %s.pub (0644), %s\n", prefix,
		prefix, alg);
	free(kid);
	return FP_EXIT_OK;
}
