/*
 * shield list|show|create|update|edit|delete target|store: what is backed
 * up (a plugin such as fs, postgres or mysql and its endpoint) and where
 * archives are kept (fs, s3, ...).  Both kinds run the same commands in
 * system.c; each phrase names its kind in arg, and only the help differs.
 */
#include "cli.h"
#include "resolve.h"
#include "system.h"

const struct cli_command cmd_system_commands[] = {
	{ "list target", system_list, &resource_target, NULL,
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
	{ "show target", system_show, &resource_target, NULL,
	  "show target TARGET",
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
	{ "create target", system_create, &resource_target, NULL,
	  "create target --name NAME --plugin PLUGIN --endpoint JSON "
	  "[--set KEY=VALUE]... [--summary TEXT]",
	  "create a target",
	  "Creates a target.  The endpoint is the plugin's configuration: "
	  "give\n"
	  "it whole as a JSON object with --endpoint, key by key with --set, "
	  "or,\n"
	  "on a terminal, leave it out to be asked for each field the plugin\n"
	  "declares for a target (passwords without echo; see shield show "
	  "plugin\n"
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
	{ "update target", system_update, &resource_target, NULL,
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
	{ "edit target", system_edit, &resource_target, NULL,
	  "edit target TARGET",
	  "edit a target as JSON in $EDITOR",
	  "Opens name, summary, plugin and the endpoint (as a JSON object) in\n"
	  "$VISUAL or $EDITOR (default vi) and sends the result when the "
	  "editor\n"
	  "exits successfully.  Nothing is sent when the file is unchanged.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield edit target www\n" },
	{ "delete target", system_delete, &resource_target, NULL,
	  "delete target TARGET [--yes]",
	  "delete a target",
	  "Asks for confirmation on a terminal unless --yes (-y).  A target a\n"
	  "job uses cannot be deleted; the error names those jobs.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield delete target www --yes\n" },
	{ "list store", system_list, &resource_store, NULL,
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
	{ "show store", system_show, &resource_store, NULL,
	  "show store STORE",
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
	{ "create store", system_create, &resource_store, NULL,
	  "create store --name NAME --plugin PLUGIN --endpoint JSON "
	  "[--set KEY=VALUE]... [--summary TEXT]",
	  "create a store",
	  "Creates a store.  The endpoint is the plugin's configuration: give\n"
	  "it whole as a JSON object with --endpoint, key by key with --set, "
	  "or,\n"
	  "on a terminal, leave it out to be asked for each field the plugin\n"
	  "declares for a store (passwords without echo; see shield show "
	  "plugin\n"
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
	{ "update store", system_update, &resource_store, NULL,
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
	{ "edit store", system_edit, &resource_store, NULL,
	  "edit store STORE",
	  "edit a store as JSON in $EDITOR",
	  "Opens name, summary, plugin and the endpoint (as a JSON object) in\n"
	  "$VISUAL or $EDITOR (default vi) and sends the result when the "
	  "editor\n"
	  "exits successfully.  Nothing is sent when the file is unchanged.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield edit store local\n" },
	{ "delete store", system_delete, &resource_store, NULL,
	  "delete store STORE [--yes]",
	  "delete a store",
	  "Asks for confirmation on a terminal unless --yes (-y).  A store a\n"
	  "job uses, or that still holds archives, cannot be deleted; the "
	  "error\n"
	  "names the jobs.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield delete store local --yes\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};
