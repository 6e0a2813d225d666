/*
 * shield timespec: check a schedule offline.  The SPEC words are joined,
 * parsed with the timespec module, and the canonical form is printed with
 * the next run times in the local zone (TZ honoured), as text or as the
 * JSON object {"canonical": ..., "next": [...]}.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "timespec.h"
#include "xmalloc.h"

#define TIMESPEC_COUNT_DEFAULT	5
#define TIMESPEC_COUNT_MAX	1000

/* Print the help of shield timespec. */
void
cmd_timespec_usage(void)
{
	fputs(
"usage: shield timespec SPEC... [--from \"YYYY-MM-DD HH:MM\"] [--count N]\n"
"                       [--json]\n"
"\n"
"Check a schedule written in SHIELD's timespec language: print its canonical\n"
"form and the next times it runs.  Works offline; no shieldd is contacted.\n"
"SPEC may be one quoted argument or several words, which are joined with\n"
"spaces.  Case does not matter.\n"
"\n"
"Options:\n"
"  --from \"YYYY-MM-DD HH:MM\"\n"
"                 list the runs strictly after this local time (default:\n"
"                 now); \"YYYY-MM-DD\" alone means midnight\n"
"  --count N      how many runs to list, 1-1000 (default 5)\n"
"  --json         print {\"canonical\": \"...\", \"next\": [\"YYYY-MM-DD "
"HH:MM\", ...]}\n"
"                 and errors as {\"error\": \"...\"} on stderr\n"
"  -h, --help     show this help\n"
"\n"
"Times are in the local time zone; set TZ for another one, for example\n"
"TZ=Europe/Berlin.\n"
"\n"
"The language (the canonical form of each line is shown on the right):\n"
"  every minute                      every minute\n"
"  every N minutes [from H:MM]       every 15 minutes from 00:05\n"
"  every N hours [from H:MM]         every 4 hours from 03:15\n"
"  every quarter hour [from MM]      every 15 minutes from 00:10\n"
"  every half hour [from MM]         every 30 minutes from 00:05\n"
"  hourly [at] MM                    hourly at :15\n"
"      MM is 15, :15, x:15, quarter after, half past, 10 til or 10 until;\n"
"      \"every hour at 15\" is the same\n"
"  daily [at] TIME                   daily at 04:00\n"
"      also \"every day at 4:30pm\", \"daily 16:30\"\n"
"  weekly [at] TIME [on] DAY         weekly at 23:00 on sunday\n"
"  DAY [at] TIME                     \"sundays at 8am\", \"thu at 2:00\"\n"
"  monthly [at] TIME [on] MDAY       monthly at 03:00 on 15th\n"
"  monthly [at] TIME [on] NTH DAY    monthly at 23:15 on 2nd tuesday\n"
"  NTH DAY [at] TIME                 \"2nd tuesday at 23:15\", "
"\"1st sun at 5:30am\"\n"
"\n"
"  TIME  H:MM (0:00 to 23:59), H:MM am/pm, Ham/pm, H am/pm, noon or midnight\n"
"  DAY   sunday to saturday, abbreviated (sun, tue, tues, thu, thurs, ...)\n"
"        and with or without a plural s\n"
"  MDAY  1 to 31, or 1st to 31st; a month without that day is skipped\n"
"  NTH   1st to 5th: the 1st tuesday is the one within days 1-7; a month\n"
"        without a 5th one is skipped\n"
"\n"
"Intervals count real elapsed time: runs are N minutes or hours apart on a\n"
"grid that includes the FROM time (default 00:00) of 1 January 1970 in the\n"
"zone's standard (winter) time, and the rhythm carries on across midnight\n"
"and clock changes.  An interval that divides a day, like 15 minutes or 6\n"
"hours, shows FROM every day; \"every 7 hours\" does not (on 1 January 2024\n"
"it runs at 02:00, 09:00, 16:00, 23:00, then 06:00 the next day).  During\n"
"summer time an interval that does not divide an hour shows one hour later\n"
"on the clock.\n"
"\n"
"Daylight saving time: a daily, weekly or monthly time that does not exist\n"
"on the day clocks go forward runs once at the first instant after the jump\n"
"(02:30 becomes 03:00); a time that happens twice when clocks go back runs\n"
"once, the first time.  Hourly schedules run in every real hour.\n"
"\n"
"Exit status: 0 on success, 1 if SPEC is invalid, 2 on a usage error.\n"
"\n"
"Examples:\n"
"  $ export TZ=America/New_York\n"
"  $ shield timespec daily at 2:30am --from \"2024-03-09 12:00\" --count 2\n"
"  canonical: daily at 02:30\n"
"  next:      2024-03-10 03:00  Sun EDT\n"
"             2024-03-11 02:30  Mon EDT\n"
"\n"
"  $ shield timespec 2nd tue at 11:15pm --from 2024-01-01 --count 1\n"
"  canonical: monthly at 23:15 on 2nd tuesday\n"
"  next:      2024-01-09 23:15  Tue EST\n"
"\n"
"  $ shield timespec every 90 minutes --json --count 2 --from 2024-01-01\n"
"  {\"canonical\":\"every 90 minutes from 00:00\",\"next\":"
"[\"2024-01-01 01:30\",\n"
"  \"2024-01-01 03:00\"]}\n"
"\n"
"  $ shield timespec daily at 25:00\n"
"  shield: invalid timespec \"daily at 25:00\": hour 25 is out of range "
"(0-23)\n", stdout);
}

/* Parse a local "YYYY-MM-DD[ HH:MM]" (or with a T) into an instant. */
static int
timespec_parse_from(const char *s, int64_t *out)
{
	struct tm tm;
	time_t t;
	int y, mo, d, h = 0, mi = 0, n = -1, dim;

	if (sscanf(s, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3 || n < 0)
		return -1;
	if (s[n] == ' ' || s[n] == 'T') {
		s += n + 1;
		n = -1;
		if (sscanf(s, "%2d:%2d%n", &h, &mi, &n) != 2 || n < 0)
			return -1;
	}
	if (s[n] != '\0' || y < 1970 || y > 2999 || mo < 1 || mo > 12 ||
	    h < 0 || h > 23 || mi < 0 || mi > 59)
		return -1;
	dim = (mo == 2) ? ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0 ?
	    29 : 28) : (mo == 4 || mo == 6 || mo == 9 || mo == 11) ? 30 : 31;
	if (d < 1 || d > dim)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_isdst = -1;
	if ((t = mktime(&tm)) == (time_t)-1)
		return -1;
	*out = (int64_t)t;
	return 0;
}

/* Parse --count's value. */
static int
timespec_parse_count(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 ||
	    v > TIMESPEC_COUNT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

/* Append one word of SPEC to the growing text. */
static void
timespec_append(char **spec, size_t *len, const char *word)
{
	size_t n = strlen(word);

	*spec = xrealloc(*spec, *len + n + 2);
	if (*len > 0)
		(*spec)[(*len)++] = ' ';
	memcpy(*spec + *len, word, n + 1);
	*len += n;
}

/* The value of "--name VALUE" or "--name=VALUE" at argv[*i], else NULL;
 * *missing is set when the value is absent. */
static const char *
timespec_option(const char *name, int argc, char **argv, int *i,
    int *missing)
{
	size_t len = strlen(name);
	const char *a = argv[*i];

	if (strncmp(a, name, len) != 0)
		return NULL;
	if (a[len] == '=')
		return a + len + 1;
	if (a[len] != '\0')
		return NULL;
	if (*i + 1 >= argc) {
		*missing = 1;
		return NULL;
	}
	return argv[++*i];
}

/* Print the result as text: the canonical form, then one run a line. */
static void
timespec_print_text(const char *canonical, const int64_t *runs, int n)
{
	char when[64];
	struct tm tm;
	time_t t;
	int i;

	printf("canonical: %s\n", canonical);
	for (i = 0; i < n; i++) {
		t = (time_t)runs[i];
		localtime_r(&t, &tm);
		strftime(when, sizeof when, "%Y-%m-%d %H:%M  %a %Z", &tm);
		printf("%-10s %s\n", i == 0 ? "next:" : "", when);
	}
}

/* Print the result as {"canonical": ..., "next": [...]}. */
static void
timespec_print_json(const char *canonical, const int64_t *runs, int n)
{
	cJSON *o, *next;
	char when[32], *s;
	struct tm tm;
	time_t t;
	int i;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "canonical", canonical);
	next = cJSON_AddArrayToObject(o, "next");
	for (i = 0; i < n; i++) {
		t = (time_t)runs[i];
		localtime_r(&t, &tm);
		strftime(when, sizeof when, "%Y-%m-%d %H:%M", &tm);
		cJSON_AddItemToArray(next, cJSON_CreateString(when));
	}
	if ((s = cJSON_PrintUnformatted(o)) == NULL) {
		fprintf(stderr, "shield: out of memory\n");
		abort();
	}
	printf("%s\n", s);
	cJSON_free(s);
	cJSON_Delete(o);
}

/* shield timespec SPEC... [--from TIME] [--count N] [--json] */
int
cmd_timespec(int argc, char **argv)
{
	char err[TIMESPEC_ERR_MAX], canonical[TIMESPEC_CANONICAL_MAX];
	char *spec = NULL;
	const char *from = NULL, *count = NULL, *v;
	struct tspec ts;
	int64_t after, *runs = NULL;
	size_t speclen = 0;
	int i, n, ncount = TIMESPEC_COUNT_DEFAULT, options = 1, missing = 0;
	int rc = CLI_EXIT_USAGE;

	for (i = 1; i < argc; i++) {
		if (!options || argv[i][0] != '-' || argv[i][1] == '\0') {
			timespec_append(&spec, &speclen, argv[i]);
			continue;
		}
		if (strcmp(argv[i], "--") == 0)
			options = 0;
		else if (strcmp(argv[i], "-h") == 0 ||
		    strcmp(argv[i], "--help") == 0) {
			cmd_timespec_usage();
			rc = CLI_EXIT_OK;
			goto out;
		} else if (strcmp(argv[i], "--json") == 0)
			cli_opts.json = 1;
		else if ((v = timespec_option("--from", argc, argv, &i,
		    &missing)) != NULL)
			from = v;
		else if ((v = timespec_option("--count", argc, argv, &i,
		    &missing)) != NULL)
			count = v;
		else if (missing) {
			cli_error("option %s needs a value; see shield "
			    "timespec --help", argv[i]);
			goto out;
		} else {
			cli_error("unknown option '%s'; see shield timespec "
			    "--help", argv[i]);
			goto out;
		}
	}
	if (spec == NULL) {
		cli_error("timespec needs a SPEC, like: shield timespec daily "
		    "at 4am; see shield timespec --help");
		goto out;
	}
	if (count != NULL && timespec_parse_count(count, &ncount) != 0) {
		cli_error("--count must be a whole number from 1 to %d, not "
		    "'%s'", TIMESPEC_COUNT_MAX, count);
		goto out;
	}
	if (from == NULL)
		after = (int64_t)time(NULL);
	else if (timespec_parse_from(from, &after) != 0) {
		cli_error("--from wants a local time like \"2024-01-31 "
		    "04:00\", not \"%s\"", from);
		goto out;
	}

	if (timespec_parse(spec, &ts, err, sizeof err) != 0) {
		cli_error("invalid timespec \"%s\": %s", spec, err);
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	timespec_canonical(&ts, canonical, sizeof canonical);
	runs = xreallocarray(NULL, (size_t)ncount, sizeof *runs);
	for (n = 0; n < ncount; n++) {
		if ((after = timespec_next(&ts, after)) < 0)
			break;
		runs[n] = after;
	}
	if (cli_opts.json)
		timespec_print_json(canonical, runs, n);
	else
		timespec_print_text(canonical, runs, n);
	rc = CLI_EXIT_OK;
out:
	free(runs);
	free(spec);
	return rc;
}
