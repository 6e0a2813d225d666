/*
 * The names of task types, task statuses and archive statuses: the one
 * place where each enum is turned into the text the catalog stores and the
 * API shows, and back.
 */
#include <stddef.h>
#include <string.h>

#include "catalog.h"

static const char *const cat_type_names[CAT_TASK_TYPES] = {
	"backup", "restore", "purge",
};

static const char *const cat_status_names[CAT_TASK_STATUSES] = {
	"pending", "running", "canceled", "failed", "done",
};

static const char *const cat_archive_names[CAT_ARCHIVE_STATUSES] = {
	"valid", "expired", "purged",
};

/* The index of s in names[0..n), or -1. */
static int
cat_name_find(const char *const *names, int n, const char *s)
{
	int i;

	for (i = 0; s != NULL && i < n; i++) {
		if (strcmp(names[i], s) == 0)
			return i;
	}
	return -1;
}

/* A task type's name. */
const char *
cat_task_type_name(enum cat_task_type t)
{
	return (unsigned)t < CAT_TASK_TYPES ? cat_type_names[t] : "unknown";
}

/* A task type from its name; 0, or -1 if there is none of that name. */
int
cat_task_type_parse(const char *s, enum cat_task_type *out)
{
	int i = cat_name_find(cat_type_names, CAT_TASK_TYPES, s);

	if (i < 0)
		return -1;
	*out = (enum cat_task_type)i;
	return 0;
}

/* A task status's name. */
const char *
cat_task_status_name(enum cat_task_status st)
{
	return (unsigned)st < CAT_TASK_STATUSES ? cat_status_names[st] :
	    "unknown";
}

/* A task status from its name; 0, or -1. */
int
cat_task_status_parse(const char *s, enum cat_task_status *out)
{
	int i = cat_name_find(cat_status_names, CAT_TASK_STATUSES, s);

	if (i < 0)
		return -1;
	*out = (enum cat_task_status)i;
	return 0;
}

/* An archive status's name. */
const char *
cat_archive_status_name(enum cat_archive_status st)
{
	return (unsigned)st < CAT_ARCHIVE_STATUSES ? cat_archive_names[st] :
	    "unknown";
}

/* An archive status from its name; 0, or -1. */
int
cat_archive_status_parse(const char *s, enum cat_archive_status *out)
{
	int i = cat_name_find(cat_archive_names, CAT_ARCHIVE_STATUSES, s);

	if (i < 0)
		return -1;
	*out = (enum cat_archive_status)i;
	return 0;
}
