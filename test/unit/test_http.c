/*
 * The HTTP layer in-process: a real shieldd (catalog in a temp dir, the
 * build's plugins) is started inside the test on 127.0.0.1, and libevent's
 * HTTP client on the same event loop sends it requests.  Covers the router
 * (404, 405, uuids, %00 in paths, HEAD), the JSON mapping of bodies (types,
 * missing fields, NUL, limits), authentication (login, bearer tokens,
 * cookies, logout) and the request guard (Host names, the origin and
 * content type of cookie changes).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cJSON.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "daemon.h"
#include "guard.h"
#include "log.h"

#define PASSWORD "unit test password"

/* The Origin of pages served by the test daemon (Host: 127.0.0.1). */
static const char *const own_origin[] = { "Origin", "http://127.0.0.1",
    NULL };

struct fixture {
	char			 dir[64];
	struct shieldd		 d;
	int			 port;
	char			*token;
};

struct reply {
	int	 done;
	int	 status;
	char	*body;
	char	*cookie;
	char	*length;	/* Content-Length */
};

/* A free loopback port (closed again; another process could take it). */
static int
free_port(void)
{
	struct sockaddr_in sa;
	socklen_t len = sizeof sa;
	int fd, port;

	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	port = ntohs(sa.sin_port);
	close(fd);
	return port;
}

/* The client's request finished. */
static void
reply_cb(struct evhttp_request *req, void *arg)
{
	struct reply *rep = arg;
	struct evbuffer *b;
	const char *c;
	size_t n;

	rep->done = 1;
	if (req == NULL)
		return;
	rep->status = evhttp_request_get_response_code(req);
	b = evhttp_request_get_input_buffer(req);
	n = evbuffer_get_length(b);
	rep->body = calloc(1, n + 1);
	evbuffer_remove(b, rep->body, n);
	c = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Set-Cookie");
	if (c != NULL)
		rep->cookie = strdup(c);
	c = evhttp_find_header(evhttp_request_get_input_headers(req),
	    "Content-Length");
	if (c != NULL)
		rep->length = strdup(c);
}

/*
 * Send one request through the daemon's own loop; fills rep.  extra: more
 * headers, name and value pairs, NULL-terminated (or NULL).
 */
static void
do_request_with(struct fixture *f, enum evhttp_cmd_type method,
    const char *path, const char *body, const char *auth, const char *cookie,
    const char *const *extra, struct reply *rep)
{
	struct evhttp_connection *conn;
	struct evhttp_request *req;
	const char *const *x;
	struct evkeyvalq *h;
	char hdr[256];
	int host = 0;

	memset(rep, 0, sizeof *rep);
	conn = evhttp_connection_base_new(f->d.base, NULL, "127.0.0.1",
	    (uint16_t)f->port);
	req = evhttp_request_new(reply_cb, rep);
	h = evhttp_request_get_output_headers(req);
	for (x = extra; x != NULL && x[0] != NULL; x += 2)
		host |= strcmp(x[0], "Host") == 0;
	if (!host)
		evhttp_add_header(h, "Host", "127.0.0.1");
	if (auth != NULL) {
		snprintf(hdr, sizeof hdr, "Bearer %s", auth);
		evhttp_add_header(h, "Authorization", hdr);
	}
	if (cookie != NULL)
		evhttp_add_header(h, "Cookie", cookie);
	for (; extra != NULL && extra[0] != NULL; extra += 2)
		evhttp_add_header(h, extra[0], extra[1]);
	if (body != NULL)
		evbuffer_add(evhttp_request_get_output_buffer(req), body,
		    strlen(body));
	assert_int_equal(evhttp_make_request(conn, req, method, path), 0);
	while (!rep->done)
		event_base_loop(f->d.base, EVLOOP_ONCE);
	evhttp_connection_free(conn);
}

static void
do_request(struct fixture *f, enum evhttp_cmd_type method, const char *path,
    const char *body, const char *auth, const char *cookie,
    struct reply *rep)
{
	do_request_with(f, method, path, body, auth, cookie, NULL, rep);
}

/* Free a reply's strings. */
static void
reply_clear(struct reply *rep)
{
	free(rep->body);
	free(rep->cookie);
	free(rep->length);
	memset(rep, 0, sizeof *rep);
}

/* The "error" text of a JSON error body, checked to exist. */
static void
assert_error(struct reply *rep, int status, const char *needle)
{
	cJSON *j = cJSON_Parse(rep->body), *e;

	assert_int_equal(rep->status, status);
	assert_non_null(j);
	e = cJSON_GetObjectItem(j, "error");
	assert_true(cJSON_IsString(e));
	if (needle != NULL && strstr(e->valuestring, needle) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", e->valuestring, needle);
	cJSON_Delete(j);
}

/* Start a daemon in this process and log in. */
static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char listen[32], db[96], plugins[256];
	char *argv[] = { "shieldd", "--listen", listen, "--db", db,
	    "--plugins", plugins, "--log-level", "error", NULL };
	struct reply rep;
	cJSON *j;

	snprintf(f->dir, sizeof f->dir, "/tmp/shield-http-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->port = free_port();
	snprintf(listen, sizeof listen, "127.0.0.1:%d", f->port);
	snprintf(db, sizeof db, "%s/c.db", f->dir);
	snprintf(plugins, sizeof plugins, "%s/plugins/bin", SHIELD_TEST_BUILD);
	setenv("SHIELD_ADMIN_PASSWORD", PASSWORD, 1);
	f->d.lock_fd = -1;
	assert_int_equal(shieldd_configure(&f->d.cfg, 9, argv), 0);
	assert_int_equal(shieldd_start(&f->d), 0);
	do_request(f, EVHTTP_REQ_POST, "/v1/auth/login",
	    "{\"username\":\"admin\",\"password\":\"" PASSWORD "\"}", NULL,
	    NULL, &rep);
	assert_int_equal(rep.status, 200);
	j = cJSON_Parse(rep.body);
	f->token = strdup(cJSON_GetObjectItem(j, "token")->valuestring);
	cJSON_Delete(j);
	reply_clear(&rep);
	*state = f;
	return 0;
}

/* Stop the daemon and remove its files. */
static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	shieldd_free(&f->d);
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	free(f->token);
	free(f);
	return 0;
}

/* Unknown paths are 404, known paths with another method 405. */
static void
test_http_router_404_405(void **state)
{
	struct fixture *f = *state;
	struct reply rep;

	do_request(f, EVHTTP_REQ_GET, "/v1/nowhere", NULL, f->token, NULL,
	    &rep);
	assert_error(&rep, 404, "no such endpoint");
	reply_clear(&rep);
	do_request(f, EVHTTP_REQ_DELETE, "/v1/schedules", NULL, f->token,
	    NULL, &rep);
	assert_error(&rep, 405, "method not allowed");
	reply_clear(&rep);
	do_request(f, EVHTTP_REQ_GET, "/v1/job/123", NULL, f->token, NULL,
	    &rep);
	assert_error(&rep, 404, "not a valid uuid");
	reply_clear(&rep);
	do_request(f, EVHTTP_REQ_GET,
	    "/v1/job/00000000-0000-4000-8000-000000000000", NULL, f->token,
	    NULL, &rep);
	assert_error(&rep, 404, "job not found");
	reply_clear(&rep);
	do_request(f, EVHTTP_REQ_GET, "/v1/tasks?debug", NULL, f->token,
	    NULL, &rep);
	assert_int_equal(rep.status, 200);
	reply_clear(&rep);
}

/* A created schedule comes back with the keys the API promises. */
static void
test_http_json_round_trip(void **state)
{
	struct fixture *f = *state;
	char path[80];
	struct reply rep;
	cJSON *j;

	do_request(f, EVHTTP_REQ_POST, "/v1/schedules",
	    "{\"name\":\"n\\u00e9\",\"summary\":\"s\",\"when\":\"daily at 4am\"}",
	    f->token, NULL, &rep);
	assert_int_equal(rep.status, 200);
	j = cJSON_Parse(rep.body);
	assert_string_equal(cJSON_GetObjectItem(j, "ok")->valuestring,
	    "created");
	snprintf(path, sizeof path, "/v1/schedule/%s",
	    cJSON_GetObjectItem(j, "uuid")->valuestring);
	cJSON_Delete(j);
	reply_clear(&rep);
	do_request(f, EVHTTP_REQ_GET, path, NULL, f->token, NULL, &rep);
	assert_int_equal(rep.status, 200);
	j = cJSON_Parse(rep.body);
	assert_string_equal(cJSON_GetObjectItem(j, "name")->valuestring,
	    "n\xc3\xa9");
	assert_string_equal(cJSON_GetObjectItem(j, "when")->valuestring,
	    "daily at 4am");
	assert_string_equal(cJSON_GetObjectItem(j, "summary")->valuestring,
	    "s");
	cJSON_Delete(j);
	reply_clear(&rep);
}

/* Bad bodies: wrong types, missing fields, NUL, not an object, too long. */
static void
test_http_json_bad_bodies(void **state)
{
	struct fixture *f = *state;
	struct reply rep;
	cJSON *j, *m;
	char *big;

	do_request(f, EVHTTP_REQ_POST, "/v1/retention",
	    "{\"name\":\"r\",\"expires\":\"3600\"}", f->token, NULL, &rep);
	assert_error(&rep, 400, "expires must be a number");
	reply_clear(&rep);
	do_request(f, EVHTTP_REQ_POST, "/v1/schedules", "{\"summary\":1}",
	    f->token, NULL, &rep);
	assert_int_equal(rep.status, 400);
	j = cJSON_Parse(rep.body);
	m = cJSON_GetObjectItem(j, "missing");
	assert_int_equal(cJSON_GetArraySize(m), 2);
	assert_string_equal(cJSON_GetArrayItem(m, 0)->valuestring, "name");
	assert_string_equal(cJSON_GetArrayItem(m, 1)->valuestring, "when");
	cJSON_Delete(j);
	reply_clear(&rep);
	do_request(f, EVHTTP_REQ_POST, "/v1/schedules",
	    "{\"name\":\"a\\u0000b\",\"when\":\"daily at 4am\"}", f->token,
	    NULL, &rep);
	assert_error(&rep, 400, "NUL");
	reply_clear(&rep);
	do_request(f, EVHTTP_REQ_POST, "/v1/schedules", "[1]", f->token,
	    NULL, &rep);
	assert_error(&rep, 400, "JSON object");
	reply_clear(&rep);
	do_request(f, EVHTTP_REQ_POST, "/v1/schedules", "{\"name\":",
	    f->token, NULL, &rep);
	assert_error(&rep, 400, "not valid JSON");
	reply_clear(&rep);
	do_request(f, EVHTTP_REQ_POST, "/v1/jobs",
	    "{\"name\":\"j\",\"target\":\"t\",\"store\":\"s\",\"schedule\":"
	    "\"c\",\"retention\":\"r\",\"paused\":\"yes\"}", f->token, NULL,
	    &rep);
	assert_error(&rep, 400, "paused");
	reply_clear(&rep);
	big = malloc(400);
	memset(big, 'x', 399);
	big[0] = '{';
	memcpy(big + 1, "\"name\":\"", 8);
	memcpy(big + 380, "\",\"when\":\"daily\"}", 17);
	big[397] = '\0';
	do_request(f, EVHTTP_REQ_POST, "/v1/schedules", big, f->token, NULL,
	    &rep);
	assert_error(&rep, 400, "too long");
	free(big);
	reply_clear(&rep);
}

/* Without a valid token or cookie only ping and login answer. */
static void
test_http_auth_required(void **state)
{
	struct fixture *f = *state;
	struct reply rep;

	do_request(f, EVHTTP_REQ_GET, "/v1/ping", NULL, NULL, NULL, &rep);
	assert_int_equal(rep.status, 200);
	assert_string_equal(rep.body, "{\"ok\":\"pong\"}");
	reply_clear(&rep);
	do_request(f, EVHTTP_REQ_GET, "/v1/jobs", NULL, NULL, NULL, &rep);
	assert_error(&rep, 401, "authentication required");
	reply_clear(&rep);
	do_request(f, EVHTTP_REQ_GET, "/v1/jobs", NULL, "not-a-token", NULL,
	    &rep);
	assert_error(&rep, 401, NULL);
	reply_clear(&rep);
	do_request(f, EVHTTP_REQ_POST, "/v1/auth/login",
	    "{\"username\":\"admin\",\"password\":\"nope\"}", NULL, NULL,
	    &rep);
	assert_error(&rep, 401, "wrong username or password");
	reply_clear(&rep);
}

/* The session cookie works alone, is HttpOnly/Strict, and logout ends it. */
static void
test_http_auth_cookie(void **state)
{
	struct fixture *f = *state;
	struct reply rep, me;
	char cookie[128], *semi;

	do_request(f, EVHTTP_REQ_POST, "/v1/auth/login",
	    "{\"username\":\"admin\",\"password\":\"" PASSWORD "\"}", NULL,
	    NULL, &rep);
	assert_int_equal(rep.status, 200);
	assert_non_null(rep.cookie);
	assert_non_null(strstr(rep.cookie, "HttpOnly"));
	assert_non_null(strstr(rep.cookie, "SameSite=Strict"));
	snprintf(cookie, sizeof cookie, "other=1; %s", rep.cookie);
	if ((semi = strchr(strstr(cookie, "shield_session"), ';')) != NULL)
		*semi = '\0';
	reply_clear(&rep);
	do_request(f, EVHTTP_REQ_GET, "/v1/auth/me", NULL, NULL, cookie, &me);
	assert_int_equal(me.status, 200);
	assert_non_null(strstr(me.body, "\"username\":\"admin\""));
	reply_clear(&me);
	do_request_with(f, EVHTTP_REQ_POST, "/v1/auth/logout", NULL, NULL,
	    cookie, own_origin, &rep);
	assert_int_equal(rep.status, 200);
	reply_clear(&rep);
	do_request(f, EVHTTP_REQ_GET, "/v1/auth/me", NULL, NULL, cookie, &me);
	assert_int_equal(me.status, 401);
	reply_clear(&me);
}

/* A %00 in the path or query is refused, not cut short. */
static void
test_http_nul_in_path(void **state)
{
	struct fixture *f = *state;
	struct reply rep;

	do_request(f, EVHTTP_REQ_GET, "/v1/jobs%00zzz", NULL, f->token, NULL,
	    &rep);
	assert_error(&rep, 400, "malformed path");
	reply_clear(&rep);
	do_request(f, EVHTTP_REQ_GET, "/v1/ping%00", NULL, NULL, NULL, &rep);
	assert_error(&rep, 400, "malformed path");
	reply_clear(&rep);
	do_request(f, EVHTTP_REQ_GET, "/v1/tasks?status=done%00x", NULL,
	    f->token, NULL, &rep);
	assert_error(&rep, 400, "malformed query");
	reply_clear(&rep);
	do_request(f, EVHTTP_REQ_GET, "/v1/jobs", NULL, f->token, NULL, &rep);
	assert_int_equal(rep.status, 200);
	reply_clear(&rep);
}

/* HEAD is served wherever GET is: the same status and length, no body. */
static void
test_http_head(void **state)
{
	struct fixture *f = *state;
	struct reply get, head;
	char n[32];

	do_request(f, EVHTTP_REQ_HEAD, "/v1/ping", NULL, NULL, NULL, &head);
	assert_int_equal(head.status, 200);
	assert_string_equal(head.body, "");
	assert_non_null(head.length);
	assert_string_equal(head.length, "13");
	reply_clear(&head);
	do_request(f, EVHTTP_REQ_GET, "/v1/schedules", NULL, f->token, NULL,
	    &get);
	do_request(f, EVHTTP_REQ_HEAD, "/v1/schedules", NULL, f->token, NULL,
	    &head);
	assert_int_equal(get.status, 200);
	assert_int_equal(head.status, 200);
	snprintf(n, sizeof n, "%zu", strlen(get.body));
	assert_non_null(head.length);
	assert_string_equal(head.length, n);
	assert_string_equal(head.body, "");
	reply_clear(&get);
	reply_clear(&head);
	do_request(f, EVHTTP_REQ_HEAD, "/v1/schedules", NULL, NULL, NULL,
	    &head);
	assert_int_equal(head.status, 401);
	assert_string_equal(head.body, "");
	reply_clear(&head);
	do_request(f, EVHTTP_REQ_HEAD, "/v1/auth/login", NULL, NULL, NULL,
	    &head);
	assert_int_equal(head.status, 405);
	reply_clear(&head);
}

/* The Host header must name this daemon (DNS rebinding). */
static void
test_http_host_header(void **state)
{
	static const char *const evil[] = { "Host", "evil.example", NULL };
	static const char *const evil_port[] = { "Host", "evil.example:8080",
	    NULL };
	static const char *const local[] = { "Host", "localhost:1234", NULL };
	static const char *const v6[] = { "Host", "[::1]:80", NULL };
	static const char *const v4[] = { "Host", "10.1.2.3", NULL };
	static const char *const two[] = { "Host", "127.0.0.1", "Host",
	    "evil.example", NULL };
	struct fixture *f = *state;
	struct reply rep;

	do_request_with(f, EVHTTP_REQ_GET, "/v1/ping", NULL, NULL, NULL, evil,
	    &rep);
	assert_error(&rep, 421, "host name 'evil.example'");
	reply_clear(&rep);
	do_request_with(f, EVHTTP_REQ_GET, "/", NULL, NULL, NULL, evil_port,
	    &rep);
	assert_error(&rep, 421, "--hostnames");
	reply_clear(&rep);
	do_request_with(f, EVHTTP_REQ_GET, "/v1/ping", NULL, NULL, NULL, local,
	    &rep);
	assert_int_equal(rep.status, 200);
	reply_clear(&rep);
	do_request_with(f, EVHTTP_REQ_GET, "/v1/ping", NULL, NULL, NULL, v6,
	    &rep);
	assert_int_equal(rep.status, 200);
	reply_clear(&rep);
	do_request_with(f, EVHTTP_REQ_GET, "/v1/ping", NULL, NULL, NULL, v4,
	    &rep);
	assert_int_equal(rep.status, 200);
	reply_clear(&rep);
	do_request_with(f, EVHTTP_REQ_GET, "/v1/ping", NULL, NULL, NULL, two,
	    &rep);
	assert_error(&rep, 400, "more than one Host");
	reply_clear(&rep);
}

/* The pure checks behind the Host, Origin and Content-Type rules. */
static void
test_http_guard_values(void **state)
{
	const char *names = "backup.example.com, Other ,x";

	(void)state;
	assert_true(guard_host_ok("127.0.0.1", NULL));
	assert_true(guard_host_ok("127.0.0.1:8080", NULL));
	assert_true(guard_host_ok("[::1]", NULL));
	assert_true(guard_host_ok("[2001:db8::5]:443", NULL));
	assert_true(guard_host_ok("LocalHost:80", NULL));
	assert_true(guard_host_ok("BACKUP.example.com:8443", names));
	assert_true(guard_host_ok("other", names));
	assert_true(guard_host_ok("x", names));
	assert_false(guard_host_ok("backup.example.com", NULL));
	assert_false(guard_host_ok("backup.example.com.evil.org", names));
	assert_false(guard_host_ok("example.com", names));
	assert_false(guard_host_ok("", names));
	assert_false(guard_host_ok("localhost:", NULL));
	assert_false(guard_host_ok("localhost:99999", NULL));
	assert_false(guard_host_ok("localhost:80x", NULL));
	assert_false(guard_host_ok("[::1", NULL));
	assert_false(guard_host_ok("[::1]x", NULL));
	assert_false(guard_host_ok("[not-v6]", NULL));
	assert_false(guard_host_ok("1.2.3.4.5", NULL));
	assert_false(guard_host_ok("localhost.", NULL));
	assert_true(guard_origin_ok("http://127.0.0.1:8080", "127.0.0.1:8080"));
	assert_true(guard_origin_ok("https://h:1/x?y", "H:1"));
	assert_true(guard_origin_ok("http://h:1#f", "h:1"));
	assert_false(guard_origin_ok("http://127.0.0.1:8081",
	    "127.0.0.1:8080"));
	assert_false(guard_origin_ok("http://127.0.0.1:8080.evil.org",
	    "127.0.0.1:8080"));
	assert_false(guard_origin_ok("http://u@h:1", "h:1"));
	assert_false(guard_origin_ok("null", "h:1"));
	assert_false(guard_origin_ok("ftp://h:1", "h:1"));
	assert_false(guard_origin_ok("http://h:1", NULL));
	assert_true(guard_json_type("application/json"));
	assert_true(guard_json_type(" Application/JSON ; charset=utf-8"));
	assert_false(guard_json_type("text/plain"));
	assert_false(guard_json_type("application/jsonx"));
	assert_false(guard_json_type("application/json-patch+json"));
	assert_false(guard_json_type(""));
}

/* A cookie change (CSRF): own origin and a JSON body, or refused. */
static void
test_http_csrf(void **state)
{
	static const char *const json[] = { "Origin", "http://127.0.0.1",
	    "Content-Type", "application/json; charset=utf-8", NULL };
	static const char *const other_port[] = { "Origin",
	    "http://127.0.0.1:9999", "Content-Type", "application/json", NULL };
	static const char *const no_origin[] = { "Content-Type",
	    "application/json", NULL };
	static const char *const referer[] = { "Referer",
	    "http://127.0.0.1/#/schedules", "Content-Type", "application/json",
	    NULL };
	static const char *const bad_referer[] = { "Referer",
	    "http://evil.example/", "Content-Type", "application/json", NULL };
	static const char *const plain[] = { "Origin", "http://127.0.0.1",
	    "Content-Type", "text/plain", NULL };
	static const char *const foreign_plain[] = { "Origin",
	    "http://evil.example", "Content-Type", "text/plain", NULL };
	struct fixture *f = *state;
	struct reply rep;
	char cookie[128], path[80], *semi;
	cJSON *j;

	do_request(f, EVHTTP_REQ_POST, "/v1/auth/login",
	    "{\"username\":\"admin\",\"password\":\"" PASSWORD "\"}", NULL,
	    NULL, &rep);
	assert_int_equal(rep.status, 200);
	snprintf(cookie, sizeof cookie, "%s", rep.cookie);
	if ((semi = strchr(cookie, ';')) != NULL)
		*semi = '\0';
	reply_clear(&rep);
#define SCHED(n)	"{\"name\":\"" n "\",\"when\":\"daily at 4am\"}"
	do_request_with(f, EVHTTP_REQ_POST, "/v1/schedules", SCHED("a"), NULL,
	    cookie, other_port, &rep);
	assert_error(&rep, 403, "is not this daemon's origin");
	reply_clear(&rep);
	do_request_with(f, EVHTTP_REQ_POST, "/v1/schedules", SCHED("a"), NULL,
	    cookie, no_origin, &rep);
	assert_error(&rep, 403, "Origin or Referer");
	reply_clear(&rep);
	do_request_with(f, EVHTTP_REQ_POST, "/v1/schedules", SCHED("a"), NULL,
	    cookie, bad_referer, &rep);
	assert_error(&rep, 403, "evil.example");
	reply_clear(&rep);
	do_request_with(f, EVHTTP_REQ_POST, "/v1/schedules", SCHED("a"), NULL,
	    cookie, plain, &rep);
	assert_error(&rep, 415, "application/json");
	reply_clear(&rep);
	do_request_with(f, EVHTTP_REQ_POST, "/v1/schedules", SCHED("a"), NULL,
	    cookie, own_origin, &rep);
	assert_error(&rep, 415, "application/json");
	reply_clear(&rep);
	/* Nothing refused was made. */
	do_request(f, EVHTTP_REQ_GET, "/v1/schedules", NULL, f->token, NULL,
	    &rep);
	assert_string_equal(rep.body, "[]");
	reply_clear(&rep);
	do_request_with(f, EVHTTP_REQ_POST, "/v1/schedules", SCHED("a"), NULL,
	    cookie, json, &rep);
	assert_int_equal(rep.status, 200);
	j = cJSON_Parse(rep.body);
	snprintf(path, sizeof path, "/v1/schedule/%s",
	    cJSON_GetObjectItem(j, "uuid")->valuestring);
	cJSON_Delete(j);
	reply_clear(&rep);
	do_request_with(f, EVHTTP_REQ_POST, "/v1/schedules", SCHED("b"), NULL,
	    cookie, referer, &rep);
	assert_int_equal(rep.status, 200);
	reply_clear(&rep);
	/* Reads are not changes; a bearer token skips the checks. */
	do_request_with(f, EVHTTP_REQ_GET, path, NULL, NULL, cookie,
	    other_port, &rep);
	assert_int_equal(rep.status, 200);
	reply_clear(&rep);
	do_request_with(f, EVHTTP_REQ_POST, "/v1/schedules", SCHED("c"),
	    f->token, NULL, foreign_plain, &rep);
	assert_int_equal(rep.status, 200);
	reply_clear(&rep);
	do_request(f, EVHTTP_REQ_DELETE, path, NULL, NULL, cookie, &rep);
	assert_error(&rep, 403, "Origin or Referer");
	reply_clear(&rep);
	do_request_with(f, EVHTTP_REQ_DELETE, path, NULL, NULL, cookie,
	    own_origin, &rep);
	assert_int_equal(rep.status, 200);
	reply_clear(&rep);
	/* A login from another site's page is refused too. */
	do_request_with(f, EVHTTP_REQ_POST, "/v1/auth/login",
	    "{\"username\":\"admin\",\"password\":\"" PASSWORD "\"}", NULL,
	    NULL, foreign_plain, &rep);
	assert_error(&rep, 403, "cross-site");
	reply_clear(&rep);
#undef SCHED
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_http_router_404_405,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_json_round_trip,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_json_bad_bodies,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_auth_required,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_auth_cookie,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_nul_in_path,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_head,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_http_host_header,
		    setup, teardown),
		cmocka_unit_test(test_http_guard_values),
		cmocka_unit_test_setup_teardown(test_http_csrf,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
