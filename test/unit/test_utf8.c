/*
 * core/utf8.c: the decoder's edge cases (overlong forms, surrogates, past
 * U+10FFFF, truncated sequences), the text check the API applies to names
 * and notes, the escapes the log and the CLI print, and the repair of
 * invalid bytes in replies.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "utf8.h"

#define CONTROL_WHY \
	"contains a control character (a line break, tab, escape, ...)"

static void
test_utf8_decode(void **state)
{
	uint32_t cp = 0;

	(void)state;
	assert_int_equal(utf8_seq("A", 1, &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(utf8_seq("\xc3\xa9", 2, &cp), 2);
	assert_int_equal(cp, 0xe9);
	assert_int_equal(utf8_seq("\xe2\x82\xac", 3, &cp), 3);
	assert_int_equal(cp, 0x20ac);
	assert_int_equal(utf8_seq("\xf0\x9f\x92\xbe", 4, &cp), 4);
	assert_int_equal(cp, 0x1f4be);
	/* Not UTF-8. */
	assert_int_equal(utf8_seq("\xff", 1, &cp), 0);
	assert_int_equal(utf8_seq("\x80", 1, &cp), 0);
	assert_int_equal(utf8_seq("\xc0\xaf", 2, &cp), 0);	/* overlong */
	assert_int_equal(utf8_seq("\xe0\x80\xaf", 3, &cp), 0);
	/* A UTF-16 surrogate, then past U+10FFFF. */
	assert_int_equal(utf8_seq("\xed\xa0\x80", 3, &cp), 0);
	assert_int_equal(utf8_seq("\xf4\x90\x80\x80", 4, &cp), 0);
	assert_int_equal(utf8_seq("\xc3", 1, &cp), 0);		/* truncated */
	assert_int_equal(utf8_seq("\xe2\x82", 2, &cp), 0);
	assert_int_equal(utf8_seq("\xc3(", 2, &cp), 0);
}

static void
test_utf8_check_text(void **state)
{
	const char *why = NULL;

	(void)state;
	assert_int_equal(utf8_check_text("nightly db \xc3\xa9t\xc3\xa9", &why),
	    0);
	assert_int_equal(utf8_check_text("", &why), 0);
	assert_int_equal(utf8_check_text("a\nb", &why), -1);
	assert_string_equal(why, CONTROL_WHY);
	assert_int_equal(utf8_check_text("\x1b[31mred", &why), -1);
	assert_int_equal(utf8_check_text("tab\there", &why), -1);
	assert_int_equal(utf8_check_text("del\x7f", &why), -1);
	assert_int_equal(utf8_check_text("nel\xc2\x85", &why), -1);
	assert_string_equal(why, CONTROL_WHY);
	/* U+00A0 (no-break space) is past C1 and allowed. */
	assert_int_equal(utf8_check_text("a\xc2\xa0" "b", &why), 0);
	assert_int_equal(utf8_check_text("bad\xff", &why), -1);
	assert_string_equal(why, "is not valid UTF-8");
}

static void
test_utf8_escape(void **state)
{
	char *s;

	(void)state;
	s = utf8_escape("ok \xc3\xa9 \\ done", 0);
	assert_string_equal(s, "ok \xc3\xa9 \\ done");
	free(s);
	s = utf8_escape("a\nb\rc\td\x1b" "e\x07" "f\x7f" "g\xc2\x9bh\xfe", 0);
	assert_string_equal(s,
	    "a\\nb\\rc\\td\\x1be\\x07f\\x7fg\\u009bh\\xfe");
	free(s);
	s = utf8_escape("line 1\nline 2\tx\x1b", UTF8_KEEP_NEWLINE |
	    UTF8_KEEP_TAB);
	assert_string_equal(s, "line 1\nline 2\tx\\x1b");
	free(s);
	/* Growing past the first guess of the size. */
	s = utf8_escape("\x01\x02\x03\x04\x05\x06\x07\x08", 0);
	assert_string_equal(s, "\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08");
	free(s);
}

static void
test_utf8_repair(void **state)
{
	size_t n = 0;
	char *s;

	(void)state;
	assert_null(utf8_repair("fine \xc3\xa9", 7, &n));
	assert_true(utf8_valid("fine \xc3\xa9", 7));
	s = utf8_repair("a\xff" "b\xc3", 4, &n);
	assert_non_null(s);
	assert_string_equal(s, "a\xef\xbf\xbd" "b\xef\xbf\xbd");
	assert_int_equal(n, strlen(s));
	assert_true(utf8_valid(s, n));
	free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_decode),
		cmocka_unit_test(test_utf8_check_text),
		cmocka_unit_test(test_utf8_escape),
		cmocka_unit_test(test_utf8_repair),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
