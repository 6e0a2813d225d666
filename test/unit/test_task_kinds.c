/*
 * The task kinds, each run against a fake pipeline: a real catalog and task
 * engine (with no worker slots, so nothing starts by itself), a run made by
 * task_run_new(), the kind's prepare(), then its done() with a made-up
 * pipeline result.  What each kind records is read back from the catalog.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "catalog.h"
#include "child.h"
#include "daemon.h"
#include "log.h"
#include "pipeline.h"
#include "plugins.h"
#include "supervisor.h"
#include "task.h"

#define T0 1772409600LL

static int64_t fake_now = T0;

static int64_t
fake_clock(void)
{
	return fake_now;
}

struct fixture {
	char			 dir[64];
	char			 db[96];
	struct shieldd_config	 cfg;
	struct catalog		*cat;
	struct event_base	*base;
	struct child_set	*children;
	struct plugins		*plugins;
	struct supervisor	*sup;
	id_buf			 job;
	int			 changed;	/* archives_changed calls */
};

static void
fixture_changed_cb(void *arg)
{
	struct fixture *f = arg;

	f->changed++;
}

/* A job of the "dummy" plugin (an executable that does nothing). */
static void
fixture_job(struct fixture *f)
{
	struct cat_schedule sc = { .name = "s", .summary = "",
	    .when = "daily at 4am" };
	struct cat_retention r = { .name = "r", .summary = "",
	    .expiry = 86400 };
	struct cat_system t = { .name = "t", .summary = "",
	    .plugin = "dummy", .endpoint = "{}" };
	struct cat_job j;

	memset(&j, 0, sizeof j);
	j.name = "job";
	j.summary = "";
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

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	struct supervisor_env env;
	char path[128], *err = NULL;
	FILE *fp;

	snprintf(f->dir, sizeof f->dir, "/tmp/shield-kinds-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->db, sizeof f->db, "%s/c.db", f->dir);
	snprintf(path, sizeof path, "%s/dummy", f->dir);
	assert_non_null(fp = fopen(path, "w"));
	fputs("#!/bin/sh\nexit 0\n", fp);
	fclose(fp);
	assert_int_equal(chmod(path, 0755), 0);
	f->cat = catalog_open(f->db, &err);
	assert_non_null(f->cat);
	f->base = event_base_new();
	f->children = child_set_new(f->base);
	f->plugins = plugins_new(f->children, f->dir);
	memset(&env, 0, sizeof env);
	env.base = f->base;
	env.cat = f->cat;
	env.children = f->children;
	env.plugins = f->plugins;
	env.workers = 0;		/* the tests start runs themselves */
	env.cfg = &f->cfg;
	env.now = fake_clock;
	env.archives_changed = fixture_changed_cb;
	env.arg = f;
	f->sup = supervisor_new(&env);
	fixture_job(f);
	fake_now = T0;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	supervisor_free(f->sup);
	plugins_free(f->plugins);
	child_set_free(f->children);
	event_base_free(f->base);
	catalog_free(f->cat);
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f);
	return 0;
}

/* Queue a task and make a run of its row, as the engine would. */
static struct task_run *
start(struct fixture *f, enum cat_task_type type,
    const struct task_request *req, id_buf id)
{
	struct cat_task t;
	char *err = NULL;
	int status = 0;

	assert_int_equal(supervisor_queue(f->sup, type, req, id, &status,
	    &err), 0);
	memset(&t, 0, sizeof t);
	assert_int_equal(catalog_task_get(f->cat, id, &t), CAT_OK);
	assert_int_equal(t.type, type);
	assert_int_equal(t.status, CAT_TASK_PENDING);
	return task_run_new(f->sup, &t);
}

/* A task's row after its run ended. */
static void
ended(struct fixture *f, const char *id, struct cat_task *t)
{
	memset(t, 0, sizeof *t);
	assert_int_equal(catalog_task_get(f->cat, id, t), CAT_OK);
}

/* The result a pipeline would give. */
static struct pipeline_result
result(int64_t bytes, const char *output, const char *failure)
{
	struct pipeline_result r;

	memset(&r, 0, sizeof r);
	r.bytes = bytes;
	snprintf(r.sha256, sizeof r.sha256, "%064d", 7);
	r.output = output;
	r.output_len = strlen(output);
	r.failure = failure;
	return r;
}

/* A backup whose store printed a key records the archive. */
static void
test_task_backup_records_archive(void **state)
{
	struct fixture *f = *state;
	struct task_request req = { .owner = "alice", .job = f->job };
	struct pipeline_result r;
	struct task_run *run;
	struct cat_archive a;
	struct cat_task t;
	char *err = NULL;
	id_buf id;

	run = start(f, CAT_TASK_BACKUP, &req, id);
	assert_int_equal(task_kind_backup.prepare(run, &err), 0);
	fake_now = T0 + 5;
	r = result(42, "{\"key\": \"blob-1\"}\n", NULL);
	task_kind_backup.done(run, &r);
	ended(f, id, &t);
	assert_int_equal(t.status, CAT_TASK_DONE);
	assert_string_equal(t.owner, "alice");
	assert_int_equal(t.bytes, 42);
	assert_true(t.archive_uuid[0] != '\0');
	memset(&a, 0, sizeof a);
	assert_int_equal(catalog_archive_get(f->cat, t.archive_uuid, &a),
	    CAT_OK);
	assert_string_equal(a.store_key, "blob-1");
	assert_int_equal(a.status, CAT_ARCHIVE_VALID);
	assert_int_equal(a.size, 42);
	assert_string_equal(a.sha256, r.sha256);
	assert_int_equal(a.taken_at, T0);
	assert_int_equal(a.expires_at, T0 + 86400);
	assert_int_equal(f->changed, 1);
	assert_int_equal(supervisor_stats(f->sup)->finished[CAT_TASK_BACKUP][0],
	    1);
	assert_int_equal(supervisor_stats(f->sup)->bytes_done[CAT_TASK_BACKUP],
	    42);
	assert_int_equal(supervisor_running(f->sup), 0);
	cat_archive_clear(&a);
	cat_task_clear(&t);
}

/* No key, or a key that could pass for an option: no archive. */
static void
test_task_backup_without_usable_key(void **state)
{
	struct fixture *f = *state;
	struct task_request req = { .job = f->job };
	static const char *const outputs[] = { "", "{\"key\": 3}",
	    "{\"key\": \"--endpoint\"}", "{\"key\": \"a\\nb\"}" };
	static const char *const why[] = { "did not print a valid",
	    "did not print a valid", "refuses", "refuses" };
	struct pipeline_result r;
	struct task_run *run;
	struct cat_task t;
	char *err = NULL;
	id_buf id;
	size_t i;

	for (i = 0; i < sizeof outputs / sizeof outputs[0]; i++) {
		run = start(f, CAT_TASK_BACKUP, &req, id);
		assert_int_equal(task_kind_backup.prepare(run, &err), 0);
		r = result(10, outputs[i], NULL);
		task_kind_backup.done(run, &r);
		ended(f, id, &t);
		assert_int_equal(t.status, CAT_TASK_FAILED);
		assert_non_null(strstr(t.error, why[i]));
		assert_string_equal(t.archive_uuid, "");
		cat_task_clear(&t);
	}
	assert_int_equal(f->changed, 0);
	assert_int_equal(supervisor_stats(f->sup)->finished[CAT_TASK_BACKUP][1],
	    4);
}

/* A failed pipeline fails the backup with its reason. */
static void
test_task_backup_pipeline_failed(void **state)
{
	struct fixture *f = *state;
	struct task_request req = { .job = f->job };
	struct pipeline_result r;
	struct task_run *run;
	struct cat_task t;
	char *err = NULL;
	id_buf id;

	run = start(f, CAT_TASK_BACKUP, &req, id);
	assert_int_equal(task_kind_backup.prepare(run, &err), 0);
	r = result(3, "", "dummy exited with status 2");
	task_kind_backup.done(run, &r);
	ended(f, id, &t);
	assert_int_equal(t.status, CAT_TASK_FAILED);
	assert_string_equal(t.error, "dummy exited with status 2");
	cat_task_clear(&t);
}

/* Make an archive of the fixture's job; its uuid in aid. */
static void
make_archive(struct fixture *f, id_buf aid)
{
	struct task_request req = { .job = f->job };
	struct pipeline_result r;
	struct task_run *run;
	struct cat_task t;
	char *err = NULL;
	id_buf id;

	run = start(f, CAT_TASK_BACKUP, &req, id);
	assert_int_equal(task_kind_backup.prepare(run, &err), 0);
	r = result(42, "{\"key\": \"blob-1\"}", NULL);
	task_kind_backup.done(run, &r);
	ended(f, id, &t);
	memcpy(aid, t.archive_uuid, sizeof(id_buf));
	cat_task_clear(&t);
}

/* A restore prepares the archive's check and records its outcome. */
static void
test_task_restore(void **state)
{
	struct fixture *f = *state;
	struct task_request req = { 0 };
	struct pipeline_result r;
	struct task_run *run;
	struct cat_task t;
	char *err = NULL;
	int status = 0;
	id_buf aid, id;

	make_archive(f, aid);
	req.archive = aid;
	run = start(f, CAT_TASK_RESTORE, &req, id);
	assert_int_equal(task_kind_restore.prepare(run, &err), 0);
	r = result(42, "", NULL);
	task_kind_restore.done(run, &r);
	ended(f, id, &t);
	assert_int_equal(t.status, CAT_TASK_DONE);
	cat_task_clear(&t);
	assert_int_equal(supervisor_stats(f->sup)->bytes_done[CAT_TASK_RESTORE],
	    42);

	run = start(f, CAT_TASK_RESTORE, &req, id);
	assert_int_equal(task_kind_restore.prepare(run, &err), 0);
	r = result(40, "", "checksum mismatch: ...");
	task_kind_restore.done(run, &r);
	ended(f, id, &t);
	assert_int_equal(t.status, CAT_TASK_FAILED);
	cat_task_clear(&t);

	/* Unknown archives and targets are refused at the request. */
	req.archive = "00000000-0000-0000-0000-000000000000";
	assert_int_equal(supervisor_queue(f->sup, CAT_TASK_RESTORE, &req, id,
	    &status, &err), -1);
	assert_int_equal(status, CAT_NOTFOUND);
	free(err);
	err = NULL;
	req.archive = aid;
	req.target = "00000000-0000-0000-0000-000000000000";
	assert_int_equal(supervisor_queue(f->sup, CAT_TASK_RESTORE, &req, id,
	    &status, &err), -1);
	assert_int_equal(status, CAT_NOTFOUND);
	assert_non_null(strstr(err, "target"));
	free(err);
}

/* A purge marks the archive purged, or backs off before a retry. */
static void
test_task_purge(void **state)
{
	struct fixture *f = *state;
	struct task_request req = { 0 };
	struct pipeline_result r;
	struct task_run *run;
	struct cat_archive a;
	struct cat_task t;
	char *err = NULL;
	int status = 0;
	id_buf aid, id;

	make_archive(f, aid);
	f->changed = 0;
	req.archive = aid;
	run = start(f, CAT_TASK_PURGE, &req, id);
	assert_int_equal(task_kind_purge.prepare(run, &err), 0);
	r = result(0, "", "dummy exited with status 1");
	task_kind_purge.done(run, &r);
	ended(f, id, &t);
	assert_int_equal(t.status, CAT_TASK_FAILED);
	cat_task_clear(&t);
	memset(&a, 0, sizeof a);
	assert_int_equal(catalog_archive_get(f->cat, aid, &a), CAT_OK);
	assert_int_equal(a.purge_attempts, 1);
	assert_int_equal(a.purge_after, T0 + 60);
	assert_int_equal(a.status, CAT_ARCHIVE_VALID);
	cat_archive_clear(&a);
	assert_int_equal(f->changed, 1);

	run = start(f, CAT_TASK_PURGE, &req, id);
	assert_int_equal(task_kind_purge.prepare(run, &err), 0);
	r = result(0, "", NULL);
	task_kind_purge.done(run, &r);
	ended(f, id, &t);
	assert_int_equal(t.status, CAT_TASK_DONE);
	cat_task_clear(&t);
	memset(&a, 0, sizeof a);
	assert_int_equal(catalog_archive_get(f->cat, aid, &a), CAT_OK);
	assert_int_equal(a.status, CAT_ARCHIVE_PURGED);
	cat_archive_clear(&a);
	assert_int_equal(f->changed, 2);

	/* A purged archive can be neither purged nor restored again. */
	assert_int_equal(supervisor_queue(f->sup, CAT_TASK_PURGE, &req, id,
	    &status, &err), -1);
	assert_int_equal(status, CAT_NOTFOUND);
	free(err);
	err = NULL;
	assert_int_equal(supervisor_queue(f->sup, CAT_TASK_RESTORE, &req, id,
	    &status, &err), -1);
	assert_int_equal(status, CAT_INUSE);
	free(err);
}

/* A kind's prepare that fails names what is missing. */
static void
test_task_prepare_missing_plugin(void **state)
{
	struct fixture *f = *state;
	struct task_request req = { .job = f->job };
	struct task_run *run;
	char *err = NULL;
	char path[128];
	id_buf id;

	snprintf(path, sizeof path, "%s/dummy", f->dir);
	assert_int_equal(unlink(path), 0);
	run = start(f, CAT_TASK_BACKUP, &req, id);
	assert_int_equal(task_kind_backup.prepare(run, &err), -1);
	assert_non_null(strstr(err, "no plugin named 'dummy'"));
	task_run_finish(run, CAT_TASK_FAILED, 0, err);
	free(err);
	assert_int_equal(supervisor_running(f->sup), 0);
}

/* Names of the typed states, both ways. */
static void
test_task_state_names(void **state)
{
	enum cat_task_status st;
	enum cat_task_type ty;
	enum cat_archive_status as;
	int i;

	(void)state;
	for (i = 0; i < CAT_TASK_STATUSES; i++) {
		assert_int_equal(cat_task_status_parse(
		    cat_task_status_name((enum cat_task_status)i), &st), 0);
		assert_int_equal(st, i);
	}
	for (i = 0; i < CAT_TASK_TYPES; i++) {
		assert_int_equal(cat_task_type_parse(
		    cat_task_type_name((enum cat_task_type)i), &ty), 0);
		assert_int_equal(ty, i);
	}
	for (i = 0; i < CAT_ARCHIVE_STATUSES; i++) {
		assert_int_equal(cat_archive_status_parse(
		    cat_archive_status_name((enum cat_archive_status)i), &as),
		    0);
		assert_int_equal(as, i);
	}
	assert_string_equal(cat_task_status_name(CAT_TASK_DONE), "done");
	assert_string_equal(cat_task_type_name(CAT_TASK_PURGE), "purge");
	assert_string_equal(cat_archive_status_name(CAT_ARCHIVE_EXPIRED),
	    "expired");
	assert_int_equal(cat_task_status_parse("ok", &st), -1);
	assert_int_equal(cat_task_type_parse(NULL, &ty), -1);
	assert_int_equal(cat_archive_status_parse("Valid", &as), -1);
}

int
main(void)
{
	log_init(LOG_LEVEL_ERROR, "test_task_kinds");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
		    test_task_backup_records_archive, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_task_backup_without_usable_key, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_task_backup_pipeline_failed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_task_restore, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_task_purge, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_task_prepare_missing_plugin, setup, teardown),
		cmocka_unit_test(test_task_state_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
