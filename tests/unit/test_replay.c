/* Specification of `sfootprint replay`: runs the built binary ($BUILD, default
 * "build") on generated traces and checks its output and exit codes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "physmodel.h"
#include "footprint/trace.h"

struct run {
	int status;
	char *out, *err;
};

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 20);
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Runs `sfootprint replay ARGS [< stdin_path]`. */
static void replay(struct run *r, const char *args, const char *stdin_path)
{
	const char *build = getenv("BUILD");
	char cmd[2048], out[] = "/tmp/test_replay_outXXXXXX",
			err[] = "/tmp/test_replay_errXXXXXX";
	int rc;

	close(mkstemp(out));
	close(mkstemp(err));
	snprintf(cmd, sizeof(cmd), "%s/sfootprint replay %s <%s >%s 2>%s",
		 build && *build ? build : "build", args,
		 stdin_path ? stdin_path : "/dev/null", out, err);
	rc = system(cmd);
	assert_true(WIFEXITED(rc));
	r->status = WEXITSTATUS(rc);
	r->out = slurp(out);
	r->err = slurp(err);
	unlink(out);
	unlink(err);
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

static void write_text(char *path, const char *text)
{
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	fputs(text, f);
	fclose(f);
}

/* A 10-minute trace of three jobs; the model keeps the truth. */
static void write_model_compact(pm_model_t *m, char *path, bool idle,
				fp_trace_form_t form, unsigned keyframe);

static void write_model_as(pm_model_t *m, char *path, bool idle,
			   fp_trace_form_t form)
{
	write_model_compact(m, path, idle, form, 0);
}

/* CPUs per package of the model (its steps hold 2 to 4) */
static int model_cpp = 4;

/* The same, compact with a keyframe every keyframe samples (0: plain). */
static void write_model_compact(pm_model_t *m, char *path, bool idle,
				fp_trace_form_t form, unsigned keyframe)
{
	const fp_node_desc_t *d;
	fp_trace_writer_t *w;
	fp_sample_t *s;
	fp_error_t err;

	close(mkstemp(path));
	pm_defaults(m);
	m->cpp = model_cpp;
	m->idle_in_header = idle;
	pm_add_step(m, "100.batch", 100, 0, 4, 1, 600, 0.3);
	pm_add_step(m, "100.0", 100, 0, 2, 50, 300, 0.6);
	pm_add_step(m, "200.0", 200, 2, 4, 100, 450, 0.5);
	pm_add_step(m, "300.batch", 300, 6, 2, 200, 600, 0.8);
	d = pm_init(m);
	s = fp_sample_new(d);
	w = fp_trace_writer_open_compact(path, d, form, keyframe, &err);
	assert_non_null(w);
	for (int i = 0; i < m->nsamples; i++) {
		pm_sample(m, s);
		assert_int_equal(fp_trace_writer_write(w, s, &err), 0);
		assert_int_equal(fp_trace_writer_flush(w, &err), 0);
	}
	assert_int_equal(fp_trace_writer_close(w, &err), 0);
	fp_sample_free(s);
}

static void write_model(pm_model_t *m, char *path, bool idle)
{
	write_model_as(m, path, idle, FP_TRACE_PLAIN);
}

static double num(json_t *root, const char *a, const char *b, const char *c)
{
	json_t *v = json_object_get(root, a);

	if (b)
		v = json_object_get(v, b);
	if (c)
		v = json_object_get(v, c);
	if (!json_is_number(v))
		fail_msg("%s.%s.%s is not a number", a, b ? b : "", c ? c : "");
	return json_number_value(v);
}

static void assert_rel(double got, double want, double tol, const char *what)
{
	if (fabs(got - want) > tol * fabs(want))
		fail_msg("%s: got %.12g, want %.12g", what, got, want);
}

static void test_json_output_matches_the_physical_truth(void **state)
{
	pm_model_t m;
	char path[] = "/tmp/test_replay_XXXXXX", args[128];
	struct run r;
	json_error_t jerr;
	json_t *root;
	double sum = 0;

	write_model(&m, path, true);
	snprintf(args, sizeof(args), "%s --json", path);
	replay(&r, args, NULL);
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	root = json_loads(r.out, 0, &jerr);
	if (!root)
		fail_msg("bad JSON output: %s", jerr.text);
	assert_string_equal(json_string_value(json_object_get(
				    json_object_get(root, "node"), "name")),
			    "pm-node");
	assert_rel(num(root, "node", "energy_j", NULL), m.truth_node_j, 1e-9,
		   "node");
	assert_rel(num(root, "node", "seconds", NULL), 600, 1e-12, "seconds");
	assert_rel(num(root, "node", "source", "wall"), 600, 1e-12, "wall");
	assert_rel(num(root, "node", "rapl_j", NULL), m.truth_rapl_j, 1e-9,
		   "rapl");
	assert_true(json_is_false(json_object_get(json_object_get(root, "node"),
						  "idle_w_estimated")));
	assert_rel(num(root, "jobs", "100", "energy_j"), pm_job_truth(&m, 100),
		   1e-6, "job 100");
	assert_rel(num(root, "jobs", "200", "energy_j"), pm_job_truth(&m, 200),
		   1e-6, "job 200");
	assert_rel(num(root, "jobs", "300", "energy_j"), pm_job_truth(&m, 300),
		   1e-6, "job 300");
	assert_rel(num(root, "steps", "100.0", "energy_j"), m.steps[1].energy_j,
		   1e-6, "step 100.0");
	assert_rel(num(root, "steps", "100.0", "seconds"), 251, 1e-12,
		   "step seconds");
	assert_int_equal(json_integer_value(json_object_get(
				 json_object_get(json_object_get(root, "steps"),
						 "200.0"),
				 "job")),
			 200);
	for (int j = 100; j <= 300; j += 100) {
		char key[16];

		snprintf(key, sizeof(key), "%d", j);
		sum += num(root, "jobs", key, "energy_j");
	}
	sum += num(root, "node", "idle_j", NULL) +
	       num(root, "node", "system_j", NULL);
	assert_rel(sum, num(root, "node", "energy_j", NULL), 1e-9,
		   "jobs + system + idle");
	json_decref(root);
	run_free(&r);
	pm_free(&m);
	unlink(path);
}

static void test_json_says_when_idle_was_estimated(void **state)
{
	pm_model_t m;
	char path[] = "/tmp/test_replay_XXXXXX", args[128];
	struct run r;
	json_t *root;

	write_model(&m, path, false);
	snprintf(args, sizeof(args), "--json %s", path);
	replay(&r, args, NULL);
	assert_int_equal(r.status, 0);
	root = json_loads(r.out, 0, NULL);
	assert_non_null(root);
	assert_true(json_is_true(json_object_get(json_object_get(root, "node"),
						 "idle_w_estimated")));
	json_decref(root);
	run_free(&r);
	pm_free(&m);
	unlink(path);
}

static void test_table_lists_node_jobs_and_steps(void **state)
{
	pm_model_t m;
	char path[] = "/tmp/test_replay_XXXXXX";
	struct run r;

	write_model(&m, path, true);
	replay(&r, path, NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "node pm-node: 600.0 s"));
	assert_non_null(strstr(r.out, "100.batch"));
	assert_non_null(strstr(r.out, "300.batch"));
	assert_non_null(strstr(r.out, "from the trace header"));
	assert_string_equal(r.err, "");
	run_free(&r);
	pm_free(&m);
	unlink(path);
}

static void test_dash_reads_standard_input(void **state)
{
	pm_model_t m;
	char path[] = "/tmp/test_replay_XXXXXX";
	struct run r;

	write_model(&m, path, true);
	replay(&r, "- --json", path);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "\"100.batch\""));
	run_free(&r);
	pm_free(&m);
	unlink(path);
}

/* Malformed input: exit 1, one line on stderr naming the line and the
 * fault, nothing on stdout. */
static void expect_failure(const char *text, const char *line,
			   const char *fault)
{
	char path[] = "/tmp/test_replay_XXXXXX", args[128];
	struct run r;
	char *nl;

	write_text(path, text);
	for (int json = 0; json < 2; json++) {
		snprintf(args, sizeof(args), "%s%s", path,
			 json ? " --json" : "");
		replay(&r, args, NULL);
		assert_int_equal(r.status, 1);
		assert_string_equal(r.out, "");
		nl = strchr(r.err, '\n');
		assert_non_null(nl);
		assert_string_equal(nl + 1, "");
		if (!strstr(r.err, line) || !strstr(r.err, fault))
			fail_msg("stderr \"%s\" lacks \"%s\" or \"%s\"", r.err,
				 line, fault);
		run_free(&r);
	}
	unlink(path);
}

#define HEADER                                                            \
	"{\"footprint_trace\": 1, \"node\": \"n\", \"cpus\": 2,"          \
	" \"packages\": [{\"id\": 0, \"cpus\": [0,1]}],"                  \
	" \"domains\": [{\"name\": \"package-0\", \"kind\": \"package\"," \
	" \"package\": 0, \"max_energy_range_uj\": 262143999938}]}\n"
#define SAMPLE(t)                                                    \
	"{\"t\": " #t ", \"energy_uj\": {\"package-0\": " #t "000}," \
	" \"cpu_busy_ns\": [1, 2]}\n"

static void test_bad_json_fails_naming_the_line(void **state)
{
	expect_failure(HEADER SAMPLE(1) SAMPLE(2) "{\"t\": 3,\n" SAMPLE(4),
		       "line 4", "bad JSON");
}

static void test_missing_header_fails_naming_the_line(void **state)
{
	expect_failure(SAMPLE(1) SAMPLE(2), "line 1", "missing header");
}

static void test_non_increasing_t_fails_naming_the_line(void **state)
{
	expect_failure(HEADER SAMPLE(1) SAMPLE(2) SAMPLE(2), "line 4",
		       "not after");
}

static void test_wrong_array_length_fails_naming_the_line(void **state)
{
	expect_failure(
		HEADER SAMPLE(
			1) "{\"t\": 2, \"cpu_busy_ns\": [1, 2], \"steps\": ["
			   "{\"id\": \"1.0\", \"job\": 1, \"alloc\": [0],"
			   " \"cpu_ns\": [5]}]}\n",
		"line 3", "cpu_ns has 1 values, expected 2");
}

static void test_missing_file_fails_with_one_line(void **state)
{
	struct run r;

	replay(&r, "/nonexistent/trace.jsonl", NULL);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, "/nonexistent/trace.jsonl"));
	run_free(&r);
}

static void test_a_cut_last_line_replays_up_to_it_with_a_warning(void **state)
{
	char path[] = "/tmp/test_replay_XXXXXX", want[160];
	struct run r;

	write_text(path, HEADER SAMPLE(1) SAMPLE(2) "{\"t\": 3, \"energy");
	replay(&r, path, NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "node n: 1.0 s"));
	snprintf(want, sizeof(want),
		 "sfootprint replay: warning: %s: line 4: "
		 "cut short",
		 path);
	if (strncmp(r.err, want, strlen(want)) ||
	    !strstr(r.err, "replayed up to line 3"))
		fail_msg("stderr \"%s\"", r.err);
	run_free(&r);
	unlink(path);
}

static void test_dev_zero_fails_at_once_naming_line_1(void **state)
{
	struct run r;

	replay(&r, "/dev/zero", NULL);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "sfootprint replay: /dev/zero: line 1: "
				   "missing header (a NUL byte at column 1: "
				   "not a trace)\n");
	run_free(&r);
}

static void test_implausible_values_fail_naming_the_line(void **state)
{
	expect_failure(HEADER SAMPLE(1) SAMPLE(1e300), "line 3",
		       "not a Unix time");
	expect_failure(
		HEADER SAMPLE(
			1) "{\"t\": 2, \"wall_j\": 1.7976931348623157e308,"
			   " \"cpu_busy_ns\": [1, 2]}\n",
		"line 3", "not a meter's energy");
	expect_failure(
		HEADER SAMPLE(1) "{\"t\": 2, \"energy_uj\": {\"package-0\": "
				 "262143999939}, \"cpu_busy_ns\": [1, 2]}\n",
		"line 3", "above its max_energy_range_uj 262143999938");
}

/* The model's trace split after its line `at` into two files, each with
 * the header. */
static void split_trace(const char *path, int at, char *a, char *b)
{
	char *text = slurp(path), *p = text, *header_end, *cut;
	FILE *fa, *fb;

	header_end = strchr(text, '\n') + 1;
	for (int i = 0; i < at; i++)
		p = strchr(p, '\n') + 1;
	cut = p;
	fa = fdopen(mkstemp(a), "w");
	fb = fdopen(mkstemp(b), "w");
	fwrite(text, 1, (size_t)(cut - text), fa);
	fwrite(text, 1, (size_t)(header_end - text), fb);
	fputs(cut, fb);
	fclose(fa);
	fclose(fb);
	free(text);
}

static void test_rotated_files_replay_as_one_trace(void **state)
{
	pm_model_t m;
	char path[] = "/tmp/test_replay_XXXXXX";
	char a[] = "/tmp/test_replay_aXXXXXX", b[] = "/tmp/test_replay_bXXXXXX";
	char args[256];
	struct run whole, parts, reversed;

	write_model(&m, path, true);
	split_trace(path, 250, a, b);
	snprintf(args, sizeof(args), "%s --json", path);
	replay(&whole, args, NULL);
	snprintf(args, sizeof(args), "%s %s --json", a, b);
	replay(&parts, args, NULL);
	assert_int_equal(parts.status, 0);
	assert_string_equal(parts.err, "");
	assert_string_equal(parts.out, whole.out);
	snprintf(args, sizeof(args), "%s %s", b, a);
	replay(&reversed, args, NULL);
	assert_int_equal(reversed.status, 1);
	assert_string_equal(reversed.out, "");
	if (!strstr(reversed.err, a) || !strstr(reversed.err, ": line 2: ") ||
	    !strstr(reversed.err, "files out of order?"))
		fail_msg("stderr \"%s\"", reversed.err);
	run_free(&whole);
	run_free(&parts);
	run_free(&reversed);
	pm_free(&m);
	unlink(path);
	unlink(a);
	unlink(b);
}

static void test_usage_errors_exit_2(void **state)
{
	const char *bad[] = { "", "--bogus x", "a --bogus", "--json" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct run r;

		replay(&r, bad[i], NULL);
		assert_int_equal(r.status, 2);
		assert_string_equal(r.out, "");
		assert_non_null(strstr(r.err, "usage"));
		run_free(&r);
	}
}

/* --- GPUs (trace v1, "Extension: accelerators") --- */

/* Two GPUs: 0 held by 1.0 (30 J), 1 by nobody (20 J); package 50 J all to
 * 1.0; wall 200 J: residual 100 J, twice what each received. */
#define GPU_TRACE                                                            \
	"{\"footprint_trace\":1,\"node\":\"g1\",\"cpus\":1,\"packages\":"    \
	"[{\"id\":0,\"cpus\":[0]}],\"domains\":[{\"name\":\"package-0\","    \
	"\"kind\":\"package\",\"package\":0,\"max_energy_range_uj\":"        \
	"1000000000000}],\"idle_w\":{\"package-0\":0},\"gpus\":["            \
	"{\"index\":0,\"uuid\":\"GPU-a\",\"vendor\":\"nvidia\"},"            \
	"{\"index\":1,\"uuid\":\"0000:3b:00.0\",\"vendor\":\"amd\"}]}\n"     \
	"{\"t\":10,\"energy_uj\":{\"package-0\":0},\"gpu_energy_uj\":[0,0]," \
	"\"wall_j\":1000,\"cpu_busy_ns\":[0],\"steps\":[]}\n"                \
	"{\"t\":11,\"energy_uj\":{\"package-0\":50000000},"                  \
	"\"gpu_energy_uj\":[30000000,20000000],\"wall_j\":1200,"             \
	"\"cpu_busy_ns\":[1000000000],\"steps\":[{\"id\":\"1.0\",\"job\":1," \
	"\"alloc\":[0],\"cpu_ns\":[1000000000],\"gpus\":[0]}]}\n"

static void test_gpu_trace_replays_the_gpu_figures(void **state)
{
	char path[] = "/tmp/test_replay_XXXXXX";
	struct run r;
	json_t *root;
	json_error_t jerr;
	double e, parts;
	char args[64];

	write_text(path, GPU_TRACE);
	snprintf(args, sizeof(args), "--json %s", path);
	replay(&r, args, NULL);
	if (r.status)
		fail_msg("replay failed: %s", r.err);
	root = json_loads(r.out, 0, &jerr);
	assert_non_null(root);
	assert_rel(num(root, "node", "energy_j", NULL), 200, 1e-12, "node");
	assert_rel(num(root, "node", "rapl_j", NULL), 50, 1e-12, "rapl");
	assert_rel(num(root, "node", "gpu_j", NULL), 50, 1e-12, "gpu_j");
	assert_rel(num(root, "node", "residual_j", NULL), 100, 1e-12,
		   "node - (rapl + gpu)");
	assert_rel(num(root, "node", "gpu_idle_j", NULL), 40, 1e-12,
		   "gpu_idle with its residual share");
	assert_rel(num(root, "steps", "1.0", "gpu_j"), 30, 1e-12, "step gpu");
	e = num(root, "steps", "1.0", "energy_j");
	parts = num(root, "steps", "1.0", "dynamic_j") +
		num(root, "steps", "1.0", "static_j") +
		num(root, "steps", "1.0", "gpu_j") +
		num(root, "steps", "1.0", "residual_j");
	assert_rel(e, parts, 1e-12, "energy = dyn + static + gpu + residual");
	assert_rel(e, 160, 1e-12, "step energy");
	assert_rel(num(root, "jobs", "1", "gpu_j"), 30, 1e-12, "job gpu");
	json_decref(root);
	run_free(&r);
	replay(&r, path, NULL);
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "gpu 50.0 J (2 GPUs), held by no step "
				      "40.0 J"));
	assert_non_null(strstr(r.out, "GPU_J"));
	run_free(&r);
	unlink(path);
}

static void test_trace_without_gpus_replays_without_gpu_keys(void **state)
{
	pm_model_t m;
	char path[] = "/tmp/test_replay_XXXXXX";
	struct run r;
	char args[64];

	write_model(&m, path, true);
	snprintf(args, sizeof(args), "--json %s", path);
	replay(&r, args, NULL);
	assert_int_equal(r.status, 0);
	assert_null(strstr(r.out, "gpu"));
	run_free(&r);
	replay(&r, path, NULL);
	assert_null(strstr(r.out, "gpu"));
	assert_null(strstr(r.out, "GPU"));
	run_free(&r);
	pm_free(&m);
	unlink(path);
}

static void test_step_holding_an_unknown_gpu_fails_naming_the_line(void **state)
{
	char path[] = "/tmp/test_replay_XXXXXX";
	struct run r;
	char text[4096];

	snprintf(text, sizeof(text), "%s", GPU_TRACE);
	strcpy(strstr(text, "\"gpus\":[0]"), "\"gpus\":[5]}]}\n");
	write_text(path, text);
	replay(&r, path, NULL);
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, "line 3"));
	assert_non_null(strstr(r.err, "gpu 5 out of range"));
	run_free(&r);
	unlink(path);
}

static void test_zstd_trace_replays_to_the_plain_traces_output(void **state)
{
	pm_model_t m, m2;
	char plain[] = "/tmp/test_replay_XXXXXX",
	     zst[] = "/tmp/test_replay_XXXXXX";
	char args[256];
	struct run a, b;

	write_model_as(&m, plain, true, FP_TRACE_PLAIN);
	write_model_as(&m2, zst, true, FP_TRACE_ZSTD);
	snprintf(args, sizeof(args), "%s --json", plain);
	replay(&a, args, NULL);
	snprintf(args, sizeof(args), "%s --json", zst);
	replay(&b, args, NULL);
	assert_int_equal(a.status, 0);
	assert_int_equal(b.status, 0);
	assert_string_equal(b.err, "");
	assert_non_null(strstr(a.out, "\"steps\""));
	assert_string_equal(b.out, a.out);
	run_free(&a);
	run_free(&b);
	/* and from standard input */
	replay(&b, "- --json", zst);
	assert_int_equal(b.status, 0);
	run_free(&b);
	pm_free(&m);
	pm_free(&m2);
	unlink(plain);
	unlink(zst);
}

static void test_plain_out_turns_a_zstd_trace_into_the_plain_lines(void **s_)
{
	pm_model_t m, m2;
	char plain[] = "/tmp/test_replay_XXXXXX",
	     zst[] = "/tmp/test_replay_XXXXXX",
	     conv[] = "/tmp/test_replay_XXXXXX",
	     back[] = "/tmp/test_replay_XXXXXX";
	char args[512], *want, *got;
	struct run r;

	write_model_as(&m, plain, false, FP_TRACE_PLAIN);
	write_model_as(&m2, zst, false, FP_TRACE_ZSTD);
	close(mkstemp(conv));
	close(mkstemp(back));
	snprintf(args, sizeof(args), "%s --plain-out %s", zst, conv);
	replay(&r, args, NULL);
	assert_int_equal(r.status, 0);
	run_free(&r);
	want = slurp(plain);
	got = slurp(conv);
	assert_true(strlen(want) > 1000);
	assert_string_equal(got, want);
	free(got);
	/* and back: the zstd copy of the plain replays to the same lines */
	snprintf(args, sizeof(args), "%s --zstd-out %s", plain, back);
	replay(&r, args, NULL);
	assert_int_equal(r.status, 0);
	run_free(&r);
	snprintf(args, sizeof(args), "%s --plain-out %s", back, conv);
	replay(&r, args, NULL);
	assert_int_equal(r.status, 0);
	run_free(&r);
	got = slurp(conv);
	assert_string_equal(got, want);
	free(got);
	free(want);
	replay(&r, "x --plain-out -", NULL);
	assert_int_equal(r.status, 2);
	run_free(&r);
	pm_free(&m);
	pm_free(&m2);
	unlink(plain);
	unlink(zst);
	unlink(conv);
	unlink(back);
}

/* The same samples written whole and compact (plain and zstd) replay to the
 * same output, byte for byte: the figures are bit-identical. */
static void test_compact_trace_replays_to_the_plain_traces_output(void **s_)
{
	pm_model_t m, m2, m3;
	char plain[] = "/tmp/test_replay_XXXXXX",
	     compact[] = "/tmp/test_replay_XXXXXX",
	     zst[] = "/tmp/test_replay_XXXXXX";
	char args[256], *text;
	struct run a, b, c;

	model_cpp = 16;
	write_model_as(&m, plain, true, FP_TRACE_PLAIN);
	write_model_compact(&m2, compact, true, FP_TRACE_PLAIN, 60);
	write_model_compact(&m3, zst, true, FP_TRACE_ZSTD, 60);
	model_cpp = 4;
	text = slurp(compact);
	assert_non_null(strstr(text, "\"cpu_ns_moved\""));
	free(text);
	snprintf(args, sizeof(args), "%s --json", plain);
	replay(&a, args, NULL);
	snprintf(args, sizeof(args), "%s --json", compact);
	replay(&b, args, NULL);
	snprintf(args, sizeof(args), "%s --json", zst);
	replay(&c, args, NULL);
	assert_int_equal(a.status, 0);
	assert_int_equal(b.status, 0);
	assert_int_equal(c.status, 0);
	assert_string_equal(b.err, "");
	assert_string_equal(c.err, "");
	assert_non_null(strstr(a.out, "\"300.batch\""));
	assert_string_equal(b.out, a.out);
	assert_string_equal(c.out, a.out);
	run_free(&a);
	run_free(&b);
	run_free(&c);
	pm_free(&m);
	pm_free(&m2);
	pm_free(&m3);
	unlink(plain);
	unlink(compact);
	unlink(zst);
}

/* --plain-out is the converter: a compact trace (plain or zstd) gives the
 * lines the writer writes whole; --compact makes a compact copy, which
 * converts back to the same lines. */
static void test_plain_out_turns_a_compact_trace_into_the_plain_lines(void **s_)
{
	pm_model_t m, m2;
	char plain[] = "/tmp/test_replay_XXXXXX",
	     compact[] = "/tmp/test_replay_XXXXXX",
	     conv[] = "/tmp/test_replay_XXXXXX",
	     back[] = "/tmp/test_replay_XXXXXX";
	char args[512], *want, *got;
	struct run r;

	model_cpp = 16;
	write_model_as(&m, plain, false, FP_TRACE_PLAIN);
	write_model_compact(&m2, compact, false, FP_TRACE_ZSTD, 10);
	model_cpp = 4;
	close(mkstemp(conv));
	close(mkstemp(back));
	snprintf(args, sizeof(args), "%s --plain-out %s", compact, conv);
	replay(&r, args, NULL);
	assert_int_equal(r.status, 0);
	run_free(&r);
	want = slurp(plain);
	got = slurp(conv);
	assert_string_equal(got, want);
	free(got);
	snprintf(args, sizeof(args), "%s --plain-out %s --compact", plain,
		 back);
	replay(&r, args, NULL);
	assert_int_equal(r.status, 0);
	run_free(&r);
	got = slurp(back);
	assert_non_null(strstr(got, "\"compact\":300,"));
	assert_non_null(strstr(got, "\"cpu_ns_moved\""));
	assert_true(strlen(got) < strlen(want));
	free(got);
	snprintf(args, sizeof(args), "%s --plain-out %s", back, conv);
	replay(&r, args, NULL);
	assert_int_equal(r.status, 0);
	run_free(&r);
	got = slurp(conv);
	assert_string_equal(got, want);
	free(got);
	free(want);
	snprintf(args, sizeof(args), "%s --compact", plain);
	replay(&r, args, NULL);
	assert_int_equal(r.status, 2);
	assert_non_null(strstr(r.err, "--compact"));
	run_free(&r);
	pm_free(&m);
	pm_free(&m2);
	unlink(plain);
	unlink(compact);
	unlink(conv);
	unlink(back);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_output_matches_the_physical_truth),
		cmocka_unit_test(test_json_says_when_idle_was_estimated),
		cmocka_unit_test(test_table_lists_node_jobs_and_steps),
		cmocka_unit_test(test_dash_reads_standard_input),
		cmocka_unit_test(test_bad_json_fails_naming_the_line),
		cmocka_unit_test(test_missing_header_fails_naming_the_line),
		cmocka_unit_test(test_non_increasing_t_fails_naming_the_line),
		cmocka_unit_test(test_wrong_array_length_fails_naming_the_line),
		cmocka_unit_test(test_missing_file_fails_with_one_line),
		cmocka_unit_test(
			test_a_cut_last_line_replays_up_to_it_with_a_warning),
		cmocka_unit_test(test_dev_zero_fails_at_once_naming_line_1),
		cmocka_unit_test(test_implausible_values_fail_naming_the_line),
		cmocka_unit_test(test_rotated_files_replay_as_one_trace),
		cmocka_unit_test(test_usage_errors_exit_2),
		cmocka_unit_test(test_gpu_trace_replays_the_gpu_figures),
		cmocka_unit_test(
			test_trace_without_gpus_replays_without_gpu_keys),
		cmocka_unit_test(
			test_step_holding_an_unknown_gpu_fails_naming_the_line),
		cmocka_unit_test(
			test_zstd_trace_replays_to_the_plain_traces_output),
		cmocka_unit_test(
			test_plain_out_turns_a_zstd_trace_into_the_plain_lines),
		cmocka_unit_test(
			test_compact_trace_replays_to_the_plain_traces_output),
		cmocka_unit_test(
			test_plain_out_turns_a_compact_trace_into_the_plain_lines),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
