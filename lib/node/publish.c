/* Per-step energy records handed from the node poller to the step daemons:
 * slots of a shared board under a sequence lock, and, for what does not fit
 * there, a one-line text record per step, written to a tmp file and
 * renamed. */
#include "footprint/publish.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

	fp_error_clear(err);
	if (!_valid_step_id(step_id))
		return fp_error_set(err, FP_EINVAL, "publish: bad step id '%s'",
				    step_id ? step_id : "(null)");
	snprintf(path, sizeof(path), "%s/%s", dir, step_id);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, step_id);
	len = snprintf(buf, sizeof(buf),
		       RECORD_MAGIC " %.6f %.6f %.6f %s %d %d\n", v->energy_j,
		       v->power_w, v->t, v->source[0] ? v->source : "none",
		       v->simulated ? 1 : 0, v->ended ? 1 : 0);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return fp_error_set(err, FP_EIO,
				    "publish: cannot create %s: %s", tmp,
				    strerror(errno));
	w = write(fd, buf, (size_t)len);
	if (close(fd) != 0 || w != len) {
		unlink(tmp);
		return fp_error_set(err, FP_EIO, "publish: cannot write %s",
				    tmp);
	}
	if (rename(tmp, path) != 0) {
		int e = errno;

		unlink(tmp);
		return fp_error_set(err, FP_EIO,
				    "publish: cannot rename to %s: %s", path,
				    strerror(e));
	}
	return 0;
}

/* ---- the board --------------------------------------------------------
 *
 * dir/.board: a header and FP_BOARD_SLOTS slots in an open-addressed hash
 * table keyed by step id (FNV-1a, linear probing). The node poller is its
 * only writer: it updates a slot in place between two increments of the
 * slot's sequence number (odd while writing); a reader copies the slot and
 * retries while the number was odd or moved. A freed slot is a tombstone
 * that probing passes over; tombstones that end a run are made empty again
 * when pruning.
 */

#define BOARD_MAGIC "fp-board 1"

enum { SLOT_EMPTY, SLOT_USED, SLOT_FREE };

struct board_head {
	char magic[16];
	uint32_t nslots;
	uint32_t slot_size;
	char pad[40];
};

struct board_slot {
	_Atomic uint32_t seq;
	uint32_t state;
	char id[64];
	double energy_j, power_w, t;
	char source[24];
	uint8_t simulated, ended;
	char pad[6];
};

_Static_assert(sizeof(struct board_head) == 64, "board header size");
_Static_assert(sizeof(struct board_slot) == 128, "board slot size");

#define BOARD_SIZE \
	(sizeof(struct board_head) + FP_BOARD_SLOTS * sizeof(struct board_slot))

struct fp_board {
	struct board_head *head;
	struct board_slot *slot;
	size_t used;
	/* the slots of the last round of puts, in order: a poll publishes
	 * the same steps in the same order, so the k-th put is tried at the
	 * k-th slot of the last round before hashing */
	uint32_t order[FP_BOARD_SLOTS];
	size_t k, norder;
};

static uint32_t _hash(const char *id)
{
	uint32_t h = 2166136261u;

	for (; *id; id++)
		h = (h ^ (uint8_t)*id) * 16777619u;
	return h % FP_BOARD_SLOTS;
}

static bool _head_ok(const struct board_head *h)
{
	return !memcmp(h->magic, BOARD_MAGIC, sizeof(BOARD_MAGIC)) &&
	       h->nslots == FP_BOARD_SLOTS &&
	       h->slot_size == sizeof(struct board_slot);
}

/*
 * Slot i as read by a step daemon, with two reads through the file (no
 * mapping: cheaper for one read than mapping and faulting pages in): a copy
 * is whole when its sequence number is even and a second copy made after it
 * is identical. A torn first copy saw data of an update whose odd number was
 * visible before that data, so the later copy would see a newer number.
 * False when the slot cannot be read or stays in update (a writer killed
 * mid-update leaves its number odd: the caller falls back, never spins).
 */
static bool _slot_read(int fd, uint32_t i, struct board_slot *copy)
{
	off_t off = (off_t)(sizeof(struct board_head) +
			    i * sizeof(struct board_slot));

	for (int tries = 0; tries < 1000; tries++) {
		struct board_slot again;

		if (pread(fd, copy, sizeof(*copy), off) !=
		    (ssize_t)sizeof(*copy))
			return false;
		if (copy->seq & 1)
			continue;
		atomic_thread_fence(memory_order_seq_cst);
		if (pread(fd, &again, sizeof(again), off) !=
		    (ssize_t)sizeof(again))
			return false;
		if (!memcmp(copy, &again, sizeof(again)))
			return true;
	}
	return false;
}

/* The slot holding id, read whole into copy, or -1. */
static long _find(int fd, const char *id, struct board_slot *copy)
{
	uint32_t h = _hash(id);

	for (uint32_t k = 0; k < FP_BOARD_SLOTS; k++) {
		uint32_t i = (h + k) % FP_BOARD_SLOTS;

		if (!_slot_read(fd, i, copy) || copy->state == SLOT_EMPTY)
			return -1;
		if (copy->state == SLOT_USED &&
		    !strncmp(copy->id, id, sizeof(copy->id)))
			return (long)i;
	}
	return -1;
}

/* Writes the slot's fields between the two sequence increments. */
static void _slot_write(struct board_slot *s, uint32_t state, const char *id,
			const fp_step_value_t *v)
{
	/* odd while writing, even after, whatever a killed writer left */
	uint32_t seq =
		(atomic_load_explicit(&s->seq, memory_order_relaxed) + 1) | 1;

	atomic_store_explicit(&s->seq, seq, memory_order_relaxed);
	atomic_thread_fence(memory_order_release);
	s->state = state;
	if (id)
		snprintf(s->id, sizeof(s->id), "%s", id);
	if (v) {
		s->energy_j = v->energy_j;
		s->power_w = v->power_w;
		s->t = v->t;
		memcpy(s->source, v->source, sizeof(s->source));
		s->source[sizeof(s->source) - 1] = '\0';
		s->simulated = v->simulated;
		s->ended = v->ended;
	}
	atomic_store_explicit(&s->seq, seq + 1, memory_order_release);
}

fp_board_t *fp_publish_board_open(const char *dir, fp_error_t *err)
{
	char path[4096], tmp[4096];
	struct stat st;
	fp_board_t *b;
	void *map;
	int fd;

	fp_error_clear(err);
	snprintf(path, sizeof(path), "%s/" FP_BOARD_FILE, dir);
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0 && (fstat(fd, &st) || !S_ISREG(st.st_mode) ||
			st.st_size != (off_t)BOARD_SIZE)) {
		close(fd);
		fd = -1;
	}
	map = fd < 0 ? MAP_FAILED
		     : mmap(NULL, BOARD_SIZE, PROT_READ | PROT_WRITE,
			    MAP_SHARED, fd, 0);
	if (fd >= 0)
		close(fd);
	if (map != MAP_FAILED && !_head_ok(map)) {
		munmap(map, BOARD_SIZE);
		map = MAP_FAILED;
	}
	if (map == MAP_FAILED) {
		/* a new board, made aside and renamed into place */
		struct board_head h = { .nslots = FP_BOARD_SLOTS,
					.slot_size =
						sizeof(struct board_slot) };

		memcpy(h.magic, BOARD_MAGIC, sizeof(BOARD_MAGIC));
		snprintf(tmp, sizeof(tmp), "%s/" FP_BOARD_FILE ".tmp", dir);
		unlink(tmp);
		fd = open(tmp, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
		if (fd < 0)
			return fp_error_set(err, FP_EIO,
					    "publish: cannot create "
					    "%s: %s",
					    tmp, strerror(errno)),
			       NULL;
		if (ftruncate(fd, (off_t)BOARD_SIZE) ||
		    pwrite(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
		    rename(tmp, path)) {
			int e = errno;

			close(fd);
			unlink(tmp);
			return fp_error_set(err, FP_EIO,
					    "publish: cannot make "
					    "%s: %s",
					    path, strerror(e)),
			       NULL;
		}
		map = mmap(NULL, BOARD_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
			   fd, 0);
		close(fd);
		if (map == MAP_FAILED)
			return fp_error_set(err, FP_EIO,
					    "publish: cannot map %s: "
					    "%s",
					    path, strerror(errno)),
			       NULL;
	}
	b = calloc(1, sizeof(*b));
	if (!b) {
		munmap(map, BOARD_SIZE);
		return fp_error_set(err, FP_ENOMEM, "publish: out of memory"),
		       NULL;
	}
	b->head = map;
	b->slot = (struct board_slot *)((char *)map + sizeof(*b->head));
	for (size_t i = 0; i < FP_BOARD_SLOTS; i++) {
		struct board_slot *s = &b->slot[i];

		/* a slot a killed writer left half written is dropped */
		if (atomic_load_explicit(&s->seq, memory_order_relaxed) & 1 ||
		    (s->state != SLOT_EMPTY && s->state != SLOT_USED &&
		     s->state != SLOT_FREE))
			_slot_write(s, SLOT_FREE, NULL, NULL);
		b->used += s->state == SLOT_USED;
	}
	return b;
}

void fp_publish_board_close(fp_board_t *b)
{
	if (!b)
		return;
	munmap(b->head, BOARD_SIZE);
	free(b);
}

size_t fp_publish_board_used(const fp_board_t *b)
{
	return b ? b->used : 0;
}

/* The k-th put of this round went to slot i. */
static void _remember(fp_board_t *b, uint32_t i)
{
	if (b->k < FP_BOARD_SLOTS)
		b->order[b->k++] = i;
}

int fp_publish_board_put(fp_board_t *b, const char *step_id,
			 const fp_step_value_t *v, fp_error_t *err)
{
	uint32_t h;
	long free_at = -1;

	fp_error_clear(err);
	if (b->k < b->norder) {
		struct board_slot *s = &b->slot[b->order[b->k]];

		if (s->state == SLOT_USED && !strcmp(s->id, step_id)) {
			_slot_write(s, SLOT_USED, NULL, v);
			b->k++;
			return 0;
		}
	}
	if (!_valid_step_id(step_id))
		return fp_error_set(err, FP_EINVAL, "publish: bad step id '%s'",
				    step_id ? step_id : "(null)");
	h = _hash(step_id);
	for (uint32_t k = 0; k < FP_BOARD_SLOTS; k++) {
		uint32_t i = (h + k) % FP_BOARD_SLOTS;
		struct board_slot *s = &b->slot[i];

		if (s->state == SLOT_USED && !strcmp(s->id, step_id)) {
			_slot_write(s, SLOT_USED, NULL, v);
			_remember(b, i);
			return 0;
		}
		if (s->state != SLOT_USED && free_at < 0)
			free_at = i;
		if (s->state == SLOT_EMPTY)
			break;
	}
	if (free_at < 0)
		return 1;
	_slot_write(&b->slot[free_at], SLOT_USED, step_id, v);
	_remember(b, (uint32_t)free_at);
	b->used++;
	return 0;
}

void fp_publish_board_round(fp_board_t *b)
{
	if (b) {
		b->norder = b->k;
		b->k = 0;
	}
}

int fp_publish_board_prune(fp_board_t *b, double now, double max_age_s)
{
	int freed = 0;

	if (!b)
		return 0;
	for (size_t i = 0; i < FP_BOARD_SLOTS; i++) {
		struct board_slot *s = &b->slot[i];

		if (s->state == SLOT_USED && now - s->t > max_age_s) {
			_slot_write(s, SLOT_FREE, NULL, NULL);
			b->used--;
			freed++;
		}
	}
	/* a tombstone just before an empty slot ends no probe that would
	 * not end there anyway: empty it, and the ones before it */
	for (size_t k = 0; k < FP_BOARD_SLOTS; k++) {
		size_t i = FP_BOARD_SLOTS - 1 - k;

		if (b->slot[i].state == SLOT_FREE &&
		    b->slot[(i + 1) % FP_BOARD_SLOTS].state == SLOT_EMPTY)
			for (size_t j = i; b->slot[j].state == SLOT_FREE;
			     j = (j + FP_BOARD_SLOTS - 1) % FP_BOARD_SLOTS)
				_slot_write(&b->slot[j], SLOT_EMPTY, NULL,
					    NULL);
	}
	return freed;
}

/* 0 with *v from the board, 1 when the board does not hold the step. */
static int _board_read(const char *dir, const char *step_id, fp_step_value_t *v)
{
	char path[4096];
	struct board_slot copy;
	struct board_head h;
	struct stat st;
	long at = -1;
	int fd;

	snprintf(path, sizeof(path), "%s/" FP_BOARD_FILE, dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return 1;
	if (!fstat(fd, &st) && S_ISREG(st.st_mode) &&
	    st.st_size == (off_t)BOARD_SIZE &&
	    pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) && _head_ok(&h))
		at = _find(fd, step_id, &copy);
	close(fd);
	if (at < 0 || !(copy.energy_j >= 0) || !(copy.t >= 0))
		return 1;
	memset(v, 0, sizeof(*v));
	v->energy_j = copy.energy_j;
	v->power_w = copy.power_w;
	v->t = copy.t;
	memcpy(v->source, copy.source, sizeof(v->source));
	v->source[sizeof(v->source) - 1] = '\0';
	v->simulated = copy.simulated != 0;
	v->ended = copy.ended != 0;
	return 0;
}

int fp_publish_read_step(const char *dir, const char *step_id,
			 fp_step_value_t *v, fp_error_t *err)
{
	char path[4096], buf[256];
	int fd, sim, ended;
	ssize_t n;

	fp_error_clear(err);
	if (!_valid_step_id(step_id))
		return fp_error_set(err, FP_EINVAL, "publish: bad step id '%s'",
				    step_id ? step_id : "(null)");
	if (!_board_read(dir, step_id, v))
		return 0;
	snprintf(path, sizeof(path), "%s/%s", dir, step_id);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fp_error_set(err, FP_EIO, "%s: %s", path,
				    strerror(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return fp_error_set(err, FP_EPARSE, "%s: empty record", path);
	buf[n] = '\0';
	memset(v, 0, sizeof(*v));
	if (sscanf(buf, RECORD_MAGIC " %lf %lf %lf %23s %d %d", &v->energy_j,
		   &v->power_w, &v->t, v->source, &sim, &ended) != 6 ||
	    !(v->energy_j >= 0) || !(v->t >= 0))
		return fp_error_set(err, FP_EPARSE,
				    "%s: not a footprint step record", path);
	v->simulated = sim != 0;
	v->ended = ended != 0;
	return 0;
}

int fp_publish_remove_step(const char *dir, const char *step_id,
			   fp_error_t *err)
{
	char path[4096];

	fp_error_clear(err);
	if (!_valid_step_id(step_id))
		return fp_error_set(err, FP_EINVAL, "publish: bad step id '%s'",
				    step_id ? step_id : "(null)");
	snprintf(path, sizeof(path), "%s/%s", dir, step_id);
	if (unlink(path) != 0 && errno != ENOENT)
		return fp_error_set(err, FP_EIO, "%s: %s", path,
				    strerror(errno));
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

	fp_error_clear(err);
	snprintf(path, sizeof(path), "%s/%llu", dir, job);
	snprintf(tmp, sizeof(tmp), "%s/.%llu.tmp", dir, job);
	_one_line(u, sizeof(u), user);
	_one_line(a, sizeof(a), account);
	f = fopen(tmp, "w");
	if (!f)
		return fp_error_set(err, FP_EIO,
				    "publish: cannot create %s: %s", tmp,
				    strerror(errno));
	fprintf(f, "%s\n%s\n", u, a);
	bad = ferror(f);
	if (fclose(f) != 0 || bad || rename(tmp, path) != 0) {
		unlink(tmp);
		return fp_error_set(err, FP_EIO, "publish: cannot write %s",
				    path);
	}
	return 0;
}

int fp_publish_read_job_labels(const char *dir, unsigned long long job,
			       char *user, size_t user_size, char *account,
			       size_t account_size, fp_error_t *err)
{
	char path[4096], line[256];
	FILE *f;

	fp_error_clear(err);
	snprintf(path, sizeof(path), "%s/%llu", dir, job);
	f = fopen(path, "r");
	if (!f)
		return fp_error_set(err, FP_EIO, "%s: %s", path,
				    strerror(errno));
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

static bool _sluid_ok(const char *sluid)
{
	size_t n = strlen(sluid);

	if (!n || n > 32)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)sluid[i]))
			return false;
	return true;
}

int fp_publish_job_sluid(const char *dir, unsigned long long job,
			 const char *sluid, fp_error_t *err)
{
	char path[4096], tmp[4096], target[32];

	fp_error_clear(err);
	if (!_sluid_ok(sluid))
		return fp_error_set(err, FP_EINVAL,
				    "publish: job %llu: SLUID '%s' "
				    "is not letters and digits",
				    job, sluid);
	snprintf(path, sizeof(path), "%s/%s", dir, sluid);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, sluid);
	snprintf(target, sizeof(target), "%llu", job);
	unlink(tmp);
	if (symlink(target, tmp) != 0 || rename(tmp, path) != 0) {
		int e = errno;

		unlink(tmp);
		return fp_error_set(err, FP_EIO, "publish: cannot write %s: %s",
				    path, strerror(e));
	}
	return 0;
}

/* A link's target: the job id in decimal, nothing else. */
static bool _job_target(int dfd, const char *name, unsigned long long *job)
{
	char t[32], *end;
	ssize_t n = readlinkat(dfd, name, t, sizeof(t) - 1);

	if (n <= 0 || t[0] < '1' || t[0] > '9')
		return false;
	t[n] = '\0';
	errno = 0;
	*job = strtoull(t, &end, 10);
	return !*end && errno == 0;
}

int fp_publish_read_job_sluid(const char *dir, const char *sluid,
			      unsigned long long *job, fp_error_t *err)
{
	char path[4096];

	fp_error_clear(err);
	snprintf(path, sizeof(path), "%s/%s", dir, sluid);
	if (!_sluid_ok(sluid) || !_job_target(AT_FDCWD, path, job))
		return fp_error_set(err, FP_EIO, "%s: no job recorded", path);
	return 0;
}

/* A label file's name: the job id in decimal, nothing else. */
static bool _job_file(const char *name, unsigned long long *job)
{
	char *end;

	if (name[0] < '1' || name[0] > '9')
		return false;
	errno = 0;
	*job = strtoull(name, &end, 10);
	return !*end && errno == 0;
}

int fp_publish_prune_job_labels(const char *dir, double now, double min_age_s,
				fp_job_known_fn known, void *ctx)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	struct stat st;
	unsigned long long job;
	int removed = 0;

	if (!d)
		return 0;
	while ((e = readdir(d))) {
		if (!_job_file(e->d_name, &job) &&
		    !(_sluid_ok(e->d_name) &&
		      _job_target(dirfd(d), e->d_name, &job)))
			continue;
		if (known(job, ctx))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) ||
		    now - (double)st.st_mtime < min_age_s)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	return removed;
}
