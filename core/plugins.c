/*
 * The plugin registry: finds plugin executables by short name in one
 * directory, reads each one's `info` through the pipeline module (never
 * blocking the loop) and caches it, and runs `validate` for the API.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"
#include "pipeline.h"
#include "plugins.h"
#include "xmalloc.h"

#define PLUGINS_INFO_TIMEOUT	15
#define PLUGINS_VALIDATE_TIMEOUT 30
#define PLUGINS_NAME_MAX	64

struct plugins;

/* One plugin process in flight: an info read or a validation. */
struct plugins_call {
	struct plugins		*reg;
	struct pipeline		*pl;
	char			*name;
	char			*path;
	plugins_validate_cb	 cb;
	void			*arg;
	int			 is_validate;
	char			*reason_text;
	size_t			 reason_len;
	LIST_ENTRY(plugins_call) entry;
};

struct plugins {
	struct child_set		*children;
	char				*dir;
	cJSON				*list;		/* cached infos */
	cJSON				*scanning;	/* being built */
	int				 pending;	/* info calls left */
	struct timespec			 scanned_mtime;
	int				 have_scan;
	void				(*done_cb)(void *);
	void				*done_arg;
	LIST_HEAD(, plugins_call)	 calls;
};

/* Accept only plain short names. */
int
plugins_name_valid(const char *name)
{
	size_t i, n;

	if (name == NULL || (n = strlen(name)) == 0 || n > PLUGINS_NAME_MAX)
		return 0;
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' &&
		    name[i] != '-')
			return 0;
	}
	return name[0] != '-';
}

/* Create the registry. */
struct plugins *
plugins_new(struct child_set *children, const char *dir)
{
	struct plugins *p = xcalloc(1, sizeof *p);

	p->children = children;
	p->dir = xstrdup(dir);
	p->list = cJSON_CreateArray();
	LIST_INIT(&p->calls);
	return p;
}

/* Free a call (its pipeline must have finished or be abandoned). */
static void
plugins_call_free(struct plugins_call *c)
{
	LIST_REMOVE(c, entry);
	if (c->pl != NULL)
		pipeline_free(c->pl);
	free(c->name);
	free(c->path);
	free(c->reason_text);
	free(c);
}

/* Free the registry; a validation in flight is answered "shutting down". */
void
plugins_free(struct plugins *p)
{
	struct plugins_call *c;

	if (p == NULL)
		return;
	while ((c = LIST_FIRST(&p->calls)) != NULL) {
		/* A caller waiting for a verdict gets one, so it can answer. */
		if (c->is_validate && c->cb != NULL)
			c->cb(0, "shieldd is shutting down", c->arg);
		plugins_call_free(c);
	}
	cJSON_Delete(p->list);
	cJSON_Delete(p->scanning);
	free(p->dir);
	free(p);
}

/* The path of a plugin, checked to be an executable regular file. */
char *
plugins_path(struct plugins *p, const char *name, char **errp)
{
	struct stat st;
	char *path;

	if (!plugins_name_valid(name)) {
		xasprintf(errp, "'%.64s' is not a valid plugin name (letters, "
		    "digits, '-' and '_' only)", name != NULL ? name : "");
		return NULL;
	}
	xasprintf(&path, "%s/%s", p->dir, name);
	if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) {
		xasprintf(errp, "no plugin named '%s' in %s", name, p->dir);
		free(path);
		return NULL;
	}
	if (access(path, X_OK) != 0) {
		xasprintf(errp, "plugin '%s' is not executable", name);
		free(path);
		return NULL;
	}
	return path;
}

/* Collect stderr lines of a validation as reasons. */
static void
plugins_line_cb(const char *stage, const char *line, void *arg)
{
	struct plugins_call *c = arg;
	size_t n = strlen(line);

	(void)stage;
	if (!c->is_validate)
		return;
	if (c->reason_len + n + 2 > 16384)
		return;
	c->reason_text = xrealloc(c->reason_text, c->reason_len + n + 2);
	memcpy(c->reason_text + c->reason_len, line, n);
	c->reason_len += n;
	c->reason_text[c->reason_len++] = '\n';
	c->reason_text[c->reason_len] = '\0';
}

/* Sort the cached list by plugin name. */
static int
plugins_cmp(const void *a, const void *b)
{
	const cJSON *const *x = a, *const *y = b;
	const cJSON *nx = cJSON_GetObjectItem(*x, "plugin");
	const cJSON *ny = cJSON_GetObjectItem(*y, "plugin");

	return strcmp(nx->valuestring, ny->valuestring);
}

/* All info calls are back: publish the new list. */
static void
plugins_scan_finish(struct plugins *p)
{
	cJSON **items, *it;
	int n = cJSON_GetArraySize(p->scanning), i = 0;
	void (*cb)(void *) = p->done_cb;

	items = xcalloc((size_t)n + 1, sizeof *items);
	while ((it = cJSON_DetachItemFromArray(p->scanning, 0)) != NULL)
		items[i++] = it;
	qsort(items, (size_t)i, sizeof *items, plugins_cmp);
	cJSON_Delete(p->list);
	p->list = cJSON_CreateArray();
	for (n = 0; n < i; n++)
		cJSON_AddItemToArray(p->list, items[n]);
	free(items);
	cJSON_Delete(p->scanning);
	p->scanning = NULL;
	log_info("%d plugin(s) in %s", i, p->dir);
	p->done_cb = NULL;
	if (cb != NULL)
		cb(p->done_arg);
}

/* A plugin's `info` output as the registry keeps it, or NULL if unusable. */
cJSON *
plugins_info_parse(const char *output, const char *name)
{
	cJSON *info = cJSON_Parse(output != NULL ? output : "");
	const cJSON *feat = cJSON_GetObjectItemCaseSensitive(info, "features");

	if (!cJSON_IsObject(info) || !cJSON_IsObject(feat)) {
		cJSON_Delete(info);
		return NULL;
	}
	/* Every "plugin" it printed: a second one would name another. */
	while (cJSON_GetObjectItem(info, "plugin") != NULL)
		cJSON_DeleteItemFromObject(info, "plugin");
	cJSON_AddStringToObject(info, "plugin", name);
	return info;
}

/* An info or validate process finished. */
static void
plugins_done_cb(struct pipeline *pl, const struct pipeline_result *res,
    void *arg)
{
	struct plugins_call *c = arg;
	struct plugins *p = c->reg;
	cJSON *info;

	(void)pl;
	if (c->is_validate) {
		if (c->cb != NULL)
			c->cb(res->failure == NULL, res->failure == NULL ?
			    NULL : (c->reason_text != NULL ? c->reason_text :
			    res->failure), c->arg);
		plugins_call_free(c);
		return;
	}
	info = res->failure == NULL ? plugins_info_parse(res->output,
	    c->name) : NULL;
	if (info == NULL)
		log_warn("plugin %s: `info` did not print valid JSON "
		    "(%s); ignored", c->name, res->failure != NULL ?
		    res->failure : "bad JSON");
	else
		cJSON_AddItemToArray(p->scanning, info);
	plugins_call_free(c);
	if (--p->pending == 0)
		plugins_scan_finish(p);
}

/* Start one plugin process for the registry. */
static struct plugins_call *
plugins_call_start(struct plugins *p, const char *name, const char *path,
    const char *const *argv, int is_validate, char **errp)
{
	struct pipeline_stage st;
	struct pipeline_opts o;
	struct pipeline_cbs cbs;
	struct plugins_call *c;

	c = xcalloc(1, sizeof *c);
	c->reg = p;
	c->name = xstrdup(name);
	c->path = xstrdup(path);
	c->is_validate = is_validate;
	LIST_INSERT_HEAD(&p->calls, c, entry);
	memset(&st, 0, sizeof st);
	st.name = c->name;
	st.path = c->path;
	st.argv = argv;
	memset(&o, 0, sizeof o);
	o.timeout_s = is_validate ? PLUGINS_VALIDATE_TIMEOUT :
	    PLUGINS_INFO_TIMEOUT;
	memset(&cbs, 0, sizeof cbs);
	cbs.line = plugins_line_cb;
	cbs.done = plugins_done_cb;
	c->pl = pipeline_start(p->children, NULL, &st, &o, &cbs, c, errp);
	if (c->pl == NULL) {
		plugins_call_free(c);
		return NULL;
	}
	return c;
}

/* Read every plugin's info again. */
void
plugins_scan(struct plugins *p, void (*done_cb)(void *), void *arg)
{
	const char *argv[3];
	struct dirent *de;
	struct stat st;
	char *path, *err;
	DIR *dir;

	if (p->scanning != NULL) {
		/* A scan is under way; its result will do. */
		if (done_cb != NULL && p->done_cb == NULL) {
			p->done_cb = done_cb;
			p->done_arg = arg;
		}
		return;
	}
	p->scanning = cJSON_CreateArray();
	p->done_cb = done_cb;
	p->done_arg = arg;
	p->pending = 1;	/* held until the directory has been read */
	if (stat(p->dir, &st) == 0) {
		p->scanned_mtime = st.st_mtim;
		p->have_scan = 1;
	}
	if ((dir = opendir(p->dir)) == NULL)
		log_warn("cannot read the plugin directory %s: %s", p->dir,
		    strerror(errno));
	while (dir != NULL && (de = readdir(dir)) != NULL) {
		if (!plugins_name_valid(de->d_name))
			continue;
		err = NULL;
		if ((path = plugins_path(p, de->d_name, &err)) == NULL) {
			free(err);
			continue;
		}
		argv[0] = de->d_name;
		argv[1] = "info";
		argv[2] = NULL;
		if (plugins_call_start(p, de->d_name, path, argv, 0,
		    &err) != NULL)
			p->pending++;
		else {
			log_warn("plugin %s: %s", de->d_name, err);
			free(err);
		}
		free(path);
	}
	if (dir != NULL)
		closedir(dir);
	if (--p->pending == 0)
		plugins_scan_finish(p);
}

/* Rescan when the directory changed since the last scan. */
void
plugins_refresh(struct plugins *p)
{
	struct stat st;

	if (stat(p->dir, &st) != 0)
		return;
	if (!p->have_scan || st.st_mtim.tv_sec != p->scanned_mtime.tv_sec ||
	    st.st_mtim.tv_nsec != p->scanned_mtime.tv_nsec)
		plugins_scan(p, NULL, NULL);
}

/* The cached list. */
const cJSON *
plugins_list(struct plugins *p)
{
	return p->list;
}

/* The cached info of one plugin. */
const cJSON *
plugins_info(struct plugins *p, const char *name)
{
	const cJSON *it, *n;

	cJSON_ArrayForEach(it, p->list) {
		n = cJSON_GetObjectItemCaseSensitive(it, "plugin");
		if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
			return it;
	}
	return NULL;
}

/* Run the plugin's validate action when it has one. */
int
plugins_validate(struct plugins *p, const char *name, const char *endpoint,
    plugins_validate_cb cb, void *arg, char **errp)
{
	const cJSON *info, *feat, *v;
	struct plugins_call *c;
	const char *argv[5];
	char *path;

	if ((path = plugins_path(p, name, errp)) == NULL)
		return -1;
	plugins_refresh(p);
	info = plugins_info(p, name);
	feat = cJSON_GetObjectItemCaseSensitive(info, "features");
	v = cJSON_GetObjectItemCaseSensitive(feat, "validate");
	if (!cJSON_IsString(v) || strcmp(v->valuestring, "yes") != 0) {
		/* Written to the original protocol: never sent validate. */
		free(path);
		cb(1, NULL, arg);
		return 0;
	}
	argv[0] = name;
	argv[1] = "validate";
	argv[2] = "--endpoint";
	argv[3] = endpoint;
	argv[4] = NULL;
	c = plugins_call_start(p, name, path, argv, 1, errp);
	free(path);
	if (c == NULL)
		return -1;
	c->cb = cb;
	c->arg = arg;
	return 0;
}

/* Forget the callback of validations made for arg. */
void
plugins_validate_abandon(struct plugins *p, void *arg)
{
	struct plugins_call *c;

	LIST_FOREACH(c, &p->calls, entry) {
		if (c->is_validate && c->arg == arg)
			c->cb = NULL;
	}
}
