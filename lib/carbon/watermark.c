/* The reconciliation watermark file (see watermark.h): read strictly, since
 * a wrong time silently skips jobs, and replaced atomically. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "footprint/watermark.h"

#define WM_MAGIC "fp-watermark 1 "
/* 2000-01-01: no Slurm job of this software ended before. */
#define WM_EARLIEST 946684800L

int fp_watermark_read(const char *path, time_t now, time_t *end,
		      fp_error_t *err)
{
	char buf[128], *p, *stop;
	ssize_t n;
	long long v;
	int fd;

	fp_error_clear(err);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 1;
		return fp_error_set(err, FP_EIO,
				    "watermark %s: cannot read it: %s", path,
				    strerror(errno));
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return fp_error_set(err, FP_EIO,
				    "watermark %s: cannot read it: %s", path,
				    strerror(errno));
	buf[n] = '\0';
	if ((size_t)n != strlen(buf) ||
	    strncmp(buf, WM_MAGIC, strlen(WM_MAGIC)))
		return fp_error_set(err, FP_EPARSE,
				    "watermark %s: damaged (not "
				    "'" WM_MAGIC "<end time>')",
				    path);
	p = buf + strlen(WM_MAGIC);
	errno = 0;
	v = strtoll(p, &stop, 10);
	if (stop == p || *p < '0' || *p > '9' || errno || strcmp(stop, "\n"))
		return fp_error_set(err, FP_EPARSE,
				    "watermark %s: damaged (the end "
				    "time is not a number on one line)",
				    path);
	if (v < WM_EARLIEST || v > (long long)now + 86400)
		return fp_error_set(
			err, FP_EINVAL,
			"watermark %s: end time %lld is "
			"out of range (before 2000 or after tomorrow)",
			path, v);
	*end = (time_t)v;
	return 0;
}

static void _sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd;

	if (!copy)
		return;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

int fp_watermark_write(const char *path, time_t end, fp_error_t *err)
{
	char tmp[4200], line[64];
	int fd, len, saved;

	fp_error_clear(err);
	len = snprintf(line, sizeof(line), WM_MAGIC "%lld\n", (long long)end);
	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >=
	    (int)sizeof(tmp))
		return fp_error_set(err, FP_EINVAL,
				    "watermark %s: path too long", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return fp_error_set(err, FP_EIO,
				    "watermark %s: cannot write %s: %s", path,
				    tmp, strerror(errno));
	if (write(fd, line, (size_t)len) != len || fsync(fd) != 0) {
		saved = errno ? errno : EIO;
		close(fd);
		unlink(tmp);
		return fp_error_set(err, FP_EIO,
				    "watermark %s: cannot write %s: %s", path,
				    tmp, strerror(saved));
	}
	close(fd);
	if (rename(tmp, path) != 0) {
		saved = errno;
		unlink(tmp);
		return fp_error_set(err, FP_EIO,
				    "watermark %s: cannot replace it: "
				    "%s",
				    path, strerror(saved));
	}
	_sync_dir(path);
	return 0;
}
