/*
 * The scheduler with an injected clock: runs fire once per slot, missed runs
 * are caught up once, a busy job is skipped visibly, pause and unpause take
 * effect at once, SHIELD_MODE=DEV fires every minute, and expired archives
 * are handed to the purge callback.  The scheduler alone: a real catalog
 * and event base, an injected clock, and callbacks in place of the task
 * engine (a queued backup becomes a pending row, as the engine's would).
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
#include "log.h"
#include "scheduler.h"

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
	char			 dir[64];
	char			 db[96];
	struct catalog		*cat;
	struct event_base	*base;
	struct scheduler	*sched;
	id_buf			 job;
	int			 purges;	/* purge callbacks */
	int			 purging;	/* what "purging?" answers */
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
	assert_int_equal(catalog_schedule_create(f->cat, &sc,
	    j.schedule_uuid), CAT_OK);
	assert_int_equal(catalog_retention_create(f->cat, &r,
	    j.retention_uuid), CAT_OK);
	assert_int_equal(catalog_system_create(f->cat, CAT_TARGET, &t,
	    j.target_uuid), CAT_OK);
	assert_int_equal(catalog_system_create(f->cat, CAT_STORE, &t,
	    j.store_uuid), CAT_OK);
	assert_int_equal(catalog_job_create(f->cat, &j, f->job), CAT_OK);
}

/*
 * The queue-a-backup callback: a pending backup row, as the task engine
 * would insert, so the tests count what the scheduler asked for.
 */
static int
fake_backup(void *arg, const char *job, id_buf out, char **errp)
{
	struct fixture *f = arg;
	struct cat_task t;
	struct cat_job j;

	memset(&j, 0, sizeof j);
	if (catalog_job_get(f->cat, job, &j) != CAT_OK) {
		*errp = strdup("no such job");
		return -1;
	}
	memset(&t, 0, sizeof t);
	t.owner = "system";
	t.type = CAT_TASK_BACKUP;
	memcpy(t.job_uuid, j.uuid, sizeof t.job_uuid);
	memcpy(t.target_uuid, j.target_uuid, sizeof t.target_uuid);
	memcpy(t.store_uuid, j.store_uuid, sizeof t.store_uuid);
	cat_job_clear(&j);
	assert_int_equal(catalog_task_create(f->cat, &t, fake_now, out),
	    CAT_OK);
	return 0;
}

/* The queue-a-purge callback: counted. */
static int
fake_purge(void *arg, const char *archive, char **errp)
{
	struct fixture *f = arg;

	(void)archive;
	(void)errp;
	f->purges++;
	return 0;
}

/* Whether a purge of the archive runs: as the test says. */
static int
fake_purging(void *arg, const char *archive)
{
	struct fixture *f = arg;

	(void)archive;
	return f->purging;
}

/* A scheduler alone: a catalog, an event base, a clock and callbacks. */
static void
fixture_scheduler(struct fixture *f, int dev_mode)
{
	struct scheduler_env env;

	memset(&env, 0, sizeof env);
	env.base = f->base;
	env.cat = f->cat;
	env.now = fake_clock;
	env.dev_mode = dev_mode;
	env.backup = fake_backup;
	env.purge = fake_purge;
	env.purging = fake_purging;
	env.arg = f;
	scheduler_free(f->sched);
	f->sched = scheduler_new(&env);
}

/* A catalog and a scheduler (not started yet). */
static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char *err = NULL;

	snprintf(f->dir, sizeof f->dir, "/tmp/shield-sched-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof f->db, "%s/c.db", f->dir);
	f->cat = catalog_open(f->db, &err);
	assert_non_null(f->cat);
	f->base = event_base_new();
	fixture_scheduler(f, 0);
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

	scheduler_free(f->sched);
	event_base_free(f->base);
	catalog_free(f->cat);
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
	assert_int_equal(catalog_tasks(f->cat, &flt, 0, &t, &n), CAT_OK);
	for (i = 0; i < n; i++) {
		if (*status == '\0' || strcmp(cat_task_status_name(t[i].status), status) == 0)
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
	assert_int_equal(scheduler_start(f->sched, T0), 0);
	assert_int_equal(scheduler_next_run(f->sched, f->job), T0 + 900);
	fake_now = T0 + 899;
	scheduler_tick(f->sched);
	assert_int_equal(count_tasks(f, ""), 0);
	fake_now = T0 + 900;
	scheduler_tick(f->sched);
	scheduler_tick(f->sched);
	assert_int_equal(count_tasks(f, "pending"), 1);
	assert_int_equal(scheduler_next_run(f->sched, f->job), T0 + 1800);
}

/* The previous run is still pending at the next slot: skipped, visibly. */
static void
test_scheduler_busy_job_skipped(void **state)
{
	struct fixture *f = *state;

	fixture_job(f, "every 15 minutes", 0);
	assert_int_equal(scheduler_start(f->sched, T0), 0);
	fake_now = T0 + 900;
	scheduler_tick(f->sched);
	fake_now = T0 + 1800;
	scheduler_tick(f->sched);
	assert_int_equal(count_tasks(f, "pending"), 1);
	assert_int_equal(count_tasks(f, "canceled"), 1);
}

/* Three days of missed 15-minute slots: one catch-up run. */
static void
test_scheduler_catch_up_once(void **state)
{
	struct fixture *f = *state;

	fixture_job(f, "every 15 minutes", 0);
	assert_int_equal(catalog_job_set_last_scheduled(f->cat, f->job,
	    T0 - 3 * 86400), CAT_OK);
	fake_now = T0 + 60;
	assert_int_equal(scheduler_start(f->sched, fake_now), 0);
	assert_int_equal(scheduler_next_run(f->sched, f->job), T0 + 60);
	scheduler_tick(f->sched);
	assert_int_equal(count_tasks(f, ""), 1);
	assert_int_equal(scheduler_next_run(f->sched, f->job), T0 + 900);
}

/* A job that never ran before is not "caught up" at start. */
static void
test_scheduler_new_job_waits(void **state)
{
	struct fixture *f = *state;

	fixture_job(f, "daily at 4am", 0);
	assert_int_equal(scheduler_start(f->sched, T0), 0);
	scheduler_tick(f->sched);
	assert_int_equal(count_tasks(f, ""), 0);
	assert_true(scheduler_next_run(f->sched, f->job) > T0);
}

/* Pause and unpause reach the scheduler at once. */
static void
test_scheduler_pause_unpause(void **state)
{
	struct fixture *f = *state;
	int i;

	fixture_job(f, "every 15 minutes", 1);
	assert_int_equal(scheduler_start(f->sched, T0), 0);
	assert_int_equal(scheduler_next_run(f->sched, f->job), 0);
	for (i = 1; i <= 8; i++) {
		fake_now = T0 + i * 900;
		scheduler_tick(f->sched);
	}
	assert_int_equal(count_tasks(f, ""), 0);
	assert_int_equal(catalog_job_set_paused(f->cat, f->job, 0), CAT_OK);
	scheduler_reload_job(f->sched, f->job);
	assert_int_equal(scheduler_next_run(f->sched, f->job),
	    T0 + 9 * 900);
	fake_now = T0 + 9 * 900;
	scheduler_tick(f->sched);
	assert_int_equal(count_tasks(f, ""), 1);
	assert_int_equal(catalog_job_set_paused(f->cat, f->job, 1), CAT_OK);
	scheduler_reload_job(f->sched, f->job);
	assert_int_equal(scheduler_next_run(f->sched, f->job), 0);
}

/* Deleting a job removes it from the heap. */
static void
test_scheduler_delete(void **state)
{
	struct fixture *f = *state;

	fixture_job(f, "hourly at :30", 0);
	assert_int_equal(scheduler_start(f->sched, T0), 0);
	assert_int_equal(scheduler_next_run(f->sched, f->job), T0 + 1800);
	assert_int_equal(catalog_job_delete(f->cat, f->job), CAT_OK);
	scheduler_reload_job(f->sched, f->job);
	assert_int_equal(scheduler_next_run(f->sched, f->job), 0);
	fake_now = T0 + 1800;
	scheduler_tick(f->sched);
	assert_int_equal(count_tasks(f, ""), 0);
}

/* SHIELD_MODE=DEV: every schedule fires at the next minute. */
static void
test_scheduler_dev_mode(void **state)
{
	struct fixture *f = *state;

	fixture_scheduler(f, 1);
	fixture_job(f, "monthly at 3am on 15th", 0);
	fake_now = T0 + 30;
	assert_int_equal(scheduler_start(f->sched, fake_now), 0);
	assert_int_equal(scheduler_next_run(f->sched, f->job), T0 + 60);
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
	assert_int_equal(scheduler_start(f->sched, T0), 0);
	for (i = 1; i <= 60; i++) {
		fake_now = T0 + i * 60;
		scheduler_tick(f->sched);
	}
	cat_filter_init(&flt);
	assert_int_equal(catalog_tasks(f->cat, &flt, 0, &t, &n), CAT_OK);
	assert_int_equal(n, 200);
	cat_tasks_free(t, n);
}

/* An expired archive is handed to the purge callback, unless it is purging. */
static void
test_scheduler_expiry_sweep(void **state)
{
	struct fixture *f = *state;
	struct cat_archive a;
	struct cat_job j;
	id_buf aid;

	fixture_job(f, "daily at 4am", 0);
	memset(&j, 0, sizeof j);
	assert_int_equal(catalog_job_get(f->cat, f->job, &j), CAT_OK);
	memset(&a, 0, sizeof a);
	memcpy(a.job_uuid, j.uuid, sizeof a.job_uuid);
	memcpy(a.target_uuid, j.target_uuid, sizeof a.target_uuid);
	memcpy(a.store_uuid, j.store_uuid, sizeof a.store_uuid);
	cat_job_clear(&j);
	a.store_key = "k";
	a.notes = "";
	a.taken_at = T0 - 7200;
	a.expires_at = T0 + 600;
	assert_int_equal(catalog_archive_create(f->cat, &a, aid), CAT_OK);
	f->purging = 1;
	assert_int_equal(scheduler_start(f->sched, T0), 0);
	fake_now = T0 + 601;
	scheduler_tick(f->sched);
	assert_int_equal(f->purges, 0);
	f->purging = 0;
	scheduler_expiry_changed(f->sched);
	assert_int_equal(f->purges, 1);
	memset(&a, 0, sizeof a);
	assert_int_equal(catalog_archive_get(f->cat, aid, &a), CAT_OK);
	assert_int_equal(a.status, CAT_ARCHIVE_EXPIRED);
	cat_archive_clear(&a);
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
		cmocka_unit_test_setup_teardown(test_scheduler_expiry_sweep,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_scheduler_dev_mode,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_scheduler_many_jobs,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
