/*
 * api: the HTTP /v1 API on evhttp.  One generic callback routes each request
 * through const tables of route descriptors (one table per resource file),
 * checks authentication, parses the JSON body, and calls the handler.
 * Every request ends in exactly one reply.  Request and reply bodies are
 * JSON, built and parsed here; core/ handles JSON only where plugins and
 * shield-agent speak it (a plugin's info, kept for GET /v1/plugins, its
 * output, the endpoints given to it; the agent's requests), and the catalog
 * never sees it.  HTTP status codes exist only here.
 *
 * Ownership: a struct api_req lives from the router until its reply (a
 * handler may keep it past its return and reply later, e.g. after a plugin's
 * validate run).  Handlers reply with api_reply*() or api_error*(), which
 * free the request context.
 */
#ifndef SHIELD_API_H
#define SHIELD_API_H

#include <stddef.h>
#include <stdint.h>

#include <cJSON.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "id.h"

struct shieldd;
struct api;
struct evhttp_request;

#define API_BODY_MAX	(1024 * 1024)	/* larger request bodies get 413 */
#define API_PARAMS_MAX	2

struct api_req {
	struct api		*api;
	struct shieldd		*d;
	struct evhttp_request	*req;
	int			 method;	/* EVHTTP_REQ_* */
	char			*path;
	const char		*params[API_PARAMS_MAX];
	char			*param_buf[API_PARAMS_MAX];
	struct evkeyvalq	 query;
	cJSON			*body;		/* parsed body, or NULL */
	id_buf			 user_uuid;
	char			*user;		/* authenticated user name */
	int			 gone;		/* the client disconnected */
	/*
	 * The connection closed before the reply: evhttp detached the
	 * request and left it to us to free (the reply does).
	 */
	int			 orphaned;
	int			 head;		/* HEAD, routed as GET */
};

enum api_route_flags {
	API_PUBLIC = 1,		/* no authentication */
	API_JSON_BODY = 2,	/* the body must be a JSON object */
	API_OPT_BODY = 4,	/* a JSON object body is optional */
};

struct api_route {
	int		 method;
	const char	*pattern;	/* "/v1/job/:uuid/run"; ":uuid" checked */
	void		(*fn)(struct api_req *);
	int		 flags;
};

/* Route tables, one per resource file, each ended by a zero entry. */
extern const struct api_route api_auth_routes[];
extern const struct api_route api_schedule_routes[];
extern const struct api_route api_retention_routes[];
extern const struct api_route api_system_routes[];
extern const struct api_route api_job_routes[];
extern const struct api_route api_archive_routes[];
extern const struct api_route api_task_routes[];
extern const struct api_route api_misc_routes[];

struct api	*api_new(struct shieldd *, const char *listen, char **errp);
void		 api_free(struct api *);
/* Stop accepting requests (shutdown). */
void		 api_close(struct api *);

/* Replies: each frees r. */
void	api_reply(struct api_req *, int code, cJSON *);	/* takes the cJSON */
void	api_reply_text(struct api_req *, int code, const char *ctype,
	    const char *body, size_t len);
void	api_ok(struct api_req *, const char *what);	/* {"ok": what} */
/* {"ok":"created","uuid":uuid} with 200, and "token" unless it is NULL. */
void	api_created(struct api_req *, const char *uuid, const char *token);
void	api_error(struct api_req *, int code, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* 400 with "missing": [...] naming the absent required fields. */
void	api_missing(struct api_req *, const char *const *names, size_t n);
/*
 * A cache for big read-only lists: api_cache_reply() answers (and returns 1)
 * when the reply to this exact URI was built since the catalog last changed;
 * api_reply_cached() replies and keeps the text.
 */
int	api_cache_reply(struct api_req *);
void	api_reply_cached(struct api_req *, cJSON *);
/* Map a catalog status to a reply for resource `what` ("schedule"...). */
void	api_cat_error(struct api_req *, int status, const char *what);

/* Query parameters. */
const char	*api_query(struct api_req *, const char *name);
int		 api_query_has(struct api_req *, const char *name);
/* Parse ?name=t/f (also true/false, 1/0, yes/no); CAT_ANY when absent; -2 bad. */
int		 api_query_bool(struct api_req *, const char *name);
/*
 * ?limit= (1 to max, def when absent) and ?offset= (0 or more) of a list
 * into *limit and *offset: 0, or -1 after a 400 reply.
 */
int		 api_query_page(struct api_req *, int def, int max, int *limit,
		    int *offset);

/*
 * Body fields.  Each returns 0 and sets *out (NULL/unchanged when absent),
 * or -1 after replying 400 for a value of the wrong type or with a NUL byte.
 */
int	api_body_string(struct api_req *, const char *name, const char **out);
int	api_body_bool(struct api_req *, const char *name, int *out, int *present);
int	api_body_int(struct api_req *, const char *name, int64_t *out,
	    int *present);
/*
 * Check the required fields are present and non-empty; if not, reply 400
 * with the missing list and return -1.
 */
int	api_body_require(struct api_req *, const char *const *names, size_t n);
/* Reply 400 and return -1 if the string is over max characters. */
int	api_check_len(struct api_req *, const char *field, const char *value,
	    size_t max);
/*
 * Text checks (text.c).  api_check_text() is api_check_len() plus: valid
 * UTF-8 and no control characters (C0, DEL, C1), for names, summaries,
 * notes and usernames; 400 naming the field.  api_body_utf8() refuses a
 * body with invalid UTF-8 in any string (400 naming the top-level field).
 * api_utf8_repair() returns a reply's text, or a copy with invalid bytes
 * (from a catalog older than these checks) replaced by U+FFFD, freeing it.
 */
int	api_check_text(struct api_req *, const char *field, const char *value,
	    size_t max);
int	api_body_utf8(struct api_req *);
char	*api_utf8_repair(char *text);

/* JSON building helpers. */
void	api_json_time(cJSON *, const char *key, int64_t t);	/* null if 0 */
void	api_json_str(cJSON *, const char *key, const char *s);	/* "" if NULL */
void	api_json_uuid(cJSON *, const char *key, const char *s);	/* null if "" */

/*
 * Two steps of the router, for the fuzzers in test/fuzz/: the route for
 * r->method and r->path (capturing r->params; *path_known tells whether
 * another method would match), and reading the body as the route's flags
 * say (0, or -1 after replying, which frees r).
 */
const struct api_route	*api_route_find(struct api_req *, int *path_known);
int			 api_read_body(struct api_req *, const struct api_route *);

/* Authentication (auth.c). */
struct auth;
int	auth_bootstrap(struct shieldd *);
/* The login workers and rate limit, owned by the api; NULL on failure. */
struct auth	*auth_new(struct shieldd *);
/* Answers (503) the logins still being checked, then frees. */
void	auth_free(struct auth *);
/* The api's authentication state. */
struct auth	*api_auth(struct api *);
/* 0 and fills r->user if the request carries a valid token or cookie. */
int	auth_check(struct api_req *);

/* The validate-then-write step shared by targets and stores (systems.c). */

#endif
