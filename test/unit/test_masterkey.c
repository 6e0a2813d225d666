/*
 * Unit tests for key files: a written key reads back the same, mode 0600
 * under any umask; an existing file is never overwritten; every malformed
 * file is refused with a message naming it; the key id matches the
 * documented computation.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "masterkey.h"

/* 32 bytes 0x00..0x1f and its key file. */
#define HEX_KEY	"000102030405060708090a0b0c0d0e0f" \
		"101112131415161718191a1b1c1d1e1f"

struct fixture {
	char	dir[PATH_MAX];
	char	path[PATH_MAX + 16];
};

/* A temporary directory; path names a key file in it. */
static int
setup(void **state)
{
	struct fixture *fx;

	fx = calloc(1, sizeof *fx);
	assert_non_null(fx);
	snprintf(fx->dir, sizeof fx->dir, "/tmp/shield-masterkey-XXXXXX");
	assert_non_null(mkdtemp(fx->dir));
	snprintf(fx->path, sizeof fx->path, "%s/k.key", fx->dir);
	*state = fx;
	return 0;
}

/* Removes the key file and the directory. */
static int
teardown(void **state)
{
	struct fixture *fx = *state;

	unlink(fx->path);
	rmdir(fx->dir);
	free(fx);
	return 0;
}

/* Writes text as the key file. */
static void
put(const char *path, const char *text)
{
	FILE *f;

	unlink(path);
	assert_non_null(f = fopen(path, "w"));
	assert_int_equal(fwrite(text, 1, strlen(text), f), strlen(text));
	assert_int_equal(fclose(f), 0);
}

/* A written key reads back; the file is 0600 under umask 000 and exact. */
static void
test_masterkey_round_trip(void **state)
{
	struct fixture *fx = *state;
	unsigned char key[MASTERKEY_SIZE], back[MASTERKEY_SIZE];
	char text[128], *err = NULL;
	struct stat st;
	mode_t old;
	ssize_t n;
	int fd;

	masterkey_generate(key);
	old = umask(0);
	assert_int_equal(masterkey_write(fx->path, key, &err), 0);
	umask(old);
	assert_null(err);
	assert_int_equal(stat(fx->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(masterkey_read(fx->path, back, &err), 0);
	assert_memory_equal(key, back, sizeof key);

	assert_true((fd = open(fx->path, O_RDONLY)) != -1);
	n = read(fd, text, sizeof text - 1);
	close(fd);
	assert_int_equal(n, 65);
	text[n] = '\0';
	assert_int_equal(strspn(text, "0123456789abcdef"), 64);
	assert_int_equal(text[64], '\n');
}

/* An existing file is never replaced. */
static void
test_masterkey_no_overwrite(void **state)
{
	struct fixture *fx = *state;
	unsigned char key[MASTERKEY_SIZE], back[MASTERKEY_SIZE];
	char *err = NULL;

	put(fx->path, HEX_KEY "\n");
	memset(key, 0xee, sizeof key);
	assert_int_equal(masterkey_write(fx->path, key, &err), -1);
	assert_non_null(err);
	assert_non_null(strstr(err, fx->path));
	free(err);
	assert_int_equal(masterkey_read(fx->path, back, NULL), 0);
	assert_int_equal(back[0], 0x00);
	assert_int_equal(back[31], 0x1f);
}

/* Wrong length, non-hex, upper case, extra bytes and missing files fail. */
static void
test_masterkey_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"\n",
		"000102030405060708090a0b0c0d0e0f\n",
		HEX_KEY "00\n",
		HEX_KEY "\n\n",
		HEX_KEY " \n",
		" " HEX_KEY "\n",
		"0001020304050607080g0a0b0c0d0e0f"
		    "101112131415161718191a1b1c1d1e1f\n",
		"000102030405060708090A0B0C0D0E0F"
		    "101112131415161718191A1B1C1D1E1F\n",
	};
	struct fixture *fx = *state;
	unsigned char key[MASTERKEY_SIZE];
	char *err;
	size_t i;

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		put(fx->path, bad[i]);
		err = NULL;
		assert_int_equal(masterkey_read(fx->path, key, &err), -1);
		assert_non_null(err);
		assert_non_null(strstr(err, fx->path));
		assert_non_null(strstr(err, "not a SHIELD key file"));
		free(err);
	}
	/* Without its newline the file is still the key. */
	put(fx->path, HEX_KEY);
	assert_int_equal(masterkey_read(fx->path, key, NULL), 0);
	assert_int_equal(key[16], 0x10);
	unlink(fx->path);
	err = NULL;
	assert_int_equal(masterkey_read(fx->path, key, &err), -1);
	assert_non_null(strstr(err, fx->path));
	free(err);
}

/* The id is BLAKE2b-256("SHIELD key id v1", key)[0..8] in hex. */
static void
test_masterkey_id(void **state)
{
	unsigned char key[MASTERKEY_SIZE], h[32];
	char id[MASTERKEY_ID_LEN + 1], want[MASTERKEY_ID_LEN + 1];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof key; i++)
		key[i] = (unsigned char)i;
	masterkey_id(key, id);
	assert_int_equal(strlen(id), MASTERKEY_ID_LEN);
	assert_int_equal(strspn(id, "0123456789abcdef"), MASTERKEY_ID_LEN);
	crypto_generichash(h, sizeof h, (const unsigned char *)
	    "SHIELD key id v1", 16, key, sizeof key);
	sodium_bin2hex(want, sizeof want, h, 8);
	assert_string_equal(id, want);
	key[31] ^= 1;
	masterkey_id(key, want);
	assert_string_not_equal(id, want);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_masterkey_round_trip),
		T(test_masterkey_no_overwrite),
		T(test_masterkey_malformed),
		T(test_masterkey_id),
#undef T
	};

	if (sodium_init() < 0)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
