/*
 * Process logging to stderr with a level.  The level is set once at start by
 * log_init(); messages below it are dropped.  Never pass secrets here.
 */
#ifndef SHIELD_LOG_H
#define SHIELD_LOG_H

enum log_level {
	LOG_LEVEL_DEBUG,
	LOG_LEVEL_INFO,
	LOG_LEVEL_WARN,
	LOG_LEVEL_ERROR,
};

void	log_init(enum log_level, const char *);
/* Parse "debug", "info", "warn" or "error"; -1 if unknown. */
int	log_level_parse(const char *);
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
/* Log and exit(1): broken invariants and startup failures only. */
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#endif
