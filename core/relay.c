/*
 * The relay's buffer: each read from the producer is hashed and counted and
 * then written straight on; only a partial write or the held-back tail
 * stays in the buffer, so memory is one fixed buffer whatever the stream's
 * size.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "log.h"
#include "relay.h"
#include "xmalloc.h"

#define RELAY_BUFSIZE	(1024 * 1024)	/* the buffer */
#define RELAY_CHUNK	(256 * 1024)	/* largest single read */

struct relay {
	char		*buf;
	size_t		 size;
	size_t		 off;		/* [off, len) not yet written */
	size_t		 len;
	int64_t		 bytes;
	EVP_MD_CTX	*sha;
	int		 sha_done;
	char		 sha256[65];
	int		 verify;
	int		 verified;
	int64_t		 expect_bytes;
	char		*expect_sha256;
};

/* A relay, checking the stream when told what it must be. */
struct relay *
relay_new(const char *expect_sha256, int64_t expect_bytes)
{
	struct relay *r = xcalloc(1, sizeof *r);

	r->sha = EVP_MD_CTX_new();
	if (r->sha == NULL ||
	    EVP_DigestInit_ex(r->sha, EVP_sha256(), NULL) != 1)
		fatal("SHA-256 unavailable");
	if (expect_sha256 != NULL) {
		r->verify = 1;
		r->expect_sha256 = xstrdup(expect_sha256);
		r->expect_bytes = expect_bytes;
	}
	return r;
}

/* Free. */
void
relay_free(struct relay *r)
{
	if (r == NULL)
		return;
	EVP_MD_CTX_free(r->sha);
	free(r->buf);
	free(r->expect_sha256);
	free(r);
}

/* Pass on bytes that were not read: a command's whole input. */
void
relay_preload(struct relay *r, const void *p, size_t n)
{
	free(r->buf);
	r->buf = xmalloc(n > 0 ? n : 1);
	r->size = n;
	memcpy(r->buf, p, n);
	r->off = 0;
	r->len = n;
}

/* Read one chunk, hash and count it. */
ssize_t
relay_read(struct relay *r, int fd)
{
	size_t space;
	ssize_t n;

	if (r->buf == NULL) {
		r->buf = xmalloc(RELAY_BUFSIZE);
		r->size = RELAY_BUFSIZE;
	}
	if (r->off > 0 && r->size - r->len < RELAY_CHUNK) {
		/* Only the held tail or a partial write moves. */
		memmove(r->buf, r->buf + r->off, r->len - r->off);
		r->len -= r->off;
		r->off = 0;
	}
	space = r->size - r->len;
	if (space == 0)
		fatal("relay buffer full while reading");
	if (space > RELAY_CHUNK)
		space = RELAY_CHUNK;
	while ((n = read(fd, r->buf + r->len, space)) == -1 && errno == EINTR)
		;
	if (n <= 0)
		return n;
	if (EVP_DigestUpdate(r->sha, r->buf + r->len, n) != 1)
		fatal("SHA-256 failed");
	r->len += n;
	r->bytes += n;
	return n;
}

/* More than the expected size has arrived. */
int
relay_too_long(const struct relay *r, char *why, size_t whylen)
{
	if (!r->verify || r->bytes <= r->expect_bytes)
		return 0;
	snprintf(why, whylen, "size mismatch: archive has %" PRId64
	    " bytes, got more", r->expect_bytes);
	return 1;
}

/* How far the buffer may be written: all but the held tail if verifying. */
static size_t
relay_limit(const struct relay *r)
{
	if (!r->verify || r->verified)
		return r->len;
	if (r->len - r->off <= RELAY_HOLD)
		return r->off;
	return r->len - RELAY_HOLD;
}

/* Write what may be written. */
int
relay_write(struct relay *r, int fd)
{
	size_t limit = relay_limit(r);
	ssize_t n;

	while (r->off < limit) {
		n = write(fd, r->buf + r->off, limit - r->off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN ? 1 : -1;
		}
		r->off += n;
	}
	if (r->off == r->len)
		r->off = r->len = 0;
	return 0;
}

/* Check the whole stream against what was expected, once. */
int
relay_verify(struct relay *r, char *why, size_t whylen)
{
	const char *got = relay_sha256(r);

	if (!r->verify || r->verified)
		return 0;
	if (r->bytes != r->expect_bytes ||
	    strcasecmp(got, r->expect_sha256) != 0) {
		snprintf(why, whylen, "checksum mismatch: archive has %" PRId64
		    " bytes sha256 %s, got %" PRId64 " bytes sha256 %s",
		    r->expect_bytes, r->expect_sha256, r->bytes, got);
		return -1;
	}
	r->verified = 1;
	return 0;
}

/* Bytes read. */
int64_t
relay_bytes(const struct relay *r)
{
	return r->bytes;
}

/* Bytes waiting in the buffer. */
size_t
relay_pending(const struct relay *r)
{
	return r->len - r->off;
}

/* The hash of what was read, finished on first use. */
const char *
relay_sha256(struct relay *r)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (!r->sha_done) {
		r->sha_done = 1;
		if (EVP_DigestFinal_ex(r->sha, md, &mdlen) != 1 || mdlen != 32)
			fatal("SHA-256 failed");
		for (i = 0; i < mdlen; i++)
			snprintf(r->sha256 + 2 * i, 3, "%02x", md[i]);
	}
	return r->sha256;
}
