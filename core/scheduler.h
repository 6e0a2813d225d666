/*
 * scheduler: runs every unpaused job at the times of its schedule, and sweeps
 * expired archives, with one timer armed for the earliest thing due.  Jobs
 * are kept in a binary heap ordered by next run time; the daemon wakes only
 * when something is due.  Changes to jobs or schedules take effect at once
 * through scheduler_reload_job() / scheduler_reload().
 */
#ifndef SHIELD_SCHEDULER_H
#define SHIELD_SCHEDULER_H

#include <stdint.h>

#include "id.h"

struct event_base;
struct catalog;
struct scheduler;

/*
 * What the scheduler uses; it queues work through the callbacks, so it
 * needs no task engine (tests count the calls).
 */
struct scheduler_env {
	struct event_base	*base;
	struct catalog		*cat;
	int64_t			(*now)(void);
	int			 dev_mode;	/* every job every minute */
	/* Queue a backup of a job: 0 and its task uuid, or -1 and *errp. */
	int			(*backup)(void *arg, const char *job,
				    id_buf out, char **errp);
	/* Queue the purge of an archive: 0, or -1 and *errp. */
	int			(*purge)(void *arg, const char *archive,
				    char **errp);
	/* 1 if a purge of the archive is running already. */
	int			(*purging)(void *arg, const char *archive);
	void			*arg;
};

struct scheduler	*scheduler_new(const struct scheduler_env *);
void			 scheduler_free(struct scheduler *);
/* Load every job from the catalog, catch up missed runs once, arm. */
int			 scheduler_start(struct scheduler *, int64_t now);
/* Run what is due now (what the timer does; tests call it directly). */
void			 scheduler_tick(struct scheduler *);
/* Re-read one job (created, edited, paused, unpaused or deleted). */
void			 scheduler_reload_job(struct scheduler *, const char *uuid);
/* Re-read everything (a schedule changed). */
void			 scheduler_reload(struct scheduler *);
/* The next run of a job (0 if paused, unknown or never). */
int64_t			 scheduler_next_run(struct scheduler *, const char *uuid);
/* An archive's expiry may now be sooner: re-arm the sweep. */
void			 scheduler_expiry_changed(struct scheduler *);
/* Timer wakeups since start (for the benchmark and /metrics). */
int64_t			 scheduler_wakeups(struct scheduler *);
/* Seconds the last due job fired after its time (scheduler lag). */
double			 scheduler_lag(struct scheduler *);

#endif
