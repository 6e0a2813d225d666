/*
 * The SHIELD archive header (docs/archive-format.md): a plain value that is
 * encoded to and decoded from the bytes at the start of every archive, and
 * shown as JSON by `shield-archive inspect`.  The header is readable without
 * any key; the data key wrapped in it needs the master key.  Also the master
 * key file (64 hex characters and a newline), shared with the daemon.
 */
#ifndef SHIELD_ARCHIVE_H
#define SHIELD_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>

#define ARCHIVE_MAGIC		"SHIELDAR"
#define ARCHIVE_MAGIC_LEN	8
#define ARCHIVE_VERSION		1
#define ARCHIVE_KEY_LEN		32
#define ARCHIVE_KEY_ID_LEN	16	/* hex characters */
#define ARCHIVE_NAME_MAX	255	/* bytes in a name, uuid or plugin */
#define ARCHIVE_FIELDS_MAX	65536	/* bytes of header fields */
/* The wrapped data key: nonce, key, MAC; then the secretstream header. */
#define ARCHIVE_WRAP_LEN	(24 + ARCHIVE_KEY_LEN + 16)
#define ARCHIVE_STREAM_HDR_LEN	24
#define ARCHIVE_CHUNK_MIN	(64 * 1024)
#define ARCHIVE_CHUNK_MAX	(1024 * 1024)
#define ARCHIVE_CHUNK_DEFAULT	(256 * 1024)

enum archive_kind {
	ARCHIVE_KIND_BACKUP,
	ARCHIVE_KIND_CATALOG,
};

enum archive_compression {
	ARCHIVE_COMPRESSION_NONE,
	ARCHIVE_COMPRESSION_ZSTD,
};

enum archive_cipher {
	ARCHIVE_CIPHER_NONE,
	ARCHIVE_CIPHER_SECRETSTREAM,
};

struct archive_header {
	int			 version;
	enum archive_kind	 kind;
	char			 uuid[ARCHIVE_NAME_MAX + 1];
	char			 target_plugin[ARCHIVE_NAME_MAX + 1];
	char			 job_name[ARCHIVE_NAME_MAX + 1];
	char			 job_uuid[ARCHIVE_NAME_MAX + 1];
	char			 target_name[ARCHIVE_NAME_MAX + 1];
	char			 target_uuid[ARCHIVE_NAME_MAX + 1];
	char			 store_name[ARCHIVE_NAME_MAX + 1];
	char			 store_uuid[ARCHIVE_NAME_MAX + 1];
	int64_t			 taken_at;	/* UTC seconds */
	int64_t			 expires_at;	/* UTC seconds, 0: none */
	enum archive_compression compression;
	enum archive_cipher	 cipher;
	uint32_t		 chunk_size;
	char			 key_id[ARCHIVE_KEY_ID_LEN + 1];  /* "" if none */
	/* With a cipher: the wrapped data key and the stream header. */
	uint8_t			 wrapped_key[ARCHIVE_WRAP_LEN];
	uint8_t			 stream_header[ARCHIVE_STREAM_HDR_LEN];
};

/*
 * 1 if buf starts with the magic, 0 if it is not a SHIELD archive (a raw
 * plugin stream, as archives made before the format were), -1 if len is
 * too short to tell.
 */
int	archive_sniff(const void *buf, size_t len);

/*
 * Encode hdr into a new buffer (*outp, *lenp, freed by the caller);
 * *adlenp is the length of the leading part that the data key's wrap
 * authenticates (everything before the wrapped key).  -1 with *errp (to
 * free) if a field does not fit.
 */
int	archive_header_encode(const struct archive_header *hdr,
	    uint8_t **outp, size_t *lenp, size_t *adlenp, char **errp);

/*
 * Decode a header from the len bytes at buf: 1 with *usedp (the header's
 * length) and *adlenp set, 0 if more bytes are needed, -1 with *errp (to
 * free) if it is not an archive or is malformed.
 */
int	archive_header_decode(const void *buf, size_t len,
	    struct archive_header *hdr, size_t *usedp, size_t *adlenp,
	    char **errp);

/* The header as a JSON object (text the caller frees). */
char	*archive_header_to_json(const struct archive_header *hdr);

/*
 * Fill hdr from a JSON object with the names archive_header_to_json()
 * writes (kind, uuid, target_plugin, job_name, ..., taken_at, expires_at);
 * the codec fields are left as they are.  -1 with *errp (to free).
 */
int	archive_header_from_json(const char *json, struct archive_header *hdr,
	    char **errp);

/* The format's big-endian integers of n bytes (n at most 8). */
void	archive_put_be(uint8_t *p, uint64_t v, int n);
uint64_t archive_get_be(const uint8_t *p, int n);

const char *archive_kind_name(enum archive_kind);
const char *archive_compression_name(enum archive_compression);
const char *archive_cipher_name(enum archive_cipher);
int	archive_compression_parse(const char *, enum archive_compression *);

/* The key id of key: 16 lowercase hex characters (docs/archive-format.md). */
void	archive_key_id(const uint8_t key[ARCHIVE_KEY_LEN],
	    char out[ARCHIVE_KEY_ID_LEN + 1]);

/*
 * Read a key file (64 hex characters, an optional newline) into key.  A
 * key file readable by group or others is used but warned about through
 * log_warn().  -1 with *errp (to free) if missing or malformed.
 */
int	archive_key_read(const char *path, uint8_t key[ARCHIVE_KEY_LEN],
	    char **errp);

/*
 * Write key to a new key file at path (mode 0600; an existing file is never
 * overwritten).  -1 with *errp (to free).
 */
int	archive_key_write(const char *path, const uint8_t key[ARCHIVE_KEY_LEN],
	    char **errp);

#endif
