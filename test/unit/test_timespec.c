/*
 * Unit tests of the timespec module: every form of the language and every
 * rejected one, canonical round trips, next-run tables around month and
 * year ends, leap days, 31st-day and 5th-weekday skipping, DST transitions
 * in New York and Berlin, a day-level brute-force cross-check in UTC over
 * 1970-2100, and a fuzz-style loop of random and mutated text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "timespec.h"

struct form {
	const char	*text;
	const char	*canonical;
};

/* Every accepted form, with the canonical text it must print. */
static const struct form forms[] = {
	{ "every minute", "every minute" },
	{ "Every Minute", "every minute" },
	{ "every 1 minute", "every minute" },
	{ "every 5 minutes", "every 5 minutes from 00:00" },
	{ "every 15 minutes from 0:05", "every 15 minutes from 00:05" },
	{ "every 15 minutes from 10", "every 15 minutes from 00:10" },
	{ "every 15 mins from 4:40", "every 15 minutes from 00:10" },
	{ "every 90 minutes from 6:00", "every 90 minutes from 00:00" },
	{ "every 90 minutes from 1:00am", "every 90 minutes from 01:00" },
	{ "every 60 minutes from 00:15", "every 1 hour from 00:15" },
	{ "every 1440 minutes from 4:00", "every 24 hours from 04:00" },
	{ "hourly at 15", "hourly at :15" },
	{ "hourly at :15", "hourly at :15" },
	{ "hourly at x:15", "hourly at :15" },
	{ "hourly at X:15", "hourly at :15" },
	{ "hourly at h:15", "hourly at :15" },
	{ "hourly at *:15", "hourly at :15" },
	{ "hourly 10", "hourly at :10" },
	{ "hourly at quarter after", "hourly at :15" },
	{ "hourly at quarter past", "hourly at :15" },
	{ "hourly at quarter til", "hourly at :45" },
	{ "hourly at half past", "hourly at :30" },
	{ "hourly at 23 after", "hourly at :23" },
	{ "hourly at 23 past", "hourly at :23" },
	{ "hourly at 10 til", "hourly at :50" },
	{ "hourly at 10 until", "hourly at :50" },
	{ "hourly at 10 till", "hourly at :50" },
	{ "hourly at 0", "hourly at :00" },
	{ "hourly", "hourly at :00" },
	{ "every hour", "hourly at :00" },
	{ "every hour at 15", "hourly at :15" },
	{ "every hour at h:30", "hourly at :30" },
	{ "every         hour 45", "hourly at :45" },
	{ "Every HOUR at H:30", "hourly at :30" },
	{ "every quarter hour from 10", "every 15 minutes from 00:10" },
	{ "every quarter hour from :03", "every 15 minutes from 00:03" },
	{ "every quarter hour from 0:15", "every 15 minutes from 00:00" },
	{ "every quarter hour", "every 15 minutes from 00:00" },
	{ "every half hour from 5", "every 30 minutes from 00:05" },
	{ "every half hour from 0:15", "every 30 minutes from 00:15" },
	{ "every hour from 0:20", "every 1 hour from 00:20" },
	{ "every 1 hour from 0:15", "every 1 hour from 00:15" },
	{ "every 1 hours from 00:15am", "every 1 hour from 00:15" },
	{ "every 4 hours from 3:15", "every 4 hours from 03:15" },
	{ "every 4 hours from 5:30", "every 4 hours from 01:30" },
	{ "every 6 hours from 4:39", "every 6 hours from 04:39" },
	{ "every 2 hours from 1:30am", "every 2 hours from 01:30" },
	{ "every 7 hours", "every 7 hours from 00:00" },
	{ "every 24 hours from 4pm", "every 24 hours from 16:00" },
	{ "daily at 4am", "daily at 04:00" },
	{ "daily 4am", "daily at 04:00" },
	{ "daily 16:30", "daily at 16:30" },
	{ "daily at 2:30", "daily at 02:30" },
	{ "daily at 14:30", "daily at 14:30" },
	{ "daily at 2:30am", "daily at 02:30" },
	{ "daily at 2:30pm", "daily at 14:30" },
	{ "daily at 2:30 pm", "daily at 14:30" },
	{ "daily at 2 pm", "daily at 14:00" },
	{ "daily at 2 p.m.", "daily at 14:00" },
	{ "daily at 12am", "daily at 00:00" },
	{ "daily at 12pm", "daily at 12:00" },
	{ "daily at 12:30am", "daily at 00:30" },
	{ "daily at noon", "daily at 12:00" },
	{ "daily at midnight", "daily at 00:00" },
	{ "daily at 0:00", "daily at 00:00" },
	{ "daily at 23:59", "daily at 23:59" },
	{ "every day at 4:30pm", "daily at 16:30" },
	{ "every day 4am", "daily at 04:00" },
	{ "every         day 4am", "daily at 04:00" },
	{ "daIly At 2:30PM", "daily at 14:30" },
	{ "     daily\t\tat\n\n\n  \r\t\r\t4    pm\t\t", "daily at 16:00" },
	{ "weekly at 11pm on sundays", "weekly at 23:00 on sunday" },
	{ "weekly at 5:35pm on sun", "weekly at 17:35 on sunday" },
	{ "weekly at 5:35pm on mondays", "weekly at 17:35 on monday" },
	{ "weekly at 5:35pm on tues", "weekly at 17:35 on tuesday" },
	{ "weekly at 5:35pm on wed", "weekly at 17:35 on wednesday" },
	{ "weekly at 5:35pm on thurs", "weekly at 17:35 on thursday" },
	{ "weekly at 5:35pm on fridays", "weekly at 17:35 on friday" },
	{ "weekly at 5:35pm on saturday", "weekly at 17:35 on saturday" },
	{ "weekly 5:35pm on sat", "weekly at 17:35 on saturday" },
	{ "weekly at 5:35pm sat", "weekly at 17:35 on saturday" },
	{ "weekly 5:35pm sat", "weekly at 17:35 on saturday" },
	{ "weekly on sunday at 1am", "weekly at 01:00 on sunday" },
	{ "sundays at 8am", "weekly at 08:00 on sunday" },
	{ "Sunday at 2:30", "weekly at 02:30 on sunday" },
	{ "thu at 2:00", "weekly at 02:00 on thursday" },
	{ "thur 5:35pm", "weekly at 17:35 on thursday" },
	{ "TuesDay at 2:30", "weekly at 02:30 on tuesday" },
	{ "every sunday at 8am", "weekly at 08:00 on sunday" },
	{ "monthly at 3am on 15th", "monthly at 03:00 on 15th" },
	{ "monthly at 3:00 on 2", "monthly at 03:00 on 2nd" },
	{ "monthly at 11:01pm on 4th", "monthly at 23:01 on 4th" },
	{ "monthly at 11:01pm on 19st", "monthly at 23:01 on 19th" },
	{ "monthly 11:01pm 19st", "monthly at 23:01 on 19th" },
	{ "monthly at 11:01pm 19st", "monthly at 23:01 on 19th" },
	{ "monthly 11:01pm on 19st", "monthly at 23:01 on 19th" },
	{ "monthly at 1am on the 31st", "monthly at 01:00 on 31st" },
	{ "monthly on the 1st at 1am", "monthly at 01:00 on 1st" },
	{ "monthly at 4pm on 22", "monthly at 16:00 on 22nd" },
	{ "monthly at 4pm on 23", "monthly at 16:00 on 23rd" },
	{ "monthly at 4pm on 11", "monthly at 16:00 on 11th" },
	{ "monthly at 23:15 on 2nd tuesday",
	  "monthly at 23:15 on 2nd tuesday" },
	{ "2nd tuesday at 23:15", "monthly at 23:15 on 2nd tuesday" },
	{ "2st tuesday at 23:15", "monthly at 23:15 on 2nd tuesday" },
	{ "2rd tuesday at 23:15", "monthly at 23:15 on 2nd tuesday" },
	{ "2th tuesday at 23:15", "monthly at 23:15 on 2nd tuesday" },
	{ "1st sun at 5:30am", "monthly at 05:30 on 1st sunday" },
	{ "4th fridays at 8am", "monthly at 08:00 on 4th friday" },
	{ "4th fridays 8am", "monthly at 08:00 on 4th friday" },
	{ "5th sat at noon", "monthly at 12:00 on 5th saturday" },
	{ "3rd wed at 1:05", "monthly at 01:05 on 3rd wednesday" },
};

#define NFORMS (sizeof forms / sizeof forms[0])

struct bad {
	const char	*text;
	const char	*error;
};

/* Rejected text and the exact reason given. */
static const struct bad bads[] = {
	{ "", "empty timespec" },
	{ "   \t ", "empty timespec" },
	{ "daily at 25:00", "hour 25 is out of range (0-23)" },
	{ "daily at 24:00", "hour 24 is out of range (0-23)" },
	{ "daily at 13pm", "hour 13 is out of range with am/pm (1-12)" },
	{ "daily at 14:30am", "hour 14 is out of range with am/pm (1-12)" },
	{ "daily at 4:60", "minute 60 is out of range (0-59)" },
	{ "daily at 4:99pm", "minute 99 is out of range (0-59)" },
	{ "hourly at 60", "minute 60 is out of range (0-59)" },
	{ "hourly at :75", "minute 75 is out of range (0-59)" },
	{ "hourly at 0 til", "'0 til' is out of range (1-59 til)" },
	{ "monthly at 3am on 0", "day 0 is out of range (1-31)" },
	{ "monthly at 3am on 32nd", "day 32 is out of range (1-31)" },
	{ "monthly at 3am on 0th", "day 0 is out of range (1-31)" },
	{ "0th tuesday at 1am", "0th tuesday is out of range (1st-5th)" },
	{ "6th fri at 1am", "6th friday is out of range (1st-5th)" },
	{ "monthly at 1am on 6th sunday",
	  "6th sunday is out of range (1st-5th)" },
	{ "every 0 minutes", "an interval of 0 minutes is too short: a "
	  "schedule runs at most once a minute" },
	{ "every 0 hours from 1:00", "an interval of 0 hours is too short: a "
	  "schedule runs at most once a minute" },
	{ "every 30 seconds", "a schedule cannot run more often than once "
	  "a minute" },
	{ "every second", "a schedule cannot run more often than once a "
	  "minute" },
	{ "every 25 hours", "an interval of 25 hours is too long (at most "
	  "24)" },
	{ "every 1441 minutes", "an interval of 1441 minutes is too long (at "
	  "most 1440)" },
	{ "daily at 4 banana", "unknown word 'banana'" },
	{ "fortnightly at 4am", "unknown word 'fortnightly'" },
	{ "hourdrilbburdrilbbly\v\n", "unknown word 'hourdrilbburdril...'" },
	{ "daily at 4", "a time needs minutes or am/pm, like 4:00 or 4am" },
	{ "daily", "expected a time like 4am or 16:30, found the end of the "
	  "text" },
	{ "daily at", "expected a time like 4am or 16:30, found the end of "
	  "the text" },
	{ "daily at 4am please", "unknown word 'please'" },
	{ "daily at 4am on sunday", "unexpected 'on' after the schedule" },
	{ "daily at 4am 5pm", "unexpected '5' after the schedule" },
	{ "daily at 4.30", "unexpected character '.'" },
	{ "daily at 4:30 \xc3\xa9", "unexpected byte 0xc3" },
	{ "weekly at 4am", "expected a day of the week like sunday or sun, "
	  "found the end of the text" },
	{ "monthly at 4am", "expected a day of the month like 15th or a "
	  "weekday like 2nd tuesday, found the end of the text" },
	{ "hourly at 2:15", "minutes past the hour are written 15, :15 or "
	  "x:15, not 2:" },
	{ "hourly at quarter", "expected 'after' or 'til' after 'quarter'" },
	{ "every 4 hours from 3", "'from 3' is ambiguous: write a time like "
	  "4:00, 4am or 0:15" },
	{ "every 5 days", "expected 'minutes' or 'hours' after 'every 5', "
	  "found 'days'" },
	{ "every", "expected 'minute', 'N minutes', 'N hours', 'hour', 'day' "
	  "or a weekday after 'every', found the end of the text" },
	{ "4am daily", "a timespec starts with every, hourly, daily, weekly, "
	  "monthly, a weekday or an ordinal like 2nd; found '4'" },
	{ "every 99999999999 minutes", "number 999999999... is too large" },
	{ "at at at at at at at at at at at at at at at at at at at at at at "
	  "at at at at at at at at at at at", "timespec is too long" },
};

#define NBADS (sizeof bads / sizeof bads[0])

/* Switch the local time zone for the tests that follow. */
static void
set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

/* Parse a spec that must be valid. */
static struct tspec
must_parse(const char *text)
{
	char err[TIMESPEC_ERR_MAX];
	struct tspec ts;

	if (timespec_parse(text, &ts, err, sizeof err) != 0)
		fail_msg("\"%s\" failed to parse: %s", text, err);
	return ts;
}

/* A local "YYYY-MM-DD HH:MM[:SS]" as an instant (not for ambiguous ones). */
static int64_t
at(const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, sec = 0;

	if (sscanf(s, "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &sec) < 5)
		fail_msg("bad test time %s", s);
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	tm.tm_isdst = -1;
	return (int64_t)mktime(&tm);
}

/* Format an instant as local "YYYY-MM-DD HH:MM:SS ZONE". */
static void
fmt(int64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	localtime_r(&tt, &tm);
	strftime(buf, len, "%Y-%m-%d %H:%M:%S %Z", &tm);
}

/* Check the next runs of spec after `from` against a table of local times
 * with their zone abbreviations. */
static void
check_runs(const char *spec, int64_t from, const char **want, int n)
{
	struct tspec ts = must_parse(spec);
	char got[64];
	int64_t t = from, prev;
	int i;

	for (i = 0; i < n; i++) {
		prev = t;
		t = timespec_next(&ts, t);
		assert_true(t > prev);
		fmt(t, got, sizeof got);
		if (strcmp(got, want[i]) != 0)
			fail_msg("%s, run %d: got %s, want %s", spec, i, got,
			    want[i]);
	}
}

#define CHECK_RUNS(spec, from, ...) do {				\
	const char *want_[] = { __VA_ARGS__ };				\
	check_runs((spec), (from), want_,				\
	    (int)(sizeof want_ / sizeof want_[0]));			\
} while (0)

/* Every form parses to the expected canonical text. */
static void
test_timespec_parse_forms(void **state)
{
	char err[TIMESPEC_ERR_MAX], buf[TIMESPEC_CANONICAL_MAX];
	struct tspec ts;
	size_t i;
	int n;

	for (i = 0; i < NFORMS; i++) {
		if (timespec_parse(forms[i].text, &ts, err, sizeof err) != 0)
			fail_msg("\"%s\": %s", forms[i].text, err);
		n = timespec_canonical(&ts, buf, sizeof buf);
		assert_int_equal(n, (int)strlen(buf));
		if (strcmp(buf, forms[i].canonical) != 0)
			fail_msg("\"%s\": canonical \"%s\", want \"%s\"",
			    forms[i].text, buf, forms[i].canonical);
	}
}

/* The parsed fields are the ones the text says. */
static void
test_timespec_parse_fields(void **state)
{
	struct tspec ts;

	ts = must_parse("2nd tuesday at 23:15");
	assert_int_equal(ts.kind, TSPEC_MONTHWEEK);
	assert_int_equal(ts.week, 2);
	assert_int_equal(ts.wday, 2);
	assert_int_equal(ts.hour, 23);
	assert_int_equal(ts.minute, 15);
	assert_int_equal(ts.mday, 0);

	ts = must_parse("monthly at 3am on 15th");
	assert_int_equal(ts.kind, TSPEC_MONTHDAY);
	assert_int_equal(ts.mday, 15);
	assert_int_equal(ts.hour, 3);

	ts = must_parse("weekly at 11pm on sundays");
	assert_int_equal(ts.kind, TSPEC_WEEKLY);
	assert_int_equal(ts.wday, 0);
	assert_int_equal(ts.hour, 23);

	ts = must_parse("every 4 hours from 3:15");
	assert_int_equal(ts.kind, TSPEC_INTERVAL);
	assert_int_equal(ts.period, 240);
	assert_int_equal(ts.hour, 3);
	assert_int_equal(ts.minute, 15);

	ts = must_parse("hourly at 10 til");
	assert_int_equal(ts.kind, TSPEC_HOURLY);
	assert_int_equal(ts.minute, 50);
}

/* Every bad text is refused with its reason, and *out is zeroed. */
static void
test_timespec_parse_errors(void **state)
{
	char err[TIMESPEC_ERR_MAX];
	struct tspec ts;
	size_t i;

	for (i = 0; i < NBADS; i++) {
		memset(&ts, 0x5a, sizeof ts);
		if (timespec_parse(bads[i].text, &ts, err, sizeof err) == 0)
			fail_msg("\"%s\" parsed", bads[i].text);
		if (strcmp(err, bads[i].error) != 0)
			fail_msg("\"%s\": error \"%s\", want \"%s\"",
			    bads[i].text, err, bads[i].error);
		assert_int_equal(ts.kind, TSPEC_NONE);
		assert_int_equal(timespec_next(&ts, 0), -1);
	}
	/* No error buffer, a tiny one, and no text at all. */
	assert_int_equal(timespec_parse("daily at 99:00", &ts, NULL, 0), -1);
	assert_int_equal(timespec_parse("daily at 99:00", &ts, err, 5), -1);
	assert_string_equal(err, "hour");
	assert_int_equal(timespec_parse(NULL, &ts, err, sizeof err), -1);
	assert_string_equal(err, "empty timespec");
}

/* The canonical text of every form parses back to an equal schedule and
 * prints the same again. */
static void
test_timespec_canonical_roundtrip(void **state)
{
	char a[TIMESPEC_CANONICAL_MAX], b[TIMESPEC_CANONICAL_MAX];
	struct tspec ts, back;
	size_t i;

	for (i = 0; i < NFORMS; i++) {
		ts = must_parse(forms[i].text);
		timespec_canonical(&ts, a, sizeof a);
		back = must_parse(a);
		if (!timespec_equal(&ts, &back))
			fail_msg("\"%s\" -> \"%s\" is not equal",
			    forms[i].text, a);
		assert_memory_equal(&ts, &back, sizeof ts);
		timespec_canonical(&back, b, sizeof b);
		assert_string_equal(a, b);
	}
	/* snprintf-style length when the buffer is short. */
	ts = must_parse("monthly at 23:15 on 2nd tuesday");
	assert_int_equal(timespec_canonical(&ts, a, 8), 31);
	assert_string_equal(a, "monthly");
	memset(&ts, 0, sizeof ts);
	assert_int_equal(timespec_canonical(&ts, a, sizeof a), -1);
}

/* Equality is about the schedule, not the words. */
static void
test_timespec_equal(void **state)
{
	struct tspec a, b;

	a = must_parse("hourly at 15");
	b = must_parse("every hour at quarter after");
	assert_true(timespec_equal(&a, &b));
	a = must_parse("every 60 minutes from 0:15");
	b = must_parse("every 1 hour from 00:15");
	assert_true(timespec_equal(&a, &b));
	a = must_parse("every 4 hours from 5:30");
	b = must_parse("every 4 hours from 1:30am");
	assert_true(timespec_equal(&a, &b));
	a = must_parse("every quarter hour from 10");
	b = must_parse("every 15 minutes from 4:55");
	assert_true(timespec_equal(&a, &b));
	a = must_parse("sundays at 8am");
	b = must_parse("weekly at 08:00 on sunday");
	assert_true(timespec_equal(&a, &b));

	a = must_parse("hourly at 15");
	b = must_parse("every 1 hour from 0:15");
	assert_false(timespec_equal(&a, &b));
	a = must_parse("daily at 4am");
	b = must_parse("daily at 4pm");
	assert_false(timespec_equal(&a, &b));
	a = must_parse("1st sunday at 4am");
	b = must_parse("2nd sunday at 4am");
	assert_false(timespec_equal(&a, &b));
	a = must_parse("monthly at 4am on 1st");
	b = must_parse("1st sunday at 4am");
	assert_false(timespec_equal(&a, &b));
	a = must_parse("every 24 hours from 4:00");
	b = must_parse("daily at 4am");
	assert_false(timespec_equal(&a, &b));
	memset(&b, 0, sizeof b);
	assert_false(timespec_equal(&b, &b));
}

/* Daily and weekly runs across month and year ends, in UTC. */
static void
test_timespec_next_daily_weekly(void **state)
{
	set_tz("UTC");
	CHECK_RUNS("daily at 4am", at("2023-12-30 12:00"),
	    "2023-12-31 04:00:00 UTC", "2024-01-01 04:00:00 UTC",
	    "2024-01-02 04:00:00 UTC");
	CHECK_RUNS("daily at 12am", at("2024-02-28 00:00"),
	    "2024-02-29 00:00:00 UTC", "2024-03-01 00:00:00 UTC");
	CHECK_RUNS("daily at 23:59", at("2023-02-28 23:58:59"),
	    "2023-02-28 23:59:00 UTC", "2023-03-01 23:59:00 UTC");
	CHECK_RUNS("weekly at 11pm on sundays", at("2023-12-25 00:00"),
	    "2023-12-31 23:00:00 UTC", "2024-01-07 23:00:00 UTC");
	CHECK_RUNS("thu at 2:00", at("2024-02-29 02:00"),
	    "2024-03-07 02:00:00 UTC", "2024-03-14 02:00:00 UTC");
	/* From the original suite: 6 August 1991, 11:15:42, a tuesday. */
	CHECK_RUNS("daily at 4pm", at("1991-08-06 11:15:42"),
	    "1991-08-06 16:00:00 UTC");
	CHECK_RUNS("daily at 11:15am", at("1991-08-06 11:15:42"),
	    "1991-08-07 11:15:00 UTC");
	CHECK_RUNS("daily at 11:16am", at("1991-08-06 11:15:42"),
	    "1991-08-06 11:16:00 UTC");
	CHECK_RUNS("tuesdays at 11:15", at("1991-08-06 11:15:42"),
	    "1991-08-13 11:15:00 UTC");
	CHECK_RUNS("saturdays at 7am", at("1991-08-06 11:15:42"),
	    "1991-08-10 07:00:00 UTC");
	CHECK_RUNS("mondays at 19:45", at("1991-08-06 11:15:42"),
	    "1991-08-12 19:45:00 UTC");
	CHECK_RUNS("tuesdays at 23:55", at("1991-08-06 11:15:42"),
	    "1991-08-06 23:55:00 UTC");
	CHECK_RUNS("daily at 0:00", at("2099-12-31 00:00"),
	    "2100-01-01 00:00:00 UTC", "2100-01-02 00:00:00 UTC");
}

/* Monthly runs: month ends, leap days, and days some months lack. */
static void
test_timespec_next_monthly(void **state)
{
	set_tz("UTC");
	CHECK_RUNS("monthly at 3am on 15th", at("1991-08-06 11:15"),
	    "1991-08-15 03:00:00 UTC", "1991-09-15 03:00:00 UTC");
	CHECK_RUNS("monthly at 1am on 31st", at("2023-12-31 01:00"),
	    "2024-01-31 01:00:00 UTC", "2024-03-31 01:00:00 UTC",
	    "2024-05-31 01:00:00 UTC", "2024-07-31 01:00:00 UTC",
	    "2024-08-31 01:00:00 UTC", "2024-10-31 01:00:00 UTC",
	    "2024-12-31 01:00:00 UTC", "2025-01-31 01:00:00 UTC");
	CHECK_RUNS("monthly at 1am on 30th", at("2024-01-30 02:00"),
	    "2024-03-30 01:00:00 UTC", "2024-04-30 01:00:00 UTC");
	CHECK_RUNS("monthly at 6:00 on 29th", at("2023-01-29 06:00"),
	    "2023-03-29 06:00:00 UTC", "2023-04-29 06:00:00 UTC");
	CHECK_RUNS("monthly at 6:00 on 29th", at("2024-01-29 06:00"),
	    "2024-02-29 06:00:00 UTC", "2024-03-29 06:00:00 UTC");
	/* 2100 is not a leap year. */
	CHECK_RUNS("monthly at 6:00 on 29th", at("2100-01-29 06:00"),
	    "2100-03-29 06:00:00 UTC");
	CHECK_RUNS("monthly at 23:59 on 31st", at("1999-12-31 23:58"),
	    "1999-12-31 23:59:00 UTC", "2000-01-31 23:59:00 UTC");
	CHECK_RUNS("monthly at 0:00 on 1st", at("1970-01-01 00:00"),
	    "1970-02-01 00:00:00 UTC", "1970-03-01 00:00:00 UTC");
}

/* The nth weekday is counted in days 1-7, 8-14, ...; a month without a 5th
 * one is skipped. */
static void
test_timespec_next_nth_weekday(void **state)
{
	set_tz("UTC");
	/* August 1991 starts on a thursday; September on a sunday. */
	CHECK_RUNS("3rd thu at 1:00", at("1991-08-06 11:15"),
	    "1991-08-15 01:00:00 UTC");
	CHECK_RUNS("1st mon at 2:30", at("1991-08-06 11:15"),
	    "1991-09-02 02:30:00 UTC");
	CHECK_RUNS("1st tue at 14:10", at("1991-08-06 11:15"),
	    "1991-08-06 14:10:00 UTC");
	CHECK_RUNS("1st tue at 10:05", at("1991-08-06 11:15"),
	    "1991-09-03 10:05:00 UTC");
	/* 2024-09-01 is a sunday: the 1st sunday is the 1st, not the 8th. */
	CHECK_RUNS("1st sun at 5:30am", at("2024-08-31 00:00"),
	    "2024-09-01 05:30:00 UTC", "2024-10-06 05:30:00 UTC");
	CHECK_RUNS("2nd tuesday at 23:15", at("2024-01-01 00:00"),
	    "2024-01-09 23:15:00 UTC", "2024-02-13 23:15:00 UTC",
	    "2024-03-12 23:15:00 UTC");
	/* 5th fridays of 2024: march, may, august, november. */
	CHECK_RUNS("5th fri at 8am", at("2024-01-01 00:00"),
	    "2024-03-29 08:00:00 UTC", "2024-05-31 08:00:00 UTC",
	    "2024-08-30 08:00:00 UTC", "2024-11-29 08:00:00 UTC",
	    "2025-01-31 08:00:00 UTC");
	/* February 2015 has no 5th of anything. */
	CHECK_RUNS("5th sun at 8am", at("2015-01-31 00:00"),
	    "2015-03-29 08:00:00 UTC");
	CHECK_RUNS("5th sun at 8am", at("2026-02-01 00:00"),
	    "2026-03-29 08:00:00 UTC");
	/* February 2032 has five sundays (leap year, starts on a sunday). */
	CHECK_RUNS("5th sun at 8am", at("2032-02-01 00:00"),
	    "2032-02-29 08:00:00 UTC");
}

/* Every minute keeps running across midnight and the year end. */
static void
test_timespec_next_every_minute(void **state)
{
	set_tz("UTC");
	CHECK_RUNS("every minute", at("2024-05-01 23:59:00"),
	    "2024-05-02 00:00:00 UTC", "2024-05-02 00:01:00 UTC");
	CHECK_RUNS("every minute", at("2024-05-01 23:58:30"),
	    "2024-05-01 23:59:00 UTC", "2024-05-02 00:00:00 UTC");
	CHECK_RUNS("every minute", at("2099-12-31 23:59:00"),
	    "2100-01-01 00:00:00 UTC");
	set_tz("America/New_York");
	CHECK_RUNS("every minute", at("2024-12-31 23:59:00"),
	    "2025-01-01 00:00:00 EST");
}

/* At an exact run instant, and within the run's minute, the next run is
 * the following one. */
static void
test_timespec_next_strictly_after(void **state)
{
	static const char *specs[] = {
		"every minute", "every 5 minutes", "hourly at :15",
		"every 4 hours from 3:15", "daily at 4am", "sundays at 8am",
		"monthly at 3am on 15th", "2nd tuesday at 23:15",
		"monthly at 1am on 31st",
	};
	struct tspec ts;
	int64_t t, u, v;
	size_t i;
	int s;

	set_tz("Europe/Berlin");
	for (i = 0; i < sizeof specs / sizeof specs[0]; i++) {
		ts = must_parse(specs[i]);
		t = timespec_next(&ts, at("2024-01-01 00:00"));
		for (s = 0; s < 60; s += 7) {
			u = timespec_next(&ts, t + s);
			assert_true(u > t + s);
			v = timespec_next(&ts, t);
			assert_int_equal(u, v);
		}
		assert_int_equal(timespec_next(&ts, t - 1), t);
	}
	set_tz("UTC");
	CHECK_RUNS("monthly at 3am on 15th", at("2024-03-15 03:00:30"),
	    "2024-04-15 03:00:00 UTC");
	CHECK_RUNS("monthly at 3am on 15th", at("2024-03-15 03:00:00"),
	    "2024-04-15 03:00:00 UTC");
	CHECK_RUNS("monthly at 3am on 15th", at("2024-03-15 02:59:59"),
	    "2024-03-15 03:00:00 UTC");
}

/* Interval rhythms are anchored at `from` and carry on across midnight. */
static void
test_timespec_next_intervals(void **state)
{
	set_tz("UTC");
	/* The grid of 7 hours from 1970-01-01 00:00 carries on past midnight
	 * (19723 days later it is at 02:00, 09:00, 16:00 and 23:00). */
	CHECK_RUNS("every 7 hours from 0:00", at("1970-01-01 19:00"),
	    "1970-01-01 21:00:00 UTC", "1970-01-02 04:00:00 UTC",
	    "1970-01-02 11:00:00 UTC");
	CHECK_RUNS("every 7 hours from 0:00", at("2024-01-01 19:00"),
	    "2024-01-01 23:00:00 UTC", "2024-01-02 06:00:00 UTC",
	    "2024-01-02 13:00:00 UTC");
	CHECK_RUNS("every 90 minutes", at("2024-01-01 23:00"),
	    "2024-01-02 00:00:00 UTC", "2024-01-02 01:30:00 UTC");
	CHECK_RUNS("every quarter hour from 3", at("1991-08-06 11:15:42"),
	    "1991-08-06 11:18:00 UTC", "1991-08-06 11:33:00 UTC");
	CHECK_RUNS("every half hour from 9", at("1991-08-06 11:15:42"),
	    "1991-08-06 11:39:00 UTC");
	CHECK_RUNS("every half hour", at("1991-08-06 23:59:42"),
	    "1991-08-07 00:00:00 UTC");
	CHECK_RUNS("every 4 hours from 3:15am", at("1991-08-06 11:15:42"),
	    "1991-08-06 15:15:00 UTC");
	CHECK_RUNS("every 2 hours from 1:30am", at("1991-08-06 11:15:42"),
	    "1991-08-06 11:30:00 UTC");
	CHECK_RUNS("every 1 hour from 0:15am", at("1991-08-06 11:15:42"),
	    "1991-08-06 12:15:00 UTC");
	CHECK_RUNS("every 5 minutes", at("1991-08-06 11:15:42"),
	    "1991-08-06 11:20:00 UTC");
	CHECK_RUNS("every 5 minutes", at("1969-12-31 23:59:00"),
	    "1970-01-01 00:00:00 UTC");
	CHECK_RUNS("hourly at 30 after", at("1991-08-06 11:15:42"),
	    "1991-08-06 11:30:00 UTC");
	CHECK_RUNS("hourly at 7 after", at("1991-08-06 11:15:42"),
	    "1991-08-06 12:07:00 UTC");
	/* An Indian half-hour zone keeps the wall-clock grid. */
	set_tz("Asia/Kolkata");
	CHECK_RUNS("every 45 minutes from 0:00", at("2024-01-01 23:00"),
	    "2024-01-01 23:15:00 IST", "2024-01-02 00:00:00 IST");
}

/* New York, spring forward (2024-03-10, 02:00 EST -> 03:00 EDT) and fall
 * back (2024-11-03, 02:00 EDT -> 01:00 EST). */
static void
test_timespec_dst_new_york(void **state)
{
	set_tz("America/New_York");
	/* A skipped time runs once, at the first instant after the gap. */
	CHECK_RUNS("daily at 2:30am", at("2024-03-09 12:00"),
	    "2024-03-10 03:00:00 EDT", "2024-03-11 02:30:00 EDT");
	CHECK_RUNS("daily at 2:00am", at("2024-03-09 12:00"),
	    "2024-03-10 03:00:00 EDT", "2024-03-11 02:00:00 EDT");
	CHECK_RUNS("daily at 3:00am", at("2024-03-09 12:00"),
	    "2024-03-10 03:00:00 EDT", "2024-03-11 03:00:00 EDT");
	CHECK_RUNS("daily at 1:59am", at("2024-03-09 12:00"),
	    "2024-03-10 01:59:00 EST", "2024-03-11 01:59:00 EDT");
	CHECK_RUNS("sundays at 2:15", at("2024-03-04 00:00"),
	    "2024-03-10 03:00:00 EDT", "2024-03-17 02:15:00 EDT");
	CHECK_RUNS("2nd sun at 2:30am", at("2024-02-20 00:00"),
	    "2024-03-10 03:00:00 EDT", "2024-04-14 02:30:00 EDT");
	CHECK_RUNS("monthly at 2:30am on 10th", at("2024-02-20 00:00"),
	    "2024-03-10 03:00:00 EDT", "2024-04-10 02:30:00 EDT");
	/* A repeated time runs once, the first time. */
	CHECK_RUNS("daily at 1:30am", at("2024-11-02 12:00"),
	    "2024-11-03 01:30:00 EDT", "2024-11-04 01:30:00 EST");
	CHECK_RUNS("daily at 1:00am", at("2024-11-02 12:00"),
	    "2024-11-03 01:00:00 EDT", "2024-11-04 01:00:00 EST");
	CHECK_RUNS("daily at 2:00am", at("2024-11-02 12:00"),
	    "2024-11-03 02:00:00 EST", "2024-11-04 02:00:00 EST");
	CHECK_RUNS("1st sun at 1:30", at("2024-10-20 00:00"),
	    "2024-11-03 01:30:00 EDT", "2024-12-01 01:30:00 EST");
	/* Strictly after the first 01:30: not again at the second. */
	CHECK_RUNS("daily at 1:30am", (int64_t)1730611800,
	    "2024-11-04 01:30:00 EST");
	CHECK_RUNS("daily at 1:30am", (int64_t)1730611800 + 1800,
	    "2024-11-04 01:30:00 EST");
	/* Hourly runs in every real hour. */
	CHECK_RUNS("hourly at :30", at("2024-03-10 00:00"),
	    "2024-03-10 00:30:00 EST", "2024-03-10 01:30:00 EST",
	    "2024-03-10 03:30:00 EDT", "2024-03-10 04:30:00 EDT");
	CHECK_RUNS("hourly at :30", at("2024-11-03 00:00"),
	    "2024-11-03 00:30:00 EDT", "2024-11-03 01:30:00 EDT",
	    "2024-11-03 01:30:00 EST", "2024-11-03 02:30:00 EST");
	/* Intervals count real time: 90 minutes apart through the night,
	 * anchored at midnight standard time. */
	CHECK_RUNS("every 90 minutes", at("2024-11-02 22:00"),
	    "2024-11-02 23:30:00 EDT", "2024-11-03 01:00:00 EDT",
	    "2024-11-03 01:30:00 EST", "2024-11-03 03:00:00 EST");
	CHECK_RUNS("every 15 minutes", at("2024-03-10 01:40"),
	    "2024-03-10 01:45:00 EST", "2024-03-10 03:00:00 EDT",
	    "2024-03-10 03:15:00 EDT");
	CHECK_RUNS("every 4 hours from 3:15", at("2024-07-01 00:00"),
	    "2024-07-01 00:15:00 EDT", "2024-07-01 04:15:00 EDT");
	CHECK_RUNS("every 4 hours from 3:15", at("2024-01-01 00:00"),
	    "2024-01-01 03:15:00 EST", "2024-01-01 07:15:00 EST");
}

/* Berlin, spring forward (2024-03-31, 02:00 CET -> 03:00 CEST) and fall
 * back (2024-10-27, 03:00 CEST -> 02:00 CET). */
static void
test_timespec_dst_berlin(void **state)
{
	set_tz("Europe/Berlin");
	CHECK_RUNS("daily at 2:30", at("2024-03-30 12:00"),
	    "2024-03-31 03:00:00 CEST", "2024-04-01 02:30:00 CEST");
	CHECK_RUNS("daily at 2:30", at("2024-10-26 12:00"),
	    "2024-10-27 02:30:00 CEST", "2024-10-28 02:30:00 CET");
	CHECK_RUNS("sundays at 2:59", at("2024-03-25 00:00"),
	    "2024-03-31 03:00:00 CEST", "2024-04-07 02:59:00 CEST");
	CHECK_RUNS("sundays at 2:00", at("2024-10-21 00:00"),
	    "2024-10-27 02:00:00 CEST", "2024-11-03 02:00:00 CET");
	CHECK_RUNS("monthly at 2:15 on 27th", at("2024-10-01 00:00"),
	    "2024-10-27 02:15:00 CEST", "2024-11-27 02:15:00 CET");
}

/*
 * Across whole years in both zones, a daily schedule at any quarter hour
 * runs exactly once on every local day, at its wall time when that exists,
 * and interval schedules run exactly `period` real seconds apart.
 */
static void
test_timespec_dst_no_skip_no_double(void **state)
{
	static const char *zones[] = { "America/New_York", "Europe/Berlin" };
	char spec[64];
	struct tspec ts;
	struct tm tm, prev_tm;
	int64_t t, end;
	time_t tt;
	size_t z;
	int q, days, period;

	for (z = 0; z < sizeof zones / sizeof zones[0]; z++) {
		set_tz(zones[z]);
		for (q = 0; q < 96; q += 3) {
			snprintf(spec, sizeof spec, "daily at %d:%02d",
			    q / 4, q % 4 * 15);
			ts = must_parse(spec);
			t = at("2024-01-01 00:00") - 1;
			end = at("2025-01-01 00:00") - 1;
			memset(&prev_tm, 0, sizeof prev_tm);
			for (days = 0;; days++) {
				t = timespec_next(&ts, t);
				if (t > end)
					break;
				tt = (time_t)t;
				localtime_r(&tt, &tm);
				/* The wall time, or the end of a gap. */
				if (tm.tm_hour != q / 4 ||
				    tm.tm_min != q % 4 * 15)
					assert_true(tm.tm_hour == q / 4 + 1 &&
					    tm.tm_min == 0);
				if (days > 0)
					assert_int_not_equal(tm.tm_yday,
					    prev_tm.tm_yday);
				prev_tm = tm;
			}
			assert_int_equal(days, 366);
		}
		for (period = 1; period <= 1440; period += 37) {
			snprintf(spec, sizeof spec, "every %d minutes from "
			    "0:07", period);
			ts = must_parse(spec);
			t = timespec_next(&ts, at("2024-03-01 00:00"));
			while (t < at("2024-11-30 00:00")) {
				assert_int_equal(timespec_next(&ts, t) - t,
				    period * 60);
				t += (int64_t)period * 60 * 13;
				t = timespec_next(&ts, t - 1);
			}
		}
	}
}

/* A zone that skipped a whole day (Samoa, 30 December 2011) and one with a
 * half-hour DST shift (Lord Howe) still give increasing, single runs. */
static void
test_timespec_dst_odd_zones(void **state)
{
	set_tz("Pacific/Apia");
	CHECK_RUNS("daily at 4:00", at("2011-12-28 12:00"),
	    "2011-12-29 04:00:00 -10", "2011-12-31 00:00:00 +14",
	    "2011-12-31 04:00:00 +14", "2012-01-01 04:00:00 +14");
	set_tz("Australia/Lord_Howe");
	CHECK_RUNS("daily at 2:15", at("2024-10-05 12:00"),
	    "2024-10-06 02:30:00 +11", "2024-10-07 02:15:00 +11");
	CHECK_RUNS("daily at 1:45", at("2024-04-06 12:00"),
	    "2024-04-07 01:45:00 +11", "2024-04-08 01:45:00 +1030");
}

/* The day of a schedule in a month, by brute force from gmtime(). */
static int
ref_runs_on(const struct tspec *ts, const struct tm *tm)
{
	switch (ts->kind) {
	case TSPEC_DAILY:
		return 1;
	case TSPEC_WEEKLY:
		return tm->tm_wday == ts->wday;
	case TSPEC_MONTHDAY:
		return tm->tm_mday == ts->mday;
	case TSPEC_MONTHWEEK:
		return tm->tm_wday == ts->wday &&
		    (tm->tm_mday - 1) / 7 + 1 == ts->week;
	default:
		return 0;
	}
}

/* The next run in UTC by scanning day by day. */
static int64_t
ref_next(const struct tspec *ts, int64_t after)
{
	int64_t day, t;
	struct tm tm;
	time_t tt;

	day = after >= 0 ? after / 86400 : -((-after + 86399) / 86400);
	for (;; day++) {
		tt = (time_t)(day * 86400);
		gmtime_r(&tt, &tm);
		t = day * 86400 + (ts->hour * 60 + ts->minute) * 60;
		if (t > after && ref_runs_on(ts, &tm))
			return t;
	}
}

/* A small deterministic generator, so failures can be replayed. */
static uint64_t rng_state = 0x5eed5eed12345678ULL;

/* The next pseudo-random number. */
static uint64_t
rng(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

/* Random day-based schedules agree with the brute force over 1970-2100. */
static void
test_timespec_next_brute_force(void **state)
{
	char spec[64];
	struct tspec ts;
	int64_t after, span = at("2100-12-01 00:00");
	int i, k;

	set_tz("UTC");
	for (i = 0; i < 4000; i++) {
		switch (rng() % 4) {
		case 0:
			snprintf(spec, sizeof spec, "daily at %d:%02d",
			    (int)(rng() % 24), (int)(rng() % 60));
			break;
		case 1:
			snprintf(spec, sizeof spec, "weekly at %d:%02d on %s",
			    (int)(rng() % 24), (int)(rng() % 60),
			    (const char *[]){ "sun", "mon", "tue", "wed",
			    "thu", "fri", "sat" }[rng() % 7]);
			break;
		case 2:
			snprintf(spec, sizeof spec, "monthly at %d:%02d on "
			    "%d", (int)(rng() % 24), (int)(rng() % 60),
			    (int)(rng() % 31) + 1);
			break;
		default:
			snprintf(spec, sizeof spec, "%dth %s at %d:%02d",
			    (int)(rng() % 5) + 1,
			    (const char *[]){ "sun", "mon", "tue", "wed",
			    "thu", "fri", "sat" }[rng() % 7],
			    (int)(rng() % 24), (int)(rng() % 60));
			break;
		}
		ts = must_parse(spec);
		after = (int64_t)(rng() % (uint64_t)span);
		/* Sometimes exactly on a run instant. */
		if (rng() % 4 == 0)
			after = ref_next(&ts, after);
		for (k = 0; k < 3; k++) {
			int64_t want = ref_next(&ts, after);
			int64_t got = timespec_next(&ts, after);

			if (got != want)
				fail_msg("%s after %lld: got %lld, want %lld",
				    spec, (long long)after, (long long)got,
				    (long long)want);
			after = got;
		}
	}
}

/* Pieces to build random text from: words, numbers and punctuation. */
static const char *pieces[] = {
	"every", "hourly", "daily", "weekly", "monthly", "at", "on", "from",
	"the", "am", "pm", "a.m.", "noon", "midnight", "half", "quarter",
	"after", "past", "til", "until", "minute", "minutes", "hour", "hours",
	"day", "second", "x", "h", "*", ":", "sun", "tuesdays", "thurs",
	"0", "1", "2", "4", "5", "7", "12", "13", "15", "23", "24", "30", "59",
	"60", "90", "1440", "1441", "999999999", "1st", "2nd", "3rd", "5th",
	"6th", "31st", "32nd", "4:30", "16:30", "4am", "11pm", "0:15", ":15",
	" ", "\t", ",", ".", "-", "\xff", "p.", "a.m",
};

/* Random and mutated text never crashes the parser; whatever parses has a
 * stable canonical form and a next run after any time in 1970-2100. */
static void
test_timespec_fuzz(void **state)
{
	char text[256], err[TIMESPEC_ERR_MAX], a[TIMESPEC_CANONICAL_MAX];
	char b[TIMESPEC_CANONICAL_MAX];
	struct tspec ts, back;
	int64_t after, next, span = at("2100-12-01 00:00");
	size_t len, i, n, pos;
	int iter, ok = 0;

	set_tz("America/New_York");
	for (iter = 0; iter < 20000; iter++) {
		text[0] = '\0';
		len = 0;
		if (iter % 3 == 0) {
			/* Words of the language in random order. */
			n = rng() % 8;
			for (i = 0; i < n; i++) {
				const char *p = pieces[rng() %
				    (sizeof pieces / sizeof pieces[0])];

				if (len + strlen(p) + 2 >= sizeof text)
					break;
				len += (size_t)snprintf(text + len,
				    sizeof text - len, "%s%s",
				    rng() % 3 ? " " : "", p);
			}
		} else if (iter % 3 == 1) {
			/* A valid form with a few bytes mutated. */
			snprintf(text, sizeof text, "%s",
			    forms[rng() % NFORMS].text);
			len = strlen(text);
			n = rng() % 3 + 1;
			for (i = 0; i < n && len > 0; i++) {
				pos = rng() % len;
				switch (rng() % 3) {
				case 0:
					text[pos] = (char)(rng() % 255 + 1);
					break;
				case 1:
					memmove(text + pos, text + pos + 1,
					    len - pos);
					len--;
					break;
				default:
					if (len + 1 < sizeof text) {
						memmove(text + pos + 1,
						    text + pos, len - pos + 1);
						text[pos] = "0123456789: amx"
						    [rng() % 15];
						len++;
					}
					break;
				}
			}
		} else {
			/* Plain random bytes. */
			n = rng() % 40;
			for (i = 0; i < n; i++)
				text[i] = (char)(rng() % 255 + 1);
			text[n] = '\0';
		}
		if (timespec_parse(text, &ts, err, sizeof err) != 0) {
			assert_true(strlen(err) > 0);
			assert_null(strchr(err, '\n'));
			continue;
		}
		ok++;
		assert_true(timespec_canonical(&ts, a, sizeof a) > 0);
		back = must_parse(a);
		assert_true(timespec_equal(&ts, &back));
		timespec_canonical(&back, b, sizeof b);
		assert_string_equal(a, b);
		after = (int64_t)(rng() % (uint64_t)span);
		next = timespec_next(&ts, after);
		if (next <= after)
			fail_msg("\"%s\": next %lld is not after %lld", text,
			    (long long)next, (long long)after);
	}
	assert_true(ok > 100);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timespec_parse_forms),
		cmocka_unit_test(test_timespec_parse_fields),
		cmocka_unit_test(test_timespec_parse_errors),
		cmocka_unit_test(test_timespec_canonical_roundtrip),
		cmocka_unit_test(test_timespec_equal),
		cmocka_unit_test(test_timespec_next_daily_weekly),
		cmocka_unit_test(test_timespec_next_monthly),
		cmocka_unit_test(test_timespec_next_nth_weekday),
		cmocka_unit_test(test_timespec_next_every_minute),
		cmocka_unit_test(test_timespec_next_strictly_after),
		cmocka_unit_test(test_timespec_next_intervals),
		cmocka_unit_test(test_timespec_dst_new_york),
		cmocka_unit_test(test_timespec_dst_berlin),
		cmocka_unit_test(test_timespec_dst_no_skip_no_double),
		cmocka_unit_test(test_timespec_dst_odd_zones),
		cmocka_unit_test(test_timespec_next_brute_force),
		cmocka_unit_test(test_timespec_fuzz),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
