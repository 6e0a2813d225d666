/*
 * /v1/jobs and /v1/job/:uuid: a target, a store, a schedule and a retention
 * policy together.  Jobs can be paused, unpaused and run at once; every
 * change reaches the scheduler immediately.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "catalog.h"
#include "daemon.h"
#include "api_limits.h"
#include "scheduler.h"
#include "supervisor.h"
#include "xmalloc.h"

/* One job as JSON: the original keys plus names, uuids and run state. */
static cJSON *
job_json(struct api_req *r, const struct cat_job *j)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "uuid", j->uuid);
	api_json_str(o, "name", j->name);
	api_json_str(o, "summary", j->summary);
	api_json_str(o, "retention_name", j->retention_name);
	cJSON_AddStringToObject(o, "retention_uuid", j->retention_uuid);
	cJSON_AddNumberToObject(o, "expiry", (double)j->expiry);
	api_json_str(o, "schedule_name", j->schedule_name);
	cJSON_AddStringToObject(o, "schedule_uuid", j->schedule_uuid);
	api_json_str(o, "schedule", j->schedule);
	cJSON_AddBoolToObject(o, "paused", j->paused);
	cJSON_AddStringToObject(o, "store_uuid", j->store_uuid);
	api_json_str(o, "store_name", j->store_name);
	api_json_str(o, "store_plugin", j->store_plugin);
	api_json_str(o, "store_endpoint", j->store_endpoint);
	cJSON_AddStringToObject(o, "target_uuid", j->target_uuid);
	api_json_str(o, "target_name", j->target_name);
	api_json_str(o, "target_plugin", j->target_plugin);
	api_json_str(o, "target_endpoint", j->target_endpoint);
	api_json_time(o, "next_run", j->paused ? 0 :
	    scheduler_next_run(r->d->sched, j->uuid));
	api_json_uuid(o, "last_task_uuid", j->last_task_uuid);
	if (j->last_task_status[0] != '\0')
		cJSON_AddStringToObject(o, "last_task_status",
		    j->last_task_status);
	else
		cJSON_AddNullToObject(o, "last_task_status");
	api_json_time(o, "last_run", j->last_task_started);
	api_json_time(o, "last_run_stopped", j->last_task_stopped);
	return o;
}

/* Copy a uuid-valued query filter, replying 400 if malformed. */
static int
jobs_filter_uuid(struct api_req *r, const char *name, const char **out)
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

/* GET /v1/jobs */
static void
jobs_list(struct api_req *r)
{
	struct cat_filter f;
	struct cat_job *j = NULL;
	size_t n = 0, i;
	cJSON *arr;
	int rc;

	if (api_cache_reply(r))
		return;
	cat_filter_init(&f);
	if (jobs_filter_uuid(r, "target", &f.target) != 0 ||
	    jobs_filter_uuid(r, "store", &f.store) != 0 ||
	    jobs_filter_uuid(r, "schedule", &f.schedule) != 0 ||
	    jobs_filter_uuid(r, "retention", &f.retention) != 0)
		return;
	if ((f.paused = api_query_bool(r, "paused")) == -2) {
		api_error(r, 400, "paused must be t or f");
		return;
	}
	if ((rc = catalog_jobs(r->d->cat, &f, &j, &n)) != CAT_OK) {
		api_cat_error(r, rc, "job");
		return;
	}
	arr = cJSON_CreateArray();
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, job_json(r, &j[i]));
	cat_jobs_free(j, n);
	api_reply_cached(r, arr);
}

/* GET /v1/job/:uuid */
static void
jobs_get(struct api_req *r)
{
	struct cat_job j;
	int rc;

	memset(&j, 0, sizeof j);
	if ((rc = catalog_job_get(r->d->cat, r->params[0], &j)) != CAT_OK) {
		api_cat_error(r, rc, "job");
		return;
	}
	api_reply(r, 200, job_json(r, &j));
	cat_job_clear(&j);
}

/* Check that a referenced object exists; reply 400 naming it if not. */
static int
jobs_ref_exists(struct api_req *r, const char *field, const char *uuid)
{
	struct cat_schedule s;
	struct cat_retention p;
	struct cat_system sy;
	int rc;

	if (!id_valid(uuid)) {
		api_error(r, 400, "%s must be a uuid", field);
		return -1;
	}
	memset(&s, 0, sizeof s);
	memset(&p, 0, sizeof p);
	memset(&sy, 0, sizeof sy);
	if (strcmp(field, "schedule") == 0) {
		rc = catalog_schedule_get(r->d->cat, uuid, &s);
		cat_schedule_clear(&s);
	} else if (strcmp(field, "retention") == 0) {
		rc = catalog_retention_get(r->d->cat, uuid, &p);
		cat_retention_clear(&p);
	} else {
		rc = catalog_system_get(r->d->cat, strcmp(field, "target") == 0 ?
		    CAT_TARGET : CAT_STORE, uuid, &sy);
		cat_system_clear(&sy);
	}
	if (rc == CAT_NOTFOUND) {
		api_error(r, 400, "%s %s does not exist", field, uuid);
		return -1;
	}
	if (rc != CAT_OK) {
		api_cat_error(r, rc, field);
		return -1;
	}
	return 0;
}

/* Read and check a job body. */
static int
jobs_body(struct api_req *r, struct cat_job *j, int update)
{
	static const char *const req[] = { "name", "target", "store",
	    "schedule", "retention" };
	static const char *const refs[] = { "target", "store", "schedule",
	    "retention" };
	char *dst[4] = { j->target_uuid, j->store_uuid, j->schedule_uuid,
	    j->retention_uuid };
	const char *name = NULL, *summary = NULL, *v;
	int paused = 0;
	size_t i;

	if (api_body_require(r, req, 5) != 0)
		return -1;
	if (update && cJSON_GetObjectItemCaseSensitive(r->body,
	    "summary") == NULL) {
		static const char *const m[] = { "summary" };

		api_missing(r, m, 1);
		return -1;
	}
	if (api_body_string(r, "name", &name) != 0 ||
	    api_body_string(r, "summary", &summary) != 0 ||
	    api_check_text(r, "name", name, API_NAME_MAX) != 0 ||
	    api_check_text(r, "summary", summary, API_SUMMARY_MAX) != 0 ||
	    (!update && api_body_bool(r, "paused", &paused, NULL) != 0))
		return -1;
	for (i = 0; i < 4; i++) {
		v = NULL;
		if (api_body_string(r, refs[i], &v) != 0 ||
		    jobs_ref_exists(r, refs[i], v) != 0)
			return -1;
		snprintf(dst[i], sizeof(id_buf), "%s", v);
		id_lower(dst[i]);
	}
	j->name = (char *)name;
	j->summary = (char *)(summary != NULL ? summary : "");
	j->paused = paused;
	return 0;
}

/* POST /v1/jobs */
static void
jobs_create(struct api_req *r)
{
	struct cat_job j;
	id_buf id;
	int rc;

	memset(&j, 0, sizeof j);
	if (jobs_body(r, &j, 0) != 0)
		return;
	if ((rc = catalog_job_create(r->d->cat, &j, id)) != CAT_OK) {
		api_cat_error(r, rc, "job");
		return;
	}
	scheduler_reload_job(r->d->sched, id);
	api_created(r, id, NULL);
}

/* PUT /v1/job/:uuid */
static void
jobs_update(struct api_req *r)
{
	struct cat_job j;
	int rc;

	memset(&j, 0, sizeof j);
	if (jobs_body(r, &j, 1) != 0)
		return;
	memcpy(j.uuid, r->params[0], sizeof j.uuid);
	if ((rc = catalog_job_update(r->d->cat, &j)) != CAT_OK) {
		api_cat_error(r, rc, "job");
		return;
	}
	scheduler_reload_job(r->d->sched, j.uuid);
	api_ok(r, "updated");
}

/* DELETE /v1/job/:uuid */
static void
jobs_delete(struct api_req *r)
{
	int rc;

	if ((rc = catalog_job_delete(r->d->cat, r->params[0])) != CAT_OK) {
		api_cat_error(r, rc, "job");
		return;
	}
	scheduler_reload_job(r->d->sched, r->params[0]);
	api_ok(r, "deleted");
}

/* Shared pause/unpause. */
static void
jobs_set_paused(struct api_req *r, int paused)
{
	int rc;

	rc = catalog_job_set_paused(r->d->cat, r->params[0], paused);
	if (rc != CAT_OK) {
		api_cat_error(r, rc, "job");
		return;
	}
	scheduler_reload_job(r->d->sched, r->params[0]);
	api_ok(r, paused ? "paused" : "unpaused");
}

/* POST /v1/job/:uuid/pause */
static void
jobs_pause(struct api_req *r)
{
	jobs_set_paused(r, 1);
}

/* POST /v1/job/:uuid/unpause */
static void
jobs_unpause(struct api_req *r)
{
	jobs_set_paused(r, 0);
}

/* The owner of a task asked for by this request. */
const char *api_task_owner(struct api_req *, int *);

/* POST /v1/job/:uuid/run */
static void
jobs_run(struct api_req *r)
{
	struct task_request req = { 0 };
	const char *owner;
	char *err = NULL;
	cJSON *o;
	id_buf id;
	int bad, status;

	owner = api_task_owner(r, &bad);
	if (bad)
		return;
	req.owner = owner;
	req.job = r->params[0];
	if (supervisor_queue(r->d->sup, CAT_TASK_BACKUP, &req, id, &status,
	    &err) != 0) {
		if (status == CAT_NOTFOUND)
			api_error(r, 404, "%s", err);
		else
			api_error(r, status == CAT_ERR ? 500 : 409, "%s", err);
		free(err);
		return;
	}
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "ok", "scheduled");
	cJSON_AddStringToObject(o, "task_uuid", id);
	api_reply(r, 200, o);
}

const struct api_route api_job_routes[] = {
	{ EVHTTP_REQ_GET, "/v1/jobs", jobs_list, 0 },
	{ EVHTTP_REQ_POST, "/v1/jobs", jobs_create, API_JSON_BODY },
	{ EVHTTP_REQ_GET, "/v1/job/:uuid", jobs_get, 0 },
	{ EVHTTP_REQ_PUT, "/v1/job/:uuid", jobs_update, API_JSON_BODY },
	{ EVHTTP_REQ_DELETE, "/v1/job/:uuid", jobs_delete, 0 },
	{ EVHTTP_REQ_POST, "/v1/job/:uuid/pause", jobs_pause, API_OPT_BODY },
	{ EVHTTP_REQ_POST, "/v1/job/:uuid/unpause", jobs_unpause,
	    API_OPT_BODY },
	{ EVHTTP_REQ_POST, "/v1/job/:uuid/run", jobs_run, API_OPT_BODY },
	{ 0, NULL, NULL, 0 },
};
