/*
 * The shield command-line client: shield.c parses the global options into
 * cli_opts and dispatches on the command phrase ("list targets", "run job");
 * each noun's commands live in their own cmd_<noun>.c (targets' and stores'
 * together in cmd_system.c), which exports a table of its phrases with their
 * help.  A command is called with argv[0] set to the last word of its phrase
 * and the arguments after it, so it can parse them like a main(); it prints
 * its own errors and returns the process exit status (0 success, 1 failure,
 * 2 usage error).
 */
#ifndef SHIELD_CLI_H
#define SHIELD_CLI_H

#include <getopt.h>

/* Exit statuses shared by every command. */
#define CLI_EXIT_OK	0
#define CLI_EXIT_FAIL	1
#define CLI_EXIT_USAGE	2

/* The global options, given before the command phrase or after it. */
struct cli_options {
	const char	*url;		/* --url, SHIELD_URL, then the config */
	const char	*token;		/* --token, SHIELD_TOKEN, the config */
	int		 json;		/* --json: JSON output and errors */
	int		 quiet;		/* -q: only uuids, or nothing */
	int		 debug;		/* --debug: HTTP exchanges on stderr */
	int		 insecure;	/* -k: do not verify TLS certificates */
	int		 color;		/* stdout a terminal, no NO_COLOR */
};

/*
 * Set by main() before the command runs; a command that takes its own
 * --json after the phrase sets json too, so errors follow it.
 */
extern struct cli_options cli_opts;

/*
 * One command phrase; each cmd_<noun>.c ends its table with a NULL phrase.
 * Phrases that differ only in the object they act on (targets and stores)
 * share one run function and tell it the object in arg, which the function
 * reads back with cli_command_arg().
 */
struct cli_command {
	const char	*phrase;	/* canonical words, single spaces */
	int		(*run)(int, char **);
	const void	*arg;		/* for run, or NULL */
	void		(*usage)(void);	/* full help, or NULL: the fields */
	const char	*synopsis;	/* after "shield " */
	const char	*summary;	/* one line */
	const char	*help;		/* description, options, examples */
};

extern const struct cli_command cmd_auth_commands[];
extern const struct cli_command cmd_schedule_commands[];
extern const struct cli_command cmd_retention_commands[];
extern const struct cli_command cmd_system_commands[];
extern const struct cli_command cmd_job_commands[];
extern const struct cli_command cmd_archive_commands[];
extern const struct cli_command cmd_task_commands[];
extern const struct cli_command cmd_plugin_commands[];
extern const struct cli_command cmd_status_commands[];

/* Print "shield: <message>" on stderr, or {"error": ...} under --json. */
void	cli_error(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Print an informational line on stderr unless -q. */
void	cli_note(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Print the help of the command being run on stdout. */
void	cli_command_usage(void);
/* The arg of the command being run. */
const void *cli_command_arg(void);

/*
 * The long options every command accepts besides its own; a command's
 * option table starts with CLI_OPTS_COMMON and is parsed by cli_getopt().
 */
#define CLI_OPT_JSON	0x100
#define CLI_OPT_DEBUG	0x101
#define CLI_OPTS_COMMON							\
	{ "json", no_argument, NULL, CLI_OPT_JSON },			\
	{ "quiet", no_argument, NULL, 'q' },				\
	{ "debug", no_argument, NULL, CLI_OPT_DEBUG },			\
	{ "help", no_argument, NULL, 'h' }

/*
 * getopt_long() that handles the common options itself (--help prints the
 * command's help and exits 0) and exits 2 with one clear line on an
 * unknown option or a missing value.  shortopts need not list "qh".
 * Returns the next command option, or -1 at the end (see optind).
 */
int	cli_getopt(int argc, char **argv, const char *shortopts,
	    const struct option *longopts);

/* Demand exactly n positional arguments after optind; print and return -1
 * otherwise, naming what is expected. */
int	cli_args(int argc, char **argv, int n, const char *what);

/* shield timespec SPEC [--from TIME] [--count N] [--json] */
int	cmd_timespec(int argc, char **argv);
/* Print the help of shield timespec on stdout. */
void	cmd_timespec_usage(void);

#endif
