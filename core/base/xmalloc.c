/*
 * Allocation wrappers: each aborts with a message instead of returning NULL,
 * so callers never carry out-of-memory paths.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xmalloc.h"

/* Report an impossible allocation and abort. */
static void
xmalloc_die(const char *what, size_t n)
{
	fprintf(stderr, "fatal: %s of %zu bytes failed\n", what, n);
	abort();
}

/* Allocate n bytes (at least one). */
void *
xmalloc(size_t n)
{
	void *p;

	if ((p = malloc(n ? n : 1)) == NULL)
		xmalloc_die("malloc", n);
	return p;
}

/* Allocate a zeroed array. */
void *
xcalloc(size_t nmemb, size_t size)
{
	void *p;

	if ((p = calloc(nmemb ? nmemb : 1, size ? size : 1)) == NULL)
		xmalloc_die("calloc", nmemb * size);
	return p;
}

/* Resize an allocation. */
void *
xrealloc(void *ptr, size_t n)
{
	void *p;

	if ((p = realloc(ptr, n ? n : 1)) == NULL)
		xmalloc_die("realloc", n);
	return p;
}

/* Resize an array, checking the multiplication for overflow. */
void *
xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		xmalloc_die("reallocarray", SIZE_MAX);
	return xrealloc(ptr, nmemb * size);
}

/* Duplicate a string. */
char *
xstrdup(const char *s)
{
	char *p;

	if ((p = strdup(s)) == NULL)
		xmalloc_die("strdup", strlen(s));
	return p;
}

/* Duplicate at most n bytes of a string. */
char *
xstrndup(const char *s, size_t n)
{
	char *p;

	if ((p = strndup(s, n)) == NULL)
		xmalloc_die("strndup", n);
	return p;
}

/* Duplicate a string that may be NULL. */
char *
xstrdup_or_null(const char *s)
{
	return s == NULL ? NULL : xstrdup(s);
}

/* Format into a new string. */
int
xasprintf(char **ret, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vasprintf(ret, fmt, ap);
	va_end(ap);
	if (n < 0)
		xmalloc_die("vasprintf", 0);
	return n;
}
