/*
 * A running task's log: lines are cut, masked and timestamped as they
 * arrive and queued in memory; tasklog_flush() writes the queue to the
 * task's log rows in the catalog.
 *
 * The cap (catalog.h: the head and the tail of a long log) is kept here,
 * as lines arrive: the head is the first lines up to its limits and is
 * written once; every later line joins the tail, and when the tail is
 * over its limits its oldest line leaves it.  A line that leaves before it
 * was flushed is never written; one that was flushed is deleted by the
 * next flush.  So a plugin writing 100 MB of stderr costs at most one
 * head and one tail of memory and of catalog writes per second, and the
 * catalog never holds more than the cap.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "catalog.h"
#include "redact.h"
#include "tasklog.h"
#include "timefmt.h"
#include "xmalloc.h"

/* A formatted line: waiting in the head queue, or in the tail. */
struct tasklog_entry {
	int64_t				 seq;
	int64_t				 lno;	/* 0: debug only */
	int				 flushed;
	size_t				 len;
	TAILQ_ENTRY(tasklog_entry)	 entry;
	char				 text[];
};
TAILQ_HEAD(tasklog_entries, tasklog_entry);

struct tasklog {
	struct catalog		*cat;
	char			*uuid;
	int64_t			(*clock)(void);
	char			**secrets;
	size_t			 nsecrets;
	int64_t			 seq;		/* of the last line */
	int64_t			 lno;
	/* The head: open until a line does not fit in it. */
	int			 head_open;
	size_t			 head_lines;
	size_t			 head_bytes;
	struct tasklog_entries	 head;		/* not yet flushed */
	/* The tail, oldest first; the unflushed lines are its newest. */
	struct tasklog_entries	 tail;
	size_t			 tail_lines;
	size_t			 tail_bytes;
	/* Flushed tail lines that left it, to delete (none: to < from). */
	int64_t			 drop_from;
	int64_t			 drop_to;
	int64_t			 stamp_at;	/* the time stamp holds */
	timefmt_buf		 stamp;
};

/* Create the log of one task. */
struct tasklog *
tasklog_new(struct catalog *cat, const char *task_uuid,
    int64_t (*clock)(void))
{
	struct tasklog *tl = xcalloc(1, sizeof *tl);

	tl->cat = cat;
	tl->uuid = xstrdup(task_uuid);
	tl->clock = clock;
	tl->stamp_at = -1;
	tl->head_open = 1;
	tl->drop_from = 1;
	TAILQ_INIT(&tl->head);
	TAILQ_INIT(&tl->tail);
	return tl;
}

/* Free every entry of a list. */
static void
tasklog_drop(struct tasklog_entries *list)
{
	struct tasklog_entry *e;

	while ((e = TAILQ_FIRST(list)) != NULL) {
		TAILQ_REMOVE(list, e, entry);
		free(e);
	}
}

/* Free a log and what it still holds. */
void
tasklog_free(struct tasklog *tl)
{
	size_t i;

	if (tl == NULL)
		return;
	tasklog_drop(&tl->head);
	tasklog_drop(&tl->tail);
	for (i = 0; i < tl->nsecrets; i++)
		free(tl->secrets[i]);
	free(tl->secrets);
	free(tl->uuid);
	free(tl);
}

/* Remember a value to mask. */
void
tasklog_secret(struct tasklog *tl, const char *value)
{
	size_t i;

	if (value == NULL || *value == '\0')
		return;
	for (i = 0; i < tl->nsecrets; i++) {
		if (strcmp(tl->secrets[i], value) == 0)
			return;
	}
	tl->secrets = xreallocarray(tl->secrets, tl->nsecrets + 1,
	    sizeof *tl->secrets);
	tl->secrets[tl->nsecrets++] = xstrdup(value);
}

/*
 * Mask the len bytes of line in place, keeping their length (flags: 0, or
 * REDACT_CUT for a line cut at the limit, which may end in the first bytes
 * of a secret whose rest was cut off).
 */
static void
tasklog_hide(char *line, size_t len, const char *const *secrets, size_t n,
    int flags)
{
	char *masked;

	if (n == 0)
		return;
	masked = redact_text(line, len, secrets, n, flags, NULL);
	memcpy(line, masked, len);
	free(masked);
}

/* Mask every occurrence of each secret, found in the line as given. */
void
tasklog_mask(char *line, const char *const *secrets, size_t n)
{
	tasklog_hide(line, strlen(line), secrets, n, 0);
}

/* Where to cut a line of len bytes: at most the limit, not inside a
 * UTF-8 sequence. */
static size_t
tasklog_cut(const char *line, size_t len)
{
	size_t n = TASKLOG_LINE_MAX;

	if (len <= n)
		return len;
	while (n > 0 && ((unsigned char)line[n] & 0xc0) == 0x80)
		n--;
	return n > 0 ? n : TASKLOG_LINE_MAX;
}

/* Put a new line in the head while it fits, else in the tail. */
static void
tasklog_keep(struct tasklog *tl, struct tasklog_entry *e)
{
	struct tasklog_entry *old;

	if (tl->head_open && tl->head_lines < CAT_LOG_HEAD_LINES &&
	    tl->head_bytes + e->len <= CAT_LOG_HEAD_BYTES) {
		tl->head_lines++;
		tl->head_bytes += e->len;
		TAILQ_INSERT_TAIL(&tl->head, e, entry);
		return;
	}
	tl->head_open = 0;
	TAILQ_INSERT_TAIL(&tl->tail, e, entry);
	tl->tail_lines++;
	tl->tail_bytes += e->len;
	/* The newest line always stays. */
	while (tl->tail_lines > 1 && (tl->tail_lines > CAT_LOG_TAIL_LINES ||
	    tl->tail_bytes > CAT_LOG_TAIL_BYTES)) {
		old = TAILQ_FIRST(&tl->tail);
		TAILQ_REMOVE(&tl->tail, old, entry);
		tl->tail_lines--;
		tl->tail_bytes -= old->len;
		if (old->flushed) {
			if (tl->drop_to < tl->drop_from)
				tl->drop_from = old->seq;
			tl->drop_to = old->seq;
		}
		free(old);
	}
}

/* Cut, mask, stamp and queue one line. */
void
tasklog_line(struct tasklog *tl, int debug_only, const char *who,
    const char *line)
{
	struct tasklog_entry *e;
	size_t len = strlen(line), wlen = strlen(who), cut;
	char *body;
	int64_t now = tl->clock();

	if (now != tl->stamp_at) {
		timefmt_utc(now, tl->stamp);
		tl->stamp_at = now;
	}
	cut = tasklog_cut(line, len);
	/* "STAMP [who] line" */
	e = xmalloc(sizeof *e + TIMEFMT_LEN + wlen + cut + 5);
	e->seq = ++tl->seq;
	e->lno = debug_only ? 0 : ++tl->lno;
	e->flushed = 0;
	memcpy(e->text, tl->stamp, TIMEFMT_LEN);
	e->text[TIMEFMT_LEN] = ' ';
	e->text[TIMEFMT_LEN + 1] = '[';
	memcpy(e->text + TIMEFMT_LEN + 2, who, wlen);
	e->text[TIMEFMT_LEN + 2 + wlen] = ']';
	e->text[TIMEFMT_LEN + 3 + wlen] = ' ';
	body = e->text + TIMEFMT_LEN + 4 + wlen;
	memcpy(body, line, cut);
	body[cut] = '\0';
	tasklog_hide(body, cut, (const char *const *)tl->secrets,
	    tl->nsecrets, len >= TASKLOG_LINE_MAX ? REDACT_CUT : 0);
	e->len = TIMEFMT_LEN + 4 + wlen + cut;
	tasklog_keep(tl, e);
}

/* Write the head's new lines and the tail's, and drop what left it. */
int
tasklog_flush(struct tasklog *tl)
{
	struct cat_log_line *v;
	struct tasklog_entry *e, *first;
	size_t n = 0;
	int rc;

	/* The tail's unflushed lines are its newest: find the first. */
	first = NULL;
	TAILQ_FOREACH_REVERSE(e, &tl->tail, tasklog_entries, entry) {
		if (e->flushed)
			break;
		first = e;
	}
	if (TAILQ_EMPTY(&tl->head) && first == NULL &&
	    tl->drop_to < tl->drop_from)
		return 0;
	v = xreallocarray(NULL, tl->head_lines + tl->tail_lines + 1,
	    sizeof *v);
	TAILQ_FOREACH(e, &tl->head, entry) {
		v[n].seq = e->seq;
		v[n].lno = e->lno;
		v[n].text = e->text;
		v[n++].len = e->len;
	}
	for (e = first; e != NULL; e = TAILQ_NEXT(e, entry)) {
		v[n].seq = e->seq;
		v[n].lno = e->lno;
		v[n].text = e->text;
		v[n++].len = e->len;
		e->flushed = 1;
	}
	rc = catalog_task_log_write(tl->cat, tl->uuid, tl->drop_from,
	    tl->drop_to, v, n);
	free(v);
	/* Written or not, they are done with: memory must not grow. */
	tasklog_drop(&tl->head);
	tl->drop_from = 1;
	tl->drop_to = 0;
	return rc == CAT_OK ? 0 : -1;
}
