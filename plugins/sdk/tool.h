/*
 * Running the native client tool of a data system (pg_dump, mariadb-dump,
 * psql, ...) from a plugin: finding the program, running it with its stderr
 * captured into an unlinked temporary file, and forwarding the end of that
 * text to our stderr, each line cut short and a secret masked, so that the
 * plugin can add one summary line of its own from the same text.
 *
 * Ownership: tool_find() returns a string the caller frees.  Descriptors
 * from tool_tmpfile() and tool_tmpfile_path() belong to the caller, who
 * closes them (and unlinks the path of the latter).  tool_capture_begin()
 * returns a pid and a stderr descriptor that exactly one tool_capture_end()
 * must take back: it waits for the pid and closes the descriptor.  Every
 * text buffer is the caller's.  A secret handed to these functions is never
 * printed; whatever else a tool wrote may be.
 */
#ifndef SHIELD_TOOL_H
#define SHIELD_TOOL_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

/* How much of a tool's stderr is forwarded: the last lines, each cut short. */
#define TOOL_TAIL_LINES		20
#define TOOL_TAIL_WIDTH		300
/* Shorter secrets are left unmasked: they would hide half of every line. */
#define TOOL_SECRET_MIN		3
/* What replaces a secret in forwarded text. */
#define TOOL_SECRET_MASK	"********"

/* 1 if dir/name is an executable file. */
int	 tool_in_dir(const char *dir, const char *name);
/* 1 if name is an executable file in a directory of PATH. */
int	 tool_in_path(const char *name);
/*
 * The program to run for a tool known by one or more names, the preferred
 * first, NULL-terminated.  With bindir: bindir/<the first name there>.
 * Without: the first name in PATH, as a bare name, then the first name in
 * the directories matching the glob pattern fallback (may be NULL), newest
 * version first, as a full path.  When no name is found: the first one
 * (under bindir when given), so that running it reports what is missing.
 * Returns a string the caller frees, or NULL when out of memory.
 */
char	*tool_find(const char *bindir, const char *fallback, const char *name,
	    ...) __attribute__((sentinel));

/*
 * Create a temporary file, mode 0600 and close-on-exec, under $TMPDIR (or
 * /tmp) with a name made from prefix, which is left in path.  Returns the
 * descriptor, or -1 with errno set (nothing is reported).
 */
int	 tool_tmpfile_path(char *path, size_t size, const char *prefix);
/* An unlinked temporary file, close-on-exec, or -1 (reported). */
int	 tool_tmpfile(void);
/* Read up to size-1 bytes from the end of fd into buf, NUL-terminated. */
void	 tool_tail_read(int fd, char *buf, size_t size);
/*
 * Print the last lines of text on fp, each cut to TOOL_TAIL_WIDTH bytes
 * (followed by "...", never inside a UTF-8 sequence) and with every
 * occurrence of secret (may be NULL) replaced by TOOL_SECRET_MASK.
 */
void	 tool_print_tail(FILE *fp, const char *text, int lines,
	    const char *secret);
/*
 * A copy of the len bytes of text, NUL-terminated, with every occurrence of
 * each secret (a NULL-terminated list, may be NULL; secrets shorter than
 * min are left alone) hidden, each found in the text as given.  With
 * TOOL_REDACT_FIXED each hidden stretch becomes TOOL_SECRET_MASK, which
 * does not tell a secret's length, otherwise each hidden byte a '*'; with
 * TOOL_REDACT_OVERLAP occurrences of a secret that overlap each other are
 * found too, otherwise the search goes on from the end of the last one.
 * The caller frees it; NULL when out of memory.  (shieldd and shield-agent
 * have the same in redact_text(); plugins never link the daemon's code.)
 */
#define TOOL_REDACT_FIXED	0x1
#define TOOL_REDACT_OVERLAP	0x2
char	*tool_redact(const char *text, size_t len, const char *const *secrets,
	    size_t min, int flags);
/*
 * tool_redact() as plugins mask: secrets shorter than TOOL_SECRET_MIN left
 * alone, overlapping or adjacent ones replaced by a single
 * TOOL_SECRET_MASK.
 */
char	*tool_mask(const char *text, size_t len, const char *const *secrets);
/* Write all of buf to fd; -1 on error, reported unless the reader is gone. */
int	 tool_write_all(int fd, const void *buf, size_t len);

/*
 * Start argv (see plugin_spawn()) with in/out as its stdin/stdout and its
 * stderr going to a fresh unlinked temporary file, returned in *efd.
 * Returns the pid, or -1 (reported; *efd is then not open).
 */
pid_t	 tool_capture_begin(const char *const *argv, int in, int out,
	    int *efd);
/*
 * Wait for a tool from tool_capture_begin(), close efd after putting the
 * tail of the tool's stderr in err, and forward that tail to our stderr
 * through tool_print_tail() with secret masked.  what names the tool in
 * messages.  Returns what plugin_wait() does.
 */
int	 tool_capture_end(pid_t pid, int efd, const char *what,
	    const char *secret, char *err, size_t errsz);
/* Run a tool to completion: tool_capture_begin(), then _end(). */
int	 tool_capture_run(const char *const *argv, int in, int out,
	    const char *secret, char *err, size_t errsz);

/* 1 if a status and captured stderr say the tool could not be started. */
int	 tool_not_started(int status, const char *err);
/* Report a tool's failure by its status alone: a signal or an exit code. */
void	 tool_report_status(const char *what, int status);

#endif
