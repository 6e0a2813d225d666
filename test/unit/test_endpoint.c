/*
 * The daemon's endpoint limits on a real directory tree: *_bindir only in
 * the allowed directories (globs, symlinks and `..` resolved first), fs
 * base_dir never /, never holding the catalog, never holding or inside the
 * plugin and web directories, inside --fs-roots when set (targets only),
 * and store keys that cannot pass for options or carry control bytes.
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
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "endpoint.h"

static char top[256];		/* a fresh temporary directory */

/* top/rel as a static string (one at a time). */
static const char *
at(const char *rel)
{
	static char buf[2][PATH_MAX];
	static int i;

	i ^= 1;
	snprintf(buf[i], sizeof buf[i], "%s/%s", top, rel);
	return buf[i];
}

/* endpoint_check() on one JSON endpoint; 0 or -1, reasons in *why. */
static int
check(const struct shieldd_config *cfg, const char *plugin, int is_target,
    const char *json, char **why)
{
	free(*why);
	*why = NULL;
	return endpoint_check(cfg, plugin, is_target, json, why);
}

/* {"KEY": "VALUE"} in a static buffer. */
static const char *
ep1(const char *key, const char *value)
{
	static char buf[PATH_MAX + 64];

	snprintf(buf, sizeof buf, "{\"%s\": \"%s\"}", key, value);
	return buf;
}

static int
setup(void **state)
{
	(void)state;
	snprintf(top, sizeof top, "/tmp/shield-endpoint.XXXXXX");
	if (mkdtemp(top) == NULL)
		return -1;
	if (mkdir(at("bin"), 0755) || mkdir(at("pg"), 0755) ||
	    mkdir(at("pg/15"), 0755) || mkdir(at("pg/15/bin"), 0755) ||
	    mkdir(at("evil"), 0755) || mkdir(at("var"), 0755) ||
	    mkdir(at("var/lib"), 0755) || mkdir(at("var/lib/shield"), 0755) ||
	    mkdir(at("plugins"), 0755) || mkdir(at("web"), 0755) ||
	    mkdir(at("srv"), 0755) || mkdir(at("srv/data"), 0755))
		return -1;
	if (symlink("bin", at("binlink")) || symlink("/", at("rootlink")) ||
	    symlink("var/lib", at("liblink")) ||
	    symlink("/nonexistent-shield/..", at("dangling")))
		return -1;
	return 0;
}

static int
teardown(void **state)
{
	char cmd[PATH_MAX + 16];

	(void)state;
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", top);
	return system(cmd) == 0 ? 0 : -1;
}

/* The configuration the tests run under. */
static void
config(struct shieldd_config *cfg, char *bins, char *roots)
{
	static char db[PATH_MAX], plugins[PATH_MAX], web[PATH_MAX];

	memset(cfg, 0, sizeof *cfg);
	snprintf(db, sizeof db, "%s", at("var/lib/shield/shield.db"));
	snprintf(plugins, sizeof plugins, "%s", at("plugins"));
	snprintf(web, sizeof web, "%s", at("web"));
	cfg->db = db;
	cfg->plugins = plugins;
	cfg->web = web;
	cfg->bin_dirs = bins;
	cfg->fs_roots = roots;
}

static void
test_endpoint_bindir(void **state)
{
	struct shieldd_config cfg;
	char bins[2 * PATH_MAX + 2], *why = NULL;

	(void)state;
	snprintf(bins, sizeof bins, "%s:%s", at("bin"), at("pg/*/bin"));
	config(&cfg, bins, NULL);
	assert_int_equal(check(&cfg, "postgres", 1, ep1("pg_bindir",
	    at("bin")), &why), 0);
	assert_int_equal(check(&cfg, "postgres", 1, ep1("pg_bindir",
	    at("pg/15/bin")), &why), 0);
	/* Symlinks and .. are resolved before comparing, both ways. */
	assert_int_equal(check(&cfg, "mysql", 1, ep1("mysql_bindir",
	    at("binlink")), &why), 0);
	assert_int_equal(check(&cfg, "redis", 1, ep1("redis_bindir",
	    at("evil/../bin/")), &why), 0);
	assert_int_equal(check(&cfg, "postgres", 1, ep1("pg_bindir",
	    at("bin/../evil")), &why), -1);
	assert_non_null(strstr(why, "is not one of the directories"));
	assert_non_null(strstr(why, "--bin-dirs"));
	/* A glob matches one component, not a subtree or a parent. */
	assert_int_equal(check(&cfg, "postgres", 1, ep1("pg_bindir",
	    at("pg/15")), &why), -1);
	assert_int_equal(check(&cfg, "x", 0, ep1("x_bindir", at("pg")), &why),
	    -1);
	/* Missing, relative, of the wrong type; unset is fine. */
	assert_int_equal(check(&cfg, "postgres", 1, ep1("pg_bindir",
	    "/nonexistent/bin"), &why), -1);
	assert_string_equal(why, "pg_bindir /nonexistent/bin is not a "
	    "directory");
	assert_int_equal(check(&cfg, "postgres", 1, ep1("pg_bindir", "bin"),
	    &why), -1);
	assert_non_null(strstr(why, "absolute"));
	assert_int_equal(check(&cfg, "postgres", 1, "{\"pg_bindir\": 5}",
	    &why), -1);
	assert_int_equal(check(&cfg, "postgres", 1, ep1("pg_bindir", ""),
	    &why), 0);
	assert_int_equal(check(&cfg, "postgres", 1, "{\"pg_bindir\": null}",
	    &why), 0);
	/* Every reason, one per line. */
	assert_int_equal(check(&cfg, "x", 1, "{\"a_bindir\": \"/nonexistent\","
	    "\"b_bindir\": \"rel\"}", &why), -1);
	assert_non_null(strchr(why, '\n'));
	/* The default list, for the real directories of this host. */
	config(&cfg, NULL, NULL);
	assert_int_equal(check(&cfg, "postgres", 1, ep1("pg_bindir",
	    "/usr/bin"), &why), 0);
	assert_int_equal(check(&cfg, "postgres", 1, ep1("pg_bindir",
	    at("bin")), &why), -1);
	assert_non_null(strstr(why, ENDPOINT_BIN_DIRS));
	free(why);
}

static void
test_endpoint_fs_base_dir(void **state)
{
	struct shieldd_config cfg;
	char *why = NULL;

	(void)state;
	config(&cfg, NULL, NULL);
	assert_int_equal(check(&cfg, "fs", 1, ep1("base_dir", at("srv/data")),
	    &why), 0);
	assert_int_equal(check(&cfg, "fs", 1, ep1("base_dir",
	    at("srv/not-yet/there")), &why), 0);
	/* /, and whatever resolves to it. */
	assert_int_equal(check(&cfg, "fs", 1, ep1("base_dir", "/"), &why), -1);
	assert_non_null(strstr(why, "must not be /"));
	assert_int_equal(check(&cfg, "fs", 1, ep1("base_dir", "//"), &why), -1);
	assert_int_equal(check(&cfg, "fs", 1, ep1("base_dir", "/tmp/.."),
	    &why), -1);
	assert_int_equal(check(&cfg, "fs", 1, ep1("base_dir", at("rootlink")),
	    &why), -1);
	assert_int_equal(check(&cfg, "fs", 1, ep1("base_dir",
	    "/nonexistent-shield/.."), &why), -1);
	assert_int_equal(check(&cfg, "fs", 1, ep1("base_dir", at("dangling")),
	    &why), -1);
	/* As a store too: the plugin refuses / for both. */
	assert_int_equal(check(&cfg, "fs", 0, ep1("base_dir", "/"), &why), -1);
	/* The catalog's directory and any parent of it, the catalog files. */
	assert_int_equal(check(&cfg, "fs", 1, ep1("base_dir",
	    at("var/lib/shield")), &why), -1);
	assert_non_null(strstr(why, "holds shieldd's catalog"));
	assert_int_equal(check(&cfg, "fs", 1, ep1("base_dir", at("liblink")),
	    &why), -1);
	assert_int_equal(check(&cfg, "fs", 1, ep1("base_dir", top), &why), -1);
	assert_int_equal(check(&cfg, "fs", 1, ep1("base_dir",
	    at("var/lib/shield/shield.db-wal")), &why), -1);
	assert_non_null(strstr(why, "catalog files"));
	/* Beside the catalog is where `make run` keeps its demo data. */
	assert_int_equal(check(&cfg, "fs", 1, ep1("base_dir",
	    at("var/lib/shield/demo-data")), &why), 0);
	/* The plugin and web directories, their parents and their insides. */
	assert_int_equal(check(&cfg, "fs", 1, ep1("base_dir", at("plugins")),
	    &why), -1);
	assert_non_null(strstr(why, "plugin directory"));
	assert_int_equal(check(&cfg, "fs", 1, ep1("base_dir", at("plugins/fs")),
	    &why), -1);
	assert_int_equal(check(&cfg, "fs", 0, ep1("base_dir", at("web/x")),
	    &why), -1);
	assert_non_null(strstr(why, "web directory"));
	/* Other plugins' base_dir and relative paths are not ours to judge. */
	assert_int_equal(check(&cfg, "example", 1, ep1("base_dir", "/"), &why),
	    0);
	assert_int_equal(check(&cfg, "fs", 1, ep1("base_dir", "rel"), &why), 0);
	assert_int_equal(check(&cfg, "fs", 1, "not json", &why), 0);
	free(why);
}

/* A --key-file outside the catalog's directory is shieldd's too. */
static void
test_endpoint_fs_key_file(void **state)
{
	struct shieldd_config cfg;
	char key[PATH_MAX], *why = NULL;

	(void)state;
	config(&cfg, NULL, NULL);
	snprintf(key, sizeof key, "%s", at("srv/data/master.key"));
	assert_int_equal(check(&cfg, "fs", 1, ep1("base_dir", at("srv/data")),
	    &why), 0);
	cfg.key_file = key;
	assert_int_equal(check(&cfg, "fs", 1, ep1("base_dir", at("srv/data")),
	    &why), -1);
	assert_non_null(strstr(why, "holds shieldd's master key"));
	assert_int_equal(check(&cfg, "fs", 0, ep1("base_dir", at("srv")),
	    &why), -1);
	assert_int_equal(check(&cfg, "fs", 1, ep1("base_dir", key), &why), -1);
	/* A neighbour of the key's directory is fine. */
	assert_int_equal(check(&cfg, "fs", 1, ep1("base_dir", at("evil")),
	    &why), 0);
	free(why);
}

static void
test_endpoint_fs_roots(void **state)
{
	struct shieldd_config cfg;
	char roots[2 * PATH_MAX + 2], *why = NULL;

	(void)state;
	snprintf(roots, sizeof roots, "%s:%s", at("srv"), at("nowhere"));
	config(&cfg, NULL, roots);
	assert_int_equal(check(&cfg, "fs", 1, ep1("base_dir", at("srv")),
	    &why), 0);
	assert_int_equal(check(&cfg, "fs", 1, ep1("base_dir",
	    at("srv/data/new")), &why), 0);
	assert_int_equal(check(&cfg, "fs", 1, ep1("base_dir", at("srvx")),
	    &why), -1);
	assert_non_null(strstr(why, "outside the directories fs targets may "
	    "use (--fs-roots"));
	assert_int_equal(check(&cfg, "fs", 1, ep1("base_dir",
	    at("srv/../evil")), &why), -1);
	assert_int_equal(check(&cfg, "fs", 1, ep1("base_dir", at("binlink")),
	    &why), -1);
	/* Stores are not bound by --fs-roots. */
	assert_int_equal(check(&cfg, "fs", 0, ep1("base_dir", at("evil")),
	    &why), 0);
	free(why);
}

static void
test_endpoint_keys(void **state)
{
	char buf[64];

	(void)state;
	assert_null(endpoint_key_check("2026/01/31/20260131T120000Z-4b0f"));
	assert_null(endpoint_key_check("prefix/x-y_z.tar"));
	assert_null(endpoint_key_check("caf\xc3\xa9/\xe2\x9c\x93/"
	    "\xf0\x9f\x98\x80"));
	assert_null(endpoint_key_check("a-b"));
	assert_non_null(endpoint_key_check(""));
	assert_non_null(endpoint_key_check(NULL));
	assert_non_null(strstr(endpoint_key_check("--endpoint"), "'-'"));
	assert_non_null(endpoint_key_check("-"));
	assert_non_null(endpoint_key_check("a\nb"));
	assert_non_null(endpoint_key_check("a\tb"));
	assert_non_null(endpoint_key_check("a\x1b[31m"));
	assert_non_null(endpoint_key_check("a\x7f"));
	assert_non_null(endpoint_key_check("a\xc2\x85"));	/* NEL */
	assert_non_null(endpoint_key_check("a\xff"));
	assert_non_null(endpoint_key_check("a\xc3"));
	assert_non_null(endpoint_key_check("a\xc0\xaf"));	/* overlong / */
	assert_non_null(endpoint_key_check("a\xed\xa0\x80"));	/* surrogate */
	assert_non_null(endpoint_key_check("a\xf4\x90\x80\x80"));
	endpoint_key_quote("ok/key", buf, sizeof buf);
	assert_string_equal(buf, "ok/key");
	endpoint_key_quote("-a\nb\\\xff", buf, sizeof buf);
	assert_string_equal(buf, "-a\\x0ab\\x5c\\xff");
	endpoint_key_quote("0123456789012345678901234567890123456789"
	    "0123456789012345678901234567890123456789", buf, 16);
	assert_int_equal(strlen(buf), 11);
	assert_string_equal(buf + 8, "...");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoint_bindir),
		cmocka_unit_test(test_endpoint_fs_base_dir),
		cmocka_unit_test(test_endpoint_fs_key_file),
		cmocka_unit_test(test_endpoint_fs_roots),
		cmocka_unit_test(test_endpoint_keys),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
