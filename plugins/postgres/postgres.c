/*
 * The postgres plugin: backs up one PostgreSQL database in pg_dump's custom
 * format, or a whole cluster (roles included) as pg_dumpall's SQL script,
 * and restores either with pg_restore or psql.  The tools run without a
 * shell; the password reaches them only through PGPASSWORD in their
 * environment, never through argv.  Backups stream the tool's stdout straight
 * to ours; restores read the archive through this program, which checks the
 * archive's kind before touching the server.
 *
 * Restore decisions (see plugins/postgres/README.md):
 *   - one database: created (from template0) when missing, other sessions on
 *     it terminated, then pg_restore --clean --if-exists --single-transaction
 *     --exit-on-error, keeping owners and privileges, so a failed restore
 *     leaves the database as it was;
 *   - whole cluster: other sessions terminated, then psql -v ON_ERROR_STOP=1,
 *     skipping the DROP ROLE / CREATE ROLE of the role we connect as, which
 *     can neither be dropped nor created while we use it, and keeping its
 *     current password.
 * A tool's stderr is captured to an unlinked temporary file, forwarded to
 * ours (with the password masked) and summarised in one last line.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plugin.h"
#include "tool.h"

#define PG_ERR_MAX		(16 * 1024)
#define PG_CONNECT_TIMEOUT	"10"
#define PG_MAINTENANCE_DB	"postgres"
/* Where Debian and Ubuntu install each server version's tools. */
#define PG_VERSION_DIRS		"/usr/lib/postgresql/*/bin"

/* What the endpoint says about the server. */
struct pg_conn {
	const char	*host;
	char		 port[16];
	const char	*user;
	const char	*password;	/* NULL when unset or empty */
	const char	*database;	/* NULL: the whole cluster */
	const char	*bindir;	/* NULL: PATH, then Debian's dirs */
};

static const struct plugin_field pg_fields[] = {
	{ "pg_host", "string", 1, NULL,
	    "Host name or address of the PostgreSQL server",
	    NULL, "Host" },
	{ "pg_port", "port", 0, "5432", "TCP port of the server",
	    NULL, "Port" },
	{ "pg_user", "string", 1, NULL,
	    "Role to connect as (a superuser for whole-cluster backups)",
	    NULL, "User" },
	{ "pg_password", "password", 0, NULL, "Password of pg_user",
	    NULL, "Password" },
	{ "pg_database", "string", 0, NULL,
	    "Database to back up; unset: the whole cluster, roles included",
	    NULL, "Database" },
	{ "pg_bindir", "path", 0, NULL,
	    "Directory holding pg_dump, pg_dumpall, pg_restore and psql; "
	    "unset: PATH, then the newest /usr/lib/postgresql/*/bin",
	    NULL, "Tools directory" },
	{ NULL, NULL, 0, NULL, NULL, NULL, NULL }
};

/* Fill conn from the endpoint (already checked against pg_fields). */
static void
pg_conn_read(struct pg_conn *conn, const cJSON *ep)
{
	conn->host = plugin_ep_string(ep, "pg_host", "127.0.0.1");
	snprintf(conn->port, sizeof conn->port, "%lld",
	    plugin_ep_int(ep, "pg_port", 5432));
	conn->user = plugin_ep_string(ep, "pg_user", "postgres");
	conn->password = plugin_ep_opt(ep, "pg_password");
	conn->database = plugin_ep_opt(ep, "pg_database");
	conn->bindir = plugin_ep_opt(ep, "pg_bindir");
}

/*
 * Put the password and connect timeout in our environment, which every tool
 * inherits; a PGPASSWORD from our own caller must not win over the endpoint.
 */
static void
pg_env_set(const struct pg_conn *conn)
{
	if (conn->password != NULL)
		setenv("PGPASSWORD", conn->password, 1);
	else
		unsetenv("PGPASSWORD");
	setenv("PGCONNECT_TIMEOUT", PG_CONNECT_TIMEOUT, 1);
	setenv("PGAPPNAME", "shield", 1);
	/* Our argv says where and who; stray PG* settings must not. */
	unsetenv("PGSERVICE");
	unsetenv("PGOPTIONS");
}

/*
 * The program to run for a tool: pg_bindir/name, else the bare name when
 * PATH has it, else the newest Debian server-version directory that has it.
 * Returns a string the caller frees.
 */
static char *
pg_tool(const struct pg_conn *conn, const char *name)
{
	return tool_find(conn->bindir, PG_VERSION_DIRS, name, (char *)NULL);
}

/* Copy the quoted text after needle (up to the closing quote) into buf. */
static int
pg_quoted_after(const char *text, const char *needle, char *buf, size_t size)
{
	const char *p, *q;
	size_t n;

	if ((p = strstr(text, needle)) == NULL)
		return 0;
	p += strlen(needle);
	if ((q = strchr(p, '"')) == NULL)
		return 0;
	n = (size_t)(q - p) < size - 1 ? (size_t)(q - p) : size - 1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	return 1;
}

/*
 * 1 if a tool that connects again as it goes (pg_dumpall once for each
 * database, psql at each \connect of a cluster script) failed to: it had
 * reached the server before, which then went away in the middle of the run.
 */
static int
pg_reconnect_failed(const char *err)
{
	return strstr(err, "pg_dump failed on database") != NULL ||
	    strstr(err, "\\connect: ") != NULL;
}

/*
 * Summarise a failed tool run in one line a user can act on, from its exit
 * status and the tail of its stderr.  what names the tool, during what it
 * was doing ("the dump").
 */
static void
pg_explain(const struct pg_conn *conn, const char *what, const char *during,
    int status, const char *err)
{
	char name[256];
	const char *why = NULL;

	if (tool_not_started(status, err)) {
		plugin_error("cannot run %s: is the PostgreSQL client "
		    "installed (or pg_bindir set)?", what);
		return;
	}
	if (strstr(err, "Connection refused") != NULL)
		why = "connection refused";
	else if (strstr(err, "timeout expired") != NULL)
		why = "timed out";
	else if (strstr(err, "could not translate host name") != NULL)
		why = "unknown host";
	else if (strstr(err, "No route to host") != NULL ||
	    strstr(err, "Network is unreachable") != NULL)
		why = "no route to host";
	if (why != NULL && pg_reconnect_failed(err))
		plugin_error("lost the connection to %s:%s during %s (server "
		    "gone away?)", conn->host, conn->port, during);
	else if (why != NULL)
		plugin_error("cannot connect to %s:%s: %s", conn->host,
		    conn->port, why);
	else if (strstr(err, "password authentication failed") != NULL ||
	    strstr(err, "authentication failed for user") != NULL)
		plugin_error("authentication failed for user %s on %s:%s",
		    conn->user, conn->host, conn->port);
	else if (strstr(err, "no password supplied") != NULL)
		plugin_error("the server wants a password for %s and "
		    "pg_password is not set", conn->user);
	else if (strstr(err, "no pg_hba.conf entry") != NULL)
		plugin_error("the server does not accept %s from this host "
		    "(pg_hba.conf)", conn->user);
	else if (pg_quoted_after(err, "database \"", name, sizeof name) &&
	    strstr(err, "does not exist") != NULL)
		plugin_error("database %s does not exist on %s:%s", name,
		    conn->host, conn->port);
	else if (pg_quoted_after(err, "role \"", name, sizeof name) &&
	    strstr(err, "does not exist") != NULL)
		plugin_error("role %s does not exist on %s:%s; create it (a "
		    "single-database archive does not carry roles)", name,
		    conn->host, conn->port);
	else if (strstr(err, "could not read from input file") != NULL ||
	    strstr(err, "unexpected end of file") != NULL ||
	    strstr(err, "did not find magic string") != NULL)
		plugin_error("the archive is truncated or damaged");
	else
		tool_report_status(what, status);
}

/*
 * The -d argument for pg_database: libpq reads a -d value holding '=' (or a
 * URI) as a connection string, so "host=... dbname=x" would override pg_host.
 * A connection string naming only dbname, quoted by libpq's rules (single
 * quotes, backslash before ' and \), keeps the whole value a database name.
 * Returns a string the caller frees, or NULL when out of memory.
 */
static char *
pg_dbname_arg(const char *db)
{
	const char *p;
	char *out, *o;

	if ((out = malloc(strlen(db) * 2 + sizeof "dbname=''")) == NULL)
		return NULL;
	o = out + sprintf(out, "dbname='");
	for (p = db; *p != '\0'; p++) {
		if (*p == '\'' || *p == '\\')
			*o++ = '\\';
		*o++ = *p;
	}
	strcpy(o, "'");
	return out;
}

/* Append "-h H -p P -U U -w" to argv at *n. */
static void
pg_argv_conn(const struct pg_conn *conn, const char **argv, int *n)
{
	argv[(*n)++] = "-h";
	argv[(*n)++] = conn->host;
	argv[(*n)++] = "-p";
	argv[(*n)++] = conn->port;
	argv[(*n)++] = "-U";
	argv[(*n)++] = conn->user;
	argv[(*n)++] = "-w";	/* never prompt: fail instead */
}

/* Back up the database, or the whole cluster, to stdout. */
static int
pg_backup(const cJSON *ep)
{
	struct pg_conn conn;
	const char *argv[20];
	char err[PG_ERR_MAX], *tool, *dbarg = NULL;
	int n = 0, status;

	pg_conn_read(&conn, ep);
	pg_env_set(&conn);
	tool = pg_tool(&conn, conn.database != NULL ? "pg_dump" :
	    "pg_dumpall");
	if (tool == NULL || (conn.database != NULL &&
	    (dbarg = pg_dbname_arg(conn.database)) == NULL)) {
		plugin_error("out of memory");
		free(tool);
		return 1;
	}
	argv[n++] = tool;
	pg_argv_conn(&conn, argv, &n);
	if (conn.database != NULL) {
		argv[n++] = "-Fc";
		argv[n++] = "-d";
		argv[n++] = dbarg;
	} else {
		/* Restoring drops and recreates what the archive holds. */
		argv[n++] = "--clean";
		argv[n++] = "--if-exists";
		argv[n++] = "-l";
		argv[n++] = PG_MAINTENANCE_DB;
	}
	argv[n] = NULL;
	status = tool_capture_run(argv, -1, 1, conn.password, err,
	    sizeof err);
	if (status != 0)
		pg_explain(&conn, conn.database != NULL ? "pg_dump" :
		    "pg_dumpall", "the dump", status, err);
	free(dbarg);
	free(tool);
	return status == 0 ? 0 : 1;
}

/*
 * Run psql on the maintenance database with a small script on its stdin and
 * its output captured into out.  Returns psql's status.
 */
static int
pg_psql_script(const struct pg_conn *conn, const char *script,
    const char *dbvar, char *out, size_t outsz)
{
	const char *argv[24];
	char err[PG_ERR_MAX], *tool, *var = NULL;
	int fds[2], ofd, n = 0, status = -1;

	out[0] = '\0';
	if ((tool = pg_tool(conn, "psql")) == NULL)
		return -1;
	if (dbvar != NULL && asprintf(&var, "db=%s", dbvar) == -1) {
		free(tool);
		return -1;
	}
	if ((ofd = tool_tmpfile()) == -1)
		goto out;
	if (pipe2(fds, O_CLOEXEC) == -1) {
		plugin_error("pipe: %s", strerror(errno));
		close(ofd);
		goto out;
	}
	/* The script is far below a pipe's capacity: write it all now. */
	if (tool_write_all(fds[1], script, strlen(script)) == -1) {
		close(fds[0]);
		close(fds[1]);
		close(ofd);
		goto out;
	}
	close(fds[1]);
	argv[n++] = tool;
	argv[n++] = "-X";
	argv[n++] = "-q";
	argv[n++] = "-A";
	argv[n++] = "-t";
	argv[n++] = "-v";
	argv[n++] = "ON_ERROR_STOP=1";
	if (var != NULL) {
		argv[n++] = "-v";
		argv[n++] = var;
	}
	pg_argv_conn(conn, argv, &n);
	argv[n++] = "-d";
	argv[n++] = PG_MAINTENANCE_DB;
	argv[n] = NULL;
	status = tool_capture_run(argv, fds[0], ofd, conn->password, err,
	    sizeof err);
	close(fds[0]);
	if (status != 0)
		pg_explain(conn, "psql", "a query", status, err);
	tool_tail_read(ofd, out, outsz);
	close(ofd);
out:
	free(var);
	free(tool);
	return status;
}

/*
 * SQL that terminates the other sessions matching a condition, as far as we
 * are allowed to, and prints "terminated N".  On 14 and later it waits (up
 * to 5 s each) for them to be gone, which DROP DATABASE needs.
 */
#define PG_TERMINATE(where)						\
	"SELECT current_setting('server_version_num')::int >= 140000"	\
	" AS shield_wait \\gset\n"					\
	"SELECT rolsuper AS shield_super FROM pg_roles"			\
	" WHERE rolname = current_user \\gset\n"			\
	"\\if :shield_wait\n"						\
	"\\set shield_term 'pg_terminate_backend(a.pid, 5000)'\n"	\
	"\\else\n"							\
	"\\set shield_term 'pg_terminate_backend(a.pid)'\n"		\
	"\\endif\n"							\
	"SELECT 'terminated ' || count(*) FILTER (WHERE :shield_term)"	\
	" FROM pg_stat_activity a WHERE " where				\
	" AND a.pid <> pg_backend_pid() AND (:'shield_super'"		\
	" OR (a.usesysid IS NOT NULL AND NOT COALESCE((SELECT rolsuper"	\
	" FROM pg_roles r WHERE r.oid = a.usesysid), false) AND"	\
	" (a.usename = current_user OR"					\
	" pg_has_role('pg_signal_backend', 'MEMBER'))));\n"

/* Create the target database if missing, then terminate its sessions. */
static const char pg_prepare_db[] =
    "SELECT NOT EXISTS (SELECT FROM pg_database WHERE datname = :'db')"
    " AS shield_missing \\gset\n"
    "\\if :shield_missing\n"
    "SELECT format('CREATE DATABASE %I TEMPLATE template0', :'db')"
    " \\gexec\n"
    "\\echo created\n"
    "\\endif\n"
    PG_TERMINATE("a.datname = :'db'");

/* Terminate every other session in the cluster. */
static const char pg_prepare_cluster[] =
    PG_TERMINATE("a.datname IS NOT NULL");

/* Drop the database we created for a restore that then failed. */
static const char pg_drop_db[] =
    "SELECT format('DROP DATABASE IF EXISTS %I', :'db') \\gexec\n";

/* Run a preparation script; report what it did; *created is set if so. */
static int
pg_prepare(const struct pg_conn *conn, int *created)
{
	char out[4096], *p;
	long terminated = 0;

	*created = 0;
	if (pg_psql_script(conn, conn->database != NULL ? pg_prepare_db :
	    pg_prepare_cluster, conn->database, out, sizeof out) != 0)
		return -1;
	if (strncmp(out, "created\n", 8) == 0) {
		*created = 1;
		plugin_info("created database %s", conn->database);
	}
	if ((p = strstr(out, "terminated ")) != NULL)
		terminated = strtol(p + 11, NULL, 10);
	if (terminated > 0)
		plugin_info("terminated %ld other session%s on %s", terminated,
		    terminated == 1 ? "" : "s", conn->database != NULL ?
		    conn->database : "the cluster");
	return 0;
}

/* Open a pipe whose write end we feed and whose read end a tool reads. */
static int
pg_pipe(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) == -1) {
		plugin_error("pipe: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Copy the rest of stdin to fd; -1 on a read error or a gone reader. */
static int
pg_feed_raw(int fd)
{
	char buf[128 * 1024];
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
	}
}

/* Restore one database from a pg_dump custom-format archive on stdin. */
static int
pg_restore_db(const struct pg_conn *conn)
{
	const char *argv[24];
	char head[5], err[PG_ERR_MAX], out[64], *tool, *dbarg;
	size_t got = 0;
	ssize_t r;
	int fds[2], n = 0, created, status, fed, efd;
	pid_t pid;

	while (got < sizeof head &&
	    (r = read(0, head + got, sizeof head - got)) != 0) {
		if (r == -1 && errno == EINTR)
			continue;
		if (r == -1) {
			plugin_error("reading the archive: %s",
			    strerror(errno));
			return 1;
		}
		got += (size_t)r;
	}
	if (got == 0) {
		plugin_error("the archive is empty; nothing was changed");
		return 1;
	}
	if (got < sizeof head || memcmp(head, "PGDMP", 5) != 0) {
		if (got >= 2 && memcmp(head, "--", 2) == 0)
			plugin_error("the archive is an SQL script (a "
			    "whole-cluster backup?), not a pg_dump archive: "
			    "unset pg_database to restore a cluster; nothing "
			    "was changed");
		else
			plugin_error("the archive is not a pg_dump archive; "
			    "nothing was changed");
		return 1;
	}
	if (pg_prepare(conn, &created) == -1)
		return 1;
	if ((tool = pg_tool(conn, "pg_restore")) == NULL)
		return 1;
	if ((dbarg = pg_dbname_arg(conn->database)) == NULL) {
		plugin_error("out of memory");
		free(tool);
		return 1;
	}
	argv[n++] = tool;
	pg_argv_conn(conn, argv, &n);
	argv[n++] = "-d";
	argv[n++] = dbarg;
	argv[n++] = "--clean";
	argv[n++] = "--if-exists";
	argv[n++] = "--single-transaction";
	argv[n++] = "--exit-on-error";
	argv[n] = NULL;
	if (pg_pipe(fds) == -1) {
		free(dbarg);
		free(tool);
		return 1;
	}
	pid = tool_capture_begin(argv, fds[0], -1, &efd);
	close(fds[0]);
	fed = -1;
	if (pid != -1) {
		fed = tool_write_all(fds[1], head, got);
		if (fed == 0)
			fed = pg_feed_raw(fds[1]);
	}
	close(fds[1]);
	status = pid == -1 ? -1 :
	    tool_capture_end(pid, efd, "pg_restore",
	    conn->password, err, sizeof err);
	free(dbarg);
	free(tool);
	if (status == 0 && fed == 0) {
		plugin_info("restored database %s", conn->database);
		return 0;
	}
	if (status == 0)
		plugin_error("reading the archive failed");
	else
		pg_explain(conn, "pg_restore", "the restore", status, err);
	if (created) {
		if (pg_psql_script(conn, pg_drop_db, conn->database, out,
		    sizeof out) == 0)
			plugin_error("restore failed; removed database %s, "
			    "which it had created", conn->database);
	} else
		plugin_error("restore failed; database %s was left as it "
		    "was", conn->database);
	return 1;
}

/* Past role name user at p (bare or quoted) and then tail, or NULL. */
static const char *
pg_role_after(const char *p, const char *user, const char *tail)
{
	const char *q;
	size_t ulen = strlen(user);

	if (strncmp(p, user, ulen) == 0 &&
	    strncmp(p + ulen, tail, strlen(tail)) == 0)
		return p + ulen + strlen(tail);
	if (*p++ != '"')
		return NULL;
	/* Quoted: compare with "" undoubled. */
	for (q = user; *q != '\0'; q++, p++) {
		if (*p != *q)
			return NULL;
		if (*q == '"' && *++p != '"')
			return NULL;
	}
	if (*p++ != '"' || strncmp(p, tail, strlen(tail)) != 0)
		return NULL;
	return p + strlen(tail);
}

/*
 * Filter a line of a cluster dump's preamble about the role we connect as:
 * 1 to leave it out (DROP ROLE, CREATE ROLE: that role can be neither
 * dropped nor created while we use it), else 0, with any PASSWORD clause of
 * its ALTER ROLE cut out in place, because psql reconnects with our password
 * for every database and the endpoint must keep working after the restore.
 */
static int
pg_line_filter(char *line, const char *user)
{
	static const char *verbs[] = { "DROP ROLE IF EXISTS ", "DROP ROLE ",
	    "CREATE ROLE ", NULL };
	char *p, *q;
	size_t i;

	for (i = 0; verbs[i] != NULL; i++) {
		if (strncmp(line, verbs[i], strlen(verbs[i])) == 0 &&
		    pg_role_after(line + strlen(verbs[i]), user, ";\n") != NULL)
			return 1;
	}
	if (strncmp(line, "ALTER ROLE ", 11) != 0 ||
	    pg_role_after(line + 11, user, " WITH ") == NULL)
		return 0;
	if ((p = strstr(line, " PASSWORD '")) != NULL &&
	    (q = strchr(p + 11, '\'')) != NULL)
		memmove(p, q + 1, strlen(q + 1) + 1);
	return 0;
}

/*
 * Copy a pg_dumpall script to fd: the lines already read, then the rest of
 * in, leaving out the preamble lines that drop or create our own role.  The
 * preamble ends at the first \connect; the rest is copied as is.
 */
static int
pg_feed_cluster(FILE *in, int fd, char *const *first, const char *user)
{
	FILE *out;
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int preamble = 1, rc = 0;

	if ((fd = dup(fd)) == -1 || (out = fdopen(fd, "w")) == NULL) {
		plugin_error("fdopen: %s", strerror(errno));
		if (fd != -1)
			close(fd);
		return -1;
	}
	for (; *first != NULL && rc == 0; first++) {
		if (fputs(*first, out) == EOF)
			rc = -1;
	}
	while (rc == 0 && (len = getline(&line, &cap, in)) != -1) {
		if (preamble && strncmp(line, "\\connect", 8) == 0)
			preamble = 0;
		if (preamble) {
			if (pg_line_filter(line, user))
				continue;
			len = (ssize_t)strlen(line);
		}
		if (fwrite(line, 1, (size_t)len, out) != (size_t)len)
			rc = -1;
	}
	if (ferror(in)) {
		plugin_error("reading the archive: %s", strerror(errno));
		rc = -1;
	}
	free(line);
	if (fclose(out) == EOF)
		rc = -1;
	return rc;
}

/* Restore a whole cluster from a pg_dumpall script on stdin. */
static int
pg_restore_cluster(const struct pg_conn *conn)
{
	const char *argv[24];
	char err[PG_ERR_MAX], *tool = NULL, *first[3] = { NULL, NULL, NULL };
	size_t cap[2] = { 0, 0 };
	int fds[2], n = 0, created, status, fed, devnull, efd, rc = 1;
	pid_t pid;

	if (getline(&first[0], &cap[0], stdin) == -1) {
		plugin_error("the archive is empty; nothing was changed");
		goto out;
	}
	if (strncmp(first[0], "PGDMP", 5) == 0) {
		plugin_error("the archive is a single-database pg_dump "
		    "archive: set pg_database to restore it; nothing was "
		    "changed");
		goto out;
	}
	if (strcmp(first[0], "--\n") != 0 ||
	    getline(&first[1], &cap[1], stdin) == -1 ||
	    strncmp(first[1], "-- PostgreSQL database cluster dump", 35) != 0) {
		plugin_error("the archive is not a pg_dumpall script; nothing "
		    "was changed");
		goto out;
	}
	if (pg_prepare(conn, &created) == -1 ||
	    (tool = pg_tool(conn, "psql")) == NULL)
		goto out;
	argv[n++] = tool;
	argv[n++] = "-X";
	argv[n++] = "-q";
	argv[n++] = "-v";
	argv[n++] = "ON_ERROR_STOP=1";
	pg_argv_conn(conn, argv, &n);
	argv[n++] = "-d";
	argv[n++] = PG_MAINTENANCE_DB;
	argv[n] = NULL;
	if (pg_pipe(fds) == -1)
		goto out;
	/* psql echoes query results (set_config and such): drop them. */
	devnull = open("/dev/null", O_WRONLY | O_CLOEXEC);
	pid = tool_capture_begin(argv, fds[0], devnull, &efd);
	close(fds[0]);
	if (devnull != -1)
		close(devnull);
	fed = pid == -1 ? -1 : pg_feed_cluster(stdin, fds[1], first,
	    conn->user);
	close(fds[1]);
	status = pid == -1 ? -1 :
	    tool_capture_end(pid, efd, "psql", conn->password,
	    err, sizeof err);
	if (status == 0 && fed == 0) {
		plugin_info("restored the cluster");
		rc = 0;
		goto out;
	}
	if (status == 0)
		plugin_error("reading the archive failed");
	else
		pg_explain(conn, "psql", "the restore", status, err);
	plugin_error("the cluster restore stopped at the first error; what "
	    "ran before it stays applied");
out:
	free(first[0]);
	free(first[1]);
	free(tool);
	return rc;
}

/* Restore from stdin into the database, or into the whole cluster. */
static int
pg_restore(const cJSON *ep)
{
	struct pg_conn conn;

	pg_conn_read(&conn, ep);
	pg_env_set(&conn);
	/* A tool that quits early must not kill us before we report it. */
	signal(SIGPIPE, SIG_IGN);
	if (conn.database != NULL)
		return pg_restore_db(&conn);
	return pg_restore_cluster(&conn);
}

/* Check what the field checks cannot: pg_bindir and its tools. */
static int
pg_validate(const cJSON *ep)
{
	struct pg_conn conn;
	struct stat st;
	int bad = 0;

	pg_conn_read(&conn, ep);
	if (conn.bindir != NULL) {
		if (stat(conn.bindir, &st) == -1 || !S_ISDIR(st.st_mode)) {
			plugin_error("pg_bindir %s is not a directory",
			    conn.bindir);
			bad = 1;
		} else if (!tool_in_dir(conn.bindir, conn.database != NULL ?
		    "pg_dump" : "pg_dumpall")) {
			plugin_error("pg_bindir %s has no %s", conn.bindir,
			    conn.database != NULL ? "pg_dump" : "pg_dumpall");
			bad = 1;
		}
	}
	if (strchr(conn.host, ' ') != NULL) {
		plugin_error("pg_host must not contain spaces");
		bad = 1;
	}
	return bad;
}

static const struct plugin_def pg_def = {
	.name = "PostgreSQL",
	.short_name = "postgres",
	.author = "SHIELD",
	.version = SHIELD_VERSION,
	.help = "Backs up one PostgreSQL database (pg_dump custom format) "
	    "or, when pg_database is unset, the whole cluster with its roles "
	    "(pg_dumpall).  A database restore runs in one transaction and "
	    "terminates other sessions on that database first.",
	.fields = pg_fields,
	.validate = pg_validate,
	.backup = pg_backup,
	.restore = pg_restore,
};

int
main(int argc, char **argv)
{
	return plugin_main(&pg_def, argc, argv);
}
