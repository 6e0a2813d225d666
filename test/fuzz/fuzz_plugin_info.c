/*
 * libFuzzer target for the parser of a plugin's `info` output (what the
 * plugin printed on stdout, NUL-terminated as the pipeline hands it over).
 * What it keeps must be a JSON object with a "features" object and exactly
 * one "plugin" member, in any letter case, naming the plugin it was read
 * from, so that no plugin's info can pass for another's; it must print
 * back to JSON.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cJSON.h>

#include "plugins.h"

#define FUZZ_NAME	"fuzzed"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Parse one output and check what is kept. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const cJSON *it, *name = NULL;
	cJSON *info;
	char *text, *out;
	int n = 0;

	text = malloc(size + 1);
	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	info = plugins_info_parse(text, FUZZ_NAME);
	free(text);
	if (info == NULL)
		return 0;
	if (!cJSON_IsObject(info) || !cJSON_IsObject(
	    cJSON_GetObjectItemCaseSensitive(info, "features")))
		abort();
	cJSON_ArrayForEach(it, info) {
		if (it->string != NULL && strcasecmp(it->string, "plugin") ==
		    0) {
			name = it;
			n++;
		}
	}
	if (n != 1 || !cJSON_IsString(name) || strcmp(name->string,
	    "plugin") != 0 || strcmp(name->valuestring, FUZZ_NAME) != 0)
		abort();
	if ((out = cJSON_PrintUnformatted(info)) == NULL)
		abort();
	free(out);
	cJSON_Delete(info);
	return 0;
}
