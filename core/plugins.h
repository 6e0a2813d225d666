/*
 * plugins: the registry of plugin executables in the plugin directory.  It
 * knows their short names, runs `info` on each (asynchronously, through the
 * pipeline module) and caches the answers, and runs `validate` on request.
 * Plugin names are looked up in the directory only: a name with a slash, a
 * dot-dot or anything but [A-Za-z0-9_-] is refused.
 *
 * Ownership: returned paths are allocated and owned by the caller; info
 * objects (cJSON) stay owned by the registry and are valid until the next
 * rescan completes.
 */
#ifndef SHIELD_PLUGINS_H
#define SHIELD_PLUGINS_H

#include <cJSON.h>

struct child_set;
struct plugins;

struct plugins	*plugins_new(struct child_set *, const char *dir);
void		 plugins_free(struct plugins *);
/* 1 if the name is acceptable as a plugin short name. */
int		 plugins_name_valid(const char *);
/*
 * The executable's path for a short name; NULL with *errp set (caller frees)
 * if the name is invalid or no executable of that name is in the directory.
 */
char		*plugins_path(struct plugins *, const char *name, char **errp);
/* Start (re)reading every plugin's info; done_cb (may be NULL) when done. */
void		 plugins_scan(struct plugins *, void (*done_cb)(void *), void *);
/* Rescan if the directory changed since the last scan. */
void		 plugins_refresh(struct plugins *);
/* The cached info array (each with "plugin": name); never NULL. */
const cJSON	*plugins_list(struct plugins *);
/* The cached info of one plugin, or NULL. */
const cJSON	*plugins_info(struct plugins *, const char *name);
/*
 * Parse what `info` printed: a JSON object with a "features" object, given
 * "plugin": name in place of any it had.  NULL if it is not one; else the
 * caller owns the result.
 */
cJSON		*plugins_info_parse(const char *output, const char *name);

/*
 * Validate an endpoint with the plugin's `validate` action, if its info says
 * it has one.  cb gets ok=1, or ok=0 and the plugin's reasons (one per
 * line).  Returns -1 (and does not call cb) if the plugin cannot be found,
 * with *errp set.
 */
typedef void (*plugins_validate_cb)(int ok, const char *reasons, void *arg);
int		 plugins_validate(struct plugins *, const char *name,
		    const char *endpoint, plugins_validate_cb, void *arg,
		    char **errp);
/* Cancel a pending validation's callback (e.g. the client went away). */
void		 plugins_validate_abandon(struct plugins *, void *arg);

#endif
