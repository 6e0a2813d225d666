/*
 * One connection to shield-agent.  The TLS layer is libevent's
 * bufferevent_openssl: OpenSSL verifies the caller's certificate during the
 * handshake, so a session only ever reads a request from an authenticated
 * peer.  The plugin's pipes are plain events on the same loop.  Back-
 * pressure runs both ways: a backup stops reading the plugin's stdout while
 * more than SESSION_OUT_HIGH bytes wait for the network, and a restore
 * stops reading the network while more than SESSION_IN_HIGH bytes wait for
 * the plugin's stdin, so memory stays bounded however fast either side is.
 * The plugin's stdin is closed (end of input) only after the caller's end
 * frame; on every failure it stays open until the plugin has been killed.
 * Every stderr line is masked (mask.c) before it is logged or relayed, so
 * a plugin that prints a secret of its endpoint shows it to nobody.  When
 * the agent stops, each running request still ends with its exit frame,
 * saying so, and a clean TLS close, as planned restarts deserve.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cJSON.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "agent_proto.h"
#include "child.h"
#include "linesplit.h"
#include "log.h"
#include "mask.h"
#include "plugins.h"
#include "session.h"
#include "xmalloc.h"

#define SESSION_HELLO_TIMEOUT	30		/* handshake + request line */
#define SESSION_LINGER		30		/* for the caller to close */
#define SESSION_STOP_LINGER	3		/* the same while stopping */
#define SESSION_GRACE_MS	5000		/* SIGTERM to SIGKILL */
#define SESSION_OUT_HIGH	(1024 * 1024)	/* pause the plugin's stdout */
#define SESSION_OUT_LOW		(256 * 1024)	/* resume it */
#define SESSION_IN_HIGH		(1024 * 1024)	/* pause the network */
#define SESSION_READ		(64 * 1024)	/* one read of stdout */
#define SESSION_LINE_MAX	8192		/* longer lines are cut */
#define SESSION_SPARE		16		/* connections beyond it */
#define SESSION_STOPPING	"shield-agent is stopping"

enum session_state {
	SESSION_HELLO,		/* TLS handshake, then the request line */
	SESSION_RUNNING,	/* the plugin runs */
	SESSION_FINISHING,	/* exit frame sent; waiting for the close */
	SESSION_ABORTING,	/* caller gone; waiting for the plugin to die */
	SESSION_DEAD,		/* release pending */
};

enum session_action {
	SESSION_BACKUP,
	SESSION_RESTORE,
	SESSION_VALIDATE,
};

struct session_set;

struct session {
	struct session_set	*set;
	LIST_ENTRY(session)	 entry;
	enum session_state	 state;
	char			 peer[INET6_ADDRSTRLEN + 16];
	char			*who;		/* client certificate's name */

	struct bufferevent	*bev;
	int			 tls_up;	/* handshake done */
	struct event		 timer;		/* hello, request, linger */
	struct event		 free_ev;

	enum session_action	 action;
	char			*plugin;
	int			 counted;	/* holds a request slot */
	int			 validating;	/* plugins_validate() pending */
	char			*failure;	/* why the agent ended it */
	struct mask		*mask;		/* the endpoint's secrets */
	int			 goodbye;	/* our close_notify is out */

	struct child		*child;
	int			 exited;
	int			 status;
	int64_t			 bytes;

	/* Backup: the plugin's stdout, framed onto the connection. */
	int			 out_fd;
	struct event		 out_ev;
	int			 out_paused;

	/* Restore: frames from the connection into the plugin's stdin. */
	int			 in_fd;
	struct event		 in_ev;
	struct evbuffer		*in_buf;
	int			 in_end;	/* the end frame arrived */
	int			 in_paused;	/* network reads are off */

	/* The plugin's stderr, split into lines. */
	int			 err_fd;
	struct event		 err_ev;
	struct linesplit	*err;
};
LIST_HEAD(session_list, session);

struct session_set {
	struct session_config	 cfg;
	struct session_list	 sessions;
	int			 count;
	int			 running;
	int			 stopping;
	void			(*done)(void *);
	void			*done_arg;
};

static void	session_read_cb(struct bufferevent *, void *);
static void	session_write_cb(struct bufferevent *, void *);
static void	session_event_cb(struct bufferevent *, short, void *);
static void	session_timer_cb(int, short, void *);
static void	session_free_cb(int, short, void *);
static void	session_out_cb(int, short, void *);
static void	session_in_cb(int, short, void *);
static void	session_err_cb(int, short, void *);
static void	session_exit_cb(struct child *, int, void *);
static void	session_input(struct session *);
static void	session_check_done(struct session *);

/* Close a descriptor and forget its event. */
static void
session_close(int *fd, struct event *ev)
{
	if (*fd == -1)
		return;
	if (event_initialized(ev))
		event_del(ev);
	close(*fd);
	*fd = -1;
}

/* Give back the request slot, once. */
static void
session_uncount(struct session *s)
{
	if (!s->counted)
		return;
	s->counted = 0;
	s->set->running--;
}

/* Mark the session over; it is released on the next loop turn. */
static void
session_kill(struct session *s)
{
	if (s->state == SESSION_DEAD)
		return;
	s->state = SESSION_DEAD;
	session_uncount(s);
	if (s->bev != NULL)
		bufferevent_disable(s->bev, EV_READ | EV_WRITE);
	event_del(&s->timer);
	event_active(&s->free_ev, EV_TIMEOUT, 1);
}

/* Queue one frame for the caller. */
static void
session_frame(struct session *s, char type, const void *data, size_t len)
{
	struct evbuffer *out;
	unsigned char head[AGENT_PROTO_FRAME_HEAD];

	if (s->bev == NULL)
		return;
	out = bufferevent_get_output(s->bev);
	head[0] = (unsigned char)type;
	head[1] = (len >> 24) & 0xff;
	head[2] = (len >> 16) & 0xff;
	head[3] = (len >> 8) & 0xff;
	head[4] = len & 0xff;
	evbuffer_add(out, head, sizeof head);
	if (len > 0)
		evbuffer_add(out, data, len);
}

/*
 * While stopping, close TLS cleanly once the exit frame has left: our
 * close_notify tells the caller that the request ended on purpose, not
 * that the connection was cut.  Until its own close (or the linger time),
 * what it still sends is read and dropped, so that closing the socket
 * never resets the connection under the frame.
 */
static void
session_goodbye(struct session *s)
{
	SSL *ssl;

	if (s->goodbye || !s->set->stopping || s->state != SESSION_FINISHING ||
	    s->bev == NULL ||
	    evbuffer_get_length(bufferevent_get_output(s->bev)) > 0)
		return;
	s->goodbye = 1;
	if ((ssl = bufferevent_openssl_get_ssl(s->bev)) != NULL &&
	    SSL_shutdown(ssl) < 0)
		ERR_clear_error();	/* the linger's close will do */
	log_debug("%s: closed our side", s->peer);
}

/*
 * Send the exit frame and wait for the caller to close.  code is the exit
 * status; error (may be NULL) says why the agent refused or ended it.
 */
static void
session_finish(struct session *s, int code, const char *error)
{
	struct timeval tv = { SESSION_LINGER, 0 };
	cJSON *o;
	char *text;

	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "exit", code);
	if (error != NULL)
		cJSON_AddStringToObject(o, "error", error);
	if ((text = cJSON_PrintUnformatted(o)) == NULL)
		fatal("cannot build JSON");
	session_frame(s, AGENT_PROTO_EXIT, text, strlen(text));
	free(text);
	cJSON_Delete(o);
	session_uncount(s);
	s->state = SESSION_FINISHING;
	if (s->set->stopping)
		tv.tv_sec = SESSION_STOP_LINGER;
	evtimer_add(&s->timer, &tv);
	if (s->bev != NULL)
		bufferevent_enable(s->bev, EV_READ);
}

/* Refuse a request: log why, tell the caller, run nothing. */
static void __attribute__((format(printf, 2, 3)))
session_refuse(struct session *s, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	log_warn("%s (%s): request refused: %s", s->peer,
	    s->who != NULL ? s->who : "?", text);
	session_finish(s, 1, text);
}

/*
 * The caller is gone or the agent must stop: kill the plugin's group and
 * drop the connection.  The plugin's stdin stays open until it has died,
 * so a restore never mistakes the cut for the end of its stream.
 */
static void
session_abort(struct session *s, const char *why)
{
	const char *what;

	if (s->state == SESSION_DEAD || s->state == SESSION_ABORTING)
		return;
	if (s->bev != NULL) {
		bufferevent_free(s->bev);
		s->bev = NULL;
	}
	if (s->validating) {
		plugins_validate_abandon(s->set->cfg.plugins, s);
		s->validating = 0;
	}
	if (s->state != SESSION_RUNNING || s->child == NULL || s->exited) {
		if (s->state == SESSION_RUNNING)
			log_warn("%s: %s %s ended early: %s", s->peer,
			    s->action == SESSION_RESTORE ? "restore" :
			    "request", s->plugin, why);
		session_kill(s);
		return;
	}
	what = s->action == SESSION_BACKUP ? "backup" : s->action ==
	    SESSION_RESTORE ? "restore" : "validate";
	if (s->action == SESSION_RESTORE && !s->in_end)
		log_warn("%s: restore through %s aborted: %s after %lld "
		    "bytes, before the end of the stream; stopping the "
		    "plugin without end of input, nothing is committed",
		    s->peer, s->plugin, why, (long long)s->bytes);
	else
		log_warn("%s: %s through %s aborted: %s; stopping the "
		    "plugin", s->peer, what, s->plugin, why);
	s->state = SESSION_ABORTING;
	session_uncount(s);
	event_del(&s->timer);
	/* A backup plugin still writing gets EPIPE at once. */
	session_close(&s->out_fd, &s->out_ev);
	if (s->in_fd != -1)
		event_del(&s->in_ev);
	child_terminate(s->child, SESSION_GRACE_MS);
}

/* A readable name for the peer's address. */
static void
session_peer_name(struct session *s, const struct sockaddr *sa)
{
	char host[INET6_ADDRSTRLEN];
	const void *addr;
	int port;

	if (sa->sa_family == AF_INET6) {
		addr = &((const struct sockaddr_in6 *)sa)->sin6_addr;
		port = ntohs(((const struct sockaddr_in6 *)sa)->sin6_port);
	} else {
		addr = &((const struct sockaddr_in *)sa)->sin_addr;
		port = ntohs(((const struct sockaddr_in *)sa)->sin_port);
	}
	if (inet_ntop(sa->sa_family, addr, host, sizeof host) == NULL)
		snprintf(host, sizeof host, "?");
	if (sa->sa_family == AF_INET6)
		snprintf(s->peer, sizeof s->peer, "[%s]:%d", host, port);
	else
		snprintf(s->peer, sizeof s->peer, "%s:%d", host, port);
}

/* Notice a dead peer within minutes even when no packet says so. */
static void
session_keepalive(int fd)
{
	int on = 1, idle = 60, intvl = 10, cnt = 6;

	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
}

/* Create the set. */
struct session_set *
session_set_new(const struct session_config *cfg)
{
	struct session_set *set = xcalloc(1, sizeof *set);

	set->cfg = *cfg;
	LIST_INIT(&set->sessions);
	return set;
}

/* Take over an accepted connection and start the TLS handshake. */
void
session_set_accept(struct session_set *set, int fd,
    const struct sockaddr *sa, int socklen)
{
	struct timeval tv = { SESSION_HELLO_TIMEOUT, 0 };
	struct session *s;
	SSL *ssl;

	(void)socklen;
	if (set->stopping ||
	    set->count >= set->cfg.max_requests + SESSION_SPARE) {
		/* Before TLS there is no way to say why: just close. */
		log_warn("too many connections (%d); one dropped",
		    set->count);
		close(fd);
		return;
	}
	if ((ssl = SSL_new(set->cfg.ssl_ctx)) == NULL) {
		log_warn("cannot create a TLS session");
		close(fd);
		return;
	}
	s = xcalloc(1, sizeof *s);
	s->set = set;
	s->state = SESSION_HELLO;
	s->out_fd = s->in_fd = s->err_fd = -1;
	session_peer_name(s, sa);
	session_keepalive(fd);
	evtimer_assign(&s->timer, set->cfg.base, session_timer_cb, s);
	event_assign(&s->free_ev, set->cfg.base, -1, 0, session_free_cb, s);
	s->bev = bufferevent_openssl_socket_new(set->cfg.base, fd, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (s->bev == NULL) {
		log_warn("%s: cannot set up the connection", s->peer);
		SSL_free(ssl);
		close(fd);
		free(s);
		return;
	}
	bufferevent_openssl_set_allow_dirty_shutdown(s->bev, 1);
	bufferevent_setcb(s->bev, session_read_cb, session_write_cb,
	    session_event_cb, s);
	bufferevent_setwatermark(s->bev, EV_WRITE, SESSION_OUT_LOW, 0);
	bufferevent_enable(s->bev, EV_READ | EV_WRITE);
	evtimer_add(&s->timer, &tv);
	LIST_INSERT_HEAD(&set->sessions, s, entry);
	set->count++;
	log_debug("%s: connection", s->peer);
}

/* Really free a session. */
static void
session_release(struct session *s)
{
	struct session_set *set = s->set;

	LIST_REMOVE(s, entry);
	set->count--;
	session_uncount(s);
	if (s->validating)
		plugins_validate_abandon(set->cfg.plugins, s);
	if (event_initialized(&s->timer))
		event_del(&s->timer);
	event_del(&s->free_ev);
	if (s->bev != NULL)
		bufferevent_free(s->bev);
	session_close(&s->out_fd, &s->out_ev);
	session_close(&s->in_fd, &s->in_ev);
	session_close(&s->err_fd, &s->err_ev);
	linesplit_free(s->err);
	if (s->in_buf != NULL)
		evbuffer_free(s->in_buf);
	child_free(s->child);
	mask_free(s->mask);
	free(s->who);
	free(s->plugin);
	free(s->failure);
	free(s);
	if (set->stopping && set->count == 0 && set->done != NULL) {
		set->done(set->done_arg);
		set->done = NULL;
	}
}

/* The deferred release of a session that is over. */
static void
session_free_cb(int fd, short events, void *arg)
{
	struct session *s = arg;

	session_release(s);
}

/* Kill everything and free the set. */
void
session_set_free(struct session_set *set)
{
	struct session *s;

	if (set == NULL)
		return;
	set->done = NULL;
	while ((s = LIST_FIRST(&set->sessions)) != NULL)
		session_release(s);
	free(set);
}

/*
 * The agent is stopping.  A running plugin is stopped (a restore's stdin
 * left open, so it commits nothing) and its caller gets the exit frame,
 * with the reason, once it is dead; a caller yet to send its request, or
 * waiting for a validation, is told at once.  Then TLS is closed cleanly.
 */
static void
session_stop(struct session *s)
{
	struct timeval tv = { SESSION_STOP_LINGER, 0 };

	switch (s->state) {
	case SESSION_HELLO:
		if (!s->tls_up) {
			session_kill(s);
			break;
		}
		session_finish(s, 1, SESSION_STOPPING);
		break;
	case SESSION_RUNNING:
		if (s->validating) {
			plugins_validate_abandon(s->set->cfg.plugins, s);
			s->validating = 0;
			log_warn("%s: validate through %s ended: %s", s->peer,
			    s->plugin, SESSION_STOPPING);
			session_finish(s, 1, SESSION_STOPPING);
			break;
		}
		free(s->failure);
		s->failure = xstrdup(SESSION_STOPPING);
		/* Nothing more reaches the caller or the plugin. */
		session_close(&s->out_fd, &s->out_ev);
		if (s->in_fd != -1)
			event_del(&s->in_ev);
		if (s->child != NULL && !s->exited)
			child_terminate(s->child, SESSION_GRACE_MS);
		session_check_done(s);
		break;
	case SESSION_FINISHING:
		evtimer_add(&s->timer, &tv);	/* sooner than the linger */
		session_goodbye(s);
		break;
	default:
		break;
	}
}

/* Stop every session; done once they are all gone. */
void
session_set_shutdown(struct session_set *set, void (*done)(void *),
    void *arg)
{
	struct session *s, *next;

	set->stopping = 1;
	set->done = done;
	set->done_arg = arg;
	for (s = LIST_FIRST(&set->sessions); s != NULL; s = next) {
		next = LIST_NEXT(s, entry);
		session_stop(s);
	}
	if (set->count == 0 && set->done != NULL) {
		set->done = NULL;
		done(arg);
	}
}

/* Sessions open. */
int
session_set_count(struct session_set *set)
{
	return set->count;
}

/* Requests running. */
int
session_set_running(struct session_set *set)
{
	return set->running;
}

/* The verify error of a failed handshake, or OpenSSL's last error. */
static void
session_tls_error(struct session *s, char *buf, size_t len)
{
	SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
	unsigned long e, last = 0;
	long v;

	/*
	 * libevent hands back the queue newest first, and the oldest entry
	 * is SSL_get_error()'s code, not an error: keep the newest real one.
	 */
	while ((e = bufferevent_get_openssl_error(s->bev)) != 0) {
		if (last == 0 && ERR_GET_LIB(e) != 0)
			last = e;
	}
	v = ssl != NULL ? SSL_get_verify_result(ssl) : X509_V_OK;
	if (v != X509_V_OK)
		snprintf(buf, len, "client certificate rejected: %s",
		    X509_verify_cert_error_string(v));
	else if (last != 0 && ERR_reason_error_string(last) != NULL)
		snprintf(buf, len, "%s", ERR_reason_error_string(last));
	else if (errno != 0)
		snprintf(buf, len, "%s", strerror(errno));
	else
		snprintf(buf, len, "connection closed");
}

/*
 * The handshake is done and OpenSSL verified the chain: name the caller
 * and, when fingerprints are configured, check that it is one of them.
 */
static int
session_authorize(struct session *s)
{
	SSL *ssl = bufferevent_openssl_get_ssl(s->bev);
	unsigned char md[EVP_MAX_MD_SIZE];
	char hex[2 * EVP_MAX_MD_SIZE + 1], cn[256];
	unsigned int n = 0, i;
	char *const *a;
	X509 *cert;

	if (ssl == NULL || (cert = SSL_get1_peer_certificate(ssl)) == NULL) {
		log_warn("%s: refused: no client certificate", s->peer);
		return -1;
	}
	cn[0] = '\0';
	X509_NAME_get_text_by_NID(X509_get_subject_name(cert),
	    NID_commonName, cn, sizeof cn);
	s->who = xstrdup(cn[0] != '\0' ? cn : "no name");
	if (X509_digest(cert, EVP_sha256(), md, &n) != 1)
		n = 0;
	X509_free(cert);
	for (i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
	hex[2 * n] = '\0';
	if (s->set->cfg.authorized == NULL)
		return 0;
	for (a = s->set->cfg.authorized; n > 0 && *a != NULL; a++) {
		if (strcmp(*a, hex) == 0)
			return 0;
	}
	log_warn("%s: refused: client certificate '%s' (sha256 %s) is not "
	    "an authorized client", s->peer, s->who, hex);
	return -1;
}

/* Connection events: handshake done, end of file, errors. */
static void
session_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct session *s = arg;
	char why[512];

	if (what & BEV_EVENT_CONNECTED) {
		s->tls_up = 1;
		if (session_authorize(s) != 0) {
			session_kill(s);
			return;
		}
		log_debug("%s: authenticated as '%s'", s->peer, s->who);
		return;
	}
	if (!(what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)))
		return;
	if (!s->tls_up) {
		errno = EVUTIL_SOCKET_ERROR();
		session_tls_error(s, why, sizeof why);
		log_warn("%s: refused: TLS handshake failed: %s", s->peer,
		    why);
		session_kill(s);
		return;
	}
	switch (s->state) {
	case SESSION_HELLO:
		log_info("%s: closed before sending a request", s->peer);
		session_kill(s);
		break;
	case SESSION_RUNNING:
		session_abort(s, "the connection was lost");
		break;
	case SESSION_FINISHING:
		log_debug("%s: closed", s->peer);
		session_kill(s);
		break;
	default:
		break;
	}
}

/* Hello, request or linger time is up. */
static void
session_timer_cb(int fd, short events, void *arg)
{
	struct session *s = arg;

	switch (s->state) {
	case SESSION_HELLO:
		log_warn("%s: no request within %d s; closed", s->peer,
		    SESSION_HELLO_TIMEOUT);
		session_kill(s);
		break;
	case SESSION_RUNNING:
		if (s->failure == NULL)
			xasprintf(&s->failure, "timed out after %d s",
			    s->set->cfg.request_timeout);
		log_warn("%s: %s %s", s->peer, s->plugin, s->failure);
		if (s->child != NULL)
			child_terminate(s->child, SESSION_GRACE_MS);
		break;
	case SESSION_FINISHING:
		session_kill(s);
		break;
	default:
		break;
	}
}

/* The output drained below the low mark: read the plugin again. */
static void
session_write_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	if (s->state == SESSION_RUNNING && s->out_paused && s->out_fd != -1) {
		s->out_paused = 0;
		event_add(&s->out_ev, NULL);
	}
	session_goodbye(s);
}

/* The plugin wrote backup data: frame it onto the connection. */
static void
session_out_cb(int fd, short events, void *arg)
{
	struct session *s = arg;
	char buf[SESSION_READ];
	ssize_t n;

	n = read(s->out_fd, buf, sizeof buf);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {
		if (n == -1)
			log_warn("%s: reading from %s: %s", s->peer, s->plugin,
			    strerror(errno));
		session_close(&s->out_fd, &s->out_ev);
		session_check_done(s);
		return;
	}
	s->bytes += n;
	session_frame(s, AGENT_PROTO_DATA, buf, (size_t)n);
	if (evbuffer_get_length(bufferevent_get_output(s->bev)) >
	    SESSION_OUT_HIGH) {
		s->out_paused = 1;
		event_del(&s->out_ev);
	}
}

/*
 * Pass one stderr line, its secrets masked, to the caller and to our debug
 * log.  cut: the line was cut short, perhaps inside a secret.
 */
static void
session_line(const char *line, size_t len, int cut, void *arg)
{
	struct session *s = arg;
	char *text;
	size_t n;

	text = mask_text(s->mask, line, len, cut, &n);
	log_debug("%s: %s: %s", s->peer, s->plugin, text);
	if (s->state == SESSION_RUNNING)
		session_frame(s, AGENT_PROTO_LOG, text, n);
	free(text);
}

/* The plugin's stderr is readable: pass on each complete line. */
static void
session_err_cb(int fd, short events, void *arg)
{
	struct session *s = arg;

	if (linesplit_read(s->err, s->err_fd) == 0) {
		session_close(&s->err_fd, &s->err_ev);
		session_check_done(s);
	}
}

/*
 * Write what the caller sent on to the plugin's stdin.  The stdin is
 * closed only once the end frame came and everything was written.
 */
static void
session_stdin_flush(struct session *s)
{
	int n;

	while (s->in_fd != -1 && evbuffer_get_length(s->in_buf) > 0) {
		n = evbuffer_write(s->in_buf, s->in_fd);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && errno == EAGAIN) {
			event_add(&s->in_ev, NULL);
			return;
		}
		if (n == -1) {
			/* It stopped reading; its exit status will say. */
			log_warn("%s: %s stopped reading its input after "
			    "%lld bytes", s->peer, s->plugin,
			    (long long)(s->bytes -
			    (int64_t)evbuffer_get_length(s->in_buf)));
			evbuffer_drain(s->in_buf,
			    evbuffer_get_length(s->in_buf));
			session_close(&s->in_fd, &s->in_ev);
			break;
		}
	}
	if (s->in_fd != -1 && s->in_end && !s->set->stopping) {
		log_debug("%s: restore stream complete, %lld bytes",
		    s->peer, (long long)s->bytes);
		session_close(&s->in_fd, &s->in_ev);
	}
	if (s->in_paused && evbuffer_get_length(s->in_buf) <
	    SESSION_IN_HIGH / 2 && s->bev != NULL) {
		s->in_paused = 0;
		bufferevent_enable(s->bev, EV_READ);
		/* Frames already decrypted would get no new read event. */
		session_input(s);
	}
}

/* The plugin's stdin has room again. */
static void
session_in_cb(int fd, short events, void *arg)
{
	struct session *s = arg;

	event_del(&s->in_ev);
	session_stdin_flush(s);
}

/* The plugin exited. */
static void
session_exit_cb(struct child *c, int status, void *arg)
{
	struct session *s = arg;

	s->exited = 1;
	s->status = status;
	if (s->state == SESSION_ABORTING) {
		log_info("%s: %s stopped", s->peer, s->plugin);
		session_close(&s->in_fd, &s->in_ev);
		session_close(&s->out_fd, &s->out_ev);
		session_close(&s->err_fd, &s->err_ev);
		session_kill(s);
		return;
	}
	session_check_done(s);
}

/*
 * Once the plugin exited and its pipes are at end of file, send its exit
 * status.  The stdin of a restore that exited before the end frame is left
 * to be closed now: nobody reads it any more.
 */
static void
session_check_done(struct session *s)
{
	const char *what;
	char how[64];
	int code;

	if (s->state != SESSION_RUNNING || !s->exited || s->out_fd != -1 ||
	    s->err_fd != -1)
		return;
	session_close(&s->in_fd, &s->in_ev);
	event_del(&s->timer);
	if (WIFSIGNALED(s->status)) {
		code = 128 + WTERMSIG(s->status);
		snprintf(how, sizeof how, "killed by signal %d",
		    WTERMSIG(s->status));
	} else {
		code = WEXITSTATUS(s->status);
		snprintf(how, sizeof how, "exit status %d", code);
	}
	what = s->action == SESSION_BACKUP ? "backup" : "restore";
	if (code == 0 && s->failure == NULL)
		log_info("%s: %s through %s done, %lld bytes", s->peer, what,
		    s->plugin, (long long)s->bytes);
	else if (s->failure != NULL)
		log_warn("%s: %s through %s failed: %s (%s)", s->peer, what,
		    s->plugin, s->failure, how);
	else
		log_warn("%s: %s through %s failed: %s", s->peer, what,
		    s->plugin, how);
	session_finish(s, code == 0 && s->failure != NULL ? 1 : code,
	    s->failure);
}

/* A validation finished (possibly before plugins_validate() returned). */
static void
session_validated_cb(int ok, const char *reasons, void *arg)
{
	struct session *s = arg;
	const char *p, *nl;
	char *text;
	size_t n;

	s->validating = 0;
	for (p = reasons; p != NULL && *p != '\0'; p = nl + 1) {
		if ((nl = strchr(p, '\n')) == NULL)
			nl = p + strlen(p);
		if (nl > p) {
			text = mask_text(s->mask, p, nl - p, 0, &n);
			session_frame(s, AGENT_PROTO_LOG, text, n);
			free(text);
		}
		if (*nl == '\0')
			break;
	}
	log_info("%s: validate through %s: %s", s->peer, s->plugin,
	    ok ? "ok" : "not valid");
	session_finish(s, ok ? 0 : 1, NULL);
}

/* Start the plugin for a checked request. */
static void
session_start(struct session *s, const char *path, const char *endpoint)
{
	static const char *const actions[] = { "backup", "restore" };
	struct timeval tv;
	struct child_spec spec;
	const char *argv[5];
	char *err = NULL;

	s->set->running++;
	s->counted = 1;
	s->state = SESSION_RUNNING;
	event_del(&s->timer);
	if (s->set->cfg.request_timeout > 0) {
		tv.tv_sec = s->set->cfg.request_timeout;
		tv.tv_usec = 0;
		evtimer_add(&s->timer, &tv);
	}
	if (s->action == SESSION_VALIDATE) {
		log_info("%s (%s): validate through %s", s->peer, s->who,
		    s->plugin);
		s->validating = 1;
		if (plugins_validate(s->set->cfg.plugins, s->plugin, endpoint,
		    session_validated_cb, s, &err) != 0) {
			s->validating = 0;
			session_refuse(s, "%s", err);
			free(err);
		}
		return;
	}
	argv[0] = s->plugin;
	argv[1] = actions[s->action];
	argv[2] = "--endpoint";
	argv[3] = endpoint;
	argv[4] = NULL;
	memset(&spec, 0, sizeof spec);
	spec.path = path;
	spec.argv = argv;
	spec.in = s->action == SESSION_RESTORE ? CHILD_PIPE : CHILD_NULL;
	spec.out = s->action == SESSION_BACKUP ? CHILD_PIPE : CHILD_NULL;
	spec.err = CHILD_PIPE;
	s->child = child_spawn(s->set->cfg.children, &spec, session_exit_cb,
	    s, &err);
	if (s->child == NULL) {
		session_refuse(s, "%s", err);
		free(err);
		return;
	}
	log_info("%s (%s): %s through %s started (pid %ld)", s->peer, s->who,
	    argv[1], s->plugin, (long)child_pid(s->child));
	s->err_fd = spec.err;
	s->err = linesplit_new(SESSION_LINE_MAX, session_line, s);
	event_assign(&s->err_ev, s->set->cfg.base, s->err_fd,
	    EV_READ | EV_PERSIST, session_err_cb, s);
	event_add(&s->err_ev, NULL);
	if (s->action == SESSION_BACKUP) {
		s->out_fd = spec.out;
		event_assign(&s->out_ev, s->set->cfg.base, s->out_fd,
		    EV_READ | EV_PERSIST, session_out_cb, s);
		event_add(&s->out_ev, NULL);
	} else {
		s->in_fd = spec.in;
		s->in_buf = evbuffer_new();
		event_assign(&s->in_ev, s->set->cfg.base, s->in_fd, EV_WRITE,
		    session_in_cb, s);
	}
}

/* Check the request line and start what it asks for. */
static void
session_request(struct session *s, const char *line)
{
	const cJSON *v, *action, *plugin, *ep;
	char *path = NULL, *err = NULL, *endpoint = NULL;
	cJSON *req, *obj = NULL;

	req = cJSON_Parse(line);
	v = cJSON_GetObjectItemCaseSensitive(req, "version");
	action = cJSON_GetObjectItemCaseSensitive(req, "action");
	plugin = cJSON_GetObjectItemCaseSensitive(req, "plugin");
	ep = cJSON_GetObjectItemCaseSensitive(req, "endpoint");
	if (!cJSON_IsObject(req)) {
		session_refuse(s, "the request is not a JSON object");
		goto out;
	}
	if (!cJSON_IsNumber(v) || v->valueint != AGENT_PROTO_VERSION) {
		session_refuse(s, "unsupported protocol version (this agent "
		    "speaks version %d)", AGENT_PROTO_VERSION);
		goto out;
	}
	if (!cJSON_IsString(action) || (strcmp(action->valuestring,
	    "backup") != 0 && strcmp(action->valuestring, "restore") != 0 &&
	    strcmp(action->valuestring, "validate") != 0)) {
		session_refuse(s, "action must be backup, restore or "
		    "validate");
		goto out;
	}
	if (strcmp(action->valuestring, "backup") == 0)
		s->action = SESSION_BACKUP;
	else if (strcmp(action->valuestring, "restore") == 0)
		s->action = SESSION_RESTORE;
	else
		s->action = SESSION_VALIDATE;
	if (!cJSON_IsString(plugin)) {
		session_refuse(s, "plugin must be a string");
		goto out;
	}
	/* Only plain names, looked up in our own directory. */
	if ((path = plugins_path(s->set->cfg.plugins, plugin->valuestring,
	    &err)) == NULL) {
		session_refuse(s, "%s", err);
		goto out;
	}
	s->plugin = xstrdup(plugin->valuestring);
	if (cJSON_IsString(ep))
		obj = cJSON_Parse(ep->valuestring);
	else if (cJSON_IsObject(ep))
		obj = cJSON_Duplicate(ep, 1);
	if (!cJSON_IsObject(obj)) {
		/* Never quote it: endpoints hold secrets. */
		session_refuse(s, "endpoint must be a JSON object");
		goto out;
	}
	if ((endpoint = cJSON_PrintUnformatted(obj)) == NULL)
		fatal("cannot build JSON");
	s->mask = mask_new(obj, plugins_info(s->set->cfg.plugins, s->plugin));
	if (s->set->stopping) {
		session_refuse(s, "shield-agent is stopping");
		goto out;
	}
	if (s->set->running >= s->set->cfg.max_requests) {
		session_refuse(s, "too many requests: this agent runs at most "
		    "%d at a time (max-requests); try again later",
		    s->set->cfg.max_requests);
		goto out;
	}
	session_start(s, path, endpoint);
out:
	cJSON_Delete(req);
	cJSON_Delete(obj);
	free(endpoint);
	free(path);
	free(err);
}

/* A protocol error from the caller: end the request, killing the plugin. */
static void
session_protocol_error(struct session *s, const char *why)
{
	log_warn("%s: protocol error: %s", s->peer, why);
	if (s->state == SESSION_RUNNING && s->child != NULL && !s->exited)
		session_abort(s, "protocol error");
	else
		session_kill(s);
}

/* Take the frames of a running restore off the connection. */
static void
session_frames(struct session *s)
{
	struct evbuffer *in = bufferevent_get_input(s->bev);
	unsigned char head[AGENT_PROTO_FRAME_HEAD];
	size_t len;

	while (s->state == SESSION_RUNNING && !s->in_paused &&
	    evbuffer_get_length(in) >= sizeof head) {
		evbuffer_copyout(in, head, sizeof head);
		len = (size_t)head[1] << 24 | (size_t)head[2] << 16 |
		    (size_t)head[3] << 8 | head[4];
		if (len > AGENT_PROTO_FRAME_MAX) {
			session_protocol_error(s, "frame too long");
			return;
		}
		if (head[0] == AGENT_PROTO_END && !s->in_end && len == 0) {
			evbuffer_drain(in, sizeof head);
			s->in_end = 1;
			break;
		}
		if (head[0] != AGENT_PROTO_DATA || s->in_end) {
			session_protocol_error(s, "unexpected frame");
			return;
		}
		if (evbuffer_get_length(in) < sizeof head + len)
			break;
		evbuffer_drain(in, sizeof head);
		s->bytes += len;
		if (s->in_fd != -1)
			evbuffer_remove_buffer(in, s->in_buf, len);
		else
			evbuffer_drain(in, len);	/* it stopped reading */
		if (evbuffer_get_length(s->in_buf) >= SESSION_IN_HIGH) {
			s->in_paused = 1;
			bufferevent_disable(s->bev, EV_READ);
		}
	}
	session_stdin_flush(s);
}

/* Act on what the caller sent so far. */
static void
session_input(struct session *s)
{
	struct evbuffer *in;
	size_t n;
	char *line;

	if (s->bev == NULL)
		return;
	in = bufferevent_get_input(s->bev);
	switch (s->state) {
	case SESSION_HELLO:
		line = evbuffer_readln(in, &n, EVBUFFER_EOL_LF);
		if (line == NULL) {
			if (evbuffer_get_length(in) >= AGENT_PROTO_HEADER_MAX) {
				session_refuse(s, "the request line is longer "
				    "than %d KiB", AGENT_PROTO_HEADER_MAX / 1024);
				/* The rest of it is dropped as it comes. */
				evbuffer_drain(in, evbuffer_get_length(in));
			}
			return;
		}
		if (n + 1 > AGENT_PROTO_HEADER_MAX)
			session_refuse(s, "the request line is longer than %d "
			    "KiB", AGENT_PROTO_HEADER_MAX / 1024);
		else
			session_request(s, line);
		free(line);
		if (s->state == SESSION_RUNNING)
			session_input(s);
		break;
	case SESSION_RUNNING:
		if (s->set->stopping)
			/* Nothing more reaches a plugin being stopped. */
			evbuffer_drain(in, evbuffer_get_length(in));
		else if (s->action == SESSION_RESTORE && s->in_buf != NULL)
			session_frames(s);
		else if (evbuffer_get_length(in) > 0)
			session_protocol_error(s, "unexpected data");
		break;
	case SESSION_FINISHING:
		/* A restore's rest, sent before it saw our exit frame. */
		evbuffer_drain(in, evbuffer_get_length(in));
		break;
	default:
		break;
	}
}

/* The caller sent something. */
static void
session_read_cb(struct bufferevent *bev, void *arg)
{
	struct session *s = arg;

	session_input(s);
}
