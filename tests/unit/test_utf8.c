/* Specification of lib/utf8: which byte sequences are UTF-8 (RFC 3629), and
 * the escaped copy that keeps the bytes of text that is not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "footprint/utf8.h"

static bool valid(const char *s)
{
	return fp_utf8_valid(s, strlen(s), NULL);
}

static void test_ascii_and_multibyte_text_is_valid(void **state)
{
	assert_true(valid(""));
	assert_true(valid("alice"));
	assert_true(valid("Orl\xc3\xa9"
			  "ans"));		/* é */
	assert_true(valid("\xe2\x82\xac"));	/* € */
	assert_true(valid("\xf0\x9f\x8c\x8d")); /* U+1F30D */
	assert_true(valid("\xf4\x8f\xbf\xbf")); /* U+10FFFF */
}

static void test_latin1_byte_is_invalid_at_its_offset(void **state)
{
	size_t bad = 99;

	assert_false(fp_utf8_valid("Orl\xe9"
				   "ans",
				   7, &bad));
	assert_int_equal(bad, 3);
}

static void
test_overlongs_surrogates_and_beyond_u10ffff_are_invalid(void **state)
{
	assert_false(valid("\xc0\xaf"));	 /* overlong '/' */
	assert_false(valid("\xe0\x80\xaf"));	 /* overlong '/' */
	assert_false(valid("\xf0\x80\x80\xaf")); /* overlong '/' */
	assert_false(valid("\xed\xa0\x80"));	 /* U+D800 */
	assert_false(valid("\xf4\x90\x80\x80")); /* U+110000 */
	assert_false(valid("\xf5\x80\x80\x80"));
	assert_false(valid("\xff"));
}

static void test_truncated_sequence_is_invalid(void **state)
{
	size_t bad = 99;

	assert_false(fp_utf8_valid("ab\xe2\x82", 4, &bad));
	assert_int_equal(bad, 2);
	/* the length bounds the check, not a NUL */
	assert_int_equal(fp_utf8_seq("\xc3\xa9", 1), 0);
	assert_int_equal(fp_utf8_seq("\xc3\xa9", 2), 2);
}

static void test_valid_text_is_copied_unchanged(void **state)
{
	bool repaired = true;
	char *s = fp_utf8_escape("a\\b \xc3\xa9", &repaired);

	assert_string_equal(s, "a\\b \xc3\xa9");
	assert_false(repaired);
	free(s);
}

static void test_invalid_bytes_are_escaped_and_backslashes_doubled(void **state)
{
	bool repaired = false;
	char *s = fp_utf8_escape("Orl\xe9"
				 "ans\\x \xc3\xa9\xff",
				 &repaired);

	assert_true(repaired);
	/* \\x in the copy is a backslash, \xNN a byte: the two never mix */
	assert_string_equal(s, "Orl\\xe9ans\\\\x \xc3\xa9\\xff");
	assert_true(valid(s));
	free(s);
}

/* The byte escaper behind both: invalid bytes always, control characters
 * (a tab, DEL, C1's U+0085 as its two bytes) only when asked. */
static void test_escape_bytes_writes_controls_only_when_asked(void **state)
{
	const char *in = "a\tb\x7f\xc2\x85\\\xff\xc3\xa9";
	char *plain = fp_utf8_escape_bytes(in, false);
	char *ctl = fp_utf8_escape_bytes(in, true);

	(void)state;
	assert_string_equal(plain, "a\tb\x7f\xc2\x85\\\\\\xff\xc3\xa9");
	assert_string_equal(ctl, "a\\x09b\\x7f\\xc2\\x85\\\\\\xff\xc3\xa9");
	assert_null(fp_utf8_escape_bytes(NULL, true));
	free(plain);
	free(ctl);
}

static void test_escape_of_null_is_null(void **state)
{
	bool repaired = true;

	assert_null(fp_utf8_escape(NULL, &repaired));
	assert_false(repaired);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ascii_and_multibyte_text_is_valid),
		cmocka_unit_test(test_latin1_byte_is_invalid_at_its_offset),
		cmocka_unit_test(
			test_overlongs_surrogates_and_beyond_u10ffff_are_invalid),
		cmocka_unit_test(test_truncated_sequence_is_invalid),
		cmocka_unit_test(test_valid_text_is_copied_unchanged),
		cmocka_unit_test(
			test_invalid_bytes_are_escaped_and_backslashes_doubled),
		cmocka_unit_test(
			test_escape_bytes_writes_controls_only_when_asked),
		cmocka_unit_test(test_escape_of_null_is_null),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
