/*
 * The fs target.  A backup walks base_dir without following symlinks and
 * writes a pax tar stream of it to stdout in large blocks: the root as
 * "./", then every entry as "./<path>", with modes, times, ownership, hard
 * links and symlink targets.  A restore extracts stdin into a new
 * directory beside base_dir and, only once the whole stream was read and
 * checked, swaps it with base_dir and removes the old tree, so base_dir is
 * either exactly the old tree or exactly the archived one.  Entries that
 * would land outside the new tree (absolute names, "..", writes through a
 * symlink, hard links to outside) fail the restore.
 */
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <grp.h>
#include <libgen.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugin.h"
#include "fs.h"

/* fts_number bits: the entry was written, or is inside an included dir. */
#define FS_EMITTED	0x1
#define FS_INCLUDED	0x2

/* State of one backup. */
struct fs_backup_state {
	struct archive				*a;
	struct archive_entry			*entry;
	struct archive_entry_linkresolver	*links;
	struct fs_patterns			 include;
	struct fs_patterns			 exclude;
	size_t					 baselen;
	char					*buf;
	uid_t					 uid;
	char					 uname[64];
	gid_t					 gid;
	char					 gname[64];
	int					 errors;
};

/* Set the owner names of the entry, caching the last lookups. */
static void
fs_backup_names(struct fs_backup_state *s, const struct stat *st)
{
	struct passwd *pw;
	struct group *gr;

	if (s->uname[0] == '\0' || s->uid != st->st_uid) {
		s->uid = st->st_uid;
		pw = getpwuid(st->st_uid);
		snprintf(s->uname, sizeof s->uname, "%s",
		    pw != NULL ? pw->pw_name : "");
	}
	if (s->gname[0] == '\0' || s->gid != st->st_gid) {
		s->gid = st->st_gid;
		gr = getgrgid(st->st_gid);
		snprintf(s->gname, sizeof s->gname, "%s",
		    gr != NULL ? gr->gr_name : "");
	}
	if (s->uname[0] != '\0')
		archive_entry_copy_uname(s->entry, s->uname);
	if (s->gname[0] != '\0')
		archive_entry_copy_gname(s->entry, s->gname);
}

/* Copy a regular file's data into the archive. */
static int
fs_backup_data(struct fs_backup_state *s, int fd, const char *path,
    off_t size)
{
	off_t done = 0;
	ssize_t n;

	while (done < size) {
		n = read(fd, s->buf, FS_BUFSIZE);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			plugin_error("%s: %s", path, strerror(errno));
			s->errors++;
			break;
		}
		if (n == 0) {
			/* The archive pads the entry with zeros. */
			plugin_error("%s: file shrank while it was read", path);
			s->errors++;
			break;
		}
		if (n > size - done)
			n = size - done;
		if (archive_write_data(s->a, s->buf, (size_t)n) != n) {
			plugin_error("writing the archive: %s",
			    archive_error_string(s->a));
			return -1;
		}
		done += n;
	}
	return 0;
}

/*
 * Write one entry; path has len bytes (fts shares one path buffer among an
 * entry and its ancestors).  Returns -1 only when the archive itself failed.
 */
static int
fs_backup_entry(struct fs_backup_state *s, FTSENT *p)
{
	char path[PATH_MAX], name[PATH_MAX + 2], target[PATH_MAX];
	struct archive_entry *spare = NULL;
	struct stat st = *p->fts_statp;
	ssize_t n;
	int fd = -1, rc = 0;

	p->fts_number |= FS_EMITTED;
	if (p->fts_pathlen >= sizeof path)
		return 0;
	memcpy(path, p->fts_path, p->fts_pathlen);
	path[p->fts_pathlen] = '\0';
	if (p->fts_level == 0)
		strcpy(name, "./");
	else
		snprintf(name, sizeof name, "./%s", path + s->baselen + 1);
	if (S_ISSOCK(st.st_mode))
		return 0;	/* sockets cannot be archived; tar skips them */
	if (S_ISREG(st.st_mode)) {
		fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd == -1 && errno == ENOENT) {
			plugin_info("%s: vanished before it was read", path);
			return 0;
		}
		if (fd == -1 || fstat(fd, &st) == -1) {
			plugin_error("%s: %s", path, strerror(errno));
			s->errors++;
			if (fd != -1)
				close(fd);
			return 0;
		}
		posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
	}
	archive_entry_clear(s->entry);
	archive_entry_copy_pathname(s->entry, name);
	archive_entry_copy_stat(s->entry, &st);
	fs_backup_names(s, &st);
	if (S_ISLNK(st.st_mode)) {
		n = readlink(path, target, sizeof target - 1);
		if (n == -1) {
			plugin_error("%s: %s", path, strerror(errno));
			s->errors++;
			return 0;
		}
		target[n] = '\0';
		archive_entry_copy_symlink(s->entry, target);
	}
	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1)
		archive_entry_linkify(s->links, &s->entry, &spare);
	if (archive_write_header(s->a, s->entry) < ARCHIVE_WARN) {
		plugin_error("writing the archive: %s",
		    archive_error_string(s->a));
		rc = -1;
	} else if (fd != -1 && archive_entry_hardlink(s->entry) == NULL)
		rc = fs_backup_data(s, fd, path, st.st_size);
	if (fd != -1)
		close(fd);
	if (spare != NULL)
		archive_entry_free(spare);
	return rc;
}

/* Write the not yet written ancestors of p, outermost first, then p. */
static int
fs_backup_chain(struct fs_backup_state *s, FTSENT *p)
{
	if (p->fts_level < FTS_ROOTLEVEL || (p->fts_number & FS_EMITTED))
		return 0;
	if (fs_backup_chain(s, p->fts_parent) == -1)
		return -1;
	return fs_backup_entry(s, p);
}

/* Sort directory entries by name so archives are reproducible. */
static int
fs_backup_cmp(const FTSENT **a, const FTSENT **b)
{
	return strcmp((*a)->fts_name, (*b)->fts_name);
}

/* Decide about one walked entry and write it when it is wanted. */
static int
fs_backup_visit(struct fs_backup_state *s, FTS *fts, FTSENT *p)
{
	const char *rel;

	if (p->fts_level == FTS_ROOTLEVEL)
		return fs_backup_chain(s, p);
	rel = p->fts_path + s->baselen + 1;
	if (fs_patterns_match(&s->exclude, rel)) {
		if (p->fts_info == FTS_D)
			fts_set(fts, p, FTS_SKIP);
		return 0;
	}
	if (s->include.n == 0 || (p->fts_parent->fts_number & FS_INCLUDED) ||
	    fs_patterns_match(&s->include, rel))
		p->fts_number |= FS_INCLUDED;
	/* A directory not included itself may still hold included files. */
	if (!(p->fts_number & FS_INCLUDED))
		return 0;
	return fs_backup_chain(s, p);
}

/* Stream a tar of base_dir to stdout. */
int
fs_backup(const cJSON *ep)
{
	const char *dir = plugin_ep_string(ep, "base_dir", NULL);
	struct fs_backup_state s;
	char root[PATH_MAX];
	char *argv[2];
	struct stat st;
	FTS *fts = NULL;
	FTSENT *p;
	int rc = 1;

	memset(&s, 0, sizeof s);
	if (dir == NULL || dir[0] != '/') {
		plugin_error("base_dir must be an absolute path");
		return 1;
	}
	errno = 0;
	if (stat(dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		plugin_error("base_dir %s: %s", dir,
		    errno != 0 ? strerror(errno) : "not a directory");
		return 1;
	}
	/* Walk the real directory so a symlinked base_dir works. */
	if (realpath(dir, root) == NULL) {
		plugin_error("base_dir %s: %s", dir, strerror(errno));
		return 1;
	}
	if (fs_patterns_parse(ep, "include", &s.include) == -1 ||
	    fs_patterns_parse(ep, "exclude", &s.exclude) == -1)
		goto out;
	s.baselen = strcmp(root, "/") == 0 ? 0 : strlen(root);
	if ((s.buf = malloc(FS_BUFSIZE)) == NULL ||
	    (s.entry = archive_entry_new()) == NULL ||
	    (s.links = archive_entry_linkresolver_new()) == NULL ||
	    (s.a = archive_write_new()) == NULL) {
		plugin_error("out of memory");
		goto out;
	}
	archive_write_set_format_pax(s.a);
	archive_entry_linkresolver_set_strategy(s.links, archive_format(s.a));
	archive_write_set_bytes_per_block(s.a, FS_BLOCKSIZE);
	archive_write_set_bytes_in_last_block(s.a, 1);
	if (archive_write_open_fd(s.a, 1) != ARCHIVE_OK) {
		plugin_error("%s", archive_error_string(s.a));
		goto out;
	}
	argv[0] = root;
	argv[1] = NULL;
	fts = fts_open(argv, FTS_PHYSICAL | FTS_NOCHDIR, fs_backup_cmp);
	if (fts == NULL) {
		plugin_error("%s: %s", root, strerror(errno));
		goto out;
	}
	for (;;) {
		errno = 0;
		if ((p = fts_read(fts)) == NULL)
			break;
		switch (p->fts_info) {
		case FTS_DP:
			continue;
		case FTS_DNR:
		case FTS_ERR:
		case FTS_NS:
			plugin_error("%s: %s", p->fts_path,
			    strerror(p->fts_errno));
			s.errors++;
			if (p->fts_info != FTS_DNR)
				continue;
			break;
		default:
			break;
		}
		if (fs_backup_visit(&s, fts, p) == -1)
			goto out;
	}
	if (errno != 0) {
		plugin_error("walking %s: %s", root, strerror(errno));
		goto out;
	}
	if (archive_write_close(s.a) != ARCHIVE_OK) {
		plugin_error("writing the archive: %s",
		    archive_error_string(s.a));
		goto out;
	}
	if (s.errors > 0)
		plugin_error("%d file(s) could not be backed up", s.errors);
	else
		rc = 0;
out:
	if (fts != NULL)
		fts_close(fts);
	if (s.a != NULL)
		archive_write_free(s.a);
	if (s.links != NULL)
		archive_entry_linkresolver_free(s.links);
	archive_entry_free(s.entry);
	free(s.buf);
	fs_patterns_free(&s.include);
	fs_patterns_free(&s.exclude);
	return rc;
}

/* State of one restore. */
struct fs_restore_state {
	char		 target[PATH_MAX];	/* the real base_dir */
	char		 parent[PATH_MAX];
	char		 tmp[PATH_MAX];		/* where we extract */
	int		 exists;		/* base_dir existed */
	int		 inplace;		/* base_dir is a mount point */
	char		*buf;
	int		 eof;			/* stdin hit EOF */
	struct timespec	 times[2];		/* of base_dir, if in place */
	int		 has_root;		/* the archive had "./" */
	struct stat	 root;			/* and its attributes */
};

/* Feed stdin to libarchive; a termination signal ends the read. */
static la_ssize_t
fs_restore_read_cb(struct archive *a, void *arg, const void **out)
{
	struct fs_restore_state *r = arg;
	ssize_t n;

	for (;;) {
		n = fs_read_stdin(r->buf, FS_BUFSIZE);
		if (n >= 0) {
			if (n == 0)
				r->eof = 1;
			*out = r->buf;
			return n;
		}
		if (errno == EINTR && !fs_interrupted)
			continue;
		archive_set_error(a, errno, "reading standard input: %s",
		    fs_interrupted ? "interrupted" : strerror(errno));
		return -1;
	}
}

/* 1 if an archive path stays inside the tree: relative, no "..". */
static int
fs_restore_path_ok(const char *path)
{
	const char *c;
	size_t len;

	if (path[0] == '/')
		return 0;
	for (c = path; *c != '\0'; c += len) {
		while (*c == '/')
			c++;
		len = strcspn(c, "/");
		if (len == 2 && c[0] == '.' && c[1] == '.')
			return 0;
	}
	return 1;
}

/*
 * 1 if no directory on the way to path (relative to the cwd, the new tree)
 * is a symlink, so a hard link to it cannot reach outside the tree.
 */
static int
fs_restore_no_symlink_on_way(const char *path)
{
	char buf[PATH_MAX];
	struct stat st;
	char *c;

	if (strlen(path) >= sizeof buf)
		return 0;
	strcpy(buf, path);
	for (c = strchr(buf, '/'); c != NULL; c = strchr(c + 1, '/')) {
		*c = '\0';
		if (buf[0] != '\0' && lstat(buf, &st) == 0 &&
		    S_ISLNK(st.st_mode))
			return 0;
		*c = '/';
	}
	return 1;
}

/* Check one entry's names before anything of it is written. */
static int
fs_restore_check(struct archive_entry *e)
{
	const char *path = archive_entry_pathname(e);
	const char *link = archive_entry_hardlink(e);

	if (path == NULL || !fs_restore_path_ok(path)) {
		plugin_error("refusing archive entry '%s': it would be written "
		    "outside base_dir", path != NULL ? path : "(no name)");
		return -1;
	}
	if (link != NULL && (!fs_restore_path_ok(link) ||
	    !fs_restore_no_symlink_on_way(link))) {
		plugin_error("refusing archive entry '%s': it is a hard link "
		    "to '%s', outside base_dir", path, link);
		return -1;
	}
	return 0;
}

/* 1 if an archive path names the root of the tree ("./", "." ...). */
static int
fs_restore_is_root(const char *path)
{
	for (; *path != '\0'; path++) {
		if (*path != '.' && *path != '/')
			return 0;
		if (path[0] == '.' && path[1] == '.')
			return 0;
	}
	return 1;
}

/*
 * Give the new tree (the cwd) the archived root's mode, owner and times:
 * libarchive leaves the directory it extracts into alone.
 */
static int
fs_restore_root(struct fs_restore_state *r)
{
	struct timespec ts[2];

	if (geteuid() == 0 && chown(".", r->root.st_uid, r->root.st_gid) ==
	    -1)
		plugin_info("chown %s: %s", r->target, strerror(errno));
	if (chmod(".", r->root.st_mode & 07777) == -1) {
		plugin_error("chmod %s: %s", r->tmp, strerror(errno));
		return -1;
	}
	ts[0] = r->root.st_atim;
	ts[1] = r->root.st_mtim;
	if (utimensat(AT_FDCWD, ".", ts, 0) == -1) {
		plugin_error("utimensat %s: %s", r->tmp, strerror(errno));
		return -1;
	}
	return 0;
}

/* Copy one entry's data from the archive to disk. */
static int
fs_restore_data(struct archive *in, struct archive *out)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	int r;

	for (;;) {
		r = archive_read_data_block(in, &buf, &size, &off);
		if (r == ARCHIVE_EOF)
			return 0;
		if (r < ARCHIVE_WARN) {
			plugin_error("reading the archive: %s",
			    archive_error_string(in));
			return -1;
		}
		if (archive_write_data_block(out, buf, size, off) <
		    ARCHIVE_WARN) {
			plugin_error("%s", archive_error_string(out));
			return -1;
		}
	}
}

/*
 * Extract the whole of stdin into the cwd.  Succeeds only if the stream
 * was a complete archive (ending in its end-of-archive blocks, not merely
 * cut at an entry boundary) and every entry was written.
 */
static int
fs_restore_extract(struct fs_restore_state *r)
{
	struct archive *in, *out;
	struct archive_entry *e;
	la_int64_t before = 0;
	int flags, rc = -1, st;
	ssize_t n;

	flags = ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM |
	    ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
	    ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS;
	/* Only root can give files away; others keep their own uid. */
	if (geteuid() == 0)
		flags |= ARCHIVE_EXTRACT_OWNER;
	in = archive_read_new();
	out = archive_write_disk_new();
	if (in == NULL || out == NULL) {
		plugin_error("out of memory");
		goto out;
	}
	archive_read_support_format_tar(in);
	archive_write_disk_set_options(out, flags);
	archive_write_disk_set_standard_lookup(out);
	if (archive_read_open(in, r, NULL, fs_restore_read_cb, NULL) !=
	    ARCHIVE_OK) {
		plugin_error("reading the archive: %s",
		    archive_error_string(in));
		goto out;
	}
	for (;;) {
		before = archive_filter_bytes(in, 0);
		st = archive_read_next_header(in, &e);
		if (st == ARCHIVE_EOF)
			break;
		if (st < ARCHIVE_WARN) {
			plugin_error("reading the archive: %s",
			    archive_error_string(in));
			goto out;
		}
		if (fs_restore_check(e) == -1)
			goto out;
		if (fs_restore_is_root(archive_entry_pathname(e)) &&
		    archive_entry_filetype(e) == AE_IFDIR) {
			r->has_root = 1;
			r->root = *archive_entry_stat(e);
		}
		st = archive_write_header(out, e);
		if (st < ARCHIVE_WARN) {
			plugin_error("cannot restore '%s': %s",
			    archive_entry_pathname(e),
			    archive_error_string(out));
			goto out;
		}
		if (st == ARCHIVE_WARN)
			plugin_info("%s: %s", archive_entry_pathname(e),
			    archive_error_string(out));
		if (archive_entry_size(e) > 0 && fs_restore_data(in, out) == -1)
			goto out;
		if (archive_write_finish_entry(out) < ARCHIVE_WARN) {
			plugin_error("%s", archive_error_string(out));
			goto out;
		}
		if (fs_interrupted)
			goto out;
	}
	/*
	 * libarchive treats a stream cut exactly between two entries as a
	 * normal end; only a consumed end-of-archive block (512 bytes of
	 * zeros, beyond at most 511 bytes of padding) proves it complete.
	 */
	if (archive_filter_bytes(in, 0) - before < 512) {
		plugin_error("the archive is truncated: no end-of-archive "
		    "marker");
		goto out;
	}
	while (!r->eof) {
		n = fs_read_stdin(r->buf, FS_BUFSIZE);
		if (n == 0)
			r->eof = 1;
		else if (n == -1 && (errno != EINTR || fs_interrupted)) {
			plugin_error("reading standard input: %s",
			    strerror(errno));
			goto out;
		}
	}
	/* Directory times and modes are set when the writer closes. */
	if (archive_write_close(out) < ARCHIVE_WARN) {
		plugin_error("%s", archive_error_string(out));
		goto out;
	}
	if (r->has_root && fs_restore_root(r) == -1)
		goto out;
	rc = 0;
out:
	if (fs_interrupted)
		plugin_error("interrupted by signal %d", fs_interrupted);
	if (in != NULL)
		archive_read_free(in);
	if (out != NULL)
		archive_write_free(out);
	return fs_interrupted ? -1 : rc;
}

/*
 * Find the real base_dir and its parent, and whether it exists and is a
 * mount point (which cannot be renamed, so is restored in place).
 */
static int
fs_restore_locate(struct fs_restore_state *r, const char *dir)
{
	char copy[PATH_MAX], pcopy[PATH_MAX], *base;
	struct stat st, pst;

	if (strlen(dir) >= sizeof copy) {
		plugin_error("base_dir is too long");
		return -1;
	}
	strcpy(copy, dir);
	if (stat(dir, &st) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			plugin_error("base_dir %s is not a directory", dir);
			return -1;
		}
		if (realpath(dir, r->target) == NULL) {
			plugin_error("base_dir %s: %s", dir, strerror(errno));
			return -1;
		}
		r->exists = 1;
	} else if (errno == ENOENT) {
		strcpy(pcopy, dir);
		base = basename(copy);
		if (realpath(dirname(pcopy), r->parent) == NULL) {
			plugin_error("the parent directory of base_dir %s: %s",
			    dir, strerror(errno));
			return -1;
		}
		if (strcmp(base, "/") == 0 || strcmp(base, ".") == 0 ||
		    strcmp(base, "..") == 0 ||
		    (size_t)snprintf(r->target, sizeof r->target, "%s/%s",
		    strcmp(r->parent, "/") == 0 ? "" : r->parent, base) >=
		    sizeof r->target) {
			plugin_error("base_dir %s is not usable", dir);
			return -1;
		}
	} else {
		plugin_error("base_dir %s: %s", dir, strerror(errno));
		return -1;
	}
	strcpy(pcopy, r->target);
	snprintf(r->parent, sizeof r->parent, "%s", dirname(pcopy));
	errno = 0;
	if (stat(r->parent, &pst) == -1 || !S_ISDIR(pst.st_mode)) {
		plugin_error("the parent directory of base_dir %s: %s", dir,
		    errno != 0 ? strerror(errno) : "not a directory");
		return -1;
	}
	r->inplace = strcmp(r->target, "/") == 0 ||
	    (r->exists && st.st_dev != pst.st_dev);
	return 0;
}

/* Make the directory we extract into: beside base_dir, or inside it. */
static int
fs_restore_mktemp(struct fs_restore_state *r)
{
	char copy[PATH_MAX];
	struct stat st;
	mode_t mask;
	int n;

	strcpy(copy, r->target);
	/* A failed in-place restore puts base_dir's times back as well. */
	if (r->inplace && stat(r->target, &st) == 0) {
		r->times[0] = st.st_atim;
		r->times[1] = st.st_mtim;
	}
	if (r->inplace)
		n = snprintf(r->tmp, sizeof r->tmp,
		    "%s/.shield-restore.XXXXXX",
		    strcmp(r->target, "/") == 0 ? "" : r->target);
	else
		n = snprintf(r->tmp, sizeof r->tmp,
		    "%s/.%s.shield-restore.XXXXXX",
		    strcmp(r->parent, "/") == 0 ? "" : r->parent,
		    basename(copy));
	if (n < 0 || (size_t)n >= sizeof r->tmp) {
		plugin_error("base_dir is too long");
		return -1;
	}
	if (mkdtemp(r->tmp) == NULL) {
		plugin_error("cannot create a directory beside %s: %s",
		    r->target, strerror(errno));
		r->tmp[0] = '\0';
		return -1;
	}
	/* The archive's "./" entry sets the real mode; this is the fallback. */
	if (r->exists && stat(r->target, &st) == 0)
		chmod(r->tmp, st.st_mode & 07777);
	else {
		mask = umask(0);
		umask(mask);
		chmod(r->tmp, 0777 & ~mask);
	}
	return 0;
}

/* Put the extracted tree in place of base_dir, atomically. */
static int
fs_restore_swap(struct fs_restore_state *r)
{
	char aside[PATH_MAX + 32];

	if (!r->exists) {
		if (rename(r->tmp, r->target) == -1) {
			plugin_error("rename into %s: %s", r->target,
			    strerror(errno));
			return -1;
		}
		r->tmp[0] = '\0';
		return 0;
	}
	/* After the exchange r->tmp names the old tree, removed later. */
	if (renameat2(AT_FDCWD, r->tmp, AT_FDCWD, r->target,
	    RENAME_EXCHANGE) == 0)
		return 0;
	if (errno != EINVAL && errno != ENOSYS) {
		plugin_error("swapping in %s: %s", r->target, strerror(errno));
		return -1;
	}
	snprintf(aside, sizeof aside, "%s.old", r->tmp);
	if (rename(r->target, aside) == -1) {
		plugin_error("moving %s aside: %s", r->target,
		    strerror(errno));
		return -1;
	}
	if (rename(r->tmp, r->target) == -1) {
		plugin_error("rename into %s: %s", r->target,
		    strerror(errno));
		rename(aside, r->target);
		return -1;
	}
	strcpy(r->tmp, aside);
	return 0;
}

/*
 * For a mount point, which cannot be renamed: replace the contents of
 * base_dir with those of the extracted tree inside it.  Not atomic, but
 * only started once the extraction fully succeeded.
 */
static int
fs_restore_inplace(struct fs_restore_state *r)
{
	char path[PATH_MAX * 2 + 2];
	const char *tmpname = strrchr(r->tmp, '/') + 1;
	struct timespec ts[2];
	struct dirent *de;
	struct stat st;
	DIR *d;
	int rc = 0;

	/* Moving entries out changes the new tree's times: take them now. */
	if (stat(r->tmp, &st) == -1 || (d = opendir(r->target)) == NULL)
		goto fail;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, tmpname) == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", r->target, de->d_name);
		if (fs_rmtree(path) == -1) {
			plugin_error("removing %s: %s", path, strerror(errno));
			rc = -1;
		}
	}
	closedir(d);
	if (rc == -1 || (d = opendir(r->tmp)) == NULL)
		goto fail;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", r->target, de->d_name);
		if (renameat(dirfd(d), de->d_name, AT_FDCWD, path) == -1) {
			plugin_error("moving into %s: %s", path,
			    strerror(errno));
			rc = -1;
		}
	}
	closedir(d);
	if (rc == -1)
		goto fail;
	chmod(r->target, st.st_mode & 07777);
	if (geteuid() == 0 && chown(r->target, st.st_uid, st.st_gid) == -1)
		plugin_info("chown %s: %s", r->target, strerror(errno));
	if (rmdir(r->tmp) == 0)
		r->tmp[0] = '\0';
	ts[0] = st.st_atim;
	ts[1] = st.st_mtim;
	utimensat(AT_FDCWD, r->target, ts, 0);
	return 0;
fail:
	if (rc == 0)
		plugin_error("restoring into %s: %s", r->target,
		    strerror(errno));
	return -1;
}

/* Replace base_dir with the tree read from stdin. */
int
fs_restore(const cJSON *ep)
{
	const char *dir = plugin_ep_string(ep, "base_dir", NULL);
	struct fs_restore_state r;
	int fd, rc = 1;

	memset(&r, 0, sizeof r);
	if (dir == NULL || dir[0] != '/') {
		plugin_error("base_dir must be an absolute path");
		return 1;
	}
	fs_signals_catch();
	if (fs_restore_locate(&r, dir) == -1)
		return 1;
	/* Restored in place, / would lose every entry the archive lacks. */
	if (strcmp(r.target, "/") == 0) {
		plugin_error("base_dir must not be / (it resolves to /, and a "
		    "restore replaces everything in base_dir); nothing was "
		    "changed");
		return 1;
	}
	if ((r.buf = malloc(FS_BUFSIZE)) == NULL) {
		plugin_error("out of memory");
		return 1;
	}
	if (fs_restore_mktemp(&r) == -1)
		goto out;
	if ((fd = open(r.tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 ||
	    fchdir(fd) == -1) {
		plugin_error("%s: %s", r.tmp, strerror(errno));
		if (fd != -1)
			close(fd);
		goto out;
	}
	if (fs_restore_extract(&r) == -1) {
		close(fd);
		goto out;
	}
	/* Make the new tree durable before it replaces the old one. */
	if (syncfs(fd) == -1)
		plugin_info("syncfs: %s", strerror(errno));
	close(fd);
	if (chdir("/") == -1)
		goto out;
	if (fs_interrupted)
		goto out;
	if (r.inplace ? fs_restore_inplace(&r) : fs_restore_swap(&r))
		goto out;
	rc = 0;
	if (fs_fsync_dir(r.parent) == -1)
		plugin_info("fsync %s: %s", r.parent, strerror(errno));
out:
	if (chdir("/") == -1)
		rc = 1;
	if (r.tmp[0] != '\0' && fs_rmtree(r.tmp) == -1)
		plugin_error("could not remove %s: %s", r.tmp,
		    strerror(errno));
	else if (rc != 0 && r.inplace && r.tmp[0] != '\0')
		utimensat(AT_FDCWD, r.target, r.times, 0);
	free(r.buf);
	return rc;
}
