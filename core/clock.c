/*
 * The daemon's notion of now.  One function, so every module reads time the
 * same way; the scheduler can be given another clock for tests.
 */
#include <time.h>

#include "daemon.h"

/* Seconds since the epoch. */
int64_t
shieldd_now(void)
{
	return (int64_t)time(NULL);
}
