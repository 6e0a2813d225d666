/*
 * UUIDs as SHIELD uses them: lowercase 36-character strings in fixed
 * buffers owned by the caller.
 */
#ifndef SHIELD_ID_H
#define SHIELD_ID_H

#define ID_LEN 36
typedef char id_buf[ID_LEN + 1];

/* Write a new random UUID into out. */
void	id_new(id_buf out);
/* Lowercase a UUID in place (the catalog compares them exactly). */
void	id_lower(char *s);
/* 1 if s is a well-formed UUID (any case), else 0. */
int	id_valid(const char *s);

#endif
