/*
 * conf: configuration helpers shared by shieldd and shield-agent: the
 * "name = value" config file format, bounded numbers, and default
 * directories found relative to the running executable so that an install
 * under any prefix works without flags.  Messages go to stderr prefixed with
 * the program's name, since they are printed before logging starts.
 */
#ifndef SHIELD_CONF_H
#define SHIELD_CONF_H

/* Called for each "name = value" line; returns 0 or -1 (already reported). */
typedef int (*conf_option_fn)(void *arg, const char *name, const char *value);

/*
 * Read a config file: blank lines and '#' comments are skipped, every other
 * line is "name = value".  Returns 0, or -1 after reporting the file, line
 * and problem.
 */
int	conf_file_read(const char *prog, const char *path, conf_option_fn,
	    void *arg);
/* Parse a whole number in [lo, hi]; -1 after reporting if it is not one. */
int	conf_number(const char *prog, const char *name, const char *s, int lo,
	    int hi, int *out);
/*
 * DIR relative to the executable's own directory (e.g.
 * "../libexec/shield/plugins") if it exists, else builtin.  Caller frees.
 */
char	*conf_default_dir(const char *rel, const char *builtin);

#endif
