/*
 * A pipeline on the event loop: plugin processes in a row, each one's
 * stdout the next one's stdin, all in the last process's group so one
 * signal stops them.  Two neighbours are joined either by a direct pipe or,
 * at most once, through the relay (relay.c: one buffer that counts, hashes
 * and, for a restore, checks the stream and holds back its tail) between
 * the producer (the process before it) and the consumer (the one after
 * it).  This file drives it: when the consumer's pipe is full the read
 * event is removed until the write event has drained the buffer, so a slow
 * consumer slows the producer and no memory grows.  No process ever sees
 * end-of-input on a bad stream: the relay closes its consumer's stdin only
 * after the producer exited 0 and, when restoring, after the size and
 * SHA-256 matched, and the daemon holds the write end of every direct pipe
 * until its writer exited 0 having read all its own input; every failure
 * instead terminates the group with those ends left open.  A reader must
 * read its whole input: one that exits early (EPIPE, or data left in its
 * pipe) fails the run, and its writer gets EPIPE.  Stderr of each process
 * is split into lines for the caller and the last process's stdout is
 * collected.  The done callback runs once every process has exited and
 * every pipe is closed.
 */
#include <sys/types.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "child.h"
#include "linesplit.h"
#include "log.h"
#include "pipeline.h"
#include "relay.h"
#include "xmalloc.h"

#define PIPELINE_BUDGET		(1024 * 1024)	/* bytes per callback */
#define PIPELINE_LINE_MAX	8192		/* longer lines are cut */
#define PIPELINE_GRACE_MS	5000		/* SIGTERM to SIGKILL */
#define PIPELINE_OUTPUT_READ	(64 * 1024)
#define PIPELINE_PIPE_SIZE	(1024 * 1024)	/* asked of direct pipes */

struct pipeline;

/*
 * A direct pipe between two neighbouring processes.  The daemon keeps a
 * copy of both ends: of the write end, so that the reader sees end-of-input
 * only once the daemon lets it (closing the copy), and of the read end, so
 * that the reader's exit can tell whether it left data unread (closing the
 * copy then gives the writer EPIPE).
 */
struct pipeline_link {
	int			 rfd;
	int			 wfd;
	int			 ended;		/* wfd closed: EOF allowed */
	int			 broken;	/* the reader quit early */
};

struct pipeline_proc {
	struct pipeline		*pl;
	char			*name;
	size_t			 stage;		/* index in the caller's list */
	struct child		*child;
	int			 exited;
	int			 status;
	int			 decided;	/* its exit has been judged */
	struct pipeline_link	*in;		/* direct pipe to stdin */
	struct pipeline_link	*out;		/* direct pipe from stdout */

	/* Stderr, split into lines. */
	int			 err_fd;
	struct event		 err_ev;
	struct linesplit	*err;
};

struct pipeline {
	struct event_base	*base;
	struct pipeline_cbs	 cbs;
	void			*arg;

	struct pipeline_proc	*procs;		/* in stage order */
	size_t			 nprocs;
	struct pipeline_link	*links;		/* [i]: procs[i] to [i + 1] */
	int			*status;	/* per stage, for the result */
	size_t			 nstages;
	struct pipeline_proc	*last;		/* its stdout is the output */
	/*
	 * The relay's two sides.  Without a relay stage, consumer is the
	 * first process when there is input to write to it, else NULL.
	 */
	struct pipeline_proc	*producer;
	struct pipeline_proc	*consumer;

	/* The stream: in_fd (producer stdout) -> relay -> out_fd. */
	int			 in_fd;
	int			 out_fd;
	struct event		 in_ev;
	struct event		 out_ev;
	struct relay		*relay;
	int			 in_eof;
	int			 peek_fd;	/* out_fd's pipe, to read */
	int			 stream_ended;	/* complete and good */

	/* The last process's stdout. */
	int			 cout_fd;
	struct event		 cout_ev;
	char			*output;
	size_t			 output_len;
	size_t			 output_size;

	int			 timeout_s;
	int			 idle_s;
	struct timeval		 last_activity;
	struct event		 timeout_ev;
	struct event		 idle_ev;
	struct event		 progress_ev;
	int64_t			 progress_bytes;
	struct event		 kill_ev;

	char			*cause;		/* first explicit failure */
	int			 broken;	/* relay consumer quit early */
	int64_t			 broken_at;
	int			 terminating;

	int			 done;
	int			 busy;		/* our callbacks on the stack */
	int			 freed;
	char			*failure;
	struct pipeline_result	 result;
};

static void	pipeline_in_cb(int, short, void *);
static void	pipeline_out_cb(int, short, void *);
static void	pipeline_err_cb(int, short, void *);
static void	pipeline_cout_cb(int, short, void *);
static void	pipeline_timeout_cb(int, short, void *);
static void	pipeline_idle_cb(int, short, void *);
static void	pipeline_progress_cb(int, short, void *);
static void	pipeline_kill_cb(int, short, void *);
static void	pipeline_exit_cb(struct child *, int, void *);
static void	pipeline_stream_end(struct pipeline *);
static void	pipeline_links_close(struct pipeline *);
static void	pipeline_links_failed(struct pipeline *);
static void	pipeline_decide(struct pipeline *, struct pipeline_proc *,
		    int);
static void	pipeline_leave(struct pipeline *);
static void	pipeline_release(struct pipeline *);

/* Mark that one of our callbacks is running. */
static void
pipeline_enter(struct pipeline *pl)
{
	pl->busy++;
}

/* Delete an event if it was ever set up. */
static void
pipeline_event_del(struct event *ev)
{
	if (event_initialized(ev))
		event_del(ev);
}

/* Close a descriptor and forget its event. */
static void
pipeline_close(int *fd, struct event *ev)
{
	if (*fd == -1)
		return;
	pipeline_event_del(ev);
	close(*fd);
	*fd = -1;
}

/* Note that a process said something, for the idle timeout. */
static void
pipeline_activity(struct pipeline *pl)
{
	event_base_gettimeofday_cached(pl->base, &pl->last_activity);
}

/* 1 if a waitpid() status means success. */
static int
pipeline_status_ok(int status)
{
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Describe an unsuccessful exit status of a stage. */
static char *
pipeline_status_text(const struct pipeline_proc *p)
{
	char *s;

	if (WIFSIGNALED(p->status))
		xasprintf(&s, "%s killed by signal %d", p->name,
		    WTERMSIG(p->status));
	else
		xasprintf(&s, "%s exited with status %d", p->name,
		    WEXITSTATUS(p->status));
	return s;
}

/* SIGTERM every process, SIGKILL after the grace, then stop waiting. */
static void
pipeline_terminate(struct pipeline *pl)
{
	struct pipeline_proc *p;
	struct timeval tv;
	size_t i;

	if (pl->terminating)
		return;
	pl->terminating = 1;
	for (i = 0; i < pl->nprocs; i++) {
		p = &pl->procs[i];
		if (p->child == NULL)
			continue;
		if (!p->exited)
			child_terminate(p->child, PIPELINE_GRACE_MS);
		else
			child_signal(p->child, SIGTERM);
	}
	/*
	 * The children's own timers SIGKILL them; this one also covers
	 * helpers left in the group after a stage exited and, failing all
	 * else, stops waiting for pipes nobody will close.
	 */
	tv.tv_sec = PIPELINE_GRACE_MS / 1000 + 1;
	tv.tv_usec = 0;
	evtimer_add(&pl->kill_ev, &tv);
}

/*
 * Record the first explicit failure and stop: no more relaying, the group
 * is terminated, and the relay consumer's stdin and the direct pipes' write
 * ends stay open so that no process takes a bad stream for a complete one.
 * Closing the producer's stdout makes a producer still writing get EPIPE at
 * once.
 */
static void __attribute__((format(printf, 2, 3)))
pipeline_fail(struct pipeline *pl, const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	if (pl->cause == NULL) {
		va_start(ap, fmt);
		vsnprintf(text, sizeof text, fmt, ap);
		va_end(ap);
		pl->cause = xstrdup(text);
		log_debug("pipeline failed: %s", text);
	}
	pipeline_event_del(&pl->out_ev);
	pipeline_close(&pl->in_fd, &pl->in_ev);
	pipeline_terminate(pl);
	pipeline_links_failed(pl);
}

/*
 * The consumer stopped reading before the end of the stream: stop relaying
 * and close the producer's stdout so it gets EPIPE or SIGPIPE.  unread is
 * what was delivered into the pipe but never read.
 */
static void
pipeline_broken(struct pipeline *pl, int64_t unread)
{
	if (pl->producer == NULL) {
		/* Input given to a command that did not want it. */
		pipeline_close(&pl->out_fd, &pl->out_ev);
		return;
	}
	pl->broken = 1;
	pl->broken_at = relay_bytes(pl->relay) -
	    (int64_t)relay_pending(pl->relay) - unread;
	pipeline_close(&pl->out_fd, &pl->out_ev);
	pipeline_close(&pl->in_fd, &pl->in_ev);
}

/*
 * Write what may be written to the consumer.  0: done; 1: its pipe is full
 * and the write event now waits (the read event is off meanwhile); -1: the
 * stream is over (the consumer went away).
 */
static int
pipeline_flush(struct pipeline *pl)
{
	switch (relay_write(pl->relay, pl->out_fd)) {
	case 0:
		return 0;
	case 1:
		if (pl->in_fd != -1)
			event_del(&pl->in_ev);
		event_add(&pl->out_ev, NULL);
		return 1;
	default:
		if (errno != EPIPE)
			log_warn("writing to %s: %s", pl->consumer->name,
			    strerror(errno));
		pipeline_broken(pl, 0);
		return -1;
	}
}

/* Open another read end of the pipe fd writes to; -1 if impossible. */
static int
pipeline_peek(int fd)
{
	char path[64];

	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	return open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
}

/* The producer's stdout reached EOF (or failed). */
static void
pipeline_in_eof(struct pipeline *pl)
{
	pipeline_close(&pl->in_fd, &pl->in_ev);
	pl->in_eof = 1;
	pipeline_stream_end(pl);
}

/* Check the whole stream against the archive, once: 0 if it matches. */
static int
pipeline_verify(struct pipeline *pl)
{
	char why[512];

	if (relay_verify(pl->relay, why, sizeof why) != 0) {
		pipeline_fail(pl, "%s", why);
		return -1;
	}
	return 0;
}

/*
 * The relay's stream is complete and good: a consumer that already left
 * (having read all of it) may now have its own exit judged.
 */
static void
pipeline_stream_ended(struct pipeline *pl)
{
	pl->stream_ended = 1;
	if (pl->consumer->exited && !pl->consumer->decided)
		pipeline_decide(pl, pl->consumer, 0);
}

/*
 * Once the producer's output is all read and the producer's exit was
 * judged good, check the stream if asked, write the rest and close the
 * consumer's stdin.
 */
static void
pipeline_stream_end(struct pipeline *pl)
{
	if (!pl->in_eof || pl->cause != NULL || pl->stream_ended)
		return;
	if (pl->producer != NULL && !pl->producer->decided)
		return;		/* its exit status decides */
	if (pl->out_fd == -1) {
		/* The consumer left having read it all, or it quit early. */
		if (pl->producer != NULL && !pl->broken &&
		    pipeline_verify(pl) == 0)
			pipeline_stream_ended(pl);
		return;
	}
	if (pipeline_verify(pl) != 0)
		return;
	if (pipeline_flush(pl) != 0)
		return;
	/*
	 * A second read end of the consumer's pipe does not keep EOF from it
	 * (only writers do) but lets its exit tell whether it left data
	 * unread: a consumer must read the whole stream.
	 */
	if (pl->producer != NULL)
		pl->peek_fd = pipeline_peek(pl->out_fd);
	pipeline_close(&pl->out_fd, &pl->out_ev);
	if (pl->producer != NULL)
		pipeline_stream_ended(pl);
}

/*
 * The producer has data: read it in chunks, hash and count each, and pass
 * it on at once.  At most PIPELINE_BUDGET bytes per call, so other events
 * (HTTP requests) get their turn while a backup streams.
 */
static void
pipeline_in_cb(int fd, short events, void *arg)
{
	struct pipeline *pl = arg;
	size_t budget = PIPELINE_BUDGET;
	char why[256];
	ssize_t n;

	pipeline_enter(pl);
	while (budget > 0 && pl->in_fd != -1 && pl->cause == NULL) {
		n = relay_read(pl->relay, pl->in_fd);
		if (n == -1) {
			if (errno != EAGAIN)
				pipeline_fail(pl, "cannot read from %s: %s",
				    pl->producer->name, strerror(errno));
			break;
		}
		if (n == 0) {
			pipeline_in_eof(pl);
			break;
		}
		pipeline_activity(pl);
		if (relay_too_long(pl->relay, why, sizeof why)) {
			pipeline_fail(pl, "%s", why);
			break;
		}
		if (pipeline_flush(pl) != 0)
			break;
		budget -= (size_t)n < budget ? (size_t)n : budget;
	}
	pipeline_leave(pl);
}

/* The consumer's pipe has room again: drain the buffer, then read again. */
static void
pipeline_out_cb(int fd, short events, void *arg)
{
	struct pipeline *pl = arg;

	pipeline_enter(pl);
	if (pipeline_flush(pl) == 0) {
		event_del(&pl->out_ev);
		if (pl->in_fd != -1)
			event_add(&pl->in_ev, NULL);
		else
			pipeline_stream_end(pl);
	}
	pipeline_leave(pl);
}

/* Hand one stderr line of a process to the caller. */
static void
pipeline_line_cb(const char *line, size_t len, int cut, void *arg)
{
	struct pipeline_proc *p = arg;
	struct pipeline *pl = p->pl;

	if (pl->cbs.line != NULL && !pl->freed)
		pl->cbs.line(p->name, line, pl->arg);
}

/* Stderr of a process is readable: pass on each complete line. */
static void
pipeline_err_cb(int fd, short events, void *arg)
{
	struct pipeline_proc *p = arg;
	struct pipeline *pl = p->pl;
	ssize_t n;

	pipeline_enter(pl);
	n = linesplit_read(p->err, p->err_fd);
	if (n > 0)
		pipeline_activity(pl);
	else if (n == 0)
		pipeline_close(&p->err_fd, &p->err_ev);
	pipeline_leave(pl);
}

/* Collect the last process's stdout, up to PIPELINE_OUTPUT_MAX. */
static void
pipeline_cout_cb(int fd, short events, void *arg)
{
	struct pipeline *pl = arg;
	size_t want;
	ssize_t n;

	pipeline_enter(pl);
	want = pl->output_len + PIPELINE_OUTPUT_READ + 1;
	if (want > PIPELINE_OUTPUT_MAX + 2)
		want = PIPELINE_OUTPUT_MAX + 2;
	if (want > pl->output_size) {
		pl->output = xrealloc(pl->output, want);
		pl->output_size = want;
	}
	n = read(pl->cout_fd, pl->output + pl->output_len,
	    pl->output_size - 1 - pl->output_len);
	if (n == -1 && (errno == EINTR || errno == EAGAIN))
		goto out;
	if (n <= 0) {
		pipeline_close(&pl->cout_fd, &pl->cout_ev);
		goto out;
	}
	pl->output_len += n;
	pipeline_activity(pl);
	if (pl->output_len > PIPELINE_OUTPUT_MAX) {
		pl->output_len = PIPELINE_OUTPUT_MAX;
		pipeline_close(&pl->cout_fd, &pl->cout_ev);
		pipeline_fail(pl, "output over %d MiB",
		    PIPELINE_OUTPUT_MAX / (1024 * 1024));
	}
out:
	pipeline_leave(pl);
}

/* The whole run took too long. */
static void
pipeline_timeout_cb(int fd, short events, void *arg)
{
	struct pipeline *pl = arg;

	pipeline_enter(pl);
	pipeline_fail(pl, "timed out after %ds", pl->timeout_s);
	pipeline_leave(pl);
}

/* Check for silence; re-arm for the rest of the period if there was none. */
static void
pipeline_idle_cb(int fd, short events, void *arg)
{
	struct pipeline *pl = arg;
	struct timeval now, quiet, period, rest;

	pipeline_enter(pl);
	event_base_gettimeofday_cached(pl->base, &now);
	timersub(&now, &pl->last_activity, &quiet);
	period.tv_sec = pl->idle_s;
	period.tv_usec = 0;
	if (!timercmp(&quiet, &period, <))
		pipeline_fail(pl, "no output for %ds", pl->idle_s);
	else {
		timersub(&period, &quiet, &rest);
		evtimer_add(&pl->idle_ev, &rest);
	}
	pipeline_leave(pl);
}

/* Once a second: report the byte count if it moved. */
static void
pipeline_progress_cb(int fd, short events, void *arg)
{
	struct pipeline *pl = arg;

	pipeline_enter(pl);
	if (relay_bytes(pl->relay) != pl->progress_bytes &&
	    pl->cbs.progress != NULL) {
		pl->progress_bytes = relay_bytes(pl->relay);
		pl->cbs.progress(pl->progress_bytes, pl->arg);
	}
	pipeline_leave(pl);
}

/*
 * The grace is long over: kill whatever is left in the group and stop
 * waiting for pipes (something outside the group may hold them).
 */
static void
pipeline_kill_cb(int fd, short events, void *arg)
{
	struct pipeline *pl = arg;
	struct pipeline_proc *p;
	size_t i;

	pipeline_enter(pl);
	for (i = 0; i < pl->nprocs; i++) {
		p = &pl->procs[i];
		if (p->child == NULL)
			continue;
		child_signal(p->child, SIGKILL);
		pipeline_close(&p->err_fd, &p->err_ev);
	}
	pipeline_links_close(pl);
	pipeline_close(&pl->in_fd, &pl->in_ev);
	pipeline_close(&pl->out_fd, &pl->out_ev);
	pipeline_close(&pl->cout_fd, &pl->cout_ev);
	pipeline_leave(pl);
}

/* Bytes in a pipe that nobody has read. */
static int64_t
pipeline_unread(int fd)
{
	int n;

	if (fd == -1 || ioctl(fd, FIONREAD, &n) != 0)
		return 0;
	return n;
}

/* Close our copy of a direct pipe's write end. */
static void
pipeline_link_close(struct pipeline_link *l)
{
	if (l->wfd != -1)
		close(l->wfd);
	l->wfd = -1;
}

/*
 * Close what is left of the direct pipes.  If a write end is among it, the
 * group is killed first: a helper a reader left behind must not read an
 * end of input.
 */
static void
pipeline_links_close(struct pipeline *pl)
{
	struct pipeline_link *l;
	size_t i;

	for (i = 0; i + 1 < pl->nprocs; i++) {
		if (pl->links[i].wfd == -1)
			continue;
		if (pl->last->child != NULL)
			child_signal(pl->last->child, SIGKILL);
		break;
	}
	for (i = 0; i + 1 < pl->nprocs; i++) {
		l = &pl->links[i];
		pipeline_link_close(l);
		if (l->rfd != -1)
			close(l->rfd);
		l->rfd = -1;
	}
}

/*
 * The run failed: once every process has exited, nobody may be handed an
 * end of input any more, and the direct pipes can go.
 */
static void
pipeline_links_failed(struct pipeline *pl)
{
	size_t i;

	for (i = 0; i < pl->nprocs; i++) {
		if (!pl->procs[i].exited)
			return;
	}
	pipeline_links_close(pl);
}

/*
 * p's writer was judged good: its reader may see end-of-input, and if the
 * reader already left, having read all there was, its exit is judged now.
 */
static void
pipeline_link_end(struct pipeline *pl, struct pipeline_proc *p)
{
	struct pipeline_proc *next = p + 1;

	pipeline_link_close(p->out);
	p->out->ended = 1;
	if (next->exited && !next->decided)
		pipeline_decide(pl, next, 0);
}

/*
 * Why a process's exit fails the run: its status, or else that it stopped
 * reading its input (after so many bytes, when the relay counted them).
 */
static char *
pipeline_exit_text(struct pipeline *pl, struct pipeline_proc *p)
{
	char *s;

	if (!pipeline_status_ok(p->status))
		return pipeline_status_text(p);
	if (p == pl->consumer)
		xasprintf(&s, "%s stopped reading its input after %" PRId64
		    " bytes", p->name, pl->broken_at);
	else
		xasprintf(&s, "%s stopped reading its input", p->name);
	return s;
}

/*
 * A process with a reader after it: 1 if its output may end.  It must have
 * exited 0 having read its whole input, with nothing failed; else the run
 * fails, unless the process only went down because its own reader quit
 * first (then that reader is to blame).
 */
static int
pipeline_output_ends(struct pipeline *pl, struct pipeline_proc *p,
    int in_broken, int out_broken)
{
	char *why;

	if (pl->cause != NULL || out_broken)
		return 0;
	if (pipeline_status_ok(p->status) && !in_broken)
		return 1;
	/* Its output cannot be trusted: do not end it. */
	why = pipeline_exit_text(pl, p);
	pipeline_fail(pl, "%s", why);
	free(why);
	return 0;
}

/*
 * Judge an exited process once its input is settled (in_broken: it quit
 * reading early): end its output or fail the run.
 */
static void
pipeline_decide(struct pipeline *pl, struct pipeline_proc *p, int in_broken)
{
	struct pipeline_proc *next = p + 1;
	struct pipeline_link *l = p->out;

	p->decided = 1;
	if (p == pl->producer) {
		if (pipeline_output_ends(pl, p, in_broken, pl->broken))
			pipeline_stream_end(pl);
		return;
	}
	if (l == NULL)
		return;
	/*
	 * Its reader left, having read all there was so far, before this
	 * writer ended: a writer killed by SIGPIPE had more to say.
	 */
	if (next->exited && !next->decided && WIFSIGNALED(p->status) &&
	    WTERMSIG(p->status) == SIGPIPE)
		l->broken = 1;
	if (pipeline_output_ends(pl, p, in_broken, l->broken))
		pipeline_link_end(pl, p);
	else if (l->broken && next->exited && !next->decided) {
		if (pl->cause == NULL)
			pipeline_link_close(l);
		pipeline_decide(pl, next, 1);
	}
}

/*
 * The reader of a direct pipe exited.  Data left in the pipe means it quit
 * early; so does leaving before the end, unless it had read everything and
 * its writer turns out good (decided then).  Closing our read end gives a
 * writer still writing EPIPE.
 */
static void
pipeline_link_reader_exit(struct pipeline *pl, struct pipeline_proc *p)
{
	struct pipeline_link *l = p->in;

	if (pipeline_unread(l->rfd) > 0)
		l->broken = 1;
	if (l->rfd != -1)
		close(l->rfd);
	l->rfd = -1;
	if (l->broken) {
		if (pl->cause == NULL)
			pipeline_link_close(l);
		pipeline_decide(pl, p, 1);
	} else if (l->ended)
		pipeline_decide(pl, p, 0);
}

/*
 * The relay's consumer exited: did it leave some of the stream unread?
 * Judged at once unless it read everything before the stream ended.
 */
static void
pipeline_relay_reader_exit(struct pipeline *pl, struct pipeline_proc *p)
{
	int64_t unread;

	if (pl->out_fd != -1) {
		if (pl->cause != NULL) {
			/* Nothing left in the group may read an EOF. */
			child_signal(p->child, SIGKILL);
		} else if (pl->producer != NULL) {
			unread = pipeline_unread(pl->out_fd);
			if (!pl->in_eof || relay_pending(pl->relay) != 0 ||
			    unread > 0)
				pipeline_broken(pl, unread);
		}
		pipeline_close(&pl->out_fd, &pl->out_ev);
	} else if (pl->peek_fd != -1) {
		unread = pipeline_unread(pl->peek_fd);
		if (unread > 0 && pl->cause == NULL)
			pipeline_broken(pl, unread);
	}
	if (pl->peek_fd != -1) {
		close(pl->peek_fd);
		pl->peek_fd = -1;
	}
	if (pl->producer == NULL || pl->broken || pl->stream_ended)
		pipeline_decide(pl, p, pl->broken);
}

/* A process exited: judge it now if its input is settled. */
static void
pipeline_exit_cb(struct child *c, int status, void *arg)
{
	struct pipeline_proc *p = arg;
	struct pipeline *pl = p->pl;

	pipeline_enter(pl);
	p->exited = 1;
	p->status = status;
	pl->status[p->stage] = status;
	if (WIFSIGNALED(status))
		log_debug("%s exited (killed by signal %d)", p->name,
		    WTERMSIG(status));
	else
		log_debug("%s exited (exit %d)", p->name, WEXITSTATUS(status));
	if (p == pl->consumer)
		pipeline_relay_reader_exit(pl, p);
	else if (p->in != NULL)
		pipeline_link_reader_exit(pl, p);
	else
		pipeline_decide(pl, p, 0);
	if (pl->cause != NULL)
		pipeline_links_failed(pl);
	pipeline_leave(pl);
}

/* The one line saying why the run failed, or NULL. */
static char *
pipeline_failure(struct pipeline *pl)
{
	struct pipeline_proc *p;
	size_t i;

	if (pl->cause != NULL)
		return xstrdup(pl->cause);
	/*
	 * A reader that quit early takes the writers before it down too:
	 * the last such reader is the one to blame.
	 */
	for (i = pl->nprocs; i-- > 1;) {
		p = &pl->procs[i];
		if (p == pl->consumer ? pl->broken : p->in->broken)
			return pipeline_exit_text(pl, p);
	}
	for (i = 0; i < pl->nprocs; i++) {
		if (!pipeline_status_ok(pl->procs[i].status))
			return pipeline_status_text(&pl->procs[i]);
	}
	return NULL;
}

/* Run the done callback if everything has exited and closed. */
static void
pipeline_check_done(struct pipeline *pl)
{
	struct pipeline_result *r = &pl->result;
	size_t i;

	if (pl->done || pl->freed)
		return;
	for (i = 0; i < pl->nprocs; i++) {
		if (!pl->procs[i].exited || pl->procs[i].err_fd != -1)
			return;
	}
	for (i = 0; i + 1 < pl->nprocs; i++) {
		if (pl->links[i].rfd != -1 || pl->links[i].wfd != -1)
			return;
	}
	if (pl->in_fd != -1 || pl->out_fd != -1 || pl->cout_fd != -1)
		return;
	pl->done = 1;
	pipeline_event_del(&pl->timeout_ev);
	pipeline_event_del(&pl->idle_ev);
	pipeline_event_del(&pl->progress_ev);
	pipeline_event_del(&pl->kill_ev);
	snprintf(r->sha256, sizeof r->sha256, "%s", relay_sha256(pl->relay));

	if (pl->output == NULL) {
		pl->output = xmalloc(1);
		pl->output_size = 1;
	}
	pl->output[pl->output_len] = '\0';
	pl->failure = pipeline_failure(pl);

	r->producer_status = pl->nprocs > 1 ? pl->procs[0].status : -1;
	r->consumer_status = pl->last->status;
	r->bytes = relay_bytes(pl->relay);
	r->output = pl->output;
	r->output_len = pl->output_len;
	r->failure = pl->failure;
	r->status = pl->status;
	r->nstages = pl->nstages;
	if (pl->cbs.done != NULL)
		pl->cbs.done(pl, r, pl->arg);
}

/*
 * Leave one of our callbacks: see whether the run is complete, and release
 * the pipeline if pipeline_free() was called while we were running.
 */
static void
pipeline_leave(struct pipeline *pl)
{
	if (pl->busy == 1)
		pipeline_check_done(pl);
	if (--pl->busy == 0 && pl->freed)
		pipeline_release(pl);
}

/* Spawn one process; fills in the parent's pipe ends in the spec. */
static int
pipeline_spawn(struct child_set *set, struct pipeline_proc *p,
    const struct pipeline_stage *stage, struct child_spec *spec, char **errp)
{
	spec->path = stage->path;
	spec->argv = stage->argv;
	spec->env = stage->env;
	p->name = xstrdup(stage->name != NULL ? stage->name : stage->path);
	p->err = linesplit_new(PIPELINE_LINE_MAX, pipeline_line_cb, p);
	p->child = child_spawn(set, spec, pipeline_exit_cb, p, errp);
	if (p->child == NULL)
		return -1;
	p->err_fd = spec->err;
	event_assign(&p->err_ev, p->pl->base, p->err_fd, EV_READ | EV_PERSIST,
	    pipeline_err_cb, p);
	event_add(&p->err_ev, NULL);
	return 0;
}

/*
 * Check the list: at least one process, and at most one relay, between two
 * processes.  Sets *relay to the relay's index, or n if there is none.
 */
static int
pipeline_check(const struct pipeline_step *steps, size_t n, size_t *relay,
    char **errp)
{
	size_t i;

	*relay = n;
	for (i = 0; i < n; i++) {
		if (steps[i].kind == PIPELINE_PROCESS && steps[i].proc != NULL)
			continue;
		if (steps[i].kind != PIPELINE_RELAY) {
			xasprintf(errp, "pipeline step %zu: not a process "
			    "nor the relay", i);
			return -1;
		}
		if (*relay != n || i == 0 || i == n - 1) {
			*errp = xstrdup("a pipeline has at most one relay, "
			    "between two processes");
			return -1;
		}
		*relay = i;
	}
	if (n == 0) {
		*errp = xstrdup("a pipeline needs a process");
		return -1;
	}
	return 0;
}

/* Make the direct pipe procs[i] -> procs[i + 1]. */
static int
pipeline_link_open(struct pipeline *pl, size_t i, char **errp)
{
	struct pipeline_link *l = &pl->links[i];
	int p[2];

	if (pipe2(p, O_CLOEXEC) != 0) {
		xasprintf(errp, "cannot make a pipe: %s", strerror(errno));
		return -1;
	}
	/* Bigger pipes mean fewer wakeups, as for the relay's pipes. */
	fcntl(p[0], F_SETPIPE_SZ, PIPELINE_PIPE_SIZE);
	l->rfd = p[0];
	l->wfd = p[1];
	pl->procs[i].out = pl->procs[i + 1].in = l;
	return 0;
}

/* The pipeline's state before anything runs: processes, links, events. */
static struct pipeline *
pipeline_new(struct child_set *set, size_t n, size_t relay,
    const struct pipeline_opts *opts, const struct pipeline_cbs *cbs,
    void *arg)
{
	struct pipeline *pl;
	size_t i, j;

	pl = xcalloc(1, sizeof *pl);
	pl->base = child_set_base(set);
	pl->cbs = *cbs;
	pl->arg = arg;
	pl->in_fd = pl->out_fd = pl->cout_fd = pl->peek_fd = -1;
	pl->nstages = n;
	pl->nprocs = relay < n ? n - 1 : n;
	pl->procs = xcalloc(pl->nprocs, sizeof *pl->procs);
	pl->links = xcalloc(pl->nprocs, sizeof *pl->links);
	pl->status = xcalloc(n, sizeof *pl->status);
	for (i = 0; i < n; i++)
		pl->status[i] = -1;
	for (i = j = 0; i < n; i++) {
		if (i == relay)
			continue;
		pl->procs[j].pl = pl;
		pl->procs[j].stage = i;
		pl->procs[j].err_fd = -1;
		pl->procs[j].status = -1;
		pl->links[j].rfd = pl->links[j].wfd = -1;
		j++;
	}
	pl->last = &pl->procs[pl->nprocs - 1];
	if (relay < n) {
		pl->producer = &pl->procs[relay - 1];
		pl->consumer = &pl->procs[relay];
	} else if (opts->input != NULL)
		pl->consumer = &pl->procs[0];
	pl->timeout_s = opts->timeout_s;
	pl->idle_s = opts->idle_s;
	/* Verification needs a stream read from a producer. */
	pl->relay = relay_new(pl->producer != NULL ? opts->expect_sha256 :
	    NULL, opts->expect_bytes);
	evtimer_assign(&pl->timeout_ev, pl->base, pipeline_timeout_cb, pl);
	evtimer_assign(&pl->idle_ev, pl->base, pipeline_idle_cb, pl);
	evtimer_assign(&pl->kill_ev, pl->base, pipeline_kill_cb, pl);
	event_assign(&pl->progress_ev, pl->base, -1, EV_PERSIST,
	    pipeline_progress_cb, pl);
	return pl;
}

/*
 * Start process i with its standard streams: its stdin from the relay, a
 * direct pipe (made here) or /dev/null; its stdout to the relay, the
 * direct pipe made for its reader or, for the last, to the daemon.
 */
static int
pipeline_start_proc(struct child_set *set, struct pipeline *pl, size_t i,
    const struct pipeline_step *steps, char **errp)
{
	struct pipeline_proc *p = &pl->procs[i];
	struct child_spec spec;

	memset(&spec, 0, sizeof spec);
	if (p == pl->consumer)
		spec.in = CHILD_PIPE;
	else if (i > 0) {
		if (pipeline_link_open(pl, i - 1, errp) != 0)
			return -1;
		spec.in = p->in->rfd;
	} else
		spec.in = CHILD_NULL;
	if (p == pl->producer || p == pl->last)
		spec.out = CHILD_PIPE;
	else
		spec.out = p->out->wfd;
	spec.err = CHILD_PIPE;
	if (p != pl->last)
		spec.pgid = child_pgid(pl->last->child);
	if (pipeline_spawn(set, p, steps[p->stage].proc, &spec, errp) != 0)
		return -1;

	if (p == pl->consumer)
		pl->out_fd = spec.in;
	if (p == pl->last) {
		pl->cout_fd = spec.out;
		event_assign(&pl->cout_ev, pl->base, pl->cout_fd,
		    EV_READ | EV_PERSIST, pipeline_cout_cb, pl);
		event_add(&pl->cout_ev, NULL);
	}
	if (p == pl->producer) {
		pl->in_fd = spec.out;
		event_assign(&pl->in_ev, pl->base, pl->in_fd,
		    EV_READ | EV_PERSIST, pipeline_in_cb, pl);
		event_add(&pl->in_ev, NULL);
	}
	return 0;
}

/* Start the stages and the loop events; NULL with *errp if one failed. */
struct pipeline *
pipeline_run(struct child_set *set, const struct pipeline_step *steps,
    size_t n, const struct pipeline_opts *opts,
    const struct pipeline_cbs *cbs, void *arg, char **errp)
{
	struct pipeline *pl;
	struct timeval tv;
	size_t relay, i;

	*errp = NULL;
	if (pipeline_check(steps, n, &relay, errp) != 0)
		return NULL;
	pl = pipeline_new(set, n, relay, opts, cbs, arg);

	/* The last process first: it leads the group the others join. */
	for (i = pl->nprocs; i-- > 0;) {
		if (pipeline_start_proc(set, pl, i, steps, errp) != 0)
			goto fail;
	}
	if (pl->out_fd != -1)
		event_assign(&pl->out_ev, pl->base, pl->out_fd,
		    EV_WRITE | EV_PERSIST, pipeline_out_cb, pl);

	if (pl->timeout_s > 0) {
		tv.tv_sec = pl->timeout_s;
		tv.tv_usec = 0;
		evtimer_add(&pl->timeout_ev, &tv);
	}
	if (pl->idle_s > 0) {
		pipeline_activity(pl);
		tv.tv_sec = pl->idle_s;
		tv.tv_usec = 0;
		evtimer_add(&pl->idle_ev, &tv);
	}
	if (pl->producer != NULL && pl->cbs.progress != NULL) {
		tv.tv_sec = 1;
		tv.tv_usec = 0;
		event_add(&pl->progress_ev, &tv);
	}

	if (pl->producer == NULL && pl->consumer != NULL) {
		/* The input is the whole stream, already at its end. */
		relay_preload(pl->relay, opts->input, strlen(opts->input));
		pl->in_eof = 1;
		pipeline_stream_end(pl);
	}
	return pl;

fail:
	pipeline_release(pl);
	return NULL;
}

/* The classic shapes: [producer, relay, consumer], or [consumer] alone. */
struct pipeline *
pipeline_start(struct child_set *set, const struct pipeline_stage *producer,
    const struct pipeline_stage *consumer, const struct pipeline_opts *opts,
    const struct pipeline_cbs *cbs, void *arg, char **errp)
{
	struct pipeline_step steps[3] = {
		{ PIPELINE_PROCESS, producer },
		{ PIPELINE_RELAY, NULL },
		{ PIPELINE_PROCESS, consumer },
	};

	if (producer == NULL)
		return pipeline_run(set, steps + 2, 1, opts, cbs, arg, errp);
	return pipeline_run(set, steps, 3, opts, cbs, arg, errp);
}

/* Stop everything; done reports "canceled" unless it already failed. */
void
pipeline_cancel(struct pipeline *pl)
{
	if (pl->done || pl->freed)
		return;
	pipeline_fail(pl, "canceled");
}

/* Bytes relayed so far. */
int64_t
pipeline_bytes(struct pipeline *pl)
{
	return relay_bytes(pl->relay);
}

/* Really free: stop events, close pipes, let go of (and kill) children. */
static void
pipeline_release(struct pipeline *pl)
{
	struct pipeline_proc *p;
	size_t i;

	pipeline_event_del(&pl->timeout_ev);
	pipeline_event_del(&pl->idle_ev);
	pipeline_event_del(&pl->progress_ev);
	pipeline_event_del(&pl->kill_ev);
	/* Kill first: no process may take a closed pipe for an end. */
	for (i = 0; i < pl->nprocs; i++) {
		p = &pl->procs[i];
		if (p->child != NULL && !p->exited)
			child_signal(p->child, SIGKILL);
	}
	pipeline_close(&pl->in_fd, &pl->in_ev);
	pipeline_close(&pl->out_fd, &pl->out_ev);
	pipeline_close(&pl->cout_fd, &pl->cout_ev);
	if (pl->peek_fd != -1)
		close(pl->peek_fd);
	for (i = 0; i + 1 < pl->nprocs; i++) {
		if (pl->links[i].rfd != -1)
			close(pl->links[i].rfd);
		if (pl->links[i].wfd != -1)
			close(pl->links[i].wfd);
	}
	for (i = 0; i < pl->nprocs; i++) {
		p = &pl->procs[i];
		pipeline_close(&p->err_fd, &p->err_ev);
		linesplit_free(p->err);
		child_free(p->child);
		free(p->name);
	}
	free(pl->procs);
	free(pl->links);
	free(pl->status);
	relay_free(pl->relay);
	free(pl->output);
	free(pl->cause);
	free(pl->failure);
	free(pl);
}

/*
 * Free the pipeline, killing whatever still runs.  Called from inside one
 * of its own callbacks, the release waits until that callback returns.
 */
void
pipeline_free(struct pipeline *pl)
{
	if (pl == NULL || pl->freed)
		return;
	pl->freed = 1;
	if (pl->busy == 0)
		pipeline_release(pl);
}
