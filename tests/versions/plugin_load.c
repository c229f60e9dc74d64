/* Loads a plugin the way Slurm's daemons do (src/common/plugin.c, against
 * libslurmfull): prints "loaded" or Slurm's own refusal on stderr. */
#include <stdio.h>

#include "src/common/slurm_xlator.h"
#include "src/common/log.h"
#include "src/common/plugin.h"

int main(int argc, char **argv)
{
	log_options_t opts = LOG_OPTS_STDERR_ONLY;
	plugin_handle_t h;
	int rc;

	if (argc != 2) {
		fprintf(stderr, "use: %s PLUGIN.so\n", argv[0]);
		return 2;
	}
	opts.stderr_level = LOG_LEVEL_INFO;
	log_init(argv[0], opts, 0, NULL);
	rc = plugin_load_from_file(&h, argv[1]);
	if (rc != SLURM_SUCCESS) {
		printf("refused (error %d)\n", rc);
		return 1;
	}
	printf("loaded\n");
	plugin_unload(h);
	return 0;
}
