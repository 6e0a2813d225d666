/*
 * Editing text in the user's editor ($VISUAL, then $EDITOR, then vi) for
 * the edit commands.  The text goes through a private temporary file that
 * is removed afterwards.
 */
#ifndef SHIELD_CLI_EDITOR_H
#define SHIELD_CLI_EDITOR_H

/*
 * Let the user edit text; suffix (".json") helps editors pick a mode.
 * Returns the new text (free it), or NULL after printing why the editor
 * failed.
 */
char	*editor_run(const char *text, const char *suffix);

#endif
