/*
 * Allocation wrappers that abort on failure.  Running out of memory is not
 * a condition SHIELD tries to recover from: every caller of these owns what
 * they return and frees it with free(3).
 */
#ifndef SHIELD_XMALLOC_H
#define SHIELD_XMALLOC_H

#include <stddef.h>

void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
/* xstrdup() that passes NULL through. */
char	*xstrdup_or_null(const char *);
int	 xasprintf(char **, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
