/*
 * redact: hiding secret values (an endpoint's passwords, tokens, ...) in
 * text about to be logged or relayed, such as a plugin's stderr line.  The
 * task log in shieldd and the mask of shield-agent both hide through here,
 * each with its own policy in flags: the task log keeps a line's length,
 * each hidden byte a '*'; shield-agent makes each hidden stretch one
 * REDACT_TEXT, which does not tell how long a secret is.  Plugins have the
 * same in their kit (tool_redact()), as they never link the daemon's code.
 *
 * Ownership: the text returned is the caller's to free.
 */
#ifndef SHIELD_REDACT_H
#define SHIELD_REDACT_H

#include <stddef.h>

#define REDACT_TEXT	"********"

/* Each hidden stretch becomes REDACT_TEXT (otherwise: as many '*'). */
#define REDACT_FIXED	0x1
/* Occurrences of a secret that overlap each other are found too. */
#define REDACT_OVERLAP	0x2
/* The text was cut short: an end that is the start of a secret is hidden. */
#define REDACT_CUT	0x4

/*
 * A copy of the len bytes of text, NUL-terminated, with every occurrence of
 * each of the n secrets hidden; its length in *outlen (may be NULL).  The
 * secrets are found in the text as given, so hiding one never makes or
 * breaks a match of another, and "" is never found.  Without
 * REDACT_OVERLAP the search for a secret goes on from the end of its last
 * occurrence ("ababa" with the secret "aba" is "***ba").
 */
char	*redact_text(const char *text, size_t len, const char *const *secrets,
	    size_t n, int flags, size_t *outlen);

#endif
