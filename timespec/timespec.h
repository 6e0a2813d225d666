/*
 * The timespec language: the human schedules of SHIELD ("daily at 4am",
 * "2nd tuesday at 23:15", "every 15 minutes from 00:05").  A schedule is
 * parsed once into a struct tspec, a plain value the caller owns (copy it,
 * compare it, store its canonical text), and timespec_next() answers when it
 * runs next after a given instant.  Nothing here allocates, logs, does I/O
 * or reads the clock: the caller passes "now", so every rule can be tested.
 *
 * Wall-clock schedules (hourly, daily, weekly, monthly) follow the local time
 * zone (TZ, through localtime_r()).  On a spring-forward day a wall time that
 * does not exist runs once, at the first instant after the gap (02:30 in New
 * York becomes 03:00 EDT); on a fall-back day a wall time that occurs twice
 * runs once, at its first occurrence.  Hourly schedules run in every real
 * hour whose clock shows the minute, so the repeated hour of a fall-back
 * night has its own run and the skipped hour of a spring-forward night none.
 *
 * Interval schedules ("every N minutes", "every N hours", "every quarter
 * hour") advance in real elapsed time on one fixed grid: the instants
 * N minutes apart that include the `from` time on 1 January 1970, counted in
 * the zone's standard (winter) time, that is the lower of its UTC offsets on
 * 1 January and 1 July of the year being scheduled.  The rhythm therefore
 * carries on across midnight and across DST changes, never skipping or
 * doubling a run: "every 7 hours from 00:00" runs at 21:00 and then 04:00
 * on 1-2 January 1970, and at 23:00 and then 06:00 on 1-2 January 2024.
 * An interval that divides a day shows the `from` time every day; while
 * summer time is in effect, one that does not divide an hour shows one
 * hour later on the clock.
 */
#ifndef SHIELD_TIMESPEC_H
#define SHIELD_TIMESPEC_H

#include <stddef.h>
#include <stdint.h>

/* Room for any error message of timespec_parse(), NUL included. */
#define TIMESPEC_ERR_MAX 128
/* Room for any canonical text, NUL included. */
#define TIMESPEC_CANONICAL_MAX 64

enum tspec_kind {
	TSPEC_NONE = 0,		/* not a parsed schedule */
	TSPEC_INTERVAL,		/* every `period` minutes, on a grid */
	TSPEC_HOURLY,		/* every hour at `minute` past */
	TSPEC_DAILY,		/* every day at hour:minute */
	TSPEC_WEEKLY,		/* every `wday` at hour:minute */
	TSPEC_MONTHDAY,		/* day `mday` of every month */
	TSPEC_MONTHWEEK,	/* the `week`th `wday` of every month */
};

/*
 * A parsed schedule.  Fields a kind does not use are zero, so two schedules
 * compare equal exactly when their fields do (timespec_equal() still
 * compares only the fields of the kind).  INTERVAL keeps its grid anchor,
 * reduced modulo the period, in hour and minute; MONTHDAY skips months
 * without day `mday`; the 1st `wday` of MONTHWEEK is within days 1-7 and a
 * month without a 5th one is skipped.
 */
struct tspec {
	enum tspec_kind	kind;
	int		period;	/* INTERVAL: minutes, 1-1440 */
	int		hour;	/* 0-23 */
	int		minute;	/* 0-59 */
	int		wday;	/* 0 (sunday) to 6 */
	int		mday;	/* 1-31 */
	int		week;	/* 1-5 */
};

/*
 * Parse text (case-insensitive) into *out.  0 on success; -1 with a one-line
 * human reason in err (if errlen > 0), *out then being zeroed.
 */
int	timespec_parse(const char *text, struct tspec *out, char *err,
	    size_t errlen);
/*
 * Write the canonical text of a schedule ("daily at 04:00"), which parses
 * back to an equal schedule; returns what snprintf() would, -1 if invalid.
 */
int	timespec_canonical(const struct tspec *, char *buf, size_t len);
/*
 * The first run strictly after `after` (seconds since the epoch), in the
 * local time zone; -1 if there is none or the schedule is invalid.  After
 * changing TZ the caller calls tzset(), as localtime_r() need not.
 */
int64_t	timespec_next(const struct tspec *, int64_t after);
/* 1 if two parsed schedules are the same schedule, else 0. */
int	timespec_equal(const struct tspec *, const struct tspec *);

#endif
