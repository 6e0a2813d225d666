/*
 * The plugin kit: what every SHIELD plugin written in C shares.  A plugin
 * describes itself in a struct plugin_def and hands argv to plugin_main(),
 * which implements the calling protocol (plugins/PROTOCOL.md): the `info`
 * action, `--endpoint JSON` and `--key KEY` parsing (`--key=KEY` too),
 * checking the endpoint against the declared fields for `validate`, and
 * dispatch to the action.
 *
 * Plugins are small blocking programs: an action returns the exit status
 * (0 for success) and reports problems with plugin_error() on stderr.
 * Nothing here logs an endpoint: it may hold secrets.
 */
#ifndef SHIELD_PLUGIN_H
#define SHIELD_PLUGIN_H

#include <stddef.h>
#include <sys/types.h>

#include <cJSON.h>

/* A configuration key of the endpoint, as listed in `info`. */
struct plugin_field {
	const char	*name;
	const char	*type;		/* string, port, password, path, bool, int, url,
					   list (a comma-separated string or an
					   array of strings) */
	int		 required;
	const char	*def;		/* default, as text, or NULL */
	const char	*help;
	const char	*role;		/* "target" or "store" when only that
					   kind uses it (`for` in info), or
					   NULL */
	const char	*label;		/* a human name for forms, or NULL */
};

struct plugin_def {
	const char			*name;		/* human-readable */
	const char			*short_name;	/* executable name */
	const char			*author;
	const char			*version;
	const char			*help;		/* one paragraph */
	const struct plugin_field	*fields;	/* NULL-name terminated */
	/* Each action may be NULL when the plugin does not support it. */
	int	(*validate)(const cJSON *endpoint);	/* after field checks */
	int	(*backup)(const cJSON *endpoint);
	int	(*restore)(const cJSON *endpoint);
	int	(*store)(const cJSON *endpoint);
	int	(*retrieve)(const cJSON *endpoint, const char *key);
	int	(*purge)(const cJSON *endpoint, const char *key);
};

/* Run the protocol; returns the process exit status. */
int	plugin_main(const struct plugin_def *, int argc, char **argv);

/* Print "<short name>: message" on stderr. */
void	plugin_error(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Print "<short name>: message" on stderr (informational). */
void	plugin_info(const char *, ...) __attribute__((format(printf, 1, 2)));

/*
 * Endpoint accessors.  A missing key gives the field's declared default (or
 * def / NULL); a value of the wrong JSON type is reported by validation.
 * Numbers and booleans are taken in their JSON type or as text (port/int:
 * 5432 or "5432"; bool: true, 1, "yes", "on", ...), and a number in a field
 * of type string reads as its decimal text ("part_size": 5242880).
 * Strings returned point into the endpoint and live as long as it does.
 */
const char	*plugin_ep_string(const cJSON *, const char *key,
		    const char *def);
/* An optional string key (default as above): NULL when missing or empty. */
const char	*plugin_ep_opt(const cJSON *, const char *key);
long long	 plugin_ep_int(const cJSON *, const char *key, long long def);
int		 plugin_ep_bool(const cJSON *, const char *key, int def);

/*
 * Run a program without a shell and wait for it: argv[0] is looked up in
 * PATH unless it contains '/'.  env adds "NAME=value" entries (may be NULL).
 * in/out are descriptors for its stdin/stdout (-1 to inherit).  Returns the
 * exit status (0..255), or 128+signal, or -1 if it could not be started
 * (reported on stderr).
 */
int	plugin_run(const char *const *argv, const char *const *env, int in,
	    int out);
/* Like plugin_run() but does not wait: returns the pid or -1. */
pid_t	plugin_spawn(const char *const *argv, const char *const *env, int in,
	    int out);
/* Wait for a pid from plugin_spawn(); same return values as plugin_run(). */
int	plugin_wait(pid_t, const char *what);

/* Copy fd to fd until EOF; 0 on success, -1 on error (reported). */
int	plugin_copy(int from, int to);
/* Write the {"key": ...} line a store action prints on success. */
void	plugin_print_key(const char *key);

#endif
