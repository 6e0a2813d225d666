/*
 * Tests for core/child.c with real processes on a real event loop: exit
 * statuses, exec failures reported by child_spawn() itself, the environment,
 * descriptors, process groups, TERM-then-KILL and freeing at awkward times.
 */
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "child.h"

struct fixture {
	struct event_base	*base;
	struct child_set	*set;
};

struct exit_rec {
	int		 called;
	int		 status;
	int		 free_inside;	/* child_free() from the callback */
};

/* Give every test a fresh loop and child set. */
static int
setup(void **state)
{
	struct fixture *f;

	signal(SIGPIPE, SIG_IGN);
	f = calloc(1, sizeof *f);
	f->base = event_base_new();
	f->set = child_set_new(f->base);
	*state = f;
	return 0;
}

/* Free the set (which reaps what is left) and the loop. */
static int
teardown(void **state)
{
	struct fixture *f = *state;

	child_set_free(f->set);
	event_base_free(f->base);
	free(f);
	return 0;
}

/* Record an exit; optionally free the child from inside the callback. */
static void
test_exit_cb(struct child *c, int status, void *arg)
{
	struct exit_rec *r = arg;

	r->called++;
	r->status = status;
	if (r->free_inside)
		child_free(c);
}

/* Time since start in seconds. */
static double
elapsed(const struct timeval *start)
{
	struct timeval now;

	gettimeofday(&now, NULL);
	return (now.tv_sec - start->tv_sec) +
	    (now.tv_usec - start->tv_usec) / 1e6;
}

/* Run the loop until *flag is set or seconds pass. */
static void
run_until(struct fixture *f, int *flag, double seconds)
{
	struct timeval start;

	gettimeofday(&start, NULL);
	while (!*flag && elapsed(&start) < seconds) {
		struct timeval tv = { 0, 50000 };

		event_base_loopexit(f->base, &tv);
		event_base_dispatch(f->base);
	}
}

/* Run the loop until the set has no children or seconds pass. */
static void
run_until_reaped(struct fixture *f, double seconds)
{
	struct timeval start;

	gettimeofday(&start, NULL);
	while (child_set_count(f->set) > 0 && elapsed(&start) < seconds) {
		struct timeval tv = { 0, 50000 };

		event_base_loopexit(f->base, &tv);
		event_base_dispatch(f->base);
	}
}

/* Spawn /bin/sh -c script with the given streams. */
static struct child *
spawn_sh(struct fixture *f, const char *script, struct child_spec *spec,
    struct exit_rec *r, char **err)
{
	static const char *argv[4];

	argv[0] = "sh";
	argv[1] = "-c";
	argv[2] = script;
	argv[3] = NULL;
	spec->path = "/bin/sh";
	spec->argv = argv;
	return child_spawn(f->set, spec, test_exit_cb, r, err);
}

/* Read a non-blocking pipe until EOF (waiting with poll). */
static char *
read_all(int fd)
{
	static char buf[65536];
	struct pollfd pfd = { fd, POLLIN, 0 };
	size_t len = 0;
	ssize_t n;

	for (;;) {
		if (poll(&pfd, 1, 10000) <= 0)
			break;
		n = read(fd, buf + len, sizeof buf - 1 - len);
		if (n == -1 && errno == EAGAIN)
			continue;
		if (n <= 0)
			break;
		len += n;
	}
	buf[len] = '\0';
	return buf;
}

/* 1 if pid is gone (or a zombie waiting for init). */
static int
pid_gone(pid_t pid)
{
	char path[64], buf[256], *p;
	FILE *fp;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return 1;
	if (fgets(buf, sizeof buf, fp) == NULL) {
		fclose(fp);
		return 1;
	}
	fclose(fp);
	p = strrchr(buf, ')');
	return p != NULL && p[1] == ' ' && p[2] == 'Z';
}

/* Exit statuses and signals come back as waitpid() statuses. */
static void
test_child_exit_status(void **state)
{
	struct fixture *f = *state;
	struct child_spec spec;
	struct exit_rec r;
	struct child *c;
	char *err;
	const char *scripts[] = { "exit 0", "exit 1", "exit 7",
	    "kill -9 $$" };
	const int codes[] = { 0, 1, 7 };
	int i;

	for (i = 0; i < 4; i++) {
		memset(&spec, 0, sizeof spec);
		memset(&r, 0, sizeof r);
		spec.in = spec.out = spec.err = CHILD_NULL;
		c = spawn_sh(f, scripts[i], &spec, &r, &err);
		assert_non_null(c);
		assert_null(err);
		assert_true(child_pid(c) > 0);
		assert_int_equal(child_pgid(c), child_pid(c));
		assert_int_equal(getpgid(child_pid(c)), child_pid(c));
		run_until(f, &r.called, 10);
		assert_int_equal(r.called, 1);
		assert_true(child_exited(c));
		if (i < 3) {
			assert_true(WIFEXITED(r.status));
			assert_int_equal(WEXITSTATUS(r.status), codes[i]);
		} else {
			assert_true(WIFSIGNALED(r.status));
			assert_int_equal(WTERMSIG(r.status), SIGKILL);
		}
		child_free(c);
	}
	assert_int_equal(child_set_count(f->set), 0);
}

/* A missing executable fails in child_spawn() with the reason. */
static void
test_child_exec_missing(void **state)
{
	struct fixture *f = *state;
	const char *argv[] = { "nope", NULL };
	struct child_spec spec;
	struct exit_rec r;
	char *err;

	memset(&spec, 0, sizeof spec);
	memset(&r, 0, sizeof r);
	spec.path = "/nonexistent/shield/plugin";
	spec.argv = argv;
	spec.in = spec.out = spec.err = CHILD_PIPE;
	assert_null(child_spawn(f->set, &spec, test_exit_cb, &r, &err));
	assert_non_null(err);
	assert_string_equal(err, "cannot run /nonexistent/shield/plugin: "
	    "No such file or directory");
	free(err);
	/* Nothing is left: no child, no pipe ends handed out. */
	assert_int_equal(child_set_count(f->set), 0);
	assert_int_equal(spec.in, CHILD_PIPE);
	assert_int_equal(r.called, 0);
}

/* A file without execute permission fails the same way. */
static void
test_child_exec_not_executable(void **state)
{
	struct fixture *f = *state;
	char path[] = "/tmp/shield-test-child-XXXXXX";
	const char *argv[] = { "noexec", NULL };
	struct child_spec spec;
	struct exit_rec r;
	char *err, want[256];
	int fd;

	fd = mkstemp(path);
	assert_true(fd != -1);
	assert_int_equal(write(fd, "#!/bin/sh\nexit 0\n", 17), 17);
	close(fd);
	chmod(path, 0644);

	memset(&spec, 0, sizeof spec);
	memset(&r, 0, sizeof r);
	spec.path = path;
	spec.argv = argv;
	spec.in = spec.out = spec.err = CHILD_NULL;
	/* Without any x bit even root cannot execute it. */
	assert_null(child_spawn(f->set, &spec, test_exit_cb, &r, &err));
	snprintf(want, sizeof want, "cannot run %s: Permission denied", path);
	assert_string_equal(err, want);
	free(err);
	unlink(path);
	assert_int_equal(child_set_count(f->set), 0);
}

/*
 * Extra environment entries are added and override inherited ones.  (The
 * inherited variable is not a SHIELD_* one: those are never passed on.)
 */
static void
test_child_env(void **state)
{
	struct fixture *f = *state;
	const char *env[] = { "SHIELD_TEST_A=hello world", "HOME=/shield",
	    NULL };
	struct child_spec spec;
	struct exit_rec r;
	struct child *c;
	char *err, *out;

	setenv("CHILD_TEST_KEEP", "kept", 1);
	memset(&spec, 0, sizeof spec);
	memset(&r, 0, sizeof r);
	spec.env = env;
	spec.in = spec.err = CHILD_NULL;
	spec.out = CHILD_PIPE;
	c = spawn_sh(f, "printf '%s|%s|%s|%s' \"$SHIELD_TEST_A\" \"$HOME\" "
	    "\"$CHILD_TEST_KEEP\" \"$(env | grep -c '^HOME=')\"", &spec, &r,
	    &err);
	assert_non_null(c);
	assert_true(spec.out >= 0);
	assert_true(fcntl(spec.out, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(spec.out, F_GETFD) & FD_CLOEXEC);
	out = read_all(spec.out);
	assert_string_equal(out, "hello world|/shield|kept|1");
	close(spec.out);
	run_until(f, &r.called, 10);
	assert_int_equal(WEXITSTATUS(r.status), 0);
	child_free(c);
}

/*
 * The daemon's SHIELD_* variables (its admin password above all) never
 * reach a child; extra entries the caller passes on purpose do, whatever
 * their name.
 */
static void
test_child_env_scrubbed(void **state)
{
	struct fixture *f = *state;
	const char *env[] = { "SHIELD_TEST_A=given", NULL };
	struct child_spec spec;
	struct exit_rec r;
	struct child *c;
	char *err, *out;

	setenv("SHIELD_ADMIN_PASSWORD", "correct horse", 1);
	setenv("SHIELD_TOKEN", "tok", 1);
	setenv("SHIELD_MODE", "DEV", 1);
	setenv("NOT_SHIELD_X", "x", 1);
	memset(&spec, 0, sizeof spec);
	memset(&r, 0, sizeof r);
	spec.env = env;
	spec.in = spec.err = CHILD_NULL;
	spec.out = CHILD_PIPE;
	c = spawn_sh(f, "env | grep -c '^SHIELD_'; env | grep -c "
	    "'correct horse'; printf '%s|%s' \"$SHIELD_TEST_A\" "
	    "\"$NOT_SHIELD_X\"", &spec, &r, &err);
	assert_non_null(c);
	out = read_all(spec.out);
	assert_string_equal(out, "1\n0\ngiven|x");
	close(spec.out);
	run_until(f, &r.called, 10);
	child_free(c);

	/* Forgotten: gone from our environment too. */
	child_env_forget("SHIELD_ADMIN_PASSWORD");
	assert_null(getenv("SHIELD_ADMIN_PASSWORD"));
	child_env_forget("SHIELD_NEVER_SET");
	unsetenv("SHIELD_TOKEN");
	unsetenv("SHIELD_MODE");
	unsetenv("NOT_SHIELD_X");
}

/* The child sees only its three streams, whatever the parent has open. */
static void
test_child_no_leaked_fds(void **state)
{
	struct fixture *f = *state;
	struct child_spec spec;
	struct exit_rec r;
	struct child *c;
	char *err, *out;
	int extra, p[2];

	extra = open("/dev/null", O_RDONLY);	/* no O_CLOEXEC on purpose */
	assert_true(extra >= 0);
	assert_int_equal(pipe(p), 0);
	memset(&spec, 0, sizeof spec);
	memset(&r, 0, sizeof r);
	spec.in = CHILD_NULL;
	spec.out = CHILD_PIPE;
	spec.err = CHILD_PIPE;
	/* ls itself opens one descriptor (3) to read the directory. */
	c = spawn_sh(f, "exec ls /proc/self/fd", &spec, &r, &err);
	assert_non_null(c);
	out = read_all(spec.out);
	assert_string_equal(out, "0\n1\n2\n3\n");
	close(spec.out);
	close(spec.err);
	close(extra);
	close(p[0]);
	close(p[1]);
	run_until(f, &r.called, 10);
	child_free(c);
}

/* A descriptor given for a stream is what the child gets. */
static void
test_child_fd_stream(void **state)
{
	struct fixture *f = *state;
	struct child_spec spec;
	struct exit_rec r;
	struct child *c;
	char *err, *out;
	int in[2];

	assert_int_equal(pipe(in), 0);
	assert_int_equal(write(in[1], "through a pipe", 14), 14);
	close(in[1]);
	memset(&spec, 0, sizeof spec);
	memset(&r, 0, sizeof r);
	spec.in = in[0];
	spec.out = CHILD_PIPE;
	spec.err = CHILD_NULL;
	c = spawn_sh(f, "exec cat", &spec, &r, &err);
	assert_non_null(c);
	assert_int_equal(spec.in, in[0]);	/* caller keeps its copy */
	close(in[0]);
	out = read_all(spec.out);
	assert_string_equal(out, "through a pipe");
	close(spec.out);
	run_until(f, &r.called, 10);
	assert_int_equal(WEXITSTATUS(r.status), 0);
	child_free(c);
}

/* Signals the daemon ignores are back to default in the child. */
static void
test_child_signals_reset(void **state)
{
	struct fixture *f = *state;
	struct child_spec spec;
	struct exit_rec r;
	struct child *c;
	char *err, *out;
	sigset_t block, old;

	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old);
	memset(&spec, 0, sizeof spec);
	memset(&r, 0, sizeof r);
	spec.in = spec.err = CHILD_NULL;
	spec.out = CHILD_PIPE;
	c = spawn_sh(f, "grep -E '^(SigIgn|SigBlk)' /proc/self/status",
	    &spec, &r, &err);
	sigprocmask(SIG_SETMASK, &old, NULL);
	assert_non_null(c);
	out = read_all(spec.out);
	assert_string_equal(out, "SigBlk:\t0000000000000000\n"
	    "SigIgn:\t0000000000000000\n");
	close(spec.out);
	run_until(f, &r.called, 10);
	child_free(c);
}

/* child_terminate() reaches the grandchildren in the group too. */
static void
test_child_group_kill(void **state)
{
	struct fixture *f = *state;
	struct child_spec spec;
	struct exit_rec r;
	struct child *c;
	struct timeval start;
	char *err, *out;
	pid_t grandchild;

	memset(&spec, 0, sizeof spec);
	memset(&r, 0, sizeof r);
	spec.in = spec.err = CHILD_NULL;
	spec.out = CHILD_PIPE;
	c = spawn_sh(f, "sleep 1000 >/dev/null & echo $!; exec >&-; wait",
	    &spec, &r, &err);
	assert_non_null(c);
	out = read_all(spec.out);
	close(spec.out);
	grandchild = (pid_t)atol(out);
	assert_true(grandchild > 0);
	assert_int_equal(getpgid(grandchild), child_pgid(c));

	child_terminate(c, 5000);
	run_until(f, &r.called, 10);
	assert_true(WIFSIGNALED(r.status));
	assert_int_equal(WTERMSIG(r.status), SIGTERM);
	gettimeofday(&start, NULL);
	while (!pid_gone(grandchild) && elapsed(&start) < 5)
		usleep(10000);
	assert_true(pid_gone(grandchild));
	child_free(c);
}

/* A child that ignores SIGTERM is killed when the grace ends. */
static void
test_child_term_then_kill(void **state)
{
	struct fixture *f = *state;
	struct child_spec spec;
	struct exit_rec r;
	struct child *c;
	struct timeval start;
	char *err, *out;

	memset(&spec, 0, sizeof spec);
	memset(&r, 0, sizeof r);
	spec.in = spec.err = CHILD_NULL;
	spec.out = CHILD_PIPE;
	c = spawn_sh(f, "trap '' TERM; echo ready; exec sleep 1000 >&-",
	    &spec, &r, &err);
	assert_non_null(c);
	out = read_all(spec.out);
	close(spec.out);
	assert_string_equal(out, "ready\n");

	gettimeofday(&start, NULL);
	child_terminate(c, 300);
	run_until(f, &r.called, 10);
	assert_int_equal(r.called, 1);
	assert_true(WIFSIGNALED(r.status));
	assert_int_equal(WTERMSIG(r.status), SIGKILL);
	assert_true(elapsed(&start) >= 0.29);
	assert_true(elapsed(&start) < 3);
	child_free(c);
}

/* A child that exits on SIGTERM cancels its kill timer. */
static void
test_child_terminate_quick(void **state)
{
	struct fixture *f = *state;
	struct child_spec spec;
	struct exit_rec r;
	struct child *c;
	char *err;

	memset(&spec, 0, sizeof spec);
	memset(&r, 0, sizeof r);
	spec.in = spec.out = spec.err = CHILD_NULL;
	c = spawn_sh(f, "exec sleep 1000", &spec, &r, &err);
	assert_non_null(c);
	child_terminate(c, 200);
	run_until(f, &r.called, 10);
	assert_int_equal(WTERMSIG(r.status), SIGTERM);
	child_free(c);
	/* The loop runs past the grace without touching the freed child. */
	{
		int never = 0;

		run_until(f, &never, 0.4);
	}
}

/* Freeing a running child kills it; the set still reaps it. */
static void
test_child_free_running(void **state)
{
	struct fixture *f = *state;
	struct child_spec spec;
	struct exit_rec r;
	struct child *c;
	char *err;
	pid_t pid;

	memset(&spec, 0, sizeof spec);
	memset(&r, 0, sizeof r);
	spec.in = spec.out = spec.err = CHILD_NULL;
	c = spawn_sh(f, "exec sleep 1000", &spec, &r, &err);
	assert_non_null(c);
	pid = child_pid(c);
	assert_int_equal(child_set_count(f->set), 1);
	child_free(c);
	run_until_reaped(f, 10);
	assert_int_equal(child_set_count(f->set), 0);
	assert_int_equal(r.called, 0);
	assert_int_equal(kill(pid, 0), -1);	/* reaped: no zombie */
}

/* The exit callback may free its child. */
static void
test_child_free_in_callback(void **state)
{
	struct fixture *f = *state;
	struct child_spec spec;
	struct exit_rec r;
	struct child *c;
	char *err;
	int i;

	for (i = 0; i < 3; i++) {
		memset(&spec, 0, sizeof spec);
		memset(&r, 0, sizeof r);
		r.free_inside = 1;
		spec.in = spec.out = spec.err = CHILD_NULL;
		c = spawn_sh(f, "exit 3", &spec, &r, &err);
		assert_non_null(c);
		run_until(f, &r.called, 10);
		assert_int_equal(r.called, 1);
		assert_int_equal(WEXITSTATUS(r.status), 3);
	}
}

/* Children of others are reaped quietly; many exits at once all arrive. */
static void
test_child_many_and_strangers(void **state)
{
	struct fixture *f = *state;
	struct child_spec spec;
	struct exit_rec r[20];
	struct child *c[20];
	char *err;
	pid_t stranger;
	int i;

	stranger = fork();
	if (stranger == 0)
		_exit(0);
	for (i = 0; i < 20; i++) {
		memset(&spec, 0, sizeof spec);
		memset(&r[i], 0, sizeof r[i]);
		spec.in = spec.out = spec.err = CHILD_NULL;
		c[i] = spawn_sh(f, "exit 5", &spec, &r[i], &err);
		assert_non_null(c[i]);
	}
	run_until_reaped(f, 10);
	assert_int_equal(child_set_count(f->set), 0);
	for (i = 0; i < 20; i++) {
		assert_int_equal(r[i].called, 1);
		assert_int_equal(WEXITSTATUS(r[i].status), 5);
		child_free(c[i]);
	}
	assert_int_equal(waitpid(stranger, NULL, WNOHANG), -1);
}

/* child_set_free() kills and reaps what still runs. */
static void
test_child_set_free_running(void **state)
{
	struct fixture *f = *state;
	struct child_spec spec;
	struct exit_rec r;
	struct child *c;
	char *err;
	pid_t pid;

	memset(&spec, 0, sizeof spec);
	memset(&r, 0, sizeof r);
	spec.in = spec.out = spec.err = CHILD_NULL;
	c = spawn_sh(f, "exec sleep 1000", &spec, &r, &err);
	assert_non_null(c);
	pid = child_pid(c);
	child_set_free(f->set);
	f->set = child_set_new(f->base);
	assert_int_equal(kill(pid, 0), -1);
	assert_true(child_exited(c));
	child_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_child_exit_status,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_exec_missing,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_exec_not_executable,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_env,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_env_scrubbed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_no_leaked_fds,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_fd_stream,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_signals_reset,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_group_kill,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_term_then_kill,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_terminate_quick,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_free_running,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_free_in_callback,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_many_and_strangers,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_child_set_free_running,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
