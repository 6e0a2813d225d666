/*
 * Line splitting for plugin stderr.  The buffer holds at most max bytes of
 * the line being read (plus room for its NUL).  Each time bytes arrive, the
 * complete lines in the buffer are handed over and the unfinished rest is
 * moved to its start; a buffer that fills without a newline is handed over
 * as a cut line and the splitter then skips to the next newline.  Whether a
 * line is cut depends only on the bytes, never on how they were chunked.
 */
#include <sys/types.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "linesplit.h"
#include "xmalloc.h"

struct linesplit {
	char		*buf;		/* max + 1 bytes */
	size_t		 max;
	size_t		 len;		/* bytes of the unfinished line */
	int		 skip;		/* dropping a cut line's rest */
	linesplit_cb	 cb;
	void		*arg;
};

/* Make a splitter. */
struct linesplit *
linesplit_new(size_t max, linesplit_cb cb, void *arg)
{
	struct linesplit *ls;

	ls = xcalloc(1, sizeof *ls);
	ls->buf = xmalloc(max + 1);
	ls->max = max;
	ls->cb = cb;
	ls->arg = arg;
	return ls;
}

/* Free a splitter; what it holds of an unfinished line is lost. */
void
linesplit_free(struct linesplit *ls)
{
	if (ls == NULL)
		return;
	free(ls->buf);
	free(ls);
}

/* Hand one line over, NUL-terminated in place. */
static void
linesplit_emit(struct linesplit *ls, char *line, size_t len, int cut)
{
	line[len] = '\0';
	ls->cb(line, len, cut, ls->arg);
}

/* n more bytes were appended to the buffer: pass on what is complete. */
static void
linesplit_scan(struct linesplit *ls, size_t n)
{
	char *nl, *start;
	size_t left;

	start = ls->buf;
	left = ls->len + n;
	while ((nl = memchr(start, '\n', left)) != NULL) {
		if (!ls->skip)
			linesplit_emit(ls, start, nl - start, 0);
		ls->skip = 0;
		left -= nl + 1 - start;
		start = nl + 1;
	}
	if (left == ls->max) {
		/* Too long: keep its start, drop the rest up to newline. */
		if (!ls->skip)
			linesplit_emit(ls, start, left, 1);
		ls->skip = 1;
		left = 0;
	}
	memmove(ls->buf, start, left);
	ls->len = left;
}

/* Append bytes, as much as the buffer takes at a time. */
void
linesplit_feed(struct linesplit *ls, const char *buf, size_t len)
{
	size_t n;

	while (len > 0) {
		n = ls->max - ls->len;
		if (n > len)
			n = len;
		memcpy(ls->buf + ls->len, buf, n);
		linesplit_scan(ls, n);
		buf += n;
		len -= n;
	}
}

/* The stream ended: a last line without its newline still counts. */
void
linesplit_flush(struct linesplit *ls)
{
	if (ls->len > 0 && !ls->skip)
		linesplit_emit(ls, ls->buf, ls->len, 0);
	ls->len = 0;
	ls->skip = 0;
}

/* One read(2) from fd into the buffer; flushed when the stream is over. */
ssize_t
linesplit_read(struct linesplit *ls, int fd)
{
	ssize_t n;

	n = read(fd, ls->buf + ls->len, ls->max - ls->len);
	if (n > 0) {
		linesplit_scan(ls, n);
		return n;
	}
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		return -1;
	linesplit_flush(ls);
	return 0;
}
