/*
 * pwhash: argon2id password hashing and checking off the event loop.  A
 * check costs tens of milliseconds of CPU and several MiB of memory, too
 * much for the loop that serves every request, so jobs go to a small pool
 * of worker threads through a bounded queue and their results come back
 * to the loop through a pipe event; callbacks always run on the loop.
 * When the queue is full, a submit fails at once instead of queueing
 * without bound, and the caller answers "try again".
 *
 * Ownership: the caller owns the struct pwhash.  Submit copies the password
 * and hash (the copies are wiped when the job ends).  pwhash_free() waits
 * for the running jobs and drops the others without calling their
 * callbacks: a caller with jobs outstanding answers them itself.
 */
#ifndef SHIELD_PWHASH_H
#define SHIELD_PWHASH_H

#include <stddef.h>

struct event_base;
struct pwhash;

/*
 * A finished job, on the loop: for a check, ok is 1 when the password
 * matches and 0 when not (or the hash is malformed), hash is NULL; for a
 * new hash, ok is 1 and hash the crypt-style string (the callback owns it)
 * or ok is 0 and hash NULL on failure.
 */
typedef void	(*pwhash_cb)(int ok, char *hash, void *arg);

/* nthreads workers; at most max jobs outstanding. NULL on failure. */
struct pwhash	*pwhash_new(struct event_base *, int nthreads, size_t max);
void		 pwhash_free(struct pwhash *);
/* Check pw against a stored hash; 0, or -1 when the queue is full. */
int		 pwhash_verify(struct pwhash *, const char *hash,
		    const char *pw, pwhash_cb, void *arg);
/* Hash pw with the daemon's parameters; 0, or -1 when the queue is full. */
int		 pwhash_hash(struct pwhash *, const char *pw, pwhash_cb,
		    void *arg);
/* Jobs submitted and not yet called back. */
size_t		 pwhash_outstanding(struct pwhash *);

/* Hash pw synchronously (startup only, before the loop serves); NULL. */
char		*pwhash_str(const char *pw);

#endif
