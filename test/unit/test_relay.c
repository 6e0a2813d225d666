/*
 * The relay alone, over real pipes: what it reads is counted, hashed and
 * written on; while verifying it holds back its last RELAY_HOLD bytes until
 * the whole stream matched; a mismatch or an overrun is said, and the held
 * tail is never written then.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "relay.h"

/* A SHA-256 that the streams here do not have. */
static const char *const sha_other =
    "5c9f1d8bbae6d1a8a7a5eb2ba4b1e5c5d3c1b2a81e7e86bd23e3f2a3a1f7d9f0";

/* A non-blocking pipe. */
static void
pipe_nb(int fds[2])
{
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
	assert_int_equal(fcntl(fds[1], F_SETFL, O_NONBLOCK), 0);
}

/* Feed n bytes of 'x' through r from a pipe to a pipe; what came out. */
static size_t
pump(struct relay *r, size_t n, int out[2])
{
	char *data = malloc(n), sink[65536];
	size_t sent = 0, got = 0;
	int in[2], eof = 0;
	ssize_t k;

	memset(data, 'x', n);
	pipe_nb(in);
	pipe_nb(out);
	while (!eof) {
		if (sent < n && (k = write(in[1], data + sent, n - sent)) > 0)
			sent += k;
		if (sent == n && in[1] != -1) {
			close(in[1]);
			in[1] = -1;
		}
		k = relay_read(r, in[0]);
		if (k == 0)
			eof = 1;
		else if (k < 0)
			assert_int_equal(errno, EAGAIN);
		assert_int_not_equal(relay_write(r, out[1]), -1);
		while ((k = read(out[0], sink, sizeof sink)) > 0)
			got += k;
	}
	close(in[0]);
	free(data);
	return got;
}

/* Drain what the relay still writes. */
static size_t
drain(struct relay *r, int out[2])
{
	char sink[65536];
	size_t got = 0;
	ssize_t k;

	assert_int_equal(relay_write(r, out[1]), 0);
	while ((k = read(out[0], sink, sizeof sink)) > 0)
		got += k;
	return got;
}

/* Without verification everything goes on at once. */
static void
test_relay_passes_everything(void **state)
{
	struct relay *r = relay_new(NULL, 0);
	char why[256];
	int out[2];

	(void)state;
	assert_int_equal(pump(r, 200000, out), 200000);
	assert_int_equal(relay_bytes(r), 200000);
	assert_int_equal(relay_pending(r), 0);
	assert_int_equal(relay_verify(r, why, sizeof why), 0);
	assert_int_equal(strlen(relay_sha256(r)), 64);
	close(out[0]);
	close(out[1]);
	relay_free(r);
}

/* Verifying: the tail waits for the check, then goes on. */
static void
test_relay_holds_tail_until_verified(void **state)
{
	struct relay *plain = relay_new(NULL, 0), *r;
	char why[256], sha[65];
	int out[2];

	(void)state;
	pump(plain, 200000, out);
	close(out[0]);
	close(out[1]);
	snprintf(sha, sizeof sha, "%s", relay_sha256(plain));
	relay_free(plain);

	r = relay_new(sha, 200000);
	assert_int_equal(pump(r, 200000, out), 200000 - RELAY_HOLD);
	assert_int_equal(relay_pending(r), RELAY_HOLD);
	assert_int_equal(relay_verify(r, why, sizeof why), 0);
	assert_int_equal(drain(r, out), RELAY_HOLD);
	close(out[0]);
	close(out[1]);
	relay_free(r);
}

/* A wrong hash or size: said, and the tail stays held. */
static void
test_relay_mismatch_keeps_tail(void **state)
{
	struct relay *r = relay_new(sha_other, 200000);
	char why[256];
	int out[2];

	(void)state;
	assert_int_equal(pump(r, 200000, out), 200000 - RELAY_HOLD);
	assert_int_equal(relay_verify(r, why, sizeof why), -1);
	assert_non_null(strstr(why, "checksum mismatch"));
	assert_int_equal(drain(r, out), 0);
	close(out[0]);
	close(out[1]);
	relay_free(r);

	r = relay_new(sha_other, 1000);
	pump(r, 200000, out);
	assert_int_equal(relay_too_long(r, why, sizeof why), 1);
	assert_non_null(strstr(why, "size mismatch: archive has 1000 bytes"));
	close(out[0]);
	close(out[1]);
	relay_free(r);
}

/* A preloaded input goes on whole and is not counted. */
static void
test_relay_preload(void **state)
{
	struct relay *r = relay_new(NULL, 0);
	char buf[16];
	int out[2];

	(void)state;
	pipe_nb(out);
	relay_preload(r, "{\"a\":1}", 7);
	assert_int_equal(relay_write(r, out[1]), 0);
	assert_int_equal(read(out[0], buf, sizeof buf), 7);
	assert_int_equal(relay_bytes(r), 0);
	assert_int_equal(relay_pending(r), 0);
	close(out[0]);
	close(out[1]);
	relay_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relay_passes_everything),
		cmocka_unit_test(test_relay_holds_tail_until_verified),
		cmocka_unit_test(test_relay_mismatch_keeps_tail),
		cmocka_unit_test(test_relay_preload),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
