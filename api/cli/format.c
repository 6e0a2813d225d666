/*
 * Conversions between the API's values and what a person types or reads.
 * Days are UTC days because the API's ?after= and ?before= are, and every
 * time it returns is UTC; showing them unconverted keeps table and JSON
 * output in agreement.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "format.h"
#include "utf8.h"

/* The string member key of o, or NULL. */
const char *
format_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The number member key of o, or def. */
double
format_num(const cJSON *o, const char *key, double def)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : def;
}

/* True if the member key of o is JSON true. */
int
format_bool(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

/*
 * Print a JSON value on stdout, indented.  cJSON escapes C0 characters;
 * DEL and C1 characters (U+0080..U+009F) are written as \u escapes too,
 * the same JSON, so a terminal never receives them raw.
 */
void
format_json_print(const cJSON *v)
{
	const unsigned char *p;
	char *s;

	if ((s = cJSON_Print(v)) == NULL)
		abort();
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == 0x7f)
			fputs("\\u007f", stdout);
		else if (*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f) {
			printf("\\u%04x", p[1]);
			p++;
		} else
			putchar(*p);
	}
	putchar('\n');
	cJSON_free(s);
}

/* Print text wrapped at 78 columns with an indent, control bytes escaped. */
void
format_wrap(const char *raw, int indent)
{
	char *text = utf8_escape(raw, UTF8_KEEP_NEWLINE);
	const char *p = text, *w;
	int col = 0, len;

	while (*p != '\0') {
		while (*p == ' ' || *p == '\n')
			p++;
		if (*p == '\0')
			break;
		for (w = p; *w != '\0' && *w != ' ' && *w != '\n'; w++)
			;
		len = (int)(w - p);
		if (col > 0 && col + 1 + len > 78) {
			putchar('\n');
			col = 0;
		}
		if (col == 0)
			col = printf("%*s", indent, "");
		else
			col += printf(" ");
		col += printf("%.*s", len, p);
		p = w;
	}
	if (col > 0)
		putchar('\n');
	free(text);
}

/* A human byte count. */
void
format_bytes(double bytes, char buf[FORMAT_BUF])
{
	static const char *const units[] = { "B", "KiB", "MiB", "GiB", "TiB",
	    "PiB" };
	size_t u = 0;

	while (bytes >= 1024 && u + 1 < sizeof units / sizeof units[0]) {
		bytes /= 1024;
		u++;
	}
	if (u == 0)
		snprintf(buf, FORMAT_BUF, "%.0f B", bytes);
	else
		snprintf(buf, FORMAT_BUF, "%.1f %s", bytes, units[u]);
}

/* A duration in its largest exact unit. */
void
format_duration(int64_t secs, char buf[FORMAT_BUF])
{
	if (secs > 0 && secs % 604800 == 0)
		snprintf(buf, FORMAT_BUF, "%lldw", (long long)(secs / 604800));
	else if (secs > 0 && secs % 86400 == 0)
		snprintf(buf, FORMAT_BUF, "%lldd", (long long)(secs / 86400));
	else if (secs > 0 && secs % 3600 == 0)
		snprintf(buf, FORMAT_BUF, "%lldh", (long long)(secs / 3600));
	else if (secs > 0 && secs % 60 == 0)
		snprintf(buf, FORMAT_BUF, "%lldm", (long long)(secs / 60));
	else
		snprintf(buf, FORMAT_BUF, "%llds", (long long)secs);
}

/* Seconds in a unit word ("d", "days", "week"), or 0 if unknown. */
static int64_t
format_unit(const char *u)
{
	static const struct {
		const char	*name;
		int64_t		 secs;
	} units[] = {
		{ "s", 1 }, { "sec", 1 }, { "second", 1 },
		{ "m", 60 }, { "min", 60 }, { "minute", 60 },
		{ "h", 3600 }, { "hour", 3600 },
		{ "d", 86400 }, { "day", 86400 },
		{ "w", 604800 }, { "week", 604800 },
	};
	size_t i, len = strlen(u);

	if (len > 1 && (u[len - 1] == 's' || u[len - 1] == 'S') &&
	    strcasecmp(u, "s") != 0)
		len--;	/* plural */
	for (i = 0; i < sizeof units / sizeof units[0]; i++)
		if (strlen(units[i].name) == len &&
		    strncasecmp(u, units[i].name, len) == 0)
			return units[i].secs;
	if (strcasecmp(u, "secs") == 0 || strcasecmp(u, "mins") == 0)
		return u[0] == 's' || u[0] == 'S' ? 1 : 60;
	return 0;
}

/* Parse a duration with an optional unit. */
int
format_parse_duration(const char *s, int64_t *out)
{
	char *end;
	long long n;
	int64_t unit = 1;

	errno = 0;
	n = strtoll(s, &end, 10);
	if (end == s || errno != 0 || n <= 0)
		return -1;
	while (isspace((unsigned char)*end))
		end++;
	if (*end != '\0' && (unit = format_unit(end)) == 0)
		return -1;
	if (n > INT64_MAX / unit)
		return -1;
	*out = (int64_t)n * unit;
	return 0;
}

/* Check y-m-d and write it as YYYYMMDD. */
static int
format_day_out(int y, int m, int d, char out[9])
{
	struct tm tm;
	time_t t;

	if (y < 1970 || y > 9999 || m < 1 || m > 12 || d < 1 || d > 31)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	tm.tm_hour = 12;
	t = timegm(&tm);
	gmtime_r(&t, &tm);
	if (tm.tm_mday != d)	/* 31 April and the like */
		return -1;
	snprintf(out, 9, "%04d%02d%02d", y, m, d);
	return 0;
}

/* Parse a day into YYYYMMDD. */
int
format_parse_day(const char *s, time_t now, char out[9])
{
	struct tm tm;
	char word[16], ago[8];
	int y, m, d, n = -1;
	long long k;
	int64_t unit;

	if (sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) == 3 &&
	    s[n] == '\0')
		return format_day_out(y, m, d, out);
	n = -1;
	if (strlen(s) == 8 && sscanf(s, "%4d%2d%2d%n", &y, &m, &d, &n) == 3 &&
	    n == 8)
		return format_day_out(y, m, d, out);
	if (strcasecmp(s, "today") == 0)
		k = 0;
	else if (strcasecmp(s, "yesterday") == 0)
		k = 1;
	else if (strcasecmp(s, "tomorrow") == 0)
		k = -1;
	else {
		n = -1;
		if (sscanf(s, "%lld %15s %7s%n", &k, word, ago, &n) != 3 ||
		    s[n] != '\0' || strcasecmp(ago, "ago") != 0 || k < 0 ||
		    k > 100000)
			return -1;
		unit = format_unit(word);
		if (unit != 86400 && unit != 604800)
			return -1;
		k = k * (unit / 86400);
	}
	now -= (time_t)(k * 86400);
	gmtime_r(&now, &tm);
	return format_day_out(tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	    out);
}
