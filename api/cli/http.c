/*
 * The libcurl client behind every command that talks to shieldd.  One easy
 * handle is kept for the process, so a command that makes several requests
 * reuses its connection.  Failures are sorted into the classes a user can
 * act on (shieldd not running, wrong host, TLS, not logged in, not found,
 * in use) and printed as one line; --debug adds the exchange itself, with
 * the token and login passwords left out.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli.h"
#include "http.h"
#include "xmalloc.h"

#define HTTP_CONNECT_TIMEOUT	10L
#define HTTP_TIMEOUT		300L

static CURL	*http_curl;

/* Append what libcurl received to the reply's body. */
static size_t
http_write_cb(char *data, size_t size, size_t n, void *arg)
{
	struct http_reply *reply = arg;
	size_t len = size * n;

	reply->body = xrealloc(reply->body, reply->len + len + 1);
	memcpy(reply->body + reply->len, data, len);
	reply->len += len;
	reply->body[reply->len] = '\0';
	return len;
}

/* Free the libcurl state at exit. */
void
http_cleanup(void)
{
	if (http_curl == NULL)
		return;
	curl_easy_cleanup(http_curl);
	curl_global_cleanup();
	http_curl = NULL;
}

/* Free what a reply holds. */
void
http_reply_clear(struct http_reply *reply)
{
	free(reply->body);
	cJSON_Delete(reply->json);
	memset(reply, 0, sizeof *reply);
}

/* True for the libcurl codes that mean the TLS layer failed. */
static int
http_is_tls(CURLcode rc)
{
	switch (rc) {
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_ENGINE_NOTFOUND:
	case CURLE_SSL_ENGINE_SETFAILED:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_USE_SSL_FAILED:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_SHUTDOWN_FAILED:
	case CURLE_SSL_CRL_BADFILE:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_INVALIDCERTSTATUS:
	case CURLE_SSL_CLIENTCERT:
		return 1;
	default:
		return 0;
	}
}

/* Print why a request did not get an answer. */
static void
http_transport_error(CURLcode rc, const char *errbuf)
{
	const char *url = cli_opts.url;
	const char *detail = *errbuf != '\0' ? errbuf : curl_easy_strerror(rc);
	long oserr = 0;

	curl_easy_getinfo(http_curl, CURLINFO_OS_ERRNO, &oserr);
	if (rc == CURLE_COULDNT_CONNECT && oserr == ECONNREFUSED)
		cli_error("cannot connect to shieldd at %s: connection refused "
		    "(is shieldd running, and is the URL right?)", url);
	else if (rc == CURLE_COULDNT_CONNECT)
		cli_error("cannot connect to shieldd at %s: %s", url, detail);
	else if (rc == CURLE_COULDNT_RESOLVE_HOST)
		cli_error("cannot find the host of %s: %s", url, detail);
	else if (rc == CURLE_OPERATION_TIMEDOUT)
		cli_error("shieldd at %s did not answer in time: %s", url,
		    detail);
	else if (rc == CURLE_PEER_FAILED_VERIFICATION)
		cli_error("TLS error talking to %s: the server's certificate "
		    "cannot be verified: %s", url, detail);
	else if (http_is_tls(rc))
		cli_error("TLS error talking to %s (is it really https?): %s",
		    url, detail);
	else if (rc == CURLE_UNSUPPORTED_PROTOCOL ||
	    rc == CURLE_URL_MALFORMAT)
		cli_error("bad shieldd URL '%s': %s", url, detail);
	else
		cli_error("cannot talk to shieldd at %s: %s", url, detail);
}

/* Under --debug, show one side of the exchange on stderr. */
static void
http_debug(const char *dir, const char *line, const char *body)
{
	if (!cli_opts.debug)
		return;
	fprintf(stderr, "%s %s\n", dir, line);
	if (body != NULL && *body != '\0')
		fprintf(stderr, "%s %s\n", dir, body);
}

/* Send one request and collect the reply whatever its status. */
int
http_request(const char *method, const char *path, const cJSON *body,
    struct http_reply *reply)
{
	char errbuf[CURL_ERROR_SIZE], *url = NULL, *auth = NULL;
	char *text = NULL;
	struct curl_slist *headers = NULL;
	const char *base = cli_opts.url;
	CURLcode rc;
	size_t blen;
	int ret = -1;

	memset(reply, 0, sizeof *reply);
	if (base == NULL || *base == '\0') {
		cli_error("no shieldd URL: run shield login --url URL, or set "
		    "SHIELD_URL or --url");
		return -1;
	}
	if (http_curl == NULL) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0 ||
		    (http_curl = curl_easy_init()) == NULL) {
			cli_error("cannot initialise libcurl");
			return -1;
		}
	}
	curl_easy_reset(http_curl);
	blen = strlen(base);
	while (blen > 0 && base[blen - 1] == '/')
		blen--;
	xasprintf(&url, "%.*s%s", (int)blen, base, path);
	headers = curl_slist_append(headers, "Accept: application/json");
	if (cli_opts.token != NULL && *cli_opts.token != '\0') {
		xasprintf(&auth, "Authorization: Bearer %s", cli_opts.token);
		headers = curl_slist_append(headers, auth);
	}
	if (body != NULL) {
		if ((text = cJSON_PrintUnformatted(body)) == NULL)
			abort();
		headers = curl_slist_append(headers,
		    "Content-Type: application/json");
		curl_easy_setopt(http_curl, CURLOPT_POSTFIELDS, text);
		curl_easy_setopt(http_curl, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(text));
	}
	errbuf[0] = '\0';
	curl_easy_setopt(http_curl, CURLOPT_URL, url);
	curl_easy_setopt(http_curl, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "GET") == 0)
		curl_easy_setopt(http_curl, CURLOPT_HTTPGET, 1L);
	else if (body == NULL) {
		curl_easy_setopt(http_curl, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(http_curl, CURLOPT_POSTFIELDSIZE, 0L);
	}
	curl_easy_setopt(http_curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(http_curl, CURLOPT_WRITEFUNCTION, http_write_cb);
	curl_easy_setopt(http_curl, CURLOPT_WRITEDATA, reply);
	curl_easy_setopt(http_curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(http_curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(http_curl, CURLOPT_CONNECTTIMEOUT,
	    HTTP_CONNECT_TIMEOUT);
	curl_easy_setopt(http_curl, CURLOPT_TIMEOUT, HTTP_TIMEOUT);
	curl_easy_setopt(http_curl, CURLOPT_USERAGENT,
	    "shield/" SHIELD_VERSION);
	if (cli_opts.insecure) {
		curl_easy_setopt(http_curl, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(http_curl, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (cli_opts.debug) {
		fprintf(stderr, "> %s %s\n", method, url);
		/* The login body holds a password: never echo it. */
		http_debug(">", "", strcmp(path, "/v1/auth/login") == 0 ?
		    "(body not shown)" : text);
	}
	if ((rc = curl_easy_perform(http_curl)) != CURLE_OK) {
		http_transport_error(rc, errbuf);
		http_reply_clear(reply);
		goto out;
	}
	curl_easy_getinfo(http_curl, CURLINFO_RESPONSE_CODE, &reply->status);
	if (reply->body == NULL)
		reply->body = xstrdup("");
	reply->json = cJSON_Parse(reply->body);
	if (cli_opts.debug) {
		char line[32];

		snprintf(line, sizeof line, "HTTP %ld", reply->status);
		http_debug("<", line, reply->body);
	}
	ret = 0;
out:
	curl_slist_free_all(headers);
	if (auth != NULL) {
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	if (text != NULL)
		cJSON_free(text);
	free(url);
	return ret;
}

/* The "error" text of a reply, or a stand-in. */
static const char *
http_message(const struct http_reply *reply)
{
	const cJSON *e = cJSON_GetObjectItemCaseSensitive(reply->json,
	    "error");

	if (cJSON_IsString(e) && *e->valuestring != '\0')
		return e->valuestring;
	return NULL;
}

/* Join the strings of an array member of the reply with sep. */
static char *
http_join(const struct http_reply *reply, const char *key, const char *sep)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(reply->json, key);
	const cJSON *v;
	char *out = NULL, *tmp;

	cJSON_ArrayForEach(v, arr) {
		if (!cJSON_IsString(v))
			continue;
		if (out == NULL)
			out = xstrdup(v->valuestring);
		else {
			xasprintf(&tmp, "%s%s%s", out, sep, v->valuestring);
			free(out);
			out = tmp;
		}
	}
	return out;
}

/* Print the error of a reply that is not a success. */
void
http_error(const struct http_reply *reply, const char *what)
{
	const char *msg = http_message(reply);
	char *list;

	if (reply->json == NULL && reply->status != 401 &&
	    reply->status != 404) {
		cli_error("unexpected answer from %s (HTTP %ld, not JSON); is "
		    "this shieldd's URL?", cli_opts.url, reply->status);
		return;
	}
	switch (reply->status) {
	case 401:
		if (cli_opts.token == NULL || *cli_opts.token == '\0')
			cli_error("not logged in to %s; run shield login",
			    cli_opts.url);
		else
			cli_error("shieldd at %s refused the token (%s); run "
			    "shield login", cli_opts.url,
			    msg != NULL ? msg : "not authenticated");
		return;
	case 403:
		cli_error("not allowed: %s", msg != NULL ? msg : "forbidden");
		return;
	case 404:
		if (what != NULL)
			cli_error("%s not found", what);
		else
			cli_error("%s", msg != NULL ? msg : "not found");
		return;
	case 400:
		if ((list = http_join(reply, "reasons", "; ")) != NULL) {
			cli_error("rejected: %s", list);
			free(list);
		} else if ((list = http_join(reply, "missing", ", ")) !=
		    NULL) {
			cli_error("%s (missing: %s)", msg != NULL ? msg :
			    "bad request", list);
			free(list);
		} else
			cli_error("%s", msg != NULL ? msg : "bad request");
		return;
	default:
		break;
	}
	if (reply->status >= 500)
		cli_error("shieldd failed (HTTP %ld): %s", reply->status,
		    msg != NULL ? msg : "internal error");
	else
		cli_error("%s (HTTP %ld)", msg != NULL ? msg : "request failed",
		    reply->status);
}

/* Send a request; the JSON of a 2xx reply, else NULL after the error. */
cJSON *
http_call(const char *method, const char *path, const cJSON *body,
    const char *what)
{
	struct http_reply reply;
	cJSON *json;

	if (http_request(method, path, body, &reply) != 0)
		return NULL;
	if (reply.status < 200 || reply.status > 299 || reply.json == NULL) {
		if (reply.status >= 200 && reply.status <= 299)
			reply.status = 502;
		http_error(&reply, what);
		http_reply_clear(&reply);
		return NULL;
	}
	json = reply.json;
	reply.json = NULL;
	http_reply_clear(&reply);
	return json;
}

/* http_call() for GET. */
cJSON *
http_get(const char *path, const char *what)
{
	return http_call("GET", path, NULL, what);
}

/* path with an escaped query from NULL-terminated name, value pairs. */
char *
http_path(const char *path, ...)
{
	const char *name, *value;
	char *out, *tmp, *esc;
	va_list ap;
	int first = 1;

	out = xstrdup(path);
	va_start(ap, path);
	while ((name = va_arg(ap, const char *)) != NULL) {
		value = va_arg(ap, const char *);
		if (value == NULL)
			continue;
		if (*value == '\0')
			xasprintf(&tmp, "%s%c%s", out, first ? '?' : '&', name);
		else {
			if ((esc = curl_easy_escape(NULL, value, 0)) == NULL)
				abort();
			xasprintf(&tmp, "%s%c%s=%s", out, first ? '?' : '&',
			    name, esc);
			curl_free(esc);
		}
		free(out);
		out = tmp;
		first = 0;
	}
	va_end(ap);
	return out;
}
