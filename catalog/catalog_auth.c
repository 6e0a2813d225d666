/*
 * Users, login sessions and API tokens in the catalog.  Only hashes are
 * stored: a password as a crypt-style KDF string, a token as the hex
 * SHA-256 of its secret, looked up through a unique index.
 */
#include <stdlib.h>
#include <string.h>

#include "catalog_internal.h"

#define USER_COLUMNS	"uuid, name, pwhash"
#define TOKEN_COLUMNS							\
	"uuid, user_uuid, name, kind, hash, created_at, expires_at,"	\
	" last_used"

/* Frees a user's strings. */
void
cat_user_clear(struct cat_user *u)
{
	free(u->name);
	free(u->pwhash);
	memset(u, 0, sizeof *u);
}

/* Reads USER_COLUMNS. */
static void
user_row(sqlite3_stmt *st, void *p)
{
	struct cat_user *u = p;

	cat_col_copy(st, 0, u->uuid, sizeof u->uuid);
	u->name = cat_col_dup(st, 1);
	u->pwhash = cat_col_dup(st, 2);
}

/* Counts users; the daemon creates the first one on an empty catalog. */
int
catalog_user_count(struct catalog *cat, int64_t *count)
{
	sqlite3_stmt *st;
	int status = CAT_OK;

	*count = 0;
	st = cat_prepare(cat, SQL_USER_COUNT, "SELECT count(*) FROM users");
	if (st == NULL)
		return CAT_ERR;
	if (sqlite3_step(st) == SQLITE_ROW)
		*count = sqlite3_column_int64(st, 0);
	else {
		cat_sqlerr(cat, "user count");
		status = CAT_ERR;
	}
	cat_done(st);
	return status;
}

/* Inserts a user; CAT_EXISTS if the name is taken. */
int
catalog_user_create(struct catalog *cat, const char *name,
    const char *pwhash, id_buf out)
{
	sqlite3_stmt *st;
	id_buf uuid;
	int status;

	st = cat_prepare(cat, SQL_USER_CREATE,
	    "INSERT INTO users (uuid, name, pwhash) VALUES (?1, ?2, ?3)");
	if (st == NULL)
		return CAT_ERR;
	id_new(uuid);
	cat_bind_text(st, 1, uuid);
	cat_bind_text(st, 2, name);
	cat_bind_text(st, 3, pwhash);
	if ((status = cat_exec(cat, st, CAT_BADREF)) == CAT_OK)
		memcpy(out, uuid, sizeof uuid);
	return status;
}

/* Reads a user by login name. */
int
catalog_user_get_by_name(struct catalog *cat, const char *name,
    struct cat_user *out)
{
	sqlite3_stmt *st;

	memset(out, 0, sizeof *out);
	st = cat_prepare(cat, SQL_USER_GET_BY_NAME,
	    "SELECT " USER_COLUMNS " FROM users WHERE name = ?1");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, name);
	return cat_fetch(cat, st, user_row, out);
}

/* Reads a user by uuid. */
int
catalog_user_get(struct catalog *cat, const char *uuid, struct cat_user *out)
{
	sqlite3_stmt *st;

	memset(out, 0, sizeof *out);
	st = cat_prepare(cat, SQL_USER_GET,
	    "SELECT " USER_COLUMNS " FROM users WHERE uuid = ?1");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, uuid);
	return cat_fetch(cat, st, user_row, out);
}

/* Frees a token's strings. */
void
cat_token_clear(struct cat_token *t)
{
	free(t->name);
	memset(t, 0, sizeof *t);
}

/* Frees a list of tokens. */
void
cat_tokens_free(struct cat_token *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		cat_token_clear(&list[i]);
	free(list);
}

/* Reads TOKEN_COLUMNS. */
static void
token_row(sqlite3_stmt *st, void *p)
{
	struct cat_token *t = p;

	cat_col_copy(st, 0, t->uuid, sizeof t->uuid);
	cat_col_copy(st, 1, t->user_uuid, sizeof t->user_uuid);
	t->name = cat_col_dup(st, 2);
	cat_col_copy(st, 3, t->kind, sizeof t->kind);
	cat_col_copy(st, 4, t->hash, sizeof t->hash);
	t->created_at = sqlite3_column_int64(st, 5);
	t->expires_at = sqlite3_column_int64(st, 6);
	t->last_used = sqlite3_column_int64(st, 7);
}

/* cat_token_clear() for cat_collect(). */
static void
token_clear(void *p)
{
	cat_token_clear(p);
}

/*
 * Inserts a session or API token: CAT_BADREF for an unknown user,
 * CAT_EXISTS if the hash is already stored.
 */
int
catalog_token_create(struct catalog *cat, const struct cat_token *in,
    id_buf out)
{
	sqlite3_stmt *st;
	id_buf uuid;
	int status;

	st = cat_prepare(cat, SQL_TOKEN_CREATE,
	    "INSERT INTO tokens (uuid, user_uuid, name, kind, hash,"
	    " created_at, expires_at, last_used)"
	    " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
	if (st == NULL)
		return CAT_ERR;
	id_new(uuid);
	cat_bind_text(st, 1, uuid);
	cat_bind_text(st, 2, in->user_uuid);
	cat_bind_text(st, 3, in->name);
	cat_bind_text(st, 4, in->kind);
	cat_bind_text(st, 5, in->hash);
	sqlite3_bind_int64(st, 6, in->created_at);
	sqlite3_bind_int64(st, 7, in->expires_at);
	sqlite3_bind_int64(st, 8, in->last_used);
	if ((status = cat_exec(cat, st, CAT_BADREF)) == CAT_OK)
		memcpy(out, uuid, sizeof uuid);
	return status;
}

/* Finds a token by hash unless it has expired. */
int
catalog_token_find(struct catalog *cat, const char *hash, int64_t now,
    struct cat_token *out)
{
	sqlite3_stmt *st;

	memset(out, 0, sizeof *out);
	st = cat_prepare(cat, SQL_TOKEN_FIND,
	    "SELECT " TOKEN_COLUMNS " FROM tokens WHERE hash = ?1"
	    " AND (expires_at = 0 OR expires_at > ?2)");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, hash);
	sqlite3_bind_int64(st, 2, now);
	return cat_fetch(cat, st, token_row, out);
}

/* Lists API tokens, oldest first, of one user or of all. */
int
catalog_tokens(struct catalog *cat, const char *user_uuid,
    struct cat_token **out, size_t *n)
{
	sqlite3_stmt *st;

	if (user_uuid != NULL) {
		st = cat_prepare(cat, SQL_TOKEN_LIST_USER,
		    "SELECT " TOKEN_COLUMNS " FROM tokens"
		    " WHERE kind = 'api' AND user_uuid = ?1"
		    " ORDER BY created_at, rowid");
		if (st != NULL)
			cat_bind_text(st, 1, user_uuid);
	} else
		st = cat_prepare(cat, SQL_TOKEN_LIST,
		    "SELECT " TOKEN_COLUMNS " FROM tokens WHERE kind = 'api'"
		    " ORDER BY created_at, rowid");
	if (st == NULL)
		return CAT_ERR;
	return cat_collect(cat, st, sizeof **out, token_row, token_clear,
	    (void **)out, n);
}

/* Deletes a token by uuid. */
int
catalog_token_delete(struct catalog *cat, const char *uuid)
{
	sqlite3_stmt *st;

	st = cat_prepare(cat, SQL_TOKEN_DELETE,
	    "DELETE FROM tokens WHERE uuid = ?1");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, uuid);
	return cat_exec_one(cat, st, CAT_ERR);
}

/* Deletes a token by the hash of its secret (logout). */
int
catalog_token_delete_by_hash(struct catalog *cat, const char *hash)
{
	sqlite3_stmt *st;

	st = cat_prepare(cat, SQL_TOKEN_DELETE_BY_HASH,
	    "DELETE FROM tokens WHERE hash = ?1");
	if (st == NULL)
		return CAT_ERR;
	cat_bind_text(st, 1, hash);
	return cat_exec_one(cat, st, CAT_ERR);
}

/* Removes login sessions past their expiry; API tokens are kept. */
int
catalog_tokens_expire(struct catalog *cat, int64_t now)
{
	sqlite3_stmt *st;

	st = cat_prepare(cat, SQL_TOKEN_EXPIRE,
	    "DELETE FROM tokens WHERE kind = 'session'"
	    " AND expires_at != 0 AND expires_at <= ?1");
	if (st == NULL)
		return CAT_ERR;
	sqlite3_bind_int64(st, 1, now);
	return cat_exec(cat, st, CAT_ERR);
}
