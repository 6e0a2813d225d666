/*
 * Request checks ahead of the handlers: Host names (DNS rebinding), request
 * framing (smuggling through two lengths), and the origin and content type
 * of browser changes (cross-site request forgery).  The first four
 * functions look only at header values; the last two reply.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "api.h"
#include "daemon.h"
#include "guard.h"

#define GUARD_NAME_MAX	255	/* a DNS name is at most 253 characters */

/* 1 if s is a port: up to five digits, at most 65535. */
static int
guard_port_ok(const char *s)
{
	size_t n = strspn(s, "0123456789");

	return s[n] == '\0' && n >= 1 && n <= 5 && atoi(s) <= 65535;
}

/* 1 if the n characters at name are one of the comma-separated names. */
static int
guard_name_listed(const char *name, size_t n, const char *names)
{
	const char *p = names, *end;
	size_t len;

	while (p != NULL && *p != '\0') {
		p += strspn(p, " \t");
		end = strchr(p, ',');
		len = end != NULL ? (size_t)(end - p) : strlen(p);
		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == n && strncasecmp(p, name, n) == 0)
			return 1;
		p = end != NULL ? end + 1 : NULL;
	}
	return 0;
}

/* Is the Host header one of ours? */
int
guard_host_ok(const char *host, const char *names)
{
	unsigned char addr[sizeof(struct in6_addr)];
	char name[GUARD_NAME_MAX + 1];
	const char *end;
	size_t n;

	if (host[0] == '[') {
		/* An IPv6 literal, the only form with colons inside. */
		if ((end = strchr(host, ']')) == NULL)
			return 0;
		n = (size_t)(end - host - 1);
		if (n == 0 || n > GUARD_NAME_MAX)
			return 0;
		if (end[1] != '\0' && (end[1] != ':' ||
		    !guard_port_ok(end + 2)))
			return 0;
		memcpy(name, host + 1, n);
		name[n] = '\0';
		return inet_pton(AF_INET6, name, addr) == 1;
	}
	end = strchr(host, ':');
	n = end != NULL ? (size_t)(end - host) : strlen(host);
	if (n == 0 || n > GUARD_NAME_MAX ||
	    (end != NULL && !guard_port_ok(end + 1)))
		return 0;
	memcpy(name, host, n);
	name[n] = '\0';
	if (inet_pton(AF_INET, name, addr) == 1 ||
	    strcasecmp(name, "localhost") == 0)
		return 1;
	return guard_name_listed(name, n, names);
}

/* Is the Origin or Referer this daemon's own, as the Host header says? */
int
guard_origin_ok(const char *url, const char *host)
{
	const char *a;
	size_t n;

	if (host == NULL || *host == '\0')
		return 0;
	/*
	 * http or https alike: one port serves one scheme, and behind a TLS
	 * proxy the browser's origin is https while shieldd speaks http.
	 */
	if (strncasecmp(url, "http://", 7) == 0)
		a = url + 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		a = url + 8;
	else
		return 0;	/* "null" (sandboxed pages) included */
	n = strcspn(a, "/?#");
	return n == strlen(host) && strncasecmp(a, host, n) == 0;
}

/* Is the media type application/json? */
int
guard_json_type(const char *ctype)
{
	size_t n;

	ctype += strspn(ctype, " \t");
	n = strcspn(ctype, ";");
	while (n > 0 && (ctype[n - 1] == ' ' || ctype[n - 1] == '\t'))
		n--;
	return n == 16 && strncasecmp(ctype, "application/json", 16) == 0;
}

/* How many times a header appears. */
static int
guard_count(const struct evkeyvalq *h, const char *name)
{
	const struct evkeyval *kv;
	int n = 0;

	TAILQ_FOREACH(kv, h, next) {
		if (strcasecmp(kv->key, name) == 0)
			n++;
	}
	return n;
}

/*
 * Two lengths let a proxy in front and shieldd disagree on where a request
 * ends (request smuggling; evhttp reads the first); two Host headers let
 * them disagree on which site it is for.  (A length beside a transfer
 * coding evhttp refuses itself.)
 */
const char *
guard_framing(const struct evkeyvalq *h)
{
	if (guard_count(h, "Content-Length") > 1)
		return "more than one Content-Length header";
	if (guard_count(h, "Host") > 1)
		return "more than one Host header";
	return NULL;
}

/* Framing and Host checks. */
int
guard_request(struct api_req *r)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(r->req);
	const char *why, *host;

	if ((why = guard_framing(h)) != NULL) {
		/* Where this request ends is unknown: nothing after it. */
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
		    "Connection", "close");
		api_error(r, 400, "%s", why);
		return -1;
	}
	/* HTTP/1.0 clients may send none; a browser always does. */
	host = evhttp_find_header(h, "Host");
	if (host != NULL && !guard_host_ok(host, r->d->cfg.hostnames)) {
		api_error(r, 421, "this daemon does not answer to the host "
		    "name '%.100s' (see --hostnames)", host);
		return -1;
	}
	return 0;
}

/* Origin and content type of browser requests. */
int
guard_route(struct api_req *r, const struct api_route *rt)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(r->req);
	const char *v, *src;
	int cookie;

	v = evhttp_find_header(h, "Authorization");
	if (v != NULL && strncasecmp(v, "Bearer ", 7) == 0)
		return 0;
	/* Authenticated without a bearer token: by the session cookie. */
	cookie = !(rt->flags & API_PUBLIC);
	if (r->method != EVHTTP_REQ_GET && r->method != EVHTTP_REQ_HEAD &&
	    r->method != EVHTTP_REQ_OPTIONS) {
		if ((src = evhttp_find_header(h, "Origin")) == NULL)
			src = evhttp_find_header(h, "Referer");
		if (src != NULL &&
		    !guard_origin_ok(src, evhttp_find_header(h, "Host"))) {
			api_error(r, 403, "cross-site request refused: "
			    "'%.100s' is not this daemon's origin", src);
			return -1;
		}
		if (src == NULL && cookie) {
			api_error(r, 403, "a change made with the session "
			    "cookie must carry an Origin or Referer header "
			    "(scripts: use an API token)");
			return -1;
		}
	}
	if (cookie && evbuffer_get_length(evhttp_request_get_input_buffer(
	    r->req)) > 0 && ((v = evhttp_find_header(h, "Content-Type")) ==
	    NULL || !guard_json_type(v))) {
		api_error(r, 415, "a request body must be sent as "
		    "Content-Type: application/json");
		return -1;
	}
	return 0;
}
