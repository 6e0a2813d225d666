/*
 * The web UI's static files, served from the web directory: GET and HEAD
 * only, no directory listings, no path outside the directory (not through
 * a symlink either), a content type by extension, and a strict
 * Content-Security-Policy so the pages can run only their own scripts.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/http.h>

#include "api.h"
#include "xmalloc.h"

#define STATIC_MAX	(8 * 1024 * 1024)

static const struct {
	const char	*ext;
	const char	*type;
} static_types[] = {
	{ ".html", "text/html; charset=utf-8" },
	{ ".js", "text/javascript; charset=utf-8" },
	{ ".mjs", "text/javascript; charset=utf-8" },
	{ ".css", "text/css; charset=utf-8" },
	{ ".json", "application/json" },
	{ ".svg", "image/svg+xml" },
	{ ".png", "image/png" },
	{ ".ico", "image/x-icon" },
	{ ".txt", "text/plain; charset=utf-8" },
};

/* The content type for a file name. */
static const char *
static_type(const char *path)
{
	const char *dot = strrchr(path, '.');
	size_t i;

	for (i = 0; dot != NULL && i < sizeof static_types /
	    sizeof static_types[0]; i++) {
		if (strcmp(dot, static_types[i].ext) == 0)
			return static_types[i].type;
	}
	return "application/octet-stream";
}

/* 1 if a URL path is safe to map under the web directory. */
static int
static_path_ok(const char *p)
{
	if (p[0] != '/' || strstr(p, "/.") != NULL || strchr(p, '\\') != NULL)
		return 0;
	return 1;
}

/*
 * Open rel (a checked URL path) under webdir, one component at a time with
 * O_NOFOLLOW, so no symlink inside the web directory (to a file or to a
 * directory like /etc) leads out of it.  The web directory itself may be
 * a symlink.  -1 when refused or absent.
 */
static int
static_open(const char *webdir, const char *rel)
{
	char *copy, *part, *next;
	int dfd, fd = -1, sub;

	if ((dfd = open(webdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	copy = xstrdup(rel);
	part = copy + strspn(copy, "/");
	while (dfd != -1) {
		if ((next = strchr(part, '/')) != NULL) {
			*next++ = '\0';
			next += strspn(next, "/");
		}
		if (next == NULL || *next == '\0') {
			/* O_NONBLOCK: a FIFO there must not hang the loop. */
			fd = openat(dfd, part, O_RDONLY | O_CLOEXEC |
			    O_NOFOLLOW | O_NONBLOCK);
			break;
		}
		sub = openat(dfd, part, O_RDONLY | O_DIRECTORY | O_CLOEXEC |
		    O_NOFOLLOW);
		close(dfd);
		dfd = sub;
		part = next;
	}
	if (dfd != -1)
		close(dfd);
	free(copy);
	return fd;
}

void	static_serve(struct api_req *, const char *);

/* Serve one file of the web UI (HEAD: its headers), or a JSON 404. */
void
static_serve(struct api_req *r, const char *webdir)
{
	struct evkeyvalq *h;
	struct evbuffer *buf;
	const char *rel = r->path;
	struct stat st;
	char len[24];
	int fd;

	if (r->method != EVHTTP_REQ_GET && r->method != EVHTTP_REQ_HEAD) {
		api_error(r, 405, "method not allowed on %s", r->path);
		return;
	}
	if (webdir == NULL || !static_path_ok(rel)) {
		api_error(r, 404, "no such page: %s", r->path);
		return;
	}
	if (strcmp(rel, "/") == 0)
		rel = "/index.html";
	fd = static_open(webdir, rel);
	if (fd == -1 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    st.st_size > STATIC_MAX) {
		if (fd != -1)
			close(fd);
		api_error(r, 404, "no such page: %s", r->path);
		return;
	}
	h = evhttp_request_get_output_headers(r->req);
	evhttp_add_header(h, "Content-Type", static_type(rel));
	evhttp_add_header(h, "Cache-Control", strstr(rel, ".html") ?
	    "no-cache" : "public, max-age=300");
	evhttp_add_header(h, "Content-Security-Policy", "default-src 'self'; "
	    "script-src 'self'; style-src 'self'; img-src 'self' data:; "
	    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; "
	    "form-action 'self'");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	buf = evbuffer_new();
	if (r->head) {
		/* The headers of the GET reply, its length included. */
		close(fd);
		snprintf(len, sizeof len, "%lld", (long long)st.st_size);
		evhttp_add_header(h, "Content-Length", len);
	} else if (st.st_size > 0 && evbuffer_add_file(buf, fd, 0,
	    st.st_size) != 0) {
		close(fd);
		evbuffer_free(buf);
		api_error(r, 500, "cannot read a web file");
		return;
	}
	if (!r->head && st.st_size == 0)
		close(fd);
	evhttp_send_reply(r->req, 200, "OK", buf);
	evbuffer_free(buf);
	r->gone = 1;	/* replied: the free below must not reply again */
	api_reply_text(r, 200, "", "", 0);
}
