/*
 * Jobs in the catalog.  A job row is read together with what it refers to
 * (retention, schedule, target, store) and its newest task, in one query,
 * so listing thousands of jobs costs one statement, not one per job.  The
 * newest task is tracked in jobs.last_task by a trigger on tasks (see the
 * schema in catalog.c), which keeps that query to direct lookups.
 */
#include <stdlib.h>
#include <string.h>

#include "catalog_internal.h"

/* The newest task comes through jobs.last_task, kept by a trigger. */
#define JOB_SELECT							\
	"SELECT j.uuid, j.name, j.summary, j.target_uuid,"		\
	" j.store_uuid, j.schedule_uuid, j.retention_uuid, j.paused,"	\
	" j.last_scheduled, r.name, r.expiry, s.name, s.timespec,"	\
	" st.name, st.plugin, st.endpoint,"				\
	" t.name, t.plugin, t.endpoint,"				\
	" k.uuid, k.status, k.started_at, k.stopped_at"			\
	" FROM jobs j"							\
	" JOIN retention r ON r.uuid = j.retention_uuid"		\
	" JOIN schedules s ON s.uuid = j.schedule_uuid"			\
	" JOIN stores st ON st.uuid = j.store_uuid"			\
	" JOIN targets t ON t.uuid = j.target_uuid"			\
	" LEFT JOIN tasks k ON k.rowid = j.last_task"

/* Frees a job's strings. */
void
cat_job_clear(struct cat_job *j)
{
	free(j->name);
	free(j->summary);
	free(j->retention_name);
	free(j->schedule_name);
	free(j->schedule);
	free(j->store_name);
	free(j->store_plugin);
	free(j->store_endpoint);
	free(j->target_name);
	free(j->target_plugin);
	free(j->target_endpoint);
	memset(j, 0, sizeof *j);
}

/* Frees a list of jobs. */
void
cat_jobs_free(struct cat_job *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		cat_job_clear(&list[i]);
	free(list);
}

/* Reads the columns of JOB_SELECT. */
static void
job_row(sqlite3_stmt *st, void *p)
{
	struct cat_job *j = p;

	cat_col_copy(st, 0, j->uuid, sizeof j->uuid);
	j->name = cat_col_dup(st, 1);
	j->summary = cat_col_dup(st, 2);
	cat_col_copy(st, 3, j->target_uuid, sizeof j->target_uuid);
	cat_col_copy(st, 4, j->store_uuid, sizeof j->store_uuid);
	cat_col_copy(st, 5, j->schedule_uuid, sizeof j->schedule_uuid);
	cat_col_copy(st, 6, j->retention_uuid, sizeof j->retention_uuid);
	j->paused = sqlite3_column_int(st, 7) != 0;
	j->last_scheduled = sqlite3_column_int64(st, 8);
	j->retention_name = cat_col_dup(st, 9);
	j->expiry = sqlite3_column_int64(st, 10);
	j->schedule_name = cat_col_dup(st, 11);
	j->schedule = cat_col_dup(st, 12);
	j->store_name = cat_col_dup(st, 13);
	j->store_plugin = cat_col_dup(st, 14);
	j->store_endpoint = cat_col_dup(st, 15);
	j->target_name = cat_col_dup(st, 16);
	j->target_plugin = cat_col_dup(st, 17);
	j->target_endpoint = cat_col_dup(st, 18);
	cat_col_copy(st, 19, j->last_task_uuid, sizeof j->last_task_uuid);
	cat_col_copy(st, 20, j->last_task_status,
	    sizeof j->last_task_status);
	j->last_task_started = sqlite3_column_int64(st, 21);
	j->last_task_stopped = sqlite3_column_int64(st, 22);
}

/* cat_job_clear() for cat_collect(). */
static void
job_clear(void *p)
{
	cat_job_clear(p);
}

/* Lists jobs by name, filtered by pause state and what they refer to. */
int
catalog_jobs(struct catalog *cat, const struct cat_filter *f,
    struct cat_job **out, size_t *n)
{
	static const char *const clauses[] = {
		"j.paused = ?1",
		"j.target_uuid = ?2",
		"j.store_uuid = ?3",
		"j.schedule_uuid = ?4",
		"j.retention_uuid = ?5",
	};
	sqlite3_stmt *st;
	unsigned int shape = 0;

	if (f->paused == 0 || f->paused == 1)
		shape |= 1;
	if (f->target != NULL)
		shape |= 2;
	if (f->store != NULL)
		shape |= 4;
	if (f->schedule != NULL)
		shape |= 8;
	if (f->retention != NULL)
		shape |= 16;
	st = cat_prepare_list(cat, LIST_JOBS, shape, JOB_SELECT, clauses, 5,
	    "ORDER BY j.name, j.uuid");
	if (st == NULL)
		return CAT_ERR;
	if (shape & 1)
		sqlite3_bind_int(st, 1, f->paused);
	if (shape & 2)
		cat_bind_text(st, 2, f->target);
	if (shape & 4)
		cat_bind_text(st, 3, f->store);
	if (shape & 8)
		cat_bind_text(st, 4, f->schedule);
	if (shape & 16)
		cat_bind_text(st, 5, f->retention);
	return cat_collect(cat, st, sizeof **out, job_row, job_clear,
	    (void **)out, n);
}

/* Reads one job with its joined fields. */
int
catalog_job_get(struct catalog *cat, const char *uuid, struct cat_job *out)
{
	sqlite3_stmt *st;

	memset(out, 0, sizeof *out);
	st = cat_prepare(cat, SQL_JOB_GET, JOB_SELECT " WHERE j.uuid = ?1");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, uuid);
	return cat_fetch(cat, st, job_row, out);
}

/* Inserts a job; its foreign keys turn unknown uuids into CAT_BADREF. */
int
catalog_job_create(struct catalog *cat, const struct cat_job *in, id_buf out)
{
	sqlite3_stmt *st;
	id_buf uuid;
	int status;

	st = cat_prepare(cat, SQL_JOB_CREATE,
	    "INSERT INTO jobs (uuid, name, summary, target_uuid, store_uuid,"
	    " schedule_uuid, retention_uuid, paused)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
	if (st == NULL)
		return CAT_ERR;
	id_new(uuid);
	cat_bind_text(st, 1, uuid);
	cat_bind_text(st, 2, in->name);
	cat_bind_text(st, 3, in->summary);
	cat_bind_text(st, 4, in->target_uuid);
	cat_bind_text(st, 5, in->store_uuid);
	cat_bind_text(st, 6, in->schedule_uuid);
	cat_bind_text(st, 7, in->retention_uuid);
	sqlite3_bind_int(st, 8, in->paused != 0);
	if ((status = cat_exec(cat, st, CAT_BADREF)) == CAT_OK)
		memcpy(out, uuid, sizeof uuid);
	return status;
}

/* Rewrites a job's name, summary and references. */
int
catalog_job_update(struct catalog *cat, const struct cat_job *in)
{
	sqlite3_stmt *st;

	st = cat_prepare(cat, SQL_JOB_UPDATE,
	    "UPDATE jobs SET name = ?2, summary = ?3, target_uuid = ?4,"
	    " store_uuid = ?5, schedule_uuid = ?6, retention_uuid = ?7"
	    " WHERE uuid = ?1");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, in->uuid);
	cat_bind_text(st, 2, in->name);
	cat_bind_text(st, 3, in->summary);
	cat_bind_text(st, 4, in->target_uuid);
	cat_bind_text(st, 5, in->store_uuid);
	cat_bind_text(st, 6, in->schedule_uuid);
	cat_bind_text(st, 7, in->retention_uuid);
	return cat_exec_one(cat, st, CAT_BADREF);
}

/* Pauses or unpauses a job. */
int
catalog_job_set_paused(struct catalog *cat, const char *uuid, int paused)
{
	sqlite3_stmt *st;

	st = cat_prepare(cat, SQL_JOB_PAUSE,
	    "UPDATE jobs SET paused = ?2 WHERE uuid = ?1");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, uuid);
	sqlite3_bind_int(st, 2, paused != 0);
	return cat_exec_one(cat, st, CAT_ERR);
}

/* Records the slot time of a job's last scheduled run. */
int
catalog_job_set_last_scheduled(struct catalog *cat, const char *uuid,
    int64_t when)
{
	sqlite3_stmt *st;

	st = cat_prepare(cat, SQL_JOB_SCHEDULED,
	    "UPDATE jobs SET last_scheduled = ?2 WHERE uuid = ?1");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, uuid);
	sqlite3_bind_int64(st, 2, when);
	return cat_exec_one(cat, st, CAT_ERR);
}

/* Deletes a job; its tasks and archives stay as history. */
int
catalog_job_delete(struct catalog *cat, const char *uuid)
{
	sqlite3_stmt *st;

	st = cat_prepare(cat, SQL_JOB_DELETE,
	    "DELETE FROM jobs WHERE uuid = ?1");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, uuid);
	return cat_exec_one(cat, st, CAT_INUSE);
}

/* Answers whether a job has a task waiting or running. */
int
catalog_job_busy(struct catalog *cat, const char *job_uuid)
{
	sqlite3_stmt *st;
	int busy;

	st = cat_prepare(cat, SQL_JOB_BUSY,
	    "SELECT EXISTS (SELECT 1 FROM tasks WHERE job_uuid = ?1"
	    " AND status IN ('pending', 'running'))");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, job_uuid);
	if (sqlite3_step(st) == SQLITE_ROW)
		busy = sqlite3_column_int(st, 0);
	else {
		cat_sqlerr(cat, "job busy");
		busy = CAT_ERR;
	}
	cat_done(st);
	return busy;
}

/* SQLite's count of changed rows on this connection. */
int64_t
catalog_generation(struct catalog *cat)
{
	return (int64_t)sqlite3_total_changes64(cat->db);
}

/* Stream the scheduling fields of every job, or of one. */
int
catalog_job_schedules(struct catalog *cat, const char *uuid,
    void (*cb)(const char *, int, const char *, int64_t, void *), void *arg)
{
	sqlite3_stmt *st;
	int rc;

	if (uuid == NULL)
		st = cat_prepare(cat, SQL_JOB_SCHEDULES,
		    "SELECT j.uuid, j.paused, s.timespec, j.last_scheduled"
		    " FROM jobs j JOIN schedules s ON s.uuid = j.schedule_uuid");
	else
		st = cat_prepare(cat, SQL_JOB_SCHEDULE_ONE,
		    "SELECT j.uuid, j.paused, s.timespec, j.last_scheduled"
		    " FROM jobs j JOIN schedules s ON s.uuid = j.schedule_uuid"
		    " WHERE j.uuid = ?1");
	if (st == NULL)
		return CAT_ERR;
	if (uuid != NULL)
		cat_bind_text(st, 1, uuid);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cb((const char *)sqlite3_column_text(st, 0),
		    sqlite3_column_int(st, 1),
		    (const char *)sqlite3_column_text(st, 2),
		    sqlite3_column_int64(st, 3), arg);
	if (rc != SQLITE_DONE) {
		cat_sqlerr(cat, "listing job schedules");
		cat_done(st);
		return CAT_ERR;
	}
	cat_done(st);
	return CAT_OK;
}

/* Stream the jobs whose newest task is done, with when it stopped. */
int
catalog_job_successes(struct catalog *cat,
    void (*cb)(const char *, const char *, int64_t, void *), void *arg)
{
	sqlite3_stmt *st;
	int rc;

	st = cat_prepare(cat, SQL_JOB_SUCCESSES,
	    "SELECT j.uuid, j.name, t.stopped_at FROM jobs j"
	    " JOIN tasks t ON t.rowid = j.last_task WHERE t.status = 'done'");
	if (st == NULL)
		return CAT_ERR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		cb((const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1),
		    sqlite3_column_int64(st, 2), arg);
	if (rc != SQLITE_DONE) {
		cat_sqlerr(cat, "listing job successes");
		cat_done(st);
		return CAT_ERR;
	}
	cat_done(st);
	return CAT_OK;
}
