/*
 * The task engine.  Tasks are catalog rows; this module starts pending ones
 * in the order they were requested when a worker slot is free (and, for the
 * kinds that ask for it, no other such task of the same target runs), runs
 * each as a pipeline of plugin processes, writes every stderr line to the
 * task log, cancels, times out and shuts down.  What a task does is its
 * kind's (task.h): how its request becomes a row, how the row becomes a
 * pipeline and what its end records.  To add a kind, add its file and its
 * entry in sup_kinds below.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <cJSON.h>
#include <event2/event.h>

#include "catalog.h"
#include "endpoint.h"
#include "log.h"
#include "pipeline.h"
#include "plugins.h"
#include "supervisor.h"
#include "task.h"
#include "tasklog.h"
#include "xmalloc.h"

#define SUP_FLUSH_MS		1000	/* task log flush interval */
#define SUP_NEST_MAX		4	/* remote_endpoints in remote_endpoints */
#define SUP_ARGV_MAX		8

/* Every kind, indexed by its enum cat_task_type. */
static const struct task_kind *const sup_kinds[CAT_TASK_TYPES] = {
	[CAT_TASK_BACKUP] = &task_kind_backup,
	[CAT_TASK_RESTORE] = &task_kind_restore,
	[CAT_TASK_PURGE] = &task_kind_purge,
};

/* One process of a task's pipeline. */
struct sup_stage {
	char			*name;
	char			*path;
	char			*argv_mem[SUP_ARGV_MAX];
	const char		*argv[SUP_ARGV_MAX];
};

/* A task being run. */
struct task_run {
	struct supervisor	*sup;
	struct cat_task		 task;
	const struct task_kind	*kind;
	struct pipeline		*pl;
	struct sup_stage	 stage[2];	/* enum task_stage */
	struct tasklog		*log;
	struct timespec		 t0;
	enum task_cancel	 cancel;
	char			*expect_sha256;
	int64_t			 expect_bytes;
	void			*data;		/* the kind's */
	void			(*data_free)(void *);
	int			 archives_changed;
	TAILQ_ENTRY(task_run)	 entry;
};
TAILQ_HEAD(task_runs, task_run);

/* A purge of a partial blob, not a task of its own. */
struct sup_cleanup {
	struct pipeline		*pl;
	struct sup_stage	 stage;
	LIST_ENTRY(sup_cleanup)	 entry;
};

struct supervisor {
	struct supervisor_env	 env;
	struct task_runs	 running;
	LIST_HEAD(, sup_cleanup) cleanups;
	int			 nrunning;
	struct event		*kick;
	struct event		*flush;
	struct supervisor_stats	 stats;
	int			 shutting_down;
	char			*shutdown_reason;
	void			(*shutdown_cb)(void *);
	void			*shutdown_arg;
};

static void	sup_kick(struct supervisor *);

/* Seconds since t0 on the monotonic clock. */
static double
sup_elapsed(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	    (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Format a daemon line into the debug log, and the task log when wanted. */
static void __attribute__((format(printf, 3, 0)))
sup_vsay(struct task_run *run, int to_log, const char *fmt, va_list ap)
{
	char *msg;

	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	tasklog_line(run->log, !to_log, "shieldd", msg);
	free(msg);
}

/* A line from the daemon itself, to the task log. */
void
task_run_say(struct task_run *run, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sup_vsay(run, 1, fmt, ap);
	va_end(ap);
}

/* A debug-only line. */
void
task_run_debug(struct task_run *run, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sup_vsay(run, 0, fmt, ap);
	va_end(ap);
}

/* Periodic flush of every running task's log. */
static void
sup_flush_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct supervisor *sup = arg;
	struct task_run *run;

	(void)fd;
	(void)ev;
	TAILQ_FOREACH(run, &sup->running, entry)
		tasklog_flush(run->log);
}

/*
 * Remember endpoint values that look secret, to mask them in logs, also
 * inside an agent target's remote_endpoint (an object or a string holding
 * one): its remote plugin's lines reach this log too.
 */
static void
sup_collect_json(struct task_run *run, const cJSON *ep, int depth)
{
	static const char *const marks[] = { "password", "secret", "token",
	    "passwd", "key_id", "auth" };
	const cJSON *it;
	cJSON *inner;
	size_t i;

	cJSON_ArrayForEach(it, ep) {
		if (it->string == NULL)
			continue;
		if (strcmp(it->string, "remote_endpoint") == 0 &&
		    depth < SUP_NEST_MAX) {
			if (cJSON_IsObject(it))
				sup_collect_json(run, it, depth + 1);
			else if (cJSON_IsString(it) &&
			    (inner = cJSON_Parse(it->valuestring)) != NULL) {
				sup_collect_json(run, inner, depth + 1);
				cJSON_Delete(inner);
			}
			continue;
		}
		if (!cJSON_IsString(it) || strlen(it->valuestring) < 4)
			continue;
		for (i = 0; i < sizeof marks / sizeof marks[0]; i++) {
			if (strstr(it->string, marks[i]) != NULL) {
				tasklog_secret(run->log, it->valuestring);
				break;
			}
		}
	}
}

/* The same, from an endpoint's text. */
static void
sup_collect_secrets(struct task_run *run, const char *endpoint)
{
	cJSON *ep = cJSON_Parse(endpoint);

	sup_collect_json(run, ep, 0);
	cJSON_Delete(ep);
}

/*
 * shieldd's own limits (endpoint.h), checked again as a task starts: the
 * configuration or the file system may have changed since the target or
 * store was saved, and a key in the catalog may predate the key check.
 */
static int
sup_limits(struct task_run *run, const char *plugin, const char *action,
    const char *endpoint, const char *key, char **errp)
{
	int is_target = strcmp(action, "backup") == 0 ||
	    strcmp(action, "restore") == 0;
	const char *bad;
	char *why = NULL, *line, *save, *all = NULL, *more;

	if (key != NULL && (bad = endpoint_key_check(key)) != NULL) {
		xasprintf(errp, "the archive's store key is not passed to a "
		    "plugin: %s", bad);
		return -1;
	}
	if (endpoint_check(run->sup->env.cfg, plugin, is_target, endpoint,
	    &why) == 0)
		return 0;
	for (line = strtok_r(why, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		xasprintf(&more, "%s%s%s", all != NULL ? all : "",
		    all != NULL ? "; " : "", line);
		free(all);
		all = more;
	}
	xasprintf(errp, "the %s's endpoint is not allowed: %s", is_target ?
	    "target" : "store", all != NULL ? all : "");
	free(all);
	free(why);
	return -1;
}

/* Fill a stage: its executable and `plugin ACTION --endpoint E [--key K]`. */
static int
sup_stage_fill(struct supervisor *sup, struct sup_stage *st,
    const char *plugin, const char *action, const char *endpoint,
    const char *key, char **errp)
{
	int n = 0;

	if ((st->path = plugins_path(sup->env.plugins, plugin, errp)) == NULL)
		return -1;
	st->name = xstrdup(plugin);
	st->argv_mem[n++] = xstrdup(plugin);
	st->argv_mem[n++] = xstrdup(action);
	st->argv_mem[n++] = xstrdup("--endpoint");
	st->argv_mem[n++] = xstrdup(endpoint != NULL ? endpoint : "{}");
	if (key != NULL) {
		st->argv_mem[n++] = xstrdup("--key");
		st->argv_mem[n++] = xstrdup(key);
	}
	for (n = 0; st->argv_mem[n] != NULL; n++)
		st->argv[n] = st->argv_mem[n];
	st->argv[n] = NULL;
	return 0;
}

/* Free a stage's strings. */
static void
sup_stage_clear(struct sup_stage *st)
{
	int k;

	for (k = 0; k < SUP_ARGV_MAX; k++)
		free(st->argv_mem[k]);
	free(st->name);
	free(st->path);
	memset(st, 0, sizeof *st);
}

/* Set up one of the run's stages, after shieldd's own checks. */
int
task_run_stage(struct task_run *run, enum task_stage which,
    const char *plugin, const char *action, const char *endpoint,
    const char *key, char **errp)
{
	struct sup_stage *st = &run->stage[which];

	if (sup_limits(run, plugin, action, endpoint, key, errp) != 0)
		return -1;
	sup_stage_clear(st);
	if (sup_stage_fill(run->sup, st, plugin, action, endpoint, key,
	    errp) != 0)
		return -1;
	sup_collect_secrets(run, endpoint != NULL ? endpoint : "{}");
	return 0;
}

/* The archive a request names. */
int
task_request_archive(struct catalog *cat, const char *uuid,
    struct cat_archive *a, int *status, char **errp)
{
	int rc;

	memset(a, 0, sizeof *a);
	if ((rc = catalog_archive_get(cat, uuid, a)) != CAT_OK) {
		*status = rc;
		*errp = xstrdup(rc == CAT_NOTFOUND ? "archive not found" :
		    "cannot read the archive");
		return -1;
	}
	return 0;
}

/* The run's archive and its store. */
int
task_run_archive(struct task_run *run, struct cat_archive *a, char **errp)
{
	memset(a, 0, sizeof *a);
	if (catalog_archive_get(run->sup->env.cat, run->task.archive_uuid,
	    a) != CAT_OK) {
		*errp = xstrdup("the archive no longer exists");
		return -1;
	}
	if (a->store_plugin == NULL) {
		cat_archive_clear(a);
		*errp = xstrdup("the archive's store no longer exists");
		return -1;
	}
	return 0;
}

/* The stream must match this size and SHA-256. */
void
task_run_expect(struct task_run *run, const char *sha256, int64_t bytes)
{
	free(run->expect_sha256);
	run->expect_sha256 = xstrdup(sha256);
	run->expect_bytes = bytes;
}

/* The run's row. */
const struct cat_task *
task_run_task(struct task_run *run)
{
	return &run->task;
}

/* The catalog. */
struct catalog *
task_run_catalog(struct task_run *run)
{
	return run->sup->env.cat;
}

/* The engine's clock. */
int64_t
task_run_now(struct task_run *run)
{
	return run->sup->env.now();
}

/* The status of a run that did not succeed. */
enum cat_task_status
task_run_failed_status(struct task_run *run)
{
	return run->cancel == TASK_CANCEL_USER ? CAT_TASK_CANCELED :
	    CAT_TASK_FAILED;
}

/* Hang the kind's state on the run. */
void
task_run_set_data(struct task_run *run, void *data, void (*free_fn)(void *))
{
	if (run->data_free != NULL)
		run->data_free(run->data);
	run->data = data;
	run->data_free = free_fn;
}

/* The kind's state. */
void *
task_run_data(struct task_run *run)
{
	return run->data;
}

/* Archives changed: said once the run has finished. */
void
task_run_archives_changed(struct task_run *run)
{
	run->archives_changed = 1;
}

/* Free a run. */
static void
sup_run_free(struct task_run *run)
{
	int i;

	if (run->pl != NULL)
		pipeline_free(run->pl);
	for (i = 0; i < 2; i++)
		sup_stage_clear(&run->stage[i]);
	if (run->data_free != NULL)
		run->data_free(run->data);
	tasklog_free(run->log);
	free(run->expect_sha256);
	cat_task_clear(&run->task);
	free(run);
}

/* A stderr line from a plugin. */
static void
sup_line_cb(const char *stage, const char *line, void *arg)
{
	struct task_run *run = arg;

	tasklog_line(run->log, 0, stage, line);
}

/* Free a cleanup. */
static void
sup_cleanup_free(struct sup_cleanup *c)
{
	pipeline_free(c->pl);
	sup_stage_clear(&c->stage);
	free(c);
}

/* A partial-blob purge finished. */
static void
sup_cleanup_done_cb(struct pipeline *pl, const struct pipeline_result *res,
    void *arg)
{
	struct sup_cleanup *c = arg;

	(void)pl;
	if (res->failure != NULL)
		log_warn("purging a partial archive failed: %s", res->failure);
	LIST_REMOVE(c, entry);
	sup_cleanup_free(c);
}

/* Remove a blob a failed backup's store reported, in the background. */
void
task_run_cleanup(struct task_run *run, const char *plugin,
    const char *endpoint, const char *key)
{
	struct supervisor *sup = run->sup;
	struct pipeline_stage st;
	struct pipeline_opts o;
	struct pipeline_cbs cbs;
	struct sup_cleanup *c;
	char *err = NULL;

	c = xcalloc(1, sizeof *c);
	if (sup_stage_fill(sup, &c->stage, plugin, "purge", endpoint, key,
	    &err) != 0) {
		task_run_say(run, "cannot purge the partial archive: %s", err);
		free(err);
		sup_cleanup_free(c);
		return;
	}
	memset(&st, 0, sizeof st);
	st.name = c->stage.name;
	st.path = c->stage.path;
	st.argv = c->stage.argv;
	memset(&o, 0, sizeof o);
	o.timeout_s = 600;
	memset(&cbs, 0, sizeof cbs);
	cbs.done = sup_cleanup_done_cb;
	LIST_INSERT_HEAD(&sup->cleanups, c, entry);
	c->pl = pipeline_start(sup->env.children, NULL, &st, &o, &cbs, c,
	    &err);
	if (c->pl == NULL) {
		task_run_say(run, "cannot purge the partial archive: %s", err);
		free(err);
		LIST_REMOVE(c, entry);
		sup_cleanup_free(c);
		return;
	}
	task_run_say(run, "purging the partial archive the store reported");
}

/* Index of an outcome in the stats. */
static int
sup_outcome_index(enum cat_task_status status)
{
	switch (status) {
	case CAT_TASK_DONE:
		return 0;
	case CAT_TASK_FAILED:
		return 1;
	default:
		return 2;
	}
}

/* Record the end of a task and let the next one start. */
void
task_run_finish(struct task_run *run, enum cat_task_status status,
    int64_t bytes, const char *error)
{
	struct supervisor *sup = run->sup;
	double secs = sup_elapsed(&run->t0);
	const char *type = cat_task_type_name(run->kind->type);
	const char *st = cat_task_status_name(status);
	int changed = run->archives_changed, oi = sup_outcome_index(status);

	if (error != NULL)
		task_run_say(run, "%s %s after %.1f s: %s", type, st, secs,
		    error);
	else
		task_run_say(run, "%s %s in %.1f s (%lld bytes)", type, st,
		    secs, (long long)bytes);
	tasklog_flush(run->log);
	catalog_task_finish(sup->env.cat, run->task.uuid, status,
	    sup->env.now(), bytes, error);
	sup->stats.finished[run->kind->type][oi]++;
	sup->stats.seconds[run->kind->type][oi] += secs;
	if (status == CAT_TASK_DONE)
		sup->stats.bytes_done[run->kind->type] += bytes;
	log_info("task %s (%s) %s%s%s", run->task.uuid, type, st,
	    error != NULL ? ": " : "", error != NULL ? error : "");
	TAILQ_REMOVE(&sup->running, run, entry);
	sup->nrunning--;
	sup_run_free(run);
	if (changed && sup->env.archives_changed != NULL)
		sup->env.archives_changed(sup->env.arg);
	if (sup->shutting_down && sup->nrunning == 0 &&
	    sup->shutdown_cb != NULL) {
		void (*cb)(void *) = sup->shutdown_cb;

		sup->shutdown_cb = NULL;
		cb(sup->shutdown_arg);
		return;
	}
	sup_kick(sup);
}

/* Every process of a task has ended. */
static void
sup_done_cb(struct pipeline *pl, const struct pipeline_result *res, void *arg)
{
	struct task_run *run = arg;

	(void)pl;
	task_run_debug(run, "exit statuses: producer %d, consumer %d; %lld "
	    "bytes, sha256 %s", res->producer_status, res->consumer_status,
	    (long long)res->bytes, res->sha256);
	if (run->cancel == TASK_CANCEL_SHUTDOWN && res->failure != NULL) {
		task_run_finish(run, CAT_TASK_FAILED, res->bytes,
		    run->sup->shutdown_reason);
		return;
	}
	run->kind->done(run, res);
}

/* A run of a task row, started: ownership of the row moves to the run. */
struct task_run *
task_run_new(struct supervisor *sup, struct cat_task *t)
{
	struct task_run *run;

	run = xcalloc(1, sizeof *run);
	run->sup = sup;
	run->task = *t;
	memset(t, 0, sizeof *t);
	run->kind = sup_kinds[run->task.type];
	run->log = tasklog_new(sup->env.cat, run->task.uuid, sup->env.now);
	clock_gettime(CLOCK_MONOTONIC, &run->t0);
	TAILQ_INSERT_TAIL(&sup->running, run, entry);
	sup->nrunning++;
	run->task.started_at = sup->env.now();
	catalog_task_start(sup->env.cat, run->task.uuid, run->task.started_at);
	return run;
}

/* Start a pending task. */
static void
sup_start(struct supervisor *sup, struct cat_task *t)
{
	struct task_run *run = task_run_new(sup, t);
	struct sup_stage *src = &run->stage[TASK_SOURCE];
	struct sup_stage *sink = &run->stage[TASK_SINK];
	struct pipeline_stage st[2];
	struct pipeline_opts o;
	struct pipeline_cbs cbs;
	char *err = NULL;
	int i;

	if (run->kind->prepare(run, &err) != 0) {
		task_run_finish(run, CAT_TASK_FAILED, 0, err);
		free(err);
		return;
	}
	memset(st, 0, sizeof st);
	for (i = 0; i < 2; i++) {
		st[i].name = run->stage[i].name;
		st[i].path = run->stage[i].path;
		st[i].argv = run->stage[i].argv;
	}
	if (src->path == NULL)
		task_run_say(run, "running %s %s", sink->name, sink->argv[1]);
	else
		task_run_say(run, "running %s %s | %s %s", src->name,
		    src->argv[1], sink->name, sink->argv[1]);
	task_run_debug(run, "plugins: %s and %s (endpoints not shown)",
	    src->path != NULL ? src->path : "-", sink->path);
	memset(&o, 0, sizeof o);
	o.timeout_s = sup->env.task_timeout;
	o.idle_s = sup->env.idle_timeout;
	o.expect_sha256 = run->expect_sha256;
	o.expect_bytes = run->expect_bytes;
	memset(&cbs, 0, sizeof cbs);
	cbs.line = sup_line_cb;
	cbs.done = sup_done_cb;
	run->pl = pipeline_start(sup->env.children, src->path == NULL ? NULL :
	    &st[TASK_SOURCE], &st[TASK_SINK], &o, &cbs, run, &err);
	if (run->pl == NULL) {
		task_run_finish(run, CAT_TASK_FAILED, 0, err);
		free(err);
	}
}

/* 1 if a task of a per-target kind runs for this target. */
static int
sup_target_busy(struct supervisor *sup, const char *target)
{
	struct task_run *run;

	TAILQ_FOREACH(run, &sup->running, entry) {
		if (run->kind->per_target &&
		    strcmp(run->task.target_uuid, target) == 0)
			return 1;
	}
	return 0;
}

/* Start what can start, oldest request first. */
static void
sup_kick_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct supervisor *sup = arg;
	int workers = sup->env.workers;
	struct cat_filter f;
	struct cat_task *t = NULL;
	size_t n = 0, i;

	(void)fd;
	(void)ev;
	if (sup->shutting_down || sup->nrunning >= workers)
		return;
	cat_filter_init(&f);
	f.status = CAT_TASK_PENDING;
	if (catalog_tasks(sup->env.cat, &f, 0, &t, &n) != CAT_OK)
		return;
	for (i = n; i-- > 0 && sup->nrunning < workers;) {
		if (sup_kinds[t[i].type]->per_target &&
		    sup_target_busy(sup, t[i].target_uuid))
			continue;
		sup_start(sup, &t[i]);
	}
	cat_tasks_free(t, n);
}

/* Look at the queue on the next loop turn. */
static void
sup_kick(struct supervisor *sup)
{
	struct timeval tv = { 0, 0 };

	if (!sup->shutting_down)
		evtimer_add(sup->kick, &tv);
}

/* Create the supervisor and look at the queue. */
struct supervisor *
supervisor_new(const struct supervisor_env *env)
{
	struct supervisor *sup = xcalloc(1, sizeof *sup);
	struct timeval tv = { SUP_FLUSH_MS / 1000, 0 };

	sup->env = *env;
	TAILQ_INIT(&sup->running);
	LIST_INIT(&sup->cleanups);
	sup->kick = evtimer_new(env->base, sup_kick_cb, sup);
	sup->flush = event_new(env->base, -1, EV_PERSIST, sup_flush_cb, sup);
	evtimer_add(sup->flush, &tv);
	sup_kick(sup);
	return sup;
}

/* Free; tasks still running are abandoned (their processes killed). */
void
supervisor_free(struct supervisor *sup)
{
	struct sup_cleanup *c;
	struct task_run *run;

	if (sup == NULL)
		return;
	while ((run = TAILQ_FIRST(&sup->running)) != NULL) {
		TAILQ_REMOVE(&sup->running, run, entry);
		tasklog_flush(run->log);
		catalog_task_finish(sup->env.cat, run->task.uuid,
		    CAT_TASK_FAILED, sup->env.now(), 0,
		    sup->shutdown_reason != NULL ? sup->shutdown_reason :
		    "interrupted");
		sup_run_free(run);
	}
	while ((c = LIST_FIRST(&sup->cleanups)) != NULL) {
		LIST_REMOVE(c, entry);
		sup_cleanup_free(c);
	}
	event_free(sup->kick);
	event_free(sup->flush);
	free(sup->shutdown_reason);
	free(sup);
}

/* Queue a task of a kind: check the request, insert the row, kick. */
int
supervisor_queue(struct supervisor *sup, enum cat_task_type type,
    const struct task_request *req, id_buf out, int *status, char **errp)
{
	const struct task_kind *kind = sup_kinds[type];
	struct cat_task t;

	memset(&t, 0, sizeof t);
	if (kind->request(sup->env.cat, req, &t, status, errp) != 0)
		return -1;
	if (sup->shutting_down) {
		*status = CAT_INUSE;
		*errp = xstrdup("shieldd is shutting down");
		return -1;
	}
	t.owner = (char *)(req->owner != NULL ? req->owner : "system");
	t.type = type;
	if (catalog_task_create(sup->env.cat, &t, sup->env.now(), out) !=
	    CAT_OK) {
		*status = CAT_ERR;
		*errp = xstrdup("cannot record the task");
		return -1;
	}
	sup_kick(sup);
	return 0;
}

/* Cancel a task. */
int
supervisor_cancel(struct supervisor *sup, const char *uuid)
{
	struct task_run *run;
	struct cat_task t;
	int rc;

	TAILQ_FOREACH(run, &sup->running, entry) {
		if (strcmp(run->task.uuid, uuid) == 0) {
			if (run->cancel == TASK_CANCEL_NONE) {
				run->cancel = TASK_CANCEL_USER;
				task_run_say(run, "canceled by request");
				pipeline_cancel(run->pl);
			}
			return CAT_OK;
		}
	}
	memset(&t, 0, sizeof t);
	if ((rc = catalog_task_get(sup->env.cat, uuid, &t)) != CAT_OK)
		return rc;
	rc = t.status == CAT_TASK_PENDING ? CAT_OK : CAT_INUSE;
	cat_task_clear(&t);
	if (rc == CAT_OK)
		catalog_task_finish(sup->env.cat, uuid, CAT_TASK_CANCELED,
		    sup->env.now(), 0, "canceled before it started");
	return rc;
}

/* Live byte count of a running task. */
int64_t
supervisor_task_bytes(struct supervisor *sup, const char *uuid)
{
	struct task_run *run;

	TAILQ_FOREACH(run, &sup->running, entry) {
		if (strcmp(run->task.uuid, uuid) == 0)
			return run->pl != NULL ? pipeline_bytes(run->pl) : 0;
	}
	return -1;
}

/* Tasks running now. */
int
supervisor_running(struct supervisor *sup)
{
	return sup->nrunning;
}

/* 1 if a task of this type runs for this archive. */
int
supervisor_archive_busy(struct supervisor *sup, enum cat_task_type type,
    const char *archive)
{
	struct task_run *run;

	TAILQ_FOREACH(run, &sup->running, entry) {
		if (run->kind->type == type &&
		    strcmp(run->task.archive_uuid, archive) == 0)
			return 1;
	}
	return 0;
}

/* End everything, then tell the caller. */
void
supervisor_shutdown(struct supervisor *sup, const char *reason,
    void (*done_cb)(void *), void *arg)
{
	struct task_run *run;

	sup->shutting_down = 1;
	free(sup->shutdown_reason);
	sup->shutdown_reason = xstrdup(reason);
	evtimer_del(sup->kick);
	if (sup->nrunning == 0) {
		done_cb(arg);
		return;
	}
	sup->shutdown_cb = done_cb;
	sup->shutdown_arg = arg;
	TAILQ_FOREACH(run, &sup->running, entry) {
		if (run->cancel == TASK_CANCEL_NONE && run->pl != NULL) {
			run->cancel = TASK_CANCEL_SHUTDOWN;
			task_run_say(run, "%s", reason);
			pipeline_cancel(run->pl);
		}
	}
}

/* Counters since start. */
const struct supervisor_stats *
supervisor_stats(struct supervisor *sup)
{
	return &sup->stats;
}
