/* libFuzzer target: the footprint.conf parser (fp_config_parse) and the
 * lookups the plugin makes on the result. */
#include "fuzz.h"

#include "footprint/config.h"

/* Exact match: enough to walk the lookup code. */
static int match(const char *hostlist, const char *node, void *ctx)
{
	return hostlist && !strcmp(hostlist, node);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fp_error_t err = { 0 };
	char *text = fuzz_strndup(data, size);
	fp_config_t *c;

	c = fp_config_parse("/nonexistent/footprint.conf", text, size, &err);
	if (c) {
		fp_config_site_for(c, "n1", match, NULL);
		fp_config_node_type_for(c, "n1", match, NULL);
		fp_config_free(c);
	}
	free(text);
	return 0;
}
