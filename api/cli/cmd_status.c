/*
 * shield status: who you are on which shieldd, its version, uptime and
 * master key id, the task counts by status, each job's last and next run, and the space each
 * store holds, from /v1/status and /v1/auth/me.
 */
#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "format.h"
#include "http.h"
#include "table.h"

/* Print the status object for a human. */
static void
status_print(const cJSON *st, const cJSON *me)
{
	static const char *const statuses[] = { "pending", "running", "done",
	    "failed", "canceled" };
	char buf[FORMAT_BUF], line[256];
	const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(st, "tasks");
	const cJSON *e;
	struct table *t;
	size_t i;
	int len = 0;

	kv_print("shieldd", cli_opts.url);
	kv_print("user", format_str(me, "username"));
	kv_print("version", format_str(st, "version"));
	kv_print("started at", format_str(st, "started_at"));
	format_duration((int64_t)format_num(st, "uptime", 0), buf);
	kv_print("uptime", buf);
	kv_print("key id", format_str(st, "key_id"));
	line[0] = '\0';
	for (i = 0; i < sizeof statuses / sizeof statuses[0]; i++)
		len += snprintf(line + len, sizeof line - (size_t)len,
		    "%s%s %.0f", i ? ", " : "", statuses[i],
		    format_num(tasks, statuses[i], 0));
	kv_print("tasks", line);

	t = table_new(5, "JOB", "PAUSED", "LAST STATUS", "LAST RUN",
	    "NEXT RUN");
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(st, "jobs"))
		table_add(t, format_str(e, "name"), format_bool(e, "paused") ?
		    "yes" : "no", format_str(e, "last_status"),
		    format_str(e, "last_run"), format_str(e, "next_run"));
	if (table_rows(t) > 0) {
		putchar('\n');
		table_print(t);
	}
	table_free(t);

	t = table_new(3, "STORE", "ARCHIVES", "SIZE");
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(st,
	    "stores")) {
		snprintf(line, sizeof line, "%.0f",
		    format_num(e, "archives", 0));
		format_bytes(format_num(e, "bytes", 0), buf);
		table_add(t, format_str(e, "name"), line, buf);
	}
	if (table_rows(t) > 0) {
		putchar('\n');
		table_print(t);
	}
	table_free(t);
}

/* shield status */
static int
cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		CLI_OPTS_COMMON,
		{ NULL, 0, NULL, 0 },
	};
	cJSON *st, *me = NULL;

	while (cli_getopt(argc, argv, "", opts) != -1)
		;
	if (cli_args(argc, argv, 0, "nothing") != 0)
		return CLI_EXIT_USAGE;
	if ((st = http_get("/v1/status", NULL)) == NULL)
		return CLI_EXIT_FAIL;
	if (cli_opts.json)
		format_json_print(st);
	else if (!cli_opts.quiet) {
		me = http_get("/v1/auth/me", NULL);
		status_print(st, me);
	}
	cJSON_Delete(me);
	cJSON_Delete(st);
	return CLI_EXIT_OK;
}

const struct cli_command cmd_status_commands[] = {
	{ "status", cmd_status, NULL, NULL, "status",
	  "show shieldd's version, uptime, tasks, jobs and store usage",
	  "Shows which shieldd you talk to and as whom, its version, "
	  "uptime and\n"
	  "master key id (which key file belongs to it: keep a copy),\n"
	  "how many tasks are in each state, every job's last and next run, "
	  "and\n"
	  "how many valid archives and bytes each store holds.  With -q, "
	  "prints\n"
	  "nothing and only checks that shieldd answers (exit 0) and accepts "
	  "the\n"
	  "token.  Times are UTC.\n"
	  "\n"
	  "Examples:\n"
	  "  $ shield status\n"
	  "  shieldd:         http://127.0.0.1:8080\n"
	  "  user:            admin\n"
	  "  version:         0.1.0\n"
	  "  ...\n"
	  "  $ shield status --json | jq .tasks.failed\n" },
	{ NULL, NULL, NULL, NULL, NULL, NULL, NULL },
};
