/*
 * What the commands of every kind share: list, show, delete (with the
 * 409 "used by these jobs" explanation), create, update and edit through
 * $EDITOR.  Each takes the kind's struct resource and, where output or
 * bodies differ, a callback; callbacks never own what they are given.
 */
#ifndef SHIELD_CLI_RESOURCE_H
#define SHIELD_CLI_RESOURCE_H

#include <cjson/cJSON.h>

#include "resolve.h"

/* Print a list (a JSON array) as a table. */
typedef void	resource_print_list_fn(const cJSON *);
/* Print one object for a human. */
typedef void	resource_print_fn(const cJSON *);
/* The editable document of an object (a new cJSON). */
typedef cJSON	*resource_doc_fn(const cJSON *);
/* The PUT body from an object and its edited document, or NULL after
 * printing why the document is wrong. */
typedef cJSON	*resource_body_fn(const cJSON *, const cJSON *);

/* "/v1/target/<uuid>"; free it. */
char	*resource_path(const struct resource *, const cJSON *obj);

/*
 * GET path (a list) and print it: the JSON under --json, uuids under -q,
 * else a table through print (or "no <plural>" on stderr when empty).
 */
int	 resource_list(const char *path, const char *plural,
	    resource_print_list_fn *print);
/* shield show NOUN ID: argv after option parsing holds ID. */
int	 resource_show(const struct resource *, const char *ident,
	    resource_print_fn *print);
/* shield delete NOUN ID [--yes]: confirm on a terminal, explain 409s. */
int	 resource_delete(const struct resource *, const char *ident, int yes);
/* POST body to the list path and report the new uuid. */
int	 resource_create(const struct resource *, const cJSON *body);
/* PUT body to obj's path and report it. */
int	 resource_put(const struct resource *, const cJSON *obj,
	    const cJSON *body);
/* shield edit NOUN ID: the document in $EDITOR, then a PUT. */
int	 resource_edit(const struct resource *, const char *ident,
	    resource_doc_fn *doc, resource_body_fn *body);
/* Report a POST action answered with {"ok", "task_uuid"?}. */
void	 resource_report(const char *done, const char *label,
	    const cJSON *reply);

/*
 * Copy a string member from the edited document into body, or from the
 * object when the document lacks it; -1 after printing when the document
 * holds a non-string.
 */
int	 resource_doc_string(cJSON *body, const char *key, const cJSON *doc,
	    const cJSON *obj, const char *objkey);

#endif
