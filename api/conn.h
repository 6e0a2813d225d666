/*
 * conn: the HTTP server's connections.  It counts them and stops accepting
 * at --max-connections (further clients wait in the listen queue until one
 * closes); when accept fails (out of file descriptors) it pauses accepting
 * with a growing backoff instead of spinning, and says so in the log at
 * most once per interval; it tells a request's owner when the client goes
 * away; and it sends replies.  A big body goes out a chunk at a time as
 * the connection drains, by reference, so a client that stops reading
 * pins at most one chunk of socket buffer, and the bodies held for such
 * clients are kept under a budget (a reply that would exceed it gets 503).
 * A connection idle or stalled for --http-timeout seconds is closed by
 * evhttp's own timeouts.
 */
#ifndef SHIELD_CONN_H
#define SHIELD_CONN_H

#include <stddef.h>

struct event_base;
struct evhttp;
struct evhttp_bound_socket;
struct evhttp_request;
struct conn_set;

/* A reply body, shared by reference by the cache and replies in flight. */
struct conn_blob {
	int	 refs;
	int	 streams;	/* replies streaming it now */
	size_t	 len;
	char	*data;		/* owned, freed with the last reference */
};

/* A blob of data (taken over, malloc'd) or of a copy of it. */
struct conn_blob	*conn_blob_new(char *data, size_t len);
struct conn_blob	*conn_blob_copy(const char *data, size_t len);
void			 conn_blob_ref(struct conn_blob *);
void			 conn_blob_unref(struct conn_blob *);

/* Track the connections of http (at most max open); before binding. */
struct conn_set	*conn_set_new(struct event_base *, struct evhttp *, int max);
/* Manage accepting on the bound socket. */
void		 conn_set_listen(struct conn_set *,
		    struct evhttp_bound_socket *);
/* The listener is about to be freed. */
void		 conn_set_unlisten(struct conn_set *);
/* After evhttp_free(), which closes every connection. */
void		 conn_set_free(struct conn_set *);
/* Connections open now. */
int		 conn_set_count(const struct conn_set *);

/*
 * Call fn(arg, orphaned) if req's client goes away before the reply;
 * orphaned says evhttp left req for its owner to free.  One request per
 * connection is watched at a time; unwatch before replying.
 */
void	conn_watch(struct conn_set *, struct evhttp_request *,
	    void (*fn)(void *, int), void *arg);
void	conn_unwatch(struct conn_set *, struct evhttp_request *);

/*
 * Reply to req with the body (referenced, not copied; the caller keeps its
 * reference) and the output headers already set.  With head, only the
 * headers, with the body's Content-Length.  Returns -1, sending nothing,
 * when the bodies waiting on slow clients would go over the budget.
 */
int	conn_send(struct conn_set *, struct evhttp_request *, int code,
	    const char *reason, struct conn_blob *, int head);

#endif
