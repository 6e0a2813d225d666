/*
 * mask: the secrets of one request's endpoint, hidden in what shield-agent
 * logs and relays, so that a plugin that prints its password shows it to
 * nobody.  A value is a secret when its key looks like one (password,
 * secret, token, ...: as shieldd judges keys) or when the plugin's info
 * declares that field with type "password"; a nested remote_endpoint (an
 * agent reached through this one), an object or a string holding one, is
 * searched too.  Each masked stretch of text becomes MASK_TEXT.
 *
 * Ownership: a mask owns copies of the secrets and wipes them when freed;
 * texts it returns belong to the caller.
 */
#ifndef SHIELD_MASK_H
#define SHIELD_MASK_H

#include <stddef.h>

#include <cJSON.h>

#include "redact.h"

#define MASK_TEXT	REDACT_TEXT
#define MASK_MIN	3	/* shorter values would hide half of every line */

struct mask;

/* Collect from an endpoint object and its plugin's info (may be NULL). */
struct mask	*mask_new(const cJSON *endpoint, const cJSON *info);
void		 mask_free(struct mask *);
/* How many secrets the mask knows. */
size_t		 mask_count(const struct mask *);
/*
 * A copy of the len bytes of text, NUL-terminated, with every secret
 * masked; its length in *outlen (may be NULL).  With cut set, the text was
 * cut short after len bytes, so an end that may be the start of a secret
 * is masked too.  A NULL mask masks nothing.
 */
char		*mask_text(const struct mask *, const char *text, size_t len,
		    int cut, size_t *outlen);

#endif
