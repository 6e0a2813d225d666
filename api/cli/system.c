/*
 * Targets and stores.  The endpoint is the plugin's configuration, a JSON
 * object the API keeps as a string; the CLI takes it whole (--endpoint),
 * key by key (--set key=value), in $EDITOR as an object, or asks for it
 * field by field from the plugin's `fields` when stdin is a terminal, with
 * password fields read without echo and masked when shown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "format.h"
#include "http.h"
#include "prompt.h"
#include "resource.h"
#include "system.h"
#include "table.h"
#include "xmalloc.h"

#define SYSTEM_MASK	"********"

/* The plugin's info, or NULL (quietly: the caller does without). */
static cJSON *
system_plugin(const char *plugin, int loud)
{
	struct http_reply reply;
	char *path, *what;
	cJSON *info;

	if (plugin == NULL || plugin[strspn(plugin, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")] != '\0')
		return NULL;
	xasprintf(&path, "/v1/plugin/%s", plugin);
	if (loud) {
		xasprintf(&what, "plugin \"%s\"", plugin);
		info = http_get(path, what);
		free(what);
		free(path);
		return info;
	}
	info = NULL;
	if (http_request("GET", path, NULL, &reply) == 0 &&
	    reply.status == 200) {
		info = reply.json;
		reply.json = NULL;
	}
	http_reply_clear(&reply);
	free(path);
	return info;
}

/* True if the plugin's info calls key a password. */
static int
system_is_secret(const cJSON *info, const char *key)
{
	const cJSON *f;
	const char *type;

	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(info,
	    "fields")) {
		type = format_str(f, "type");
		if (format_str(f, "name") != NULL &&
		    strcmp(format_str(f, "name"), key) == 0)
			return type != NULL && strcmp(type, "password") == 0;
	}
	return 0;
}

/* Print a list of targets or stores. */
static void
system_print_list(const cJSON *list)
{
	struct table *t = table_new(4, "UUID", "NAME", "PLUGIN", "SUMMARY");
	const cJSON *o;

	cJSON_ArrayForEach(o, list)
		table_add(t, format_str(o, "uuid"), format_str(o, "name"),
		    format_str(o, "plugin"), format_str(o, "summary"));
	table_print(t);
	table_free(t);
}

/* shield list targets|stores [--used|--unused] [--plugin P] */
int
system_list(int argc, char **argv)
{
	const struct resource *res = cli_command_arg();
	static const struct option opts[] = {
		CLI_OPTS_COMMON,
		{ "used", no_argument, NULL, 'u' },
		{ "unused", no_argument, NULL, 'U' },
		{ "plugin", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *unused = NULL, *plugin = NULL;
	char *path, plural[32];
	int c, rc;

	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c == 'p')
			plugin = optarg;
		else
			unused = c == 'U' ? "t" : "f";
	}
	if (cli_args(argc, argv, 0, "nothing") != 0)
		return CLI_EXIT_USAGE;
	path = http_path(res->list_path, "unused", unused, "plugin", plugin,
	    (const char *)NULL);
	snprintf(plural, sizeof plural, "%ss", res->noun);
	rc = resource_list(path, plural, system_print_list);
	free(path);
	return rc;
}

/* The resource being shown, for system_print(). */
static const struct resource *system_shown;

/* Print one target or store, masking password fields. */
static void
system_print(const cJSON *o)
{
	const char *plugin = format_str(o, "plugin");
	cJSON *ep, *info, *jobs, *v;
	char *path, *text;

	kv_print("uuid", format_str(o, "uuid"));
	kv_print("name", format_str(o, "name"));
	kv_print("summary", format_str(o, "summary"));
	kv_print("plugin", plugin);
	info = system_plugin(plugin, 0);
	ep = cJSON_Parse(format_str(o, "endpoint") ? format_str(o,
	    "endpoint") : "");
	if (!cJSON_IsObject(ep))
		kv_print("endpoint", format_str(o, "endpoint"));
	else {
		printf("endpoint:\n");
		cJSON_ArrayForEach(v, ep) {
			if (cJSON_IsString(v))
				text = xstrdup(system_is_secret(info,
				    v->string) ? SYSTEM_MASK : v->valuestring);
			else if ((text = cJSON_PrintUnformatted(v)) == NULL)
				abort();
			xasprintf(&path, "  %s", v->string);
			kv_print(path, text);
			free(path);
			free(text);
		}
	}
	path = http_path("/v1/jobs", system_shown->job_filter,
	    format_str(o, "uuid"), (const char *)NULL);
	jobs = http_get(path, NULL);
	free(path);
	text = NULL;
	cJSON_ArrayForEach(v, jobs) {
		if (text == NULL)
			text = xstrdup(format_str(v, "name"));
		else {
			xasprintf(&path, "%s, %s", text, format_str(v, "name"));
			free(text);
			text = path;
		}
	}
	kv_print("used by jobs", text);
	free(text);
	cJSON_Delete(jobs);
	cJSON_Delete(ep);
	cJSON_Delete(info);
}

/* shield show target|store ID */
int
system_show(int argc, char **argv)
{
	const struct resource *res = cli_command_arg();
	static const struct option opts[] = {
		CLI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	char what[64];

	while (cli_getopt(argc, argv, "", opts) != -1)
		;
	snprintf(what, sizeof what, "the %s (uuid or name)", res->noun);
	if (cli_args(argc, argv, 1, what) != 0)
		return CLI_EXIT_USAGE;
	system_shown = res;
	return resource_show(res, argv[optind], system_print);
}

/* Apply one --set key=value (or --unset key) to an endpoint object. */
static int
system_set(cJSON *ep, const char *arg, int unset)
{
	const char *eq = strchr(arg, '=');
	char *key;

	if (unset) {
		cJSON_DeleteItemFromObjectCaseSensitive(ep, arg);
		return 0;
	}
	if (eq == NULL || eq == arg) {
		cli_error("--set wants KEY=VALUE, not '%s'", arg);
		return -1;
	}
	key = xstrndup(arg, (size_t)(eq - arg));
	cJSON_DeleteItemFromObjectCaseSensitive(ep, key);
	cJSON_AddStringToObject(ep, key, eq + 1);
	free(key);
	return 0;
}

/* Turn an answer into the JSON value a field of this type wants. */
static cJSON *
system_typed(const char *type, const char *answer)
{
	char *end;
	double n;

	if (type != NULL && strcmp(type, "bool") == 0) {
		if (strchr("yYtT1", answer[0]) != NULL)
			return cJSON_CreateTrue();
		return cJSON_CreateFalse();
	}
	if (type != NULL && (strcmp(type, "port") == 0 ||
	    strcmp(type, "int") == 0)) {
		n = strtod(answer, &end);
		if (end != answer && *end == '\0')
			return cJSON_CreateNumber(n);
	}
	return cJSON_CreateString(answer);
}

/*
 * Ask for each field of the plugin that this kind of object reads; the
 * endpoint, or NULL at EOF.
 */
static cJSON *
system_ask_endpoint(const struct resource *res, const cJSON *info)
{
	const cJSON *f;
	const char *name, *type, *def, *help, *role, *label;
	char *q, *a;
	cJSON *ep = cJSON_CreateObject();
	int req;

	fprintf(stderr, "Endpoint of the %s plugin (empty answers leave "
	    "optional fields out):\n", format_str(info, "plugin"));
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(info,
	    "fields")) {
		if ((name = format_str(f, "name")) == NULL)
			continue;
		/* A store has no use for fs's include, and so on. */
		role = format_str(f, "for");
		if (role != NULL && strcmp(role, res->noun) != 0)
			continue;
		label = format_str(f, "label");
		type = format_str(f, "type");
		def = format_str(f, "default");
		help = format_str(f, "help");
		req = format_bool(f, "required");
		if (help != NULL)
			fprintf(stderr, "  %s\n", help);
		/* The label asks; the key beside it is what --set takes. */
		if (label != NULL && strcasecmp(label, name) != 0)
			xasprintf(&q, "%s (%s, %s%s)", label, name,
			    type ? type : "string", req ? ", required" : "");
		else
			xasprintf(&q, "%s (%s%s)", label ? label : name,
			    type ? type : "string", req ? ", required" : "");
		for (;;) {
			if (type != NULL && strcmp(type, "password") == 0)
				a = prompt_secret(q);
			else
				a = prompt_line(q, def);
			if (a == NULL) {
				free(q);
				cJSON_Delete(ep);
				return NULL;
			}
			if (*a != '\0' || !req)
				break;
			fprintf(stderr, "  %s is required\n", name);
			free(a);
		}
		if (*a != '\0')
			cJSON_AddItemToObject(ep, name, system_typed(type, a));
		free(a);
		free(q);
	}
	return ep;
}

/* Parse an --endpoint value into an object; NULL after printing. */
static cJSON *
system_parse_endpoint(const char *text)
{
	cJSON *ep = cJSON_Parse(text);

	if (!cJSON_IsObject(ep)) {
		cJSON_Delete(ep);
		cli_error("--endpoint wants a JSON object, like "
		    "'{\"base_dir\":\"/srv\"}'");
		return NULL;
	}
	return ep;
}

static const struct option system_write_opts[] = {
	CLI_OPTS_COMMON,
	{ "name", required_argument, NULL, 'n' },
	{ "summary", required_argument, NULL, 's' },
	{ "plugin", required_argument, NULL, 'p' },
	{ "endpoint", required_argument, NULL, 'e' },
	{ "set", required_argument, NULL, 'S' },
	{ "unset", required_argument, NULL, 'X' },
	{ NULL, 0, NULL, 0 },
};

/* The options of create and update. */
struct system_args {
	const char	*name;
	const char	*summary;
	const char	*plugin;
	const char	*endpoint;
	char		**sets;		/* --set and --unset, in order */
	int		 *unsets;
	int		  nsets;
};

/* Parse the options of create and update. */
static void
system_args_parse(struct system_args *a, int argc, char **argv)
{
	int c;

	memset(a, 0, sizeof *a);
	while ((c = cli_getopt(argc, argv, "", system_write_opts)) != -1) {
		switch (c) {
		case 'n':
			a->name = optarg;
			break;
		case 's':
			a->summary = optarg;
			break;
		case 'p':
			a->plugin = optarg;
			break;
		case 'e':
			a->endpoint = optarg;
			break;
		case 'S':
		case 'X':
			a->sets = xreallocarray(a->sets, (size_t)a->nsets + 1,
			    sizeof *a->sets);
			a->unsets = xreallocarray(a->unsets,
			    (size_t)a->nsets + 1, sizeof *a->unsets);
			a->sets[a->nsets] = optarg;
			a->unsets[a->nsets++] = c == 'X';
			break;
		}
	}
}

/* Apply the --set and --unset options to ep. */
static int
system_args_apply(const struct system_args *a, cJSON *ep)
{
	int i;

	for (i = 0; i < a->nsets; i++)
		if (system_set(ep, a->sets[i], a->unsets[i]) != 0)
			return -1;
	return 0;
}

/* Free what system_args_parse() allocated. */
static void
system_args_free(struct system_args *a)
{
	free(a->sets);
	free(a->unsets);
}

/* shield create target|store ... */
int
system_create(int argc, char **argv)
{
	const struct resource *res = cli_command_arg();
	struct system_args a;
	char *aname = NULL, *aplugin = NULL, *asummary = NULL;
	cJSON *ep = NULL, *info = NULL, *body = NULL;
	int rc = CLI_EXIT_FAIL;

	system_args_parse(&a, argc, argv);
	if (cli_args(argc, argv, 0, "nothing") != 0) {
		system_args_free(&a);
		return CLI_EXIT_USAGE;
	}
	if (prompt_need(&a.name, &aname, "name", "Name") != 0 ||
	    prompt_need(&a.plugin, &aplugin, "plugin",
	    "Plugin (see shield plugins)") != 0)
		goto out;
	if (a.summary == NULL && prompt_interactive() && a.endpoint == NULL) {
		if ((asummary = prompt_line("Summary", "")) == NULL)
			goto out;
		a.summary = asummary;
	}
	if (a.endpoint != NULL) {
		if ((ep = system_parse_endpoint(a.endpoint)) == NULL)
			goto out;
	} else if (a.nsets > 0 || !prompt_interactive())
		ep = cJSON_CreateObject();
	else {
		if ((info = system_plugin(a.plugin, 1)) == NULL)
			goto out;
		if ((ep = system_ask_endpoint(res, info)) == NULL) {
			cli_error("missing --endpoint");
			goto out;
		}
	}
	if (system_args_apply(&a, ep) != 0)
		goto out;
	if (a.endpoint == NULL && a.nsets == 0 && !prompt_interactive()) {
		cli_error("missing --endpoint (or --set KEY=VALUE); see shield "
		    "show plugin %s", a.plugin);
		goto out;
	}
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "name", a.name);
	cJSON_AddStringToObject(body, "summary", a.summary ? a.summary : "");
	cJSON_AddStringToObject(body, "plugin", a.plugin);
	cJSON_AddItemToObject(body, "endpoint", ep);
	ep = NULL;
	rc = resource_create(res, body);
out:
	cJSON_Delete(body);
	cJSON_Delete(ep);
	cJSON_Delete(info);
	free(aname);
	free(aplugin);
	free(asummary);
	system_args_free(&a);
	return rc;
}

/* shield update target|store ID ... */
int
system_update(int argc, char **argv)
{
	const struct resource *res = cli_command_arg();
	struct system_args a;
	cJSON *o = NULL, *ep = NULL, *body = NULL;
	const char *old;
	char what[64];
	int rc = CLI_EXIT_FAIL;

	system_args_parse(&a, argc, argv);
	snprintf(what, sizeof what, "the %s (uuid or name)", res->noun);
	if (cli_args(argc, argv, 1, what) != 0) {
		system_args_free(&a);
		return CLI_EXIT_USAGE;
	}
	if (a.name == NULL && a.summary == NULL && a.plugin == NULL &&
	    a.endpoint == NULL && a.nsets == 0) {
		cli_error("nothing to update: give --name, --summary, "
		    "--plugin, --endpoint or --set (or use shield edit %s)",
		    res->noun);
		system_args_free(&a);
		return CLI_EXIT_USAGE;
	}
	if ((o = resolve(res, argv[optind])) == NULL)
		goto out;
	old = format_str(o, "endpoint");
	if (a.endpoint != NULL)
		ep = system_parse_endpoint(a.endpoint);
	else if (!cJSON_IsObject(ep = cJSON_Parse(old ? old : "{}"))) {
		cJSON_Delete(ep);
		ep = cJSON_CreateObject();
	}
	if (ep == NULL || system_args_apply(&a, ep) != 0)
		goto out;
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "name", a.name ? a.name :
	    format_str(o, "name"));
	cJSON_AddStringToObject(body, "summary", a.summary ? a.summary :
	    format_str(o, "summary") ? format_str(o, "summary") : "");
	cJSON_AddStringToObject(body, "plugin", a.plugin ? a.plugin :
	    format_str(o, "plugin"));
	cJSON_AddItemToObject(body, "endpoint", ep);
	ep = NULL;
	rc = resource_put(res, o, body);
out:
	cJSON_Delete(body);
	cJSON_Delete(ep);
	cJSON_Delete(o);
	system_args_free(&a);
	return rc;
}

/* The editable document: the endpoint as an object, not a string. */
static cJSON *
system_doc(const cJSON *o)
{
	cJSON *d = cJSON_CreateObject(), *ep;
	const char *text = format_str(o, "endpoint");

	cJSON_AddStringToObject(d, "name", format_str(o, "name"));
	cJSON_AddStringToObject(d, "summary", format_str(o, "summary") ?
	    format_str(o, "summary") : "");
	cJSON_AddStringToObject(d, "plugin", format_str(o, "plugin"));
	if (cJSON_IsObject(ep = cJSON_Parse(text ? text : "")))
		cJSON_AddItemToObject(d, "endpoint", ep);
	else {
		cJSON_Delete(ep);
		cJSON_AddStringToObject(d, "endpoint", text ? text : "{}");
	}
	return d;
}

/* The PUT body of an edited target or store. */
static cJSON *
system_body(const cJSON *o, const cJSON *doc)
{
	const cJSON *ep = cJSON_GetObjectItemCaseSensitive(doc, "endpoint");
	cJSON *b = cJSON_CreateObject();

	if (resource_doc_string(b, "name", doc, o, "name") != 0 ||
	    resource_doc_string(b, "summary", doc, o, "summary") != 0 ||
	    resource_doc_string(b, "plugin", doc, o, "plugin") != 0) {
		cJSON_Delete(b);
		return NULL;
	}
	if (cJSON_IsObject(ep) || cJSON_IsString(ep))
		cJSON_AddItemToObject(b, "endpoint", cJSON_Duplicate(ep, 1));
	else if (ep == NULL)
		cJSON_AddStringToObject(b, "endpoint",
		    format_str(o, "endpoint"));
	else {
		cli_error("\"endpoint\" must be a JSON object");
		cJSON_Delete(b);
		return NULL;
	}
	return b;
}

/* shield edit target|store ID */
int
system_edit(int argc, char **argv)
{
	const struct resource *res = cli_command_arg();
	static const struct option opts[] = {
		CLI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	char what[64];

	while (cli_getopt(argc, argv, "", opts) != -1)
		;
	snprintf(what, sizeof what, "the %s (uuid or name)", res->noun);
	if (cli_args(argc, argv, 1, what) != 0)
		return CLI_EXIT_USAGE;
	return resource_edit(res, argv[optind], system_doc, system_body);
}

/* shield delete target|store ID [--yes] */
int
system_delete(int argc, char **argv)
{
	const struct resource *res = cli_command_arg();
	static const struct option opts[] = {
		CLI_OPTS_COMMON,
		{ "yes", no_argument, NULL, 'y' },
		{ NULL, 0, NULL, 0 },
	};
	char what[64];
	int yes = 0;

	while (cli_getopt(argc, argv, "y", opts) != -1)
		yes = 1;
	snprintf(what, sizeof what, "the %s (uuid or name)", res->noun);
	if (cli_args(argc, argv, 1, what) != 0)
		return CLI_EXIT_USAGE;
	return resource_delete(res, argv[optind], yes);
}
