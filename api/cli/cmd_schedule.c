/*
 * shield list|show|create|update|edit|delete schedule: when jobs run, as a
 * timespec ("daily at 4am").  shieldd checks the timespec; `shield
 * timespec` previews one offline.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "format.h"
#include "http.h"
#include "prompt.h"
#include "resource.h"
#include "table.h"

#define R	(&resource_schedule)

/* Print schedules as a table. */
static void
schedule_print_list(const cJSON *list)
{
	struct table *t = table_new(4, "UUID", "NAME", "WHEN", "SUMMARY");
	const cJSON *o;

	cJSON_ArrayForEach(o, list)
		table_add(t, format_str(o, "uuid"), format_str(o, "name"),
		    format_str(o, "when"), format_str(o, "summary"));
	table_print(t);
	table_free(t);
}

/* Print one schedule. */
static void
schedule_print(const cJSON *o)
{
	kv_print("uuid", format_str(o, "uuid"));
	kv_print("name", format_str(o, "name"));
	kv_print("summary", format_str(o, "summary"));
	kv_print("when", format_str(o, "when"));
}

/* shield list schedules [--used|--unused] */
static int
cmd_schedule_list(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTS_COMMON,
		{ "used", no_argument, NULL, 'u' },
		{ "unused", no_argument, NULL, 'U' },
		{ NULL, 0, NULL, 0 },
	};
	const char *unused = NULL;
	char *path;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "", opts)) != -1)
		unused = c == 'U' ? "t" : "f";
	if (cli_args(argc, argv, 0, "nothing") != 0)
		return CLI_EXIT_USAGE;
	path = http_path(R->list_path, "unused", unused, (const char *)NULL);
	rc = resource_list(path, "schedules", schedule_print_list);
	free(path);
	return rc;
}

/* shield show schedule ID */
static int
cmd_schedule_show(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};

	while (cli_getopt(argc, argv, "", opts) != -1)
		;
	if (cli_args(argc, argv, 1, "the schedule (uuid or name)") != 0)
		return CLI_EXIT_USAGE;
	return resource_show(R, argv[optind], schedule_print);
}

static const struct option schedule_write_opts[] = {
	CLI_OPTS_COMMON,
	{ "name", required_argument, NULL, 'n' },
	{ "when", required_argument, NULL, 'w' },
	{ "summary", required_argument, NULL, 's' },
	{ NULL, 0, NULL, 0 },
};

/* shield create schedule [--name N] [--when SPEC] [--summary S] */
static int
cmd_schedule_create(int argc, char **argv)
{
	const char *name = NULL, *when = NULL, *summary = NULL;
	char *aname = NULL, *awhen = NULL;
	cJSON *body;
	int c, rc = CLI_EXIT_FAIL;

	while ((c = cli_getopt(argc, argv, "", schedule_write_opts)) != -1) {
		if (c == 'n')
			name = optarg;
		else if (c == 'w')
			when = optarg;
		else if (c == 's')
			summary = optarg;
	}
	if (cli_args(argc, argv, 0, "nothing") != 0)
		return CLI_EXIT_USAGE;
	if (prompt_need(&name, &aname, "name", "Name") != 0 ||
	    prompt_need(&when, &awhen, "when", "When (e.g. daily at 4am)") !=
	    0)
		goto out;
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "name", name);
	cJSON_AddStringToObject(body, "summary", summary ? summary : "");
	cJSON_AddStringToObject(body, "when", when);
	rc = resource_create(R, body);
	cJSON_Delete(body);
out:
	free(aname);
	free(awhen);
	return rc;
}

/* shield update schedule ID [--name N] [--when SPEC] [--summary S] */
static int
cmd_schedule_update(int argc, char **argv)
{
	const char *name = NULL, *when = NULL, *summary = NULL;
	cJSON *o, *body;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "", schedule_write_opts)) != -1) {
		if (c == 'n')
			name = optarg;
		else if (c == 'w')
			when = optarg;
		else if (c == 's')
			summary = optarg;
	}
	if (cli_args(argc, argv, 1, "the schedule (uuid or name)") != 0)
		return CLI_EXIT_USAGE;
	if (name == NULL && when == NULL && summary == NULL) {
		cli_error("nothing to update: give --name, --when or "
		    "--summary (or use shield edit schedule)");
		return CLI_EXIT_USAGE;
	}
	if ((o = resolve(R, argv[optind])) == NULL)
		return CLI_EXIT_FAIL;
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "name", name ? name :
	    format_str(o, "name"));
	cJSON_AddStringToObject(body, "summary", summary ? summary :
	    format_str(o, "summary") ? format_str(o, "summary") : "");
	cJSON_AddStringToObject(body, "when", when ? when :
	    format_str(o, "when"));
	rc = resource_put(R, o, body);
	cJSON_Delete(body);
	cJSON_Delete(o);
	return rc;
}

/* The editable document of a schedule. */
static cJSON *
schedule_doc(const cJSON *o)
{
	cJSON *d = cJSON_CreateObject();

	cJSON_AddStringToObject(d, "name", format_str(o, "name"));
	cJSON_AddStringToObject(d, "summary", format_str(o, "summary") ?
	    format_str(o, "summary") : "");
	cJSON_AddStringToObject(d, "when", format_str(o, "when"));
	return d;
}

/* The PUT body of an edited schedule. */
static cJSON *
schedule_body(const cJSON *o, const cJSON *doc)
{
	cJSON *b = cJSON_CreateObject();

	if (resource_doc_string(b, "name", doc, o, "name") != 0 ||
	    resource_doc_string(b, "summary", doc, o, "summary") != 0 ||
	    resource_doc_string(b, "when", doc, o, "when") != 0) {
		cJSON_Delete(b);
		return NULL;
	}
	return b;
}

/* shield edit schedule ID */
static int
cmd_schedule_edit(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};

	while (cli_getopt(argc, argv, "", opts) != -1)
		;
	if (cli_args(argc, argv, 1, "the schedule (uuid or name)") != 0)
		return CLI_EXIT_USAGE;
	return resource_edit(R, argv[optind], schedule_doc, schedule_body);
}

/* shield delete schedule ID [--yes] */
static int
cmd_schedule_delete(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTS_COMMON,
		{ "yes", no_argument, NULL, 'y' },
		{ NULL, 0, NULL, 0 },
	};
	int yes = 0;

	while (cli_getopt(argc, argv, "y", opts) != -1)
		yes = 1;
	if (cli_args(argc, argv, 1, "the schedule (uuid or name)") != 0)
		return CLI_EXIT_USAGE;
	return resource_delete(R, argv[optind], yes);
}

const struct cli_command cmd_schedule_commands[] = {
	{ "list schedule", cmd_schedule_list, NULL, NULL,
	  "list schedules [--used | --unused]",
	  "list schedules",
	  "Lists schedules with their timespec.  --used shows only those a "
	  "job\n"
	  "uses, --unused only those none does.  -q prints only uuids.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield list schedules\n"
	  "  UUID                                  NAME     WHEN            "
	  "SUMMARY\n"
	  "  5f0c...                               nightly  daily at 04:00  -\n"
	  "  $ shield list schedules --unused -q | xargs -n1 shield delete "
	  "schedule --yes\n" },
	{ "show schedule", cmd_schedule_show, NULL, NULL,
	  "show schedule SCHEDULE",
	  "show one schedule",
	  "SCHEDULE is a uuid, a unique uuid prefix or a unique name.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield show schedule nightly\n"
	  "  $ shield show schedule 5f0c --json\n" },
	{ "create schedule", cmd_schedule_create, NULL, NULL,
	  "create schedule --name NAME --when SPEC [--summary TEXT]",
	  "create a schedule",
	  "Creates a schedule.  SPEC is a timespec such as \"daily at 4am\",\n"
	  "\"every 4 hours from 0:15\", \"sundays at 23:00\" or \"monthly at "
	  "3:00\n"
	  "on 1st\" (see shield help timespec).  On a terminal, missing "
	  "values\n"
	  "are asked for.\n"
	  "\n"
	  "Options:\n"
	  "  --name NAME     the schedule's unique name\n"
	  "  --when SPEC     when jobs using it run\n"
	  "  --summary TEXT  a description (default empty)\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield create schedule --name nightly --when 'daily at 4am'\n"
	  "  created schedule \"nightly\" (5f0c2f1e-...)\n" },
	{ "update schedule", cmd_schedule_update, NULL, NULL,
	  "update schedule SCHEDULE [--name NAME] [--when SPEC] "
	  "[--summary TEXT]",
	  "change a schedule's name, timespec or summary",
	  "Changes only what is given; the rest stays.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield update schedule nightly --when 'daily at 2am'\n" },
	{ "edit schedule", cmd_schedule_edit, NULL, NULL,
	  "edit schedule SCHEDULE",
	  "edit a schedule as JSON in $EDITOR",
	  "Opens the schedule's name, summary and when in $VISUAL or $EDITOR\n"
	  "(default vi) as JSON and sends the result when the editor exits\n"
	  "successfully.  Nothing is sent when the file is left unchanged.\n"
	  "\n"
	  "Examples:\n"
	  "  $ EDITOR=nano shield edit schedule nightly\n" },
	{ "delete schedule", cmd_schedule_delete, NULL, NULL,
	  "delete schedule SCHEDULE [--yes]",
	  "delete a schedule no job uses",
	  "Asks for confirmation on a terminal unless --yes (-y).  A schedule\n"
	  "a job uses cannot be deleted; the error names those jobs.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield delete schedule nightly --yes\n"
	  "  shield: schedule \"nightly\" is used by job \"db\"; change or "
	  "delete it first\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};
