/* SPDX-License-Identifier: GPL-2.0-only */
/* The subcommands of build/loopscope; main.c dispatches on argv[1]. */
#ifndef LOOPSCOPE_COMMANDS_H
#define LOOPSCOPE_COMMANDS_H

/* Each gets argv with argv[0] = "loopscope CMD" and returns the exit code. */
int cmd_stalls(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_ps(int argc, char **argv);
int cmd_where(int argc, char **argv);
int cmd_pstree(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_tui(int argc, char **argv);
int cmd_top(int argc, char **argv);

#endif
