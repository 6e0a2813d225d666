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
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "api.h"
#include "archive.h"
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
"                         (default ./shield.db; mode 0600, as are the files\n"
"                         shieldd keeps beside it; a missing directory is\n"
"                         created 0700)\n"
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
"      --max-connections N  HTTP connections open at once (default 1024);\n"
"                         more wait in the listen queue\n"
"      --http-timeout S   close an HTTP connection idle, or not reading its\n"
"                         reply, for S seconds (default 60)\n"
"      --hostnames LIST   comma-separated host names the API answers to in\n"
"                         the Host header, besides IP addresses and\n"
"                         localhost (against DNS rebinding)\n"
"      --fs-roots LIST    colon-separated directories that fs targets' base_dir\n"
"                         must lie in (default: anywhere but / and shieldd's\n"
"                         own directories)\n"
"      --bin-dirs LIST    colon-separated directories that *_bindir endpoint\n"
"                         keys may name (default: /usr/bin, /usr/local/bin,\n"
"                         /usr/lib/postgresql/*/bin)\n"
"      --key-file FILE    the master key, an existing key file (default\n"
"                         FILE.key beside the catalog, created 0600 on the\n"
"                         first start: copy it somewhere safe, encrypted\n"
"                         archives cannot be restored without it)\n"
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

#define SHIELDD_OPT(f)	offsetof(struct shieldd_config, f)

/* Every option of shieldd, as a flag and as a config-file line. */
static const struct conf_option shieldd_options[] = {
	{ "listen", 'l', CONF_STRING, SHIELDD_OPT(listen), 0, 0, NULL },
	{ "db", 'd', CONF_STRING, SHIELDD_OPT(db), 0, 0, NULL },
	{ "plugins", 'p', CONF_STRING, SHIELDD_OPT(plugins), 0, 0, NULL },
	{ "web", 0, CONF_STRING, SHIELDD_OPT(web), 0, 0, NULL },
	{ "workers", 'w', CONF_NUMBER, SHIELDD_OPT(workers), 1, 256, NULL },
	{ "log-level", 'L', CONF_LEVEL, SHIELDD_OPT(log_level), 0, 0, NULL },
	{ "task-timeout", 0, CONF_NUMBER, SHIELDD_OPT(task_timeout), 0,
	    INT_MAX, NULL },
	{ "idle-timeout", 0, CONF_NUMBER, SHIELDD_OPT(idle_timeout), 0,
	    INT_MAX, NULL },
	{ "session-ttl", 0, CONF_NUMBER, SHIELDD_OPT(session_ttl), 60,
	    INT_MAX, NULL },
	{ "max-connections", 0, CONF_NUMBER, SHIELDD_OPT(max_connections), 4,
	    1000000, NULL },
	{ "http-timeout", 0, CONF_NUMBER, SHIELDD_OPT(http_timeout), 1,
	    86400, NULL },
	{ "hostnames", 0, CONF_STRING, SHIELDD_OPT(hostnames), 0, 0, NULL },
	{ "fs-roots", 0, CONF_STRING, SHIELDD_OPT(fs_roots), 0, 0, NULL },
	{ "bin-dirs", 0, CONF_STRING, SHIELDD_OPT(bin_dirs), 0, 0, NULL },
	{ "key-file", 0, CONF_STRING, SHIELDD_OPT(key_file), 0, 0, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL },
};

static const struct conf_spec shieldd_spec = {
	"shieldd", SHIELD_VERSION, shieldd_options,
	SHIELDD_OPT(config_file), shieldd_usage
};

/* Fill the configuration; returns 0, 1 for --help/--version, -1 on error. */
int
shieldd_configure(struct shieldd_config *c, int argc, char **argv)
{
	const char *mode;

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
	c->max_connections = 1024;
	c->http_timeout = 60;
	mode = getenv("SHIELD_MODE");
	c->dev_mode = mode != NULL && strcmp(mode, "DEV") == 0;
	return conf_parse(&shieldd_spec, c, argc, argv);
}

/* Free configuration strings. */
void
shieldd_config_clear(struct shieldd_config *c)
{
	free(c->listen);
	free(c->db);
	free(c->plugins);
	free(c->web);
	free(c->hostnames);
	free(c->fs_roots);
	free(c->bin_dirs);
	free(c->key_file);
	free(c->config_file);
	memset(c, 0, sizeof *c);
}

/*
 * The catalog's directory, which also holds its lock, -wal, -shm and
 * admin-password files: created 0700 when missing (one level, like
 * mkdir); one the user already had keeps its mode (it may be /tmp), with a
 * warning when other users can enter it.
 */
static int
shieldd_catalog_dir(const char *db)
{
	char *copy = xstrdup(db), *dir = dirname(copy);
	struct stat st;

	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode) && (st.st_mode & 077) != 0)
			log_warn("the catalog's directory %s is open to other "
			    "users (mode %04o); the catalog's files are 0600, "
			    "but a directory of its own with mode 0700 is "
			    "safer", dir, (unsigned int)(st.st_mode & 07777));
		free(copy);
		return 0;
	}
	/* chmod: a umask can take bits even from 0700. */
	if (errno != ENOENT || mkdir(dir, 0700) != 0 ||
	    chmod(dir, 0700) != 0) {
		log_error("cannot create the catalog's directory %s: %s", dir,
		    strerror(errno));
		free(copy);
		return -1;
	}
	log_info("created the catalog's directory %s (mode 0700)", dir);
	free(copy);
	return 0;
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
	/* 0600 whatever the umask or an older shieldd made it: it is empty. */
	(void)fchmod(d->lock_fd, 0600);
	if (flock(d->lock_fd, LOCK_EX | LOCK_NB) != 0) {
		log_error("another shieldd is already running on %s",
		    d->cfg.db);
		free(path);
		return -1;
	}
	free(path);
	return 0;
}

/*
 * The master key: --key-file, else <db>.key, made on the first start.  The
 * catalog remembers the id of the key it was first used with, and a start
 * whose key is missing, unreadable or another is refused: a new key would
 * silently leave every archive and secret made with the old one unreadable.
 */
static int
shieldd_key(struct shieldd *d)
{
	char *path, *err = NULL, had[ARCHIVE_KEY_ID_LEN + 1];
	struct stat st;
	int status, rc = -1;

	if (d->cfg.key_file != NULL)
		path = xstrdup(d->cfg.key_file);
	else
		xasprintf(&path, "%s.key", d->cfg.db);
	if ((status = catalog_key_id(d->cat, had, sizeof had)) == CAT_ERR) {
		log_error("cannot read the key id of the catalog %s",
		    d->cfg.db);
		goto out;
	}
	/* Only a catalog that never had a key gets one, and only here. */
	if (d->cfg.key_file == NULL && status == CAT_NOTFOUND &&
	    lstat(path, &st) == -1 && errno == ENOENT) {
		randombytes_buf(d->key, sizeof d->key);
		if (archive_key_write(path, d->key, &err) != 0)
			goto fail;
		log_info("created the master key %s (mode 0600): copy it "
		    "somewhere safe; encrypted archives cannot be restored "
		    "without it", path);
	} else if (archive_key_read(path, d->key, &err) != 0)
		goto fail;
	archive_key_id(d->key, d->key_id);
	if (status == CAT_OK && strcmp(had, d->key_id) != 0) {
		log_error("the key file %s holds key id %s, but the catalog %s "
		    "was made with key id %s: start shieldd with that key "
		    "(--key-file)", path, d->key_id, d->cfg.db, had);
		goto out;
	}
	if (status == CAT_NOTFOUND &&
	    catalog_key_id_set(d->cat, d->key_id) != CAT_OK) {
		log_error("cannot record the key id in the catalog %s",
		    d->cfg.db);
		goto out;
	}
	log_info("master key %s (key id %s)", path, d->key_id);
	rc = 0;
	goto out;

fail:
	if (status == CAT_OK)
		log_error("master key %s; the catalog %s was made with key id "
		    "%s: restore that key file (or name it with --key-file)",
		    err, d->cfg.db, had);
	else
		log_error("master key %s", err);
out:
	free(err);
	free(path);
	return rc;
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

/* The scheduler queues a backup through the task engine. */
static int
shieldd_queue_backup_cb(void *arg, const char *job, id_buf out, char **errp)
{
	struct shieldd *d = arg;
	struct task_request req = { .owner = "system", .job = job };
	int status;

	return supervisor_queue(d->sup, CAT_TASK_BACKUP, &req, out, &status,
	    errp);
}

/* The scheduler queues an expired archive's purge. */
static int
shieldd_queue_purge_cb(void *arg, const char *archive, char **errp)
{
	struct shieldd *d = arg;
	struct task_request req = { .owner = "system", .archive = archive };
	id_buf id;
	int status;

	return supervisor_queue(d->sup, CAT_TASK_PURGE, &req, id, &status,
	    errp);
}

/* 1 if the archive's purge is running. */
static int
shieldd_purging_cb(void *arg, const char *archive)
{
	struct shieldd *d = arg;

	return supervisor_archive_busy(d->sup, CAT_TASK_PURGE, archive);
}

/* A task recorded or purged archives: the next expiry may have moved. */
static void
shieldd_archives_changed_cb(void *arg)
{
	struct shieldd *d = arg;

	scheduler_expiry_changed(d->sched);
}

/* The task engine and the scheduler, each given only what it uses. */
static void
shieldd_start_tasks(struct shieldd *d)
{
	struct supervisor_env se;
	struct scheduler_env ce;

	memset(&se, 0, sizeof se);
	se.base = d->base;
	se.cat = d->cat;
	se.children = d->children;
	se.plugins = d->plugins;
	se.workers = d->cfg.workers;
	se.task_timeout = d->cfg.task_timeout;
	se.idle_timeout = d->cfg.idle_timeout;
	se.cfg = &d->cfg;
	se.now = d->clock;
	se.archives_changed = shieldd_archives_changed_cb;
	se.arg = d;
	d->sup = supervisor_new(&se);
	memset(&ce, 0, sizeof ce);
	ce.base = d->base;
	ce.cat = d->cat;
	ce.now = d->clock;
	ce.dev_mode = d->cfg.dev_mode;
	ce.backup = shieldd_queue_backup_cb;
	ce.purge = shieldd_queue_purge_cb;
	ce.purging = shieldd_purging_cb;
	ce.arg = d;
	d->sched = scheduler_new(&ce);
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
	if (d->clock == NULL)
		d->clock = shieldd_now;
	d->started_at = d->clock();
	if (shieldd_catalog_dir(d->cfg.db) != 0 || shieldd_lock(d) != 0)
		return -1;
	if ((d->cat = catalog_open(d->cfg.db, &err)) == NULL) {
		log_error("cannot open the catalog %s: %s", d->cfg.db,
		    err != NULL ? err : "unknown error");
		free(err);
		return -1;
	}
	if (sodium_init() < 0) {
		log_error("libsodium failed to initialise");
		return -1;
	}
	if (shieldd_key(d) != 0)
		return -1;
	n = catalog_tasks_interrupt(d->cat, d->clock(),
	    "interrupted: shieldd restarted");
	if (n > 0)
		log_warn("%d task(s) were interrupted by a restart and are "
		    "marked failed", n);
	if (auth_bootstrap(d) != 0)
		return -1;
	/* The admin password is needed once, above: no plugin may see it. */
	child_env_forget("SHIELD_ADMIN_PASSWORD");
	if ((d->base = event_base_new()) == NULL) {
		log_error("cannot create the event loop");
		return -1;
	}
	d->children = child_set_new(d->base);
	d->plugins = plugins_new(d->children, d->cfg.plugins);
	shieldd_start_tasks(d);
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
	if (scheduler_start(d->sched, d->clock()) != 0)
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

/*
 * Release everything: what uses the loop and the catalog (tasks, plugins,
 * children, the API, events) before the loop and the catalog, and the lock
 * last, so no second shieldd opens the catalog while this one has it open.
 */
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
	sodium_memzero(d->key, sizeof d->key);
	shieldd_config_clear(&d->cfg);
}
