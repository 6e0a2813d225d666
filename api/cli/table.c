/*
 * Text tables: rows are kept until printing so every column can be as wide
 * as its widest cell.  Widths count UTF-8 characters, not bytes, so names
 * with accents stay aligned; colour (a bold header) is used only when
 * stdout is a terminal and NO_COLOR is unset.  Cells and values are printed
 * with their control characters escaped (utf8.h), never raw: a name stored
 * with an escape sequence or a bell shows as \x1b or \x07.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "table.h"
#include "utf8.h"
#include "xmalloc.h"

#define KV_WIDTH	16

struct table {
	size_t	  ncols;
	size_t	  nrows;	/* rows after the header */
	char	**cells;	/* (nrows + 1) * ncols */
};

/* The display width of a UTF-8 string: its non-continuation bytes. */
static size_t
table_width(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			n++;
	return n;
}

/* Copy a cell, turning NULL or "" into "-" and escaping control bytes. */
static char *
table_cell(const char *s)
{
	return utf8_escape(s != NULL && *s != '\0' ? s : "-", 0);
}

/* Append one row of ncols cells from ap. */
static void
table_append(struct table *t, va_list ap)
{
	size_t i, base = (t->nrows + 1) * t->ncols;

	t->cells = xreallocarray(t->cells, base + t->ncols, sizeof *t->cells);
	for (i = 0; i < t->ncols; i++)
		t->cells[base + i] = table_cell(va_arg(ap, const char *));
}

/* A table with these headers. */
struct table *
table_new(size_t ncols, ...)
{
	struct table *t = xcalloc(1, sizeof *t);
	va_list ap;
	size_t i;

	t->ncols = ncols;
	t->cells = xreallocarray(NULL, ncols, sizeof *t->cells);
	va_start(ap, ncols);
	for (i = 0; i < ncols; i++)
		t->cells[i] = table_cell(va_arg(ap, const char *));
	va_end(ap);
	return t;
}

/* Append a row. */
void
table_add(struct table *t, ...)
{
	va_list ap;

	va_start(ap, t);
	table_append(t, ap);
	va_end(ap);
	t->nrows++;
}

/* The number of rows added. */
size_t
table_rows(const struct table *t)
{
	return t->nrows;
}

/* Print the table on stdout. */
void
table_print(const struct table *t)
{
	size_t *w = xcalloc(t->ncols, sizeof *w), r, c, n;
	const char *cell;

	for (r = 0; r <= t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			n = table_width(t->cells[r * t->ncols + c]);
			if (n > w[c])
				w[c] = n;
		}
	for (r = 0; r <= t->nrows; r++) {
		if (r == 0 && cli_opts.color)
			fputs("\033[1m", stdout);
		for (c = 0; c < t->ncols; c++) {
			cell = t->cells[r * t->ncols + c];
			fputs(cell, stdout);
			if (c + 1 == t->ncols)
				break;
			for (n = table_width(cell); n < w[c] + 2; n++)
				putchar(' ');
		}
		if (r == 0 && cli_opts.color)
			fputs("\033[0m", stdout);
		putchar('\n');
	}
	free(w);
}

/* Free a table. */
void
table_free(struct table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < (t->nrows + 1) * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

/* Print one "key: value" line of a show command. */
void
kv_print(const char *key, const char *value)
{
	size_t n = table_width(key) + 1;

	if (cli_opts.color)
		printf("\033[1m%s:\033[0m", key);
	else
		printf("%s:", key);
	for (; n < KV_WIDTH; n++)
		putchar(' ');
	putchar(' ');
	utf8_fputs_escaped(stdout, value != NULL && *value != '\0' ? value :
	    "-", 0);
	putchar('\n');
}
