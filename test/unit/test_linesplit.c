/*
 * Tests for core/linesplit.c: lines and empty lines in order, the last line
 * without a newline, the cut of an over-long line and the skipping of its
 * rest, results that do not depend on how the bytes were chunked, and
 * reading from a real non-blocking pipe.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "linesplit.h"

#define MAXLINES	64

/* What the callback saw: each line as "text" or "text|cut". */
struct rec {
	char	*lines[MAXLINES];
	int	 n;
};

/* Record a line, checking that it is NUL-terminated at len. */
static void
rec_cb(const char *line, size_t len, int cut, void *arg)
{
	struct rec *r = arg;

	assert_int_equal(line[len], '\0');
	assert_int_equal(strlen(line), len);
	assert_true(r->n < MAXLINES);
	assert_true(asprintf(&r->lines[r->n], "%s%s", line,
	    cut ? "|cut" : "") != -1);
	r->n++;
}

/* Free what a rec holds. */
static void
rec_clear(struct rec *r)
{
	int i;

	for (i = 0; i < r->n; i++)
		free(r->lines[i]);
	memset(r, 0, sizeof *r);
}

/* Feed s in pieces of step bytes (0: all at once), then flush. */
static void
split(struct rec *r, size_t max, const char *s, size_t step)
{
	struct linesplit *ls;
	size_t len = strlen(s), n;

	ls = linesplit_new(max, rec_cb, r);
	if (step == 0)
		step = len;
	while (len > 0) {
		n = len < step ? len : step;
		linesplit_feed(ls, s, n);
		s += n;
		len -= n;
	}
	linesplit_flush(ls);
	linesplit_free(ls);
}

/*
 * Split s (max bytes a line, all at once) and check the lines, given as a
 * NULL-terminated list.
 */
static void
expect_lines(size_t max, const char *s, ...)
{
	struct rec r;
	const char *want;
	va_list ap;
	int i = 0;

	memset(&r, 0, sizeof r);
	split(&r, max, s, 0);
	va_start(ap, s);
	while ((want = va_arg(ap, const char *)) != NULL) {
		assert_true(i < r.n);
		assert_string_equal(r.lines[i], want);
		i++;
	}
	va_end(ap);
	assert_int_equal(r.n, i);
	rec_clear(&r);
}

/* Lines come in order, empty ones too; the last needs no newline. */
static void
test_linesplit_lines(void **state)
{
	expect_lines(8192, "one\ntwo  spaced\n\nlast", "one", "two  spaced",
	    "", "last", NULL);
	/* A trailing newline makes no extra line; nothing makes none. */
	expect_lines(8192, "a\nb\n", "a", "b", NULL);
	expect_lines(8192, "", NULL);
}

/*
 * A line of max bytes or more is cut to max bytes and its rest dropped up
 * to the newline; the next line is whole.
 */
static void
test_linesplit_cut(void **state)
{
	expect_lines(8, "abcdefghijklmnopqrstuvwxyz\nnext\n", "abcdefgh|cut",
	    "next", NULL);
	/* One byte short of max is whole; exactly max counts as cut. */
	expect_lines(8, "1234567\n12345678\nafter", "1234567",
	    "12345678|cut", "after", NULL);
	/* The dropped rest of the last line is not a line at the end. */
	expect_lines(8, "first\nabcdefghijklmnop", "first", "abcdefgh|cut",
	    NULL);
	/* Many buffers' worth of one line: still one cut line. */
	expect_lines(8, "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\ny",
	    "xxxxxxxx|cut", "y", NULL);
}

/* However the stream is chunked, the lines are the same. */
static void
test_linesplit_chunking(void **state)
{
	const char *s = "short\n\nabcdefghijklmnopqrstuvwxyz\n12345678\n"
	    "1234567\nmiddle line\nzzzzzzzzzzzzzzzzz";
	struct rec whole, r;
	size_t step;
	int i;

	memset(&whole, 0, sizeof whole);
	memset(&r, 0, sizeof r);
	split(&whole, 8, s, 0);
	assert_int_equal(whole.n, 7);
	for (step = 1; step <= 20; step++) {
		split(&r, 8, s, step);
		assert_int_equal(r.n, whole.n);
		for (i = 0; i < r.n; i++)
			assert_string_equal(r.lines[i], whole.lines[i]);
		rec_clear(&r);
	}
	rec_clear(&whole);
}

/* Reading a pipe: data is split, EAGAIN waits, EOF flushes the last line. */
static void
test_linesplit_read(void **state)
{
	struct linesplit *ls;
	struct rec r;
	int p[2];
	ssize_t n;

	memset(&r, 0, sizeof r);
	assert_int_equal(pipe2(p, O_NONBLOCK), 0);
	ls = linesplit_new(8192, rec_cb, &r);
	assert_int_equal(write(p[1], "hello\nwor", 9), 9);
	n = linesplit_read(ls, p[0]);
	assert_int_equal(n, 9);
	assert_int_equal(r.n, 1);
	assert_string_equal(r.lines[0], "hello");

	/* Nothing to read yet: the unfinished line waits. */
	n = linesplit_read(ls, p[0]);
	assert_int_equal(n, -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(r.n, 1);

	assert_int_equal(write(p[1], "ld", 2), 2);
	close(p[1]);
	assert_int_equal(linesplit_read(ls, p[0]), 2);
	assert_int_equal(r.n, 1);
	assert_int_equal(linesplit_read(ls, p[0]), 0);
	assert_int_equal(r.n, 2);
	assert_string_equal(r.lines[1], "world");
	close(p[0]);
	linesplit_free(ls);
	linesplit_free(NULL);
	rec_clear(&r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linesplit_lines),
		cmocka_unit_test(test_linesplit_cut),
		cmocka_unit_test(test_linesplit_chunking),
		cmocka_unit_test(test_linesplit_read),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
