/*
 * libFuzzer target for the config-file reader: the input is a config file,
 * read by conf_file_read() through a memfd's /proc path.  The options it
 * hands over must be exactly those of a straightforward reading of the
 * file's lines (a '#' starts a comment, blanks around names and values do
 * not count, blank lines are skipped), in order; a line without '=', over
 * CONF_LINE_MAX bytes or holding a NUL byte must be refused, and nothing
 * after it read.  Each option is also applied with conf_set() to a small
 * table of every option type.
 */
#include <sys/mman.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "log.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define FUZZ_CALLS_MAX	4096

struct fuzz_cfg {
	char	*listen;
	int	 workers;
	int	 level;
	int	 funcs;
};

/* What the reader handed over: name and value of each option. */
static char	*got_text[FUZZ_CALLS_MAX][2];
static size_t	 ngot;

static int
fuzz_func(void *cfg, const char *value)
{
	struct fuzz_cfg *c = cfg;

	c->funcs++;
	return value[0] == '!' ? -1 : 0;
}

static const struct conf_option fuzz_options[] = {
	{ "listen", 'l', CONF_STRING, offsetof(struct fuzz_cfg, listen), 0, 0,
	    NULL },
	{ "workers", 'w', CONF_NUMBER, offsetof(struct fuzz_cfg, workers), 1,
	    64, NULL },
	{ "log-level", 0, CONF_LEVEL, offsetof(struct fuzz_cfg, level), 0, 0,
	    NULL },
	{ "fs-roots", 0, CONF_FUNC, 0, 0, 0, fuzz_func },
	{ NULL, 0, 0, 0, 0, 0, NULL },
};

static const struct conf_spec fuzz_spec = {
	"fuzz", "0", fuzz_options, 0, NULL,
};

static struct fuzz_cfg fuzz_config;

/* Record one option and apply it. */
static int
fuzz_option(void *arg, const char *name, const char *value)
{
	(void)arg;
	if (ngot == FUZZ_CALLS_MAX)
		abort();
	got_text[ngot][0] = strdup(name);
	got_text[ngot][1] = strdup(value);
	ngot++;
	(void)conf_set(&fuzz_spec, &fuzz_config, name, value);
	return 0;
}

/* Blanks off both ends, as a config line's name and value are read. */
static void
fuzz_trim(const char **s, size_t *len)
{
	while (*len > 0 && (**s == ' ' || **s == '\t')) {
		(*s)++;
		(*len)--;
	}
	while (*len > 0 && strchr(" \t\r\n", (*s)[*len - 1]) != NULL)
		(*len)--;
}

/* Compare one recorded option with the expected name and value. */
static void
fuzz_expect(size_t i, const char *name, size_t nlen, const char *value,
    size_t vlen)
{
	if (i >= ngot || strlen(got_text[i][0]) != nlen ||
	    memcmp(got_text[i][0], name, nlen) != 0 ||
	    strlen(got_text[i][1]) != vlen ||
	    memcmp(got_text[i][1], value, vlen) != 0)
		abort();
}

/* The model: returns what conf_file_read must return, checking calls. */
static int
fuzz_model(const uint8_t *data, size_t size)
{
	const char *line = (const char *)data, *nl, *hash, *eq, *p, *v;
	size_t len, n = 0, plen, vlen;

	while (line < (const char *)data + size) {
		nl = memchr(line, '\n', (const char *)data + size - line);
		len = nl != NULL ? (size_t)(nl - line) : (size_t)((const
		    char *)data + size - line);
		if (len + (nl != NULL) > CONF_LINE_MAX ||
		    memchr(line, '\0', len) != NULL)
			break;		/* refused, nothing after it read */
		p = line;
		plen = len;
		if ((hash = memchr(p, '#', plen)) != NULL)
			plen = (size_t)(hash - p);
		fuzz_trim(&p, &plen);
		if (plen > 0) {
			if ((eq = memchr(p, '=', plen)) == NULL)
				break;
			v = eq + 1;
			vlen = plen - (size_t)(v - p);
			plen = (size_t)(eq - p);
			fuzz_trim(&p, &plen);
			fuzz_trim(&v, &vlen);
			fuzz_expect(n++, p, plen, v, vlen);
		}
		line = nl != NULL ? nl + 1 : (const char *)data + size;
	}
	if (n != ngot)
		abort();
	return line < (const char *)data + size ? -1 : 0;
}

/* Read one config file. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int initialized;
	char path[64];
	size_t i, off = 0;
	ssize_t w;
	int fd, rc;

	if (!initialized) {
		log_init(LOG_LEVEL_ERROR, "fuzz");
		initialized = 1;
	}
	if ((fd = memfd_create("shield-fuzz.conf", MFD_CLOEXEC)) == -1)
		abort();
	while (off < size) {
		if ((w = write(fd, data + off, size - off)) <= 0)
			abort();
		off += (size_t)w;
	}
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	ngot = 0;
	memset(&fuzz_config, 0, sizeof fuzz_config);
	rc = conf_file_read("fuzz", path, fuzz_option, NULL);
	if (rc != fuzz_model(data, size))
		abort();
	for (i = 0; i < ngot; i++) {
		free(got_text[i][0]);
		free(got_text[i][1]);
	}
	free(fuzz_config.listen);
	close(fd);
	return 0;
}
