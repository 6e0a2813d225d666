/*
 * What the catalog's files share and nobody else sees: the catalog object
 * with its statement cache, and small helpers around the sqlite3 API.
 *
 * Fixed statements are prepared on first use into stmts[], indexed by enum
 * cat_sql, and reset after every use.  The list functions build their SQL
 * from the filter fields that are set; each combination of fields ("shape")
 * is prepared once and kept in lists[list][shape].  Values are always bound,
 * never written into SQL text.
 */
#ifndef SHIELD_CATALOG_INTERNAL_H
#define SHIELD_CATALOG_INTERNAL_H

#include <sqlite3.h>

#include "catalog.h"

enum cat_sql {
	SQL_SCHEDULE_GET,
	SQL_SCHEDULE_CREATE,
	SQL_SCHEDULE_UPDATE,
	SQL_SCHEDULE_DELETE,
	SQL_RETENTION_GET,
	SQL_RETENTION_CREATE,
	SQL_RETENTION_UPDATE,
	SQL_RETENTION_DELETE,
	/* The system statements come in pairs: targets, then stores. */
	SQL_SYSTEM_GET,
	SQL_SYSTEM_GET_STORE,
	SQL_SYSTEM_CREATE,
	SQL_SYSTEM_CREATE_STORE,
	SQL_SYSTEM_UPDATE,
	SQL_SYSTEM_UPDATE_STORE,
	SQL_SYSTEM_DELETE,
	SQL_SYSTEM_DELETE_STORE,
	SQL_STORE_EXISTS,
	SQL_JOB_GET,
	SQL_JOB_CREATE,
	SQL_JOB_UPDATE,
	SQL_JOB_PAUSE,
	SQL_JOB_SCHEDULED,
	SQL_JOB_DELETE,
	SQL_JOB_BUSY,
	SQL_JOB_SCHEDULES,
	SQL_JOB_SCHEDULE_ONE,
	SQL_JOB_SUCCESSES,
	SQL_ARCHIVE_GET,
	SQL_ARCHIVE_CREATE,
	SQL_ARCHIVE_NOTES,
	SQL_ARCHIVE_STATUS,
	SQL_ARCHIVE_PURGE_FAILED,
	SQL_ARCHIVE_EXPIRED,
	SQL_ARCHIVE_NEXT_EXPIRY,
	SQL_STORE_USAGE,
	SQL_TASK_GET,
	SQL_TASK_CREATE,
	SQL_TASK_START,
	SQL_TASK_SET_ARCHIVE,
	SQL_TASK_FINISH,
	SQL_TASK_LOG_ADD,
	SQL_TASK_LOG_DROP,
	SQL_TASK_LOG_READ,
	SQL_TASK_LOG_READ_DEBUG,
	SQL_TASK_LOG_LINES,
	SQL_TASK_LOG_TAIL,
	SQL_TASK_LOG_TAIL_DEBUG,
	SQL_TASK_INTERRUPT,
	SQL_TASK_COUNTS,
	SQL_USER_COUNT,
	SQL_USER_CREATE,
	SQL_USER_GET_BY_NAME,
	SQL_USER_GET,
	SQL_TOKEN_CREATE,
	SQL_TOKEN_FIND,
	SQL_TOKEN_LIST,
	SQL_TOKEN_LIST_USER,
	SQL_TOKEN_DELETE,
	SQL_TOKEN_DELETE_BY_HASH,
	SQL_TOKEN_EXPIRE,
	SQL_KEY_ID_GET,
	SQL_KEY_ID_SET,
	SQL_COUNT
};

enum cat_list {
	LIST_SCHEDULES,
	LIST_RETENTIONS,
	LIST_TARGETS,
	LIST_STORES,
	LIST_JOBS,
	LIST_ARCHIVES,
	LIST_TASKS,
	LIST_COUNT
};
/* One bit per optional filter term; no list has more than seven. */
#define CAT_SHAPES 128

struct catalog {
	sqlite3		*db;
	int		 version;
	int		 vacuum;	/* a migration freed much space */
	sqlite3_stmt	*stmts[SQL_COUNT];
	sqlite3_stmt	*lists[LIST_COUNT][CAT_SHAPES];
};

/* A fixed statement, prepared on first use; NULL (logged) on failure. */
sqlite3_stmt	*cat_prepare(struct catalog *, enum cat_sql, const char *);
/*
 * A list statement for one shape: head, then " WHERE " and the clauses whose
 * bit is set in shape joined by " AND ", then tail.
 */
sqlite3_stmt	*cat_prepare_list(struct catalog *, enum cat_list,
		    unsigned int shape, const char *head,
		    const char *const *clauses, size_t nclauses,
		    const char *tail);
/*
 * Migration step 2's C part: moves the logs of the old text columns into
 * task_log rows, capped as new logs are; 0 or -1 (SQLite's error set).
 */
int		 catalog_task_log_migrate(struct catalog *);
/* Resets a statement and drops its bindings so it is ready for reuse. */
void		 cat_done(sqlite3_stmt *);
/* Logs the last SQLite error of the catalog with some context. */
void		 cat_sqlerr(struct catalog *, const char *);

/* Binds text, NULL as "" (for NOT NULL columns). */
int		 cat_bind_text(sqlite3_stmt *, int, const char *);
/* Binds text, NULL or "" as SQL NULL (for optional references). */
int		 cat_bind_opt(sqlite3_stmt *, int, const char *);
/* A malloc'd copy of a text column, NULL for SQL NULL. */
char		*cat_col_dup(sqlite3_stmt *, int);
/* Copies a text column into a fixed buffer ("" for NULL), truncating. */
void		 cat_col_copy(sqlite3_stmt *, int, char *, size_t);

/*
 * Steps a statement that returns no rows and resets it.  A foreign key
 * violation answers fkstatus, a unique one CAT_EXISTS, anything else that
 * fails CAT_ERR (logged).  sqlite3_changes() stays valid afterwards.
 */
int		 cat_exec(struct catalog *, sqlite3_stmt *, int fkstatus);
/* cat_exec() for an UPDATE or DELETE by uuid: CAT_NOTFOUND if no row. */
int		 cat_exec_one(struct catalog *, sqlite3_stmt *, int fkstatus);
/*
 * Steps a statement expected to return at most one row, reads it with row()
 * into out and resets it: CAT_OK, CAT_NOTFOUND or CAT_ERR.
 */
int		 cat_fetch(struct catalog *, sqlite3_stmt *,
		    void (*)(sqlite3_stmt *, void *), void *);
/*
 * Steps a statement to the end, reading each row with row() into a growing
 * array of size-byte elements, and resets it.  On failure frees what was
 * read with clear() and answers CAT_ERR.
 */
int		 cat_collect(struct catalog *, sqlite3_stmt *, size_t,
		    void (*)(sqlite3_stmt *, void *), void (*)(void *),
		    void **, size_t *);

#endif
