/*
 * Following a task to its end for run --wait and restore --wait: its log
 * is streamed as it grows, and the exit status says how it ended.
 */
#ifndef SHIELD_CLI_FOLLOW_H
#define SHIELD_CLI_FOLLOW_H

/*
 * Poll task uuid until it is done, failed or canceled, printing new log
 * lines on stdout (not under --json or -q; --json prints the final task).
 * Returns CLI_EXIT_OK if it is done, else CLI_EXIT_FAIL after one line
 * saying how it ended.
 */
int	follow_task(const char *uuid);

#endif
