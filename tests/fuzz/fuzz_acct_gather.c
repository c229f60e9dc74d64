/* libFuzzer target: acct_gather.conf option parsing (fp_poller_config_set
 * and _get). Each input line is one Key=Value, with or without the
 * EnergyFootprint prefix acct_gather.conf uses. */
#include "fuzz.h"

#include "footprint/poller.h"

#define PREFIX "EnergyFootprint"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fp_poller_config_t cfg;
	char *text = fuzz_strndup(data, size), *line, *save = NULL;

	fp_poller_config_init(&cfg);
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		fp_error_t err = { 0 };
		char *key = line, *eq = strchr(line, '=');

		if (!eq)
			continue;
		*eq = '\0';
		if (!strncmp(key, PREFIX, strlen(PREFIX)))
			key += strlen(PREFIX);
		fp_poller_config_set(&cfg, key, eq + 1, &err);
	}
	for (size_t i = 0; fp_poller_config_key(i); i++)
		free(fp_poller_config_get(&cfg, fp_poller_config_key(i)));
	fp_poller_config_clear(&cfg);
	free(text);
	return 0;
}
