/*
 * A small blocking Redis client: RESP2 over TCP or a unix socket, enough for
 * the redis plugin to authenticate, scan, DUMP and RESTORE.  Commands are
 * buffered by resp_append() and sent by resp_flush(), so callers pipeline by
 * appending many commands and then reading as many replies.
 *
 * The caller owns a connection from resp_connect_*() (free with resp_free())
 * and every reply from resp_read() (free with resp_reply_free()).  Errors
 * are described by resp_error(); nothing here prints or logs.
 */
#ifndef SHIELD_RESP_H
#define SHIELD_RESP_H

#include <stddef.h>

#define RESP_STATUS	1	/* +OK */
#define RESP_ERROR	2	/* -ERR ... */
#define RESP_INTEGER	3	/* :1 */
#define RESP_BULK	4	/* $3 abc */
#define RESP_NIL	5	/* $-1 or *-1 */
#define RESP_ARRAY	6	/* *2 ... */

/* A parsed reply; str is NUL-terminated for status, error and bulk. */
struct resp_reply {
	int			  type;
	long long		  integer;
	char			 *str;
	size_t			  len;
	struct resp_reply	**element;
	size_t			  elements;
};

struct resp;

/* Connect to host:port within timeout seconds; NULL with err filled. */
struct resp	*resp_connect_tcp(const char *host, int port, int timeout,
		    char *err, size_t errlen);
/* Connect to a unix socket; NULL with err filled. */
struct resp	*resp_connect_unix(const char *path, char *err, size_t errlen);
/* Wrap an already connected stream socket, which the connection then owns. */
struct resp	*resp_new(int fd);
/* Close and free; NULL is a no-op. */
void		 resp_free(struct resp *);
/* Description of the last I/O or protocol error. */
const char	*resp_error(const struct resp *);

/* Queue one command of argc binary-safe arguments. */
void		 resp_append(struct resp *, int argc, const char *const *argv,
		    const size_t *lens);
/* Queue one command of NUL-terminated arguments, ended by NULL. */
void		 resp_appendv(struct resp *, const char *, ...)
		    __attribute__((sentinel));
/* Bytes queued and not yet sent. */
size_t		 resp_pending(const struct resp *);
/* Send everything queued; 0 or -1. */
int		 resp_flush(struct resp *);
/* Read one reply (flushing first); NULL on I/O or protocol error. */
struct resp_reply *resp_read(struct resp *);
/* Queue, send and read one command of NUL-terminated arguments. */
struct resp_reply *resp_call(struct resp *, const char *, ...)
		    __attribute__((sentinel));
/* Free a reply; NULL is a no-op. */
void		 resp_reply_free(struct resp_reply *);

#endif
