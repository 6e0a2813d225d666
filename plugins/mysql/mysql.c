/*
 * The mysql plugin, for MySQL and MariaDB: backs up one database, or all of
 * them, with mariadb-dump (or mysqldump) and restores with the mariadb (or
 * mysql) client, which stops at the first error.  Tools run without a shell.
 * The password reaches them through an in-memory option file (memfd, mode
 * 0600) named by --defaults-extra-file, always their first argument; it is
 * never in argv, the environment or on disk.
 *
 * A one-database archive is dumped without --databases, so it carries no
 * CREATE DATABASE or USE: the restore creates the target database when it is
 * missing and selects it, which lets an archive be restored under another
 * name.  Before a restore, the archive's kind is checked (nothing changes on
 * a foreign or empty archive) and the other connections using the target
 * are killed, since their metadata locks would stall the restore.  See
 * plugins/mysql/README.md.  A tool's stderr is captured, forwarded with the
 * password masked and summarised in one last line (plugins/sdk/tool.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin.h"
#include "tool.h"

#define MYSQL_ERR_MAX		(16 * 1024)
#define MYSQL_HEAD_MAX		4096
#define MYSQL_CONNECT_TIMEOUT	"--connect-timeout=10"
#define MYSQL_ARGV_MAX		256
#define MYSQL_TAIL		256

/* What the endpoint says about the server. */
struct mysql_conn {
	const char	*host;
	char		 port[16];
	const char	*user;
	const char	*password;	/* NULL when unset or empty */
	const char	*database;	/* NULL: all databases */
	const char	*options;	/* extra dump options, or NULL */
	const char	*bindir;	/* NULL: PATH */
	/* "--defaults-extra-file=F" as the first argument, or "". */
	char		 defaults[4200];
	int		 defaults_fd;
	char		 defaults_path[4096];	/* a fallback file to unlink */
};

static const struct plugin_field mysql_fields[] = {
	{ "mysql_host", "string", 1, NULL,
	    "Host name or address of the MySQL or MariaDB server",
	    NULL, "Host" },
	{ "mysql_port", "port", 0, "3306", "TCP port of the server",
	    NULL, "Port" },
	{ "mysql_user", "string", 1, NULL, "User to connect as",
	    NULL, "User" },
	{ "mysql_password", "password", 0, NULL, "Password of mysql_user",
	    NULL, "Password" },
	{ "mysql_database", "string", 0, NULL,
	    "Database to back up; unset: all databases, accounts included",
	    NULL, "Database" },
	{ "mysql_options", "string", 0, NULL,
	    "Extra options for mariadb-dump / mysqldump, separated by spaces",
	    NULL, "Extra dump options" },
	{ "mysql_bindir", "path", 0, NULL,
	    "Directory holding the dump tool and the client; unset: PATH",
	    NULL, "Tools directory" },
	{ NULL, NULL, 0, NULL, NULL, NULL, NULL }
};

/* Fill conn from the endpoint (already checked against mysql_fields). */
static void
mysql_conn_read(struct mysql_conn *conn, const cJSON *ep)
{
	memset(conn, 0, sizeof *conn);
	conn->host = plugin_ep_string(ep, "mysql_host", "127.0.0.1");
	snprintf(conn->port, sizeof conn->port, "%lld",
	    plugin_ep_int(ep, "mysql_port", 3306));
	conn->user = plugin_ep_string(ep, "mysql_user", "root");
	conn->password = plugin_ep_opt(ep, "mysql_password");
	conn->database = plugin_ep_opt(ep, "mysql_database");
	conn->options = plugin_ep_opt(ep, "mysql_options");
	conn->bindir = plugin_ep_opt(ep, "mysql_bindir");
	conn->defaults_fd = -1;
}

/*
 * Write the option file holding the password.  Option-file values are
 * double-quoted so '#', ';' and spaces survive; \ and " are escaped.
 */
static int
mysql_defaults_open(struct mysql_conn *conn)
{
	const char *p;
	char *text, *q;
	size_t len;
	int fd, rc;

	if (conn->password == NULL)
		return 0;
	len = strlen(conn->password);
	if ((text = malloc(len * 2 + 32)) == NULL) {
		plugin_error("out of memory");
		return -1;
	}
	q = text + sprintf(text, "[client]\npassword=\"");
	for (p = conn->password; *p != '\0'; p++) {
		if (*p == '\\' || *p == '"')
			*q++ = '\\';
		if (*p == '\n') {
			*q++ = '\\';
			*q++ = 'n';
			continue;
		}
		*q++ = *p;
	}
	q += sprintf(q, "\"\n");
	/* Inherited by the tools, which read it as /dev/fd/N. */
	fd = memfd_create("shield-mysql", 0);
	if (fd == -1) {
		/* Mode 0600; it is unlinked when we finish. */
		fd = tool_tmpfile_path(conn->defaults_path,
		    sizeof conn->defaults_path, "shield-mysql");
		if (fd == -1) {
			plugin_error("cannot create an option file: %s",
			    strerror(errno));
			conn->defaults_path[0] = '\0';
			free(text);
			return -1;
		}
	} else
		fchmod(fd, 0600);	/* tools skip world-writable ones */
	rc = tool_write_all(fd, text, (size_t)(q - text));
	explicit_bzero(text, len * 2 + 32);
	free(text);
	if (rc == -1) {
		close(fd);
		return -1;
	}
	conn->defaults_fd = fd;
	if (conn->defaults_path[0] != '\0')
		snprintf(conn->defaults, sizeof conn->defaults,
		    "--defaults-extra-file=%s", conn->defaults_path);
	else
		snprintf(conn->defaults, sizeof conn->defaults,
		    "--defaults-extra-file=/dev/fd/%d", fd);
	return 0;
}

/* Drop the option file. */
static void
mysql_defaults_close(struct mysql_conn *conn)
{
	if (conn->defaults_fd != -1)
		close(conn->defaults_fd);
	if (conn->defaults_path[0] != '\0')
		unlink(conn->defaults_path);
	conn->defaults_fd = -1;
}

/*
 * 1 if the client lost a connection it had made: the server went away or
 * closed it in the middle of a query.  A connection lost during the
 * handshake is a failure to connect, and the client then says where it
 * was: "Lost connection to server at 'reading initial communication
 * packet'".
 */
static int
mysql_lost(const char *err)
{
	const char *p, *eol;

	if (strstr(err, "has gone away") != NULL)
		return 1;
	if ((p = strstr(err, "Lost connection")) == NULL)
		return 0;
	eol = strchrnul(p, '\n');
	return memmem(p, (size_t)(eol - p), " at '", 5) == NULL;
}

/*
 * Summarise a failed tool run in one line a user can act on, from its exit
 * status and the tail of its stderr.  what names the tool, during what it
 * was doing ("the dump").
 */
static void
mysql_explain(const struct mysql_conn *conn, const char *what,
    const char *during, int status, const char *err)
{
	const char *p;

	if (tool_not_started(status, err))
		plugin_error("cannot run %s: is the MySQL/MariaDB client "
		    "installed (or mysql_bindir set)?", what);
	else if (mysql_lost(err))
		plugin_error("lost the connection to %s:%s during %s (server "
		    "gone away?)", conn->host, conn->port, during);
	else if (strstr(err, "Can't connect") != NULL ||
	    strstr(err, "Lost connection") != NULL) {
		if (strstr(err, "(111)") != NULL ||
		    strstr(err, "(115)") != NULL)
			plugin_error("cannot connect to %s:%s: connection "
			    "refused", conn->host, conn->port);
		else if (strstr(err, "(110)") != NULL)
			plugin_error("cannot connect to %s:%s: timed out",
			    conn->host, conn->port);
		else
			plugin_error("cannot connect to %s:%s", conn->host,
			    conn->port);
	} else if (strstr(err, "nknown server host") != NULL ||
	    strstr(err, "nknown MySQL server host") != NULL)
		plugin_error("cannot connect to %s:%s: unknown host",
		    conn->host, conn->port);
	else if (strstr(err, "Access denied for user") != NULL &&
	    (strstr(err, "using password") != NULL ||
	    strstr(err, "1045") != NULL))
		plugin_error("authentication failed for user %s on %s:%s",
		    conn->user, conn->host, conn->port);
	else if (strstr(err, "Access denied") != NULL)
		plugin_error("user %s lacks a privilege this needs (see "
		    "above)", conn->user);
	else if (strstr(err, "Unknown database") != NULL)
		plugin_error("database %s does not exist on %s:%s",
		    conn->database != NULL ? conn->database : "?", conn->host,
		    conn->port);
	else if ((p = strstr(err, "ERROR ")) != NULL &&
	    strstr(p, " at line ") != NULL)
		plugin_error("%s stopped at the first error in the archive "
		    "(see above)", what);
	else
		tool_report_status(what, status);
}

/* Start argv with the option file and the connection options. */
static void
mysql_argv_conn(const struct mysql_conn *conn, const char *tool,
    const char **argv, int *n)
{
	argv[(*n)++] = tool;
	/* Must come first: the tools only honour it there. */
	if (conn->defaults[0] != '\0')
		argv[(*n)++] = conn->defaults;
	argv[(*n)++] = "--host";
	argv[(*n)++] = conn->host;
	argv[(*n)++] = "--port";
	argv[(*n)++] = conn->port;
	argv[(*n)++] = "--user";
	argv[(*n)++] = conn->user;
}

/*
 * Run the client with a script on stdin (and no database selected); its
 * output goes into out when out is not NULL.  Returns its status.
 */
static int
mysql_client_script(const struct mysql_conn *conn, const char *script,
    int force, char *out, size_t outsz)
{
	const char *argv[32];
	char err[MYSQL_ERR_MAX], *tool;
	int fds[2], ofd = -1, n = 0, status = -1;

	if (out != NULL)
		out[0] = '\0';
	tool = tool_find(conn->bindir, NULL, "mariadb", "mysql", (char *)NULL);
	if (tool == NULL)
		return -1;
	/* Never let output reach our stdout: it may be a backup stream. */
	if (out != NULL)
		ofd = tool_tmpfile();
	else
		ofd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	if (ofd == -1)
		goto out;
	if (pipe2(fds, O_CLOEXEC) == -1) {
		plugin_error("pipe: %s", strerror(errno));
		goto out;
	}
	/* Scripts are far below a pipe's capacity: write them all now. */
	if (tool_write_all(fds[1], script, strlen(script)) == -1) {
		close(fds[0]);
		close(fds[1]);
		goto out;
	}
	close(fds[1]);
	mysql_argv_conn(conn, tool, argv, &n);
	argv[n++] = MYSQL_CONNECT_TIMEOUT;
	argv[n++] = "--batch";
	argv[n++] = "--skip-column-names";
	if (force)
		argv[n++] = "--force";
	argv[n] = NULL;
	status = tool_capture_run(argv, fds[0], ofd, conn->password, err,
	    sizeof err);
	close(fds[0]);
	if (status != 0 && !force)
		mysql_explain(conn, "mysql client", "a query", status, err);
	if (out != NULL)
		tool_tail_read(ofd, out, outsz);
out:
	if (ofd != -1)
		close(ofd);
	free(tool);
	return status;
}

/* Append s as an SQL string literal or `identifier` (quote is ' or `). */
static void
mysql_quote(char *buf, size_t size, const char *s, char quote)
{
	size_t n = strlen(buf);

	if (n + 1 < size)
		buf[n++] = quote;
	for (; *s != '\0' && n + 3 < size; s++) {
		if (*s == quote || (quote == '\'' && *s == '\\'))
			buf[n++] = *s;
		buf[n++] = *s;
	}
	if (n + 1 < size)
		buf[n++] = quote;
	buf[n] = '\0';
}

/*
 * Check that we can connect (and that the database exists, when one is
 * named) before a dump: the dump tool has no connect timeout of its own.
 */
static int
mysql_preflight(const struct mysql_conn *conn)
{
	char script[1024] = "SELECT 1;\n";

	if (conn->database != NULL) {
		strcat(script, "USE ");
		mysql_quote(script, sizeof script - 4, conn->database, '`');
		strcat(script, ";\n");
	}
	return mysql_client_script(conn, script, 0, NULL, 0) == 0 ? 0 : -1;
}

/* Split mysql_options on spaces into argv at *n; 0, or -1 if too many. */
static int
mysql_argv_options(char *opts, const char **argv, int *n, int max)
{
	char *tok, *save;

	for (tok = strtok_r(opts, " \t\n", &save); tok != NULL;
	    tok = strtok_r(NULL, " \t\n", &save)) {
		if (*n >= max)
			return -1;
		argv[(*n)++] = tok;
	}
	return 0;
}

/* Back up the database, or all databases, to stdout. */
static int
mysql_backup(const cJSON *ep)
{
	struct mysql_conn conn;
	const char *argv[MYSQL_ARGV_MAX];
	char err[MYSQL_ERR_MAX], *tool = NULL, *opts = NULL;
	int n = 0, status, rc = 1;

	mysql_conn_read(&conn, ep);
	if (mysql_defaults_open(&conn) == -1)
		return 1;
	if (mysql_preflight(&conn) == -1)
		goto out;
	if ((tool = tool_find(conn.bindir, NULL, "mariadb-dump",
	    "mysqldump", (char *)NULL)) == NULL ||
	    (conn.options != NULL && (opts = strdup(conn.options)) == NULL)) {
		plugin_error("out of memory");
		goto out;
	}
	mysql_argv_conn(&conn, tool, argv, &n);
	argv[n++] = "--single-transaction";
	argv[n++] = "--routines";
	argv[n++] = "--triggers";
	argv[n++] = "--events";
	argv[n++] = "--hex-blob";
	if (conn.database == NULL) {
		/* The accounts come along; make them usable at once. */
		argv[n++] = "--all-databases";
		argv[n++] = "--flush-privileges";
	}
	if (opts != NULL &&
	    mysql_argv_options(opts, argv, &n, MYSQL_ARGV_MAX - 3) == -1) {
		plugin_error("mysql_options has too many options");
		goto out;
	}
	if (conn.database != NULL) {
		/* Without --databases: no CREATE DATABASE/USE in the dump. */
		argv[n++] = "--";
		argv[n++] = conn.database;
	}
	argv[n] = NULL;
	status = tool_capture_run(argv, -1, 1, conn.password, err,
	    sizeof err);
	if (status != 0)
		mysql_explain(&conn, "mysqldump", "the dump", status, err);
	else
		rc = 0;
out:
	mysql_defaults_close(&conn);
	free(opts);
	free(tool);
	return rc;
}

/*
 * Read the start of the archive into head and check that it is a dump of
 * the kind this endpoint restores.  Reports and returns -1 when not.
 */
static int
mysql_head_check(const struct mysql_conn *conn, char *head, size_t *len)
{
	const char *host, *eol, *db;
	ssize_t r;

	*len = 0;
	while (*len < MYSQL_HEAD_MAX - 1 &&
	    (r = read(0, head + *len, MYSQL_HEAD_MAX - 1 - *len)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			plugin_error("reading the archive: %s",
			    strerror(errno));
			return -1;
		}
		*len += (size_t)r;
	}
	head[*len] = '\0';
	if (*len == 0) {
		plugin_error("the archive is empty; nothing was changed");
		return -1;
	}
	if (memchr(head, '\0', *len) != NULL ||
	    strncmp(head, "PGDMP", 5) == 0 ||
	    strstr(head, "-- PostgreSQL database") != NULL) {
		plugin_error("the archive is not a MySQL/MariaDB dump%s; "
		    "nothing was changed", strncmp(head, "PGDMP", 5) == 0 ||
		    strstr(head, "PostgreSQL") != NULL ?
		    " (it is a PostgreSQL archive)" : "");
		return -1;
	}
	/* The dump header says which database it holds, if any. */
	if ((host = strstr(head, "\n-- Host: ")) == NULL ||
	    (eol = strchr(host + 1, '\n')) == NULL)
		return 0;
	if ((db = strstr(host, "Database: ")) == NULL || db > eol)
		return 0;
	db += strlen("Database: ");
	if (conn->database != NULL && db == eol) {
		plugin_error("the archive holds all databases: unset "
		    "mysql_database to restore it; nothing was changed");
		return -1;
	}
	if (conn->database == NULL && db != eol) {
		plugin_error("the archive holds one database (%.*s): set "
		    "mysql_database to restore it; nothing was changed",
		    (int)(eol - db), db);
		return -1;
	}
	return 0;
}

/*
 * Kill the other connections using the target database (all of them for an
 * all-databases restore): their open transactions hold metadata locks that
 * would stall DROP TABLE until the server's lock_wait_timeout.
 */
static int
mysql_kill_sessions(const struct mysql_conn *conn)
{
	char query[2048], out[8192], *script, *p, *end;
	size_t cap;
	long id, killed = 0;

	snprintf(query, sizeof query, "SELECT id FROM "
	    "information_schema.processlist WHERE id <> CONNECTION_ID() AND "
	    "command NOT IN ('Daemon', 'Binlog Dump', 'Binlog Dump GTID', "
	    "'Slave_IO', 'Slave_SQL', 'Slave_worker') AND user NOT IN "
	    "('system user', 'event_scheduler')");
	if (conn->database != NULL) {
		strcat(query, " AND db = ");
		mysql_quote(query, sizeof query - 4, conn->database, '\'');
	}
	strcat(query, ";\n");
	if (mysql_client_script(conn, query, 0, out, sizeof out) != 0)
		return -1;
	cap = strlen(out) * 2 + 64;
	if ((script = calloc(1, cap)) == NULL)
		return -1;
	for (p = out; *p != '\0'; p = end) {
		id = strtol(p, &end, 10);
		if (end == p) {
			end = p + 1;
			continue;
		}
		snprintf(script + strlen(script), cap - strlen(script),
		    "KILL CONNECTION %ld;\n", id);
		killed++;
	}
	/* --force: a connection may end by itself before its KILL. */
	if (killed > 0) {
		mysql_client_script(conn, script, 1, NULL, 0);
		plugin_info("killed %ld other connection%s using %s", killed,
		    killed == 1 ? "" : "s", conn->database != NULL ?
		    conn->database : "the server");
	}
	free(script);
	return 0;
}

/*
 * Copy the rest of stdin to fd, keeping the last bytes seen in tail (which
 * holds the head's end on entry).  -1 on a read error or a gone reader.
 */
static int
mysql_feed(int fd, char *tail, size_t *tlen)
{
	char buf[128 * 1024];
	size_t keep;
	ssize_t r;

	for (;;) {
		if ((r = read(0, buf, sizeof buf)) == 0)
			return 0;
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			plugin_error("reading the archive: %s",
			    strerror(errno));
			return -1;
		}
		if (tool_write_all(fd, buf, (size_t)r) == -1)
			return -1;
		/* Slide the window: old tail bytes, then the new ones. */
		if ((size_t)r >= MYSQL_TAIL) {
			memcpy(tail, buf + r - MYSQL_TAIL, MYSQL_TAIL);
			*tlen = MYSQL_TAIL;
		} else {
			keep = *tlen + (size_t)r > MYSQL_TAIL ?
			    MYSQL_TAIL - (size_t)r : *tlen;
			memmove(tail, tail + *tlen - keep, keep);
			memcpy(tail + keep, buf, (size_t)r);
			*tlen = keep + (size_t)r;
		}
	}
}

/*
 * 1 if a dump written with comments (it starts with the tool's banner) lacks
 * the "-- Dump completed" trailer: the archive was cut short.  The client
 * cannot tell when the cut falls between two statements.
 */
static int
mysql_truncated(const char *head, const char *tail, size_t tlen)
{
	char buf[MYSQL_TAIL + 1];

	if (strstr(head, "\n-- MariaDB dump") == NULL &&
	    strstr(head, "\n-- MySQL dump") == NULL &&
	    strncmp(head, "-- MariaDB dump", 15) != 0 &&
	    strncmp(head, "-- MySQL dump", 13) != 0)
		return 0;
	memcpy(buf, tail, tlen);
	buf[tlen] = '\0';
	return strstr(buf, "-- Dump completed") == NULL;
}

/* Restore from stdin into the database, or into the whole server. */
static int
mysql_restore(const cJSON *ep)
{
	struct mysql_conn conn;
	const char *argv[32];
	char head[MYSQL_HEAD_MAX], err[MYSQL_ERR_MAX], prefix[1024] = "";
	char *tool = NULL, tail[MYSQL_TAIL];
	size_t len, tlen = 0;
	int fds[2], n = 0, status, fed = -1, efd, rc = 1;
	pid_t pid;

	mysql_conn_read(&conn, ep);
	/* A client that quits early must not kill us before we report it. */
	signal(SIGPIPE, SIG_IGN);
	if (mysql_head_check(&conn, head, &len) == -1)
		return 1;
	if (mysql_defaults_open(&conn) == -1)
		return 1;
	if (mysql_kill_sessions(&conn) == -1 ||
	    (tool = tool_find(conn.bindir, NULL, "mariadb", "mysql",
	    (char *)NULL)) == NULL)
		goto out;
	if (conn.database != NULL) {
		strcat(prefix, "CREATE DATABASE IF NOT EXISTS ");
		mysql_quote(prefix, sizeof prefix - 16, conn.database, '`');
		strcat(prefix, ";\nUSE ");
		mysql_quote(prefix, sizeof prefix - 4, conn.database, '`');
		strcat(prefix, ";\n");
	}
	mysql_argv_conn(&conn, tool, argv, &n);
	argv[n++] = MYSQL_CONNECT_TIMEOUT;
	argv[n] = NULL;
	if (pipe2(fds, O_CLOEXEC) == -1) {
		plugin_error("pipe: %s", strerror(errno));
		goto out;
	}
	pid = tool_capture_begin(argv, fds[0], -1, &efd);
	close(fds[0]);
	if (pid != -1) {
		fed = tool_write_all(fds[1], prefix, strlen(prefix));
		if (fed == 0)
			fed = tool_write_all(fds[1], head, len);
		tlen = len < MYSQL_TAIL ? len : MYSQL_TAIL;
		memcpy(tail, head + len - tlen, tlen);
		if (fed == 0)
			fed = mysql_feed(fds[1], tail, &tlen);
	}
	close(fds[1]);
	status = pid == -1 ? -1 :
	    tool_capture_end(pid, efd, "mysql client", conn.password,
	    err, sizeof err);
	if (fed == 0 && mysql_truncated(head, tail, tlen)) {
		plugin_error("the archive is truncated (it lacks the dump's "
		    "closing line); what it held up to the cut stays restored");
		goto out;
	}
	if (status == 0 && fed == 0) {
		if (conn.database != NULL)
			plugin_info("restored database %s", conn.database);
		else
			plugin_info("restored all databases");
		rc = 0;
		goto out;
	}
	if (status == 0)
		plugin_error("reading the archive failed");
	else
		mysql_explain(&conn, "the restore", "the restore", status,
		    err);
	plugin_error("the restore stopped at the first error; what ran "
	    "before it stays applied");
out:
	mysql_defaults_close(&conn);
	free(tool);
	return rc;
}

/* 1 if a word of the options is -p... or --password...: argv is public. */
static int
mysql_options_password(const char *opts)
{
	const char *p = opts;

	while (*p != '\0') {
		p += strspn(p, " \t\n");
		if ((strncmp(p, "-p", 2) == 0 && p[2] != '\0' && p[2] != ' ') ||
		    strcmp(p, "-p") == 0 || strncmp(p, "-p ", 3) == 0 ||
		    strncmp(p, "--password", 10) == 0)
			return 1;
		p += strcspn(p, " \t\n");
	}
	return 0;
}

/* Check what the field checks cannot: mysql_bindir and mysql_options. */
static int
mysql_validate(const cJSON *ep)
{
	struct mysql_conn conn;
	struct stat st;
	int bad = 0;

	mysql_conn_read(&conn, ep);
	if (conn.bindir != NULL) {
		if (stat(conn.bindir, &st) == -1 || !S_ISDIR(st.st_mode)) {
			plugin_error("mysql_bindir %s is not a directory",
			    conn.bindir);
			bad = 1;
		} else if (!tool_in_dir(conn.bindir, "mariadb-dump") &&
		    !tool_in_dir(conn.bindir, "mysqldump")) {
			plugin_error("mysql_bindir %s has neither mariadb-dump "
			    "nor mysqldump", conn.bindir);
			bad = 1;
		}
	}
	/* Options are passed one word each, without a shell. */
	if (conn.options != NULL && strpbrk(conn.options, "'\"`$|;&<>") !=
	    NULL) {
		plugin_error("mysql_options is split on spaces without a "
		    "shell: quotes and shell characters are not supported");
		bad = 1;
	}
	if (conn.options != NULL && mysql_options_password(conn.options)) {
		plugin_error("mysql_options must not hold a password: use "
		    "mysql_password");
		bad = 1;
	}
	return bad;
}

static const struct plugin_def mysql_def = {
	.name = "MySQL / MariaDB",
	.short_name = "mysql",
	.author = "SHIELD",
	.version = SHIELD_VERSION,
	.help = "Backs up one MySQL or MariaDB database, or all of them "
	    "with the accounts when mysql_database is unset, as an SQL dump "
	    "(mariadb-dump or mysqldump).  A one-database archive can be "
	    "restored under another database name.",
	.fields = mysql_fields,
	.validate = mysql_validate,
	.backup = mysql_backup,
	.restore = mysql_restore,
};

int
main(int argc, char **argv)
{
	return plugin_main(&mysql_def, argc, argv);
}
