/* Where the steps are: the mounted cgroup roots (from mountinfo), and the
 * walk of Slurm's step cgroups, done again when inotify says they changed. */
#include "activity_state.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "footprint/step.h"

#define WATCH_MASK                                             \
	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | \
	 IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

/* ---- mounted roots ---------------------------------------------------- */

/* mountinfo escapes blanks in paths as \ooo. */
static void _unescape(char *s)
{
	char *w = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' &&
		    s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*w++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 3;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
}

static bool _has_opt(const char *opts, const char *name)
{
	size_t len = strlen(name);

	for (const char *p = opts; p && *p;) {
		const char *c = strchr(p, ',');
		size_t l = c ? (size_t)(c - p) : strlen(p);

		if (l == len && !memcmp(p, name, len))
			return true;
		p = c ? c + 1 : NULL;
	}
	return false;
}

/* Fills the roots left NULL from the mounted cgroup file systems. */
void fp_activity_cgroup_default_roots(const char *mountinfo, char **cpuacct,
				      char **cpuset, char **unified)
{
	FILE *fp = fopen(mountinfo, "re");
	char *line = NULL;
	size_t sz = 0;

	if (!fp)
		return;
	while (getline(&line, &sz, fp) > 0) {
		char *sep = strstr(line, " - "), *mnt, *fstype, *opts;
		char *save = NULL;
		int i = 0;

		if (!sep)
			continue;
		*sep = '\0';
		for (mnt = strtok_r(line, " ", &save); mnt && i < 4; i++)
			mnt = strtok_r(NULL, " ", &save);
		fstype = strtok_r(sep + 3, " \n", &save);
		strtok_r(NULL, " \n", &save); /* source */
		opts = strtok_r(NULL, " \n", &save);
		if (!mnt || !fstype)
			continue;
		_unescape(mnt);
		if (!strcmp(fstype, "cgroup2") && !*unified) {
			*unified = strdup(mnt);
		} else if (!strcmp(fstype, "cgroup")) {
			if (!*cpuacct && _has_opt(opts, "cpuacct"))
				*cpuacct = strdup(mnt);
			if (!*cpuset && _has_opt(opts, "cpuset"))
				*cpuset = strdup(mnt);
		}
	}
	free(line);
	fclose(fp);
}

/* ---- discovery -------------------------------------------------------- */

/* Watch a directory before listing it, so that a change after the listing
 * wakes the next poll; without inotify every poll walks the tree. */
static void _watch(fp_activity_t *a, const char *path)
{
	if (a->ino_fd < 0 ||
	    inotify_add_watch(a->ino_fd, path, WATCH_MASK) >= 0)
		return;
	if (errno == ENOENT || errno == ENOTDIR)
		return; /* not there (yet): its parent is watched */
	if (!a->logged_inotify)
		fp_activity_log(
			a, FP_LOG_INFO,
			"activity: inotify on %s: %s; cgroups are walked at every "
			"poll",
			path, strerror(errno));
	a->logged_inotify = true;
	close(a->ino_fd);
	a->ino_fd = -1;
}

/* "<prefix><digits>" → the number. */
static bool _numbered(const char *name, const char *prefix, uint64_t *v)
{
	size_t pl = strlen(prefix), n;
	char buf[32] = { 0 };

	if (strncmp(name, prefix, pl) || strlen(name + pl) >= 21)
		return false;
	strcpy(buf, name + pl);
	n = fp_numfile_digits(buf, v);
	return n && !buf[n];
}

static bool _step_name(const char *name, uint64_t job, uint32_t *key, char *id,
		       size_t idsz)
{
	uint64_t n;

	if (!strcmp(name, "step_batch"))
		*key = FP_STEP_BATCH;
	else if (!strcmp(name, "step_extern"))
		*key = FP_STEP_EXTERN;
	else if (!strcmp(name, "step_interactive"))
		*key = FP_STEP_INTERACTIVE;
	else if (_numbered(name, "step_", &n) && n < FP_STEP_INTERACTIVE)
		*key = (uint32_t)n;
	else
		return false;
	fp_step_id_format(id, idsz, job, *key);
	return true;
}

static int _found(fp_activity_t *a, const char *rel, ino_t ino, uint64_t job,
		  uint32_t key, const char *id)
{
	struct step *s;

	for (size_t i = 0; i < a->nsteps; i++) {
		s = a->steps[i];
		if (strcmp(s->rel, rel))
			continue;
		if (s->ino == ino) {
			s->seen = true;
			return 0;
		}
		break; /* re-created: the old state is dropped */
	}
	if (a->nsteps == a->scap) {
		size_t cap = a->scap ? a->scap * 2 : 32;
		struct step **v = realloc(a->steps, cap * sizeof(*v));

		if (!v)
			return -1;
		a->steps = v;
		a->scap = cap;
	}
	s = fp_activity_step_new(a, rel, ino, job, key, id);
	if (!s)
		return -1;
	s->seen = true;
	a->steps[a->nsteps++] = s;
	return 0;
}

static int _path(char *buf, const char *root, const char *rel)
{
	return snprintf(buf, PATH_MAX, "%s/%s", root, rel) >= PATH_MAX ? -1 : 0;
}

/* A SLUID as Slurm prints it (print_sluid() in src/common/sluid.c): "s"
 * and 13 digits of Crockford's base 32, which has no I, L, O or U. */
static bool _sluid_name(const char *name)
{
	static const char digits[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

	if ((name[0] != 's' && name[0] != 'S') || strlen(name) != 14)
		return false;
	for (int i = 1; i < 14; i++) {
		char c = name[i];

		if (c >= 'a' && c <= 'z')
			c = (char)(c - 'a' + 'A');
		if (!strchr(digits, c))
			return false;
	}
	return true;
}

/* The job of a job folder: job_<j>, or a SLUID that job_of knows. */
static bool _job_folder(fp_activity_t *a, const char *rel, const char *name,
			uint64_t *job)
{
	if (_numbered(name, "job_", job))
		return true;
	if (!a->job_of || !_sluid_name(name))
		return false;
	if (!a->job_of(a->job_of_ctx, name, job) && *job > 0)
		return true;
	a->unnamed = true;
	if (!a->logged_sluid) {
		a->logged_sluid = true;
		fp_activity_log(
			a, FP_LOG_INFO,
			"activity: job folder %s/%s/%s is named by its SLUID and no "
			"step daemon has named its job yet: its steps are counted "
			"from when one does (logged once)",
			a->step_root, rel, name);
	}
	return false;
}

/* The job_<j>/step_<s> (or <SLUID>/step_<s>) directories under rel. */
static int _walk_jobs(fp_activity_t *a, const char *rel)
{
	char path[PATH_MAX], jrel[PATH_MAX];
	struct dirent *e;
	DIR *d;
	int rc = 0;

	if (_path(path, a->step_root, rel))
		return 0;
	_watch(a, path);
	if (!(d = opendir(path)))
		return 0;
	while (!rc && (e = readdir(d))) {
		struct dirent *se;
		uint64_t job;
		DIR *sd;

		if ((e->d_type != DT_DIR && e->d_type != DT_UNKNOWN) ||
		    !_job_folder(a, rel, e->d_name, &job))
			continue;
		if (snprintf(jrel, sizeof(jrel), "%s/%s", rel, e->d_name) >=
			    (int)sizeof(jrel) ||
		    _path(path, a->step_root, jrel))
			continue;
		_watch(a, path);
		if (!(sd = opendir(path)))
			continue; /* ended meanwhile */
		while (!rc && (se = readdir(sd))) {
			char srel[PATH_MAX], id[64];
			uint32_t key;

			if ((se->d_type != DT_DIR &&
			     se->d_type != DT_UNKNOWN) ||
			    !_step_name(se->d_name, job, &key, id, sizeof(id)))
				continue;
			if (snprintf(srel, sizeof(srel), "%s/%s", jrel,
				     se->d_name) >= (int)sizeof(srel))
				continue;
			rc = _found(a, srel, se->d_ino, job, key, id);
		}
		closedir(sd);
	}
	closedir(d);
	return rc;
}

static int _walk_v1(fp_activity_t *a)
{
	char base[2][NAME_MAX + 1], path[PATH_MAX];
	int nbase = 1, rc = 0;

	_watch(a, a->step_root);
	strcpy(base[0], "slurm");
	if (a->node && snprintf(base[1], sizeof(base[1]), "slurm_%s", a->node) <
			       (int)sizeof(base[1]))
		nbase = 2;
	for (int b = 0; !rc && b < nbase; b++) {
		struct dirent *e;
		DIR *d;

		if (_path(path, a->step_root, base[b]))
			continue;
		_watch(a, path);
		if (!(d = opendir(path)))
			continue;
		while (!rc && (e = readdir(d))) {
			char rel[PATH_MAX];
			uint64_t uid;

			if (!_numbered(e->d_name, "uid_", &uid) ||
			    snprintf(rel, sizeof(rel), "%s/%s", base[b],
				     e->d_name) >= (int)sizeof(rel))
				continue;
			rc = _walk_jobs(a, rel);
		}
		closedir(d);
	}
	return rc;
}

static int _walk_v2(fp_activity_t *a)
{
	char path[PATH_MAX], rel[PATH_MAX];
	int rc;

	_watch(a, a->step_root);
	if (_path(path, a->step_root, "system.slice"))
		return 0;
	_watch(a, path);
	rc = _walk_jobs(a, "system.slice/slurmstepd.scope");
	if (!rc && a->node &&
	    snprintf(rel, sizeof(rel), "system.slice/%s_slurmstepd.scope",
		     a->node) < (int)sizeof(rel))
		rc = _walk_jobs(a, rel);
	return rc;
}

static int _step_cmp(const void *x, const void *y)
{
	const struct step *s = *(struct step *const *)x;
	const struct step *t = *(struct step *const *)y;

	if (s->job != t->job)
		return s->job < t->job ? -1 : 1;
	if (s->key != t->key)
		return s->key < t->key ? -1 : 1;
	return strcmp(s->rel, t->rel);
}

/* Walks the step directories again: new steps get state, vanished ones lose
 * theirs. Steps come out sorted by job and step. */
int fp_activity_cgroup_rediscover(fp_activity_t *a, fp_error_t *err)
{
	size_t j = 0;
	int rc;

	a->gen++;
	a->unnamed = false;
	for (size_t i = 0; i < a->nsteps; i++)
		a->steps[i]->seen = false;
	rc = a->src == FP_ACTIVITY_SRC_CGROUP_V1 ? _walk_v1(a) : _walk_v2(a);
	/* no event says when a step daemon names its job: ask again */
	if (a->unnamed)
		a->dirty = true;
	for (size_t i = 0; i < a->nsteps; i++) {
		if (a->steps[i]->seen)
			a->steps[j++] = a->steps[i];
		else
			fp_activity_step_free(a->steps[i]);
	}
	a->nsteps = j;
	if (rc)
		return fp_error_set(err, FP_ENOMEM, "%s: out of memory",
				    a->step_root);
	if (a->nsteps > 1)
		qsort(a->steps, a->nsteps, sizeof(*a->steps), _step_cmp);
	/* slurm/ and slurm_<node>/ both holding a step: keep one */
	for (size_t i = 1, k = 1; i <= a->nsteps; i++) {
		if (i == a->nsteps) {
			a->nsteps = k;
			break;
		}
		if (strcmp(a->steps[i]->id, a->steps[k - 1]->id)) {
			a->steps[k++] = a->steps[i];
			continue;
		}
		if (!a->logged_dup)
			fp_activity_log(a, FP_LOG_WARN,
					"activity: step %s is both at %s "
					"and %s; the second is ignored",
					a->steps[i]->id, a->steps[k - 1]->rel,
					a->steps[i]->rel);
		a->logged_dup = true;
		fp_activity_step_free(a->steps[i]);
	}
	return 0;
}

void fp_activity_cgroup_drain_events(fp_activity_t *a)
{
	char buf[4096] __attribute__((aligned(8)));

	if (a->ino_fd < 0) {
		a->dirty = true;
		return;
	}
	/* an overflow is an event too: any event means "walk again" */
	while (read(a->ino_fd, buf, sizeof(buf)) > 0)
		a->dirty = true;
}
