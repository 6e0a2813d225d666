/*
 * libFuzzer target for the redis plugin's RESP reply parser: the input is
 * what a server sends, written into one end of a socket pair and read back
 * reply by reply with resp_read() until it fails.  Whatever parses must be a
 * well-formed reply tree no bigger than the input; the end must come with a
 * reason; memory must stay in proportion to the bytes actually received,
 * whatever lengths the replies claim.
 */
#include <sys/socket.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "resp.h"

#define FUZZ_RESP_MAX	(64 * 1024)	/* fits a socket pair's buffer */

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Check one reply and return the payload bytes it holds. */
static size_t
fuzz_resp_check(const struct resp_reply *r, int depth)
{
	size_t i, n = 0;

	if (r == NULL || depth > 16)
		abort();
	switch (r->type) {
	case RESP_STATUS:
	case RESP_ERROR:
	case RESP_BULK:
		if (r->str == NULL || r->str[r->len] != '\0' ||
		    r->elements != 0)
			abort();
		if (r->type != RESP_BULK && memchr(r->str, '\n', r->len))
			abort();
		return r->len;
	case RESP_INTEGER:
	case RESP_NIL:
		if (r->str != NULL || r->elements != 0)
			abort();
		return 1;
	case RESP_ARRAY:
		if (r->str != NULL || (r->elements > 0 && r->element == NULL))
			abort();
		for (i = 0; i < r->elements; i++)
			n += fuzz_resp_check(r->element[i], depth + 1);
		return n + 1;
	default:
		abort();
	}
}

/* Feed one server's bytes to the parser. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct resp_reply *r;
	struct resp *c;
	size_t off = 0, held = 0;
	ssize_t n;
	int sv[2];

	if (size > FUZZ_RESP_MAX)
		return 0;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0)
		abort();
	while (off < size) {
		if ((n = write(sv[0], data + off, size - off)) <= 0)
			abort();
		off += (size_t)n;
	}
	shutdown(sv[0], SHUT_WR);
	c = resp_new(sv[1]);
	while ((r = resp_read(c)) != NULL) {
		held += fuzz_resp_check(r, 0);
		resp_reply_free(r);
		if (held > size)
			abort();
	}
	/* The end of the input or a protocol error, always with a reason. */
	if (resp_error(c)[0] == '\0')
		abort();
	resp_free(c);
	close(sv[0]);
	return 0;
}
