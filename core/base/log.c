/*
 * Logging to stderr: one line per message with a UTC timestamp, the program
 * name and the level.  The level and name are process-wide settings written
 * once by log_init() before the event loop starts and only read afterwards.
 * The message is escaped as a whole (utf8.h: \n, \x1b, ...), so a value
 * printed with %s, a username say, can never start a line of its own or
 * send escape sequences to a terminal.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "utf8.h"

static enum log_level log_min = LOG_LEVEL_INFO;
static const char *log_name = "shield";

/* Set the minimum level and the program name used as prefix. */
void
log_init(enum log_level level, const char *name)
{
	log_min = level;
	if (name != NULL)
		log_name = name;
}

/* Map a level name to its value. */
int
log_level_parse(const char *s)
{
	static const char *names[] = { "debug", "info", "warn", "error" };
	size_t i;

	for (i = 0; i < sizeof names / sizeof names[0]; i++) {
		if (strcmp(s, names[i]) == 0)
			return (int)i;
	}
	return -1;
}

static void	log_vwrite(enum log_level, const char *, va_list)
		    __attribute__((format(printf, 2, 0)));

/* Write one log line if the level is enabled. */
static void
log_vwrite(enum log_level level, const char *fmt, va_list ap)
{
	static const char *tags[] = { "debug", "info", "warn", "error" };
	char stamp[32], fixed[1024], *msg;
	struct tm tm;
	va_list ap2;
	time_t now;

	if (level < log_min)
		return;
	now = time(NULL);
	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S", &tm);
	/* Not xmalloc: running out of memory is itself logged through here. */
	va_copy(ap2, ap);
	if (vasprintf(&msg, fmt, ap) < 0) {
		msg = NULL;
		vsnprintf(fixed, sizeof fixed, fmt, ap2);
	}
	va_end(ap2);
	flockfile(stderr);	/* one line, even from the password worker */
	fprintf(stderr, "%s %s[%s]: ", stamp, log_name, tags[level]);
	utf8_fputs_escaped(stderr, msg != NULL ? msg : fixed, 0);
	fputc('\n', stderr);
	funlockfile(stderr);
	free(msg);
}

#define LOG_FN(fn, level)					\
void								\
fn(const char *fmt, ...)					\
{								\
	va_list ap;						\
	va_start(ap, fmt);					\
	log_vwrite(level, fmt, ap);				\
	va_end(ap);						\
}
LOG_FN(log_debug, LOG_LEVEL_DEBUG)
LOG_FN(log_info, LOG_LEVEL_INFO)
LOG_FN(log_warn, LOG_LEVEL_WARN)
LOG_FN(log_error, LOG_LEVEL_ERROR)

/* Log an error and exit. */
void
fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_ERROR, fmt, ap);
	va_end(ap);
	exit(1);
}
