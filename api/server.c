/*
 * The HTTP server: binds the listener, routes every request through the route
 * tables, enforces authentication and the body limit, and provides the reply
 * and parsing helpers the handlers share.  Paths outside /v1 (and /metrics)
 * are the web UI's static files.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "api.h"
#include "catalog.h"
#include "conn.h"
#include "daemon.h"
#include "guard.h"
#include "log.h"
#include "timefmt.h"
#include "xmalloc.h"

/* The transport limit; bodies over API_BODY_MAX but under this get a JSON 413. */
#define API_TRANSPORT_MAX	(8 * 1024 * 1024)

/*
 * Replies of large read-only lists, kept while the catalog is unchanged:
 * GET /v1/jobs with 1,000 jobs is ~700 KB of JSON, and a dashboard polling
 * it should not rebuild that for every request.
 */
#define API_CACHE_SLOTS	4

/*
 * A cached reply is a body shared by the cache and every reply still being
 * sent: each reply references it (no copy); the last reference frees it.
 */
struct api_cache {
	char		*key;		/* the request URI */
	int64_t		 generation;	/* catalog_generation() when built */
	struct conn_blob *blob;
	uint64_t	 used;		/* for replacing the least used */
};

struct api {
	struct shieldd			*d;
	struct evhttp			*http;
	struct evhttp_bound_socket	*sock;
	struct conn_set			*conns;	/* open connections, replies */
	struct api_cache		 cache[API_CACHE_SLOTS];
	uint64_t			 cache_clock;
	struct auth			*auth;	/* login workers, rate limit */
};

static const struct api_route *const api_tables[] = {
	api_auth_routes,
	api_schedule_routes,
	api_retention_routes,
	api_system_routes,
	api_job_routes,
	api_archive_routes,
	api_task_routes,
	api_misc_routes,
};

void	static_serve(struct api_req *, const char *webdir);
static int api_text_has_nul_escape(const char *, size_t);

/* Free a request context. */
static void
api_req_free(struct api_req *r)
{
	int i;

	for (i = 0; i < API_PARAMS_MAX; i++)
		free(r->param_buf[i]);
	evhttp_clear_headers(&r->query);
	cJSON_Delete(r->body);
	free(r->path);
	free(r->user);
	free(r);
}

/* Common headers on every API answer. */
static void
api_headers(struct api_req *r, const char *ctype)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(r->req);

	evhttp_add_header(h, "Content-Type", ctype);
	evhttp_add_header(h, "Cache-Control", "no-store");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
}

/* The reason phrases libevent 2.1 does not know. */
static const char *
api_reason(int code)
{
	return code == 421 ? "Misdirected Request" : NULL;
}

/* Send a body (a reference to b, dropped) with a status code; free r. */
static void
api_send(struct api_req *r, int code, const char *ctype,
    struct conn_blob *b)
{
	static const char busy_text[] = "{\"error\":\"too many large "
	    "replies are waiting for slow clients; try again later\"}";
	struct evkeyvalq *h;
	struct conn_blob *busy;

	if (r->gone) {
		/* Detached by evhttp when its connection closed: ours. */
		if (r->orphaned)
			evhttp_request_free(r->req);
	} else {
		/* The request context dies now; the connection may live on. */
		conn_unwatch(r->api->conns, r->req);
		api_headers(r, ctype);
		if (conn_send(r->api->conns, r->req, code, api_reason(code), b,
		    r->head) != 0) {
			h = evhttp_request_get_output_headers(r->req);
			evhttp_remove_header(h, "Content-Type");
			evhttp_add_header(h, "Content-Type",
			    "application/json");
			evhttp_add_header(h, "Retry-After", "5");
			busy = conn_blob_copy(busy_text, sizeof busy_text - 1);
			conn_send(r->api->conns, r->req, 503, NULL, busy,
			    r->head);
			conn_blob_unref(busy);
		}
	}
	conn_blob_unref(b);
	api_req_free(r);
}

/* Send a body with a status code and free r. */
void
api_reply_text(struct api_req *r, int code, const char *ctype,
    const char *body, size_t len)
{
	api_send(r, code, ctype, r->gone ? NULL : conn_blob_copy(body, len));
}

/* Send a JSON document (consumed) and free r. */
void
api_reply(struct api_req *r, int code, cJSON *json)
{
	char *text = cJSON_PrintUnformatted(json);

	cJSON_Delete(json);
	if (text == NULL) {
		api_reply_text(r, 500, "application/json",
		    "{\"error\":\"out of memory\"}", 25);
		return;
	}
	text = api_utf8_repair(text);
	api_send(r, code, "application/json", conn_blob_new(text,
	    strlen(text)));
}

/* {"ok": what} with 200. */
void
api_ok(struct api_req *r, const char *what)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "ok", what);
	api_reply(r, 200, o);
}

/* The reply to a create: the new object's uuid (and an API token's secret). */
void
api_created(struct api_req *r, const char *uuid, const char *token)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "ok", "created");
	cJSON_AddStringToObject(o, "uuid", uuid);
	if (token != NULL)
		cJSON_AddStringToObject(o, "token", token);
	api_reply(r, 200, o);
}

/* {"error": message} with the code. */
void
api_error(struct api_req *r, int code, const char *fmt, ...)
{
	cJSON *o = cJSON_CreateObject();
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	cJSON_AddStringToObject(o, "error", msg != NULL ? msg : "error");
	if (code >= 500)
		log_error("%s %s: %s", r->path, "failed", msg ? msg : "");
	free(msg);
	api_reply(r, code, o);
}

/* 400 naming the missing fields. */
void
api_missing(struct api_req *r, const char *const *names, size_t n)
{
	cJSON *o = cJSON_CreateObject(), *arr;
	char msg[512];
	size_t i, off;

	off = (size_t)snprintf(msg, sizeof msg, "missing required field%s: ",
	    n == 1 ? "" : "s");
	arr = cJSON_AddArrayToObject(o, "missing");
	for (i = 0; i < n; i++) {
		cJSON_AddItemToArray(arr, cJSON_CreateString(names[i]));
		if (off < sizeof msg)
			off += (size_t)snprintf(msg + off, sizeof msg - off,
			    "%s%s", i ? ", " : "", names[i]);
	}
	cJSON_AddStringToObject(o, "error", msg);
	api_reply(r, 400, o);
}

/* Turn a catalog failure into the right status. */
void
api_cat_error(struct api_req *r, int status, const char *what)
{
	switch (status) {
	case CAT_NOTFOUND:
		api_error(r, 404, "%s not found", what);
		break;
	case CAT_INUSE:
		api_error(r, 409, "%s is in use", what);
		break;
	case CAT_BADREF:
		api_error(r, 400, "%s refers to something that does not exist",
		    what);
		break;
	case CAT_EXISTS:
		api_error(r, 409, "%s already exists", what);
		break;
	default:
		api_error(r, 500, "internal error (catalog)");
		break;
	}
}

/* A query parameter's value, or NULL. */
const char *
api_query(struct api_req *r, const char *name)
{
	return evhttp_find_header(&r->query, name);
}

/* 1 if the parameter is present, with or without a value. */
int
api_query_has(struct api_req *r, const char *name)
{
	return evhttp_find_header(&r->query, name) != NULL;
}

/* A boolean parameter. */
int
api_query_bool(struct api_req *r, const char *name)
{
	const char *v = api_query(r, name);

	if (v == NULL)
		return CAT_ANY;
	if (strcmp(v, "t") == 0 || strcmp(v, "true") == 0 ||
	    strcmp(v, "1") == 0 || strcmp(v, "yes") == 0 || *v == '\0')
		return 1;
	if (strcmp(v, "f") == 0 || strcmp(v, "false") == 0 ||
	    strcmp(v, "0") == 0 || strcmp(v, "no") == 0)
		return 0;
	return -2;
}

/* A whole non-negative decimal number no larger than max, or -1. */
static long
api_query_count(const char *v, long max)
{
	char *end;
	long n;

	if (v == NULL || *v < '0' || *v > '9')
		return -1;
	errno = 0;
	n = strtol(v, &end, 10);
	if (*end != '\0' || errno != 0 || n > max)
		return -1;
	return n;
}

/*
 * A list's page: ?limit= and ?offset=.  A limit above max is served as max
 * (scripts that ask for "everything" with a big number keep working, and the
 * reply stays bounded); zero, negative or non-numeric limits are refused.
 */
int
api_query_page(struct api_req *r, int def, int max, int *limit, int *offset)
{
	const char *v;
	long n;

	*limit = def;
	*offset = 0;
	if ((v = api_query(r, "limit")) != NULL) {
		if ((n = api_query_count(v, LONG_MAX)) < 1) {
			api_error(r, 400, "limit must be a whole number of 1 "
			    "or more (at most %d are returned)", max);
			return -1;
		}
		*limit = n > max ? max : (int)n;
	}
	if ((v = api_query(r, "offset")) != NULL) {
		if ((n = api_query_count(v, INT_MAX)) < 0) {
			api_error(r, 400, "offset must be a number of 0 or "
			    "more");
			return -1;
		}
		*offset = (int)n;
	}
	return 0;
}

/* A string field of the body. */
int
api_body_string(struct api_req *r, const char *name, const char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->body, name);

	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v)) {
		api_error(r, 400, "%s must be a string", name);
		return -1;
	}
	*out = v->valuestring;
	return 0;
}

/* A boolean field of the body. */
int
api_body_bool(struct api_req *r, const char *name, int *out, int *present)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->body, name);

	if (present != NULL)
		*present = 0;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsBool(v)) {
		api_error(r, 400, "%s must be true or false", name);
		return -1;
	}
	*out = cJSON_IsTrue(v);
	if (present != NULL)
		*present = 1;
	return 0;
}

/* An integer field of the body (a JSON number without fraction). */
int
api_body_int(struct api_req *r, const char *name, int64_t *out, int *present)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->body, name);
	double d;

	if (present != NULL)
		*present = 0;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v)) {
		api_error(r, 400, "%s must be a number", name);
		return -1;
	}
	d = v->valuedouble;
	/* The range first: converting a double out of it is undefined. */
	if (!(d >= -9e15 && d <= 9e15) || d != (double)(int64_t)d) {
		api_error(r, 400, "%s must be a whole number", name);
		return -1;
	}
	*out = (int64_t)d;
	if (present != NULL)
		*present = 1;
	return 0;
}

/* Check required fields; reply with the missing list if any are absent. */
int
api_body_require(struct api_req *r, const char *const *names, size_t n)
{
	const char *missing[16];
	const cJSON *v;
	size_t i, m = 0;

	for (i = 0; i < n && m < 16; i++) {
		v = cJSON_GetObjectItemCaseSensitive(r->body, names[i]);
		if (v == NULL || cJSON_IsNull(v) ||
		    (cJSON_IsString(v) && v->valuestring[0] == '\0'))
			missing[m++] = names[i];
	}
	if (m == 0)
		return 0;
	api_missing(r, missing, m);
	return -1;
}

/* Bound a string field's length. */
int
api_check_len(struct api_req *r, const char *field, const char *value,
    size_t max)
{
	if (value != NULL && strlen(value) > max) {
		api_error(r, 400, "%s is too long (at most %zu characters)",
		    field, max);
		return -1;
	}
	return 0;
}

/* A timestamp in the API format, or null. */
void
api_json_time(cJSON *o, const char *key, int64_t t)
{
	timefmt_buf b;

	if (t == 0) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	timefmt_utc(t, b);
	cJSON_AddStringToObject(o, key, b);
}

/* A string, "" for NULL. */
void
api_json_str(cJSON *o, const char *key, const char *s)
{
	cJSON_AddStringToObject(o, key, s != NULL ? s : "");
}

/* A uuid, null when empty. */
void
api_json_uuid(cJSON *o, const char *key, const char *s)
{
	if (s == NULL || *s == '\0')
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddStringToObject(o, key, s);
}

/* Match a path against a pattern, capturing :params. */
static int
api_match(const char *pattern, const char *path, struct api_req *r)
{
	const char *p = pattern, *s = path, *seg;
	size_t len;
	int n = 0;

	while (*p != '\0' && *s != '\0') {
		if (*p == ':') {
			seg = s;
			while (*s != '\0' && *s != '/')
				s++;
			while (*p != '\0' && *p != '/')
				p++;
			if (s == seg || n >= API_PARAMS_MAX)
				return 0;
			len = (size_t)(s - seg);
			free(r->param_buf[n]);
			r->param_buf[n] = xstrndup(seg, len);
			r->params[n] = r->param_buf[n];
			n++;
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	return *p == '\0' && *s == '\0';
}

/* Find the route; *path_known tells whether another method would match. */
const struct api_route *
api_route_find(struct api_req *r, int *path_known)
{
	const struct api_route *rt;
	size_t i;

	*path_known = 0;
	for (i = 0; i < sizeof api_tables / sizeof api_tables[0]; i++) {
		for (rt = api_tables[i]; rt->pattern != NULL; rt++) {
			if (!api_match(rt->pattern, r->path, r))
				continue;
			*path_known = 1;
			if (rt->method == r->method)
				return rt;
		}
	}
	return NULL;
}

/* Read and parse the body per the route's flags; replies on error. */
int
api_read_body(struct api_req *r, const struct api_route *rt)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(r->req);
	size_t len = evbuffer_get_length(in);
	const char *end = NULL;
	char *text;

	if (len > API_BODY_MAX) {
		api_error(r, 413, "request body too large (over %d bytes)",
		    API_BODY_MAX);
		return -1;
	}
	if (!(rt->flags & (API_JSON_BODY | API_OPT_BODY)))
		return 0;
	if (len == 0) {
		if (rt->flags & API_OPT_BODY) {
			r->body = cJSON_CreateObject();
			return 0;
		}
		api_error(r, 400, "a JSON object body is required");
		return -1;
	}
	text = xmalloc(len + 1);
	evbuffer_copyout(in, text, len);
	text[len] = '\0';
	if (memchr(text, '\0', len) != NULL ||
	    api_text_has_nul_escape(text, len)) {
		free(text);
		api_error(r, 400, "strings must not contain NUL characters");
		return -1;
	}
	r->body = cJSON_ParseWithOpts(text, &end, 1);
	free(text);
	if (r->body == NULL) {
		api_error(r, 400, "the body is not valid JSON");
		return -1;
	}
	if (!cJSON_IsObject(r->body)) {
		api_error(r, 400, "the body must be a JSON object");
		return -1;
	}
	return api_body_utf8(r);
}

/*
 * 1 if the raw JSON text has a \u0000 escape outside an escaped backslash:
 * cJSON would silently cut such a string short, so it is refused instead.
 */
static int
api_text_has_nul_escape(const char *t, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i++) {
		if (t[i] != '\\')
			continue;
		if (t[i + 1] == 'u' && i + 5 < len && strncmp(t + i + 2,
		    "0000", 4) == 0)
			return 1;
		i++;	/* skip the escaped character */
	}
	return 0;
}

/*
 * Parse a query string into q.  Unlike evhttp_parse_query_str() in libevent
 * 2.1, a bare "?debug" is accepted (as an empty value).
 */
static int
api_parse_query(const char *query, struct evkeyvalq *q)
{
	char *copy = xstrdup(query), *part, *save, *eq, *k, *v;
	size_t klen = 0, vlen = 0;
	int rc = 0;

	for (part = strtok_r(copy, "&", &save); part != NULL && rc == 0;
	    part = strtok_r(NULL, "&", &save)) {
		if ((eq = strchr(part, '=')) != NULL)
			*eq = '\0';
		k = evhttp_uridecode(part, 1, &klen);
		v = evhttp_uridecode(eq != NULL ? eq + 1 : "", 1, &vlen);
		/* A %00 would cut the value short: refused instead. */
		if (k == NULL || v == NULL || *k == '\0' ||
		    strlen(k) != klen || strlen(v) != vlen ||
		    evhttp_add_header(q, k, v) != 0)
			rc = -1;
		free(k);
		free(v);
	}
	free(copy);
	return rc;
}

/* Note a client that went away before its reply. */
static void
api_req_gone_cb(void *arg, int orphaned)
{
	struct api_req *r = arg;

	r->gone = 1;
	r->orphaned = orphaned;
}

/* The one evhttp callback: route, authenticate, dispatch. */
static void
api_request_cb(struct evhttp_request *req, void *arg)
{
	struct api *api = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const struct api_route *rt;
	struct api_req *r;
	const char *p, *q;
	size_t len = 0;
	int known;

	r = xcalloc(1, sizeof *r);
	r->api = api;
	r->d = api->d;
	r->req = req;
	r->method = evhttp_request_get_command(req);
	/* HEAD is GET without the body, wherever GET is served. */
	if (r->method == EVHTTP_REQ_HEAD) {
		r->head = 1;
		r->method = EVHTTP_REQ_GET;
	}
	TAILQ_INIT(&r->query);
	p = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	r->path = evhttp_uridecode(p != NULL && *p != '\0' ? p : "/", 0, &len);
	/* A %00 inside ends the string early: "/v1/jobs%00x" is not a path. */
	if (r->path == NULL || strlen(r->path) != len) {
		r->path = r->path ? r->path : xstrdup("/");
		api_error(r, 400, "malformed path");
		return;
	}
	if (guard_request(r) != 0)
		return;
	q = uri != NULL ? evhttp_uri_get_query(uri) : NULL;
	if (q != NULL && api_parse_query(q, &r->query) != 0) {
		api_error(r, 400, "malformed query string");
		return;
	}
	if (strncmp(r->path, "/v1/", 4) != 0 && strcmp(r->path, "/v1") != 0 &&
	    strcmp(r->path, "/metrics") != 0) {
		static_serve(r, api->d->cfg.web);
		return;
	}
	rt = api_route_find(r, &known);
	if (rt == NULL) {
		if (known)
			api_error(r, 405, "method not allowed on %s", r->path);
		else
			api_error(r, 404, "no such endpoint: %s", r->path);
		return;
	}
	if (!(rt->flags & API_PUBLIC) && auth_check(r) != 0) {
		api_error(r, 401, "authentication required: log in or send "
		    "an API token");
		return;
	}
	if (guard_route(r, rt) != 0)
		return;
	if (strstr(rt->pattern, ":uuid") != NULL) {
		if (!id_valid(r->params[0])) {
			api_error(r, 404, "not a valid uuid: %.64s",
			    r->params[0]);
			return;
		}
		id_lower(r->param_buf[0]);
	}
	if (api_read_body(r, rt) != 0)
		return;
	conn_watch(api->conns, req, api_req_gone_cb, r);
	rt->fn(r);
}

/* Split HOST:PORT. */
static int
api_split_listen(const char *listen, char **host, int *port)
{
	const char *colon = strrchr(listen, ':');
	char *end;
	long n;

	if (colon == NULL || colon == listen)
		return -1;
	errno = 0;
	n = strtol(colon + 1, &end, 10);
	if (errno != 0 || *end != '\0' || n < 0 || n > 65535)
		return -1;
	if (listen[0] == '[' && colon[-1] == ']')
		*host = xstrndup(listen + 1, (size_t)(colon - listen - 2));
	else
		*host = xstrndup(listen, (size_t)(colon - listen));
	*port = (int)n;
	return 0;
}

/* Create the HTTP server and bind it. */
struct api *
api_new(struct shieldd *d, const char *listen, char **errp)
{
	struct api *api;
	char *host;
	int port;

	if (api_split_listen(listen, &host, &port) != 0) {
		xasprintf(errp, "bad --listen address '%s' (want HOST:PORT)",
		    listen);
		return NULL;
	}
	api = xcalloc(1, sizeof *api);
	api->d = d;
	api->http = evhttp_new(d->base);
	api->conns = conn_set_new(d->base, api->http, d->cfg.max_connections);
	evhttp_set_max_body_size(api->http, API_TRANSPORT_MAX);
	evhttp_set_max_headers_size(api->http, 64 * 1024);
	/* Read and write timeouts: idle clients and stalled readers go. */
	evhttp_set_timeout(api->http, d->cfg.http_timeout > 0 ?
	    d->cfg.http_timeout : 60);
	evhttp_set_allowed_methods(api->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST |
	    EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE | EVHTTP_REQ_HEAD |
	    EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
	evhttp_set_gencb(api->http, api_request_cb, api);
	if ((api->auth = auth_new(d)) == NULL) {
		xasprintf(errp, "cannot start the password-check thread");
		free(host);
		api_free(api);
		return NULL;
	}
	api->sock = evhttp_bind_socket_with_handle(api->http, host, (uint16_t)port);
	if (api->sock == NULL) {
		xasprintf(errp, "cannot listen on %s: %s", listen,
		    strerror(errno));
		free(host);
		api_free(api);
		return NULL;
	}
	conn_set_listen(api->conns, api->sock);
	free(host);
	return api;
}

/* Reply 200 with a shared JSON blob, without copying it, and free r. */
static void
api_reply_blob(struct api_req *r, struct conn_blob *b)
{
	conn_blob_ref(b);
	api_send(r, 200, "application/json", b);
}

/* Answer from the cache if this URI's reply is still current. */
int
api_cache_reply(struct api_req *r)
{
	struct api *api = r->api;
	const char *key = evhttp_request_get_uri(r->req);
	int64_t gen = catalog_generation(r->d->cat);
	struct api_cache *c;
	size_t i;

	for (i = 0; i < API_CACHE_SLOTS; i++) {
		c = &api->cache[i];
		if (c->key == NULL || c->generation != gen ||
		    strcmp(c->key, key) != 0)
			continue;
		c->used = ++api->cache_clock;
		api_reply_blob(r, c->blob);
		return 1;
	}
	return 0;
}

/* Reply with json (consumed) and keep the text for api_cache_reply(). */
void
api_reply_cached(struct api_req *r, cJSON *json)
{
	struct api *api = r->api;
	struct api_cache *c = &api->cache[0];
	char *text = cJSON_PrintUnformatted(json);
	size_t i;

	cJSON_Delete(json);
	if (text == NULL) {
		api_error(r, 500, "out of memory");
		return;
	}
	text = api_utf8_repair(text);
	for (i = 1; i < API_CACHE_SLOTS; i++) {
		if (api->cache[i].used < c->used)
			c = &api->cache[i];
	}
	free(c->key);
	conn_blob_unref(c->blob);
	c->key = xstrdup(evhttp_request_get_uri(r->req));
	c->generation = catalog_generation(r->d->cat);
	c->blob = conn_blob_new(text, strlen(text));
	c->used = ++api->cache_clock;
	api_reply_blob(r, c->blob);
}

/* The api's authentication state. */
struct auth *
api_auth(struct api *api)
{
	return api->auth;
}

/* Stop accepting new connections. */
void
api_close(struct api *api)
{
	if (api != NULL && api->sock != NULL) {
		conn_set_unlisten(api->conns);
		evhttp_del_accept_socket(api->http, api->sock);
		api->sock = NULL;
	}
}

/* Free the server. */
void
api_free(struct api *api)
{
	size_t i;

	if (api == NULL)
		return;
	auth_free(api->auth);	/* answers its requests: before evhttp_free */
	conn_set_unlisten(api->conns);
	if (api->http != NULL)
		evhttp_free(api->http);	/* closes every connection */
	conn_set_free(api->conns);
	for (i = 0; i < API_CACHE_SLOTS; i++) {
		free(api->cache[i].key);
		conn_blob_unref(api->cache[i].blob);
	}
	free(api);
}
