/*
 * shield list|show|edit|delete|restore archive: what backups have made.
 * Archives have no names, so they are named by uuid or a unique prefix;
 * the list can be narrowed by target, store, status and days, which may be
 * written as dates or as words ("yesterday", "3 days ago").
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "editor.h"
#include "follow.h"
#include "format.h"
#include "http.h"
#include "resource.h"
#include "table.h"
#include "xmalloc.h"

#define R	(&resource_archive)

/* Print archives as a table. */
static void
archive_print_list(const cJSON *list)
{
	struct table *t;
	char size[FORMAT_BUF];
	const cJSON *o;

	t = table_new(8, "UUID", "TAKEN AT", "TARGET", "STORE", "STATUS",
	    "SIZE", "EXPIRES AT", "NOTES");
	cJSON_ArrayForEach(o, list) {
		format_bytes(format_num(o, "size", 0), size);
		table_add(t, format_str(o, "uuid"), format_str(o, "taken_at"),
		    format_str(o, "target_name"), format_str(o, "store_name"),
		    format_str(o, "status"), size,
		    format_str(o, "expires_at"), format_str(o, "notes"));
	}
	table_print(t);
	table_free(t);
}

/* Print one archive. */
static void
archive_print(const cJSON *o)
{
	char size[FORMAT_BUF], line[256];

	format_bytes(format_num(o, "size", 0), size);
	kv_print("uuid", format_str(o, "uuid"));
	kv_print("status", format_str(o, "status"));
	kv_print("taken at", format_str(o, "taken_at"));
	kv_print("expires at", format_str(o, "expires_at"));
	snprintf(line, sizeof line, "%s (%.0f bytes)", size,
	    format_num(o, "size", 0));
	kv_print("size", line);
	kv_print("sha256", format_str(o, "sha256"));
	snprintf(line, sizeof line, "%s (%s), %s",
	    format_str(o, "target_name") ? format_str(o, "target_name") : "-",
	    format_str(o, "target_uuid") ? format_str(o, "target_uuid") : "-",
	    format_str(o, "target_plugin") ? format_str(o, "target_plugin") :
	    "-");
	kv_print("target", line);
	snprintf(line, sizeof line, "%s (%s), %s",
	    format_str(o, "store_name") ? format_str(o, "store_name") : "-",
	    format_str(o, "store_uuid") ? format_str(o, "store_uuid") : "-",
	    format_str(o, "store_plugin") ? format_str(o, "store_plugin") :
	    "-");
	kv_print("store", line);
	kv_print("store key", format_str(o, "store_key"));
	kv_print("job", format_str(o, "job_uuid"));
	kv_print("notes", format_str(o, "notes"));
}

/* Turn a --after/--before value into YYYYMMDD; -1 after printing. */
static int
archive_day(const char *opt, const char *s, char out[9])
{
	if (format_parse_day(s, time(NULL), out) == 0)
		return 0;
	cli_error("--%s wants a date (YYYY-MM-DD, YYYYMMDD, today, "
	    "yesterday, N days ago), not '%s'", opt, s);
	return -1;
}

/* shield list archives [filters] */
static int
cmd_archive_list(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTS_COMMON,
		{ "target", required_argument, NULL, 't' },
		{ "store", required_argument, NULL, 's' },
		{ "after", required_argument, NULL, 'a' },
		{ "before", required_argument, NULL, 'b' },
		{ "status", required_argument, NULL, 'S' },
		{ "limit", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	const char *target = NULL, *store = NULL, *after = NULL;
	const char *before = NULL, *status = NULL, *limit = NULL;
	char tuuid[RESOLVE_UUID_LEN], suuid[RESOLVE_UUID_LEN], *path;
	char aday[9], bday[9];
	int c, rc;

	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		switch (c) {
		case 't':
			target = optarg;
			break;
		case 's':
			store = optarg;
			break;
		case 'a':
			after = optarg;
			break;
		case 'b':
			before = optarg;
			break;
		case 'S':
			status = optarg;
			break;
		case 'l':
			limit = optarg;
			break;
		}
	}
	if (cli_args(argc, argv, 0, "nothing") != 0)
		return CLI_EXIT_USAGE;
	if ((after != NULL && archive_day("after", after, aday) != 0) ||
	    (before != NULL && archive_day("before", before, bday) != 0))
		return CLI_EXIT_USAGE;
	if ((target != NULL &&
	    resolve_uuid(&resource_target, target, tuuid) != 0) ||
	    (store != NULL && resolve_uuid(&resource_store, store, suuid) != 0))
		return CLI_EXIT_FAIL;
	path = http_path(R->list_path, "target", target ? tuuid : NULL,
	    "store", store ? suuid : NULL, "after", after ? aday : NULL,
	    "before", before ? bday : NULL, "status", status, "limit", limit,
	    (const char *)NULL);
	rc = resource_list(path, "archives", archive_print_list);
	free(path);
	return rc;
}

/* Parse the arguments of commands that take just an archive. */
static int
archive_one(int argc, char **argv, int *yes)
{
	static const struct option opts[] = {
		CLI_OPTS_COMMON,
		{ "yes", no_argument, NULL, 'y' },
		{ NULL, 0, NULL, 0 },
	};

	while (cli_getopt(argc, argv, "y", opts) != -1)
		if (yes != NULL)
			*yes = 1;
	return cli_args(argc, argv, 1, "the archive (uuid or prefix)");
}

/* shield show archive ID */
static int
cmd_archive_show(int argc, char **argv)
{
	if (archive_one(argc, argv, NULL) != 0)
		return CLI_EXIT_USAGE;
	return resource_show(R, argv[optind], archive_print);
}

/* shield delete archive ID [--yes] */
static int
cmd_archive_delete(int argc, char **argv)
{
	int yes = 0;

	if (archive_one(argc, argv, &yes) != 0)
		return CLI_EXIT_USAGE;
	return resource_delete(R, argv[optind], yes);
}

/* shield edit archive ID [--notes TEXT] */
static int
cmd_archive_edit(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTS_COMMON,
		{ "notes", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	const char *notes = NULL, *old;
	char *edited = NULL, *text;
	cJSON *o, *body;
	size_t len;
	int rc = CLI_EXIT_FAIL;

	while (cli_getopt(argc, argv, "", opts) != -1)
		notes = optarg;
	if (cli_args(argc, argv, 1, "the archive (uuid or prefix)") != 0)
		return CLI_EXIT_USAGE;
	if ((o = resolve(R, argv[optind])) == NULL)
		return CLI_EXIT_FAIL;
	if (notes == NULL) {
		old = format_str(o, "notes");
		xasprintf(&text, "%s\n", old != NULL ? old : "");
		edited = editor_run(text, ".txt");
		free(text);
		if (edited == NULL)
			goto out;
		/* One trailing newline is the editor's, not the notes'. */
		len = strlen(edited);
		while (len > 0 && (edited[len - 1] == '\n' ||
		    edited[len - 1] == '\r'))
			edited[--len] = '\0';
		if (strcmp(edited, old != NULL ? old : "") == 0) {
			cli_note("notes of archive %.8s not changed",
			    format_str(o, "uuid"));
			rc = CLI_EXIT_OK;
			goto out;
		}
		notes = edited;
	}
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "notes", notes);
	rc = resource_put(R, o, body);
	cJSON_Delete(body);
out:
	free(edited);
	cJSON_Delete(o);
	return rc;
}

/* shield restore archive ID [--to TARGET] [--wait] */
static int
cmd_archive_restore(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTS_COMMON,
		{ "to", required_argument, NULL, 't' },
		{ "wait", no_argument, NULL, 'w' },
		{ "yes", no_argument, NULL, 'y' },
		{ NULL, 0, NULL, 0 },
	};
	const char *to = NULL, *task;
	char tuuid[RESOLVE_UUID_LEN], *path, *label;
	cJSON *o, *body, *reply;
	int c, wait = 0, rc = CLI_EXIT_FAIL;

	while ((c = cli_getopt(argc, argv, "wy", opts)) != -1) {
		if (c == 't')
			to = optarg;
		else if (c == 'w')
			wait = 1;
	}
	if (cli_args(argc, argv, 1, "the archive (uuid or prefix)") != 0)
		return CLI_EXIT_USAGE;
	if ((o = resolve(R, argv[optind])) == NULL)
		return CLI_EXIT_FAIL;
	body = cJSON_CreateObject();
	if (to != NULL) {
		if (resolve_uuid(&resource_target, to, tuuid) != 0)
			goto out;
		cJSON_AddStringToObject(body, "target", tuuid);
	}
	label = resolve_label(R, o);
	xasprintf(&path, "%s%s/restore", R->item_path, format_str(o, "uuid"));
	reply = http_call("POST", path, body, label);
	free(path);
	free(label);
	if (reply == NULL)
		goto out;
	if ((task = format_str(reply, "task_uuid")) == NULL)
		cli_error("shieldd did not say which task restores it");
	else if (wait) {
		if (cli_opts.quiet)
			printf("%s\n", task);
		else if (!cli_opts.json)
			printf("task %s\n", task);
		fflush(stdout);
		rc = follow_task(task);
	} else {
		if (cli_opts.json)
			format_json_print(reply);
		else
			printf("%s\n", task);
		rc = CLI_EXIT_OK;
	}
	cJSON_Delete(reply);
out:
	cJSON_Delete(body);
	cJSON_Delete(o);
	return rc;
}

const struct cli_command cmd_archive_commands[] = {
	{ "list archive", cmd_archive_list, NULL, NULL,
	  "list archives [--target T] [--store S] [--after DAY] "
	  "[--before DAY] [--status S] [--limit N]",
	  "list archives, newest first",
	  "Lists archives with when they were taken (UTC), their target and\n"
	  "store, status (valid, expired or purged), size and expiry.\n"
	  "\n"
	  "Options:\n"
	  "  --target T      only archives of target T (uuid, prefix or name)\n"
	  "  --store S       only archives in store S\n"
	  "  --after DAY     only archives taken on or after DAY\n"
	  "  --before DAY    only archives taken before DAY\n"
	  "  --status S      valid, expired or purged\n"
	  "  --limit N       at most N archives: 1 to 10000, 1000 when not\n"
	  "                  given\n"
	  "\n"
	  "DAY is YYYY-MM-DD, YYYYMMDD, today, yesterday, or \"N days ago\" /\n"
	  "\"N weeks ago\", as UTC days.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield list archives --target www --after '7 days ago'\n"
	  "  $ shield list archives --status valid --limit 1 -q\n" },
	{ "show archive", cmd_archive_show, NULL, NULL, "show archive ARCHIVE",
	  "show an archive",
	  "ARCHIVE is a uuid or a unique uuid prefix.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield show archive 3f2a\n" },
	{ "edit archive", cmd_archive_edit, NULL, NULL,
	  "edit archive ARCHIVE [--notes TEXT]",
	  "change an archive's notes",
	  "Sets the archive's notes to TEXT, or without --notes opens them in\n"
	  "$VISUAL or $EDITOR (default vi) as plain text.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield edit archive 3f2a --notes 'before the 2.0 upgrade'\n" },
	{ "delete archive", cmd_archive_delete, NULL, NULL,
	  "delete archive ARCHIVE [--yes]",
	  "remove an archive from its store",
	  "Starts a task that removes the archive's data from the store and\n"
	  "prints its uuid; the archive stays listed as purged.  Asks for\n"
	  "confirmation on a terminal unless --yes (-y).\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield delete archive 3f2a --yes\n" },
	{ "restore archive", cmd_archive_restore, NULL, NULL,
	  "restore archive ARCHIVE [--to TARGET] [--wait]",
	  "restore an archive to its target or another",
	  "Starts a restore of the archive into the target it was taken from,\n"
	  "or into TARGET (uuid, prefix or name), and prints the task's uuid.\n"
	  "With --wait (-w), follows the task, streaming its log, and exits 0\n"
	  "only if the restore succeeded.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield restore archive 3f2a --wait\n"
	  "  $ shield restore archive 3f2a --to www-staging\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};
