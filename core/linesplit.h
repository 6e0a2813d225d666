/*
 * linesplit: turn a byte stream (a plugin's stderr) into lines for a
 * callback.  A line is handed over without its newline and NUL-terminated.
 * A line longer than the splitter's maximum is cut: its first max bytes are
 * handed over (marked cut) and the rest, up to the next newline, is
 * dropped, so a plugin printing without newlines costs no more than one
 * buffer.  At end of input a last line without a newline still counts.
 *
 * Ownership: a splitter belongs to its creator.  The line passed to the
 * callback lives in the splitter's buffer and only until the callback
 * returns: copy what is to be kept.
 */
#ifndef SHIELD_LINESPLIT_H
#define SHIELD_LINESPLIT_H

#include <sys/types.h>

#include <stddef.h>

struct linesplit;

/* One line: len bytes at line, line[len] == '\0'; cut if it was cut short. */
typedef void (*linesplit_cb)(const char *line, size_t len, int cut,
    void *arg);

/* A splitter keeping at most max bytes of a line (max > 0). */
struct linesplit	*linesplit_new(size_t max, linesplit_cb, void *arg);
void			 linesplit_free(struct linesplit *);
/* Split len more bytes of the stream. */
void			 linesplit_feed(struct linesplit *, const char *buf,
			    size_t len);
/* End of the stream: hand over a last line without its newline. */
void			 linesplit_flush(struct linesplit *);
/*
 * Read once from fd straight into the buffer and split what came.  Returns
 * the bytes read; -1 if there was nothing to read yet (EINTR or EAGAIN, in
 * errno); 0 when the stream is over (end of file or an error), which has
 * then been flushed.
 */
ssize_t			 linesplit_read(struct linesplit *, int fd);

#endif
