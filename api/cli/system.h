/*
 * The commands of targets and stores, which have the same shape (a name,
 * a plugin and its endpoint JSON) and differ only in their struct resource
 * and help; cmd_system.c binds them to phrases, with the struct resource as
 * each phrase's arg (see cli_command_arg()).
 */
#ifndef SHIELD_CLI_SYSTEM_H
#define SHIELD_CLI_SYSTEM_H

int	system_list(int argc, char **argv);
int	system_show(int argc, char **argv);
int	system_create(int argc, char **argv);
int	system_update(int argc, char **argv);
int	system_edit(int argc, char **argv);
int	system_delete(int argc, char **argv);

#endif
