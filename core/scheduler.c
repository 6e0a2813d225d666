/*
 * The scheduler: one libevent timer armed for the earliest of (a) the next
 * run of any unpaused job and (b) the next archive expiry.  Jobs sit in a
 * binary min-heap by next run time, with an open-addressing index from uuid
 * to heap slot so a job can be found, moved or removed in O(log n) when the
 * API changes it.  An idle daemon wakes only when something is due.
 *
 * A due job gets a `backup` task owned by "system"; if its previous run is
 * still pending or running, the run is skipped and a canceled task saying so
 * is recorded, so the skip shows in the job's history.  Runs missed while the
 * daemon was down are caught up once at start.  With SHIELD_MODE=DEV every
 * job runs every minute.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "catalog.h"
#include "log.h"
#include "scheduler.h"
#include "timespec.h"
#include "xmalloc.h"

struct sched_job {
	id_buf		 uuid;
	int64_t		 next;		/* epoch seconds */
	struct tspec	 spec;
	size_t		 heap;		/* index in the heap */
};

struct scheduler {
	struct scheduler_env	  env;
	struct event		 *timer;
	struct sched_job	**heap;
	size_t			  n;
	size_t			  cap;
	struct sched_job	**index;	/* open addressing by uuid */
	size_t			  index_cap;
	int64_t			  wakeups;
	double			  lag;
	int64_t			  next_expiry;
	int			  started;
};

/* The current time, from the (injectable) clock. */
static int64_t
sched_now(struct scheduler *s)
{
	return s->env.now();
}

/* FNV-1a of a uuid string. */
static size_t
sched_hash(const char *s)
{
	size_t h = 1469598103934665603ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* The index slot of uuid, or of the empty slot where it would go. */
static size_t
sched_slot(struct scheduler *s, const char *uuid)
{
	size_t i = sched_hash(uuid) & (s->index_cap - 1);

	while (s->index[i] != NULL && strcmp(s->index[i]->uuid, uuid) != 0)
		i = (i + 1) & (s->index_cap - 1);
	return i;
}

/* Grow the index to keep it at most half full. */
static void
sched_index_grow(struct scheduler *s)
{
	struct sched_job **old = s->index;
	size_t oldcap = s->index_cap, i;

	s->index_cap = oldcap ? oldcap * 2 : 1024;
	s->index = xcalloc(s->index_cap, sizeof *s->index);
	for (i = 0; i < oldcap; i++) {
		if (old[i] != NULL)
			s->index[sched_slot(s, old[i]->uuid)] = old[i];
	}
	free(old);
}

/* Remove a uuid from the index (backward-shift deletion). */
static void
sched_index_del(struct scheduler *s, const char *uuid)
{
	size_t i = sched_slot(s, uuid), j, k;

	if (s->index[i] == NULL)
		return;
	s->index[i] = NULL;
	j = i;
	for (;;) {
		j = (j + 1) & (s->index_cap - 1);
		if (s->index[j] == NULL)
			return;
		k = sched_hash(s->index[j]->uuid) & (s->index_cap - 1);
		/* Move j back to i unless k lies cyclically in (i, j]. */
		if ((i <= j) ? (i < k && k <= j) : (i < k || k <= j))
			continue;
		s->index[i] = s->index[j];
		s->index[j] = NULL;
		i = j;
	}
}

/* Find a job by uuid. */
static struct sched_job *
sched_find(struct scheduler *s, const char *uuid)
{
	if (s->index_cap == 0)
		return NULL;
	return s->index[sched_slot(s, uuid)];
}

/* Swap two heap entries. */
static void
sched_swap(struct scheduler *s, size_t a, size_t b)
{
	struct sched_job *t = s->heap[a];

	s->heap[a] = s->heap[b];
	s->heap[b] = t;
	s->heap[a]->heap = a;
	s->heap[b]->heap = b;
}

/* Restore heap order around entry i. */
static void
sched_fix(struct scheduler *s, size_t i)
{
	size_t l, r, m;

	while (i > 0 && s->heap[(i - 1) / 2]->next > s->heap[i]->next) {
		sched_swap(s, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
	for (;;) {
		l = 2 * i + 1;
		r = l + 1;
		m = i;
		if (l < s->n && s->heap[l]->next < s->heap[m]->next)
			m = l;
		if (r < s->n && s->heap[r]->next < s->heap[m]->next)
			m = r;
		if (m == i)
			return;
		sched_swap(s, i, m);
		i = m;
	}
}

/* Add a job to the heap and index. */
static void
sched_insert(struct scheduler *s, struct sched_job *j)
{
	if (2 * (s->n + 1) > s->index_cap)
		sched_index_grow(s);
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->heap = xreallocarray(s->heap, s->cap, sizeof *s->heap);
	}
	j->heap = s->n;
	s->heap[s->n++] = j;
	s->index[sched_slot(s, j->uuid)] = j;
	sched_fix(s, j->heap);
}

/* Remove a job from the heap and index, and free it. */
static void
sched_remove(struct scheduler *s, struct sched_job *j)
{
	size_t i = j->heap;

	sched_index_del(s, j->uuid);
	s->n--;
	if (i != s->n) {
		s->heap[i] = s->heap[s->n];
		s->heap[i]->heap = i;
		sched_fix(s, i);
	}
	free(j);
}

/* The next run of a job strictly after t. */
static int64_t
sched_next(struct scheduler *s, const struct sched_job *j, int64_t t)
{
	if (s->env.dev_mode)
		return (t / 60 + 1) * 60;
	return timespec_next(&j->spec, t);
}

/* Arm the timer for the earliest due thing. */
static void
sched_arm(struct scheduler *s)
{
	int64_t now = sched_now(s), at = 0, delta;
	struct timeval tv;

	if (s->n > 0)
		at = s->heap[0]->next;
	if (s->next_expiry > 0 && (at == 0 || s->next_expiry < at))
		at = s->next_expiry;
	evtimer_del(s->timer);
	if (at == 0)
		return;
	delta = at - now;
	tv.tv_sec = delta > 0 ? delta : 0;
	tv.tv_usec = delta > 0 ? 0 : 1000;
	evtimer_add(s->timer, &tv);
}

/* Record a skipped run as a canceled task in the job's history. */
static void
sched_skip(struct scheduler *s, const char *job_uuid)
{
	struct cat_task t;
	struct cat_job j;
	id_buf id;
	int64_t now = sched_now(s);

	memset(&j, 0, sizeof j);
	if (catalog_job_get(s->env.cat, job_uuid, &j) != CAT_OK)
		return;
	memset(&t, 0, sizeof t);
	t.owner = "system";
	t.type = CAT_TASK_BACKUP;
	memcpy(t.job_uuid, j.uuid, sizeof t.job_uuid);
	memcpy(t.target_uuid, j.target_uuid, sizeof t.target_uuid);
	memcpy(t.store_uuid, j.store_uuid, sizeof t.store_uuid);
	cat_job_clear(&j);
	if (catalog_task_create(s->env.cat, &t, now, id) == CAT_OK)
		catalog_task_finish(s->env.cat, id, CAT_TASK_CANCELED, now, 0,
		    "skipped: the previous run of this job had not finished");
	log_info("job %s: skipped a run, the previous one is still going",
	    job_uuid);
}

/* Queue a scheduled backup of a job. */
static void
sched_fire(struct scheduler *s, struct sched_job *j, int64_t slot)
{
	char *err = NULL;
	id_buf id;

	catalog_job_set_last_scheduled(s->env.cat, j->uuid, slot);
	if (catalog_job_busy(s->env.cat, j->uuid) == 1) {
		sched_skip(s, j->uuid);
		return;
	}
	if (s->env.backup(s->env.arg, j->uuid, id, &err) != 0) {
		log_warn("job %s: cannot queue its backup: %s", j->uuid, err);
		free(err);
		return;
	}
	log_info("job %s: scheduled backup, task %s", j->uuid, id);
}

/* Queue purges for expired archives; remember the next expiry. */
static void
sched_sweep(struct scheduler *s, int64_t now)
{
	struct cat_archive *a = NULL;
	size_t n = 0, i;
	int64_t retry = 0, next;
	char *err = NULL;

	if (catalog_archives_expired(s->env.cat, now, &a, &n) == CAT_OK) {
		for (i = 0; i < n; i++) {
			if (s->env.purging(s->env.arg, a[i].uuid))
				continue;
			if (a[i].purge_after > now) {
				if (retry == 0 || a[i].purge_after < retry)
					retry = a[i].purge_after;
				continue;
			}
			if (a[i].status == CAT_ARCHIVE_VALID)
				catalog_archive_set_status(s->env.cat,
				    a[i].uuid, CAT_ARCHIVE_EXPIRED);
			if (s->env.purge(s->env.arg, a[i].uuid, &err) != 0) {
				log_warn("archive %s: cannot queue its purge: "
				    "%s", a[i].uuid, err);
				free(err);
				err = NULL;
			}
		}
		cat_archives_free(a, n);
	}
	next = catalog_archive_next_expiry(s->env.cat);
	/* Expired ones wait for their purge (which re-arms us) or retry. */
	if (next <= now)
		next = retry;
	else if (retry != 0 && retry < next)
		next = retry;
	s->next_expiry = next;
}

/* The timer: run what is due, then re-arm. */
static void
sched_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	scheduler_tick(arg);
}

/* Run everything due by the clock's now, then re-arm the timer. */
void
scheduler_tick(struct scheduler *s)
{
	struct sched_job *j;
	int64_t now = sched_now(s), slot;

	s->wakeups++;
	while (s->n > 0 && s->heap[0]->next <= now) {
		j = s->heap[0];
		slot = j->next;
		s->lag = (double)(now - slot);
		sched_fire(s, j, slot);
		j->next = sched_next(s, j, now > slot ? now : slot);
		if (j->next < 0)
			sched_remove(s, j);
		else
			sched_fix(s, 0);
	}
	if (s->next_expiry != 0 && s->next_expiry <= now)
		sched_sweep(s, now);
	sched_arm(s);
}

/* What sched_load_cb() needs besides the row. */
struct sched_load_ctx {
	struct scheduler	*s;
	int64_t			 now;
	int			 catch_up;
};

/* Load one job from its scheduling row; catch up a missed run once. */
static void
sched_load_cb(const char *uuid, int paused, const char *when,
    int64_t last_scheduled, void *arg)
{
	struct sched_load_ctx *ctx = arg;
	struct scheduler *s = ctx->s;
	char err[TIMESPEC_ERR_MAX];
	struct sched_job *j, *old;
	int64_t missed;

	if ((old = sched_find(s, uuid)) != NULL)
		sched_remove(s, old);
	if (paused)
		return;
	j = xcalloc(1, sizeof *j);
	snprintf(j->uuid, sizeof j->uuid, "%s", uuid);
	if (timespec_parse(when, &j->spec, err, sizeof err) != 0) {
		log_warn("job %s: schedule \"%s\" is invalid (%s); not "
		    "scheduled", uuid, when, err);
		free(j);
		return;
	}
	j->next = sched_next(s, j, ctx->now);
	if (ctx->catch_up && last_scheduled > 0) {
		missed = sched_next(s, j, last_scheduled);
		if (missed > 0 && missed <= ctx->now)
			j->next = ctx->now;	/* one catch-up, not one per slot */
	}
	if (j->next < 0) {
		free(j);
		return;
	}
	sched_insert(s, j);
}

/* Create an empty scheduler. */
struct scheduler *
scheduler_new(const struct scheduler_env *env)
{
	struct scheduler *s = xcalloc(1, sizeof *s);

	s->env = *env;
	s->timer = evtimer_new(env->base, sched_timer_cb, s);
	sched_index_grow(s);
	return s;
}

/* Free. */
void
scheduler_free(struct scheduler *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		free(s->heap[i]);
	free(s->heap);
	free(s->index);
	event_free(s->timer);
	free(s);
}

/* Load all jobs (with catch-up) and arm. */
int
scheduler_start(struct scheduler *s, int64_t now)
{
	struct sched_load_ctx ctx = { s, now, 1 };

	if (catalog_job_schedules(s->env.cat, NULL, sched_load_cb, &ctx) !=
	    CAT_OK)
		return -1;
	s->started = 1;
	log_info("scheduler: %zu job(s) armed", s->n);
	sched_sweep(s, now);
	sched_arm(s);
	return 0;
}

/* Re-read one job. */
void
scheduler_reload_job(struct scheduler *s, const char *uuid)
{
	struct sched_load_ctx ctx = { s, sched_now(s), 0 };
	struct sched_job *old;

	/* A deleted job has no row: remove it first, re-add if it is there. */
	if ((old = sched_find(s, uuid)) != NULL)
		sched_remove(s, old);
	catalog_job_schedules(s->env.cat, uuid, sched_load_cb, &ctx);
	sched_arm(s);
}

/* Re-read every job. */
void
scheduler_reload(struct scheduler *s)
{
	struct sched_load_ctx ctx = { s, sched_now(s), 0 };

	while (s->n > 0)
		sched_remove(s, s->heap[s->n - 1]);
	catalog_job_schedules(s->env.cat, NULL, sched_load_cb, &ctx);
	sched_arm(s);
}

/* A job's next run. */
int64_t
scheduler_next_run(struct scheduler *s, const char *uuid)
{
	struct sched_job *j = sched_find(s, uuid);

	return j != NULL ? j->next : 0;
}

/* Archives changed: sweep again on the next turn. */
void
scheduler_expiry_changed(struct scheduler *s)
{
	if (!s->started)
		return;
	sched_sweep(s, sched_now(s));
	sched_arm(s);
}

/* Wakeups since start. */
int64_t
scheduler_wakeups(struct scheduler *s)
{
	return s->wakeups;
}

/* Lag of the last run. */
double
scheduler_lag(struct scheduler *s)
{
	return s->lag;
}
