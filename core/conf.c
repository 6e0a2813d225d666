/*
 * Configuration helpers shared by the daemons: the config file reader,
 * number parsing and executable-relative default directories.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "conf.h"
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
	char line[4096], *p, *eq;
	int lineno = 0, rc = 0;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL) {
		fprintf(stderr, "%s: cannot read config file %s: %s\n", prog,
		    path, strerror(errno));
		return -1;
	}
	while (rc == 0 && fgets(line, sizeof line, f) != NULL) {
		lineno++;
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
