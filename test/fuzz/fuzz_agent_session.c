/*
 * libFuzzer target for shield-agent's side of the wire protocol
 * (agent_proto.h): what a caller sends after the TLS handshake.  The
 * session code is compiled into this file, so its static parser runs as it
 * is, on a session whose connection is one end of a bufferevent pair (no
 * TLS, no network).  The first byte of the input picks the mode and how
 * many bytes reach the session at a time; the rest is the caller's stream.
 *
 * Request mode: the request line.  The plugin directory holds one plugin
 * and max-requests is 0, so a request is checked all the way (JSON, version,
 * action, plugin name, endpoint, its secrets) and then refused; nothing is
 * run.  Exactly one exit frame, {"exit": 1, "error": ...}, must answer a
 * complete line, and nothing must answer an incomplete one.
 *
 * Restore mode: the frames of a running restore, whose plugin's stdin is a
 * pipe.  The bytes that reach the pipe must be exactly the payloads of the
 * data frames before the end frame, whatever the chunking (before a bad
 * frame, a part of them: the plugin is killed then, never given end of
 * input); a bad frame must end the session, the end frame must close the
 * plugin's stdin.
 */
#include <fcntl.h>
#include <limits.h>
#include <unistd.h>

#include "session.c"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_IN_MAX	(256 * 1024)

enum fuzz_outcome {
	FUZZ_MORE,		/* waiting for more frames */
	FUZZ_END,		/* the end frame came */
	FUZZ_BAD,		/* a protocol error */
};

static struct event_base	*fuzz_base;
static struct session_set	*fuzz_set;
static char			 fuzz_dir[PATH_MAX];
static char			 fuzz_plugin[PATH_MAX + 8];

/* Remove the plugin directory at exit. */
static void
fuzz_cleanup(void)
{
	unlink(fuzz_plugin);
	rmdir(fuzz_dir);
}

/*
 * One event base, a plugin directory with "fs" in it (under $TMPDIR, which
 * run.sh removes even after a crash), a session set.
 */
static void
fuzz_init(void)
{
	struct session_config cfg;
	const char *tmp = getenv("TMPDIR");

	log_init(LOG_LEVEL_ERROR, "fuzz");
	snprintf(fuzz_dir, sizeof fuzz_dir, "%s/shield-fuzz-agent.XXXXXX",
	    tmp != NULL && *tmp != '\0' ? tmp : "/tmp");
	if ((fuzz_base = event_base_new()) == NULL ||
	    mkdtemp(fuzz_dir) == NULL)
		abort();
	snprintf(fuzz_plugin, sizeof fuzz_plugin, "%s/fs", fuzz_dir);
	if (symlink("/bin/true", fuzz_plugin) != 0)
		abort();
	atexit(fuzz_cleanup);
	memset(&cfg, 0, sizeof cfg);
	cfg.base = fuzz_base;
	cfg.plugins = plugins_new(NULL, fuzz_dir);
	cfg.max_requests = 0;		/* every request is refused */
	fuzz_set = session_set_new(&cfg);
}

/* A session as session_set_accept() makes one, on a bufferevent pair. */
static struct session *
fuzz_session(struct bufferevent **peer)
{
	struct bufferevent *pair[2];
	struct session *s;

	if (bufferevent_pair_new(fuzz_base, 0, pair) != 0)
		abort();
	s = xcalloc(1, sizeof *s);
	s->set = fuzz_set;
	s->state = SESSION_HELLO;
	s->out_fd = s->in_fd = s->err_fd = -1;
	snprintf(s->peer, sizeof s->peer, "fuzz");
	evtimer_assign(&s->timer, fuzz_base, session_timer_cb, s);
	event_assign(&s->free_ev, fuzz_base, -1, 0, session_free_cb, s);
	s->bev = pair[0];
	*peer = pair[1];
	/* The caller's bytes are put straight into the session's input. */
	evbuffer_unfreeze(bufferevent_get_input(s->bev), 0);
	LIST_INSERT_HEAD(&fuzz_set->sessions, s, entry);
	fuzz_set->count++;
	return s;
}

/* The frames a reference reading of the stream finds; payload into out. */
static enum fuzz_outcome
fuzz_frames(const uint8_t *p, size_t n, struct evbuffer *out, size_t *rest)
{
	size_t len;

	*rest = 0;
	while (n >= AGENT_PROTO_FRAME_HEAD) {
		len = (size_t)p[1] << 24 | (size_t)p[2] << 16 |
		    (size_t)p[3] << 8 | p[4];
		if (len > AGENT_PROTO_FRAME_MAX)
			return FUZZ_BAD;
		if (p[0] == AGENT_PROTO_END && len == 0) {
			*rest = n - AGENT_PROTO_FRAME_HEAD;
			return FUZZ_END;
		}
		if (p[0] != AGENT_PROTO_DATA)
			return FUZZ_BAD;
		if (n < AGENT_PROTO_FRAME_HEAD + len)
			break;
		evbuffer_add(out, p + AGENT_PROTO_FRAME_HEAD, len);
		p += AGENT_PROTO_FRAME_HEAD + len;
		n -= AGENT_PROTO_FRAME_HEAD + len;
	}
	return FUZZ_MORE;
}

/* Append a copy of src to dst. */
static void
fuzz_copy(struct evbuffer *dst, struct evbuffer *src)
{
	size_t n = evbuffer_get_length(src);

	if (n > 0)
		evbuffer_add(dst, evbuffer_pullup(src, -1), n);
}

/* Everything the session sent back: one exit frame at most. */
static void
fuzz_check_reply(struct session *s, struct bufferevent *peer, int answered)
{
	struct evbuffer *all = evbuffer_new();
	const cJSON *code, *err;
	unsigned char *p;
	size_t n, len;
	cJSON *o;

	/* Copied: a bufferevent's buffers cannot be drained from outside. */
	if (s->bev != NULL)
		fuzz_copy(all, bufferevent_get_output(s->bev));
	fuzz_copy(all, bufferevent_get_input(peer));
	n = evbuffer_get_length(all);
	p = evbuffer_pullup(all, -1);
	if (!answered) {
		if (n != 0)
			abort();
		evbuffer_free(all);
		return;
	}
	if (n < AGENT_PROTO_FRAME_HEAD || p[0] != AGENT_PROTO_EXIT)
		abort();
	len = (size_t)p[1] << 24 | (size_t)p[2] << 16 | (size_t)p[3] << 8 |
	    p[4];
	if (len > AGENT_PROTO_FRAME_MAX || n != AGENT_PROTO_FRAME_HEAD + len)
		abort();
	o = cJSON_ParseWithLength((const char *)p + AGENT_PROTO_FRAME_HEAD,
	    len);
	code = cJSON_GetObjectItemCaseSensitive(o, "exit");
	err = cJSON_GetObjectItemCaseSensitive(o, "error");
	if (!cJSON_IsNumber(code) || code->valueint != 1 ||
	    !cJSON_IsString(err) || err->valuestring[0] == '\0')
		abort();
	cJSON_Delete(o);
	evbuffer_free(all);
}

/* Run one caller's stream through a session. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bufferevent *peer;
	struct evbuffer *want, *got;
	struct session *s;
	enum fuzz_outcome outcome = FUZZ_MORE;
	size_t off, chunk, n, rest = 0;
	int restore, pfd[2] = { -1, -1 }, answered;
	char buf[65536];
	ssize_t r;

	if (fuzz_base == NULL)
		fuzz_init();
	if (size < 1 || size > FUZZ_IN_MAX)
		return 0;
	restore = data[0] & 1;
	chunk = (data[0] >> 1) == 0 ? size : (size_t)(data[0] >> 1);
	data++;
	size--;
	s = fuzz_session(&peer);
	want = evbuffer_new();
	got = evbuffer_new();
	if (restore) {
		/* As session_start() leaves a restore, without a plugin. */
		if (pipe2(pfd, O_NONBLOCK | O_CLOEXEC) != 0)
			abort();
		fcntl(pfd[1], F_SETPIPE_SZ, 1024 * 1024);
		s->state = SESSION_RUNNING;
		s->action = SESSION_RESTORE;
		s->plugin = xstrdup("fs");
		s->in_fd = pfd[1];
		s->in_buf = evbuffer_new();
		event_assign(&s->in_ev, fuzz_base, s->in_fd, EV_WRITE,
		    session_in_cb, s);
		fuzz_set->running++;
		s->counted = 1;
		outcome = fuzz_frames(data, size, want, &rest);
	}
	for (off = 0; off < size && s->bev != NULL &&
	    s->state != SESSION_DEAD; off += n) {
		n = size - off < chunk ? size - off : chunk;
		evbuffer_add(bufferevent_get_input(s->bev), data + off, n);
		session_input(s);
	}
	if (restore) {
		while ((r = read(pfd[0], buf, sizeof buf)) > 0)
			evbuffer_add(got, buf, (size_t)r);
		/*
		 * After a bad frame the plugin is killed without end of input,
		 * so the data before it need not all have reached it.
		 */
		n = evbuffer_get_length(got);
		if (n > evbuffer_get_length(want) || (n > 0 &&
		    memcmp(evbuffer_pullup(got, -1), evbuffer_pullup(want, -1),
		    n) != 0) || (outcome != FUZZ_BAD &&
		    n != evbuffer_get_length(want)))
			abort();
		switch (outcome) {
		case FUZZ_MORE:
			if (s->state != SESSION_RUNNING || s->in_end)
				abort();
			break;
		case FUZZ_END:
			/* What follows the end frame may be refused too. */
			if (s->state == SESSION_DEAD && rest >=
			    AGENT_PROTO_FRAME_HEAD)
				break;
			if (s->state != SESSION_RUNNING || !s->in_end ||
			    s->in_fd != -1)
				abort();
			break;
		case FUZZ_BAD:
			if (s->state != SESSION_DEAD)
				abort();
			break;
		}
		close(pfd[0]);
	} else {
		answered = memchr(data, '\n', size) != NULL;
		if (s->state != (answered ? SESSION_FINISHING : SESSION_HELLO))
			abort();
		fuzz_check_reply(s, peer, answered);
	}
	/* Done: released on the next loop turn, as always. */
	session_kill(s);
	event_base_loop(fuzz_base, EVLOOP_NONBLOCK);
	bufferevent_free(peer);
	evbuffer_free(want);
	evbuffer_free(got);
	if (fuzz_set->count != 0 || fuzz_set->running != 0)
		abort();
	return 0;
}
