/*
 * The purge task kind: an archive's store plugin `purge` removes its blob.
 * Success marks the archive purged; a failure schedules a retry with
 * exponential backoff (the scheduler's expiry sweep queues it again).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "pipeline.h"
#include "task.h"
#include "xmalloc.h"

#define PURGE_BACKOFF_MAX	(6 * 3600)

/* A purge of an archive not purged yet. */
static int
purge_request(struct catalog *cat, const struct task_request *req,
    struct cat_task *t, int *status, char **errp)
{
	struct cat_archive a;

	if (task_request_archive(cat, req->archive, &a, status, errp) != 0)
		return -1;
	if (a.status == CAT_ARCHIVE_PURGED) {
		cat_archive_clear(&a);
		*status = CAT_NOTFOUND;
		*errp = xstrdup("archive has already been purged");
		return -1;
	}
	memcpy(t->archive_uuid, a.uuid, sizeof t->archive_uuid);
	memcpy(t->store_uuid, a.store_uuid, sizeof t->store_uuid);
	memcpy(t->target_uuid, a.target_uuid, sizeof t->target_uuid);
	cat_archive_clear(&a);
	return 0;
}

/* The archive's store and key. */
static int
purge_prepare(struct task_run *run, char **errp)
{
	struct cat_archive a;
	int rc;

	if (task_run_archive(run, &a, errp) != 0)
		return -1;
	rc = task_run_stage(run, TASK_SINK, a.store_plugin, "purge",
	    a.store_endpoint, a.store_key, errp);
	cat_archive_clear(&a);
	return rc;
}

/* Mark the archive purged, or schedule a retry. */
static void
purge_done(struct task_run *run, const struct pipeline_result *res)
{
	struct catalog *cat = task_run_catalog(run);
	const char *archive = task_run_task(run)->archive_uuid;
	struct cat_archive a;
	int64_t wait;

	if (res->failure == NULL) {
		catalog_archive_set_status(cat, archive, CAT_ARCHIVE_PURGED);
		task_run_archives_changed(run);
		task_run_finish(run, CAT_TASK_DONE, 0, NULL);
		return;
	}
	memset(&a, 0, sizeof a);
	if (catalog_archive_get(cat, archive, &a) == CAT_OK) {
		wait = 60LL << (a.purge_attempts < 8 ? a.purge_attempts : 8);
		if (wait > PURGE_BACKOFF_MAX)
			wait = PURGE_BACKOFF_MAX;
		catalog_archive_purge_failed(cat, archive,
		    task_run_now(run) + wait);
		task_run_say(run, "will retry the purge in %lld s",
		    (long long)wait);
		cat_archive_clear(&a);
	}
	task_run_archives_changed(run);
	task_run_finish(run, task_run_failed_status(run), 0, res->failure);
}

const struct task_kind task_kind_purge = {
	.type = CAT_TASK_PURGE,
	.per_target = 0,
	.request = purge_request,
	.prepare = purge_prepare,
	.done = purge_done,
};
