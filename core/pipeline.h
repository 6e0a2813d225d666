/*
 * pipeline: run plugin processes in a row on the event loop, each one's
 * stdout feeding the next one's stdin.  A pipeline is an ordered list of
 * steps (its stages): processes, and at most one relay, the daemon itself,
 * between two of them.  The relay counts and SHA-256s the stream as it
 * passes, with back-pressure (it stops reading while its consumer is not
 * draining), and can verify it against an expected size and hash.
 * Neighbouring processes without the relay between them are joined by a
 * direct pipe.  Each stderr line of each process is handed to a callback;
 * the last process's stdout (a store's {"key": ...} or a plugin's info
 * JSON) is collected.
 *
 * Used for: backup ([target backup, RELAY, store store]), restore ([store
 * retrieve, RELAY, target restore]), and single commands ([purge],
 * [validate], [info]); a codec stage on either side of the relay fits in
 * the same list.
 *
 * The stream's guarantee, for every link: a process sees end-of-input only
 * if every process before it exited 0 having read all of its own input
 * (and, across the relay, the stream matched what was expected).  On any
 * failure the whole group (every stage is in one process group) is
 * terminated while the stdins are still held open.  Every reader must read
 * its whole input; one that leaves having read all there was before its
 * end-of-input came is judged once its writer is.
 *
 * Descriptors: the daemon owns every parent end.  For the relay, the
 * producer's stdout and the consumer's stdin.  For a direct pipe, a copy of
 * the read end, closed when the reader exits (what it left unread is
 * measured first; a writer still writing then gets EPIPE), and a copy of
 * the write end, closed once the writer exited 0 having read all of its
 * input with nothing failed, so that until then the reader cannot see
 * end-of-input whatever the writer does; after a failure it is closed only
 * once every process has exited, the group being killed first.  Each
 * process's stderr; the last process's stdout.  The first process's stdin
 * is /dev/null unless the pipeline has no relay and opts->input is set.
 * Processes get only their three standard streams.
 *
 * Ownership: the pipeline belongs to the caller; it copies what it needs of
 * the steps, which need not outlive the call.  The done callback runs
 * exactly once, after every process has exited and every pipe reached EOF;
 * free the pipeline with pipeline_free() after that callback has returned
 * (it is safe to call pipeline_free() from inside the done callback: the
 * pipeline defers its own release to a later loop turn).
 */
#ifndef SHIELD_PIPELINE_H
#define SHIELD_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

struct child_set;
struct pipeline;

#define PIPELINE_OUTPUT_MAX	(1024 * 1024)	/* last stdout's cap */

/* A process to run. */
struct pipeline_stage {
	const char	 *name;		/* plugin short name, for log lines */
	const char	 *path;		/* executable */
	const char *const *argv;	/* NULL-terminated */
	const char *const *env;		/* extra environment or NULL */
};

enum pipeline_kind {
	PIPELINE_PROCESS,	/* a plugin process */
	PIPELINE_RELAY,		/* the daemon's relay */
};

/* One step of a pipeline: a process, or the relay (proc is NULL). */
struct pipeline_step {
	enum pipeline_kind		 kind;
	const struct pipeline_stage	*proc;
};

struct pipeline_opts {
	int		 timeout_s;	/* whole run; 0 = none */
	int		 idle_s;	/* no stream bytes and no stderr; 0 = none */
	/*
	 * Restore verification: if expect_sha256 is set, the stream through
	 * the relay must have exactly expect_bytes bytes with that SHA-256.
	 * The last chunk is held back until the producer's EOF, so on a
	 * mismatch the consumer is terminated without ever seeing
	 * end-of-input.  Ignored without a relay.
	 */
	const char	*expect_sha256;
	int64_t		 expect_bytes;
	/* Bytes to write to the first process's stdin; ignored with a relay. */
	const char	*input;
};

struct pipeline_result {
	/* waitpid status of the first process, -1 if it is the only one */
	int		 producer_status;
	int		 consumer_status;	/* of the last process */
	int64_t		 bytes;		/* bytes through the relay (0: none) */
	char		 sha256[65];	/* hex SHA-256 of those bytes */
	const char	*output;	/* last stdout, NUL-terminated */
	size_t		 output_len;
	/*
	 * NULL when every process exited 0 and nothing went wrong; else one
	 * line saying why: "canceled", "timed out after 30s", "no output
	 * for 60s", "fs exited with status 2", "fs killed by signal 9",
	 * "checksum mismatch: ...", "output over 1 MiB", ...
	 */
	const char	*failure;
	/* Each step's waitpid status, in the caller's order (relay: -1). */
	const int	*status;
	size_t		 nstages;
};

struct pipeline_cbs {
	/* A stderr line (without newline) from the named stage. */
	void	(*line)(const char *stage, const char *line, void *arg);
	/* Progress: total bytes relayed so far (called at most ~1/s). */
	void	(*progress)(int64_t bytes, void *arg);
	void	(*done)(struct pipeline *, const struct pipeline_result *,
		    void *arg);
};

/*
 * Start the n steps, e.g. { { PIPELINE_PROCESS, &backup }, { PIPELINE_RELAY,
 * NULL }, { PIPELINE_PROCESS, &store } }.  Returns NULL with *errp set
 * (caller frees) if the list is not a pipeline (no process; a relay first,
 * last or twice) or a process could not be started; then no callback will
 * run and nothing is left running.
 */
struct pipeline	*pipeline_run(struct child_set *,
		    const struct pipeline_step *steps, size_t n,
		    const struct pipeline_opts *, const struct pipeline_cbs *,
		    void *arg, char **errp);
/* pipeline_run() of [producer, RELAY, consumer], or [consumer] alone. */
struct pipeline	*pipeline_start(struct child_set *,
		    const struct pipeline_stage *producer,
		    const struct pipeline_stage *consumer,
		    const struct pipeline_opts *, const struct pipeline_cbs *,
		    void *arg, char **errp);
/* TERM then KILL every process; done follows with failure "canceled". */
void		 pipeline_cancel(struct pipeline *);
/* Bytes through the relay so far. */
int64_t		 pipeline_bytes(struct pipeline *);
void		 pipeline_free(struct pipeline *);

#endif
