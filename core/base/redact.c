/*
 * Hiding secrets in text.  Every byte inside an occurrence of any secret is
 * marked first, in the text as given, and only then are the marked bytes
 * replaced: secrets that overlap or repeat (a password made of one
 * character, even of the mask's own '*') are hidden whole, and the search
 * always moves on.
 */
#include <stdlib.h>
#include <string.h>

#include "redact.h"
#include "xmalloc.h"

/* Mark every occurrence of s in text; with REDACT_CUT, a start of s at its
 * end. */
static void
redact_mark(unsigned char *hide, const char *text, size_t len, const char *s,
    int flags)
{
	size_t slen = strlen(s), step, k;
	const char *p, *hit;

	if (slen == 0)
		return;
	step = flags & REDACT_OVERLAP ? 1 : slen;
	for (p = text; (hit = memmem(p, len - (size_t)(p - text), s,
	    slen)) != NULL; p = hit + step)
		memset(hide + (hit - text), 1, slen);
	if (!(flags & REDACT_CUT))
		return;
	for (k = slen - 1 < len ? slen - 1 : len; k > 0; k--) {
		if (memcmp(text + len - k, s, k) == 0) {
			memset(hide + len - k, 1, k);
			break;
		}
	}
}

/* Write text with its marked bytes replaced to out (NULL: only count);
 * returns the length. */
static size_t
redact_put(char *out, const char *text, size_t len,
    const unsigned char *hide, int flags)
{
	size_t i, n = 0, mlen = strlen(REDACT_TEXT);

	for (i = 0; i < len; i++) {
		if (hide[i] && flags & REDACT_FIXED) {
			if (i > 0 && hide[i - 1])
				continue;
			if (out != NULL)
				memcpy(out + n, REDACT_TEXT, mlen);
			n += mlen;
			continue;
		}
		if (out != NULL)
			out[n] = hide[i] ? '*' : text[i];
		n++;
	}
	return n;
}

/* The text with the secrets hidden. */
char *
redact_text(const char *text, size_t len, const char *const *secrets,
    size_t n, int flags, size_t *outlen)
{
	unsigned char *hide = xcalloc(len + 1, 1);
	size_t i, olen;
	char *out;

	for (i = 0; i < n; i++)
		redact_mark(hide, text, len, secrets[i], flags);
	olen = redact_put(NULL, text, len, hide, flags);
	out = xmalloc(olen + 1);
	redact_put(out, text, len, hide, flags);
	out[olen] = '\0';
	free(hide);
	if (outlen != NULL)
		*outlen = olen;
	return out;
}
