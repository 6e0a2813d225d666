/*
 * tasklog: the log of one running task.  Every stderr line of the task's
 * plugins and every line the daemon says about the task passes through
 * here: it is cut at TASKLOG_LINE_MAX bytes, each secret the log was told
 * about is masked with '*', and it gets a UTC timestamp and the name of
 * who said it ("2026-01-02 03:04:05 [fs] dumped 3 tables").  Lines wait
 * in memory until tasklog_flush() writes them to the catalog, so the
 * catalog is written about once a second rather than once a line.
 *
 * Every line goes to the task's debug log; a line not marked debug-only
 * goes to its task log as well.  Of a long log only the head and the tail
 * are kept, within the limits in catalog.h; lines between are dropped
 * (read back as "... N lines cut ..."), most of them before they are ever
 * written, so memory and catalog writes stay bounded however much a
 * plugin prints.
 *
 * Ownership: a tasklog belongs to its creator and copies every string it
 * is given; the catalog must outlive it.
 */
#ifndef SHIELD_TASKLOG_H
#define SHIELD_TASKLOG_H

#include <stddef.h>
#include <stdint.h>

struct catalog;
struct tasklog;

#define TASKLOG_LINE_MAX	8192	/* bytes of a line kept; the rest is cut */

/* The log of the task with this uuid; clock gives the timestamps. */
struct tasklog	*tasklog_new(struct catalog *, const char *task_uuid,
		    int64_t (*clock)(void));
/* Free; lines not yet flushed are lost. */
void		 tasklog_free(struct tasklog *);
/* Mask every later occurrence of this value ("" is ignored). */
void		 tasklog_secret(struct tasklog *, const char *value);
/* Add one line (no newline) said by who; debug_only keeps it out of the
 * task log. */
void		 tasklog_line(struct tasklog *, int debug_only, const char *who,
		    const char *line);
/* Write the waiting lines to the catalog: 0, or -1 (logged; they are
 * dropped, so a catalog error cannot make memory grow). */
int		 tasklog_flush(struct tasklog *);

/*
 * Replace with '*' every byte of line that belongs to an occurrence of one
 * of the n secrets, as they occur in the line as given (a mask never
 * creates or hides a match of another secret; a secret's search goes on
 * from the end of its last occurrence: see redact_text()).  A pure
 * function, for the log above and anything else that prints what plugins
 * say.
 */
void		 tasklog_mask(char *line, const char *const *secrets, size_t n);

#endif
