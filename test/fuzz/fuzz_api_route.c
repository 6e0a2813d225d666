/*
 * libFuzzer target for the API router: the first byte picks the method, the
 * rest is the request path as it comes on the wire, decoded as the server
 * decodes it.  A route found must be one of that method whose pattern, with
 * the captured parameters put back, spells the path exactly; "known" (405
 * rather than 404) must mean another method has a route for the path.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <event2/http.h>

#include "api.h"
#include "xmalloc.h"

#define FUZZ_PATH_MAX	2048

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

static const int fuzz_methods[] = {
	EVHTTP_REQ_GET, EVHTTP_REQ_POST, EVHTTP_REQ_PUT, EVHTTP_REQ_DELETE,
	EVHTTP_REQ_HEAD, EVHTTP_REQ_PATCH, EVHTTP_REQ_OPTIONS,
};
#define FUZZ_NMETHODS	(sizeof fuzz_methods / sizeof fuzz_methods[0])

/* Forget the parameters a lookup captured. */
static void
fuzz_params_clear(struct api_req *r)
{
	int i;

	for (i = 0; i < API_PARAMS_MAX; i++) {
		free(r->param_buf[i]);
		r->param_buf[i] = NULL;
		r->params[i] = NULL;
	}
}

/* The pattern with the captured parameters put back, to compare. */
static void
fuzz_check_route(const struct api_route *rt, struct api_req *r)
{
	char out[FUZZ_PATH_MAX * 2];
	const char *p = rt->pattern;
	size_t n = 0, len;
	int i = 0;

	while (*p != '\0') {
		if (*p != ':') {
			out[n++] = *p++;
			continue;
		}
		while (*p != '\0' && *p != '/')
			p++;
		if (i >= API_PARAMS_MAX || r->params[i] == NULL)
			abort();
		len = strlen(r->params[i]);
		if (len == 0 || strchr(r->params[i], '/') != NULL ||
		    n + len >= sizeof out)
			abort();
		memcpy(out + n, r->params[i], len);
		n += len;
		i++;
	}
	out[n] = '\0';
	if (strcmp(out, r->path) != 0)
		abort();
}

/* Route one method and path. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct api_route *rt, *again, *other;
	struct api_req r;
	char raw[FUZZ_PATH_MAX + 1];
	size_t n, len;
	int known, k, any;
	unsigned i;

	if (size < 1 || size - 1 > FUZZ_PATH_MAX)
		return 0;
	n = size - 1;
	memcpy(raw, data + 1, n);
	raw[n] = '\0';
	memset(&r, 0, sizeof r);
	TAILQ_INIT(&r.query);
	r.method = fuzz_methods[data[0] % FUZZ_NMETHODS];
	/* As the server does: decoded, and refused with a NUL inside. */
	r.path = evhttp_uridecode(raw[0] != '\0' ? raw : "/", 0, &len);
	if (r.path == NULL)
		return 0;
	if (strlen(r.path) != len) {
		free(r.path);
		return 0;
	}
	rt = api_route_find(&r, &known);
	if (rt != NULL) {
		if (rt->method != r.method || !known || rt->fn == NULL)
			abort();
		fuzz_check_route(rt, &r);
		/* A second lookup finds the same route. */
		fuzz_params_clear(&r);
		if ((again = api_route_find(&r, &k)) != rt || !k)
			abort();
		fuzz_check_route(rt, &r);
	} else {
		/* 405 only if some other method has a route here. */
		any = 0;
		for (i = 0; i < FUZZ_NMETHODS; i++) {
			r.method = fuzz_methods[i];
			fuzz_params_clear(&r);
			if ((other = api_route_find(&r, &k)) != NULL) {
				fuzz_check_route(other, &r);
				any = 1;
			}
			if (k != known)
				abort();
		}
		if (any != known)
			abort();
	}
	fuzz_params_clear(&r);
	free(r.path);
	return 0;
}
