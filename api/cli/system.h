/*
 * The commands of targets and stores, which have the same shape (a name,
 * a plugin and its endpoint JSON) and differ only in their struct resource
 * and help; cmd_target.c and cmd_store.c bind them to phrases.
 */
#ifndef SHIELD_CLI_SYSTEM_H
#define SHIELD_CLI_SYSTEM_H

#include "resolve.h"

int	system_list(const struct resource *, int argc, char **argv);
int	system_show(const struct resource *, int argc, char **argv);
int	system_create(const struct resource *, int argc, char **argv);
int	system_update(const struct resource *, int argc, char **argv);
int	system_edit(const struct resource *, int argc, char **argv);
int	system_delete(const struct resource *, int argc, char **argv);

#endif
