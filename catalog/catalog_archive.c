/*
 * Archives in the catalog: what was stored where, when it expires, and the
 * purger's bookkeeping; plus the per-store usage aggregate.  An archive row
 * outlives its target, store and job, so those are joined with LEFT JOIN.
 */
#include <stdlib.h>
#include <string.h>

#include "catalog_internal.h"

#define ARCHIVE_SELECT							\
	"SELECT a.uuid, a.target_uuid, a.store_uuid, a.job_uuid,"	\
	" a.store_key, a.taken_at, a.expires_at, a.notes, a.status,"	\
	" a.size, a.sha256, a.purge_attempts, a.purge_after,"		\
	" t.name, t.plugin, t.endpoint, s.name, s.plugin, s.endpoint"	\
	" FROM archives a"						\
	" LEFT JOIN targets t ON t.uuid = a.target_uuid"		\
	" LEFT JOIN stores s ON s.uuid = a.store_uuid"

/*
 * When an archive is next due for the purger: at expiry, or later if a
 * failed purge asked to wait.  Matches the archives_due index.
 */
#define ARCHIVE_DUE	"max(a.expires_at, a.purge_after)"
#define ARCHIVE_LIVE	"a.status IN ('valid', 'expired')"

/* Frees an archive's strings. */
void
cat_archive_clear(struct cat_archive *a)
{
	free(a->store_key);
	free(a->notes);
	free(a->target_name);
	free(a->target_plugin);
	free(a->target_endpoint);
	free(a->store_name);
	free(a->store_plugin);
	free(a->store_endpoint);
	memset(a, 0, sizeof *a);
}

/* Frees a list of archives. */
void
cat_archives_free(struct cat_archive *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		cat_archive_clear(&list[i]);
	free(list);
}

/* Reads the columns of ARCHIVE_SELECT. */
static void
archive_row(sqlite3_stmt *st, void *p)
{
	struct cat_archive *a = p;

	cat_col_copy(st, 0, a->uuid, sizeof a->uuid);
	cat_col_copy(st, 1, a->target_uuid, sizeof a->target_uuid);
	cat_col_copy(st, 2, a->store_uuid, sizeof a->store_uuid);
	cat_col_copy(st, 3, a->job_uuid, sizeof a->job_uuid);
	a->store_key = cat_col_dup(st, 4);
	a->taken_at = sqlite3_column_int64(st, 5);
	a->expires_at = sqlite3_column_int64(st, 6);
	a->notes = cat_col_dup(st, 7);
	if (cat_archive_status_parse((const char *)sqlite3_column_text(st, 8),
	    &a->status) != 0)
		a->status = CAT_ARCHIVE_PURGED;
	a->size = sqlite3_column_int64(st, 9);
	cat_col_copy(st, 10, a->sha256, sizeof a->sha256);
	a->purge_attempts = sqlite3_column_int(st, 11);
	a->purge_after = sqlite3_column_int64(st, 12);
	a->target_name = cat_col_dup(st, 13);
	a->target_plugin = cat_col_dup(st, 14);
	a->target_endpoint = cat_col_dup(st, 15);
	a->store_name = cat_col_dup(st, 16);
	a->store_plugin = cat_col_dup(st, 17);
	a->store_endpoint = cat_col_dup(st, 18);
}

/* cat_archive_clear() for cat_collect(). */
static void
archive_clear(void *p)
{
	cat_archive_clear(p);
}

/* Lists archives newest first, filtered by origin, status and time. */
int
catalog_archives(struct catalog *cat, const struct cat_filter *f,
    struct cat_archive **out, size_t *n)
{
	static const char *const clauses[] = {
		"a.target_uuid = ?1",
		"a.store_uuid = ?2",
		"a.job_uuid = ?3",
		"a.status = ?4",
		"a.taken_at >= ?5",
		"a.taken_at < ?6",
	};
	sqlite3_stmt *st;
	unsigned int shape = 0;

	if (f->target != NULL)
		shape |= 1;
	if (f->store != NULL)
		shape |= 2;
	if (f->job != NULL)
		shape |= 4;
	if (f->status != CAT_ANY)
		shape |= 8;
	if (f->after != 0)
		shape |= 16;
	if (f->before != 0)
		shape |= 32;
	/* The page changes the tail, not the WHERE: bit 6. */
	if (f->limit > 0 || f->offset > 0)
		shape |= 64;
	st = cat_prepare_list(cat, LIST_ARCHIVES, shape, ARCHIVE_SELECT,
	    clauses, 6, (shape & 64) ?
	    "ORDER BY a.taken_at DESC, a.rowid DESC LIMIT ?7 OFFSET ?8" :
	    "ORDER BY a.taken_at DESC, a.rowid DESC");
	if (st == NULL)
		return CAT_ERR;
	if (shape & 1)
		cat_bind_text(st, 1, f->target);
	if (shape & 2)
		cat_bind_text(st, 2, f->store);
	if (shape & 4)
		cat_bind_text(st, 3, f->job);
	if (shape & 8)
		cat_bind_text(st, 4, cat_archive_status_name(f->status));
	if (shape & 16)
		sqlite3_bind_int64(st, 5, f->after);
	if (shape & 32)
		sqlite3_bind_int64(st, 6, f->before);
	if (shape & 64) {
		/* A negative LIMIT is none: an offset alone. */
		sqlite3_bind_int(st, 7, f->limit > 0 ? f->limit : -1);
		sqlite3_bind_int(st, 8, f->offset);
	}
	return cat_collect(cat, st, sizeof **out, archive_row, archive_clear,
	    (void **)out, n);
}

/* Reads one archive. */
int
catalog_archive_get(struct catalog *cat, const char *uuid,
    struct cat_archive *out)
{
	sqlite3_stmt *st;

	memset(out, 0, sizeof *out);
	st = cat_prepare(cat, SQL_ARCHIVE_GET,
	    ARCHIVE_SELECT " WHERE a.uuid = ?1");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, uuid);
	return cat_fetch(cat, st, archive_row, out);
}

/* Records a stored archive under a new uuid. */
int
catalog_archive_create(struct catalog *cat, const struct cat_archive *in,
    id_buf out)
{
	sqlite3_stmt *st;
	id_buf uuid;
	int status;

	st = cat_prepare(cat, SQL_ARCHIVE_CREATE,
	    "INSERT INTO archives (uuid, target_uuid, store_uuid, job_uuid,"
	    " store_key, taken_at, expires_at, notes, status, size, sha256,"
	    " purge_attempts, purge_after)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)");
	if (st == NULL)
		return CAT_ERR;
	id_new(uuid);
	cat_bind_text(st, 1, uuid);
	cat_bind_text(st, 2, in->target_uuid);
	cat_bind_text(st, 3, in->store_uuid);
	cat_bind_opt(st, 4, in->job_uuid);
	cat_bind_text(st, 5, in->store_key);
	sqlite3_bind_int64(st, 6, in->taken_at);
	sqlite3_bind_int64(st, 7, in->expires_at);
	cat_bind_text(st, 8, in->notes);
	cat_bind_text(st, 9, cat_archive_status_name(in->status));
	sqlite3_bind_int64(st, 10, in->size);
	cat_bind_text(st, 11, in->sha256);
	sqlite3_bind_int(st, 12, in->purge_attempts);
	sqlite3_bind_int64(st, 13, in->purge_after);
	if ((status = cat_exec(cat, st, CAT_BADREF)) == CAT_OK)
		memcpy(out, uuid, sizeof uuid);
	return status;
}

/* Replaces an archive's notes (NULL as ""). */
int
catalog_archive_set_notes(struct catalog *cat, const char *uuid,
    const char *notes)
{
	sqlite3_stmt *st;

	st = cat_prepare(cat, SQL_ARCHIVE_NOTES,
	    "UPDATE archives SET notes = ?2 WHERE uuid = ?1");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, uuid);
	cat_bind_text(st, 2, notes);
	return cat_exec_one(cat, st, CAT_ERR);
}

/* Sets an archive's status (valid, expired, purged). */
int
catalog_archive_set_status(struct catalog *cat, const char *uuid,
    enum cat_archive_status status)
{
	sqlite3_stmt *st;

	st = cat_prepare(cat, SQL_ARCHIVE_STATUS,
	    "UPDATE archives SET status = ?2 WHERE uuid = ?1");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, uuid);
	cat_bind_text(st, 2, cat_archive_status_name(status));
	return cat_exec_one(cat, st, CAT_ERR);
}

/* Counts a failed purge and holds the next attempt until purge_after. */
int
catalog_archive_purge_failed(struct catalog *cat, const char *uuid,
    int64_t purge_after)
{
	sqlite3_stmt *st;

	st = cat_prepare(cat, SQL_ARCHIVE_PURGE_FAILED,
	    "UPDATE archives SET purge_attempts = purge_attempts + 1,"
	    " purge_after = ?2 WHERE uuid = ?1");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, uuid);
	sqlite3_bind_int64(st, 2, purge_after);
	return cat_exec_one(cat, st, CAT_ERR);
}

/*
 * Lists the live archives due for purging, oldest first.  An archive whose
 * last purge failed is not due again before its purge_after, so a store
 * that is down is not retried on every sweep.
 */
int
catalog_archives_expired(struct catalog *cat, int64_t now,
    struct cat_archive **out, size_t *n)
{
	sqlite3_stmt *st;

	st = cat_prepare(cat, SQL_ARCHIVE_EXPIRED,
	    ARCHIVE_SELECT " WHERE " ARCHIVE_LIVE " AND " ARCHIVE_DUE " <= ?1"
	    " ORDER BY " ARCHIVE_DUE ", a.rowid");
	if (st == NULL)
		return CAT_ERR;
	sqlite3_bind_int64(st, 1, now);
	return cat_collect(cat, st, sizeof **out, archive_row, archive_clear,
	    (void **)out, n);
}

/*
 * When the purger next has work: the earliest due time of a live archive
 * (see catalog_archives_expired), 0 if there is none or on error (logged).
 */
int64_t
catalog_archive_next_expiry(struct catalog *cat)
{
	sqlite3_stmt *st;
	int64_t next = 0;

	st = cat_prepare(cat, SQL_ARCHIVE_NEXT_EXPIRY,
	    "SELECT min(" ARCHIVE_DUE ") FROM archives a"
	    " WHERE " ARCHIVE_LIVE);
	if (st == NULL)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		next = sqlite3_column_int64(st, 0);
	else
		cat_sqlerr(cat, "next expiry");
	cat_done(st);
	return next;
}

/* ---- store usage ---- */

/* Frees the usage list. */
void
cat_store_usage_free(struct cat_store_usage *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(list[i].store_name);
	free(list);
}

/* Reads one usage row. */
static void
usage_row(sqlite3_stmt *st, void *p)
{
	struct cat_store_usage *u = p;

	cat_col_copy(st, 0, u->store_uuid, sizeof u->store_uuid);
	u->store_name = cat_col_dup(st, 1);
	u->archives = sqlite3_column_int64(st, 2);
	u->bytes = sqlite3_column_int64(st, 3);
}

/* Frees one usage row's strings for cat_collect(). */
static void
usage_clear(void *p)
{
	struct cat_store_usage *u = p;

	free(u->store_name);
	memset(u, 0, sizeof *u);
}

/* Counts valid archives and their bytes for every store. */
int
catalog_store_usage(struct catalog *cat, struct cat_store_usage **out,
    size_t *n)
{
	sqlite3_stmt *st;

	st = cat_prepare(cat, SQL_STORE_USAGE,
	    "SELECT s.uuid, s.name, count(a.uuid), coalesce(sum(a.size), 0)"
	    " FROM stores s LEFT JOIN archives a"
	    " ON a.store_uuid = s.uuid AND a.status = 'valid'"
	    " GROUP BY s.uuid ORDER BY s.name, s.uuid");
	if (st == NULL)
		return CAT_ERR;
	return cat_collect(cat, st, sizeof **out, usage_row, usage_clear,
	    (void **)out, n);
}
