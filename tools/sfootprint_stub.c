/* Placeholders for subcommands not written yet; each is removed from this
 * file when its own tools/sfootprint_<name>.c lands. */
#include <stdio.h>

#include "sfootprint.h"

#ifndef FP_HAVE_REPLAY
int fp_cmd_replay(int argc, char **argv)
{
	fprintf(stderr, "sfootprint: replay is not built yet\n");
	return FP_EXIT_FAIL;
}
#endif
