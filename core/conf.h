/*
 * conf: configuration helpers shared by shieldd and shield-agent: the
 * "name = value" config file format, bounded numbers, and default
 * directories found relative to the running executable so that an install
 * under any prefix works without flags.  Messages go to stderr prefixed with
 * the program's name, since they are printed before logging starts.
 */
#ifndef SHIELD_CONF_H
#define SHIELD_CONF_H

#include <stddef.h>
#include <stdio.h>

/* How an option's value is stored in the caller's config struct. */
enum conf_type {
	CONF_STRING,		/* char *, replaced; empty refused */
	CONF_NUMBER,		/* int within [lo, hi] */
	CONF_LEVEL,		/* int, a log level name */
	CONF_FUNC,		/* handed to fn */
};

/*
 * One option, known both as --NAME on the command line and as "NAME = value"
 * in a config file.  A table of these ends with a NULL name.
 */
struct conf_option {
	const char	*name;
	int		 short_name;	/* e.g. 'l', or 0 */
	enum conf_type	 type;
	size_t		 offset;	/* of the field in the config struct */
	int		 lo, hi;	/* CONF_NUMBER bounds */
	int		(*fn)(void *cfg, const char *value);	/* CONF_FUNC */
};

/* A program's options: the table, and where --config's path is kept. */
struct conf_spec {
	const char			*prog;
	const char			*version;
	const struct conf_option	*options;
	size_t				 config_file;	/* offset of char * */
	void				(*usage)(FILE *);
};

/*
 * Fill cfg (already holding its defaults) from argv: first every config file
 * named by -c FILE, -cFILE, --config FILE or --config=FILE, then the other
 * flags, so that flags override the file.  Returns 0, 1 after printing
 * --help or --version, or -1 after reporting the problem.
 */
int	conf_parse(const struct conf_spec *, void *cfg, int argc, char **argv);
/* Apply one option by name; 0, or -1 after reporting. */
int	conf_set(const struct conf_spec *, void *cfg, const char *name,
	    const char *value);

/* Called for each "name = value" line; returns 0 or -1 (already reported). */
typedef int (*conf_option_fn)(void *arg, const char *name, const char *value);

/*
 * Read a config file: blank lines and '#' comments are skipped, every other
 * line is "name = value".  Returns 0, or -1 after reporting the file, line
 * and problem (a line over CONF_LINE_MAX bytes or with a NUL is one).
 */
#define CONF_LINE_MAX	4096
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
