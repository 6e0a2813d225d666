/*
 * /v1/archives and /v1/archive/:uuid: what has been backed up.  Archives can
 * be filtered, annotated, restored (to their own target or another) and
 * deleted; deleting removes the blob from the store through a purge task.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "catalog.h"
#include "daemon.h"
#include "api_limits.h"
#include "supervisor.h"
#include "timefmt.h"

const char *api_task_owner(struct api_req *, int *);

/* One archive as JSON. */
static cJSON *
archive_json(const struct cat_archive *a)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "uuid", a->uuid);
	api_json_str(o, "store_key", a->store_key);
	api_json_time(o, "taken_at", a->taken_at);
	api_json_time(o, "expires_at", a->expires_at);
	api_json_str(o, "notes", a->notes);
	cJSON_AddStringToObject(o, "status", cat_archive_status_name(a->status));
	cJSON_AddNumberToObject(o, "size", (double)a->size);
	api_json_str(o, "sha256", a->sha256);
	api_json_uuid(o, "job_uuid", a->job_uuid);
	cJSON_AddStringToObject(o, "store_uuid", a->store_uuid);
	api_json_str(o, "store_name", a->store_name);
	api_json_str(o, "store_plugin", a->store_plugin);
	api_json_str(o, "store_endpoint", a->store_endpoint);
	cJSON_AddStringToObject(o, "target_uuid", a->target_uuid);
	api_json_str(o, "target_name", a->target_name);
	api_json_str(o, "target_plugin", a->target_plugin);
	api_json_str(o, "target_endpoint", a->target_endpoint);
	return o;
}

/* Parse a YYYYMMDD filter; reply 400 when malformed. */
static int
archives_day(struct api_req *r, const char *name, int64_t *out)
{
	const char *v = api_query(r, name);

	if (v == NULL)
		return 0;
	if (timefmt_parse_day(v, out) != 0) {
		api_error(r, 400, "%s must be a date as YYYYMMDD", name);
		return -1;
	}
	return 0;
}

/* A uuid filter; reply 400 when malformed. */
static int
archives_uuid(struct api_req *r, const char *name, const char **out)
{
	const char *v = api_query(r, name);

	if (v == NULL)
		return 0;
	if (!id_valid(v)) {
		api_error(r, 400, "%s must be a uuid", name);
		return -1;
	}
	*out = v;
	return 0;
}

/* GET /v1/archives */
static void
archives_list(struct api_req *r)
{
	enum cat_archive_status status;
	struct cat_filter f;
	struct cat_archive *a = NULL;
	const char *st;
	size_t n = 0, i;
	cJSON *arr;
	int rc;

	cat_filter_init(&f);
	if (archives_uuid(r, "target", &f.target) != 0 ||
	    archives_uuid(r, "store", &f.store) != 0 ||
	    archives_uuid(r, "job", &f.job) != 0 ||
	    archives_day(r, "after", &f.after) != 0 ||
	    archives_day(r, "before", &f.before) != 0)
		return;
	if ((st = api_query(r, "status")) != NULL) {
		if (cat_archive_status_parse(st, &status) != 0) {
			api_error(r, 400, "status must be valid, expired or "
			    "purged");
			return;
		}
		f.status = (int)status;
	}
	if (api_query_page(r, API_ARCHIVES_LIMIT, API_ARCHIVES_LIMIT_MAX,
	    &f.limit, &f.offset) != 0)
		return;
	if ((rc = catalog_archives(r->d->cat, &f, &a, &n)) != CAT_OK) {
		api_cat_error(r, rc, "archive");
		return;
	}
	arr = cJSON_CreateArray();
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, archive_json(&a[i]));
	cat_archives_free(a, n);
	api_reply(r, 200, arr);
}

/* GET /v1/archive/:uuid */
static void
archives_get(struct api_req *r)
{
	struct cat_archive a;
	int rc;

	memset(&a, 0, sizeof a);
	if ((rc = catalog_archive_get(r->d->cat, r->params[0], &a)) !=
	    CAT_OK) {
		api_cat_error(r, rc, "archive");
		return;
	}
	api_reply(r, 200, archive_json(&a));
	cat_archive_clear(&a);
}

/* PUT /v1/archive/:uuid {"notes"} */
static void
archives_update(struct api_req *r)
{
	const char *notes = NULL;
	int rc;

	if (cJSON_GetObjectItemCaseSensitive(r->body, "notes") == NULL) {
		static const char *const m[] = { "notes" };

		api_missing(r, m, 1);
		return;
	}
	if (api_body_string(r, "notes", &notes) != 0 ||
	    api_check_text(r, "notes", notes, API_NOTES_MAX) != 0)
		return;
	rc = catalog_archive_set_notes(r->d->cat, r->params[0],
	    notes != NULL ? notes : "");
	if (rc != CAT_OK) {
		api_cat_error(r, rc, "archive");
		return;
	}
	api_ok(r, "updated");
}

/* Reply with a scheduled task, or the supervisor's error. */
static void
archives_scheduled(struct api_req *r, int rc, int status, char *err,
    const char *ok, const id_buf id)
{
	cJSON *o;

	if (rc != 0) {
		api_error(r, status == CAT_NOTFOUND ? 404 :
		    status == CAT_ERR ? 500 : 400, "%s", err);
		free(err);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "ok", ok);
	cJSON_AddStringToObject(o, "task_uuid", id);
	api_reply(r, 200, o);
}

/* POST /v1/archive/:uuid/restore {"target"?, "owner"?} */
static void
archives_restore(struct api_req *r)
{
	struct task_request req = { 0 };
	const char *target = NULL, *owner;
	char *err = NULL;
	int bad, rc, status = 0;
	id_buf id, lower;

	owner = api_task_owner(r, &bad);
	if (bad || api_body_string(r, "target", &target) != 0)
		return;
	if (target != NULL && !id_valid(target)) {
		api_error(r, 400, "target must be a uuid");
		return;
	}
	if (target != NULL) {
		snprintf(lower, sizeof lower, "%s", target);
		id_lower(lower);
		target = lower;
	}
	req.owner = owner;
	req.archive = r->params[0];
	req.target = target;
	rc = supervisor_queue(r->d->sup, CAT_TASK_RESTORE, &req, id, &status,
	    &err);
	if (rc != 0 && status == CAT_NOTFOUND && target != NULL &&
	    err != NULL && strstr(err, "target") != NULL)
		status = CAT_BADREF;	/* the body's target: a 400 */
	archives_scheduled(r, rc, status, err, "scheduled", id);
}

/* DELETE /v1/archive/:uuid: purge the blob, keep the row as history. */
static void
archives_delete(struct api_req *r)
{
	struct task_request req = { 0 };
	char *err = NULL;
	int rc, status = 0;
	id_buf id;

	req.owner = r->user;
	req.archive = r->params[0];
	rc = supervisor_queue(r->d->sup, CAT_TASK_PURGE, &req, id, &status,
	    &err);
	archives_scheduled(r, rc, status, err, "deleted", id);
}

const struct api_route api_archive_routes[] = {
	{ EVHTTP_REQ_GET, "/v1/archives", archives_list, 0 },
	{ EVHTTP_REQ_GET, "/v1/archive/:uuid", archives_get, 0 },
	{ EVHTTP_REQ_PUT, "/v1/archive/:uuid", archives_update,
	    API_JSON_BODY },
	{ EVHTTP_REQ_DELETE, "/v1/archive/:uuid", archives_delete, 0 },
	{ EVHTTP_REQ_POST, "/v1/archive/:uuid/restore", archives_restore,
	    API_OPT_BODY },
	{ 0, NULL, NULL, 0 },
};
