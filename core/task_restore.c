/*
 * The restore task kind: an archive's store plugin `retrieve` streams
 * through the relay into a target plugin's `restore` (the archive's own
 * target or another one of the same kind).  The relay checks the archive's
 * size and SHA-256 and holds back the last chunk, so the target never sees
 * the end of a stream that does not match.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "pipeline.h"
#include "task.h"
#include "timefmt.h"
#include "xmalloc.h"

/* A restore of an archive that still exists, to a target that exists. */
static int
restore_request(struct catalog *cat, const struct task_request *req,
    struct cat_task *t, int *status, char **errp)
{
	struct cat_archive a;
	struct cat_system s;
	int rc;

	if (task_request_archive(cat, req->archive, &a, status, errp) != 0)
		return -1;
	if (a.status == CAT_ARCHIVE_PURGED) {
		cat_archive_clear(&a);
		*status = CAT_INUSE;
		*errp = xstrdup("archive has been purged from its store");
		return -1;
	}
	memcpy(t->archive_uuid, a.uuid, sizeof t->archive_uuid);
	memcpy(t->store_uuid, a.store_uuid, sizeof t->store_uuid);
	snprintf(t->target_uuid, sizeof t->target_uuid, "%s",
	    req->target != NULL ? req->target : a.target_uuid);
	cat_archive_clear(&a);
	memset(&s, 0, sizeof s);
	if ((rc = catalog_system_get(cat, CAT_TARGET, t->target_uuid, &s)) !=
	    CAT_OK) {
		*status = rc;
		*errp = xstrdup(rc == CAT_NOTFOUND ? "target not found" :
		    "cannot read the target");
		return -1;
	}
	cat_system_clear(&s);
	return 0;
}

/* The archive's store retrieves into the task's target. */
static int
restore_prepare(struct task_run *run, char **errp)
{
	const struct cat_task *task = task_run_task(run);
	struct catalog *cat = task_run_catalog(run);
	struct cat_archive a;
	struct cat_system t;
	timefmt_buf when;
	int rc;

	memset(&t, 0, sizeof t);
	if (task_run_archive(run, &a, errp) != 0)
		return -1;
	if (catalog_system_get(cat, CAT_TARGET, task->target_uuid, &t) !=
	    CAT_OK) {
		cat_archive_clear(&a);
		*errp = xstrdup("the target no longer exists");
		return -1;
	}
	rc = task_run_stage(run, TASK_SOURCE, a.store_plugin, "retrieve",
	    a.store_endpoint, a.store_key, errp);
	if (rc == 0)
		rc = task_run_stage(run, TASK_SINK, t.plugin, "restore",
		    t.endpoint, NULL, errp);
	if (rc == 0 && a.sha256[0] != '\0')
		task_run_expect(run, a.sha256, a.size);
	if (rc == 0) {
		timefmt_utc(a.taken_at, when);
		task_run_say(run, "restoring archive %s (taken %s UTC) to "
		    "target %s", a.uuid, when, t.name);
	}
	cat_system_clear(&t);
	cat_archive_clear(&a);
	return rc;
}

/* The target has the archive's data, or it failed. */
static void
restore_done(struct task_run *run, const struct pipeline_result *res)
{
	task_run_finish(run, res->failure == NULL ? CAT_TASK_DONE :
	    task_run_failed_status(run), res->bytes, res->failure);
}

const struct task_kind task_kind_restore = {
	.type = CAT_TASK_RESTORE,
	.per_target = 1,
	.request = restore_request,
	.prepare = restore_prepare,
	.done = restore_done,
};
