/*
 * The daemon's log (core/base/log.c) with stderr sent to a temp file: a value
 * logged with %s that holds a newline, an escape sequence, a bell, DEL, a
 * C1 character or invalid UTF-8 comes out escaped on the message's one
 * line, so it cannot forge a line or drive a terminal; ordinary text,
 * accents included, is unchanged.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

/* Run the log calls of fn with stderr in a file; return what was written. */
static char *
capture(void (*fn)(void))
{
	char path[] = "/tmp/test_log.XXXXXX", *buf;
	int fd, saved;
	long n;
	FILE *f;

	fd = mkstemp(path);
	assert_true(fd != -1);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(dup2(fd, STDERR_FILENO) != -1);
	fn();
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) != -1);
	close(saved);
	close(fd);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = calloc(1, (size_t)n + 1);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	unlink(path);
	return buf;
}

/* The text after "[level]: " on the only line of out. */
static const char *
message(const char *out)
{
	const char *p = strstr(out, "]: ");

	assert_non_null(p);
	/* Exactly one line: the only newline is the last byte. */
	assert_ptr_equal(strchr(out, '\n'), out + strlen(out) - 1);
	return p + 3;
}

static void
log_forged(void)
{
	log_warn("failed login for user '%s'",
	    "x'\n2026-01-01 00:00:00 shieldd[info]: user 'admin' logged in");
}

static void
test_log_newline_escaped(void **state)
{
	char *out;

	(void)state;
	out = capture(log_forged);
	assert_string_equal(message(out), "failed login for user 'x'\\n"
	    "2026-01-01 00:00:00 shieldd[info]: user 'admin' logged in'\n");
	free(out);
}

static void
log_controls(void)
{
	log_info("%s", "a\x1b[2Jb\x07" "c\rd\te\x7f" "f");
}

static void
test_log_controls_escaped(void **state)
{
	char *out;

	(void)state;
	out = capture(log_controls);
	assert_string_equal(message(out),
	    "a\\x1b[2Jb\\x07c\\rd\\te\\x7ff\n");
	assert_null(strchr(out, '\x1b'));
	free(out);
}

static void
log_bytes(void)
{
	/* U+0085 (NEL) and U+009B (CSI) as UTF-8, a lone 0xff, then é. */
	log_error("name %s", "n\xc2\x85" "x\xc2\x9b" "y\xff" "z\xc3\xa9");
}

static void
test_log_c1_and_invalid_utf8(void **state)
{
	char *out;

	(void)state;
	out = capture(log_bytes);
	assert_string_equal(message(out),
	    "name n\\u0085x\\u009by\\xffz\xc3\xa9\n");
	free(out);
}

static void
log_plain(void)
{
	log_warn("catalog %s: %d task(s) \\ 100%% done", "/tmp/s.db", 3);
}

static void
test_log_plain_unchanged(void **state)
{
	char *out;

	(void)state;
	out = capture(log_plain);
	assert_non_null(strstr(out, "shieldd[warn]: "));
	assert_string_equal(message(out),
	    "catalog /tmp/s.db: 3 task(s) \\ 100% done\n");
	free(out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_log_newline_escaped),
		cmocka_unit_test(test_log_controls_escaped),
		cmocka_unit_test(test_log_c1_and_invalid_utf8),
		cmocka_unit_test(test_log_plain_unchanged),
	};

	log_init(LOG_LEVEL_DEBUG, "shieldd");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
