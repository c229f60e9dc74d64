/* sfootprint: subcommands share this table of entry points; each lives in
 * its own tools/sfootprint_<name>.c. Exit codes: 0 ok, 1 failure, 2 usage. */
#ifndef SFOOTPRINT_H
#define SFOOTPRINT_H

#define FP_EXIT_OK 0
#define FP_EXIT_FAIL 1
#define FP_EXIT_USAGE 2

#include <stddef.h>

/* The Makefile passes git describe; a tree without git says so. */
#ifndef FP_VERSION
#define FP_VERSION "unknown"
#endif

/* A summary or token file (path, or "-" for stdin) of at most max bytes,
 * without the blank bytes it ends with (the newline an editor or a shell
 * redirection leaves is not part of it). NULL with why filled on a read
 * error, a larger file or a NUL byte. The caller free()s it. */
char *fpt_cli_read_text(const char *path, size_t max, char *why, size_t whysz);
/* A command's numeric option: a number from lo to hi into *out, else one
 * line on stderr naming the command, the option and its bounds, and -1. */
int fpt_cli_number(const char *cmd, const char *opt, const char *arg, double lo,
		   double hi, double *out);

int fpt_cmd_replay(int argc, char **argv);
int fpt_cmd_sensor_check(int argc, char **argv);
int fpt_cmd_keygen(int argc, char **argv);
int fpt_cmd_verify(int argc, char **argv);
int fpt_cmd_sign(int argc, char **argv);
int fpt_cmd_compute(int argc, char **argv);
int fpt_cmd_show(int argc, char **argv);
int fpt_cmd_whatif(int argc, char **argv);
int fpt_cmd_signals(int argc, char **argv);

#endif
