/* SPDX-License-Identifier: Apache-2.0 */
/* Subcommands: each parses its own flags (getopt) and returns an exit code. */
#ifndef GLIMPSE_COMMANDS_H
#define GLIMPSE_COMMANDS_H

int cmd_profile(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_attach(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_agent(int argc, char **argv);
int cmd_slo(int argc, char **argv);

#endif
