/*
 * libFuzzer target for the parser of a store's `store` output, where the
 * store plugin names the archive it wrote ({"key": "..."}).  A key it
 * returns must be the non-empty string of that member, shorter than 4096
 * bytes; anything else must give no key.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cJSON.h>

#include "supervisor.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Parse one output and check the key against the JSON it came from. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const cJSON *k;
	cJSON *o;
	char *text, *key;

	text = malloc(size + 1);
	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	key = supervisor_store_key(text);
	if (key != NULL) {
		o = cJSON_Parse(text);
		k = cJSON_GetObjectItemCaseSensitive(o, "key");
		if (!cJSON_IsString(k) || strcmp(k->valuestring, key) != 0 ||
		    key[0] == '\0' || strlen(key) >= 4096)
			abort();
		cJSON_Delete(o);
		free(key);
	}
	free(text);
	return 0;
}
