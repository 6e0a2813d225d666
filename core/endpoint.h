/*
 * endpoint: the limits shieldd puts on what it hands to plugins, beyond what
 * each plugin checks for itself.  A plugin runs as shieldd's user, so an
 * endpoint is as powerful as that user: these checks keep the dangerous
 * cases out, both when a target or store is saved and again just before a
 * task runs (the configuration or the file system may have changed since).
 *
 * - Every `*_bindir` key (pg_bindir, mysql_bindir, ...) names a directory
 *   whose programs the plugin will run: after resolving symlinks and `..`,
 *   it must be one of the allowed directories (--bin-dirs; `*` matches one
 *   path component).
 * - The fs plugin's base_dir is replaced wholesale by a restore: it may not
 *   be `/`, nor hold or lie in shieldd's plugin or web directory, nor hold
 *   the catalog's directory or be one of the catalog's own files; with
 *   --fs-roots, a target's base_dir must lie in one of those roots.
 * - A store key is passed back as `--key KEY`: it must be non-empty, valid
 *   UTF-8 without control characters, and must not start with '-'.
 *
 * Nothing here reads the catalog or logs; messages never quote a value of
 * a key that may be secret (only base_dir and *_bindir paths are named).
 */
#ifndef SHIELD_ENDPOINT_H
#define SHIELD_ENDPOINT_H

#include <stddef.h>

struct shieldd_config;

/* The directories *_bindir may name when --bin-dirs is not given. */
#define ENDPOINT_BIN_DIRS \
	"/usr/bin:/usr/local/bin:/usr/lib/postgresql/*/bin"

/*
 * Check the endpoint (JSON text) of a target (is_target 1) or a store of
 * plugin under cfg.  Returns 0 when it may be used; else -1 with *errp set
 * to every reason, one per line (the caller frees it).  An endpoint that
 * is not a JSON object is left to the caller and the plugin: 0.
 */
int	 endpoint_check(const struct shieldd_config *, const char *plugin,
	    int is_target, const char *endpoint, char **errp);

/* NULL if a store key may be passed to a plugin, else why not (static). */
const char *endpoint_key_check(const char *key);

/*
 * Write key into buf (size >= 8) for a log line: printable ASCII as is, any
 * other byte as \xNN, cut with "..." when it does not fit.
 */
void	 endpoint_key_quote(const char *key, char *buf, size_t size);

#endif
