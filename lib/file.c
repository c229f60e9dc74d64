/* Creation of output files with an exact mode: fopen("w") takes 0666 minus
 * the umask, which under umask 000 makes them world-writable. */
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

FILE *fp_file_create(const char *path, mode_t mode, fp_error_t *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	FILE *f;

	if (fd < 0) {
		fp_fail(err, FP_EIO, "cannot create %s: %s", path,
			strerror(errno));
		return NULL;
	}
	/* the umask took bits from the new file's mode; an existing file
	 * kept its own */
	if (fchmod(fd, mode) != 0 || !(f = fdopen(fd, "w"))) {
		fp_fail(err, FP_EIO, "cannot create %s: %s", path,
			strerror(errno));
		close(fd);
		return NULL;
	}
	return f;
}
