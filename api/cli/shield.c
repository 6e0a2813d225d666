/*
 * shield: the command-line client of SHIELD.  main() reads the global
 * options (--url, --token, --json, ...) and the saved login, then finds the
 * command phrase ("timespec", "list jobs", "run job", ...) in the tables the
 * cmd_*.c files export and hands the remaining arguments to its handler, in
 * the way of OpenSMTPD's smtpctl.  Plural and alternative nouns ("targets",
 * "retention policies", "policy") are folded to one canonical word before
 * the lookup, so each command is listed once.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "config.h"
#include "http.h"
#include "utf8.h"

/* The canonical words of a command line, with where each ends in argv. */
#define CLI_WORDS_MAX	3
struct cli_words {
	const char	*word[CLI_WORDS_MAX];
	int		 end[CLI_WORDS_MAX];	/* argv index of its end */
	int		 n;
};

struct cli_options cli_opts;

static int	cmd_help(int, char **);

static const struct cli_command cli_base_commands[] = {
	{ "timespec", cmd_timespec, NULL, cmd_timespec_usage,
	  "timespec SPEC [--from TIME] [--count N]",
	  "show a schedule's canonical form and next run times (offline)",
	  NULL },
	{ "help", cmd_help, NULL, NULL, "help [COMMAND]",
	  "show the overall help, or the help of one command",
	  "Examples:\n"
	  "  $ shield help\n"
	  "  $ shield help create target\n"
	  "  $ shield help list retention policies\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};

/* Every table, in the order the overall help lists them. */
static const struct cli_command *const cli_tables[] = {
	cmd_auth_commands,
	cmd_status_commands,
	cmd_job_commands,
	cmd_system_commands,
	cmd_schedule_commands,
	cmd_retention_commands,
	cmd_archive_commands,
	cmd_task_commands,
	cmd_plugin_commands,
	cli_base_commands,
};

#define CLI_NTABLES (sizeof cli_tables / sizeof cli_tables[0])

/* The command being run, for its --help. */
static const struct cli_command *cli_current;

/* Print an error line on stderr, as JSON under --json. */
void
cli_error(const char *fmt, ...)
{
	va_list ap;
	char msg[2048];
	cJSON *o;
	char *s;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (!cli_opts.json) {
		/* The message may quote the server or a name: escape it. */
		fputs("shield: ", stderr);
		utf8_fputs_escaped(stderr, msg, 0);
		fputc('\n', stderr);
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

/* Print an informational line on stderr unless -q or --json. */
void
cli_note(const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	if (cli_opts.quiet || cli_opts.json)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	utf8_fputs_escaped(stderr, msg, 0);
	fputc('\n', stderr);
}

/* The options every command takes, for the help of each. */
static const char cli_common_help[] =
"Common options (also accepted before the command):\n"
"  --json         print the API's JSON on stdout; errors as JSON on stderr\n"
"  -q, --quiet    print only uuids (of what is listed, created or started)\n"
"  --debug        show each HTTP request and answer on stderr\n"
"  -h, --help     show this help\n";

/*
 * Print "prefix synopsis" on f, wrapped at 79 columns between bracketed
 * groups, continuation lines indented by indent.
 */
static void
cli_synopsis_print(FILE *f, const char *prefix, const char *synopsis,
    int indent)
{
	const char *p = synopsis, *w;
	int col, depth, len;

	col = fprintf(f, "%s", prefix);
	while (*p != '\0') {
		/* A word is everything up to a space outside brackets. */
		for (w = p, depth = 0; *w != '\0'; w++) {
			if (*w == '[')
				depth++;
			else if (*w == ']')
				depth--;
			else if (*w == ' ' && depth <= 0)
				break;
		}
		len = (int)(w - p);
		if (col > indent && col + 1 + len > 79)
			col = fprintf(f, "\n%*s", indent, "") - 1;
		else if (p != synopsis)
			col += fprintf(f, " ");
		col += fprintf(f, "%.*s", len, p);
		p = *w == ' ' ? w + 1 : w;
	}
	fputc('\n', f);
}

/* Print the help of one command. */
static void
cli_command_print(const struct cli_command *c)
{
	if (c->usage != NULL) {
		c->usage();
		return;
	}
	cli_synopsis_print(stdout, "usage: shield ", c->synopsis, 14);
	printf("\n%c%s.\n", c->summary[0] - 'a' + 'A', c->summary + 1);
	if (c->help != NULL)
		printf("\n%s", c->help);
	printf("\n%s", cli_common_help);
}

/* Print the help of the command being run. */
void
cli_command_usage(void)
{
	if (cli_current != NULL)
		cli_command_print(cli_current);
}

/* The arg of the command being run. */
const void *
cli_command_arg(void)
{
	return cli_current != NULL ? cli_current->arg : NULL;
}

/* Print the overall usage on f. */
static void
cli_usage(FILE *f)
{
	const struct cli_command *c;
	size_t i;

	fprintf(f,
"usage: shield [--url URL] [--token TOKEN] [--json] [-q] [-k] [--debug]\n"
"              COMMAND [ARGS...]\n"
"       shield --help | --version\n"
"\n"
"The command-line client of SHIELD, the backup/restore daemon.  It talks to\n"
"shieldd's HTTP API; start with 'shield login --url URL'.  Objects (jobs,\n"
"targets, stores, schedules, retention policies, archives, tasks) can be\n"
"named by uuid, by a unique uuid prefix, or by their unique name.\n"
"\n"
"Global options:\n"
"  --url URL      shieldd to talk to (default: $SHIELD_URL, then the URL\n"
"                 saved by shield login)\n"
"  --token TOKEN  API token (default: $SHIELD_TOKEN, then the saved one)\n"
"  --json         machine-readable JSON on stdout, errors as JSON on stderr\n"
"  -q, --quiet    print only uuids, or nothing\n"
"  -k, --insecure do not verify shieldd's TLS certificate\n"
"  --debug        show the HTTP requests and answers on stderr\n"
"  -h, --help     show this help\n"
"  -V, --version  show the version\n"
"\n"
"Commands:\n");
	for (i = 0; i < CLI_NTABLES; i++)
		for (c = cli_tables[i]; c->phrase != NULL; c++) {
			cli_synopsis_print(f, "  ", c->synopsis, 8);
			fprintf(f, "      %s\n", c->summary);
		}
	fprintf(f,
"\n"
"Nouns may be singular or plural (job or jobs); \"retention policy\",\n"
"\"retention policies\", \"retention\" and \"policy\" are the same.\n"
"\n"
"Environment:\n"
"  SHIELD_URL, SHIELD_TOKEN  override the saved login\n"
"  SHIELD_CONFIG             the config file (default ~/.shield/config)\n"
"  VISUAL, EDITOR            the editor of the edit commands (default vi)\n"
"  NO_COLOR                  never use colour\n"
"\n"
"Run 'shield help COMMAND' or 'shield COMMAND --help' for the details of\n"
"one, for example 'shield help create target'.\n"
"Exit status: 0 on success, 1 on failure, 2 on a usage error.\n");
}

/* The canonical form of a noun, or the word itself. */
static const char *
cli_noun(const char *w)
{
	static const char *const forms[][2] = {
		{ "schedules", "schedule" }, { "targets", "target" },
		{ "stores", "store" }, { "jobs", "job" },
		{ "archives", "archive" }, { "tasks", "task" },
		{ "plugins", "plugin" }, { "policy", "retention" },
		{ "policies", "retention" }, { "retentions", "retention" },
	};
	size_t i;

	for (i = 0; i < sizeof forms / sizeof forms[0]; i++)
		if (strcasecmp(w, forms[i][0]) == 0)
			return forms[i][1];
	return w;
}

/* Fold the leading words of argv into canonical command words. */
static void
cli_words_make(int argc, char **argv, struct cli_words *cw)
{
	int i;

	cw->n = 0;
	for (i = 0; i < argc && cw->n < CLI_WORDS_MAX; i++) {
		if (argv[i][0] == '-')
			break;
		cw->word[cw->n] = cw->n == 1 ? cli_noun(argv[i]) : argv[i];
		/* "retention policy" is one noun. */
		if (cw->n == 1 && strcmp(cw->word[1], "retention") == 0 &&
		    i + 1 < argc && (strcasecmp(argv[i + 1], "policy") == 0 ||
		    strcasecmp(argv[i + 1], "policies") == 0))
			i++;
		cw->end[cw->n++] = i;
	}
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

/* True if the words of phrase are the first n canonical words. */
static int
cli_phrase_match(const char *phrase, int n, const struct cli_words *cw)
{
	const char *p = phrase, *sp;
	size_t len;
	int i;

	for (i = 0; i < n; i++) {
		sp = strchr(p, ' ');
		len = sp != NULL ? (size_t)(sp - p) : strlen(p);
		if (strlen(cw->word[i]) != len ||
		    strncmp(cw->word[i], p, len) != 0)
			return 0;
		if (sp == NULL)
			return i + 1 == n;
		p = sp + 1;
	}
	return 0;
}

/* Find the command with the longest phrase matching the words. */
static const struct cli_command *
cli_command_find(const struct cli_words *cw)
{
	const struct cli_command *best = NULL, *c;
	size_t i;
	int n, bestn = 0;

	for (i = 0; i < CLI_NTABLES; i++)
		for (c = cli_tables[i]; c->phrase != NULL; c++) {
			n = cli_phrase_words(c->phrase);
			if (n <= cw->n && n > bestn &&
			    cli_phrase_match(c->phrase, n, cw)) {
				best = c;
				bestn = n;
			}
		}
	return best;
}

/* Print the error for words that name no command; after a known verb,
 * list the nouns it takes. */
static void
cli_unknown(const struct cli_words *cw)
{
	const struct cli_command *c;
	char nouns[512];
	size_t i, len = 0, vlen;

	nouns[0] = '\0';
	vlen = cw->n > 0 ? strlen(cw->word[0]) : 0;
	for (i = 0; vlen > 0 && i < CLI_NTABLES; i++)
		for (c = cli_tables[i]; c->phrase != NULL; c++)
			if (strncmp(c->phrase, cw->word[0], vlen) == 0 &&
			    c->phrase[vlen] == ' ' && len < sizeof nouns)
				len += (size_t)snprintf(nouns + len,
				    sizeof nouns - len, "%s%s",
				    len > 0 ? ", " : "", c->phrase + vlen + 1);
	if (len > 0 && len < sizeof nouns)
		cli_error("%s what? one of: %s; see shield help", cw->word[0],
		    nouns);
	else if (cw->n >= 2)
		cli_error("unknown command '%s %s'; see shield --help",
		    cw->word[0], cw->word[1]);
	else
		cli_error("unknown command '%s'; see shield --help",
		    cw->n > 0 ? cw->word[0] : "");
}

/* shield help [COMMAND...]: the overall or one command's help. */
static int
cmd_help(int argc, char **argv)
{
	const struct cli_command *c;
	struct cli_words cw;

	if (argc < 2) {
		cli_usage(stdout);
		return CLI_EXIT_OK;
	}
	cli_words_make(argc - 1, argv + 1, &cw);
	if ((c = cli_command_find(&cw)) == NULL) {
		cli_unknown(&cw);
		return CLI_EXIT_USAGE;
	}
	cli_command_print(c);
	return CLI_EXIT_OK;
}

/* getopt_long() with the common options handled. */
int
cli_getopt(int argc, char **argv, const char *shortopts,
    const struct option *longopts)
{
	char opts[64];
	int c;

	snprintf(opts, sizeof opts, ":qh%s", shortopts);
	opterr = 0;
	for (;;) {
		c = getopt_long(argc, argv, opts, longopts, NULL);
		switch (c) {
		case CLI_OPT_JSON:
			cli_opts.json = 1;
			continue;
		case CLI_OPT_DEBUG:
			cli_opts.debug = 1;
			continue;
		case 'q':
			cli_opts.quiet = 1;
			continue;
		case 'h':
			cli_command_usage();
			exit(CLI_EXIT_OK);
		case ':':
			cli_error("option %s needs a value; see shield help %s",
			    argv[optind - 1], cli_current->phrase);
			exit(CLI_EXIT_USAGE);
		case '?':
			if (optopt != 0)
				cli_error("unknown option '-%c'; see shield "
				    "help %s", optopt, cli_current->phrase);
			else
				cli_error("unknown option '%s'; see shield "
				    "help %s", argv[optind - 1],
				    cli_current->phrase);
			exit(CLI_EXIT_USAGE);
		default:
			return c;
		}
	}
}

/* Demand exactly n positional arguments. */
int
cli_args(int argc, char **argv, int n, const char *what)
{
	if (argc - optind == n)
		return 0;
	if (argc - optind < n)
		cli_error("missing %s; usage: shield %s", what,
		    cli_current->synopsis);
	else
		cli_error("unexpected argument '%s'; usage: shield %s",
		    argv[optind + n], cli_current->synopsis);
	return -1;
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

/* Fill the URL and token from the environment and the saved login. */
static int
cli_login_defaults(struct config *cfg, const char *url, const char *token)
{
	const char *e;

	if (config_load(cfg) != 0)
		return -1;
	if (url == NULL && (e = getenv("SHIELD_URL")) != NULL && *e != '\0')
		url = e;
	if (token == NULL && (e = getenv("SHIELD_TOKEN")) != NULL &&
	    *e != '\0')
		token = e;
	/* The saved token goes only to the server it was issued by. */
	if (token == NULL && cfg->token != NULL && (url == NULL ||
	    (cfg->url != NULL && strcmp(url, cfg->url) == 0)))
		token = cfg->token;
	if (url == NULL)
		url = cfg->url;
	cli_opts.url = url;
	cli_opts.token = token;
	return 0;
}

/* Parse the global options and run the command. */
int
main(int argc, char **argv)
{
	const struct cli_command *c;
	const char *v, *url = NULL, *token = NULL, *term;
	struct cli_words cw;
	struct config cfg;
	int i, rc;

	tzset();
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
		else if (strcmp(argv[i], "-q") == 0 ||
		    strcmp(argv[i], "--quiet") == 0)
			cli_opts.quiet = 1;
		else if (strcmp(argv[i], "-k") == 0 ||
		    strcmp(argv[i], "--insecure") == 0)
			cli_opts.insecure = 1;
		else if (strcmp(argv[i], "--debug") == 0)
			cli_opts.debug = 1;
		else if ((v = cli_option_value("--url", argc, argv, &i)) !=
		    NULL)
			url = v;
		else if ((v = cli_option_value("--token", argc, argv, &i)) !=
		    NULL)
			token = v;
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
	term = getenv("TERM");
	cli_opts.color = isatty(STDOUT_FILENO) && getenv("NO_COLOR") == NULL &&
	    (term == NULL || strcmp(term, "dumb") != 0);
	cli_words_make(argc - i, argv + i, &cw);
	if ((c = cli_command_find(&cw)) == NULL) {
		cli_unknown(&cw);
		return CLI_EXIT_USAGE;
	}
	cli_current = c;
	if (c->run != cmd_timespec && c->run != cmd_help &&
	    cli_login_defaults(&cfg, url, token) != 0)
		return CLI_EXIT_FAIL;
	else if (c->run == cmd_timespec || c->run == cmd_help)
		memset(&cfg, 0, sizeof cfg);
	/* The handler sees the last word of its phrase as argv[0]. */
	i += cw.end[cli_phrase_words(c->phrase) - 1];
	rc = c->run(argc - i, argv + i);
	fflush(stdout);
	http_cleanup();
	config_clear(&cfg);
	return rc;
}
