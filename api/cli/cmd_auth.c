/*
 * shield login and shield logout: get a session token from shieldd with a
 * user name and password and keep it, with the URL, in the config file;
 * end the session and forget the token.  The password is read without echo
 * or from a file, and never passed on the command line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "config.h"
#include "format.h"
#include "http.h"
#include "prompt.h"
#include "xmalloc.h"

#define AUTH_DEFAULT_USER	"admin"

/* Ask for or read the password; NULL after printing why not. */
static char *
auth_password(const char *file)
{
	if (file != NULL)
		return prompt_read_secret_file(file);
	if (!prompt_interactive()) {
		cli_error("no terminal to ask the password on; use "
		    "--password-file FILE (or - for stdin)");
		return NULL;
	}
	return prompt_secret("Password");
}

/* shield login [--url URL] [--username U] [--password-file FILE] */
static int
cmd_login(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTS_COMMON,
		{ "url", required_argument, NULL, 'u' },
		{ "username", required_argument, NULL, 'U' },
		{ "password-file", required_argument, NULL, 'p' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url = cli_opts.url, *file = NULL, *token;
	char *user = NULL, *pw = NULL;
	struct config cfg;
	struct http_reply reply;
	cJSON *body = NULL, *o;
	int c, rc = CLI_EXIT_FAIL;

	memset(&cfg, 0, sizeof cfg);
	while ((c = cli_getopt(argc, argv, "", opts)) != -1) {
		if (c == 'u')
			url = optarg;
		else if (c == 'U') {
			free(user);
			user = xstrdup(optarg);
		} else if (c == 'p')
			file = optarg;
	}
	if (cli_args(argc, argv, 0, "nothing") != 0) {
		free(user);
		return CLI_EXIT_USAGE;
	}
	if (url == NULL || *url == '\0') {
		cli_error("which shieldd? give --url URL, like shield login "
		    "--url http://backup.example.com:8080");
		free(user);
		return CLI_EXIT_USAGE;
	}
	cli_opts.url = url;
	cli_opts.token = NULL;	/* a login needs none */
	if (user == NULL) {
		if (prompt_interactive() && file == NULL)
			user = prompt_line("Username", AUTH_DEFAULT_USER);
		else
			user = xstrdup(AUTH_DEFAULT_USER);
		if (user == NULL)
			goto out;
	}
	if ((pw = auth_password(file)) == NULL)
		goto out;
	body = cJSON_CreateObject();
	cJSON_AddStringToObject(body, "username", user);
	cJSON_AddStringToObject(body, "password", pw);
	if (http_request("POST", "/v1/auth/login", body, &reply) != 0)
		goto out;
	if (reply.status == 401) {
		cli_error("login to %s failed: %s", url,
		    format_str(reply.json, "error") != NULL ?
		    format_str(reply.json, "error") :
		    "wrong username or password");
		http_reply_clear(&reply);
		goto out;
	}
	if (reply.status != 200 ||
	    (token = format_str(reply.json, "token")) == NULL) {
		http_error(&reply, NULL);
		http_reply_clear(&reply);
		goto out;
	}
	/* Keep the URL as given; the token is the new session's. */
	if (config_load(&cfg) != 0) {
		http_reply_clear(&reply);
		goto out;
	}
	free(cfg.url);
	cfg.url = xstrdup(url);
	config_clear(&(struct config){ NULL, cfg.token });
	cfg.token = xstrdup(token);
	http_reply_clear(&reply);
	if (config_save(&cfg) != 0)
		goto out;
	if (cli_opts.json) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "ok", "logged in");
		cJSON_AddStringToObject(o, "url", url);
		cJSON_AddStringToObject(o, "username", user);
		format_json_print(o);
		cJSON_Delete(o);
	} else if (!cli_opts.quiet)
		printf("logged in to %s as %s\n", url, user);
	rc = CLI_EXIT_OK;
out:
	if (pw != NULL) {
		explicit_bzero(pw, strlen(pw));
		free(pw);
	}
	cJSON_Delete(body);
	config_clear(&cfg);
	free(user);
	return rc;
}

/* shield logout: end the saved session and forget its token. */
static int
cmd_logout(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	struct http_reply reply;
	struct config cfg;
	int rc = CLI_EXIT_FAIL;
	cJSON *o;

	while (cli_getopt(argc, argv, "", opts) != -1)
		;
	if (cli_args(argc, argv, 0, "nothing") != 0)
		return CLI_EXIT_USAGE;
	if (config_load(&cfg) != 0)
		return CLI_EXIT_FAIL;
	if (cfg.token == NULL) {
		cli_note("not logged in");
		rc = CLI_EXIT_OK;
		goto out;
	}
	/*
	 * Only the saved token is sent: a logout ends whatever token it
	 * presents, and $SHIELD_TOKEN may be a script's long-lived one.
	 */
	cli_opts.url = cfg.url;
	cli_opts.token = cfg.token;
	if (cfg.url != NULL && http_request("POST", "/v1/auth/logout", NULL,
	    &reply) == 0) {
		if (reply.status != 200 && reply.status != 401)
			http_error(&reply, NULL);
		http_reply_clear(&reply);
	} else
		cli_note("shield: forgetting the token anyway");
	cli_opts.token = NULL;
	config_clear(&(struct config){ NULL, cfg.token });
	cfg.token = NULL;
	if (config_save(&cfg) != 0)
		goto out;
	if (cli_opts.json) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "ok", "logged out");
		format_json_print(o);
		cJSON_Delete(o);
	} else if (!cli_opts.quiet)
		printf("logged out of %s\n", cfg.url != NULL ? cfg.url :
		    "shieldd");
	rc = CLI_EXIT_OK;
out:
	cli_opts.url = NULL;
	config_clear(&cfg);
	return rc;
}

const struct cli_command cmd_auth_commands[] = {
	{ "login", cmd_login, NULL, NULL,
	  "login [--url URL] [--username USER] [--password-file FILE]",
	  "log in to shieldd and save the URL and a session token",
	  "Asks shieldd at URL for a session token and saves URL and token in\n"
	  "~/.shield/config (or $SHIELD_CONFIG), a file only you can read "
	  "(mode\n"
	  "0600).  Later commands use them unless --url/--token or "
	  "SHIELD_URL/\n"
	  "SHIELD_TOKEN say otherwise; the saved token is only ever sent to "
	  "the\n"
	  "saved URL.  The password is asked for without echo, or read from "
	  "the\n"
	  "first line of a file.\n"
	  "\n"
	  "Options:\n"
	  "  --url URL             shieldd's address (default: the saved one)\n"
	  "  --username USER       who to log in as (asked on a terminal;\n"
	  "                        default admin)\n"
	  "  --password-file FILE  read the password from FILE's first line;\n"
	  "                        - reads it from stdin\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield login --url http://backup.example.com:8080\n"
	  "  Username [admin]:\n"
	  "  Password:\n"
	  "  logged in to http://backup.example.com:8080 as admin\n"
	  "\n"
	  "  $ shield login --url https://shield:8443 --username ops \\\n"
	  "        --password-file ~/.config/shield-password\n" },
	{ "logout", cmd_logout, NULL, NULL, "logout",
	  "end the saved session and remove its token from the config",
	  "Tells shieldd to end the session, then removes the token from the\n"
	  "config file; the URL is kept for the next shield login.  The token "
	  "is\n"
	  "forgotten even when shieldd cannot be reached.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield logout\n"
	  "  logged out of http://backup.example.com:8080\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};
