/*
 * Key files: reading one strictly (exactly 64 lowercase hex characters and
 * a newline, which may be missing, so a truncated or edited file is refused
 * rather than giving a different key), writing a new one 0600 with O_EXCL so a key is never
 * overwritten, and the key id that names a key without revealing it.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "masterkey.h"
#include "xmalloc.h"

#define MASTERKEY_HEX		(MASTERKEY_SIZE * 2)
#define MASTERKEY_ID_MSG	"SHIELD key id v1"

/* The value of one lowercase hex digit, -1 for anything else. */
static int
masterkey_digit(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* Read a key file into key. */
int
masterkey_read(const char *path, unsigned char *key, char **errp)
{
	/* One byte more than a key file, to see that it has no more. */
	unsigned char buf[MASTERKEY_HEX + 2];
	size_t len = 0;
	ssize_t n;
	int fd, hi, lo, i;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) == -1) {
		xasprintf(errp, "cannot read the key file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	while (len < sizeof buf &&
	    (n = read(fd, buf + len, sizeof buf - len)) != 0) {
		if (n == -1) {
			if (errno == EINTR)
				continue;
			xasprintf(errp, "cannot read the key file %s: %s",
			    path, strerror(errno));
			close(fd);
			sodium_memzero(buf, sizeof buf);
			return -1;
		}
		len += (size_t)n;
	}
	close(fd);
	/* The newline is optional: an editor may have dropped it. */
	if (len < MASTERKEY_HEX || len > MASTERKEY_HEX + 1 ||
	    (len == MASTERKEY_HEX + 1 && buf[MASTERKEY_HEX] != '\n'))
		goto bad;
	for (i = 0; i < MASTERKEY_SIZE; i++) {
		hi = masterkey_digit(buf[2 * i]);
		lo = masterkey_digit(buf[2 * i + 1]);
		if (hi == -1 || lo == -1)
			goto bad;
		key[i] = (unsigned char)(hi << 4 | lo);
	}
	sodium_memzero(buf, sizeof buf);
	return 0;

bad:
	sodium_memzero(buf, sizeof buf);
	sodium_memzero(key, MASTERKEY_SIZE);
	xasprintf(errp, "the key file %s is not a SHIELD key file (it must "
	    "hold exactly %d lowercase hex characters and a newline)", path,
	    MASTERKEY_HEX);
	return -1;
}

/* Write a new key file; an existing file is an error, never replaced. */
int
masterkey_write(const char *path, const unsigned char *key, char **errp)
{
	char hex[MASTERKEY_HEX + 2];
	size_t off = 0;
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOCTTY,
	    0600);
	if (fd == -1) {
		xasprintf(errp, "cannot create the key file %s: %s", path,
		    strerror(errno));
		return -1;
	}
	sodium_bin2hex(hex, sizeof hex, key, MASTERKEY_SIZE);
	hex[MASTERKEY_HEX] = '\n';
	/* fchmod: the umask may have taken bits, never added; be exact. */
	if (fchmod(fd, 0600) != 0)
		goto fail;
	while (off < MASTERKEY_HEX + 1) {
		n = write(fd, hex + off, MASTERKEY_HEX + 1 - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		off += (size_t)n;
	}
	/* The key must survive a crash right after the first start. */
	if (fsync(fd) != 0)
		goto fail;
	sodium_memzero(hex, sizeof hex);
	if (close(fd) != 0) {
		xasprintf(errp, "cannot write the key file %s: %s", path,
		    strerror(errno));
		unlink(path);
		return -1;
	}
	return 0;

fail:
	xasprintf(errp, "cannot write the key file %s: %s", path,
	    strerror(errno));
	sodium_memzero(hex, sizeof hex);
	close(fd);
	unlink(path);
	return -1;
}

/* Fill key with random bytes. */
void
masterkey_generate(unsigned char *key)
{
	randombytes_buf(key, MASTERKEY_SIZE);
}

/* The key's id. */
void
masterkey_id(const unsigned char *key, char *id)
{
	unsigned char h[32];

	crypto_generichash(h, sizeof h, (const unsigned char *)MASTERKEY_ID_MSG,
	    strlen(MASTERKEY_ID_MSG), key, MASTERKEY_SIZE);
	sodium_bin2hex(id, MASTERKEY_ID_LEN + 1, h, MASTERKEY_ID_LEN / 2);
}
