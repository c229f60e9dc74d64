/* Specification of lib/json: real numbers in JSON text in their shortest
 * form that reads back to the same double, everything else as jansson. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "footprint/json.h"

static const char *fmt(double x)
{
	static char buf[40];

	assert_true(fp_json_format_real(x, buf, sizeof(buf)) > 0);
	return buf;
}

static void test_real_has_no_float_noise(void **state)
{
	assert_string_equal(fmt(0.1), "0.1");
	assert_string_equal(fmt(125.5), "125.5");
	assert_string_equal(fmt(1.2), "1.2");
	assert_string_equal(fmt(-119.66), "-119.66");
}

static void test_real_keeps_every_digit_it_needs(void **state)
{
	assert_string_equal(fmt(0.1 + 0.2), "0.30000000000000004");
	assert_string_equal(fmt(2.0 / 3), "0.6666666666666666");
	assert_string_equal(fmt(0.0004), "0.0004");
	assert_string_equal(fmt(1.44 / 3600), "0.00039999999999999996");
}

static void test_real_is_written_in_jansson_style(void **state)
{
	assert_string_equal(fmt(2400), "2400.0");
	assert_string_equal(fmt(120000), "120000.0");
	assert_string_equal(fmt(1e16), "10000000000000000.0");
	assert_string_equal(fmt(1e17), "1e17");
	assert_string_equal(fmt(1.5e-7), "1.5e-7");
	assert_string_equal(fmt(-0.0), "0.0");
}

static void test_real_that_is_not_finite_is_refused(void **state)
{
	char buf[40];

	assert_int_equal(fp_json_format_real(NAN, buf, sizeof(buf)), -1);
	assert_int_equal(fp_json_format_real(INFINITY, buf, sizeof(buf)), -1);
	assert_int_equal(fp_json_format_real(0.1, buf, 3), -1);
}

static void test_every_real_reads_back_to_the_same_double(void **state)
{
	uint64_t seed = 88172645463325252ULL;

	for (int i = 0; i < 100000; i++) {
		double x;

		/* xorshift64: any bit pattern, the finite ones tested */
		seed ^= seed << 13;
		seed ^= seed >> 7;
		seed ^= seed << 17;
		memcpy(&x, &seed, sizeof(x));
		if (!isfinite(x))
			continue;
		if (strtod(fmt(x), NULL) != x)
			fail_msg("%.17g written %s", x, fmt(x));
	}
}

static void test_dump_rewrites_reals_only(void **state)
{
	json_t *o = json_pack("{s:f, s:i, s:s, s:[f, f], s:{s:f}, s:n, s:b}",
			      "a", 0.1, "b", 12, "c", "x1.5e3 \"0.1\"", "d",
			      2400.0, 1.0 / 3, "e", "f", 1e-9, "g", "h", 1);
	char *s = fp_json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS |
					   JSON_REAL_PRECISION(3));

	assert_non_null(s);
	assert_string_equal(s,
			    "{\"a\":0.1,\"b\":12,\"c\":\"x1.5e3 \\\"0.1\\\"\","
			    "\"d\":[2400.0,0.3333333333333333],"
			    "\"e\":{\"f\":1e-9},\"g\":null,\"h\":true}");
	free(s);
	json_decref(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_has_no_float_noise),
		cmocka_unit_test(test_real_keeps_every_digit_it_needs),
		cmocka_unit_test(test_real_is_written_in_jansson_style),
		cmocka_unit_test(test_real_that_is_not_finite_is_refused),
		cmocka_unit_test(test_every_real_reads_back_to_the_same_double),
		cmocka_unit_test(test_dump_rewrites_reals_only),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
