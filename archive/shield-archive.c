/*
 * shield-archive: the offline tool for SHIELD archives.  It needs no daemon
 * and no catalog: inspect prints an archive's header, decode and verify
 * check every chunk with the key file, and encode turns a raw plugin stream
 * into an archive (the daemon runs it as the codec stage of a backup).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "archive.h"
#include "codec.h"
#include "id.h"
#include "log.h"
#include "xmalloc.h"

#define IO_SIZE	(1024 * 1024)

static const char usage_text[] =
"usage: shield-archive inspect FILE|-\n"
"       shield-archive decode [--key-file K] FILE|-\n"
"       shield-archive verify [--key-file K] FILE|-\n"
"       shield-archive encode [--key-file K] --header-json JSON|@FILE\n"
"                             [--compression zstd|none] [--encryption on|off]\n"
"                             [--chunk-size BYTES]\n";

static const char help_text[] =
"\n"
"Read and write SHIELD archives (docs/archive-format.md) without a daemon\n"
"or a catalog.  A stored blob and the master key file are enough to get a\n"
"backup back by hand:\n"
"\n"
"    shield-archive decode --key-file shield.db.key BLOB |\n"
"        fs restore --endpoint '{\"base_dir\": \"/srv/data\"}'\n"
"\n"
"COMMANDS\n"
"  inspect FILE|-   Print the archive's header as one JSON object: format,\n"
"                   version, kind, uuid, target_plugin, job_name, job_uuid,\n"
"                   target_name, target_uuid, store_name, store_uuid,\n"
"                   taken_at, expires_at (UTC seconds), compression, cipher,\n"
"                   encryption, key_id, chunk_size.  Needs no key.\n"
"  decode FILE|-    Write the plugin's original stream to standard output.\n"
"                   Every chunk is authenticated before any of it is\n"
"                   written, and the last chunk is held back until the\n"
"                   end marker has authenticated and nothing follows it,\n"
"                   so a truncated or corrupt archive never yields a\n"
"                   complete-looking stream.  On any failure a message\n"
"                   goes to standard error and the exit status is 1.\n"
"  verify FILE|-    Decode without writing: exit 0 only if the whole\n"
"                   archive authenticates and decompresses.\n"
"  encode           Read a raw plugin stream on standard input and write an\n"
"                   archive to standard output.\n"
"\n"
"OPTIONS\n"
"  --key-file K     The master key file: 64 hexadecimal characters (32\n"
"                   random bytes) and a newline, as shieldd writes it\n"
"                   beside its catalog (<catalog>.key).  Needed to decode\n"
"                   or verify an encrypted archive and to encode with\n"
"                   encryption on.  A key file that group or others can\n"
"                   read is used, with a warning.\n"
"  --header-json JSON|@FILE\n"
"                   encode: the header fields, as inspect prints them (kind,\n"
"                   uuid, target_plugin, job_name, job_uuid, target_name,\n"
"                   target_uuid, store_name, store_uuid, taken_at,\n"
"                   expires_at); @FILE reads them from FILE.  A missing uuid\n"
"                   is generated, a missing taken_at is now.\n"
"  --compression zstd|none\n"
"                   encode: compress with zstd level 3 (the default) or not.\n"
"  --encryption on|off\n"
"                   encode: encrypt (the default; needs --key-file) or only\n"
"                   hash each chunk.\n"
"  --chunk-size BYTES\n"
"                   encode: bytes of data per chunk, 65536 to 1048576\n"
"                   (default 262144).\n"
"  -h, --help       Show this help.\n"
"\n"
"FILE may be - for standard input.  A file without the SHIELDAR magic is\n"
"reported as \"not a SHIELD archive\": archives made before the format are\n"
"the plugin's raw stream and restore as they are.\n"
"\n"
"EXIT STATUS\n"
"  0 success, 1 an archive that is not one, is corrupt, truncated, made\n"
"  with another key or cannot be read or written, 2 a usage error.\n"
"\n"
"SEE ALSO\n"
"  docs/archive-format.md in the SHIELD sources (the format byte by byte),\n"
"  shieldd --help, shield --help.\n";

static int
usage(void)
{
	fputs(usage_text, stderr);
	return 2;
}

/* Write all of buf to fd; -1 on error. */
static int
write_all(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = write(fd, p, len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

static int
write_stdout_cb(void *arg, const void *buf, size_t len)
{
	return write_all(STDOUT_FILENO, buf, len);
}

static int
write_nowhere_cb(void *arg, const void *buf, size_t len)
{
	return 0;
}

/* Read up to len bytes; 0 at end, -1 on error. */
static ssize_t
read_some(int fd, void *buf, size_t len)
{
	ssize_t	n;

	do
		n = read(fd, buf, len);
	while (n == -1 && errno == EINTR);
	return n;
}

static int
open_input(const char *path)
{
	int	fd;

	if (strcmp(path, "-") == 0)
		return STDIN_FILENO;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		log_error("%s: %s", path, strerror(errno));
	return fd;
}

static int
cmd_inspect(const char *path)
{
	struct archive_header	 hdr;
	uint8_t			*buf;
	size_t			 len = 0, cap, used, adlen;
	ssize_t			 n;
	char			*err = NULL, *json;
	int			 fd, r = 0;

	if ((fd = open_input(path)) == -1)
		return 1;
	cap = 14 + ARCHIVE_FIELDS_MAX + ARCHIVE_WRAP_LEN +
	    ARCHIVE_STREAM_HDR_LEN;
	buf = xmalloc(cap);
	while (len < cap && (n = read_some(fd, buf + len, cap - len)) > 0) {
		len += n;
		if ((r = archive_header_decode(buf, len, &hdr, &used, &adlen,
		    &err)) != 0)
			break;
	}
	free(buf);
	if (r != 1) {
		log_error("%s: %s", path, err != NULL ? err :
		    len == 0 ? "empty input: not a SHIELD archive" :
		    "truncated inside its header");
		free(err);
		return 1;
	}
	json = archive_header_to_json(&hdr);
	printf("%s\n", json);
	free(json);
	return fflush(stdout) == 0 ? 0 : 1;
}

static int
cmd_decode(const char *path, const uint8_t *key, int write_out)
{
	struct codec_decoder	*d;
	uint8_t			*buf;
	ssize_t			 n;
	char			*err = NULL;
	int			 fd, rc = 1;

	if ((fd = open_input(path)) == -1)
		return 1;
	d = codec_decoder_new(key, write_out ? write_stdout_cb :
	    write_nowhere_cb, NULL);
	buf = xmalloc(IO_SIZE);
	while ((n = read_some(fd, buf, IO_SIZE)) > 0) {
		if (codec_decoder_update(d, buf, n, &err) == -1)
			goto out;
	}
	if (n == -1) {
		xasprintf(&err, "read: %s", strerror(errno));
		goto out;
	}
	if (codec_decoder_finish(d, &err) == -1)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		log_error("%s: %s", path, err);
	free(err);
	free(buf);
	codec_decoder_free(d);
	if (fd != STDIN_FILENO)
		close(fd);
	return rc;
}

/* The --header-json argument: inline JSON or @FILE. */
static char *
header_json_text(const char *arg)
{
	FILE	*f;
	char	*s;
	size_t	 len;

	if (arg[0] != '@')
		return xstrdup(arg);
	if ((f = fopen(arg + 1, "r")) == NULL) {
		log_error("%s: %s", arg + 1, strerror(errno));
		return NULL;
	}
	s = xmalloc(ARCHIVE_FIELDS_MAX + 1);
	len = fread(s, 1, ARCHIVE_FIELDS_MAX, f);
	s[len] = '\0';
	fclose(f);
	return s;
}

static int
cmd_encode(const char *header_json, const uint8_t *key,
    enum archive_compression comp, int encrypt, uint32_t chunk_size)
{
	struct archive_header	 hdr;
	struct codec_encoder	*e;
	uint8_t			*buf;
	ssize_t			 n;
	char			*text, *err = NULL;
	int			 rc = 1;

	memset(&hdr, 0, sizeof hdr);
	hdr.taken_at = time(NULL);
	if ((text = header_json_text(header_json)) == NULL)
		return 1;
	if (archive_header_from_json(text, &hdr, &err) == -1) {
		log_error("%s", err);
		free(err);
		free(text);
		return 1;
	}
	free(text);
	if (hdr.uuid[0] == '\0') {
		id_buf id;

		id_new(id);
		strcpy(hdr.uuid, id);
	}
	hdr.compression = comp;
	hdr.cipher = encrypt ? ARCHIVE_CIPHER_SECRETSTREAM : ARCHIVE_CIPHER_NONE;
	hdr.chunk_size = chunk_size;
	if ((e = codec_encoder_new(&hdr, key, write_stdout_cb, NULL,
	    &err)) == NULL) {
		log_error("%s", err);
		free(err);
		return 1;
	}
	buf = xmalloc(IO_SIZE);
	while ((n = read_some(STDIN_FILENO, buf, IO_SIZE)) > 0) {
		if (codec_encoder_update(e, buf, n, &err) == -1)
			goto out;
	}
	if (n == -1) {
		xasprintf(&err, "read: %s", strerror(errno));
		goto out;
	}
	if (codec_encoder_finish(e, &err) == -1)
		goto out;
	rc = 0;
out:
	if (rc != 0)
		log_error("encode: %s", err);
	free(err);
	free(buf);
	codec_encoder_free(e);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key-file", required_argument, NULL, 'k' },
		{ "header-json", required_argument, NULL, 'j' },
		{ "compression", required_argument, NULL, 'c' },
		{ "encryption", required_argument, NULL, 'e' },
		{ "chunk-size", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	enum archive_compression comp = ARCHIVE_COMPRESSION_ZSTD;
	const char	*cmd, *key_file = NULL, *header_json = NULL;
	uint8_t		 key[ARCHIVE_KEY_LEN];
	char		*err = NULL, *end;
	unsigned long	 chunk = 0;
	int		 ch, encrypt = 1, rc;

	log_init(LOG_LEVEL_INFO, "shield-archive");
	signal(SIGPIPE, SIG_IGN);
	if (sodium_init() < 0)
		fatal("libsodium failed to initialise");
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'k':
			key_file = optarg;
			break;
		case 'j':
			header_json = optarg;
			break;
		case 'c':
			if (archive_compression_parse(optarg, &comp) == -1)
				return usage();
			break;
		case 'e':
			if (strcmp(optarg, "on") != 0 &&
			    strcmp(optarg, "off") != 0)
				return usage();
			encrypt = strcmp(optarg, "on") == 0;
			break;
		case 's':
			errno = 0;
			chunk = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' ||
			    chunk < ARCHIVE_CHUNK_MIN ||
			    chunk > ARCHIVE_CHUNK_MAX)
				return usage();
			break;
		case 'h':
			fputs(usage_text, stdout);
			fputs(help_text, stdout);
			return 0;
		default:
			return usage();
		}
	}
	if (optind >= argc)
		return usage();
	cmd = argv[optind++];
	if (key_file != NULL && archive_key_read(key_file, key, &err) == -1) {
		log_error("%s", err);
		free(err);
		return 1;
	}
	if (strcmp(cmd, "encode") == 0) {
		if (optind != argc || header_json == NULL)
			return usage();
		if (encrypt && key_file == NULL) {
			log_error("encode: encryption on needs --key-file");
			return 2;
		}
		rc = cmd_encode(header_json, key, comp, encrypt, chunk);
	} else if (optind + 1 != argc)
		return usage();
	else if (strcmp(cmd, "inspect") == 0)
		rc = cmd_inspect(argv[optind]);
	else if (strcmp(cmd, "decode") == 0 || strcmp(cmd, "verify") == 0)
		rc = cmd_decode(argv[optind], key_file != NULL ? key : NULL,
		    strcmp(cmd, "decode") == 0);
	else
		return usage();
	sodium_memzero(key, sizeof key);
	return rc;
}
