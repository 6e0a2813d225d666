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

struct shieldd;
struct scheduler;

struct scheduler	*scheduler_new(struct shieldd *);
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
