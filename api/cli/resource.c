/*
 * The generic halves of list, show, create, update, edit and delete.  A
 * delete refused with 409 is followed by a look at /v1/jobs filtered on
 * the object, so the message names the jobs that still use it instead of
 * leaving the user to find them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "editor.h"
#include "format.h"
#include "http.h"
#include "prompt.h"
#include "resource.h"
#include "utf8.h"
#include "xmalloc.h"

/* The item path of an object. */
char *
resource_path(const struct resource *res, const cJSON *obj)
{
	char *path;

	xasprintf(&path, "%s%s", res->item_path, format_str(obj, "uuid"));
	return path;
}

/* GET a list and print it. */
int
resource_list(const char *path, const char *plural,
    resource_print_list_fn *print)
{
	cJSON *list, *o;
	const char *uuid;

	if ((list = http_get(path, NULL)) == NULL)
		return CLI_EXIT_FAIL;
	if (cli_opts.json)
		format_json_print(list);
	else if (cli_opts.quiet) {
		cJSON_ArrayForEach(o, list)
			if ((uuid = format_str(o, "uuid")) != NULL)
				printf("%s\n", uuid);
	} else if (cJSON_GetArraySize(list) == 0)
		fprintf(stderr, "no %s\n", plural);
	else
		print(list);
	cJSON_Delete(list);
	return CLI_EXIT_OK;
}

/* Show one object. */
int
resource_show(const struct resource *res, const char *ident,
    resource_print_fn *print)
{
	cJSON *o;

	if ((o = resolve(res, ident)) == NULL)
		return CLI_EXIT_FAIL;
	if (cli_opts.json)
		format_json_print(o);
	else if (cli_opts.quiet)
		printf("%s\n", format_str(o, "uuid"));
	else
		print(o);
	cJSON_Delete(o);
	return CLI_EXIT_OK;
}

/* Explain a 409 on delete by naming the jobs that use the object. */
static void
resource_in_use(const struct resource *res, const cJSON *obj,
    const char *label, const struct http_reply *reply)
{
	cJSON *jobs = NULL, *j;
	char *path, *names = NULL, *tmp;
	const char *name;
	int n = 0;

	if (res->job_filter != NULL) {
		path = http_path("/v1/jobs", res->job_filter,
		    format_str(obj, "uuid"), (const char *)NULL);
		jobs = http_get(path, NULL);
		free(path);
	}
	cJSON_ArrayForEach(j, jobs) {
		name = format_str(j, "name");
		xasprintf(&tmp, "%s%s\"%s\"", names ? names : "",
		    names ? ", " : "", name ? name : format_str(j, "uuid"));
		free(names);
		names = tmp;
		n++;
	}
	if (n > 0)
		cli_error("%s is used by %s %s; change or delete %s first",
		    label, n == 1 ? "job" : "jobs", names,
		    n == 1 ? "it" : "them");
	else
		http_error(reply, label);
	free(names);
	cJSON_Delete(jobs);
}

/* Delete an object. */
int
resource_delete(const struct resource *res, const char *ident, int yes)
{
	struct http_reply reply;
	char *path = NULL, *label = NULL, *q = NULL;
	cJSON *o;
	int rc = CLI_EXIT_FAIL;

	if ((o = resolve(res, ident)) == NULL)
		return CLI_EXIT_FAIL;
	label = resolve_label(res, o);
	if (!yes && prompt_interactive()) {
		xasprintf(&q, "delete %s (%s)?", label, format_str(o, "uuid"));
		if (!prompt_confirm(q)) {
			cli_error("not deleted");
			goto out;
		}
	}
	path = resource_path(res, o);
	if (http_request("DELETE", path, NULL, &reply) != 0)
		goto out;
	if (reply.status == 409)
		resource_in_use(res, o, label, &reply);
	else if (reply.status < 200 || reply.status > 299)
		http_error(&reply, label);
	else {
		resource_report("deleted", label, reply.json);
		rc = CLI_EXIT_OK;
	}
	http_reply_clear(&reply);
out:
	free(q);
	free(path);
	free(label);
	cJSON_Delete(o);
	return rc;
}

/* Report a successful action. */
void
resource_report(const char *done, const char *label, const cJSON *reply)
{
	const char *task = format_str(reply, "task_uuid");

	if (cli_opts.json)
		format_json_print(reply);
	else if (cli_opts.quiet) {
		if (task != NULL)
			printf("%s\n", task);
	} else if (task != NULL)
		printf("%s %s: task %s\n", done, label, task);
	else
		printf("%s %s\n", done, label);
}

/* Create an object. */
int
resource_create(const struct resource *res, const cJSON *body)
{
	cJSON *reply;
	const char *uuid, *name = format_str(body, "name");

	if ((reply = http_call("POST", res->list_path, body, NULL)) == NULL)
		return CLI_EXIT_FAIL;
	uuid = format_str(reply, "uuid");
	if (cli_opts.json)
		format_json_print(reply);
	else if (cli_opts.quiet)
		printf("%s\n", uuid != NULL ? uuid : "");
	else {
		printf("created %s \"", res->noun);
		utf8_fputs_escaped(stdout, name != NULL ? name : "", 0);
		printf("\" (%s)\n", uuid != NULL ? uuid : "?");
	}
	cJSON_Delete(reply);
	return CLI_EXIT_OK;
}

/* PUT an object's new body. */
int
resource_put(const struct resource *res, const cJSON *obj, const cJSON *body)
{
	char *path = resource_path(res, obj), *label;
	const char *name = format_str(body, "name");
	cJSON *reply, *named;

	/* Name the object by its new name when it has one. */
	named = cJSON_Duplicate(obj, 1);
	if (name != NULL)
		cJSON_ReplaceItemInObjectCaseSensitive(named, "name",
		    cJSON_CreateString(name));
	label = resolve_label(res, named);
	reply = http_call("PUT", path, body, label);
	if (reply != NULL)
		resource_report("updated", label, reply);
	free(path);
	free(label);
	cJSON_Delete(named);
	if (reply == NULL)
		return CLI_EXIT_FAIL;
	cJSON_Delete(reply);
	return CLI_EXIT_OK;
}

/* Copy a string member from the document, else from the object. */
int
resource_doc_string(cJSON *body, const char *key, const cJSON *doc,
    const cJSON *obj, const char *objkey)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(doc, key);
	const char *s;

	if (v != NULL && !cJSON_IsString(v)) {
		cli_error("\"%s\" must be a string", key);
		return -1;
	}
	s = v != NULL ? v->valuestring : format_str(obj, objkey);
	cJSON_AddStringToObject(body, key, s != NULL ? s : "");
	return 0;
}

/* Edit an object in $EDITOR and PUT the result. */
int
resource_edit(const struct resource *res, const char *ident,
    resource_doc_fn *docfn, resource_body_fn *bodyfn)
{
	cJSON *o, *doc, *edited = NULL, *body = NULL;
	char *text = NULL, *after = NULL, *label = NULL;
	int rc = CLI_EXIT_FAIL;

	if ((o = resolve(res, ident)) == NULL)
		return CLI_EXIT_FAIL;
	doc = docfn(o);
	if ((text = cJSON_Print(doc)) == NULL)
		abort();
	label = resolve_label(res, o);
	if ((after = editor_run(text, ".json")) == NULL)
		goto out;
	if (strcmp(text, after) == 0 || (strlen(after) == strlen(text) + 1 &&
	    strncmp(text, after, strlen(text)) == 0)) {
		if (!cli_opts.quiet && !cli_opts.json)
			fprintf(stderr, "%s not changed\n", label);
		rc = CLI_EXIT_OK;
		goto out;
	}
	if (!cJSON_IsObject(edited = cJSON_Parse(after))) {
		cli_error("the edited %s is not a JSON object; nothing was "
		    "changed", res->noun);
		goto out;
	}
	if ((body = bodyfn(o, edited)) == NULL)
		goto out;
	rc = resource_put(res, o, body);
out:
	free(label);
	free(after);
	cJSON_free(text);
	cJSON_Delete(body);
	cJSON_Delete(edited);
	cJSON_Delete(doc);
	cJSON_Delete(o);
	return rc;
}
