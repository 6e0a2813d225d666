/*
 * The catalog's machinery: opening the SQLite file, the numbered schema
 * migrations, the statement cache and the row helpers (declared in
 * catalog_internal.h) that the resource files use.  Each resource has its
 * own file: catalog_schedule.c, catalog_retention.c, catalog_system.c
 * (targets and stores), catalog_job.c, catalog_archive.c, catalog_task.c
 * and catalog_auth.c (users, sessions and API tokens).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog_internal.h"
#include "log.h"
#include "xmalloc.h"

/*
 * The schema, one step per version: step i brings user_version from i to
 * i + 1.  Steps are only ever appended; a shipped step never changes.
 *
 * Archives and tasks keep no foreign keys to jobs, targets or stores: they
 * are history and outlive the configuration that produced them.  Optional
 * references are stored as NULL rather than "".
 */
static const char *const catalog_migrations[] = {
	/* 1: the seed's tables plus users and tokens. */
	"CREATE TABLE schedules ("
	"  uuid      TEXT PRIMARY KEY,"
	"  name      TEXT NOT NULL,"
	"  summary   TEXT NOT NULL DEFAULT '',"
	"  timespec  TEXT NOT NULL"
	");"
	"CREATE TABLE retention ("
	"  uuid      TEXT PRIMARY KEY,"
	"  name      TEXT NOT NULL,"
	"  summary   TEXT NOT NULL DEFAULT '',"
	"  expiry    INTEGER NOT NULL"
	");"
	"CREATE TABLE targets ("
	"  uuid      TEXT PRIMARY KEY,"
	"  name      TEXT NOT NULL,"
	"  summary   TEXT NOT NULL DEFAULT '',"
	"  plugin    TEXT NOT NULL,"
	"  endpoint  TEXT NOT NULL"
	");"
	"CREATE TABLE stores ("
	"  uuid      TEXT PRIMARY KEY,"
	"  name      TEXT NOT NULL,"
	"  summary   TEXT NOT NULL DEFAULT '',"
	"  plugin    TEXT NOT NULL,"
	"  endpoint  TEXT NOT NULL"
	");"
	"CREATE TABLE jobs ("
	"  uuid            TEXT PRIMARY KEY,"
	"  target_uuid     TEXT NOT NULL"
	"    REFERENCES targets (uuid) ON DELETE RESTRICT,"
	"  store_uuid      TEXT NOT NULL"
	"    REFERENCES stores (uuid) ON DELETE RESTRICT,"
	"  schedule_uuid   TEXT NOT NULL"
	"    REFERENCES schedules (uuid) ON DELETE RESTRICT,"
	"  retention_uuid  TEXT NOT NULL"
	"    REFERENCES retention (uuid) ON DELETE RESTRICT,"
	"  paused          INTEGER NOT NULL DEFAULT 0,"
	"  name            TEXT NOT NULL,"
	"  summary         TEXT NOT NULL DEFAULT '',"
	"  last_scheduled  INTEGER NOT NULL DEFAULT 0,"
	"  last_task       INTEGER"
	");"
	/* Lists are by name: reading this index in order needs no sort. */
	"CREATE INDEX jobs_name ON jobs (name, uuid);"
	"CREATE INDEX jobs_target ON jobs (target_uuid);"
	"CREATE INDEX jobs_store ON jobs (store_uuid);"
	"CREATE INDEX jobs_schedule ON jobs (schedule_uuid);"
	"CREATE INDEX jobs_retention ON jobs (retention_uuid);"
	"CREATE TABLE archives ("
	"  uuid            TEXT PRIMARY KEY,"
	"  target_uuid     TEXT NOT NULL,"
	"  store_uuid      TEXT NOT NULL,"
	"  job_uuid        TEXT,"
	"  store_key       TEXT NOT NULL,"
	"  taken_at        INTEGER NOT NULL,"
	"  expires_at      INTEGER NOT NULL,"
	"  notes           TEXT NOT NULL DEFAULT '',"
	"  status          TEXT NOT NULL DEFAULT 'valid',"
	"  size            INTEGER NOT NULL DEFAULT 0,"
	"  sha256          TEXT NOT NULL DEFAULT '',"
	"  purge_attempts  INTEGER NOT NULL DEFAULT 0,"
	"  purge_after     INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX archives_taken ON archives (taken_at);"
	"CREATE INDEX archives_target ON archives (target_uuid, taken_at);"
	"CREATE INDEX archives_store ON archives (store_uuid, taken_at);"
	"CREATE INDEX archives_job ON archives (job_uuid, taken_at);"
	/* What the purger asks for: live archives by when they are due. */
	"CREATE INDEX archives_due ON archives (max(expires_at, purge_after))"
	"  WHERE status IN ('valid', 'expired');"
	"CREATE TABLE tasks ("
	"  uuid          TEXT PRIMARY KEY,"
	"  owner         TEXT NOT NULL DEFAULT '',"
	"  op            TEXT NOT NULL,"
	"  job_uuid      TEXT,"
	"  archive_uuid  TEXT,"
	"  target_uuid   TEXT,"
	"  store_uuid    TEXT,"
	"  status        TEXT NOT NULL DEFAULT 'pending',"
	"  requested_at  INTEGER NOT NULL,"
	"  started_at    INTEGER NOT NULL DEFAULT 0,"
	"  stopped_at    INTEGER NOT NULL DEFAULT 0,"
	"  bytes         INTEGER NOT NULL DEFAULT 0,"
	"  error         TEXT,"
	"  log           TEXT NOT NULL DEFAULT '',"
	"  debug         TEXT NOT NULL DEFAULT ''"
	");"
	"CREATE INDEX tasks_requested ON tasks (requested_at);"
	"CREATE INDEX tasks_job ON tasks (job_uuid, requested_at);"
	"CREATE INDEX tasks_target ON tasks (target_uuid, requested_at);"
	"CREATE INDEX tasks_status ON tasks (status, requested_at);"
	/*
	 * jobs.last_task is the rowid of the job's newest task (latest
	 * requested_at, then latest row), kept by this trigger so that a job
	 * list reads it with one lookup instead of searching tasks per job.
	 * A new row has the highest rowid, so it wins unless the current
	 * newest was requested later (a clock that stepped back).
	 */
	"CREATE TRIGGER tasks_newest AFTER INSERT ON tasks"
	"  WHEN NEW.job_uuid IS NOT NULL BEGIN"
	"  UPDATE jobs SET last_task = NEW.rowid WHERE uuid = NEW.job_uuid"
	"    AND coalesce((SELECT k.requested_at FROM tasks k"
	"      WHERE k.rowid = jobs.last_task), -9223372036854775808)"
	"      <= NEW.requested_at;"
	"  END;"
	"CREATE TABLE users ("
	"  uuid    TEXT PRIMARY KEY,"
	"  name    TEXT NOT NULL UNIQUE,"
	"  pwhash  TEXT NOT NULL"
	");"
	"CREATE TABLE tokens ("
	"  uuid        TEXT PRIMARY KEY,"
	"  user_uuid   TEXT NOT NULL"
	"    REFERENCES users (uuid) ON DELETE CASCADE,"
	"  name        TEXT NOT NULL DEFAULT '',"
	"  kind        TEXT NOT NULL,"
	"  hash        TEXT NOT NULL UNIQUE,"
	"  created_at  INTEGER NOT NULL DEFAULT 0,"
	"  expires_at  INTEGER NOT NULL DEFAULT 0,"
	"  last_used   INTEGER NOT NULL DEFAULT 0"
	");"
	"CREATE INDEX tokens_user ON tokens (user_uuid, kind);",
	/*
	 * 2: task logs as rows, one per line, so a line is appended in
	 * O(line) and the middle of a long log can be dropped.  seq orders
	 * all of a task's lines (the debug log); lno numbers those of the
	 * task log and is NULL for debug-only lines.  The old text columns
	 * are moved here by catalog_task_log_migrate() after this SQL.
	 */
	"CREATE TABLE task_log ("
	"  task_uuid  TEXT NOT NULL"
	"    REFERENCES tasks (uuid) ON DELETE CASCADE,"
	"  seq        INTEGER NOT NULL,"
	"  lno        INTEGER,"
	"  line       TEXT NOT NULL,"
	"  PRIMARY KEY (task_uuid, seq)"
	") WITHOUT ROWID;"
	/* The task log alone, and its newest line, for task lists. */
	"CREATE INDEX task_log_lno ON task_log (task_uuid, lno)"
	"  WHERE lno IS NOT NULL;",
	/* 3: the old text columns, now empty. */
	"ALTER TABLE tasks DROP COLUMN log;"
	"ALTER TABLE tasks DROP COLUMN debug;",
	/*
	 * 4: facts about the catalog itself, one row each; the first is
	 * key_id, the id of the master key the catalog was first used with,
	 * so that a start with another key (or none) is refused.
	 */
	"CREATE TABLE IF NOT EXISTS settings ("
	"  name   TEXT PRIMARY KEY,"
	"  value  TEXT NOT NULL"
	") WITHOUT ROWID;",
};
#define CATALOG_VERSION \
	((int)(sizeof catalog_migrations / sizeof catalog_migrations[0]))

/* Steps that also need C, run after their SQL in the same transaction. */
static int (*const catalog_migration_code[CATALOG_VERSION])(
    struct catalog *) = {
	[1] = catalog_task_log_migrate,
};

/* Reads PRAGMA user_version into *version. */
static int
catalog_read_version(struct catalog *cat, int *version)
{
	sqlite3_stmt *st;
	int rc;

	if (sqlite3_prepare_v2(cat->db, "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? 0 : -1;
}

/*
 * Applies migration step n (to version n + 1) in its own transaction.  The
 * version is read again under the write lock so that two processes opening
 * the same new file do not both apply a step.
 */
static int
catalog_migrate_step(struct catalog *cat, int n, char **errp)
{
	char pragma[64];
	int version;

	if (sqlite3_exec(cat->db, "BEGIN IMMEDIATE", NULL, NULL,
	    NULL) != SQLITE_OK)
		goto fail;
	if (catalog_read_version(cat, &version) != 0)
		goto fail;
	if (version > n) {
		sqlite3_exec(cat->db, "ROLLBACK", NULL, NULL, NULL);
		cat->version = version;
		return 0;
	}
	snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", n + 1);
	if (sqlite3_exec(cat->db, catalog_migrations[n], NULL, NULL,
	    NULL) != SQLITE_OK ||
	    (catalog_migration_code[n] != NULL &&
	    catalog_migration_code[n](cat) != 0) ||
	    sqlite3_exec(cat->db, pragma, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(cat->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	cat->version = n + 1;
	log_info("catalog: migrated to schema version %d", n + 1);
	return 0;

fail:
	xasprintf(errp, "catalog migration to version %d failed: %s", n + 1,
	    sqlite3_errmsg(cat->db));
	if (!sqlite3_get_autocommit(cat->db))
		sqlite3_exec(cat->db, "ROLLBACK", NULL, NULL, NULL);
	return -1;
}

/* Runs a connection setting; errors here mean the file is unusable. */
static int
catalog_pragma(struct catalog *cat, const char *sql, const char *path,
    char **errp)
{
	if (sqlite3_exec(cat->db, sql, NULL, NULL, NULL) == SQLITE_OK)
		return 0;
	xasprintf(errp, "cannot use catalog %s: %s", path,
	    sqlite3_errmsg(cat->db));
	return -1;
}

/*
 * Create the catalog file 0600 before SQLite opens it, whatever the umask:
 * SQLite would make it 0644 less the umask, and the -wal and -shm files it
 * creates later get the database file's permission bits (SQLite fchmods
 * them when the umask got in the way), so all three are 0600.  A file that
 * exists keeps its mode, with a warning when others can read it.
 */
static int
catalog_create_file(const char *path, char **errp)
{
	struct stat st;
	int fd;

	if (strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0)
		return 0;
	if ((fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC,
	    0600)) != -1) {
		if (fchmod(fd, 0600) != 0) {
			xasprintf(errp, "cannot set the mode of catalog %s: "
			    "%s", path, strerror(errno));
			close(fd);
			return -1;
		}
		close(fd);
		return 0;
	}
	if (errno != EEXIST) {
		xasprintf(errp, "cannot create catalog %s: %s", path,
		    strerror(errno));
		return -1;
	}
	if (stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    (st.st_mode & 077) != 0)
		log_warn("catalog %s can be read by other users (mode %04o) "
		    "and holds endpoint secrets: chmod 600 it (its -wal and "
		    "-shm files follow)", path, (unsigned int)(st.st_mode &
		    07777));
	return 0;
}

/* Opens the database, sets it up and brings the schema up to date. */
struct catalog *
catalog_open(const char *path, char **errp)
{
	/*
	 * WAL lets readers run beside the writer; NORMAL sync is safe with
	 * WAL (a crash can lose the last commits, never corrupt).  The page
	 * cache is an upper bound, only reached by large catalogs, and big
	 * enough that listing every job does not go back to the file.
	 */
	static const char *const pragmas[] = {
		"PRAGMA foreign_keys = ON",
		"PRAGMA journal_mode = WAL",
		"PRAGMA synchronous = NORMAL",
		"PRAGMA cache_size = -16384",
		"PRAGMA temp_store = MEMORY",
	};
	struct catalog *cat;
	char *err = NULL;
	size_t i;
	/* One thread uses the connection: SQLite's own mutexes are waste. */
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
	    SQLITE_OPEN_NOMUTEX;

	if (errp != NULL)
		*errp = NULL;
	cat = xcalloc(1, sizeof *cat);
	if (path == NULL || *path == '\0') {
		err = xstrdup("no catalog path given");
		goto fail;
	}
	if (catalog_create_file(path, &err) != 0)
		goto fail;
	if (sqlite3_open_v2(path, &cat->db, flags, NULL) != SQLITE_OK) {
		xasprintf(&err, "cannot open catalog %s: %s", path,
		    cat->db != NULL ? sqlite3_errmsg(cat->db) :
		    "out of memory");
		goto fail;
	}
	sqlite3_extended_result_codes(cat->db, 1);
	/*
	 * The daemon runs one thread and must not stall its loop: a short
	 * busy timeout turns contention (a maintenance tool holding the
	 * write lock) into an error rather than a hang.
	 */
	sqlite3_busy_timeout(cat->db, 200);
	for (i = 0; i < sizeof pragmas / sizeof pragmas[0]; i++) {
		if (catalog_pragma(cat, pragmas[i], path, &err) != 0)
			goto fail;
	}
	if (catalog_read_version(cat, &cat->version) != 0) {
		xasprintf(&err, "cannot read catalog %s: %s", path,
		    sqlite3_errmsg(cat->db));
		goto fail;
	}
	/* Checked each step: another process may migrate meanwhile. */
	while (cat->version != CATALOG_VERSION) {
		if (cat->version > CATALOG_VERSION) {
			xasprintf(&err, "catalog %s has schema version %d, "
			    "newer than the %d this shieldd knows; upgrade "
			    "shieldd", path, cat->version, CATALOG_VERSION);
			goto fail;
		}
		if (catalog_migrate_step(cat, cat->version, &err) != 0)
			goto fail;
	}
	/* Moving old task logs out of their rows leaves the file mostly free
	 * pages: give them back (VACUUM cannot run inside the migration). */
	if (cat->vacuum) {
		log_info("catalog: compacting %s after moving task logs",
		    path);
		if (sqlite3_exec(cat->db, "VACUUM", NULL, NULL,
		    NULL) != SQLITE_OK)
			cat_sqlerr(cat, "vacuum");
		cat->vacuum = 0;
	}
	return cat;

fail:
	catalog_free(cat);
	if (errp != NULL)
		*errp = err;
	else {
		log_warn("%s", err);
		free(err);
	}
	return NULL;
}

/* Finalizes every cached statement and closes the database. */
void
catalog_free(struct catalog *cat)
{
	size_t i, j;

	if (cat == NULL)
		return;
	for (i = 0; i < SQL_COUNT; i++)
		sqlite3_finalize(cat->stmts[i]);
	for (i = 0; i < LIST_COUNT; i++) {
		for (j = 0; j < CAT_SHAPES; j++)
			sqlite3_finalize(cat->lists[i][j]);
	}
	if (cat->db != NULL && sqlite3_close(cat->db) != SQLITE_OK)
		log_warn("catalog: close: %s", sqlite3_errmsg(cat->db));
	free(cat);
}

/* The schema version reached by catalog_open. */
int
catalog_schema_version(struct catalog *cat)
{
	return cat->version;
}

/* The key id recorded in the catalog: CAT_OK, CAT_NOTFOUND or CAT_ERR. */
int
catalog_key_id(struct catalog *cat, char *buf, size_t size)
{
	sqlite3_stmt *st;
	int rc, status;

	buf[0] = '\0';
	st = cat_prepare(cat, SQL_KEY_ID_GET,
	    "SELECT value FROM settings WHERE name = 'key_id'");
	if (st == NULL)
		return CAT_ERR;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		cat_col_copy(st, 0, buf, size);
		status = CAT_OK;
	} else if (rc == SQLITE_DONE)
		status = CAT_NOTFOUND;
	else {
		cat_sqlerr(cat, "key id");
		status = CAT_ERR;
	}
	cat_done(st);
	return status;
}

/*
 * Records the key id unless one is recorded: a catalog's key id is set
 * once, so a second daemon racing on a new file cannot replace it.
 */
int
catalog_key_id_set(struct catalog *cat, const char *id)
{
	sqlite3_stmt *st;

	st = cat_prepare(cat, SQL_KEY_ID_SET,
	    "INSERT OR IGNORE INTO settings (name, value) VALUES ('key_id', ?)");
	if (st == NULL || cat_bind_text(st, 1, id) != SQLITE_OK)
		return CAT_ERR;
	return cat_exec(cat, st, CAT_ERR);
}

/* Sets every field of a filter to "don't care". */
void
cat_filter_init(struct cat_filter *f)
{
	memset(f, 0, sizeof *f);
	f->unused = CAT_ANY;
	f->paused = CAT_ANY;
	f->status = CAT_ANY;
}

/* Logs the catalog's last SQLite error. */
void
cat_sqlerr(struct catalog *cat, const char *what)
{
	log_warn("catalog: %s: %s", what, sqlite3_errmsg(cat->db));
}

/* Prepares a statement that lives as long as the catalog. */
static sqlite3_stmt *
cat_prepare_sql(struct catalog *cat, const char *sql)
{
	sqlite3_stmt *st;

	if (sqlite3_prepare_v3(cat->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &st, NULL) != SQLITE_OK) {
		log_warn("catalog: prepare: %s: %.80s",
		    sqlite3_errmsg(cat->db), sql);
		return NULL;
	}
	return st;
}

/* Returns the cached statement, preparing it the first time. */
sqlite3_stmt *
cat_prepare(struct catalog *cat, enum cat_sql which, const char *sql)
{
	if (cat->stmts[which] == NULL)
		cat->stmts[which] = cat_prepare_sql(cat, sql);
	return cat->stmts[which];
}

/* Returns the cached statement for a list shape, building it if needed. */
sqlite3_stmt *
cat_prepare_list(struct catalog *cat, enum cat_list list, unsigned int shape,
    const char *head, const char *const *clauses, size_t nclauses,
    const char *tail)
{
	sqlite3_stmt *st;
	size_t i, len, off;
	char *sql;
	int first = 1;

	if (cat->lists[list][shape] != NULL)
		return cat->lists[list][shape];

	len = strlen(head) + strlen(tail) + 8;
	for (i = 0; i < nclauses; i++)
		len += strlen(clauses[i]) + 8;
	sql = xmalloc(len);
	off = (size_t)snprintf(sql, len, "%s", head);
	for (i = 0; i < nclauses; i++) {
		if ((shape & (1U << i)) == 0)
			continue;
		off += (size_t)snprintf(sql + off, len - off, "%s%s",
		    first ? " WHERE " : " AND ", clauses[i]);
		first = 0;
	}
	snprintf(sql + off, len - off, " %s", tail);
	st = cat_prepare_sql(cat, sql);
	free(sql);
	cat->lists[list][shape] = st;
	return st;
}

/* Resets a statement for its next use. */
void
cat_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Binds NULL as the empty string. */
int
cat_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	/* Static: the caller's strings outlive the step and reset. */
	return sqlite3_bind_text(st, i, s != NULL ? s : "", -1, SQLITE_STATIC);
}

/* Binds NULL or "" as SQL NULL. */
int
cat_bind_opt(sqlite3_stmt *st, int i, const char *s)
{
	if (s == NULL || *s == '\0')
		return sqlite3_bind_null(st, i);
	return sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
}

/* Copies a text column byte for byte. */
char *
cat_col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *s;
	size_t n;
	char *out;

	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return NULL;
	s = sqlite3_column_text(st, i);
	n = (size_t)sqlite3_column_bytes(st, i);
	out = xmalloc(n + 1);
	if (n > 0)
		memcpy(out, s, n);
	out[n] = '\0';
	return out;
}

/* Copies a short text column into a fixed buffer. */
void
cat_col_copy(sqlite3_stmt *st, int i, char *buf, size_t size)
{
	const unsigned char *s;
	size_t n;

	s = sqlite3_column_text(st, i);
	n = s != NULL ? (size_t)sqlite3_column_bytes(st, i) : 0;
	if (n >= size)
		n = size - 1;
	if (n > 0)
		memcpy(buf, s, n);
	buf[n] = '\0';
}

/* Steps a statement without rows and maps constraint failures. */
int
cat_exec(struct catalog *cat, sqlite3_stmt *st, int fkstatus)
{
	int rc, status;

	rc = sqlite3_step(st);
	switch (rc) {
	case SQLITE_DONE:
	case SQLITE_ROW:
		status = CAT_OK;
		break;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
	/* ON DELETE RESTRICT is enforced by a trigger; we define no others. */
	case SQLITE_CONSTRAINT_TRIGGER:
		status = fkstatus;
		break;
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
		status = CAT_EXISTS;
		break;
	default:
		cat_sqlerr(cat, sqlite3_sql(st));
		status = CAT_ERR;
		break;
	}
	cat_done(st);
	return status;
}

/* Runs an UPDATE or DELETE of one row by uuid. */
int
cat_exec_one(struct catalog *cat, sqlite3_stmt *st, int fkstatus)
{
	int status;

	status = cat_exec(cat, st, fkstatus);
	if (status == CAT_OK && sqlite3_changes(cat->db) == 0)
		return CAT_NOTFOUND;
	return status;
}

/* Reads at most one row. */
int
cat_fetch(struct catalog *cat, sqlite3_stmt *st,
    void (*row)(sqlite3_stmt *, void *), void *out)
{
	int rc, status;

	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		row(st, out);
		status = CAT_OK;
	} else if (rc == SQLITE_DONE)
		status = CAT_NOTFOUND;
	else {
		cat_sqlerr(cat, sqlite3_sql(st));
		status = CAT_ERR;
	}
	cat_done(st);
	return status;
}

/* Reads every row into a malloc'd array. */
int
cat_collect(struct catalog *cat, sqlite3_stmt *st, size_t size,
    void (*row)(sqlite3_stmt *, void *), void (*clear)(void *),
    void **outp, size_t *np)
{
	char *arr = NULL;
	size_t n = 0, cap = 0, i;
	int rc;

	*outp = NULL;
	*np = 0;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cap = cap == 0 ? 16 : cap * 2;
			arr = xreallocarray(arr, cap, size);
		}
		memset(arr + n * size, 0, size);
		row(st, arr + n * size);
		n++;
	}
	if (rc != SQLITE_DONE) {
		cat_sqlerr(cat, sqlite3_sql(st));
		cat_done(st);
		for (i = 0; i < n; i++)
			clear(arr + i * size);
		free(arr);
		return CAT_ERR;
	}
	cat_done(st);
	*outp = arr;
	*np = n;
	return CAT_OK;
}
