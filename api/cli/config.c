/*
 * Reading and writing ~/.shield/config.  The file holds a bearer token, so
 * it is created with mode 0600 inside a 0700 directory and replaced
 * atomically (a temporary file, fsync, rename), and a file that others can
 * read is reported rather than silently used.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "config.h"
#include "xmalloc.h"

#define CONFIG_MAX	65536

/* The path of the config file. */
char *
config_path(void)
{
	const char *p = getenv("SHIELD_CONFIG"), *home;
	char *path;

	if (p != NULL && *p != '\0')
		return xstrdup(p);
	if ((home = getenv("HOME")) == NULL || *home == '\0')
		home = ".";
	xasprintf(&path, "%s/.shield/config", home);
	return path;
}

/* Copy a string member of the config object, if there. */
static char *
config_member(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) && *v->valuestring != '\0' ?
	    xstrdup(v->valuestring) : NULL;
}

/* Read the config file. */
int
config_load(struct config *c)
{
	char *path = config_path(), *text = NULL;
	struct stat st;
	cJSON *o = NULL;
	ssize_t n;
	int fd = -1, rc = -1;

	memset(c, 0, sizeof *c);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT) {
			rc = 0;
			goto out;
		}
		cli_error("cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &st) == -1 || st.st_size > CONFIG_MAX) {
		cli_error("%s is not a shield config file", path);
		goto out;
	}
	text = xmalloc((size_t)st.st_size + 1);
	if ((n = read(fd, text, (size_t)st.st_size)) < 0) {
		cli_error("cannot read %s: %s", path, strerror(errno));
		goto out;
	}
	text[n] = '\0';
	if (n == 0) {
		rc = 0;
		goto out;
	}
	if (!cJSON_IsObject(o = cJSON_Parse(text))) {
		cli_error("%s is not valid JSON; fix it or run shield login "
		    "again", path);
		goto out;
	}
	if ((st.st_mode & 077) != 0)
		fprintf(stderr, "shield: warning: %s can be read by others; "
		    "chmod 600 it\n", path);
	c->url = config_member(o, "url");
	c->token = config_member(o, "token");
	rc = 0;
out:
	if (text != NULL) {
		explicit_bzero(text, strlen(text));
		free(text);
	}
	cJSON_Delete(o);
	if (fd != -1)
		close(fd);
	free(path);
	return rc;
}

/* Create the directory of path (one level) with mode 0700. */
static int
config_mkdir(const char *path)
{
	char *dir = xstrdup(path), *slash;
	int rc = 0;

	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
			cli_error("cannot create %s: %s", dir, strerror(errno));
			rc = -1;
		}
	}
	free(dir);
	return rc;
}

/* Write the config with mode 0600. */
int
config_save(const struct config *c)
{
	char *path = config_path(), *tmp = NULL, *text = NULL;
	cJSON *o = cJSON_CreateObject();
	size_t len;
	int fd = -1, rc = -1;

	if (c->url != NULL)
		cJSON_AddStringToObject(o, "url", c->url);
	if (c->token != NULL)
		cJSON_AddStringToObject(o, "token", c->token);
	if ((text = cJSON_Print(o)) == NULL)
		abort();
	if (config_mkdir(path) != 0)
		goto out;
	xasprintf(&tmp, "%s.tmp%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd == -1) {
		cli_error("cannot write %s: %s", tmp, strerror(errno));
		goto out;
	}
	len = strlen(text);
	if (fchmod(fd, 0600) == -1 || write(fd, text, len) != (ssize_t)len ||
	    write(fd, "\n", 1) != 1 || fsync(fd) == -1) {
		cli_error("cannot write %s: %s", tmp, strerror(errno));
		unlink(tmp);
		goto out;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		fd = -1;
		cli_error("cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		goto out;
	}
	fd = -1;
	rc = 0;
out:
	if (fd != -1)
		close(fd);
	explicit_bzero(text, strlen(text));
	cJSON_free(text);
	cJSON_Delete(o);
	free(tmp);
	free(path);
	return rc;
}

/* Free the strings of a config. */
void
config_clear(struct config *c)
{
	free(c->url);
	if (c->token != NULL) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	memset(c, 0, sizeof *c);
}
