/* Specification of trace v1 reading and writing: what is accepted, what each
 * malformed input is called (with its line), and exact round trips. */
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "physmodel.h"
#include "footprint/trace.h"

#define HEADER                                                             \
	"{\"footprint_trace\": 1, \"node\": \"qh042\", \"cpus\": 8,"       \
	" \"packages\": [{\"id\": 0, \"cpus\": [0,1,2,3]},"                \
	" {\"id\": 1, \"cpus\": [4,5,6,7]}],"                              \
	" \"domains\": ["                                                  \
	"{\"name\": \"package-0\", \"kind\": \"package\", \"package\": 0," \
	" \"max_energy_range_uj\": 262143999938},"                         \
	"{\"name\": \"dram-0\", \"kind\": \"dram\", \"package\": 0,"       \
	" \"max_energy_range_uj\": 65532610987},"                          \
	"{\"name\": \"package-1\", \"kind\": \"package\", \"package\": 1," \
	" \"max_energy_range_uj\": 262143999938}],"                        \
	" \"idle_w\": {\"package-0\": 18.5, \"dram-0\": 2.0,"              \
	" \"package-1\": 18.5}}\n"

#define BUSY "\"cpu_busy_ns\": [1,2,3,4,5,6,7,8]"
#define ENERGY                                                           \
	"\"energy_uj\": {\"package-0\": 123456789, \"dram-0\": 2345678," \
	" \"package-1\": 98765432}"

static fp_trace_reader_t *open_text(const char *text, FILE **f, fp_error_t *err)
{
	fp_trace_reader_t *r;

	*f = fmemopen((void *)text, strlen(text), "r");
	assert_non_null(*f);
	r = fp_trace_reader_new(*f, "t.jsonl", err);
	if (!r) {
		fclose(*f);
		*f = NULL;
	}
	return r;
}

/* Reads text to the end; asserts it fails with a message naming `line`
 * and containing `fault`. */
static void expect_error(const char *text, size_t line, const char *fault)
{
	fp_error_t err = { 0 };
	FILE *f;
	fp_trace_reader_t *r = open_text(text, &f, &err);
	const fp_sample_t *s;
	char where[32];
	int rc = -1;

	if (r) {
		while ((rc = fp_trace_reader_next(r, &s, &err)) > 0)
			;
		fp_trace_reader_free(r);
		fclose(f);
	}
	assert_int_equal(rc, -1);
	snprintf(where, sizeof(where), "t.jsonl: line %zu: ", line);
	if (strncmp(err.msg, where, strlen(where)) || !strstr(err.msg, fault))
		fail_msg("got \"%s\", want \"%s...%s\"", err.msg, where, fault);
	assert_null(strchr(err.msg, '\n'));
}

/* Between an object's members a missing comma is named as such; between an
 * array's elements the missing close is; an empty object and array are read
 * and a trailing comma is refused. */
static void test_item_separators_name_what_is_missing(void **state)
{
	(void)state;
	expect_error(HEADER "{\"t\": 1, \"energy_uj\": {\"package-0\": 1"
			    " \"dram-0\": 2}, " BUSY "}\n",
		     2, "bad JSON: expected ','");
	expect_error(HEADER "{\"t\": 1, " ENERGY ", " BUSY ", \"steps\": ["
			    "{\"id\": \"7.0\", \"job\": 7, \"alloc\": [0 1],"
			    " \"cpu_ns\": [1,0,0,0,0,0,0,0]}]}\n",
		     2, "bad JSON: expected ']'");
	expect_error(HEADER "{\"t\": 1, " ENERGY ", " BUSY ", \"steps\": ["
			    "{\"id\": \"7.0\", \"job\": 7, \"alloc\": [0,],"
			    " \"cpu_ns\": [1,0,0,0,0,0,0,0]}]}\n",
		     2, "bad JSON:");
	expect_error(HEADER "{\"t\": 1, \"energy_uj\": {\"package-0\": 1,"
			    "}, " BUSY "}\n",
		     2, "bad JSON:");
}

static void test_reads_the_spec_example(void **state)
{
	const char *text = HEADER
		"{\"t\": 1732350000.25, " ENERGY ", \"wall_j\": 15234.75, "
		"\"cpu_busy_ns\": [10,11,12,13,14,15,16,17], \"steps\": ["
		"{\"id\": \"4242.batch\", \"job\": 4242, \"alloc\": [0,1,2,3],"
		" \"cpu_ns\": [1,2,3,4,0,0,0,0]},"
		"{\"id\": \"4243.0\", \"job\": 4243, \"alloc\": [4,5],"
		" \"cpu_ns\": [0,0,0,0,5,6,0,0]}]}\n";
	fp_error_t err;
	FILE *f;
	fp_trace_reader_t *r = open_text(text, &f, &err);
	const fp_node_desc_t *d;
	const fp_sample_t *s;

	assert_non_null(r);
	d = fp_trace_reader_desc(r);
	assert_string_equal(d->node, "qh042");
	assert_int_equal(d->cpus, 8);
	assert_int_equal(d->npackages, 2);
	assert_int_equal(d->packages[1].cpus[3], 7);
	assert_int_equal(d->ndomains, 3);
	assert_int_equal(d->domains[1].kind, FP_DOMAIN_DRAM);
	assert_int_equal(d->domains[2].package, 1);
	assert_true(d->domains[1].max_energy_range_uj == 65532610987ULL);
	assert_true(d->domains[0].idle_w == 18.5);
	assert_false(d->activity_cycles);

	assert_int_equal(fp_trace_reader_next(r, &s, &err), 1);
	assert_true(s->t == 1732350000.25);
	assert_true(s->energy_valid[0] && s->energy_valid[2]);
	assert_int_equal(s->energy_uj[2], 98765432);
	assert_true(s->wall_valid && s->wall_j == 15234.75);
	assert_int_equal(s->cpu_busy_ns[7], 17);
	assert_int_equal(s->nsteps, 2);
	assert_string_equal(s->steps[0].id, "4242.batch");
	assert_int_equal(s->steps[0].job, 4242);
	assert_int_equal(s->steps[0].nalloc, 4);
	assert_int_equal(s->steps[1].alloc[1], 5);
	assert_int_equal(s->steps[1].cpu_ns[5], 6);
	assert_int_equal(fp_trace_reader_next(r, &s, &err), 0);
	assert_int_equal(fp_trace_reader_line(r), 2);
	assert_int_equal(fp_trace_reader_bytes(r), strlen(text));
	fp_trace_reader_free(r);
	fclose(f);
}

static void test_counters_are_exact_64_bit_integers(void **state)
{
	const char *text = HEADER
		"{\"t\": 1, \"energy_uj\": {\"package-0\": 262143999938,"
		" \"dram-0\": 65532610987}, \"cpu_busy_ns\": "
		"[9007199254740993,9223372036854775808,18446744073709551615,"
		"0,0,0,0,0]}\n";
	fp_error_t err;
	FILE *f;
	fp_trace_reader_t *r = open_text(text, &f, &err);
	const fp_sample_t *s;

	assert_int_equal(fp_trace_reader_next(r, &s, &err), 1);
	assert_true(s->energy_uj[0] == 262143999938ULL);
	assert_true(s->energy_uj[1] == 65532610987ULL);
	assert_true(s->cpu_busy_ns[0] == 9007199254740993ULL);
	assert_true(s->cpu_busy_ns[1] == 9223372036854775808ULL);
	assert_true(s->cpu_busy_ns[2] == UINT64_MAX);
	fp_trace_reader_free(r);
	fclose(f);
}

/* Counter arrays are read by a loop of their own while they are digits and
 * commas; from any other character on (spaces, 20 digits) the general
 * scanner reads the rest: the values are the same either way. */
static void
test_counter_arrays_read_the_same_whatever_their_spacing(void **state)
{
	const char *text = HEADER
		"{\"t\": 1, \"cpu_busy_ns\": [10,0,18446744073709551615,"
		"12345678901234567890, 7 ,8,\t9,1000000000000000000]}\n"
		"{\"t\": 2, \"cpu_busy_ns\": [ 10,0,18446744073709551615,"
		"12345678901234567890,7,8,9,1000000000000000000 ]}\n";
	const uint64_t want[8] = { 10, 0, UINT64_MAX, 12345678901234567890ULL,
				   7,  8, 9,	      1000000000000000000ULL };
	fp_error_t err;
	FILE *f;
	fp_trace_reader_t *r = open_text(text, &f, &err);
	const fp_sample_t *s;

	for (int k = 0; k < 2; k++) {
		assert_int_equal(fp_trace_reader_next(r, &s, &err), 1);
		for (int c = 0; c < 8; c++)
			assert_true(s->cpu_busy_ns[c] == want[c]);
	}
	assert_int_equal(fp_trace_reader_next(r, &s, &err), 0);
	fp_trace_reader_free(r);
	fclose(f);
	expect_error(HEADER "{\"t\": 1, \"cpu_busy_ns\": [1,2,03,4,5,6,7,8]}\n",
		     2, "leading zero");
	expect_error(HEADER "{\"t\": 1, \"cpu_busy_ns\": [1,2,3,4,5,6,7,8,]}\n",
		     2, "cpu_busy_ns");
	expect_error(HEADER "{\"t\": 1, \"cpu_busy_ns\": [1,2,3,4,5,6,7,8\n", 2,
		     "cpu_busy_ns");
	expect_error(HEADER "{\"t\": 1, \"cpu_busy_ns\": [1,2,3,4,5,6,7,"
			    "28446744073709551615]}\n",
		     2, "too large");
}

/* Counters of every length from 1 to 20 digits, and every digit in every
 * place, read back as written (the reader takes up to 8 digits at a time). */
static void test_counters_of_every_length_read_back_exactly(void **state)
{
	enum { LINES = 400 };
	uint64_t want[LINES][8], x = 88172645463325252ULL;
	size_t cap = 64 * 1024 * 8, len = 0;
	char *text = malloc(cap);
	fp_error_t err;
	FILE *f;
	fp_trace_reader_t *r;
	const fp_sample_t *s;

	assert_non_null(text);
	len += (size_t)snprintf(text, cap, "%s", HEADER);
	for (int i = 0; i < LINES; i++) {
		len += (size_t)snprintf(text + len, cap - len,
					"{\"t\": %d, \"cpu_busy_ns\": [",
					i + 1);
		for (int c = 0; c < 8; c++) {
			unsigned digits = (unsigned)(i * 8 + c) % 20 + 1;
			uint64_t v;

			x ^= x << 13; /* xorshift64 */
			x ^= x >> 7;
			x ^= x << 17;
			v = x;
			if (digits < 20) {
				uint64_t p = 1;

				for (unsigned d = 0; d < digits; d++)
					p *= 10;
				v %= p;
			}
			want[i][c] = v;
			len += (size_t)snprintf(text + len, cap - len,
						"%s%" PRIu64, c ? "," : "", v);
		}
		len += (size_t)snprintf(text + len, cap - len, "]}\n");
	}
	assert_true(len < cap);
	r = open_text(text, &f, &err);
	for (int i = 0; i < LINES; i++) {
		if (fp_trace_reader_next(r, &s, &err) != 1)
			fail_msg("line %d: %s", i + 2, err.msg);
		for (int c = 0; c < 8; c++)
			if (s->cpu_busy_ns[c] != want[i][c])
				fail_msg("line %d, cpu %d: %" PRIu64
					 ", not %" PRIu64,
					 i + 2, c, s->cpu_busy_ns[c],
					 want[i][c]);
	}
	assert_int_equal(fp_trace_reader_next(r, &s, &err), 0);
	fp_trace_reader_free(r);
	fclose(f);
	free(text);
}

static void test_null_or_missing_reads_are_failed_reads(void **state)
{
	const char *text = HEADER
		"{\"t\": 1, \"energy_uj\": {\"package-0\": null,"
		" \"dram-0\": 5},"
		" \"wall_j\": null, " BUSY "}\n"
		"{\"t\": 2, " BUSY "}\n";
	fp_error_t err;
	FILE *f;
	fp_trace_reader_t *r = open_text(text, &f, &err);
	const fp_sample_t *s;

	assert_int_equal(fp_trace_reader_next(r, &s, &err), 1);
	assert_false(s->energy_valid[0]);
	assert_true(s->energy_valid[1]);
	assert_false(s->energy_valid[2]); /* not listed */
	assert_false(s->wall_valid);
	assert_int_equal(s->nsteps, 0);
	assert_int_equal(fp_trace_reader_next(r, &s, &err), 1);
	assert_false(s->energy_valid[1]);
	assert_false(s->wall_valid); /* absent */
	fp_trace_reader_free(r);
	fclose(f);
}

static void test_optional_header_fields(void **state)
{
	const char *text =
		"{\"footprint_trace\": 1, \"cpus\": 2,"
		" \"activity\": \"cycles\","
		" \"packages\": [{\"id\": 3, \"cpus\": [0,1]}], \"domains\": ["
		"{\"name\": \"package-3\", \"kind\": \"package\","
		" \"package\": 3,"
		" \"max_energy_range_uj\": 1000},"
		"{\"name\": \"psys\", \"kind\": \"psys\","
		" \"max_energy_range_uj\": 1000}],"
		" \"idle_w\": {\"psys\": 7}}\n";
	fp_error_t err;
	FILE *f;
	fp_trace_reader_t *r = open_text(text, &f, &err);
	const fp_node_desc_t *d;

	assert_non_null(r);
	d = fp_trace_reader_desc(r);
	assert_string_equal(d->node, "");
	assert_true(d->activity_cycles);
	assert_true(d->domains[0].idle_w < 0); /* unknown: estimate */
	assert_int_equal(d->domains[1].kind, FP_DOMAIN_PSYS);
	assert_int_equal(d->domains[1].package, -1);
	assert_true(d->domains[1].idle_w == 7);
	fp_trace_reader_free(r);
	fclose(f);
}

static void test_unknown_fields_are_ignored(void **state)
{
	const char *text =
		"{\"footprint_trace\": 1, \"future\": {\"x\": [1, 2.5e3]},"
		" \"cpus\": 1, \"packages\": [{\"id\": 0, \"cpus\": [0],"
		" \"numa\": 0}], \"domains\": [{\"name\": \"package-0\","
		" \"kind\": \"package\", \"package\": 0,"
		" \"max_energy_range_uj\": 1000, \"unit\": \"uJ\"}]}\n"
		"{\"gpu\": {\"a\": [true, false, null, \"\\u00e9\\\"\"]},"
		" \"t\": 1, \"cpu_busy_ns\": [1], \"steps\": [{\"id\": \"1.0\","
		" \"state\": \"R\", \"job\": 1, \"alloc\": [0],"
		" \"cpu_ns\": [1], \"mem\": {\"rss\": -1.5e-3}}], \"z\": []}\n";
	fp_error_t err;
	FILE *f;
	fp_trace_reader_t *r = open_text(text, &f, &err);
	const fp_sample_t *s;

	assert_non_null(r);
	if (fp_trace_reader_next(r, &s, &err) != 1)
		fail_msg("%s", err.msg);
	assert_int_equal(s->nsteps, 1);
	assert_int_equal(s->steps[0].job, 1);
	fp_trace_reader_free(r);
	fclose(f);
}

/* Each of JSON's one-letter escapes in a sample reads as what it stands
 * for; any other letter after a backslash is a fault at its column. */
static void test_string_escapes_read_as_json_says(void **state)
{
	const char *good = HEADER
		"{\"t\": 1, " BUSY ", \"steps\": [{\"id\": \"a\\\"b\\\\c\\/"
		"d\\be\\ff\\ng\\rh\\ti\", \"state\": \"R\", \"job\": 1, "
		"\"alloc\": [0], \"cpu_ns\": [1,0,0,0,0,0,0,0]}]}\n";
	const char *bad = HEADER "{\"t\": 1, \"x\": \"a\\qb\", " BUSY "}\n";
	fp_error_t err = { 0 };
	FILE *f;
	fp_trace_reader_t *r = open_text(good, &f, &err);
	const fp_sample_t *s;

	(void)state;
	assert_non_null(r);
	if (fp_trace_reader_next(r, &s, &err) != 1)
		fail_msg("%s", err.msg);
	assert_int_equal(s->nsteps, 1);
	assert_string_equal(s->steps[0].id, "a\"b\\c/d\be\ff\ng\rh\ti");
	fp_trace_reader_free(r);
	fclose(f);
	r = open_text(bad, &f, &err);
	assert_non_null(r);
	assert_int_equal(fp_trace_reader_next(r, &s, &err), -1);
	if (!strstr(err.msg, "line 2: bad JSON: bad escape at column 17"))
		fail_msg("%s", err.msg);
	fp_trace_reader_free(r);
	fclose(f);
}

static void test_blank_lines_and_crlf_are_accepted(void **state)
{
	const char *text = HEADER "\n{\"t\": 1, " BUSY "}\r\n\r\n"
				  "{\"t\": 2, " BUSY "}";
	fp_error_t err;
	FILE *f;
	fp_trace_reader_t *r = open_text(text, &f, &err);
	const fp_sample_t *s;

	assert_int_equal(fp_trace_reader_next(r, &s, &err), 1);
	assert_int_equal(fp_trace_reader_line(r), 3);
	assert_int_equal(fp_trace_reader_next(r, &s, &err), 1);
	assert_int_equal(fp_trace_reader_line(r), 5);
	assert_int_equal(fp_trace_reader_next(r, &s, &err), 0);
	fp_trace_reader_free(r);
	fclose(f);
}

static void test_bad_json_names_its_line(void **state)
{
	expect_error(HEADER "{\"t\": 1, " BUSY "}\n{\"t\": 2, " BUSY "\n", 3,
		     "bad JSON");
	expect_error(HEADER "{\"t\": 1, " BUSY ",}\n", 2, "bad JSON");
	expect_error(HEADER "{\"t\": 1, " BUSY "} x\n", 2, "bad JSON");
	expect_error(HEADER "{\"t\": 01, " BUSY "}\n", 2, "bad JSON");
	expect_error("{\"footprint_trace\": 1,\n", 1, "bad JSON");
}

static void test_missing_header_is_named(void **state)
{
	expect_error("{\"t\": 1, " BUSY "}\n", 1, "missing header");
	expect_error("", 1, "missing header");
	expect_error("\n" HEADER, 1, "missing header");
}

static void test_non_increasing_t_names_its_line(void **state)
{
	expect_error(HEADER "{\"t\": 5, " BUSY "}\n{\"t\": 6, " BUSY "}\n"
			    "{\"t\": 6, " BUSY "}\n",
		     4, "not after");
	expect_error(HEADER "{\"t\": 5, " BUSY "}\n{\"t\": 4, " BUSY "}\n", 3,
		     "not after");
}

static void test_wrong_array_lengths_name_their_line(void **state)
{
	expect_error(HEADER "{\"t\": 1, \"cpu_busy_ns\": [1,2,3,4,5,6,7]}\n", 2,
		     "cpu_busy_ns has 7 values, expected 8");
	expect_error(HEADER "{\"t\": 1, " BUSY ", \"steps\": [{\"id\": \"1.0\","
			    " \"job\": 1, \"alloc\": [0],"
			    " \"cpu_ns\": [1,2]}]}\n",
		     2, "steps[0].cpu_ns has 2 values, expected 8");
}

static void test_unknown_domain_is_named(void **state)
{
	expect_error(HEADER "{\"t\": 1, \"energy_uj\": {\"gpu-0\": 5}, " BUSY
			    "}\n",
		     2, "unknown domain \"gpu-0\"");
	expect_error("{\"footprint_trace\": 1, \"cpus\": 1, \"packages\": [],"
		     " \"domains\": [], \"idle_w\": {\"package-0\": 1}}\n",
		     1, "unknown domain");
}

static void test_bad_values_are_named(void **state)
{
	expect_error(HEADER "{\"t\": 1, \"cpu_busy_ns\": [1,2,3,-4,5,6,7,8]}\n",
		     2, "negative");
	expect_error(HEADER "{\"t\": 1,"
			    " \"cpu_busy_ns\": [1,2,3,4.5,5,6,7,8]}\n",
		     2, "not an integer");
	expect_error(HEADER "{\"t\": 1, \"cpu_busy_ns\": "
			    "[18446744073709551616,2,3,4,5,6,7,8]}\n",
		     2, "too large");
	expect_error(HEADER "{" BUSY "}\n", 2, "missing t");
	expect_error(HEADER "{\"t\": 1}\n", 2, "missing cpu_busy_ns");
	expect_error(HEADER "{\"t\": 1, " BUSY ", \"steps\": [{\"id\": \"1.0\","
			    " \"job\": 1, \"alloc\": [8], \"cpu_ns\": "
			    "[1,2,3,4,5,6,7,8]}]}\n",
		     2, "out of range");
	expect_error(HEADER "{\"t\": 1, " BUSY ", \"steps\": [{\"id\": \"1.0\","
			    " \"alloc\": [0],"
			    " \"cpu_ns\": [1,2,3,4,5,6,7,8]}]}\n",
		     2, "missing job");
	expect_error(HEADER "{\"t\": 1, " BUSY ", \"steps\": ["
			    "{\"id\": \"1.0\", \"job\": 1, \"cpu_ns\": "
			    "[1,2,3,4,5,6,7,8]}, {\"id\": \"1.0\", \"job\": 1,"
			    " \"cpu_ns\": [1,2,3,4,5,6,7,8]}]}\n",
		     2, "twice");
}

static void test_bad_headers_are_named(void **state)
{
	expect_error("{\"footprint_trace\": 2, \"cpus\": 1}\n", 1, "version");
	expect_error("{\"footprint_trace\": 1, \"cpus\": 1, \"packages\": [],"
		     " \"domains\": [{\"name\": \"package-0\", \"kind\": "
		     "\"package\", \"package\": 0,"
		     " \"max_energy_range_uj\": 1}]}"
		     "\n",
		     1, "package missing or unknown");
	expect_error("{\"footprint_trace\": 1, \"cpus\": 1, \"packages\": [],"
		     " \"domains\": [{\"name\": \"gpu\", \"kind\": \"gpu\","
		     " \"max_energy_range_uj\": 1}]}\n",
		     1, "unknown kind");
	expect_error("{\"footprint_trace\": 1, \"cpus\": 2, \"packages\": "
		     "[{\"id\": 0, \"cpus\": [0, 2]}], \"domains\": []}\n",
		     1, "out of range");
}

static void test_missing_file_is_an_io_error_naming_it(void **state)
{
	fp_error_t err;

	assert_null(fp_trace_reader_open("/nonexistent/t.jsonl", &err));
	assert_int_equal(err.code, FP_EIO);
	assert_non_null(strstr(err.msg, "/nonexistent/t.jsonl"));
}

/* The error of a field wraps the fault found inside it: the message must
 * come out whole, once (it was formatted into its own argument). */
static void test_a_wrapped_fault_reads_whole(void **state)
{
	const char *text = HEADER "{\"t\": 1.e5, " BUSY "}\n";
	const char *steps = HEADER "{\"t\": 1, " BUSY ", \"steps\": ["
				   "{\"id\": \"1.0\", \"job\": -1, \"cpu_ns\": "
				   "[1,2,3,4,5,6,7,8]}]}\n";
	fp_error_t err;
	FILE *f;
	fp_trace_reader_t *r = open_text(text, &f, &err);
	const fp_sample_t *s;

	assert_int_equal(fp_trace_reader_next(r, &s, &err), -1);
	assert_string_equal(err.msg, "t.jsonl: line 2: t: bad JSON: malformed "
				     "number at column 7");
	fp_trace_reader_free(r);
	fclose(f);
	r = open_text(steps, &f, &err);
	assert_int_equal(fp_trace_reader_next(r, &s, &err), -1);
	assert_string_equal(err.msg,
			    "t.jsonl: line 2: steps[0].job: negative value");
	fp_trace_reader_free(r);
	fclose(f);
}

/* A stream of a header then 'x' for ever. */
static ssize_t endless_read(void *cookie, char *buf, size_t size)
{
	size_t *pos = cookie, k = 0, hlen = strlen(HEADER);

	for (; k < size && *pos < hlen; k++)
		buf[k] = HEADER[(*pos)++];
	memset(buf + k, 'x', size - k);
	*pos += size - k;
	return (ssize_t)size;
}

static void test_an_endless_line_is_refused_at_the_line_cap(void **state)
{
	cookie_io_functions_t io = { .read = endless_read };
	size_t pos = 0;
	FILE *f = fopencookie(&pos, "r", io);
	fp_error_t err;
	fp_trace_reader_t *r;
	const fp_sample_t *s;

	assert_non_null(f);
	r = fp_trace_reader_new(f, "endless", &err);
	assert_non_null(r);
	assert_int_equal(fp_trace_reader_next(r, &s, &err), -1);
	assert_string_equal(err.msg, "endless: line 2: longer than 64 MiB "
				     "without a newline: not a trace line");
	/* it stopped at the cap, not at the end of memory */
	assert_true(pos < strlen(HEADER) + FP_TRACE_LINE_MAX + (1 << 20));
	fp_trace_reader_free(r);
	fclose(f);
}

static void test_dev_zero_is_refused_at_its_first_byte(void **state)
{
	fp_error_t err;

	assert_null(fp_trace_reader_open("/dev/zero", &err));
	assert_string_equal(err.msg, "/dev/zero: line 1: missing header (a "
				     "NUL byte at column 1: not a trace)");
}

/* Reads len bytes of text to the end; returns the samples read, the
 * warning in *warning (or ""). */
static int read_all(const char *text, size_t len, char *warning, size_t wlen)
{
	fp_error_t err;
	FILE *f = fmemopen((void *)text, len, "r");
	fp_trace_reader_t *r = fp_trace_reader_new(f, "t.jsonl", &err);
	const fp_sample_t *s;
	int n = 0, rc;

	assert_non_null(r);
	while ((rc = fp_trace_reader_next(r, &s, &err)) > 0)
		n++;
	if (rc < 0)
		fail_msg("%s", err.msg);
	snprintf(warning, wlen, "%s",
		 fp_trace_reader_warning(r) ? fp_trace_reader_warning(r) : "");
	fp_trace_reader_free(r);
	fclose(f);
	return n;
}

static void test_a_cut_last_line_ends_the_trace_with_a_warning(void **state)
{
	const char *text = HEADER "{\"t\": 1, " BUSY "}\n{\"t\": 2, " BUSY
				  "}\n{\"t\": 3, \"energy_uj\": {\"pack";
	const char *whole = HEADER "{\"t\": 1, " BUSY "}\n{\"t\": 2, " BUSY "}";
	char w[512];

	assert_int_equal(read_all(text, strlen(text), w, sizeof(w)), 2);
	if (strncmp(w, "t.jsonl: line 4: cut short", 26) ||
	    !strstr(w, "replayed up to line 3"))
		fail_msg("warning \"%s\"", w);
	/* a last line without its newline that parses is a sample */
	assert_int_equal(read_all(whole, strlen(whole), w, sizeof(w)), 2);
	assert_string_equal(w, "");
}

static void test_nul_padding_ends_the_trace_with_a_warning(void **state)
{
	char text[4096], w[512];
	size_t n;

	n = (size_t)snprintf(text, sizeof(text), "%s{\"t\": 1, %s}\n", HEADER,
			     BUSY);
	memset(text + n, 0, 100);
	assert_int_equal(read_all(text, n + 100, w, sizeof(w)), 1);
	assert_string_equal(w, "t.jsonl: line 3: ends in NUL bytes from "
			       "column 1 (a crash before the file was "
			       "written out): ignored, replayed up to line 2");
	/* a cut line, then the padding */
	memcpy(text + n, "{\"t\": 2, ", 9);
	assert_int_equal(read_all(text, n + 100, w, sizeof(w)), 1);
	assert_non_null(strstr(w, "line 3: ends in NUL bytes from column 10"));
}

static void test_a_nul_byte_before_the_last_line_is_an_error(void **state)
{
	char text[4096];
	size_t n;
	fp_error_t err;
	FILE *f;
	fp_trace_reader_t *r;
	const fp_sample_t *s;

	n = (size_t)snprintf(text, sizeof(text),
			     "%s{\"t\": 1, %s}\n"
			     "{\"t\": 2, %s}\n",
			     HEADER, BUSY, BUSY);
	text[strlen(HEADER) + 3] = '\0';
	f = fmemopen(text, n, "r");
	r = fp_trace_reader_new(f, "t.jsonl", &err);
	assert_int_equal(fp_trace_reader_next(r, &s, &err), -1);
	assert_string_equal(err.msg, "t.jsonl: line 2: a NUL byte at column 4");
	fp_trace_reader_free(r);
	fclose(f);
}

static void test_implausible_values_are_refused_naming_the_line(void **state)
{
	/* the year 10^292, before 1970 */
	expect_error(HEADER "{\"t\": 1e300, " BUSY "}\n", 2,
		     "t 1e+300 is not a Unix time from 0 to 253402300800");
	expect_error(HEADER "{\"t\": -5, " BUSY "}\n", 2, "not a Unix time");
	expect_error(HEADER "{\"t\": 1, \"wall_j\": 1.7e308, " BUSY "}\n", 2,
		     "wall_j 1.7e+308 J is not a meter's energy");
	expect_error(HEADER "{\"t\": 1, \"wall_j\": -1, " BUSY "}\n", 2,
		     "wall_j -1 J");
	expect_error(HEADER "{\"t\": 1, \"energy_uj\": {\"dram-0\": "
			    "65532610988}, " BUSY "}\n",
		     2,
		     "energy_uj: dram-0 is 65532610988, above its "
		     "max_energy_range_uj 65532610987");
}

static void write_file(char *path, const char *text)
{
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_rotated_files_read_as_one_trace(void **state)
{
	char a[] = "/tmp/test_trace_aXXXXXX", b[] = "/tmp/test_trace_bXXXXXX";
	fp_error_t err;
	fp_trace_reader_t *r;
	const fp_sample_t *s;

	write_file(a, HEADER "{\"t\": 1, " BUSY "}\n{\"t\": 2, " BUSY "}\n"
			     "{\"t\": 3, \"ener");
	write_file(b, HEADER "{\"t\": 4, " BUSY "}\n");
	r = fp_trace_reader_open(a, &err);
	assert_non_null(r);
	assert_int_equal(fp_trace_reader_next(r, &s, &err), 1);
	assert_int_equal(fp_trace_reader_next(r, &s, &err), 1);
	assert_int_equal(fp_trace_reader_next(r, &s, &err), 0);
	assert_non_null(strstr(fp_trace_reader_warning(r), "line 4: cut"));
	assert_int_equal(fp_trace_reader_continue(r, b, &err), 0);
	assert_null(fp_trace_reader_warning(r));
	assert_string_equal(fp_trace_reader_name(r), b);
	assert_int_equal(fp_trace_reader_next(r, &s, &err), 1);
	assert_true(s->t == 4);
	assert_int_equal(fp_trace_reader_line(r), 2);
	assert_int_equal(fp_trace_reader_next(r, &s, &err), 0);
	fp_trace_reader_free(r);
	unlink(a);
	unlink(b);
}

static void test_a_next_file_out_of_order_is_refused_naming_it(void **state)
{
	char a[] = "/tmp/test_trace_aXXXXXX", b[] = "/tmp/test_trace_bXXXXXX";
	char want[160];
	fp_error_t err;
	fp_trace_reader_t *r;
	const fp_sample_t *s;

	write_file(a, HEADER "{\"t\": 5, " BUSY "}\n");
	write_file(b, HEADER "{\"t\": 4, " BUSY "}\n");
	r = fp_trace_reader_open(a, &err);
	assert_int_equal(fp_trace_reader_next(r, &s, &err), 1);
	assert_int_equal(fp_trace_reader_next(r, &s, &err), 0);
	assert_int_equal(fp_trace_reader_continue(r, b, &err), 0);
	assert_int_equal(fp_trace_reader_next(r, &s, &err), -1);
	snprintf(want, sizeof(want),
		 "%s: line 2: t 4.000000 is not after "
		 "t 5.000000, the last of %s (files out of order?)",
		 b, a);
	assert_string_equal(err.msg, want);
	fp_trace_reader_free(r);
	unlink(a);
	unlink(b);
}

static void test_a_next_file_of_another_node_is_refused(void **state)
{
	char a[] = "/tmp/test_trace_aXXXXXX", b[] = "/tmp/test_trace_bXXXXXX";
	char want[160];
	fp_error_t err;
	fp_trace_reader_t *r;
	const fp_sample_t *s;

	write_file(a, HEADER "{\"t\": 5, " BUSY "}\n");
	write_file(b, "{\"footprint_trace\": 1, \"node\": \"qh043\","
		      " \"cpus\": 1, \"packages\": [], \"domains\": []}\n");
	r = fp_trace_reader_open(a, &err);
	assert_int_equal(fp_trace_reader_next(r, &s, &err), 1);
	assert_int_equal(fp_trace_reader_continue(r, b, &err), -1);
	snprintf(want, sizeof(want),
		 "%s: line 1: header differs from %s's "
		 "(node): not the same node's trace",
		 b, a);
	assert_string_equal(err.msg, want);
	/* r stays usable at the end of its file */
	assert_int_equal(fp_trace_reader_next(r, &s, &err), 0);
	fp_trace_reader_free(r);
	unlink(a);
	unlink(b);
}

static void test_written_trace_reads_back_exactly(void **state)
{
	pm_model_t m;
	const fp_node_desc_t *d;
	fp_sample_t *in[20];
	fp_trace_writer_t *w;
	fp_trace_reader_t *r;
	fp_error_t err;
	char path[] = "/tmp/test_trace_XXXXXX";
	int fd = mkstemp(path);
	const fp_sample_t *s;
	FILE *f;
	long size;

	assert_true(fd >= 0);
	close(fd);
	pm_defaults(&m);
	m.psys = true;
	m.idle_in_header = false;
	m.t0 = 1732350000.1;
	m.dt = 0.3;
	m.fail_domain = 1;
	m.fail_from = 3;
	m.fail_to = 4;
	m.wall_null_from = 6;
	m.wall_null_to = 6;
	pm_add_step(&m, "100.batch", 100, 0, 4, 1, 15, 0.3);
	pm_add_step(&m, "odd \"id\"\\\x01 \xc3\xa9", 18446744073709551615ULL, 5,
		    2, 2, 19, 0.5);
	d = pm_init(&m);
	/* a counter beyond 2^53 (a double would round it), within range */
	((fp_node_desc_t *)d)->domains[0].max_energy_range_uj = INT64_MAX;
	w = fp_trace_writer_open(path, d, &err);
	assert_non_null(w);
	for (int i = 0; i < 20; i++) {
		in[i] = fp_sample_new(d);
		pm_sample(&m, in[i]);
		in[i]->energy_uj[0] += 4611686018427387905ULL;
		assert_int_equal(fp_trace_writer_write(w, in[i], &err), 0);
	}
	assert_int_equal(fp_trace_writer_write(w, in[3], &err), -1);
	assert_int_equal(err.code, FP_EINVAL);
	assert_int_equal(fp_trace_writer_close(w, &err), 0);

	f = fopen(path, "r");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fclose(f);
	r = fp_trace_reader_open(path, &err);
	assert_non_null(r);
	assert_int_equal(fp_trace_reader_desc(r)->ndomains, 5);
	assert_string_equal(fp_trace_reader_desc(r)->domains[4].name, "psys");
	for (int i = 0; i < 20; i++) {
		if (fp_trace_reader_next(r, &s, &err) != 1)
			fail_msg("%s", err.msg);
		assert_true(s->t == in[i]->t);
		assert_int_equal(s->wall_valid, in[i]->wall_valid);
		if (s->wall_valid)
			assert_true(s->wall_j == in[i]->wall_j);
		for (size_t k = 0; k < d->ndomains; k++) {
			assert_int_equal(s->energy_valid[k],
					 in[i]->energy_valid[k]);
			if (s->energy_valid[k])
				assert_true(s->energy_uj[k] ==
					    in[i]->energy_uj[k]);
		}
		assert_memory_equal(s->cpu_busy_ns, in[i]->cpu_busy_ns,
				    d->cpus * sizeof(uint64_t));
		assert_int_equal(s->nsteps, in[i]->nsteps);
		for (size_t k = 0; k < s->nsteps; k++) {
			assert_string_equal(s->steps[k].id, in[i]->steps[k].id);
			assert_true(s->steps[k].job == in[i]->steps[k].job);
			assert_int_equal(s->steps[k].nalloc,
					 in[i]->steps[k].nalloc);
			assert_memory_equal(s->steps[k].cpu_ns,
					    in[i]->steps[k].cpu_ns,
					    d->cpus * sizeof(uint64_t));
		}
		fp_sample_free(in[i]);
	}
	assert_int_equal(fp_trace_reader_next(r, &s, &err), 0);
	assert_int_equal(fp_trace_reader_bytes(r), (uint64_t)size);
	fp_trace_reader_free(r);
	pm_free(&m);
	unlink(path);
}

static void test_writer_counts_the_bytes_it_wrote(void **state)
{
	pm_model_t m;
	const fp_node_desc_t *d;
	fp_sample_t *s;
	fp_trace_writer_t *w;
	fp_error_t err;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	pm_defaults(&m);
	d = pm_init(&m);
	s = fp_sample_new(d);
	w = fp_trace_writer_new(f, d, &err);
	assert_non_null(w);
	for (int i = 0; i < 5; i++) {
		pm_sample(&m, s);
		assert_int_equal(fp_trace_writer_write(w, s, &err), 0);
	}
	assert_int_equal(fp_trace_writer_flush(w, &err), 0);
	assert_int_equal(fp_trace_writer_bytes(w), len);
	assert_int_equal(fp_trace_writer_close(w, &err), 0);
	fclose(f);
	assert_non_null(strstr(buf, "\"idle_w\":{\"package-0\":20,"));
	free(buf);
	fp_sample_free(s);
	pm_free(&m);
}

static mode_t mode_of(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return st.st_mode & 07777;
}

static void test_trace_is_created_0640_whatever_the_umask(void **state)
{
	pm_model_t m;
	const fp_node_desc_t *d;
	fp_trace_writer_t *w;
	fp_error_t err;
	char path[] = "/tmp/test_trace_XXXXXX";
	int fd = mkstemp(path);
	mode_t old;

	assert_true(fd >= 0);
	close(fd);
	pm_defaults(&m);
	d = pm_init(&m);
	old = umask(0);
	/* an existing file (here 0600 from mkstemp) gets the mode too */
	w = fp_trace_writer_open(path, d, &err);
	assert_non_null(w);
	assert_int_equal(fp_trace_writer_close(w, &err), 0);
	assert_int_equal(mode_of(path), 0640);
	unlink(path);
	/* a new one */
	w = fp_trace_writer_open(path, d, &err);
	umask(old);
	assert_non_null(w);
	assert_int_equal(fp_trace_writer_close(w, &err), 0);
	assert_int_equal(mode_of(path), 0640);
	unlink(path);
	pm_free(&m);
}

/* --- GPUs (trace v1, "Extension: accelerators") --- */

#define GPU_HEADER                                                        \
	"{\"footprint_trace\": 1, \"node\": \"g1\", \"cpus\": 2,"         \
	" \"packages\": [{\"id\": 0, \"cpus\": [0,1]}],"                  \
	" \"domains\": [{\"name\": \"package-0\", \"kind\": \"package\"," \
	" \"package\": 0, \"max_energy_range_uj\": 1000000000}],"         \
	" \"gpus\": [{\"index\": 1, \"uuid\": \"0000:3b:00.0\","          \
	" \"vendor\": \"amd\", \"source\": \"power-integral\"},"          \
	" {\"index\": 0, \"uuid\": \"GPU-5c3e\", \"vendor\": \"nvidia\"," \
	" \"max_energy_uj\": 999999, \"idle_w\": 21.5}]}\n"
#define GBUSY "\"cpu_busy_ns\": [1,2]"

static void test_reads_the_gpu_extension(void **state)
{
	const char *text = GPU_HEADER
		"{\"t\": 1, \"gpu_energy_uj\": [5, null], " GBUSY ", "
		"\"steps\": [{\"id\": \"7.0\", \"job\": 7, \"alloc\": [0],"
		" \"cpu_ns\": [1,0], \"gpus\": [1, 0],"
		" \"gpu_busy\": [40, null]},"
		"{\"gpu_busy\": [9], \"id\": \"8.0\", \"job\": 8,"
		" \"alloc\": [1], \"cpu_ns\": [0,1], \"gpus\": [0]},"
		"{\"id\": \"9.0\", \"job\": 9, \"alloc\": [], \"cpu_ns\": [0,0]"
		"}]}\n"
		"{\"t\": 2, " GBUSY "}\n";
	fp_error_t err;
	FILE *f;
	fp_trace_reader_t *r = open_text(text, &f, &err);
	const fp_node_desc_t *d;
	const fp_sample_t *s;

	if (!r)
		fail_msg("%s", err.msg);
	d = fp_trace_reader_desc(r);
	assert_int_equal(d->ngpus, 2);
	assert_string_equal(d->gpus[0].uuid, "GPU-5c3e");
	assert_string_equal(d->gpus[0].vendor, "nvidia");
	assert_true(d->gpus[0].max_energy_uj == 999999);
	assert_true(d->gpus[0].idle_w == 21.5);
	assert_false(d->gpus[0].power_integral);
	assert_string_equal(d->gpus[1].uuid, "0000:3b:00.0");
	assert_true(d->gpus[1].max_energy_uj == 0); /* never wraps */
	assert_true(d->gpus[1].idle_w < 0);	    /* all dynamic */
	assert_true(d->gpus[1].power_integral);
	if (fp_trace_reader_next(r, &s, &err) != 1)
		fail_msg("%s", err.msg);
	assert_true(s->gpu_valid[0] && s->gpu_energy_uj[0] == 5);
	assert_false(s->gpu_valid[1]);
	assert_int_equal(s->nsteps, 3);
	assert_int_equal(s->steps[0].ngpus, 2);
	assert_int_equal(s->steps[0].gpus[0], 1);
	assert_int_equal(s->steps[0].gpus[1], 0);
	assert_non_null(s->steps[0].gpu_busy);
	assert_true(s->steps[0].gpu_busy[0] == 40);
	assert_true(s->steps[0].gpu_busy_valid[0]);
	assert_false(s->steps[0].gpu_busy_valid[1]);
	assert_int_equal(s->steps[1].ngpus, 1); /* gpu_busy came first */
	assert_true(s->steps[1].gpu_busy[0] == 9);
	assert_int_equal(s->steps[2].ngpus, 0);
	assert_null(s->steps[2].gpu_busy);
	assert_int_equal(fp_trace_reader_next(r, &s, &err), 1);
	assert_false(s->gpu_valid[0]); /* no gpu_energy_uj: failed reads */
	assert_false(s->gpu_valid[1]);
	fp_trace_reader_free(r);
	fclose(f);
}

static void test_bad_gpu_fields_name_their_line(void **state)
{
	expect_error(GPU_HEADER "{\"t\": 1, \"gpu_energy_uj\": [1], " GBUSY
				"}\n",
		     2, "gpu_energy_uj has 1 values, expected 2");
	expect_error(GPU_HEADER "{\"t\": 1, \"gpu_energy_uj\": [1000000, 1],"
				" " GBUSY "}\n",
		     2, "above its max_energy_uj 999999");
	expect_error(GPU_HEADER
		     "{\"t\": 1, " GBUSY ", \"steps\": [{\"id\":"
		     " \"1.0\", \"job\": 1, \"cpu_ns\": [0,0], \"gpus\": [2]}]}"
		     "\n",
		     2, "steps[0].gpus: gpu 2 out of range");
	expect_error(GPU_HEADER
		     "{\"t\": 1, " GBUSY ", \"steps\": [{\"id\":"
		     " \"1.0\", \"job\": 1, \"cpu_ns\": [0,0], \"gpus\": [1,1]"
		     "}]}\n",
		     2, "gpu 1 listed twice");
	expect_error(GPU_HEADER
		     "{\"t\": 1, " GBUSY ", \"steps\": [{\"id\":"
		     " \"1.0\", \"job\": 1, \"cpu_ns\": [0,0], \"gpus\": [1],"
		     " \"gpu_busy\": [1, 2]}]}\n",
		     2, "gpu_busy has 2 values, gpus 1");
	expect_error(HEADER
		     "{\"t\": 1, " BUSY ", \"steps\": [{\"id\":"
		     " \"1.0\", \"job\": 1, \"cpu_ns\": [0,0,0,0,0,0,0,0],"
		     " \"gpus\": [0]}]}\n",
		     2, "the header has 0 gpus");
}

static void test_bad_gpu_headers_are_named(void **state)
{
	const char *pre = "{\"footprint_trace\": 1, \"cpus\": 1, \"packages\":"
			  " [], \"domains\": [], \"gpus\": ";
	const char *bad[][2] = {
		{ "{}", "gpus must be an array" },
		{ "[{\"index\": 1, \"uuid\": \"u\", \"vendor\": \"amd\"}]",
		  "index must be 0..0" },
		{ "[{\"index\": 0, \"uuid\": \"u\", \"vendor\": \"amd\"},"
		  " {\"index\": 0, \"uuid\": \"v\", \"vendor\": \"amd\"}]",
		  "index 0 listed twice" },
		{ "[{\"index\": 0, \"vendor\": \"amd\"}]", "uuid missing" },
		{ "[{\"index\": 0, \"uuid\": \"u\", \"vendor\": \"ati\"}]",
		  "vendor must be nvidia, amd or intel" },
		{ "[{\"index\": 0, \"uuid\": \"u\", \"vendor\": \"amd\","
		  " \"idle_w\": -1}]",
		  "idle_w must be a number >= 0" },
		{ "[{\"index\": 0, \"uuid\": \"u\", \"vendor\": \"amd\","
		  " \"max_energy_uj\": 0}]",
		  "max_energy_uj must be null" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[512];

		snprintf(text, sizeof(text), "%s%s}\n", pre, bad[i][0]);
		expect_error(text, 1, bad[i][1]);
	}
}

/* Writes desc and one sample to memory; returns the text (free it). */
static char *write_to_text(const fp_node_desc_t *d, const fp_sample_t *s)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	fp_error_t err;
	fp_trace_writer_t *w = fp_trace_writer_new(f, d, &err);

	assert_non_null(w);
	assert_int_equal(fp_trace_writer_write(w, s, &err), 0);
	assert_int_equal(fp_trace_writer_close(w, &err), 0);
	fclose(f);
	return text;
}

static void test_trace_without_gpus_is_written_as_before(void **state)
{
	/* the v1 bytes as written before GPUs existed */
	const char *v1 =
		"{\"footprint_trace\":1,\"node\":\"n\",\"cpus\":1,\"packages\":"
		"[{\"id\":0,\"cpus\":[0]}],\"domains\":[{\"name\":\"package-0\","
		"\"kind\":\"package\",\"package\":0,\"max_energy_range_uj\":"
		"1000}]}\n"
		"{\"t\":1.5,\"energy_uj\":{\"package-0\":5},\"cpu_busy_ns\":[7],"
		"\"steps\":[{\"id\":\"1.0\",\"job\":1,\"alloc\":[0],\"cpu_ns\":"
		"[3]}]}\n";
	fp_error_t err;
	FILE *f;
	fp_trace_reader_t *r = open_text(v1, &f, &err);
	const fp_sample_t *s;
	char *text;

	assert_non_null(r);
	assert_int_equal(fp_trace_reader_desc(r)->ngpus, 0);
	assert_int_equal(fp_trace_reader_next(r, &s, &err), 1);
	assert_null(s->gpu_energy_uj);
	text = write_to_text(fp_trace_reader_desc(r), s);
	assert_string_equal(text, v1);
	free(text);
	fp_trace_reader_free(r);
	fclose(f);
}

static void test_gpu_fields_are_written_as_the_spec_says(void **state)
{
	fp_error_t err;
	FILE *f;
	fp_trace_reader_t *r = open_text(
		GPU_HEADER
		"{\"t\": 1, \"gpu_energy_uj\": [5, null], " GBUSY ", "
		"\"steps\": [{\"id\": \"7.0\", \"job\": 7, \"alloc\": [0],"
		" \"cpu_ns\": [1,0], \"gpus\": [1, 0],"
		" \"gpu_busy\": [40, null]},"
		"{\"id\": \"8.0\", \"job\": 8, \"alloc\": [1],"
		" \"cpu_ns\": [0,1], \"gpus\": [0]}]}\n",
		&f, &err);
	const fp_sample_t *s;
	char *text, *again;
	FILE *g;
	fp_trace_reader_t *r2;

	assert_non_null(r);
	assert_int_equal(fp_trace_reader_next(r, &s, &err), 1);
	text = write_to_text(fp_trace_reader_desc(r), s);
	assert_non_null(strstr(text, ",\"gpus\":[{\"index\":0,\"uuid\":"
				     "\"GPU-5c3e\",\"vendor\":\"nvidia\","
				     "\"max_energy_uj\":999999,\"idle_w\":"
				     "21.5,\"source\":\"counter\"},{\"index\""
				     ":1,\"uuid\":\"0000:3b:00.0\",\"vendor\""
				     ":\"amd\",\"max_energy_uj\":null,"
				     "\"source\":\"power-integral\"}]}\n"));
	assert_non_null(strstr(text, "\"gpu_energy_uj\":[5,null]"));
	assert_non_null(strstr(text, "\"cpu_ns\":[1,0],\"gpus\":[1,0],"
				     "\"gpu_busy\":[40,null]}"));
	assert_non_null(strstr(text, "\"cpu_ns\":[0,1],\"gpus\":[0]}"));
	/* and what it wrote reads back to the same text */
	g = fmemopen(text, strlen(text), "r");
	r2 = fp_trace_reader_new(g, "again", &err);
	assert_non_null(r2);
	assert_int_equal(fp_trace_reader_next(r2, &s, &err), 1);
	again = write_to_text(fp_trace_reader_desc(r2), s);
	assert_string_equal(again, text);
	free(again);
	fp_trace_reader_free(r2);
	fclose(g);
	free(text);
	fp_trace_reader_free(r);
	fclose(f);
}

/* --- the zstd form --- */

#define ZN 30

/* Writes ZN samples of one model in `form` to path, flushing after each as
 * the poller does; ends[i] is the file's size once sample i (0: the
 * header) is out. Returns the model's samples in in[], the caller's. */
static void write_compact(const char *path, fp_trace_form_t form,
			  unsigned keyframe, fp_sample_t **in, long *ends,
			  pm_model_t *m);
/* CPUs per package of write_form's model */
static int form_cpp = 4;

static void write_form(const char *path, fp_trace_form_t form, fp_sample_t **in,
		       long *ends, pm_model_t *m)
{
	write_compact(path, form, 0, in, ends, m);
}

/* The same, in the compact form when keyframe is not 0. */
static void write_compact(const char *path, fp_trace_form_t form,
			  unsigned keyframe, fp_sample_t **in, long *ends,
			  pm_model_t *m)
{
	const fp_node_desc_t *d;
	fp_trace_writer_t *w;
	fp_error_t err;

	pm_defaults(m);
	m->cpp = form_cpp;
	m->nsamples = ZN;
	m->fail_domain = 1;
	m->fail_from = 7;
	m->fail_to = 9;
	pm_add_step(m, "100.batch", 100, 0, 4, 1, ZN - 5, 0.3);
	pm_add_step(m, "100.0", 100, 0, 2, 3, ZN - 8, 0.6);
	pm_add_step(m, "200.0", 200, 4, 4, 10, ZN - 1, 0.5);
	d = pm_init(m);
	w = fp_trace_writer_open_compact(path, d, form, keyframe, &err);
	assert_non_null(w);
	ends[0] = (long)fp_trace_writer_bytes(w);
	for (int i = 0; i < ZN; i++) {
		in[i] = fp_sample_new(d);
		pm_sample(m, in[i]);
		assert_int_equal(fp_trace_writer_write(w, in[i], &err), 0);
		assert_int_equal(fp_trace_writer_flush(w, &err), 0);
		ends[i + 1] = (long)fp_trace_writer_bytes(w);
	}
	assert_int_equal(fp_trace_writer_close(w, &err), 0);
}

static void assert_same_sample(const fp_node_desc_t *d, const fp_sample_t *a,
			       const fp_sample_t *b)
{
	assert_true(a->t == b->t);
	assert_int_equal(a->wall_valid, b->wall_valid);
	if (a->wall_valid)
		assert_true(a->wall_j == b->wall_j);
	for (size_t k = 0; k < d->ndomains; k++) {
		assert_int_equal(a->energy_valid[k], b->energy_valid[k]);
		if (a->energy_valid[k])
			assert_true(a->energy_uj[k] == b->energy_uj[k]);
	}
	assert_memory_equal(a->cpu_busy_ns, b->cpu_busy_ns,
			    d->cpus * sizeof(uint64_t));
	assert_int_equal(a->nsteps, b->nsteps);
	for (size_t k = 0; k < a->nsteps; k++) {
		assert_string_equal(a->steps[k].id, b->steps[k].id);
		assert_true(a->steps[k].job == b->steps[k].job);
		assert_int_equal(a->steps[k].nalloc, b->steps[k].nalloc);
		assert_memory_equal(a->steps[k].alloc, b->steps[k].alloc,
				    a->steps[k].nalloc * sizeof(int));
		assert_memory_equal(a->steps[k].cpu_ns, b->steps[k].cpu_ns,
				    d->cpus * sizeof(uint64_t));
	}
}

static void free_samples(fp_sample_t **in)
{
	for (int i = 0; i < ZN; i++)
		fp_sample_free(in[i]);
}

static long file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (long)st.st_size;
}

static void test_zstd_form_reads_back_the_same_samples_as_the_plain(void **s_)
{
	char plain[] = "/tmp/test_trace_XXXXXX", zst[64];
	fp_sample_t *in[ZN], *in2[ZN];
	long ends[ZN + 1];
	pm_model_t m, m2;
	fp_error_t err;
	fp_trace_reader_t *rp, *rz;
	const fp_sample_t *a, *b;
	unsigned char magic[4];
	FILE *f;

	close(mkstemp(plain));
	snprintf(zst, sizeof(zst), "%s.zst", plain);
	write_form(plain, FP_TRACE_PLAIN, in, ends, &m);
	write_form(zst, FP_TRACE_ZSTD, in2, ends, &m2);
	/* a zstd frame, smaller than the plain lines */
	f = fopen(zst, "rb");
	assert_int_equal(fread(magic, 1, 4, f), 4);
	fclose(f);
	assert_memory_equal(magic, "\x28\xb5\x2f\xfd", 4);
	assert_true(file_size(zst) < file_size(plain) / 3);

	rp = fp_trace_reader_open(plain, &err);
	assert_non_null(rp);
	rz = fp_trace_reader_open(zst, &err);
	if (!rz)
		fail_msg("%s", err.msg);
	assert_int_equal(fp_trace_reader_desc(rz)->cpus, m.desc->cpus);
	assert_int_equal(fp_trace_reader_desc(rz)->ndomains, m.desc->ndomains);
	assert_true(fp_trace_reader_desc(rz)->domains[0].idle_w ==
		    fp_trace_reader_desc(rp)->domains[0].idle_w);
	for (int i = 0; i < ZN; i++) {
		assert_int_equal(fp_trace_reader_next(rp, &a, &err), 1);
		if (fp_trace_reader_next(rz, &b, &err) != 1)
			fail_msg("sample %d: %s", i, err.msg);
		assert_same_sample(m.desc, a, b);
		assert_same_sample(m.desc, b, in[i]);
	}
	assert_int_equal(fp_trace_reader_next(rp, &a, &err), 0);
	assert_int_equal(fp_trace_reader_next(rz, &b, &err), 0);
	assert_null(fp_trace_reader_warning(rz));
	assert_int_equal(fp_trace_reader_bytes(rz), file_size(plain));
	fp_trace_reader_free(rp);
	fp_trace_reader_free(rz);
	free_samples(in);
	free_samples(in2);
	pm_free(&m);
	pm_free(&m2);
	unlink(plain);
	unlink(zst);
}

/* Copies the first n bytes of src to a new file; returns its path. */
static char *prefix_of(const char *src, long n)
{
	static char path[64];
	FILE *in = fopen(src, "rb"), *out;
	char *buf = malloc((size_t)n + 1);

	snprintf(path, sizeof(path), "/tmp/test_trace_cutXXXXXX");
	close(mkstemp(path));
	out = fopen(path, "wb");
	assert_true(fread(buf, 1, (size_t)n, in) == (size_t)n);
	assert_true(fwrite(buf, 1, (size_t)n, out) == (size_t)n);
	fclose(in);
	fclose(out);
	free(buf);
	return path;
}

static void
test_zstd_trace_cut_mid_write_replays_up_to_its_last_sample(void **s_)
{
	char zst[] = "/tmp/test_trace_XXXXXX";
	fp_sample_t *in[ZN];
	long ends[ZN + 1], total;
	pm_model_t m;
	int tried = 0;

	close(mkstemp(zst));
	write_form(zst, FP_TRACE_ZSTD, in, ends, &m);
	total = file_size(zst);
	assert_true(total > ends[ZN]); /* the frame's end and checksum */
	for (int k = 0; k < ZN; k++) {
		/* at a flush, in the next block's header, mid-block, and
		 * one byte short of the frame's end */
		long cut[] = { ends[k], ends[k] + 1, ends[k] + 3,
			       (ends[k] + ends[k + 1]) / 2, total - 1 };

		for (size_t c = 0; c < sizeof(cut) / sizeof(*cut); c++) {
			const char *path = prefix_of(zst, cut[c]);
			fp_error_t err;
			fp_trace_reader_t *r = fp_trace_reader_open(path, &err);
			const fp_sample_t *s;
			const char *warn;
			int want = 0, got = 0, rc;

			for (int j = 1; j <= ZN; j++)
				want += ends[j] <= cut[c];
			if (!r)
				fail_msg("cut at %ld: %s", cut[c], err.msg);
			while ((rc = fp_trace_reader_next(r, &s, &err)) > 0)
				assert_same_sample(m.desc, s, in[got++]);
			if (rc)
				fail_msg("cut at %ld: %s", cut[c], err.msg);
			if (got != want)
				fail_msg("cut at %ld of %ld: %d samples, want "
					 "%d",
					 cut[c], total, got, want);
			warn = fp_trace_reader_warning(r);
			if (!warn || strncmp(warn, path, strlen(path)) ||
			    !strstr(warn, "cut short"))
				fail_msg("cut at %ld: warning \"%s\"", cut[c],
					 warn ? warn : "(none)");
			fp_trace_reader_free(r);
			unlink(path);
			tried++;
		}
	}
	assert_int_equal(tried, ZN * 5);
	free_samples(in);
	pm_free(&m);
	unlink(zst);
}

static void expect_zstd_error(const char *path, const char *want)
{
	fp_error_t err = { 0 };
	fp_trace_reader_t *r = fp_trace_reader_open(path, &err);
	const fp_sample_t *s;
	int rc = -1;

	if (r) {
		while ((rc = fp_trace_reader_next(r, &s, &err)) > 0)
			;
		fp_trace_reader_free(r);
	}
	assert_int_equal(rc, -1);
	if (strncmp(err.msg, path, strlen(path)) || !strstr(err.msg, want))
		fail_msg("got \"%s\", want \"%s: ...%s\"", err.msg, path, want);
	assert_null(strchr(err.msg, '\n'));
}

static void test_bad_zstd_data_fails_in_one_line_naming_the_file(void **s_)
{
	char zst[] = "/tmp/test_trace_XXXXXX",
	     junk[] = "/tmp/test_trace_XXXXXX";
	fp_sample_t *in[ZN];
	long ends[ZN + 1], total;
	pm_model_t m;
	FILE *f;
	int c;

	/* the magic bytes, then no frame */
	f = fdopen(mkstemp(junk), "w");
	fputs("\x28\xb5\x2f\xfd not a zstd frame at all\n", f);
	fclose(f);
	expect_zstd_error(junk, ": line 1: bad zstd data near compressed "
				"byte ");
	/* a whole file whose checksum does not match its lines */
	close(mkstemp(zst));
	write_form(zst, FP_TRACE_ZSTD, in, ends, &m);
	total = file_size(zst);
	f = fopen(zst, "r+b");
	fseek(f, total - 1, SEEK_SET);
	c = fgetc(f);
	fseek(f, total - 1, SEEK_SET);
	fputc(c ^ 0x5a, f);
	fclose(f);
	expect_zstd_error(zst, "bad zstd data");
	free_samples(in);
	pm_free(&m);
	unlink(zst);
	unlink(junk);
}

static void test_rotated_files_of_both_forms_continue_as_one_trace(void **s_)
{
	char a[] = "/tmp/test_trace_XXXXXX", b[] = "/tmp/test_trace_XXXXXX";
	const char *paths[2] = { a, b };
	fp_sample_t *in[ZN];
	pm_model_t m;
	const fp_node_desc_t *d;
	fp_error_t err;
	fp_trace_reader_t *r;
	const fp_sample_t *s;
	int got = 0;

	close(mkstemp(a));
	close(mkstemp(b));
	pm_defaults(&m);
	m.nsamples = ZN;
	pm_add_step(&m, "100.batch", 100, 0, 4, 1, ZN - 5, 0.3);
	d = pm_init(&m);
	/* the first half compressed, the rest plain, as after a change of
	 * TraceCompress= and a restart */
	for (int f = 0; f < 2; f++) {
		fp_trace_writer_t *w = fp_trace_writer_open_as(
			paths[f], d, f ? FP_TRACE_PLAIN : FP_TRACE_ZSTD, &err);

		assert_non_null(w);
		for (int i = f * ZN / 2; i < (f + 1) * ZN / 2; i++) {
			in[i] = fp_sample_new(d);
			pm_sample(&m, in[i]);
			assert_int_equal(fp_trace_writer_write(w, in[i], &err),
					 0);
		}
		assert_int_equal(fp_trace_writer_close(w, &err), 0);
	}
	r = fp_trace_reader_open(a, &err);
	assert_non_null(r);
	for (int f = 0; f < 2; f++) {
		if (f && fp_trace_reader_continue(r, b, &err))
			fail_msg("%s", err.msg);
		while (fp_trace_reader_next(r, &s, &err) == 1)
			assert_same_sample(d, s, in[got++]);
		assert_null(fp_trace_reader_warning(r));
	}
	assert_int_equal(got, ZN);
	fp_trace_reader_free(r);
	free_samples(in);
	pm_free(&m);
	unlink(a);
	unlink(b);
}

/* The writer renders only the counters that moved since a step's last line:
 * steps that swap places, leave, come back or give way to another of the
 * same place still read back exactly. */
static void test_steps_that_move_leave_and_return_read_back_exactly(void **s_)
{
	static const char *const order[][2] = {
		{ "1.0", "2.0" }, { "2.0", "1.0" }, { "3.0", NULL },
		{ "1.0", "3.0" }, { "3.0", "1.0" },
	};
	const size_t n = sizeof(order) / sizeof(*order);
	char path[] = "/tmp/test_trace_XXXXXX";
	pm_model_t m;
	const fp_node_desc_t *d;
	fp_sample_t *in[8];
	fp_trace_writer_t *w;
	fp_trace_reader_t *r;
	const fp_sample_t *s;
	fp_error_t err;
	int alloc[2] = { 0, 1 };

	close(mkstemp(path));
	pm_defaults(&m);
	d = pm_init(&m);
	w = fp_trace_writer_open_as(path, d, FP_TRACE_ZSTD, &err);
	assert_non_null(w);
	for (size_t i = 0; i < n; i++) {
		in[i] = fp_sample_new(d);
		pm_sample(&m, in[i]);
		fp_sample_clear_steps(in[i]);
		for (int k = 0; k < 2 && order[i][k]; k++) {
			fp_step_sample_t *st = fp_sample_add_step(
				in[i], d, order[i][k], 1, alloc, 2);

			/* the same value on most CPUs, a new one on some */
			for (size_t c = 0; c < d->cpus; c++)
				st->cpu_ns[c] = c % 3 == i % 3
							? 1000 * i + c
							: 77 + (uint64_t)k;
		}
		assert_int_equal(fp_trace_writer_write(w, in[i], &err), 0);
	}
	assert_int_equal(fp_trace_writer_close(w, &err), 0);
	r = fp_trace_reader_open(path, &err);
	assert_non_null(r);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(fp_trace_reader_next(r, &s, &err), 1);
		assert_same_sample(d, s, in[i]);
		fp_sample_free(in[i]);
	}
	assert_int_equal(fp_trace_reader_next(r, &s, &err), 0);
	fp_trace_reader_free(r);
	pm_free(&m);
	unlink(path);
}

/* --- the compact form --- */

static char *slurp_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	long n;
	char *b;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	b = malloc((size_t)n + 1);
	assert_true(fread(b, 1, (size_t)n, f) == (size_t)n);
	b[n] = '\0';
	fclose(f);
	return b;
}

static size_t count_of(const char *text, const char *what)
{
	size_t n = 0;

	for (const char *p = text; (p = strstr(p, what)); p++)
		n++;
	return n;
}

static void
test_compact_form_reads_back_the_same_samples_as_the_plain(void **s_)
{
	char plain[] = "/tmp/test_trace_XXXXXX", compact[64], zst[64];
	fp_sample_t *in[ZN], *in2[ZN], *in3[ZN];
	long ends[ZN + 1];
	pm_model_t m, m2, m3;
	fp_error_t err;
	fp_trace_reader_t *rp, *rc, *rz;
	const fp_sample_t *a, *b, *c;
	char *text;

	close(mkstemp(plain));
	snprintf(compact, sizeof(compact), "%s.c", plain);
	snprintf(zst, sizeof(zst), "%s.c.zst", plain);
	/* 32 CPUs, steps on 2 to 4: most of a step's counters stay 0 */
	form_cpp = 16;
	write_form(plain, FP_TRACE_PLAIN, in, ends, &m);
	write_compact(compact, FP_TRACE_PLAIN, 7, in2, ends, &m2);
	write_compact(zst, FP_TRACE_ZSTD, 7, in3, ends, &m3);
	form_cpp = 4;
	/* a header that says so, keyframes at samples 1, 8, 15, 22 and 29
	 * (every step whole), the other lines with moved counters only */
	text = slurp_file(compact);
	assert_non_null(strstr(text, "\"compact\":7,"));
	assert_int_equal(count_of(text, "\n{\"t\":"), ZN);
	assert_true(count_of(text, "\"cpu_ns_moved\":") > 50);
	assert_true(file_size(compact) < file_size(plain));
	free(text);

	rp = fp_trace_reader_open(plain, &err);
	rc = fp_trace_reader_open(compact, &err);
	if (!rc)
		fail_msg("%s", err.msg);
	rz = fp_trace_reader_open(zst, &err);
	if (!rz)
		fail_msg("%s", err.msg);
	for (int i = 0; i < ZN; i++) {
		assert_int_equal(fp_trace_reader_next(rp, &a, &err), 1);
		if (fp_trace_reader_next(rc, &b, &err) != 1)
			fail_msg("sample %d: %s", i, err.msg);
		if (fp_trace_reader_next(rz, &c, &err) != 1)
			fail_msg("sample %d: %s", i, err.msg);
		assert_same_sample(m.desc, a, b);
		assert_same_sample(m.desc, a, c);
		assert_same_sample(m.desc, b, in2[i]);
	}
	assert_int_equal(fp_trace_reader_next(rc, &b, &err), 0);
	assert_int_equal(fp_trace_reader_next(rz, &c, &err), 0);
	assert_null(fp_trace_reader_warning(rc));
	assert_null(fp_trace_reader_warning(rz));
	fp_trace_reader_free(rp);
	fp_trace_reader_free(rc);
	fp_trace_reader_free(rz);
	free_samples(in);
	free_samples(in2);
	free_samples(in3);
	pm_free(&m);
	pm_free(&m2);
	pm_free(&m3);
	unlink(plain);
	unlink(compact);
	unlink(zst);
}

static void
test_compact_trace_cut_mid_line_replays_up_to_its_last_sample(void **s_)
{
	char path[] = "/tmp/test_trace_XXXXXX";
	fp_sample_t *in[ZN];
	long ends[ZN + 1];
	pm_model_t m;

	close(mkstemp(path));
	form_cpp = 16;
	write_compact(path, FP_TRACE_PLAIN, 5, in, ends, &m);
	form_cpp = 4;
	for (int k = 0; k < ZN; k++) {
		/* at a line's end, and inside it (short of its newline only,
		 * it is whole and read) */
		long cut[] = { ends[k + 1], ends[k] + 1,
			       (ends[k] + ends[k + 1]) / 2, ends[k + 1] - 2 };

		for (size_t c = 0; c < sizeof(cut) / sizeof(*cut); c++) {
			const char *p = prefix_of(path, cut[c]);
			fp_error_t err;
			fp_trace_reader_t *r = fp_trace_reader_open(p, &err);
			const fp_sample_t *s;
			int got = 0, want = c ? k : k + 1, rc;

			if (!r)
				fail_msg("cut at %ld: %s", cut[c], err.msg);
			while ((rc = fp_trace_reader_next(r, &s, &err)) > 0)
				assert_same_sample(m.desc, s, in[got++]);
			if (rc)
				fail_msg("cut at %ld: %s", cut[c], err.msg);
			if (got != want)
				fail_msg("cut at %ld: %d samples, want %d",
					 cut[c], got, want);
			if (c && !fp_trace_reader_warning(r))
				fail_msg("cut at %ld: no warning", cut[c]);
			fp_trace_reader_free(r);
			unlink(p);
		}
	}
	free_samples(in);
	pm_free(&m);
	unlink(path);
}

#define CHEADER(k)                                                           \
	"{\"footprint_trace\": 1, \"compact\": " #k ", \"node\": \"qh042\"," \
	" \"cpus\": 8, \"packages\": [{\"id\": 0, \"cpus\": [0,1,2,3]},"     \
	" {\"id\": 1, \"cpus\": [4,5,6,7]}], \"domains\": []}\n"
#define CSTEP(t, rest)                                                        \
	"{\"t\": " #t ", " BUSY ", \"steps\": [{\"id\": \"7.0\", \"job\": 7," \
	" \"alloc\": [0,1], " rest "}]}\n"
#define WHOLE "\"cpu_ns\": [5,6,0,0,0,0,0,0]"

static void
test_compact_trace_reads_moved_counters_onto_the_last_sample(void **s_)
{
	const char *text = CHEADER(3) CSTEP(1, WHOLE)
		CSTEP(2, "\"cpu_ns_moved\": [[1, 9], [7, 2]]")
			CSTEP(3, "\"cpu_ns_moved\": []") CSTEP(4, WHOLE);
	const uint64_t want[4][8] = { { 5, 6 },
				      { 5, 9, 0, 0, 0, 0, 0, 2 },
				      { 5, 9, 0, 0, 0, 0, 0, 2 },
				      { 5, 6 } };
	fp_error_t err;
	FILE *f;
	fp_trace_reader_t *r = open_text(text, &f, &err);
	const fp_sample_t *s;

	assert_non_null(r);
	for (int i = 0; i < 4; i++) {
		if (fp_trace_reader_next(r, &s, &err) != 1)
			fail_msg("sample %d: %s", i, err.msg);
		assert_int_equal(s->nsteps, 1);
		assert_memory_equal(s->steps[0].cpu_ns, want[i],
				    sizeof(want[i]));
	}
	assert_int_equal(fp_trace_reader_next(r, &s, &err), 0);
	fp_trace_reader_free(r);
	fclose(f);
}

static void test_bad_compact_lines_name_their_line_and_fault(void **s_)
{
	/* the first sample of a file has nothing to apply moves to */
	expect_error(CHEADER(3) CSTEP(1, "\"cpu_ns_moved\": [[1, 9]]"), 2,
		     "steps[0] (7.0): cpu_ns_moved, but the step is not in "
		     "the previous sample (none: the file's first sample must "
		     "be whole)");
	/* nor a step that was not in the previous sample */
	expect_error(CHEADER(3) "{\"t\": 1, " BUSY ", \"steps\": []}\n" CSTEP(
			     2, "\"cpu_ns_moved\": [[1, 9]]"),
		     3,
		     "steps[0] (7.0): cpu_ns_moved, but the step is not in "
		     "the previous sample: nothing to apply it to (a keyframe "
		     "is missing)");
	expect_error(CHEADER(3) CSTEP(1, WHOLE)
			     CSTEP(2, "\"cpu_ns_moved\": [[8, 9]]"),
		     3, "steps[0].cpu_ns_moved: cpu 8 out of range (cpus 8)");
	expect_error(CHEADER(3) CSTEP(1, WHOLE)
			     CSTEP(2, "\"cpu_ns_moved\": [[3, 9], [1, 2]]"),
		     3,
		     "steps[0].cpu_ns_moved: cpu 1 after cpu 3 (each cpu "
		     "once, in increasing order)");
	expect_error(CHEADER(3) CSTEP(1, WHOLE)
			     CSTEP(2, "\"cpu_ns_moved\": [[3, 9], [3, 2]]"),
		     3, "cpu 3 after cpu 3");
	expect_error(CHEADER(3) CSTEP(1, WHOLE)
			     CSTEP(2, "\"cpu_ns_moved\": [[-1, 9]]"),
		     3, "steps[0].cpu_ns_moved");
	expect_error(CHEADER(3) CSTEP(1, WHOLE)
			     CSTEP(2, "\"cpu_ns_moved\": [[1]]"),
		     3, "steps[0].cpu_ns_moved: bad JSON: expected ','");
	expect_error(CHEADER(3) CSTEP(1, WHOLE)
			     CSTEP(2, "\"cpu_ns_moved\": [1, 9]"),
		     3, "steps[0].cpu_ns_moved: bad JSON: expected '['");
	expect_error(CHEADER(3) CSTEP(1, WHOLE)
			     CSTEP(2, WHOLE ", \"cpu_ns_moved\": []"),
		     3, "steps[0] (7.0): both cpu_ns and cpu_ns_moved");
	/* "compact": 3 promises a whole sample in any 3 in a row */
	expect_error(CHEADER(3) CSTEP(1, WHOLE) CSTEP(2, "\"cpu_ns_moved\": []")
			     CSTEP(3, "\"cpu_ns_moved\": []")
				     CSTEP(4, "\"cpu_ns_moved\": []"),
		     5,
		     "no keyframe (a sample without cpu_ns_moved) in the last "
		     "3 samples");
	expect_error(CHEADER(0) CSTEP(1, WHOLE), 1,
		     "header: compact (the keyframe interval) must be an "
		     "integer from 1 to 1000000");
	expect_error(CHEADER("x") CSTEP(1, WHOLE), 1,
		     "header: compact (the keyframe interval) must be");
}

/* What a v1 reader, which knows no "compact", makes of a compact line: an
 * unknown field ignored and then no cpu_ns, an error; never zeros. The
 * same reader reads the compact trace's keyframes. */
static void
test_a_v1_reader_refuses_a_compact_line_for_its_missing_cpu_ns(void **s_)
{
	expect_error(HEADER CSTEP(1, WHOLE)
			     CSTEP(2, "\"cpu_ns_moved\": [[1, 9]]"),
		     3,
		     "steps[0] (7.0): missing cpu_ns (it has cpu_ns_moved, "
		     "the compact form, which the header does not declare "
		     "with \"compact\")");
}

static void
test_a_compact_writer_writes_a_step_whole_then_its_moved_counters(void **s_)
{
	char path[] = "/tmp/test_trace_XXXXXX";
	pm_model_t m;
	const fp_node_desc_t *d;
	fp_trace_writer_t *w;
	fp_sample_t *s;
	fp_error_t err;
	char *text, *p;

	close(mkstemp(path));
	pm_defaults(&m);
	m.cpp = 16;
	m.nsamples = 5;
	pm_add_step(&m, "1.0", 1, 0, 4, 1, 4, 0.5);
	d = pm_init(&m);
	s = fp_sample_new(d);
	w = fp_trace_writer_open_compact(path, d, FP_TRACE_PLAIN, 100, &err);
	assert_non_null(w);
	for (int i = 0; i < 4; i++) {
		pm_sample(&m, s);
		assert_int_equal(fp_trace_writer_write(w, s, &err), 0);
	}
	assert_int_equal(fp_trace_writer_close(w, &err), 0);
	text = slurp_file(path);
	/* no step in sample 1; the step's first line whole, then moved
	 * counters (its 4 CPUs of 32) */
	p = strchr(strchr(text, '\n') + 1, '\n') + 1;
	assert_non_null(strstr(p, "\"cpu_ns\":["));
	p = strchr(p, '\n') + 1;
	assert_null(strstr(p, "\"cpu_ns\":["));
	assert_int_equal(count_of(p, "\"cpu_ns_moved\":[[0,"), 2);
	free(text);
	assert_null(fp_trace_writer_open_compact(
		path, d, FP_TRACE_PLAIN, FP_TRACE_KEYFRAME_MAX + 1, &err));
	assert_int_equal(err.code, FP_EINVAL);
	fp_sample_free(s);
	pm_free(&m);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reads_the_spec_example),
		cmocka_unit_test(test_item_separators_name_what_is_missing),
		cmocka_unit_test(test_counters_are_exact_64_bit_integers),
		cmocka_unit_test(
			test_counter_arrays_read_the_same_whatever_their_spacing),
		cmocka_unit_test(
			test_counters_of_every_length_read_back_exactly),
		cmocka_unit_test(test_null_or_missing_reads_are_failed_reads),
		cmocka_unit_test(test_optional_header_fields),
		cmocka_unit_test(test_unknown_fields_are_ignored),
		cmocka_unit_test(test_string_escapes_read_as_json_says),
		cmocka_unit_test(test_blank_lines_and_crlf_are_accepted),
		cmocka_unit_test(test_bad_json_names_its_line),
		cmocka_unit_test(test_missing_header_is_named),
		cmocka_unit_test(test_non_increasing_t_names_its_line),
		cmocka_unit_test(test_wrong_array_lengths_name_their_line),
		cmocka_unit_test(test_unknown_domain_is_named),
		cmocka_unit_test(test_bad_values_are_named),
		cmocka_unit_test(test_bad_headers_are_named),
		cmocka_unit_test(test_missing_file_is_an_io_error_naming_it),
		cmocka_unit_test(test_a_wrapped_fault_reads_whole),
		cmocka_unit_test(
			test_an_endless_line_is_refused_at_the_line_cap),
		cmocka_unit_test(test_dev_zero_is_refused_at_its_first_byte),
		cmocka_unit_test(
			test_a_cut_last_line_ends_the_trace_with_a_warning),
		cmocka_unit_test(
			test_nul_padding_ends_the_trace_with_a_warning),
		cmocka_unit_test(
			test_a_nul_byte_before_the_last_line_is_an_error),
		cmocka_unit_test(
			test_implausible_values_are_refused_naming_the_line),
		cmocka_unit_test(test_rotated_files_read_as_one_trace),
		cmocka_unit_test(
			test_a_next_file_out_of_order_is_refused_naming_it),
		cmocka_unit_test(test_a_next_file_of_another_node_is_refused),
		cmocka_unit_test(test_written_trace_reads_back_exactly),
		cmocka_unit_test(test_writer_counts_the_bytes_it_wrote),
		cmocka_unit_test(test_trace_is_created_0640_whatever_the_umask),
		cmocka_unit_test(test_reads_the_gpu_extension),
		cmocka_unit_test(test_bad_gpu_fields_name_their_line),
		cmocka_unit_test(test_bad_gpu_headers_are_named),
		cmocka_unit_test(test_trace_without_gpus_is_written_as_before),
		cmocka_unit_test(test_gpu_fields_are_written_as_the_spec_says),
		cmocka_unit_test(
			test_zstd_form_reads_back_the_same_samples_as_the_plain),
		cmocka_unit_test(
			test_zstd_trace_cut_mid_write_replays_up_to_its_last_sample),
		cmocka_unit_test(
			test_bad_zstd_data_fails_in_one_line_naming_the_file),
		cmocka_unit_test(
			test_rotated_files_of_both_forms_continue_as_one_trace),
		cmocka_unit_test(
			test_steps_that_move_leave_and_return_read_back_exactly),
		cmocka_unit_test(
			test_compact_form_reads_back_the_same_samples_as_the_plain),
		cmocka_unit_test(
			test_compact_trace_cut_mid_line_replays_up_to_its_last_sample),
		cmocka_unit_test(
			test_compact_trace_reads_moved_counters_onto_the_last_sample),
		cmocka_unit_test(
			test_bad_compact_lines_name_their_line_and_fault),
		cmocka_unit_test(
			test_a_v1_reader_refuses_a_compact_line_for_its_missing_cpu_ns),
		cmocka_unit_test(
			test_a_compact_writer_writes_a_step_whole_then_its_moved_counters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
