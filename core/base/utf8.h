/*
 * utf8: checking and escaping text that came from outside.  Names, notes
 * and usernames must be valid UTF-8 without control characters; text shown
 * to a person (the daemon's log, the CLI's output) has its control
 * characters and invalid bytes escaped, so a value can never move the
 * cursor, ring the bell or forge a log line.
 *
 * Escapes: \n, \r and \t; other C0 characters, DEL and invalid bytes as
 * \xHH; C1 characters (U+0080..U+009F) as \uHHHH.  A backslash is left as
 * it is.  Functions returning a string return one the caller frees.
 */
#ifndef SHIELD_UTF8_H
#define SHIELD_UTF8_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define UTF8_KEEP_NEWLINE	0x1	/* print \n as a line break */
#define UTF8_KEEP_TAB		0x2	/* print \t as a tab */

/*
 * The length (1-4) of the well-formed UTF-8 sequence at s, with at most len
 * bytes available, and its code point in *cp; 0 if s does not start one
 * (overlong forms, surrogates and values over U+10FFFF are not UTF-8).
 */
size_t	 utf8_seq(const char *s, size_t len, uint32_t *cp);
/* 1 if cp is a control character: C0, DEL or C1. */
int	 utf8_is_control(uint32_t cp);
/*
 * Check text: 0 if s is valid UTF-8 without control characters, else -1
 * and *why says which ("is not valid UTF-8", "contains a control
 * character").
 */
int	 utf8_check_text(const char *s, const char **why);
/* 1 if s[0..len) is valid UTF-8. */
int	 utf8_valid(const char *s, size_t len);
/* A copy of s with control characters and invalid bytes escaped. */
char	*utf8_escape(const char *s, int flags);
/* Write s to f escaped, without allocating (for the log). */
void	 utf8_fputs_escaped(FILE *, const char *s, int flags);
/*
 * A copy of s[0..len) with every invalid byte replaced by U+FFFD, its
 * length in *outlen; NULL (nothing to repair) when s is valid.
 */
char	*utf8_repair(const char *s, size_t len, size_t *outlen);

#endif
