/*
 * Targets and stores in the catalog: one record (a name, a summary, a
 * plugin and its endpoint text) kept in two tables, picked by enum
 * cat_kind.  Each statement is cached once per kind, side by side in the
 * statement cache (SQL_SYSTEM_GET + kind).  Jobs hold both through foreign
 * keys; a store is also held while live archives are in it.
 */
#include <stdlib.h>
#include <string.h>

#include "catalog_internal.h"

/* The same SQL for both tables, targets first (enum cat_kind order). */
#define SYSTEM_SQL(head, tail)	{ head "targets" tail, head "stores" tail }
#define SYSTEM_COLUMNS "x.uuid, x.name, x.summary, x.plugin, x.endpoint"

/* Frees a target's or store's strings. */
void
cat_system_clear(struct cat_system *s)
{
	free(s->name);
	free(s->summary);
	free(s->plugin);
	free(s->endpoint);
	memset(s, 0, sizeof *s);
}

/* Frees a list of targets or stores. */
void
cat_systems_free(struct cat_system *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		cat_system_clear(&list[i]);
	free(list);
}

/* Reads SYSTEM_COLUMNS. */
static void
system_row(sqlite3_stmt *st, void *p)
{
	struct cat_system *s = p;

	cat_col_copy(st, 0, s->uuid, sizeof s->uuid);
	s->name = cat_col_dup(st, 1);
	s->summary = cat_col_dup(st, 2);
	s->plugin = cat_col_dup(st, 3);
	s->endpoint = cat_col_dup(st, 4);
}

/* cat_system_clear() for cat_collect(). */
static void
system_clear(void *p)
{
	cat_system_clear(p);
}

/* Lists targets or stores by name, filtered by use and plugin. */
int
catalog_systems(struct catalog *cat, enum cat_kind kind,
    const struct cat_filter *f, struct cat_system **out, size_t *n)
{
	static const char *const heads[] = SYSTEM_SQL(
	    "SELECT " SYSTEM_COLUMNS " FROM ", " x");
	static const char *const clauses[][2] = {
		{
			"?1 = NOT EXISTS (SELECT 1 FROM jobs j"
			" WHERE j.target_uuid = x.uuid)",
			"x.plugin = ?2",
		},
		{
			"?1 = NOT EXISTS (SELECT 1 FROM jobs j"
			" WHERE j.store_uuid = x.uuid)",
			"x.plugin = ?2",
		},
	};
	sqlite3_stmt *st;
	unsigned int shape = 0;

	if (f->unused == 0 || f->unused == 1)
		shape |= 1;
	if (f->plugin != NULL)
		shape |= 2;
	st = cat_prepare_list(cat, kind == CAT_TARGET ? LIST_TARGETS :
	    LIST_STORES, shape, heads[kind], clauses[kind], 2,
	    "ORDER BY x.name, x.uuid");
	if (st == NULL)
		return CAT_ERR;
	if (shape & 1)
		sqlite3_bind_int(st, 1, f->unused);
	if (shape & 2)
		cat_bind_text(st, 2, f->plugin);
	return cat_collect(cat, st, sizeof **out, system_row, system_clear,
	    (void **)out, n);
}

/* Reads one target or store. */
int
catalog_system_get(struct catalog *cat, enum cat_kind kind, const char *uuid,
    struct cat_system *out)
{
	static const char *const sql[] = SYSTEM_SQL(
	    "SELECT " SYSTEM_COLUMNS " FROM ", " x WHERE x.uuid = ?1");
	sqlite3_stmt *st;

	memset(out, 0, sizeof *out);
	st = cat_prepare(cat, SQL_SYSTEM_GET + kind, sql[kind]);
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, uuid);
	return cat_fetch(cat, st, system_row, out);
}

/* Inserts a target or store under a new uuid. */
int
catalog_system_create(struct catalog *cat, enum cat_kind kind,
    const struct cat_system *in, id_buf out)
{
	static const char *const sql[] = SYSTEM_SQL("INSERT INTO ",
	    " (uuid, name, summary, plugin, endpoint)"
	    " VALUES (?1, ?2, ?3, ?4, ?5)");
	sqlite3_stmt *st;
	id_buf uuid;
	int status;

	st = cat_prepare(cat, SQL_SYSTEM_CREATE + kind, sql[kind]);
	if (st == NULL)
		return CAT_ERR;
	id_new(uuid);
	cat_bind_text(st, 1, uuid);
	cat_bind_text(st, 2, in->name);
	cat_bind_text(st, 3, in->summary);
	cat_bind_text(st, 4, in->plugin);
	cat_bind_text(st, 5, in->endpoint);
	if ((status = cat_exec(cat, st, CAT_BADREF)) == CAT_OK)
		memcpy(out, uuid, sizeof uuid);
	return status;
}

/* Rewrites a target's or store's fields. */
int
catalog_system_update(struct catalog *cat, enum cat_kind kind,
    const struct cat_system *in)
{
	static const char *const sql[] = SYSTEM_SQL("UPDATE ",
	    " SET name = ?2, summary = ?3, plugin = ?4, endpoint = ?5"
	    " WHERE uuid = ?1");
	sqlite3_stmt *st;

	st = cat_prepare(cat, SQL_SYSTEM_UPDATE + kind, sql[kind]);
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, in->uuid);
	cat_bind_text(st, 2, in->name);
	cat_bind_text(st, 3, in->summary);
	cat_bind_text(st, 4, in->plugin);
	cat_bind_text(st, 5, in->endpoint);
	return cat_exec_one(cat, st, CAT_BADREF);
}

/*
 * Deletes a target or store.  Jobs are guarded by their foreign keys; a
 * store also stays while live archives are in it, checked in the same
 * statement so there is no window between the check and the delete.
 */
int
catalog_system_delete(struct catalog *cat, enum cat_kind kind,
    const char *uuid)
{
	static const char *const sql[] = {
		"DELETE FROM targets WHERE uuid = ?1",
		"DELETE FROM stores WHERE uuid = ?1 AND NOT EXISTS"
		" (SELECT 1 FROM archives a WHERE a.store_uuid = ?1"
		" AND a.status IN ('valid', 'expired'))",
	};
	sqlite3_stmt *st;
	int status;

	st = cat_prepare(cat, SQL_SYSTEM_DELETE + kind, sql[kind]);
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, uuid);
	status = cat_exec_one(cat, st, CAT_INUSE);
	if (status != CAT_NOTFOUND || kind != CAT_STORE)
		return status;

	/* Nothing deleted: either there is no such store or it is in use. */
	st = cat_prepare(cat, SQL_STORE_EXISTS,
	    "SELECT 1 FROM stores WHERE uuid = ?1");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, uuid);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		status = CAT_INUSE;
		break;
	case SQLITE_DONE:
		status = CAT_NOTFOUND;
		break;
	default:
		cat_sqlerr(cat, "store delete");
		status = CAT_ERR;
		break;
	}
	cat_done(st);
	return status;
}
