/*
 * shield list|show|cancel task: what shieldd is doing and has done.  By
 * default the list holds only pending and running tasks, what a person
 * checking on shieldd wants; --all and --status widen it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "format.h"
#include "http.h"
#include "resource.h"
#include "table.h"
#include "utf8.h"
#include "xmalloc.h"

#define R	(&resource_task)

/* Print tasks as a table. */
static void
task_print_list(const cJSON *list)
{
	struct table *t;
	const cJSON *o;

	t = table_new(8, "UUID", "TYPE", "STATUS", "OWNER", "REQUESTED AT",
	    "STARTED AT", "STOPPED AT", "ERROR");
	cJSON_ArrayForEach(o, list)
		table_add(t, format_str(o, "uuid"), format_str(o, "type"),
		    format_str(o, "status"), format_str(o, "owner"),
		    format_str(o, "requested_at"), format_str(o, "started_at"),
		    format_str(o, "stopped_at"), format_str(o, "error"));
	table_print(t);
	table_free(t);
}

/* Print a multi-line text indented under a heading, control bytes escaped. */
static void
task_print_text(const char *heading, const char *raw)
{
	const char *p, *nl;
	char *text;

	if (raw == NULL || *raw == '\0')
		return;
	text = utf8_escape(raw, UTF8_KEEP_NEWLINE | UTF8_KEEP_TAB);
	printf("\n%s:\n", heading);
	for (p = text; *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL) {
			printf("  %s\n", p);
			break;
		}
		printf("  %.*s\n", (int)(nl - p), p);
	}
	free(text);
}

/* Print one task. */
static void
task_print(const cJSON *o)
{
	char size[FORMAT_BUF];

	format_bytes(format_num(o, "bytes", 0), size);
	kv_print("uuid", format_str(o, "uuid"));
	kv_print("type", format_str(o, "type"));
	kv_print("status", format_str(o, "status"));
	kv_print("owner", format_str(o, "owner"));
	kv_print("job", format_str(o, "job_uuid"));
	kv_print("archive", format_str(o, "archive_uuid"));
	kv_print("target", format_str(o, "target_uuid"));
	kv_print("store", format_str(o, "store_uuid"));
	kv_print("requested at", format_str(o, "requested_at"));
	kv_print("started at", format_str(o, "started_at"));
	kv_print("stopped at", format_str(o, "stopped_at"));
	kv_print("bytes", size);
	kv_print("error", format_str(o, "error"));
	task_print_text("log", format_str(o, "log"));
	task_print_text("debug", format_str(o, "debug"));
}

/* Append the tasks of one GET to all. */
static int
task_fetch(cJSON *all, const char *status, const char *limit,
    const char *job, const char *target)
{
	cJSON *list, *o;
	char *path;

	path = http_path(R->list_path, "status", status, "limit", limit,
	    "job", job, "target", target, (const char *)NULL);
	list = http_get(path, NULL);
	free(path);
	if (list == NULL)
		return -1;
	while ((o = cJSON_DetachItemFromArray(list, 0)) != NULL)
		cJSON_AddItemToArray(all, o);
	cJSON_Delete(list);
	return 0;
}

/* shield list tasks [--all] [--status S] [--limit N] [--job J] [--target T] */
static int
cmd_task_list(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTS_COMMON,
		{ "all", no_argument, NULL, 'a' },
		{ "status", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'l' },
		{ "job", required_argument, NULL, 'j' },
		{ "target", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *status = NULL, *limit = NULL, *job = NULL, *target = NULL;
	char juuid[RESOLVE_UUID_LEN], tuuid[RESOLVE_UUID_LEN];
	cJSON *all, *o;
	int c, every = 0, rc = CLI_EXIT_FAIL;

	while ((c = cli_getopt(argc, argv, "a", opts)) != -1) {
		switch (c) {
		case 'a':
			every = 1;
			break;
		case 's':
			status = optarg;
			break;
		case 'l':
			limit = optarg;
			break;
		case 'j':
			job = optarg;
			break;
		case 't':
			target = optarg;
			break;
		}
	}
	if (cli_args(argc, argv, 0, "nothing") != 0)
		return CLI_EXIT_USAGE;
	if ((job != NULL && resolve_uuid(&resource_job, job, juuid) != 0) ||
	    (target != NULL &&
	    resolve_uuid(&resource_target, target, tuuid) != 0))
		return CLI_EXIT_FAIL;
	job = job != NULL ? juuid : NULL;
	target = target != NULL ? tuuid : NULL;
	all = cJSON_CreateArray();
	if (status != NULL || every) {
		if (task_fetch(all, status, limit, job, target) != 0)
			goto out;
	} else if (task_fetch(all, "running", limit, job, target) != 0 ||
	    task_fetch(all, "pending", limit, job, target) != 0)
		goto out;
	if (cli_opts.json)
		format_json_print(all);
	else if (cli_opts.quiet) {
		cJSON_ArrayForEach(o, all)
			printf("%s\n", format_str(o, "uuid"));
	} else if (cJSON_GetArraySize(all) == 0)
		fprintf(stderr, "no %s tasks\n", every ? "" :
		    status != NULL ? status : "pending or running");
	else
		task_print_list(all);
	rc = CLI_EXIT_OK;
out:
	cJSON_Delete(all);
	return rc;
}

/* shield show task ID [--debug] */
static int
cmd_task_show(int argc, char **argv)
{
	/* --debug here is the task's debug log, as in the seed's usage. */
	static const struct option opts[] = {
		{ "debug", no_argument, NULL, 'd' },
		CLI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	char uuid[RESOLVE_UUID_LEN], *path;
	cJSON *o;
	int debug = 0;

	while (cli_getopt(argc, argv, "", opts) != -1)
		debug = 1;
	if (cli_args(argc, argv, 1, "the task (uuid or prefix)") != 0)
		return CLI_EXIT_USAGE;
	if (resolve_uuid(R, argv[optind], uuid) != 0)
		return CLI_EXIT_FAIL;
	xasprintf(&path, "%s%s%s", R->item_path, uuid, debug ? "?debug" : "");
	o = http_get(path, NULL);
	free(path);
	if (o == NULL)
		return CLI_EXIT_FAIL;
	if (cli_opts.json)
		format_json_print(o);
	else if (cli_opts.quiet)
		printf("%s\n", format_str(o, "uuid"));
	else
		task_print(o);
	cJSON_Delete(o);
	return CLI_EXIT_OK;
}

/* shield cancel task ID */
static int
cmd_task_cancel(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	struct http_reply reply;
	char *path, *label;
	cJSON *o;
	int rc = CLI_EXIT_FAIL;

	while (cli_getopt(argc, argv, "", opts) != -1)
		;
	if (cli_args(argc, argv, 1, "the task (uuid or prefix)") != 0)
		return CLI_EXIT_USAGE;
	if ((o = resolve(R, argv[optind])) == NULL)
		return CLI_EXIT_FAIL;
	label = resolve_label(R, o);
	path = resource_path(R, o);
	if (http_request("DELETE", path, NULL, &reply) == 0) {
		if (reply.status == 409)
			cli_error("%s has already finished (%s)", label,
			    format_str(o, "status") ? format_str(o, "status") :
			    "done");
		else if (reply.status != 200)
			http_error(&reply, label);
		else {
			resource_report("canceled", label, reply.json);
			rc = CLI_EXIT_OK;
		}
		http_reply_clear(&reply);
	}
	free(path);
	free(label);
	cJSON_Delete(o);
	return rc;
}

const struct cli_command cmd_task_commands[] = {
	{ "list task", cmd_task_list, NULL, NULL,
	  "list tasks [--all] [--status S] [--limit N] [--job J] "
	  "[--target T]",
	  "list running and pending tasks (--all: every task)",
	  "Lists tasks (backups, restores, purges), newest first.  Without\n"
	  "options, only those running or waiting to run.\n"
	  "\n"
	  "Options:\n"
	  "  -a, --all       every task, whatever its status\n"
	  "  --status S      pending, running, done, failed or canceled\n"
	  "  --limit N       at most N tasks (of each status by default); 1 to\n"
	  "                  1000, 100 when not given\n"
	  "  --job J         only the tasks of job J (uuid, prefix or name)\n"
	  "  --target T      only the tasks of target T\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield list tasks\n"
	  "  $ shield list tasks --status failed --limit 5\n" },
	{ "show task", cmd_task_show, NULL, NULL, "show task TASK [--debug]",
	  "show a task and its log",
	  "TASK is a uuid or a unique uuid prefix.  --debug adds the task's\n"
	  "debug log (use shield --debug for the HTTP exchange instead).\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield show task 4be0\n"
	  "  $ shield show task 4be0 --debug --json | jq -r .debug\n" },
	{ "cancel task", cmd_task_cancel, NULL, NULL, "cancel task TASK",
	  "cancel a pending or running task",
	  "Kills the task's processes; it ends as canceled.  A task that has\n"
	  "already finished cannot be canceled.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield cancel task 4be0\n"
	  "  canceled task 4be0c8a2\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};
