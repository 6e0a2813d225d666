/*
 * Terminal questions.  Secrets are read with echo turned off through
 * termios and the terminal is put back even when the read fails; the line
 * buffers that held a secret are wiped before they are freed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "prompt.h"
#include "xmalloc.h"

/* True when questions can be asked. */
int
prompt_interactive(void)
{
	return isatty(STDIN_FILENO) && isatty(STDERR_FILENO);
}

/* Read one line from f without its newline; NULL at EOF. */
static char *
prompt_getline(FILE *f)
{
	char *line = NULL, *out;
	size_t cap = 0;
	ssize_t n;

	if ((n = getline(&line, &cap, f)) < 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	out = xstrdup(line);
	explicit_bzero(line, cap);
	free(line);
	return out;
}

/* Ask for a line with a default. */
char *
prompt_line(const char *question, const char *def)
{
	char *answer;

	if (def != NULL && *def != '\0')
		fprintf(stderr, "%s [%s]: ", question, def);
	else
		fprintf(stderr, "%s: ", question);
	fflush(stderr);
	if ((answer = prompt_getline(stdin)) == NULL) {
		fputc('\n', stderr);
		return NULL;
	}
	if (*answer == '\0' && def != NULL) {
		free(answer);
		return xstrdup(def);
	}
	return answer;
}

/* Ask for a secret without echo. */
char *
prompt_secret(const char *question)
{
	struct termios old, quiet;
	char *answer;
	int restore = 0;

	/*
	 * Echo goes off before the prompt appears, and with TCSANOW: a
	 * TCSAFLUSH would throw away what was typed (or pasted) ahead.
	 */
	if (tcgetattr(STDIN_FILENO, &old) == 0) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		quiet.c_lflag |= ECHONL;
		restore = tcsetattr(STDIN_FILENO, TCSANOW, &quiet) == 0;
	}
	fprintf(stderr, "%s: ", question);
	fflush(stderr);
	answer = prompt_getline(stdin);
	if (restore)
		tcsetattr(STDIN_FILENO, TCSANOW, &old);
	else
		fputc('\n', stderr);
	return answer;
}

/* Ask a yes/no question. */
int
prompt_confirm(const char *question)
{
	char *answer;
	int yes;

	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if ((answer = prompt_getline(stdin)) == NULL)
		return 0;
	yes = strcasecmp(answer, "y") == 0 || strcasecmp(answer, "yes") == 0;
	free(answer);
	return yes;
}

/* The first line of a file. */
char *
prompt_read_secret_file(const char *path)
{
	FILE *f;
	char *line;

	if (strcmp(path, "-") == 0)
		f = stdin;
	else if ((f = fopen(path, "re")) == NULL) {
		cli_error("cannot read %s: %s", path, strerror(errno));
		return NULL;
	}
	line = prompt_getline(f);
	if (f != stdin)
		fclose(f);
	if (line == NULL)
		cli_error("%s is empty", path);
	return line;
}

/* Make sure a required value is there, asking for it if possible. */
int
prompt_need(const char **val, char **owned, const char *flag,
    const char *question)
{
	char *a;

	if (*val != NULL)
		return 0;
	if (!prompt_interactive()) {
		cli_error("missing --%s", flag);
		return -1;
	}
	for (;;) {
		if ((a = prompt_line(question, NULL)) == NULL) {
			cli_error("missing --%s", flag);
			return -1;
		}
		if (*a != '\0')
			break;
		free(a);
	}
	free(*owned);
	*owned = a;
	*val = a;
	return 0;
}
