/*
 * The login rate limit's table (api/throttle.c) with a clock the test
 * moves: five failures lock a name for a minute whatever happens next,
 * failures older than the window do not count, a success forgets them,
 * attempts in progress count, and a flood of other names neither grows the
 * table nor frees a locked name.  Also the password-hash worker pool
 * (api/pwhash.c) on a real event loop: results come back on the loop, and
 * a full queue refuses at once.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <event2/event.h>

#include "pwhash.h"
#include "throttle.h"

/* Fail n admitted attempts for name at now. */
static void
fail_n(struct throttle *t, const char *name, int64_t now, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		assert_int_equal(throttle_admit(t, name, now), 0);
		throttle_done(t, name, now, THROTTLE_FAILED);
	}
}

static void
test_throttle_locks_after_five(void **state)
{
	struct throttle *t = throttle_new(16);

	(void)state;
	fail_n(t, "admin", 1000, THROTTLE_FAILS);
	assert_int_equal(throttle_admit(t, "admin", 1000), THROTTLE_LOCKOUT);
	assert_int_equal(throttle_admit(t, "admin", 1030), 30);
	/* Another name is not affected. */
	assert_int_equal(throttle_admit(t, "other", 1030), 0);
	throttle_done(t, "other", 1030, THROTTLE_OK);
	/* The lock ends after a minute, with a clean slate. */
	assert_int_equal(throttle_admit(t, "admin", 1000 + THROTTLE_LOCKOUT),
	    0);
	throttle_done(t, "admin", 1000 + THROTTLE_LOCKOUT, THROTTLE_FAILED);
	assert_int_equal(throttle_admit(t, "admin", 1061), 0);
	throttle_done(t, "admin", 1061, THROTTLE_OK);
	throttle_free(t);
}

static void
test_throttle_window_slides(void **state)
{
	struct throttle *t = throttle_new(16);

	(void)state;
	fail_n(t, "u", 0, 4);
	/* 60 s later the first four have left the window. */
	fail_n(t, "u", THROTTLE_WINDOW, 4);
	assert_int_equal(throttle_admit(t, "u", THROTTLE_WINDOW), 0);
	throttle_done(t, "u", THROTTLE_WINDOW, THROTTLE_FAILED);
	assert_true(throttle_admit(t, "u", THROTTLE_WINDOW + 1) > 1);
	throttle_free(t);
}

static void
test_throttle_success_forgets(void **state)
{
	struct throttle *t = throttle_new(16);

	(void)state;
	fail_n(t, "u", 10, 4);
	assert_int_equal(throttle_admit(t, "u", 10), 0);
	throttle_done(t, "u", 10, THROTTLE_OK);
	fail_n(t, "u", 11, 4);
	/* A dropped attempt (queue full) neither fails nor forgets. */
	assert_int_equal(throttle_admit(t, "u", 11), 0);
	throttle_done(t, "u", 11, THROTTLE_DROPPED);
	assert_int_equal(throttle_admit(t, "u", 11), 0);
	throttle_done(t, "u", 11, THROTTLE_FAILED);
	assert_int_equal(throttle_admit(t, "u", 12), 59);
	throttle_free(t);
}

static void
test_throttle_pending_counts(void **state)
{
	struct throttle *t = throttle_new(16);
	int i;

	(void)state;
	for (i = 0; i < THROTTLE_FAILS; i++)
		assert_int_equal(throttle_admit(t, "u", 5), 0);
	/* Five checks in progress: the sixth waits. */
	assert_int_equal(throttle_admit(t, "u", 5), 1);
	for (i = 0; i < THROTTLE_FAILS; i++)
		throttle_done(t, "u", 5, THROTTLE_FAILED);
	assert_int_equal(throttle_admit(t, "u", 5), THROTTLE_LOCKOUT);
	throttle_free(t);
}

static void
test_throttle_bounded(void **state)
{
	struct throttle *t = throttle_new(64);
	char name[32];
	int i;

	(void)state;
	fail_n(t, "victim", 100, THROTTLE_FAILS);
	fail_n(t, "almost", 100, THROTTLE_FAILS - 1);
	/* Ten thousand other names, each failing once. */
	for (i = 0; i < 10000; i++) {
		snprintf(name, sizeof name, "junk-%d", i);
		fail_n(t, name, 101, 1);
	}
	assert_true(throttle_used(t, 101) <= 64);
	/* The locked name stays locked; the one with four failures is kept
	 * over names with one. */
	assert_int_equal(throttle_admit(t, "victim", 101),
	    THROTTLE_LOCKOUT - 1);
	assert_int_equal(throttle_admit(t, "almost", 101), 0);
	throttle_done(t, "almost", 101, THROTTLE_FAILED);
	assert_true(throttle_admit(t, "almost", 101) > 1);
	/* Everything is forgotten once the window and the lock are over. */
	assert_int_equal(throttle_used(t, 100 + THROTTLE_LOCKOUT + 2), 0);
	throttle_free(t);
}

struct pool_result {
	int	 calls;
	int	 ok;
	char	*hash;
};

/* A pwhash callback: note the result. */
static void
pool_cb(int ok, char *hash, void *arg)
{
	struct pool_result *res = arg;

	res->calls++;
	res->ok = ok;
	free(res->hash);
	res->hash = hash;
}

static void
test_throttle_pwhash_pool(void **state)
{
	struct pool_result made = { 0, 0, NULL }, good = { 0, 0, NULL };
	struct pool_result bad = { 0, 0, NULL }, extra = { 0, 0, NULL };
	struct event_base *base = event_base_new();
	struct pwhash *p = pwhash_new(base, 1, 2);

	(void)state;
	assert_non_null(p);
	assert_int_equal(pwhash_hash(p, "s3cret", pool_cb, &made), 0);
	while (made.calls == 0)
		event_base_loop(base, EVLOOP_ONCE);
	assert_int_equal(made.ok, 1);
	assert_non_null(made.hash);
	assert_int_equal(pwhash_outstanding(p), 0);

	assert_int_equal(pwhash_verify(p, made.hash, "s3cret", pool_cb,
	    &good), 0);
	assert_int_equal(pwhash_verify(p, made.hash, "wrong", pool_cb, &bad),
	    0);
	/* Two outstanding is the limit: the third is refused at once. */
	assert_int_equal(pwhash_verify(p, made.hash, "x", pool_cb, &extra),
	    -1);
	/* Nothing is called back before the loop runs. */
	assert_int_equal(good.calls + bad.calls, 0);
	while (good.calls == 0 || bad.calls == 0)
		event_base_loop(base, EVLOOP_ONCE);
	assert_int_equal(good.ok, 1);
	assert_int_equal(bad.ok, 0);
	assert_int_equal(extra.calls, 0);

	/* Freed with a job outstanding: no callback, no leak. */
	assert_int_equal(pwhash_verify(p, made.hash, "s3cret", pool_cb,
	    &extra), 0);
	pwhash_free(p);
	assert_int_equal(extra.calls, 0);
	free(made.hash);
	event_base_free(base);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_throttle_locks_after_five),
		cmocka_unit_test(test_throttle_window_slides),
		cmocka_unit_test(test_throttle_success_forgets),
		cmocka_unit_test(test_throttle_pending_counts),
		cmocka_unit_test(test_throttle_bounded),
		cmocka_unit_test(test_throttle_pwhash_pool),
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
