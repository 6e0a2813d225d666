/*
 * Schedules in the catalog: a name, a summary and the timespec's source
 * text, stored as given (timespec/ parses it and computes run times).  A
 * schedule that a job uses cannot be deleted (the job's foreign key).
 */
#include <stdlib.h>
#include <string.h>

#include "catalog_internal.h"

#define SCHEDULE_COLUMNS "s.uuid, s.name, s.summary, s.timespec"

/* Frees a schedule's strings. */
void
cat_schedule_clear(struct cat_schedule *s)
{
	free(s->name);
	free(s->summary);
	free(s->when);
	memset(s, 0, sizeof *s);
}

/* Frees a list of schedules. */
void
cat_schedules_free(struct cat_schedule *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		cat_schedule_clear(&list[i]);
	free(list);
}

/* Reads SCHEDULE_COLUMNS. */
static void
schedule_row(sqlite3_stmt *st, void *p)
{
	struct cat_schedule *s = p;

	cat_col_copy(st, 0, s->uuid, sizeof s->uuid);
	s->name = cat_col_dup(st, 1);
	s->summary = cat_col_dup(st, 2);
	s->when = cat_col_dup(st, 3);
}

/* cat_schedule_clear() for cat_collect(). */
static void
schedule_clear(void *p)
{
	cat_schedule_clear(p);
}

/* Lists schedules by name, optionally only (un)used ones. */
int
catalog_schedules(struct catalog *cat, const struct cat_filter *f,
    struct cat_schedule **out, size_t *n)
{
	static const char *const clauses[] = {
		"?1 = NOT EXISTS (SELECT 1 FROM jobs j"
		" WHERE j.schedule_uuid = s.uuid)",
	};
	sqlite3_stmt *st;
	unsigned int shape = 0;

	if (f->unused == 0 || f->unused == 1)
		shape |= 1;
	st = cat_prepare_list(cat, LIST_SCHEDULES, shape,
	    "SELECT " SCHEDULE_COLUMNS " FROM schedules s", clauses, 1,
	    "ORDER BY s.name, s.uuid");
	if (st == NULL)
		return CAT_ERR;
	if (shape & 1)
		sqlite3_bind_int(st, 1, f->unused);
	return cat_collect(cat, st, sizeof **out, schedule_row,
	    schedule_clear, (void **)out, n);
}

/* Reads one schedule. */
int
catalog_schedule_get(struct catalog *cat, const char *uuid,
    struct cat_schedule *out)
{
	sqlite3_stmt *st;

	memset(out, 0, sizeof *out);
	st = cat_prepare(cat, SQL_SCHEDULE_GET,
	    "SELECT " SCHEDULE_COLUMNS " FROM schedules s WHERE s.uuid = ?1");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, uuid);
	return cat_fetch(cat, st, schedule_row, out);
}

/* Inserts a schedule under a new uuid. */
int
catalog_schedule_create(struct catalog *cat, const struct cat_schedule *in,
    id_buf out)
{
	sqlite3_stmt *st;
	id_buf uuid;
	int status;

	st = cat_prepare(cat, SQL_SCHEDULE_CREATE,
	    "INSERT INTO schedules (uuid, name, summary, timespec)"
	    " VALUES (?1, ?2, ?3, ?4)");
	if (st == NULL)
		return CAT_ERR;
	id_new(uuid);
	cat_bind_text(st, 1, uuid);
	cat_bind_text(st, 2, in->name);
	cat_bind_text(st, 3, in->summary);
	cat_bind_text(st, 4, in->when);
	if ((status = cat_exec(cat, st, CAT_BADREF)) == CAT_OK)
		memcpy(out, uuid, sizeof uuid);
	return status;
}

/* Rewrites a schedule's fields. */
int
catalog_schedule_update(struct catalog *cat, const struct cat_schedule *in)
{
	sqlite3_stmt *st;

	st = cat_prepare(cat, SQL_SCHEDULE_UPDATE,
	    "UPDATE schedules SET name = ?2, summary = ?3, timespec = ?4"
	    " WHERE uuid = ?1");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, in->uuid);
	cat_bind_text(st, 2, in->name);
	cat_bind_text(st, 3, in->summary);
	cat_bind_text(st, 4, in->when);
	return cat_exec_one(cat, st, CAT_BADREF);
}

/* Deletes a schedule no job uses; the foreign key refuses otherwise. */
int
catalog_schedule_delete(struct catalog *cat, const char *uuid)
{
	sqlite3_stmt *st;

	st = cat_prepare(cat, SQL_SCHEDULE_DELETE,
	    "DELETE FROM schedules WHERE uuid = ?1");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, uuid);
	return cat_exec_one(cat, st, CAT_INUSE);
}
