/*
 * The daemon's own limits on endpoints and store keys (see endpoint.h):
 * paths are compared only after resolving symlinks and `..` (the part of a
 * path that does not exist yet is taken as written, `..` cutting the part
 * before it), so a link or a detour cannot name a directory the plain path
 * would not be allowed to.
 */
#include <errno.h>
#include <glob.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "daemon.h"
#include "endpoint.h"
#include "log.h"
#include "xmalloc.h"

/* Symlinks followed by endpoint_resolve() before giving up, as the kernel. */
#define ENDPOINT_LINKS_MAX	40

/* Append one line to *errp. */
static void
endpoint_say(char **errp, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void
endpoint_say(char **errp, const char *fmt, ...)
{
	va_list ap;
	char *line, *all;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&line, fmt, ap);
	va_end(ap);
	if (n == -1)
		fatal("out of memory");
	if (*errp == NULL) {
		*errp = line;
		return;
	}
	xasprintf(&all, "%s\n%s", *errp, line);
	free(*errp);
	free(line);
	*errp = all;
}

/*
 * The absolute path an absolute path stands for, with every symlink and
 * `..` resolved as far as the path exists; the caller frees it.  NULL with
 * errno set when it cannot be resolved (a loop, a file in the middle, ...).
 */
static char *
endpoint_resolve_at(const char *path, int depth)
{
	char *copy, *parent, *r, *out, *target;
	const char *base;
	struct stat st;
	size_t len;
	ssize_t n;

	if ((r = realpath(path, NULL)) != NULL)
		return r;
	if (errno != ENOENT || depth > ENDPOINT_LINKS_MAX || path[0] != '/')
		return NULL;
	copy = xstrdup(path);
	len = strlen(copy);
	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	/* A dangling symlink stands for where it points. */
	if (lstat(copy, &st) == 0 && S_ISLNK(st.st_mode)) {
		target = xmalloc(PATH_MAX);
		n = readlink(copy, target, PATH_MAX - 1);
		if (n <= 0) {
			free(target);
			free(copy);
			return NULL;
		}
		target[n] = '\0';
		if (target[0] != '/') {
			*strrchr(copy, '/') = '\0';
			xasprintf(&out, "%s/%s", copy, target);
			free(target);
			target = out;
		}
		r = endpoint_resolve_at(target, depth + 1);
		free(target);
		free(copy);
		return r;
	}
	base = strrchr(copy, '/') + 1;
	parent = base - 1 == copy ? xstrdup("/") : xstrndup(copy,
	    (size_t)(base - 1 - copy));
	r = endpoint_resolve_at(parent, depth);
	free(parent);
	if (r != NULL && strcmp(base, "..") == 0) {
		/* The parent of a resolved path: its last component cut. */
		if ((out = strrchr(r, '/')) == r)
			r[1] = '\0';
		else
			*out = '\0';
	} else if (r != NULL && strcmp(base, ".") != 0 && *base != '\0') {
		xasprintf(&out, "%s%s%s", r, strcmp(r, "/") == 0 ? "" : "/",
		    base);
		free(r);
		r = out;
	}
	free(copy);
	return r;
}

/* endpoint_resolve_at() from the top. */
static char *
endpoint_resolve(const char *path)
{
	return endpoint_resolve_at(path, 0);
}

/* 1 if the resolved path child is parent or lies below it. */
static int
endpoint_within(const char *child, const char *parent)
{
	size_t n = strlen(parent);

	if (strcmp(parent, "/") == 0)
		return 1;
	return strncmp(child, parent, n) == 0 &&
	    (child[n] == '\0' || child[n] == '/');
}

/* 1 if the resolved directory dir matches an entry of a ':' list. */
static int
endpoint_bindir_allowed(const char *list, const char *dir)
{
	char *copy, *entry, *save, *r;
	glob_t g;
	size_t i;
	int found = 0;

	copy = xstrdup(list);
	for (entry = strtok_r(copy, ":", &save); entry != NULL && !found;
	    entry = strtok_r(NULL, ":", &save)) {
		if (entry[0] != '/' || glob(entry, 0, NULL, &g) != 0)
			continue;
		for (i = 0; i < g.gl_pathc && !found; i++) {
			if ((r = realpath(g.gl_pathv[i], NULL)) == NULL)
				continue;
			found = strcmp(r, dir) == 0;
			free(r);
		}
		globfree(&g);
	}
	free(copy);
	return found;
}

/* Check one *_bindir value; reasons go to *errp.  0 or -1. */
static int
endpoint_check_bindir(const struct shieldd_config *cfg, const cJSON *v,
    char **errp)
{
	const char *list = cfg->bin_dirs != NULL ? cfg->bin_dirs :
	    ENDPOINT_BIN_DIRS;
	const char *path;
	struct stat st;
	char *r;
	int rc = 0;

	if (cJSON_IsNull(v) || (cJSON_IsString(v) && v->valuestring[0] ==
	    '\0'))
		return 0;	/* unset: the plugin looks in PATH */
	if (!cJSON_IsString(v)) {
		endpoint_say(errp, "%s must be a path", v->string);
		return -1;
	}
	path = v->valuestring;
	if (path[0] != '/') {
		endpoint_say(errp, "%s must be an absolute path", v->string);
		return -1;
	}
	if ((r = realpath(path, NULL)) == NULL || stat(r, &st) == -1 ||
	    !S_ISDIR(st.st_mode)) {
		endpoint_say(errp, "%s %s is not a directory", v->string,
		    path);
		free(r);
		return -1;
	}
	if (!endpoint_bindir_allowed(list, r)) {
		endpoint_say(errp, "%s %s is not one of the directories "
		    "shieldd lets plugins run tools from (--bin-dirs %s)",
		    v->string, path, list);
		rc = -1;
	}
	free(r);
	return rc;
}

/*
 * Check an fs base_dir against shieldd's own files: the catalog (its
 * directory, and the files named after it), a --key-file kept elsewhere,
 * the plugin and web directories.
 */
static int
endpoint_check_own(const struct shieldd_config *cfg, const char *path,
    const char *r, char **errp)
{
	const char *dirs[2] = { cfg->plugins, cfg->web };
	const char *names[2] = { "plugin", "web" };
	char *db, *d, *slash;
	int rc = 0, i;

	if (cfg->db != NULL && (db = endpoint_resolve(cfg->db)) != NULL) {
		/* shield.db, shield.db-wal, shield.db.lock, ... */
		if (strncmp(r, db, strlen(db)) == 0) {
			endpoint_say(errp, "base_dir %s is one of shieldd's "
			    "catalog files", path);
			rc = -1;
		} else {
			slash = strrchr(db, '/');
			d = slash == db ? xstrdup("/") : xstrndup(db,
			    (size_t)(slash - db));
			if (endpoint_within(d, r)) {
				endpoint_say(errp, "base_dir %s holds "
				    "shieldd's catalog (%s)", path, cfg->db);
				rc = -1;
			}
			free(d);
		}
		free(db);
	}
	/* A backup would carry the key off, a restore could replace it. */
	if (cfg->key_file != NULL &&
	    (d = endpoint_resolve(cfg->key_file)) != NULL) {
		if (endpoint_within(d, r)) {
			endpoint_say(errp, "base_dir %s holds shieldd's master "
			    "key (%s)", path, cfg->key_file);
			rc = -1;
		}
		free(d);
	}
	for (i = 0; i < 2; i++) {
		if (dirs[i] == NULL || (d = endpoint_resolve(dirs[i])) == NULL)
			continue;
		if (endpoint_within(d, r) || endpoint_within(r, d)) {
			endpoint_say(errp, "base_dir %s holds or lies in "
			    "shieldd's %s directory (%s)", path, names[i],
			    dirs[i]);
			rc = -1;
		}
		free(d);
	}
	return rc;
}

/* 1 if the resolved path lies in one of the roots of a ':' list. */
static int
endpoint_in_roots(const char *list, const char *r)
{
	char *copy, *entry, *save, *root;
	int found = 0;

	copy = xstrdup(list);
	for (entry = strtok_r(copy, ":", &save); entry != NULL && !found;
	    entry = strtok_r(NULL, ":", &save)) {
		if (entry[0] != '/' || (root = endpoint_resolve(entry)) == NULL)
			continue;
		found = endpoint_within(r, root);
		free(root);
	}
	free(copy);
	return found;
}

/* Check the fs plugin's base_dir; reasons go to *errp.  0 or -1. */
static int
endpoint_check_fs(const struct shieldd_config *cfg, int is_target,
    const cJSON *ep, char **errp)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(ep, "base_dir");
	const char *path;
	char *r;
	int rc;

	/* Missing, relative or of the wrong type: the plugin says so. */
	if (!cJSON_IsString(v) || v->valuestring[0] != '/')
		return 0;
	path = v->valuestring;
	if ((r = endpoint_resolve(path)) == NULL) {
		endpoint_say(errp, "base_dir %s cannot be resolved: %s", path,
		    strerror(errno));
		return -1;
	}
	if (strcmp(r, "/") == 0) {
		endpoint_say(errp, "base_dir must not be / (it resolves to /, "
		    "and a restore replaces everything in base_dir)");
		free(r);
		return -1;
	}
	rc = endpoint_check_own(cfg, path, r, errp);
	if (is_target && cfg->fs_roots != NULL &&
	    !endpoint_in_roots(cfg->fs_roots, r)) {
		endpoint_say(errp, "base_dir %s is outside the directories fs "
		    "targets may use (--fs-roots %s)", path, cfg->fs_roots);
		rc = -1;
	}
	free(r);
	return rc;
}

/* Check an endpoint against the daemon's limits. */
int
endpoint_check(const struct shieldd_config *cfg, const char *plugin,
    int is_target, const char *endpoint, char **errp)
{
	cJSON *ep, *v;
	size_t n;
	int rc = 0;

	*errp = NULL;
	ep = cJSON_Parse(endpoint != NULL ? endpoint : "");
	if (!cJSON_IsObject(ep)) {
		cJSON_Delete(ep);
		return 0;
	}
	cJSON_ArrayForEach(v, ep) {
		n = strlen(v->string);
		if (n >= 7 && strcmp(v->string + n - 7, "_bindir") == 0 &&
		    endpoint_check_bindir(cfg, v, errp) != 0)
			rc = -1;
	}
	if (strcmp(plugin, "fs") == 0 &&
	    endpoint_check_fs(cfg, is_target, ep, errp) != 0)
		rc = -1;
	cJSON_Delete(ep);
	return rc;
}

/* Length of the UTF-8 sequence at p that is valid and no control, or 0. */
static size_t
endpoint_utf8_char(const unsigned char *p)
{
	unsigned int c;
	size_t n, i;

	if (*p < 0x80)
		return *p >= 0x20 && *p != 0x7f ? 1 : 0;
	if (*p >= 0xc2 && *p <= 0xdf) {
		n = 2;
		c = *p & 0x1f;
	} else if (*p >= 0xe0 && *p <= 0xef) {
		n = 3;
		c = *p & 0x0f;
	} else if (*p >= 0xf0 && *p <= 0xf4) {
		n = 4;
		c = *p & 0x07;
	} else
		return 0;
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (p[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond Unicode, C1 controls. */
	if ((n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff ||
	    (c >= 0x80 && c <= 0x9f))
		return 0;
	return n;
}

/* Whether a store key may be passed on a plugin's command line. */
const char *
endpoint_key_check(const char *key)
{
	const unsigned char *p;
	size_t n;

	if (key == NULL || key[0] == '\0')
		return "it is empty";
	if (key[0] == '-')
		return "it starts with '-', like an option";
	for (p = (const unsigned char *)key; *p != '\0'; p += n) {
		if ((n = endpoint_utf8_char(p)) == 0)
			return *p < 0x20 || *p == 0x7f ?
			    "it holds a control character" : "it is not valid "
			    "UTF-8 or holds a control character";
	}
	return NULL;
}

/* A key made safe to show in a log line. */
void
endpoint_key_quote(const char *key, char *buf, size_t size)
{
	const unsigned char *p;
	size_t o = 0;

	for (p = (const unsigned char *)key; *p != '\0'; p++) {
		if (o + 4 + 4 >= size) {
			memcpy(buf + o, "...", 4);
			return;
		}
		if (*p >= 0x20 && *p < 0x7f && *p != '\\')
			buf[o++] = (char)*p;
		else
			o += (size_t)snprintf(buf + o, size - o, "\\x%02x", *p);
	}
	buf[o] = '\0';
}
