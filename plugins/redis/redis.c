/*
 * The redis plugin: back up a Redis server over the network as an RDB
 * snapshot and restore one into a server without shell access to its host.
 *
 * Backup runs `redis-cli --rdb`, which asks the server for a replication
 * sync and so gets a consistent point-in-time RDB, into a private temp dir,
 * checks it, and streams it to stdout.  Restore spools the archive to a temp
 * dir, has a private redis-server (unix socket only, no persistence) load it,
 * and only when that worked empties the target with FLUSHALL and copies every
 * key with pipelined DUMP/PEXPIRETIME on the private server and RESTORE ...
 * ABSTTL REPLACE on the target, database by database.  A corrupt archive or
 * a target that cannot take the DUMP format therefore fails before the
 * target is touched.
 */
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "plugin.h"
#include "resp.h"

/* Seconds to wait for the TCP connection to the server. */
#define REDIS_CONNECT_TIMEOUT	15
/* Keys asked for per SCAN round on the private server. */
#define REDIS_SCAN_COUNT	"1000"
/* Send queued RESTOREs to the target once this many bytes are queued. */
#define REDIS_BATCH_BYTES	(8 * 1024 * 1024)
/* Databases a server has unless CONFIG GET says otherwise. */
#define REDIS_DEFAULT_DBS	16
/* How many RESTORE errors to print before only counting them. */
#define REDIS_MAX_ERRORS	5

static const struct plugin_field redis_fields[] = {
	{ "redis_host", "string", 1, "127.0.0.1",
	    "Host name or IP address of the Redis server, or the absolute "
	    "path of its unix socket.",
	    NULL, "Host" },
	{ "redis_port", "port", 1, "6379", "TCP port of the Redis server.",
	    NULL, "Port" },
	{ "redis_username", "string", 0, NULL,
	    "ACL user name (Redis 6 and later); leave empty for the default "
	    "user.",
	    NULL, "User" },
	{ "redis_password", "password", 0, NULL,
	    "Password (requirepass, or the ACL user's password).",
	    NULL, "Password" },
	{ "redis_bindir", "path", 0, NULL,
	    "Directory holding redis-cli and redis-server on the SHIELD host; "
	    "they are looked up in PATH when empty.",
	    NULL, "Tools directory" },
	{ NULL, NULL, 0, NULL, NULL, NULL, NULL }
};

/*
 * The temp dir and the child currently running, so a signal handler can
 * stop the child and remove what it left.  Only async-signal-safe calls use
 * these from the handler.
 */
static char	redis_tmpdir[512];
static pid_t	redis_child = -1;

/* The files the plugin creates in its temp dir. */
static const char *const redis_tmpfiles[] = {
	"dump.rdb", "redis.log", "redis.sock", "redis-cli.log", NULL
};

/* Remove the temp dir and its known files; safe in a signal handler. */
static void
redis_tmp_remove(void)
{
	char path[600];
	size_t n, m;
	int i;

	if (redis_tmpdir[0] == '\0')
		return;
	n = strlen(redis_tmpdir);
	for (i = 0; redis_tmpfiles[i] != NULL; i++) {
		m = strlen(redis_tmpfiles[i]);
		if (n + 1 + m + 1 > sizeof path)
			continue;
		memcpy(path, redis_tmpdir, n);
		path[n] = '/';
		memcpy(path + n + 1, redis_tmpfiles[i], m + 1);
		unlink(path);
	}
	rmdir(redis_tmpdir);
	redis_tmpdir[0] = '\0';
}

/* On TERM/INT/HUP: stop the child, remove the temp dir, exit. */
static void
redis_signal(int sig)
{
	if (redis_child > 0)
		kill(redis_child, SIGKILL);
	redis_tmp_remove();
	_exit(128 + sig);
}

/* Create the private temp dir (mode 0700) and install the handlers. */
static int
redis_tmp_create(void)
{
	const char *base = getenv("TMPDIR");
	struct sigaction sa;

	if (base == NULL || base[0] == '\0')
		base = "/tmp";
	if ((size_t)snprintf(redis_tmpdir, sizeof redis_tmpdir,
	    "%s/shield-redis.XXXXXX", base) >= sizeof redis_tmpdir) {
		redis_tmpdir[0] = '\0';
		plugin_error("TMPDIR is too long");
		return -1;
	}
	if (mkdtemp(redis_tmpdir) == NULL) {
		plugin_error("cannot create a temporary directory in %s: %s",
		    base, strerror(errno));
		redis_tmpdir[0] = '\0';
		return -1;
	}
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = redis_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	return 0;
}

/* Build the path of a file in the temp dir. */
static void
redis_tmp_path(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", redis_tmpdir, name);
}

/* The path of a Redis tool: in redis_bindir when set, else the bare name. */
static void
redis_tool(const cJSON *ep, const char *name, char *buf, size_t len)
{
	const char *bindir = plugin_ep_string(ep, "redis_bindir", NULL);

	if (bindir != NULL && bindir[0] != '\0')
		snprintf(buf, len, "%s/%s", bindir, name);
	else
		snprintf(buf, len, "%s", name);
}

/* 1 if the reply is the given status or bulk text. */
static int
redis_reply_is(const struct resp_reply *r, const char *text)
{
	return r != NULL && (r->type == RESP_STATUS || r->type == RESP_BULK) &&
	    strcmp(r->str, text) == 0;
}

/*
 * Connect to the endpoint's server, authenticate and PING it.  Reports the
 * problem and returns NULL on failure; never prints the password.
 */
static struct resp *
redis_connect(const cJSON *ep)
{
	const char *host = plugin_ep_string(ep, "redis_host", "127.0.0.1");
	const char *user = plugin_ep_string(ep, "redis_username", NULL);
	const char *pass = plugin_ep_string(ep, "redis_password", NULL);
	int port = (int)plugin_ep_int(ep, "redis_port", 6379);
	struct resp_reply *r;
	struct resp *c;
	char err[512];

	if (host[0] == '/')
		c = resp_connect_unix(host, err, sizeof err);
	else
		c = resp_connect_tcp(host, port, REDIS_CONNECT_TIMEOUT, err,
		    sizeof err);
	if (c == NULL) {
		plugin_error("%s", err);
		return NULL;
	}
	if (pass != NULL && pass[0] != '\0') {
		if (user != NULL && user[0] != '\0')
			r = resp_call(c, "AUTH", user, pass, NULL);
		else
			r = resp_call(c, "AUTH", pass, NULL);
		if (r == NULL) {
			plugin_error("authenticating: %s", resp_error(c));
			goto fail;
		}
		if (r->type == RESP_ERROR && strstr(r->str,
		    "without any password configured") != NULL)
			plugin_info("the server has no password set; "
			    "redis_password is not needed");
		else if (r->type == RESP_ERROR) {
			plugin_error("authentication failed: %s", r->str);
			resp_reply_free(r);
			goto fail;
		}
		resp_reply_free(r);
	}
	if ((r = resp_call(c, "PING", NULL)) == NULL) {
		plugin_error("no answer from the server: %s", resp_error(c));
		goto fail;
	}
	if (r->type == RESP_ERROR) {
		if (strncmp(r->str, "NOAUTH", 6) == 0)
			plugin_error("the server wants a password "
			    "(redis_password): %s", r->str);
		else
			plugin_error("the server refused PING: %s", r->str);
		resp_reply_free(r);
		goto fail;
	}
	resp_reply_free(r);
	return c;
fail:
	resp_free(c);
	return NULL;
}

/* Check that the endpoint describes a plausible server. */
static int
redis_validate(const cJSON *ep)
{
	const char *host = plugin_ep_string(ep, "redis_host", "127.0.0.1");
	const char *bindir = plugin_ep_string(ep, "redis_bindir", NULL);
	const unsigned char *p;
	int bad = 0;

	if (host[0] == '\0') {
		plugin_error("redis_host must not be empty");
		bad = 1;
	}
	for (p = (const unsigned char *)host; *p != '\0'; p++) {
		if (isspace(*p) || iscntrl(*p)) {
			plugin_error("redis_host must not contain spaces or "
			    "control characters");
			bad = 1;
			break;
		}
	}
	if (host[0] != '/' && strlen(host) > 253) {
		plugin_error("redis_host is too long for a host name");
		bad = 1;
	}
	if (bindir != NULL && bindir[0] != '\0' && bindir[0] != '/') {
		plugin_error("redis_bindir must be an absolute path");
		bad = 1;
	}
	return bad;
}

/*
 * Print the last lines of a log file from the temp dir as errors; with
 * must, only those lines containing it (redis-server marks warnings " # "),
 * leaving out its start-up advice about the host ("WARNING ...").
 */
static void
redis_log_tail(const char *name, const char *prefix, int lines,
    const char *must)
{
	char path[600], buf[8192], *p, *s, *nl;
	ssize_t n;
	off_t size;
	int fd;

	redis_tmp_path(path, sizeof path, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return;
	size = lseek(fd, 0, SEEK_END);
	if (size > (off_t)sizeof buf - 1)
		lseek(fd, size - (off_t)(sizeof buf - 1), SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	/* Walk back to the start of the last `lines` lines. */
	for (p = buf + n; p > buf && lines > 0; p--) {
		if (p[-1] == '\n' && --lines == 0)
			break;
	}
	for (s = p; *s != '\0'; s = nl + 1) {
		if ((nl = strchr(s, '\n')) != NULL)
			*nl = '\0';
		if (*s != '\0' && *s != '\r' &&
		    (must == NULL || (strstr(s, must) != NULL &&
		    strstr(s, "WARNING") == NULL)))
			plugin_error("%s%s", prefix, s);
		if (nl == NULL)
			break;
	}
}

/* 1 if the file starts like an RDB snapshot ("REDIS" and a version). */
static int
redis_rdb_looks_ok(const char *path, off_t *size)
{
	struct stat st;
	char magic[9];
	int fd, ok;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return 0;
	ok = fstat(fd, &st) == 0 && read(fd, magic, 9) == 9 &&
	    memcmp(magic, "REDIS", 5) == 0 && isdigit((unsigned char)magic[5]);
	close(fd);
	*size = ok ? st.st_size : 0;
	return ok;
}

/* Run argv with stderr in a temp-dir log file; returns its exit status. */
static int
redis_run_logged(const char *const *argv, const char *const *env,
    const char *logname)
{
	char path[600];
	int logfd, saved, rc;

	redis_tmp_path(path, sizeof path, logname);
	logfd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (logfd == -1) {
		plugin_error("cannot create %s: %s", path, strerror(errno));
		return -1;
	}
	/*
	 * plugin_spawn() gives the child our stderr: point it at the log for
	 * the duration of the spawn, so the tool's chatter stays out of the
	 * task log unless it fails.
	 */
	fflush(stderr);
	saved = dup(2);
	dup2(logfd, 2);
	redis_child = plugin_spawn(argv, env, -1, -1);
	dup2(saved, 2);
	close(saved);
	close(logfd);
	if (redis_child == -1)
		return -1;
	rc = plugin_wait(redis_child, argv[0]);
	redis_child = -1;
	return rc;
}

/* Back up: redis-cli --rdb into the temp dir, then stream it to stdout. */
static int
redis_backup(const cJSON *ep)
{
	const char *host = plugin_ep_string(ep, "redis_host", "127.0.0.1");
	const char *user = plugin_ep_string(ep, "redis_username", NULL);
	const char *pass = plugin_ep_string(ep, "redis_password", NULL);
	const char *argv[16];
	const char *env[2] = { NULL, NULL };
	char cli[512], rdb[600], port[16], *auth = NULL;
	struct resp *c;
	off_t size;
	int argc = 0, fd, rc = 1, st;

	/* Check reachability and credentials first, for a clear message. */
	if ((c = redis_connect(ep)) == NULL)
		return 1;
	resp_free(c);
	if (redis_tmp_create() == -1)
		return 1;
	redis_tool(ep, "redis-cli", cli, sizeof cli);
	redis_tmp_path(rdb, sizeof rdb, "dump.rdb");
	snprintf(port, sizeof port, "%lld",
	    plugin_ep_int(ep, "redis_port", 6379));
	argv[argc++] = cli;
	if (host[0] == '/') {
		argv[argc++] = "-s";
		argv[argc++] = host;
	} else {
		argv[argc++] = "-h";
		argv[argc++] = host;
		argv[argc++] = "-p";
		argv[argc++] = port;
	}
	if (user != NULL && user[0] != '\0') {
		argv[argc++] = "--user";
		argv[argc++] = user;
	}
	argv[argc++] = "--no-auth-warning";
	argv[argc++] = "--rdb";
	argv[argc++] = rdb;
	argv[argc] = NULL;
	/* The password goes through the environment, never argv. */
	unsetenv("REDISCLI_AUTH");
	if (pass != NULL && pass[0] != '\0') {
		if (asprintf(&auth, "REDISCLI_AUTH=%s", pass) == -1) {
			plugin_error("out of memory");
			goto out;
		}
		env[0] = auth;
	}
	st = redis_run_logged(argv, env, "redis-cli.log");
	if (st != 0) {
		if (st > 0)
			plugin_error("redis-cli --rdb failed (exit %d):", st);
		redis_log_tail("redis-cli.log", "redis-cli: ", 5, NULL);
		goto out;
	}
	if (!redis_rdb_looks_ok(rdb, &size)) {
		plugin_error("redis-cli did not produce an RDB snapshot");
		redis_log_tail("redis-cli.log", "redis-cli: ", 5, NULL);
		goto out;
	}
	if ((fd = open(rdb, O_RDONLY | O_CLOEXEC)) == -1) {
		plugin_error("cannot open the snapshot: %s", strerror(errno));
		goto out;
	}
	rc = plugin_copy(fd, 1) == 0 ? 0 : 1;
	close(fd);
	if (rc == 0)
		plugin_info("snapshot of %lld bytes written", (long long)size);
out:
	if (auth != NULL) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	redis_tmp_remove();
	return rc;
}

/* Ask the target how many databases it has; the default when it won't say. */
static int
redis_databases(struct resp *c)
{
	struct resp_reply *r;
	int n = REDIS_DEFAULT_DBS;

	r = resp_call(c, "CONFIG", "GET", "databases", NULL);
	if (r != NULL && r->type == RESP_ARRAY && r->elements == 2 &&
	    r->element[1]->type == RESP_BULK)
		n = atoi(r->element[1]->str);
	resp_reply_free(r);
	return n < REDIS_DEFAULT_DBS ? REDIS_DEFAULT_DBS : n;
}

/* Stop the private server and reap it. */
static void
redis_temp_stop(void)
{
	if (redis_child <= 0)
		return;
	/* It has no save points, so TERM does not write a dump. */
	kill(redis_child, SIGTERM);
	plugin_wait(redis_child, "redis-server");
	redis_child = -1;
}

/*
 * Start the private redis-server on a unix socket in the temp dir with the
 * archive as its dump.rdb, and wait until it has loaded it.  Returns a
 * connection, or NULL when it could not load the archive (reported).
 */
static struct resp *
redis_temp_start(const cJSON *ep, int databases)
{
	char server[512], sock[600], log[600], dbs[16], err[512];
	const char *argv[32];
	struct resp_reply *r;
	struct resp *c;
	struct timespec ts = { 0, 50 * 1000 * 1000 };
	int argc = 0, status, devnull;

	redis_tool(ep, "redis-server", server, sizeof server);
	redis_tmp_path(sock, sizeof sock, "redis.sock");
	redis_tmp_path(log, sizeof log, "redis.log");
	if (strlen(sock) >= 100) {
		plugin_error("the temporary directory path is too long for a "
		    "unix socket; set TMPDIR to a shorter path");
		return NULL;
	}
	snprintf(dbs, sizeof dbs, "%d", databases);
	argv[argc++] = server;
	argv[argc++] = "--port";
	argv[argc++] = "0";
	argv[argc++] = "--unixsocket";
	argv[argc++] = sock;
	argv[argc++] = "--unixsocketperm";
	argv[argc++] = "700";
	argv[argc++] = "--dir";
	argv[argc++] = redis_tmpdir;
	argv[argc++] = "--dbfilename";
	argv[argc++] = "dump.rdb";
	argv[argc++] = "--save";
	argv[argc++] = "";
	argv[argc++] = "--appendonly";
	argv[argc++] = "no";
	argv[argc++] = "--daemonize";
	argv[argc++] = "no";
	argv[argc++] = "--logfile";
	argv[argc++] = log;
	argv[argc++] = "--databases";
	argv[argc++] = dbs;
	argv[argc] = NULL;
	if ((devnull = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1) {
		plugin_error("/dev/null: %s", strerror(errno));
		return NULL;
	}
	redis_child = plugin_spawn(argv, NULL, devnull, devnull);
	close(devnull);
	if (redis_child == -1)
		return NULL;
	/* Loading takes as long as it takes; stop waiting if it exits. */
	for (;;) {
		if (waitpid(redis_child, &status, WNOHANG) == redis_child) {
			redis_child = -1;
			plugin_error("the archive could not be loaded by "
			    "redis-server (corrupt, or written by a newer "
			    "Redis); nothing was changed on the target:");
			redis_log_tail("redis.log", "redis-server: ", 5, " # ");
			return NULL;
		}
		if ((c = resp_connect_unix(sock, err, sizeof err)) != NULL) {
			r = resp_call(c, "PING", NULL);
			if (redis_reply_is(r, "PONG")) {
				resp_reply_free(r);
				return c;
			}
			resp_reply_free(r);
			resp_free(c);
		}
		nanosleep(&ts, NULL);
	}
}

/* The numbers of the databases that hold keys, from INFO keyspace. */
static int
redis_keyspace(struct resp *c, int *dbs, int max)
{
	struct resp_reply *r;
	const char *p;
	int n = 0;

	r = resp_call(c, "INFO", "keyspace", NULL);
	if (r == NULL || r->type != RESP_BULK) {
		plugin_error("INFO keyspace on the private server failed: %s",
		    r != NULL ? r->str : resp_error(c));
		resp_reply_free(r);
		return -1;
	}
	for (p = r->str; (p = strstr(p, "\ndb")) != NULL && n < max; p += 3)
		dbs[n++] = atoi(p + 3);
	if (strncmp(r->str, "db", 2) == 0 && n < max)
		dbs[n++] = atoi(r->str + 2);
	resp_reply_free(r);
	return n;
}

/* SELECT a database; reports and returns -1 if the server refuses. */
static int
redis_select(struct resp *c, int db, const char *who)
{
	struct resp_reply *r;
	char num[16];
	int rc = 0;

	snprintf(num, sizeof num, "%d", db);
	r = resp_call(c, "SELECT", num, NULL);
	if (r == NULL || r->type == RESP_ERROR) {
		plugin_error("SELECT %d on the %s failed: %s", db, who,
		    r != NULL ? r->str : resp_error(c));
		rc = -1;
	}
	resp_reply_free(r);
	return rc;
}

/*
 * A SCAN reply of the expected shape: a cursor and an array of keys, each a
 * bulk string.  Anything else is refused before its fields are read.
 */
static int
redis_scan_ok(const struct resp_reply *scan)
{
	const struct resp_reply *keys;
	size_t i;

	if (scan == NULL || scan->type != RESP_ARRAY || scan->elements != 2 ||
	    scan->element[0]->type != RESP_BULK ||
	    scan->element[0]->str == NULL ||
	    scan->element[1]->type != RESP_ARRAY)
		return 0;
	keys = scan->element[1];
	for (i = 0; i < keys->elements; i++) {
		if (keys->element[i]->type != RESP_BULK ||
		    keys->element[i]->str == NULL)
			return 0;
	}
	return 1;
}

/*
 * Before anything is flushed: RESTORE one key of the archive into the target
 * under a scratch name and delete it again, so a target that cannot read the
 * private server's DUMP format (an older Redis) fails here, not halfway.
 */
static int
redis_probe(struct resp *src, struct resp *dst, int db)
{
	struct resp_reply *scan = NULL, *dump = NULL, *r = NULL;
	const char *argv[5];
	size_t lens[5];
	char probe[64], cursor[32] = "0";
	int rc = -1;

	if (redis_select(src, db, "private server") == -1 ||
	    redis_select(dst, db, "target") == -1)
		return -1;
	/* SCAN may return empty pages before the first key. */
	do {
		resp_reply_free(scan);
		scan = resp_call(src, "SCAN", cursor, "COUNT", "100", NULL);
		if (!redis_scan_ok(scan)) {
			plugin_error("SCAN on the private server failed");
			goto out;
		}
		snprintf(cursor, sizeof cursor, "%s", scan->element[0]->str);
	} while (scan->element[1]->elements == 0 && strcmp(cursor, "0") != 0);
	if (scan->element[1]->elements == 0) {
		rc = 0;
		goto out;
	}
	argv[0] = "DUMP";
	argv[1] = scan->element[1]->element[0]->str;
	lens[0] = 4;
	lens[1] = scan->element[1]->element[0]->len;
	resp_append(src, 2, argv, lens);
	if ((dump = resp_read(src)) == NULL || dump->type != RESP_BULK) {
		rc = 0;		/* expired meanwhile: nothing to probe */
		goto out;
	}
	snprintf(probe, sizeof probe, "shield:restore-probe:%ld",
	    (long)getpid());
	argv[0] = "RESTORE";
	argv[1] = probe;
	argv[2] = "60000";
	argv[3] = dump->str;
	argv[4] = "REPLACE";
	lens[0] = 7;
	lens[1] = strlen(probe);
	lens[2] = 5;
	lens[3] = dump->len;
	lens[4] = 7;
	resp_append(dst, 5, argv, lens);
	if ((r = resp_read(dst)) == NULL) {
		plugin_error("RESTORE on the target failed: %s",
		    resp_error(dst));
		goto out;
	}
	if (r->type == RESP_ERROR) {
		plugin_error("the target cannot load keys from this archive "
		    "(is it an older Redis than redis-server here, or does the "
		    "user lack RESTORE permission?): %s; nothing was changed",
		    r->str);
		goto out;
	}
	resp_reply_free(r);
	r = resp_call(dst, "DEL", probe, NULL);
	rc = 0;
out:
	resp_reply_free(r);
	resp_reply_free(dump);
	resp_reply_free(scan);
	return rc;
}

/* Read the replies to n queued RESTOREs; counts and prints errors. */
static int
redis_drain(struct resp *dst, size_t n, size_t *errors)
{
	struct resp_reply *r;

	for (; n > 0; n--) {
		if ((r = resp_read(dst)) == NULL) {
			plugin_error("lost the target: %s", resp_error(dst));
			return -1;
		}
		if (r->type == RESP_ERROR && (*errors)++ < REDIS_MAX_ERRORS)
			plugin_error("RESTORE failed: %s", r->str);
		resp_reply_free(r);
	}
	return 0;
}

/* Queue RESTORE for one key from its DUMP and PEXPIRETIME replies. */
static void
redis_queue_restore(struct resp *dst, const struct resp_reply *key,
    const struct resp_reply *dump, long long expire)
{
	const char *argv[6];
	size_t lens[6];
	char ttl[32];
	int argc = 0;

	/* An absolute expiry keeps the snapshot's deadline, not a duration. */
	snprintf(ttl, sizeof ttl, "%lld", expire > 0 ? expire : 0);
	argv[argc] = "RESTORE";
	lens[argc++] = 7;
	argv[argc] = key->str;
	lens[argc++] = key->len;
	argv[argc] = ttl;
	lens[argc++] = strlen(ttl);
	argv[argc] = dump->str;
	lens[argc++] = dump->len;
	argv[argc] = "REPLACE";
	lens[argc++] = 7;
	if (expire > 0) {
		argv[argc] = "ABSTTL";
		lens[argc++] = 6;
	}
	resp_append(dst, argc, argv, lens);
}

/* Copy every key of one database from the private server to the target. */
static int
redis_copy_db(struct resp *src, struct resp *dst, int db, size_t *count,
    size_t *errors)
{
	struct resp_reply *scan, *keys, *dump, *exp;
	const char *argv[2];
	size_t lens[2], i, queued = 0;
	char cursor[32] = "0";

	if (redis_select(src, db, "private server") == -1 ||
	    redis_select(dst, db, "target") == -1)
		return -1;
	do {
		scan = resp_call(src, "SCAN", cursor, "COUNT",
		    REDIS_SCAN_COUNT, NULL);
		if (!redis_scan_ok(scan)) {
			plugin_error("SCAN on the private server failed: %s",
			    scan != NULL && scan->str != NULL ? scan->str :
			    resp_error(src));
			resp_reply_free(scan);
			return -1;
		}
		snprintf(cursor, sizeof cursor, "%s", scan->element[0]->str);
		keys = scan->element[1];
		for (i = 0; i < keys->elements; i++) {
			argv[1] = keys->element[i]->str;
			lens[1] = keys->element[i]->len;
			argv[0] = "DUMP";
			lens[0] = 4;
			resp_append(src, 2, argv, lens);
			argv[0] = "PEXPIRETIME";
			lens[0] = 11;
			resp_append(src, 2, argv, lens);
		}
		for (i = 0; i < keys->elements; i++) {
			dump = resp_read(src);
			exp = dump != NULL ? resp_read(src) : NULL;
			if (exp == NULL || dump->type == RESP_ERROR ||
			    exp->type != RESP_INTEGER) {
				plugin_error("DUMP on the private server "
				    "failed: %s", dump == NULL || exp == NULL ?
				    resp_error(src) : dump->type == RESP_ERROR ?
				    dump->str : "unexpected PEXPIRETIME reply");
				resp_reply_free(dump);
				resp_reply_free(exp);
				resp_reply_free(scan);
				return -1;
			}
			/* Nil or -2: the key expired since SCAN saw it. */
			if (dump->type == RESP_BULK && exp->integer != -2) {
				redis_queue_restore(dst, keys->element[i],
				    dump, exp->integer);
				queued++;
				(*count)++;
			}
			resp_reply_free(dump);
			resp_reply_free(exp);
			if (resp_pending(dst) >= REDIS_BATCH_BYTES) {
				if (redis_drain(dst, queued, errors) == -1) {
					resp_reply_free(scan);
					return -1;
				}
				queued = 0;
			}
		}
		resp_reply_free(scan);
	} while (strcmp(cursor, "0") != 0);
	return redis_drain(dst, queued, errors);
}

/*
 * Server-side functions (Redis 7) are part of an RDB but not of any key: if
 * the archive has libraries, load them into the target, replacing libraries
 * of the same name.
 */
static int
redis_copy_functions(struct resp *src, struct resp *dst)
{
	struct resp_reply *list, *dump = NULL, *r = NULL;
	const char *argv[4];
	size_t lens[4];
	int rc = -1;

	list = resp_call(src, "FUNCTION", "LIST", NULL);
	if (list == NULL || list->type != RESP_ARRAY || list->elements == 0) {
		resp_reply_free(list);
		return 0;
	}
	dump = resp_call(src, "FUNCTION", "DUMP", NULL);
	if (dump == NULL || dump->type != RESP_BULK) {
		plugin_error("FUNCTION DUMP on the private server failed");
		goto out;
	}
	argv[0] = "FUNCTION";
	argv[1] = "RESTORE";
	argv[2] = dump->str;
	argv[3] = "REPLACE";
	lens[0] = 8;
	lens[1] = 7;
	lens[2] = dump->len;
	lens[3] = 7;
	resp_append(dst, 4, argv, lens);
	r = resp_read(dst);
	if (r == NULL || r->type == RESP_ERROR) {
		plugin_error("restoring the archive's functions failed: %s",
		    r != NULL ? r->str : resp_error(dst));
		goto out;
	}
	plugin_info("restored %zu function libraries", list->elements);
	rc = 0;
out:
	resp_reply_free(r);
	resp_reply_free(dump);
	resp_reply_free(list);
	return rc;
}

/* Restore: load the archive into a private server, then copy to target. */
static int
redis_restore(const cJSON *ep)
{
	struct resp *dst = NULL, *src = NULL;
	struct resp_reply *r;
	char rdb[600];
	off_t size;
	size_t count = 0, errors = 0;
	int databases, dbs[4096], ndbs, i, fd, rc = 1;

	/* Fail on a wrong address or password before reading the archive. */
	if ((dst = redis_connect(ep)) == NULL)
		return 1;
	databases = redis_databases(dst);
	resp_free(dst);
	dst = NULL;

	if (redis_tmp_create() == -1)
		return 1;
	redis_tmp_path(rdb, sizeof rdb, "dump.rdb");
	fd = open(rdb, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		plugin_error("cannot create %s: %s", rdb, strerror(errno));
		goto out;
	}
	if (plugin_copy(0, fd) == -1 || close(fd) == -1) {
		plugin_error("spooling the archive failed");
		goto out;
	}
	if (!redis_rdb_looks_ok(rdb, &size)) {
		plugin_error("the archive is not a Redis RDB snapshot; nothing "
		    "was changed on the target");
		goto out;
	}
	if ((src = redis_temp_start(ep, databases)) == NULL)
		goto out;
	if ((ndbs = redis_keyspace(src, dbs, 4096)) == -1)
		goto out;

	/* The archive loaded: from here on the target is ours to replace. */
	if ((dst = redis_connect(ep)) == NULL)
		goto out;
	for (i = 0; i < ndbs; i++) {
		if (redis_probe(src, dst, dbs[i]) == -1)
			goto out;
	}
	if (redis_select(dst, 0, "target") == -1)
		goto out;
	r = resp_call(dst, "FLUSHALL", NULL);
	if (r == NULL || r->type == RESP_ERROR) {
		plugin_error("FLUSHALL on the target failed: %s; nothing was "
		    "changed", r != NULL ? r->str : resp_error(dst));
		resp_reply_free(r);
		goto out;
	}
	resp_reply_free(r);
	for (i = 0; i < ndbs; i++) {
		if (redis_copy_db(src, dst, dbs[i], &count, &errors) == -1) {
			plugin_error("the target was flushed and is only "
			    "partly restored");
			goto out;
		}
	}
	if (redis_copy_functions(src, dst) == -1)
		goto out;
	if (errors > 0) {
		plugin_error("%zu of %zu keys could not be restored", errors,
		    count);
		goto out;
	}
	plugin_info("restored %zu keys in %d databases from a %lld-byte "
	    "snapshot", count, ndbs, (long long)size);
	rc = 0;
out:
	resp_free(src);
	resp_free(dst);
	redis_temp_stop();
	redis_tmp_remove();
	return rc;
}

static const struct plugin_def redis_plugin = {
	.name = "Redis",
	.short_name = "redis",
	.author = "SHIELD",
	.version = SHIELD_VERSION,
	.help =
	    "Backs up a Redis server (standalone, 7.0 or compatible) over the "
	    "network as an RDB snapshot taken like `redis-cli --rdb`: "
	    "consistent at one point in time, all databases. "
	    "RESTORE REPLACES EVERYTHING: after the archive has been loaded "
	    "and checked by a private redis-server on the SHIELD host, the "
	    "target is emptied with FLUSHALL (all databases; keys not in the "
	    "archive are gone) and every key is written back with DUMP/"
	    "RESTORE, any type, byte for byte. Expiry: a key keeps the "
	    "absolute expiry time recorded in the snapshot, so after a "
	    "restore its remaining TTL is what it would have had on the "
	    "source at that moment, and keys whose expiry time has passed "
	    "are not restored. A corrupt archive, a wrong password or a "
	    "target that cannot read the dump format fails before anything "
	    "is flushed. Needs redis-cli and redis-server (at least as new "
	    "as the backed-up server) on the SHIELD host; the user needs "
	    "SYNC for backup and FLUSHALL/RESTORE for restore. No TLS.",
	.fields = redis_fields,
	.validate = redis_validate,
	.backup = redis_backup,
	.restore = redis_restore,
};

/* Run the plugin protocol. */
int
main(int argc, char **argv)
{
	return plugin_main(&redis_plugin, argc, argv);
}
