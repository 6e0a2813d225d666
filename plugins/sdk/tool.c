/*
 * Native tools for plugins: where a tool's program is (a configured
 * directory, PATH, or a distribution's versioned directories), temporary
 * files that never outlive us, and a run of a tool whose stderr goes to
 * such a file, so that once it has exited the plugin can forward its last
 * lines (the secret masked) and summarise them in one line of its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin.h"
#include "tool.h"

/* How many names tool_find() considers for one tool. */
#define TOOL_NAMES_MAX	8

/* 1 if dir/name is an executable file. */
int
tool_in_dir(const char *dir, const char *name)
{
	char path[4096];

	if (snprintf(path, sizeof path, "%s/%s", dir, name) >=
	    (int)sizeof path)
		return 0;
	return access(path, X_OK) == 0;
}

/* 1 if name is found as an executable in PATH. */
int
tool_in_path(const char *name)
{
	const char *path = getenv("PATH");
	char *copy, *dir, *save;
	int found = 0;

	if (path == NULL || (copy = strdup(path)) == NULL)
		return 0;
	for (dir = strtok_r(copy, ":", &save); dir != NULL && !found;
	    dir = strtok_r(NULL, ":", &save))
		found = tool_in_dir(*dir != '\0' ? dir : ".", name);
	free(copy);
	return found;
}

/* Order directory names by the version in them, newest first. */
static int
tool_version_cmp(const void *a, const void *b)
{
	const char *sa = *(const char *const *)a, *sb = *(const char *const *)b;

	return strverscmp(sb, sa);
}

/* The first of names in the newest directory matching pattern, or NULL. */
static char *
tool_find_glob(const char *pattern, const char *const *names, size_t n)
{
	glob_t g;
	char *path = NULL;
	size_t i, j;

	if (glob(pattern, 0, NULL, &g) != 0)
		return NULL;
	qsort(g.gl_pathv, g.gl_pathc, sizeof *g.gl_pathv, tool_version_cmp);
	for (i = 0; i < g.gl_pathc && path == NULL; i++) {
		for (j = 0; j < n && path == NULL; j++) {
			if (tool_in_dir(g.gl_pathv[i], names[j]) &&
			    asprintf(&path, "%s/%s", g.gl_pathv[i],
			    names[j]) == -1)
				path = NULL;
		}
	}
	globfree(&g);
	return path;
}

/* Find the program for a tool; see tool.h for the search order. */
char *
tool_find(const char *bindir, const char *fallback, const char *name, ...)
{
	const char *names[TOOL_NAMES_MAX];
	char *path;
	size_t n = 0, i;
	va_list ap;

	names[n++] = name;
	va_start(ap, name);
	while (n < TOOL_NAMES_MAX &&
	    (names[n] = va_arg(ap, const char *)) != NULL)
		n++;
	va_end(ap);
	if (bindir != NULL) {
		for (i = 0; i < n && !tool_in_dir(bindir, names[i]); i++)
			;
		if (asprintf(&path, "%s/%s", bindir, names[i < n ? i : 0]) ==
		    -1)
			return NULL;
		return path;
	}
	for (i = 0; i < n; i++) {
		if (tool_in_path(names[i]))
			return strdup(names[i]);
	}
	if (fallback != NULL &&
	    (path = tool_find_glob(fallback, names, n)) != NULL)
		return path;
	return strdup(names[0]);
}

/* Create a named temporary file, mode 0600, close-on-exec. */
int
tool_tmpfile_path(char *path, size_t size, const char *prefix)
{
	const char *dir = getenv("TMPDIR");
	int len;

	len = snprintf(path, size, "%s/%s.XXXXXX",
	    dir != NULL && *dir != '\0' ? dir : "/tmp", prefix);
	if (len < 0 || (size_t)len >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* mkostemp() creates the file with mode 0600. */
	return mkostemp(path, O_CLOEXEC);
}

/* An unlinked temporary file: nothing is left behind however we exit. */
int
tool_tmpfile(void)
{
	char path[4096];
	int fd;

	if ((fd = tool_tmpfile_path(path, sizeof path, "shield-tool")) == -1) {
		plugin_error("cannot create a temporary file: %s",
		    strerror(errno));
		return -1;
	}
	unlink(path);
	return fd;
}

/* Read the end of a file into buf, NUL-terminated. */
void
tool_tail_read(int fd, char *buf, size_t size)
{
	off_t end = lseek(fd, 0, SEEK_END), start;
	ssize_t n;

	buf[0] = '\0';
	if (end <= 0 || size < 2)
		return;
	start = end > (off_t)(size - 1) ? end - (off_t)(size - 1) : 0;
	if ((n = pread(fd, buf, (size_t)(end - start), start)) < 0)
		n = 0;
	buf[n] = '\0';
}

/*
 * Print the last lines of a tool's stderr, each cut short (a client may
 * echo a failed statement, data and all), with the secret masked, also
 * where the cut falls inside it.
 */
void
tool_print_tail(FILE *fp, const char *text, int lines, const char *secret)
{
	const char *p, *q, *end, *eol, *hit;
	size_t slen = secret != NULL ? strlen(secret) : 0;
	int seen = 0;

	/* Find where the last lines start. */
	for (p = text + strlen(text); p > text; p--) {
		if (p[-1] == '\n' && p[0] != '\0' && ++seen >= lines)
			break;
	}
	for (; *p != '\0'; p = *eol != '\0' ? eol + 1 : eol) {
		eol = strchrnul(p, '\n');
		end = eol;
		if (eol - p > TOOL_TAIL_WIDTH) {
			end = p + TOOL_TAIL_WIDTH;
			/* Do not split a UTF-8 sequence. */
			while (end > p && ((unsigned char)*end & 0xc0) == 0x80)
				end--;
		}
		q = p;
		while (slen >= TOOL_SECRET_MIN && q < end &&
		    (hit = memmem(q, (size_t)(eol - q), secret, slen)) !=
		    NULL && hit < end) {
			fwrite(q, 1, (size_t)(hit - q), fp);
			fputs(TOOL_SECRET_MASK, fp);
			q = hit + slen;
		}
		if (q < end)
			fwrite(q, 1, (size_t)(end - q), fp);
		fputs(end < eol ? "...\n" : "\n", fp);
	}
	fflush(fp);
}

/* Write text with its marked bytes replaced to out (NULL: only count). */
static size_t
tool_redact_put(char *out, const char *text, size_t len,
    const unsigned char *hide, int flags)
{
	size_t i, n = 0, mlen = strlen(TOOL_SECRET_MASK);

	for (i = 0; i < len; i++) {
		if (hide[i] && flags & TOOL_REDACT_FIXED) {
			if (i > 0 && hide[i - 1])
				continue;
			if (out != NULL)
				memcpy(out + n, TOOL_SECRET_MASK, mlen);
			n += mlen;
			continue;
		}
		if (out != NULL)
			out[n] = hide[i] ? '*' : text[i];
		n++;
	}
	return n;
}

/*
 * Hide several secrets at once.  Each byte inside any occurrence is marked
 * first, in the text as given, and only then replaced, so secrets that
 * overlap each other or repeat (a password made of one character, even of
 * '*') are hidden whole and the search always moves on.
 */
char *
tool_redact(const char *text, size_t len, const char *const *secrets,
    size_t min, int flags)
{
	const char *const *s;
	const char *p, *hit;
	size_t n, slen, step;
	unsigned char *hide;
	char *out;

	if ((hide = calloc(len + 1, 1)) == NULL)
		return NULL;
	for (s = secrets; s != NULL && *s != NULL; s++) {
		if ((slen = strlen(*s)) < min || slen == 0)
			continue;
		step = flags & TOOL_REDACT_OVERLAP ? 1 : slen;
		for (p = text; (hit = memmem(p, len - (size_t)(p - text), *s,
		    slen)) != NULL; p = hit + step)
			memset(hide + (hit - text), 1, slen);
	}
	n = tool_redact_put(NULL, text, len, hide, flags);
	if ((out = malloc(n + 1)) != NULL) {
		tool_redact_put(out, text, len, hide, flags);
		out[n] = '\0';
	}
	free(hide);
	return out;
}

/* Mask as every plugin does. */
char *
tool_mask(const char *text, size_t len, const char *const *secrets)
{
	return tool_redact(text, len, secrets, TOOL_SECRET_MIN,
	    TOOL_REDACT_FIXED | TOOL_REDACT_OVERLAP);
}

/* Write everything; a reader that is gone (EPIPE) is the caller's to say. */
int
tool_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t w;

	while (len > 0) {
		if ((w = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			if (errno != EPIPE)
				plugin_error("write: %s", strerror(errno));
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Start a tool with its stderr captured into an unlinked temporary file. */
pid_t
tool_capture_begin(const char *const *argv, int in, int out, int *efd)
{
	char msg[1024];
	int saved;
	pid_t pid;

	if ((*efd = tool_tmpfile()) == -1)
		return -1;
	/* plugin_spawn() gives the child our stderr: lend it the file. */
	fflush(stderr);
	if ((saved = fcntl(2, F_DUPFD_CLOEXEC, 3)) == -1) {
		plugin_error("dup: %s", strerror(errno));
		close(*efd);
		*efd = -1;
		return -1;
	}
	dup2(*efd, 2);
	pid = plugin_spawn(argv, NULL, in, out);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	if (pid == -1) {
		/* Whatever plugin_spawn() said went to the file. */
		tool_tail_read(*efd, msg, sizeof msg);
		fputs(msg, stderr);
		close(*efd);
		*efd = -1;
	}
	return pid;
}

/* Wait for a captured tool, keep its stderr's tail in err and forward it. */
int
tool_capture_end(pid_t pid, int efd, const char *what, const char *secret,
    char *err, size_t errsz)
{
	int status;

	status = plugin_wait(pid, what);
	tool_tail_read(efd, err, errsz);
	close(efd);
	tool_print_tail(stderr, err, TOOL_TAIL_LINES, secret);
	return status;
}

/* Run a tool to completion with its stderr captured. */
int
tool_capture_run(const char *const *argv, int in, int out,
    const char *secret, char *err, size_t errsz)
{
	pid_t pid;
	int efd;

	err[0] = '\0';
	if ((pid = tool_capture_begin(argv, in, out, &efd)) == -1)
		return -1;
	return tool_capture_end(pid, efd, argv[0], secret, err, errsz);
}

/* plugin_spawn()'s child says "cannot run" when exec fails, then exits 127. */
int
tool_not_started(int status, const char *err)
{
	return (status == -1 || status == 127) &&
	    strstr(err, "cannot run") != NULL;
}

/* The last resort of a failure summary: how the tool ended. */
void
tool_report_status(const char *what, int status)
{
	if (status > 128 && status < 128 + 65)
		plugin_error("%s was killed by signal %d", what, status - 128);
	else
		plugin_error("%s failed (exit status %d)", what, status);
}
