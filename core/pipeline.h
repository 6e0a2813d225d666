/*
 * pipeline: run one plugin process, or two joined through the daemon
 * ("producer | shieldd | consumer"), on the event loop.  The daemon sits in
 * the middle so it can count and SHA-256 the stream as it passes, with
 * back-pressure (it stops reading while the consumer is not draining).  Each
 * stderr line of each process is handed to a callback; the consumer's stdout
 * (a store's {"key": ...} or a plugin's info JSON) is collected.
 *
 * Used for: backup (target backup | store store), restore (store retrieve |
 * target restore), and single commands (purge, validate, info) with no
 * producer.
 *
 * Ownership: the pipeline belongs to the caller; the done callback runs
 * exactly once, after every process has exited and every pipe reached EOF;
 * free the pipeline with pipeline_free() after that callback has returned
 * (it is safe to call pipeline_free() from inside the done callback: the
 * pipeline defers its own release to a later loop turn).
 */
#ifndef SHIELD_PIPELINE_H
#define SHIELD_PIPELINE_H

#include <stdint.h>

struct child_set;
struct pipeline;

#define PIPELINE_OUTPUT_MAX	(1024 * 1024)	/* consumer stdout cap */

struct pipeline_stage {
	const char	 *name;		/* plugin short name, for log lines */
	const char	 *path;		/* executable */
	const char *const *argv;	/* NULL-terminated */
	const char *const *env;		/* extra environment or NULL */
};

struct pipeline_opts {
	int		 timeout_s;	/* whole run; 0 = none */
	int		 idle_s;	/* no stream bytes and no stderr; 0 = none */
	/*
	 * Restore verification: if expect_sha256 is set, the stream must
	 * have exactly expect_bytes bytes with that SHA-256.  The last chunk
	 * is held back until the producer's EOF, so on a mismatch the
	 * consumer is terminated without ever seeing end-of-input.
	 */
	const char	*expect_sha256;
	int64_t		 expect_bytes;
	/* Bytes to write to the consumer's stdin when there is no producer. */
	const char	*input;
};

struct pipeline_result {
	int		 producer_status;	/* waitpid status, -1 if none */
	int		 consumer_status;
	int64_t		 bytes;		/* bytes relayed producer -> consumer */
	char		 sha256[65];	/* hex SHA-256 of those bytes */
	const char	*output;	/* consumer stdout, NUL-terminated */
	size_t		 output_len;
	/*
	 * NULL when every process exited 0 and nothing went wrong; else one
	 * line saying why: "canceled", "timed out after 30s", "no output
	 * for 60s", "fs exited with status 2", "fs killed by signal 9",
	 * "checksum mismatch: ...", "output over 1 MiB", ...
	 */
	const char	*failure;
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
 * Start.  producer may be NULL (single command).  Returns NULL with *errp
 * set (caller frees) if a process could not be started; then no callback
 * will run and nothing is left running.
 */
struct pipeline	*pipeline_start(struct child_set *,
		    const struct pipeline_stage *producer,
		    const struct pipeline_stage *consumer,
		    const struct pipeline_opts *, const struct pipeline_cbs *,
		    void *arg, char **errp);
/* TERM then KILL every process; done follows with failure "canceled". */
void		 pipeline_cancel(struct pipeline *);
int64_t		 pipeline_bytes(struct pipeline *);
void		 pipeline_free(struct pipeline *);

#endif
