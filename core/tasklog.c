/*
 * A running task's log: lines are cut, masked and timestamped as they
 * arrive and queued in memory; tasklog_flush() appends the queue to the
 * task's logs in the catalog.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "catalog.h"
#include "tasklog.h"
#include "timefmt.h"
#include "xmalloc.h"

/* A line waiting to be flushed, already formatted. */
struct tasklog_entry {
	int				 debug_only;
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
	struct tasklog_entries	 queue;
	size_t			 queued;	/* bytes of text in the queue */
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
	TAILQ_INIT(&tl->queue);
	return tl;
}

/* Drop every queued line. */
static void
tasklog_drop(struct tasklog *tl)
{
	struct tasklog_entry *e;

	while ((e = TAILQ_FIRST(&tl->queue)) != NULL) {
		TAILQ_REMOVE(&tl->queue, e, entry);
		free(e);
	}
	tl->queued = 0;
}

/* Free a log and what it still holds. */
void
tasklog_free(struct tasklog *tl)
{
	size_t i;

	if (tl == NULL)
		return;
	tasklog_drop(tl);
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

/* Mask every occurrence of each secret, found in the line as given. */
void
tasklog_mask(char *line, const char *const *secrets, size_t n)
{
	const char *p, *hit;
	char *orig;
	size_t i, len;

	if (n == 0)
		return;
	orig = xstrdup(line);
	for (i = 0; i < n; i++) {
		if ((len = strlen(secrets[i])) == 0)
			continue;
		/*
		 * Search on from the end of each match, in the original:
		 * overwriting a match and searching again from the start
		 * never ends for a secret made of '*'.
		 */
		for (p = orig; (hit = strstr(p, secrets[i])) != NULL;
		    p = hit + len)
			memset(line + (hit - orig), '*', len);
	}
	free(orig);
}

/*
 * A line cut at the limit may end in the first bytes of a secret whose
 * rest was cut off: mask the longest such tail.
 */
static void
tasklog_mask_tail(char *line, size_t len, char *const *secrets, size_t n)
{
	size_t i, k, slen;

	for (i = 0; i < n; i++) {
		slen = strlen(secrets[i]);
		for (k = slen - 1 < len ? slen - 1 : len; k > 0; k--) {
			if (memcmp(line + len - k, secrets[i], k) == 0) {
				memset(line + len - k, '*', k);
				break;
			}
		}
	}
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
	e->debug_only = debug_only;
	memcpy(e->text, tl->stamp, TIMEFMT_LEN);
	e->text[TIMEFMT_LEN] = ' ';
	e->text[TIMEFMT_LEN + 1] = '[';
	memcpy(e->text + TIMEFMT_LEN + 2, who, wlen);
	e->text[TIMEFMT_LEN + 2 + wlen] = ']';
	e->text[TIMEFMT_LEN + 3 + wlen] = ' ';
	body = e->text + TIMEFMT_LEN + 4 + wlen;
	memcpy(body, line, cut);
	body[cut] = '\0';
	tasklog_mask(body, (const char *const *)tl->secrets, tl->nsecrets);
	if (len >= TASKLOG_LINE_MAX)
		tasklog_mask_tail(body, cut, tl->secrets, tl->nsecrets);
	e->len = TIMEFMT_LEN + 4 + wlen + cut;
	TAILQ_INSERT_TAIL(&tl->queue, e, entry);
	tl->queued += e->len + 1;
}

/* Append the queue to the task's logs. */
int
tasklog_flush(struct tasklog *tl)
{
	struct tasklog_entry *e;
	char *log, *debug;
	size_t nl = 0, nd = 0;
	int rc;

	if (TAILQ_EMPTY(&tl->queue))
		return 0;
	log = xmalloc(tl->queued + 1);
	debug = xmalloc(tl->queued + 1);
	TAILQ_FOREACH(e, &tl->queue, entry) {
		memcpy(debug + nd, e->text, e->len);
		nd += e->len;
		debug[nd++] = '\n';
		if (e->debug_only)
			continue;
		memcpy(log + nl, e->text, e->len);
		nl += e->len;
		log[nl++] = '\n';
	}
	log[nl] = '\0';
	debug[nd] = '\0';
	rc = catalog_task_append(tl->cat, tl->uuid, log, debug);
	free(log);
	free(debug);
	tasklog_drop(tl);
	return rc == CAT_OK ? 0 : -1;
}
