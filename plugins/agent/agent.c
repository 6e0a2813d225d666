/*
 * The agent plugin: a target whose backup, restore and validate run on
 * another host, by a shield-agent there, through a plugin of the agent's
 * own.  It opens one mutually authenticated TLS connection per action (the
 * agent's certificate checked against agent_ca and the address, ours from
 * client_cert/client_key), sends the request line and relays frames as
 * core/agent/agent_proto.h describes: the backup stream to stdout, stdin to
 * the agent as the restore stream (its end frame only after end of file),
 * the remote plugin's stderr lines to our stderr and its exit status as
 * ours.  Data is streamed in frames and never held whole.
 *
 * The socket is non-blocking under a small poll() loop, so a restore can
 * read the agent's log lines while it sends, and neither side waits on the
 * other.  Nothing here prints the endpoint or remote_endpoint: they may
 * hold secrets.  Nor does a careless remote plugin get to: the values of
 * remote_endpoint that look secret are masked in every line relayed from
 * the agent (the agent masks them too; this side holds even if it does
 * not).
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "agent_proto.h"
#include "plugin.h"
#include "tool.h"

#define AGENT_TIMEOUT		30		/* connect + handshake, s */
#define AGENT_VALIDATE_TIMEOUT	10		/* the same when validating */
#define AGENT_CHUNK		(64 * 1024)	/* stdin read per data frame */
#define AGENT_NAME_MAX		64
#define AGENT_SECRETS_MAX	32		/* values masked in lines */
#define AGENT_NEST_MAX		4		/* agents behind agents */

/* Endpoint keys whose values are secrets, judged as shieldd does. */
static const char *const agent_secret_marks[] = {
	"password", "secret", "token", "passwd", "key_id", "auth", NULL
};

static const struct plugin_field agent_fields[] = {
	{ "agent_address", "string", 1, NULL,
	    "HOST:PORT of the shield-agent on the data host (port 7777 when "
	    "left out; IPv6 as [ADDR]:PORT).  The agent's certificate must "
	    "name HOST.",
	    NULL, "Agent address" },
	{ "agent_ca", "path", 1, NULL,
	    "CA certificate (PEM) that signed the agent's certificate; only "
	    "agents it signed are trusted.",
	    NULL, "Agent CA certificate" },
	{ "client_cert", "path", 1, NULL,
	    "This SHIELD core's client certificate (PEM), signed by the CA the "
	    "agent trusts.",
	    NULL, "Client certificate" },
	{ "client_key", "path", 1, NULL,
	    "The private key of client_cert (PEM).",
	    NULL, "Client key" },
	{ "remote_plugin", "string", 1, NULL,
	    "The target plugin to run on the agent (a short name in the "
	    "agent's plugin directory, e.g. fs).",
	    NULL, "Remote plugin" },
	{ "remote_endpoint", "password", 0, "{}",
	    "That plugin's endpoint: a JSON object, or a string holding one.  "
	    "Treated as a secret.",
	    NULL, "Remote endpoint" },
	{ "timeout", "int", 0, "30",
	    "Seconds to wait for the connection and the TLS handshake.",
	    NULL, "Connect timeout (seconds)" },
	{ NULL, NULL, 0, NULL, NULL, NULL, NULL }
};

/* What an action needs to know, read from the endpoint. */
struct agent_target {
	char		 host[256];
	char		 port[8];
	char		 address[300];	/* as given, for messages */
	const char	*ca;
	const char	*cert;
	const char	*key;
	const char	*plugin;
	char		*endpoint;	/* remote_endpoint as JSON text */
	char		*secrets[AGENT_SECRETS_MAX + 1]; /* NULL-terminated */
	int		 timeout;
};

/* One connection to an agent. */
struct agent_conn {
	const struct agent_target *t;
	const char	*action;
	int		 fd;
	SSL_CTX		*ctx;
	SSL		*ssl;
	int		 frames;	/* frames received so far */
	unsigned char	*in;		/* a frame being received */
	size_t		 in_len;
	char		 why[512];	/* the last I/O error */
};

/* Copy a string into a fixed buffer; 0 if it did not fit. */
static int
agent_copy(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		return 0;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 1;
}

/* Split HOST:PORT, [V6]:PORT, or a bare host (the usual port). */
static int
agent_address_parse(struct agent_target *t, const char *s)
{
	const char *colon, *end, *port;
	size_t i;

	if (!agent_copy(t->address, sizeof t->address, s, strlen(s)))
		return -1;
	if (s[0] == '[') {
		if ((end = strchr(s, ']')) == NULL)
			return -1;
		if (!agent_copy(t->host, sizeof t->host, s + 1, end - s - 1))
			return -1;
		port = end[1] == ':' ? end + 2 : end[1] == '\0' ? "" : NULL;
	} else {
		colon = strrchr(s, ':');
		if (colon != NULL && strchr(s, ':') != colon)
			return -1;	/* a bare IPv6 address needs [] */
		end = colon != NULL ? colon : s + strlen(s);
		if (!agent_copy(t->host, sizeof t->host, s, end - s))
			return -1;
		port = colon != NULL ? colon + 1 : "";
	}
	if (port == NULL || t->host[0] == '\0')
		return -1;
	if (*port == '\0')
		snprintf(t->port, sizeof t->port, "%d", AGENT_PROTO_PORT);
	else {
		for (i = 0; port[i] != '\0'; i++) {
			if (!isdigit((unsigned char)port[i]))
				return -1;
		}
		if (i > 5 || atoi(port) < 1 || atoi(port) > 65535)
			return -1;
		snprintf(t->port, sizeof t->port, "%s", port);
	}
	return 0;
}

/* 1 if the name could be a plugin on the agent (it checks again). */
static int
agent_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > AGENT_NAME_MAX || name[0] == '-')
		return 0;
	for (i = 0; i < n; i++) {
		if (!isalnum((unsigned char)name[i]) && name[i] != '_' &&
		    name[i] != '-')
			return 0;
	}
	return 1;
}

/*
 * Remember the values of an endpoint that look secret, and those of a
 * remote_endpoint inside it (an agent reached through an agent).
 */
static void
agent_secrets_collect(struct agent_target *t, const cJSON *ep, int depth)
{
	const cJSON *it;
	cJSON *inner;
	size_t i, n;

	cJSON_ArrayForEach(it, ep) {
		if (it->string == NULL)
			continue;
		if (strcmp(it->string, "remote_endpoint") == 0) {
			if (depth >= AGENT_NEST_MAX)
				continue;
			if (cJSON_IsObject(it))
				agent_secrets_collect(t, it, depth + 1);
			else if (cJSON_IsString(it) &&
			    (inner = cJSON_Parse(it->valuestring)) != NULL) {
				agent_secrets_collect(t, inner, depth + 1);
				cJSON_Delete(inner);
			}
			continue;
		}
		if (!cJSON_IsString(it))
			continue;
		for (i = 0; agent_secret_marks[i] != NULL; i++) {
			if (strcasestr(it->string, agent_secret_marks[i]) !=
			    NULL)
				break;
		}
		if (agent_secret_marks[i] == NULL)
			continue;
		for (n = 0; n < AGENT_SECRETS_MAX && t->secrets[n] != NULL; n++)
			;
		if (n < AGENT_SECRETS_MAX)
			t->secrets[n] = strdup(it->valuestring);
	}
}

/*
 * Read the endpoint.  With check set, report every problem and also check
 * what only validate looks at (the plugin name, the files); the agent
 * checks the name again whatever we send.
 */
static int
agent_target_load(const cJSON *ep, struct agent_target *t, int check)
{
	const char *addr, *files[3];
	const cJSON *rep;
	cJSON *obj = NULL;
	int bad = 0, i;

	memset(t, 0, sizeof *t);
	addr = plugin_ep_string(ep, "agent_address", "");
	if (agent_address_parse(t, addr) != 0) {
		plugin_error("agent_address must be HOST:PORT");
		bad = 1;
	}
	t->ca = plugin_ep_string(ep, "agent_ca", "");
	t->cert = plugin_ep_string(ep, "client_cert", "");
	t->key = plugin_ep_string(ep, "client_key", "");
	t->plugin = plugin_ep_string(ep, "remote_plugin", "");
	t->timeout = (int)plugin_ep_int(ep, "timeout", AGENT_TIMEOUT);
	if (t->timeout <= 0)
		t->timeout = AGENT_TIMEOUT;
	rep = cJSON_GetObjectItemCaseSensitive(ep, "remote_endpoint");
	if (rep == NULL || cJSON_IsNull(rep))
		obj = cJSON_CreateObject();
	else if (cJSON_IsString(rep))
		obj = cJSON_Parse(rep->valuestring);
	if (!cJSON_IsObject(obj)) {
		/* Never quote it: it may hold a password. */
		plugin_error("remote_endpoint must be a JSON object or a "
		    "string holding one");
		bad = 1;
	} else if ((t->endpoint = cJSON_PrintUnformatted(obj)) == NULL)
		bad = 1;
	else
		agent_secrets_collect(t, obj, 0);
	cJSON_Delete(obj);
	if (!check)
		return bad;
	if (!agent_name_ok(t->plugin)) {
		plugin_error("remote_plugin must be a plugin's short name "
		    "(letters, digits, '-' and '_'; no '/' or '..')");
		bad = 1;
	}
	files[0] = t->ca;
	files[1] = t->cert;
	files[2] = t->key;
	for (i = 0; i < 3; i++) {
		if (files[i][0] != '\0' && access(files[i], R_OK) != 0) {
			plugin_error("%s: cannot read %s: %s", i == 0 ?
			    "agent_ca" : i == 1 ? "client_cert" : "client_key",
			    files[i], strerror(errno));
			bad = 1;
		}
	}
	return bad;
}

/* Free what loading the endpoint allocated. */
static void
agent_target_clear(struct agent_target *t)
{
	size_t i;

	free(t->endpoint);
	t->endpoint = NULL;
	for (i = 0; t->secrets[i] != NULL; i++) {
		OPENSSL_cleanse(t->secrets[i], strlen(t->secrets[i]));
		free(t->secrets[i]);
		t->secrets[i] = NULL;
	}
}

/* Text from the agent with remote_endpoint's secrets masked, or NULL. */
static char *
agent_mask(const struct agent_conn *c, const char *text, size_t len)
{
	return tool_mask(text, len, (const char *const *)c->t->secrets);
}

/* Remember OpenSSL's last error (or errno) as the reason for a failure. */
static void
agent_conn_why(struct agent_conn *c, const char *fallback)
{
	unsigned long e, last = 0;
	const char *r;

	while ((e = ERR_get_error()) != 0)
		last = e;
	r = last != 0 ? ERR_reason_error_string(last) : NULL;
	if (r != NULL)
		snprintf(c->why, sizeof c->why, "%s", r);
	else if (fallback != NULL)
		snprintf(c->why, sizeof c->why, "%s", fallback);
	else if (errno != 0)
		snprintf(c->why, sizeof c->why, "%s", strerror(errno));
	else
		snprintf(c->why, sizeof c->why, "connection closed");
}

/* Wait until the socket is ready for events; -1 on timeout or error. */
static int
agent_wait(struct agent_conn *c, short events, int timeout_ms)
{
	struct pollfd p;
	int n;

	p.fd = c->fd;
	p.events = events;
	for (;;) {
		n = poll(&p, 1, timeout_ms);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(c->why, sizeof c->why, "poll: %s",
			    strerror(errno));
			return -1;
		}
		if (n == 0) {
			snprintf(c->why, sizeof c->why, "timed out after %d s",
			    timeout_ms / 1000);
			return -1;
		}
		return 0;
	}
}

/* Connect the TCP socket within the timeout (each address in turn). */
static int
agent_tcp_connect(struct agent_conn *c, int timeout)
{
	struct addrinfo hints, *res, *ai;
	int fd = -1, rc, err = 0, on = 1, idle = 60, intvl = 10, cnt = 6;
	socklen_t len;

	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	if ((rc = getaddrinfo(c->t->host, c->t->port, &hints, &res)) != 0) {
		snprintf(c->why, sizeof c->why, "cannot resolve %s: %s",
		    c->t->host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, ai->ai_protocol);
		if (fd == -1)
			continue;
		c->fd = fd;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0 ||
		    (errno == EINPROGRESS && agent_wait(c, POLLOUT,
		    timeout * 1000) == 0)) {
			len = sizeof err;
			if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err,
			    &len) == 0 && err == 0)
				break;
			snprintf(c->why, sizeof c->why, "%s", strerror(err));
		} else if (errno != EINPROGRESS)
			snprintf(c->why, sizeof c->why, "%s", strerror(errno));
		close(fd);
		c->fd = fd = -1;
	}
	freeaddrinfo(res);
	if (fd == -1)
		return -1;
	/* Notice a vanished agent within minutes, not hours. */
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
	return 0;
}

/* The client TLS context: our certificate, and only agent_ca trusted. */
static int
agent_tls_setup(struct agent_conn *c)
{
	const struct agent_target *t = c->t;
	X509_VERIFY_PARAM *vp;

	if ((c->ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		agent_conn_why(c, "cannot create a TLS context");
		return -1;
	}
	SSL_CTX_set_min_proto_version(c->ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(c->ctx, SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_load_verify_locations(c->ctx, t->ca, NULL) != 1) {
		agent_conn_why(c, NULL);
		plugin_error("cannot load agent_ca %s: %s", t->ca, c->why);
		return -2;
	}
	if (SSL_CTX_use_certificate_chain_file(c->ctx, t->cert) != 1) {
		agent_conn_why(c, NULL);
		plugin_error("cannot load client_cert %s: %s", t->cert,
		    c->why);
		return -2;
	}
	if (SSL_CTX_use_PrivateKey_file(c->ctx, t->key,
	    SSL_FILETYPE_PEM) != 1 || SSL_CTX_check_private_key(c->ctx) != 1) {
		agent_conn_why(c, NULL);
		plugin_error("cannot use client_key %s with client_cert: %s",
		    t->key, c->why);
		return -2;
	}
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	if ((c->ssl = SSL_new(c->ctx)) == NULL) {
		agent_conn_why(c, "cannot create a TLS session");
		return -1;
	}
	/* The certificate must name the address we dialled. */
	vp = SSL_get0_param(c->ssl);
	if (X509_VERIFY_PARAM_set1_ip_asc(vp, t->host) != 1) {
		X509_VERIFY_PARAM_set1_host(vp, t->host, 0);
		SSL_set_tlsext_host_name(c->ssl, t->host);
	}
	SSL_set_fd(c->ssl, c->fd);
	return 0;
}

/* Say why a handshake failed, in terms of what to fix. */
static void
agent_tls_failed(struct agent_conn *c)
{
	long v = SSL_get_verify_result(c->ssl);

	if (v == X509_V_ERR_HOSTNAME_MISMATCH ||
	    v == X509_V_ERR_IP_ADDRESS_MISMATCH)
		plugin_error("agent %s: its certificate is not valid for %s "
		    "(%s)", c->t->address, c->t->host,
		    X509_verify_cert_error_string(v));
	else if (v != X509_V_OK)
		plugin_error("agent %s: its certificate is not trusted: %s "
		    "(check agent_ca)", c->t->address,
		    X509_verify_cert_error_string(v));
	else if (strstr(c->why, "alert") != NULL)
		plugin_error("agent %s: the agent refused our client "
		    "certificate (%s): check client_cert and the agent's ca",
		    c->t->address, c->why);
	else
		plugin_error("agent %s: TLS handshake failed: %s",
		    c->t->address, c->why);
}

/* Connect and authenticate both ways; 0, or non-zero after a message. */
static int
agent_connect(struct agent_conn *c, int timeout)
{
	int rc, err;

	c->fd = -1;
	if (agent_tcp_connect(c, timeout) != 0) {
		plugin_error("agent %s: cannot connect: %s", c->t->address,
		    c->why);
		return -1;
	}
	if ((rc = agent_tls_setup(c)) != 0) {
		if (rc == -1)
			plugin_error("agent %s: %s", c->t->address, c->why);
		return -1;
	}
	for (;;) {
		ERR_clear_error();
		errno = 0;
		if ((rc = SSL_connect(c->ssl)) == 1)
			return 0;
		err = SSL_get_error(c->ssl, rc);
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
			if (agent_wait(c, err == SSL_ERROR_WANT_READ ? POLLIN :
			    POLLOUT, timeout * 1000) == 0)
				continue;
		} else
			agent_conn_why(c, NULL);
		agent_tls_failed(c);
		return -1;
	}
}

/* Close the connection and free it. */
static void
agent_conn_close(struct agent_conn *c)
{
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	SSL_CTX_free(c->ctx);
	if (c->fd != -1)
		close(c->fd);
	free(c->in);
	c->ssl = NULL;
	c->ctx = NULL;
	c->in = NULL;
	c->fd = -1;
}

/* Write all of buf, waiting as long as the agent needs; -1 if lost. */
static int
agent_send(struct agent_conn *c, const void *buf, size_t len)
{
	int n, err;

	while (len > 0) {
		ERR_clear_error();
		errno = 0;
		n = SSL_write(c->ssl, buf, (int)len);
		if (n > 0) {
			buf = (const char *)buf + n;
			len -= n;
			continue;
		}
		err = SSL_get_error(c->ssl, n);
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
			if (agent_wait(c, err == SSL_ERROR_WANT_READ ? POLLIN :
			    POLLOUT, -1) == 0)
				continue;
		} else
			agent_conn_why(c, NULL);
		return -1;
	}
	return 0;
}

/* Send one frame. */
static int
agent_send_frame(struct agent_conn *c, char type, const void *data,
    size_t len)
{
	unsigned char head[AGENT_PROTO_FRAME_HEAD];

	head[0] = (unsigned char)type;
	head[1] = (len >> 24) & 0xff;
	head[2] = (len >> 16) & 0xff;
	head[3] = (len >> 8) & 0xff;
	head[4] = len & 0xff;
	if (agent_send(c, head, sizeof head) != 0)
		return -1;
	return len > 0 ? agent_send(c, data, len) : 0;
}

/* Send the request line. */
static int
agent_send_request(struct agent_conn *c)
{
	cJSON *o;
	char *text;
	int rc;

	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "version", AGENT_PROTO_VERSION);
	cJSON_AddStringToObject(o, "action", c->action);
	cJSON_AddStringToObject(o, "plugin", c->t->plugin);
	cJSON_AddStringToObject(o, "endpoint", c->t->endpoint);
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (text == NULL || strlen(text) + 1 > AGENT_PROTO_HEADER_MAX) {
		plugin_error("the request for the agent is too long");
		free(text);
		return -2;
	}
	rc = agent_send(c, text, strlen(text));
	if (rc == 0)
		rc = agent_send(c, "\n", 1);
	/* It held the remote endpoint: leave no copy behind. */
	OPENSSL_cleanse(text, strlen(text));
	free(text);
	return rc;
}

/* The length of the frame in c->in, once its head is there. */
static size_t
agent_frame_len(const struct agent_conn *c)
{
	return (size_t)c->in[1] << 24 | (size_t)c->in[2] << 16 |
	    (size_t)c->in[3] << 8 | c->in[4];
}

/*
 * Receive one frame into c->in.  With wait 0, return 0 at once if none is
 * complete yet (a partial one stays buffered).  1: a frame is there; -1:
 * the connection is gone or broke the protocol (c->why says how).
 */
static int
agent_recv_frame(struct agent_conn *c, int wait)
{
	size_t need;
	int n, err;

	if (c->in == NULL)
		c->in = malloc(AGENT_PROTO_FRAME_HEAD + AGENT_PROTO_FRAME_MAX);
	if (c->in == NULL) {
		snprintf(c->why, sizeof c->why, "out of memory");
		return -1;
	}
	for (;;) {
		need = AGENT_PROTO_FRAME_HEAD;
		if (c->in_len >= need) {
			if (agent_frame_len(c) > AGENT_PROTO_FRAME_MAX) {
				snprintf(c->why, sizeof c->why,
				    "protocol error: frame too long");
				return -1;
			}
			need += agent_frame_len(c);
		}
		if (c->in_len == need) {
			c->frames++;
			return 1;
		}
		ERR_clear_error();
		errno = 0;
		n = SSL_read(c->ssl, c->in + c->in_len,
		    (int)(need - c->in_len));
		if (n > 0) {
			c->in_len += n;
			continue;
		}
		err = SSL_get_error(c->ssl, n);
		if (err == SSL_ERROR_WANT_READ || err == SSL_ERROR_WANT_WRITE) {
			if (!wait)
				return 0;
			if (agent_wait(c, err == SSL_ERROR_WANT_READ ? POLLIN :
			    POLLOUT, -1) == 0)
				continue;
			return -1;
		}
		agent_conn_why(c, err == SSL_ERROR_ZERO_RETURN ?
		    "connection closed" : NULL);
		return -1;
	}
}

/* Report a lost connection; the handshake may only now have failed. */
static int
agent_lost(struct agent_conn *c)
{
	if (c->frames == 0 && strstr(c->why, "alert") != NULL)
		agent_tls_failed(c);	/* TLS 1.3 reports it this late */
	else if (c->frames == 0)
		plugin_error("agent %s: the agent closed the connection "
		    "without answering (%s): it may have refused our client "
		    "certificate (check client_cert and the agent's ca) or "
		    "stopped; see its log", c->t->address, c->why);
	else
		plugin_error("agent %s: connection lost during %s (%s)",
		    c->t->address, c->action, c->why);
	return 1;
}

/* The exit frame: print its error, return the exit status to use. */
static int
agent_exit_frame(struct agent_conn *c, size_t len)
{
	const cJSON *code, *err;
	char *msg;
	cJSON *o;
	int rc;

	o = cJSON_ParseWithLength((const char *)c->in +
	    AGENT_PROTO_FRAME_HEAD, len);
	code = cJSON_GetObjectItemCaseSensitive(o, "exit");
	err = cJSON_GetObjectItemCaseSensitive(o, "error");
	if (!cJSON_IsNumber(code)) {
		plugin_error("agent %s: protocol error: bad exit frame",
		    c->t->address);
		cJSON_Delete(o);
		return 1;
	}
	rc = code->valueint;
	if (cJSON_IsString(err)) {
		msg = agent_mask(c, err->valuestring, strlen(err->valuestring));
		plugin_error("agent %s: %s", c->t->address,
		    msg != NULL ? msg : "(out of memory)");
		free(msg);
	} else if (rc != 0)
		plugin_error("agent %s: %s %s on the agent failed (exit "
		    "status %d)", c->t->address, c->t->plugin, c->action, rc);
	cJSON_Delete(o);
	if (rc < 0 || rc > 255 || (rc == 0 && cJSON_IsString(err)))
		rc = 1;
	return rc;
}

/*
 * Act on the frame in c->in.  Returns -1 to go on, else the exit status
 * (after an exit frame or a failure).
 */
static int
agent_frame(struct agent_conn *c)
{
	size_t len = agent_frame_len(c);
	const char *p = (const char *)c->in + AGENT_PROTO_FRAME_HEAD;
	int type = c->in[0], rc = -1;
	char *line;

	c->in_len = 0;
	switch (type) {
	case AGENT_PROTO_DATA:
		if (strcmp(c->action, "backup") != 0) {
			plugin_error("agent %s: protocol error: data during "
			    "%s", c->t->address, c->action);
			return 1;
		}
		while (len > 0) {
			ssize_t n = write(STDOUT_FILENO, p, len);

			if (n == -1 && errno == EINTR)
				continue;
			if (n == -1) {
				if (errno != EPIPE)
					plugin_error("writing the backup "
					    "stream: %s", strerror(errno));
				return 1;
			}
			p += n;
			len -= n;
		}
		break;
	case AGENT_PROTO_LOG:
		/* The remote plugin's own line, already prefixed by it. */
		if ((line = agent_mask(c, p, len)) == NULL) {
			plugin_error("out of memory");
			return 1;
		}
		fprintf(stderr, "%s\n", line);
		fflush(stderr);
		free(line);
		break;
	case AGENT_PROTO_EXIT:
		rc = agent_exit_frame(c, len);
		break;
	default:
		plugin_error("agent %s: protocol error: unknown frame",
		    c->t->address);
		rc = 1;
		break;
	}
	return rc;
}

/* Read frames until the exit frame; returns the exit status. */
static int
agent_finish(struct agent_conn *c)
{
	int rc;

	for (;;) {
		if (agent_recv_frame(c, 1) != 1)
			return agent_lost(c);
		if ((rc = agent_frame(c)) != -1)
			return rc;
	}
}

/*
 * Send stdin as the restore stream, handling what the agent says as it
 * comes.  The end frame goes out only after a clean end of file; on any
 * failure we just close, and the agent kills the plugin uncommitted.
 */
static int
agent_stream_stdin(struct agent_conn *c)
{
	char *buf;
	ssize_t n;
	int rc;

	if ((buf = malloc(AGENT_CHUNK)) == NULL) {
		plugin_error("out of memory");
		return 1;
	}
	for (;;) {
		while ((rc = agent_recv_frame(c, 0)) == 1) {
			if ((rc = agent_frame(c)) != -1) {
				/* It ended before the stream did. */
				free(buf);
				return rc != 0 ? rc : 1;
			}
		}
		if (rc == -1) {
			free(buf);
			return agent_lost(c);
		}
		n = read(STDIN_FILENO, buf, AGENT_CHUNK);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			plugin_error("reading the restore stream: %s",
			    strerror(errno));
			free(buf);
			return 1;
		}
		if (n == 0)
			break;
		if (agent_send_frame(c, AGENT_PROTO_DATA, buf, n) != 0) {
			free(buf);
			return agent_lost(c);
		}
	}
	free(buf);
	if (agent_send_frame(c, AGENT_PROTO_END, NULL, 0) != 0)
		return agent_lost(c);
	return agent_finish(c);
}

/* Run one action on the agent; returns our exit status. */
static int
agent_run(const cJSON *ep, const char *action)
{
	struct agent_target t;
	struct agent_conn c;
	int rc, timeout;

	/* A vanished peer or reader is an error to report, not a signal. */
	signal(SIGPIPE, SIG_IGN);
	memset(&c, 0, sizeof c);
	c.fd = -1;
	if (agent_target_load(ep, &t, strcmp(action, "validate") == 0) != 0) {
		agent_target_clear(&t);
		return 1;
	}
	c.t = &t;
	c.action = action;
	timeout = t.timeout;
	if (strcmp(action, "validate") == 0 && timeout > AGENT_VALIDATE_TIMEOUT)
		timeout = AGENT_VALIDATE_TIMEOUT;
	if (agent_connect(&c, timeout) != 0) {
		rc = 1;
		goto out;
	}
	if ((rc = agent_send_request(&c)) != 0) {
		rc = rc == -2 ? 1 : agent_lost(&c);
		goto out;
	}
	if (strcmp(action, "restore") == 0)
		rc = agent_stream_stdin(&c);
	else
		rc = agent_finish(&c);
out:
	agent_conn_close(&c);
	agent_target_clear(&t);
	return rc;
}

/* backup: the remote plugin's stream on our stdout. */
static int
agent_backup(const cJSON *ep)
{
	return agent_run(ep, "backup");
}

/* restore: our stdin into the remote plugin. */
static int
agent_restore(const cJSON *ep)
{
	return agent_run(ep, "restore");
}

/* validate: our own checks, then the remote plugin's. */
static int
agent_validate(const cJSON *ep)
{
	return agent_run(ep, "validate");
}

static const struct plugin_def agent_plugin = {
	.name = "SHIELD Agent",
	.short_name = "agent",
	.author = "SHIELD",
	.version = "1.0.0",
	.help = "Backs up and restores a data system on another host through "
	    "the shield-agent running there: backup, restore and validate are "
	    "forwarded over mutually authenticated TLS to a target plugin in "
	    "the agent's own plugin directory (remote_plugin, configured by "
	    "remote_endpoint), and the data, its log lines and its exit "
	    "status are relayed.  Use it for systems that only allow local "
	    "backups.",
	.fields = agent_fields,
	.validate = agent_validate,
	.backup = agent_backup,
	.restore = agent_restore,
};

/*
 * The kit checks declared fields as strings; remote_endpoint may also be
 * a JSON object, so such an endpoint is rewritten with the object as text
 * before the kit sees it.
 */
int
main(int argc, char **argv)
{
	cJSON *ep, *rep;
	const char *prefix;
	char *text = NULL, *s, **arg;
	int i, rc;

	for (i = 2; i < argc; i++) {
		/* The kit takes "--endpoint JSON" and "--endpoint=JSON". */
		if (strcmp(argv[i], "--endpoint") == 0 && i + 1 < argc) {
			arg = &argv[i + 1];
			prefix = "";
		} else if (strncmp(argv[i], "--endpoint=", 11) == 0) {
			arg = &argv[i];
			prefix = "--endpoint=";
		} else
			continue;
		ep = cJSON_Parse(*arg + strlen(prefix));
		rep = cJSON_GetObjectItemCaseSensitive(ep, "remote_endpoint");
		if (cJSON_IsObject(rep) &&
		    (s = cJSON_PrintUnformatted(rep)) != NULL) {
			cJSON_ReplaceItemInObjectCaseSensitive(ep,
			    "remote_endpoint", cJSON_CreateString(s));
			free(s);
			if ((s = cJSON_PrintUnformatted(ep)) != NULL) {
				if (asprintf(&text, "%s%s", prefix, s) == -1)
					text = NULL;
				else
					*arg = text;
			}
			free(s);
		}
		cJSON_Delete(ep);
		break;
	}
	rc = plugin_main(&agent_plugin, argc, argv);
	free(text);
	return rc;
}
