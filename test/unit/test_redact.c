/*
 * Unit tests for hiding secrets in text: both ways of showing what is
 * hidden, occurrences that overlap (one secret with itself, or two secrets),
 * a text cut inside a secret, secrets made only of '*', empty secrets, and
 * text that is not a C string.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "redact.h"

/* Hide in the whole of text and compare, checking the length given back. */
static void
check(const char *text, const char *const *secrets, size_t n, int flags,
    const char *want)
{
	size_t len = 1234;
	char *out;

	/* A search that never moves on fails the test instead of hanging. */
	alarm(10);
	out = redact_text(text, strlen(text), secrets, n, flags, &len);
	alarm(0);
	assert_string_equal(out, want);
	assert_int_equal(len, strlen(want));
	free(out);
}

/* As many '*' as hidden bytes: the text keeps its length. */
static void
test_redact_stars(void **state)
{
	const char *s[] = { "hunter22", "tok_abc" };

	(void)state;
	check("pw=hunter22 token tok_abc hunter22", s, 2, 0,
	    "pw=******** token ******* ********");
	check("nothing to hide", s, 2, 0, "nothing to hide");
	check("no secrets given", NULL, 0, 0, "no secrets given");
	check("", s, 2, 0, "");
}

/* One REDACT_TEXT a hidden stretch, however long the secrets. */
static void
test_redact_fixed(void **state)
{
	const char *s[] = { "pw1", "a-much-longer-secret" };

	(void)state;
	check("pw1 and a-much-longer-secret", s, 2, REDACT_FIXED,
	    REDACT_TEXT " and " REDACT_TEXT);
	/* Adjacent occurrences are one stretch. */
	check("pw1pw1 x", s, 2, REDACT_FIXED, REDACT_TEXT " x");
}

/* A secret overlapping itself: found again only with REDACT_OVERLAP. */
static void
test_redact_overlap(void **state)
{
	const char *same[] = { "aba" };
	const char *two[] = { "abcd", "cdef" };

	(void)state;
	check("ababa", same, 1, 0, "***ba");
	check("ababa", same, 1, REDACT_OVERLAP, "*****");
	check("ababa", same, 1, REDACT_FIXED, REDACT_TEXT "ba");
	check("ababa", same, 1, REDACT_FIXED | REDACT_OVERLAP, REDACT_TEXT);
	/* Two secrets are each found in the text as given. */
	check("xabcdefx", two, 2, 0, "x******x");
	check("xabcdefx", two, 2, REDACT_FIXED, "x" REDACT_TEXT "x");
}

/* A text cut inside a secret shows none of the part it kept. */
static void
test_redact_cut(void **state)
{
	const char *s[] = { "hunter22", "pass" };

	(void)state;
	check("pw=hunte", s, 2, REDACT_CUT, "pw=*****");
	check("pw=hunte", s, 2, REDACT_CUT | REDACT_FIXED, "pw=" REDACT_TEXT);
	check("pw=hunte", s, 2, 0, "pw=hunte");
	/* The longest start is hidden, a whole secret is not a start. */
	check("x pas", s, 2, REDACT_CUT, "x ***");
	check("x hunter2", s, 2, REDACT_CUT, "x *******");
}

/* Secrets made of the mask's own character, and empty ones, end. */
static void
test_redact_only_stars(void **state)
{
	const char *s[] = { "********", "", "**" };

	(void)state;
	check("pw ******** and ***", s, 3, 0, "pw ******** and ***");
	check("pw ********** end", s, 3, REDACT_FIXED | REDACT_OVERLAP,
	    "pw " REDACT_TEXT " end");
	check("****", s, 3, REDACT_CUT | REDACT_OVERLAP, "****");
}

/* Only len bytes are read, NUL bytes among them. */
static void
test_redact_len(void **state)
{
	const char *s[] = { "pw1" };
	size_t len;
	char *out;

	(void)state;
	out = redact_text("pw1\0pw1 more", 7, s, 1, 0, &len);
	assert_int_equal(len, 7);
	assert_memory_equal(out, "***\0***", 8);
	free(out);
	out = redact_text("pw1 and more", 3, s, 1, REDACT_FIXED, NULL);
	assert_string_equal(out, REDACT_TEXT);
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_redact_stars),
		cmocka_unit_test(test_redact_fixed),
		cmocka_unit_test(test_redact_overlap),
		cmocka_unit_test(test_redact_cut),
		cmocka_unit_test(test_redact_only_stars),
		cmocka_unit_test(test_redact_len),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
