/*
 * Tests for core/pipeline.c with real processes on a real event loop: the
 * relay (byte-exact, SHA-256, back-pressure, loop responsiveness), failures
 * of either stage, stderr lines, the output cap, timeouts, cancellation,
 * restore verification and freeing at awkward times.  Some tests use the
 * fixture plugins in test/plugins.
 */
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>
#include <openssl/evp.h>

#include "child.h"
#include "pipeline.h"

#define MIB		(1024 * 1024)
#define PLUGINS		SHIELD_TEST_SRC "/test/plugins"

struct fixture {
	struct event_base	*base;
	struct child_set	*set;
	char			 dir[64];
};

/* What the callbacks saw. */
struct rec {
	int		 done;
	int		 progress;
	int64_t		 last_progress;
	int		 producer_status;
	int		 consumer_status;
	int64_t		 bytes;
	char		 sha256[65];
	char		*output;
	size_t		 output_len;
	char		*failure;
	char		*lines[256];
	int		 nlines;

	int		 free_in_done;
	int		 free_in_line;
	struct pipeline	*pl;
};

/* A /bin/sh -c stage. */
struct sh {
	struct pipeline_stage	 st;
	const char		*argv[4];
	char			 script[1024];
};

/* Fresh loop, child set and scratch directory for each test. */
static int
setup(void **state)
{
	struct fixture *f;

	signal(SIGPIPE, SIG_IGN);	/* as the daemon does */
	f = calloc(1, sizeof *f);
	f->base = event_base_new();
	f->set = child_set_new(f->base);
	snprintf(f->dir, sizeof f->dir, "/tmp/shield-test-pipeline-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	*state = f;
	return 0;
}

/* Remove the scratch directory and free the loop. */
static int
teardown(void **state)
{
	struct fixture *f = *state;
	char cmd[128];

	child_set_free(f->set);
	event_base_free(f->base);
	snprintf(cmd, sizeof cmd, "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

/* Free what a rec holds. */
static void
rec_clear(struct rec *r)
{
	int i;

	free(r->output);
	free(r->failure);
	for (i = 0; i < r->nlines; i++)
		free(r->lines[i]);
	memset(r, 0, sizeof *r);
}

/* Build a sh stage from a printf format. */
static struct pipeline_stage *
sh_stage(struct sh *s, const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->script, sizeof s->script, fmt, ap);
	va_end(ap);
	s->argv[0] = "sh";
	s->argv[1] = "-c";
	s->argv[2] = s->script;
	s->argv[3] = NULL;
	s->st.name = name;
	s->st.path = "/bin/sh";
	s->st.argv = s->argv;
	s->st.env = NULL;
	return &s->st;
}

/* Record a stderr line as "stage|line". */
static void
test_line_cb(const char *stage, const char *line, void *arg)
{
	struct rec *r = arg;

	if (r->nlines < 256 &&
	    asprintf(&r->lines[r->nlines], "%s|%s", stage, line) != -1)
		r->nlines++;
	if (r->free_in_line)
		pipeline_free(r->pl);
}

/* Record progress. */
static void
test_progress_cb(int64_t bytes, void *arg)
{
	struct rec *r = arg;

	r->progress++;
	r->last_progress = bytes;
}

/* Copy the result; free the pipeline from here if asked. */
static void
test_done_cb(struct pipeline *pl, const struct pipeline_result *res,
    void *arg)
{
	struct rec *r = arg;

	r->done++;
	r->producer_status = res->producer_status;
	r->consumer_status = res->consumer_status;
	r->bytes = res->bytes;
	memcpy(r->sha256, res->sha256, sizeof r->sha256);
	assert_int_equal(res->output[res->output_len], '\0');
	r->output = malloc(res->output_len + 1);
	memcpy(r->output, res->output, res->output_len + 1);
	r->output_len = res->output_len;
	r->failure = res->failure != NULL ? strdup(res->failure) : NULL;
	if (r->free_in_done)
		pipeline_free(pl);
}

static const struct pipeline_cbs test_cbs = {
	test_line_cb, test_progress_cb, test_done_cb
};

/* Seconds since start. */
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
	struct timeval start, tv;

	gettimeofday(&start, NULL);
	while (!*flag && elapsed(&start) < seconds) {
		tv.tv_sec = 0;
		tv.tv_usec = 20000;
		event_base_loopexit(f->base, &tv);
		event_base_dispatch(f->base);
	}
}

/* Run the loop until the set has reaped everything. */
static void
run_until_reaped(struct fixture *f, double seconds)
{
	struct timeval start, tv;

	gettimeofday(&start, NULL);
	while (child_set_count(f->set) > 0 && elapsed(&start) < seconds) {
		tv.tv_sec = 0;
		tv.tv_usec = 20000;
		event_base_loopexit(f->base, &tv);
		event_base_dispatch(f->base);
	}
}

/* Start a pipeline, run it to completion and free it. */
static void
run_pipeline(struct fixture *f, const struct pipeline_stage *producer,
    const struct pipeline_stage *consumer, const struct pipeline_opts *opts,
    struct rec *r)
{
	static const struct pipeline_opts none;
	char *err;

	r->pl = pipeline_start(f->set, producer, consumer,
	    opts != NULL ? opts : &none, &test_cbs, r, &err);
	if (r->pl == NULL)
		fail_msg("pipeline_start: %s", err);
	run_until(f, &r->done, 120);
	assert_int_equal(r->done, 1);
	if (!r->free_in_done)
		pipeline_free(r->pl);
	r->pl = NULL;
	run_until_reaped(f, 10);
	assert_int_equal(child_set_count(f->set), 0);
}

/* 1 if some recorded line is exactly want. */
static int
has_line(const struct rec *r, const char *want)
{
	int i;

	for (i = 0; i < r->nlines; i++) {
		if (strcmp(r->lines[i], want) == 0)
			return i + 1;
	}
	return 0;
}

/* Write n deterministic pseudo-random bytes to path; return the SHA-256. */
static void
make_data(const char *path, size_t n, char hex[65])
{
	static uint64_t block[8192];
	unsigned char md[32];
	unsigned int mdlen, i;
	uint64_t x = 0x9e3779b97f4a7c15ULL;
	EVP_MD_CTX *ctx;
	size_t done, want, j;
	FILE *fp;

	ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	fp = fopen(path, "w");
	assert_non_null(fp);
	for (done = 0; done < n; done += want) {
		for (j = 0; j < 8192; j++) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			block[j] = x;
		}
		want = n - done < sizeof block ? n - done : sizeof block;
		assert_int_equal(fwrite(block, 1, want, fp), want);
		EVP_DigestUpdate(ctx, block, want);
	}
	fclose(fp);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/* 1 if path exists. */
static int
exists(const char *dir, const char *name)
{
	char path[256];

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

/* 50 MB pass byte for byte; our SHA-256 matches OpenSSL's and sha256sum. */
static void
test_pipeline_relay_sha256(void **state)
{
	struct fixture *f = *state;
	struct sh p, c;
	struct rec r;
	char path[256], hex[65];

	memset(&r, 0, sizeof r);
	snprintf(path, sizeof path, "%s/data", f->dir);
	make_data(path, 50000000, hex);
	run_pipeline(f, sh_stage(&p, "prod", "exec cat %s", path),
	    sh_stage(&c, "cons", "exec sha256sum"), NULL, &r);
	assert_null(r.failure);
	assert_int_equal(r.bytes, 50000000);
	assert_string_equal(r.sha256, hex);
	assert_true(r.output_len > 64);
	assert_memory_equal(r.output, hex, 64);
	assert_int_equal(r.producer_status, 0);
	assert_int_equal(r.consumer_status, 0);
	rec_clear(&r);
}

/* An empty stream is fine too. */
static void
test_pipeline_relay_empty(void **state)
{
	struct fixture *f = *state;
	struct sh p, c;
	struct rec r;

	memset(&r, 0, sizeof r);
	run_pipeline(f, sh_stage(&p, "prod", "exit 0"),
	    sh_stage(&c, "cons", "exec wc -c"), NULL, &r);
	assert_null(r.failure);
	assert_int_equal(r.bytes, 0);
	assert_string_equal(r.sha256, "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	assert_string_equal(r.output, "0\n");
	rec_clear(&r);
}

struct stall {
	struct pipeline	*pl;
	int64_t		 bytes;
	double		 cpu;
	int		 fired;
};

/* CPU time this process has used, in seconds. */
static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	    (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Look at the relay while the consumer is not reading. */
static void
test_stall_cb(int fd, short events, void *arg)
{
	struct stall *s = arg;

	s->bytes = pipeline_bytes(s->pl);
	s->cpu = cpu_seconds() - s->cpu;
	s->fired = 1;
}

/*
 * A consumer that does not read stops the relay (bounded memory, no busy
 * loop), and everything flows once it starts reading.
 */
static void
test_pipeline_backpressure(void **state)
{
	struct fixture *f = *state;
	struct pipeline_opts opts;
	struct stall s;
	struct event *ev;
	struct timeval tv = { 1, 500000 };
	struct sh p, c;
	struct rec r;
	char *err;

	memset(&r, 0, sizeof r);
	memset(&opts, 0, sizeof opts);
	memset(&s, 0, sizeof s);
	r.pl = pipeline_start(f->set,
	    sh_stage(&p, "prod", "exec head -c 30000000 /dev/zero"),
	    sh_stage(&c, "cons", "sleep 2; exec wc -c"), &opts, &test_cbs,
	    &r, &err);
	assert_non_null(r.pl);
	s.pl = r.pl;
	s.cpu = cpu_seconds();
	ev = evtimer_new(f->base, test_stall_cb, &s);
	evtimer_add(ev, &tv);
	run_until(f, &r.done, 60);
	event_free(ev);
	assert_true(s.fired);
	/* Two 1 MiB pipes and the 1 MiB buffer at most, read in 1.5 s. */
	assert_true(s.bytes <= 4 * MIB);
	assert_true(s.cpu < 0.3);
	assert_null(r.failure);
	assert_int_equal(r.bytes, 30000000);
	assert_string_equal(r.output, "30000000\n");
	pipeline_free(r.pl);
	rec_clear(&r);
}

struct ticker {
	struct event	*ev;
	struct timeval	 last;
	double		 max_gap;
	int		 ticks;
};

/* A 2 ms timer, standing in for HTTP requests while a backup streams. */
static void
test_tick_cb(int fd, short events, void *arg)
{
	struct ticker *t = arg;
	struct timeval tv = { 0, 2000 };
	double gap;

	if (t->ticks++ > 0) {
		gap = elapsed(&t->last);
		if (gap > t->max_gap)
			t->max_gap = gap;
	}
	gettimeofday(&t->last, NULL);
	evtimer_add(t->ev, &tv);
}

/* The loop keeps serving other events while a fast stream passes. */
static void
test_pipeline_loop_responsive(void **state)
{
	struct fixture *f = *state;
	struct ticker t;
	struct sh p, c;
	struct rec r;
	char *err;

	memset(&r, 0, sizeof r);
	memset(&t, 0, sizeof t);
	t.ev = evtimer_new(f->base, test_tick_cb, &t);
	test_tick_cb(-1, 0, &t);
	r.pl = pipeline_start(f->set,
	    sh_stage(&p, "prod", "exec head -c 300000000 /dev/zero"),
	    sh_stage(&c, "cons", "exec cat >/dev/null"),
	    &(struct pipeline_opts){ 0 }, &test_cbs, &r, &err);
	assert_non_null(r.pl);
	run_until(f, &r.done, 120);
	event_free(t.ev);
	assert_null(r.failure);
	assert_int_equal(r.bytes, 300000000);
	print_message("max loop gap %.1f ms over %d ticks\n",
	    t.max_gap * 1000, t.ticks);
	/* Under valgrind everything is 50 times slower: only report. */
	if (getenv("LD_PRELOAD") == NULL ||
	    strstr(getenv("LD_PRELOAD"), "vgpreload") == NULL)
		assert_true(t.max_gap < 0.1);
	pipeline_free(r.pl);
	rec_clear(&r);
}

/*
 * A producer that fails: the failure names it and the consumer is stopped
 * without ever seeing the end of its input.
 */
static void
test_pipeline_producer_fails(void **state)
{
	struct fixture *f = *state;
	struct sh p, c;
	struct rec r;

	memset(&r, 0, sizeof r);
	run_pipeline(f, sh_stage(&p, "prod", "printf partial; exit 2"),
	    sh_stage(&c, "cons", "cat >/dev/null; echo GOT-EOF >&2"), NULL,
	    &r);
	assert_string_equal(r.failure, "prod exited with status 2");
	assert_false(has_line(&r, "cons|GOT-EOF"));
	assert_int_equal(WEXITSTATUS(r.producer_status), 2);
	assert_true(WIFSIGNALED(r.consumer_status));
	assert_int_equal(r.bytes, 7);
	rec_clear(&r);
}

/* A consumer that fails mid-stream is the cause, not the producer's EPIPE. */
static void
test_pipeline_consumer_fails(void **state)
{
	struct fixture *f = *state;
	struct sh p, c;
	struct rec r;

	memset(&r, 0, sizeof r);
	run_pipeline(f, sh_stage(&p, "prod", "exec cat /dev/zero"),
	    sh_stage(&c, "cons", "head -c 1000 >/dev/null; "
	    "echo 'cons: no such bucket' >&2; exit 4"), NULL, &r);
	assert_string_equal(r.failure, "cons exited with status 4");
	assert_true(has_line(&r, "cons|cons: no such bucket"));
	assert_true(WIFSIGNALED(r.producer_status));
	assert_int_equal(WTERMSIG(r.producer_status), SIGPIPE);
	rec_clear(&r);
}

/* A consumer that exits 0 without reading everything fails the run. */
static void
test_pipeline_consumer_stops_early(void **state)
{
	struct fixture *f = *state;
	struct sh p, c;
	struct rec r;

	memset(&r, 0, sizeof r);
	run_pipeline(f, sh_stage(&p, "prod", "exec cat /dev/zero"),
	    sh_stage(&c, "cons", "exec head -c 100 >/dev/null"), NULL, &r);
	assert_non_null(r.failure);
	assert_non_null(strstr(r.failure, "cons stopped reading its input "
	    "after "));
	assert_int_equal(r.consumer_status, 0);
	assert_int_equal(WTERMSIG(r.producer_status), SIGPIPE);
	rec_clear(&r);

	/* Even when the whole stream fits in the pipe. */
	run_pipeline(f, sh_stage(&p, "prod", "exec head -c 5000 /dev/zero"),
	    sh_stage(&c, "cons", "sleep 0.5; exec head -c 100 >/dev/null"),
	    NULL, &r);
	assert_non_null(r.failure);
	assert_string_equal(r.failure,
	    "cons stopped reading its input after 100 bytes");
	assert_int_equal(r.producer_status, 0);
	rec_clear(&r);
}

/* Stderr lines of both stages arrive in order, with their names. */
static void
test_pipeline_stderr_lines(void **state)
{
	struct fixture *f = *state;
	struct sh p, c;
	struct rec r;

	memset(&r, 0, sizeof r);
	run_pipeline(f, sh_stage(&p, "prod", "echo p1 >&2; echo data; "
	    "echo 'p2 with  spaces' >&2; printf 'p3 no newline' >&2"),
	    sh_stage(&c, "cons", "echo c1 >&2; cat >/dev/null; "
	    "printf 'c2\\n\\nc3\\n' >&2"), NULL, &r);
	assert_null(r.failure);
	assert_int_equal(r.nlines, 7);
	assert_true(has_line(&r, "prod|p1") < has_line(&r,
	    "prod|p2 with  spaces"));
	assert_true(has_line(&r, "prod|p2 with  spaces") < has_line(&r,
	    "prod|p3 no newline"));
	assert_true(has_line(&r, "cons|c1") < has_line(&r, "cons|c2"));
	assert_true(has_line(&r, "cons|c2") < has_line(&r, "cons|"));
	assert_true(has_line(&r, "cons|") < has_line(&r, "cons|c3"));
	assert_true(has_line(&r, "prod|p1"));
	rec_clear(&r);
}

/* A very long line is cut at 8 KiB; the next line is intact. */
static void
test_pipeline_long_line(void **state)
{
	struct fixture *f = *state;
	struct sh c;
	struct rec r;
	char want[8192 + 6];

	memset(&r, 0, sizeof r);
	run_pipeline(f, NULL, sh_stage(&c, "cons",
	    "head -c 100000 /dev/zero | tr '\\0' x >&2; "
	    "printf '\\nafter\\n' >&2; "
	    "head -c 8192 /dev/zero | tr '\\0' y >&2; printf '\\nend' >&2"),
	    NULL, &r);
	assert_null(r.failure);
	assert_int_equal(r.nlines, 4);
	memcpy(want, "cons|", 5);
	memset(want + 5, 'x', 8192);
	want[8192 + 5] = '\0';
	assert_string_equal(r.lines[0], want);
	assert_string_equal(r.lines[1], "cons|after");
	memset(want + 5, 'y', 8192);
	assert_string_equal(r.lines[2], want);
	assert_string_equal(r.lines[3], "cons|end");
	rec_clear(&r);
}

/* Consumer stdout over 1 MiB fails the run and is cut. */
static void
test_pipeline_output_cap(void **state)
{
	struct fixture *f = *state;
	struct sh c;
	struct rec r;

	memset(&r, 0, sizeof r);
	run_pipeline(f, NULL, sh_stage(&c, "cons",
	    "exec head -c 3000000 /dev/zero"), NULL, &r);
	assert_string_equal(r.failure, "output over 1 MiB");
	assert_int_equal(r.output_len, PIPELINE_OUTPUT_MAX);
	rec_clear(&r);

	/* Exactly 1 MiB is fine. */
	run_pipeline(f, NULL, sh_stage(&c, "cons",
	    "head -c 1048576 /dev/zero | tr '\\0' k"), NULL, &r);
	assert_null(r.failure);
	assert_int_equal(r.output_len, PIPELINE_OUTPUT_MAX);
	assert_int_equal(strlen(r.output), PIPELINE_OUTPUT_MAX);
	rec_clear(&r);
}

/* The whole-run timeout terminates the group. */
static void
test_pipeline_timeout(void **state)
{
	struct fixture *f = *state;
	struct pipeline_opts opts = { .timeout_s = 1 };
	struct timeval start;
	struct sh p, c;
	struct rec r;

	memset(&r, 0, sizeof r);
	gettimeofday(&start, NULL);
	run_pipeline(f, sh_stage(&p, "prod", "exec sleep 100"),
	    sh_stage(&c, "cons", "exec cat"), &opts, &r);
	assert_string_equal(r.failure, "timed out after 1s");
	assert_true(elapsed(&start) < 3);
	assert_int_equal(WTERMSIG(r.producer_status), SIGTERM);
	assert_int_equal(WTERMSIG(r.consumer_status), SIGTERM);
	rec_clear(&r);
}

/* Silence for idle_s fails; steady stderr keeps it alive. */
static void
test_pipeline_idle(void **state)
{
	struct fixture *f = *state;
	struct pipeline_opts opts = { .idle_s = 1 };
	struct timeval start;
	struct sh c;
	struct rec r;

	memset(&r, 0, sizeof r);
	gettimeofday(&start, NULL);
	run_pipeline(f, NULL, sh_stage(&c, "cons",
	    "echo hello >&2; exec sleep 100"), &opts, &r);
	assert_string_equal(r.failure, "no output for 1s");
	assert_true(elapsed(&start) < 3);
	assert_true(has_line(&r, "cons|hello"));
	rec_clear(&r);

	run_pipeline(f, NULL, sh_stage(&c, "cons",
	    "for i in 1 2 3 4 5 6; do echo tick $i >&2; sleep 0.4; done"),
	    &opts, &r);
	assert_null(r.failure);
	assert_int_equal(r.nlines, 6);
	rec_clear(&r);
}

/* Cancel pipeline_cancel() from a timer. */
static void
test_cancel_cb(int fd, short events, void *arg)
{
	pipeline_cancel(arg);
}

/* Cancel mid-stream: both processes stop and done says "canceled". */
static void
test_pipeline_cancel(void **state)
{
	struct fixture *f = *state;
	struct timeval tv = { 0, 300000 };
	struct sh p, c;
	struct rec r;
	char *err;

	memset(&r, 0, sizeof r);
	r.pl = pipeline_start(f->set, sh_stage(&p, "prod",
	    "exec cat /dev/zero"), sh_stage(&c, "cons", "exec cat >/dev/null"),
	    &(struct pipeline_opts){ .timeout_s = 1 }, &test_cbs, &r, &err);
	assert_non_null(r.pl);
	event_base_once(f->base, -1, EV_TIMEOUT, test_cancel_cb, r.pl, &tv);
	run_until(f, &r.done, 30);
	assert_string_equal(r.failure, "canceled");
	assert_true(r.bytes > 0);
	assert_true(WIFSIGNALED(r.producer_status));
	assert_true(WIFSIGNALED(r.consumer_status));
	pipeline_cancel(r.pl);		/* after done: nothing happens */
	pipeline_free(r.pl);
	rec_clear(&r);
}

/* Cancel reaches stages that ignore SIGTERM, after the grace. */
static void
test_pipeline_cancel_stubborn(void **state)
{
	struct fixture *f = *state;
	struct timeval tv = { 0, 300000 }, start;
	struct sh c;
	struct rec r;
	char *err;

	memset(&r, 0, sizeof r);
	gettimeofday(&start, NULL);
	r.pl = pipeline_start(f->set, NULL, sh_stage(&c, "cons",
	    "trap '' TERM; exec sleep 100"), &(struct pipeline_opts){ 0 },
	    &test_cbs, &r, &err);
	assert_non_null(r.pl);
	event_base_once(f->base, -1, EV_TIMEOUT, test_cancel_cb, r.pl, &tv);
	run_until(f, &r.done, 30);
	assert_string_equal(r.failure, "canceled");
	assert_int_equal(WTERMSIG(r.consumer_status), SIGKILL);
	assert_true(elapsed(&start) > 5);
	pipeline_free(r.pl);
	rec_clear(&r);
}

/* Restore verification: a matching stream passes and ends normally. */
static void
test_pipeline_verify_match(void **state)
{
	struct fixture *f = *state;
	struct pipeline_opts opts;
	struct sh p, c;
	struct rec r;
	char path[256], hex[65];

	memset(&r, 0, sizeof r);
	snprintf(path, sizeof path, "%s/data", f->dir);
	make_data(path, 3000001, hex);
	memset(&opts, 0, sizeof opts);
	opts.expect_sha256 = hex;
	opts.expect_bytes = 3000001;
	run_pipeline(f, sh_stage(&p, "prod", "exec cat %s", path),
	    sh_stage(&c, "cons", "cat > %s/out && echo GOT-EOF > %s/flag",
	    f->dir, f->dir), &opts, &r);
	assert_null(r.failure);
	assert_true(exists(f->dir, "flag"));
	snprintf(path, sizeof path, "cmp -s %s/data %s/out", f->dir, f->dir);
	assert_int_equal(system(path), 0);
	rec_clear(&r);

	/* Small streams (all held back) work too. */
	opts.expect_sha256 = "E3B0C44298FC1C149AFBF4C8996FB924"
	    "27AE41E4649B934CA495991B7852B855";
	opts.expect_bytes = 0;
	run_pipeline(f, sh_stage(&p, "prod", "exit 0"),
	    sh_stage(&c, "cons", "exec wc -c"), &opts, &r);
	assert_null(r.failure);
	assert_string_equal(r.output, "0\n");
	rec_clear(&r);
}

/* A wrong hash, or too many or too few bytes: the consumer never sees EOF. */
static void
test_pipeline_verify_mismatch(void **state)
{
	struct fixture *f = *state;
	struct pipeline_opts opts;
	struct sh p, c;
	struct rec r;
	char path[256], hex[65], want[512];
	const char *bad = "00000000000000000000000000000000"
	    "00000000000000000000000000000000";

	memset(&r, 0, sizeof r);
	snprintf(path, sizeof path, "%s/data", f->dir);
	make_data(path, 3000000, hex);
	memset(&opts, 0, sizeof opts);

	/* Same size, other hash. */
	opts.expect_sha256 = bad;
	opts.expect_bytes = 3000000;
	run_pipeline(f, sh_stage(&p, "prod", "exec cat %s", path),
	    sh_stage(&c, "cons", "cat > %s/out && echo GOT-EOF > %s/flag",
	    f->dir, f->dir), &opts, &r);
	snprintf(want, sizeof want, "checksum mismatch: archive has 3000000 "
	    "bytes sha256 %s, got 3000000 bytes sha256 %s", bad, hex);
	assert_string_equal(r.failure, want);
	assert_false(exists(f->dir, "flag"));
	rec_clear(&r);

	/* The archive was smaller: fails as soon as it is exceeded. */
	opts.expect_sha256 = hex;
	opts.expect_bytes = 1000000;
	run_pipeline(f, sh_stage(&p, "prod", "exec cat %s", path),
	    sh_stage(&c, "cons", "cat > %s/out && echo GOT-EOF > %s/flag",
	    f->dir, f->dir), &opts, &r);
	assert_string_equal(r.failure, "size mismatch: archive has 1000000 "
	    "bytes, got more");
	assert_false(exists(f->dir, "flag"));
	assert_true(r.bytes < 3000000 - 65536);
	rec_clear(&r);

	/* The archive was bigger: the stream ends short. */
	opts.expect_bytes = 3000001;
	run_pipeline(f, sh_stage(&p, "prod", "exec cat %s", path),
	    sh_stage(&c, "cons", "cat > %s/out && echo GOT-EOF > %s/flag",
	    f->dir, f->dir), &opts, &r);
	snprintf(want, sizeof want, "checksum mismatch: archive has 3000001 "
	    "bytes sha256 %s, got 3000000 bytes sha256 %s", hex, hex);
	assert_string_equal(r.failure, want);
	assert_false(exists(f->dir, "flag"));
	rec_clear(&r);
}

/* Input text goes to a single command's stdin; without it, /dev/null. */
static void
test_pipeline_input(void **state)
{
	struct fixture *f = *state;
	struct pipeline_opts opts;
	struct sh c;
	struct rec r;
	char *big;

	memset(&r, 0, sizeof r);
	memset(&opts, 0, sizeof opts);
	opts.input = "{\"endpoint\": {\"a\": 1}}\n";
	run_pipeline(f, NULL, sh_stage(&c, "cons", "exec cat"), &opts, &r);
	assert_null(r.failure);
	assert_string_equal(r.output, opts.input);
	assert_int_equal(r.producer_status, -1);
	rec_clear(&r);

	/* More than a pipe holds. */
	big = malloc(3 * MIB + 1);
	memset(big, 'i', 3 * MIB);
	big[3 * MIB] = '\0';
	opts.input = big;
	run_pipeline(f, NULL, sh_stage(&c, "cons", "exec wc -c"), &opts, &r);
	assert_null(r.failure);
	assert_string_equal(r.output, "3145728\n");
	rec_clear(&r);

	/* A command that does not read its input is fine. */
	run_pipeline(f, NULL, sh_stage(&c, "cons", "echo ok"), &opts, &r);
	assert_null(r.failure);
	assert_string_equal(r.output, "ok\n");
	rec_clear(&r);
	free(big);

	opts.input = NULL;
	run_pipeline(f, NULL, sh_stage(&c, "cons", "exec cat"), &opts, &r);
	assert_null(r.failure);
	assert_int_equal(r.output_len, 0);
	assert_string_equal(r.output, "");
	rec_clear(&r);
}

/* Exit statuses and signals are reported with the stage name. */
static void
test_pipeline_status_text(void **state)
{
	struct fixture *f = *state;
	struct sh c;
	struct rec r;

	memset(&r, 0, sizeof r);
	run_pipeline(f, NULL, sh_stage(&c, "s3", "kill -9 $$"), NULL, &r);
	assert_string_equal(r.failure, "s3 killed by signal 9");
	rec_clear(&r);
	run_pipeline(f, NULL, sh_stage(&c, "fs", "echo oops >&2; exit 2"),
	    NULL, &r);
	assert_string_equal(r.failure, "fs exited with status 2");
	assert_true(has_line(&r, "fs|oops"));
	rec_clear(&r);
}

/* A stage that cannot be started: NULL, the reason, nothing left running. */
static void
test_pipeline_spawn_fails(void **state)
{
	struct fixture *f = *state;
	const char *argv[] = { "missing", "backup", NULL };
	struct pipeline_stage missing = { "missing", "/nonexistent/missing",
	    argv, NULL };
	struct sh c;
	struct rec r;
	char *err;

	memset(&r, 0, sizeof r);
	assert_null(pipeline_start(f->set, NULL, &missing,
	    &(struct pipeline_opts){ 0 }, &test_cbs, &r, &err));
	assert_string_equal(err, "cannot run /nonexistent/missing: "
	    "No such file or directory");
	free(err);
	assert_null(pipeline_start(f->set, &missing, sh_stage(&c, "cons",
	    "exec cat"), &(struct pipeline_opts){ 0 }, &test_cbs, &r, &err));
	assert_string_equal(err, "cannot run /nonexistent/missing: "
	    "No such file or directory");
	free(err);
	run_until_reaped(f, 10);
	assert_int_equal(child_set_count(f->set), 0);
	assert_int_equal(r.done, 0);
}

/* pipeline_free() from inside done, from a line callback, and mid-run. */
static void
test_pipeline_free_anywhere(void **state)
{
	struct fixture *f = *state;
	struct sh p, c;
	struct rec r;
	char *err;
	int never = 0;

	memset(&r, 0, sizeof r);
	r.free_in_done = 1;
	run_pipeline(f, sh_stage(&p, "prod", "echo x"),
	    sh_stage(&c, "cons", "exec cat"), NULL, &r);
	assert_null(r.failure);
	assert_string_equal(r.output, "x\n");
	rec_clear(&r);

	r.free_in_line = 1;
	r.pl = pipeline_start(f->set, sh_stage(&p, "prod",
	    "exec cat /dev/zero"), sh_stage(&c, "cons",
	    "echo one >&2; echo two >&2; exec cat >/dev/null"),
	    &(struct pipeline_opts){ 0 }, &test_cbs, &r, &err);
	assert_non_null(r.pl);
	run_until(f, &never, 0.5);
	assert_int_equal(r.nlines, 1);
	assert_int_equal(r.done, 0);
	run_until_reaped(f, 10);
	assert_int_equal(child_set_count(f->set), 0);
	rec_clear(&r);

	r.pl = pipeline_start(f->set, sh_stage(&p, "prod",
	    "exec cat /dev/zero"), sh_stage(&c, "cons", "exec cat >/dev/null"),
	    &(struct pipeline_opts){ 0 }, &test_cbs, &r, &err);
	run_until(f, &never, 0.2);
	pipeline_free(r.pl);
	run_until_reaped(f, 10);
	assert_int_equal(child_set_count(f->set), 0);
	assert_int_equal(r.done, 0);
	rec_clear(&r);
}

/* The fixture plugins behave as integration tests will expect. */
static void
test_pipeline_fixture_plugins(void **state)
{
	struct fixture *f = *state;
	const char *fail_argv[] = { "fail", "backup", "--endpoint", "{}",
	    NULL };
	const char *hang_argv[] = { "hang", "store", "--endpoint", "{}", NULL };
	const char *early_argv[] = { "earlyeof", "store", "--endpoint", "{}",
	    NULL };
	const char *slow_argv[] = { "slow", "backup", "--endpoint",
	    "{\"seconds\": 3}", NULL };
	const char *info_argv[] = { "garbage", "info", NULL };
	struct pipeline_stage fail = { "fail", PLUGINS "/fail", fail_argv,
	    NULL };
	struct pipeline_stage hang = { "hang", PLUGINS "/hang", hang_argv,
	    NULL };
	struct pipeline_stage early = { "earlyeof", PLUGINS "/earlyeof",
	    early_argv, NULL };
	struct pipeline_stage slow = { "slow", PLUGINS "/slow", slow_argv,
	    NULL };
	struct pipeline_stage info = { "garbage", PLUGINS "/garbage",
	    info_argv, NULL };
	struct timeval tv = { 1, 500000 };
	struct sh p, c;
	struct rec r;
	char *err;

	memset(&r, 0, sizeof r);
	run_pipeline(f, &fail, sh_stage(&c, "cons", "exec cat >/dev/null"),
	    NULL, &r);
	assert_string_equal(r.failure, "fail exited with status 3");
	assert_true(has_line(&r,
	    "fail|fail: backup failed on purpose (test fixture)"));
	rec_clear(&r);

	run_pipeline(f, NULL, &info, NULL, &r);
	assert_null(r.failure);
	assert_non_null(strstr(r.output, "\"name\": \"Garbage\""));
	rec_clear(&r);

	run_pipeline(f, sh_stage(&p, "prod", "exec head -c 5000000 "
	    "/dev/zero"), &hang, &(struct pipeline_opts){ .idle_s = 1 }, &r);
	assert_string_equal(r.failure, "no output for 1s");
	rec_clear(&r);

	run_pipeline(f, sh_stage(&p, "prod", "exec head -c 5000000 "
	    "/dev/zero"), &early, NULL, &r);
	assert_non_null(strstr(r.failure,
	    "earlyeof stopped reading its input after "));
	assert_string_equal(r.output, "{\"key\": \"earlyeof-partial\"}\n");
	rec_clear(&r);

	/* Cancel a slow stream half way; progress was reported meanwhile. */
	r.pl = pipeline_start(f->set, &slow, sh_stage(&c, "cons",
	    "exec cat >/dev/null"), &(struct pipeline_opts){ 0 }, &test_cbs,
	    &r, &err);
	assert_non_null(r.pl);
	event_base_once(f->base, -1, EV_TIMEOUT, test_cancel_cb, r.pl, &tv);
	run_until(f, &r.done, 30);
	assert_string_equal(r.failure, "canceled");
	assert_true(r.bytes > 0 && r.bytes < 30 * 1024);
	assert_true(r.progress >= 1 && r.progress <= 2);
	assert_true(r.last_progress > 0 && r.last_progress <= r.bytes);
	pipeline_free(r.pl);
	rec_clear(&r);
}

/* What the done callback saw of each step, besides the rec. */
struct recn {
	struct rec	 r;		/* first: the callbacks take it too */
	int		 status[8];
	size_t		 nstages;
};

/* test_done_cb, and each step's status. */
static void
test_done_steps_cb(struct pipeline *pl, const struct pipeline_result *res,
    void *arg)
{
	struct recn *rn = arg;
	size_t i;

	rn->nstages = res->nstages;
	for (i = 0; i < res->nstages && i < 8; i++)
		rn->status[i] = res->status[i];
	test_done_cb(pl, res, &rn->r);
}

static const struct pipeline_cbs test_steps_cbs = {
	test_line_cb, test_progress_cb, test_done_steps_cb
};

/* Steps from a list of stages, NULL standing for the relay. */
static void
make_steps(struct pipeline_step *steps, const struct pipeline_stage **st,
    size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		steps[i].kind = st[i] == NULL ? PIPELINE_RELAY :
		    PIPELINE_PROCESS;
		steps[i].proc = st[i];
	}
}

/* Run the stages (NULL: the relay) to completion and free the pipeline. */
static void
run_steps(struct fixture *f, const struct pipeline_stage **st, size_t n,
    const struct pipeline_opts *opts, struct recn *rn)
{
	static const struct pipeline_opts none;
	struct pipeline_step steps[8];
	char *err;

	make_steps(steps, st, n);
	rn->r.pl = pipeline_run(f->set, steps, n, opts != NULL ? opts : &none,
	    &test_steps_cbs, rn, &err);
	if (rn->r.pl == NULL)
		fail_msg("pipeline_run: %s", err);
	run_until(f, &rn->r.done, 120);
	assert_int_equal(rn->r.done, 1);
	assert_int_equal(rn->nstages, n);
	pipeline_free(rn->r.pl);
	rn->r.pl = NULL;
	run_until_reaped(f, 10);
	assert_int_equal(child_set_count(f->set), 0);
}

/* Free what a recn holds. */
static void
recn_clear(struct recn *rn)
{
	rec_clear(&rn->r);
	memset(rn, 0, sizeof *rn);
}

/*
 * A last stage that keeps its input in out and, only once it has read
 * end-of-input, says EOF-SEEN and makes the file flag.
 */
static const struct pipeline_stage *
watch_stage(struct sh *s, struct fixture *f)
{
	return sh_stage(s, "last", "cat > %s/out; echo EOF-SEEN >&2; "
	    "touch %s/flag", f->dir, f->dir);
}

/* 1 if the watching stage saw end-of-input. */
static int
saw_eof(struct fixture *f, struct recn *rn)
{
	return has_line(&rn->r, "last|EOF-SEEN") || exists(f->dir, "flag");
}

/* The hex SHA-256 of a file. */
static void
file_sha256(const char *path, char hex[65])
{
	unsigned char md[32], buf[65536];
	unsigned int mdlen, i;
	EVP_MD_CTX *ctx;
	size_t n;
	FILE *fp;

	ctx = EVP_MD_CTX_new();
	EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
	fp = fopen(path, "r");
	assert_non_null(fp);
	while ((n = fread(buf, 1, sizeof buf, fp)) > 0)
		EVP_DigestUpdate(ctx, buf, n);
	fclose(fp);
	EVP_DigestFinal_ex(ctx, md, &mdlen);
	EVP_MD_CTX_free(ctx);
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", md[i]);
}

/*
 * Three processes, a direct pipe before the relay or after it: byte for
 * byte, the relay's SHA-256 is that of the stream, each step's status is
 * reported (the relay's as -1) and the last one's output is collected.
 */
static void
test_pipeline_steps_three(void **state)
{
	struct fixture *f = *state;
	struct sh a, b, c;
	struct recn rn;
	char path[256], hex[65];
	const struct pipeline_stage *st[4];

	memset(&rn, 0, sizeof rn);
	snprintf(path, sizeof path, "%s/data", f->dir);
	make_data(path, 5000001, hex);

	st[0] = sh_stage(&a, "src", "exec cat %s", path);
	st[1] = sh_stage(&b, "mid", "exec cat");
	st[2] = NULL;
	st[3] = sh_stage(&c, "sum", "exec sha256sum");
	run_steps(f, st, 4, NULL, &rn);
	assert_null(rn.r.failure);
	assert_int_equal(rn.r.bytes, 5000001);
	assert_string_equal(rn.r.sha256, hex);
	assert_memory_equal(rn.r.output, hex, 64);
	assert_int_equal(rn.status[0], 0);
	assert_int_equal(rn.status[1], 0);
	assert_int_equal(rn.status[2], -1);
	assert_int_equal(rn.status[3], 0);
	assert_int_equal(rn.r.producer_status, 0);
	assert_int_equal(rn.r.consumer_status, 0);
	recn_clear(&rn);

	st[1] = NULL;
	st[2] = sh_stage(&b, "mid", "exec cat");
	run_steps(f, st, 4, NULL, &rn);
	assert_null(rn.r.failure);
	assert_int_equal(rn.r.bytes, 5000001);
	assert_string_equal(rn.r.sha256, hex);
	assert_memory_equal(rn.r.output, hex, 64);
	assert_int_equal(rn.status[1], -1);
	assert_int_equal(rn.status[2], 0);
	recn_clear(&rn);

	/* No relay at all: direct pipes only, nothing counted. */
	st[1] = sh_stage(&b, "mid", "exec tr a-z A-Z");
	st[2] = sh_stage(&c, "count", "exec wc -c");
	st[0] = sh_stage(&a, "src", "printf 'abc\\ndef\\n'");
	run_steps(f, st, 3, NULL, &rn);
	assert_null(rn.r.failure);
	assert_int_equal(rn.r.bytes, 0);
	assert_string_equal(rn.r.output, "8\n");
	recn_clear(&rn);
}

/*
 * Four processes, as a codec would stand: [data, compress, RELAY,
 * decompress, check].  The relay sees (and hashes) the compressed stream;
 * the last process gets the original back.
 */
static void
test_pipeline_steps_four(void **state)
{
	struct fixture *f = *state;
	struct sh a, b, c, d;
	struct recn rn;
	char path[256], gz[256], cmd[600], hex[65], gzhex[65];
	const struct pipeline_stage *st[5];
	struct stat sb;

	memset(&rn, 0, sizeof rn);
	snprintf(path, sizeof path, "%s/data", f->dir);
	snprintf(gz, sizeof gz, "%s/data.gz", f->dir);
	make_data(path, 3000000, hex);
	snprintf(cmd, sizeof cmd, "gzip -1 -n -c %s > %s", path, gz);
	assert_int_equal(system(cmd), 0);
	file_sha256(gz, gzhex);
	assert_int_equal(stat(gz, &sb), 0);

	st[0] = sh_stage(&a, "src", "exec cat %s", path);
	st[1] = sh_stage(&b, "encode", "exec gzip -1 -n -c");
	st[2] = NULL;
	st[3] = sh_stage(&c, "decode", "exec gzip -d -c");
	st[4] = sh_stage(&d, "sum", "exec sha256sum");
	run_steps(f, st, 5, NULL, &rn);
	assert_null(rn.r.failure);
	assert_int_equal(rn.r.bytes, sb.st_size);
	assert_string_equal(rn.r.sha256, gzhex);
	assert_memory_equal(rn.r.output, hex, 64);
	assert_int_equal(rn.status[0], 0);
	assert_int_equal(rn.status[1], 0);
	assert_int_equal(rn.status[2], -1);
	assert_int_equal(rn.status[3], 0);
	assert_int_equal(rn.status[4], 0);
	recn_clear(&rn);
}

/*
 * A process in the middle that exits non-zero mid-stream fails the run
 * with its name, and no process after it ever sees end-of-input: wherever
 * it stands, before or after the relay or with no relay.
 */
static void
test_pipeline_steps_middle_fails(void **state)
{
	struct fixture *f = *state;
	struct sh a, b, c;
	struct recn rn;
	const struct pipeline_stage *st[4];
	int shape;

	memset(&rn, 0, sizeof rn);
	for (shape = 0; shape < 3; shape++) {
		st[0] = sh_stage(&a, "src", "exec head -c 50000000 /dev/zero");
		st[1] = sh_stage(&b, "mid", "head -c 100000; exit 3");
		st[2] = watch_stage(&c, f);
		st[3] = st[2];
		if (shape == 0)
			st[2] = NULL;		/* [src, mid, RELAY, last] */
		else if (shape == 1) {
			st[2] = st[1];		/* [src, RELAY, mid, last] */
			st[1] = NULL;
		}
		run_steps(f, st, shape < 2 ? 4 : 3, NULL, &rn);
		assert_string_equal(rn.r.failure, "mid exited with status 3");
		assert_false(saw_eof(f, &rn));
		assert_true(WIFSIGNALED(rn.r.consumer_status));
		recn_clear(&rn);
	}
}

/* A process in the middle killed by a signal: the same. */
static void
test_pipeline_steps_middle_killed(void **state)
{
	struct fixture *f = *state;
	struct sh a, b, c;
	struct recn rn;
	const struct pipeline_stage *st[4];

	memset(&rn, 0, sizeof rn);
	st[0] = sh_stage(&a, "src", "exec head -c 50000000 /dev/zero");
	st[1] = sh_stage(&b, "mid", "head -c 100000; kill -9 $$");
	st[2] = NULL;
	st[3] = watch_stage(&c, f);
	run_steps(f, st, 4, NULL, &rn);
	assert_string_equal(rn.r.failure, "mid killed by signal 9");
	assert_false(saw_eof(f, &rn));
	assert_int_equal(WTERMSIG(rn.status[1]), SIGKILL);
	assert_true(WIFSIGNALED(rn.status[3]));
	recn_clear(&rn);

	/* The first process killed: nobody after it sees the end. */
	st[0] = sh_stage(&a, "src", "head -c 100000 /dev/zero; kill -9 $$");
	st[1] = sh_stage(&b, "mid", "exec cat");
	st[2] = watch_stage(&c, f);
	run_steps(f, st, 3, NULL, &rn);
	assert_string_equal(rn.r.failure, "src killed by signal 9");
	assert_false(saw_eof(f, &rn));
	recn_clear(&rn);
}

/*
 * Readers that stop early: one in the middle fails the run at once, so the
 * last never sees the end; a last one is blamed, not its writers' EPIPE.
 */
static void
test_pipeline_steps_reader_stops(void **state)
{
	struct fixture *f = *state;
	struct sh a, b, c;
	struct recn rn;
	const struct pipeline_stage *st[3];

	memset(&rn, 0, sizeof rn);
	st[0] = sh_stage(&a, "src", "exec cat /dev/zero");
	st[1] = sh_stage(&b, "mid", "exec head -c 1000 >/dev/null");
	st[2] = watch_stage(&c, f);
	run_steps(f, st, 3, NULL, &rn);
	assert_string_equal(rn.r.failure, "mid stopped reading its input");
	assert_false(saw_eof(f, &rn));
	recn_clear(&rn);

	st[1] = sh_stage(&b, "mid", "exec cat");
	st[2] = sh_stage(&c, "last", "exec head -c 100 >/dev/null");
	run_steps(f, st, 3, NULL, &rn);
	assert_string_equal(rn.r.failure, "last stopped reading its input");
	assert_int_equal(rn.status[2], 0);
	recn_clear(&rn);

	st[2] = sh_stage(&c, "last", "head -c 100 >/dev/null; exit 5");
	run_steps(f, st, 3, NULL, &rn);
	assert_string_equal(rn.r.failure, "last exited with status 5");
	recn_clear(&rn);

	/* It read all there was, then left; its writer had more: SIGPIPE. */
	st[0] = sh_stage(&a, "src", "exec head -c 10 /dev/zero");
	st[1] = sh_stage(&b, "mid", "cat; sleep 0.5; exec cat /dev/zero");
	st[2] = sh_stage(&c, "last", "exec head -c 10 >/dev/null");
	run_steps(f, st, 3, NULL, &rn);
	assert_string_equal(rn.r.failure, "last stopped reading its input");
	assert_int_equal(WTERMSIG(rn.status[1]), SIGPIPE);
	recn_clear(&rn);
}

/*
 * A reader may finish without waiting for end-of-input once it has read
 * everything, even when it exits before its writer has been reaped.
 */
static void
test_pipeline_steps_reader_done_first(void **state)
{
	struct fixture *f = *state;
	struct sh a, b, c;
	struct recn rn;
	const struct pipeline_stage *st[3];
	int i;

	memset(&rn, 0, sizeof rn);
	for (i = 0; i < 20; i++) {
		st[0] = sh_stage(&a, "src", "printf abc");
		st[1] = sh_stage(&b, "mid", "exec head -c 3");
		st[2] = sh_stage(&c, "last", "exec cat");
		run_steps(f, st, 3, NULL, &rn);
		assert_null(rn.r.failure);
		assert_string_equal(rn.r.output, "abc");
		recn_clear(&rn);
	}
	/* It may even leave while its writer still runs. */
	st[0] = sh_stage(&a, "src", "printf abc; sleep 0.5");
	run_steps(f, st, 3, NULL, &rn);
	assert_null(rn.r.failure);
	assert_string_equal(rn.r.output, "abc");
	recn_clear(&rn);
	/* Not if the writer then fails. */
	st[0] = sh_stage(&a, "src", "printf abc; sleep 0.5; exit 6");
	st[2] = watch_stage(&c, f);
	run_steps(f, st, 3, NULL, &rn);
	assert_string_equal(rn.r.failure, "src exited with status 6");
	assert_false(saw_eof(f, &rn));
	recn_clear(&rn);
}

/* Cancel with four processes: all stop, done says "canceled". */
static void
test_pipeline_steps_cancel(void **state)
{
	struct fixture *f = *state;
	struct timeval tv = { 0, 300000 };
	struct pipeline_step steps[5];
	const struct pipeline_stage *st[5];
	struct sh a, b, c, d;
	struct recn rn;
	char *err;
	int i;

	memset(&rn, 0, sizeof rn);
	st[0] = sh_stage(&a, "src", "exec cat /dev/zero");
	st[1] = sh_stage(&b, "encode", "exec cat");
	st[2] = NULL;
	st[3] = sh_stage(&c, "decode", "exec cat");
	st[4] = sh_stage(&d, "sink", "cat >/dev/null; echo EOF-SEEN >&2");
	make_steps(steps, st, 5);
	rn.r.pl = pipeline_run(f->set, steps, 5, &(struct pipeline_opts){ 0 },
	    &test_steps_cbs, &rn, &err);
	assert_non_null(rn.r.pl);
	event_base_once(f->base, -1, EV_TIMEOUT, test_cancel_cb, rn.r.pl, &tv);
	run_until(f, &rn.r.done, 30);
	assert_int_equal(rn.r.done, 1);
	assert_string_equal(rn.r.failure, "canceled");
	assert_true(rn.r.bytes > 0);
	for (i = 0; i < 5; i++) {
		if (i != 2)
			assert_true(WIFSIGNALED(rn.status[i]));
	}
	assert_false(has_line(&rn.r, "sink|EOF-SEEN"));
	pipeline_free(rn.r.pl);
	run_until_reaped(f, 10);
	assert_int_equal(child_set_count(f->set), 0);
	recn_clear(&rn);
}

/* Verification with a process after the relay: the end only if it matches. */
static void
test_pipeline_steps_verify(void **state)
{
	struct fixture *f = *state;
	struct pipeline_opts opts;
	struct sh a, b, c;
	struct recn rn;
	const struct pipeline_stage *st[4];
	char path[256], hex[65], want[512];
	const char *bad = "00000000000000000000000000000000"
	    "00000000000000000000000000000000";

	memset(&rn, 0, sizeof rn);
	snprintf(path, sizeof path, "%s/data", f->dir);
	make_data(path, 3000001, hex);
	memset(&opts, 0, sizeof opts);
	opts.expect_sha256 = hex;
	opts.expect_bytes = 3000001;
	st[0] = sh_stage(&a, "retrieve", "exec cat %s", path);
	st[1] = NULL;
	st[2] = sh_stage(&b, "decode", "exec cat");
	st[3] = watch_stage(&c, f);
	run_steps(f, st, 4, &opts, &rn);
	assert_null(rn.r.failure);
	assert_true(exists(f->dir, "flag"));
	snprintf(path, sizeof path, "cmp -s %s/data %s/out", f->dir, f->dir);
	assert_int_equal(system(path), 0);
	recn_clear(&rn);
	snprintf(path, sizeof path, "%s/flag", f->dir);
	unlink(path);

	opts.expect_sha256 = bad;
	run_steps(f, st, 4, &opts, &rn);
	snprintf(want, sizeof want, "checksum mismatch: archive has 3000001 "
	    "bytes sha256 %s, got 3000001 bytes sha256 %s", bad, hex);
	assert_string_equal(rn.r.failure, want);
	assert_false(saw_eof(f, &rn));
	recn_clear(&rn);
}

/*
 * A consumer that left, having read all there was, before the stream
 * ended: the stream is still checked, and what comes after it sees the
 * end only if it matched.
 */
static void
test_pipeline_steps_verify_after_leaving(void **state)
{
	struct fixture *f = *state;
	struct pipeline_opts opts;
	struct sh a, b, c;
	struct recn rn;
	const struct pipeline_stage *st[4];
	const char *empty = "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855";

	memset(&rn, 0, sizeof rn);
	memset(&opts, 0, sizeof opts);
	opts.expect_sha256 = empty;
	opts.expect_bytes = 5;
	/* The producer ends its output at once but exits later. */
	st[0] = sh_stage(&a, "retrieve", "exec >&-; sleep 0.6");
	st[1] = NULL;
	st[2] = sh_stage(&b, "restore", "sleep 0.2");
	run_steps(f, st, 3, &opts, &rn);
	assert_string_equal(rn.r.failure, "checksum mismatch: archive has 5 "
	    "bytes sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca"
	    "495991b7852b855, got 0 bytes sha256 e3b0c44298fc1c149afbf4c899"
	    "6fb92427ae41e4649b934ca495991b7852b855");
	recn_clear(&rn);

	st[3] = watch_stage(&c, f);
	run_steps(f, st, 4, &opts, &rn);
	assert_non_null(strstr(rn.r.failure, "checksum mismatch"));
	assert_false(saw_eof(f, &rn));
	recn_clear(&rn);

	opts.expect_bytes = 0;
	run_steps(f, st, 4, &opts, &rn);
	assert_null(rn.r.failure);
	assert_true(exists(f->dir, "flag"));
	recn_clear(&rn);
}

/*
 * A step that cannot be run, wherever it stands: NULL with the reason,
 * nothing left running, no callback, and no process saw end-of-input.
 * Lists that are not pipelines are refused.
 */
static void
test_pipeline_steps_spawn_fails(void **state)
{
	struct fixture *f = *state;
	const char *argv[] = { "missing", "backup", NULL };
	struct pipeline_stage missing = { "missing", "/nonexistent/missing",
	    argv, NULL };
	const struct pipeline_stage *st[4];
	struct pipeline_step steps[4];
	struct sh a, b, c;
	struct recn rn;
	char *err;
	int pos;

	memset(&rn, 0, sizeof rn);
	for (pos = 0; pos < 4; pos++) {
		if (pos == 2)
			continue;
		st[0] = sh_stage(&a, "src", "exec cat /dev/zero");
		st[1] = sh_stage(&b, "mid", "exec cat");
		st[2] = NULL;
		st[3] = watch_stage(&c, f);
		st[pos] = &missing;
		make_steps(steps, st, 4);
		assert_null(pipeline_run(f->set, steps, 4,
		    &(struct pipeline_opts){ 0 }, &test_steps_cbs, &rn, &err));
		assert_string_equal(err, "cannot run /nonexistent/missing: "
		    "No such file or directory");
		free(err);
		run_until_reaped(f, 10);
		assert_int_equal(child_set_count(f->set), 0);
		assert_false(saw_eof(f, &rn));
	}
	assert_int_equal(rn.r.done, 0);
	assert_int_equal(rn.r.nlines, 0);

	/* A relay first, last or twice; no process at all. */
	st[0] = NULL;
	st[1] = sh_stage(&b, "mid", "exec cat");
	st[2] = NULL;
	st[3] = sh_stage(&c, "last", "exec cat");
	make_steps(steps, st, 4);
	assert_null(pipeline_run(f->set, steps, 2,
	    &(struct pipeline_opts){ 0 }, &test_steps_cbs, &rn, &err));
	assert_non_null(strstr(err, "relay"));
	free(err);
	assert_null(pipeline_run(f->set, steps + 1, 2,
	    &(struct pipeline_opts){ 0 }, &test_steps_cbs, &rn, &err));
	assert_non_null(strstr(err, "relay"));
	free(err);
	steps[0] = steps[1];
	steps[1].kind = PIPELINE_RELAY;
	steps[1].proc = NULL;
	assert_null(pipeline_run(f->set, steps, 3,
	    &(struct pipeline_opts){ 0 }, &test_steps_cbs, &rn, &err));
	assert_non_null(strstr(err, "relay"));
	free(err);
	assert_null(pipeline_run(f->set, steps, 0,
	    &(struct pipeline_opts){ 0 }, &test_steps_cbs, &rn, &err));
	assert_non_null(err);
	free(err);
	assert_int_equal(child_set_count(f->set), 0);
	assert_int_equal(rn.r.done, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_pipeline_relay_sha256),
		T(test_pipeline_relay_empty),
		T(test_pipeline_backpressure),
		T(test_pipeline_loop_responsive),
		T(test_pipeline_producer_fails),
		T(test_pipeline_consumer_fails),
		T(test_pipeline_consumer_stops_early),
		T(test_pipeline_stderr_lines),
		T(test_pipeline_long_line),
		T(test_pipeline_output_cap),
		T(test_pipeline_timeout),
		T(test_pipeline_idle),
		T(test_pipeline_cancel),
		T(test_pipeline_cancel_stubborn),
		T(test_pipeline_verify_match),
		T(test_pipeline_verify_mismatch),
		T(test_pipeline_input),
		T(test_pipeline_status_text),
		T(test_pipeline_spawn_fails),
		T(test_pipeline_free_anywhere),
		T(test_pipeline_fixture_plugins),
		T(test_pipeline_steps_three),
		T(test_pipeline_steps_four),
		T(test_pipeline_steps_middle_fails),
		T(test_pipeline_steps_middle_killed),
		T(test_pipeline_steps_reader_stops),
		T(test_pipeline_steps_reader_done_first),
		T(test_pipeline_steps_cancel),
		T(test_pipeline_steps_verify),
		T(test_pipeline_steps_verify_after_leaving),
		T(test_pipeline_steps_spawn_fails),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
