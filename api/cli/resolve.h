/*
 * The kinds of object the CLI manages, and finding one by what a person
 * types: a full uuid, a unique uuid prefix or a unique name.  Returned
 * cJSON objects belong to the caller.
 */
#ifndef SHIELD_CLI_RESOLVE_H
#define SHIELD_CLI_RESOLVE_H

#include <cjson/cJSON.h>

#define RESOLVE_UUID_LEN	37

/* One kind of object of the API. */
struct resource {
	const char	*noun;		/* "target", "retention policy" */
	const char	*list_path;	/* "/v1/targets" */
	const char	*item_path;	/* "/v1/target/", the uuid follows */
	const char	*job_filter;	/* /v1/jobs?<this>=uuid lists users */
	int		 named;		/* its objects have a "name" */
	int		 page;		/* the list's largest ?limit=, 0: unpaged */
};

extern const struct resource resource_schedule;
extern const struct resource resource_retention;
extern const struct resource resource_target;
extern const struct resource resource_store;
extern const struct resource resource_job;
extern const struct resource resource_archive;
extern const struct resource resource_task;

/*
 * The one object ident names.  A name wins over a uuid prefix; several
 * matches are an error that lists the candidates.  NULL after printing
 * the error (not found, ambiguous, or shieldd's).
 */
cJSON	*resolve(const struct resource *, const char *ident);
/* resolve(), keeping only the uuid; 0 or -1 after printing. */
int	 resolve_uuid(const struct resource *, const char *ident,
	    char uuid[RESOLVE_UUID_LEN]);
/* "target \"prod\"" or "archive 1a2b3c4d": how messages name an object;
 * free it. */
char	*resolve_label(const struct resource *, const cJSON *obj);

#endif
