/*
 * UUID generation and validation on top of libuuid.
 */
#include <ctype.h>
#include <string.h>
#include <uuid/uuid.h>

#include "id.h"

/* Generate a random (version 4) UUID. */
void
id_new(id_buf out)
{
	uuid_t u;

	uuid_generate_random(u);
	uuid_unparse_lower(u, out);
}

/* Check the 8-4-4-4-12 hex layout without allocating. */
int
id_valid(const char *s)
{
	size_t i;

	if (s == NULL || strlen(s) != ID_LEN)
		return 0;
	for (i = 0; i < ID_LEN; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i]))
			return 0;
	}
	return 1;
}

/* Fold a UUID to the lowercase form the catalog stores. */
void
id_lower(char *s)
{
	for (; s != NULL && *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}
