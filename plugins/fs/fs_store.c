/*
 * The fs store: each archive is one file under base_dir, at a key of the
 * form YYYY/MM/DD/<YYYYmmddTHHMMSSZ>-<uuid> (UTC).  A store writes to a
 * hidden temporary name, fsyncs it, renames it into place and fsyncs the
 * directory before printing the key, so a printed key always names a
 * complete, durable file; on any failure the temporary file is removed.
 * Keys are walked one component at a time without following symlinks, so
 * retrieve and purge cannot reach outside base_dir.
 */
#include <sys/random.h>
#include <sys/sendfile.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "plugin.h"
#include "fs.h"

/* Open base_dir as a directory, reporting why it cannot be used. */
static int
fs_store_open_base(const cJSON *ep)
{
	const char *dir = plugin_ep_string(ep, "base_dir", NULL);
	int fd;

	if (dir == NULL || dir[0] != '/') {
		plugin_error("base_dir must be an absolute path");
		return -1;
	}
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		plugin_error("base_dir %s: %s", dir, strerror(errno));
	return fd;
}

/* Make a random (version 4) UUID in text form; 0 or -1. */
static int
fs_store_uuid(char *out, size_t len)
{
	unsigned char b[16];
	size_t got = 0;
	ssize_t n;

	while (got < sizeof b) {
		n = getrandom(b + got, sizeof b - got, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		got += (size_t)n;
	}
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(out, len, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
	    "%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5],
	    b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]);
	return 0;
}

/*
 * Open (creating if asked) the directory name under dirfd, refusing
 * symlinks; a directory we created is made durable in its parent.
 */
static int
fs_store_subdir(int dirfd, const char *name, int create)
{
	int fd;

	if (create && mkdirat(dirfd, name, 0755) == 0 && fsync(dirfd) == -1)
		return -1;
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC);
	return fd;
}

/* Copy stdin to fd; 0 or -1 with the reason reported. */
static int
fs_store_copy(int fd)
{
	static char buf[FS_BUFSIZE];
	ssize_t n, w, off;

	for (;;) {
		/*
		 * A TERM that arrived before this loop (while the directories
		 * were being made and fsynced) has already run its handler:
		 * look at the flag before blocking in read(), or we would
		 * wait for the KILL and leave the temp file behind.
		 */
		if (fs_interrupted) {
			plugin_error("reading standard input: interrupted");
			return -1;
		}
		n = fs_read_stdin(buf, sizeof buf);
		if (n == 0)
			return 0;
		if (n == -1) {
			if (errno == EINTR && !fs_interrupted)
				continue;
			plugin_error("reading standard input: %s",
			    fs_interrupted ? "interrupted" : strerror(errno));
			return -1;
		}
		for (off = 0; off < n; off += w) {
			if ((w = write(fd, buf + off, (size_t)(n - off))) ==
			    -1) {
				if (errno == EINTR && !fs_interrupted) {
					w = 0;
					continue;
				}
				plugin_error("writing archive: %s",
				    fs_interrupted ? "interrupted" :
				    strerror(errno));
				return -1;
			}
		}
	}
}

/* Store stdin as a new file and print its key. */
int
fs_store(const cJSON *ep)
{
	char uuid[40], stamp[32], name[96], tmp[128], key[160];
	char y[16], m[8], d[8];
	int base, yfd = -1, mfd = -1, dfd = -1, fd = -1, rc = 1;
	struct tm tm;
	time_t now;

	fs_signals_catch();
	/* A new store's directory is made on first use (validate allows it). */
	if (plugin_ep_string(ep, "base_dir", NULL) != NULL &&
	    mkdir(plugin_ep_string(ep, "base_dir", NULL), 0700) == -1 &&
	    errno != EEXIST && errno != ENOENT) {
		plugin_error("cannot create base_dir: %s", strerror(errno));
		return 1;
	}
	if ((base = fs_store_open_base(ep)) == -1)
		return 1;
	now = time(NULL);
	gmtime_r(&now, &tm);
	if (fs_store_uuid(uuid, sizeof uuid) == -1) {
		plugin_error("getrandom: %s", strerror(errno));
		goto out;
	}
	strftime(y, sizeof y, "%Y", &tm);
	strftime(m, sizeof m, "%m", &tm);
	strftime(d, sizeof d, "%d", &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	snprintf(name, sizeof name, "%s-%s", stamp, uuid);
	snprintf(key, sizeof key, "%s/%s/%s/%s", y, m, d, name);
	snprintf(tmp, sizeof tmp, ".%s.part", name);
	if ((yfd = fs_store_subdir(base, y, 1)) == -1 ||
	    (mfd = fs_store_subdir(yfd, m, 1)) == -1 ||
	    (dfd = fs_store_subdir(mfd, d, 1)) == -1) {
		plugin_error("cannot make directory for %s: %s", key,
		    strerror(errno));
		goto out;
	}
	/* Archives may hold secrets: only their owner reads them. */
	fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		plugin_error("cannot create %s: %s", key, strerror(errno));
		goto out;
	}
	if (fs_store_copy(fd) == -1)
		goto fail;
	if (fsync(fd) == -1) {
		plugin_error("fsync %s: %s", key, strerror(errno));
		goto fail;
	}
	if (close(fd) == -1) {
		fd = -1;
		plugin_error("close %s: %s", key, strerror(errno));
		goto fail;
	}
	fd = -1;
	/*
	 * Announce the key before committing it.  If the daemon died, its
	 * end of our stdin closed (an EOF that is not the end of the
	 * archive) and so did its end of our stdout: the write fails and
	 * nothing is stored.  If the key goes out but the rename then fails,
	 * we exit non-zero and the daemon purges that key.
	 */
	signal(SIGPIPE, SIG_IGN);
	plugin_print_key(key);
	if (fflush(stdout) != 0 || fs_interrupted) {
		plugin_error("the caller went away; %s not stored", key);
		goto fail;
	}
	if (renameat2(dfd, tmp, dfd, name, RENAME_NOREPLACE) == -1 &&
	    (errno != EINVAL || renameat(dfd, tmp, dfd, name) == -1)) {
		plugin_error("rename to %s: %s", key, strerror(errno));
		goto fail;
	}
	if (fsync(dfd) == -1) {
		plugin_error("fsync directory of %s: %s", key,
		    strerror(errno));
		unlinkat(dfd, name, 0);
		goto out;
	}
	rc = 0;
	goto out;
fail:
	unlinkat(dfd, tmp, 0);
out:
	if (fd != -1)
		close(fd);
	if (dfd != -1)
		close(dfd);
	if (mfd != -1)
		close(mfd);
	if (yfd != -1)
		close(yfd);
	close(base);
	return rc;
}

/*
 * Check a key and open the directory that holds its last component,
 * walking from base_dir without following symlinks.  Returns the
 * directory descriptor and sets *last, or -1 (reported; errno ENOENT when
 * a directory on the way does not exist).
 */
static int
fs_store_key_dir(const cJSON *ep, const char *key, char *buf, size_t len,
    const char **last)
{
	char *comp, *next;
	int dirfd, fd, saved;

	if (key[0] == '/') {
		plugin_error("key %s is absolute: keys are relative to "
		    "base_dir", key);
		errno = EINVAL;
		return -1;
	}
	if (strlen(key) >= len) {
		plugin_error("key is too long");
		errno = EINVAL;
		return -1;
	}
	strcpy(buf, key);
	for (comp = buf; comp != NULL; comp = next) {
		if ((next = strchr(comp, '/')) != NULL)
			*next++ = '\0';
		if (comp[0] == '\0' || strcmp(comp, ".") == 0 ||
		    strcmp(comp, "..") == 0) {
			plugin_error("key %s is not a valid key: it would "
			    "leave base_dir", key);
			errno = EINVAL;
			return -1;
		}
	}
	strcpy(buf, key);
	if ((dirfd = fs_store_open_base(ep)) == -1) {
		errno = EINVAL;
		return -1;
	}
	for (comp = buf; (next = strchr(comp, '/')) != NULL; comp = next) {
		*next++ = '\0';
		fd = fs_store_subdir(dirfd, comp, 0);
		if (fd == -1) {
			saved = errno;
			if (saved == ELOOP || saved == ENOTDIR)
				plugin_error("key %s goes through a symlink or "
				    "non-directory: refusing", key);
			else if (saved != ENOENT)
				plugin_error("key %s: %s", key,
				    strerror(saved));
			close(dirfd);
			errno = saved == ENOENT ? ENOENT : EPERM;
			return -1;
		}
		close(dirfd);
		dirfd = fd;
	}
	*last = comp;
	return dirfd;
}

/* Stream the file at key to stdout. */
int
fs_retrieve(const cJSON *ep, const char *key)
{
	char buf[4096];
	const char *last;
	struct stat st;
	off_t left;
	ssize_t n;
	int dirfd, fd;

	if ((dirfd = fs_store_key_dir(ep, key, buf, sizeof buf, &last)) ==
	    -1) {
		if (errno == ENOENT)
			plugin_error("no archive at key %s", key);
		return 1;
	}
	fd = openat(dirfd, last, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	close(dirfd);
	if (fd == -1) {
		if (errno == ELOOP)
			plugin_error("key %s is a symlink: refusing", key);
		else if (errno == ENOENT)
			plugin_error("no archive at key %s", key);
		else
			plugin_error("open %s: %s", key, strerror(errno));
		return 1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		plugin_error("key %s is not an archive file", key);
		close(fd);
		return 1;
	}
	posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	/* sendfile moves file pages to a pipe or socket without copying. */
	for (left = st.st_size; left > 0; left -= n) {
		n = sendfile(1, fd, NULL, left > (1 << 30) ? (1 << 30) :
		    (size_t)left);
		if (n == -1 && errno == EINTR)
			n = 0;
		else if (n == -1 && (errno == EINVAL || errno == ENOSYS))
			break;
		else if (n == -1) {
			plugin_error("writing %s: %s", key, strerror(errno));
			close(fd);
			return 1;
		} else if (n == 0)
			break;
	}
	if (plugin_copy(fd, 1) == -1) {
		close(fd);
		return 1;
	}
	close(fd);
	return 0;
}

/* Remove the file at key; an already missing one is success. */
int
fs_purge(const cJSON *ep, const char *key)
{
	char buf[4096];
	const char *last;
	struct stat st;
	int dirfd;

	if ((dirfd = fs_store_key_dir(ep, key, buf, sizeof buf, &last)) ==
	    -1) {
		if (errno != ENOENT)
			return 1;
		plugin_info("no archive at key %s: already purged", key);
		return 0;
	}
	if (fstatat(dirfd, last, &st, AT_SYMLINK_NOFOLLOW) == -1) {
		close(dirfd);
		if (errno == ENOENT) {
			plugin_info("no archive at key %s: already purged",
			    key);
			return 0;
		}
		plugin_error("%s: %s", key, strerror(errno));
		return 1;
	}
	if (!S_ISREG(st.st_mode)) {
		plugin_error("key %s is not an archive file: refusing", key);
		close(dirfd);
		return 1;
	}
	if (unlinkat(dirfd, last, 0) == -1 && errno != ENOENT) {
		plugin_error("removing %s: %s", key, strerror(errno));
		close(dirfd);
		return 1;
	}
	if (fsync(dirfd) == -1)
		plugin_info("fsync directory of %s: %s", key, strerror(errno));
	close(dirfd);
	return 0;
}
