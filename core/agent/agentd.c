/*
 * shield-agent's life cycle: configuration (defaults, an optional config
 * file, then flags), the server-side TLS context (the agent's certificate,
 * and the CA every caller's client certificate must chain to), the plugin
 * directory, the listener handing connections to the session set, and a
 * clean shutdown on SIGTERM/SIGINT that stops running plugins and exits 0.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "agent_proto.h"
#include "agentd.h"
#include "child.h"
#include "conf.h"
#include "log.h"
#include "plugins.h"
#include "session.h"
#include "xmalloc.h"

#define AGENTD_STOP_GRACE	10	/* seconds before a forced exit */
#define AGENTD_AUTHORIZED_MAX	64	/* client fingerprints */

struct agentd {
	const struct agentd_config	*cfg;
	struct event_base		*base;
	SSL_CTX				*ssl_ctx;
	struct child_set		*children;
	struct plugins			*plugins;
	struct session_set		*sessions;
	struct evconnlistener		*listener;
	struct event			*sigterm;
	struct event			*sigint;
	struct event			*sighup;
	struct event			*stop_timer;
	int				 stopping;
};

/* Print the manual. */
static void
agentd_usage(FILE *f)
{
	fprintf(f,
"NAME\n"
"     shield-agent - run SHIELD target plugins on a data host for the core\n"
"\n"
"SYNOPSIS\n"
"     shield-agent [--config FILE] [--listen HOST:PORT] [--plugins DIR]\n"
"                  --cert FILE --key FILE --ca FILE\n"
"                  [--authorized-client SHA256] [--max-requests N]\n"
"                  [--request-timeout S] [--log-level LEVEL]\n"
"\n"
"DESCRIPTION\n"
"     Some data systems can only be backed up from the machine they run on.\n"
"     shield-agent runs there and, when the SHIELD core asks through its\n"
"     `agent` target plugin, runs a target plugin from its own plugin\n"
"     directory (backup, restore or validate) and relays the backup stream,\n"
"     the restore stream, the plugin's stderr lines and its exit status.\n"
"\n"
"     Every connection is TLS with mutual authentication: the agent shows\n"
"     its certificate, and the caller must show a client certificate signed\n"
"     by the CA given with --ca (and, with --authorized-client, one of the\n"
"     listed certificates).  Anything else is refused during the handshake,\n"
"     logged, and runs nothing.\n"
"\n"
"OPTIONS\n"
"     -c, --config FILE\n"
"             Read options from FILE: lines of 'name = value', names as the\n"
"             long options below without the dashes; '#' starts a comment.\n"
"             Flags given on the command line win over the file.\n"
"     -l, --listen HOST:PORT\n"
"             Address to accept connections on (default 0.0.0.0:%d;\n"
"             IPv6 as [ADDR]:PORT).\n"
"     -p, --plugins DIR\n"
"             The plugin directory (default %s, or\n"
"             ../libexec/shield/plugins beside this executable).  Plugins\n"
"             are looked up by short name in DIR only: a name with a slash,\n"
"             a dot or anything but letters, digits, '-' and '_' is\n"
"             refused.\n"
"     --cert FILE\n"
"             The agent's certificate (PEM, optionally followed by its\n"
"             chain).  Required.\n"
"     --key FILE\n"
"             The private key of --cert (PEM).  Keep it mode 0600.\n"
"             Required.\n"
"     --ca FILE\n"
"             The CA certificate(s) (PEM) a caller's client certificate\n"
"             must be signed by.  Required.\n"
"     --authorized-client SHA256\n"
"             Also require the client certificate to be this one, given as\n"
"             its SHA-256 fingerprint (hex, colons allowed, as printed by\n"
"             `openssl x509 -noout -fingerprint -sha256`).  May be given\n"
"             several times (or comma-separated); without it, every\n"
"             certificate the CA signed is accepted.\n"
"     -m, --max-requests N\n"
"             Requests running at the same time (default 4); more are\n"
"             refused with a clear error.\n"
"     --request-timeout S\n"
"             Stop a plugin that runs longer than S seconds (default\n"
"             86400; 0 = no limit).\n"
"     -L, --log-level LEVEL\n"
"             debug, info, warn or error (default info).  At debug, the\n"
"             plugins' stderr lines are logged too, with the endpoint's\n"
"             secrets masked, as in the lines relayed to the caller.\n"
"     -h, --help\n"
"             Show this manual.\n"
"     -V, --version\n"
"             Show the version.\n"
"\n"
"PROTOCOL\n"
"     One request per connection: a JSON request line\n"
"     {\"version\":1,\"action\":\"backup\",\"plugin\":\"fs\",\n"
"      \"endpoint\":\"{...}\"}\n"
"     then frames of a type byte, a 4-byte big-endian length and a payload:\n"
"     'D' stream data (both ways), 'E' end of a restore stream, 'L' a\n"
"     stderr line and 'X' the exit status (JSON).  A restore plugin sees\n"
"     end of input only after 'E'; if the connection is lost before it, the\n"
"     plugin is killed and the restore is not committed.  A caller that\n"
"     goes away mid-backup gets its plugin's process group killed too.\n"
"\n"
"SIGNALS\n"
"     SIGTERM, SIGINT  stop accepting connections, stop running plugins\n"
"                      (SIGTERM, then SIGKILL after 5 s), end each request\n"
"                      with an 'X' frame saying \"shield-agent is\n"
"                      stopping\" and a clean TLS close, and exit 0.\n"
"     SIGHUP           re-read the plugins' info in the plugin directory.\n"
"\n"
"EXIT STATUS\n"
"     0 after a clean shutdown; 1 on bad usage or a startup failure (one\n"
"     line on stderr saying why).\n"
"\n"
"EXAMPLES\n"
"     shield-agent --listen 0.0.0.0:7777 \\\n"
"         --plugins /usr/libexec/shield/plugins \\\n"
"         --cert /etc/shield/agent.crt --key /etc/shield/agent.key \\\n"
"         --ca /etc/shield/ca.crt\n"
"\n"
"     contrib/shield-agent-keys.sh makes a CA, an agent and a core\n"
"     certificate for a quick setup.\n"
"\n"
"SEE ALSO\n"
"     shieldd(8), the `agent` plugin (`agent info`), docs/agent.md.\n",
	    AGENT_PROTO_PORT, SHIELD_PLUGIN_DIR);
}

/* Add fingerprints (comma-separated, colons allowed) to the list. */
static int
agentd_authorize(void *arg, const char *v)
{
	struct agentd_config *c = arg;
	char fp[65], *list, *tok, *save = NULL;
	size_t n, i;
	int rc = 0;

	list = xstrdup(v);
	for (tok = strtok_r(list, ", \t", &save); tok != NULL;
	    tok = strtok_r(NULL, ", \t", &save)) {
		if (strncasecmp(tok, "sha256:", 7) == 0)
			tok += 7;
		for (i = 0, n = 0; tok[i] != '\0'; i++) {
			if (tok[i] == ':')
				continue;
			if (!isxdigit((unsigned char)tok[i]) || n == 64) {
				n = 0;
				break;
			}
			fp[n++] = tolower((unsigned char)tok[i]);
		}
		if (n != 64) {
			fprintf(stderr, "shield-agent: authorized-client must "
			    "be a SHA-256 fingerprint (64 hex digits), not "
			    "'%s'\n", tok);
			rc = -1;
			break;
		}
		fp[64] = '\0';
		for (n = 0; c->authorized != NULL && c->authorized[n] != NULL;
		    n++)
			;
		if (n == AGENTD_AUTHORIZED_MAX) {
			fprintf(stderr, "shield-agent: at most %d authorized "
			    "clients\n", AGENTD_AUTHORIZED_MAX);
			rc = -1;
			break;
		}
		c->authorized = xreallocarray(c->authorized, n + 2,
		    sizeof *c->authorized);
		c->authorized[n] = xstrdup(fp);
		c->authorized[n + 1] = NULL;
	}
	free(list);
	return rc;
}

#define AGENTD_OPT(f)	offsetof(struct agentd_config, f)

/* Every option of shield-agent, as a flag and as a config-file line. */
static const struct conf_option agentd_options[] = {
	{ "listen", 'l', CONF_STRING, AGENTD_OPT(listen), 0, 0, NULL },
	{ "plugins", 'p', CONF_STRING, AGENTD_OPT(plugins), 0, 0, NULL },
	{ "cert", 0, CONF_STRING, AGENTD_OPT(cert), 0, 0, NULL },
	{ "key", 0, CONF_STRING, AGENTD_OPT(key), 0, 0, NULL },
	{ "ca", 0, CONF_STRING, AGENTD_OPT(ca), 0, 0, NULL },
	{ "authorized-client", 0, CONF_FUNC, 0, 0, 0, agentd_authorize },
	{ "max-requests", 'm', CONF_NUMBER, AGENTD_OPT(max_requests), 1, 1024,
	    NULL },
	{ "request-timeout", 0, CONF_NUMBER, AGENTD_OPT(request_timeout), 0,
	    INT_MAX, NULL },
	{ "log-level", 'L', CONF_LEVEL, AGENTD_OPT(log_level), 0, 0, NULL },
	{ NULL, 0, 0, 0, 0, 0, NULL },
};

static const struct conf_spec agentd_spec = {
	"shield-agent", SHIELD_VERSION, agentd_options,
	AGENTD_OPT(config_file), agentd_usage
};

/* Fill the configuration; 0, 1 after --help/--version, -1 on error. */
int
agentd_configure(struct agentd_config *c, int argc, char **argv)
{
	char buf[32];
	int rc;

	memset(c, 0, sizeof *c);
	snprintf(buf, sizeof buf, "0.0.0.0:%d", AGENT_PROTO_PORT);
	c->listen = xstrdup(buf);
	c->plugins = conf_default_dir("../libexec/shield/plugins",
	    SHIELD_PLUGIN_DIR);
	c->max_requests = 4;
	c->request_timeout = 86400;
	c->log_level = LOG_LEVEL_INFO;
	if ((rc = conf_parse(&agentd_spec, c, argc, argv)) != 0)
		return rc;
	if (c->cert == NULL || c->key == NULL || c->ca == NULL) {
		fprintf(stderr, "shield-agent: cert, key and ca are required: "
		    "the agent only talks mutually authenticated TLS (see "
		    "shield-agent --help)\n");
		return -1;
	}
	return 0;
}

/* Free configuration strings. */
void
agentd_config_clear(struct agentd_config *c)
{
	size_t i;

	free(c->listen);
	free(c->plugins);
	free(c->cert);
	free(c->key);
	free(c->ca);
	free(c->config_file);
	for (i = 0; c->authorized != NULL && c->authorized[i] != NULL; i++)
		free(c->authorized[i]);
	free(c->authorized);
	memset(c, 0, sizeof *c);
}

/* OpenSSL's last error as text, clearing the queue. */
static const char *
agentd_ssl_error(void)
{
	unsigned long e, last = 0;
	const char *s;

	while ((e = ERR_get_error()) != 0)
		last = e;
	s = last != 0 ? ERR_reason_error_string(last) : NULL;
	return s != NULL ? s : "unknown error";
}

/*
 * The server's TLS context: our certificate and key, and peer
 * verification that demands a client certificate chaining to the CA.
 */
static SSL_CTX *
agentd_tls_new(const struct agentd_config *c)
{
	STACK_OF(X509_NAME) *names;
	struct stat st;
	SSL_CTX *ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL) {
		log_error("cannot create a TLS context: %s",
		    agentd_ssl_error());
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
	    SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 0);
	if (SSL_CTX_use_certificate_chain_file(ctx, c->cert) != 1) {
		log_error("cannot load the certificate %s: %s", c->cert,
		    agentd_ssl_error());
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, c->key, SSL_FILETYPE_PEM) != 1) {
		log_error("cannot load the private key %s: %s", c->key,
		    agentd_ssl_error());
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		log_error("the private key %s does not match the certificate "
		    "%s", c->key, c->cert);
		goto fail;
	}
	if (stat(c->key, &st) == 0 && (st.st_mode & 077) != 0)
		log_warn("the private key %s is readable by other users; "
		    "chmod 600 it", c->key);
	if (SSL_CTX_load_verify_locations(ctx, c->ca, NULL) != 1) {
		log_error("cannot load the CA %s: %s", c->ca,
		    agentd_ssl_error());
		goto fail;
	}
	/* Tell callers which CA we want their certificate from. */
	if ((names = SSL_load_client_CA_file(c->ca)) != NULL)
		SSL_CTX_set_client_CA_list(ctx, names);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	SSL_CTX_set_verify_depth(ctx, 4);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* A caller connected: hand it to the session set. */
static void
agentd_accept_cb(struct evconnlistener *l, evutil_socket_t fd,
    struct sockaddr *sa, int socklen, void *arg)
{
	struct agentd *d = arg;

	session_set_accept(d->sessions, fd, sa, socklen);
}

/* accept() failed (out of descriptors, say): log it, keep listening. */
static void
agentd_accept_error_cb(struct evconnlistener *l, void *arg)
{
	log_warn("accept: %s",
	    evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
}

/* Every session has ended: leave the loop. */
static void
agentd_sessions_ended_cb(void *arg)
{
	struct agentd *d = arg;

	event_base_loopexit(d->base, NULL);
}

/* The shutdown grace period ran out. */
static void
agentd_stop_timer_cb(evutil_socket_t fd, short ev, void *arg)
{
	struct agentd *d = arg;

	log_warn("plugins did not stop in %d s; exiting anyway",
	    AGENTD_STOP_GRACE);
	event_base_loopexit(d->base, NULL);
}

/* Begin a clean shutdown. */
static void
agentd_stop(struct agentd *d)
{
	struct timeval tv = { AGENTD_STOP_GRACE, 0 };

	if (d->stopping)
		return;
	d->stopping = 1;
	log_info("stopping (%d request(s) running)",
	    session_set_running(d->sessions));
	evconnlistener_disable(d->listener);
	d->stop_timer = evtimer_new(d->base, agentd_stop_timer_cb, d);
	evtimer_add(d->stop_timer, &tv);
	session_set_shutdown(d->sessions, agentd_sessions_ended_cb, d);
}

/* SIGTERM/SIGINT. */
static void
agentd_signal_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct agentd *d = arg;

	log_info("received signal %d", (int)sig);
	agentd_stop(d);
}

/* SIGHUP: re-read the plugin directory. */
static void
agentd_sighup_cb(evutil_socket_t sig, short ev, void *arg)
{
	struct agentd *d = arg;

	log_info("SIGHUP: rescanning plugins in %s", d->cfg->plugins);
	plugins_scan(d->plugins, NULL, NULL);
}

/* Plugins' info has been read: the startup wait is over. */
static void
agentd_scanned_cb(void *arg)
{
	int *done = arg;

	*done = 1;
}

/* Set everything up; NULL (after one clear line) on failure. */
struct agentd *
agentd_start(const struct agentd_config *cfg)
{
	struct session_config sc;
	struct sockaddr_storage ss;
	struct agentd *d;
	struct stat st;
	int len = sizeof ss, scanned = 0;

	log_init(cfg->log_level, "shield-agent");
	signal(SIGPIPE, SIG_IGN);
	d = xcalloc(1, sizeof *d);
	d->cfg = cfg;
	if (stat(cfg->plugins, &st) != 0 || !S_ISDIR(st.st_mode)) {
		log_error("the plugin directory %s is not a directory",
		    cfg->plugins);
		goto fail;
	}
	memset(&ss, 0, sizeof ss);
	if (evutil_parse_sockaddr_port(cfg->listen, (struct sockaddr *)&ss,
	    &len) != 0 || strchr(cfg->listen, ':') == NULL) {
		log_error("listen must be HOST:PORT, not '%s'", cfg->listen);
		goto fail;
	}
	if ((d->ssl_ctx = agentd_tls_new(cfg)) == NULL)
		goto fail;
	if ((d->base = event_base_new()) == NULL) {
		log_error("cannot create the event loop");
		goto fail;
	}
	d->listener = evconnlistener_new_bind(d->base, agentd_accept_cb, d,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC,
	    64, (struct sockaddr *)&ss, len);
	if (d->listener == NULL) {
		log_error("cannot listen on %s: %s", cfg->listen,
		    strerror(errno));
		goto fail;
	}
	evconnlistener_set_error_cb(d->listener, agentd_accept_error_cb);
	d->children = child_set_new(d->base);
	d->plugins = plugins_new(d->children, cfg->plugins);
	memset(&sc, 0, sizeof sc);
	sc.base = d->base;
	sc.children = d->children;
	sc.plugins = d->plugins;
	sc.ssl_ctx = d->ssl_ctx;
	sc.max_requests = cfg->max_requests;
	sc.request_timeout = cfg->request_timeout;
	sc.authorized = cfg->authorized;
	d->sessions = session_set_new(&sc);
	d->sigterm = evsignal_new(d->base, SIGTERM, agentd_signal_cb, d);
	d->sigint = evsignal_new(d->base, SIGINT, agentd_signal_cb, d);
	d->sighup = evsignal_new(d->base, SIGHUP, agentd_sighup_cb, d);
	evsignal_add(d->sigterm, NULL);
	evsignal_add(d->sigint, NULL);
	evsignal_add(d->sighup, NULL);
	/* Know the plugins (features, validate) before serving requests. */
	evconnlistener_disable(d->listener);
	plugins_scan(d->plugins, agentd_scanned_cb, &scanned);
	while (!scanned && event_base_loop(d->base, EVLOOP_ONCE) == 0)
		;
	evconnlistener_enable(d->listener);
	log_info("listening on %s (TLS, client certificates from %s%s; "
	    "plugins %s; at most %d requests)", cfg->listen, cfg->ca,
	    cfg->authorized != NULL ? ", authorized clients only" : "",
	    cfg->plugins, cfg->max_requests);
	return d;
fail:
	agentd_free(d);
	return NULL;
}

/* Run until stopped. */
int
agentd_run(struct agentd *d)
{
	event_base_dispatch(d->base);
	log_info("stopped");
	return 0;
}

/* Release everything: what uses the loop (sessions, plugins, children, the
 * listener, events) before the loop, and the TLS context the sessions used
 * last. */
void
agentd_free(struct agentd *d)
{
	if (d == NULL)
		return;
	session_set_free(d->sessions);
	plugins_free(d->plugins);
	child_set_free(d->children);
	if (d->listener != NULL)
		evconnlistener_free(d->listener);
	if (d->sigterm != NULL)
		event_free(d->sigterm);
	if (d->sigint != NULL)
		event_free(d->sigint);
	/*
	 * That gave the signals back their default action, but we are exiting
	 * anyway: a second SIGTERM must not turn a clean stop into a kill.
	 */
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	if (d->sighup != NULL)
		event_free(d->sighup);
	if (d->stop_timer != NULL)
		event_free(d->stop_timer);
	if (d->base != NULL)
		event_base_free(d->base);
	SSL_CTX_free(d->ssl_ctx);
	free(d);
}
