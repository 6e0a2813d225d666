/*
 * Checks on text from request bodies.  Every string in a body must be valid
 * UTF-8 (JSON is UTF-8, and a reply carrying anything else breaks the JSON
 * readers of every later client); names, summaries, notes and usernames
 * must also be free of control characters (C0, DEL, C1), which have no
 * business in a name and could forge log lines or drive a terminal when
 * printed.  Each refusal is a 400 naming the field.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "utf8.h"

/* 400 unless value is valid UTF-8, control-free text of at most max bytes. */
int
api_check_text(struct api_req *r, const char *field, const char *value,
    size_t max)
{
	const char *why;

	if (value == NULL)
		return 0;
	if (api_check_len(r, field, value, max) != 0)
		return -1;
	if (utf8_check_text(value, &why) != 0) {
		api_error(r, 400, "%s %s", field, why);
		return -1;
	}
	return 0;
}

/* 1 if every key and string under v is valid UTF-8. */
static int
api_json_utf8(const cJSON *v)
{
	const cJSON *c;

	if (v->string != NULL && !utf8_valid(v->string, strlen(v->string)))
		return 0;
	if (cJSON_IsString(v) && !utf8_valid(v->valuestring,
	    strlen(v->valuestring)))
		return 0;
	for (c = v->child; c != NULL; c = c->next) {
		if (!api_json_utf8(c))
			return 0;
	}
	return 1;
}

/* 400 naming the top-level field whose value holds invalid UTF-8. */
int
api_body_utf8(struct api_req *r)
{
	const cJSON *c;

	if (r->body == NULL)
		return 0;
	for (c = r->body->child; c != NULL; c = c->next) {
		if (api_json_utf8(c))
			continue;
		if (utf8_valid(c->string, strlen(c->string)))
			api_error(r, 400, "%s is not valid UTF-8", c->string);
		else
			api_error(r, 400, "a field name is not valid UTF-8");
		return -1;
	}
	return 0;
}

/* The reply text, or its repaired copy. */
char *
api_utf8_repair(char *text)
{
	char *fixed;
	size_t n;

	if ((fixed = utf8_repair(text, strlen(text), &n)) == NULL)
		return text;
	free(text);
	return fixed;
}
