/*
 * Conversions between epoch seconds and the API's UTC text formats.  Parsing
 * is strict: a date that does not exist (February 30th) is rejected.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timefmt.h"

/* Format t as "YYYY-MM-DD HH:MM:SS" in UTC. */
void
timefmt_utc(int64_t t, timefmt_buf out)
{
	struct tm tm;
	time_t tt = (time_t)t;

	gmtime_r(&tt, &tm);
	strftime(out, sizeof(timefmt_buf), "%Y-%m-%d %H:%M:%S", &tm);
}

/* Build epoch seconds from broken-down UTC fields, rejecting impossible dates. */
static int
timefmt_from_fields(int y, int mo, int d, int h, int mi, int s, int64_t *out)
{
	struct tm tm;
	time_t t;

	if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > 31 ||
	    h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = s;
	t = timegm(&tm);
	if (tm.tm_mday != d || tm.tm_mon != mo - 1)
		return -1;	/* normalised: the date did not exist */
	*out = (int64_t)t;
	return 0;
}

/* 1 if s has exactly the digits where the pattern has '9'. */
static int
timefmt_match(const char *s, const char *pattern)
{
	for (; *pattern != '\0'; pattern++, s++) {
		if (*pattern == '9') {
			if (!isdigit((unsigned char)*s))
				return 0;
		} else if (*s != *pattern)
			return 0;
	}
	return *s == '\0';
}

/* Parse the API's timestamp format. */
int
timefmt_parse_utc(const char *s, int64_t *out)
{
	int y, mo, d, h, mi, sec;

	if (s == NULL || !timefmt_match(s, "9999-99-99 99:99:99"))
		return -1;
	if (sscanf(s, "%4d-%2d-%2d %2d:%2d:%2d", &y, &mo, &d, &h, &mi,
	    &sec) != 6)
		return -1;
	return timefmt_from_fields(y, mo, d, h, mi, sec, out);
}

/* Parse the archive filters' day format. */
int
timefmt_parse_day(const char *s, int64_t *out)
{
	int y, mo, d;

	if (s == NULL || !timefmt_match(s, "99999999"))
		return -1;
	if (sscanf(s, "%4d%2d%2d", &y, &mo, &d) != 3)
		return -1;
	return timefmt_from_fields(y, mo, d, 0, 0, 0, out);
}
