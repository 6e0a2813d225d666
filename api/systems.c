/*
 * /v1/targets, /v1/target/:uuid, /v1/stores and /v1/store/:uuid.  Targets
 * (what to back up) and stores (where archives go) have the same shape: a
 * name, a plugin and its endpoint.  A write names an installed plugin and an
 * endpoint that is a JSON object (as a string, as in the original API, or as
 * an object); when the plugin implements `validate`, it is run first and its
 * reasons come back as a 400 before anything is written.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "catalog.h"
#include "daemon.h"
#include "endpoint.h"
#include "api_limits.h"
#include "log.h"
#include "plugins.h"
#include "xmalloc.h"

/* The names of a kind, for paths and messages. */
static const char *
system_noun(enum cat_kind k)
{
	return k == CAT_TARGET ? "target" : "store";
}

/* One target or store as JSON. */
static cJSON *
system_json(const struct cat_system *s)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "uuid", s->uuid);
	api_json_str(o, "name", s->name);
	api_json_str(o, "summary", s->summary);
	api_json_str(o, "plugin", s->plugin);
	api_json_str(o, "endpoint", s->endpoint);
	return o;
}

/* Shared list handler. */
static void
systems_list(struct api_req *r, enum cat_kind k)
{
	struct cat_filter f;
	struct cat_system *s = NULL;
	size_t n = 0, i;
	cJSON *arr;
	int rc;

	cat_filter_init(&f);
	if ((f.unused = api_query_bool(r, "unused")) == -2) {
		api_error(r, 400, "unused must be t or f");
		return;
	}
	f.plugin = api_query(r, "plugin");
	if ((rc = catalog_systems(r->d->cat, k, &f, &s, &n)) != CAT_OK) {
		api_cat_error(r, rc, system_noun(k));
		return;
	}
	arr = cJSON_CreateArray();
	for (i = 0; i < n; i++)
		cJSON_AddItemToArray(arr, system_json(&s[i]));
	cat_systems_free(s, n);
	api_reply(r, 200, arr);
}

/* Shared get handler. */
static void
systems_get(struct api_req *r, enum cat_kind k)
{
	struct cat_system s;
	int rc;

	memset(&s, 0, sizeof s);
	if ((rc = catalog_system_get(r->d->cat, k, r->params[0], &s)) !=
	    CAT_OK) {
		api_cat_error(r, rc, system_noun(k));
		return;
	}
	api_reply(r, 200, system_json(&s));
	cat_system_clear(&s);
}

/* A write waiting for the plugin's validate answer. */
struct system_write {
	struct api_req		*r;
	enum cat_kind		 kind;
	int			 update;
	struct cat_system	 sys;	/* owned copies */
};

/* Free a pending write (not its request). */
static void
system_write_free(struct system_write *w)
{
	cat_system_clear(&w->sys);
	free(w);
}

/* Store the checked record and answer. */
static void
system_write_commit(struct system_write *w)
{
	struct api_req *r = w->r;
	id_buf id;
	int rc;

	if (w->update)
		rc = catalog_system_update(r->d->cat, w->kind, &w->sys);
	else
		rc = catalog_system_create(r->d->cat, w->kind, &w->sys, id);
	if (rc != CAT_OK)
		api_cat_error(r, rc, system_noun(w->kind));
	else if (w->update)
		api_ok(r, "updated");
	else
		api_created(r, id, NULL);
	system_write_free(w);
}

/* Answer 400 with reasons, one per line, as the error and as a list. */
static void
system_reasons_reply(struct api_req *r, const char *reasons)
{
	cJSON *o, *arr;
	char *copy, *line, *save;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "error", reasons != NULL && *reasons ?
	    reasons : "the plugin rejected the endpoint");
	arr = cJSON_AddArrayToObject(o, "reasons");
	copy = xstrdup(reasons != NULL ? reasons : "");
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save))
		cJSON_AddItemToArray(arr, cJSON_CreateString(line));
	free(copy);
	api_reply(r, 400, o);
}

/* The plugin's validate finished. */
static void
system_validate_cb(int ok, const char *reasons, void *arg)
{
	struct system_write *w = arg;

	if (ok) {
		system_write_commit(w);
		return;
	}
	system_reasons_reply(w->r, reasons);
	system_write_free(w);
}

/* Read the endpoint as JSON text: a string holding an object, or an object. */
static char *
system_endpoint_text(struct api_req *r)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->body, "endpoint");
	cJSON *parsed;
	char *text;

	if (cJSON_IsObject(v))
		return cJSON_PrintUnformatted(v);
	if (!cJSON_IsString(v)) {
		api_error(r, 400, "endpoint must be a JSON object or a string "
		    "holding one");
		return NULL;
	}
	parsed = cJSON_Parse(v->valuestring);
	if (!cJSON_IsObject(parsed)) {
		cJSON_Delete(parsed);
		api_error(r, 400, "endpoint must be a JSON object, e.g. "
		    "{\"base_dir\":\"/srv\"}");
		return NULL;
	}
	cJSON_Delete(parsed);
	text = xstrdup(v->valuestring);
	return text;
}

/* Shared create/update: check, validate through the plugin, write. */
static void
systems_write(struct api_req *r, enum cat_kind k, int update)
{
	static const char *const req[] = { "name", "plugin", "endpoint" };
	const char *name = NULL, *summary = NULL, *plugin = NULL;
	struct system_write *w;
	char *endpoint, *err = NULL, *path;
	struct cat_system old;
	int rc;

	/* An unknown uuid is a 404 whatever the body or the plugin says. */
	if (update) {
		memset(&old, 0, sizeof old);
		if ((rc = catalog_system_get(r->d->cat, k, r->params[0],
		    &old)) != CAT_OK) {
			api_cat_error(r, rc, system_noun(k));
			return;
		}
		cat_system_clear(&old);
	}
	if (api_body_require(r, req, 3) != 0)
		return;
	if (update && cJSON_GetObjectItemCaseSensitive(r->body,
	    "summary") == NULL) {
		static const char *const m[] = { "summary" };

		api_missing(r, m, 1);
		return;
	}
	if (api_body_string(r, "name", &name) != 0 ||
	    api_body_string(r, "summary", &summary) != 0 ||
	    api_body_string(r, "plugin", &plugin) != 0 ||
	    api_check_text(r, "name", name, API_NAME_MAX) != 0 ||
	    api_check_text(r, "summary", summary, API_SUMMARY_MAX) != 0 ||
	    api_check_len(r, "plugin", plugin, API_NAME_MAX) != 0)
		return;
	if ((endpoint = system_endpoint_text(r)) == NULL)
		return;
	if (strlen(endpoint) > API_ENDPOINT_MAX) {
		free(endpoint);
		api_error(r, 400, "endpoint is too long");
		return;
	}
	if ((path = plugins_path(r->d->plugins, plugin, &err)) == NULL) {
		free(endpoint);
		api_error(r, 400, "%s", err);
		free(err);
		return;
	}
	free(path);
	/* shieldd's own limits come first: the plugin must not even run. */
	if (endpoint_check(&r->d->cfg, plugin, k == CAT_TARGET, endpoint,
	    &err) != 0) {
		free(endpoint);
		system_reasons_reply(r, err);
		free(err);
		return;
	}
	w = xcalloc(1, sizeof *w);
	w->r = r;
	w->kind = k;
	w->update = update;
	if (update)
		memcpy(w->sys.uuid, r->params[0], sizeof w->sys.uuid);
	w->sys.name = xstrdup(name);
	w->sys.summary = xstrdup(summary != NULL ? summary : "");
	w->sys.plugin = xstrdup(plugin);
	w->sys.endpoint = endpoint;
	if (plugins_validate(r->d->plugins, plugin, endpoint,
	    system_validate_cb, w, &err) != 0) {
		system_write_free(w);
		api_error(r, 400, "%s", err);
		free(err);
	}
}

/* Shared delete handler. */
static void
systems_delete(struct api_req *r, enum cat_kind k)
{
	int rc;

	rc = catalog_system_delete(r->d->cat, k, r->params[0]);
	if (rc == CAT_INUSE) {
		api_error(r, 409, k == CAT_TARGET ?
		    "target is used by a job; change or delete those jobs "
		    "first" :
		    "store is used by a job or still holds archives; change "
		    "those jobs and delete or purge its archives first");
		return;
	}
	if (rc != CAT_OK) {
		api_cat_error(r, rc, system_noun(k));
		return;
	}
	api_ok(r, "deleted");
}

#define SYSTEM_HANDLERS(kind, K)					\
static void kind##s_list(struct api_req *r) { systems_list(r, K); }	\
static void kind##s_get(struct api_req *r) { systems_get(r, K); }	\
static void kind##s_create(struct api_req *r) { systems_write(r, K, 0); } \
static void kind##s_update(struct api_req *r) { systems_write(r, K, 1); } \
static void kind##s_delete(struct api_req *r) { systems_delete(r, K); }
SYSTEM_HANDLERS(target, CAT_TARGET)
SYSTEM_HANDLERS(store, CAT_STORE)

const struct api_route api_system_routes[] = {
	{ EVHTTP_REQ_GET, "/v1/targets", targets_list, 0 },
	{ EVHTTP_REQ_POST, "/v1/targets", targets_create, API_JSON_BODY },
	{ EVHTTP_REQ_GET, "/v1/target/:uuid", targets_get, 0 },
	{ EVHTTP_REQ_PUT, "/v1/target/:uuid", targets_update, API_JSON_BODY },
	{ EVHTTP_REQ_DELETE, "/v1/target/:uuid", targets_delete, 0 },
	{ EVHTTP_REQ_GET, "/v1/stores", stores_list, 0 },
	{ EVHTTP_REQ_POST, "/v1/stores", stores_create, API_JSON_BODY },
	{ EVHTTP_REQ_GET, "/v1/store/:uuid", stores_get, 0 },
	{ EVHTTP_REQ_PUT, "/v1/store/:uuid", stores_update, API_JSON_BODY },
	{ EVHTTP_REQ_DELETE, "/v1/store/:uuid", stores_delete, 0 },
	{ 0, NULL, NULL, 0 },
};
