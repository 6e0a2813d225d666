/*
 * task: what a task kind is, between the task engine (supervisor.c) and the
 * kinds (task_backup.c, task_restore.c, task_purge.c, ...).  The engine owns
 * the queue, worker slots, per-target exclusion, cancel, timeouts, shutdown
 * and the task log; a kind says how to turn a request into a task row, how
 * to build the task's pipeline from that row, and what to record when the
 * pipeline has ended.  Adding a kind is one file exporting a struct
 * task_kind, one entry in the engine's table and one enum cat_task_type.
 *
 * A struct task_run is one running task, owned by the engine; a kind reaches
 * it only through the functions below, and may hang its own state on it
 * with task_run_set_data() (freed with the run).
 */
#ifndef SHIELD_TASK_H
#define SHIELD_TASK_H

#include <stdint.h>

#include "catalog.h"
#include "id.h"
#include "supervisor.h"

struct pipeline_result;
struct task_run;

/* Why a running task is being stopped. */
enum task_cancel {
	TASK_CANCEL_NONE,
	TASK_CANCEL_USER,	/* DELETE /v1/task/:uuid */
	TASK_CANCEL_SHUTDOWN,	/* shieldd is stopping */
};

/* The two ends of a task's stream. */
enum task_stage {
	TASK_SOURCE,		/* writes the stream (backup, retrieve) */
	TASK_SINK,		/* reads it (store, restore), or runs alone */
};

struct task_kind {
	enum cat_task_type	 type;
	/* At most one task of a per_target kind runs per target. */
	int			 per_target;
	/*
	 * Check a request and fill the new row (op, uuids; the owner is
	 * set by the engine).  0, or -1 with *status (an enum cat_status)
	 * and *errp (for the user; caller frees).
	 */
	int	(*request)(struct catalog *, const struct task_request *,
		    struct cat_task *row, int *status, char **errp);
	/* Set up the stages from the run's row: 0, or -1 with *errp. */
	int	(*prepare)(struct task_run *, char **errp);
	/*
	 * The pipeline ended (not by shutdown): record the outcome.  Must
	 * end with task_run_finish(); the run is gone after it.
	 */
	void	(*done)(struct task_run *, const struct pipeline_result *);
};

extern const struct task_kind task_kind_backup;
extern const struct task_kind task_kind_restore;
extern const struct task_kind task_kind_purge;

/* The run's task row (uuid, op, uuids, started_at, ...). */
const struct cat_task	*task_run_task(struct task_run *);
struct catalog		*task_run_catalog(struct task_run *);
/* The engine's clock. */
int64_t			 task_run_now(struct task_run *);
/* Kind state, freed with free_fn (may be NULL) when the run ends. */
void			 task_run_set_data(struct task_run *, void *,
			    void (*free_fn)(void *));
void			*task_run_data(struct task_run *);
/*
 * Make the run's SOURCE or SINK stage `plugin ACTION --endpoint E [--key
 * K]`, after shieldd's own endpoint and key checks; endpoint secrets are
 * masked in the task log from now on.  0, or -1 with *errp.
 */
int	task_run_stage(struct task_run *, enum task_stage, const char *plugin,
	    const char *action, const char *endpoint, const char *key,
	    char **errp);
/*
 * The archive a request names, for kinds that work on one: 0, or -1 with
 * *status CAT_NOTFOUND (or the catalog's error) and *errp.
 */
int	task_request_archive(struct catalog *, const char *uuid,
	    struct cat_archive *, int *status, char **errp);
/* The run's archive, with its store still there: 0, or -1 with *errp. */
int	task_run_archive(struct task_run *, struct cat_archive *, char **errp);
/* The stream must have this size and SHA-256 (a restore's check). */
void	task_run_expect(struct task_run *, const char *sha256, int64_t bytes);
/* A line in the task log (and its debug log), or in the debug log only. */
void	task_run_say(struct task_run *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	task_run_debug(struct task_run *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/*
 * Remove a blob a failed backup left, in the background: `plugin purge
 * --endpoint E --key K`, owned by the engine, not a task of its own.
 */
void	task_run_cleanup(struct task_run *, const char *plugin,
	    const char *endpoint, const char *key);
/* Archives were added, purged or rescheduled: the engine says so. */
void	task_run_archives_changed(struct task_run *);
/*
 * Record the end: the task's status (done, failed or canceled), bytes and
 * error (NULL when done), counted in the stats; frees the run and lets the
 * next task start.
 */
void	task_run_finish(struct task_run *, enum cat_task_status,
	    int64_t bytes, const char *error);
/* failed, or canceled when a user canceled the run. */
enum cat_task_status	 task_run_failed_status(struct task_run *);

/*
 * For tests of a kind without a pipeline: a run of the task row (its
 * ownership moves to the run), as the engine makes it before prepare().
 */
struct task_run	*task_run_new(struct supervisor *, struct cat_task *);

#endif
