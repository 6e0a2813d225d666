/*
 * guard: the checks a request passes before it reaches a handler.  The Host
 * header must name this daemon (an IP address, localhost or a configured
 * name), so a page on a DNS-rebound name cannot talk to it; a request's
 * framing must be unambiguous (one Content-Length, one Host); and a
 * browser request that changes anything must come from the daemon's own
 * origin with a JSON body, so a page on another site (or another port of
 * the same host, which SameSite treats as the same site) cannot use the
 * session cookie.  Requests with a bearer token skip the origin and
 * content-type checks: a browser cannot attach one cross-site, and scripts
 * send form content types by default.
 */
#ifndef SHIELD_GUARD_H
#define SHIELD_GUARD_H

struct evkeyvalq;
struct api_req;
struct api_route;

/*
 * 1 if host (a Host header value) is an IPv4 address, a bracketed IPv6
 * address, "localhost" or one of the comma-separated names, each with or
 * without ":port".  Names compare without regard to case.
 */
int		 guard_host_ok(const char *host, const char *names);
/*
 * 1 if url (an Origin or Referer value) is http:// or https:// followed by
 * exactly host (the Host header value) and then nothing, '/', '?' or '#'.
 */
int		 guard_origin_ok(const char *url, const char *host);
/* 1 if a Content-Type value is application/json, parameters allowed. */
int		 guard_json_type(const char *ctype);
/* NULL if the headers frame the request unambiguously, else why not. */
const char	*guard_framing(const struct evkeyvalq *headers);

/* Framing and Host checks for every request; replies and -1 on failure. */
int		 guard_request(struct api_req *);
/*
 * The cross-site checks for a routed request after authentication: a
 * change (any method but GET, HEAD, OPTIONS) without a bearer token needs
 * this daemon's Origin (or Referer), which a cookie-authenticated change
 * must carry; a cookie-authenticated body must be JSON.  Replies (403,
 * 415) and returns -1 on failure.
 */
int		 guard_route(struct api_req *, const struct api_route *);

#endif
