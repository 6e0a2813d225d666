/*
 * Tasks in the catalog: one row per backup, restore or purge, from pending
 * through running to a final status, and its log, one row per line in
 * task_log.  Logs are read only one task at a time; lists show the newest
 * line of each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog_internal.h"
#include "xmalloc.h"

#define TASK_COLUMNS							\
	"k.uuid, k.owner, k.op, k.job_uuid, k.archive_uuid,"		\
	" k.target_uuid, k.store_uuid, k.status, k.requested_at,"	\
	" k.started_at, k.stopped_at, k.bytes, k.error"
/* The task log's newest line: one step down the task_log_lno index. */
#define TASK_LAST_LOG							\
	", (SELECT l.line FROM task_log l WHERE l.task_uuid = k.uuid"	\
	" AND l.lno IS NOT NULL ORDER BY l.lno DESC LIMIT 1)"
/* Where last_log is when it is selected. */
#define TASK_LAST_LOG_COLUMN	13

/* Frees a task's strings. */
void
cat_task_clear(struct cat_task *t)
{
	free(t->owner);
	free(t->error);
	free(t->last_log);
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

/* Reads TASK_COLUMNS and, when selected, the newest log line. */
static void
task_row(sqlite3_stmt *st, void *p)
{
	struct cat_task *t = p;

	cat_col_copy(st, 0, t->uuid, sizeof t->uuid);
	t->owner = cat_col_dup(st, 1);
	/* Rows are written from the enums: a name is always known. */
	if (cat_task_type_parse((const char *)sqlite3_column_text(st, 2),
	    &t->type) != 0)
		t->type = CAT_TASK_BACKUP;
	cat_col_copy(st, 3, t->job_uuid, sizeof t->job_uuid);
	cat_col_copy(st, 4, t->archive_uuid, sizeof t->archive_uuid);
	cat_col_copy(st, 5, t->target_uuid, sizeof t->target_uuid);
	cat_col_copy(st, 6, t->store_uuid, sizeof t->store_uuid);
	if (cat_task_status_parse((const char *)sqlite3_column_text(st, 7),
	    &t->status) != 0)
		t->status = CAT_TASK_FAILED;
	t->requested_at = sqlite3_column_int64(st, 8);
	t->started_at = sqlite3_column_int64(st, 9);
	t->stopped_at = sqlite3_column_int64(st, 10);
	t->bytes = sqlite3_column_int64(st, 11);
	t->error = cat_col_dup(st, 12);
	if (sqlite3_column_count(st) > TASK_LAST_LOG_COLUMN)
		t->last_log = cat_col_dup(st, TASK_LAST_LOG_COLUMN);
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
    int with_last_log, struct cat_task **out, size_t *n)
{
	static const char *const clauses[] = {
		"k.status = ?1",
		"k.job_uuid = ?2",
		"k.target_uuid = ?3",
	};
	sqlite3_stmt *st;
	unsigned int shape = 0;

	if (f->status != CAT_ANY)
		shape |= 1;
	if (f->job != NULL)
		shape |= 2;
	if (f->target != NULL)
		shape |= 4;
	/* Bits 3 and 4 change the tail and the columns, not the WHERE. */
	if (f->limit > 0 || f->offset > 0)
		shape |= 8;
	if (with_last_log)
		shape |= 16;
	st = cat_prepare_list(cat, LIST_TASKS, shape, (shape & 16) ?
	    "SELECT " TASK_COLUMNS TASK_LAST_LOG " FROM tasks k" :
	    "SELECT " TASK_COLUMNS " FROM tasks k", clauses, 3, (shape & 8) ?
	    "ORDER BY k.requested_at DESC, k.rowid DESC LIMIT ?4 OFFSET ?5" :
	    "ORDER BY k.requested_at DESC, k.rowid DESC");
	if (st == NULL)
		return CAT_ERR;
	if (shape & 1)
		cat_bind_text(st, 1, cat_task_status_name(f->status));
	if (shape & 2)
		cat_bind_text(st, 2, f->job);
	if (shape & 4)
		cat_bind_text(st, 3, f->target);
	if (shape & 8) {
		/* A negative LIMIT is none: an offset alone. */
		sqlite3_bind_int(st, 4, f->limit > 0 ? f->limit : -1);
		sqlite3_bind_int(st, 5, f->offset);
	}
	return cat_collect(cat, st, sizeof **out, task_row, task_clear,
	    (void **)out, n);
}

/* Reads one task and its newest log line. */
int
catalog_task_get(struct catalog *cat, const char *uuid, struct cat_task *out)
{
	sqlite3_stmt *st;

	memset(out, 0, sizeof *out);
	st = cat_prepare(cat, SQL_TASK_GET,
	    "SELECT " TASK_COLUMNS TASK_LAST_LOG " FROM tasks k"
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
	cat_bind_text(st, 3, cat_task_type_name(in->type));
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
    enum cat_task_status status, int64_t now, int64_t bytes,
    const char *error)
{
	sqlite3_stmt *st;

	st = cat_prepare(cat, SQL_TASK_FINISH,
	    "UPDATE tasks SET status = ?2, stopped_at = ?3, bytes = ?4,"
	    " error = ?5 WHERE uuid = ?1");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, uuid);
	cat_bind_text(st, 2, cat_task_status_name(status));
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, bytes);
	if (error != NULL)
		cat_bind_text(st, 5, error);
	else
		sqlite3_bind_null(st, 5);
	return cat_exec_one(cat, st, CAT_ERR);
}

/* Drops a range of a task's log lines and adds new ones, atomically. */
int
catalog_task_log_write(struct catalog *cat, const char *uuid,
    int64_t drop_from, int64_t drop_to, const struct cat_log_line *lines,
    size_t n)
{
	sqlite3_stmt *add, *drop;
	size_t i;
	int status = CAT_OK;

	if (n == 0 && drop_to < drop_from)
		return CAT_OK;
	add = cat_prepare(cat, SQL_TASK_LOG_ADD,
	    "INSERT INTO task_log (task_uuid, seq, lno, line)"
	    " VALUES (?1, ?2, ?3, ?4)");
	drop = cat_prepare(cat, SQL_TASK_LOG_DROP,
	    "DELETE FROM task_log WHERE task_uuid = ?1"
	    " AND seq BETWEEN ?2 AND ?3");
	if (add == NULL || drop == NULL)
		return CAT_ERR;
	/* One transaction: one WAL commit per flush, not one per line. */
	if (sqlite3_exec(cat->db, "SAVEPOINT task_log", NULL, NULL,
	    NULL) != SQLITE_OK) {
		cat_sqlerr(cat, "task log");
		return CAT_ERR;
	}
	if (drop_to >= drop_from) {
		cat_bind_text(drop, 1, uuid);
		sqlite3_bind_int64(drop, 2, drop_from);
		sqlite3_bind_int64(drop, 3, drop_to);
		status = cat_exec(cat, drop, CAT_ERR);
	}
	for (i = 0; status == CAT_OK && i < n; i++) {
		cat_bind_text(add, 1, uuid);
		sqlite3_bind_int64(add, 2, lines[i].seq);
		if (lines[i].lno > 0)
			sqlite3_bind_int64(add, 3, lines[i].lno);
		else
			sqlite3_bind_null(add, 3);
		sqlite3_bind_text(add, 4, lines[i].text, (int)lines[i].len,
		    SQLITE_STATIC);
		/* The only foreign key is the task's. */
		status = cat_exec(cat, add, CAT_NOTFOUND);
	}
	if (status == CAT_OK && sqlite3_exec(cat->db, "RELEASE task_log",
	    NULL, NULL, NULL) == SQLITE_OK)
		return CAT_OK;
	if (status == CAT_OK) {
		cat_sqlerr(cat, "task log");
		status = CAT_ERR;
	}
	sqlite3_exec(cat->db, "ROLLBACK TO task_log", NULL, NULL, NULL);
	sqlite3_exec(cat->db, "RELEASE task_log", NULL, NULL, NULL);
	return status;
}

/* A growing text buffer. */
struct task_text {
	char	*s;
	size_t	 len;
	size_t	 size;
};

/* Appends n bytes. */
static void
task_text_add(struct task_text *b, const void *p, size_t n)
{
	if (b->len + n + 1 > b->size) {
		while (b->len + n + 1 > b->size)
			b->size = b->size == 0 ? 4096 : b->size * 2;
		b->s = xrealloc(b->s, b->size);
	}
	memcpy(b->s + b->len, p, n);
	b->len += n;
	b->s[b->len] = '\0';
}

/*
 * Steps st (rows of line number, text) into text, each line ending in a
 * newline and each gap after prev read as "... N lines cut ..."; finishes st.
 */
static int
task_log_read(struct catalog *cat, sqlite3_stmt *st, int64_t prev,
    char **text)
{
	struct task_text b = { NULL, 0, 0 };
	int64_t cur;
	char cut[64];
	int rc, n;

	task_text_add(&b, "", 0);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cur = sqlite3_column_int64(st, 0);
		if (cur > prev + 1) {
			n = snprintf(cut, sizeof cut, "... %lld line%s cut ...\n",
			    (long long)(cur - prev - 1),
			    cur - prev - 1 == 1 ? "" : "s");
			task_text_add(&b, cut, (size_t)n);
		}
		task_text_add(&b, sqlite3_column_text(st, 1),
		    (size_t)sqlite3_column_bytes(st, 1));
		task_text_add(&b, "\n", 1);
		prev = cur;
	}
	if (rc != SQLITE_DONE) {
		cat_sqlerr(cat, "task log");
		cat_done(st);
		free(b.s);
		return CAT_ERR;
	}
	cat_done(st);
	*text = b.s;
	return CAT_OK;
}

/* Reads a task's log or debug log as text, marking what was cut. */
int
catalog_task_log(struct catalog *cat, const char *uuid, int debug,
    int64_t after, char **text, int64_t *lines)
{
	sqlite3_stmt *st;
	int rc;

	*text = NULL;
	if (lines != NULL) {
		st = cat_prepare(cat, SQL_TASK_LOG_LINES,
		    "SELECT max(lno) FROM task_log WHERE task_uuid = ?1"
		    " AND lno IS NOT NULL");
		if (st == NULL)
			return CAT_ERR;
		cat_bind_text(st, 1, uuid);
		if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
			cat_sqlerr(cat, "task log lines");
			cat_done(st);
			return CAT_ERR;
		}
		*lines = sqlite3_column_int64(st, 0);
		cat_done(st);
	}
	if (debug)
		st = cat_prepare(cat, SQL_TASK_LOG_READ_DEBUG,
		    "SELECT seq, line FROM task_log WHERE task_uuid = ?1"
		    " ORDER BY seq");
	else
		st = cat_prepare(cat, SQL_TASK_LOG_READ,
		    "SELECT lno, line FROM task_log WHERE task_uuid = ?1"
		    " AND lno IS NOT NULL AND lno > ?2 ORDER BY lno");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, uuid);
	if (!debug)
		sqlite3_bind_int64(st, 2, after);
	return task_log_read(cat, st, debug || after < 0 ? 0 : after, text);
}

/*
 * The newest lines of a task's log (or debug log) as text, at most nlines of
 * them: what a task list shows, so a list never carries whole logs.  The
 * lines before them read as one "... N lines cut ..." line.
 */
int
catalog_task_log_tail(struct catalog *cat, const char *uuid, int debug,
    int nlines, char **text)
{
	sqlite3_stmt *st;

	*text = NULL;
	if (debug)
		st = cat_prepare(cat, SQL_TASK_LOG_TAIL_DEBUG,
		    "SELECT seq, line FROM (SELECT seq, line FROM task_log"
		    " WHERE task_uuid = ?1 ORDER BY seq DESC LIMIT ?2)"
		    " ORDER BY seq");
	else
		st = cat_prepare(cat, SQL_TASK_LOG_TAIL,
		    "SELECT lno, line FROM (SELECT lno, line FROM task_log"
		    " WHERE task_uuid = ?1 AND lno IS NOT NULL"
		    " ORDER BY lno DESC LIMIT ?2) ORDER BY lno");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, uuid);
	sqlite3_bind_int(st, 2, nlines);
	return task_log_read(cat, st, 0, text);
}

/* One line of an old text log. */
struct task_old_line {
	const char	*p;
	size_t		 len;
	int64_t		 lno;
};

/* Splits text into lines (a last one without newline counts); caller
 * frees the array. */
static size_t
task_old_split(const char *s, size_t n, struct task_old_line **out)
{
	struct task_old_line *v = NULL;
	const char *nl, *end = s + n;
	size_t count = 0, size = 0;

	while (s != NULL && s < end) {
		if ((nl = memchr(s, '\n', end - s)) == NULL)
			nl = end;
		if (count == size) {
			size = size == 0 ? 64 : size * 2;
			v = xreallocarray(v, size, sizeof *v);
		}
		v[count].p = s;
		v[count].len = nl - s;
		v[count].lno = 0;
		count++;
		s = nl + 1;
	}
	*out = v;
	return count;
}

/*
 * Moves each task's old log and debug texts into rows.  The debug text
 * holds every line and the log text the same lines less the debug-only
 * ones, in the same order, so walking both at once tells which debug
 * line is also a task-log line.  Only the head and tail allowed by the
 * cap are kept, the gap read back as "... N lines cut ...".
 */
int
catalog_task_log_migrate(struct catalog *cat)
{
	struct task_old_line *lg = NULL, *dbg = NULL, *all = NULL;
	sqlite3_stmt *sel = NULL, *ins = NULL;
	size_t nl, nd, n, i, j, h, t, bytes;
	int rc = SQLITE_ERROR;

	if (sqlite3_prepare_v2(cat->db, "SELECT uuid, log, debug FROM tasks"
	    " WHERE log <> '' OR debug <> ''", -1, &sel, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(cat->db, "INSERT INTO task_log"
	    " (task_uuid, seq, lno, line) VALUES (?1, ?2, ?3, ?4)", -1, &ins,
	    NULL) != SQLITE_OK)
		goto out;
	while ((rc = sqlite3_step(sel)) == SQLITE_ROW) {
		nl = task_old_split((const char *)sqlite3_column_text(sel, 1),
		    (size_t)sqlite3_column_bytes(sel, 1), &lg);
		nd = task_old_split((const char *)sqlite3_column_text(sel, 2),
		    (size_t)sqlite3_column_bytes(sel, 2), &dbg);
		all = xreallocarray(NULL, nl + nd + 1, sizeof *all);
		for (n = 0, i = 0, j = 0; i < nd; i++) {
			all[n] = dbg[i];
			if (j < nl && lg[j].len == dbg[i].len &&
			    memcmp(lg[j].p, dbg[i].p, dbg[i].len) == 0)
				all[n].lno = (int64_t)++j;
			n++;
		}
		for (; j < nl; j++) {
			all[n] = lg[j];
			all[n++].lno = (int64_t)j + 1;
		}
		for (h = 0, bytes = 0; h < n && h < CAT_LOG_HEAD_LINES &&
		    bytes + all[h].len <= CAT_LOG_HEAD_BYTES; h++)
			bytes += all[h].len;
		for (t = n, bytes = 0; t > h && n - t < CAT_LOG_TAIL_LINES &&
		    (t == n || bytes + all[t - 1].len <= CAT_LOG_TAIL_BYTES);
		    t--)
			bytes += all[t - 1].len;
		for (i = 0; i < n; i++) {
			if (i == h)
				i = t;
			if (i >= n)
				break;
			sqlite3_bind_text(ins, 1,
			    (const char *)sqlite3_column_text(sel, 0), -1,
			    SQLITE_STATIC);
			sqlite3_bind_int64(ins, 2, (int64_t)i + 1);
			if (all[i].lno > 0)
				sqlite3_bind_int64(ins, 3, all[i].lno);
			else
				sqlite3_bind_null(ins, 3);
			sqlite3_bind_text(ins, 4, all[i].p, (int)all[i].len,
			    SQLITE_STATIC);
			rc = sqlite3_step(ins);
			sqlite3_reset(ins);
			if (rc != SQLITE_DONE)
				goto out;
		}
		free(lg);
		free(dbg);
		free(all);
		lg = dbg = all = NULL;
		cat->vacuum = 1;
	}
out:
	free(lg);
	free(dbg);
	free(all);
	sqlite3_finalize(sel);
	sqlite3_finalize(ins);
	return rc == SQLITE_DONE ? 0 : -1;
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

/* Counts tasks for each status. */
int
catalog_task_counts(struct catalog *cat, int64_t counts[CAT_TASK_STATUSES])
{
	enum cat_task_status status;
	sqlite3_stmt *st;
	int rc, i;

	for (i = 0; i < CAT_TASK_STATUSES; i++)
		counts[i] = 0;
	st = cat_prepare(cat, SQL_TASK_COUNTS,
	    "SELECT status, count(*) FROM tasks GROUP BY status");
	if (st == NULL)
		return CAT_ERR;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (cat_task_status_parse((const char *)sqlite3_column_text(st,
		    0), &status) == 0)
			counts[status] = sqlite3_column_int64(st, 1);
	}
	if (rc != SQLITE_DONE)
		cat_sqlerr(cat, "task counts");
	cat_done(st);
	return rc == SQLITE_DONE ? CAT_OK : CAT_ERR;
}
