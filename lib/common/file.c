/* Creation of output files with an exact mode: fopen("w") takes 0666 minus
 * the umask, which under umask 000 makes them world-writable; reading of
 * sysfs values, shared by the powercap and hwmon readers. */
#include "footprint/file.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

FILE *fp_file_create(const char *path, mode_t mode, fp_error_t *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	FILE *f;

	if (fd < 0) {
		fp_error_set(err, FP_EIO, "cannot create %s: %s", path,
			     strerror(errno));
		return NULL;
	}
	/* the umask took bits from the new file's mode; an existing file
	 * kept its own */
	if (fchmod(fd, mode) != 0 || !(f = fdopen(fd, "w"))) {
		fp_error_set(err, FP_EIO, "cannot create %s: %s", path,
			     strerror(errno));
		close(fd);
		return NULL;
	}
	return f;
}

void fp_file_pathf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, size, fmt, ap);
	va_end(ap);
}

int fp_file_read_text(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	if (n < 0) {
		int e = errno;

		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	buf[n] = '\0';
	while (n > 0 && isspace((unsigned char)buf[n - 1]))
		buf[--n] = '\0';
	return 0;
}

int fp_file_parse_u64(const char *buf, size_t len, uint64_t *v,
		      const char **why)
{
	uint64_t x = 0;
	size_t i = 0;

	for (; i < len && isdigit((unsigned char)buf[i]); i++) {
		unsigned d = (unsigned)(buf[i] - '0');

		if (x > (UINT64_MAX - d) / 10) {
			*why = "value out of range";
			return -1;
		}
		x = x * 10 + d;
	}
	if (i == 0) {
		*why = len ? "not a number" : "empty";
		return -1;
	}
	for (; i < len; i++) {
		if (!isspace((unsigned char)buf[i])) {
			*why = "not a number";
			return -1;
		}
	}
	*v = x;
	return 0;
}

int fp_file_read_u64(const char *path, uint64_t *v, const char **why)
{
	char buf[64];

	if (fp_file_read_text(path, buf, sizeof(buf))) {
		*why = strerror(errno);
		return -1;
	}
	return fp_file_parse_u64(buf, strlen(buf), v, why);
}

char *fp_file_read_whole(const char *path, size_t max)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "r") : stdin;
	char *buf;
	size_t n;
	int e = 0;

	if (!f)
		return NULL;
	buf = max < SIZE_MAX ? malloc(max + 1) : NULL;
	errno = 0;
	n = buf ? fread(buf, 1, max + 1, f) : 0;
	if (!buf)
		e = ENOMEM;
	else if (ferror(f))
		e = errno ? errno : EIO;
	else if (n > max)
		e = EFBIG;
	if (f != stdin)
		fclose(f);
	if (!e) {
		while (n && buf[n - 1] && strchr(" \t\r\n\v\f", buf[n - 1]))
			n--;
		buf[n] = '\0';
		if (memchr(buf, '\0', n))
			e = EILSEQ;
	}
	if (e) {
		free(buf);
		errno = e;
		return NULL;
	}
	return buf;
}
