/*
 * Streaming encoder and decoder of SHIELD archives (docs/archive-format.md).
 * Both are fed input in pieces of any size and hand their output to a
 * write callback as it is ready, in pieces of at most about one chunk, so a
 * stream of any length runs in bounded memory.
 *
 * The decoder authenticates every chunk before anything from it is
 * written, and holds back the last authenticated chunk until the next one
 * has authenticated too; the final chunk goes out only in
 * codec_decoder_finish(), once the end marker has authenticated and
 * nothing followed it.
 */
#ifndef SHIELD_CODEC_H
#define SHIELD_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "archive.h"

/* Write len bytes somewhere; 0 on success, -1 to stop the codec. */
typedef int (*codec_write_fn)(void *arg, const void *buf, size_t len);

struct codec_encoder;
struct codec_decoder;

/*
 * A new encoder of the archive described by hdr (its compression, cipher
 * and chunk_size, 0 for the default, are used; the key id and wrapped key
 * are filled in from key, which is needed only with a cipher).  It writes
 * the header at once.  NULL with *errp (to free) on failure.
 */
struct codec_encoder *codec_encoder_new(const struct archive_header *hdr,
	    const uint8_t *key, codec_write_fn, void *arg, char **errp);
/* Encode len bytes of the raw stream; -1 with *errp (to free). */
int	codec_encoder_update(struct codec_encoder *, const void *buf,
	    size_t len, char **errp);
/* Flush and write the end marker; -1 with *errp (to free). */
int	codec_encoder_finish(struct codec_encoder *, char **errp);
/* Bytes of raw stream in and of archive out so far. */
uint64_t codec_encoder_raw_size(struct codec_encoder *);
uint64_t codec_encoder_size(struct codec_encoder *);
void	codec_encoder_free(struct codec_encoder *);

/*
 * A new decoder; key (32 bytes) may be NULL, and then only archives
 * without a cipher decode.
 */
struct codec_decoder *codec_decoder_new(const uint8_t *key, codec_write_fn,
	    void *arg);
/*
 * Decode len bytes of archive.  -1 with *errp (to free) on any failure:
 * not an archive, bad header, wrong key, a chunk that fails
 * authentication, bad compressed data, data after the end marker, or the
 * write callback failing.  After a failure the decoder only fails.
 */
int	codec_decoder_update(struct codec_decoder *, const void *buf,
	    size_t len, char **errp);
/*
 * At end of input: write the held-back final chunk if the end marker was
 * verified and nothing followed it, and 0; else -1 with *errp (to free).
 */
int	codec_decoder_finish(struct codec_decoder *, char **errp);
/* The header once it has been read, else NULL. */
const struct archive_header *codec_decoder_header(struct codec_decoder *);
/* Bytes of raw stream written so far. */
uint64_t codec_decoder_raw_size(struct codec_decoder *);
void	codec_decoder_free(struct codec_decoder *);

#endif
