/*
 * Unit tests of the plugin kit's tool module: temporary files, reading a
 * file's tail, forwarding a tool's stderr (lines, width, masking), running
 * a tool with its stderr captured, and finding a tool's program.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "tool.h"

/* Our stderr, sent to a temporary file while a test watches it. */
struct test_stderr {
	int	saved;
	int	fd;
	char	text[8192];
};

/* Send our stderr to a fresh unlinked file. */
static void
test_stderr_begin(struct test_stderr *ts)
{
	fflush(stderr);
	ts->fd = tool_tmpfile();
	assert_true(ts->fd != -1);
	ts->saved = dup(2);
	assert_true(ts->saved != -1);
	assert_true(dup2(ts->fd, 2) == 2);
}

/* Put our stderr back; what was written to it meanwhile is in ts->text. */
static void
test_stderr_end(struct test_stderr *ts)
{
	fflush(stderr);
	dup2(ts->saved, 2);
	close(ts->saved);
	tool_tail_read(ts->fd, ts->text, sizeof ts->text);
	close(ts->fd);
}

/* Run tool_print_tail() into a string the caller frees. */
static char *
test_print_tail(const char *text, int lines, const char *secret)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp;

	fp = open_memstream(&buf, &len);
	assert_non_null(fp);
	tool_print_tail(fp, text, lines, secret);
	fclose(fp);
	return buf;
}

/* Create dir/name with mode. */
static void
test_file_make(const char *dir, const char *name, mode_t mode)
{
	char path[4096];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd != -1);
	assert_int_equal(write(fd, "#!/bin/sh\n", 10), 10);
	close(fd);
	assert_int_equal(chmod(path, mode), 0);
}

/* Remove dir/name. */
static void
test_file_remove(const char *dir, const char *name)
{
	char path[4096];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	assert_int_equal(unlink(path), 0);
}

/* An unlinked temporary file is private, gone from disk, close-on-exec. */
static void
test_tool_tmpfile(void **state)
{
	struct stat st;
	int fd;

	fd = tool_tmpfile();
	assert_true(fd != -1);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_nlink, 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
}

/* A named temporary file lands under $TMPDIR with the prefix asked for. */
static void
test_tool_tmpfile_path(void **state)
{
	char dir[] = "/tmp/test_tool.XXXXXX", path[4096], prefix[8192];
	struct stat st;
	int fd;

	assert_non_null(mkdtemp(dir));
	setenv("TMPDIR", dir, 1);
	fd = tool_tmpfile_path(path, sizeof path, "shield-test");
	assert_true(fd != -1);
	assert_true(strncmp(path, dir, strlen(dir)) == 0);
	assert_non_null(strstr(path, "/shield-test."));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	unlink(path);
	/* A name that does not fit is refused, not truncated. */
	memset(prefix, 'x', sizeof prefix - 1);
	prefix[sizeof prefix - 1] = '\0';
	assert_int_equal(tool_tmpfile_path(path, sizeof path, prefix), -1);
	assert_int_equal(errno, ENAMETOOLONG);
	rmdir(dir);
	unsetenv("TMPDIR");
}

/* The tail is the file's last bytes, NUL-terminated; empty gives "". */
static void
test_tool_tail_read(void **state)
{
	char buf[5];
	int fd;

	fd = tool_tmpfile();
	assert_true(fd != -1);
	tool_tail_read(fd, buf, sizeof buf);
	assert_string_equal(buf, "");
	assert_int_equal(write(fd, "0123456789", 10), 10);
	tool_tail_read(fd, buf, sizeof buf);
	assert_string_equal(buf, "6789");
	assert_int_equal(ftruncate(fd, 3), 0);
	tool_tail_read(fd, buf, sizeof buf);
	assert_string_equal(buf, "012");
	close(fd);
}

/* Only the last lines are forwarded; a last line gets its newline. */
static void
test_tool_print_tail_lines(void **state)
{
	char text[1024] = "", *out;
	int i;

	for (i = 1; i <= 25; i++)
		snprintf(text + strlen(text), sizeof text - strlen(text),
		    "line %d\n", i);
	out = test_print_tail(text, 20, NULL);
	assert_true(strncmp(out, "line 6\nline 7\n", 14) == 0);
	assert_int_equal(strlen(out), strlen(strstr(text, "line 6\n")));
	free(out);
	out = test_print_tail("one\ntwo\nthree", 2, NULL);
	assert_string_equal(out, "two\nthree\n");
	free(out);
	out = test_print_tail("", 20, NULL);
	assert_string_equal(out, "");
	free(out);
}

/* Long lines are cut at the width, never inside a UTF-8 sequence. */
static void
test_tool_print_tail_width(void **state)
{
	char line[TOOL_TAIL_WIDTH + 64], want[TOOL_TAIL_WIDTH + 8], *out;

	memset(line, 'a', sizeof line - 1);
	line[sizeof line - 1] = '\0';
	memset(want, 'a', TOOL_TAIL_WIDTH);
	strcpy(want + TOOL_TAIL_WIDTH, "...\n");
	out = test_print_tail(line, 20, NULL);
	assert_string_equal(out, want);
	free(out);
	/* "é" (2 bytes) straddles the cut: it goes whole to the next part. */
	memcpy(line + TOOL_TAIL_WIDTH - 1, "\xc3\xa9", 2);
	strcpy(want + TOOL_TAIL_WIDTH - 1, "...\n");
	out = test_print_tail(line, 20, NULL);
	assert_string_equal(out, want);
	free(out);
	/* Exactly the width: not cut. */
	memset(line, 'b', TOOL_TAIL_WIDTH);
	line[TOOL_TAIL_WIDTH] = '\0';
	out = test_print_tail(line, 20, NULL);
	assert_int_equal(strlen(out), TOOL_TAIL_WIDTH + 1);
	assert_null(strstr(out, "..."));
	free(out);
}

/* Every occurrence of the secret is masked, even across the cut. */
static void
test_tool_print_tail_mask(void **state)
{
	char line[TOOL_TAIL_WIDTH + 64], *out;

	out = test_print_tail("pw=hunter22 and hunter22\nno secret\n", 20,
	    "hunter22");
	assert_string_equal(out, "pw=" TOOL_SECRET_MASK " and "
	    TOOL_SECRET_MASK "\nno secret\n");
	free(out);
	/* A very short secret would hide half of every message. */
	out = test_print_tail("ab cab\n", 20, "ab");
	assert_string_equal(out, "ab cab\n");
	free(out);
	out = test_print_tail("plain\n", 20, "");
	assert_string_equal(out, "plain\n");
	free(out);
	/* The cut falls inside the secret: none of it may show. */
	memset(line, 'a', TOOL_TAIL_WIDTH - 2);
	strcpy(line + TOOL_TAIL_WIDTH - 2, "hunter22 and more");
	out = test_print_tail(line, 20, "hunter22");
	assert_null(strstr(out, "hu"));
	assert_non_null(strstr(out, "a" TOOL_SECRET_MASK "...\n"));
	free(out);
}

/* Several secrets, repeated, overlapping or made of one character. */
static void
test_tool_mask(void **state)
{
	const char *const two[] = { "hunter22", "ter22x", NULL };
	const char *const stars[] = { "********", NULL };
	const char *const shorts[] = { "ab", "", NULL };
	const char *const one[] = { "pw1", NULL };
	char *out;

	out = tool_mask("a hunter22 b hunter22x c ter22x", 31, two);
	assert_string_equal(out, "a " TOOL_SECRET_MASK " b " TOOL_SECRET_MASK
	    " c " TOOL_SECRET_MASK);
	free(out);
	/* A secret of the mask's own character is found once, not forever. */
	out = tool_mask("pw=********** end", 17, stars);
	assert_string_equal(out, "pw=" TOOL_SECRET_MASK " end");
	free(out);
	/* Too short to mask: it would hide half of every message. */
	out = tool_mask("ab cab", 6, shorts);
	assert_string_equal(out, "ab cab");
	free(out);
	out = tool_mask("pw1pw1 at the ends pw1", 22, one);
	assert_string_equal(out, TOOL_SECRET_MASK " at the ends "
	    TOOL_SECRET_MASK);
	free(out);
	/* Only len bytes count, and no list at all is no masking. */
	out = tool_mask("pw1 and more", 3, one);
	assert_string_equal(out, TOOL_SECRET_MASK);
	free(out);
	out = tool_mask("plain", 5, NULL);
	assert_string_equal(out, "plain");
	free(out);
}

/* The policies tool_mask() does not use: '*' for each byte, searching on
 * from a match's end, any minimum length. */
static void
test_tool_redact(void **state)
{
	const char *const one[] = { "aba", NULL };
	const char *const shorts[] = { "ab", "", NULL };
	const char *const stars[] = { "**", NULL };
	char *out;

	(void)state;
	alarm(10);
	out = tool_redact("x ababa y", 9, one, 1, 0);
	assert_string_equal(out, "x ***ba y");
	free(out);
	out = tool_redact("x ababa y", 9, one, 1, TOOL_REDACT_OVERLAP);
	assert_string_equal(out, "x ***** y");
	free(out);
	out = tool_redact("x ababa y", 9, one, 1, TOOL_REDACT_FIXED);
	assert_string_equal(out, "x " TOOL_SECRET_MASK "ba y");
	free(out);
	/* The minimum is the caller's; "" is never a secret. */
	out = tool_redact("ab cab", 6, shorts, 1, 0);
	assert_string_equal(out, "** c**");
	free(out);
	out = tool_redact("ab cab", 6, shorts, 3, 0);
	assert_string_equal(out, "ab cab");
	free(out);
	/* A secret of the mask's own character ends, the length kept. */
	out = tool_redact("pw=***** end", 12, stars, 1, 0);
	assert_string_equal(out, "pw=***** end");
	free(out);
	alarm(0);
}

/* Output, captured stderr and the exit status come back apart. */
static void
test_tool_capture_run(void **state)
{
	const char *argv[] = { "/bin/sh", "-c",
	    "echo out; echo 'login as u with hunter22' >&2; exit 3", NULL };
	struct test_stderr ts;
	char err[1024], out[64];
	int ofd, status;

	ofd = tool_tmpfile();
	assert_true(ofd != -1);
	test_stderr_begin(&ts);
	status = tool_capture_run(argv, -1, ofd, "hunter22", err, sizeof err);
	test_stderr_end(&ts);
	assert_int_equal(status, 3);
	assert_string_equal(err, "login as u with hunter22\n");
	assert_string_equal(ts.text, "login as u with " TOOL_SECRET_MASK "\n");
	tool_tail_read(ofd, out, sizeof out);
	assert_string_equal(out, "out\n");
	close(ofd);
	/* The err buffer keeps only the tail of a long stderr. */
	argv[2] = "echo 0123456789 >&2";
	test_stderr_begin(&ts);
	status = tool_capture_run(argv, -1, -1, NULL, err, 5);
	test_stderr_end(&ts);
	assert_int_equal(status, 0);
	assert_string_equal(err, "789\n");
}

/* begin/end by hand: stdin from a pipe, stderr kept after it ends. */
static void
test_tool_capture_begin_end(void **state)
{
	const char *argv[] = { "/bin/sh", "-c", "cat >&2", NULL };
	struct test_stderr ts;
	char err[64];
	int fds[2], efd, status;
	pid_t pid;

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	test_stderr_begin(&ts);
	pid = tool_capture_begin(argv, fds[0], -1, &efd);
	assert_true(pid > 0);
	assert_true(efd > 2);
	close(fds[0]);
	assert_int_equal(tool_write_all(fds[1], "fed\n", 4), 0);
	close(fds[1]);
	status = tool_capture_end(pid, efd, "cat", NULL, err, sizeof err);
	test_stderr_end(&ts);
	assert_int_equal(status, 0);
	assert_string_equal(err, "fed\n");
	assert_string_equal(ts.text, "fed\n");
	/* efd is closed: the descriptor number is free again. */
	assert_int_equal(fcntl(efd, F_GETFD), -1);
}

/* A program that cannot be run, and one killed, are told apart. */
static void
test_tool_not_started(void **state)
{
	const char *missing[] = { "/nonexistent/shield-tool", NULL };
	const char *killed[] = { "/bin/sh", "-c", "kill -TERM $$", NULL };
	struct test_stderr ts;
	char err[1024];
	int status;

	test_stderr_begin(&ts);
	status = tool_capture_run(missing, -1, -1, NULL, err, sizeof err);
	test_stderr_end(&ts);
	assert_int_equal(status, 127);
	assert_true(tool_not_started(status, err));
	assert_non_null(strstr(ts.text, "cannot run /nonexistent/shield-tool"));
	assert_false(tool_not_started(1, err));
	assert_false(tool_not_started(127, ""));

	test_stderr_begin(&ts);
	status = tool_capture_run(killed, -1, -1, NULL, err, sizeof err);
	tool_report_status("sh", status);
	tool_report_status("sh", 2);
	test_stderr_end(&ts);
	assert_int_equal(status, 128 + SIGTERM);
	assert_false(tool_not_started(status, err));
	assert_non_null(strstr(ts.text, ": sh was killed by signal 15\n"));
	assert_non_null(strstr(ts.text, ": sh failed (exit status 2)\n"));
}

/* Writes go through whole; a reader that is gone fails quietly. */
static void
test_tool_write_all(void **state)
{
	struct test_stderr ts;
	char buf[16] = "";
	int fds[2], rc;

	assert_int_equal(pipe(fds), 0);
	assert_int_equal(tool_write_all(fds[1], "hello", 5), 0);
	assert_int_equal(read(fds[0], buf, sizeof buf), 5);
	assert_string_equal(buf, "hello");
	close(fds[0]);
	signal(SIGPIPE, SIG_IGN);
	test_stderr_begin(&ts);
	rc = tool_write_all(fds[1], "again", 5);
	test_stderr_end(&ts);
	signal(SIGPIPE, SIG_DFL);
	assert_int_equal(rc, -1);
	assert_string_equal(ts.text, "");
	close(fds[1]);
}

/* bindir, then PATH, then the newest versioned directory, then the name. */
static void
test_tool_find(void **state)
{
	char top[] = "/tmp/test_tool.XXXXXX", bin[256], empty[256];
	char v9[256], v16[256], pattern[256], want[512], *path;
	char *saved = getenv("PATH") != NULL ? strdup(getenv("PATH")) : NULL;

	assert_non_null(mkdtemp(top));
	snprintf(bin, sizeof bin, "%s/bin", top);
	snprintf(empty, sizeof empty, "%s/empty", top);
	snprintf(v9, sizeof v9, "%s/9", top);
	snprintf(v16, sizeof v16, "%s/16", top);
	snprintf(pattern, sizeof pattern, "%s/[0-9]*", top);
	assert_int_equal(mkdir(bin, 0700), 0);
	assert_int_equal(mkdir(empty, 0700), 0);
	assert_int_equal(mkdir(v9, 0700), 0);
	assert_int_equal(mkdir(v16, 0700), 0);
	test_file_make(bin, "second", 0755);
	test_file_make(bin, "plain", 0644);
	test_file_make(v9, "first", 0755);
	test_file_make(v16, "first", 0755);

	assert_true(tool_in_dir(bin, "second"));
	assert_false(tool_in_dir(bin, "plain"));
	assert_false(tool_in_dir(bin, "first"));

	/* bindir: the first name it has, else the first name. */
	path = tool_find(bin, pattern, "first", "second", NULL);
	snprintf(want, sizeof want, "%s/second", bin);
	assert_string_equal(path, want);
	free(path);
	path = tool_find(bin, pattern, "first", "plain", NULL);
	snprintf(want, sizeof want, "%s/first", bin);
	assert_string_equal(path, want);
	free(path);

	/* PATH wins over the fallback and gives a bare name. */
	setenv("PATH", bin, 1);
	assert_true(tool_in_path("second"));
	assert_false(tool_in_path("first"));
	path = tool_find(NULL, pattern, "first", "second", NULL);
	assert_string_equal(path, "second");
	free(path);

	/* Then the fallback, 16 before 9 (not in text order). */
	setenv("PATH", empty, 1);
	path = tool_find(NULL, pattern, "first", "second", NULL);
	snprintf(want, sizeof want, "%s/first", v16);
	assert_string_equal(path, want);
	free(path);

	/* Found nowhere: the first name, for exec to report. */
	path = tool_find(NULL, NULL, "first", "second", NULL);
	assert_string_equal(path, "first");
	free(path);
	path = tool_find(NULL, pattern, "nowhere", NULL);
	assert_string_equal(path, "nowhere");
	free(path);

	if (saved != NULL)
		setenv("PATH", saved, 1);
	free(saved);
	test_file_remove(bin, "second");
	test_file_remove(bin, "plain");
	test_file_remove(v9, "first");
	test_file_remove(v16, "first");
	rmdir(bin);
	rmdir(empty);
	rmdir(v9);
	rmdir(v16);
	assert_int_equal(rmdir(top), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tool_tmpfile),
		cmocka_unit_test(test_tool_tmpfile_path),
		cmocka_unit_test(test_tool_tail_read),
		cmocka_unit_test(test_tool_print_tail_lines),
		cmocka_unit_test(test_tool_print_tail_width),
		cmocka_unit_test(test_tool_print_tail_mask),
		cmocka_unit_test(test_tool_mask),
		cmocka_unit_test(test_tool_redact),
		cmocka_unit_test(test_tool_capture_run),
		cmocka_unit_test(test_tool_capture_begin_end),
		cmocka_unit_test(test_tool_not_started),
		cmocka_unit_test(test_tool_write_all),
		cmocka_unit_test(test_tool_find),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
