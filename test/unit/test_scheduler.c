/*
 * The scheduler with an injected clock: runs fire once per slot, missed runs
 * are caught up once, a busy job is skipped visibly, pause and unpause take
 * effect at once, and SHIELD_MODE=DEV fires every minute.  A real catalog,
 * event base and supervisor; no plugins are needed because the tasks the
 * scheduler queues are counted before anything runs them.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "catalog.h"
#include "child.h"
#include "daemon.h"
#include "log.h"
#include "plugins.h"
#include "scheduler.h"
#include "supervisor.h"

/* 2026-03-02 00:00:00 UTC, a Monday. */
#define T0 1772409600LL

static int64_t fake_now;

/* The clock the scheduler reads in these tests. */
static int64_t
fake_clock(void)
{
	return fake_now;
}

struct fixture {
	char		 dir[64];
	char		 db[96];
	struct shieldd	 d;
	id_buf		 job;
};

/* Create a catalog with one unpaused job on the given schedule. */
static void
fixture_job(struct fixture *f, const char *when, int paused)
{
	struct cat_schedule sc = { .name = "s", .summary = "", .when =
	    (char *)when };
	struct cat_retention r = { .name = "r", .summary = "", .expiry = 86400 };
	struct cat_system t = { .name = "t", .summary = "", .plugin = "fs",
	    .endpoint = "{}" };
	struct cat_job j;

	memset(&j, 0, sizeof j);
	j.name = "job";
	j.summary = "";
	j.paused = paused;
	assert_int_equal(catalog_schedule_create(f->d.cat, &sc,
	    j.schedule_uuid), CAT_OK);
	assert_int_equal(catalog_retention_create(f->d.cat, &r,
	    j.retention_uuid), CAT_OK);
	assert_int_equal(catalog_system_create(f->d.cat, CAT_TARGET, &t,
	    j.target_uuid), CAT_OK);
	assert_int_equal(catalog_system_create(f->d.cat, CAT_STORE, &t,
	    j.store_uuid), CAT_OK);
	assert_int_equal(catalog_job_create(f->d.cat, &j, f->job), CAT_OK);
}

/* Bring up the daemon's parts the scheduler needs (not started yet). */
static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char *err = NULL;

	snprintf(f->dir, sizeof f->dir, "/tmp/shield-sched-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof f->db, "%s/c.db", f->dir);
	f->d.cfg.workers = 1;
	f->d.clock = fake_clock;
	f->d.cat = catalog_open(f->db, &err);
	assert_non_null(f->d.cat);
	f->d.base = event_base_new();
	f->d.children = child_set_new(f->d.base);
	f->d.plugins = plugins_new(f->d.children, f->dir);
	f->d.sup = supervisor_new(&f->d);
	f->d.sched = scheduler_new(&f->d);
	fake_now = T0;
	*state = f;
	return 0;
}

/* Tear everything down. */
static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	scheduler_free(f->d.sched);
	supervisor_free(f->d.sup);
	plugins_free(f->d.plugins);
	child_set_free(f->d.children);
	event_base_free(f->d.base);
	catalog_free(f->d.cat);
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* How many tasks of the job have this status ("" for any). */
static size_t
count_tasks(struct fixture *f, const char *status)
{
	struct cat_filter flt;
	struct cat_task *t = NULL;
	size_t n = 0, i, c = 0;

	cat_filter_init(&flt);
	flt.job = f->job;
	assert_int_equal(catalog_tasks(f->d.cat, &flt, 0, &t, &n), CAT_OK);
	for (i = 0; i < n; i++) {
		if (*status == '\0' || strcmp(t[i].status, status) == 0)
			c++;
	}
	cat_tasks_free(t, n);
	return c;
}

/* A run fires once at its slot, not again at the same instant. */
static void
test_scheduler_once_per_slot(void **state)
{
	struct fixture *f = *state;

	fixture_job(f, "every 15 minutes", 0);
	assert_int_equal(scheduler_start(f->d.sched, T0), 0);
	assert_int_equal(scheduler_next_run(f->d.sched, f->job), T0 + 900);
	fake_now = T0 + 899;
	scheduler_tick(f->d.sched);
	assert_int_equal(count_tasks(f, ""), 0);
	fake_now = T0 + 900;
	scheduler_tick(f->d.sched);
	scheduler_tick(f->d.sched);
	assert_int_equal(count_tasks(f, "pending"), 1);
	assert_int_equal(scheduler_next_run(f->d.sched, f->job), T0 + 1800);
}

/* The previous run is still pending at the next slot: skipped, visibly. */
static void
test_scheduler_busy_job_skipped(void **state)
{
	struct fixture *f = *state;

	fixture_job(f, "every 15 minutes", 0);
	assert_int_equal(scheduler_start(f->d.sched, T0), 0);
	fake_now = T0 + 900;
	scheduler_tick(f->d.sched);
	fake_now = T0 + 1800;
	scheduler_tick(f->d.sched);
	assert_int_equal(count_tasks(f, "pending"), 1);
	assert_int_equal(count_tasks(f, "canceled"), 1);
}

/* Three days of missed 15-minute slots: one catch-up run. */
static void
test_scheduler_catch_up_once(void **state)
{
	struct fixture *f = *state;

	fixture_job(f, "every 15 minutes", 0);
	assert_int_equal(catalog_job_set_last_scheduled(f->d.cat, f->job,
	    T0 - 3 * 86400), CAT_OK);
	fake_now = T0 + 60;
	assert_int_equal(scheduler_start(f->d.sched, fake_now), 0);
	assert_int_equal(scheduler_next_run(f->d.sched, f->job), T0 + 60);
	scheduler_tick(f->d.sched);
	assert_int_equal(count_tasks(f, ""), 1);
	assert_int_equal(scheduler_next_run(f->d.sched, f->job), T0 + 900);
}

/* A job that never ran before is not "caught up" at start. */
static void
test_scheduler_new_job_waits(void **state)
{
	struct fixture *f = *state;

	fixture_job(f, "daily at 4am", 0);
	assert_int_equal(scheduler_start(f->d.sched, T0), 0);
	scheduler_tick(f->d.sched);
	assert_int_equal(count_tasks(f, ""), 0);
	assert_true(scheduler_next_run(f->d.sched, f->job) > T0);
}

/* Pause and unpause reach the scheduler at once. */
static void
test_scheduler_pause_unpause(void **state)
{
	struct fixture *f = *state;
	int i;

	fixture_job(f, "every 15 minutes", 1);
	assert_int_equal(scheduler_start(f->d.sched, T0), 0);
	assert_int_equal(scheduler_next_run(f->d.sched, f->job), 0);
	for (i = 1; i <= 8; i++) {
		fake_now = T0 + i * 900;
		scheduler_tick(f->d.sched);
	}
	assert_int_equal(count_tasks(f, ""), 0);
	assert_int_equal(catalog_job_set_paused(f->d.cat, f->job, 0), CAT_OK);
	scheduler_reload_job(f->d.sched, f->job);
	assert_int_equal(scheduler_next_run(f->d.sched, f->job),
	    T0 + 9 * 900);
	fake_now = T0 + 9 * 900;
	scheduler_tick(f->d.sched);
	assert_int_equal(count_tasks(f, ""), 1);
	assert_int_equal(catalog_job_set_paused(f->d.cat, f->job, 1), CAT_OK);
	scheduler_reload_job(f->d.sched, f->job);
	assert_int_equal(scheduler_next_run(f->d.sched, f->job), 0);
}

/* Deleting a job removes it from the heap. */
static void
test_scheduler_delete(void **state)
{
	struct fixture *f = *state;

	fixture_job(f, "hourly at :30", 0);
	assert_int_equal(scheduler_start(f->d.sched, T0), 0);
	assert_int_equal(scheduler_next_run(f->d.sched, f->job), T0 + 1800);
	assert_int_equal(catalog_job_delete(f->d.cat, f->job), CAT_OK);
	scheduler_reload_job(f->d.sched, f->job);
	assert_int_equal(scheduler_next_run(f->d.sched, f->job), 0);
	fake_now = T0 + 1800;
	scheduler_tick(f->d.sched);
	assert_int_equal(count_tasks(f, ""), 0);
}

/* SHIELD_MODE=DEV: every schedule fires at the next minute. */
static void
test_scheduler_dev_mode(void **state)
{
	struct fixture *f = *state;

	f->d.cfg.dev_mode = 1;
	fixture_job(f, "monthly at 3am on 15th", 0);
	fake_now = T0 + 30;
	assert_int_equal(scheduler_start(f->d.sched, fake_now), 0);
	assert_int_equal(scheduler_next_run(f->d.sched, f->job), T0 + 60);
}

/* Many jobs: the heap pops them in time order, each exactly once. */
static void
test_scheduler_many_jobs(void **state)
{
	struct fixture *f = *state;
	struct cat_filter flt;
	struct cat_task *t = NULL;
	char when[32];
	size_t n = 0;
	int i;

	for (i = 0; i < 200; i++) {
		snprintf(when, sizeof when, "hourly at :%02d", i % 60);
		fixture_job(f, when, 0);
	}
	assert_int_equal(scheduler_start(f->d.sched, T0), 0);
	for (i = 1; i <= 60; i++) {
		fake_now = T0 + i * 60;
		scheduler_tick(f->d.sched);
	}
	cat_filter_init(&flt);
	assert_int_equal(catalog_tasks(f->d.cat, &flt, 0, &t, &n), CAT_OK);
	assert_int_equal(n, 200);
	cat_tasks_free(t, n);
}

int
main(void)
{
	log_init(LOG_LEVEL_WARN, "test_scheduler");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_scheduler_once_per_slot,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_scheduler_busy_job_skipped,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_scheduler_catch_up_once,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_scheduler_new_job_waits,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_scheduler_pause_unpause,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_scheduler_delete,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_scheduler_dev_mode,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_scheduler_many_jobs,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
