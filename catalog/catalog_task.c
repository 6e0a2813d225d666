/*
 * Tasks in the catalog: one row per backup, restore or purge, from pending
 * through running to a final status, with its logs.  Logs can be large, so
 * lists read them only when asked.
 */
#include <stdlib.h>
#include <string.h>

#include "catalog_internal.h"

#define TASK_COLUMNS							\
	"k.uuid, k.owner, k.op, k.job_uuid, k.archive_uuid,"		\
	" k.target_uuid, k.store_uuid, k.status, k.requested_at,"	\
	" k.started_at, k.stopped_at, k.bytes, k.error"
#define TASK_LOG_COLUMNS	", k.log, k.debug"
/* Where the log columns start when they are selected. */
#define TASK_LOG_COLUMN		13

/* Frees a task's strings. */
void
cat_task_clear(struct cat_task *t)
{
	free(t->owner);
	free(t->error);
	free(t->log);
	free(t->debug);
	memset(t, 0, sizeof *t);
}

/* Frees a list of tasks. */
void
cat_tasks_free(struct cat_task *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		cat_task_clear(&list[i]);
	free(list);
}

/* Reads TASK_COLUMNS and, when selected, the logs. */
static void
task_row(sqlite3_stmt *st, void *p)
{
	struct cat_task *t = p;

	cat_col_copy(st, 0, t->uuid, sizeof t->uuid);
	t->owner = cat_col_dup(st, 1);
	cat_col_copy(st, 2, t->op, sizeof t->op);
	cat_col_copy(st, 3, t->job_uuid, sizeof t->job_uuid);
	cat_col_copy(st, 4, t->archive_uuid, sizeof t->archive_uuid);
	cat_col_copy(st, 5, t->target_uuid, sizeof t->target_uuid);
	cat_col_copy(st, 6, t->store_uuid, sizeof t->store_uuid);
	cat_col_copy(st, 7, t->status, sizeof t->status);
	t->requested_at = sqlite3_column_int64(st, 8);
	t->started_at = sqlite3_column_int64(st, 9);
	t->stopped_at = sqlite3_column_int64(st, 10);
	t->bytes = sqlite3_column_int64(st, 11);
	t->error = cat_col_dup(st, 12);
	if (sqlite3_column_count(st) > TASK_LOG_COLUMN) {
		t->log = cat_col_dup(st, TASK_LOG_COLUMN);
		t->debug = cat_col_dup(st, TASK_LOG_COLUMN + 1);
	}
}

/* cat_task_clear() for cat_collect(). */
static void
task_clear(void *p)
{
	cat_task_clear(p);
}

/* Lists tasks newest first, filtered by status, job and target. */
int
catalog_tasks(struct catalog *cat, const struct cat_filter *f,
    int with_logs, struct cat_task **out, size_t *n)
{
	static const char *const clauses[] = {
		"k.status = ?1",
		"k.job_uuid = ?2",
		"k.target_uuid = ?3",
	};
	sqlite3_stmt *st;
	unsigned int shape = 0;

	if (f->status != NULL)
		shape |= 1;
	if (f->job != NULL)
		shape |= 2;
	if (f->target != NULL)
		shape |= 4;
	/* Bits 3 and 4 change the tail and the columns, not the WHERE. */
	if (f->limit > 0)
		shape |= 8;
	if (with_logs)
		shape |= 16;
	st = cat_prepare_list(cat, LIST_TASKS, shape, (shape & 16) ?
	    "SELECT " TASK_COLUMNS TASK_LOG_COLUMNS " FROM tasks k" :
	    "SELECT " TASK_COLUMNS " FROM tasks k", clauses, 3, (shape & 8) ?
	    "ORDER BY k.requested_at DESC, k.rowid DESC LIMIT ?4" :
	    "ORDER BY k.requested_at DESC, k.rowid DESC");
	if (st == NULL)
		return CAT_ERR;
	if (shape & 1)
		cat_bind_text(st, 1, f->status);
	if (shape & 2)
		cat_bind_text(st, 2, f->job);
	if (shape & 4)
		cat_bind_text(st, 3, f->target);
	if (shape & 8)
		sqlite3_bind_int(st, 4, f->limit);
	return cat_collect(cat, st, sizeof **out, task_row, task_clear,
	    (void **)out, n);
}

/* Reads one task with its logs. */
int
catalog_task_get(struct catalog *cat, const char *uuid, struct cat_task *out)
{
	sqlite3_stmt *st;

	memset(out, 0, sizeof *out);
	st = cat_prepare(cat, SQL_TASK_GET,
	    "SELECT " TASK_COLUMNS TASK_LOG_COLUMNS " FROM tasks k"
	    " WHERE k.uuid = ?1");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, uuid);
	return cat_fetch(cat, st, task_row, out);
}

/* Inserts a pending task under a new uuid. */
int
catalog_task_create(struct catalog *cat, const struct cat_task *in,
    int64_t now, id_buf out)
{
	sqlite3_stmt *st;
	id_buf uuid;
	int status;

	st = cat_prepare(cat, SQL_TASK_CREATE,
	    "INSERT INTO tasks (uuid, owner, op, job_uuid, archive_uuid,"
	    " target_uuid, store_uuid, status, requested_at)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'pending', ?8)");
	if (st == NULL)
		return CAT_ERR;
	id_new(uuid);
	cat_bind_text(st, 1, uuid);
	cat_bind_text(st, 2, in->owner);
	cat_bind_text(st, 3, in->op);
	cat_bind_opt(st, 4, in->job_uuid);
	cat_bind_opt(st, 5, in->archive_uuid);
	cat_bind_opt(st, 6, in->target_uuid);
	cat_bind_opt(st, 7, in->store_uuid);
	sqlite3_bind_int64(st, 8, now);
	if ((status = cat_exec(cat, st, CAT_BADREF)) == CAT_OK)
		memcpy(out, uuid, sizeof uuid);
	return status;
}

/* Marks a task running since now. */
int
catalog_task_start(struct catalog *cat, const char *uuid, int64_t now)
{
	sqlite3_stmt *st;

	st = cat_prepare(cat, SQL_TASK_START,
	    "UPDATE tasks SET status = 'running', started_at = ?2"
	    " WHERE uuid = ?1");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, uuid);
	sqlite3_bind_int64(st, 2, now);
	return cat_exec_one(cat, st, CAT_ERR);
}

/* Links a backup task to the archive it produced. */
int
catalog_task_set_archive(struct catalog *cat, const char *uuid,
    const char *archive_uuid)
{
	sqlite3_stmt *st;

	st = cat_prepare(cat, SQL_TASK_SET_ARCHIVE,
	    "UPDATE tasks SET archive_uuid = ?2 WHERE uuid = ?1");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, uuid);
	cat_bind_text(st, 2, archive_uuid);
	return cat_exec_one(cat, st, CAT_ERR);
}

/* Records how a task ended. */
int
catalog_task_finish(struct catalog *cat, const char *uuid,
    const char *status, int64_t now, int64_t bytes, const char *error)
{
	sqlite3_stmt *st;

	st = cat_prepare(cat, SQL_TASK_FINISH,
	    "UPDATE tasks SET status = ?2, stopped_at = ?3, bytes = ?4,"
	    " error = ?5 WHERE uuid = ?1");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, uuid);
	cat_bind_text(st, 2, status);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, bytes);
	if (error != NULL)
		cat_bind_text(st, 5, error);
	else
		sqlite3_bind_null(st, 5);
	return cat_exec_one(cat, st, CAT_ERR);
}

/*
 * Appends to a task's logs.  Each call rewrites the row, so callers should
 * gather output into lines or chunks rather than append byte by byte.
 */
int
catalog_task_append(struct catalog *cat, const char *uuid, const char *log,
    const char *debug)
{
	sqlite3_stmt *st;

	st = cat_prepare(cat, SQL_TASK_APPEND,
	    "UPDATE tasks SET log = log || ?2, debug = debug || ?3"
	    " WHERE uuid = ?1");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, uuid);
	cat_bind_text(st, 2, log);
	cat_bind_text(st, 3, debug);
	return cat_exec_one(cat, st, CAT_ERR);
}

/* Fails every task a previous run left pending or running. */
int
catalog_tasks_interrupt(struct catalog *cat, int64_t now, const char *reason)
{
	sqlite3_stmt *st;
	int status;

	st = cat_prepare(cat, SQL_TASK_INTERRUPT,
	    "UPDATE tasks SET status = 'failed', stopped_at = ?1, error = ?2"
	    " WHERE status IN ('pending', 'running')");
	if (st == NULL)
		return CAT_ERR;
	sqlite3_bind_int64(st, 1, now);
	if (reason != NULL)
		cat_bind_text(st, 2, reason);
	else
		sqlite3_bind_null(st, 2);
	if ((status = cat_exec(cat, st, CAT_ERR)) != CAT_OK)
		return status;
	return sqlite3_changes(cat->db);
}

/* Counts tasks for each of the given statuses (0 for unknown ones). */
int
catalog_task_counts(struct catalog *cat, const char *const *statuses,
    size_t n, int64_t *counts)
{
	sqlite3_stmt *st;
	const char *status;
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		counts[i] = 0;
	st = cat_prepare(cat, SQL_TASK_COUNTS,
	    "SELECT status, count(*) FROM tasks GROUP BY status");
	if (st == NULL)
		return CAT_ERR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		status = (const char *)sqlite3_column_text(st, 0);
		for (i = 0; status != NULL && i < n; i++) {
			if (statuses[i] != NULL &&
			    strcmp(statuses[i], status) == 0)
				counts[i] = sqlite3_column_int64(st, 1);
		}
	}
	if (rc != SQLITE_DONE)
		cat_sqlerr(cat, "task counts");
	cat_done(st);
	return rc == SQLITE_DONE ? CAT_OK : CAT_ERR;
}
