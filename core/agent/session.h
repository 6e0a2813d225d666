/*
 * session: one caller's connection to shield-agent, from the TLS handshake
 * to the last frame.  A session reads the request line, checks it (action,
 * plugin name, request limit), runs the plugin through the child module and
 * relays its stdout (backup), the caller's stream into its stdin (restore)
 * and its stderr lines and exit status, as agent_proto.h describes.  A
 * caller that goes away stops the plugin's process group; a restore whose
 * stream did not end with its end frame is killed without ever seeing end
 * of input.
 *
 * Ownership: the session set belongs to the daemon and owns every session;
 * sessions free themselves on a later loop turn once they are over.  The
 * config's pointers are borrowed and must outlive the set.
 */
#ifndef SHIELD_SESSION_H
#define SHIELD_SESSION_H

#include <sys/socket.h>

#include <openssl/ssl.h>

struct event_base;
struct child_set;
struct plugins;
struct session_set;

struct session_config {
	struct event_base	*base;
	struct child_set	*children;
	struct plugins		*plugins;
	SSL_CTX			*ssl_ctx;	/* server side */
	int			 max_requests;	/* running at the same time */
	int			 request_timeout; /* seconds, 0 = none */
	/*
	 * SHA-256 fingerprints of the client certificates allowed in, as 64
	 * lower-case hex digits each, NULL-terminated; NULL allows every
	 * certificate the CA signed.
	 */
	char *const		*authorized;
};

struct session_set	*session_set_new(const struct session_config *);
/* Kill every plugin and drop every connection at once. */
void			 session_set_free(struct session_set *);
/* Take over an accepted connection (the set closes fd). */
void			 session_set_accept(struct session_set *, int fd,
			    const struct sockaddr *, int socklen);
/*
 * Refuse new requests, stop every running plugin (SIGTERM, then SIGKILL)
 * and call done once no session is left (at once if there is none).
 */
void			 session_set_shutdown(struct session_set *,
			    void (*done)(void *), void *arg);
/* Sessions open, and requests running. */
int			 session_set_count(struct session_set *);
int			 session_set_running(struct session_set *);

#endif
