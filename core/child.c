/*
 * Process creation and reaping.  child_spawn() does every allocation before
 * fork(), then the child puts itself in its process group, resets signals,
 * arranges its three standard descriptors, closes everything else and execs.
 * An exec failure travels back through a close-on-exec pipe, so the parent
 * knows before child_spawn() returns whether the program started.  Exits are
 * reaped by a SIGCHLD event on the loop and dispatched to each child's
 * callback; a child freed while still running is killed and stays in the set
 * until it is reaped, so no zombie is left behind.
 */
#include <sys/types.h>
#include <sys/queue.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "child.h"
#include "log.h"
#include "xmalloc.h"

/* Pipe capacity asked for; the kernel may refuse, which is harmless. */
#define CHILD_PIPE_SIZE	(1024 * 1024)
/* The daemon's own variables, never passed on (see child_env()). */
#define CHILD_ENV_PRIVATE	"SHIELD_"

struct child {
	struct child_set	*set;
	pid_t			 pid;
	pid_t			 pgid;
	int			 status;
	int			 exited;	/* reaped */
	int			 freed;		/* owner called child_free() */
	int			 in_cb;		/* exit callback is running */

	child_exit_cb		 cb;
	void			*arg;

	struct event		 kill_timer;	/* SIGKILL after the grace */
	LIST_ENTRY(child)	 entry;		/* in set while not reaped */
};
LIST_HEAD(child_list, child);

struct child_set {
	struct event_base	*base;
	struct event		 sigchld;
	struct child_list	 children;
	int			 count;
};

extern char **environ;

static void	child_set_sigchld_cb(int, short, void *);
static void	child_kill_cb(int, short, void *);

/* Create the set and start listening for SIGCHLD. */
struct child_set *
child_set_new(struct event_base *base)
{
	struct child_set *set;

	set = xcalloc(1, sizeof *set);
	set->base = base;
	LIST_INIT(&set->children);
	evsignal_assign(&set->sigchld, base, SIGCHLD, child_set_sigchld_cb,
	    set);
	if (evsignal_add(&set->sigchld, NULL) != 0)
		fatal("cannot watch SIGCHLD");
	return set;
}

/*
 * Kill and reap every child still running, then free the set.  The wait
 * blocks, but only for processes that were just sent SIGKILL.  Children the
 * owner has not freed yet are detached; child_free() then only frees them.
 */
void
child_set_free(struct child_set *set)
{
	struct child *c;
	int status;

	if (set == NULL)
		return;
	evsignal_del(&set->sigchld);
	while ((c = LIST_FIRST(&set->children)) != NULL) {
		LIST_REMOVE(c, entry);
		evtimer_del(&c->kill_timer);
		if (kill(-c->pgid, SIGKILL) != 0)
			kill(c->pid, SIGKILL);
		while (waitpid(c->pid, &status, 0) == -1 && errno == EINTR)
			;
		c->exited = 1;
		c->status = status;
		c->set = NULL;
		if (c->freed)
			free(c);
	}
	free(set);
}

/* How many children have not been reaped yet. */
int
child_set_count(struct child_set *set)
{
	return set->count;
}

/* The loop the set was created on. */
struct event_base *
child_set_base(struct child_set *set)
{
	return set->base;
}

/* Record one reaped child and tell its owner. */
static void
child_set_reaped(struct child_set *set, pid_t pid, int status)
{
	struct child *c;

	LIST_FOREACH(c, &set->children, entry) {
		if (c->pid == pid)
			break;
	}
	if (c == NULL)
		return;		/* not ours: reaping it is all we do */
	LIST_REMOVE(c, entry);
	set->count--;
	evtimer_del(&c->kill_timer);
	c->exited = 1;
	c->status = status;
	if (c->freed) {
		free(c);
		return;
	}
	if (c->cb == NULL)
		return;
	/*
	 * The callback may call child_free(); in_cb turns that into a mark,
	 * and the child is released here once the callback has returned.
	 */
	c->in_cb = 1;
	c->cb(c, status, c->arg);
	c->in_cb = 0;
	if (c->freed)
		free(c);
}

/* SIGCHLD arrived on the loop: reap every child that has exited. */
static void
child_set_sigchld_cb(int sig, short events, void *arg)
{
	struct child_set *set = arg;
	pid_t pid;
	int status;

	for (;;) {
		pid = waitpid(-1, &status, WNOHANG);
		if (pid == -1 && errno == EINTR)
			continue;
		if (pid <= 0)
			break;
		child_set_reaped(set, pid, status);
	}
}

/* The grace period ended and the child still runs: kill its group. */
static void
child_kill_cb(int fd, short events, void *arg)
{
	struct child *c = arg;

	if (!c->exited)
		child_signal(c, SIGKILL);
}

/*
 * The environment for the child: ours without the SHIELD_* variables, with
 * each extra "NAME=value" entry replacing any entry of the same name.  The
 * SHIELD_* variables are the daemon's (SHIELD_ADMIN_PASSWORD, SHIELD_MODE)
 * or the CLI's (SHIELD_TOKEN, ...) when shieldd was started from a shell
 * that had them; no plugin needs one, and a plugin that prints its
 * environment must not show them.  Only the array is allocated.
 */
static char **
child_env(const char *const *extra)
{
	char **envp;
	size_t n = 0, nextra = 0, i, j, len;
	int replaced;

	while (environ[n] != NULL)
		n++;
	while (extra != NULL && extra[nextra] != NULL)
		nextra++;
	envp = xreallocarray(NULL, n + nextra + 1, sizeof *envp);
	n = 0;
	for (i = 0; environ[i] != NULL; i++) {
		if (strncmp(environ[i], CHILD_ENV_PRIVATE,
		    sizeof CHILD_ENV_PRIVATE - 1) == 0)
			continue;
		replaced = 0;
		for (j = 0; j < nextra; j++) {
			len = strcspn(extra[j], "=");
			if (strncmp(environ[i], extra[j], len) == 0 &&
			    environ[i][len] == '=') {
				replaced = 1;
				break;
			}
		}
		if (!replaced)
			envp[n++] = environ[i];
	}
	for (j = 0; j < nextra; j++)
		envp[n++] = (char *)extra[j];
	envp[n] = NULL;
	return envp;
}

/* Where the environment given to us at exec lies, from /proc/self/stat. */
static int
child_env_area(uintptr_t *start, uintptr_t *end)
{
	char buf[4096], *p;
	unsigned long long s, e;
	size_t n;
	FILE *f;
	int field;

	if ((f = fopen("/proc/self/stat", "re")) == NULL)
		return -1;
	n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* The command name may hold spaces and ')': skip to its end. */
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	/* Fields 50 and 51 (proc(5)), counting the name as field 2. */
	for (field = 2; field < 50 && p != NULL; field++)
		p = strchr(p + 1, ' ');
	if (p == NULL || sscanf(p, " %llu %llu", &s, &e) != 2 || s >= e)
		return -1;
	*start = (uintptr_t)s;
	*end = (uintptr_t)e;
	return 0;
}

/* Remove a variable from our environment and from what /proc shows. */
void
child_env_forget(const char *name)
{
	uintptr_t start, end;
	char *v;

	if ((v = getenv(name)) == NULL)
		return;
	/*
	 * unsetenv() leaves the text where the kernel put it at exec, and
	 * /proc/<pid>/environ goes on showing it to anyone who may read it
	 * (plugins run as our user): overwrite it there.  Text that setenv()
	 * allocated is not shown there, and belongs to libc: leave it be.
	 */
	if (child_env_area(&start, &end) == 0 && (uintptr_t)v >= start &&
	    (uintptr_t)v < end)
		explicit_bzero(v, strlen(v));
	unsetenv(name);
}

/* Close every descriptor from 3 up except keep; the slow way is a fallback. */
static void
child_close_from(int keep)
{
	DIR *d;
	struct dirent *de;
	int fd, ok;

	ok = 1;
	if (keep > 3 && close_range(3, keep - 1, 0) != 0)
		ok = 0;
	if (ok && close_range(keep + 1, ~0U, 0) == 0)
		return;

	/* No close_range(2): walk /proc/self/fd (allocating is fine here). */
	if ((d = opendir("/proc/self/fd")) == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		fd = atoi(de->d_name);
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		if (fd >= 3 && fd != keep && fd != dirfd(d))
			close(fd);
	}
	closedir(d);
}

/*
 * glibc keeps two real-time signals (32, 33) for itself and refuses to
 * change them through sigaction(); if our own parent left them ignored, the
 * plugin would inherit that.  Reset them with the system call itself (a
 * zeroed kernel sigaction is SIG_DFL, no flags, empty mask).
 */
static void
child_signal_default_raw(int sig)
{
	struct {
		void		*handler;
		unsigned long	 flags;
		void		*restorer;
		unsigned long	 mask;
	} k;

	memset(&k, 0, sizeof k);
	syscall(SYS_rt_sigaction, sig, &k, NULL, sizeof k.mask);
}

/*
 * In the child after fork(): become the process it is meant to be, or
 * report errno through errfd and exit.  Only system calls from here on.
 */
static void __attribute__((noreturn))
child_exec(const struct child_spec *spec, pid_t pgid, int src[3], int errfd,
    char **envp, pid_t parent)
{
	struct sigaction sa;
	sigset_t none;
	int i, e;

	setpgid(0, pgid);
	/*
	 * If the daemon dies (even by SIGKILL), its plugins are stopped
	 * rather than left to stream on unsupervised.  SIGTERM, not SIGKILL,
	 * so that a store can remove its partial blob (the protocol asks
	 * plugins to clean up on TERM).  A parent already gone before this
	 * point is caught by the getppid() check.
	 */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) == -1 || getppid() != parent)
		_exit(127);

	/*
	 * Ignored signals stay ignored across exec (the daemon ignores
	 * SIGPIPE), and handled ones would run the daemon's handlers until
	 * exec; put everything back to default, then unblock (the parent
	 * blocked all signals around fork()).
	 */
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (i = 1; i < NSIG; i++) {
		if (sigaction(i, &sa, NULL) == -1 && i < SIGRTMIN)
			child_signal_default_raw(i);
	}
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	/* Lift low descriptors out of the way before the dup2() calls. */
	if (errfd < 3)
		errfd = fcntl(errfd, F_DUPFD_CLOEXEC, 3);
	for (i = 0; i < 3; i++) {
		if (src[i] < 3 && src[i] != i)
			src[i] = fcntl(src[i], F_DUPFD_CLOEXEC, 3);
		if (src[i] == -1)
			goto fail;
	}
	for (i = 0; i < 3; i++) {
		if (src[i] == i) {
			if (fcntl(i, F_SETFD, 0) == -1)
				goto fail;
		} else if (dup2(src[i], i) == -1)
			goto fail;
	}
	child_close_from(errfd);

	execve(spec->path, (char *const *)spec->argv, envp);
fail:
	e = errno;
	while (write(errfd, &e, sizeof e) == -1 && errno == EINTR)
		;
	_exit(127);
}

/* Make one pipe for a standard stream; *child_end is the child's side. */
static int
child_pipe(int stream, int *parent_end, int *child_end)
{
	int p[2], flags;

	if (pipe2(p, O_CLOEXEC) != 0)
		return -1;
	/* Bigger pipes mean fewer wakeups while a backup streams. */
	fcntl(p[0], F_SETPIPE_SZ, CHILD_PIPE_SIZE);
	if (stream == 0) {
		*child_end = p[0];
		*parent_end = p[1];
	} else {
		*child_end = p[1];
		*parent_end = p[0];
	}
	flags = fcntl(*parent_end, F_GETFL);
	if (flags == -1 || fcntl(*parent_end, F_SETFL, flags | O_NONBLOCK)) {
		close(p[0]);
		close(p[1]);
		return -1;
	}
	return 0;
}

/* Start a process; NULL with *errp set if it could not be run. */
struct child *
child_spawn(struct child_set *set, struct child_spec *spec, child_exit_cb cb,
    void *arg, char **errp)
{
	struct child *c;
	int *want[3] = { &spec->in, &spec->out, &spec->err };
	int src[3] = { -1, -1, -1 }, parent[3] = { -1, -1, -1 };
	int errp_fd[2] = { -1, -1 }, devnull = -1, i, e = 0, status;
	char **envp;
	const char *what = NULL;
	sigset_t all, old;
	ssize_t n;
	pid_t pid, self;

	*errp = NULL;
	c = xcalloc(1, sizeof *c);
	envp = child_env(spec->env);

	for (i = 0; i < 3; i++) {
		if (*want[i] >= 0)
			src[i] = *want[i];
		else if (*want[i] == CHILD_PIPE) {
			if (child_pipe(i, &parent[i], &src[i]) != 0) {
				what = "pipe";
				goto fail;
			}
		} else if (*want[i] == CHILD_NULL) {
			if (devnull == -1 && (devnull = open("/dev/null",
			    O_RDWR | O_CLOEXEC)) == -1) {
				what = "/dev/null";
				goto fail;
			}
			src[i] = devnull;
		} else {
			errno = EINVAL;
			what = "descriptor";
			goto fail;
		}
	}
	if (pipe2(errp_fd, O_CLOEXEC) != 0) {
		what = "pipe";
		goto fail;
	}

	/* No signal handler may run in the child before it is reset. */
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	self = getpid();
	pid = fork();
	if (pid == 0) {
		close(errp_fd[0]);
		child_exec(spec, spec->pgid, src, errp_fd[1], envp, self);
	}
	e = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid == -1) {
		errno = e;
		what = "fork";
		goto fail;
	}
	/* Both sides call setpgid() so the group exists once we return. */
	setpgid(pid, spec->pgid != 0 ? spec->pgid : pid);

	close(errp_fd[1]);
	errp_fd[1] = -1;
	for (i = 0; i < 3; i++) {
		if (*want[i] == CHILD_PIPE) {
			close(src[i]);
			src[i] = -1;
		}
	}
	if (devnull != -1) {
		close(devnull);
		devnull = -1;
	}

	/* EOF means exec succeeded; an int is the errno it failed with. */
	do
		n = read(errp_fd[0], &e, sizeof e);
	while (n == -1 && errno == EINTR);
	close(errp_fd[0]);
	errp_fd[0] = -1;
	if (n == sizeof e) {
		while (waitpid(pid, &status, 0) == -1 && errno == EINTR)
			;
		errno = e;
		goto fail;
	}

	c->set = set;
	c->pid = pid;
	c->pgid = spec->pgid != 0 ? spec->pgid : pid;
	c->cb = cb;
	c->arg = arg;
	evtimer_assign(&c->kill_timer, set->base, child_kill_cb, c);
	LIST_INSERT_HEAD(&set->children, c, entry);
	set->count++;
	for (i = 0; i < 3; i++) {
		if (*want[i] == CHILD_PIPE)
			*want[i] = parent[i];
	}
	free(envp);
	log_debug("started %s as pid %ld", spec->path, (long)pid);
	return c;

fail:
	e = errno;
	if (what != NULL)
		xasprintf(errp, "cannot run %s: %s: %s", spec->path, what,
		    strerror(e));
	else
		xasprintf(errp, "cannot run %s: %s", spec->path, strerror(e));
	for (i = 0; i < 3; i++) {
		if (*want[i] == CHILD_PIPE && src[i] != -1)
			close(src[i]);
		if (parent[i] != -1)
			close(parent[i]);
	}
	if (devnull != -1)
		close(devnull);
	if (errp_fd[0] != -1)
		close(errp_fd[0]);
	if (errp_fd[1] != -1)
		close(errp_fd[1]);
	free(envp);
	free(c);
	return NULL;
}

/* The child's process id. */
pid_t
child_pid(struct child *c)
{
	return c->pid;
}

/* The child's process group. */
pid_t
child_pgid(struct child *c)
{
	return c->pgid;
}

/* 1 once the child has been reaped. */
int
child_exited(struct child *c)
{
	return c->exited;
}

/*
 * Signal the whole process group.  It is sent even after the child itself
 * exited: helpers it started may still hold its pipes.
 */
void
child_signal(struct child *c, int sig)
{
	if (kill(-c->pgid, sig) != 0 && errno == ESRCH && !c->exited)
		kill(c->pid, sig);
}

/* SIGTERM the group now and SIGKILL it after grace_ms. */
void
child_terminate(struct child *c, int grace_ms)
{
	struct timeval tv;

	if (c->exited)
		return;
	child_signal(c, SIGTERM);
	tv.tv_sec = grace_ms / 1000;
	tv.tv_usec = (grace_ms % 1000) * 1000;
	evtimer_add(&c->kill_timer, &tv);
}

/*
 * Free the child.  A running child is killed and left in the set without
 * its callback, so it is still reaped; inside the exit callback the release
 * waits until the callback returns.
 */
void
child_free(struct child *c)
{
	if (c == NULL)
		return;
	if (c->in_cb) {
		c->freed = 1;
		return;
	}
	if (!c->exited) {
		evtimer_del(&c->kill_timer);
		child_signal(c, SIGKILL);
		c->cb = NULL;
		c->freed = 1;
		return;
	}
	free(c);
}
