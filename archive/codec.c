/*
 * The archive codec.  The encoder compresses the raw stream with zstd
 * (streaming, level 3), cuts the compressed bytes into chunks of
 * chunk_size and seals each: with a cipher, as one message of a libsodium
 * secretstream under a fresh data key; without one, with a BLAKE2b chain
 * hash.  The last frame is the end marker (TAG_FINAL) with the stream's
 * lengths.  The decoder undoes this, failing on the first frame that does
 * not authenticate, and writes a chunk's output only once the frame after
 * it has authenticated.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>
#include <zstd.h>

#include "codec.h"
#include "log.h"
#include "xmalloc.h"

#define CODEC_LEVEL	3
#define CODEC_ABYTES	crypto_secretstream_xchacha20poly1305_ABYTES
#define CODEC_HASH_LEN	32
#define CODEC_TAG_MSG	crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
#define CODEC_TAG_FINAL	crypto_secretstream_xchacha20poly1305_TAG_FINAL
#define CODEC_END_LEN	16	/* raw length, body length */
/* The largest frame: length, tag, a full chunk, and a hash or a MAC. */
#define CODEC_FRAME_MAX(cs) (4 + 1 + (size_t)(cs) + CODEC_HASH_LEN + \
	CODEC_ABYTES)

struct codec_encoder {
	struct archive_header	 hdr;
	codec_write_fn		 write;
	void			*arg;
	crypto_secretstream_xchacha20poly1305_state st;
	uint8_t			 chain[CODEC_HASH_LEN];
	ZSTD_CCtx		*zc;
	uint8_t			*chunk;
	size_t			 fill;
	uint8_t			*frame;
	uint64_t		 raw, body, out;
	int			 failed;
};

struct codec_decoder {
	const uint8_t		*key;
	uint8_t			 keybuf[ARCHIVE_KEY_LEN];
	codec_write_fn		 write;
	void			*arg;
	struct archive_header	 hdr;
	int			 have_hdr, done, failed;
	uint8_t			*hbuf;
	size_t			 hlen;
	crypto_secretstream_xchacha20poly1305_state st;
	uint8_t			 chain[CODEC_HASH_LEN];
	ZSTD_DCtx		*dz;
	size_t			 zret;
	uint8_t			*frame;
	size_t			 flen, fneed;
	uint8_t			*pending, *next, *zout;
	size_t			 plen, zoutlen;
	int			 have_pending;
	uint64_t		 nframes, raw, body, end_raw;
};

/* The chain hash of a plain frame: keyed by the previous one. */
static void
codec_chain(uint8_t chain[CODEC_HASH_LEN], const uint8_t *frame, size_t len)
{
	crypto_generichash(chain, CODEC_HASH_LEN, frame, len, chain,
	    CODEC_HASH_LEN);
}

/* Hand len bytes to the encoder's writer. */
static int
codec_encoder_emit(struct codec_encoder *e, const void *buf, size_t len,
    char **errp)
{
	if (e->write(e->arg, buf, len) == -1) {
		e->failed = 1;
		xasprintf(errp, "write failed");
		return -1;
	}
	e->out += len;
	return 0;
}

/* Seal len bytes as one frame with tag and write it. */
static int
codec_encoder_seal(struct codec_encoder *e, const uint8_t *data, size_t len,
    unsigned char tag, char **errp)
{
	uint8_t		*f = e->frame;
	size_t		 n;

	if (e->hdr.cipher != ARCHIVE_CIPHER_NONE) {
		archive_put_be(f, len + CODEC_ABYTES, 4);
		crypto_secretstream_xchacha20poly1305_push(&e->st, f + 4, NULL,
		    data, len, f, 4, tag);
		n = 4 + len + CODEC_ABYTES;
	} else {
		archive_put_be(f, len, 4);
		f[4] = tag;
		memcpy(f + 5, data, len);
		codec_chain(e->chain, f, 5 + len);
		memcpy(f + 5 + len, e->chain, CODEC_HASH_LEN);
		n = 5 + len + CODEC_HASH_LEN;
	}
	if (tag == CODEC_TAG_MSG)
		e->body += len;
	return codec_encoder_emit(e, f, n, errp);
}

struct codec_encoder *
codec_encoder_new(const struct archive_header *hdr, const uint8_t *key,
    codec_write_fn write, void *arg, char **errp)
{
	struct codec_encoder	*e;
	uint8_t			 dk[ARCHIVE_KEY_LEN], *hb;
	size_t			 hlen, adlen;

	if (sodium_init() < 0) {
		xasprintf(errp, "libsodium failed to initialise");
		return NULL;
	}
	e = xcalloc(1, sizeof *e);
	e->hdr = *hdr;
	e->hdr.version = ARCHIVE_VERSION;
	e->write = write;
	e->arg = arg;
	if (e->hdr.chunk_size == 0)
		e->hdr.chunk_size = ARCHIVE_CHUNK_DEFAULT;
	if (e->hdr.chunk_size < ARCHIVE_CHUNK_MIN ||
	    e->hdr.chunk_size > ARCHIVE_CHUNK_MAX) {
		xasprintf(errp, "chunk size %u is out of range",
		    e->hdr.chunk_size);
		free(e);
		return NULL;
	}
	e->hdr.key_id[0] = '\0';
	if (e->hdr.cipher != ARCHIVE_CIPHER_NONE) {
		if (key == NULL) {
			xasprintf(errp, "encryption needs a key");
			free(e);
			return NULL;
		}
		archive_key_id(key, e->hdr.key_id);
		crypto_secretstream_xchacha20poly1305_keygen(dk);
		crypto_secretstream_xchacha20poly1305_init_push(&e->st,
		    e->hdr.stream_header, dk);
		randombytes_buf(e->hdr.wrapped_key, 24);
	}
	if (archive_header_encode(&e->hdr, &hb, &hlen, &adlen, errp) == -1) {
		sodium_memzero(dk, sizeof dk);
		free(e);
		return NULL;
	}
	if (e->hdr.cipher != ARCHIVE_CIPHER_NONE) {
		/* Wrap the data key with every header byte before it as AD. */
		crypto_aead_xchacha20poly1305_ietf_encrypt(hb + adlen + 24,
		    NULL, dk, sizeof dk, hb, adlen, NULL, hb + adlen, key);
		memcpy(e->hdr.wrapped_key, hb + adlen, ARCHIVE_WRAP_LEN);
		sodium_memzero(dk, sizeof dk);
	} else
		crypto_generichash(e->chain, CODEC_HASH_LEN, hb, hlen, NULL, 0);
	if (e->hdr.compression == ARCHIVE_COMPRESSION_ZSTD) {
		e->zc = ZSTD_createCCtx();
		if (e->zc == NULL)
			fatal("%s: out of memory", __func__);
		ZSTD_CCtx_setParameter(e->zc, ZSTD_c_compressionLevel,
		    CODEC_LEVEL);
	}
	e->chunk = xmalloc(e->hdr.chunk_size);
	e->frame = xmalloc(CODEC_FRAME_MAX(e->hdr.chunk_size));
	if (codec_encoder_emit(e, hb, hlen, errp) == -1) {
		free(hb);
		codec_encoder_free(e);
		return NULL;
	}
	free(hb);
	return e;
}

/* Run zstd over in with mode, sealing every full chunk. */
static int
codec_encoder_zstd(struct codec_encoder *e, ZSTD_inBuffer *in,
    ZSTD_EndDirective mode, char **errp)
{
	ZSTD_outBuffer	out;
	size_t		r;

	do {
		out.dst = e->chunk;
		out.size = e->hdr.chunk_size;
		out.pos = e->fill;
		r = ZSTD_compressStream2(e->zc, &out, in, mode);
		if (ZSTD_isError(r)) {
			e->failed = 1;
			xasprintf(errp, "zstd: %s", ZSTD_getErrorName(r));
			return -1;
		}
		e->fill = out.pos;
		if (e->fill == e->hdr.chunk_size) {
			if (codec_encoder_seal(e, e->chunk, e->fill,
			    CODEC_TAG_MSG, errp) == -1)
				return -1;
			e->fill = 0;
		}
	} while (mode == ZSTD_e_end ? r != 0 : in->pos < in->size);
	return 0;
}

int
codec_encoder_update(struct codec_encoder *e, const void *buf, size_t len,
    char **errp)
{
	ZSTD_inBuffer	in = { buf, len, 0 };
	size_t		n;

	if (e->failed) {
		xasprintf(errp, "encoder failed earlier");
		return -1;
	}
	e->raw += len;
	if (e->zc != NULL)
		return codec_encoder_zstd(e, &in, ZSTD_e_continue, errp);
	while (len > 0) {
		n = e->hdr.chunk_size - e->fill;
		if (n > len)
			n = len;
		memcpy(e->chunk + e->fill, buf, n);
		e->fill += n;
		buf = (const uint8_t *)buf + n;
		len -= n;
		if (e->fill == e->hdr.chunk_size) {
			if (codec_encoder_seal(e, e->chunk, e->fill,
			    CODEC_TAG_MSG, errp) == -1)
				return -1;
			e->fill = 0;
		}
	}
	return 0;
}

int
codec_encoder_finish(struct codec_encoder *e, char **errp)
{
	ZSTD_inBuffer	in = { NULL, 0, 0 };
	uint8_t		end[CODEC_END_LEN];

	if (e->failed) {
		xasprintf(errp, "encoder failed earlier");
		return -1;
	}
	if (e->zc != NULL && codec_encoder_zstd(e, &in, ZSTD_e_end,
	    errp) == -1)
		return -1;
	if (e->fill > 0 && codec_encoder_seal(e, e->chunk, e->fill,
	    CODEC_TAG_MSG, errp) == -1)
		return -1;
	e->fill = 0;
	archive_put_be(end, e->raw, 8);
	archive_put_be(end + 8, e->body, 8);
	return codec_encoder_seal(e, end, sizeof end, CODEC_TAG_FINAL, errp);
}

uint64_t
codec_encoder_raw_size(struct codec_encoder *e)
{
	return e->raw;
}

uint64_t
codec_encoder_size(struct codec_encoder *e)
{
	return e->out;
}

void
codec_encoder_free(struct codec_encoder *e)
{
	if (e == NULL)
		return;
	ZSTD_freeCCtx(e->zc);
	free(e->chunk);
	free(e->frame);
	sodium_memzero(e, sizeof *e);
	free(e);
}

struct codec_decoder *
codec_decoder_new(const uint8_t *key, codec_write_fn write, void *arg)
{
	struct codec_decoder	*d;

	if (sodium_init() < 0)
		fatal("%s: libsodium failed to initialise", __func__);
	d = xcalloc(1, sizeof *d);
	if (key != NULL) {
		memcpy(d->keybuf, key, ARCHIVE_KEY_LEN);
		d->key = d->keybuf;
	}
	d->write = write;
	d->arg = arg;
	d->hbuf = xmalloc(14 + ARCHIVE_FIELDS_MAX + ARCHIVE_WRAP_LEN +
	    ARCHIVE_STREAM_HDR_LEN);
	return d;
}

/* Mark the decoder failed with a message; always -1. */
static int
codec_decoder_fail(struct codec_decoder *d, char **errp, const char *fmt,
    ...) __attribute__((format(printf, 3, 4)));

static int
codec_decoder_fail(struct codec_decoder *d, char **errp, const char *fmt, ...)
{
	va_list	ap;
	char	*s;

	d->failed = 1;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) == -1)
		fatal("%s: out of memory", __func__);
	va_end(ap);
	*errp = s;
	return -1;
}

/* The header has been read: check the key and set up the stream. */
static int
codec_decoder_begin(struct codec_decoder *d, size_t used, size_t adlen,
    char **errp)
{
	char	 id[ARCHIVE_KEY_ID_LEN + 1];
	uint8_t	 dk[ARCHIVE_KEY_LEN];
	int	 r;

	d->have_hdr = 1;
	if (d->hdr.cipher == ARCHIVE_CIPHER_NONE)
		crypto_generichash(d->chain, CODEC_HASH_LEN, d->hbuf, used,
		    NULL, 0);
	else {
		if (d->key == NULL)
			return codec_decoder_fail(d, errp, "the archive is "
			    "encrypted (key id %s): a key file is needed",
			    d->hdr.key_id);
		archive_key_id(d->key, id);
		if (strcmp(id, d->hdr.key_id) != 0)
			return codec_decoder_fail(d, errp, "wrong key: the "
			    "archive was encrypted with key id %s, the key "
			    "given has key id %s", d->hdr.key_id, id);
		if (crypto_aead_xchacha20poly1305_ietf_decrypt(dk, NULL,
		    NULL, d->hdr.wrapped_key + 24, ARCHIVE_WRAP_LEN - 24,
		    d->hbuf, adlen, d->hdr.wrapped_key, d->key) != 0)
			return codec_decoder_fail(d, errp, "the archive "
			    "header failed authentication (corrupt header "
			    "or wrapped data key)");
		r = crypto_secretstream_xchacha20poly1305_init_pull(&d->st,
		    d->hdr.stream_header, dk);
		sodium_memzero(dk, sizeof dk);
		if (r != 0)
			return codec_decoder_fail(d, errp, "bad stream header");
	}
	if (d->hdr.compression == ARCHIVE_COMPRESSION_ZSTD) {
		if ((d->dz = ZSTD_createDCtx()) == NULL)
			fatal("%s: out of memory", __func__);
		d->zoutlen = ZSTD_DStreamOutSize();
		d->zout = xmalloc(d->zoutlen);
	}
	d->frame = xmalloc(CODEC_FRAME_MAX(d->hdr.chunk_size));
	d->pending = xmalloc(d->hdr.chunk_size + CODEC_END_LEN);
	d->next = xmalloc(d->hdr.chunk_size + CODEC_END_LEN);
	d->fneed = 4;
	return 0;
}

/* Write a held-back chunk's output: decompressed if compressed. */
static int
codec_decoder_output(struct codec_decoder *d, const uint8_t *buf, size_t len,
    char **errp)
{
	ZSTD_inBuffer	in = { buf, len, 0 };
	ZSTD_outBuffer	out;
	size_t		before, r;
	int		full = 0;

	if (d->dz == NULL) {
		d->raw += len;
		if (len > 0 && d->write(d->arg, buf, len) == -1)
			return codec_decoder_fail(d, errp, "write failed");
		return 0;
	}
	while (in.pos < in.size || full) {
		out.dst = d->zout;
		out.size = d->zoutlen;
		out.pos = 0;
		before = in.pos;
		r = ZSTD_decompressStream(d->dz, &out, &in);
		if (ZSTD_isError(r))
			return codec_decoder_fail(d, errp, "corrupt compressed "
			    "data: %s", ZSTD_getErrorName(r));
		/*
		 * A call that moved nothing, after a full buffer, says what a
		 * next frame would need: keep the answer of the last real one.
		 */
		if (in.pos == before && out.pos == 0)
			break;
		d->zret = r;
		d->raw += out.pos;
		if (out.pos > 0 && d->write(d->arg, d->zout, out.pos) == -1)
			return codec_decoder_fail(d, errp, "write failed");
		full = out.pos == out.size;
	}
	return 0;
}

/* A whole frame is in d->frame: authenticate it and act on it. */
static int
codec_decoder_frame(struct codec_decoder *d, char **errp)
{
	uint8_t			*f = d->frame, *t;
	unsigned char		 tag;
	unsigned long long	 mlen;
	size_t			 len;
	uint64_t		 raw, body;

	d->nframes++;
	if (d->hdr.cipher != ARCHIVE_CIPHER_NONE) {
		if (crypto_secretstream_xchacha20poly1305_pull(&d->st, d->next,
		    &mlen, &tag, f + 4, d->flen - 4, f, 4) != 0)
			return codec_decoder_fail(d, errp, "chunk %llu failed "
			    "authentication (corrupt, truncated or reordered "
			    "archive)", (unsigned long long)d->nframes);
		len = mlen;
	} else {
		len = d->flen - 5 - CODEC_HASH_LEN;
		tag = f[4];
		codec_chain(d->chain, f, 5 + len);
		if (sodium_memcmp(d->chain, f + 5 + len, CODEC_HASH_LEN) != 0)
			return codec_decoder_fail(d, errp, "chunk %llu failed "
			    "its hash check (corrupt, truncated or reordered "
			    "archive)", (unsigned long long)d->nframes);
		memcpy(d->next, f + 5, len);
	}
	if (tag == CODEC_TAG_MSG) {
		if (len > d->hdr.chunk_size)
			return codec_decoder_fail(d, errp, "chunk %llu is too "
			    "long", (unsigned long long)d->nframes);
		if (d->have_pending && codec_decoder_output(d, d->pending,
		    d->plen, errp) == -1)
			return -1;
		t = d->pending;
		d->pending = d->next;
		d->next = t;
		d->plen = len;
		d->have_pending = 1;
		d->body += len;
		return 0;
	}
	if (tag != CODEC_TAG_FINAL || len != CODEC_END_LEN)
		return codec_decoder_fail(d, errp, "chunk %llu has a bad tag",
		    (unsigned long long)d->nframes);
	raw = archive_get_be(d->next, 8);
	body = archive_get_be(d->next + 8, 8);
	if (body != d->body)
		return codec_decoder_fail(d, errp, "the end marker says %llu "
		    "bytes of data, the archive has %llu",
		    (unsigned long long)body, (unsigned long long)d->body);
	/*
	 * The end is authenticated; the held-back chunk waits for the end
	 * of input, so that bytes after the marker still fail before it.
	 */
	d->end_raw = raw;
	d->done = 1;
	return 0;
}

int
codec_decoder_update(struct codec_decoder *d, const void *data, size_t len,
    char **errp)
{
	const uint8_t	*buf = data;
	size_t		 n, used, adlen, l, max;
	int		 r;

	if (d->failed)
		return codec_decoder_fail(d, errp, "decoder failed earlier");
	while (!d->have_hdr && len > 0) {
		/* One byte at a time is enough: headers are small. */
		n = 14 + ARCHIVE_FIELDS_MAX + ARCHIVE_WRAP_LEN +
		    ARCHIVE_STREAM_HDR_LEN - d->hlen;
		if (n > len)
			n = len;
		if (n > 256)
			n = 256;
		memcpy(d->hbuf + d->hlen, buf, n);
		d->hlen += n;
		r = archive_header_decode(d->hbuf, d->hlen, &d->hdr, &used,
		    &adlen, errp);
		if (r == -1) {
			d->failed = 1;
			return -1;
		}
		if (r == 1) {
			/* Give back what was read past the header. */
			n -= d->hlen - used;
			d->hlen = used;
			if (codec_decoder_begin(d, used, adlen, errp) == -1)
				return -1;
		}
		buf += n;
		len -= n;
	}
	while (len > 0) {
		if (d->done)
			return codec_decoder_fail(d, errp, "data after the "
			    "end marker");
		n = d->fneed - d->flen;
		if (n > len)
			n = len;
		memcpy(d->frame + d->flen, buf, n);
		d->flen += n;
		buf += n;
		len -= n;
		if (d->flen < d->fneed)
			continue;
		if (d->fneed == 4) {
			l = archive_get_be(d->frame, 4);
			if (d->hdr.cipher != ARCHIVE_CIPHER_NONE) {
				max = d->hdr.chunk_size + CODEC_ABYTES;
				d->fneed = 4 + l;
				if (l < CODEC_ABYTES)
					max = 0;
			} else {
				max = d->hdr.chunk_size;
				d->fneed = 4 + 1 + l + CODEC_HASH_LEN;
			}
			if (l > max)
				return codec_decoder_fail(d, errp, "chunk %llu "
				    "has a bad length (corrupt archive)",
				    (unsigned long long)d->nframes + 1);
			continue;
		}
		if (codec_decoder_frame(d, errp) == -1)
			return -1;
		d->flen = 0;
		d->fneed = 4;
	}
	return 0;
}

int
codec_decoder_finish(struct codec_decoder *d, char **errp)
{
	if (d->failed)
		return codec_decoder_fail(d, errp, "decoder failed earlier");
	if (!d->have_hdr) {
		if (d->hlen == 0)
			return codec_decoder_fail(d, errp, "empty input: not "
			    "a SHIELD archive");
		if (d->hlen < ARCHIVE_MAGIC_LEN &&
		    archive_sniff(d->hbuf, d->hlen) == 0)
			return codec_decoder_fail(d, errp, "not a SHIELD "
			    "archive");
		return codec_decoder_fail(d, errp, "the archive is truncated "
		    "inside its header");
	}
	if (!d->done)
		return codec_decoder_fail(d, errp, "the archive is truncated: "
		    "no end marker after chunk %llu",
		    (unsigned long long)d->nframes);
	if (d->have_pending && codec_decoder_output(d, d->pending, d->plen,
	    errp) == -1)
		return -1;
	d->have_pending = 0;
	if (d->dz != NULL && d->zret != 0)
		return codec_decoder_fail(d, errp, "the compressed stream is "
		    "incomplete");
	if (d->end_raw != d->raw)
		return codec_decoder_fail(d, errp, "the end marker says %llu "
		    "bytes of stream, %llu were decoded",
		    (unsigned long long)d->end_raw,
		    (unsigned long long)d->raw);
	return 0;
}

const struct archive_header *
codec_decoder_header(struct codec_decoder *d)
{
	return d->have_hdr ? &d->hdr : NULL;
}

uint64_t
codec_decoder_raw_size(struct codec_decoder *d)
{
	return d->raw;
}

void
codec_decoder_free(struct codec_decoder *d)
{
	if (d == NULL)
		return;
	ZSTD_freeDCtx(d->dz);
	free(d->hbuf);
	free(d->frame);
	if (d->pending != NULL)
		sodium_memzero(d->pending, d->hdr.chunk_size);
	free(d->pending);
	free(d->next);
	free(d->zout);
	sodium_memzero(d, sizeof *d);
	free(d);
}
