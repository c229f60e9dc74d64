/* Files the library creates for others to read (metrics, traces): their
 * mode is the one asked for, whatever the umask of slurmd or the CLI; and
 * the small sysfs files it reads (powercap, hwmon). */
#ifndef FP_FILE_H
#define FP_FILE_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "error.h"

/* Creates or truncates path for writing with exactly `mode` (an existing
 * file is given that mode too). NULL on error, err naming the file. The
 * caller fclose()s it. */
FILE *fp_file_create(const char *path, mode_t mode, fp_error_t *err);

/* snprintf for paths: one longer than size is cut, and then fails to open,
 * reported like any other unusable file. */
void fp_file_pathf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* A small text file into buf (at most size - 1 bytes, NUL-terminated),
 * trailing whitespace cut. -1 with errno. */
int fp_file_read_text(const char *path, char *buf, size_t size);

/* A sysfs value of len bytes: decimal digits, then only white space (the
 * newline). Anything else (an empty file, a half-written value, a second
 * line) is a failed read, not a zero: -1 with *why a static string. */
int fp_file_parse_u64(const char *buf, size_t len, uint64_t *v,
		      const char **why);

/* The whole of a text file ("-": standard input) of at most max bytes,
 * trailing white space cut: a signed summary, a key, a config. NULL with
 * errno: the open's or read's, EFBIG when longer than max, EILSEQ when it
 * holds a NUL byte (not text), ENOMEM. The caller free()s it. */
char *fp_file_read_whole(const char *path, size_t max);

/* fp_file_read_text then fp_file_parse_u64: -1 with *why the error's
 * strerror or the parse fault (static strings). */
int fp_file_read_u64(const char *path, uint64_t *v, const char **why);

#endif
