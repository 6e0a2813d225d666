/*
 * Unit tests for the task log: secret masking (several secrets, overlapping
 * ones, a secret made only of '*', a secret that is a prefix of another),
 * the line cut, timestamps from an injected clock, the debug-only lines,
 * and flushing into a real catalog in a temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "log.h"
#include "tasklog.h"

struct fixture {
	char		 dir[PATH_MAX];
	char		 path[PATH_MAX + 32];
	struct catalog	*cat;
	id_buf		 task;
};

static int64_t fake_now;

/* The injected clock. */
static int64_t
fake_clock(void)
{
	return fake_now;
}

/* A fresh catalog holding one task. */
static int
setup(void **state)
{
	struct fixture *fx;
	struct cat_task t;
	const char *tmp;
	char *err = NULL;

	fx = calloc(1, sizeof *fx);
	assert_non_null(fx);
	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(fx->dir, sizeof fx->dir, "%s/shield-tasklog-XXXXXX", tmp);
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof fx->path, "%s/catalog.db", fx->dir);
	if ((fx->cat = catalog_open(fx->path, &err)) == NULL)
		fail_msg("catalog_open: %s", err);
	memset(&t, 0, sizeof t);
	t.owner = "system";
	snprintf(t.op, sizeof t.op, "backup");
	assert_int_equal(catalog_task_create(fx->cat, &t, 1, fx->task),
	    CAT_OK);
	fake_now = 0;
	*state = fx;
	return 0;
}

/* Close the catalog and remove its files. */
static int
teardown(void **state)
{
	struct fixture *fx = *state;
	char p[PATH_MAX + 64];

	catalog_free(fx->cat);
	snprintf(p, sizeof p, "%s-wal", fx->path);
	unlink(p);
	snprintf(p, sizeof p, "%s-shm", fx->path);
	unlink(p);
	unlink(fx->path);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* The task's stored log, or with debug its debug log; caller frees. */
static char *
stored(struct fixture *fx, int debug)
{
	struct cat_task t;
	char *s;

	assert_int_equal(catalog_task_get(fx->cat, fx->task, &t), CAT_OK);
	s = strdup(debug ? t.debug : t.log);
	assert_non_null(s);
	cat_task_clear(&t);
	return s;
}

/* Mask a copy of line and compare. */
static void
check_mask(const char *line, const char *const *secrets, size_t n,
    const char *want)
{
	char *s = strdup(line);

	assert_non_null(s);
	/* A masking loop that never ends fails the test instead of hanging. */
	alarm(10);
	tasklog_mask(s, secrets, n);
	alarm(0);
	assert_string_equal(s, want);
	free(s);
}

/* One secret, wherever and however often it appears. */
static void
test_tasklog_mask_one(void **state)
{
	const char *s[] = { "hunter22" };

	(void)state;
	check_mask("login pw=hunter22 ok", s, 1, "login pw=******** ok");
	check_mask("hunter22hunter22 and hunter22", s, 1,
	    "**************** and ********");
	check_mask("nothing to hide", s, 1, "nothing to hide");
	check_mask("hunter2 is not it", s, 1, "hunter2 is not it");
	check_mask("", s, 1, "");
	check_mask("no secrets given", NULL, 0, "no secrets given");
}

/* Several secrets are all masked, in any order. */
static void
test_tasklog_mask_several(void **state)
{
	const char *s[] = { "s3cr3t-key", "AKIA1234", "tok_abc" };

	(void)state;
	check_mask("id AKIA1234 key s3cr3t-key token tok_abc", s, 3,
	    "id ******** key ********** token *******");
}

/* Occurrences of two secrets that overlap are masked as a whole. */
static void
test_tasklog_mask_overlapping(void **state)
{
	const char *s[] = { "abcd", "cdef" };
	const char *r[] = { "cdef", "abcd" };
	const char *same[] = { "aba" };

	(void)state;
	check_mask("xabcdefx", s, 2, "x******x");
	check_mask("xabcdefx", r, 2, "x******x");
	/* One secret overlapping itself: searching on from a match's end. */
	check_mask("ababa", same, 1, "***ba");
	check_mask("abaaba", same, 1, "******");
}

/* A secret made only of '*' ends (it used to loop forever). */
static void
test_tasklog_mask_only_stars(void **state)
{
	const char *s[] = { "********" };
	const char *two[] = { "****", "pw" };

	(void)state;
	check_mask("password ******** set", s, 1, "password ******** set");
	check_mask("****************", s, 1, "****************");
	check_mask("*******", s, 1, "*******");
	check_mask("pw ******** ok", two, 2, "** ******** ok");
}

/* A secret that is a prefix of another does not leave the longer one's
 * tail in clear, whichever comes first. */
static void
test_tasklog_mask_prefix(void **state)
{
	const char *s[] = { "pass", "password1" };
	const char *r[] = { "password1", "pass" };

	(void)state;
	check_mask("a password1 b pass c", s, 2, "a ********* b **** c");
	check_mask("a password1 b pass c", r, 2, "a ********* b **** c");
}

/* Lines are stamped by the injected clock and named by who said them. */
static void
test_tasklog_timestamps(void **state)
{
	struct fixture *fx = *state;
	struct tasklog *tl;
	char *log;

	tl = tasklog_new(fx->cat, fx->task, fake_clock);
	fake_now = 86400 + 3600 + 60 + 1;
	tasklog_line(tl, 0, "fs", "first");
	fake_now = 1767323045;		/* 2026-01-02 03:04:05 */
	tasklog_line(tl, 0, "shieldd", "second");
	assert_int_equal(tasklog_flush(tl), 0);
	log = stored(fx, 0);
	assert_string_equal(log, "1970-01-02 01:01:01 [fs] first\n"
	    "2026-01-02 03:04:05 [shieldd] second\n");
	free(log);
	tasklog_free(tl);
}

/* Secrets given to the log are masked in what it stores, not elsewhere. */
static void
test_tasklog_masks_stored_lines(void **state)
{
	struct fixture *fx = *state;
	struct tasklog *tl;
	char *log, *debug;

	tl = tasklog_new(fx->cat, fx->task, fake_clock);
	tasklog_secret(tl, "********");
	tasklog_secret(tl, "hunter22");
	tasklog_secret(tl, "hunter22");
	tasklog_secret(tl, "");
	tasklog_line(tl, 0, "pg", "connecting with hunter22 / ********");
	tasklog_line(tl, 1, "shieldd", "debug hunter22");
	assert_int_equal(tasklog_flush(tl), 0);
	log = stored(fx, 0);
	debug = stored(fx, 1);
	assert_string_equal(log, "1970-01-01 00:00:00 [pg] connecting with "
	    "******** / ********\n");
	assert_string_equal(debug, "1970-01-01 00:00:00 [pg] connecting with "
	    "******** / ********\n"
	    "1970-01-01 00:00:00 [shieldd] debug ********\n");
	free(log);
	free(debug);
	tasklog_free(tl);
}

/* Long lines are cut at TASKLOG_LINE_MAX bytes, never inside a UTF-8
 * character, and a secret cut in two is masked in the part kept. */
static void
test_tasklog_line_cut(void **state)
{
	struct fixture *fx = *state;
	struct tasklog *tl;
	char *line, *log, *body;
	const char *prefix = "1970-01-01 00:00:00 [fs] ";
	size_t plen = strlen(prefix);

	line = malloc(TASKLOG_LINE_MAX * 2);
	assert_non_null(line);
	tl = tasklog_new(fx->cat, fx->task, fake_clock);
	tasklog_secret(tl, "secret99");

	/* 1: plain ASCII, far too long. */
	memset(line, 'a', TASKLOG_LINE_MAX + 100);
	line[TASKLOG_LINE_MAX + 100] = '\0';
	tasklog_line(tl, 0, "fs", line);
	/* 2: a two-byte character across the limit. */
	memset(line, 'b', TASKLOG_LINE_MAX - 1);
	memcpy(line + TASKLOG_LINE_MAX - 1, "\xc3\xa9tail", 7);
	tasklog_line(tl, 0, "fs", line);
	/* 3: the secret starts two bytes before the limit. */
	memset(line, 'c', TASKLOG_LINE_MAX - 2);
	strcpy(line + TASKLOG_LINE_MAX - 2, "secret99 and more");
	tasklog_line(tl, 0, "fs", line);
	/* 4: exactly at the limit, untouched. */
	memset(line, 'd', TASKLOG_LINE_MAX);
	line[TASKLOG_LINE_MAX] = '\0';
	tasklog_line(tl, 0, "fs", line);
	assert_int_equal(tasklog_flush(tl), 0);

	log = stored(fx, 0);
	body = log;
	assert_memory_equal(body, prefix, plen);
	body += plen;
	assert_int_equal(strcspn(body, "\n"), TASKLOG_LINE_MAX);
	assert_int_equal(strspn(body, "a"), TASKLOG_LINE_MAX);
	body += TASKLOG_LINE_MAX + 1 + plen;
	assert_int_equal(strcspn(body, "\n"), TASKLOG_LINE_MAX - 1);
	assert_int_equal(strspn(body, "b"), TASKLOG_LINE_MAX - 1);
	body += TASKLOG_LINE_MAX - 1 + 1 + plen;
	assert_int_equal(strcspn(body, "\n"), TASKLOG_LINE_MAX);
	assert_int_equal(strspn(body, "c"), TASKLOG_LINE_MAX - 2);
	assert_memory_equal(body + TASKLOG_LINE_MAX - 2, "**\n", 3);
	body += TASKLOG_LINE_MAX + 1 + plen;
	assert_int_equal(strcspn(body, "\n"), TASKLOG_LINE_MAX);
	assert_int_equal(strspn(body, "d"), TASKLOG_LINE_MAX);
	assert_string_equal(body + TASKLOG_LINE_MAX, "\n");
	free(log);
	free(line);
	tasklog_free(tl);
}

/* Each flush appends what came since the last; nothing new writes
 * nothing; a task that does not exist is an error. */
static void
test_tasklog_flush_appends(void **state)
{
	struct fixture *fx = *state;
	struct tasklog *tl;
	id_buf other;
	char *log;

	tl = tasklog_new(fx->cat, fx->task, fake_clock);
	assert_int_equal(tasklog_flush(tl), 0);
	tasklog_line(tl, 0, "a", "one");
	assert_int_equal(tasklog_flush(tl), 0);
	assert_int_equal(tasklog_flush(tl), 0);
	tasklog_line(tl, 1, "a", "hidden");
	tasklog_line(tl, 0, "b", "two");
	assert_int_equal(tasklog_flush(tl), 0);
	log = stored(fx, 0);
	assert_string_equal(log, "1970-01-01 00:00:00 [a] one\n"
	    "1970-01-01 00:00:00 [b] two\n");
	free(log);
	log = stored(fx, 1);
	assert_string_equal(log, "1970-01-01 00:00:00 [a] one\n"
	    "1970-01-01 00:00:00 [a] hidden\n"
	    "1970-01-01 00:00:00 [b] two\n");
	free(log);
	tasklog_free(tl);

	id_new(other);
	tl = tasklog_new(fx->cat, other, fake_clock);
	tasklog_line(tl, 0, "a", "lost");
	assert_int_equal(tasklog_flush(tl), -1);
	tasklog_free(tl);
	tasklog_free(NULL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tasklog_mask_one),
		cmocka_unit_test(test_tasklog_mask_several),
		cmocka_unit_test(test_tasklog_mask_overlapping),
		cmocka_unit_test(test_tasklog_mask_only_stars),
		cmocka_unit_test(test_tasklog_mask_prefix),
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_tasklog_timestamps),
		T(test_tasklog_masks_stored_lines),
		T(test_tasklog_line_cut),
		T(test_tasklog_flush_appends),
#undef T
	};

	log_init(LOG_LEVEL_WARN, "test_tasklog");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
