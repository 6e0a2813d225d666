/*
 * The CLI's HTTP client: one libcurl handle that talks JSON to shieldd's
 * /v1 API at cli_opts.url with cli_opts.token.  Transport failures
 * (connection refused, DNS, TLS, timeouts) and error replies (401, 404,
 * 409, ...) each become one clear line on stderr; nothing raw is shown
 * unless --debug.  Every reply and returned cJSON belongs to the caller.
 */
#ifndef SHIELD_CLI_HTTP_H
#define SHIELD_CLI_HTTP_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* A reply of any status. */
struct http_reply {
	long	 status;
	char	*body;		/* NUL-terminated */
	size_t	 len;
	cJSON	*json;		/* the parsed body, or NULL */
};

/* Free the libcurl state at exit. */
void	 http_cleanup(void);

/*
 * Send one request; body (may be NULL) is sent as JSON.  Returns 0 with
 * *reply filled whatever the status, or -1 after printing why shieldd could
 * not be reached.
 */
int	 http_request(const char *method, const char *path, const cJSON *body,
	    struct http_reply *reply);
/* Free what a reply holds. */
void	 http_reply_clear(struct http_reply *);

/*
 * Print the error of a reply that is not a success.  what names the
 * object for a 404 ("target \"prod\""), or is NULL to use the server's
 * words.
 */
void	 http_error(const struct http_reply *, const char *what);

/*
 * Send a request and return the parsed JSON of a 2xx reply, or NULL after
 * printing the error (with http_error(), what as there).
 */
cJSON	*http_call(const char *method, const char *path, const cJSON *body,
	    const char *what);
/* http_call() for GET. */
cJSON	*http_get(const char *path, const char *what);

/*
 * path with a query built from name, value pairs ending with a NULL
 * name; pairs whose value is NULL are left out and values are escaped.
 * "" as a value gives a bare flag ("?debug").  Free the result.
 */
char	*http_path(const char *path, ...) __attribute__((sentinel));

#endif
