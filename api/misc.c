/*
 * The small endpoints: liveness (/v1/ping), installed plugins, daemon
 * status, Prometheus metrics (/metrics) and a timespec preview used by the
 * web UI's schedule form (POST /v1/timespec).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "api.h"
#include "catalog.h"
#include "daemon.h"
#include "api_limits.h"
#include "plugins.h"
#include "scheduler.h"
#include "supervisor.h"
#include "timefmt.h"
#include "timespec.h"
#include "xmalloc.h"


/* GET /v1/ping: unauthenticated liveness. */
static void
misc_ping(struct api_req *r)
{
	api_ok(r, "pong");
}

/* GET /v1/plugins */
static void
misc_plugins(struct api_req *r)
{
	plugins_refresh(r->d->plugins);
	api_reply(r, 200, cJSON_Duplicate(plugins_list(r->d->plugins), 1));
}

/* GET /v1/plugin/:name */
static void
misc_plugin(struct api_req *r)
{
	const cJSON *info = plugins_info(r->d->plugins, r->params[0]);

	if (info == NULL) {
		api_error(r, 404, "no plugin named '%.64s'", r->params[0]);
		return;
	}
	api_reply(r, 200, cJSON_Duplicate(info, 1));
}

/*
 * The zone schedules are evaluated in: localtime_r() follows TZ, else
 * /etc/localtime.  Clients show a schedule's times in it, so say its IANA
 * name where one can be told ("Europe/Berlin"), else (a POSIX rule such as
 * "CET-1CEST", a copied zone file) its abbreviation now ("CET").
 */
static void
misc_timezone(int64_t t, char *buf, size_t len)
{
	const char *tz = getenv("TZ"), *dir = getenv("TZDIR"), *p;
	char link[PATH_MAX], path[PATH_MAX];
	struct tm tm;
	time_t now;
	ssize_t n;
	FILE *f;
	int w;

	if (dir == NULL || *dir == '\0')
		dir = "/usr/share/zoneinfo";
	if (tz != NULL && *tz == ':')
		tz++;
	if (tz != NULL && *tz == '\0') {
		snprintf(buf, len, "UTC");	/* glibc reads an empty TZ so */
		return;
	}
	if (tz == NULL &&
	    (n = readlink("/etc/localtime", link, sizeof link - 1)) > 0) {
		link[n] = '\0';
		tz = link;
	} else if (tz == NULL && (f = fopen("/etc/timezone", "r")) != NULL) {
		if (fgets(link, sizeof link, f) != NULL) {
			link[strcspn(link, " \t\r\n")] = '\0';
			tz = link;
		}
		fclose(f);
	}
	if (tz != NULL) {
		if ((p = strstr(tz, "zoneinfo/")) != NULL)
			p += strlen("zoneinfo/");
		else
			p = tz;
		w = snprintf(path, sizeof path, "%s/%s", dir, p);
		if (*p != '\0' && *p != '/' && strstr(p, "..") == NULL &&
		    strlen(p) < len && w > 0 && (size_t)w < sizeof path &&
		    access(path, R_OK) == 0) {
			snprintf(buf, len, "%s", p);
			return;
		}
	}
	now = (time_t)t;
	if (localtime_r(&now, &tm) == NULL ||
	    strftime(buf, len, "%Z", &tm) == 0)
		snprintf(buf, len, "UTC");
}

/* GET /v1/status */
static void
misc_status(struct api_req *r)
{
	struct cat_store_usage *u = NULL;
	struct cat_filter f;
	struct cat_job *j = NULL;
	int64_t counts[CAT_TASK_STATUSES] = { 0 };
	size_t nu = 0, nj = 0, i;
	cJSON *o, *t, *arr, *e;
	char tz[128];

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "version", SHIELD_VERSION);
	misc_timezone(r->d->clock(), tz, sizeof tz);
	cJSON_AddStringToObject(o, "timezone", tz);
	cJSON_AddNumberToObject(o, "uptime",
	    (double)(r->d->clock() - r->d->started_at));
	api_json_time(o, "started_at", r->d->started_at);
	/* The fingerprint tells which key file belongs here; never the key. */
	cJSON_AddStringToObject(o, "key_id", r->d->key_id);
	t = cJSON_AddObjectToObject(o, "tasks");
	catalog_task_counts(r->d->cat, counts);
	for (i = 0; i < CAT_TASK_STATUSES; i++)
		cJSON_AddNumberToObject(t,
		    cat_task_status_name((enum cat_task_status)i),
		    (double)counts[i]);
	arr = cJSON_AddArrayToObject(o, "jobs");
	cat_filter_init(&f);
	if (catalog_jobs(r->d->cat, &f, &j, &nj) == CAT_OK) {
		for (i = 0; i < nj; i++) {
			e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "uuid", j[i].uuid);
			api_json_str(e, "name", j[i].name);
			cJSON_AddBoolToObject(e, "paused", j[i].paused);
			if (j[i].last_task_status[0] != '\0')
				cJSON_AddStringToObject(e, "last_status",
				    j[i].last_task_status);
			else
				cJSON_AddNullToObject(e, "last_status");
			api_json_time(e, "last_run", j[i].last_task_started);
			api_json_time(e, "next_run", j[i].paused ? 0 :
			    scheduler_next_run(r->d->sched, j[i].uuid));
			cJSON_AddItemToArray(arr, e);
		}
		cat_jobs_free(j, nj);
	}
	arr = cJSON_AddArrayToObject(o, "stores");
	if (catalog_store_usage(r->d->cat, &u, &nu) == CAT_OK) {
		for (i = 0; i < nu; i++) {
			e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "uuid", u[i].store_uuid);
			api_json_str(e, "name", u[i].store_name);
			cJSON_AddNumberToObject(e, "archives",
			    (double)u[i].archives);
			cJSON_AddNumberToObject(e, "bytes",
			    (double)u[i].bytes);
			cJSON_AddItemToArray(arr, e);
		}
		cat_store_usage_free(u, nu);
	}
	api_reply(r, 200, o);
}

/* Escape a label value for the Prometheus text format. */
static void
misc_label(struct evbuffer *b, const char *s)
{
	for (; s != NULL && *s != '\0'; s++) {
		if (*s == '\\' || *s == '"')
			evbuffer_add_printf(b, "\\%c", *s);
		else if (*s == '\n')
			evbuffer_add(b, "\\n", 2);
		else
			evbuffer_add(b, s, 1);
	}
}

/* One job's last success, as a metric line. */
static void
misc_success_cb(const char *uuid, const char *name, int64_t stopped,
    void *arg)
{
	struct evbuffer *b = arg;

	evbuffer_add_printf(b, "shield_job_last_success_timestamp_seconds"
	    "{job=\"");
	misc_label(b, name);
	evbuffer_add_printf(b, "\",uuid=\"%s\"} %lld\n", uuid,
	    (long long)stopped);
}

/* GET /metrics: Prometheus text exposition format. */
static void
misc_metrics(struct api_req *r)
{
	/* The stats' outcomes, in their order. */
	static const enum cat_task_status outs[] = { CAT_TASK_DONE,
	    CAT_TASK_FAILED, CAT_TASK_CANCELED };
	const struct supervisor_stats *st = supervisor_stats(r->d->sup);
	struct cat_store_usage *u = NULL;
	int64_t counts[CAT_TASK_STATUSES] = { 0 };
	struct evbuffer *b = evbuffer_new();
	size_t nu = 0, i, k, len;
	char *text;

	evbuffer_add_printf(b, "# HELP shield_up Whether shieldd is up.\n"
	    "# TYPE shield_up gauge\nshield_up 1\n");
	evbuffer_add_printf(b, "# HELP shield_uptime_seconds Seconds since "
	    "shieldd started.\n# TYPE shield_uptime_seconds gauge\n"
	    "shield_uptime_seconds %lld\n",
	    (long long)(r->d->clock() - r->d->started_at));
	evbuffer_add_printf(b, "# HELP shield_tasks Tasks in the catalog by "
	    "status.\n# TYPE shield_tasks gauge\n");
	catalog_task_counts(r->d->cat, counts);
	for (i = 0; i < CAT_TASK_STATUSES; i++)
		evbuffer_add_printf(b, "shield_tasks{status=\"%s\"} %lld\n",
		    cat_task_status_name((enum cat_task_status)i),
		    (long long)counts[i]);
	evbuffer_add_printf(b, "# HELP shield_tasks_finished_total Tasks "
	    "finished since start, by type and outcome.\n"
	    "# TYPE shield_tasks_finished_total counter\n");
	for (i = 0; i < CAT_TASK_TYPES; i++)
		for (k = 0; k < 3; k++)
			evbuffer_add_printf(b, "shield_tasks_finished_total"
			    "{type=\"%s\",outcome=\"%s\"} %lld\n",
			    cat_task_type_name((enum cat_task_type)i),
			    cat_task_status_name(outs[k]),
			    (long long)st->finished[i][k]);
	evbuffer_add_printf(b, "# HELP shield_task_duration_seconds_sum "
	    "Seconds spent in finished tasks since start.\n"
	    "# TYPE shield_task_duration_seconds_sum counter\n");
	for (i = 0; i < CAT_TASK_TYPES; i++)
		for (k = 0; k < 3; k++)
			evbuffer_add_printf(b, "shield_task_duration_seconds"
			    "_sum{type=\"%s\",outcome=\"%s\"} %.3f\n",
			    cat_task_type_name((enum cat_task_type)i),
			    cat_task_status_name(outs[k]), st->seconds[i][k]);
	evbuffer_add_printf(b, "# HELP shield_backup_bytes_total Bytes "
	    "backed up since start.\n# TYPE shield_backup_bytes_total "
	    "counter\nshield_backup_bytes_total %lld\n",
	    (long long)st->bytes_done[CAT_TASK_BACKUP]);
	evbuffer_add_printf(b, "# HELP shield_restore_bytes_total Bytes "
	    "restored since start.\n# TYPE shield_restore_bytes_total "
	    "counter\nshield_restore_bytes_total %lld\n",
	    (long long)st->bytes_done[CAT_TASK_RESTORE]);
	evbuffer_add_printf(b, "# HELP shield_store_archives Valid archives "
	    "per store.\n# TYPE shield_store_archives gauge\n"
	    "# HELP shield_store_bytes Bytes of valid archives per store.\n"
	    "# TYPE shield_store_bytes gauge\n");
	if (catalog_store_usage(r->d->cat, &u, &nu) == CAT_OK) {
		for (i = 0; i < nu; i++) {
			evbuffer_add_printf(b, "shield_store_archives{store=\"");
			misc_label(b, u[i].store_name);
			evbuffer_add_printf(b, "\",uuid=\"%s\"} %lld\n",
			    u[i].store_uuid, (long long)u[i].archives);
			evbuffer_add_printf(b, "shield_store_bytes{store=\"");
			misc_label(b, u[i].store_name);
			evbuffer_add_printf(b, "\",uuid=\"%s\"} %lld\n",
			    u[i].store_uuid, (long long)u[i].bytes);
		}
		cat_store_usage_free(u, nu);
	}
	evbuffer_add_printf(b, "# HELP shield_job_last_success_timestamp_"
	    "seconds When each job last finished a backup successfully.\n"
	    "# TYPE shield_job_last_success_timestamp_seconds gauge\n");
	catalog_job_successes(r->d->cat, misc_success_cb, b);
	evbuffer_add_printf(b, "# HELP shield_scheduler_lag_seconds How late "
	    "the last scheduled run fired.\n# TYPE shield_scheduler_lag_"
	    "seconds gauge\nshield_scheduler_lag_seconds %.3f\n",
	    scheduler_lag(r->d->sched));
	evbuffer_add_printf(b, "# HELP shield_scheduler_wakeups_total Timer "
	    "wakeups of the scheduler.\n# TYPE shield_scheduler_wakeups_total "
	    "counter\nshield_scheduler_wakeups_total %lld\n",
	    (long long)scheduler_wakeups(r->d->sched));
	evbuffer_add_printf(b, "# HELP shield_tasks_running Tasks running "
	    "now.\n# TYPE shield_tasks_running gauge\nshield_tasks_running "
	    "%d\n", supervisor_running(r->d->sup));
	len = evbuffer_get_length(b);
	text = xmalloc(len + 1);
	evbuffer_remove(b, text, len);
	evbuffer_free(b);
	api_reply_text(r, 200, "text/plain; version=0.0.4; charset=utf-8",
	    text, len);
	free(text);
}

/* Parse "YYYY-MM-DD HH:MM[:SS]" as UTC. */
static int
misc_parse_from(const char *s, int64_t *out)
{
	char buf[32];

	if (strlen(s) == 16) {
		snprintf(buf, sizeof buf, "%s:00", s);
		s = buf;
	}
	return timefmt_parse_utc(s, out);
}

/* POST /v1/timespec {"when", "count"?, "from"?}: canonical form and next runs. */
static void
misc_timespec(struct api_req *r)
{
	static const char *const req[] = { "when" };
	char err[TIMESPEC_ERR_MAX], canon[256];
	const char *when = NULL, *from = NULL;
	int64_t count = 5, t;
	struct tspec ts;
	timefmt_buf b;
	cJSON *o, *arr;
	int i;

	if (api_body_require(r, req, 1) != 0 ||
	    api_body_string(r, "when", &when) != 0 ||
	    api_body_string(r, "from", &from) != 0 ||
	    api_body_int(r, "count", &count, NULL) != 0 ||
	    api_check_len(r, "when", when, API_WHEN_MAX) != 0)
		return;
	if (count < 1 || count > 100) {
		api_error(r, 400, "count must be between 1 and 100");
		return;
	}
	t = r->d->clock();
	if (from != NULL && misc_parse_from(from, &t) != 0) {
		api_error(r, 400, "from must be \"YYYY-MM-DD HH:MM\" (UTC)");
		return;
	}
	if (timespec_parse(when, &ts, err, sizeof err) != 0) {
		api_error(r, 400, "invalid schedule \"%s\": %s", when, err);
		return;
	}
	timespec_canonical(&ts, canon, sizeof canon);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "canonical", canon);
	arr = cJSON_AddArrayToObject(o, "next");
	for (i = 0; i < count; i++) {
		if ((t = timespec_next(&ts, t)) < 0)
			break;
		timefmt_utc(t, b);
		cJSON_AddItemToArray(arr, cJSON_CreateString(b));
	}
	api_reply(r, 200, o);
}

const struct api_route api_misc_routes[] = {
	{ EVHTTP_REQ_GET, "/v1/ping", misc_ping, API_PUBLIC },
	{ EVHTTP_REQ_GET, "/v1/plugins", misc_plugins, 0 },
	{ EVHTTP_REQ_GET, "/v1/plugin/:name", misc_plugin, 0 },
	{ EVHTTP_REQ_GET, "/v1/status", misc_status, 0 },
	{ EVHTTP_REQ_GET, "/metrics", misc_metrics, 0 },
	{ EVHTTP_REQ_POST, "/v1/timespec", misc_timespec, API_JSON_BODY },
	{ 0, NULL, NULL, 0 },
};
