/*
 * shield list|show|create|update|edit|delete target: what is backed up,
 * a plugin (fs, postgres, mysql, ...) and its endpoint.
 * The work is shared with the other kind of system in system.c.
 */
#include "cli.h"
#include "resolve.h"
#include "system.h"

#define R	(&resource_target)

/* shield list targets */
static int
cmd_target_list(int argc, char **argv)
{
	return system_list(R, argc, argv);
}

/* shield show target ID */
static int
cmd_target_show(int argc, char **argv)
{
	return system_show(R, argc, argv);
}

/* shield create target ... */
static int
cmd_target_create(int argc, char **argv)
{
	return system_create(R, argc, argv);
}

/* shield update target ID ... */
static int
cmd_target_update(int argc, char **argv)
{
	return system_update(R, argc, argv);
}

/* shield edit target ID */
static int
cmd_target_edit(int argc, char **argv)
{
	return system_edit(R, argc, argv);
}

/* shield delete target ID [--yes] */
static int
cmd_target_delete(int argc, char **argv)
{
	return system_delete(R, argc, argv);
}

const struct cli_command cmd_target_commands[] = {
	{ "list target", cmd_target_list, NULL,
	  "list targets [--used | --unused] [--plugin PLUGIN]",
	  "list targets",
	  "Targets are what SHIELD backs up.  --used shows only the targets a\n"
	  "job uses, --unused only those none does; --plugin only those of "
	  "one\n"
	  "plugin.  "
	  "-q prints only uuids.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield list targets --plugin fs\n"
	  "  UUID                                  NAME  PLUGIN  SUMMARY\n"
	  "  0c4e...                               www   fs      -\n"
	  "  $ shield list targets --unused --json\n" },
	{ "show target", cmd_target_show, NULL, "show target TARGET",
	  "show a target, its endpoint and the jobs using it",
	  "TARGET is a uuid, a unique uuid prefix or a unique name.  Fields "
	  "the\n"
	  "plugin declares as passwords are shown as ********; --json shows "
	  "the\n"
	  "API's object as it is, endpoint included.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield show target www\n"
	  "  $ shield show target 0c4e --json | jq -r .endpoint\n" },
	{ "create target", cmd_target_create, NULL,
	  "create target --name NAME --plugin PLUGIN --endpoint JSON "
	  "[--set KEY=VALUE]... [--summary TEXT]",
	  "create a target",
	  "Creates a target.  The endpoint is the plugin's configuration: "
	  "give\n"
	  "it whole as a JSON object with --endpoint, key by key with --set, "
	  "or,\n"
	  "on a terminal, leave it out to be asked for each field the plugin\n"
	  "declares for a target (passwords without echo; see shield show plugin\n"
	  "PLUGIN).\n"
	  "Plugins that can validate an endpoint do so first; their reasons\n"
	  "are shown when they refuse it.\n"
	  "\n"
	  "Options:\n"
	  "  --name NAME         the target's unique name\n"
	  "  --plugin PLUGIN     the plugin's short name (see shield plugins)\n"
	  "  --endpoint JSON     the whole endpoint, a JSON object\n"
	  "  --set KEY=VALUE     one endpoint key (repeatable; after "
	  "--endpoint)\n"
	  "  --summary TEXT      a description (default empty)\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield create target --name www --plugin fs \\\n"
	  "        --endpoint '{\"base_dir\":\"/srv/www\"}'\n"
	  "  created target \"www\" (0c4e...)\n"
	  "  $ shield create target --name www --plugin fs --set "
	  "base_dir=/srv\n"
	  "  $ shield create target          # asks for everything\n" },
	{ "update target", cmd_target_update, NULL,
	  "update target TARGET [--name NAME] [--summary TEXT] "
	  "[--plugin PLUGIN] [--endpoint JSON] [--set KEY=VALUE]... "
	  "[--unset KEY]...",
	  "change a target",
	  "Changes only what is given.  --endpoint replaces the whole "
	  "endpoint;\n"
	  "--set and --unset change one key of it and keep the others.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield update target www --set base_dir=/srv/new\n"
	  "  $ shield update target www --summary 'moved to the new disk'\n" },
	{ "edit target", cmd_target_edit, NULL, "edit target TARGET",
	  "edit a target as JSON in $EDITOR",
	  "Opens name, summary, plugin and the endpoint (as a JSON object) in\n"
	  "$VISUAL or $EDITOR (default vi) and sends the result when the "
	  "editor\n"
	  "exits successfully.  Nothing is sent when the file is unchanged.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield edit target www\n" },
	{ "delete target", cmd_target_delete, NULL,
	  "delete target TARGET [--yes]",
	  "delete a target",
	  "Asks for confirmation on a terminal unless --yes (-y).  A target a\n"
	  "job uses cannot be deleted; the error names those jobs.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield delete target www --yes\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};
