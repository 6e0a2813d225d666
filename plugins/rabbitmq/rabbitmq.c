/*
 * The rabbitmq plugin: back up and restore a RabbitMQ broker's definitions
 * (users, vhosts, permissions, exchanges, queues, bindings, policies,
 * parameters) through the management HTTP API with libcurl.  Backup is
 * GET /api/definitions, checked to be JSON before a byte is written, so a
 * failed backup never leaves half an archive; restore checks the archive the
 * same way and POSTs it back to /api/definitions.  Messages are not part of
 * definitions and are not backed up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "plugin.h"

/* Seconds to wait for the TCP (and TLS) connection. */
#define RMQ_CONNECT_TIMEOUT	15
/* A transfer that moves no byte for this long has failed. */
#define RMQ_STALL_TIMEOUT	600
/* Larger definitions than this are refused rather than buffered. */
#define RMQ_MAX_BODY		(1024UL * 1024 * 1024)

static const struct plugin_field rmq_fields[] = {
	{ "rmq_url", "url", 1, NULL,
	    "Base URL of the management API, e.g. http://127.0.0.1:15672 "
	    "(https:// for TLS; include any path prefix).",
	    NULL, "Management API URL" },
	{ "rmq_username", "string", 1, NULL,
	    "A user with the administrator tag.",
	    NULL, "User" },
	{ "rmq_password", "password", 1, NULL, "That user's password.",
	    NULL, "Password" },
	{ "skip_ssl_validation", "bool", 0, "false",
	    "Accept any TLS certificate (self-signed test brokers only).",
	    NULL, "Skip TLS certificate check" },
	{ NULL, NULL, 0, NULL, NULL, NULL, NULL }
};

/* A growing byte buffer for request and response bodies. */
struct rmq_buf {
	char	*data;
	size_t	 len;
	size_t	 size;
};

/* Append bytes; -1 once the buffer would pass RMQ_MAX_BODY. */
static int
rmq_buf_add(struct rmq_buf *b, const void *p, size_t n)
{
	size_t size;
	char *data;

	if (n > RMQ_MAX_BODY - b->len)
		return -1;
	if (b->len + n + 1 > b->size) {
		size = b->size == 0 ? 64 * 1024 : b->size;
		while (b->len + n + 1 > size)
			size *= 2;
		if ((data = realloc(b->data, size)) == NULL) {
			plugin_error("out of memory");
			abort();
		}
		b->data = data;
		b->size = size;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

/* libcurl write callback: collect the response body. */
static size_t
rmq_write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct rmq_buf *b = arg;

	if (rmq_buf_add(b, p, size * n) == -1)
		return 0;
	return size * n;
}

/* Build base URL + path, without doubling the slash between them. */
static char *
rmq_url(const cJSON *ep, const char *path)
{
	const char *base = plugin_ep_string(ep, "rmq_url", "");
	size_t n = strlen(base);
	char *url;

	while (n > 0 && base[n - 1] == '/')
		n--;
	if (asprintf(&url, "%.*s%s", (int)n, base, path) == -1) {
		plugin_error("out of memory");
		abort();
	}
	return url;
}

/*
 * Make a server message fit one line: undo the HTML escaping the management
 * API applies to reasons and fold runs of white space into one space.
 */
static void
rmq_oneline(char *s)
{
	static const char *const ent[][2] = {
		{ "&lt;", "<" }, { "&gt;", ">" }, { "&quot;", "\"" },
		{ "&#39;", "'" }, { "&amp;", "&" }, { NULL, NULL }
	};
	char *r = s, *w = s;
	size_t n;
	int i, space = 0;

	while (*r != '\0') {
		for (i = 0; ent[i][0] != NULL; i++) {
			n = strlen(ent[i][0]);
			if (strncmp(r, ent[i][0], n) == 0)
				break;
		}
		if (ent[i][0] != NULL) {
			*w++ = ent[i][1][0];
			r += n;
			space = 0;
		} else if (*r == ' ' || *r == '\t' || *r == '\r' ||
		    *r == '\n') {
			if (!space && w != s)
				*w++ = ' ';
			space = 1;
			r++;
		} else {
			*w++ = *r++;
			space = 0;
		}
	}
	while (w > s && w[-1] == ' ')
		w--;
	*w = '\0';
}

/*
 * The "error" and "reason" of a management API error body as one line, or
 * NULL when the body is not such JSON.  The reason may be any JSON value.
 */
static char *
rmq_reason(const struct rmq_buf *body)
{
	const cJSON *e, *r;
	char *rs = NULL, *s = NULL;
	cJSON *j;

	if (body->data == NULL || (j = cJSON_Parse(body->data)) == NULL)
		return NULL;
	e = cJSON_GetObjectItemCaseSensitive(j, "error");
	r = cJSON_GetObjectItemCaseSensitive(j, "reason");
	if (cJSON_IsString(r))
		rs = strdup(r->valuestring);
	else if (r != NULL)
		rs = cJSON_PrintUnformatted(r);
	if (cJSON_IsString(e) && rs != NULL &&
	    strcmp(e->valuestring, rs) != 0) {
		if (asprintf(&s, "%s: %s", e->valuestring, rs) == -1)
			s = NULL;
	} else if (rs != NULL)
		s = strdup(rs);
	else if (cJSON_IsString(e))
		s = strdup(e->valuestring);
	free(rs);
	cJSON_Delete(j);
	if (s != NULL)
		rmq_oneline(s);
	return s;
}

/*
 * Do one request to the management API.  req is the body to POST (NULL for
 * a GET); the response body goes to resp.  Returns 0 for a 2xx answer, else
 * reports one clear line and returns -1.
 */
static int
rmq_request(const cJSON *ep, const char *path, const struct rmq_buf *req,
    struct rmq_buf *resp)
{
	const char *user = plugin_ep_string(ep, "rmq_username", "");
	const char *pass = plugin_ep_string(ep, "rmq_password", "");
	int skip = plugin_ep_bool(ep, "skip_ssl_validation", 0);
	char errbuf[CURL_ERROR_SIZE] = "", *url, *reason;
	struct curl_slist *headers = NULL;
	const char *what = req != NULL ? "importing definitions" :
	    "exporting definitions";
	CURLcode cc;
	CURL *curl;
	long code = 0, os_errno;
	int rc = -1;

	if ((curl = curl_easy_init()) == NULL) {
		plugin_error("cannot initialise libcurl");
		return -1;
	}
	url = rmq_url(ep, path);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_USERNAME, user);
	curl_easy_setopt(curl, CURLOPT_PASSWORD, pass);
	curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT,
	    (long)RMQ_CONNECT_TIMEOUT);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, (long)RMQ_STALL_TIMEOUT);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, rmq_write_cb);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, resp);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "shield-rabbitmq/"
	    SHIELD_VERSION);
	/* Credentials must not follow a redirect to another host. */
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	if (skip) {
		curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	headers = curl_slist_append(headers, "Accept: application/json");
	if (req != NULL) {
		headers = curl_slist_append(headers,
		    "Content-Type: application/json");
		curl_easy_setopt(curl, CURLOPT_POST, 1L);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->data);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)req->len);
	}
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

	cc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
	if (cc == CURLE_WRITE_ERROR && resp->len >= RMQ_MAX_BODY / 2)
		plugin_error("%s: the answer is larger than %lu bytes", what,
		    RMQ_MAX_BODY);
	else if (cc != CURLE_OK && code != 0) {
		/* The server answered, then the transfer broke off. */
		plugin_error("%s: the management API's answer was cut off "
		    "(HTTP %ld): %s", what, code, errbuf[0] != '\0' ? errbuf :
		    curl_easy_strerror(cc));
	} else if (cc != CURLE_OK) {
		/* curl's text omits the system's reason; add it. */
		os_errno = 0;
		curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &os_errno);
		plugin_error("cannot reach the management API (rmq_url): "
		    "%s%s%s%s", errbuf[0] != '\0' ? errbuf :
		    curl_easy_strerror(cc), os_errno != 0 ? " (" : "",
		    os_errno != 0 ? strerror((int)os_errno) : "",
		    os_errno != 0 ? ")" : "");
	}
	else if (code == 401 || code == 403) {
		reason = rmq_reason(resp);
		plugin_error("%s: HTTP %ld, access refused for user '%s' "
		    "(check rmq_username and rmq_password; the user needs the "
		    "administrator tag)%s%s", what, code, user,
		    reason != NULL ? ": " : "", reason != NULL ? reason : "");
		free(reason);
	} else if (code < 200 || code > 299) {
		reason = rmq_reason(resp);
		if ((code == 404 || code == 405 || code == 406) &&
		    reason == NULL)
			plugin_error("%s: HTTP %ld (is rmq_url the base URL of "
			    "the management API, such as "
			    "http://host:15672?)", what, code);
		else
			plugin_error("%s: HTTP %ld%s%s", what, code,
			    reason != NULL ? ": " : "",
			    reason != NULL ? reason : "");
		free(reason);
	} else
		rc = 0;
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	free(url);
	return rc;
}

/*
 * Check that text is a definitions document: a JSON object with at least
 * one of the keys GET /api/definitions always returns.
 */
static int
rmq_definitions_ok(const struct rmq_buf *b)
{
	static const char *const keys[] = {
		"rabbit_version", "rabbitmq_version", "users", "vhosts",
		"queues", "exchanges", NULL
	};
	cJSON *j;
	int i, ok = 0;

	if (b->data == NULL || (j = cJSON_ParseWithLength(b->data, b->len))
	    == NULL)
		return 0;
	if (cJSON_IsObject(j)) {
		for (i = 0; keys[i] != NULL && !ok; i++)
			ok = cJSON_HasObjectItem(j, keys[i]);
	}
	cJSON_Delete(j);
	return ok;
}

/* Check the endpoint: an http(s) URL with a host. */
static int
rmq_validate(const cJSON *ep)
{
	const char *url = plugin_ep_string(ep, "rmq_url", "");
	char *scheme = NULL, *host = NULL;
	CURLU *u;
	int bad = 0;

	if ((u = curl_url()) == NULL) {
		plugin_error("out of memory");
		return 1;
	}
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	    host[0] == '\0') {
		plugin_error("rmq_url must be a URL such as "
		    "http://127.0.0.1:15672");
		bad = 1;
	} else if (strcmp(scheme, "http") != 0 &&
	    strcmp(scheme, "https") != 0) {
		plugin_error("rmq_url must start with http:// or https://");
		bad = 1;
	}
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return bad;
}

/* Write a buffer to stdout in full. */
static int
rmq_write_all(const struct rmq_buf *b)
{
	size_t off = 0;
	ssize_t n;

	while (off < b->len) {
		n = write(1, b->data + off, b->len - off);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			plugin_error("writing the backup: %s", strerror(errno));
			return -1;
		}
		off += (size_t)n;
	}
	return 0;
}

/* Back up: GET /api/definitions, check it is JSON, write it out. */
static int
rmq_backup(const cJSON *ep)
{
	struct rmq_buf resp = { NULL, 0, 0 };
	int rc = 1;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (rmq_request(ep, "/api/definitions", NULL, &resp) == -1)
		goto out;
	if (!rmq_definitions_ok(&resp)) {
		plugin_error("the server did not answer with RabbitMQ "
		    "definitions JSON (is rmq_url the management API?)");
		goto out;
	}
	if (rmq_write_all(&resp) == -1)
		goto out;
	plugin_info("definitions exported (%zu bytes); messages are not "
	    "backed up", resp.len);
	rc = 0;
out:
	free(resp.data);
	curl_global_cleanup();
	return rc;
}

/* Restore: read the archive, check it, POST /api/definitions. */
static int
rmq_restore(const cJSON *ep)
{
	struct rmq_buf req = { NULL, 0, 0 }, resp = { NULL, 0, 0 };
	char buf[64 * 1024];
	ssize_t n;
	int rc = 1;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (;;) {
		n = read(0, buf, sizeof buf);
		if (n == 0)
			break;
		if (n == -1) {
			if (errno == EINTR)
				continue;
			plugin_error("reading the archive: %s",
			    strerror(errno));
			goto out;
		}
		if (rmq_buf_add(&req, buf, (size_t)n) == -1) {
			plugin_error("the archive is larger than %lu bytes",
			    RMQ_MAX_BODY);
			goto out;
		}
	}
	if (!rmq_definitions_ok(&req)) {
		plugin_error("the archive is not RabbitMQ definitions JSON; "
		    "nothing was sent to the broker");
		goto out;
	}
	if (rmq_request(ep, "/api/definitions", &req, &resp) == -1)
		goto out;
	plugin_info("definitions imported (%zu bytes)", req.len);
	rc = 0;
out:
	free(req.data);
	free(resp.data);
	curl_global_cleanup();
	return rc;
}

static const struct plugin_def rmq_plugin = {
	.name = "RabbitMQ",
	.short_name = "rabbitmq",
	.author = "SHIELD",
	.version = SHIELD_VERSION,
	.help =
	    "Backs up a RabbitMQ broker's definitions through the management "
	    "API (GET /api/definitions): users (with password hashes), "
	    "vhosts, permissions, topic permissions, exchanges, queues, "
	    "bindings, policies and parameters. MESSAGES ARE NOT BACKED UP: "
	    "queues come back empty. Restore POSTs the definitions back "
	    "(/api/definitions): objects in the archive are created or "
	    "updated; objects created since the backup are left in place, "
	    "not deleted. A queue that exists with different arguments makes "
	    "the import fail with the broker's reason. Needs the management "
	    "plugin and a user with the administrator tag.",
	.fields = rmq_fields,
	.validate = rmq_validate,
	.backup = rmq_backup,
	.restore = rmq_restore,
};

/* Run the plugin protocol. */
int
main(int argc, char **argv)
{
	return plugin_main(&rmq_plugin, argc, argv);
}
