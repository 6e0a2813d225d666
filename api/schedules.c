/*
 * /v1/schedules and /v1/schedule/:uuid: when jobs run, in the timespec
 * language.  A `when` that does not parse is a 400 with the parser's reason.
 */
#include <string.h>

#include "api.h"
#include "catalog.h"
#include "daemon.h"
#include "api_limits.h"
#include "scheduler.h"
#include "timespec.h"

/* One schedule as JSON. */
static cJSON *
schedule_json(const struct cat_schedule *s)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "uuid", s->uuid);
	api_json_str(o, "name", s->name);
	api_json_str(o, "summary", s->summary);
	api_json_str(o, "when", s->when);
	return o;
}

/* GET /v1/schedules[?unused=t|f] */
static void
schedules_list(struct api_req *r)
{
	struct cat_filter f;
	struct cat_schedule *s = NULL;
	size_t n = 0, i;
	cJSON *arr;
	int rc;

	cat_filter_init(&f);
	if ((f.unused = api_query_bool(r, "unused")) == -2) {
		api_error(r, 400, "unused must be t or f");
		return;
	}
	if ((rc = catalog_schedules(r->d->cat, &f, &s, &n)) != CAT_OK) {
		api_cat_error(r, rc, "schedule");
		return;
	}
	arr = cJSON_CreateArray();
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, schedule_json(&s[i]));
	cat_schedules_free(s, n);
	api_reply(r, 200, arr);
}

/* GET /v1/schedule/:uuid */
static void
schedules_get(struct api_req *r)
{
	struct cat_schedule s;
	int rc;

	memset(&s, 0, sizeof s);
	if ((rc = catalog_schedule_get(r->d->cat, r->params[0], &s)) !=
	    CAT_OK) {
		api_cat_error(r, rc, "schedule");
		return;
	}
	api_reply(r, 200, schedule_json(&s));
	cat_schedule_clear(&s);
}

/* Read and check the body; update requires summary to be present. */
static int
schedules_body(struct api_req *r, struct cat_schedule *s, int update)
{
	static const char *const req[] = { "name", "when" };
	char err[TIMESPEC_ERR_MAX];
	const char *name = NULL, *summary = NULL, *when = NULL;
	struct tspec ts;

	if (api_body_require(r, req, 2) != 0)
		return -1;
	if (update && cJSON_GetObjectItemCaseSensitive(r->body,
	    "summary") == NULL) {
		static const char *const m[] = { "summary" };

		api_missing(r, m, 1);
		return -1;
	}
	if (api_body_string(r, "name", &name) != 0 ||
	    api_body_string(r, "summary", &summary) != 0 ||
	    api_body_string(r, "when", &when) != 0 ||
	    api_check_text(r, "name", name, API_NAME_MAX) != 0 ||
	    api_check_text(r, "summary", summary, API_SUMMARY_MAX) != 0 ||
	    api_check_len(r, "when", when, API_WHEN_MAX) != 0)
		return -1;
	if (timespec_parse(when, &ts, err, sizeof err) != 0) {
		api_error(r, 400, "invalid schedule \"%s\": %s", when, err);
		return -1;
	}
	s->name = (char *)name;
	s->summary = (char *)(summary != NULL ? summary : "");
	s->when = (char *)when;
	return 0;
}

/* POST /v1/schedules */
static void
schedules_create(struct api_req *r)
{
	struct cat_schedule s;
	id_buf id;
	int rc;

	memset(&s, 0, sizeof s);
	if (schedules_body(r, &s, 0) != 0)
		return;
	if ((rc = catalog_schedule_create(r->d->cat, &s, id)) != CAT_OK) {
		api_cat_error(r, rc, "schedule");
		return;
	}
	api_created(r, id, NULL);
}

/* PUT /v1/schedule/:uuid */
static void
schedules_update(struct api_req *r)
{
	struct cat_schedule s;
	int rc;

	memset(&s, 0, sizeof s);
	if (schedules_body(r, &s, 1) != 0)
		return;
	memcpy(s.uuid, r->params[0], sizeof s.uuid);
	if ((rc = catalog_schedule_update(r->d->cat, &s)) != CAT_OK) {
		api_cat_error(r, rc, "schedule");
		return;
	}
	scheduler_reload(r->d->sched);
	api_ok(r, "updated");
}

/* DELETE /v1/schedule/:uuid */
static void
schedules_delete(struct api_req *r)
{
	int rc;

	rc = catalog_schedule_delete(r->d->cat, r->params[0]);
	if (rc == CAT_INUSE) {
		api_error(r, 409, "schedule is used by a job; change or "
		    "delete those jobs first");
		return;
	}
	if (rc != CAT_OK) {
		api_cat_error(r, rc, "schedule");
		return;
	}
	api_ok(r, "deleted");
}

const struct api_route api_schedule_routes[] = {
	{ EVHTTP_REQ_GET, "/v1/schedules", schedules_list, 0 },
	{ EVHTTP_REQ_POST, "/v1/schedules", schedules_create, API_JSON_BODY },
	{ EVHTTP_REQ_GET, "/v1/schedule/:uuid", schedules_get, 0 },
	{ EVHTTP_REQ_PUT, "/v1/schedule/:uuid", schedules_update,
	    API_JSON_BODY },
	{ EVHTTP_REQ_DELETE, "/v1/schedule/:uuid", schedules_delete, 0 },
	{ 0, NULL, NULL, 0 },
};
