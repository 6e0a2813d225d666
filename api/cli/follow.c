/*
 * Follow a task by polling /v1/task/:uuid.  The API has no push channel, so
 * each poll asks for the log lines after the last one printed (log_after);
 * the interval grows from a tenth of a second to one second so short tasks
 * finish promptly and long ones do not hammer shieldd.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "follow.h"
#include "format.h"
#include "http.h"
#include "utf8.h"
#include "xmalloc.h"

#define FOLLOW_MIN_MS	100
#define FOLLOW_MAX_MS	1000

/* Sleep for ms milliseconds. */
static void
follow_sleep(long ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1)
		;
}

/* True for the statuses a task ends in. */
static int
follow_final(const char *status)
{
	return status != NULL && (strcmp(status, "done") == 0 ||
	    strcmp(status, "failed") == 0 || strcmp(status, "canceled") == 0);
}

/* Follow a task to its end. */
int
follow_task(const char *uuid)
{
	const char *status, *log, *err;
	char *path, *what, *get, buf[FORMAT_BUF];
	size_t shown = 0, len;
	long wait = FOLLOW_MIN_MS;
	double seen = -1;	/* the number of the last line printed */
	cJSON *t;
	int rc;

	xasprintf(&path, "/v1/task/%s", uuid);
	xasprintf(&what, "task %s", uuid);
	for (;;) {
		/* --json prints the last answer, which must hold all the log. */
		if (seen >= 0 && !cli_opts.json)
			xasprintf(&get, "%s?log_after=%.0f", path, seen);
		else
			get = xstrdup(path);
		t = http_get(get, what);
		free(get);
		if (t == NULL) {
			rc = CLI_EXIT_FAIL;
			goto out;
		}
		status = format_str(t, "status");
		log = format_str(t, "log");
		if (format_num(t, "log_lines", -1) >= 0) {
			/* The answer holds only the lines not yet printed. */
			seen = format_num(t, "log_lines", -1);
			shown = 0;
		}
		if (log != NULL && !cli_opts.json && !cli_opts.quiet) {
			len = strlen(log);
			if (len < shown)	/* rewritten: start over */
				shown = 0;
			utf8_fputs_escaped(stdout, log + shown,
			    UTF8_KEEP_NEWLINE | UTF8_KEEP_TAB);
			fflush(stdout);
			shown = len;
		}
		if (follow_final(status))
			break;
		cJSON_Delete(t);
		follow_sleep(wait);
		if ((wait *= 2) > FOLLOW_MAX_MS)
			wait = FOLLOW_MAX_MS;
	}
	if (cli_opts.json)
		format_json_print(t);
	if (strcmp(status, "done") == 0) {
		format_bytes(format_num(t, "bytes", 0), buf);
		cli_note("task %s done (%s)", uuid, buf);
		rc = CLI_EXIT_OK;
	} else {
		err = format_str(t, "error");
		cli_error("task %s %s%s%s", uuid, status, err ? ": " : "",
		    err ? err : "");
		rc = CLI_EXIT_FAIL;
	}
	cJSON_Delete(t);
out:
	free(what);
	free(path);
	return rc;
}
