/*
 * RESP2 over a blocking socket: a growing write buffer for pipelined
 * commands, a read buffer, and a recursive reply parser.  Timeouts come from
 * SO_RCVTIMEO/SO_SNDTIMEO so a silent server cannot hang a plugin forever.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "resp.h"

/* Seconds a single read or write may stall before the connection fails. */
#define RESP_IO_TIMEOUT		600
/* Replies nest this deep at most (SCAN and INFO need two levels). */
#define RESP_MAX_DEPTH		8

struct resp {
	int	 fd;
	char	*wbuf;
	size_t	 wlen;
	size_t	 wsize;
	char	*rbuf;
	size_t	 rpos;		/* first unread byte */
	size_t	 rlen;		/* bytes in rbuf */
	size_t	 rsize;
	char	 err[256];
};

/* Allocate or abort: a plugin out of memory cannot do anything useful. */
static void *
resp_alloc(void *p, size_t n)
{
	if ((p = realloc(p, n == 0 ? 1 : n)) == NULL) {
		fputs("redis: out of memory\n", stderr);
		abort();
	}
	return p;
}

/* Record an error message on the connection. */
static void __attribute__((format(printf, 2, 3)))
resp_seterr(struct resp *c, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(c->err, sizeof c->err, fmt, ap);
	va_end(ap);
}

/* Wrap a connected descriptor. */
struct resp *
resp_new(int fd)
{
	struct resp *c;
	struct timeval tv = { RESP_IO_TIMEOUT, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	c = resp_alloc(NULL, sizeof *c);
	memset(c, 0, sizeof *c);
	c->fd = fd;
	c->rsize = 64 * 1024;
	c->rbuf = resp_alloc(NULL, c->rsize);
	return c;
}

/* Connect one address with a deadline, via a non-blocking connect. */
static int
resp_connect_addr(const struct addrinfo *ai, int timeout, int *error)
{
	struct pollfd pfd;
	socklen_t len = sizeof *error;
	int fd, flags, rc;

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
	    ai->ai_protocol);
	if (fd == -1) {
		*error = errno;
		return -1;
	}
	flags = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, flags | O_NONBLOCK);
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == -1) {
		if (errno != EINPROGRESS) {
			*error = errno;
			close(fd);
			return -1;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		while ((rc = poll(&pfd, 1, timeout * 1000)) == -1 &&
		    errno == EINTR)
			;
		if (rc == 0) {
			*error = ETIMEDOUT;
			close(fd);
			return -1;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, error, &len) == -1 ||
		    *error != 0) {
			if (*error == 0)
				*error = errno;
			close(fd);
			return -1;
		}
	}
	fcntl(fd, F_SETFL, flags);
	return fd;
}

/* Resolve host and connect to the first address that answers. */
struct resp *
resp_connect_tcp(const char *host, int port, int timeout, char *err,
    size_t errlen)
{
	struct addrinfo hints, *res, *ai;
	char service[16];
	int fd = -1, error = 0, rc, one = 1;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(service, sizeof service, "%d", port);
	if ((rc = getaddrinfo(host, service, &hints, &res)) != 0) {
		snprintf(err, errlen, "cannot resolve %s: %s", host,
		    gai_strerror(rc));
		return NULL;
	}
	for (ai = res; ai != NULL && fd == -1; ai = ai->ai_next)
		fd = resp_connect_addr(ai, timeout, &error);
	freeaddrinfo(res);
	if (fd == -1) {
		snprintf(err, errlen, "cannot connect to %s port %d: %s", host,
		    port, strerror(error));
		return NULL;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	return resp_new(fd);
}

/* Connect to a unix-domain socket. */
struct resp *
resp_connect_unix(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	int fd;

	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	if (strlen(path) >= sizeof sun.sun_path) {
		snprintf(err, errlen, "socket path too long: %s", path);
		return NULL;
	}
	strcpy(sun.sun_path, path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1 ||
	    connect(fd, (struct sockaddr *)&sun, sizeof sun) == -1) {
		snprintf(err, errlen, "cannot connect to %s: %s", path,
		    strerror(errno));
		if (fd != -1)
			close(fd);
		return NULL;
	}
	return resp_new(fd);
}

/* Close the socket and free the buffers. */
void
resp_free(struct resp *c)
{
	if (c == NULL)
		return;
	close(c->fd);
	free(c->wbuf);
	free(c->rbuf);
	free(c);
}

/* The last error text. */
const char *
resp_error(const struct resp *c)
{
	return c->err;
}

/* Append raw bytes to the write buffer, growing it geometrically. */
static void
resp_wadd(struct resp *c, const void *p, size_t n)
{
	if (c->wlen + n > c->wsize) {
		while (c->wlen + n > c->wsize)
			c->wsize = c->wsize == 0 ? 64 * 1024 : c->wsize * 2;
		c->wbuf = resp_alloc(c->wbuf, c->wsize);
	}
	memcpy(c->wbuf + c->wlen, p, n);
	c->wlen += n;
}

/* Queue one command as a RESP array of bulk strings. */
void
resp_append(struct resp *c, int argc, const char *const *argv,
    const size_t *lens)
{
	char head[32];
	int i, n;

	n = snprintf(head, sizeof head, "*%d\r\n", argc);
	resp_wadd(c, head, (size_t)n);
	for (i = 0; i < argc; i++) {
		n = snprintf(head, sizeof head, "$%zu\r\n", lens[i]);
		resp_wadd(c, head, (size_t)n);
		resp_wadd(c, argv[i], lens[i]);
		resp_wadd(c, "\r\n", 2);
	}
}

/* Queue a command from a NULL-terminated list of C strings. */
static void
resp_appendva(struct resp *c, const char *first, va_list ap)
{
	const char *argv[16];
	size_t lens[16];
	const char *s;
	int argc = 0;

	for (s = first; s != NULL && argc < 16; s = va_arg(ap, const char *)) {
		argv[argc] = s;
		lens[argc++] = strlen(s);
	}
	resp_append(c, argc, argv, lens);
}

/* Queue a command of C strings. */
void
resp_appendv(struct resp *c, const char *first, ...)
{
	va_list ap;

	va_start(ap, first);
	resp_appendva(c, first, ap);
	va_end(ap);
}

/* Bytes waiting to be sent. */
size_t
resp_pending(const struct resp *c)
{
	return c->wlen;
}

/* Write the whole buffer. */
int
resp_flush(struct resp *c)
{
	size_t off = 0;
	ssize_t n;

	while (off < c->wlen) {
		n = send(c->fd, c->wbuf + off, c->wlen - off, MSG_NOSIGNAL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			resp_seterr(c, "write: %s", errno == EAGAIN ?
			    "timed out" : strerror(errno));
			return -1;
		}
		off += (size_t)n;
	}
	c->wlen = 0;
	return 0;
}

/* Make at least want unread bytes available in rbuf. */
static int
resp_fill(struct resp *c, size_t want)
{
	ssize_t n;

	if (c->rlen - c->rpos >= want)
		return 0;
	if (c->rpos > 0) {
		memmove(c->rbuf, c->rbuf + c->rpos, c->rlen - c->rpos);
		c->rlen -= c->rpos;
		c->rpos = 0;
	}
	while (c->rlen < want) {
		/*
		 * Grow as bytes arrive, never at once to the length a reply
		 * claims: a "$4000000000" from a broken server is an error
		 * when the stream ends, not a 4 GB allocation.
		 */
		if (c->rlen == c->rsize) {
			c->rsize = c->rsize > want / 2 ? want : c->rsize * 2;
			c->rbuf = resp_alloc(c->rbuf, c->rsize);
		}
		n = recv(c->fd, c->rbuf + c->rlen, c->rsize - c->rlen, 0);
		if (n == 0) {
			resp_seterr(c, "the server closed the connection");
			return -1;
		}
		if (n == -1) {
			if (errno == EINTR)
				continue;
			resp_seterr(c, "read: %s", errno == EAGAIN ?
			    "timed out" : strerror(errno));
			return -1;
		}
		c->rlen += (size_t)n;
	}
	return 0;
}

/* Read a CRLF-terminated line; returns its length, the line in *line. */
static int
resp_line(struct resp *c, char **line, size_t *len)
{
	char *p;
	size_t have = 1;

	for (;;) {
		if (resp_fill(c, have) == -1)
			return -1;
		p = memchr(c->rbuf + c->rpos, '\n', c->rlen - c->rpos);
		if (p != NULL)
			break;
		have = c->rlen - c->rpos + 1;
		if (have > 64 * 1024 * 1024) {
			resp_seterr(c, "protocol error: line too long");
			return -1;
		}
	}
	*line = c->rbuf + c->rpos;
	*len = (size_t)(p - *line);
	if (*len > 0 && (*line)[*len - 1] == '\r')
		(*len)--;
	c->rpos = (size_t)(p - c->rbuf) + 1;
	return 0;
}

/* Parse a decimal integer from a line. */
static int
resp_number(const char *s, size_t len, long long *out)
{
	char buf[32];
	char *end;

	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	errno = 0;
	*out = strtoll(buf, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

/* Read one reply at a given nesting depth. */
static struct resp_reply *
resp_read_depth(struct resp *c, int depth)
{
	struct resp_reply *r, *e;
	char *line;
	size_t len, i, cap = 0;
	long long n;

	if (depth > RESP_MAX_DEPTH) {
		resp_seterr(c, "protocol error: reply nested too deep");
		return NULL;
	}
	if (resp_line(c, &line, &len) == -1)
		return NULL;
	if (len == 0) {
		resp_seterr(c, "protocol error: empty line");
		return NULL;
	}
	r = resp_alloc(NULL, sizeof *r);
	memset(r, 0, sizeof *r);
	switch (line[0]) {
	case '+':
	case '-':
		r->type = line[0] == '+' ? RESP_STATUS : RESP_ERROR;
		r->len = len - 1;
		r->str = resp_alloc(NULL, r->len + 1);
		memcpy(r->str, line + 1, r->len);
		r->str[r->len] = '\0';
		return r;
	case ':':
		r->type = RESP_INTEGER;
		if (resp_number(line + 1, len - 1, &r->integer) == -1)
			goto bad;
		return r;
	case '$':
		if (resp_number(line + 1, len - 1, &n) == -1 || n < -1 ||
		    (n > 0 && (unsigned long long)n > SIZE_MAX / 2))
			goto bad;
		if (n == -1) {
			r->type = RESP_NIL;
			return r;
		}
		r->type = RESP_BULK;
		r->len = (size_t)n;
		if (resp_fill(c, r->len + 2) == -1)
			goto fail;
		r->str = resp_alloc(NULL, r->len + 1);
		memcpy(r->str, c->rbuf + c->rpos, r->len);
		r->str[r->len] = '\0';
		c->rpos += r->len + 2;
		return r;
	case '*':
		if (resp_number(line + 1, len - 1, &n) == -1 || n < -1 ||
		    n > INT_MAX)
			goto bad;
		if (n == -1) {
			r->type = RESP_NIL;
			return r;
		}
		r->type = RESP_ARRAY;
		/* Like the read buffer, grown as elements arrive. */
		for (i = 0; i < (size_t)n; i++) {
			if ((e = resp_read_depth(c, depth + 1)) == NULL)
				goto fail;
			if (r->elements == cap) {
				cap = cap == 0 ? 16 : cap * 2;
				r->element = resp_alloc(r->element,
				    cap * sizeof *r->element);
			}
			r->element[r->elements++] = e;
		}
		return r;
	}
bad:
	resp_seterr(c, "protocol error: unexpected reply");
fail:
	resp_reply_free(r);
	return NULL;
}

/* Read one complete reply. */
struct resp_reply *
resp_read(struct resp *c)
{
	if (c->wlen > 0 && resp_flush(c) == -1)
		return NULL;
	return resp_read_depth(c, 0);
}

/* Send one command and wait for its reply. */
struct resp_reply *
resp_call(struct resp *c, const char *first, ...)
{
	va_list ap;

	va_start(ap, first);
	resp_appendva(c, first, ap);
	va_end(ap);
	return resp_read(c);
}

/* Free a reply tree. */
void
resp_reply_free(struct resp_reply *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->elements; i++)
		resp_reply_free(r->element[i]);
	free(r->element);
	free(r->str);
	free(r);
}
