/*
 * The HTTP layer in-process: a real shieldd (catalog in a temp dir, the
 * build's plugins) is started inside the test on 127.0.0.1, and libevent's
 * HTTP client on the same event loop sends it requests.  Covers the router
 * (404, 405, uuids), the JSON mapping of bodies (types, missing fields, NUL,
 * limits) and authentication (login, bearer tokens, cookies, logout).
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
#include "log.h"

#define PASSWORD "unit test password"

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
}

/* Send one request through the daemon's own loop; fills rep. */
static void
do_request(struct fixture *f, enum evhttp_cmd_type method, const char *path,
    const char *body, const char *auth, const char *cookie,
    struct reply *rep)
{
	struct evhttp_connection *conn;
	struct evhttp_request *req;
	struct evkeyvalq *h;
	char hdr[256];

	memset(rep, 0, sizeof *rep);
	conn = evhttp_connection_base_new(f->d.base, NULL, "127.0.0.1",
	    (uint16_t)f->port);
	req = evhttp_request_new(reply_cb, rep);
	h = evhttp_request_get_output_headers(req);
	evhttp_add_header(h, "Host", "127.0.0.1");
	if (auth != NULL) {
		snprintf(hdr, sizeof hdr, "Bearer %s", auth);
		evhttp_add_header(h, "Authorization", hdr);
	}
	if (cookie != NULL)
		evhttp_add_header(h, "Cookie", cookie);
	if (body != NULL)
		evbuffer_add(evhttp_request_get_output_buffer(req), body,
		    strlen(body));
	assert_int_equal(evhttp_make_request(conn, req, method, path), 0);
	while (!rep->done)
		event_base_loop(f->d.base, EVLOOP_ONCE);
	evhttp_connection_free(conn);
}

/* Free a reply's strings. */
static void
reply_clear(struct reply *rep)
{
	free(rep->body);
	free(rep->cookie);
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
	do_request(f, EVHTTP_REQ_POST, "/v1/auth/logout", NULL, NULL, cookie,
	    &rep);
	assert_int_equal(rep.status, 200);
	reply_clear(&rep);
	do_request(f, EVHTTP_REQ_GET, "/v1/auth/me", NULL, NULL, cookie, &me);
	assert_int_equal(me.status, 401);
	reply_clear(&me);
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
