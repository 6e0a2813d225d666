/*
 * Unit tests of the plugin kit's endpoint accessors, run the way a plugin
 * runs them: plugin_main() parses a real command line and calls the action,
 * which reads the endpoint.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "plugin.h"

/* What the backup action read with plugin_ep_opt(), "(null)" for NULL. */
static char	test_got[4][64];

static const struct plugin_field test_fields[] = {
	{ "set", "string", 0, NULL, "a value", NULL, NULL },
	{ "empty", "string", 0, NULL, "sent empty", NULL, NULL },
	{ "absent", "string", 0, NULL, "not sent", NULL, NULL },
	{ "defaulted", "path", 0, "/usr/bin", "not sent, has a default",
	    NULL, NULL },
	{ NULL, NULL, 0, NULL, NULL, NULL, NULL }
};

static const char *const test_keys[] = { "set", "empty", "absent",
    "defaulted" };

/* The action: record each key as plugin_ep_opt() reads it. */
static int
test_backup(const cJSON *ep)
{
	const char *v;
	size_t i;

	for (i = 0; i < 4; i++) {
		v = plugin_ep_opt(ep, test_keys[i]);
		snprintf(test_got[i], sizeof test_got[i], "%s",
		    v != NULL ? v : "(null)");
	}
	return 0;
}

static const struct plugin_def test_def = {
	"Test", "test", "SHIELD", "1", "A plugin for the kit's tests.",
	test_fields, NULL, test_backup, NULL, NULL, NULL, NULL
};

/* Run "test backup --endpoint JSON" through plugin_main(). */
static int
test_run(const char *endpoint)
{
	char *argv[] = { "test", "backup", "--endpoint", (char *)endpoint,
	    NULL };

	memset(test_got, 0, sizeof test_got);
	return plugin_main(&test_def, 4, argv);
}

/* A value is itself; empty and missing are unset; a default still counts. */
static void
test_plugin_ep_opt(void **state)
{
	(void)state;
	assert_int_equal(test_run("{\"set\":\"db1\",\"empty\":\"\"}"), 0);
	assert_string_equal(test_got[0], "db1");
	assert_string_equal(test_got[1], "(null)");
	assert_string_equal(test_got[2], "(null)");
	assert_string_equal(test_got[3], "/usr/bin");
}

/* A sent value wins over the default, and a sent "" unsets it. */
static void
test_plugin_ep_opt_default(void **state)
{
	(void)state;
	assert_int_equal(test_run("{\"defaulted\":\"/opt/bin\"}"), 0);
	assert_string_equal(test_got[3], "/opt/bin");
	assert_int_equal(test_run("{\"defaulted\":\"\"}"), 0);
	assert_string_equal(test_got[3], "(null)");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plugin_ep_opt),
		cmocka_unit_test(test_plugin_ep_opt_default),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
