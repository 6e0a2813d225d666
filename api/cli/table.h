/*
 * Aligned text tables for humans: columns as wide as their widest cell,
 * two spaces apart, a header underlined in colour only on a terminal.  A
 * table copies the cells it is given; table_free() releases them.
 */
#ifndef SHIELD_CLI_TABLE_H
#define SHIELD_CLI_TABLE_H

#include <stddef.h>

struct table;

/* A table of ncols columns with these headers (ncols strings). */
struct table	*table_new(size_t ncols, ...);
/* Append a row of ncols cells; a NULL cell prints as "-". */
void		 table_add(struct table *, ...);
/* The number of rows added. */
size_t		 table_rows(const struct table *);
/* Print the table on stdout. */
void		 table_print(const struct table *);
/* Free a table; NULL is a no-op. */
void		 table_free(struct table *);

/*
 * Print "key:   value" lines aligned on their values, for show commands;
 * a NULL value prints as "-".  kv_print() pads keys to width columns.
 */
void		 kv_print(const char *key, const char *value);

#endif
