/*
 * child: the only module that creates processes.  It forks and execs plugin
 * executables without a shell, each in a process group, and reports their
 * exit through the event loop (SIGCHLD is a libevent signal event; reaping is
 * waitpid(-1, WNOHANG) in a loop).  An exec failure (missing or
 * non-executable plugin) is reported by child_spawn() itself through a
 * close-on-exec pipe, never as a mysterious exit 127.
 *
 * Ownership: a struct child_set belongs to the daemon and outlives all its
 * children.  A struct child belongs to whoever spawned it; free it with
 * child_free() once its exit callback has run (never from inside it: free on
 * a later loop turn or after the callback returns).
 */
#ifndef SHIELD_CHILD_H
#define SHIELD_CHILD_H

#include <sys/types.h>

struct event_base;
struct child_set;
struct child;

/* Values for child_spec.in/out/err besides a file descriptor >= 0. */
#define CHILD_NULL	(-1)	/* connect to /dev/null */
#define CHILD_PIPE	(-2)	/* make a pipe; the parent end comes back */

/*
 * A child's environment is the daemon's less every SHIELD_* variable (the
 * daemon's own, such as SHIELD_ADMIN_PASSWORD), plus the extra entries.
 */
struct child_spec {
	const char	 *path;		/* executable; no PATH search, no shell */
	const char *const *argv;	/* NULL-terminated; argv[0] for display */
	const char *const *env;		/* extra "NAME=value" entries or NULL */
	/*
	 * For each standard descriptor: CHILD_NULL, CHILD_PIPE, or a
	 * descriptor the child gets as that stream (the caller keeps and
	 * closes its own copy).  With CHILD_PIPE, child_spawn() replaces the
	 * value with the parent's end of the pipe: non-blocking, close-on-
	 * exec, owned by the caller.
	 */
	int		  in;
	int		  out;
	int		  err;
	/* 0: the child leads a new process group; else join this group. */
	pid_t		  pgid;
};

/* Called once when the child has exited; status as from waitpid(). */
typedef void (*child_exit_cb)(struct child *, int status, void *arg);

struct child_set	*child_set_new(struct event_base *);
/* Kills (SIGKILL) any children still running, then frees. */
void			 child_set_free(struct child_set *);
/* How many children have not yet been reaped. */
int			 child_set_count(struct child_set *);
/* The loop the set was created on (for its owners' own events). */
struct event_base	*child_set_base(struct child_set *);

/*
 * Start a process.  On failure (including exec failure) returns NULL with
 * *errp set to a one-line reason the caller frees, e.g.
 * "cannot run /x/fs: No such file or directory".
 */
struct child	*child_spawn(struct child_set *, struct child_spec *,
		    child_exit_cb, void *arg, char **errp);
pid_t		 child_pid(struct child *);
pid_t		 child_pgid(struct child *);
int		 child_exited(struct child *);
/* Send a signal to the child's whole process group. */
void		 child_signal(struct child *, int sig);
/*
 * SIGTERM to the process group now, SIGKILL after grace_ms if it has not
 * exited by then.
 */
void		 child_terminate(struct child *, int grace_ms);
/* Free; if the child still runs, it is killed (SIGKILL) and reaped later. */
void		 child_free(struct child *);
/*
 * Remove a variable from the daemon's own environment, overwriting its
 * value where /proc/<pid>/environ would still show it.
 */
void		 child_env_forget(const char *name);

#endif
