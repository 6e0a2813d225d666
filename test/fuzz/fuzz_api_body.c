/*
 * libFuzzer target for the API's request body handling: the first byte
 * picks whether the route needs a JSON object body or takes an optional
 * one, the rest is the body.  It is read as the router reads it
 * (api_read_body() on a request that has no connection: its replies go
 * nowhere), and every field the handlers read is then mapped with the body
 * helpers (api_body_string, _bool, _int, _require, api_check_len), each on
 * a copy of the parsed body, as a handler would.  What is accepted must be
 * an object whose strings hold no NUL; what a helper hands back must be of
 * its type, and whole numbers within the catalog's range.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <cJSON.h>
#include <event2/buffer.h>
#include <event2/http.h>

#include "api.h"
#include "xmalloc.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The body fields the handlers read. */
static const char *const fuzz_fields[] = {
	"name", "summary", "when", "expires", "endpoint", "plugin", "target",
	"store", "schedule", "retention", "paused", "notes", "username",
	"password", "count", "from", "owner",
};
#define FUZZ_NFIELDS	(sizeof fuzz_fields / sizeof fuzz_fields[0])

static struct evhttp_request *fuzz_req;

/* A request context as the router makes one, replies going nowhere. */
static struct api_req *
fuzz_ctx(cJSON *body)
{
	struct api_req *r = xcalloc(1, sizeof *r);

	r->req = fuzz_req;
	r->method = EVHTTP_REQ_POST;
	r->path = xstrdup("/v1/fuzz");
	TAILQ_INIT(&r->query);
	r->gone = 1;
	r->body = body;
	return r;
}

/* Every string in the tree, keys too, is a C string of its own length. */
static void
fuzz_walk(const cJSON *o, int depth)
{
	const cJSON *c;

	if (depth > 1000)
		abort();
	if (o->string != NULL)
		(void)strlen(o->string);
	if (cJSON_IsString(o) && o->valuestring == NULL)
		abort();
	for (c = o->child; c != NULL; c = c->next)
		fuzz_walk(c, depth + 1);
}

/* Map one field with each helper, as handlers do. */
static void
fuzz_map(const cJSON *body, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(body, name);
	struct api_req *r;
	const char *s = NULL;
	int64_t n = 0;
	int b = -1, present = -1;

	r = fuzz_ctx(cJSON_Duplicate(body, 1));
	if (api_body_string(r, name, &s) == 0) {
		if (s != NULL && (!cJSON_IsString(v) || strcmp(s,
		    v->valuestring) != 0))
			abort();
		if (s == NULL && v != NULL && !cJSON_IsNull(v))
			abort();
		if (api_check_len(r, name, s, 255) == 0) {
			if (s != NULL && strlen(s) > 255)
				abort();
			api_ok(r, "mapped");
		}
	} else if (v == NULL || cJSON_IsString(v) || cJSON_IsNull(v))
		abort();

	r = fuzz_ctx(cJSON_Duplicate(body, 1));
	if (api_body_bool(r, name, &b, &present) == 0) {
		if (present && (!cJSON_IsBool(v) || b != cJSON_IsTrue(v)))
			abort();
		api_ok(r, "mapped");
	} else if (cJSON_IsBool(v))
		abort();

	r = fuzz_ctx(cJSON_Duplicate(body, 1));
	if (api_body_int(r, name, &n, &present) == 0) {
		if (present && (!cJSON_IsNumber(v) || (double)n !=
		    v->valuedouble || n > 9000000000000000LL ||
		    n < -9000000000000000LL))
			abort();
		api_ok(r, "mapped");
	} else if (cJSON_IsNumber(v) && v->valuedouble == floor(
	    v->valuedouble) && fabs(v->valuedouble) <= 9e15)
		abort();
}

/* Read one body and map its fields. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_route rt;
	struct api_req *r, *req;
	struct evbuffer *in;
	const cJSON *c;
	cJSON *body;
	size_t i;

	if (size < 1)
		return 0;
	fuzz_req = evhttp_request_new(NULL, NULL);
	in = evhttp_request_get_input_buffer(fuzz_req);
	evbuffer_add(in, data + 1, size - 1);
	memset(&rt, 0, sizeof rt);
	rt.method = EVHTTP_REQ_POST;
	rt.pattern = "/v1/fuzz";
	rt.flags = data[0] & 1 ? API_OPT_BODY : API_JSON_BODY;
	r = fuzz_ctx(NULL);
	if (api_read_body(r, &rt) != 0) {
		/* Refused: the reply freed r. */
		evhttp_request_free(fuzz_req);
		return 0;
	}
	if (!cJSON_IsObject(r->body))
		abort();
	if (size == 1 && !(rt.flags & API_OPT_BODY))
		abort();
	if (memchr(data + 1, '\0', size - 1) != NULL)
		abort();
	fuzz_walk(r->body, 0);
	body = r->body;
	for (i = 0; i < FUZZ_NFIELDS; i++)
		fuzz_map(body, fuzz_fields[i]);
	/* And whatever names the client chose. */
	for (c = body->child, i = 0; c != NULL && i < 8; c = c->next, i++)
		fuzz_map(body, c->string);
	req = fuzz_ctx(cJSON_Duplicate(body, 1));
	if (api_body_require(req, fuzz_fields, 3) == 0)
		api_ok(req, "mapped");
	api_ok(r, "done");	/* frees r and the body */
	evhttp_request_free(fuzz_req);
	return 0;
}
