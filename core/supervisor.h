/*
 * supervisor: the task engine.  Tasks (backup, restore, purge) are rows in
 * the catalog; the supervisor queues pending ones and runs at most `workers`
 * at a time (and at most one backup or restore per target), each as a
 * pipeline of plugin processes, and records the outcome: the task's final
 * status, its log, and for a successful backup the archive.
 */
#ifndef SHIELD_SUPERVISOR_H
#define SHIELD_SUPERVISOR_H

#include <stdint.h>

#include "id.h"

struct shieldd;
struct supervisor;

struct supervisor	*supervisor_new(struct shieldd *);
void			 supervisor_free(struct supervisor *);

/*
 * Queue work.  Each returns 0 and the new task's uuid, or -1 with *errp (a
 * message for the user, caller frees) and *status set to an enum cat_status
 * explaining why (CAT_NOTFOUND for an unknown job/archive/target).
 */
int	supervisor_backup(struct supervisor *, const char *job_uuid,
	    const char *owner, id_buf out, int *status, char **errp);
int	supervisor_restore(struct supervisor *, const char *archive_uuid,
	    const char *target_uuid, const char *owner, id_buf out, int *status,
	    char **errp);
int	supervisor_purge(struct supervisor *, const char *archive_uuid,
	    const char *owner, id_buf out, int *status, char **errp);
/* Cancel a pending or running task: 0, or a cat_status (NOTFOUND, INUSE=already finished). */
int	supervisor_cancel(struct supervisor *, const char *task_uuid);
/* Bytes streamed so far by a running task, -1 if it is not running. */
int64_t	supervisor_task_bytes(struct supervisor *, const char *task_uuid);
/* 1 if a purge of this archive is running. */
int	supervisor_purging(struct supervisor *, const char *archive_uuid);
/* How many tasks are running now. */
int	supervisor_running(struct supervisor *);
/*
 * Stop: cancel running tasks (they end failed/canceled with the reason) and
 * call done_cb once nothing runs any more.
 */
void	supervisor_shutdown(struct supervisor *, const char *reason,
	    void (*done_cb)(void *), void *arg);

/* Counters for /metrics, since start. */
struct supervisor_stats {
	int64_t	 finished[3][3];	/* [backup,restore,purge][done,failed,canceled] */
	double	 seconds[3][3];		/* summed durations */
	int64_t	 bytes_backed_up;
	int64_t	 bytes_restored;
};
const struct supervisor_stats	*supervisor_stats(struct supervisor *);

/*
 * The archive key in what a store's `store` action printed ({"key": ...}),
 * or NULL if there is none usable; the caller frees it.
 */
char	*supervisor_store_key(const char *output);

#endif
