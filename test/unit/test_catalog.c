/*
 * Unit tests for the catalog: every resource's create, read, update and
 * delete, the list filters and status codes, the task lifecycle, the purger
 * queries, users and tokens, migrations and reopening, verbatim strings,
 * and the speed of listing many jobs.  Each test works on a fresh catalog
 * in its own temporary directory.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "catalog.h"
#include "log.h"

struct fixture {
	char		 dir[PATH_MAX];
	char		 path[PATH_MAX + 32];
	struct catalog	*cat;
};

/* The four things a job refers to. */
struct refs {
	id_buf	 target;
	id_buf	 store;
	id_buf	 schedule;
	id_buf	 retention;
};

/* Removes the temporary directory and the catalog files in it. */
static void
rmtree(const char *dir)
{
	char path[PATH_MAX + 300];
	struct dirent *de;
	DIR *d;

	if ((d = opendir(dir)) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* Creates a temporary directory and opens a new catalog in it. */
static int
setup(void **state)
{
	struct fixture *fx;
	const char *tmp;
	char *err = NULL;

	fx = calloc(1, sizeof *fx);
	assert_non_null(fx);
	if ((tmp = getenv("TMPDIR")) == NULL || *tmp == '\0')
		tmp = "/tmp";
	snprintf(fx->dir, sizeof fx->dir, "%s/shield-catalog-XXXXXX", tmp);
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof fx->path, "%s/catalog.db", fx->dir);
	fx->cat = catalog_open(fx->path, &err);
	if (fx->cat == NULL)
		fail_msg("catalog_open: %s", err);
	*state = fx;
	return 0;
}

/* Closes the catalog and removes its directory. */
static int
teardown(void **state)
{
	struct fixture *fx = *state;

	catalog_free(fx->cat);
	rmtree(fx->dir);
	free(fx);
	return 0;
}

/* Creates a schedule and returns its uuid in out. */
static void
mk_schedule(struct catalog *cat, const char *name, id_buf out)
{
	struct cat_schedule s = { .name = (char *)name, .summary = "s",
	    .when = "daily 4am" };

	assert_int_equal(catalog_schedule_create(cat, &s, out), CAT_OK);
}

/* Creates a retention policy and returns its uuid in out. */
static void
mk_retention(struct catalog *cat, const char *name, int64_t expiry,
    id_buf out)
{
	struct cat_retention r = { .name = (char *)name, .summary = "r",
	    .expiry = expiry };

	assert_int_equal(catalog_retention_create(cat, &r, out), CAT_OK);
}

/* Creates a target or store and returns its uuid in out. */
static void
mk_system(struct catalog *cat, enum cat_kind kind, const char *name,
    const char *plugin, id_buf out)
{
	struct cat_system s = { .name = (char *)name, .summary = "x",
	    .plugin = (char *)plugin, .endpoint = "{\"k\":1}" };

	assert_int_equal(catalog_system_create(cat, kind, &s, out), CAT_OK);
}

/* Creates one of each thing a job needs. */
static void
mk_refs(struct catalog *cat, const char *tag, struct refs *r)
{
	char name[64];

	snprintf(name, sizeof name, "target-%s", tag);
	mk_system(cat, CAT_TARGET, name, "fs", r->target);
	snprintf(name, sizeof name, "store-%s", tag);
	mk_system(cat, CAT_STORE, name, "s3", r->store);
	snprintf(name, sizeof name, "sched-%s", tag);
	mk_schedule(cat, name, r->schedule);
	snprintf(name, sizeof name, "ret-%s", tag);
	mk_retention(cat, name, 86400, r->retention);
}

/* Creates a job over refs and returns its uuid in out. */
static void
mk_job(struct catalog *cat, const char *name, const struct refs *r,
    int paused, id_buf out)
{
	struct cat_job j;

	memset(&j, 0, sizeof j);
	j.name = (char *)name;
	j.summary = "job";
	memcpy(j.target_uuid, r->target, sizeof j.target_uuid);
	memcpy(j.store_uuid, r->store, sizeof j.store_uuid);
	memcpy(j.schedule_uuid, r->schedule, sizeof j.schedule_uuid);
	memcpy(j.retention_uuid, r->retention, sizeof j.retention_uuid);
	j.paused = paused;
	assert_int_equal(catalog_job_create(cat, &j, out), CAT_OK);
}

/* Records an archive and returns its uuid in out. */
static void
mk_archive(struct catalog *cat, const char *target, const char *store,
    const char *job, int64_t taken, int64_t expires, const char *status,
    int64_t size, id_buf out)
{
	struct cat_archive a;

	memset(&a, 0, sizeof a);
	snprintf(a.target_uuid, sizeof a.target_uuid, "%s", target);
	snprintf(a.store_uuid, sizeof a.store_uuid, "%s", store);
	snprintf(a.job_uuid, sizeof a.job_uuid, "%s", job != NULL ? job : "");
	a.store_key = "key/1";
	a.taken_at = taken;
	a.expires_at = expires;
	if (status != NULL)
		assert_int_equal(cat_archive_status_parse(status, &a.status),
		    0);
	a.size = size;
	snprintf(a.sha256, sizeof a.sha256, "%064d", 0);
	assert_int_equal(catalog_archive_create(cat, &a, out), CAT_OK);
}

/* Task counts for the statuses named (0 for a name that is none). */
static int
task_counts_by_name(struct catalog *cat, const char *const *names, size_t n,
    int64_t *counts)
{
	int64_t all[CAT_TASK_STATUSES];
	enum cat_task_status st;
	size_t i;
	int rc;

	rc = catalog_task_counts(cat, all);
	for (i = 0; i < n; i++)
		counts[i] = cat_task_status_parse(names[i], &st) == 0 ?
		    all[st] : 0;
	return rc;
}

/* Creates a task and returns its uuid in out. */
static void
mk_task(struct catalog *cat, const char *op, const char *job,
    const char *target, int64_t now, id_buf out)
{
	struct cat_task t;

	memset(&t, 0, sizeof t);
	t.owner = "system";
	assert_int_equal(cat_task_type_parse(op, &t.type), 0);
	snprintf(t.job_uuid, sizeof t.job_uuid, "%s", job != NULL ? job : "");
	snprintf(t.target_uuid, sizeof t.target_uuid, "%s",
	    target != NULL ? target : "");
	assert_int_equal(catalog_task_create(cat, &t, now, out), CAT_OK);
}

/* Reads PRAGMA user_version through a separate connection. */
static int
file_user_version(const char *path)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int v = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1,
	    &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* Runs SQL through a separate connection. */
static void
file_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	char *err = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	sqlite3_busy_timeout(db, 5000);
	if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err);
	sqlite3_close(db);
}

/* Writes one task-log line: seq, lno (0: debug only) and text. */
static int
log_put(struct catalog *cat, const char *task, int64_t seq, int64_t lno,
    const char *text)
{
	struct cat_log_line l = { seq, lno, text, strlen(text) };

	return catalog_task_log_write(cat, task, 1, 0, &l, 1);
}

/* Checks a task's log (or debug log) read back as text. */
static void
assert_log(struct catalog *cat, const char *task, int debug, int64_t after,
    const char *want)
{
	char *text = NULL;

	assert_int_equal(catalog_task_log(cat, task, debug, after, &text,
	    NULL), CAT_OK);
	assert_non_null(text);
	assert_string_equal(text, want);
	free(text);
}

/* A new catalog is migrated, in WAL mode, and reopening changes nothing. */
static void
test_catalog_migrations_idempotent(void **state)
{
	struct fixture *fx = *state;
	struct cat_schedule s;
	char *err = NULL;
	id_buf id;
	int v;
	sqlite3 *db;
	sqlite3_stmt *st;

	v = catalog_schema_version(fx->cat);
	assert_true(v >= 1);
	mk_schedule(fx->cat, "kept", id);
	catalog_free(fx->cat);
	assert_int_equal(file_user_version(fx->path), v);

	fx->cat = catalog_open(fx->path, &err);
	assert_non_null(fx->cat);
	assert_null(err);
	assert_int_equal(catalog_schema_version(fx->cat), v);
	assert_int_equal(file_user_version(fx->path), v);
	assert_int_equal(catalog_schedule_get(fx->cat, id, &s), CAT_OK);
	assert_string_equal(s.name, "kept");
	cat_schedule_clear(&s);

	/* WAL is a property of the file, visible to any connection. */
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1,
	    &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/*
 * The key id is recorded once and kept across reopening; a second one
 * never replaces it.
 */
static void
test_catalog_key_id(void **state)
{
	struct fixture *fx = *state;
	char buf[32], *err = NULL;

	assert_int_equal(catalog_key_id(fx->cat, buf, sizeof buf),
	    CAT_NOTFOUND);
	assert_string_equal(buf, "");
	assert_int_equal(catalog_key_id_set(fx->cat, "0123456789abcdef"),
	    CAT_OK);
	assert_int_equal(catalog_key_id_set(fx->cat, "fedcba9876543210"),
	    CAT_OK);
	assert_int_equal(catalog_key_id(fx->cat, buf, sizeof buf), CAT_OK);
	assert_string_equal(buf, "0123456789abcdef");
	catalog_free(fx->cat);
	fx->cat = catalog_open(fx->path, &err);
	assert_non_null(fx->cat);
	assert_int_equal(catalog_key_id(fx->cat, buf, sizeof buf), CAT_OK);
	assert_string_equal(buf, "0123456789abcdef");
}

/* A catalog written by a newer shieldd is refused with a clear error. */
static void
test_catalog_refuses_newer_schema(void **state)
{
	struct fixture *fx = *state;
	struct catalog *cat;
	char *err = NULL;

	catalog_free(fx->cat);
	fx->cat = NULL;
	file_exec(fx->path, "PRAGMA user_version = 9999");
	cat = catalog_open(fx->path, &err);
	assert_null(cat);
	assert_non_null(err);
	assert_non_null(strstr(err, "9999"));
	assert_non_null(strstr(err, "newer"));
	free(err);
	assert_int_equal(file_user_version(fx->path), 9999);
}

/* Unusable paths fail with a message instead of a crash. */
static void
test_catalog_open_errors(void **state)
{
	struct fixture *fx = *state;
	char path[PATH_MAX + 32], *err = NULL;
	FILE *fp;

	assert_null(catalog_open("/nonexistent-shield-dir/x/catalog.db",
	    &err));
	assert_non_null(err);
	assert_non_null(strstr(err, "/nonexistent-shield-dir/x/catalog.db"));
	free(err);
	err = NULL;
	assert_null(catalog_open("", &err));
	assert_non_null(err);
	free(err);
	err = NULL;
	/* Without errp the message is logged instead. */
	assert_null(catalog_open("/nonexistent-shield-dir/y.db", NULL));

	snprintf(path, sizeof path, "%s/garbage.db", fx->dir);
	fp = fopen(path, "w");
	assert_non_null(fp);
	for (int i = 0; i < 512; i++)
		fputs("this is not a database file ", fp);
	fclose(fp);
	assert_null(catalog_open(path, &err));
	assert_non_null(err);
	free(err);
}

/* Data written before a close is there after reopening. */
static void
test_catalog_reopen_persists(void **state)
{
	struct fixture *fx = *state;
	struct refs r;
	struct cat_job j;
	char *err = NULL;
	id_buf job, task;
	struct cat_task t;

	mk_refs(fx->cat, "p", &r);
	mk_job(fx->cat, "persisted", &r, 1, job);
	mk_task(fx->cat, "backup", job, r.target, 100, task);
	catalog_free(fx->cat);
	fx->cat = catalog_open(fx->path, &err);
	assert_non_null(fx->cat);

	assert_int_equal(catalog_job_get(fx->cat, job, &j), CAT_OK);
	assert_string_equal(j.name, "persisted");
	assert_int_equal(j.paused, 1);
	assert_string_equal(j.last_task_uuid, task);
	cat_job_clear(&j);
	assert_int_equal(catalog_task_get(fx->cat, task, &t), CAT_OK);
	assert_string_equal(cat_task_status_name(t.status), "pending");
	cat_task_clear(&t);
}

/* Schedules: create, get, list, update, delete and their codes. */
static void
test_catalog_schedule_crud(void **state)
{
	struct fixture *fx = *state;
	struct cat_schedule in, got, *list;
	struct cat_filter f;
	size_t n;
	id_buf a, b;

	memset(&in, 0, sizeof in);
	in.name = "nightly";
	in.summary = NULL;		/* stored as "" */
	in.when = "daily at 4am";
	assert_int_equal(catalog_schedule_create(fx->cat, &in, a), CAT_OK);
	assert_true(id_valid(a));
	mk_schedule(fx->cat, "another", b);
	assert_string_not_equal(a, b);

	assert_int_equal(catalog_schedule_get(fx->cat, a, &got), CAT_OK);
	assert_string_equal(got.uuid, a);
	assert_string_equal(got.name, "nightly");
	assert_string_equal(got.summary, "");
	assert_string_equal(got.when, "daily at 4am");
	cat_schedule_clear(&got);
	assert_null(got.name);

	cat_filter_init(&f);
	assert_int_equal(catalog_schedules(fx->cat, &f, &list, &n), CAT_OK);
	assert_int_equal(n, 2);
	/* By name. */
	assert_string_equal(list[0].name, "another");
	assert_string_equal(list[1].name, "nightly");
	cat_schedules_free(list, n);

	memcpy(in.uuid, a, sizeof in.uuid);
	in.name = "weekly";
	in.summary = "sundays";
	in.when = "sundays at 2am";
	assert_int_equal(catalog_schedule_update(fx->cat, &in), CAT_OK);
	assert_int_equal(catalog_schedule_get(fx->cat, a, &got), CAT_OK);
	assert_string_equal(got.name, "weekly");
	assert_string_equal(got.summary, "sundays");
	assert_string_equal(got.when, "sundays at 2am");
	cat_schedule_clear(&got);

	assert_int_equal(catalog_schedule_delete(fx->cat, a), CAT_OK);
	assert_int_equal(catalog_schedule_get(fx->cat, a, &got),
	    CAT_NOTFOUND);
	assert_int_equal(catalog_schedule_delete(fx->cat, a), CAT_NOTFOUND);
	assert_int_equal(catalog_schedule_update(fx->cat, &in), CAT_NOTFOUND);
	cat_filter_init(&f);
	assert_int_equal(catalog_schedules(fx->cat, &f, &list, &n), CAT_OK);
	assert_int_equal(n, 1);
	cat_schedules_free(list, n);
}

/* Retention policies: create, get, list, update, delete and codes. */
static void
test_catalog_retention_crud(void **state)
{
	struct fixture *fx = *state;
	struct cat_retention in, got, *list;
	struct cat_filter f;
	size_t n;
	id_buf a;

	memset(&in, 0, sizeof in);
	in.name = "week";
	in.summary = "seven days";
	in.expiry = 7 * 86400;
	assert_int_equal(catalog_retention_create(fx->cat, &in, a), CAT_OK);
	assert_int_equal(catalog_retention_get(fx->cat, a, &got), CAT_OK);
	assert_string_equal(got.name, "week");
	assert_string_equal(got.summary, "seven days");
	assert_int_equal(got.expiry, 7 * 86400);
	cat_retention_clear(&got);

	memcpy(in.uuid, a, sizeof in.uuid);
	in.name = "month";
	in.expiry = 30 * 86400;
	assert_int_equal(catalog_retention_update(fx->cat, &in), CAT_OK);
	cat_filter_init(&f);
	assert_int_equal(catalog_retentions(fx->cat, &f, &list, &n), CAT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].name, "month");
	assert_int_equal(list[0].expiry, 30 * 86400);
	cat_retentions_free(list, n);

	assert_int_equal(catalog_retention_delete(fx->cat, a), CAT_OK);
	assert_int_equal(catalog_retention_delete(fx->cat, a), CAT_NOTFOUND);
	assert_int_equal(catalog_retention_get(fx->cat, a, &got),
	    CAT_NOTFOUND);
	assert_int_equal(catalog_retention_update(fx->cat, &in),
	    CAT_NOTFOUND);
	assert_int_equal(catalog_retentions(fx->cat, &f, &list, &n), CAT_OK);
	assert_int_equal(n, 0);
	cat_retentions_free(list, n);
}

/* Targets and stores: both kinds, kept apart, with the plugin filter. */
static void
test_catalog_system_crud(void **state)
{
	struct fixture *fx = *state;
	struct cat_system in, got, *list;
	struct cat_filter f;
	size_t n;
	id_buf t1, t2, s1;

	mk_system(fx->cat, CAT_TARGET, "pg", "postgres", t1);
	mk_system(fx->cat, CAT_TARGET, "files", "fs", t2);
	mk_system(fx->cat, CAT_STORE, "bucket", "s3", s1);

	/* Each kind lives in its own table. */
	assert_int_equal(catalog_system_get(fx->cat, CAT_STORE, t1, &got),
	    CAT_NOTFOUND);
	assert_int_equal(catalog_system_get(fx->cat, CAT_TARGET, t1, &got),
	    CAT_OK);
	assert_string_equal(got.name, "pg");
	assert_string_equal(got.plugin, "postgres");
	assert_string_equal(got.endpoint, "{\"k\":1}");
	assert_string_equal(got.summary, "x");
	cat_system_clear(&got);

	cat_filter_init(&f);
	assert_int_equal(catalog_systems(fx->cat, CAT_TARGET, &f, &list, &n),
	    CAT_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "files");
	assert_string_equal(list[1].name, "pg");
	cat_systems_free(list, n);
	assert_int_equal(catalog_systems(fx->cat, CAT_STORE, &f, &list, &n),
	    CAT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].uuid, s1);
	cat_systems_free(list, n);

	f.plugin = "postgres";
	assert_int_equal(catalog_systems(fx->cat, CAT_TARGET, &f, &list, &n),
	    CAT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].uuid, t1);
	cat_systems_free(list, n);
	f.plugin = "nope";
	assert_int_equal(catalog_systems(fx->cat, CAT_TARGET, &f, &list, &n),
	    CAT_OK);
	assert_int_equal(n, 0);
	cat_systems_free(list, n);

	memset(&in, 0, sizeof in);
	memcpy(in.uuid, t2, sizeof in.uuid);
	in.name = "files2";
	in.summary = "moved";
	in.plugin = "fs";
	in.endpoint = "{\"base_dir\":\"/srv\"}";
	assert_int_equal(catalog_system_update(fx->cat, CAT_TARGET, &in),
	    CAT_OK);
	assert_int_equal(catalog_system_get(fx->cat, CAT_TARGET, t2, &got),
	    CAT_OK);
	assert_string_equal(got.name, "files2");
	assert_string_equal(got.endpoint, "{\"base_dir\":\"/srv\"}");
	cat_system_clear(&got);
	/* Updating a target's uuid as a store finds nothing. */
	assert_int_equal(catalog_system_update(fx->cat, CAT_STORE, &in),
	    CAT_NOTFOUND);

	assert_int_equal(catalog_system_delete(fx->cat, CAT_STORE, t2),
	    CAT_NOTFOUND);
	assert_int_equal(catalog_system_delete(fx->cat, CAT_TARGET, t2),
	    CAT_OK);
	assert_int_equal(catalog_system_delete(fx->cat, CAT_TARGET, t2),
	    CAT_NOTFOUND);
	assert_int_equal(catalog_system_delete(fx->cat, CAT_STORE, s1),
	    CAT_OK);
	assert_int_equal(catalog_system_get(fx->cat, CAT_STORE, s1, &got),
	    CAT_NOTFOUND);
}

/* The unused filter and CAT_INUSE for all four things a job uses. */
static void
test_catalog_unused_and_inuse(void **state)
{
	struct fixture *fx = *state;
	struct cat_schedule *sl;
	struct cat_retention *rl;
	struct cat_system *tl;
	struct cat_filter f;
	struct refs used, spare;
	size_t n;
	id_buf job;
	enum cat_kind k;

	mk_refs(fx->cat, "used", &used);
	mk_refs(fx->cat, "spare", &spare);
	mk_job(fx->cat, "j", &used, 0, job);

	cat_filter_init(&f);
	f.unused = 1;
	assert_int_equal(catalog_schedules(fx->cat, &f, &sl, &n), CAT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(sl[0].uuid, spare.schedule);
	cat_schedules_free(sl, n);
	assert_int_equal(catalog_retentions(fx->cat, &f, &rl, &n), CAT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(rl[0].uuid, spare.retention);
	cat_retentions_free(rl, n);
	assert_int_equal(catalog_systems(fx->cat, CAT_TARGET, &f, &tl, &n),
	    CAT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(tl[0].uuid, spare.target);
	cat_systems_free(tl, n);
	assert_int_equal(catalog_systems(fx->cat, CAT_STORE, &f, &tl, &n),
	    CAT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(tl[0].uuid, spare.store);
	cat_systems_free(tl, n);

	f.unused = 0;
	assert_int_equal(catalog_schedules(fx->cat, &f, &sl, &n), CAT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(sl[0].uuid, used.schedule);
	cat_schedules_free(sl, n);
	assert_int_equal(catalog_retentions(fx->cat, &f, &rl, &n), CAT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(rl[0].uuid, used.retention);
	cat_retentions_free(rl, n);
	for (k = CAT_TARGET; k <= CAT_STORE; k++) {
		assert_int_equal(catalog_systems(fx->cat, k, &f, &tl, &n),
		    CAT_OK);
		assert_int_equal(n, 1);
		assert_string_equal(tl[0].uuid,
		    k == CAT_TARGET ? used.target : used.store);
		cat_systems_free(tl, n);
	}
	/* unused=0 combined with plugin. */
	f.plugin = "fs";
	assert_int_equal(catalog_systems(fx->cat, CAT_TARGET, &f, &tl, &n),
	    CAT_OK);
	assert_int_equal(n, 1);
	cat_systems_free(tl, n);
	f.plugin = "s3";
	assert_int_equal(catalog_systems(fx->cat, CAT_TARGET, &f, &tl, &n),
	    CAT_OK);
	assert_int_equal(n, 0);
	cat_systems_free(tl, n);

	f.unused = CAT_ANY;
	f.plugin = NULL;
	assert_int_equal(catalog_schedules(fx->cat, &f, &sl, &n), CAT_OK);
	assert_int_equal(n, 2);
	cat_schedules_free(sl, n);

	assert_int_equal(catalog_schedule_delete(fx->cat, used.schedule),
	    CAT_INUSE);
	assert_int_equal(catalog_retention_delete(fx->cat, used.retention),
	    CAT_INUSE);
	assert_int_equal(catalog_system_delete(fx->cat, CAT_TARGET,
	    used.target), CAT_INUSE);
	assert_int_equal(catalog_system_delete(fx->cat, CAT_STORE,
	    used.store), CAT_INUSE);

	/* Once the job is gone, they can go. */
	assert_int_equal(catalog_job_delete(fx->cat, job), CAT_OK);
	assert_int_equal(catalog_schedule_delete(fx->cat, used.schedule),
	    CAT_OK);
	assert_int_equal(catalog_retention_delete(fx->cat, used.retention),
	    CAT_OK);
	assert_int_equal(catalog_system_delete(fx->cat, CAT_TARGET,
	    used.target), CAT_OK);
	assert_int_equal(catalog_system_delete(fx->cat, CAT_STORE,
	    used.store), CAT_OK);
}

/* A store with valid or expired archives cannot go; purged ones don't count. */
static void
test_catalog_store_inuse_by_archives(void **state)
{
	struct fixture *fx = *state;
	id_buf t, s, a1, a2;

	mk_system(fx->cat, CAT_TARGET, "t", "fs", t);
	mk_system(fx->cat, CAT_STORE, "s", "fs", s);
	mk_archive(fx->cat, t, s, NULL, 10, 20, NULL, 1, a1);
	mk_archive(fx->cat, t, s, NULL, 11, 21, "purged", 1, a2);

	assert_int_equal(catalog_system_delete(fx->cat, CAT_STORE, s),
	    CAT_INUSE);
	assert_int_equal(catalog_archive_set_status(fx->cat, a1, CAT_ARCHIVE_EXPIRED),
	    CAT_OK);
	assert_int_equal(catalog_system_delete(fx->cat, CAT_STORE, s),
	    CAT_INUSE);
	assert_int_equal(catalog_archive_set_status(fx->cat, a1, CAT_ARCHIVE_PURGED),
	    CAT_OK);
	/* Targets are not held by archives. */
	assert_int_equal(catalog_system_delete(fx->cat, CAT_TARGET, t),
	    CAT_OK);
	assert_int_equal(catalog_system_delete(fx->cat, CAT_STORE, s),
	    CAT_OK);
}

/* Jobs: create, the joined fields, update, pause, delete, codes. */
static void
test_catalog_job_crud(void **state)
{
	struct fixture *fx = *state;
	struct refs r, r2;
	struct cat_job in, got;
	id_buf job;

	mk_refs(fx->cat, "a", &r);
	mk_refs(fx->cat, "b", &r2);
	mk_job(fx->cat, "orders", &r, 0, job);

	assert_int_equal(catalog_job_get(fx->cat, job, &got), CAT_OK);
	assert_string_equal(got.uuid, job);
	assert_string_equal(got.name, "orders");
	assert_string_equal(got.summary, "job");
	assert_string_equal(got.target_uuid, r.target);
	assert_string_equal(got.store_uuid, r.store);
	assert_string_equal(got.schedule_uuid, r.schedule);
	assert_string_equal(got.retention_uuid, r.retention);
	assert_int_equal(got.paused, 0);
	assert_int_equal(got.last_scheduled, 0);
	assert_string_equal(got.retention_name, "ret-a");
	assert_int_equal(got.expiry, 86400);
	assert_string_equal(got.schedule_name, "sched-a");
	assert_string_equal(got.schedule, "daily 4am");
	assert_string_equal(got.store_name, "store-a");
	assert_string_equal(got.store_plugin, "s3");
	assert_string_equal(got.store_endpoint, "{\"k\":1}");
	assert_string_equal(got.target_name, "target-a");
	assert_string_equal(got.target_plugin, "fs");
	assert_string_equal(got.target_endpoint, "{\"k\":1}");
	assert_string_equal(got.last_task_uuid, "");
	assert_string_equal(got.last_task_status, "");
	cat_job_clear(&got);
	assert_null(got.name);

	memset(&in, 0, sizeof in);
	memcpy(in.uuid, job, sizeof in.uuid);
	in.name = "orders2";
	in.summary = NULL;
	memcpy(in.target_uuid, r2.target, sizeof in.target_uuid);
	memcpy(in.store_uuid, r2.store, sizeof in.store_uuid);
	memcpy(in.schedule_uuid, r2.schedule, sizeof in.schedule_uuid);
	memcpy(in.retention_uuid, r2.retention, sizeof in.retention_uuid);
	in.paused = 1;		/* ignored by update */
	assert_int_equal(catalog_job_update(fx->cat, &in), CAT_OK);
	assert_int_equal(catalog_job_get(fx->cat, job, &got), CAT_OK);
	assert_string_equal(got.name, "orders2");
	assert_string_equal(got.summary, "");
	assert_string_equal(got.target_name, "target-b");
	assert_string_equal(got.schedule_name, "sched-b");
	assert_int_equal(got.paused, 0);
	cat_job_clear(&got);

	assert_int_equal(catalog_job_set_paused(fx->cat, job, 1), CAT_OK);
	assert_int_equal(catalog_job_set_last_scheduled(fx->cat, job, 12345),
	    CAT_OK);
	assert_int_equal(catalog_job_get(fx->cat, job, &got), CAT_OK);
	assert_int_equal(got.paused, 1);
	assert_int_equal(got.last_scheduled, 12345);
	cat_job_clear(&got);
	assert_int_equal(catalog_job_set_paused(fx->cat, job, 0), CAT_OK);
	assert_int_equal(catalog_job_get(fx->cat, job, &got), CAT_OK);
	assert_int_equal(got.paused, 0);
	cat_job_clear(&got);

	assert_int_equal(catalog_job_delete(fx->cat, job), CAT_OK);
	assert_int_equal(catalog_job_get(fx->cat, job, &got), CAT_NOTFOUND);
	assert_int_equal(catalog_job_delete(fx->cat, job), CAT_NOTFOUND);
	assert_int_equal(catalog_job_update(fx->cat, &in), CAT_NOTFOUND);
	assert_int_equal(catalog_job_set_paused(fx->cat, job, 1),
	    CAT_NOTFOUND);
	assert_int_equal(catalog_job_set_last_scheduled(fx->cat, job, 1),
	    CAT_NOTFOUND);
}

/* A job naming any missing target, store, schedule or policy is refused. */
static void
test_catalog_job_badref(void **state)
{
	struct fixture *fx = *state;
	struct refs r, bad;
	struct cat_job in;
	struct cat_job *list;
	struct cat_filter f;
	size_t n;
	id_buf job, out, missing;
	int i;

	mk_refs(fx->cat, "a", &r);
	mk_job(fx->cat, "ok", &r, 0, job);
	id_new(missing);

	for (i = 0; i < 5; i++) {
		bad = r;
		switch (i) {
		case 0:
			memcpy(bad.target, missing, sizeof missing);
			break;
		case 1:
			memcpy(bad.store, missing, sizeof missing);
			break;
		case 2:
			memcpy(bad.schedule, missing, sizeof missing);
			break;
		case 3:
			memcpy(bad.retention, missing, sizeof missing);
			break;
		case 4:
			/* A target's uuid is not a store. */
			memcpy(bad.store, r.target, sizeof r.target);
			break;
		}
		memset(&in, 0, sizeof in);
		in.name = "bad";
		memcpy(in.target_uuid, bad.target, sizeof in.target_uuid);
		memcpy(in.store_uuid, bad.store, sizeof in.store_uuid);
		memcpy(in.schedule_uuid, bad.schedule, sizeof in.schedule_uuid);
		memcpy(in.retention_uuid, bad.retention,
		    sizeof in.retention_uuid);
		assert_int_equal(catalog_job_create(fx->cat, &in, out),
		    CAT_BADREF);
		memcpy(in.uuid, job, sizeof in.uuid);
		assert_int_equal(catalog_job_update(fx->cat, &in), CAT_BADREF);
	}
	/* An empty reference is bad too. */
	memset(&in, 0, sizeof in);
	in.name = "empty";
	assert_int_equal(catalog_job_create(fx->cat, &in, out), CAT_BADREF);

	/* Nothing was created and the good job is unchanged. */
	cat_filter_init(&f);
	assert_int_equal(catalog_jobs(fx->cat, &f, &list, &n), CAT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].name, "ok");
	assert_string_equal(list[0].store_uuid, r.store);
	cat_jobs_free(list, n);
}

/* Every job filter, alone and combined. */
static void
test_catalog_job_filters(void **state)
{
	struct fixture *fx = *state;
	struct refs a, b, mix;
	struct cat_job *list;
	struct cat_filter f;
	size_t n;
	id_buf j1, j2, j3;

	mk_refs(fx->cat, "a", &a);
	mk_refs(fx->cat, "b", &b);
	mix = a;
	memcpy(mix.store, b.store, sizeof mix.store);
	memcpy(mix.retention, b.retention, sizeof mix.retention);
	mk_job(fx->cat, "j1", &a, 0, j1);
	mk_job(fx->cat, "j2", &b, 1, j2);
	mk_job(fx->cat, "j3", &mix, 1, j3);

	cat_filter_init(&f);
	assert_int_equal(catalog_jobs(fx->cat, &f, &list, &n), CAT_OK);
	assert_int_equal(n, 3);
	assert_string_equal(list[0].uuid, j1);
	assert_string_equal(list[1].uuid, j2);
	assert_string_equal(list[2].uuid, j3);
	assert_string_equal(list[2].store_name, "store-b");
	assert_string_equal(list[2].target_name, "target-a");
	cat_jobs_free(list, n);

	f.paused = 1;
	assert_int_equal(catalog_jobs(fx->cat, &f, &list, &n), CAT_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].uuid, j2);
	assert_string_equal(list[1].uuid, j3);
	cat_jobs_free(list, n);
	f.paused = 0;
	assert_int_equal(catalog_jobs(fx->cat, &f, &list, &n), CAT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].uuid, j1);
	cat_jobs_free(list, n);

	cat_filter_init(&f);
	f.target = a.target;
	assert_int_equal(catalog_jobs(fx->cat, &f, &list, &n), CAT_OK);
	assert_int_equal(n, 2);
	cat_jobs_free(list, n);
	f.store = b.store;
	assert_int_equal(catalog_jobs(fx->cat, &f, &list, &n), CAT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].uuid, j3);
	cat_jobs_free(list, n);

	cat_filter_init(&f);
	f.schedule = b.schedule;
	assert_int_equal(catalog_jobs(fx->cat, &f, &list, &n), CAT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].uuid, j2);
	cat_jobs_free(list, n);

	cat_filter_init(&f);
	f.retention = b.retention;
	assert_int_equal(catalog_jobs(fx->cat, &f, &list, &n), CAT_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].uuid, j2);
	assert_string_equal(list[1].uuid, j3);
	cat_jobs_free(list, n);
	f.paused = 0;
	assert_int_equal(catalog_jobs(fx->cat, &f, &list, &n), CAT_OK);
	assert_int_equal(n, 0);
	assert_null(list);
	cat_jobs_free(list, n);

	/* A filter value that looks like SQL is just a value. */
	cat_filter_init(&f);
	f.target = "' OR 1=1 --";
	assert_int_equal(catalog_jobs(fx->cat, &f, &list, &n), CAT_OK);
	assert_int_equal(n, 0);
	cat_jobs_free(list, n);
}

/* A job reports its newest task: latest requested_at, then latest row. */
static void
test_catalog_job_last_task(void **state)
{
	struct fixture *fx = *state;
	struct refs r;
	struct cat_job got, *list;
	struct cat_filter f;
	size_t n;
	id_buf j1, j2, t1, t2, t3, t4, other;

	mk_refs(fx->cat, "a", &r);
	mk_job(fx->cat, "j1", &r, 0, j1);
	mk_job(fx->cat, "j2", &r, 0, j2);
	mk_task(fx->cat, "backup", j1, NULL, 100, t1);
	mk_task(fx->cat, "backup", j1, NULL, 200, t2);
	mk_task(fx->cat, "backup", j1, NULL, 200, t3);
	mk_task(fx->cat, "backup", j1, NULL, 150, t4);
	mk_task(fx->cat, "backup", j2, NULL, 50, other);
	assert_int_equal(catalog_task_start(fx->cat, t3, 201), CAT_OK);
	assert_int_equal(catalog_task_finish(fx->cat, t3, CAT_TASK_DONE, 260, 5,
	    NULL), CAT_OK);

	assert_int_equal(catalog_job_get(fx->cat, j1, &got), CAT_OK);
	assert_string_equal(got.last_task_uuid, t3);
	assert_string_equal(got.last_task_status, "done");
	assert_int_equal(got.last_task_started, 201);
	assert_int_equal(got.last_task_stopped, 260);
	cat_job_clear(&got);

	cat_filter_init(&f);
	assert_int_equal(catalog_jobs(fx->cat, &f, &list, &n), CAT_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].last_task_uuid, t3);
	assert_string_equal(list[1].last_task_uuid, other);
	assert_string_equal(list[1].last_task_status, "pending");
	assert_int_equal(list[1].last_task_started, 0);
	cat_jobs_free(list, n);
}

/* Archives: create, get with joins, notes, status, codes. */
static void
test_catalog_archive_crud(void **state)
{
	struct fixture *fx = *state;
	struct cat_archive in, got;
	id_buf t, s, a, job;
	struct refs r;

	mk_refs(fx->cat, "a", &r);
	mk_job(fx->cat, "j", &r, 0, job);
	memcpy(t, r.target, sizeof t);
	memcpy(s, r.store, sizeof s);

	memset(&in, 0, sizeof in);
	memcpy(in.target_uuid, t, sizeof in.target_uuid);
	memcpy(in.store_uuid, s, sizeof in.store_uuid);
	memcpy(in.job_uuid, job, sizeof in.job_uuid);
	in.store_key = "2024/01/01/abc";
	in.taken_at = 1000;
	in.expires_at = 2000;
	in.notes = NULL;
	in.size = 123456789012LL;
	snprintf(in.sha256, sizeof in.sha256, "%s",
	    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	assert_int_equal(catalog_archive_create(fx->cat, &in, a), CAT_OK);

	assert_int_equal(catalog_archive_get(fx->cat, a, &got), CAT_OK);
	assert_string_equal(got.uuid, a);
	assert_string_equal(got.target_uuid, t);
	assert_string_equal(got.store_uuid, s);
	assert_string_equal(got.job_uuid, job);
	assert_string_equal(got.store_key, "2024/01/01/abc");
	assert_int_equal(got.taken_at, 1000);
	assert_int_equal(got.expires_at, 2000);
	assert_string_equal(got.notes, "");
	assert_string_equal(cat_archive_status_name(got.status), "valid");
	assert_int_equal(got.size, 123456789012LL);
	assert_string_equal(got.sha256, in.sha256);
	assert_int_equal(got.purge_attempts, 0);
	assert_int_equal(got.purge_after, 0);
	assert_string_equal(got.target_name, "target-a");
	assert_string_equal(got.target_plugin, "fs");
	assert_string_equal(got.target_endpoint, "{\"k\":1}");
	assert_string_equal(got.store_name, "store-a");
	assert_string_equal(got.store_plugin, "s3");
	assert_string_equal(got.store_endpoint, "{\"k\":1}");
	cat_archive_clear(&got);

	assert_int_equal(catalog_archive_set_notes(fx->cat, a,
	    "before change #422"), CAT_OK);
	assert_int_equal(catalog_archive_set_status(fx->cat, a, CAT_ARCHIVE_EXPIRED),
	    CAT_OK);
	assert_int_equal(catalog_archive_get(fx->cat, a, &got), CAT_OK);
	assert_string_equal(got.notes, "before change #422");
	assert_string_equal(cat_archive_status_name(got.status), "expired");
	cat_archive_clear(&got);
	assert_int_equal(catalog_archive_set_notes(fx->cat, a, NULL), CAT_OK);
	assert_int_equal(catalog_archive_get(fx->cat, a, &got), CAT_OK);
	assert_string_equal(got.notes, "");
	cat_archive_clear(&got);

	/* The archive outlives its job and target; the joins become NULL. */
	assert_int_equal(catalog_job_delete(fx->cat, job), CAT_OK);
	assert_int_equal(catalog_system_delete(fx->cat, CAT_TARGET, t),
	    CAT_OK);
	assert_int_equal(catalog_archive_get(fx->cat, a, &got), CAT_OK);
	assert_null(got.target_name);
	assert_null(got.target_plugin);
	assert_null(got.target_endpoint);
	assert_string_equal(got.store_name, "store-a");
	assert_string_equal(got.job_uuid, job);
	cat_archive_clear(&got);

	id_new(a);
	assert_int_equal(catalog_archive_get(fx->cat, a, &got), CAT_NOTFOUND);
	assert_int_equal(catalog_archive_set_notes(fx->cat, a, "x"),
	    CAT_NOTFOUND);
	assert_int_equal(catalog_archive_set_status(fx->cat, a, CAT_ARCHIVE_PURGED),
	    CAT_NOTFOUND);
	assert_int_equal(catalog_archive_purge_failed(fx->cat, a, 5),
	    CAT_NOTFOUND);
}

/* Archive lists are newest first and honour every filter and the limit. */
static void
test_catalog_archive_filters(void **state)
{
	struct fixture *fx = *state;
	struct cat_archive *list;
	struct cat_filter f;
	size_t n;
	id_buf t1, t2, s1, s2, j, a1, a2, a3, a4;

	mk_system(fx->cat, CAT_TARGET, "t1", "fs", t1);
	mk_system(fx->cat, CAT_TARGET, "t2", "fs", t2);
	mk_system(fx->cat, CAT_STORE, "s1", "fs", s1);
	mk_system(fx->cat, CAT_STORE, "s2", "fs", s2);
	id_new(j);
	/* Days 1..4 of 2024 at noon, in seconds. */
	mk_archive(fx->cat, t1, s1, j, 1704110400, 1, NULL, 1, a1);
	mk_archive(fx->cat, t1, s2, NULL, 1704196800, 1, "purged", 1, a2);
	mk_archive(fx->cat, t2, s1, j, 1704283200, 1, NULL, 1, a3);
	mk_archive(fx->cat, t2, s2, NULL, 1704369600, 1, "expired", 1, a4);

	cat_filter_init(&f);
	assert_int_equal(catalog_archives(fx->cat, &f, &list, &n), CAT_OK);
	assert_int_equal(n, 4);
	assert_string_equal(list[0].uuid, a4);
	assert_string_equal(list[1].uuid, a3);
	assert_string_equal(list[2].uuid, a2);
	assert_string_equal(list[3].uuid, a1);
	assert_string_equal(list[1].target_name, "t2");
	assert_string_equal(list[1].store_name, "s1");
	cat_archives_free(list, n);

	f.target = t1;
	assert_int_equal(catalog_archives(fx->cat, &f, &list, &n), CAT_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].uuid, a2);
	assert_string_equal(list[1].uuid, a1);
	cat_archives_free(list, n);

	cat_filter_init(&f);
	f.store = s1;
	assert_int_equal(catalog_archives(fx->cat, &f, &list, &n), CAT_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].uuid, a3);
	cat_archives_free(list, n);

	cat_filter_init(&f);
	f.job = j;
	f.target = t2;
	assert_int_equal(catalog_archives(fx->cat, &f, &list, &n), CAT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].uuid, a3);
	cat_archives_free(list, n);

	cat_filter_init(&f);
	f.status = CAT_ARCHIVE_VALID;
	assert_int_equal(catalog_archives(fx->cat, &f, &list, &n), CAT_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].uuid, a3);
	assert_string_equal(list[1].uuid, a1);
	cat_archives_free(list, n);

	/* after is inclusive, before exclusive. */
	cat_filter_init(&f);
	f.after = 1704196800;
	f.before = 1704369600;
	assert_int_equal(catalog_archives(fx->cat, &f, &list, &n), CAT_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].uuid, a3);
	assert_string_equal(list[1].uuid, a2);
	cat_archives_free(list, n);

	cat_filter_init(&f);
	f.limit = 3;
	assert_int_equal(catalog_archives(fx->cat, &f, &list, &n), CAT_OK);
	assert_int_equal(n, 3);
	assert_string_equal(list[0].uuid, a4);
	assert_string_equal(list[2].uuid, a2);
	cat_archives_free(list, n);

	cat_filter_init(&f);
	f.store = s2;
	f.status = CAT_ARCHIVE_VALID;
	assert_int_equal(catalog_archives(fx->cat, &f, &list, &n), CAT_OK);
	assert_int_equal(n, 0);
	cat_archives_free(list, n);
}

/* The purger's queries: what is due, when next, and failed purges. */
static void
test_catalog_archive_expiry(void **state)
{
	struct fixture *fx = *state;
	struct cat_archive *list, got;
	size_t n;
	id_buf t, s, a1, a2, a3, a4;

	mk_system(fx->cat, CAT_TARGET, "t", "fs", t);
	mk_system(fx->cat, CAT_STORE, "s", "fs", s);
	assert_int_equal(catalog_archive_next_expiry(fx->cat), 0);
	assert_int_equal(catalog_archives_expired(fx->cat, 1000000, &list,
	    &n), CAT_OK);
	assert_int_equal(n, 0);
	cat_archives_free(list, n);

	mk_archive(fx->cat, t, s, NULL, 1, 500, NULL, 1, a1);
	mk_archive(fx->cat, t, s, NULL, 1, 300, "expired", 1, a2);
	mk_archive(fx->cat, t, s, NULL, 1, 100, "purged", 1, a3);
	mk_archive(fx->cat, t, s, NULL, 1, 900, NULL, 1, a4);

	/* Purged archives are done with. */
	assert_int_equal(catalog_archive_next_expiry(fx->cat), 300);
	assert_int_equal(catalog_archives_expired(fx->cat, 299, &list, &n),
	    CAT_OK);
	assert_int_equal(n, 0);
	cat_archives_free(list, n);
	assert_int_equal(catalog_archives_expired(fx->cat, 500, &list, &n),
	    CAT_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].uuid, a2);
	assert_string_equal(list[1].uuid, a1);
	assert_string_equal(list[1].store_name, "s");
	cat_archives_free(list, n);

	/* A failed purge is held back until purge_after. */
	assert_int_equal(catalog_archive_purge_failed(fx->cat, a2, 700),
	    CAT_OK);
	assert_int_equal(catalog_archive_purge_failed(fx->cat, a2, 800),
	    CAT_OK);
	assert_int_equal(catalog_archive_get(fx->cat, a2, &got), CAT_OK);
	assert_int_equal(got.purge_attempts, 2);
	assert_int_equal(got.purge_after, 800);
	cat_archive_clear(&got);
	assert_int_equal(catalog_archive_next_expiry(fx->cat), 500);
	assert_int_equal(catalog_archives_expired(fx->cat, 600, &list, &n),
	    CAT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].uuid, a1);
	cat_archives_free(list, n);

	assert_int_equal(catalog_archive_set_status(fx->cat, a1, CAT_ARCHIVE_PURGED),
	    CAT_OK);
	assert_int_equal(catalog_archive_next_expiry(fx->cat), 800);
	assert_int_equal(catalog_archives_expired(fx->cat, 900, &list, &n),
	    CAT_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].uuid, a2);
	assert_string_equal(list[1].uuid, a4);
	cat_archives_free(list, n);
}

/* Store usage counts only valid archives, per existing store. */
static void
test_catalog_store_usage(void **state)
{
	struct fixture *fx = *state;
	struct cat_store_usage *u;
	size_t n;
	id_buf t, s1, s2, s3, a;

	mk_system(fx->cat, CAT_TARGET, "t", "fs", t);
	mk_system(fx->cat, CAT_STORE, "alpha", "fs", s1);
	mk_system(fx->cat, CAT_STORE, "beta", "fs", s2);
	id_new(s3);		/* a store that no longer exists */
	mk_archive(fx->cat, t, s1, NULL, 1, 2, NULL, 100, a);
	mk_archive(fx->cat, t, s1, NULL, 1, 2, NULL, 50, a);
	mk_archive(fx->cat, t, s1, NULL, 1, 2, "purged", 1000, a);
	mk_archive(fx->cat, t, s1, NULL, 1, 2, "expired", 7, a);
	mk_archive(fx->cat, t, s3, NULL, 1, 2, NULL, 9, a);

	assert_int_equal(catalog_store_usage(fx->cat, &u, &n), CAT_OK);
	assert_int_equal(n, 2);
	assert_string_equal(u[0].store_uuid, s1);
	assert_string_equal(u[0].store_name, "alpha");
	assert_int_equal(u[0].archives, 2);
	assert_int_equal(u[0].bytes, 150);
	assert_string_equal(u[1].store_uuid, s2);
	assert_int_equal(u[1].archives, 0);
	assert_int_equal(u[1].bytes, 0);
	cat_store_usage_free(u, n);
}

/* A task from pending to done, with logs appended along the way. */
static void
test_catalog_task_lifecycle(void **state)
{
	struct fixture *fx = *state;
	struct cat_task in, got;
	id_buf task, job, archive, target, store;

	id_new(job);
	id_new(archive);
	id_new(target);
	id_new(store);
	memset(&in, 0, sizeof in);
	in.owner = "admin";
	in.type = CAT_TASK_RESTORE;
	memcpy(in.job_uuid, job, sizeof in.job_uuid);
	memcpy(in.archive_uuid, archive, sizeof in.archive_uuid);
	memcpy(in.target_uuid, target, sizeof in.target_uuid);
	memcpy(in.store_uuid, store, sizeof in.store_uuid);
	assert_int_equal(catalog_task_create(fx->cat, &in, 1000, task),
	    CAT_OK);

	assert_int_equal(catalog_task_get(fx->cat, task, &got), CAT_OK);
	assert_string_equal(got.uuid, task);
	assert_string_equal(got.owner, "admin");
	assert_string_equal(cat_task_type_name(got.type), "restore");
	assert_string_equal(got.job_uuid, job);
	assert_string_equal(got.archive_uuid, archive);
	assert_string_equal(got.target_uuid, target);
	assert_string_equal(got.store_uuid, store);
	assert_string_equal(cat_task_status_name(got.status), "pending");
	assert_int_equal(got.requested_at, 1000);
	assert_int_equal(got.started_at, 0);
	assert_int_equal(got.stopped_at, 0);
	assert_null(got.error);
	assert_null(got.last_log);
	cat_task_clear(&got);
	assert_log(fx->cat, task, 0, 0, "");
	assert_log(fx->cat, task, 1, 0, "");
	assert_int_equal(catalog_job_busy(fx->cat, job), 1);

	assert_int_equal(catalog_task_start(fx->cat, task, 1001), CAT_OK);
	assert_int_equal(catalog_job_busy(fx->cat, job), 1);
	assert_int_equal(log_put(fx->cat, task, 1, 1, "line 1"), CAT_OK);
	assert_int_equal(log_put(fx->cat, task, 2, 0, "dbg 1"), CAT_OK);
	assert_int_equal(log_put(fx->cat, task, 3, 0, "dbg 2"), CAT_OK);
	assert_int_equal(log_put(fx->cat, task, 4, 2, "line 2"), CAT_OK);
	/* A seq is stored once. */
	assert_int_equal(log_put(fx->cat, task, 4, 3, "again"), CAT_EXISTS);
	assert_int_equal(catalog_task_get(fx->cat, task, &got), CAT_OK);
	assert_string_equal(cat_task_status_name(got.status), "running");
	assert_int_equal(got.started_at, 1001);
	assert_string_equal(got.last_log, "line 2");
	cat_task_clear(&got);
	assert_log(fx->cat, task, 0, 0, "line 1\nline 2\n");
	assert_log(fx->cat, task, 1, 0, "line 1\ndbg 1\ndbg 2\nline 2\n");
	assert_log(fx->cat, task, 0, 1, "line 2\n");
	assert_log(fx->cat, task, 0, 2, "");

	assert_int_equal(catalog_task_finish(fx->cat, task, CAT_TASK_FAILED, 1010,
	    4096, "store plugin exited 2"), CAT_OK);
	assert_int_equal(catalog_task_get(fx->cat, task, &got), CAT_OK);
	assert_string_equal(cat_task_status_name(got.status), "failed");
	assert_int_equal(got.stopped_at, 1010);
	assert_int_equal(got.bytes, 4096);
	assert_string_equal(got.error, "store plugin exited 2");
	cat_task_clear(&got);
	assert_int_equal(catalog_job_busy(fx->cat, job), 0);

	/* Finishing without an error clears it. */
	assert_int_equal(catalog_task_finish(fx->cat, task, CAT_TASK_DONE, 1011, 1,
	    NULL), CAT_OK);
	assert_int_equal(catalog_task_get(fx->cat, task, &got), CAT_OK);
	assert_null(got.error);
	assert_string_equal(cat_task_status_name(got.status), "done");
	cat_task_clear(&got);

	/* A task with no references reads them back as "". */
	memset(&in, 0, sizeof in);
	in.type = CAT_TASK_PURGE;
	assert_int_equal(catalog_task_create(fx->cat, &in, 5, task), CAT_OK);
	assert_int_equal(catalog_task_get(fx->cat, task, &got), CAT_OK);
	assert_string_equal(got.owner, "");
	assert_string_equal(got.job_uuid, "");
	assert_string_equal(got.archive_uuid, "");
	cat_task_clear(&got);

	id_new(task);
	assert_int_equal(catalog_task_get(fx->cat, task, &got), CAT_NOTFOUND);
	assert_int_equal(catalog_task_start(fx->cat, task, 1), CAT_NOTFOUND);
	assert_int_equal(catalog_task_finish(fx->cat, task, CAT_TASK_DONE, 1, 0,
	    NULL), CAT_NOTFOUND);
	assert_int_equal(log_put(fx->cat, task, 1, 1, "x"), CAT_NOTFOUND);
	assert_int_equal(catalog_job_busy(fx->cat, task), 0);
}

/* Task lists: newest first, filters, limit, logs only on request. */
static void
test_catalog_task_list(void **state)
{
	struct fixture *fx = *state;
	struct cat_task *list;
	struct cat_filter f;
	size_t n;
	id_buf j1, j2, t1, x1, x2, x3, x4;

	id_new(j1);
	id_new(j2);
	id_new(t1);
	mk_task(fx->cat, "backup", j1, t1, 100, x1);
	mk_task(fx->cat, "backup", j2, NULL, 300, x2);
	mk_task(fx->cat, "restore", NULL, t1, 200, x3);
	mk_task(fx->cat, "backup", j1, t1, 300, x4);
	assert_int_equal(catalog_task_start(fx->cat, x1, 101), CAT_OK);
	assert_int_equal(catalog_task_finish(fx->cat, x1, CAT_TASK_DONE, 102, 0,
	    NULL), CAT_OK);
	assert_int_equal(log_put(fx->cat, x4, 1, 0, "debug"), CAT_OK);
	assert_int_equal(log_put(fx->cat, x4, 2, 1, "log"), CAT_OK);

	cat_filter_init(&f);
	assert_int_equal(catalog_tasks(fx->cat, &f, 0, &list, &n), CAT_OK);
	assert_int_equal(n, 4);
	/* Same requested_at: the later row first. */
	assert_string_equal(list[0].uuid, x4);
	assert_string_equal(list[1].uuid, x2);
	assert_string_equal(list[2].uuid, x3);
	assert_string_equal(list[3].uuid, x1);
	assert_null(list[0].last_log);
	assert_string_equal(list[0].owner, "system");
	cat_tasks_free(list, n);

	/* The newest line of the task log, not of the debug log. */
	assert_int_equal(catalog_tasks(fx->cat, &f, 1, &list, &n), CAT_OK);
	assert_int_equal(n, 4);
	assert_string_equal(list[0].last_log, "log");
	assert_null(list[1].last_log);
	cat_tasks_free(list, n);

	f.limit = 2;
	assert_int_equal(catalog_tasks(fx->cat, &f, 0, &list, &n), CAT_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].uuid, x4);
	assert_string_equal(list[1].uuid, x2);
	cat_tasks_free(list, n);

	/* Pages: an offset with a limit, and alone. */
	f.offset = 1;
	assert_int_equal(catalog_tasks(fx->cat, &f, 1, &list, &n), CAT_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].uuid, x2);
	assert_string_equal(list[1].uuid, x3);
	cat_tasks_free(list, n);
	f.limit = 0;
	f.offset = 3;
	assert_int_equal(catalog_tasks(fx->cat, &f, 0, &list, &n), CAT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].uuid, x1);
	cat_tasks_free(list, n);
	f.offset = 4;
	assert_int_equal(catalog_tasks(fx->cat, &f, 0, &list, &n), CAT_OK);
	assert_int_equal(n, 0);
	cat_tasks_free(list, n);

	cat_filter_init(&f);
	f.status = CAT_TASK_DONE;
	assert_int_equal(catalog_tasks(fx->cat, &f, 0, &list, &n), CAT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].uuid, x1);
	cat_tasks_free(list, n);
	f.status = CAT_TASK_PENDING;
	assert_int_equal(catalog_tasks(fx->cat, &f, 0, &list, &n), CAT_OK);
	assert_int_equal(n, 3);
	cat_tasks_free(list, n);

	cat_filter_init(&f);
	f.job = j1;
	assert_int_equal(catalog_tasks(fx->cat, &f, 0, &list, &n), CAT_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].uuid, x4);
	assert_string_equal(list[1].uuid, x1);
	cat_tasks_free(list, n);

	cat_filter_init(&f);
	f.target = t1;
	assert_int_equal(catalog_tasks(fx->cat, &f, 0, &list, &n), CAT_OK);
	assert_int_equal(n, 3);
	cat_tasks_free(list, n);
	f.job = j1;
	f.status = CAT_TASK_PENDING;
	f.limit = 5;
	assert_int_equal(catalog_tasks(fx->cat, &f, 1, &list, &n), CAT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].uuid, x4);
	cat_tasks_free(list, n);
}

/* Inserts a task with old-style text logs into a version 1 file. */
static void
old_task(sqlite3 *db, const char *uuid, const char *log, const char *debug)
{
	sqlite3_stmt *st;

	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO tasks (uuid, op,"
	    " status, requested_at, log, debug) VALUES (?1, 'backup', 'done',"
	    " 1, ?2, ?3)", -1, &st, NULL), SQLITE_OK);
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, log, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, debug, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
}

/*
 * A catalog whose task logs are text columns (schema version 1) has them
 * moved into rows, split into the task log and the debug-only lines and
 * capped like new logs; the old columns are gone.
 */
static void
test_catalog_migrate_task_logs(void **state)
{
	struct fixture *fx = *state;
	const char *a = "10000000-0000-4000-8000-00000000000a";
	const char *b = "10000000-0000-4000-8000-00000000000b";
	const char *c = "10000000-0000-4000-8000-00000000000c";
	const char *d = "10000000-0000-4000-8000-00000000000d";
	char *err = NULL, *blog, *bdebug, *text, line[32];
	size_t nl = 0, nd = 0;
	struct cat_task t;
	sqlite3_stmt *st;
	sqlite3 *db;
	int i;

	catalog_free(fx->cat);
	fx->cat = NULL;
	unlink(fx->path);
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE tasks ("
	    "  uuid TEXT PRIMARY KEY, owner TEXT NOT NULL DEFAULT '',"
	    "  op TEXT NOT NULL, job_uuid TEXT, archive_uuid TEXT,"
	    "  target_uuid TEXT, store_uuid TEXT,"
	    "  status TEXT NOT NULL DEFAULT 'pending',"
	    "  requested_at INTEGER NOT NULL,"
	    "  started_at INTEGER NOT NULL DEFAULT 0,"
	    "  stopped_at INTEGER NOT NULL DEFAULT 0,"
	    "  bytes INTEGER NOT NULL DEFAULT 0, error TEXT,"
	    "  log TEXT NOT NULL DEFAULT '', debug TEXT NOT NULL DEFAULT '');"
	    "PRAGMA user_version = 1;", NULL, NULL, NULL), SQLITE_OK);
	old_task(db, a, "a1\na2\n", "a1\nd1\na2\nd2\n");
	/* 6000 lines, a debug-only one after every 1000th. */
	blog = malloc(6000 * 16);
	bdebug = malloc(6006 * 16);
	assert_true(blog != NULL && bdebug != NULL);
	for (i = 1; i <= 6000; i++) {
		snprintf(line, sizeof line, "b%d\n", i);
		memcpy(blog + nl, line, strlen(line) + 1);
		nl += strlen(line);
		memcpy(bdebug + nd, line, strlen(line) + 1);
		nd += strlen(line);
		if (i % 1000 == 0) {
			memcpy(bdebug + nd, "dbg\n", 5);
			nd += 4;
		}
	}
	old_task(db, b, blog, bdebug);
	free(blog);
	free(bdebug);
	old_task(db, c, "", "");
	old_task(db, d, "only in the log", "");
	sqlite3_close(db);

	fx->cat = catalog_open(fx->path, &err);
	if (fx->cat == NULL)
		fail_msg("catalog_open: %s", err);
	assert_true(catalog_schema_version(fx->cat) >= 3);

	assert_log(fx->cat, a, 0, 0, "a1\na2\n");
	assert_log(fx->cat, a, 1, 0, "a1\nd1\na2\nd2\n");
	assert_int_equal(catalog_task_get(fx->cat, a, &t), CAT_OK);
	assert_string_equal(t.last_log, "a2");
	cat_task_clear(&t);
	assert_log(fx->cat, c, 1, 0, "");
	assert_log(fx->cat, d, 1, 0, "only in the log\n");
	assert_log(fx->cat, d, 0, 0, "only in the log\n");

	/* Lines 1-1000 and the 4000 last of 6006 (from b2005). */
	assert_int_equal(catalog_task_log(fx->cat, b, 0, 0, &text, NULL),
	    CAT_OK);
	assert_non_null(strstr(text, "b1\nb2\n"));
	assert_non_null(strstr(text, "\nb1000\n... 1004 lines cut ...\n"
	    "b2005\n"));
	assert_int_equal(strlen(text) - strlen(strstr(text, "b6000\n")),
	    strlen(text) - strlen("b6000\n"));
	free(text);
	assert_int_equal(catalog_task_log(fx->cat, b, 1, 0, &text, NULL),
	    CAT_OK);
	assert_non_null(strstr(text, "\nb1000\n... 1006 lines cut ...\n"));
	assert_non_null(strstr(text, "\nb5000\ndbg\nb5001\n"));
	free(text);

	/* The text columns are gone. */
	assert_int_equal(sqlite3_open(fx->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM"
	    " pragma_table_info('tasks') WHERE name IN ('log', 'debug')", -1,
	    &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* After a crash, pending and running tasks fail; counts follow. */
static void
test_catalog_task_interrupt_and_counts(void **state)
{
	struct fixture *fx = *state;
	static const char *const names[] = { "pending", "running", "failed",
	    "done", "canceled", "bogus" };
	int64_t counts[6];
	struct cat_task got;
	id_buf a, b, c, d, e;

	mk_task(fx->cat, "backup", NULL, NULL, 1, a);
	mk_task(fx->cat, "backup", NULL, NULL, 2, b);
	mk_task(fx->cat, "backup", NULL, NULL, 3, c);
	mk_task(fx->cat, "backup", NULL, NULL, 4, d);
	mk_task(fx->cat, "backup", NULL, NULL, 5, e);
	assert_int_equal(catalog_task_start(fx->cat, b, 10), CAT_OK);
	assert_int_equal(catalog_task_start(fx->cat, c, 10), CAT_OK);
	assert_int_equal(catalog_task_finish(fx->cat, c, CAT_TASK_DONE, 11, 0, NULL),
	    CAT_OK);
	assert_int_equal(catalog_task_finish(fx->cat, d, CAT_TASK_CANCELED, 12, 0,
	    NULL), CAT_OK);

	assert_int_equal(task_counts_by_name(fx->cat, names, 6, counts),
	    CAT_OK);
	assert_int_equal(counts[0], 2);
	assert_int_equal(counts[1], 1);
	assert_int_equal(counts[2], 0);
	assert_int_equal(counts[3], 1);
	assert_int_equal(counts[4], 1);
	assert_int_equal(counts[5], 0);

	assert_int_equal(catalog_tasks_interrupt(fx->cat, 99,
	    "interrupted by restart"), 3);
	assert_int_equal(catalog_task_get(fx->cat, b, &got), CAT_OK);
	assert_string_equal(cat_task_status_name(got.status), "failed");
	assert_int_equal(got.stopped_at, 99);
	assert_int_equal(got.started_at, 10);
	assert_string_equal(got.error, "interrupted by restart");
	cat_task_clear(&got);
	assert_int_equal(catalog_task_get(fx->cat, c, &got), CAT_OK);
	assert_string_equal(cat_task_status_name(got.status), "done");
	assert_int_equal(got.stopped_at, 11);
	assert_null(got.error);
	cat_task_clear(&got);

	assert_int_equal(task_counts_by_name(fx->cat, names, 6, counts),
	    CAT_OK);
	assert_int_equal(counts[0], 0);
	assert_int_equal(counts[1], 0);
	assert_int_equal(counts[2], 3);
	assert_int_equal(counts[3], 1);
	assert_int_equal(catalog_tasks_interrupt(fx->cat, 100, "again"), 0);
}

/* Users: unique names, lookup by name and uuid, the count. */
static void
test_catalog_users(void **state)
{
	struct fixture *fx = *state;
	struct cat_user u;
	int64_t count = -1;
	id_buf a, b, c;

	assert_int_equal(catalog_user_count(fx->cat, &count), CAT_OK);
	assert_int_equal(count, 0);
	assert_int_equal(catalog_user_create(fx->cat, "admin",
	    "$argon2id$v=19$m=65536,t=2,p=1$salt$hash", a), CAT_OK);
	assert_int_equal(catalog_user_create(fx->cat, "admin", "other", b),
	    CAT_EXISTS);
	assert_int_equal(catalog_user_create(fx->cat, "Admin", "x", c),
	    CAT_OK);
	assert_int_equal(catalog_user_count(fx->cat, &count), CAT_OK);
	assert_int_equal(count, 2);

	assert_int_equal(catalog_user_get_by_name(fx->cat, "admin", &u),
	    CAT_OK);
	assert_string_equal(u.uuid, a);
	assert_string_equal(u.pwhash,
	    "$argon2id$v=19$m=65536,t=2,p=1$salt$hash");
	cat_user_clear(&u);
	assert_null(u.name);
	assert_int_equal(catalog_user_get(fx->cat, c, &u), CAT_OK);
	assert_string_equal(u.name, "Admin");
	cat_user_clear(&u);
	assert_int_equal(catalog_user_get_by_name(fx->cat, "nobody", &u),
	    CAT_NOTFOUND);
	id_new(b);
	assert_int_equal(catalog_user_get(fx->cat, b, &u), CAT_NOTFOUND);
}

/* Fills a token record. */
static void
token_init(struct cat_token *t, const char *user, const char *name,
    const char *kind, char hashch, int64_t expires)
{
	memset(t, 0, sizeof *t);
	snprintf(t->user_uuid, sizeof t->user_uuid, "%s", user);
	t->name = (char *)name;
	snprintf(t->kind, sizeof t->kind, "%s", kind);
	memset(t->hash, hashch, 64);
	t->hash[64] = '\0';
	t->created_at = 1000 + hashch;
	t->expires_at = expires;
}

/* Tokens: find honours expiry, lists hold API tokens, deletes, expire. */
static void
test_catalog_tokens(void **state)
{
	struct fixture *fx = *state;
	struct cat_token in, got, *list;
	size_t n;
	id_buf u1, u2, sess, old, api1, api2, x;
	char hash[65];

	assert_int_equal(catalog_user_create(fx->cat, "u1", "h", u1), CAT_OK);
	assert_int_equal(catalog_user_create(fx->cat, "u2", "h", u2), CAT_OK);

	token_init(&in, u1, "", "session", 'a', 5000);
	assert_int_equal(catalog_token_create(fx->cat, &in, sess), CAT_OK);
	token_init(&in, u1, "", "session", 'b', 1500);
	assert_int_equal(catalog_token_create(fx->cat, &in, old), CAT_OK);
	token_init(&in, u1, "ci", "api", 'c', 0);
	assert_int_equal(catalog_token_create(fx->cat, &in, api1), CAT_OK);
	token_init(&in, u2, "backup-script", "api", 'd', 0);
	assert_int_equal(catalog_token_create(fx->cat, &in, api2), CAT_OK);

	/* The hash is unique; the user must exist. */
	token_init(&in, u2, "dup", "api", 'd', 0);
	assert_int_equal(catalog_token_create(fx->cat, &in, x), CAT_EXISTS);
	id_new(x);
	token_init(&in, x, "orphan", "api", 'e', 0);
	assert_int_equal(catalog_token_create(fx->cat, &in, x), CAT_BADREF);

	memset(hash, 'a', 64);
	hash[64] = '\0';
	assert_int_equal(catalog_token_find(fx->cat, hash, 4999, &got),
	    CAT_OK);
	assert_string_equal(got.uuid, sess);
	assert_string_equal(got.user_uuid, u1);
	assert_string_equal(got.kind, "session");
	assert_string_equal(got.name, "");
	assert_string_equal(got.hash, hash);
	assert_int_equal(got.expires_at, 5000);
	assert_int_equal(got.created_at, 1000 + 'a');
	cat_token_clear(&got);
	assert_int_equal(catalog_token_find(fx->cat, hash, 5000, &got),
	    CAT_NOTFOUND);
	memset(hash, 'c', 64);
	assert_int_equal(catalog_token_find(fx->cat, hash, INT64_MAX, &got),
	    CAT_OK);
	assert_string_equal(got.name, "ci");
	cat_token_clear(&got);
	memset(hash, 'z', 64);
	assert_int_equal(catalog_token_find(fx->cat, hash, 0, &got),
	    CAT_NOTFOUND);

	assert_int_equal(catalog_tokens(fx->cat, NULL, &list, &n), CAT_OK);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].uuid, api1);
	assert_string_equal(list[1].uuid, api2);
	assert_string_equal(list[1].name, "backup-script");
	cat_tokens_free(list, n);
	assert_int_equal(catalog_tokens(fx->cat, u2, &list, &n), CAT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].uuid, api2);
	cat_tokens_free(list, n);

	/* Expiry removes the old session only. */
	assert_int_equal(catalog_tokens_expire(fx->cat, 2000), CAT_OK);
	memset(hash, 'b', 64);
	assert_int_equal(catalog_token_find(fx->cat, hash, 0, &got),
	    CAT_NOTFOUND);
	memset(hash, 'a', 64);
	assert_int_equal(catalog_token_find(fx->cat, hash, 0, &got), CAT_OK);
	cat_token_clear(&got);

	assert_int_equal(catalog_token_delete_by_hash(fx->cat, hash), CAT_OK);
	assert_int_equal(catalog_token_find(fx->cat, hash, 0, &got),
	    CAT_NOTFOUND);
	assert_int_equal(catalog_token_delete_by_hash(fx->cat, hash),
	    CAT_NOTFOUND);
	assert_int_equal(catalog_token_delete(fx->cat, api1), CAT_OK);
	assert_int_equal(catalog_token_delete(fx->cat, api1), CAT_NOTFOUND);
	assert_int_equal(catalog_tokens(fx->cat, NULL, &list, &n), CAT_OK);
	assert_int_equal(n, 1);
	assert_string_equal(list[0].uuid, api2);
	cat_tokens_free(list, n);
}

/* Text of every awkward kind comes back exactly as it went in. */
static void
test_catalog_strings_verbatim(void **state)
{
	struct fixture *fx = *state;
	const char *samples[] = {
		"it's \"quoted\" `and` back\\slashed",
		"'); DROP TABLE jobs; --",
		"Robert'); DELETE FROM schedules WHERE ('1'='1",
		"\xc3\xa9t\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x92\xbe",
		"%s %n %d ?1 ?2 :name @x $y",
		"tabs\tand\nnew\r\nlines",
		"",
		NULL,		/* filled with 10,000 characters below */
	};
	size_t nsamples = sizeof samples / sizeof samples[0], i, n;
	struct cat_schedule s, sg, *sl;
	struct cat_system sys, sysg, *syl;
	struct cat_task tg;
	struct cat_archive ag;
	struct cat_filter f;
	char *big;
	id_buf id, t, st, task, arch;

	/* 10,000 bytes of a 10-byte pattern, so no UTF-8 sequence is cut. */
	big = malloc(10001);
	assert_non_null(big);
	for (i = 0; i < 10000; i++)
		big[i] = "ab'c\"d;e\xc3\xa9"[i % 10];
	big[10000] = '\0';
	samples[nsamples - 1] = big;
	mk_system(fx->cat, CAT_TARGET, "t", "fs", t);
	mk_system(fx->cat, CAT_STORE, "s", "fs", st);

	for (i = 0; i < nsamples; i++) {
		const char *v = samples[i];

		memset(&s, 0, sizeof s);
		s.name = (char *)v;
		s.summary = (char *)v;
		s.when = (char *)v;
		assert_int_equal(catalog_schedule_create(fx->cat, &s, id),
		    CAT_OK);
		assert_int_equal(catalog_schedule_get(fx->cat, id, &sg),
		    CAT_OK);
		assert_string_equal(sg.name, v);
		assert_string_equal(sg.summary, v);
		assert_string_equal(sg.when, v);
		cat_schedule_clear(&sg);

		memset(&sys, 0, sizeof sys);
		sys.name = (char *)v;
		sys.summary = (char *)v;
		sys.plugin = (char *)v;
		sys.endpoint = (char *)v;
		assert_int_equal(catalog_system_create(fx->cat, CAT_TARGET,
		    &sys, id), CAT_OK);
		assert_int_equal(catalog_system_get(fx->cat, CAT_TARGET, id,
		    &sysg), CAT_OK);
		assert_string_equal(sysg.endpoint, v);
		assert_string_equal(sysg.plugin, v);
		cat_system_clear(&sysg);

		/* The plugin filter matches the odd value exactly. */
		cat_filter_init(&f);
		f.plugin = v;
		assert_int_equal(catalog_systems(fx->cat, CAT_TARGET, &f,
		    &syl, &n), CAT_OK);
		assert_int_equal(n, 1);
		cat_systems_free(syl, n);

		mk_task(fx->cat, "backup", NULL, NULL, 1, task);
		assert_int_equal(log_put(fx->cat, task, 1, 1, v), CAT_OK);
		assert_int_equal(log_put(fx->cat, task, 2, 0, v), CAT_OK);
		assert_int_equal(catalog_task_finish(fx->cat, task, CAT_TASK_FAILED,
		    2, 0, v), CAT_OK);
		assert_int_equal(catalog_task_get(fx->cat, task, &tg), CAT_OK);
		assert_string_equal(tg.last_log, v);
		assert_string_equal(tg.error, v);
		cat_task_clear(&tg);
		{
			char *text = NULL;

			assert_int_equal(catalog_task_log(fx->cat, task, 1, 0,
			    &text, NULL), CAT_OK);
			assert_int_equal(strlen(text), 2 * strlen(v) + 2);
			assert_memory_equal(text, v, strlen(v));
			assert_memory_equal(text + strlen(v) + 1, v,
			    strlen(v));
			free(text);
		}

		mk_archive(fx->cat, t, st, NULL, 1, 2, NULL, 0, arch);
		assert_int_equal(catalog_archive_set_notes(fx->cat, arch, v),
		    CAT_OK);
		assert_int_equal(catalog_archive_get(fx->cat, arch, &ag),
		    CAT_OK);
		assert_string_equal(ag.notes, v);
		cat_archive_clear(&ag);
	}
	/* Nothing was dropped or rewritten by the hostile values. */
	cat_filter_init(&f);
	assert_int_equal(catalog_schedules(fx->cat, &f, &sl, &n), CAT_OK);
	assert_int_equal(n, nsamples);
	cat_schedules_free(sl, n);
	free(big);
}

/* Seconds since an arbitrary point, for timing. */
static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/*
 * Listing many jobs is one query: 1,000 jobs through the API functions,
 * then 100,000 (inserted in bulk through a second connection), each with
 * tasks, list completely and in order.  The time is printed, not asserted:
 * speed is the benchmark's business (test/bench).
 */
static void
test_catalog_jobs_many(void **state)
{
	struct fixture *fx = *state;
	struct cat_job *list;
	struct cat_filter f;
	struct refs r;
	size_t n, i;
	id_buf job, task;
	char name[32], *sql;
	double t0, dt;

	mk_refs(fx->cat, "a", &r);
	for (i = 0; i < 1000; i++) {
		snprintf(name, sizeof name, "job-%05zu", i);
		mk_job(fx->cat, name, &r, (int)(i % 2), job);
		if (i % 3 == 0)
			mk_task(fx->cat, "backup", job, r.target,
			    (int64_t)i, task);
	}
	cat_filter_init(&f);
	t0 = now_seconds();
	assert_int_equal(catalog_jobs(fx->cat, &f, &list, &n), CAT_OK);
	dt = now_seconds() - t0;
	assert_int_equal(n, 1000);
	assert_string_equal(list[0].name, "job-00000");
	assert_string_equal(list[999].name, "job-00999");
	assert_string_equal(list[999].last_task_uuid, task);
	assert_string_equal(list[1].last_task_uuid, "");
	cat_jobs_free(list, n);
	print_message("catalog_jobs: 1,000 jobs in %.3f s\n", dt);

	/* 99,000 more jobs and a task for each, in one transaction. */
	if (asprintf(&sql,
	    "BEGIN;"
	    "WITH RECURSIVE c(i) AS (SELECT 1000 UNION ALL"
	    "  SELECT i + 1 FROM c WHERE i < 99999)"
	    " INSERT INTO jobs (uuid, name, summary, target_uuid, store_uuid,"
	    "  schedule_uuid, retention_uuid, paused)"
	    " SELECT printf('00000000-0000-4000-8000-%%012d', i),"
	    "  printf('job-%%05d', i), 'bulk', '%s', '%s', '%s', '%s', 0"
	    " FROM c;"
	    "INSERT INTO tasks (uuid, op, job_uuid, status, requested_at)"
	    " SELECT printf('10000000-0000-4000-8000-%%012d', rowid),"
	    "  'backup', uuid, 'done', rowid FROM jobs WHERE summary = 'bulk';"
	    "COMMIT;", r.target, r.store, r.schedule, r.retention) < 0)
		fail();
	file_exec(fx->path, sql);
	free(sql);

	t0 = now_seconds();
	assert_int_equal(catalog_jobs(fx->cat, &f, &list, &n), CAT_OK);
	dt = now_seconds() - t0;
	assert_int_equal(n, 100000);
	assert_string_equal(list[99999].name, "job-99999");
	assert_string_equal(list[99999].last_task_status, "done");
	assert_string_equal(list[99999].target_name, "target-a");
	cat_jobs_free(list, n);
	print_message("catalog_jobs: 100,000 jobs in %.3f s\n", dt);

	f.paused = 1;
	assert_int_equal(catalog_jobs(fx->cat, &f, &list, &n), CAT_OK);
	assert_int_equal(n, 500);
	cat_jobs_free(list, n);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_catalog_migrations_idempotent),
		T(test_catalog_refuses_newer_schema),
		T(test_catalog_key_id),
		T(test_catalog_open_errors),
		T(test_catalog_reopen_persists),
		T(test_catalog_schedule_crud),
		T(test_catalog_retention_crud),
		T(test_catalog_system_crud),
		T(test_catalog_unused_and_inuse),
		T(test_catalog_store_inuse_by_archives),
		T(test_catalog_job_crud),
		T(test_catalog_job_badref),
		T(test_catalog_job_filters),
		T(test_catalog_job_last_task),
		T(test_catalog_archive_crud),
		T(test_catalog_archive_filters),
		T(test_catalog_archive_expiry),
		T(test_catalog_store_usage),
		T(test_catalog_task_lifecycle),
		T(test_catalog_task_list),
		T(test_catalog_task_interrupt_and_counts),
		T(test_catalog_migrate_task_logs),
		T(test_catalog_users),
		T(test_catalog_tokens),
		T(test_catalog_strings_verbatim),
		T(test_catalog_jobs_many),
#undef T
	};

	log_init(LOG_LEVEL_WARN, "test_catalog");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
