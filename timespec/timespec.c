/*
 * The timespec parser, printer and next-run calculator.  Text is split into
 * at most TOKENS_MAX tokens by a small lexer (numbers, ordinals like "2nd",
 * ':' and '*', and the words of the keyword table) and read by a recursive
 * descent parser, so every error can name the word it stopped at.  Next runs
 * are computed directly from calendar arithmetic on whole days; the local
 * zone is consulted only through localtime_r() to learn UTC offsets, and a
 * wall time is turned into an instant by solving t + offset(t) = wall, which
 * is where the DST rules documented in timespec.h are applied.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "timespec.h"

#define TOKENS_MAX	32
#define NUMBER_DIGITS	9
#define WORD_MAX	16

/* Instants outside these bounds are refused rather than overflowed. */
#define TSPEC_T_MIN	(-2208988800LL)		/* 1900-01-01 */
#define TSPEC_T_MAX	(253402300799LL - 20LL * 366 * 86400)

enum tok_type {
	TOK_END,
	TOK_NUM,
	TOK_ORD,
	TOK_COLON,
	TOK_STAR,
	TOK_WORD,
};

enum kw {
	KW_EVERY,
	KW_HOURLY,
	KW_DAILY,
	KW_WEEKLY,
	KW_MONTHLY,
	KW_AT,
	KW_ON,
	KW_FROM,
	KW_THE,
	KW_AM,
	KW_PM,
	KW_NOON,
	KW_MIDNIGHT,
	KW_HALF,
	KW_QUARTER,
	KW_AFTER,
	KW_TIL,
	KW_SECOND,
	KW_MINUTE,
	KW_HOUR,
	KW_DAY,
	KW_ANYHOUR,
	KW_WEEKDAY,
};

struct keyword {
	const char	*word;
	enum kw		 kw;
	int		 value;
};

static const struct keyword keywords[] = {
	{ "every", KW_EVERY, 0 },
	{ "hourly", KW_HOURLY, 0 },
	{ "daily", KW_DAILY, 0 },
	{ "weekly", KW_WEEKLY, 0 },
	{ "monthly", KW_MONTHLY, 0 },
	{ "at", KW_AT, 0 },
	{ "on", KW_ON, 0 },
	{ "from", KW_FROM, 0 },
	{ "the", KW_THE, 0 },
	{ "am", KW_AM, 0 },
	{ "pm", KW_PM, 0 },
	{ "noon", KW_NOON, 0 },
	{ "midnight", KW_MIDNIGHT, 0 },
	{ "half", KW_HALF, 0 },
	{ "quarter", KW_QUARTER, 0 },
	{ "after", KW_AFTER, 0 },
	{ "past", KW_AFTER, 0 },
	{ "til", KW_TIL, 0 },
	{ "till", KW_TIL, 0 },
	{ "until", KW_TIL, 0 },
	{ "to", KW_TIL, 0 },
	{ "second", KW_SECOND, 0 },
	{ "seconds", KW_SECOND, 0 },
	{ "sec", KW_SECOND, 0 },
	{ "secs", KW_SECOND, 0 },
	{ "minute", KW_MINUTE, 0 },
	{ "minutes", KW_MINUTE, 0 },
	{ "min", KW_MINUTE, 0 },
	{ "mins", KW_MINUTE, 0 },
	{ "hour", KW_HOUR, 0 },
	{ "hours", KW_HOUR, 0 },
	{ "hr", KW_HOUR, 0 },
	{ "hrs", KW_HOUR, 0 },
	{ "day", KW_DAY, 0 },
	{ "days", KW_DAY, 0 },
	{ "x", KW_ANYHOUR, 0 },
	{ "h", KW_ANYHOUR, 0 },
	{ "sun", KW_WEEKDAY, 0 },
	{ "sunday", KW_WEEKDAY, 0 },
	{ "sundays", KW_WEEKDAY, 0 },
	{ "mon", KW_WEEKDAY, 1 },
	{ "monday", KW_WEEKDAY, 1 },
	{ "mondays", KW_WEEKDAY, 1 },
	{ "tue", KW_WEEKDAY, 2 },
	{ "tues", KW_WEEKDAY, 2 },
	{ "tuesday", KW_WEEKDAY, 2 },
	{ "tuesdays", KW_WEEKDAY, 2 },
	{ "wed", KW_WEEKDAY, 3 },
	{ "weds", KW_WEEKDAY, 3 },
	{ "wednesday", KW_WEEKDAY, 3 },
	{ "wednesdays", KW_WEEKDAY, 3 },
	{ "thu", KW_WEEKDAY, 4 },
	{ "thur", KW_WEEKDAY, 4 },
	{ "thurs", KW_WEEKDAY, 4 },
	{ "thursday", KW_WEEKDAY, 4 },
	{ "thursdays", KW_WEEKDAY, 4 },
	{ "fri", KW_WEEKDAY, 5 },
	{ "friday", KW_WEEKDAY, 5 },
	{ "fridays", KW_WEEKDAY, 5 },
	{ "sat", KW_WEEKDAY, 6 },
	{ "saturday", KW_WEEKDAY, 6 },
	{ "saturdays", KW_WEEKDAY, 6 },
};

static const char *day_names[] = {
	"sunday", "monday", "tuesday", "wednesday", "thursday", "friday",
	"saturday",
};

struct token {
	enum tok_type	 type;
	enum kw		 kw;		/* TOK_WORD */
	long		 value;		/* number, or a weekday */
	const char	*text;
	size_t		 len;
};

struct parser {
	struct token	 tok[TOKENS_MAX];
	int		 ntok;
	int		 pos;
	char		*err;
	size_t		 errlen;
};

/* Write a formatted reason into the caller's error buffer; returns -1. */
static int __attribute__((format(printf, 2, 3)))
parse_error(struct parser *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err != NULL && p->errlen > 0) {
		va_start(ap, fmt);
		vsnprintf(p->err, p->errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

/* ASCII-only character classes, so the locale never changes the language. */
static int
ts_isdigit(int c)
{
	return c >= '0' && c <= '9';
}

/* True for an ASCII letter. */
static int
ts_isalpha(int c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* True for the separators between words. */
static int
ts_isspace(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f' || c == ',';
}

/* Lower-case an ASCII letter. */
static int
ts_tolower(int c)
{
	return (c >= 'A' && c <= 'Z') ? c - 'A' + 'a' : c;
}

/* The English ordinal suffix of n ("st" for 1, "th" for 11). */
static const char *
ord_suffix(long n)
{
	if (n % 100 >= 11 && n % 100 <= 13)
		return "th";
	switch (n % 10) {
	case 1:
		return "st";
	case 2:
		return "nd";
	case 3:
		return "rd";
	}
	return "th";
}

/* Describe a token for an error message: its text quoted, or end of text. */
static const char *
tok_what(const struct token *t, char *buf, size_t len)
{
	if (t->type == TOK_END)
		return "the end of the text";
	if (t->len > 24)
		snprintf(buf, len, "'%.*s...'", 24, t->text);
	else
		snprintf(buf, len, "'%.*s'", (int)t->len, t->text);
	return buf;
}

/* Look a lower-cased word up in the keyword table. */
static const struct keyword *
keyword_find(const char *word)
{
	size_t i;

	for (i = 0; i < sizeof keywords / sizeof keywords[0]; i++) {
		if (strcmp(keywords[i].word, word) == 0)
			return &keywords[i];
	}
	return NULL;
}

/* Append one token; fails once the text has more tokens than any spec. */
static int
lex_push(struct parser *p, enum tok_type type, const char *text, size_t len)
{
	struct token *t;

	if (p->ntok >= TOKENS_MAX - 1)
		return parse_error(p, "timespec is too long");
	t = &p->tok[p->ntok++];
	memset(t, 0, sizeof *t);
	t->type = type;
	t->text = text;
	t->len = len;
	return 0;
}

/* Read a run of letters at s as a keyword token. */
static int
lex_word(struct parser *p, const char *s, size_t *used)
{
	const struct keyword *k;
	char word[WORD_MAX + 1];
	size_t n = 0, i;

	while (ts_isalpha((unsigned char)s[n]))
		n++;
	*used = n;
	/* "a.m." and "p.m." are one word. */
	if (n == 1 && (ts_tolower(s[0]) == 'a' || ts_tolower(s[0]) == 'p') &&
	    s[1] == '.' && ts_tolower((unsigned char)s[2]) == 'm') {
		*used = s[3] == '.' ? 4 : 3;
		n = 2;
		word[0] = (char)ts_tolower(s[0]);
		word[1] = 'm';
		word[2] = '\0';
	} else if (n > WORD_MAX) {
		return parse_error(p, "unknown word '%.*s...'", WORD_MAX, s);
	} else {
		for (i = 0; i < n; i++)
			word[i] = (char)ts_tolower((unsigned char)s[i]);
		word[n] = '\0';
	}
	if ((k = keyword_find(word)) == NULL)
		return parse_error(p, "unknown word '%.*s'", (int)n, s);
	if (lex_push(p, TOK_WORD, s, *used) != 0)
		return -1;
	p->tok[p->ntok - 1].kw = k->kw;
	p->tok[p->ntok - 1].value = k->value;
	return 0;
}

/* Read digits at s as a number, or as an ordinal when "st", "nd", "rd" or
 * "th" follows directly (any of them, as the original SHIELD allowed). */
static int
lex_number(struct parser *p, const char *s, size_t *used)
{
	size_t n = 0, i;
	long v = 0;
	int a, b;

	while (ts_isdigit((unsigned char)s[n]))
		n++;
	if (n > NUMBER_DIGITS)
		return parse_error(p, "number %.*s%s is too large",
		    NUMBER_DIGITS, s, "...");
	for (i = 0; i < n; i++)
		v = v * 10 + (s[i] - '0');
	a = ts_tolower((unsigned char)s[n]);
	b = a == '\0' ? '\0' : ts_tolower((unsigned char)s[n + 1]);
	if (((a == 's' && b == 't') || (a == 'n' && b == 'd') ||
	    (a == 'r' && b == 'd') || (a == 't' && b == 'h')) &&
	    !ts_isalpha((unsigned char)s[n + 2])) {
		*used = n + 2;
		if (lex_push(p, TOK_ORD, s, n + 2) != 0)
			return -1;
	} else {
		*used = n;
		if (lex_push(p, TOK_NUM, s, n) != 0)
			return -1;
	}
	p->tok[p->ntok - 1].value = v;
	return 0;
}

/* Split text into tokens, ending with a TOK_END. */
static int
lex(struct parser *p, const char *text)
{
	const char *s = text;
	size_t used = 0;	/* set by every branch; GCC -O2 cannot tell */
	unsigned char c;

	while (*s != '\0') {
		c = (unsigned char)*s;
		if (ts_isspace(c)) {
			s++;
			continue;
		}
		if (ts_isdigit(c)) {
			if (lex_number(p, s, &used) != 0)
				return -1;
		} else if (ts_isalpha(c)) {
			if (lex_word(p, s, &used) != 0)
				return -1;
		} else if (c == ':' || c == '*') {
			used = 1;
			if (lex_push(p, c == ':' ? TOK_COLON : TOK_STAR, s,
			    1) != 0)
				return -1;
		} else if (c >= 0x20 && c < 0x7f) {
			return parse_error(p, "unexpected character '%c'", c);
		} else {
			return parse_error(p, "unexpected byte 0x%02x", c);
		}
		s += used;
	}
	p->tok[p->ntok].type = TOK_END;
	p->tok[p->ntok].text = s;
	p->tok[p->ntok].len = 0;
	return 0;
}

/* The token at the cursor (TOK_END once the text is used up). */
static const struct token *
peek(const struct parser *p)
{
	return &p->tok[p->pos];
}

/* The token after the cursor. */
static const struct token *
peek2(const struct parser *p)
{
	if (p->tok[p->pos].type == TOK_END)
		return &p->tok[p->pos];
	return &p->tok[p->pos + 1];
}

/* True if t is the keyword kw. */
static int
is_kw(const struct token *t, enum kw kw)
{
	return t->type == TOK_WORD && t->kw == kw;
}

/* Consume the keyword kw if it is next; true if it was. */
static int
accept_kw(struct parser *p, enum kw kw)
{
	if (!is_kw(peek(p), kw))
		return 0;
	p->pos++;
	return 1;
}

/* True if a time of day ("4:30", "4am", "noon") starts at the cursor. */
static int
looks_like_time(const struct parser *p)
{
	const struct token *t = peek(p), *u = peek2(p);

	if (is_kw(t, KW_NOON) || is_kw(t, KW_MIDNIGHT))
		return 1;
	return t->type == TOK_NUM && (u->type == TOK_COLON ||
	    is_kw(u, KW_AM) || is_kw(u, KW_PM));
}

/* Parse a time of day: H:MM, H:MM am/pm, Ham/pm, noon or midnight. */
static int
parse_time(struct parser *p, int *hour, int *minute)
{
	const struct token *t = peek(p);
	char what[40];
	long h, m = 0;

	if (accept_kw(p, KW_NOON)) {
		*hour = 12;
		*minute = 0;
		return 0;
	}
	if (accept_kw(p, KW_MIDNIGHT)) {
		*hour = 0;
		*minute = 0;
		return 0;
	}
	if (t->type != TOK_NUM)
		return parse_error(p, "expected a time like 4am or 16:30, "
		    "found %s", tok_what(t, what, sizeof what));
	h = t->value;
	p->pos++;
	if (peek(p)->type == TOK_COLON) {
		p->pos++;
		t = peek(p);
		if (t->type != TOK_NUM)
			return parse_error(p, "expected minutes after "
			    "'%ld:', found %s", h,
			    tok_what(t, what, sizeof what));
		m = t->value;
		p->pos++;
		if (m > 59)
			return parse_error(p, "minute %ld is out of range "
			    "(0-59)", m);
	} else if (!is_kw(peek(p), KW_AM) && !is_kw(peek(p), KW_PM))
		return parse_error(p, "a time needs minutes or am/pm, like "
		    "%ld:00 or %ldam", h, h);
	if (is_kw(peek(p), KW_AM) || is_kw(peek(p), KW_PM)) {
		/* 0am is 00:00, as the original SHIELD read it. */
		if (h > 12)
			return parse_error(p, "hour %ld is out of range with "
			    "am/pm (1-12)", h);
		h %= 12;
		if (is_kw(peek(p), KW_PM))
			h += 12;
		p->pos++;
	} else if (h > 23)
		return parse_error(p, "hour %ld is out of range (0-23)", h);
	*hour = (int)h;
	*minute = (int)m;
	return 0;
}

/* Parse minutes past the hour: 15, :15, x:15, quarter after, 10 til. */
static int
parse_minute_of_hour(struct parser *p, int *minute)
{
	const struct token *t = peek(p);
	char what[40];
	long v;
	int words = 0;

	if (t->type == TOK_STAR || is_kw(t, KW_ANYHOUR)) {
		p->pos++;
		if (peek(p)->type != TOK_COLON)
			return parse_error(p, "expected ':' after %s",
			    tok_what(t, what, sizeof what));
		t = peek(p);
	}
	if (t->type == TOK_COLON) {
		p->pos++;
		t = peek(p);
		if (t->type != TOK_NUM)
			return parse_error(p, "expected minutes after ':', "
			    "found %s", tok_what(t, what, sizeof what));
		v = t->value;
		p->pos++;
	} else if (t->type == TOK_NUM) {
		v = t->value;
		p->pos++;
		if (peek(p)->type == TOK_COLON)
			return parse_error(p, "minutes past the hour are "
			    "written 15, :15 or x:15, not %ld:", v);
	} else if (is_kw(t, KW_QUARTER) || is_kw(t, KW_HALF)) {
		v = is_kw(t, KW_QUARTER) ? 15 : 30;
		words = 1;
		p->pos++;
	} else
		return parse_error(p, "expected minutes past the hour (like "
		    ":15 or quarter after), found %s",
		    tok_what(t, what, sizeof what));
	if (accept_kw(p, KW_TIL)) {
		if (v < 1 || v > 59)
			return parse_error(p, "'%ld til' is out of range "
			    "(1-59 til)", v);
		v = 60 - v;
	} else if (!accept_kw(p, KW_AFTER) && words)
		return parse_error(p, "expected 'after' or 'til' after %s",
		    tok_what(t, what, sizeof what));
	if (v > 59)
		return parse_error(p, "minute %ld is out of range (0-59)", v);
	*minute = (int)v;
	return 0;
}

/* Parse the `from` time of an interval; short intervals also take minutes
 * past the hour ("every quarter hour from 10"). */
static int
parse_from(struct parser *p, int period, int *hour, int *minute)
{
	const struct token *t = peek(p);

	if (looks_like_time(p))
		return parse_time(p, hour, minute);
	if (period > 60 && t->type == TOK_NUM)
		return parse_error(p, "'from %ld' is ambiguous: write a time "
		    "like 4:00, 4am or 0:15", t->value);
	*hour = 0;
	return parse_minute_of_hour(p, minute);
}

/* Parse a day of the week. */
static int
parse_weekday(struct parser *p, int *wday)
{
	const struct token *t = peek(p);
	char what[40];

	if (!is_kw(t, KW_WEEKDAY))
		return parse_error(p, "expected a day of the week like sunday "
		    "or sun, found %s", tok_what(t, what, sizeof what));
	*wday = (int)t->value;
	p->pos++;
	return 0;
}

/* Check the week of a month ("2nd tuesday"). */
static int
check_week(struct parser *p, long week, int wday)
{
	if (week < 1 || week > 5)
		return parse_error(p, "%ld%s %s is out of range (1st-5th)",
		    week, ord_suffix(week), day_names[wday]);
	return 0;
}

/* Parse the day part of a monthly spec: 15th, 2, the 3rd, 2nd tuesday. */
static int
parse_month_day(struct parser *p, struct tspec *ts)
{
	const struct token *t;
	char what[40];
	long v;

	accept_kw(p, KW_THE);
	t = peek(p);
	if (t->type != TOK_NUM && t->type != TOK_ORD)
		return parse_error(p, "expected a day of the month like 15th "
		    "or a weekday like 2nd tuesday, found %s",
		    tok_what(t, what, sizeof what));
	v = t->value;
	p->pos++;
	if (t->type == TOK_ORD && is_kw(peek(p), KW_WEEKDAY)) {
		ts->kind = TSPEC_MONTHWEEK;
		if (parse_weekday(p, &ts->wday) != 0 ||
		    check_week(p, v, ts->wday) != 0)
			return -1;
		ts->week = (int)v;
		return 0;
	}
	if (v < 1 || v > 31)
		return parse_error(p, "day %ld is out of range (1-31)", v);
	ts->kind = TSPEC_MONTHDAY;
	ts->mday = (int)v;
	return 0;
}

/* Parse an interval after "every": N minutes, N hours, quarter hour. */
static int
parse_interval(struct parser *p, struct tspec *ts)
{
	const struct token *t = peek(p), *u = peek2(p);
	char what[40];
	long n;
	int h = 0, m = 0;

	if (is_kw(t, KW_QUARTER) || is_kw(t, KW_HALF)) {
		n = is_kw(t, KW_QUARTER) ? 15 : 30;
		p->pos++;
		if (!accept_kw(p, KW_HOUR))
			return parse_error(p, "expected 'hour' after %s, "
			    "found %s", is_kw(t, KW_QUARTER) ? "'quarter'" :
			    "'half'", tok_what(peek(p), what, sizeof what));
	} else if (is_kw(t, KW_HOUR)) {
		n = 60;
		p->pos++;
	} else {
		n = t->value;
		p->pos++;
		if (is_kw(u, KW_SECOND))
			return parse_error(p, "a schedule cannot run more "
			    "often than once a minute");
		if (!is_kw(u, KW_HOUR) && !is_kw(u, KW_MINUTE))
			return parse_error(p, "expected 'minutes' or 'hours' "
			    "after 'every %ld', found %s", n,
			    tok_what(u, what, sizeof what));
		p->pos++;
		if (is_kw(u, KW_HOUR)) {
			if (n > 24)
				return parse_error(p, "an interval of %ld "
				    "hours is too long (at most 24)", n);
			n *= 60;
		}
		if (n == 0)
			return parse_error(p, "an interval of 0 %s is too "
			    "short: a schedule runs at most once a minute",
			    is_kw(u, KW_HOUR) ? "hours" : "minutes");
		if (n > 1440)
			return parse_error(p, "an interval of %ld minutes is "
			    "too long (at most 1440)", n);
	}
	if (accept_kw(p, KW_FROM) && parse_from(p, (int)n, &h, &m) != 0)
		return -1;
	m += h * 60;
	m %= (int)n;
	ts->kind = TSPEC_INTERVAL;
	ts->period = (int)n;
	ts->hour = m / 60;
	ts->minute = m % 60;
	return 0;
}

/* Parse an hourly spec after "hourly" or "every hour": [at] :MM. */
static int
parse_hourly(struct parser *p, struct tspec *ts)
{
	ts->kind = TSPEC_HOURLY;
	if (accept_kw(p, KW_AT) || peek(p)->type != TOK_END)
		return parse_minute_of_hour(p, &ts->minute);
	return 0;
}

/* Parse the rest of a weekly spec: [at] TIME [on] DAY, or the reverse. */
static int
parse_weekly(struct parser *p, struct tspec *ts)
{
	ts->kind = TSPEC_WEEKLY;
	if (accept_kw(p, KW_ON) || is_kw(peek(p), KW_WEEKDAY)) {
		if (parse_weekday(p, &ts->wday) != 0)
			return -1;
		accept_kw(p, KW_AT);
		return parse_time(p, &ts->hour, &ts->minute);
	}
	accept_kw(p, KW_AT);
	if (parse_time(p, &ts->hour, &ts->minute) != 0)
		return -1;
	accept_kw(p, KW_ON);
	return parse_weekday(p, &ts->wday);
}

/* Parse the rest of a monthly spec: [at] TIME [on] DAY, or the reverse. */
static int
parse_monthly(struct parser *p, struct tspec *ts)
{
	if (!accept_kw(p, KW_AT) && !looks_like_time(p)) {
		accept_kw(p, KW_ON);
		if (parse_month_day(p, ts) != 0)
			return -1;
		accept_kw(p, KW_AT);
		return parse_time(p, &ts->hour, &ts->minute);
	}
	if (parse_time(p, &ts->hour, &ts->minute) != 0)
		return -1;
	accept_kw(p, KW_ON);
	return parse_month_day(p, ts);
}

/* Parse whatever follows "every". */
static int
parse_every(struct parser *p, struct tspec *ts)
{
	const struct token *t = peek(p), *u = peek2(p);
	char what[40];

	if (is_kw(t, KW_MINUTE)) {
		p->pos++;
		ts->kind = TSPEC_INTERVAL;
		ts->period = 1;
		return 0;
	}
	if (is_kw(t, KW_SECOND))
		return parse_error(p, "a schedule cannot run more often than "
		    "once a minute");
	if (t->type == TOK_NUM || is_kw(t, KW_QUARTER) || is_kw(t, KW_HALF) ||
	    (is_kw(t, KW_HOUR) && is_kw(u, KW_FROM)))
		return parse_interval(p, ts);
	if (accept_kw(p, KW_HOUR))
		return parse_hourly(p, ts);
	if (accept_kw(p, KW_DAY)) {
		ts->kind = TSPEC_DAILY;
		accept_kw(p, KW_AT);
		return parse_time(p, &ts->hour, &ts->minute);
	}
	if (is_kw(t, KW_WEEKDAY))
		return parse_weekly(p, ts);
	return parse_error(p, "expected 'minute', 'N minutes', 'N hours', "
	    "'hour', 'day' or a weekday after 'every', found %s",
	    tok_what(t, what, sizeof what));
}

/* Parse a whole spec from its first token. */
static int
parse_spec(struct parser *p, struct tspec *ts)
{
	const struct token *t = peek(p);
	char what[40];
	long week;

	if (t->type == TOK_END)
		return parse_error(p, "empty timespec");
	p->pos++;
	if (is_kw(t, KW_EVERY))
		return parse_every(p, ts);
	if (is_kw(t, KW_HOURLY))
		return parse_hourly(p, ts);
	if (is_kw(t, KW_DAILY)) {
		ts->kind = TSPEC_DAILY;
		accept_kw(p, KW_AT);
		return parse_time(p, &ts->hour, &ts->minute);
	}
	if (is_kw(t, KW_WEEKLY))
		return parse_weekly(p, ts);
	if (is_kw(t, KW_MONTHLY))
		return parse_monthly(p, ts);
	if (is_kw(t, KW_WEEKDAY)) {
		p->pos--;
		return parse_weekly(p, ts);
	}
	if (t->type == TOK_ORD) {
		week = t->value;
		ts->kind = TSPEC_MONTHWEEK;
		if (parse_weekday(p, &ts->wday) != 0 ||
		    check_week(p, week, ts->wday) != 0)
			return -1;
		ts->week = (int)week;
		accept_kw(p, KW_AT);
		return parse_time(p, &ts->hour, &ts->minute);
	}
	return parse_error(p, "a timespec starts with every, hourly, daily, "
	    "weekly, monthly, a weekday or an ordinal like 2nd; found %s",
	    tok_what(t, what, sizeof what));
}

/* Parse text into *out; see timespec.h. */
int
timespec_parse(const char *text, struct tspec *out, char *err,
    size_t errlen)
{
	struct parser p;
	struct tspec ts;
	char what[40];

	memset(out, 0, sizeof *out);
	memset(&ts, 0, sizeof ts);
	memset(&p, 0, sizeof p);
	p.err = err;
	p.errlen = errlen;
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (text == NULL)
		return parse_error(&p, "empty timespec");
	if (lex(&p, text) != 0 || parse_spec(&p, &ts) != 0)
		return -1;
	if (peek(&p)->type != TOK_END)
		return parse_error(&p, "unexpected %s after the schedule",
		    tok_what(peek(&p), what, sizeof what));
	*out = ts;
	return 0;
}

/* True if every field the kind uses is within its range. */
static int
tspec_valid(const struct tspec *ts)
{
	if (ts == NULL || ts->hour < 0 || ts->hour > 23 || ts->minute < 0 ||
	    ts->minute > 59)
		return 0;
	switch (ts->kind) {
	case TSPEC_INTERVAL:
		return ts->period >= 1 && ts->period <= 1440 &&
		    ts->hour * 60 + ts->minute < ts->period;
	case TSPEC_HOURLY:
		return ts->hour == 0;
	case TSPEC_DAILY:
		return 1;
	case TSPEC_WEEKLY:
		return ts->wday >= 0 && ts->wday <= 6;
	case TSPEC_MONTHDAY:
		return ts->mday >= 1 && ts->mday <= 31;
	case TSPEC_MONTHWEEK:
		return ts->wday >= 0 && ts->wday <= 6 && ts->week >= 1 &&
		    ts->week <= 5;
	default:
		return 0;
	}
}

/* Write the canonical text of a schedule; see timespec.h. */
int
timespec_canonical(const struct tspec *ts, char *buf, size_t len)
{
	if (!tspec_valid(ts)) {
		if (buf != NULL && len > 0)
			buf[0] = '\0';
		return -1;
	}
	switch (ts->kind) {
	case TSPEC_INTERVAL:
		if (ts->period == 1)
			return snprintf(buf, len, "every minute");
		if (ts->period % 60 == 0)
			return snprintf(buf, len, "every %d hour%s from "
			    "%02d:%02d", ts->period / 60,
			    ts->period == 60 ? "" : "s", ts->hour, ts->minute);
		return snprintf(buf, len, "every %d minutes from %02d:%02d",
		    ts->period, ts->hour, ts->minute);
	case TSPEC_HOURLY:
		return snprintf(buf, len, "hourly at :%02d", ts->minute);
	case TSPEC_DAILY:
		return snprintf(buf, len, "daily at %02d:%02d", ts->hour,
		    ts->minute);
	case TSPEC_WEEKLY:
		return snprintf(buf, len, "weekly at %02d:%02d on %s",
		    ts->hour, ts->minute, day_names[ts->wday]);
	case TSPEC_MONTHDAY:
		return snprintf(buf, len, "monthly at %02d:%02d on %d%s",
		    ts->hour, ts->minute, ts->mday, ord_suffix(ts->mday));
	case TSPEC_MONTHWEEK:
		return snprintf(buf, len, "monthly at %02d:%02d on %d%s %s",
		    ts->hour, ts->minute, ts->week, ord_suffix(ts->week),
		    day_names[ts->wday]);
	default:
		return -1;
	}
}

/* Compare the fields each kind uses; see timespec.h. */
int
timespec_equal(const struct tspec *a, const struct tspec *b)
{
	if (!tspec_valid(a) || !tspec_valid(b) || a->kind != b->kind)
		return 0;
	switch (a->kind) {
	case TSPEC_INTERVAL:
		return a->period == b->period && a->hour == b->hour &&
		    a->minute == b->minute;
	case TSPEC_HOURLY:
		return a->minute == b->minute;
	case TSPEC_DAILY:
		return a->hour == b->hour && a->minute == b->minute;
	case TSPEC_WEEKLY:
		return a->wday == b->wday && a->hour == b->hour &&
		    a->minute == b->minute;
	case TSPEC_MONTHDAY:
		return a->mday == b->mday && a->hour == b->hour &&
		    a->minute == b->minute;
	case TSPEC_MONTHWEEK:
		return a->week == b->week && a->wday == b->wday &&
		    a->hour == b->hour && a->minute == b->minute;
	default:
		return 0;
	}
}

/* Division rounding towards minus infinity. */
static int64_t
floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	if ((a % b != 0) && ((a < 0) != (b < 0)))
		q--;
	return q;
}

/* Days from 1970-01-01 to a proleptic Gregorian date (H. Hinnant). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* The date of a day counted from 1970-01-01. */
static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

/* The weekday (0 is sunday) of a day counted from 1970-01-01, a thursday. */
static int
weekday_of(int64_t day)
{
	return (int)(day + 4 - floor_div(day + 4, 7) * 7);
}

/* The number of days in a month. */
static int
days_in_month(int64_t y, int m)
{
	static const int dim[] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};

	if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
		return 29;
	return dim[m - 1];
}

/* The local zone's offset from UTC at instant t, in seconds. */
static int64_t
local_offset(int64_t t)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (localtime_r(&tt, &tm) == NULL)
		return 0;
	return days_from_civil(tm.tm_year + 1900LL, tm.tm_mon + 1,
	    tm.tm_mday) * 86400 + tm.tm_hour * 3600 + tm.tm_min * 60 +
	    tm.tm_sec - t;
}

/* The first instant in (a, b] whose offset differs from the offset at a;
 * the caller knows the offset at b differs. */
static int64_t
offset_change(int64_t a, int64_t b)
{
	int64_t oa = local_offset(a), mid;

	while (b - a > 1) {
		mid = a + (b - a) / 2;
		if (local_offset(mid) == oa)
			a = mid;
		else
			b = mid;
	}
	return b;
}

/*
 * The instant at which the local clock shows `wall` (seconds since
 * 1970-01-01 00:00 as if the zone were UTC).  A wall time shown twice
 * resolves to its first occurrence; one skipped by a forward jump resolves
 * to the first instant after the jump.  Offsets are sampled a day either
 * side, which finds every solution unless a zone changes twice in two days.
 */
static int64_t
resolve_wall(int64_t wall)
{
	int64_t offs[3], best = 0, t, lo, hi;
	int i, j, found = 0;

	offs[0] = local_offset(wall - 86400);
	offs[1] = local_offset(wall);
	offs[2] = local_offset(wall + 86400);
	for (i = 0; i < 3; i++) {
		for (j = 0; j < i; j++) {
			if (offs[j] == offs[i])
				break;
		}
		if (j < i)
			continue;
		t = wall - offs[i];
		if (local_offset(t) == offs[i] && (!found || t < best)) {
			best = t;
			found = 1;
		}
	}
	if (found)
		return best;

	/* In a gap: the clock jumped from the lower offset to the higher. */
	lo = offs[0];
	hi = offs[0];
	for (i = 1; i < 3; i++) {
		if (offs[i] < lo)
			lo = offs[i];
		if (offs[i] > hi)
			hi = offs[i];
	}
	if (lo == hi || local_offset(wall - hi) == local_offset(wall - lo))
		return wall - offs[1];
	return offset_change(wall - hi, wall - lo);
}

/* Next run of an interval schedule: the grid described in timespec.h. */
static int64_t
next_interval(const struct tspec *ts, int64_t after)
{
	int64_t y, jan, jul, std, base, step, k;
	int m, d;

	civil_from_days(floor_div(after, 86400), &y, &m, &d);
	jan = local_offset(days_from_civil(y, 1, 1) * 86400 + 43200);
	jul = local_offset(days_from_civil(y, 7, 1) * 86400 + 43200);
	std = jan < jul ? jan : jul;
	step = (int64_t)ts->period * 60;
	base = (int64_t)(ts->hour * 60 + ts->minute) * 60 - std;
	k = floor_div(after - base, step) + 1;
	return base + k * step;
}

/* Next run of an hourly schedule: the next instant the clock shows :MM:00. */
static int64_t
next_hourly(const struct tspec *ts, int64_t after)
{
	struct tm tm;
	time_t tt;
	int64_t t = after + 1, c, delta;
	int i;

	for (i = 0; i < 16; i++) {
		tt = (time_t)t;
		if (localtime_r(&tt, &tm) == NULL)
			return -1;
		delta = (int64_t)((ts->minute - tm.tm_min + 60) % 60) * 60 -
		    tm.tm_sec;
		if (delta < 0)
			delta += 3600;
		c = t + delta;
		/*
		 * A change of a whole number of hours between t and c keeps
		 * the clock's minutes, so c is right; any other change moves
		 * them, so start again from the instant of the change.
		 */
		if ((local_offset(c) - local_offset(t)) % 3600 == 0)
			return c;
		t = offset_change(t, c);
	}
	return -1;
}

/* The wall-clock instant of a day-based schedule on a day, if it runs then;
 * day is counted from 1970-01-01. */
static int64_t
day_instant(const struct tspec *ts, int64_t day)
{
	return resolve_wall(day * 86400 + (ts->hour * 60 + ts->minute) * 60);
}

/* The day of a monthly schedule in a month, or 0 if it has none. */
static int
month_run_day(const struct tspec *ts, int64_t y, int m)
{
	int first, d;

	if (ts->kind == TSPEC_MONTHDAY)
		return ts->mday <= days_in_month(y, m) ? ts->mday : 0;
	first = weekday_of(days_from_civil(y, m, 1));
	d = 1 + (ts->wday - first + 7) % 7 + 7 * (ts->week - 1);
	return d <= days_in_month(y, m) ? d : 0;
}

/* Next run of a daily, weekly or monthly schedule. */
static int64_t
next_days(const struct tspec *ts, int64_t after)
{
	int64_t start, day, t, y;
	int i, m, d;

	/* Start a day early: a run resolved across a gap may fall late. */
	start = floor_div(after + local_offset(after), 86400) - 1;
	switch (ts->kind) {
	case TSPEC_DAILY:
		for (day = start; day < start + 8; day++) {
			if ((t = day_instant(ts, day)) > after)
				return t;
		}
		return -1;
	case TSPEC_WEEKLY:
		day = start + (ts->wday - weekday_of(start) + 7) % 7;
		for (i = 0; i < 4; i++, day += 7) {
			if ((t = day_instant(ts, day)) > after)
				return t;
		}
		return -1;
	default:
		break;
	}
	civil_from_days(start, &y, &m, &d);
	/* A 31st or a 5th weekday is never more than a few months away. */
	for (i = 0; i < 48; i++) {
		if ((d = month_run_day(ts, y, m)) != 0) {
			t = day_instant(ts, days_from_civil(y, m, d));
			if (t > after)
				return t;
		}
		if (++m > 12) {
			m = 1;
			y++;
		}
	}
	return -1;
}

/* The first run strictly after `after`; see timespec.h. */
int64_t
timespec_next(const struct tspec *ts, int64_t after)
{
	if (!tspec_valid(ts) || after < TSPEC_T_MIN || after > TSPEC_T_MAX)
		return -1;
	switch (ts->kind) {
	case TSPEC_INTERVAL:
		return next_interval(ts, after);
	case TSPEC_HOURLY:
		return next_hourly(ts, after);
	default:
		return next_days(ts, after);
	}
}
