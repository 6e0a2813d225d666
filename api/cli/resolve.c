/*
 * Name and prefix resolution.  The API addresses objects by uuid only, so
 * anything else is looked up in the kind's list: an exact name first (names
 * are what people remember), then a uuid prefix.  Ambiguity is never
 * guessed away: the error lists every candidate so the user can pick.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "format.h"
#include "http.h"
#include "resolve.h"
#include "utf8.h"
#include "xmalloc.h"

#define RESOLVE_SHOW_MAX	8

const struct resource resource_schedule = {
	"schedule", "/v1/schedules", "/v1/schedule/", "schedule", 1, 0 };
const struct resource resource_retention = {
	"retention policy", "/v1/retention", "/v1/retention/", "retention",
	1, 0 };
const struct resource resource_target = {
	"target", "/v1/targets", "/v1/target/", "target", 1, 0 };
const struct resource resource_store = {
	"store", "/v1/stores", "/v1/store/", "store", 1, 0 };
const struct resource resource_job = {
	"job", "/v1/jobs", "/v1/job/", NULL, 1, 0 };
const struct resource resource_archive = {
	"archive", "/v1/archives", "/v1/archive/", NULL, 0, 10000 };
const struct resource resource_task = {
	"task", "/v1/tasks", "/v1/task/", NULL, 0, 1000 };

/* True if s has the shape of a uuid. */
static int
resolve_is_uuid(const char *s)
{
	size_t i;

	if (strlen(s) != 36)
		return 0;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (strchr("0123456789abcdefABCDEF", s[i]) == NULL)
			return 0;
	}
	return 1;
}

/* How messages name an object. */
char *
resolve_label(const struct resource *res, const cJSON *obj)
{
	const char *name = format_str(obj, "name");
	const char *uuid = format_str(obj, "uuid");
	char *out, *safe;

	if (res->named && name != NULL && *name != '\0') {
		safe = utf8_escape(name, 0);
		xasprintf(&out, "%s \"%s\"", res->noun, safe);
		free(safe);
	} else
		xasprintf(&out, "%s %.8s", res->noun, uuid != NULL ? uuid :
		    "?");
	return out;
}

/* Print the ambiguity error with the candidates in matches. */
static void
resolve_ambiguous(const struct resource *res, const char *ident,
    cJSON *const *matches, size_t n)
{
	char *list = NULL, *tmp;
	const char *name, *uuid;
	size_t i;

	for (i = 0; i < n && i < RESOLVE_SHOW_MAX; i++) {
		name = format_str(matches[i], "name");
		uuid = format_str(matches[i], "uuid");
		if (res->named && name != NULL)
			xasprintf(&tmp, "%s%s%s (%s)", list ? list : "",
			    list ? ", " : "", name, uuid ? uuid : "?");
		else
			xasprintf(&tmp, "%s%s%s", list ? list : "",
			    list ? ", " : "", uuid ? uuid : "?");
		free(list);
		list = tmp;
	}
	cli_error("%s \"%s\" is ambiguous; it matches %zu: %s%s; give more "
	    "of the uuid", res->noun, ident, n, list,
	    n > RESOLVE_SHOW_MAX ? ", ..." : "");
	free(list);
}

/* The whole list of a resource, page by page if it is paged. */
static cJSON *
resolve_list(const struct resource *res)
{
	cJSON *all, *list, *o;
	char *path;
	int offset = 0, n;

	if (res->page == 0)
		return http_get(res->list_path, NULL);
	all = cJSON_CreateArray();
	do {
		xasprintf(&path, "%s?limit=%d&offset=%d", res->list_path,
		    res->page, offset);
		list = http_get(path, NULL);
		free(path);
		if (list == NULL) {
			cJSON_Delete(all);
			return NULL;
		}
		n = cJSON_GetArraySize(list);
		while ((o = cJSON_DetachItemFromArray(list, 0)) != NULL)
			cJSON_AddItemToArray(all, o);
		cJSON_Delete(list);
		offset += n;
	} while (n == res->page);
	return all;
}

/* Find the one object ident names. */
cJSON *
resolve(const struct resource *res, const char *ident)
{
	cJSON *list, *o, *found = NULL, **matches = NULL;
	const char *name, *uuid;
	char *path, *what;
	size_t n = 0, len = strlen(ident);
	int pass;

	xasprintf(&what, "%s \"%s\"", res->noun, ident);
	if (*ident == '\0') {
		cli_error("%s: an empty name or uuid", res->noun);
		free(what);
		return NULL;
	}
	if (resolve_is_uuid(ident)) {
		xasprintf(&path, "%s%s", res->item_path, ident);
		found = http_get(path, what);
		free(path);
		free(what);
		return found;
	}
	if ((list = resolve_list(res)) == NULL) {
		free(what);
		return NULL;
	}
	/* Pass 0: exact names; pass 1: uuid prefixes. */
	for (pass = res->named ? 0 : 1; pass < 2 && n == 0; pass++) {
		cJSON_ArrayForEach(o, list) {
			name = format_str(o, "name");
			uuid = format_str(o, "uuid");
			if (pass == 0 ? (name == NULL ||
			    strcmp(name, ident) != 0) :
			    (uuid == NULL || strncasecmp(uuid, ident,
			    len) != 0))
				continue;
			matches = xreallocarray(matches, n + 1,
			    sizeof *matches);
			matches[n++] = o;
		}
	}
	if (n == 0)
		cli_error("%s not found", what);
	else if (n > 1)
		resolve_ambiguous(res, ident, matches, n);
	else
		found = cJSON_Duplicate(matches[0], 1);
	free(matches);
	cJSON_Delete(list);
	free(what);
	return found;
}

/* resolve(), keeping only the uuid. */
int
resolve_uuid(const struct resource *res, const char *ident,
    char uuid[RESOLVE_UUID_LEN])
{
	cJSON *o = resolve(res, ident);
	const char *u;

	if (o == NULL)
		return -1;
	if ((u = format_str(o, "uuid")) == NULL) {
		cli_error("%s \"%s\" has no uuid in shieldd's answer",
		    res->noun, ident);
		cJSON_Delete(o);
		return -1;
	}
	snprintf(uuid, RESOLVE_UUID_LEN, "%s", u);
	cJSON_Delete(o);
	return 0;
}
