/*
 * shield: the command-line client of SHIELD.  main() reads the global
 * options (--url, --token, --json), then finds the command phrase ("timespec",
 * later "list jobs", "run job", ...) in a table and hands the remaining
 * arguments to its handler, in the way of OpenSMTPD's smtpctl.  The handlers
 * live in cmd_*.c; this file only dispatches and prints help.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli.h"

struct cli_options cli_opts;

struct cli_command {
	const char	*phrase;	/* words separated by single spaces */
	int		(*run)(int, char **);
	void		(*help)(void);
	const char	*synopsis;
	const char	*summary;
};

static int	cmd_help(int, char **);

static const struct cli_command cli_commands[] = {
	{ "timespec", cmd_timespec, cmd_timespec_usage,
	  "timespec SPEC [--from TIME] [--count N]",
	  "show a schedule's canonical form and next run times (offline)" },
	{ "help", cmd_help, NULL, "help [COMMAND]",
	  "show this help, or the help of one command" },
};

#define CLI_NCOMMANDS (sizeof cli_commands / sizeof cli_commands[0])

/* Print an error line on stderr, as JSON under --json. */
void
cli_error(const char *fmt, ...)
{
	va_list ap;
	char msg[1024];
	cJSON *o;
	char *s;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!cli_opts.json) {
		fprintf(stderr, "shield: %s\n", msg);
		return;
	}
	o = cJSON_CreateObject();
	if (o == NULL || cJSON_AddStringToObject(o, "error", msg) == NULL ||
	    (s = cJSON_PrintUnformatted(o)) == NULL) {
		fprintf(stderr, "shield: %s\n", msg);
		cJSON_Delete(o);
		return;
	}
	fprintf(stderr, "%s\n", s);
	cJSON_free(s);
	cJSON_Delete(o);
}

/* Print the overall usage on f. */
static void
cli_usage(FILE *f)
{
	size_t i;

	fprintf(f,
	    "usage: shield [--url URL] [--token TOKEN] [--json] COMMAND "
	    "[ARGS...]\n"
	    "       shield --help | --version\n"
	    "\n"
	    "The command-line client of SHIELD, the backup/restore daemon.\n"
	    "\n"
	    "Global options:\n"
	    "  --url URL      shieldd to talk to (default: $SHIELD_URL)\n"
	    "  --token TOKEN  API token (default: $SHIELD_TOKEN)\n"
	    "  --json         machine-readable JSON on stdout, errors as "
	    "JSON on stderr\n"
	    "  -h, --help     show this help\n"
	    "  -V, --version  show the version\n"
	    "\n"
	    "Commands:\n");
	for (i = 0; i < CLI_NCOMMANDS; i++)
		fprintf(f, "  %s\n      %s\n", cli_commands[i].synopsis,
		    cli_commands[i].summary);
	fprintf(f,
	    "\n"
	    "Run 'shield help COMMAND' or 'shield COMMAND --help' for the "
	    "details of one.\n"
	    "Exit status: 0 on success, 1 on failure, 2 on a usage error.\n");
}

/* Count the words of a command phrase. */
static int
cli_phrase_words(const char *phrase)
{
	int n = 1;

	for (; *phrase != '\0'; phrase++) {
		if (*phrase == ' ')
			n++;
	}
	return n;
}

/* True if the words of phrase are argv[0..n-1]. */
static int
cli_phrase_match(const char *phrase, int argc, char **argv)
{
	const char *p = phrase, *sp;
	size_t len;
	int i;

	for (i = 0; i < argc; i++) {
		sp = strchr(p, ' ');
		len = sp != NULL ? (size_t)(sp - p) : strlen(p);
		if (strlen(argv[i]) != len || strncmp(argv[i], p, len) != 0)
			return 0;
		if (sp == NULL)
			return i + 1 == cli_phrase_words(phrase);
		p = sp + 1;
	}
	return 0;
}

/* Find the command with the longest phrase matching the start of argv. */
static const struct cli_command *
cli_command_find(int argc, char **argv)
{
	const struct cli_command *best = NULL;
	size_t i;
	int n, bestn = 0;

	for (i = 0; i < CLI_NCOMMANDS; i++) {
		n = cli_phrase_words(cli_commands[i].phrase);
		if (n <= argc && n > bestn &&
		    cli_phrase_match(cli_commands[i].phrase, n, argv)) {
			best = &cli_commands[i];
			bestn = n;
		}
	}
	return best;
}

/* shield help [COMMAND...]: the overall or one command's help. */
static int
cmd_help(int argc, char **argv)
{
	const struct cli_command *c;

	if (argc < 2) {
		cli_usage(stdout);
		return CLI_EXIT_OK;
	}
	if ((c = cli_command_find(argc - 1, argv + 1)) == NULL) {
		cli_error("unknown command '%s'; see shield --help", argv[1]);
		return CLI_EXIT_USAGE;
	}
	if (c->help != NULL)
		c->help();
	else
		cli_usage(stdout);
	return CLI_EXIT_OK;
}

/* Take the value of a global option given as "--opt VALUE" or
 * "--opt=VALUE"; NULL if this argument is not that option. */
static const char *
cli_option_value(const char *name, int argc, char **argv, int *i)
{
	size_t len = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, len) != 0)
		return NULL;
	if (a[len] == '=')
		return a + len + 1;
	if (a[len] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		cli_error("option %s needs a value; see shield --help", name);
		exit(CLI_EXIT_USAGE);
	}
	return argv[++*i];
}

/* Parse the global options and run the command. */
int
main(int argc, char **argv)
{
	const struct cli_command *c;
	const char *v;
	int i, n;

	tzset();
	cli_opts.url = getenv("SHIELD_URL");
	cli_opts.token = getenv("SHIELD_TOKEN");
	for (i = 1; i < argc && argv[i][0] == '-'; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			cli_usage(stdout);
			return CLI_EXIT_OK;
		}
		if (strcmp(argv[i], "-V") == 0 ||
		    strcmp(argv[i], "--version") == 0) {
			printf("shield %s\n", SHIELD_VERSION);
			return CLI_EXIT_OK;
		}
		if (strcmp(argv[i], "--json") == 0)
			cli_opts.json = 1;
		else if ((v = cli_option_value("--url", argc, argv, &i)) !=
		    NULL)
			cli_opts.url = v;
		else if ((v = cli_option_value("--token", argc, argv, &i)) !=
		    NULL)
			cli_opts.token = v;
		else {
			cli_error("unknown option '%s'; see shield --help",
			    argv[i]);
			return CLI_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		cli_usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if ((c = cli_command_find(argc - i, argv + i)) == NULL) {
		cli_error("unknown command '%s'; see shield --help", argv[i]);
		return CLI_EXIT_USAGE;
	}
	/* The handler sees the last word of its phrase as argv[0]. */
	n = cli_phrase_words(c->phrase);
	return c->run(argc - i - n + 1, argv + i + n - 1);
}
