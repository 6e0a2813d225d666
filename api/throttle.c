/*
 * The login rate limit's table.  Each slot holds one username's keyed hash
 * (BLAKE2b under a key drawn at start, so nobody can pick names that share
 * a slot), its failure times within the window, its lock and the attempts
 * in progress.  A slot with none of those is free.  When every slot is
 * live, a new name replaces the slot that matters least: not locked, fewest
 * recent failures, oldest; so flooding the table with other names to make
 * it forget a victim's failures costs more attempts than it frees, and the
 * attempts themselves are paced by the password hash.  Slots with attempts
 * in progress are never replaced.
 */
#include <string.h>

#include <sodium.h>

#include "throttle.h"
#include "xmalloc.h"

#define THROTTLE_KEYLEN	16

struct throttle_slot {
	unsigned char	 key[THROTTLE_KEYLEN];
	int		 used;
	unsigned int	 pending;	/* admitted, not yet done */
	int		 nfails;
	int64_t		 fails[THROTTLE_FAILS];	/* oldest first */
	int64_t		 locked_until;
};

struct throttle {
	unsigned char		 secret[crypto_generichash_KEYBYTES];
	size_t			 nslots;
	struct throttle_slot	*slots;
};

/* A new table. */
struct throttle *
throttle_new(size_t nslots)
{
	struct throttle *t = xcalloc(1, sizeof *t);

	randombytes_buf(t->secret, sizeof t->secret);
	t->nslots = nslots > 0 ? nslots : 1;
	t->slots = xcalloc(t->nslots, sizeof *t->slots);
	return t;
}

/* Free the table. */
void
throttle_free(struct throttle *t)
{
	if (t == NULL)
		return;
	sodium_memzero(t->secret, sizeof t->secret);
	free(t->slots);
	free(t);
}

/* The name's keyed hash. */
static void
throttle_key(const struct throttle *t, const char *name,
    unsigned char key[THROTTLE_KEYLEN])
{
	crypto_generichash(key, THROTTLE_KEYLEN, (const unsigned char *)name,
	    strlen(name), t->secret, sizeof t->secret);
}

/* Forget failures older than the window; returns how many are left. */
static int
throttle_recent(struct throttle_slot *s, int64_t now)
{
	int i = 0;

	while (i < s->nfails && s->fails[i] <= now - THROTTLE_WINDOW)
		i++;
	if (i > 0) {
		memmove(s->fails, s->fails + i,
		    (size_t)(s->nfails - i) * sizeof s->fails[0]);
		s->nfails -= i;
	}
	return s->nfails;
}

/* 1 if the slot still holds anything worth remembering. */
static int
throttle_live(struct throttle_slot *s, int64_t now)
{
	return s->used && (s->pending > 0 || s->locked_until > now ||
	    throttle_recent(s, now) > 0);
}

/* The slot of a key, or NULL. */
static struct throttle_slot *
throttle_find(struct throttle *t, const unsigned char *key)
{
	size_t i;

	for (i = 0; i < t->nslots; i++) {
		if (t->slots[i].used && memcmp(t->slots[i].key, key,
		    THROTTLE_KEYLEN) == 0)
			return &t->slots[i];
	}
	return NULL;
}

/* 1 if slot a matters less than slot b (is the better one to replace). */
static int
throttle_lesser(const struct throttle_slot *a, const struct throttle_slot *b,
    int64_t now)
{
	int la = a->locked_until > now, lb = b->locked_until > now;

	if (la != lb)
		return la < lb;
	if (la)
		return a->locked_until < b->locked_until;
	if (a->nfails != b->nfails)
		return a->nfails < b->nfails;
	return a->fails[a->nfails - 1] < b->fails[b->nfails - 1];
}

/* A slot for a new key: a free one, else the least important; or NULL. */
static struct throttle_slot *
throttle_take(struct throttle *t, const unsigned char *key, int64_t now)
{
	struct throttle_slot *s, *victim = NULL;
	size_t i;

	for (i = 0; i < t->nslots; i++) {
		s = &t->slots[i];
		if (!throttle_live(s, now)) {
			victim = s;
			break;
		}
		if (s->pending > 0)
			continue;
		if (victim == NULL || throttle_lesser(s, victim, now))
			victim = s;
	}
	if (victim == NULL)
		return NULL;
	memset(victim, 0, sizeof *victim);
	memcpy(victim->key, key, THROTTLE_KEYLEN);
	victim->used = 1;
	return victim;
}

/* Admit an attempt, or say how long to wait. */
int
throttle_admit(struct throttle *t, const char *name, int64_t now)
{
	unsigned char key[THROTTLE_KEYLEN];
	struct throttle_slot *s;

	throttle_key(t, name, key);
	if ((s = throttle_find(t, key)) == NULL &&
	    (s = throttle_take(t, key, now)) == NULL)
		return 1;	/* every slot has an attempt in progress */
	if (s->locked_until > now)
		return (int)(s->locked_until - now);
	/*
	 * Attempts in progress count as failures until they end: otherwise
	 * a burst of simultaneous guesses would all be checked before the
	 * first failure was recorded.
	 */
	if (throttle_recent(s, now) + (int)s->pending >= THROTTLE_FAILS)
		return 1;
	s->pending++;
	return 0;
}

/* Record the end of an admitted attempt. */
void
throttle_done(struct throttle *t, const char *name, int64_t now,
    enum throttle_result result)
{
	unsigned char key[THROTTLE_KEYLEN];
	struct throttle_slot *s;

	throttle_key(t, name, key);
	if ((s = throttle_find(t, key)) == NULL)
		return;
	if (s->pending > 0)
		s->pending--;
	if (result == THROTTLE_DROPPED)
		return;
	if (result == THROTTLE_OK) {
		s->nfails = 0;
		return;
	}
	if (throttle_recent(s, now) == THROTTLE_FAILS) {
		memmove(s->fails, s->fails + 1,
		    (THROTTLE_FAILS - 1) * sizeof s->fails[0]);
		s->nfails--;
	}
	s->fails[s->nfails++] = now;
	if (s->nfails >= THROTTLE_FAILS) {
		s->locked_until = now + THROTTLE_LOCKOUT;
		s->nfails = 0;
	}
}

/* The number of live slots. */
size_t
throttle_used(struct throttle *t, int64_t now)
{
	size_t i, n = 0;

	for (i = 0; i < t->nslots; i++)
		n += throttle_live(&t->slots[i], now);
	return n;
}
