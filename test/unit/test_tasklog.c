/*
 * Unit tests for the task log: secret masking (several secrets, overlapping
 * ones, a secret made only of '*', a secret that is a prefix of another),
 * the line cut, timestamps from an injected clock, the debug-only lines,
 * flushing into a real catalog in a temporary directory, and the cap on a
 * long log (its head and tail kept, the cut said).
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
	t.type = CAT_TASK_BACKUP;
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
	char *s = NULL;

	assert_int_equal(catalog_task_log(fx->cat, fx->task, debug, 0, &s,
	    NULL), CAT_OK);
	assert_non_null(s);
	return s;
}

/* How many lines a text has. */
static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += *s == '\n';
	return n;
}

/* The text of line i (from 0) of s, without its newline; caller frees. */
static char *
nth_line(const char *s, size_t i)
{
	const char *nl;

	while (i-- > 0) {
		assert_non_null(s = strchr(s, '\n'));
		s++;
	}
	nl = strchr(s, '\n');
	return strndup(s, nl != NULL ? (size_t)(nl - s) : strlen(s));
}

/* Check that line i of s is want. */
static void
assert_line(const char *s, size_t i, const char *want)
{
	char *l = nth_line(s, i);

	assert_string_equal(l, want);
	free(l);
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

/* Write total numbered lines (a debug-only one after every tick-th when
 * tick is not 0), flushing now and then, and a last one. */
static void
write_many(struct fixture *fx, int total, int tick)
{
	struct tasklog *tl;
	char line[64];
	int i;

	tl = tasklog_new(fx->cat, fx->task, fake_clock);
	for (i = 1; i <= total; i++) {
		snprintf(line, sizeof line, "line %d", i);
		tasklog_line(tl, 0, "noisy", line);
		if (tick != 0 && i % tick == 0)
			tasklog_line(tl, 1, "shieldd", "tick");
		if (i % 777 == 0)
			assert_int_equal(tasklog_flush(tl), 0);
	}
	tasklog_line(tl, 0, "shieldd", "backup done");
	assert_int_equal(tasklog_flush(tl), 0);
	assert_int_equal(tasklog_flush(tl), 0);
	tasklog_free(tl);
}

/*
 * A long log keeps its first CAT_LOG_HEAD_LINES and last CAT_LOG_TAIL_LINES
 * lines and says how many it cut, whatever the flushes in between;
 * following from a line number works across the cut.
 */
static void
test_tasklog_cap_lines(void **state)
{
	struct fixture *fx = *state;
	char *log;
	int64_t lines;

	write_many(fx, 11000, 0);
	log = stored(fx, 0);
	assert_int_equal(count_lines(log),
	    CAT_LOG_HEAD_LINES + 1 + CAT_LOG_TAIL_LINES);
	assert_line(log, 0, "1970-01-01 00:00:00 [noisy] line 1");
	assert_line(log, 999, "1970-01-01 00:00:00 [noisy] line 1000");
	assert_line(log, 1000, "... 6001 lines cut ...");
	assert_line(log, 1001, "1970-01-01 00:00:00 [noisy] line 7002");
	assert_line(log, 5000, "1970-01-01 00:00:00 [shieldd] backup done");
	free(log);

	/* Following: from inside the head, from inside the cut, the end. */
	assert_int_equal(catalog_task_log(fx->cat, fx->task, 0, 990, &log,
	    &lines), CAT_OK);
	assert_int_equal(lines, 11001);
	assert_int_equal(count_lines(log), 10 + 1 + 4000);
	assert_line(log, 0, "1970-01-01 00:00:00 [noisy] line 991");
	assert_line(log, 10, "... 6001 lines cut ...");
	free(log);
	assert_int_equal(catalog_task_log(fx->cat, fx->task, 0, 5000, &log,
	    NULL), CAT_OK);
	assert_int_equal(count_lines(log), 1 + 4000);
	assert_line(log, 0, "... 2001 lines cut ...");
	assert_line(log, 1, "1970-01-01 00:00:00 [noisy] line 7002");
	free(log);
	assert_int_equal(catalog_task_log(fx->cat, fx->task, 0, 11001, &log,
	    NULL), CAT_OK);
	assert_string_equal(log, "");
	free(log);
}

/*
 * The limits count every line, as the debug log holds them; the task log
 * says how many of its own lines were cut.  With a debug-only line after
 * every 10th of 11,000 (12,101 lines), the first 1,000 end with line 910
 * and the last 4,000 start with line 7366.
 */
static void
test_tasklog_cap_debug_lines(void **state)
{
	struct fixture *fx = *state;
	char *log;
	int64_t lines;

	write_many(fx, 11000, 10);
	log = stored(fx, 1);
	assert_int_equal(count_lines(log),
	    CAT_LOG_HEAD_LINES + 1 + CAT_LOG_TAIL_LINES);
	assert_line(log, 1000, "... 7101 lines cut ...");
	free(log);
	log = stored(fx, 0);
	assert_int_equal(count_lines(log), 4547);
	assert_line(log, 909, "1970-01-01 00:00:00 [noisy] line 910");
	assert_line(log, 910, "... 6455 lines cut ...");
	assert_line(log, 911, "1970-01-01 00:00:00 [noisy] line 7366");
	assert_line(log, 4546, "1970-01-01 00:00:00 [shieldd] backup done");
	free(log);
	assert_int_equal(catalog_task_log(fx->cat, fx->task, 0, 5000, &log,
	    &lines), CAT_OK);
	assert_int_equal(lines, 11001);
	assert_line(log, 0, "... 2365 lines cut ...");
	free(log);
}

/* Long lines meet the byte limits first: the head and the tail hold what
 * fits, and the last line is always kept. */
static void
test_tasklog_cap_bytes(void **state)
{
	struct fixture *fx = *state;
	struct tasklog *tl;
	char *line, *log, *p;
	size_t n, len, head = 0, tail = 0, i, per;
	int cut = 0;

	line = malloc(TASKLOG_LINE_MAX + 1);
	assert_non_null(line);
	memset(line, 'x', TASKLOG_LINE_MAX);
	line[TASKLOG_LINE_MAX] = '\0';
	tl = tasklog_new(fx->cat, fx->task, fake_clock);
	for (i = 0; i < 1000; i++) {
		tasklog_line(tl, 0, "fs", line);
		if (i % 50 == 0)
			assert_int_equal(tasklog_flush(tl), 0);
	}
	assert_int_equal(tasklog_flush(tl), 0);
	tasklog_free(tl);
	free(line);

	log = stored(fx, 0);
	per = strlen("1970-01-01 00:00:00 [fs] ") + TASKLOG_LINE_MAX;
	n = count_lines(log);
	for (i = 0, p = log; i < n; i++) {
		len = strcspn(p, "\n");
		if (strncmp(p, "... ", 4) == 0)
			cut = 1;
		else {
			assert_int_equal(len, per);
			if (cut)
				tail += len;
			else
				head += len;
		}
		p += len + 1;
	}
	assert_true(cut);
	assert_int_equal(head, CAT_LOG_HEAD_BYTES / per * per);
	assert_int_equal(tail, CAT_LOG_TAIL_BYTES / per * per);
	free(log);
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
		T(test_tasklog_cap_lines),
		T(test_tasklog_cap_debug_lines),
		T(test_tasklog_cap_bytes),
#undef T
	};

	log_init(LOG_LEVEL_WARN, "test_tasklog");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
