/*
 * Questions on the terminal: a line with an optional default, a secret
 * without echo, a yes/no confirmation, and reading a secret from a file.
 * Questions are written on stderr so stdout stays clean for --json; every
 * returned string is the caller's to free.
 */
#ifndef SHIELD_CLI_PROMPT_H
#define SHIELD_CLI_PROMPT_H

/* True when stdin and stderr are terminals, so questions can be asked. */
int	 prompt_interactive(void);
/* Ask for a line; an empty answer gives def (may be NULL).  NULL on EOF. */
char	*prompt_line(const char *question, const char *def);
/* Ask for a secret without echo.  NULL on EOF. */
char	*prompt_secret(const char *question);
/* Ask a yes/no question; true only for y or yes. */
int	 prompt_confirm(const char *question);
/*
 * Make sure *val is set: keep it, else ask question on a terminal until a
 * non-empty answer (kept in *owned for the caller to free), else print
 * that --flag is missing.  0, or -1 after printing.
 */
int	 prompt_need(const char **val, char **owned, const char *flag,
	    const char *question);
/* The first line of a file ("-": stdin), or NULL after printing why. */
char	*prompt_read_secret_file(const char *path);

#endif
