/*
 * The catalog: SHIELD's only persistent state, in one SQLite file (WAL mode,
 * foreign keys on).  This is the only module that speaks SQL.  Every other
 * module sees plain records: structs whose char * fields are owned by the
 * record and released by the matching *_clear() or list *_free() function.
 *
 * Times are seconds since the epoch (UTC); 0 means "not set".
 * Functions returning int answer one of enum cat_status.
 */
#ifndef SHIELD_CATALOG_H
#define SHIELD_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "id.h"

enum cat_status {
	CAT_ERR = -1,		/* SQLite failed; already logged */
	CAT_OK = 0,
	CAT_NOTFOUND,		/* no row with that uuid (or name) */
	CAT_INUSE,		/* a job (or a valid archive) still refers to it */
	CAT_BADREF,		/* a referenced uuid does not exist */
	CAT_EXISTS,		/* a unique name is already taken */
};

/* A filter for the list functions; fields that do not apply are ignored. */
#define CAT_ANY (-1)
/* ---- states (catalog_state.c: their names, in one place) ---- */
enum cat_task_type {
	CAT_TASK_BACKUP,
	CAT_TASK_RESTORE,
	CAT_TASK_PURGE,
};
#define CAT_TASK_TYPES		3
enum cat_task_status {
	CAT_TASK_PENDING,
	CAT_TASK_RUNNING,
	CAT_TASK_CANCELED,
	CAT_TASK_FAILED,
	CAT_TASK_DONE,
};
#define CAT_TASK_STATUSES	5
enum cat_archive_status {
	CAT_ARCHIVE_VALID,
	CAT_ARCHIVE_EXPIRED,
	CAT_ARCHIVE_PURGED,
};
#define CAT_ARCHIVE_STATUSES	3
/* Names as stored and shown; parsers return 0, or -1 for an unknown name. */
const char	*cat_task_type_name(enum cat_task_type);
int		 cat_task_type_parse(const char *, enum cat_task_type *);
const char	*cat_task_status_name(enum cat_task_status);
int		 cat_task_status_parse(const char *, enum cat_task_status *);
const char	*cat_archive_status_name(enum cat_archive_status);
int		 cat_archive_status_parse(const char *,
		    enum cat_archive_status *);

struct cat_filter {
	int		 unused;	/* CAT_ANY, 1: only unused, 0: only used */
	int		 paused;	/* CAT_ANY, 1: only paused, 0: unpaused */
	const char	*plugin;	/* targets, stores */
	const char	*target;	/* jobs, archives, tasks: a uuid */
	const char	*store;		/* jobs, archives */
	const char	*schedule;	/* jobs */
	const char	*retention;	/* jobs */
	const char	*job;		/* tasks, archives */
	int		 status;	/* tasks, archives: CAT_ANY or an enum
					   cat_task_status / cat_archive_status */
	int64_t		 after;		/* archives: taken_at >= after */
	int64_t		 before;	/* archives: taken_at < before */
	int		 limit;		/* tasks, archives: at most this many, 0 = all */
	int		 offset;	/* tasks, archives: skip this many first */
};
/* A filter that matches everything. */
void	cat_filter_init(struct cat_filter *);

struct catalog;

/*
 * Open (creating if needed) and migrate the catalog at path.  On failure
 * returns NULL and sets *errp to a message the caller frees.
 */
struct catalog	*catalog_open(const char *path, char **errp);
void		 catalog_free(struct catalog *);
/* The PRAGMA user_version the catalog is at. */
int		 catalog_schema_version(struct catalog *);
/*
 * The id of the master key the catalog was first used with, copied into
 * buf: CAT_OK, CAT_NOTFOUND (none recorded yet) or CAT_ERR.
 */
int		 catalog_key_id(struct catalog *, char *buf, size_t size);
/* Record the key id if none is recorded yet (never replaces one). */
int		 catalog_key_id_set(struct catalog *, const char *id);

/* ---- schedules ---- */
struct cat_schedule {
	id_buf	 uuid;
	char	*name;
	char	*summary;
	char	*when;		/* timespec source text */
};
void	cat_schedule_clear(struct cat_schedule *);
void	cat_schedules_free(struct cat_schedule *, size_t);
int	catalog_schedules(struct catalog *, const struct cat_filter *,
	    struct cat_schedule **, size_t *);
int	catalog_schedule_get(struct catalog *, const char *uuid,
	    struct cat_schedule *);
/* Creates with a new uuid, written to out. */
int	catalog_schedule_create(struct catalog *, const struct cat_schedule *,
	    id_buf out);
/* Updates name, summary and when of the row with in->uuid. */
int	catalog_schedule_update(struct catalog *, const struct cat_schedule *);
int	catalog_schedule_delete(struct catalog *, const char *uuid);

/* ---- retention policies ---- */
struct cat_retention {
	id_buf	 uuid;
	char	*name;
	char	*summary;
	int64_t	 expiry;	/* seconds */
};
void	cat_retention_clear(struct cat_retention *);
void	cat_retentions_free(struct cat_retention *, size_t);
int	catalog_retentions(struct catalog *, const struct cat_filter *,
	    struct cat_retention **, size_t *);
int	catalog_retention_get(struct catalog *, const char *uuid,
	    struct cat_retention *);
int	catalog_retention_create(struct catalog *, const struct cat_retention *,
	    id_buf out);
int	catalog_retention_update(struct catalog *, const struct cat_retention *);
int	catalog_retention_delete(struct catalog *, const char *uuid);

/* ---- targets and stores: the same shape, two tables ---- */
enum cat_kind {
	CAT_TARGET,
	CAT_STORE,
};
struct cat_system {
	id_buf	 uuid;
	char	*name;
	char	*summary;
	char	*plugin;
	char	*endpoint;	/* opaque text, JSON by convention */
};
void	cat_system_clear(struct cat_system *);
void	cat_systems_free(struct cat_system *, size_t);
int	catalog_systems(struct catalog *, enum cat_kind,
	    const struct cat_filter *, struct cat_system **, size_t *);
int	catalog_system_get(struct catalog *, enum cat_kind, const char *uuid,
	    struct cat_system *);
int	catalog_system_create(struct catalog *, enum cat_kind,
	    const struct cat_system *, id_buf out);
int	catalog_system_update(struct catalog *, enum cat_kind,
	    const struct cat_system *);
/* CAT_INUSE if a job uses it, or (stores) valid archives are in it. */
int	catalog_system_delete(struct catalog *, enum cat_kind, const char *uuid);

/* ---- jobs ---- */
struct cat_job {
	id_buf	 uuid;
	char	*name;
	char	*summary;
	id_buf	 target_uuid;
	id_buf	 store_uuid;
	id_buf	 schedule_uuid;
	id_buf	 retention_uuid;
	int	 paused;
	int64_t	 last_scheduled;	/* slot time of the last scheduled run */
	/* Joined, read-only: filled by get and list. */
	char	*retention_name;
	int64_t	 expiry;
	char	*schedule_name;
	char	*schedule;		/* the schedule's timespec */
	char	*store_name;
	char	*store_plugin;
	char	*store_endpoint;
	char	*target_name;
	char	*target_plugin;
	char	*target_endpoint;
	/* The newest task of this job, if any ("" when none). */
	id_buf	 last_task_uuid;
	char	 last_task_status[16];
	int64_t	 last_task_started;
	int64_t	 last_task_stopped;
};
void	cat_job_clear(struct cat_job *);
void	cat_jobs_free(struct cat_job *, size_t);
int	catalog_jobs(struct catalog *, const struct cat_filter *,
	    struct cat_job **, size_t *);
int	catalog_job_get(struct catalog *, const char *uuid, struct cat_job *);
/* Uses name, summary, the four uuids and paused; CAT_BADREF on a bad uuid. */
int	catalog_job_create(struct catalog *, const struct cat_job *, id_buf out);
/* Updates name, summary and the four uuids (not paused). */
int	catalog_job_update(struct catalog *, const struct cat_job *);
int	catalog_job_set_paused(struct catalog *, const char *uuid, int paused);
int	catalog_job_set_last_scheduled(struct catalog *, const char *uuid,
	    int64_t);
int	catalog_job_delete(struct catalog *, const char *uuid);

/* ---- archives ---- */
struct cat_archive {
	id_buf	 uuid;
	id_buf	 target_uuid;
	id_buf	 store_uuid;
	id_buf	 job_uuid;		/* "" for none */
	char	*store_key;
	int64_t	 taken_at;
	int64_t	 expires_at;
	char	*notes;
	enum cat_archive_status status;
	int64_t	 size;			/* bytes */
	char	 sha256[65];		/* lowercase hex */
	int	 purge_attempts;
	int64_t	 purge_after;		/* don't retry a failed purge before */
	/* Joined, read-only (NULL if the target or store is gone). */
	char	*target_name;
	char	*target_plugin;
	char	*target_endpoint;
	char	*store_name;
	char	*store_plugin;
	char	*store_endpoint;
};
void	cat_archive_clear(struct cat_archive *);
void	cat_archives_free(struct cat_archive *, size_t);
/* Newest first. */
int	catalog_archives(struct catalog *, const struct cat_filter *,
	    struct cat_archive **, size_t *);
int	catalog_archive_get(struct catalog *, const char *uuid,
	    struct cat_archive *);
/* Records a stored archive with in->status (CAT_ARCHIVE_VALID: 0). */
int	catalog_archive_create(struct catalog *, const struct cat_archive *,
	    id_buf out);
int	catalog_archive_set_notes(struct catalog *, const char *uuid,
	    const char *notes);
int	catalog_archive_set_status(struct catalog *, const char *uuid,
	    enum cat_archive_status);
/* Records a failed purge: attempts+1, retry not before purge_after. */
int	catalog_archive_purge_failed(struct catalog *, const char *uuid,
	    int64_t purge_after);
/* Archives with status valid or expired and expires_at <= now. */
int	catalog_archives_expired(struct catalog *, int64_t now,
	    struct cat_archive **, size_t *);
/* The smallest expires_at among valid/expired archives, 0 if none. */
int64_t	catalog_archive_next_expiry(struct catalog *);

/* ---- tasks ---- */
struct cat_task {
	id_buf	 uuid;
	char	*owner;
	enum cat_task_type type;
	id_buf	 job_uuid;		/* "" when not set */
	id_buf	 archive_uuid;
	id_buf	 target_uuid;
	id_buf	 store_uuid;
	enum cat_task_status status;
	int64_t	 requested_at;
	int64_t	 started_at;
	int64_t	 stopped_at;
	int64_t	 bytes;
	char	*error;			/* one line, why it failed; NULL if none */
	char	*last_log;		/* the task log's newest line, or NULL */
};
void	cat_task_clear(struct cat_task *);
void	cat_tasks_free(struct cat_task *, size_t);
/* Newest first; last_log is filled only when with_last_log is set. */
int	catalog_tasks(struct catalog *, const struct cat_filter *,
	    int with_last_log, struct cat_task **, size_t *);
/* One task, with last_log. */
int	catalog_task_get(struct catalog *, const char *uuid, struct cat_task *);
/* Inserts a pending task (owner, type, the uuids; requested_at = now). */
int	catalog_task_create(struct catalog *, const struct cat_task *,
	    int64_t now, id_buf out);
int	catalog_task_start(struct catalog *, const char *uuid, int64_t now);
/* Sets the final status, stopped_at, bytes and error (may be NULL). */
int	catalog_task_finish(struct catalog *, const char *uuid,
	    enum cat_task_status, int64_t now, int64_t bytes,
	    const char *error);
/* Links a backup task to the archive it produced. */
int	catalog_task_set_archive(struct catalog *, const char *uuid,
	    const char *archive_uuid);

/*
 * Task logs are stored one row per line.  Every line has a seq, its place
 * among all of the task's lines (which make the debug log), and the lines
 * of the task log also an lno, their place in it.  Of a long log only the
 * head and the tail are kept: at most CAT_LOG_HEAD_LINES lines and
 * CAT_LOG_HEAD_BYTES bytes from its start, CAT_LOG_TAIL_LINES and
 * CAT_LOG_TAIL_BYTES from its end (bytes of line text, always at least
 * the last line).  core/tasklog.c keeps to that while a task runs; the
 * migration applied it to older logs.
 */
#define CAT_LOG_HEAD_LINES	1000
#define CAT_LOG_HEAD_BYTES	(256 * 1024)
#define CAT_LOG_TAIL_LINES	4000
#define CAT_LOG_TAIL_BYTES	(1024 * 1024)
struct cat_log_line {
	int64_t		 seq;		/* from 1, increasing */
	int64_t		 lno;		/* from 1; 0: in the debug log only */
	const char	*text;		/* without its newline */
	size_t		 len;
};
/*
 * In one transaction: drop the stored lines with drop_from <= seq <=
 * drop_to (none if drop_to < drop_from), then add n lines with seqs above
 * any stored.  CAT_NOTFOUND if there is no such task.
 */
int	catalog_task_log_write(struct catalog *, const char *uuid,
	    int64_t drop_from, int64_t drop_to, const struct cat_log_line *,
	    size_t n);
/*
 * A task's log as text, each line ending in a newline and each gap left
 * by dropped lines read as one line "... N lines cut ...".  With debug,
 * the debug log (every line); else the task log from line after + 1 on.
 * *text is the caller's; *lines, when not NULL, is set to the number of
 * the task log's last stored line (0 if none).
 */
int	catalog_task_log(struct catalog *, const char *uuid, int debug,
	    int64_t after, char **text, int64_t *lines);
/*
 * The newest nlines lines of a task's log (with debug, of its debug log) as
 * text, after a line "... N lines cut ..." when there were more.
 * *text is the caller's.
 */
int	catalog_task_log_tail(struct catalog *, const char *uuid, int debug,
	    int nlines, char **text);
/* 1 if the job has a pending or running task, 0 if not. */
int	catalog_job_busy(struct catalog *, const char *job_uuid);
/*
 * Marks every running or pending task failed with the given reason (used at
 * start after a crash); returns how many or CAT_ERR.
 */
int	catalog_tasks_interrupt(struct catalog *, int64_t now,
	    const char *reason);
/* Counts of tasks per status, indexed by enum cat_task_status. */
int	catalog_task_counts(struct catalog *,
	    int64_t counts[CAT_TASK_STATUSES]);

/* ---- users, sessions and API tokens ---- */
struct cat_user {
	id_buf	 uuid;
	char	*name;
	char	*pwhash;		/* crypt-style KDF string */
};
void	cat_user_clear(struct cat_user *);
int	catalog_user_count(struct catalog *, int64_t *);
int	catalog_user_create(struct catalog *, const char *name,
	    const char *pwhash, id_buf out);
int	catalog_user_get_by_name(struct catalog *, const char *name,
	    struct cat_user *);
int	catalog_user_get(struct catalog *, const char *uuid, struct cat_user *);

struct cat_token {
	id_buf	 uuid;
	id_buf	 user_uuid;
	char	*name;			/* "" for login sessions */
	char	 kind[16];		/* "session" or "api" */
	char	 hash[65];		/* hex SHA-256 of the secret */
	int64_t	 created_at;
	int64_t	 expires_at;		/* 0 = never */
	int64_t	 last_used;
};
void	cat_token_clear(struct cat_token *);
void	cat_tokens_free(struct cat_token *, size_t);
int	catalog_token_create(struct catalog *, const struct cat_token *,
	    id_buf out);
/* Finds an unexpired token by hash; CAT_NOTFOUND otherwise. */
int	catalog_token_find(struct catalog *, const char *hash, int64_t now,
	    struct cat_token *);
/* API tokens (kind "api") of a user, or of everyone if user_uuid is NULL. */
int	catalog_tokens(struct catalog *, const char *user_uuid,
	    struct cat_token **, size_t *);
int	catalog_token_delete(struct catalog *, const char *uuid);
int	catalog_token_delete_by_hash(struct catalog *, const char *hash);
/* Removes expired sessions. */
int	catalog_tokens_expire(struct catalog *, int64_t now);

/* ---- what the scheduler and monitoring need, row by row ---- */
/*
 * A number that changes whenever any row of the catalog changes (SQLite's
 * count of changed rows on this connection): equal values mean nothing was
 * written in between, so a reply built from the catalog can be reused.
 */
int64_t	catalog_generation(struct catalog *);
/*
 * Calls cb for every job (or only the one with uuid, when not NULL) with
 * just what scheduling needs; strings are valid during the call only.
 * Nothing is loaded as a whole, so 100,000 jobs cost no memory here.
 */
int	catalog_job_schedules(struct catalog *, const char *uuid,
	    void (*cb)(const char *uuid, int paused, const char *timespec,
	    int64_t last_scheduled, void *), void *arg);
/* Calls cb for every job whose newest task ended done. */
int	catalog_job_successes(struct catalog *,
	    void (*cb)(const char *uuid, const char *name, int64_t stopped,
	    void *), void *arg);

/* ---- monitoring aggregates ---- */
struct cat_store_usage {
	id_buf	 store_uuid;
	char	*store_name;
	int64_t	 archives;		/* valid archives */
	int64_t	 bytes;
};
void	cat_store_usage_free(struct cat_store_usage *, size_t);
int	catalog_store_usage(struct catalog *, struct cat_store_usage **,
	    size_t *);

#endif
