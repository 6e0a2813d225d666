/*
 * relay: the daemon's own stage in a pipeline's stream, one buffer between
 * the process before it and the process after it.  Every byte read is
 * counted and hashed (SHA-256), and written on at once; while a restore's
 * expected size and SHA-256 are set, the last RELAY_HOLD bytes are held
 * back until the whole stream has been checked, so the next process never
 * sees the end of a stream that does not match.  The relay moves and checks
 * bytes only: the pipeline (pipeline.c) owns the descriptors, their events,
 * back-pressure and what a failure means.
 *
 * Ownership: a relay belongs to its pipeline; it never closes a descriptor.
 */
#ifndef SHIELD_RELAY_H
#define SHIELD_RELAY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define RELAY_HOLD	(64 * 1024)	/* held back while verifying */

struct relay;

/*
 * A relay; with expect_sha256 set, the stream must be exactly expect_bytes
 * bytes with that SHA-256 (hex, any case).
 */
struct relay	*relay_new(const char *expect_sha256, int64_t expect_bytes);
void		 relay_free(struct relay *);
/* Bytes to pass on that were not read from a process: not counted. */
void		 relay_preload(struct relay *, const void *, size_t);
/*
 * Read once from fd into the buffer: the bytes read (counted and hashed),
 * 0 at end of input, or -1 with errno set (EAGAIN: nothing for now).
 */
ssize_t		 relay_read(struct relay *, int fd);
/* 1 once more bytes were read than the expected size, said in why. */
int		 relay_too_long(const struct relay *, char *why, size_t whylen);
/*
 * Write what may be written to fd (all but the held tail until the stream
 * is verified): 0 when it is all written, 1 when fd would block, -1 with
 * errno set.
 */
int		 relay_write(struct relay *, int fd);
/*
 * The input ended: 0 if nothing was expected or the stream matches (the
 * held tail may go now), else -1 with the mismatch described in why.
 */
int		 relay_verify(struct relay *, char *why, size_t whylen);
/* Bytes read so far. */
int64_t		 relay_bytes(const struct relay *);
/* Bytes in the buffer not written yet. */
size_t		 relay_pending(const struct relay *);
/* The SHA-256 (hex) of what was read; reading it ends the hashing. */
const char	*relay_sha256(struct relay *);

#endif
