/*
 * The shield command-line client: shield.c parses the global options into
 * cli_opts and dispatches on the command phrase; each command lives in its
 * own cmd_<name>.c.  A command is called with argv[0] set to the last word
 * of its phrase and the arguments after it, so it can parse them like a
 * main(); it prints its own errors and returns the process exit status
 * (0 success, 1 failure, 2 usage error).
 */
#ifndef SHIELD_CLI_H
#define SHIELD_CLI_H

/* Exit statuses shared by every command. */
#define CLI_EXIT_OK	0
#define CLI_EXIT_FAIL	1
#define CLI_EXIT_USAGE	2

/* The global options, given before the command phrase. */
struct cli_options {
	const char	*url;	/* --url, else SHIELD_URL */
	const char	*token;	/* --token, else SHIELD_TOKEN */
	int		 json;	/* --json: JSON output and errors */
};

/*
 * Set by main() before the command runs; a command that takes its own
 * --json after the phrase sets json too, so errors follow it.
 */
extern struct cli_options cli_opts;

/* Print "shield: <message>" on stderr, or {"error": ...} under --json. */
void	cli_error(const char *, ...) __attribute__((format(printf, 1, 2)));

/* shield timespec SPEC [--from TIME] [--count N] [--json] */
int	cmd_timespec(int argc, char **argv);
/* Print the help of shield timespec on stdout. */
void	cmd_timespec_usage(void);

#endif
