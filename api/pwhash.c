/*
 * The password-hash worker pool.  Jobs wait in a FIFO under one mutex;
 * workers take one at a time, run libsodium's argon2id without holding the
 * lock, put the job on the done list and write a byte to a non-blocking
 * pipe.  The pipe's read end is an event on the loop, whose callback takes
 * the whole done list and calls each job back.  Only the loop thread ever
 * touches libevent or the callers' objects; workers see nothing but their
 * job.  A full pipe is fine: a byte already waiting means the loop will
 * look at the done list anyway.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/queue.h>
#include <unistd.h>

#include <sodium.h>
#include <event2/event.h>

#include "log.h"
#include "pwhash.h"
#include "xmalloc.h"

/*
 * argon2id at one of OWASP's equivalent minimums (7 MiB, 5 passes): the
 * same strength as 19 MiB with 2 passes, for a daemon that stays small.
 * Stored hashes carry their own parameters, so changing these never breaks
 * existing passwords.
 */
#define PWHASH_OPSLIMIT	5
#define PWHASH_MEMLIMIT	(7 * 1024 * 1024)

struct pwhash_job {
	int			 verify;	/* else make a new hash */
	char			*pw;
	char			*hash;		/* in: stored; out: new */
	int			 ok;
	pwhash_cb		 cb;
	void			*arg;
	TAILQ_ENTRY(pwhash_job)	 entry;
};
TAILQ_HEAD(pwhash_jobs, pwhash_job);

struct pwhash {
	pthread_mutex_t		 lock;
	pthread_cond_t		 wake;
	struct pwhash_jobs	 queue;		/* waiting for a worker */
	struct pwhash_jobs	 done;		/* waiting for the loop */
	size_t			 outstanding;	/* queued, running or done */
	size_t			 max;
	int			 stopping;
	pthread_t		*threads;
	int			 nthreads;
	int			 pipe[2];
	struct event		*ev;
};

/* Hash a password into a crypt-style string; NULL on failure. */
char *
pwhash_str(const char *pw)
{
	char out[crypto_pwhash_STRBYTES];

	if (crypto_pwhash_str_alg(out, pw, strlen(pw), PWHASH_OPSLIMIT,
	    PWHASH_MEMLIMIT, crypto_pwhash_ALG_ARGON2ID13) != 0)
		return NULL;
	return xstrdup(out);
}

/* Free a job, wiping the secrets it held. */
static void
pwhash_job_free(struct pwhash_job *j)
{
	if (j == NULL)
		return;
	if (j->pw != NULL) {
		sodium_memzero(j->pw, strlen(j->pw));
		free(j->pw);
	}
	free(j->hash);
	free(j);
}

/* A worker: take jobs until the pool stops. */
static void *
pwhash_worker(void *arg)
{
	struct pwhash *p = arg;
	struct pwhash_job *j;
	char *h;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		while (!p->stopping && TAILQ_EMPTY(&p->queue))
			pthread_cond_wait(&p->wake, &p->lock);
		if (p->stopping)
			break;
		j = TAILQ_FIRST(&p->queue);
		TAILQ_REMOVE(&p->queue, j, entry);
		pthread_mutex_unlock(&p->lock);

		if (j->verify)
			j->ok = crypto_pwhash_str_verify(j->hash, j->pw,
			    strlen(j->pw)) == 0;
		else {
			h = pwhash_str(j->pw);
			j->ok = h != NULL;
			j->hash = h;
		}
		sodium_memzero(j->pw, strlen(j->pw));

		pthread_mutex_lock(&p->lock);
		TAILQ_INSERT_TAIL(&p->done, j, entry);
		/* EAGAIN: a byte is already waiting, which is all it takes. */
		if (write(p->pipe[1], "", 1) == -1 && errno != EAGAIN)
			log_warn("pwhash: cannot wake the loop: %s",
			    strerror(errno));
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* On the loop: call back every finished job. */
static void
pwhash_done_cb(evutil_socket_t fd, short events, void *arg)
{
	struct pwhash *p = arg;
	struct pwhash_jobs done;
	struct pwhash_job *j;
	char buf[64];
	char *h;

	(void)events;
	while (read(fd, buf, sizeof buf) > 0)
		;
	TAILQ_INIT(&done);
	pthread_mutex_lock(&p->lock);
	TAILQ_CONCAT(&done, &p->done, entry);
	pthread_mutex_unlock(&p->lock);
	while ((j = TAILQ_FIRST(&done)) != NULL) {
		TAILQ_REMOVE(&done, j, entry);
		p->outstanding--;
		h = NULL;
		if (!j->verify) {
			h = j->hash;
			j->hash = NULL;
		}
		j->cb(j->ok, h, j->arg);
		pwhash_job_free(j);
	}
}

/* Start the pool. */
struct pwhash *
pwhash_new(struct event_base *base, int nthreads, size_t max)
{
	struct pwhash *p = xcalloc(1, sizeof *p);
	int i;

	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	TAILQ_INIT(&p->queue);
	TAILQ_INIT(&p->done);
	p->max = max > 0 ? max : 1;
	p->pipe[0] = p->pipe[1] = -1;
	if (pipe2(p->pipe, O_CLOEXEC | O_NONBLOCK) != 0)
		goto fail;
	if ((p->ev = event_new(base, p->pipe[0], EV_READ | EV_PERSIST,
	    pwhash_done_cb, p)) == NULL || event_add(p->ev, NULL) != 0)
		goto fail;
	p->threads = xcalloc((size_t)(nthreads > 0 ? nthreads : 1),
	    sizeof *p->threads);
	for (i = 0; i < (nthreads > 0 ? nthreads : 1); i++) {
		if ((errno = pthread_create(&p->threads[i], NULL,
		    pwhash_worker, p)) != 0)
			goto fail;
		p->nthreads++;
	}
	return p;

fail:
	log_warn("pwhash: cannot start: %s", strerror(errno));
	pwhash_free(p);
	return NULL;
}

/* Stop the workers and free everything; no more callbacks. */
void
pwhash_free(struct pwhash *p)
{
	struct pwhash_job *j;
	int i;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->stopping = 1;
	pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
	for (i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	while ((j = TAILQ_FIRST(&p->queue)) != NULL) {
		TAILQ_REMOVE(&p->queue, j, entry);
		pwhash_job_free(j);
	}
	while ((j = TAILQ_FIRST(&p->done)) != NULL) {
		TAILQ_REMOVE(&p->done, j, entry);
		pwhash_job_free(j);
	}
	if (p->ev != NULL)
		event_free(p->ev);
	if (p->pipe[0] != -1)
		close(p->pipe[0]);
	if (p->pipe[1] != -1)
		close(p->pipe[1]);
	free(p->threads);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* Queue a job unless the pool is full. */
static int
pwhash_submit(struct pwhash *p, int verify, const char *hash, const char *pw,
    pwhash_cb cb, void *arg)
{
	struct pwhash_job *j;

	if (p->outstanding >= p->max)
		return -1;
	j = xcalloc(1, sizeof *j);
	j->verify = verify;
	j->pw = xstrdup(pw);
	j->hash = hash != NULL ? xstrdup(hash) : NULL;
	j->cb = cb;
	j->arg = arg;
	p->outstanding++;
	pthread_mutex_lock(&p->lock);
	TAILQ_INSERT_TAIL(&p->queue, j, entry);
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

/* Check a password. */
int
pwhash_verify(struct pwhash *p, const char *hash, const char *pw,
    pwhash_cb cb, void *arg)
{
	return pwhash_submit(p, 1, hash, pw, cb, arg);
}

/* Make a new hash. */
int
pwhash_hash(struct pwhash *p, const char *pw, pwhash_cb cb, void *arg)
{
	return pwhash_submit(p, 0, NULL, pw, cb, arg);
}

/* Jobs not yet called back. */
size_t
pwhash_outstanding(struct pwhash *p)
{
	return p->outstanding;
}
