/*
 * The pure parts of the S3 store plugin: sizes, part-size growth, object
 * keys, request URLs for both addressing styles, and reading S3's XML
 * answers.  Nothing here does I/O or reads the clock, so all of it is unit
 * tested (plugins/s3/test_s3util.c).
 *
 * Functions returning char * return a string the caller frees, or NULL when
 * memory runs out.  The others write into buffers the caller provides.
 */
#ifndef SHIELD_S3UTIL_H
#define SHIELD_S3UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* S3's multipart limits: every part but the last at least 5 MiB, no part
 * over 5 GiB, at most 10,000 parts. */
#define S3UTIL_PART_MIN		(5ULL << 20)
#define S3UTIL_PART_MAX		(5ULL << 30)
#define S3UTIL_PARTS_MAX	10000u
/* The part size doubles after every this many parts. */
#define S3UTIL_PART_GROWTH	1000u

/* Where requests go: a plain value, strings owned by the caller. */
struct s3util_addr {
	int		 use_ssl;
	const char	*host;
	unsigned	 port;		/* 0: the scheme's default */
	const char	*bucket;
	/* HOST/BUCKET/KEY when set, else BUCKET.HOST/KEY */
	int		 path_style;
};

/*
 * Parse a byte count: digits with an optional K, M, G or T suffix (powers of
 * 1024; "KiB", "KB" and "k" are read the same way).  0 on success, -1 when the
 * text is not a size or overflows.
 */
int		 s3util_size_parse(const char *, uint64_t *);

/*
 * The size of part number `part` (1-based) for a configured part size: base
 * doubled once per S3UTIL_PART_GROWTH parts, capped at S3UTIL_PART_MAX.
 */
uint64_t	 s3util_part_size(uint64_t base, unsigned part);
/* How many bytes S3UTIL_PARTS_MAX parts of that growing size hold. */
uint64_t	 s3util_capacity(uint64_t base);

/*
 * Write "PREFIX/YYYY/MM/DD/YYYYmmddTHHMMSSZ-UUID" for `now` (UTC).  Slashes
 * around the prefix are dropped; an empty prefix gives no leading slash.
 * 0 on success, -1 when buf is too small.
 */
int		 s3util_key_make(char *buf, size_t len, const char *prefix,
		    time_t now, const char *uuid);

/*
 * RFC 3986 percent-encoding as SigV4 wants it: unreserved characters kept,
 * everything else %XX, '/' kept only when keep_slash is set.
 */
char		*s3util_uri_encode(const char *, int keep_slash);

/*
 * The URL of an object (key set) or of the bucket (key NULL), with an
 * already canonical query string (NULL for none): parameters sorted, values
 * encoded, valueless ones written "name=", because curl signs the query as
 * it finds it.
 */
char		*s3util_url(const struct s3util_addr *, const char *key,
		    const char *query);

/* NULL if the bucket name can be used in this addressing style, else why. */
const char	*s3util_bucket_check(const char *, int path_style);

/*
 * Copy the text of the first <tag> element of an XML body into out, with
 * the five predefined entities decoded and truncated to fit.  0 when found,
 * -1 otherwise (out is then "").
 */
int		 s3util_xml_value(const char *body, size_t len,
		    const char *tag, char *out, size_t outlen);

/*
 * If the body is an S3 <Error> document, copy its Code and Message and
 * return 1; else return 0 with both set to "".  S3 can answer 200 and still
 * send an error (CompleteMultipartUpload), so callers check bodies too.
 */
int		 s3util_error_parse(const char *body, size_t len, char *code,
		    size_t codelen, char *msg, size_t msglen);

/* 1 if a request that got this HTTP status and S3 error code may be retried. */
int		 s3util_http_retryable(long status, const char *code);

/* Milliseconds to wait before try number `attempt` (2, 3, ...). */
unsigned	 s3util_backoff_ms(unsigned attempt);

/* Overwrite every occurrence of secret in text with as many asterisks
 * (tool_redact() without flags). */
void		 s3util_redact(char *text, const char *secret);

#endif
