/* Specification of sfootprint's command line (sacct's and seff's habits):
 * runs the built tool beside this test, without a cluster. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

static char tool[PATH_MAX], dir[64];
static char out[1 << 16], err[1 << 16];

/* The tool is $(BUILD)/sfootprint, this test $(BUILD)/tests/NAME. */
static int setup(void **state)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n < 0)
		return -1;
	self[n] = '\0';
	snprintf(tool, sizeof(tool), "%s/sfootprint", dirname(dirname(self)));
	snprintf(dir, sizeof(dir), "/tmp/fp-cli-test.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	/* Nothing of this machine's Slurm or footprint.conf. */
	setenv("SLURM_CONF", "/nonexistent/slurm.conf", 1);
	unsetenv("FOOTPRINT_CONF");
	return access(tool, X_OK);
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void slurp(int fd, char *buf, size_t size)
{
	ssize_t n = pread(fd, buf, size - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	close(fd);
}

/* Runs sfootprint with the arguments (NULL-terminated), stdout and stderr
 * into out and err; the exit status, or -1 when it did not exit. */
static int run(const char *arg, ...)
{
	const char *argv[32] = { "sfootprint" };
	char po[96], pe[96];
	int fo, fe, status, argc = 1;
	va_list ap;
	pid_t pid;

	va_start(ap, arg);
	for (const char *a = arg; a && argc < 31; a = va_arg(ap, const char *))
		argv[argc++] = a;
	va_end(ap);
	snprintf(po, sizeof(po), "%s/out", dir);
	snprintf(pe, sizeof(pe), "%s/err", dir);
	fo = open(po, O_RDWR | O_CREAT | O_TRUNC, 0600);
	fe = open(pe, O_RDWR | O_CREAT | O_TRUNC, 0600);
	assert_true(fo >= 0 && fe >= 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fo, 1);
		dup2(fe, 2);
		execv(tool, (char **)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	slurp(fo, out, sizeof(out));
	slurp(fe, err, sizeof(err));
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_version_prints_the_tools_name_and_version(void **state)
{
	assert_int_equal(run("--version", NULL), 0);
	assert_int_equal(strncmp(out, "sfootprint ", 11), 0);
	assert_true(strlen(out) > 12);
	assert_int_equal(lines(out), 1);
	assert_string_equal(err, "");
}

/* One version: what --version says is what a summary the library writes
 * says ("software":{"version"}), whether or not the tree had git. */
static void test_version_is_the_one_the_summaries_say(void **state)
{
	char conf[128], job[128], want[256], *v, *end;
	FILE *f;

	assert_int_equal(run("--version", NULL), 0);
	assert_null(strstr(out, "unknown"));
	snprintf(want, sizeof(want), "\"version\":\"%.*s\"",
		 (int)strcspn(out + 11, "\n"), out + 11);
	snprintf(conf, sizeof(conf), "%s/v.conf", dir);
	snprintf(job, sizeof(job), "%s/v.json", dir);
	f = fopen(conf, "w");
	assert_non_null(f);
	fputs("Site=a Nodes=n1 Intensity=50\n", f);
	fclose(f);
	f = fopen(job, "w");
	assert_non_null(f);
	fputs("{\"job_id\": 1, \"start\": \"2024-01-15T00:00:00Z\", "
	      "\"end\": \"2024-01-15T01:00:00Z\", \"steps\": [{\"id\": "
	      "\"1.0\", \"start\": \"2024-01-15T00:00:00Z\", \"end\": "
	      "\"2024-01-15T01:00:00Z\", \"energy_j\": 3600, \"nodes\": "
	      "[{\"name\": \"n1\", \"cpus\": 1}]}]}\n",
	      f);
	fclose(f);
	assert_int_equal(run("compute", "--config", conf, job, "--json", NULL),
			 0);
	v = strstr(out, "\"software\":");
	assert_non_null(v);
	end = strchr(v, '}');
	assert_non_null(end);
	*end = '\0';
	if (!strstr(v, want))
		fail_msg("--version says %s, the summary %s", want, v);
}

static void test_bare_sfootprint_lists_jobs_as_sacct_does(void **state)
{
	/* It goes for accounting (and needs slurm.conf for the cluster's
	 * name), where it used to print its usage. */
	assert_int_equal(run(NULL), 1);
	assert_null(strstr(err, "usage"));
	assert_non_null(strstr(err, "/nonexistent/slurm.conf"));
	assert_int_equal(lines(err), 1);
}

static void
test_non_numeric_job_id_is_a_usage_error_before_any_file(void **state)
{
	const char *bad[] = { "abc", "12x", "1,abc", "4.2" };

	/* An unreadable footprint.conf named by FOOTPRINT_CONF fails with
	 * 1: a 2 proves the id was refused before it was read. */
	setenv("FOOTPRINT_CONF", "/nonexistent/footprint.conf", 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(run("-j", bad[i], NULL), 2);
		assert_non_null(strstr(err, "-j: job id '"));
		assert_null(strstr(err, "nonexistent"));
		assert_int_equal(lines(err), 1);
	}
	unsetenv("FOOTPRINT_CONF");
}

static void test_job_ids_beyond_slurms_are_usage_errors(void **state)
{
	assert_int_equal(run("-j", "4294967296", NULL), 2);
	assert_non_null(strstr(err, "'4294967296': out of Slurm's job ids"));
	assert_int_equal(run("-j", "1", "-j", "99999999999999999999", NULL), 2);
	assert_int_equal(run("-j", "0", NULL), 2);
}

static void test_job_lists_and_repeated_ids_are_accepted(void **state)
{
	setenv("FOOTPRINT_CONF", "/nonexistent/footprint.conf", 1);
	assert_int_equal(run("-j", "1,2,3", NULL), 1);
	assert_non_null(strstr(err, "/nonexistent/footprint.conf"));
	assert_int_equal(
		run("-j", "1", "-j", "2", "-n", "-o", "jobid,state", NULL), 1);
	assert_non_null(strstr(err, "/nonexistent/footprint.conf"));
	unsetenv("FOOTPRINT_CONF");
}

static void
test_unknown_format_column_is_a_usage_error_listing_all(void **state)
{
	assert_int_equal(run("-o", "JobID,Bogus", NULL), 2);
	assert_non_null(strstr(err, "'Bogus'"));
	assert_non_null(strstr(err, "ConsumedEnergy"));
	assert_non_null(strstr(err, "CPUEff"));
	assert_int_equal(run("--format", "jobid,STATE,cpueff", "-S",
			     "yesterday", NULL),
			 2);
	assert_non_null(strstr(err, "'yesterday'"));
}

static void test_start_and_end_take_sacct_formats(void **state)
{
	const char *good[] = { "2024-01-15",
			       "2024-01-15T08:30",
			       "2024-01-15T08:30:15",
			       "01/15",
			       "01/15/24",
			       "08:30",
			       "08:30:15",
			       "now",
			       "now-2days",
			       "now-3hours",
			       "now-1weeks" };

	/* A good time gets past the options: the failure is slurm.conf.
	 * The end is tomorrow: "08:30" is today's, after now before 08:30
	 * (CI ran this at 00:16 and got the usage error for start > end). */
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(run("-S", good[i], "-E", "now+1days", NULL),
				 1);
		assert_non_null(strstr(err, "slurm.conf"));
	}
	assert_int_equal(run("-S", "now", "-E", "now-1day", NULL), 2);
}

static void write_file(const char *name, const char *text)
{
	char path[160];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_verify_reads_footprint_conf_from_env_and_option(void **state)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/x.jws", dir);
	write_file("x.jws", "a.b.c\n");
	setenv("FOOTPRINT_CONF", "/nonexistent/env-footprint.conf", 1);
	assert_int_equal(run("verify", path, NULL), 1);
	assert_non_null(strstr(err, "/nonexistent/env-footprint.conf"));
	assert_int_equal(run("verify", path, "--config",
			     "/nonexistent/opt-footprint.conf", NULL),
			 1);
	assert_non_null(strstr(err, "/nonexistent/opt-footprint.conf"));
	unsetenv("FOOTPRINT_CONF");
}

static void test_keygen_out_empty_or_a_folder_is_a_usage_error(void **state)
{
	char path[160];
	struct stat st;

	assert_int_equal(run("keygen", "--out", "", NULL), 2);
	assert_non_null(strstr(err, "--out"));
	snprintf(path, sizeof(path), "%s/", dir);
	assert_int_equal(run("keygen", "--out", path, NULL), 2);
	assert_non_null(strstr(err, path));
	assert_int_equal(run("keygen", "--out", dir, NULL), 2);
	snprintf(path, sizeof(path), "%s/.key", dir);
	assert_int_equal(stat(path, &st), -1);
	snprintf(path, sizeof(path), "%s.key", dir);
	assert_int_equal(stat(path, &st), -1);
}

/* -j from a signed summary, without accounting: seff's report with every
 * figure it has, no nan, times local, names escaped. */
static void test_job_report_from_a_summary_without_accounting(void **state)
{
	char key[160], conf[400], sum[160];

	snprintf(key, sizeof(key), "%s/k", dir);
	assert_int_equal(run("keygen", "--out", key, NULL), 0);
	write_file("s.json",
		   "{\"complete\":false,\"incomplete\":[\"no "
		   "series\\u001b[2J\"],\"job\":{\"id\":4242,\"user\":"
		   "\"al\\u001bice\",\"account\":\"p\",\"start\":"
		   "\"2024-01-15T00:00:00Z\",\"end\":\"2024-01-15T01:00:00Z\"},"
		   "\"energy\":{\"it_Wh\":2,\"facility_Wh\":3,\"source\":"
		   "\"simulated\"},\"carbon\":{\"reference\":0},"
		   "\"schema_version\":1}");
	snprintf(sum, sizeof(sum), "%s/s.json", dir);
	snprintf(key, sizeof(key), "%s/k.key", dir);
	assert_int_equal(run("sign", "--key", key, sum, NULL), 0);
	snprintf(conf, sizeof(conf), "mkdir -p %s/spool/summaries", dir);
	assert_int_equal(system(conf), 0);
	write_file("spool/summaries/4242.jws", out);
	snprintf(conf, sizeof(conf),
		 "Site=paris Nodes=n1 Intensity=56\n"
		 "SpoolDir=%s/spool\nPublicKey=%s/k.pub\n",
		 dir, dir);
	write_file("fp.conf", conf);
	snprintf(conf, sizeof(conf), "%s/fp.conf", dir);
	setenv("TZ", "CET-1", 1);
	assert_int_equal(run("-j", "4242", "--config", conf, NULL), 0);
	unsetenv("TZ");
	assert_null(strstr(out, "nan"));
	assert_null(strstr(out, "inf"));
	assert_non_null(strstr(out, "User/Account: al\\x1bice/p\n"));
	assert_non_null(strstr(out, "State: - (no accounting record: "));
	assert_non_null(strstr(out, "Start/End: 2024-01-15T01:00:00 / "
				    "2024-01-15T02:00:00 (local time)\n"));
	assert_non_null(strstr(out, "Energy: 2.000 Wh IT (7200 J), 3.000 Wh "
				    "facility (10800 J); simulated"));
	assert_non_null(strstr(out, "Completeness: incomplete: no "
				    "series\\x1b[2J\n"));
	assert_non_null(strstr(out, "signature: valid (kid "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
			test_version_prints_the_tools_name_and_version),
		cmocka_unit_test(test_version_is_the_one_the_summaries_say),
		cmocka_unit_test(test_bare_sfootprint_lists_jobs_as_sacct_does),
		cmocka_unit_test(
			test_non_numeric_job_id_is_a_usage_error_before_any_file),
		cmocka_unit_test(test_job_ids_beyond_slurms_are_usage_errors),
		cmocka_unit_test(test_job_lists_and_repeated_ids_are_accepted),
		cmocka_unit_test(
			test_unknown_format_column_is_a_usage_error_listing_all),
		cmocka_unit_test(test_start_and_end_take_sacct_formats),
		cmocka_unit_test(
			test_verify_reads_footprint_conf_from_env_and_option),
		cmocka_unit_test(
			test_keygen_out_empty_or_a_folder_is_a_usage_error),
		cmocka_unit_test(
			test_job_report_from_a_summary_without_accounting),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
