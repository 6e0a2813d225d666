/*
 * The fs plugin's internals, shared by its three files: fs.c (the plugin
 * definition, validation, include/exclude patterns and tree removal),
 * fs_target.c (backup and restore of a directory tree as a pax tar stream)
 * and fs_store.c (archives kept as files under a directory).
 *
 * Nothing here owns memory beyond what each function documents; the
 * endpoint and its strings belong to the plugin kit.
 */
#ifndef SHIELD_FS_H
#define SHIELD_FS_H

#include <sys/types.h>

#include <cJSON.h>

/* Size of the I/O buffers and of the tar write blocks. */
#define FS_BUFSIZE	(256 * 1024)
#define FS_BLOCKSIZE	(128 * 1024)

/* A list of glob patterns from the include or exclude field. */
struct fs_patterns {
	char	**globs;
	size_t	  n;
};

/* Parse a field (comma-separated string or array); -1 on a bad value. */
int	fs_patterns_parse(const cJSON *, const char *field,
	    struct fs_patterns *);
/* Free the patterns (not the struct); safe on an empty list. */
void	fs_patterns_free(struct fs_patterns *);
/* 1 if the relative path rel matches any pattern. */
int	fs_patterns_match(const struct fs_patterns *, const char *rel);

/* 1 if dir is / or resolves to it (reported): never a usable base_dir. */
int	fs_is_root(const char *dir);
/* Remove a tree without following symlinks; 0 or -1 (errno set). */
int	fs_rmtree(const char *path);
/* fsync a directory by path; 0 or -1 (errno set). */
int	fs_fsync_dir(const char *path);

/*
 * Install handlers so SIGTERM, SIGINT and SIGHUP set fs_interrupted and
 * interrupt blocking reads instead of killing the process, so the action
 * can clean up.  Further signals change nothing; the daemon's KILL after a
 * grace period is what stops a plugin that does not.
 */
void	fs_signals_catch(void);
/* read(0, ...) that returns -1/EINTR once a termination signal came. */
ssize_t	fs_read_stdin(void *, size_t);
extern volatile int fs_interrupted;

int	fs_backup(const cJSON *);
int	fs_restore(const cJSON *);
int	fs_store(const cJSON *);
int	fs_retrieve(const cJSON *, const char *);
int	fs_purge(const cJSON *, const char *);

#endif
