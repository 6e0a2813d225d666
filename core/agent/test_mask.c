/*
 * Unit tests of shield-agent's mask module: which endpoint values are
 * secrets (by key, by the plugin's declared field type, inside a nested
 * remote_endpoint) and how text is masked (repeats, overlaps, a secret of
 * the mask's own character, a line cut inside a secret).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <cJSON.h>

#include "mask.h"

/* Mask text (all of it, not cut) with the secrets of an endpoint. */
static char *
test_mask(const char *endpoint, const char *info, const char *text)
{
	cJSON *ep = cJSON_Parse(endpoint), *in = NULL;
	struct mask *m;
	size_t n;
	char *out;

	assert_non_null(ep);
	if (info != NULL)
		assert_non_null(in = cJSON_Parse(info));
	m = mask_new(ep, in);
	out = mask_text(m, text, strlen(text), 0, &n);
	assert_int_equal(n, strlen(out));
	mask_free(m);
	cJSON_Delete(ep);
	cJSON_Delete(in);
	return out;
}

/* Keys that look secret; other values stay readable. */
static void
test_mask_by_key(void **state)
{
	char *out;

	out = test_mask("{\"pg_password\": \"hunter22\", \"API_Token\": "
	    "\"tok-123\", \"base_dir\": \"/srv/data\", \"port\": 5432}", NULL,
	    "pw=hunter22 token=tok-123 in /srv/data hunter22");
	assert_string_equal(out, "pw=" MASK_TEXT " token=" MASK_TEXT
	    " in /srv/data " MASK_TEXT);
	free(out);
	/* Too short to mask: it would hide half of every message. */
	out = test_mask("{\"password\": \"ab\"}", NULL, "ab cab");
	assert_string_equal(out, "ab cab");
	free(out);
}

/* A field the plugin declares a password, whatever its name. */
static void
test_mask_by_field_type(void **state)
{
	const char *info = "{\"fields\": [{\"name\": \"vault_code\", "
	    "\"type\": \"password\"}, {\"name\": \"dir\", \"type\": "
	    "\"path\"}]}";
	char *out;

	out = test_mask("{\"vault_code\": \"v-7391\", \"dir\": \"/srv\"}",
	    info, "code v-7391 dir /srv");
	assert_string_equal(out, "code " MASK_TEXT " dir /srv");
	free(out);
	out = test_mask("{\"vault_code\": \"v-7391\"}", NULL, "code v-7391");
	assert_string_equal(out, "code v-7391");
	free(out);
}

/* An agent behind an agent: remote_endpoint as an object or a string. */
static void
test_mask_nested(void **state)
{
	char *out;

	out = test_mask("{\"remote_endpoint\": {\"redis_password\": "
	    "\"inner-pw\", \"remote_endpoint\": \"{\\\"secret\\\": "
	    "\\\"deepest\\\"}\"}}", NULL, "inner-pw and deepest");
	assert_string_equal(out, MASK_TEXT " and " MASK_TEXT);
	free(out);
	out = test_mask("{\"remote_endpoint\": \"not json\"}", NULL,
	    "not json");
	assert_string_equal(out, "not json");
	free(out);
}

/* Overlapping secrets and a secret of stars are hidden whole, once. */
static void
test_mask_overlap(void **state)
{
	char *out;

	out = test_mask("{\"password\": \"hunter22\", \"secret\": "
	    "\"ter22x\"}", NULL, "a hunter22x b");
	assert_string_equal(out, "a " MASK_TEXT " b");
	free(out);
	out = test_mask("{\"password\": \"********\"}", NULL,
	    "pw=*********** end");
	assert_string_equal(out, "pw=" MASK_TEXT " end");
	free(out);
}

/* A line cut inside a secret shows none of it. */
static void
test_mask_cut(void **state)
{
	cJSON *ep = cJSON_Parse("{\"password\": \"hunter22\"}");
	struct mask *m = mask_new(ep, NULL);
	char *out;

	assert_int_equal(mask_count(m), 1);
	out = mask_text(m, "pw=hunte", 8, 1, NULL);
	assert_string_equal(out, "pw=" MASK_TEXT);
	free(out);
	out = mask_text(m, "pw=hunte", 8, 0, NULL);
	assert_string_equal(out, "pw=hunte");
	free(out);
	out = mask_text(NULL, "pw=hunter22", 11, 1, NULL);
	assert_string_equal(out, "pw=hunter22");
	free(out);
	mask_free(m);
	cJSON_Delete(ep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mask_by_key),
		cmocka_unit_test(test_mask_by_field_type),
		cmocka_unit_test(test_mask_nested),
		cmocka_unit_test(test_mask_overlap),
		cmocka_unit_test(test_mask_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
