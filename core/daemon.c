/*
 * shieldd's life cycle: configuration (defaults, then an optional config
 * file, then flags), startup (single-instance lock, catalog, recovery of
 * interrupted tasks, admin bootstrap, plugins, scheduler, HTTP), the event
 * loop, and a clean shutdown on SIGTERM/SIGINT that ends running tasks and
 * exits 0.  Every startup problem is one clear line and a non-zero exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "api.h"
#include "catalog.h"
#include "child.h"
#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "plugins.h"
#include "scheduler.h"
#include "supervisor.h"
#include "xmalloc.h"

#define SHIELDD_STOP_GRACE	10	/* seconds before a forced exit */

/* Print usage and the flags. */
static void
shieldd_usage(FILE *f)
{
	fprintf(f,
"usage: shieldd [options]\n"
"\n"
"The SHIELD backup daemon: runs backup, restore and purge tasks through\n"
"plugins on schedule and on request, and serves the /v1 HTTP API and the\n"
"web UI.\n"
"\n"
"  -c, --config FILE      read options from FILE (lines of 'name = value',\n"
"                         names as the long options below; flags win)\n"
"  -l, --listen HOST:PORT address to serve HTTP on (default 127.0.0.1:8080)\n"
"  -d, --db FILE          the SQLite catalog, created and migrated on start\n"
"                         (default ./shield.db)\n"
"  -p, --plugins DIR      where plugin executables are looked up\n"
"                         (default %s)\n"
"  -w, --workers N        tasks run at the same time (default 4)\n"
"      --web DIR          web UI files (default %s)\n"
"  -L, --log-level LEVEL  debug, info, warn or error (default info)\n"
"      --task-timeout S   fail a task running longer than S seconds\n"
"                         (default 86400; 0 = no limit)\n"
"      --idle-timeout S   fail a task whose plugins produce no data and no\n"
"                         log line for S seconds (default 3600; 0 = none)\n"
"      --session-ttl S    how long a login session lasts (default 43200)\n"
"  -h, --help             show this help\n"
"  -V, --version          show the version\n"
"\n"
"Environment:\n"
"  SHIELD_ADMIN_PASSWORD  the password of the user 'admin' created on the\n"
"                         first start (else a random one is printed once\n"
"                         and written to FILE.admin-password, mode 0600)\n"
"  SHIELD_MODE=DEV        run every schedule every minute (development)\n"
"\n"
"Signals: SIGTERM or SIGINT stop accepting requests, end running tasks\n"
"(recorded as interrupted) and exit 0.\n",
	    SHIELD_PLUGIN_DIR, SHIELD_WEB_DIR);
}

/* Apply one option by its long name (a conf_option_fn). */
static int
shieldd_option(void *arg, const char *name, const char *v)
{
	struct shieldd_config *c = arg;
	char **sp = NULL;
	int lvl;

	if (strcmp(name, "listen") == 0)
		sp = &c->listen;
	else if (strcmp(name, "db") == 0)
		sp = &c->db;
	else if (strcmp(name, "plugins") == 0)
		sp = &c->plugins;
	else if (strcmp(name, "web") == 0)
		sp = &c->web;
	else if (strcmp(name, "workers") == 0)
		return conf_number("shieldd", name, v, 1, 256, &c->workers);
	else if (strcmp(name, "task-timeout") == 0)
		return conf_number("shieldd", name, v, 0, INT_MAX, &c->task_timeout);
	else if (strcmp(name, "idle-timeout") == 0)
		return conf_number("shieldd", name, v, 0, INT_MAX, &c->idle_timeout);
	else if (strcmp(name, "session-ttl") == 0)
		return conf_number("shieldd", name, v, 60, INT_MAX, &c->session_ttl);
	else if (strcmp(name, "log-level") == 0) {
		if ((lvl = log_level_parse(v)) < 0) {
			fprintf(stderr, "shieldd: log-level must be debug, "
			    "info, warn or error, not '%s'\n", v);
			return -1;
		}
		c->log_level = lvl;
		return 0;
	} else {
		fprintf(stderr, "shieldd: unknown option '%s'\n", name);
		return -1;
	}
	free(*sp);
	*sp = xstrdup(v);
	return 0;
}

/* Fill the configuration; returns 0, 1 for --help/--version, -1 on error. */
int
shieldd_configure(struct shieldd_config *c, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "listen", required_argument, NULL, 'l' },
		{ "db", required_argument, NULL, 'd' },
		{ "plugins", required_argument, NULL, 'p' },
		{ "workers", required_argument, NULL, 'w' },
		{ "web", required_argument, NULL, 1 },
		{ "log-level", required_argument, NULL, 'L' },
		{ "task-timeout", required_argument, NULL, 2 },
		{ "idle-timeout", required_argument, NULL, 3 },
		{ "session-ttl", required_argument, NULL, 4 },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *mode;
	int ch, i;

	memset(c, 0, sizeof *c);
	c->listen = xstrdup("127.0.0.1:8080");
	c->db = xstrdup("shield.db");
	c->plugins = conf_default_dir("../libexec/shield/plugins",
	    SHIELD_PLUGIN_DIR);
	c->web = conf_default_dir("../share/shield/web", SHIELD_WEB_DIR);
	c->workers = 4;
	c->log_level = LOG_LEVEL_INFO;
	c->task_timeout = 86400;
	c->idle_timeout = 3600;
	c->session_ttl = 43200;
	mode = getenv("SHIELD_MODE");
	c->dev_mode = mode != NULL && strcmp(mode, "DEV") == 0;

	/* The config file first, so that flags override it. */
	for (i = 1; i < argc - 1; i++) {
		if (strcmp(argv[i], "-c") == 0 ||
		    strcmp(argv[i], "--config") == 0) {
			c->config_file = xstrdup(argv[i + 1]);
			if (conf_file_read("shieldd", argv[i + 1],
			    shieldd_option, c) != 0)
				return -1;
		}
	}
	optind = 1;
	while ((ch = getopt_long(argc, argv, "c:l:d:p:w:L:hV", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'c':
			break;
		case 'l':
			if (shieldd_option(c, "listen", optarg) != 0)
				return -1;
			break;
		case 'd':
			if (shieldd_option(c, "db", optarg) != 0)
				return -1;
			break;
		case 'p':
			if (shieldd_option(c, "plugins", optarg) != 0)
				return -1;
			break;
		case 'w':
			if (shieldd_option(c, "workers", optarg) != 0)
				return -1;
			break;
		case 1:
			if (shieldd_option(c, "web", optarg) != 0)
				return -1;
			break;
		case 'L':
			if (shieldd_option(c, "log-level", optarg) != 0)
				return -1;
			break;
		case 2:
			if (shieldd_option(c, "task-timeout", optarg) != 0)
				return -1;
			break;
		case 3:
			if (shieldd_option(c, "idle-timeout", optarg) != 0)
				return -1;
			break;
		case 4:
			if (shieldd_option(c, "session-ttl", optarg) != 0)
				return -1;
			break;
		case 'h':
			shieldd_usage(stdout);
			return 1;
		case 'V':
			printf("shieldd %s\n", SHIELD_VERSION);
			return 1;
		default:
			shieldd_usage(stderr);
			return -1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "shieldd: unexpected argument '%s' (see "
		    "shieldd --help)\n", argv[optind]);
		return -1;
	}
	return 0;
}

/* Free configuration strings. */
void
shieldd_config_clear(struct shieldd_config *c)
{
	free(c->listen);
	free(c->db);
	free(c->plugins);
	free(c->web);
	free(c->config_file);
	memset(c, 0, sizeof *c);
}

/* Take the single-instance lock beside the catalog. */
static int
shieldd_lock(struct shieldd *d)
{
	char *path;

	xasprintf(&path, "%s.lock", d->cfg.db);
	d->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (d->lock_fd == -1) {
		log_error("cannot open %s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		log_error("another shieldd is already running on %s",
		    d->cfg.db);
		free(path);
		return -1;
	}
	free(path);
	return 0;
}

/* Allow many concurrent connections. */
static void
shieldd_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* The supervisor has ended every task: leave the loop. */
static void
shieldd_tasks_ended_cb(void *arg)
{
	struct shieldd *d = arg;

	event_base_loopexit(d->base, NULL);
}

/* The shutdown grace period ran out. */
static void
shieldd_stop_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct shieldd *d = arg;

	(void)fd;
	(void)ev;
	log_warn("tasks did not end in %d s; exiting anyway",
	    SHIELDD_STOP_GRACE);
	event_base_loopexit(d->base, NULL);
}

/* Begin a clean shutdown. */
void
shieldd_stop(struct shieldd *d)
{
	struct timeval tv = { SHIELDD_STOP_GRACE, 0 };

	if (d->stopping)
		return;
	d->stopping = 1;
	log_info("stopping");
	api_close(d->api);
	d->stop_timer = evtimer_new(d->base, shieldd_stop_timer_cb, d);
	evtimer_add(d->stop_timer, &tv);
	supervisor_shutdown(d->sup, "interrupted: shieldd was stopped",
	    shieldd_tasks_ended_cb, d);
}

/* SIGTERM/SIGINT. */
static void
shieldd_signal_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct shieldd *d = arg;

	(void)ev;
	log_info("received signal %d", (int)sig);
	shieldd_stop(d);
}

/* SIGHUP: re-read the plugin directory. */
static void
shieldd_sighup_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct shieldd *d = arg;

	(void)sig;
	(void)ev;
	log_info("SIGHUP: rescanning plugins in %s", d->cfg.plugins);
	plugins_scan(d->plugins, NULL, NULL);
}

/* Plugins' info has been read: the startup wait is over. */
static void
shieldd_scanned_cb(void *arg)
{
	int *done = arg;

	*done = 1;
}

/* Open the catalog and start every part. */
int
shieldd_start(struct shieldd *d)
{
	char *err = NULL;
	int n, scanned = 0;

	log_init(d->cfg.log_level, "shieldd");
	signal(SIGPIPE, SIG_IGN);
	shieldd_raise_nofile();
	d->lock_fd = -1;
	d->started_at = shieldd_now();
	if (shieldd_lock(d) != 0)
		return -1;
	if ((d->cat = catalog_open(d->cfg.db, &err)) == NULL) {
		log_error("cannot open the catalog %s: %s", d->cfg.db,
		    err != NULL ? err : "unknown error");
		free(err);
		return -1;
	}
	n = catalog_tasks_interrupt(d->cat, shieldd_now(),
	    "interrupted: shieldd restarted");
	if (n > 0)
		log_warn("%d task(s) were interrupted by a restart and are "
		    "marked failed", n);
	if (auth_bootstrap(d) != 0)
		return -1;
	if ((d->base = event_base_new()) == NULL) {
		log_error("cannot create the event loop");
		return -1;
	}
	d->children = child_set_new(d->base);
	d->plugins = plugins_new(d->children, d->cfg.plugins);
	d->sup = supervisor_new(d);
	d->sched = scheduler_new(d);
	d->sigterm = evsignal_new(d->base, SIGTERM, shieldd_signal_cb, d);
	d->sigint = evsignal_new(d->base, SIGINT, shieldd_signal_cb, d);
	d->sighup = evsignal_new(d->base, SIGHUP, shieldd_sighup_cb, d);
	evsignal_add(d->sigterm, NULL);
	evsignal_add(d->sigint, NULL);
	evsignal_add(d->sighup, NULL);
	/*
	 * Know the plugins (features, validate) before serving requests: the
	 * listener is bound only once every plugin's info is in.
	 */
	plugins_scan(d->plugins, shieldd_scanned_cb, &scanned);
	while (!scanned && event_base_loop(d->base, EVLOOP_ONCE) == 0)
		;
	if ((d->api = api_new(d, d->cfg.listen, &err)) == NULL) {
		log_error("%s", err);
		free(err);
		return -1;
	}
	if (scheduler_start(d->sched, shieldd_now()) != 0)
		return -1;
	log_info("listening on http://%s (catalog %s, plugins %s%s)",
	    d->cfg.listen, d->cfg.db, d->cfg.plugins,
	    d->cfg.dev_mode ? ", SHIELD_MODE=DEV" : "");
	return 0;
}

/* Run until stopped. */
int
shieldd_run(struct shieldd *d)
{
	event_base_dispatch(d->base);
	log_info("stopped");
	return d->exit_code;
}

/* Release everything, in reverse order of creation. */
void
shieldd_free(struct shieldd *d)
{
	scheduler_free(d->sched);
	supervisor_free(d->sup);
	plugins_free(d->plugins);
	child_set_free(d->children);
	api_free(d->api);
	if (d->sigterm != NULL)
		event_free(d->sigterm);
	if (d->sigint != NULL)
		event_free(d->sigint);
	if (d->sighup != NULL)
		event_free(d->sighup);
	if (d->stop_timer != NULL)
		event_free(d->stop_timer);
	if (d->base != NULL)
		event_base_free(d->base);
	catalog_free(d->cat);
	free(d->dummy_hash);
	if (d->lock_fd != -1)
		close(d->lock_fd);
	shieldd_config_clear(&d->cfg);
}
