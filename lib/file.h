/* Files the library creates for others to read (metrics, traces): their
 * mode is the one asked for, whatever the umask of slurmd or the CLI. */
#ifndef FP_FILE_H
#define FP_FILE_H

#include <stdio.h>
#include <sys/types.h>

#include "error.h"

/* Creates or truncates path for writing with exactly `mode` (an existing
 * file is given that mode too). NULL on error, err naming the file. The
 * caller fclose()s it. */
FILE *fp_file_create(const char *path, mode_t mode, fp_error_t *err);

#endif
