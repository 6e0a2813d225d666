/*
 * supervisor: the task engine.  Tasks are rows in the catalog; the
 * supervisor queues pending ones and runs at most `workers` at a time (and,
 * for kinds that ask for it, at most one per target), each as a pipeline of
 * plugin processes, and records the outcome through the task's kind
 * (task.h: backup, restore, purge).  It takes what it uses in a struct
 * supervisor_env, so it can be built without a daemon around it.
 */
#ifndef SHIELD_SUPERVISOR_H
#define SHIELD_SUPERVISOR_H

#include <stdint.h>

#include "catalog.h"
#include "id.h"

struct event_base;
struct child_set;
struct plugins;
struct shieldd_config;
struct supervisor;

/* What the engine uses; the pointers must outlive it. */
struct supervisor_env {
	struct event_base		*base;
	struct catalog			*cat;
	struct child_set		*children;
	struct plugins			*plugins;
	int				 workers;	/* tasks at once */
	int				 task_timeout;	/* seconds, 0 = none */
	int				 idle_timeout;	/* seconds, 0 = none */
	/* shieldd's endpoint limits (endpoint.h), read only */
	const struct shieldd_config	*cfg;
	int64_t				(*now)(void);
	/* Archives were recorded or purged, or a purge was rescheduled. */
	void				(*archives_changed)(void *arg);
	void				*arg;
};

/* What a caller asks for; which fields matter depends on the kind. */
struct task_request {
	const char	*owner;		/* NULL: "system" */
	const char	*job;		/* backup */
	const char	*archive;	/* restore, purge */
	const char	*target;	/* restore: another target, or NULL */
};

struct supervisor	*supervisor_new(const struct supervisor_env *);
void			 supervisor_free(struct supervisor *);

/*
 * Queue a task of a type.  Returns 0 and the new task's uuid, or -1 with
 * *errp (a message for the user, caller frees) and *status set to an enum
 * cat_status explaining why (CAT_NOTFOUND for an unknown job, archive or
 * target; CAT_INUSE for a purged archive or while shutting down).
 */
int	supervisor_queue(struct supervisor *, enum cat_task_type,
	    const struct task_request *, id_buf out, int *status,
	    char **errp);
/* Cancel a pending or running task: 0, or a cat_status (NOTFOUND, INUSE=already finished). */
int	supervisor_cancel(struct supervisor *, const char *task_uuid);
/* Bytes streamed so far by a running task, -1 if it is not running. */
int64_t	supervisor_task_bytes(struct supervisor *, const char *task_uuid);
/* 1 if a task of this type is running for this archive. */
int	supervisor_archive_busy(struct supervisor *, enum cat_task_type,
	    const char *archive_uuid);
/* How many tasks are running now. */
int	supervisor_running(struct supervisor *);
/*
 * Stop: cancel running tasks (they end failed/canceled with the reason) and
 * call done_cb once nothing runs any more.
 */
void	supervisor_shutdown(struct supervisor *, const char *reason,
	    void (*done_cb)(void *), void *arg);

/* Counters for /metrics, since start, by task type and outcome. */
struct supervisor_stats {
	int64_t	 finished[CAT_TASK_TYPES][3];	/* [type][done,failed,canceled] */
	double	 seconds[CAT_TASK_TYPES][3];	/* summed durations */
	int64_t	 bytes_done[CAT_TASK_TYPES];	/* streamed by done tasks */
};
const struct supervisor_stats	*supervisor_stats(struct supervisor *);

/*
 * The archive key in what a store's `store` action printed ({"key": ...}),
 * or NULL if there is none usable; the caller frees it.
 */
char	*supervisor_store_key(const char *output);

#endif
