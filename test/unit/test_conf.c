/*
 * The option table shared by shieldd and shield-agent: every spelling of
 * --config reads its file (--config FILE, --config=FILE, -c FILE, -cFILE),
 * flags override the file, a missing or bad file is an error even with
 * --version, and values are checked by their type.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"

struct tconf {
	char	*name;
	int	 count;
	int	 level;
	char	*config_file;
	int	 calls;
};

/* A CONF_FUNC option: counts its calls. */
static int
tconf_tick(void *arg, const char *v)
{
	struct tconf *c = arg;

	if (strcmp(v, "bad") == 0)
		return -1;
	c->calls++;
	return 0;
}

static void
tconf_usage(FILE *f)
{
	fprintf(f, "usage: tconf\n");
}

#define TOPT(f)	offsetof(struct tconf, f)
static const struct conf_option tconf_options[] = {
	{ "name", 'n', CONF_STRING, TOPT(name), 0, 0, NULL },
	{ "count", 0, CONF_NUMBER, TOPT(count), 1, 10, NULL },
	{ "log-level", 'L', CONF_LEVEL, TOPT(level), 0, 0, NULL },
	{ "tick", 0, CONF_FUNC, 0, 0, 0, tconf_tick },
	{ NULL, 0, 0, 0, 0, 0, NULL },
};
static const struct conf_spec tconf_spec = {
	"tconf", "1.0", tconf_options, TOPT(config_file), tconf_usage
};

static char conf_path[64];

/* Write a config file for one test. */
static void
write_conf(const char *text)
{
	FILE *f;
	int fd;

	strcpy(conf_path, "/tmp/test_conf.XXXXXX");
	assert_true((fd = mkstemp(conf_path)) >= 0);
	assert_non_null(f = fdopen(fd, "w"));
	fputs(text, f);
	fclose(f);
}

/* Parse argv (NULL-terminated) into c. */
static int
parse(struct tconf *c, const char **args)
{
	char *argv[16];
	int argc = 0;

	memset(c, 0, sizeof *c);
	c->count = 5;
	for (argc = 0; args[argc] != NULL; argc++)
		argv[argc] = (char *)args[argc];
	argv[argc] = NULL;
	return conf_parse(&tconf_spec, c, argc, argv);
}

static void
tconf_clear(struct tconf *c)
{
	free(c->name);
	free(c->config_file);
}

/* Every spelling of --config reads the file. */
static void
test_conf_config_spellings(void **state)
{
	char joined[96], eq[96];
	struct tconf c;
	const char *a1[] = { "t", "--config", conf_path, NULL };
	const char *a2[] = { "t", eq, NULL };
	const char *a3[] = { "t", "-c", conf_path, NULL };
	const char *a4[] = { "t", joined, NULL };
	const char **all[] = { a1, a2, a3, a4 };
	size_t i;

	(void)state;
	write_conf("# a comment\nname = from-file\n\ncount = 7\n");
	snprintf(eq, sizeof eq, "--config=%s", conf_path);
	snprintf(joined, sizeof joined, "-c%s", conf_path);
	for (i = 0; i < sizeof all / sizeof all[0]; i++) {
		assert_int_equal(parse(&c, all[i]), 0);
		assert_non_null(c.name);
		assert_string_equal(c.name, "from-file");
		assert_int_equal(c.count, 7);
		assert_string_equal(c.config_file, conf_path);
		tconf_clear(&c);
	}
	unlink(conf_path);
}

/* Flags win over the file, wherever they stand on the command line. */
static void
test_conf_flags_override_file(void **state)
{
	struct tconf c;
	char eq[96];
	const char *a1[] = { "t", "-n", "flag", eq, NULL };
	const char *a2[] = { "t", eq, "--name=flag", "--count", "2", NULL };

	(void)state;
	write_conf("name = file\ncount = 9\n");
	snprintf(eq, sizeof eq, "--config=%s", conf_path);
	assert_int_equal(parse(&c, a1), 0);
	assert_string_equal(c.name, "flag");
	assert_int_equal(c.count, 9);
	tconf_clear(&c);
	assert_int_equal(parse(&c, a2), 0);
	assert_string_equal(c.name, "flag");
	assert_int_equal(c.count, 2);
	tconf_clear(&c);
	unlink(conf_path);
}

/* A missing or bad file fails, even when --version is asked for. */
static void
test_conf_bad_file_fails(void **state)
{
	struct tconf c;
	char eq[96];
	const char *missing[] = { "t", "--config=/nonexistent/x.conf",
	    "--version", NULL };
	const char *joined[] = { "t", "-c/nonexistent/x.conf", "--version",
	    NULL };
	const char *bad[] = { "t", eq, NULL };

	(void)state;
	assert_int_equal(parse(&c, missing), -1);
	tconf_clear(&c);
	assert_int_equal(parse(&c, joined), -1);
	tconf_clear(&c);
	write_conf("unknown = 1\n");
	snprintf(eq, sizeof eq, "--config=%s", conf_path);
	assert_int_equal(parse(&c, bad), -1);
	tconf_clear(&c);
	unlink(conf_path);
	write_conf("no equals sign here\n");
	snprintf(eq, sizeof eq, "--config=%s", conf_path);
	assert_int_equal(parse(&c, bad), -1);
	tconf_clear(&c);
	unlink(conf_path);
}

/* Values are checked by type; functions get their value. */
static void
test_conf_types(void **state)
{
	struct tconf c;
	const char *big[] = { "t", "--count", "11", NULL };
	const char *notnum[] = { "t", "--count=3x", NULL };
	const char *empty[] = { "t", "--name=", NULL };
	const char *lvl[] = { "t", "-L", "debug", NULL };
	const char *badlvl[] = { "t", "-L", "loud", NULL };
	const char *ticks[] = { "t", "--tick", "a", "--tick=b", NULL };
	const char *badtick[] = { "t", "--tick", "bad", NULL };
	const char *extra[] = { "t", "stray", NULL };
	const char *unknown[] = { "t", "--nope", NULL };
	const char *version[] = { "t", "-V", NULL };

	(void)state;
	assert_int_equal(parse(&c, big), -1);
	tconf_clear(&c);
	assert_int_equal(parse(&c, notnum), -1);
	tconf_clear(&c);
	assert_int_equal(parse(&c, empty), -1);
	tconf_clear(&c);
	assert_int_equal(parse(&c, lvl), 0);
	assert_int_equal(c.level, LOG_LEVEL_DEBUG);
	tconf_clear(&c);
	assert_int_equal(parse(&c, badlvl), -1);
	tconf_clear(&c);
	assert_int_equal(parse(&c, ticks), 0);
	assert_int_equal(c.calls, 2);
	tconf_clear(&c);
	assert_int_equal(parse(&c, badtick), -1);
	tconf_clear(&c);
	assert_int_equal(parse(&c, extra), -1);
	tconf_clear(&c);
	assert_int_equal(parse(&c, unknown), -1);
	tconf_clear(&c);
	assert_int_equal(parse(&c, version), 1);
	tconf_clear(&c);
}

/*
 * A line longer than CONF_LINE_MAX is refused whole: its tail never becomes
 * an option of its own (as "count = 3" did here, found by fuzzing).
 */
static void
test_conf_long_line_refused(void **state)
{
	struct tconf c;
	char eq[96], text[CONF_LINE_MAX + 64];
	const char *a[] = { "t", eq, NULL };
	size_t n;

	(void)state;
	n = (size_t)snprintf(text, sizeof text, "name = ");
	memset(text + n, 'x', CONF_LINE_MAX - 1 - n);
	strcpy(text + CONF_LINE_MAX - 1, "count = 3\n");
	write_conf(text);
	snprintf(eq, sizeof eq, "--config=%s", conf_path);
	assert_int_equal(parse(&c, a), -1);
	assert_int_equal(c.count, 5);
	tconf_clear(&c);
	unlink(conf_path);
	/* A line of exactly CONF_LINE_MAX bytes, newline included, is read. */
	memset(text + n, 'x', CONF_LINE_MAX - 1 - n);
	strcpy(text + CONF_LINE_MAX - 1, "\n");
	write_conf(text);
	snprintf(eq, sizeof eq, "--config=%s", conf_path);
	assert_int_equal(parse(&c, a), 0);
	assert_int_equal(strlen(c.name), CONF_LINE_MAX - 1 - n);
	tconf_clear(&c);
	unlink(conf_path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conf_config_spellings),
		cmocka_unit_test(test_conf_flags_override_file),
		cmocka_unit_test(test_conf_bad_file_fails),
		cmocka_unit_test(test_conf_types),
		cmocka_unit_test(test_conf_long_line_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
