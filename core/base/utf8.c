/*
 * UTF-8 decoding by the rules of RFC 3629 (no overlong forms, no
 * surrogates, nothing above U+10FFFF), the text check the API applies to
 * names and notes, and the escaping used wherever outside text is shown.
 * Escaping works one character at a time into a small buffer, so the log
 * can escape straight into its stream without allocating.
 */
#include <stdio.h>
#include <string.h>

#include "utf8.h"
#include "xmalloc.h"

/* The longest escape of one character: "\u0085". */
#define UTF8_ESC_MAX	8

/* Decode one sequence. */
size_t
utf8_seq(const char *str, size_t len, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t c, min;
	size_t n, i;

	if (len == 0)
		return 0;
	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if ((s[0] & 0xe0) == 0xc0) {
		n = 2;
		c = s[0] & 0x1f;
		min = 0x80;
	} else if ((s[0] & 0xf0) == 0xe0) {
		n = 3;
		c = s[0] & 0x0f;
		min = 0x800;
	} else if ((s[0] & 0xf8) == 0xf0) {
		n = 4;
		c = s[0] & 0x07;
		min = 0x10000;
	} else
		return 0;
	if (len < n)
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		return 0;
	*cp = c;
	return n;
}

/* C0, DEL, C1. */
int
utf8_is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

/* Valid UTF-8 and no control characters. */
int
utf8_check_text(const char *s, const char **why)
{
	size_t len = strlen(s), n;
	uint32_t cp;
	int control = 0;

	while (len > 0) {
		if ((n = utf8_seq(s, len, &cp)) == 0) {
			*why = "is not valid UTF-8";
			return -1;
		}
		control |= utf8_is_control(cp);
		s += n;
		len -= n;
	}
	if (control) {
		*why = "contains a control character (a line break, tab, "
		    "escape, ...)";
		return -1;
	}
	return 0;
}

/* Valid UTF-8 (control characters allowed). */
int
utf8_valid(const char *s, size_t len)
{
	uint32_t cp;
	size_t n;

	while (len > 0) {
		if ((n = utf8_seq(s, len, &cp)) == 0)
			return 0;
		s += n;
		len -= n;
	}
	return 1;
}

/*
 * Escape the character at s into out (NUL-terminated); returns the bytes of
 * s consumed.
 */
static size_t
utf8_escape_one(const char *s, size_t len, int flags, char out[UTF8_ESC_MAX])
{
	uint32_t cp;
	size_t n;

	if ((n = utf8_seq(s, len, &cp)) == 0) {
		snprintf(out, UTF8_ESC_MAX, "\\x%02x", (unsigned char)*s);
		return 1;
	}
	if (!utf8_is_control(cp) || (cp == '\n' &&
	    (flags & UTF8_KEEP_NEWLINE)) || (cp == '\t' &&
	    (flags & UTF8_KEEP_TAB))) {
		memcpy(out, s, n);
		out[n] = '\0';
	} else if (cp == '\n')
		snprintf(out, UTF8_ESC_MAX, "\\n");
	else if (cp == '\r')
		snprintf(out, UTF8_ESC_MAX, "\\r");
	else if (cp == '\t')
		snprintf(out, UTF8_ESC_MAX, "\\t");
	else if (cp < 0x80)
		snprintf(out, UTF8_ESC_MAX, "\\x%02x", (unsigned int)cp);
	else
		snprintf(out, UTF8_ESC_MAX, "\\u%04x", (unsigned int)cp);
	return n;
}

/* An escaped copy. */
char *
utf8_escape(const char *s, int flags)
{
	size_t len = strlen(s), cap = len + 1, off = 0, n, m;
	char esc[UTF8_ESC_MAX], *out = xmalloc(cap);

	while (len > 0) {
		n = utf8_escape_one(s, len, flags, esc);
		m = strlen(esc);
		if (off + m + 1 > cap) {
			cap = cap * 2 + m;
			out = xrealloc(out, cap);
		}
		memcpy(out + off, esc, m);
		off += m;
		s += n;
		len -= n;
	}
	out[off] = '\0';
	return out;
}

/* Write escaped text to a stream. */
void
utf8_fputs_escaped(FILE *f, const char *s, int flags)
{
	size_t len = strlen(s), n, run;
	char esc[UTF8_ESC_MAX];

	while (len > 0) {
		/* Plain printable ASCII goes out in runs. */
		for (run = 0; run < len && (unsigned char)s[run] >= 0x20 &&
		    (unsigned char)s[run] < 0x7f; run++)
			;
		if (run > 0) {
			fwrite(s, 1, run, f);
			s += run;
			len -= run;
			continue;
		}
		n = utf8_escape_one(s, len, flags, esc);
		fputs(esc, f);
		s += n;
		len -= n;
	}
}

/* Replace invalid bytes with U+FFFD. */
char *
utf8_repair(const char *s, size_t len, size_t *outlen)
{
	static const char repl[] = "\xef\xbf\xbd";
	size_t i, n, off = 0;
	uint32_t cp;
	char *out;

	if (utf8_valid(s, len))
		return NULL;
	out = xmalloc(len * 3 + 1);
	for (i = 0; i < len; i += n) {
		if ((n = utf8_seq(s + i, len - i, &cp)) == 0) {
			memcpy(out + off, repl, 3);
			off += 3;
			n = 1;
		} else {
			memcpy(out + off, s + i, n);
			off += n;
		}
	}
	out[off] = '\0';
	*outlen = off;
	return out;
}
