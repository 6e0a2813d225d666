/*
 * Unit tests of the S3 plugin's pure helpers: size parsing, part-size
 * growth, key layout, URLs in both addressing styles, XML errors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "s3util.h"

/* Sizes with and without suffixes; junk is refused. */
static void
test_s3util_size_parse(void **state)
{
	uint64_t n;

	assert_int_equal(s3util_size_parse("5242880", &n), 0);
	assert_true(n == 5242880);
	assert_int_equal(s3util_size_parse("16M", &n), 0);
	assert_true(n == 16ULL << 20);
	assert_int_equal(s3util_size_parse("16MiB", &n), 0);
	assert_true(n == 16ULL << 20);
	assert_int_equal(s3util_size_parse("16mb", &n), 0);
	assert_true(n == 16ULL << 20);
	assert_int_equal(s3util_size_parse("512k", &n), 0);
	assert_true(n == 512ULL << 10);
	assert_int_equal(s3util_size_parse("5G", &n), 0);
	assert_true(n == 5ULL << 30);
	assert_int_equal(s3util_size_parse("1T", &n), 0);
	assert_true(n == 1ULL << 40);
	assert_int_equal(s3util_size_parse("100B", &n), 0);
	assert_true(n == 100);
	assert_int_equal(s3util_size_parse("", &n), -1);
	assert_int_equal(s3util_size_parse("M", &n), -1);
	assert_int_equal(s3util_size_parse("-5M", &n), -1);
	assert_int_equal(s3util_size_parse("5X", &n), -1);
	assert_int_equal(s3util_size_parse("5MM", &n), -1);
	assert_int_equal(s3util_size_parse("99999999999999999999", &n), -1);
	assert_int_equal(s3util_size_parse("99999999999T", &n), -1);
	assert_int_equal(s3util_size_parse(NULL, &n), -1);
}

/* Parts double every 1,000 and stop at 5 GiB. */
static void
test_s3util_part_growth(void **state)
{
	uint64_t mib5 = 5ULL << 20;

	assert_true(s3util_part_size(mib5, 1) == mib5);
	assert_true(s3util_part_size(mib5, 1000) == mib5);
	assert_true(s3util_part_size(mib5, 1001) == 2 * mib5);
	assert_true(s3util_part_size(mib5, 2001) == 4 * mib5);
	assert_true(s3util_part_size(mib5, 10000) == 512 * mib5);
	/* Below the minimum is raised, above the maximum capped. */
	assert_true(s3util_part_size(1024, 1) == S3UTIL_PART_MIN);
	assert_true(s3util_part_size(S3UTIL_PART_MAX, 9999) ==
	    S3UTIL_PART_MAX);
	assert_true(s3util_part_size(1ULL << 30, 5001) == S3UTIL_PART_MAX);
	/* Growth never shrinks a part. */
	for (unsigned p = 1; p < S3UTIL_PARTS_MAX; p++)
		assert_true(s3util_part_size(16ULL << 20, p + 1) >=
		    s3util_part_size(16ULL << 20, p));
}

/* Even the smallest part size holds 5 TB in 10,000 parts; the old plugin
 * lost everything past about 15 GB. */
static void
test_s3util_capacity(void **state)
{
	uint64_t sum = 0;

	assert_true(s3util_capacity(S3UTIL_PART_MIN) >= 5000000000000ULL);
	assert_true(s3util_capacity(16ULL << 20) >= (5ULL << 40));
	for (unsigned p = 1; p <= S3UTIL_PARTS_MAX; p++)
		sum += s3util_part_size(S3UTIL_PART_MIN, p);
	assert_true(sum == s3util_capacity(S3UTIL_PART_MIN));
}

/* Keys: prefix/YYYY/MM/DD/<stamp>-<uuid>, no stray slashes. */
static void
test_s3util_key_make(void **state)
{
	const char *u = "0b0e2a6c-6f0c-4d1e-9d5e-1f2a3b4c5d6e";
	time_t t = 1709251199;	/* 2024-02-29 23:59:59 UTC */
	char buf[256];

	assert_int_equal(s3util_key_make(buf, sizeof buf, "backups", t, u),
	    0);
	assert_string_equal(buf, "backups/2024/02/29/20240229T235959Z-"
	    "0b0e2a6c-6f0c-4d1e-9d5e-1f2a3b4c5d6e");
	assert_int_equal(s3util_key_make(buf, sizeof buf, "", t, u), 0);
	assert_string_equal(buf, "2024/02/29/20240229T235959Z-"
	    "0b0e2a6c-6f0c-4d1e-9d5e-1f2a3b4c5d6e");
	assert_int_equal(s3util_key_make(buf, sizeof buf, NULL, 0, "x"), 0);
	assert_string_equal(buf, "1970/01/01/19700101T000000Z-x");
	assert_int_equal(s3util_key_make(buf, sizeof buf, "/a/b//", t, "x"),
	    0);
	assert_string_equal(buf, "a/b/2024/02/29/20240229T235959Z-x");
	assert_int_equal(s3util_key_make(buf, sizeof buf, "///", t, "x"), 0);
	assert_string_equal(buf, "2024/02/29/20240229T235959Z-x");
	assert_int_equal(s3util_key_make(buf, 10, "backups", t, u), -1);
}

/* Percent-encoding as SigV4 canonical requests want it. */
static void
test_s3util_uri_encode(void **state)
{
	char *s;

	s = s3util_uri_encode("a b+c/d~e_f.g-h%", 1);
	assert_string_equal(s, "a%20b%2Bc/d~e_f.g-h%25");
	free(s);
	s = s3util_uri_encode("2~abc/def=", 0);
	assert_string_equal(s, "2~abc%2Fdef%3D");
	free(s);
	s = s3util_uri_encode("\xc3\xa9", 0);
	assert_string_equal(s, "%C3%A9");
	free(s);
}

/* Path-style URLs put the bucket in the path. */
static void
test_s3util_url_path_style(void **state)
{
	struct s3util_addr a = { 0, "127.0.0.1", 7480, "bkt", 1 };
	char *u;

	u = s3util_url(&a, "p/2024/x y", NULL);
	assert_string_equal(u, "http://127.0.0.1:7480/bkt/p/2024/x%20y");
	free(u);
	u = s3util_url(&a, "k", "uploads=");
	assert_string_equal(u, "http://127.0.0.1:7480/bkt/k?uploads=");
	free(u);
	u = s3util_url(&a, NULL, NULL);
	assert_string_equal(u, "http://127.0.0.1:7480/bkt");
	free(u);
	a.use_ssl = 1;
	a.port = 0;
	u = s3util_url(&a, "k", "partNumber=2&uploadId=abc");
	assert_string_equal(u,
	    "https://127.0.0.1/bkt/k?partNumber=2&uploadId=abc");
	free(u);
}

/* Virtual-host URLs put the bucket in the host name. */
static void
test_s3util_url_virtual_host(void **state)
{
	struct s3util_addr a = { 1, "s3.eu-west-1.amazonaws.com", 0,
	    "my-backups", 0 };
	char *u;

	u = s3util_url(&a, "shield/2024/02/29/x", NULL);
	assert_string_equal(u, "https://my-backups.s3.eu-west-1.amazonaws.com"
	    "/shield/2024/02/29/x");
	free(u);
	u = s3util_url(&a, NULL, NULL);
	assert_string_equal(u,
	    "https://my-backups.s3.eu-west-1.amazonaws.com/");
	free(u);
	a.use_ssl = 0;
	a.host = "localhost";
	a.port = 9000;
	u = s3util_url(&a, "a+b", "uploadId=1");
	assert_string_equal(u, "http://my-backups.localhost:9000/a%2Bb"
	    "?uploadId=1");
	free(u);
}

/* Bucket names: looser with path-style addressing. */
static void
test_s3util_bucket_check(void **state)
{
	assert_null(s3util_bucket_check("my-backups", 0));
	assert_null(s3util_bucket_check("my.backups.2024", 0));
	assert_non_null(s3util_bucket_check("My_Backups", 0));
	assert_null(s3util_bucket_check("My_Backups", 1));
	assert_non_null(s3util_bucket_check("ab", 1));
	assert_non_null(s3util_bucket_check("a/b/c", 1));
	assert_non_null(s3util_bucket_check("-abc", 0));
	assert_non_null(s3util_bucket_check("a..b", 0));
}

/* XML values and S3 errors, including a 200 answer carrying an error. */
static void
test_s3util_xml(void **state)
{
	const char *init = "<?xml version=\"1.0\"?><InitiateMultipartUpload"
	    "Result><Bucket>b</Bucket><Key>k</Key><UploadId>2~x&amp;y"
	    "</UploadId></InitiateMultipartUploadResult>";
	const char *err = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<Error><Code>SignatureDoesNotMatch</Code><Message>The request "
	    "signature we calculated does not match &quot;yours&quot; &lt;"
	    "</Message><RequestId>tx1</RequestId></Error>";
	const char *ok = "<CompleteMultipartUploadResult><ETag></ETag>"
	    "</CompleteMultipartUploadResult>";
	const char *late = "<?xml version=\"1.0\"?>\n\n\n<Error><Code>"
	    "InternalError</Code><Message>We encountered an internal error."
	    "</Message></Error>";
	char code[64], msg[256], v[8];

	assert_int_equal(s3util_xml_value(init, strlen(init), "UploadId", msg,
	    sizeof msg), 0);
	assert_string_equal(msg, "2~x&y");
	assert_int_equal(s3util_xml_value(init, strlen(init), "Nope", msg,
	    sizeof msg), -1);
	assert_string_equal(msg, "");
	/* Truncated to fit. */
	assert_int_equal(s3util_xml_value(init, strlen(init), "Bucket", v,
	    1), 0);
	assert_string_equal(v, "");
	/* An unterminated element is not a value. */
	assert_int_equal(s3util_xml_value("<A>xyz", 6, "A", v, sizeof v), -1);
	/* Only the given length is searched. */
	assert_int_equal(s3util_xml_value(init, 20, "UploadId", v, sizeof v),
	    -1);

	assert_int_equal(s3util_error_parse(err, strlen(err), code,
	    sizeof code, msg, sizeof msg), 1);
	assert_string_equal(code, "SignatureDoesNotMatch");
	assert_string_equal(msg, "The request signature we calculated does "
	    "not match \"yours\" <");
	/* RGW's empty ETag in a successful Complete is not an error. */
	assert_int_equal(s3util_error_parse(ok, strlen(ok), code,
	    sizeof code, msg, sizeof msg), 0);
	assert_string_equal(code, "");
	assert_int_equal(s3util_error_parse(late, strlen(late), code,
	    sizeof code, msg, sizeof msg), 1);
	assert_string_equal(code, "InternalError");
	assert_int_equal(s3util_error_parse(NULL, 0, code, sizeof code, msg,
	    sizeof msg), 0);
}

/* Which answers are worth retrying, and how long to wait. */
static void
test_s3util_retry(void **state)
{
	assert_true(s3util_http_retryable(500, NULL));
	assert_true(s3util_http_retryable(503, "SlowDown"));
	assert_true(s3util_http_retryable(429, ""));
	assert_true(s3util_http_retryable(400, "RequestTimeout"));
	assert_true(s3util_http_retryable(200, "InternalError"));
	assert_false(s3util_http_retryable(403, "SignatureDoesNotMatch"));
	assert_false(s3util_http_retryable(404, "NoSuchBucket"));
	assert_false(s3util_http_retryable(400, "EntityTooSmall"));
	assert_int_equal(s3util_backoff_ms(2), 500);
	assert_int_equal(s3util_backoff_ms(3), 1000);
	assert_int_equal(s3util_backoff_ms(5), 4000);
	assert_int_equal(s3util_backoff_ms(6), 8000);
	assert_int_equal(s3util_backoff_ms(100), 8000);
}

/* Secrets are masked wherever they appear. */
static void
test_s3util_redact(void **state)
{
	char s[] = "key abc123 and abc123!";

	s3util_redact(s, "abc123");
	assert_string_equal(s, "key ****** and ******!");
	s3util_redact(s, "");
	s3util_redact(s, NULL);
	assert_string_equal(s, "key ****** and ******!");
}

/* A secret made only of '*' ends (it used to match its own mask forever). */
static void
test_s3util_redact_stars(void **state)
{
	char s[] = "secret ******** and ********";

	(void)state;
	alarm(10);
	s3util_redact(s, "********");
	assert_string_equal(s, "secret ******** and ********");
	s3util_redact(s, "**");
	assert_string_equal(s, "secret ******** and ********");
	alarm(0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s3util_size_parse),
		cmocka_unit_test(test_s3util_part_growth),
		cmocka_unit_test(test_s3util_capacity),
		cmocka_unit_test(test_s3util_key_make),
		cmocka_unit_test(test_s3util_uri_encode),
		cmocka_unit_test(test_s3util_url_path_style),
		cmocka_unit_test(test_s3util_url_virtual_host),
		cmocka_unit_test(test_s3util_bucket_check),
		cmocka_unit_test(test_s3util_xml),
		cmocka_unit_test(test_s3util_retry),
		cmocka_unit_test(test_s3util_redact),
		cmocka_unit_test(test_s3util_redact_stars),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
