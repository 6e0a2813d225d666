/*
 * Configuration helpers shared by the daemons: the config file reader,
 * number parsing and executable-relative default directories.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"
#include "xmalloc.h"

/* Strip leading and trailing blanks in place; returns the new start. */
static char *
conf_trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t')
		s++;
	for (end = s + strlen(s); end > s && strchr(" \t\r\n", end[-1]) !=
	    NULL; end--)
		;
	*end = '\0';
	return s;
}

/* Read "name = value" lines and hand each to fn. */
int
conf_file_read(const char *prog, const char *path, conf_option_fn fn,
    void *arg)
{
	char *line = NULL, *p, *eq;
	int lineno = 0, rc = 0;
	size_t size = 0;
	ssize_t n;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "%s: cannot read config file %s: %s\n", prog,
		    path, strerror(errno));
		return -1;
	}
	while (rc == 0 && (n = getline(&line, &size, f)) != -1) {
		lineno++;
		/* Whole lines only: the rest of a long one is no new line. */
		if (n > CONF_LINE_MAX || memchr(line, '\0', (size_t)n) != NULL) {
			fprintf(stderr, "%s: %s:%d: %s\n", prog, path, lineno,
			    n > CONF_LINE_MAX ? "line too long" :
			    "NUL character");
			rc = -1;
			break;
		}
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		p = conf_trim(line);
		if (*p == '\0')
			continue;
		if ((eq = strchr(p, '=')) == NULL) {
			fprintf(stderr, "%s: %s:%d: expected 'name = value'\n",
			    prog, path, lineno);
			rc = -1;
			break;
		}
		*eq = '\0';
		if (fn(arg, conf_trim(p), conf_trim(eq + 1)) != 0) {
			fprintf(stderr, "%s: in %s line %d\n", prog, path,
			    lineno);
			rc = -1;
		}
	}
	free(line);
	fclose(f);
	return rc;
}

/* Parse a whole number within bounds. */
int
conf_number(const char *prog, const char *name, const char *s, int lo,
    int hi, int *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || n < lo || n > hi) {
		fprintf(stderr, "%s: %s must be a number from %d to %d, not "
		    "'%s'\n", prog, name, lo, hi, s);
		return -1;
	}
	*out = (int)n;
	return 0;
}

/* A default directory relative to this executable, else the built-in one. */
char *
conf_default_dir(const char *rel, const char *builtin)
{
	char buf[PATH_MAX], *slash, *p;
	struct stat st;
	ssize_t n;

	n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	if (n > 0) {
		buf[n] = '\0';
		if ((slash = strrchr(buf, '/')) != NULL) {
			*slash = '\0';
			xasprintf(&p, "%s/%s", buf, rel);
			if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
				return p;
			free(p);
		}
	}
	return xstrdup(builtin);
}

/* The entry for a long name, or NULL. */
static const struct conf_option *
conf_find(const struct conf_spec *spec, const char *name)
{
	const struct conf_option *o;

	for (o = spec->options; o->name != NULL; o++) {
		if (strcmp(o->name, name) == 0)
			return o;
	}
	return NULL;
}

/* Apply one option by its long name. */
int
conf_set(const struct conf_spec *spec, void *cfg, const char *name,
    const char *v)
{
	const struct conf_option *o;
	char *base = cfg, **sp;
	int lvl;

	if ((o = conf_find(spec, name)) == NULL) {
		fprintf(stderr, "%s: unknown option '%s'\n", spec->prog, name);
		return -1;
	}
	switch (o->type) {
	case CONF_STRING:
		if (*v == '\0') {
			fprintf(stderr, "%s: %s must not be empty\n",
			    spec->prog, name);
			return -1;
		}
		sp = (char **)(void *)(base + o->offset);
		free(*sp);
		*sp = xstrdup(v);
		return 0;
	case CONF_NUMBER:
		return conf_number(spec->prog, name, v, o->lo, o->hi,
		    (int *)(void *)(base + o->offset));
	case CONF_LEVEL:
		if ((lvl = log_level_parse(v)) < 0) {
			fprintf(stderr, "%s: log-level must be debug, info, "
			    "warn or error, not '%s'\n", spec->prog, v);
			return -1;
		}
		*(int *)(void *)(base + o->offset) = lvl;
		return 0;
	case CONF_FUNC:
		return o->fn(cfg, v);
	}
	return -1;
}

/*
 * getopt_long's tables for a spec: every option takes an argument; --config,
 * --help and --version are added.  Long options report their index through
 * the value 256 + index, so short and long forms reach the same entry.
 */
static void
conf_getopt_tables(const struct conf_spec *spec, struct option **longp,
    char **shortp)
{
	const struct conf_option *o;
	struct option *lo;
	size_t n = 0, i, k = 0;
	char *so;

	for (o = spec->options; o->name != NULL; o++)
		n++;
	lo = xcalloc(n + 4, sizeof *lo);
	so = xmalloc(2 * n + 8);
	k += (size_t)sprintf(so, "c:hV");
	for (i = 0; i < n; i++) {
		o = &spec->options[i];
		lo[i].name = o->name;
		lo[i].has_arg = required_argument;
		lo[i].val = o->short_name != 0 ? o->short_name : 256 + (int)i;
		if (o->short_name != 0) {
			so[k++] = (char)o->short_name;
			so[k++] = ':';
		}
	}
	so[k] = '\0';
	lo[n] = (struct option){ "config", required_argument, NULL, 'c' };
	lo[n + 1] = (struct option){ "help", no_argument, NULL, 'h' };
	lo[n + 2] = (struct option){ "version", no_argument, NULL, 'V' };
	*longp = lo;
	*shortp = so;
}

/* The table entry a getopt_long value stands for, or NULL. */
static const struct conf_option *
conf_by_val(const struct conf_spec *spec, int ch)
{
	const struct conf_option *o;
	int i;

	for (i = 0, o = spec->options; o->name != NULL; o++, i++) {
		if (ch == (o->short_name != 0 ? o->short_name : 256 + i))
			return o;
	}
	return NULL;
}

/* A spec and the struct it fills, for conf_file_read's callback. */
struct conf_ctx {
	const struct conf_spec	*spec;
	void			*cfg;
};

/* One config-file line (a conf_option_fn). */
static int
conf_file_option_cb(void *arg, const char *name, const char *value)
{
	struct conf_ctx *ctx = arg;

	return conf_set(ctx->spec, ctx->cfg, name, value);
}

/* First pass: read every config file named, in order. */
static int
conf_read_files(const struct conf_spec *spec, void *cfg, int argc,
    char **argv, const struct option *lo, const char *so)
{
	char **cp = (char **)(void *)((char *)cfg + spec->config_file);
	struct conf_ctx ctx = { spec, cfg };
	int ch;

	opterr = 0;
	optind = 0;
	while ((ch = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		if (ch != 'c')
			continue;
		free(*cp);
		*cp = xstrdup(optarg);
		if (conf_file_read(spec->prog, optarg, conf_file_option_cb,
		    &ctx) != 0)
			return -1;
	}
	opterr = 1;
	return 0;
}

/* Second pass: the flags, which override the files. */
static int
conf_read_flags(const struct conf_spec *spec, void *cfg, int argc,
    char **argv, const struct option *lo, const char *so)
{
	const struct conf_option *o;
	int ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, so, lo, NULL)) != -1) {
		switch (ch) {
		case 'c':
			continue;
		case 'h':
			spec->usage(stdout);
			return 1;
		case 'V':
			printf("%s %s\n", spec->prog, spec->version);
			return 1;
		}
		if ((o = conf_by_val(spec, ch)) == NULL) {
			fprintf(stderr, "%s: see %s --help\n", spec->prog,
			    spec->prog);
			return -1;
		}
		if (conf_set(spec, cfg, o->name, optarg) != 0)
			return -1;
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s' (see %s --help)\n",
		    spec->prog, argv[optind], spec->prog);
		return -1;
	}
	return 0;
}

/* Config files first, then flags. */
int
conf_parse(const struct conf_spec *spec, void *cfg, int argc, char **argv)
{
	struct option *lo;
	char *so;
	int rc;

	conf_getopt_tables(spec, &lo, &so);
	rc = conf_read_files(spec, cfg, argc, argv, lo, so);
	if (rc == 0)
		rc = conf_read_flags(spec, cfg, argc, argv, lo, so);
	free(lo);
	free(so);
	return rc;
}
