/*
 * Masking an endpoint's secrets in text: collecting them here, hiding them
 * through redact_text() with a mask of fixed length for each hidden run, so
 * that secrets that overlap or repeat (a password made of one character,
 * even the mask's own) are hidden whole and the mask does not tell how long
 * a secret is.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "mask.h"
#include "redact.h"
#include "xmalloc.h"

#define MASK_NEST_MAX	4	/* remote_endpoints inside remote_endpoints */

struct mask {
	char	**secrets;
	size_t	  n;
};

/* Endpoint keys whose values are secrets, judged as shieldd does. */
static const char *const mask_marks[] = {
	"password", "secret", "token", "passwd", "key_id", "auth", NULL
};

/* 1 if the value of key is a secret, by its name or its declared type. */
static int
mask_key_secret(const char *key, const cJSON *info)
{
	const cJSON *f, *name, *type;
	size_t i;

	for (i = 0; mask_marks[i] != NULL; i++) {
		if (strcasestr(key, mask_marks[i]) != NULL)
			return 1;
	}
	cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(info,
	    "fields")) {
		name = cJSON_GetObjectItemCaseSensitive(f, "name");
		type = cJSON_GetObjectItemCaseSensitive(f, "type");
		if (cJSON_IsString(name) && cJSON_IsString(type) &&
		    strcmp(name->valuestring, key) == 0 &&
		    strcmp(type->valuestring, "password") == 0)
			return 1;
	}
	return 0;
}

/* Add the secrets of ep; a nested endpoint's plugin is not ours to know. */
static void
mask_collect(struct mask *m, const cJSON *ep, const cJSON *info, int depth)
{
	const cJSON *it;
	cJSON *inner;

	cJSON_ArrayForEach(it, ep) {
		if (it->string == NULL)
			continue;
		if (strcmp(it->string, "remote_endpoint") == 0 &&
		    depth < MASK_NEST_MAX) {
			if (cJSON_IsObject(it))
				mask_collect(m, it, NULL, depth + 1);
			else if (cJSON_IsString(it) &&
			    (inner = cJSON_Parse(it->valuestring)) != NULL) {
				mask_collect(m, inner, NULL, depth + 1);
				cJSON_Delete(inner);
			}
		}
		if (!cJSON_IsString(it) ||
		    strlen(it->valuestring) < MASK_MIN ||
		    !mask_key_secret(it->string, info))
			continue;
		m->secrets = xreallocarray(m->secrets, m->n + 1,
		    sizeof *m->secrets);
		m->secrets[m->n++] = xstrdup(it->valuestring);
	}
}

/* Collect the secrets of an endpoint. */
struct mask *
mask_new(const cJSON *endpoint, const cJSON *info)
{
	struct mask *m = xcalloc(1, sizeof *m);

	mask_collect(m, endpoint, info, 0);
	return m;
}

/* Wipe and free. */
void
mask_free(struct mask *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->n; i++) {
		OPENSSL_cleanse(m->secrets[i], strlen(m->secrets[i]));
		free(m->secrets[i]);
	}
	free(m->secrets);
	free(m);
}

/* How many secrets are known. */
size_t
mask_count(const struct mask *m)
{
	return m != NULL ? m->n : 0;
}

/* The text with the secrets masked. */
char *
mask_text(const struct mask *m, const char *text, size_t len, int cut,
    size_t *outlen)
{
	return redact_text(text, len, m != NULL ?
	    (const char *const *)m->secrets : NULL, mask_count(m),
	    REDACT_FIXED | REDACT_OVERLAP | (cut ? REDACT_CUT : 0), outlen);
}
