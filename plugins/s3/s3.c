/*
 * The s3 store plugin: keeps backup archives as objects in an S3 bucket
 * (AWS, MinIO, Ceph RADOS Gateway, ...).  Requests are signed with SigV4 by
 * libcurl; every request body is buffered, so each one carries its real
 * Content-Length and SHA-256, which S3 checks.
 *
 * store reads a stream of unknown length: a stream shorter than one part is
 * sent with a single PUT, a longer one as a multipart upload whose part size
 * grows (s3util_part_size) so that 10,000 parts hold terabytes.  One part
 * is held in memory at a time.  Failed requests are retried with backoff; an
 * upload that cannot finish is aborted so no parts are left behind.  Success
 * is claimed only when a HEAD of the finished object reports exactly the
 * number of bytes read from stdin.
 *
 * The secret key only ever goes to libcurl (CURLOPT_PASSWORD); messages are
 * redacted in case a server echoes it.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <curl/curl.h>
#include <openssl/evp.h>
#include <uuid/uuid.h>

#include "plugin.h"
#include "s3util.h"

/* Tries per request, and for the abort that cleans up after a failure:
 * leaving parts behind costs the user money, so it tries longer. */
#define S3_TRIES		5
#define S3_ABORT_TRIES		8
/* Response bodies kept for errors and XML answers. */
#define S3_BODY_MAX		(1024 * 1024)
/* A stalled transfer (under 1 byte/s for this long) is a timeout. */
#define S3_STALL_SECONDS	120L

/* Set by SIGTERM or SIGINT: the task was canceled. */
static volatile sig_atomic_t s3_stop;

/* A growable byte buffer. */
struct s3_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

/* One bucket and how to reach it. */
struct s3 {
	CURL			*curl;
	struct s3util_addr	 addr;
	const char		*access;
	const char		*secret;
	const char		*prefix;
	char			 sigv4[128];
	int			 verify_tls;
	uint64_t		 part_size;
	long			 connect_timeout;	/* seconds */
	long			 max_time;	/* seconds, 0: none */
};

/* One request, retried as a whole, and what came back for it. */
struct s3_req {
	const char	*method;
	const char	*what;		/* for messages */
	char		*url;		/* owned */
	const char	*body;		/* PUT and POST */
	size_t		 body_len;
	size_t		 body_off;
	const char	*content_type;
	int		 to_stdout;	/* a 2xx body goes to fd 1 */
	unsigned	 tries;
	int		 finish;	/* run even after a cancel */
	char		 sha256[65];

	CURL		*curl;
	CURLcode	 cc;
	long		 status;
	char		 curlerr[CURL_ERROR_SIZE];
	struct s3_buf	 resp;
	char		 etag[256];
	uint64_t	 length;	/* Content-Length answered */
	int		 has_length;
	char		 code[128];
	char		 message[512];

	uint64_t	 out_done;	/* bytes written to stdout so far */
	uint64_t	 out_start;	/* where a 206 body begins */
	uint64_t	 out_recv;	/* body bytes received in this try */
	int		 out_errno;	/* a failed write to stdout */
};

static const struct plugin_field s3_fields[] = {
	{ "access_key_id", "string", 1, NULL,
	  "Access key ID of the account or user that owns the bucket.",
	  NULL, "Access key ID" },
	{ "secret_access_key", "password", 1, NULL,
	  "Secret access key belonging to access_key_id.",
	  NULL, "Secret access key" },
	{ "bucket", "string", 1, NULL,
	  "Bucket to store archives in; it must exist.",
	  NULL, "Bucket" },
	{ "prefix", "string", 0, NULL,
	  "Key prefix: archives are stored as "
	  "PREFIX/YYYY/MM/DD/<time>-<uuid>.",
	  NULL, "Key prefix" },
	{ "region", "string", 0, "us-east-1",
	  "Region used in the SigV4 signature (MinIO and Ceph RGW accept "
	  "us-east-1 unless configured otherwise).",
	  NULL, "Region" },
	{ "s3_host", "string", 0, "s3.amazonaws.com",
	  "Host name of the S3 service, without scheme or port, e.g. "
	  "s3.eu-west-1.amazonaws.com, minio.example.com.",
	  NULL, "S3 host" },
	{ "s3_port", "port", 0, NULL,
	  "TCP port; 443 with use_ssl, else 80.",
	  NULL, "Port" },
	{ "use_ssl", "bool", 0, "true",
	  "Talk HTTPS (true) or plain HTTP (false).",
	  NULL, "Use HTTPS" },
	{ "skip_ssl_validation", "bool", 0, "false",
	  "Accept any TLS certificate.  Only for test setups with "
	  "self-signed certificates.",
	  NULL, "Skip TLS certificate check" },
	{ "part_size", "string", 0, "16M",
	  "Size of the first upload parts, at least 5M and at most 5G; it "
	  "doubles every 1,000 parts.  A part is held in memory.",
	  NULL, "Upload part size" },
	{ "path_style", "bool", 0, "false",
	  "Address the bucket as HOST/BUCKET/KEY (MinIO, Ceph RGW without "
	  "a DNS wildcard) instead of BUCKET.HOST/KEY.",
	  NULL, "Path-style addressing" },
	{ NULL, NULL, 0, NULL, NULL, NULL, NULL },
};

/* Grow a buffer to hold at least `want` bytes plus a NUL; -1 if too big. */
static int
s3_buf_reserve(struct s3_buf *b, size_t want)
{
	size_t cap;
	char *p;

	if (want + 1 <= b->cap)
		return 0;
	cap = b->cap > 0 ? b->cap : 256;
	while (cap < want + 1)
		cap *= 2;
	if ((p = realloc(b->data, cap)) == NULL)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

/* Append bytes, keeping the buffer NUL-terminated. */
static int
s3_buf_add(struct s3_buf *b, const char *p, size_t n)
{
	if (s3_buf_reserve(b, b->len + n) != 0)
		return -1;
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

/* Append formatted text. */
static int __attribute__((format(printf, 2, 3)))
s3_buf_printf(struct s3_buf *b, const char *fmt, ...)
{
	va_list ap;
	char *s;
	int n, rc;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -1;
	rc = s3_buf_add(b, s, (size_t)n);
	free(s);
	return rc;
}

/* Free a buffer's storage. */
static void
s3_buf_free(struct s3_buf *b)
{
	free(b->data);
	memset(b, 0, sizeof *b);
}

/* Hex SHA-256 of a body; SigV4 signs it and S3 checks it. */
static void
s3_sha256_hex(const char *p, size_t n, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0, i;

	if (EVP_Digest(p != NULL ? p : "", n, md, &mdlen, EVP_sha256(),
	    NULL) != 1 || mdlen != 32) {
		/* Unreachable with a working libcrypto; S3 will refuse. */
		snprintf(out, 65, "UNSIGNED-PAYLOAD");
		return;
	}
	for (i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

/* Report an error with the secret masked. */
static void __attribute__((format(printf, 2, 3)))
s3_error(const struct s3 *s, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	va_end(ap);
	if (msg == NULL) {
		plugin_error("out of memory");
		return;
	}
	s3util_redact(msg, s->secret);
	plugin_error("%s", msg);
	free(msg);
}

/* Describe why a request failed, secret masked. */
static void
s3_why(const struct s3 *s, const struct s3_req *r, char *buf, size_t len)
{
	if (r->out_errno != 0)
		snprintf(buf, len, "writing standard output: %s",
		    strerror(r->out_errno));
	else if (r->cc == CURLE_ABORTED_BY_CALLBACK)
		snprintf(buf, len, "canceled");
	else if (r->cc != CURLE_OK)
		snprintf(buf, len, "%s", r->curlerr[0] != '\0' ?
		    r->curlerr : curl_easy_strerror(r->cc));
	else if (r->code[0] != '\0' && r->message[0] != '\0')
		snprintf(buf, len, "HTTP %ld %s: %s", r->status, r->code,
		    r->message);
	else if (r->code[0] != '\0')
		snprintf(buf, len, "HTTP %ld %s", r->status, r->code);
	else
		snprintf(buf, len, "HTTP %ld", r->status);
	s3util_redact(buf, s->secret);
}

/* Keep the ETag and Content-Length headers of the answer. */
static size_t
s3_header_cb(char *p, size_t size, size_t n, void *arg)
{
	struct s3_req *r = arg;
	size_t len = size * n, vlen;
	const char *v;

	if (len > 5 && strncasecmp(p, "HTTP/", 5) == 0) {
		/* A new response (after 100 Continue): forget the last. */
		r->etag[0] = '\0';
		r->has_length = 0;
		return len;
	}
	if ((v = memchr(p, ':', len)) == NULL)
		return len;
	v++;
	while (v < p + len && (*v == ' ' || *v == '\t'))
		v++;
	vlen = (size_t)(p + len - v);
	while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' ||
	    v[vlen - 1] == ' '))
		vlen--;
	if (len > 5 && strncasecmp(p, "etag:", 5) == 0) {
		if (vlen >= sizeof r->etag)
			vlen = sizeof r->etag - 1;
		memcpy(r->etag, v, vlen);
		r->etag[vlen] = '\0';
	} else if (len > 15 && strncasecmp(p, "content-length:", 15) == 0) {
		char num[32];

		if (vlen < sizeof num) {
			memcpy(num, v, vlen);
			num[vlen] = '\0';
			r->length = strtoull(num, NULL, 10);
			r->has_length = 1;
		}
	}
	return len;
}

/* Write a whole buffer to stdout; 0 or an errno. */
static int
s3_write_all(const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(STDOUT_FILENO, p, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Take a piece of the response body.  A successful GET goes straight to
 * stdout; when a retry resumes with a Range request, bytes already written
 * are skipped (a server ignoring Range answers 200 from byte 0).  Anything
 * else is kept, up to a limit, for error messages and XML parsing.
 */
static size_t
s3_write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct s3_req *r = arg;
	size_t len = size * n, skip;
	uint64_t pos;
	long status = 0;

	curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &status);
	if (r->to_stdout && (status == 200 || status == 206)) {
		pos = (status == 206 ? r->out_start : 0) + r->out_recv;
		r->out_recv += len;
		if (pos + len <= r->out_done)
			return len;
		skip = pos < r->out_done ? (size_t)(r->out_done - pos) : 0;
		if (pos > r->out_done) {
			/* A gap: the server did not resume where asked. */
			r->out_errno = EIO;
			return 0;
		}
		if ((r->out_errno = s3_write_all(p + skip, len - skip)) != 0)
			return 0;
		r->out_done += len - skip;
		return len;
	}
	if (r->resp.len + len <= S3_BODY_MAX &&
	    s3_buf_add(&r->resp, p, len) != 0)
		return 0;
	return len;
}

/* Feed a PUT body to curl. */
static size_t
s3_read_cb(char *p, size_t size, size_t n, void *arg)
{
	struct s3_req *r = arg;
	size_t len = size * n;

	if (len > r->body_len - r->body_off)
		len = r->body_len - r->body_off;
	memcpy(p, r->body + r->body_off, len);
	r->body_off += len;
	return len;
}

/* Rewind a PUT body, which curl needs when it must resend it. */
static int
s3_seek_cb(void *arg, curl_off_t off, int origin)
{
	struct s3_req *r = arg;

	if (origin != SEEK_SET || off < 0 || (size_t)off > r->body_len)
		return CURL_SEEKFUNC_FAIL;
	r->body_off = (size_t)off;
	return CURL_SEEKFUNC_OK;
}

/* Stop a transfer when the task is canceled, unless it must finish. */
static int
s3_progress_cb(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct s3_req *r = arg;

	return s3_stop && !r->finish;
}

/* 1 for transport failures that another try may cure. */
static int
s3_curl_retryable(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return 1;
	default:
		return 0;
	}
}

/* Make one try of a request. */
static void
s3_attempt(struct s3 *s, struct s3_req *r)
{
	struct curl_slist *h = NULL, *t;
	char line[512];
	CURL *c = s->curl;
	int bad = 0;

	curl_easy_reset(c);
	r->curl = c;
	r->cc = CURLE_OK;
	r->status = 0;
	r->curlerr[0] = r->etag[0] = r->code[0] = r->message[0] = '\0';
	r->resp.len = 0;
	r->has_length = 0;
	r->length = 0;
	r->body_off = 0;
	r->out_start = r->out_done;
	r->out_recv = 0;

	snprintf(line, sizeof line, "x-amz-content-sha256: %s", r->sha256);
	bad |= (t = curl_slist_append(h, line)) == NULL;
	h = t != NULL ? t : h;
	if (r->content_type != NULL) {
		snprintf(line, sizeof line, "Content-Type: %s",
		    r->content_type);
		bad |= (t = curl_slist_append(h, line)) == NULL;
		h = t != NULL ? t : h;
	}
	if (r->to_stdout && r->out_done > 0) {
		snprintf(line, sizeof line, "Range: bytes=%" PRIu64 "-",
		    r->out_done);
		bad |= (t = curl_slist_append(h, line)) == NULL;
		h = t != NULL ? t : h;
	}
	if (bad) {
		curl_slist_free_all(h);
		r->cc = CURLE_OUT_OF_MEMORY;
		return;
	}

	curl_easy_setopt(c, CURLOPT_URL, r->url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_AWS_SIGV4, s->sigv4);
	curl_easy_setopt(c, CURLOPT_USERNAME, s->access);
	curl_easy_setopt(c, CURLOPT_PASSWORD, s->secret);
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, CURL_HTTP_VERSION_1_1);
	/* Keys are encoded by us and signed as sent: no dot-segment games. */
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, s->verify_tls ? 1L : 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, s->verify_tls ? 2L : 0L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, s->connect_timeout);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, s->max_time);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, S3_STALL_SECONDS);
	curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->curlerr);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, s3_header_cb);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, s3_write_cb);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, s3_progress_cb);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, r);
	if (strcmp(r->method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (strcmp(r->method, "PUT") == 0) {
		curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE,
		    (curl_off_t)r->body_len);
		curl_easy_setopt(c, CURLOPT_READFUNCTION, s3_read_cb);
		curl_easy_setopt(c, CURLOPT_READDATA, r);
		curl_easy_setopt(c, CURLOPT_SEEKFUNCTION, s3_seek_cb);
		curl_easy_setopt(c, CURLOPT_SEEKDATA, r);
	} else if (strcmp(r->method, "POST") == 0) {
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS,
		    r->body != NULL ? r->body : "");
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)r->body_len);
	} else if (strcmp(r->method, "GET") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, r->method);

	r->cc = curl_easy_perform(c);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	/* Forget the pointers into the request before it goes away. */
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, NULL);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	if (r->cc == CURLE_OK && r->resp.len > 0)
		s3util_error_parse(r->resp.data, r->resp.len, r->code,
		    sizeof r->code, r->message, sizeof r->message);
}

/* 1 if the last try of a request succeeded. */
static int
s3_req_ok(const struct s3_req *r)
{
	return r->cc == CURLE_OK && r->status >= 200 && r->status < 300 &&
	    r->code[0] == '\0';
}

/* Sleep for some milliseconds. */
static void
s3_sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (!s3_stop && nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/*
 * Run a request, retrying with backoff while the failure looks temporary.
 * 0 when it ended in a 2xx without an S3 error; -1 otherwise, with the
 * outcome of the last try left in r for the caller to judge and report.
 */
static int
s3_request(struct s3 *s, struct s3_req *r)
{
	char why[768];
	unsigned attempt, ms;

	s3_sha256_hex(r->body, r->body_len, r->sha256);
	for (attempt = 1;; attempt++) {
		s3_attempt(s, r);
		if (s3_req_ok(r))
			return 0;
		if (r->out_errno != 0 || attempt >= r->tries ||
		    (s3_stop && !r->finish))
			return -1;
		if (r->cc != CURLE_OK ? !s3_curl_retryable(r->cc) :
		    !s3util_http_retryable(r->status, r->code))
			return -1;
		ms = s3util_backoff_ms(attempt + 1);
		s3_why(s, r, why, sizeof why);
		plugin_info("%s: %s; trying again in %.1f s (%u of %u)",
		    r->what, why, ms / 1000.0, attempt + 1, r->tries);
		s3_sleep_ms(ms);
	}
}

/* Set up a request for an object (key) or the bucket (key NULL). */
static int
s3_req_init(struct s3 *s, struct s3_req *r, const char *method,
    const char *what, const char *key, const char *query)
{
	memset(r, 0, sizeof *r);
	r->method = method;
	r->what = what;
	r->tries = S3_TRIES;
	if ((r->url = s3util_url(&s->addr, key, query)) == NULL) {
		plugin_error("out of memory");
		return -1;
	}
	return 0;
}

/* Release what a request holds. */
static void
s3_req_free(struct s3_req *r)
{
	free(r->url);
	s3_buf_free(&r->resp);
	r->url = NULL;
}

/* Report a failed request as "WHAT failed: WHY". */
static void
s3_req_report(struct s3 *s, const struct s3_req *r)
{
	char why[768];

	s3_why(s, r, why, sizeof why);
	s3_error(s, "%s failed: %s", r->what, why);
}

/*
 * Read the endpoint into s and check it; every problem is reported.  Returns
 * 0 when usable.  Strings in s point into the endpoint.
 */
static int
s3_config(struct s3 *s, const cJSON *ep)
{
	const char *region, *host, *psize, *why;
	struct in_addr in4;
	long long port;
	int bad = 0;

	memset(s, 0, sizeof *s);
	s->access = plugin_ep_string(ep, "access_key_id", "");
	s->secret = plugin_ep_string(ep, "secret_access_key", "");
	s->prefix = plugin_ep_string(ep, "prefix", "");
	s->addr.bucket = plugin_ep_string(ep, "bucket", "");
	s->addr.use_ssl = plugin_ep_bool(ep, "use_ssl", 1);
	s->addr.path_style = plugin_ep_bool(ep, "path_style", 0);
	s->verify_tls = !plugin_ep_bool(ep, "skip_ssl_validation", 0);
	s->connect_timeout = 10;
	region = plugin_ep_string(ep, "region", "us-east-1");
	host = plugin_ep_string(ep, "s3_host", "s3.amazonaws.com");
	psize = plugin_ep_string(ep, "part_size", "16M");

	if (s->access[0] == '\0' || s->secret[0] == '\0' ||
	    s->addr.bucket[0] == '\0')
		bad = 1;	/* already reported by the field checks */
	if (region[0] == '\0' || strpbrk(region, ": /") != NULL) {
		plugin_error("region must be a region name such as "
		    "us-east-1");
		bad = 1;
	}
	if (host[0] == '\0' || strpbrk(host, "/:@ ?#") != NULL) {
		plugin_error("s3_host must be a bare host name: put the port "
		    "in s3_port and choose http or https with use_ssl");
		bad = 1;
	}
	s->addr.host = host;
	if (!s->addr.path_style && inet_pton(AF_INET, host, &in4) == 1) {
		plugin_error("s3_host is an IP address: set path_style to "
		    "true, the bucket cannot go in front of it");
		bad = 1;
	}
	port = plugin_ep_int(ep, "s3_port", 0);
	if (port < 0 || port > 65535) {
		plugin_error("s3_port must be between 1 and 65535");
		bad = 1;
	}
	s->addr.port = (unsigned)(port > 0 && port <= 65535 ? port : 0);
	if (s3util_size_parse(psize, &s->part_size) != 0) {
		plugin_error("part_size must be a size such as 16M or "
		    "16777216");
		bad = 1;
	} else if (s->part_size < S3UTIL_PART_MIN) {
		plugin_error("part_size must be at least 5M (S3 refuses "
		    "smaller parts)");
		bad = 1;
	} else if (s->part_size > S3UTIL_PART_MAX) {
		plugin_error("part_size must be at most 5G (S3's largest "
		    "part)");
		bad = 1;
	}
	if (s->addr.bucket[0] != '\0' &&
	    (why = s3util_bucket_check(s->addr.bucket,
	    s->addr.path_style)) != NULL) {
		plugin_error("bucket %s", why);
		bad = 1;
	}
	if ((size_t)snprintf(s->sigv4, sizeof s->sigv4, "aws:amz:%s:s3",
	    region) >= sizeof s->sigv4) {
		plugin_error("region is too long");
		bad = 1;
	}
	return bad ? -1 : 0;
}

/* Check the endpoint and get a curl handle; 0 when ready. */
static int
s3_open(struct s3 *s, const cJSON *ep)
{
	if (s3_config(s, ep) != 0)
		return -1;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (s->curl = curl_easy_init()) == NULL) {
		plugin_error("cannot initialize libcurl");
		return -1;
	}
	return 0;
}

/* Release the curl handle. */
static void
s3_close(struct s3 *s)
{
	if (s->curl != NULL) {
		curl_easy_cleanup(s->curl);
		s->curl = NULL;
		curl_global_cleanup();
	}
}

/* Read until len bytes or EOF; the count read, or -1 on error (reported). */
static ssize_t
s3_read_full(int fd, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n;

	while (got < len) {
		n = read(fd, buf + got, len - got);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR && !s3_stop)
				continue;
			if (s3_stop)
				plugin_error("canceled");
			else
				plugin_error("reading standard input: %s",
				    strerror(errno));
			return -1;
		}
		got += (size_t)n;
	}
	return (ssize_t)got;
}

/* Upload a whole (short) stream with one PUT. */
static int
s3_put(struct s3 *s, const char *key, const char *buf, size_t len)
{
	struct s3_req r;
	int rc;

	if (s3_req_init(s, &r, "PUT", "upload", key, NULL) != 0)
		return -1;
	r.body = buf;
	r.body_len = len;
	if ((rc = s3_request(s, &r)) != 0)
		s3_req_report(s, &r);
	s3_req_free(&r);
	return rc;
}

/* Start a multipart upload; the upload id is returned in id. */
static int
s3_mp_create(struct s3 *s, const char *key, char *id, size_t idlen)
{
	struct s3_req r;
	int rc = -1;

	if (s3_req_init(s, &r, "POST", "starting the multipart upload", key,
	    "uploads=") != 0)
		return -1;
	if (s3_request(s, &r) != 0)
		s3_req_report(s, &r);
	else if (s3util_xml_value(r.resp.data, r.resp.len, "UploadId", id,
	    idlen) != 0 || id[0] == '\0')
		plugin_error("starting the multipart upload failed: no "
		    "UploadId in the answer");
	else
		rc = 0;
	s3_req_free(&r);
	return rc;
}

/* The canonical query for one part of an upload. */
static char *
s3_mp_query(const char *id, unsigned part)
{
	char *eid, *q = NULL;

	if ((eid = s3util_uri_encode(id, 0)) == NULL)
		return NULL;
	if (part > 0) {
		if (asprintf(&q, "partNumber=%u&uploadId=%s", part, eid) < 0)
			q = NULL;
	} else if (asprintf(&q, "uploadId=%s", eid) < 0)
		q = NULL;
	free(eid);
	return q;
}

/* Upload one part; its ETag is returned in etag. */
static int
s3_mp_part(struct s3 *s, const char *key, const char *id, unsigned part,
    const char *buf, size_t len, char *etag, size_t etaglen)
{
	struct s3_req r;
	char what[64], *q;
	int rc = -1;

	snprintf(what, sizeof what, "upload of part %u", part);
	if ((q = s3_mp_query(id, part)) == NULL) {
		plugin_error("out of memory");
		return -1;
	}
	if (s3_req_init(s, &r, "PUT", what, key, q) != 0) {
		free(q);
		return -1;
	}
	free(q);
	r.body = buf;
	r.body_len = len;
	if (s3_request(s, &r) != 0)
		s3_req_report(s, &r);
	else if (r.etag[0] == '\0')
		plugin_error("%s failed: no ETag in the answer", what);
	else {
		snprintf(etag, etaglen, "%s", r.etag);
		rc = 0;
	}
	s3_req_free(&r);
	return rc;
}

/*
 * Finish a multipart upload.  A 200 may still carry an <Error> (S3 sends
 * the status before it has finished), which counts as failure.  A retry
 * that finds the upload gone may mean an earlier try did finish it, so
 * NoSuchUpload leaves the verdict to the HEAD check that follows.
 */
static int
s3_mp_complete(struct s3 *s, const char *key, const char *id,
    const struct s3_buf *xml)
{
	struct s3_req r;
	char *q;
	int rc = -1;

	if ((q = s3_mp_query(id, 0)) == NULL) {
		plugin_error("out of memory");
		return -1;
	}
	if (s3_req_init(s, &r, "POST", "completing the multipart upload",
	    key, q) != 0) {
		free(q);
		return -1;
	}
	free(q);
	r.body = xml->data;
	r.body_len = xml->len;
	r.content_type = "application/xml";
	if (s3_request(s, &r) == 0)
		rc = 0;
	else if (r.status == 404 && strcmp(r.code, "NoSuchUpload") == 0) {
		plugin_info("the upload is gone; checking whether an "
		    "earlier try completed it");
		rc = 1;
	} else
		s3_req_report(s, &r);
	s3_req_free(&r);
	return rc;
}

/* Abort a multipart upload so that its parts do not linger (and cost). */
static void
s3_mp_abort(struct s3 *s, const char *key, const char *id)
{
	struct s3_req r;
	char why[768], *q;

	plugin_info("aborting the multipart upload of %s", key);
	if ((q = s3_mp_query(id, 0)) == NULL) {
		plugin_error("out of memory");
		return;
	}
	if (s3_req_init(s, &r, "DELETE", "aborting the multipart upload",
	    key, q) != 0) {
		free(q);
		return;
	}
	free(q);
	r.tries = S3_ABORT_TRIES;
	r.finish = 1;
	/* Canceled: the supervisor will not wait long for us. */
	if (s3_stop)
		r.tries = 2;
	if (s3_request(s, &r) == 0 || r.status == 404)
		plugin_info("aborted the multipart upload of %s", key);
	else {
		s3_why(s, &r, why, sizeof why);
		s3_error(s, "could not abort multipart upload %s of %s (%s): "
		    "its parts stay in bucket %s until it is aborted, e.g. "
		    "by a lifecycle rule for incomplete uploads", id, key,
		    why, s->addr.bucket);
	}
	s3_req_free(&r);
}

/* Delete an object; 0 when it is gone (or never was). */
static int
s3_delete(struct s3 *s, const char *key, const char *what)
{
	struct s3_req r;
	int rc = 0;

	if (s3_req_init(s, &r, "DELETE", what, key, NULL) != 0)
		return -1;
	r.finish = 1;
	if (s3_stop)
		r.tries = 2;
	if (s3_request(s, &r) != 0 && r.status != 404) {
		s3_req_report(s, &r);
		rc = -1;
	}
	s3_req_free(&r);
	return rc;
}

/*
 * Upload stdin as key; total is set to the bytes read.  Holds one part in
 * memory.  On failure nothing is left behind: a multipart upload is
 * aborted.  Returns 0 on success.
 */
static int
s3_upload(struct s3 *s, const char *key, uint64_t *total)
{
	struct s3_buf xml = { 0 };
	char *buf = NULL, *nbuf, id[1024], etag[256];
	uint64_t size, cap;
	unsigned part;
	ssize_t n;
	int rc = -1;

	*total = 0;
	size = s3util_part_size(s->part_size, 1);
	if ((buf = malloc(size)) == NULL) {
		plugin_error("cannot allocate %" PRIu64 " bytes for a part",
		    size);
		return -1;
	}
	if ((n = s3_read_full(STDIN_FILENO, buf, size)) < 0)
		goto out;
	*total = (uint64_t)n;
	if ((uint64_t)n < size) {
		rc = s3_put(s, key, buf, (size_t)n);
		goto out;
	}

	if (s3_mp_create(s, key, id, sizeof id) != 0)
		goto out;
	if (s3_buf_printf(&xml, "<CompleteMultipartUpload>") != 0)
		goto nomem;
	for (part = 1;; part++) {
		if (part > S3UTIL_PARTS_MAX) {
			cap = s3util_capacity(s->part_size);
			plugin_error("the stream is larger than the %u parts "
			    "S3 allows hold (%" PRIu64 " bytes with "
			    "part_size %" PRIu64 "); raise part_size",
			    S3UTIL_PARTS_MAX, cap, s->part_size);
			goto abort;
		}
		if (s3_mp_part(s, key, id, part, buf, (size_t)n, etag,
		    sizeof etag) != 0)
			goto abort;
		/* ETags are quoted hex; nothing in them needs escaping. */
		if (s3_buf_printf(&xml, "<Part><PartNumber>%u</PartNumber>"
		    "<ETag>%s</ETag></Part>", part, etag) != 0)
			goto nomem;
		if ((cap = s3util_part_size(s->part_size, part + 1)) > size) {
			if ((nbuf = realloc(buf, cap)) == NULL) {
				plugin_error("cannot allocate %" PRIu64
				    " bytes for a part", cap);
				goto abort;
			}
			buf = nbuf;
			size = cap;
		}
		if ((n = s3_read_full(STDIN_FILENO, buf, size)) < 0)
			goto abort;
		if (n == 0)
			break;
		*total += (uint64_t)n;
	}
	if (s3_buf_printf(&xml, "</CompleteMultipartUpload>") != 0)
		goto nomem;
	if (s3_mp_complete(s, key, id, &xml) < 0)
		goto abort;
	rc = 0;
	goto out;

nomem:
	plugin_error("out of memory");
abort:
	s3_mp_abort(s, key, id);
out:
	free(buf);
	s3_buf_free(&xml);
	return rc;
}

/*
 * Check that the stored object has exactly the bytes that were read, the
 * one guarantee that an upload was not silently cut short.  A wrong object
 * is deleted so that nothing pretends to be a backup.
 */
static int
s3_verify(struct s3 *s, const char *key, uint64_t total)
{
	struct s3_req r;
	int rc = -1;

	if (s3_req_init(s, &r, "HEAD", "checking the stored object", key,
	    NULL) != 0)
		return -1;
	if (s3_request(s, &r) != 0)
		s3_req_report(s, &r);
	else if (!r.has_length)
		plugin_error("checking the stored object failed: no "
		    "Content-Length in the answer");
	else if (r.length != total)
		plugin_error("the stored object has %" PRIu64 " bytes but "
		    "%" PRIu64 " were read; deleting it", r.length, total);
	else
		rc = 0;
	s3_req_free(&r);
	if (rc != 0 && r.status != 404)
		s3_delete(s, key, "deleting the incomplete object");
	return rc;
}

/* Note a cancel; what is running stops and cleans up. */
static void
s3_stop_handler(int sig)
{
	s3_stop = 1;
}

/*
 * Catch SIGTERM and SIGINT so that a canceled upload is aborted rather than
 * left in the bucket.  No SA_RESTART: a blocking read of stdin returns.
 */
static void
s3_catch_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = s3_stop_handler;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

/* store: upload stdin under a new key and print it. */
static int
s3_store(const cJSON *ep)
{
	struct s3 s;
	char key[1024], uuid[37];
	uuid_t u;
	uint64_t total;
	int rc = 1;

	if (s3_open(&s, ep) != 0)
		goto out;
	uuid_generate_random(u);
	uuid_unparse_lower(u, uuid);
	if (s3util_key_make(key, sizeof key, s.prefix, time(NULL),
	    uuid) != 0) {
		plugin_error("prefix is too long");
		goto out;
	}
	s3_catch_signals();
	if (s3_upload(&s, key, &total) != 0 || s3_verify(&s, key, total) != 0)
		goto out;
	plugin_print_key(key);
	rc = 0;
out:
	s3_close(&s);
	return rc;
}

/* retrieve: stream the object to stdout. */
static int
s3_retrieve(const cJSON *ep, const char *key)
{
	struct s3 s;
	struct s3_req r;
	int rc = 1;

	if (s3_open(&s, ep) != 0)
		goto out;
	if (s3_req_init(&s, &r, "GET", "download", key, NULL) != 0)
		goto out;
	r.to_stdout = 1;
	if (s3_request(&s, &r) == 0)
		rc = 0;
	else
		s3_req_report(&s, &r);
	s3_req_free(&r);
out:
	s3_close(&s);
	return rc;
}

/* purge: delete the object; one that is already gone counts as purged. */
static int
s3_purge(const cJSON *ep, const char *key)
{
	struct s3 s;
	int rc = 1;

	if (s3_open(&s, ep) == 0 && s3_delete(&s, key, "delete") == 0)
		rc = 0;
	s3_close(&s);
	return rc;
}

/*
 * validate: the settings, then one quick request when the service can be
 * reached.  Reading a key that does not exist tells apart bad credentials
 * (a signature or key error), a missing bucket and a wrong region without
 * needing list permission, which backup-only keys often lack.  A service
 * that cannot be reached is not an error: it may be down, or reachable only
 * from where backups run.
 */
static int
s3_validate(const cJSON *ep)
{
	struct s3 s;
	struct s3_req r;
	char key[1024], why[768];
	int rc = 1;

	if (s3_open(&s, ep) != 0)
		goto out;
	s.connect_timeout = 3;
	s.max_time = 10;
	snprintf(key, sizeof key, "%s%s.shield-validate", s.prefix,
	    s.prefix[0] != '\0' ? "/" : "");
	if (s3_req_init(&s, &r, "GET", "checking the bucket", key, NULL) != 0)
		goto out;
	r.tries = 1;
	s3_request(&s, &r);
	s3_why(&s, &r, why, sizeof why);
	if (r.cc == CURLE_COULDNT_RESOLVE_HOST ||
	    r.cc == CURLE_COULDNT_CONNECT ||
	    r.cc == CURLE_OPERATION_TIMEDOUT) {
		plugin_info("could not reach %s to check the bucket (%s); "
		    "the settings themselves are valid", s.addr.host, why);
		rc = 0;
	} else if (r.cc != CURLE_OK)
		s3_error(&s, "cannot talk to %s: %s", s.addr.host, why);
	else if (s3_req_ok(&r) || strcmp(r.code, "NoSuchKey") == 0)
		rc = 0;
	else if (strcmp(r.code, "AccessDenied") == 0) {
		plugin_info("the credentials were accepted; reading from "
		    "bucket %s was denied for a missing key, which is normal "
		    "without list permission", s.addr.bucket);
		rc = 0;
	} else if (strcmp(r.code, "NoSuchBucket") == 0)
		plugin_error("bucket %s does not exist", s.addr.bucket);
	else if (r.status == 301 || r.status == 307 ||
	    strcmp(r.code, "AuthorizationHeaderMalformed") == 0)
		s3_error(&s, "wrong region or s3_host for bucket %s: %s",
		    s.addr.bucket, why);
	else if (r.status == 401 || r.status == 403)
		s3_error(&s, "the credentials were refused: %s", why);
	else
		s3_error(&s, "checking bucket %s failed: %s", s.addr.bucket,
		    why);
	s3_req_free(&r);
out:
	s3_close(&s);
	return rc;
}

static const struct plugin_def s3_plugin = {
	.name = "S3 Storage",
	.short_name = "s3",
	.author = "SHIELD",
	.version = SHIELD_VERSION,
	.help =
	    "Stores archives as objects in an S3 bucket, uploaded in parts "
	    "(multipart upload) and checked by size once stored.  AWS: set "
	    "region to the bucket's region and s3_host to "
	    "s3.REGION.amazonaws.com (or leave s3.amazonaws.com for "
	    "us-east-1); keep use_ssl and virtual-host addressing.  MinIO: "
	    "s3_host and s3_port of the server (9000 by default), "
	    "path_style true, region us-east-1 unless MinIO was given "
	    "another, use_ssl as the server is set up.  Ceph RADOS Gateway: "
	    "s3_host and s3_port of radosgw (7480 by default), path_style "
	    "true unless rgw_dns_name and wildcard DNS are set up, region "
	    "us-east-1 (or the zonegroup's name), keys from radosgw-admin "
	    "user create.  skip_ssl_validation is for self-signed test "
	    "certificates only.  Each part (part_size, doubling every 1,000 "
	    "parts) is held in memory during upload.",
	.fields = s3_fields,
	.validate = s3_validate,
	.store = s3_store,
	.retrieve = s3_retrieve,
	.purge = s3_purge,
};

/* Run the plugin protocol. */
int
main(int argc, char **argv)
{
	return plugin_main(&s3_plugin, argc, argv);
}
