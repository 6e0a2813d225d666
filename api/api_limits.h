/*
 * Size limits on user-supplied fields: generous for real use, small enough
 * that a runaway client cannot bloat the catalog.
 */
#ifndef SHIELD_API_LIMITS_H
#define SHIELD_API_LIMITS_H

#define API_NAME_MAX		255
#define API_SUMMARY_MAX		4096
#define API_WHEN_MAX		255
#define API_ENDPOINT_MAX	65536
#define API_NOTES_MAX		4096
#define API_OWNER_MAX		255
#define API_RETENTION_MIN	3600
/* 100 years of 365.25 days: longer is a typo, and far dates print absurdly. */
#define API_RETENTION_MAX	3155760000LL
/* List pages: the default and the largest ?limit= of each list. */
#define API_TASKS_LIMIT		100
#define API_TASKS_LIMIT_MAX	1000
/* Lines of each task's log (and debug log) that a task list carries. */
#define API_TASKS_LOG_TAIL	10
#define API_ARCHIVES_LIMIT	1000
#define API_ARCHIVES_LIMIT_MAX	10000

#endif
