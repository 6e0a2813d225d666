/*
 * The task engine.  Tasks are catalog rows; this module starts pending ones
 * in the order they were requested when a worker slot is free (and no other
 * backup or restore of the same target runs), runs each as a pipeline of
 * plugin processes, writes every stderr line to the task log with a
 * timestamp and the plugin's name, and records the outcome.  A backup's
 * archive is recorded only after every process exited 0 and the store
 * printed a valid {"key": ...}; a failed backup whose store returned a key
 * has that partial blob purged.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/wait.h>
#include <time.h>

#include <cJSON.h>
#include <event2/event.h>

#include "catalog.h"
#include "daemon.h"
#include "endpoint.h"
#include "log.h"
#include "pipeline.h"
#include "plugins.h"
#include "scheduler.h"
#include "supervisor.h"
#include "tasklog.h"
#include "timefmt.h"
#include "xmalloc.h"

#define SUP_FLUSH_MS		1000	/* task log flush interval */
#define SUP_PURGE_BACKOFF_MAX	(6 * 3600)
#define SUP_NEST_MAX		4	/* remote_endpoints in remote_endpoints */

enum sup_op { SUP_BACKUP, SUP_RESTORE, SUP_PURGE };

struct supervisor;

/* A task being run. */
struct sup_run {
	struct supervisor	*sup;
	struct cat_task		 task;
	enum sup_op		 op;
	struct pipeline		*pl;
	char			*argv_mem[2][8];
	const char		*argv[2][8];
	char			*stage_name[2];
	char			*stage_path[2];
	struct tasklog		*log;
	struct timespec		 t0;
	int64_t			 expiry;	/* backup: retention */
	char			*store_plugin;	/* for purging a partial blob */
	char			*store_endpoint;
	id_buf			 archive;	/* restore, purge */
	int			 cancel_reason;	/* 1: user cancel, 2: shutdown */
	TAILQ_ENTRY(sup_run)	 entry;
};
TAILQ_HEAD(sup_runs, sup_run);

/* A purge of a partial blob, not a task of its own. */
struct sup_cleanup {
	struct supervisor	*sup;
	struct pipeline		*pl;
	char			*argv_mem[6];
	const char		*argv[6];
	char			*path;
	LIST_ENTRY(sup_cleanup)	 entry;
};

struct supervisor {
	struct shieldd		*d;
	struct sup_runs		 running;
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

static const char *const sup_op_names[] = { "backup", "restore", "purge" };

static void	sup_kick(struct supervisor *);
static void	sup_vsay(struct sup_run *, int, const char *, va_list)
		    __attribute__((format(printf, 3, 0)));

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
static void
sup_vsay(struct sup_run *run, int to_log, const char *fmt, va_list ap)
{
	char *msg;

	if (vasprintf(&msg, fmt, ap) < 0)
		return;
	tasklog_line(run->log, !to_log, "shieldd", msg);
	free(msg);
}

/* A line from the daemon itself, to the task log. */
static void
sup_say(struct sup_run *run, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
sup_say(struct sup_run *run, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sup_vsay(run, 1, fmt, ap);
	va_end(ap);
}

/* A debug-only line. */
static void
sup_debug(struct sup_run *run, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
sup_debug(struct sup_run *run, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sup_vsay(run, 0, fmt, ap);
	va_end(ap);
}

/* Move buffered log lines into the catalog. */
static void
sup_flush_run(struct sup_run *run)
{
	tasklog_flush(run->log);
}

/* Periodic flush of every running task's log. */
static void
sup_flush_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct supervisor *sup = arg;
	struct sup_run *run;

	(void)fd;
	(void)ev;
	TAILQ_FOREACH(run, &sup->running, entry)
		sup_flush_run(run);
}

/*
 * Remember endpoint values that look secret, to mask them in logs, also
 * inside an agent target's remote_endpoint (an object or a string holding
 * one): its remote plugin's lines reach this log too.
 */
static void
sup_collect_json(struct sup_run *run, const cJSON *ep, int depth)
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
sup_collect_secrets(struct sup_run *run, const char *endpoint)
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
sup_limits(struct sup_run *run, const char *plugin, const char *action,
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
	if (endpoint_check(&run->sup->d->cfg, plugin, is_target, endpoint,
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

/* Set up one stage's argv: plugin ACTION --endpoint E [--key K]. */
static int
sup_stage(struct sup_run *run, int i, const char *plugin, const char *action,
    const char *endpoint, const char *key, char **errp)
{
	char *path;
	int n = 0;

	if (sup_limits(run, plugin, action, endpoint, key, errp) != 0)
		return -1;
	if ((path = plugins_path(run->sup->d->plugins, plugin, errp)) == NULL)
		return -1;
	run->stage_name[i] = xstrdup(plugin);
	run->stage_path[i] = path;
	run->argv_mem[i][n++] = xstrdup(plugin);
	run->argv_mem[i][n++] = xstrdup(action);
	run->argv_mem[i][n++] = xstrdup("--endpoint");
	run->argv_mem[i][n++] = xstrdup(endpoint != NULL ? endpoint : "{}");
	if (key != NULL) {
		run->argv_mem[i][n++] = xstrdup("--key");
		run->argv_mem[i][n++] = xstrdup(key);
	}
	for (n = 0; run->argv_mem[i][n] != NULL; n++)
		run->argv[i][n] = run->argv_mem[i][n];
	run->argv[i][n] = NULL;
	sup_collect_secrets(run, endpoint != NULL ? endpoint : "{}");
	return 0;
}

/* Free a run. */
static void
sup_run_free(struct sup_run *run)
{
	int i, k;

	if (run->pl != NULL)
		pipeline_free(run->pl);
	for (i = 0; i < 2; i++) {
		for (k = 0; k < 8; k++)
			free(run->argv_mem[i][k]);
		free(run->stage_name[i]);
		free(run->stage_path[i]);
	}
	tasklog_free(run->log);
	free(run->store_plugin);
	free(run->store_endpoint);
	cat_task_clear(&run->task);
	free(run);
}

/* A stderr line from a plugin. */
static void
sup_line_cb(const char *stage, const char *line, void *arg)
{
	struct sup_run *run = arg;

	tasklog_line(run->log, 0, stage, line);
}

/* A partial-blob purge finished. */
static void
sup_cleanup_done_cb(struct pipeline *pl, const struct pipeline_result *res,
    void *arg)
{
	struct sup_cleanup *c = arg;
	size_t i;

	(void)pl;
	if (res->failure != NULL)
		log_warn("purging a partial archive failed: %s", res->failure);
	LIST_REMOVE(c, entry);
	pipeline_free(c->pl);
	for (i = 0; i < 6; i++)
		free(c->argv_mem[i]);
	free(c->path);
	free(c);
}

/* Remove the blob a failed backup's store reported. */
static void
sup_purge_partial(struct sup_run *run, const char *key)
{
	struct pipeline_stage st;
	struct pipeline_opts o;
	struct pipeline_cbs cbs;
	struct sup_cleanup *c;
	char *err = NULL;
	int i;

	c = xcalloc(1, sizeof *c);
	c->sup = run->sup;
	if ((c->path = plugins_path(run->sup->d->plugins, run->store_plugin,
	    &err)) == NULL) {
		sup_say(run, "cannot purge the partial archive: %s", err);
		free(err);
		free(c);
		return;
	}
	c->argv_mem[0] = xstrdup(run->store_plugin);
	c->argv_mem[1] = xstrdup("purge");
	c->argv_mem[2] = xstrdup("--endpoint");
	c->argv_mem[3] = xstrdup(run->store_endpoint);
	c->argv_mem[4] = xstrdup("--key");
	c->argv_mem[5] = xstrdup(key);
	for (i = 0; i < 6; i++)
		c->argv[i] = c->argv_mem[i];
	memset(&st, 0, sizeof st);
	st.name = c->argv_mem[0];
	st.path = c->path;
	st.argv = c->argv;
	memset(&o, 0, sizeof o);
	o.timeout_s = 600;
	memset(&cbs, 0, sizeof cbs);
	cbs.done = sup_cleanup_done_cb;
	LIST_INSERT_HEAD(&run->sup->cleanups, c, entry);
	c->pl = pipeline_start(run->sup->d->children, NULL, &st, &o, &cbs, c,
	    &err);
	if (c->pl == NULL) {
		sup_say(run, "cannot purge the partial archive: %s", err);
		free(err);
		LIST_REMOVE(c, entry);
		for (i = 0; i < 6; i++)
			free(c->argv_mem[i]);
		free(c->path);
		free(c);
		return;
	}
	sup_say(run, "purging the partial archive the store reported");
}

/* The store's key from its output, or NULL (caller frees). */
char *
supervisor_store_key(const char *output)
{
	cJSON *o = cJSON_Parse(output != NULL ? output : ""), *k;
	char *key = NULL;

	k = cJSON_GetObjectItemCaseSensitive(o, "key");
	if (cJSON_IsString(k) && k->valuestring[0] != '\0' &&
	    strlen(k->valuestring) < 4096)
		key = xstrdup(k->valuestring);
	cJSON_Delete(o);
	return key;
}

/* Index of an outcome in the stats. */
static int
sup_outcome_index(const char *status)
{
	if (strcmp(status, "done") == 0)
		return 0;
	if (strcmp(status, "failed") == 0)
		return 1;
	return 2;
}

/* Record the end of a task and let the next one start. */
static void
sup_finish(struct sup_run *run, const char *status, int64_t bytes,
    const char *error)
{
	struct supervisor *sup = run->sup;
	double secs = sup_elapsed(&run->t0);

	if (error != NULL)
		sup_say(run, "%s %s after %.1f s: %s", sup_op_names[run->op],
		    status, secs, error);
	else
		sup_say(run, "%s %s in %.1f s (%lld bytes)",
		    sup_op_names[run->op], status, secs, (long long)bytes);
	sup_flush_run(run);
	catalog_task_finish(sup->d->cat, run->task.uuid, status, shieldd_now(),
	    bytes, error);
	sup->stats.finished[run->op][sup_outcome_index(status)]++;
	sup->stats.seconds[run->op][sup_outcome_index(status)] += secs;
	log_info("task %s (%s) %s%s%s", run->task.uuid, sup_op_names[run->op],
	    status, error != NULL ? ": " : "", error != NULL ? error : "");
	TAILQ_REMOVE(&sup->running, run, entry);
	sup->nrunning--;
	sup_run_free(run);
	if (sup->shutting_down && sup->nrunning == 0 &&
	    sup->shutdown_cb != NULL) {
		void (*cb)(void *) = sup->shutdown_cb;

		sup->shutdown_cb = NULL;
		cb(sup->shutdown_arg);
		return;
	}
	sup_kick(sup);
}

/* A backup's pipeline ended: record the archive or clean up. */
static void
sup_backup_done(struct sup_run *run, const struct pipeline_result *res)
{
	struct supervisor *sup;
	struct cat_archive a;
	char *key = supervisor_store_key(res->output);
	const char *why = res->failure, *bad;
	char shown[256], whybuf[128];
	id_buf aid;
	int64_t now = shieldd_now();

	/*
	 * A key that could pass for an option goes to no plugin, not even
	 * purge: the blob it names, if any, is left for a person to remove.
	 */
	if (key != NULL && (bad = endpoint_key_check(key)) != NULL) {
		endpoint_key_quote(key, shown, sizeof shown);
		sup_say(run, "the store returned the key \"%s\", which "
		    "shieldd refuses (%s): no archive is recorded and the key "
		    "is passed to no plugin, not even to purge; remove that "
		    "blob from the store by hand", shown, bad);
		snprintf(whybuf, sizeof whybuf, "the store returned a key "
		    "shieldd refuses (%s)", bad);
		if (why == NULL)
			why = whybuf;
		free(key);
		key = NULL;
	}
	if (why == NULL && key == NULL)
		why = "the store did not print a valid {\"key\": ...}";
	if (why != NULL) {
		if (key != NULL)
			sup_purge_partial(run, key);
		free(key);
		sup_finish(run, run->cancel_reason == 1 ? "canceled" :
		    "failed", res->bytes, why);
		return;
	}
	memset(&a, 0, sizeof a);
	memcpy(a.target_uuid, run->task.target_uuid, sizeof a.target_uuid);
	memcpy(a.store_uuid, run->task.store_uuid, sizeof a.store_uuid);
	memcpy(a.job_uuid, run->task.job_uuid, sizeof a.job_uuid);
	a.store_key = key;
	a.taken_at = run->task.started_at != 0 ? run->task.started_at : now;
	a.expires_at = a.taken_at + run->expiry;
	a.notes = "";
	snprintf(a.status, sizeof a.status, "valid");
	a.size = res->bytes;
	memcpy(a.sha256, res->sha256, sizeof a.sha256);
	if (catalog_archive_create(run->sup->d->cat, &a, aid) != CAT_OK) {
		sup_purge_partial(run, key);
		free(key);
		sup_finish(run, "failed", res->bytes,
		    "cannot record the archive in the catalog");
		return;
	}
	catalog_task_set_archive(run->sup->d->cat, run->task.uuid, aid);
	free(key);
	sup_say(run, "archive %s stored: %lld bytes, sha256 %s", aid,
	    (long long)res->bytes, res->sha256);
	sup = run->sup;
	sup->stats.bytes_backed_up += res->bytes;
	sup_finish(run, "done", res->bytes, NULL);
	/* The new archive may expire before anything else due. */
	scheduler_expiry_changed(sup->d->sched);
}

/* A purge ended: mark the archive, or schedule a retry. */
static void
sup_purge_done(struct sup_run *run, const struct pipeline_result *res)
{
	struct supervisor *sup = run->sup;
	struct catalog *cat = sup->d->cat;
	struct cat_archive a;
	int64_t wait;

	if (res->failure == NULL) {
		catalog_archive_set_status(cat, run->archive, "purged");
		sup_finish(run, "done", 0, NULL);
	} else {
		memset(&a, 0, sizeof a);
		if (catalog_archive_get(cat, run->archive, &a) == CAT_OK) {
			wait = 60LL << (a.purge_attempts < 8 ?
			    a.purge_attempts : 8);
			if (wait > SUP_PURGE_BACKOFF_MAX)
				wait = SUP_PURGE_BACKOFF_MAX;
			catalog_archive_purge_failed(cat, run->archive,
			    shieldd_now() + wait);
			sup_say(run, "will retry the purge in %lld s",
			    (long long)wait);
			cat_archive_clear(&a);
		}
		sup_finish(run, run->cancel_reason == 1 ? "canceled" :
		    "failed", 0, res->failure);
	}
	/* run is gone now. */
	scheduler_expiry_changed(sup->d->sched);
}

/* Every process of a task has ended. */
static void
sup_done_cb(struct pipeline *pl, const struct pipeline_result *res, void *arg)
{
	struct sup_run *run = arg;

	(void)pl;
	sup_debug(run, "exit statuses: producer %d, consumer %d; %lld bytes, "
	    "sha256 %s", res->producer_status, res->consumer_status,
	    (long long)res->bytes, res->sha256);
	if (run->cancel_reason == 2 && res->failure != NULL) {
		sup_finish(run, "failed", res->bytes,
		    run->sup->shutdown_reason);
		return;
	}
	switch (run->op) {
	case SUP_BACKUP:
		sup_backup_done(run, res);
		break;
	case SUP_RESTORE:
		if (res->failure == NULL)
			run->sup->stats.bytes_restored += res->bytes;
		sup_finish(run, res->failure == NULL ? "done" :
		    run->cancel_reason == 1 ? "canceled" : "failed",
		    res->bytes, res->failure);
		break;
	case SUP_PURGE:
		sup_purge_done(run, res);
		break;
	}
}

/* Prepare a backup: the job's target and store. */
static int
sup_prepare_backup(struct sup_run *run, char **errp)
{
	struct cat_job j;
	int rc;

	memset(&j, 0, sizeof j);
	if (catalog_job_get(run->sup->d->cat, run->task.job_uuid, &j) !=
	    CAT_OK) {
		*errp = xstrdup("the job no longer exists");
		return -1;
	}
	run->expiry = j.expiry;
	run->store_plugin = xstrdup(j.store_plugin);
	run->store_endpoint = xstrdup(j.store_endpoint);
	rc = sup_stage(run, 0, j.target_plugin, "backup", j.target_endpoint,
	    NULL, errp);
	if (rc == 0)
		rc = sup_stage(run, 1, j.store_plugin, "store",
		    j.store_endpoint, NULL, errp);
	cat_job_clear(&j);
	return rc;
}

/* Prepare a restore: the archive's store, the task's target. */
static int
sup_prepare_restore(struct sup_run *run, struct pipeline_opts *o,
    char **errp)
{
	struct cat_archive a;
	struct cat_system t;
	int rc;

	memset(&a, 0, sizeof a);
	memset(&t, 0, sizeof t);
	if (catalog_archive_get(run->sup->d->cat, run->task.archive_uuid,
	    &a) != CAT_OK) {
		*errp = xstrdup("the archive no longer exists");
		return -1;
	}
	if (a.store_plugin == NULL) {
		cat_archive_clear(&a);
		*errp = xstrdup("the archive's store no longer exists");
		return -1;
	}
	if (catalog_system_get(run->sup->d->cat, CAT_TARGET,
	    run->task.target_uuid, &t) != CAT_OK) {
		cat_archive_clear(&a);
		*errp = xstrdup("the target no longer exists");
		return -1;
	}
	rc = sup_stage(run, 0, a.store_plugin, "retrieve", a.store_endpoint,
	    a.store_key, errp);
	if (rc == 0)
		rc = sup_stage(run, 1, t.plugin, "restore", t.endpoint, NULL,
		    errp);
	if (rc == 0 && a.sha256[0] != '\0') {
		o->expect_sha256 = xstrdup(a.sha256);
		o->expect_bytes = a.size;
	}
	if (rc == 0) {
		timefmt_buf when;

		timefmt_utc(a.taken_at, when);
		sup_say(run, "restoring archive %s (taken %s UTC) to target "
		    "%s", a.uuid, when, t.name);
	}
	cat_system_clear(&t);
	cat_archive_clear(&a);
	return rc;
}

/* Prepare a purge: the archive's store and key. */
static int
sup_prepare_purge(struct sup_run *run, char **errp)
{
	struct cat_archive a;
	int rc;

	memset(&a, 0, sizeof a);
	if (catalog_archive_get(run->sup->d->cat, run->task.archive_uuid,
	    &a) != CAT_OK) {
		*errp = xstrdup("the archive no longer exists");
		return -1;
	}
	if (a.store_plugin == NULL) {
		cat_archive_clear(&a);
		*errp = xstrdup("the archive's store no longer exists");
		return -1;
	}
	rc = sup_stage(run, 1, a.store_plugin, "purge", a.store_endpoint,
	    a.store_key, errp);
	cat_archive_clear(&a);
	return rc;
}

/* Start a pending task. */
static void
sup_start(struct supervisor *sup, struct cat_task *t)
{
	struct pipeline_stage st[2];
	struct pipeline_opts o;
	struct pipeline_cbs cbs;
	struct sup_run *run;
	char *err = NULL;
	int rc, i;

	run = xcalloc(1, sizeof *run);
	run->sup = sup;
	run->task = *t;
	memset(t, 0, sizeof *t);	/* ownership moved */
	run->log = tasklog_new(sup->d->cat, run->task.uuid, shieldd_now);
	clock_gettime(CLOCK_MONOTONIC, &run->t0);
	run->op = strcmp(run->task.op, "backup") == 0 ? SUP_BACKUP :
	    strcmp(run->task.op, "restore") == 0 ? SUP_RESTORE : SUP_PURGE;
	memcpy(run->archive, run->task.archive_uuid, sizeof run->archive);
	TAILQ_INSERT_TAIL(&sup->running, run, entry);
	sup->nrunning++;
	run->task.started_at = shieldd_now();
	catalog_task_start(sup->d->cat, run->task.uuid, run->task.started_at);
	memset(&o, 0, sizeof o);
	o.timeout_s = sup->d->cfg.task_timeout;
	o.idle_s = sup->d->cfg.idle_timeout;
	switch (run->op) {
	case SUP_BACKUP:
		rc = sup_prepare_backup(run, &err);
		break;
	case SUP_RESTORE:
		rc = sup_prepare_restore(run, &o, &err);
		break;
	default:
		rc = sup_prepare_purge(run, &err);
		break;
	}
	if (rc != 0) {
		sup_finish(run, "failed", 0, err);
		free(err);
		return;
	}
	memset(st, 0, sizeof st);
	for (i = 0; i < 2; i++) {
		st[i].name = run->stage_name[i];
		st[i].path = run->stage_path[i];
		st[i].argv = run->argv[i];
	}
	if (run->op == SUP_PURGE)
		sup_say(run, "running %s purge", run->stage_name[1]);
	else
		sup_say(run, "running %s %s | %s %s", run->stage_name[0],
		    run->argv[0][1], run->stage_name[1], run->argv[1][1]);
	sup_debug(run, "plugins: %s and %s (endpoints not shown)",
	    run->stage_path[0] ? run->stage_path[0] : "-",
	    run->stage_path[1]);
	memset(&cbs, 0, sizeof cbs);
	cbs.line = sup_line_cb;
	cbs.done = sup_done_cb;
	run->pl = pipeline_start(sup->d->children, run->op == SUP_PURGE ?
	    NULL : &st[0], &st[1], &o, &cbs, run, &err);
	free((char *)o.expect_sha256);
	if (run->pl == NULL) {
		sup_finish(run, "failed", 0, err);
		free(err);
	}
}

/* 1 if a backup or restore of this target is running. */
static int
sup_target_busy(struct supervisor *sup, const char *target)
{
	struct sup_run *run;

	TAILQ_FOREACH(run, &sup->running, entry) {
		if (run->op != SUP_PURGE &&
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
	struct cat_filter f;
	struct cat_task *t = NULL;
	size_t n = 0, i;

	(void)fd;
	(void)ev;
	if (sup->shutting_down || sup->nrunning >= sup->d->cfg.workers)
		return;
	cat_filter_init(&f);
	f.status = "pending";
	if (catalog_tasks(sup->d->cat, &f, 0, &t, &n) != CAT_OK)
		return;
	for (i = n; i-- > 0 && sup->nrunning < sup->d->cfg.workers;) {
		if (strcmp(t[i].op, "purge") != 0 &&
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
supervisor_new(struct shieldd *d)
{
	struct supervisor *sup = xcalloc(1, sizeof *sup);
	struct timeval tv = { SUP_FLUSH_MS / 1000, 0 };

	sup->d = d;
	TAILQ_INIT(&sup->running);
	LIST_INIT(&sup->cleanups);
	sup->kick = evtimer_new(d->base, sup_kick_cb, sup);
	sup->flush = event_new(d->base, -1, EV_PERSIST, sup_flush_cb, sup);
	evtimer_add(sup->flush, &tv);
	sup_kick(sup);
	return sup;
}

/* Free; tasks still running are abandoned (their processes killed). */
void
supervisor_free(struct supervisor *sup)
{
	struct sup_cleanup *c;
	struct sup_run *run;
	size_t i;

	if (sup == NULL)
		return;
	while ((run = TAILQ_FIRST(&sup->running)) != NULL) {
		TAILQ_REMOVE(&sup->running, run, entry);
		sup_flush_run(run);
		catalog_task_finish(sup->d->cat, run->task.uuid, "failed",
		    shieldd_now(), 0, sup->shutdown_reason != NULL ?
		    sup->shutdown_reason : "interrupted");
		sup_run_free(run);
	}
	while ((c = LIST_FIRST(&sup->cleanups)) != NULL) {
		LIST_REMOVE(c, entry);
		pipeline_free(c->pl);
		for (i = 0; i < 6; i++)
			free(c->argv_mem[i]);
		free(c->path);
		free(c);
	}
	event_free(sup->kick);
	event_free(sup->flush);
	free(sup->shutdown_reason);
	free(sup);
}

/* Insert a pending task and kick the queue. */
static int
sup_queue(struct supervisor *sup, struct cat_task *t, id_buf out,
    int *status, char **errp)
{
	if (sup->shutting_down) {
		*status = CAT_INUSE;
		*errp = xstrdup("shieldd is shutting down");
		return -1;
	}
	if (catalog_task_create(sup->d->cat, t, shieldd_now(), out) !=
	    CAT_OK) {
		*status = CAT_ERR;
		*errp = xstrdup("cannot record the task");
		return -1;
	}
	sup_kick(sup);
	return 0;
}

/* Queue a backup of a job. */
int
supervisor_backup(struct supervisor *sup, const char *job_uuid,
    const char *owner, id_buf out, int *status, char **errp)
{
	struct cat_task t;
	struct cat_job j;
	int rc;

	memset(&j, 0, sizeof j);
	if ((rc = catalog_job_get(sup->d->cat, job_uuid, &j)) != CAT_OK) {
		*status = rc;
		*errp = xstrdup(rc == CAT_NOTFOUND ? "job not found" :
		    "cannot read the job");
		return -1;
	}
	memset(&t, 0, sizeof t);
	t.owner = (char *)owner;
	snprintf(t.op, sizeof t.op, "backup");
	memcpy(t.job_uuid, j.uuid, sizeof t.job_uuid);
	memcpy(t.target_uuid, j.target_uuid, sizeof t.target_uuid);
	memcpy(t.store_uuid, j.store_uuid, sizeof t.store_uuid);
	cat_job_clear(&j);
	return sup_queue(sup, &t, out, status, errp);
}

/* Queue a restore of an archive, to its own target or another. */
int
supervisor_restore(struct supervisor *sup, const char *archive_uuid,
    const char *target_uuid, const char *owner, id_buf out, int *status,
    char **errp)
{
	struct cat_archive a;
	struct cat_system s;
	struct cat_task t;
	int rc;

	memset(&a, 0, sizeof a);
	if ((rc = catalog_archive_get(sup->d->cat, archive_uuid, &a)) !=
	    CAT_OK) {
		*status = rc;
		*errp = xstrdup(rc == CAT_NOTFOUND ? "archive not found" :
		    "cannot read the archive");
		return -1;
	}
	if (strcmp(a.status, "purged") == 0) {
		cat_archive_clear(&a);
		*status = CAT_INUSE;
		*errp = xstrdup("archive has been purged from its store");
		return -1;
	}
	memset(&t, 0, sizeof t);
	t.owner = (char *)owner;
	snprintf(t.op, sizeof t.op, "restore");
	memcpy(t.archive_uuid, a.uuid, sizeof t.archive_uuid);
	memcpy(t.store_uuid, a.store_uuid, sizeof t.store_uuid);
	snprintf(t.target_uuid, sizeof t.target_uuid, "%s",
	    target_uuid != NULL ? target_uuid : a.target_uuid);
	cat_archive_clear(&a);
	memset(&s, 0, sizeof s);
	if ((rc = catalog_system_get(sup->d->cat, CAT_TARGET, t.target_uuid,
	    &s)) != CAT_OK) {
		*status = rc;
		*errp = xstrdup(rc == CAT_NOTFOUND ? "target not found" :
		    "cannot read the target");
		return -1;
	}
	cat_system_clear(&s);
	return sup_queue(sup, &t, out, status, errp);
}

/* Queue the removal of an archive's blob. */
int
supervisor_purge(struct supervisor *sup, const char *archive_uuid,
    const char *owner, id_buf out, int *status, char **errp)
{
	struct cat_archive a;
	struct cat_task t;
	int rc;

	memset(&a, 0, sizeof a);
	if ((rc = catalog_archive_get(sup->d->cat, archive_uuid, &a)) !=
	    CAT_OK) {
		*status = rc;
		*errp = xstrdup(rc == CAT_NOTFOUND ? "archive not found" :
		    "cannot read the archive");
		return -1;
	}
	if (strcmp(a.status, "purged") == 0) {
		cat_archive_clear(&a);
		*status = CAT_NOTFOUND;
		*errp = xstrdup("archive has already been purged");
		return -1;
	}
	memset(&t, 0, sizeof t);
	t.owner = (char *)(owner != NULL ? owner : "system");
	snprintf(t.op, sizeof t.op, "purge");
	memcpy(t.archive_uuid, a.uuid, sizeof t.archive_uuid);
	memcpy(t.store_uuid, a.store_uuid, sizeof t.store_uuid);
	memcpy(t.target_uuid, a.target_uuid, sizeof t.target_uuid);
	cat_archive_clear(&a);
	return sup_queue(sup, &t, out, status, errp);
}

/* Cancel a task. */
int
supervisor_cancel(struct supervisor *sup, const char *uuid)
{
	struct cat_task t;
	struct sup_run *run;
	int rc;

	TAILQ_FOREACH(run, &sup->running, entry) {
		if (strcmp(run->task.uuid, uuid) == 0) {
			if (run->cancel_reason == 0) {
				run->cancel_reason = 1;
				sup_say(run, "canceled by request");
				pipeline_cancel(run->pl);
			}
			return CAT_OK;
		}
	}
	memset(&t, 0, sizeof t);
	if ((rc = catalog_task_get(sup->d->cat, uuid, &t)) != CAT_OK)
		return rc;
	rc = strcmp(t.status, "pending") == 0 ? CAT_OK : CAT_INUSE;
	cat_task_clear(&t);
	if (rc == CAT_OK)
		catalog_task_finish(sup->d->cat, uuid, "canceled",
		    shieldd_now(), 0, "canceled before it started");
	return rc;
}

/* Live byte count of a running task. */
int64_t
supervisor_task_bytes(struct supervisor *sup, const char *uuid)
{
	struct sup_run *run;

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

/* 1 if a purge of this archive is running. */
int
supervisor_purging(struct supervisor *sup, const char *archive)
{
	struct sup_run *run;

	TAILQ_FOREACH(run, &sup->running, entry) {
		if (run->op == SUP_PURGE && strcmp(run->archive, archive) == 0)
			return 1;
	}
	return 0;
}

/* End everything, then tell the caller. */
void
supervisor_shutdown(struct supervisor *sup, const char *reason,
    void (*done_cb)(void *), void *arg)
{
	struct sup_run *run;

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
		if (run->cancel_reason == 0 && run->pl != NULL) {
			run->cancel_reason = 2;
			sup_say(run, "%s", reason);
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
