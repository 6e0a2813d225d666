/*
 * The master key: 256 random bits that every encrypted archive and secret
 * of a catalog depends on, kept in a key file of its own (64 lowercase hex
 * characters and a newline, mode 0600) that the user must copy somewhere
 * safe.  This module reads, writes and fingerprints such files; which file
 * a daemon uses, and whether it may create one, is shieldd's decision.
 * Keys are caller-owned buffers of MASTERKEY_SIZE bytes; wipe them with
 * sodium_memzero() when done.
 */
#ifndef SHIELD_MASTERKEY_H
#define SHIELD_MASTERKEY_H

#define MASTERKEY_SIZE		32
/* The key id: 16 lowercase hex characters (8 bytes of a keyed BLAKE2b). */
#define MASTERKEY_ID_LEN	16

/*
 * Read a key file into key; 0, or -1 with *errp set to a malloc'd line
 * naming the file (missing, unreadable, or not a key file).
 */
int	masterkey_read(const char *path, unsigned char *key, char **errp);
/*
 * Write a fresh file holding key, mode 0600 whatever the umask, never
 * replacing an existing one (O_EXCL); 0, or -1 with *errp set.
 */
int	masterkey_write(const char *path, const unsigned char *key,
	    char **errp);
/* Fill key with MASTERKEY_SIZE random bytes. */
void	masterkey_generate(unsigned char *key);
/*
 * The key's id, safe to show: BLAKE2b-256 of "SHIELD key id v1" keyed with
 * the key, its first 8 bytes in hex, into id (MASTERKEY_ID_LEN + 1 bytes).
 */
void	masterkey_id(const unsigned char *key, char *id);

#endif
