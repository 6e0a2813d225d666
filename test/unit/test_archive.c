/*
 * Unit tests for the SHIELD archive format: round trips of streams around
 * the chunk size with every compression and cipher, every single-byte flip
 * of a small archive (header included), truncation at and between chunk
 * boundaries and bytes after the end, swapped chunks, a wrong key, a raw
 * stream that is not an archive, the header's JSON, the key file and the
 * key id.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "archive.h"
#include "codec.h"

#define CS	ARCHIVE_CHUNK_MIN

struct buf {
	uint8_t	*p;
	size_t	 len, cap;
};

static uint8_t	key[ARCHIVE_KEY_LEN], key2[ARCHIVE_KEY_LEN];

static int
buf_write_cb(void *arg, const void *data, size_t len)
{
	struct buf	*b = arg;

	if (b->len + len > b->cap) {
		b->cap = (b->len + len) * 2;
		b->p = realloc(b->p, b->cap);
		assert_non_null(b->p);
	}
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

static uint8_t *
random_bytes(size_t len)
{
	uint8_t	*p = malloc(len + 1);

	assert_non_null(p);
	randombytes_buf(p, len);
	return p;
}

/* Encode len bytes of in as an archive, fed in pieces of step. */
static struct buf
encode(const uint8_t *in, size_t len, enum archive_compression comp,
    enum archive_cipher cipher, size_t step)
{
	struct archive_header	 hdr;
	struct codec_encoder	*e;
	struct buf		 out = { NULL, 0, 0 };
	char			*err = NULL;
	size_t			 off, n;

	memset(&hdr, 0, sizeof hdr);
	strcpy(hdr.uuid, "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d");
	strcpy(hdr.target_plugin, "fs");
	strcpy(hdr.job_name, "nightly");
	hdr.taken_at = 1700000000;
	hdr.expires_at = 1700086400;
	hdr.compression = comp;
	hdr.cipher = cipher;
	hdr.chunk_size = CS;
	e = codec_encoder_new(&hdr, key, buf_write_cb, &out, &err);
	assert_non_null(e);
	for (off = 0; off < len; off += n) {
		n = len - off < step ? len - off : step;
		assert_int_equal(codec_encoder_update(e, in + off, n, &err), 0);
	}
	assert_int_equal(codec_encoder_finish(e, &err), 0);
	assert_int_equal(codec_encoder_raw_size(e), len);
	assert_int_equal(codec_encoder_size(e), out.len);
	codec_encoder_free(e);
	return out;
}

/* Decode an archive fed in pieces of step; 0 or -1, *out what was written. */
static int
decode(const uint8_t *a, size_t len, const uint8_t *k, size_t step,
    struct buf *out, char **errp)
{
	struct codec_decoder	*d;
	size_t			 off, n;
	int			 r = 0;

	memset(out, 0, sizeof *out);
	*errp = NULL;
	d = codec_decoder_new(k, buf_write_cb, out);
	for (off = 0; off < len && r == 0; off += n) {
		n = len - off < step ? len - off : step;
		r = codec_decoder_update(d, a + off, n, errp);
	}
	if (r == 0)
		r = codec_decoder_finish(d, errp);
	codec_decoder_free(d);
	return r;
}

/* Decoding must fail, writing only a prefix of in of at most max bytes. */
static void
check_fails(const uint8_t *a, size_t len, const uint8_t *in, size_t max)
{
	struct buf	 out;
	char		*err;

	assert_int_equal(decode(a, len, key, 4096, &out, &err), -1);
	assert_non_null(err);
	assert_true(out.len <= max);
	if (out.len > 0)
		assert_memory_equal(out.p, in, out.len);
	free(err);
	free(out.p);
}

/* The offsets where each frame after the header starts, and the end. */
static size_t
frames(const struct buf *a, size_t *offs, size_t max)
{
	struct archive_header	 hdr;
	size_t			 used, adlen, pos, n = 0, l;
	char			*err = NULL;

	assert_int_equal(archive_header_decode(a->p, a->len, &hdr, &used,
	    &adlen, &err), 1);
	for (pos = used; pos < a->len; ) {
		assert_true(n < max);
		offs[n++] = pos;
		l = (size_t)a->p[pos] << 24 | a->p[pos + 1] << 16 |
		    a->p[pos + 2] << 8 | a->p[pos + 3];
		pos += 4 + l + (hdr.cipher == ARCHIVE_CIPHER_NONE ? 33 : 0);
	}
	assert_int_equal(pos, a->len);
	offs[n] = pos;
	return n;
}

static const struct {
	enum archive_compression comp;
	enum archive_cipher	 cipher;
} combos[] = {
	{ ARCHIVE_COMPRESSION_ZSTD, ARCHIVE_CIPHER_SECRETSTREAM },
	{ ARCHIVE_COMPRESSION_ZSTD, ARCHIVE_CIPHER_NONE },
	{ ARCHIVE_COMPRESSION_NONE, ARCHIVE_CIPHER_SECRETSTREAM },
	{ ARCHIVE_COMPRESSION_NONE, ARCHIVE_CIPHER_NONE },
};
#define N_COMBOS (sizeof combos / sizeof combos[0])

/* Empty, one byte, one chunk, a boundary +-1 and a few MiB come back. */
static void
test_archive_round_trip(void **state)
{
	const size_t	 sizes[] = { 0, 1, CS - 1, CS, CS + 1, 2 * CS - 1,
	    2 * CS, 2 * CS + 1, 3 * 1024 * 1024 + 17 };
	struct buf	 a, out;
	uint8_t		*in;
	size_t		 i, c, half;
	char		*err;

	for (i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		in = random_bytes(sizes[i]);
		/* Half random, half compressible. */
		half = sizes[i] / 2;
		memset(in + half, 'x', sizes[i] - half);
		for (c = 0; c < N_COMBOS; c++) {
			a = encode(in, sizes[i], combos[c].comp,
			    combos[c].cipher, 100000);
			if (decode(a.p, a.len, key, 77777, &out, &err) != 0)
				fail_msg("size %zu combo %zu: %s", sizes[i], c,
				    err);
			assert_int_equal(out.len, sizes[i]);
			if (sizes[i] > 0)
				assert_memory_equal(out.p, in, sizes[i]);
			free(out.p);
			if (sizes[i] <= CS + 1) {
				/* Fed a byte at a time, too. */
				assert_int_equal(decode(a.p, a.len, key, 1,
				    &out, &err), 0);
				assert_int_equal(out.len, sizes[i]);
				free(out.p);
			}
			free(a.p);
		}
		free(in);
	}
}

/* Each byte of a small archive flipped, one at a time, is caught. */
static void
test_archive_every_flip(void **state)
{
	struct buf	 a;
	uint8_t		*in;
	size_t		 c, i;

	in = random_bytes(200);
	for (c = 0; c < N_COMBOS; c++) {
		a = encode(in, 200, combos[c].comp, combos[c].cipher, 200);
		for (i = 0; i < a.len; i++) {
			a.p[i] ^= 0x01;
			/* One data chunk: nothing may come out. */
			check_fails(a.p, a.len, in, 0);
			a.p[i] ^= 0x81;
			check_fails(a.p, a.len, in, 0);
			a.p[i] ^= 0x80;
		}
		free(a.p);
	}
	free(in);
}

/* Cut at every chunk boundary and inside chunks: caught, a short prefix. */
static void
test_archive_truncated(void **state)
{
	struct buf	 a;
	uint8_t		*in;
	size_t		 c, i, n, offs[16], len = 5 * CS + 100, cut;
	const size_t	 deltas[] = { 0, 1, 4, 5, 1000 };
	size_t		 d;

	in = random_bytes(len);
	for (c = 0; c < N_COMBOS; c++) {
		if (combos[c].comp != ARCHIVE_COMPRESSION_NONE)
			continue;
		a = encode(in, len, combos[c].comp, combos[c].cipher, 65000);
		n = frames(&a, offs, 15);
		assert_int_equal(n, 7);	/* six data chunks, the end marker */
		for (i = 0; i <= n; i++) {
			for (d = 0; d < sizeof deltas / sizeof deltas[0];
			    d++) {
				cut = offs[i] + deltas[d];
				if (i == n && d == 0)
					continue;	/* the whole archive */
				if (cut >= a.len || (i < n &&
				    cut >= offs[i + 1]))
					continue;
				/*
				 * With i whole frames, the last one is held
				 * back: at most i - 1 chunks come out.
				 */
				check_fails(a.p, cut, in,
				    i == 0 ? 0 : (i - 1) * CS);
			}
		}
		/* Every byte count inside the header too. */
		for (cut = 0; cut < offs[0]; cut++)
			check_fails(a.p, cut, in, 0);
		/* A byte after the end marker: the last chunk stays back. */
		a.p = realloc(a.p, a.len + 1);
		a.p[a.len] = 0;
		check_fails(a.p, a.len + 1, in, 5 * CS);
		free(a.p);
	}
	free(in);
}

/* Two whole chunks swapped: caught before either is written. */
static void
test_archive_swapped(void **state)
{
	struct buf	 a;
	uint8_t		*in, *tmp;
	size_t		 c, n, offs[16], len = 4 * CS, fl;

	in = random_bytes(len);
	for (c = 0; c < N_COMBOS; c++) {
		if (combos[c].comp != ARCHIVE_COMPRESSION_NONE)
			continue;
		a = encode(in, len, combos[c].comp, combos[c].cipher, len);
		n = frames(&a, offs, 15);
		assert_int_equal(n, 5);
		fl = offs[2] - offs[1];
		assert_int_equal(offs[3] - offs[2], fl);
		tmp = malloc(fl);
		memcpy(tmp, a.p + offs[1], fl);
		memmove(a.p + offs[1], a.p + offs[2], fl);
		memcpy(a.p + offs[2], tmp, fl);
		/* Chunk 1 is held back when chunk 2 fails: nothing out. */
		check_fails(a.p, a.len, in, 0);
		free(tmp);
		free(a.p);
	}
	free(in);
}

/* Another key is refused, by its key id, before any output. */
static void
test_archive_wrong_key(void **state)
{
	struct buf	 a, out;
	uint8_t		*in;
	char		*err;

	in = random_bytes(1000);
	a = encode(in, 1000, ARCHIVE_COMPRESSION_ZSTD,
	    ARCHIVE_CIPHER_SECRETSTREAM, 1000);
	assert_int_equal(decode(a.p, a.len, key2, 4096, &out, &err), -1);
	assert_non_null(strstr(err, "wrong key"));
	assert_int_equal(out.len, 0);
	free(err);
	assert_int_equal(decode(a.p, a.len, NULL, 4096, &out, &err), -1);
	assert_non_null(strstr(err, "key file is needed"));
	free(err);
	free(a.p);
	free(in);
}

/* A raw plugin stream is told apart from an archive at once. */
static void
test_archive_raw_stream(void **state)
{
	const char	 tar[] = "./\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0ustar";
	struct buf	 out;
	char		*err;

	assert_int_equal(archive_sniff(tar, sizeof tar), 0);
	assert_int_equal(archive_sniff("SHIE", 4), -1);
	assert_int_equal(archive_sniff("SHIELDAR\0\1", 10), 1);
	assert_int_equal(archive_sniff("SHIELDAX", 8), 0);
	assert_int_equal(decode((const uint8_t *)tar, sizeof tar, key, 4096,
	    &out, &err), -1);
	assert_non_null(strstr(err, "not a SHIELD archive"));
	assert_int_equal(out.len, 0);
	free(err);
	assert_int_equal(decode((const uint8_t *)"", 0, key, 1, &out, &err),
	    -1);
	assert_non_null(strstr(err, "not a SHIELD archive"));
	free(err);
}

/* The header survives bytes and JSON; a later version is refused. */
static void
test_archive_header(void **state)
{
	struct archive_header	 h, g;
	uint8_t			*b;
	size_t			 len, adlen, used;
	char			*err = NULL, *json;

	memset(&h, 0, sizeof h);
	h.kind = ARCHIVE_KIND_CATALOG;
	strcpy(h.uuid, "u");
	strcpy(h.store_name, "offsite");
	strcpy(h.store_uuid, "s-uuid");
	h.taken_at = -5;
	h.expires_at = 1 << 30;
	h.cipher = ARCHIVE_CIPHER_SECRETSTREAM;
	h.compression = ARCHIVE_COMPRESSION_ZSTD;
	h.chunk_size = ARCHIVE_CHUNK_MAX;
	strcpy(h.key_id, "0123456789abcdef");
	memset(h.wrapped_key, 7, sizeof h.wrapped_key);
	assert_int_equal(archive_header_encode(&h, &b, &len, &adlen, &err), 0);
	assert_int_equal(len, adlen + ARCHIVE_WRAP_LEN +
	    ARCHIVE_STREAM_HDR_LEN);
	assert_int_equal(archive_header_decode(b, len - 1, &g, &used, &adlen,
	    &err), 0);
	assert_int_equal(archive_header_decode(b, len, &g, &used, &adlen,
	    &err), 1);
	assert_int_equal(used, len);
	g.version = h.version = 1;
	assert_memory_equal(&g, &h, sizeof h);
	json = archive_header_to_json(&g);
	assert_non_null(strstr(json, "\"kind\":\"catalog\""));
	assert_non_null(strstr(json, "\"store_name\":\"offsite\""));
	assert_non_null(strstr(json, "\"taken_at\":-5"));
	assert_non_null(strstr(json, "\"key_id\":\"0123456789abcdef\""));
	memset(&g, 0, sizeof g);
	assert_int_equal(archive_header_from_json(json, &g, &err), 0);
	assert_string_equal(g.store_uuid, "s-uuid");
	assert_int_equal(g.kind, ARCHIVE_KIND_CATALOG);
	assert_int_equal(g.expires_at, 1 << 30);
	free(json);
	assert_int_equal(archive_header_from_json("{\"kind\":\"x\"}", &g,
	    &err), -1);
	free(err);
	assert_int_equal(archive_header_from_json("{\"taken_at\":1.5}", &g,
	    &err), -1);
	free(err);
	assert_int_equal(archive_header_from_json("{\"expires_at\":1e300}",
	    &g, &err), -1);
	free(err);
	b[9] = 2;
	assert_int_equal(archive_header_decode(b, len, &g, &used, &adlen,
	    &err), -1);
	assert_non_null(strstr(err, "version 2"));
	free(err);
	free(b);
}

/* Key files: written 0600, read back, malformed refused; the key id. */
static void
test_archive_key_file(void **state)
{
	char		 dir[] = "/tmp/test_archive.XXXXXX", path[64];
	uint8_t		 k[ARCHIVE_KEY_LEN], r[ARCHIVE_KEY_LEN];
	char		 id[ARCHIVE_KEY_ID_LEN + 1], *err = NULL;
	struct stat	 st;
	FILE		*f;
	size_t		 i;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/key", dir);
	for (i = 0; i < sizeof k; i++)
		k[i] = i;
	assert_int_equal(archive_key_write(path, k, &err), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(st.st_size, 65);
	assert_int_equal(archive_key_read(path, r, &err), 0);
	assert_memory_equal(k, r, sizeof k);
	/* Never over an existing file. */
	assert_int_equal(archive_key_write(path, k, &err), -1);
	free(err);
	/* Independently computed: BLAKE2b-256 keyed, first 8 bytes. */
	archive_key_id(k, id);
	assert_string_equal(id, "670cfcab813b568d");
	memset(k, 0, sizeof k);
	archive_key_id(k, id);
	assert_string_equal(id, "cc4978d8449884f0");
	unlink(path);
	f = fopen(path, "w");
	fputs("00112233\n", f);
	fclose(f);
	assert_int_equal(archive_key_read(path, r, &err), -1);
	assert_non_null(strstr(err, "not a SHIELD key file"));
	free(err);
	unlink(path);
	assert_int_equal(archive_key_read(path, r, &err), -1);
	free(err);
	rmdir(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_archive_round_trip),
		cmocka_unit_test(test_archive_every_flip),
		cmocka_unit_test(test_archive_truncated),
		cmocka_unit_test(test_archive_swapped),
		cmocka_unit_test(test_archive_wrong_key),
		cmocka_unit_test(test_archive_raw_stream),
		cmocka_unit_test(test_archive_header),
		cmocka_unit_test(test_archive_key_file),
	};

	if (sodium_init() < 0)
		return 1;
	randombytes_buf(key, sizeof key);
	randombytes_buf(key2, sizeof key2);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
