/*
 * shield list|show|create|update|edit|delete retention policy: how long a
 * job's archives are kept.  The API counts seconds (at least an hour); the
 * CLI also takes and shows units ("30d", "2w", "12 hours").
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

#define R	(&resource_retention)

/* Print retention policies as a table. */
static void
retention_print_list(const cJSON *list)
{
	struct table *t = table_new(4, "UUID", "NAME", "EXPIRES", "SUMMARY");
	char buf[FORMAT_BUF];
	const cJSON *o;

	cJSON_ArrayForEach(o, list) {
		format_duration((int64_t)format_num(o, "expires", 0), buf);
		table_add(t, format_str(o, "uuid"), format_str(o, "name"), buf,
		    format_str(o, "summary"));
	}
	table_print(t);
	table_free(t);
}

/* Print one retention policy. */
static void
retention_print(const cJSON *o)
{
	char buf[FORMAT_BUF], line[FORMAT_BUF * 2];
	double secs = format_num(o, "expires", 0);

	format_duration((int64_t)secs, buf);
	snprintf(line, sizeof line, "%s (%.0f seconds)", buf, secs);
	kv_print("uuid", format_str(o, "uuid"));
	kv_print("name", format_str(o, "name"));
	kv_print("summary", format_str(o, "summary"));
	kv_print("expires", line);
}

/* Parse an --expires value; -1 after printing. */
static int
retention_expires(const char *s, int64_t *out)
{
	if (format_parse_duration(s, out) == 0)
		return 0;
	cli_error("--expires wants a duration like 3600, 12h, 30d or 2w, not "
	    "'%s'", s);
	return -1;
}

/* shield list retention policies [--used|--unused] */
static int
cmd_retention_list(int argc, char **argv)
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
	rc = resource_list(path, "retention policies", retention_print_list);
	free(path);
	return rc;
}

/* shield show retention policy ID */
static int
cmd_retention_show(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};

	while (cli_getopt(argc, argv, "", opts) != -1)
		;
	if (cli_args(argc, argv, 1, "the retention policy (uuid or name)") !=
	    0)
		return CLI_EXIT_USAGE;
	return resource_show(R, argv[optind], retention_print);
}

static const struct option retention_write_opts[] = {
	CLI_OPTS_COMMON,
	{ "name", required_argument, NULL, 'n' },
	{ "expires", required_argument, NULL, 'e' },
	{ "summary", required_argument, NULL, 's' },
	{ NULL, 0, NULL, 0 },
};

/* shield create retention policy [--name N] [--expires D] [--summary S] */
static int
cmd_retention_create(int argc, char **argv)
{
	const char *name = NULL, *expires = NULL, *summary = NULL;
	char *aname = NULL, *aexp = NULL;
	int64_t secs;
	cJSON *body;
	int c, rc = CLI_EXIT_FAIL;

	while ((c = cli_getopt(argc, argv, "", retention_write_opts)) != -1) {
		if (c == 'n')
			name = optarg;
		else if (c == 'e')
			expires = optarg;
		else if (c == 's')
			summary = optarg;
	}
	if (cli_args(argc, argv, 0, "nothing") != 0)
		return CLI_EXIT_USAGE;
	if (prompt_need(&name, &aname, "name", "Name") != 0 ||
	    prompt_need(&expires, &aexp, "expires",
	    "Keep archives for (e.g. 30d)") != 0)
		goto out;
	if (retention_expires(expires, &secs) != 0) {
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "name", name);
	cJSON_AddStringToObject(body, "summary", summary ? summary : "");
	cJSON_AddNumberToObject(body, "expires", (double)secs);
	rc = resource_create(R, body);
	cJSON_Delete(body);
out:
	free(aname);
	free(aexp);
	return rc;
}

/* shield update retention policy ID [--name] [--expires] [--summary] */
static int
cmd_retention_update(int argc, char **argv)
{
	const char *name = NULL, *expires = NULL, *summary = NULL;
	int64_t secs = 0;
	cJSON *o, *body;
	int c, rc;

	while ((c = cli_getopt(argc, argv, "", retention_write_opts)) != -1) {
		if (c == 'n')
			name = optarg;
		else if (c == 'e')
			expires = optarg;
		else if (c == 's')
			summary = optarg;
	}
	if (cli_args(argc, argv, 1, "the retention policy (uuid or name)") !=
	    0)
		return CLI_EXIT_USAGE;
	if (name == NULL && expires == NULL && summary == NULL) {
		cli_error("nothing to update: give --name, --expires or "
		    "--summary (or use shield edit retention policy)");
		return CLI_EXIT_USAGE;
	}
	if (expires != NULL && retention_expires(expires, &secs) != 0)
		return CLI_EXIT_USAGE;
	if ((o = resolve(R, argv[optind])) == NULL)
		return CLI_EXIT_FAIL;
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "name", name ? name :
	    format_str(o, "name"));
	cJSON_AddStringToObject(body, "summary", summary ? summary :
	    format_str(o, "summary") ? format_str(o, "summary") : "");
	cJSON_AddNumberToObject(body, "expires", expires ? (double)secs :
	    format_num(o, "expires", 0));
	rc = resource_put(R, o, body);
	cJSON_Delete(body);
	cJSON_Delete(o);
	return rc;
}

/* The editable document of a retention policy. */
static cJSON *
retention_doc(const cJSON *o)
{
	cJSON *d = cJSON_CreateObject();

	cJSON_AddStringToObject(d, "name", format_str(o, "name"));
	cJSON_AddStringToObject(d, "summary", format_str(o, "summary") ?
	    format_str(o, "summary") : "");
	cJSON_AddNumberToObject(d, "expires", format_num(o, "expires", 0));
	return d;
}

/* The PUT body of an edited retention policy. */
static cJSON *
retention_body(const cJSON *o, const cJSON *doc)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(doc, "expires");
	cJSON *b = cJSON_CreateObject();
	int64_t secs;

	if (resource_doc_string(b, "name", doc, o, "name") != 0 ||
	    resource_doc_string(b, "summary", doc, o, "summary") != 0)
		goto fail;
	if (cJSON_IsNumber(e))
		cJSON_AddNumberToObject(b, "expires", e->valuedouble);
	else if (cJSON_IsString(e)) {
		if (retention_expires(e->valuestring, &secs) != 0)
			goto fail;
		cJSON_AddNumberToObject(b, "expires", (double)secs);
	} else if (e == NULL)
		cJSON_AddNumberToObject(b, "expires",
		    format_num(o, "expires", 0));
	else {
		cli_error("\"expires\" must be seconds or a duration like "
		    "\"30d\"");
		goto fail;
	}
	return b;
fail:
	cJSON_Delete(b);
	return NULL;
}

/* shield edit retention policy ID */
static int
cmd_retention_edit(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};

	while (cli_getopt(argc, argv, "", opts) != -1)
		;
	if (cli_args(argc, argv, 1, "the retention policy (uuid or name)") !=
	    0)
		return CLI_EXIT_USAGE;
	return resource_edit(R, argv[optind], retention_doc, retention_body);
}

/* shield delete retention policy ID [--yes] */
static int
cmd_retention_delete(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTS_COMMON,
		{ "yes", no_argument, NULL, 'y' },
		{ NULL, 0, NULL, 0 },
	};
	int yes = 0;

	while (cli_getopt(argc, argv, "y", opts) != -1)
		yes = 1;
	if (cli_args(argc, argv, 1, "the retention policy (uuid or name)") !=
	    0)
		return CLI_EXIT_USAGE;
	return resource_delete(R, argv[optind], yes);
}

const struct cli_command cmd_retention_commands[] = {
	{ "list retention", cmd_retention_list, NULL, NULL,
	  "list retention policies [--used | --unused]",
	  "list retention policies",
	  "Lists retention policies and how long each keeps archives.  --used\n"
	  "shows only those a job uses, --unused only those none does.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield list retention policies\n"
	  "  UUID                                  NAME   EXPIRES  SUMMARY\n"
	  "  9a1e...                               month  30d      -\n" },
	{ "show retention", cmd_retention_show, NULL, NULL,
	  "show retention policy POLICY",
	  "show one retention policy",
	  "POLICY is a uuid, a unique uuid prefix or a unique name.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield show retention policy month\n"
	  "  $ shield show policy 9a1e --json\n" },
	{ "create retention", cmd_retention_create, NULL, NULL,
	  "create retention policy --name NAME --expires DURATION "
	  "[--summary TEXT]",
	  "create a retention policy",
	  "Creates a retention policy.  DURATION is seconds or a number with "
	  "a\n"
	  "unit: s, m, h, d, w (or the words: \"30 days\"); at least 1h.  On "
	  "a\n"
	  "terminal, missing values are asked for.\n"
	  "\n"
	  "Options:\n"
	  "  --name NAME          the policy's unique name\n"
	  "  --expires DURATION   how long archives are kept\n"
	  "  --summary TEXT       a description (default empty)\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield create retention policy --name month --expires 30d\n"
	  "  created retention policy \"month\" (9a1e...)\n" },
	{ "update retention", cmd_retention_update, NULL, NULL,
	  "update retention policy POLICY [--name NAME] [--expires DURATION] "
	  "[--summary TEXT]",
	  "change a retention policy",
	  "Changes only what is given; the rest stays.  Archives already "
	  "taken\n"
	  "keep the expiry they were given.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield update retention policy month --expires 5w\n" },
	{ "edit retention", cmd_retention_edit, NULL, NULL,
	  "edit retention policy POLICY",
	  "edit a retention policy as JSON in $EDITOR",
	  "Opens name, summary and expires (seconds; a string such as \"30d\"\n"
	  "is also accepted) in $VISUAL or $EDITOR and sends the result.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield edit retention policy month\n" },
	{ "delete retention", cmd_retention_delete, NULL, NULL,
	  "delete retention policy POLICY [--yes]",
	  "delete a retention policy no job uses",
	  "Asks for confirmation on a terminal unless --yes (-y).  A policy a\n"
	  "job uses cannot be deleted; the error names those jobs.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield delete retention policy month --yes\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};
