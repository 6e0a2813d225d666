/*
 * Small conversions shared by the commands: reading members of the API's
 * JSON objects, printing JSON for --json, and turning sizes, durations and
 * dates into text and back.  Nothing here talks to shieldd.
 */
#ifndef SHIELD_CLI_FORMAT_H
#define SHIELD_CLI_FORMAT_H

#include <stdint.h>
#include <time.h>

#include <cjson/cJSON.h>

#define FORMAT_BUF	64

/* The string member key of o, or NULL (the string belongs to o). */
const char	*format_str(const cJSON *o, const char *key);
/* The number member key of o, or def. */
double		 format_num(const cJSON *o, const char *key, double def);
/* True if the member key of o is JSON true. */
int		 format_bool(const cJSON *o, const char *key);

/* Print a JSON value on stdout, indented. */
void		 format_json_print(const cJSON *);

/* Print text on stdout wrapped at 78 columns, each line indented. */
void		 format_wrap(const char *text, int indent);

/* "1.5 MiB" for a byte count. */
void		 format_bytes(double bytes, char buf[FORMAT_BUF]);
/* "7d", "36h", "90m" or "45s" for a number of seconds. */
void		 format_duration(int64_t secs, char buf[FORMAT_BUF]);

/*
 * Parse a duration: a number of seconds, or a number with a unit (s, m,
 * h, d, w, or the words: "30 days", "2w", "12 hours").  0 or -1.
 */
int		 format_parse_duration(const char *, int64_t *);
/*
 * Parse a day: YYYY-MM-DD, YYYYMMDD, today, yesterday, tomorrow, or
 * "N days ago" / "N weeks ago", counted from now in UTC (the API's days).
 * Writes YYYYMMDD; 0 or -1.
 */
int		 format_parse_day(const char *, time_t now, char out[9]);

#endif
