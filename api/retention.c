/*
 * /v1/retention and /v1/retention/:uuid: how long archives are kept.
 * `expires` is a whole number of seconds, from an hour to 100 years; `when`
 * is accepted as an alias because the original examples use it.
 */
#include <string.h>

#include "api.h"
#include "catalog.h"
#include "daemon.h"
#include "api_limits.h"

/* One policy as JSON. */
static cJSON *
retention_json(const struct cat_retention *p)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "uuid", p->uuid);
	api_json_str(o, "name", p->name);
	api_json_str(o, "summary", p->summary);
	cJSON_AddNumberToObject(o, "expires", (double)p->expiry);
	return o;
}

/* GET /v1/retention[?unused=t|f] */
static void
retention_list(struct api_req *r)
{
	struct cat_filter f;
	struct cat_retention *p = NULL;
	size_t n = 0, i;
	cJSON *arr;
	int rc;

	cat_filter_init(&f);
	if ((f.unused = api_query_bool(r, "unused")) == -2) {
		api_error(r, 400, "unused must be t or f");
		return;
	}
	if ((rc = catalog_retentions(r->d->cat, &f, &p, &n)) != CAT_OK) {
		api_cat_error(r, rc, "retention policy");
		return;
	}
	arr = cJSON_CreateArray();
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, retention_json(&p[i]));
	cat_retentions_free(p, n);
	api_reply(r, 200, arr);
}

/* GET /v1/retention/:uuid */
static void
retention_get(struct api_req *r)
{
	struct cat_retention p;
	int rc;

	memset(&p, 0, sizeof p);
	if ((rc = catalog_retention_get(r->d->cat, r->params[0], &p)) !=
	    CAT_OK) {
		api_cat_error(r, rc, "retention policy");
		return;
	}
	api_reply(r, 200, retention_json(&p));
	cat_retention_clear(&p);
}

/* Read and check the body. */
static int
retention_body(struct api_req *r, struct cat_retention *p, int update)
{
	const char *name = NULL, *summary = NULL, *missing[3];
	const char *key = "expires";
	int64_t expires = 0;
	int present = 0;
	size_t m = 0;
	const cJSON *v;

	if (cJSON_GetObjectItemCaseSensitive(r->body, "expires") == NULL &&
	    cJSON_GetObjectItemCaseSensitive(r->body, "when") != NULL)
		key = "when";
	v = cJSON_GetObjectItemCaseSensitive(r->body, "name");
	if (v == NULL || (cJSON_IsString(v) && v->valuestring[0] == '\0'))
		missing[m++] = "name";
	if (update && cJSON_GetObjectItemCaseSensitive(r->body,
	    "summary") == NULL)
		missing[m++] = "summary";
	if (cJSON_GetObjectItemCaseSensitive(r->body, key) == NULL)
		missing[m++] = "expires";
	if (m > 0) {
		api_missing(r, missing, m);
		return -1;
	}
	/* Before the conversion to an integer, so 9e15 or 1e300 get this. */
	v = cJSON_GetObjectItemCaseSensitive(r->body, key);
	if (cJSON_IsNumber(v) && v->valuedouble > (double)API_RETENTION_MAX) {
		api_error(r, 400, "expires must be at most %lld seconds (100 "
		    "years)", API_RETENTION_MAX);
		return -1;
	}
	if (api_body_string(r, "name", &name) != 0 ||
	    api_body_string(r, "summary", &summary) != 0 ||
	    api_body_int(r, key, &expires, &present) != 0 ||
	    api_check_text(r, "name", name, API_NAME_MAX) != 0 ||
	    api_check_text(r, "summary", summary, API_SUMMARY_MAX) != 0)
		return -1;
	if (expires < API_RETENTION_MIN) {
		api_error(r, 400, "expires must be at least %d seconds (1h)",
		    API_RETENTION_MIN);
		return -1;
	}
	p->name = (char *)name;
	p->summary = (char *)(summary != NULL ? summary : "");
	p->expiry = expires;
	return 0;
}

/* POST /v1/retention */
static void
retention_create(struct api_req *r)
{
	struct cat_retention p;
	id_buf id;
	int rc;

	memset(&p, 0, sizeof p);
	if (retention_body(r, &p, 0) != 0)
		return;
	if ((rc = catalog_retention_create(r->d->cat, &p, id)) != CAT_OK) {
		api_cat_error(r, rc, "retention policy");
		return;
	}
	api_created(r, id, NULL);
}

/* PUT /v1/retention/:uuid */
static void
retention_update(struct api_req *r)
{
	struct cat_retention p;
	int rc;

	memset(&p, 0, sizeof p);
	if (retention_body(r, &p, 1) != 0)
		return;
	memcpy(p.uuid, r->params[0], sizeof p.uuid);
	if ((rc = catalog_retention_update(r->d->cat, &p)) != CAT_OK) {
		api_cat_error(r, rc, "retention policy");
		return;
	}
	api_ok(r, "updated");
}

/* DELETE /v1/retention/:uuid */
static void
retention_delete(struct api_req *r)
{
	int rc;

	rc = catalog_retention_delete(r->d->cat, r->params[0]);
	if (rc == CAT_INUSE) {
		api_error(r, 409, "retention policy is used by a job; change "
		    "or delete those jobs first");
		return;
	}
	if (rc != CAT_OK) {
		api_cat_error(r, rc, "retention policy");
		return;
	}
	api_ok(r, "deleted");
}

const struct api_route api_retention_routes[] = {
	{ EVHTTP_REQ_GET, "/v1/retention", retention_list, 0 },
	{ EVHTTP_REQ_POST, "/v1/retention", retention_create, API_JSON_BODY },
	{ EVHTTP_REQ_GET, "/v1/retention/:uuid", retention_get, 0 },
	{ EVHTTP_REQ_PUT, "/v1/retention/:uuid", retention_update,
	    API_JSON_BODY },
	{ EVHTTP_REQ_DELETE, "/v1/retention/:uuid", retention_delete, 0 },
	{ 0, NULL, NULL, 0 },
};
