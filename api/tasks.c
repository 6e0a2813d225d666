/*
 * /v1/tasks and /v1/task/:uuid: what the daemon is doing and has done.
 * A running task shows the bytes streamed so far; DELETE cancels.
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

/* One task as JSON. */
static cJSON *
task_json(struct api_req *r, const struct cat_task *t, int logs, int debug)
{
	cJSON *o = cJSON_CreateObject();
	int64_t live;

	cJSON_AddStringToObject(o, "uuid", t->uuid);
	api_json_str(o, "owner", t->owner);
	cJSON_AddStringToObject(o, "type", t->op);
	api_json_uuid(o, "job_uuid", t->job_uuid);
	api_json_uuid(o, "archive_uuid", t->archive_uuid);
	api_json_uuid(o, "target_uuid", t->target_uuid);
	api_json_uuid(o, "store_uuid", t->store_uuid);
	cJSON_AddStringToObject(o, "status", t->status);
	api_json_time(o, "requested_at", t->requested_at);
	api_json_time(o, "started_at", t->started_at);
	api_json_time(o, "stopped_at", t->stopped_at);
	live = strcmp(t->status, "running") == 0 ?
	    supervisor_task_bytes(r->d->sup, t->uuid) : -1;
	cJSON_AddNumberToObject(o, "bytes", (double)(live >= 0 ? live :
	    t->bytes));
	if (t->error != NULL && *t->error != '\0')
		cJSON_AddStringToObject(o, "error", t->error);
	else
		cJSON_AddNullToObject(o, "error");
	if (logs)
		api_json_str(o, "log", t->log);
	if (debug)
		api_json_str(o, "debug", t->debug);
	return o;
}

/* GET /v1/tasks[?status=][&limit=][&debug][&job=][&target=] */
static void
tasks_list(struct api_req *r)
{
	static const char *const statuses[] = { "pending", "running",
	    "canceled", "failed", "done" };
	struct cat_filter f;
	struct cat_task *t = NULL;
	const char *v;
	size_t n = 0, i;
	int rc, ok, debug = api_query_has(r, "debug");
	cJSON *arr;

	cat_filter_init(&f);
	if ((v = api_query(r, "status")) != NULL) {
		for (ok = 0, i = 0; i < 5; i++)
			ok |= strcmp(v, statuses[i]) == 0;
		if (!ok) {
			api_error(r, 400, "status must be one of pending, "
			    "running, canceled, failed, done");
			return;
		}
		f.status = v;
	}
	if ((v = api_query(r, "limit")) != NULL &&
	    (f.limit = atoi(v)) <= 0) {
		api_error(r, 400, "limit must be a positive number");
		return;
	}
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
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, task_json(r, &t[i], 1, debug));
	cat_tasks_free(t, n);
	api_reply(r, 200, arr);
}

/* GET /v1/task/:uuid[?debug] */
static void
tasks_get(struct api_req *r)
{
	struct cat_task t;
	int rc;

	memset(&t, 0, sizeof t);
	if ((rc = catalog_task_get(r->d->cat, r->params[0], &t)) != CAT_OK) {
		api_cat_error(r, rc, "task");
		return;
	}
	api_reply(r, 200, task_json(r, &t, 1, api_query_has(r, "debug")));
	cat_task_clear(&t);
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
