/*
 * The backup task kind: a job's target plugin `backup` streams through the
 * relay into its store plugin's `store`.  The archive is recorded only when
 * every process exited 0 and the store printed a usable {"key": ...}; a
 * failed backup whose store returned a key has that partial blob purged.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "catalog.h"
#include "endpoint.h"
#include "pipeline.h"
#include "supervisor.h"
#include "task.h"
#include "xmalloc.h"

/* What a backup remembers between prepare and done. */
struct backup_data {
	int64_t	 expiry;		/* the retention policy's */
	char	*store_plugin;		/* for purging a partial blob */
	char	*store_endpoint;
};

/* Free a backup's state. */
static void
backup_data_free(void *arg)
{
	struct backup_data *b = arg;

	free(b->store_plugin);
	free(b->store_endpoint);
	free(b);
}

/* A backup of a job: its target and store. */
static int
backup_request(struct catalog *cat, const struct task_request *req,
    struct cat_task *t, int *status, char **errp)
{
	struct cat_job j;
	int rc;

	memset(&j, 0, sizeof j);
	if ((rc = catalog_job_get(cat, req->job, &j)) != CAT_OK) {
		*status = rc;
		*errp = xstrdup(rc == CAT_NOTFOUND ? "job not found" :
		    "cannot read the job");
		return -1;
	}
	memcpy(t->job_uuid, j.uuid, sizeof t->job_uuid);
	memcpy(t->target_uuid, j.target_uuid, sizeof t->target_uuid);
	memcpy(t->store_uuid, j.store_uuid, sizeof t->store_uuid);
	cat_job_clear(&j);
	return 0;
}

/* The job's target backs up into its store. */
static int
backup_prepare(struct task_run *run, char **errp)
{
	const struct cat_task *t = task_run_task(run);
	struct backup_data *b;
	struct cat_job j;
	int rc;

	memset(&j, 0, sizeof j);
	if (catalog_job_get(task_run_catalog(run), t->job_uuid, &j) !=
	    CAT_OK) {
		*errp = xstrdup("the job no longer exists");
		return -1;
	}
	b = xcalloc(1, sizeof *b);
	b->expiry = j.expiry;
	b->store_plugin = xstrdup(j.store_plugin);
	b->store_endpoint = xstrdup(j.store_endpoint);
	task_run_set_data(run, b, backup_data_free);
	rc = task_run_stage(run, TASK_SOURCE, j.target_plugin, "backup",
	    j.target_endpoint, NULL, errp);
	if (rc == 0)
		rc = task_run_stage(run, TASK_SINK, j.store_plugin, "store",
		    j.store_endpoint, NULL, errp);
	cat_job_clear(&j);
	return rc;
}

/* The store's key from its output, or NULL (caller frees). */
char *
supervisor_store_key(const char *output)
{
	cJSON *o = cJSON_Parse(output != NULL ? output : ""), *k;
	char *key = NULL;

	k = cJSON_GetObjectItemCaseSensitive(o, "key");
	if (cJSON_IsString(k) && k->valuestring[0] != '\0' &&
	    strlen(k->valuestring) < 4096)
		key = xstrdup(k->valuestring);
	cJSON_Delete(o);
	return key;
}

/*
 * A key that could pass for an option goes to no plugin, not even purge:
 * the blob it names, if any, is left for a person to remove.  Returns the
 * key if usable (else frees it and sets *why from whybuf).
 */
static char *
backup_check_key(struct task_run *run, char *key, const char **why,
    char *whybuf, size_t size)
{
	char shown[256];
	const char *bad;

	if (key == NULL || (bad = endpoint_key_check(key)) == NULL)
		return key;
	endpoint_key_quote(key, shown, sizeof shown);
	task_run_say(run, "the store returned the key \"%s\", which shieldd "
	    "refuses (%s): no archive is recorded and the key is passed to "
	    "no plugin, not even to purge; remove that blob from the store "
	    "by hand", shown, bad);
	snprintf(whybuf, size, "the store returned a key shieldd refuses "
	    "(%s)", bad);
	if (*why == NULL)
		*why = whybuf;
	free(key);
	return NULL;
}

/* Record the archive, or clean up after a failure. */
static void
backup_done(struct task_run *run, const struct pipeline_result *res)
{
	const struct cat_task *t = task_run_task(run);
	struct backup_data *b = task_run_data(run);
	struct catalog *cat = task_run_catalog(run);
	const char *why = res->failure;
	struct cat_archive a;
	char whybuf[128], *key;
	id_buf aid;

	key = backup_check_key(run, supervisor_store_key(res->output), &why,
	    whybuf, sizeof whybuf);
	if (why == NULL && key == NULL)
		why = "the store did not print a valid {\"key\": ...}";
	if (why != NULL) {
		if (key != NULL)
			task_run_cleanup(run, b->store_plugin,
			    b->store_endpoint, key);
		free(key);
		task_run_finish(run, task_run_failed_status(run), res->bytes,
		    why);
		return;
	}
	memset(&a, 0, sizeof a);
	memcpy(a.target_uuid, t->target_uuid, sizeof a.target_uuid);
	memcpy(a.store_uuid, t->store_uuid, sizeof a.store_uuid);
	memcpy(a.job_uuid, t->job_uuid, sizeof a.job_uuid);
	a.store_key = key;
	a.taken_at = t->started_at != 0 ? t->started_at : task_run_now(run);
	a.expires_at = a.taken_at + b->expiry;
	a.notes = "";
	a.status = CAT_ARCHIVE_VALID;
	a.size = res->bytes;
	memcpy(a.sha256, res->sha256, sizeof a.sha256);
	if (catalog_archive_create(cat, &a, aid) != CAT_OK) {
		task_run_cleanup(run, b->store_plugin, b->store_endpoint, key);
		free(key);
		task_run_finish(run, CAT_TASK_FAILED, res->bytes,
		    "cannot record the archive in the catalog");
		return;
	}
	catalog_task_set_archive(cat, t->uuid, aid);
	free(key);
	task_run_say(run, "archive %s stored: %lld bytes, sha256 %s", aid,
	    (long long)res->bytes, res->sha256);
	/* The new archive may expire before anything else due. */
	task_run_archives_changed(run);
	task_run_finish(run, CAT_TASK_DONE, res->bytes, NULL);
}

const struct task_kind task_kind_backup = {
	.type = CAT_TASK_BACKUP,
	.per_target = 1,
	.request = backup_request,
	.prepare = backup_prepare,
	.done = backup_done,
};
