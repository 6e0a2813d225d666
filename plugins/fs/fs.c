/*
 * The fs plugin: its definition for the plugin kit, endpoint validation,
 * the include/exclude glob lists, and the small file system helpers that
 * both the target (fs_target.c) and the store (fs_store.c) use.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <ftw.h>
#include <limits.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin.h"
#include "fs.h"

volatile int fs_interrupted;

static const struct plugin_field fs_fields[] = {
	{ "base_dir", "path", 1, NULL,
	  "Absolute path of the directory.  As a target: the tree to back up, "
	  "and the directory a restore replaces (its parent must exist).  As "
	  "a store: where archives are kept, as files named "
	  "YYYY/MM/DD/<timestamp>-<uuid>; it must exist and be writable.",
	  NULL, "Directory" },
	{ "include", "list", 0, NULL,
	  "Glob patterns of what to back up, comma-separated (or a JSON "
	  "array).  A pattern without '/' matches a name at any "
	  "depth (*.conf); one with '/' matches the path relative to base_dir "
	  "(etc/*.conf).  A matching directory brings its whole subtree.  "
	  "Empty: everything.",
	  "target", "Include" },
	{ "exclude", "list", 0, NULL,
	  "Glob patterns of what to leave out, same syntax as include; an "
	  "excluded directory leaves out its whole subtree.  Exclusion wins "
	  "over inclusion.",
	  "target", "Exclude" },
	{ NULL, NULL, 0, NULL, NULL, NULL, NULL }
};

/*
 * A base_dir that does not exist yet is fine when it can be made: a restore
 * to a new target, or a new store, creates it.  Its parent must be a
 * writable directory.
 */
static int
fs_validate_parent(const char *dir)
{
	char *parent = strdup(dir), *slash;
	struct stat st;
	int bad = 0;

	if (parent == NULL)
		return 1;
	slash = strrchr(parent, '/');
	if (slash == parent)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (stat(parent, &st) == -1 || !S_ISDIR(st.st_mode)) {
		plugin_error("base_dir %s does not exist, and neither does its "
		    "parent directory %s", dir, parent);
		bad = 1;
	} else if (access(parent, W_OK | X_OK) == -1) {
		plugin_error("base_dir %s does not exist and cannot be created "
		    "in %s: %s", dir, parent, strerror(errno));
		bad = 1;
	}
	free(parent);
	return bad;
}

/* 1 if dir is / or resolves to it (reported): never a usable base_dir. */
int
fs_is_root(const char *dir)
{
	char real[PATH_MAX];

	if (realpath(dir, real) == NULL || strcmp(real, "/") != 0)
		return 0;
	plugin_error("base_dir must not be / (it resolves to /, and a restore "
	    "replaces everything in base_dir)");
	return 1;
}

/* Check the endpoint beyond the declared field types. */
static int
fs_validate(const cJSON *ep)
{
	const char *dir = plugin_ep_string(ep, "base_dir", NULL);
	struct fs_patterns p;
	struct stat st;
	int bad = 0;

	if (fs_patterns_parse(ep, "include", &p) == -1)
		bad = 1;
	fs_patterns_free(&p);
	if (fs_patterns_parse(ep, "exclude", &p) == -1)
		bad = 1;
	fs_patterns_free(&p);
	if (dir == NULL || dir[0] != '/') {
		plugin_error("base_dir must be an absolute path");
		return 1;
	}
	if (fs_is_root(dir))
		return 1;
	/*
	 * Validation cannot tell a target from a store, so it asks what both
	 * need to be useful: a directory we can read and write.
	 */
	if (stat(dir, &st) == -1) {
		if (errno == ENOENT)
			return bad | fs_validate_parent(dir);
		plugin_error("base_dir %s: %s", dir, strerror(errno));
		return 1;
	}
	if (!S_ISDIR(st.st_mode)) {
		plugin_error("base_dir %s is not a directory", dir);
		return 1;
	}
	if (access(dir, R_OK | X_OK) == -1) {
		plugin_error("base_dir %s is not readable: %s", dir,
		    strerror(errno));
		bad = 1;
	}
	if (access(dir, W_OK) == -1) {
		plugin_error("base_dir %s is not writable: %s", dir,
		    strerror(errno));
		bad = 1;
	}
	return bad;
}

/* Add one trimmed pattern (skipping empty ones). */
static void
fs_patterns_add(struct fs_patterns *p, const char *s, size_t len)
{
	char **g;

	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	/* A leading "./" or "/" means relative to base_dir: drop it. */
	while (len > 0 && *s == '/') {
		s++;
		len--;
	}
	if (len >= 2 && s[0] == '.' && s[1] == '/') {
		s += 2;
		len -= 2;
	}
	if (len == 0)
		return;
	if ((g = realloc(p->globs, (p->n + 1) * sizeof *g)) == NULL ||
	    (g[p->n] = strndup(s, len)) == NULL) {
		plugin_error("out of memory");
		abort();
	}
	p->globs = g;
	p->n++;
}

/* Parse a comma-separated string or an array of strings. */
int
fs_patterns_parse(const cJSON *ep, const char *field, struct fs_patterns *p)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(ep, field);
	const cJSON *it;
	const char *s, *c;

	p->globs = NULL;
	p->n = 0;
	if (v == NULL || cJSON_IsNull(v))
		return 0;
	if (cJSON_IsArray(v)) {
		cJSON_ArrayForEach(it, v) {
			if (!cJSON_IsString(it)) {
				plugin_error("%s must be a string or an array "
				    "of strings", field);
				return -1;
			}
			fs_patterns_add(p, it->valuestring,
			    strlen(it->valuestring));
		}
		return 0;
	}
	if (!cJSON_IsString(v)) {
		plugin_error("%s must be a string or an array of strings",
		    field);
		return -1;
	}
	for (s = v->valuestring; (c = strchr(s, ',')) != NULL; s = c + 1)
		fs_patterns_add(p, s, (size_t)(c - s));
	fs_patterns_add(p, s, strlen(s));
	return 0;
}

/* Free the pattern strings. */
void
fs_patterns_free(struct fs_patterns *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->globs[i]);
	free(p->globs);
	p->globs = NULL;
	p->n = 0;
}

/* Match rel against the patterns: by base name or by whole path. */
int
fs_patterns_match(const struct fs_patterns *p, const char *rel)
{
	const char *base = strrchr(rel, '/');
	size_t i;

	base = base != NULL ? base + 1 : rel;
	for (i = 0; i < p->n; i++) {
		if (strchr(p->globs[i], '/') != NULL) {
			if (fnmatch(p->globs[i], rel, FNM_PATHNAME) == 0)
				return 1;
		} else if (fnmatch(p->globs[i], base, 0) == 0)
			return 1;
	}
	return 0;
}

/* nftw callback: remove one entry, children first. */
static int
fs_rmtree_cb(const char *path, const struct stat *st, int flag,
    struct FTW *ftw)
{
	int rc;

	if (flag == FTW_DP || flag == FTW_D)
		rc = rmdir(path);
	else
		rc = unlink(path);
	return rc == -1 && errno != ENOENT ? -1 : 0;
}

/* Remove a whole tree, never following symlinks or crossing mounts. */
int
fs_rmtree(const char *path)
{
	struct stat st;

	if (lstat(path, &st) == -1)
		return errno == ENOENT ? 0 : -1;
	/*
	 * A directory we cannot enter (mode 0 in a restored tree) would stop
	 * nftw; we own what we remove, so make the directories searchable.
	 */
	if (S_ISDIR(st.st_mode) && (st.st_mode & 0700) != 0700)
		chmod(path, st.st_mode | 0700);
	return nftw(path, fs_rmtree_cb, 64, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
}

/* fsync a directory so a rename or create in it is durable. */
int
fs_fsync_dir(const char *path)
{
	int fd, rc, saved;

	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	rc = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return rc;
}

/* Remember a termination request; blocking reads return EINTR. */
static void
fs_signal_cb(int sig)
{
	fs_interrupted = sig;
}

/*
 * Read stdin without losing a termination signal.  Checking the flag and
 * then calling read() leaves a window: a TERM handled in between would
 * leave us blocked in read() until the KILL, with temporary files left
 * behind.  So the signals are blocked while the flag is checked and only
 * let through inside ppoll(), atomically.
 */
ssize_t
fs_read_stdin(void *buf, size_t len)
{
	sigset_t block, old;
	struct pollfd pfd;
	ssize_t n;

	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	for (;;) {
		if (fs_interrupted) {
			sigprocmask(SIG_SETMASK, &old, NULL);
			errno = EINTR;
			return -1;
		}
		pfd.fd = 0;
		pfd.events = POLLIN;
		pfd.revents = 0;
		if (ppoll(&pfd, 1, NULL, &old) == -1 && errno == EINTR)
			continue;
		break;
	}
	n = read(0, buf, len);
	sigprocmask(SIG_SETMASK, &old, NULL);
	return n;
}

/* Catch the termination signals, without SA_RESTART. */
void
fs_signals_catch(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = fs_signal_cb;
	/*
	 * No SA_RESETHAND: the daemon signals the whole process group once
	 * per stage, so a second TERM is routine and must not kill us before
	 * the cleanup.  A plugin that does not stop gets the KILL anyway.
	 */
	sa.sa_flags = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	/* A file-size limit (a full quota) must fail a write with EFBIG and
	 * take the normal cleanup path, not kill us with the temp file left. */
	signal(SIGXFSZ, SIG_IGN);
}

static const struct plugin_def fs_def = {
	.name = "Local Filesystem Plugin",
	.short_name = "fs",
	.author = "SHIELD",
	.version = SHIELD_VERSION,
	.help = "As a target, backs up the directory tree at base_dir as a "
	    "tar (pax) stream: files, directories, symlinks (never "
	    "followed), hard links, modes, times and, when run as root, "
	    "ownership; include and exclude narrow it down.  A restore "
	    "replaces base_dir with exactly the archived tree, atomically: "
	    "it extracts beside base_dir and swaps only once the whole "
	    "stream was read, so a failed restore leaves base_dir as it "
	    "was.  As a store, keeps each archive as a file under base_dir.",
	.fields = fs_fields,
	.validate = fs_validate,
	.backup = fs_backup,
	.restore = fs_restore,
	.store = fs_store,
	.retrieve = fs_retrieve,
	.purge = fs_purge,
};

/* Run the plugin. */
int
main(int argc, char **argv)
{
	/*
	 * pax names are UTF-8: in a UTF-8 locale libarchive stores them as
	 * such (portable to other tars) and raw bytes only when they are not.
	 */
	if (setlocale(LC_CTYPE, "C.UTF-8") == NULL)
		setlocale(LC_CTYPE, "");
	return plugin_main(&fs_def, argc, argv);
}
