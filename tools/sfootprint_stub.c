/* Placeholders for subcommands not written yet; each is removed from this
 * file when its own tools/sfootprint_<name>.c lands. */
#include <stdio.h>

#include "sfootprint.h"
