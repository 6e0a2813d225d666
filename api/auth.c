/*
 * Authentication: users with argon2id password hashes (libsodium), login
 * sessions carried by a bearer token or an HttpOnly SameSite=Strict cookie,
 * and named API tokens for scripts.  Secrets are random 32-byte values shown
 * once; the catalog stores only their SHA-256, so a token is found by the
 * hash of what the client sends and nothing secret is ever compared byte by
 * byte.  The first start on an empty catalog creates the user "admin".
 *
 * A login's password check runs on a worker thread (pwhash.c) and its reply
 * is sent from the loop when the result comes back; the login rate limit
 * (throttle.c) is checked before any hashing, so a locked username costs
 * nothing.  Token and cookie checks are keyed hashes and stay on the loop.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "api.h"
#include "api_limits.h"
#include "catalog.h"
#include "daemon.h"
#include "log.h"
#include "pwhash.h"
#include "throttle.h"
#include "xmalloc.h"

#define AUTH_COOKIE		"shield_session"
#define AUTH_SECRET_BYTES	32
/*
 * One worker: a check takes ~20 ms and 7 MiB, logins are rare, and the
 * other cores stay free for the loop and the tasks.  The queue bounds how
 * long a login can wait (16 x 20 ms) and how much a flood can hold.
 */
#define AUTH_HASH_THREADS	1
#define AUTH_HASH_QUEUE		16

/* A login whose password is being checked. */
struct auth_login {
	struct auth		*auth;
	struct api_req		*r;
	char			*username;	/* as sent: the throttle's key */
	int			 known;		/* the user exists */
	id_buf			 uuid;
	TAILQ_ENTRY(auth_login)	 entry;
};

/* The authentication state the api owns. */
struct auth {
	struct shieldd			*d;
	struct pwhash			*pool;
	struct throttle			*limit;
	TAILQ_HEAD(, auth_login)	 logins;
};

/* Add a Retry-After header to the reply being built. */
static void
auth_retry_after(struct api_req *r, int secs)
{
	char buf[16];

	snprintf(buf, sizeof buf, "%d", secs > 0 ? secs : 1);
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
	    "Retry-After", buf);
}

/* 503 with Retry-After: busy, not broken, so not logged as a fault. */
static void
auth_busy(struct api_req *r, const char *msg)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "error", msg);
	auth_retry_after(r, 1);
	api_reply(r, 503, o);
}

/* Start the password workers and the login rate limit. */
struct auth *
auth_new(struct shieldd *d)
{
	struct auth *a = xcalloc(1, sizeof *a);

	a->d = d;
	TAILQ_INIT(&a->logins);
	if ((a->pool = pwhash_new(d->base, AUTH_HASH_THREADS,
	    AUTH_HASH_QUEUE)) == NULL) {
		free(a);
		return NULL;
	}
	a->limit = throttle_new(THROTTLE_SLOTS);
	return a;
}

/*
 * Stop the workers, then answer the logins still waiting for them: their
 * requests belong to connections evhttp is about to free.
 */
void
auth_free(struct auth *a)
{
	struct auth_login *l;

	if (a == NULL)
		return;
	pwhash_free(a->pool);
	while ((l = TAILQ_FIRST(&a->logins)) != NULL) {
		TAILQ_REMOVE(&a->logins, l, entry);
		auth_busy(l->r, "shieldd is stopping");
		free(l->username);
		free(l);
	}
	throttle_free(a->limit);
	free(a);
}

/* Hex SHA-256 of a secret, as stored in the catalog. */
static void
auth_secret_hash(const char *secret, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)secret, strlen(secret));
	sodium_bin2hex(out, 65, h, sizeof h);
}

/* A new random secret in hex. */
static void
auth_secret_new(char out[2 * AUTH_SECRET_BYTES + 1])
{
	unsigned char b[AUTH_SECRET_BYTES];

	randombytes_buf(b, sizeof b);
	sodium_bin2hex(out, 2 * AUTH_SECRET_BYTES + 1, b, sizeof b);
	sodium_memzero(b, sizeof b);
}

/* Write the generated admin password beside the catalog, mode 0600. */
static int
auth_write_password_file(const char *db, const char *pw, char **pathp)
{
	char *path;
	int fd;

	xasprintf(&path, "%s.admin-password", db);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1 || fchmod(fd, 0600) != 0 ||
	    write(fd, pw, strlen(pw)) != (ssize_t)strlen(pw) ||
	    write(fd, "\n", 1) != 1) {
		if (fd != -1)
			close(fd);
		free(path);
		return -1;
	}
	close(fd);
	*pathp = path;
	return 0;
}

/* On an empty catalog, create "admin" with the configured or a random password. */
int
auth_bootstrap(struct shieldd *d)
{
	const char *env = getenv("SHIELD_ADMIN_PASSWORD");
	char generated[2 * 12 + 1], *hash, *path = NULL;
	unsigned char b[12];
	int64_t users;
	id_buf id;
	const char *pw;

	if (sodium_init() < 0) {
		log_error("libsodium failed to initialise");
		return -1;
	}
	if ((d->dummy_hash = pwhash_str("")) == NULL) {
		log_error("cannot hash a password (out of memory?)");
		return -1;
	}
	if (catalog_user_count(d->cat, &users) != CAT_OK)
		return -1;
	if (users > 0)
		return 0;
	if (env != NULL && *env != '\0')
		pw = env;
	else {
		randombytes_buf(b, sizeof b);
		sodium_bin2hex(generated, sizeof generated, b, sizeof b);
		pw = generated;
	}
	if ((hash = pwhash_str(pw)) == NULL) {
		log_error("cannot hash the admin password (out of memory?)");
		return -1;
	}
	if (catalog_user_create(d->cat, "admin", hash, id) != CAT_OK) {
		free(hash);
		return -1;
	}
	free(hash);
	if (pw == generated) {
		if (auth_write_password_file(d->cfg.db, pw, &path) != 0)
			log_warn("cannot write the admin password file");
		fprintf(stderr, "shieldd: created user 'admin' with password "
		    "%s (also in %s); change it or keep it safe\n", pw,
		    path != NULL ? path : "no file");
		free(path);
		sodium_memzero(generated, sizeof generated);
	} else
		log_info("created user 'admin' (password from "
		    "SHIELD_ADMIN_PASSWORD)");
	return 0;
}

/* Find the session cookie's value in a Cookie header; caller frees. */
static char *
auth_cookie_value(const char *header)
{
	const char *p = header, *end;
	size_t n = strlen(AUTH_COOKIE);

	while (p != NULL && *p != '\0') {
		while (*p == ' ' || *p == ';')
			p++;
		if (strncmp(p, AUTH_COOKIE, n) == 0 && p[n] == '=') {
			p += n + 1;
			end = strchr(p, ';');
			return xstrndup(p, end ? (size_t)(end - p) : strlen(p));
		}
		p = strchr(p, ';');
	}
	return NULL;
}

/* The secret the request presents (bearer token first), caller frees. */
static char *
auth_presented(struct api_req *r)
{
	struct evkeyvalq *h = evhttp_request_get_input_headers(r->req);
	const char *v;

	if ((v = evhttp_find_header(h, "Authorization")) != NULL &&
	    strncasecmp(v, "Bearer ", 7) == 0)
		return xstrdup(v + 7);
	if ((v = evhttp_find_header(h, "Cookie")) != NULL)
		return auth_cookie_value(v);
	return NULL;
}

/* Authenticate the request. */
int
auth_check(struct api_req *r)
{
	struct cat_token tok;
	struct cat_user u;
	char *secret, hash[65];
	int rc;

	if ((secret = auth_presented(r)) == NULL)
		return -1;
	auth_secret_hash(secret, hash);
	sodium_memzero(secret, strlen(secret));
	free(secret);
	memset(&tok, 0, sizeof tok);
	rc = catalog_token_find(r->d->cat, hash, r->d->clock(), &tok);
	if (rc != CAT_OK)
		return -1;
	memset(&u, 0, sizeof u);
	if (catalog_user_get(r->d->cat, tok.user_uuid, &u) != CAT_OK) {
		cat_token_clear(&tok);
		return -1;
	}
	memcpy(r->user_uuid, u.uuid, sizeof r->user_uuid);
	free(r->user);
	r->user = xstrdup(u.name);
	cat_user_clear(&u);
	cat_token_clear(&tok);
	return 0;
}

/* Create a token row and return its secret. */
static int
auth_token_issue(struct api_req *r, const char *user_uuid, const char *kind,
    const char *name, int64_t ttl, char secret[2 * AUTH_SECRET_BYTES + 1],
    id_buf out)
{
	struct cat_token t;
	int rc;

	memset(&t, 0, sizeof t);
	auth_secret_new(secret);
	auth_secret_hash(secret, t.hash);
	memcpy(t.user_uuid, user_uuid, sizeof t.user_uuid);
	snprintf(t.kind, sizeof t.kind, "%s", kind);
	t.name = (char *)name;
	t.created_at = r->d->clock();
	t.expires_at = ttl > 0 ? t.created_at + ttl : 0;
	rc = catalog_token_create(r->d->cat, &t, out);
	return rc;
}

/* A login's password check is done (on the loop): reply. */
static void
auth_login_done_cb(int ok, char *hash, void *arg)
{
	struct auth_login *l = arg;
	struct auth *a = l->auth;
	struct api_req *r = l->r;
	char secret[2 * AUTH_SECRET_BYTES + 1], *cookie;
	struct evkeyvalq *h;
	cJSON *o;
	id_buf id;

	free(hash);
	TAILQ_REMOVE(&a->logins, l, entry);
	ok = ok && l->known;
	throttle_done(a->limit, l->username, r->d->clock(),
	    ok ? THROTTLE_OK : THROTTLE_FAILED);
	if (!ok) {
		log_warn("failed login for user '%.64s'", l->username);
		api_error(r, 401, "wrong username or password");
		goto out;
	}
	if (r->gone) {
		/* Nobody to hand a session to; this frees r, sending nothing. */
		log_debug("login of '%.64s' ended after its client left",
		    l->username);
		api_reply_text(r, 204, "application/json", "", 0);
		goto out;
	}
	if (auth_token_issue(r, l->uuid, "session", "",
	    r->d->cfg.session_ttl, secret, id) != CAT_OK) {
		api_error(r, 500, "cannot create a session");
		goto out;
	}
	log_info("user '%s' logged in", l->username);
	xasprintf(&cookie, "%s=%s; Path=/; HttpOnly; SameSite=Strict; "
	    "Max-Age=%d", AUTH_COOKIE, secret, r->d->cfg.session_ttl);
	h = evhttp_request_get_output_headers(r->req);
	evhttp_add_header(h, "Set-Cookie", cookie);
	free(cookie);
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "ok", "logged in");
	cJSON_AddStringToObject(o, "token", secret);
	sodium_memzero(secret, sizeof secret);
	api_reply(r, 200, o);
out:
	free(l->username);
	free(l);
}

/*
 * POST /v1/auth/login.  The rate limit comes first and answers 429 without
 * looking at the password; then the password is checked on a worker, with
 * a 503 when too many checks are already waiting.
 */
static void
auth_login(struct api_req *r)
{
	static const char *const req[] = { "username", "password" };
	struct auth *a = api_auth(r->api);
	const char *user = NULL, *pw = NULL;
	struct auth_login *l;
	struct cat_user u;
	const char *hash;
	int wait;

	if (api_body_require(r, req, 2) != 0 ||
	    api_body_string(r, "username", &user) != 0 ||
	    api_body_string(r, "password", &pw) != 0 ||
	    api_check_text(r, "username", user, API_NAME_MAX) != 0)
		return;
	if ((wait = throttle_admit(a->limit, user, r->d->clock())) > 0) {
		log_warn("login for user '%.64s' refused: too many failures",
		    user);
		auth_retry_after(r, wait);
		api_error(r, 429, "too many failed logins for this user; try "
		    "again in %d s", wait);
		return;
	}
	l = xcalloc(1, sizeof *l);
	l->auth = a;
	l->r = r;
	l->username = xstrdup(user);
	memset(&u, 0, sizeof u);
	/*
	 * An unknown user is checked against a hash of nothing, so the
	 * answer takes as long as for a real one and does not tell which
	 * user names exist.
	 */
	hash = r->d->dummy_hash;
	if (catalog_user_get_by_name(r->d->cat, user, &u) == CAT_OK) {
		l->known = 1;
		memcpy(l->uuid, u.uuid, sizeof l->uuid);
		hash = u.pwhash;
	}
	if (pwhash_verify(a->pool, hash, pw, auth_login_done_cb, l) != 0) {
		cat_user_clear(&u);
		throttle_done(a->limit, user, r->d->clock(), THROTTLE_DROPPED);
		free(l->username);
		free(l);
		auth_busy(r, "too many logins in progress; try again in a "
		    "second");
		return;
	}
	cat_user_clear(&u);
	TAILQ_INSERT_TAIL(&a->logins, l, entry);
}

/*
 * POST /v1/auth/logout: end the login session that made the request.  A
 * named API token is not a session: logging out with one leaves it valid
 * (revoke it with DELETE /v1/auth/token/:uuid).
 */
static void
auth_logout(struct api_req *r)
{
	struct evkeyvalq *h;
	struct cat_token tok;
	char *secret, hash[65];

	if ((secret = auth_presented(r)) != NULL) {
		auth_secret_hash(secret, hash);
		sodium_memzero(secret, strlen(secret));
		free(secret);
		memset(&tok, 0, sizeof tok);
		if (catalog_token_find(r->d->cat, hash, r->d->clock(),
		    &tok) == CAT_OK && strcmp(tok.kind, "session") == 0)
			catalog_token_delete_by_hash(r->d->cat, hash);
		cat_token_clear(&tok);
	}
	h = evhttp_request_get_output_headers(r->req);
	evhttp_add_header(h, "Set-Cookie", AUTH_COOKIE "=; Path=/; HttpOnly; "
	    "SameSite=Strict; Max-Age=0");
	api_ok(r, "logged out");
}

/* GET /v1/auth/me */
static void
auth_me(struct api_req *r)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "username", r->user);
	cJSON_AddStringToObject(o, "uuid", r->user_uuid);
	api_reply(r, 200, o);
}

/* GET /v1/auth/tokens: the user's API tokens, without secrets. */
static void
auth_tokens_list(struct api_req *r)
{
	struct cat_token *t = NULL;
	size_t n = 0, i;
	cJSON *arr, *o;

	if (catalog_tokens(r->d->cat, r->user_uuid, &t, &n) != CAT_OK) {
		api_error(r, 500, "cannot list tokens");
		return;
	}
	arr = cJSON_CreateArray();
	for (i = 0; i < n; i++) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "uuid", t[i].uuid);
		api_json_str(o, "name", t[i].name);
		api_json_time(o, "created_at", t[i].created_at);
		api_json_time(o, "last_used", t[i].last_used);
		cJSON_AddItemToArray(arr, o);
	}
	cat_tokens_free(t, n);
	api_reply(r, 200, arr);
}

/* POST /v1/auth/tokens {"name"} */
static void
auth_tokens_create(struct api_req *r)
{
	static const char *const req[] = { "name" };
	char secret[2 * AUTH_SECRET_BYTES + 1];
	const char *name = NULL;
	id_buf id;

	if (api_body_require(r, req, 1) != 0 ||
	    api_body_string(r, "name", &name) != 0 ||
	    api_check_text(r, "name", name, 200) != 0)
		return;
	if (auth_token_issue(r, r->user_uuid, "api", name, 0, secret,
	    id) != CAT_OK) {
		api_error(r, 500, "cannot create the token");
		return;
	}
	log_info("user '%s' created API token '%s'", r->user, name);
	api_created(r, id, secret);
	sodium_memzero(secret, sizeof secret);
}

/* DELETE /v1/auth/token/:uuid */
static void
auth_tokens_delete(struct api_req *r)
{
	struct cat_token *t = NULL;
	size_t n = 0, i;
	int mine = 0, rc;

	/* Only the owner's own API tokens can be revoked through here. */
	if (catalog_tokens(r->d->cat, r->user_uuid, &t, &n) == CAT_OK) {
		for (i = 0; i < n; i++)
			mine |= strcmp(t[i].uuid, r->params[0]) == 0;
		cat_tokens_free(t, n);
	}
	if (!mine) {
		api_error(r, 404, "token not found");
		return;
	}
	rc = catalog_token_delete(r->d->cat, r->params[0]);
	if (rc != CAT_OK) {
		api_cat_error(r, rc, "token");
		return;
	}
	api_ok(r, "deleted");
}

const struct api_route api_auth_routes[] = {
	{ EVHTTP_REQ_POST, "/v1/auth/login", auth_login,
	    API_PUBLIC | API_JSON_BODY },
	{ EVHTTP_REQ_POST, "/v1/auth/logout", auth_logout, API_OPT_BODY },
	{ EVHTTP_REQ_GET, "/v1/auth/me", auth_me, 0 },
	{ EVHTTP_REQ_GET, "/v1/auth/tokens", auth_tokens_list, 0 },
	{ EVHTTP_REQ_POST, "/v1/auth/tokens", auth_tokens_create,
	    API_JSON_BODY },
	{ EVHTTP_REQ_DELETE, "/v1/auth/token/:uuid", auth_tokens_delete, 0 },
	{ 0, NULL, NULL, 0 },
};
