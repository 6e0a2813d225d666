/*
 * Run the user's editor on a temporary file.  $EDITOR may carry arguments
 * ("emacs -nw"), so it is run through /bin/sh with the file name passed as
 * a positional parameter, never pasted into the command text.
 */
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "editor.h"
#include "xmalloc.h"

extern char **environ;

/* Read a whole file into a string; NULL on error (errno set). */
static char *
editor_slurp(const char *path)
{
	FILE *f;
	char *text = NULL;
	size_t len = 0, n;
	char buf[4096];

	if ((f = fopen(path, "re")) == NULL)
		return NULL;
	while ((n = fread(buf, 1, sizeof buf, f)) > 0) {
		text = xrealloc(text, len + n + 1);
		memcpy(text + len, buf, n);
		len += n;
	}
	fclose(f);
	if (text == NULL)
		text = xstrdup("");
	text[len] = '\0';
	return text;
}

/* Edit text in $VISUAL/$EDITOR. */
char *
editor_run(const char *text, const char *suffix)
{
	const char *editor = getenv("VISUAL"), *tmpdir = getenv("TMPDIR");
	char *path = NULL, *out = NULL, *argv[6];
	size_t len = strlen(text);
	pid_t pid;
	int fd, status, err;

	if (editor == NULL || *editor == '\0')
		editor = getenv("EDITOR");
	if (editor == NULL || *editor == '\0')
		editor = "vi";
	if (tmpdir == NULL || *tmpdir == '\0')
		tmpdir = "/tmp";
	xasprintf(&path, "%s/shield-edit-XXXXXX%s", tmpdir, suffix);
	if ((fd = mkstemps(path, (int)strlen(suffix))) == -1) {
		cli_error("cannot create a temporary file in %s: %s", tmpdir,
		    strerror(errno));
		free(path);
		return NULL;
	}
	if (write(fd, text, len) != (ssize_t)len) {
		cli_error("cannot write %s: %s", path, strerror(errno));
		close(fd);
		goto out;
	}
	close(fd);
	argv[0] = (char *)"sh";
	argv[1] = (char *)"-c";
	argv[2] = (char *)"$SHIELD_EDITOR \"$1\"";
	argv[3] = (char *)"sh";
	argv[4] = path;
	argv[5] = NULL;
	if (setenv("SHIELD_EDITOR", editor, 1) != 0 ||
	    (err = posix_spawn(&pid, "/bin/sh", NULL, NULL, argv,
	    environ)) != 0) {
		cli_error("cannot run the editor '%s'", editor);
		goto out;
	}
	while (waitpid(pid, &status, 0) == -1) {
		if (errno != EINTR) {
			cli_error("waitpid: %s", strerror(errno));
			goto out;
		}
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		cli_error("the editor '%s' failed; nothing was changed",
		    editor);
		goto out;
	}
	if ((out = editor_slurp(path)) == NULL)
		cli_error("cannot read %s back: %s", path, strerror(errno));
out:
	unlink(path);
	free(path);
	return out;
}
