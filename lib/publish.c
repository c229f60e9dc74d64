/* Per-step energy records handed from the node poller to the step daemons:
 * a one-line text record per step, written to a tmp file and renamed. */
#include "publish.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RECORD_MAGIC "fp-step 1"

static bool _valid_step_id(const char *id)
{
	size_t n = 0;

	if (!id || !*id || id[0] == '.')
		return false;
	for (const char *p = id; *p; p++, n++) {
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'z') ||
		      *p == '.' || *p == '_'))
			return false;
	}
	return n < 64;
}

int fp_publish_step(const char *dir, const char *step_id,
		    const fp_step_value_t *v, fp_error_t *err)
{
	char path[4096], tmp[4096], buf[256];
	int fd, len;
	ssize_t w;

	if (!_valid_step_id(step_id))
		return fp_fail(err, FP_EINVAL, "publish: bad step id '%s'",
			       step_id ? step_id : "(null)");
	snprintf(path, sizeof(path), "%s/%s", dir, step_id);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, step_id);
	len = snprintf(buf, sizeof(buf), RECORD_MAGIC " %.6f %.6f %.6f %s %d %d\n",
		       v->energy_j, v->power_w, v->t,
		       v->source[0] ? v->source : "none", v->simulated ? 1 : 0,
		       v->ended ? 1 : 0);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return fp_fail(err, FP_EIO, "publish: cannot create %s: %s",
			       tmp, strerror(errno));
	w = write(fd, buf, (size_t)len);
	if (close(fd) != 0 || w != len) {
		unlink(tmp);
		return fp_fail(err, FP_EIO, "publish: cannot write %s", tmp);
	}
	if (rename(tmp, path) != 0) {
		int e = errno;

		unlink(tmp);
		return fp_fail(err, FP_EIO, "publish: cannot rename to %s: %s",
			       path, strerror(e));
	}
	return 0;
}

int fp_read_step(const char *dir, const char *step_id, fp_step_value_t *v,
		 fp_error_t *err)
{
	char path[4096], buf[256];
	int fd, sim, ended;
	ssize_t n;

	if (!_valid_step_id(step_id))
		return fp_fail(err, FP_EINVAL, "publish: bad step id '%s'",
			       step_id ? step_id : "(null)");
	snprintf(path, sizeof(path), "%s/%s", dir, step_id);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fp_fail(err, FP_EIO, "%s: %s", path, strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return fp_fail(err, FP_EPARSE, "%s: empty record", path);
	buf[n] = '\0';
	memset(v, 0, sizeof(*v));
	if (sscanf(buf, RECORD_MAGIC " %lf %lf %lf %23s %d %d", &v->energy_j,
		   &v->power_w, &v->t, v->source, &sim, &ended) != 6 ||
	    !(v->energy_j >= 0) || !(v->t >= 0))
		return fp_fail(err, FP_EPARSE, "%s: not a footprint step record",
			       path);
	v->simulated = sim != 0;
	v->ended = ended != 0;
	return 0;
}

int fp_unpublish_step(const char *dir, const char *step_id, fp_error_t *err)
{
	char path[4096];

	if (!_valid_step_id(step_id))
		return fp_fail(err, FP_EINVAL, "publish: bad step id '%s'",
			       step_id ? step_id : "(null)");
	snprintf(path, sizeof(path), "%s/%s", dir, step_id);
	if (unlink(path) != 0 && errno != ENOENT)
		return fp_fail(err, FP_EIO, "%s: %s", path, strerror(errno));
	return 0;
}

int fp_publish_prune(const char *dir, double now, double max_age_s)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;
	int removed = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (!_valid_step_id(e->d_name))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, 0) != 0)
			continue;
		if (now - (double)st.st_mtime > max_age_s &&
		    unlinkat(dirfd(d), e->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}

/* Labels are written verbatim on two lines; a newline in a name would
 * split it, so it is replaced. */
static void _one_line(char *dst, size_t size, const char *src)
{
	size_t i = 0;

	for (; src && src[i] && i + 1 < size; i++)
		dst[i] = (src[i] == '\n' || src[i] == '\r') ? ' ' : src[i];
	dst[i] = '\0';
}

int fp_publish_job_labels(const char *dir, unsigned long long job,
			  const char *user, const char *account,
			  fp_error_t *err)
{
	char path[4096], tmp[4096], u[256], a[256];
	FILE *f;
	int bad;

	snprintf(path, sizeof(path), "%s/%llu", dir, job);
	snprintf(tmp, sizeof(tmp), "%s/.%llu.tmp", dir, job);
	_one_line(u, sizeof(u), user);
	_one_line(a, sizeof(a), account);
	f = fopen(tmp, "w");
	if (!f)
		return fp_fail(err, FP_EIO, "publish: cannot create %s: %s",
			       tmp, strerror(errno));
	fprintf(f, "%s\n%s\n", u, a);
	bad = ferror(f);
	if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
		unlink(tmp);
		return fp_fail(err, FP_EIO, "publish: cannot write %s", path);
	}
	return 0;
}

int fp_read_job_labels(const char *dir, unsigned long long job, char *user,
		       size_t user_size, char *account, size_t account_size,
		       fp_error_t *err)
{
	char path[4096], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%llu", dir, job);
	f = fopen(path, "r");
	if (!f)
		return fp_fail(err, FP_EIO, "%s: %s", path, strerror(errno));
	user[0] = account[0] = '\0';
	if (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		snprintf(user, user_size, "%s", line);
	}
	if (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		snprintf(account, account_size, "%s", line);
	}
	fclose(f);
	return 0;
}
