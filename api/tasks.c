/*
 * /v1/tasks and /v1/task/:uuid: what the daemon is doing and has done.
 * A running task shows the bytes streamed so far; DELETE cancels.  Lists
 * carry each task's newest log line (last_log) and the tail of its log;
 * whole logs are read one task at a time.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "catalog.h"
#include "daemon.h"
#include "api_limits.h"
#include "supervisor.h"

/*
 * The owner of a task asked for by this request: the body's "owner" if
 * given, else the authenticated user.  *bad is set after a 400 reply.
 */
const char *api_task_owner(struct api_req *, int *);

const char *
api_task_owner(struct api_req *r, int *bad)
{
	const char *owner = NULL;

	*bad = 0;
	if (r->body != NULL && (api_body_string(r, "owner", &owner) != 0 ||
	    api_check_text(r, "owner", owner, API_OWNER_MAX) != 0)) {
		*bad = 1;
		return NULL;
	}
	if (owner == NULL || *owner == '\0')
		owner = r->user != NULL ? r->user : "anon";
	return owner;
}

/* One task as JSON, without its logs. */
static cJSON *
task_json(struct api_req *r, const struct cat_task *t)
{
	cJSON *o = cJSON_CreateObject();
	int64_t live;

	cJSON_AddStringToObject(o, "uuid", t->uuid);
	api_json_str(o, "owner", t->owner);
	cJSON_AddStringToObject(o, "type", cat_task_type_name(t->type));
	api_json_uuid(o, "job_uuid", t->job_uuid);
	api_json_uuid(o, "archive_uuid", t->archive_uuid);
	api_json_uuid(o, "target_uuid", t->target_uuid);
	api_json_uuid(o, "store_uuid", t->store_uuid);
	cJSON_AddStringToObject(o, "status", cat_task_status_name(t->status));
	api_json_time(o, "requested_at", t->requested_at);
	api_json_time(o, "started_at", t->started_at);
	api_json_time(o, "stopped_at", t->stopped_at);
	live = t->status == CAT_TASK_RUNNING ?
	    supervisor_task_bytes(r->d->sup, t->uuid) : -1;
	cJSON_AddNumberToObject(o, "bytes", (double)(live >= 0 ? live :
	    t->bytes));
	if (t->error != NULL && *t->error != '\0')
		cJSON_AddStringToObject(o, "error", t->error);
	else
		cJSON_AddNullToObject(o, "error");
	if (t->last_log != NULL)
		cJSON_AddStringToObject(o, "last_log", t->last_log);
	else
		cJSON_AddNullToObject(o, "last_log");
	return o;
}

/*
 * The seed's task lists carry "log": a list gives the tail of each task's
 * log (and with ?debug, of its debug log), so a list stays small whatever
 * the tasks logged; GET /v1/task/:uuid has the whole stored log.
 */
static int
task_log_tails(struct api_req *r, const struct cat_task *t, cJSON *o)
{
	char *text = NULL;

	if (catalog_task_log_tail(r->d->cat, t->uuid, 0, API_TASKS_LOG_TAIL,
	    &text) != CAT_OK)
		return -1;
	cJSON_AddStringToObject(o, "log", text);
	free(text);
	if (!api_query_has(r, "debug"))
		return 0;
	if (catalog_task_log_tail(r->d->cat, t->uuid, 1, API_TASKS_LOG_TAIL,
	    &text) != CAT_OK)
		return -1;
	cJSON_AddStringToObject(o, "debug", text);
	free(text);
	return 0;
}

/* GET /v1/tasks[?status=][&limit=][&offset=][&job=][&target=][&debug] */
static void
tasks_list(struct api_req *r)
{
	enum cat_task_status status;
	struct cat_filter f;
	struct cat_task *t = NULL;
	const char *v;
	size_t n = 0, i;
	int rc;
	cJSON *arr, *o;

	cat_filter_init(&f);
	if ((v = api_query(r, "status")) != NULL) {
		if (cat_task_status_parse(v, &status) != 0) {
			api_error(r, 400, "status must be one of pending, "
			    "running, canceled, failed, done");
			return;
		}
		f.status = (int)status;
	}
	if (api_query_page(r, API_TASKS_LIMIT, API_TASKS_LIMIT_MAX, &f.limit,
	    &f.offset) != 0)
		return;
	f.job = api_query(r, "job");
	f.target = api_query(r, "target");
	if ((f.job != NULL && !id_valid(f.job)) ||
	    (f.target != NULL && !id_valid(f.target))) {
		api_error(r, 400, "job and target must be uuids");
		return;
	}
	if ((rc = catalog_tasks(r->d->cat, &f, 1, &t, &n)) != CAT_OK) {
		api_cat_error(r, rc, "task");
		return;
	}
	arr = cJSON_CreateArray();
	for (i = 0; i < n; i++) {
		if ((o = task_json(r, &t[i])) == NULL ||
		    task_log_tails(r, &t[i], o) != 0) {
			cJSON_Delete(o);
			cJSON_Delete(arr);
			cat_tasks_free(t, n);
			api_error(r, 500, "cannot read task logs");
			return;
		}
		cJSON_AddItemToArray(arr, o);
	}
	cat_tasks_free(t, n);
	api_reply(r, 200, arr);
}

/*
 * GET /v1/task/:uuid[?debug][&log_after=N]: the task with its log (the
 * stored head and tail of it) and log_lines, the number of its last line;
 * log_after=N gives only the lines after line N, for following a log.
 */
static void
tasks_get(struct api_req *r)
{
	struct cat_task t;
	const char *v;
	char *log = NULL, *debug = NULL, *end;
	long long after = 0;
	int64_t lines = 0;
	cJSON *o;
	int rc;

	if ((v = api_query(r, "log_after")) != NULL) {
		after = strtoll(v, &end, 10);
		if (*v < '0' || *v > '9' || *end != '\0') {
			api_error(r, 400, "log_after must be a line number");
			return;
		}
	}
	memset(&t, 0, sizeof t);
	if ((rc = catalog_task_get(r->d->cat, r->params[0], &t)) != CAT_OK ||
	    (rc = catalog_task_log(r->d->cat, t.uuid, 0, after, &log,
	    &lines)) != CAT_OK ||
	    (api_query_has(r, "debug") && (rc = catalog_task_log(r->d->cat,
	    t.uuid, 1, 0, &debug, NULL)) != CAT_OK)) {
		api_cat_error(r, rc, "task");
		cat_task_clear(&t);
		free(log);
		return;
	}
	o = task_json(r, &t);
	cJSON_AddStringToObject(o, "log", log);
	cJSON_AddNumberToObject(o, "log_lines", (double)lines);
	if (debug != NULL)
		cJSON_AddStringToObject(o, "debug", debug);
	api_reply(r, 200, o);
	cat_task_clear(&t);
	free(log);
	free(debug);
}

/* DELETE /v1/task/:uuid: cancel. */
static void
tasks_cancel(struct api_req *r)
{
	int rc = supervisor_cancel(r->d->sup, r->params[0]);

	if (rc == CAT_INUSE) {
		api_error(r, 409, "task has already finished");
		return;
	}
	if (rc != CAT_OK) {
		api_cat_error(r, rc, "task");
		return;
	}
	api_ok(r, "canceled");
}

const struct api_route api_task_routes[] = {
	{ EVHTTP_REQ_GET, "/v1/tasks", tasks_list, 0 },
	{ EVHTTP_REQ_GET, "/v1/task/:uuid", tasks_get, 0 },
	{ EVHTTP_REQ_DELETE, "/v1/task/:uuid", tasks_cancel, 0 },
	{ 0, NULL, NULL, 0 },
};
