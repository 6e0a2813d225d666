/*
 * Pure helpers of the S3 store plugin: size parsing, the part-size growth
 * rule, key generation, URL building for path-style and virtual-host
 * addressing, and extracting values and errors from S3's XML.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3util.h"
#include "tool.h"

/* Parse "16M" and friends. */
int
s3util_size_parse(const char *s, uint64_t *out)
{
	unsigned long long n;
	unsigned shift = 0;
	char *end;

	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	n = strtoull(s, &end, 10);
	if (errno != 0)
		return -1;
	while (*end == ' ')
		end++;
	switch (toupper((unsigned char)*end)) {
	case '\0':
		break;
	case 'B':
		end++;
		break;
	case 'K':
		shift = 10;
		break;
	case 'M':
		shift = 20;
		break;
	case 'G':
		shift = 30;
		break;
	case 'T':
		shift = 40;
		break;
	default:
		return -1;
	}
	if (shift != 0) {
		end++;
		if (*end == 'i' || *end == 'I')
			end++;
		if (*end == 'b' || *end == 'B')
			end++;
	}
	if (*end != '\0')
		return -1;
	if (shift != 0 && n > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)n << shift;
	return 0;
}

/*
 * Size of one part.  Doubling every 1,000 parts keeps small backups in
 * small parts (little memory, cheap retries) while 10,000 parts of a 5 MiB
 * start still hold 1000 * 5 MiB * (2^10 - 1), about 4.9 TiB (5.4 TB).
 */
uint64_t
s3util_part_size(uint64_t base, unsigned part)
{
	unsigned doublings;

	if (base < S3UTIL_PART_MIN)
		base = S3UTIL_PART_MIN;
	if (base > S3UTIL_PART_MAX)
		base = S3UTIL_PART_MAX;
	doublings = part > 0 ? (part - 1) / S3UTIL_PART_GROWTH : 0;
	while (doublings-- > 0) {
		if (base >= S3UTIL_PART_MAX / 2)
			return S3UTIL_PART_MAX;
		base *= 2;
	}
	return base;
}

/* Sum of the sizes of every part S3 allows. */
uint64_t
s3util_capacity(uint64_t base)
{
	uint64_t total = 0;
	unsigned group;

	for (group = 0; group < S3UTIL_PARTS_MAX / S3UTIL_PART_GROWTH;
	    group++)
		total += S3UTIL_PART_GROWTH *
		    s3util_part_size(base, group * S3UTIL_PART_GROWTH + 1);
	return total;
}

/* Build an object key from the prefix, the time and a UUID. */
int
s3util_key_make(char *buf, size_t len, const char *prefix, time_t now,
    const char *uuid)
{
	struct tm tm;
	size_t plen;
	int n;

	if (prefix == NULL)
		prefix = "";
	while (*prefix == '/')
		prefix++;
	plen = strlen(prefix);
	while (plen > 0 && prefix[plen - 1] == '/')
		plen--;
	if (gmtime_r(&now, &tm) == NULL)
		return -1;
	n = snprintf(buf, len,
	    "%.*s%s%04d/%02d/%02d/%04d%02d%02dT%02d%02d%02dZ-%s",
	    (int)plen, prefix, plen > 0 ? "/" : "",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
	    tm.tm_hour, tm.tm_min, tm.tm_sec, uuid);
	if (n < 0 || (size_t)n >= len)
		return -1;
	return 0;
}

/* 1 for RFC 3986 unreserved characters. */
static int
s3util_unreserved(unsigned char c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

/* Percent-encode a string. */
char *
s3util_uri_encode(const char *s, int keep_slash)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p;
	char *out, *o;

	if ((out = malloc(strlen(s) * 3 + 1)) == NULL)
		return NULL;
	o = out;
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (s3util_unreserved(*p) || (keep_slash && *p == '/'))
			*o++ = (char)*p;
		else {
			*o++ = '%';
			*o++ = hex[*p >> 4];
			*o++ = hex[*p & 15];
		}
	}
	*o = '\0';
	return out;
}

/* Build a request URL for either addressing style. */
char *
s3util_url(const struct s3util_addr *a, const char *key, const char *query)
{
	char port[16] = "", *ekey = NULL, *url = NULL;
	const char *scheme = a->use_ssl ? "https" : "http";
	int n;

	if (a->port != 0)
		snprintf(port, sizeof port, ":%u", a->port);
	if (key != NULL && (ekey = s3util_uri_encode(key, 1)) == NULL)
		return NULL;
	if (a->path_style)
		n = asprintf(&url, "%s://%s%s/%s%s%s%s%s", scheme, a->host,
		    port, a->bucket, ekey != NULL ? "/" : "",
		    ekey != NULL ? ekey : "", query != NULL ? "?" : "",
		    query != NULL ? query : "");
	else
		n = asprintf(&url, "%s://%s.%s%s/%s%s%s", scheme, a->bucket,
		    a->host, port, ekey != NULL ? ekey : "",
		    query != NULL ? "?" : "", query != NULL ? query : "");
	free(ekey);
	return n < 0 ? NULL : url;
}

/* Check a bucket name for the chosen addressing style. */
const char *
s3util_bucket_check(const char *b, int path_style)
{
	size_t len = strlen(b), i;

	if (len < 3 || len > 255)
		return "must be 3 to 255 characters long";
	for (i = 0; i < len; i++) {
		if (b[i] == '/' || isspace((unsigned char)b[i]) ||
		    iscntrl((unsigned char)b[i]))
			return "must not contain slashes or spaces";
	}
	if (path_style)
		return NULL;
	/* The bucket becomes part of a host name. */
	if (len > 63)
		return "must be at most 63 characters with virtual-host "
		    "addressing (set path_style to use longer names)";
	for (i = 0; i < len; i++) {
		if (!islower((unsigned char)b[i]) &&
		    !isdigit((unsigned char)b[i]) && b[i] != '-' &&
		    b[i] != '.')
			return "must be lowercase letters, digits, '-' and "
			    "'.' with virtual-host addressing (set "
			    "path_style to use other names)";
	}
	if (b[0] == '-' || b[0] == '.' || b[len - 1] == '-' ||
	    b[len - 1] == '.' || strstr(b, "..") != NULL)
		return "is not a valid host name label";
	return NULL;
}

/* Copy src[0..n) into out, decoding XML entities, truncating to fit. */
static void
s3util_xml_unescape(const char *src, size_t n, char *out, size_t outlen)
{
	static const struct {
		const char	*ent;
		char		 c;
	} ents[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' },
		{ "&quot;", '"' }, { "&apos;", '\'' },
	};
	size_t i = 0, o = 0, e, elen;
	char c;

	if (outlen == 0)
		return;
	while (i < n && o + 1 < outlen) {
		c = src[i];
		elen = 1;
		if (c == '&') {
			for (e = 0; e < sizeof ents / sizeof ents[0]; e++) {
				elen = strlen(ents[e].ent);
				if (i + elen <= n &&
				    memcmp(src + i, ents[e].ent, elen) == 0) {
					c = ents[e].c;
					break;
				}
				elen = 1;
			}
		}
		out[o++] = c;
		i += elen;
	}
	out[o] = '\0';
}

/* Find `needle` in the first len bytes of hay. */
static const char *
s3util_find(const char *hay, size_t len, const char *needle)
{
	return memmem(hay, len, needle, strlen(needle));
}

/* Extract the text of the first <tag>...</tag>. */
int
s3util_xml_value(const char *body, size_t len, const char *tag, char *out,
    size_t outlen)
{
	char open[64], close[64];
	const char *start, *end;

	if (outlen > 0)
		out[0] = '\0';
	if (body == NULL ||
	    (size_t)snprintf(open, sizeof open, "<%s>", tag) >= sizeof open ||
	    (size_t)snprintf(close, sizeof close, "</%s>", tag) >= sizeof close)
		return -1;
	if ((start = s3util_find(body, len, open)) == NULL)
		return -1;
	start += strlen(open);
	end = s3util_find(start, len - (size_t)(start - body), close);
	if (end == NULL)
		return -1;
	s3util_xml_unescape(start, (size_t)(end - start), out, outlen);
	return 0;
}

/* Recognize an <Error> document and pull out Code and Message. */
int
s3util_error_parse(const char *body, size_t len, char *code, size_t codelen,
    char *msg, size_t msglen)
{
	if (codelen > 0)
		code[0] = '\0';
	if (msglen > 0)
		msg[0] = '\0';
	if (body == NULL || s3util_find(body, len, "<Error>") == NULL)
		return 0;
	s3util_xml_value(body, len, "Code", code, codelen);
	s3util_xml_value(body, len, "Message", msg, msglen);
	return 1;
}

/* Server trouble and throttling are worth another try; client errors not. */
int
s3util_http_retryable(long status, const char *code)
{
	if (status >= 500 || status == 429)
		return 1;
	if (code == NULL)
		return 0;
	/* S3 says these in 200 and 400 answers too. */
	return strcmp(code, "RequestTimeout") == 0 ||
	    strcmp(code, "InternalError") == 0 ||
	    strcmp(code, "SlowDown") == 0 ||
	    strcmp(code, "ServiceUnavailable") == 0;
}

/* Exponential backoff: 0.5 s, 1 s, 2 s, 4 s, then 8 s at most. */
unsigned
s3util_backoff_ms(unsigned attempt)
{
	unsigned ms = 500;

	while (attempt-- > 2 && ms < 8000)
		ms *= 2;
	return ms > 8000 ? 8000 : ms;
}

/* Mask a secret wherever it appears, through the plugin kit. */
void
s3util_redact(char *text, const char *secret)
{
	const char *const secrets[] = { secret, NULL };
	size_t len;
	char *out;

	if (text == NULL || secret == NULL)
		return;
	len = strlen(text);
	/* Out of memory: show nothing rather than the secret. */
	if ((out = tool_redact(text, len, secrets, 1, 0)) == NULL) {
		memset(text, '*', len);
		return;
	}
	memcpy(text, out, len);
	free(out);
}
