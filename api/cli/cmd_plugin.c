/*
 * shield plugins and shield show plugin NAME: what the plugins installed
 * beside shieldd can do (back up, store, validate) and the endpoint fields
 * each expects, as their `info` reports them through /v1/plugins.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "format.h"
#include "http.h"
#include "table.h"
#include "utf8.h"
#include "xmalloc.h"

/* "yes" or "no" for a feature of a plugin. */
static const char *
plugin_feature(const cJSON *p, const char *feature)
{
	const char *v = format_str(cJSON_GetObjectItemCaseSensitive(p,
	    "features"), feature);

	return v != NULL && strcmp(v, "yes") == 0 ? "yes" : "no";
}

/* Print the plugins as a table. */
static void
plugin_print_list(const cJSON *list)
{
	struct table *t;
	const cJSON *p;

	t = table_new(5, "PLUGIN", "TARGET", "STORE", "VERSION", "NAME");
	cJSON_ArrayForEach(p, list)
		table_add(t, format_str(p, "plugin"),
		    plugin_feature(p, "target"), plugin_feature(p, "store"),
		    format_str(p, "version"), format_str(p, "name"));
	table_print(t);
	table_free(t);
}

/* Print one plugin with its fields. */
static void
plugin_print(const cJSON *p)
{
	const cJSON *f;
	const char *def, *role, *label;
	char feats[128], *line;
	int both;

	kv_print("plugin", format_str(p, "plugin"));
	kv_print("name", format_str(p, "name"));
	kv_print("version", format_str(p, "version"));
	kv_print("author", format_str(p, "author"));
	snprintf(feats, sizeof feats, "target %s, store %s, validate %s",
	    plugin_feature(p, "target"), plugin_feature(p, "store"),
	    plugin_feature(p, "validate"));
	kv_print("features", feats);
	if (format_str(p, "help") != NULL) {
		putchar('\n');
		format_wrap(format_str(p, "help"), 2);
	}
	if (cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p,
	    "fields")) > 0)
		printf("\nEndpoint fields:\n");
	/* Which kind reads a field only matters when the plugin is both. */
	both = strcmp(plugin_feature(p, "target"), "yes") == 0 &&
	    strcmp(plugin_feature(p, "store"), "yes") == 0;
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(p, "fields")) {
		def = format_str(f, "default");
		role = both ? format_str(f, "for") : NULL;
		label = format_str(f, "label");
		xasprintf(&line, "  %s (%s%s%s%s%s%s)%s%s",
		    format_str(f, "name") ? format_str(f, "name") : "?",
		    format_str(f, "type") ? format_str(f, "type") : "string",
		    format_bool(f, "required") ? ", required" : "",
		    def != NULL ? ", default " : "", def != NULL ? def : "",
		    role != NULL ? ", only for a " : "",
		    role != NULL ? role : "",
		    label != NULL ? ": " : "", label != NULL ? label : "");
		utf8_fputs_escaped(stdout, line, 0);
		putchar('\n');
		free(line);
		if (format_str(f, "help") != NULL)
			format_wrap(format_str(f, "help"), 6);
	}
}

/* shield plugins / shield list plugins */
static int
cmd_plugin_list(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	cJSON *list, *p;

	while (cli_getopt(argc, argv, "", opts) != -1)
		;
	if (cli_args(argc, argv, 0, "nothing") != 0)
		return CLI_EXIT_USAGE;
	if ((list = http_get("/v1/plugins", NULL)) == NULL)
		return CLI_EXIT_FAIL;
	if (cli_opts.json)
		format_json_print(list);
	else if (cli_opts.quiet) {
		cJSON_ArrayForEach(p, list)
			printf("%s\n", format_str(p, "plugin"));
	} else if (cJSON_GetArraySize(list) == 0)
		fprintf(stderr, "no plugins installed\n");
	else
		plugin_print_list(list);
	cJSON_Delete(list);
	return CLI_EXIT_OK;
}

/* shield show plugin NAME */
static int
cmd_plugin_show(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	char *path, *what;
	cJSON *p;

	while (cli_getopt(argc, argv, "", opts) != -1)
		;
	if (cli_args(argc, argv, 1, "the plugin NAME") != 0)
		return CLI_EXIT_USAGE;
	xasprintf(&what, "plugin \"%s\"", argv[optind]);
	/* Plugin names are file names; anything else cannot exist. */
	if (argv[optind][strspn(argv[optind], "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")] != '\0') {
		cli_error("%s not found", what);
		free(what);
		return CLI_EXIT_FAIL;
	}
	xasprintf(&path, "/v1/plugin/%s", argv[optind]);
	p = http_get(path, what);
	free(path);
	free(what);
	if (p == NULL)
		return CLI_EXIT_FAIL;
	if (cli_opts.json)
		format_json_print(p);
	else if (cli_opts.quiet)
		printf("%s\n", format_str(p, "plugin"));
	else
		plugin_print(p);
	cJSON_Delete(p);
	return CLI_EXIT_OK;
}

static const char plugin_list_help[] =
"Lists the plugins installed beside shieldd: their short name (what the\n"
"--plugin option of targets and stores takes), whether each can back up a\n"
"target or keep archives as a store, and its version.  With -q, only the\n"
"short names.\n"
"\n"
"Examples:\n"
"  $ shield plugins\n"
"  PLUGIN    TARGET  STORE  VERSION  NAME\n"
"  fs        yes     yes    0.1.0    Local Filesystem Plugin\n"
"  postgres  yes     no     0.1.0    PostgreSQL\n";

const struct cli_command cmd_plugin_commands[] = {
	{ "plugins", cmd_plugin_list, NULL, NULL, "plugins",
	  "list the installed plugins", plugin_list_help },
	{ "list plugin", cmd_plugin_list, NULL, NULL, "list plugins",
	  "list the installed plugins (same as shield plugins)",
	  plugin_list_help },
	{ "show plugin", cmd_plugin_show, NULL, NULL, "show plugin NAME",
	  "show a plugin and the endpoint fields it expects",
	  "Shows a plugin's description, what it can do, and each field of "
	  "the\n"
	  "endpoint JSON that targets and stores using it take: its type, "
	  "whether\n"
	  "it is required, its default and what it means.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield show plugin fs\n"
	  "  $ shield show plugin postgres --json | jq -r '.fields[].name'\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};
