/*
 * throttle: the login rate limit.  After THROTTLE_FAILS failed logins for
 * one username within THROTTLE_WINDOW seconds, that username is refused for
 * THROTTLE_LOCKOUT seconds, whatever the password.  The state is a table of
 * a fixed number of slots keyed by a secret-keyed hash of the username, so
 * any number of distinct (even unknown) usernames uses the same memory.
 * Pure bookkeeping: the caller passes "now" and decides what to answer.
 *
 * Ownership: the caller owns the struct throttle (throttle_new/_free); no
 * username is kept, only its keyed hash.
 */
#ifndef SHIELD_THROTTLE_H
#define SHIELD_THROTTLE_H

#include <stddef.h>
#include <stdint.h>

#define THROTTLE_FAILS		5	/* failures that lock a username */
#define THROTTLE_WINDOW		60	/* seconds they are counted over */
#define THROTTLE_LOCKOUT	60	/* seconds a locked username waits */
#define THROTTLE_SLOTS		1024	/* usernames tracked at once */

struct throttle;

/* A table of nslots slots (THROTTLE_SLOTS in the daemon). */
struct throttle	*throttle_new(size_t nslots);
void		 throttle_free(struct throttle *);

/*
 * Admit an attempt for name at now: 0, and the attempt counts as in
 * progress until throttle_done(); or the seconds the client must wait
 * (>= 1) when the name is locked, or when its recent failures plus the
 * attempts already in progress reach THROTTLE_FAILS.
 */
int	throttle_admit(struct throttle *, const char *name, int64_t now);
/* How an admitted attempt ended. */
enum throttle_result {
	THROTTLE_FAILED,	/* counts towards the lock */
	THROTTLE_OK,		/* forgets the name's failures */
	THROTTLE_DROPPED,	/* never checked: changes nothing */
};

/*
 * An admitted attempt ended; the THROTTLE_FAILS-th failure within the window
 * locks the name for THROTTLE_LOCKOUT seconds.
 */
void	throttle_done(struct throttle *, const char *name, int64_t now,
	    enum throttle_result);
/* The number of slots in use (for tests). */
size_t	throttle_used(struct throttle *, int64_t now);

#endif
