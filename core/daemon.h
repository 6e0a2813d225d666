/*
 * The daemon's top-level state: the one struct that owns everything a running
 * shieldd has (event base, catalog, children, scheduler, task supervisor,
 * plugin registry, HTTP server) and its configuration.  There is no other
 * mutable global state.
 */
#ifndef SHIELD_DAEMON_H
#define SHIELD_DAEMON_H

#include <stdint.h>

#include "archive.h"

struct event_base;
struct event;
struct catalog;
struct child_set;
struct scheduler;
struct supervisor;
struct plugins;
struct api;

struct shieldd_config {
	char	*listen;	/* HOST:PORT */
	char	*db;		/* catalog file */
	char	*plugins;	/* plugin directory */
	char	*web;		/* web UI directory, may be NULL */
	int	 workers;	/* concurrent tasks */
	int	 log_level;
	int	 task_timeout;	/* seconds, 0 = none */
	int	 idle_timeout;	/* seconds without output, 0 = none */
	int	 session_ttl;	/* seconds a login session lasts */
	int	 max_connections;	/* open HTTP connections at most */
	int	 http_timeout;	/* seconds an idle or stalled HTTP client lasts */
	char	*hostnames;	/* comma-separated names accepted in Host */
	char	*fs_roots;	/* colon-separated dirs fs targets must be in */
	char	*bin_dirs;	/* colon-separated dirs *_bindir may name */
	char	*key_file;	/* the master key's file; NULL: <db>.key */
	int	 dev_mode;	/* SHIELD_MODE=DEV: every schedule every minute */
	char	*config_file;
};

struct shieldd {
	struct shieldd_config	 cfg;
	struct event_base	*base;
	struct catalog		*cat;
	struct child_set	*children;
	struct plugins		*plugins;
	struct supervisor	*sup;
	struct scheduler	*sched;
	struct api		*api;
	struct event		*sigterm;
	struct event		*sigint;
	struct event		*sighup;
	struct event		*stop_timer;
	int			 lock_fd;
	/*
	 * The master key, read or made at start and wiped by shieldd_free();
	 * it is never logged, put in an environment or given to a plugin.
	 */
	uint8_t			 key[ARCHIVE_KEY_LEN];
	char			 key_id[ARCHIVE_KEY_ID_LEN + 1];
	int64_t			 started_at;
	/*
	 * A password hash of nothing, made at start: a login for an unknown
	 * user is checked against it, so it takes as long as a real one.
	 */
	char			*dummy_hash;
	/*
	 * The one clock of the daemon (scheduler, tasks, API): shieldd_now
	 * unless a test sets its own before shieldd_start().
	 */
	int64_t			(*clock)(void);
	int			 stopping;
	int			 exit_code;
};

/* Fill cfg from defaults, the config file and argv; exits on bad usage. */
int	shieldd_configure(struct shieldd_config *, int argc, char **argv);
void	shieldd_config_clear(struct shieldd_config *);
/* Open the catalog, bind the listener, start everything; -1 on failure. */
int	shieldd_start(struct shieldd *);
/* Run the loop until stopped; returns the exit code. */
int	shieldd_run(struct shieldd *);
void	shieldd_free(struct shieldd *);
/* Begin a clean shutdown (as on SIGTERM). */
void	shieldd_stop(struct shieldd *);
/* The current time; one place so tests and the scheduler agree. */
int64_t	shieldd_now(void);

#endif
