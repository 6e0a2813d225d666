/*
 * The calling protocol for C plugins: argv parsing, `info`, endpoint field
 * checks, dispatch, and the small process helpers plugins need.
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "plugin.h"

extern char **environ;

/* The running plugin's short name, for message prefixes. */
static const char *plugin_self = "plugin";

/* Write a prefixed message to stderr. */
static void
plugin_vmsg(const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: ", plugin_self);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	fflush(stderr);
}

/* Report an error. */
void
plugin_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	plugin_vmsg(fmt, ap);
	va_end(ap);
}

/* Report progress or a notice. */
void
plugin_info(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	plugin_vmsg(fmt, ap);
	va_end(ap);
}

/* Find a declared field by name. */
static const struct plugin_field *
plugin_field_find(const struct plugin_def *def, const char *name)
{
	const struct plugin_field *f;

	for (f = def->fields; f != NULL && f->name != NULL; f++) {
		if (strcmp(f->name, name) == 0)
			return f;
	}
	return NULL;
}

/* The definition being run, for default lookups by the accessors. */
static const struct plugin_def *plugin_current;

/* The declared default of a field, or NULL. */
static const char *
plugin_field_default(const char *key)
{
	const struct plugin_field *f;

	if (plugin_current == NULL)
		return NULL;
	f = plugin_field_find(plugin_current, key);
	return f != NULL ? f->def : NULL;
}

/* Read a string key, falling back to the field default, then def. */
const char *
plugin_ep_string(const cJSON *ep, const char *key, const char *def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(ep, key);
	const char *fd;

	if (cJSON_IsString(v))
		return v->valuestring;
	if ((fd = plugin_field_default(key)) != NULL)
		return fd;
	return def;
}

/* Read an optional string key; empty counts as unset. */
const char *
plugin_ep_opt(const cJSON *ep, const char *key)
{
	const char *s = plugin_ep_string(ep, key, NULL);

	return s != NULL && *s != '\0' ? s : NULL;
}

/*
 * An integer from a JSON number (integral, within +-2^53) or from a string
 * of decimal digits with an optional '-': users write both.  0 or -1.
 */
static int
plugin_value_int(const cJSON *v, long long *out)
{
	const char *s;
	char *end;
	double d;
	long long n;

	if (cJSON_IsNumber(v)) {
		d = v->valuedouble;
		if (!(d >= -9007199254740992.0 && d <= 9007199254740992.0) ||
		    d != (double)(long long)d)
			return -1;
		*out = (long long)d;
		return 0;
	}
	if (!cJSON_IsString(v))
		return -1;
	s = v->valuestring;
	/* strtoll() would also take spaces and '+': a form nobody means. */
	if (!(*s >= '0' && *s <= '9') && !(*s == '-' && s[1] >= '0' &&
	    s[1] <= '9'))
		return -1;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = n;
	return 0;
}

/*
 * A boolean from JSON true/false, the numbers 1 and 0, or the strings
 * true/false, yes/no, on/off, 1/0 in any case.  0 or -1.
 */
static int
plugin_value_bool(const cJSON *v, int *out)
{
	static const char *const yes[] = { "true", "yes", "on", "1" };
	static const char *const no[] = { "false", "no", "off", "0" };
	size_t i;

	if (cJSON_IsBool(v)) {
		*out = cJSON_IsTrue(v);
		return 0;
	}
	if (cJSON_IsNumber(v) && (v->valuedouble == 0 ||
	    v->valuedouble == 1)) {
		*out = v->valuedouble == 1;
		return 0;
	}
	if (!cJSON_IsString(v))
		return -1;
	for (i = 0; i < sizeof yes / sizeof yes[0]; i++) {
		if (strcasecmp(v->valuestring, yes[i]) == 0) {
			*out = 1;
			return 0;
		}
		if (strcasecmp(v->valuestring, no[i]) == 0) {
			*out = 0;
			return 0;
		}
	}
	return -1;
}

/* The value of a key, or else the field's declared default as a string. */
static const cJSON *
plugin_ep_value(const cJSON *ep, const char *key, cJSON *tmp)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(ep, key);
	const char *fd;

	if (v != NULL && !cJSON_IsNull(v))
		return v;
	if ((fd = plugin_field_default(key)) == NULL)
		return NULL;
	memset(tmp, 0, sizeof *tmp);
	tmp->type = cJSON_String | cJSON_IsReference;
	tmp->valuestring = (char *)fd;
	return tmp;
}

/* Read an integer key; numbers and numeric strings are accepted. */
long long
plugin_ep_int(const cJSON *ep, const char *key, long long def)
{
	const cJSON *v;
	cJSON tmp;
	long long n;

	v = plugin_ep_value(ep, key, &tmp);
	if (v == NULL || plugin_value_int(v, &n) != 0)
		return def;
	return n;
}

/* Read a boolean key; see plugin_value_bool() for the forms. */
int
plugin_ep_bool(const cJSON *ep, const char *key, int def)
{
	const cJSON *v;
	cJSON tmp;
	int b;

	v = plugin_ep_value(ep, key, &tmp);
	if (v == NULL || plugin_value_bool(v, &b) != 0)
		return def;
	return b;
}

/* Print the info JSON. */
static int
plugin_info_print(const struct plugin_def *def)
{
	const struct plugin_field *f;
	cJSON *root, *feat, *fields, *o;
	char *text;
	int is_target = def->backup != NULL || def->restore != NULL;
	int is_store = def->store != NULL || def->retrieve != NULL;

	root = cJSON_CreateObject();
	cJSON_AddStringToObject(root, "name", def->name);
	cJSON_AddStringToObject(root, "author", def->author);
	cJSON_AddStringToObject(root, "version", def->version);
	if (def->help != NULL)
		cJSON_AddStringToObject(root, "help", def->help);
	feat = cJSON_AddObjectToObject(root, "features");
	cJSON_AddStringToObject(feat, "target", is_target ? "yes" : "no");
	cJSON_AddStringToObject(feat, "store", is_store ? "yes" : "no");
	cJSON_AddStringToObject(feat, "validate", "yes");
	fields = cJSON_AddArrayToObject(root, "fields");
	for (f = def->fields; f != NULL && f->name != NULL; f++) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "name", f->name);
		cJSON_AddStringToObject(o, "type", f->type);
		cJSON_AddBoolToObject(o, "required", f->required);
		if (f->def != NULL)
			cJSON_AddStringToObject(o, "default", f->def);
		if (f->help != NULL)
			cJSON_AddStringToObject(o, "help", f->help);
		/*
		 * A plugin of one kind needs no marker in its table, but a
		 * client should not have to know that: say it for it.
		 */
		if (f->role != NULL)
			cJSON_AddStringToObject(o, "for", f->role);
		else if (is_target != is_store)
			cJSON_AddStringToObject(o, "for",
			    is_target ? "target" : "store");
		if (f->label != NULL)
			cJSON_AddStringToObject(o, "label", f->label);
		cJSON_AddItemToArray(fields, o);
	}
	text = cJSON_Print(root);
	printf("%s\n", text);
	free(text);
	cJSON_Delete(root);
	return fflush(stdout) == 0 ? 0 : 1;
}

/* 1 if a value has the JSON type (or text form) a field type wants. */
static int
plugin_field_type_ok(const struct plugin_field *f, const cJSON *v)
{
	long long n;
	int b;

	if (strcmp(f->type, "bool") == 0)
		return plugin_value_bool(v, &b) == 0;
	if (strcmp(f->type, "port") == 0 || strcmp(f->type, "int") == 0) {
		if (plugin_value_int(v, &n) != 0)
			return 0;
		if (strcmp(f->type, "port") == 0)
			return n >= 1 && n <= 65535;
		return n >= 0;
	}
	if (strcmp(f->type, "list") == 0) {
		/* A comma-separated string, or an array of strings. */
		if (cJSON_IsString(v))
			return 1;
		if (!cJSON_IsArray(v))
			return 0;
		for (v = v->child; v != NULL; v = v->next) {
			if (!cJSON_IsString(v))
				return 0;
		}
		return 1;
	}
	return cJSON_IsString(v);
}

/*
 * Give every number held by a field of type string its text form, so that
 * "part_size": 5242880 reads like "5242880" to the plugin and its checks.
 */
static void
plugin_fields_normalize(const struct plugin_def *def, cJSON *ep)
{
	const struct plugin_field *f;
	cJSON *v;
	char buf[64], *text;
	double d;

	for (f = def->fields; f != NULL && f->name != NULL; f++) {
		v = cJSON_GetObjectItemCaseSensitive(ep, f->name);
		if (!cJSON_IsNumber(v) || strcmp(f->type, "string") != 0)
			continue;
		d = v->valuedouble;
		if (d >= -9007199254740992.0 && d <= 9007199254740992.0 &&
		    d == (double)(long long)d) {
			snprintf(buf, sizeof buf, "%lld", (long long)d);
			cJSON_ReplaceItemInObjectCaseSensitive(ep, f->name,
			    cJSON_CreateString(buf));
		} else if ((text = cJSON_PrintUnformatted(v)) != NULL) {
			cJSON_ReplaceItemInObjectCaseSensitive(ep, f->name,
			    cJSON_CreateString(text));
			free(text);
		}
	}
}

/*
 * Check the endpoint against the declared fields: required ones present and
 * non-empty, every present one of the right type.  Reports each problem.
 */
static int
plugin_fields_check(const struct plugin_def *def, const cJSON *ep)
{
	const struct plugin_field *f;
	const cJSON *v;
	int bad = 0;

	for (f = def->fields; f != NULL && f->name != NULL; f++) {
		v = cJSON_GetObjectItemCaseSensitive(ep, f->name);
		if (v == NULL || cJSON_IsNull(v)) {
			if (f->required && f->def == NULL) {
				plugin_error("%s is required", f->name);
				bad = 1;
			}
			continue;
		}
		if (!plugin_field_type_ok(f, v)) {
			plugin_error("%s must be a %s", f->name, f->type);
			bad = 1;
		} else if (f->required && cJSON_IsString(v) &&
		    v->valuestring[0] == '\0') {
			plugin_error("%s must not be empty", f->name);
			bad = 1;
		}
	}
	return bad;
}

/* Print usage on stderr. */
static int
plugin_usage(const struct plugin_def *def)
{
	fprintf(stderr,
	    "usage: %s info\n"
	    "       %s validate --endpoint JSON\n"
	    "       %s backup|restore|store --endpoint JSON\n"
	    "       %s retrieve|purge --endpoint JSON --key KEY\n",
	    def->short_name, def->short_name, def->short_name,
	    def->short_name);
	return 2;
}

/* Dispatch an action that needs an endpoint. */
static int
plugin_dispatch(const struct plugin_def *def, const char *action,
    const cJSON *ep, const char *key)
{
	int needs_key = strcmp(action, "retrieve") == 0 ||
	    strcmp(action, "purge") == 0;

	if (needs_key && (key == NULL || key[0] == '\0')) {
		plugin_error("%s needs --key", action);
		return 2;
	}
	if (strcmp(action, "validate") == 0) {
		if (plugin_fields_check(def, ep) != 0)
			return 1;
		return def->validate != NULL ? def->validate(ep) : 0;
	}
	if (plugin_fields_check(def, ep) != 0)
		return 1;
#define PLUGIN_ACTION(a, call)						\
	if (strcmp(action, #a) == 0) {					\
		if (def->a == NULL) {					\
			plugin_error("%s is not supported", #a);	\
			return 2;					\
		}							\
		return call;						\
	}
	PLUGIN_ACTION(backup, def->backup(ep))
	PLUGIN_ACTION(restore, def->restore(ep))
	PLUGIN_ACTION(store, def->store(ep))
	PLUGIN_ACTION(retrieve, def->retrieve(ep, key))
	PLUGIN_ACTION(purge, def->purge(ep, key))
#undef PLUGIN_ACTION
	plugin_error("unknown action '%s'", action);
	return 2;
}

/* Entry point: parse argv and run the action. */
int
plugin_main(const struct plugin_def *def, int argc, char **argv)
{
	const char *action, *ep_text = NULL, *key = NULL;
	cJSON *ep;
	int i, rc;

	plugin_self = def->short_name;
	plugin_current = def;
	signal(SIGPIPE, SIG_DFL);
	if (argc < 2)
		return plugin_usage(def);
	action = argv[1];
	if (strcmp(action, "info") == 0)
		return plugin_info_print(def);
	/*
	 * "--key KEY" (the protocol's form) and "--key=KEY" alike: the value
	 * is the next argument whatever it looks like, even "--endpoint".
	 */
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--endpoint") == 0 && i + 1 < argc)
			ep_text = argv[++i];
		else if (strncmp(argv[i], "--endpoint=", 11) == 0)
			ep_text = argv[i] + 11;
		else if (strcmp(argv[i], "--key") == 0 && i + 1 < argc)
			key = argv[++i];
		else if (strncmp(argv[i], "--key=", 6) == 0)
			key = argv[i] + 6;
		else {
			/* Name an option, never a value: it may be a secret. */
			if (argv[i][0] == '-')
				plugin_error("unexpected argument '%.*s'",
				    (int)strcspn(argv[i], "="), argv[i]);
			else
				plugin_error("unexpected argument %d", i);
			return plugin_usage(def);
		}
	}
	if (ep_text == NULL) {
		plugin_error("%s needs --endpoint JSON", action);
		return 2;
	}
	ep = cJSON_Parse(ep_text);
	if (!cJSON_IsObject(ep)) {
		/* Never echo the text: it may hold a password. */
		plugin_error("the endpoint is not a JSON object");
		cJSON_Delete(ep);
		return 2;
	}
	plugin_fields_normalize(def, ep);
	rc = plugin_dispatch(def, action, ep, key);
	cJSON_Delete(ep);
	if (fflush(stdout) != 0 && rc == 0) {
		plugin_error("writing standard output: %s", strerror(errno));
		rc = 1;
	}
	return rc;
}

/* Build environ plus the extra entries; the result is freed by the caller. */
static char **
plugin_env_merge(const char *const *env)
{
	size_t n = 0, m = 0, i;
	char **out;

	while (environ[n] != NULL)
		n++;
	while (env != NULL && env[m] != NULL)
		m++;
	if ((out = calloc(n + m + 1, sizeof *out)) == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		out[i] = environ[i];
	for (i = 0; i < m; i++)
		out[n + i] = (char *)env[i];
	return out;
}

/* Start argv with in/out as stdin/stdout. */
pid_t
plugin_spawn(const char *const *argv, const char *const *env, int in, int out)
{
	char **envp;
	pid_t pid;

	if ((envp = plugin_env_merge(env)) == NULL) {
		plugin_error("out of memory");
		return -1;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid == -1) {
		plugin_error("fork: %s", strerror(errno));
		free(envp);
		return -1;
	}
	if (pid == 0) {
		if (in >= 0 && in != 0 && dup2(in, 0) == -1)
			_exit(127);
		if (out >= 0 && out != 1 && dup2(out, 1) == -1)
			_exit(127);
		signal(SIGPIPE, SIG_DFL);
		execvpe(argv[0], (char *const *)argv, envp);
		fprintf(stderr, "%s: cannot run %s: %s\n", plugin_self,
		    argv[0], strerror(errno));
		_exit(127);
	}
	free(envp);
	return pid;
}

/* Wait for pid; map the wait status to an exit code. */
int
plugin_wait(pid_t pid, const char *what)
{
	int status;

	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			plugin_error("waitpid %s: %s", what, strerror(errno));
			return -1;
		}
	}
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return -1;
}

/* Run argv and wait. */
int
plugin_run(const char *const *argv, const char *const *env, int in, int out)
{
	pid_t pid;

	if ((pid = plugin_spawn(argv, env, in, out)) == -1)
		return -1;
	return plugin_wait(pid, argv[0]);
}

/* Copy everything from one descriptor to another. */
int
plugin_copy(int from, int to)
{
	char buf[128 * 1024];
	ssize_t n, w, off;

	for (;;) {
		n = read(from, buf, sizeof buf);
		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			plugin_error("read: %s", strerror(errno));
			return -1;
		}
		for (off = 0; off < n; off += w) {
			w = write(to, buf + off, (size_t)(n - off));
			if (w < 0) {
				if (errno == EINTR) {
					w = 0;
					continue;
				}
				plugin_error("write: %s", strerror(errno));
				return -1;
			}
		}
	}
}

/* Print the store result. */
void
plugin_print_key(const char *key)
{
	cJSON *o = cJSON_CreateObject();
	char *text;

	cJSON_AddStringToObject(o, "key", key);
	text = cJSON_PrintUnformatted(o);
	printf("%s\n", text);
	free(text);
	cJSON_Delete(o);
}
