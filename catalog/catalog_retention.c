/*
 * Retention policies in the catalog: a name, a summary and how long an
 * archive made under the policy is kept, in seconds (the expiry column).
 * A policy that a job uses cannot be deleted (the job's foreign key).
 */
#include <stdlib.h>
#include <string.h>

#include "catalog_internal.h"

#define RETENTION_COLUMNS "r.uuid, r.name, r.summary, r.expiry"

/* Frees a retention policy's strings. */
void
cat_retention_clear(struct cat_retention *r)
{
	free(r->name);
	free(r->summary);
	memset(r, 0, sizeof *r);
}

/* Frees a list of retention policies. */
void
cat_retentions_free(struct cat_retention *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		cat_retention_clear(&list[i]);
	free(list);
}

/* Reads RETENTION_COLUMNS. */
static void
retention_row(sqlite3_stmt *st, void *p)
{
	struct cat_retention *r = p;

	cat_col_copy(st, 0, r->uuid, sizeof r->uuid);
	r->name = cat_col_dup(st, 1);
	r->summary = cat_col_dup(st, 2);
	r->expiry = sqlite3_column_int64(st, 3);
}

/* cat_retention_clear() for cat_collect(). */
static void
retention_clear(void *p)
{
	cat_retention_clear(p);
}

/* Lists retention policies by name, optionally only (un)used ones. */
int
catalog_retentions(struct catalog *cat, const struct cat_filter *f,
    struct cat_retention **out, size_t *n)
{
	static const char *const clauses[] = {
		"?1 = NOT EXISTS (SELECT 1 FROM jobs j"
		" WHERE j.retention_uuid = r.uuid)",
	};
	sqlite3_stmt *st;
	unsigned int shape = 0;

	if (f->unused == 0 || f->unused == 1)
		shape |= 1;
	st = cat_prepare_list(cat, LIST_RETENTIONS, shape,
	    "SELECT " RETENTION_COLUMNS " FROM retention r", clauses, 1,
	    "ORDER BY r.name, r.uuid");
	if (st == NULL)
		return CAT_ERR;
	if (shape & 1)
		sqlite3_bind_int(st, 1, f->unused);
	return cat_collect(cat, st, sizeof **out, retention_row,
	    retention_clear, (void **)out, n);
}

/* Reads one retention policy. */
int
catalog_retention_get(struct catalog *cat, const char *uuid,
    struct cat_retention *out)
{
	sqlite3_stmt *st;

	memset(out, 0, sizeof *out);
	st = cat_prepare(cat, SQL_RETENTION_GET,
	    "SELECT " RETENTION_COLUMNS " FROM retention r WHERE r.uuid = ?1");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, uuid);
	return cat_fetch(cat, st, retention_row, out);
}

/* Inserts a retention policy under a new uuid. */
int
catalog_retention_create(struct catalog *cat, const struct cat_retention *in,
    id_buf out)
{
	sqlite3_stmt *st;
	id_buf uuid;
	int status;

	st = cat_prepare(cat, SQL_RETENTION_CREATE,
	    "INSERT INTO retention (uuid, name, summary, expiry)"
	    " VALUES (?1, ?2, ?3, ?4)");
	if (st == NULL)
		return CAT_ERR;
	id_new(uuid);
	cat_bind_text(st, 1, uuid);
	cat_bind_text(st, 2, in->name);
	cat_bind_text(st, 3, in->summary);
	sqlite3_bind_int64(st, 4, in->expiry);
	if ((status = cat_exec(cat, st, CAT_BADREF)) == CAT_OK)
		memcpy(out, uuid, sizeof uuid);
	return status;
}

/* Rewrites a retention policy's fields. */
int
catalog_retention_update(struct catalog *cat, const struct cat_retention *in)
{
	sqlite3_stmt *st;

	st = cat_prepare(cat, SQL_RETENTION_UPDATE,
	    "UPDATE retention SET name = ?2, summary = ?3, expiry = ?4"
	    " WHERE uuid = ?1");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, in->uuid);
	cat_bind_text(st, 2, in->name);
	cat_bind_text(st, 3, in->summary);
	sqlite3_bind_int64(st, 4, in->expiry);
	return cat_exec_one(cat, st, CAT_BADREF);
}

/* Deletes a retention policy no job uses. */
int
catalog_retention_delete(struct catalog *cat, const char *uuid)
{
	sqlite3_stmt *st;

	st = cat_prepare(cat, SQL_RETENTION_DELETE,
	    "DELETE FROM retention WHERE uuid = ?1");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, uuid);
	return cat_exec_one(cat, st, CAT_INUSE);
}
