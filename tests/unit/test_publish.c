/* Specification of the per-step hand-off between the node poller and the
 * step daemons (lib/publish). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "footprint/publish.h"

static char dir[64];

static int setup(void **state)
{
	strcpy(dir, "/tmp/fp-publish-XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void test_published_value_reads_back_exactly(void **state)
{
	fp_step_value_t v = { .energy_j = 1234.5,
			      .power_w = 17.25,
			      .t = 1732350000.5,
			      .simulated = true };
	fp_step_value_t r;
	fp_error_t err;

	strcpy(v.source, "calibrated");
	assert_int_equal(fp_publish_step(dir, "42.batch", &v, &err), 0);
	assert_int_equal(fp_publish_read_step(dir, "42.batch", &r, &err), 0);
	assert_true(r.energy_j == 1234.5);
	assert_true(r.power_w == 17.25);
	assert_true(r.t == 1732350000.5);
	assert_string_equal(r.source, "calibrated");
	assert_true(r.simulated);
	assert_false(r.ended);
}

static void test_republishing_replaces_the_value(void **state)
{
	fp_step_value_t v = { .energy_j = 1 }, r;
	fp_error_t err;

	strcpy(v.source, "wall");
	assert_int_equal(fp_publish_step(dir, "7.0", &v, &err), 0);
	v.energy_j = 2;
	v.ended = true;
	assert_int_equal(fp_publish_step(dir, "7.0", &v, &err), 0);
	assert_int_equal(fp_publish_read_step(dir, "7.0", &r, &err), 0);
	assert_true(r.energy_j == 2);
	assert_true(r.ended);
}

static void test_missing_record_is_an_io_error_naming_the_path(void **state)
{
	fp_step_value_t r;
	fp_error_t err;

	assert_int_equal(fp_publish_read_step(dir, "9.extern", &r, &err), -1);
	assert_int_equal(err.code, FP_EIO);
	assert_non_null(strstr(err.msg, "9.extern"));
}

static void test_garbage_record_is_rejected(void **state)
{
	char path[128];
	fp_step_value_t r;
	fp_error_t err;
	FILE *f;

	snprintf(path, sizeof(path), "%s/5.1", dir);
	f = fopen(path, "w");
	fputs("hello world\n", f);
	fclose(f);
	assert_int_equal(fp_publish_read_step(dir, "5.1", &r, &err), -1);
	assert_int_equal(err.code, FP_EPARSE);
	assert_non_null(strstr(err.msg, path));
}

static void test_step_ids_that_escape_the_folder_are_refused(void **state)
{
	fp_step_value_t v = { 0 };
	fp_error_t err;

	assert_int_equal(fp_publish_step(dir, "../etc", &v, &err), -1);
	assert_int_equal(fp_publish_step(dir, "1/2", &v, &err), -1);
	assert_int_equal(fp_publish_step(dir, "", &v, &err), -1);
	assert_int_equal(err.code, FP_EINVAL);
}

static void test_prune_removes_only_old_records(void **state)
{
	fp_step_value_t v = { 0 };
	fp_error_t err;
	char path[128];
	struct stat st;

	strcpy(v.source, "rapl");
	fp_publish_step(dir, "1.0", &v, &err);
	fp_publish_step(dir, "2.0", &v, &err);
	snprintf(path, sizeof(path), "%s/1.0", dir);
	stat(path, &st);
	/* "now" one hour later: both are old; 10 s later: none is. */
	assert_int_equal(fp_publish_prune(dir, (double)st.st_mtime + 10, 60),
			 0);
	assert_int_equal(fp_publish_prune(dir, (double)st.st_mtime + 3600, 60),
			 2);
	assert_int_equal(fp_publish_read_step(dir, "1.0", &v, &err), -1);
}

static void test_unpublish_is_idempotent(void **state)
{
	fp_step_value_t v = { 0 };
	fp_error_t err;

	strcpy(v.source, "rapl");
	fp_publish_step(dir, "3.batch", &v, &err);
	assert_int_equal(fp_publish_remove_step(dir, "3.batch", &err), 0);
	assert_int_equal(fp_publish_remove_step(dir, "3.batch", &err), 0);
	assert_int_equal(fp_publish_read_step(dir, "3.batch", &v, &err), -1);
}

static void test_job_labels_read_back_with_newlines_flattened(void **state)
{
	char user[64], account[64];
	fp_error_t err;

	assert_int_equal(
		fp_publish_job_labels(dir, 4242, "alice", "ph\nys", &err), 0);
	assert_int_equal(fp_publish_read_job_labels(dir, 4242, user,
						    sizeof(user), account,
						    sizeof(account), &err),
			 0);
	assert_string_equal(user, "alice");
	assert_string_equal(account, "ph ys");
	assert_int_equal(fp_publish_read_job_labels(dir, 4243, user,
						    sizeof(user), account,
						    sizeof(account), &err),
			 -1);
}

/* ---- the board ---- */

static fp_step_value_t _val(double e, const char *source)
{
	fp_step_value_t v = { .energy_j = e, .power_w = e / 10, .t = 1000 + e };

	snprintf(v.source, sizeof(v.source), "%s", source);
	return v;
}

static void test_board_value_reads_back_and_updates_in_place(void **state)
{
	fp_step_value_t v = _val(12.5, "calibrated"), r;
	fp_error_t err;
	fp_board_t *b = fp_publish_board_open(dir, &err);
	char path[128];

	assert_non_null(b);
	v.simulated = true;
	assert_int_equal(fp_publish_board_put(b, "42.batch", &v, &err), 0);
	assert_int_equal(fp_publish_read_step(dir, "42.batch", &r, &err), 0);
	assert_true(r.energy_j == 12.5 && r.power_w == 1.25 && r.t == 1012.5);
	assert_string_equal(r.source, "calibrated");
	assert_true(r.simulated);
	assert_false(r.ended);
	v = _val(99, "wall");
	v.ended = true;
	assert_int_equal(fp_publish_board_put(b, "42.batch", &v, &err), 0);
	assert_int_equal(fp_publish_read_step(dir, "42.batch", &r, &err), 0);
	assert_true(r.energy_j == 99 && r.ended);
	assert_string_equal(r.source, "wall");
	assert_int_equal(fp_publish_board_used(b), 1);
	/* no file per step was written */
	snprintf(path, sizeof(path), "%s/42.batch", dir);
	assert_int_not_equal(access(path, F_OK), 0);
	assert_int_equal(fp_publish_read_step(dir, "42.0", &r, &err), -1);
	assert_int_equal(err.code, FP_EIO);
	fp_publish_board_close(b);
}

static void test_board_refuses_bad_ids(void **state)
{
	fp_step_value_t v = _val(1, "rapl");
	fp_error_t err;
	fp_board_t *b = fp_publish_board_open(dir, &err);

	assert_int_equal(fp_publish_board_put(b, "../x", &v, &err), -1);
	assert_int_equal(err.code, FP_EINVAL);
	assert_int_equal(fp_publish_board_put(b, ".board", &v, &err), -1);
	fp_publish_board_close(b);
}

/* Every slot taken: put says so (the poller then writes a file), and the
 * reader finds both kinds. */
static void test_full_board_says_so_and_files_take_over(void **state)
{
	fp_step_value_t v, r;
	fp_error_t err;
	fp_board_t *b = fp_publish_board_open(dir, &err);
	char id[32];

	for (int i = 0; i < FP_BOARD_SLOTS; i++) {
		snprintf(id, sizeof(id), "%d.0", 1000 + i);
		v = _val(i, "rapl");
		assert_int_equal(fp_publish_board_put(b, id, &v, &err), 0);
	}
	assert_int_equal(fp_publish_board_used(b), FP_BOARD_SLOTS);
	v = _val(7, "wall");
	assert_int_equal(fp_publish_board_put(b, "99999.0", &v, &err), 1);
	assert_int_equal(fp_publish_step(dir, "99999.0", &v, &err), 0);
	assert_int_equal(fp_publish_read_step(dir, "99999.0", &r, &err), 0);
	assert_true(r.energy_j == 7);
	for (int i = 0; i < FP_BOARD_SLOTS; i += 97) {
		snprintf(id, sizeof(id), "%d.0", 1000 + i);
		assert_int_equal(fp_publish_read_step(dir, id, &r, &err), 0);
		assert_true(r.energy_j == i);
	}
	fp_publish_board_close(b);
}

/* Pruning frees old slots only; steps past a freed slot stay reachable
 * and the slots are taken again. */
static void test_board_prune_frees_old_slots_and_keeps_others(void **state)
{
	fp_step_value_t v, r;
	fp_error_t err;
	fp_board_t *b = fp_publish_board_open(dir, &err);
	char id[32];

	for (int i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "%d.batch", i);
		v = _val(i, "rapl");
		v.t = i % 2 ? 5000 : 100; /* odd ones are recent */
		assert_int_equal(fp_publish_board_put(b, id, &v, &err), 0);
	}
	assert_int_equal(fp_publish_board_prune(b, 5010, 3600), 150);
	assert_int_equal(fp_publish_board_used(b), 150);
	for (int i = 0; i < 300; i++) {
		snprintf(id, sizeof(id), "%d.batch", i);
		assert_int_equal(fp_publish_read_step(dir, id, &r, &err),
				 i % 2 ? 0 : -1);
	}
	for (int i = 0; i < FP_BOARD_SLOTS - 150; i++) {
		snprintf(id, sizeof(id), "%d.1", i);
		v = _val(i, "rapl");
		assert_int_equal(fp_publish_board_put(b, id, &v, &err), 0);
	}
	assert_int_equal(fp_publish_board_used(b), FP_BOARD_SLOTS);
	assert_int_equal(fp_publish_read_step(dir, "299.batch", &r, &err), 0);
	assert_true(r.energy_j == 299);
	fp_publish_board_close(b);
}

/* A restarted poller keeps what the last one published; a board file that
 * is not one (wrong size, wrong magic) is made anew. */
static void test_board_survives_reopen_and_bad_files_are_remade(void **state)
{
	fp_step_value_t v = _val(3, "psys"), r;
	fp_error_t err;
	fp_board_t *b = fp_publish_board_open(dir, &err);
	char path[128];
	FILE *f;

	assert_int_equal(fp_publish_board_put(b, "8.0", &v, &err), 0);
	fp_publish_board_close(b);
	b = fp_publish_board_open(dir, &err);
	assert_int_equal(fp_publish_board_used(b), 1);
	assert_int_equal(fp_publish_read_step(dir, "8.0", &r, &err), 0);
	fp_publish_board_close(b);

	snprintf(path, sizeof(path), "%s/" FP_BOARD_FILE, dir);
	f = fopen(path, "r+");
	fputs("garbage!", f);
	fclose(f);
	assert_int_equal(fp_publish_read_step(dir, "8.0", &r, &err), -1);
	b = fp_publish_board_open(dir, &err);
	assert_non_null(b);
	assert_int_equal(fp_publish_board_used(b), 0);
	assert_int_equal(fp_publish_board_put(b, "8.0", &v, &err), 0);
	fp_publish_board_close(b);
	assert_int_equal(truncate(path, 1000), 0);
	b = fp_publish_board_open(dir, &err);
	assert_non_null(b);
	fp_publish_board_close(b);
	assert_int_equal(fp_publish_read_step(dir, "8.0", &r, &err), -1);
}

/* A writer killed in the middle of an update leaves an odd sequence
 * number: readers do not hang on it, and the next writer drops the slot. */
static void test_half_written_slot_neither_hangs_nor_survives(void **state)
{
	fp_step_value_t v = _val(5, "rapl"), r;
	fp_error_t err;
	fp_board_t *b = fp_publish_board_open(dir, &err);
	char path[128];
	FILE *f;
	long at = -1;
	unsigned char slot[128];

	assert_int_equal(fp_publish_board_put(b, "77.0", &v, &err), 0);
	fp_publish_board_close(b);
	snprintf(path, sizeof(path), "%s/" FP_BOARD_FILE, dir);
	f = fopen(path, "r+");
	for (long i = 0; i < FP_BOARD_SLOTS && at < 0; i++) {
		fseek(f, 64 + i * 128, SEEK_SET);
		assert_int_equal(fread(slot, 1, 128, f), 128);
		if (!strcmp((char *)slot + 8, "77.0"))
			at = i;
	}
	assert_true(at >= 0);
	slot[0] |= 1; /* sequence number odd: "being written" */
	fseek(f, 64 + at * 128, SEEK_SET);
	fwrite(slot, 1, 128, f);
	fclose(f);
	assert_int_equal(fp_publish_read_step(dir, "77.0", &r, &err), -1);
	b = fp_publish_board_open(dir, &err);
	assert_int_equal(fp_publish_board_used(b), 0);
	assert_int_equal(fp_publish_board_put(b, "77.0", &v, &err), 0);
	assert_int_equal(fp_publish_read_step(dir, "77.0", &r, &err), 0);
	assert_true(r.energy_j == 5);
	fp_publish_board_close(b);
}

/* Rounds of puts in another order, with steps coming and going, still put
 * each value in its own step's slot. */
static void test_board_rounds_in_any_order_keep_values_apart(void **state)
{
	const char *ids[] = { "1.0", "2.0", "3.batch", "4.extern", "5.1" };
	unsigned seed = 5;
	fp_error_t err;
	fp_board_t *b = fp_publish_board_open(dir, &err);

	for (int round = 0; round < 200; round++) {
		double want[5];
		bool put[5];

		for (int k = 0; k < 5; k++) {
			put[k] = false;
			want[k] = -1;
		}
		for (int n = 0; n < 5; n++) {
			fp_step_value_t v;
			int i;

			seed = seed * 1103515245 + 12345;
			i = (int)((seed >> 16) % 5);
			if (put[i] || (seed >> 8) % 4 == 0)
				continue; /* absent this round */
			v = _val(round * 10 + i, "rapl");
			assert_int_equal(
				fp_publish_board_put(b, ids[i], &v, &err), 0);
			put[i] = true;
			want[i] = round * 10 + i;
		}
		fp_publish_board_round(b);
		for (int i = 0; i < 5; i++) {
			fp_step_value_t r;

			if (!put[i])
				continue;
			assert_int_equal(
				fp_publish_read_step(dir, ids[i], &r, &err), 0);
			assert_true(r.energy_j == want[i]);
		}
	}
	fp_publish_board_close(b);
}

struct race {
	fp_board_t *board;
	atomic_int stop;
};

static void *_writer(void *arg)
{
	struct race *rc = arg;
	fp_error_t err;

	for (unsigned long i = 1; !atomic_load(&rc->stop); i++) {
		fp_step_value_t v = { .energy_j = (double)i,
				      .power_w = (double)i * 2,
				      .t = (double)i * 3 };

		snprintf(v.source, sizeof(v.source), "s%lu", i % 1000);
		fp_publish_board_put(rc->board, "1.0", &v, &err);
		/* now and then a pause, so readers get through; the rest of
		 * the time updates come back to back, to tear reads */
		if (i % 512 == 0)
			for (volatile int k = 0; k < 3000; k++)
				;
	}
	return NULL;
}

/* A reader racing the writer never sees a mix of two updates. */
static void test_reader_never_sees_a_torn_update(void **state)
{
	struct race rc = { 0 };
	fp_step_value_t v = _val(0, "x"), r;
	fp_error_t err;
	pthread_t th;
	double last = 0;
	int got = 0;

	rc.board = fp_publish_board_open(dir, &err);
	v.energy_j = v.power_w = v.t = 0;
	fp_publish_board_put(rc.board, "1.0", &v, &err);
	assert_int_equal(pthread_create(&th, NULL, _writer, &rc), 0);
	for (int k = 0; k < 100000; k++) {
		char want[24];

		if (fp_publish_read_step(dir, "1.0", &r, &err))
			continue; /* in update for too long: a miss */
		got++;
		assert_true(r.power_w == r.energy_j * 2);
		assert_true(r.t == r.energy_j * 3);
		if (r.energy_j > 0) {
			snprintf(want, sizeof(want), "s%lu",
				 (unsigned long)r.energy_j % 1000);
			assert_string_equal(r.source, want);
		}
		assert_true(r.energy_j >= last);
		last = r.energy_j;
	}
	atomic_store(&rc.stop, 1);
	pthread_join(th, NULL);
	assert_true(got > 1000);
	assert_true(last > 0);
	fp_publish_board_close(rc.board);
}

static size_t files_in(const char *d)
{
	DIR *dd = opendir(d);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(dd);
	while ((e = readdir(dd)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(dd);
	return n;
}

/* The poller knows the jobs from *ctx - 200 to *ctx (the last ones). */
static bool known_last_200(unsigned long long job, void *ctx)
{
	unsigned long long last = *(unsigned long long *)ctx;

	return job <= last && job + 200 > last;
}

static void test_job_labels_stay_bounded_over_10000_jobs(void **state)
{
	/* as the poller sweeps: every 100 jobs, the files old enough */
	double later = (double)time(NULL) + 3600;
	fp_error_t err;
	size_t most = 0;

	for (unsigned long long job = 1; job <= 10000; job++) {
		assert_int_equal(
			fp_publish_job_labels(dir, job, "alice", "p", &err), 0);
		if (job % 100 == 0)
			fp_publish_prune_job_labels(dir, later, 600,
						    known_last_200, &job);
		if (job % 10 == 0 && files_in(dir) > most)
			most = files_in(dir);
	}
	assert_true(most <= 300);
	assert_int_equal(files_in(dir), 200);
}

static bool known_none(unsigned long long job, void *ctx)
{
	return false;
}

static bool known_all(unsigned long long job, void *ctx)
{
	return true;
}

static void test_prune_keeps_labels_of_known_or_new_jobs(void **state)
{
	double now = (double)time(NULL);
	char user[64], account[64];
	fp_error_t err;

	assert_int_equal(fp_publish_job_labels(dir, 7, "alice", "p", &err), 0);
	/* known: kept, however old */
	assert_int_equal(fp_publish_prune_job_labels(dir, now + 1e6, 600,
						     known_all, NULL),
			 0);
	/* unknown but just written: the poller may not have seen it yet */
	assert_int_equal(fp_publish_prune_job_labels(dir, now, 600, known_none,
						     NULL),
			 0);
	assert_int_equal(fp_publish_read_job_labels(dir, 7, user, sizeof(user),
						    account, sizeof(account),
						    &err),
			 0);
	/* unknown and old: gone */
	assert_int_equal(fp_publish_prune_job_labels(dir, now + 601, 600,
						     known_none, NULL),
			 1);
	assert_int_equal(fp_publish_read_job_labels(dir, 7, user, sizeof(user),
						    account, sizeof(account),
						    &err),
			 -1);
}

static void test_prune_of_labels_leaves_other_files(void **state)
{
	char path[128];
	FILE *f;

	/* a step record, the board and a writer's temporary file are not
	 * label files */
	snprintf(path, sizeof(path), "%s/42.batch", dir);
	f = fopen(path, "w");
	fclose(f);
	snprintf(path, sizeof(path), "%s/.43.tmp", dir);
	f = fopen(path, "w");
	fclose(f);
	assert_int_equal(fp_publish_prune_job_labels(dir,
						     (double)time(NULL) + 1e6,
						     600, known_none, NULL),
			 0);
	assert_int_equal(files_in(dir), 2);
}

static bool known_9(unsigned long long job, void *ctx)
{
	return job == 9;
}

static void test_sluid_names_its_job_and_goes_with_it(void **state)
{
	unsigned long long job = 0;
	fp_error_t err;

	assert_int_equal(fp_publish_job_sluid(dir, 9, "s0KQ3M9F2ZT8BA", &err),
			 0);
	assert_int_equal(fp_publish_job_sluid(dir, 10, "s0KQ3M9F2ZT8BB", &err),
			 0);
	/* written again (the job's next step): same answer */
	assert_int_equal(fp_publish_job_sluid(dir, 9, "s0KQ3M9F2ZT8BA", &err),
			 0);
	assert_int_equal(fp_publish_read_job_sluid(dir, "s0KQ3M9F2ZT8BA", &job,
						   &err),
			 0);
	assert_int_equal(job, 9);
	assert_int_equal(fp_publish_read_job_sluid(dir, "s0KQ3M9F2ZT8BC", &job,
						   &err),
			 -1);
	assert_non_null(strstr(err.msg, "s0KQ3M9F2ZT8BC"));
	/* job 10 is gone and its record old; job 9 still runs */
	assert_int_equal(fp_publish_prune_job_labels(dir,
						     (double)time(NULL) + 1e6,
						     600, known_9, NULL),
			 1);
	assert_int_equal(fp_publish_read_job_sluid(dir, "s0KQ3M9F2ZT8BB", &job,
						   &err),
			 -1);
	assert_int_equal(fp_publish_read_job_sluid(dir, "s0KQ3M9F2ZT8BA", &job,
						   &err),
			 0);
	assert_int_equal(files_in(dir), 1);
}

static void test_sluids_that_escape_the_folder_are_refused(void **state)
{
	unsigned long long job;
	fp_error_t err;

	assert_int_equal(fp_publish_job_sluid(dir, 9, "../x", &err), -1);
	assert_non_null(strstr(err.msg, "../x"));
	assert_int_equal(fp_publish_job_sluid(dir, 9, "", &err), -1);
	assert_int_equal(fp_publish_read_job_sluid(dir, "..", &job, &err), -1);
	assert_int_equal(files_in(dir), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_published_value_reads_back_exactly, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_republishing_replaces_the_value, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_missing_record_is_an_io_error_naming_the_path,
			setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_record_is_rejected,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_step_ids_that_escape_the_folder_are_refused, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_prune_removes_only_old_records, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unpublish_is_idempotent,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_job_labels_read_back_with_newlines_flattened,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_job_labels_stay_bounded_over_10000_jobs, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_prune_keeps_labels_of_known_or_new_jobs, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_prune_of_labels_leaves_other_files, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_sluid_names_its_job_and_goes_with_it, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_sluids_that_escape_the_folder_are_refused, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_board_value_reads_back_and_updates_in_place, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_board_refuses_bad_ids,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_full_board_says_so_and_files_take_over, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_board_prune_frees_old_slots_and_keeps_others,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_board_survives_reopen_and_bad_files_are_remade,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_half_written_slot_neither_hangs_nor_survives,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_board_rounds_in_any_order_keep_values_apart, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_reader_never_sees_a_torn_update, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
