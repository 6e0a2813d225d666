/*
 * The archive header: length-prefixed fields after the magic and version
 * (docs/archive-format.md), so a later version can add fields that this one
 * skips; its JSON form; and the master key file and key id.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sodium.h>

#include "archive.h"
#include "log.h"
#include "xmalloc.h"

enum archive_tag {
	TAG_KIND = 1,
	TAG_UUID,
	TAG_TARGET_PLUGIN,
	TAG_JOB_NAME,
	TAG_JOB_UUID,
	TAG_TARGET_NAME,
	TAG_TARGET_UUID,
	TAG_STORE_NAME,
	TAG_STORE_UUID,
	TAG_TAKEN_AT,
	TAG_EXPIRES_AT,
	TAG_COMPRESSION,
	TAG_CIPHER,
	TAG_KEY_ID,
	TAG_CHUNK_SIZE,
};

/* The string fields, in tag order, with their JSON names. */
static const struct {
	enum archive_tag tag;
	const char	*name;
	size_t		 off;
} archive_strings[] = {
	{ TAG_UUID, "uuid", offsetof(struct archive_header, uuid) },
	{ TAG_TARGET_PLUGIN, "target_plugin",
	    offsetof(struct archive_header, target_plugin) },
	{ TAG_JOB_NAME, "job_name", offsetof(struct archive_header, job_name) },
	{ TAG_JOB_UUID, "job_uuid", offsetof(struct archive_header, job_uuid) },
	{ TAG_TARGET_NAME, "target_name",
	    offsetof(struct archive_header, target_name) },
	{ TAG_TARGET_UUID, "target_uuid",
	    offsetof(struct archive_header, target_uuid) },
	{ TAG_STORE_NAME, "store_name",
	    offsetof(struct archive_header, store_name) },
	{ TAG_STORE_UUID, "store_uuid",
	    offsetof(struct archive_header, store_uuid) },
	{ TAG_KEY_ID, "key_id", offsetof(struct archive_header, key_id) },
};
#define N_STRINGS (sizeof archive_strings / sizeof archive_strings[0])

static const char *kind_names[] = { "backup", "catalog" };
static const char *compression_names[] = { "none", "zstd" };
static const char *cipher_names[] = { "none",
	"xchacha20poly1305-secretstream" };

const char *
archive_kind_name(enum archive_kind k)
{
	return kind_names[k];
}

const char *
archive_compression_name(enum archive_compression c)
{
	return compression_names[c];
}

const char *
archive_cipher_name(enum archive_cipher c)
{
	return cipher_names[c];
}

/* Index of s in names, or -1. */
static int
archive_lookup(const char **names, size_t n, const char *s, size_t len)
{
	size_t	i;

	for (i = 0; i < n; i++) {
		if (strlen(names[i]) == len && memcmp(names[i], s, len) == 0)
			return (int)i;
	}
	return -1;
}

int
archive_compression_parse(const char *s, enum archive_compression *c)
{
	int	i;

	i = archive_lookup(compression_names, 2, s, strlen(s));
	if (i < 0)
		return -1;
	*c = i;
	return 0;
}

int
archive_sniff(const void *buf, size_t len)
{
	size_t	n = len < ARCHIVE_MAGIC_LEN ? len : ARCHIVE_MAGIC_LEN;

	if (memcmp(buf, ARCHIVE_MAGIC, n) != 0)
		return 0;
	return n == ARCHIVE_MAGIC_LEN ? 1 : -1;
}

void
archive_put_be(uint8_t *p, uint64_t v, int n)
{
	while (n-- > 0) {
		p[n] = v & 0xff;
		v >>= 8;
	}
}

uint64_t
archive_get_be(const uint8_t *p, int n)
{
	uint64_t	v = 0;
	int		i;

	for (i = 0; i < n; i++)
		v = v << 8 | p[i];
	return v;
}

/* Append one field (tag, 16-bit length, value) at *pos. */
static void
put_field(uint8_t *buf, size_t *pos, int tag, const void *v, size_t len)
{
	buf[(*pos)++] = tag;
	archive_put_be(buf + *pos, len, 2);
	*pos += 2;
	memcpy(buf + *pos, v, len);
	*pos += len;
}

static void
put_str(uint8_t *buf, size_t *pos, int tag, const char *s)
{
	put_field(buf, pos, tag, s, strlen(s));
}

static void
put_int(uint8_t *buf, size_t *pos, int tag, uint64_t v, int n)
{
	uint8_t	b[8];

	archive_put_be(b, v, n);
	put_field(buf, pos, tag, b, n);
}

int
archive_header_encode(const struct archive_header *hdr, uint8_t **outp,
    size_t *lenp, size_t *adlenp, char **errp)
{
	uint8_t	*buf;
	size_t	 pos, i, cap;
	int	 withkey = hdr->cipher != ARCHIVE_CIPHER_NONE;

	/* Every field fits its 255-byte buffer, so this bound holds. */
	cap = 14 + 20 * (3 + 256) + ARCHIVE_WRAP_LEN + ARCHIVE_STREAM_HDR_LEN;
	buf = xmalloc(cap);
	memcpy(buf, ARCHIVE_MAGIC, ARCHIVE_MAGIC_LEN);
	archive_put_be(buf + 8, ARCHIVE_VERSION, 2);
	pos = 14;
	put_str(buf, &pos, TAG_KIND, archive_kind_name(hdr->kind));
	for (i = 0; i < N_STRINGS; i++) {
		const char *s = (const char *)hdr + archive_strings[i].off;

		if (strnlen(s, ARCHIVE_NAME_MAX + 1) > ARCHIVE_NAME_MAX) {
			xasprintf(errp, "header field %s is too long",
			    archive_strings[i].name);
			free(buf);
			return -1;
		}
		if (archive_strings[i].tag == TAG_KEY_ID && !withkey)
			continue;
		put_str(buf, &pos, archive_strings[i].tag, s);
	}
	put_int(buf, &pos, TAG_TAKEN_AT, (uint64_t)hdr->taken_at, 8);
	put_int(buf, &pos, TAG_EXPIRES_AT, (uint64_t)hdr->expires_at, 8);
	put_str(buf, &pos, TAG_COMPRESSION,
	    archive_compression_name(hdr->compression));
	put_str(buf, &pos, TAG_CIPHER, archive_cipher_name(hdr->cipher));
	put_int(buf, &pos, TAG_CHUNK_SIZE, hdr->chunk_size, 4);
	archive_put_be(buf + 10, pos - 14, 4);
	*adlenp = pos;
	if (withkey) {
		memcpy(buf + pos, hdr->wrapped_key, ARCHIVE_WRAP_LEN);
		pos += ARCHIVE_WRAP_LEN;
		memcpy(buf + pos, hdr->stream_header, ARCHIVE_STREAM_HDR_LEN);
		pos += ARCHIVE_STREAM_HDR_LEN;
	}
	*outp = buf;
	*lenp = pos;
	return 0;
}

/* Decode the value of one known field into hdr; -1 if it is malformed. */
static int
archive_field(struct archive_header *hdr, int tag, const uint8_t *v,
    size_t len, unsigned *seen)
{
	size_t	i;
	int	k;

	*seen |= 1u << tag;
	for (i = 0; i < N_STRINGS; i++) {
		if (archive_strings[i].tag != (enum archive_tag)tag)
			continue;
		if (len > ARCHIVE_NAME_MAX || memchr(v, '\0', len) != NULL)
			return -1;
		memcpy((char *)hdr + archive_strings[i].off, v, len);
		((char *)hdr + archive_strings[i].off)[len] = '\0';
		return 0;
	}
	switch (tag) {
	case TAG_KIND:
		if ((k = archive_lookup(kind_names, 2, (const char *)v,
		    len)) < 0)
			return -1;
		hdr->kind = k;
		return 0;
	case TAG_COMPRESSION:
		if ((k = archive_lookup(compression_names, 2,
		    (const char *)v, len)) < 0)
			return -1;
		hdr->compression = k;
		return 0;
	case TAG_CIPHER:
		if ((k = archive_lookup(cipher_names, 2, (const char *)v,
		    len)) < 0)
			return -1;
		hdr->cipher = k;
		return 0;
	case TAG_TAKEN_AT:
	case TAG_EXPIRES_AT:
		if (len != 8)
			return -1;
		if (tag == TAG_TAKEN_AT)
			hdr->taken_at = (int64_t)archive_get_be(v, 8);
		else
			hdr->expires_at = (int64_t)archive_get_be(v, 8);
		return 0;
	case TAG_CHUNK_SIZE:
		if (len != 4)
			return -1;
		hdr->chunk_size = archive_get_be(v, 4);
		if (hdr->chunk_size < ARCHIVE_CHUNK_MIN ||
		    hdr->chunk_size > ARCHIVE_CHUNK_MAX)
			return -1;
		return 0;
	}
	/* A field of a later minor revision: skipped, still authenticated. */
	*seen &= ~(1u << tag);
	return 0;
}

int
archive_header_decode(const void *data, size_t len, struct archive_header *hdr,
    size_t *usedp, size_t *adlenp, char **errp)
{
	const uint8_t	*buf = data;
	size_t		 flen, pos, vlen, need;
	unsigned	 seen = 0, want;
	int		 tag;

	switch (archive_sniff(buf, len)) {
	case 0:
		xasprintf(errp, "not a SHIELD archive (no SHIELDAR magic)");
		return -1;
	case -1:
		return 0;
	}
	if (len < 14)
		return 0;
	if (archive_get_be(buf + 8, 2) != ARCHIVE_VERSION) {
		xasprintf(errp, "unsupported SHIELD archive format version %u",
		    (unsigned)archive_get_be(buf + 8, 2));
		return -1;
	}
	flen = archive_get_be(buf + 10, 4);
	if (flen > ARCHIVE_FIELDS_MAX) {
		xasprintf(errp, "malformed archive header (fields too long)");
		return -1;
	}
	if (len < 14 + flen)
		return 0;
	memset(hdr, 0, sizeof *hdr);
	hdr->version = ARCHIVE_VERSION;
	for (pos = 14; pos < 14 + flen; pos += vlen) {
		if (14 + flen - pos < 3)
			goto bad;
		tag = buf[pos];
		vlen = archive_get_be(buf + pos + 1, 2);
		pos += 3;
		if (vlen > 14 + flen - pos)
			goto bad;
		if (tag < 32 && (seen & (1u << tag)))
			goto bad;
		if (tag < 32 && archive_field(hdr, tag, buf + pos, vlen,
		    &seen) == -1)
			goto bad;
	}
	want = 1u << TAG_KIND | 1u << TAG_COMPRESSION | 1u << TAG_CIPHER |
	    1u << TAG_CHUNK_SIZE | 1u << TAG_TAKEN_AT;
	if (hdr->cipher != ARCHIVE_CIPHER_NONE)
		want |= 1u << TAG_KEY_ID;
	if ((seen & want) != want)
		goto bad;
	need = 14 + flen;
	*adlenp = need;
	if (hdr->cipher != ARCHIVE_CIPHER_NONE) {
		need += ARCHIVE_WRAP_LEN + ARCHIVE_STREAM_HDR_LEN;
		if (len < need)
			return 0;
		memcpy(hdr->wrapped_key, buf + 14 + flen, ARCHIVE_WRAP_LEN);
		memcpy(hdr->stream_header, buf + 14 + flen + ARCHIVE_WRAP_LEN,
		    ARCHIVE_STREAM_HDR_LEN);
	}
	*usedp = need;
	return 1;
bad:
	xasprintf(errp, "malformed archive header");
	return -1;
}

char *
archive_header_to_json(const struct archive_header *hdr)
{
	cJSON	*o;
	char	*s;
	size_t	 i;

	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "format", "SHIELD archive");
	cJSON_AddNumberToObject(o, "version", hdr->version);
	cJSON_AddStringToObject(o, "kind", archive_kind_name(hdr->kind));
	for (i = 0; i < N_STRINGS; i++) {
		cJSON_AddStringToObject(o, archive_strings[i].name,
		    (const char *)hdr + archive_strings[i].off);
	}
	cJSON_AddNumberToObject(o, "taken_at", (double)hdr->taken_at);
	cJSON_AddNumberToObject(o, "expires_at", (double)hdr->expires_at);
	cJSON_AddStringToObject(o, "compression",
	    archive_compression_name(hdr->compression));
	cJSON_AddStringToObject(o, "cipher", archive_cipher_name(hdr->cipher));
	cJSON_AddStringToObject(o, "encryption",
	    hdr->cipher == ARCHIVE_CIPHER_NONE ? "off" : "on");
	cJSON_AddNumberToObject(o, "chunk_size", hdr->chunk_size);
	s = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (s == NULL)
		fatal("%s: out of memory", __func__);
	return s;
}

/* 1 if v is a whole number of seconds that an int64_t holds exactly. */
static int
archive_json_time(const cJSON *v)
{
	double	d;

	if (!cJSON_IsNumber(v))
		return 0;
	d = v->valuedouble;
	return d > -9007199254740992.0 && d < 9007199254740992.0 &&
	    d == (double)(int64_t)d;
}

int
archive_header_from_json(const char *json, struct archive_header *hdr,
    char **errp)
{
	cJSON		*o, *v;
	size_t		 i;
	int		 k;

	if ((o = cJSON_Parse(json)) == NULL || !cJSON_IsObject(o)) {
		xasprintf(errp, "header JSON is not an object");
		goto fail;
	}
	for (i = 0; i < N_STRINGS; i++) {
		if (archive_strings[i].tag == TAG_KEY_ID)
			continue;
		v = cJSON_GetObjectItemCaseSensitive(o,
		    archive_strings[i].name);
		if (v == NULL)
			continue;
		if (!cJSON_IsString(v) ||
		    strlen(v->valuestring) > ARCHIVE_NAME_MAX) {
			xasprintf(errp, "header JSON: %s must be a string of "
			    "at most %d bytes", archive_strings[i].name,
			    ARCHIVE_NAME_MAX);
			goto fail;
		}
		strcpy((char *)hdr + archive_strings[i].off, v->valuestring);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "kind")) != NULL) {
		if (!cJSON_IsString(v) || (k = archive_lookup(kind_names, 2,
		    v->valuestring, strlen(v->valuestring))) < 0) {
			xasprintf(errp, "header JSON: kind must be \"backup\" "
			    "or \"catalog\"");
			goto fail;
		}
		hdr->kind = k;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "taken_at")) != NULL) {
		if (!archive_json_time(v))
			goto badtime;
		hdr->taken_at = (int64_t)v->valuedouble;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "expires_at")) != NULL) {
		if (!archive_json_time(v))
			goto badtime;
		hdr->expires_at = (int64_t)v->valuedouble;
	}
	cJSON_Delete(o);
	return 0;
badtime:
	xasprintf(errp, "header JSON: taken_at and expires_at are UTC "
	    "seconds");
fail:
	cJSON_Delete(o);
	return -1;
}

void
archive_key_id(const uint8_t key[ARCHIVE_KEY_LEN],
    char out[ARCHIVE_KEY_ID_LEN + 1])
{
	static const char	 ctx[] = "SHIELD key id v1";
	uint8_t			 h[32];

	crypto_generichash(h, sizeof h, (const uint8_t *)ctx,
	    sizeof ctx - 1, key, ARCHIVE_KEY_LEN);
	sodium_bin2hex(out, ARCHIVE_KEY_ID_LEN + 1, h, ARCHIVE_KEY_ID_LEN / 2);
}

int
archive_key_read(const char *path, uint8_t key[ARCHIVE_KEY_LEN], char **errp)
{
	char		buf[2 * ARCHIVE_KEY_LEN + 3];
	struct stat	st;
	ssize_t		n;
	size_t		got = 0, binlen;
	int		fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		xasprintf(errp, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == 0 && (st.st_mode & 077) != 0)
		log_warn("%s: key file is readable by group or others "
		    "(chmod 600 it)", path);
	while (got < sizeof buf &&
	    (n = read(fd, buf + got, sizeof buf - got)) != 0) {
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			xasprintf(errp, "%s: %s", path, strerror(errno));
			close(fd);
			return -1;
		}
		got += n;
	}
	close(fd);
	if (got == 2 * ARCHIVE_KEY_LEN + 1 && buf[got - 1] == '\n')
		got--;
	if (got != 2 * ARCHIVE_KEY_LEN ||
	    sodium_hex2bin(key, ARCHIVE_KEY_LEN, buf, got, NULL, &binlen,
	    NULL) != 0 || binlen != ARCHIVE_KEY_LEN) {
		sodium_memzero(buf, sizeof buf);
		xasprintf(errp, "%s: not a SHIELD key file (64 hex "
		    "characters and a newline)", path);
		return -1;
	}
	sodium_memzero(buf, sizeof buf);
	return 0;
}

int
archive_key_write(const char *path, const uint8_t key[ARCHIVE_KEY_LEN],
    char **errp)
{
	char	buf[2 * ARCHIVE_KEY_LEN + 2];
	int	fd, ok;

	sodium_bin2hex(buf, sizeof buf, key, ARCHIVE_KEY_LEN);
	buf[2 * ARCHIVE_KEY_LEN] = '\n';
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1) {
		xasprintf(errp, "%s: %s", path, strerror(errno));
		return -1;
	}
	/* fchmod: a umask can take bits even from 0600. */
	ok = fchmod(fd, 0600) == 0 &&
	    write(fd, buf, 2 * ARCHIVE_KEY_LEN + 1) ==
	    2 * ARCHIVE_KEY_LEN + 1 && fsync(fd) == 0;
	sodium_memzero(buf, sizeof buf);
	if (close(fd) != 0 || !ok) {
		xasprintf(errp, "%s: %s", path, strerror(errno));
		unlink(path);
		return -1;
	}
	return 0;
}
