/*
 * The timestamp formats of the API: UTC "YYYY-MM-DD HH:MM:SS" for output and
 * "YYYYMMDD" for the archive filters.  Pure functions on caller buffers.
 */
#ifndef SHIELD_TIMEFMT_H
#define SHIELD_TIMEFMT_H

#include <stdint.h>

#define TIMEFMT_LEN 19
typedef char timefmt_buf[TIMEFMT_LEN + 1];

/* Format t (seconds since the epoch) as UTC into out. */
void	timefmt_utc(int64_t t, timefmt_buf out);
/* Parse "YYYY-MM-DD HH:MM:SS" (UTC); 0 on success, -1 if malformed. */
int	timefmt_parse_utc(const char *, int64_t *);
/* Parse "YYYYMMDD" as UTC midnight; 0 on success, -1 if malformed. */
int	timefmt_parse_day(const char *, int64_t *);

#endif
