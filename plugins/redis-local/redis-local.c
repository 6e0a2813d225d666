/*
 * The redis-local plugin: back up a Redis server by copying its RDB file,
 * and restore one by replacing that file with the server stopped.  It only
 * works on the Redis host itself, so it is meant to run under shield-agent.
 *
 * Backup asks the server for a BGSAVE, waits until INFO persistence says a
 * save that started after ours was asked for has completed successfully,
 * and streams rdb_path to stdout.  Restore spools the archive to a temp file
 * next to rdb_path and checks it (header, end marker and CRC64) before it
 * does anything else; only after end of input does it stop Redis with the
 * configured command, swap the file in with rename(2), keep the old one as
 * rdb_path.shield-old and start Redis again.  If the server does not come
 * back, the old file is put back and Redis started once more.  A truncated
 * archive or a SIGTERM before end of input never stops Redis.
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "plugin.h"
#include "resp.h"
#include "tool.h"

/* Seconds to wait for a TCP connection when talking to the server. */
#define RL_CONNECT_TIMEOUT	15
/* Seconds for one probe while waiting for the server to stop or start. */
#define RL_PROBE_TIMEOUT	2
/* Seconds to wait for the server to stop answering after stop_command. */
#define RL_STOP_TIMEOUT		60
/* Seconds to wait for a BGSAVE to complete. */
#define RL_SAVE_TIMEOUT		3600
/* Milliseconds between polls of INFO or PING. */
#define RL_POLL_MS		100
/* Suffix of the previous data file kept until the server is back. */
#define RL_OLD_SUFFIX		".shield-old"
/* The CRC64 (Jones, reflected) that RDB files end with. */
#define RL_CRC64_POLY		0x95ac9329ac4bc9b5ULL

static const struct plugin_field rl_fields[] = {
	{ "redis_host", "string", 0, "127.0.0.1",
	    "Address the Redis server listens on, seen from this host.",
	    NULL, "Host" },
	{ "redis_port", "port", 0, "6379", "TCP port of the Redis server.",
	    NULL, "Port" },
	{ "redis_password", "password", 0, NULL,
	    "Password (requirepass) of the Redis server.",
	    NULL, "Password" },
	{ "rdb_path", "path", 1, NULL,
	    "Absolute path of the server's RDB file (its dir and dbfilename, "
	    "e.g. /var/lib/redis/dump.rdb).",
	    NULL, "RDB file" },
	{ "stop_command", "list", 1, NULL,
	    "How to stop Redis on this host, run without a shell: a JSON "
	    "array of arguments such as [\"systemctl\", \"stop\", "
	    "\"redis-server\"], or a string split on spaces.  It must exit 0 "
	    "once Redis is stopped.",
	    NULL, "Stop command" },
	{ "start_command", "list", 1, NULL,
	    "How to start Redis on this host, run without a shell, in the "
	    "same forms as stop_command.  It must return once Redis is "
	    "started (systemctl does), not run it in the foreground.",
	    NULL, "Start command" },
	{ "start_timeout", "int", 0, "60",
	    "Seconds to wait for the restarted server to answer PING.",
	    NULL, "Start timeout (seconds)" },
	{ NULL, NULL, 0, NULL, NULL, NULL, NULL }
};

/*
 * The temp file of a restore while it is being written, so the signal
 * handler can remove it; and whether a signal arrived once the restore is
 * committing (then it is finished first: stopping halfway would leave Redis
 * down).  Only async-signal-safe calls use these from a handler.
 */
static char			rl_tmp_path[PATH_MAX];
static volatile sig_atomic_t	rl_signalled;

/* The CRC64 table, filled on first use. */
static uint64_t	rl_crc_table[256];

/* On TERM/INT/HUP while spooling: remove the temp file and exit. */
static void
rl_signal_abort(int sig)
{
	if (rl_tmp_path[0] != '\0')
		unlink(rl_tmp_path);
	_exit(128 + sig);
}

/* On TERM/INT/HUP while committing: remember it and carry on. */
static void
rl_signal_defer(int sig)
{
	rl_signalled = sig;
}

/* Install handler for the termination signals. */
static void
rl_signal_set(void (*handler)(int))
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* Sleep for ms milliseconds. */
static void
rl_sleep_ms(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Seconds on the monotonic clock. */
static double
rl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Add len bytes to a running CRC64 as Redis computes it. */
static uint64_t
rl_crc64(uint64_t crc, const unsigned char *p, size_t len)
{
	uint64_t c;
	int i, j;

	if (rl_crc_table[1] == 0) {
		for (i = 0; i < 256; i++) {
			c = (uint64_t)i;
			for (j = 0; j < 8; j++)
				c = (c & 1) ? (c >> 1) ^ RL_CRC64_POLY : c >> 1;
			rl_crc_table[i] = c;
		}
	}
	while (len-- > 0)
		crc = rl_crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

/* 1 if buf starts like an RDB file: "REDIS" and four digits. */
static int
rl_rdb_magic(const unsigned char *buf, size_t len)
{
	size_t i;

	if (len < 9 || memcmp(buf, "REDIS", 5) != 0)
		return 0;
	for (i = 5; i < 9; i++) {
		if (buf[i] < '0' || buf[i] > '9')
			return 0;
	}
	return 1;
}

/*
 * Check a whole RDB file: its header, the EOF opcode and, from version 5
 * on, the CRC64 over everything before the checksum (a checksum of zero
 * means the server was configured not to write one).  A truncated archive
 * fails here.  Reports the problem; 0 if the file is whole.
 */
static int
rl_rdb_check(int fd, const char *what)
{
	unsigned char buf[128 * 1024], tail[9];
	uint64_t crc = 0, want = 0;
	off_t size, off;
	ssize_t n;
	size_t want_n;
	int version, i;

	if ((size = lseek(fd, 0, SEEK_END)) == -1 ||
	    pread(fd, buf, 9, 0) != 9 || !rl_rdb_magic(buf, 9)) {
		plugin_error("%s is not an RDB file (no REDIS header)", what);
		return -1;
	}
	version = (buf[5] - '0') * 1000 + (buf[6] - '0') * 100 +
	    (buf[7] - '0') * 10 + (buf[8] - '0');
	if (version < 5) {
		if (size < 10 || pread(fd, tail, 1, size - 1) != 1 ||
		    tail[0] != 0xff) {
			plugin_error("%s is truncated (no end marker)", what);
			return -1;
		}
		return 0;
	}
	if (size < 9 + 9 || pread(fd, tail, 9, size - 9) != 9 ||
	    tail[0] != 0xff) {
		plugin_error("%s is truncated (no end marker)", what);
		return -1;
	}
	for (i = 7; i >= 0; i--)
		want = (want << 8) | tail[1 + i];
	if (want == 0)
		return 0;
	for (off = 0; off < size - 8; off += n) {
		want_n = sizeof buf;
		if ((off_t)want_n > size - 8 - off)
			want_n = (size_t)(size - 8 - off);
		n = pread(fd, buf, want_n, off);
		if (n <= 0) {
			plugin_error("reading %s: %s", what,
			    n == 0 ? "short read" : strerror(errno));
			return -1;
		}
		crc = rl_crc64(crc, buf, (size_t)n);
	}
	if (crc != want) {
		plugin_error("%s is truncated or corrupt (RDB checksum "
		    "mismatch)", what);
		return -1;
	}
	return 0;
}

/* Free an argv from rl_command(); NULL is a no-op. */
static void
rl_command_free(char **argv)
{
	size_t i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

/* Append a copy of len bytes of s to argv; aborts when out of memory. */
static char **
rl_command_add(char **argv, size_t *argc, const char *s, size_t len)
{
	char **v;

	if ((v = realloc(argv, (*argc + 2) * sizeof *v)) == NULL ||
	    (v[*argc] = strndup(s, len)) == NULL)
		abort();
	v[++*argc] = NULL;
	return v;
}

/*
 * The argv of stop_command or start_command: the strings of a JSON array,
 * or a string split on spaces and tabs.  NULL if the key is missing, empty
 * or holds an empty argument.  The caller frees with rl_command_free().
 */
static char **
rl_command(const cJSON *ep, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(ep, key);
	const cJSON *e;
	const char *s, *end;
	char **argv = NULL;
	size_t argc = 0;

	if (cJSON_IsArray(v)) {
		cJSON_ArrayForEach(e, v) {
			if (!cJSON_IsString(e) || e->valuestring[0] == '\0') {
				rl_command_free(argv);
				return NULL;
			}
			argv = rl_command_add(argv, &argc, e->valuestring,
			    strlen(e->valuestring));
		}
	} else if (cJSON_IsString(v)) {
		for (s = v->valuestring; *s != '\0'; s = end) {
			s += strspn(s, " \t");
			if (*s == '\0')
				break;
			end = s + strcspn(s, " \t");
			argv = rl_command_add(argv, &argc, s,
			    (size_t)(end - s));
		}
	}
	return argv;
}

/* 1 if the reply is the given status or bulk text. */
static int
rl_reply_is(const struct resp_reply *r, const char *text)
{
	return r != NULL && (r->type == RESP_STATUS || r->type == RESP_BULK) &&
	    strcmp(r->str, text) == 0;
}

/*
 * Connect, authenticate and PING.  With quiet, nothing is reported and
 * *state says how far it got: 0 no connection, 1 the server answered but
 * not PONG (loading, refusing the password), 2 ready.  Returns the
 * connection when ready, else NULL.  Never prints the password.
 */
static struct resp *
rl_connect(const cJSON *ep, int quiet, int *state)
{
	const char *host = plugin_ep_string(ep, "redis_host", "127.0.0.1");
	const char *pass = plugin_ep_string(ep, "redis_password", NULL);
	int port = (int)plugin_ep_int(ep, "redis_port", 6379);
	struct resp_reply *r = NULL;
	struct resp *c;
	char err[512];

	*state = 0;
	c = resp_connect_tcp(host, port, quiet ? RL_PROBE_TIMEOUT :
	    RL_CONNECT_TIMEOUT, err, sizeof err);
	if (c == NULL) {
		if (!quiet)
			plugin_error("cannot connect to Redis at %s:%d: %s",
			    host, port, err);
		return NULL;
	}
	if (pass != NULL && pass[0] != '\0') {
		if ((r = resp_call(c, "AUTH", pass, NULL)) == NULL) {
			if (!quiet)
				plugin_error("authenticating: %s",
				    resp_error(c));
			goto fail;
		}
		*state = 1;
		if (r->type == RESP_ERROR && strstr(r->str,
		    "without any password configured") == NULL) {
			if (!quiet)
				plugin_error("authentication failed "
				    "(redis_password): %s", r->str);
			goto fail;
		}
		resp_reply_free(r);
	}
	if ((r = resp_call(c, "PING", NULL)) == NULL) {
		if (!quiet)
			plugin_error("no answer from Redis: %s",
			    resp_error(c));
		goto fail;
	}
	*state = 1;
	if (!rl_reply_is(r, "PONG")) {
		if (!quiet && r->type == RESP_ERROR &&
		    strncmp(r->str, "NOAUTH", 6) == 0)
			plugin_error("Redis wants a password "
			    "(redis_password): %s", r->str);
		else if (!quiet)
			plugin_error("Redis refused PING: %s",
			    r->type == RESP_ERROR ? r->str : "odd reply");
		goto fail;
	}
	resp_reply_free(r);
	*state = 2;
	return c;
fail:
	resp_reply_free(r);
	resp_free(c);
	return NULL;
}

/*
 * Wait until the server is in the wanted probe state: stopped (0, nothing
 * accepts a connection) or ready (2), for at most timeout seconds.
 * Returns 0 when it got there.
 */
static int
rl_wait_server(const cJSON *ep, int ready, double timeout)
{
	double deadline = rl_now() + timeout;
	struct resp *c;
	int state;

	for (;;) {
		c = rl_connect(ep, 1, &state);
		resp_free(c);
		if (ready ? state == 2 : state == 0)
			return 0;
		if (rl_now() >= deadline)
			return -1;
		rl_sleep_ms(RL_POLL_MS);
	}
}

/*
 * Read INFO persistence into the values backup watches; -1 (reported) when
 * the server does not answer.  A counter the server lacks is left at -1.
 */
static int
rl_persistence(struct resp *c, long long *saves, long long *in_progress,
    int *status_ok)
{
	struct resp_reply *r;
	const char *p;

	*saves = *in_progress = -1;
	*status_ok = 0;
	if ((r = resp_call(c, "INFO", "persistence", NULL)) == NULL) {
		plugin_error("INFO persistence: %s", resp_error(c));
		return -1;
	}
	if (r->type != RESP_BULK) {
		plugin_error("INFO persistence: %s",
		    r->type == RESP_ERROR ? r->str : "odd reply");
		resp_reply_free(r);
		return -1;
	}
	if ((p = strstr(r->str, "\nrdb_saves:")) != NULL)
		*saves = strtoll(p + 11, NULL, 10);
	if ((p = strstr(r->str, "\nrdb_bgsave_in_progress:")) != NULL)
		*in_progress = strtoll(p + 24, NULL, 10);
	if ((p = strstr(r->str, "\nrdb_last_bgsave_status:")) != NULL)
		*status_ok = strncmp(p + 24, "ok", 2) == 0;
	resp_reply_free(r);
	if (*in_progress == -1) {
		plugin_error("INFO persistence has no rdb_bgsave_in_progress");
		return -1;
	}
	return 0;
}

/*
 * Have the server write a fresh RDB file: BGSAVE, then wait until it is no
 * longer saving, and, where the server counts saves, until the counter has
 * passed the value seen before.  A BGSAVE already running is waited for
 * and ours started after it.  0 once a save of ours succeeded.
 */
static int
rl_bgsave(struct resp *c)
{
	double deadline = rl_now() + RL_SAVE_TIMEOUT;
	long long saves0, saves, busy;
	struct resp_reply *r;
	int ok;

	for (;;) {
		if (rl_persistence(c, &saves0, &busy, &ok) == -1)
			return -1;
		if ((r = resp_call(c, "BGSAVE", NULL)) == NULL) {
			plugin_error("BGSAVE: %s", resp_error(c));
			return -1;
		}
		if (r->type != RESP_ERROR)
			break;
		if (strstr(r->str, "in progress") == NULL ||
		    rl_now() >= deadline) {
			plugin_error("BGSAVE failed: %s", r->str);
			resp_reply_free(r);
			return -1;
		}
		/* Someone else's save: wait for it, then ask for ours. */
		resp_reply_free(r);
		rl_sleep_ms(RL_POLL_MS);
	}
	resp_reply_free(r);
	for (;;) {
		rl_sleep_ms(RL_POLL_MS);
		if (rl_persistence(c, &saves, &busy, &ok) == -1)
			return -1;
		if (busy == 0 && (saves0 == -1 || saves > saves0))
			break;
		if (rl_now() >= deadline) {
			plugin_error("BGSAVE did not finish within %d s",
			    RL_SAVE_TIMEOUT);
			return -1;
		}
	}
	if (!ok) {
		plugin_error("BGSAVE failed (rdb_last_bgsave_status is not ok; "
		    "see the Redis log)");
		return -1;
	}
	return 0;
}

/* Check the endpoint beyond the field types. */
static int
rl_validate(const cJSON *ep)
{
	const char *path = plugin_ep_string(ep, "rdb_path", NULL);
	const char *names[] = { "stop_command", "start_command", NULL };
	char **argv;
	int bad = 0, i;

	if (path == NULL || path[0] != '/') {
		plugin_error("rdb_path must be an absolute path");
		bad = 1;
	} else if (path[strlen(path) - 1] == '/') {
		plugin_error("rdb_path must name a file, not a directory");
		bad = 1;
	}
	for (i = 0; names[i] != NULL; i++) {
		if ((argv = rl_command(ep, names[i])) == NULL) {
			plugin_error("%s must be a non-empty array of "
			    "non-empty strings, or a non-empty string",
			    names[i]);
			bad = 1;
		}
		rl_command_free(argv);
	}
	if (plugin_ep_int(ep, "start_timeout", 60) < 1) {
		plugin_error("start_timeout must be at least 1 second");
		bad = 1;
	}
	return bad;
}

/* BGSAVE, then stream the fresh RDB file to stdout. */
static int
rl_backup(const cJSON *ep)
{
	const char *path = plugin_ep_string(ep, "rdb_path", NULL);
	unsigned char magic[9];
	struct resp *c;
	int fd, state;

	if (rl_validate(ep) != 0)
		return 1;
	if ((c = rl_connect(ep, 0, &state)) == NULL)
		return 1;
	if (rl_bgsave(c) == -1) {
		resp_free(c);
		return 1;
	}
	resp_free(c);
	/*
	 * Redis writes a temp file and renames it over rdb_path, so what we
	 * open is one whole save even if another one finishes meanwhile.
	 */
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		plugin_error("cannot read rdb_path %s: %s", path,
		    strerror(errno));
		return 1;
	}
	if (pread(fd, magic, sizeof magic, 0) != (ssize_t)sizeof magic ||
	    !rl_rdb_magic(magic, sizeof magic)) {
		plugin_error("rdb_path %s is not an RDB file (no REDIS "
		    "header): is it the server's dir/dbfilename?", path);
		close(fd);
		return 1;
	}
	if (plugin_copy(fd, 1) == -1) {
		close(fd);
		return 1;
	}
	close(fd);
	return 0;
}

/* Run a stop or start command; 0 when it exited 0 (else reported). */
static int
rl_run(char **argv, const char *what)
{
	char err[1024];
	int null, status;

	/*
	 * Its output goes to /dev/null and a temp file, never our pipes: a
	 * server it starts may hold them open long after we are gone.
	 */
	if ((null = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1) {
		plugin_error("/dev/null: %s", strerror(errno));
		return -1;
	}
	status = tool_capture_run((const char *const *)argv, null, null, NULL,
	    err, sizeof err);
	close(null);
	if (status == 0)
		return 0;
	if (tool_not_started(status, err))
		plugin_error("%s: cannot run %s", what, argv[0]);
	else
		tool_report_status(what, status);
	return -1;
}

/* fsync the directory holding path, so a rename in it is durable. */
static void
rl_sync_dir(const char *dir)
{
	int fd;

	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return;
	fsync(fd);
	close(fd);
}

/*
 * Spool stdin into a new temp file in dir, owned and moded like the file
 * at path when there is one, check it and fsync it.  Returns the
 * descriptor (the name is in rl_tmp_path), or -1 with the file removed.
 */
static int
rl_spool(const char *dir, const char *path)
{
	struct stat st;
	int fd;

	if ((size_t)snprintf(rl_tmp_path, sizeof rl_tmp_path,
	    "%s/.shield-restore.XXXXXX", dir) >= sizeof rl_tmp_path) {
		rl_tmp_path[0] = '\0';
		plugin_error("rdb_path is too long");
		return -1;
	}
	rl_signal_set(rl_signal_abort);
	if ((fd = mkostemp(rl_tmp_path, O_CLOEXEC)) == -1) {
		plugin_error("cannot create a temp file in %s: %s", dir,
		    strerror(errno));
		rl_tmp_path[0] = '\0';
		return -1;
	}
	if (plugin_copy(0, fd) == -1 || rl_rdb_check(fd, "the archive") == -1)
		goto fail;
	/* The server reads the file as itself: give it the old one's owner. */
	if (stat(path, &st) == 0) {
		if (fchmod(fd, st.st_mode & 07777) == -1)
			plugin_info("cannot set the mode of the new file: %s",
			    strerror(errno));
		if ((st.st_uid != geteuid() || st.st_gid != getegid()) &&
		    fchown(fd, st.st_uid, st.st_gid) == -1) {
			plugin_error("cannot give the new file the owner of "
			    "%s: %s", path, strerror(errno));
			goto fail;
		}
	} else if (fchmod(fd, 0644) == -1)
		plugin_info("cannot set the mode of the new file: %s",
		    strerror(errno));
	if (fsync(fd) == -1) {
		plugin_error("fsync %s: %s", rl_tmp_path, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	unlink(rl_tmp_path);
	rl_tmp_path[0] = '\0';
	return -1;
}

/*
 * Put the new file in place: the old one (if any) is kept as old, through
 * a hard link so that path never goes missing.  Sets *had_old.
 */
static int
rl_swap(const char *path, const char *old, int *had_old)
{
	struct stat st;

	*had_old = 0;
	if (unlink(old) == -1 && errno != ENOENT) {
		plugin_error("cannot remove %s: %s", old, strerror(errno));
		return -1;
	}
	if (lstat(path, &st) == 0) {
		if (link(path, old) == -1 && rename(path, old) == -1) {
			plugin_error("cannot keep the old file as %s: %s", old,
			    strerror(errno));
			return -1;
		}
		*had_old = 1;
	}
	if (rename(rl_tmp_path, path) == -1) {
		plugin_error("cannot rename the new file to %s: %s", path,
		    strerror(errno));
		if (*had_old && access(path, F_OK) == -1)
			rename(old, path);
		else if (*had_old)
			unlink(old);
		return -1;
	}
	rl_tmp_path[0] = '\0';
	return 0;
}

/*
 * The server did not come back with the restored file: stop whatever is
 * left of it, put the old file back, start it again and say where things
 * stand.  Always returns 1, the restore's status.
 */
static int
rl_rollback(const cJSON *ep, char **stop, char **start, const char *path,
    const char *old, int had_old, const char *dir, const char *why)
{
	long long timeout = plugin_ep_int(ep, "start_timeout", 60);

	plugin_error("Redis did not come back after the restore (%s); "
	    "putting the previous data file back", why);
	rl_run(stop, "stop_command");
	if (rl_wait_server(ep, 0, RL_STOP_TIMEOUT) == -1) {
		plugin_error("restore FAILED: Redis answers but with the "
		    "restored file not working; %s holds the restored data "
		    "and %s the previous data: check the Redis log", path,
		    had_old ? old : "(nothing: there was no file)");
		return 1;
	}
	if (had_old ? rename(old, path) : unlink(path)) {
		plugin_error("restore FAILED and Redis is STOPPED: cannot put "
		    "the previous data file back (%s); it is %s",
		    strerror(errno), old);
		return 1;
	}
	rl_sync_dir(dir);
	if (rl_run(start, "start_command") == 0 &&
	    rl_wait_server(ep, 1, (double)timeout) == 0) {
		plugin_error("restore FAILED: Redis is running again with the "
		    "previous data (%s unchanged)", path);
		return 1;
	}
	plugin_error("restore FAILED and Redis is DOWN: %s holds the previous "
	    "data again, but Redis does not answer after start_command; "
	    "check the Redis log and start it by hand", path);
	return 1;
}

/*
 * Spool and check the archive; only then stop Redis, swap the file in,
 * start Redis and wait for it, rolling back if it does not come back.
 */
static int
rl_restore(const cJSON *ep)
{
	const char *path = plugin_ep_string(ep, "rdb_path", NULL);
	long long timeout = plugin_ep_int(ep, "start_timeout", 60);
	char **stop = NULL, **start = NULL;
	char dir[PATH_MAX], old[PATH_MAX + 16], tmp[PATH_MAX];
	int fd = -1, had_old, rc = 1;

	if (rl_validate(ep) != 0)
		return 1;
	stop = rl_command(ep, "stop_command");
	start = rl_command(ep, "start_command");
	snprintf(tmp, sizeof tmp, "%s", path);
	snprintf(dir, sizeof dir, "%s", dirname(tmp));
	if ((size_t)snprintf(old, sizeof old, "%s%s", path, RL_OLD_SUFFIX) >=
	    sizeof old) {
		plugin_error("rdb_path is too long");
		goto out;
	}
	if ((fd = rl_spool(dir, path)) == -1)
		goto out;
	close(fd);

	/* From here on a signal waits: halfway, Redis would stay down. */
	rl_signal_set(rl_signal_defer);
	if (rl_run(stop, "stop_command") == -1) {
		plugin_error("stop_command failed: %s is unchanged", path);
		goto out;
	}
	if (rl_wait_server(ep, 0, RL_STOP_TIMEOUT) == -1) {
		plugin_error("Redis still answers %d s after stop_command; "
		    "%s is unchanged", RL_STOP_TIMEOUT, path);
		goto out;
	}
	if (rl_swap(path, old, &had_old) == -1) {
		plugin_error("restore failed with Redis stopped; %s is "
		    "unchanged, starting Redis again", path);
		if (rl_run(start, "start_command") == 0 &&
		    rl_wait_server(ep, 1, (double)timeout) == 0)
			plugin_error("Redis is running with its previous data");
		else
			plugin_error("Redis is DOWN: start it by hand");
		goto out;
	}
	rl_sync_dir(dir);
	if (rl_run(start, "start_command") == -1) {
		rc = rl_rollback(ep, stop, start, path, old, had_old, dir,
		    "start_command failed");
		goto out;
	}
	if (rl_wait_server(ep, 1, (double)timeout) == -1) {
		rc = rl_rollback(ep, stop, start, path, old, had_old, dir,
		    "no PONG within start_timeout");
		goto out;
	}
	if (had_old && unlink(old) == -1)
		plugin_info("cannot remove %s: %s", old, strerror(errno));
	rl_sync_dir(dir);
	if (rl_signalled)
		plugin_info("a termination signal arrived during the swap; "
		    "it was finished first");
	plugin_info("restored %s; Redis is running with the restored data",
	    path);
	rc = 0;
out:
	if (rl_tmp_path[0] != '\0') {
		unlink(rl_tmp_path);
		rl_tmp_path[0] = '\0';
	}
	rl_command_free(stop);
	rl_command_free(start);
	return rc;
}

static const struct plugin_def rl_plugin = {
	.name = "Redis (local RDB file)",
	.short_name = "redis-local",
	.author = "SHIELD",
	.version = SHIELD_VERSION,
	.help =
	    "Backs up a Redis server by copying its RDB file after a BGSAVE, "
	    "and restores by replacing that file. It MUST RUN ON THE REDIS "
	    "HOST, through shield-agent: rdb_path, stop_command and "
	    "start_command are local to it. Backup asks for a BGSAVE, waits "
	    "until it has completed successfully and streams rdb_path; Redis "
	    "keeps serving meanwhile. RESTORE STOPS REDIS (downtime) AND "
	    "REPLACES THE WHOLE DATASET: the archive is first written next to "
	    "rdb_path and checked (a truncated or corrupt archive, or a "
	    "canceled restore, never stops Redis); then stop_command runs, "
	    "the file is swapped in (the old one is kept as "
	    "rdb_path.shield-old until Redis is back), start_command runs "
	    "and the plugin waits up to start_timeout seconds for PING. If "
	    "Redis does not come back, the old file is put back and Redis "
	    "started again, and the restore fails saying so. Commands run "
	    "without a shell, as the agent's user, who must be allowed to "
	    "run them and to write rdb_path's directory. With appendonly "
	    "yes, Redis loads the AOF instead of the RDB file: use this "
	    "plugin only for servers without AOF.",
	.fields = rl_fields,
	.validate = rl_validate,
	.backup = rl_backup,
	.restore = rl_restore,
};

/* Run the plugin protocol. */
int
main(int argc, char **argv)
{
	return plugin_main(&rl_plugin, argc, argv);
}
