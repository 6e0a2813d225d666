/*
 * The HTTP server's connections, on top of evhttp (libevent 2.1), which owns
 * them and gives no callback when one opens: evhttp asks this module for
 * each new connection's bufferevent (evhttp_set_bevcb), which is when one
 * is counted.  The connection object evhttp then builds around it is found
 * from the bufferevent's callback argument, right after (the "adopt"
 * event), and from then on its close callback is this module's, which
 * uncounts it.  A bufferevent is kept referenced until adopted, so one that
 * evhttp freed at once is still safe to look at (its callbacks are cleared).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "conn.h"
#include "log.h"
#include "xmalloc.h"

/* Bodies over this are streamed, this much at a time. */
#define CONN_CHUNK		(64 * 1024)
/*
 * Bytes of streamed bodies held for clients still reading them.  A reply
 * that would go over it while others are in flight gets 503: eight clients
 * that ask for a 190 MB list and stop reading cannot pin 1.5 GB.
 */
#define CONN_BUDGET		(32 * 1024 * 1024)
#define CONN_BACKOFF_MIN_MS	50
#define CONN_BACKOFF_MAX_MS	2000
#define CONN_REPORT_INTERVAL	10	/* seconds between accept reports */

struct conn_stream {
	struct evhttp_request	*req;
	struct conn_blob	*blob;
	size_t			 off;	/* bytes handed to the connection */
};

struct conn {
	TAILQ_ENTRY(conn)	  entry;	/* while not yet adopted */
	struct conn_set		 *set;
	struct bufferevent	 *bev;
	struct evhttp_connection *evcon;	/* NULL until adopted */
	int			  fd;
	struct evhttp_request	 *watch_req;
	void			(*watch_fn)(void *, int);
	void			 *watch_arg;
	struct conn_stream	 *stream;
};

TAILQ_HEAD(conn_list, conn);

struct conn_set {
	LIST_ENTRY(conn_set)	 entry;
	struct event_base	*base;
	struct evhttp		*http;
	struct evconnlistener	*lev;		/* NULL once unlistened */
	int			 accepting;	/* lev is enabled */
	struct event		*adopt_ev;
	struct event		*resume_ev;
	struct conn_list	 pending;	/* counted, not yet adopted */
	struct conn		**by_fd;	/* adopted connections */
	size_t			 nfd;
	int			 count;
	int			 max;
	int			 paused;	/* accept failed: backing off */
	int			 backoff_ms;
	time_t			 reported;	/* last accept failure report */
	unsigned		 failures;	/* since then */
	size_t			 streaming;	/* bytes of bodies streaming */
};

/*
 * Every set, to find one from its evhttp: libevent calls a listener's
 * error callback with the listener's argument, which evhttp sets to its
 * own struct evhttp.
 */
static LIST_HEAD(, conn_set) conn_sets = LIST_HEAD_INITIALIZER(conn_sets);

static void	conn_adopt(struct conn_set *);
static void	conn_stream_feed(struct conn *);

/* A blob owning data. */
struct conn_blob *
conn_blob_new(char *data, size_t len)
{
	struct conn_blob *b = xcalloc(1, sizeof *b);

	b->refs = 1;
	b->len = len;
	b->data = data;
	return b;
}

/* A blob of a copy of data. */
struct conn_blob *
conn_blob_copy(const char *data, size_t len)
{
	char *copy = xmalloc(len + 1);

	memcpy(copy, data, len);
	copy[len] = '\0';
	return conn_blob_new(copy, len);
}

void
conn_blob_ref(struct conn_blob *b)
{
	b->refs++;
}

void
conn_blob_unref(struct conn_blob *b)
{
	if (b != NULL && --b->refs == 0) {
		free(b->data);
		free(b);
	}
}

/* libevent is done with a referenced piece of a blob. */
static void
conn_blob_sent_cb(const void *data, size_t len, void *arg)
{
	(void)data;
	(void)len;
	conn_blob_unref(arg);
}

/* Add a reference to (part of) a blob to buf. */
static void
conn_blob_add(struct evbuffer *buf, struct conn_blob *b, size_t off,
    size_t len)
{
	conn_blob_ref(b);
	if (evbuffer_add_reference(buf, b->data + off, len,
	    conn_blob_sent_cb, b) != 0)
		conn_blob_unref(b);
}

/* Accept while under the cap and not backing off; otherwise not. */
static void
conn_listen_update(struct conn_set *cs)
{
	int want = !cs->paused && cs->count < cs->max;

	if (cs->lev == NULL || want == cs->accepting)
		return;
	if (want)
		evconnlistener_enable(cs->lev);
	else
		evconnlistener_disable(cs->lev);
	cs->accepting = want;
}

/* evhttp accepted a connection and wants its bufferevent. */
static struct bufferevent *
conn_bev_cb(struct event_base *base, void *arg)
{
	struct conn_set *cs = arg;
	struct conn *c = xcalloc(1, sizeof *c);

	c->set = cs;
	c->fd = -1;
	/* No BEV_OPT_CLOSE_ON_FREE, as evhttp's own: it closes the socket. */
	if ((c->bev = bufferevent_socket_new(base, -1, 0)) == NULL) {
		free(c);
		return NULL;
	}
	bufferevent_incref(c->bev);
	TAILQ_INSERT_TAIL(&cs->pending, c, entry);
	cs->count++;
	cs->backoff_ms = 0;
	conn_listen_update(cs);
	event_active(cs->adopt_ev, EV_TIMEOUT, 1);
	return c->bev;
}

/* Slot fd of the table of adopted connections. */
static void
conn_table_put(struct conn_set *cs, int fd, struct conn *c)
{
	size_t n;

	if ((size_t)fd >= cs->nfd) {
		n = (size_t)fd + 64;
		cs->by_fd = xreallocarray(cs->by_fd, n, sizeof *cs->by_fd);
		memset(cs->by_fd + cs->nfd, 0, (n - cs->nfd) *
		    sizeof *cs->by_fd);
		cs->nfd = n;
	}
	cs->by_fd[fd] = c;
}

/* End a streamed reply; closed: because its connection went away. */
static void
conn_stream_end(struct conn *c, int closed)
{
	struct conn_stream *s = c->stream;

	c->stream = NULL;
	if (--s->blob->streams == 0)
		c->set->streaming -= s->blob->len;
	/* Detached by evhttp when the connection failed: ours to free. */
	if (closed && evhttp_request_get_connection(s->req) == NULL)
		evhttp_request_free(s->req);
	conn_blob_unref(s->blob);
	free(s);
}

/* evhttp is freeing a connection. */
static void
conn_closed_cb(struct evhttp_connection *evcon, void *arg)
{
	struct conn *c = arg;
	struct conn_set *cs = c->set;

	(void)evcon;
	if (c->watch_fn != NULL)
		c->watch_fn(c->watch_arg,
		    evhttp_request_get_connection(c->watch_req) == NULL);
	if (c->stream != NULL)
		conn_stream_end(c, 1);
	cs->by_fd[c->fd] = NULL;
	cs->count--;
	free(c);
	/* A descriptor is about to be free: no need to wait for the timer. */
	if (cs->paused) {
		cs->paused = 0;
		evtimer_del(cs->resume_ev);
	}
	conn_listen_update(cs);
}

/* Find the connection objects evhttp built for the counted bufferevents. */
static void
conn_adopt(struct conn_set *cs)
{
	struct conn *c;
	void *evcon;

	while ((c = TAILQ_FIRST(&cs->pending)) != NULL) {
		TAILQ_REMOVE(&cs->pending, c, entry);
		evcon = NULL;
		bufferevent_getcb(c->bev, NULL, NULL, NULL, &evcon);
		c->fd = bufferevent_getfd(c->bev);
		if (evcon == NULL || c->fd < 0) {
			/* evhttp freed it already (bufferevent_free cleared
			 * the callbacks): it is gone. */
			bufferevent_decref(c->bev);
			free(c);
			cs->count--;
			continue;
		}
		c->evcon = evcon;
		evhttp_connection_set_closecb(c->evcon, conn_closed_cb, c);
		conn_table_put(cs, c->fd, c);
		bufferevent_decref(c->bev);
	}
	conn_listen_update(cs);
}

static void
conn_adopt_cb(evutil_socket_t fd, short ev, void *arg)
{
	(void)fd;
	(void)ev;
	conn_adopt(arg);
}

/* The connection of a request, adopting it first if need be. */
static struct conn *
conn_find(struct conn_set *cs, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct conn *c;
	int fd, pass;

	if (evcon == NULL)
		return NULL;
	fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
	for (pass = 0; pass < 2 && fd >= 0; pass++) {
		if ((size_t)fd < cs->nfd && (c = cs->by_fd[fd]) != NULL &&
		    c->evcon == evcon)
			return c;
		conn_adopt(cs);
	}
	return NULL;
}

/* Accept failed (EMFILE, ENFILE, ENOBUFS...): pause instead of spinning. */
static void
conn_accept_error_cb(struct evconnlistener *lev, void *arg)
{
	int err = EVUTIL_SOCKET_ERROR();
	struct conn_set *cs;
	struct timeval tv;
	time_t now;

	LIST_FOREACH(cs, &conn_sets, entry) {
		if (cs->http == arg && cs->lev == lev)
			break;
	}
	if (cs == NULL) {
		evconnlistener_disable(lev);
		return;
	}
	cs->backoff_ms = cs->backoff_ms == 0 ? CONN_BACKOFF_MIN_MS :
	    cs->backoff_ms * 2;
	if (cs->backoff_ms > CONN_BACKOFF_MAX_MS)
		cs->backoff_ms = CONN_BACKOFF_MAX_MS;
	cs->failures++;
	now = time(NULL);
	if (now - cs->reported >= CONN_REPORT_INTERVAL) {
		log_warn("cannot accept HTTP connections: %s (%d open); "
		    "pausing for %d ms (%u failure%s in %d s)",
		    evutil_socket_error_to_string(err), cs->count,
		    cs->backoff_ms, cs->failures, cs->failures == 1 ? "" : "s",
		    cs->reported == 0 ? 0 : (int)(now - cs->reported));
		cs->reported = now;
		cs->failures = 0;
	}
	cs->paused = 1;
	conn_listen_update(cs);
	tv.tv_sec = cs->backoff_ms / 1000;
	tv.tv_usec = (cs->backoff_ms % 1000) * 1000;
	evtimer_add(cs->resume_ev, &tv);
}

/* The backoff is over: try accepting again. */
static void
conn_resume_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct conn_set *cs = arg;

	(void)fd;
	(void)ev;
	cs->paused = 0;
	conn_listen_update(cs);
}

/* Track http's connections. */
struct conn_set *
conn_set_new(struct event_base *base, struct evhttp *http, int max)
{
	struct conn_set *cs = xcalloc(1, sizeof *cs);

	cs->base = base;
	cs->http = http;
	cs->max = max > 0 ? max : 1;
	TAILQ_INIT(&cs->pending);
	cs->adopt_ev = event_new(base, -1, 0, conn_adopt_cb, cs);
	cs->resume_ev = evtimer_new(base, conn_resume_cb, cs);
	LIST_INSERT_HEAD(&conn_sets, cs, entry);
	evhttp_set_bevcb(http, conn_bev_cb, cs);
	return cs;
}

/* Take over accepting on the bound socket. */
void
conn_set_listen(struct conn_set *cs, struct evhttp_bound_socket *sock)
{
	cs->lev = evhttp_bound_socket_get_listener(sock);
	cs->accepting = 1;
	evconnlistener_set_error_cb(cs->lev, conn_accept_error_cb);
	conn_listen_update(cs);
}

/* The listener goes away. */
void
conn_set_unlisten(struct conn_set *cs)
{
	if (cs == NULL)
		return;
	cs->lev = NULL;
	evtimer_del(cs->resume_ev);
}

/* Free the set, after evhttp has closed every connection. */
void
conn_set_free(struct conn_set *cs)
{
	struct conn *c;
	size_t i;

	if (cs == NULL)
		return;
	while ((c = TAILQ_FIRST(&cs->pending)) != NULL) {
		TAILQ_REMOVE(&cs->pending, c, entry);
		bufferevent_decref(c->bev);
		free(c);
	}
	for (i = 0; i < cs->nfd; i++) {
		if ((c = cs->by_fd[i]) == NULL)
			continue;
		/* Still open (no evhttp_free): never call back into us. */
		evhttp_connection_set_closecb(c->evcon, NULL, NULL);
		if (c->stream != NULL)
			conn_stream_end(c, 0);
		free(c);
	}
	free(cs->by_fd);
	event_free(cs->adopt_ev);
	event_free(cs->resume_ev);
	LIST_REMOVE(cs, entry);
	free(cs);
}

int
conn_set_count(const struct conn_set *cs)
{
	return cs->count;
}

/* Watch a request for its client going away. */
void
conn_watch(struct conn_set *cs, struct evhttp_request *req,
    void (*fn)(void *, int), void *arg)
{
	struct conn *c = conn_find(cs, req);

	if (c == NULL)
		return;
	c->watch_req = req;
	c->watch_fn = fn;
	c->watch_arg = arg;
}

void
conn_unwatch(struct conn_set *cs, struct evhttp_request *req)
{
	struct conn *c = conn_find(cs, req);

	if (c != NULL && c->watch_req == req) {
		c->watch_req = NULL;
		c->watch_fn = NULL;
		c->watch_arg = NULL;
	}
}

/* The connection drained: hand it its next chunk, or end the reply. */
static void
conn_stream_drained_cb(struct evhttp_connection *evcon, void *arg)
{
	struct conn *c = arg;

	(void)evcon;
	if (c->stream != NULL)
		conn_stream_feed(c);
}

static void
conn_stream_feed(struct conn *c)
{
	struct conn_stream *s = c->stream;
	struct evhttp_request *req = s->req;
	struct evbuffer *buf = evbuffer_new();
	size_t n = s->blob->len - s->off;

	if (n > CONN_CHUNK)
		n = CONN_CHUNK;
	conn_blob_add(buf, s->blob, s->off, n);
	s->off += n;
	if (s->off < s->blob->len) {
		/* Called back once all of it is written. */
		evhttp_send_reply_chunk_with_cb(req, buf,
		    conn_stream_drained_cb, c);
		evbuffer_free(buf);
		return;
	}
	evhttp_send_reply_chunk(req, buf);
	evbuffer_free(buf);
	conn_stream_end(c, 0);
	evhttp_send_reply_end(req);
}

/* Reply with a blob, at once or streamed. */
int
conn_send(struct conn_set *cs, struct evhttp_request *req, int code,
    const char *reason, struct conn_blob *b, int head)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	int bodyless = code == 204 || code == 304 || code < 200;
	struct conn_stream *s;
	struct evbuffer *buf;
	struct conn *c = NULL;
	char len[24];

	snprintf(len, sizeof len, "%zu", b->len);
	if (!head && !bodyless && b->len > CONN_CHUNK)
		c = conn_find(cs, req);
	if (c == NULL || c->stream != NULL) {
		/* A HEAD reply says how long the GET one would be. */
		if (head && !bodyless) {
			evhttp_remove_header(h, "Content-Length");
			evhttp_add_header(h, "Content-Length", len);
		}
		buf = evbuffer_new();
		if (!head && !bodyless && b->len > 0)
			conn_blob_add(buf, b, 0, b->len);
		evhttp_send_reply(req, code, reason, buf);
		evbuffer_free(buf);
		return 0;
	}
	if (b->streams == 0 && cs->streaming > 0 &&
	    cs->streaming + b->len > CONN_BUDGET) {
		log_debug("a %zu-byte reply refused: %zu bytes already wait "
		    "for slow clients", b->len, cs->streaming);
		return -1;
	}
	s = xcalloc(1, sizeof *s);
	s->req = req;
	s->blob = b;
	conn_blob_ref(b);
	if (b->streams++ == 0)
		cs->streaming += b->len;
	c->stream = s;
	/* A length, not chunks: HTTP/1.0 clients and proxies know the end. */
	evhttp_remove_header(h, "Content-Length");
	evhttp_add_header(h, "Content-Length", len);
	evhttp_send_reply_start(req, code, reason);
	conn_stream_feed(c);
	return 0;
}
