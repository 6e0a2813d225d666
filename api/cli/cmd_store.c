/*
 * shield list|show|create|update|edit|delete store: where archives are
 * kept, a plugin (fs, s3, ...) and its endpoint.
 * The work is shared with the other kind of system in system.c.
 */
#include "cli.h"
#include "resolve.h"
#include "system.h"

#define R	(&resource_store)

/* shield list stores */
static int
cmd_store_list(int argc, char **argv)
{
	return system_list(R, argc, argv);
}

/* shield show store ID */
static int
cmd_store_show(int argc, char **argv)
{
	return system_show(R, argc, argv);
}

/* shield create store ... */
static int
cmd_store_create(int argc, char **argv)
{
	return system_create(R, argc, argv);
}

/* shield update store ID ... */
static int
cmd_store_update(int argc, char **argv)
{
	return system_update(R, argc, argv);
}

/* shield edit store ID */
static int
cmd_store_edit(int argc, char **argv)
{
	return system_edit(R, argc, argv);
}

/* shield delete store ID [--yes] */
static int
cmd_store_delete(int argc, char **argv)
{
	return system_delete(R, argc, argv);
}

const struct cli_command cmd_store_commands[] = {
	{ "list store", cmd_store_list, NULL,
	  "list stores [--used | --unused] [--plugin PLUGIN]",
	  "list stores",
	  "Stores are where SHIELD keeps archives.  --used shows only the\n"
	  "stores a job uses, --unused only those none does; --plugin only\n"
	  "those of one plugin.  "
	  "-q prints only uuids.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield list stores --plugin fs\n"
	  "  UUID                                  NAME  PLUGIN  SUMMARY\n"
	  "  0c4e...                               local   fs      -\n"
	  "  $ shield list stores --unused --json\n" },
	{ "show store", cmd_store_show, NULL, "show store STORE",
	  "show a store, its endpoint and the jobs using it",
	  "STORE is a uuid, a unique uuid prefix or a unique name.  Fields "
	  "the\n"
	  "plugin declares as passwords are shown as ********; --json shows "
	  "the\n"
	  "API's object as it is, endpoint included.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield show store local\n"
	  "  $ shield show store 0c4e --json | jq -r .endpoint\n" },
	{ "create store", cmd_store_create, NULL,
	  "create store --name NAME --plugin PLUGIN --endpoint JSON "
	  "[--set KEY=VALUE]... [--summary TEXT]",
	  "create a store",
	  "Creates a store.  The endpoint is the plugin's configuration: give\n"
	  "it whole as a JSON object with --endpoint, key by key with --set, "
	  "or,\n"
	  "on a terminal, leave it out to be asked for each field the plugin\n"
	  "declares for a store (passwords without echo; see shield show plugin\n"
	  "PLUGIN).\n"
	  "Plugins that can validate an endpoint do so first; their reasons\n"
	  "are shown when they refuse it.\n"
	  "\n"
	  "Options:\n"
	  "  --name NAME         the store's unique name\n"
	  "  --plugin PLUGIN     the plugin's short name (see shield plugins)\n"
	  "  --endpoint JSON     the whole endpoint, a JSON object\n"
	  "  --set KEY=VALUE     one endpoint key (repeatable; after "
	  "--endpoint)\n"
	  "  --summary TEXT      a description (default empty)\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield create store --name local --plugin fs \\\n"
	  "        --endpoint '{\"base_dir\":\"/var/backups\"}'\n"
	  "  created store \"local\" (0c4e...)\n"
	  "  $ shield create store --name local --plugin fs --set "
	  "base_dir=/srv\n"
	  "  $ shield create store          # asks for everything\n" },
	{ "update store", cmd_store_update, NULL,
	  "update store STORE [--name NAME] [--summary TEXT] "
	  "[--plugin PLUGIN] [--endpoint JSON] [--set KEY=VALUE]... "
	  "[--unset KEY]...",
	  "change a store",
	  "Changes only what is given.  --endpoint replaces the whole "
	  "endpoint;\n"
	  "--set and --unset change one key of it and keep the others.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield update store local --set base_dir=/srv/new\n"
	  "  $ shield update store local --summary 'moved to the new disk'\n" },
	{ "edit store", cmd_store_edit, NULL, "edit store STORE",
	  "edit a store as JSON in $EDITOR",
	  "Opens name, summary, plugin and the endpoint (as a JSON object) in\n"
	  "$VISUAL or $EDITOR (default vi) and sends the result when the "
	  "editor\n"
	  "exits successfully.  Nothing is sent when the file is unchanged.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield edit store local\n" },
	{ "delete store", cmd_store_delete, NULL,
	  "delete store STORE [--yes]",
	  "delete a store",
	  "Asks for confirmation on a terminal unless --yes (-y).  A store a\n"
	  "job uses, or that still holds archives, cannot be deleted; the "
	  "error\n"
	  "names the jobs.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield delete store local --yes\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL },
};
